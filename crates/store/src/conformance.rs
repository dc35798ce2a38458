//! The conformance suite every [`EventStore`] must pass, so that the
//! in-memory store cannot quietly differ from the sled one (see the style
//! guide, "one conformance suite per trait").
//!
//! Each check takes a fresh, empty store and panics with a message naming
//! the check on the first failure. [`run_all`] runs every check on its own
//! fresh store; [`checks`] lists them by name so a test file can run each as
//! its own `#[test]`. [`reopen_preserves_everything`] is separate because
//! only a persistent store can pass it.
//!
//! Compiled into the library (not `cfg(test)`) so other crates' tests can run
//! it against stores they wrap or configure.

use std::sync::Barrier;
use std::thread;

use envelope::{codec, Envelope, TraceContext};

use crate::{Batch, EventStore, Snapshot, StoreError};

/// A check: gets a fresh empty store, panics on failure.
pub type Check<S> = fn(&S);

/// Every generic check, by name, in the order [`run_all`] runs them.
pub fn checks<S: EventStore>() -> Vec<(&'static str, Check<S>)> {
    vec![
        ("empty_store", empty_store::<S>),
        ("append_read_round_trip", append_read_round_trip::<S>),
        ("read_from_position", read_from_position::<S>),
        ("read_respects_max", read_respects_max::<S>),
        ("iter_from_position", iter_from_position::<S>),
        (
            "iter_raw_from_decodes_to_same",
            iter_raw_from_decodes_to_same::<S>,
        ),
        (
            "for_each_raw_from_lends_the_same",
            for_each_raw_from_lends_the_same::<S>,
        ),
        ("stale_writer_conflicts", stale_writer_conflicts::<S>),
        ("invalid_batch_rejected", invalid_batch_rejected::<S>),
        ("multi_event_append_atomic", multi_event_append_atomic::<S>),
        ("checkpoints_in_batch", checkpoints_in_batch::<S>),
        ("dedup_in_batch", dedup_in_batch::<S>),
        ("journal_in_batch", journal_in_batch::<S>),
        ("metadata_only_batch", metadata_only_batch::<S>),
        ("set_checkpoint_standalone", set_checkpoint_standalone::<S>),
        (
            "snapshots_save_load_replace",
            snapshots_save_load_replace::<S>,
        ),
        ("racing_appends_one_wins", racing_appends_one_wins::<S>),
        (
            "contending_writers_stay_gap_free",
            contending_writers_stay_gap_free::<S>,
        ),
    ]
}

/// Runs every check in [`checks`], each on a store fresh from `make`.
pub fn run_all<S: EventStore>(make: impl Fn() -> S) {
    for (_name, check) in checks::<S>() {
        check(&make());
    }
}

// ---- builders -------------------------------------------------------------

/// A plausible envelope at `seq` with a fresh id.
pub fn event(seq: u64) -> Envelope {
    event_tagged(seq, "conformance")
}

/// An envelope at `seq` whose correlation and payload carry `tag`, so a test
/// can tell which writer's event landed.
pub fn event_tagged(seq: u64, tag: &str) -> Envelope {
    Envelope {
        id: uuid::Uuid::now_v7(),
        service: "conformance".into(),
        seq,
        event_type: "Tested".into(),
        version: 1,
        block: seq * 12,
        causation: Some(format!("cmd:{tag}:{seq}")),
        correlation: tag.into(),
        trace: Some(TraceContext {
            traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into(),
            tracestate: String::new(),
        }),
        payload: codec::encode(&(tag, seq)),
    }
}

/// `n` events numbered `first ..`.
pub fn events(first: u64, n: u64) -> Vec<Envelope> {
    (first..first + n).map(event).collect()
}

/// A well-formed batch of `n` events decided against `expected_last_seq`.
pub fn batch(expected_last_seq: u64, n: u64) -> Batch {
    Batch {
        expected_last_seq,
        events: events(expected_last_seq + 1, n),
        ..Batch::default()
    }
}

// ---- small helpers ----------------------------------------------------------

