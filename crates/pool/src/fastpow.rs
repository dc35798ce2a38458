//! A fast, certified front end of [`bigpow::pow_ratio_scaled`] for machine-word inputs.
//!
//! [`pow_ratio_scaled_u64`] returns exactly what `bigpow::pow_ratio_scaled` returns (as seen
//! through a `u64`, see [`PowU64`]) for every input. It first evaluates
//! `V = scale · (a/b)^(n/d)` in 128-bit fixed point ([`try_fast`]) together with a proven error
//! bound; when every real number within that bound of the estimate has the same floor, that floor
//! is the chain's answer. Otherwise, and for every input shape the proof below does not cover, it
//! calls the big-integer reference. No floating point is involved at all.
//!
//! # Why the floor of the estimate is the chain's result
//!
//! `bigpow` takes one of two paths (see its module comment):
//! * the **exact** path returns `floor(V)` exactly (bisection for the largest `r` with
//!   `r^d · b^n ≤ a^n · scale^d`, i.e. `r ≤ V`);
//! * the **approximate** path returns `floor(C)` for a rational `C` with `|C − V| ≤ δ`, where
//!   (proof in the next section) `δ ≤ 2^-113` whenever `precision` (more exactly the crate's
//!   `requested_precision P = max(precision, 32, bits(scale) + 8)`) is in `[256, 1024]`,
//!   `scale < 2^64`, `a, b < 2^128`, `n/d ≤ 128`, `|ln(V/scale)| ≤ 64` and `V < 2^65`
//!   (in general `δ ≤ 2^-113.4 + V · 2^-239`).
//!
//! The fast estimate `V̂` satisfies `|V̂ − V| ≤ 2^-111.4 · V` (section "Error of the fast
//! estimate"), i.e. at most `2^-47.3` when `V̂ < 2^64`. It is produced as `VQ = floor(V̂ · 2^64)`
//! (so `V̂ ∈ [VQ, VQ + 1) · 2^-64`). With `frac = VQ mod 2^64` the result is certified when
//! `2^24 ≤ frac ≤ 2^64 − 1 − 2^24`: then `V` and `C` both lie within `2^-47` of
//! `[VQ, VQ+1) · 2^-64`, an interval that stays more than `2^-40 − 2^-47` inside
//! `(⌊V̂⌋, ⌊V̂⌋ + 1)`, so `floor(V) = floor(C) = VQ >> 64`. The margin `2^-40` is 128 times the
//! proven bound; a fraction that close to an integer (probability about `2^-39` per call) falls
//! back to the reference, as does every `V̂` with an integer part of exactly `2^64`.
//! `V̂ ≥ 2^64 + 1` (or `t ≥ 65`, below) certifies a result `≥ 2^64` ([`PowU64::TooLarge`]).
//!
//! Because both paths agree with `floor(V)` in the certified region, the fast path does not need
//! to know which one the chain takes, except in two rarely reached places where the reduced
//! exponent is computed (a `u64` gcd): outside `[256, 1024]` bits of precision only the exact
//! path is certified, and for `|t| > 90` (`t = log2(a/b) · n/d`) only the exact path is
//! certified, as `0` (`t < −90`: `V < 2^64 · 2^-89.9 < 1`) or `≥ 2^64` (`t > 90`). The
//! approximate path is left to the reference there because its Taylor series loses all accuracy
//! for large `|ln|` (at `|ln| ≈ 100` it can even return a negative value, i.e. `None`).
//!
//! # The chain's error on the approximate path (`bigpow.rs`)
//!
//! Notation: `Q = P + 24` internal bits, `S = 2^Q`, `g = 2^24`, an "ulp" is `2^-Q`,
//! `max_iters = min(4096, Q + 128)`.
//!
//! 1. *Series stop.* `round_to_precision` (half away from zero) is monotone and two values at
//!    least `g` apart round differently, so "rounded value unchanged" implies `|term| < g`: both
//!    loops stop exactly after adding the first term of magnitude `< g` (a zero term ends them
//!    without being added, which changes nothing), or at `max_iters`.
//! 2. *`ln1p_fixed(x)`, `X = x/S ∈ [−1/2, 1/2]`.* `term_n = floor(term_{n−1} · x / S)` gives
//!    `term_n = S X^n + e_n` with `e_1 = 0`, `|e_n| ≤ |e_{n−1}|/2 + 1 < 2`; `next_n =
//!    floor(term_n / n)` is within `2/n + 1 ≤ 2` of `S X^n / n`. The first `n` with
//!    `|next_n| < g` is at most `P + 1` (`2^(Q−n)/n + 2 < g` there) `≤ max_iters`, and the tail
//!    after it is at most `(g + 2) · |X|/(1 − |X|) ≤ g + 2`. Error: `E1 ≤ 2P + g + 2` ulps.
//! 3. *`ln_biguint(v)`.* For `v < 2^128 < 2^Q` the mantissa `v · 2^(Q−shift)` (halved when
//!    `≥ 1.5 S`) is exact and `X ∈ [−1/4, 1/2)`; `ln_two = −ln1p(−S/2)` has error `≤ E1`; so
//!    `ln_biguint` is within `(1 + shift) · E1 ≤ 129 · E1` ulps (`shift ≤ 128`).
//! 4. *`ln_scaled = floor((ln a − ln b) · n / d)`* is within `258 · r · E1 + 1 ≤ 2^39.02` ulps
//!    of `S · Λ`, `Λ = r · ln(a/b)`, `r = n/d ≤ 128`, `P ≤ 1024`. So `Y = ln_scaled / S`
//!    satisfies `|Y − Λ| ≤ ε_Y = 2^(15.02 − P) ≤ 2^-240`.
//! 5. *`exp_fixed(y)`, `|Y| ≤ 64`.* `term_n = floor(term_{n−1} · y / (S n))` gives
//!    `term_n = S Y^n / n! + e_n`, `|e_n| ≤ E_n := E_{n−1} |Y|/n + 1 ≤ e^|Y|`. For
//!    `1 ≤ n ≤ 2|Y| − 1`, `|Y|^n/n! ≥ (e/2)^n / (e √n) ≥ 1/31` (Stirling), so
//!    `|term_n| ≥ S/31 − e^64 > g`: the loop stops at some `N ≥ 2|Y|`, where the tail ratio is
//!    `≤ 1/2` and the tail is `≤ g + E_N`. `N ≤ max_iters` because some `n ≤ max_iters` has
//!    `S |Y|^n / n! + E_n < g`; this is checked for `|Y| = 64` (the worst case, both terms grow
//!    with `|Y|`) and every `P ∈ [256, 1024]` by the test `exp_series_stops_in_time`
//!    (worst slack: 101 iterations at `P = 256`). Error:
//!    `≤ (N + 2) e^64 + g ≤ 1178 · 2^92.34 + 2^24 ≤ 2^102.56` ulps.
//! 6. *Rounding* to `P` bits adds `g/2`; `C = exp_requested · scale / 2^P` then satisfies
//!    `|C − scale · e^Y| ≤ scale · 2^(78.57 − P) ≤ 2^(142.57 − P) ≤ 2^-113.4`, and
//!    `|scale · e^Y − V| ≤ V · 2 ε_Y ≤ V · 2^-239`. Hence `δ ≤ 2^-113` for `V < 2^65`.
//!
//! # Error of the fast estimate
//!
//! Fixed-point formats: `Qa.b` has `b` fraction bits. Every multiply rounds down: to the floor,
//! or (`mul_hi`, which skips the low partial product) at most 3 units of the last place below.
//!
//! * `log2_q120(v)`: `v = 2^k · M`, `M ∈ [1, 2)` exact in Q1.127. With `j1` the next 8 bits and
//!   `c1 = ⌈2^63 · 256/(256 + j1)⌉ / 2^63`, `U1 = M c1 − 1 ∈ [0, 2^-8)`, stored floored to
//!   Q0.128 as `u1` (`≤ 2^-128` low). With `j2 = ⌊u1 · 2^16⌋` and `c2 = ⌈2^63 · 2^16/(2^16 +
//!   j2)⌉ / 2^63`, `U2 = (1 + u1) c2 − 1 ∈ [0, 2^-16 + 2^-62)`, stored floored as `u2`. Then
//!   `log2 M = T1[j1] + T2[j2] + log2(1 + U2) + (log2(1 + U1) − log2(1 + u1))` exactly, with
//!   `T = −log2 c` (tables within `2^-128`, checked by `log_tables_are_exact`). `ln(1 + u2)` by
//!   Horner to degree 7 (truncation `u^8/8 < 2^-131`; the brackets from `1/4` on in Q0.64,
//!   error `≤ 2^-62.8`, which reaches the result times `u³ < 2^-48`; rounding in all
//!   `≤ 6.9 · 2^-128`), times `log2 e` (`≤ 13 · 2^-128` total). The two input truncations add
//!   `≤ 2 · log2(e) · 2^-128`, the tables `2 · 2^-128`. Sum: `≤ 2^-123.84`; the two final shifts
//!   to Q·.120 add `< 2^-119`. `ΔL ≤ 2^-118.91`.
//! * `t = (log2 a − log2 b) · n / d` (floored in Q·.120, sign apart): `Δt ≤ 128 · 2 ΔL +
//!   2^-120 ≤ 2^-110.9`.
//! * `2^f`, `f ∈ [0, 1)`: `2^(i1/256) · 2^(i2/2^16) · e^(ρ ln 2)`, `ρ < 2^-16`; the tables are
//!   floored (checked by `exp_tables_are_exact`), `z ≈ ρ ln 2` is `≤ 3.01 · 2^-128` low, the
//!   degree-7 Taylor polynomial of `e^z − 1` (brackets from `1/24` on in Q0.64, reaching the
//!   result times `z³ < 2^-49`) is `≤ 5.2 · 2^-128` low, the Q1.127 conversion and the two
//!   products lose `< 2^-127` each. Every step rounds down, so the estimate never exceeds
//!   `2^f < 2` (no overflow) and is at most `2^-123.8` (relative) below it.
//! * Together: `|V̂/V − 1| ≤ 2^-123.8 + ln 2 · 2^-110.9 · (1 + 2^-100) ≤ 2^-111.4`.

