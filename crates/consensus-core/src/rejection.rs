//! Why consensus refuses a command. Names follow the chain's error classes
//! (governance.md §7, `pallets/subtensor/src/macros/errors.rs`,
//! `pallets/admin-utils`) where one exists. A rejected command changes
//! nothing.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Rejection {
    /// The origin may not send this command (also: not the subnet owner).
    #[error("bad origin")]
    BadOrigin,
    /// Blocks arrive one at a time, in order.
    #[error("expected block {expected}, got {got}")]
    UnexpectedBlock { expected: u64, got: u64 },
    #[error("subnet does not exist")]
    SubnetNotExists,
    #[error("subnet already exists")]
    SubnetAlreadyExists,
    /// Netuid 0 is the root network: no neurons, weights or epochs here.
    #[error("not permitted on the root subnet")]
    NotPermittedOnRootSubnet,
    #[error("cannot set weights on the root network")]
    CanNotSetRootNetworkWeights,
    #[error("unknown hyperparameter {0}")]
    UnknownHyperparameter(String),
    #[error("invalid value")]
    InvalidValue,
    #[error("tempo out of bounds")]
    TempoOutOfBounds,
    #[error("activity cutoff factor out of bounds")]
    ActivityCutoffFactorMilliOutOfBounds,
    #[error("max allowed uids above 256")]
    MaxAllowedUidsGreaterThanDefaultMaxAllowedUids,
    #[error("max allowed uids below the current number of uids")]
    MaxAllowedUIdsLessThanCurrentUIds,
    #[error("max validators larger than max uids")]
    MaxValidatorsLargerThanMaxUIds,
    #[error("bonds moving average above its maximum")]
    BondsMovingAverageMaxReached,
    #[error("liquid alpha disabled")]
    LiquidAlphaDisabled,
    #[error("alpha low out of range")]
    AlphaLowOutOfRange,
    #[error("alpha high too low")]
    AlphaHighTooLow,
    #[error("reveal period too small")]
    RevealPeriodTooSmall,
    #[error("reveal period too large")]
    RevealPeriodTooLarge,
    #[error("hotkey already registered in subnet")]
    HotKeyAlreadyRegisteredInSubNet,
    /// The subnet is full and no uid may be pruned (or max uids is 0).
    #[error("no neuron id available")]
    NoNeuronIdAvailable,
    #[error("commit-reveal enabled: use commit/reveal")]
    CommitRevealEnabled,
    #[error("commit-reveal disabled")]
    CommitRevealDisabled,
    #[error("uids and values differ in length")]
    WeightVecNotEqualSize,
    #[error("more uids than the subnet has")]
    UidsLengthExceedUidsInSubNet,
    #[error("hotkey not registered in subnet")]
    HotKeyNotRegisteredInSubNet,
    #[error("not enough stake to set weights")]
    NotEnoughStakeToSetWeights,
    #[error("incorrect weight version key")]
    IncorrectWeightVersionKey,
    #[error("setting weights too fast")]
    SettingWeightsTooFast,
    #[error("committing weights too fast")]
    CommittingWeightsTooFast,
    #[error("neuron has no validator permit")]
    NeuronNoValidatorPermit,
    #[error("duplicate uids")]
    DuplicateUids,
    #[error("uid vector contains an invalid uid")]
    UidVecContainInvalidOne,
    #[error("too few weights")]
    WeightVecLengthIsLow,
    #[error("a weight exceeds the max weight limit")]
    MaxWeightExceeded,
    #[error("too many unrevealed commits")]
    TooManyUnrevealedCommits,
    #[error("no weights commit found")]
    NoWeightsCommitFound,
    #[error("weight commit expired")]
    ExpiredWeightCommit,
    #[error("reveal too early")]
    RevealTooEarly,
    #[error("revealed data does not match any commit hash")]
    InvalidRevealCommitHashNotMatch,
    #[error("trigger_epoch is blocked while commit-reveal is on")]
    DynamicTempoBlockedByCommitReveal,
    #[error("an epoch trigger is already pending")]
    EpochTriggerAlreadyPending,
    #[error("the automatic epoch is imminent")]
    AutoEpochAlreadyImminent,
    #[error("arithmetic overflow")]
    Overflow,
}

impl Rejection {
    /// The stable code replies and `StepRefused` carry: the variant name
    /// (as ledger-core's `rejection_code`), e.g. `"SubnetAlreadyExists"`,
    /// `"UnexpectedBlock"`.
    pub fn code(&self) -> String {
        let debug = format!("{self:?}");
        debug
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or_default()
            .to_owned()
    }
}
