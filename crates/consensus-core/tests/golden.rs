//! Golden fixtures: every (event type, version) ever written is checked in
//! under tests/fixtures/<Type>.v<N>.bin and must keep decoding to the same
//! value (the approach of ledger-core's golden test).
//!
//! A fixture of a current version that is missing is written when the tests
//! run with `UPDATE_FIXTURES=1` (never overwriting one that exists); without
//! it a missing fixture fails the test.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::PathBuf;

use consensus_core::event::*;
use consensus_core::*;
use envelope::{codec, DecodeError, Envelope, EventMeta, VersionedEvent};
use keys::AccountId;

fn a(n: u8) -> AccountId {
    AccountId([n; 32])
}

/// One sample per variant, at its current version.
fn samples() -> Vec<ConsensusEvent> {
    vec![
        ConsensusEvent::BlockObserved(BlockObserved { height: 7 }),
        ConsensusEvent::SubnetCreated(SubnetCreated {
            netuid: 3,
            owner: a(1),
            owner_hotkey: a(2),
            params: SubnetParams::default(),
            block: 7,
            last_epoch_block: 4,
        }),
        ConsensusEvent::HyperparameterSet(HyperparameterSet {
            netuid: 3,
            param: Hyperparameter::AlphaValues {
                low: 2_000,
                high: 60_000,
            },
        }),
        ConsensusEvent::MaxEpochsPerBlockSet(MaxEpochsPerBlockSet { value: 3 }),
        ConsensusEvent::NeuronRegistered(NeuronRegistered {
            netuid: 3,
            uid: 5,
            hotkey: a(3),
            block: 9,
            replaced: Some(a(4)),
        }),
        ConsensusEvent::StakeUpdated(StakeUpdated {
            netuid: 3,
            hotkey: a(3),
            stake: 123_456_789,
        }),
        ConsensusEvent::EmissionAccrued(EmissionAccrued {
            netuid: 3,
            rao: 1_000_000_000,
        }),
        ConsensusEvent::WeightsSet(WeightsSet {
            netuid: 3,
            uid: 1,
            hotkey: a(3),
            weights: vec![(0, 0), (2, 65_535), (4, 32_768)],
            block: 11,
        }),
        ConsensusEvent::WeightsCommitted(WeightsCommitted {
            netuid: 3,
            uid: 1,
            hotkey: a(3),
            hash: [0xAB; 32],
            block: 12,
            epoch: 2,
            expired_dropped: 1,
        }),
        ConsensusEvent::WeightsRevealed(WeightsRevealed {
            netuid: 3,
            uid: 1,
            hotkey: a(3),
            hash: [0xAB; 32],
            weights: vec![(2, 65_535)],
            commits_removed: 2,
        }),
        ConsensusEvent::EpochTriggered(EpochTriggered {
            netuid: 3,
            fires_at: 22,
        }),
        ConsensusEvent::EpochDeferred(EpochDeferred {
            netuid: 4,
            from_block: 20,
            to_block: 21,
        }),
        ConsensusEvent::EpochRan(EpochRan {
            netuid: 3,
            block: 20,
            epoch_index: 2,
            rao: 1_000_000,
            hotkeys: vec![a(2), a(3)],
            stake: vec![0, 65_535],
            consensus: vec![65_535, 0],
            incentive: vec![65_535, 0],
            dividends: vec![0, 65_535],
            validator_trust: vec![0, 65_535],
            emission: vec![500_000, 499_999],
            server_emission: vec![500_000, 0],
            validator_emission: vec![0, 499_999],
            active: vec![true, true],
            validator_permit: vec![true, true],
            bonds: vec![vec![], vec![(0, 65_535)]],
        }),
        ConsensusEvent::EpochSkipped(EpochSkipped {
            netuid: 3,
            block: 30,
            reason: "n = 70000 exceeds 65535 uids".into(),
        }),
    ]
}

/// Adding a variant breaks this match: add a sample above (and a fixture).
fn _every_variant_needs_a_sample(e: &ConsensusEvent) {
    match e {
        ConsensusEvent::BlockObserved(_)
        | ConsensusEvent::SubnetCreated(_)
        | ConsensusEvent::HyperparameterSet(_)
        | ConsensusEvent::MaxEpochsPerBlockSet(_)
        | ConsensusEvent::NeuronRegistered(_)
        | ConsensusEvent::StakeUpdated(_)
        | ConsensusEvent::EmissionAccrued(_)
        | ConsensusEvent::WeightsSet(_)
        | ConsensusEvent::WeightsCommitted(_)
        | ConsensusEvent::WeightsRevealed(_)
        | ConsensusEvent::EpochTriggered(_)
        | ConsensusEvent::EpochDeferred(_)
        | ConsensusEvent::EpochRan(_)
        | ConsensusEvent::EpochSkipped(_) => {}
    }
}

