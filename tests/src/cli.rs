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
