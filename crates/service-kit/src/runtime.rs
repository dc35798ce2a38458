//! Replay and group commit, with no I/O besides the store.

use aggregate::Aggregate;
use envelope::{codec, Envelope, EventMeta, VersionedEvent};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use store::{Batch, EventStore, Snapshot, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("event {seq} does not decode: {reason}")]
    Decode { seq: u64, reason: String },
    #[error("snapshot does not restore: {0}")]
    Snapshot(String),
}

/// One unit of work for a group commit.
pub struct Pending<C> {
    /// The command; `None` when only a checkpoint must move (a foreign
    /// event that concerns this service not at all).
    pub command: Option<C>,
    pub meta: EventMeta,
    /// Idempotency key: a second command with the same key is not applied.
    pub dedup: Option<Vec<u8>>,
    /// Checkpoint to store with the events (inbox position).
    pub checkpoint: Option<(String, u64)>,
    /// A user command to record in the command journal
    /// ([`crate::journal`]) with its outcome; `None` for foreign events,
    /// ticks and start-up commands.
    pub journal: Option<crate::journal::Draft>,
}

/// What happened to one [`Pending`].
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<R> {
    Accepted {
        block: u64,
        first_seq: u64,
        last_seq: u64,
        events: Vec<serde_json::Value>,
    },
    Rejected(R),
    /// The idempotency key was seen before; nothing was applied now.
    Duplicate {
        block: u64,
        first_seq: u64,
        last_seq: u64,
    },
    /// Storage failed, so nothing of this batch is acknowledged. If the
    /// append itself failed nothing was written; if only the flush failed
    /// the batch may be in the log (the state is rebuilt from whatever the
    /// log holds), and a retry with the same idempotency key then gets
    /// `Duplicate` (tests/tests/store_failure.rs).
    Failed(String),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplayStats {
    pub events: u64,
    pub last_seq: u64,
    pub from_snapshot: Option<u64>,
    pub seconds: f64,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct DedupRecord {
    block: u64,
    first_seq: u64,
    last_seq: u64,
}

/// A service's state and log, kept in step.
pub struct Runtime<S: Aggregate> {
    state: S,
    store: Arc<dyn EventStore>,
    last_seq: u64,
    snapshot_every: u64,
    since_snapshot: u64,
}

/// Rebuilds a state from a log: from the latest snapshot at or below
/// `to_seq` when `use_snapshot`, else from the first event.
pub fn replay<S: Aggregate>(
    store: &dyn EventStore,
    to_seq: Option<u64>,
    use_snapshot: bool,
) -> Result<(S, ReplayStats), RuntimeError> {
    let started = Instant::now();
    let mut state = S::default();
    let mut from = 1;
    let mut from_snapshot = None;
    if use_snapshot {
        if let Some(snap) = store.load_snapshot()? {
            if to_seq.is_none_or(|t| snap.seq <= t) {
                // A snapshot of an older state layout (its version changed)
                // or a damaged one is only a shortcut: the log is the truth,
                // so rebuild from the first event instead of refusing to start.
                match S::restore(&snap.state) {
                    Ok(s) => {
                        state = s;
                        from = snap.seq + 1;
                        from_snapshot = Some(snap.seq);
                    }
                    Err(e) => tracing::warn!(
                        service = S::SERVICE,
                        seq = snap.seq,
                        error = %e,
                        "snapshot does not restore; replaying the whole log"
                    ),
                }
            }
        }
    }
    // Two stages on two threads: reading and decoding (sled iteration,
    // envelope view, payload) on a scoped thread, `evolve` here, in chunks
    // so the channel costs little per event. The order of events is the
    // order of the log; only the work is overlapped.
    let mut last = from - 1;
    let mut events = 0;
    std::thread::scope(|scope| -> Result<(), RuntimeError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<(u64, S::Event)>, RuntimeError>>(
            REPLAY_QUEUE,
        );
        scope.spawn(move || {
            let mut chunk = Vec::with_capacity(REPLAY_CHUNK);
            let mut expected = from;
            let mut failed = false;
            let scanned = store.for_each_raw_from(from, &mut |raw| {
                match decode_next::<S>(raw, expected, to_seq) {
                    Ok(Some(ev)) => chunk.push((expected, ev)),
                    Ok(None) => return false,
                    Err(e) => {
                        failed = true;
                        let _ = tx.send(Err(e));
                        return false;
                    }
                }
                expected += 1;
                if chunk.len() == REPLAY_CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(REPLAY_CHUNK));
                    return tx.send(Ok(full)).is_ok();
                }
                true
            });
            if failed {
                return;
            }
            let _ = match scanned {
                Err(e) => tx.send(Err(e.into())),
                Ok(()) if !chunk.is_empty() => tx.send(Ok(chunk)),
                Ok(()) => Ok(()),
            };
        });
        for chunk in rx {
            for (seq, ev) in chunk? {
                state.evolve(&ev);
                last = seq;
                events += 1;
            }
        }
        Ok(())
    })?;
    Ok((
        state,
        ReplayStats {
            events,
            last_seq: last,
            from_snapshot,
            seconds: started.elapsed().as_secs_f64(),
        },
    ))
}

