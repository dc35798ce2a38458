//! `decide`: origin checks and dispatch, genesis, parameters, hotkey
//! association, registrations, and the stake weights consensus is sent
//! after every decision. The economics live in `staking`, `coinbase`,
//! `payout` and `claims`. Nothing here mutates the state: every decision
//! runs in a [`Tx`] that is dropped.

use keys::AccountId;

use crate::command::{Command, CommandBody, Origin, Peer, MAX_OP_LEN};
use crate::event::*;
use crate::fx;
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

/// How the ledger names a refused debit for lack of funds.
const LEDGER_NO_FUNDS: &[&str] = &["InsufficientBalance", "Expendability"];

impl Amm {
    pub(crate) fn decide_command(&self, cmd: &Command) -> Result<Vec<AmmEvent>, Rejection> {
        let mut tx = Tx::new(self);
        tx.dispatch(cmd)?;
        tx.report_stake_weights();
        Ok(tx.events)
    }
}

impl Tx<'_> {
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
                let who = signed(&cmd.origin)?;
                if self.params.admin != Some(who) {
                    return Err(Rejection::NotAdmin);
                }
                self.set_param(*netuid, param)
            }
        }
    }

    /// An op id a new user operation may take.
    pub(crate) fn check_new_op(&self, op: &str) -> Decision {
        // `root-claim/…` names the automatic claims' settlements.
        if op.is_empty() || op.len() > MAX_OP_LEN || op.starts_with(AUTO_CLAIM_PREFIX) {
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
            SubnetParam::TaoWeight(_) | SubnetParam::MinStake(_) | SubnetParam::DelegateTake { .. }
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
            SubnetParam::DelegateTake { hotkey, .. } if !self.hotkeys.contains(hotkey) => {
                return Err(Rejection::HotKeyAccountNotExists)
            }
            _ => {}
        }
        self.emit(AmmEvent::ParamSet(ParamSet {
            netuid,
            param: param.clone(),
            block: self.height,
        }));
        Ok(())
    }

    /// `alpha stake + TaoWeight × root stake` of a hotkey on a subnet.
    pub(crate) fn stake_weight(&self, netuid: u16, hotkey: &AccountId) -> u64 {
        let tw = fx::tao_weight(self.params.tao_weight);
        let root = fx::floor(fx::mul(fx::u96(self.hotkey_alpha(0, hotkey)), tw));
        self.hotkey_alpha(netuid, hotkey).saturating_add(root)
    }

    /// Sends consensus the stake weights this decision changed.
    fn report_stake_weights(&mut self) {
        if self.events.is_empty() {
            return;
        }
        let mut candidates = std::collections::BTreeSet::new();
        let touched: Vec<(u16, AccountId)> = if self.touched_all {
            let mut all: Vec<(u16, AccountId)> = self.pools.keys_in(..);
            all.extend(self.reported.keys_in(..));
            all
        } else {
            self.touched.iter().copied().collect()
        };
        for (n, h) in touched {
            if n != 0 {
                candidates.insert((n, h));
                continue;
            }
            // A root stake change moves the hotkey's weight on every subnet
            // where it is registered or staked.
            for m in self.netuids() {
                if m == 0 {
                    continue;
                }
                let registered = self.subnet(m).is_some_and(|s| s.neurons.contains(&h));
                if registered || self.pool_of(m, &h).is_some() {
                    candidates.insert((m, h));
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
}
