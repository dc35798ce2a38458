//! The pure consensus core: metagraphs, weight setting, commit-reveal,
//! neuron registration and the epoch scheduler around `yuma::run_epoch`.
//!
//! A synchronous state machine behind [`aggregate::Aggregate`]: no clock, no
//! I/O, no randomness, no floating point. Blocks arrive as `ObserveBlock`
//! (the shell relays the ledger's `BlockProduced`), stake and emission from
//! the amm, subnets and registrations from governance.
//!
//! - [`params`]: [`SubnetParams`] (chain defaults), [`Hyperparameter`], bounds.
//! - [`command`]: [`Command`], its [`Origin`] and [`CommandBody`].
//! - [`event`]: [`ConsensusEvent`] and its versioned encoding.
//! - [`rejection`]: [`Rejection`], named after the chain's error classes.
//! - [`state`]: the [`Consensus`] state, evolve, queries ([`Metagraph`],
//!   [`SubnetSummary`]), the pruning choice and `check_invariants`.
//! - [`weights`]: set_weights validation in the chain's order and the
//!   commit hash ([`commit_hash`]).
//! - `epoch`: metagraph → engine inputs → `EpochRan`; nothing computed here.
//! - `decide`: the rules and the scheduler.
//!
//! Governance's saga steps: `CreateSubnet` / `RegisterNeuron` carrying an
//! `op` are answered by `SubnetCreated` (the owner hotkey registered at
//! uid 0 with it) / `NeuronRegistered` with that op,
//! or — for any domain rejection — by a recorded `StepRefused { op, code,
//! message }` (the shell relays them as `Origin::Clock` or a service key;
//! a wrong origin is still a plain rejection). `DropSubnet` forgets a
//! subnet. `EpochScheduleChanged` follows every event that moves a
//! subnet's (next epoch block, trigger pending), and every `EpochRan`.
//!
//! Deliberate differences from the chain:
//! - commit-reveal is the hash scheme (v2) with a blake3 commitment (see
//!   [`weights`]); the drand time-lock (v3/v4) is out of scope. Its epochs
//!   are `SubnetEpochIndex` (the epochs this core ran), not the legacy
//!   `(block + netuid + 1) / (tempo + 1)` formula;
//! - who may set which hyperparameter, rate limits and the admin freeze
//!   window are governance's checks; consensus keeps only value bounds;
//! - the stake weight is what the amm reports (no child-key inheritance
//!   here), and `StakeThreshold` is per subnet;
//! - subnets are visited in netuid order when epochs are due;
//! - a replaced uid's old hotkey loses its queued commits.

pub mod command;
mod decide;
mod epoch;
pub mod event;
pub mod params;
pub mod rejection;
pub mod state;
pub mod weights;

pub use command::{Command, CommandBody, Origin};
pub use event::{ConsensusEvent, EVENT_SCHEMA};
pub use params::{Hyperparameter, SubnetParams};
pub use rejection::Rejection;
pub use state::{Commit, Consensus, Metagraph, Neuron, NeuronInfo, Subnet, SubnetSummary};
pub use weights::commit_hash;

use aggregate::Aggregate;

/// Version of the snapshot layout; bumped when the state's shape changes.
pub const SNAPSHOT_VERSION: u16 = 1;

impl Aggregate for Consensus {
    const SERVICE: &'static str = "consensus";
    type Command = Command;
    type Event = ConsensusEvent;
    type Rejection = Rejection;

    fn decide(&self, command: &Command) -> Result<Vec<ConsensusEvent>, Rejection> {
        self.decide_command(command)
    }

    fn evolve(&mut self, event: &ConsensusEvent) {
        self.apply(event)
    }

    fn block(&self) -> u64 {
        self.height
    }

    fn digest(&self) -> [u8; 32] {
        aggregate::canonical::digest(self)
    }

    fn snapshot(&self) -> Vec<u8> {
        aggregate::canonical::snapshot(SNAPSHOT_VERSION, self)
    }

    fn restore(bytes: &[u8]) -> Result<Self, String> {
        let state: Consensus = aggregate::canonical::restore(SNAPSHOT_VERSION, bytes)?;
        state
            .check_invariants()
            .map_err(|e| format!("snapshot breaks an invariant: {e}"))?;
        Ok(state)
    }
}
