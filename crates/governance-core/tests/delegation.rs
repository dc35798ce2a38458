//! Delegation (§5.1–5.3): delegate take limits and rate limit, childkeys
//! with cooldown, childkey take.

mod common;

use common::*;
use governance_core::event::*;
use governance_core::*;

fn take(who: u8, hot: u8, t: u16, up: bool) -> Command {
    let body = if up {
        CommandBody::IncreaseTake {
            hotkey: hk(hot),
            take: t,
        }
    } else {
        CommandBody::DecreaseTake {
            hotkey: hk(hot),
            take: t,
        }
    };
    signed(ck(who), body)
}

fn children(who: u8, hot: u8, netuid: u16, kids: &[(u64, u8)]) -> Command {
    signed(
        ck(who),
        CommandBody::SetChildren {
            hotkey: hk(hot),
            netuid,
            children: kids.iter().map(|(p, k)| (*p, hk(*k))).collect(),
        },
    )
}

/// Subnet 1 (owner ck(1)/hk(1)) plus hotkeys hk(2..=8) of ck(2..=8) on it.
fn world_with_hotkeys() -> Governance {
    let mut s = world_with_subnet();
    for i in 2..=8u8 {
        let op = format!("r{i}");
        run(
            &mut s,
            [
                signed(
                    ck(i),
                    CommandBody::BurnedRegister {
                        op: op.clone(),
                        netuid: 1,
                        hotkey: hk(i),
                        limit_price: None,
                    },
                ),
                funded(&op),
                consensus(CommandBody::NeuronRegistered {
                    op,
                    uid: u16::from(i) - 1,
                    replaced: None,
                }),
            ],
        );
    }
    s
}

#[test]
fn default_take_is_18_percent_and_decreases_any_time() {
    let mut s = world_with_hotkeys();
    assert_eq!(s.delegate_take(&hk(2)), 11_796);
    run(&mut s, [take(2, 2, 5_000, false)]);
    let s = given(s)
        .when(take(2, 2, 4_000, false))
        .then(&[GovernanceEvent::DelegateTakeSet(DelegateTakeSet {
            hotkey: hk(2),
            take: 4_000,
            block: 1,
            forced: false,
        })]);
    rejects(&s, take(2, 2, 4_000, false), Rejection::DelegateTakeTooLow);
    rejects(&s, take(2, 2, 4_500, false), Rejection::DelegateTakeTooLow);
    let mut s = s;
    run(
        &mut s,
        [admin_cmd(AdminAction::SetGlobal(
            GlobalParam::MinDelegateTake(1_000),
        ))],
    );
    rejects(&s, take(2, 2, 999, false), Rejection::DelegateTakeTooLow);
    run(&mut s, [take(2, 2, 1_000, false)]);
}

#[test]
fn increase_is_rate_limited_216000_blocks_and_capped_at_18_percent() {
    let mut s = world_with_hotkeys();
    // never changed: an increase is not rate limited, but 18 % is the max
    rejects(&s, take(2, 2, 11_797, true), Rejection::DelegateTakeTooHigh);
    rejects(&s, take(2, 2, 11_796, true), Rejection::DelegateTakeTooLow);
    run(&mut s, [take(2, 2, 5_000, false)]);
    advance_to(&mut s, 1 + 216_000);
    rejects(
        &s,
        take(2, 2, 6_000, true),
        Rejection::DelegateTxRateLimitExceeded,
    );
    advance_to(&mut s, 1 + 216_001);
    run(&mut s, [take(2, 2, 6_000, true)]);
    assert_eq!(s.delegate_take(&hk(2)), 6_000);
    rejects(
        &s,
        take(2, 2, 7_000, true),
        Rejection::DelegateTxRateLimitExceeded,
    );
}

#[test]
fn take_needs_the_owning_coldkey() {
    let s = world_with_hotkeys();
    rejects(&s, take(3, 2, 1, false), Rejection::NonAssociatedColdKey);
    rejects(&s, take(2, 42, 1, false), Rejection::HotKeyAccountNotExists);
}

