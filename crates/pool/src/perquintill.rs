//! `sp_arithmetic::Perquintill`: a fraction stored as `u64` parts of 10^18.
//!
//! Only the operations the Balancer uses are reproduced, with Substrate's rounding:
//! `from_rational` rounds down and maps `q = 0` or `p > q` to one (Substrate's
//! `unwrap_or_else(|_| Self::one())`).

use serde::{Deserialize, Serialize};

/// Parts per one (10^18).
pub const ACCURACY: u64 = 1_000_000_000_000_000_000;

/// A Perquintill: `parts / 10^18`, `parts ≤ 10^18`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Perquintill(u64);

impl Perquintill {
    /// 0.
    pub const ZERO: Perquintill = Perquintill(0);
    /// 1.
    pub const ONE: Perquintill = Perquintill(ACCURACY);
    /// 1/2, the Balancer's initial quote weight.
    pub const HALF: Perquintill = Perquintill(ACCURACY / 2);

    /// `Perquintill::from_parts`: parts above 10^18 are clamped to one, as Substrate does.
    pub const fn from_parts(parts: u64) -> Self {
        if parts > ACCURACY {
            Perquintill(ACCURACY)
        } else {
            Perquintill(parts)
        }
    }

    /// `deconstruct()`: the raw parts.
    pub const fn deconstruct(self) -> u64 {
        self.0
    }

    /// `Perquintill::from_rational(p, q)`: `floor(p · 10^18 / q)`; one when `q = 0` or `p > q`.
    pub fn from_rational(p: u128, q: u128) -> Self {
        if q == 0 || p > q {
            return Perquintill::ONE;
        }
        // p ≤ q, so the quotient is at most 10^18 and always fits.
        let v = crate::wide::mul_div_floor(p, u128::from(ACCURACY), q).unwrap_or(0);
        Perquintill(u64::try_from(v).unwrap_or(ACCURACY))
    }

    /// `ONE.saturating_sub(self)`.
    pub const fn one_minus(self) -> Self {
        Perquintill(ACCURACY.saturating_sub(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_rational_rounds_down_and_saturates_to_one() {
        assert_eq!(Perquintill::from_rational(1, 2), Perquintill::HALF);
        assert_eq!(
            Perquintill::from_rational(1, 3).deconstruct(),
            333_333_333_333_333_333
        );
        assert_eq!(
            Perquintill::from_rational(2, 3).deconstruct(),
            666_666_666_666_666_666
        );
        assert_eq!(Perquintill::from_rational(1, 0), Perquintill::ONE);
        assert_eq!(Perquintill::from_rational(5, 4), Perquintill::ONE);
        assert_eq!(
            Perquintill::from_rational(u128::MAX - 1, u128::MAX).deconstruct(),
            ACCURACY - 1
        );
    }
}
