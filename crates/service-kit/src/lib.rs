//! The machine every taonet service is: commands in, pure decision, events
//! appended durably, events published, other services' events consumed
//! exactly once, state rebuilt by replay.
//!
//! - [`Service`]: what a service adds to its pure core ([`aggregate::Aggregate`]):
//!   how wire commands map to core commands, which streams it consumes,
//!   its clock, its queries.
//! - [`runtime`]: the synchronous heart: replay, group commit of a batch of
//!   commands into one store append, idempotency, snapshots. No NATS, so it
//!   is tested directly.
//! - [`shell`]: the async service loop around it: NATS subscriptions,
//!   signature checks, the outbox and inbox tasks, the block timer,
//!   shutdown.
//!
//! Invariant: the runtime is the only writer of its store, and state is only
//! changed by `evolve` on events that were decided against it; on any
//! storage failure the state is rebuilt from the log, so memory never runs
//! ahead of what is durable.

pub mod follower;
pub mod journal;
pub mod runtime;
pub mod shell;

use aggregate::Aggregate;
use envelope::Envelope;
use keys::AccountId;
use serde::{de::DeserializeOwned, Serialize};
use std::time::Duration;

pub use runtime::{Outcome, Pending, ReplayStats, Runtime, RuntimeError};
pub use shell::{run, Faults, ServiceConfig, ShellError};

/// Who sent a verified command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A user key, on `taonet.cmd.<service>.*`.
    User(AccountId),
    /// A service key, on `taonet.svc.<service>.*` (saga steps). The core
    /// still checks that the key is one it trusts.
    Service(AccountId),
}

/// A service = a pure core + the glue the shell needs. Implemented by a
/// marker type in the service crate, so cores stay free of shell types.
pub trait Service: Send + Sync + 'static {
    type Core: Aggregate<Event: Serialize>;
    /// The JSON command clients put in a signed body.
    type Wire: DeserializeOwned + Send + 'static;

    /// Turns a verified wire command into a core command.
    fn admit(caller: Caller, encoded_len: u32, wire: Self::Wire) -> Cmd<Self>;

    /// Services whose events this one consumes.
    fn sources() -> &'static [&'static str] {
        &[]
    }

    /// The command (if any) a foreign event causes, read off the wire.
    fn on_foreign(core: &Self::Core, event: &Envelope) -> Option<Cmd<Self>> {
        Self::on_foreign_event(core, envelope::Foreign::wire(event))
    }

    /// The command (if any) a foreign event causes, however it was
    /// delivered: services implement this one, so the wire
    /// ([`Service::on_foreign`]) and the simulator's in-process delivery
    /// run the same glue.
    fn on_foreign_event(_core: &Self::Core, _event: envelope::Foreign<'_>) -> Option<Cmd<Self>> {
        None
    }

    /// How often the shell's timer fires, if this service has a clock.
    fn tick_interval(_core: &Self::Core) -> Option<Duration> {
        None
    }

    /// The command a timer tick at wall time `now_ms` causes.
    fn on_tick(_core: &Self::Core, _now_ms: u64) -> Option<Cmd<Self>> {
        None
    }

    /// Read-only queries, answered from the live state.
    fn query(
        core: &Self::Core,
        name: &str,
        args: &serde_json::Value,
    ) -> Result<serde_json::Value, String>;
}

/// The core command type of a service.
pub type Cmd<G> = <<G as Service>::Core as Aggregate>::Command;

/// Hex of a digest, as printed by status queries and `taonet replay`.
pub fn digest_hex(d: &[u8; 32]) -> String {
    hex::encode(d)
}
