//! The event store: a service's durable, gap-free event log plus the small
//! amount of metadata that must change atomically with it.
//!
//! - [`EventStore`]: the trait every service shell uses.
//! - `sled_store::SledStore`: the production implementation (sled 0.34.7).
//! - `mem::MemStore`: an in-memory implementation with the same semantics,
//!   including the same conflicts.
//! - `conformance`: one test suite both implementations must pass.
//!
//! Only this crate knows sled keys. Callers speak in sequences, named
//! checkpoints (inbox positions), idempotency keys and snapshots.
//!
//! Durability: an append is atomic (all events, checkpoints and idempotency
//! keys of a batch, or none). It survives a process crash (kill -9) once
//! `append` returns. It survives power loss only after `flush` returns, and
//! only as far as sled's flush goes (sync_file_range on Linux, see
//! docs/decisions/0002-sled.md). Services acknowledge commands after `flush`.

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
    /// Appends a batch atomically; returns the new last sequence.
    fn append(&self, batch: Batch) -> Result<u64, StoreError>;
    /// The last sequence in the log (0 when empty).
    fn last_seq(&self) -> Result<u64, StoreError>;
    /// Up to `max` events starting at `from_seq` (inclusive), in order.
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
    /// A named checkpoint, if any.
    fn checkpoint(&self, name: &str) -> Result<Option<u64>, StoreError>;
    /// Sets a checkpoint outside an event batch (e.g. "published up to").
    fn set_checkpoint(&self, name: &str, value: u64) -> Result<(), StoreError>;
    /// An idempotency record, if any.
    fn dedup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores a snapshot, replacing any older one.
    fn save_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError>;
    /// The latest snapshot, if any.
    fn load_snapshot(&self) -> Result<Option<Snapshot>, StoreError>;
    /// Makes everything appended so far durable (see crate docs).
    fn flush(&self) -> Result<(), StoreError>;
}
