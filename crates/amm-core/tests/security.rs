//! Security properties of the pure amm (docs/security.md): a signer can act
//! only on its own positions, peer-only steps refuse signed origins, and
//! amounts near `u64::MAX` are typed rejections or bounded results, never
//! a panic or a wrapped reserve. `Harness::run` asserts that every
//! rejection left the digest unchanged.

mod common;

use amm_core::*;
use common::*;

const TAO: u64 = 1_000_000_000;

fn one_subnet() -> Harness {
    Harness::new(genesis(vec![subnet(1, 1_000 * TAO, 1_000 * TAO)]))
}

/// Alice's stake on her hotkey, then Bob tries every op that spends a
/// position, naming Alice's hotkey: the position acted on is always the
/// signer's own (coldkey = signer), so Bob has nothing to move. Pins the
/// `Origin::Signed(coldkey)` → position lookup of each op (a command that
/// took the coldkey from its body would let Bob spend Alice's alpha).
#[test]
fn a_signer_cannot_spend_another_coldkeys_position() {
    let mut h = Harness::new(genesis(vec![
        subnet(1, 1_000 * TAO, 1_000 * TAO),
        subnet(2, 1_000 * TAO, 1_000 * TAO),
    ]));
    h.stake(ALICE, ALICE_HK, 1, 10 * TAO).unwrap();
    let alice_stake = h.amm.stake(1, &a(ALICE_HK), &a(ALICE));
    assert!(alice_stake > 0);
    let hk = a(ALICE_HK);
    let attempts = [
        CommandBody::RemoveStake {
            op: "x1".into(),
            hotkey: hk,
            netuid: 1,
            alpha: alice_stake,
            limit_price: None,
            allow_partial: false,
        },
        CommandBody::MoveStake {
            op: "x2".into(),
            origin_hotkey: hk,
            destination_hotkey: a(BOB_HK),
            origin_netuid: 1,
            destination_netuid: 1,
            alpha: alice_stake,
        },
        CommandBody::TransferStake {
            op: "x3".into(),
            destination_coldkey: a(BOB),
            hotkey: hk,
            origin_netuid: 1,
            destination_netuid: 2,
            alpha: alice_stake,
        },
        CommandBody::SwapStake {
            op: "x4".into(),
            hotkey: hk,
            origin_netuid: 1,
            destination_netuid: 2,
            alpha: alice_stake,
            limit_price: None,
            allow_partial: false,
        },
        CommandBody::RecycleAlpha {
            op: "x5".into(),
            hotkey: hk,
            netuid: 1,
            alpha: alice_stake,
        },
        CommandBody::BurnAlpha {
            op: "x6".into(),
            hotkey: hk,
            netuid: 1,
            alpha: alice_stake,
        },
    ];
    for body in attempts {
        let r = h.run(signed(BOB, body.clone()));
        assert!(
            matches!(
                r,
                Err(Rejection::NotEnoughStakeToWithdraw | Rejection::StakeUnavailable)
            ),
            "{body:?}: {r:?}"
        );
    }
    // unstake_all on a hotkey where the signer holds nothing.
    let r = h.run(signed(
        BOB,
        CommandBody::UnstakeAll {
            op: "x7".into(),
            hotkey: hk,
        },
    ));
    assert!(r.is_err(), "{r:?}");
    assert_eq!(h.amm.stake(1, &hk, &a(ALICE)), alice_stake);
    h.check();
}

/// Steps only a peer's stream may cause (ledger outcomes, governance's
/// registrations and parameters, consensus epochs) refuse any signed
/// origin, the admin's included.
#[test]
fn peer_only_steps_refuse_signed_origins() {
    let mut h = one_subnet();
    h.run(signed(
        ALICE,
        CommandBody::AddStake {
            op: "s".into(),
            hotkey: a(ALICE_HK),
            netuid: 1,
            amount: TAO,
            limit_price: None,
            allow_partial: false,
        },
    ))
    .unwrap();
    let steps = [
        CommandBody::StakeFunded { op: "s".into() },
        CommandBody::Block {
            height: 1,
            minted: TAO,
        },
        CommandBody::OpenSubnet {
            op: "o".into(),
            netuid: 5,
            owner: a(ALICE),
            owner_hotkey: a(ALICE_HK),
            lock: TAO,
            block: 1,
        },
        CommandBody::RegistrationBurn {
            op: "r".into(),
            netuid: 1,
            coldkey: a(ALICE),
            amount: TAO,
        },
        CommandBody::CloseSubnet {
            op: "o".into(),
            netuid: 1,
        },
    ];
    for who in [ALICE, BOB, ADMIN, OWNER] {
        for body in &steps {
            assert_eq!(
                h.run(signed(who, body.clone())),
                Err(Rejection::BadOrigin),
                "{who} {body:?}"
            );
        }
    }
    h.check();
}

/// Staking, unstaking and minting at the top of u64: typed rejections or
/// bounded outcomes; the pool's reserves never wrap (the invariants hold
/// and replay agrees after every step). A panic anywhere fails the test.
#[test]
fn amounts_near_u64_max_never_panic_or_wrap() {
    for amount in [u64::MAX, u64::MAX - 1, u64::MAX / 2 + 1] {
        let mut h = one_subnet();
        let tao_before = h.amm.subnets[&1].tao;
        // The pool cannot take more TAO than its reserve arithmetic holds:
        // refused by name (the pool's checked maths), nothing moved.
        assert_eq!(
            h.stake(ALICE, ALICE_HK, 1, amount).map(|_| ()),
            Err(Rejection::InsufficientLiquidity),
            "{amount}"
        );
        assert_eq!(h.amm.subnets[&1].tao, tao_before);
        h.amm.check_invariants().unwrap();
        h.check_replay();
    }
    // Unstaking more alpha than exists anywhere.
    let mut h = one_subnet();
    h.stake(ALICE, ALICE_HK, 1, 10 * TAO).unwrap();
    assert_eq!(
        h.run(signed(
            ALICE,
            CommandBody::RemoveStake {
                op: "u".into(),
                hotkey: a(ALICE_HK),
                netuid: 1,
                alpha: u64::MAX,
                limit_price: None,
                allow_partial: false,
            },
        )),
        Err(Rejection::NotEnoughStakeToWithdraw)
    );
    // A limit price at the top of u64 is a price, not an overflow.
    let r = h.stake_op("lim", ALICE, ALICE_HK, 1, TAO, Some(u64::MAX), false);
    assert!(r.is_ok(), "{r:?}");
    // A block minting u64::MAX RAO: the coinbase splits it without panicking.
    h.block(u64::MAX)
        .expect("the coinbase clamps, it does not overflow");
    h.amm.check_invariants().unwrap();
    h.check_replay();
}
