//! Parameters: the global configuration (Root-settable, seeded from config
//! as governance.md §8 asks), subnet hyperparameters with who may set them
//! (§3.7), and the admin actions the governance authority can take.

use keys::AccountId;
use serde::{Deserialize, Serialize};

use crate::rejection::Rejection;

/// 1 TAO in RAO.
pub const TAO: u64 = 1_000_000_000;
/// u16 proportion of 18 % (`InitialDefaultDelegateTake`, owner cut, max take).
pub const TAKE_18: u16 = 11_796;
/// Root network (netuid 0): slots.
pub const ROOT_MAX_UIDS: usize = 64;
/// Root tempo (the interval after which root's registration counter resets).
pub const ROOT_TEMPO: u64 = 100;
/// Storage index limit of netuids (`GLOBAL_MAX_SUBNET_COUNT`).
pub const MAX_NETUID: u16 = 4_095;
/// Number of subnet symbols on the chain (`subnets/symbols.rs`).
pub const SYMBOL_COUNT: u16 = 439;
/// `DefaultMaxAllowedUids` (per subnet ceiling).
pub const MAX_UIDS: u16 = 256;
/// `MIN_TEMPO` / `MAX_TEMPO` for owner `set_tempo`.
pub const MIN_OWNER_TEMPO: u16 = 360;
pub const MAX_OWNER_TEMPO: u16 = 50_400;
/// Owner `set_tempo` cooldown (blocks).
pub const TEMPO_COOLDOWN: u64 = 360;
/// Owner-hotkey change rate limit (per subnet, Root too).
pub const OWNER_HOTKEY_RATE_LIMIT: u64 = 50_400;
/// `set_children` rate limit per (hotkey, subnet).
pub const SET_CHILDREN_RATE_LIMIT: u64 = 150;
/// Max children per parent.
pub const MAX_CHILDREN: usize = 5;
/// Senate seats (`SenateMaxMembers`).
pub const SENATE_MAX: usize = 12;
/// Triumvirate seats.
pub const TRIUMVIRATE_MAX: usize = 3;
/// Active proposals at most (`TooManyActiveProposals`).
pub const MAX_ACTIVE_PROPOSALS: usize = 10;
/// A lock whose mass and conviction are both below this is deleted.
pub const LOCK_DUST: u64 = 100;
/// `ONE_YEAR` for the conviction takeover: 7200×365+1800.
pub const ONE_YEAR: u64 = 2_629_800;
/// Longest op id (the ledger's 128 less room for its suffixes).
pub const MAX_OP_LEN: usize = 112;
/// Default `BurnIncreaseMult` = `U64F64::from_num(1.26)` (bits of the f64
/// 1.26 rounded to 64 fractional bits).
pub const DEFAULT_BURN_INCREASE_MULT_BITS: u128 = 0x1_428F_5C28_F5C2_9000;

/// How votes on a proposal count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum VoteWeighting {
    /// The chain's rule: one vote per senator, threshold ⌊n/2⌋+1 seats.
    #[default]
    OneSeatOneVote,
    /// The seed's description: a senator weighs its root stake (snapshotted
    /// when the proposal is made); threshold ⌊total/2⌋+1 of that stake.
    StakeWeighted,
}

/// Which rule splits the block's TAO emission across subnets (issue 9).
/// Governance only carries the choice; the amm applies it
/// (`amm_core::shares::EmissionRule`, same names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum EmissionRule {
    /// Root validators' weights over netuids (before dTAO).
    RootWeights,
    /// EMA price × (1 − MinerBurned) (the chain today).
    #[default]
    EmaPrice,
    /// The net TAO flow EMA (Nov 2025 → Jun 2026).
    NetFlow,
}

