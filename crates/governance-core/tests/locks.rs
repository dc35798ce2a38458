//! Stake locks and conviction (§5.6): exponential unlock with the spec's
//! half-life, maturity, perpetual locks, top-up, move, the unstake guard,
//! the flagged subnet takeover.

mod common;

use common::*;
use governance_core::event::*;
use governance_core::*;

/// Subnet 1 (owner ck(1)/hk(1)); hk(2) of ck(2) and hk(3) of ck(3)
/// registered; ck(2) holds `alpha` on subnet 1.
fn world_with_alpha(alpha: u64) -> Governance {
    let mut s = world_with_subnet();
    for i in 2..=3u8 {
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
    run(
        &mut s,
        [stakes(StakeReport {
            coldkey_alpha: vec![(ck(2), 1, alpha)],
            ..StakeReport::default()
        })],
    );
    s
}

fn lock(who: u8, hot: u8, amount: u64) -> Command {
    signed(
        ck(who),
        CommandBody::LockStake {
            hotkey: hk(hot),
            netuid: 1,
            amount,
        },
    )
}

fn close_to(actual: u64, expected: f64, tol: f64) {
    // f64 only to compare with the closed form
    let a = actual as f64;
    assert!(
        (a - expected).abs() <= tol,
        "{actual} not within {tol} of {expected}"
    );
}

#[test]
fn a_lock_halves_in_about_648000_blocks() {
    let s = world_with_alpha(1_000 * TAO);
    let s = given(s)
        .when(lock(2, 2, 1_000 * TAO))
        .then(&[GovernanceEvent::LockUpdated(LockUpdated {
            coldkey: ck(2),
            netuid: 1,
            hotkey: hk(2),
            locked: 1_000 * TAO,
            conviction: 0,
            perpetual: false,
            block: 1,
        })]);
    assert_eq!(s.available_stake(&ck(2), 1, 1), 0);
    // τ = 934 866 ⇒ half-life τ·ln 2 ≈ 648 000 blocks (90 days)
    let l = s.lock_at(&ck(2), 1, 1 + 648_000).unwrap();
    let m = 1e12 * (-648_000f64 / 934_866f64).exp();
    close_to(l.locked, m, 1_000.0);
    close_to(l.locked, 500e9, 0.001e9);
    assert_eq!(
        s.available_stake(&ck(2), 1, 1 + 648_000),
        1_000 * TAO - l.locked
    );
    // τu = τm: conviction = m·(t/τ)·e^(−t/τ), e^(−1)·m at t = τ
    let l = s.lock_at(&ck(2), 1, 1 + 934_866).unwrap();
    close_to(l.conviction, 1e12 * (-1f64).exp(), 1_000.0);
    close_to(l.locked, 1e12 * (-1f64).exp(), 1_000.0);
}

#[test]
fn perpetual_locks_do_not_decay_and_mature_to_their_mass() {
    let mut s = world_with_alpha(1_000 * TAO);
    run(
        &mut s,
        [
            lock(2, 2, 1_000 * TAO),
            signed(
                ck(2),
                CommandBody::SetPerpetualLock {
                    netuid: 1,
                    perpetual: true,
                },
            ),
        ],
    );
    let l = s.lock_at(&ck(2), 1, 1 + 934_866).unwrap();
    assert_eq!(l.locked, 1_000 * TAO);
    close_to(l.conviction, 1e12 * (1.0 - (-1f64).exp()), 1_000.0);
    assert_eq!(s.available_stake(&ck(2), 1, 10_000_000), 0);
}

#[test]
fn unequal_rates_use_the_general_gamma() {
    // τu = 2τm: γ = τu(e^(−t/τu) − e^(−t/τm))/(τu − τm)
    let (tu, tm, t) = (200_000f64, 100_000f64, 100_000u64);
    let (m, c) = math::roll_lock(1_000 * TAO, 0, t, false, 200_000, 100_000);
    let x = t as f64;
    let gamma = tu * ((-x / tu).exp() - (-x / tm).exp()) / (tu - tm);
    close_to(m, 1e12 * (-x / tu).exp(), 1_000.0);
    close_to(c, 1e12 * gamma, 1_000.0);
    let (_, c2) = math::roll_lock(1_000 * TAO, 0, t, false, 100_000, 200_000);
    let gamma2 = tm * ((-x / tm).exp() - (-x / tu).exp()) / (tm - tu);
    close_to(c2, 1e12 * gamma2, 1_000.0);
}

#[test]
fn top_up_adds_to_the_rolled_mass_within_the_stake() {
    let mut s = world_with_alpha(1_000 * TAO);
    run(&mut s, [lock(2, 2, 400 * TAO)]);
    advance_to(&mut s, 1_001);
    let rolled = s.lock_at(&ck(2), 1, 1_001).unwrap().locked;
    assert!(rolled < 400 * TAO);
    run(&mut s, [lock(2, 2, 100 * TAO)]);
    assert_eq!(s.locks[&(ck(2), 1)].locked, rolled + 100 * TAO);
    rejects(
        &s,
        lock(2, 2, 600 * TAO),
        Rejection::InsufficientStakeForLock,
    );
    rejects(&s, lock(2, 3, TAO), Rejection::LockHotkeyMismatch);
    rejects(&s, lock(2, 2, 0), Rejection::AmountTooLow);
    rejects(&s, lock(2, 42, TAO), Rejection::HotKeyAccountNotExists);
    rejects(
        &s,
        signed(
            ck(2),
            CommandBody::LockStake {
                hotkey: hk(2),
                netuid: 9,
                amount: TAO,
            },
        ),
        Rejection::SubnetNotExists,
    );
}

#[test]
fn locks_on_the_owner_hotkey_are_fully_convinced_at_once() {
    let mut s = world_with_alpha(1_000 * TAO);
    run(&mut s, [lock(2, 1, 10 * TAO)]);
    assert_eq!(s.locks[&(ck(2), 1)].conviction, 10 * TAO);
}

#[test]
fn move_lock_keeps_conviction_only_between_hotkeys_of_one_owner() {
    let mut s = world_with_alpha(1_000 * TAO);
    let mv = |h: u8| {
        signed(
            ck(2),
            CommandBody::MoveLock {
                destination_hotkey: hk(h),
                netuid: 1,
            },
        )
    };
    rejects(&s, mv(3), Rejection::NoExistingLock);
    rejects(
        &s,
        signed(
            ck(2),
            CommandBody::SetPerpetualLock {
                netuid: 1,
                perpetual: true,
            },
        ),
        Rejection::NoExistingLock,
    );
    run(&mut s, [lock(2, 2, 100 * TAO)]);
    advance_to(&mut s, 10_001);
    // a second hotkey of ck(2)
    run(
        &mut s,
        [
            signed(
                ck(2),
                CommandBody::BurnedRegister {
                    op: "r9".into(),
                    netuid: 1,
                    hotkey: hk(9),
                    limit_price: None,
                },
            ),
            mv(9),
        ],
    );
    let l = &s.locks[&(ck(2), 1)];
    assert_eq!(l.hotkey, hk(9));
    assert!(l.conviction > 0);
    rejects(&s, mv(42), Rejection::HotKeyAccountNotExists);
    run(&mut s, [mv(3)]);
    assert_eq!(s.locks[&(ck(2), 1)].conviction, 0, "another owner: reset");
}

fn epoch_ran() -> Command {
    consensus(CommandBody::EpochSchedule {
        netuid: 1,
        next_epoch_block: 0,
        trigger_pending: false,
        epoch_ran: true,
    })
}

/// Subnet 1 "a year old" with ck(2) locking 2 000 alpha on hk(2), matured
/// with short rates (τ = 100) for 100 blocks; alpha out 5 000.
fn takeover_world(flag: bool) -> Governance {
    let mut s = world_with_alpha(2_000 * TAO);
    // test shortcut: age the subnet instead of observing 2.6M blocks
    s.subnets.get_mut(&1).unwrap().registered_at = 0;
    s.height = governance_core::params::ONE_YEAR;
    let set = |p| admin_cmd(AdminAction::SetGlobal(p));
    run(
        &mut s,
        [
            set(GlobalParam::UnlockRate(100)),
            set(GlobalParam::MaturityRate(100)),
            set(GlobalParam::ConvictionTakeover(flag)),
            amm(CommandBody::Market {
                entries: vec![(1, 1 << 32, 5_000 * TAO)],
                credits: vec![],
            }),
            lock(2, 2, 2_000 * TAO),
        ],
    );
    advance(&mut s, 100);
    s
}

#[test]
fn the_conviction_takeover_is_off_by_default() {
    assert!(!Config::default().conviction_takeover);
    let s = takeover_world(false);
    let (ev, s) = given(s).when(epoch_ran()).then_ok();
    assert_eq!(ev.len(), 1);
    assert_eq!(s.subnets[&1].owner, ck(1));
}

#[test]
fn the_conviction_leader_takes_over_when_flagged() {
    let s = takeover_world(true);
    // 2 000·e^(−1) ≈ 736 alpha of conviction ≥ 10 % of 5 000
    let c = s.hotkey_convictions(1, s.height());
    assert!(c[&hk(2)] > 500 * TAO);
    let (ev, s) = given(s).when(epoch_ran()).then_ok();
    assert_eq!(
        ev[1],
        GovernanceEvent::SubnetOwnerChanged(SubnetOwnerChanged {
            netuid: 1,
            old_owner: ck(1),
            new_owner: ck(2),
            new_owner_hotkey: hk(2),
        })
    );
    assert_eq!(s.subnets[&1].owner, ck(2));
    assert_eq!(s.subnets[&1].owner_hotkey, hk(2));
}

#[test]
fn no_takeover_below_ten_percent_of_alpha_out() {
    let mut s = takeover_world(true);
    run(
        &mut s,
        [amm(CommandBody::Market {
            entries: vec![(1, 1 << 32, 100_000 * TAO)],
            credits: vec![],
        })],
    );
    let (ev, _) = given(s).when(epoch_ran()).then_ok();
    assert_eq!(ev.len(), 1);
}

#[test]
fn dust_locks_are_deleted_at_the_next_epoch() {
    let mut s = world_with_alpha(1_000 * TAO);
    let set = |p| admin_cmd(AdminAction::SetGlobal(p));
    run(
        &mut s,
        [
            set(GlobalParam::UnlockRate(10)),
            set(GlobalParam::MaturityRate(10)),
            lock(2, 2, 10_000),
        ],
    );
    advance(&mut s, 100);
    // e^(−10)·10 000 < 100 and the conviction too
    assert!(s.lock_at(&ck(2), 1, s.height()).is_none());
    assert_eq!(s.available_stake(&ck(2), 1, s.height()), 1_000 * TAO);
    let (ev, s) = given(s).when(epoch_ran()).then_ok();
    assert_eq!(
        ev[1],
        GovernanceEvent::LockRemoved(LockRemoved {
            coldkey: ck(2),
            netuid: 1
        })
    );
    assert!(s.locks.is_empty());
}

#[test]
fn a_top_up_past_u64_is_an_overflow() {
    let mut s = world_with_alpha(u64::MAX);
    run(&mut s, [lock(2, 2, u64::MAX)]);
    rejects(&s, lock(2, 2, 1), Rejection::Overflow);
}
