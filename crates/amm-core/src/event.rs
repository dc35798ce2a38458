//! Amm events: the facts the log keeps, and their versioned encoding.
//!
//! Events other services consume (their shape is a contract; change them
//! only with a new version and an upcast):
//! - the ledger: [`StakeRequested`] (→ `FundStake`), [`StakeFailed`] with
//!   `funded > 0` (→ `RefundStake`), [`TaoSettlement`] (→ `Settle`),
//!   [`CoinbaseRan`] (→ `ClaimCoinbase`);
//! - consensus: [`CoinbaseRan`] (pending epoch emission, then the block) and
//!   [`StakeWeights`] (→ stake updates);
//! - governance: [`SubnetOpened`] (→ the pool of its registration is open),
//!   [`GovernanceStepRefused`] (→ its step failed), [`StakeReport`] (root
//!   stakes, hotkey alpha and spot prices for total stakes, coldkey alpha), [`CoinbaseRan`] (prices).
//!
//! [`LockMirrored`], [`LockCleared`] and [`UnlockRateSet`] mirror
//! governance's stake locks for the unstake guard (nobody consumes them);
//! [`ChildrenSet`] and [`ChildkeyTakeMirrored`] mirror its childkeys for
//! the stake weights and the epoch payout (nobody consumes them either).
//!
//! Every event carries what `evolve` needs without re-running any maths
//! (resulting reserves, minted shares, amounts), so replay is cheap and
//! independent of the code version that decided it.

use envelope::{codec, DecodeError, VersionedEvent};
use keys::AccountId;
use serde::{Deserialize, Serialize};

/// Where a settlement moves TAO held in a subnet's custody.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaoDest {
    /// To a coldkey's free balance (unstake proceeds, refunds).
    Account(AccountId),
    /// To another subnet's custody (cross-subnet moves, root claims).
    Custody(u16),
    /// To the burn account: issuance unchanged (swap fees; taonet has no
    /// block author, see README "deliberate differences").
    Burn,
    /// Out of circulation: issuance falls.
    Recycle,
}

/// One movement out of `from_netuid`'s custody.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaoMove {
    pub from_netuid: u16,
    pub to: TaoDest,
    pub amount: u64,
}

/// The ledger must carry out these custody movements, once, keyed by `op`
/// (its `Settle` step is idempotent by op). Emitted in the same batch as
/// the domain event that made them owed; amounts are never zero.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaoSettlement {
    pub op: String,
    pub moves: Vec<TaoMove>,
}

/// A stake was accepted for execution: the ledger is asked to move
/// `amount` from `coldkey` into custody[`netuid`] (keep-alive).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeRequested {
    pub op: String,
    pub coldkey: AccountId,
    pub hotkey: AccountId,
    pub netuid: u16,
    pub amount: u64,
    pub limit_price: Option<u64>,
    pub allow_partial: bool,
}

/// An op failed with a named error (`code`, the spec's error class).
/// `funded` is the TAO the ledger already holds in custody[`netuid`] for
/// it, which the ledger refunds (`RefundStake`) when it is not zero.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeFailed {
    pub op: String,
    pub coldkey: AccountId,
    pub netuid: u16,
    pub funded: u64,
    pub code: String,
    pub message: String,
}

/// Per-subnet outcome of one block's coinbase (§2.3, §2.4, §3.6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetCoinbase {
    pub netuid: u16,
    /// TAO injected as liquidity (after the weight re-solve; 0 if refused).
    pub tao_in: u64,
    /// Alpha injected into the pool reserve.
    pub alpha_in: u64,
    /// TAO that bought alpha for the protocol (chain buy).
    pub excess_tao: u64,
    /// Alpha that chain buy produced (kept as protocol alpha).
    pub bought_alpha: u64,
    /// Alpha minted into `SubnetAlphaOut` for participants.
    pub alpha_out: u64,
    /// Added to the pending pots (floored separately).
    pub owner_cut: u64,
    pub server: u64,
    pub validator: u64,
    pub root: u64,
    /// Root alpha recycled because the root sell flag was off.
    pub root_recycled: u64,
    /// Pool after the block: TAO, alpha in, alpha out, quote weight
    /// (Perquintill parts) and the EMA price (I96F32 bits).
    pub tao_reserve: u64,
    pub alpha_reserve: u64,
    pub alpha_outstanding: u64,
    pub quote_weight: u64,
    pub moving_price_bits: i128,
}