/// Events per chunk handed from the decoding thread to `evolve`.
const REPLAY_CHUNK: usize = 1024;
/// Chunks decoded ahead of `evolve`.
const REPLAY_QUEUE: usize = 16;

/// Decodes the event stored at `expected` (`None` past `to_seq`). Raw
/// bytes are decoded as a borrowed view: replay needs only sequence, type,
/// version and payload, and the owned envelope `iter_from` builds costs
/// five allocations per event. The log is gap-free, so each event must
/// carry the next sequence; a mismatch is corruption, reported as
/// `iter_from` reports an event under the wrong key.
fn decode_next<S: Aggregate>(
    raw: &[u8],
    expected: u64,
    to_seq: Option<u64>,
) -> Result<Option<S::Event>, RuntimeError> {
    let env = codec::decode_envelope_ref(raw)
        .map_err(|e| StoreError::Corrupt(format!("event {expected}: {e}")))?;
    if env.seq != expected {
        return Err(StoreError::Corrupt(format!(
            "event stored at {expected} says seq {}",
            env.seq
        ))
        .into());
    }
    if to_seq.is_some_and(|t| env.seq > t) {
        return Ok(None);
    }
    S::Event::decode_payload(env.event_type, env.version, env.payload)
        .map(Some)
        .map_err(|e| RuntimeError::Decode {
            seq: env.seq,
            reason: e.to_string(),
        })
}

