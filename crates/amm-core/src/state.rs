//! The amm state, the copy-on-write transaction every decision runs in, and
//! how events change the state.
//!
//! Why a transaction: a staking op, a coinbase or an epoch payout is a
//! sequence of steps where each step reads what the previous one changed
//! (two credits to one share pool, a claim that sells into a pool the
//! coinbase just changed). A decision therefore runs in a [`Tx`] and
//! *emits* each event by applying it there. The `Tx`'s [`Layer`]s work in
//! one of two modes with the same reads and writes: over `&Amm`, copying
//! an entry the first time it is written (`decide`, queries), or in the
//! `Amm` itself, keeping each written entry's old value to undo (`handle`,
//! `evolve`; docs/decisions/0013). There is a single `apply`, so replay
//! equals live by construction, and a rejection changes nothing (the layer
//! is dropped, or rolled back).
//!
//! Only `BTreeMap`s/`BTreeSet`s: the bincode encoding is canonical, so the
//! digest compares states across processes and replays.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeBounds;

use keys::AccountId;
use pool::{Mechanism, Perquintill, Pool, SharePool};
use serde::{Deserialize, Serialize};

use crate::command::RootClaimType;
use crate::event::*;
use crate::params::{AmmParams, SubnetParam};
use crate::shares::EmissionRule;

/// The lowest and highest account ids, for range scans over tuple keys.
pub(crate) const ID_MIN: AccountId = AccountId([0; 32]);
pub(crate) const ID_MAX: AccountId = AccountId([0xFF; 32]);

/// One subnet: its pool, its emission state and its counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub netuid: u16,
    pub mechanism: Mechanism,
    /// `SubnetTAO` (RAO).
    pub tao: u64,
    /// `SubnetAlphaIn`.
    pub alpha_in: u64,
    /// `SubnetAlphaOut`: stakes + protocol alpha + pending pots + claimable
    /// root dividends + burned + dust (see [`Amm::check_invariants`]).
    pub alpha_out: u64,
    /// `SubnetProtocolAlpha`: bought by chain buys.
    pub protocol_alpha: u64,
    /// Balancer quote weight (Perquintill parts).
    pub quote_weight: u64,
    /// `FeeRate` (u16 proportion).
    pub fee_rate: u16,
    /// `SubnetMovingPrice` (I96F32 bits).
    pub moving_price_bits: i128,
    /// `FirstEmissionBlockNumber` (set by `start_call`).
    pub first_emission_block: Option<u64>,
    pub subtoken_enabled: bool,
    pub emission_enabled: bool,
    pub registration_allowed: bool,
    pub owner_cut_enabled: bool,
    /// Per-subnet overrides of the global `ema_halving_blocks` and
    /// `root_claim_threshold` (set through governance's hyperparameters).
    pub ema_halving_blocks: Option<u64>,
    pub root_claim_threshold: Option<u64>,
    /// `SubnetOwnerCut` (u16 proportion).
    pub owner_cut: u16,
    pub owner: AccountId,
    pub owner_hotkey: AccountId,
    /// `MinerBurned` (U96F32 bits).
    pub miner_burned_bits: u128,
    /// Alpha burned (sell fees, burn_alpha, withheld owner incentive): still
    /// in `alpha_out`, owned by no one.
    pub burned_alpha: u64,
    /// Alpha recycled (recycle_alpha, root alpha without the sell flag,
    /// payouts nobody could receive): removed from `alpha_out`.
    pub recycled_alpha: u64,
    /// Rounding remainders: alpha minted into `alpha_out` that the separate
    /// floors of the coinbase split and of the payout scaling left unassigned.
    pub dust: u64,
    /// Root dividends credited to `RootClaimable` and not yet claimed.
    pub root_owed: u64,
    /// Hotkeys holding a uid here (genesis neurons and `NeuronRegistered`).
    /// A persistent set: a decision's copy-on-write layer clones the
    /// subnet on its first write (every block's coinbase writes every
    /// subnet), and cloning this is then O(1) instead of copying every
    /// hotkey; it serialises as a `BTreeSet` would (same digests).
    pub neurons: imbl::OrdSet<AccountId>,
    pub tempo: u16,
    /// `SubnetLocked`: the registration lock that opened the pool (0 for
    /// genesis subnets).
    pub locked: u64,
    /// `NetworkRegisteredAt` (0 for genesis subnets).
    pub registered_at: u64,
    /// The governance op that opened the pool (None for genesis subnets):
    /// only it may close the pool again.
    pub open_op: Option<String>,
    /// Alpha bought by neuron registration burns and burned: it left the
    /// pool and alpha issuance and was never part of `alpha_out`.
    pub registration_burned_alpha: u64,
    /// `SubnetTaoFlow`: net TAO staked in minus unstaked out since the last
    /// coinbase (RAO; the net-flow rule's input).
    pub tao_flow: i128,
    /// The net-flow EMA (I64F64 bits), stepped at every coinbase whatever
    /// the active rule, so a switch to `net-flow` starts warm.
    pub flow_ema_bits: i128,
    /// The share (U64F64 bits) the last root epoch gave this subnet (the
    /// `root-weights` rule's `EmissionValues` / block emission).
    pub root_share_bits: u128,
}

impl Subnet {
    /// The pool as the `pool` crate sees it.
    pub fn pool(&self) -> Pool {
        match self.mechanism {
            Mechanism::Stable => Pool::stable(self.tao, self.alpha_in),
            Mechanism::Dynamic => Pool::new(
                self.tao,
                self.alpha_in,
                Perquintill::from_parts(self.quote_weight),
                self.fee_rate,
            )
            .unwrap_or_else(|_| Pool::constant_product(self.tao, self.alpha_in)),
        }
    }

    pub fn is_root(&self) -> bool {
        self.netuid == 0
    }

    /// `start_call` has been made (emission may start).
    pub fn started(&self) -> bool {
        self.first_emission_block.is_some()
    }
}

/// A hotkey's owner coldkey and delegate take.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotkeyInfo {
    pub owner: AccountId,
    /// Delegate take (u16 proportion).
    pub take: u16,
}

/// One block's additions to a subnet's pending pots (a FIFO entry).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PotEntry {
    pub server: u64,
    pub validator: u64,
    pub root: u64,
    pub owner_cut: u64,
}

impl PotEntry {
    pub fn total(&self) -> u64 {
        self.server + self.validator + self.root + self.owner_cut
    }

    pub(crate) fn add(&mut self, o: &PotEntry) {
        self.server += o.server;
        self.validator += o.validator;
        self.root += o.root;
        self.owner_cut += o.owner_cut;
    }
}

/// What the `op` query reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpStatus {
    /// Awaiting the ledger's funding of this stake.
    Pending {
        request: StakeRequested,
    },
    Done {
        summary: String,
    },
    Failed {
        code: String,
        message: String,
    },
}

/// Governance's stake lock of a (coldkey, subnet), as mirrored for the
/// unstake guard (governance.md §5.6): the locked mass `locked` as of
/// block `last_update`. Conviction and the lock's hotkey stay with
/// governance: the guard is subnet-wide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeLock {
    pub locked: u64,
    pub perpetual: bool,
    pub last_update: u64,
}

impl StakeLock {
    /// The locked mass at `block`: rolled forward from `last_update` with
    /// the unlock rate `tau_u` exactly as governance rolls it
    /// (`governance_core::math::roll_lock`; no decay if perpetual, none
    /// before `last_update`).
    pub fn locked_at(&self, block: u64, tau_u: u64) -> u64 {
        let dt = block.saturating_sub(self.last_update);
        governance_core::math::roll_lock(self.locked, 0, dt, self.perpetual, tau_u, tau_u).0
    }
}

/// `UnlockRate` τu until governance sets one (governance's default).
pub fn default_unlock_rate() -> u64 {
    governance_core::Config::default().unlock_rate
}

