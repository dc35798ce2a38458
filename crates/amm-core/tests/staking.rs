//! Given a genesis, when commands, then events (or a named rejection and no
//! events) for every staking op and the saga with the ledger.

mod common;

use aggregate::Aggregate;
use amm_core::event::*;
use amm_core::*;
use common::*;

const TAO: u64 = 1_000_000_000;

fn one_subnet() -> Harness {
    Harness::new(genesis(vec![subnet(1, 1_000 * TAO, 1_000 * TAO)]))
}

fn find<T>(events: &[AmmEvent], f: impl Fn(&AmmEvent) -> Option<T>) -> T {
    events.iter().find_map(f).expect("event present")
}

fn added(events: &[AmmEvent]) -> StakeAdded {
    find(events, |e| match e {
        AmmEvent::StakeAdded(a) => Some(a.clone()),
        _ => None,
    })
}

fn settlement(events: &[AmmEvent]) -> TaoSettlement {
    find(events, |e| match e {
        AmmEvent::TaoSettlement(s) => Some(s.clone()),
        _ => None,
    })
}

#[test]
fn add_stake_requests_then_executes_on_funding() {
    let mut h = one_subnet();
    let ev = h
        .run(signed(
            ALICE,
            CommandBody::AddStake {
                op: "s1".into(),
                hotkey: a(ALICE_HK),
                netuid: 1,
                amount: 10 * TAO,
                limit_price: None,
                allow_partial: false,
            },
        ))
        .unwrap();
    assert_eq!(
        ev,
        vec![AmmEvent::StakeRequested(StakeRequested {
            op: "s1".into(),
            coldkey: a(ALICE),
            hotkey: a(ALICE_HK),
            netuid: 1,
            amount: 10 * TAO,
            limit_price: None,
            allow_partial: false,
        })]
    );
    assert!(matches!(h.amm.op("s1"), Some(OpStatus::Pending { .. })));
    // Nothing changes in the pool until the TAO is in custody.
    assert_eq!(h.amm.subnets[&1].tao, 1_000 * TAO);
    *h.custody.get_mut(&1).unwrap() += u128::from(10 * TAO);
    let ev = h
        .run(ledger(CommandBody::StakeFunded { op: "s1".into() }))
        .unwrap();
    let st = added(&ev);
    let fee = 10 * TAO * 33 / 65535;
    assert_eq!(st.fee, fee);
    assert_eq!(st.tao, 10 * TAO - fee);
    // Constant product: out = x·Δ/(y+Δ).
    let expect = (1_000 * TAO as u128 * st.tao as u128 / (1_000 * TAO + st.tao) as u128) as u64;
    assert!(st.alpha.abs_diff(expect) <= 1);
    assert_eq!(
        settlement(&ev).moves,
        vec![TaoMove {
            from_netuid: 1,
            to: TaoDest::Burn,
            amount: fee
        }]
    );
    assert!(ev.iter().any(|e| matches!(e, AmmEvent::StakeWeights(_))));
    assert!(matches!(h.amm.op("s1"), Some(OpStatus::Done { .. })));
    assert_eq!(h.amm.stake(1, &a(ALICE_HK), &a(ALICE)), st.alpha);
    h.check();
    h.check_replay();
}

#[test]
fn ledger_refusal_fails_the_op_without_moving_tao() {
    let mut h = one_subnet();
    h.run(signed(
        ALICE,
        CommandBody::AddStake {
            op: "s1".into(),
            hotkey: a(ALICE_HK),
            netuid: 1,
            amount: 10 * TAO,
            limit_price: None,
            allow_partial: false,
        },
    ))
    .unwrap();
    let ev = h
        .run(ledger(CommandBody::LedgerRejected {
            op: "s1".into(),
            code: "InsufficientBalance".into(),
            message: "insufficient balance".into(),
        }))
        .unwrap();
    assert_eq!(
        ev,
        vec![AmmEvent::StakeFailed(StakeFailed {
            op: "s1".into(),
            coldkey: a(ALICE),
            netuid: 1,
            funded: 0,
            code: "NotEnoughBalanceToStake".into(),
            message: "insufficient balance".into(),
        })]
    );
    assert!(
        matches!(h.amm.op("s1"), Some(OpStatus::Failed { code, .. }) if code == "NotEnoughBalanceToStake")
    );
    // The op id stays taken; a second funding is unknown.
    assert_eq!(
        h.run(ledger(CommandBody::StakeFunded { op: "s1".into() })),
        Err(Rejection::UnknownOperation)
    );
    h.check();
}

