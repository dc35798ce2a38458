//! `SafeInt::pow_ratio_scaled` of the `safe-bigmath` crate, the big-integer kernel behind every
//! Balancer exponent.
//!
//! `pow_ratio_scaled(a, b, n, d, precision, scale) ≈ floor((a/b)^(n/d) · scale)`. After reducing
//! `n/d` the chain takes one of two paths, and a faithful port must take the same one because
//! they round differently:
//! * exact: when `n` and `d` fit 32 bits and `n ≤ 1024`, the floor of the `d`-th root of
//!   `a^n · scale^d / b^n`, found by bisection;
//! * approximate: otherwise a fixed-point `ln`/`exp` Taylor evaluation with 24 guard bits at
//!   `max(precision, 32, bits(scale) + 8)` bits, with the crate's exact stopping rules.
//!
//! Cost: the exact path raises `scale` to the power `d`. For the weights a pool really has
//! (0.5 gives `1/1`; injected weights reduce to fractions far above 32 bits) this is cheap, but a
//! hand-picked "round" weight such as `0.01021` (`1021/98979`) makes `d` ≈ 10^5 and one swap
//! takes seconds. The chain has the same cost; the result is kept identical on purpose.
//!
//! Only non-negative inputs occur in the pool, so the signature takes `BigUint`s; the sign
//! checks of the original reduce to the zero checks kept here.

use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// Iteration cap of the approximate path (`safe_bigmath::DEFAULT_MAX_ITERS`).
const DEFAULT_MAX_ITERS: usize = 4_096;
/// Largest reduced exponent numerator handled by the exact path.
const MAX_EXACT_EXPONENT: u32 = 1_024;
/// Guard bits of the approximate path.
const GUARD_BITS: u32 = 24;

/// `SafeInt::pow_ratio_scaled`: `None` when a denominator is zero.
pub fn pow_ratio_scaled(
    base_numerator: &BigUint,
    base_denominator: &BigUint,
    exponent_numerator: &BigUint,
    exponent_denominator: &BigUint,
    precision: u32,
    scale: &BigUint,
) -> Option<BigUint> {
    if base_denominator.is_zero() || exponent_denominator.is_zero() {
        return None;
    }
    if base_numerator.is_zero() {
        return Some(BigUint::zero());
    }
    let mut exp_num = exponent_numerator.clone();
    let mut exp_den = exponent_denominator.clone();
    if exp_num.is_zero() {
        return Some(scale.clone());
    }
    let g = exp_num.gcd(&exp_den);
    if g > BigUint::one() {
        exp_num /= &g;
        exp_den /= &g;
    }

    let scale_bits = u32::try_from(scale.bits()).unwrap_or(u32::MAX);

    if exp_num.bits() <= 32 && exp_den.bits() <= 32 {
        let n = exp_num.to_u32()?;
        let d = exp_den.to_u32()?;
        if d == 0 {
            return None;
        }
        if n <= MAX_EXACT_EXPONENT {
            let target_num = base_numerator.pow(n) * scale.pow(d);
            let target_den = base_denominator.pow(n);
            return Some(nth_root_ratio_floor(&target_num, &target_den, d));
        }
    }

    let requested_precision = precision.max(32).max(scale_bits.saturating_add(8));
    let internal_precision = requested_precision.saturating_add(GUARD_BITS);
    let max_iters = DEFAULT_MAX_ITERS
        .min(internal_precision as usize + 128)
        .max(1);

    let target_scale_uint = BigUint::one() << requested_precision;
    let guard_factor_uint = BigUint::one() << GUARD_BITS;
    let internal_scale_uint = &target_scale_uint << GUARD_BITS;

    let target_scale = BigInt::from_biguint(Sign::Plus, target_scale_uint);
    let guard_factor = BigInt::from_biguint(Sign::Plus, guard_factor_uint);
    let internal_scale = BigInt::from_biguint(Sign::Plus, internal_scale_uint.clone());

    let ln_half = ln1p_fixed(
        &(-(&internal_scale >> 1usize)),
        &internal_scale,
        &guard_factor,
        max_iters,
    );
    let ln_two = -ln_half;

    let ln_num = ln_biguint(
        base_numerator,
        internal_precision,
        &internal_scale_uint,
        &internal_scale,
        &guard_factor,
        &ln_two,
        max_iters,
    );
    let ln_den = ln_biguint(
        base_denominator,
        internal_precision,
        &internal_scale_uint,
        &internal_scale,
        &guard_factor,
        &ln_two,
        max_iters,
    );
    let ln_base = ln_num - ln_den;

    let ln_scaled = (ln_base * BigInt::from_biguint(Sign::Plus, exp_num))
        .div_floor(&BigInt::from_biguint(Sign::Plus, exp_den));
    let exp_fp = exp_fixed(&ln_scaled, &internal_scale, &guard_factor, max_iters);
    let exp_requested = round_to_precision(&exp_fp, &guard_factor);
    let result =
        (exp_requested * BigInt::from_biguint(Sign::Plus, scale.clone())).div_floor(&target_scale);
    // exp() of a finite argument is positive, so the floor is never negative.
    result.to_biguint()
}