fn append_ok<S: EventStore>(check: &str, store: &S, batch: Batch) -> u64 {
    let want = batch.expected_last_seq + batch.events.len() as u64;
    match store.append(batch) {
        Ok(seq) => {
            assert_eq!(seq, want, "[{check}] append returned the wrong last seq");
            seq
        }
        Err(e) => panic!("[{check}] append failed: {e}"),
    }
}

fn all<S: EventStore>(check: &str, store: &S) -> Vec<Envelope> {
    store
        .iter_from(0)
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("[{check}] iter_from failed: {e}"))
}

fn last<S: EventStore>(check: &str, store: &S) -> u64 {
    store
        .last_seq()
        .unwrap_or_else(|e| panic!("[{check}] last_seq failed: {e}"))
}

fn checkpoint<S: EventStore>(check: &str, store: &S, name: &str) -> Option<u64> {
    store
        .checkpoint(name)
        .unwrap_or_else(|e| panic!("[{check}] checkpoint({name}) failed: {e}"))
}

fn dedup<S: EventStore>(check: &str, store: &S, key: &[u8]) -> Option<Vec<u8>> {
    store
        .dedup(key)
        .unwrap_or_else(|e| panic!("[{check}] dedup({key:?}) failed: {e}"))
}

// ---- checks -------------------------------------------------------------------

/// An empty store: last seq 0, no events, no metadata.
pub fn empty_store<S: EventStore>(store: &S) {
    let c = "empty_store";
    assert_eq!(last(c, store), 0, "[{c}] last_seq of an empty store");
    assert_eq!(store.read(0, 10), Ok(vec![]), "[{c}] read");
    assert_eq!(store.read(1, 10), Ok(vec![]), "[{c}] read");
    assert!(store.iter_from(1).next().is_none(), "[{c}] iter_from");
    assert!(
        store.iter_raw_from(1).next().is_none(),
        "[{c}] iter_raw_from"
    );
    assert_eq!(
        checkpoint(c, store, "inbox:ledger"),
        None,
        "[{c}] checkpoint"
    );
    assert_eq!(dedup(c, store, b"cmd"), None, "[{c}] dedup");
    assert_eq!(store.load_snapshot(), Ok(None), "[{c}] snapshot");
    assert_eq!(store.flush(), Ok(()), "[{c}] flush");
}

/// What goes in comes out, equal field for field, in order.
pub fn append_read_round_trip<S: EventStore>(store: &S) {
    let c = "append_read_round_trip";
    let b = batch(0, 3);
    let written = b.events.clone();
    append_ok(c, store, b);
    assert_eq!(last(c, store), 3, "[{c}] last_seq");
    assert_eq!(store.read(1, 100), Ok(written.clone()), "[{c}] read");
    assert_eq!(all(c, store), written, "[{c}] iter_from");
    let b = batch(3, 2);
    let mut written = written;
    written.extend(b.events.clone());
    append_ok(c, store, b);
    assert_eq!(
        store.read(1, 100),
        Ok(written),
        "[{c}] read after 2nd append"
    );
}

/// `read(from, ..)` starts at `from` inclusive; past the end is empty; 0 is
/// the start.
pub fn read_from_position<S: EventStore>(store: &S) {
    let c = "read_from_position";
    let (a, b) = (batch(0, 2), batch(2, 3));
    let written: Vec<_> = a.events.iter().chain(&b.events).cloned().collect();
    append_ok(c, store, a);
    append_ok(c, store, b);
    assert_eq!(store.read(0, 100), Ok(written.clone()), "[{c}] from 0");
    assert_eq!(
        store.read(3, 100),
        Ok(written[2..].to_vec()),
        "[{c}] from 3"
    );
    assert_eq!(
        store.read(5, 100),
        Ok(written[4..].to_vec()),
        "[{c}] from 5"
    );
    assert_eq!(store.read(6, 100), Ok(vec![]), "[{c}] from past the end");
    assert_eq!(store.read(u64::MAX, 100), Ok(vec![]), "[{c}] from u64::MAX");
}

