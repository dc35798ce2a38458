//! Golden fixtures: every (event type, version) ever written is checked in
//! under tests/fixtures/<Type>.v<N>.bin and must keep decoding to the same
//! value.
//!
//! A fixture of a current version that is missing is written when the tests
//! run with `UPDATE_FIXTURES=1` (never overwriting one that exists); without
//! it a missing fixture fails the test. Historical versions cannot be
//! regenerated: their fixtures were written while they were current.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::PathBuf;

use envelope::{codec, DecodeError, Envelope, EventMeta, VersionedEvent};
use keys::AccountId;
use ledger_core::event::*;
use ledger_core::*;

fn a(n: u8) -> AccountId {
    AccountId([n; 32])
}

fn op() -> String {
    "op-0001".to_owned()
}

/// One sample per variant, at its current version. Fixed values: the
/// fixtures are their encodings.
fn samples() -> Vec<LedgerEvent> {
    vec![
        LedgerEvent::GenesisApplied(GenesisApplied {
            genesis: Genesis {
                balances: vec![(a(1), 1_000_000), (a(2), 2_000_000)],
                existential_deposit: 500,
                fees: Fees::default(),
                admin: Some(a(0xAD)),
                services: vec![a(0x5E)],
                clock: Clock::Auto {
                    block_time_ms: 12_000,
                },
                coinbase_claim_window: 1,
            },
        }),
        LedgerEvent::BlockProduced(BlockProduced {
            height: 7,
            timestamp_ms: 1_700_000_084_000,
            minted: 1_000_000_000,
        }),
        LedgerEvent::CoinbaseRecycled(CoinbaseRecycled {
            block: 5,
            amount: 123_456,
        }),
        LedgerEvent::CoinbaseClaimed(CoinbaseClaimed {
            block: 6,
            credits: vec![(1, 600_000_000), (3, 399_999_999)],
        }),
        LedgerEvent::Transferred(Transferred {
            from: a(1),
            to: a(2),
            amount: 1_000_000,
            fee: 100_125,
        }),
        LedgerEvent::AccountReaped(AccountReaped {
            account: a(1),
            dust: 42,
        }),
        LedgerEvent::StakeFunded(StakeFunded {
            op: op(),
            coldkey: a(1),
            netuid: 3,
            amount: 5_000_000,
        }),
        LedgerEvent::StakeRefunded(StakeRefunded {
            op: op(),
            coldkey: a(1),
            netuid: 3,
            amount: 5_000_000,
        }),
        LedgerEvent::CustodyPaid(CustodyPaid {
            op: op(),
            netuid: 3,
            to: a(2),
            amount: 4_000_000,
        }),
        LedgerEvent::LockedForSubnet(LockedForSubnet {
            op: op(),
            coldkey: a(1),
            amount: 1_000_000_000,
        }),
        LedgerEvent::LockConfirmed(LockConfirmed {
            op: op(),
            netuid: 4,
            amount: 1_000_000_000,
        }),
        LedgerEvent::LockReleased(LockReleased {
            op: op(),
            coldkey: a(1),
            amount: 1_000_000_000,
        }),
        LedgerEvent::RegistrationFunded(RegistrationFunded {
            op: op(),
            coldkey: a(1),
            netuid: 3,
            amount: 500_000,
        }),
        LedgerEvent::RegistrationRefunded(RegistrationRefunded {
            op: op(),
            coldkey: a(1),
            netuid: 3,
            amount: 500_000,
        }),
        LedgerEvent::CustodyRecycled(CustodyRecycled {
            op: op(),
            netuid: 3,
            amount: 77,
        }),
        LedgerEvent::TaoBurned(TaoBurned {
            op: op(),
            from: a(1),
            amount: 9_999,
        }),
    ]
}

/// Adding a variant breaks this match, which is the reminder to add a
/// sample above (and so a fixture).
fn _every_variant_needs_a_sample(e: &LedgerEvent) {
    match e {
        LedgerEvent::GenesisApplied(_)
        | LedgerEvent::BlockProduced(_)
        | LedgerEvent::CoinbaseRecycled(_)
        | LedgerEvent::CoinbaseClaimed(_)
        | LedgerEvent::Transferred(_)
        | LedgerEvent::AccountReaped(_)
        | LedgerEvent::StakeFunded(_)
        | LedgerEvent::StakeRefunded(_)
        | LedgerEvent::CustodyPaid(_)
        | LedgerEvent::LockedForSubnet(_)
        | LedgerEvent::LockConfirmed(_)
        | LedgerEvent::LockReleased(_)
        | LedgerEvent::RegistrationFunded(_)
        | LedgerEvent::RegistrationRefunded(_)
        | LedgerEvent::CustodyRecycled(_)
        | LedgerEvent::TaoBurned(_) => {}
    }
}

/// Historical versions: what their fixture must decode (upcast) to, and the
/// old payload struct the fixture was written from.
fn historical() -> Vec<(&'static str, u16, LedgerEvent, Vec<u8>)> {
    vec![(
        "Transferred",
        1,
        LedgerEvent::Transferred(Transferred {
            from: a(1),
            to: a(2),
            amount: 1_000_000,
            fee: 0,
        }),
        codec::encode(&TransferredV1 {
            from: a(1),
            to: a(2),
            amount: 1_000_000,
        }),
    )]
}

fn fixture_path(event_type: &str, version: u16) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
        .join(format!("{event_type}.v{version}.bin"))
}

fn current(event_type: &str, version: u16) -> Option<LedgerEvent> {
    samples()
        .into_iter()
        .find(|s| s.event_type() == event_type && s.version() == version)
}

/// Expected value of each (type, version) in the schema.
fn expected(event_type: &str, version: u16) -> Option<LedgerEvent> {
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
        let got = LedgerEvent::decode_payload(event_type, version, &bytes)
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
        LedgerEvent::decode_payload("Nope", 1, &[]),
        Err(DecodeError::UnknownType {
            event_type: "Nope".into(),
            version: 1
        })
    );
    assert!(matches!(
        LedgerEvent::decode_payload("Transferred", 3, &[]),
        Err(DecodeError::UnknownType { .. })
    ));
    assert!(matches!(
        LedgerEvent::decode_payload("Transferred", 2, &[1, 2, 3]),
        Err(DecodeError::Malformed { .. })
    ));
    let mut bytes = samples()[1].encode_payload();
    bytes.push(0);
    assert!(matches!(
        LedgerEvent::decode_payload("BlockProduced", 1, &bytes),
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
        let env = Envelope::wrap("ledger", i as u64 + 1, &sample, &meta);
        let env = codec::decode_envelope(&codec::encode_envelope(&env)).unwrap();
        assert_eq!(LedgerEvent::from_envelope(&env).unwrap(), sample);
    }
}
