//! Scalar fixed-point arithmetic with substrate-fixed 0.6 semantics.
//!
//! Every operation here works on the raw bits of the `fixed` crate types so that the rounding
//! behaviour is pinned down by this file, not by whichever `fixed` release is in the lock file:
//! the chain uses the encointer `substrate-fixed` fork, whose multiply floors (arithmetic shift)
//! and whose divide truncates toward zero. `fixed` 1.x shares the bit layout, so the types are
//! used as plain containers.

use fixed::types::{I32F32, I64F64};

/// 0 in I32F32.
pub const ZERO: I32F32 = I32F32::ZERO;
/// 1 in I32F32.
pub const ONE: I32F32 = I32F32::from_bits(1 << 32);
const FRAC: u32 = 32;

#[inline]
fn clamp_i64(v: i128) -> i64 {
    if v > i64::MAX as i128 {
        i64::MAX
    } else if v < i64::MIN as i128 {
        i64::MIN
    } else {
        v as i64
    }
}

/// `a.saturating_mul(b)`: `(bits_a · bits_b) >> 32` (floor), clamped.
#[inline]
pub fn mul(a: I32F32, b: I32F32) -> I32F32 {
    let p = (a.to_bits() as i128 * b.to_bits() as i128) >> FRAC;
    I32F32::from_bits(clamp_i64(p))
}

/// `a.checked_mul(b)`: like [`mul`] but `None` on overflow.
#[inline]
pub fn checked_mul(a: I32F32, b: I32F32) -> Option<I32F32> {
    let p = (a.to_bits() as i128 * b.to_bits() as i128) >> FRAC;
    i64::try_from(p).ok().map(I32F32::from_bits)
}

/// `a.checked_div(b)`: `(bits_a << 32) / bits_b`, truncating toward zero; `None` for a zero
/// divisor or an out-of-range quotient.
#[inline]
pub fn checked_div(a: I32F32, b: I32F32) -> Option<I32F32> {
    let (a, b) = (a.to_bits(), b.to_bits());
    if b == 0 {
        return None;
    }
    // Fast path: a non-negative numerator below 1.0 fits a u64 after the shift.
    if a >= 0 && b > 0 && (a as u64) < (1u64 << FRAC) {
        let q = ((a as u64) << FRAC) / b as u64;
        return i64::try_from(q).ok().map(I32F32::from_bits);
    }
    let q = ((a as i128) << FRAC) / b as i128;
    i64::try_from(q).ok().map(I32F32::from_bits)
}

/// `safe_math::safe_div`: [`checked_div`] or 0 (zero divisor and overflow both give 0).
#[inline]
pub fn safe_div(a: I32F32, b: I32F32) -> I32F32 {
    checked_div(a, b).unwrap_or(ZERO)
}

/// Repeated `safe_div` by one divisor (row, column and vector normalizations), bit-identical
/// to [`safe_div`]. The numerator `a·2³²` and divisor are first reduced by their common power of
/// two (integer weights and bonds have 32 zero fraction bits); when the reduced numerator fits
/// 64 bits the quotient comes from a precomputed reciprocal plus an exact correction step,
/// instead of a 128-bit software division.
#[derive(Clone, Copy, Debug)]
pub struct Divisor {
    raw: i64,
    shift: u32,
    d: u64,
    recip: u64,
    /// Numerators `0 ≤ a < limit` take the reciprocal path (`a << shift` fits a u64 and the
    /// quotient an i64).
    limit: u64,
}

impl Divisor {
    /// Prepare division by `b`.
    #[inline]
    pub fn new(b: I32F32) -> Self {
        let raw = b.to_bits();
        if raw <= 0 {
            return Divisor {
                raw,
                shift: 0,
                d: 0,
                recip: 0,
                limit: 0,
            };
        }
        let tz = raw.trailing_zeros().min(FRAC);
        let d = (raw as u64) >> tz;
        let shift = FRAC - tz;
        // Besides `a·2^shift < 2⁶⁴`, keep the quotient below 2⁶³ (so it is a valid i64 and
        // checked_div would not fail): `a < 2^(63 − shift)·d` suffices.
        let fits = 1u64 << (64 - shift).min(63);
        let no_overflow = ((d as u128) << (63 - shift)).min(u64::MAX as u128) as u64;
        Divisor {
            raw,
            shift,
            d,
            recip: u64::MAX / d,
            limit: fits.min(no_overflow),
        }
    }

