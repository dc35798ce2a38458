//! Commands the amm decides on, and who may send them.
//!
//! Users sign staking commands (`Origin::Signed(coldkey)`); the ledger's and
//! consensus's events reach the amm through its inbox and the shell turns
//! them into `Origin::Peer` commands; the genesis is applied once by the
//! shell (`Origin::Genesis`). Governance drives the subnet lifecycle
//! (`Origin::Peer(Peer::Governance)`): its refused steps are recorded as
//! [`crate::event::GovernanceStepRefused`] events, never returned, because
//! its sagas wait for an answer. Every user operation carries an `op` id chosen
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
    Governance,
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

    // ---- governance (Peer(Governance)) ---------------------------------
    // A domain refusal of any of these is answered `Ok` with a
    // `GovernanceStepRefused { op, code, message }` event (and nothing else
    // changes); only a wrong origin or a missing genesis is an `Err`.
    /// A newly registered subnet's pool (governance.md §3.1 "Pool
    /// initialization"): pool TAO = `lock`, pool alpha = `lock` / median
    /// spot price of the other non-root subnets (1 with none), weights
    /// 0.5/0.5; subtoken and pool-side emission disabled until
    /// `SetParam(StartCall)` / `SetParam(EmissionEnabled(true))`; `owner`
    /// and `owner_hotkey` recorded as for genesis subnets (the owner hotkey
    /// holds a uid and is associated with `owner` unless already
    /// associated). The lock reaches the ledger's custody later (governance
    /// confirms it once the subnet is fully open): until then the pool counts
    /// TAO the ledger does not yet hold for `netuid`. Refused:
    /// `InvalidOperationId` (op empty or too long), `InvalidValue` (netuid 0
    /// or already has a pool), `AmountTooLow` (zero lock, or a lock worth
    /// no alpha at the median price).
    OpenSubnet {
        op: String,
        netuid: u16,
        owner: AccountId,
        owner_hotkey: AccountId,
        lock: u64,
        block: u64,
    },
    /// Compensation of a failed registration saga: removes the pool `op`
    /// opened, which must never have started nor moved (no stakes, no
    /// burns). Nothing is settled (the lock never reached custody).
    /// Refused: `SubnetNotExists`, `UnknownOperation` (not opened by `op`),
    /// `InvalidValue` (started or used).
    CloseSubnet { op: String, netuid: u16 },
    /// The subnet was pruned or dissolved (governance.md §3.3): root-claim
    /// state erased, the pool TAO paid pro rata to the alpha holders
    /// (largest remainder; protocol-owned alpha, i.e. the pool's alpha
    /// reserve and protocol alpha, takes a share that is not paid out), no
    /// owner refund, the rest recycled, every per-subnet entry removed.
    /// Settled as `dissolve/<netuid>/<block>`. Refused: `SubnetNotExists`
    /// (unknown or root), with that op.
    DissolveSubnet { netuid: u16, block: u64 },
    /// A neuron registration's burn (governance.md §4.2 step 6): `amount`
    /// is already in the custody of `netuid`; it buys alpha through the pool
    /// *with* the swap fee (tokenomics.md §3.9 "Neuron registration ... with
    /// fees applied"; the TAO fee is burned, as stakes' fees are) and the
    /// alpha bought is burned (it leaves alpha issuance; `SubnetAlphaOut`
    /// is unchanged). If the subnet is gone (or root) or the pool cannot
    /// take the swap, `amount` is settled back to `coldkey` and the step
    /// refused.
    RegistrationBurn {
        op: String,
        netuid: u16,
        coldkey: AccountId,
        amount: u64,
    },
    /// A new owner hotkey (`owner: None` keeps the owner coldkey) or a
    /// conviction takeover (`Some(new owner)`): who receives the owner cut
    /// and whose hotkeys' incentive is withheld. An unknown owner hotkey is
    /// associated with the owner. Refused (op `owner/<netuid>`):
    /// `SubnetNotExists` (unknown or root).
    SetOwner {
        netuid: u16,
        owner: Option<AccountId>,
        owner_hotkey: AccountId,
    },
    /// Governance associated `hotkey` with `coldkey` (a registration made
    /// it): the amm learns who owns the hotkey, so its incentive and
    /// delegate take reach the coldkey. Already so: nothing. Owned by
    /// another coldkey: refused (op `hotkey/<ss58>`, `NonAssociatedColdKey`).
    HotkeyOwner {
        hotkey: AccountId,
        coldkey: AccountId,
    },
    /// Governance's stake lock of (`coldkey`, `netuid`) (governance.md §5.6,
    /// from its `LockUpdated`): `locked` is the locked mass as of `block`
    /// (its `last_update`), `perpetual` stops its decay. Replaces any
    /// previous lock of the pair. The amm enforces the unstake guard with
    /// it: the mass is rolled forward to the amm's height with the unlock
    /// rate (`governance_core::math::roll_lock`), and no alpha-leaving
    /// operation may take the coldkey's alpha on `netuid` (summed over its
    /// hotkeys) below it (`StakeUnavailable`). Refused (op
    /// `lock/<netuid>/<coldkey>`): `SubnetNotExists`.
    SetLock {
        coldkey: AccountId,
        netuid: u16,
        locked: u64,
        perpetual: bool,
        block: u64,
    },
    /// Governance removed the lock of (`coldkey`, `netuid`) (its
    /// `LockRemoved`): every alpha is available again. No lock: nothing.
    ClearLock { coldkey: AccountId, netuid: u16 },
    /// Governance's `UnlockRate` τu (blocks) for rolling locks forward
    /// (default `governance_core::Config::default().unlock_rate`).
    /// Refused (op `unlock-rate`): `InvalidValue` for 0 (as governance).
    SetUnlockRate { blocks: u64 },

    // ---- admin (Signed(genesis admin)) or Peer(Governance) --------------
    /// A per-subnet or global economic parameter. From governance a refusal
    /// is recorded (op `param/<netuid>`). The first `StartCall` of a subnet
    /// whose subtoken is disabled also enables it (`do_start_call`).
    SetParam { netuid: u16, param: SubnetParam },

    // ---- governance (Peer(Governance)): childkeys ------------------------
    /// Governance applied `hotkey`'s childkeys on `netuid` (its
    /// `ChildrenApplied`): `children` (`(u64 proportion, child)`) replace
    /// the list in force; empty clears it (→ [`crate::event::ChildrenSet`]).
    /// Refused (op `children/<netuid>/<hotkey>`): `SubnetNotExists` for an
    /// unknown or the root netuid; `DuplicateChild`, `InvalidChild` (the
    /// hotkey itself), `TooManyChildren` (> 5), `ProportionOverflow`
    /// (Σ > u64::MAX), which governance never applies.
    SetChildren {
        hotkey: AccountId,
        netuid: u16,
        children: Vec<(u64, AccountId)>,
    },
    /// Governance set `hotkey`'s childkey take on `netuid` (its
    /// `ChildkeyTakeSet`; u16 proportion) (→
    /// [`crate::event::ChildkeyTakeMirrored`]). Refused (op
    /// `childkey-take/<netuid>/<hotkey>`): `SubnetNotExists` for an unknown
    /// or the root netuid.
    SetChildkeyTake {
        hotkey: AccountId,
        netuid: u16,
        take: u16,
    },

    // ---- root validators (Signed(hotkey)) -------------------------------
    /// `set_root_weights` (governance.md §1.3): the signing hotkey's weights
    /// over netuids, used by the `root-weights` emission rule at each root
    /// epoch. Checks: root stake ≥ `min_stake` (`NotEnoughStakeToSetWeights`),
    /// not empty (`WeightVecLengthIsLow`), no duplicate netuid
    /// (`DuplicateUids`), every netuid an existing non-root subnet
    /// (`UidVecContainInvalidOne`), at most once per root tempo
    /// (`SettingWeightsTooFast`). Accepted under any rule (the weights wait
    /// for a switch to `root-weights`).
    SetRootWeights { weights: Vec<(u16, u16)> },
}
