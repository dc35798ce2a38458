//! The consensus state, how events change it, what it answers, and the
//! invariants it keeps.
//!
//! Only `BTreeMap`s and uid-indexed vectors: the bincode encoding is
//! canonical, so [`crate::Consensus`]'s digest compares states across
//! processes and replays. `apply` never fails and never panics: `decide` has
//! checked everything, and out-of-range indices are skipped.

use std::collections::BTreeMap;

use keys::AccountId;
use serde::{Deserialize, Serialize};

use crate::event::*;
use crate::params::{Hyperparameter, SubnetParams, DEFAULT_MAX_EPOCHS_PER_BLOCK, MAX_TEMPO};

/// One uid of a subnet's metagraph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Neuron {
    pub hotkey: AccountId,
    /// `BlockAtRegistration`.
    pub registered_at: u64,
    /// `LastUpdate`.
    pub last_update: u64,
    /// Stored weight row `[(uid, u16)]`.
    pub weights: Vec<(u16, u16)>,
    /// Stored bond row `[(uid, u16)]`.
    pub bonds: Vec<(u16, u16)>,
    pub validator_permit: bool,
    /// Last epoch's outputs.
    pub stake_u16: u16,
    pub consensus: u16,
    pub incentive: u16,
    pub dividends: u16,
    pub validator_trust: u16,
    pub emission: u64,
    pub active: bool,
}

impl Neuron {
    pub(crate) fn new(hotkey: AccountId, block: u64) -> Self {
        Neuron {
            hotkey,
            registered_at: block,
            last_update: block,
            weights: Vec::new(),
            bonds: Vec::new(),
            validator_permit: false,
            stake_u16: 0,
            consensus: 0,
            incentive: 0,
            dividends: 0,
            validator_trust: 0,
            emission: 0,
            active: false,
        }
    }
}

/// One queued hash commit (`WeightCommits` entry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    pub hash: [u8; 32],
    pub block: u64,
    /// `SubnetEpochIndex` when committed.
    pub epoch: u64,
}

/// One subnet: parameters, metagraph, schedule, pending emission, commits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub owner: AccountId,
    pub owner_hotkey: AccountId,
    pub params: SubnetParams,
    /// Indexed by uid (dense, 0..n).
    pub neurons: Vec<Neuron>,
    pub created_at: u64,
    /// `LastEpochBlock`: the last consumed epoch slot.
    pub last_epoch_block: u64,
    /// `LastMechansimStepBlock`: the last successful epoch (0 = none yet).
    pub last_step_block: u64,
    /// `PendingEpochAt` (0 = none): owner trigger or deferral.
    pub pending_epoch_at: u64,
    /// `SubnetEpochIndex`.
    pub epoch_index: u64,
    /// Alpha (rao) waiting for the next epoch.
    pub pending_emission: u64,
    /// Hash commits per hotkey, oldest first.
    pub commits: BTreeMap<AccountId, Vec<Commit>>,
}

impl Subnet {
    pub fn n(&self) -> usize {
        self.neurons.len()
    }

    pub fn uid_of(&self, hotkey: &AccountId) -> Option<u16> {
        self.neurons
            .iter()
            .position(|n| n.hotkey == *hotkey)
            .map(|u| u as u16)
    }

    pub fn owner_uid(&self) -> Option<u16> {
        self.uid_of(&self.owner_hotkey)
    }

    /// `should_run_epoch` (tokenomics.md §2.5): a due trigger or deferral,
    /// the safety net (more than `MAX_TEMPO` blocks since the last
    /// successful epoch), or `tempo` blocks since the last slot.
    pub fn epoch_due(&self, block: u64) -> bool {
        let tempo = u64::from(self.params.tempo);
        if tempo == 0 {
            return false;
        }
        if self.pending_epoch_at > 0 && block >= self.pending_epoch_at {
            return true;
        }
        let last_step = self.last_step_block.max(self.created_at);
        if block.saturating_sub(last_step) > MAX_TEMPO {
            return true;
        }
        block.saturating_sub(self.last_epoch_block) >= tempo
    }