/// One block's coinbase. `credits[netuid]` is the TAO the ledger moves from
/// the block's credit into custody (tao_in + excess_tao per subnet); the
/// rest of `minted` (`recycled`) the ledger recycles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoinbaseRan {
    pub block: u64,
    pub minted: u64,
    pub subnets: Vec<SubnetCoinbase>,
    pub credits: Vec<(u16, u64)>,
    pub recycled: u64,
}

impl CoinbaseRan {
    /// The alpha (rao) each subnet adds to its pending epoch emission this
    /// block: server + validator + root (the owner cut is paid by the amm).
    pub fn epoch_accruals(&self) -> Vec<(u16, u64)> {
        self.subnets
            .iter()
            .map(|s| (s.netuid, s.server + s.validator + s.root))
            .filter(|(_, r)| *r > 0)
            .collect()
    }
}

/// New stake weights (alpha stake + TaoWeight × root stake, RAO) for
/// consensus: one entry per (netuid, hotkey) whose weight changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeWeights {
    pub entries: Vec<(u16, AccountId, u64)>,
}

/// Stake figures for governance, after each decision that changed any.
///
/// v2 (this): the inputs of a hotkey's total stake value, not the value.
/// Every block's coinbase moves every price, so the value of every staked
/// hotkey changes every block; v1 reported each of them every block
/// (32 768 values a block at 128 subnets × 256 uids, half the simulator's
/// time). v2 reports the alpha of the pools that changed and the prices
/// that moved, and governance computes `Σ_n floor(alpha_n · price_n)` when
/// it checks a threshold: the same value from the same inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeReport {
    /// (hotkey, TAO staked on root under it: `TotalHotkeyAlpha[h][0]`),
    /// only those that changed (a key that fell to 0 is listed with 0 and
    /// then forgotten), in key order.
    pub root: Vec<(AccountId, u64)>,
    /// (hotkey, netuid, `TotalHotkeyAlpha[h][n]`) of every pool whose value
    /// changed in the decision (0: the pool is gone), in (netuid, hotkey)
    /// order. Root (netuid 0) included.
    pub hotkey_alpha: Vec<(AccountId, u16, u64)>,
    /// (netuid, spot price as U64F64 bits) of every subnet whose spot
    /// price changed (0: the subnet is gone), in netuid order.
    pub prices: Vec<(u16, u128)>,
    /// (coldkey, netuid, the coldkey's alpha on the subnet over all its
    /// hotkeys), only those that changed, in key order.
    pub coldkey_alpha: Vec<(AccountId, u16, u64)>,
}

/// `StakeReport` v1: hotkey totals as values. Upcast with the totals
/// dropped (v2 has no place for a value without its inputs): a log of
/// that era replays with governance's threshold inputs filled in by the
/// amm's next reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeReportV1 {
    pub root: Vec<(AccountId, u64)>,
    /// (hotkey, `Σ_n floor(TotalHotkeyAlpha[h][n] · spot price_n)`).
    pub hotkey_total: Vec<(AccountId, u64)>,
    pub coldkey_alpha: Vec<(AccountId, u16, u64)>,
}

impl From<StakeReportV1> for StakeReport {
    fn from(v1: StakeReportV1) -> Self {
        StakeReport {
            root: v1.root,
            hotkey_alpha: Vec::new(),
            prices: Vec::new(),
            coldkey_alpha: v1.coldkey_alpha,
        }
    }
}

/// A registered subnet's pool is open (`OpenSubnet`): `tao` (the lock) and
/// `alpha` are the reserves; subtoken and emission are off until started.
/// The lock is not yet in the ledger's custody: governance has it
/// confirmed once the whole registration is open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetOpened {
    pub op: String,
    pub netuid: u16,
    pub owner: AccountId,
    pub owner_hotkey: AccountId,
    pub tao: u64,
    pub alpha: u64,
    pub block: u64,
}

/// The never-started pool `op` opened is removed (the registration failed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetClosed {
    pub op: String,
    pub netuid: u16,
}

