//! The coinbase, payout, share-pool and staking vectors of
//! `shared/vectors/tokenomics.json`, with the tolerance each states.
//!
//! Where a vector's setup can be built through the aggregate (a genesis,
//! commands, then the events), it is. Some inputs (EMA prices, a given
//! pending pot) are *given state* written into the public state before the
//! commands run, keeping the alpha accounting balanced; pure formula vectors
//! call the functions the coinbase and payout use. Floating point appears
//! only here, to compare with the vectors' decimals.

mod common;

use amm_core::event::*;
use amm_core::state::PotEntry;
use amm_core::*;
use common::*;
use fixed::types::{I96F32, U96F32};
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
        .unwrap()
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("vector {id} missing"))
        .clone()
}

fn u(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_f64().map(|f| f as u64))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn set_ema(h: &mut Harness, netuid: u16, price: f64) {
    h.amm.subnets.get_mut(&netuid).unwrap().moving_price_bits = I96F32::from_num(price).to_bits();
}

fn coinbase(events: &[AmmEvent]) -> CoinbaseRan {
    match &events[0] {
        AmmEvent::CoinbaseRan(c) => c.clone(),
        e => panic!("expected CoinbaseRan, got {e:?}"),
    }
}

fn sub(c: &CoinbaseRan, netuid: u16) -> SubnetCoinbase {
    c.subnets
        .iter()
        .find(|s| s.netuid == netuid)
        .unwrap()
        .clone()
}

/// A genesis with TaoWeight 1.0 and the given pools.
fn genesis_tw1(pools: &[(u16, u64, u64)]) -> AmmGenesis {
    let mut g = genesis(pools.iter().map(|(n, t, a)| subnet(*n, *t, *a)).collect());
    g.params.tao_weight = u64::MAX;
    g
}

fn admin(h: &mut Harness, netuid: u16, param: SubnetParam) {
    h.run(signed(ADMIN, CommandBody::SetParam { netuid, param }))
        .unwrap();
}

#[test]
fn alpha_emission_full_block() {
    let v = vector("alpha_emission_full_block");
    let i = &v["inputs"];
    let mut h = Harness::new(genesis(vec![
        subnet(1, u(&i["tao_reserve"]), u(&i["alpha_reserve"])),
        subnet(2, u(&i["tao_reserve"]), u(&i["alpha_reserve"])),
    ]));
    let prices = i["ema_prices"].as_array().unwrap();
    set_ema(&mut h, 1, f(&prices[0]));
    set_ema(&mut h, 2, f(&prices[1]));
    let c = coinbase(&h.block(u(&i["tao_block_emission"])).unwrap());
    for n in [1, 2] {
        assert_eq!(
            sub(&c, n).alpha_out,
            u(&v["expected"]["SubnetAlphaOutEmission_each_subnet"])
        );
    }
    h.check();
}

#[test]
fn alpha_emission_zero_at_cap() {
    let v = vector("alpha_emission_zero_at_cap");
    let i = &v["inputs"];
    let mut h = Harness::new(genesis(vec![
        subnet(1, u(&i["tao_reserve"]), u(&i["alpha_reserve"])),
        subnet(2, u(&i["tao_reserve"]), u(&i["alpha_reserve"])),
    ]));
    let prices = i["ema_prices"].as_array().unwrap();
    set_ema(&mut h, 1, f(&prices[0]));
    set_ema(&mut h, 2, f(&prices[1]));
    // Given: 21e15 alpha outstanding, owned by nobody in particular.
    let out = u(&i["SubnetAlphaOut"]);
    let s = h.amm.subnets.get_mut(&1).unwrap();
    s.alpha_out = out;
    s.dust = out;
    let price_before = h.amm.subnets[&1].pool().price();
    let c = coinbase(&h.block(u(&i["tao_block_emission"])).unwrap());
    let s1 = sub(&c, 1);
    assert_eq!(s1.alpha_out, 0, "no alpha emission at the cap");
    let after = &h.amm.subnets[&1];
    assert!(after.protocol_alpha > 0);
    assert_eq!(after.alpha_out, out + after.protocol_alpha);
    assert!(after.alpha_in < u(&i["alpha_reserve"]));
    assert!(after.pool().price() > price_before);
    h.check();
}

