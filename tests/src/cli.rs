//! Helpers for tests that drive the real `taonet` binary (`taonet up`
//! plus CLI commands) against a data dir and a wallet dir.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::node_bin;

pub fn taonet(data: &Path, wallets: &Path, args: &[&str]) -> Output {
    Command::new(node_bin())
        .arg("--data")
        .arg(data)
        .arg("--wallet-dir")
        .arg(wallets)
        .args(args)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .output()
        .expect("run taonet")
}

pub fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "taonet failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).expect("json on stdout")
}

/// Polls `args` until `ok` holds on its JSON.
pub fn until(
    data: &Path,
    wallets: &Path,
    args: &[&str],
    what: &str,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = taonet(data, wallets, args);
        if out.status.success() {
            let v: Value = serde_json::from_slice(&out.stdout).expect("json");
            if ok(&v) {
                return v;
            }
            assert!(Instant::now() < deadline, "{what}: {v}");
        } else {
            assert!(
                Instant::now() < deadline,
                "{what}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub fn coldkey(data: &Path, wallets: &Path, name: &str) -> keys::AccountId {
    let w = json(&taonet(data, wallets, &["wallet", "show", "--name", name]));
    w["coldkey"].as_str().unwrap().parse().unwrap()
}

/// Stops a `taonet up` child as an operator does (SIGINT) and asserts it
/// exits cleanly within 40 s.
pub fn stop_up(up: &mut std::process::Child) {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    kill(Pid::from_raw(up.id() as i32), Signal::SIGINT).expect("signal up");
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if let Some(status) = up.try_wait().expect("wait for up") {
            assert!(status.success(), "up exited with {status}");
            return;
        }
        assert!(Instant::now() < deadline, "up did not stop");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until every service has published its whole log, stops `up`,
/// and checks that an offline `taonet replay` of each log reproduces the
/// live state digest and length.
pub fn assert_replay_equals_live(data: &Path, wallets: &Path, up: &mut std::process::Child) {
    let mut live = Vec::new();
    for svc in ["ledger", "amm", "consensus", "governance"] {
        let s = until(
            data,
            wallets,
            &["status", "--service", svc],
            "status",
            |v| v["published_seq"] == v["last_seq"],
        );
        live.push((svc, s));
    }
    stop_up(up);
    for (svc, s) in live {
        let r = json(&taonet(data, wallets, &["replay", "--service", svc]));
        assert_eq!(r["state_digest"], s["state_digest"], "{svc}: {r} vs {s}");
        assert_eq!(r["last_seq"], s["last_seq"], "{svc}");
    }
}
