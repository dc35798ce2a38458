//! The fault-injection suite in its bounded mode (docs/faults.md): the
//! real `taonet-faults` binary against a real nats-server and real service
//! processes, with kill -9, NATS restarts and SIGSTOP stalls at seeded
//! times. Nothing acknowledged may be lost or applied twice, every
//! invariant must hold and every replay must equal the live digest.

use std::process::Command;

#[test]
fn bounded_fault_run_loses_and_doubles_nothing() {
    let seed = std::env::var("TAONET_FAULTS_SEED").unwrap_or_else(|_| "7".into());
    let duration = std::env::var("TAONET_FAULTS_DURATION").unwrap_or_else(|_| "45s".into());
    let out = Command::new(env!("CARGO_BIN_EXE_taonet-faults"))
        .args(["--duration", &duration, "--seed", &seed])
        .args(["--clients", "2", "--fault-every", "2500ms..5s"])
        .env("TAONET_TEST_NODE", tests::node_bin())
        .output()
        .expect("run taonet-faults");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stderr}");
    println!("{stdout}");
    let count = |label: &str| -> u64 {
        stdout
            .lines()
            .find(|l| l.starts_with(label))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {label:?} line in the summary:\n{stdout}"))
    };
    assert_eq!(count("lost"), 0, "{stdout}");
    assert_eq!(count("duplicated"), 0, "{stdout}");
    assert_eq!(count("invariant violations"), 0, "{stdout}");
    assert_eq!(count("unanswered"), 0, "{stdout}");
    assert!(count("faults injected") >= 5, "too few faults: {stdout}");
    assert!(count("acknowledged") > 100, "too little load: {stdout}");
    assert!(out.status.success(), "exit {:?}\n{stdout}", out.status);
}

/// The checks bite: with the journal corrupted as a lost transfer (one
/// acknowledged that never happened) and a doubled one (one applied that no
/// client was told of) would look, the run fails and names both.
#[test]
fn the_checks_catch_a_lost_and_a_doubled_transfer() {
    let out = Command::new(env!("CARGO_BIN_EXE_taonet-faults"))
        .args(["--duration", "12s", "--seed", "3", "--clients", "1"])
        .args(["--fault-every", "3s..4s"])
        .env("TAONET_TEST_NODE", tests::node_bin())
        .env("TAONET_FAULTS_TAMPER", "forget,phantom")
        .output()
        .expect("run taonet-faults");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("LOST: ledger transfer phantom: acked at"),
        "{stdout}"
    );
    assert!(
        stdout.contains("but never sent"),
        "the forgotten transfer is in the log: {stdout}"
    );
    assert!(
        stdout.contains("balance of"),
        "balances off the model: {stdout}"
    );
}
