//! Issue 8's "done when": a scenario run in the simulator and the same
//! commands driven through the real cluster (real nats-server, the four
//! service processes, sled logs) end in the same four state digests, and
//! pass through the same log lengths at every quiescent point on the way.
//!
//! How the two are made to see the same history:
//!
//! - **Blocks**: the genesis clock is manual, so both sides produce block
//!   `b` with the admin's `AdvanceBlocks { n: 1 }` stamped `start + b × 12 s`
//!   (the simulator's `block_command`); no timer runs in the cluster.
//! - **Quiescence**: the simulator settles every block's consequences
//!   (coinbase, claims, epochs, payouts) before that block's commands, and
//!   the commands' consequences before the next block. The test does the
//!   same: after each block and after each block's commands it waits until
//!   every service's log has exactly the length the simulator's
//!   [`sim::Checkpoint`] recorded there, is fully published, and every core
//!   is at the simulator's height; a log that grows past it fails at once.
//! - **At most one command per block** (the rule switches at block 0 are
//!   all governance commands): the simulator admits a block's commands back
//!   to back and only then delivers their events, while the cluster starts
//!   working on a command's saga as soon as it is accepted. With two stakes
//!   in one block the amm's log could read request, request, added, added
//!   in the simulator and request, added, request, added in the cluster:
//!   the same money, a different log. One command per point makes the
//!   interleaving unique, so the logs, not just the balances, must agree.
//! - **Fees**: the ledger's length fee counts the signed body's bytes, which
//!   the simulator does not produce (it signs nothing and charges by the
//!   JSON's length); the genesis sets `per_byte` to 0, so a transfer's fee
//!   is its weight fee on both sides.
//!
//! With those, exact equality holds: all four digests match.

use amm_core::CommandBody as A;
use bus::rpc::CallOptions;
use consensus_core::CommandBody as C;
use governance_core::{AdminAction, CommandBody as G, GlobalParam, Hyperparameter};
use keys::{AccountId, Keypair};
use ledger_core::CommandBody as L;
use serde_json::{json, Value};
use sim::scenario::ServiceCommand;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tests::*;

const SERVICES: [&str; 4] = ["ledger", "consensus", "amm", "governance"];
const BLOCKS: u64 = 30;

fn key(name: &str) -> Keypair {
    Keypair::from_uri(&format!("//{name}")).expect("dev key")
}

fn id(name: &str) -> AccountId {
    key(name).public()
}

fn stake(op: &str, hotkey: &str, netuid: u16, amount: u64) -> A {
    A::AddStake {
        op: op.into(),
        hotkey: id(hotkey),
        netuid,
        amount,
        limit_price: None,
        allow_partial: false,
    }
}