#[test]
fn owner_cut_extremes() {
    let v = vector("owner_cut_extremes");
    for case in v["cases"].as_array().unwrap() {
        let mut h = Harness::new(genesis(vec![subnet(1, 1_000_000_000, 1_000_000_000)]));
        admin(
            &mut h,
            1,
            SubnetParam::OwnerCut(u(&case["SubnetOwnerCut_raw"]) as u16),
        );
        let c = coinbase(&h.block(0).unwrap());
        assert_eq!(sub(&c, 1).alpha_out, u(&case["alpha_out"]));
        assert_eq!(
            sub(&c, 1).owner_cut,
            u(&case["PendingOwnerCut_after_one_block"]),
            "{case}"
        );
        assert_eq!(
            h.amm.subnet_summary(1).unwrap().pending.owner_cut,
            u(&case["PendingOwnerCut_after_one_block"])
        );
        h.check();
    }
}

/// A subnet whose post-mint alpha issuance is 3e9 with 1e9 on root at
/// TaoWeight 1: root proportion 0.25 (no TAO emission, so no buys).
fn quarter_root(owner_cut: bool) -> (Harness, CoinbaseRan) {
    let mut h = Harness::new(genesis_tw1(&[(1, 1_000_000_000, 2_000_000_000)]));
    h.stake(ALICE, ALICE_HK, 0, 1_000_000_000).unwrap();
    if !owner_cut {
        admin(&mut h, 1, SubnetParam::OwnerCutEnabled(false));
    }
    set_ema(&mut h, 1, 2.0); // root sell flag on (Σ EMA > 1)
    let c = coinbase(&h.block(0).unwrap());
    h.check();
    (h, c)
}

#[test]
fn pending_split_root_prop_quarter() {
    let v = vector("pending_split_root_prop_quarter");
    let tol = u(&v["tolerance"]);
    let e = &v["expected"];
    let (_, c) = quarter_root(false);
    let s = sub(&c, 1);
    assert_eq!(s.alpha_out, u(&v["inputs"]["alpha_out"]));
    assert!(s.server.abs_diff(u(&e["PendingServerEmission"])) <= tol);
    assert!(s.validator.abs_diff(u(&e["PendingValidatorEmission"])) <= tol);
    assert!(s.root.abs_diff(u(&e["PendingRootAlphaDivs"])) <= tol);
}

#[test]
fn pending_split_production_owner_cut() {
    let v = vector("pending_split_production_owner_cut");
    let tol = u(&v["tolerance"]);
    for case in v["cases"].as_array().unwrap() {
        let s = if f(&case["root_proportion"]) == 0.0 {
            let mut h = Harness::new(genesis(vec![subnet(1, 1_000_000_000, 2_000_000_000)]));
            set_ema(&mut h, 1, 2.0);
            sub(&coinbase(&h.block(0).unwrap()), 1)
        } else {
            sub(&quarter_root(true).1, 1)
        };
        assert!(
            s.owner_cut.abs_diff(u(&case["PendingOwnerCut"])) <= tol,
            "{case} {s:?}"
        );
        assert!(
            s.server.abs_diff(u(&case["PendingServerEmission"])) <= tol,
            "{case}"
        );
        assert!(
            s.validator.abs_diff(u(&case["PendingValidatorEmission"])) <= tol,
            "{case}"
        );
        assert!(
            s.root.abs_diff(u(&case["PendingRootAlphaDivs"])) <= tol,
            "{case}"
        );
        // Each pot is floored separately; the remainder is recorded dust.
        let split = s.owner_cut + s.server + s.validator + s.root;
        assert!(s.alpha_out - split <= 3);
    }
}

/// Lots of root stake: the injection cap `root_proportion · alpha_emission`
/// is ≈ the whole alpha emission ("root_proportion ~1").
fn with_big_root(pools: &[(u16, u64, u64)], emas: &[f64]) -> Harness {
    let mut h = Harness::new(genesis_tw1(pools));
    h.stake(ALICE, ALICE_HK, 0, 1_000_000_000_000_000).unwrap();
    for ((n, _, _), e) in pools.iter().zip(emas) {
        set_ema(&mut h, *n, *e);
    }
    h
}

#[test]
fn tao_share_by_ema_price() {
    let v = vector("tao_share_by_ema_price");
    let i = &v["inputs"];
    let tol = u(&v["tolerance"]);
    let tao = u(&i["initial_tao_reserve_each"]);
    let p1 = f(&i["spot_prices"]["1"]);
    let p2 = f(&i["spot_prices"]["2"]);
    let mut h = with_big_root(
        &[
            (1, tao, (tao as f64 / p1) as u64),
            (2, tao, (tao as f64 / p2) as u64),
        ],
        &[f(&i["ema_prices"]["1"]), f(&i["ema_prices"]["2"])],
    );
    let stake0 = h.amm.total_stake;
    h.block(u(&i["block_emission"])).unwrap();
    for n in ["1", "2"] {
        let netuid: u16 = n.parse().unwrap();
        let inc = h.amm.subnets[&netuid].tao - tao;
        let want = u(&v["expected"]["SubnetTAO_increase"][n]);
        assert!(inc.abs_diff(want) <= tol, "{n}: {inc} vs {want}");
    }
    let total_inc = h.amm.total_stake - stake0;
    assert!(total_inc.abs_diff(u(&v["expected"]["TotalStake"])) <= tol);
    h.check();
}

