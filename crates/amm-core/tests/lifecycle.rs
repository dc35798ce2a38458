//! Given a genesis, when governance drives a subnet's lifecycle (open,
//! start, close, dissolve, registration burns, owner changes, parameters),
//! then events, or a recorded `GovernanceStepRefused` that changes nothing
//! else; plus the stake report governance receives.

mod common;

use aggregate::Aggregate;
use amm_core::event::*;
use amm_core::lifecycle::{dissolution_payouts, median_price};
use amm_core::*;
use common::*;
use fixed::types::U64F64;
use pool::fixed64;

const TAO: u64 = 1_000_000_000;
const NEW_OWNER: u8 = 50;
const NEW_OWNER_HK: u8 = 51;

/// Given subnets 1..=3 with spot prices 1, 2 and 4 (TAO 1000/2000/4000
/// over 1000 alpha each).
fn three_subnets() -> Harness {
    Harness::new(genesis(vec![
        subnet(1, 1_000 * TAO, 1_000 * TAO),
        subnet(2, 2_000 * TAO, 1_000 * TAO),
        subnet(3, 4_000 * TAO, 1_000 * TAO),
    ]))
}

fn open(netuid: u16, lock: u64) -> Command {
    governance(CommandBody::OpenSubnet {
        op: format!("reg-{netuid}"),
        netuid,
        owner: a(NEW_OWNER),
        owner_hotkey: a(NEW_OWNER_HK),
        lock,
        block: 77,
    })
}

fn start(netuid: u16) -> Command {
    governance(CommandBody::SetParam {
        netuid,
        param: SubnetParam::StartCall,
    })
}

fn refused(op: &str, r: Rejection, message: &str) -> Vec<AmmEvent> {
    vec![AmmEvent::GovernanceStepRefused(GovernanceStepRefused {
        op: op.into(),
        code: r.code().into(),
        message: message.into(),
    })]
}

/// When `cmd` is a refused governance step: exactly one
/// `GovernanceStepRefused` and the state is unchanged.
fn assert_refused(h: &mut Harness, cmd: Command, want: Vec<AmmEvent>) {
    let before = h.amm.digest();
    let ev = h.run(cmd).expect("a governance step is answered");
    assert_eq!(ev, want);
    assert_eq!(h.amm.digest(), before, "a refused step changed the state");
    h.check();
}

fn find<T>(events: &[AmmEvent], f: impl Fn(&AmmEvent) -> Option<T>) -> T {
    events.iter().find_map(f).expect("event present")
}

fn settlement(events: &[AmmEvent]) -> TaoSettlement {
    find(events, |e| match e {
        AmmEvent::TaoSettlement(s) => Some(s.clone()),
        _ => None,
    })
}

fn stake_report(events: &[AmmEvent]) -> Option<StakeReport> {
    events.iter().find_map(|e| match e {
        AmmEvent::StakeReport(r) => Some(r.clone()),
        _ => None,
    })
}

fn add_stake(who: u8, hotkey: u8, netuid: u16, amount: u64) -> Command {
    signed(
        who,
        CommandBody::AddStake {
            op: format!("s-{who}-{hotkey}-{netuid}-{amount}"),
            hotkey: a(hotkey),
            netuid,
            amount,
            limit_price: None,
            allow_partial: false,
        },
    )
}

// ---- the median price ---------------------------------------------------------

#[test]
fn median_price_is_the_chains() {
    let p = |v: u64| fixed64::from_u64(v);
    assert_eq!(median_price(&[]), fixed64::ONE);
    assert_eq!(median_price(&[fixed64::ZERO]), fixed64::ONE);
    assert_eq!(median_price(&[p(4), p(1), p(2)]), p(2));
    // Even count: the mean of the two middle prices; zeros are skipped.
    assert_eq!(median_price(&[p(4), fixed64::ZERO, p(1), p(2), p(8)]), p(3));
    let half = U64F64::from_bits(1u128 << 63);
    assert_eq!(
        median_price(&[p(1), p(2)]),
        fixed64::add(fixed64::ONE, half)
    );
}

// ---- open ---------------------------------------------------------------------

