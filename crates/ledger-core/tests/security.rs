//! Security properties of the pure ledger (docs/security.md): who may act,
//! and amounts near `u64::MAX` that must be typed rejections, never a panic
//! or a wrapped balance. Each test names the guard it pins.

mod common;

use aggregate::Aggregate;
use common::*;
use ledger_core::*;

const TAO: u64 = RAO_PER_TAO;

fn started() -> Ledger {
    given([genesis_applied(genesis(&[
        (alice(), 1_000 * TAO),
        (bob(), 10 * TAO),
    ]))])
    .ledger
}

fn peer(body: CommandBody) -> Command {
    Command::new(Origin::Peer, body)
}

fn fund(op: &str, coldkey: keys::AccountId, amount: u64) -> CommandBody {
    CommandBody::FundStake {
        op: op.into(),
        coldkey,
        netuid: 1,
        amount,
    }
}

/// A peer's refused step is recorded as `StepRejected` with the code and
/// moves nothing but that record.
#[track_caller]
fn step_rejected(l: &Ledger, body: CommandBody, code: &str) {
    let before = (
        l.balance(&alice()),
        l.balance(&bob()),
        l.custody(1),
        l.total_issuance(),
    );
    let (events, after) = given_state(l.clone()).when(peer(body)).then_ok();
    match events.as_slice() {
        [LedgerEvent::StepRejected(r)] => assert_eq!(r.code, code, "{r:?}"),
        other => panic!("expected StepRejected {code}, got {other:?}"),
    }
    assert_eq!(
        before,
        (
            after.balance(&alice()),
            after.balance(&bob()),
            after.custody(1),
            after.total_issuance()
        )
    );
}

/// Saga steps move other people's TAO, so only the peer stream (the shell's
/// inbox, after `check_provenance`) or a trusted service key may run them:
/// a user signing one for their own or anyone's account gets `BadOrigin`.
/// Pins `_ => Err(Rejection::BadOrigin)` at the end of `decide_command`.
#[test]
fn saga_steps_signed_by_users_or_unknown_services_are_bad_origin() {
    let l = started();
    for who in [alice(), bob(), admin()] {
        for body in [
            fund("s", alice(), TAO),
            CommandBody::LockForSubnet {
                op: "l".into(),
                coldkey: alice(),
                amount: TAO,
            },
            CommandBody::Settle {
                op: "x".into(),
                moves: vec![],
            },
            CommandBody::ClaimCoinbase {
                block: 1,
                credits: vec![(1, 1)],
            },
        ] {
            given_state(l.clone())
                .when(signed(who, body.clone()))
                .then_rejected(Rejection::BadOrigin);
            // A service key the genesis does not name.
            given_state(l.clone())
                .when(Command::new(Origin::Service(acct(0x77)), body))
                .then_rejected(Rejection::BadOrigin);
        }
    }
}

/// The admin's manual clock: nobody else may advance it. Pins the
/// `(Origin::Signed(who), Some(admin)) if *who == admin` guard.
#[test]
fn only_the_admin_advances_the_clock() {
    for who in [alice(), bob(), service_key()] {
        given_state(started())
            .when(signed(
                who,
                CommandBody::AdvanceBlocks {
                    n: 1,
                    timestamp_ms: 1,
                    block_time_ms: 12_000,
                },
            ))
            .then_rejected(Rejection::BadOrigin);
    }
    given_state(started()).when(advance(1, 1)).then_ok();
}

/// A transfer has no "from": the signer pays (the command cannot name
/// another account to debit). Amounts at the top of u64 are refused by
/// the checked arithmetic, whichever check comes first, and change nothing.
#[test]
fn transfers_near_u64_max_are_typed_rejections() {
    for amount in [u64::MAX, u64::MAX - 1, u64::MAX / 2 + 1] {
        let l = started();
        let before = l.digest();
        assert!(
            matches!(
                l.decide(&transfer(alice(), bob(), amount, false)),
                Err(Rejection::Overflow | Rejection::InsufficientBalance)
            ),
            "{amount}"
        );
        assert_eq!(l.digest(), before);
    }
}

/// Funding a stake with more than the coldkey has, or with u64::MAX, is a
/// recorded StepRejected; custody and balances do not move.
#[test]
fn oversized_saga_amounts_are_step_rejections() {
    let l = started();
    step_rejected(&l, fund("a", alice(), u64::MAX), "InsufficientBalance");
    step_rejected(&l, fund("b", bob(), 11 * TAO), "InsufficientBalance");
    step_rejected(
        &l,
        CommandBody::LockForSubnet {
            op: "c".into(),
            coldkey: alice(),
            amount: u64::MAX,
        },
        "InsufficientBalance",
    );
    // Settle from custody: a move larger than the custody is refused by the
    // checked subtraction in `check_settlement` (unchecked, 5 TAO - u64::MAX
    // would wrap into a huge custody), and the whole settlement with it.
    let (_, funded) = given_state(l.clone())
        .when(peer(fund("f", alice(), 5 * TAO)))
        .then_ok();
    let mv = |amount| CustodyMove {
        from_netuid: 1,
        to: CustodyDest::Account(bob()),
        amount,
    };
    let before = funded.custody(1);
    let (events, after) = given_state(funded.clone())
        .when(peer(CommandBody::Settle {
            op: "f/settle".into(),
            moves: vec![mv(u64::MAX), mv(2)],
        }))
        .then_ok();
    assert!(
        matches!(events.as_slice(), [LedgerEvent::StepRejected(r)] if r.code == "CustodyInsufficient"),
        "{events:?}"
    );
    assert_eq!(after.custody(1), before);
    assert_eq!(after.balance(&bob()), 10 * TAO);
}