/// The scenario: two subnets, stakes into both and onto root, root and
/// subnet weights (after the first epoch gave Val1 its permit), a
/// transfer, an unstake, a switch of the emission rule to root-weights by
/// the admin through governance, and epochs every 10 blocks; each command
/// at its own block.
fn scenario() -> sim::Scenario {
    let cmd = |at: u64, signer: &str, service: &str, command: Value| json!({"at": at, "signer": id(signer), "service": service, "command": command});
    let commands = vec![
        cmd(
            1,
            "Bob",
            "amm",
            v(&stake("bob-sn1", "Val1", 1, 1_000 * TAO)),
        ),
        cmd(
            2,
            "Alice",
            "amm",
            v(&stake("alice-sn2", "Val2", 2, 500 * TAO)),
        ),
        cmd(3, "Bob", "amm", v(&stake("bob-root", "Val1", 0, 100 * TAO))),
        cmd(
            4,
            "Val1",
            "amm",
            v(&A::SetRootWeights {
                weights: vec![(1, 50_000), (2, 10_000)],
            }),
        ),
        cmd(
            13,
            "Val1",
            "consensus",
            v(&C::SetWeights {
                netuid: 1,
                uids: vec![1],
                values: vec![60_000],
                version_key: 0,
            }),
        ),
        cmd(
            8,
            "Alice",
            "ledger",
            v(&L::Transfer {
                to: id("Carol"),
                amount: 10 * TAO,
                keep_alive: true,
            }),
        ),
        cmd(
            12,
            "Admin",
            "governance",
            v(&G::Admin(AdminAction::SetGlobal(
                GlobalParam::EmissionRule(governance_core::EmissionRule::RootWeights),
            ))),
        ),
        cmd(
            15,
            "Bob",
            "amm",
            v(&A::RemoveStake {
                op: "bob-unstake".into(),
                hotkey: id("Val1"),
                netuid: 1,
                alpha: 100 * TAO,
                limit_price: None,
                allow_partial: false,
            }),
        ),
        cmd(
            21,
            "Val1",
            "consensus",
            v(&C::SetWeights {
                netuid: 1,
                uids: vec![1],
                values: vec![30_000],
                version_key: 0,
            }),
        ),
    ];
    let rule = |param: Hyperparameter| json!({"netuid": 1, "param": param});
    let neuron = |hk: &str, owner: &str| json!({"hotkey": id(hk), "owner": id(owner)});
    let doc = json!({
        "name": "sim-vs-cluster",
        "seed": 1,
        "blocks": BLOCKS,
        "start_date": "2025-06-01",
        "genesis": {
            "balances": [[id("Alice"), 1_000_000 * TAO], [id("Bob"), 100_000 * TAO]],
            "admin": id("Admin"),
            "services": [id("AmmService")],
            "clock": "manual",
            "fees": {"per_weight_perbill": 500_000, "per_byte": 0},
            "subnets": [
                {"netuid": 1, "owner": id("Alice"), "owner_hotkey": id("AliceHot"),
                 "tao_reserve": 10_000 * TAO, "alpha_reserve": 10_000 * TAO,
                 "first_emission_block": 0, "tempo": 10,
                 "neurons": [neuron("Val1", "Bob"), neuron("Miner1", "Alice")]},
                {"netuid": 2, "owner": id("Bob"), "owner_hotkey": id("BobHot"),
                 "tao_reserve": 5_000 * TAO, "alpha_reserve": 20_000 * TAO,
                 "first_emission_block": 0, "tempo": 10,
                 "neurons": [neuron("Val2", "Alice")]}
            ]
        },
        "rules": [
            rule(Hyperparameter::CommitRevealEnabled(false)),
            rule(Hyperparameter::WeightsRateLimit(0)),
        ],
        "commands": commands,
    });
    sim::Scenario::from_json(&doc.to_string()).expect("scenario")
}

/// A wire command as the scenario file writes it.
fn v<T: serde::Serialize>(body: &T) -> Value {
    serde_json::to_value(body).expect("wire command")
}

fn once() -> CallOptions {
    CallOptions {
        attempts: 1,
        timeout: Duration::from_secs(10),
        ..Default::default()
    }
}

/// Sends one wire command, signed by `key`, as a user would. A rejection
/// is fine (the simulator counted the same one); a transport failure is
/// not.
async fn submit(
    client: &async_nats::Client,
    key: &Keypair,
    n: usize,
    command: &ServiceCommand,
) -> Result<(), String> {
    let id = format!("sim-cluster-{n}");
    let (service, payload) = match command {
        ServiceCommand::Ledger(b) => ("ledger", signed_for(key, &id, b)),
        ServiceCommand::Consensus(b) => ("consensus", signed_for(key, &id, b)),
        ServiceCommand::Amm(b) => ("amm", signed_for(key, &id, b)),
        ServiceCommand::Governance(b) => ("governance", signed_for(key, &id, b)),
    };
    match send_to(client, service, "sim", payload, &once()).await {
        Ok(_) => Ok(()),
        Err(bus::rpc::CallError::Rejected { code, .. }) => Err(code),
        Err(e) => panic!("command {n} to {service}: {e}"),
    }
}

