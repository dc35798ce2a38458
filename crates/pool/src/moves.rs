//! `get_max_amount_move` (`move_stake.rs`): the most alpha a swap between two
//! subnets may move before the ratio of their prices `p_origin / p_dest`
//! falls to `limit_price` (`ratio × 10^9`).
//!
//! Dynamic → dynamic uses the chain's constant-product closed form
//! `max = a₂·t₁/(t₁+t₂)/L − a₁·t₂/(t₁+t₂)` (vector
//! `max_amount_move_dynamic_dynamic`), evaluated here as one exact rational
//! `(a₂·t₁·10^9/limit − a₁·t₂) / (t₁+t₂)`, floored. When a side is stable the
//! ratio moves only with the other pool, so the one-pool helpers apply.

use num_bigint::BigUint;
use num_traits::ToPrimitive;

use crate::pool::{Mechanism, Pool, PRICE_LIMIT_SCALE};
use crate::SwapError;

/// Alpha of `origin` whose sale (and the purchase on `dest`) stops where the
/// price ratio reaches `limit_price`. `u64::MAX` means unlimited; 0 means
/// nothing can move (the caller reports `ZeroMaxStakeAmount`).
pub fn max_amount_move(origin: &Pool, dest: &Pool, limit_price: u64) -> Result<u64, SwapError> {
    let stable = |p: &Pool| p.mechanism == Mechanism::Stable;
    match (stable(origin), stable(dest)) {
        (true, true) => Ok(if limit_price <= PRICE_LIMIT_SCALE {
            u64::MAX
        } else {
            0
        }),
        // Ratio = p_origin: it falls as the origin sells.
        (false, true) => origin.max_amount_remove(limit_price),
        // Ratio = 1 / p_dest: it falls as the destination price rises, up to
        // p_dest = 1 / L. The TAO that buys up to there is the alpha limit
        // (1:1 on the stable origin).
        (true, false) => {
            if limit_price == 0 {
                return Ok(u64::MAX);
            }
            let dest_limit = (u128::from(PRICE_LIMIT_SCALE) * u128::from(PRICE_LIMIT_SCALE)
                / u128::from(limit_price))
            .min(u128::from(u64::MAX)) as u64;
            match dest.max_amount_add(dest_limit) {
                Ok(v) => Ok(v),
                Err(SwapError::ZeroMaxStakeAmount) | Err(SwapError::PriceLimitExceeded) => Ok(0),
                Err(e) => Err(e),
            }
        }
        (false, false) => {
            if limit_price == 0 {
                return Ok(u64::MAX);
            }
            let (t1, a1) = (origin.tao_reserve, origin.alpha_reserve);
            let (t2, a2) = (dest.tao_reserve, dest.alpha_reserve);
            let b = BigUint::from;
            let first = b(a2) * b(t1) * b(PRICE_LIMIT_SCALE) / b(limit_price);
            let second = b(a1) * b(t2);
            if first <= second {
                return Ok(0);
            }
            let den = b(t1) + b(t2);
            if den == b(0u64) {
                return Ok(0);
            }
            Ok(((first - second) / den).to_u64().unwrap_or(u64::MAX))
        }
    }
}
