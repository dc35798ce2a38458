//! The contract between a pure core and the service shell that runs it.
//!
//! A core is a synchronous state machine: [`Aggregate::decide`] turns a
//! command into events or a typed rejection without touching the state, and
//! [`Aggregate::evolve`] applies one event. No clock, no I/O, no randomness:
//! block height and time arrive inside commands. The shell (service-kit)
//! adds the log, the bus and tracing; the simulator runs the same cores in
//! one process.
//!
//! Invariant every core must keep: replaying the events a sequence of
//! `decide` calls produced, through `evolve`, gives the same state (and so
//! the same [`Aggregate::digest`]) as the live run.

use envelope::VersionedEvent;
use serde::Serialize;

pub trait Aggregate: Default + Send + Sync + 'static {
    /// Service name; also the log and stream name.
    const SERVICE: &'static str;
    type Command: Send;
    /// `'static`: events are plain data, and in process they are handed
    /// over as `dyn Any` (the simulator).
    type Event: VersionedEvent + Clone + std::fmt::Debug + Send + Sync + 'static;
    /// A domain rejection: names the rule that refused the command.
    type Rejection: std::error::Error + Serialize + Clone + Send + Sync;

    /// Decides what a command does against the current state.
    fn decide(&self, command: &Self::Command) -> Result<Vec<Self::Event>, Self::Rejection>;
    /// Applies one event. Must not fail: events are facts.
    fn evolve(&mut self, event: &Self::Event);
    /// Current block height (stamped on the envelopes of new events).
    fn block(&self) -> u64;
    /// A hash over the canonical state: equal digests mean equal states.
    fn digest(&self) -> [u8; 32];
    /// Canonical bytes of the whole state, for snapshots.
    fn snapshot(&self) -> Vec<u8>;
    /// Rebuilds a state from [`Aggregate::snapshot`] bytes.
    fn restore(bytes: &[u8]) -> Result<Self, String>;

    /// Decides and, on success, evolves: the live path.
    fn handle(&mut self, command: &Self::Command) -> Result<Vec<Self::Event>, Self::Rejection> {
        let events = self.decide(command)?;
        for e in &events {
            self.evolve(e);
        }
        Ok(events)
    }
}

/// Canonical-state helpers every core uses the same way, so digests and
/// snapshots mean the same thing in every service.
pub mod canonical {
    use envelope::codec;
    use serde::{de::DeserializeOwned, Serialize};

    /// blake3 over the canonical (bincode) encoding of a state.
    pub fn digest<T: Serialize>(state: &T) -> [u8; 32] {
        *blake3::hash(&codec::encode(state)).as_bytes()
    }

    /// A snapshot: the format version, then the state.
    pub fn snapshot<T: Serialize>(version: u16, state: &T) -> Vec<u8> {
        codec::encode(&(version, state))
    }

    /// Reads a [`snapshot`], refusing any other format version.
    pub fn restore<T: DeserializeOwned>(version: u16, bytes: &[u8]) -> Result<T, String> {
        let (found, state): (u16, T) = codec::decode(bytes)?;
        if found != version {
            return Err(format!("snapshot version {found}, expected {version}"));
        }
        Ok(state)
    }
}
