//! Why the amm refuses a command. Variant names are the chain's error
//! classes (`pallets/subtensor/src/macros/errors.rs`, the swap pallet) where
//! one exists; [`Rejection::code`] is that name. A rejected command changes
//! nothing and emits nothing.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Rejection {
    #[error("the origin may not send this command")]
    BadOrigin,
    #[error("only the admin may set parameters")]
    NotAdmin,
    #[error("genesis already applied")]
    AlreadyApplied,
    #[error("genesis not applied")]
    GenesisNotApplied,
    #[error("invalid genesis: {0}")]
    InvalidGenesis(String),
    #[error("expected block {expected}, got {got}")]
    BlockOutOfOrder { expected: u64, got: u64 },
    #[error("subnet does not exist")]
    SubnetNotExists,
    #[error("subtoken disabled on this subnet")]
    SubtokenDisabled,
    #[error("amount too low")]
    AmountTooLow,
    #[error("not enough stake to withdraw")]
    NotEnoughStakeToWithdraw,
    #[error("not enough balance to stake")]
    NotEnoughBalanceToStake,
    #[error("hotkey account does not exist")]
    HotKeyAccountNotExists,
    /// The hotkey belongs to another coldkey.
    #[error("hotkey is associated with another coldkey")]
    NonAssociatedColdKey,
    #[error("the amount exceeds what the limit price allows")]
    SlippageTooHigh,
    #[error("reserves too low")]
    ReservesTooLow,
    #[error("insufficient liquidity")]
    InsufficientLiquidity,
    #[error("swap input too large")]
    SwapInputTooLarge,
    #[error("price limit exceeded")]
    PriceLimitExceeded,
    #[error("no amount can be staked within the limit price")]
    ZeroMaxStakeAmount,
    #[error("operation id already used")]
    OperationExists,
    #[error("unknown operation (or not awaiting this step)")]
    UnknownOperation,
    #[error("operation id empty or too long")]
    InvalidOperationId,
    #[error("stake transfers are disallowed on this subnet")]
    TransferDisallowed,
    #[error("origin and destination are the same")]
    SameNetuid,
    #[error("not permitted on the root subnet")]
    CannotBurnOrRecycleOnRootSubnet,
    #[error("invalid parameter value")]
    InvalidValue,
    /// Epoch vectors of different lengths.
    #[error("epoch result vectors differ in length")]
    MalformedEpoch,
    #[error("nothing to claim")]
    NothingToClaim,
    /// The operation would take the coldkey's alpha on the subnet below
    /// its locked mass (governance.md §5.6, the unstake guard).
    #[error("the stake is locked: the operation exceeds the available alpha")]
    StakeUnavailable,
    /// A child appears twice in a childkey list.
    #[error("duplicate child in the list")]
    DuplicateChild,
    /// A hotkey listed as its own child.
    #[error("a hotkey cannot be its own child")]
    InvalidChild,
    #[error("too many children")]
    TooManyChildren,
    /// The child proportions sum above u64::MAX (1).
    #[error("child proportions sum above 1")]
    ProportionOverflow,
    /// Root weights from a hotkey without root stake (below `min_stake`).
    #[error("not enough root stake to set root weights")]
    NotEnoughStakeToSetWeights,
    /// A netuid appears twice in root weights.
    #[error("duplicate netuid in the weights")]
    DuplicateUids,
    /// A netuid in root weights does not exist (or is root itself).
    #[error("the weights name a netuid that does not exist")]
    UidVecContainInvalidOne,
    /// Root weights set again within the root tempo.
    #[error("root weights set too fast")]
    SettingWeightsTooFast,
    /// Empty root weights.
    #[error("the weight vector is too short")]
    WeightVecLengthIsLow,
}

impl Rejection {
    /// The error class name (what `Reply::Rejected { code }` carries).
    pub fn code(&self) -> &'static str {
        use Rejection::*;
        match self {
            BadOrigin => "BadOrigin",
            NotAdmin => "NotAdmin",
            AlreadyApplied => "AlreadyApplied",
            GenesisNotApplied => "GenesisNotApplied",
            InvalidGenesis(_) => "InvalidGenesis",
            BlockOutOfOrder { .. } => "BlockOutOfOrder",
            SubnetNotExists => "SubnetNotExists",
            SubtokenDisabled => "SubtokenDisabled",
            AmountTooLow => "AmountTooLow",
            NotEnoughStakeToWithdraw => "NotEnoughStakeToWithdraw",
            NotEnoughBalanceToStake => "NotEnoughBalanceToStake",
            HotKeyAccountNotExists => "HotKeyAccountNotExists",
            NonAssociatedColdKey => "NonAssociatedColdKey",
            SlippageTooHigh => "SlippageTooHigh",
            ReservesTooLow => "ReservesTooLow",
            InsufficientLiquidity => "InsufficientLiquidity",
            SwapInputTooLarge => "SwapInputTooLarge",
            PriceLimitExceeded => "PriceLimitExceeded",
            ZeroMaxStakeAmount => "ZeroMaxStakeAmount",
            OperationExists => "OperationExists",
            UnknownOperation => "UnknownOperation",
            InvalidOperationId => "InvalidOperationId",
            TransferDisallowed => "TransferDisallowed",
            SameNetuid => "SameNetuid",
            CannotBurnOrRecycleOnRootSubnet => "CannotBurnOrRecycleOnRootSubnet",
            InvalidValue => "InvalidValue",
            MalformedEpoch => "MalformedEpoch",
            NothingToClaim => "NothingToClaim",
            StakeUnavailable => "StakeUnavailable",
            DuplicateChild => "DuplicateChild",
            InvalidChild => "InvalidChild",
            TooManyChildren => "TooManyChildren",
            ProportionOverflow => "ProportionOverflow",
            NotEnoughStakeToSetWeights => "NotEnoughStakeToSetWeights",
            DuplicateUids => "DuplicateUids",
            UidVecContainInvalidOne => "UidVecContainInvalidOne",
            SettingWeightsTooFast => "SettingWeightsTooFast",
            WeightVecLengthIsLow => "WeightVecLengthIsLow",
        }
    }
}

impl From<pool::SwapError> for Rejection {
    fn from(e: pool::SwapError) -> Self {
        use pool::SwapError as S;
        match e {
            S::ReservesTooLow => Rejection::ReservesTooLow,
            S::SwapInputTooLarge => Rejection::SwapInputTooLarge,
            S::PriceLimitExceeded => Rejection::PriceLimitExceeded,
            S::InsufficientLiquidity => Rejection::InsufficientLiquidity,
            S::ReservesOutOfBalance => Rejection::ReservesTooLow,
            S::AmountTooLow => Rejection::AmountTooLow,
            S::ZeroMaxStakeAmount => Rejection::ZeroMaxStakeAmount,
            S::InvalidArguments(_) => Rejection::InvalidValue,
        }
    }
}

impl From<pool::ShareError> for Rejection {
    fn from(e: pool::ShareError) -> Self {
        match e {
            pool::ShareError::ZeroShares => Rejection::InsufficientLiquidity,
            pool::ShareError::NotEnoughStake => Rejection::NotEnoughStakeToWithdraw,
            pool::ShareError::Overflow => Rejection::InsufficientLiquidity,
        }
    }
}