/// Global (Root-settable) configuration. `Default` = the live chain values
/// the spec gives (§3, §5, §8); a genesis file may give any subset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `SubnetLimit` (non-root subnets).
    pub subnet_limit: u16,
    /// `NetworkRateLimit` (chain-wide, blocks): 28 800 (4 days).
    pub network_rate_limit: u64,
    /// `NetworkImmunityPeriod`: 864 000 (120 days).
    pub network_immunity_period: u64,
    /// `NetworkMinLockCost`: 1 TAO (live).
    pub network_min_lock_cost: u64,
    /// `NetworkLockReductionInterval`: 57 600 (8 days).
    pub lock_reduction_interval: u64,
    /// `NetworkRegistrationStartBlock`.
    pub network_registration_start_block: u64,
    /// `StartCallDelay` (0 now).
    pub start_call_delay: u64,
    pub min_delegate_take: u16,
    pub max_delegate_take: u16,
    pub default_delegate_take: u16,
    /// `TxDelegateTakeRateLimit`: 216 000.
    pub delegate_take_rate_limit: u64,
    pub min_childkey_take: u16,
    pub max_childkey_take: u16,
    /// `TxChildkeyTakeRateLimit`: 216 000.
    pub childkey_take_rate_limit: u64,
    /// `PendingChildKeyCooldown`: 7 200.
    pub pending_childkey_cooldown: u64,
    /// `DefaultMinStake` (RAO): 2 000 000.
    pub min_stake: u64,
    /// `NominatorMinRequiredStake` factor (ppm of min stake); live 10^7 ⇒ 0.02 TAO.
    pub nominator_min_required_stake: u64,
    /// `StakeThreshold` (RAO of total stake) for childkeys.
    pub stake_threshold: u64,
    /// `AdminFreezeWindow`: 10.
    pub admin_freeze_window: u64,
    /// `OwnerHyperparamRateLimit` in tempos: 2.
    pub owner_hyperparam_rate_limit: u64,
    /// `TaoWeight` as a u64 proportion (raw / (2^64 − 1)): 0.18.
    pub tao_weight: u64,
    /// Root: `MaxRegistrationsPerBlock[0]`.
    pub root_max_registrations_per_block: u16,
    /// Root: `TargetRegistrationsPerInterval[0]` (cap is 3× this).
    pub root_target_registrations_per_interval: u16,
    /// `MotionDuration` minimum (blocks): 12 h = 3 600.
    pub motion_duration: u64,
    pub vote_weighting: VoteWeighting,
    /// The subnet-king takeover (§2.3), off by default (§8).
    pub conviction_takeover: bool,
    /// `UnlockRate` τu (blocks): 934 866.
    pub unlock_rate: u64,
    /// `MaturityRate` τm (blocks): 934 866.
    pub maturity_rate: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            subnet_limit: 128,
            network_rate_limit: 28_800,
            network_immunity_period: 864_000,
            network_min_lock_cost: TAO,
            lock_reduction_interval: 57_600,
            network_registration_start_block: 0,
            start_call_delay: 0,
            min_delegate_take: 0,
            max_delegate_take: TAKE_18,
            default_delegate_take: TAKE_18,
            delegate_take_rate_limit: 216_000,
            min_childkey_take: 0,
            max_childkey_take: TAKE_18,
            childkey_take_rate_limit: 216_000,
            pending_childkey_cooldown: 7_200,
            min_stake: 2_000_000,
            nominator_min_required_stake: 10_000_000,
            stake_threshold: 0,
            admin_freeze_window: 10,
            owner_hyperparam_rate_limit: 2,
            tao_weight: 3_320_413_933_267_719_290,
            root_max_registrations_per_block: 1,
            root_target_registrations_per_interval: 1,
            motion_duration: 3_600,
            vote_weighting: VoteWeighting::OneSeatOneVote,
            conviction_takeover: false,
            unlock_rate: 934_866,
            maturity_rate: 934_866,
        }
    }
}

impl Config {
    /// Nominator minimum: `DefaultMinStake × NominatorMinRequiredStake / 10^6`.
    pub fn nominator_min_stake(&self) -> u64 {
        let v =
            u128::from(self.min_stake) * u128::from(self.nominator_min_required_stake) / 1_000_000;
        u64::try_from(v).unwrap_or(u64::MAX)
    }

