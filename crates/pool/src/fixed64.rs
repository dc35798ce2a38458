//! `U64F64` arithmetic with substrate-fixed semantics, done on the raw bits.
//!
//! The chain computes prices and swap factors in `substrate_fixed::types::U64F64`. The `fixed`
//! 1.x type has the same bit layout (64 integer bits, 64 fraction bits), so it is used here only
//! as a container: every operation below is written on `to_bits()` so the rounding (floor for
//! multiply and divide of unsigned values, saturation at the type's bounds, 0 for a failed
//! `safe_div`) is pinned by this file and not by a `fixed` release.

use fixed::types::U64F64;

/// 0 as `U64F64`.
pub const ZERO: U64F64 = U64F64::ZERO;
/// 1 as `U64F64`.
pub const ONE: U64F64 = U64F64::from_bits(1u128 << 64);

/// `U64F64::saturating_from_num(v: u64)`: exact.
#[inline]
pub const fn from_u64(v: u64) -> U64F64 {
    U64F64::from_bits((v as u128) << 64)
}

/// `U64F64::saturating_from_num(v: u128)`: exact below 2^64, else the type's maximum.
#[inline]
pub fn from_u128_saturating(v: u128) -> U64F64 {
    if v > u64::MAX as u128 {
        U64F64::MAX
    } else {
        from_u64(v as u64)
    }
}

/// `saturating_to_num::<u64>()`: the integer part (floor; a `U64F64` always fits).
#[inline]
pub const fn to_u64_floor(v: U64F64) -> u64 {
    (v.to_bits() >> 64) as u64
}

/// `a.saturating_sub(b)`.
#[inline]
pub fn sub(a: U64F64, b: U64F64) -> U64F64 {
    U64F64::from_bits(a.to_bits().saturating_sub(b.to_bits()))
}

/// `a.saturating_add(b)`.
#[inline]
pub fn add(a: U64F64, b: U64F64) -> U64F64 {
    U64F64::from_bits(a.to_bits().saturating_add(b.to_bits()))
}

/// `a.checked_mul(b)`: `floor(bits_a · bits_b / 2^64)`, `None` when it exceeds the type.
pub fn checked_mul(a: U64F64, b: U64F64) -> Option<U64F64> {
    let (a, b) = (a.to_bits(), b.to_bits());
    let (a1, a0) = (a >> 64, a & u64::MAX as u128);
    let (b1, b0) = (b >> 64, b & u64::MAX as u128);
    // product = a1b1·2^128 + (a1b0 + a0b1)·2^64 + a0b0; the result is product >> 64.
    let hi = a1 * b1;
    if hi >> 64 != 0 {
        return None;
    }
    let (mid, carry) = (a1 * b0).overflowing_add(a0 * b1);
    if carry {
        return None;
    }
    let low = (a0 * b0) >> 64;
    (hi << 64)
        .checked_add(mid)?
        .checked_add(low)
        .map(U64F64::from_bits)
}

/// `a.saturating_mul(b)`.
#[inline]
pub fn mul(a: U64F64, b: U64F64) -> U64F64 {
    checked_mul(a, b).unwrap_or(U64F64::MAX)
}

/// `a.checked_div(b)`: `floor(bits_a · 2^64 / bits_b)`, `None` for a zero divisor or a quotient
/// that does not fit.
///
/// One exact 256-by-128 division ([`crate::wide::div_256_by_128`]): the quotient fits in 128
/// bits exactly when `a < b · 2^64`, which is the division's own precondition. (It was three
/// u128 divisions, `a / b`, `a % b` and the fraction; the long-division form it replaced is
/// kept in the tests as the reference.)
pub fn checked_div(a: U64F64, b: U64F64) -> Option<U64F64> {
    let (a, b) = (a.to_bits(), b.to_bits());
    crate::wide::div_256_by_128(a >> 64, a << 64, b).map(|(q, _)| U64F64::from_bits(q))
}