use num_bigint::BigUint;
use num_traits::ToPrimitive;

use crate::bigpow;
use crate::fastpow_tables::*;

/// What `bigpow::pow_ratio_scaled` returns, as its callers use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowU64 {
    /// `None`: a zero denominator (or, on the approximate path far outside the certified
    /// region, a negative series value).
    Undefined,
    /// `Some(r)` with `r < 2^64`.
    Fits(u64),
    /// `Some(r)` with `r ≥ 2^64`.
    TooLarge,
}

/// Smallest and largest `requested_precision` the approximate-path bound covers.
const MIN_P: u32 = 256;
const MAX_P: u32 = 1024;
/// `|t|` bound of the certified region (`t = log2 V/scale`), in Q·.120: 90.
const T_MAX_Q120: u128 = 90 << 120;
/// Distance to an integer (in units of `2^-64`) a certified estimate keeps: `2^-40`.
const MARGIN: u64 = 1 << 24;
/// Bounds of the chain's exact path (`bigpow::MAX_EXACT_EXPONENT`, 32-bit parts).
const MAX_EXACT_EXPONENT: u64 = 1_024;

/// `pow_ratio_scaled(a, b, n, d, precision, scale)`, bit-identical to
/// [`bigpow::pow_ratio_scaled`]: the certified fast path, else the big-integer reference.
pub fn pow_ratio_scaled_u64(
    a: u128,
    b: u128,
    n: u64,
    d: u64,
    precision: u32,
    scale: u64,
) -> PowU64 {
    try_fast(a, b, n, d, precision, scale)
        .unwrap_or_else(|| reference(a, b, n, d, precision, scale))
}

