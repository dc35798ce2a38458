//! The weighted "Balancer" curve of `pallets/swap/src/pallet/balancer.rs`.
//!
//! Notation as upstream: `x` is the base (alpha) reserve, `y` the quote (TAO) reserve,
//! `w1` the base weight and `w2` the quote weight, `w1 + w2 = 1`. Only `w2` is stored.
//! Invariant `x^w1 · y^w2 = const`; spot price `p = (w1/w2) · (y/x)` TAO per alpha.
//!
//! Every function mirrors its upstream namesake operation by operation (fixed-point divides
//! before multiplies, the same saturations), because the rounding is part of the result.

use fixed::types::U64F64;
use serde::{Deserialize, Serialize};

use crate::fastpow::{pow_ratio_scaled_u64, PowU64};
use crate::fixed64::{self, ONE};
use crate::perquintill::{Perquintill, ACCURACY};

/// Lower bound of either weight (`MIN_WEIGHT` = 0.01). The upstream header comment says 0.1;
/// the constant is 0.01.
pub const MIN_WEIGHT: Perquintill = Perquintill::from_parts(ACCURACY / 100);

/// Working precision (bits) of the swap exponent (`exp_scaled`).
const EXP_PRECISION: u32 = 256;
/// Working precision (bits) of the limit-price deltas.
const DELTA_PRECISION: u32 = 1024;

/// A quote weight outside `[MIN_WEIGHT, 1 − MIN_WEIGHT]` (`BalancerError::InvalidValue`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidWeight;

/// The Balancer weights: the quote (TAO) weight as a Perquintill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Balancer {
    quote: Perquintill,
}

impl Default for Balancer {
    /// 0.5 / 0.5, the weights of a freshly initialised pool (constant product).
    fn default() -> Self {
        Balancer {
            quote: Perquintill::HALF,
        }
    }
}

impl Balancer {
    /// A Balancer with the given quote weight, if both weights are at least [`MIN_WEIGHT`].
    pub fn new(quote: Perquintill) -> Result<Self, InvalidWeight> {
        if Self::check_constraints(quote) {
            Ok(Balancer { quote })
        } else {
            Err(InvalidWeight)
        }
    }

    fn check_constraints(quote: Perquintill) -> bool {
        quote.one_minus() >= MIN_WEIGHT && quote >= MIN_WEIGHT
    }

    /// `w2`, the quote (TAO) weight.
    pub fn quote_weight(&self) -> Perquintill {
        self.quote
    }

    /// `w1 = 1 − w2`, the base (alpha) weight.
    pub fn base_weight(&self) -> Perquintill {
        self.quote.one_minus()
    }

    /// `(x / (x + dx))^(w1/w2)` when `base_quote`, else `^(w2/w1)`, as `U64F64`.
    ///
    /// The power is `pow_ratio_scaled` at 10^18 scale (through the certified fast front end
    /// [`crate::fastpow`], bit-identical to the big-integer kernel), converted through a `u64` (a result that
    /// does not fit gives 0, as upstream) and capped at 1 for a non-negative `dx`.
    pub fn exp_scaled(&self, x: u64, dx: i128, base_quote: bool) -> U64F64 {
        let x_plus_dx = if dx >= 0 {
            x.saturating_add(u64::try_from(dx).unwrap_or(u64::MAX))
        } else {
            x.saturating_sub(u64::try_from(dx.unsigned_abs()).unwrap_or(u64::MAX))
        };
        if x_plus_dx == 0 {
            return fixed64::ZERO;
        }
        if self.quote == Perquintill::HALF {
            // Equal weights: the exponent reduces to 1/1, where `pow_ratio_scaled`'s exact path
            // is `floor(x · 10^18 / (x + dx))` (the first root of a ratio). Computed in u128
            // (x < 2^64, 10^18 < 2^60): bit-identical and without big integers.
            let v = u128::from(x) * u128::from(ACCURACY) / u128::from(x_plus_dx);
            return match u64::try_from(v) {
                Ok(v) => {
                    let value =
                        fixed64::safe_div(fixed64::from_u64(v), fixed64::from_u64(ACCURACY));
                    if dx >= 0 {
                        value.min(ONE)
                    } else {
                        value
                    }
                }
                Err(_) => fixed64::ZERO,
            };
        }
        let w1 = self.base_weight().deconstruct();
        let w2 = self.quote_weight().deconstruct();
        let (exp_num, exp_den) = if base_quote { (w1, w2) } else { (w2, w1) };
        let result = pow_ratio_scaled_u64(
            u128::from(x),
            u128::from(x_plus_dx),
            exp_num,
            exp_den,
            EXP_PRECISION,
            ACCURACY,
        );
        if let PowU64::Fits(result_u64) = result {
            let value =
                fixed64::safe_div(fixed64::from_u64(result_u64), fixed64::from_u64(ACCURACY));
            return if dx >= 0 { value.min(ONE) } else { value };
        }
        fixed64::ZERO
    }

    /// `(x / (x + dx))^(w1/w2)`: the factor of a sell (alpha in, TAO out).
    pub fn exp_base_quote(&self, x: u64, dx: u64) -> U64F64 {
        self.exp_scaled(x, i128::from(dx), true)
    }

