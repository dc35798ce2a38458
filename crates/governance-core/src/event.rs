//! Governance events: the facts the log keeps, and their versioned encoding.
//!
//! Events other services act on (their shape is a contract):
//! - ledger: [`SubnetRegistrationRequested`] (→ lock `lock_amount` of
//!   `coldkey`), [`SubnetRegistrationFailed`] with `refund > 0` (→ unlock),
//!   [`NeuronRegistrationRequested`] (→ take the burn, coldkey → custody),
//!   [`NeuronRegistrationFailed`] with `refund > 0` (→ give it back);
//! - amm: [`SubnetRegistered`] (→ open the pool), [`SubnetDissolved`]
//!   (→ pay out the pool), [`NeuronRegistered`] (→ swap `burn` into the
//!   pool and burn the alpha), [`HyperparameterSet`] with target Amm,
//!   [`GlobalParamSet`] (`TaoWeight`, `MinStake`), [`DelegateTakeSet`],
//!   [`ChildrenApplied`], [`ChildkeyTakeSet`], [`LockUpdated`] /
//!   [`LockRemoved`] (the unstake guard), [`SubnetStarted`];
//! - consensus: [`SubnetRegistered`] (→ open the metagraph, owner hotkey at
//!   uid 0), [`NeuronRegistrationFunded`] (→ register, pruning its choice),
//!   [`HyperparameterSet`] with target Consensus, [`SubnetDissolved`],
//!   [`SubnetOwnerHotkeySet`].
//!
//! Genesis subnets arrive whole in [`GenesisApplied`] (the other services
//! get theirs from the same genesis file).
//!
//! Every event carries the values `evolve` writes (decisions computed the
//! maths), except the per-block burn decay of [`BlockObserved`], which
//! `evolve` applies deterministically to every subnet.

use envelope::{codec, DecodeError, VersionedEvent};
use keys::AccountId;
use serde::{Deserialize, Serialize};

use crate::params::{
    AdminAction, Config, GenesisSubnet, GlobalParam, Hyperparameter, SubnetIdentity, Target,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisApplied {
    pub admin: Option<AccountId>,
    pub config: Config,
    pub triumvirate: Vec<AccountId>,
    pub last_lock: (u64, u64),
    /// Registered, opened and (if so marked) started at block 0, in netuid
    /// order; their hotkeys' owners follow as `HotkeyAssociated`.
    pub subnets: Vec<GenesisSubnet>,
}

/// The governance clock moved to `height`: every subnet's burn decays one
/// block (`Burn ← clamp(Burn·f, MinBurn, MaxBurn)`, f = 0.5^(1/half-life)
/// in Q32); `root_interval_reset`: root's interval counter restarts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockObserved {
    pub height: u64,
    pub root_interval_reset: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockEmissionObserved {
    pub rao: u64,
}

/// (netuid, EMA price I96F32 bits, alpha out) for known subnets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketObserved {
    pub entries: Vec<(u16, i128, u64)>,
}

/// (netuid, TAO its last coinbase credited) for known subnets: the
/// `EmissionValues` of the `root-weights` rule, for pruning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmissionObserved {
    pub entries: Vec<(u16, u64)>,
}

/// The amm's emission-share rule changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmissionRuleObserved {
    pub rule: crate::params::EmissionRule,
}

/// The amm's `StakeReport` (v2): root stakes, the alpha of the pools that
/// changed and the spot prices that moved, coldkey alpha. Total hotkey
/// stakes are computed from the alpha and prices when a threshold is
/// checked (`Governance::hotkey_total_stake`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakesObserved {
    pub root: Vec<(AccountId, u64)>,
    /// (hotkey, netuid, alpha); 0 forgets the pool.
    pub hotkey_alpha: Vec<(AccountId, u16, u64)>,
    /// (netuid, spot price as U64F64 bits); 0 forgets the subnet.
    pub prices: Vec<(u16, u128)>,
    pub coldkey_alpha: Vec<(AccountId, u16, u64)>,
}