#[test]
fn funded_stake_past_its_limit_fails_and_is_refunded() {
    let mut h = one_subnet();
    // Limit 1.05: 10 TAO fits now.
    h.run(signed(
        ALICE,
        CommandBody::AddStake {
            op: "s1".into(),
            hotkey: a(ALICE_HK),
            netuid: 1,
            amount: 10 * TAO,
            limit_price: Some(1_050_000_000),
            allow_partial: false,
        },
    ))
    .unwrap();
    // Someone else moves the price past the limit first.
    h.stake(BOB, BOB_HK, 1, 100 * TAO).unwrap();
    *h.custody.get_mut(&1).unwrap() += u128::from(10 * TAO);
    let ev = h
        .run(ledger(CommandBody::StakeFunded { op: "s1".into() }))
        .unwrap();
    assert_eq!(
        ev,
        vec![AmmEvent::StakeFailed(StakeFailed {
            op: "s1".into(),
            coldkey: a(ALICE),
            netuid: 1,
            funded: 10 * TAO,
            code: "PriceLimitExceeded".into(),
            message: Rejection::PriceLimitExceeded.to_string(),
        })]
    );
    h.check();
}

#[test]
fn partial_limit_stake_refunds_the_unexecuted_tao() {
    let mut h = one_subnet();
    let ev = h
        .stake_op(
            "s1",
            ALICE,
            ALICE_HK,
            1,
            100 * TAO,
            Some(1_010_000_000),
            true,
        )
        .unwrap();
    let st = added(&ev);
    let refund: u64 = settlement(&ev)
        .moves
        .iter()
        .filter(|m| m.to == TaoDest::Account(a(ALICE)))
        .map(|m| m.amount)
        .sum();
    assert!(refund > 0);
    assert_eq!(st.tao + st.fee + refund, 100 * TAO);
    let price = h.amm.subnets[&1].pool().price().to_num::<f64>();
    assert!(price <= 1.01 && price > 1.009, "{price}");
    h.check();
}

#[test]
fn add_stake_bad_inputs_are_named_errors() {
    let mut h = one_subnet();
    let stake = |op: &str, hotkey: u8, netuid: u16, amount: u64, limit: Option<u64>| {
        signed(
            ALICE,
            CommandBody::AddStake {
                op: op.into(),
                hotkey: a(hotkey),
                netuid,
                amount,
                limit_price: limit,
                allow_partial: false,
            },
        )
    };
    let cases = [
        (
            stake("x", ALICE_HK, 7, TAO, None),
            Rejection::SubnetNotExists,
        ),
        (
            stake("x", 77, 1, TAO, None),
            Rejection::HotKeyAccountNotExists,
        ),
        (
            stake("x", ALICE_HK, 1, 2_000_000, None),
            Rejection::AmountTooLow,
        ),
        (
            stake("x", ALICE_HK, 1, 1_000_001 * TAO, None),
            Rejection::InsufficientLiquidity,
        ),
        (
            stake("x", ALICE_HK, 1, 100 * TAO, Some(1_010_000_000)),
            Rejection::SlippageTooHigh,
        ),
        (
            stake("x", ALICE_HK, 1, TAO, Some(900_000_000)),
            Rejection::PriceLimitExceeded,
        ),
        (
            stake("", ALICE_HK, 1, TAO, None),
            Rejection::InvalidOperationId,
        ),
        (
            stake(&"o".repeat(129), ALICE_HK, 1, TAO, None),
            Rejection::InvalidOperationId,
        ),
    ];
    for (cmd, want) in cases {
        assert_eq!(h.run(cmd.clone()), Err(want), "{cmd:?}");
    }
    h.stake_op("dup", ALICE, ALICE_HK, 1, TAO, None, false)
        .unwrap();
    assert_eq!(
        h.run(stake("dup", ALICE_HK, 1, TAO, None)),
        Err(Rejection::OperationExists)
    );
    // Subtoken disabled.
    h.run(signed(
        ADMIN,
        CommandBody::SetParam {
            netuid: 1,
            param: SubnetParam::SubtokenEnabled(false),
        },
    ))
    .unwrap();
    assert_eq!(
        h.run(stake("y", ALICE_HK, 1, TAO, None)),
        Err(Rejection::SubtokenDisabled)
    );
    // A consensus origin may not stake; a user may not fund.
    assert_eq!(
        h.run(consensus(CommandBody::StakeFunded { op: "dup".into() })),
        Err(Rejection::BadOrigin)
    );
    assert_eq!(
        h.run(signed(ALICE, CommandBody::StakeFunded { op: "dup".into() })),
        Err(Rejection::BadOrigin)
    );
}

