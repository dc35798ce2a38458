//! The production [`EventStore`] on sled 0.34.7.
//!
//! # Layout
//!
//! Everything lives in ONE sled tree so that an append is a single
//! `Tree::apply_batch`, which sled recovers atomically (its log "peg" seals
//! the batch). Keys are private to this module (`mod keys`):
//!
//! | key                              | value                              |
//! |----------------------------------|------------------------------------|
//! | `b'e'` + seq (u64 big-endian)    | bincode envelope ([`envelope::codec`]) |
//! | `b'c'` + checkpoint name (UTF-8) | u64 big-endian                     |
//! | `b'd'` + idempotency key         | the record's bytes                 |
//! | `b'j'` + number (u64 big-endian) | a command-journal record           |
//! | `b's'`                           | snapshot seq (u64 BE) + state      |
//!
//! Big-endian sequence keys sort like the numbers, so a range scan is the
//! log in order and the last event key is the last sequence.
//!
//! # Concurrency
//!
//! The last sequence is cached in a mutex that every append holds across
//! "check expected seq, write batch, bump cache". Two writers racing at the
//! same position therefore cannot both pass the check, and an append never
//! scans. This serializes appends within one process; sled itself locks the
//! directory, so there is no second process.
//!
//! # Durability: what survives which crash
//!
//! Every sentence here is about sled 0.34.7 with its default configuration
//! (`flush_every_ms = Some(500)`), not about a generic database.
//!
//! - **When `append` returns**, the batch is in sled's in-memory tree and in
//!   an in-process log buffer (an "IoBuf"). It has *not* been written to the
//!   file yet. Readers in this process see it.
//! - **Kill -9 right after `append` returns can lose it** (the IoBuf dies
//!   with the process). It is lost whole: on restart either every event,
//!   checkpoint and idempotency record of the batch is there or none is, and
//!   the log is still gap-free (`tests/crash.rs` kills a writer and checks
//!   this; in its runs a writer killed right after 100 returned, unflushed
//!   appends came back with anywhere from 25 to 95 of them).
//! - **Once `flush` returns**, sled has `pwrite`n every buffered batch to its
//!   log file and waited on `sync_file_range(WAIT_BEFORE | WRITE |
//!   WAIT_AFTER)` for that byte range. The data is then in the OS (and, as
//!   far as `sync_file_range` goes, handed to the device), so it survives
//!   kill -9 of the process (`tests/crash.rs` proves this one too).
//! - **Power loss** after `flush`: survives only as far as `sync_file_range`
//!   goes. It is not `fsync`: it does not write file metadata (e.g. a grown
//!   file length) and does not flush the device's volatile write cache, so on
//!   hardware with such a cache a flushed batch can still be lost. sled's
//!   background flusher calls a real `fsync` (`File::sync_all`) about every
//!   500 ms, which narrows but does not close the gap. Not tested here (it
//!   needs a power cut).
//! - Without `flush`, the background flusher writes buffered batches within
//!   about 500 ms anyway; nothing promises it.
//!
//! So: acknowledge a command to the outside world only after `flush`.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use envelope::{codec, Envelope};

use crate::{validate_batch, Batch, EventStore, Snapshot, StoreError};

/// The sled key layout. Nothing outside this module builds or parses keys.
mod keys {
    pub(super) const EVENT: u8 = b'e';
    pub(super) const CHECKPOINT: u8 = b'c';
    pub(super) const DEDUP: u8 = b'd';
    pub(super) const JOURNAL: u8 = b'j';
    pub(super) const SNAPSHOT: &[u8] = b"s";

    pub(super) fn event(seq: u64) -> [u8; 9] {
        let mut key = [EVENT; 9];
        key[1..].copy_from_slice(&seq.to_be_bytes());
        key
    }

    /// The sequence in an event key, `None` if the key is not one.
    pub(super) fn event_seq(key: &[u8]) -> Option<u64> {
        match key {
            [EVENT, rest @ ..] => rest.try_into().ok().map(u64::from_be_bytes),
            _ => None,
        }
    }

    pub(super) fn journal(n: u64) -> [u8; 9] {
        let mut key = [JOURNAL; 9];
        key[1..].copy_from_slice(&n.to_be_bytes());
        key
    }

    /// The number in a journal key, `None` if the key is not one.
    pub(super) fn journal_no(key: &[u8]) -> Option<u64> {
        match key {
            [JOURNAL, rest @ ..] => rest.try_into().ok().map(u64::from_be_bytes),
            _ => None,
        }
    }