    /// The divisor is exactly zero (normalizations skip such rows and columns).
    #[inline]
    pub fn is_zero(&self) -> bool {
        self.raw == 0
    }

    /// `safe_div(a, b)`.
    #[inline]
    pub fn safe_div(&self, a: I32F32) -> I32F32 {
        let ab = a.to_bits();
        // One unsigned compare covers a < 0, a zero/negative divisor (limit 0) and a shifted
        // numerator that would not fit 64 bits.
        if (ab as u64) >= self.limit {
            return self.slow_div(a);
        }
        let num = (ab as u64) << self.shift;
        let mut q = ((num as u128 * self.recip as u128) >> 64) as u64;
        // The estimate never exceeds the true quotient (recip ≤ 2⁶⁴/d) and is at most 2 below
        // it, so `q·d ≤ num` and the remainder fits a u64: correct it with plain subtractions.
        let mut r = num - q * self.d;
        while r >= self.d {
            q += 1;
            r -= self.d;
        }
        // q = floor(a·2^shift / d) < 2⁶³ by the choice of `limit`.
        I32F32::from_bits(q as i64)
    }

    #[cold]
    #[inline(never)]
    fn slow_div(&self, a: I32F32) -> I32F32 {
        safe_div(a, I32F32::from_bits(self.raw))
    }
}

/// `a.saturating_div(b)`: [`checked_div`] clamped to the I32F32 range.
#[inline]
pub fn saturating_div(a: I32F32, b: I32F32) -> I32F32 {
    let (ab, bb) = (a.to_bits(), b.to_bits());
    if bb == 0 {
        return if ab >= 0 { I32F32::MAX } else { I32F32::MIN };
    }
    let q = ((ab as i128) << FRAC) / bb as i128;
    I32F32::from_bits(clamp_i64(q))
}

/// `a.saturating_add(b)`.
#[inline]
pub fn add(a: I32F32, b: I32F32) -> I32F32 {
    I32F32::from_bits(a.to_bits().saturating_add(b.to_bits()))
}

/// `a.saturating_sub(b)`.
#[inline]
pub fn sub(a: I32F32, b: I32F32) -> I32F32 {
    I32F32::from_bits(a.to_bits().saturating_sub(b.to_bits()))
}

/// Exact sum (substrate-fixed's `Sum`): addition of raw bits, so order never matters.
#[inline]
pub fn sum<I: IntoIterator<Item = I32F32>>(it: I) -> I32F32 {
    I32F32::from_bits(
        it.into_iter()
            .fold(0i64, |acc, x| acc.wrapping_add(x.to_bits())),
    )
}

/// `I32F32::saturating_from_num(u64)` (integer → fixed is exact below 2³¹).
#[inline]
pub fn from_u64(x: u64) -> I32F32 {
    I32F32::from_bits(clamp_i64((x as i128) << FRAC))
}

/// `x.saturating_to_num::<u16>()`: floor, clamped to `0..=65535`.
#[inline]
pub fn to_u16(x: I32F32) -> u16 {
    let int = x.to_bits() >> FRAC;
    int.clamp(0, u16::MAX as i64) as u16
}

/// `math.rs fixed_proportion_to_u16`: `floor(x · 65535)`, clamped.
#[inline]
pub fn fixed_proportion_to_u16(x: I32F32) -> u16 {
    to_u16(mul(x, from_u64(u16::MAX as u64)))
}

/// `math.rs u16_proportion_to_fixed` (also `fixed_to_fixed_u16_proportion` of an integer):
/// `x / 65535`, truncated. Used for κ, β, the liquid-alpha bounds and Yuma3 bonds.
#[inline]
pub fn u16_proportion_to_fixed(x: u16) -> I32F32 {
    safe_div(from_u64(x as u64), from_u64(u16::MAX as u64))
}

/// `x.round()` as substrate-fixed does it: to nearest, ties away from zero.
#[inline]
pub fn round(x: I32F32) -> I32F32 {
    let b = x.to_bits();
    let half = 1i64 << (FRAC - 1);
    let mask = (1i64 << FRAC) - 1;
    let r = if b >= 0 {
        (b.saturating_add(half)) & !mask
    } else {
        -((b.saturating_neg().saturating_add(half)) & !mask)
    };
    I32F32::from_bits(r)
}

