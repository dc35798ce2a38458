//! The pure governance core: subnets and their registration saga,
//! hyperparameters with who may set them, neuron registration by burn, the
//! root network and the senate, delegation and childkeys, stake locks and
//! conviction, and the Triumvirate + Senate collective that replaces the
//! bootstrap admin key (governance.md §1–§5, §7), behind
//! [`aggregate::Aggregate`].
//!
//! No clock, no I/O, no randomness, no floating point in state. Blocks come
//! from the ledger (`Block`), stake and EMA prices from the amm (`Stakes`,
//! `Market`), the epoch schedule and registration outcomes from consensus
//! (`EpochSchedule`, `NeuronRegistered`, `StepRefused`); users sign commands.
//!
//! - [`params`]: [`Config`] (global, Root-settable), [`Hyperparameter`]
//!   (§3.7: setter, target service, owner rate limit, freeze window),
//!   [`GlobalParam`], [`AdminAction`].
//! - [`command`], [`event`], [`rejection`]: the contract.
//! - [`math`]: lock cost, burn growth/decay (Q32), exponential locks.
//! - [`state`]: [`Governance`], `apply`, queries (`lock_cost`, `burn`,
//!   `available_stake`, `subnet_to_prune`, `emission_eligible`, …) and
//!   [`Governance::check_invariants`].
//!
//! Deliberate differences from the chain:
//! - a subnet registration is a saga (ledger lock → governance records →
//!   amm pool + consensus metagraph); at most one is in flight (the
//!   chain-wide rate limit counts it). A failure after the lock refunds the
//!   lock and drops the record, but a subnet pruned to make room stays
//!   dissolved; hotkey associations made on the way (subnet or neuron
//!   registration) stay too;
//! - a neuron registration is a saga too: request (burn bumped) → the
//!   ledger takes the burn (`RegistrationFunded`) → consensus registers →
//!   `NeuronRegistered` (the amm then swaps the burn and burns the alpha);
//!   a failure after the funding refunds the burn, before it refunds
//!   nothing. Ops are kept after they finish ([`Governance::op_status`]);
//! - genesis subnets ([`GenesisSubnet`]) exist registered and opened at
//!   block 0 with their neurons; neuron hotkeys without a known coldkey
//!   belong to the subnet owner;
//! - the neuron pruning choice is consensus's: governance only refuses when
//!   no uid could be freed (`NoNeuronIdAvailable`, owner-immortal uids
//!   excluded). The burn is bumped when the request is accepted, so a
//!   registration that later fails still raised the price;
//! - balances are the ledger's: "cannot afford" arrives as a saga failure
//!   code (or `max_lock_cost` on the command refuses up front);
//! - symbols are indices into the chain's 439-entry list (the CLI shows
//!   the glyphs); `CannotUseSystemAccount` and mechanisms are not modelled;
//! - root's interval counter resets on the legacy root epoch
//!   `(block + 1) mod 101 == 0`;
//! - proposals snapshot their voters (the senate and, when stake-weighted,
//!   root stakes) at creation; `close` is open to anyone (the pre-Feb-2025
//!   rule, since Root is the collective here); votes name a proposal by id
//!   (no hash/index pair, so no `IndexMismatchProposalHash`); a senator's
//!   vote stays valid if it later loses its seat;
//! - pending childkeys apply at the subnet's first epoch after the
//!   cooldown, and are not dropped when the parent's stake falls;
//!   childkey stake inheritance is the amm's business;
//! - the conviction takeover (flag `conviction_takeover`, off) changes the
//!   owner and owner hotkey only: it neither registers the king as a
//!   neuron nor moves owner lock buckets;
//! - `transfer_stake` of locked alpha and `set_reject_locked_alpha` are not
//!   modelled (locks move only by `move_lock`).

pub mod command;
mod decide;
pub mod event;
pub mod math;
pub mod params;
pub mod rejection;
pub mod state;

pub use command::{Command, CommandBody, Origin, Peer, StakeReport};
pub use event::{GovernanceEvent, EVENT_SCHEMA};
pub use params::{
    AdminAction, Config, EmissionRule, GenesisSubnet, GlobalParam, Hyperparameter, Setter,
    SubnetIdentity, SubnetParams, Target, VoteWeighting,
};
pub use rejection::Rejection;
pub use state::{
    Governance, Lock, NeuronOpStatus, OpKind, OpStatus, Proposal, Stage, Subnet, SubnetStatus,
};

use aggregate::Aggregate;

/// Version of the snapshot layout; bumped when the state's shape changes
/// (3: hotkey alpha and spot prices instead of hotkey total stakes).
pub const SNAPSHOT_VERSION: u16 = 3;

impl Aggregate for Governance {
    const SERVICE: &'static str = "governance";
    type Command = Command;
    type Event = GovernanceEvent;
    type Rejection = Rejection;

    fn decide(&self, command: &Command) -> Result<Vec<GovernanceEvent>, Rejection> {
        self.decide_command(command)
    }

    fn evolve(&mut self, event: &GovernanceEvent) {
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
        let state: Governance = aggregate::canonical::restore(SNAPSHOT_VERSION, bytes)?;
        state
            .check_invariants()
            .map_err(|e| format!("snapshot breaks an invariant: {e}"))?;
        Ok(state)
    }
}
