//! `decide`: origin checks and dispatch, genesis, parameters, hotkey
//! association, registrations, the answers to governance's steps (the
//! stake locks it mirrors for the unstake guard among them), and the
//! stake weights (consensus) and stake report (governance) sent after
//! every decision. The economics live in `staking`, `coinbase`,
//! `payout` and `claims`. Nothing here mutates the state: every decision
//! runs in a [`Tx`] that is dropped.

use std::collections::BTreeSet;

use keys::AccountId;

use crate::childkeys::{childkey_take_op, children_op};
use crate::command::{Command, CommandBody, Origin, Peer, MAX_OP_LEN};
use crate::event::*;
use crate::fx;
use crate::lifecycle::{dissolve_op, Step};
use crate::params::{AmmGenesis, SubnetParam};
use crate::rejection::Rejection;
use crate::state::{Amm, OpStatus, Tx};

pub(crate) type Decision = Result<(), Rejection>;

fn signed(origin: &Origin) -> Result<AccountId, Rejection> {
    match origin {
        Origin::Signed(who) => Ok(*who),
        _ => Err(Rejection::BadOrigin),
    }
}

fn peer(origin: &Origin, which: Peer) -> Decision {
    match origin {
        Origin::Peer(p) if *p == which => Ok(()),
        _ => Err(Rejection::BadOrigin),
    }
}

/// Op ids of automatic root claims (`root-claim/<height>/<i>`), reserved.
pub(crate) const AUTO_CLAIM_PREFIX: &str = "root-claim/";

/// Op ids of dissolution settlements (`dissolve/<netuid>/<block>`), reserved.
pub(crate) const DISSOLVE_PREFIX: &str = "dissolve/";

/// How the ledger names a refused debit for lack of funds.
const LEDGER_NO_FUNDS: &[&str] = &["InsufficientBalance", "Expendability"];

impl Amm {
    /// The events of `cmd`, decided in a layer over this state (each event
    /// is applied to the layer as it is emitted, and the layer dropped).
    pub(crate) fn decide_command(&self, cmd: &Command) -> Result<Vec<AmmEvent>, Rejection> {
        Tx::new(self).decide(cmd)
    }

    /// [`Amm::decide_command`] run in this state itself ([`Tx::in_place`]): the
    /// events, with the state already changed by them; on a rejection the
    /// state is restored and unchanged.
    pub(crate) fn decide_in_place(&mut self, cmd: &Command) -> Result<Vec<AmmEvent>, Rejection> {
        let scalars = {
            let mut tx = Tx::in_place(self);
            match tx.decide(cmd) {
                Ok(events) => Ok((events, tx.finish())),
                Err(e) => {
                    tx.rollback();
                    Err(e)
                }
            }
        };
        let (events, scalars) = scalars?;
        self.set_scalars(scalars);
        Ok(events)
    }
}

