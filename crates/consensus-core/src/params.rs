//! Subnet hyperparameters: the chain's defaults for a new subnet, the typed
//! setter and the bounds consensus enforces itself.
//!
//! Who may set what (owner or Root, rate limits, the admin freeze window,
//! the owner's narrower tempo range) is the governance service's decision
//! (governance.md §3.7). Consensus only refuses values that would break its
//! own state or the epoch: a zero tempo, more uids than exist or than 256,
//! a validator count above the uid count, alpha bounds the setter refuses,
//! a reveal period outside 1..=100.

use serde::{Deserialize, Serialize};

use crate::rejection::Rejection;

/// `MAX_TEMPO`: also the safety-net age (tokenomics.md §2.5).
pub const MAX_TEMPO: u64 = 50_400;
/// `DefaultMaxAllowedUids`.
pub const MAX_UIDS: u16 = 256;
/// `AdminFreezeWindow`: a triggered epoch fires this many blocks later.
pub const ADMIN_FREEZE_WINDOW: u64 = 10;
/// Queued hash commits per hotkey (`TooManyUnrevealedCommits`).
pub const MAX_UNREVEALED_COMMITS: usize = 10;
/// `MaxEpochsPerBlock` runtime default.
pub const DEFAULT_MAX_EPOCHS_PER_BLOCK: u16 = 2;
/// Lower bound of each liquid-alpha value (65535/40 ≈ 0.025).
pub const ALPHA_MIN: u16 = 1_638;

/// Everything per subnet that the epoch, the weight rules and the scheduler
/// read. `Default` is a new subnet on the chain (governance.md §3.7 first
/// column; yuma.md §2 for the epoch-only values).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetParams {
    /// Blocks between epochs.
    pub tempo: u16,
    pub kappa: u16,
    pub bonds_penalty: u16,
    /// ppm; EMA α = 1 − v/1e6.
    pub bonds_moving_average: u64,
    pub yuma3: bool,
    pub liquid_alpha: bool,
    pub alpha_low: u16,
    pub alpha_high: u16,
    pub alpha_sigmoid_steepness: i16,
    pub max_allowed_validators: u16,
    pub max_allowed_uids: u16,
    /// Per-mille of tempo (`ActivityCutoffFactorMilli`).
    pub activity_cutoff_factor_milli: u32,
    /// `StakeThreshold` in rao (global on the chain, per subnet here so a
    /// simulation can vary it).
    pub stake_threshold: u64,
    /// `WeightsSetRateLimit` in blocks.
    pub weights_rate_limit: u64,
    pub min_allowed_weights: u16,
    /// 65535 = no limit (the chain's setter is gone; kept for simulations).
    pub max_weight_limit: u16,
    pub weights_version_key: u64,
    pub commit_reveal_enabled: bool,
    /// `RevealPeriodEpochs`.
    pub reveal_period_epochs: u64,
    /// Blocks after registration during which a neuron is pruned last.
    pub immunity_period: u16,
    /// `MinNonImmuneUids`: floor under which immune uids are pruned instead.
    pub min_non_immune_uids: u16,
}

impl Default for SubnetParams {
    fn default() -> Self {
        SubnetParams {
            tempo: 360,
            kappa: 32_767,
            bonds_penalty: 65_535,
            bonds_moving_average: 900_000,
            yuma3: true,
            liquid_alpha: false,
            alpha_low: 45_875,
            alpha_high: 58_982,
            alpha_sigmoid_steepness: 1_000,
            max_allowed_validators: 64,
            max_allowed_uids: 256,
            activity_cutoff_factor_milli: 13_889,
            stake_threshold: 0,
            weights_rate_limit: 100,
            min_allowed_weights: 1,
            max_weight_limit: u16::MAX,
            weights_version_key: 0,
            commit_reveal_enabled: true,
            reveal_period_epochs: 1,
            immunity_period: 5_000,
            min_non_immune_uids: 10,
        }
    }
}

