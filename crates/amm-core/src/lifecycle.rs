//! The subnet lifecycle governance drives (governance.md §3, §4.2):
//! opening a registered subnet's pool, closing it again when the
//! registration saga fails, dissolution, neuron registration burns and
//! owner changes.
//!
//! Every one is a peer step of a governance saga: a domain refusal is
//! answered with a `GovernanceStepRefused` event instead of an error (see
//! `decide`), so each handler checks everything before it emits anything.
//!
//! TAO and custody: the lock of a new subnet reaches the ledger's custody
//! only after governance sees the whole registration open (the ledger's
//! `ConfirmLock`), so for a short while the pool counts TAO the ledger does
//! not hold yet; a closed pool never had its lock confirmed, so nothing is
//! settled. A dissolution settles the whole pool TAO (which equals the
//! ledger's custody then) to the holders' coldkeys and the rest to recycle.

use std::collections::BTreeMap;

use fixed::types::U64F64;
use keys::AccountId;
use pool::{fixed64, Direction};

use crate::command::MAX_OP_LEN;
use crate::event::*;
use crate::rejection::Rejection;
use crate::state::{Tx, ID_MAX, ID_MIN};

/// A governance step's outcome: a refusal carries the message governance
/// sees (more specific than the rejection's text where that helps).
pub(crate) type Step = Result<(), (Rejection, String)>;

fn refuse(r: Rejection, message: impl Into<String>) -> Step {
    Err((r, message.into()))
}

/// The op of a dissolution step (its settlement and its refusal).
pub fn dissolve_op(netuid: u16, block: u64) -> String {
    format!("dissolve/{netuid}/{block}")
}

/// `get_median_subnet_alpha_price` over the spot prices of the existing
/// non-root subnets: prices of 0 are skipped; with none the price is 1; an
/// odd count takes the middle price, an even one the mean of the two middle
/// prices (`(lower + upper).safe_div(2)` in U64F64, floored).
pub fn median_price(prices: &[U64F64]) -> U64F64 {
    let mut p: Vec<U64F64> = prices
        .iter()
        .copied()
        .filter(|p| *p > fixed64::ZERO)
        .collect();
    if p.is_empty() {
        return fixed64::ONE;
    }
    p.sort();
    let n = p.len();
    let (lower, upper) = ((n - 1) / 2, n / 2);
    if lower == upper {
        p[upper]
    } else {
        fixed64::safe_div(fixed64::add(p[lower], p[upper]), fixed64::from_u64(2))
    }
}

/// The alpha reserve a new pool of `tao` gets at `price`:
/// `floor(tao / price)` in U64F64 (0 if the quotient does not fit).
pub fn initial_alpha(tao: u64, price: U64F64) -> u64 {
    fixed64::to_u64_floor(fixed64::safe_div(fixed64::from_u64(tao), price))
}

/// The dissolution payout (`destroy_alpha_in_out_stakes`, current): `pot`
/// TAO split pro rata over `stakers` (hotkey, coldkey, alpha value) and the
/// protocol's `protocol_alpha` (pool alpha reserve + protocol alpha), which
/// takes its share without being paid. Each staker gets `floor(pot · v /
/// total)`; the `floor(Σ remainders / total)` whole RAO the floors left go
/// one each to the stakers with the largest remainders (ties: the order of
/// `stakers`, i.e. (hotkey, coldkey) order). Payouts are summed per coldkey
/// (coldkey order, no zeros); the rest of `pot` is recycled.
pub fn dissolution_payouts(
    pot: u64,
    protocol_alpha: u128,
    stakers: &[(AccountId, AccountId, u64)],
) -> (Vec<(AccountId, u64)>, u64) {
    let total: u128 = stakers.iter().fold(protocol_alpha, |t, (_, _, v)| {
        t.saturating_add(u128::from(*v))
    });
    if pot == 0 || total == 0 || stakers.is_empty() {
        return (Vec::new(), pot);
    }
    let pot128 = u128::from(pot);
    let mut portions: Vec<(AccountId, u64, u128)> = Vec::with_capacity(stakers.len());
    let mut rem_total: u128 = 0;
    for (_, c, v) in stakers {
        let prod = pot128 * u128::from(*v);
        let share = (prod / total).min(u128::from(u64::MAX)) as u64;
        let rem = prod % total;
        rem_total = rem_total.saturating_add(rem);
        portions.push((*c, share, rem));
    }
    let leftover = rem_total / total;
    if leftover > 0 {
        let mut order: Vec<usize> = (0..portions.len()).collect();
        // Stable: equal remainders keep the stakers' order.
        order.sort_by(|a, b| portions[*b].2.cmp(&portions[*a].2));
        let give = leftover.min(portions.len() as u128) as usize;
        for i in order.into_iter().take(give) {
            portions[i].1 += 1;
        }
    }
    let mut per_coldkey: BTreeMap<AccountId, u64> = BTreeMap::new();
    for (c, share, _) in portions {
        if share > 0 {
            *per_coldkey.entry(c).or_default() += share;
        }
    }
    let paid: u64 = per_coldkey.values().sum();
    (per_coldkey.into_iter().collect(), pot - paid)
}