    /// Writes one global parameter (bounds checked by [`GlobalParam::validate`]).
    pub fn apply(&mut self, p: &GlobalParam) {
        match *p {
            GlobalParam::SubnetLimit(v) => self.subnet_limit = v,
            GlobalParam::NetworkRateLimit(v) => self.network_rate_limit = v,
            GlobalParam::NetworkImmunityPeriod(v) => self.network_immunity_period = v,
            GlobalParam::NetworkMinLockCost(v) => self.network_min_lock_cost = v,
            GlobalParam::LockReductionInterval(v) => self.lock_reduction_interval = v,
            GlobalParam::NetworkRegistrationStartBlock(v) => {
                self.network_registration_start_block = v
            }
            GlobalParam::StartCallDelay(v) => self.start_call_delay = v,
            GlobalParam::MinDelegateTake(v) => self.min_delegate_take = v,
            GlobalParam::MaxDelegateTake(v) => self.max_delegate_take = v,
            GlobalParam::DelegateTakeRateLimit(v) => self.delegate_take_rate_limit = v,
            GlobalParam::MinChildkeyTake(v) => self.min_childkey_take = v,
            GlobalParam::MaxChildkeyTake(v) => self.max_childkey_take = v,
            GlobalParam::ChildkeyTakeRateLimit(v) => self.childkey_take_rate_limit = v,
            GlobalParam::PendingChildkeyCooldown(v) => self.pending_childkey_cooldown = v,
            GlobalParam::MinStake(v) => self.min_stake = v,
            GlobalParam::NominatorMinRequiredStake(v) => self.nominator_min_required_stake = v,
            GlobalParam::StakeThreshold(v) => self.stake_threshold = v,
            GlobalParam::AdminFreezeWindow(v) => self.admin_freeze_window = v,
            GlobalParam::OwnerHyperparamRateLimit(v) => self.owner_hyperparam_rate_limit = v,
            GlobalParam::TaoWeight(v) => self.tao_weight = v,
            GlobalParam::MotionDuration(v) => self.motion_duration = v,
            GlobalParam::VoteWeighting(v) => self.vote_weighting = v,
            GlobalParam::ConvictionTakeover(v) => self.conviction_takeover = v,
            GlobalParam::UnlockRate(v) => self.unlock_rate = v,
            GlobalParam::MaturityRate(v) => self.maturity_rate = v,
            // Carried to the amm (its `ParamSet` records them); nothing
            // in governance depends on them.
            GlobalParam::EmissionRule(_) | GlobalParam::RootTempo(_) => {}
        }
    }
}

/// One Root-only global parameter with its new value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GlobalParam {
    SubnetLimit(u16),
    NetworkRateLimit(u64),
    NetworkImmunityPeriod(u64),
    NetworkMinLockCost(u64),
    LockReductionInterval(u64),
    NetworkRegistrationStartBlock(u64),
    StartCallDelay(u64),
    MinDelegateTake(u16),
    MaxDelegateTake(u16),
    DelegateTakeRateLimit(u64),
    MinChildkeyTake(u16),
    MaxChildkeyTake(u16),
    ChildkeyTakeRateLimit(u64),
    PendingChildkeyCooldown(u64),
    MinStake(u64),
    NominatorMinRequiredStake(u64),
    StakeThreshold(u64),
    AdminFreezeWindow(u64),
    OwnerHyperparamRateLimit(u64),
    /// u64 proportion; the amm applies it.
    TaoWeight(u64),
    MotionDuration(u64),
    VoteWeighting(VoteWeighting),
    ConvictionTakeover(bool),
    UnlockRate(u64),
    MaturityRate(u64),
    /// The emission-share rule; the amm applies it.
    EmissionRule(EmissionRule),
    /// Blocks between root epochs (the `root-weights` rule); the amm applies it.
    RootTempo(u64),
}

impl GlobalParam {
    /// Bounds against the configuration the value would join.
    pub fn validate(&self, c: &Config) -> Result<(), Rejection> {
        match *self {
            GlobalParam::SubnetLimit(v) if v > MAX_NETUID => Err(Rejection::ValueNotInBounds),
            GlobalParam::MinDelegateTake(v) if v > c.max_delegate_take => {
                Err(Rejection::ValueNotInBounds)
            }
            GlobalParam::MaxDelegateTake(v) if v < c.min_delegate_take => {
                Err(Rejection::ValueNotInBounds)
            }
            GlobalParam::MinChildkeyTake(v) if v > c.max_childkey_take => {
                Err(Rejection::ValueNotInBounds)
            }
            GlobalParam::MaxChildkeyTake(v) if v < c.min_childkey_take => {
                Err(Rejection::ValueNotInBounds)
            }
            GlobalParam::UnlockRate(0)
            | GlobalParam::MaturityRate(0)
            | GlobalParam::RootTempo(0) => Err(Rejection::InvalidValue),
            _ => Ok(()),
        }
    }
}

