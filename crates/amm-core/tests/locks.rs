//! Given governance's stake locks mirrored into the amm, when alpha would
//! leave a coldkey's stake, then the unstake guard (governance.md §5.6)
//! allows what is available and refuses the rest with `StakeUnavailable`.

mod common;

use aggregate::Aggregate;
use amm_core::event::*;
use amm_core::*;
use common::*;
use governance_core::math::roll_lock;

const TAO: u64 = 1_000_000_000;

fn two_subnets() -> Harness {
    Harness::new(genesis(vec![
        subnet(1, 1_000 * TAO, 1_000 * TAO),
        subnet(2, 1_000 * TAO, 1_000 * TAO),
    ]))
}

/// Alice with 100 TAO staked on subnet 1 under her hotkey; her alpha.
fn alice_staked() -> (Harness, u64) {
    let mut h = two_subnets();
    h.stake(ALICE, ALICE_HK, 1, 100 * TAO).unwrap();
    let alpha = h.amm.coldkey_alpha(&a(ALICE), 1);
    assert!(alpha > 0);
    (h, alpha)
}

fn set_lock(
    h: &mut Harness,
    who: u8,
    netuid: u16,
    locked: u64,
    perpetual: bool,
    block: u64,
) -> Vec<AmmEvent> {
    h.run(governance(CommandBody::SetLock {
        coldkey: a(who),
        netuid,
        locked,
        perpetual,
        block,
    }))
    .unwrap()
}

fn remove(h: &mut Harness, who: u8, hotkey: u8, netuid: u16, alpha: u64) -> Result<(), Rejection> {
    let op = h.next_op();
    h.run(signed(
        who,
        CommandBody::RemoveStake {
            op,
            hotkey: a(hotkey),
            netuid,
            alpha,
            limit_price: None,
            allow_partial: false,
        },
    ))
    .map(|_| ())
}

/// Runs the amm's first block at `height` (the first block may jump).
fn first_block_at(h: &mut Harness, height: u64) {
    h.run(ledger(CommandBody::Block { height, minted: 0 }))
        .unwrap();
    assert_eq!(h.amm.height, height);
}

/// A guarded command fails with `StakeUnavailable` and changes nothing.
fn refused(h: &mut Harness, cmd: Command) {
    let before = h.amm.digest();
    assert_eq!(h.run(cmd), Err(Rejection::StakeUnavailable));
    assert_eq!(h.amm.digest(), before);
}

#[test]
fn set_lock_is_mirrored_and_the_portfolio_shows_locked_and_available() {
    let (mut h, alpha) = alice_staked();
    let ev = set_lock(&mut h, ALICE, 1, alpha / 2, false, 0);
    assert_eq!(
        ev,
        vec![AmmEvent::LockMirrored(LockMirrored {
            coldkey: a(ALICE),
            netuid: 1,
            locked: alpha / 2,
            perpetual: false,
            block: 0,
        })]
    );
    assert_eq!(
        h.amm.lock(&a(ALICE), 1),
        Some(&StakeLock {
            locked: alpha / 2,
            perpetual: false,
            last_update: 0,
        })
    );
    let p = h.amm.portfolio(&a(ALICE));
    assert_eq!(p.positions.len(), 1);
    assert_eq!(p.positions[0].alpha, alpha);
    assert_eq!(p.positions[0].locked, alpha / 2);
    assert_eq!(p.positions[0].available, alpha - alpha / 2);
    // A new lock replaces the old one.
    set_lock(&mut h, ALICE, 1, alpha / 4, true, 0);
    assert_eq!(h.amm.locked_alpha(&a(ALICE), 1), alpha / 4);
    assert!(h.amm.lock(&a(ALICE), 1).unwrap().perpetual);
    h.check();
    h.check_replay();
}

#[test]
fn unstake_within_available_works() {
    let (mut h, alpha) = alice_staked();
    set_lock(&mut h, ALICE, 1, alpha / 2, false, 0);
    remove(&mut h, ALICE, ALICE_HK, 1, alpha / 4).unwrap();
    let left = h.amm.coldkey_alpha(&a(ALICE), 1);
    assert!(left >= alpha / 2);
    assert_eq!(h.amm.available_alpha(&a(ALICE), 1), left - alpha / 2);
    h.check();
    h.check_replay();
}

