//! Property tests of the pool invariants (spec §3.3, §3.4).

use pool::{Perquintill, Pool, SwapRequest, MINIMUM_RESERVE};
use proptest::prelude::*;

/// Reserves a live pool can have: from the minimum up to the whole TAO supply.
fn reserve() -> impl Strategy<Value = u64> {
    prop_oneof![
        MINIMUM_RESERVE..10_000_000_000u64,
        MINIMUM_RESERVE..21_000_000_000_000_000u64,
    ]
}

/// Amounts from dust to many reserves.
fn amount() -> impl Strategy<Value = u64> {
    prop_oneof![
        0..10_000u64,
        0..1_000_000_000_000u64,
        0..21_000_000_000_000_000u64,
    ]
}

/// Quote weights inside the Balancer bounds.
fn quote_weight() -> impl Strategy<Value = Perquintill> {
    prop_oneof![
        Just(Perquintill::HALF),
        (10_000_000_000_000_000u64..=990_000_000_000_000_000).prop_map(Perquintill::from_parts),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    /// 0.5/0.5 is constant product. The fee never enters the pool (it goes to the block
    /// author), so k is kept only by rounding, and the chain's rounding is not strictly in the
    /// pool's favour: the power `y/(y+Δ)` is floored at 10^-18, which can round the payout up by
    /// one RAO when the output reserve is large (see `k_can_drop_by_one_output_rao` in
    /// tests/swap.rs). What holds exactly: the payout is at most one RAO above the ideal
    /// `x·Δ/(y+Δ)`, so k drops by at most one output RAO times the new input reserve.
    #[test]
    fn constant_product_k_drops_by_at_most_one_rao(
        tao in reserve(), alpha in reserve(), amt in amount(), buy in any::<bool>()
    ) {
        let pool = Pool::constant_product(tao, alpha);
        let req = if buy { SwapRequest::buy(amt) } else { SwapRequest::sell(amt) };
        if let Ok(r) = pool.swap(req) {
            let (x, y) = if buy { (alpha, tao) } else { (tao, alpha) };
            let (x, y, d) = (u128::from(x), u128::from(y), u128::from(r.amount_in));
            let ideal_floor = x * d / (y + d);
            prop_assert!(u128::from(r.amount_out) <= ideal_floor + 1, "{:?}", r);
            let k0 = u128::from(tao) * u128::from(alpha);
            let k1 = u128::from(r.tao_reserve_after) * u128::from(r.alpha_reserve_after);
            prop_assert!(k1 + (y + d) >= k0, "k {} -> {} for {:?}", k0, k1, r);
        }
    }

    /// The payout never exceeds the output reserve (strictly less for constant product), and a
    /// successful swap started from an output reserve of at least the minimum.
    #[test]
    fn payout_is_bounded_by_the_reserve(
        tao in reserve(), alpha in reserve(), w in quote_weight(), fee in 0u16..=10_000,
        amt in amount(), buy in any::<bool>()
    ) {
        let pool = Pool::new(tao, alpha, w, fee).unwrap();
        let req = if buy { SwapRequest::buy(amt) } else { SwapRequest::sell(amt) };
        if let Ok(r) = pool.swap(req) {
            let out_reserve = if buy { alpha } else { tao };
            prop_assert!(out_reserve >= MINIMUM_RESERVE);
            prop_assert!(r.amount_out <= out_reserve);
            if w == Perquintill::HALF {
                prop_assert!(r.amount_out < out_reserve);
            }
            prop_assert!(r.amount_in.saturating_add(r.fee) <= amt);
        }
    }

    /// A round trip through the pool never gains TAO.
    #[test]
    fn buy_then_sell_never_gains(
        tao in reserve(), alpha in reserve(), w in quote_weight(), amt in amount()
    ) {
        let pool = Pool::new(tao, alpha, w, 33).unwrap();
        if let Ok(b) = pool.swap(SwapRequest::buy(amt)) {
            if let Ok(s) = b.pool_after.swap(SwapRequest::sell(b.amount_out)) {
                prop_assert!(s.amount_out <= amt, "{} TAO in, {} back", amt, s.amount_out);
            }
        }
    }

    /// Injection keeps the price: relative change at most 1e-9 (the vector's tolerance).
    #[test]
    fn injection_preserves_price(
        tao in reserve(), alpha in reserve(), w in quote_weight(),
        dt in 0..1_000_000_000_000u64, da in 0..1_000_000_000_000u64
    ) {
        let pool = Pool::new(tao, alpha, w, 33).unwrap();
        if let Ok(after) = pool.inject(dt, da) {
            let (p0, p1) = (pool.price().to_bits(), after.price().to_bits());
            let diff = p0.abs_diff(p1);
            // |p1 − p0| ≤ 1e-9·p0 + 2^-32 (fixed-point floor of two divisions).
            prop_assert!(
                diff <= p0 / 1_000_000_000 + (1u128 << 32),
                "price {} -> {} ({:?} + {}, {})", p0, p1, pool, dt, da
            );
            prop_assert_eq!(after.tao_reserve, tao + dt);
            prop_assert_eq!(after.alpha_reserve, alpha + da);
        }
    }

    /// Any u64 input gives a result or a typed error, never a panic.
    #[test]
    fn never_panics(
        tao in any::<u64>(), alpha in any::<u64>(), w in any::<u64>(), fee in any::<u16>(),
        amt in any::<u64>(), limit in proptest::option::of(any::<u64>()), buy in any::<bool>(),
        drop in any::<bool>(), dt in any::<u64>(), da in any::<u64>()
    ) {
        let w = Perquintill::from_parts(10_000_000_000_000_000 + w % 980_000_000_000_000_001);
        let pool = Pool::new(tao, alpha, w, fee).unwrap();
        let mut req = if buy { SwapRequest::buy(amt) } else { SwapRequest::sell(amt) };
        req.limit_price = limit;
        req.drop_fees = drop;
        let _ = pool.swap(req);
        let _ = pool.simulate(req);
        let _ = pool.inject(dt, da);
        let _ = pool.price();
        if let Some(l) = limit {
            let _ = pool.max_amount_add(l);
            let _ = pool.max_amount_remove(l);
        }
        let _ = Pool::new(tao, alpha, Perquintill::from_parts(w.deconstruct() ^ amt), fee);
    }
}

proptest! {
    /// The equal-weight fast path of `exp_scaled` is bit-identical to the big-integer kernel.
    #[test]
    fn equal_weight_fast_path_matches_the_kernel(x in 1u64..u64::MAX, dx in 0u64..u64::MAX / 2, neg in any::<bool>()) {
        use num_bigint::BigUint;
        let b = pool::Balancer::default();
        let dx_signed = if neg { -i128::from(dx % x) } else { i128::from(dx) };
        let fast = b.exp_scaled(x, dx_signed, true);
        let x_plus = if neg { x - dx % x } else { x.saturating_add(dx) };
        let slow = pool::bigpow::pow_ratio_scaled(
            &BigUint::from(x), &BigUint::from(x_plus), &BigUint::from(1u32), &BigUint::from(1u32),
            256, &BigUint::from(pool::ACCURACY),
        ).and_then(|r| u64::try_from(r).ok())
            .map(|v| pool::fixed64::safe_div(pool::fixed64::from_u64(v), pool::fixed64::from_u64(pool::ACCURACY)))
            .map(|v| if neg { v } else { v.min(pool::fixed64::ONE) })
            .unwrap_or(pool::fixed64::ZERO);
        prop_assert_eq!(fast, slow);
    }

    /// The one-division path of `checked_div` equals exact big-integer floor division.
    #[test]
    fn checked_div_matches_big_integer_floor(a in any::<u128>(), b in 1u128..) {
        use num_bigint::BigUint;
        let got = pool::fixed64::checked_div(pool::U64F64::from_bits(a), pool::U64F64::from_bits(b));
        let q = (BigUint::from(a) << 64u32) / BigUint::from(b);
        prop_assert_eq!(got.map(|v| v.to_bits()), u128::try_from(q).ok());
    }
}
