//! The event store: a service's durable, gap-free event log plus the small
//! amount of metadata that must change atomically with it.
//!
//! - [`EventStore`]: the trait every service shell uses.
//! - [`sled_store::SledStore`]: the production implementation (sled 0.34.7).
//! - [`mem::MemStore`]: an in-memory implementation with the same semantics,
//!   including the same conflicts and the same batch validation errors.
//! - [`conformance`]: one test suite both implementations must pass. It is
//!   compiled into the library (not `cfg(test)`) so any crate's tests can
//!   run it against a store they build.
//!
//! ```
//! use store::{conformance::batch, mem::MemStore, EventStore, StoreError};
//!
//! let store = MemStore::new();
//! assert_eq!(store.append(batch(0, 2)), Ok(2));
//! // A writer that decided against position 0 lost the race.
//! assert_eq!(
//!     store.append(batch(0, 1)),
//!     Err(StoreError::Conflict { expected: 0, actual: 2 })
//! );
//! assert_eq!(store.read(1, 10).unwrap().len(), 2);
//! ```
//!
//! Only this crate knows sled keys. Callers speak in sequences, named
//! checkpoints (inbox positions), idempotency keys, command-journal record
//! numbers and snapshots.
//!
//! # Append rules (both implementations)
//!
//! 1. The batch is validated first: its events must be numbered
//!    `expected_last_seq + 1, + 2, ...` with no gap. Otherwise
//!    [`StoreError::InvalidBatch`] (a caller bug: retrying cannot help).
//! 2. Then, serialized with every other append, `expected_last_seq` is
//!    compared with the log. A difference is [`StoreError::Conflict`].
//! 3. Only then are events, checkpoints and idempotency records written, all
//!    together. On any error nothing at all is written.
//!
//! A batch with no events (checkpoints or idempotency records only, or
//! nothing) is valid and still checked against the log position.
//!
//! # Durability
//!
//! An append is atomic (all events, checkpoints and idempotency records of a
//! batch, or none), in memory and across any crash. What survives which
//! crash for [`sled_store::SledStore`] is stated, with the sled mechanism
//! behind each sentence, in [`sled_store`]'s module docs. In short: a
//! returned `append` is *not* yet in the file; it survives kill -9 only once
//! `flush` has returned (or sled's background flusher has run, about every
//! 500 ms), and power loss only after `flush` and only as far as
//! `sync_file_range` goes (not a full fsync). Services therefore acknowledge
//! commands after `flush`.

use envelope::Envelope;

/// Everything that must land together: events plus the bookkeeping they
/// imply. Events must be numbered `expected_last_seq + 1 ..` in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// The log position the writer decided against. A different actual
    /// position is a [`StoreError::Conflict`] and nothing is written.
    pub expected_last_seq: u64,
    pub events: Vec<Envelope>,
    /// Named positions (e.g. `inbox:ledger` = last applied stream sequence of
    /// the ledger stream) stored in the same atomic batch as the events they
    /// caused, so redelivery after a crash has no second effect.
    pub checkpoints: Vec<(String, u64)>,
    /// Idempotency records (e.g. a processed command id and its outcome).
    pub dedup: Vec<(Vec<u8>, Vec<u8>)>,
    /// Command-journal records, numbered on from the journal's last one in
    /// this order. The journal is what users asked for (every decided user
    /// command, accepted or refused); it is never replayed into state, so
    /// it can hold refusals, which change nothing, beside the accepted
    /// commands whose events this batch carries. `taonet sim replay` reads
    /// it back.
    pub journal: Vec<Vec<u8>>,
}

/// A serialized state at a log position. Snapshots shorten replay; they
/// never change its result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub seq: u64,
    pub state: Vec<u8>,
}