/// One hyperparameter with its new value (`SetHyperparameter`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Hyperparameter {
    Tempo(u16),
    Kappa(u16),
    BondsPenalty(u16),
    BondsMovingAverage(u64),
    Yuma3(bool),
    LiquidAlpha(bool),
    AlphaValues { low: u16, high: u16 },
    AlphaSigmoidSteepness(i16),
    MaxAllowedValidators(u16),
    MaxAllowedUids(u16),
    ActivityCutoffFactorMilli(u32),
    StakeThreshold(u64),
    WeightsRateLimit(u64),
    MinAllowedWeights(u16),
    MaxWeightLimit(u16),
    WeightsVersionKey(u64),
    CommitRevealEnabled(bool),
    RevealPeriodEpochs(u64),
    ImmunityPeriod(u16),
    MinNonImmuneUids(u16),
}

impl Hyperparameter {
    /// Parses `name` (snake_case, as the CLI and governance spell it) and a
    /// numeric value (booleans as 0/1; `alpha_values` packs `low << 16 | high`).
    pub fn from_name(name: &str, value: i64) -> Result<Hyperparameter, Rejection> {
        let u16v = || u16::try_from(value).map_err(|_| Rejection::InvalidValue);
        let u64v = || u64::try_from(value).map_err(|_| Rejection::InvalidValue);
        let boolv = || match value {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Rejection::InvalidValue),
        };
        Ok(match name {
            "tempo" => Hyperparameter::Tempo(u16v()?),
            "kappa" => Hyperparameter::Kappa(u16v()?),
            "bonds_penalty" => Hyperparameter::BondsPenalty(u16v()?),
            "bonds_moving_average" => Hyperparameter::BondsMovingAverage(u64v()?),
            "yuma3_enabled" => Hyperparameter::Yuma3(boolv()?),
            "liquid_alpha_enabled" => Hyperparameter::LiquidAlpha(boolv()?),
            "alpha_values" => {
                let packed = u32::try_from(value).map_err(|_| Rejection::InvalidValue)?;
                Hyperparameter::AlphaValues {
                    low: (packed >> 16) as u16,
                    high: packed as u16,
                }
            }
            "alpha_sigmoid_steepness" => Hyperparameter::AlphaSigmoidSteepness(
                i16::try_from(value).map_err(|_| Rejection::InvalidValue)?,
            ),
            "max_allowed_validators" => Hyperparameter::MaxAllowedValidators(u16v()?),
            "max_allowed_uids" => Hyperparameter::MaxAllowedUids(u16v()?),
            "activity_cutoff_factor_milli" => Hyperparameter::ActivityCutoffFactorMilli(
                u32::try_from(value).map_err(|_| Rejection::InvalidValue)?,
            ),
            "stake_threshold" => Hyperparameter::StakeThreshold(u64v()?),
            "weights_rate_limit" => Hyperparameter::WeightsRateLimit(u64v()?),
            "min_allowed_weights" => Hyperparameter::MinAllowedWeights(u16v()?),
            "max_weight_limit" => Hyperparameter::MaxWeightLimit(u16v()?),
            "weights_version_key" => Hyperparameter::WeightsVersionKey(u64v()?),
            "commit_reveal_enabled" => Hyperparameter::CommitRevealEnabled(boolv()?),
            "reveal_period_epochs" => Hyperparameter::RevealPeriodEpochs(u64v()?),
            "immunity_period" => Hyperparameter::ImmunityPeriod(u16v()?),
            "min_non_immune_uids" => Hyperparameter::MinNonImmuneUids(u16v()?),
            _ => return Err(Rejection::UnknownHyperparameter(name.to_owned())),
        })
    }
}

