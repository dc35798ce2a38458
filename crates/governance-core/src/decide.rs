//! The rules: every command checked against the state in the chain's
//! order, producing events or a named rejection. `decide` takes `&self`.

use std::collections::{BTreeMap, BTreeSet};

use envelope::codec;
use keys::AccountId;

use crate::command::{Command, CommandBody as C, Origin, Peer, StakeReport};
use crate::event::*;
use crate::math;
use crate::params::*;
use crate::rejection::Rejection as R;
use crate::state::{Governance, NeuronOpStatus, Stage};

type Events = Vec<GovernanceEvent>;
type Res = Result<Events, R>;

fn valid_op(op: &str) -> Result<(), R> {
    if op.is_empty() || op.len() > MAX_OP_LEN {
        Err(R::InvalidOp)
    } else {
        Ok(())
    }
}

impl Governance {
    pub(crate) fn decide_command(&self, cmd: &Command) -> Res {
        let origin = &cmd.origin;
        match &cmd.body {
            C::ApplyGenesis {
                admin,
                config,
                triumvirate,
                last_lock,
                subnets,
            } => {
                if *origin != Origin::Genesis {
                    return Err(R::BadOrigin);
                }
                if self.genesis_applied {
                    return Err(R::GenesisAlreadyApplied);
                }
                if triumvirate.len() > TRIUMVIRATE_MAX || has_dup(triumvirate) {
                    return Err(R::InvalidValue);
                }
                let (subnets, owners) = genesis_subnets(subnets)?;
                let mut out = vec![GovernanceEvent::GenesisApplied(GenesisApplied {
                    admin: *admin,
                    config: config.clone(),
                    triumvirate: triumvirate.clone(),
                    last_lock: *last_lock,
                    subnets,
                })];
                out.extend(owners.into_iter().map(|(hotkey, coldkey)| {
                    GovernanceEvent::HotkeyAssociated(HotkeyAssociated { hotkey, coldkey })
                }));
                Ok(out)
            }

            // ---- peers -------------------------------------------------
            C::Block { height, emission } => {
                peer(origin, &[Peer::Ledger])?;
                let expected = self.height.saturating_add(1);
                if *height != expected && !(self.height == 0 && *height > 0) {
                    return Err(R::UnexpectedBlock {
                        expected,
                        got: *height,
                    });
                }
                let mut out = vec![GovernanceEvent::BlockObserved(BlockObserved {
                    height: *height,
                    root_interval_reset: height.saturating_add(1).is_multiple_of(ROOT_TEMPO + 1),
                })];
                if *emission != 0 && *emission != self.block_emission {
                    out.push(GovernanceEvent::BlockEmissionObserved(
                        BlockEmissionObserved { rao: *emission },
                    ));
                }
                Ok(out)
            }
            C::BlockEmission { rao } => {
                peer(origin, &[Peer::Ledger])?;
                Ok(vec![GovernanceEvent::BlockEmissionObserved(
                    BlockEmissionObserved { rao: *rao },
                )])
            }
            C::LockConfirmed { op } => {
                peer(origin, &[Peer::Ledger])?;
                self.lock_confirmed(op)
            }
            C::LockRefused { op, code } => {
                peer(origin, &[Peer::Ledger])?;
                self.lock_refused(op, code)
            }
            C::RegistrationFunded { op } => {
                peer(origin, &[Peer::Ledger])?;
                let o = self.neuron_ops.get(op).ok_or(R::UnknownOp)?;
                if o.status != NeuronOpStatus::Pending {
                    return Err(R::UnexpectedOutcome);
                }
                if self.active_subnet(o.netuid).is_none() {
                    // dissolved meanwhile: nothing to register, give it back
                    return Ok(vec![GovernanceEvent::NeuronRegistrationFailed(
                        NeuronRegistrationFailed {
                            op: op.clone(),
                            netuid: o.netuid,
                            hotkey: o.hotkey,
                            coldkey: o.coldkey,
                            code: R::SubnetNotExists.code(),
                            refund: o.burn,
                        },
                    )]);
                }
                Ok(vec![GovernanceEvent::NeuronRegistrationFunded(
                    NeuronRegistrationFunded {
                        op: op.clone(),
                        netuid: o.netuid,
                        hotkey: o.hotkey,
                        coldkey: o.coldkey,
                        burn: o.burn,
                        block: self.height,
                    },
                )])
            }
            C::LedgerRejected { op, code } => {
                peer(origin, &[Peer::Ledger])?;
                if self.registrations.contains_key(op) {
                    return self.lock_refused(op, code);
                }
                let o = self.neuron_ops.get(op).ok_or(R::UnknownOp)?;
                if o.status != NeuronOpStatus::Pending {
                    return Err(R::UnexpectedOutcome);
                }
                self.neuron_failed(op, code)
            }
            C::StepRefused { op, code } => {
                peer(origin, &[Peer::Amm, Peer::Consensus])?;
                let from_amm = *origin == Origin::Peer(Peer::Amm);
                if self.registrations.contains_key(op) {
                    return self.opening_refused(op, code, from_amm);
                }
                let o = self.neuron_ops.get(op).ok_or(R::UnknownOp)?;
                // Only consensus has a step after the funding.
                if from_amm || o.status != NeuronOpStatus::Funded {
                    return Err(R::UnexpectedOutcome);
                }
                self.neuron_failed(op, code)
            }
            C::PoolOpened { op } => {
                peer(origin, &[Peer::Amm])?;
                self.opening_step(op, true)
            }
            C::MetagraphOpened { op } => {
                peer(origin, &[Peer::Consensus])?;
                self.opening_step(op, false)
            }
            C::PoolRefused { op, code } => {
                peer(origin, &[Peer::Amm])?;
                self.opening_refused(op, code, true)
            }
            C::MetagraphRefused { op, code } => {
                peer(origin, &[Peer::Consensus])?;
                self.opening_refused(op, code, false)
            }
            C::Market { entries, credits } => {
                peer(origin, &[Peer::Amm])?;
                let entries = entries
                    .iter()
                    .filter(|(n, _, _)| self.subnets.contains_key(n))
                    .cloned()
                    .collect();
                let mut out = vec![GovernanceEvent::MarketObserved(MarketObserved { entries })];
                let credits: Vec<(u16, u64)> = credits
                    .iter()
                    .filter(|(n, _)| self.subnets.contains_key(n))
                    .cloned()
                    .collect();
                if !credits.is_empty() {
                    out.push(GovernanceEvent::EmissionObserved(EmissionObserved {
                        entries: credits,
                    }));
                }
                Ok(out)
            }
            C::EmissionRuleChanged { rule } => {
                peer(origin, &[Peer::Amm])?;
                Ok(vec![GovernanceEvent::EmissionRuleObserved(
                    EmissionRuleObserved { rule: *rule },
                )])
            }
            C::Stakes(StakeReport {
                root,
                hotkey_alpha,
                prices,
                coldkey_alpha,
            }) => {
                peer(origin, &[Peer::Amm])?;
                Ok(vec![GovernanceEvent::StakesObserved(StakesObserved {
                    root: root.clone(),
                    hotkey_alpha: hotkey_alpha.clone(),
                    prices: prices.clone(),
                    coldkey_alpha: coldkey_alpha.clone(),
                })])
            }
            C::EpochSchedule {
                netuid,
                next_epoch_block,
                trigger_pending,
                epoch_ran,
            } => {
                peer(origin, &[Peer::Consensus])?;
                self.epoch_schedule(*netuid, *next_epoch_block, *trigger_pending, *epoch_ran)
            }
            C::NeuronRegistered { op, uid, replaced } => {
                peer(origin, &[Peer::Consensus])?;
                let o = self.neuron_ops.get(op).ok_or(R::UnknownOp)?;
                if o.status != NeuronOpStatus::Funded {
                    return Err(R::UnexpectedOutcome);
                }
                Ok(vec![GovernanceEvent::NeuronRegistered(NeuronRegistered {
                    op: op.clone(),
                    netuid: o.netuid,
                    hotkey: o.hotkey,
                    coldkey: o.coldkey,
                    burn: o.burn,
                    uid: *uid,
                    replaced: *replaced,
                    block: self.height,
                })])
            }
            C::NeuronRegistrationFailed { op, code } => {
                peer(origin, &[Peer::Ledger, Peer::Amm, Peer::Consensus])?;
                let o = self.neuron_ops.get(op).ok_or(R::UnknownOp)?;
                if !matches!(o.status, NeuronOpStatus::Pending | NeuronOpStatus::Funded) {
                    return Err(R::UnexpectedOutcome);
                }
                self.neuron_failed(op, code)
            }

            // ---- users -------------------------------------------------
            C::RegisterNetwork {
                op,
                hotkey,
                identity,
                max_lock_cost,
            } => {
                let who = signed(origin)?;
                self.register_network(who, op, hotkey, identity, *max_lock_cost)
            }
            C::StartCall { netuid } => {
                let who = signed(origin)?;
                let s = self.active_subnet(*netuid).ok_or(R::SubnetNotExists)?;
                if s.owner != who {
                    return Err(R::BadOrigin);
                }
                if s.first_emission_block.is_some() {
                    return Err(R::FirstEmissionBlockNumberAlreadySet);
                }
                if self.height < s.registered_at.saturating_add(self.config.start_call_delay) {
                    return Err(R::NeedWaitingMoreBlocksToStarCall);
                }
                Ok(vec![GovernanceEvent::SubnetStarted(SubnetStarted {
                    netuid: *netuid,
                    first_emission_block: self.height.saturating_add(1),
                })])
            }
            C::SetSubnetOwnerHotkey { netuid, hotkey } => {
                let who = signed(origin)?;
                self.owner_hotkey(*netuid, *hotkey, Some(who))
            }
            C::SetSubnetIdentity { netuid, identity } => {
                let who = signed(origin)?;
                let s = self.active_subnet(*netuid).ok_or(R::SubnetNotExists)?;
                if s.owner != who {
                    return Err(R::NotSubnetOwner);
                }
                identity.validate()?;
                Ok(vec![GovernanceEvent::SubnetIdentitySet(
                    SubnetIdentitySet {
                        netuid: *netuid,
                        identity: identity.clone(),
                    },
                )])
            }
            C::UpdateSymbol { netuid, symbol } => {
                let who = signed(origin)?;
                self.update_symbol(*netuid, *symbol, Some(who))
            }
            C::SetHyperparameter { netuid, param } => {
                let who = signed(origin)?;
                self.set_hyperparameter(*netuid, param, Some(who))
            }
            C::BurnedRegister {
                op,
                netuid,
                hotkey,
                limit_price,
            } => {
                let who = signed(origin)?;
                self.burned_register(who, op, *netuid, *hotkey, *limit_price)
            }
            C::RootRegister { hotkey } => {
                let who = signed(origin)?;
                self.root_register(who, *hotkey)
            }
            C::AdjustSenate { hotkey } => {
                let who = signed(origin)?;
                self.owned_hotkey(&who, hotkey)?;
                if !self.root.members.contains(hotkey) {
                    return Err(R::HotKeyNotRegisteredInSubNet);
                }
                if self.senate.contains(hotkey) {
                    return Err(R::CouldNotJoinSenate);
                }
                let change = self
                    .senate_join(hotkey, None)
                    .ok_or(R::CouldNotJoinSenate)?;
                Ok(vec![GovernanceEvent::SenateChanged(change)])
            }
            C::DecreaseTake { hotkey, take } => {
                let who = signed(origin)?;
                self.change_take(who, *hotkey, *take, false)
            }
            C::IncreaseTake { hotkey, take } => {
                let who = signed(origin)?;
                self.change_take(who, *hotkey, *take, true)
            }
            C::SetChildren {
                hotkey,
                netuid,
                children,
            } => {
                let who = signed(origin)?;
                self.set_children(who, *hotkey, *netuid, children)
            }
            C::SetChildkeyTake {
                hotkey,
                netuid,
                take,
            } => {
                let who = signed(origin)?;
                self.set_childkey_take(who, *hotkey, *netuid, *take)
            }
            C::LockStake {
                hotkey,
                netuid,
                amount,
            } => {
                let who = signed(origin)?;
                self.lock_stake(who, *hotkey, *netuid, *amount)
            }
            C::SetPerpetualLock { netuid, perpetual } => {
                let who = signed(origin)?;
                let mut l = self
                    .lock_at(&who, *netuid, self.height)
                    .ok_or(R::NoExistingLock)?;
                l.perpetual = *perpetual;
                Ok(vec![self.lock_event(who, *netuid, &l)])
            }
            C::MoveLock {
                destination_hotkey,
                netuid,
            } => {
                let who = signed(origin)?;
                let mut l = self
                    .lock_at(&who, *netuid, self.height)
                    .ok_or(R::NoExistingLock)?;
                let dest_owner = self
                    .hotkey_owner
                    .get(destination_hotkey)
                    .ok_or(R::HotKeyAccountNotExists)?;
                if self.hotkey_owner.get(&l.hotkey) != Some(dest_owner) {
                    l.conviction = 0;
                }
                l.hotkey = *destination_hotkey;
                if self
                    .subnets
                    .get(netuid)
                    .is_some_and(|s| s.owner_hotkey == l.hotkey)
                {
                    l.conviction = l.locked;
                }
                Ok(vec![self.lock_event(who, *netuid, &l)])
            }
            C::Propose { action, duration } => {
                let who = signed(origin)?;
                self.propose(who, action, *duration)
            }
            C::Vote {
                hotkey,
                id,
                approve,
            } => {
                let who = signed(origin)?;
                self.vote(who, *hotkey, *id, *approve)
            }
            C::Close { id } => {
                signed(origin)?;
                self.close(*id)
            }
            C::Admin(action) => {
                let who = signed(origin)?;
                if self.admin != Some(who) {
                    return Err(R::BadOrigin);
                }
                self.execute(action)
            }
            C::HandOverToCollective => {
                let who = signed(origin)?;
                if self.admin != Some(who) {
                    return Err(R::BadOrigin);
                }
                Ok(vec![GovernanceEvent::AuthorityHandedOver(
                    AuthorityHandedOver { former_admin: who },
                )])
            }
        }
    }