#[test]
fn open_subnet_starts_at_the_median_price_with_subtoken_and_emission_off() {
    let mut h = three_subnets();
    let ev = h.run(open(4, 500 * TAO)).unwrap();
    // Median of 1, 2, 4 is 2: alpha = 500 / 2 TAO.
    assert_eq!(
        ev[0],
        AmmEvent::SubnetOpened(SubnetOpened {
            op: "reg-4".into(),
            netuid: 4,
            owner: a(NEW_OWNER),
            owner_hotkey: a(NEW_OWNER_HK),
            tao: 500 * TAO,
            alpha: 250 * TAO,
            block: 77,
        })
    );
    // The owner hotkey has no stake anywhere: no weight; only the new
    // subnet's price is reported (governance values stakes from it).
    assert_eq!(ev.len(), 2);
    let price = h.amm.subnets[&4].pool().price().to_bits();
    assert_eq!(
        stake_report(&ev).expect("a price report"),
        StakeReport {
            root: vec![],
            hotkey_alpha: vec![],
            prices: vec![(4, price)],
            coldkey_alpha: vec![],
        }
    );
    let s = h.amm.subnet_summary(4).unwrap();
    assert!(!s.started && !s.emitting && !s.subtoken_enabled && !s.emission_enabled);
    assert_eq!((s.locked, s.registered_at), (500 * TAO, 77));
    assert_eq!((s.owner, s.owner_hotkey), (a(NEW_OWNER), a(NEW_OWNER_HK)));
    assert_eq!(s.fee_rate, 33);
    assert_eq!(s.price, "2");
    assert_eq!(h.amm.totals().total_stake, 7_500 * TAO);
    // As for genesis subnets: the owner hotkey holds a uid and belongs to the owner.
    assert!(h.amm.subnets[&4].neurons.contains(&a(NEW_OWNER_HK)));
    assert_eq!(h.amm.hotkeys[&a(NEW_OWNER_HK)].owner, a(NEW_OWNER));
    // Not started: staking is refused, and no block emits to it.
    assert_eq!(
        h.run(add_stake(ALICE, ALICE_HK, 4, 10 * TAO)),
        Err(Rejection::SubtokenDisabled)
    );
    let ev = h.block(TAO).unwrap();
    let AmmEvent::CoinbaseRan(c) = &ev[0] else {
        panic!()
    };
    assert!(c.subnets.iter().all(|s| s.netuid != 4));
    h.check();
    h.check_replay();
}

#[test]
fn the_first_subnet_opens_at_price_one_and_an_even_median_is_the_mean() {
    let mut h = Harness::new(genesis(vec![]));
    let ev = h.run(open(1, 1_000 * TAO)).unwrap();
    assert!(matches!(&ev[0], AmmEvent::SubnetOpened(o) if o.alpha == 1_000 * TAO));

    let mut h = Harness::new(genesis(vec![
        subnet(1, 1_000 * TAO, 1_000 * TAO),
        subnet(2, 4_000 * TAO, 1_000 * TAO),
    ]));
    // Median of 1 and 4 is 2.5: 1000 / 2.5 = 400.
    let ev = h.run(open(3, 1_000 * TAO)).unwrap();
    assert!(matches!(&ev[0], AmmEvent::SubnetOpened(o) if o.alpha == 400 * TAO));
    h.check();
}

#[test]
fn open_subnet_refusals_are_recorded_and_change_nothing() {
    let mut h = three_subnets();
    let bad_op = |op: &str| {
        governance(CommandBody::OpenSubnet {
            op: op.into(),
            netuid: 4,
            owner: a(NEW_OWNER),
            owner_hotkey: a(NEW_OWNER_HK),
            lock: TAO,
            block: 1,
        })
    };
    assert_refused(
        &mut h,
        bad_op(""),
        refused("", Rejection::InvalidOperationId, "op empty or too long"),
    );
    let long = "x".repeat(command::MAX_OP_LEN + 1);
    assert_refused(
        &mut h,
        bad_op(&long),
        refused(&long, Rejection::InvalidOperationId, "op empty or too long"),
    );
    assert_refused(
        &mut h,
        open(0, TAO),
        refused(
            "reg-0",
            Rejection::InvalidValue,
            "netuid 0 is the root pool",
        ),
    );
    assert_refused(
        &mut h,
        open(2, TAO),
        refused(
            "reg-2",
            Rejection::InvalidValue,
            "netuid 2 already has a pool",
        ),
    );
    assert_refused(
        &mut h,
        open(4, 0),
        refused("reg-4", Rejection::AmountTooLow, "zero lock"),
    );
    // Only governance may open a pool.
    for cmd in [
        Command::new(Origin::Peer(Peer::Ledger), open(4, TAO).body),
        Command::new(Origin::Signed(a(ADMIN)), open(4, TAO).body),
    ] {
        assert_eq!(h.run(cmd), Err(Rejection::BadOrigin));
    }
}

#[test]
fn every_governance_command_needs_the_governance_origin() {
    let mut h = three_subnets();
    let bodies = vec![
        open(4, TAO).body,
        CommandBody::CloseSubnet {
            op: "reg-4".into(),
            netuid: 4,
        },
        CommandBody::DissolveSubnet {
            netuid: 1,
            block: 1,
        },
        CommandBody::RegistrationBurn {
            op: "n-1".into(),
            netuid: 1,
            coldkey: a(ALICE),
            amount: TAO,
        },
        CommandBody::SetOwner {
            netuid: 1,
            owner: None,
            owner_hotkey: a(ALICE_HK),
        },
    ];
    for body in bodies {
        for origin in [
            Origin::Signed(a(ADMIN)),
            Origin::Peer(Peer::Ledger),
            Origin::Peer(Peer::Consensus),
        ] {
            assert_eq!(
                h.run(Command::new(origin, body.clone())),
                Err(Rejection::BadOrigin)
            );
        }
    }
    // SetParam: the admin key or governance, nobody else.
    let param = CommandBody::SetParam {
        netuid: 1,
        param: SubnetParam::FeeRate(100),
    };
    assert_eq!(
        h.run(signed(ALICE, param.clone())),
        Err(Rejection::NotAdmin)
    );
    assert_eq!(
        h.run(Command::new(Origin::Peer(Peer::Ledger), param.clone())),
        Err(Rejection::BadOrigin)
    );
    h.run(signed(ADMIN, param.clone())).unwrap();
    let ev = h.run(governance(param)).unwrap();
    assert!(matches!(&ev[0], AmmEvent::ParamSet(p) if p.param == SubnetParam::FeeRate(100)));
}

