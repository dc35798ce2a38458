//! Commands the amm decides on, and who may send them.
//!
//! Users sign staking commands (`Origin::Signed(coldkey)`); the ledger's and
//! consensus's events reach the amm through its inbox and the shell turns
//! them into `Origin::Peer` commands; the genesis is applied once by the
//! shell (`Origin::Genesis`). Every user operation carries an `op` id chosen
//! by the client (the CLI uses its command id): the op keys the saga with
//! the ledger and the `op` query that reports its outcome.

use keys::AccountId;
use serde::{Deserialize, Serialize};

use crate::params::{AmmGenesis, SubnetParam};

/// Longest op id accepted: the ledger's own limit less room for the
/// suffix its settlement step adds (`<op>/settle`, see the ledger service).
pub const MAX_OP_LEN: usize = ledger_core::command::MAX_OP_LEN - 16;

/// The services whose events the amm consumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Peer {
    Ledger,
    Consensus,
}

/// Who sent a command, as the shell established it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    /// A verified user signature (a coldkey; for admin actions the
    /// genesis admin key).
    Signed(AccountId),
    /// Relayed from a peer service's event stream (already trusted by the
    /// stream's publish permissions).
    Peer(Peer),
    /// The shell at start-up (genesis only).
    Genesis,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    pub origin: Origin,
    pub body: CommandBody,
}

impl Command {
    pub fn new(origin: Origin, body: CommandBody) -> Self {
        Command { origin, body }
    }
}

/// How a coldkey's root dividends are paid when claimed (§2.6 step 6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum RootClaimType {
    /// Sell the owed alpha fee-free and stake the TAO on root (default).
    #[default]
    Swap,
    /// Stake the alpha on the subnet.
    Keep,
    /// Keep for the listed subnets, swap the rest.
    KeepSubnets(Vec<u16>),
}

/// What a command asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandBody {
    /// `Genesis`, only on an empty amm: parameters, the root pool and the
    /// genesis subnets (their pool TAO is the ledger's genesis custody).
    ApplyGenesis(AmmGenesis),

    // ---- peers ---------------------------------------------------------
    /// `Peer(Ledger)`, from `BlockProduced`: run the coinbase of block
    /// `height` (must be the next block) spending the `minted` credit.
    Block { height: u64, minted: u64 },
    /// `Peer(Ledger)`, from `StakeFunded`: the TAO of a requested stake is
    /// in custody; execute the swap (or fail and have it refunded).
    StakeFunded { op: String },
    /// `Peer(Ledger)`, from `StepRejected`: the ledger refused a step of
    /// `op` (e.g. the coldkey's balance was too low): the op fails with
    /// `code` and nothing moved.
    LedgerRejected {
        op: String,
        code: String,
        message: String,
    },
    /// `Peer(Consensus)`, from `EpochRan`: pay out the pots accumulated
    /// through `block` (§2.6). `incentive[i]` is the alpha incentive of
    /// `hotkeys[i]` (the epoch's server emission); `dividend[i]` the epoch's
    /// validator emission, used only as a weight.
    Epoch {
        netuid: u16,
        block: u64,
        hotkeys: Vec<AccountId>,
        incentive: Vec<u64>,
        dividend: Vec<u64>,
    },
    /// `Peer(Consensus)`, from `NeuronRegistered`: `hotkey` holds a uid on
    /// `netuid` (replacing `replaced`, if any).
    NeuronRegistered {
        netuid: u16,
        hotkey: AccountId,
        replaced: Option<AccountId>,
    },

    // ---- users (Signed(coldkey)) --------------------------------------
    /// add_stake / add_stake_limit (§3.9). `limit_price` is price × 1e9.
    AddStake {
        op: String,
        hotkey: AccountId,
        netuid: u16,
        amount: u64,
        limit_price: Option<u64>,
        allow_partial: bool,
    },
    /// remove_stake / remove_stake_limit (`alpha` in alpha-RAO).
    RemoveStake {
        op: String,
        hotkey: AccountId,
        netuid: u16,
        alpha: u64,
        limit_price: Option<u64>,
        allow_partial: bool,
    },
    /// unstake_all: sell every position of (hotkey, signer).
    UnstakeAll { op: String, hotkey: AccountId },
    /// move_stake: same coldkey, another hotkey and/or subnet.
    MoveStake {
        op: String,
        origin_hotkey: AccountId,
        destination_hotkey: AccountId,
        origin_netuid: u16,
        destination_netuid: u16,
        alpha: u64,
    },
    /// transfer_stake: same hotkey, another coldkey, maybe another subnet.
    TransferStake {
        op: String,
        destination_coldkey: AccountId,
        hotkey: AccountId,
        origin_netuid: u16,
        destination_netuid: u16,
        alpha: u64,
    },
    /// swap_stake(_limit): same hotkey and coldkey, another subnet.
    SwapStake {
        op: String,
        hotkey: AccountId,
        origin_netuid: u16,
        destination_netuid: u16,
        alpha: u64,
        limit_price: Option<u64>,
        allow_partial: bool,
    },
    /// recycle_alpha: stake leaves, `SubnetAlphaOut` falls.
    RecycleAlpha {
        op: String,
        hotkey: AccountId,
        netuid: u16,
        alpha: u64,
    },
    /// burn_alpha: stake leaves, `SubnetAlphaOut` unchanged.
    BurnAlpha {
        op: String,
        hotkey: AccountId,
        netuid: u16,
        alpha: u64,
    },
    /// claim_root for the signer on the listed subnets (all if empty).
    ClaimRoot { op: String, netuids: Vec<u16> },
    /// set_root_claim_type for the signer.
    SetRootClaimType { claim_type: RootClaimType },
    /// Associates a hotkey with the signing coldkey (the owner), as
    /// registration does on the chain; the first association wins.
    AssociateHotkey { hotkey: AccountId },

    // ---- admin (Signed(genesis admin); governance later) ---------------
    /// A per-subnet or global economic parameter.
    SetParam { netuid: u16, param: SubnetParam },
}