/// `1 − bonds_moving_average / 1e6` computed as the chain does: the quotient in I64F64, narrowed
/// to I32F32 (floor), subtracted from one (`compute_ema_bonds_normal_sparse`,
/// `bonds_moving_average_alpha`).
pub fn bonds_moving_average_alpha(bonds_moving_average: u64) -> I32F32 {
    // floor(floor(bma·2⁶⁴/1e6) / 2³²) == floor(bma·2³²/1e6)
    let q = ((bonds_moving_average as u128) << FRAC) / 1_000_000u128;
    let q = I32F32::from_bits(clamp_i64(q.min(i128::MAX as u128) as i128));
    sub(ONE, q)
}

// ---------------------------------------------------------------------------------------------
// I64F64 (raw stake)
// ---------------------------------------------------------------------------------------------

/// `I64F64::saturating_from_num(u64)`.
#[inline]
pub fn i64f64_from_u64(x: u64) -> I64F64 {
    I64F64::from_bits(((x as u128).min(i64::MAX as u128) as i128) << 64)
}

/// `I64F64 / I64F64` with substrate-fixed semantics: `(bits_a << 64) / bits_b`, truncating
/// toward zero, computed in 192-bit precision. `None` for a zero divisor or overflow.
pub fn i64f64_checked_div(a: I64F64, b: I64F64) -> Option<I64F64> {
    let (a, b) = (a.to_bits(), b.to_bits());
    if b == 0 {
        return None;
    }
    let neg = (a < 0) != (b < 0);
    let ua = a.unsigned_abs();
    let ub = b.unsigned_abs();
    let q_hi = ua / ub;
    let r = ua % ub;
    if q_hi >= (1u128 << 63) {
        return None;
    }
    let q_lo: u128 = if r >> 64 == 0 {
        (r << 64) / ub
    } else {
        div_192_by_128(r, ub) as u128
    };
    let q = (q_hi << 64) | q_lo;
    if q > i128::MAX as u128 {
        return None;
    }
    let q = q as i128;
    Some(I64F64::from_bits(if neg { -q } else { q }))
}

/// `floor(r·2⁶⁴ / d)` for `2⁶⁴ ≤ r < d < 2¹²⁸` (the quotient is below 2⁶⁴): one digit of
/// Knuth's algorithm D in base 2⁶⁴. With `d` shifted so its top bit is set, the estimate
/// `q̂ = min(⌊(top 128 bits of the numerator) / (top 64 bits of d)⌋, 2⁶⁴ − 1)` satisfies
/// `q ≤ q̂ ≤ q + 2` (Knuth, TAOCP 4.3.1, Theorem B), and it is corrected by comparing `q̂·d`
/// with the numerator exactly in 192 bits. Replaces a 64-step bitwise long division;
/// `tests::i64f64_division_matches_bitwise` compares the two.
fn div_192_by_128(r: u128, d: u128) -> u64 {
    debug_assert!(r >> 64 != 0 && r < d);
    let s = d.leading_zeros(); // < 64 since d > r ≥ 2⁶⁴
    let dn = d << s;
    let rn = r << s; // r < d, so no bit is lost
    let (d_hi, d_lo) = ((dn >> 64) as u64, dn as u64);
    let mut q = (rn / d_hi as u128).min(u64::MAX as u128) as u64;
    loop {
        // q·dn as 192 bits: high 128 bits `hi`, low 64 bits `lo`; the numerator is (rn, 0).
        let p_lo = q as u128 * d_lo as u128;
        let hi = q as u128 * d_hi as u128 + (p_lo >> 64);
        let lo = p_lo as u64;
        if hi < rn || (hi == rn && lo == 0) {
            return q;
        }
        q -= 1;
    }
}

/// `fixed64_to_u64`: floor of an I64F64, clamped to u64.
#[inline]
pub fn i64f64_to_u64(x: I64F64) -> u64 {
    let int = x.to_bits() >> 64;
    int.clamp(0, u64::MAX as i128) as u64
}

/// `fixed64_to_fixed32`: drop 32 fraction bits (floor), saturate.
#[inline]
pub fn i64f64_to_i32f32(x: I64F64) -> I32F32 {
    I32F32::from_bits(clamp_i64(x.to_bits() >> 32))
}