#[test]
fn children_wait_for_the_cooldown_and_the_next_epoch() {
    let mut s = world_with_hotkeys();
    run(
        &mut s,
        [signed(ck(1), CommandBody::StartCall { netuid: 1 })],
    );
    let s1 = given(s.clone())
        .when(children(2, 2, 1, &[(u64::MAX / 2, 3), (u64::MAX / 2, 4)]))
        .then(&[GovernanceEvent::ChildrenScheduled(ChildrenScheduled {
            hotkey: hk(2),
            netuid: 1,
            children: vec![(u64::MAX / 2, hk(3)), (u64::MAX / 2, hk(4))],
            apply_at: 1 + 7_200,
            block: 1,
        })]);
    s = s1;
    let epoch = |next| {
        consensus(CommandBody::EpochSchedule {
            netuid: 1,
            next_epoch_block: next,
            trigger_pending: false,
            epoch_ran: true,
        })
    };
    advance_to(&mut s, 7_200);
    let ev = run(&mut s, [epoch(7_560)]);
    assert_eq!(ev.len(), 1, "not yet");
    assert!(s.children.is_empty());
    advance_to(&mut s, 7_201);
    let ev = run(&mut s, [epoch(7_561)]);
    assert!(
        ev.contains(&GovernanceEvent::ChildrenApplied(ChildrenApplied {
            hotkey: hk(2),
            netuid: 1,
            children: vec![(u64::MAX / 2, hk(3)), (u64::MAX / 2, hk(4))],
        }))
    );
    assert_eq!(s.children[&(hk(2), 1)].len(), 2);
    // hk(3) is a child of hk(2): it cannot make hk(2) its child
    advance(&mut s, 1);
    rejects(
        &s,
        children(3, 3, 1, &[(1, 2)]),
        Rejection::ChildParentInconsistency,
    );
}

#[test]
fn before_start_call_children_apply_at_once() {
    let s = world_with_hotkeys();
    let (ev, s) = given(s).when(children(2, 2, 1, &[(7, 3)])).then_ok();
    assert_eq!(ev.len(), 2);
    assert_eq!(s.children[&(hk(2), 1)], vec![(7, hk(3))]);
}

#[test]
fn set_children_errors() {
    let mut s = world_with_hotkeys();
    rejects(
        &s,
        children(2, 2, 1, &[(1, 3), (1, 4), (1, 5), (1, 6), (1, 7), (1, 8)]),
        Rejection::TooManyChildren,
    );
    rejects(
        &s,
        children(2, 2, 1, &[(1, 3), (2, 3)]),
        Rejection::DuplicateChild,
    );
    rejects(&s, children(2, 2, 1, &[(1, 2)]), Rejection::InvalidChild);
    rejects(
        &s,
        children(2, 2, 1, &[(u64::MAX, 3), (1, 4)]),
        Rejection::ProportionOverflow,
    );
    rejects(
        &s,
        children(2, 2, 0, &[(1, 3)]),
        Rejection::RegistrationNotPermittedOnRootSubnet,
    );
    rejects(&s, children(2, 2, 9, &[(1, 3)]), Rejection::SubnetNotExists);
    rejects(
        &s,
        children(3, 2, 1, &[(1, 4)]),
        Rejection::NonAssociatedColdKey,
    );
    run(
        &mut s,
        [admin_cmd(AdminAction::SetGlobal(
            GlobalParam::StakeThreshold(1_000),
        ))],
    );
    rejects(
        &s,
        children(2, 2, 1, &[(1, 3)]),
        Rejection::NotEnoughStakeToSetChildkeys,
    );
    // the owner hotkey is exempt; an empty list too
    run(
        &mut s,
        [children(1, 1, 1, &[(1, 3)]), children(2, 2, 1, &[])],
    );
    run(
        &mut s,
        [stakes(StakeReport {
            // 1 000 alpha on root at a price of 1: a total stake of 1 000.
            hotkey_alpha: vec![(hk(2), 0, 1_000)],
            prices: vec![(0, 1u128 << 64)],
            ..StakeReport::default()
        })],
    );
    // 150-block rate limit per (hotkey, subnet)
    rejects(
        &s,
        children(2, 2, 1, &[(1, 3)]),
        Rejection::TxRateLimitExceeded,
    );
    advance_to(&mut s, 151);
    run(&mut s, [children(2, 2, 1, &[(1, 3)])]);
}

#[test]
fn childkey_take_bounds_and_rate_limit() {
    let mut s = world_with_hotkeys();
    let ct = |who: u8, t: u16| {
        signed(
            ck(who),
            CommandBody::SetChildkeyTake {
                hotkey: hk(2),
                netuid: 1,
                take: t,
            },
        )
    };
    rejects(&s, ct(2, 11_797), Rejection::InvalidChildkeyTake);
    rejects(&s, ct(3, 1), Rejection::NonAssociatedColdKey);
    run(&mut s, [ct(2, 1_000)]);
    rejects(&s, ct(2, 2_000), Rejection::TxChildkeyTakeRateLimitExceeded);
    run(&mut s, [ct(2, 500)]);
    // the subnet minimum (owner) raises the floor
    run(
        &mut s,
        [signed(
            ck(1),
            CommandBody::SetHyperparameter {
                netuid: 1,
                param: Hyperparameter::MinChildkeyTake(600),
            },
        )],
    );
    rejects(&s, ct(2, 599), Rejection::InvalidChildkeyTake);
    advance_to(&mut s, 1 + 216_000);
    run(&mut s, [ct(2, 11_796)]);
}