    pub(super) fn checkpoint(name: &str) -> Vec<u8> {
        prefixed(CHECKPOINT, name.as_bytes())
    }

    pub(super) fn dedup(key: &[u8]) -> Vec<u8> {
        prefixed(DEDUP, key)
    }

    fn prefixed(prefix: u8, rest: &[u8]) -> Vec<u8> {
        let mut key = Vec::with_capacity(1 + rest.len());
        key.push(prefix);
        key.extend_from_slice(rest);
        key
    }
}

/// A sled-backed event store. `Send + Sync`; share it with `Arc`.
#[derive(Debug)]
pub struct SledStore {
    db: sled::Db,
    tree: sled::Tree,
    /// The last event sequence and the last journal record number. Held
    /// across every append's check-and-write so that appends are
    /// serialized.
    last_seq: Mutex<Tail>,
}

/// Where the log and the journal end.
#[derive(Debug, Clone, Copy)]
struct Tail {
    seq: u64,
    journal: u64,
}

/// The one tree holding events and their metadata.
const TREE: &str = "taonet-store";

impl SledStore {
    /// Opens (or creates) a store in the directory `path`. Reads the last
    /// sequence once, from the last event key.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::from_config(sled::Config::new().path(path))
    }

    /// A store in a temporary directory that sled deletes on drop. sled
    /// skips `sync_file_range` for temporary stores, so this is for tests.
    pub fn temporary() -> Result<Self, StoreError> {
        Self::from_config(sled::Config::new().temporary(true))
    }

    fn from_config(config: sled::Config) -> Result<Self, StoreError> {
        let db = config.open().map_err(sled_error)?;
        let tree = db.open_tree(TREE).map_err(sled_error)?;
        let last_seq = match tree.scan_prefix([keys::EVENT]).next_back() {
            None => 0,
            Some(entry) => {
                let (key, _) = entry.map_err(sled_error)?;
                keys::event_seq(&key)
                    .ok_or_else(|| StoreError::Corrupt(format!("bad event key {key:?}")))?
            }
        };
        let journal = match tree.scan_prefix([keys::JOURNAL]).next_back() {
            None => 0,
            Some(entry) => {
                let (key, _) = entry.map_err(sled_error)?;
                keys::journal_no(&key)
                    .ok_or_else(|| StoreError::Corrupt(format!("bad journal key {key:?}")))?
            }
        };
        Ok(SledStore {
            db,
            tree,
            last_seq: Mutex::new(Tail {
                seq: last_seq,
                journal,
            }),
        })
    }

    /// The append lock. A panic while holding it cannot leave the cached
    /// value wrong (it is only bumped after a successful write), so a
    /// poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, Tail> {
        self.last_seq.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Raw `(seq, value)` pairs of the log from `from_seq` on.
    fn raw_events(
        &self,
        from_seq: u64,
    ) -> impl Iterator<Item = Result<(u64, sled::IVec), StoreError>> + Send + '_ {
        self.tree
            .range(keys::event(from_seq)..=keys::event(u64::MAX))
            .map(|entry| {
                let (key, value) = entry.map_err(sled_error)?;
                let seq = keys::event_seq(&key)
                    .ok_or_else(|| StoreError::Corrupt(format!("bad event key {key:?}")))?;
                Ok((seq, value))
            })
    }
}

/// Decodes a stored event and checks it sits under its own sequence.
fn decode_event(seq: u64, bytes: &[u8]) -> Result<Envelope, StoreError> {
    let env = codec::decode_envelope(bytes)
        .map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))?;
    if env.seq != seq {
        return Err(StoreError::Corrupt(format!(
            "event stored at {seq} says seq {}",
            env.seq
        )));
    }
    Ok(env)
}

fn decode_u64(what: &str, bytes: &[u8]) -> Result<u64, StoreError> {
    bytes
        .try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::Corrupt(format!("{what}: {} bytes, not 8", bytes.len())))
}

fn sled_error(e: sled::Error) -> StoreError {
    match e {
        sled::Error::Corruption { .. } => StoreError::Corrupt(e.to_string()),
        other => StoreError::Io(other.to_string()),
    }
}