    /// The first block at which an automatic epoch is due (`tempo` blocks
    /// after the last slot, or the safety net: more than `MAX_TEMPO` blocks
    /// after the last successful epoch), whichever comes first. A pending
    /// trigger or deferral ([`Subnet::trigger_pending`]) may fire earlier.
    pub fn next_epoch_block(&self) -> u64 {
        self.schedule().next_epoch_block()
    }

    /// An owner trigger or a deferral is pending (`PendingEpochAt ≠ 0`).
    pub fn trigger_pending(&self) -> bool {
        self.pending_epoch_at != 0
    }

    pub(crate) fn schedule(&self) -> Schedule {
        Schedule {
            tempo: self.params.tempo,
            created_at: self.created_at,
            last_epoch_block: self.last_epoch_block,
            last_step_block: self.last_step_block,
            pending_epoch_at: self.pending_epoch_at,
        }
    }

    fn set_schedule(&mut self, s: &Schedule) {
        self.params.tempo = s.tempo;
        self.created_at = s.created_at;
        self.last_epoch_block = s.last_epoch_block;
        self.last_step_block = s.last_step_block;
        self.pending_epoch_at = s.pending_epoch_at;
    }

    /// `blocks_until_next_auto_epoch`.
    pub fn blocks_until_next_auto_epoch(&self, block: u64) -> u64 {
        self.last_epoch_block
            .saturating_add(u64::from(self.params.tempo))
            .saturating_sub(block)
    }

    /// A commit's reveal epoch is `commit.epoch + reveal_period`; after it
    /// the commit has expired.
    pub fn commit_expired(&self, c: &Commit) -> bool {
        self.epoch_index > c.epoch.saturating_add(self.params.reveal_period_epochs)
    }

    pub fn commit_revealable(&self, c: &Commit) -> bool {
        self.epoch_index == c.epoch.saturating_add(self.params.reveal_period_epochs)
    }

    /// Whether `uid` is immune at `block` (`get_neuron_is_immune`).
    pub fn is_immune(&self, uid: usize, block: u64) -> bool {
        block.saturating_sub(self.neurons[uid].registered_at)
            < u64::from(self.params.immunity_period)
    }

    /// `get_neuron_to_prune` (governance.md §4.4): skip the owner hotkey;
    /// minimum by (last emission, registration block, uid) among non-immune
    /// and among immune uids; non-immune only while more than
    /// `MinNonImmuneUids` of them remain.
    pub fn neuron_to_prune(&self, block: u64) -> Option<u16> {
        let mut free = 0u32;
        let mut best_free: Option<(u64, u64, u16)> = None;
        let mut best_immune: Option<(u64, u64, u16)> = None;
        for (uid, n) in self.neurons.iter().enumerate() {
            if n.hotkey == self.owner_hotkey {
                continue;
            }
            let key = (n.emission, n.registered_at, uid as u16);
            let slot = if self.is_immune(uid, block) {
                &mut best_immune
            } else {
                free += 1;
                &mut best_free
            };
            if slot.is_none_or(|b| key < b) {
                *slot = Some(key);
            }
        }
        if free > u32::from(self.params.min_non_immune_uids) {
            if let Some((_, _, uid)) = best_free {
                return Some(uid);
            }
        }
        best_immune.map(|(_, _, uid)| uid)
    }
}

/// The fields of a subnet the epoch scheduler reads, and how events move
/// them: `apply` uses it for the subnet's own fields, and `decide` to
/// announce `EpochScheduleChanged` (so both agree by construction).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Schedule {
    pub(crate) tempo: u16,
    pub(crate) created_at: u64,
    pub(crate) last_epoch_block: u64,
    pub(crate) last_step_block: u64,
    pub(crate) pending_epoch_at: u64,
}

impl Schedule {
    pub(crate) fn created(e: &SubnetCreated) -> Schedule {
        Schedule {
            tempo: e.params.tempo,
            created_at: e.block,
            last_epoch_block: e.last_epoch_block,
            last_step_block: 0,
            pending_epoch_at: 0,
        }
    }