    // ---- subnets -------------------------------------------------------

    fn op_is_new(&self, op: &str) -> Result<(), R> {
        valid_op(op)?;
        if self.registrations.contains_key(op) || self.neuron_ops.contains_key(op) {
            return Err(R::DuplicateOp);
        }
        Ok(())
    }

    fn register_network(
        &self,
        who: AccountId,
        op: &str,
        hotkey: &AccountId,
        identity: &Option<SubnetIdentity>,
        max_lock_cost: Option<u64>,
    ) -> Res {
        self.op_is_new(op)?;
        if self.hotkey_owner.get(hotkey).is_some_and(|c| *c != who) {
            return Err(R::NonAssociatedColdKey);
        }
        if self.height < self.config.network_registration_start_block {
            return Err(R::SubNetRegistrationDisabled);
        }
        let in_flight = self.registrations.values().any(|r| r.in_flight());
        if in_flight
            || (self.last_lock_block != 0
                && self.height.saturating_sub(self.last_lock_block)
                    < self.config.network_rate_limit)
        {
            return Err(R::NetworkTxRateLimitExceeded);
        }
        let count = self.subnets.len();
        let prune = if count >= usize::from(self.config.subnet_limit) {
            Some(self.subnet_to_prune().ok_or(R::SubnetLimitReached)?)
        } else {
            None
        };
        let lock_amount = self.lock_cost();
        if max_lock_cost.is_some_and(|m| m < lock_amount) {
            return Err(R::CannotAffordLockCost);
        }
        if let Some(i) = identity {
            i.validate()?;
        }
        let netuid = match prune {
            Some(p) => p,
            None => (1..=MAX_NETUID)
                .find(|n| !self.subnets.contains_key(n))
                .ok_or(R::SubnetLimitReached)?,
        };
        Ok(vec![GovernanceEvent::SubnetRegistrationRequested(
            SubnetRegistrationRequested {
                op: op.to_owned(),
                coldkey: who,
                hotkey: *hotkey,
                netuid,
                lock_amount,
                prune,
                identity: identity.clone(),
                block: self.height,
            },
        )])
    }

