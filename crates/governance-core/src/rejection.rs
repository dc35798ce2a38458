//! Why governance refuses a command. Names follow the chain's error classes
//! (governance.md §7, `pallets/subtensor/src/macros/errors.rs`,
//! `pallets/admin-utils`); a few are taonet's own (saga and op handling,
//! blocks). A rejected command changes nothing.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Rejection {
    // ---- generic -------------------------------------------------------
    /// Wrong origin: not the owner / not the authority / wrong peer.
    #[error("bad origin")]
    BadOrigin,
    #[error("genesis already applied")]
    GenesisAlreadyApplied,
    /// Blocks arrive one at a time, in order.
    #[error("expected block {expected}, got {got}")]
    UnexpectedBlock { expected: u64, got: u64 },
    #[error("op id empty or too long")]
    InvalidOp,
    #[error("op id already used")]
    DuplicateOp,
    #[error("unknown op")]
    UnknownOp,
    /// The saga is not in the state this outcome answers.
    #[error("op is not waiting for this outcome")]
    UnexpectedOutcome,
    #[error("invalid value")]
    InvalidValue,
    #[error("value not in bounds")]
    ValueNotInBounds,
    #[error("deprecated")]
    Deprecated,
    #[error("arithmetic overflow")]
    Overflow,

    // ---- subnets -------------------------------------------------------
    #[error("subnet does not exist")]
    SubnetNotExists,
    #[error("not the subnet owner")]
    NotSubnetOwner,
    #[error("hotkey belongs to another coldkey")]
    NonAssociatedColdKey,
    #[error("subnet registration disabled")]
    SubNetRegistrationDisabled,
    #[error("network registration rate limit exceeded")]
    NetworkTxRateLimitExceeded,
    #[error("subnet limit reached")]
    SubnetLimitReached,
    /// The lock cost exceeds what the caller is willing to pay (or the
    /// ledger refused the lock for lack of balance).
    #[error("cannot afford the lock cost")]
    CannotAffordLockCost,
    #[error("invalid identity")]
    InvalidIdentity,
    #[error("first emission block already set")]
    FirstEmissionBlockNumberAlreadySet,
    #[error("start call delay not over")]
    NeedWaitingMoreBlocksToStarCall,
    #[error("symbol does not exist")]
    SymbolDoesNotExist,
    #[error("symbol already in use")]
    SymbolAlreadyInUse,
    #[error("not permitted on the root subnet")]
    NotPermittedOnRootSubnet,

    // ---- hyperparameters ----------------------------------------------
    #[error("rate limit exceeded")]
    TxRateLimitExceeded,
    #[error("admin action prohibited during the weights window")]
    AdminActionProhibitedDuringWeightsWindow,
    #[error("tempo out of bounds")]
    TempoOutOfBounds,
    #[error("activity cutoff factor out of bounds")]
    ActivityCutoffFactorMilliOutOfBounds,
    #[error("max validators larger than max uids")]
    MaxValidatorsLargerThanMaxUIds,
    #[error("max allowed uids below the current number of uids")]
    MaxAllowedUIdsLessThanCurrentUIds,
    #[error("max allowed uids below min allowed uids")]
    MaxAllowedUidsLessThanMinAllowedUids,
    #[error("max allowed uids above 256")]
    MaxAllowedUidsGreaterThanDefaultMaxAllowedUids,
    #[error("min allowed uids above current uids")]
    MinAllowedUidsGreaterThanCurrentUids,
    #[error("min allowed uids above max allowed uids")]
    MinAllowedUidsGreaterThanMaxAllowedUids,
    #[error("bonds moving average above its maximum")]
    BondsMovingAverageMaxReached,
    #[error("negative sigmoid steepness (root only)")]
    NegativeSigmoidSteepness,
    #[error("liquid alpha disabled")]
    LiquidAlphaDisabled,
    #[error("alpha high too low")]
    AlphaHighTooLow,
    #[error("alpha low out of range")]
    AlphaLowOutOfRange,
    #[error("reveal period too large")]
    RevealPeriodTooLarge,
    #[error("reveal period too small")]
    RevealPeriodTooSmall,

    // ---- neurons -------------------------------------------------------
    #[error("registration not permitted on the root subnet")]
    RegistrationNotPermittedOnRootSubnet,
    #[error("hotkey already registered in subnet")]
    HotKeyAlreadyRegisteredInSubNet,
    #[error("hotkey not registered in subnet")]
    HotKeyNotRegisteredInSubNet,
    #[error("no neuron id available")]
    NoNeuronIdAvailable,
    #[error("registration price above the limit")]
    RegistrationPriceLimitExceeded,

    // ---- root ----------------------------------------------------------
    #[error("root network does not exist")]
    RootNetworkDoesNotExist,
    #[error("too many registrations this block")]
    TooManyRegistrationsThisBlock,
    #[error("too many registrations this interval")]
    TooManyRegistrationsThisInterval,
    #[error("root stake too low to replace the weakest root validator")]
    StakeTooLowForRoot,

    // ---- delegation ----------------------------------------------------
    #[error("hotkey account does not exist")]
    HotKeyAccountNotExists,
    #[error("delegate take too low")]
    DelegateTakeTooLow,
    #[error("delegate take too high")]
    DelegateTakeTooHigh,
    #[error("delegate take rate limit exceeded")]
    DelegateTxRateLimitExceeded,
    #[error("duplicate child")]
    DuplicateChild,
    #[error("invalid child")]
    InvalidChild,
    #[error("too many children")]
    TooManyChildren,
    #[error("proportion overflow")]
    ProportionOverflow,
    #[error("child is a parent of this hotkey")]
    ChildParentInconsistency,
    #[error("not enough stake to set childkeys")]
    NotEnoughStakeToSetChildkeys,
    #[error("invalid childkey take")]
    InvalidChildkeyTake,
    #[error("childkey take rate limit exceeded")]
    TxChildkeyTakeRateLimitExceeded,

    // ---- locks ---------------------------------------------------------
    #[error("amount too low")]
    AmountTooLow,
    #[error("lock points at another hotkey")]
    LockHotkeyMismatch,
    #[error("insufficient stake for lock")]
    InsufficientStakeForLock,
    #[error("no existing lock")]
    NoExistingLock,

    // ---- senate / triumvirate -----------------------------------------
    #[error("not a senate member")]
    NotSenateMember,
    #[error("could not join the senate")]
    CouldNotJoinSenate,
    /// Not a triumvirate member (may not propose).
    #[error("not a member")]
    NotMember,
    #[error("duplicate proposal")]
    DuplicateProposal,
    #[error("too many active proposals")]
    TooManyActiveProposals,
    #[error("duration lower than the configured motion duration")]
    DurationLowerThanConfiguredMotionDuration,
    #[error("proposal does not exist")]
    ProposalNotExists,
    #[error("duplicate vote")]
    DuplicateVote,
    #[error("too early to close the proposal")]
    TooEarlyToCloseProposal,
}

impl Rejection {
    /// Stable code for replies and saga failures (the variant name).
    pub fn code(&self) -> String {
        let s = format!("{self:?}");
        match s.find([' ', '{', '(']) {
            Some(i) => s[..i].to_owned(),
            None => s,
        }
    }
}