/// Which service applies a hyperparameter change besides governance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// consensus-core `Hyperparameter::from_name(name, value)`.
    Consensus,
    /// amm-core `SubnetParam`.
    Amm,
    /// Kept by governance only (registration, burn, owner privileges).
    Governance,
}

/// Who may set a hyperparameter (§3.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setter {
    /// Subnet owner (rate-limited) or Root.
    Owner,
    /// Root only.
    Root,
    /// The setter is gone (`Deprecated`).
    Deprecated,
}

/// One subnet hyperparameter with its new value (§3.7 table). Names follow
/// consensus-core's `Hyperparameter::from_name` where consensus applies
/// the value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Hyperparameter {
    Tempo(u16),
    MaxAllowedUids(u16),
    MinAllowedUids(u16),
    MaxAllowedValidators(u16),
    MinAllowedWeights(u16),
    MaxWeightLimit(u16),
    ImmunityPeriod(u16),
    ActivityCutoffFactorMilli(u32),
    WeightsRateLimit(u64),
    WeightsVersionKey(u64),
    CommitRevealEnabled(bool),
    RevealPeriodEpochs(u64),
    ServingRateLimit(u64),
    Kappa(u16),
    Rho(u16),
    AlphaSigmoidSteepness(i16),
    BondsMovingAverage(u64),
    BondsPenalty(u16),
    BondsResetEnabled(bool),
    LiquidAlphaEnabled(bool),
    AlphaValues {
        low: u16,
        high: u16,
    },
    Yuma3Enabled(bool),
    MinBurn(u64),
    MaxBurn(u64),
    BurnHalfLife(u16),
    /// `U64F64` bits.
    BurnIncreaseMult(u128),
    NetworkRegistrationAllowed(bool),
    TransferEnabled(bool),
    ImmuneOwnerUidsLimit(u16),
    MinNonImmuneUids(u16),
    MinChildkeyTake(u16),
    OwnerCutEnabled(bool),
    SubnetEmissionEnabled(bool),
    SubtokenEnabled(bool),
    RootClaimThreshold(u64),
    /// Swap fee rate (u16 proportion), max 10 000.
    FeeRate(u16),
    EmaPriceHalvingBlocks(u64),
}

