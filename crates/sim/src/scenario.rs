//! The scenario file: one JSON document (the workspace has no TOML crate).
//!
//! Accounts are written as SS58 or as `"@Name"`, which stands for the dev
//! key `//Name` (so `@Alice` is the same Alice the cluster's `taonet
//! wallet` knows). The genesis is a network genesis file exactly as
//! `taonet up --genesis` reads it; commands are the services' own wire
//! commands, admitted with the services' own `admit`.

use crate::SimError;
use keys::{AccountId, Keypair};
use network_genesis::NetworkGenesis;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A whole simulation: where it starts, what happens, for how long.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default)]
    pub name: String,
    /// Seeds the agents' choices (`--seed` overrides it).
    #[serde(default)]
    pub seed: u64,
    /// Blocks to produce after genesis.
    pub blocks: u64,
    /// The UTC date of block 0 (`YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ`):
    /// block `b` is stamped `start + b × block time`.
    #[serde(default = "default_start")]
    pub start_date: String,
    /// One CSV row (and plot point) every this many blocks; by default
    /// about 1 000 rows over the run.
    #[serde(default)]
    pub sample_every: Option<u64>,
    pub genesis: NetworkGenesis,
    /// Rule switches: hyperparameters set by the genesis admin (Root's
    /// `Admin(SetHyperparameter)`) right after genesis, before block 1.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Global switches (vote weighting, emission rule, TaoWeight, ...):
    /// `Admin(SetGlobal)` by the same admin, after `rules`.
    #[serde(default)]
    pub globals: Vec<governance_core::GlobalParam>,
    /// Block `b`'s timestamp is entry `b − 1` when given (a recorded
    /// cluster's clock); later blocks, or all when empty, are stamped
    /// `start + b × block time`.
    #[serde(default)]
    pub block_timestamps_ms: Vec<u64>,
    /// Commands at given blocks, in file order within a block.
    #[serde(default)]
    pub commands: Vec<Scripted>,
    #[serde(default)]
    pub agents: Vec<Agent>,
    /// Project the halving date from this issuance and date (the report's
    /// `projection`), independent of the run.
    #[serde(default)]
    pub projection: Option<Projection>,
    /// `@Name` → account, for the report.
    #[serde(skip)]
    pub names: BTreeMap<AccountId, String>,
}

fn default_start() -> String {
    "2025-01-01".into()
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub netuid: u16,
    pub param: governance_core::Hyperparameter,
}

/// One command, signed by `signer`, run after block `at` (0: after
/// genesis, before block 1).
#[derive(Clone, Debug, Deserialize)]
pub struct Scripted {
    pub at: u64,
    pub signer: AccountId,
    /// The signed body's length in bytes, which the ledger's length fee
    /// counts; by default the length of the command's JSON stands in.
    #[serde(default)]
    pub encoded_len: Option<u32>,
    #[serde(flatten)]
    pub command: ServiceCommand,
}

/// A wire command and the service it is for.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "service", content = "command", rename_all = "lowercase")]
pub enum ServiceCommand {
    Ledger(ledger_core::CommandBody),
    Consensus(consensus_core::CommandBody),
    Amm(amm_core::CommandBody),
    Governance(governance_core::CommandBody),
}

