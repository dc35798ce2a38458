//! Fuzzing every decoder that reads bytes from outside (docs/fuzzing.md):
//!
//! - the envelope codec (`decode_envelope`, `decode_envelope_ref`): random
//!   bytes and valid envelopes with bit flips, truncation, extension,
//!   inserted bytes and huge length prefixes;
//! - each service's event payloads (`VersionedEvent::decode_payload`, the
//!   upcasting path), starting from the checked-in golden fixtures of
//!   every (type, version), mutated and also read as other types;
//! - the signed command wire path, exactly as the shell admits a NATS
//!   request (`service_kit::shell::admit_payloads`: size, JSON, signature
//!   batch and single checks, body, id limits, service keys), for all four
//!   services.
//!
//! Asserted: no panic; typed errors; both envelope decoders agree and a
//! decoded value re-encodes to itself; no length prefix makes a decoder
//! allocate or wait (a bomb at every offset decodes in bounded time);
//! no mutation of a signed payload is admitted unless it still carries
//! the very signer and body that were signed, and a batch admits each
//! payload exactly as it would alone. `PROPTEST_CASES` sets the count.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bus::rpc::Reply;
use envelope::codec::{self, MAX_DECODE_BYTES};
use envelope::{DecodeError, Envelope, TraceContext, VersionedEvent};
use keys::{AccountId, Keypair, Signed};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use service_kit::{shell, Cmd, Service};

// ------------------------------------------------------------ mutations

/// One byte-level mutation.
#[derive(Clone, Debug)]
enum Mutation {
    Flip(u32, u8),
    Overwrite(u32, u8),
    Truncate(u32),
    Extend(Vec<u8>),
    Insert(u32, Vec<u8>),
    /// A bincode varint length marker with a huge value, inserted.
    Bomb(u32, u8),
}

/// The huge varints a length prefix can claim (bincode's standard config:
/// 251 = u16 follows, 252 = u32, 253 = u64).
fn bomb(which: u8) -> Vec<u8> {
    let mut v = match which % 5 {
        0 => vec![252],
        1 => vec![253],
        2 => vec![251],
        _ => vec![253],
    };
    match which % 5 {
        0 => v.extend_from_slice(&u32::MAX.to_le_bytes()),
        1 => v.extend_from_slice(&u64::MAX.to_le_bytes()),
        2 => v.extend_from_slice(&u16::MAX.to_le_bytes()),
        3 => v.extend_from_slice(&((MAX_DECODE_BYTES as u64) + 1).to_le_bytes()),
        _ => v.extend_from_slice(&((MAX_DECODE_BYTES as u64) - 1).to_le_bytes()),
    }
    v
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<u32>(), any::<u8>()).prop_map(|(a, b)| Mutation::Flip(a, b)),
        2 => (any::<u32>(), any::<u8>()).prop_map(|(a, b)| Mutation::Overwrite(a, b)),
        2 => any::<u32>().prop_map(Mutation::Truncate),
        1 => proptest::collection::vec(any::<u8>(), 1..16).prop_map(Mutation::Extend),
        1 => (any::<u32>(), proptest::collection::vec(any::<u8>(), 1..8)).prop_map(|(a, b)| Mutation::Insert(a, b)),
        2 => (any::<u32>(), any::<u8>()).prop_map(|(a, b)| Mutation::Bomb(a, b)),
    ]
}

fn mutate(bytes: &mut Vec<u8>, ms: &[Mutation]) {
    for m in ms {
        let at = |a: u32, len: usize| a as usize % (len + 1);
        match m {
            Mutation::Flip(a, bit) if !bytes.is_empty() => {
                let i = *a as usize % bytes.len();
                bytes[i] ^= 1 << (bit % 8);
            }
            Mutation::Overwrite(a, b) if !bytes.is_empty() => {
                let i = *a as usize % bytes.len();
                bytes[i] = *b;
            }
            Mutation::Truncate(a) => bytes.truncate(at(*a, bytes.len())),
            Mutation::Extend(more) => bytes.extend_from_slice(more),
            Mutation::Insert(a, more) => {
                let i = at(*a, bytes.len());
                bytes.splice(i..i, more.iter().copied());
            }
            Mutation::Bomb(a, which) => {
                let i = at(*a, bytes.len());
                bytes.splice(i..i, bomb(*which));
            }
            _ => {}
        }
    }
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        failure_persistence: None,
        ..Config::default()
    })
}