impl Hyperparameter {
    /// snake_case name (the rate-limit key; consensus-core's name where it
    /// applies the value).
    pub fn name(&self) -> &'static str {
        use Hyperparameter::*;
        match self {
            Tempo(_) => "tempo",
            MaxAllowedUids(_) => "max_allowed_uids",
            MinAllowedUids(_) => "min_allowed_uids",
            MaxAllowedValidators(_) => "max_allowed_validators",
            MinAllowedWeights(_) => "min_allowed_weights",
            MaxWeightLimit(_) => "max_weight_limit",
            ImmunityPeriod(_) => "immunity_period",
            ActivityCutoffFactorMilli(_) => "activity_cutoff_factor_milli",
            WeightsRateLimit(_) => "weights_rate_limit",
            WeightsVersionKey(_) => "weights_version_key",
            CommitRevealEnabled(_) => "commit_reveal_enabled",
            RevealPeriodEpochs(_) => "reveal_period_epochs",
            ServingRateLimit(_) => "serving_rate_limit",
            Kappa(_) => "kappa",
            Rho(_) => "rho",
            AlphaSigmoidSteepness(_) => "alpha_sigmoid_steepness",
            BondsMovingAverage(_) => "bonds_moving_average",
            BondsPenalty(_) => "bonds_penalty",
            BondsResetEnabled(_) => "bonds_reset_enabled",
            LiquidAlphaEnabled(_) => "liquid_alpha_enabled",
            AlphaValues { .. } => "alpha_values",
            Yuma3Enabled(_) => "yuma3_enabled",
            MinBurn(_) => "min_burn",
            MaxBurn(_) => "max_burn",
            BurnHalfLife(_) => "burn_half_life",
            BurnIncreaseMult(_) => "burn_increase_mult",
            NetworkRegistrationAllowed(_) => "network_registration_allowed",
            TransferEnabled(_) => "transfer_enabled",
            ImmuneOwnerUidsLimit(_) => "immune_owner_uids_limit",
            MinNonImmuneUids(_) => "min_non_immune_uids",
            MinChildkeyTake(_) => "min_childkey_take",
            OwnerCutEnabled(_) => "owner_cut_enabled",
            SubnetEmissionEnabled(_) => "subnet_emission_enabled",
            SubtokenEnabled(_) => "subtoken_enabled",
            RootClaimThreshold(_) => "root_claim_threshold",
            FeeRate(_) => "fee_rate",
            EmaPriceHalvingBlocks(_) => "ema_price_halving_blocks",
        }
    }

    /// The value as consensus-core's `from_name` reads it (booleans 0/1,
    /// alpha values packed `low << 16 | high`); `None` when it does not fit.
    pub fn value_i64(&self) -> Option<i64> {
        use Hyperparameter::*;
        let b = |v: bool| i64::from(v);
        Some(match *self {
            Tempo(v)
            | MaxAllowedUids(v)
            | MinAllowedUids(v)
            | MaxAllowedValidators(v)
            | MinAllowedWeights(v)
            | MaxWeightLimit(v)
            | ImmunityPeriod(v)
            | Kappa(v)
            | Rho(v)
            | BondsPenalty(v)
            | BurnHalfLife(v)
            | ImmuneOwnerUidsLimit(v)
            | MinNonImmuneUids(v)
            | MinChildkeyTake(v)
            | FeeRate(v) => i64::from(v),
            ActivityCutoffFactorMilli(v) => i64::from(v),
            AlphaSigmoidSteepness(v) => i64::from(v),
            WeightsRateLimit(v)
            | WeightsVersionKey(v)
            | RevealPeriodEpochs(v)
            | ServingRateLimit(v)
            | BondsMovingAverage(v)
            | MinBurn(v)
            | MaxBurn(v)
            | RootClaimThreshold(v)
            | EmaPriceHalvingBlocks(v) => i64::try_from(v).ok()?,
            BurnIncreaseMult(v) => i64::try_from(v).ok()?,
            CommitRevealEnabled(v)
            | BondsResetEnabled(v)
            | LiquidAlphaEnabled(v)
            | Yuma3Enabled(v)
            | NetworkRegistrationAllowed(v)
            | TransferEnabled(v)
            | OwnerCutEnabled(v)
            | SubnetEmissionEnabled(v)
            | SubtokenEnabled(v) => b(v),
            AlphaValues { low, high } => (i64::from(low) << 16) | i64::from(high),
        })
    }

    pub fn setter(&self) -> Setter {
        use Hyperparameter::*;
        match self {
            MinAllowedUids(_)
            | MaxAllowedValidators(_)
            | WeightsRateLimit(_)
            | Kappa(_)
            | NetworkRegistrationAllowed(_)
            | MinNonImmuneUids(_)
            | SubnetEmissionEnabled(_)
            | SubtokenEnabled(_)
            | FeeRate(_)
            | EmaPriceHalvingBlocks(_) => Setter::Root,
            MaxWeightLimit(_) => Setter::Deprecated,
            _ => Setter::Owner,
        }
    }

    pub fn target(&self) -> Target {
        use Hyperparameter::*;
        match self {
            Tempo(_)
            | MaxAllowedUids(_)
            | MaxAllowedValidators(_)
            | MinAllowedWeights(_)
            | MaxWeightLimit(_)
            | ImmunityPeriod(_)
            | ActivityCutoffFactorMilli(_)
            | WeightsRateLimit(_)
            | WeightsVersionKey(_)
            | CommitRevealEnabled(_)
            | RevealPeriodEpochs(_)
            | Kappa(_)
            | AlphaSigmoidSteepness(_)
            | BondsMovingAverage(_)
            | BondsPenalty(_)
            | LiquidAlphaEnabled(_)
            | AlphaValues { .. }
            | Yuma3Enabled(_)
            | MinNonImmuneUids(_) => Target::Consensus,
            NetworkRegistrationAllowed(_)
            | OwnerCutEnabled(_)
            | SubnetEmissionEnabled(_)
            | SubtokenEnabled(_)
            | FeeRate(_)
            | TransferEnabled(_)
            | RootClaimThreshold(_)
            | EmaPriceHalvingBlocks(_) => Target::Amm,
            _ => Target::Governance,
        }
    }

    /// Owner rate limit in blocks for a subnet of `tempo` (`None`: not
    /// rate-limited): 2 tempos by default, `weights_version_key` 5 tempos,
    /// the owner-cut flag none.
    pub fn owner_rate_limit(&self, tempo: u16, config: &Config) -> Option<u64> {
        match self {
            Hyperparameter::OwnerCutEnabled(_) => None,
            Hyperparameter::Tempo(_) => Some(TEMPO_COOLDOWN),
            Hyperparameter::WeightsVersionKey(_) => Some(5 * u64::from(tempo)),
            _ => Some(config.owner_hyperparam_rate_limit * u64::from(tempo)),
        }
    }

    /// Whether the admin freeze window refuses this setter (`by_root`:
    /// Root's activity-cutoff setter bypasses it; the owner-cut flag and
    /// the Root emission toggles never freeze).
    pub fn frozen_by_window(&self, by_root: bool) -> bool {
        match self {
            Hyperparameter::ActivityCutoffFactorMilli(_) => !by_root,
            Hyperparameter::OwnerCutEnabled(_)
            | Hyperparameter::SubnetEmissionEnabled(_)
            | Hyperparameter::SubtokenEnabled(_)
            | Hyperparameter::NetworkRegistrationAllowed(_) => false,
            _ => true,
        }
    }
}

