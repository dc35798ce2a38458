//! The three emission-share rules wired into the coinbase (issue 9):
//! given a network, when the rule is switched, then the next block's
//! credits follow the new rule; replay reproduces every switch.

mod common;

use std::collections::BTreeMap;

use amm_core::event::*;
use amm_core::*;
use common::*;

const TAO: u64 = 1_000_000_000;

fn two_subnets() -> Harness {
    Harness::new(genesis(vec![
        subnet(1, 1_000 * TAO, 1_000 * TAO),
        subnet(2, 1_000 * TAO, 1_000 * TAO),
    ]))
}

fn set_rule(h: &mut Harness, rule: EmissionRule) -> Vec<AmmEvent> {
    h.run(signed(
        ADMIN,
        CommandBody::SetParam {
            netuid: 0,
            param: SubnetParam::EmissionRule(rule),
        },
    ))
    .expect("rule switch")
}

fn root_weights(h: &mut Harness, hotkey: u8, w: &[(u16, u16)]) -> Result<Vec<AmmEvent>, Rejection> {
    h.run(signed(
        hotkey,
        CommandBody::SetRootWeights {
            weights: w.to_vec(),
        },
    ))
}

/// Each subnet's credit (injection + chain buy) in a block's coinbase.
fn credits(events: &[AmmEvent]) -> BTreeMap<u16, u64> {
    events
        .iter()
        .find_map(|e| match e {
            AmmEvent::CoinbaseRan(c) => Some(
                c.subnets
                    .iter()
                    .map(|s| (s.netuid, s.tao_in + s.excess_tao))
                    .collect(),
            ),
            _ => None,
        })
        .expect("a coinbase")
}

#[test]
fn ema_price_is_the_default_and_equal_prices_share_equally() {
    let mut h = two_subnets();
    assert_eq!(h.amm.emission_rule, EmissionRule::EmaPrice);
    h.block(TAO).unwrap();
    // Equal pools keep equal EMA prices, so equal shares to the RAO (at
    // genesis the EMAs are still 0 in I96F32, as on the chain for new
    // subnets, and so are the shares).
    let c = credits(&h.block(TAO).unwrap());
    assert_eq!(c[&1], c[&2]);
}

/// The hand-computed case of `shares::root_weight_shares` (S = 0.75/0.25,
/// A weights subnets 1 and 2 equally, B only 2): shares 0.358244 /
/// 0.641756, here through the real coinbase: root stake from real stakes,
/// weights from `SetRootWeights`, the switch from `SetParam`.
#[test]
fn root_weights_split_the_block_as_computed_by_hand() {
    let mut h = two_subnets();
    h.stake(ALICE, ALICE_HK, 0, 3_000 * TAO).unwrap();
    h.stake(BOB, BOB_HK, 0, 1_000 * TAO).unwrap();
    root_weights(&mut h, ALICE_HK, &[(1, 1), (2, 1)]).unwrap();
    root_weights(&mut h, BOB_HK, &[(2, 65_535)]).unwrap();

    // Still ema-price: equal pools, equal credits.
    h.block(TAO).unwrap();
    let before = credits(&h.block(TAO).unwrap());
    assert_eq!(before[&1], before[&2]);

    let ev = set_rule(&mut h, EmissionRule::RootWeights);
    assert!(
        matches!(&ev[..], [AmmEvent::ParamSet(p)] if p.param == SubnetParam::EmissionRule(EmissionRule::RootWeights))
    );
    assert_eq!(h.amm.emission_rule, EmissionRule::RootWeights);

    // The next block runs a root epoch (nothing stored yet) and uses it.
    let ev = h.block(TAO).unwrap();
    let epoch = ev
        .iter()
        .find_map(|e| match e {
            AmmEvent::RootSharesComputed(r) => Some(r.clone()),
            _ => None,
        })
        .expect("a root epoch on the first block under root-weights");
    assert_eq!(epoch.validators.len(), 2);
    assert_eq!(
        epoch.validators[0].0,
        a(ALICE_HK),
        "largest root stake first"
    );
    let c = credits(&ev);
    // 1 TAO × 0.358244 and × 0.641756 (to 1e-5: the root stakes are 3:1
    // up to the stake fees).
    assert!(
        c[&1].abs_diff(358_244_000) < 10_000,
        "subnet 1 got {}",
        c[&1]
    );
    assert!(
        c[&2].abs_diff(641_756_000) < 10_000,
        "subnet 2 got {}",
        c[&2]
    );
    assert!(c[&1] + c[&2] <= TAO);

    // Between root epochs the stored shares hold; at a multiple of the
    // root tempo a new epoch runs.
    let ev = h.block(TAO).unwrap();
    assert!(!ev
        .iter()
        .any(|e| matches!(e, AmmEvent::RootSharesComputed(_))));
    assert_eq!(credits(&ev), c);
    while !(h.amm.height + 1).is_multiple_of(h.amm.root_tempo) {
        h.block(TAO).unwrap();
    }
    let ev = h.block(TAO).unwrap();
    assert!(ev
        .iter()
        .any(|e| matches!(e, AmmEvent::RootSharesComputed(_))));

    h.check();
    h.check_replay();
}