    /// See [`Subnet::next_epoch_block`]: the inverse of `epoch_due`'s
    /// automatic conditions.
    pub(crate) fn next_epoch_block(&self) -> u64 {
        let auto = self
            .last_epoch_block
            .saturating_add(u64::from(self.tempo.max(1)));
        let safety = self
            .last_step_block
            .max(self.created_at)
            .saturating_add(MAX_TEMPO)
            .saturating_add(1);
        auto.min(safety)
    }

    /// (next epoch block, trigger pending): what `EpochScheduleChanged` says.
    pub(crate) fn announced(&self) -> (u64, bool) {
        (self.next_epoch_block(), self.pending_epoch_at != 0)
    }

    /// How `event` (of this subnet) moves the schedule; `height` is the
    /// clock when it applies (a new tempo restarts the cycle there).
    pub(crate) fn apply(&mut self, event: &ConsensusEvent, height: u64) {
        match event {
            ConsensusEvent::HyperparameterSet(e) => {
                if let Hyperparameter::Tempo(t) = e.param {
                    // apply_tempo_with_cycle_reset: the new cycle starts now.
                    self.tempo = t;
                    self.last_epoch_block = height;
                }
            }
            ConsensusEvent::EpochTriggered(e) => self.pending_epoch_at = e.fires_at,
            ConsensusEvent::EpochDeferred(e) => self.pending_epoch_at = e.to_block,
            ConsensusEvent::EpochRan(e) => {
                self.last_epoch_block = e.block;
                self.last_step_block = e.block;
                self.pending_epoch_at = 0;
            }
            ConsensusEvent::EpochSkipped(e) => {
                self.last_epoch_block = e.block;
                self.pending_epoch_at = 0;
            }
            _ => {}
        }
    }
}

/// The subnet whose schedule `event` may move (created, dropped, epochs,
/// triggers, deferrals, a new tempo).
pub(crate) fn schedule_subject(event: &ConsensusEvent) -> Option<u16> {
    match event {
        ConsensusEvent::SubnetCreated(e) => Some(e.netuid),
        ConsensusEvent::SubnetDropped(e) => Some(e.netuid),
        ConsensusEvent::HyperparameterSet(e) if matches!(e.param, Hyperparameter::Tempo(_)) => {
            Some(e.netuid)
        }
        ConsensusEvent::EpochTriggered(e) => Some(e.netuid),
        ConsensusEvent::EpochDeferred(e) => Some(e.netuid),
        ConsensusEvent::EpochRan(e) => Some(e.netuid),
        ConsensusEvent::EpochSkipped(e) => Some(e.netuid),
        _ => None,
    }
}

/// The whole consensus state. `Default` is the empty state before any block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consensus {
    pub(crate) height: u64,
    pub(crate) max_epochs_per_block: u16,
    pub(crate) subnets: BTreeMap<u16, Subnet>,
    /// Latest stake weight per (netuid, hotkey) as the amm reports it; no
    /// zero entries.
    pub(crate) stake: BTreeMap<(u16, AccountId), u64>,
}

impl Default for Consensus {
    fn default() -> Self {
        Consensus {
            height: 0,
            max_epochs_per_block: DEFAULT_MAX_EPOCHS_PER_BLOCK,
            subnets: BTreeMap::new(),
            stake: BTreeMap::new(),
        }
    }
}

fn drop_front<T>(v: &mut Vec<T>, k: u32) {
    let k = (k as usize).min(v.len());
    v.drain(..k);
}