#[test]
fn remove_stake_sells_burns_the_alpha_fee_and_pays_the_coldkey() {
    let mut h = one_subnet();
    let st = added(&h.stake(ALICE, ALICE_HK, 1, 10 * TAO).unwrap());
    let half = st.alpha / 2;
    let ev = h
        .run(signed(
            ALICE,
            CommandBody::RemoveStake {
                op: "u1".into(),
                hotkey: a(ALICE_HK),
                netuid: 1,
                alpha: half,
                limit_price: None,
                allow_partial: false,
            },
        ))
        .unwrap();
    let rm = find(&ev, |e| match e {
        AmmEvent::StakeRemoved(r) => Some(r.clone()),
        _ => None,
    });
    assert_eq!(rm.alpha, half);
    assert_eq!(rm.fee_alpha, half * 33 / 65535);
    assert_eq!(rm.alpha_sold + rm.fee_alpha, half);
    assert_eq!(
        settlement(&ev).moves,
        vec![TaoMove {
            from_netuid: 1,
            to: TaoDest::Account(a(ALICE)),
            amount: rm.tao_out
        }]
    );
    assert_eq!(h.amm.subnets[&1].burned_alpha, rm.fee_alpha);
    h.check();
    h.check_replay();
}

#[test]
fn remove_stake_bad_inputs_are_named_errors() {
    let mut h = one_subnet();
    let st = added(&h.stake(ALICE, ALICE_HK, 1, 10 * TAO).unwrap());
    let rm = |alpha: u64, limit: Option<u64>| {
        signed(
            ALICE,
            CommandBody::RemoveStake {
                op: "u".into(),
                hotkey: a(ALICE_HK),
                netuid: 1,
                alpha,
                limit_price: limit,
                allow_partial: false,
            },
        )
    };
    assert_eq!(
        h.run(rm(st.alpha + 1, None)),
        Err(Rejection::NotEnoughStakeToWithdraw)
    );
    assert_eq!(h.run(rm(0, None)), Err(Rejection::AmountTooLow));
    // Leaving stake behind needs at least min_stake out.
    assert_eq!(h.run(rm(1_000, None)), Err(Rejection::AmountTooLow));
    assert_eq!(
        h.run(rm(st.alpha, Some(1_010_000_000))),
        Err(Rejection::SlippageTooHigh)
    );
    assert_eq!(
        h.run(rm(st.alpha, Some(2_000_000_000))),
        Err(Rejection::PriceLimitExceeded)
    );
    let bob = signed(
        BOB,
        CommandBody::RemoveStake {
            op: "u".into(),
            hotkey: a(ALICE_HK),
            netuid: 1,
            alpha: 1,
            limit_price: None,
            allow_partial: false,
        },
    );
    assert_eq!(h.run(bob), Err(Rejection::NotEnoughStakeToWithdraw));
}