// ---- start and parameters from governance ---------------------------------------

#[test]
fn start_call_enables_the_subtoken_and_root_enables_emission() {
    let mut h = three_subnets();
    h.run(open(4, 500 * TAO)).unwrap();
    h.block(TAO).unwrap();
    let ev = h.run(start(4)).unwrap();
    let height = h.amm.height;
    assert_eq!(
        ev,
        vec![
            AmmEvent::ParamSet(ParamSet {
                netuid: 4,
                param: SubnetParam::StartCall,
                block: height,
            }),
            AmmEvent::ParamSet(ParamSet {
                netuid: 4,
                param: SubnetParam::SubtokenEnabled(true),
                block: height,
            }),
        ]
    );
    let s = h.amm.subnet_summary(4).unwrap();
    assert!(s.started && s.subtoken_enabled && s.emitting && !s.emission_enabled);
    assert_eq!(s.first_emission_block, Some(height + 1));
    // Staking works now; emission runs (alpha) but its TAO share is 0
    // until governance enables pool-side emission.
    h.stake(ALICE, ALICE_HK, 4, 10 * TAO).unwrap();
    let ev = h.block(TAO).unwrap();
    let AmmEvent::CoinbaseRan(c) = &ev[0] else {
        panic!()
    };
    let sn = c.subnets.iter().find(|s| s.netuid == 4).unwrap();
    assert_eq!(sn.tao_in + sn.excess_tao, 0);
    assert!(sn.alpha_out > 0);
    h.run(governance(CommandBody::SetParam {
        netuid: 4,
        param: SubnetParam::EmissionEnabled(true),
    }))
    .unwrap();
    assert!(h.amm.subnet_summary(4).unwrap().emission_enabled);
    // A second start call does not re-enable a subtoken Root turned off.
    h.run(governance(CommandBody::SetParam {
        netuid: 4,
        param: SubnetParam::SubtokenEnabled(false),
    }))
    .unwrap();
    let ev = h.run(start(4)).unwrap();
    assert_eq!(ev.len(), 1);
    assert!(!h.amm.subnet_summary(4).unwrap().subtoken_enabled);
    h.check();
    h.check_replay();
}

#[test]
fn refused_parameters_from_governance_are_recorded() {
    let mut h = three_subnets();
    assert_refused(
        &mut h,
        governance(CommandBody::SetParam {
            netuid: 9,
            param: SubnetParam::StartCall,
        }),
        refused(
            "param/9",
            Rejection::SubnetNotExists,
            &Rejection::SubnetNotExists.to_string(),
        ),
    );
    assert_refused(
        &mut h,
        governance(CommandBody::SetParam {
            netuid: 1,
            param: SubnetParam::FeeRate(10_001),
        }),
        refused(
            "param/1",
            Rejection::InvalidValue,
            &Rejection::InvalidValue.to_string(),
        ),
    );
    assert_refused(
        &mut h,
        governance(CommandBody::SetParam {
            netuid: 0,
            param: SubnetParam::DelegateTake {
                hotkey: a(99),
                take: 1,
            },
        }),
        refused(
            "param/0",
            Rejection::HotKeyAccountNotExists,
            &Rejection::HotKeyAccountNotExists.to_string(),
        ),
    );
    // The admin still gets plain rejections.
    assert_eq!(
        h.run(signed(
            ADMIN,
            CommandBody::SetParam {
                netuid: 9,
                param: SubnetParam::StartCall,
            }
        )),
        Err(Rejection::SubnetNotExists)
    );
    // Globals from governance.
    h.run(governance(CommandBody::SetParam {
        netuid: 0,
        param: SubnetParam::MinStake(3_000_000),
    }))
    .unwrap();
    assert_eq!(h.amm.params.min_stake, 3_000_000);
}

// ---- close ----------------------------------------------------------------------

#[test]
fn close_subnet_removes_a_pool_that_never_started() {
    let mut h = three_subnets();
    h.run(open(4, 500 * TAO)).unwrap();
    let ev = h
        .run(governance(CommandBody::CloseSubnet {
            op: "reg-4".into(),
            netuid: 4,
        }))
        .unwrap();
    // The subnet's price is gone too (0 in the report: governance forgets it).
    assert_eq!(
        ev,
        vec![
            AmmEvent::SubnetClosed(SubnetClosed {
                op: "reg-4".into(),
                netuid: 4,
            }),
            AmmEvent::StakeReport(StakeReport {
                root: vec![],
                hotkey_alpha: vec![],
                prices: vec![(4, 0)],
                coldkey_alpha: vec![],
            })
        ]
    );
    assert!(h.amm.subnet_summary(4).is_none());
    assert_eq!(h.amm.totals().total_stake, 7_000 * TAO);
    h.check();
    h.check_replay();
    // The netuid can be opened again.
    h.run(open(4, 100 * TAO)).unwrap();
    h.check();
}

