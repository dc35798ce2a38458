//! The pure TAO ledger: block clock, halving emission, balances, custody, fees.
//!
//! A synchronous state machine behind [`aggregate::Aggregate`]: no clock, no
//! I/O, no randomness, no floating point. Block height and timestamps arrive
//! inside commands; the service shell adds the log and the bus.
//!
//! - [`emission`]: block emission by issuance (tokenomics.md §1.1), the mint
//!   cap, the halving schedule, and the supply constants.
//! - [`genesis`]: the genesis config ([`Genesis`]) and the parameters kept
//!   from it.
//! - [`command`]: [`Command`], its [`Origin`] and [`CommandBody`], and the
//!   fee weight table.
//! - [`event`]: [`LedgerEvent`] and its versioned encoding (with one real
//!   upcast: `Transferred` v1 → v2).
//! - [`rejection`]: [`Rejection`], named after the chain's error classes.
//! - [`state`]: the [`Ledger`] state, its queries and `check_invariants`.
//! - `decide`: the rules.
//!
//! Deliberate differences from the chain: transaction fees are burned
//! (total issuance falls; there is no block author); a rejected command pays
//! nothing; a transfer to oneself is refused; unclaimed coinbase credit
//! survives `coinbase_claim_window` blocks instead of being recycled at the
//! end of the block that minted it, because the amm claims it asynchronously.

pub mod command;
mod decide;
pub mod emission;
pub mod event;
pub mod genesis;
pub mod rejection;
pub mod state;

pub use command::{fee_weight, Command, CommandBody, CustodyDest, CustodyMove, Origin};
pub use emission::{
    block_emission, era, mint_amount, schedule, EmissionSchedule, BLOCKS_PER_DAY,
    DEFAULT_BLOCK_EMISSION, RAO_PER_TAO, TOTAL_SUPPLY,
};
pub use event::{LedgerEvent, EVENT_SCHEMA};
pub use genesis::{Clock, Fees, Genesis, Params, NEVER_EXPIRE};
pub use rejection::Rejection;
pub use state::{burn_account, Ledger, LockStatus, Operation};

use aggregate::Aggregate;

/// Version of the snapshot layout; bumped when the state's shape changes,
/// so an old snapshot is refused (and the log replayed) instead of misread.
/// (2: the fee recipient in the parameters.)
pub const SNAPSHOT_VERSION: u16 = 2;

impl Aggregate for Ledger {
    const SERVICE: &'static str = "ledger";
    type Command = Command;
    type Event = LedgerEvent;
    type Rejection = Rejection;

    fn decide(&self, command: &Command) -> Result<Vec<LedgerEvent>, Rejection> {
        self.decide_command(command)
    }

    fn evolve(&mut self, event: &LedgerEvent) {
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
        let ledger: Ledger = aggregate::canonical::restore(SNAPSHOT_VERSION, bytes)?;
        ledger
            .check_invariants()
            .map_err(|e| format!("snapshot breaks an invariant: {e}"))?;
        Ok(ledger)
    }
}