/// `I96F32::saturating_from_num(x).saturating_mul(rao).saturating_to_num::<u64>()`: the rao
/// share `floor(x · rao)` of a normalized emission score.
#[inline]
pub fn share_of_rao(x: I32F32, rao: u64) -> u64 {
    let b = x.to_bits();
    if b <= 0 {
        return 0;
    }
    let p = (b as u128 * rao as u128) >> FRAC;
    p.min(u64::MAX as u128) as u64
}

// ---------------------------------------------------------------------------------------------
// Transcendental (substrate_fixed::transcendental), used by the liquid-alpha sigmoid.
// ---------------------------------------------------------------------------------------------

/// e as the I9F23 constant `substrate_fixed::transcendental::E` (`floor(e·2²³)`), widened to
/// I32F32. `exp(1)` returns exactly this constant.
const E_I9F23_BITS: i64 = 22_802_600;

/// `substrate_fixed::transcendental::exp::<I32F32, I32F32>`: Taylor series with 30 terms, each
/// term floored by the multiply and truncated by the divide; negative inputs are `1/exp(|x|)`.
///
/// The series runs on unsigned integers (every term is non-negative once `x ≥ 0`) and is
/// unrolled so that each `term / i` is a division by a constant, which the compiler turns
/// into a multiply; `tests::exp_fast_path_is_exact` compares it with the series as written.
pub fn exp(x: I32F32) -> Option<I32F32> {
    if x == ZERO {
        return Some(ONE);
    }
    if x == ONE {
        return Some(I32F32::from_bits(E_I9F23_BITS << (FRAC - 23)));
    }
    let neg = x < ZERO;
    let xb = if neg {
        x.to_bits().checked_neg()? // i64::MIN cannot be negated
    } else {
        x.to_bits()
    };
    let xu = xb as u64;
    let mut result = xb.checked_add(1i64 << FRAC)? as u64;
    let mut term = xu;
    macro_rules! step {
        ($($i:literal)*) => {$(
            // checked_mul(term, x): floor((term·x) / 2³²), None above i64::MAX.
            let p = (term as u128 * xu as u128) >> FRAC;
            if p > i64::MAX as u128 {
                return None;
            }
            term = p as u64 / $i;
            if term == 0 {
                return finish(result, neg); // every later term is 0 as well
            }
            result = add_checked_u(result, term)?;
        )*};
    }
    step!(2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31);
    finish(result, neg)
}

/// `i64::checked_add` on two non-negative i64 values held as u64.
#[inline(always)]
fn add_checked_u(a: u64, b: u64) -> Option<u64> {
    let s = a + b; // both ≤ i64::MAX: no u64 overflow
    if s > i64::MAX as u64 {
        None
    } else {
        Some(s)
    }
}

/// The end of [`exp`]: `checked_div(ONE, result)` for a negative input. `result > 1` there,
/// so the quotient `2⁶⁴ / result` fits 32 bits and one u64 division gives it exactly.
#[inline(always)]
fn finish(result: u64, neg: bool) -> Option<I32F32> {
    if !neg {
        return Some(I32F32::from_bits(result as i64));
    }
    Some(I32F32::from_bits(recip_2_64(result) as i64))
}

/// `floor(2⁶⁴ / d)` for `d > 2³²` (result below 2³²): `(2⁶⁴ − 1) / d`, plus one exactly when
/// `d` divides 2⁶⁴ (a power of two).
#[inline(always)]
fn recip_2_64(d: u64) -> u64 {
    let q = u64::MAX / d;
    if d.is_power_of_two() {
        q + 1
    } else {
        q
    }
}

#[cfg(test)]
#[inline]
fn add_checked(a: I32F32, b: I32F32) -> Option<I32F32> {
    a.to_bits().checked_add(b.to_bits()).map(I32F32::from_bits)
}

/// `math.rs exp_safe`: clamp the input to [−20, 20], then [`exp`]; an error gives 0 for a
/// non-positive input and `I32F32::MAX` otherwise.
pub fn exp_safe(x: I32F32) -> I32F32 {
    let lo = I32F32::from_bits(-20i64 << FRAC);
    let hi = I32F32::from_bits(20i64 << FRAC);
    exp_within_20(x.clamp(lo, hi))
}

