//! Commands governance decides on, and who may send them.
//!
//! Users sign (`Origin::Signed(coldkey)`; the admin key for admin actions).
//! The other services' events reach governance through its inbox and the
//! shell turns them into `Origin::Peer` commands: blocks from the ledger,
//! saga outcomes, stake and EMA prices from the amm, the epoch schedule and
//! registration outcomes from consensus. Saga steps are keyed by the `op`
//! id the client chose.
//!
//! Neuron registration by burn: `BurnedRegister` → `NeuronRegistrationRequested`
//! → ledger `RegistrationFunded` | `LedgerRejected` → `NeuronRegistrationFunded`
//! → consensus `NeuronRegistered` | `StepRefused` → `NeuronRegistered` (the
//! amm swaps the burn and burns the alpha) | `NeuronRegistrationFailed`.

use keys::AccountId;
use serde::{Deserialize, Serialize};

use crate::params::{AdminAction, Config, GenesisSubnet, Hyperparameter, SubnetIdentity};

/// The services whose events governance consumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Peer {
    Ledger,
    Amm,
    Consensus,
}

/// Who sent a command, as the shell established it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    /// A verified user signature (coldkey; the admin key for `Admin`).
    Signed(AccountId),
    /// Relayed from a peer service's event stream.
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

/// A hotkey's stake as the amm reports it (its `StakeReport` v2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StakeReport {
    /// (hotkey, TAO staked on root under it).
    pub root: Vec<(AccountId, u64)>,
    /// (hotkey, netuid, `TotalHotkeyAlpha`) of the pools that changed, for
    /// `StakeThreshold` (0: the pool is gone).
    pub hotkey_alpha: Vec<(AccountId, u16, u64)>,
    /// (netuid, spot price as U64F64 bits) of the subnets whose price
    /// moved (0: the subnet is gone).
    pub prices: Vec<(u16, u128)>,
    /// (coldkey, netuid, alpha of the coldkey on the subnet over all its
    /// hotkeys) for locks.
    pub coldkey_alpha: Vec<(AccountId, u16, u64)>,
}