/// The big-integer reference, [`bigpow::pow_ratio_scaled`], seen through [`PowU64`].
pub fn reference(a: u128, b: u128, n: u64, d: u64, precision: u32, scale: u64) -> PowU64 {
    let r = bigpow::pow_ratio_scaled(
        &BigUint::from(a),
        &BigUint::from(b),
        &BigUint::from(n),
        &BigUint::from(d),
        precision,
        &BigUint::from(scale),
    );
    match r {
        None => PowU64::Undefined,
        Some(r) => match r.to_u64() {
            Some(v) => PowU64::Fits(v),
            None => PowU64::TooLarge,
        },
    }
}

/// The certified fast evaluation: `Some` only when the result is proven equal to the
/// reference's (see the module documentation), `None` when the caller must fall back.
pub fn try_fast(a: u128, b: u128, n: u64, d: u64, precision: u32, scale: u64) -> Option<PowU64> {
    // The reference's early returns, in its order.
    if b == 0 || d == 0 {
        return Some(PowU64::Undefined);
    }
    if a == 0 {
        return Some(PowU64::Fits(0));
    }
    if n == 0 {
        return Some(PowU64::Fits(scale));
    }
    if scale == 0 || u128::from(n) > u128::from(d) << 7 {
        return None;
    }
    let la = log2_q120(a)?;
    let lb = log2_q120(b)?;
    let (negative, magnitude) = if la >= lb {
        (false, la - lb)
    } else {
        (true, lb - la)
    };
    let q = match mul_div_floor(magnitude, n, d) {
        Some(q) if q <= T_MAX_Q120 => q,
        // |t| > 90: certified only on the exact path (see the module documentation).
        _ => {
            return if takes_exact_path(n, d) {
                Some(if negative {
                    PowU64::Fits(0)
                } else {
                    PowU64::TooLarge
                })
            } else {
                None
            };
        }
    };
    let scale_bits = 64 - scale.leading_zeros();
    let requested_precision = precision.max(32).max(scale_bits + 8);
    if !(MIN_P..=MAX_P).contains(&requested_precision) && !takes_exact_path(n, d) {
        return None;
    }
    // t = T + f, T an integer, f ∈ [0, 1) in Q0.128 (exact).
    let int_part = (q >> 120) as i32;
    let frac_part = q & ((1u128 << 120) - 1);
    let (t_int, f) = if !negative {
        (int_part, frac_part << 8)
    } else if frac_part == 0 {
        (-int_part, 0)
    } else {
        (-int_part - 1, ((1u128 << 120) - frac_part) << 8)
    };
    if t_int >= 65 || (t_int == 64 && scale >= 2) {
        // V̂ ≥ scale · 2^T · (1 − 2^-123.8) ≥ 2^65 · (1 − 2^-123.8), so V and C exceed 2^64 + 1.
        return Some(PowU64::TooLarge);
    }
    if t_int == 64 {
        return None;
    }
    let mantissa = exp2_q127(f)?;
    // V̂ = X · 2^(T − 127) with X = scale · 2^f · 2^127 = xh · 2^64 + xl.
    let (xh, xl) = mul_128_64(mantissa, scale);
    // Integer part: X >> (127 − T), with 127 − T ≥ 64.
    let int_shift = (63 - t_int) as u32; // (127 − T) − 64, in [0, 154]
    let whole = if int_shift < 128 { xh >> int_shift } else { 0 };
    if whole > 1u128 << 64 {
        return Some(PowU64::TooLarge);
    }
    if whole == 1u128 << 64 {
        return None;
    }
    // VQ = floor(V̂ · 2^64) = X >> (63 − T); fits because V̂ < 2^64.
    let s = int_shift;
    let vq = if s >= 64 {
        if s - 64 < 128 {
            xh >> (s - 64)
        } else {
            0
        }
    } else {
        (xh << (64 - s)) | (u128::from(xl) >> s)
    };
    let frac = vq as u64;
    if !(MARGIN..=u64::MAX - MARGIN).contains(&frac) {
        return None;
    }
    Some(PowU64::Fits((vq >> 64) as u64))
}

