//! Commands the ledger decides on, who may send them, and what they weigh.

use keys::AccountId;
use serde::{Deserialize, Serialize};

use crate::genesis::Genesis;

/// Most blocks one `AdvanceBlocks` may produce (keeps one decision bounded).
pub const MAX_ADVANCE_BLOCKS: u64 = 10_000;
/// Weight of a transfer (taonet's own constant; with the default fee
/// parameters it costs 100_000 RAO plus the length fee).
pub const TRANSFER_WEIGHT: u64 = 200_000_000;
/// Longest saga operation id accepted.
pub const MAX_OP_LEN: usize = 128;

/// Who sent a command, as the shell established it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    /// A verified user signature.
    Signed(AccountId),
    /// A verified service key (must also be listed in `Genesis::services`).
    Service(AccountId),
    /// The shell's own block timer.
    Clock,
    /// A saga step the shell derived from the amm's event stream (which
    /// only the amm may publish to). A refusal is recorded as
    /// `StepRejected` instead of being returned, because the amm waits for
    /// the outcome.
    Peer,
}

/// Where a settlement sends TAO out of a subnet's custody.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CustodyDest {
    /// A free balance (credits below the existential deposit are recycled).
    Account(AccountId),
    /// Another subnet's custody.
    Custody(u16),
    /// The burn account: issuance unchanged.
    Burn,
    /// Out of circulation: issuance falls.
    Recycle,
}

/// One movement of a settlement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyMove {
    pub from_netuid: u16,
    pub to: CustodyDest,
    pub amount: u64,
}

/// One command: its origin, the length of its signed encoding (for the
/// length fee) and its body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    pub origin: Origin,
    pub encoded_len: u32,
    pub body: CommandBody,
}

impl Command {
    pub fn new(origin: Origin, body: CommandBody) -> Self {
        Command {
            origin,
            encoded_len: 0,
            body,
        }
    }

    pub fn with_len(mut self, encoded_len: u32) -> Self {
        self.encoded_len = encoded_len;
        self
    }
}

/// What a command asks for.
///
/// Saga steps are keyed by `op` and idempotent: the same op with the same
/// parameters again decides to no events; different parameters are an
/// `OperationConflict`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandBody {
    /// Origin `Clock`, only on an empty ledger.
    ApplyGenesis(Genesis),
    /// Origin `Clock`, auto clock only.
    ProduceBlock { timestamp_ms: u64 },
    /// Origin `Signed(admin)`, manual clock only; block i (0-based) gets
    /// `timestamp_ms + i·block_time_ms`.
    AdvanceBlocks {
        n: u64,
        timestamp_ms: u64,
        block_time_ms: u64,
    },
    /// Origin `Signed(sender)`. `keep_alive` refuses to reap the sender.
    Transfer {
        to: AccountId,
        amount: u64,
        keep_alive: bool,
    },
    /// Stake: coldkey free → custody[netuid] (keep-alive).
    FundStake {
        op: String,
        coldkey: AccountId,
        netuid: u16,
        amount: u64,
    },
    /// Compensates `FundStake`: custody[netuid] → coldkey.
    RefundStake { op: String },
    /// Unstake proceeds, dissolution payouts: custody[netuid] → `to`.
    PayFromCustody {
        op: String,
        netuid: u16,
        to: AccountId,
        amount: u64,
    },
    /// Subnet registration lock: coldkey free → locked[op] (keep-alive).
    LockForSubnet {
        op: String,
        coldkey: AccountId,
        amount: u64,
    },
    /// locked[op] → custody[netuid]: the new pool's initial TAO.
    ConfirmLock { op: String, netuid: u16 },
    /// Compensates `LockForSubnet`: locked[op] → coldkey.
    ReleaseLock { op: String },
    /// Neuron registration burn: coldkey free → custody[netuid]; the amm
    /// swaps it to alpha and burns the alpha (governance.md §4.2).
    FundRegistration {
        op: String,
        coldkey: AccountId,
        netuid: u16,
        amount: u64,
    },
    /// Compensates `FundRegistration`: custody[netuid] → coldkey.
    RefundRegistration { op: String },
    /// custody[netuid] leaves circulation: total issuance falls (§4.3).
    RecycleFromCustody {
        op: String,
        netuid: u16,
        amount: u64,
    },
    /// `from` free → burn account: total issuance unchanged (§4.3).
    BurnTao {
        op: String,
        from: AccountId,
        amount: u64,
    },
    /// Custody movements the amm decided (unstake proceeds, stake refunds
    /// of unexecuted TAO, swap fees, cross-subnet moves), all or nothing.
    Settle { op: String, moves: Vec<CustodyMove> },
    /// Origin `Service`: moves the coinbase credit of `block` into custody
    /// accounts, once per block; whatever is not claimed is recycled at once
    /// (as `run_coinbase` recycles its unspent credit).
    ClaimCoinbase {
        block: u64,
        credits: Vec<(u16, u64)>,
    },
}

/// Weight charged for a user-signed command, or `None` if it pays no fee.
///
/// | body | weight |
/// |---|---|
/// | `Transfer` | [`TRANSFER_WEIGHT`] |
/// | `AdvanceBlocks` (admin) | none: an operator action, like `Pays::No` sudo calls |
/// | everything else | none: not user-signed (clock or service origin) |
pub fn fee_weight(body: &CommandBody) -> Option<u64> {
    match body {
        CommandBody::Transfer { .. } => Some(TRANSFER_WEIGHT),
        _ => None,
    }
}
