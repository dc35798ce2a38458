//! Hyperparameters (§3.7): who may set each, the owner rate limit, the
//! admin freeze window, bounds; global parameters.

mod common;

use common::*;
use governance_core::event::*;
use governance_core::*;
use Hyperparameter as H;

fn owner_set(param: Hyperparameter) -> Command {
    signed(ck(1), CommandBody::SetHyperparameter { netuid: 1, param })
}

fn root_set(param: Hyperparameter) -> Command {
    admin_cmd(AdminAction::SetHyperparameter { netuid: 1, param })
}

fn schedule(next: u64, pending: bool) -> Command {
    consensus(CommandBody::EpochSchedule {
        netuid: 1,
        next_epoch_block: next,
        trigger_pending: pending,
        epoch_ran: false,
    })
}

#[test]
fn owner_sets_and_the_event_names_its_target() {
    let s = world_with_subnet();
    let s = given(s).when(owner_set(H::ImmunityPeriod(7_000))).then(&[
        GovernanceEvent::HyperparameterSet(HyperparameterSet {
            netuid: 1,
            param: H::ImmunityPeriod(7_000),
            target: Target::Consensus,
            by_owner: true,
            block: 1,
        }),
    ]);
    assert_eq!(s.subnets[&1].params.immunity_period, 7_000);
    let (ev, _) = given(s).when(owner_set(H::MinBurn(1_000_000))).then_ok();
    assert!(
        matches!(&ev[0], GovernanceEvent::HyperparameterSet(h) if h.target == Target::Governance)
    );
}

#[test]
fn who_may_set_what() {
    let s = world_with_subnet();
    rejects(
        &s,
        signed(
            ck(2),
            CommandBody::SetHyperparameter {
                netuid: 1,
                param: H::ImmunityPeriod(1),
            },
        ),
        Rejection::NotSubnetOwner,
    );
    // Root-only parameters
    for p in [
        H::Kappa(1),
        H::WeightsRateLimit(1),
        H::MaxAllowedValidators(10),
        H::SubnetEmissionEnabled(true),
        H::FeeRate(100),
        H::NetworkRegistrationAllowed(false),
    ] {
        rejects(&s, owner_set(p.clone()), Rejection::BadOrigin);
        given(s.clone()).when(root_set(p)).then_ok();
    }
    rejects(&s, owner_set(H::MaxWeightLimit(5)), Rejection::Deprecated);
    rejects(&s, root_set(H::MaxWeightLimit(5)), Rejection::Deprecated);
    rejects(
        &s,
        signed(
            ck(1),
            CommandBody::SetHyperparameter {
                netuid: 0,
                param: H::ImmunityPeriod(1),
            },
        ),
        Rejection::NotPermittedOnRootSubnet,
    );
    rejects(
        &s,
        signed(
            ck(1),
            CommandBody::SetHyperparameter {
                netuid: 9,
                param: H::ImmunityPeriod(1),
            },
        ),
        Rejection::SubnetNotExists,
    );
    // a non-admin signer of an admin action
    rejects(
        &s,
        signed(
            ck(1),
            CommandBody::Admin(AdminAction::SetHyperparameter {
                netuid: 1,
                param: H::Kappa(1),
            }),
        ),
        Rejection::BadOrigin,
    );
}

#[test]
fn owner_rate_limit_is_two_tempos_per_hyperparameter() {
    let mut s = world_with_subnet();
    run(&mut s, [owner_set(H::ImmunityPeriod(10))]);
    // tempo 360 ⇒ 720 blocks
    advance_to(&mut s, 720);
    rejects(
        &s,
        owner_set(H::ImmunityPeriod(11)),
        Rejection::TxRateLimitExceeded,
    );
    // another hyperparameter is not limited, Root is not limited
    given(s.clone())
        .when(owner_set(H::MinAllowedWeights(3)))
        .then_ok();
    given(s.clone())
        .when(root_set(H::ImmunityPeriod(11)))
        .then_ok();
    advance_to(&mut s, 721);
    run(&mut s, [owner_set(H::ImmunityPeriod(11))]);
}

