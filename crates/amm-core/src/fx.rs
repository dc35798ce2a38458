//! Fixed-point helpers with the chain's types and truncations (§0).
//!
//! `U96F32` for coinbase amounts and ratios, `U64F64` for prices and shares,
//! `I96F32` for stored EMA prices and root-claimable rates. Every operation
//! saturates or is checked (the chain's `saturating_*`/`safe_div`); turning a
//! value into an amount floors it.

use fixed::types::{I96F32, U64F64, U96F32};

pub const U96_ZERO: U96F32 = U96F32::ZERO;

pub fn u96(v: u64) -> U96F32 {
    U96F32::from_num(v)
}

/// Floor to an integer amount (saturating).
pub fn floor(v: U96F32) -> u64 {
    v.saturating_to_num::<u64>()
}

pub fn mul(a: U96F32, b: U96F32) -> U96F32 {
    a.saturating_mul(b)
}

/// `safe_div`: 0 for a zero divisor (and for a quotient that overflows).
///
/// `floor(bits_a · 2^32 / bits_b)` on the raw bits, as `fixed`'s
/// `checked_div` computes it: one native division when `a < 2^96` (every
/// amount and ratio here), else the exact 256-by-128 division. The `fixed`
/// crate's generic path always does the latter, and it was a tenth of a
/// subnet's coinbase; the proptest below holds the two equal.
pub fn div(a: U96F32, b: U96F32) -> U96F32 {
    let (a, b) = (a.to_bits(), b.to_bits());
    if b == 0 {
        return U96_ZERO;
    }
    if a >> 96 == 0 {
        return U96F32::from_bits((a << 32) / b);
    }
    pool::wide::div_256_by_128(a >> 96, a << 32, b).map_or(U96_ZERO, |(q, _)| U96F32::from_bits(q))
}

/// A u16 proportion `raw / 65535`.
pub fn ratio_u16(raw: u16) -> U96F32 {
    div(u96(u64::from(raw)), u96(u64::from(u16::MAX)))
}

/// `TaoWeight`: a u64 proportion `raw / (2^64 − 1)`.
pub fn tao_weight(raw: u64) -> U96F32 {
    div(u96(raw), u96(u64::MAX))
}

pub fn from_u64f64(v: U64F64) -> U96F32 {
    U96F32::saturating_from_num(v)
}

pub fn to_u64f64(v: U96F32) -> U64F64 {
    U64F64::saturating_from_num(v)
}

/// A stored I96F32 (EMA price) as U64F64; negatives are 0.
pub fn i96_to_u64f64(bits: i128) -> U64F64 {
    U64F64::saturating_from_num(I96F32::from_bits(bits).max(I96F32::ZERO))
}

pub fn i96_to_u96(bits: i128) -> U96F32 {
    U96F32::saturating_from_num(I96F32::from_bits(bits).max(I96F32::ZERO))
}

pub fn u96_to_i96_bits(v: U96F32) -> i128 {
    I96F32::saturating_from_num(v).to_bits()
}

/// `root_proportion = root_tao·tw / (root_tao·tw + alpha_issuance)`, 0 when
/// the denominator is 0 (`block_step.rs`).
pub fn root_proportion(root_tao: u64, tw: U96F32, alpha_issuance: u64) -> U96F32 {
    let weighted = mul(u96(root_tao), tw);
    div(weighted, weighted.saturating_add(u96(alpha_issuance)))
}

/// `floor(rate · amount)` for an I96F32 rate, as u128.
pub fn rate_times(rate_bits: i128, amount: u64) -> u128 {
    if rate_bits <= 0 {
        return 0;
    }
    pool::share_pool::mul_div_floor(rate_bits as u128, u128::from(amount), 1u128 << 32)
        .unwrap_or(u128::MAX)
}

/// `floor(total · num / den)` on raw fixed-point bits (same scale for num
/// and den): scales a pot by a weight exactly.
pub fn scale(total: u64, num: U96F32, den: U96F32) -> u64 {
    pool::share_pool::mul_div_floor(u128::from(total), num.to_bits(), den.to_bits())
        .map(|v| v.min(u128::from(u64::MAX)) as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bits() -> impl Strategy<Value = u128> {
        prop_oneof![
            any::<u128>(),
            (0u32..128, any::<u128>()).prop_map(|(s, v)| v >> s),
            (0u32..128).prop_map(|s| 1u128 << s),
            Just(0u128),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn div_is_fixeds_checked_div(a in bits(), b in bits()) {
            let (x, y) = (U96F32::from_bits(a), U96F32::from_bits(b));
            prop_assert_eq!(div(x, y), x.checked_div(y).unwrap_or(U96_ZERO));
        }
    }
}
