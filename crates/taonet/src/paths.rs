//! Where things live by default: `~/.taonet/wallets` and `~/.taonet/data`
//! (override with `TAONET_WALLET_DIR`, `TAONET_DATA`, or flags).

use std::path::PathBuf;

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

pub fn default_wallet_dir() -> PathBuf {
    home().join(".taonet").join("wallets")
}

pub fn default_data_dir() -> PathBuf {
    home().join(".taonet").join("data")
}

/// The NATS URL: flag/env if given, else what `taonet up` recorded in the
/// data dir, else the standard local port.
pub fn resolve_nats_url(flag: Option<String>, data: &std::path::Path) -> String {
    if let Some(u) = flag {
        return u;
    }
    if let Ok(text) = std::fs::read_to_string(data.join("cluster.json")) {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            if let Some(u) = v["nats_url"].as_str() {
                return u.to_owned();
            }
        }
    }
    "nats://127.0.0.1:4222".to_owned()
}