/// Simple seeded behaviours.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Agent {
    /// Every `every` blocks stakes between `max_rao / 2` and `max_rao`
    /// through `hotkey` on one of `netuids`: a seeded random one, or with
    /// `chase` the one whose spot price is furthest above its EMA price.
    Staker {
        coldkey: AccountId,
        hotkey: AccountId,
        netuids: Vec<u16>,
        every: u64,
        max_rao: u64,
        #[serde(default)]
        chase: bool,
    },
    /// Every `every` blocks sets weights on `netuid`: each miner's
    /// `quality`, moved by up to ±`noise_pct` percent (seeded).
    Validator {
        hotkey: AccountId,
        netuid: u16,
        every: u64,
        #[serde(default)]
        noise_pct: u16,
        miners: Vec<Miner>,
    },
    /// A weight copier: every `every` blocks sets on `netuid` exactly the
    /// weight row `leader` has stored there (the chain's weights are
    /// public, so a lazy validator can copy a diligent one's). Nothing is
    /// sent while the leader has no row or the copier is not a neuron.
    WeightCopier {
        hotkey: AccountId,
        netuid: u16,
        every: u64,
        leader: AccountId,
    },
    /// Every `every` blocks unstakes between `max_alpha / 2` and
    /// `max_alpha` alpha-RAO (seeded) of (`hotkey`, `coldkey`) on `netuid`,
    /// at most half of what the position holds (so it keeps earning).
    Unstaker {
        coldkey: AccountId,
        hotkey: AccountId,
        netuid: u16,
        every: u64,
        max_alpha: u64,
    },
    /// A root validator: every `every` blocks sets root weights over
    /// `weights` (`[netuid, weight]`), each moved by up to ±`noise_pct`
    /// percent (seeded). Needs root stake (stake on netuid 0).
    RootValidator {
        hotkey: AccountId,
        every: u64,
        #[serde(default)]
        noise_pct: u16,
        weights: Vec<(u16, u16)>,
    },
    /// A subnet owner: every `every` blocks sends `RegisterNetwork` until
    /// `count` registrations have been accepted, each with a fresh owner
    /// hotkey. At the subnet limit governance prunes the weakest subnet out
    /// of immunity to make room (or refuses with `SubnetLimitReached`);
    /// the chain-wide rate limit and the lock cost apply as to anyone.
    SubnetOwner {
        /// Signs the registrations and pays their locks.
        coldkey: AccountId,
        /// Registration `n` (from 0) uses the dev key
        /// `//<hotkey_prefix>/<n>` as its owner hotkey: distinct per
        /// subnet, and rebuildable with `taonet wallet` from the prefix.
        hotkey_prefix: String,
        /// Blocks between attempts (an attempt at every multiple).
        every: u64,
        /// The most registrations accepted before the agent stops.
        count: u64,
        /// Sent as `max_lock_cost`: governance refuses a lock above it
        /// (`CannotAffordLockCost`). No limit when absent.
        #[serde(default)]
        max_lock_rao: Option<u64>,
        /// Also send `StartCall` for each subnet it registered, the first
        /// block the start-call delay allows, so the subnet's emission
        /// starts (alpha and epochs; its TAO share also needs
        /// `SubnetEmissionEnabled`); that block's registration attempt, if
        /// any, waits for the next one.
        #[serde(default)]
        start_call: bool,
    },
    /// A registrant: every `every` blocks sends `BurnedRegister` on
    /// `netuid` for a fresh hotkey, paid by `coldkey`. On a full subnet
    /// consensus replaces the weakest neuron (lowest emission, then oldest
    /// registration; the owner's hotkey is never pruned).
    Registrant {
        /// Signs the registrations and pays the burns.
        coldkey: AccountId,
        /// The subnet to register on.
        netuid: u16,
        /// Registration `i` (from 0) registers the dev key
        /// `//<hotkey_prefix>/<i>`: fresh hotkeys, the same every run.
        hotkey_prefix: String,
        /// Blocks between attempts (an attempt at every multiple).
        every: u64,
        /// The most registrations accepted before the agent stops; no
        /// limit when absent.
        #[serde(default)]
        count: Option<u64>,
        /// Nothing is sent while the subnet's burn price (governance's
        /// state) is above this; it is also the command's `limit_price`.
        /// The burn decays back over `BurnHalfLife`, so the agent resumes
        /// when the price has fallen. No limit when absent.
        #[serde(default)]
        max_burn_rao: Option<u64>,
    },
}

impl Agent {
    /// Blocks between the agent's attempts.
    pub fn every(&self) -> u64 {
        match self {
            Agent::Staker { every, .. }
            | Agent::Validator { every, .. }
            | Agent::WeightCopier { every, .. }
            | Agent::Unstaker { every, .. }
            | Agent::RootValidator { every, .. }
            | Agent::SubnetOwner { every, .. }
            | Agent::Registrant { every, .. } => *every,
        }
    }

    /// The dev-key prefix the agent derives fresh hotkeys from, if any.
    pub fn hotkey_prefix(&self) -> Option<&str> {
        match self {
            Agent::SubnetOwner { hotkey_prefix, .. } | Agent::Registrant { hotkey_prefix, .. } => {
                Some(hotkey_prefix)
            }
            _ => None,
        }
    }
}

/// The base key `//<prefix>` fresh hotkeys are derived from: hotkey `n`
/// is its soft child `/n`, i.e. the dev key `//<prefix>/<n>`. Deriving
/// the base runs the dev phrase's key stretching, so it is done once per
/// agent; each child is then cheap.
pub fn hotkey_base(prefix: &str) -> Result<Keypair, SimError> {
    Keypair::from_uri(&format!("//{prefix}"))
        .map_err(|e| SimError::Scenario(format!("hotkey prefix {prefix:?}: {e}")))
}