/// `StakesObserved` v1 carried total hotkey stakes as values; upcast with
/// them dropped (v2 keeps the inputs, not the values), so a log of that
/// era replays without threshold inputs until the amm's next reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakesObservedV1 {
    pub root: Vec<(AccountId, u64)>,
    pub hotkey_total: Vec<(AccountId, u64)>,
    pub coldkey_alpha: Vec<(AccountId, u16, u64)>,
}

impl From<StakesObservedV1> for StakesObserved {
    fn from(v1: StakesObservedV1) -> Self {
        StakesObserved {
            root: v1.root,
            hotkey_alpha: Vec::new(),
            prices: Vec::new(),
            coldkey_alpha: v1.coldkey_alpha,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochScheduleObserved {
    pub netuid: u16,
    pub next_epoch_block: u64,
    pub trigger_pending: bool,
}

/// Saga step 1: the ledger must lock `lock_amount` of `coldkey` (answer
/// `LockConfirmed` / `LockRefused`). `netuid` is reserved; `prune` is the
/// subnet that will be dissolved to make room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetRegistrationRequested {
    pub op: String,
    pub coldkey: AccountId,
    pub hotkey: AccountId,
    pub netuid: u16,
    pub lock_amount: u64,
    pub prune: Option<u16>,
    pub identity: Option<SubnetIdentity>,
    pub block: u64,
}

/// Saga step 2 (lock held): the subnet exists in governance; the amm must
/// open the pool with `lock` (`PoolOpened`/`PoolRefused`), consensus the
/// metagraph with `owner_hotkey` at uid 0 (`MetagraphOpened`/`MetagraphRefused`).
/// `NetworkLastLockCost` := `lock`, last lock block := `block`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetRegistered {
    pub op: String,
    pub netuid: u16,
    pub owner: AccountId,
    pub owner_hotkey: AccountId,
    pub lock: u64,
    pub symbol: u16,
    pub block: u64,
    pub tempo: u16,
    pub burn: u64,
    pub identity: Option<SubnetIdentity>,
}

/// Saga done: pool and metagraph are open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetOpened {
    pub op: String,
    pub netuid: u16,
}

/// One of the two opening steps is done (`SubnetOpened` follows when both are).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetRegistrationProgressed {
    pub op: String,
    pub pool_open: bool,
    pub metagraph_open: bool,
}

/// Saga failed with `code`. Compensation: the ledger returns `refund` to
/// `coldkey` (0 when nothing was locked); the amm closes the pool if
/// `close_pool`, consensus the metagraph if `close_metagraph`; the subnet
/// record is gone and the last-lock values are `restored_lock_cost/block`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetRegistrationFailed {
    pub op: String,
    pub coldkey: AccountId,
    pub netuid: Option<u16>,
    pub code: String,
    pub refund: u64,
    pub close_pool: bool,
    pub close_metagraph: bool,
    pub restored_lock_cost: u64,
    pub restored_lock_block: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DissolveReason {
    /// Pruned to make room for `by_op`'s registration.
    Pruned { by_op: String },
    /// Dissolved by the governance authority.
    Authority,
}

/// The subnet is gone: the amm pays the pool out to alpha holders (§3.3,
/// no owner refund for new subnets), consensus drops the metagraph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetDissolved {
    pub netuid: u16,
    pub owner: AccountId,
    pub lock: u64,
    pub reason: DissolveReason,
}