    /// The ledger refused the lock of a subnet registration waiting for it.
    fn lock_refused(&self, op: &str, code: &str) -> Res {
        let r = self.registrations.get(op).ok_or(R::UnknownOp)?;
        if r.stage != Stage::Requested {
            return Err(R::UnexpectedOutcome);
        }
        Ok(vec![GovernanceEvent::SubnetRegistrationFailed(
            SubnetRegistrationFailed {
                op: op.to_owned(),
                coldkey: r.coldkey,
                netuid: None,
                code: code.to_owned(),
                refund: 0,
                close_pool: false,
                close_metagraph: false,
                restored_lock_cost: self.last_lock_cost,
                restored_lock_block: self.last_lock_block,
            },
        )])
    }

    /// A neuron registration (pending or funded, checked by the caller)
    /// fails: the ledger refunds the burn if it had taken it.
    fn neuron_failed(&self, op: &str, code: &str) -> Res {
        let o = self.neuron_ops.get(op).ok_or(R::UnknownOp)?;
        let refund = if o.status == NeuronOpStatus::Funded {
            o.burn
        } else {
            0
        };
        Ok(vec![GovernanceEvent::NeuronRegistrationFailed(
            NeuronRegistrationFailed {
                op: op.to_owned(),
                netuid: o.netuid,
                hotkey: o.hotkey,
                coldkey: o.coldkey,
                code: code.to_owned(),
                refund,
            },
        )])
    }

    fn lock_confirmed(&self, op: &str) -> Res {
        let r = self.registrations.get(op).ok_or(R::UnknownOp)?;
        if r.stage != Stage::Requested {
            return Err(R::UnexpectedOutcome);
        }
        let mut out = Vec::new();
        let mut used = self.used_symbols();
        if let Some(p) = r.prune {
            if let Some(s) = self.subnets.get(&p) {
                used.remove(&s.symbol);
                out.push(GovernanceEvent::SubnetDissolved(SubnetDissolved {
                    netuid: p,
                    owner: s.owner,
                    lock: s.lock,
                    reason: DissolveReason::Pruned {
                        by_op: op.to_owned(),
                    },
                }));
            }
        }
        if self.subnets.contains_key(&r.netuid) && r.prune != Some(r.netuid) {
            // The reserved netuid was taken meanwhile: impossible with one
            // saga in flight, refuse rather than overwrite.
            return Err(R::UnexpectedOutcome);
        }
        let symbol = if r.netuid < SYMBOL_COUNT && !used.contains(&r.netuid) {
            r.netuid
        } else {
            (0..SYMBOL_COUNT).find(|s| !used.contains(s)).unwrap_or(0)
        };
        if !self.hotkey_owner.contains_key(&r.hotkey) {
            out.push(GovernanceEvent::HotkeyAssociated(HotkeyAssociated {
                hotkey: r.hotkey,
                coldkey: r.coldkey,
            }));
        }
        out.push(GovernanceEvent::SubnetRegistered(SubnetRegistered {
            op: op.to_owned(),
            netuid: r.netuid,
            owner: r.coldkey,
            owner_hotkey: r.hotkey,
            lock: r.lock_amount,
            symbol,
            block: self.height,
            tempo: SubnetParams::default().tempo,
            burn: TAO,
            identity: r.identity.clone(),
        }));
        Ok(out)
    }

