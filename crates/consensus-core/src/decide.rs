//! `decide`: which events a command produces, or why it is refused.
//!
//! Checks run in the chain's order where the chain has one (set_weights:
//! governance.md §6.1; commit/reveal: `subnets/weights.rs`; trigger_epoch:
//! `coinbase/tempo_control.rs`). Nothing here mutates the state.

use keys::AccountId;
use std::collections::BTreeMap;

use crate::command::{Command, CommandBody, Origin};
use crate::event::*;
use crate::params::{Hyperparameter, SubnetParams, ADMIN_FREEZE_WINDOW, MAX_UNREVEALED_COMMITS};
use crate::rejection::Rejection;
use crate::state::{schedule_subject, Consensus, Schedule, Subnet};
use crate::weights::{commit_hash, Path, Row};

type Decision = Result<Vec<ConsensusEvent>, Rejection>;

/// Service-level commands: from a trusted service key, or from the shell
/// itself (`Clock`: genesis subnets at start-up, relayed peer events).
fn service(origin: &Origin) -> Result<(), Rejection> {
    match origin {
        Origin::Service(_) | Origin::Clock => Ok(()),
        _ => Err(Rejection::BadOrigin),
    }
}

/// A governance saga step (`op` given): a domain rejection is recorded as
/// `StepRefused`, because governance waits for the outcome. Without `op`
/// the rejection stands.
fn step(op: &Option<String>, decision: Decision) -> Decision {
    match (op, decision) {
        (Some(op), Err(r)) => Ok(vec![ConsensusEvent::StepRefused(StepRefused {
            op: op.clone(),
            code: r.code(),
            message: r.to_string(),
        })]),
        (_, decision) => decision,
    }
}

fn signed(origin: &Origin) -> Result<AccountId, Rejection> {
    match origin {
        Origin::Signed(who) => Ok(*who),
        _ => Err(Rejection::BadOrigin),
    }
}

impl Consensus {
    fn existing(&self, netuid: u16) -> Result<&Subnet, Rejection> {
        self.subnets.get(&netuid).ok_or(Rejection::SubnetNotExists)
    }

    /// The decision, then `EpochScheduleChanged` after every event that
    /// moved a subnet's announced schedule.
    pub(crate) fn decide_command(&self, cmd: &Command) -> Decision {
        self.decide_body(cmd)
            .map(|events| self.announce_schedules(events))
    }