impl Tx<'_> {
    /// `OpenSubnet` (see the command).
    pub(crate) fn open_pool(
        &mut self,
        op: &str,
        netuid: u16,
        owner: AccountId,
        owner_hotkey: AccountId,
        lock: u64,
        block: u64,
    ) -> Step {
        if op.is_empty() || op.len() > MAX_OP_LEN {
            return refuse(Rejection::InvalidOperationId, "op empty or too long");
        }
        if netuid == 0 {
            return refuse(Rejection::InvalidValue, "netuid 0 is the root pool");
        }
        if self.subnet(netuid).is_some() {
            return refuse(
                Rejection::InvalidValue,
                format!("netuid {netuid} already has a pool"),
            );
        }
        if lock == 0 {
            return refuse(Rejection::AmountTooLow, "zero lock");
        }
        if self.total_stake.checked_add(lock).is_none() {
            return refuse(Rejection::InvalidValue, "lock above the supply");
        }
        let prices: Vec<U64F64> = self
            .netuids()
            .into_iter()
            .filter(|n| *n != 0)
            .filter_map(|n| self.subnet(n).map(|s| s.pool().price()))
            .collect();
        let median = median_price(&prices);
        let alpha = initial_alpha(lock, median);
        if alpha == 0 {
            return refuse(
                Rejection::AmountTooLow,
                format!("a lock of {lock} rao buys no alpha at the median price {median}"),
            );
        }
        self.emit(AmmEvent::SubnetOpened(SubnetOpened {
            op: op.to_owned(),
            netuid,
            owner,
            owner_hotkey,
            tao: lock,
            alpha,
            block,
        }));
        Ok(())
    }

    /// `CloseSubnet` (see the command).
    pub(crate) fn close_pool(&mut self, op: &str, netuid: u16) -> Step {
        let Some(s) = self.subnet(netuid) else {
            return refuse(
                Rejection::SubnetNotExists,
                format!("no subnet {netuid} to close"),
            );
        };
        if s.open_op.as_deref() != Some(op) {
            return refuse(
                Rejection::UnknownOperation,
                format!("netuid {netuid} was not opened by {op}"),
            );
        }
        let used = s.started()
            || s.alpha_out != 0
            || s.tao != s.locked
            || !self
                .pools
                .keys_in((netuid, ID_MIN)..=(netuid, ID_MAX))
                .is_empty();
        if used {
            return refuse(
                Rejection::InvalidValue,
                format!("netuid {netuid} has started or been used"),
            );
        }
        self.emit(AmmEvent::SubnetClosed(SubnetClosed {
            op: op.to_owned(),
            netuid,
        }));
        Ok(())
    }

    /// `DissolveSubnet` (see the command), settled as `op`.
    pub(crate) fn dissolve(&mut self, op: &str, netuid: u16, block: u64) -> Step {
        let s = match self.subnet(netuid) {
            Some(s) if !s.is_root() => s.clone(),
            _ => {
                return refuse(
                    Rejection::SubnetNotExists,
                    format!("no subnet {netuid} to dissolve"),
                )
            }
        };
        let mut stakers = Vec::new();
        for key in self.pools.keys_in((netuid, ID_MIN)..=(netuid, ID_MAX)) {
            let Some(p) = self.pools.get(&key) else {
                continue;
            };
            for c in p.shares.keys() {
                let v = p.value_of(c);
                if v > 0 {
                    stakers.push((key.1, *c, v));
                }
            }
        }
        let protocol = u128::from(s.alpha_in) + u128::from(s.protocol_alpha);
        let (payouts, recycled) = dissolution_payouts(s.tao, protocol, &stakers);
        let mut moves: Vec<TaoMove> = payouts
            .iter()
            .map(|(c, amount)| TaoMove {
                from_netuid: netuid,
                to: TaoDest::Account(*c),
                amount: *amount,
            })
            .collect();
        moves.push(TaoMove {
            from_netuid: netuid,
            to: TaoDest::Recycle,
            amount: recycled,
        });
        self.emit(AmmEvent::SubnetDissolved(SubnetDissolved {
            netuid,
            block,
            payouts,
            recycled,
        }));
        self.settle(op, moves);
        Ok(())
    }

    /// `RegistrationBurn` (see the command). Refusals after the TAO reached
    /// custody settle it back to `coldkey` themselves.
    pub(crate) fn registration_burn(
        &mut self,
        op: &str,
        netuid: u16,
        coldkey: AccountId,
        amount: u64,
    ) -> Step {
        if op.is_empty() || op.len() > MAX_OP_LEN {
            // No settlement can be keyed by such an op.
            return refuse(Rejection::InvalidOperationId, "op empty or too long");
        }
        if amount == 0 {
            return refuse(Rejection::AmountTooLow, "nothing to burn");
        }
        let planned = match self.subnet(netuid) {
            None => Err((
                Rejection::SubnetNotExists,
                format!("no subnet {netuid}: the burn is returned"),
            )),
            Some(s) if s.is_root() => Err((
                Rejection::InvalidValue,
                "registration is not permitted on the root subnet".to_owned(),
            )),
            Some(_) => {
                match self.swap_on(netuid, Direction::BuyAlphaWithTao, amount, None, false) {
                    Err(r) => {
                        let m = format!("{r}: the burn is returned");
                        Err((r, m))
                    }
                    Ok(res) if res.amount_out == 0 => Err((
                        Rejection::AmountTooLow,
                        "the burn buys no alpha: it is returned".to_owned(),
                    )),
                    Ok(res) => Ok(res),
                }
            }
        };
        match planned {
            Err((rejection, message)) => {
                self.emit(AmmEvent::GovernanceStepRefused(GovernanceStepRefused {
                    op: op.to_owned(),
                    code: rejection.code().to_owned(),
                    message,
                }));
                self.settle(
                    op,
                    vec![TaoMove {
                        from_netuid: netuid,
                        to: TaoDest::Account(coldkey),
                        amount,
                    }],
                );
            }
            Ok(res) => {
                let used = res.amount_in + res.fee;
                self.emit(AmmEvent::RegistrationBurned(RegistrationBurned {
                    op: op.to_owned(),
                    netuid,
                    coldkey,
                    tao: used,
                    fee: res.fee,
                    alpha_burned: res.amount_out,
                    tao_reserve: res.tao_reserve_after,
                    alpha_reserve: res.alpha_reserve_after,
                }));
                self.settle(
                    op,
                    vec![
                        TaoMove {
                            from_netuid: netuid,
                            to: TaoDest::Burn,
                            amount: res.fee,
                        },
                        // The swap may take less than `amount` (no limit is
                        // set, but a tiny pool can refuse part of it): the
                        // rest goes back to the coldkey.
                        TaoMove {
                            from_netuid: netuid,
                            to: TaoDest::Account(coldkey),
                            amount: amount - used,
                        },
                    ],
                );
            }
        }
        Ok(())
    }

    /// `SetOwner` (see the command).
    pub(crate) fn set_owner(
        &mut self,
        netuid: u16,
        owner: Option<AccountId>,
        owner_hotkey: AccountId,
    ) -> Step {
        let s = match self.subnet(netuid) {
            Some(s) if !s.is_root() => s,
            _ => {
                return refuse(
                    Rejection::SubnetNotExists,
                    format!("no subnet {netuid} to set the owner of"),
                )
            }
        };
        let owner = owner.unwrap_or(s.owner);
        self.emit(AmmEvent::SubnetOwnerSet(SubnetOwnerSet {
            netuid,
            owner,
            owner_hotkey,
        }));
        Ok(())
    }
}