/// Whether the reference takes its exact path: the reduced exponent has 32-bit parts and a
/// numerator of at most 1024.
fn takes_exact_path(n: u64, d: u64) -> bool {
    let g = gcd(n, d);
    let (n, d) = (n / g, d / g);
    n <= MAX_EXACT_EXPONENT && d <= u64::from(u32::MAX)
}

/// Binary gcd of two non-zero values.
fn gcd(mut a: u64, mut b: u64) -> u64 {
    let shift = (a | b).trailing_zeros();
    a >>= a.trailing_zeros();
    loop {
        b >>= b.trailing_zeros();
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        b -= a;
        if b == 0 {
            return a << shift;
        }
    }
}

/// `a · b` as `(hi, lo)` with value `hi · 2^64 + lo`.
#[inline]
fn mul_128_64(a: u128, b: u64) -> (u128, u64) {
    let b = u128::from(b);
    let lo = (a as u64 as u128) * b;
    let hi = (a >> 64) * b + (lo >> 64);
    (hi, lo as u64)
}

/// `a · b` as `(hi, lo)` with value `hi · 2^128 + lo`.
#[inline]
fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    let (a1, a0) = (a >> 64, a as u64 as u128);
    let (b1, b0) = (b >> 64, b as u64 as u128);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // < 3 · 2^64: no overflow.
    let mid = (p00 >> 64) + (p01 as u64 as u128) + (p10 as u64 as u128);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    let lo = (mid << 64) | (p00 as u64 as u128);
    (hi, lo)
}

