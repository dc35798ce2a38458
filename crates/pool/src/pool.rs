//! One subnet pool and its single-step swap (`swap_step.rs`, `impls.rs::swap_inner`).
//!
//! The pool is a value: [`Pool::swap`] returns the pool after the swap inside its
//! [`SwapResult`] and never mutates `self`; [`Pool::inject`] likewise returns the new pool.
//! The caller (the ledger/AMM service) decides whether to keep it.
//!
//! What the pool does and does not do, relative to the chain:
//! * Reserves move as subtensor's `swap_tao_for_alpha` / `swap_alpha_for_tao` move them: the net
//!   input `amount_in` (after the fee) enters the input reserve, `amount_out` leaves the output
//!   reserve. The fee never enters the pool: it belongs to the block author.
//! * On a sell the fee is alpha. Subtensor then sells that alpha fee-free into the pool for the
//!   author (a second swap); that second swap is the caller's business, not part of this one.
//! * The unexecuted part of a limit order (`request − amount_in − fee`) is the caller's refund.

use fixed::types::U64F64;
use serde::{Deserialize, Serialize};

use crate::balancer::Balancer;
use crate::fixed64::{self, ZERO};
use crate::perquintill::Perquintill;
use crate::SwapError;

/// `SwapMinimumReserve`: the output-side reserve a dynamic swap requires before it runs (RAO).
pub const MINIMUM_RESERVE: u64 = 1_000_000;
/// `MAX_SWAP_INPUT_RESERVE_MULTIPLIER`: net input may be at most this many input reserves.
pub const MAX_SWAP_INPUT_RESERVE_MULTIPLIER: u64 = 1_000;
/// Default fee rate, a u16 proportion of 65535 (≈ 0.05%).
pub const DEFAULT_FEE_RATE: u16 = 33;
/// `MaxFeeRate` (≈ 15.26%): the largest rate governance may set.
pub const MAX_FEE_RATE: u16 = 10_000;
/// Minimum price as a limit (`price × 10^9`): 10^-6 TAO per alpha; the default sell limit.
pub const MIN_PRICE_LIMIT: u64 = 1_000;
/// Maximum price as a limit (`price × 10^9`): 10^6 TAO per alpha; the default buy limit.
pub const MAX_PRICE_LIMIT: u64 = 1_000_000_000_000_000;
/// RAO per TAO, the scale of `u64` limit prices.
pub const PRICE_LIMIT_SCALE: u64 = 1_000_000_000;

/// How a pool prices its token (`SubnetMechanism`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mechanism {
    /// 0: 1:1, no fee, no slippage, no limit checks (root, netuid 0).
    Stable,
    /// 1: the Balancer AMM.
    Dynamic,
}

/// Which side the trader pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    /// Pay TAO, receive alpha (stake). Moves the price up.
    BuyAlphaWithTao,
    /// Pay alpha, receive TAO (unstake). Moves the price down.
    SellAlpha,
}

impl Direction {
    /// The default limit price of this side (§3.2): max price for buys, min price for sells.
    pub const fn default_limit_price(self) -> u64 {
        match self {
            Direction::BuyAlphaWithTao => MAX_PRICE_LIMIT,
            Direction::SellAlpha => MIN_PRICE_LIMIT,
        }
    }
}

/// One swap order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SwapRequest {
    /// Which side the trader pays.
    pub direction: Direction,
    /// Gross amount offered, fee included (TAO RAO on a buy, alpha RAO on a sell).
    pub amount_in: u64,
    /// Limit price as `price × 10^9`; `None` means the side's default.
    pub limit_price: Option<u64>,
    /// Protocol-internal swaps pay no fee (`drop_fees`).
    pub drop_fees: bool,
}

impl SwapRequest {
    /// Buy alpha with `tao` RAO at the default limit.
    pub const fn buy(tao: u64) -> Self {
        SwapRequest {
            direction: Direction::BuyAlphaWithTao,
            amount_in: tao,
            limit_price: None,
            drop_fees: false,
        }
    }

    /// Sell `alpha` RAO at the default limit.
    pub const fn sell(alpha: u64) -> Self {
        SwapRequest {
            direction: Direction::SellAlpha,
            amount_in: alpha,
            limit_price: None,
            drop_fees: false,
        }
    }

    /// The same order with a limit price (`price × 10^9`).
    pub const fn with_limit(mut self, limit_price: u64) -> Self {
        self.limit_price = Some(limit_price);
        self
    }

    /// The same order without fees (protocol swaps).
    pub const fn without_fees(mut self) -> Self {
        self.drop_fees = true;
        self
    }

    fn limit(&self) -> u64 {
        self.limit_price
            .unwrap_or_else(|| self.direction.default_limit_price())
    }
}