/// [`exp`] for `|x| ≤ 20`, where it never fails, without its overflow checks.
///
/// Why none can fire: every term is at most `x^k/k!·2³²` (each step floors), and
/// `max_k 20^k/k! = 20²⁰/20! ≈ 4.3·10⁷`, so `term < 2⁵⁸`; the product `term·|x| < 2⁵⁸·2³⁷`
/// shifted right by 32 is below 2⁶³ (the `checked_mul` bound), and the running sum is at most
/// `e²⁰·2³² ≈ 2.1·10¹⁸ < 2⁶³` (the `checked_add` bound). `i64::MIN` is out of range, so the
/// negation cannot fail either. `tests::exp_within_20_is_exact` compares it with [`exp`].
#[inline]
pub(crate) fn exp_within_20(x: I32F32) -> I32F32 {
    debug_assert!(x.to_bits().unsigned_abs() <= 20u64 << FRAC);
    if x == ZERO {
        return ONE;
    }
    if x == ONE {
        return I32F32::from_bits(E_I9F23_BITS << (FRAC - 23));
    }
    let neg = x < ZERO;
    let xu = x.to_bits().unsigned_abs();
    let mut result = xu + (1u64 << FRAC);
    let mut term = xu;
    macro_rules! step {
        ($($i:literal)*) => {$(
            term = ((term as u128 * xu as u128) >> FRAC) as u64 / $i;
            if term == 0 {
                return finish_unchecked(result, neg);
            }
            result += term;
        )*};
    }
    step!(2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31);
    finish_unchecked(result, neg)
}

#[inline(always)]
fn finish_unchecked(result: u64, neg: bool) -> I32F32 {
    // result > 2³² when neg (|x| > 0 was added to 1): see [`finish`].
    if neg {
        I32F32::from_bits(recip_2_64(result) as i64)
    } else {
        I32F32::from_bits(result as i64)
    }
}

/// `liquid_alpha_sigmoid` (`epoch/bonds.rs`, formerly `alpha_sigmoid` in `run_epoch.rs`): the
/// per-(validator, miner) EMA coefficient, clamped to `[alpha_low, alpha_high]`.
pub fn liquid_alpha_sigmoid(
    consensus: I32F32,
    weight: I32F32,
    bond: I32F32,
    alpha_low: I32F32,
    alpha_high: I32F32,
    steepness: I32F32,
) -> I32F32 {
    let diff_buy = sub(weight, consensus).clamp(ZERO, ONE);
    let diff_sell = sub(bond, weight).clamp(ZERO, ONE);
    let combined = if weight >= bond { diff_buy } else { diff_sell };
    let half = I32F32::from_bits(1i64 << (FRAC - 1));
    let minus_100 = I32F32::from_bits(-100i64 << FRAC);
    let arg = mul(saturating_div(steepness, minus_100), sub(combined, half));
    let sigmoid = saturating_div(ONE, add(ONE, exp_safe(arg)));
    let alpha = add(alpha_low, mul(sigmoid, sub(alpha_high, alpha_low)));
    alpha.min(alpha_high).max(alpha_low)
}

/// [`liquid_alpha_sigmoid`] with its per-epoch constants hoisted and a memo of the result per
/// sigmoid argument: α depends on (consensus, weight, bond) only through
/// `arg = mul(steepness / −100, combined − ½)`, and the 30-term `exp` is by far the costliest
/// step of the liquid-alpha EMA. Bit-identical to [`liquid_alpha_sigmoid`]
/// (`tests::liquid_alpha_matches_reference`).
#[derive(Clone, Debug)]
pub struct LiquidAlpha {
    low: I32F32,
    high: I32F32,
    span: I32F32,
    slope: I32F32,
    keys: Vec<i64>,
    vals: Vec<I32F32>,
}

const LIQUID_CACHE_BITS: u32 = 12;

impl LiquidAlpha {
    /// Prepare the sigmoid for the given bounds and steepness (`steepness` as passed to
    /// [`liquid_alpha_sigmoid`]).
    pub fn new(alpha_low: I32F32, alpha_high: I32F32, steepness: I32F32) -> Self {
        let minus_100 = I32F32::from_bits(-100i64 << FRAC);
        LiquidAlpha {
            low: alpha_low,
            high: alpha_high,
            span: sub(alpha_high, alpha_low),
            slope: saturating_div(steepness, minus_100),
            // i64::MIN is never a key: |slope| < 2²⁵ and |combined − ½| ≤ ½, so |arg| < 2²⁴.
            keys: vec![i64::MIN; 1 << LIQUID_CACHE_BITS],
            vals: vec![ZERO; 1 << LIQUID_CACHE_BITS],
        }
    }