#[test]
fn close_subnet_refusals_are_recorded_and_change_nothing() {
    let mut h = three_subnets();
    h.run(open(4, 500 * TAO)).unwrap();
    let close = |op: &str, netuid: u16| {
        governance(CommandBody::CloseSubnet {
            op: op.into(),
            netuid,
        })
    };
    assert_refused(
        &mut h,
        close("reg-5", 5),
        refused("reg-5", Rejection::SubnetNotExists, "no subnet 5 to close"),
    );
    assert_refused(
        &mut h,
        close("other", 4),
        refused(
            "other",
            Rejection::UnknownOperation,
            "netuid 4 was not opened by other",
        ),
    );
    // A genesis subnet was opened by no op.
    assert_refused(
        &mut h,
        close("reg-1", 1),
        refused(
            "reg-1",
            Rejection::UnknownOperation,
            "netuid 1 was not opened by reg-1",
        ),
    );
    h.run(start(4)).unwrap();
    assert_refused(
        &mut h,
        close("reg-4", 4),
        refused(
            "reg-4",
            Rejection::InvalidValue,
            "netuid 4 has started or been used",
        ),
    );
}

// ---- dissolve -------------------------------------------------------------------

#[test]
fn dissolution_payouts_use_largest_remainders() {
    let (x, y, z) = (a(1), a(2), a(3));
    // 100 over three equal holders: 33 each and one leftover RAO to the first.
    assert_eq!(
        dissolution_payouts(100, 0, &[(a(9), x, 1), (a(9), y, 1), (a(9), z, 1)]),
        (vec![(x, 34), (y, 33), (z, 33)], 0)
    );
    // 10 over 1, 2, 4 (of 7): floors 1, 2, 5, remainders 3, 6, 5: the two
    // leftover RAO go to the largest remainders (2nd, 3rd).
    assert_eq!(
        dissolution_payouts(10, 0, &[(a(9), x, 1), (a(9), y, 2), (a(9), z, 4)]),
        (vec![(x, 1), (y, 3), (z, 6)], 0)
    );
    // Protocol alpha takes its share unpaid: it is recycled. 100 over 3
    // holders of 1 and protocol 3 (of 6): 16 each, remainders 4 each, two
    // leftover RAO; paid 50, recycled 50.
    assert_eq!(
        dissolution_payouts(100, 3, &[(a(9), x, 1), (a(9), y, 1), (a(8), x, 1)]),
        (vec![(x, 33), (y, 17)], 50)
    );
    // Nobody holds alpha: everything is recycled.
    assert_eq!(dissolution_payouts(100, 5, &[]), (vec![], 100));
    assert_eq!(dissolution_payouts(0, 5, &[(a(9), x, 1)]), (vec![], 0));
}