#[test]
fn unstake_all_sells_every_position_of_the_hotkey() {
    let mut h = Harness::new(genesis(vec![
        subnet(1, 1_000 * TAO, 1_000 * TAO),
        subnet(2, 500 * TAO, 1_000 * TAO),
    ]));
    h.stake(ALICE, ALICE_HK, 1, 10 * TAO).unwrap();
    h.stake(ALICE, ALICE_HK, 2, 10 * TAO).unwrap();
    h.stake(ALICE, ALICE_HK, 0, 10 * TAO).unwrap();
    let ev = h
        .run(signed(
            ALICE,
            CommandBody::UnstakeAll {
                op: "all".into(),
                hotkey: a(ALICE_HK),
            },
        ))
        .unwrap();
    let removed = ev
        .iter()
        .filter(|e| matches!(e, AmmEvent::StakeRemoved(_)))
        .count();
    assert_eq!(removed, 3);
    assert_eq!(settlement(&ev).moves.len(), 3);
    assert!(h.amm.portfolio(&a(ALICE)).positions.is_empty());
    h.check();
    assert_eq!(
        h.run(signed(
            ALICE,
            CommandBody::UnstakeAll {
                op: "again".into(),
                hotkey: a(ALICE_HK),
            },
        )),
        Err(Rejection::NotEnoughStakeToWithdraw)
    );
}

#[test]
fn move_within_a_subnet_is_a_share_transfer() {
    let mut h = one_subnet();
    let st = added(&h.stake(ALICE, ALICE_HK, 1, 10 * TAO).unwrap());
    let ev = h
        .run(signed(
            ALICE,
            CommandBody::MoveStake {
                op: "m".into(),
                origin_hotkey: a(ALICE_HK),
                destination_hotkey: a(BOB_HK),
                origin_netuid: 1,
                destination_netuid: 1,
                alpha: st.alpha,
            },
        ))
        .unwrap();
    assert!(matches!(ev[0], AmmEvent::StakeTransferred(_)));
    assert!(!ev.iter().any(|e| matches!(e, AmmEvent::TaoSettlement(_))));
    assert_eq!(h.amm.stake(1, &a(BOB_HK), &a(ALICE)), st.alpha);
    assert_eq!(h.amm.stake(1, &a(ALICE_HK), &a(ALICE)), 0);
    h.check();
}

#[test]
fn transfer_and_swap_across_subnets_move_custody() {
    let mut h = Harness::new(genesis(vec![
        subnet(1, 1_000 * TAO, 1_000 * TAO),
        subnet(2, 500 * TAO, 1_000 * TAO),
    ]));
    let st = added(&h.stake(ALICE, ALICE_HK, 1, 10 * TAO).unwrap());
    let ev = h
        .run(signed(
            ALICE,
            CommandBody::TransferStake {
                op: "t".into(),
                destination_coldkey: a(BOB),
                hotkey: a(ALICE_HK),
                origin_netuid: 1,
                destination_netuid: 2,
                alpha: st.alpha / 2,
            },
        ))
        .unwrap();
    let moves = settlement(&ev).moves;
    assert_eq!(moves[0].to, TaoDest::Custody(2));
    let bob = h.amm.stake(2, &a(ALICE_HK), &a(BOB));
    assert!(bob > 0);
    h.check();
    let ev = h
        .run(signed(
            ALICE,
            CommandBody::SwapStake {
                op: "sw".into(),
                hotkey: a(ALICE_HK),
                origin_netuid: 1,
                destination_netuid: 2,
                alpha: h.amm.stake(1, &a(ALICE_HK), &a(ALICE)),
                limit_price: None,
                allow_partial: false,
            },
        ))
        .unwrap();
    assert!(ev.iter().any(|e| matches!(e, AmmEvent::StakeAdded(_))));
    assert_eq!(h.amm.stake(1, &a(ALICE_HK), &a(ALICE)), 0);
    h.check();
    h.check_replay();
    let same = signed(
        ALICE,
        CommandBody::SwapStake {
            op: "sw2".into(),
            hotkey: a(ALICE_HK),
            origin_netuid: 2,
            destination_netuid: 2,
            alpha: 1,
            limit_price: None,
            allow_partial: false,
        },
    );
    assert_eq!(h.run(same), Err(Rejection::SameNetuid));
    // A swap limit above the current price ratio leaves nothing to move.
    let limited = signed(
        ALICE,
        CommandBody::SwapStake {
            op: "sw3".into(),
            hotkey: a(ALICE_HK),
            origin_netuid: 2,
            destination_netuid: 1,
            alpha: h.amm.stake(2, &a(ALICE_HK), &a(ALICE)),
            limit_price: Some(100 * 1_000_000_000),
            allow_partial: false,
        },
    );
    assert_eq!(h.run(limited), Err(Rejection::ZeroMaxStakeAmount));
}