#[test]
fn unstake_beyond_available_is_stake_unavailable_and_changes_nothing() {
    let (mut h, alpha) = alice_staked();
    set_lock(&mut h, ALICE, 1, alpha / 2, false, 0);
    let available = h.amm.available_alpha(&a(ALICE), 1);
    let before = h.amm.digest();
    assert_eq!(
        remove(&mut h, ALICE, ALICE_HK, 1, available + 1),
        Err(Rejection::StakeUnavailable)
    );
    assert_eq!(
        remove(&mut h, ALICE, ALICE_HK, 1, alpha),
        Err(Rejection::StakeUnavailable)
    );
    assert_eq!(h.amm.digest(), before);
    assert_eq!(Rejection::StakeUnavailable.code(), "StakeUnavailable");
    // Everything else about the command still comes first.
    assert_eq!(
        remove(&mut h, ALICE, ALICE_HK, 1, alpha + 1),
        Err(Rejection::NotEnoughStakeToWithdraw)
    );
}

#[test]
fn the_lock_decays_with_the_unlock_rate_as_governance_rolls_it() {
    let (mut h, alpha) = alice_staked();
    let tau = governance_core::Config::default().unlock_rate;
    set_lock(&mut h, ALICE, 1, alpha, false, 0);
    assert_eq!(h.amm.available_alpha(&a(ALICE), 1), 0);
    // About one half-life later.
    first_block_at(&mut h, 648_000);
    let (expect, _) = roll_lock(alpha, 0, 648_000, false, tau, tau);
    assert!(expect < alpha * 51 / 100 && expect > alpha * 49 / 100);
    assert_eq!(h.amm.locked_alpha(&a(ALICE), 1), expect);
    let total = h.amm.coldkey_alpha(&a(ALICE), 1);
    assert_eq!(h.amm.available_alpha(&a(ALICE), 1), total - expect);
    // More than what decayed is still refused, a good part of it is not.
    assert_eq!(
        remove(&mut h, ALICE, ALICE_HK, 1, total - expect + 1),
        Err(Rejection::StakeUnavailable)
    );
    remove(&mut h, ALICE, ALICE_HK, 1, (total - expect) * 9 / 10).unwrap();
    assert!(h.amm.coldkey_alpha(&a(ALICE), 1) >= expect);
    h.check();
    h.check_replay();
}

#[test]
fn a_set_unlock_rate_rolls_block_by_block_from_the_lock_block() {
    let (mut h, alpha) = alice_staked();
    let ev = h
        .run(governance(CommandBody::SetUnlockRate { blocks: 100 }))
        .unwrap();
    assert_eq!(
        ev,
        vec![AmmEvent::UnlockRateSet(UnlockRateSet { blocks: 100 })]
    );
    assert_eq!(h.amm.unlock_rate, 100);
    first_block_at(&mut h, 10);
    // The lock's state as of block 10 (governance's last_update).
    set_lock(&mut h, ALICE, 1, alpha, false, 10);
    assert_eq!(h.amm.locked_alpha(&a(ALICE), 1), alpha);
    let mut last = alpha;
    for _ in 0..150 {
        h.block(0).unwrap();
        let dt = h.amm.height - 10;
        let (expect, _) = roll_lock(alpha, 0, dt, false, 100, 100);
        let now = h.amm.locked_alpha(&a(ALICE), 1);
        assert_eq!(now, expect, "dt {dt}");
        assert!(now <= last);
        last = now;
    }
    // e^(-1.5) ≈ 0.223: more than three quarters are free again.
    assert!(h.amm.available_alpha(&a(ALICE), 1) > alpha * 3 / 4);
    remove(&mut h, ALICE, ALICE_HK, 1, alpha * 3 / 4).unwrap();
    h.check();
    h.check_replay();
}

#[test]
fn a_lock_from_a_block_ahead_of_the_amm_does_not_decay_yet() {
    let (mut h, alpha) = alice_staked();
    set_lock(&mut h, ALICE, 1, alpha, false, 5_000);
    first_block_at(&mut h, 4_000);
    assert_eq!(h.amm.locked_alpha(&a(ALICE), 1), alpha);
}

