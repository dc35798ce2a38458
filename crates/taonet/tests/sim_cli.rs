//! `taonet sim run` as a user runs it: two processes, same bytes.

use std::path::Path;
use std::process::Command;

fn sim(args: &[&str]) -> String {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let out = Command::new(env!("CARGO_BIN_EXE_taonet"))
        .current_dir(examples)
        .arg("sim")
        .arg("run")
        .args(args)
        .output()
        .expect("taonet runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn same_scenario_and_seed_same_report_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let plot = dir.path().join("plot");
    let a = sim(&[
        "tiny.json",
        "--seed",
        "5",
        "--out",
        out.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ]);
    let b = sim(&["tiny.json", "--seed", "5"]);
    assert_eq!(a, b);
    let c = sim(&["tiny.json", "--seed", "6"]);
    assert_ne!(a, c, "the seed drives the agents");
    let report: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert_eq!(report["seed"], 5);
    assert_eq!(std::fs::read_to_string(out.join("report.json")).unwrap(), a);
    for f in ["series.csv", "subnets.csv"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    for f in ["supply.svg", "prices.svg", "shares.svg"] {
        assert!(plot.join(f).is_file(), "{f}");
    }
}