    /// `(y / (y + dy))^(w2/w1)`: the factor of a buy (TAO in, alpha out).
    pub fn exp_quote_base(&self, y: u64, dy: u64) -> U64F64 {
        self.exp_scaled(y, i128::from(dy), false)
    }

    /// `p = (w1/w2) · (y/x)` with upstream's order of operations; 0 when `x = 0`.
    pub fn calculate_price(&self, x: u64, y: u64) -> U64F64 {
        let w2 = fixed64::from_u64(self.quote_weight().deconstruct());
        let w1 = fixed64::from_u64(self.base_weight().deconstruct());
        let ratio = fixed64::safe_div(fixed64::from_u64(y), fixed64::from_u64(x));
        fixed64::mul(fixed64::safe_div(w1, w2), ratio)
    }

    /// `round_half_up(value · p)`, computed exactly (U256 upstream), clamped to `u128`.
    fn mul_perquintill_round(p: Perquintill, value: u128) -> u128 {
        crate::wide::mul_add_div_floor(
            value,
            u128::from(p.deconstruct()),
            u128::from(ACCURACY / 2),
            u128::from(ACCURACY),
        )
        .unwrap_or(u128::MAX)
    }

    /// Re-solve the quote weight so that adding `(tao_delta, alpha_delta)` keeps the price:
    /// `w2' = q2 / (q1 + q2)` with `q1 = round(w1 · y · (x + Δx))`, `q2 = round(w2 · x · (y + Δy))`.
    /// On `Err` the weights are unchanged.
    pub fn update_weights_for_added_liquidity(
        &mut self,
        tao_reserve: u64,
        alpha_reserve: u64,
        tao_delta: u64,
        alpha_delta: u64,
    ) -> Result<(), InvalidWeight> {
        let y = u128::from(tao_reserve);
        let x = u128::from(alpha_reserve);
        let new_y = y.saturating_add(u128::from(tao_delta));
        let new_x = x.saturating_add(u128::from(alpha_delta));
        let q1 = Self::mul_perquintill_round(self.base_weight(), y.saturating_mul(new_x));
        let q2 = Self::mul_perquintill_round(self.quote_weight(), x.saturating_mul(new_y));
        let q_sum = q1.saturating_add(q2);
        let new_quote = if q_sum != 0 {
            Perquintill::from_rational(q2, q_sum)
        } else {
            Perquintill::HALF
        };
        if Self::check_constraints(new_quote) {
            self.quote = new_quote;
            Ok(())
        } else {
            Err(InvalidWeight)
        }
    }

    /// `reserve · ((num/den)^(w/1) − 1)` where the power comes from `pow_ratio_scaled` on the raw
    /// bits of two prices (shared body of the two limit-delta functions).
    fn delta_to_price(num: U64F64, den: U64F64, weight: Perquintill, reserve: u64) -> u64 {
        let result = pow_ratio_scaled_u64(
            num.to_bits(),
            den.to_bits(),
            weight.deconstruct(),
            ACCURACY,
            DELTA_PRECISION,
            ACCURACY,
        );
        let exp_fixed = match result {
            PowU64::Undefined => return 0,
            PowU64::Fits(v) => fixed64::from_u64(v),
            // A result that is not a u64 is above u64::MAX (it is never negative).
            PowU64::TooLarge => fixed64::from_u64(u64::MAX),
        };
        let factor = fixed64::sub(
            fixed64::safe_div(exp_fixed, fixed64::from_u64(ACCURACY)),
            ONE,
        );
        fixed64::to_u64_floor(fixed64::mul(fixed64::from_u64(reserve), factor))
    }

    /// TAO needed to push the price up from `current_price` to `target_price` on a buy:
    /// `y · ((p'/p)^w1 − 1)`; 0 when the target is not above the current price.
    pub fn calculate_quote_delta_in(
        &self,
        current_price: U64F64,
        target_price: U64F64,
        reserve: u64,
    ) -> u64 {
        Self::delta_to_price(target_price, current_price, self.base_weight(), reserve)
    }

    /// Alpha needed to push the price down from `current_price` to `target_price` on a sell:
    /// `x · ((p/p')^w2 − 1)`; 0 when the target is not below the current price.
    pub fn calculate_base_delta_in(
        &self,
        current_price: U64F64,
        target_price: U64F64,
        reserve: u64,
    ) -> u64 {
        Self::delta_to_price(current_price, target_price, self.quote_weight(), reserve)
    }

    /// Alpha that must be sold to get `delta_tao` out: `x · ((y/(y−Δy))^(w2/w1) − 1)`.
    /// No production path calls it upstream; kept for parity and the vector.
    pub fn get_base_needed_for_quote(
        &self,
        tao_reserve: u64,
        alpha_reserve: u64,
        delta_tao: u64,
    ) -> u64 {
        let e = self.exp_scaled(tao_reserve, -i128::from(delta_tao), false);
        let factor = fixed64::sub(e, ONE);
        fixed64::to_u64_floor(fixed64::mul(fixed64::from_u64(alpha_reserve), factor))
    }
}