// ------------------------------------------------------------ envelope

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-zA-Z0-9_.:-]{0,24}",
        any::<String>(),
    ]
}

fn envelope() -> impl Strategy<Value = Envelope> {
    (
        any::<[u8; 16]>(),
        (text(), any::<u64>(), text(), any::<u16>(), any::<u64>()),
        (proptest::option::of(text()), text()),
        proptest::option::of((text(), text())),
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(
            |(
                id,
                (service, seq, event_type, version, block),
                (causation, correlation),
                trace,
                payload,
            )| Envelope {
                id: uuid::Uuid::from_bytes(id),
                service,
                seq,
                event_type,
                version,
                block,
                causation,
                correlation,
                trace: trace.map(|(traceparent, tracestate)| TraceContext {
                    traceparent,
                    tracestate,
                }),
                payload,
            },
        )
}

/// Both decoders on `bytes`: they agree, and what decodes re-encodes to
/// an envelope that decodes to itself.
fn check_envelope_bytes(bytes: &[u8]) -> Result<bool, TestCaseError> {
    let owned = codec::decode_envelope(bytes);
    let borrowed = codec::decode_envelope_ref(bytes).map(|r| r.to_owned());
    match (&owned, &borrowed) {
        (Ok(a), Ok(b)) => {
            prop_assert_eq!(a, b);
            let again = codec::decode_envelope(&codec::encode_envelope(a));
            prop_assert_eq!(again.as_ref(), Ok(a));
            Ok(true)
        }
        (Err(a), Err(_)) => {
            prop_assert!(!a.is_empty());
            Ok(false)
        }
        _ => Err(TestCaseError::fail(format!(
            "decoders disagree: owned {:?}, borrowed {:?}",
            owned.map(|_| ()),
            borrowed.map(|_| ())
        ))),
    }
}

#[test]
fn envelope_decoders_survive_hostile_bytes() {
    let strategy = (
        envelope(),
        proptest::collection::vec(mutation(), 0..6),
        proptest::collection::vec(any::<u8>(), 0..200),
        0u8..4,
    );
    let (inputs, decoded) = (Cell::new(0u64), Cell::new(0u64));
    let started = Instant::now();
    runner()
        .run(&strategy, |(env, ms, raw, mode)| {
            let bytes = if mode == 0 {
                raw
            } else {
                let mut b = codec::encode_envelope(&env);
                mutate(&mut b, &ms);
                b
            };
            inputs.set(inputs.get() + 1);
            decoded.set(decoded.get() + u64::from(check_envelope_bytes(&bytes)?));
            Ok(())
        })
        .unwrap();
    println!(
        "fuzz_decode[envelope]: {} inputs, {} decoded, {:.1?}",
        inputs.get(),
        decoded.get(),
        started.elapsed()
    );
}

/// A huge length prefix at every offset of a real envelope: each decode
/// fails (or succeeds) quickly, so no prefix is trusted for an allocation
/// or a read. And the payload's own prefix claiming more than
/// `MAX_DECODE_BYTES` is refused by the codec's limit.
#[test]
fn length_bombs_at_every_offset_are_refused_quickly() {
    let env = Envelope {
        id: uuid::Uuid::from_bytes([7; 16]),
        service: "ledger".into(),
        seq: 9,
        event_type: "Transferred".into(),
        version: 2,
        block: 1 << 40,
        causation: Some("cmd:x:1".into()),
        correlation: "op".into(),
        trace: Some(TraceContext {
            traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into(),
            tracestate: String::new(),
        }),
        payload: Vec::new(),
    };
    let good = codec::encode_envelope(&env);
    let started = Instant::now();
    let mut tried = 0;
    for at in 0..=good.len() {
        for which in 0..5 {
            for replace in [false, true] {
                let mut b = good.clone();
                let end = if replace { (at + 1).min(b.len()) } else { at };
                b.splice(at..end, bomb(which));
                let one = Instant::now();
                let _ = codec::decode_envelope(&b);
                let _ = codec::decode_envelope_ref(&b);
                assert!(
                    one.elapsed() < Duration::from_secs(1),
                    "slow at {at}/{which}"
                );
                tried += 1;
            }
        }
    }
    // The payload is the last field: its length prefix is the last byte.
    assert_eq!(*good.last().unwrap(), 0);
    for claimed in [MAX_DECODE_BYTES as u64 + 1, 1 << 32, u64::MAX] {
        let mut b = good[..good.len() - 1].to_vec();
        b.push(253);
        b.extend_from_slice(&claimed.to_le_bytes());
        b.extend_from_slice(&[0; 64]);
        // The owned decoder reads a byte sequence element by element (serde
        // preallocates at most 1 MiB whatever the prefix says), so it
        // runs out of input; the borrowed one claims the length first.
        let err = codec::decode_envelope(&b).unwrap_err();
        assert!(
            err.contains("UnexpectedEnd") || err.contains("LimitExceeded"),
            "{claimed}: {err}"
        );
        let err = codec::decode_envelope_ref(&b).unwrap_err();
        assert!(err.contains("LimitExceeded"), "{claimed}: {err}");
    }
    // A string's length is claimed against the limit before it is read
    // (the service name follows the id's 16 bytes and length byte).
    assert_eq!(
        &good[..17],
        &[16, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7]
    );
    for claimed in [
        MAX_DECODE_BYTES as u64 - 1,
        MAX_DECODE_BYTES as u64 + 1,
        u64::MAX,
    ] {
        let mut b = good[..17].to_vec();
        b.push(253);
        b.extend_from_slice(&claimed.to_le_bytes());
        b.extend_from_slice(&good[18..]);
        for err in [
            codec::decode_envelope(&b).unwrap_err(),
            codec::decode_envelope_ref(&b).map(|_| ()).unwrap_err(),
        ] {
            assert!(err.contains("LimitExceeded"), "{claimed}: {err}");
        }
    }
    println!(
        "fuzz_decode[length bombs]: {tried} inputs, {:.1?}",
        started.elapsed()
    );
}

// ------------------------------------------------------------ event payloads

/// Every `<Type>.v<N>.bin` fixture of a core: (type, version, bytes).
fn fixtures(core: &str) -> Vec<(String, u16, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates")
        .join(core)
        .join("tests/fixtures");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let Some(stem) = name.strip_suffix(".bin") else {
            continue;
        };
        let (t, v) = stem.rsplit_once(".v").unwrap();
        out.push((
            t.to_owned(),
            v.parse().unwrap(),
            std::fs::read(&path).unwrap(),
        ));
    }
    out.sort();
    assert!(!out.is_empty(), "no fixtures in {dir:?}");
    out
}

