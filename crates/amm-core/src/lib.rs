//! The pure dTAO economy core: subnet pools, stake share pools, staking
//! operations, the per-block coinbase and the epoch payouts
//! (tokenomics.md §2 and §3), and the subnet lifecycle governance drives
//! (governance.md §3, §4.2), behind [`aggregate::Aggregate`].
//!
//! No clock, no I/O, no randomness, no floating point. Blocks arrive from
//! the ledger (`Block`), epoch results from consensus (`Epoch`), subnet
//! openings, closings, dissolutions, registration burns, owner changes and
//! parameters from governance, staking commands signed by coldkeys. TAO never moves here: the amm decides and
//! the ledger carries out the custody movements it is told to
//! ([`event::TaoSettlement`], [`event::StakeRequested`],
//! [`event::CoinbaseRan`]), keyed by op id.
//!
//! - [`command`], [`params`], [`event`]: the contract with the other services.
//! - [`rejection`]: [`Rejection`], named after the chain's error classes.
//! - [`state`]: [`Amm`], the copy-on-write [`state::Tx`] every decision runs
//!   in, the single `apply`, [`Amm::check_invariants`].
//! - `decide` (dispatch, stake weights, stake report), `staking`,
//!   [`coinbase`], [`payout`], `claims`, [`lifecycle`], [`childkeys`].
//! - [`query`]: subnet summaries, portfolios, op status, totals.
//!
//! Deliberate differences from the chain (see each module):
//! - fees are burned (no block author): TAO fees to the burn account, alpha
//!   fees as burned alpha;
//! - share pools keep exact integer shares instead of `SafeFloat`;
//! - epoch incentives are weights over the server pot (never more alpha
//!   than was minted); unplaceable alpha is recycled, rounding is dust;
//! - automatic root claims pick coldkeys round-robin instead of by block hash;
//! - no `AutoStakeDestination`, no transfer toggle;
//! - childkeys are governance's: the amm mirrors the lists in force and
//!   the childkey takes (`SetChildren`/`SetChildkeyTake`) for the stake
//!   weights and the epoch payout; a `CKBurn` share of the pots is
//!   recycled instead of being recycled on top of them (see `childkeys`);
//! - stake locks are governance's: the amm mirrors each lock's mass
//!   (`SetLock`/`ClearLock`/`SetUnlockRate`) and enforces only the unstake
//!   guard (`StakeUnavailable`, see `staking`); `transfer_stake` never
//!   moves locked alpha (it may take only the available alpha); a lock
//!   whose mass and conviction decayed below the dust (100) is gone for
//!   governance at once but keeps its mass (< 100 rao) locked here until
//!   governance's `LockRemoved` (at its next epoch) clears it;
//! - registration burns pay the swap fee like stakes do (burned);
//! - every dissolved subnet is treated as one registered after
//!   `TaoInRefundDeploymentBlock` and `NetworkRegistrationStartBlock`
//!   (genesis ones too): the pool alpha takes its unpaid share, no lock
//!   refund; payouts are summed per coldkey;
//! - the stake report's total hotkey stake has no childkey inheritance.

pub mod childkeys;
mod claims;
pub mod coinbase;
pub mod command;
mod decide;
pub mod event;
pub mod fx;
pub mod lifecycle;
pub mod params;
pub mod payout;
pub mod query;
pub mod rejection;
pub mod shares;
mod staking;
pub mod state;

pub use command::{Command, CommandBody, Origin, Peer, RootClaimType};
pub use event::{AmmEvent, EVENT_SCHEMA};
pub use params::{AmmGenesis, AmmParams, GenesisNeuron, GenesisSubnet, SubnetParam};
pub use rejection::Rejection;
pub use shares::EmissionRule;
pub use state::{Amm, OpStatus, StakeLock, Subnet};

use aggregate::Aggregate;

/// Version of the snapshot layout; bumped when the state's shape changes
/// (2: subnet lifecycle fields and the stake figures reported to governance;
/// 3: the mirrored stake locks and the unlock rate; 4: childkeys, childkey
/// takes and `CKBurn`; 7: the hotkey totals reported to governance are no
/// longer kept, `StakeReport` v2 carries alpha and prices instead).
pub const SNAPSHOT_VERSION: u16 = 7;

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

    /// Decides in the state itself: the decision applies each event as it
    /// emits it (`Tx::emit`), so the state it leaves *is* `evolve` of every
    /// event, in order (docs/decisions/0012); a rejection undoes its writes
    /// (`Tx::rollback`), so it changes nothing. In place rather than a
    /// layer to commit: no second lookup on reads, no commit pass
    /// (docs/decisions/0013). The property tests replay every live run
    /// through `evolve` alone and compare digests, and check that a
    /// rejected command leaves the digest as it was.
    fn handle(&mut self, command: &Command) -> Result<Vec<AmmEvent>, Rejection> {
        self.decide_in_place(command)
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