/// `start_call`: emission from `first_emission_block`, subtoken enabled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetStarted {
    pub netuid: u16,
    pub first_emission_block: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetOwnerHotkeySet {
    pub netuid: u16,
    pub hotkey: AccountId,
    pub block: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetIdentitySet {
    pub netuid: u16,
    pub identity: SubnetIdentity,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolSet {
    pub netuid: u16,
    pub symbol: u16,
}

/// A hyperparameter changed; `target` applies it (`by_owner`: the owner's
/// call, which starts its rate limit).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HyperparameterSet {
    pub netuid: u16,
    pub param: Hyperparameter,
    pub target: Target,
    pub by_owner: bool,
    pub block: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobalParamSet {
    pub param: GlobalParam,
}

/// The first time a hotkey appears: it belongs to `coldkey`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotkeyAssociated {
    pub hotkey: AccountId,
    pub coldkey: AccountId,
}

/// A burn registration was accepted: the ledger takes `burn` from
/// `coldkey` into custody (answering `RegistrationFunded` or
/// `StepRejected`). The subnet's burn is already `new_burn` (bumped
/// ×`BurnIncreaseMult`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronRegistrationRequested {
    pub op: String,
    pub netuid: u16,
    pub hotkey: AccountId,
    pub coldkey: AccountId,
    pub burn: u64,
    pub new_burn: u64,
    pub block: u64,
}

/// The ledger holds the burn: consensus registers `hotkey` on `netuid`
/// (append or prune, with `op`) and answers `NeuronRegistered` or
/// `StepRefused`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronRegistrationFunded {
    pub op: String,
    pub netuid: u16,
    pub hotkey: AccountId,
    pub coldkey: AccountId,
    pub burn: u64,
    pub block: u64,
}

/// Saga done: `hotkey` holds `uid` (replacing `replaced`). The amm swaps
/// `burn` (already in custody) into the pool and burns the alpha bought.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronRegistered {
    pub op: String,
    pub netuid: u16,
    pub hotkey: AccountId,
    pub coldkey: AccountId,
    pub burn: u64,
    pub uid: u16,
    pub replaced: Option<AccountId>,
    pub block: u64,
}

/// Saga failed with `code`; the ledger gives `refund` back to `coldkey`
/// (the burn if it had been funded, else 0).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronRegistrationFailed {
    pub op: String,
    pub netuid: u16,
    pub hotkey: AccountId,
    pub coldkey: AccountId,
    pub code: String,
    pub refund: u64,
}

/// `root_register`: `hotkey` holds root `uid` (replacing `replaced`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootRegistered {
    pub hotkey: AccountId,
    pub coldkey: AccountId,
    pub uid: u16,
    pub replaced: Option<AccountId>,
    pub block: u64,
}

/// A senate seat changed hands (`joined` and/or `left`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenateChanged {
    pub joined: Option<AccountId>,
    pub left: Option<AccountId>,
}

/// `forced`: root registration made the hotkey an explicit delegate (the
/// take change block is not recorded then).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegateTakeSet {
    pub hotkey: AccountId,
    pub take: u16,
    pub block: u64,
    pub forced: bool,
}

/// The new child list is pending until `apply_at` (applied at the first
/// epoch of the subnet from then on).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildrenScheduled {
    pub hotkey: AccountId,
    pub netuid: u16,
    pub children: Vec<(u64, AccountId)>,
    pub apply_at: u64,
    pub block: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildrenApplied {
    pub hotkey: AccountId,
    pub netuid: u16,
    pub children: Vec<(u64, AccountId)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildkeyTakeSet {
    pub hotkey: AccountId,
    pub netuid: u16,
    pub take: u16,
    pub block: u64,
}

/// A lock's state after rolling to `block` and applying the change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockUpdated {
    pub coldkey: AccountId,
    pub netuid: u16,
    pub hotkey: AccountId,
    pub locked: u64,
    pub conviction: u64,
    pub perpetual: bool,
    pub block: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRemoved {
    pub coldkey: AccountId,
    pub netuid: u16,
}

/// The conviction leader took over the subnet (flagged, §2.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetOwnerChanged {
    pub netuid: u16,
    pub old_owner: AccountId,
    pub new_owner: AccountId,
    pub new_owner_hotkey: AccountId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriumvirateSet {
    pub members: Vec<AccountId>,
}

/// A motion: voters and their weights snapshotted now; passes with
/// `threshold` yes weight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalCreated {
    pub id: u64,
    pub proposer: AccountId,
    pub action: AdminAction,
    pub hash: [u8; 32],
    pub voters: Vec<(AccountId, u128)>,
    pub threshold: u128,
    pub end: u64,
}