#[test]
fn weights_version_key_is_limited_to_five_tempos_and_tempo_to_360_blocks() {
    let mut s = world_with_subnet();
    run(
        &mut s,
        [owner_set(H::WeightsVersionKey(1)), owner_set(H::Tempo(400))],
    );
    advance_to(&mut s, 1 + 360);
    run(&mut s, [owner_set(H::Tempo(500))]);
    // the new tempo (500) scales the 5-tempo limit: 2 500 blocks
    advance_to(&mut s, 2_500);
    rejects(
        &s,
        owner_set(H::WeightsVersionKey(2)),
        Rejection::TxRateLimitExceeded,
    );
    advance_to(&mut s, 2_501);
    run(&mut s, [owner_set(H::WeightsVersionKey(2))]);
}

#[test]
fn the_freeze_window_is_the_last_10_blocks_before_the_epoch() {
    let mut s = world_with_subnet();
    run(&mut s, [schedule(100, false)]);
    advance_to(&mut s, 90);
    // 10 blocks left: still open
    given(s.clone())
        .when(owner_set(H::ImmunityPeriod(1)))
        .then_ok();
    advance_to(&mut s, 91);
    assert!(s.in_freeze_window(1));
    rejects(
        &s,
        owner_set(H::ImmunityPeriod(1)),
        Rejection::AdminActionProhibitedDuringWeightsWindow,
    );
    // Root alike, except the activity cutoff setter
    rejects(
        &s,
        root_set(H::Kappa(5)),
        Rejection::AdminActionProhibitedDuringWeightsWindow,
    );
    rejects(
        &s,
        owner_set(H::ActivityCutoffFactorMilli(2_000)),
        Rejection::AdminActionProhibitedDuringWeightsWindow,
    );
    given(s.clone())
        .when(root_set(H::ActivityCutoffFactorMilli(2_000)))
        .then_ok();
    // the owner cut flag never freezes
    given(s.clone())
        .when(owner_set(H::OwnerCutEnabled(false)))
        .then_ok();
    // after the epoch, consensus reports the next one
    run(&mut s, [schedule(460, false)]);
    given(s.clone())
        .when(owner_set(H::ImmunityPeriod(1)))
        .then_ok();
    // a pending triggered epoch freezes too
    run(&mut s, [schedule(460, true)]);
    rejects(
        &s,
        owner_set(H::ImmunityPeriod(1)),
        Rejection::AdminActionProhibitedDuringWeightsWindow,
    );
}

#[test]
fn bounds() {
    let s = world_with_subnet();
    let cases: Vec<(Command, Rejection)> = vec![
        (owner_set(H::Tempo(359)), Rejection::TempoOutOfBounds),
        (owner_set(H::Tempo(50_401)), Rejection::TempoOutOfBounds),
        (root_set(H::Tempo(0)), Rejection::TempoOutOfBounds),
        (
            owner_set(H::MaxAllowedUids(257)),
            Rejection::MaxAllowedUidsGreaterThanDefaultMaxAllowedUids,
        ),
        (
            owner_set(H::MaxAllowedUids(63)),
            Rejection::MaxAllowedUidsLessThanMinAllowedUids,
        ),
        (
            root_set(H::MinAllowedUids(256)),
            Rejection::MinAllowedUidsGreaterThanMaxAllowedUids,
        ),
        (
            root_set(H::MinAllowedUids(5)),
            Rejection::MinAllowedUidsGreaterThanCurrentUids,
        ),
        (
            root_set(H::MaxAllowedValidators(257)),
            Rejection::MaxValidatorsLargerThanMaxUIds,
        ),
        (
            owner_set(H::ActivityCutoffFactorMilli(999)),
            Rejection::ActivityCutoffFactorMilliOutOfBounds,
        ),
        (
            owner_set(H::RevealPeriodEpochs(0)),
            Rejection::RevealPeriodTooSmall,
        ),
        (
            owner_set(H::RevealPeriodEpochs(101)),
            Rejection::RevealPeriodTooLarge,
        ),
        (
            owner_set(H::AlphaSigmoidSteepness(-1)),
            Rejection::NegativeSigmoidSteepness,
        ),
        (
            owner_set(H::BondsMovingAverage(975_001)),
            Rejection::BondsMovingAverageMaxReached,
        ),
        (
            root_set(H::BondsMovingAverage(1_000_001)),
            Rejection::BondsMovingAverageMaxReached,
        ),
        (
            owner_set(H::AlphaValues {
                low: 2_000,
                high: 3_000,
            }),
            Rejection::LiquidAlphaDisabled,
        ),
        (owner_set(H::MinBurn(TAO)), Rejection::ValueNotInBounds),
        (owner_set(H::MaxBurn(TAO / 10)), Rejection::ValueNotInBounds),
        (owner_set(H::BurnHalfLife(0)), Rejection::ValueNotInBounds),
        (
            owner_set(H::BurnHalfLife(36_101)),
            Rejection::ValueNotInBounds,
        ),
        (
            owner_set(H::BurnIncreaseMult(3 << 64 | 1)),
            Rejection::ValueNotInBounds,
        ),
        (
            owner_set(H::BurnIncreaseMult((1 << 64) - 1)),
            Rejection::ValueNotInBounds,
        ),
        (
            owner_set(H::ImmuneOwnerUidsLimit(11)),
            Rejection::ValueNotInBounds,
        ),
        (
            owner_set(H::MinChildkeyTake(11_797)),
            Rejection::ValueNotInBounds,
        ),
        (root_set(H::FeeRate(10_001)), Rejection::ValueNotInBounds),
        (
            owner_set(H::RootClaimThreshold(10_000_001)),
            Rejection::ValueNotInBounds,
        ),
    ];
    for (cmd, r) in cases {
        rejects(&s, cmd, r);
    }
    // the Root versions that are allowed
    for p in [
        H::AlphaSigmoidSteepness(-5),
        H::BondsMovingAverage(1_000_000),
        H::Tempo(10),
    ] {
        given(s.clone()).when(root_set(p)).then_ok();
    }
}