/// `safe_math::SafeDiv::safe_div`: [`checked_div`] or 0 (zero divisor and overflow both give 0).
#[inline]
pub fn safe_div(a: U64F64, b: U64F64) -> U64F64 {
    checked_div(a, b).unwrap_or(ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `a.checked_div(b)`: `floor(bits_a · 2^64 / bits_b)`, `None` for a zero divisor or a quotient
    /// that does not fit.
    fn checked_div_reference(a: U64F64, b: U64F64) -> Option<U64F64> {
        let (a, b) = (a.to_bits(), b.to_bits());
        if b == 0 {
            return None;
        }
        let q_int = a / b;
        if q_int >> 64 != 0 {
            return None;
        }
        let mut r = a % b;
        // floor(a·2^64/b) = q_int·2^64 + floor(r·2^64/b) with r < b. When r < 2^64 the second term
        // is one u128 division (the common case: every price and ratio of real reserves).
        if r >> 64 == 0 {
            return Some(U64F64::from_bits((q_int << 64) | ((r << 64) / b)));
        }
        // A divisor with no fraction bits (b = b_hi·2^64, every integer converted to U64F64):
        // floor(r·2^64 / (b_hi·2^64)) = floor(r / b_hi), exactly.
        if b & (u64::MAX as u128) == 0 {
            return Some(U64F64::from_bits((q_int << 64) | (r / (b >> 64))));
        }
        // Otherwise long division of the remainder by b for the 64 fraction bits: r < b always
        // holds, and `carry` keeps the 129th bit of 2r.
        let mut frac: u128 = 0;
        for _ in 0..64 {
            let carry = r >> 127;
            r <<= 1;
            frac <<= 1;
            if carry == 1 || r >= b {
                r = r.wrapping_sub(b);
                frac |= 1;
            }
        }
        Some(U64F64::from_bits((q_int << 64) | frac))
    }

    fn bits() -> impl Strategy<Value = u128> {
        prop_oneof![
            any::<u128>(),
            (0u32..128, any::<u128>()).prop_map(|(s, v)| v >> s),
            (0u32..128).prop_map(|s| 1u128 << s),
            (0u32..64, any::<u64>()).prop_map(|(s, v)| u128::from(v) << (64 + s.min(63))),
            Just(0u128),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn checked_div_is_the_long_division(a in bits(), b in bits()) {
            let (x, y) = (U64F64::from_bits(a), U64F64::from_bits(b));
            prop_assert_eq!(checked_div(x, y), checked_div_reference(x, y));
            prop_assert_eq!(checked_div(x, y), x.checked_div(y));
        }
    }

    #[test]
    fn mul_and_div_match_exact_rational_floor() {
        let cases: [(u128, u128); 6] = [
            (3 << 64, 7 << 63),
            (1, 1),
            (u128::MAX, 1 << 64),
            (12_345_678_901_234_567_890_123, 98_765_432_109_876_543),
            (1 << 64, 3 << 64),
            (u64::MAX as u128, u64::MAX as u128),
        ];
        for (a, b) in cases {
            let fa = U64F64::from_bits(a);
            let fb = U64F64::from_bits(b);
            let prod = (num_bigint::BigUint::from(a) * num_bigint::BigUint::from(b)) >> 64u32;
            let expect_mul = u128::try_from(prod).ok();
            assert_eq!(checked_mul(fa, fb).map(|v| v.to_bits()), expect_mul);
            let quot = (num_bigint::BigUint::from(a) << 64u32) / num_bigint::BigUint::from(b);
            let expect_div = u128::try_from(quot).ok();
            assert_eq!(checked_div(fa, fb).map(|v| v.to_bits()), expect_div);
        }
        assert_eq!(checked_div(ONE, ZERO), None);
        assert_eq!(safe_div(ONE, ZERO), ZERO);
    }

    #[test]
    fn agrees_with_fixed_for_unsigned_values() {
        let a = U64F64::from_bits(0x1234_5678_9abc_def0_0fed_cba9_8765_4321);
        let b = U64F64::from_bits(0x0000_0000_0000_0003_8000_0000_0000_0001);
        assert_eq!(checked_mul(a, b), a.checked_mul(b));
        assert_eq!(checked_div(a, b), a.checked_div(b));
    }
}