fn fuzz_events<E: VersionedEvent + std::fmt::Debug>(core: &str) {
    let fx = fixtures(core);
    let strategy = (
        any::<u32>(),
        any::<u32>(),
        0u8..8,
        proptest::collection::vec(mutation(), 0..5),
    );
    let (inputs, decoded) = (Cell::new(0u64), Cell::new(0u64));
    let started = Instant::now();
    runner()
        .run(&strategy, |(bytes_of, read_as, mode, ms)| {
            let (_, _, bytes) = &fx[bytes_of as usize % fx.len()];
            // Mostly read as the fixture's own type; sometimes as another
            // type, a future version, or a type nobody wrote.
            let (t, v) = match mode {
                0 => ("NoSuchEvent".to_owned(), 1),
                1 => {
                    let (t, v, _) = &fx[read_as as usize % fx.len()];
                    (t.clone(), *v)
                }
                2 => {
                    let (t, v, _) = &fx[bytes_of as usize % fx.len()];
                    (t.clone(), v.saturating_add(100))
                }
                _ => {
                    let (t, v, _) = &fx[bytes_of as usize % fx.len()];
                    (t.clone(), *v)
                }
            };
            let mut bytes = bytes.clone();
            mutate(&mut bytes, &ms);
            inputs.set(inputs.get() + 1);
            match E::decode_payload(&t, v, &bytes) {
                Ok(e) => {
                    decoded.set(decoded.get() + 1);
                    prop_assert_eq!(e.event_type(), t.as_str());
                    let current = e.encode_payload();
                    let again = E::decode_payload(e.event_type(), e.version(), &current)
                        .map_err(|err| TestCaseError::fail(format!("{e:?}: {err}")))?;
                    prop_assert_eq!(again.encode_payload(), current);
                }
                Err(DecodeError::UnknownType {
                    event_type,
                    version,
                }) => {
                    prop_assert_eq!((event_type, version), (t.clone(), v));
                    prop_assert!(mode <= 2, "{} v{} is in the schema", t, v);
                }
                Err(DecodeError::Malformed {
                    event_type,
                    version,
                    reason,
                }) => {
                    prop_assert_eq!((event_type, version), (t.clone(), v));
                    prop_assert!(!reason.is_empty());
                }
            }
            Ok(())
        })
        .unwrap();
    println!(
        "fuzz_decode[{core} events]: {} inputs, {} decoded, {:.1?}",
        inputs.get(),
        decoded.get(),
        started.elapsed()
    );
}