/// The whole amm state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amm {
    pub params: AmmParams,
    pub genesis_applied: bool,
    /// Last block whose coinbase ran (0 before the first).
    pub height: u64,
    /// A block has run (the first may have any height above genesis).
    pub started: bool,
    /// `TotalStake`: Σ `SubnetTAO`.
    pub total_stake: u64,
    pub subnets: BTreeMap<u16, Subnet>,
    pub hotkeys: BTreeMap<AccountId, HotkeyInfo>,
    /// Share pools by (netuid, hotkey); holders are coldkeys.
    pub pools: BTreeMap<(u16, AccountId), SharePool<AccountId>>,
    /// Index: coldkey → its (netuid, hotkey) positions. Persistent sets,
    /// as `Subnet::neurons`: a coldkey behind thousands of hotkeys is not
    /// copied whole on each decision that adds one.
    pub positions: BTreeMap<AccountId, imbl::OrdSet<(u16, AccountId)>>,
    /// Pending pots FIFO by (netuid, block).
    pub pots: BTreeMap<(u16, u64), PotEntry>,
    /// `RootClaimable[hotkey][netuid]` (I96F32 bits).
    pub root_claimable: BTreeMap<(AccountId, u16), i128>,
    /// `RootClaimed[(netuid, hotkey, coldkey)]`.
    pub root_claimed: BTreeMap<(u16, AccountId, AccountId), u128>,
    pub claim_types: BTreeMap<AccountId, RootClaimType>,
    pub ops: BTreeMap<String, OpStatus>,
    /// Stake weights last sent to consensus, by (netuid, hotkey).
    pub reported: BTreeMap<(u16, AccountId), u64>,
    /// Root stakes last sent to governance (`StakeReport::root`), non-zero.
    pub reported_root: BTreeMap<AccountId, u64>,
    /// Coldkey alpha per subnet last sent to governance, non-zero.
    pub reported_coldkey_alpha: BTreeMap<(AccountId, u16), u64>,
    /// Governance's stake locks by (netuid, coldkey) (`SetLock`).
    pub locks: BTreeMap<(u16, AccountId), StakeLock>,
    /// Governance's `UnlockRate` τu (blocks).
    pub unlock_rate: u64,
    /// `ChildKeys`: by (netuid, parent hotkey), the children in force
    /// (governance's `ChildrenApplied`), `(u64 proportion, child)` in
    /// governance's order; never empty (an empty list removes the entry).
    pub children: BTreeMap<(u16, AccountId), Vec<(u64, AccountId)>>,
    /// `ParentKeys`, the index of `children`: by (netuid, child hotkey),
    /// `(u64 proportion, parent)` in the order the parents set them.
    pub parents: BTreeMap<(u16, AccountId), Vec<(u64, AccountId)>>,
    /// `ChildkeyTake` by (netuid, hotkey) (u16 proportion), non-zero.
    pub childkey_takes: BTreeMap<(u16, AccountId), u16>,
    /// `CKBurn` (u64 proportion, default 0): the part of a parent's
    /// childkey dividend recycled when parent and child have different
    /// owners (§2.6 step 3).
    pub ck_burn: u64,
    /// Which rule splits the block's TAO across subnets (issue 9).
    pub emission_rule: EmissionRule,
    /// Blocks between root epochs (the `root-weights` rule).
    pub root_tempo: u64,
    /// Root validators' weights over netuids (`set_root_weights`), by hotkey,
    /// with the block they were set at.
    pub root_weights: BTreeMap<AccountId, (u64, Vec<(u16, u16)>)>,
}

/// The root network's tempo before dTAO (blocks between root epochs).
pub const DEFAULT_ROOT_TEMPO: u64 = 100;

impl Default for Amm {
    fn default() -> Self {
        Amm {
            params: AmmParams::default(),
            genesis_applied: false,
            height: 0,
            started: false,
            total_stake: 0,
            subnets: BTreeMap::new(),
            hotkeys: BTreeMap::new(),
            pools: BTreeMap::new(),
            positions: BTreeMap::new(),
            pots: BTreeMap::new(),
            root_claimable: BTreeMap::new(),
            root_claimed: BTreeMap::new(),
            claim_types: BTreeMap::new(),
            ops: BTreeMap::new(),
            reported: BTreeMap::new(),
            reported_root: BTreeMap::new(),
            reported_coldkey_alpha: BTreeMap::new(),
            locks: BTreeMap::new(),
            unlock_rate: default_unlock_rate(),
            children: BTreeMap::new(),
            parents: BTreeMap::new(),
            childkey_takes: BTreeMap::new(),
            ck_burn: 0,
            emission_rule: EmissionRule::default(),
            root_tempo: DEFAULT_ROOT_TEMPO,
            root_weights: BTreeMap::new(),
        }
    }
}

/// Where a [`Layer`] writes.
enum Base<'a, K, V> {
    /// Over a borrowed state: writes go to the layer's overlay, and the
    /// state changes only if the overlay is committed (`decide`).
    Shared(&'a BTreeMap<K, V>),
    /// In the state itself: writes go to the map, and the layer keeps what
    /// they replaced, to undo them if the decision is refused
    /// (`Aggregate::handle`, `evolve`).
    Owned(&'a mut BTreeMap<K, V>),
}

/// A copy-on-write layer over one map, or an undo record over it.
///
/// Both modes read and write the same way, so a decision runs unchanged in
/// either. Shared: `diff` holds the new values (`None`: removed) over an
/// untouched base. Owned: the map is changed in place and `diff` holds each
/// written key's value from before the layer (`None`: absent), saved at its
/// first write; [`Layer::rollback`] puts them back. In place is what
/// `handle` uses: no second lookup on every read, and nothing to commit.
pub struct Layer<'a, K: Ord + Clone, V: Clone> {
    base: Base<'a, K, V>,
    diff: BTreeMap<K, Option<V>>,
}

impl<'a, K: Ord + Clone, V: Clone> Layer<'a, K, V> {
    fn new(base: &'a BTreeMap<K, V>) -> Self {
        Layer {
            base: Base::Shared(base),
            diff: BTreeMap::new(),
        }
    }

    fn owned(base: &'a mut BTreeMap<K, V>) -> Self {
        Layer {
            base: Base::Owned(base),
            diff: BTreeMap::new(),
        }
    }

    fn base(&self) -> &BTreeMap<K, V> {
        match &self.base {
            Base::Shared(b) => b,
            Base::Owned(b) => b,
        }
    }

    pub fn get(&self, k: &K) -> Option<&V> {
        match &self.base {
            Base::Shared(base) => match self.diff.get(k) {
                Some(v) => v.as_ref(),
                None => base.get(k),
            },
            Base::Owned(base) => base.get(k),
        }
    }

    pub fn contains(&self, k: &K) -> bool {
        self.get(k).is_some()
    }

    /// The value before this layer's changes.
    pub fn original(&self, k: &K) -> Option<&V> {
        match &self.base {
            Base::Shared(base) => base.get(k),
            Base::Owned(base) => match self.diff.get(k) {
                Some(saved) => saved.as_ref(),
                None => base.get(k),
            },
        }
    }

    /// Keys this layer wrote (changed, inserted, removed or merely
    /// borrowed mutably), in order.
    pub fn written_keys(&self) -> Vec<K> {
        self.diff.keys().cloned().collect()
    }

    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        match &mut self.base {
            Base::Shared(base) => {
                if !self.diff.contains_key(k) {
                    let v = base.get(k)?.clone();
                    self.diff.insert(k.clone(), Some(v));
                }
                self.diff.get_mut(k).and_then(|v| v.as_mut())
            }
            Base::Owned(base) => {
                let v = base.get_mut(k)?;
                if !self.diff.contains_key(k) {
                    self.diff.insert(k.clone(), Some(v.clone()));
                }
                Some(v)
            }
        }
    }

    pub fn or_insert_with(&mut self, k: K, f: impl FnOnce() -> V) -> &mut V {
        match &mut self.base {
            Base::Shared(base) => {
                let base: &BTreeMap<K, V> = base;
                let slot = self
                    .diff
                    .entry(k.clone())
                    .or_insert_with(|| base.get(&k).cloned());
                if slot.is_none() {
                    *slot = Some(f());
                }
                slot.as_mut().expect("just filled")
            }
            Base::Owned(base) => {
                if !self.diff.contains_key(&k) {
                    self.diff.insert(k.clone(), base.get(&k).cloned());
                }
                base.entry(k).or_insert_with(f)
            }
        }
    }

    pub fn insert(&mut self, k: K, v: V) {
        match &mut self.base {
            Base::Shared(_) => {
                self.diff.insert(k, Some(v));
            }
            Base::Owned(base) => {
                // The replaced value is the saved one: no clone.
                let old = base.insert(k.clone(), v);
                self.diff.entry(k).or_insert(old);
            }
        }
    }

    pub fn remove(&mut self, k: &K) {
        match &mut self.base {
            Base::Shared(_) => {
                self.diff.insert(k.clone(), None);
            }
            Base::Owned(base) => {
                let old = base.remove(k);
                self.diff.entry(k.clone()).or_insert(old);
            }
        }
    }

    /// Undoes an in-place layer's writes (a shared layer's base was never
    /// written: dropping the layer is its rollback).
    fn rollback(self) {
        if let Base::Owned(base) = self.base {
            write_diff(base, self.diff);
        }
    }

    /// Keys in `range`, merged over base and layer, in order.
    ///
    /// A merge of the two ordered ranges (the layer's entry wins, a `None`
    /// drops the key): one pass and one `Vec`, since every block asks for
    /// its netuids this way more than once.
    pub fn keys_in<R: RangeBounds<K> + Clone>(&self, range: R) -> Vec<K> {
        if let Base::Owned(base) = &self.base {
            return base.range(range).map(|(k, _)| k.clone()).collect();
        }
        let mut base = self.base().range(range.clone()).map(|(k, _)| k).peekable();
        let mut diff = self.diff.range(range).peekable();
        let mut out = Vec::new();
        loop {
            match (base.peek(), diff.peek()) {
                (None, None) => break,
                (Some(b), None) => {
                    out.push((*b).clone());
                    base.next();
                }
                (b, Some((d, v))) => {
                    match b.map(|b| (*b).cmp(d)) {
                        Some(std::cmp::Ordering::Less) => {
                            out.push((*b.expect("peeked")).clone());
                            base.next();
                            continue;
                        }
                        Some(std::cmp::Ordering::Equal) => {
                            base.next();
                        }
                        _ => {}
                    }
                    if v.is_some() {
                        out.push((*d).clone());
                    }
                    diff.next();
                }
            }
        }
        out
    }
}