#[test]
fn dissolution_pays_every_holder_pro_rata_and_recycles_the_rest() {
    let mut h = three_subnets();
    // Given stakes of several coldkeys on two hotkeys of subnet 2, a root
    // stake with claimable dividends, pots and EMA history.
    h.stake(ALICE, ALICE_HK, 2, 100 * TAO).unwrap();
    h.stake(BOB, BOB_HK, 2, 37 * TAO).unwrap();
    h.stake(BOB, ALICE_HK, 2, 13 * TAO).unwrap();
    h.stake(30, BOB_HK, 2, 7 * TAO).unwrap();
    h.stake(ALICE, ALICE_HK, 0, 50 * TAO).unwrap();
    h.stake(ALICE, ALICE_HK, 1, 20 * TAO).unwrap();
    for s in h.amm.subnets.values_mut() {
        if s.netuid != 0 {
            s.moving_price_bits = 1 << 31;
        }
    }
    for _ in 0..3 {
        h.block(TAO).unwrap();
    }
    let hotkeys = vec![a(ALICE_HK), a(BOB_HK)];
    h.run(consensus(CommandBody::Epoch {
        netuid: 2,
        block: h.amm.height - 1,
        hotkeys,
        incentive: vec![1, 1],
        dividend: vec![3, 1],
    }))
    .unwrap();
    h.block(TAO).unwrap();
    h.check();
    assert!(
        h.amm.pots.keys().any(|(n, _)| *n == 2),
        "given pending pots"
    );
    assert!(h.amm.root_claimable.keys().any(|(_, n)| *n == 2));

    let pool_tao = h.amm.subnets[&2].tao;
    let alpha_before: u128 = h
        .amm
        .subnets
        .values()
        .map(|s| u128::from(s.alpha_out))
        .sum();
    let alpha_2 = u128::from(h.amm.subnets[&2].alpha_out);
    let mut holders = Vec::new();
    for ((n, hk), p) in &h.amm.pools {
        if *n == 2 {
            for c in p.shares.keys() {
                holders.push((*hk, *c, p.value_of(c)));
            }
        }
    }
    assert!(holders.len() >= 4);
    let s2 = &h.amm.subnets[&2];
    let protocol = u128::from(s2.alpha_in) + u128::from(s2.protocol_alpha);
    let (want, want_recycled) = dissolution_payouts(pool_tao, protocol, &holders);

    let block = h.amm.height;
    let ev = h
        .run(governance(CommandBody::DissolveSubnet { netuid: 2, block }))
        .unwrap();
    let AmmEvent::SubnetDissolved(d) = &ev[0] else {
        panic!("dissolution first: {ev:?}")
    };
    assert_eq!((d.netuid, d.block), (2, block));
    assert_eq!(d.payouts, want);
    assert_eq!(d.recycled, want_recycled);
    // Every coldkey with alpha on subnet 2 is paid, and nothing is lost.
    let paid: u64 = d.payouts.iter().map(|(_, v)| v).sum();
    assert_eq!(paid + d.recycled, pool_tao);
    let mut coldkeys: Vec<_> = holders.iter().map(|(_, c, _)| *c).collect();
    coldkeys.sort();
    coldkeys.dedup();
    assert_eq!(
        d.payouts.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        coldkeys
    );
    // The protocol's share (pool alpha and protocol alpha) is not paid out.
    let held: u128 = holders.iter().map(|x| u128::from(x.2)).sum();
    let protocol_share = u128::from(pool_tao) * protocol / (protocol + held);
    assert!(protocol_share > 0);
    assert!(u128::from(d.recycled) >= protocol_share);
    // The settlement moves the whole pool out of custody[2].
    let st = settlement(&ev);
    assert_eq!(st.op, format!("dissolve/2/{block}"));
    let mut want_moves: Vec<TaoMove> = d
        .payouts
        .iter()
        .map(|(c, v)| TaoMove {
            from_netuid: 2,
            to: TaoDest::Account(*c),
            amount: *v,
        })
        .collect();
    want_moves.push(TaoMove {
        from_netuid: 2,
        to: TaoDest::Recycle,
        amount: d.recycled,
    });
    assert_eq!(st.moves, want_moves);
    // Everything of subnet 2 is gone; alpha outstanding falls by its alpha.
    assert!(h.amm.subnet_summary(2).is_none());
    assert!(!h.amm.pools.keys().any(|(n, _)| *n == 2));
    assert!(!h.amm.pots.keys().any(|(n, _)| *n == 2));
    assert!(!h.amm.root_claimable.keys().any(|(_, n)| *n == 2));
    assert!(!h.amm.root_claimed.keys().any(|(n, _, _)| *n == 2));
    assert!(!h.amm.reported.keys().any(|(n, _)| *n == 2));
    assert!(h
        .amm
        .positions
        .values()
        .all(|set| set.iter().all(|(n, _)| *n != 2)));
    let alpha_after: u128 = h
        .amm
        .subnets
        .values()
        .map(|s| u128::from(s.alpha_out))
        .sum();
    assert_eq!(alpha_after, alpha_before - alpha_2);
    assert_eq!(
        h.amm.totals().total_stake,
        h.amm.subnets.values().map(|s| s.tao).sum::<u64>()
    );
    // Governance hears that the coldkeys' alpha on subnet 2 is gone.
    let r = stake_report(&ev).expect("a stake report");
    for c in &coldkeys {
        assert!(
            r.coldkey_alpha.contains(&(*c, 2, 0)),
            "{c} not reported at 0"
        );
    }
    assert!(!h.amm.reported_coldkey_alpha.keys().any(|(_, n)| *n == 2));
    h.check();
    h.check_replay();
    // Other subnets carry on; the netuid can be reused.
    h.block(TAO).unwrap();
    h.run(open(2, 10 * TAO)).unwrap();
    h.check();
}

#[test]
fn dissolving_a_subnet_nobody_holds_recycles_its_pool() {
    let mut h = three_subnets();
    let ev = h
        .run(governance(CommandBody::DissolveSubnet {
            netuid: 3,
            block: 5,
        }))
        .unwrap();
    assert_eq!(
        ev[0],
        AmmEvent::SubnetDissolved(SubnetDissolved {
            netuid: 3,
            block: 5,
            payouts: vec![],
            recycled: 4_000 * TAO,
        })
    );
    assert_eq!(
        settlement(&ev).moves,
        vec![TaoMove {
            from_netuid: 3,
            to: TaoDest::Recycle,
            amount: 4_000 * TAO,
        }]
    );
    h.check();
}

#[test]
fn dissolve_refusals_are_recorded_and_change_nothing() {
    let mut h = three_subnets();
    for netuid in [0, 9] {
        let op = format!("dissolve/{netuid}/100");
        assert_refused(
            &mut h,
            governance(CommandBody::DissolveSubnet { netuid, block: 100 }),
            refused(
                &op,
                Rejection::SubnetNotExists,
                &format!("no subnet {netuid} to dissolve"),
            ),
        );
    }
    // Users may not take the dissolution ops.
    assert_eq!(
        h.run(signed(
            ALICE,
            CommandBody::AddStake {
                op: "dissolve/1/7".into(),
                hotkey: a(ALICE_HK),
                netuid: 1,
                amount: TAO,
                limit_price: None,
                allow_partial: false,
            }
        )),
        Err(Rejection::InvalidOperationId)
    );
}

