//! Replays the pool vectors of `shared/vectors/tokenomics.json` with the tolerance each states.
//!
//! Floating point appears only here, to build inputs the way the upstream tests build them
//! (`U64F64::from_num(0.1)`) and to compare with the vectors' decimal expectations.

use fixed::types::U64F64;
use pool::balancer::Balancer;
use pool::{Perquintill, Pool, SwapError, SwapRequest};
use serde_json::Value;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/tokenomics.json"
);

fn vector(id: &str) -> Value {
    let text = std::fs::read_to_string(VECTORS).unwrap_or_else(|e| panic!("read {VECTORS}: {e}"));
    let all: Value = serde_json::from_str(&text).expect("vector JSON");
    all["vectors"]
        .as_array()
        .expect("vectors array")
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("vector {id} missing"))
        .clone()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))
}

/// A decimal weight such as `0.773` as exact Perquintill parts, parsed from its JSON text
/// (the upstream tests build these with `Perquintill::from_rational(773, 1000)`).
fn weight(v: &Value) -> Perquintill {
    let text = v.to_string();
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    assert_eq!(int, "0", "weight {text} is not below 1");
    assert!(frac.len() <= 18, "weight {text} has more than 18 decimals");
    let parts: u64 = format!("{frac:0<18}").parse().expect("decimal weight");
    Perquintill::from_parts(parts)
}

fn weight_f64(p: Perquintill) -> f64 {
    p.deconstruct() as f64 / 1e18
}

#[test]
fn balancer_swap_basic() {
    let v = vector("balancer_swap_basic");
    let inp = &v["inputs"];
    let tol = u(&v["tolerance"]);
    let pool = Pool::new(
        u(&inp["tao_reserve"]),
        u(&inp["alpha_reserve"]),
        weight(&inp["quote_weight"]),
        u(&inp["fee_rate_raw"]) as u16,
    )
    .unwrap();
    for case in v["cases"].as_array().unwrap() {
        let amount = u(&case["amount_in"]);
        let req = match case["order"].as_str().unwrap() {
            "buy_alpha_with_tao" => SwapRequest::buy(amount),
            "sell_alpha_for_tao" => SwapRequest::sell(amount),
            other => panic!("order {other}"),
        };
        let r = pool.swap(req).unwrap();
        assert_eq!(r.fee, u(&case["fee"]), "fee of {case}");
        assert_eq!(r.amount_in, u(&case["net_in"]), "net of {case}");
        let expect = u(&case["amount_out"]);
        assert!(
            r.amount_out.abs_diff(expect) <= tol,
            "out {} vs {expect} for {case}",
            r.amount_out
        );
        // Our arithmetic is the chain's: the hand-computed values match exactly.
        assert_eq!(r.amount_out, expect, "exact out for {case}");
    }
}

#[test]
fn balancer_exponent_kernel() {
    let v = vector("balancer_exponent_kernel");
    let tol = v["tolerance"].as_f64().unwrap();
    for case in v["cases"].as_array().unwrap() {
        if case.get("raw_pow").is_some() {
            // (21e15/(21e15+7e15))^(0.6/0.4) at 10^18 scale.
            let b = num_bigint::BigUint::from;
            let r = pool::bigpow::pow_ratio_scaled(
                &b(21_000_000_000_000_000u64),
                &b(28_000_000_000_000_000u64),
                &b(600_000_000_000_000_000u64),
                &b(400_000_000_000_000_000u64),
                256,
                &b(1_000_000_000_000_000_000u64),
            )
            .unwrap();
            assert_eq!(r, b(u(&case["result_perquintill"])));
            continue;
        }
        let bal = Balancer::new(weight(&case["quote_weight"])).unwrap();
        let e = bal.exp_scaled(
            u(&case["reserve"]),
            i128::from(u(&case["delta"])),
            case["base_quote"].as_bool().unwrap(),
        );
        let expect = case["result"].as_f64().unwrap();
        let got = e.to_num::<f64>();
        assert!((got - expect).abs() <= tol, "{got} vs {expect} for {case}");
    }
}

#[test]
fn balancer_limit_deltas() {
    let v = vector("balancer_limit_deltas");
    assert_eq!(u(&v["tolerance"]), 0);
    let bal = Balancer::new(Perquintill::from_rational(
        250_000_000_000,
        1_000_000_000_000,
    ))
    .unwrap();
    for case in v["cases"].as_array().unwrap() {
        let f = case["fn"].as_str().unwrap();
        let price = |k: &str| U64F64::from_num(case[k].as_f64().unwrap());
        let got = if f.starts_with("quote_delta_in") {
            bal.calculate_quote_delta_in(
                price("current_price"),
                price("target_price"),
                u(&case["tao_reserve"]),
            )
        } else if f.starts_with("base_delta_in") {
            bal.calculate_base_delta_in(
                price("current_price"),
                price("target_price"),
                u(&case["alpha_reserve"]),
            )
        } else {
            bal.get_base_needed_for_quote(
                u(&case["tao_reserve"]),
                u(&case["alpha_reserve"]),
                u(&case["tao_delta"]),
            )
        };
        assert_eq!(got, u(&case["result"]), "{case}");
    }
    // The mirror-image impossible case (upstream test_calculate_base_delta_in_impossible).
    assert_eq!(
        bal.calculate_base_delta_in(U64F64::from_num(0.1), U64F64::from_num(0.2), 1_000_000_000),
        0
    );
}