/// Writes a diff of `Some(value)`/`None` (absent) entries into `base`: an
/// in-place layer's rollback (its saved values), or a shared layer's
/// overlay committed.
fn write_diff<K: Ord, V>(base: &mut BTreeMap<K, V>, diff: BTreeMap<K, Option<V>>) {
    for (k, v) in diff {
        match v {
            Some(v) => {
                base.insert(k, v);
            }
            None => {
                base.remove(&k);
            }
        }
    }
}

/// The plain fields of the state, which a transaction copies and an
/// in-place one hands back at its end.
pub(crate) struct Scalars {
    params: AmmParams,
    genesis_applied: bool,
    height: u64,
    started: bool,
    total_stake: u64,
    unlock_rate: u64,
    ck_burn: u64,
    emission_rule: EmissionRule,
    root_tempo: u64,
}

/// A decision (or one event's application) in progress.
///
/// Rule: a decision changes the layer only through [`Tx::emit`], which
/// applies the event it records. `Amm::handle` keeps what an in-place
/// decision wrote as the result of evolving its events (docs/decisions/0012,
/// 0013), so a write that bypasses `emit` would make live state differ from
/// replay.
pub struct Tx<'a> {
    pub params: AmmParams,
    pub genesis_applied: bool,
    pub height: u64,
    pub started: bool,
    pub total_stake: u64,
    pub subnets: Layer<'a, u16, Subnet>,
    pub hotkeys: Layer<'a, AccountId, HotkeyInfo>,
    pub pools: Layer<'a, (u16, AccountId), SharePool<AccountId>>,
    pub positions: Layer<'a, AccountId, imbl::OrdSet<(u16, AccountId)>>,
    pub pots: Layer<'a, (u16, u64), PotEntry>,
    pub root_claimable: Layer<'a, (AccountId, u16), i128>,
    pub root_claimed: Layer<'a, (u16, AccountId, AccountId), u128>,
    pub claim_types: Layer<'a, AccountId, RootClaimType>,
    pub ops: Layer<'a, String, OpStatus>,
    pub reported: Layer<'a, (u16, AccountId), u64>,
    pub reported_root: Layer<'a, AccountId, u64>,
    pub reported_coldkey_alpha: Layer<'a, (AccountId, u16), u64>,
    pub locks: Layer<'a, (u16, AccountId), StakeLock>,
    pub unlock_rate: u64,
    pub children: Layer<'a, (u16, AccountId), Vec<(u64, AccountId)>>,
    pub parents: Layer<'a, (u16, AccountId), Vec<(u64, AccountId)>>,
    pub childkey_takes: Layer<'a, (u16, AccountId), u16>,
    pub ck_burn: u64,
    pub emission_rule: EmissionRule,
    pub root_tempo: u64,
    pub root_weights: Layer<'a, AccountId, (u64, Vec<(u16, u16)>)>,
    /// Events emitted so far (each already applied to the layer).
    pub events: Vec<AmmEvent>,
    /// Pools whose value changed: their stake weights may have.
    pub touched: BTreeSet<(u16, AccountId)>,
    /// Holders whose own shares changed, as (netuid, hotkey, coldkey).
    pub holders_changed: BTreeSet<(u16, AccountId, AccountId)>,
    /// Pools whose value moved without their shares (credits, a removal):
    /// every holder's value may have changed.
    pub revalued: BTreeSet<(u16, AccountId)>,
    /// Every stake weight must be re-checked (TaoWeight changed).
    pub touched_all: bool,
    /// Stake weights that may have changed without a pool changing (a
    /// childkey list changed).
    pub touched_weights: BTreeSet<(u16, AccountId)>,
}

impl<'a> Tx<'a> {
    pub fn new(base: &'a Amm) -> Self {
        Tx {
            params: base.params.clone(),
            genesis_applied: base.genesis_applied,
            height: base.height,
            started: base.started,
            total_stake: base.total_stake,
            subnets: Layer::new(&base.subnets),
            hotkeys: Layer::new(&base.hotkeys),
            pools: Layer::new(&base.pools),
            positions: Layer::new(&base.positions),
            pots: Layer::new(&base.pots),
            root_claimable: Layer::new(&base.root_claimable),
            root_claimed: Layer::new(&base.root_claimed),
            claim_types: Layer::new(&base.claim_types),
            ops: Layer::new(&base.ops),
            reported: Layer::new(&base.reported),
            reported_root: Layer::new(&base.reported_root),
            reported_coldkey_alpha: Layer::new(&base.reported_coldkey_alpha),
            locks: Layer::new(&base.locks),
            unlock_rate: base.unlock_rate,
            children: Layer::new(&base.children),
            parents: Layer::new(&base.parents),
            childkey_takes: Layer::new(&base.childkey_takes),
            ck_burn: base.ck_burn,
            emission_rule: base.emission_rule,
            root_tempo: base.root_tempo,
            root_weights: Layer::new(&base.root_weights),
            events: Vec::new(),
            touched: BTreeSet::new(),
            holders_changed: BTreeSet::new(),
            revalued: BTreeSet::new(),
            touched_all: false,
            touched_weights: BTreeSet::new(),
        }
    }

    /// A transaction in `base` itself (see [`Layer`]): [`Tx::finish`]
    /// keeps its writes, [`Tx::rollback`] undoes them. Nothing catches a
    /// panic in a decision: it ends the process, and the state is rebuilt
    /// from the log, so a half-applied in-place transaction never outlives
    /// it.
    pub(crate) fn in_place(base: &'a mut Amm) -> Self {
        let Amm {
            params,
            genesis_applied,
            height,
            started,
            total_stake,
            unlock_rate,
            ck_burn,
            emission_rule,
            root_tempo,
            subnets,
            hotkeys,
            pools,
            positions,
            pots,
            root_claimable,
            root_claimed,
            claim_types,
            ops,
            reported,
            reported_root,
            reported_coldkey_alpha,
            locks,
            children,
            parents,
            childkey_takes,
            root_weights,
        } = base;
        Tx {
            params: params.clone(),
            genesis_applied: *genesis_applied,
            height: *height,
            started: *started,
            total_stake: *total_stake,
            unlock_rate: *unlock_rate,
            ck_burn: *ck_burn,
            emission_rule: *emission_rule,
            root_tempo: *root_tempo,
            subnets: Layer::owned(subnets),
            hotkeys: Layer::owned(hotkeys),
            pools: Layer::owned(pools),
            positions: Layer::owned(positions),
            pots: Layer::owned(pots),
            root_claimable: Layer::owned(root_claimable),
            root_claimed: Layer::owned(root_claimed),
            claim_types: Layer::owned(claim_types),
            ops: Layer::owned(ops),
            reported: Layer::owned(reported),
            reported_root: Layer::owned(reported_root),
            reported_coldkey_alpha: Layer::owned(reported_coldkey_alpha),
            locks: Layer::owned(locks),
            children: Layer::owned(children),
            parents: Layer::owned(parents),
            childkey_takes: Layer::owned(childkey_takes),
            root_weights: Layer::owned(root_weights),
            events: Vec::new(),
            touched: BTreeSet::new(),
            holders_changed: BTreeSet::new(),
            revalued: BTreeSet::new(),
            touched_all: false,
            touched_weights: BTreeSet::new(),
        }
    }

