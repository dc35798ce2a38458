//! TAO block emission and halving by issuance (tokenomics.md §1.1, §5).
//!
//! The chain computes the emission in `I96F32` (`block_emission.rs`,
//! `get_block_emission_for_issuance`). We reproduce it bit for bit with
//! integer arithmetic on the raw fixed-point bits instead of pulling in a
//! fixed-point crate: every step of the chain's formula is either an exact
//! operation or a truncating division, and both are trivial on `u128`. This
//! keeps the core free of floating point and makes each truncation visible.

use serde::{Deserialize, Serialize};

/// 1 TAO = 10^9 RAO.
pub const RAO_PER_TAO: u64 = 1_000_000_000;
/// Hard cap on total issuance: 21M TAO (`TotalSupply`, `MAX_TAO_ISSUANCE`).
pub const TOTAL_SUPPLY: u64 = 21_000_000 * RAO_PER_TAO;
/// Emission per block in era 0: 1 TAO (`DefaultBlockEmission`).
pub const DEFAULT_BLOCK_EMISSION: u64 = RAO_PER_TAO;
/// 12-second blocks: 7200 per day.
pub const BLOCKS_PER_DAY: u64 = 7_200;
/// The largest era [`era`] reports. With `1 − ratio` at its smallest
/// representable value (one raw bit, 2^-32) the inverse is 2^32, so
/// `floor(log2)` cannot exceed 32; the same value is reported at and above the
/// cap, where the chain returns 0 before computing anything.
pub const MAX_ERA: u32 = 32;

/// Number of fractional bits of `I96F32`.
const FRAC_BITS: u32 = 32;

/// The era index `k = floor(log2(1 / (1 − I/21e15)))`, as the chain computes
/// it in `I96F32`. Saturates at [`MAX_ERA`] at and above [`TOTAL_SUPPLY`].
///
/// Why this is exact (all quantities are raw `I96F32` bits, i.e. value·2^32):
/// * `ratio = I / 21e15`: fixed division is `floor((a·2^32)/b)` on the bits,
///   so `ratio_bits = floor(I·2^32 / 21e15)` (< 2^32 because I < 21e15).
/// * `1 − ratio` is exact: `2^32 − ratio_bits` (≥ 1).
/// * `1 / (1 − ratio)` truncates again: `floor(2^64 / (2^32 − ratio_bits))`.
/// * `log2` (substrate_fixed `transcendental::log2`) finds the integer part
///   by halving while `x ≥ 2` and then adds fractional bits that sum to less
///   than 1, so `floor(log2(x))` is the integer part. Its halving rounds
///   (`rs`: `(x >> 1) + (x & 1)`), but for these inputs that never changes the
///   count (the proptests check this against a literal emulation), so it
///   equals `floor(log2(bits)) − 32`, the bit length of `bits` minus 33.
pub fn era(issuance: u64) -> u32 {
    if issuance >= TOTAL_SUPPLY {
        return MAX_ERA;
    }
    let ratio_bits = (u128::from(issuance) << FRAC_BITS) / u128::from(TOTAL_SUPPLY);
    let one_minus_bits = (1u128 << FRAC_BITS) - ratio_bits;
    let inverse_bits = (1u128 << (2 * FRAC_BITS)) / one_minus_bits;
    // inverse_bits ∈ [2^32, 2^64], so the bit index is in [32, 64].
    let bit_index = 127 - inverse_bits.leading_zeros();
    bit_index - FRAC_BITS
}

/// TAO minted per block at this total issuance (RAO): `floor(1e9 / 2^k)`,
/// 0 at or above the cap.
///
/// The chain builds `2^k` by repeated doubling and divides `1` by it in
/// `I96F32`: for k ≤ 32 that is exactly `2^(32−k)` raw bits, and multiplying
/// by 1e9 then truncating gives `floor(1e9 / 2^k)`, i.e. `1e9 >> k`. Eras 30
/// and above therefore emit 0 (1e9 / 2^30 < 1 RAO).
pub fn block_emission(issuance: u64) -> u64 {
    if issuance >= TOTAL_SUPPLY {
        return 0;
    }
    DEFAULT_BLOCK_EMISSION >> era(issuance)
}

/// What a block actually mints: the emission, capped so total issuance never
/// passes [`TOTAL_SUPPLY`] (`mint_tao`).
pub fn mint_amount(block_emission: u64, issuance: u64) -> u64 {
    block_emission.min(TOTAL_SUPPLY.saturating_sub(issuance))
}

/// The smallest issuance in era `k`: `21e15 − floor(21e15 / 2^k)`, i.e.
/// `ceil(21e15·(1 − 2^−k))`. `None` for k > [`MAX_ERA`].
///
/// Derivation: `era ≥ k` ⟺ `2^32 − ratio_bits ≤ 2^(32−k)` ⟺
/// `I·2^32 ≥ (2^32 − 2^(32−k))·21e15`, whose least integer solution is the
/// value above. For k ≤ 15 it is exactly `21e15·(1 − 2^−k)`.
pub fn era_start(k: u32) -> Option<u64> {
    if k > MAX_ERA {
        return None;
    }
    Some(TOTAL_SUPPLY - (TOTAL_SUPPLY >> k))
}

/// The halving schedule as seen from one issuance level. Serializes with
/// `issuance_rao`, `block_emission_rao` and `era` as `taonet calc emission`
/// prints them (interfaces.md), plus the forward-looking fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmissionSchedule {
    #[serde(rename = "issuance_rao")]
    pub issuance: u64,
    pub era: u32,
    pub block_emission_rao: u64,
    /// Issuance at which the next halving happens; `None` once emission is 0.
    pub next_halving_issuance: Option<u64>,
    /// Blocks until then at the current rate, assuming nothing is recycled
    /// (every recycle postpones it).
    pub blocks_to_next_halving: Option<u64>,
    /// Emission over [`BLOCKS_PER_DAY`] blocks at the current rate.
    pub per_day_rao: u64,
}