#[test]
fn disabled_subnet_redistribution() {
    let v = vector("disabled_subnet_redistribution");
    let i = &v["inputs"];
    let big = 1_000_000_000_000;
    let mut h = Harness::new(genesis(vec![
        subnet(1, big, big),
        subnet(2, big, big),
        subnet(3, big, big),
    ]));
    for n in 1..=3u16 {
        set_ema(&mut h, n, f(&i["ema_prices"][n.to_string()]));
        let on = i["emission_enabled"][n.to_string()].as_bool().unwrap();
        admin(&mut h, n, SubnetParam::EmissionEnabled(on));
    }
    let c = coinbase(&h.block(u(&i["block_emission"])).unwrap());
    let tol = f(&v["tolerance"]);
    for n in 1..=3u16 {
        let s = sub(&c, n);
        let want = f(&v["expected"]["tao_emission"][n.to_string()]);
        let got = (s.tao_in + s.excess_tao) as f64;
        assert!((got - want).abs() <= tol, "{n}: {got} vs {want}");
    }
    let s2 = sub(&c, 2);
    assert_eq!(s2.alpha_in, u(&v["expected"]["alpha_in_2"]));
    assert_eq!(s2.excess_tao, u(&v["expected"]["excess_tao_2"]));
    assert!(s2.alpha_out > 0);
    h.check();
}

#[test]
fn alpha_injection_tao_over_price() {
    let v = vector("alpha_injection_tao_over_price");
    let i = &v["inputs"];
    let r = &i["reserves"];
    let mut h = with_big_root(
        &[
            (1, u(&r["1"]["tao"]), u(&r["1"]["alpha"])),
            (2, u(&r["2"]["tao"]), u(&r["2"]["alpha"])),
        ],
        &[f(&i["ema_prices"]["1"]), f(&i["ema_prices"]["2"])],
    );
    let c = coinbase(&h.block(u(&i["block_emission"])).unwrap());
    for n in ["1", "2"] {
        let netuid: u16 = n.parse().unwrap();
        assert_eq!(sub(&c, netuid).tao_in, u(&v["expected"]["tao_in"][n]));
        assert_eq!(sub(&c, netuid).excess_tao, 0);
        assert_eq!(
            h.amm.subnets[&netuid].alpha_in,
            u(&v["expected"]["SubnetAlphaIn_after"][n])
        );
    }
    h.check();
}

#[test]
fn alpha_injection_cap() {
    let v = vector("alpha_injection_cap");
    let i = &v["inputs"];
    let rp = fx::root_proportion(
        u(&i["root_tao"]),
        fx::tao_weight(u64::MAX),
        u(&i["alpha_issuance"]),
    );
    let price = U96F32::from_num(f(&i["spot_price"]));
    for case in v["cases"].as_array().unwrap() {
        let (tao_in, alpha_in, excess) = coinbase::subnet_terms(
            fx::u96(u(&case["tao_emission"])),
            price,
            rp,
            fx::u96(u(&i["alpha_emission"])),
        );
        for (got, key) in [
            (tao_in, "tao_in"),
            (alpha_in, "alpha_in"),
            (excess, "excess_tao"),
        ] {
            let want = f(&case[key]);
            let got = got.to_num::<f64>();
            let err = if want == 0.0 {
                got
            } else {
                ((got - want) / want).abs()
            };
            assert!(err <= 1e-6, "{key}: {got} vs {want}");
        }
    }
}

#[test]
fn root_proportion() {
    let v = vector("root_proportion");
    let i = &v["inputs"];
    let rp = fx::root_proportion(
        u(&i["root_tao"]),
        fx::tao_weight(u(&i["tao_weight_raw"])),
        u(&i["alpha_issuance"]),
    );
    let want = f(&v["expected"]["root_proportion"]);
    assert!((rp.to_num::<f64>() - want).abs() <= f(&v["tolerance"]));
}