#[test]
fn recycle_lowers_alpha_out_and_burn_does_not() {
    let mut h = one_subnet();
    let st = added(&h.stake(ALICE, ALICE_HK, 1, 10 * TAO).unwrap());
    let out0 = h.amm.subnets[&1].alpha_out;
    h.run(signed(
        ALICE,
        CommandBody::RecycleAlpha {
            op: "r".into(),
            hotkey: a(ALICE_HK),
            netuid: 1,
            alpha: 1_000,
        },
    ))
    .unwrap();
    assert_eq!(h.amm.subnets[&1].alpha_out, out0 - 1_000);
    h.run(signed(
        ALICE,
        CommandBody::BurnAlpha {
            op: "b".into(),
            hotkey: a(ALICE_HK),
            netuid: 1,
            alpha: 1_000,
        },
    ))
    .unwrap();
    assert_eq!(h.amm.subnets[&1].alpha_out, out0 - 1_000);
    assert_eq!(h.amm.stake(1, &a(ALICE_HK), &a(ALICE)), st.alpha - 2_000);
    h.check();
    let on_root = signed(
        ALICE,
        CommandBody::BurnAlpha {
            op: "b2".into(),
            hotkey: a(ALICE_HK),
            netuid: 0,
            alpha: 1,
        },
    );
    assert_eq!(
        h.run(on_root),
        Err(Rejection::CannotBurnOrRecycleOnRootSubnet)
    );
    let too_much = signed(
        ALICE,
        CommandBody::RecycleAlpha {
            op: "r2".into(),
            hotkey: a(ALICE_HK),
            netuid: 1,
            alpha: st.alpha,
        },
    );
    assert_eq!(h.run(too_much), Err(Rejection::NotEnoughStakeToWithdraw));
}

#[test]
fn admin_association_genesis_and_block_order() {
    let mut h = one_subnet();
    let p = signed(
        ALICE,
        CommandBody::SetParam {
            netuid: 1,
            param: SubnetParam::FeeRate(100),
        },
    );
    assert_eq!(h.run(p), Err(Rejection::NotAdmin));
    let p = signed(
        ADMIN,
        CommandBody::SetParam {
            netuid: 1,
            param: SubnetParam::FeeRate(60_000),
        },
    );
    assert_eq!(h.run(p), Err(Rejection::InvalidValue));
    // Hotkeys: first association wins.
    h.run(signed(BOB, CommandBody::AssociateHotkey { hotkey: a(50) }))
        .unwrap();
    assert_eq!(
        h.run(signed(
            ALICE,
            CommandBody::AssociateHotkey { hotkey: a(50) }
        )),
        Err(Rejection::NonAssociatedColdKey)
    );
    assert_eq!(
        h.run(signed(BOB, CommandBody::AssociateHotkey { hotkey: a(50) })),
        Ok(vec![])
    );
    // Genesis once, from the genesis origin only.
    let g = Command::new(Origin::Genesis, CommandBody::ApplyGenesis(genesis(vec![])));
    assert_eq!(h.run(g), Err(Rejection::AlreadyApplied));
    let fresh = Amm::default();
    let g = signed(ALICE, CommandBody::ApplyGenesis(genesis(vec![])));
    assert_eq!(fresh.decide(&g), Err(Rejection::BadOrigin));
    let b = ledger(CommandBody::Block {
        height: 1,
        minted: 0,
    });
    assert_eq!(fresh.decide(&b), Err(Rejection::GenesisNotApplied));
    // Blocks: the first may be any height above genesis, then in order.
    h.run(ledger(CommandBody::Block {
        height: 5,
        minted: TAO,
    }))
    .unwrap();
    assert_eq!(
        h.run(ledger(CommandBody::Block {
            height: 7,
            minted: TAO
        })),
        Err(Rejection::BlockOutOfOrder {
            expected: 6,
            got: 7
        })
    );
    assert_eq!(
        h.run(consensus(CommandBody::Block {
            height: 6,
            minted: TAO
        })),
        Err(Rejection::BadOrigin)
    );
    h.run(ledger(CommandBody::Block {
        height: 6,
        minted: TAO,
    }))
    .unwrap();
    h.check();
}

