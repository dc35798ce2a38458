//! A failing disk, as the runtime sees it: the store refuses an append or a
//! flush. Nothing may be acknowledged that is not in the log, memory may not
//! run ahead of the log, and a client's retry (same command id) must end
//! with exactly one effect whichever of the two failed.
//!
//! The store under test is a real `SledStore` on a temp dir, wrapped so a
//! test can make its next `append` or `flush` fail the way a full or broken
//! disk makes sled fail (`StoreError::Io`).

use aggregate::Aggregate;
use envelope::{Envelope, EventMeta};
use keys::Keypair;
use ledger_core::{Clock, Command, CommandBody as Ledger, Ledger as State, Origin};
use service_kit::runtime::replay;
use service_kit::{Outcome, Pending, Runtime};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use store::{sled_store::SledStore, Batch, EventStore, Snapshot, StoreError};
use tests::*;

const HEALTHY: u8 = 0;
const FAIL_APPEND: u8 = 1;
const FAIL_FLUSH: u8 = 2;

/// A real sled store whose next `append` or `flush` can be made to fail once.
struct FlakyDisk {
    inner: SledStore,
    next: AtomicU8,
}

impl FlakyDisk {
    fn fail_next(&self, what: u8) {
        self.next.store(what, Ordering::SeqCst);
    }
    fn take(&self, what: u8) -> bool {
        self.next
            .compare_exchange(what, HEALTHY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }
}

impl EventStore for FlakyDisk {
    fn append(&self, batch: Batch) -> Result<u64, StoreError> {
        if self.take(FAIL_APPEND) {
            return Err(StoreError::Io("No space left on device (injected)".into()));
        }
        self.inner.append(batch)
    }
    fn last_seq(&self) -> Result<u64, StoreError> {
        self.inner.last_seq()
    }
    fn read(&self, from_seq: u64, max: usize) -> Result<Vec<Envelope>, StoreError> {
        self.inner.read(from_seq, max)
    }
    fn iter_from(
        &self,
        from_seq: u64,
    ) -> Box<dyn Iterator<Item = Result<Envelope, StoreError>> + Send + '_> {
        self.inner.iter_from(from_seq)
    }
    fn iter_raw_from(
        &self,
        from_seq: u64,
    ) -> Box<dyn Iterator<Item = Result<Vec<u8>, StoreError>> + Send + '_> {
        self.inner.iter_raw_from(from_seq)
    }
    fn checkpoint(&self, name: &str) -> Result<Option<u64>, StoreError> {
        self.inner.checkpoint(name)
    }
    fn set_checkpoint(&self, name: &str, value: u64) -> Result<(), StoreError> {
        self.inner.set_checkpoint(name, value)
    }
    fn dedup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.dedup(key)
    }
    fn journal_len(&self) -> Result<u64, StoreError> {
        self.inner.journal_len()
    }
    fn journal(&self, from: u64, max: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.inner.journal(from, max)
    }
    fn save_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        self.inner.save_snapshot(snapshot)
    }
    fn load_snapshot(&self) -> Result<Option<Snapshot>, StoreError> {
        self.inner.load_snapshot()
    }
    fn flush(&self) -> Result<(), StoreError> {
        if self.take(FAIL_FLUSH) {
            return Err(StoreError::Io(
                "fsync: Input/output error (injected)".into(),
            ));
        }
        self.inner.flush()
    }
}

fn pending(c: Command, id: &str) -> Pending<Command> {
    Pending {
        command: Some(c),
        meta: EventMeta {
            block: 0,
            causation: Some(format!("cmd:test:{id}")),
            correlation: id.into(),
            trace: None,
        },
        dedup: Some(format!("cmd/{id}").into_bytes()),
        checkpoint: None,
        journal: None,
    }
}

fn transfer(from: &Keypair, to: &Keypair, amount: u64, id: &str) -> Pending<Command> {
    pending(
        Command::new(
            Origin::Signed(from.public()),
            Ledger::Transfer {
                to: to.public(),
                amount,
                keep_alive: true,
            },
        )
        .with_len(180),
        id,
    )
}

fn open() -> (tempfile::TempDir, Arc<FlakyDisk>, Runtime<State>) {
    let dir = tempfile::tempdir().unwrap();
    let disk = Arc::new(FlakyDisk {
        inner: SledStore::open(dir.path()).unwrap(),
        next: AtomicU8::new(HEALTHY),
    });
    let mut rt = Runtime::<State>::open(disk.clone(), 0).unwrap();
    let genesis = Command::new(
        Origin::Clock,
        Ledger::ApplyGenesis(test_genesis(Clock::Manual)),
    );
    let out = rt.process(vec![pending(genesis, "genesis")]);
    assert!(matches!(out[0], Outcome::Accepted { .. }), "{out:?}");
    (dir, disk, rt)
}

