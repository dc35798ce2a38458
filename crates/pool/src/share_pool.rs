//! Stake share pools (tokenomics.md §3.8): one per (hotkey, netuid).
//!
//! The pool has a value (`TotalHotkeyAlpha`), per-holder shares and a
//! denominator. A deposit of `v` mints `v · denominator / value` shares; a
//! hotkey-wide credit (dividends) raises only the value, so every holder gains
//! pro rata; a holder's value is `value · shares / denominator`, floored.
//!
//! Deliberate difference from the chain: the chain keeps shares as a
//! `SafeFloat` (u128 mantissa, base-10 exponent), whose rounding can make the
//! holders' shares add up to a little more or less than the denominator. Here
//! shares are exact `u128` integers ([`SHARES_PER_RAO`] shares per RAO at the
//! first deposit) and the denominator is always *exactly* the sum of the
//! holders' shares, so the holders' floored values can never add up to more
//! than the pool's value: an alpha accounting that must balance to the RAO
//! (the amm's invariants) needs that. Results agree with the chain's to the
//! last RAO or so (the `share_pool_staking` vector, tolerance 1, passes).
//!
//! Every mutation comes in two halves: a pure `quote_*` that computes the
//! shares, and an `apply_*` that takes the quoted numbers, so an event-sourced
//! caller records the quote in its event and replays without recomputing.

use imbl::OrdMap;

use serde::{Deserialize, Serialize};

/// Shares minted per RAO by the first deposit into an empty pool. A power of
/// two far above 1 keeps later deposits precise even after the value has
/// grown by dividends (a deposit mints `v · denominator / value` shares).
pub const SHARES_PER_RAO: u128 = 1 << 32;

/// Why a share-pool operation is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    /// The deposit would mint no shares (the chain's `InsufficientLiquidity`).
    #[error("the deposit would mint no shares")]
    ZeroShares,
    /// The holder's value is below the amount asked for.
    #[error("not enough stake")]
    NotEnoughStake,
    /// Arithmetic overflow (never for amounts below the alpha supply).
    #[error("share arithmetic overflow")]
    Overflow,
}

/// `floor(a · b / c)` exactly; `None` if `c = 0` or the result exceeds u128.
pub use crate::wide::mul_div_floor;

/// `ceil(a · b / c)` exactly; `None` if `c = 0` or the result exceeds u128.
pub use crate::wide::mul_div_ceil;

/// A share pool's value and denominator without its holders: enough to
/// quote a sequence of deposits and credits exactly as the pool would
/// (the epoch payout quotes up to hundreds on one pool before one event
/// applies them), without copying the holders' map.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolTotals {
    pub value: u64,
    pub denominator: u128,
}

impl PoolTotals {
    /// A deposit into a pool without value or without shares starts it over:
    /// old share entries (worth nothing) are dropped and the depositor gets
    /// `SHARES_PER_RAO` shares per RAO (plus any unowned value already there).
    fn restarts(&self) -> bool {
        self.value == 0 || self.denominator == 0
    }

    /// [`SharePool::quote_deposit`]: the shares a deposit of `alpha` mints.
    pub fn quote_deposit(&self, alpha: u64) -> Result<u128, ShareError> {
        if alpha == 0 {
            return Err(ShareError::ZeroShares);
        }
        if self.value.checked_add(alpha).is_none() {
            return Err(ShareError::Overflow);
        }
        let shares = if self.restarts() {
            u128::from(alpha)
                .checked_mul(SHARES_PER_RAO)
                .ok_or(ShareError::Overflow)?
        } else {
            mul_div_floor(u128::from(alpha), self.denominator, u128::from(self.value))
                .ok_or(ShareError::Overflow)?
        };
        if shares == 0 {
            return Err(ShareError::ZeroShares);
        }
        let base = if self.restarts() { 0 } else { self.denominator };
        base.checked_add(shares).ok_or(ShareError::Overflow)?;
        Ok(shares)
    }

    /// [`SharePool::apply_deposit`]'s effect on the totals.
    pub fn apply_deposit(&mut self, alpha: u64, shares: u128) {
        if self.restarts() {
            self.denominator = 0;
        }
        self.value = self.value.saturating_add(alpha);
        self.denominator = self.denominator.saturating_add(shares);
    }

    /// [`SharePool::credit`]'s effect.
    pub fn credit(&mut self, alpha: u64) {
        self.value = self.value.saturating_add(alpha);
    }
}

/// One share pool. `K` is the holder key (a coldkey).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "K: Serialize + Ord + Clone",
    deserialize = "K: Deserialize<'de> + Ord + Clone"
))]
pub struct SharePool<K: Ord + Clone> {
    /// `TotalHotkeyAlpha`: the alpha the pool holds (RAO).
    pub value: u64,
    /// `TotalHotkeyShares`: always the exact sum of `shares`.
    pub denominator: u128,
    /// Per-holder shares (no zero entries). A persistent map: a hotkey can
    /// have many thousands of nominators, and the amm's transactions copy a
    /// pool before changing it, which must not cost a copy of every holder.
    /// It serialises exactly as a `BTreeMap` (entries in key order).
    pub shares: OrdMap<K, u128>,
}