#[test]
fn ledger_event_payloads_survive_hostile_bytes() {
    fuzz_events::<ledger_core::LedgerEvent>("ledger-core");
}

#[test]
fn amm_event_payloads_survive_hostile_bytes() {
    fuzz_events::<amm_core::AmmEvent>("amm-core");
}

#[test]
fn consensus_event_payloads_survive_hostile_bytes() {
    fuzz_events::<consensus_core::ConsensusEvent>("consensus-core");
}

#[test]
fn governance_event_payloads_survive_hostile_bytes() {
    fuzz_events::<governance_core::GovernanceEvent>("governance-core");
}

// ------------------------------------------------------------ signed commands

const SHELL_CODES: [&str; 4] = ["Oversized", "Malformed", "BadSignature", "BadOrigin"];

fn key(i: u8) -> Keypair {
    Keypair::from_seed(&[i; 32])
}

/// A signed payload of `command` by key `k` with command id `id`.
fn payload<T: serde::Serialize>(k: u8, id: &str, command: &T) -> Vec<u8> {
    let body = keys::CommandBody {
        client: "fuzz".into(),
        id: id.into(),
        command,
    };
    Signed::seal(&key(k), &body).unwrap().to_bytes().unwrap()
}

/// The signer and body a payload carries, if it parses.
fn signed_content(bytes: &[u8]) -> Option<(AccountId, String)> {
    Signed::from_bytes(bytes).ok().map(|s| (s.signer, s.body))
}