/// Largest `r` with `r^q · den ≤ num` (bisection after doubling, as upstream).
fn nth_root_ratio_floor(target_num: &BigUint, target_den: &BigUint, q: u32) -> BigUint {
    if q == 0 {
        return BigUint::zero();
    }
    let mut low = BigUint::zero();
    let mut high = BigUint::one();
    while high.pow(q) * target_den <= *target_num {
        high <<= 1;
    }
    while low < high {
        let mid: BigUint = (&low + &high + 1u32) >> 1;
        if mid.pow(q) * target_den <= *target_num {
            low = mid;
        } else {
            high = mid - BigUint::one();
        }
    }
    low
}

/// Taylor series of `ln(1 + x)` in fixed point, stopping once the term drops below the guard
/// bits or the rounded value stops changing.
fn ln1p_fixed(x_fp: &BigInt, scale: &BigInt, guard_factor: &BigInt, max_iters: usize) -> BigInt {
    let mut term = x_fp.clone();
    let mut result = term.clone();
    let mut prev_rounded = round_to_precision(&result, guard_factor);
    for n in 2..=max_iters {
        term = (&term * x_fp).div_floor(scale);
        if term.is_zero() {
            break;
        }
        let next = term.div_floor(&BigInt::from(n as u32));
        if next.is_zero() {
            break;
        }
        if n % 2 == 0 {
            result -= &next;
        } else {
            result += &next;
        }
        let rounded = round_to_precision(&result, guard_factor);
        if next.abs() < guard_factor.abs() || rounded == prev_rounded {
            break;
        }
        prev_rounded = rounded;
    }
    result
}

/// Taylor series of `exp(x)` in fixed point, with the same stopping rule as [`ln1p_fixed`].
fn exp_fixed(x_fp: &BigInt, scale: &BigInt, guard_factor: &BigInt, max_iters: usize) -> BigInt {
    let mut term = scale.clone();
    let mut result = term.clone();
    let mut prev_rounded = round_to_precision(&result, guard_factor);
    for n in 1..=max_iters {
        term = (&term * x_fp).div_floor(&(scale * BigInt::from(n as u32)));
        if term.is_zero() {
            break;
        }
        result += &term;
        let rounded = round_to_precision(&result, guard_factor);
        if term.abs() < guard_factor.abs() || rounded == prev_rounded {
            break;
        }
        prev_rounded = rounded;
    }
    result
}