impl Consensus {
    /// Applies one event (the `Aggregate::evolve` body).
    pub(crate) fn apply(&mut self, event: &ConsensusEvent) {
        match event {
            ConsensusEvent::BlockObserved(e) => self.height = e.height,
            ConsensusEvent::SubnetCreated(e) => {
                self.subnets.insert(
                    e.netuid,
                    Subnet {
                        owner: e.owner,
                        owner_hotkey: e.owner_hotkey,
                        params: e.params.clone(),
                        neurons: Vec::new(),
                        created_at: e.block,
                        last_epoch_block: e.last_epoch_block,
                        last_step_block: 0,
                        pending_epoch_at: 0,
                        epoch_index: 0,
                        pending_emission: 0,
                        commits: BTreeMap::new(),
                    },
                );
            }
            ConsensusEvent::HyperparameterSet(e) => {
                let height = self.height;
                if let Some(s) = self.subnets.get_mut(&e.netuid) {
                    s.params.apply(&e.param);
                    let mut schedule = s.schedule();
                    schedule.apply(event, height);
                    s.set_schedule(&schedule);
                }
            }
            ConsensusEvent::MaxEpochsPerBlockSet(e) => self.max_epochs_per_block = e.value,
            ConsensusEvent::NeuronRegistered(e) => {
                let Some(s) = self.subnets.get_mut(&e.netuid) else {
                    return;
                };
                let uid = usize::from(e.uid);
                let fresh = Neuron::new(e.hotkey, e.block);
                if uid == s.neurons.len() {
                    s.neurons.push(fresh);
                } else if uid < s.neurons.len() {
                    // replace_neuron + clear_neuron (yuma.md §7).
                    let old = std::mem::replace(&mut s.neurons[uid], fresh);
                    s.commits.remove(&old.hotkey);
                    for n in &mut s.neurons {
                        for w in &mut n.weights {
                            if w.0 == e.uid {
                                w.1 = 0;
                            }
                        }
                    }
                }
            }
            ConsensusEvent::StakeUpdated(e) => {
                if e.stake == 0 {
                    self.stake.remove(&(e.netuid, e.hotkey));
                } else {
                    self.stake.insert((e.netuid, e.hotkey), e.stake);
                }
            }
            ConsensusEvent::EmissionAccrued(e) => {
                if let Some(s) = self.subnets.get_mut(&e.netuid) {
                    s.pending_emission = s.pending_emission.saturating_add(e.rao);
                }
            }
            ConsensusEvent::EmissionsAccrued(e) => {
                for (netuid, rao) in &e.entries {
                    if let Some(s) = self.subnets.get_mut(netuid) {
                        s.pending_emission = s.pending_emission.saturating_add(*rao);
                    }
                }
            }
            ConsensusEvent::StakesUpdated(e) => {
                for (netuid, hotkey, stake) in &e.entries {
                    if *stake == 0 {
                        self.stake.remove(&(*netuid, *hotkey));
                    } else {
                        self.stake.insert((*netuid, *hotkey), *stake);
                    }
                }
            }
            ConsensusEvent::WeightsSet(e) => {
                if let Some(n) = self
                    .subnets
                    .get_mut(&e.netuid)
                    .and_then(|s| s.neurons.get_mut(usize::from(e.uid)))
                {
                    n.weights.clone_from(&e.weights);
                    n.last_update = e.block;
                }
            }
            ConsensusEvent::WeightsCommitted(e) => {
                let Some(s) = self.subnets.get_mut(&e.netuid) else {
                    return;
                };
                let q = s.commits.entry(e.hotkey).or_default();
                drop_front(q, e.expired_dropped);
                q.push(Commit {
                    hash: e.hash,
                    block: e.block,
                    epoch: e.epoch,
                });
                if let Some(n) = s.neurons.get_mut(usize::from(e.uid)) {
                    n.last_update = e.block;
                }
            }
            ConsensusEvent::WeightsRevealed(e) => {
                let Some(s) = self.subnets.get_mut(&e.netuid) else {
                    return;
                };
                if let Some(q) = s.commits.get_mut(&e.hotkey) {
                    drop_front(q, e.commits_removed);
                    if q.is_empty() {
                        s.commits.remove(&e.hotkey);
                    }
                }
                if let Some(n) = s.neurons.get_mut(usize::from(e.uid)) {
                    n.weights.clone_from(&e.weights);
                }
            }
            ConsensusEvent::EpochTriggered(EpochTriggered { netuid, .. })
            | ConsensusEvent::EpochDeferred(EpochDeferred { netuid, .. }) => {
                let height = self.height;
                if let Some(s) = self.subnets.get_mut(netuid) {
                    let mut schedule = s.schedule();
                    schedule.apply(event, height);
                    s.set_schedule(&schedule);
                }
            }
            ConsensusEvent::EpochRan(e) => {
                let Some(s) = self.subnets.get_mut(&e.netuid) else {
                    return;
                };
                for (uid, n) in s.neurons.iter_mut().enumerate() {
                    let get = |v: &[u16]| v.get(uid).copied().unwrap_or(0);
                    n.stake_u16 = get(&e.stake);
                    n.consensus = get(&e.consensus);
                    n.incentive = get(&e.incentive);
                    n.dividends = get(&e.dividends);
                    n.validator_trust = get(&e.validator_trust);
                    n.emission = e.emission.get(uid).copied().unwrap_or(0);
                    n.active = e.active.get(uid).copied().unwrap_or(false);
                    n.validator_permit = e.validator_permit.get(uid).copied().unwrap_or(false);
                    n.bonds = e.bonds.get(uid).cloned().unwrap_or_default();
                }
                s.pending_emission = s.pending_emission.saturating_sub(e.rao);
                let mut schedule = s.schedule();
                schedule.apply(event, e.block);
                s.set_schedule(&schedule);
                s.epoch_index = e.epoch_index;
            }
            ConsensusEvent::EpochSkipped(e) => {
                if let Some(s) = self.subnets.get_mut(&e.netuid) {
                    let mut schedule = s.schedule();
                    schedule.apply(event, e.block);
                    s.set_schedule(&schedule);
                    s.epoch_index = s.epoch_index.saturating_add(1);
                }
            }
            ConsensusEvent::SubnetDropped(e) => {
                self.subnets.remove(&e.netuid);
                self.stake.retain(|(netuid, _), _| *netuid != e.netuid);
            }
            // Recorded outcomes and announcements: no state of their own.
            ConsensusEvent::StepRefused(_) | ConsensusEvent::EpochScheduleChanged(_) => {}
        }
    }