/// `floor(a · b / 2^64)`.
#[inline]
fn mul_hi64(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) >> 64) as u64
}

/// `floor(a · b / 2^128)` minus 0, 1 or 2 (the carry out of the dropped low partial product),
/// so within 3 units of `2^-128` below `a · b / 2^128`.
#[inline]
fn mul_hi(a: u128, b: u128) -> u128 {
    let (a1, a0) = (a >> 64, a as u64 as u128);
    let (b1, b0) = (b >> 64, b as u64 as u128);
    a1 * b1 + ((a0 * b1) >> 64) + ((a1 * b0) >> 64)
}

/// `floor(a · b / 2^127)` of two Q1.127 values whose product is below 2; `None` otherwise.
#[inline]
fn mul_q127(a: u128, b: u128) -> Option<u128> {
    let (hi, lo) = mul_wide(a, b);
    if hi >> 127 != 0 {
        return None;
    }
    Some((hi << 1) | (lo >> 127))
}

/// `floor(m · n / d)` for `d ≠ 0`, `None` when it is `≥ 2^128`.
#[inline]
fn mul_div_floor(m: u128, n: u64, d: u64) -> Option<u128> {
    let (hi, lo) = mul_128_64(m, n);
    let d = u128::from(d);
    if hi >> 64 >= d {
        return None;
    }
    let q1 = hi / d; // < 2^64
    let r1 = hi - q1 * d; // < d < 2^64
    let q0 = ((r1 << 64) | u128::from(lo)) / d; // < 2^64
    Some((q1 << 64) | q0)
}