impl EventStore for SledStore {
    fn append(&self, batch: Batch) -> Result<u64, StoreError> {
        let new_last = validate_batch(&batch)?;
        let mut last = self.lock();
        if batch.expected_last_seq != last.seq {
            return Err(StoreError::Conflict {
                expected: batch.expected_last_seq,
                actual: last.seq,
            });
        }
        let mut writes = sled::Batch::default();
        for event in &batch.events {
            writes.insert(&keys::event(event.seq), codec::encode_envelope(event));
        }
        for (name, value) in &batch.checkpoints {
            writes.insert(keys::checkpoint(name), &value.to_be_bytes());
        }
        for (key, value) in &batch.dedup {
            writes.insert(keys::dedup(key), value.as_slice());
        }
        let mut journal = last.journal;
        for record in &batch.journal {
            journal += 1;
            writes.insert(&keys::journal(journal), record.as_slice());
        }
        self.tree.apply_batch(writes).map_err(sled_error)?;
        *last = Tail {
            seq: new_last,
            journal,
        };
        Ok(new_last)
    }

    fn last_seq(&self) -> Result<u64, StoreError> {
        Ok(self.lock().seq)
    }

    fn read(&self, from_seq: u64, max: usize) -> Result<Vec<Envelope>, StoreError> {
        self.raw_events(from_seq)
            .take(max)
            .map(|entry| entry.and_then(|(seq, bytes)| decode_event(seq, &bytes)))
            .collect()
    }