    /// The invariants every reachable state satisfies: unique hotkeys per
    /// subnet, at most `max_allowed_uids` ≤ 256 uids, weight and bond rows
    /// pointing at existing uids, no zero stake entries, valid parameters.
    pub fn check_invariants(&self) -> Result<(), String> {
        if self.stake.values().any(|v| *v == 0) {
            return Err("zero stake entry".into());
        }
        for (netuid, s) in &self.subnets {
            if *netuid == 0 {
                return Err("netuid 0 is the root network".into());
            }
            let n = s.n();
            if n > usize::from(s.params.max_allowed_uids) {
                return Err(format!("subnet {netuid}: {n} uids above the maximum"));
            }
            let mut keys: Vec<_> = s.neurons.iter().map(|x| x.hotkey).collect();
            keys.sort();
            keys.dedup();
            if keys.len() != n {
                return Err(format!("subnet {netuid}: duplicate hotkeys"));
            }
            for (uid, x) in s.neurons.iter().enumerate() {
                if x.weights
                    .iter()
                    .chain(&x.bonds)
                    .any(|(j, _)| usize::from(*j) >= n)
                {
                    return Err(format!(
                        "subnet {netuid} uid {uid}: row names a missing uid"
                    ));
                }
            }
            if s.commits.values().any(|q| q.is_empty()) {
                return Err(format!("subnet {netuid}: empty commit queue"));
            }
            s.params
                .validate(n, false)
                .map_err(|e| format!("subnet {netuid}: {e}"))?;
        }
        Ok(())
    }

    // ----- queries -----

    pub fn height(&self) -> u64 {
        self.height
    }

    pub fn max_epochs_per_block(&self) -> u16 {
        self.max_epochs_per_block
    }

    pub fn subnet(&self, netuid: u16) -> Option<&Subnet> {
        self.subnets.get(&netuid)
    }