#[test]
fn a_perpetual_lock_never_decays() {
    let (mut h, alpha) = alice_staked();
    set_lock(&mut h, ALICE, 1, alpha / 2, true, 0);
    first_block_at(&mut h, 50_000_000);
    assert_eq!(h.amm.locked_alpha(&a(ALICE), 1), alpha / 2);
    let total = h.amm.coldkey_alpha(&a(ALICE), 1);
    assert_eq!(
        remove(&mut h, ALICE, ALICE_HK, 1, total - alpha / 2 + 1),
        Err(Rejection::StakeUnavailable)
    );
}

#[test]
fn cross_subnet_move_swap_and_transfer_are_guarded() {
    let (mut h, alpha) = alice_staked();
    set_lock(&mut h, ALICE, 1, alpha / 2, false, 0);
    let take = alpha - alpha / 2 + 1;
    refused(
        &mut h,
        signed(
            ALICE,
            CommandBody::MoveStake {
                op: "m1".into(),
                origin_hotkey: a(ALICE_HK),
                destination_hotkey: a(ALICE_HK),
                origin_netuid: 1,
                destination_netuid: 2,
                alpha: take,
            },
        ),
    );
    refused(
        &mut h,
        signed(
            ALICE,
            CommandBody::SwapStake {
                op: "s1".into(),
                hotkey: a(ALICE_HK),
                origin_netuid: 1,
                destination_netuid: 2,
                alpha: take,
                limit_price: None,
                allow_partial: false,
            },
        ),
    );
    // A limit that lets all of it through (price ratio ≥ 0).
    refused(
        &mut h,
        signed(
            ALICE,
            CommandBody::SwapStake {
                op: "s2".into(),
                hotkey: a(ALICE_HK),
                origin_netuid: 1,
                destination_netuid: 2,
                alpha,
                limit_price: Some(1),
                allow_partial: true,
            },
        ),
    );
    refused(
        &mut h,
        signed(
            ALICE,
            CommandBody::TransferStake {
                op: "t1".into(),
                destination_coldkey: a(BOB),
                hotkey: a(ALICE_HK),
                origin_netuid: 1,
                destination_netuid: 2,
                alpha: take,
            },
        ),
    );
    // Within what is available, the move goes through.
    h.run(signed(
        ALICE,
        CommandBody::MoveStake {
            op: "m2".into(),
            origin_hotkey: a(ALICE_HK),
            destination_hotkey: a(ALICE_HK),
            origin_netuid: 1,
            destination_netuid: 2,
            alpha: alpha / 4,
        },
    ))
    .unwrap();
    assert!(h.amm.coldkey_alpha(&a(ALICE), 1) >= alpha / 2);
    assert!(h.amm.coldkey_alpha(&a(ALICE), 2) > 0);
    h.check();
    h.check_replay();
}

#[test]
fn recycle_burn_unstake_all_and_partial_limits_are_guarded() {
    let (mut h, alpha) = alice_staked();
    set_lock(&mut h, ALICE, 1, alpha / 2, false, 0);
    let take = alpha - alpha / 2 + 1;
    refused(
        &mut h,
        signed(
            ALICE,
            CommandBody::RecycleAlpha {
                op: "r1".into(),
                hotkey: a(ALICE_HK),
                netuid: 1,
                alpha: take,
            },
        ),
    );
    refused(
        &mut h,
        signed(
            ALICE,
            CommandBody::BurnAlpha {
                op: "b1".into(),
                hotkey: a(ALICE_HK),
                netuid: 1,
                alpha: take,
            },
        ),
    );
    refused(
        &mut h,
        signed(
            ALICE,
            CommandBody::UnstakeAll {
                op: "u1".into(),
                hotkey: a(ALICE_HK),
            },
        ),
    );
    refused(
        &mut h,
        signed(
            ALICE,
            CommandBody::RemoveStake {
                op: "l1".into(),
                hotkey: a(ALICE_HK),
                netuid: 1,
                alpha,
                limit_price: Some(1),
                allow_partial: true,
            },
        ),
    );
    // Within what is available, recycling and burning go through.
    for (op, body) in [
        (
            "r2",
            CommandBody::RecycleAlpha {
                op: "r2".into(),
                hotkey: a(ALICE_HK),
                netuid: 1,
                alpha: alpha / 8,
            },
        ),
        (
            "b2",
            CommandBody::BurnAlpha {
                op: "b2".into(),
                hotkey: a(ALICE_HK),
                netuid: 1,
                alpha: alpha / 8,
            },
        ),
    ] {
        h.run(signed(ALICE, body)).unwrap();
        assert!(matches!(h.amm.op(op), Some(OpStatus::Done { .. })));
    }
    assert!(h.amm.coldkey_alpha(&a(ALICE), 1) >= alpha / 2);
    h.check();
    h.check_replay();
}