/// The subnet hyperparameters governance itself reads, with the new-subnet
/// defaults of §3.1/§3.7/§4.2.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetParams {
    pub tempo: u16,
    pub max_allowed_uids: u16,
    pub min_allowed_uids: u16,
    pub max_allowed_validators: u16,
    pub immunity_period: u16,
    pub liquid_alpha_enabled: bool,
    pub min_burn: u64,
    pub max_burn: u64,
    pub burn_half_life: u16,
    pub burn_increase_mult_bits: u128,
    pub network_registration_allowed: bool,
    pub immune_owner_uids_limit: u16,
    pub min_non_immune_uids: u16,
    pub min_childkey_take: u16,
    pub subnet_emission_enabled: bool,
    pub subtoken_enabled: bool,
}

impl Default for SubnetParams {
    fn default() -> Self {
        SubnetParams {
            tempo: 360,
            max_allowed_uids: 256,
            min_allowed_uids: 64,
            max_allowed_validators: 64,
            immunity_period: 5_000,
            liquid_alpha_enabled: false,
            min_burn: 500_000,
            max_burn: 100 * TAO,
            burn_half_life: 360,
            burn_increase_mult_bits: DEFAULT_BURN_INCREASE_MULT_BITS,
            network_registration_allowed: true,
            immune_owner_uids_limit: 1,
            min_non_immune_uids: 10,
            min_childkey_take: 0,
            subnet_emission_enabled: false,
            subtoken_enabled: false,
        }
    }
}