#[test]
fn a_stake_funded_after_its_subnet_dissolved_is_refunded() {
    let mut h = three_subnets();
    h.run(add_stake(ALICE, ALICE_HK, 3, 10 * TAO)).unwrap();
    h.run(governance(CommandBody::DissolveSubnet {
        netuid: 3,
        block: 1,
    }))
    .unwrap();
    let op = format!("s-{ALICE}-{ALICE_HK}-3-{}", 10 * TAO);
    *h.custody.entry(3).or_default() += u128::from(10 * TAO);
    let ev = h.run(ledger(CommandBody::StakeFunded { op })).unwrap();
    assert!(
        matches!(&ev[0], AmmEvent::StakeFailed(f) if f.funded == 10 * TAO && f.code == "SubnetNotExists")
    );
    h.check();
}

// ---- registration burns -----------------------------------------------------------

#[test]
fn registration_burn_buys_alpha_with_the_fee_and_burns_it() {
    let mut h = three_subnets();
    let before = h.amm.subnets[&1].clone();
    let alpha_out_total: u64 = h.amm.subnets.values().map(|s| s.alpha_out).sum();
    let ev = h.registration_burn("neuron-1", 1, ALICE, TAO).unwrap();
    let AmmEvent::RegistrationBurned(b) = &ev[0] else {
        panic!("{ev:?}")
    };
    // The swap fee applies (tokenomics.md §3.9) and is burned.
    let fee = TAO * 33 / 65535;
    assert_eq!(
        (b.op.as_str(), b.netuid, b.coldkey),
        ("neuron-1", 1, a(ALICE))
    );
    assert_eq!((b.tao, b.fee), (TAO, fee));
    // Constant product: out = x·Δ/(y+Δ).
    let net = u128::from(TAO - fee);
    let expect = (u128::from(before.alpha_in) * net / (u128::from(before.tao) + net)) as u64;
    assert!(b.alpha_burned.abs_diff(expect) <= 1);
    assert_eq!(
        settlement(&ev),
        TaoSettlement {
            op: "neuron-1".into(),
            moves: vec![TaoMove {
                from_netuid: 1,
                to: TaoDest::Burn,
                amount: fee,
            }],
        }
    );
    let after = &h.amm.subnets[&1];
    // Pool TAO rises by the burn less the fee; the alpha left the pool and
    // issuance; alpha outstanding is unchanged.
    assert_eq!(after.tao, before.tao + TAO - fee);
    assert_eq!(after.alpha_in, before.alpha_in - b.alpha_burned);
    assert_eq!(after.alpha_out, before.alpha_out);
    assert_eq!(
        h.amm.subnets.values().map(|s| s.alpha_out).sum::<u64>(),
        alpha_out_total
    );
    assert_eq!(after.registration_burned_alpha, b.alpha_burned);
    assert_eq!(
        h.amm.subnet_summary(1).unwrap().registration_burned_alpha,
        b.alpha_burned
    );
    // No stake changed: no weights; the burn's swap moved the price, which
    // is all the report says.
    assert_eq!(ev.len(), 3, "{ev:?}");
    let r = stake_report(&ev).expect("a price report");
    assert!(r.hotkey_alpha.is_empty() && r.root.is_empty() && r.coldkey_alpha.is_empty());
    assert_eq!(
        r.prices,
        vec![(1, h.amm.subnets[&1].pool().price().to_bits())]
    );
    h.check();
    h.check_replay();
}

#[test]
fn a_registration_burn_for_a_missing_subnet_is_returned_and_refused() {
    let mut h = three_subnets();
    let before = h.amm.digest();
    let ev = h.registration_burn("neuron-9", 9, ALICE, TAO).unwrap();
    assert_eq!(
        ev,
        vec![
            AmmEvent::GovernanceStepRefused(GovernanceStepRefused {
                op: "neuron-9".into(),
                code: "SubnetNotExists".into(),
                message: "no subnet 9: the burn is returned".into(),
            }),
            AmmEvent::TaoSettlement(TaoSettlement {
                op: "neuron-9".into(),
                moves: vec![TaoMove {
                    from_netuid: 9,
                    to: TaoDest::Account(a(ALICE)),
                    amount: TAO,
                }],
            }),
        ]
    );
    assert_eq!(h.amm.digest(), before);
    // Root takes no registrations either.
    let ev = h.registration_burn("neuron-0", 0, ALICE, TAO).unwrap();
    assert!(matches!(&ev[0], AmmEvent::GovernanceStepRefused(r) if r.code == "InvalidValue"));
    assert_eq!(settlement(&ev).moves[0].to, TaoDest::Account(a(ALICE)));
    assert_eq!(h.amm.digest(), before);
    // Nothing to burn, nothing to return.
    assert_refused(
        &mut h,
        governance(CommandBody::RegistrationBurn {
            op: "neuron-z".into(),
            netuid: 1,
            coldkey: a(ALICE),
            amount: 0,
        }),
        refused("neuron-z", Rejection::AmountTooLow, "nothing to burn"),
    );
    h.check();
}