fn fuzz_wire<S: Service>(name: &str, commands: Vec<Vec<u8>>)
where
    Cmd<S>: PartialEq + std::fmt::Debug,
{
    let trusted: BTreeSet<AccountId> = [key(1).public()].into();
    let strategy = proptest::collection::vec(
        (
            any::<u32>(),
            0u8..6,
            proptest::collection::vec(mutation(), 0..4),
            proptest::collection::vec(any::<u8>(), 0..64),
        ),
        1..6,
    );
    let (inputs, admitted) = (Cell::new(0u64), Cell::new(0u64));
    let started = Instant::now();
    runner()
        .run(&strategy, |items| {
            let mut payloads = Vec::new();
            for (pick, mode, ms, raw) in &items {
                let original = &commands[*pick as usize % commands.len()];
                let bytes = match mode {
                    0 => raw.clone(),
                    1 | 2 => original.clone(),
                    _ => {
                        let mut b = original.clone();
                        mutate(&mut b, ms);
                        b
                    }
                };
                payloads.push((bytes, original.clone()));
            }
            let wire: Vec<bytes::Bytes> = payloads
                .iter()
                .map(|(b, _)| bytes::Bytes::copy_from_slice(b))
                .collect();
            for trust in [None, Some(&trusted)] {
                let batch = shell::admit_payloads::<S>(&wire, trust);
                prop_assert_eq!(batch.len(), wire.len());
                for (i, outcome) in batch.iter().enumerate() {
                    inputs.set(inputs.get() + 1);
                    let alone = shell::admit_payloads::<S>(&wire[i..=i], trust);
                    prop_assert_eq!(&alone[0], outcome, "a batch changed an outcome");
                    let (bytes, original) = &payloads[i];
                    match outcome {
                        Ok(_) => {
                            admitted.set(admitted.get() + 1);
                            // Only what was signed gets in: the same signer
                            // and the same body bytes as a real payload.
                            prop_assert_eq!(
                                signed_content(bytes),
                                signed_content(original),
                                "a forged payload was admitted"
                            );
                            let clean = shell::admit_payloads::<S>(
                                &[bytes::Bytes::copy_from_slice(original)],
                                trust,
                            );
                            prop_assert_eq!(&clean[0], outcome);
                        }
                        Err(Reply::Rejected { code, .. }) => {
                            prop_assert!(SHELL_CODES.contains(&code.as_str()), "{}", code);
                        }
                        Err(other) => {
                            return Err(TestCaseError::fail(format!("not a refusal: {other:?}")))
                        }
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    // Too big is refused by size before anything is parsed.
    let big = vec![b' '; shell::MAX_COMMAND_BYTES + 1];
    let r = shell::admit_payloads::<S>(&[bytes::Bytes::from(big)], None);
    assert!(matches!(&r[0], Err(Reply::Rejected { code, .. }) if code == "Oversized"));
    assert!(admitted.get() > 0, "{name}: nothing admitted");
    println!(
        "fuzz_decode[{name} wire]: {} payload outcomes, {} admitted, {:.1?}",
        inputs.get(),
        admitted.get(),
        started.elapsed()
    );
}

#[test]
fn ledger_wire_survives_hostile_payloads() {
    use ledger_core::CommandBody as C;
    let to = key(2).public();
    fuzz_wire::<ledger::LedgerService>(
        "ledger",
        vec![
            payload(
                1,
                "t1",
                &C::Transfer {
                    to,
                    amount: 5,
                    keep_alive: true,
                },
            ),
            payload(
                3,
                "a1",
                &C::AdvanceBlocks {
                    n: 1,
                    timestamp_ms: 1,
                    block_time_ms: 1,
                },
            ),
            payload(1, &"x".repeat(128), &C::RefundStake { op: "op".into() }),
        ],
    );
}

#[test]
fn amm_wire_survives_hostile_payloads() {
    use amm_core::CommandBody as C;
    fuzz_wire::<amm::AmmService>(
        "amm",
        vec![
            payload(
                2,
                "s1",
                &C::AddStake {
                    op: "s1".into(),
                    hotkey: key(4).public(),
                    netuid: 1,
                    amount: 1_000_000_000,
                    limit_price: None,
                    allow_partial: false,
                },
            ),
            payload(
                1,
                "c1",
                &C::ClaimRoot {
                    op: "c1".into(),
                    netuids: vec![1, 2, 3],
                },
            ),
        ],
    );
}

#[test]
fn consensus_wire_survives_hostile_payloads() {
    use consensus_core::CommandBody as C;
    fuzz_wire::<consensus::ConsensusService>(
        "consensus",
        vec![
            payload(
                2,
                "w1",
                &C::SetWeights {
                    netuid: 1,
                    uids: vec![0, 1, 2],
                    values: vec![1, 2, 3],
                    version_key: 0,
                },
            ),
            payload(1, "e1", &C::TriggerEpoch { netuid: 1 }),
        ],
    );
}

#[test]
fn governance_wire_survives_hostile_payloads() {
    use governance_core::CommandBody as C;
    fuzz_wire::<governance::GovernanceService>(
        "governance",
        vec![
            payload(
                2,
                "n1",
                &C::RegisterNetwork {
                    op: "n1".into(),
                    hotkey: key(5).public(),
                    identity: None,
                    max_lock_cost: Some(1),
                },
            ),
            payload(
                1,
                "v1",
                &C::Vote {
                    hotkey: key(5).public(),
                    id: 0,
                    approve: true,
                },
            ),
        ],
    );
}
