//! Epoch payouts (§2.6). Consensus runs the epoch over the emission it
//! accrued from our `CoinbaseRan`s and sends its per-hotkey incentives and
//! dividends; we drain the pending pots of every block through the epoch's
//! block (the FIFO) and place the alpha:
//!
//! 1. validator pot = pending validator (+ pending server if Σ incentive = 0);
//! 2. incentives, used as weights over the server pot (so the alpha paid
//!    never exceeds what was minted), staked to (hotkey, owner); the subnet
//!    owner's own hotkeys and the owner hotkey are withheld (burned) and
//!    `MinerBurned` = withheld / total;
//! 3. childkeys (`childkeys`): each dividend is shared with the hotkey's
//!    parents (the childkey take and the `CKBurn` part taken from what
//!    parents of other owners get); parents outside the epoch's hotkeys
//!    join the recipients. The burned weight's share of the validator and
//!    root pots (`pot × Σ burn / Σ D`) is recycled;
//! 4. dividends split alpha/root by own alpha vs `tw · root stake`, scaled to
//!    the (rest of the) validator and root pots;
//! 5. alpha part: the delegate take staked to (hotkey, owner), the rest
//!    credited hotkey-wide;
//! 6. root part: the take staked as alpha to (hotkey, owner), the rest
//!    `R` added to `RootClaimable[h][netuid] += R / root_stake(h)`;
//! 7. the owner cut staked to (owner hotkey, owner).
//!
//! Alpha that nobody can receive (no dividend weight, no owner) is recycled;
//! rounding remainders are dust. Both are recorded, so the subnet's alpha
//! accounting stays exact.

use fixed::types::{I96F32, U96F32};
use keys::AccountId;
use pool::share_pool::PoolTotals;
use std::collections::BTreeMap;

use crate::decide::Decision;
use crate::event::*;
use crate::fx::{self, u96};
use crate::rejection::Rejection;
use crate::state::{PotEntry, Tx};

/// §2.6 step 4 for a set of validators: `(alpha_out_h, root_out_h)` per
/// hotkey. `alpha_stake[h]` is its own alpha on the subnet, `root_stake[h]`
/// its root stake; `tw` the TaoWeight. The epoch dividends act only as
/// weights; the pots fix the amounts (each floored; Σ ≤ pot).
pub fn split_dividends(
    dividends: &[u64],
    alpha_stake: &[u64],
    root_stake: &[u64],
    tw: U96F32,
    validator_pot: u64,
    root_pot: u64,
) -> (Vec<u64>, Vec<u64>) {
    let mut alpha_div = Vec::with_capacity(dividends.len());
    let mut root_div = Vec::with_capacity(dividends.len());
    for ((d, a), t) in dividends.iter().zip(alpha_stake).zip(root_stake) {
        let d = u96(*d);
        let t = fx::mul(u96(*t), tw);
        let rp = fx::div(t, u96(*a).saturating_add(t));
        let r = fx::mul(d, rp);
        root_div.push(r);
        alpha_div.push(d.saturating_sub(r));
    }
    let sa = alpha_div
        .iter()
        .fold(fx::U96_ZERO, |x, y| x.saturating_add(*y));
    let sr = root_div
        .iter()
        .fold(fx::U96_ZERO, |x, y| x.saturating_add(*y));
    let scale = |pot: u64, w: &U96F32, s: U96F32| {
        if s == fx::U96_ZERO {
            0
        } else {
            fx::scale(pot, *w, s)
        }
    };
    (
        alpha_div
            .iter()
            .map(|w| scale(validator_pot, w, sa))
            .collect(),
        root_div.iter().map(|w| scale(root_pot, w, sr)).collect(),
    )
}

/// Deposits an epoch makes, quoted in order on scratch totals of the pools
/// (a quote reads only a pool's value and denominator; the holders change
/// once, when `EpochPaid` is applied).
struct Placer {
    netuid: u16,
    pools: BTreeMap<AccountId, PoolTotals>,
    credits: Vec<AlphaCredit>,
    placed: u64,
}