#[test]
fn epoch_pays_incentive_dividends_and_owner_cut() {
    let mut h = one_subnet();
    let st = added(&h.stake(BOB, BOB_HK, 1, 10 * TAO).unwrap());
    for _ in 0..10 {
        h.block(TAO).unwrap();
    }
    let pending = h.amm.subnet_summary(1).unwrap().pending;
    assert!(pending.server > 0 && pending.validator > 0 && pending.owner_cut > 0);
    let ev = h
        .run(consensus(CommandBody::Epoch {
            netuid: 1,
            block: h.amm.height,
            hotkeys: vec![a(ALICE_HK), a(BOB_HK), a(OWNER_HK)],
            incentive: vec![3, 0, 1],
            dividend: vec![0, 1, 0],
        }))
        .unwrap();
    let paid = find(&ev, |e| match e {
        AmmEvent::EpochPaid(p) => Some(p.clone()),
        _ => None,
    });
    // The owner hotkey's quarter of the incentive is withheld.
    assert_eq!(paid.burned, pending.server / 4);
    assert_eq!(
        fixed::types::U96F32::from_bits(paid.miner_burned_bits).to_num::<f64>(),
        0.25
    );
    let alice = h.amm.stake(1, &a(ALICE_HK), &a(ALICE));
    assert_eq!(alice, pending.server * 3 / 4);
    let bob = h.amm.stake(1, &a(BOB_HK), &a(BOB));
    assert!(bob.abs_diff(st.alpha + pending.validator) <= 2, "{bob}");
    assert_eq!(h.amm.stake(1, &a(OWNER_HK), &a(OWNER)), pending.owner_cut);
    assert_eq!(h.amm.subnet_summary(1).unwrap().pending, Default::default());
    h.check();
    h.check_replay();
}

#[test]
fn root_dividends_become_claimable_and_claims_pay_out() {
    let mut h = one_subnet();
    h.stake(BOB, BOB_HK, 1, 10 * TAO).unwrap();
    h.stake(ALICE, BOB_HK, 0, 1_000 * TAO).unwrap();
    // Root sell flag needs Σ EMA > 1: set the EMA high (given state).
    h.amm.subnets.get_mut(&1).unwrap().moving_price_bits = 2i128 << 32;
    for _ in 0..5 {
        h.block(TAO).unwrap();
    }
    assert!(h.amm.subnet_summary(1).unwrap().pending.root > 0);
    h.run(consensus(CommandBody::Epoch {
        netuid: 1,
        block: h.amm.height,
        hotkeys: vec![a(BOB_HK)],
        incentive: vec![0],
        dividend: vec![1],
    }))
    .unwrap();
    let owed = h.amm.portfolio(&a(ALICE)).claimable;
    assert_eq!(owed.len(), 1);
    h.run(signed(
        ALICE,
        CommandBody::SetRootClaimType {
            claim_type: RootClaimType::Keep,
        },
    ))
    .unwrap();
    let ev = h
        .run(signed(
            ALICE,
            CommandBody::ClaimRoot {
                op: "c".into(),
                netuids: vec![],
            },
        ))
        .unwrap();
    assert!(ev.iter().any(|e| matches!(e, AmmEvent::RootClaimed(_))));
    // A deposit into a pool with other holders may round down by one RAO.
    assert!(h.amm.stake(1, &a(BOB_HK), &a(ALICE)).abs_diff(owed[0].2) <= 1);
    assert_eq!(
        h.run(signed(
            ALICE,
            CommandBody::ClaimRoot {
                op: "c2".into(),
                netuids: vec![],
            },
        )),
        Err(Rejection::NothingToClaim)
    );
    h.check();
    h.check_replay();
}