/// What can go wrong in the store. A conflict is a different kind from an
/// infrastructure failure so callers can retry one and surface the other.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// Another writer moved the log: the batch was decided against a stale
    /// position. Nothing was written.
    #[error("append conflict: expected last seq {expected}, log is at {actual}")]
    Conflict { expected: u64, actual: u64 },
    /// The batch itself is wrong (sequence gap, wrong order). Nothing was
    /// written.
    #[error("invalid batch: {0}")]
    InvalidBatch(String),
    /// Stored bytes do not decode.
    #[error("corrupt store: {0}")]
    Corrupt(String),
    /// The storage layer failed.
    #[error("storage failure: {0}")]
    Io(String),
}

/// A durable, gap-free event log (see the crate docs for durability).
pub trait EventStore: Send + Sync + 'static {
    /// Appends a batch atomically; returns the new last sequence. See the
    /// crate docs for the order of checks (validation, then conflict).
    fn append(&self, batch: Batch) -> Result<u64, StoreError>;
    /// The last sequence in the log (0 when empty).
    fn last_seq(&self) -> Result<u64, StoreError>;
    /// Up to `max` events starting at `from_seq` (inclusive), in order.
    /// Sequences start at 1, so `from_seq` 0 reads from the beginning.
    fn read(&self, from_seq: u64, max: usize) -> Result<Vec<Envelope>, StoreError>;
    /// All events from `from_seq` (inclusive) to the end, in order.
    fn iter_from(
        &self,
        from_seq: u64,
    ) -> Box<dyn Iterator<Item = Result<Envelope, StoreError>> + Send + '_>;
    /// The raw encoded events from `from_seq`, for measuring the layer under
    /// replay (benchmarks) without envelope decoding.
    fn iter_raw_from(
        &self,
        from_seq: u64,
    ) -> Box<dyn Iterator<Item = Result<Vec<u8>, StoreError>> + Send + '_>;
    /// Calls `f` with the encoded bytes of each event from `from_seq` on, in
    /// order, until `f` returns `false` or the log ends. The same bytes as
    /// [`EventStore::iter_raw_from`], lent instead of copied where the store
    /// can (replay reads whole logs, and a copy per event is measurable).
    fn for_each_raw_from(
        &self,
        from_seq: u64,
        f: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<(), StoreError> {
        for raw in self.iter_raw_from(from_seq) {
            if !f(&raw?) {
                break;
            }
        }
        Ok(())
    }
    /// A named checkpoint, if any.
    fn checkpoint(&self, name: &str) -> Result<Option<u64>, StoreError>;
    /// Sets a checkpoint outside an event batch (e.g. "published up to").
    fn set_checkpoint(&self, name: &str, value: u64) -> Result<(), StoreError>;
    /// An idempotency record, if any.
    fn dedup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// The number of the last command-journal record (0 when none; records
    /// are numbered from 1, gap-free, like events).
    fn journal_len(&self) -> Result<u64, StoreError>;
    /// Up to `max` journal records from number `from` (inclusive; 0 reads
    /// from the first), in order, with their numbers.
    fn journal(&self, from: u64, max: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError>;
    /// Stores a snapshot, replacing any older one.
    fn save_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError>;
    /// The latest snapshot, if any.
    fn load_snapshot(&self) -> Result<Option<Snapshot>, StoreError>;
    /// Makes everything appended so far durable (see crate docs).
    fn flush(&self) -> Result<(), StoreError>;
}

pub mod conformance;
pub mod mem;
pub mod sled_store;

/// Checks the shape of a batch against its own `expected_last_seq` and
/// returns the last sequence it would produce. Shared by both
/// implementations so they reject exactly the same batches with exactly the
/// same messages.
pub(crate) fn validate_batch(batch: &Batch) -> Result<u64, StoreError> {
    let mut last = batch.expected_last_seq;
    for (index, event) in batch.events.iter().enumerate() {
        let want = last.checked_add(1).ok_or_else(|| {
            StoreError::InvalidBatch(format!("event {index}: sequence overflows u64"))
        })?;
        if event.seq != want {
            return Err(StoreError::InvalidBatch(format!(
                "event {index} has seq {}, expected {want} (batch decided against {})",
                event.seq, batch.expected_last_seq
            )));
        }
        last = want;
    }
    Ok(last)
}
