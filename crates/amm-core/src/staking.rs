//! Staking operations (§3.9) and the stake saga with the ledger.
//!
//! add_stake is a two-step saga: the amm validates what it can and emits
//! `StakeRequested`; the ledger moves the TAO into custody and answers with
//! `StakeFunded` (→ execute against the pool as it is *then*) or
//! `LedgerRejected` (→ the op fails, nothing moved). Everything else (sell,
//! move, transfer, swap, recycle, burn) needs no funding and executes at
//! once, telling the ledger where custody TAO goes in one `TaoSettlement`.
//!
//! The unstake guard (governance.md §5.6): every path where alpha leaves a
//! coldkey's stake on a subnet (remove, unstake_all, cross-subnet move and
//! swap, transfer to another coldkey, recycle, burn, their limit and
//! partial variants) fails with `StakeUnavailable` when it would take the
//! coldkey's alpha on that subnet (over all its hotkeys) below the locked
//! mass governance's lock holds now: the amount is checked first
//! (`Tx::ensure_available`), the holdings after the step again
//! (`Tx::ensure_lock_held`, share rounding). Stakes,
//! payouts and moves between the coldkey's own hotkeys on one subnet are
//! never limited.
//!
//! Fees (§3.5): taonet has no block author, so TAO fees on buys are burned
//! (`TaoDest::Burn`) and alpha fees on sells are burned alpha (they stay in
//! `SubnetAlphaOut`, counted in the subnet's `burned_alpha`).

use keys::AccountId;
use pool::{Direction, Mechanism, SwapRequest, SwapResult};

use crate::decide::Decision;
use crate::event::*;
use crate::rejection::Rejection;
use crate::state::{OpStatus, Subnet, Tx};

