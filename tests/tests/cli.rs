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

fn vectors(name: &str) -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/");
    serde_json::from_str(&std::fs::read_to_string(format!("{path}{name}")).expect("vectors"))
        .unwrap()
}

fn yuma_run(scenario: &serde_json::Value) -> serde_json::Value {
    use std::io::Write;
    let mut child = Command::new(node_bin())
        .args(["yuma", "run"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(scenario.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every simulator scenario through `taonet yuma run` (stdin) equals its
/// `expect_full`, field by field, tolerance 0.
#[test]
fn yuma_run_cli_reproduces_every_simulator_scenario() {
    let doc = vectors("yuma-simulators.json");
    let fields = [
        "block",
        "stake_u16",
        "consensus_u16",
        "incentive_u16",
        "dividends_u16",
        "validator_trust_u16",
        "emission",
        "validator_permit",
        "bonds_u16",
    ];
    let mut n = 0;
    for sc in doc["scenarios"].as_array().unwrap() {
        let out = yuma_run(sc);
        let got = out["steps"].as_array().unwrap();
        let want = sc["expect_full"].as_array().expect("expect_full");
        assert_eq!(got.len(), want.len(), "{}", sc["id"]);
        for (g, w) in got.iter().zip(want) {
            for f in fields {
                if w.get(f).is_some() {
                    assert_eq!(g[f], w[f], "{} field {f}", sc["id"]);
                }
            }
        }
        n += 1;
    }
    assert_eq!(n, 87);
}

/// Every replayable subtensor epoch vector through `taonet yuma run FILE`
/// gives exactly the engine's output, which the yuma crate's tests compare
/// with the chain's expectations.
#[test]
fn yuma_run_cli_replays_every_subtensor_vector() {
    let doc = vectors("subtensor-epoch.json");
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    for v in doc["vectors"].as_array().unwrap() {
        if v.get("kind").is_some() {
            continue;
        }
        let file = dir.path().join("scenario.json");
        std::fs::write(&file, v.to_string()).unwrap();
        let (ok, out, err) = run(&["yuma", "run", file.to_str().unwrap()]);
        assert!(ok, "{err}");
        assert_eq!(out, yuma::run_scenario(v).unwrap(), "{}", v["test_name"]);
        n += 1;
    }
    assert_eq!(n, 26);
}

/// `taonet calc swap` on the chain's own swap test cases.
#[test]
fn calc_swap_matches_the_chain_swap_vector() {
    let doc = vectors("tokenomics.json");
    let v = doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "balancer_swap_basic")
        .unwrap();
    let tao = v["inputs"]["tao_reserve"].to_string();
    let alpha = v["inputs"]["alpha_reserve"].to_string();
    for case in v["cases"].as_array().unwrap() {
        let side = if case["order"] == "buy_alpha_with_tao" {
            "--buy-with-tao"
        } else {
            "--sell-alpha"
        };
        let amount = case["amount_in"].to_string();
        let (ok, out, err) = run(&[
            "calc",
            "swap",
            "--tao-reserve",
            &tao,
            "--alpha-reserve",
            &alpha,
            side,
            &amount,
        ]);
        assert!(ok, "{err}");
        assert_eq!(out["fee"], case["fee"], "{case}");
        assert_eq!(out["amount_out"], case["amount_out"], "{case}");
        assert!(out["price_after"].is_string());
    }
    // A refused swap exits non-zero and names the rule.
    let (ok, _, err) = run(&[
        "calc",
        "swap",
        "--tao-reserve",
        "1000",
        "--alpha-reserve",
        "1000",
        "--buy-with-tao",
        "5",
    ]);
    assert!(!ok);
    assert!(err.contains("ReservesTooLow"), "{err}");
}
