//! Exact 256-bit intermediates in fixed-width integers: `a · b / c` for
//! `u128` operands without a heap-allocated big integer.
//!
//! Why: the coinbase re-solves every subnet's Balancer weights each block
//! (`Perquintill::from_rational` of two ~2^80 products and a rounded
//! Perquintill product), and the share pools quote deposits with
//! `floor(a · b / c)`. Those were `num-bigint` operations: a heap allocation
//! and a schoolbook division each, about a third of a subnet's coinbase
//! (docs/benchmarks.md §9). The results here are the same integers, computed
//! with the two-digit long division of Hacker's Delight (`divlu`, Knuth's
//! algorithm D for a two-digit divisor) on 64-bit digits; the tests compare
//! them with `num-bigint` on random and edge inputs.

/// The full product `a · b` as `(high, low)` 128-bit halves.
pub fn mul_u128(a: u128, b: u128) -> (u128, u128) {
    const M: u128 = u64::MAX as u128;
    let (a1, a0) = (a >> 64, a & M);
    let (b1, b0) = (b >> 64, b & M);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // The middle column: three terms below 2^64 each after the split, so
    // their sum stays below 2^66 and fits.
    let mid = (p00 >> 64) + (p01 & M) + (p10 & M);
    let lo = (mid << 64) | (p00 & M);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

/// `floor((hi · 2^128 + lo) / d)` and the remainder, when the quotient fits
/// in 128 bits (`hi < d`); `None` otherwise (including `d = 0`).
pub fn div_256_by_128(hi: u128, lo: u128, d: u128) -> Option<(u128, u128)> {
    if d == 0 || hi >= d {
        return None;
    }
    if hi == 0 {
        return Some((lo / d, lo % d));
    }
    const B: u128 = 1 << 64;
    const M: u128 = u64::MAX as u128;
    // Normalise: the divisor's top bit set, the dividend shifted with it
    // (hi < d, so the shifted high part still fits in 128 bits).
    let s = d.leading_zeros();
    let v = d << s;
    let (vn1, vn0) = (v >> 64, v & M);
    let un32 = if s == 0 {
        hi
    } else {
        (hi << s) | (lo >> (128 - s))
    };
    let un10 = lo << s;
    let (un1, un0) = (un10 >> 64, un10 & M);

    // One 64-bit quotient digit of `(u · 2^64 + next) / v` where `u < v`:
    // estimated from the divisor's top digit, then corrected (at most twice).
    let digit = |u: u128, next: u128| -> (u128, u128) {
        let mut q = u / vn1;
        let mut r = u - q * vn1;
        while q >= B || q * vn0 > ((r << 64) | next) {
            q -= 1;
            r += vn1;
            if r >= B {
                break;
            }
        }
        // u · 2^64 + next − q · v < v < 2^128: exact in wrapping arithmetic.
        let rest = (u << 64).wrapping_add(next).wrapping_sub(q.wrapping_mul(v));
        (q, rest)
    };
    let (q1, un21) = digit(un32, un1);
    let (q0, rest) = digit(un21, un0);
    Some(((q1 << 64) | q0, rest >> s))
}

/// `floor(a · b / c)` exactly; `None` if `c = 0` or the result exceeds u128.
pub fn mul_div_floor(a: u128, b: u128, c: u128) -> Option<u128> {
    if c == 0 {
        return None;
    }
    if let Some(p) = a.checked_mul(b) {
        return Some(p / c);
    }
    let (hi, lo) = mul_u128(a, b);
    div_256_by_128(hi, lo, c).map(|(q, _)| q)
}

/// `ceil(a · b / c)` exactly; `None` if `c = 0` or the result exceeds u128.
pub fn mul_div_ceil(a: u128, b: u128, c: u128) -> Option<u128> {
    if c == 0 {
        return None;
    }
    if let Some(p) = a.checked_mul(b) {
        return Some(p / c + u128::from(p % c != 0));
    }
    let (hi, lo) = mul_u128(a, b);
    let (q, r) = div_256_by_128(hi, lo, c)?;
    if r == 0 {
        Some(q)
    } else {
        q.checked_add(1)
    }
}

/// `floor((a · b + add) / c)` exactly (the rounding term of a round-half-up
/// division); `None` if `c = 0` or the result exceeds u128.
pub fn mul_add_div_floor(a: u128, b: u128, add: u128, c: u128) -> Option<u128> {
    if c == 0 {
        return None;
    }
    let (hi, lo) = mul_u128(a, b);
    let (lo, carry) = lo.overflowing_add(add);
    let hi = hi.checked_add(u128::from(carry))?;
    div_256_by_128(hi, lo, c).map(|(q, _)| q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;
    use num_traits::ToPrimitive;
    use proptest::prelude::*;

    fn big_floor(a: u128, b: u128, add: u128, c: u128) -> Option<u128> {
        if c == 0 {
            return None;
        }
        ((BigUint::from(a) * BigUint::from(b) + BigUint::from(add)) / BigUint::from(c)).to_u128()
    }

    fn big_ceil(a: u128, b: u128, c: u128) -> Option<u128> {
        if c == 0 {
            return None;
        }
        let c = BigUint::from(c);
        ((BigUint::from(a) * BigUint::from(b) + &c - 1u32) / c).to_u128()
    }

    /// Operands spread over every magnitude: the long division's
    /// corrections only happen for some digit patterns.
    fn wide() -> impl Strategy<Value = u128> {
        prop_oneof![
            any::<u128>(),
            (0u32..128, any::<u128>()).prop_map(|(s, v)| v >> s),
            (0u32..128).prop_map(|s| 1u128 << s),
            (0u32..128).prop_map(|s| (1u128 << s).wrapping_sub(1)),
            (0u32..128).prop_map(|s| u128::MAX >> s),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn floor_and_ceil_equal_big_integers(a in wide(), b in wide(), c in wide()) {
            prop_assert_eq!(mul_div_floor(a, b, c), big_floor(a, b, 0, c));
            prop_assert_eq!(mul_div_ceil(a, b, c), big_ceil(a, b, c));
        }

        #[test]
        fn rounded_division_equals_big_integers(a in wide(), b in wide(), add in wide(), c in wide()) {
            prop_assert_eq!(mul_add_div_floor(a, b, add, c), big_floor(a, b, add, c));
        }

        #[test]
        fn the_product_is_exact(a in wide(), b in wide()) {
            let (hi, lo) = mul_u128(a, b);
            let big = (BigUint::from(hi) << 128u32) + BigUint::from(lo);
            prop_assert_eq!(big, BigUint::from(a) * BigUint::from(b));
        }
    }

    #[test]
    fn edges() {
        let m = u128::MAX;
        for (a, b, c) in [
            (m, m, m),
            (m, m, m - 1),
            (m, 1, 1),
            (m, 2, 1),
            (m, m, 1),
            (1 << 127, 1 << 127, (1 << 127) + 1),
            (m, 1_000_000_000_000_000_000, m),
            (m - 1, 1_000_000_000_000_000_000, m),
            (0, m, 7),
            (5, 0, 0),
        ] {
            assert_eq!(mul_div_floor(a, b, c), big_floor(a, b, 0, c), "{a} {b} {c}");
            assert_eq!(mul_div_ceil(a, b, c), big_ceil(a, b, c), "{a} {b} {c}");
            assert_eq!(
                mul_add_div_floor(a, b, m, c),
                big_floor(a, b, m, c),
                "{a} {b} {c}"
            );
        }
    }
}