impl Placer {
    fn pool<'p>(&'p mut self, tx: &Tx, hotkey: &AccountId) -> &'p mut PoolTotals {
        let n = self.netuid;
        self.pools.entry(*hotkey).or_insert_with(|| {
            tx.pool_of(n, hotkey)
                .map(|p| p.totals())
                .unwrap_or_default()
        })
    }

    /// Stakes `alpha` to (hotkey, coldkey); false if it mints no shares.
    fn stake(&mut self, tx: &Tx, hotkey: AccountId, coldkey: AccountId, alpha: u64) -> bool {
        if alpha == 0 {
            return true;
        }
        let p = self.pool(tx, &hotkey);
        match p.quote_deposit(alpha) {
            Ok(shares) => {
                p.apply_deposit(alpha, shares);
                self.credits.push(AlphaCredit::Stake {
                    hotkey,
                    coldkey,
                    alpha,
                    shares,
                });
                self.placed += alpha;
                true
            }
            Err(_) => false,
        }
    }

    fn credit(&mut self, tx: &Tx, hotkey: AccountId, alpha: u64) {
        if alpha == 0 {
            return;
        }
        self.pool(tx, &hotkey).credit(alpha);
        self.credits.push(AlphaCredit::Hotkey { hotkey, alpha });
        self.placed += alpha;
    }
}