    /// `liquid_alpha_sigmoid(consensus, weight, bond, low, high, steepness)`.
    #[inline]
    pub fn alpha(&mut self, consensus: I32F32, weight: I32F32, bond: I32F32) -> I32F32 {
        let key = self.key(consensus, weight, bond);
        if let Some(a) = self.lookup(key) {
            return a;
        }
        let alpha = self.alpha_from_exp(exp_safe(I32F32::from_bits(key)));
        self.insert(key, alpha);
        alpha
    }

    /// The sigmoid argument `mul(steepness / −100, combined − ½)`: α is a function of it.
    #[inline]
    pub(crate) fn key(&self, consensus: I32F32, weight: I32F32, bond: I32F32) -> i64 {
        let combined = if weight >= bond {
            sub(weight, consensus).clamp(ZERO, ONE)
        } else {
            sub(bond, weight).clamp(ZERO, ONE)
        };
        let half = I32F32::from_bits(1i64 << (FRAC - 1));
        mul(self.slope, sub(combined, half)).to_bits()
    }

    #[inline]
    fn slot(key: i64) -> usize {
        ((key as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - LIQUID_CACHE_BITS)) as usize
    }

    /// The memoized α for a sigmoid argument, if present.
    #[inline]
    pub(crate) fn lookup(&self, key: i64) -> Option<I32F32> {
        let slot = Self::slot(key);
        (self.keys[slot] == key).then(|| self.vals[slot])
    }

    /// Memoize α for a sigmoid argument.
    #[inline]
    pub(crate) fn insert(&mut self, key: i64, alpha: I32F32) {
        let slot = Self::slot(key);
        self.keys[slot] = key;
        self.vals[slot] = alpha;
    }

    /// α from `e = exp_safe(key)`: `saturating_div(1, 1 + e)` mapped into `[low, high]`.
    #[inline]
    pub(crate) fn alpha_from_exp(&self, e: I32F32) -> I32F32 {
        let den = add(ONE, e).to_bits();
        // saturating_div(ONE, den) with den ≥ 1 (e ≥ 0): 2⁶⁴ / den, at most 2³².
        let sigmoid = if den == 1i64 << FRAC {
            ONE
        } else {
            I32F32::from_bits(recip_2_64(den as u64) as i64)
        };
        let alpha = add(self.low, mul(sigmoid, self.span));
        alpha.min(self.high).max(self.low)
    }
}