/// `read` returns at most `max` events.
pub fn read_respects_max<S: EventStore>(store: &S) {
    let c = "read_respects_max";
    let b = batch(0, 5);
    let written = b.events.clone();
    append_ok(c, store, b);
    assert_eq!(store.read(1, 2), Ok(written[..2].to_vec()), "[{c}] max 2");
    assert_eq!(store.read(2, 0), Ok(vec![]), "[{c}] max 0");
    assert_eq!(store.read(4, 10), Ok(written[3..].to_vec()), "[{c}] tail");
    assert_eq!(store.read(1, usize::MAX), Ok(written), "[{c}] max usize");
}

/// `iter_from` yields the log from a position to the end.
pub fn iter_from_position<S: EventStore>(store: &S) {
    let c = "iter_from_position";
    let b = batch(0, 6);
    let written = b.events.clone();
    append_ok(c, store, b);
    let from = |seq| -> Vec<Envelope> {
        store
            .iter_from(seq)
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("[{c}] iter_from({seq}): {e}"))
    };
    assert_eq!(from(1), written, "[{c}] from 1");
    assert_eq!(from(4), written[3..].to_vec(), "[{c}] from 4");
    assert_eq!(from(7), vec![], "[{c}] past the end");
    let seqs: Vec<u64> = from(0).iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=6).collect::<Vec<_>>(), "[{c}] order");
}

/// Raw bytes are the codec's encoding of the same envelopes.
pub fn iter_raw_from_decodes_to_same<S: EventStore>(store: &S) {
    let c = "iter_raw_from_decodes_to_same";
    append_ok(c, store, batch(0, 4));
    append_ok(c, store, batch(4, 3));
    for from in [0, 1, 3, 7, 8] {
        let decoded: Vec<Envelope> = store
            .iter_raw_from(from)
            .map(|raw| {
                let raw = raw.unwrap_or_else(|e| panic!("[{c}] iter_raw_from: {e}"));
                codec::decode_envelope(&raw).unwrap_or_else(|e| panic!("[{c}] decode: {e}"))
            })
            .collect();
        let envelopes: Vec<Envelope> = store
            .iter_from(from)
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("[{c}] iter_from: {e}"));
        assert_eq!(decoded, envelopes, "[{c}] from {from}");
    }
}

/// `for_each_raw_from` lends exactly the bytes `iter_raw_from` yields, in
/// order, and stops when the callback says so.
pub fn for_each_raw_from_lends_the_same<S: EventStore>(store: &S) {
    let c = "for_each_raw_from_lends_the_same";
    append_ok(c, store, batch(0, 4));
    append_ok(c, store, batch(4, 3));
    for from in [0, 1, 3, 7, 8] {
        let mut lent = Vec::new();
        store
            .for_each_raw_from(from, &mut |raw| {
                lent.push(raw.to_vec());
                true
            })
            .unwrap_or_else(|e| panic!("[{c}] for_each_raw_from: {e}"));
        let copied: Vec<Vec<u8>> = store
            .iter_raw_from(from)
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("[{c}] iter_raw_from: {e}"));
        assert_eq!(lent, copied, "[{c}] from {from}");
    }
    let mut seen = 0;
    store
        .for_each_raw_from(1, &mut |_| {
            seen += 1;
            seen < 2
        })
        .unwrap_or_else(|e| panic!("[{c}] for_each_raw_from: {e}"));
    assert_eq!(seen, 2, "[{c}] stops when told");
}

