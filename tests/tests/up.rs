//! `taonet up`: starts NATS and the four services on one data dir, and a
//! second start replays every log and continues where the first stopped.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tests::node_bin;

fn up(data: &std::path::Path, wallets: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let out = Command::new(node_bin())
        .arg("--data")
        .arg(data)
        .arg("--wallet-dir")
        .arg(wallets)
        .args(["up", "--check", "--nats-port", "0", "--monitor-port", "0"])
        .args(extra)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .output()
        .expect("run taonet up");
    assert!(
        out.status.success(),
        "taonet up failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn ledger_status(v: &serde_json::Value) -> serde_json::Value {
    v["status"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "ledger")
        .cloned()
        .unwrap()
}

#[test]
fn second_start_replays_and_continues() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let wallets = dir.path().join("wallets");
    let created = Command::new(node_bin())
        .arg("--wallet-dir")
        .arg(&wallets)
        .args(["wallet", "create", "--name", "alice", "--no-password"])
        .output()
        .unwrap();
    assert!(created.status.success());

    let first = up(&data, &wallets, &["--manual-blocks", "--fund", "alice=10"]);
    let s1 = ledger_status(&first);
    assert_eq!(s1["last_seq"], 1, "genesis applied once: {s1}");
    assert_eq!(
        first["status"].as_array().unwrap().len(),
        4,
        "all four services answered"
    );
    assert_eq!(first["cluster"]["fresh_genesis"], true);

    let second = up(&data, &wallets, &[]);
    let s2 = ledger_status(&second);
    assert_eq!(second["cluster"]["fresh_genesis"], false);
    assert_eq!(s2["last_seq"], s1["last_seq"], "nothing applied twice");
    assert_eq!(
        s2["state_digest"], s1["state_digest"],
        "the replayed state is the same state"
    );
    let genesis: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("genesis.json")).unwrap()).unwrap();
    assert_eq!(genesis["balances"][0][1], 10_000_000_000u64);
}

#[test]
fn ctrl_c_stops_everything_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = Command::new(node_bin())
        .arg("--data")
        .arg(&data)
        .args([
            "up",
            "--nats-port",
            "0",
            "--monitor-port",
            "0",
            "--block-time-ms",
            "100",
        ])
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !data.join("cluster.json").exists()
        || std::fs::read_dir(data.join("run"))
            .map(|d| d.count())
            .unwrap_or(0)
            < 5
    {
        assert!(Instant::now() < deadline, "up did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "up exited with {status}");
            break;
        }
        assert!(Instant::now() < deadline, "up did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Every service wrote its log and stopped; the ledger produced blocks.
    let out = Command::new(node_bin())
        .arg("--data")
        .arg(&data)
        .args(["replay", "--service", "ledger"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["block"].as_u64().unwrap() >= 5,
        "blocks advanced while up: {v}"
    );
}