    /// Walks `events` as `apply` would, tracking the schedule of each subnet
    /// they touch, and inserts `EpochScheduleChanged` right after an event
    /// that changed (next epoch block, trigger pending) — and after every
    /// `EpochRan`, with `epoch_ran` set. A dropped subnet announces nothing.
    fn announce_schedules(&self, events: Vec<ConsensusEvent>) -> Vec<ConsensusEvent> {
        let mut height = self.height;
        let mut tracked: BTreeMap<u16, Option<Schedule>> = BTreeMap::new();
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            if let ConsensusEvent::BlockObserved(b) = &e {
                height = b.height;
            }
            let Some(netuid) = schedule_subject(&e) else {
                out.push(e);
                continue;
            };
            let current = tracked
                .entry(netuid)
                .or_insert_with(|| self.subnets.get(&netuid).map(Subnet::schedule));
            let before = current.map(|s| s.announced());
            match &e {
                ConsensusEvent::SubnetCreated(c) => *current = Some(Schedule::created(c)),
                ConsensusEvent::SubnetDropped(_) => *current = None,
                _ => {
                    if let Some(s) = current.as_mut() {
                        s.apply(&e, height);
                    }
                }
            }
            let ran = matches!(e, ConsensusEvent::EpochRan(_));
            let after = current.map(|s| s.announced());
            out.push(e);
            if let Some((next_epoch_block, trigger_pending)) = after {
                if ran || after != before {
                    out.push(ConsensusEvent::EpochScheduleChanged(EpochScheduleChanged {
                        netuid,
                        next_epoch_block,
                        trigger_pending,
                        epoch_ran: ran,
                    }));
                }
            }
        }
        out
    }

    fn decide_body(&self, cmd: &Command) -> Decision {
        match &cmd.body {
            CommandBody::ObserveBlock { height } => {
                if cmd.origin != Origin::Clock {
                    return Err(Rejection::BadOrigin);
                }
                self.observe_block(*height, &BTreeMap::new())
            }
            CommandBody::ObserveCoinbase { height, accruals } => {
                if cmd.origin != Origin::Clock {
                    return Err(Rejection::BadOrigin);
                }
                let mut extra: BTreeMap<u16, u64> = BTreeMap::new();
                let mut accrued: Vec<(u16, u64)> = Vec::new();
                for (netuid, rao) in accruals {
                    let Some(s) = self.subnets.get(netuid) else {
                        continue;
                    };
                    if *rao == 0 {
                        continue;
                    }
                    let e = extra.entry(*netuid).or_insert(0);
                    *e = e.checked_add(*rao).ok_or(Rejection::Overflow)?;
                    s.pending_emission
                        .checked_add(*e)
                        .ok_or(Rejection::Overflow)?;
                    accrued.push((*netuid, *rao));
                }
                let mut events = self.observe_block(*height, &extra)?;
                // BlockObserved first, then the accruals (one event for all
                // subnets), then the epochs: evolve adds the accruals
                // before an EpochRan drains them.
                let rest = events.split_off(1);
                if !accrued.is_empty() {
                    events.push(ConsensusEvent::EmissionsAccrued(EmissionsAccrued {
                        entries: accrued,
                    }));
                }
                events.extend(rest);
                Ok(events)
            }
            CommandBody::StakeUpdates { entries } => {
                if !matches!(cmd.origin, Origin::Clock | Origin::Service(_)) {
                    return Err(Rejection::BadOrigin);
                }
                let mut latest: BTreeMap<(u16, AccountId), u64> = BTreeMap::new();
                for (netuid, hotkey, stake) in entries {
                    if self.subnets.contains_key(netuid) {
                        latest.insert((*netuid, *hotkey), *stake);
                    }
                }
                let entries: Vec<(u16, AccountId, u64)> = latest
                    .into_iter()
                    .filter(|((netuid, hotkey), stake)| self.stake_of(*netuid, hotkey) != *stake)
                    .map(|((netuid, hotkey), stake)| (netuid, hotkey, stake))
                    .collect();
                if entries.is_empty() {
                    return Ok(Vec::new());
                }
                Ok(vec![ConsensusEvent::StakesUpdated(StakesUpdated {
                    entries,
                })])
            }
            CommandBody::CreateSubnet {
                netuid,
                owner,
                owner_hotkey,
                params,
                op,
            } => {
                service(&cmd.origin)?;
                step(
                    op,
                    self.create_subnet(*netuid, *owner, *owner_hotkey, params, op),
                )
            }
            CommandBody::DropSubnet { netuid } => {
                service(&cmd.origin)?;
                self.existing(*netuid)?;
                Ok(vec![ConsensusEvent::SubnetDropped(SubnetDropped {
                    netuid: *netuid,
                })])
            }
            CommandBody::SetHyperparameter { netuid, param } => {
                service(&cmd.origin)?;
                let s = self.existing(*netuid)?;
                let mut params = s.params.clone();
                params.apply(param);
                params.validate(s.n(), matches!(param, Hyperparameter::AlphaValues { .. }))?;
                Ok(vec![ConsensusEvent::HyperparameterSet(HyperparameterSet {
                    netuid: *netuid,
                    param: param.clone(),
                })])
            }
            CommandBody::SetMaxEpochsPerBlock { value } => {
                service(&cmd.origin)?;
                if *value == 0 {
                    return Err(Rejection::InvalidValue);
                }
                Ok(vec![ConsensusEvent::MaxEpochsPerBlockSet(
                    MaxEpochsPerBlockSet { value: *value },
                )])
            }
            CommandBody::RegisterNeuron {
                netuid,
                hotkey,
                block,
                op,
            } => {
                service(&cmd.origin)?;
                step(op, self.register(*netuid, *hotkey, *block, op))
            }
            CommandBody::StakeUpdate {
                netuid,
                hotkey,
                stake,
            } => {
                service(&cmd.origin)?;
                self.existing(*netuid)?;
                if self.stake_of(*netuid, hotkey) == *stake {
                    return Ok(Vec::new());
                }
                Ok(vec![ConsensusEvent::StakeUpdated(StakeUpdated {
                    netuid: *netuid,
                    hotkey: *hotkey,
                    stake: *stake,
                })])
            }
            CommandBody::EmissionPending { netuid, rao } => {
                service(&cmd.origin)?;
                let s = self.existing(*netuid)?;
                s.pending_emission
                    .checked_add(*rao)
                    .ok_or(Rejection::Overflow)?;
                if *rao == 0 {
                    return Ok(Vec::new());
                }
                Ok(vec![ConsensusEvent::EmissionAccrued(EmissionAccrued {
                    netuid: *netuid,
                    rao: *rao,
                })])
            }
            CommandBody::SetWeights {
                netuid,
                uids,
                values,
                version_key,
            } => {
                let hotkey = signed(&cmd.origin)?;
                self.set_weights(hotkey, *netuid, uids, values, *version_key)
            }
            CommandBody::CommitWeights { netuid, hash } => {
                let hotkey = signed(&cmd.origin)?;
                self.commit_weights(hotkey, *netuid, *hash)
            }
            CommandBody::RevealWeights {
                netuid,
                uids,
                values,
                salt,
                version_key,
            } => {
                let hotkey = signed(&cmd.origin)?;
                self.reveal_weights(hotkey, *netuid, uids, values, salt, *version_key)
            }
            CommandBody::TriggerEpoch { netuid } => self.trigger_epoch(&cmd.origin, *netuid),
        }
    }

    /// Block `height`: every due epoch in netuid order, the first
    /// `MaxEpochsPerBlock` run, the rest deferred to `height + 1`
    /// (`drain_pending_subnet_emissions`).
    fn observe_block(&self, height: u64, extra: &BTreeMap<u16, u64>) -> Decision {
        let expected = self.height.checked_add(1).ok_or(Rejection::Overflow)?;
        if height != expected {
            return Err(Rejection::UnexpectedBlock {
                expected,
                got: height,
            });
        }
        let mut events = vec![ConsensusEvent::BlockObserved(BlockObserved { height })];
        let mut ran = 0u16;
        for (netuid, s) in &self.subnets {
            if !s.epoch_due(height) {
                continue;
            }
            if ran >= self.max_epochs_per_block {
                events.push(ConsensusEvent::EpochDeferred(EpochDeferred {
                    netuid: *netuid,
                    from_block: height,
                    to_block: height.saturating_add(1),
                }));
                continue;
            }
            let rao = s
                .pending_emission
                .saturating_add(extra.get(netuid).copied().unwrap_or(0));
            let e = self.run_epoch_event(*netuid, s, height, rao);
            if matches!(e, ConsensusEvent::EpochRan(_)) {
                ran += 1;
            }
            events.push(e);
        }
        Ok(events)
    }

    fn create_subnet(
        &self,
        netuid: u16,
        owner: AccountId,
        owner_hotkey: AccountId,
        params: &SubnetParams,
        op: &Option<String>,
    ) -> Decision {
        if netuid == 0 {
            return Err(Rejection::NotPermittedOnRootSubnet);
        }
        if self.subnets.contains_key(&netuid) {
            return Err(Rejection::SubnetAlreadyExists);
        }
        params.validate(0, false)?;
        if op.is_some() && params.max_allowed_uids == 0 {
            return Err(Rejection::NoNeuronIdAvailable);
        }
        let stagger = u64::from(netuid) % u64::from(params.tempo);
        let mut events = vec![ConsensusEvent::SubnetCreated(SubnetCreated {
            netuid,
            owner,
            owner_hotkey,
            params: params.clone(),
            block: self.height,
            last_epoch_block: self.height.saturating_sub(stagger),
            op: op.clone(),
        })];
        if op.is_some() {
            // A registered subnet opens with its owner hotkey at uid 0
            // (`do_register_network`); not a saga step of its own (no op).
            // Genesis subnets (no op) list their neurons themselves.
            events.push(ConsensusEvent::NeuronRegistered(NeuronRegistered {
                netuid,
                uid: 0,
                hotkey: owner_hotkey,
                block: self.height,
                replaced: None,
                op: None,
            }));
        }
        Ok(events)
    }

    /// Append, or replace the pruning choice when full (governance.md §4.4,
    /// `do_register` steps 1, 2, 5 and 7; payment happened elsewhere).
    fn register(
        &self,
        netuid: u16,
        hotkey: AccountId,
        block: u64,
        op: &Option<String>,
    ) -> Decision {
        let s = self.existing(netuid)?;
        if s.uid_of(&hotkey).is_some() {
            return Err(Rejection::HotKeyAlreadyRegisteredInSubNet);
        }
        let max = usize::from(s.params.max_allowed_uids);
        if max == 0 {
            return Err(Rejection::NoNeuronIdAvailable);
        }
        let (uid, replaced) = if s.n() < max {
            (s.n() as u16, None)
        } else {
            let uid = s
                .neuron_to_prune(block)
                .ok_or(Rejection::NoNeuronIdAvailable)?;
            (uid, Some(s.neurons[usize::from(uid)].hotkey))
        };
        Ok(vec![ConsensusEvent::NeuronRegistered(NeuronRegistered {
            netuid,
            uid,
            hotkey,
            block,
            replaced,
            op: op.clone(),
        })])
    }

    /// Steps 1–3 of §6.1 (the commit-reveal gate first), then the rest.
    fn set_weights(
        &self,
        hotkey: AccountId,
        netuid: u16,
        uids: &[u16],
        values: &[u16],
        version_key: u64,
    ) -> Decision {
        if self
            .subnets
            .get(&netuid)
            .is_some_and(|s| s.params.commit_reveal_enabled)
        {
            return Err(Rejection::CommitRevealEnabled);
        }
        if netuid == 0 {
            return Err(Rejection::CanNotSetRootNetworkWeights);
        }
        if uids.len() != values.len() {
            return Err(Rejection::WeightVecNotEqualSize);
        }
        let s = self.existing(netuid)?;
        let (uid, weights) = self.validate_weights(
            netuid,
            s,
            &hotkey,
            Row {
                uids,
                values,
                version_key,
            },
            Path::Direct,
        )?;
        Ok(vec![ConsensusEvent::WeightsSet(WeightsSet {
            netuid,
            uid,
            hotkey,
            weights,
            block: self.height,
        })])
    }

    /// Leading commits of `hotkey`'s queue that have expired.
    fn expired_prefix(s: &Subnet, hotkey: &AccountId) -> usize {
        s.commits
            .get(hotkey)
            .map_or(0, |q| q.iter().take_while(|c| s.commit_expired(c)).count())
    }

    /// `do_commit_weights`.
    fn commit_weights(&self, hotkey: AccountId, netuid: u16, hash: [u8; 32]) -> Decision {
        let s = self.existing(netuid)?;
        if !s.params.commit_reveal_enabled {
            return Err(Rejection::CommitRevealDisabled);
        }
        let uid = s
            .uid_of(&hotkey)
            .ok_or(Rejection::HotKeyNotRegisteredInSubNet)?;
        if hotkey != s.owner_hotkey && self.stake_of(netuid, &hotkey) < s.params.stake_threshold {
            return Err(Rejection::NotEnoughStakeToSetWeights);
        }
        if !self.rate_limit_passes(s, uid) {
            return Err(Rejection::CommittingWeightsTooFast);
        }
        let expired = Self::expired_prefix(s, &hotkey);
        let queued = s.commits.get(&hotkey).map_or(0, Vec::len) - expired;
        if queued >= MAX_UNREVEALED_COMMITS {
            return Err(Rejection::TooManyUnrevealedCommits);
        }
        Ok(vec![ConsensusEvent::WeightsCommitted(WeightsCommitted {
            netuid,
            uid,
            hotkey,
            hash,
            block: self.height,
            epoch: s.epoch_index,
            expired_dropped: expired as u32,
        })])
    }

    /// `do_reveal_weights`, then the set-weights checks without the rate
    /// limit; any failure refuses the whole reveal.
    fn reveal_weights(
        &self,
        hotkey: AccountId,
        netuid: u16,
        uids: &[u16],
        values: &[u16],
        salt: &[u16],
        version_key: u64,
    ) -> Decision {
        let s = self.existing(netuid)?;
        if !s.params.commit_reveal_enabled {
            return Err(Rejection::CommitRevealDisabled);
        }
        let queue = s
            .commits
            .get(&hotkey)
            .ok_or(Rejection::NoWeightsCommitFound)?;
        let expired = Self::expired_prefix(s, &hotkey);
        let hash = commit_hash(&hotkey, netuid, uids, values, salt, version_key);
        let (old, live) = queue.split_at(expired);
        let was_expired = old.iter().any(|c| c.hash == hash);
        if live.is_empty() {
            return Err(if was_expired {
                Rejection::ExpiredWeightCommit
            } else {
                Rejection::NoWeightsCommitFound
            });
        }
        let Some(pos) = live.iter().position(|c| c.hash == hash) else {
            return Err(if was_expired {
                Rejection::ExpiredWeightCommit
            } else {
                Rejection::InvalidRevealCommitHashNotMatch
            });
        };
        if !s.commit_revealable(&live[pos]) {
            return Err(Rejection::RevealTooEarly);
        }
        if netuid == 0 {
            return Err(Rejection::CanNotSetRootNetworkWeights);
        }
        if uids.len() != values.len() {
            return Err(Rejection::WeightVecNotEqualSize);
        }
        let (uid, weights) = self.validate_weights(
            netuid,
            s,
            &hotkey,
            Row {
                uids,
                values,
                version_key,
            },
            Path::Reveal,
        )?;
        Ok(vec![ConsensusEvent::WeightsRevealed(WeightsRevealed {
            netuid,
            uid,
            hotkey,
            hash,
            weights,
            commits_removed: (expired + pos + 1) as u32,
        })])
    }

    /// `do_trigger_epoch` (governance.md §3.6); the owner's per-call rate
    /// limit is governance's business.
    fn trigger_epoch(&self, origin: &Origin, netuid: u16) -> Decision {
        if *origin == Origin::Clock {
            return Err(Rejection::BadOrigin);
        }
        let s = self.existing(netuid)?;
        if let Origin::Signed(who) = origin {
            if *who != s.owner {
                return Err(Rejection::BadOrigin);
            }
        }
        if s.params.commit_reveal_enabled {
            return Err(Rejection::DynamicTempoBlockedByCommitReveal);
        }
        if s.pending_epoch_at != 0 {
            return Err(Rejection::EpochTriggerAlreadyPending);
        }
        if s.blocks_until_next_auto_epoch(self.height) < ADMIN_FREEZE_WINDOW {
            return Err(Rejection::AutoEpochAlreadyImminent);
        }
        Ok(vec![ConsensusEvent::EpochTriggered(EpochTriggered {
            netuid,
            fires_at: self.height.saturating_add(ADMIN_FREEZE_WINDOW),
        })])
    }
}