/// A batch decided against a stale (or future) position is a typed
/// conflict, and none of it is written.
pub fn stale_writer_conflicts<S: EventStore>(store: &S) {
    let c = "stale_writer_conflicts";
    let first = batch(0, 2);
    let written = first.events.clone();
    append_ok(c, store, first);

    let mut stale = batch(0, 3);
    stale.checkpoints.push(("inbox:stale".into(), 9));
    stale.dedup.push((b"cmd:stale".to_vec(), b"ok".to_vec()));
    assert_eq!(
        store.append(stale),
        Err(StoreError::Conflict {
            expected: 0,
            actual: 2
        }),
        "[{c}] stale writer"
    );
    let mut ahead = batch(5, 1);
    ahead.checkpoints.push(("inbox:stale".into(), 9));
    assert_eq!(
        store.append(ahead),
        Err(StoreError::Conflict {
            expected: 5,
            actual: 2
        }),
        "[{c}] writer ahead of the log"
    );
    assert_eq!(last(c, store), 2, "[{c}] last_seq moved");
    assert_eq!(all(c, store), written, "[{c}] events changed");
    assert_eq!(
        checkpoint(c, store, "inbox:stale"),
        None,
        "[{c}] checkpoint"
    );
    assert_eq!(dedup(c, store, b"cmd:stale"), None, "[{c}] dedup");
    // The writer that re-reads the position succeeds.
    append_ok(c, store, batch(2, 1));
}

/// Batches whose events are not `expected + 1, + 2, ...` are rejected as
/// invalid (before the conflict check), and none of it is written.
pub fn invalid_batch_rejected<S: EventStore>(store: &S) {
    let c = "invalid_batch_rejected";
    append_ok(c, store, batch(0, 1));
    let invalid = |expected, seqs: &[u64]| Batch {
        expected_last_seq: expected,
        events: seqs.iter().copied().map(event).collect(),
        checkpoints: vec![("inbox:invalid".into(), 1)],
        dedup: vec![(b"cmd:invalid".to_vec(), b"ok".to_vec())],
        journal: vec![b"refused".to_vec()],
    };
    let cases: [(&str, Batch); 6] = [
        ("gap", invalid(1, &[2, 4])),
        ("wrong start", invalid(1, &[3, 4])),
        ("reuses last seq", invalid(1, &[1, 2])),
        ("wrong order", invalid(1, &[3, 2])),
        ("duplicate", invalid(1, &[2, 2])),
        // Invalid and stale at once: invalid wins, a retry would not help.
        ("invalid and stale", invalid(0, &[5])),
    ];
    for (what, b) in cases {
        match store.append(b) {
            Err(StoreError::InvalidBatch(_)) => {}
            other => panic!("[{c}] {what}: expected InvalidBatch, got {other:?}"),
        }
    }
    assert_eq!(last(c, store), 1, "[{c}] last_seq moved");
    assert_eq!(all(c, store).len(), 1, "[{c}] events written");
    assert_eq!(
        checkpoint(c, store, "inbox:invalid"),
        None,
        "[{c}] checkpoint"
    );
    assert_eq!(dedup(c, store, b"cmd:invalid"), None, "[{c}] dedup");
    assert_eq!(store.journal_len(), Ok(0), "[{c}] journal written");
}

/// A multi-event batch lands whole; a rejected one lands not at all.
pub fn multi_event_append_atomic<S: EventStore>(store: &S) {
    let c = "multi_event_append_atomic";
    let b = batch(0, 10);
    let written = b.events.clone();
    append_ok(c, store, b);
    assert_eq!(all(c, store), written, "[{c}] all 10 events");
    assert_eq!(
        store.append(batch(3, 10)),
        Err(StoreError::Conflict {
            expected: 3,
            actual: 10
        }),
        "[{c}] conflicting 10-event batch"
    );
    let mut broken = batch(10, 10);
    broken.events[9].seq = 99;
    assert!(
        matches!(store.append(broken), Err(StoreError::InvalidBatch(_))),
        "[{c}] batch broken at its last event"
    );
    assert_eq!(all(c, store), written, "[{c}] partial write");
    assert_eq!(last(c, store), 10, "[{c}] last_seq");
}