#[test]
fn automatic_claims_swap_root_dividends_into_root_stake() {
    let mut h = one_subnet();
    h.stake(BOB, BOB_HK, 1, 10 * TAO).unwrap();
    h.stake(ALICE, BOB_HK, 0, 1_000 * TAO).unwrap();
    h.amm.subnets.get_mut(&1).unwrap().moving_price_bits = 2i128 << 32;
    for _ in 0..5 {
        h.block(TAO).unwrap();
    }
    h.run(consensus(CommandBody::Epoch {
        netuid: 1,
        block: h.amm.height,
        hotkeys: vec![a(BOB_HK)],
        incentive: vec![0],
        dividend: vec![1],
    }))
    .unwrap();
    let root_before = h.amm.stake(0, &a(BOB_HK), &a(ALICE));
    // Alice is the only root staker: the next block claims for her (Swap).
    let ev = h.block(TAO).unwrap();
    let claim = find(&ev, |e| match e {
        AmmEvent::RootClaimed(c) => Some(c.clone()),
        _ => None,
    });
    assert!(claim.op.starts_with("root-claim/"));
    assert_eq!(claim.kept_shares, None);
    let s = settlement(&ev);
    assert_eq!(s.moves[0].to, TaoDest::Custody(0));
    assert_eq!(
        h.amm.stake(0, &a(BOB_HK), &a(ALICE)),
        root_before + claim.tao_out
    );
    assert!(h.amm.portfolio(&a(ALICE)).claimable.is_empty());
    h.check();
    h.check_replay();
    // The reserved op prefix is refused to users.
    let cmd = signed(
        ALICE,
        CommandBody::ClaimRoot {
            op: "root-claim/1/0".into(),
            netuids: vec![],
        },
    );
    assert_eq!(h.run(cmd), Err(Rejection::InvalidOperationId));
}

#[test]
fn stake_weights_follow_alpha_and_root_stake() {
    let mut h = one_subnet();
    let ev = h.stake(ALICE, ALICE_HK, 0, 100 * TAO).unwrap();
    // Root stake counts at TaoWeight on every subnet the hotkey is on.
    let w = find(&ev, |e| match e {
        AmmEvent::StakeWeights(w) => Some(w.clone()),
        _ => None,
    });
    assert_eq!(w.entries.len(), 1);
    assert_eq!(w.entries[0].0, 1);
    assert_eq!(w.entries[0].2, h.amm.stake_weight(1, &a(ALICE_HK)));
    let tw = 3_320_413_933_267_719_290f64 / u64::MAX as f64;
    // TaoWeight carries 32 fraction bits (U96F32): 100 TAO × 2^-32 ≈ 23 RAO.
    assert!((w.entries[0].2 as f64 - 100e9 * tw).abs() < 30.0);
    // A newly registered hotkey with root stake is reported there too.
    h.run(signed(
        ALICE,
        CommandBody::AssociateHotkey { hotkey: a(60) },
    ))
    .unwrap();
    h.stake(ALICE, 60, 0, 10 * TAO).unwrap();
    let ev = h
        .run(consensus(CommandBody::NeuronRegistered {
            netuid: 1,
            hotkey: a(60),
            replaced: Some(a(BOB_HK)),
        }))
        .unwrap();
    assert!(matches!(&ev[1], AmmEvent::StakeWeights(w) if w.entries[0].1 == a(60)));
    assert!(!h.amm.subnets[&1].neurons.contains(&a(BOB_HK)));
    h.check();
}