#[test]
fn ema_price_convergence() {
    let v = vector("ema_price_convergence");
    let i = &v["inputs"];
    let mut g = genesis(vec![subnet(1, 1_000_000_000_000, 1_000_000_000_000)]);
    g.params.moving_alpha_bits = I96F32::from_num(f(&i["moving_alpha"])).to_bits();
    g.params.ema_halving_blocks = u(&i["ema_halving_blocks"]);
    let mut h = Harness::new(g);
    // b = height − (first_emission_block − 1) = blocks_since_start_call.
    let first = u(&i["blocks_since_start_call"]);
    h.run(ledger(CommandBody::Block {
        height: first,
        minted: 0,
    }))
    .unwrap();
    for _ in 1..u(&i["updates"]) {
        h.block(0).unwrap();
    }
    let ema = h.amm.moving_price(1).unwrap().to_num::<f64>();
    let want = f(&v["expected"]["ema"]);
    assert!((ema - want).abs() <= f(&v["tolerance"]), "{ema} vs {want}");
    h.check();
}

#[test]
fn ema_price_warmup() {
    let v = vector("ema_price_warmup");
    for case in v["cases"].as_array().unwrap() {
        let mut s = subnet(1, 1_000_000_000_000, 1_000_000_000_000);
        s.first_emission_block = Some(u(&case["first_emission_block"]));
        let mut g = genesis(vec![s]);
        g.params.moving_alpha_bits = I96F32::from_num(0.5).to_bits();
        let mut h = Harness::new(g);
        h.run(ledger(CommandBody::Block {
            height: u(&case["current_block"]),
            minted: 0,
        }))
        .unwrap();
        let ema = h.amm.moving_price(1).unwrap().to_num::<f64>();
        let want = f(&case["expected_ema"]);
        assert!((ema - want).abs() <= f(&v["tolerance"]), "{ema} vs {want}");
    }
}

#[test]
fn dividend_split_alpha_vs_root() {
    let v = vector("dividend_split_alpha_vs_root");
    let i = &v["inputs"];
    let hks = ["hk0", "hk1"];
    let divs: Vec<u64> = hks.iter().map(|k| u(&i["epoch_dividend"][k])).collect();
    let alpha: Vec<u64> = hks.iter().map(|k| u(&i["stake"][k]["alpha"])).collect();
    let root: Vec<u64> = hks.iter().map(|k| u(&i["stake"][k]["root"])).collect();
    // 0.18 as the mainnet raw TaoWeight.
    let tw = fx::tao_weight(3_320_413_933_267_719_290);
    let (a, r) = payout::split_dividends(
        &divs,
        &alpha,
        &root,
        tw,
        u(&i["pending_validator_alpha"]),
        u(&i["pending_root_alpha"]),
    );
    let e = &v["expected"];
    for (j, k) in hks.iter().enumerate() {
        let want = f(&e["alpha_dividends"][k]);
        assert!(
            ((a[j] as f64 - want) / want).abs() <= 1e-6,
            "{k}: {} vs {want}",
            a[j]
        );
        let want = f(&e["root_alpha_dividends"][k]);
        assert!(
            ((r[j] as f64 - want) / want).abs() <= 1e-6,
            "{k}: {} vs {want}",
            r[j]
        );
    }
    assert!(a.iter().sum::<u64>().abs_diff(u(&e["sum_alpha_dividends"])) <= 1000);
    assert!(
        r.iter()
            .sum::<u64>()
            .abs_diff(u(&e["sum_root_alpha_dividends"]))
            <= 1000
    );
}

/// Given a pending root pot on subnet 1 (the alpha counted in alpha_out),
/// run an epoch whose only validator is BOB_HK (owned by BOB, no alpha
/// stake: its whole dividend is root).
fn root_epoch(h: &mut Harness, pot: u64) -> EpochPaid {
    let height = h.amm.height;
    h.amm.pots.insert(
        (1, height),
        PotEntry {
            root: pot,
            ..PotEntry::default()
        },
    );
    h.amm.subnets.get_mut(&1).unwrap().alpha_out += pot;
    h.check();
    let ev = h
        .run(consensus(CommandBody::Epoch {
            netuid: 1,
            block: height,
            hotkeys: vec![a(BOB_HK)],
            incentive: vec![0],
            dividend: vec![1_000],
        }))
        .unwrap();
    h.check();
    ev.into_iter()
        .find_map(|e| match e {
            AmmEvent::EpochPaid(p) => Some(p),
            _ => None,
        })
        .unwrap()
}

fn claim_keep(h: &mut Harness, who: u8) {
    h.run(signed(
        who,
        CommandBody::SetRootClaimType {
            claim_type: RootClaimType::Keep,
        },
    ))
    .unwrap();
    let op = h.next_op();
    h.run(signed(
        who,
        CommandBody::ClaimRoot {
            op,
            netuids: vec![1],
        },
    ))
    .unwrap();
    h.check();
}