#[test]
fn unstake_all_of_another_hotkey_within_available_works() {
    // The lock is subnet-wide: the alpha under another hotkey is available
    // while the rest covers the lock.
    let (mut h, alpha) = alice_staked();
    h.stake(ALICE, BOB_HK, 1, 10 * TAO).unwrap();
    let under_bob = h.amm.stake(1, &a(BOB_HK), &a(ALICE));
    set_lock(&mut h, ALICE, 1, alpha, false, 0);
    h.run(signed(
        ALICE,
        CommandBody::UnstakeAll {
            op: "u1".into(),
            hotkey: a(BOB_HK),
        },
    ))
    .unwrap();
    assert_eq!(h.amm.stake(1, &a(BOB_HK), &a(ALICE)), 0);
    assert!(under_bob > 0);
    assert_eq!(h.amm.available_alpha(&a(ALICE), 1), 0);
    assert_eq!(
        remove(&mut h, ALICE, ALICE_HK, 1, TAO),
        Err(Rejection::StakeUnavailable)
    );
    h.check();
}

#[test]
fn a_same_subnet_move_between_hotkeys_of_the_coldkey_is_allowed() {
    let (mut h, alpha) = alice_staked();
    set_lock(&mut h, ALICE, 1, alpha, true, 0);
    h.run(signed(
        ALICE,
        CommandBody::MoveStake {
            op: "m1".into(),
            origin_hotkey: a(ALICE_HK),
            destination_hotkey: a(BOB_HK),
            origin_netuid: 1,
            destination_netuid: 1,
            alpha: alpha / 2,
        },
    ))
    .unwrap();
    assert!(h.amm.stake(1, &a(BOB_HK), &a(ALICE)) > 0);
    assert!(h.amm.coldkey_alpha(&a(ALICE), 1) + 1 >= alpha);
    assert_eq!(h.amm.locked_alpha(&a(ALICE), 1), alpha);
    h.check();
    h.check_replay();
}

#[test]
fn transfer_stake_may_take_only_the_available_alpha() {
    let (mut h, alpha) = alice_staked();
    set_lock(&mut h, ALICE, 1, alpha / 2, false, 0);
    let transfer = |op: &str, alpha: u64| {
        signed(
            ALICE,
            CommandBody::TransferStake {
                op: op.into(),
                destination_coldkey: a(BOB),
                hotkey: a(ALICE_HK),
                origin_netuid: 1,
                destination_netuid: 1,
                alpha,
            },
        )
    };
    refused(&mut h, transfer("t1", alpha - alpha / 2 + 1));
    h.run(transfer("t2", alpha / 4)).unwrap();
    assert!(h.amm.coldkey_alpha(&a(BOB), 1) > 0);
    assert!(h.amm.coldkey_alpha(&a(ALICE), 1) >= alpha / 2);
    h.check();
    h.check_replay();
}

#[test]
fn stake_additions_are_never_limited() {
    let (mut h, alpha) = alice_staked();
    set_lock(&mut h, ALICE, 1, alpha, true, 0);
    h.stake(ALICE, ALICE_HK, 1, 10 * TAO).unwrap();
    assert!(h.amm.coldkey_alpha(&a(ALICE), 1) > alpha);
    assert!(h.amm.available_alpha(&a(ALICE), 1) > 0);
}

