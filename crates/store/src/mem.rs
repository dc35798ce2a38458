//! An in-memory [`EventStore`] with the same semantics as the sled store:
//! the same batch validation (shared code), the same conflicts, the same
//! all-or-nothing appends. For tests of service shells that need a store but
//! not a disk. Nothing survives the process, and `flush` does nothing.
//!
//! One mutex guards the whole state, so an append's check and write are one
//! critical section, as in the sled store. Iterators take the lock per item
//! rather than holding it (a `MutexGuard` is not `Send`), so like sled's
//! iterators they are not a snapshot: they see events appended while they
//! run.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use envelope::{codec, Envelope};

use crate::{validate_batch, Batch, EventStore, Snapshot, StoreError};

/// An in-memory event store. `Send + Sync`; share it with `Arc`.
#[derive(Debug, Default)]
pub struct MemStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// `events[i]` has seq `i + 1`; validation keeps it gap-free.
    events: Vec<Envelope>,
    checkpoints: BTreeMap<String, u64>,
    dedup: BTreeMap<Vec<u8>, Vec<u8>>,
    /// `journal[i]` is record `i + 1`.
    journal: Vec<Vec<u8>>,
    snapshot: Option<Snapshot>,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every mutation completes before the guard drops and none can panic
    /// half-way, so a poisoned lock still holds consistent state.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The event at `seq`, if the log reaches it.
    fn get(&self, seq: u64) -> Option<Envelope> {
        let index = usize::try_from(seq.checked_sub(1)?).ok()?;
        self.lock().events.get(index).cloned()
    }
}

/// Sequences start at 1; reading from 0 means reading from the start.
fn first(from_seq: u64) -> u64 {
    from_seq.max(1)
}

impl EventStore for MemStore {
    fn append(&self, batch: Batch) -> Result<u64, StoreError> {
        let new_last = validate_batch(&batch)?;
        let mut inner = self.lock();
        let actual = inner.events.len() as u64;
        if batch.expected_last_seq != actual {
            return Err(StoreError::Conflict {
                expected: batch.expected_last_seq,
                actual,
            });
        }
        inner.events.extend(batch.events);
        inner.checkpoints.extend(batch.checkpoints);
        inner.dedup.extend(batch.dedup);
        inner.journal.extend(batch.journal);
        Ok(new_last)
    }

    fn last_seq(&self) -> Result<u64, StoreError> {
        Ok(self.lock().events.len() as u64)
    }

    fn read(&self, from_seq: u64, max: usize) -> Result<Vec<Envelope>, StoreError> {
        let inner = self.lock();
        let start = usize::try_from(first(from_seq) - 1).unwrap_or(usize::MAX);
        Ok(inner.events.iter().skip(start).take(max).cloned().collect())
    }

    fn iter_from(
        &self,
        from_seq: u64,
    ) -> Box<dyn Iterator<Item = Result<Envelope, StoreError>> + Send + '_> {
        Box::new((first(from_seq)..).map_while(move |seq| self.get(seq).map(Ok)))
    }

    fn iter_raw_from(
        &self,
        from_seq: u64,
    ) -> Box<dyn Iterator<Item = Result<Vec<u8>, StoreError>> + Send + '_> {
        // The same bytes the sled store holds, so raw consumers (benchmarks,
        // decoders) behave the same on both.
        Box::new(
            (first(from_seq)..)
                .map_while(move |seq| self.get(seq).map(|e| Ok(codec::encode_envelope(&e)))),
        )
    }

    fn checkpoint(&self, name: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.lock().checkpoints.get(name).copied())
    }

    fn set_checkpoint(&self, name: &str, value: u64) -> Result<(), StoreError> {
        self.lock().checkpoints.insert(name.to_owned(), value);
        Ok(())
    }

    fn dedup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().dedup.get(key).cloned())
    }

    fn journal_len(&self) -> Result<u64, StoreError> {
        Ok(self.lock().journal.len() as u64)
    }

    fn journal(&self, from: u64, max: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let inner = self.lock();
        let start = first(from);
        let skip = usize::try_from(start - 1).unwrap_or(usize::MAX);
        Ok(inner
            .journal
            .iter()
            .skip(skip)
            .take(max)
            .zip(start..)
            .map(|(r, n)| (n, r.clone()))
            .collect())
    }

    fn save_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        self.lock().snapshot = Some(snapshot.clone());
        Ok(())
    }

    fn load_snapshot(&self) -> Result<Option<Snapshot>, StoreError> {
        Ok(self.lock().snapshot.clone())
    }

    /// Nothing to make durable: a `MemStore` never outlives its process.
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<MemStore>();
    }
}
