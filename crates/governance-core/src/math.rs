//! The integer and fixed-point rules: subnet lock cost (§3.1), neuron burn
//! price growth and decay (§4.2), exponential unlock and maturity of stake
//! locks (§5.6). Every fixed-point result becomes an integer by truncation.

use fixed::types::U64F64;

use crate::params::TAO;

/// `get_lock_reduction_interval`: `interval × (block_emission / 1 TAO)` in
/// I64F64 on the chain, truncated (shrinks with each halving).
pub fn lock_reduction_interval(interval: u64, block_emission: u64) -> u64 {
    let v = u128::from(interval) * u128::from(block_emission) / u128::from(TAO);
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// `get_network_lock_cost`:
/// `max(min_lock, mult·L − (L / I)·(now − b))`, mult = 1 if b == 0 else 2,
/// `L / I` an integer division that is 0 when I is 0.
pub fn network_lock_cost(
    last_lock: u64,
    last_lock_block: u64,
    now: u64,
    min_lock: u64,
    interval: u64,
) -> u64 {
    let mult: u64 = if last_lock_block == 0 { 1 } else { 2 };
    let per_block = last_lock.checked_div(interval).unwrap_or(0);
    let cost = last_lock
        .saturating_mul(mult)
        .saturating_sub(per_block.saturating_mul(now.saturating_sub(last_lock_block)));
    cost.max(min_lock)
}

/// Q32 multiply, saturating (`mul_by_q32`).
pub fn mul_by_q32(value: u64, factor_q32: u64) -> u64 {
    let shifted = (u128::from(value) * u128::from(factor_q32)) >> 32;
    u64::try_from(shifted).unwrap_or(u64::MAX)
}

/// `base^exp` in Q32 by squaring (`pow_q32`).
pub fn pow_q32(base_q32: u64, exp: u64) -> u64 {
    let mut result: u64 = 1 << 32;
    let mut factor = base_q32;
    let mut power = exp;
    while power > 0 {
        if power & 1 == 1 {
            result = mul_by_q32(result, factor);
        }
        power >>= 1;
        if power > 0 {
            factor = mul_by_q32(factor, factor);
        }
    }
    result
}

/// `decay_factor_q32`: the largest Q32 `f` with `f^half_life ≤ 0.5`
/// (bisection); 1.0 for a zero half-life.
pub fn decay_factor_q32(half_life: u16) -> u64 {
    if half_life == 0 {
        return 1 << 32;
    }
    let half: u64 = 1 << 31;
    let (mut lo, mut hi) = (0u64, 1u64 << 32);
    while lo + 1 < hi {
        let mid = lo + ((hi - lo) >> 1);
        if pow_q32(mid, u64::from(half_life)) > half {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    lo
}

/// One block of burn decay: `clamp(burn·f, min, max)`.
pub fn decay_burn(burn: u64, factor_q32: u64, min: u64, max: u64) -> u64 {
    clamp(mul_by_q32(burn, factor_q32), min, max)
}

/// The bump after a registration: `clamp(burn × mult, min, max)`, `mult`
/// U64F64, the product truncated.
pub fn bump_burn(burn: u64, mult_bits: u128, min: u64, max: u64) -> u64 {
    let m = U64F64::from_bits(mult_bits);
    let v = U64F64::saturating_from_num(burn).saturating_mul(m);
    clamp(v.saturating_to_num::<u64>(), min, max)
}

/// `min` wins over `max` when they cross (the chain's clamp order).
fn clamp(v: u64, min: u64, max: u64) -> u64 {
    v.min(max).max(min)
}

fn one() -> U64F64 {
    U64F64::from_num(1)
}

/// e^(−r) for 0 ≤ r ≤ 1 by its Taylor series (positive and negative terms
/// summed apart, so no signed type is needed).
fn exp_neg_unit(r: U64F64) -> U64F64 {
    let mut pos = one();
    let mut neg = U64F64::ZERO;
    let mut term = one();
    for k in 1u32..=30 {
        term = term.saturating_mul(r) / U64F64::from_num(k);
        if term == U64F64::ZERO {
            break;
        }
        if k % 2 == 1 {
            neg = neg.saturating_add(term);
        } else {
            pos = pos.saturating_add(term);
        }
    }
    pos.saturating_sub(neg)
}

/// e^(−x) for x ≥ 0: e^(−⌊x⌋)·e^(−frac(x)), e^(−1) raised by squaring.
pub fn exp_neg(x: U64F64) -> U64F64 {
    let n = x.to_num::<u64>();
    if n >= 45 {
        return U64F64::ZERO; // below 2^-64
    }
    let mut result = exp_neg_unit(x.frac());
    let mut base = exp_neg_unit(one());
    let mut p = n;
    while p > 0 {
        if p & 1 == 1 {
            result = result.saturating_mul(base);
        }
        p >>= 1;
        if p > 0 {
            base = base.saturating_mul(base);
        }
    }
    result
}

/// e^(−dt/τ).
pub fn exp_neg_ratio(dt: u64, tau: u64) -> U64F64 {
    if tau == 0 {
        return U64F64::ZERO;
    }
    exp_neg(U64F64::saturating_from_num(dt) / U64F64::saturating_from_num(tau))
}

/// Rolls a lock `(m, c)` forward by `dt` blocks (§5.6):
/// m ← m·e^(−dt/τu) unless perpetual; c ← c·e^(−dt/τm) + m·γ with
/// γ = 1 − e^(−dt/τm) if perpetual, (dt/τm)·e^(−dt/τm) if τu = τm, else
/// τu(e^(−dt/τu) − e^(−dt/τm))/(τu − τm) (≥ 0). Results truncated.
pub fn roll_lock(m: u64, c: u64, dt: u64, perpetual: bool, tau_u: u64, tau_m: u64) -> (u64, u64) {
    if dt == 0 {
        return (m, c);
    }
    let em = exp_neg_ratio(dt, tau_m);
    let eu = exp_neg_ratio(dt, tau_u);
    let mf = U64F64::saturating_from_num(m);
    let gamma = if perpetual {
        one().saturating_sub(em)
    } else if tau_u == tau_m {
        let r = U64F64::saturating_from_num(dt) / U64F64::saturating_from_num(tau_m.max(1));
        r.saturating_mul(em)
    } else {
        let tu = U64F64::saturating_from_num(tau_u);
        let tm = U64F64::saturating_from_num(tau_m);
        // both differences have the same sign; take them positive
        let (num, den) = if tau_u > tau_m {
            (eu.saturating_sub(em), tu - tm)
        } else {
            (em.saturating_sub(eu), tm - tu)
        };
        tu.saturating_mul(num) / den
    };
    let new_m = if perpetual {
        m
    } else {
        mf.saturating_mul(eu).saturating_to_num::<u64>()
    };
    let new_c = U64F64::saturating_from_num(c)
        .saturating_mul(em)
        .saturating_add(mf.saturating_mul(gamma))
        .saturating_to_num::<u64>();
    (new_m, new_c)
}