/// Historical versions: none yet (every type is at v1).
fn historical() -> Vec<(&'static str, u16, ConsensusEvent, Vec<u8>)> {
    Vec::new()
}

fn fixture_path(event_type: &str, version: u16) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
        .join(format!("{event_type}.v{version}.bin"))
}

fn current(event_type: &str, version: u16) -> Option<ConsensusEvent> {
    samples()
        .into_iter()
        .find(|s| s.event_type() == event_type && s.version() == version)
}

/// Expected value of each (type, version) in the schema.
fn expected(event_type: &str, version: u16) -> Option<ConsensusEvent> {
    current(event_type, version).or_else(|| {
        historical()
            .into_iter()
            .find(|(t, v, _, _)| *t == event_type && *v == version)
            .map(|(_, _, e, _)| e)
    })
}

#[test]
fn every_schema_entry_has_a_fixture_that_decodes_to_its_expected_value() {
    let update = std::env::var("UPDATE_FIXTURES").is_ok_and(|v| v == "1");
    let mut missing = Vec::new();
    for &(event_type, version) in EVENT_SCHEMA {
        let path = fixture_path(event_type, version);
        let want = expected(event_type, version)
            .unwrap_or_else(|| panic!("{event_type} v{version} has no expected value"));
        if !path.exists() {
            match current(event_type, version) {
                Some(sample) if update => {
                    // create_new: never overwrite a fixture, even in a race.
                    let mut f = fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&path)
                        .unwrap();
                    f.write_all(&sample.encode_payload()).unwrap();
                    eprintln!("wrote {}", path.display());
                }
                _ => {
                    missing.push(path.display().to_string());
                    continue;
                }
            }
        }
        let bytes = fs::read(&path).unwrap();
        let got = ConsensusEvent::decode_payload(event_type, version, &bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(got, want, "{}", path.display());
    }
    assert!(
        missing.is_empty(),
        "event versions without a golden fixture (run with UPDATE_FIXTURES=1 \
         for current versions): {missing:?}"
    );
}

#[test]
fn current_encodings_equal_their_fixtures() {
    // Catches a payload struct changed without bumping its version.
    for sample in samples() {
        let path = fixture_path(sample.event_type(), sample.version());
        // A missing fixture is reported by the schema test (and written by
        // it under UPDATE_FIXTURES=1, possibly concurrently with this one).
        let Ok(bytes) = fs::read(&path) else {
            continue;
        };
        assert_eq!(sample.encode_payload(), bytes, "{}", path.display());
    }
    for (event_type, version, _, bytes) in historical() {
        let path = fixture_path(event_type, version);
        assert_eq!(fs::read(&path).unwrap(), bytes, "{}", path.display());
    }
}

#[test]
fn schema_lists_exactly_the_samples_and_the_history() {
    let schema: BTreeSet<(&str, u16)> = EVENT_SCHEMA.iter().copied().collect();
    assert_eq!(schema.len(), EVENT_SCHEMA.len(), "duplicate schema entries");
    let mut known: BTreeSet<(&str, u16)> = samples()
        .iter()
        .map(|s| (s.event_type(), s.version()))
        .collect();
    assert_eq!(known.len(), samples().len(), "two samples of one type");
    known.extend(historical().iter().map(|(t, v, _, _)| (*t, *v)));
    assert_eq!(schema, known);
    // Every fixture file on disk belongs to a schema entry.
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"));
    for entry in fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            EVENT_SCHEMA
                .iter()
                .any(|(t, v)| name == format!("{t}.v{v}.bin")),
            "stray fixture {name}"
        );
    }
}

#[test]
fn unknown_and_malformed_payloads_are_typed_errors() {
    assert_eq!(
        ConsensusEvent::decode_payload("Nope", 1, &[]),
        Err(DecodeError::UnknownType {
            event_type: "Nope".into(),
            version: 1
        })
    );
    assert!(matches!(
        ConsensusEvent::decode_payload("WeightsSet", 2, &[]),
        Err(DecodeError::UnknownType { .. })
    ));
    assert!(matches!(
        ConsensusEvent::decode_payload("WeightsSet", 1, &[1, 2, 3]),
        Err(DecodeError::Malformed { .. })
    ));
    let mut bytes = samples()[0].encode_payload();
    bytes.push(0);
    assert!(matches!(
        ConsensusEvent::decode_payload("BlockObserved", 1, &bytes),
        Err(DecodeError::Malformed { .. })
    ));
}

#[test]
fn events_round_trip_through_the_envelope() {
    let meta = EventMeta {
        block: 9,
        causation: None,
        correlation: "op-0001".into(),
        trace: None,
    };
    for (i, sample) in samples().into_iter().enumerate() {
        let env = Envelope::wrap("consensus", i as u64 + 1, &sample, &meta);
        let env = codec::decode_envelope(&codec::encode_envelope(&env)).unwrap();
        assert_eq!(ConsensusEvent::from_envelope(&env).unwrap(), sample);
    }
}
