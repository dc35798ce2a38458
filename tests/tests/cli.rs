//! The public CLI surface of spec/interfaces.md, run as a user runs it.

use std::process::Command;
use tests::node_bin;

fn run(args: &[&str]) -> (bool, serde_json::Value, String) {
    let out = Command::new(node_bin())
        .args(args)
        .output()
        .expect("run taonet");
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.success(),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn calc_emission_matches_spec_at_every_era_boundary() {
    for k in 0u32..=30 {
        let start = ledger_core::emission::era_start(k).expect("era start");
        let (ok, v, err) = run(&["calc", "emission", "--issuance", &start.to_string()]);
        assert!(ok, "{err}");
        assert_eq!(v["issuance_rao"].as_u64(), Some(start));
        assert_eq!(v["era"].as_u64(), Some(k as u64), "era at {start}");
        let expected = if k >= 30 { 0 } else { 1_000_000_000u64 >> k };
        assert_eq!(
            v["block_emission_rao"].as_u64(),
            Some(expected),
            "emission at era {k}"
        );
        if start > 0 {
            let (_, below, _) = run(&["calc", "emission", "--issuance", &(start - 1).to_string()]);
            assert_eq!(
                below["era"].as_u64(),
                Some(k as u64 - 1),
                "one RAO below era {k}"
            );
        }
    }
    // The example of interfaces.md, byte for byte.
    let out = Command::new(node_bin())
        .args(["calc", "emission", "--issuance", "10500000000000000"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"block_emission_rao":500000000,"era":1,"issuance_rao":10500000000000000}"#
    );
}

#[test]
fn bad_cli_input_exits_non_zero_with_a_message() {
    let (ok, _, err) = run(&["calc", "emission", "--issuance", "-5"]);
    assert!(!ok);
    assert!(!err.is_empty());
    let (ok, _, err) = run(&["replay", "--service", "nope", "--data", "/nonexistent"]);
    assert!(!ok);
    assert!(err.contains("error"), "{err}");
}

#[test]
fn wallets_create_list_show_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (ok, created, err) = run(&[
        "--wallet-dir",
        d,
        "wallet",
        "create",
        "--name",
        "alice",
        "--no-password",
    ]);
    assert!(ok, "{err}");
    let (ok, list, _) = run(&["--wallet-dir", d, "wallet", "list"]);
    assert!(ok);
    assert_eq!(list["wallets"][0]["coldkey"], created["coldkey"]);
    let (ok, shown, _) = run(&["--wallet-dir", d, "wallet", "show", "--name", "alice"]);
    assert!(ok);
    assert_eq!(shown["coldkey"], created["coldkey"]);
    // The mnemonic restores the same key.
    let phrase = created["mnemonic"].as_str().unwrap();
    let k = keys::Keypair::from_phrase(phrase, None).unwrap();
    assert_eq!(serde_json::json!(k.public()), created["coldkey"]);
    // Creating it again is refused.
    let (ok, _, _) = run(&[
        "--wallet-dir",
        d,
        "wallet",
        "create",
        "--name",
        "alice",
        "--no-password",
    ]);
    assert!(!ok);
}

#[test]
fn encrypted_wallet_needs_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = Command::new(node_bin())
        .args(["--wallet-dir", d, "wallet", "create", "--name", "carol"])
        .env("TAONET_WALLET_PASSWORD", "correct horse")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("carol/coldkey")).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !text.contains(v["mnemonic"].as_str().unwrap()),
        "coldkey is encrypted at rest"
    );
    let w = keys::Wallet::open(dir.path(), "carol").unwrap();
    assert!(w.coldkey(Some("wrong")).is_err());
    assert!(w.coldkey(Some("correct horse")).is_ok());
}
