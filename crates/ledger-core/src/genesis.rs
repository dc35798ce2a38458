//! Genesis configuration and the parameters the ledger keeps from it.

use std::collections::{BTreeMap, BTreeSet};

use keys::AccountId;
use serde::{Deserialize, Serialize};

use crate::emission::TOTAL_SUPPLY;
use crate::state::burn_account;

/// `ExistentialDeposit` of the Bittensor runtime (tokenomics.md §4.2).
pub const DEFAULT_EXISTENTIAL_DEPOSIT: u64 = 500;
/// 0.0005 RAO per weight unit, as a Perbill (tokenomics.md §4.4).
pub const DEFAULT_PER_WEIGHT_PERBILL: u64 = 500_000;
/// 1 RAO per encoded byte.
pub const DEFAULT_PER_BYTE: u64 = 1;
/// 12-second blocks.
pub const DEFAULT_BLOCK_TIME_MS: u64 = 12_000;
/// Unclaimed coinbase credit survives this many further blocks.
pub const DEFAULT_COINBASE_CLAIM_WINDOW: u64 = 1;

/// Transaction fee parameters. By default fees are burned (no block author
/// in taonet; decision 0003): total issuance falls by each fee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Fees {
    /// Weight fee per weight unit, in billionths of a RAO.
    pub per_weight_perbill: u64,
    /// Length fee per encoded byte of the command, in RAO.
    pub per_byte: u64,
    /// Fee burning off: every fee is paid to this account instead (as the
    /// chain pays its block author since March 2026), and issuance does not
    /// fall. It must hold a genesis balance. Burned all the same: its own
    /// fees, and a fee smaller than the existential deposit while its
    /// account is reaped (it would open an account below the deposit).
    pub recipient: Option<AccountId>,
}

/// `Fees` before the fee recipient (genesis v1 and v2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeesV1 {
    pub per_weight_perbill: u64,
    pub per_byte: u64,
}

impl From<FeesV1> for Fees {
    fn from(v1: FeesV1) -> Self {
        Fees {
            per_weight_perbill: v1.per_weight_perbill,
            per_byte: v1.per_byte,
            recipient: None,
        }
    }
}

impl Default for Fees {
    fn default() -> Self {
        Fees {
            per_weight_perbill: DEFAULT_PER_WEIGHT_PERBILL,
            per_byte: DEFAULT_PER_BYTE,
            recipient: None,
        }
    }
}

impl Fees {
    /// No fees at all (what the chain's unit-test vectors assume).
    pub fn zero() -> Self {
        Fees {
            per_weight_perbill: 0,
            per_byte: 0,
            recipient: None,
        }
    }
}

/// Who advances the block height.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// Only the admin advances blocks, with `AdvanceBlocks` (dev and tests).
    Manual,
    /// The shell's timer produces one block every `block_time_ms`.
    Auto { block_time_ms: u64 },
}

impl Default for Clock {
    fn default() -> Self {
        Clock::Auto {
            block_time_ms: DEFAULT_BLOCK_TIME_MS,
        }
    }
}

/// The ledger's genesis, loaded by the shell from its config file. Every
/// field but `balances` has a default, so `{"balances": [...]}` is a valid
/// genesis.
///
/// Externally tagged enums only: the genesis travels inside the
/// `GenesisApplied` event, whose bincode encoding cannot carry
/// self-describing (internally tagged or untagged) serde shapes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Genesis {
    /// Initial free balances; each must be ≥ `existential_deposit`.
    pub balances: Vec<(AccountId, u64)>,
    pub existential_deposit: u64,
    pub fees: Fees,
    /// May advance blocks in manual mode.
    pub admin: Option<AccountId>,
    /// Trusted service keys: may run saga steps and claim coinbase credit.
    pub services: Vec<AccountId>,
    pub clock: Clock,
    /// Coinbase credit of block b is recycled when block
    /// `b + coinbase_claim_window + 1` is produced if still unclaimed.
    /// [`NEVER_EXPIRE`] keeps credit until the amm claims it (a cluster
    /// with an amm: its claims arrive through its event stream, however
    /// late).
    pub coinbase_claim_window: u64,
    /// TAO already held for subnets at genesis (their pools' reserves), by
    /// netuid; counted in total issuance.
    pub custody: Vec<(u16, u64)>,
}

/// `coinbase_claim_window` value that never recycles unclaimed credit.
pub const NEVER_EXPIRE: u64 = u64::MAX;

impl Default for Genesis {
    fn default() -> Self {
        Genesis {
            balances: Vec::new(),
            existential_deposit: DEFAULT_EXISTENTIAL_DEPOSIT,
            fees: Fees::default(),
            admin: None,
            services: Vec::new(),
            clock: Clock::default(),
            coinbase_claim_window: DEFAULT_COINBASE_CLAIM_WINDOW,
            custody: Vec::new(),
        }
    }
}