#[test]
fn balancer_weights_init_and_injection() {
    let v = vector("balancer_weights_init_and_injection");
    for case in v["cases"].as_array().unwrap() {
        let tao = u(&case["tao_reserve"]);
        let alpha = u(&case["alpha_reserve"]);
        let pool = if let Some(p) = case.get("init_price") {
            Pool::with_price(tao, alpha, U64F64::from_num(p.as_f64().unwrap()), 33).unwrap()
        } else {
            let before = Pool::new(tao, alpha, weight(&case["quote_weight_before"]), 33).unwrap();
            let after = before
                .inject(u(&case["tao_delta"]), u(&case["alpha_delta"]))
                .unwrap();
            assert_eq!(after.tao_reserve, tao + u(&case["tao_delta"]));
            assert_eq!(after.alpha_reserve, alpha + u(&case["alpha_delta"]));
            // Price preserved to the spec's rounding (1e-9), and here far tighter.
            let (p0, p1) = (before.price(), after.price());
            let diff = if p0 > p1 { p0 - p1 } else { p1 - p0 };
            assert!(
                diff.to_num::<f64>() <= 1e-9,
                "price moved by {diff} in {case}"
            );
            after
        };
        let w = weight_f64(pool.quote_weight());
        let expect = case["expected_quote_weight"].as_f64().unwrap();
        assert!(
            ((w - expect) / expect).abs() <= 1e-12,
            "weight {w} vs {expect} in {case}"
        );
        let price = pool.price().to_num::<f64>();
        let expect_price = case["expected_price"].as_f64().unwrap();
        assert!(
            (price - expect_price).abs() <= 1e-9,
            "price {price} vs {expect_price} in {case}"
        );
    }
}

#[test]
fn max_amount_add_remove_with_limit() {
    let v = vector("max_amount_add_remove_with_limit");
    for case in v["cases"].as_array().unwrap() {
        let pool = Pool::constant_product(u(&case["tao_reserve"]), u(&case["alpha_reserve"]));
        let limit = u(&case["limit_price_u64"]);
        let got = match case["fn"].as_str().unwrap() {
            "max_add" => pool.max_amount_add(limit),
            "max_remove" => pool.max_amount_remove(limit),
            other => panic!("fn {other}"),
        };
        match &case["exact"] {
            Value::String(s) => {
                assert_eq!(s, "error PriceLimitExceeded");
                assert_eq!(got, Err(SwapError::PriceLimitExceeded), "{case}");
            }
            exact => {
                let got = got.unwrap_or_else(|e| panic!("{e} for {case}"));
                let exact = u(exact);
                assert!(got.abs_diff(exact) <= 2, "{got} vs {exact} for {case}");
                assert_eq!(got, exact, "exact for {case}");
                let up = u(&case["upstream_expected"]);
                assert!(got.abs_diff(up) <= u(&case["upstream_tolerance"]), "{case}");
            }
        }
    }
}

#[test]
fn max_amount_move_dynamic_dynamic() {
    let v = vector("max_amount_move_dynamic_dynamic");
    for case in v["cases"].as_array().unwrap() {
        let origin = Pool::constant_product(u(&case["t1"]), u(&case["a1"]));
        let dest = Pool::constant_product(u(&case["t2"]), u(&case["a2"]));
        let got = pool::max_amount_move(&origin, &dest, u(&case["limit_price_u64"])).unwrap();
        let expect = u(&case["expected"]);
        assert!(
            got.abs_diff(expect) <= u(&case["tolerance"]),
            "{got} vs {expect} for {case}"
        );
    }
}

#[test]
fn share_pool_staking() {
    let v = vector("share_pool_staking");
    let tol = u(&v["tolerance"]);
    let mut p = pool::SharePool::<u8>::default();
    let near = |got: u64, want: &Value| {
        let want = u(want);
        assert!(got.abs_diff(want) <= tol, "{got} vs {want}");
    };
    let steps = v["steps"].as_array().unwrap();
    p.deposit(1, 1_000_000_000).unwrap();
    near(p.value_of(&1), &steps[0]["ck1_value"]);
    p.deposit(1, 1_000_000_000).unwrap();
    near(p.value_of(&1), &steps[1]["ck1_value"]);
    p.credit(1_000_000_000);
    near(p.value_of(&1), &steps[2]["ck1_value"]);
    p.deposit(2, 1_000_000_000).unwrap();
    near(p.value_of(&2), &steps[3]["ck2_value"]);
    near(p.value_of(&1), &steps[3]["ck1_value"]);
    assert_eq!(p.value, u(&steps[3]["hotkey_total"]));
    p.check().unwrap();
}