/// The subnet is gone (governance.md §3.3): `payouts` (coldkey, TAO) and
/// `recycled` are the whole pool TAO, moved by the accompanying
/// `TaoSettlement` (`dissolve/<netuid>/<block>`); every per-subnet entry
/// (pools, stakes, pots, root claims, parameters) is removed with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetDissolved {
    pub netuid: u16,
    pub block: u64,
    pub payouts: Vec<(AccountId, u64)>,
    pub recycled: u64,
}

/// A neuron registration's burn: `tao` left custody into the pool, of
/// which `fee` was burned by the accompanying settlement (so the pool TAO
/// rose by `tao − fee`); the `alpha_burned` it bought left the pool and
/// alpha issuance (`SubnetAlphaOut` unchanged). Pool after the buy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationBurned {
    pub op: String,
    pub netuid: u16,
    pub coldkey: AccountId,
    pub tao: u64,
    pub fee: u64,
    pub alpha_burned: u64,
    pub tao_reserve: u64,
    pub alpha_reserve: u64,
}

/// The subnet's owner coldkey and owner hotkey from now on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetOwnerSet {
    pub netuid: u16,
    pub owner: AccountId,
    pub owner_hotkey: AccountId,
}

/// A governance step the amm refused (`code`: the rejection's name), as
/// the ledger's `StepRejected`: recorded because governance waits for the
/// outcome. Nothing else changed (a refused registration burn also settles
/// its TAO back to the coldkey). Steps without an op of their own are named
/// `dissolve/<netuid>/<block>`, `owner/<netuid>` and `param/<netuid>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovernanceStepRefused {
    pub op: String,
    pub code: String,
    pub message: String,
}

/// The genesis the amm started from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisApplied {
    pub genesis: crate::params::AmmGenesis,
}

/// The new `RootClaimed[(netuid, hotkey, coldkey)]` after a root stake
/// change (staking to root adds `rate × amount`, unstaking subtracts it, so
/// joiners cannot claim past dividends; §2.6 step 6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimedSet {
    pub netuid: u16,
    pub hotkey: AccountId,
    pub coldkey: AccountId,
    pub claimed: u128,
}

/// Alpha stake credited to (hotkey, coldkey) on `netuid` by buying with
/// `tao` of custody TAO (1:1 on root). `tao` entered the reserve, `fee`
/// (TAO) is burned by the accompanying settlement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeAdded {
    pub op: String,
    pub netuid: u16,
    pub hotkey: AccountId,
    pub coldkey: AccountId,
    pub tao: u64,
    pub fee: u64,
    pub alpha: u64,
    pub shares: u128,
    /// Pool after the buy.
    pub tao_reserve: u64,
    pub alpha_reserve: u64,
    pub root_claimed: Vec<ClaimedSet>,
}

/// Alpha stake sold: `alpha` left the holder's stake, of which `alpha_sold`
/// entered the pool and `fee_alpha` was burned (no block author);
/// `tao_out` left the reserve (to the destination the settlement names).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeRemoved {
    pub op: String,
    pub netuid: u16,
    pub hotkey: AccountId,
    pub coldkey: AccountId,
    pub alpha: u64,
    pub shares: u128,
    pub alpha_sold: u64,
    pub fee_alpha: u64,
    pub tao_out: u64,
    /// Pool after the sale.
    pub tao_reserve: u64,
    pub alpha_reserve: u64,
    pub root_claimed: Vec<ClaimedSet>,
}

/// A same-subnet share transfer (move_stake to another hotkey,
/// transfer_stake to another coldkey): no swap, no fee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeTransferred {
    pub op: String,
    pub netuid: u16,
    pub from_hotkey: AccountId,
    pub from_coldkey: AccountId,
    pub to_hotkey: AccountId,
    pub to_coldkey: AccountId,
    pub alpha: u64,
    pub shares_removed: u128,
    pub shares_added: u128,
    pub root_claimed: Vec<ClaimedSet>,
}

/// recycle_alpha: the stake leaves and `SubnetAlphaOut` falls by `alpha`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlphaRecycled {
    pub op: String,
    pub netuid: u16,
    pub hotkey: AccountId,
    pub coldkey: AccountId,
    pub alpha: u64,
    pub shares: u128,
}

/// burn_alpha: the stake leaves, `SubnetAlphaOut` is unchanged (the alpha
/// is counted in the subnet's burned counter).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlphaBurned {
    pub op: String,
    pub netuid: u16,
    pub hotkey: AccountId,
    pub coldkey: AccountId,
    pub alpha: u64,
    pub shares: u128,
}

