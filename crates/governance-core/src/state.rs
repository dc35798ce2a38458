//! The governance state, how events change it, what it answers, and the
//! invariants it keeps.
//!
//! Only `BTreeMap`s/`BTreeSet`s and vectors: the bincode encoding is
//! canonical, so digests compare states across processes and replays.
//! `apply` never fails and never panics: `decide` checked everything.

use std::collections::{BTreeMap, BTreeSet};

use keys::AccountId;
use serde::{Deserialize, Serialize};

use crate::event::*;
use crate::math;
use crate::params::{
    AdminAction, Config, GenesisSubnet, SubnetIdentity, SubnetParams, LOCK_DUST,
    MAX_ACTIVE_PROPOSALS, ROOT_MAX_UIDS, SENATE_MAX, SYMBOL_COUNT, TAO, TRIUMVIRATE_MAX,
};

/// A subnet is `Registering` from `SubnetRegistered` until pool and
/// metagraph are open; user commands see only `Active` subnets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SubnetStatus {
    Registering { op: String },
    Active,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub status: SubnetStatus,
    pub owner: AccountId,
    pub owner_hotkey: AccountId,
    /// `SubnetLocked`: the lock paid.
    pub lock: u64,
    /// Index into the chain's symbol list.
    pub symbol: u16,
    /// `NetworkRegisteredAt`.
    pub registered_at: u64,
    pub identity: Option<SubnetIdentity>,
    /// `FirstEmissionBlockNumber` (set by start_call).
    pub first_emission_block: Option<u64>,
    pub params: SubnetParams,
    /// `Burn`: the current neuron registration price (RAO).
    pub burn: u64,
    /// EMA price (I96F32 bits) and `SubnetAlphaOut`, from the amm.
    pub ema_price_bits: i128,
    pub alpha_out: u64,
    /// TAO the last coinbase credited (the `root-weights` rule's emission
    /// value), from the amm.
    pub emission_rao: u64,
    /// From consensus.
    pub next_epoch_block: u64,
    pub trigger_pending: bool,
    /// Block of the owner's last set, per hyperparameter name.
    pub owner_last_set: BTreeMap<String, u64>,
    pub owner_hotkey_changed_at: Option<u64>,
    /// Registered hotkeys → `BlockAtRegistration`.
    pub neurons: BTreeMap<AccountId, u64>,
    /// Hotkeys with a burn registration in flight.
    pub pending_neurons: BTreeSet<AccountId>,
}

impl Subnet {
    pub fn is_active(&self) -> bool {
        self.status == SubnetStatus::Active
    }
}

/// Stage of a subnet registration saga.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// Waiting for the ledger's lock.
    Requested,
    /// Lock held, subnet recorded; waiting for pool and metagraph.
    Locked,
    /// Pool and metagraph open.
    Opened,
    /// Refused with `code`; compensated.
    Failed { code: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub coldkey: AccountId,
    pub hotkey: AccountId,
    pub netuid: u16,
    pub lock_amount: u64,
    pub prune: Option<u16>,
    pub identity: Option<SubnetIdentity>,
    pub requested_at: u64,
    pub stage: Stage,
    pub pool_open: bool,
    pub metagraph_open: bool,
    /// Last-lock values before this registration (restored on failure).
    pub prev_lock_cost: u64,
    pub prev_lock_block: u64,
}

impl Registration {
    pub fn in_flight(&self) -> bool {
        matches!(self.stage, Stage::Requested | Stage::Locked)
    }
}

/// Stage of a neuron registration saga.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NeuronOpStatus {
    /// Waiting for the ledger to take the burn.
    Pending,
    /// The ledger holds the burn; waiting for consensus to register.
    Funded,
    Registered {
        uid: u16,
    },
    Failed {
        code: String,
    },
}

/// Which saga an op id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpKind {
    SubnetRegistration,
    NeuronRegistration,
}