impl SubnetParams {
    /// Records the values governance keeps; others are only forwarded.
    pub fn apply(&mut self, p: &Hyperparameter) {
        use Hyperparameter::*;
        match *p {
            Tempo(v) => self.tempo = v,
            MaxAllowedUids(v) => self.max_allowed_uids = v,
            MinAllowedUids(v) => self.min_allowed_uids = v,
            MaxAllowedValidators(v) => self.max_allowed_validators = v,
            ImmunityPeriod(v) => self.immunity_period = v,
            LiquidAlphaEnabled(v) => self.liquid_alpha_enabled = v,
            MinBurn(v) => self.min_burn = v,
            MaxBurn(v) => self.max_burn = v,
            BurnHalfLife(v) => self.burn_half_life = v,
            BurnIncreaseMult(v) => self.burn_increase_mult_bits = v,
            NetworkRegistrationAllowed(v) => self.network_registration_allowed = v,
            ImmuneOwnerUidsLimit(v) => self.immune_owner_uids_limit = v,
            MinNonImmuneUids(v) => self.min_non_immune_uids = v,
            MinChildkeyTake(v) => self.min_childkey_take = v,
            SubnetEmissionEnabled(v) => self.subnet_emission_enabled = v,
            SubtokenEnabled(v) => self.subtoken_enabled = v,
            _ => {}
        }
    }
}

/// Subnet identity (`utils/identity.rs` field limits, bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SubnetIdentity {
    pub name: String,
    pub github: String,
    pub contact: String,
    pub url: String,
    pub discord: String,
    pub description: String,
    pub logo: String,
    pub additional: String,
}

impl SubnetIdentity {
    pub fn validate(&self) -> Result<(), Rejection> {
        let ok = self.name.len() <= 256
            && self.github.len() <= 1024
            && self.contact.len() <= 1024
            && self.url.len() <= 1024
            && self.discord.len() <= 256
            && self.description.len() <= 1024
            && self.logo.len() <= 1024
            && self.additional.len() <= 1024;
        if ok {
            Ok(())
        } else {
            Err(Rejection::InvalidIdentity)
        }
    }
}

/// A subnet that exists at genesis (`ApplyGenesis`): registered and
/// opened at block 0 (`registered_at` 0), started iff `first_emission_block`
/// is set (subtoken enabled then), burn 1 TAO, the chain's new-subnet
/// hyperparameters with `tempo`. Its netuid is taken and it counts toward
/// the subnet limit; `lock` is its `SubnetLocked` (the lock-cost seed is
/// `ApplyGenesis::last_lock`, genesis locks do not move it). The symbol is
/// its netuid (below 439), else the lowest unused one.
///
/// `neurons` are the registered hotkeys in uid order (registered at block
/// 0); the owner hotkey is registered only if it is among them. Who owns
/// each hotkey (`HotkeyAssociated` after `GenesisApplied`), first rule that
/// applies: an entry of `hotkey_owners` (hotkey, coldkey) — it must name one
/// of this subnet's neurons; then a subnet's `owner_hotkey` belongs to its
/// `owner`; then any other neuron hotkey belongs to the owner of the
/// lowest-netuid genesis subnet it is registered on. Two rules of the same
/// rank, or an explicit owner and an owner hotkey, that disagree refuse the
/// genesis (`InvalidValue`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisSubnet {
    pub netuid: u16,
    pub owner: AccountId,
    pub owner_hotkey: AccountId,
    pub lock: u64,
    pub tempo: u16,
    pub first_emission_block: Option<u64>,
    pub neurons: Vec<AccountId>,
    /// Known coldkeys of (some of) `neurons`: (hotkey, coldkey).
    #[serde(default)]
    pub hotkey_owners: Vec<(AccountId, AccountId)>,
}

/// What the governance authority (the bootstrap admin key, or a passed
/// proposal) can do. Executing one emits the same events whichever way it
/// came.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminAction {
    /// Any subnet hyperparameter as Root (no owner rate limit; bounds and
    /// the freeze window apply).
    SetHyperparameter { netuid: u16, param: Hyperparameter },
    /// Any global parameter (subnet limit, TaoWeight, take bounds, …).
    SetGlobal(GlobalParam),
    /// `dissolve_network` / `root_dissolve_network`.
    DissolveSubnet { netuid: u16 },
    /// Appoint the triumvirate (≤ 3).
    SetTriumvirate { members: Vec<AccountId> },
    /// `disapprove_proposal`: close an active proposal as vetoed.
    VetoProposal { id: u64 },
    /// Root's owner-hotkey setter (rate-limited like the owner's).
    SetSubnetOwnerHotkey { netuid: u16, hotkey: AccountId },
    /// Root's `update_symbol`.
    UpdateSymbol { netuid: u16, symbol: u16 },
}