    /// Ends an in-place transaction, keeping its writes: the scalars to
    /// store (the maps are already written).
    pub(crate) fn finish(self) -> Scalars {
        Scalars {
            params: self.params,
            genesis_applied: self.genesis_applied,
            height: self.height,
            started: self.started,
            total_stake: self.total_stake,
            unlock_rate: self.unlock_rate,
            ck_burn: self.ck_burn,
            emission_rule: self.emission_rule,
            root_tempo: self.root_tempo,
        }
    }

    /// Ends an in-place transaction, undoing every write (the scalars were
    /// copies and are dropped).
    pub(crate) fn rollback(self) {
        self.subnets.rollback();
        self.hotkeys.rollback();
        self.pools.rollback();
        self.positions.rollback();
        self.pots.rollback();
        self.root_claimable.rollback();
        self.root_claimed.rollback();
        self.claim_types.rollback();
        self.ops.rollback();
        self.reported.rollback();
        self.reported_root.rollback();
        self.reported_coldkey_alpha.rollback();
        self.locks.rollback();
        self.children.rollback();
        self.parents.rollback();
        self.childkey_takes.rollback();
        self.root_weights.rollback();
    }

    /// Applies `e` to the layer and records it.
    pub fn emit(&mut self, e: AmmEvent) {
        self.apply(&e);
        self.events.push(e);
    }

    // ---- reads ------------------------------------------------------------

    pub fn subnet(&self, netuid: u16) -> Option<&Subnet> {
        self.subnets.get(&netuid)
    }

    /// All netuids (the set changes only by genesis, open, close and
    /// dissolution, each a decision of its own).
    pub fn netuids(&self) -> Vec<u16> {
        self.subnets.keys_in(..)
    }

    pub fn pool_of(&self, netuid: u16, hotkey: &AccountId) -> Option<&SharePool<AccountId>> {
        self.pools.get(&(netuid, *hotkey))
    }

    /// A coldkey's alpha on (hotkey, netuid).
    pub fn stake_of(&self, netuid: u16, hotkey: &AccountId, coldkey: &AccountId) -> u64 {
        self.pool_of(netuid, hotkey)
            .map(|p| p.value_of(coldkey))
            .unwrap_or(0)
    }

    /// `TotalHotkeyAlpha[hotkey][netuid]`.
    pub fn hotkey_alpha(&self, netuid: u16, hotkey: &AccountId) -> u64 {
        self.pool_of(netuid, hotkey).map(|p| p.value).unwrap_or(0)
    }

    pub fn rate(&self, hotkey: &AccountId, netuid: u16) -> i128 {
        self.root_claimable
            .get(&(*hotkey, netuid))
            .copied()
            .unwrap_or(0)
    }

    pub fn claimed(&self, netuid: u16, hotkey: &AccountId, coldkey: &AccountId) -> u128 {
        self.root_claimed
            .get(&(netuid, *hotkey, *coldkey))
            .copied()
            .unwrap_or(0)
    }

    /// Netuids with a root-claimable rate for `hotkey`.
    pub fn rated_netuids(&self, hotkey: &AccountId) -> Vec<u16> {
        self.root_claimable
            .keys_in((*hotkey, 0)..=(*hotkey, u16::MAX))
            .into_iter()
            .map(|(_, n)| n)
            .collect()
    }

    /// A coldkey's alpha on `netuid` summed over all its hotkeys.
    pub fn coldkey_alpha(&self, coldkey: &AccountId, netuid: u16) -> u64 {
        self.positions
            .get(coldkey)
            .map(|set| {
                set.range((netuid, ID_MIN)..=(netuid, ID_MAX))
                    .map(|(_, h)| self.stake_of(netuid, h, coldkey))
                    .fold(0u64, u64::saturating_add)
            })
            .unwrap_or(0)
    }

    /// The coldkey's locked mass on `netuid` at the amm's height (0 without
    /// a lock).
    pub fn locked_alpha(&self, coldkey: &AccountId, netuid: u16) -> u64 {
        self.locks
            .get(&(netuid, *coldkey))
            .map_or(0, |l| l.locked_at(self.height, self.unlock_rate))
    }

    /// The unstake guard's available alpha (§5.6): the coldkey's alpha on
    /// `netuid` less its locked mass now.
    pub fn available_alpha(&self, coldkey: &AccountId, netuid: u16) -> u64 {
        self.coldkey_alpha(coldkey, netuid)
            .saturating_sub(self.locked_alpha(coldkey, netuid))
    }

    /// The unstake guard: `amount` may leave the coldkey's alpha on
    /// `netuid` only if it stays at or above the locked mass.
    pub(crate) fn ensure_available(
        &self,
        coldkey: &AccountId,
        netuid: u16,
        amount: u64,
    ) -> Result<(), crate::rejection::Rejection> {
        if amount > 0
            && self.locks.contains(&(netuid, *coldkey))
            && amount > self.available_alpha(coldkey, netuid)
        {
            return Err(crate::rejection::Rejection::StakeUnavailable);
        }
        Ok(())
    }

    /// The unstake guard's post-condition, checked after an alpha-leaving
    /// step was emitted: the coldkey still holds at least its locked mass on
    /// `netuid` (share rounding may cost the holder a rao more than the
    /// amount that left, so the amount check alone is not enough).
    pub(crate) fn ensure_lock_held(
        &self,
        coldkey: &AccountId,
        netuid: u16,
    ) -> Result<(), crate::rejection::Rejection> {
        if self.locks.contains(&(netuid, *coldkey))
            && self.coldkey_alpha(coldkey, netuid) < self.locked_alpha(coldkey, netuid)
        {
            return Err(crate::rejection::Rejection::StakeUnavailable);
        }
        Ok(())
    }

    // ---- the one place events change state --------------------------------

    fn deposit(
        &mut self,
        netuid: u16,
        hotkey: AccountId,
        coldkey: AccountId,
        alpha: u64,
        shares: u128,
    ) {
        let pool = self
            .pools
            .or_insert_with((netuid, hotkey), SharePool::default);
        // A restarting pool drops worthless share entries: keep the index true.
        let dropped: Vec<AccountId> = if pool.value == 0 || pool.denominator == 0 {
            pool.shares.keys().copied().collect()
        } else {
            Vec::new()
        };
        pool.apply_deposit(coldkey, alpha, shares);
        for c in dropped {
            if c != coldkey {
                self.unindex(c, netuid, hotkey);
                self.holders_changed.insert((netuid, hotkey, c));
            }
        }
        self.holders_changed.insert((netuid, hotkey, coldkey));
        // Most deposits add to a position the coldkey already holds (every
        // epoch's payouts); only a new one is written, so the layer does
        // not copy the coldkey's set to insert what it has.
        let key = (netuid, hotkey);
        if !self
            .positions
            .get(&coldkey)
            .is_some_and(|p| p.contains(&key))
        {
            self.positions
                .or_insert_with(coldkey, imbl::OrdSet::new)
                .insert(key);
        }
        self.touched.insert((netuid, hotkey));
    }

    fn unindex(&mut self, coldkey: AccountId, netuid: u16, hotkey: AccountId) {
        if let Some(set) = self.positions.get_mut(&coldkey) {
            set.remove(&(netuid, hotkey));
            if set.is_empty() {
                self.positions.remove(&coldkey);
            }
        }
    }

    fn withdraw(
        &mut self,
        netuid: u16,
        hotkey: AccountId,
        coldkey: AccountId,
        alpha: u64,
        shares: u128,
    ) {
        let mut gone = false;
        if let Some(pool) = self.pools.get_mut(&(netuid, hotkey)) {
            pool.apply_withdraw(&coldkey, alpha, shares);
            gone = pool.shares_of(&coldkey) == 0;
        }
        if gone {
            self.unindex(coldkey, netuid, hotkey);
        }
        self.holders_changed.insert((netuid, hotkey, coldkey));
        self.touched.insert((netuid, hotkey));
    }