#[test]
fn alpha_values_need_liquid_alpha() {
    let mut s = world_with_subnet();
    run(&mut s, [owner_set(H::LiquidAlphaEnabled(true))]);
    let av = |low, high| owner_set(H::AlphaValues { low, high });
    rejects(&s, av(2_000, 1_000), Rejection::AlphaHighTooLow);
    rejects(&s, av(1_000, 3_000), Rejection::AlphaLowOutOfRange);
    rejects(&s, av(4_000, 3_000), Rejection::AlphaLowOutOfRange);
    run(&mut s, [av(2_000, 3_000)]);
}

#[test]
fn max_uids_cannot_go_below_the_current_count() {
    let mut s = world_with_subnet();
    for i in 2..4u8 {
        let op = format!("n{i}");
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
    assert_eq!(s.subnets[&1].neurons.len(), 3);
    run(
        &mut s,
        [
            root_set(H::MinAllowedUids(0)),
            root_set(H::MaxAllowedValidators(2)),
        ],
    );
    rejects(
        &s,
        owner_set(H::MaxAllowedUids(2)),
        Rejection::MaxAllowedUIdsLessThanCurrentUIds,
    );
    rejects(
        &s,
        owner_set(H::MaxAllowedUids(1)),
        Rejection::MaxAllowedUIdsLessThanCurrentUIds,
    );
    run(&mut s, [owner_set(H::MaxAllowedUids(3))]);
}

#[test]
fn global_parameters_are_root_only() {
    let mut s = world();
    let set = |p| admin_cmd(AdminAction::SetGlobal(p));
    run(
        &mut s,
        [
            set(GlobalParam::SubnetLimit(64)),
            set(GlobalParam::TaoWeight(1 << 62)),
            set(GlobalParam::NetworkMinLockCost(5 * TAO)),
        ],
    );
    assert_eq!(s.config.subnet_limit, 64);
    assert_eq!(s.config.tao_weight, 1 << 62);
    assert_eq!(s.lock_cost(), 5 * TAO);
    rejects(
        &s,
        set(GlobalParam::MinDelegateTake(20_000)),
        Rejection::ValueNotInBounds,
    );
    rejects(
        &s,
        set(GlobalParam::SubnetLimit(5_000)),
        Rejection::ValueNotInBounds,
    );
    rejects(&s, set(GlobalParam::UnlockRate(0)), Rejection::InvalidValue);
    rejects(
        &s,
        signed(
            ck(1),
            CommandBody::Admin(AdminAction::SetGlobal(GlobalParam::SubnetLimit(1))),
        ),
        Rejection::BadOrigin,
    );
    assert_eq!(s.config.nominator_min_stake(), 20_000_000, "0.02 TAO");
}
