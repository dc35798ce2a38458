//! Neuron registration by burn (§4.2–4.4): price growth ×1.26, decay with a
//! 360-block half-life, bounds, the delegated pruning, errors.

mod common;

use common::*;
use governance_core::event::*;
use governance_core::*;

fn reg(who: u8, hot: u8, op: &str) -> Command {
    signed(
        ck(who),
        CommandBody::BurnedRegister {
            op: op.into(),
            netuid: 1,
            hotkey: hk(hot),
            limit_price: None,
        },
    )
}

fn done(op: &str, uid: u16, replaced: Option<keys::AccountId>) -> Command {
    consensus(CommandBody::NeuronRegistered {
        op: op.into(),
        uid,
        replaced,
    })
}

#[test]
fn burn_rises_by_1_26_per_registration_even_in_one_block() {
    let s = world_with_subnet();
    assert_eq!(s.burn(1), Some(TAO));
    let s = given(s).when(reg(2, 2, "a")).then(&[
        GovernanceEvent::HotkeyAssociated(HotkeyAssociated {
            hotkey: hk(2),
            coldkey: ck(2),
        }),
        GovernanceEvent::NeuronRegistrationRequested(NeuronRegistrationRequested {
            op: "a".into(),
            netuid: 1,
            hotkey: hk(2),
            coldkey: ck(2),
            burn: TAO,
            new_burn: 1_260_000_000,
            block: 1,
        }),
    ]);
    let (ev, s) = given(s).when(reg(3, 3, "b")).then_ok();
    assert!(
        matches!(&ev[1], GovernanceEvent::NeuronRegistrationRequested(r)
        if r.burn == 1_260_000_000 && r.new_burn == 1_587_600_000)
    );
    assert_eq!(s.burn(1), Some(1_587_600_000));
}

#[test]
fn burn_halves_every_360_blocks() {
    let mut s = world_with_subnet();
    // f = decay_factor_q32(360) = 4 286 705 684 (Q32); one multiply per block
    assert_eq!(math::decay_factor_q32(360), 4_286_705_684);
    advance_to(&mut s, 361);
    assert_eq!(s.burn(1), Some(499_999_865));
    advance_to(&mut s, 721);
    assert_eq!(s.burn(1), Some(249_999_807));
}

#[test]
fn burn_stays_within_min_and_max() {
    let mut s = world_with_subnet();
    advance_to(&mut s, 1 + 360 * 12);
    assert_eq!(s.burn(1), Some(500_000), "MinBurn 0.0005 TAO");
    let mut s = world_with_subnet();
    run(
        &mut s,
        [
            signed(
                ck(1),
                CommandBody::SetHyperparameter {
                    netuid: 1,
                    param: Hyperparameter::MaxBurn(2 * TAO),
                },
            ),
            reg(2, 2, "a"),
            reg(3, 3, "b"),
            reg(4, 4, "c"),
        ],
    );
    assert_eq!(s.burn(1), Some(2 * TAO), "MaxBurn caps the bump");
}

#[test]
fn completion_records_the_uid_and_the_pruned_hotkey() {
    let mut s = world_with_subnet();
    run(&mut s, [reg(2, 2, "a"), funded("a"), done("a", 1, None)]);
    assert!(s.subnets[&1].neurons.contains_key(&hk(2)));
    assert!(s.neuron_is_immune(1, &hk(2)));
    run(&mut s, [reg(3, 3, "b"), funded("b")]);
    let s = given(s)
        .when(done("b", 1, Some(hk(2))))
        .then(&[GovernanceEvent::NeuronRegistered(NeuronRegistered {
            op: "b".into(),
            netuid: 1,
            hotkey: hk(3),
            coldkey: ck(3),
            burn: 1_260_000_000,
            uid: 1,
            replaced: Some(hk(2)),
            block: 1,
        })]);
    assert!(!s.subnets[&1].neurons.contains_key(&hk(2)));
    assert_eq!(
        s.neuron_ops["b"].status,
        NeuronOpStatus::Registered { uid: 1 }
    );
    rejects(&s, done("b", 1, None), Rejection::UnexpectedOutcome);
    rejects(&s, done("zz", 1, None), Rejection::UnknownOp);
}

#[test]
fn immunity_lasts_the_immunity_period() {
    let mut s = world_with_subnet();
    run(&mut s, [reg(2, 2, "a"), funded("a"), done("a", 1, None)]);
    advance_to(&mut s, 5_000);
    assert!(s.neuron_is_immune(1, &hk(2)));
    advance_to(&mut s, 5_001);
    assert!(!s.neuron_is_immune(1, &hk(2)));
}

