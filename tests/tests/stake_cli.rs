//! The dTAO CLI against `taonet up --subnets 1`: stake, list, subnets,
//! subnet show, unstake, and named errors with a non-zero exit, through the
//! real binary (README tour, "Staking").

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tests::cli::{json, taonet};
use tests::node_bin;

#[test]
fn stake_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let wallets = dir.path().join("wallets");
    json(&taonet(
        &data,
        &wallets,
        &["wallet", "create", "--name", "alice", "--no-password"],
    ));
    let mut up = Command::new(node_bin())
        .arg("--data")
        .arg(&data)
        .arg("--wallet-dir")
        .arg(&wallets)
        .args([
            "up",
            "--nats-port",
            "0",
            "--monitor-port",
            "0",
            "--manual-blocks",
            "--subnets",
            "1",
            "--tempo",
            "10",
            "--fund",
            "alice=100",
        ])
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = taonet(&data, &wallets, &["subnets", "list", "--json"]);
        if ready.status.success() {
            break;
        }
        assert!(Instant::now() < deadline, "cluster did not start");
        std::thread::sleep(Duration::from_millis(200));
    }

    let subnets = json(&taonet(&data, &wallets, &["subnets", "list", "--json"]));
    let s1 = subnets["subnets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["netuid"] == 1)
        .expect("subnet 1")
        .clone();
    assert_eq!(s1["tao_reserve"], 1_000_000_000_000u64);
    let hotkey = s1["owner_hotkey"].as_str().unwrap().to_owned();

    // Stake 10 TAO to the subnet owner's hotkey (a delegation).
    let staked = json(&taonet(
        &data,
        &wallets,
        &[
            "stake", "add", "--wallet", "alice", "--hotkey", &hotkey, "--netuid", "1", "--amount",
            "10",
        ],
    ));
    assert_eq!(staked["status"], "done", "{staked}");
    let list = json(&taonet(
        &data,
        &wallets,
        &["stake", "list", "--wallet", "alice", "--json"],
    ));
    let alpha = list["positions"][0]["alpha"].as_u64().unwrap();
    assert!(alpha > 9_000_000_000 && alpha < 10_000_000_000, "{list}");
    assert_eq!(list["free_rao"], 90_000_000_000u64);
    let table = taonet(&data, &wallets, &["stake", "list", "--wallet", "alice"]);
    assert!(String::from_utf8_lossy(&table.stdout).contains(&hotkey));

    // A price limit already crossed, refused as a whole: named, non-zero.
    let limited = taonet(
        &data,
        &wallets,
        &[
            "stake",
            "add",
            "--wallet",
            "alice",
            "--hotkey",
            &hotkey,
            "--netuid",
            "1",
            "--amount",
            "10",
            "--limit-price",
            "0.5",
        ],
    );
    assert!(!limited.status.success());
    let err = String::from_utf8_lossy(&limited.stderr);
    assert!(
        err.contains("PriceLimitExceeded") || err.contains("SlippageTooHigh"),
        "{err}"
    );
    let missing = taonet(
        &data,
        &wallets,
        &[
            "stake", "add", "--wallet", "alice", "--hotkey", &hotkey, "--netuid", "7", "--amount",
            "1",
        ],
    );
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("SubnetNotExists"));

    // Epochs (tempo 10) pay the hotkey's pool: alice's alpha grows.
    json(&taonet(&data, &wallets, &["block", "advance", "25"]));
    // Every epoch of those blocks has run once consensus is at block 25;
    // their payouts reach the amm right after, so wait until alice's alpha
    // has grown and then stays put (a later payout would otherwise land
    // after the unstake below).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = taonet(&data, &wallets, &["status", "--service", "consensus"]);
        if s.status.success() && json(&s)["block"] == 25 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "consensus did not reach block 25"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (mut last, mut same) = (0u64, 0);
    let grown = loop {
        let l = json(&taonet(
            &data,
            &wallets,
            &["stake", "list", "--wallet", "alice", "--json"],
        ));
        let a = l["positions"][0]["alpha"].as_u64().unwrap();
        same = if a == last { same + 1 } else { 0 };
        last = a;
        if a > alpha && same >= 3 {
            break a;
        }
        assert!(Instant::now() < deadline, "no dividends: {l}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let shown = json(&taonet(&data, &wallets, &["subnet", "show", "1", "--json"]));
    assert!(shown["alpha_outstanding"].as_u64().unwrap() >= grown);

    // Unstake everything: TAO back on alice's balance.
    let removed = json(&taonet(
        &data,
        &wallets,
        &[
            "stake",
            "remove",
            "--wallet",
            "alice",
            "--hotkey",
            &hotkey,
            "--netuid",
            "1",
            "--alpha",
            &format!("{}.{:09}", grown / 1_000_000_000, grown % 1_000_000_000),
        ],
    ));
    assert_eq!(removed["status"], "done", "{removed}");
    let list = json(&taonet(
        &data,
        &wallets,
        &["stake", "list", "--wallet", "alice", "--json"],
    ));
    assert!(list["positions"].as_array().unwrap().is_empty(), "{list}");
    assert!(
        list["free_rao"].as_u64().unwrap() > 100_000_000_000,
        "{list}"
    );

    tests::cli::stop_up(&mut up);

    // The amm journaled the four stake commands it decided, refusals
    // with their codes; the ledger the one `block advance`.
    let journal = taonet(&data, &wallets, &["journal", "--service", "amm"]);
    assert!(journal.status.success());
    let outcomes: Vec<String> = String::from_utf8_lossy(&journal.stdout)
        .lines()
        .map(|l| {
            let r: serde_json::Value = serde_json::from_str(l).unwrap();
            match r["outcome"].get("rejected") {
                Some(x) => x["code"].as_str().unwrap().to_owned(),
                None => "accepted".into(),
            }
        })
        .collect();
    assert_eq!(outcomes.len(), 4, "{outcomes:?}");
    assert_eq!(outcomes[0], "accepted");
    assert_eq!(outcomes[2], "SubnetNotExists");
    assert_eq!(outcomes[3], "accepted");

    // The CLI session re-run from the journals in the simulator
    // (`taonet sim replay`) reproduces the cluster exactly: the same four
    // digests and figures, each command decided as it was.
    let r = json(&taonet(
        &data,
        &wallets,
        &["sim", "replay", "--from", data.to_str().unwrap()],
    ));
    assert_eq!(r["fidelity"]["exact"], true, "{r}");
    assert_eq!(r["commands"]["recorded"], 5, "{r}");
    assert_eq!(r["commands"]["replayed"], 4, "{r}");
    assert_eq!(r["commands"]["recorded_rejected"], 2, "{r}");
    assert_eq!(r["blocks"], 25);
    assert!(r["changed_commands"].as_array().unwrap().is_empty());
}