#[test]
fn queries_render_as_json() {
    let mut h = one_subnet();
    h.stake(ALICE, ALICE_HK, 1, 10 * TAO).unwrap();
    h.block(TAO).unwrap();
    let s = serde_json::to_value(h.amm.subnet_summaries()).unwrap();
    assert!(s[1]["price_bits"].is_string());
    assert!(s[1]["price"].as_str().unwrap().starts_with("1.0"));
    let p = serde_json::to_value(h.amm.portfolio(&a(ALICE))).unwrap();
    assert_eq!(p["positions"].as_array().unwrap().len(), 1);
    serde_json::to_value(h.amm.totals()).unwrap();
    assert_eq!(h.amm.totals().pending_ops, 0);
}

#[test]
fn move_and_transfer_bad_inputs_are_named_errors() {
    let mut h = Harness::new(genesis(vec![
        subnet(1, 1_000 * TAO, 1_000 * TAO),
        subnet(2, 1_000 * TAO, 1_000 * TAO),
    ]));
    let st = added(&h.stake(ALICE, ALICE_HK, 1, 10 * TAO).unwrap());
    let mv = |dest_hk: u8, n1: u16, n2: u16, alpha: u64| {
        signed(
            ALICE,
            CommandBody::MoveStake {
                op: "m".into(),
                origin_hotkey: a(ALICE_HK),
                destination_hotkey: a(dest_hk),
                origin_netuid: n1,
                destination_netuid: n2,
                alpha,
            },
        )
    };
    let cases = [
        (mv(ALICE_HK, 1, 1, 1_000), Rejection::SameNetuid),
        (mv(77, 1, 2, 1_000), Rejection::HotKeyAccountNotExists),
        (mv(BOB_HK, 1, 9, 1_000), Rejection::SubnetNotExists),
        (
            mv(BOB_HK, 1, 2, st.alpha + 1),
            Rejection::NotEnoughStakeToWithdraw,
        ),
        (mv(BOB_HK, 1, 2, 0), Rejection::AmountTooLow),
        // Below min stake in value: same subnet and across subnets.
        (mv(BOB_HK, 1, 1, 1_000), Rejection::AmountTooLow),
        (mv(BOB_HK, 1, 2, 1_000), Rejection::AmountTooLow),
    ];
    for (cmd, want) in cases {
        assert_eq!(h.run(cmd.clone()), Err(want), "{cmd:?}");
    }
    let tr = signed(
        ALICE,
        CommandBody::TransferStake {
            op: "t".into(),
            destination_coldkey: a(ALICE),
            hotkey: a(ALICE_HK),
            origin_netuid: 1,
            destination_netuid: 1,
            alpha: 1_000,
        },
    );
    assert_eq!(h.run(tr), Err(Rejection::SameNetuid));
    let tr = signed(
        BOB,
        CommandBody::TransferStake {
            op: "t".into(),
            destination_coldkey: a(ALICE),
            hotkey: a(ALICE_HK),
            origin_netuid: 1,
            destination_netuid: 2,
            alpha: 1_000,
        },
    );
    assert_eq!(h.run(tr), Err(Rejection::NotEnoughStakeToWithdraw));
    // A transfer to another coldkey on the same subnet is a share transfer.
    let tr = signed(
        ALICE,
        CommandBody::TransferStake {
            op: "t2".into(),
            destination_coldkey: a(BOB),
            hotkey: a(ALICE_HK),
            origin_netuid: 1,
            destination_netuid: 1,
            alpha: st.alpha,
        },
    );
    assert!(matches!(
        h.run(tr).unwrap()[0],
        AmmEvent::StakeTransferred(_)
    ));
    assert_eq!(h.amm.stake(1, &a(ALICE_HK), &a(BOB)), st.alpha);
    h.check();
}