/// Checkpoints in a batch are written with its events, updated by later
/// batches, and untouched by a conflicting one.
pub fn checkpoints_in_batch<S: EventStore>(store: &S) {
    let c = "checkpoints_in_batch";
    let mut b = batch(0, 2);
    b.checkpoints = vec![("inbox:ledger".into(), 7), ("inbox:amm".into(), 3)];
    append_ok(c, store, b);
    assert_eq!(
        checkpoint(c, store, "inbox:ledger"),
        Some(7),
        "[{c}] ledger"
    );
    assert_eq!(checkpoint(c, store, "inbox:amm"), Some(3), "[{c}] amm");
    assert_eq!(checkpoint(c, store, "inbox:other"), None, "[{c}] other");

    let mut b = batch(2, 1);
    b.checkpoints = vec![("inbox:ledger".into(), 8)];
    append_ok(c, store, b);
    assert_eq!(
        checkpoint(c, store, "inbox:ledger"),
        Some(8),
        "[{c}] update"
    );
    assert_eq!(checkpoint(c, store, "inbox:amm"), Some(3), "[{c}] kept");

    let mut stale = batch(2, 1);
    stale.checkpoints = vec![("inbox:ledger".into(), 100), ("inbox:new".into(), 1)];
    assert!(
        matches!(store.append(stale), Err(StoreError::Conflict { .. })),
        "[{c}] stale batch"
    );
    assert_eq!(
        checkpoint(c, store, "inbox:ledger"),
        Some(8),
        "[{c}] conflict wrote"
    );
    assert_eq!(
        checkpoint(c, store, "inbox:new"),
        None,
        "[{c}] conflict wrote"
    );

    // Within one batch the last value for a name wins.
    let mut b = batch(3, 0);
    b.checkpoints = vec![("inbox:ledger".into(), 20), ("inbox:ledger".into(), 21)];
    append_ok(c, store, b);
    assert_eq!(
        checkpoint(c, store, "inbox:ledger"),
        Some(21),
        "[{c}] last wins"
    );
}

/// Idempotency records in a batch are written with its events and untouched
/// by a conflicting one.
pub fn dedup_in_batch<S: EventStore>(store: &S) {
    let c = "dedup_in_batch";
    let mut b = batch(0, 1);
    b.dedup = vec![
        (b"cmd:alice:1".to_vec(), b"accepted".to_vec()),
        (b"cmd:bob:1".to_vec(), vec![]),
    ];
    append_ok(c, store, b);
    assert_eq!(
        dedup(c, store, b"cmd:alice:1"),
        Some(b"accepted".to_vec()),
        "[{c}] alice"
    );
    assert_eq!(
        dedup(c, store, b"cmd:bob:1"),
        Some(vec![]),
        "[{c}] empty value"
    );
    assert_eq!(dedup(c, store, b"cmd:carol:1"), None, "[{c}] absent");

    let mut stale = batch(0, 1);
    stale.dedup = vec![
        (b"cmd:alice:1".to_vec(), b"rejected".to_vec()),
        (b"cmd:carol:1".to_vec(), b"accepted".to_vec()),
    ];
    assert!(
        matches!(store.append(stale), Err(StoreError::Conflict { .. })),
        "[{c}] stale batch"
    );
    assert_eq!(
        dedup(c, store, b"cmd:alice:1"),
        Some(b"accepted".to_vec()),
        "[{c}] conflict overwrote"
    );
    assert_eq!(
        dedup(c, store, b"cmd:carol:1"),
        None,
        "[{c}] conflict wrote"
    );

    let mut b = batch(1, 1);
    b.dedup = vec![(b"cmd:alice:1".to_vec(), b"replaced".to_vec())];
    append_ok(c, store, b);
    assert_eq!(
        dedup(c, store, b"cmd:alice:1"),
        Some(b"replaced".to_vec()),
        "[{c}] update"
    );
}