    fn credit_hotkey(&mut self, netuid: u16, hotkey: AccountId, alpha: u64) {
        self.pools
            .or_insert_with((netuid, hotkey), SharePool::default)
            .credit(alpha);
        self.revalued.insert((netuid, hotkey));
        self.touched.insert((netuid, hotkey));
    }

    fn set_claimed(&mut self, sets: &[ClaimedSet]) {
        for c in sets {
            self.root_claimed
                .insert((c.netuid, c.hotkey, c.coldkey), c.claimed);
        }
    }

    fn with_subnet(&mut self, netuid: u16, f: impl FnOnce(&mut Subnet)) {
        if let Some(s) = self.subnets.get_mut(&netuid) {
            f(s);
        }
    }

    pub(crate) fn apply(&mut self, e: &AmmEvent) {
        match e {
            AmmEvent::GenesisApplied(g) => self.apply_genesis(&g.genesis),
            AmmEvent::CoinbaseRan(c) => {
                for s in &c.subnets {
                    let credit = s.tao_in + s.excess_tao;
                    self.with_subnet(s.netuid, |sn| {
                        sn.tao = s.tao_reserve;
                        sn.alpha_in = s.alpha_reserve;
                        sn.alpha_out = s.alpha_outstanding;
                        sn.quote_weight = s.quote_weight;
                        sn.moving_price_bits = s.moving_price_bits;
                        sn.protocol_alpha += s.bought_alpha;
                        sn.recycled_alpha += s.root_recycled;
                        sn.dust += s.alpha_out.saturating_sub(
                            s.owner_cut + s.server + s.validator + s.root + s.root_recycled,
                        );
                    });
                    self.total_stake += credit;
                    let entry = PotEntry {
                        server: s.server,
                        validator: s.validator,
                        root: s.root,
                        owner_cut: s.owner_cut,
                    };
                    if entry.total() > 0 {
                        self.pots.insert((s.netuid, c.block), entry);
                    }
                }
                // Every subnet's flow EMA takes this block's flow (§2.2 OLDER
                // rules), whatever rule is active, and the flow restarts.
                let alpha = crate::shares::FlowParams::default().alpha();
                for netuid in self.netuids() {
                    self.with_subnet(netuid, |sn| {
                        if sn.netuid != 0 {
                            sn.flow_ema_bits = crate::shares::flow_ema_step(
                                fixed::types::I64F64::from_bits(sn.flow_ema_bits),
                                sn.tao_flow,
                                alpha,
                            )
                            .to_bits();
                        }
                        sn.tao_flow = 0;
                    });
                }
                self.height = c.block;
                self.started = true;
            }
            AmmEvent::RootWeightsSet(w) => {
                if w.weights.is_empty() {
                    self.root_weights.remove(&w.hotkey);
                } else {
                    self.root_weights
                        .insert(w.hotkey, (w.block, w.weights.clone()));
                }
            }
            AmmEvent::RootSharesComputed(r) => {
                for netuid in self.netuids() {
                    let bits = r
                        .shares
                        .iter()
                        .find(|(n, _)| *n == netuid)
                        .map_or(0, |(_, b)| *b);
                    self.with_subnet(netuid, |s| s.root_share_bits = bits);
                }
            }
            AmmEvent::StakeRequested(r) => {
                self.ops
                    .insert(r.op.clone(), OpStatus::Pending { request: r.clone() });
            }
            AmmEvent::StakeFailed(f) => {
                self.ops.insert(
                    f.op.clone(),
                    OpStatus::Failed {
                        code: f.code.clone(),
                        message: f.message.clone(),
                    },
                );
            }
            AmmEvent::TaoSettlement(_) => {}
            AmmEvent::StakeWeights(w) => {
                for (n, h, v) in &w.entries {
                    self.reported.insert((*n, *h), *v);
                }
            }
            AmmEvent::StakeAdded(a) => {
                self.deposit(a.netuid, a.hotkey, a.coldkey, a.alpha, a.shares);
                self.with_subnet(a.netuid, |s| {
                    s.tao = a.tao_reserve;
                    s.alpha_in = a.alpha_reserve;
                    s.alpha_out += a.alpha;
                    s.tao_flow = s.tao_flow.saturating_add(i128::from(a.tao));
                });
                self.total_stake += a.tao;
                self.set_claimed(&a.root_claimed);
            }
            AmmEvent::StakeRemoved(r) => {
                self.withdraw(r.netuid, r.hotkey, r.coldkey, r.alpha, r.shares);
                self.with_subnet(r.netuid, |s| {
                    s.tao = r.tao_reserve;
                    s.alpha_in = r.alpha_reserve;
                    s.alpha_out -= r.alpha_sold;
                    s.burned_alpha += r.fee_alpha;
                    s.tao_flow = s.tao_flow.saturating_sub(i128::from(r.tao_out));
                });
                self.total_stake -= r.tao_out;
                self.set_claimed(&r.root_claimed);
            }
            AmmEvent::StakeTransferred(t) => {
                self.withdraw(
                    t.netuid,
                    t.from_hotkey,
                    t.from_coldkey,
                    t.alpha,
                    t.shares_removed,
                );
                self.deposit(t.netuid, t.to_hotkey, t.to_coldkey, t.alpha, t.shares_added);
                self.set_claimed(&t.root_claimed);
            }
            AmmEvent::AlphaRecycled(r) => {
                self.withdraw(r.netuid, r.hotkey, r.coldkey, r.alpha, r.shares);
                self.with_subnet(r.netuid, |s| {
                    s.alpha_out -= r.alpha;
                    s.recycled_alpha += r.alpha;
                });
            }
            AmmEvent::AlphaBurned(b) => {
                self.withdraw(b.netuid, b.hotkey, b.coldkey, b.alpha, b.shares);
                self.with_subnet(b.netuid, |s| s.burned_alpha += b.alpha);
            }
            AmmEvent::OpCompleted(o) => {
                self.ops.insert(
                    o.op.clone(),
                    OpStatus::Done {
                        summary: o.summary.clone(),
                    },
                );
            }
            AmmEvent::EpochPaid(p) => {
                for key in self.pots.keys_in((p.netuid, 0)..=(p.netuid, p.block)) {
                    self.pots.remove(&key);
                }
                for c in &p.credits {
                    match c {
                        AlphaCredit::Stake {
                            hotkey,
                            coldkey,
                            alpha,
                            shares,
                        } => self.deposit(p.netuid, *hotkey, *coldkey, *alpha, *shares),
                        AlphaCredit::Hotkey { hotkey, alpha } => {
                            self.credit_hotkey(p.netuid, *hotkey, *alpha)
                        }
                    }
                }
                for (h, rate) in &p.root_rates {
                    self.root_claimable.insert((*h, p.netuid), *rate);
                }
                self.with_subnet(p.netuid, |s| {
                    s.root_owed += p.root_owed;
                    s.burned_alpha += p.burned;
                    s.recycled_alpha += p.recycled;
                    s.alpha_out -= p.recycled;
                    s.dust += p.dust;
                    s.miner_burned_bits = p.miner_burned_bits;
                });
            }
            AmmEvent::RootClaimed(r) => {
                self.root_claimed
                    .insert((r.netuid, r.hotkey, r.coldkey), r.claimed);
                match r.kept_shares {
                    Some(shares) => {
                        self.deposit(r.netuid, r.hotkey, r.coldkey, r.alpha, shares);
                        self.with_subnet(r.netuid, |s| s.root_owed -= r.alpha);
                    }
                    None => {
                        self.with_subnet(r.netuid, |s| {
                            s.root_owed -= r.alpha;
                            s.alpha_out -= r.alpha;
                            s.tao = r.tao_reserve;
                            s.alpha_in = r.alpha_reserve;
                        });
                        self.total_stake -= r.tao_out;
                    }
                }
            }
            AmmEvent::HotkeyAssociated(h) => {
                let take = self.params.default_take;
                self.hotkeys.insert(
                    h.hotkey,
                    HotkeyInfo {
                        owner: h.coldkey,
                        take,
                    },
                );
            }
            AmmEvent::NeuronSeen(n) => {
                self.with_subnet(n.netuid, |s| {
                    if let Some(r) = &n.replaced {
                        s.neurons.remove(r);
                    }
                    s.neurons.insert(n.hotkey);
                });
                self.touched.insert((n.netuid, n.hotkey));
            }
            AmmEvent::ParamSet(p) => self.apply_param(p),
            AmmEvent::RootClaimTypeSet(t) => {
                self.claim_types.insert(t.coldkey, t.claim_type.clone());
            }
            AmmEvent::StakeReport(r) => {
                fn put<K: Ord + Clone>(m: &mut Layer<'_, K, u64>, k: K, v: u64) {
                    if v == 0 {
                        m.remove(&k);
                    } else {
                        m.insert(k, v);
                    }
                }
                for (h, v) in &r.root {
                    put(&mut self.reported_root, *h, *v);
                }
                for (c, n, v) in &r.coldkey_alpha {
                    put(&mut self.reported_coldkey_alpha, (*c, *n), *v);
                }
            }
            AmmEvent::SubnetOpened(o) => self.apply_opened(o),
            AmmEvent::SubnetClosed(c) => self.remove_subnet(c.netuid),
            AmmEvent::SubnetDissolved(d) => self.remove_subnet(d.netuid),
            AmmEvent::RegistrationBurned(b) => {
                self.with_subnet(b.netuid, |s| {
                    s.tao = b.tao_reserve;
                    s.alpha_in = b.alpha_reserve;
                    s.registration_burned_alpha += b.alpha_burned;
                });
                self.total_stake += b.tao - b.fee;
            }
            AmmEvent::SubnetOwnerSet(o) => {
                self.with_subnet(o.netuid, |s| {
                    s.owner = o.owner;
                    s.owner_hotkey = o.owner_hotkey;
                });
                self.associate_if_new(o.owner_hotkey, o.owner);
            }
            AmmEvent::GovernanceStepRefused(_) => {}
            AmmEvent::LockMirrored(l) => {
                self.locks.insert(
                    (l.netuid, l.coldkey),
                    StakeLock {
                        locked: l.locked,
                        perpetual: l.perpetual,
                        last_update: l.block,
                    },
                );
            }
            AmmEvent::LockCleared(l) => self.locks.remove(&(l.netuid, l.coldkey)),
            AmmEvent::UnlockRateSet(r) => self.unlock_rate = r.blocks,
            AmmEvent::ChildrenSet(c) => self.apply_children(c),
            AmmEvent::ChildkeyTakeMirrored(t) => {
                if t.take == 0 {
                    self.childkey_takes.remove(&(t.netuid, t.hotkey));
                } else {
                    self.childkey_takes.insert((t.netuid, t.hotkey), t.take);
                }
            }
        }
    }