#[test]
fn a_registration_burn_the_pool_cannot_take_is_returned() {
    // A pool below the minimum reserve cannot swap.
    let mut h = Harness::new(genesis(vec![subnet(1, 1_000, 1_000)]));
    let ev = h.registration_burn("neuron-1", 1, BOB, TAO).unwrap();
    assert!(matches!(&ev[0], AmmEvent::GovernanceStepRefused(r) if r.code == "ReservesTooLow"));
    assert_eq!(
        settlement(&ev).moves,
        vec![TaoMove {
            from_netuid: 1,
            to: TaoDest::Account(a(BOB)),
            amount: TAO,
        }]
    );
    h.check();
}

// ---- owner ------------------------------------------------------------------------

#[test]
fn set_owner_changes_who_gets_the_owner_cut() {
    let mut h = three_subnets();
    // A new owner hotkey only.
    let ev = h
        .run(governance(CommandBody::SetOwner {
            netuid: 1,
            owner: None,
            owner_hotkey: a(60),
        }))
        .unwrap();
    assert_eq!(
        ev,
        vec![AmmEvent::SubnetOwnerSet(SubnetOwnerSet {
            netuid: 1,
            owner: a(OWNER),
            owner_hotkey: a(60),
        })]
    );
    assert_eq!(h.amm.hotkeys[&a(60)].owner, a(OWNER));
    // A takeover.
    h.run(governance(CommandBody::SetOwner {
        netuid: 1,
        owner: Some(a(NEW_OWNER)),
        owner_hotkey: a(NEW_OWNER_HK),
    }))
    .unwrap();
    let s = h.amm.subnet_summary(1).unwrap();
    assert_eq!((s.owner, s.owner_hotkey), (a(NEW_OWNER), a(NEW_OWNER_HK)));
    // The owner cut of the next epoch goes to (new owner hotkey, new owner).
    for s in h.amm.subnets.values_mut() {
        if s.netuid != 0 {
            s.moving_price_bits = 1 << 31;
        }
    }
    h.block(TAO).unwrap();
    let block = h.amm.height;
    let ev = h
        .run(consensus(CommandBody::Epoch {
            netuid: 1,
            block,
            hotkeys: vec![],
            incentive: vec![],
            dividend: vec![],
        }))
        .unwrap();
    let AmmEvent::EpochPaid(p) = &ev[0] else {
        panic!()
    };
    assert!(p.owner_cut > 0);
    let to_new_owner = p.credits.iter().any(|c| {
        matches!(c, AlphaCredit::Stake { hotkey, coldkey, alpha, .. }
            if *hotkey == a(NEW_OWNER_HK) && *coldkey == a(NEW_OWNER) && *alpha == p.owner_cut)
    });
    assert!(to_new_owner, "{:?}", p.credits);
    assert_eq!(h.amm.stake(1, &a(NEW_OWNER_HK), &a(NEW_OWNER)), p.owner_cut);
    assert_refused(
        &mut h,
        governance(CommandBody::SetOwner {
            netuid: 0,
            owner: None,
            owner_hotkey: a(60),
        }),
        refused(
            "owner/0",
            Rejection::SubnetNotExists,
            "no subnet 0 to set the owner of",
        ),
    );
    h.check();
    h.check_replay();
}

// ---- the stake report -----------------------------------------------------------