/// A batch without events (metadata only, or nothing) is allowed and still
/// checked against the log position.
pub fn metadata_only_batch<S: EventStore>(store: &S) {
    let c = "metadata_only_batch";
    append_ok(c, store, batch(0, 2));
    let meta = |expected| Batch {
        expected_last_seq: expected,
        events: vec![],
        checkpoints: vec![("published".into(), 2)],
        dedup: vec![(b"cmd:noop".to_vec(), b"duplicate".to_vec())],
        journal: vec![],
    };
    assert_eq!(
        store.append(meta(1)),
        Err(StoreError::Conflict {
            expected: 1,
            actual: 2
        }),
        "[{c}] stale metadata batch"
    );
    assert_eq!(
        checkpoint(c, store, "published"),
        None,
        "[{c}] conflict wrote"
    );
    assert_eq!(dedup(c, store, b"cmd:noop"), None, "[{c}] conflict wrote");

    assert_eq!(store.append(meta(2)), Ok(2), "[{c}] metadata batch");
    assert_eq!(last(c, store), 2, "[{c}] last_seq moved");
    assert_eq!(
        checkpoint(c, store, "published"),
        Some(2),
        "[{c}] checkpoint"
    );
    assert_eq!(
        dedup(c, store, b"cmd:noop"),
        Some(b"duplicate".to_vec()),
        "[{c}] dedup"
    );
    assert_eq!(
        store.append(Batch::default()),
        Err(StoreError::Conflict {
            expected: 0,
            actual: 2
        }),
        "[{c}] empty batch is checked too"
    );
    assert_eq!(
        store.append(Batch {
            expected_last_seq: 2,
            ..Batch::default()
        }),
        Ok(2),
        "[{c}] empty batch"
    );
}

/// Journal records land with their batch, numbered on from the last one;
/// a batch that conflicts writes none; a journal-only batch (refused
/// commands) leaves the log where it was; reading pages by number.
pub fn journal_in_batch<S: EventStore>(store: &S) {
    let c = "journal_in_batch";
    assert_eq!(store.journal_len(), Ok(0), "[{c}] empty journal");
    assert_eq!(
        store.journal(0, 10),
        Ok(vec![]),
        "[{c}] empty journal reads"
    );
    let mut a = batch(0, 2);
    a.journal = vec![b"one".to_vec(), b"two".to_vec()];
    append_ok(c, store, a);
    let mut stale = batch(0, 1);
    stale.journal = vec![b"lost".to_vec()];
    assert!(
        matches!(store.append(stale), Err(StoreError::Conflict { .. })),
        "[{c}] stale batch"
    );
    let refused = Batch {
        expected_last_seq: 2,
        journal: vec![b"three".to_vec()],
        ..Batch::default()
    };
    assert_eq!(store.append(refused), Ok(2), "[{c}] journal-only batch");
    assert_eq!(last(c, store), 2, "[{c}] journal moved the log");
    assert_eq!(store.journal_len(), Ok(3), "[{c}] journal length");
    let want: Vec<(u64, Vec<u8>)> = vec![
        (1, b"one".to_vec()),
        (2, b"two".to_vec()),
        (3, b"three".to_vec()),
    ];
    assert_eq!(store.journal(0, 10).unwrap(), want, "[{c}] from 0");
    assert_eq!(store.journal(1, 10).unwrap(), want, "[{c}] from 1");
    assert_eq!(store.journal(2, 1).unwrap(), want[1..2], "[{c}] page");
    assert_eq!(store.journal(4, 10).unwrap(), vec![], "[{c}] past the end");
}

/// `set_checkpoint` outside a batch: stored, overwritten, independent of the
/// log position.
pub fn set_checkpoint_standalone<S: EventStore>(store: &S) {
    let c = "set_checkpoint_standalone";
    store
        .set_checkpoint("published", 0)
        .unwrap_or_else(|e| panic!("[{c}] set_checkpoint: {e}"));
    assert_eq!(checkpoint(c, store, "published"), Some(0), "[{c}] zero");
    store.set_checkpoint("published", u64::MAX).unwrap();
    assert_eq!(
        checkpoint(c, store, "published"),
        Some(u64::MAX),
        "[{c}] max"
    );
    store.set_checkpoint("published", 5).unwrap();
    assert_eq!(
        checkpoint(c, store, "published"),
        Some(5),
        "[{c}] overwrite"
    );
    assert_eq!(last(c, store), 0, "[{c}] moved the log");
    // Batches and standalone sets write the same checkpoints.
    let mut b = batch(0, 1);
    b.checkpoints = vec![("published".into(), 1)];
    append_ok(c, store, b);
    assert_eq!(checkpoint(c, store, "published"), Some(1), "[{c}] batch");
    store.set_checkpoint("published", 6).unwrap();
    assert_eq!(
        checkpoint(c, store, "published"),
        Some(6),
        "[{c}] after batch"
    );
    assert_eq!(checkpoint(c, store, ""), None, "[{c}] empty name");
}