#[test]
fn clear_lock_frees_everything() {
    let (mut h, alpha) = alice_staked();
    set_lock(&mut h, ALICE, 1, alpha, true, 0);
    refused(
        &mut h,
        signed(
            ALICE,
            CommandBody::UnstakeAll {
                op: "u1".into(),
                hotkey: a(ALICE_HK),
            },
        ),
    );
    let ev = h
        .run(governance(CommandBody::ClearLock {
            coldkey: a(ALICE),
            netuid: 1,
        }))
        .unwrap();
    assert_eq!(
        ev,
        vec![AmmEvent::LockCleared(LockCleared {
            coldkey: a(ALICE),
            netuid: 1,
        })]
    );
    assert_eq!(h.amm.lock(&a(ALICE), 1), None);
    assert_eq!(h.amm.available_alpha(&a(ALICE), 1), alpha);
    // No lock: nothing happens.
    let again = h
        .run(governance(CommandBody::ClearLock {
            coldkey: a(ALICE),
            netuid: 1,
        }))
        .unwrap();
    assert!(again.is_empty());
    h.run(signed(
        ALICE,
        CommandBody::UnstakeAll {
            op: "u2".into(),
            hotkey: a(ALICE_HK),
        },
    ))
    .unwrap();
    assert_eq!(h.amm.coldkey_alpha(&a(ALICE), 1), 0);
    h.check();
    h.check_replay();
}

#[test]
fn only_governance_may_send_lock_commands() {
    let (mut h, alpha) = alice_staked();
    let bodies = [
        CommandBody::SetLock {
            coldkey: a(ALICE),
            netuid: 1,
            locked: alpha,
            perpetual: false,
            block: 0,
        },
        CommandBody::ClearLock {
            coldkey: a(ALICE),
            netuid: 1,
        },
        CommandBody::SetUnlockRate { blocks: 10 },
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
}

#[test]
fn governance_refusals_are_recorded() {
    let (mut h, alpha) = alice_staked();
    let ev = h
        .run(governance(CommandBody::SetLock {
            coldkey: a(ALICE),
            netuid: 9,
            locked: alpha,
            perpetual: false,
            block: 0,
        }))
        .unwrap();
    assert_eq!(
        ev,
        vec![AmmEvent::GovernanceStepRefused(GovernanceStepRefused {
            op: format!("lock/9/{}", a(ALICE)),
            code: "SubnetNotExists".into(),
            message: "no subnet 9 to lock stake on".into(),
        })]
    );
    let ev = h
        .run(governance(CommandBody::SetUnlockRate { blocks: 0 }))
        .unwrap();
    assert_eq!(
        ev,
        vec![AmmEvent::GovernanceStepRefused(GovernanceStepRefused {
            op: "unlock-rate".into(),
            code: "InvalidValue".into(),
            message: "unlock rate 0".into(),
        })]
    );
    assert_eq!(
        h.amm.unlock_rate,
        governance_core::Config::default().unlock_rate
    );
    assert!(h.amm.locks.is_empty());
}

#[test]
fn a_dissolved_subnet_drops_its_locks() {
    let (mut h, alpha) = alice_staked();
    set_lock(&mut h, ALICE, 1, alpha, true, 0);
    h.stake(ALICE, ALICE_HK, 2, 10 * TAO).unwrap();
    let on2 = h.amm.coldkey_alpha(&a(ALICE), 2);
    set_lock(&mut h, ALICE, 2, on2, true, 0);
    h.run(governance(CommandBody::DissolveSubnet {
        netuid: 1,
        block: 7,
    }))
    .unwrap();
    assert_eq!(h.amm.lock(&a(ALICE), 1), None);
    assert!(h.amm.lock(&a(ALICE), 2).is_some());
    h.check();
    h.check_replay();
}

#[test]
fn a_lock_above_the_holdings_leaves_nothing_available() {
    // Governance's view of the alpha may lag: the amm clamps at 0.
    let (mut h, alpha) = alice_staked();
    set_lock(&mut h, ALICE, 1, alpha * 2, false, 0);
    assert_eq!(h.amm.available_alpha(&a(ALICE), 1), 0);
    assert_eq!(
        remove(&mut h, ALICE, ALICE_HK, 1, TAO),
        Err(Rejection::StakeUnavailable)
    );
}

#[test]
fn the_snapshot_keeps_locks_and_the_unlock_rate() {
    let (mut h, alpha) = alice_staked();
    h.run(governance(CommandBody::SetUnlockRate { blocks: 777 }))
        .unwrap();
    set_lock(&mut h, ALICE, 1, alpha / 3, false, 0);
    let back = Amm::restore(&h.amm.snapshot()).unwrap();
    assert_eq!(back.unlock_rate, 777);
    assert_eq!(back.locks, h.amm.locks);
    assert_eq!(
        Amm::default().unlock_rate,
        governance_core::Config::default().unlock_rate
    );
    assert_eq!(SNAPSHOT_VERSION, 7);
}
