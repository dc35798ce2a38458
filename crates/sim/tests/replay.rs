//! What-if replay on recordings made from simulated runs (the cluster's
//! own recording is replayed in tests/tests/sim_cluster.rs): a recording
//! replays exactly as recorded; changed rules turn a refused command into
//! an accepted one and the report says which; the journals are merged in
//! block order and the clock's commands are skipped.

use keys::{AccountId, Keypair};
use service_kit::journal::{Record, RecordedOutcome};
use sim::replay::{replay, schedule, Recording, WhatIf};
use sim::Scenario;
use std::collections::BTreeMap;

fn id(name: &str) -> AccountId {
    Keypair::from_uri(&format!("//{name}")).unwrap().public()
}

/// (at, signer, service, wire command) of the "real" history.
fn history() -> Vec<(u64, &'static str, &'static str, serde_json::Value)> {
    use serde_json::json;
    vec![
        (
            0,
            "Bob",
            "amm",
            json!({"AddStake": {"op": "bob-1", "hotkey": id("Val1"), "netuid": 1,
                "amount": 100_000_000_000_000u64, "limit_price": null, "allow_partial": false}}),
        ),
        (
            3,
            "Alice",
            "ledger",
            json!({"Transfer": {"to": id("Carol"), "amount": 5_000_000_000u64, "keep_alive": true}}),
        ),
        // Commit-reveal is on by default, so plain weights are refused.
        (
            13,
            "Val1",
            "consensus",
            json!({"SetWeights": {"netuid": 1, "uids": [1], "values": [60000], "version_key": 0}}),
        ),
        (
            15,
            "Bob",
            "amm",
            json!({"RemoveStake": {"op": "bob-2", "hotkey": id("Val1"), "netuid": 1,
                "alpha": 1_000_000_000_000u64, "limit_price": null, "allow_partial": false}}),
        ),
    ]
}

fn body(i: usize, command: &serde_json::Value) -> String {
    serde_json::json!({"client": "test", "id": format!("c{i}"), "command": command}).to_string()
}

/// The run that stands for the real cluster: the history as a scenario,
/// each command charged by the length of the body the recording holds.
fn real_scenario() -> Scenario {
    let commands: Vec<serde_json::Value> = history()
        .iter()
        .enumerate()
        .map(|(i, (at, signer, service, command))| {
            serde_json::json!({"at": at, "signer": id(signer), "service": service,
                "command": command, "encoded_len": body(i, command).len()})
        })
        .collect();
    let doc = serde_json::json!({
        "name": "recorded", "blocks": 30, "start_date": "2025-06-01",
        "genesis": {
            "balances": [[id("Alice"), 1_000_000_000_000_000u64], [id("Bob"), 500_000_000_000_000u64]],
            "admin": id("Alice"),
            "subnets": [
                {"netuid": 1, "owner": id("Alice"), "owner_hotkey": id("AliceHot"),
                 "tao_reserve": 10_000_000_000_000u64, "alpha_reserve": 10_000_000_000_000u64,
                 "first_emission_block": 0, "tempo": 10,
                 "neurons": [{"hotkey": id("Val1"), "owner": id("Bob")},
                             {"hotkey": id("Miner1"), "owner": id("Alice")}]}
            ]
        },
        "commands": commands,
    });
    Scenario::from_json(&doc.to_string()).unwrap()
}

/// What the CLI would read off a cluster that lived `real_scenario`'s
/// history: its journals (with the outcomes the run gave), block times and
/// final figures.
fn recording() -> (Recording, sim::Outcome) {
    let s = real_scenario();
    let real = sim::run(&s, &mut |_, _| {}).unwrap();
    let mut journals: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    for (i, (at, signer, service, command)) in history().into_iter().enumerate() {
        let outcome = match &real.scripted[i] {
            None => RecordedOutcome::Accepted {
                first_seq: 0,
                last_seq: 0,
            },
            Some(code) => RecordedOutcome::Rejected { code: code.clone() },
        };
        journals.entry(service.into()).or_default().push(Record {
            signer: id(signer),
            service_caller: false,
            body: body(i, &command),
            received_ms: i as u64,
            block: at,
            outcome,
        });
    }
    let start = sim::date::parse("2025-06-01").unwrap();
    let rec = Recording {
        source: "a simulated run".into(),
        genesis: s.genesis.clone(),
        journals,
        blocks: s.blocks,
        block_timestamps_ms: (1..=s.blocks).map(|b| start + b * 12_000).collect(),
        real: real.economy.clone(),
        real_digests: real.report.digests.clone(),
    };
    (rec, real)
}

#[test]
fn a_recording_replays_exactly_as_recorded() {
    let (rec, real) = recording();
    assert_eq!(
        real.scripted[2].as_deref(),
        Some("CommitRevealEnabled"),
        "the weights were refused in the real history"
    );
    let r = replay(&rec, &WhatIf::default(), &mut |_, _, _| {}).unwrap();
    assert!(r.report.fidelity.exact, "{}", r.report.json());
    assert!(r.report.changed_commands.is_empty());
    assert!(r.report.accounts.is_empty(), "{}", r.report.table());
    assert_eq!(r.report.commands.replayed, 4);
    assert_eq!(r.report.commands.recorded_rejected, 1);
    assert_eq!(r.as_recorded.report.digests, real.report.digests);
    // Twice, the same bytes.
    let again = replay(&rec, &WhatIf::default(), &mut |_, _, _| {}).unwrap();
    assert_eq!(again.report.json(), r.report.json());
}