impl SubnetParams {
    /// Writes one value (no checks: [`SubnetParams::validate`] runs on the
    /// result before an event is emitted).
    pub fn apply(&mut self, p: &Hyperparameter) {
        match *p {
            Hyperparameter::Tempo(v) => self.tempo = v,
            Hyperparameter::Kappa(v) => self.kappa = v,
            Hyperparameter::BondsPenalty(v) => self.bonds_penalty = v,
            Hyperparameter::BondsMovingAverage(v) => self.bonds_moving_average = v,
            Hyperparameter::Yuma3(v) => self.yuma3 = v,
            Hyperparameter::LiquidAlpha(v) => self.liquid_alpha = v,
            Hyperparameter::AlphaValues { low, high } => {
                self.alpha_low = low;
                self.alpha_high = high;
            }
            Hyperparameter::AlphaSigmoidSteepness(v) => self.alpha_sigmoid_steepness = v,
            Hyperparameter::MaxAllowedValidators(v) => self.max_allowed_validators = v,
            Hyperparameter::MaxAllowedUids(v) => self.max_allowed_uids = v,
            Hyperparameter::ActivityCutoffFactorMilli(v) => self.activity_cutoff_factor_milli = v,
            Hyperparameter::StakeThreshold(v) => self.stake_threshold = v,
            Hyperparameter::WeightsRateLimit(v) => self.weights_rate_limit = v,
            Hyperparameter::MinAllowedWeights(v) => self.min_allowed_weights = v,
            Hyperparameter::MaxWeightLimit(v) => self.max_weight_limit = v,
            Hyperparameter::WeightsVersionKey(v) => self.weights_version_key = v,
            Hyperparameter::CommitRevealEnabled(v) => self.commit_reveal_enabled = v,
            Hyperparameter::RevealPeriodEpochs(v) => self.reveal_period_epochs = v,
            Hyperparameter::ImmunityPeriod(v) => self.immunity_period = v,
            Hyperparameter::MinNonImmuneUids(v) => self.min_non_immune_uids = v,
        }
    }

    /// The bounds consensus keeps, against the subnet's current size `n`.
    /// Alpha values are checked only when they are being set (the setter
    /// requires liquid alpha), so `setting_alpha` says whether they are.
    pub fn validate(&self, n: usize, setting_alpha: bool) -> Result<(), Rejection> {
        if self.tempo == 0 {
            return Err(Rejection::TempoOutOfBounds);
        }
        if self.max_allowed_uids > MAX_UIDS {
            return Err(Rejection::MaxAllowedUidsGreaterThanDefaultMaxAllowedUids);
        }
        if usize::from(self.max_allowed_uids) < n {
            return Err(Rejection::MaxAllowedUIdsLessThanCurrentUIds);
        }
        if self.max_allowed_validators > self.max_allowed_uids {
            return Err(Rejection::MaxValidatorsLargerThanMaxUIds);
        }
        if self.bonds_moving_average > 1_000_000 {
            return Err(Rejection::BondsMovingAverageMaxReached);
        }
        if !(1_000..=50_000).contains(&self.activity_cutoff_factor_milli) {
            return Err(Rejection::ActivityCutoffFactorMilliOutOfBounds);
        }
        if self.reveal_period_epochs == 0 {
            return Err(Rejection::RevealPeriodTooSmall);
        }
        if self.reveal_period_epochs > 100 {
            return Err(Rejection::RevealPeriodTooLarge);
        }
        if setting_alpha && !self.liquid_alpha {
            return Err(Rejection::LiquidAlphaDisabled);
        }
        if self.alpha_high < ALPHA_MIN {
            return Err(Rejection::AlphaHighTooLow);
        }
        if self.alpha_low < ALPHA_MIN || self.alpha_low > self.alpha_high {
            return Err(Rejection::AlphaLowOutOfRange);
        }
        Ok(())
    }

    /// The epoch engine's view (activity cutoff resolved to blocks).
    pub fn epoch_hyperparameters(&self) -> yuma::Hyperparameters {
        yuma::Hyperparameters {
            kappa_u16: self.kappa,
            bonds_penalty_u16: self.bonds_penalty,
            bonds_moving_average: self.bonds_moving_average,
            yuma3: self.yuma3,
            liquid_alpha: self.liquid_alpha,
            alpha_low_u16: self.alpha_low,
            alpha_high_u16: self.alpha_high,
            alpha_sigmoid_steepness: self.alpha_sigmoid_steepness,
            max_allowed_validators: self.max_allowed_validators,
            activity_cutoff_blocks: yuma::activity_cutoff_blocks(
                self.activity_cutoff_factor_milli,
                self.tempo,
            ),
            stake_threshold: self.stake_threshold,
        }
    }
}
