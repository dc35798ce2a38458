//! Childkeys (governance.md §5.3, tokenomics.md §2.6 step 3): given stakes,
//! when governance applies children (and childkey takes, `CKBurn`), then
//! the stake weights sent to consensus and the epoch payout follow the
//! chain's formulas in U96F32. Expected values are computed here from the
//! spec's formulas, independently of the implementation.

mod common;

use amm_core::event::*;
use amm_core::*;
use common::*;
use fixed::types::U96F32;
use keys::AccountId;

const TAO: u64 = 1_000_000_000;
const Q: u64 = u64::MAX;
/// An unregistered hotkey with no owner.
const CAROL_HK: u8 = 31;
/// A second hotkey of Alice's.
const ALICE_HK2: u8 = 12;

fn one_subnet() -> Harness {
    Harness::new(genesis(vec![subnet(1, 1_000 * TAO, 1_000 * TAO)]))
}

// ---- the spec's formulas, in U96F32 --------------------------------------

/// A u64 proportion `raw / (2^64 − 1)`.
fn r64(raw: u64) -> U96F32 {
    U96F32::from_num(raw) / U96F32::from_num(u64::MAX)
}

/// A u16 proportion `raw / 65535`.
fn r16(raw: u16) -> U96F32 {
    U96F32::from_num(raw) / U96F32::from_num(u16::MAX)
}

fn floor(v: U96F32) -> u64 {
    v.to_num::<u64>()
}

fn tw() -> U96F32 {
    r64(AmmParams::default().tao_weight)
}

/// `floor(s − Σ s·q_child + Σ s_parent·q_parent)`.
fn inherited(own: u64, to_children: &[u64], from_parents: &[(u64, u64)]) -> u64 {
    let s = U96F32::from_num(own);
    let mut v = s;
    for q in to_children {
        v -= s * r64(*q);
    }
    for (stake, q) in from_parents {
        v += U96F32::from_num(*stake) * r64(*q);
    }
    floor(v)
}

/// `alpha_inherited + floor(tao_inherited · TaoWeight)`.
fn weight(alpha_inh: u64, tao_inh: u64) -> u64 {
    alpha_inh + floor(U96F32::from_num(tao_inh) * tw())
}

/// `floor(pot · w / Σ w)`.
fn share(pot: u64, w: u64, total: u64) -> u64 {
    (u128::from(pot) * u128::from(w) / u128::from(total)) as u64
}

// ---- helpers ---------------------------------------------------------------

fn hotkey_alpha(h: &Harness, netuid: u16, hotkey: u8) -> u64 {
    h.amm.pools.get(&(netuid, a(hotkey))).map_or(0, |p| p.value)
}

fn set_children(h: &mut Harness, parent: u8, netuid: u16, kids: &[(u64, u8)]) -> Vec<AmmEvent> {
    h.run(governance(CommandBody::SetChildren {
        hotkey: a(parent),
        netuid,
        children: kids.iter().map(|(q, c)| (*q, a(*c))).collect(),
    }))
    .expect("governance is answered")
}