#[test]
fn root_claim_keep() {
    let v = vector("root_claim_keep");
    let i = &v["inputs"];
    let tol = &v["tolerance"];
    let mut h = Harness::new(genesis_tw1(&[(1, 1_000_000_000_000, 1_000_000_000_000)]));
    h.stake(ALICE, BOB_HK, 0, u(&i["hotkey_root_stake"]))
        .unwrap();
    let paid = root_epoch(&mut h, u(&i["pending_root_alpha"]));
    let take = h.amm.stake(1, &a(BOB_HK), &a(BOB));
    let want = u(&v["expected"]["owner_take_alpha"]);
    assert!(take.abs_diff(want) <= u(&tol["owner_take_alpha"]), "{take}");
    let rate = I96F32::from_bits(paid.root_rates[0].1).to_num::<f64>();
    assert!(
        (rate - f(&v["expected"]["RootClaimable_rate"])).abs() <= f(&tol["RootClaimable_rate"])
    );
    claim_keep(&mut h, ALICE);
    let got = h.amm.stake(1, &a(BOB_HK), &a(ALICE));
    let want = u(&v["expected"]["claimed_alpha_stake"]);
    assert!(
        got.abs_diff(want) <= u(&tol["claimed_alpha_stake"]),
        "{got} vs {want}"
    );
}

#[test]
fn root_claim_pro_rata() {
    let v = vector("root_claim_pro_rata");
    let i = &v["inputs"];
    let tol = u(&v["tolerance"]);
    // The vector's 1e6-RAO root stakes are below the default min stake.
    let mut g = genesis_tw1(&[(1, 1_000_000_000_000, 1_000_000_000_000)]);
    g.params.min_stake = 500_000;
    let mut h = Harness::new(g);
    for (who, key) in [(ALICE, "alice"), (BOB, "bob"), (40, "other")] {
        h.stake(who, BOB_HK, 0, u(&i["root_stakes"][key])).unwrap();
    }
    root_epoch(&mut h, u(&i["pending_root_alpha"]));
    let bob_take = h.amm.stake(1, &a(BOB_HK), &a(BOB));
    claim_keep(&mut h, ALICE);
    claim_keep(&mut h, BOB);
    let alice = h.amm.stake(1, &a(BOB_HK), &a(ALICE));
    let bob = h.amm.stake(1, &a(BOB_HK), &a(BOB)) - bob_take;
    assert!(
        alice.abs_diff(u(&v["expected"]["alice_alpha"])) <= tol,
        "{alice}"
    );
    assert!(bob.abs_diff(u(&v["expected"]["bob_alpha"])) <= tol, "{bob}");
}

#[test]
fn single_staker_gets_all_when_no_incentive() {
    let v = vector("single_staker_gets_all_when_no_incentive");
    let i = &v["inputs"];
    let mut h = Harness::new(genesis(vec![subnet(
        1,
        1_000_000_000_000,
        1_000_000_000_000,
    )]));
    h.stake(ALICE, ALICE_HK, 1, u(&i["stake_before"])).unwrap();
    admin(&mut h, 1, SubnetParam::OwnerCutEnabled(false));
    let before = h.amm.stake(1, &a(ALICE_HK), &a(ALICE));
    let c = coinbase(&h.block(0).unwrap());
    let s = sub(&c, 1);
    assert_eq!(s.server, u(&i["pending_server_alpha"]));
    assert_eq!(s.validator, u(&i["pending_validator_alpha"]));
    assert_eq!(s.root, u(&i["pending_root_alpha"]));
    h.run(consensus(CommandBody::Epoch {
        netuid: 1,
        block: h.amm.height,
        hotkeys: vec![a(ALICE_HK)],
        incentive: vec![0],
        dividend: vec![1],
    }))
    .unwrap();
    let after = h.amm.stake(1, &a(ALICE_HK), &a(ALICE));
    let gain = after - before;
    let want = u(&v["expected"]["stake_after"]) - u(&i["stake_before"]);
    assert!(
        gain.abs_diff(want) <= u(&v["tolerance"]),
        "{gain} vs {want}"
    );
    h.check();
    h.check_replay();
}

#[test]
fn share_pool_staking() {
    let v = vector("share_pool_staking");
    let tol = u(&v["tolerance"]);
    let steps = v["steps"].as_array().unwrap();
    let mut p = pool::SharePool::<u8>::default();
    let near = |got: u64, want: &Value| assert!(got.abs_diff(u(want)) <= tol, "{got} vs {want}");
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
}