    fn opening_step(&self, op: &str, pool: bool) -> Res {
        let r = self.registrations.get(op).ok_or(R::UnknownOp)?;
        if r.stage != Stage::Locked || (pool && r.pool_open) || (!pool && r.metagraph_open) {
            return Err(R::UnexpectedOutcome);
        }
        let (pool_open, metagraph_open) = if pool {
            (true, r.metagraph_open)
        } else {
            (r.pool_open, true)
        };
        let mut out = vec![GovernanceEvent::SubnetRegistrationProgressed(
            SubnetRegistrationProgressed {
                op: op.to_owned(),
                pool_open,
                metagraph_open,
            },
        )];
        if pool_open && metagraph_open {
            out.push(GovernanceEvent::SubnetOpened(SubnetOpened {
                op: op.to_owned(),
                netuid: r.netuid,
            }));
        }
        Ok(out)
    }

    /// The amm (`pool`) or consensus refused to open its side of a locked
    /// registration that still waits for it.
    fn opening_refused(&self, op: &str, code: &str, pool: bool) -> Res {
        let r = self.registrations.get(op).ok_or(R::UnknownOp)?;
        let opened = if pool { r.pool_open } else { r.metagraph_open };
        if r.stage != Stage::Locked || opened {
            return Err(R::UnexpectedOutcome);
        }
        Ok(vec![GovernanceEvent::SubnetRegistrationFailed(
            SubnetRegistrationFailed {
                op: op.to_owned(),
                coldkey: r.coldkey,
                netuid: Some(r.netuid),
                code: code.to_owned(),
                refund: r.lock_amount,
                close_pool: r.pool_open,
                close_metagraph: r.metagraph_open,
                restored_lock_cost: r.prev_lock_cost,
                restored_lock_block: r.prev_lock_block,
            },
        )])
    }

    /// Owner (`who` = Some) or Root (`who` = None).
    fn owner_hotkey(&self, netuid: u16, hotkey: AccountId, who: Option<AccountId>) -> Res {
        let s = self.active_subnet(netuid).ok_or(R::SubnetNotExists)?;
        if who.is_some_and(|w| w != s.owner) {
            return Err(R::NotSubnetOwner);
        }
        if s.owner_hotkey_changed_at
            .is_some_and(|at| self.height.saturating_sub(at) < OWNER_HOTKEY_RATE_LIMIT)
        {
            return Err(R::TxRateLimitExceeded);
        }
        Ok(vec![GovernanceEvent::SubnetOwnerHotkeySet(
            SubnetOwnerHotkeySet {
                netuid,
                hotkey,
                block: self.height,
            },
        )])
    }

    fn update_symbol(&self, netuid: u16, symbol: u16, who: Option<AccountId>) -> Res {
        let s = self.active_subnet(netuid).ok_or(R::SubnetNotExists)?;
        if who.is_some_and(|w| w != s.owner) {
            return Err(R::NotSubnetOwner);
        }
        if symbol >= SYMBOL_COUNT {
            return Err(R::SymbolDoesNotExist);
        }
        if self.used_symbols().contains(&symbol) {
            return Err(R::SymbolAlreadyInUse);
        }
        Ok(vec![GovernanceEvent::SymbolSet(SymbolSet {
            netuid,
            symbol,
        })])
    }

    // ---- hyperparameters -----------------------------------------------

    /// Owner (`who` = Some(signer)) or Root (`who` = None).
    fn set_hyperparameter(&self, netuid: u16, p: &Hyperparameter, who: Option<AccountId>) -> Res {
        if netuid == 0 {
            return Err(R::NotPermittedOnRootSubnet);
        }
        let s = self.active_subnet(netuid).ok_or(R::SubnetNotExists)?;
        let by_root = who.is_none();
        match p.setter() {
            Setter::Deprecated => return Err(R::Deprecated),
            Setter::Root if !by_root => return Err(R::BadOrigin),
            _ => {}
        }
        if let Some(w) = who {
            if w != s.owner {
                return Err(R::NotSubnetOwner);
            }
        }
        if p.frozen_by_window(by_root) && self.in_freeze_window(netuid) {
            return Err(R::AdminActionProhibitedDuringWeightsWindow);
        }
        if !by_root {
            if let (Some(limit), Some(last)) = (
                p.owner_rate_limit(s.params.tempo, &self.config),
                s.owner_last_set.get(p.name()),
            ) {
                if self.height.saturating_sub(*last) < limit {
                    return Err(R::TxRateLimitExceeded);
                }
            }
        }
        self.check_bounds(netuid, p, by_root)?;
        Ok(vec![GovernanceEvent::HyperparameterSet(
            HyperparameterSet {
                netuid,
                param: p.clone(),
                target: p.target(),
                by_owner: !by_root,
                block: self.height,
            },
        )])
    }

    /// `is_in_admin_freeze_window`: a triggered epoch pending, or fewer
    /// than `AdminFreezeWindow` blocks to the next epoch.
    pub fn in_freeze_window(&self, netuid: u16) -> bool {
        let Some(s) = self.subnets.get(&netuid) else {
            return false;
        };
        if s.trigger_pending {
            return true;
        }
        if s.next_epoch_block == 0 {
            return false;
        }
        s.next_epoch_block.saturating_sub(self.height) < self.config.admin_freeze_window
    }