impl Tx<'_> {
    pub(crate) fn epoch(
        &mut self,
        netuid: u16,
        block: u64,
        hotkeys: &[AccountId],
        incentive: &[u64],
        dividend: &[u64],
    ) -> Decision {
        let s = self
            .subnet(netuid)
            .ok_or(Rejection::SubnetNotExists)?
            .clone();
        if s.is_root() {
            return Err(Rejection::SubnetNotExists);
        }
        if hotkeys.len() != incentive.len() || hotkeys.len() != dividend.len() {
            return Err(Rejection::MalformedEpoch);
        }
        if block > self.height {
            return Err(Rejection::BlockOutOfOrder {
                expected: self.height,
                got: block,
            });
        }
        let mut pots = PotEntry::default();
        for key in self.pots.keys_in((netuid, 0)..=(netuid, block)) {
            if let Some(e) = self.pots.get(&key) {
                pots.add(e);
            }
        }
        let drained = pots.total();
        let mut placer = Placer {
            netuid,
            pools: BTreeMap::new(),
            credits: Vec::new(),
            placed: 0,
        };
        let (mut burned, mut recycled) = (0u64, 0u64);
        let owner_of = |tx: &Tx, h: &AccountId| tx.hotkeys.get(h).map(|i| (i.owner, i.take));

        // 1–2. Incentives over the server pot.
        let inc_total: u128 = incentive.iter().map(|v| u128::from(*v)).sum();
        let mut validator_pot = pots.validator;
        let mut withheld = 0u64;
        let mut paid_total = 0u64;
        if inc_total == 0 {
            validator_pot += pots.server;
        } else {
            for (h, inc) in hotkeys.iter().zip(incentive) {
                let amount = pool::share_pool::mul_div_floor(
                    u128::from(pots.server),
                    u128::from(*inc),
                    inc_total,
                )
                .unwrap_or(0) as u64;
                if amount == 0 {
                    continue;
                }
                paid_total += amount;
                let owner = owner_of(self, h);
                if *h == s.owner_hotkey || owner.is_some_and(|(o, _)| o == s.owner) {
                    withheld += amount;
                } else if let Some((o, _)) = owner {
                    if !placer.stake(self, *h, o, amount) {
                        recycled += amount;
                    }
                } else {
                    recycled += amount;
                }
            }
            burned += withheld;
        }
        let miner_burned = if paid_total == 0 {
            fx::U96_ZERO
        } else {
            fx::div(u96(withheld), u96(paid_total))
        };

        // 3. Dividends through childkeys; the burned weight's share of the
        // pots is recycled.
        let tw = fx::tao_weight(self.params.tao_weight);
        let (recipients, weights, ck_burned) =
            self.childkey_dividends(netuid, hotkeys, dividend, tw);
        let mut root_pot = pots.root;
        if ck_burned > 0 {
            let total: u128 = dividend.iter().map(|v| u128::from(*v)).sum();
            let share = |pot: u64| {
                pool::share_pool::mul_div_floor(u128::from(pot), u128::from(ck_burned), total)
                    .map_or(0, |v| v.min(u128::from(pot)) as u64)
            };
            let (bv, br) = (share(validator_pot), share(root_pot));
            validator_pot -= bv;
            root_pot -= br;
            recycled += bv + br;
        }
        // 4. Dividends: alpha vs root parts.
        let alpha_stake: Vec<u64> = recipients
            .iter()
            .map(|h| self.hotkey_alpha(netuid, h))
            .collect();
        let root_stake: Vec<u64> = recipients.iter().map(|h| self.hotkey_alpha(0, h)).collect();
        let (alpha_out, root_out) = split_dividends(
            &weights,
            &alpha_stake,
            &root_stake,
            tw,
            validator_pot,
            root_pot,
        );
        if alpha_out.iter().all(|v| *v == 0) {
            recycled += validator_pot;
        }
        if root_out.iter().all(|v| *v == 0) {
            recycled += root_pot;
        }
        let hotkeys = &recipients[..];
        // 5. Alpha dividends: take to the owner, the rest hotkey-wide.
        for (h, a) in hotkeys.iter().zip(&alpha_out) {
            if *a == 0 {
                continue;
            }
            match owner_of(self, h) {
                Some((o, take)) => {
                    let t = fx::floor(fx::mul(u96(*a), fx::ratio_u16(take)));
                    let t = if placer.stake(self, *h, o, t) { t } else { 0 };
                    placer.credit(self, *h, a - t);
                }
                None => placer.credit(self, *h, *a),
            }
        }
        // 6. Root dividends: take as alpha stake, the rest claimable.
        let mut root_rates = Vec::new();
        let mut root_owed = 0u64;
        for ((h, r), tau) in hotkeys.iter().zip(&root_out).zip(&root_stake) {
            if *r == 0 {
                continue;
            }
            let mut rest = *r;
            if let Some((o, take)) = owner_of(self, h) {
                let t = fx::floor(fx::mul(u96(*r), fx::ratio_u16(take)));
                if placer.stake(self, *h, o, t) {
                    rest -= t;
                }
            }
            if rest == 0 {
                continue;
            }
            let inc = I96F32::saturating_from_num(rest)
                .checked_div(I96F32::saturating_from_num(*tau))
                .unwrap_or(I96F32::ZERO);
            if inc == I96F32::ZERO {
                recycled += rest;
                continue;
            }
            let prev = root_rates
                .iter()
                .rev()
                .find(|(k, _)| k == h)
                .map_or_else(|| self.rate(h, netuid), |(_, r)| *r);
            root_rates.push((*h, prev.saturating_add(inc.to_bits())));
            root_owed += rest;
        }
        // 7. Owner cut.
        if !placer.stake(self, s.owner_hotkey, s.owner, pots.owner_cut) {
            recycled += pots.owner_cut;
        }
        let accounted = placer.placed + burned + recycled + root_owed;
        let dust = drained.saturating_sub(accounted);
        self.emit(AmmEvent::EpochPaid(EpochPaid {
            netuid,
            block,
            server: pots.server,
            validator: pots.validator,
            root: pots.root,
            owner_cut: pots.owner_cut,
            credits: placer.credits,
            root_rates,
            root_owed,
            burned,
            recycled,
            dust,
            miner_burned_bits: miner_burned.to_bits(),
        }));
        Ok(())
    }
}