/// [`Governance::op_status`]: what a client waiting on an op needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpStatus {
    /// Still running; `netuid` is the reserved (subnet) or target (neuron)
    /// netuid.
    Pending { kind: OpKind, netuid: u16 },
    /// The subnet is registered and its pool and metagraph are open.
    SubnetOpened { netuid: u16 },
    /// The hotkey holds `uid` on `netuid`.
    NeuronRegistered { netuid: u16, uid: u16 },
    /// Refused by a peer with `code` (compensated).
    Failed { kind: OpKind, code: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronOp {
    pub netuid: u16,
    pub hotkey: AccountId,
    pub coldkey: AccountId,
    pub burn: u64,
    pub status: NeuronOpStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Root {
    pub exists: bool,
    /// Hotkey per uid.
    pub members: Vec<AccountId>,
    /// (block, registrations in it).
    pub regs_block: (u64, u16),
    pub regs_interval: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegate {
    pub take: u16,
    /// Block of the last take change (0: never).
    pub last_change: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingChildren {
    pub children: Vec<(u64, AccountId)>,
    pub apply_at: u64,
}

/// One lock per (coldkey, subnet).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    pub hotkey: AccountId,
    pub locked: u64,
    pub conviction: u64,
    pub perpetual: bool,
    pub last_update: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub proposer: AccountId,
    pub action: AdminAction,
    pub hash: [u8; 32],
    pub voters: Vec<(AccountId, u128)>,
    pub threshold: u128,
    pub end: u64,
    pub ayes: BTreeSet<AccountId>,
    pub nays: BTreeSet<AccountId>,
}

impl Proposal {
    pub fn weight_of(&self, hotkey: &AccountId) -> Option<u128> {
        self.voters
            .iter()
            .find(|(h, _)| h == hotkey)
            .map(|(_, w)| *w)
    }

    pub fn total(&self) -> u128 {
        self.voters.iter().map(|(_, w)| *w).sum()
    }

    pub fn tally(&self) -> (u128, u128) {
        let sum = |set: &BTreeSet<AccountId>| -> u128 {
            set.iter().filter_map(|h| self.weight_of(h)).sum()
        };
        (sum(&self.ayes), sum(&self.nays))
    }
}

/// The whole governance state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Governance {
    pub height: u64,
    pub genesis_applied: bool,
    pub config: Config,
    /// The bootstrap admin key (None after the handover or if never set).
    pub admin: Option<AccountId>,
    pub handed_over: bool,
    /// RAO per block (scales the lock reduction interval); 0 = unknown (1 TAO).
    pub block_emission: u64,
    /// `NetworkLastLockCost` and the last subnet registration block.
    pub last_lock_cost: u64,
    pub last_lock_block: u64,
    pub subnets: BTreeMap<u16, Subnet>,
    pub registrations: BTreeMap<String, Registration>,
    pub neuron_ops: BTreeMap<String, NeuronOp>,
    /// `Owner`: hotkey → coldkey.
    pub hotkey_owner: BTreeMap<AccountId, AccountId>,
    pub root: Root,
    pub root_stake: BTreeMap<AccountId, u64>,
    /// `TotalHotkeyAlpha` by (hotkey, netuid), as the amm reports it
    /// (non-zero).
    pub hotkey_alpha: BTreeMap<(AccountId, u16), u64>,
    /// Spot prices (U64F64 bits) by netuid, as the amm reports them
    /// (non-zero).
    pub spot_prices: BTreeMap<u16, u128>,
    pub coldkey_alpha: BTreeMap<(AccountId, u16), u64>,
    pub delegates: BTreeMap<AccountId, Delegate>,
    pub children: BTreeMap<(AccountId, u16), Vec<(u64, AccountId)>>,
    pub pending_children: BTreeMap<(AccountId, u16), PendingChildren>,
    pub children_last_set: BTreeMap<(AccountId, u16), u64>,
    /// (take, block of the last change).
    pub childkey_take: BTreeMap<(AccountId, u16), (u16, u64)>,
    pub locks: BTreeMap<(AccountId, u16), Lock>,
    pub senate: BTreeSet<AccountId>,
    pub triumvirate: Vec<AccountId>,
    pub proposals: BTreeMap<u64, Proposal>,
    pub next_proposal_id: u64,
    /// The amm's emission-share rule (it decides what pruning compares).
    pub emission_rule: crate::params::EmissionRule,
}

impl Governance {
    pub fn height(&self) -> u64 {
        self.height
    }

    /// A hotkey's total stake value over all subnets, root included, as the
    /// chain's `get_total_stake_for_hotkey` (for `StakeThreshold`):
    /// `Σ_n floor(TotalHotkeyAlpha[h][n] · spot price_n)` in U96F32, from
    /// the alpha and prices the amm reported: the same inputs and the same
    /// arithmetic as the amm's `hotkey_totals`, so the same value.
    pub fn hotkey_total_stake(&self, hotkey: &AccountId) -> u64 {
        use fixed::types::{U64F64, U96F32};
        let lo = (*hotkey, 0u16);
        let hi = (*hotkey, u16::MAX);
        self.hotkey_alpha
            .range(lo..=hi)
            .fold(0u64, |total, ((_, n), alpha)| {
                let Some(bits) = self.spot_prices.get(n) else {
                    return total;
                };
                let price = U96F32::saturating_from_num(U64F64::from_bits(*bits));
                let value = U96F32::from_num(*alpha)
                    .saturating_mul(price)
                    .saturating_to_num::<u64>();
                total.saturating_add(value)
            })
    }

    /// Where the subnet or neuron registration `op` stands; `None` for an
    /// op never seen. Ops are kept after they finish so this keeps
    /// answering (memory grows with the number of ops ever made; nothing
    /// prunes them yet).
    pub fn op_status(&self, op: &str) -> Option<OpStatus> {
        if let Some(r) = self.registrations.get(op) {
            return Some(match &r.stage {
                Stage::Requested | Stage::Locked => OpStatus::Pending {
                    kind: OpKind::SubnetRegistration,
                    netuid: r.netuid,
                },
                Stage::Opened => OpStatus::SubnetOpened { netuid: r.netuid },
                Stage::Failed { code } => OpStatus::Failed {
                    kind: OpKind::SubnetRegistration,
                    code: code.clone(),
                },
            });
        }
        let o = self.neuron_ops.get(op)?;
        Some(match &o.status {
            NeuronOpStatus::Pending | NeuronOpStatus::Funded => OpStatus::Pending {
                kind: OpKind::NeuronRegistration,
                netuid: o.netuid,
            },
            NeuronOpStatus::Registered { uid } => OpStatus::NeuronRegistered {
                netuid: o.netuid,
                uid: *uid,
            },
            NeuronOpStatus::Failed { code } => OpStatus::Failed {
                kind: OpKind::NeuronRegistration,
                code: code.clone(),
            },
        })
    }

    /// The current subnet lock cost (§3.1).
    pub fn lock_cost(&self) -> u64 {
        let emission = if self.block_emission == 0 {
            crate::params::TAO
        } else {
            self.block_emission
        };
        math::network_lock_cost(
            self.last_lock_cost,
            self.last_lock_block,
            self.height,
            self.config.network_min_lock_cost,
            math::lock_reduction_interval(self.config.lock_reduction_interval, emission),
        )
    }

    /// An active subnet.
    pub fn active_subnet(&self, netuid: u16) -> Option<&Subnet> {
        self.subnets.get(&netuid).filter(|s| s.is_active())
    }

    /// The neuron burn price of a subnet now.
    pub fn burn(&self, netuid: u16) -> Option<u64> {
        self.subnets.get(&netuid).map(|s| s.burn)
    }

    /// A delegate's take (the default for hotkeys never set).
    pub fn delegate_take(&self, hotkey: &AccountId) -> u16 {
        self.delegates
            .get(hotkey)
            .map(|d| d.take)
            .unwrap_or(self.config.default_delegate_take)
    }

    /// `get_neuron_is_immune`.
    pub fn neuron_is_immune(&self, netuid: u16, hotkey: &AccountId) -> bool {
        self.subnets.get(&netuid).is_some_and(|s| {
            s.neurons.get(hotkey).is_some_and(|at| {
                self.height.saturating_sub(*at) < u64::from(s.params.immunity_period)
            })
        })
    }

    /// Owner-immortal hotkeys: the owner hotkey, then the owner coldkey's
    /// other hotkeys on the subnet (latest registration first), up to
    /// `ImmuneOwnerUidsLimit` in all.
    pub fn owner_immortal(&self, netuid: u16) -> BTreeSet<AccountId> {
        let mut out = BTreeSet::new();
        let Some(s) = self.subnets.get(&netuid) else {
            return out;
        };
        let limit = usize::from(s.params.immune_owner_uids_limit.max(1));
        if s.neurons.contains_key(&s.owner_hotkey) {
            out.insert(s.owner_hotkey);
        }
        let mut others: Vec<(u64, AccountId)> = s
            .neurons
            .iter()
            .filter(|(h, _)| **h != s.owner_hotkey && self.hotkey_owner.get(*h) == Some(&s.owner))
            .map(|(h, at)| (*at, *h))
            .collect();
        others.sort_by(|a, b| b.cmp(a));
        for (_, h) in others {
            if out.len() >= limit {
                break;
            }
            out.insert(h);
        }
        out
    }

    /// The subnet the next registration at the limit would prune (§3.2):
    /// lowest EMA price among active subnets out of immunity, tie → earliest
    /// registered (then lower netuid). Under the `root-weights` emission
    /// rule, the lowest emission value instead, as before dTAO
    /// (governance.md §1.3; same ties).
    pub fn subnet_to_prune(&self) -> Option<u16> {
        let eligible = self.subnets.iter().filter(|(_, s)| {
            s.is_active()
                && self.height.saturating_sub(s.registered_at)
                    >= self.config.network_immunity_period
        });
        if self.emission_rule == crate::params::EmissionRule::RootWeights {
            return eligible
                .min_by_key(|(n, s)| (s.emission_rao, s.registered_at, **n))
                .map(|(n, _)| *n);
        }
        eligible
            .min_by_key(|(n, s)| (s.ema_price_bits, s.registered_at, **n))
            .map(|(n, _)| *n)
    }

    /// Emission eligibility (§1.4): started, subtoken enabled, registration
    /// allowed (the TAO side also needs `subnet_emission_enabled`).
    pub fn emission_eligible(&self, netuid: u16) -> bool {
        netuid != 0
            && self.active_subnet(netuid).is_some_and(|s| {
                s.first_emission_block.is_some()
                    && s.params.subtoken_enabled
                    && s.params.network_registration_allowed
            })
    }

    /// A lock rolled forward to `block` (None if absent or dust).
    pub fn lock_at(&self, coldkey: &AccountId, netuid: u16, block: u64) -> Option<Lock> {
        let l = self.locks.get(&(*coldkey, netuid))?;
        let (m, mut c) = math::roll_lock(
            l.locked,
            l.conviction,
            block.saturating_sub(l.last_update),
            l.perpetual,
            self.config.unlock_rate,
            self.config.maturity_rate,
        );
        if self
            .subnets
            .get(&netuid)
            .is_some_and(|s| s.owner_hotkey == l.hotkey)
        {
            c = m;
        }
        if m < LOCK_DUST && c < LOCK_DUST {
            return None;
        }
        Some(Lock {
            hotkey: l.hotkey,
            locked: m,
            conviction: c,
            perpetual: l.perpetual,
            last_update: block.max(l.last_update),
        })
    }

    /// The unstake guard: how much of `coldkey`'s alpha on `netuid` is not
    /// locked at `block` (total alpha − rolled locked mass).
    pub fn available_stake(&self, coldkey: &AccountId, netuid: u16, block: u64) -> u64 {
        let total = self
            .coldkey_alpha
            .get(&(*coldkey, netuid))
            .copied()
            .unwrap_or(0);
        let locked = self
            .lock_at(coldkey, netuid, block)
            .map(|l| l.locked)
            .unwrap_or(0);
        total.saturating_sub(locked)
    }

    /// Total conviction per hotkey on a subnet at `block`.
    pub fn hotkey_convictions(&self, netuid: u16, block: u64) -> BTreeMap<AccountId, u64> {
        let mut out: BTreeMap<AccountId, u64> = BTreeMap::new();
        for (coldkey, n) in self.locks.keys() {
            if *n != netuid {
                continue;
            }
            if let Some(l) = self.lock_at(coldkey, netuid, block) {
                let e = out.entry(l.hotkey).or_default();
                *e = e.saturating_add(l.conviction);
            }
        }
        out
    }

    /// Symbols in use.
    pub fn used_symbols(&self) -> BTreeSet<u16> {
        self.subnets.values().map(|s| s.symbol).collect()
    }

    pub(crate) fn apply(&mut self, event: &GovernanceEvent) {
        use GovernanceEvent as E;
        match event {
            E::GenesisApplied(e) => {
                self.genesis_applied = true;
                self.admin = e.admin;
                self.config = e.config.clone();
                self.triumvirate = e.triumvirate.clone();
                (self.last_lock_cost, self.last_lock_block) = e.last_lock;
                self.root.exists = true;
                let symbols = genesis_symbols(&e.subnets);
                for (g, symbol) in e.subnets.iter().zip(symbols) {
                    self.subnets.insert(g.netuid, genesis_subnet(g, symbol));
                }
            }
            E::BlockObserved(e) => {
                self.height = e.height;
                if e.root_interval_reset {
                    self.root.regs_interval = 0;
                }
                // The factor depends only on the half-life, which nearly
                // every subnet shares: one bisection per distinct value,
                // not one per subnet per block.
                let mut memo: Option<(u16, u64)> = None;
                for s in self.subnets.values_mut() {
                    let hl = s.params.burn_half_life;
                    let f = match memo {
                        Some((h, f)) if h == hl => f,
                        _ => {
                            let f = math::decay_factor_q32(hl);
                            memo = Some((hl, f));
                            f
                        }
                    };
                    s.burn = math::decay_burn(s.burn, f, s.params.min_burn, s.params.max_burn);
                }
            }
            E::BlockEmissionObserved(e) => self.block_emission = e.rao,
            E::MarketObserved(e) => {
                for (n, price, out) in &e.entries {
                    if let Some(s) = self.subnets.get_mut(n) {
                        s.ema_price_bits = *price;
                        s.alpha_out = *out;
                    }
                }
            }
            E::EmissionObserved(e) => {
                for (n, rao) in &e.entries {
                    if let Some(s) = self.subnets.get_mut(n) {
                        s.emission_rao = *rao;
                    }
                }
            }
            E::EmissionRuleObserved(e) => self.emission_rule = e.rule,
            E::StakesObserved(e) => {
                put_all(&mut self.root_stake, e.root.iter().map(|(h, v)| (*h, *v)));
                put_all(
                    &mut self.hotkey_alpha,
                    e.hotkey_alpha.iter().map(|(h, n, v)| ((*h, *n), *v)),
                );
                for (n, bits) in &e.prices {
                    if *bits == 0 {
                        self.spot_prices.remove(n);
                    } else {
                        self.spot_prices.insert(*n, *bits);
                    }
                }
                put_all(
                    &mut self.coldkey_alpha,
                    e.coldkey_alpha.iter().map(|(c, n, v)| ((*c, *n), *v)),
                );
            }
            E::EpochScheduleObserved(e) => {
                if let Some(s) = self.subnets.get_mut(&e.netuid) {
                    s.next_epoch_block = e.next_epoch_block;
                    s.trigger_pending = e.trigger_pending;
                }
            }
            E::SubnetRegistrationRequested(e) => {
                self.registrations.insert(
                    e.op.clone(),
                    Registration {
                        coldkey: e.coldkey,
                        hotkey: e.hotkey,
                        netuid: e.netuid,
                        lock_amount: e.lock_amount,
                        prune: e.prune,
                        identity: e.identity.clone(),
                        requested_at: e.block,
                        stage: Stage::Requested,
                        pool_open: false,
                        metagraph_open: false,
                        prev_lock_cost: self.last_lock_cost,
                        prev_lock_block: self.last_lock_block,
                    },
                );
            }
            E::SubnetRegistered(e) => {
                if let Some(r) = self.registrations.get_mut(&e.op) {
                    r.stage = Stage::Locked;
                    r.prev_lock_cost = self.last_lock_cost;
                    r.prev_lock_block = self.last_lock_block;
                }
                self.last_lock_cost = e.lock;
                self.last_lock_block = e.block;
                let params = SubnetParams {
                    tempo: e.tempo,
                    ..SubnetParams::default()
                };
                let mut neurons = BTreeMap::new();
                neurons.insert(e.owner_hotkey, e.block);
                self.subnets.insert(
                    e.netuid,
                    Subnet {
                        status: SubnetStatus::Registering { op: e.op.clone() },
                        owner: e.owner,
                        owner_hotkey: e.owner_hotkey,
                        lock: e.lock,
                        symbol: e.symbol,
                        registered_at: e.block,
                        identity: e.identity.clone(),
                        first_emission_block: None,
                        params,
                        burn: e.burn,
                        ema_price_bits: 0,
                        emission_rao: 0,
                        alpha_out: 0,
                        next_epoch_block: 0,
                        trigger_pending: false,
                        owner_last_set: BTreeMap::new(),
                        owner_hotkey_changed_at: None,
                        neurons,
                        pending_neurons: BTreeSet::new(),
                    },
                );
            }
            E::SubnetRegistrationProgressed(e) => {
                if let Some(r) = self.registrations.get_mut(&e.op) {
                    r.pool_open = e.pool_open;
                    r.metagraph_open = e.metagraph_open;
                }
            }
            E::SubnetOpened(e) => {
                if let Some(r) = self.registrations.get_mut(&e.op) {
                    r.stage = Stage::Opened;
                }
                if let Some(s) = self.subnets.get_mut(&e.netuid) {
                    s.status = SubnetStatus::Active;
                }
            }
            E::SubnetRegistrationFailed(e) => {
                if let Some(r) = self.registrations.get_mut(&e.op) {
                    r.stage = Stage::Failed {
                        code: e.code.clone(),
                    };
                }
                if let Some(n) = e.netuid {
                    self.remove_subnet(n);
                }
                self.last_lock_cost = e.restored_lock_cost;
                self.last_lock_block = e.restored_lock_block;
            }
            E::SubnetDissolved(e) => self.remove_subnet(e.netuid),
            E::SubnetStarted(e) => {
                if let Some(s) = self.subnets.get_mut(&e.netuid) {
                    s.first_emission_block = Some(e.first_emission_block);
                    s.params.subtoken_enabled = true;
                }
            }
            E::SubnetOwnerHotkeySet(e) => {
                if let Some(s) = self.subnets.get_mut(&e.netuid) {
                    s.owner_hotkey = e.hotkey;
                    s.owner_hotkey_changed_at = Some(e.block);
                }
            }
            E::SubnetIdentitySet(e) => {
                if let Some(s) = self.subnets.get_mut(&e.netuid) {
                    s.identity = Some(e.identity.clone());
                }
            }
            E::SymbolSet(e) => {
                if let Some(s) = self.subnets.get_mut(&e.netuid) {
                    s.symbol = e.symbol;
                }
            }
            E::HyperparameterSet(e) => {
                if let Some(s) = self.subnets.get_mut(&e.netuid) {
                    s.params.apply(&e.param);
                    s.burn = s.burn.min(s.params.max_burn).max(s.params.min_burn);
                    if e.by_owner {
                        s.owner_last_set.insert(e.param.name().to_owned(), e.block);
                    }
                }
            }
            E::GlobalParamSet(e) => self.config.apply(&e.param),
            E::HotkeyAssociated(e) => {
                self.hotkey_owner.entry(e.hotkey).or_insert(e.coldkey);
            }
            E::NeuronRegistrationRequested(e) => {
                if let Some(s) = self.subnets.get_mut(&e.netuid) {
                    s.burn = e.new_burn;
                    s.pending_neurons.insert(e.hotkey);
                }
                self.neuron_ops.insert(
                    e.op.clone(),
                    NeuronOp {
                        netuid: e.netuid,
                        hotkey: e.hotkey,
                        coldkey: e.coldkey,
                        burn: e.burn,
                        status: NeuronOpStatus::Pending,
                    },
                );
            }
            E::NeuronRegistrationFunded(e) => {
                if let Some(op) = self.neuron_ops.get_mut(&e.op) {
                    op.status = NeuronOpStatus::Funded;
                }
            }
            E::NeuronRegistered(e) => {
                if let Some(op) = self.neuron_ops.get_mut(&e.op) {
                    op.status = NeuronOpStatus::Registered { uid: e.uid };
                }
                if let Some(s) = self.subnets.get_mut(&e.netuid) {
                    s.pending_neurons.remove(&e.hotkey);
                    if let Some(r) = &e.replaced {
                        s.neurons.remove(r);
                    }
                    s.neurons.insert(e.hotkey, e.block);
                }
            }
            E::NeuronRegistrationFailed(e) => {
                if let Some(op) = self.neuron_ops.get_mut(&e.op) {
                    op.status = NeuronOpStatus::Failed {
                        code: e.code.clone(),
                    };
                }
                if let Some(s) = self.subnets.get_mut(&e.netuid) {
                    s.pending_neurons.remove(&e.hotkey);
                }
            }
            E::RootRegistered(e) => {
                if self.root.regs_block.0 == e.block {
                    self.root.regs_block.1 = self.root.regs_block.1.saturating_add(1);
                } else {
                    self.root.regs_block = (e.block, 1);
                }
                self.root.regs_interval = self.root.regs_interval.saturating_add(1);
                let uid = usize::from(e.uid);
                if uid < self.root.members.len() {
                    self.root.members[uid] = e.hotkey;
                } else {
                    self.root.members.push(e.hotkey);
                }
            }
            E::SenateChanged(e) => {
                if let Some(l) = &e.left {
                    self.senate.remove(l);
                }
                if let Some(j) = &e.joined {
                    self.senate.insert(*j);
                }
            }
            E::DelegateTakeSet(e) => {
                let last = if e.forced {
                    self.delegates.get(&e.hotkey).map_or(0, |d| d.last_change)
                } else {
                    e.block
                };
                self.delegates.insert(
                    e.hotkey,
                    Delegate {
                        take: e.take,
                        last_change: last,
                    },
                );
            }
            E::ChildrenScheduled(e) => {
                self.pending_children.insert(
                    (e.hotkey, e.netuid),
                    PendingChildren {
                        children: e.children.clone(),
                        apply_at: e.apply_at,
                    },
                );
                self.children_last_set.insert((e.hotkey, e.netuid), e.block);
            }
            E::ChildrenApplied(e) => {
                let key = (e.hotkey, e.netuid);
                self.pending_children.remove(&key);
                if e.children.is_empty() {
                    self.children.remove(&key);
                } else {
                    self.children.insert(key, e.children.clone());
                }
            }
            E::ChildkeyTakeSet(e) => {
                self.childkey_take
                    .insert((e.hotkey, e.netuid), (e.take, e.block));
            }
            E::LockUpdated(e) => {
                self.locks.insert(
                    (e.coldkey, e.netuid),
                    Lock {
                        hotkey: e.hotkey,
                        locked: e.locked,
                        conviction: e.conviction,
                        perpetual: e.perpetual,
                        last_update: e.block,
                    },
                );
            }
            E::LockRemoved(e) => {
                self.locks.remove(&(e.coldkey, e.netuid));
            }
            E::SubnetOwnerChanged(e) => {
                if let Some(s) = self.subnets.get_mut(&e.netuid) {
                    s.owner = e.new_owner;
                    s.owner_hotkey = e.new_owner_hotkey;
                }
            }
            E::TriumvirateSet(e) => self.triumvirate = e.members.clone(),
            E::ProposalCreated(e) => {
                self.proposals.insert(
                    e.id,
                    Proposal {
                        proposer: e.proposer,
                        action: e.action.clone(),
                        hash: e.hash,
                        voters: e.voters.clone(),
                        threshold: e.threshold,
                        end: e.end,
                        ayes: BTreeSet::new(),
                        nays: BTreeSet::new(),
                    },
                );
                self.next_proposal_id = self.next_proposal_id.max(e.id.saturating_add(1));
            }
            E::Voted(e) => {
                if let Some(p) = self.proposals.get_mut(&e.id) {
                    if e.approve {
                        p.nays.remove(&e.hotkey);
                        p.ayes.insert(e.hotkey);
                    } else {
                        p.ayes.remove(&e.hotkey);
                        p.nays.insert(e.hotkey);
                    }
                }
            }
            E::ProposalClosed(e) => {
                self.proposals.remove(&e.id);
            }
            E::ProposalExecutionFailed(_) => {}
            E::AuthorityHandedOver(_) => {
                self.admin = None;
                self.handed_over = true;
            }
        }
    }

    /// Drops a subnet and everything keyed by it.
    fn remove_subnet(&mut self, netuid: u16) {
        self.subnets.remove(&netuid);
        self.locks.retain(|(_, n), _| *n != netuid);
        self.children.retain(|(_, n), _| *n != netuid);
        self.pending_children.retain(|(_, n), _| *n != netuid);
        self.children_last_set.retain(|(_, n), _| *n != netuid);
        self.childkey_take.retain(|(_, n), _| *n != netuid);
        self.coldkey_alpha.retain(|(_, n), _| *n != netuid);
    }

    /// Consistency of the state (tests and snapshot restore).
    pub fn check_invariants(&self) -> Result<(), String> {
        if self.subnets.contains_key(&0) {
            return Err("netuid 0 is the root network, not a subnet".into());
        }
        let mut symbols = BTreeSet::new();
        for (n, s) in &self.subnets {
            if !symbols.insert(s.symbol) {
                return Err(format!("subnet {n}: symbol {} used twice", s.symbol));
            }
            if s.symbol >= crate::params::SYMBOL_COUNT {
                return Err(format!("subnet {n}: symbol out of range"));
            }
            if s.neurons.len() > usize::from(s.params.max_allowed_uids.max(1)) {
                return Err(format!("subnet {n}: more neurons than max uids"));
            }
            if s.pending_neurons.iter().any(|h| s.neurons.contains_key(h)) {
                return Err(format!("subnet {n}: a pending hotkey is registered"));
            }
            if s.burn < s.params.min_burn.min(s.params.max_burn)
                || s.burn > s.params.max_burn.max(s.params.min_burn)
            {
                return Err(format!("subnet {n}: burn {} outside its bounds", s.burn));
            }
            if let SubnetStatus::Registering { op } = &s.status {
                match self.registrations.get(op) {
                    Some(r) if r.stage == Stage::Locked && r.netuid == *n => {}
                    _ => return Err(format!("subnet {n}: registering without a locked saga")),
                }
            }
        }
        let in_flight = self
            .registrations
            .values()
            .filter(|r| r.in_flight())
            .count();
        if in_flight > 1 {
            return Err("more than one subnet registration in flight".into());
        }
        for (op, r) in &self.registrations {
            if r.stage == Stage::Locked && !self.subnets.contains_key(&r.netuid) {
                return Err(format!("saga {op}: locked but its subnet is missing"));
            }
        }
        let members: BTreeSet<_> = self.root.members.iter().collect();
        if members.len() != self.root.members.len() || self.root.members.len() > ROOT_MAX_UIDS {
            return Err("root members duplicated or over 64".into());
        }
        if self.senate.len() > SENATE_MAX {
            return Err("senate over 12 seats".into());
        }
        if self.senate.iter().any(|h| !members.contains(h)) {
            return Err("a senator is not a root member".into());
        }
        if self.triumvirate.len() > TRIUMVIRATE_MAX {
            return Err("triumvirate over 3".into());
        }
        if self.proposals.len() > MAX_ACTIVE_PROPOSALS {
            return Err("too many active proposals".into());
        }
        for (id, p) in &self.proposals {
            if *id >= self.next_proposal_id {
                return Err(format!("proposal {id} at or above the next id"));
            }
            if !p.ayes.is_disjoint(&p.nays) {
                return Err(format!("proposal {id}: a voter voted both ways"));
            }
            if p.ayes
                .iter()
                .chain(&p.nays)
                .any(|h| p.weight_of(h).is_none())
            {
                return Err(format!("proposal {id}: a vote from a non-voter"));
            }
        }
        if self.handed_over && self.admin.is_some() {
            return Err("admin key present after the handover".into());
        }
        for ((c, n), l) in &self.locks {
            if !self.subnets.contains_key(n) {
                return Err(format!("lock of {c} on missing subnet {n}"));
            }
            if !self.hotkey_owner.contains_key(&l.hotkey) {
                return Err(format!("lock of {c} points at an unknown hotkey"));
            }
        }
        for ((h, n), kids) in &self.children {
            if kids.len() > crate::params::MAX_CHILDREN || kids.iter().any(|(_, k)| k == h) {
                return Err(format!("children of {h} on {n} invalid"));
            }
        }
        Ok(())
    }
}

/// Symbols of the genesis subnets, in their order: the netuid below 439,
/// else the lowest symbol no other genesis subnet uses.
pub(crate) fn genesis_symbols(subnets: &[GenesisSubnet]) -> Vec<u16> {
    let mut used: BTreeSet<u16> = subnets
        .iter()
        .map(|g| g.netuid)
        .filter(|n| *n < SYMBOL_COUNT)
        .collect();
    subnets
        .iter()
        .map(|g| {
            if g.netuid < SYMBOL_COUNT {
                return g.netuid;
            }
            let free = (0..SYMBOL_COUNT).find(|s| !used.contains(s)).unwrap_or(0);
            used.insert(free);
            free
        })
        .collect()
}

/// A genesis subnet as `GenesisApplied` records it (see [`GenesisSubnet`]).
fn genesis_subnet(g: &GenesisSubnet, symbol: u16) -> Subnet {
    let params = SubnetParams {
        tempo: g.tempo,
        subtoken_enabled: g.first_emission_block.is_some(),
        ..SubnetParams::default()
    };
    Subnet {
        status: SubnetStatus::Active,
        owner: g.owner,
        owner_hotkey: g.owner_hotkey,
        lock: g.lock,
        symbol,
        registered_at: 0,
        identity: None,
        first_emission_block: g.first_emission_block,
        params,
        burn: TAO,
        ema_price_bits: 0,
        emission_rao: 0,
        alpha_out: 0,
        next_epoch_block: 0,
        trigger_pending: false,
        owner_last_set: BTreeMap::new(),
        owner_hotkey_changed_at: None,
        neurons: g.neurons.iter().map(|h| (*h, 0)).collect(),
        pending_neurons: BTreeSet::new(),
    }
}

fn put_all<K: Ord, I: IntoIterator<Item = (K, u64)>>(map: &mut BTreeMap<K, u64>, items: I) {
    for (k, v) in items {
        if v == 0 {
            map.remove(&k);
        } else {
            map.insert(k, v);
        }
    }
}
