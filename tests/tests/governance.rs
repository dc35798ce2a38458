//! Governance end to end through the real binary (`taonet up` plus the CLI):
//! register a subnet (the lock saga through ledger, amm and consensus),
//! start it, register neurons past its UID limit (pruning happens), pass a
//! collective proposal that changes a Root-only hyperparameter and see it
//! take effect in the amm, an owner hyperparameter take effect in
//! consensus, named errors with nothing changed, and replay digests equal
//! to the live ones afterwards.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tests::cli::{coldkey, json, rt, taonet, until};
use tests::node_bin;

const TAO: u64 = 1_000_000_000;

/// Runs a command that must fail with `code` on stderr.
fn refused(data: &Path, wallets: &Path, args: &[&str], code: &str) {
    let out = taonet(data, wallets, args);
    assert!(!out.status.success(), "{args:?} succeeded");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(code), "{args:?}: expected {code}, got {err}");
}

/// Alpha (rao) as the CLI's decimal text.
fn alpha_text(rao: u64) -> String {
    format!("{}.{:09}", rao / TAO, rao % TAO)
}

/// One query straight to a service (for what the CLI does not print).
async fn query_json(data: &Path, service: &str, name: &str, args: Value) -> Value {
    let url = taonet::paths::resolve_nats_url(None, data);
    let c = async_nats::connect(url).await.expect("nats");
    tests::query(&c, service, name, args).await.expect(name)
}

fn balance(data: &Path, wallets: &Path, name: &str) -> u64 {
    json(&taonet(data, wallets, &["balance", name]))["free_rao"]
        .as_u64()
        .unwrap()
}

