//! The root network (§1.1) and the senate (§2.2 v2): 64 slots, replacement
//! of the weakest by root stake, rate limits, forced delegates.

mod common;

use common::*;
use governance_core::event::*;
use governance_core::*;
use keys::AccountId;

fn key(i: u16) -> AccountId {
    let mut b = [0x40u8; 32];
    b[..2].copy_from_slice(&i.to_be_bytes());
    AccountId(b)
}

fn root_reg(who: AccountId, hotkey: AccountId) -> Command {
    signed(who, CommandBody::RootRegister { hotkey })
}

/// Root full with key(0..64) at stakes 1000·(i+1); one registration per
/// block, counters reset on root epochs.
fn full_root() -> Governance {
    let mut s = world();
    let stakes: Vec<_> = (0..65)
        .map(|i| (key(i), 1_000 * (u64::from(i) + 1)))
        .collect();
    run(&mut s, [root_stakes(&stakes)]);
    for i in 0..64u16 {
        let h = s.height();
        // respect the per-interval cap of 3: skip to the next root epoch
        if s.root.regs_interval >= 3 {
            advance_to(&mut s, (h / 101 + 1) * 101 - 1);
        } else {
            advance_to(&mut s, h + 1);
        }
        run(&mut s, [root_reg(ck(1), key(i))]);
    }
    s
}

#[test]
fn first_registration_appends_forces_a_delegate_and_takes_a_seat() {
    let s = world();
    let s = given(s).when(root_reg(ck(1), hk(1))).then(&[
        GovernanceEvent::HotkeyAssociated(HotkeyAssociated {
            hotkey: hk(1),
            coldkey: ck(1),
        }),
        GovernanceEvent::RootRegistered(RootRegistered {
            hotkey: hk(1),
            coldkey: ck(1),
            uid: 0,
            replaced: None,
            block: 1,
        }),
        GovernanceEvent::DelegateTakeSet(DelegateTakeSet {
            hotkey: hk(1),
            take: 11_796,
            block: 1,
            forced: true,
        }),
        GovernanceEvent::SenateChanged(SenateChanged {
            joined: Some(hk(1)),
            left: None,
        }),
    ]);
    assert_eq!(s.delegate_take(&hk(1)), 11_796);
    rejects(
        &s,
        root_reg(ck(1), hk(1)),
        Rejection::TooManyRegistrationsThisBlock,
    );
    let mut s = s;
    advance_to(&mut s, 2);
    rejects(
        &s,
        root_reg(ck(1), hk(1)),
        Rejection::HotKeyAlreadyRegisteredInSubNet,
    );
}

#[test]
fn at_most_three_per_root_interval() {
    let mut s = world();
    for i in 0..3u8 {
        advance(&mut s, 1);
        run(&mut s, [root_reg(ck(1), hk(i))]);
    }
    advance(&mut s, 1);
    rejects(
        &s,
        root_reg(ck(1), hk(3)),
        Rejection::TooManyRegistrationsThisInterval,
    );
    // the counter resets on the root epoch: (block + 1) mod 101 == 0
    advance_to(&mut s, 100);
    run(&mut s, [root_reg(ck(1), hk(3))]);
}

#[test]
fn full_root_replaces_the_weakest_only_with_strictly_more_stake() {
    let mut s = full_root();
    assert_eq!(s.root.members.len(), 64);
    // every newcomer was stronger than the weakest senator: top 12 sit
    let top: std::collections::BTreeSet<_> = (52..64).map(key).collect();
    assert_eq!(s.senate, top);
    advance(&mut s, 101);
    // the weakest root member is key(0) (1 000) at uid 0
    run(&mut s, [root_stakes(&[(key(64), 1_000)])]);
    rejects(&s, root_reg(ck(2), key(64)), Rejection::StakeTooLowForRoot);
    run(&mut s, [root_stakes(&[(key(64), 1_001)])]);
    let (ev, s) = given(s).when(root_reg(ck(2), key(64))).then_ok();
    assert!(ev
        .iter()
        .any(|e| matches!(e, GovernanceEvent::RootRegistered(r)
        if r.uid == 0 && r.replaced == Some(key(0)))));
    assert_eq!(s.root.members[0], key(64));
    assert!(!s.root.members.contains(&key(0)));
    // too weak for the senate
    assert!(!ev
        .iter()
        .any(|e| matches!(e, GovernanceEvent::SenateChanged(_))));
}

#[test]
fn a_replaced_senator_loses_its_seat() {
    let mut s = full_root();
    advance(&mut s, 101);
    run(&mut s, [root_stakes(&[(key(52), 1), (key(64), 2)])]);
    let (ev, s) = given(s).when(root_reg(ck(2), key(64))).then_ok();
    assert!(ev
        .iter()
        .any(|e| matches!(e, GovernanceEvent::RootRegistered(r)
        if r.uid == 52 && r.replaced == Some(key(52)))));
    assert!(ev.contains(&GovernanceEvent::SenateChanged(SenateChanged {
        joined: Some(key(64)),
        left: Some(key(52)),
    })));
    assert_eq!(s.senate.len(), 12);
}

#[test]
fn rootless_world_refuses() {
    let mut s = Governance::default();
    run(&mut s, [block(1)]);
    rejects(
        &s,
        root_reg(ck(1), hk(1)),
        Rejection::RootNetworkDoesNotExist,
    );
}

#[test]
fn adjust_senate_takes_a_weaker_seat() {
    let mut s = full_root();
    run(&mut s, [root_stakes(&[(key(12), 60_000)])]);
    rejects(
        &s,
        signed(ck(2), CommandBody::AdjustSenate { hotkey: key(12) }),
        Rejection::NonAssociatedColdKey,
    );
    rejects(
        &s,
        signed(ck(1), CommandBody::AdjustSenate { hotkey: key(60) }),
        Rejection::CouldNotJoinSenate,
    );
    run(
        &mut s,
        [signed(ck(1), CommandBody::AdjustSenate { hotkey: key(12) })],
    );
    assert!(s.senate.contains(&key(12)));
    assert!(!s.senate.contains(&key(52)), "the weakest senator left");
    // key(13) (14 000) is weaker than every senator
    rejects(
        &s,
        signed(ck(1), CommandBody::AdjustSenate { hotkey: key(13) }),
        Rejection::CouldNotJoinSenate,
    );
}

#[test]
fn adjust_senate_needs_a_root_member() {
    let mut s = world_with(no_rate_limit());
    rejects(
        &s,
        signed(ck(1), CommandBody::AdjustSenate { hotkey: hk(1) }),
        Rejection::HotKeyAccountNotExists,
    );
    open_subnet(&mut s, ck(1), hk(1), "a");
    rejects(
        &s,
        signed(ck(1), CommandBody::AdjustSenate { hotkey: hk(1) }),
        Rejection::HotKeyNotRegisteredInSubNet,
    );
}