/// What a command asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandBody {
    /// `Genesis`, once: the bootstrap admin key (None: none at all), the
    /// configuration and the first triumvirate; `last_lock` seeds
    /// (`NetworkLastLockCost`, last lock block) as the chain's migrations
    /// did (e.g. (1 250 TAO, now) ⇒ the next subnet costs 2 500 TAO).
    /// Creates the root network and the genesis `subnets` (see
    /// [`GenesisSubnet`] for what they are and who owns their hotkeys).
    ApplyGenesis {
        admin: Option<AccountId>,
        config: Config,
        triumvirate: Vec<AccountId>,
        last_lock: (u64, u64),
        #[serde(default)]
        subnets: Vec<GenesisSubnet>,
    },

    // ---- peers ---------------------------------------------------------
    /// `Peer(Ledger)`: block `height` (the next one; the first may be any).
    /// Burn prices decay, root's interval counter resets on its tempo.
    /// `emission`: the TAO the block minted (0: unknown); a new value is
    /// recorded as by `BlockEmission`.
    Block {
        height: u64,
        #[serde(default)]
        emission: u64,
    },
    /// `Peer(Ledger)`: the current block emission (RAO), which scales the
    /// lock reduction interval.
    BlockEmission {
        rao: u64,
    },
    /// `Peer(Ledger)`: the registration lock of `op` is held.
    LockConfirmed {
        op: String,
    },
    /// `Peer(Ledger)`: the ledger refused the lock (e.g. balance).
    LockRefused {
        op: String,
        code: String,
    },
    /// `Peer(Ledger)`: the ledger took the burn of the neuron registration
    /// `op` (coldkey → custody; its `RegistrationFunded`). Pending → Funded:
    /// consensus registers the hotkey next. If the subnet was dissolved
    /// meanwhile the registration fails at once with refund = burn.
    RegistrationFunded {
        op: String,
    },
    /// `Peer(Ledger)`: the ledger refused a step of `op` (its `StepRejected`).
    /// A subnet registration waiting for its lock fails as by `LockRefused`;
    /// a neuron registration waiting for its funding fails with refund 0.
    LedgerRejected {
        op: String,
        code: String,
    },
    /// `Peer(Amm)` or `Peer(Consensus)`: the peer refused its step of `op`
    /// (their `StepRefused`). A subnet registration waiting for that peer's
    /// pool / metagraph fails as by `PoolRefused` / `MetagraphRefused`; a
    /// funded neuron registration refused by consensus fails with refund =
    /// burn.
    StepRefused {
        op: String,
        code: String,
    },
    /// `Peer(Amm)`: the pool of `op`'s subnet is open.
    PoolOpened {
        op: String,
    },
    /// `Peer(Amm)`: the amm could not open the pool.
    PoolRefused {
        op: String,
        code: String,
    },
    /// `Peer(Consensus)`: the metagraph of `op`'s subnet is open.
    MetagraphOpened {
        op: String,
    },
    /// `Peer(Consensus)`: consensus could not open the metagraph.
    MetagraphRefused {
        op: String,
        code: String,
    },
    /// `Peer(Amm)`: (netuid, EMA price as I96F32 bits, SubnetAlphaOut);
    /// unknown netuids are skipped.
    Market {
        entries: Vec<(u16, i128, u64)>,
        /// (netuid, TAO credited by the block's coinbase): the emission
        /// values the `root-weights` rule prunes by. Empty: unchanged.
        #[serde(default)]
        credits: Vec<(u16, u64)>,
    },
    /// `Peer(Amm)`: the amm switched its emission-share rule (its
    /// `ParamSet`); pruning at the subnet limit follows it.
    EmissionRuleChanged {
        rule: crate::params::EmissionRule,
    },
    /// `Peer(Amm)`: stake figures (replacing earlier values of the same keys).
    Stakes(StakeReport),
    /// `Peer(Consensus)`: a subnet's next automatic epoch block and whether
    /// a triggered epoch is pending; `epoch_ran`: an epoch just ran (pending
    /// childkeys apply, the conviction takeover is evaluated). Consensus's
    /// `EpochScheduleChanged` field for field (it follows every `EpochRan`
    /// with `epoch_ran` set, so `EpochRan` itself need not be relayed).
    /// Unknown subnets are skipped.
    EpochSchedule {
        netuid: u16,
        next_epoch_block: u64,
        trigger_pending: bool,
        epoch_ran: bool,
    },
    /// `Peer(Consensus)`: the funded registration `op` holds `uid`
    /// (accepted only once the ledger funded it).
    NeuronRegistered {
        op: String,
        uid: u16,
        replaced: Option<AccountId>,
    },
    /// Any peer: the neuron registration `op` (pending or funded) failed
    /// with `code`. The core decides the refund: the burn if the ledger had
    /// funded it, else 0.
    NeuronRegistrationFailed {
        op: String,
        code: String,
    },

    // ---- subnets (Signed(coldkey)) -------------------------------------
    /// `register_network(_with_identity)`; `max_lock_cost` refuses a lock
    /// cost above it (`CannotAffordLockCost`).
    RegisterNetwork {
        op: String,
        hotkey: AccountId,
        identity: Option<SubnetIdentity>,
        max_lock_cost: Option<u64>,
    },
    StartCall {
        netuid: u16,
    },
    SetSubnetOwnerHotkey {
        netuid: u16,
        hotkey: AccountId,
    },
    SetSubnetIdentity {
        netuid: u16,
        identity: SubnetIdentity,
    },
    UpdateSymbol {
        netuid: u16,
        symbol: u16,
    },
    /// An owner hyperparameter (rate-limited; Root uses `Admin`).
    SetHyperparameter {
        netuid: u16,
        param: Hyperparameter,
    },

    // ---- neurons -------------------------------------------------------
    /// `burned_register` / `register_limit` (`limit_price` in RAO).
    BurnedRegister {
        op: String,
        netuid: u16,
        hotkey: AccountId,
        limit_price: Option<u64>,
    },

    // ---- root ----------------------------------------------------------
    RootRegister {
        hotkey: AccountId,
    },
    /// `adjust_senate(hotkey)`: a root member takes a free or weaker seat.
    AdjustSenate {
        hotkey: AccountId,
    },

    // ---- delegation ----------------------------------------------------
    DecreaseTake {
        hotkey: AccountId,
        take: u16,
    },
    IncreaseTake {
        hotkey: AccountId,
        take: u16,
    },
    /// `set_children`: (u64 proportion, child hotkey).
    SetChildren {
        hotkey: AccountId,
        netuid: u16,
        children: Vec<(u64, AccountId)>,
    },
    SetChildkeyTake {
        hotkey: AccountId,
        netuid: u16,
        take: u16,
    },

    // ---- locks ---------------------------------------------------------
    LockStake {
        hotkey: AccountId,
        netuid: u16,
        amount: u64,
    },
    SetPerpetualLock {
        netuid: u16,
        perpetual: bool,
    },
    MoveLock {
        destination_hotkey: AccountId,
        netuid: u16,
    },

    // ---- collective ----------------------------------------------------
    /// A triumvirate member proposes `action` for `duration` blocks.
    Propose {
        action: AdminAction,
        duration: u64,
    },
    /// Signed by the coldkey owning `hotkey`, a senator.
    Vote {
        hotkey: AccountId,
        id: u64,
        approve: bool,
    },
    /// Anyone: close a decided or expired proposal.
    Close {
        id: u64,
    },

    // ---- authority -----------------------------------------------------
    /// Signed by the bootstrap admin key.
    Admin(AdminAction),
    /// Signed by the admin key: its powers pass to the collective for good.
    HandOverToCollective,
}