/// [`exp_safe`] of four arguments at once: the four series advance in lock step (a finished
/// series only adds zero terms: `0·x/i = 0`, and [`exp_within_20`] stops at the first zero
/// term for the same reason), so the latency-bound term chains overlap. Bit-identical to four
/// calls (`tests::exp_safe4_matches`).
pub(crate) fn exp_safe4(x: [i64; 4]) -> [I32F32; 4] {
    let lim = 20i64 << FRAC;
    let xs = x.map(|b| b.clamp(-lim, lim));
    let xu = xs.map(|b| b.unsigned_abs());
    let mut term = xu;
    let mut result = xu.map(|u| u + (1u64 << FRAC));
    'series: {
        macro_rules! step {
            ($($i:literal)*) => {$(
                for l in 0..4 {
                    term[l] = ((term[l] as u128 * xu[l] as u128) >> FRAC) as u64 / $i;
                    result[l] += term[l];
                }
                if term.iter().all(|&t| t == 0) {
                    break 'series;
                }
            )*};
        }
        step!(2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31);
    }
    let mut out = [ZERO; 4];
    for l in 0..4 {
        out[l] = if xs[l] == ONE.to_bits() {
            I32F32::from_bits(E_I9F23_BITS << (FRAC - 23))
        } else {
            // x = 0 gives 1 + 0: ONE, as exp's shortcut.
            finish_unchecked(result[l], xs[l] < 0)
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kappa_default_is_not_half() {
        let k = u16_proportion_to_fixed(32767);
        assert!(k < I32F32::from_num(0.5));
        assert_eq!(k.to_bits(), (32767i64 << 32) / 65535);
    }

    #[test]
    fn alpha_from_bma() {
        // 0.1 in I32F32 is 429496730 bits (spec §2: 0.10000000009).
        assert_eq!(bonds_moving_average_alpha(900_000).to_bits(), 429_496_730);
        assert_eq!(bonds_moving_average_alpha(0), ONE);
    }

    /// The series exactly as substrate_fixed writes it, for comparison with the fast [`exp`].
    fn exp_reference(x: I32F32) -> Option<I32F32> {
        if x == ZERO {
            return Some(ONE);
        }
        if x == ONE {
            return Some(I32F32::from_bits(E_I9F23_BITS << 9));
        }
        let neg = x < ZERO;
        let x = if neg {
            I32F32::from_bits(-x.to_bits())
        } else {
            x
        };
        let mut result = add_checked(x, ONE)?;
        let mut term = x;
        for i in 2..32u64 {
            term = checked_mul(term, x)?;
            term = checked_div(term, from_u64(i))?;
            result = add_checked(result, term)?;
        }
        if neg {
            result = checked_div(ONE, result)?;
        }
        Some(result)
    }

    #[test]
    fn exp_fast_path_is_exact() {
        let mut bits = -(21i64 << 32);
        while bits < (21i64 << 32) {
            let x = I32F32::from_bits(bits);
            assert_eq!(exp(x), exp_reference(x), "{x}");
            bits += 0x1_2345_6789 / 7;
        }
    }

    #[test]
    fn exp_matches_float_closely() {
        for v in [-5.0f64, -1.5, -0.25, 0.3, 2.0, 5.0] {
            let got = exp(I32F32::from_num(v)).unwrap().to_num::<f64>();
            assert!(
                (got - v.exp()).abs() < 1e-6 * v.exp().max(1.0),
                "{v}: {got}"
            );
        }
    }

    #[test]
    fn rounding_rules() {
        assert_eq!(
            mul(I32F32::from_bits(-1), I32F32::from_bits(1)).to_bits(),
            -1
        );
        assert_eq!(safe_div(I32F32::from_bits(-1), from_u64(2)).to_bits(), 0);
        assert_eq!(round(I32F32::from_num(2.5)), I32F32::from_num(3));
        assert_eq!(round(I32F32::from_num(-2.5)), I32F32::from_num(-3));
        assert_eq!(fixed_proportion_to_u16(ONE), 65535);
    }

    #[test]
    fn divisor_matches_safe_div() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200_000 {
            let shape = next() % 4;
            let b = match shape {
                0 => (next() % 65536 * 300) as i64 * (1 << 32),
                1 => (next() % (1 << 33)) as i64,
                2 => (next() >> 1) as i64,
                _ => (next() % 1000) as i64 - 10,
            };
            let a = match next() % 4 {
                0 => (next() % 65536) as i64 * (1 << 32),
                1 => (next() % (1 << 33)) as i64,
                2 => (next() >> 1) as i64,
                _ => -((next() % 1000) as i64),
            };
            let (a, b) = (I32F32::from_bits(a), I32F32::from_bits(b));
            assert_eq!(Divisor::new(b).safe_div(a), safe_div(a, b), "{a:?} / {b:?}");
        }
    }

    #[test]
    fn liquid_alpha_matches_reference() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..200 {
            let low = I32F32::from_bits((next() % (1 << 32)) as i64);
            let high = add(low, I32F32::from_bits((next() % (1 << 32)) as i64));
            let steep = match round % 4 {
                0 => I32F32::from_bits(1000i64 << 32),
                1 => I32F32::from_bits(((next() % 5000) as i64 - 2000) << 32),
                2 => I32F32::from_bits(((next() % 65536) as i64 - 32768) << 32),
                _ => I32F32::from_bits(((next() % 30) as i64) << 32),
            };
            let mut la = LiquidAlpha::new(low, high, steep);
            let pick = |r: u64| match r % 5 {
                0 => ZERO,
                1 => ONE,
                2 => I32F32::from_bits((r >> 8) as i64 % (1 << 32)),
                3 => I32F32::from_bits((r >> 8) as i64 % (3 << 32) - (1 << 32)),
                _ => I32F32::from_bits((r >> 40) as i64),
            };
            for _ in 0..500 {
                let (c, w, b) = (pick(next()), pick(next()), pick(next()));
                assert_eq!(
                    la.alpha(c, w, b),
                    liquid_alpha_sigmoid(c, w, b, low, high, steep),
                    "{c:?} {w:?} {b:?} {low:?} {high:?} {steep:?}"
                );
            }
        }
    }

    #[test]
    fn exp_within_20_is_exact() {
        let limit = 20i64 << 32;
        let mut seed = 0x853c_49e6_748f_ea9bu64;
        for k in 0..400_000i64 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let bits = match k % 4 {
                0 => (seed % (2 * limit as u64 + 1)) as i64 - limit,
                1 => (seed % (12u64 << 32)) as i64 - (6i64 << 32),
                2 => (seed % (1u64 << 33)) as i64 - (1i64 << 32),
                _ => (seed % 4096) as i64 - 2048,
            };
            let x = I32F32::from_bits(bits);
            assert_eq!(Some(exp_within_20(x)), exp(x), "{x}");
        }
        for bits in [-limit, limit, 0, 1 << 32, -(1 << 32), 1, -1] {
            let x = I32F32::from_bits(bits);
            assert_eq!(Some(exp_within_20(x)), exp(x), "{x}");
        }
    }

    #[test]
    fn exp_safe4_matches() {
        let mut seed = 0x1d8e_4e27_c47d_124fu64;
        for k in 0..100_000u64 {
            let mut x = [0i64; 4];
            for l in x.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *l = match (seed >> 60) % 4 {
                    0 => (seed % (60u64 << 32)) as i64 - (30i64 << 32),
                    1 => (seed % (12u64 << 32)) as i64 - (6i64 << 32),
                    2 => {
                        [0, 1 << 32, -(1 << 32), 20 << 32, -(20 << 32), 1, -1][(seed % 7) as usize]
                    }
                    _ => (seed as i64) >> (k % 40),
                };
            }
            let got = exp_safe4(x);
            for l in 0..4 {
                assert_eq!(got[l], exp_safe(I32F32::from_bits(x[l])), "{}", x[l]);
            }
        }
    }

    #[test]
    fn exp_exact_on_dense_grid() {
        for k in -4000i64..4000 {
            let x = I32F32::from_bits(k * 0x0bad_cafe + (k & 7));
            assert_eq!(exp(x), exp_reference(x), "{x}");
        }
        for bits in [
            i64::MIN + 1,
            i64::MAX,
            -(1i64 << 36),
            1i64 << 36,
            22i64 << 32,
        ] {
            let x = I32F32::from_bits(bits);
            assert_eq!(exp(x), exp_reference(x), "{x}");
        }
    }

    /// The bitwise long division [`div_192_by_128`] replaced.
    fn div_192_by_128_bitwise(mut r: u128, ub: u128) -> u64 {
        let mut q = 0u64;
        for bit in (0..64).rev() {
            let carry = r >> 127;
            r <<= 1;
            if carry == 1 || r >= ub {
                r = r.wrapping_sub(ub);
                q |= 1u64 << bit;
            }
        }
        q
    }

    #[test]
    fn i64f64_division_matches_bitwise() {
        let mut seed = 0xdead_beef_1234_5678u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut checked = 0;
        while checked < 200_000 {
            let shape = next() % 4;
            let d = match shape {
                0 => ((next() as u128) << 64 | next() as u128) >> (next() % 64),
                1 => (1u128 << 64) + (next() % 1000) as u128,
                2 => ((next() as u128) << 64) | u64::MAX as u128,
                _ => u128::MAX >> (next() % 63),
            };
            if d >> 64 == 0 || d <= (1u128 << 64) {
                continue;
            }
            let r = match next() % 3 {
                0 => d - 1 - (next() % 3) as u128,
                1 => (1u128 << 64) + (next() as u128) % (d - (1u128 << 64)),
                _ => ((next() as u128) << 64 | next() as u128) % d,
            };
            if r >> 64 == 0 {
                continue;
            }
            assert_eq!(
                div_192_by_128(r, d),
                div_192_by_128_bitwise(r, d),
                "{r} / {d}"
            );
            checked += 1;
        }
    }

    #[test]
    fn i64f64_division() {
        let q = i64f64_checked_div(i64f64_from_u64(1), i64f64_from_u64(3)).unwrap();
        assert_eq!(q.to_bits(), (1i128 << 64) / 3);
        assert!(i64f64_checked_div(i64f64_from_u64(1), I64F64::ZERO).is_none());
    }
}