/// `log2(v)` for `v ≥ 1`, in Q8.120, within `2^-118.97` (module documentation).
/// `None` only if an internal invariant were violated (it cannot be; kept as a safe fallback).
#[inline]
fn log2_q120(v: u128) -> Option<u128> {
    let lz = v.leading_zeros();
    let k = u128::from(127 - lz);
    let m = v << lz; // M = m / 2^127 ∈ [1, 2)
    let j1 = ((m >> 119) & 0xFF) as usize;
    let c1 = LOG_C1[j1];
    // m · c1 ∈ [2^190, 2^190 + 2^182): M · c1' ∈ [1, 1 + 2^-8).
    let (hi, lo) = mul_128_64(m, c1);
    if hi >> 126 != 1 {
        return None;
    }
    // u1 = floor(m · c1 / 2^62) − 2^128 (the dropped bit is that 2^128): U1 floored in Q0.128.
    let u1 = (hi << 2) | u128::from(lo >> 62);
    let j2 = (u1 >> 112) as usize; // < 256 since u1 < 2^120
    let c2 = *LOG_C2.get(j2)?;
    // floor((1 + u1) · c2' · 2^128) − 2^128 = floor(u1 · c2 / 2^63) − (2^63 − c2) · 2^65, which
    // is ≥ 0 because u1 ≥ j2 · 2^112 and c2' ≥ 1/(1 + j2 / 2^16).
    let (h2, l2) = mul_128_64(u1, c2);
    let x = (h2 << 1) | u128::from(l2 >> 63);
    let u = x.checked_sub(u128::from((1u64 << 63) - c2) << 65)?; // < 2^112 + 2^66
                                                                 // ln(1 + u) = u − u² (1/2 − u (1/3 − u (1/4 − u (1/5 − u (1/6 − u/7))))). The inner
                                                                 // bracket from 1/4 on is multiplied by u³ < 2^-48, so Q0.64 suffices there (error
                                                                 // ≤ 2.3 · 2^-64). Every bracket is positive: the subtracted product is at most u < 2^-15.9.
    let uh = (u >> 64) as u64;
    let h4 = INV4_Q64
        - mul_hi64(
            uh,
            INV5_Q64 - mul_hi64(uh, INV6_Q64 - mul_hi64(uh, INV7_Q64)),
        );
    let h3 = INV3_Q128 - mul_128_64(u, h4).0;
    let h = INV2_Q128 - mul_hi(u, h3);
    let ln1p = u - mul_hi(mul_hi(u, u), h); // mul_hi(u², h) ≤ u² < u
    let log2_1p = ln1p + mul_hi(ln1p, LOG2E_M1_Q128); // < 2^113
    Some((k << 120) + (LOG_T1[j1] >> 8) + ((LOG_T2[j2] + log2_1p) >> 8))
}