    fn iter_from(
        &self,
        from_seq: u64,
    ) -> Box<dyn Iterator<Item = Result<Envelope, StoreError>> + Send + '_> {
        Box::new(
            self.raw_events(from_seq)
                .map(|entry| entry.and_then(|(seq, bytes)| decode_event(seq, &bytes))),
        )
    }

    fn iter_raw_from(
        &self,
        from_seq: u64,
    ) -> Box<dyn Iterator<Item = Result<Vec<u8>, StoreError>> + Send + '_> {
        // No decoding and no key checks beyond the range bounds: this is the
        // baseline replay is measured against.
        Box::new(
            self.tree
                .range(keys::event(from_seq)..=keys::event(u64::MAX))
                .values()
                .map(|value| value.map(|v| v.to_vec()).map_err(sled_error)),
        )
    }

    fn for_each_raw_from(
        &self,
        from_seq: u64,
        f: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<(), StoreError> {
        for value in self
            .tree
            .range(keys::event(from_seq)..=keys::event(u64::MAX))
            .values()
        {
            if !f(&value.map_err(sled_error)?) {
                break;
            }
        }
        Ok(())
    }

    fn checkpoint(&self, name: &str) -> Result<Option<u64>, StoreError> {
        self.tree
            .get(keys::checkpoint(name))
            .map_err(sled_error)?
            .map(|v| decode_u64(&format!("checkpoint {name}"), &v))
            .transpose()
    }

    fn set_checkpoint(&self, name: &str, value: u64) -> Result<(), StoreError> {
        self.tree
            .insert(keys::checkpoint(name), &value.to_be_bytes())
            .map_err(sled_error)?;
        Ok(())
    }

    fn dedup(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .tree
            .get(keys::dedup(key))
            .map_err(sled_error)?
            .map(|v| v.to_vec()))
    }

    fn journal_len(&self) -> Result<u64, StoreError> {
        Ok(self.lock().journal)
    }

    fn journal(&self, from: u64, max: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.tree
            .range(keys::journal(from.max(1))..=keys::journal(u64::MAX))
            .take(max)
            .map(|entry| {
                let (key, value) = entry.map_err(sled_error)?;
                let n = keys::journal_no(&key)
                    .ok_or_else(|| StoreError::Corrupt(format!("bad journal key {key:?}")))?;
                Ok((n, value.to_vec()))
            })
            .collect()
    }

    fn save_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        let mut value = Vec::with_capacity(8 + snapshot.state.len());
        value.extend_from_slice(&snapshot.seq.to_be_bytes());
        value.extend_from_slice(&snapshot.state);
        self.tree
            .insert(keys::SNAPSHOT, value)
            .map_err(sled_error)?;
        Ok(())
    }

    fn load_snapshot(&self) -> Result<Option<Snapshot>, StoreError> {
        let Some(value) = self.tree.get(keys::SNAPSHOT).map_err(sled_error)? else {
            return Ok(None);
        };
        if value.len() < 8 {
            return Err(StoreError::Corrupt(format!(
                "snapshot: {} bytes, shorter than its seq",
                value.len()
            )));
        }
        let (seq, state) = value.split_at(8);
        Ok(Some(Snapshot {
            seq: decode_u64("snapshot seq", seq)?,
            state: state.to_vec(),
        }))
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(sled_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_sort_like_sequences() {
        let seqs = [0u64, 1, 2, 255, 256, 65_535, 1 << 40, u64::MAX];
        for pair in seqs.windows(2) {
            assert!(keys::event(pair[0]) < keys::event(pair[1]), "{pair:?}");
        }
        for seq in seqs {
            assert_eq!(keys::event_seq(&keys::event(seq)), Some(seq));
        }
    }

    #[test]
    fn prefixes_do_not_collide() {
        assert_eq!(keys::event_seq(&keys::checkpoint("x")), None);
        assert_eq!(keys::event_seq(&keys::dedup(&[0; 8])), None);
        assert_eq!(keys::event_seq(keys::SNAPSHOT), None);
        assert_eq!(keys::event_seq(&keys::journal(1)), None);
        assert_eq!(keys::journal_no(&keys::event(1)), None);
        assert_eq!(keys::journal_no(&keys::journal(7)), Some(7));
        // A dedup key that looks like an event key stays a dedup key.
        assert_ne!(keys::dedup(&keys::event(1)), keys::event(1).to_vec());
    }

    #[test]
    fn corrupt_values_are_typed() {
        let store = SledStore::temporary().unwrap();
        store.tree.insert(keys::event(1), &[0xff; 3]).unwrap();
        store.tree.insert(keys::checkpoint("c"), &[1; 3]).unwrap();
        store.tree.insert(keys::SNAPSHOT, &[1; 3]).unwrap();
        assert!(matches!(store.read(1, 10), Err(StoreError::Corrupt(_))));
        assert!(matches!(store.checkpoint("c"), Err(StoreError::Corrupt(_))));
        assert!(matches!(store.load_snapshot(), Err(StoreError::Corrupt(_))));
        // Raw iteration does not decode, by design.
        assert_eq!(store.iter_raw_from(1).count(), 1);
    }

    #[test]
    fn event_under_the_wrong_key_is_corrupt() {
        let store = SledStore::temporary().unwrap();
        let env = crate::conformance::event(7);
        store
            .tree
            .insert(keys::event(3), codec::encode_envelope(&env))
            .unwrap();
        let err = store.iter_from(1).next().unwrap().unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    }

    proptest::proptest! {
        /// Fuzzing the store's record decoding (docs/fuzzing.md): a valid
        /// event record with bit flips, truncation, extension or a huge
        /// length prefix spliced in, under its key: reading it never
        /// panics, and gives the event (when the bytes still decode to it
        /// under its own sequence) or a typed `Corrupt`. Checkpoint and
        /// snapshot records of any length: a value or `Corrupt`.
        #[test]
        fn mutated_records_read_as_events_or_corrupt(
            seq in 1u64..1_000,
            edits in proptest::collection::vec((0u8..4, proptest::prelude::any::<u32>(), proptest::prelude::any::<u8>()), 0..6),
            raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
        ) {
            let store = SledStore::temporary().unwrap();
            let mut bytes = codec::encode_envelope(&crate::conformance::event(seq));
            for (kind, at, byte) in edits {
                let i = at as usize % (bytes.len() + 1);
                match kind {
                    0 if i < bytes.len() => bytes[i] ^= 1 << (byte % 8),
                    1 => bytes.truncate(i),
                    2 => bytes.splice(i..i, [byte; 3]).for_each(drop),
                    _ => bytes.splice(i..i, [253u8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]).for_each(drop),
                }
            }
            store.tree.insert(keys::event(seq), bytes.clone()).unwrap();
            let read = store.read(1, 10);
            match codec::decode_envelope(&bytes) {
                Ok(env) if env.seq == seq => proptest::prop_assert_eq!(read.unwrap(), vec![env]),
                _ => proptest::prop_assert!(matches!(read, Err(StoreError::Corrupt(_))), "{:?}", read),
            }
            let iterated: Vec<_> = store.iter_from(1).collect();
            proptest::prop_assert_eq!(iterated.len(), 1);
            store.tree.insert(keys::checkpoint("c"), raw.clone()).unwrap();
            store.tree.insert(keys::SNAPSHOT, raw.clone()).unwrap();
            let cp = store.checkpoint("c");
            if raw.len() == 8 {
                proptest::prop_assert!(cp.is_ok());
            } else {
                proptest::prop_assert!(matches!(cp, Err(StoreError::Corrupt(_))));
            }
            proptest::prop_assert!(matches!(store.load_snapshot(), Ok(_) | Err(StoreError::Corrupt(_))));
        }
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<SledStore>();
    }
}