/// The outcome of one swap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwapResult {
    /// Net input added to the input reserve (`amount_paid_in`); excludes the fee.
    pub amount_in: u64,
    /// Output paid from the output reserve (`amount_paid_out`).
    pub amount_out: u64,
    /// Fee charged, in the input token (`fee_paid`). Recomputed as `Δ·rate/(65535−rate)` when
    /// the limit price cut the order short.
    pub fee: u64,
    /// The share of `fee` owed to the block author: all of it, when anything executed.
    pub fee_to_block_author: u64,
    /// TAO reserve after the swap.
    pub tao_reserve_after: u64,
    /// Alpha reserve after the swap.
    pub alpha_reserve_after: u64,
    /// Spot price after the swap (TAO per alpha).
    pub price_after: U64F64,
    /// The whole pool after the swap.
    pub pool_after: Pool,
}

/// A subnet pool: reserves, Balancer weights, fee rate and mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pool {
    /// `SubnetTAO`: the TAO reserve `y` (RAO).
    pub tao_reserve: u64,
    /// `SubnetAlphaIn`: the alpha reserve `x` (RAO).
    pub alpha_reserve: u64,
    balancer: Balancer,
    /// `FeeRate`: u16 proportion of 65535.
    pub fee_rate: u16,
    /// Stable (root) or dynamic.
    pub mechanism: Mechanism,
}

impl Pool {
    /// A dynamic pool. Fails with `ReservesOutOfBalance` (the chain's mapping of
    /// `BalancerError::InvalidValue`) when the quote weight is outside `[0.01, 0.99]`.
    pub fn new(
        tao_reserve: u64,
        alpha_reserve: u64,
        quote_weight: Perquintill,
        fee_rate: u16,
    ) -> Result<Self, SwapError> {
        let balancer = Balancer::new(quote_weight).map_err(|_| SwapError::ReservesOutOfBalance)?;
        Ok(Pool {
            tao_reserve,
            alpha_reserve,
            balancer,
            fee_rate,
            mechanism: Mechanism::Dynamic,
        })
    }

    /// A dynamic pool as a new subnet gets it: weights 0.5/0.5 and the default fee rate.
    pub fn constant_product(tao_reserve: u64, alpha_reserve: u64) -> Self {
        Pool {
            tao_reserve,
            alpha_reserve,
            balancer: Balancer::default(),
            fee_rate: DEFAULT_FEE_RATE,
            mechanism: Mechanism::Dynamic,
        }
    }

    /// The stable 1:1 pool of root (netuid 0).
    pub fn stable(tao_reserve: u64, alpha_reserve: u64) -> Self {
        Pool {
            tao_reserve,
            alpha_reserve,
            balancer: Balancer::default(),
            fee_rate: 0,
            mechanism: Mechanism::Stable,
        }
    }

    /// A dynamic pool whose weights reproduce a known price (`maybe_initialize_palswap` with a
    /// price): `w2 = y / (p·x + y)`, `p·x` split into integer and fraction parts as upstream.
    pub fn with_price(
        tao_reserve: u64,
        alpha_reserve: u64,
        price: U64F64,
        fee_rate: u16,
    ) -> Result<Self, SwapError> {
        let px_high = u128::from(fixed64::to_u64_floor(price)) * u128::from(alpha_reserve);
        let frac = U64F64::from_bits(price.to_bits() & u128::from(u64::MAX));
        let px_low = u128::from(fixed64::to_u64_floor(fixed64::mul(
            fixed64::from_u64(alpha_reserve),
            frac,
        )));
        let px_plus_y = px_high
            .saturating_add(px_low)
            .saturating_add(u128::from(tao_reserve));
        if px_plus_y == 0 {
            return Err(SwapError::ReservesOutOfBalance);
        }
        let quote = Perquintill::from_rational(u128::from(tao_reserve), px_plus_y);
        Pool::new(tao_reserve, alpha_reserve, quote, fee_rate)
    }

    /// The Balancer weights.
    pub fn balancer(&self) -> Balancer {
        self.balancer
    }

    /// The quote (TAO) weight `w2`.
    pub fn quote_weight(&self) -> Perquintill {
        self.balancer.quote_weight()
    }

    /// Spot price in TAO per alpha (`current_price`): `(w1/w2)·(y/x)` for dynamic pools (0 when
    /// the alpha reserve is empty), 1 for stable ones.
    pub fn price(&self) -> U64F64 {
        match self.mechanism {
            Mechanism::Stable => fixed64::ONE,
            Mechanism::Dynamic if self.alpha_reserve == 0 => ZERO,
            Mechanism::Dynamic => self
                .balancer
                .calculate_price(self.alpha_reserve, self.tao_reserve),
        }
    }

