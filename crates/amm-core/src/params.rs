//! Economic parameters (chain defaults from tokenomics.md §5) and the amm's
//! part of the network genesis.

use keys::AccountId;
use serde::{Deserialize, Serialize};

/// Global parameters. Proportions are stored raw, as the chain stores them:
/// u16 ones over 65535, u64 ones over 2^64 − 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AmmParams {
    /// May send `SetParam` (until governance takes the role over).
    pub admin: Option<AccountId>,
    /// `TaoWeight` raw (u64 proportion). Chain genesis default 0.0527 is not
    /// stated as a raw value in the spec; mainnet's 0.18 is
    /// 3_320_413_933_267_719_290.
    pub tao_weight: u64,
    /// `DefaultMinStake`, RAO.
    pub min_stake: u64,
    /// Existential deposit, RAO (the ledger's).
    pub existential_deposit: u64,
    /// Default `FeeRate` of new pools (u16 proportion).
    pub fee_rate: u16,
    /// Largest settable fee rate.
    pub max_fee_rate: u16,
    /// `SwapMinimumReserve`, RAO.
    pub minimum_reserve: u64,
    /// `SubnetMovingAlpha` as I96F32 bits (0.000003 by default).
    pub moving_alpha_bits: i128,
    /// `EMAPriceHalvingBlocks`.
    pub ema_halving_blocks: u64,
    /// Default `SubnetOwnerCut` (u16 proportion).
    pub owner_cut: u16,
    /// Default delegate take (u16 proportion).
    pub default_take: u16,
    /// `RootClaimableThreshold`, alpha-RAO.
    pub root_claim_threshold: u64,
    /// `NumRootClaim`: automatic claims per block.
    pub num_root_claim: u16,
}

/// 0.000003 in I96F32: `I96F32::saturating_from_num(0.000003)` rounds to
/// nearest, 0.000003 · 2^32 = 12884.9 → 12885.
pub const DEFAULT_MOVING_ALPHA_BITS: i128 = 12_885;

impl Default for AmmParams {
    fn default() -> Self {
        AmmParams {
            admin: None,
            tao_weight: 3_320_413_933_267_719_290,
            min_stake: 2_000_000,
            existential_deposit: 500,
            fee_rate: 33,
            max_fee_rate: 10_000,
            minimum_reserve: 1_000_000,
            moving_alpha_bits: DEFAULT_MOVING_ALPHA_BITS,
            ema_halving_blocks: 201_600,
            owner_cut: 11_796,
            default_take: 11_796,
            root_claim_threshold: 500_000,
            num_root_claim: 5,
        }
    }
}

/// A subnet that exists from genesis. Its pool TAO (`tao_reserve`) is the
/// ledger's genesis custody for `netuid`, so issuance counts it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisSubnet {
    pub netuid: u16,
    pub owner: AccountId,
    pub owner_hotkey: AccountId,
    /// SubnetTAO, RAO.
    pub tao_reserve: u64,
    /// SubnetAlphaIn, alpha-RAO.
    pub alpha_reserve: u64,
    /// `start_call` already made: `FirstEmissionBlockNumber` = this block.
    #[serde(default)]
    pub first_emission_block: Option<u64>,
    /// `SubnetEmissionEnabled` (new subnets: false on the chain since
    /// 2026-06-23; genesis subnets choose).
    #[serde(default = "yes")]
    pub emission_enabled: bool,
    /// Registered hotkeys (uid order) with their owner coldkeys.
    #[serde(default)]
    pub neurons: Vec<GenesisNeuron>,
    /// Consensus tempo (blocks); the chain's default 360 if absent.
    #[serde(default)]
    pub tempo: Option<u16>,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisNeuron {
    pub hotkey: AccountId,
    pub owner: AccountId,
}

/// The amm's genesis: parameters and the subnets that exist at block 0
/// (root, netuid 0, always exists as the stable pool).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AmmGenesis {
    #[serde(default)]
    pub params: AmmParams,
    #[serde(default)]
    pub subnets: Vec<GenesisSubnet>,
}

/// A settable parameter (`SetParam`); `netuid` is ignored for globals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SubnetParam {
    FeeRate(u16),
    EmissionEnabled(bool),
    SubtokenEnabled(bool),
    RegistrationAllowed(bool),
    OwnerCutEnabled(bool),
    OwnerCut(u16),
    /// Global.
    TaoWeight(u64),
    /// Global.
    MinStake(u64),
    /// `start_call`: emission starts at the current block.
    StartCall,
    /// A hotkey's delegate take (u16 proportion); netuid ignored.
    DelegateTake {
        hotkey: AccountId,
        take: u16,
    },
    /// Global: `CKBurn` (u64 proportion, default 0), the part of a
    /// parent's childkey dividend recycled when the owners differ.
    CkBurn(u64),
    /// This subnet's EMA price halving (blocks), instead of the global one.
    EmaHalvingBlocks(u64),
    /// This subnet's automatic root-claim threshold (alpha rao), instead of
    /// the global one.
    RootClaimThreshold(u64),
    /// Global: which rule splits the block's TAO across subnets (issue 9).
    EmissionRule(crate::shares::EmissionRule),
    /// Global: blocks between root epochs (the `root-weights` rule), ≥ 1.
    RootTempo(u64),
}