/// `ln(value)` in fixed point: a mantissa normalised into [0.5, 1.5) plus `shift · ln 2`.
fn ln_biguint(
    value: &BigUint,
    internal_precision: u32,
    internal_scale_uint: &BigUint,
    internal_scale: &BigInt,
    guard_factor: &BigInt,
    ln_two: &BigInt,
    max_iters: usize,
) -> BigInt {
    if value.is_zero() {
        return BigInt::zero();
    }
    let int_prec = internal_precision as usize;
    let mut shift = value.bits().saturating_sub(1);
    let mut mantissa = value.clone() << int_prec;
    mantissa >>= shift;
    let half_scale = internal_scale_uint >> 1;
    let scale_plus_half = internal_scale_uint + &half_scale;
    if mantissa >= scale_plus_half {
        mantissa >>= 1;
        shift = shift.saturating_add(1);
    }
    let mantissa_int = BigInt::from_biguint(Sign::Plus, mantissa);
    let ln_mantissa = ln1p_fixed(
        &(mantissa_int - internal_scale),
        internal_scale,
        guard_factor,
        max_iters,
    );
    ln_mantissa + ln_two * BigInt::from(shift)
}

/// Drop the guard bits, rounding half away from zero.
fn round_to_precision(value: &BigInt, guard_factor: &BigInt) -> BigInt {
    let (mut truncated, remainder) = value.div_rem(guard_factor);
    if !remainder.is_zero() && (remainder.abs() << 1usize) >= guard_factor.abs() {
        truncated += remainder.signum();
    }
    truncated
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(v: u128) -> BigUint {
        BigUint::from(v)
    }

    const PQ: u128 = 1_000_000_000_000_000_000;

    #[test]
    fn perquintill_power_matches_upstream() {
        // safe-bigmath test_perquintill_power and balancer.rs::test_perquintill_power.
        let x = b(21_000_000_000_000_000);
        let den = b(28_000_000_000_000_000);
        let r = pow_ratio_scaled(
            &x,
            &den,
            &b(600 * PQ / 1000),
            &b(400 * PQ / 1000),
            256,
            &b(PQ),
        );
        assert_eq!(r, Some(b(649_519_052_838_328_985)));
    }

    #[test]
    fn large_weight_denominators_match_upstream() {
        // safe-bigmath pow_ratio_scaled_handles_large_weight_denominators (approximate path).
        let x = b(21_000_000_000_000_000);
        let den = b(21_000_000_000_000_100);
        for (w1, w2) in [
            (500_000_000_000_000_000, 500_000_000_000_000_000),
            (499_999_999_999_500_000, 500_000_000_000_500_000),
            (500_000_000_000_250_000, 499_999_999_999_750_000),
        ] {
            let r = pow_ratio_scaled(&x, &den, &b(w1), &b(w2), 256, &b(PQ));
            assert_eq!(r, Some(b(999_999_999_999_995_238)));
        }
    }

    #[test]
    fn boundary_weights_match_upstream() {
        // safe-bigmath pow_ratio_scaled_converges_on_boundary_weights.
        let r = pow_ratio_scaled(
            &b(21_000_000_000_000_000),
            &b(21_000_000_000_000_001),
            &b(499_999_999_500_000_000),
            &b(500_000_000_500_000_000),
            256,
            &b(PQ),
        );
        assert_eq!(r, Some(b(999_999_999_999_999_952)));
    }

    #[test]
    fn doc_example_and_degenerate_inputs() {
        // (2/3)^(1/2) · 1000 → 816.
        assert_eq!(
            pow_ratio_scaled(&b(2), &b(3), &b(1), &b(2), 0, &b(1000)),
            Some(b(816))
        );
        assert_eq!(
            pow_ratio_scaled(&b(2), &b(0), &b(1), &b(2), 0, &b(1000)),
            None
        );
        assert_eq!(
            pow_ratio_scaled(&b(2), &b(3), &b(1), &b(0), 0, &b(1000)),
            None
        );
        assert_eq!(
            pow_ratio_scaled(&b(0), &b(3), &b(1), &b(2), 0, &b(1000)),
            Some(b(0))
        );
        assert_eq!(
            pow_ratio_scaled(&b(2), &b(3), &b(0), &b(2), 0, &b(1000)),
            Some(b(1000))
        );
    }
}