fn balance(rt: &Runtime<State>, who: &Keypair) -> u64 {
    rt.state().balance(&who.public())
}

/// The disk refuses the append (full disk): every command of the batch is
/// answered `Failed`, nothing is in the log, the state is what it was, and
/// the retries (same ids) are applied once, as first attempts.
#[test]
fn a_refused_append_acknowledges_nothing_and_retries_apply_once() {
    let (_dir, disk, mut rt) = open();
    let (a, b) = (alice(), bob());
    let before = rt.state().digest();
    let seq_before = rt.last_seq();
    let alice_before = balance(&rt, &a);
    let bob_before = balance(&rt, &b);

    disk.fail_next(FAIL_APPEND);
    let batch = || {
        vec![
            transfer(&a, &b, 5 * TAO, "t1"),
            transfer(&a, &b, 7 * TAO, "t2"),
        ]
    };
    let out = rt.process(batch());
    assert_eq!(out.len(), 2);
    assert!(
        out.iter().all(|o| matches!(o, Outcome::Failed(_))),
        "{out:?}"
    );
    assert_eq!(rt.state().digest(), before, "memory ran ahead of the log");
    assert_eq!(rt.last_seq(), seq_before);
    assert_eq!(
        disk.last_seq().unwrap(),
        seq_before,
        "a refused batch left events"
    );
    assert_eq!(
        disk.dedup(b"cmd/t1").unwrap(),
        None,
        "a refused batch left its ids"
    );

    // The client retries: applied now, once.
    let out = rt.process(batch());
    assert!(
        out.iter().all(|o| matches!(o, Outcome::Accepted { .. })),
        "{out:?}"
    );
    assert_eq!(balance(&rt, &b), bob_before + 12 * TAO);
    assert!(
        balance(&rt, &a) < alice_before - 12 * TAO,
        "fees are burned"
    );
    rt.state().check_invariants().unwrap();

    // A retry of the retry is a duplicate.
    let out = rt.process(batch());
    assert!(
        out.iter().all(|o| matches!(o, Outcome::Duplicate { .. })),
        "{out:?}"
    );
    assert_eq!(balance(&rt, &b), bob_before + 12 * TAO);

    let live = rt.state().digest();
    let (replayed, _) = replay::<State>(disk.as_ref(), None, false).unwrap();
    assert_eq!(replayed.digest(), live, "replay equals live");
}

/// The append went through but the flush failed (an I/O error on sync):
/// the batch may or may not be durable, so the commands are answered
/// `Failed` (not acknowledged). The runtime rebuilds from what the store
/// holds, and a retry then learns the truth: `Duplicate` with the seqs the
/// first attempt got, never a second effect.
#[test]
fn a_failed_flush_is_not_acknowledged_and_a_retry_never_doubles() {
    let (_dir, disk, mut rt) = open();
    let (a, b) = (alice(), bob());
    let bob_before = balance(&rt, &b);
    let seq_before = rt.last_seq();

    disk.fail_next(FAIL_FLUSH);
    let out = rt.process(vec![transfer(&a, &b, 3 * TAO, "f1")]);
    assert!(matches!(out[0], Outcome::Failed(_)), "{out:?}");
    // State is whatever the store holds, never more.
    let (from_log, _) = replay::<State>(disk.as_ref(), None, false).unwrap();
    assert_eq!(
        rt.state().digest(),
        from_log.digest(),
        "memory is not the log"
    );
    assert_eq!(rt.last_seq(), disk.last_seq().unwrap());

    // sled took the append before the flush failed, so the log holds it.
    let out = rt.process(vec![transfer(&a, &b, 3 * TAO, "f1")]);
    match &out[0] {
        Outcome::Duplicate {
            first_seq,
            last_seq,
            ..
        } => {
            assert_eq!(*first_seq, seq_before + 1, "the first attempt's seqs");
            assert!(*last_seq >= *first_seq);
        }
        other => panic!("retry after a failed flush: {other:?}"),
    }
    assert_eq!(
        balance(&rt, &b),
        bob_before + 3 * TAO,
        "applied exactly once"
    );
    rt.state().check_invariants().unwrap();

    // After a restart (a fresh open replays the log) the same holds.
    disk.flush().unwrap();
    let live = rt.state().digest();
    drop(rt);
    let rt = Runtime::<State>::open(disk.clone(), 0).unwrap();
    assert_eq!(rt.state().digest(), live, "reopen equals live");
    assert_eq!(balance(&rt, &b), bob_before + 3 * TAO);
}