    fn check_bounds(&self, netuid: u16, p: &Hyperparameter, by_root: bool) -> Result<(), R> {
        use Hyperparameter as H;
        let s = &self.subnets[&netuid];
        let n = s.neurons.len();
        let q = &s.params;
        let one = 1u128 << 64;
        match *p {
            H::Tempo(t) => {
                let ok = if by_root {
                    t > 0
                } else {
                    (MIN_OWNER_TEMPO..=MAX_OWNER_TEMPO).contains(&t)
                };
                if !ok {
                    return Err(R::TempoOutOfBounds);
                }
            }
            H::MaxAllowedUids(v) => {
                if v > MAX_UIDS {
                    return Err(R::MaxAllowedUidsGreaterThanDefaultMaxAllowedUids);
                }
                if v < q.min_allowed_uids {
                    return Err(R::MaxAllowedUidsLessThanMinAllowedUids);
                }
                if usize::from(v) < n {
                    return Err(R::MaxAllowedUIdsLessThanCurrentUIds);
                }
                if v < q.max_allowed_validators {
                    return Err(R::MaxValidatorsLargerThanMaxUIds);
                }
            }
            H::MinAllowedUids(v) => {
                if v >= q.max_allowed_uids {
                    return Err(R::MinAllowedUidsGreaterThanMaxAllowedUids);
                }
                if usize::from(v) >= n {
                    return Err(R::MinAllowedUidsGreaterThanCurrentUids);
                }
            }
            H::MaxAllowedValidators(v) if v > q.max_allowed_uids => {
                return Err(R::MaxValidatorsLargerThanMaxUIds)
            }
            H::ActivityCutoffFactorMilli(v) if !(1_000..=50_000).contains(&v) => {
                return Err(R::ActivityCutoffFactorMilliOutOfBounds)
            }
            H::RevealPeriodEpochs(0) => return Err(R::RevealPeriodTooSmall),
            H::RevealPeriodEpochs(v) if v > 100 => return Err(R::RevealPeriodTooLarge),
            H::AlphaSigmoidSteepness(v) if v < 0 && !by_root => {
                return Err(R::NegativeSigmoidSteepness)
            }
            H::BondsMovingAverage(v) => {
                let max = if by_root { 1_000_000 } else { 975_000 };
                if v > max {
                    return Err(R::BondsMovingAverageMaxReached);
                }
            }
            H::AlphaValues { low, high } => {
                if !q.liquid_alpha_enabled {
                    return Err(R::LiquidAlphaDisabled);
                }
                if high < 1_638 {
                    return Err(R::AlphaHighTooLow);
                }
                if low < 1_638 || low > high {
                    return Err(R::AlphaLowOutOfRange);
                }
            }
            H::MinBurn(v) if v >= TAO || v >= q.max_burn => return Err(R::ValueNotInBounds),
            H::MaxBurn(v) if v <= TAO / 10 || v <= q.min_burn => return Err(R::ValueNotInBounds),
            H::BurnHalfLife(v) if !(1..=36_100).contains(&v) => return Err(R::ValueNotInBounds),
            H::BurnIncreaseMult(v) if !(one..=3 * one).contains(&v) => {
                return Err(R::ValueNotInBounds)
            }
            H::ImmuneOwnerUidsLimit(v) if !(1..=10).contains(&v) => {
                return Err(R::ValueNotInBounds)
            }
            H::MinChildkeyTake(v)
                if v < self.config.min_childkey_take || v > self.config.max_childkey_take =>
            {
                return Err(R::ValueNotInBounds)
            }
            H::FeeRate(v) if v > 10_000 => return Err(R::ValueNotInBounds),
            H::RootClaimThreshold(v) if v > 10_000_000 => return Err(R::ValueNotInBounds),
            _ => {}
        }
        Ok(())
    }

    // ---- neurons -------------------------------------------------------

    fn burned_register(
        &self,
        who: AccountId,
        op: &str,
        netuid: u16,
        hotkey: AccountId,
        limit_price: Option<u64>,
    ) -> Res {
        self.op_is_new(op)?;
        if netuid == 0 {
            return Err(R::RegistrationNotPermittedOnRootSubnet);
        }
        let s = self.active_subnet(netuid).ok_or(R::SubnetNotExists)?;
        if !s.params.network_registration_allowed {
            return Err(R::SubNetRegistrationDisabled);
        }
        if s.neurons.contains_key(&hotkey) || s.pending_neurons.contains(&hotkey) {
            return Err(R::HotKeyAlreadyRegisteredInSubNet);
        }
        if limit_price.is_some_and(|l| s.burn > l) {
            return Err(R::RegistrationPriceLimitExceeded);
        }
        let owner = self.hotkey_owner.get(&hotkey);
        if owner.is_some_and(|c| *c != who) {
            return Err(R::NonAssociatedColdKey);
        }
        let max = usize::from(s.params.max_allowed_uids);
        if max == 0 {
            return Err(R::NoNeuronIdAvailable);
        }
        if s.neurons.len() + s.pending_neurons.len() >= max {
            let immortal = self.owner_immortal(netuid);
            let prunable = s.neurons.keys().filter(|h| !immortal.contains(*h)).count();
            if prunable <= s.pending_neurons.len() {
                return Err(R::NoNeuronIdAvailable);
            }
        }
        let mut out = Vec::new();
        if owner.is_none() {
            out.push(GovernanceEvent::HotkeyAssociated(HotkeyAssociated {
                hotkey,
                coldkey: who,
            }));
        }
        let new_burn = math::bump_burn(
            s.burn,
            s.params.burn_increase_mult_bits,
            s.params.min_burn,
            s.params.max_burn,
        );
        out.push(GovernanceEvent::NeuronRegistrationRequested(
            NeuronRegistrationRequested {
                op: op.to_owned(),
                netuid,
                hotkey,
                coldkey: who,
                burn: s.burn,
                new_burn,
                block: self.height,
            },
        ));
        Ok(out)
    }

    // ---- root ----------------------------------------------------------