/// Hotkey `n` under `base` (see [`hotkey_base`]).
pub fn derived_hotkey(base: &Keypair, n: u64) -> AccountId {
    base.derive(&[keys::Junction::new(&n.to_string(), false)])
        .public()
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Miner {
    pub hotkey: AccountId,
    pub quality: u16,
}

/// "When does the halving land if issuance is `issuance_rao` on `date`?"
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Projection {
    pub issuance_rao: u64,
    pub date: String,
}

impl Scenario {
    /// Parses a scenario, resolving `@Name` accounts, and checks it.
    pub fn from_json(text: &str) -> Result<Scenario, SimError> {
        let mut doc: serde_json::Value =
            serde_json::from_str(text).map_err(|e| SimError::Scenario(e.to_string()))?;
        let mut keys = BTreeMap::new();
        resolve_names(&mut doc, &mut keys)?;
        let mut s: Scenario =
            serde_json::from_value(doc).map_err(|e| SimError::Scenario(e.to_string()))?;
        s.names = keys.into_iter().map(|(name, key)| (key, name)).collect();
        s.validate()?;
        Ok(s)
    }

    /// Reads and parses a scenario file.
    pub fn load(path: &std::path::Path) -> Result<Scenario, SimError> {
        let text = std::fs::read_to_string(path).map_err(|e| SimError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        Scenario::from_json(&text)
    }

    fn validate(&self) -> Result<(), SimError> {
        self.genesis
            .validate()
            .map_err(|e| SimError::Genesis(format!("{e:#}")))?;
        crate::date::parse(&self.start_date).map_err(SimError::Scenario)?;
        if let Some(p) = &self.projection {
            crate::date::parse(&p.date).map_err(SimError::Scenario)?;
        }
        if !(self.rules.is_empty() && self.globals.is_empty()) && self.admin().is_none() {
            return Err(SimError::Scenario(
                "rules and globals need an admin key in the genesis (admin or governance.admin)"
                    .into(),
            ));
        }
        for a in &self.agents {
            if a.every() == 0 {
                return Err(SimError::Scenario("an agent's `every` must be ≥ 1".into()));
            }
            if let Some(prefix) = a.hotkey_prefix() {
                // `//` then junctions: an empty prefix, or one with `/`,
                // would name another key than `//<prefix>/<n>` says.
                if prefix.is_empty() || prefix.contains('/') {
                    return Err(SimError::Scenario(format!(
                        "hotkey_prefix {prefix:?} must be a non-empty name without '/'"
                    )));
                }
            }
        }
        if let Some(c) = self.commands.iter().find(|c| c.at > self.blocks) {
            return Err(SimError::Scenario(format!(
                "a command at block {} is past the run's {} blocks",
                c.at, self.blocks
            )));
        }
        if self.genesis.ledger.clock == ledger_core::Clock::Manual
            && self.genesis.ledger.admin.is_none()
        {
            return Err(SimError::Scenario(
                "a manual clock needs the ledger admin (who sends AdvanceBlocks)".into(),
            ));
        }
        if self.sample_every == Some(0) {
            return Err(SimError::Scenario("sample_every must be ≥ 1".into()));
        }
        Ok(())
    }

    /// The governance admin (who signs the rule switches).
    pub fn admin(&self) -> Option<AccountId> {
        self.genesis.governance.admin.or(self.genesis.ledger.admin)
    }

    /// The block interval of the ledger's clock (12 s unless the genesis
    /// says otherwise; a manual clock counts as the default).
    pub fn block_time_ms(&self) -> u64 {
        match self.genesis.ledger.clock {
            ledger_core::Clock::Auto { block_time_ms } => block_time_ms,
            ledger_core::Clock::Manual => ledger_core::genesis::DEFAULT_BLOCK_TIME_MS,
        }
    }
}

/// Replaces every string `"@Name"` by the SS58 address of `//Name`
/// (`keys`: the names met so far; deriving a key is not free).
fn resolve_names(
    v: &mut serde_json::Value,
    keys: &mut BTreeMap<String, AccountId>,
) -> Result<(), SimError> {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix('@') {
                let key = match keys.get(name) {
                    Some(k) => *k,
                    None => {
                        let k = Keypair::from_uri(&format!("//{name}"))
                            .map_err(|e| SimError::Scenario(format!("account @{name}: {e}")))?
                            .public();
                        keys.insert(name.to_owned(), k);
                        k
                    }
                };
                *s = key.to_ss58();
            }
        }
        Value::Array(a) => {
            for x in a {
                resolve_names(x, keys)?;
            }
        }
        Value::Object(m) => {
            for x in m.values_mut() {
                resolve_names(x, keys)?;
            }
        }
        _ => {}
    }
    Ok(())
}
