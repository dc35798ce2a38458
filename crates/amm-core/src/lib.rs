//! The pure dTAO economy core: subnet pools, stake share pools, staking
//! operations, the per-block coinbase and the epoch payouts
//! (tokenomics.md §2 and §3), behind [`aggregate::Aggregate`].
//!
//! No clock, no I/O, no randomness, no floating point. Blocks arrive from
//! the ledger (`Block`), epoch results from consensus (`Epoch`), staking
//! commands signed by coldkeys. TAO never moves here: the amm decides and
//! the ledger carries out the custody movements it is told to
//! ([`event::TaoSettlement`], [`event::StakeRequested`],
//! [`event::CoinbaseRan`]), keyed by op id.
//!
//! - [`command`], [`params`], [`event`]: the contract with the other services.
//! - [`rejection`]: [`Rejection`], named after the chain's error classes.
//! - [`state`]: [`Amm`], the copy-on-write [`state::Tx`] every decision runs
//!   in, the single `apply`, [`Amm::check_invariants`].
//! - `decide` (dispatch), `staking`, [`coinbase`], [`payout`], `claims`.
//! - [`query`]: subnet summaries, portfolios, op status, totals.
//!
//! Deliberate differences from the chain (see each module):
//! - fees are burned (no block author): TAO fees to the burn account, alpha
//!   fees as burned alpha;
//! - share pools keep exact integer shares instead of `SafeFloat`;
//! - epoch incentives are weights over the server pot (never more alpha
//!   than was minted); unplaceable alpha is recycled, rounding is dust;
//! - automatic root claims pick coldkeys round-robin instead of by block hash;
//! - no childkeys, no locks, no `AutoStakeDestination`, no transfer toggle.

mod claims;
pub mod coinbase;
pub mod command;
mod decide;
pub mod event;
pub mod fx;
pub mod params;
pub mod payout;
pub mod query;
pub mod rejection;
mod staking;
pub mod state;

pub use command::{Command, CommandBody, Origin, Peer, RootClaimType};
pub use event::{AmmEvent, EVENT_SCHEMA};
pub use params::{AmmGenesis, AmmParams, GenesisNeuron, GenesisSubnet, SubnetParam};
pub use rejection::Rejection;
pub use state::{Amm, OpStatus, Subnet};

use aggregate::Aggregate;

/// Version of the snapshot layout; bumped when the state's shape changes.
pub const SNAPSHOT_VERSION: u16 = 1;

impl Aggregate for Amm {
    const SERVICE: &'static str = "amm";
    type Command = Command;
    type Event = AmmEvent;
    type Rejection = Rejection;

    fn decide(&self, command: &Command) -> Result<Vec<AmmEvent>, Rejection> {
        self.decide_command(command)
    }

    fn evolve(&mut self, event: &AmmEvent) {
        self.apply_event(event)
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
        let state: Amm = aggregate::canonical::restore(SNAPSHOT_VERSION, bytes)?;
        state
            .check_invariants()
            .map_err(|e| format!("snapshot breaks an invariant: {e}"))?;
        Ok(state)
    }
}