#[test]
fn the_stake_report_lists_what_changed() {
    let mut h = three_subnets();
    // A root stake: root, the hotkey's root alpha and coldkey alpha
    // change; root's price (1, the stable pool) does not.
    let ev = h.stake(ALICE, ALICE_HK, 0, 10 * TAO).unwrap();
    let r = stake_report(&ev).expect("report");
    let root = h.amm.stake(0, &a(ALICE_HK), &a(ALICE));
    assert_eq!(
        r,
        StakeReport {
            root: vec![(a(ALICE_HK), root)],
            hotkey_alpha: vec![(a(ALICE_HK), 0, root)],
            prices: vec![],
            coldkey_alpha: vec![(a(ALICE), 0, root)],
        }
    );
    // Bob stakes on Alice's hotkey on subnet 2 (price 2): no root change;
    // the pool's alpha and subnet 2's new price are reported, from which
    // governance values the hotkey as the amm does.
    let ev = h.stake(BOB, ALICE_HK, 2, 10 * TAO).unwrap();
    let r = stake_report(&ev).expect("report");
    assert!(r.root.is_empty());
    let alpha = h.amm.stake(2, &a(ALICE_HK), &a(BOB));
    let price = h.amm.subnets[&2].pool().price();
    assert_eq!(r.hotkey_alpha, vec![(a(ALICE_HK), 2, alpha)]);
    assert_eq!(r.prices, vec![(2, price.to_bits())]);
    assert_eq!(r.coldkey_alpha, vec![(a(BOB), 2, alpha)]);
    let price = fixed::types::U96F32::saturating_from_num(price);
    let value = (fixed::types::U96F32::from_num(alpha) * price).to_num::<u64>();
    assert_eq!(h.amm.hotkey_totals()[&a(ALICE_HK)], root + value);
    // A second position of Bob on subnet 2 adds up over his hotkeys; only
    // the new pool and the moved price are reported (Alice's hotkey is
    // revalued from the price).
    let ev = h.stake(BOB, BOB_HK, 2, 5 * TAO).unwrap();
    let r = stake_report(&ev).expect("report");
    let total_bob = h.amm.stake(2, &a(ALICE_HK), &a(BOB)) + h.amm.stake(2, &a(BOB_HK), &a(BOB));
    assert_eq!(r.coldkey_alpha, vec![(a(BOB), 2, total_bob)]);
    assert_eq!(
        r.hotkey_alpha,
        vec![(a(BOB_HK), 2, h.amm.stake(2, &a(BOB_HK), &a(BOB)))]
    );
    assert_eq!(
        r.prices,
        vec![(2, h.amm.subnets[&2].pool().price().to_bits())]
    );
    // Nothing changed: nothing reported.
    let ev = h
        .run(signed(
            ALICE,
            CommandBody::SetRootClaimType {
                claim_type: RootClaimType::Keep,
            },
        ))
        .unwrap();
    assert!(stake_report(&ev).is_none());
    // Unstaking everything reports 0 and forgets the key.
    let have = h.amm.stake(0, &a(ALICE_HK), &a(ALICE));
    let ev = h
        .run(signed(
            ALICE,
            CommandBody::RemoveStake {
                op: "u1".into(),
                hotkey: a(ALICE_HK),
                netuid: 0,
                alpha: have,
                limit_price: None,
                allow_partial: false,
            },
        ))
        .unwrap();
    let r = stake_report(&ev).expect("report");
    assert_eq!(r.root, vec![(a(ALICE_HK), 0)]);
    assert_eq!(r.coldkey_alpha, vec![(a(ALICE), 0, 0)]);
    assert!(!h.amm.reported_root.contains_key(&a(ALICE_HK)));
    assert!(!h.amm.reported_coldkey_alpha.contains_key(&(a(ALICE), 0)));
    h.check();
    h.check_replay();
}

#[test]
fn governance_tells_the_amm_who_owns_a_new_hotkey() {
    let mut h = three_subnets();
    let hk = a(60);
    let ev = h
        .run(governance(CommandBody::HotkeyOwner {
            hotkey: hk,
            coldkey: a(61),
        }))
        .unwrap();
    assert_eq!(
        ev,
        vec![AmmEvent::HotkeyAssociated(HotkeyAssociated {
            hotkey: hk,
            coldkey: a(61),
        })]
    );
    h.check();
    // Again, the same owner: nothing.
    let ev = h
        .run(governance(CommandBody::HotkeyOwner {
            hotkey: hk,
            coldkey: a(61),
        }))
        .unwrap();
    assert!(ev.is_empty());
    // Another owner: refused, recorded, nothing changed.
    assert_refused(
        &mut h,
        governance(CommandBody::HotkeyOwner {
            hotkey: hk,
            coldkey: a(62),
        }),
        refused(
            &format!("hotkey/{hk}"),
            Rejection::NonAssociatedColdKey,
            &format!("hotkey {hk} belongs to {}", a(61)),
        ),
    );
    // Only governance may say so.
    assert!(h
        .run(Command::new(
            Origin::Signed(a(61)),
            CommandBody::HotkeyOwner {
                hotkey: a(63),
                coldkey: a(61),
            },
        ))
        .is_err());
}

#[test]
fn per_subnet_ema_halving_and_root_claim_threshold_override_the_global_ones() {
    let mut h = three_subnets();
    for param in [
        SubnetParam::EmaHalvingBlocks(7_200),
        SubnetParam::RootClaimThreshold(1_000),
    ] {
        let ev = h
            .run(governance(CommandBody::SetParam { netuid: 2, param }))
            .unwrap();
        assert!(matches!(ev[0], AmmEvent::ParamSet(_)), "{ev:?}");
    }
    h.check();
    let s2 = &h.amm.subnets[&2];
    assert_eq!(s2.ema_halving_blocks, Some(7_200));
    assert_eq!(s2.root_claim_threshold, Some(1_000));
    let s1 = &h.amm.subnets[&1];
    assert_eq!(
        (s1.ema_halving_blocks, s1.root_claim_threshold),
        (None, None)
    );
    // An unknown subnet: recorded refusal, nothing changed.
    let before = h.amm.digest();
    let ev = h
        .run(governance(CommandBody::SetParam {
            netuid: 9,
            param: SubnetParam::EmaHalvingBlocks(1),
        }))
        .unwrap();
    assert!(
        matches!(ev[0], AmmEvent::GovernanceStepRefused(_)),
        "{ev:?}"
    );
    assert_eq!(h.amm.digest(), before);
}
