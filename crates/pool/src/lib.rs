//! The pure dTAO AMM pool: the weighted "Balancer" swap of opentensor/subtensor (commit 14bc6f9,
//! `pallets/swap/src/pallet/{balancer,swap_step,impls}.rs`; spec `shared/spec/tokenomics.md`
//! §3.1–§3.4, §3.9), bit-exact with the chain. No I/O, no clock, no floating point: amounts are
//! `u64` RAO, prices `U64F64`, weights Perquintill parts.
//!
//! Module map:
//! - [`fixed64`]: `U64F64` multiply/divide/saturate on raw bits with substrate-fixed rounding.
//! - [`perquintill`]: the Perquintill weight type with Substrate's `from_rational` rounding.
//! - [`bigpow`]: `safe_bigmath::SafeInt::pow_ratio_scaled`, the big-integer power kernel.
//! - [`fastpow`]: a certified 128-bit fixed-point front end of it (same results, ~2000x faster).
//! - [`balancer`]: the Balancer curve: exponent factors, price, limit deltas, weight re-solve.
//! - [`pool`]: [`Pool`], one swap step with fee, limit price, partial fill, minimum reserve and
//!   input cap; liquidity injection; max-amount-with-limit helpers.
//! - [`calc`]: the JSON behind `taonet calc swap` (`shared/spec/interfaces.md`).
//!
//! Purity: [`Pool::swap`] returns the pool after the swap inside [`SwapResult::pool_after`];
//! [`Pool::inject`] returns the new pool. Nothing mutates in place.

pub mod balancer;
pub mod bigpow;
pub mod calc;
pub mod fastpow;
mod fastpow_tables;
pub mod fixed64;
pub mod perquintill;
pub mod pool;

pub use balancer::{Balancer, InvalidWeight, MIN_WEIGHT};
pub use calc::{calc_swap, rejection_code, CalcSwapArgs};
pub use fixed::types::U64F64;
pub use perquintill::{Perquintill, ACCURACY};
pub use pool::{
    Direction, Mechanism, Pool, SwapRequest, SwapResult, DEFAULT_FEE_RATE, MAX_FEE_RATE,
    MAX_PRICE_LIMIT, MAX_SWAP_INPUT_RESERVE_MULTIPLIER, MINIMUM_RESERVE, MIN_PRICE_LIMIT,
    PRICE_LIMIT_SCALE,
};

/// Why the pool refused an operation. Variant names are the chain's error names (swap pallet
/// `Error<T>`, and subtensor's for the staking-level ones), so [`rejection_code`] can report them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SwapError {
    /// The output reserve is below `MinimumReserve` (1,000,000 RAO), or a non-zero input would pay
    /// out nothing.
    #[error("output reserve below the minimum reserve, or the swap would pay out nothing")]
    ReservesTooLow,
    /// The net input exceeds 1000 × the input reserve.
    #[error("net input exceeds 1000 x the input-side reserve")]
    SwapInputTooLarge,
    /// The pool price is not strictly inside the limit (a buy needs price < limit, a sell
    /// price > limit).
    #[error("the pool price is already at or beyond the limit price")]
    PriceLimitExceeded,
    /// The payout would exceed the output reserve.
    #[error("payout exceeds the output reserve")]
    InsufficientLiquidity,
    /// A quote weight outside [0.01, 0.99], given or produced by an injection, or reserves that
    /// cannot be priced (the chain's mapping of `BalancerError::InvalidValue`).
    #[error("quote weight outside [0.01, 0.99] or reserves that cannot be priced")]
    ReservesOutOfBalance,
    /// Subtensor's staking rule: a stake that would receive no alpha. The pool itself never
    /// raises it (a zero-input swap is a valid no-op there); the staking layer does.
    #[error("amount too low: the stake would receive nothing")]
    AmountTooLow,
    /// `get_max_amount_add` found no amount that executes within the limit.
    #[error("no amount can be staked within the limit price")]
    ZeroMaxStakeAmount,
    /// The command-line arguments do not describe one swap (not a chain error).
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
}

pub mod moves;
pub mod share_pool;
pub mod wide;
pub use moves::max_amount_move;
pub use share_pool::{ShareError, SharePool, SHARES_PER_RAO};