/// The schedule at `issuance`.
pub fn schedule(issuance: u64) -> EmissionSchedule {
    let era = era(issuance);
    let emission = block_emission(issuance);
    let next_halving_issuance = if emission == 0 {
        None
    } else {
        era_start(era + 1)
    };
    // While emission > 0 the mint cap never binds (the distance to the cap in
    // era k is ≥ 21e15/2^(k+1), far above 1e9/2^k), so each block adds exactly
    // `emission`.
    let blocks_to_next_halving =
        next_halving_issuance.map(|next| (next - issuance).div_ceil(emission));
    EmissionSchedule {
        issuance,
        era,
        block_emission_rao: emission,
        next_halving_issuance,
        blocks_to_next_halving,
        per_day_rao: emission * BLOCKS_PER_DAY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Literal emulation of the chain's steps, including substrate_fixed's
    /// rounding halving loop, to cross-check the closed form in [`era`].
    pub(crate) fn reference_era(issuance: u64) -> u32 {
        if issuance >= TOTAL_SUPPLY {
            return MAX_ERA;
        }
        let one = 1u128 << 32;
        let ratio = (u128::from(issuance) * one) / u128::from(TOTAL_SUPPLY);
        let mut x = (one * one) / (one - ratio);
        let two = 2 * one;
        let mut n = 0;
        while x >= two {
            x = (x >> 1) + (x & 1);
            n += 1;
        }
        n
    }

    #[test]
    fn every_era_boundary_is_exact() {
        for k in 0..=30u32 {
            // 21e15·(1 − 2^−k), rounded up to the first integer issuance.
            let start = TOTAL_SUPPLY - (TOTAL_SUPPLY >> k);
            assert_eq!(era_start(k), Some(start));
            assert_eq!(era(start), k, "era at start of era {k}");
            assert_eq!(block_emission(start), DEFAULT_BLOCK_EMISSION >> k);
            if k > 0 {
                assert_eq!(era(start - 1), k - 1, "era just before era {k}");
                assert_eq!(block_emission(start - 1), DEFAULT_BLOCK_EMISSION >> (k - 1));
            }
            assert_eq!(reference_era(start), k);
        }
        assert_eq!(block_emission(era_start(29).unwrap()), 1);
        assert_eq!(block_emission(era_start(30).unwrap()), 0);
    }

    #[test]
    fn eras_up_to_fifteen_start_at_round_numbers() {
        // 21e15 = 21·2^15·5^15, so 21e15/2^k is an integer for k ≤ 15.
        for k in 0..=15u32 {
            assert_eq!(TOTAL_SUPPLY % (1 << k), 0);
        }
        assert_eq!(era_start(1), Some(10_500_000_000_000_000));
        assert_eq!(era_start(2), Some(15_750_000_000_000_000));
        assert_eq!(era_start(3), Some(18_375_000_000_000_000));
    }

    #[test]
    fn top_eras_and_the_cap() {
        assert_eq!(era(TOTAL_SUPPLY - 1), 32);
        assert_eq!(era(TOTAL_SUPPLY), MAX_ERA);
        assert_eq!(era(u64::MAX), MAX_ERA);
        assert_eq!(block_emission(u64::MAX), 0);
        let s32 = era_start(32).unwrap();
        assert_eq!(era(s32), 32);
        assert_eq!(era(s32 - 1), 31);
        assert_eq!(era_start(33), None);
    }

    #[test]
    fn schedule_in_era_zero() {
        let s = schedule(0);
        assert_eq!(s.era, 0);
        assert_eq!(s.block_emission_rao, RAO_PER_TAO);
        assert_eq!(s.next_halving_issuance, Some(10_500_000_000_000_000));
        assert_eq!(s.blocks_to_next_halving, Some(10_500_000));
        assert_eq!(s.per_day_rao, 7_200 * RAO_PER_TAO);
        let late = schedule(10_500_000_000_000_000 - 1);
        assert_eq!(late.blocks_to_next_halving, Some(1));
        let s1 = schedule(10_500_000_000_000_000);
        assert_eq!(s1.era, 1);
        assert_eq!(
            s1.blocks_to_next_halving,
            Some(5_250_000_000_000_000 / 500_000_000)
        );
    }

    #[test]
    fn schedule_without_emission_has_no_next_halving() {
        for i in [era_start(30).unwrap(), TOTAL_SUPPLY - 1, TOTAL_SUPPLY] {
            let s = schedule(i);
            assert_eq!(s.block_emission_rao, 0);
            assert_eq!(s.next_halving_issuance, None);
            assert_eq!(s.blocks_to_next_halving, None);
            assert_eq!(s.per_day_rao, 0);
        }
    }

    #[test]
    fn schedule_serializes_as_the_calc_interface() {
        let json = serde_json::to_value(schedule(10_500_000_000_000_000)).unwrap();
        assert_eq!(json["issuance_rao"], 10_500_000_000_000_000u64);
        assert_eq!(json["block_emission_rao"], 500_000_000u64);
        assert_eq!(json["era"], 1);
    }

    #[test]
    fn mint_is_capped() {
        assert_eq!(mint_amount(1_000, TOTAL_SUPPLY - 10), 10);
        assert_eq!(mint_amount(1_000, TOTAL_SUPPLY), 0);
        assert_eq!(mint_amount(1_000, u64::MAX), 0);
        assert_eq!(mint_amount(1_000, 0), 1_000);
    }
}