impl Genesis {
    /// Checks the rules a genesis must meet; the message names the first
    /// violation.
    pub fn validate(&self) -> Result<(), String> {
        if self.existential_deposit == 0 {
            return Err("existential_deposit must be at least 1".into());
        }
        if let Clock::Auto { block_time_ms: 0 } = self.clock {
            return Err("auto clock needs block_time_ms >= 1".into());
        }
        let burn = burn_account();
        let mut seen = BTreeSet::new();
        let mut total: u64 = 0;
        for (who, amount) in &self.balances {
            if *who == burn {
                return Err(format!("{who} is the burn account"));
            }
            if !seen.insert(*who) {
                return Err(format!("{who} appears twice in balances"));
            }
            if *amount < self.existential_deposit {
                return Err(format!(
                    "balance {amount} of {who} is below the existential deposit {}",
                    self.existential_deposit
                ));
            }
            total = total
                .checked_add(*amount)
                .filter(|t| *t <= TOTAL_SUPPLY)
                .ok_or_else(|| format!("balances exceed the total supply {TOTAL_SUPPLY}"))?;
        }
        let mut netuids = BTreeSet::new();
        for (netuid, amount) in &self.custody {
            if !netuids.insert(*netuid) {
                return Err(format!("custody of subnet {netuid} appears twice"));
            }
            if *amount == 0 {
                return Err(format!("custody of subnet {netuid} is zero"));
            }
            total = total
                .checked_add(*amount)
                .filter(|t| *t <= TOTAL_SUPPLY)
                .ok_or_else(|| {
                    format!("balances and custody exceed the total supply {TOTAL_SUPPLY}")
                })?;
        }
        if let Some(r) = self.fees.recipient {
            if !seen.contains(&r) {
                return Err(format!("the fee recipient {r} must hold a genesis balance"));
            }
        }
        Ok(())
    }

    /// The parameters the ledger keeps after genesis.
    pub fn params(&self) -> Params {
        Params {
            existential_deposit: self.existential_deposit,
            fees: self.fees.clone(),
            admin: self.admin,
            services: self.services.iter().copied().collect(),
            clock: self.clock.clone(),
            coinbase_claim_window: self.coinbase_claim_window,
        }
    }

    /// Initial custody as a canonical map.
    pub(crate) fn custody_map(&self) -> BTreeMap<u16, u64> {
        self.custody.iter().copied().collect()
    }

    /// Initial balances as a canonical map.
    pub(crate) fn balance_map(&self) -> BTreeMap<AccountId, u64> {
        self.balances.iter().copied().collect()
    }
}

/// Genesis parameters as kept in the ledger state (balances excluded, service
/// keys as a set so the state stays canonical).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    pub existential_deposit: u64,
    pub fees: Fees,
    pub admin: Option<AccountId>,
    pub services: BTreeSet<AccountId>,
    pub clock: Clock,
    pub coinbase_claim_window: u64,
}

/// The genesis as version 1 of `GenesisApplied` wrote it (before genesis
/// custody existed); decodes into the current [`Genesis`] with no custody.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisV1 {
    pub balances: Vec<(AccountId, u64)>,
    pub existential_deposit: u64,
    pub fees: FeesV1,
    pub admin: Option<AccountId>,
    pub services: Vec<AccountId>,
    pub clock: Clock,
    pub coinbase_claim_window: u64,
}

/// v1 upcasts through v2 (no custody), so each version step is written once.
impl From<GenesisV1> for GenesisV2 {
    fn from(v1: GenesisV1) -> Self {
        GenesisV2 {
            balances: v1.balances,
            existential_deposit: v1.existential_deposit,
            fees: v1.fees,
            admin: v1.admin,
            services: v1.services,
            clock: v1.clock,
            coinbase_claim_window: v1.coinbase_claim_window,
            custody: Vec::new(),
        }
    }
}

impl From<GenesisV1> for Genesis {
    fn from(v1: GenesisV1) -> Self {
        GenesisV2::from(v1).into()
    }
}

/// The genesis as `GenesisApplied` v2 carried it: with custody, without a
/// fee recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisV2 {
    pub balances: Vec<(AccountId, u64)>,
    pub existential_deposit: u64,
    pub fees: FeesV1,
    pub admin: Option<AccountId>,
    pub services: Vec<AccountId>,
    pub clock: Clock,
    pub coinbase_claim_window: u64,
    pub custody: Vec<(u16, u64)>,
}

impl From<GenesisV2> for Genesis {
    fn from(v2: GenesisV2) -> Self {
        Genesis {
            balances: v2.balances,
            existential_deposit: v2.existential_deposit,
            fees: v2.fees.into(),
            admin: v2.admin,
            services: v2.services,
            clock: v2.clock,
            coinbase_claim_window: v2.coinbase_claim_window,
            custody: v2.custody,
        }
    }
}