/// `2^f` for `f ∈ [0, 1)` in Q0.128, as Q1.127 in `[2^127, 2^128)`, never above the true value
/// and at most `2^-124.2` (relative) below it.
#[inline]
fn exp2_q127(f: u128) -> Option<u128> {
    let i1 = (f >> 120) as usize;
    let i2 = ((f >> 112) & 0xFF) as usize;
    let rho = f & ((1u128 << 112) - 1);
    let z = mul_hi(rho, LN2_Q128); // ρ ln 2 < 2^-16.5
                                   // e^z − 1 = z + z² (1/2 + z (1/6 + z (1/24 + z (1/120 + z (1/720 + z/5040))))); the
                                   // bracket from 1/24 on is multiplied by z³ < 2^-49, so Q0.64 suffices there.
    let zh = (z >> 64) as u64;
    let g4 = INV_FACT4_Q64
        + mul_hi64(
            zh,
            INV_FACT5_Q64 + mul_hi64(zh, INV_FACT6_Q64 + mul_hi64(zh, INV_FACT7_Q64)),
        );
    let g3 = INV_FACT3_Q128 + mul_128_64(z, g4).0;
    let h = INV_FACT2_Q128 + mul_hi(z, g3);
    let expm1 = z + mul_hi(mul_hi(z, z), h); // < 2^113
    let g = (1u128 << 127) + (expm1 >> 1);
    let e12 = mul_q127(EXP_E1[i1], EXP_E2[i2])?;
    mul_q127(e12, g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;
    use num_traits::{One, Signed, Zero};

    /// Working precision (bits) of the big-integer checks of the tables.
    const W: usize = 400;

    fn one() -> BigInt {
        BigInt::one() << W
    }

    /// `2 · atanh(s)` in Q·.W for `|s| ≤ 1/3` given in Q·.W, within `2^-(W−10)`.
    fn two_atanh(s: &BigInt) -> BigInt {
        let s2 = (s * s) >> W;
        let mut pow = s.clone();
        let mut sum = BigInt::zero();
        let mut k = 1u32;
        while !pow.is_zero() {
            sum += &pow / BigInt::from(k);
            pow = (&pow * &s2) >> W;
            k += 2;
        }
        sum << 1
    }

    /// `ln(p/q)` in Q·.W for `1/2 ≤ p/q ≤ 2`.
    fn ln_ratio(p: &BigInt, q: &BigInt) -> BigInt {
        two_atanh(&(((p - q) << W) / (p + q)))
    }

    /// `e^x` in Q·.W for `0 ≤ x < 1` given in Q·.W.
    fn exp_fixed(x: &BigInt) -> BigInt {
        let mut term = one();
        let mut sum = one();
        let mut k = 1u32;
        while !term.is_zero() {
            term = ((&term * x) >> W) / BigInt::from(k);
            sum += &term;
            k += 1;
        }
        sum
    }

    fn to_big(v: u128) -> BigInt {
        BigInt::from(v)
    }

    /// `|table · 2^(W−bits) − exact|` in units of the table's last bit, times 2^20.
    fn err_units(table: u128, exact: &BigInt, bits: usize) -> BigInt {
        (((to_big(table) << (W - bits)) - exact).abs() << 20) >> (W - bits)
    }

    #[test]
    fn log_tables_are_exact() {
        let ln2 = ln_ratio(&BigInt::from(2), &BigInt::from(1));
        for (c_table, t_table, steps) in [(&LOG_C1, &LOG_T1, 256u64), (&LOG_C2, &LOG_T2, 65_536)] {
            for j in 0..256u64 {
                // c = ceil(2^63 · steps / (steps + j)).
                let num = BigInt::from(steps) << 63;
                let den = BigInt::from(steps + j);
                let c = (&num + &den - 1) / &den;
                assert_eq!(c, BigInt::from(c_table[j as usize]));
                // T = round(log2(2^63 / c) · 2^128): within half a unit (plus 2^-20 slack).
                let exact = (ln_ratio(&(BigInt::one() << 63), &c) << W) / &ln2;
                let e = err_units(t_table[j as usize], &exact, 128);
                assert!(e <= BigInt::from((1u64 << 19) + 1), "table T, j = {j}");
            }
        }
        // ln 2 and log2(e) − 1, floored.
        let e = (to_big(LN2_Q128) << (W - 128)) - &ln2;
        assert!(!e.is_positive() && e > -(BigInt::one() << (W - 128)));
        let log2e_m1 = ((one() << W) / &ln2) - one();
        let e = (to_big(LOG2E_M1_Q128) << (W - 128)) - &log2e_m1;
        assert!(!e.is_positive() && e > -(BigInt::one() << (W - 128)));
        assert_eq!(INV2_Q128, 1 << 127);
        assert_eq!(INV3_Q128, u128::MAX / 3);
        assert_eq!(INV_FACT2_Q128, 1 << 127);
        assert_eq!(INV_FACT3_Q128, u128::MAX / 6);
        let inv = [INV4_Q64, INV5_Q64, INV6_Q64, INV7_Q64];
        let inv_fact = [INV_FACT4_Q64, INV_FACT5_Q64, INV_FACT6_Q64, INV_FACT7_Q64];
        let mut fact = 6u128;
        for k in 4..=7u128 {
            fact *= k;
            assert_eq!(u128::from(inv[k as usize - 4]), (1u128 << 64) / k);
            assert_eq!(u128::from(inv_fact[k as usize - 4]), (1u128 << 64) / fact);
        }
    }

    #[test]
    fn exp_tables_are_exact() {
        let ln2 = ln_ratio(&BigInt::from(2), &BigInt::from(1));
        for (table, steps) in [(&EXP_E1, 256u64), (&EXP_E2, 65_536)] {
            for i in 0..256u64 {
                let exact = exp_fixed(&(&ln2 * BigInt::from(i) / BigInt::from(steps))) << 127;
                // Floored: table ≤ exact < table + 1 (the big value is within 2^-300 of exact).
                let lo = to_big(table[i as usize]) << W;
                let slack = BigInt::one() << (W - 300);
                assert!(lo <= &exact + &slack, "i = {i}");
                assert!(&exact - &slack < lo + one(), "i = {i}");
            }
        }
    }

    /// Step 5 of the chain bound: for `|Y| = 64` and every `P ∈ [256, 1024]`, some
    /// `n ≤ max_iters` has `S·64^n/n! + E_n < 2^24` (both below 2^23). Evaluated in f64
    /// (logarithms for the term); the required slack of 50 iterations, each shrinking the term by
    /// a factor above 4, dwarfs any f64 rounding.
    #[test]
    fn exp_series_stops_in_time() {
        let y = 64f64;
        for p in MIN_P..=MAX_P {
            let q = f64::from(p + 24);
            let max_iters = 4096.min(p as usize + 24 + 128);
            let mut log2_t = q; // log2(S · y^n / n!)
            let mut e = 0f64;
            let mut stop = None;
            for n in 1..=max_iters {
                log2_t += y.log2() - (n as f64).log2();
                e = e * y / n as f64 + 1.0;
                if log2_t < 23.0 && e < 8_388_608.0 {
                    stop = Some(n);
                    break;
                }
            }
            let stop = stop.unwrap_or_else(|| panic!("P = {p}: no stop"));
            assert!(
                max_iters - stop >= 50,
                "P = {p}: stop {stop} of {max_iters}"
            );
        }
    }

    #[test]
    fn helpers() {
        assert_eq!(gcd(12, 18), 6);
        assert_eq!(gcd(1, u64::MAX), 1);
        assert_eq!(gcd(1 << 40, 3 << 20), 1 << 20);
        let (hi, lo) = mul_wide(u128::MAX, u128::MAX);
        assert_eq!((hi, lo), (u128::MAX - 1, 1));
        assert_eq!(mul_div_floor(u128::MAX, 3, 3), Some(u128::MAX));
        assert_eq!(mul_div_floor(u128::MAX, 4, 3), None);
        assert_eq!(mul_div_floor(10, 7, 3), Some(23));
        // log2(3) ≈ 1.5849625007211562.
        let l = log2_q120(3).unwrap();
        assert_eq!(l >> 120, 1);
        let frac = ((l & ((1 << 120) - 1)) >> 64) as i128;
        assert!((frac - (0.584_962_500_721_156_2f64 * 2f64.powi(56)) as i128).abs() <= 16);
        assert_eq!(log2_q120(1), Some(0));
        assert_eq!(log2_q120(1 << 100), Some(100 << 120));
        assert_eq!(exp2_q127(0), Some(1 << 127));
        // 2^0.5 · 2^127 ≈ 1.4142135623730951 · 2^127.
        let s = exp2_q127(1 << 127).unwrap();
        let want = (std::f64::consts::SQRT_2 * 2f64.powi(52)) as i128;
        assert!(((s >> 75) as i128 - want).abs() <= 2);
    }

    #[test]
    fn matches_reference_on_upstream_examples() {
        const PQ: u64 = 1_000_000_000_000_000_000;
        let cases: [(u64, u64, u64, u64, u32); 4] = [
            (
                21 * (PQ / 1000),
                28 * (PQ / 1000),
                6 * (PQ / 10),
                4 * (PQ / 10),
                256,
            ),
            (
                21 * (PQ / 1000),
                21 * (PQ / 1000) + 100,
                499_999_999_999_500_000,
                500_000_000_000_500_000,
                256,
            ),
            (
                21 * (PQ / 1000),
                21 * (PQ / 1000) + 1,
                499_999_999_500_000_000,
                500_000_000_500_000_000,
                256,
            ),
            (2, 3, 1, 2, 0),
        ];
        for (a, b, n, d, p) in cases {
            let (a, b) = (u128::from(a), u128::from(b));
            let fast = try_fast(a, b, n, d, p, PQ).expect("certified");
            assert_eq!(fast, reference(a, b, n, d, p, PQ));
        }
        assert_eq!(pow_ratio_scaled_u64(2, 3, 1, 2, 0, 1000), PowU64::Fits(816));
        assert_eq!(pow_ratio_scaled_u64(2, 0, 1, 2, 0, 1000), PowU64::Undefined);
        assert_eq!(pow_ratio_scaled_u64(2, 3, 1, 0, 0, 1000), PowU64::Undefined);
        assert_eq!(pow_ratio_scaled_u64(0, 3, 1, 2, 0, 1000), PowU64::Fits(0));
        assert_eq!(
            pow_ratio_scaled_u64(2, 3, 0, 2, 0, 1000),
            PowU64::Fits(1000)
        );
    }
}