    fn root_register(&self, who: AccountId, hotkey: AccountId) -> Res {
        if !self.root.exists {
            return Err(R::RootNetworkDoesNotExist);
        }
        let this_block = if self.root.regs_block.0 == self.height {
            self.root.regs_block.1
        } else {
            0
        };
        if this_block >= self.config.root_max_registrations_per_block {
            return Err(R::TooManyRegistrationsThisBlock);
        }
        if u32::from(self.root.regs_interval)
            >= 3 * u32::from(self.config.root_target_registrations_per_interval)
        {
            return Err(R::TooManyRegistrationsThisInterval);
        }
        if self.root.members.contains(&hotkey) {
            return Err(R::HotKeyAlreadyRegisteredInSubNet);
        }
        let stake = |h: &AccountId| self.root_stake.get(h).copied().unwrap_or(0);
        let (uid, replaced) = if self.root.members.len() < ROOT_MAX_UIDS {
            (self.root.members.len(), None)
        } else {
            // the weakest: lowest root stake, first uid on ties
            let (uid, weakest) = self
                .root
                .members
                .iter()
                .enumerate()
                .min_by_key(|(i, h)| (stake(h), *i))
                .map(|(i, h)| (i, *h))
                .ok_or(R::StakeTooLowForRoot)?;
            if stake(&hotkey) <= stake(&weakest) {
                return Err(R::StakeTooLowForRoot);
            }
            (uid, Some(weakest))
        };
        let mut out = Vec::new();
        if !self.hotkey_owner.contains_key(&hotkey) {
            out.push(GovernanceEvent::HotkeyAssociated(HotkeyAssociated {
                hotkey,
                coldkey: who,
            }));
        }
        out.push(GovernanceEvent::RootRegistered(RootRegistered {
            hotkey,
            coldkey: who,
            uid: uid as u16,
            replaced,
            block: self.height,
        }));
        if !self.delegates.contains_key(&hotkey) {
            out.push(GovernanceEvent::DelegateTakeSet(DelegateTakeSet {
                hotkey,
                take: self.config.default_delegate_take,
                block: self.height,
                forced: true,
            }));
        }
        let leaving = replaced.filter(|r| self.senate.contains(r));
        if let Some(change) = self.senate_join(&hotkey, leaving) {
            out.push(GovernanceEvent::SenateChanged(change));
        } else if let Some(l) = leaving {
            out.push(GovernanceEvent::SenateChanged(SenateChanged {
                joined: None,
                left: Some(l),
            }));
        }
        Ok(out)
    }

    /// Senate v2: a free seat, or the seat of the senator with the lowest
    /// root stake if `hotkey` has strictly more. `leaving` has already lost
    /// its seat (replaced on root).
    fn senate_join(&self, hotkey: &AccountId, leaving: Option<AccountId>) -> Option<SenateChanged> {
        let seats: Vec<AccountId> = self
            .senate
            .iter()
            .filter(|h| Some(**h) != leaving)
            .copied()
            .collect();
        if seats.len() < SENATE_MAX {
            return Some(SenateChanged {
                joined: Some(*hotkey),
                left: leaving,
            });
        }
        let stake = |h: &AccountId| self.root_stake.get(h).copied().unwrap_or(0);
        let weakest = seats.iter().min_by_key(|h| stake(h)).copied()?;
        if stake(hotkey) > stake(&weakest) {
            Some(SenateChanged {
                joined: Some(*hotkey),
                left: Some(weakest),
            })
        } else {
            None
        }
    }

    // ---- delegation ----------------------------------------------------

    fn owned_hotkey(&self, who: &AccountId, hotkey: &AccountId) -> Result<(), R> {
        match self.hotkey_owner.get(hotkey) {
            None => Err(R::HotKeyAccountNotExists),
            Some(c) if c != who => Err(R::NonAssociatedColdKey),
            Some(_) => Ok(()),
        }
    }

    fn change_take(&self, who: AccountId, hotkey: AccountId, take: u16, increase: bool) -> Res {
        self.owned_hotkey(&who, &hotkey)?;
        let current = self.delegate_take(&hotkey);
        if increase {
            if take <= current {
                return Err(R::DelegateTakeTooLow);
            }
            if take > self.config.max_delegate_take {
                return Err(R::DelegateTakeTooHigh);
            }
            let last = self.delegates.get(&hotkey).map_or(0, |d| d.last_change);
            let limit = self.config.delegate_take_rate_limit;
            if limit != 0 && last != 0 && self.height.saturating_sub(last) <= limit {
                return Err(R::DelegateTxRateLimitExceeded);
            }
        } else if take >= current || take < self.config.min_delegate_take {
            return Err(R::DelegateTakeTooLow);
        }
        Ok(vec![GovernanceEvent::DelegateTakeSet(DelegateTakeSet {
            hotkey,
            take,
            block: self.height,
            forced: false,
        })])
    }

    fn set_children(
        &self,
        who: AccountId,
        hotkey: AccountId,
        netuid: u16,
        children: &[(u64, AccountId)],
    ) -> Res {
        // The chain's order: who, where, then how often.
        if netuid == 0 {
            return Err(R::RegistrationNotPermittedOnRootSubnet);
        }
        let s = self.active_subnet(netuid).ok_or(R::SubnetNotExists)?;
        if self.hotkey_owner.get(&hotkey) != Some(&who) {
            return Err(R::NonAssociatedColdKey);
        }
        let key = (hotkey, netuid);
        if self
            .children_last_set
            .get(&key)
            .is_some_and(|at| self.height.saturating_sub(*at) < SET_CHILDREN_RATE_LIMIT)
        {
            return Err(R::TxRateLimitExceeded);
        }
        let mut seen = BTreeSet::new();
        for (_, c) in children {
            if !seen.insert(*c) {
                return Err(R::DuplicateChild);
            }
        }
        if children.iter().any(|(_, c)| *c == hotkey) {
            return Err(R::InvalidChild);
        }
        if children.len() > MAX_CHILDREN {
            return Err(R::TooManyChildren);
        }
        let mut sum: u64 = 0;
        for (p, _) in children {
            sum = sum.checked_add(*p).ok_or(R::ProportionOverflow)?;
        }
        for (_, c) in children {
            if self
                .children
                .get(&(*c, netuid))
                .is_some_and(|kids| kids.iter().any(|(_, k)| *k == hotkey))
            {
                return Err(R::ChildParentInconsistency);
            }
        }
        if !children.is_empty()
            && hotkey != s.owner_hotkey
            && self.hotkey_total_stake(&hotkey) < self.config.stake_threshold
        {
            return Err(R::NotEnoughStakeToSetChildkeys);
        }
        let started = s.first_emission_block.is_some();
        let apply_at = if started {
            self.height
                .saturating_add(self.config.pending_childkey_cooldown)
        } else {
            self.height
        };
        let mut out = vec![GovernanceEvent::ChildrenScheduled(ChildrenScheduled {
            hotkey,
            netuid,
            children: children.to_vec(),
            apply_at,
            block: self.height,
        })];
        if !started {
            out.push(GovernanceEvent::ChildrenApplied(ChildrenApplied {
                hotkey,
                netuid,
                children: children.to_vec(),
            }));
        }
        Ok(out)
    }

