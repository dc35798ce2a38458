//! `taonet wallet create/list/show/hotkey`.

use anyhow::{bail, Context, Result};
use keys::Wallet;
use serde_json::{json, Value};
use std::path::Path;

fn new_password(no_password: bool) -> Result<Option<String>> {
    if no_password {
        return Ok(None);
    }
    if let Ok(p) = std::env::var("TAONET_WALLET_PASSWORD") {
        return Ok(Some(p));
    }
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let p = rpassword::prompt_password("new wallet password: ")?;
        let q = rpassword::prompt_password("repeat password: ")?;
        if p != q {
            bail!("passwords differ");
        }
        return Ok(Some(p));
    }
    bail!("give a password in TAONET_WALLET_PASSWORD, run from a terminal, or pass --no-password")
}

pub fn create(dir: &Path, name: &str, no_password: bool, words: usize) -> Result<Value> {
    let password = new_password(no_password)?;
    let (w, phrase) = Wallet::create(dir, name, password.as_deref(), words)
        .with_context(|| format!("creating wallet {name} in {}", dir.display()))?;
    Ok(json!({
        "name": name,
        "coldkey": w.coldkeypub(),
        "encrypted": password.is_some(),
        "path": w.path(),
        "mnemonic": phrase,
        "warning": "write the mnemonic down; it is the only way to restore this coldkey",
    }))
}

pub fn list(dir: &Path) -> Result<Value> {
    let wallets = Wallet::list(dir)?;
    let list: Vec<Value> = wallets
        .into_iter()
        .map(|w| {
            json!({
                "name": w.name,
                "coldkey": w.coldkey,
                "encrypted": w.encrypted,
                "hotkeys": w.hotkeys.into_iter().map(|(n, a)| json!({"name": n, "hotkey": a})).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(json!({"wallet_dir": dir, "wallets": list}))
}

pub fn show(dir: &Path, name: &str) -> Result<Value> {
    let w = Wallet::open(dir, name).with_context(|| format!("wallet {name}"))?;
    let info = w.info()?;
    Ok(json!({
        "name": info.name,
        "coldkey": info.coldkey,
        "public_key": format!("0x{}", hex::encode(info.coldkey.0)),
        "encrypted": info.encrypted,
        "path": w.path(),
        "hotkeys": info.hotkeys.into_iter().map(|(n, a)| json!({"name": n, "hotkey": a})).collect::<Vec<_>>(),
    }))
}

pub fn new_hotkey(dir: &Path, name: &str, hotkey: &str) -> Result<Value> {
    let w = Wallet::open(dir, name).with_context(|| format!("wallet {name}"))?;
    let (id, phrase) = w.create_hotkey(hotkey)?;
    Ok(json!({"wallet": name, "hotkey_name": hotkey, "hotkey": id, "mnemonic": phrase}))
}