    /// `hotkey`'s children on `netuid` are `c.children` from now on: the
    /// parent index drops `hotkey` from its old children and adds it to the
    /// new ones. Every stake weight involved may change.
    fn apply_children(&mut self, c: &ChildrenSet) {
        let n = c.netuid;
        let old = self
            .children
            .get(&(n, c.hotkey))
            .cloned()
            .unwrap_or_default();
        for (_, child) in &old {
            if let Some(list) = self.parents.get_mut(&(n, *child)) {
                list.retain(|(_, p)| *p != c.hotkey);
                if list.is_empty() {
                    self.parents.remove(&(n, *child));
                }
            }
            self.touched_weights.insert((n, *child));
        }
        for (q, child) in &c.children {
            self.parents
                .or_insert_with((n, *child), Vec::new)
                .push((*q, c.hotkey));
            self.touched_weights.insert((n, *child));
        }
        if c.children.is_empty() {
            self.children.remove(&(n, c.hotkey));
        } else {
            self.children.insert((n, c.hotkey), c.children.clone());
        }
        self.touched_weights.insert((n, c.hotkey));
    }

    /// `hotkey` belongs to `coldkey` unless it already belongs to someone.
    fn associate_if_new(&mut self, hotkey: AccountId, coldkey: AccountId) {
        if !self.hotkeys.contains(&hotkey) {
            let take = self.params.default_take;
            self.hotkeys.insert(
                hotkey,
                HotkeyInfo {
                    owner: coldkey,
                    take,
                },
            );
        }
    }

    fn apply_opened(&mut self, o: &SubnetOpened) {
        let p = &self.params;
        let subnet = Subnet {
            netuid: o.netuid,
            mechanism: Mechanism::Dynamic,
            tao: o.tao,
            alpha_in: o.alpha,
            alpha_out: 0,
            protocol_alpha: 0,
            quote_weight: Perquintill::HALF.deconstruct(),
            fee_rate: p.fee_rate,
            moving_price_bits: 0,
            first_emission_block: None,
            subtoken_enabled: false,
            emission_enabled: false,
            registration_allowed: true,
            owner_cut_enabled: true,
            ema_halving_blocks: None,
            root_claim_threshold: None,
            owner_cut: p.owner_cut,
            owner: o.owner,
            owner_hotkey: o.owner_hotkey,
            miner_burned_bits: 0,
            burned_alpha: 0,
            recycled_alpha: 0,
            dust: 0,
            root_owed: 0,
            neurons: imbl::OrdSet::unit(o.owner_hotkey),
            tempo: 360,
            locked: o.tao,
            registered_at: o.block,
            open_op: Some(o.op.clone()),
            registration_burned_alpha: 0,
            tao_flow: 0,
            flow_ema_bits: 0,
            root_share_bits: 0,
        };
        self.subnets.insert(o.netuid, subnet);
        self.total_stake += o.tao;
        self.associate_if_new(o.owner_hotkey, o.owner);
        self.touched.insert((o.netuid, o.owner_hotkey));
    }

    /// Removes a subnet and everything kept per subnet: its pools (and the
    /// position index entries), pending pots, root-claim state, the stake
    /// weights reported for it and the stake locks on it. Its `SubnetTAO` leaves `TotalStake`.
    fn remove_subnet(&mut self, netuid: u16) {
        let Some(s) = self.subnet(netuid).cloned() else {
            return;
        };
        self.total_stake -= s.tao;
        self.subnets.remove(&netuid);
        for key in self.pools.keys_in((netuid, ID_MIN)..=(netuid, ID_MAX)) {
            let holders: Vec<AccountId> = self
                .pools
                .get(&key)
                .map(|p| p.shares.keys().copied().collect())
                .unwrap_or_default();
            for c in holders {
                self.unindex(c, netuid, key.1);
            }
            self.pools.remove(&key);
            self.revalued.insert(key);
            self.touched.insert(key);
        }
        for key in self.pots.keys_in((netuid, 0)..=(netuid, u64::MAX)) {
            self.pots.remove(&key);
        }
        for key in self.root_claimable.keys_in(..) {
            if key.1 == netuid {
                self.root_claimable.remove(&key);
            }
        }
        let claimed = (netuid, ID_MIN, ID_MIN)..=(netuid, ID_MAX, ID_MAX);
        for key in self.root_claimed.keys_in(claimed) {
            self.root_claimed.remove(&key);
        }
        for key in self.reported.keys_in((netuid, ID_MIN)..=(netuid, ID_MAX)) {
            self.reported.remove(&key);
        }
        for key in self.locks.keys_in((netuid, ID_MIN)..=(netuid, ID_MAX)) {
            self.locks.remove(&key);
        }
        for key in self.children.keys_in((netuid, ID_MIN)..=(netuid, ID_MAX)) {
            self.children.remove(&key);
        }
        for key in self.parents.keys_in((netuid, ID_MIN)..=(netuid, ID_MAX)) {
            self.parents.remove(&key);
        }
        for key in self
            .childkey_takes
            .keys_in((netuid, ID_MIN)..=(netuid, ID_MAX))
        {
            self.childkey_takes.remove(&key);
        }
    }