/// Waits until the cluster's logs stand exactly where the simulator's did.
async fn reach(client: &async_nats::Client, cp: &sim::Checkpoint) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut done = true;
        let mut seen = Vec::new();
        for (i, svc) in SERVICES.iter().enumerate() {
            let s = status(client, svc).await;
            let last = s["last_seq"].as_u64().unwrap();
            assert!(
                last <= cp.seqs[i],
                "{svc}'s log passed the simulator's at {cp:?}: {last} events"
            );
            done &= last == cp.seqs[i]
                && s["published_seq"] == s["last_seq"]
                && s["block"] == cp.heights[i];
            seen.push((svc, last, s["block"].clone()));
        }
        if done {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the cluster did not reach {cp:?}: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_ends_in_the_simulators_digests() {
    let s = scenario();
    let mut checkpoints = Vec::new();
    let outcome = sim::run_observed(&s, &mut |_, _| {}, &mut |c| checkpoints.push(*c))
        .expect("the simulation runs");
    let report = &outcome.report;
    assert_eq!(checkpoints.len() as u64, 2 * (BLOCKS + 1));
    // The scenario does what it says, in the simulator.
    assert_eq!(report.commands.rejected, 0, "{:?}", report.commands);
    assert!(report.subnets.iter().all(|s| s.epochs >= 2), "epochs paid");
    assert!(report.events["amm"] > 0 && report.events["governance"] > 0);

    let keys: BTreeMap<AccountId, Keypair> =
        ["Alice", "Bob", "Carol", "Admin", "Val1", "Val2", "Miner1"]
            .iter()
            .map(|n| (id(n), key(n)))
            .collect();
    let mut c = Cluster::start_network(&s.genesis);
    for svc in SERVICES {
        c.start_service(svc, &[]);
    }
    let client = c.client().await;
    for svc in SERVICES {
        wait_ready(&client, svc).await;
    }

    let start_ms = sim::date::parse(&s.start_date).unwrap();
    let admin = key("Admin");
    let mut n = 0;
    let mut rejected = BTreeMap::<String, u64>::new();
    let mut cps = checkpoints.iter();
    for b in 0..=BLOCKS {
        if b > 0 {
            let adv = L::AdvanceBlocks {
                n: 1,
                timestamp_ms: start_ms + b * 12_000,
                block_time_ms: 12_000,
            };
            send(
                &client,
                "advance_blocks",
                signed(&admin, &format!("adv-{b}"), &adv),
                &once(),
            )
            .await
            .expect("block");
        }
        let after_block = cps.next().unwrap();
        assert_eq!((after_block.block, after_block.commands), (b, false));
        reach(&client, after_block).await;
        let mut batch: Vec<(AccountId, ServiceCommand)> = Vec::new();
        if b == 0 {
            for r in &s.rules {
                batch.push((
                    id("Admin"),
                    ServiceCommand::Governance(G::Admin(AdminAction::SetHyperparameter {
                        netuid: r.netuid,
                        param: r.param.clone(),
                    })),
                ));
            }
        }
        for sc in s.commands.iter().filter(|c| c.at == b) {
            batch.push((sc.signer, sc.command.clone()));
        }
        for (signer, command) in &batch {
            n += 1;
            if let Err(code) = submit(&client, &keys[signer], n, command).await {
                *rejected.entry(code).or_default() += 1;
            }
        }
        let after_commands = cps.next().unwrap();
        assert_eq!((after_commands.block, after_commands.commands), (b, true));
        reach(&client, after_commands).await;
    }
    assert!(rejected.is_empty(), "the cluster rejected {rejected:?}");

    let mut live = BTreeMap::new();
    for svc in SERVICES {
        live.insert(
            svc.to_owned(),
            status(&client, svc).await["state_digest"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(live, report.digests, "cluster digests = simulator digests");

    // The switch to root-weights took effect in both (the cluster's amm
    // says so), and the replayed logs give the same digests again.
    let subnets = query(&client, "amm", "subnets", Value::Null).await.unwrap();
    assert_eq!(subnets["emission_rule"], "root-weights", "{subnets}");
    for svc in SERVICES {
        c.stop(svc);
    }
    for svc in SERVICES {
        assert_eq!(
            c.replay(svc)["state_digest"].as_str().unwrap(),
            report.digests[svc],
            "{svc}: replay = simulator"
        );
    }

    what_if_replay_of_the_cluster(&c, &s);
}

/// `taonet sim replay --from DIR` on the cluster this test drove: the
/// services' command journals hold every command it sent (the 30 blocks
/// of the manual clock too, which the simulator produces itself); re-run
/// as recorded they reproduce the cluster exactly, and under changed rules
/// they show the differences and the commands whose outcome changed.
fn what_if_replay_of_the_cluster(c: &Cluster, s: &sim::Scenario) {
    let out = tempfile::tempdir().unwrap();
    let replay = |args: &[&str]| -> Value {
        let o = std::process::Command::new(node_bin())
            .args(["sim", "replay", "--from"])
            .arg(c.dir.path())
            .args(args)
            .output()
            .expect("run taonet sim replay");
        assert!(
            o.status.success(),
            "sim replay failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).expect("replay json")
    };

    // As recorded, nothing changed: exact, and no difference anywhere.
    let same = replay(&[]);
    let recorded = (s.rules.len() + s.commands.len()) as u64;
    assert_eq!(same["commands"]["recorded"], recorded + BLOCKS, "{same}");
    assert_eq!(same["commands"]["replayed"], recorded);
    assert_eq!(same["commands"]["recorded_rejected"], 0);
    assert_eq!(
        same["commands"]["skipped"].as_array().unwrap().len() as u64,
        BLOCKS,
        "the clock's AdvanceBlocks are skipped"
    );
    assert_eq!(same["fidelity"]["exact"], true, "{same}");
    assert_eq!(same["fidelity"]["outcomes_differ"], 0);
    assert!(same["accounts"].as_array().unwrap().is_empty(), "{same}");
    assert!(same["changed_commands"].as_array().unwrap().is_empty());
    for sn in same["subnets"].as_array().unwrap() {
        assert_eq!(sn["tao_reserve_rao"]["delta"], 0, "{sn}");
        assert_eq!(sn["price"][0], sn["price"][2], "{sn}");
    }

    // What if subnet 1 had required weights version 5 and the network had
    // started on the net-flow rule? Val1's two SetWeights (version 0) are
    // refused, so its epochs go differently, and the first 12 blocks'
    // emission is shared differently (the recorded switch to root-weights
    // at block 12 still happens).
    let rules = out.path().join("what-if.json");
    std::fs::write(
        &rules,
        json!({"rules": [{"netuid": 1, "param": {"WeightsVersionKey": 5}}]}).to_string(),
    )
    .unwrap();
    let dir = out.path().join("report");
    let alt = replay(&[
        "--rules",
        rules.to_str().unwrap(),
        "--emission-rule",
        "net-flow",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(alt["fidelity"]["exact"], true, "{alt}");
    assert_eq!(alt["what_if"]["emission_rule"], "net-flow", "{alt}");
    let changed = alt["changed_commands"].as_array().unwrap();
    assert_eq!(changed.len(), 2, "{alt}");
    for ch in changed {
        assert_eq!(ch["service"], "consensus", "{ch}");
        assert_eq!(ch["signer"], id("Val1").to_ss58());
        assert_eq!(ch["recorded"], "accepted");
        assert_eq!(ch["as_recorded"], "accepted");
        assert_eq!(ch["what_if"], "IncorrectWeightVersionKey");
    }
    assert_eq!(
        changed
            .iter()
            .map(|c| c["block"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [13, 21]
    );
    // Per subnet and per account: something moved, nothing was invented.
    let subnets = alt["subnets"].as_array().unwrap();
    assert!(
        subnets.iter().any(|sn| sn["tao_reserve_rao"]["delta"] != 0),
        "{alt}"
    );
    let accounts = alt["accounts"].as_array().unwrap();
    assert!(!accounts.is_empty(), "{alt}");
    for a in accounts {
        let t = &a["total_rao"];
        assert_eq!(t["real"], t["as_recorded"], "{a}");
    }
    assert_eq!(
        alt["total_issuance_rao"]["real"],
        alt["total_issuance_rao"]["as_recorded"]
    );
    for f in [
        "replay.json",
        "replay.txt",
        "as-recorded/report.json",
        "what-if/report.json",
        "what-if/subnets.csv",
    ] {
        assert!(dir.join(f).is_file(), "{f} written");
    }
    let table = std::fs::read_to_string(dir.join("replay.txt")).unwrap();
    assert!(table.contains("IncorrectWeightVersionKey"), "{table}");
}
