//! Given/when/then cases for the swap rules of spec §3.3 and the `taonet calc swap` JSON.

use pool::calc::{calc_swap, rejection_code, CalcSwapArgs};
use pool::{Perquintill, Pool, SwapError, SwapRequest, MINIMUM_RESERVE, U64F64};
use serde_json::json;

fn cp(tao: u64, alpha: u64) -> Pool {
    Pool::constant_product(tao, alpha)
}

#[test]
fn output_reserve_below_minimum_is_reserves_too_low() {
    let pool = cp(10_000_000_000, MINIMUM_RESERVE - 1);
    assert_eq!(
        pool.swap(SwapRequest::buy(1_000)),
        Err(SwapError::ReservesTooLow)
    );
    // The check is on the output side only: selling into the same pool is fine.
    assert!(pool.swap(SwapRequest::sell(1_000)).is_ok());
    let pool = cp(MINIMUM_RESERVE - 1, 10_000_000_000);
    assert_eq!(
        pool.swap(SwapRequest::sell(1_000)),
        Err(SwapError::ReservesTooLow)
    );
}

#[test]
fn nonzero_input_with_zero_output_is_reserves_too_low() {
    // 1 RAO into a deep TAO side buys 10^-9 alpha, which floors to 0.
    let pool = cp(1_000_000_000_000_000, 1_000_000);
    let req = SwapRequest::buy(1).with_limit(u64::MAX);
    assert_eq!(pool.swap(req), Err(SwapError::ReservesTooLow));
}

#[test]
fn input_cap_is_1000_input_reserves_of_net_input() {
    let pool = cp(1_000_000, 1_000_000);
    let at_cap = SwapRequest::buy(1_000_000_000).without_fees();
    assert!(pool.swap(at_cap).is_ok());
    let over = SwapRequest::buy(1_000_000_001).without_fees();
    assert_eq!(pool.swap(over), Err(SwapError::SwapInputTooLarge));
    // With the fee, the gross may exceed the cap as long as the net does not.
    assert!(pool.swap(SwapRequest::buy(1_000_000_500)).is_ok());
    assert_eq!(
        pool.swap(SwapRequest::sell(1_001_000_000)),
        Err(SwapError::SwapInputTooLarge)
    );
}

#[test]
fn limit_must_be_strictly_beyond_the_price() {
    let pool = cp(1_000_000_000, 1_000_000_000); // price 1.0 = 1e9 as a limit
    let at_price = 1_000_000_000;
    assert_eq!(
        pool.swap(SwapRequest::buy(1_000).with_limit(at_price)),
        Err(SwapError::PriceLimitExceeded)
    );
    assert_eq!(
        pool.swap(SwapRequest::sell(1_000).with_limit(at_price)),
        Err(SwapError::PriceLimitExceeded)
    );
    assert!(pool
        .swap(SwapRequest::buy(1_000).with_limit(at_price + 1))
        .is_ok());
    assert!(pool
        .swap(SwapRequest::sell(1_000).with_limit(at_price - 1))
        .is_ok());
}

#[test]
fn limit_cuts_the_order_and_recomputes_the_fee() {
    // Price 1 → limit 4 needs Δy = y·(√4 − 1) = y.
    let pool = cp(1_000_000, 1_000_000);
    let r = pool
        .swap(SwapRequest::buy(5_000_000).with_limit(4_000_000_000))
        .unwrap();
    assert_eq!(r.amount_in, 1_000_000);
    assert_eq!(r.fee, 503); // floor(1e6 · 33/65502), not floor(5e6 · 33/65535) = 2517
    assert_eq!(r.fee_to_block_author, 503);
    assert_eq!(r.amount_out, 500_000);
    assert_eq!(r.tao_reserve_after, 2_000_000);
    assert_eq!(r.alpha_reserve_after, 500_000);
    assert_eq!(r.price_after, U64F64::from_num(4));
    assert_eq!(r.pool_after.tao_reserve, 2_000_000);
    // An order that does not reach the limit executes in full with the plain fee.
    let r = pool
        .swap(SwapRequest::buy(100_000).with_limit(4_000_000_000))
        .unwrap();
    assert_eq!((r.amount_in, r.fee), (100_000 - 50, 50));
}

#[test]
fn swap_is_pure() {
    let pool = cp(1_000_000_000, 4_000_000_000);
    let copy = pool;
    let r = pool.swap(SwapRequest::buy(1_000_000_000)).unwrap();
    assert_eq!(pool, copy);
    assert_eq!(r.pool_after.tao_reserve, 1_000_000_000 + r.amount_in);
    assert_eq!(r.pool_after.alpha_reserve, 4_000_000_000 - r.amount_out);
    assert_eq!(r.price_after, r.pool_after.price());
}

#[test]
fn post_swap_reserve_may_fall_below_the_minimum() {
    // The chain checks the minimum reserve before the swap, not after: a maximal buy on a pool
    // at the minimum leaves ~1000 RAO of alpha. Recorded here because it is chain behaviour.
    let pool = cp(1_000_000, MINIMUM_RESERVE);
    let r = pool
        .swap(SwapRequest::buy(1_000_000_000).without_fees())
        .unwrap();
    assert!(r.alpha_reserve_after < MINIMUM_RESERVE);
    assert!(r.alpha_reserve_after > 0);
}

