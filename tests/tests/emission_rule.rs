//! Issue 9 end to end through the real binary (`taonet up` + the CLI): a
//! network starts under the `net-flow` rule, a root validator sets root
//! weights (`taonet root weights set`), a collective proposal switches the
//! rule to `root-weights`, and the very next block's coinbase (read from
//! the amm's JetStream stream) splits the TAO by the root weights instead
//! of the flows; afterwards every service's replay digest equals its live
//! one, so replay reproduces the switch.

use amm_core::AmmEvent;
use envelope::VersionedEvent;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tests::cli::{coldkey, json, rt, taonet, until};
use tests::node_bin;

const TAO: u64 = 1_000_000_000;

fn hotkey(data: &Path, wallets: &Path, name: &str, hk: &str) -> keys::AccountId {
    let w = json(&taonet(data, wallets, &["wallet", "show", "--name", name]));
    let list = w["hotkeys"].as_array().expect("hotkeys");
    let h = list
        .iter()
        .find(|h| h["name"] == hk)
        .unwrap_or_else(|| panic!("no hotkey {hk} in {w}"));
    h["hotkey"]
        .as_str()
        .unwrap_or_else(|| panic!("hotkey address in {h}"))
        .parse()
        .unwrap()
}

/// The credits (injection + chain buy) of block `height`'s coinbase, from
/// the amm's stream.
fn coinbase_credits(data: &Path, height: u64) -> BTreeMap<u16, u64> {
    rt().block_on(async {
        let url = taonet::paths::resolve_nats_url(None, data);
        let c = async_nats::connect(url).await.expect("nats");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            for (_, env) in tests::stream_contents(&c, "amm").await {
                if env.event_type != "CoinbaseRan" {
                    continue;
                }
                if let Ok(AmmEvent::CoinbaseRan(r)) = AmmEvent::from_envelope(&env) {
                    if r.block == height {
                        return r.credits.into_iter().collect();
                    }
                }
            }
            assert!(Instant::now() < deadline, "no coinbase for block {height}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

fn shares(v: &Value) -> BTreeMap<u16, u64> {
    v["subnets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["netuid"] != 0)
        .map(|s| {
            (
                s["netuid"].as_u64().unwrap() as u16,
                s["emission_share_ppb"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn height(data: &Path, wallets: &Path) -> u64 {
    let v = json(&taonet(data, wallets, &["subnets", "list", "--json"]));
    v["block"].as_u64().unwrap()
}

/// Advances one block and waits until the amm ran its coinbase.
fn advance_one(data: &Path, wallets: &Path) -> u64 {
    let h = height(data, wallets);
    json(&taonet(
        data,
        wallets,
        &["block", "advance", "1", "--wallet", "admin"],
    ));
    until(
        data,
        wallets,
        &["subnets", "list", "--json"],
        "next block",
        |v| v["block"].as_u64() == Some(h + 1),
    );
    h + 1
}

#[test]
fn a_proposal_switches_the_emission_rule_at_the_next_block() {
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
            "bob",
            "--hotkey",
            "validator",
        ],
    ));
    let (admin, alice, bob, carol) = (
        coldkey(d, w, "admin"),
        coldkey(d, w, "alice"),
        coldkey(d, w, "bob"),
        coldkey(d, w, "carol"),
    );
    let validator = hotkey(d, w, "bob", "validator");

    let mut g = taonet::genesis::NetworkGenesis::default();
    g.ledger.admin = Some(admin);
    g.ledger.clock = ledger_core::Clock::Manual;
    g.ledger.balances = vec![
        (admin, 10 * TAO),
        (alice, 100 * TAO),
        (bob, 1_000 * TAO),
        (carol, 1_000 * TAO),
    ];
    g.emission_rule = amm_core::EmissionRule::NetFlow;
    g.subnets = [1u16, 2]
        .into_iter()
        .map(|netuid| amm_core::GenesisSubnet {
            netuid,
            owner: bob,
            owner_hotkey: validator,
            tao_reserve: 1_000 * TAO,
            alpha_reserve: 1_000 * TAO,
            first_emission_block: Some(0),
            emission_enabled: true,
            neurons: vec![amm_core::GenesisNeuron {
                hotkey: validator,
                owner: bob,
            }],
            tempo: Some(50),
        })
        .collect();
    g.governance.triumvirate = vec![alice];
    g.governance.config.motion_duration = 1;
    g.governance.config.admin_freeze_window = 0;
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
    let v = until(
        d,
        w,
        &["subnets", "list", "--json"],
        "cluster start",
        |_| true,
    );
    assert_eq!(v["emission_rule"], "net-flow", "the genesis rule: {v}");
    until(d, w, &["subnet", "lock-cost"], "governance start", |_| true);

    // Flows: 100 TAO into subnet 1, 10 into subnet 2; bob's 100 TAO on
    // root makes his hotkey a root validator (root is not in the flows).
    let vk = validator.to_string();
    for (who, netuid, amount) in [
        ("carol", "1", "100"),
        ("carol", "2", "10"),
        ("bob", "0", "100"),
    ] {
        let out = json(&taonet(
            d,
            w,
            &[
                "stake", "add", "--wallet", who, "--hotkey", &vk, "--netuid", netuid, "--amount",
                amount,
            ],
        ));
        assert_eq!(out["status"], "done", "{out}");
    }
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
    until(
        d,
        w,
        &["proposals", "list", "--json"],
        "bob in the senate",
        |v| v["senate"].as_array().is_some_and(|s| s.len() == 1),
    );
    let set = json(&taonet(
        d,
        w,
        &[
            "root",
            "weights",
            "set",
            "--wallet",
            "bob",
            "--hotkey",
            "validator",
            "--netuids",
            "1,2",
            "--weights",
            "1,3",
        ],
    ));
    assert!(
        set.get("seqs").is_some() || set.get("events").is_some(),
        "{set}"
    );
    let shown = json(&taonet(d, w, &["root", "weights", "show", "--json"]));
    assert_eq!(shown["validators"].as_array().unwrap().len(), 1, "{shown}");

    // Under net-flow: subnet 1 (ten times the inflow) takes most.
    let b = advance_one(d, w);
    let flow = coinbase_credits(d, b);
    assert!(flow[&1] > 5 * flow[&2], "net-flow credits {flow:?}");

    // The collective switches the rule.
    json(&taonet(
        d,
        w,
        &[
            "propose",
            "--wallet",
            "alice",
            "--duration",
            "50",
            "--global",
            "--param",
            "emission_rule",
            "--value",
            "root-weights",
        ],
    ));
    let props = json(&taonet(d, w, &["proposals", "list", "--json"]));
    let id = props["proposals"][0]["id"].as_u64().unwrap().to_string();
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
            &id,
            "--aye",
        ],
    ));
    json(&taonet(
        d,
        w,
        &["proposals", "close", "--wallet", "bob", "--id", &id],
    ));
    let v = until(d, w, &["subnets", "list", "--json"], "rule switched", |v| {
        v["emission_rule"] == "root-weights"
    });
    // One root validator: the shares are its normalised row, 1/4 and 3/4.
    let next = shares(&v);
    assert!(next[&1].abs_diff(250_000_000) <= 2, "{next:?}");
    assert!(next[&2].abs_diff(750_000_000) <= 2, "{next:?}");
    let table = String::from_utf8(taonet(d, w, &["subnets", "list"]).stdout).unwrap();
    assert!(table.contains("emission rule root-weights"), "{table}");

    // The next block splits by the root weights.
    let b = advance_one(d, w);
    let root = coinbase_credits(d, b);
    let minted: u64 = root.values().sum();
    assert!(minted > 0);
    assert!(
        root[&2].abs_diff(3 * root[&1]) <= 4,
        "root-weights credits {root:?}"
    );
    assert_eq!(
        root[&1],
        next[&1] * minted / (next[&1] + next[&2]),
        "the query foretold the block"
    );

    // Governance follows the amm's rule: at the subnet limit it would now
    // prune the lowest emission (subnet 1, a quarter of the block).
    let gov = rt().block_on(async {
        let url = taonet::paths::resolve_nats_url(None, d);
        let c = async_nats::connect(url).await.expect("nats");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let v = tests::query(&c, "governance", "subnets", Value::Null)
                .await
                .expect("governance subnets");
            if v["emission_rule"] == "root-weights" || Instant::now() > deadline {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    assert_eq!(gov["emission_rule"], "root-weights", "{gov}");
    assert_eq!(gov["subnet_to_prune"], 1, "{gov}");

    // Replay reproduces the switch: every digest equals the live one.
    tests::cli::assert_replay_equals_live(d, w, &mut up);
}