    /// `calculate_fee_amount`: `floor(amount · (rate/65535))` in `U64F64`; 0 when fees are
    /// dropped or the pool is stable.
    pub fn fee_for(&self, amount: u64, drop_fees: bool) -> u64 {
        if drop_fees || self.mechanism == Mechanism::Stable {
            return 0;
        }
        let rate = fixed64::safe_div(
            fixed64::from_u64(u64::from(self.fee_rate)),
            fixed64::from_u64(u64::from(u16::MAX)),
        );
        fixed64::to_u64_floor(fixed64::mul(fixed64::from_u64(amount), rate))
    }

    /// Execute one swap and return the outcome with the pool after it. `self` is unchanged.
    pub fn swap(&self, request: SwapRequest) -> Result<SwapResult, SwapError> {
        self.swap_inner(request, false)
    }

    /// The chain's simulation (`do_swap` with `simulate = true`): as [`Pool::swap`] but without
    /// the final payout-versus-reserve check, which upstream runs only when committing.
    pub fn simulate(&self, request: SwapRequest) -> Result<SwapResult, SwapError> {
        self.swap_inner(request, true)
    }

    fn swap_inner(&self, request: SwapRequest, simulate: bool) -> Result<SwapResult, SwapError> {
        let (amount_in, amount_out, fee) = match self.mechanism {
            Mechanism::Stable => (request.amount_in, request.amount_in, 0),
            Mechanism::Dynamic => self.dynamic_step(request, simulate)?,
        };
        let fee_to_block_author = if amount_in > 0 { fee } else { 0 };
        let mut after = *self;
        match request.direction {
            Direction::BuyAlphaWithTao => {
                after.tao_reserve = self.tao_reserve.saturating_add(amount_in);
                after.alpha_reserve = self.alpha_reserve.saturating_sub(amount_out);
            }
            Direction::SellAlpha => {
                after.alpha_reserve = self.alpha_reserve.saturating_add(amount_in);
                after.tao_reserve = self.tao_reserve.saturating_sub(amount_out);
            }
        }
        Ok(SwapResult {
            amount_in,
            amount_out,
            fee,
            fee_to_block_author,
            tao_reserve_after: after.tao_reserve,
            alpha_reserve_after: after.alpha_reserve,
            price_after: after.price(),
            pool_after: after,
        })
    }

    /// The Balancer swap step: returns `(Δ in, out, fee)`.
    fn dynamic_step(
        &self,
        request: SwapRequest,
        simulate: bool,
    ) -> Result<(u64, u64, u64), SwapError> {
        let buy = request.direction == Direction::BuyAlphaWithTao;
        let (reserve_in, reserve_out) = if buy {
            (self.tao_reserve, self.alpha_reserve)
        } else {
            (self.alpha_reserve, self.tao_reserve)
        };
        let limit_price = fixed64::safe_div(
            fixed64::from_u64(request.limit()),
            fixed64::from_u64(PRICE_LIMIT_SCALE),
        );

        let mut fee = self.fee_for(request.amount_in, request.drop_fees);
        let requested = request.amount_in.saturating_sub(fee);

        if reserve_out < MINIMUM_RESERVE {
            return Err(SwapError::ReservesTooLow);
        }
        if requested > reserve_in.saturating_mul(MAX_SWAP_INPUT_RESERVE_MULTIPLIER) {
            return Err(SwapError::SwapInputTooLarge);
        }
        let current_price = self.price();
        let inside_limit = if buy {
            current_price < limit_price
        } else {
            current_price > limit_price
        };
        if !inside_limit {
            return Err(SwapError::PriceLimitExceeded);
        }

        let requested_out = self.convert(buy, requested);
        let target_price = if buy {
            self.balancer.calculate_price(
                self.alpha_reserve.saturating_sub(requested_out),
                self.tao_reserve.saturating_add(requested),
            )
        } else {
            self.balancer.calculate_price(
                self.alpha_reserve.saturating_add(requested),
                self.tao_reserve.saturating_sub(requested_out),
            )
        };
        let within_limit = if buy {
            target_price <= limit_price
        } else {
            target_price >= limit_price
        };

        let (delta_in, delta_out) = if within_limit {
            (requested, requested_out)
        } else {
            // Only the part that reaches the limit executes. Capped at the requested amount (as
            // later upstream revisions do) so rounding can never charge more than was offered.
            let delta = if buy {
                self.balancer
                    .calculate_quote_delta_in(current_price, limit_price, self.tao_reserve)
            } else {
                self.balancer.calculate_base_delta_in(
                    current_price,
                    limit_price,
                    self.alpha_reserve,
                )
            }
            .min(requested);
            fee = self.recomputed_fee(delta, request.drop_fees);
            (delta, self.convert(buy, delta))
        };

        if delta_in > 0 && delta_out == 0 {
            return Err(SwapError::ReservesTooLow);
        }
        if !simulate && delta_out > reserve_out {
            return Err(SwapError::InsufficientLiquidity);
        }
        Ok((delta_in, delta_out, fee))
    }