fn weights(events: &[AmmEvent]) -> Vec<(u16, AccountId, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            AmmEvent::StakeWeights(w) => Some(w.entries.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn refused(events: &[AmmEvent]) -> GovernanceStepRefused {
    match events {
        [AmmEvent::GovernanceStepRefused(r)] => r.clone(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn paid(events: &[AmmEvent]) -> EpochPaid {
    events
        .iter()
        .find_map(|e| match e {
            AmmEvent::EpochPaid(p) => Some(p.clone()),
            _ => None,
        })
        .expect("EpochPaid")
}

/// Σ alpha an epoch placed on `hotkey`'s pool (take stakes and credits).
fn credited(p: &EpochPaid, hotkey: u8) -> u64 {
    p.credits
        .iter()
        .map(|c| match c {
            AlphaCredit::Stake {
                hotkey: hk, alpha, ..
            }
            | AlphaCredit::Hotkey { hotkey: hk, alpha } => {
                if *hk == a(hotkey) {
                    *alpha
                } else {
                    0
                }
            }
        })
        .sum()
}

fn epoch(h: &mut Harness, hotkeys: &[u8], dividend: &[u64]) -> EpochPaid {
    let ev = h
        .run(consensus(CommandBody::Epoch {
            netuid: 1,
            block: h.amm.height,
            hotkeys: hotkeys.iter().map(|x| a(*x)).collect(),
            incentive: vec![0; hotkeys.len()],
            dividend: dividend.to_vec(),
        }))
        .unwrap();
    paid(&ev)
}

/// Alice: 10 TAO on (ALICE_HK, 1) and 100 TAO on root; Bob: 5 TAO on
/// (BOB_HK, 1).
fn staked() -> Harness {
    let mut h = one_subnet();
    h.stake(ALICE, ALICE_HK, 1, 10 * TAO).unwrap();
    h.stake(ALICE, ALICE_HK, 0, 100 * TAO).unwrap();
    h.stake(BOB, BOB_HK, 1, 5 * TAO).unwrap();
    h
}

// ---- stake weights ---------------------------------------------------------

#[test]
fn one_child_inherits_its_proportion_of_alpha_and_root_stake() {
    let mut h = staked();
    let (alpha_a, root_a, alpha_b) = (
        hotkey_alpha(&h, 1, ALICE_HK),
        hotkey_alpha(&h, 0, ALICE_HK),
        hotkey_alpha(&h, 1, BOB_HK),
    );
    let q = Q / 4;

    let ev = set_children(&mut h, ALICE_HK, 1, &[(q, BOB_HK)]);

    assert_eq!(
        ev[0],
        AmmEvent::ChildrenSet(ChildrenSet {
            hotkey: a(ALICE_HK),
            netuid: 1,
            children: vec![(q, a(BOB_HK))],
        })
    );
    let want_a = weight(inherited(alpha_a, &[q], &[]), inherited(root_a, &[q], &[]));
    let want_b = weight(
        inherited(alpha_b, &[], &[(alpha_a, q)]),
        inherited(0, &[], &[(root_a, q)]),
    );
    assert_eq!(
        weights(&ev),
        vec![(1, a(ALICE_HK), want_a), (1, a(BOB_HK), want_b)]
    );
    // A quarter moved from parent to child; the total is kept up to rounding.
    // (U96F32 keeps 32 fraction bits: q/(2^64−1) is 1/4 − 2^-32, which costs
    // the child about 100 TAO · 2^-32 ≈ 23 rao of root stake.)
    let before = weight(alpha_a, root_a) + alpha_b;
    assert!((want_a + want_b).abs_diff(before) <= 3);
    assert!(want_b.abs_diff(alpha_b + (before - alpha_b) / 4) <= 30);
    assert_eq!(h.amm.stake_weight(1, &a(BOB_HK)), want_b);
    assert_eq!(h.amm.parents[&(1, a(BOB_HK))], vec![(q, a(ALICE_HK))]);
    h.check();
    h.check_replay();
}

#[test]
fn two_children_share_a_parent_and_proportions_summing_to_one_give_all() {
    let mut h = staked();
    let (alpha_a, root_a, alpha_b) = (
        hotkey_alpha(&h, 1, ALICE_HK),
        hotkey_alpha(&h, 0, ALICE_HK),
        hotkey_alpha(&h, 1, BOB_HK),
    );
    let whole = weight(alpha_a, root_a);

    // Two children, Σ proportions = u64::MAX.
    let (q1, q2) = (Q / 2, Q - Q / 2);
    let ev = set_children(&mut h, ALICE_HK, 1, &[(q1, BOB_HK), (q2, CAROL_HK)]);
    let want_a = weight(
        inherited(alpha_a, &[q1, q2], &[]),
        inherited(root_a, &[q1, q2], &[]),
    );
    let want_b = weight(
        inherited(alpha_b, &[], &[(alpha_a, q1)]),
        inherited(0, &[], &[(root_a, q1)]),
    );
    let want_c = weight(
        inherited(0, &[], &[(alpha_a, q2)]),
        inherited(0, &[], &[(root_a, q2)]),
    );
    let mut want = vec![
        (1, a(ALICE_HK), want_a),
        (1, a(BOB_HK), want_b),
        (1, a(CAROL_HK), want_c),
    ];
    want.sort();
    assert_eq!(weights(&ev), want);
    // The parent keeps only the truncation of the 32 fraction bits
    // (Σ q/(2^64−1) = 1 − 2^-32: about 110 TAO · 2^-32 ≈ 26 rao of stake).
    assert!(want_a <= 30, "{want_a}");
    assert!((want_a + want_b - alpha_b + want_c).abs_diff(whole) <= 3);

    // Two children, Σ < 1: the parent keeps the rest.
    let (q1, q2) = (Q / 10, Q / 5);
    set_children(&mut h, ALICE_HK, 1, &[(q1, BOB_HK), (q2, CAROL_HK)]);
    let kept = weight(
        inherited(alpha_a, &[q1, q2], &[]),
        inherited(root_a, &[q1, q2], &[]),
    );
    assert_eq!(h.amm.stake_weight(1, &a(ALICE_HK)), kept);
    assert!(kept.abs_diff(whole * 7 / 10) <= 30);

    // One child with u64::MAX: exactly everything (the proportion is 1).
    let ev = set_children(&mut h, ALICE_HK, 1, &[(Q, BOB_HK)]);
    let w = weights(&ev);
    assert!(w.contains(&(1, a(ALICE_HK), 0)), "{w:?}");
    assert!(w.contains(&(1, a(BOB_HK), alpha_b + whole)), "{w:?}");
    // Carol is no longer a child: back to nothing.
    assert!(w.contains(&(1, a(CAROL_HK), 0)), "{w:?}");
    assert!(!h.amm.parents.contains_key(&(1, a(CAROL_HK))));
    h.check();
    h.check_replay();
}

#[test]
fn clearing_children_restores_the_weights() {
    let mut h = staked();
    let before_a = h.amm.stake_weight(1, &a(ALICE_HK));
    let before_b = h.amm.stake_weight(1, &a(BOB_HK));
    set_children(&mut h, ALICE_HK, 1, &[(Q / 3, BOB_HK)]);
    assert_ne!(h.amm.stake_weight(1, &a(BOB_HK)), before_b);

    let ev = set_children(&mut h, ALICE_HK, 1, &[]);

    assert_eq!(
        ev[0],
        AmmEvent::ChildrenSet(ChildrenSet {
            hotkey: a(ALICE_HK),
            netuid: 1,
            children: vec![],
        })
    );
    assert_eq!(
        weights(&ev),
        vec![(1, a(ALICE_HK), before_a), (1, a(BOB_HK), before_b)]
    );
    assert!(h.amm.children.is_empty() && h.amm.parents.is_empty());
    h.check();
    h.check_replay();
}

#[test]
fn a_parents_stake_changes_move_its_childs_weight() {
    let mut h = staked();
    let q = Q / 2;
    set_children(&mut h, ALICE_HK, 1, &[(q, BOB_HK)]);
    let before = h.amm.stake_weight(1, &a(BOB_HK));

    // The parent's alpha on the subnet grows.
    let ev = h.stake(ALICE, ALICE_HK, 1, 4 * TAO).unwrap();
    let mid = h.amm.stake_weight(1, &a(BOB_HK));
    assert!(mid > before);
    assert!(weights(&ev).contains(&(1, a(BOB_HK), mid)));

    // The parent's root stake grows.
    let ev = h.stake(ALICE, ALICE_HK, 0, 50 * TAO).unwrap();
    let after = h.amm.stake_weight(1, &a(BOB_HK));
    let want = weight(
        inherited(
            hotkey_alpha(&h, 1, BOB_HK),
            &[],
            &[(hotkey_alpha(&h, 1, ALICE_HK), q)],
        ),
        inherited(0, &[], &[(hotkey_alpha(&h, 0, ALICE_HK), q)]),
    );
    assert_eq!(after, want);
    assert!(weights(&ev).contains(&(1, a(BOB_HK), after)));
    h.check();
}

// ---- dividends ---------------------------------------------------------------

/// Alice 100 TAO on (ALICE_HK, 1), Bob 50 TAO on (BOB_HK, 1), no root
/// stake (so the root pot is empty and every dividend is alpha); ALICE_HK
/// gives half to BOB_HK; then 10 blocks.
fn parent_and_child(child: u8, child_owner: u8) -> Harness {
    let mut h = one_subnet();
    if child_owner == ALICE {
        h.run(signed(
            ALICE,
            CommandBody::AssociateHotkey { hotkey: a(child) },
        ))
        .unwrap();
    }
    h.stake(ALICE, ALICE_HK, 1, 100 * TAO).unwrap();
    h.stake(child_owner, child, 1, 50 * TAO).unwrap();
    set_children(&mut h, ALICE_HK, 1, &[(Q / 2, child)]);
    for _ in 0..10 {
        h.block(TAO).unwrap();
    }
    h
}

/// §2.6 step 3 for a child with no children of its own and no root stake:
/// `(parent's weight, child's weight, burned)`.
fn expected_split(
    d: u64,
    alpha_child: u64,
    alpha_parent: u64,
    q: u64,
    take: u16,
    ck_burn: u64,
    other_owner: bool,
) -> (u64, u64, u64) {
    let d = U96F32::from_num(d);
    let own = U96F32::from_num(floor(U96F32::from_num(alpha_child)));
    let c = U96F32::from_num(alpha_parent) * r64(q);
    let e = d * (c / (own + c));
    let (burn, take) = if other_owner {
        (r64(ck_burn) * e, r16(take) * e)
    } else {
        (U96F32::ZERO, U96F32::ZERO)
    };
    (floor(e - burn - take), floor(d - e + take), floor(burn))
}

#[test]
fn a_childs_dividend_is_shared_with_its_parent_less_the_childkey_take() {
    let mut h = parent_and_child(BOB_HK, BOB);
    let ev = h
        .run(governance(CommandBody::SetChildkeyTake {
            hotkey: a(BOB_HK),
            netuid: 1,
            take: 11_796,
        }))
        .unwrap();
    assert_eq!(
        ev,
        vec![AmmEvent::ChildkeyTakeMirrored(ChildkeyTakeMirrored {
            hotkey: a(BOB_HK),
            netuid: 1,
            take: 11_796,
        })]
    );
    let pending = h.amm.subnet_summary(1).unwrap().pending;
    assert_eq!(pending.root, 0);
    let pot = pending.validator + pending.server;
    let (alpha_a, alpha_b) = (hotkey_alpha(&h, 1, ALICE_HK), hotkey_alpha(&h, 1, BOB_HK));
    let d = 5 * TAO;

    // Only the child validates; its parent is paid through it.
    let p = epoch(&mut h, &[BOB_HK], &[d]);

    let (w_a, w_b, burned) = expected_split(d, alpha_b, alpha_a, Q / 2, 11_796, 0, true);
    assert_eq!(burned, 0);
    assert_eq!(credited(&p, ALICE_HK), share(pot, w_a, w_a + w_b));
    assert_eq!(credited(&p, BOB_HK), share(pot, w_b, w_a + w_b));
    assert_eq!(p.recycled, 0);
    // The take moved about 18% of the parent's part to the child.
    let (w_a0, w_b0, _) = expected_split(d, alpha_b, alpha_a, Q / 2, 0, 0, true);
    assert!(w_b > w_b0 && w_a < w_a0);
    assert!((w_a0 - w_a).abs_diff(w_a0 * 18 / 100) <= w_a0 / 1000);
    assert_eq!(
        hotkey_alpha(&h, 1, ALICE_HK),
        alpha_a + credited(&p, ALICE_HK)
    );
    h.check();
    h.check_replay();
}

#[test]
fn ck_burn_recycles_its_share_of_the_pots() {
    let mut h = parent_and_child(BOB_HK, BOB);
    let ck_burn = Q / 10;
    h.run(governance(CommandBody::SetChildkeyTake {
        hotkey: a(BOB_HK),
        netuid: 1,
        take: 11_796,
    }))
    .unwrap();
    h.run(governance(CommandBody::SetParam {
        netuid: 0,
        param: SubnetParam::CkBurn(ck_burn),
    }))
    .unwrap();
    assert_eq!(h.amm.ck_burn, ck_burn);
    let pending = h.amm.subnet_summary(1).unwrap().pending;
    let pot = pending.validator + pending.server;
    let (alpha_a, alpha_b) = (hotkey_alpha(&h, 1, ALICE_HK), hotkey_alpha(&h, 1, BOB_HK));
    let d = 5 * TAO;
    let alpha_out = h.amm.subnets[&1].alpha_out;

    let p = epoch(&mut h, &[BOB_HK], &[d]);

    let (w_a, w_b, burned) = expected_split(d, alpha_b, alpha_a, Q / 2, 11_796, ck_burn, true);
    assert!(burned > 0);
    let recycled = share(pot, burned, d);
    assert_eq!(p.recycled, recycled);
    let rest = pot - recycled;
    assert_eq!(credited(&p, ALICE_HK), share(rest, w_a, w_a + w_b));
    assert_eq!(credited(&p, BOB_HK), share(rest, w_b, w_a + w_b));
    // Recycled alpha leaves alpha_out; nothing is paid twice.
    assert_eq!(h.amm.subnets[&1].alpha_out, alpha_out - recycled);
    let placed: u64 = p
        .credits
        .iter()
        .map(|c| match c {
            AlphaCredit::Stake { alpha, .. } | AlphaCredit::Hotkey { alpha, .. } => *alpha,
        })
        .sum();
    let drained = p.server + p.validator + p.root + p.owner_cut;
    assert_eq!(
        placed + p.burned + p.recycled + p.root_owed + p.dust,
        drained
    );
    h.check();
    h.check_replay();
}

#[test]
fn a_parent_of_the_same_owner_pays_no_take_and_no_burn() {
    let mut h = parent_and_child(ALICE_HK2, ALICE);
    h.run(governance(CommandBody::SetChildkeyTake {
        hotkey: a(ALICE_HK2),
        netuid: 1,
        take: 11_796,
    }))
    .unwrap();
    h.run(governance(CommandBody::SetParam {
        netuid: 0,
        param: SubnetParam::CkBurn(Q / 10),
    }))
    .unwrap();
    let pending = h.amm.subnet_summary(1).unwrap().pending;
    let pot = pending.validator + pending.server;
    let (alpha_a, alpha_c) = (
        hotkey_alpha(&h, 1, ALICE_HK),
        hotkey_alpha(&h, 1, ALICE_HK2),
    );
    let d = 5 * TAO;

    let p = epoch(&mut h, &[ALICE_HK2], &[d]);

    let (w_a, w_c, burned) = expected_split(d, alpha_c, alpha_a, Q / 2, 11_796, Q / 10, false);
    assert_eq!(burned, 0);
    assert_eq!(p.recycled, 0);
    assert_eq!(credited(&p, ALICE_HK), share(pot, w_a, w_a + w_c));
    assert_eq!(credited(&p, ALICE_HK2), share(pot, w_c, w_a + w_c));
    // Nothing withheld: the whole dividend but the floors' dust.
    assert!(d - (w_a + w_c) <= 1, "{w_a} {w_c}");
    h.check();
    h.check_replay();
}

#[test]
fn without_parents_the_payout_is_unchanged_by_children() {
    // The child validates nothing: a parent's own dividend (it has
    // children, no parents) is paid to it alone, as without childkeys.
    let mut with = parent_and_child(BOB_HK, BOB);
    let mut without = parent_and_child(BOB_HK, BOB);
    set_children(&mut without, ALICE_HK, 1, &[]);
    let d = [3 * TAO, 0];
    let p1 = epoch(&mut with, &[ALICE_HK, BOB_HK], &d);
    let p2 = epoch(&mut without, &[ALICE_HK, BOB_HK], &d);
    assert_eq!(p1, p2);
    with.check();
}

// ---- origins, refusals, dissolution --------------------------------------

#[test]
fn only_governance_sets_children_and_takes() {
    let mut h = staked();
    let bodies = [
        CommandBody::SetChildren {
            hotkey: a(ALICE_HK),
            netuid: 1,
            children: vec![(Q / 2, a(BOB_HK))],
        },
        CommandBody::SetChildkeyTake {
            hotkey: a(ALICE_HK),
            netuid: 1,
            take: 100,
        },
    ];
    for body in bodies {
        for origin in [
            Origin::Signed(a(ALICE)),
            Origin::Signed(a(ADMIN)),
            Origin::Peer(Peer::Ledger),
            Origin::Peer(Peer::Consensus),
            Origin::Genesis,
        ] {
            assert_eq!(
                h.run(Command::new(origin, body.clone())),
                Err(Rejection::BadOrigin)
            );
        }
    }
    assert!(h.amm.children.is_empty() && h.amm.childkey_takes.is_empty());
}

#[test]
fn unknown_root_and_malformed_lists_are_refused_steps() {
    let mut h = staked();
    let hk = a(ALICE_HK);
    for netuid in [0, 7] {
        let r = refused(&set_children(&mut h, ALICE_HK, netuid, &[(1, BOB_HK)]));
        assert_eq!(r.code, "SubnetNotExists");
        assert_eq!(r.op, format!("children/{netuid}/{hk}"));
        let r = refused(
            &h.run(governance(CommandBody::SetChildkeyTake {
                hotkey: hk,
                netuid,
                take: 1,
            }))
            .unwrap(),
        );
        assert_eq!(r.code, "SubnetNotExists");
        assert_eq!(r.op, format!("childkey-take/{netuid}/{hk}"));
    }
    let cases: [(&[(u64, u8)], &str); 4] = [
        (&[(1, BOB_HK), (2, BOB_HK)], "DuplicateChild"),
        (&[(1, ALICE_HK)], "InvalidChild"),
        (
            &[(1, 40), (1, 41), (1, 42), (1, 43), (1, 44), (1, 45)],
            "TooManyChildren",
        ),
        (&[(Q, BOB_HK), (1, CAROL_HK)], "ProportionOverflow"),
    ];
    for (kids, code) in cases {
        assert_eq!(refused(&set_children(&mut h, ALICE_HK, 1, kids)).code, code);
    }
    assert!(h.amm.children.is_empty() && h.amm.childkey_takes.is_empty());
    // Five children are fine.
    let five = [(1, 40), (1, 41), (1, 42), (1, 43), (1, 44)];
    assert!(matches!(
        set_children(&mut h, ALICE_HK, 1, &five)[0],
        AmmEvent::ChildrenSet(_)
    ));
    h.check();
}

#[test]
fn dissolving_a_subnet_drops_its_childkeys() {
    let mut h = Harness::new(genesis(vec![
        subnet(1, 1_000 * TAO, 1_000 * TAO),
        subnet(2, 1_000 * TAO, 1_000 * TAO),
    ]));
    h.stake(ALICE, ALICE_HK, 1, 10 * TAO).unwrap();
    for n in [1, 2] {
        set_children(&mut h, ALICE_HK, n, &[(Q / 2, BOB_HK)]);
        h.run(governance(CommandBody::SetChildkeyTake {
            hotkey: a(BOB_HK),
            netuid: n,
            take: 500,
        }))
        .unwrap();
    }
    assert_eq!(h.amm.childkey_takes.len(), 2);

    let block = h.amm.height;
    let ev = h
        .run(governance(CommandBody::DissolveSubnet { netuid: 1, block }))
        .unwrap();

    assert!(matches!(ev[0], AmmEvent::SubnetDissolved(_)));
    let nets = |m: &mut dyn Iterator<Item = u16>| m.collect::<Vec<u16>>();
    assert_eq!(nets(&mut h.amm.children.keys().map(|k| k.0)), vec![2]);
    assert_eq!(nets(&mut h.amm.parents.keys().map(|k| k.0)), vec![2]);
    assert_eq!(nets(&mut h.amm.childkey_takes.keys().map(|k| k.0)), vec![2]);
    h.check();
    h.check_replay();
    // A take of 0 is the default: no record kept.
    h.run(governance(CommandBody::SetChildkeyTake {
        hotkey: a(BOB_HK),
        netuid: 2,
        take: 0,
    }))
    .unwrap();
    assert!(h.amm.childkey_takes.is_empty());
    assert_eq!(SNAPSHOT_VERSION, 7);
}