    fn apply_param(&mut self, p: &ParamSet) {
        let n = p.netuid;
        match &p.param {
            SubnetParam::FeeRate(v) => self.with_subnet(n, |s| s.fee_rate = *v),
            SubnetParam::EmissionEnabled(v) => self.with_subnet(n, |s| s.emission_enabled = *v),
            SubnetParam::SubtokenEnabled(v) => self.with_subnet(n, |s| s.subtoken_enabled = *v),
            SubnetParam::RegistrationAllowed(v) => {
                self.with_subnet(n, |s| s.registration_allowed = *v)
            }
            SubnetParam::OwnerCutEnabled(v) => self.with_subnet(n, |s| s.owner_cut_enabled = *v),
            SubnetParam::OwnerCut(v) => self.with_subnet(n, |s| s.owner_cut = *v),
            SubnetParam::TaoWeight(v) => {
                self.params.tao_weight = *v;
                self.touched_all = true;
            }
            SubnetParam::MinStake(v) => self.params.min_stake = *v,
            SubnetParam::CkBurn(v) => self.ck_burn = *v,
            SubnetParam::EmissionRule(r) => {
                self.emission_rule = *r;
                // The next block under `root-weights` runs a root epoch.
                for netuid in self.netuids() {
                    self.with_subnet(netuid, |s| s.root_share_bits = 0);
                }
            }
            SubnetParam::RootTempo(v) => self.root_tempo = *v,
            SubnetParam::EmaHalvingBlocks(v) => {
                self.with_subnet(n, |s| s.ema_halving_blocks = Some(*v))
            }
            SubnetParam::RootClaimThreshold(v) => {
                self.with_subnet(n, |s| s.root_claim_threshold = Some(*v))
            }
            SubnetParam::StartCall => {
                let at = p.block + 1;
                self.with_subnet(n, |s| s.first_emission_block = Some(at))
            }
            SubnetParam::DelegateTake { hotkey, take } => {
                if let Some(h) = self.hotkeys.get_mut(hotkey) {
                    h.take = *take;
                }
            }
        }
    }

    fn apply_genesis(&mut self, g: &crate::params::AmmGenesis) {
        self.params = g.params.clone();
        self.genesis_applied = true;
        let p = &g.params;
        let root = Subnet {
            netuid: 0,
            mechanism: Mechanism::Stable,
            tao: 0,
            alpha_in: 0,
            alpha_out: 0,
            protocol_alpha: 0,
            quote_weight: Perquintill::HALF.deconstruct(),
            fee_rate: 0,
            moving_price_bits: 1i128 << 32,
            first_emission_block: None,
            subtoken_enabled: true,
            emission_enabled: false,
            registration_allowed: true,
            owner_cut_enabled: false,
            ema_halving_blocks: None,
            root_claim_threshold: None,
            owner_cut: 0,
            owner: AccountId::default(),
            owner_hotkey: AccountId::default(),
            miner_burned_bits: 0,
            burned_alpha: 0,
            recycled_alpha: 0,
            dust: 0,
            root_owed: 0,
            neurons: imbl::OrdSet::new(),
            tempo: 0,
            locked: 0,
            registered_at: 0,
            open_op: None,
            registration_burned_alpha: 0,
            tao_flow: 0,
            flow_ema_bits: 0,
            root_share_bits: 0,
        };
        self.subnets.insert(0, root);
        for gs in &g.subnets {
            let mut neurons = imbl::OrdSet::new();
            for nn in &gs.neurons {
                neurons.insert(nn.hotkey);
            }
            self.subnets.insert(
                gs.netuid,
                Subnet {
                    netuid: gs.netuid,
                    mechanism: Mechanism::Dynamic,
                    tao: gs.tao_reserve,
                    alpha_in: gs.alpha_reserve,
                    alpha_out: 0,
                    protocol_alpha: 0,
                    quote_weight: Perquintill::HALF.deconstruct(),
                    fee_rate: p.fee_rate,
                    moving_price_bits: 0,
                    first_emission_block: gs.first_emission_block,
                    subtoken_enabled: true,
                    emission_enabled: gs.emission_enabled,
                    registration_allowed: true,
                    owner_cut_enabled: true,
                    ema_halving_blocks: None,
                    root_claim_threshold: None,
                    owner_cut: p.owner_cut,
                    owner: gs.owner,
                    owner_hotkey: gs.owner_hotkey,
                    miner_burned_bits: 0,
                    burned_alpha: 0,
                    recycled_alpha: 0,
                    dust: 0,
                    root_owed: 0,
                    neurons,
                    tempo: gs.tempo.unwrap_or(360),
                    locked: 0,
                    registered_at: 0,
                    open_op: None,
                    registration_burned_alpha: 0,
                    tao_flow: 0,
                    flow_ema_bits: 0,
                    root_share_bits: 0,
                },
            );
            self.total_stake += gs.tao_reserve;
            let owner_pairs = std::iter::once((gs.owner_hotkey, gs.owner))
                .chain(gs.neurons.iter().map(|nn| (nn.hotkey, nn.owner)));
            for (hk, ck) in owner_pairs {
                if !self.hotkeys.contains(&hk) {
                    self.hotkeys.insert(
                        hk,
                        HotkeyInfo {
                            owner: ck,
                            take: p.default_take,
                        },
                    );
                }
            }
        }
    }
}

impl Amm {
    pub(crate) fn set_scalars(&mut self, s: Scalars) {
        self.params = s.params;
        self.genesis_applied = s.genesis_applied;
        self.height = s.height;
        self.started = s.started;
        self.total_stake = s.total_stake;
        self.unlock_rate = s.unlock_rate;
        self.ck_burn = s.ck_burn;
        self.emission_rule = s.emission_rule;
        self.root_tempo = s.root_tempo;
    }

    /// Applies one event (the `evolve` of the aggregate).
    pub fn apply_event(&mut self, e: &AmmEvent) {
        let scalars = {
            let mut tx = Tx::in_place(self);
            tx.apply(e);
            tx.finish()
        };
        self.set_scalars(scalars);
    }