impl<S: Aggregate> Runtime<S>
where
    S::Event: Serialize,
{
    /// Opens a runtime on a store, replaying its log (from a snapshot when
    /// there is one).
    pub fn open(store: Arc<dyn EventStore>, snapshot_every: u64) -> Result<Self, RuntimeError> {
        let (state, stats) = replay::<S>(store.as_ref(), None, true)?;
        tracing::info!(
            service = S::SERVICE,
            events = stats.events,
            last_seq = stats.last_seq,
            from_snapshot = ?stats.from_snapshot,
            seconds = stats.seconds,
            "replayed log"
        );
        Ok(Runtime {
            state,
            store,
            last_seq: stats.last_seq,
            snapshot_every,
            since_snapshot: stats.events,
        })
    }

    pub fn state(&self) -> &S {
        &self.state
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    /// Decides every pending item against the evolving state, appends all
    /// resulting events, checkpoints and idempotency records in ONE atomic
    /// batch, flushes, and only then reports outcomes. If storage fails,
    /// the state is rebuilt from the log and every outcome is `Failed`.
    /// Always exactly one outcome per item, in the items' order.
    pub fn process(&mut self, items: Vec<Pending<S::Command>>) -> Vec<Outcome<S::Rejection>> {
        let total = items.len();
        let base = self.last_seq;
        let mut next = base + 1;
        let mut batch = Batch {
            expected_last_seq: base,
            ..Default::default()
        };
        let mut seen: HashMap<Vec<u8>, DedupRecord> = HashMap::new();
        let mut outcomes = Vec::with_capacity(items.len());
        let mut changed = false;
        for p in items {
            if let Some(cp) = p.checkpoint.clone() {
                batch.checkpoints.push(cp);
                changed = true;
            }
            if let Some(key) = &p.dedup {
                let earlier = match seen.get(key) {
                    Some(rec) => Some(rec.clone()),
                    None => match self.store.dedup(key) {
                        Ok(Some(bytes)) => match codec::decode::<DedupRecord>(&bytes) {
                            Ok(rec) => Some(rec),
                            Err(e) => return self.fail(format!("dedup record: {e}"), total),
                        },
                        Ok(None) => None,
                        Err(e) => return self.fail(e.to_string(), total),
                    },
                };
                if let Some(rec) = earlier {
                    outcomes.push(Outcome::Duplicate {
                        block: rec.block,
                        first_seq: rec.first_seq,
                        last_seq: rec.last_seq,
                    });
                    continue;
                }
            }
            let draft = p.journal;
            let decided_at = self.state.block();
            let record = |outcome| {
                draft.as_ref().map(|d| {
                    crate::journal::Record {
                        signer: d.signer,
                        service_caller: d.service_caller,
                        body: d.body.clone(),
                        received_ms: d.received_ms,
                        block: decided_at,
                        outcome,
                    }
                    .encode()
                })
            };
            let Some(command) = p.command else {
                // Only a checkpoint moves (a foreign event this core ignores):
                // still one outcome per item, so callers can zip them.
                outcomes.push(Outcome::Accepted {
                    block: self.state.block(),
                    first_seq: next,
                    last_seq: next - 1,
                    events: Vec::new(),
                });
                continue;
            };
            match self.state.handle(&command) {
                Ok(events) => {
                    let first = next;
                    let mut json = Vec::with_capacity(events.len());
                    let block = self.state.block();
                    let meta = EventMeta { block, ..p.meta };
                    for ev in &events {
                        batch
                            .events
                            .push(Envelope::wrap(S::SERVICE, next, ev, &meta));
                        json.push(event_json(ev));
                        next += 1;
                    }
                    let last = next - 1;
                    batch
                        .journal
                        .extend(record(crate::journal::RecordedOutcome::Accepted {
                            first_seq: first,
                            last_seq: last,
                        }));
                    if let Some(key) = p.dedup {
                        let rec = DedupRecord {
                            block,
                            first_seq: first,
                            last_seq: last,
                        };
                        batch.dedup.push((key.clone(), codec::encode(&rec)));
                        seen.insert(key, rec);
                    }
                    changed = true;
                    outcomes.push(Outcome::Accepted {
                        block,
                        first_seq: first,
                        last_seq: last,
                        events: json,
                    });
                }
                Err(r) => {
                    if let Some(rec) = record(crate::journal::RecordedOutcome::Rejected {
                        code: crate::journal::rejection_code(&r),
                    }) {
                        batch.journal.push(rec);
                        changed = true;
                    }
                    outcomes.push(Outcome::Rejected(r));
                }
            }
        }
        if !changed {
            return outcomes;
        }
        let n_events = batch.events.len() as u64;
        let res = self.store.append(batch).and_then(|_| self.store.flush());
        match res {
            Ok(()) => {
                self.last_seq = next - 1;
                self.since_snapshot += n_events;
                if self.snapshot_every > 0 && self.since_snapshot >= self.snapshot_every {
                    self.snapshot();
                }
                outcomes
            }
            Err(e) => self.fail(e.to_string(), total),
        }
    }

    /// Writes a snapshot of the current state (best effort: a failed
    /// snapshot only makes the next replay longer).
    pub fn snapshot(&mut self) {
        let snap = Snapshot {
            seq: self.last_seq,
            state: self.state.snapshot(),
        };
        match self.store.save_snapshot(&snap) {
            Ok(()) => self.since_snapshot = 0,
            Err(e) => tracing::warn!(error = %e, "snapshot failed"),
        }
    }

    fn fail(&mut self, why: String, n: usize) -> Vec<Outcome<S::Rejection>> {
        tracing::error!(error = %why, "append failed; rebuilding state from the log");
        match replay::<S>(self.store.as_ref(), None, true) {
            Ok((state, stats)) => {
                self.state = state;
                self.last_seq = stats.last_seq;
            }
            Err(e) => tracing::error!(error = %e, "rebuild after failed append failed"),
        }
        (0..n).map(|_| Outcome::Failed(why.clone())).collect()
    }
}

fn event_json<E: VersionedEvent + Serialize>(ev: &E) -> serde_json::Value {
    let mut v = serde_json::to_value(ev).unwrap_or(serde_json::Value::Null);
    if let serde_json::Value::Object(m) = &mut v {
        m.insert("version".into(), ev.version().into());
    }
    serde_json::json!({ "type": ev.event_type(), "data": v })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::follower::{Follower, FollowerCommand, Name};

    struct T;
    impl Name for T {
        const NAME: &'static str = "t";
    }

    fn item(command: Option<FollowerCommand>, cp: Option<u64>) -> Pending<FollowerCommand> {
        Pending {
            command,
            meta: EventMeta {
                block: 0,
                causation: None,
                correlation: "c".into(),
                trace: None,
            },
            dedup: None,
            checkpoint: cp.map(|s| ("inbox:x".to_string(), s)),
            journal: None,
        }
    }

    /// Every item gets exactly one outcome, in order, including items that
    /// only move a checkpoint: the shell zips outcomes with its replies.
    #[test]
    fn one_outcome_per_item_in_order() {
        let store: Arc<dyn EventStore> = Arc::new(store::mem::MemStore::new());
        let mut rt = Runtime::<Follower<T>>::open(store.clone(), 0).unwrap();
        let out = rt.process(vec![
            item(None, Some(1)),
            item(Some(FollowerCommand::Observe { seq: 1, block: 1 }), Some(2)),
            item(Some(FollowerCommand::Unsupported), None),
            item(None, Some(3)),
        ]);
        assert_eq!(out.len(), 4);
        assert!(matches!(&out[0], Outcome::Accepted { events, .. } if events.is_empty()));
        assert!(matches!(
            &out[1],
            Outcome::Accepted {
                first_seq: 1,
                last_seq: 1,
                ..
            }
        ));
        assert!(matches!(&out[2], Outcome::Rejected(_)));
        assert!(matches!(&out[3], Outcome::Accepted { events, .. } if events.is_empty()));
        assert_eq!(store.checkpoint("inbox:x").unwrap(), Some(3));
    }

    fn user(command: FollowerCommand, id: &str) -> Pending<FollowerCommand> {
        let alice = keys::Keypair::from_uri("//Alice").unwrap().public();
        Pending {
            dedup: Some(format!("cmd/{id}").into_bytes()),
            journal: Some(crate::journal::Draft {
                signer: alice,
                service_caller: false,
                body: format!(r#"{{"client":"t","id":"{id}","command":null}}"#),
                received_ms: 9,
            }),
            ..item(Some(command), None)
        }
    }

    fn journal(store: &Arc<dyn EventStore>) -> Vec<(String, crate::journal::RecordedOutcome, u64)> {
        store
            .journal(0, 100)
            .unwrap()
            .into_iter()
            .map(|(_, bytes)| {
                let r = crate::journal::Record::decode(&bytes).unwrap();
                (r.command_id().unwrap(), r.outcome, r.block)
            })
            .collect()
    }

    /// The journal keeps every decided user command once: accepted ones
    /// with their events' sequences, refused ones with their code (and no
    /// event, so the digest is unchanged), none for a retry of an applied
    /// command, none for foreign or internal items.
    #[test]
    fn the_journal_records_each_decided_user_command_once() {
        use crate::journal::RecordedOutcome as R;
        let store: Arc<dyn EventStore> = Arc::new(store::mem::MemStore::new());
        let mut rt = Runtime::<Follower<T>>::open(store.clone(), 0).unwrap();
        rt.process(vec![
            user(FollowerCommand::Observe { seq: 1, block: 3 }, "a"),
            item(Some(FollowerCommand::Observe { seq: 2, block: 4 }), Some(1)),
        ]);
        let digest = rt.state().digest();
        let out = rt.process(vec![
            user(FollowerCommand::Unsupported, "b"),
            user(FollowerCommand::Observe { seq: 1, block: 3 }, "a"),
        ]);
        assert!(matches!(out[0], Outcome::Rejected(_)));
        assert!(matches!(out[1], Outcome::Duplicate { .. }));
        assert_eq!(rt.state().digest(), digest, "a refusal changes no state");
        assert_eq!(rt.last_seq(), 2);
        let code = |r: &Outcome<_>| match r {
            Outcome::Rejected(r) => crate::journal::rejection_code(r),
            _ => unreachable!(),
        };
        assert_eq!(
            journal(&store),
            vec![
                (
                    "a".into(),
                    R::Accepted {
                        first_seq: 1,
                        last_seq: 1
                    },
                    0
                ),
                (
                    "b".into(),
                    R::Rejected {
                        code: code(&out[0])
                    },
                    4
                ),
            ]
        );
        // Replay ignores the journal.
        let (state, _) = replay::<Follower<T>>(store.as_ref(), None, false).unwrap();
        assert_eq!(state.digest(), digest);
    }

    /// A snapshot that no longer restores (an older state layout) is only
    /// a lost shortcut: the service replays its whole log and starts.
    #[test]
    fn a_snapshot_that_does_not_restore_falls_back_to_the_log() {
        let store: Arc<dyn EventStore> = Arc::new(store::mem::MemStore::new());
        let mut rt = Runtime::<Follower<T>>::open(store.clone(), 0).unwrap();
        rt.process(vec![
            item(Some(FollowerCommand::Observe { seq: 1, block: 4 }), None),
            item(Some(FollowerCommand::Observe { seq: 2, block: 5 }), None),
        ]);
        let live = rt.state().digest();
        drop(rt);
        store
            .save_snapshot(&store::Snapshot {
                seq: 2,
                state: vec![0xFF; 3],
            })
            .unwrap();
        let (state, stats) = replay::<Follower<T>>(store.as_ref(), None, true).unwrap();
        assert_eq!(stats.from_snapshot, None);
        assert_eq!(stats.events, 2);
        assert_eq!(state.digest(), live);
        let rt = Runtime::<Follower<T>>::open(store, 0).unwrap();
        assert_eq!(rt.state().digest(), live);
    }
}