    /// `convert_deltas`: `out = floor(reserve_out · (1 − factor))`.
    fn convert(&self, buy: bool, delta_in: u64) -> u64 {
        if buy {
            let e = self.balancer.exp_quote_base(self.tao_reserve, delta_in);
            let one_minus = fixed64::sub(fixed64::ONE, e);
            fixed64::to_u64_floor(fixed64::mul(
                fixed64::from_u64(self.alpha_reserve),
                one_minus,
            ))
        } else {
            let e = self.balancer.exp_base_quote(self.alpha_reserve, delta_in);
            let one_minus = fixed64::sub(fixed64::ONE, e);
            fixed64::to_u64_floor(fixed64::mul(fixed64::from_u64(self.tao_reserve), one_minus))
        }
    }

    /// The fee of a limit-clipped order: `floor(Δ · (rate / (65535 − rate)))` so the fee stays
    /// `rate` of the gross amount.
    fn recomputed_fee(&self, delta: u64, drop_fees: bool) -> u64 {
        let rate = if drop_fees {
            ZERO
        } else {
            fixed64::from_u64(u64::from(self.fee_rate))
        };
        let u16_max = fixed64::from_u64(u64::from(u16::MAX));
        let ratio = fixed64::safe_div(rate, fixed64::sub(u16_max, rate));
        fixed64::to_u64_floor(fixed64::mul(fixed64::from_u64(delta), ratio))
    }

    /// Protocol liquidity injection (`adjust_protocol_liquidity`): add `(tao, alpha)` to the
    /// reserves and re-solve the quote weight so the price stays put. A dynamic pool rejects an
    /// injection that would move the weight outside `[0.01, 0.99]` with `ReservesOutOfBalance`
    /// (upstream then adds nothing). A stable pool just adds the amounts.
    pub fn inject(&self, tao: u64, alpha: u64) -> Result<Pool, SwapError> {
        let mut after = *self;
        if self.mechanism == Mechanism::Dynamic {
            after
                .balancer
                .update_weights_for_added_liquidity(
                    self.tao_reserve,
                    self.alpha_reserve,
                    tao,
                    alpha,
                )
                .map_err(|_| SwapError::ReservesOutOfBalance)?;
        }
        after.tao_reserve = self.tao_reserve.saturating_add(tao);
        after.alpha_reserve = self.alpha_reserve.saturating_add(alpha);
        Ok(after)
    }

    /// `get_max_amount_add`: the largest gross TAO whose buy stops exactly at `limit_price`
    /// (`price × 10^9`), found by simulating a buy of 1000 × the TAO reserve.
    ///
    /// Stable pools: `u64::MAX` when `limit_price ≥ 10^9`, else `ZeroMaxStakeAmount`. A dynamic
    /// result of 0 is also `ZeroMaxStakeAmount`; swap rejections (for example
    /// `PriceLimitExceeded` when the limit is not above the price) pass through.
    pub fn max_amount_add(&self, limit_price: u64) -> Result<u64, SwapError> {
        if self.mechanism == Mechanism::Stable {
            return if limit_price >= PRICE_LIMIT_SCALE {
                Ok(u64::MAX)
            } else {
                Err(SwapError::ZeroMaxStakeAmount)
            };
        }
        let amount = self
            .tao_reserve
            .saturating_mul(MAX_SWAP_INPUT_RESERVE_MULTIPLIER);
        let r = self.simulate(SwapRequest::buy(amount).with_limit(limit_price))?;
        match r.amount_in.saturating_add(r.fee) {
            0 => Err(SwapError::ZeroMaxStakeAmount),
            max => Ok(max),
        }
    }

    /// `get_max_amount_remove`: the largest gross alpha whose sell stops exactly at
    /// `limit_price`, found by simulating a sell of 1000 × the alpha reserve.
    ///
    /// Stable pools: `u64::MAX` when `limit_price ≤ 10^9`, else 0. Swap rejections pass through.
    pub fn max_amount_remove(&self, limit_price: u64) -> Result<u64, SwapError> {
        if self.mechanism == Mechanism::Stable {
            return Ok(if limit_price <= PRICE_LIMIT_SCALE {
                u64::MAX
            } else {
                0
            });
        }
        let amount = self
            .alpha_reserve
            .saturating_mul(MAX_SWAP_INPUT_RESERVE_MULTIPLIER);
        let r = self.simulate(SwapRequest::sell(amount).with_limit(limit_price))?;
        Ok(r.amount_in.saturating_add(r.fee))
    }
}