    /// The accounting identities the amm keeps after every event.
    ///
    /// Per subnet, alpha: `Σ pool values (TotalHotkeyAlpha) + protocol
    /// alpha + pending pots + root_owed + burned + dust == SubnetAlphaOut`, where
    /// `dust` is exactly the rounding the coinbase split and the payout
    /// scaling left (see [`Subnet::dust`]). TAO: `Σ SubnetTAO == TotalStake`;
    /// root is 1:1 (`SubnetTAO[0] == SubnetAlphaOut[0]`). Share pools: the
    /// denominator is the sum of the shares; the position index matches.
    /// Nothing is kept for a netuid without a subnet (pools, pots, root
    /// claims, reported weights, locks, childkeys and childkey takes: a
    /// closed or dissolved subnet leaves none; childkeys never on root).
    /// The parent index is exactly the inverse of the children lists; no
    /// empty children list and no take of 0 is kept.
    /// Reported stake figures are never 0 (a 0 is reported, then forgotten).
    ///
    /// Against the ledger (not checkable here; the property tests check it
    /// with a model ledger): `custody[netuid] == SubnetTAO` once both sides
    /// have consumed each other's streams. One window is expected: a pool
    /// opened by `OpenSubnet` counts its lock before the ledger confirms it
    /// into custody (after governance sees the whole registration open), so
    /// until then `custody[netuid]` falls short by exactly `Subnet::locked`
    /// (the model ledger credits the lock at open).
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut tao_sum: u128 = 0;
        let mut per_subnet: BTreeMap<u16, u128> = BTreeMap::new();
        for ((n, h), p) in &self.pools {
            p.check().map_err(|e| format!("pool ({n}, {h}): {e}"))?;
            *per_subnet.entry(*n).or_default() += u128::from(p.value);
            for c in p.shares.keys() {
                if !self.positions.get(c).is_some_and(|s| s.contains(&(*n, *h))) {
                    return Err(format!("position index misses ({n}, {h}) for {c}"));
                }
            }
        }
        for (c, set) in &self.positions {
            for (n, h) in set {
                if self
                    .pools
                    .get(&(*n, *h))
                    .is_none_or(|p| p.shares_of(c) == 0)
                {
                    return Err(format!("position index has stale ({n}, {h}) for {c}"));
                }
            }
        }
        let mut pots: BTreeMap<u16, u128> = BTreeMap::new();
        for ((n, _), e) in &self.pots {
            *pots.entry(*n).or_default() += u128::from(e.total());
        }
        for (n, s) in &self.subnets {
            tao_sum += u128::from(s.tao);
            let lhs = per_subnet.get(n).copied().unwrap_or(0)
                + u128::from(s.protocol_alpha)
                + pots.get(n).copied().unwrap_or(0)
                + u128::from(s.root_owed)
                + u128::from(s.burned_alpha)
                + u128::from(s.dust);
            if lhs != u128::from(s.alpha_out) {
                return Err(format!(
                    "subnet {n}: stakes+protocol+pots+owed+burned+dust = {lhs} != alpha_out {}",
                    s.alpha_out
                ));
            }
            if s.mechanism == Mechanism::Dynamic
                && pool::Balancer::new(Perquintill::from_parts(s.quote_weight)).is_err()
            {
                return Err(format!(
                    "subnet {n}: quote weight {} out of bounds",
                    s.quote_weight
                ));
            }
        }
        if let Some(root) = self.subnets.get(&0) {
            if root.tao != root.alpha_out {
                return Err(format!(
                    "root is not 1:1: tao {} alpha_out {}",
                    root.tao, root.alpha_out
                ));
            }
        }
        if tao_sum != u128::from(self.total_stake) {
            return Err(format!(
                "Σ SubnetTAO {tao_sum} != TotalStake {}",
                self.total_stake
            ));
        }
        let orphan = |n: &u16| !self.subnets.contains_key(n);
        if let Some((n, h)) = self.pools.keys().find(|(n, _)| orphan(n)) {
            return Err(format!("pool ({n}, {h}) of a missing subnet"));
        }
        if let Some((n, b)) = self.pots.keys().find(|(n, _)| orphan(n)) {
            return Err(format!("pot ({n}, {b}) of a missing subnet"));
        }
        if let Some((h, n)) = self.root_claimable.keys().find(|(_, n)| orphan(n)) {
            return Err(format!("root claimable ({h}, {n}) of a missing subnet"));
        }
        if let Some((n, _, _)) = self.root_claimed.keys().find(|(n, _, _)| orphan(n)) {
            return Err(format!("root claimed on missing subnet {n}"));
        }
        if let Some((n, h)) = self.reported.keys().find(|(n, _)| orphan(n)) {
            return Err(format!("reported weight ({n}, {h}) of a missing subnet"));
        }
        if let Some((n, c)) = self.locks.keys().find(|(n, _)| orphan(n)) {
            return Err(format!("lock of {c} on missing subnet {n}"));
        }
        // Childkeys: only on existing non-root subnets, never empty, and the
        // parent index is exactly the inverse of the children lists.
        let not_childkey_subnet = |n: &u16| *n == 0 || orphan(n);
        if let Some((n, h)) = self.children.keys().find(|(n, _)| not_childkey_subnet(n)) {
            return Err(format!("children of {h} on missing or root subnet {n}"));
        }
        if let Some((n, h)) = self.parents.keys().find(|(n, _)| not_childkey_subnet(n)) {
            return Err(format!("parents of {h} on missing or root subnet {n}"));
        }
        if let Some((n, h)) = self
            .childkey_takes
            .keys()
            .find(|(n, _)| not_childkey_subnet(n))
        {
            return Err(format!(
                "childkey take of {h} on missing or root subnet {n}"
            ));
        }
        if self.childkey_takes.values().any(|t| *t == 0) {
            return Err("a childkey take of 0 is kept".into());
        }
        let mut inverse: BTreeMap<(u16, AccountId), Vec<(u64, AccountId)>> = BTreeMap::new();
        for ((n, p), kids) in &self.children {
            if kids.is_empty() {
                return Err(format!("empty children list of {p} on {n}"));
            }
            for (q, c) in kids {
                inverse.entry((*n, *c)).or_default().push((*q, *p));
            }
        }
        for ((n, c), ps) in &self.parents {
            let mut mine = ps.clone();
            mine.sort();
            let mut theirs = inverse.remove(&(*n, *c)).unwrap_or_default();
            theirs.sort();
            if mine != theirs {
                return Err(format!(
                    "parents of {c} on {n} do not match the children lists"
                ));
            }
        }
        if let Some(((n, c), _)) = inverse.into_iter().next() {
            return Err(format!("child {c} on {n} missing from the parent index"));
        }
        if self.unlock_rate == 0 {
            return Err("unlock rate 0".into());
        }
        let zero = self.reported_root.values().any(|v| *v == 0)
            || self.reported_coldkey_alpha.values().any(|v| *v == 0);
        if zero {
            return Err("a reported stake figure of 0 is kept".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod persistent_set_tests {
    use super::*;

    /// The persistent sets serialise exactly as the `BTreeSet`s they
    /// replaced, so the state digest and snapshot bytes are unchanged.
    #[test]
    fn persistent_sets_serialise_as_btreesets() {
        let keys: Vec<AccountId> = (0..300u16)
            .map(|i| {
                let mut b = [0u8; 32];
                b[..2].copy_from_slice(&(i.wrapping_mul(7919)).to_be_bytes());
                AccountId(b)
            })
            .collect();
        let old: BTreeSet<AccountId> = keys.iter().copied().collect();
        let new: imbl::OrdSet<AccountId> = keys.iter().copied().collect();
        assert_eq!(
            aggregate::canonical::digest(&old),
            aggregate::canonical::digest(&new)
        );
        let old: BTreeMap<AccountId, BTreeSet<(u16, AccountId)>> =
            [(keys[0], keys.iter().map(|k| (3, *k)).collect())].into();
        let new: BTreeMap<AccountId, imbl::OrdSet<(u16, AccountId)>> =
            [(keys[0], keys.iter().map(|k| (3, *k)).collect())].into();
        assert_eq!(
            aggregate::canonical::snapshot(1, &old),
            aggregate::canonical::snapshot(1, &new)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The merged scan is the set the base and the layer make together:
        /// base keys, plus the layer's inserts, less its removals, in order.
        #[test]
        fn keys_in_is_base_plus_layer(
            base in proptest::collection::btree_map(0u8..64, any::<u8>(), 0..40),
            writes in proptest::collection::vec((0u8..64, proptest::option::of(any::<u8>())), 0..40),
            lo in 0u8..64,
            span in 0u8..64,
        ) {
            let mut layer = Layer::new(&base);
            let mut expect: BTreeSet<u8> = base.keys().copied().collect();
            for (k, v) in &writes {
                match v {
                    Some(v) => {
                        layer.insert(*k, *v);
                        expect.insert(*k);
                    }
                    None => {
                        layer.remove(k);
                        expect.remove(k);
                    }
                }
            }
            let hi = lo.saturating_add(span);
            let want: Vec<u8> = expect.range(lo..=hi).copied().collect();
            prop_assert_eq!(layer.keys_in(lo..=hi), want);
            prop_assert_eq!(layer.keys_in(..), expect.into_iter().collect::<Vec<_>>());
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u8, u8),
        Remove(u8),
        Bump(u8),
        OrInsert(u8, u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..32, any::<u8>()).prop_map(|(k, v)| Op::Insert(k, v)),
            (0u8..32).prop_map(Op::Remove),
            (0u8..32).prop_map(Op::Bump),
            (0u8..32, any::<u8>()).prop_map(|(k, v)| Op::OrInsert(k, v)),
        ]
    }

    fn run(layer: &mut Layer<'_, u8, u8>, op: &Op) {
        match op {
            Op::Insert(k, v) => layer.insert(*k, *v),
            Op::Remove(k) => layer.remove(k),
            Op::Bump(k) => {
                if let Some(v) = layer.get_mut(k) {
                    *v = v.wrapping_add(1);
                }
            }
            Op::OrInsert(k, v) => {
                let e = layer.or_insert_with(*k, || *v);
                *e = e.wrapping_mul(3);
            }
        }
    }

    proptest! {
        /// An in-place layer reads exactly as a copy-on-write one after
        /// every write (values, originals, written keys, scans); it leaves
        /// the map as committing the copy-on-write one would, and its
        /// rollback restores the map it started from.
        #[test]
        fn in_place_is_the_overlay_and_rolls_back(
            base in proptest::collection::btree_map(0u8..32, any::<u8>(), 0..24),
            ops in proptest::collection::vec(op(), 0..48),
        ) {
            let mut owned_map = base.clone();
            let mut shared = Layer::new(&base);
            let mut owned = Layer::owned(&mut owned_map);
            for o in &ops {
                run(&mut shared, o);
                run(&mut owned, o);
                for k in 0u8..32 {
                    prop_assert_eq!(shared.get(&k), owned.get(&k));
                    prop_assert_eq!(shared.original(&k), owned.original(&k));
                }
                prop_assert_eq!(shared.written_keys(), owned.written_keys());
                prop_assert_eq!(shared.keys_in(..), owned.keys_in(..));
            }
            let mut committed = base.clone();
            write_diff(&mut committed, shared.diff);
            drop(owned);
            prop_assert_eq!(&owned_map, &committed);

            let mut again = base.clone();
            let mut owned = Layer::owned(&mut again);
            for o in &ops {
                run(&mut owned, o);
            }
            owned.rollback();
            prop_assert_eq!(&again, &base);
        }
    }
}