#[test]
fn subnets_neurons_and_proposals_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let wallets = dir.path().join("wallets");
    let (d, w) = (data.as_path(), wallets.as_path());
    for name in ["admin", "alice", "bob", "carol"] {
        json(&taonet(
            d,
            w,
            &["wallet", "create", "--name", name, "--no-password"],
        ));
    }
    json(&taonet(
        d,
        w,
        &[
            "wallet",
            "new-hotkey",
            "--name",
            "alice",
            "--hotkey",
            "owner",
        ],
    ));
    json(&taonet(
        d,
        w,
        &[
            "wallet",
            "new-hotkey",
            "--name",
            "bob",
            "--hotkey",
            "validator",
        ],
    ));
    for i in 1..=4 {
        json(&taonet(
            d,
            w,
            &[
                "wallet",
                "new-hotkey",
                "--name",
                "carol",
                "--hotkey",
                &format!("m{i}"),
            ],
        ));
    }
    let (admin, alice, bob, carol) = (
        coldkey(d, w, "admin"),
        coldkey(d, w, "alice"),
        coldkey(d, w, "bob"),
        coldkey(d, w, "carol"),
    );

    // One genesis subnet (so a new pool starts at the median price), alice
    // in the triumvirate, a short motion duration and no freeze window so
    // the test needs few blocks; everything else is the chain's default.
    let mut g = taonet::genesis::NetworkGenesis::default();
    g.ledger.admin = Some(admin);
    g.ledger.clock = ledger_core::Clock::Manual;
    g.ledger.balances = vec![
        (admin, 10 * TAO),
        (alice, 10_000 * TAO),
        (bob, 1_000 * TAO),
        (carol, 1_000 * TAO),
    ];
    let genesis_owner_hotkey = keys::AccountId([9; 32]);
    g.subnets = vec![amm_core::GenesisSubnet {
        netuid: 1,
        owner: admin,
        owner_hotkey: genesis_owner_hotkey,
        tao_reserve: 1_000 * TAO,
        alpha_reserve: 500 * TAO,
        first_emission_block: Some(0),
        emission_enabled: true,
        neurons: vec![amm_core::GenesisNeuron {
            hotkey: genesis_owner_hotkey,
            owner: admin,
        }],
        tempo: Some(10),
    }];
    g.governance.triumvirate = vec![alice];
    g.governance.config.motion_duration = 1;
    g.governance.config.admin_freeze_window = 0;
    g.governance.config.network_rate_limit = 0;
    // Two subnets at most, no immunity: a third registration prunes one.
    g.governance.config.subnet_limit = 2;
    g.governance.config.network_immunity_period = 0;
    let genesis = dir.path().join("genesis.json");
    std::fs::write(&genesis, serde_json::to_string_pretty(&g).unwrap()).unwrap();

    let mut up = Command::new(node_bin())
        .arg("--data")
        .arg(d)
        .arg("--wallet-dir")
        .arg(w)
        .args(["up", "--nats-port", "0", "--monitor-port", "0", "--genesis"])
        .arg(&genesis)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    until(d, w, &["subnet", "lock-cost"], "cluster start", |_| true);
    json(&taonet(
        d,
        w,
        &["block", "advance", "2", "--wallet", "admin"],
    ));

    // ---- a subnet registration: lock, pool, metagraph ------------------
    let cost = json(&taonet(d, w, &["subnet", "lock-cost"]));
    let lock = cost["lock_cost_rao"].as_u64().unwrap();
    assert_eq!(
        lock, TAO,
        "the first subnet costs NetworkMinLockCost: {cost}"
    );
    let before = balance(d, w, "alice");
    let created = json(&taonet(
        d,
        w,
        &[
            "subnet",
            "create",
            "--wallet",
            "alice",
            "--hotkey",
            "alice/owner",
            "--name",
            "gamma",
        ],
    ));
    assert_eq!(created["status"], "done", "{created}");
    assert_eq!(created["netuid"], 2, "lowest free netuid: {created}");
    assert_eq!(balance(d, w, "alice"), before - lock);
    // The next one costs double what was paid (and decays from there).
    let next = json(&taonet(d, w, &["subnet", "lock-cost"]));
    assert_eq!(next["lock_cost_rao"].as_u64().unwrap(), 2 * lock, "{next}");
    let info = json(&taonet(d, w, &["subnet", "info", "2"]));
    assert_eq!(info["owner"].as_str().unwrap(), alice.to_string());
    assert_eq!(info["lock_rao"], lock);
    assert_eq!(info["neuron_count"], 1, "the owner hotkey holds uid 0");
    // The ledger holds the lock as the pool's TAO; the amm opened the pool
    // at the genesis subnet's price (2 TAO per alpha).
    let pool = until(d, w, &["subnet", "show", "2", "--json"], "pool", |v| {
        v["tao_reserve"] == lock
    });
    assert_eq!(pool["alpha_reserve"], lock / 2, "{pool}");
    let meta = json(&taonet(d, w, &["metagraph", "--netuid", "2", "--json"]));
    assert_eq!(meta["neurons"].as_array().unwrap().len(), 1, "{meta}");

    // Named errors, nothing changed.
    refused(
        d,
        w,
        &["subnet", "start", "--wallet", "bob", "--netuid", "2"],
        "BadOrigin",
    );
    refused(
        d,
        w,
        &[
            "neuron", "register", "--wallet", "carol", "--netuid", "9", "--hotkey", "carol/m1",
        ],
        "SubnetNotExists",
    );
    refused(
        d,
        w,
        &[
            "subnet",
            "create",
            "--wallet",
            "bob",
            "--hotkey",
            "bob/validator",
            "--max-lock",
            "1",
        ],
        "CannotAffordLockCost",
    );

    // ---- start (owner only, once) -------------------------------------
    json(&taonet(
        d,
        w,
        &["subnet", "start", "--wallet", "alice", "--netuid", "2"],
    ));
    refused(
        d,
        w,
        &["subnet", "start", "--wallet", "alice", "--netuid", "2"],
        "FirstEmissionBlockNumberAlreadySet",
    );
    // ---- neurons past the UID limit: the burn rises, one is pruned ------
    let mut burns = Vec::new();
    let carol_before = balance(d, w, "carol");
    let register = |i: u32, burns: &mut Vec<u64>| {
        let burn = json(&taonet(d, w, &["subnet", "info", "2"]))["burn_rao"]
            .as_u64()
            .unwrap();
        burns.push(burn);
        let hk = format!("carol/m{i}");
        let r = json(&taonet(
            d,
            w,
            &[
                "neuron", "register", "--wallet", "carol", "--netuid", "2", "--hotkey", &hk,
            ],
        ));
        assert_eq!(r["status"], "done", "{r}");
        assert_eq!(r["netuid"], 2, "{r}");
    };
    register(1, &mut burns);
    register(2, &mut burns);
    // Shrink the UID limit to 4: Root lowers the floor and the validator
    // count (Root-only parameters), then the owner sets the limit.
    for (p, v) in [("min_allowed_uids", "1"), ("max_allowed_validators", "2")] {
        json(&taonet(
            d,
            w,
            &[
                "admin", "set", "--wallet", "admin", "--netuid", "2", "--param", p, "--value", v,
            ],
        ));
    }
    refused(
        d,
        w,
        &[
            "subnet", "set", "--wallet", "alice", "--netuid", "2", "--param", "kappa", "--value",
            "100",
        ],
        "BadOrigin",
    );
    json(&taonet(
        d,
        w,
        &[
            "subnet",
            "set",
            "--wallet",
            "alice",
            "--netuid",
            "2",
            "--param",
            "max_allowed_uids",
            "--value",
            "4",
        ],
    ));
    refused(
        d,
        w,
        &[
            "subnet", "set", "--wallet", "alice", "--netuid", "2", "--param", "tempo", "--value",
            "20",
        ],
        "TempoOutOfBounds",
    );
    json(&taonet(
        d,
        w,
        &[
            "subnet", "set", "--wallet", "alice", "--netuid", "2", "--param", "tempo", "--value",
            "720",
        ],
    ));
    // Both reached consensus, which owns the metagraph.
    until(
        d,
        w,
        &["metagraph", "--netuid", "2", "--json"],
        "tempo 720",
        |m| m["params"]["tempo"] == 720 && m["params"]["max_allowed_uids"] == 4,
    );

    register(3, &mut burns);
    register(4, &mut burns);
    assert!(
        burns.windows(2).all(|b| b[1] > b[0]),
        "burn rises: {burns:?}"
    );
    assert_eq!(
        balance(d, w, "carol"),
        carol_before - burns.iter().sum::<u64>(),
        "carol paid each burn once"
    );
    // Four uids: the owner's (immortal) and three of carol's, the newest
    // among them: the fourth registration pruned one of the first three.
    let meta = json(&taonet(d, w, &["metagraph", "--netuid", "2", "--json"]));
    let hotkeys: Vec<String> = meta["neurons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["hotkey"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(hotkeys.len(), 4, "{meta}");
    let carol_w = json(&taonet(d, w, &["wallet", "show", "--name", "carol"]));
    let carols: Vec<String> = carol_w["hotkeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["hotkey"].as_str().unwrap().to_owned())
        .collect();
    let alice_w = json(&taonet(d, w, &["wallet", "show", "--name", "alice"]));
    let owner_hk = alice_w["hotkeys"][0]["hotkey"].as_str().unwrap().to_owned();
    assert!(hotkeys.contains(&owner_hk), "owner kept: {meta}");
    assert_eq!(
        hotkeys.iter().filter(|h| carols.contains(h)).count(),
        3,
        "{meta}"
    );
    let info = json(&taonet(d, w, &["subnet", "info", "2"]));
    assert_eq!(info["neuron_count"], 4, "{info}");
    refused(
        d,
        w,
        &[
            "neuron", "register", "--wallet", "carol", "--netuid", "2", "--hotkey", "carol/m4",
        ],
        "HotKeyAlreadyRegisteredInSubNet",
    );
    // The burned TAO went into the pool less the swap fee (burned), and
    // the alpha it bought was burned.
    let burned: u64 = burns.iter().sum();
    let max_fees: u64 = burns.iter().map(|b| b * 33 / 65_535 + 1).sum();
    let pool_after = until(
        d,
        w,
        &["subnet", "show", "2", "--json"],
        "burns in pool",
        |v| {
            v["registration_burned_alpha"].as_u64().unwrap() > 0
                && v["tao_reserve"].as_u64().unwrap() + max_fees >= lock + burned
        },
    );
    assert!(
        pool_after["tao_reserve"].as_u64().unwrap() < lock + burned,
        "{pool_after}"
    );
    assert_eq!(pool_after["alpha_outstanding"], 0, "{pool_after}");

    // ---- the collective: bob's hotkey takes a root seat and the senate --
    json(&taonet(
        d,
        w,
        &[
            "root",
            "register",
            "--wallet",
            "bob",
            "--hotkey",
            "bob/validator",
        ],
    ));
    let props = json(&taonet(d, w, &["proposals", "list", "--json"]));
    assert_eq!(props["senate"].as_array().unwrap().len(), 1, "{props}");

    // ---- a stake lock limits how fast stake can leave --------------------
    let staked = json(&taonet(
        d,
        w,
        &[
            "stake",
            "add",
            "--wallet",
            "bob",
            "--hotkey",
            "bob/validator",
            "--netuid",
            "2",
            "--amount",
            "5",
        ],
    ));
    assert_eq!(staked["status"], "done", "{staked}");
    let alpha = json(&taonet(
        d,
        w,
        &["stake", "list", "--wallet", "bob", "--json"],
    ))["positions"][0]["alpha"]
        .as_u64()
        .unwrap();
    // Governance learns bob's alpha from the amm's stake report; until then
    // a lock is refused as more than the stake held.
    let half = alpha_text(alpha / 2);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = taonet(
            d,
            w,
            &[
                "lock",
                "add",
                "--wallet",
                "bob",
                "--hotkey",
                "bob/validator",
                "--netuid",
                "2",
                "--alpha",
                &half,
            ],
        );
        if out.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "lock: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    until(
        d,
        w,
        &["stake", "list", "--wallet", "bob", "--json"],
        "lock mirrored",
        |v| v["positions"][0]["locked"].as_u64() == Some(alpha / 2),
    );
    refused(
        d,
        w,
        &[
            "stake",
            "remove",
            "--wallet",
            "bob",
            "--hotkey",
            "bob/validator",
            "--netuid",
            "2",
            "--alpha",
            &alpha_text(alpha),
        ],
        "StakeUnavailable",
    );
    let out = json(&taonet(
        d,
        w,
        &[
            "stake",
            "remove",
            "--wallet",
            "bob",
            "--hotkey",
            "bob/validator",
            "--netuid",
            "2",
            "--alpha",
            &alpha_text(alpha / 4),
        ],
    ));
    assert_eq!(out["status"], "done", "{out}");
    refused(
        d,
        w,
        &[
            "propose",
            "--wallet",
            "bob",
            "--duration",
            "50",
            "--netuid",
            "2",
            "--param",
            "subnet_emission_enabled",
            "--value",
            "true",
        ],
        "NotMember",
    );
    json(&taonet(
        d,
        w,
        &[
            "propose",
            "--wallet",
            "alice",
            "--duration",
            "50",
            "--netuid",
            "2",
            "--param",
            "subnet_emission_enabled",
            "--value",
            "true",
        ],
    ));
    let props = json(&taonet(d, w, &["proposals", "list", "--json"]));
    let id = props["proposals"][0]["id"].as_u64().unwrap();
    let id_s = id.to_string();
    refused(
        d,
        w,
        &[
            "vote", "--wallet", "carol", "--hotkey", "carol/m1", "--id", &id_s, "--aye",
        ],
        "NotSenateMember",
    );
    json(&taonet(
        d,
        w,
        &[
            "vote",
            "--wallet",
            "bob",
            "--hotkey",
            "bob/validator",
            "--id",
            &id_s,
            "--aye",
        ],
    ));
    refused(
        d,
        w,
        &[
            "vote",
            "--wallet",
            "bob",
            "--hotkey",
            "bob/validator",
            "--id",
            &id_s,
            "--aye",
        ],
        "DuplicateVote",
    );
    let shown = json(&taonet(d, w, &["subnet", "show", "2", "--json"]));
    assert_eq!(shown["emission_enabled"], false, "{shown}");
    json(&taonet(
        d,
        w,
        &["proposals", "close", "--wallet", "bob", "--id", &id_s],
    ));
    // The approved action ran as Root: the amm now emits into subnet 2.
    until(
        d,
        w,
        &["subnet", "show", "2", "--json"],
        "emission enabled",
        |v| v["emission_enabled"] == true,
    );
    json(&taonet(
        d,
        w,
        &["block", "advance", "3", "--wallet", "admin"],
    ));
    // Alpha emission flows to participants from the next block on (TAO
    // follows the EMA price, which starts at 0 for a new subnet).
    until(
        d,
        w,
        &["subnet", "show", "2", "--json"],
        "emission flows",
        |v| v["alpha_outstanding"].as_u64().unwrap() > 0 && v["emitting"] == true,
    );

    // ---- the subnet limit: a third registration dissolves the subnet of
    // the lowest EMA price and takes its netuid; its pool is paid out to
    // the alpha holders through the ledger ---------------------------------
    let list = json(&taonet(d, w, &["subnet", "lock-cost"]));
    let lock3 = list["lock_cost_rao"].as_u64().unwrap();
    let gov = rt().block_on(query_json(d, "governance", "subnets", Value::Null));
    let prune = gov["subnet_to_prune"].as_u64().expect("a prune candidate") as u16;
    let issuance_before = rt().block_on(query_json(d, "ledger", "issuance", Value::Null));
    let third = json(&taonet(
        d,
        w,
        &[
            "subnet",
            "create",
            "--wallet",
            "bob",
            "--hotkey",
            "bob/validator",
            "--name",
            "delta",
        ],
    ));
    assert_eq!(third["status"], "done", "{third}");
    assert_eq!(
        third["netuid"], prune,
        "the pruned netuid is reused: {third}"
    );
    let info = json(&taonet(d, w, &["subnet", "info", &prune.to_string()]));
    assert_eq!(info["owner"].as_str().unwrap(), bob.to_string(), "{info}");
    assert_eq!(info["lock_rao"], lock3);
    let pool = until(
        d,
        w,
        &["subnet", "show", &prune.to_string(), "--json"],
        "new pool",
        |v| v["tao_reserve"] == lock3 && v["alpha_outstanding"] == 0,
    );
    assert_eq!(pool["started"], false, "{pool}");
    let meta = json(&taonet(
        d,
        w,
        &["metagraph", "--netuid", &prune.to_string(), "--json"],
    ));
    assert_eq!(
        meta["neurons"].as_array().unwrap().len(),
        1,
        "a fresh metagraph: {meta}"
    );
    let issuance_after = rt().block_on(query_json(d, "ledger", "issuance", Value::Null));
    assert!(
        issuance_after["total_issuance_rao"].as_u64()
            <= issuance_before["total_issuance_rao"].as_u64(),
        "dissolution recycles, never mints: {issuance_before} {issuance_after}"
    );

    // ---- childkeys: on a subnet not started yet they apply at once, and
    // the amm splits stake weight and dividends with them -----------------
    let p_s = prune.to_string();
    json(&taonet(
        d,
        w,
        &[
            "delegate",
            "children",
            "--wallet",
            "bob",
            "--hotkey",
            "bob/validator",
            "--netuid",
            &p_s,
            "--child",
            "0.25=carol/m1",
        ],
    ));
    refused(
        d,
        w,
        &[
            "delegate",
            "children",
            "--wallet",
            "carol",
            "--hotkey",
            "bob/validator",
            "--netuid",
            &p_s,
            "--child",
            "0.25=carol/m2",
        ],
        "NonAssociatedColdKey",
    );
    let kids = rt().block_on(async {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let v = query_json(d, "amm", "children", serde_json::json!({"netuid": prune})).await;
            if !v["parents"].as_array().unwrap().is_empty() {
                break v;
            }
            assert!(
                Instant::now() < deadline,
                "children never reached the amm: {v}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    assert_eq!(
        kids["parents"][0]["children"][0]["proportion"],
        (u64::MAX / 4).to_string(),
        "{kids}"
    );

    // ---- every invariant holds, across services too ---------------------
    rt().block_on(async {
        for svc in ["ledger", "amm", "governance"] {
            let v = query_json(d, svc, "invariants", Value::Null).await;
            assert_eq!(v["ok"], true, "{svc}: {v}");
        }
        // The ledger's custody of each subnet is the amm's pool TAO, once
        // every saga has settled (the lock sits in custody after its
        // subnet opened).
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let subnets = query_json(d, "amm", "subnets", Value::Null).await;
            let mut apart = Vec::new();
            for s in subnets["subnets"].as_array().unwrap() {
                let netuid = s["netuid"].as_u64().unwrap();
                if netuid == 0 {
                    continue;
                }
                let args = serde_json::json!({"netuid": netuid});
                let c = query_json(d, "ledger", "custody", args).await;
                if c["custody_rao"] != s["tao_reserve"] {
                    apart.push((netuid, c["custody_rao"].clone(), s["tao_reserve"].clone()));
                }
            }
            if apart.is_empty() {
                break;
            }
            assert!(Instant::now() < deadline, "custody vs pool: {apart:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });

    // ---- replay equals the live state -----------------------------------
    tests::cli::assert_replay_equals_live(d, w, &mut up);
}