/// An op finished; `summary` is what the `op` query reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpCompleted {
    pub op: String,
    pub summary: String,
}

/// One alpha credit of an epoch payout, applied in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlphaCredit {
    /// Deposit into (hotkey, coldkey): incentives, takes, the owner cut.
    Stake {
        hotkey: AccountId,
        coldkey: AccountId,
        alpha: u64,
        shares: u128,
    },
    /// Hotkey-wide credit (alpha dividends after the take): every holder
    /// of the hotkey's pool gains pro rata.
    Hotkey { hotkey: AccountId, alpha: u64 },
}

/// One epoch payout of `netuid` (§2.6): the pots of every block through
/// `block` were drained and placed as listed. Alpha accounting of the
/// drained total: credits + `root_owed` + `burned` + `recycled` + `dust`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochPaid {
    pub netuid: u16,
    pub block: u64,
    /// Pots drained (sums of the per-block entries).
    pub server: u64,
    pub validator: u64,
    pub root: u64,
    pub owner_cut: u64,
    pub credits: Vec<AlphaCredit>,
    /// New `RootClaimable[hotkey][netuid]` (I96F32 bits).
    pub root_rates: Vec<(AccountId, i128)>,
    /// Root dividends now claimable (owed to root stakers, not yet staked).
    pub root_owed: u64,
    /// Incentive withheld from the subnet owner's own hotkeys (burned).
    pub burned: u64,
    /// Alpha nobody could receive (recycled: `SubnetAlphaOut` falls).
    pub recycled: u64,
    /// Rounding remainders (stay in `SubnetAlphaOut`, owned by no one).
    pub dust: u64,
    /// `MinerBurned` (U96F32 bits): withheld / total incentive.
    pub miner_burned_bits: u128,
}

/// Root dividends claimed by `coldkey` for (`hotkey`, `netuid`): `alpha`
/// left the claimable pot; `claimed` is the new `RootClaimed`. Keep: staked
/// as `kept_shares` on the subnet. Swap: sold fee-free for `tao_out` (then
/// staked on root by a `StakeAdded` and settled Custody(netuid) → Custody(0)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootClaimed {
    pub op: String,
    pub netuid: u16,
    pub hotkey: AccountId,
    pub coldkey: AccountId,
    pub alpha: u64,
    pub claimed: u128,
    pub kept_shares: Option<u128>,
    pub tao_out: u64,
    pub tao_reserve: u64,
    pub alpha_reserve: u64,
}

/// `hotkey` belongs to `coldkey` from now on (first association wins).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotkeyAssociated {
    pub hotkey: AccountId,
    pub coldkey: AccountId,
}

/// `hotkey` holds a uid on `netuid` (consensus's `NeuronRegistered`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronSeen {
    pub netuid: u16,
    pub hotkey: AccountId,
    pub replaced: Option<AccountId>,
}

/// A parameter changed at `block` (`StartCall`: emission starts at
/// `block + 1`, as `start_call` sets `FirstEmissionBlockNumber`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamSet {
    pub netuid: u16,
    pub param: crate::params::SubnetParam,
    pub block: u64,
}

/// A coldkey's root claim type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootClaimTypeSet {
    pub coldkey: AccountId,
    pub claim_type: crate::command::RootClaimType,
}

/// Governance's lock of (`coldkey`, `netuid`) from now on (`SetLock`):
/// `locked` mass as of `block`, decaying with the unlock rate unless
/// `perpetual`. Replaces any previous one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockMirrored {
    pub coldkey: AccountId,
    pub netuid: u16,
    pub locked: u64,
    pub perpetual: bool,
    pub block: u64,
}

/// The lock of (`coldkey`, `netuid`) is gone (`ClearLock`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockCleared {
    pub coldkey: AccountId,
    pub netuid: u16,
}

/// The unlock rate τu (blocks) locks roll forward with from now on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlockRateSet {
    pub blocks: u64,
}

/// Governance applied `hotkey`'s childkeys on `netuid` (`SetChildren`,
/// from its `ChildrenApplied`): `children` (`(u64 proportion, child)`) are
/// in force from now on, replacing any previous list; empty = none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildrenSet {
    pub hotkey: AccountId,
    pub netuid: u16,
    pub children: Vec<(u64, AccountId)>,
}