impl Tx<'_> {
    /// The subnet, if it exists and its subtoken is enabled.
    pub(crate) fn open_subnet(&self, netuid: u16) -> Result<Subnet, Rejection> {
        let s = self.subnet(netuid).ok_or(Rejection::SubnetNotExists)?;
        if !s.subtoken_enabled {
            return Err(Rejection::SubtokenDisabled);
        }
        Ok(s.clone())
    }

    /// One swap on a subnet's current pool. Stable pools (root) are 1:1 and
    /// keep their alpha reserve (root has none): only `SubnetTAO` moves.
    pub(crate) fn swap_on(
        &self,
        netuid: u16,
        direction: Direction,
        amount: u64,
        limit: Option<u64>,
        drop_fees: bool,
    ) -> Result<SwapResult, Rejection> {
        let s = self.subnet(netuid).ok_or(Rejection::SubnetNotExists)?;
        let pool = s.pool();
        let mut req = match direction {
            Direction::BuyAlphaWithTao => SwapRequest::buy(amount),
            Direction::SellAlpha => SwapRequest::sell(amount),
        };
        if let Some(l) = limit {
            req = req.with_limit(l);
        }
        if drop_fees {
            req = req.without_fees();
        }
        let mut r = pool.swap(req)?;
        if s.mechanism == Mechanism::Stable {
            r.alpha_reserve_after = s.alpha_in;
            r.pool_after.alpha_reserve = s.alpha_in;
        }
        Ok(r)
    }

    /// New `RootClaimed` values after (hotkey, coldkey)'s root stake moves
    /// by `amount` (up when `add`).
    pub(crate) fn claimed_updates(
        &self,
        hotkey: &AccountId,
        coldkey: &AccountId,
        amount: u64,
        add: bool,
    ) -> Vec<ClaimedSet> {
        let mut out = Vec::new();
        for n in self.rated_netuids(hotkey) {
            let d = crate::fx::rate_times(self.rate(hotkey, n), amount);
            let old = self.claimed(n, hotkey, coldkey);
            let new = if add {
                old.saturating_add(d)
            } else {
                old.saturating_sub(d)
            };
            if new != old {
                out.push(ClaimedSet {
                    netuid: n,
                    hotkey: *hotkey,
                    coldkey: *coldkey,
                    claimed: new,
                });
            }
        }
        out
    }

    /// The `StakeAdded` crediting a buy's alpha to (hotkey, coldkey).
    pub(crate) fn stake_added(
        &self,
        op: &str,
        netuid: u16,
        hotkey: AccountId,
        coldkey: AccountId,
        r: &SwapResult,
    ) -> Result<StakeAdded, Rejection> {
        if r.amount_out == 0 {
            return Err(Rejection::AmountTooLow);
        }
        let shares = self
            .pool_of(netuid, &hotkey)
            .cloned()
            .unwrap_or_default()
            .quote_deposit(r.amount_out)?;
        let root_claimed = if netuid == 0 {
            self.claimed_updates(&hotkey, &coldkey, r.amount_out, true)
        } else {
            Vec::new()
        };
        Ok(StakeAdded {
            op: op.to_owned(),
            netuid,
            hotkey,
            coldkey,
            tao: r.amount_in,
            fee: r.fee,
            alpha: r.amount_out,
            shares,
            tao_reserve: r.tao_reserve_after,
            alpha_reserve: r.alpha_reserve_after,
            root_claimed,
        })
    }

    /// The `StakeRemoved` of a sale of `(hotkey, coldkey)`'s alpha.
    fn stake_removed(
        &self,
        op: &str,
        netuid: u16,
        hotkey: AccountId,
        coldkey: AccountId,
        r: &SwapResult,
    ) -> Result<StakeRemoved, Rejection> {
        let removed = r.amount_in + r.fee;
        let shares = self
            .pool_of(netuid, &hotkey)
            .ok_or(Rejection::NotEnoughStakeToWithdraw)?
            .quote_withdraw(&coldkey, removed)?;
        let root_claimed = if netuid == 0 {
            self.claimed_updates(&hotkey, &coldkey, removed, false)
        } else {
            Vec::new()
        };
        Ok(StakeRemoved {
            op: op.to_owned(),
            netuid,
            hotkey,
            coldkey,
            alpha: removed,
            shares,
            alpha_sold: r.amount_in,
            fee_alpha: r.fee,
            tao_out: r.amount_out,
            tao_reserve: r.tao_reserve_after,
            alpha_reserve: r.alpha_reserve_after,
            root_claimed,
        })
    }

    pub(crate) fn settle(&mut self, op: &str, moves: Vec<TaoMove>) {
        let moves: Vec<TaoMove> = moves.into_iter().filter(|m| m.amount > 0).collect();
        if !moves.is_empty() {
            self.emit(AmmEvent::TaoSettlement(TaoSettlement {
                op: op.to_owned(),
                moves,
            }));
        }
    }

    fn done(&mut self, op: &str, summary: String) {
        self.emit(AmmEvent::OpCompleted(OpCompleted {
            op: op.to_owned(),
            summary,
        }));
    }

    // ---- add_stake: request, then execution on funding ---------------------

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add_stake(
        &mut self,
        coldkey: AccountId,
        op: &str,
        hotkey: AccountId,
        netuid: u16,
        amount: u64,
        limit_price: Option<u64>,
        allow_partial: bool,
    ) -> Decision {
        self.check_new_op(op)?;
        let s = self.open_subnet(netuid)?;
        if !self.hotkeys.contains(&hotkey) {
            return Err(Rejection::HotKeyAccountNotExists);
        }
        let pool = s.pool();
        let min = self.params.min_stake;
        if amount < min.saturating_add(pool.fee_for(min, false)) {
            return Err(Rejection::AmountTooLow);
        }
        if s.mechanism == Mechanism::Dynamic && u128::from(amount) > 1000 * u128::from(s.tao) {
            return Err(Rejection::InsufficientLiquidity);
        }
        if let Some(limit) = limit_price {
            let max = pool.max_amount_add(limit)?;
            if !allow_partial && amount > max {
                return Err(Rejection::SlippageTooHigh);
            }
        }
        // Simulate what the stake would get now (the real execution happens
        // on funding, against the pool as it is then).
        let mut req = SwapRequest::buy(amount);
        if let Some(l) = limit_price {
            req = req.with_limit(l);
        }
        let sim = pool.simulate(req)?;
        self.stake_added(op, netuid, hotkey, coldkey, &sim)?;
        self.emit(AmmEvent::StakeRequested(StakeRequested {
            op: op.to_owned(),
            coldkey,
            hotkey,
            netuid,
            amount,
            limit_price,
            allow_partial,
        }));
        Ok(())
    }

    pub(crate) fn stake_funded(&mut self, op: &str) -> Decision {
        let Some(OpStatus::Pending { request }) = self.ops.get(&op.to_owned()).cloned() else {
            return Err(Rejection::UnknownOperation);
        };
        match self.plan_stake(&request) {
            Ok((added, moves)) => {
                let summary = format!(
                    "staked {} rao on netuid {}: {} alpha (fee {}, refund {})",
                    added.tao,
                    added.netuid,
                    added.alpha,
                    added.fee,
                    moves
                        .iter()
                        .filter(|m| matches!(m.to, TaoDest::Account(_)))
                        .map(|m| m.amount)
                        .sum::<u64>()
                );
                self.emit(AmmEvent::StakeAdded(added));
                self.settle(op, moves);
                self.done(op, summary);
            }
            Err(rej) => self.emit(AmmEvent::StakeFailed(StakeFailed {
                op: op.to_owned(),
                coldkey: request.coldkey,
                netuid: request.netuid,
                funded: request.amount,
                code: rej.code().to_owned(),
                message: rej.to_string(),
            })),
        }
        Ok(())
    }

    /// Executes a funded stake on the current pool, or says why it cannot.
    fn plan_stake(&self, r: &StakeRequested) -> Result<(StakeAdded, Vec<TaoMove>), Rejection> {
        self.open_subnet(r.netuid)?;
        if !self.hotkeys.contains(&r.hotkey) {
            return Err(Rejection::HotKeyAccountNotExists);
        }
        let res = self.swap_on(
            r.netuid,
            Direction::BuyAlphaWithTao,
            r.amount,
            r.limit_price,
            false,
        )?;
        let used = res.amount_in + res.fee;
        if r.limit_price.is_some() && !r.allow_partial && used < r.amount {
            return Err(Rejection::SlippageTooHigh);
        }
        let added = self.stake_added(&r.op, r.netuid, r.hotkey, r.coldkey, &res)?;
        let moves = vec![
            TaoMove {
                from_netuid: r.netuid,
                to: TaoDest::Account(r.coldkey),
                amount: r.amount - used,
            },
            TaoMove {
                from_netuid: r.netuid,
                to: TaoDest::Burn,
                amount: res.fee,
            },
        ];
        Ok((added, moves))
    }

    // ---- selling ------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn remove_stake(
        &mut self,
        coldkey: AccountId,
        op: &str,
        hotkey: AccountId,
        netuid: u16,
        alpha: u64,
        limit_price: Option<u64>,
        allow_partial: bool,
    ) -> Decision {
        self.check_new_op(op)?;
        let s = self.open_subnet(netuid)?;
        if alpha == 0 {
            return Err(Rejection::AmountTooLow);
        }
        let have = self.stake_of(netuid, &hotkey, &coldkey);
        if have == 0 || alpha > have {
            return Err(Rejection::NotEnoughStakeToWithdraw);
        }
        if s.mechanism == Mechanism::Dynamic && u128::from(alpha) > 1000 * u128::from(s.alpha_in) {
            return Err(Rejection::InsufficientLiquidity);
        }
        if let Some(limit) = limit_price {
            let max = s.pool().max_amount_remove(limit)?;
            if !allow_partial && alpha > max {
                return Err(Rejection::SlippageTooHigh);
            }
        }
        let res = self.swap_on(netuid, Direction::SellAlpha, alpha, limit_price, false)?;
        let removed = res.amount_in + res.fee;
        if removed == 0 {
            return Err(Rejection::AmountTooLow);
        }
        if removed < have && res.amount_out < self.params.min_stake {
            return Err(Rejection::AmountTooLow);
        }
        self.ensure_available(&coldkey, netuid, removed)?;
        let ev = self.stake_removed(op, netuid, hotkey, coldkey, &res)?;
        let tao = ev.tao_out;
        self.emit(AmmEvent::StakeRemoved(ev));
        self.ensure_lock_held(&coldkey, netuid)?;
        self.settle(
            op,
            vec![TaoMove {
                from_netuid: netuid,
                to: TaoDest::Account(coldkey),
                amount: tao,
            }],
        );
        self.done(
            op,
            format!(
                "unstaked {removed} alpha on netuid {netuid}: {tao} rao (fee {} alpha)",
                res.fee
            ),
        );
        Ok(())
    }

    pub(crate) fn unstake_all(
        &mut self,
        coldkey: AccountId,
        op: &str,
        hotkey: AccountId,
    ) -> Decision {
        self.check_new_op(op)?;
        let positions: Vec<(u16, AccountId)> = self
            .positions
            .get(&coldkey)
            .map(|s| s.iter().filter(|(_, h)| *h == hotkey).copied().collect())
            .unwrap_or_default();
        let mut moves = Vec::new();
        let mut total = 0u64;
        for (netuid, h) in positions {
            let have = self.stake_of(netuid, &h, &coldkey);
            if have == 0 || self.open_subnet(netuid).is_err() {
                continue;
            }
            // A position the pool cannot take now is left in place.
            let Ok(res) = self.swap_on(netuid, Direction::SellAlpha, have, None, false) else {
                continue;
            };
            let Ok(ev) = self.stake_removed(op, netuid, h, coldkey, &res) else {
                continue;
            };
            // A locked position fails the whole command (nothing moved).
            self.ensure_available(&coldkey, netuid, ev.alpha)?;
            total += ev.tao_out;
            moves.push(TaoMove {
                from_netuid: netuid,
                to: TaoDest::Account(coldkey),
                amount: ev.tao_out,
            });
            self.emit(AmmEvent::StakeRemoved(ev));
            self.ensure_lock_held(&coldkey, netuid)?;
        }
        if !self
            .events
            .iter()
            .any(|e| matches!(e, AmmEvent::StakeRemoved(_)))
        {
            return Err(Rejection::NotEnoughStakeToWithdraw);
        }
        self.settle(op, moves);
        self.done(op, format!("unstaked all of {hotkey}: {total} rao"));
        Ok(())
    }

    // ---- move / transfer / swap -----------------------------------------------

    /// `transition_stake_internal`: (coldkey, hotkey, netuid) → another.
    pub(crate) fn transition(
        &mut self,
        op: &str,
        (c1, h1, n1): (AccountId, AccountId, u16),
        (c2, h2, n2): (AccountId, AccountId, u16),
        alpha: u64,
        limit: Option<(u64, bool)>,
    ) -> Decision {
        let s1 = self.open_subnet(n1)?;
        let s2 = self.open_subnet(n2)?;
        if alpha == 0 {
            return Err(Rejection::AmountTooLow);
        }
        if !self.hotkeys.contains(&h2) {
            return Err(Rejection::HotKeyAccountNotExists);
        }
        let have = self.stake_of(n1, &h1, &c1);
        if have == 0 || alpha > have {
            return Err(Rejection::NotEnoughStakeToWithdraw);
        }
        let min = self.params.min_stake;
        if n1 == n2 {
            // Between hotkeys of one coldkey the coldkey's alpha on the
            // subnet stays: a lock does not mind. To another coldkey it
            // leaves: the chain would move unlocked alpha first, then
            // locked alpha with its conviction to a receiver that accepts
            // locked alpha; locked alpha is not moved here (governance
            // owns the locks), so the transfer may only take available
            // alpha.
            if c1 != c2 {
                self.ensure_available(&c1, n1, alpha)?;
            }
            // A pure share transfer: no swap, no fee.
            let value = pool::fixed64::to_u64_floor(pool::fixed64::mul(
                s1.pool().price(),
                pool::fixed64::from_u64(alpha),
            ));
            if value < min {
                return Err(Rejection::AmountTooLow);
            }
            let src = self
                .pool_of(n1, &h1)
                .cloned()
                .ok_or(Rejection::NotEnoughStakeToWithdraw)?;
            let shares_removed = src.quote_withdraw(&c1, alpha)?;
            let mut after = src;
            after.apply_withdraw(&c1, alpha, shares_removed);
            let dest = if h1 == h2 {
                after
            } else {
                self.pool_of(n2, &h2).cloned().unwrap_or_default()
            };
            let shares_added = dest.quote_deposit(alpha)?;
            let mut root_claimed = Vec::new();
            if n1 == 0 {
                // (n, h1, c1) and (n, h2, c2) differ (same ones are refused),
                // so the two updates never touch the same entry.
                root_claimed = self.claimed_updates(&h1, &c1, alpha, false);
                let up = self.claimed_updates(&h2, &c2, alpha, true);
                root_claimed.extend(up);
            }
            self.emit(AmmEvent::StakeTransferred(StakeTransferred {
                op: op.to_owned(),
                netuid: n1,
                from_hotkey: h1,
                from_coldkey: c1,
                to_hotkey: h2,
                to_coldkey: c2,
                alpha,
                shares_removed,
                shares_added,
                root_claimed,
            }));
            if c1 != c2 {
                self.ensure_lock_held(&c1, n1)?;
            }
            self.done(op, format!("moved {alpha} alpha on netuid {n1}"));
            return Ok(());
        }

        let mut alpha = alpha;
        if let Some((limit_price, allow_partial)) = limit {
            let max = pool::max_amount_move(&s1.pool(), &s2.pool(), limit_price)?;
            if max == 0 {
                return Err(Rejection::ZeroMaxStakeAmount);
            }
            if alpha > max {
                if !allow_partial {
                    return Err(Rejection::SlippageTooHigh);
                }
                alpha = max;
            }
        }
        // Fees are charged once: on the origin sell, unless the origin is
        // root (stable, fee-free), then on the destination buy.
        let sold = self.swap_on(n1, Direction::SellAlpha, alpha, None, false)?;
        if sold.amount_out <= min {
            return Err(Rejection::AmountTooLow);
        }
        let removed = self.stake_removed(op, n1, h1, c1, &sold)?;
        self.ensure_available(&c1, n1, removed.alpha)?;
        let tao = removed.tao_out;
        self.emit(AmmEvent::StakeRemoved(removed));
        self.ensure_lock_held(&c1, n1)?;
        let mut moves = Vec::new();
        let drop_fees = !s1.is_root();
        let bought = self
            .swap_on(n2, Direction::BuyAlphaWithTao, tao, None, drop_fees)
            .ok()
            .and_then(|r| self.stake_added(op, n2, h2, c2, &r).ok().map(|a| (r, a)));
        let summary = match bought {
            Some((r, added)) => {
                let got = added.alpha;
                moves.push(TaoMove {
                    from_netuid: n1,
                    to: TaoDest::Custody(n2),
                    amount: tao,
                });
                moves.push(TaoMove {
                    from_netuid: n2,
                    to: TaoDest::Burn,
                    amount: r.fee,
                });
                moves.push(TaoMove {
                    from_netuid: n2,
                    to: TaoDest::Account(c2),
                    amount: tao - r.amount_in - r.fee,
                });
                self.emit(AmmEvent::StakeAdded(added));
                format!("moved {alpha} alpha from netuid {n1} to {got} alpha on netuid {n2} via {tao} rao")
            }
            None => {
                // The destination cannot take it: the TAO stays liquid.
                moves.push(TaoMove {
                    from_netuid: n1,
                    to: TaoDest::Account(c2),
                    amount: tao,
                });
                format!("sold {alpha} alpha on netuid {n1} for {tao} rao (destination refused)")
            }
        };
        self.settle(op, moves);
        self.done(op, summary);
        Ok(())
    }

    // ---- recycle / burn ---------------------------------------------------------

    pub(crate) fn recycle_or_burn(
        &mut self,
        coldkey: AccountId,
        op: &str,
        hotkey: AccountId,
        netuid: u16,
        alpha: u64,
        recycle: bool,
    ) -> Decision {
        self.check_new_op(op)?;
        let s = self.subnet(netuid).ok_or(Rejection::SubnetNotExists)?;
        if s.is_root() {
            return Err(Rejection::CannotBurnOrRecycleOnRootSubnet);
        }
        if alpha == 0 {
            return Err(Rejection::AmountTooLow);
        }
        let have = self.stake_of(netuid, &hotkey, &coldkey);
        if have == 0 || alpha > have {
            return Err(Rejection::NotEnoughStakeToWithdraw);
        }
        self.ensure_available(&coldkey, netuid, alpha)?;
        let shares = self
            .pool_of(netuid, &hotkey)
            .ok_or(Rejection::NotEnoughStakeToWithdraw)?
            .quote_withdraw(&coldkey, alpha)?;
        let (op_s, what) = (op.to_owned(), if recycle { "recycled" } else { "burned" });
        if recycle {
            self.emit(AmmEvent::AlphaRecycled(AlphaRecycled {
                op: op_s,
                netuid,
                hotkey,
                coldkey,
                alpha,
                shares,
            }));
        } else {
            self.emit(AmmEvent::AlphaBurned(AlphaBurned {
                op: op_s,
                netuid,
                hotkey,
                coldkey,
                alpha,
                shares,
            }));
        }
        self.ensure_lock_held(&coldkey, netuid)?;
        self.done(op, format!("{what} {alpha} alpha on netuid {netuid}"));
        Ok(())
    }
}