#[test]
fn k_can_drop_by_one_output_rao() {
    // Found by the property test: 1320 RAO (fee 0) into a 6.0e15 / 1.77e16 pool. The ideal
    // payout is 3876.99..., the floored power gives 3877, so x·y falls slightly. Chain behaviour.
    let (tao, alpha) = (6_025_422_840_498_356u64, 17_697_374_167_201_232u64);
    let r = cp(tao, alpha).swap(SwapRequest::buy(1_320)).unwrap();
    assert_eq!(r.fee, 0);
    let ideal_floor = u128::from(alpha) * 1_320 / (u128::from(tao) + 1_320);
    assert_eq!(u128::from(r.amount_out), ideal_floor + 1);
    let k0 = u128::from(tao) * u128::from(alpha);
    let k1 = u128::from(r.tao_reserve_after) * u128::from(r.alpha_reserve_after);
    assert!(k1 < k0);
}

#[test]
fn stable_pool_is_one_to_one_without_fee_or_limit() {
    let root = Pool::stable(5_000, 0);
    assert_eq!(root.price(), U64F64::from_num(1));
    let r = root.swap(SwapRequest::buy(1_000).with_limit(1)).unwrap();
    assert_eq!((r.amount_in, r.amount_out, r.fee), (1_000, 1_000, 0));
    assert_eq!((r.tao_reserve_after, r.alpha_reserve_after), (6_000, 0));
    let r = root.swap(SwapRequest::sell(700)).unwrap();
    assert_eq!((r.tao_reserve_after, r.alpha_reserve_after), (4_300, 700));
    assert_eq!(root.inject(10, 20).unwrap(), Pool::stable(5_010, 20));
    assert_eq!(root.max_amount_add(1_000_000_000), Ok(u64::MAX));
    assert_eq!(
        root.max_amount_add(999_999_999),
        Err(SwapError::ZeroMaxStakeAmount)
    );
    assert_eq!(root.max_amount_remove(1_000_000_000), Ok(u64::MAX));
    assert_eq!(root.max_amount_remove(1_000_000_001), Ok(0));
}

#[test]
fn max_amount_without_reaching_the_limit_is_the_whole_cap() {
    // A limit far above what 1000 reserves can reach: the whole simulated amount counts.
    let pool = cp(1_000_000, 1_000_000_000_000);
    assert_eq!(
        pool.max_amount_add(pool::MAX_PRICE_LIMIT),
        Ok(1_000_000_000)
    );
}

#[test]
fn injection_that_pushes_the_weight_out_of_range_is_rejected() {
    let pool = cp(1_000_000_000, 1_000_000_000);
    assert_eq!(
        pool.inject(1_000_000_000_000, 0),
        Err(SwapError::ReservesOutOfBalance)
    );
    assert!(pool.inject(1_000_000_000, 0).is_ok());
}

#[test]
fn weights_outside_bounds_are_refused() {
    let bad = Perquintill::from_parts(9_999_999_999_999_999);
    assert_eq!(
        Pool::new(1, 1, bad, 33),
        Err(SwapError::ReservesOutOfBalance)
    );
    assert!(Pool::new(1, 1, pool::MIN_WEIGHT, 33).is_ok());
}

#[test]
fn calc_swap_renders_the_interface_json() {
    let mut args = CalcSwapArgs::new(1_000_000_000, 4_000_000_000);
    args.buy_with_tao = Some(1_000_000_000);
    let out = calc_swap(&args).unwrap();
    assert_eq!(
        out,
        json!({
            "amount_in": 999_496_453u64,
            "amount_out": 1_999_496_326u64,
            "fee": 503_547u64,
            "tao_reserve_after": 1_999_496_453u64,
            "alpha_reserve_after": 2_000_503_674u64,
            "price_after": out["price_after"].clone(),
        })
    );
    let price: U64F64 = out["price_after"].as_str().unwrap().parse().unwrap();
    let pool = Pool::constant_product(1_999_496_453, 2_000_503_674);
    assert_eq!(price, pool.price(), "the decimal string reads back exactly");

    args.limit_price = Some(250_000_000);
    let err = calc_swap(&args).unwrap_err();
    assert_eq!(rejection_code(&err), "PriceLimitExceeded");

    args.sell_alpha = Some(5);
    assert_eq!(
        rejection_code(&calc_swap(&args).unwrap_err()),
        "InvalidArguments"
    );

    let mut args = CalcSwapArgs::new(1_000_000_000, 500_000);
    args.buy_with_tao = Some(1_000);
    assert_eq!(
        rejection_code(&calc_swap(&args).unwrap_err()),
        "ReservesTooLow"
    );
    let mut args = CalcSwapArgs::new(1_000_000, 1_000_000);
    args.sell_alpha = Some(2_000_000_000);
    assert_eq!(
        rejection_code(&calc_swap(&args).unwrap_err()),
        "SwapInputTooLarge"
    );
}