    /// The first block at which `netuid`'s next automatic epoch is due
    /// ([`Subnet::next_epoch_block`]); `None` for an unknown subnet. What
    /// `EpochScheduleChanged` announces, with [`Consensus::trigger_pending`].
    pub fn next_epoch_block(&self, netuid: u16) -> Option<u64> {
        self.subnets.get(&netuid).map(Subnet::next_epoch_block)
    }

    /// Whether an owner trigger or a deferral is pending on `netuid`.
    pub fn trigger_pending(&self, netuid: u16) -> Option<bool> {
        self.subnets.get(&netuid).map(Subnet::trigger_pending)
    }

    /// Latest reported stake of `hotkey` on `netuid` (rao).
    pub fn stake_of(&self, netuid: u16, hotkey: &AccountId) -> u64 {
        self.stake.get(&(netuid, *hotkey)).copied().unwrap_or(0)
    }

    /// Every subnet, by netuid.
    pub fn subnets(&self) -> Vec<SubnetSummary> {
        self.subnets
            .iter()
            .map(|(netuid, s)| SubnetSummary {
                netuid: *netuid,
                owner: s.owner,
                owner_hotkey: s.owner_hotkey,
                n: s.n() as u16,
                params: s.params.clone(),
                last_epoch_block: s.last_epoch_block,
                next_auto_epoch_block: s.last_epoch_block.saturating_add(u64::from(s.params.tempo)),
                pending_epoch_at: s.pending_epoch_at,
                epoch_index: s.epoch_index,
                pending_emission: s.pending_emission,
            })
            .collect()
    }

    /// The metagraph of one subnet, `None` if it does not exist.
    pub fn metagraph(&self, netuid: u16) -> Option<Metagraph> {
        let s = self.subnets.get(&netuid)?;
        Some(Metagraph {
            netuid,
            block: self.height,
            owner_hotkey: s.owner_hotkey,
            last_epoch_block: s.last_epoch_block,
            epoch_index: s.epoch_index,
            pending_emission: s.pending_emission,
            neurons: s
                .neurons
                .iter()
                .enumerate()
                .map(|(uid, x)| NeuronInfo {
                    uid: uid as u16,
                    hotkey: x.hotkey,
                    stake: self.stake_of(netuid, &x.hotkey),
                    registered_at: x.registered_at,
                    last_update: x.last_update,
                    validator_permit: x.validator_permit,
                    active: x.active,
                    stake_u16: x.stake_u16,
                    consensus: x.consensus,
                    incentive: x.incentive,
                    dividends: x.dividends,
                    validator_trust: x.validator_trust,
                    emission: x.emission,
                    weights: x.weights.clone(),
                    bonds: x.bonds.clone(),
                })
                .collect(),
        })
    }
}

/// One row of [`Consensus::subnets`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetSummary {
    pub netuid: u16,
    pub owner: AccountId,
    pub owner_hotkey: AccountId,
    pub n: u16,
    pub params: SubnetParams,
    pub last_epoch_block: u64,
    pub next_auto_epoch_block: u64,
    pub pending_epoch_at: u64,
    pub epoch_index: u64,
    pub pending_emission: u64,
}

/// [`Consensus::metagraph`]: what `taonet metagraph` prints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metagraph {
    pub netuid: u16,
    pub block: u64,
    pub owner_hotkey: AccountId,
    pub last_epoch_block: u64,
    pub epoch_index: u64,
    pub pending_emission: u64,
    pub neurons: Vec<NeuronInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronInfo {
    pub uid: u16,
    pub hotkey: AccountId,
    /// Latest reported stake weight (rao).
    pub stake: u64,
    pub registered_at: u64,
    pub last_update: u64,
    pub validator_permit: bool,
    pub active: bool,
    pub stake_u16: u16,
    pub consensus: u16,
    pub incentive: u16,
    pub dividends: u16,
    pub validator_trust: u16,
    /// Last epoch's emission (rao).
    pub emission: u64,
    pub weights: Vec<(u16, u16)>,
    pub bonds: Vec<(u16, u16)>,
}
