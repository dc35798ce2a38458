//! Replays the shared vectors through `run_scenario` and compares with tolerance 0 (or the
//! tolerance a vector states for its own approximate targets).

use serde_json::Value;

const EPOCH_VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/subtensor-epoch.json"
);
const SIM_VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/yuma-simulators.json"
);

fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_json::from_str(&text).expect("vector JSON")
}

fn as_u64(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))
}

/// Stored bond `Bonds[row][col]`; a missing entry is 0.
fn bond(out: &Value, row: u64, col: u64) -> u64 {
    out["bonds_u16"][row as usize]
        .as_array()
        .expect("bond row")
        .iter()
        .find(|e| e[0].as_u64() == Some(col))
        .map(|e| as_u64(&e[1]))
        .unwrap_or(0)
}

/// Check one `expect` entry; returns a description of the mismatch, if any.
fn check_expect(out: &Value, e: &Value) -> Option<String> {
    let what = e["what"].as_str().expect("what");
    let tol = e["tolerance"].as_f64().unwrap_or(0.0);
    let uid = e["uid"].as_u64().map(|u| u as usize);
    let field_u = |f: &str| as_u64(&out[f][uid.expect("uid")]);
    let (got, want): (f64, f64) = match what {
        "bonds_u16" => (
            bond(out, as_u64(&e["row"]), as_u64(&e["col"])) as f64,
            e["value"].as_f64().expect("value"),
        ),
        "bonds_proportion" => (
            bond(out, as_u64(&e["row"]), as_u64(&e["col"])) as f64 / 65535.0,
            e["value"].as_f64().expect("value"),
        ),
        "dividends_u16" | "incentive_u16" | "consensus_u16" | "emission" => {
            (field_u(what) as f64, e["value"].as_f64().expect("value"))
        }
        "dividends" => (
            field_u("dividends_u16") as f64 / 65535.0,
            e["value"].as_f64().expect("value"),
        ),
        "validator_permit" => {
            let got = out["validator_permit"][uid.expect("uid")]
                .as_bool()
                .expect("bool");
            let want = e["value"].as_bool().expect("bool");
            return (got != want).then(|| format!("validator_permit[{uid:?}] {got} != {want}"));
        }
        other => return Some(format!("unknown expectation kind {other}")),
    };
    let ok = if tol == 0.0 {
        got == want
    } else {
        (got - want).abs() <= tol + 1e-12
    };
    (!ok).then(|| format!("{what} {e}: got {got}"))
}

#[test]
fn subtensor_epoch_vectors() {
    let doc = load(EPOCH_VECTORS);
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    let mut skipped = Vec::new();
    let mut exact_checks = 0usize;
    let mut tolerant_checks = 0usize;
    for v in doc["vectors"].as_array().expect("vectors") {
        let name = v["test_name"].as_str().expect("name").to_string();
        if let Some(kind) = v.get("kind").and_then(Value::as_str) {
            skipped.push(format!("{name} (kind = {kind})"));
            continue;
        }
        let out = yuma::run_scenario(v).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut errors = Vec::new();
        for (k, step) in v["steps"].as_array().expect("steps").iter().enumerate() {
            let Some(expects) = step.get("expect").and_then(Value::as_array) else {
                continue;
            };
            for e in expects {
                if e["tolerance"].as_f64().unwrap_or(0.0) == 0.0 {
                    exact_checks += 1;
                } else {
                    tolerant_checks += 1;
                }
                if let Some(msg) = check_expect(&out["steps"][k], e) {
                    errors.push(format!("step {k}: {msg}"));
                }
            }
        }
        if errors.is_empty() {
            passed.push(name);
        } else {
            failed.push(format!(
                "{name}: {}",
                errors[..errors.len().min(5)].join("; ")
            ));
        }
    }
    println!(
        "subtensor-epoch: {} passed, {} failed, {} not replayable; {exact_checks} exact and \
         {tolerant_checks} tolerance checks",
        passed.len(),
        failed.len(),
        skipped.len()
    );
    for s in &skipped {
        println!("  not replayable: {s}");
    }
    for f in &failed {
        println!("  FAILED {f}");
    }
    assert!(failed.is_empty(), "{} vectors failed", failed.len());
    assert_eq!(passed.len(), 26);
}

#[test]
fn simulator_scenarios_expect_full() {
    let doc = load(SIM_VECTORS);
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
    let mut passed = 0usize;
    let mut failed = Vec::new();
    for sc in doc["scenarios"].as_array().expect("scenarios") {
        let id = sc["id"].as_str().expect("id");
        let out = yuma::run_scenario(sc).unwrap_or_else(|e| panic!("{id}: {e}"));
        let got = out["steps"].as_array().expect("steps");
        let want = sc["expect_full"].as_array().expect("expect_full");
        let mut err = None;
        if got.len() != want.len() {
            err = Some(format!("{} steps, expected {}", got.len(), want.len()));
        }
        'outer: for (k, (g, w)) in got.iter().zip(want).enumerate() {
            for f in fields {
                if g[f] != w[f] {
                    err = Some(format!("step {k} field {f}: got {} want {}", g[f], w[f]));
                    break 'outer;
                }
            }
        }
        match err {
            None => passed += 1,
            Some(e) => failed.push(format!("{id}: {e}")),
        }
    }
    println!("yuma-simulators: {passed} passed, {} failed", failed.len());
    for f in &failed {
        println!("  FAILED {f}");
    }
    assert!(failed.is_empty(), "{} scenarios failed", failed.len());
}

#[test]
fn str_api_round_trips() {
    let doc = load(EPOCH_VECTORS);
    let v = &doc["vectors"][0];
    let text = yuma::run_scenario_str(&v.to_string()).expect("run");
    let parsed: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(parsed, yuma::run_scenario(v).expect("run"));
    assert!(yuma::run_scenario_str("{").is_err());
    assert!(matches!(
        yuma::run_scenario_str(r#"{"hyperparameters":{}}"#),
        Err(yuma::ScenarioError::Json(_))
    ));
}