impl Tx<'_> {
    /// A whole decision in this transaction: the command, then the stake
    /// weights and figures it changed, reported; the events emitted.
    fn decide(&mut self, cmd: &Command) -> Result<Vec<AmmEvent>, Rejection> {
        self.dispatch(cmd)?;
        self.report_stake_weights();
        self.report_stakes();
        Ok(std::mem::take(&mut self.events))
    }

    fn dispatch(&mut self, cmd: &Command) -> Decision {
        if let CommandBody::ApplyGenesis(g) = &cmd.body {
            if cmd.origin != Origin::Genesis {
                return Err(Rejection::BadOrigin);
            }
            return self.genesis(g);
        }
        if !self.genesis_applied {
            return Err(Rejection::GenesisNotApplied);
        }
        match &cmd.body {
            CommandBody::ApplyGenesis(_) => unreachable!("handled above"),
            CommandBody::Block { height, minted } => {
                peer(&cmd.origin, Peer::Ledger)?;
                self.block(*height, *minted)
            }
            CommandBody::StakeFunded { op } => {
                peer(&cmd.origin, Peer::Ledger)?;
                self.stake_funded(op)
            }
            CommandBody::LedgerRejected { op, code, message } => {
                peer(&cmd.origin, Peer::Ledger)?;
                let Some(OpStatus::Pending { request }) = self.ops.get(op).cloned() else {
                    return Err(Rejection::UnknownOperation);
                };
                let code = if LEDGER_NO_FUNDS.contains(&code.as_str()) {
                    Rejection::NotEnoughBalanceToStake.code().to_owned()
                } else {
                    code.clone()
                };
                self.emit(AmmEvent::StakeFailed(StakeFailed {
                    op: op.clone(),
                    coldkey: request.coldkey,
                    netuid: request.netuid,
                    funded: 0,
                    code,
                    message: message.clone(),
                }));
                Ok(())
            }
            CommandBody::Epoch {
                netuid,
                block,
                hotkeys,
                incentive,
                dividend,
            } => {
                peer(&cmd.origin, Peer::Consensus)?;
                self.epoch(*netuid, *block, hotkeys, incentive, dividend)
            }
            CommandBody::NeuronRegistered {
                netuid,
                hotkey,
                replaced,
            } => {
                peer(&cmd.origin, Peer::Consensus)?;
                if self.subnet(*netuid).is_none() {
                    return Err(Rejection::SubnetNotExists);
                }
                self.emit(AmmEvent::NeuronSeen(NeuronSeen {
                    netuid: *netuid,
                    hotkey: *hotkey,
                    replaced: *replaced,
                }));
                Ok(())
            }
            CommandBody::AddStake {
                op,
                hotkey,
                netuid,
                amount,
                limit_price,
                allow_partial,
            } => {
                let who = signed(&cmd.origin)?;
                self.add_stake(
                    who,
                    op,
                    *hotkey,
                    *netuid,
                    *amount,
                    *limit_price,
                    *allow_partial,
                )
            }
            CommandBody::RemoveStake {
                op,
                hotkey,
                netuid,
                alpha,
                limit_price,
                allow_partial,
            } => {
                let who = signed(&cmd.origin)?;
                self.remove_stake(
                    who,
                    op,
                    *hotkey,
                    *netuid,
                    *alpha,
                    *limit_price,
                    *allow_partial,
                )
            }
            CommandBody::UnstakeAll { op, hotkey } => {
                let who = signed(&cmd.origin)?;
                self.unstake_all(who, op, *hotkey)
            }
            CommandBody::MoveStake {
                op,
                origin_hotkey,
                destination_hotkey,
                origin_netuid,
                destination_netuid,
                alpha,
            } => {
                let who = signed(&cmd.origin)?;
                self.check_new_op(op)?;
                if origin_hotkey == destination_hotkey && origin_netuid == destination_netuid {
                    return Err(Rejection::SameNetuid);
                }
                self.transition(
                    op,
                    (who, *origin_hotkey, *origin_netuid),
                    (who, *destination_hotkey, *destination_netuid),
                    *alpha,
                    None,
                )
            }
            CommandBody::TransferStake {
                op,
                destination_coldkey,
                hotkey,
                origin_netuid,
                destination_netuid,
                alpha,
            } => {
                let who = signed(&cmd.origin)?;
                self.check_new_op(op)?;
                if who == *destination_coldkey && origin_netuid == destination_netuid {
                    return Err(Rejection::SameNetuid);
                }
                self.transition(
                    op,
                    (who, *hotkey, *origin_netuid),
                    (*destination_coldkey, *hotkey, *destination_netuid),
                    *alpha,
                    None,
                )
            }
            CommandBody::SwapStake {
                op,
                hotkey,
                origin_netuid,
                destination_netuid,
                alpha,
                limit_price,
                allow_partial,
            } => {
                let who = signed(&cmd.origin)?;
                self.check_new_op(op)?;
                if origin_netuid == destination_netuid {
                    return Err(Rejection::SameNetuid);
                }
                self.transition(
                    op,
                    (who, *hotkey, *origin_netuid),
                    (who, *hotkey, *destination_netuid),
                    *alpha,
                    limit_price.map(|l| (l, *allow_partial)),
                )
            }
            CommandBody::RecycleAlpha {
                op,
                hotkey,
                netuid,
                alpha,
            } => {
                let who = signed(&cmd.origin)?;
                self.recycle_or_burn(who, op, *hotkey, *netuid, *alpha, true)
            }
            CommandBody::BurnAlpha {
                op,
                hotkey,
                netuid,
                alpha,
            } => {
                let who = signed(&cmd.origin)?;
                self.recycle_or_burn(who, op, *hotkey, *netuid, *alpha, false)
            }
            CommandBody::ClaimRoot { op, netuids } => {
                let who = signed(&cmd.origin)?;
                self.check_new_op(op)?;
                self.claim_root(who, op, netuids, false)?;
                if !self
                    .events
                    .iter()
                    .any(|e| matches!(e, AmmEvent::RootClaimed(_)))
                {
                    return Err(Rejection::NothingToClaim);
                }
                self.emit(AmmEvent::OpCompleted(OpCompleted {
                    op: op.clone(),
                    summary: "root dividends claimed".into(),
                }));
                Ok(())
            }
            CommandBody::SetRootClaimType { claim_type } => {
                let who = signed(&cmd.origin)?;
                self.emit(AmmEvent::RootClaimTypeSet(RootClaimTypeSet {
                    coldkey: who,
                    claim_type: claim_type.clone(),
                }));
                Ok(())
            }
            CommandBody::AssociateHotkey { hotkey } => {
                let who = signed(&cmd.origin)?;
                match self.hotkeys.get(hotkey) {
                    Some(h) if h.owner == who => Ok(()),
                    Some(_) => Err(Rejection::NonAssociatedColdKey),
                    None => {
                        self.emit(AmmEvent::HotkeyAssociated(HotkeyAssociated {
                            hotkey: *hotkey,
                            coldkey: who,
                        }));
                        Ok(())
                    }
                }
            }
            CommandBody::SetParam { netuid, param } => {
                // A genesis choice (the network genesis' emission rule):
                // start-up only, before the first block.
                if cmd.origin == Origin::Genesis {
                    if self.started || !self.genesis_applied {
                        return Err(Rejection::BadOrigin);
                    }
                    return self.set_param(*netuid, param);
                }
                if cmd.origin == Origin::Peer(Peer::Governance) {
                    let r = self.set_param(*netuid, param);
                    return self.answer(
                        || format!("param/{netuid}"),
                        r.map_err(|e| (e.clone(), e.to_string())),
                    );
                }
                let who = signed(&cmd.origin)?;
                if self.params.admin != Some(who) {
                    return Err(Rejection::NotAdmin);
                }
                self.set_param(*netuid, param)
            }
            CommandBody::OpenSubnet {
                op,
                netuid,
                owner,
                owner_hotkey,
                lock,
                block,
            } => {
                peer(&cmd.origin, Peer::Governance)?;
                let r = self.open_pool(op, *netuid, *owner, *owner_hotkey, *lock, *block);
                self.answer(|| op.clone(), r)
            }
            CommandBody::CloseSubnet { op, netuid } => {
                peer(&cmd.origin, Peer::Governance)?;
                let r = self.close_pool(op, *netuid);
                self.answer(|| op.clone(), r)
            }
            CommandBody::DissolveSubnet { netuid, block } => {
                peer(&cmd.origin, Peer::Governance)?;
                let op = dissolve_op(*netuid, *block);
                let r = self.dissolve(&op, *netuid, *block);
                self.answer(|| op, r)
            }
            CommandBody::RegistrationBurn {
                op,
                netuid,
                coldkey,
                amount,
            } => {
                peer(&cmd.origin, Peer::Governance)?;
                let r = self.registration_burn(op, *netuid, *coldkey, *amount);
                self.answer(|| op.clone(), r)
            }
            CommandBody::SetOwner {
                netuid,
                owner,
                owner_hotkey,
            } => {
                peer(&cmd.origin, Peer::Governance)?;
                let r = self.set_owner(*netuid, *owner, *owner_hotkey);
                self.answer(|| format!("owner/{netuid}"), r)
            }
            CommandBody::HotkeyOwner { hotkey, coldkey } => {
                peer(&cmd.origin, Peer::Governance)?;
                let r = match self.hotkeys.get(hotkey) {
                    Some(h) if h.owner == *coldkey => Ok(()),
                    Some(h) => Err((
                        Rejection::NonAssociatedColdKey,
                        format!("hotkey {hotkey} belongs to {}", h.owner),
                    )),
                    None => {
                        self.emit(AmmEvent::HotkeyAssociated(HotkeyAssociated {
                            hotkey: *hotkey,
                            coldkey: *coldkey,
                        }));
                        Ok(())
                    }
                };
                self.answer(|| format!("hotkey/{hotkey}"), r)
            }
            CommandBody::SetLock {
                coldkey,
                netuid,
                locked,
                perpetual,
                block,
            } => {
                peer(&cmd.origin, Peer::Governance)?;
                let r = if self.subnet(*netuid).is_none() {
                    Err((
                        Rejection::SubnetNotExists,
                        format!("no subnet {netuid} to lock stake on"),
                    ))
                } else {
                    self.emit(AmmEvent::LockMirrored(LockMirrored {
                        coldkey: *coldkey,
                        netuid: *netuid,
                        locked: *locked,
                        perpetual: *perpetual,
                        block: *block,
                    }));
                    Ok(())
                };
                self.answer(|| format!("lock/{netuid}/{coldkey}"), r)
            }
            CommandBody::ClearLock { coldkey, netuid } => {
                peer(&cmd.origin, Peer::Governance)?;
                if self.locks.contains(&(*netuid, *coldkey)) {
                    self.emit(AmmEvent::LockCleared(LockCleared {
                        coldkey: *coldkey,
                        netuid: *netuid,
                    }));
                }
                Ok(())
            }
            CommandBody::SetUnlockRate { blocks } => {
                peer(&cmd.origin, Peer::Governance)?;
                let r = if *blocks == 0 {
                    Err((Rejection::InvalidValue, "unlock rate 0".to_owned()))
                } else {
                    self.emit(AmmEvent::UnlockRateSet(UnlockRateSet { blocks: *blocks }));
                    Ok(())
                };
                self.answer(|| "unlock-rate".to_owned(), r)
            }
            CommandBody::SetChildren {
                hotkey,
                netuid,
                children,
            } => {
                peer(&cmd.origin, Peer::Governance)?;
                let r = self.set_children(*hotkey, *netuid, children);
                self.answer(|| children_op(*netuid, hotkey), r)
            }
            CommandBody::SetChildkeyTake {
                hotkey,
                netuid,
                take,
            } => {
                peer(&cmd.origin, Peer::Governance)?;
                let r = self.set_childkey_take(*hotkey, *netuid, *take);
                self.answer(|| childkey_take_op(*netuid, hotkey), r)
            }
            CommandBody::SetRootWeights { weights } => {
                let hotkey = signed(&cmd.origin)?;
                self.set_root_weights(hotkey, weights)
            }
        }
    }

    /// `set_root_weights` (see [`CommandBody::SetRootWeights`]).
    fn set_root_weights(&mut self, hotkey: AccountId, weights: &[(u16, u16)]) -> Decision {
        if self.hotkey_alpha(0, &hotkey) < self.params.min_stake.max(1) {
            return Err(Rejection::NotEnoughStakeToSetWeights);
        }
        if weights.is_empty() {
            return Err(Rejection::WeightVecLengthIsLow);
        }
        let mut sorted = weights.to_vec();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(Rejection::DuplicateUids);
        }
        if sorted
            .iter()
            .any(|(n, _)| *n == 0 || self.subnet(*n).is_none())
        {
            return Err(Rejection::UidVecContainInvalidOne);
        }
        if let Some((at, _)) = self.root_weights.get(&hotkey) {
            if self.height < at.saturating_add(self.root_tempo) {
                return Err(Rejection::SettingWeightsTooFast);
            }
        }
        self.emit(AmmEvent::RootWeightsSet(RootWeightsSet {
            hotkey,
            weights: sorted,
            block: self.height,
        }));
        Ok(())
    }

    /// A governance step is answered either way: a refusal becomes a
    /// `GovernanceStepRefused` (the handler emitted nothing before it).
    /// `op` names the step only in a refusal, so it is built only then
    /// (the names hold ss58 account ids, whose encoding costs more than
    /// most steps).
    fn answer(&mut self, op: impl FnOnce() -> String, r: Step) -> Decision {
        if let Err((rejection, message)) = r {
            self.emit(AmmEvent::GovernanceStepRefused(GovernanceStepRefused {
                op: op(),
                code: rejection.code().to_owned(),
                message,
            }));
        }
        Ok(())
    }

    /// An op id a new user operation may take.
    pub(crate) fn check_new_op(&self, op: &str) -> Decision {
        // `root-claim/…` and `dissolve/…` name the amm's own settlements.
        if op.is_empty()
            || op.len() > MAX_OP_LEN
            || op.starts_with(AUTO_CLAIM_PREFIX)
            || op.starts_with(DISSOLVE_PREFIX)
        {
            return Err(Rejection::InvalidOperationId);
        }
        if self.ops.contains(&op.to_owned()) {
            return Err(Rejection::OperationExists);
        }
        Ok(())
    }

    fn genesis(&mut self, g: &AmmGenesis) -> Decision {
        if self.genesis_applied {
            return Err(Rejection::AlreadyApplied);
        }
        let mut seen = std::collections::BTreeSet::new();
        for s in &g.subnets {
            if s.netuid == 0 {
                return Err(Rejection::InvalidGenesis(
                    "netuid 0 is the root pool".into(),
                ));
            }
            if !seen.insert(s.netuid) {
                return Err(Rejection::InvalidGenesis(format!(
                    "netuid {} twice",
                    s.netuid
                )));
            }
        }
        let total: u128 = g.subnets.iter().map(|s| u128::from(s.tao_reserve)).sum();
        if total > u128::from(ledger_core::emission::TOTAL_SUPPLY) {
            return Err(Rejection::InvalidGenesis(
                "pool TAO above the supply".into(),
            ));
        }
        if g.params.fee_rate > g.params.max_fee_rate {
            return Err(Rejection::InvalidGenesis(
                "fee rate above the maximum".into(),
            ));
        }
        self.emit(AmmEvent::GenesisApplied(GenesisApplied {
            genesis: g.clone(),
        }));
        Ok(())
    }

    fn set_param(&mut self, netuid: u16, param: &SubnetParam) -> Decision {
        let global = matches!(
            param,
            SubnetParam::TaoWeight(_)
                | SubnetParam::MinStake(_)
                | SubnetParam::DelegateTake { .. }
                | SubnetParam::CkBurn(_)
                | SubnetParam::EmissionRule(_)
                | SubnetParam::RootTempo(_)
        );
        if !global {
            let s = self.subnet(netuid).ok_or(Rejection::SubnetNotExists)?;
            if s.is_root() {
                return Err(Rejection::InvalidValue);
            }
        }
        match param {
            SubnetParam::FeeRate(v) if *v > self.params.max_fee_rate => {
                return Err(Rejection::InvalidValue)
            }
            SubnetParam::RootTempo(0) => return Err(Rejection::InvalidValue),
            SubnetParam::DelegateTake { hotkey, .. } if !self.hotkeys.contains(hotkey) => {
                return Err(Rejection::HotKeyAccountNotExists)
            }
            _ => {}
        }
        // `do_start_call` also enables the subtoken (new subnets open with
        // it off); only on the first start, so a later toggle stays.
        let enable_subtoken = *param == SubnetParam::StartCall
            && self
                .subnet(netuid)
                .is_some_and(|s| !s.started() && !s.subtoken_enabled);
        self.emit(AmmEvent::ParamSet(ParamSet {
            netuid,
            param: param.clone(),
            block: self.height,
        }));
        if enable_subtoken {
            self.emit(AmmEvent::ParamSet(ParamSet {
                netuid,
                param: SubnetParam::SubtokenEnabled(true),
                block: self.height,
            }));
        }
        Ok(())
    }

    /// `alpha + TaoWeight × root stake` of a hotkey on a subnet, both
    /// after childkey delegation on that subnet
    /// (`get_stake_weights_for_hotkey_on_subnet`, see `childkeys`):
    /// `alpha_inherited + floor(tao_inherited · tw)`.
    pub(crate) fn stake_weight(&self, netuid: u16, hotkey: &AccountId) -> u64 {
        let tw = fx::tao_weight(self.params.tao_weight);
        let tao = self.inherited(netuid, 0, hotkey);
        let root = fx::floor(fx::mul(fx::u96(tao), tw));
        self.inherited(netuid, netuid, hotkey).saturating_add(root)
    }

    /// Sends consensus the stake weights this decision changed.
    fn report_stake_weights(&mut self) {
        if self.events.is_empty() {
            return;
        }
        let mut candidates: BTreeSet<(u16, AccountId)> = self.touched_weights.clone();
        let touched: Vec<(u16, AccountId)> = if self.touched_all {
            let mut all: Vec<(u16, AccountId)> = self.pools.keys_in(..);
            all.extend(self.reported.keys_in(..));
            all.extend(self.children.keys_in(..));
            all.extend(self.parents.keys_in(..));
            all
        } else {
            self.touched.iter().copied().collect()
        };
        for (n, h) in touched {
            if n != 0 {
                // A parent's alpha moves its children's weights too.
                candidates.insert((n, h));
                for (_, c) in self.children_of(n, &h) {
                    candidates.insert((n, *c));
                }
                continue;
            }
            // A root stake change moves the hotkey's weight on every subnet
            // where it is registered, staked, has childkeys or was reported,
            // and its children's weights there.
            for m in self.netuids() {
                if m == 0 {
                    continue;
                }
                let registered = self.subnet(m).is_some_and(|s| s.neurons.contains(&h));
                let kids = self.children_of(m, &h);
                if registered
                    || self.pool_of(m, &h).is_some()
                    || !kids.is_empty()
                    || !self.parents_of(m, &h).is_empty()
                    || self.reported.contains(&(m, h))
                {
                    candidates.insert((m, h));
                }
                for (_, c) in kids {
                    candidates.insert((m, *c));
                }
            }
        }
        let mut entries = Vec::new();
        for (n, h) in candidates {
            if self.subnet(n).is_none() {
                continue;
            }
            let w = self.stake_weight(n, &h);
            let before = self.reported.get(&(n, h)).copied().unwrap_or(0);
            if w != before {
                entries.push((n, h, w));
            }
        }
        if !entries.is_empty() {
            self.emit(AmmEvent::StakeWeights(StakeWeights { entries }));
        }
    }

    /// Sends governance the stake figures this decision changed
    /// ([`StakeReport`]): root stakes, the alpha of every pool whose value
    /// changed (`touched` and `revalued`), the spot price of every subnet
    /// whose price changed, and the coldkey alpha of every holder whose
    /// own shares changed and every holder (before and after) of a pool
    /// revalued without its shares (a credit such as an epoch payout, or
    /// the pool's removal). Governance values hotkeys from the alpha and
    /// prices when it checks a threshold (v1 sent every staked hotkey's
    /// value on every price move, i.e. every block).
    ///
    /// A deposit or withdrawal by one holder can raise another holder's
    /// floored value by a rounding rao (shares are minted rounded down and
    /// burnt rounded up, so the others never lose; with `SHARES_PER_RAO`
    /// = 2^32 this happens about once in 2^32 holder-operations). Those are
    /// not looked for here: checking them means visiting every nominator of
    /// the hotkey on every stake (~0.5 ms at 1000 nominators). They reach
    /// governance with the pool's next revaluation, so its mirror can
    /// understate a holder by rounding dust until then, never overstate.
    fn report_stakes(&mut self) {
        if self.events.is_empty() {
            return;
        }
        let mut roots: BTreeSet<AccountId> = BTreeSet::new();
        let mut coldkeys: BTreeSet<(AccountId, u16)> = BTreeSet::new();
        let pools: BTreeSet<(u16, AccountId)> =
            self.touched.union(&self.revalued).copied().collect();
        for (n, h) in self.touched.iter() {
            if *n == 0 {
                roots.insert(*h);
            }
        }
        for (n, h) in self.revalued.iter().copied() {
            let before = self.pools.original(&(n, h)).into_iter();
            let after = self.pools.get(&(n, h)).into_iter();
            for p in before.chain(after) {
                coldkeys.extend(p.shares.keys().map(|c| (*c, n)));
            }
        }
        coldkeys.extend(self.holders_changed.iter().map(|(n, _, c)| (*c, *n)));

        let mut report = StakeReport {
            root: Vec::new(),
            hotkey_alpha: Vec::new(),
            prices: Vec::new(),
            coldkey_alpha: Vec::new(),
        };
        for h in roots {
            let v = self.hotkey_alpha(0, &h);
            if v != self.reported_root.get(&h).copied().unwrap_or(0) {
                report.root.push((h, v));
            }
        }
        for (n, h) in pools {
            let before = self.pools.original(&(n, h)).map_or(0, |p| p.value);
            let after = self.hotkey_alpha(n, &h);
            if before != after {
                report.hotkey_alpha.push((h, n, after));
            }
        }
        for n in self.subnets.written_keys() {
            let before = self.subnets.original(&n).map(|s| s.pool().price());
            let after = self.subnet(n).map(|s| s.pool().price());
            if before != after {
                report.prices.push((n, after.map_or(0, |p| p.to_bits())));
            }
        }
        for (c, n) in coldkeys {
            let v = self.coldkey_alpha(&c, n);
            if v != self
                .reported_coldkey_alpha
                .get(&(c, n))
                .copied()
                .unwrap_or(0)
            {
                report.coldkey_alpha.push((c, n, v));
            }
        }
        let empty = report.root.is_empty()
            && report.hotkey_alpha.is_empty()
            && report.prices.is_empty()
            && report.coldkey_alpha.is_empty();
        if !empty {
            self.emit(AmmEvent::StakeReport(report));
        }
    }
}