#[test]
fn changed_rules_accept_a_refused_command_and_say_so() {
    let (rec, _) = recording();
    let what_if = WhatIf::from_json(
        r#"{"rules": [{"netuid": 1, "param": {"CommitRevealEnabled": false}},
                      {"netuid": 1, "param": {"WeightsRateLimit": 0}}]}"#,
    )
    .unwrap();
    let r = replay(&rec, &what_if, &mut |_, _, _| {}).unwrap();
    let report = &r.report;
    assert!(report.fidelity.exact, "as recorded is still exact");
    assert_eq!(report.changed_commands.len(), 1, "{}", report.table());
    let c = &report.changed_commands[0];
    assert_eq!(
        (
            c.command.service.as_str(),
            c.command.id.as_str(),
            c.command.block
        ),
        ("consensus", "c2", 13)
    );
    assert_eq!(c.command.recorded, "CommitRevealEnabled");
    assert_eq!(c.as_recorded, "CommitRevealEnabled");
    assert_eq!(c.what_if, "accepted");
    // Val1's weights now reach the epochs at blocks 20 and 30, so the
    // miner's owner earns differently; nothing is invented: issuance is
    // the chain's schedule either way.
    assert!(!report.accounts.is_empty(), "{}", report.table());
    assert_eq!(
        report.total_issuance_rao.real,
        report.total_issuance_rao.what_if
    );
    assert!(report.table().contains("what-if accepted"));
}

#[test]
fn journals_merge_by_block_then_arrival_and_skip_the_clock() {
    let (mut rec, _) = recording();
    let adv = Record {
        signer: id("Alice"),
        service_caller: false,
        body: serde_json::json!({"client": "t", "id": "adv",
            "command": {"AdvanceBlocks": {"n": 1, "timestamp_ms": 1, "block_time_ms": 12000}}})
        .to_string(),
        received_ms: 0,
        block: 5,
        outcome: RecordedOutcome::Accepted {
            first_seq: 1,
            last_seq: 1,
        },
    };
    let saga = Record {
        service_caller: true,
        block: 6,
        ..adv.clone()
    };
    let ledger = rec.journals.get_mut("ledger").unwrap();
    ledger.push(adv);
    ledger.push(saga);
    // A governance command of block 0 admitted after the amm's stake (in
    // the shells' wall time) is replayed after it, and before block 3's.
    rec.journals
        .entry("governance".into())
        .or_default()
        .push(Record {
            signer: id("Alice"),
            service_caller: false,
            body: serde_json::json!({"client": "t", "id": "late",
            "command": {"Admin": {"SetHyperparameter": {"netuid": 1, "param": {"Tempo": 10}}}}})
            .to_string(),
            received_ms: 99,
            block: 0,
            outcome: RecordedOutcome::Accepted {
                first_seq: 1,
                last_seq: 1,
            },
        });
    let (scripted, replayed, skipped) = schedule(&rec);
    let ids: Vec<&str> = replayed.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["c0", "late", "c1", "c2", "c3"]);
    assert_eq!(scripted.len(), 5);
    assert!(scripted.windows(2).all(|w| w[0].at <= w[1].at));
    let reasons: Vec<&str> = skipped.iter().map(|s| s.reason.as_str()).collect();
    assert_eq!(skipped.len(), 2, "{reasons:?}");
    assert!(reasons[0].contains("block production"), "{reasons:?}");
    assert!(reasons[1].contains("service key"), "{reasons:?}");
}

/// Governance values hotkeys from the alpha and prices the amm reports
/// (`StakeReport` v2); at the end of a run every hotkey's value there
/// equals the amm's own, on the tiny example (stakers, unstakers,
/// validators, epochs) and on the recorded history above.
#[test]
fn governance_values_every_hotkey_as_the_amm_does() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tiny.json");
    for s in [Scenario::load(&path).unwrap(), real_scenario()] {
        let out = sim::run(&s, &mut |_, _| {}).unwrap();
        assert!(out.invariants.is_empty(), "{:?}", out.invariants);
        assert!(out.report.stake_concentration.hotkeys > 0, "{}", s.name);
    }
}

/// Fee burning on or off: with a fee recipient in the genesis the same
/// history pays Alice's transfer fee to Bob instead of burning it, so
/// issuance ends higher by exactly that fee; as a what-if switch on a
/// recording, the report shows the same difference against what happened.
#[test]
fn fee_burning_off_pays_the_recipient_what_would_have_burned() {
    let (rec, real) = recording();
    let what_if = WhatIf {
        fee_recipient: Some(id("Bob")),
        ..WhatIf::default()
    };
    let r = replay(&rec, &what_if, &mut |_, _, _| {}).unwrap();
    let burned = real.report.issuance.start_rao + real.report.issuance.minted_rao
        - real.report.issuance.end_rao;
    let fee = r.report.total_issuance_rao.delta;
    assert!(fee > 0, "the transfer's fee is no longer burned");
    assert!(i128::from(burned) >= fee);
    let bob = r
        .report
        .accounts
        .iter()
        .find(|a| a.account == id("Bob").to_ss58())
        .expect("Bob's figures changed");
    assert_eq!(bob.free_rao.delta, fee, "Bob was paid the fee");
    assert!(
        r.what_if.invariants.is_empty(),
        "{:?}",
        r.what_if.invariants
    );
    // A recipient without a genesis balance is refused, by name.
    let bad = WhatIf {
        fee_recipient: Some(id("Nobody")),
        ..WhatIf::default()
    };
    let err = replay(&rec, &bad, &mut |_, _, _| {})
        .err()
        .expect("refused");
    assert!(err.to_string().contains("fee recipient"), "{err}");
}