impl<K: Ord + Clone> Default for SharePool<K> {
    fn default() -> Self {
        SharePool {
            value: 0,
            denominator: 0,
            shares: OrdMap::new(),
        }
    }
}

impl<K: Ord + Clone> SharePool<K> {
    /// The holder's shares.
    pub fn shares_of(&self, key: &K) -> u128 {
        self.shares.get(key).copied().unwrap_or(0)
    }

    /// The holder's value: `floor(value · shares / denominator)`.
    pub fn value_of(&self, key: &K) -> u64 {
        let s = self.shares_of(key);
        if s == 0 || self.denominator == 0 {
            return 0;
        }
        mul_div_floor(u128::from(self.value), s, self.denominator)
            .and_then(|v| u64::try_from(v).ok())
            .unwrap_or(u64::MAX)
    }

    /// Shares a deposit of `alpha` would mint.
    pub fn quote_deposit(&self, alpha: u64) -> Result<u128, ShareError> {
        self.totals().quote_deposit(alpha)
    }

    /// The pool's value and denominator: all a deposit quote reads.
    pub fn totals(&self) -> PoolTotals {
        PoolTotals {
            value: self.value,
            denominator: self.denominator,
        }
    }

    /// Applies a deposit quoted by [`SharePool::quote_deposit`].
    pub fn apply_deposit(&mut self, key: K, alpha: u64, shares: u128) {
        let mut t = self.totals();
        if t.restarts() {
            self.shares.clear();
        }
        t.apply_deposit(alpha, shares);
        (self.value, self.denominator) = (t.value, t.denominator);
        *self.shares.entry(key).or_insert(0) += shares;
    }

    /// Shares a withdrawal of `alpha` removes from `key`: all of them when it
    /// takes the holder's whole value, else `ceil(alpha · denominator / value)`
    /// (rounded against the withdrawer, so the others never lose).
    pub fn quote_withdraw(&self, key: &K, alpha: u64) -> Result<u128, ShareError> {
        let have = self.value_of(key);
        if alpha > have || have == 0 {
            return Err(ShareError::NotEnoughStake);
        }
        let own = self.shares_of(key);
        if alpha == have {
            return Ok(own);
        }
        let s = mul_div_ceil(u128::from(alpha), self.denominator, u128::from(self.value))
            .ok_or(ShareError::Overflow)?;
        Ok(s.min(own))
    }

    /// Applies a withdrawal quoted by [`SharePool::quote_withdraw`].
    pub fn apply_withdraw(&mut self, key: &K, alpha: u64, shares: u128) {
        self.value = self.value.saturating_sub(alpha);
        self.denominator = self.denominator.saturating_sub(shares);
        if let Some(s) = self.shares.get_mut(key) {
            *s = s.saturating_sub(shares);
            if *s == 0 {
                self.shares.remove(key);
            }
        }
    }

    /// A hotkey-wide credit: the value grows, shares do not.
    pub fn credit(&mut self, alpha: u64) {
        self.value = self.value.saturating_add(alpha);
    }

    /// Convenience for tests and simple callers: quote and apply a deposit.
    pub fn deposit(&mut self, key: K, alpha: u64) -> Result<u128, ShareError> {
        let s = self.quote_deposit(alpha)?;
        self.apply_deposit(key, alpha, s);
        Ok(s)
    }

    /// Convenience: quote and apply a withdrawal.
    pub fn withdraw(&mut self, key: &K, alpha: u64) -> Result<u128, ShareError> {
        let s = self.quote_withdraw(key, alpha)?;
        self.apply_withdraw(key, alpha, s);
        Ok(s)
    }

    /// Σ holders' values (≤ `value` always).
    pub fn sum_of_values(&self) -> u128 {
        self.shares
            .keys()
            .map(|k| u128::from(self.value_of(k)))
            .sum()
    }

    /// The denominator is the sum of the shares and no entry is zero.
    pub fn check(&self) -> Result<(), String> {
        let sum: u128 = self.shares.values().sum();
        if sum != self.denominator {
            return Err(format!(
                "shares sum {sum} != denominator {}",
                self.denominator
            ));
        }
        if self.shares.values().any(|s| *s == 0) {
            return Err("zero share entry".into());
        }
        if self.sum_of_values() > u128::from(self.value) {
            return Err("holders' values exceed the pool value".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deposits_credits_and_withdrawals() {
        let mut p = SharePool::<u8>::default();
        p.deposit(1, 1_000).unwrap();
        p.credit(1_000);
        assert_eq!(p.value_of(&1), 2_000);
        p.deposit(2, 1_000).unwrap();
        assert_eq!(p.value_of(&2), 1_000);
        assert_eq!(p.value_of(&1), 2_000);
        p.withdraw(&1, 2_000).unwrap();
        assert_eq!(p.value_of(&1), 0);
        assert!(!p.shares.contains_key(&1));
        assert_eq!(p.value_of(&2), 1_000);
        p.check().unwrap();
        assert_eq!(p.withdraw(&2, 1_001), Err(ShareError::NotEnoughStake));
        assert_eq!(p.quote_deposit(0), Err(ShareError::ZeroShares));
    }
}