/// `hotkey`'s childkey take on `netuid` (u16 proportion) from now on
/// (`SetChildkeyTake`, from governance's `ChildkeyTakeSet`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildkeyTakeMirrored {
    pub hotkey: AccountId,
    pub netuid: u16,
    pub take: u16,
}

/// A root validator's weights over netuids (`set_root_weights`, the
/// `root-weights` rule); replaces the hotkey's previous ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootWeightsSet {
    pub hotkey: AccountId,
    /// (netuid, weight), netuids ascending, no duplicates.
    pub weights: Vec<(u16, u16)>,
    pub block: u64,
}

/// A root epoch (`root_epoch`, governance.md §1.3): each subnet's share of
/// the block's TAO emission from now until the next one, U64F64 bits; a
/// subnet not listed gets zero.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootSharesComputed {
    pub block: u64,
    pub shares: Vec<(u16, u128)>,
    /// The validators counted, with the root stake each was weighted by.
    pub validators: Vec<(AccountId, u64)>,
}

/// Every (event type, version) the decoder accepts, current and historical.
pub const EVENT_SCHEMA: &[(&str, u16)] = &[
    ("GenesisApplied", 1),
    ("CoinbaseRan", 1),
    ("StakeRequested", 1),
    ("StakeFailed", 1),
    ("TaoSettlement", 1),
    ("StakeWeights", 1),
    ("StakeAdded", 1),
    ("StakeRemoved", 1),
    ("StakeTransferred", 1),
    ("AlphaRecycled", 1),
    ("AlphaBurned", 1),
    ("OpCompleted", 1),
    ("EpochPaid", 1),
    ("RootClaimed", 1),
    ("HotkeyAssociated", 1),
    ("NeuronSeen", 1),
    ("ParamSet", 1),
    ("RootClaimTypeSet", 1),
    ("StakeReport", 1),
    ("StakeReport", 2),
    ("SubnetOpened", 1),
    ("SubnetClosed", 1),
    ("SubnetDissolved", 1),
    ("RegistrationBurned", 1),
    ("SubnetOwnerSet", 1),
    ("GovernanceStepRefused", 1),
    ("LockMirrored", 1),
    ("LockCleared", 1),
    ("UnlockRateSet", 1),
    ("ChildrenSet", 1),
    ("ChildkeyTakeMirrored", 1),
    ("RootWeightsSet", 1),
    ("RootSharesComputed", 1),
];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AmmEvent {
    GenesisApplied(GenesisApplied),
    CoinbaseRan(CoinbaseRan),
    StakeRequested(StakeRequested),
    StakeFailed(StakeFailed),
    TaoSettlement(TaoSettlement),
    StakeWeights(StakeWeights),
    StakeAdded(StakeAdded),
    StakeRemoved(StakeRemoved),
    StakeTransferred(StakeTransferred),
    AlphaRecycled(AlphaRecycled),
    AlphaBurned(AlphaBurned),
    OpCompleted(OpCompleted),
    EpochPaid(EpochPaid),
    RootClaimed(RootClaimed),
    HotkeyAssociated(HotkeyAssociated),
    NeuronSeen(NeuronSeen),
    ParamSet(ParamSet),
    RootClaimTypeSet(RootClaimTypeSet),
    StakeReport(StakeReport),
    SubnetOpened(SubnetOpened),
    SubnetClosed(SubnetClosed),
    SubnetDissolved(SubnetDissolved),
    RegistrationBurned(RegistrationBurned),
    SubnetOwnerSet(SubnetOwnerSet),
    GovernanceStepRefused(GovernanceStepRefused),
    LockMirrored(LockMirrored),
    LockCleared(LockCleared),
    UnlockRateSet(UnlockRateSet),
    ChildrenSet(ChildrenSet),
    ChildkeyTakeMirrored(ChildkeyTakeMirrored),
    RootWeightsSet(RootWeightsSet),
    RootSharesComputed(RootSharesComputed),
}

use envelope::codec::decode_body as body;