/// A senator's vote; `yes`/`no` are the tallies after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voted {
    pub id: u64,
    pub hotkey: AccountId,
    pub approve: bool,
    pub yes: u128,
    pub no: u128,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProposalOutcome {
    Approved,
    Rejected,
    Vetoed,
}

/// The motion left the active set. An approved one's action follows as its
/// own events (or [`ProposalExecutionFailed`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalClosed {
    pub id: u64,
    pub outcome: ProposalOutcome,
    pub yes: u128,
    pub no: u128,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalExecutionFailed {
    pub id: u64,
    pub code: String,
}

/// The admin key is gone for good: the collective is the authority.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorityHandedOver {
    pub former_admin: AccountId,
}

macro_rules! events {
    ($($name:ident),* $(,)?) => {
        /// Every (event type, version) the decoder accepts.
        /// `StakesObserved` is at v2; every other type at v1.
        pub const EVENT_SCHEMA: &[(&str, u16)] = &[$((stringify!($name), 1),)* ("StakesObserved", 2)];

        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub enum GovernanceEvent {
            $($name($name)),*
        }

        impl VersionedEvent for GovernanceEvent {
            fn event_type(&self) -> &'static str {
                match self {
                    $(GovernanceEvent::$name(_) => stringify!($name)),*
                }
            }

            fn version(&self) -> u16 {
                match self {
                    GovernanceEvent::StakesObserved(_) => 2,
                    _ => 1,
                }
            }

            fn encode_payload(&self) -> Vec<u8> {
                match self {
                    $(GovernanceEvent::$name(e) => codec::encode(e)),*
                }
            }

            fn decode_payload(
                event_type: &str,
                version: u16,
                payload: &[u8],
            ) -> Result<Self, DecodeError> {
                use envelope::codec::decode_body as body;
                let (t, v, p) = (event_type, version, payload);
                match (t, v) {
                    ("StakesObserved", 1) => {
                        return Ok(GovernanceEvent::StakesObserved(
                            body::<StakesObservedV1>(t, v, p)?.into(),
                        ))
                    }
                    ("StakesObserved", 2) => return Ok(GovernanceEvent::StakesObserved(body(t, v, p)?)),
                    ("StakesObserved", _) => {
                        return Err(DecodeError::UnknownType {
                            event_type: t.to_owned(),
                            version: v,
                        })
                    }
                    _ => {}
                }
                $(
                    if t == stringify!($name) && v == 1 {
                        return Ok(GovernanceEvent::$name(body(t, v, p)?));
                    }
                )*
                Err(DecodeError::UnknownType {
                    event_type: t.to_owned(),
                    version: v,
                })
            }
        }
    };
}

events! {
    GenesisApplied,
    BlockObserved,
    BlockEmissionObserved,
    MarketObserved,
    StakesObserved,
    EpochScheduleObserved,
    SubnetRegistrationRequested,
    SubnetRegistered,
    SubnetRegistrationProgressed,
    SubnetOpened,
    SubnetRegistrationFailed,
    SubnetDissolved,
    SubnetStarted,
    SubnetOwnerHotkeySet,
    SubnetIdentitySet,
    SymbolSet,
    HyperparameterSet,
    GlobalParamSet,
    HotkeyAssociated,
    NeuronRegistrationRequested,
    NeuronRegistrationFunded,
    NeuronRegistered,
    NeuronRegistrationFailed,
    RootRegistered,
    SenateChanged,
    DelegateTakeSet,
    ChildrenScheduled,
    ChildrenApplied,
    ChildkeyTakeSet,
    LockUpdated,
    LockRemoved,
    SubnetOwnerChanged,
    TriumvirateSet,
    ProposalCreated,
    Voted,
    ProposalClosed,
    ProposalExecutionFailed,
    AuthorityHandedOver,
    EmissionObserved,
    EmissionRuleObserved,
}