    fn set_childkey_take(&self, who: AccountId, hotkey: AccountId, netuid: u16, take: u16) -> Res {
        if self.hotkey_owner.get(&hotkey) != Some(&who) {
            return Err(R::NonAssociatedColdKey);
        }
        let s = self.active_subnet(netuid).ok_or(R::SubnetNotExists)?;
        let min = self
            .config
            .min_childkey_take
            .max(s.params.min_childkey_take);
        if take < min || take > self.config.max_childkey_take {
            return Err(R::InvalidChildkeyTake);
        }
        if let Some((current, last)) = self.childkey_take.get(&(hotkey, netuid)) {
            if take > *current
                && self.height.saturating_sub(*last) < self.config.childkey_take_rate_limit
            {
                return Err(R::TxChildkeyTakeRateLimitExceeded);
            }
        }
        Ok(vec![GovernanceEvent::ChildkeyTakeSet(ChildkeyTakeSet {
            hotkey,
            netuid,
            take,
            block: self.height,
        })])
    }

    // ---- locks ---------------------------------------------------------

    fn lock_event(
        &self,
        coldkey: AccountId,
        netuid: u16,
        l: &crate::state::Lock,
    ) -> GovernanceEvent {
        GovernanceEvent::LockUpdated(LockUpdated {
            coldkey,
            netuid,
            hotkey: l.hotkey,
            locked: l.locked,
            conviction: l.conviction,
            perpetual: l.perpetual,
            block: self.height,
        })
    }

    fn lock_stake(&self, who: AccountId, hotkey: AccountId, netuid: u16, amount: u64) -> Res {
        if amount == 0 {
            return Err(R::AmountTooLow);
        }
        if !self.hotkey_owner.contains_key(&hotkey) {
            return Err(R::HotKeyAccountNotExists);
        }
        let s = self.active_subnet(netuid).ok_or(R::SubnetNotExists)?;
        let existing = self.lock_at(&who, netuid, self.height);
        if existing.as_ref().is_some_and(|l| l.hotkey != hotkey) {
            return Err(R::LockHotkeyMismatch);
        }
        let mut l = existing.unwrap_or(crate::state::Lock {
            hotkey,
            locked: 0,
            conviction: 0,
            perpetual: false,
            last_update: self.height,
        });
        l.locked = l.locked.checked_add(amount).ok_or(R::Overflow)?;
        let alpha = self.coldkey_alpha.get(&(who, netuid)).copied().unwrap_or(0);
        if l.locked > alpha {
            return Err(R::InsufficientStakeForLock);
        }
        if s.owner_hotkey == hotkey {
            l.conviction = l.locked;
        }
        Ok(vec![self.lock_event(who, netuid, &l)])
    }

    // ---- epochs: pending children, the conviction takeover -------------