impl VersionedEvent for AmmEvent {
    fn event_type(&self) -> &'static str {
        match self {
            AmmEvent::GenesisApplied(_) => "GenesisApplied",
            AmmEvent::CoinbaseRan(_) => "CoinbaseRan",
            AmmEvent::StakeRequested(_) => "StakeRequested",
            AmmEvent::StakeFailed(_) => "StakeFailed",
            AmmEvent::TaoSettlement(_) => "TaoSettlement",
            AmmEvent::StakeWeights(_) => "StakeWeights",
            AmmEvent::StakeAdded(_) => "StakeAdded",
            AmmEvent::StakeRemoved(_) => "StakeRemoved",
            AmmEvent::StakeTransferred(_) => "StakeTransferred",
            AmmEvent::AlphaRecycled(_) => "AlphaRecycled",
            AmmEvent::AlphaBurned(_) => "AlphaBurned",
            AmmEvent::OpCompleted(_) => "OpCompleted",
            AmmEvent::EpochPaid(_) => "EpochPaid",
            AmmEvent::RootClaimed(_) => "RootClaimed",
            AmmEvent::HotkeyAssociated(_) => "HotkeyAssociated",
            AmmEvent::NeuronSeen(_) => "NeuronSeen",
            AmmEvent::ParamSet(_) => "ParamSet",
            AmmEvent::RootClaimTypeSet(_) => "RootClaimTypeSet",
            AmmEvent::StakeReport(_) => "StakeReport",
            AmmEvent::SubnetOpened(_) => "SubnetOpened",
            AmmEvent::SubnetClosed(_) => "SubnetClosed",
            AmmEvent::SubnetDissolved(_) => "SubnetDissolved",
            AmmEvent::RegistrationBurned(_) => "RegistrationBurned",
            AmmEvent::SubnetOwnerSet(_) => "SubnetOwnerSet",
            AmmEvent::GovernanceStepRefused(_) => "GovernanceStepRefused",
            AmmEvent::LockMirrored(_) => "LockMirrored",
            AmmEvent::LockCleared(_) => "LockCleared",
            AmmEvent::UnlockRateSet(_) => "UnlockRateSet",
            AmmEvent::ChildrenSet(_) => "ChildrenSet",
            AmmEvent::ChildkeyTakeMirrored(_) => "ChildkeyTakeMirrored",
            AmmEvent::RootWeightsSet(_) => "RootWeightsSet",
            AmmEvent::RootSharesComputed(_) => "RootSharesComputed",
        }
    }

    fn version(&self) -> u16 {
        match self {
            AmmEvent::StakeReport(_) => 2,
            _ => 1,
        }
    }

    fn encode_payload(&self) -> Vec<u8> {
        match self {
            AmmEvent::GenesisApplied(e) => codec::encode(e),
            AmmEvent::CoinbaseRan(e) => codec::encode(e),
            AmmEvent::StakeRequested(e) => codec::encode(e),
            AmmEvent::StakeFailed(e) => codec::encode(e),
            AmmEvent::TaoSettlement(e) => codec::encode(e),
            AmmEvent::StakeWeights(e) => codec::encode(e),
            AmmEvent::StakeAdded(e) => codec::encode(e),
            AmmEvent::StakeRemoved(e) => codec::encode(e),
            AmmEvent::StakeTransferred(e) => codec::encode(e),
            AmmEvent::AlphaRecycled(e) => codec::encode(e),
            AmmEvent::AlphaBurned(e) => codec::encode(e),
            AmmEvent::OpCompleted(e) => codec::encode(e),
            AmmEvent::EpochPaid(e) => codec::encode(e),
            AmmEvent::RootClaimed(e) => codec::encode(e),
            AmmEvent::HotkeyAssociated(e) => codec::encode(e),
            AmmEvent::NeuronSeen(e) => codec::encode(e),
            AmmEvent::ParamSet(e) => codec::encode(e),
            AmmEvent::RootClaimTypeSet(e) => codec::encode(e),
            AmmEvent::StakeReport(e) => codec::encode(e),
            AmmEvent::SubnetOpened(e) => codec::encode(e),
            AmmEvent::SubnetClosed(e) => codec::encode(e),
            AmmEvent::SubnetDissolved(e) => codec::encode(e),
            AmmEvent::RegistrationBurned(e) => codec::encode(e),
            AmmEvent::SubnetOwnerSet(e) => codec::encode(e),
            AmmEvent::GovernanceStepRefused(e) => codec::encode(e),
            AmmEvent::LockMirrored(e) => codec::encode(e),
            AmmEvent::LockCleared(e) => codec::encode(e),
            AmmEvent::UnlockRateSet(e) => codec::encode(e),
            AmmEvent::ChildrenSet(e) => codec::encode(e),
            AmmEvent::ChildkeyTakeMirrored(e) => codec::encode(e),
            AmmEvent::RootWeightsSet(e) => codec::encode(e),
            AmmEvent::RootSharesComputed(e) => codec::encode(e),
        }
    }

    fn decode_payload(event_type: &str, version: u16, payload: &[u8]) -> Result<Self, DecodeError> {
        let (t, v, p) = (event_type, version, payload);
        Ok(match (t, v) {
            ("GenesisApplied", 1) => AmmEvent::GenesisApplied(body(t, v, p)?),
            ("CoinbaseRan", 1) => AmmEvent::CoinbaseRan(body(t, v, p)?),
            ("StakeRequested", 1) => AmmEvent::StakeRequested(body(t, v, p)?),
            ("StakeFailed", 1) => AmmEvent::StakeFailed(body(t, v, p)?),
            ("TaoSettlement", 1) => AmmEvent::TaoSettlement(body(t, v, p)?),
            ("StakeWeights", 1) => AmmEvent::StakeWeights(body(t, v, p)?),
            ("StakeAdded", 1) => AmmEvent::StakeAdded(body(t, v, p)?),
            ("StakeRemoved", 1) => AmmEvent::StakeRemoved(body(t, v, p)?),
            ("StakeTransferred", 1) => AmmEvent::StakeTransferred(body(t, v, p)?),
            ("AlphaRecycled", 1) => AmmEvent::AlphaRecycled(body(t, v, p)?),
            ("AlphaBurned", 1) => AmmEvent::AlphaBurned(body(t, v, p)?),
            ("OpCompleted", 1) => AmmEvent::OpCompleted(body(t, v, p)?),
            ("EpochPaid", 1) => AmmEvent::EpochPaid(body(t, v, p)?),
            ("RootClaimed", 1) => AmmEvent::RootClaimed(body(t, v, p)?),
            ("HotkeyAssociated", 1) => AmmEvent::HotkeyAssociated(body(t, v, p)?),
            ("NeuronSeen", 1) => AmmEvent::NeuronSeen(body(t, v, p)?),
            ("ParamSet", 1) => AmmEvent::ParamSet(body(t, v, p)?),
            ("RootClaimTypeSet", 1) => AmmEvent::RootClaimTypeSet(body(t, v, p)?),
            ("StakeReport", 1) => AmmEvent::StakeReport(body::<StakeReportV1>(t, v, p)?.into()),
            ("StakeReport", 2) => AmmEvent::StakeReport(body(t, v, p)?),
            ("SubnetOpened", 1) => AmmEvent::SubnetOpened(body(t, v, p)?),
            ("SubnetClosed", 1) => AmmEvent::SubnetClosed(body(t, v, p)?),
            ("SubnetDissolved", 1) => AmmEvent::SubnetDissolved(body(t, v, p)?),
            ("RegistrationBurned", 1) => AmmEvent::RegistrationBurned(body(t, v, p)?),
            ("SubnetOwnerSet", 1) => AmmEvent::SubnetOwnerSet(body(t, v, p)?),
            ("GovernanceStepRefused", 1) => AmmEvent::GovernanceStepRefused(body(t, v, p)?),
            ("LockMirrored", 1) => AmmEvent::LockMirrored(body(t, v, p)?),
            ("LockCleared", 1) => AmmEvent::LockCleared(body(t, v, p)?),
            ("UnlockRateSet", 1) => AmmEvent::UnlockRateSet(body(t, v, p)?),
            ("ChildrenSet", 1) => AmmEvent::ChildrenSet(body(t, v, p)?),
            ("ChildkeyTakeMirrored", 1) => AmmEvent::ChildkeyTakeMirrored(body(t, v, p)?),
            ("RootWeightsSet", 1) => AmmEvent::RootWeightsSet(body(t, v, p)?),
            ("RootSharesComputed", 1) => AmmEvent::RootSharesComputed(body(t, v, p)?),
            _ => {
                return Err(DecodeError::UnknownType {
                    event_type: t.to_owned(),
                    version: v,
                })
            }
        })
    }
}