#[test]
fn root_weights_without_validators_emit_nothing_to_subnets() {
    let mut h = two_subnets();
    set_rule(&mut h, EmissionRule::RootWeights);
    let ev = h.block(TAO).unwrap();
    let c = credits(&ev);
    assert_eq!(c.values().sum::<u64>(), 0);
    let ran = ev
        .iter()
        .find_map(|e| match e {
            AmmEvent::CoinbaseRan(c) => Some(c.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(ran.recycled, TAO, "the whole block is recycled");
    h.check();
    h.check_replay();
}

/// Net flow (tokenomics §2.2, OLDER rules): shares ∝ the flow EMAs
/// (exponent 1, cutoff 0); a negative EMA gets zero (pinned in
/// `shares::tests`). Subnet 1 takes 100 TAO in, subnet 2 10 TAO in and 9
/// out.
#[test]
fn net_flow_shares_follow_the_flow_emas() {
    let mut h = two_subnets();
    h.stake(ALICE, ALICE_HK, 1, 100 * TAO).unwrap();
    h.stake(BOB, BOB_HK, 2, 10 * TAO).unwrap();
    h.block(TAO).unwrap();
    let alpha = h.amm.stake(2, &a(BOB_HK), &a(BOB));
    h.run(signed(
        BOB,
        CommandBody::RemoveStake {
            op: "out".into(),
            hotkey: a(BOB_HK),
            netuid: 2,
            alpha: alpha * 9 / 10,
            limit_price: None,
            allow_partial: false,
        },
    ))
    .unwrap();
    h.block(TAO).unwrap();
    let ema = |h: &Harness, n: u16| {
        fixed::types::I64F64::from_bits(h.amm.subnets[&n].flow_ema_bits).to_num::<f64>()
    };
    let (e1, e2) = (ema(&h, 1), ema(&h, 2));
    assert!(e1 > 0.0 && e2 > 0.0 && e2 < e1 / 50.0, "{e1} {e2}");

    set_rule(&mut h, EmissionRule::NetFlow);
    let c = credits(&h.block(TAO).unwrap());
    // This block had no flow: the EMAs only decayed, by the same factor.
    let want1 = TAO as f64 * e1 / (e1 + e2);
    assert!(
        (c[&1] as f64 - want1).abs() < 2.0,
        "subnet 1 got {} want {want1}",
        c[&1]
    );
    assert!(
        (c[&2] as f64 - (TAO as f64 - want1)).abs() < 2.0,
        "subnet 2 got {}",
        c[&2]
    );

    // And back: ema-price shares again (equal pools, equal shares).
    set_rule(&mut h, EmissionRule::EmaPrice);
    let c = credits(&h.block(TAO).unwrap());
    assert_ne!(c[&1], TAO);
    h.check();
    h.check_replay();
}

#[test]
fn the_flow_ema_follows_the_spec_coefficient() {
    let mut h = two_subnets();
    h.stake(ALICE, ALICE_HK, 1, 100 * TAO).unwrap();
    let flow = h.amm.subnets[&1].tao_flow;
    assert!(flow > 0);
    h.block(TAO).unwrap();
    // ema = a · flow with a = 29_597_889_189_277 / i64::MAX ≈ 3.209e-6.
    let ema = fixed::types::I64F64::from_bits(h.amm.subnets[&1].flow_ema_bits);
    let want = flow as f64 * 29_597_889_189_277f64 / i64::MAX as f64;
    assert!(
        (ema.to_num::<f64>() - want).abs() < 1e-6 * want.abs(),
        "{ema} vs {want}"
    );
    assert_eq!(
        h.amm.subnets[&1].tao_flow, 0,
        "the flow restarts each block"
    );
}

#[test]
fn bad_root_weights_are_named_rejections_that_change_nothing() {
    let mut h = two_subnets();
    // No root stake yet.
    assert_eq!(
        root_weights(&mut h, ALICE_HK, &[(1, 1)]),
        Err(Rejection::NotEnoughStakeToSetWeights)
    );
    h.stake(ALICE, ALICE_HK, 0, 10 * TAO).unwrap();
    assert_eq!(
        root_weights(&mut h, ALICE_HK, &[]),
        Err(Rejection::WeightVecLengthIsLow)
    );
    assert_eq!(
        root_weights(&mut h, ALICE_HK, &[(1, 1), (1, 2)]),
        Err(Rejection::DuplicateUids)
    );
    assert_eq!(
        root_weights(&mut h, ALICE_HK, &[(0, 1)]),
        Err(Rejection::UidVecContainInvalidOne)
    );
    assert_eq!(
        root_weights(&mut h, ALICE_HK, &[(1, 1), (99, 1)]),
        Err(Rejection::UidVecContainInvalidOne)
    );
    // Unsorted input is stored sorted.
    let ev = root_weights(&mut h, ALICE_HK, &[(2, 5), (1, 7)]).unwrap();
    assert!(matches!(&ev[..], [AmmEvent::RootWeightsSet(w)] if w.weights == vec![(1, 7), (2, 5)]));
    assert_eq!(
        root_weights(&mut h, ALICE_HK, &[(1, 1)]),
        Err(Rejection::SettingWeightsTooFast)
    );
    for _ in 0..h.amm.root_tempo {
        h.block(TAO).unwrap();
    }
    root_weights(&mut h, ALICE_HK, &[(1, 1)]).unwrap();

    // Only the admin (or governance) switches rules; the tempo is ≥ 1.
    assert_eq!(
        h.run(signed(
            ALICE,
            CommandBody::SetParam {
                netuid: 0,
                param: SubnetParam::EmissionRule(EmissionRule::NetFlow),
            },
        )),
        Err(Rejection::NotAdmin)
    );
    assert_eq!(
        h.run(signed(
            ADMIN,
            CommandBody::SetParam {
                netuid: 0,
                param: SubnetParam::RootTempo(0),
            },
        )),
        Err(Rejection::InvalidValue)
    );
    // A genesis-origin switch is refused once blocks have run.
    assert_eq!(
        h.run(Command::new(
            Origin::Genesis,
            CommandBody::SetParam {
                netuid: 0,
                param: SubnetParam::EmissionRule(EmissionRule::NetFlow),
            },
        )),
        Err(Rejection::BadOrigin)
    );
    h.check_replay();
}

#[test]
fn governance_switches_the_rule_and_the_query_shows_the_shares() {
    let mut h = two_subnets();
    h.stake(ALICE, ALICE_HK, 0, 30 * TAO).unwrap();
    root_weights(&mut h, ALICE_HK, &[(1, 3), (2, 1)]).unwrap();
    h.block(TAO).unwrap();
    let price_shares = h.amm.next_block_shares();
    assert_eq!(price_shares.len(), 2);
    assert_eq!(price_shares[0].1, price_shares[1].1);
    h.run(governance(CommandBody::SetParam {
        netuid: 0,
        param: SubnetParam::EmissionRule(EmissionRule::RootWeights),
    }))
    .unwrap();
    // One validator: its normalised row, 3/4 and 1/4.
    let shares = h.amm.next_block_shares();
    assert!(shares[0].1.abs_diff(750_000_000) <= 1, "{shares:?}");
    assert!(shares[1].1.abs_diff(250_000_000) <= 1, "{shares:?}");
    // The dry run changed nothing: the block itself gives the same.
    let c = credits(&h.block(TAO).unwrap());
    assert_eq!(c[&1], shares[0].1);
    assert_eq!(c[&2], shares[1].1);
    h.check_replay();
}