#[test]
fn a_refused_burn_fails_the_registration() {
    let mut s = world_with_subnet();
    run(&mut s, [reg(2, 2, "a")]);
    let s = given(s)
        .when(ledger(CommandBody::NeuronRegistrationFailed {
            op: "a".into(),
            code: "NotEnoughBalanceToStake".into(),
        }))
        .then(&[GovernanceEvent::NeuronRegistrationFailed(
            NeuronRegistrationFailed {
                op: "a".into(),
                netuid: 1,
                hotkey: hk(2),
                coldkey: ck(2),
                code: "NotEnoughBalanceToStake".into(),
                refund: 0,
            },
        )]);
    assert!(s.subnets[&1].pending_neurons.is_empty());
    // the hotkey may try again
    given(s).when(reg(2, 2, "b")).then_ok();
}

#[test]
fn registration_errors() {
    let mut s = world_with_subnet();
    let on = |netuid| {
        signed(
            ck(2),
            CommandBody::BurnedRegister {
                op: "x".into(),
                netuid,
                hotkey: hk(2),
                limit_price: None,
            },
        )
    };
    rejects(&s, on(0), Rejection::RegistrationNotPermittedOnRootSubnet);
    rejects(&s, on(7), Rejection::SubnetNotExists);
    // the owner hotkey holds uid 0
    rejects(
        &s,
        reg(1, 1, "x"),
        Rejection::HotKeyAlreadyRegisteredInSubNet,
    );
    run(&mut s, [reg(2, 2, "p")]);
    rejects(
        &s,
        reg(2, 2, "x"),
        Rejection::HotKeyAlreadyRegisteredInSubNet,
    );
    rejects(&s, reg(2, 2, "p"), Rejection::DuplicateOp);
    // hk(2) belongs to ck(2)
    rejects(
        &s,
        signed(
            ck(3),
            CommandBody::BurnedRegister {
                op: "x".into(),
                netuid: 1,
                hotkey: hk(2),
                limit_price: None,
            },
        ),
        Rejection::HotKeyAlreadyRegisteredInSubNet,
    );
    rejects(
        &s,
        signed(
            ck(3),
            CommandBody::BurnedRegister {
                op: "x".into(),
                netuid: 1,
                hotkey: hk(1),
                limit_price: None,
            },
        ),
        Rejection::HotKeyAlreadyRegisteredInSubNet,
    );
    run(&mut s, [reg(1, 9, "own")]);
    rejects(
        &s,
        signed(
            ck(3),
            CommandBody::BurnedRegister {
                op: "x".into(),
                netuid: 1,
                hotkey: hk(9),
                limit_price: None,
            },
        ),
        Rejection::HotKeyAlreadyRegisteredInSubNet,
    );
    let price = s.burn(1).unwrap();
    rejects(
        &s,
        signed(
            ck(3),
            CommandBody::BurnedRegister {
                op: "x".into(),
                netuid: 1,
                hotkey: hk(3),
                limit_price: Some(price - 1),
            },
        ),
        Rejection::RegistrationPriceLimitExceeded,
    );
    run(
        &mut s,
        [admin_cmd(AdminAction::SetHyperparameter {
            netuid: 1,
            param: Hyperparameter::NetworkRegistrationAllowed(false),
        })],
    );
    rejects(&s, reg(3, 3, "x"), Rejection::SubNetRegistrationDisabled);
}

#[test]
fn a_hotkey_of_another_coldkey_is_refused() {
    let mut s = world_with_subnet();
    open_subnet(&mut s, ck(2), hk(2), "net2");
    // hk(2) (owned by ck(2)) is not on subnet 1
    rejects(&s, reg(3, 2, "x"), Rejection::NonAssociatedColdKey);
}

#[test]
fn no_uid_when_full_of_owner_immortal_uids() {
    let mut s = world_with_subnet();
    let root = |p| {
        admin_cmd(AdminAction::SetHyperparameter {
            netuid: 1,
            param: p,
        })
    };
    run(
        &mut s,
        [
            root(Hyperparameter::MinAllowedUids(0)),
            root(Hyperparameter::MaxAllowedValidators(1)),
            signed(
                ck(1),
                CommandBody::SetHyperparameter {
                    netuid: 1,
                    param: Hyperparameter::MaxAllowedUids(2),
                },
            ),
            reg(2, 2, "a"),
        ],
    );
    // full with a pending registration: one prunable uid would be needed
    rejects(&s, reg(3, 3, "x"), Rejection::NoNeuronIdAvailable);
    run(&mut s, [funded("a"), done("a", 1, None)]);
    // full, hk(2) prunable: accepted (consensus chooses whom to prune)
    given(s.clone()).when(reg(3, 3, "x")).then_ok();
}
