//! Property: any sequence of operations (appends that are fine, stale, ahead
//! of the log or malformed; standalone checkpoints; snapshots) gets the same
//! answer from both stores and leaves them with identical contents.

use envelope::Envelope;
use proptest::prelude::*;
use store::conformance::event;
use store::mem::MemStore;
use store::sled_store::SledStore;
use store::{Batch, EventStore, Snapshot};

const NAMES: [&str; 3] = ["inbox:ledger", "inbox:amm", "published"];
const KEYS: [&[u8]; 3] = [b"cmd:a", b"cmd:b", b"cmd:c"];

#[derive(Clone, Debug)]
enum Op {
    Append {
        /// Added to the current last seq (saturating at 0): 0 is a correct
        /// writer, others are stale or ahead.
        skew: i8,
        events: u8,
        /// Breaks the numbering of one event, if any.
        corrupt: Option<u8>,
        checkpoints: Vec<(usize, u64)>,
        dedup: Vec<(usize, u8)>,
    },
    SetCheckpoint(usize, u64),
    Snapshot(u64, Vec<u8>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (
            prop_oneof![4 => Just(0i8), 1 => -3i8..=3],
            0u8..5,
            prop::option::weighted(0.15, 0u8..5),
            prop::collection::vec((0..NAMES.len(), 0u64..100), 0..3),
            prop::collection::vec((0..KEYS.len(), any::<u8>()), 0..3),
        )
            .prop_map(|(skew, events, corrupt, checkpoints, dedup)| Op::Append {
                skew,
                events,
                corrupt,
                checkpoints,
                dedup,
            }),
        1 => (0..NAMES.len(), any::<u64>()).prop_map(|(n, v)| Op::SetCheckpoint(n, v)),
        1 => (0u64..50, prop::collection::vec(any::<u8>(), 0..16))
            .prop_map(|(s, st)| Op::Snapshot(s, st)),
    ]
}

/// Builds the concrete batch once so both stores get identical envelopes.
fn batch(last: u64, skew: i8, events: u8, corrupt: Option<u8>) -> Batch {
    let expected = last.saturating_add_signed(skew.into());
    let mut evs: Vec<_> = (1..=u64::from(events))
        .map(|i| event(expected + i))
        .collect();
    if let Some(i) = corrupt {
        if let Some(e) = evs.get_mut(usize::from(i)) {
            e.seq += 7;
        }
    }
    Batch {
        expected_last_seq: expected,
        events: evs,
        ..Batch::default()
    }
}

/// Everything a store holds that the ops can reach.
#[derive(Debug, PartialEq)]
struct Contents {
    last_seq: u64,
    events: Vec<Envelope>,
    raw: Vec<Vec<u8>>,
    checkpoints: Vec<Option<u64>>,
    dedup: Vec<Option<Vec<u8>>>,
    snapshot: Option<Snapshot>,
}

fn contents<S: EventStore>(store: &S) -> Contents {
    let events: Vec<_> = store.iter_from(0).collect::<Result<Vec<_>, _>>().unwrap();
    let raw: Vec<_> = store
        .iter_raw_from(0)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let checkpoints: Vec<_> = NAMES.iter().map(|n| store.checkpoint(n).unwrap()).collect();
    let dedup: Vec<_> = KEYS.iter().map(|k| store.dedup(k).unwrap()).collect();
    Contents {
        last_seq: store.last_seq().unwrap(),
        events,
        raw,
        checkpoints,
        dedup,
        snapshot: store.load_snapshot().unwrap(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn mem_and_sled_agree(ops in prop::collection::vec(op(), 1..40)) {
        let mem = MemStore::new();
        let sled = SledStore::temporary().unwrap();
        for op in ops {
            match op {
                Op::Append { skew, events, corrupt, checkpoints, dedup } => {
                    let mut b = batch(mem.last_seq().unwrap(), skew, events, corrupt);
                    b.checkpoints = checkpoints.iter().map(|&(n, v)| (NAMES[n].to_owned(), v)).collect();
                    b.dedup = dedup.iter().map(|&(k, v)| (KEYS[k].to_vec(), vec![v])).collect();
                    let (m, s) = (mem.append(b.clone()), sled.append(b.clone()));
                    prop_assert_eq!(&m, &s, "append {:?}", b);
                }
                Op::SetCheckpoint(n, v) => {
                    prop_assert_eq!(mem.set_checkpoint(NAMES[n], v), sled.set_checkpoint(NAMES[n], v));
                }
                Op::Snapshot(seq, state) => {
                    let snap = Snapshot { seq, state };
                    prop_assert_eq!(mem.save_snapshot(&snap), sled.save_snapshot(&snap));
                }
            }
            prop_assert_eq!(mem.last_seq(), sled.last_seq());
        }
        prop_assert_eq!(contents(&mem), contents(&sled));
    }
}