    fn epoch_schedule(&self, netuid: u16, next: u64, pending: bool, ran: bool) -> Res {
        let Some(s) = self.subnets.get(&netuid) else {
            return Ok(Vec::new());
        };
        let mut out = vec![GovernanceEvent::EpochScheduleObserved(
            EpochScheduleObserved {
                netuid,
                next_epoch_block: next,
                trigger_pending: pending,
            },
        )];
        if !ran {
            return Ok(out);
        }
        for ((h, n), p) in &self.pending_children {
            if *n == netuid && p.apply_at <= self.height {
                out.push(GovernanceEvent::ChildrenApplied(ChildrenApplied {
                    hotkey: *h,
                    netuid,
                    children: p.children.clone(),
                }));
            }
        }
        // locks that decayed to dust (mass and conviction < 100) are deleted
        for (c, n) in self.locks.keys() {
            if *n == netuid && self.lock_at(c, netuid, self.height).is_none() {
                out.push(GovernanceEvent::LockRemoved(LockRemoved {
                    coldkey: *c,
                    netuid,
                }));
            }
        }
        if self.config.conviction_takeover
            && s.is_active()
            && s.alpha_out > 0
            && self.height.saturating_sub(s.registered_at) >= ONE_YEAR
        {
            let convictions = self.hotkey_convictions(netuid, self.height);
            let total: u128 = convictions.values().map(|c| u128::from(*c)).sum();
            if total * 10 >= u128::from(s.alpha_out) {
                let king = convictions
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map(|(h, _)| *h);
                if let Some(king) = king {
                    if let Some(coldkey) = self.hotkey_owner.get(&king) {
                        if *coldkey != s.owner {
                            out.push(GovernanceEvent::SubnetOwnerChanged(SubnetOwnerChanged {
                                netuid,
                                old_owner: s.owner,
                                new_owner: *coldkey,
                                new_owner_hotkey: king,
                            }));
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    // ---- the collective ------------------------------------------------

    fn propose(&self, who: AccountId, action: &AdminAction, duration: u64) -> Res {
        if !self.triumvirate.contains(&who) {
            return Err(R::NotMember);
        }
        if duration < self.config.motion_duration {
            return Err(R::DurationLowerThanConfiguredMotionDuration);
        }
        let hash = *blake3::hash(&codec::encode(action)).as_bytes();
        if self.proposals.values().any(|p| p.hash == hash) {
            return Err(R::DuplicateProposal);
        }
        if self.proposals.len() >= MAX_ACTIVE_PROPOSALS {
            return Err(R::TooManyActiveProposals);
        }
        let voters: Vec<(AccountId, u128)> = self
            .senate
            .iter()
            .map(|h| {
                let w = match self.config.vote_weighting {
                    VoteWeighting::OneSeatOneVote => 1,
                    VoteWeighting::StakeWeighted => {
                        u128::from(self.root_stake.get(h).copied().unwrap_or(0))
                    }
                };
                (*h, w)
            })
            .collect();
        let total: u128 = voters.iter().map(|(_, w)| *w).sum();
        Ok(vec![GovernanceEvent::ProposalCreated(ProposalCreated {
            id: self.next_proposal_id,
            proposer: who,
            action: action.clone(),
            hash,
            voters,
            threshold: total / 2 + 1,
            end: self.height.saturating_add(duration),
        })])
    }

    fn vote(&self, who: AccountId, hotkey: AccountId, id: u64, approve: bool) -> Res {
        let p = self.proposals.get(&id).ok_or(R::ProposalNotExists)?;
        if self.hotkey_owner.get(&hotkey) != Some(&who) {
            return Err(R::NonAssociatedColdKey);
        }
        let w = p.weight_of(&hotkey).ok_or(R::NotSenateMember)?;
        let (mut yes, mut no) = p.tally();
        if approve {
            if p.ayes.contains(&hotkey) {
                return Err(R::DuplicateVote);
            }
            yes += w;
            if p.nays.contains(&hotkey) {
                no -= w;
            }
        } else {
            if p.nays.contains(&hotkey) {
                return Err(R::DuplicateVote);
            }
            no += w;
            if p.ayes.contains(&hotkey) {
                yes -= w;
            }
        }
        Ok(vec![GovernanceEvent::Voted(Voted {
            id,
            hotkey,
            approve,
            yes,
            no,
        })])
    }

    fn close(&self, id: u64) -> Res {
        let p = self.proposals.get(&id).ok_or(R::ProposalNotExists)?;
        let (yes, no) = p.tally();
        let total = p.total();
        let outcome = if yes >= p.threshold {
            ProposalOutcome::Approved
        } else if total.saturating_sub(no) < p.threshold {
            ProposalOutcome::Rejected
        } else if self.height < p.end {
            return Err(R::TooEarlyToCloseProposal);
        } else {
            // abstentions count as nay (the prime's default vote)
            ProposalOutcome::Rejected
        };
        let approved = outcome == ProposalOutcome::Approved;
        let mut out = vec![GovernanceEvent::ProposalClosed(ProposalClosed {
            id,
            outcome,
            yes,
            no,
        })];
        if approved {
            // execution needs yes/seats > ½ (EnsureProportionMoreThan<1,2>)
            let result = if yes * 2 > total {
                self.execute(&p.action)
            } else {
                Err(R::BadOrigin)
            };
            match result {
                Ok(events) => out.extend(events),
                Err(e) => out.push(GovernanceEvent::ProposalExecutionFailed(
                    ProposalExecutionFailed { id, code: e.code() },
                )),
            }
        }
        Ok(out)
    }

    /// An admin action as the governance authority (Root).
    fn execute(&self, action: &AdminAction) -> Res {
        match action {
            AdminAction::SetHyperparameter { netuid, param } => {
                self.set_hyperparameter(*netuid, param, None)
            }
            AdminAction::SetGlobal(p) => {
                p.validate(&self.config)?;
                Ok(vec![GovernanceEvent::GlobalParamSet(GlobalParamSet {
                    param: p.clone(),
                })])
            }
            AdminAction::DissolveSubnet { netuid } => {
                let s = self.active_subnet(*netuid).ok_or(R::SubnetNotExists)?;
                Ok(vec![GovernanceEvent::SubnetDissolved(SubnetDissolved {
                    netuid: *netuid,
                    owner: s.owner,
                    lock: s.lock,
                    reason: DissolveReason::Authority,
                })])
            }
            AdminAction::SetTriumvirate { members } => {
                if members.len() > TRIUMVIRATE_MAX || has_dup(members) {
                    return Err(R::InvalidValue);
                }
                Ok(vec![GovernanceEvent::TriumvirateSet(TriumvirateSet {
                    members: members.clone(),
                })])
            }
            AdminAction::VetoProposal { id } => {
                let p = self.proposals.get(id).ok_or(R::ProposalNotExists)?;
                let (yes, no) = p.tally();
                Ok(vec![GovernanceEvent::ProposalClosed(ProposalClosed {
                    id: *id,
                    outcome: ProposalOutcome::Vetoed,
                    yes,
                    no,
                })])
            }
            AdminAction::SetSubnetOwnerHotkey { netuid, hotkey } => {
                self.owner_hotkey(*netuid, *hotkey, None)
            }
            AdminAction::UpdateSymbol { netuid, symbol } => {
                self.update_symbol(*netuid, *symbol, None)
            }
        }
    }
}

/// The genesis subnets in netuid order and the owner of each of their
/// hotkeys, by the rules of [`GenesisSubnet`].
#[allow(clippy::type_complexity)]
fn genesis_subnets(
    subnets: &[GenesisSubnet],
) -> Result<(Vec<GenesisSubnet>, BTreeMap<AccountId, AccountId>), R> {
    let mut sorted = subnets.to_vec();
    sorted.sort_by_key(|g| g.netuid);
    if sorted.len() > usize::from(SYMBOL_COUNT) {
        return Err(R::InvalidValue);
    }
    let mut explicit: BTreeMap<AccountId, AccountId> = BTreeMap::new();
    let mut owner_hotkeys: BTreeMap<AccountId, AccountId> = BTreeMap::new();
    let mut previous: Option<u16> = None;
    for g in &sorted {
        if g.netuid == 0 || g.netuid > MAX_NETUID || previous == Some(g.netuid) || g.tempo == 0 {
            return Err(R::InvalidValue);
        }
        previous = Some(g.netuid);
        if has_dup(&g.neurons) || g.neurons.len() > usize::from(MAX_UIDS) {
            return Err(R::InvalidValue);
        }
        for (hotkey, coldkey) in &g.hotkey_owners {
            if !g.neurons.contains(hotkey)
                || explicit
                    .insert(*hotkey, *coldkey)
                    .is_some_and(|c| c != *coldkey)
            {
                return Err(R::InvalidValue);
            }
        }
        if owner_hotkeys
            .insert(g.owner_hotkey, g.owner)
            .is_some_and(|c| c != g.owner)
        {
            return Err(R::InvalidValue);
        }
    }
    let mut owners = explicit;
    for (hotkey, coldkey) in owner_hotkeys {
        if owners.entry(hotkey).or_insert(coldkey) != &coldkey {
            return Err(R::InvalidValue);
        }
    }
    for g in &sorted {
        for hotkey in &g.neurons {
            owners.entry(*hotkey).or_insert(g.owner);
        }
    }
    Ok((sorted, owners))
}

fn has_dup(v: &[AccountId]) -> bool {
    let set: BTreeSet<_> = v.iter().collect();
    set.len() != v.len()
}

fn peer(origin: &Origin, allowed: &[Peer]) -> Result<(), R> {
    match origin {
        Origin::Peer(p) if allowed.contains(p) => Ok(()),
        _ => Err(R::BadOrigin),
    }
}

fn signed(origin: &Origin) -> Result<AccountId, R> {
    match origin {
        Origin::Signed(k) => Ok(*k),
        _ => Err(R::BadOrigin),
    }
}