/// One snapshot slot: save, load, replace. A snapshot does not touch the log.
pub fn snapshots_save_load_replace<S: EventStore>(store: &S) {
    let c = "snapshots_save_load_replace";
    append_ok(c, store, batch(0, 5));
    let first = Snapshot {
        seq: 2,
        state: b"state at 2".to_vec(),
    };
    store
        .save_snapshot(&first)
        .unwrap_or_else(|e| panic!("[{c}] save: {e}"));
    assert_eq!(store.load_snapshot(), Ok(Some(first)), "[{c}] load");
    let second = Snapshot {
        seq: 5,
        state: vec![0; 10_000],
    };
    store.save_snapshot(&second).unwrap();
    assert_eq!(store.load_snapshot(), Ok(Some(second)), "[{c}] replace");
    let empty = Snapshot {
        seq: 0,
        state: vec![],
    };
    store.save_snapshot(&empty).unwrap();
    assert_eq!(store.load_snapshot(), Ok(Some(empty)), "[{c}] empty state");
    assert_eq!(last(c, store), 5, "[{c}] moved the log");
    assert_eq!(all(c, store).len(), 5, "[{c}] changed events");
}

/// Two threads append at the same expected position at the same moment:
/// exactly one wins, the other gets a typed conflict and writes nothing.
pub fn racing_appends_one_wins<S: EventStore>(store: &S) {
    let c = "racing_appends_one_wins";
    for round in 0..32u64 {
        let base = last(c, store);
        let barrier = Barrier::new(2);
        let results: Vec<(&str, Envelope, Result<u64, StoreError>)> = thread::scope(|s| {
            let handles: Vec<_> = ["a", "b"]
                .into_iter()
                .map(|tag| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        let env = event_tagged(base + 1, tag);
                        let b = Batch {
                            expected_last_seq: base,
                            events: vec![env.clone()],
                            checkpoints: vec![(format!("writer:{tag}"), round)],
                            dedup: vec![(format!("{round}:{tag}").into_bytes(), vec![1])],
                            journal: vec![tag.as_bytes().to_vec()],
                        };
                        barrier.wait();
                        (tag, env, store.append(b))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<_> = results.iter().filter(|r| r.2.is_ok()).collect();
        assert_eq!(winners.len(), 1, "[{c}] round {round}: {results:?}");
        let (win_tag, win_env, win_result) = winners[0];
        assert_eq!(*win_result, Ok(base + 1), "[{c}] round {round}: winner");
        let (lose_tag, _, lose_result) = results.iter().find(|r| r.2.is_err()).unwrap();
        assert_eq!(
            *lose_result,
            Err(StoreError::Conflict {
                expected: base,
                actual: base + 1
            }),
            "[{c}] round {round}: loser"
        );
        assert_eq!(
            store.read(base + 1, 10),
            Ok(vec![win_env.clone()]),
            "[{c}] round {round}: stored event is not the winner's"
        );
        let key = |tag: &str| format!("{round}:{tag}").into_bytes();
        assert_eq!(
            dedup(c, store, &key(win_tag)),
            Some(vec![1]),
            "[{c}] winner dedup"
        );
        assert_eq!(dedup(c, store, &key(lose_tag)), None, "[{c}] loser dedup");
        // Only the winner's journal record, under the next number.
        assert_eq!(
            store.journal(round + 1, 10),
            Ok(vec![(round + 1, win_tag.as_bytes().to_vec())]),
            "[{c}] round {round}: journal"
        );
        assert_eq!(
            checkpoint(c, store, &format!("writer:{win_tag}")),
            Some(round),
            "[{c}] winner checkpoint"
        );
    }
    assert_eq!(last(c, store), 32, "[{c}] final last_seq");
}

/// Several writers in retry loops (read position, append, retry on
/// conflict): every event lands exactly once and the log stays gap-free.
pub fn contending_writers_stay_gap_free<S: EventStore>(store: &S) {
    let c = "contending_writers_stay_gap_free";
    const WRITERS: usize = 4;
    const PER_WRITER: usize = 25;
    thread::scope(|s| {
        for w in 0..WRITERS {
            s.spawn(move || {
                let tag = format!("w{w}");
                for _ in 0..PER_WRITER {
                    loop {
                        let base = last(c, store);
                        let b = Batch {
                            expected_last_seq: base,
                            events: vec![event_tagged(base + 1, &tag)],
                            ..Batch::default()
                        };
                        match store.append(b) {
                            Ok(_) => break,
                            Err(StoreError::Conflict { .. }) => continue,
                            Err(e) => panic!("[{c}] {tag}: {e}"),
                        }
                    }
                }
            });
        }
    });
    let total = (WRITERS * PER_WRITER) as u64;
    assert_eq!(last(c, store), total, "[{c}] last_seq");
    let log = all(c, store);
    let seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=total).collect::<Vec<_>>(),
        "[{c}] gap or reorder"
    );
    for w in 0..WRITERS {
        let tag = format!("w{w}");
        let n = log.iter().filter(|e| e.correlation == tag).count();
        assert_eq!(n, PER_WRITER, "[{c}] events of {tag}");
    }
}

/// For persistent stores: everything written before a close is there after
/// reopening, and the reopened store knows its last sequence (it accepts
/// the next append and rejects a stale one). `open` must open the same
/// storage each time, and the first open must find it empty.
pub fn reopen_preserves_everything<S: EventStore>(open: impl Fn() -> S) {
    let c = "reopen_preserves_everything";
    let snapshot = Snapshot {
        seq: 3,
        state: b"three".to_vec(),
    };
    let written = {
        let store = open();
        assert_eq!(last(c, &store), 0, "[{c}] first open is not empty");
        let mut a = batch(0, 3);
        a.checkpoints = vec![("inbox:ledger".into(), 11)];
        a.dedup = vec![(b"cmd:1".to_vec(), b"ok".to_vec())];
        a.journal = vec![b"j1".to_vec(), b"j2".to_vec()];
        let b = batch(3, 2);
        let written: Vec<_> = a.events.iter().chain(&b.events).cloned().collect();
        append_ok(c, &store, a);
        append_ok(c, &store, b);
        store.set_checkpoint("published", 4).unwrap();
        store.save_snapshot(&snapshot).unwrap();
        store.flush().unwrap_or_else(|e| panic!("[{c}] flush: {e}"));
        written
    };
    for round in 0..2 {
        let store = open();
        let expected_last = 5 + round;
        assert_eq!(last(c, &store), expected_last, "[{c}] last_seq restored");
        assert_eq!(all(c, &store)[..5], written[..], "[{c}] events");
        assert_eq!(
            checkpoint(c, &store, "inbox:ledger"),
            Some(11),
            "[{c}] checkpoint"
        );
        assert_eq!(
            checkpoint(c, &store, "published"),
            Some(4),
            "[{c}] checkpoint"
        );
        assert_eq!(
            dedup(c, &store, b"cmd:1"),
            Some(b"ok".to_vec()),
            "[{c}] dedup"
        );
        assert_eq!(
            store.load_snapshot(),
            Ok(Some(snapshot.clone())),
            "[{c}] snapshot"
        );
        assert_eq!(store.journal_len(), Ok(2 + round), "[{c}] journal length");
        assert_eq!(
            store.journal(1, 2).unwrap(),
            vec![(1, b"j1".to_vec()), (2, b"j2".to_vec())],
            "[{c}] journal"
        );
        assert!(
            matches!(
                store.append(batch(expected_last - 1, 1)),
                Err(StoreError::Conflict { .. })
            ),
            "[{c}] stale append after reopen"
        );
        // Numbering goes on after a reopen.
        let mut next = batch(expected_last, 1);
        next.journal = vec![b"more".to_vec()];
        append_ok(c, &store, next);
        store.flush().unwrap();
    }
}
