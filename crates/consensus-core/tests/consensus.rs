//! Given/when/then for every command and every rejection.

mod common;

use common::*;
use consensus_core::event::*;
use consensus_core::params::MAX_UNREVEALED_COMMITS;
use consensus_core::*;

// ---------------------------------------------------------------- blocks

#[test]
fn blocks_arrive_in_order_from_the_clock() {
    let s = given(Consensus::default())
        .when(block(1))
        .then(&[ConsensusEvent::BlockObserved(BlockObserved { height: 1 })]);
    assert_eq!(s.height(), 1);
    given(s.clone())
        .when(block(3))
        .then_rejected(Rejection::UnexpectedBlock {
            expected: 2,
            got: 3,
        });
    given(s.clone())
        .when(block(1))
        .then_rejected(Rejection::UnexpectedBlock {
            expected: 2,
            got: 1,
        });
    given(s)
        .when(service(CommandBody::ObserveBlock { height: 2 }))
        .then_rejected(Rejection::BadOrigin);
}

// ---------------------------------------------------------------- subnets

#[test]
fn create_subnet_staggers_the_first_epoch() {
    let mut s = Consensus::default();
    advance_to(&mut s, 100);
    let s = given(s).when(create(7, test_params())).then(&[
        ConsensusEvent::SubnetCreated(SubnetCreated {
            netuid: 7,
            owner: owner(),
            owner_hotkey: owner_hotkey(),
            params: test_params(),
            block: 100,
            last_epoch_block: 93,
            op: None,
        }),
        ConsensusEvent::EpochScheduleChanged(EpochScheduleChanged {
            netuid: 7,
            next_epoch_block: 103,
            trigger_pending: false,
            epoch_ran: false,
        }),
    ]);
    let summary = &s.subnets()[0];
    assert_eq!(summary.netuid, 7);
    assert_eq!(summary.next_auto_epoch_block, 103);
    assert_eq!(s.metagraph(7).unwrap().neurons.len(), 0);
    assert!(s.metagraph(8).is_none());
}

#[test]
fn create_subnet_rejections() {
    let s = subnet_with(0);
    given(s.clone())
        .when(create(0, test_params()))
        .then_rejected(Rejection::NotPermittedOnRootSubnet);
    given(s.clone())
        .when(create(1, test_params()))
        .then_rejected(Rejection::SubnetAlreadyExists);
    given(s.clone())
        .when(signed(
            owner(),
            CommandBody::CreateSubnet {
                netuid: 2,
                owner: owner(),
                owner_hotkey: owner_hotkey(),
                params: test_params(),
                op: None,
            },
        ))
        .then_rejected(Rejection::BadOrigin);
    given(s)
        .when(create(
            2,
            SubnetParams {
                tempo: 0,
                ..test_params()
            },
        ))
        .then_rejected(Rejection::TempoOutOfBounds);
}

fn set_param(netuid: u16, param: Hyperparameter) -> Command {
    service(CommandBody::SetHyperparameter { netuid, param })
}

#[test]
fn hyperparameters_are_set_within_bounds() {
    let s = given(subnet_with(2))
        .when(set_param(1, Hyperparameter::Kappa(40_000)))
        .then(&[ConsensusEvent::HyperparameterSet(HyperparameterSet {
            netuid: 1,
            param: Hyperparameter::Kappa(40_000),
        })]);
    assert_eq!(s.subnet(1).unwrap().params.kappa, 40_000);
    let s = given(s)
        .when(set_param(1, Hyperparameter::LiquidAlpha(true)))
        .then_ok()
        .1;
    let s = given(s)
        .when(set_param(
            1,
            Hyperparameter::AlphaValues {
                low: 2_000,
                high: 3_000,
            },
        ))
        .then_ok()
        .1;
    assert_eq!(s.subnet(1).unwrap().params.alpha_low, 2_000);
}

#[test]
fn hyperparameter_rejections() {
    let s = subnet_with(3); // 4 uids
    use Hyperparameter as H;
    let cases = [
        (H::Tempo(0), Rejection::TempoOutOfBounds),
        (
            H::MaxAllowedUids(257),
            Rejection::MaxAllowedUidsGreaterThanDefaultMaxAllowedUids,
        ),
        (
            H::MaxAllowedUids(3),
            Rejection::MaxAllowedUIdsLessThanCurrentUIds,
        ),
        (
            H::MaxAllowedValidators(300),
            Rejection::MaxValidatorsLargerThanMaxUIds,
        ),
        (
            H::BondsMovingAverage(1_000_001),
            Rejection::BondsMovingAverageMaxReached,
        ),
        (
            H::ActivityCutoffFactorMilli(999),
            Rejection::ActivityCutoffFactorMilliOutOfBounds,
        ),
        (
            H::ActivityCutoffFactorMilli(50_001),
            Rejection::ActivityCutoffFactorMilliOutOfBounds,
        ),
        (H::RevealPeriodEpochs(0), Rejection::RevealPeriodTooSmall),
        (H::RevealPeriodEpochs(101), Rejection::RevealPeriodTooLarge),
        (
            H::AlphaValues {
                low: 2_000,
                high: 3_000,
            },
            Rejection::LiquidAlphaDisabled,
        ),
    ];
    for (param, why) in cases {
        given(s.clone())
            .when(set_param(1, param))
            .then_rejected(why);
    }
    given(s.clone())
        .when(set_param(2, H::Kappa(1)))
        .then_rejected(Rejection::SubnetNotExists);
    given(s.clone())
        .when(signed(
            owner(),
            CommandBody::SetHyperparameter {
                netuid: 1,
                param: H::Kappa(1),
            },
        ))
        .then_rejected(Rejection::BadOrigin);
    let mut s = s;
    run(&mut s, [set_param(1, H::LiquidAlpha(true))]);
    for ((low, high), why) in [
        ((1_000, 3_000), Rejection::AlphaLowOutOfRange),
        ((4_000, 3_000), Rejection::AlphaLowOutOfRange),
        ((1_000, 1_000), Rejection::AlphaHighTooLow),
    ] {
        given(s.clone())
            .when(set_param(1, H::AlphaValues { low, high }))
            .then_rejected(why);
    }
}

#[test]
fn hyperparameters_parse_by_name() {
    assert_eq!(
        Hyperparameter::from_name("tempo", 99),
        Ok(Hyperparameter::Tempo(99))
    );
    assert_eq!(
        Hyperparameter::from_name("commit_reveal_enabled", 1),
        Ok(Hyperparameter::CommitRevealEnabled(true))
    );
    assert_eq!(
        Hyperparameter::from_name("alpha_values", (2_000 << 16) | 3_000),
        Ok(Hyperparameter::AlphaValues {
            low: 2_000,
            high: 3_000
        })
    );
    assert_eq!(
        Hyperparameter::from_name("tempo", 70_000),
        Err(Rejection::InvalidValue)
    );
    assert_eq!(
        Hyperparameter::from_name("yuma3_enabled", 2),
        Err(Rejection::InvalidValue)
    );
    assert_eq!(
        Hyperparameter::from_name("rho", 1),
        Err(Rejection::UnknownHyperparameter("rho".into()))
    );
}

#[test]
fn max_epochs_per_block_is_settable_but_not_zero() {
    let s = given(Consensus::default())
        .when(service(CommandBody::SetMaxEpochsPerBlock { value: 5 }))
        .then(
            &[ConsensusEvent::MaxEpochsPerBlockSet(MaxEpochsPerBlockSet {
                value: 5,
            })],
        );
    assert_eq!(s.max_epochs_per_block(), 5);
    given(s.clone())
        .when(service(CommandBody::SetMaxEpochsPerBlock { value: 0 }))
        .then_rejected(Rejection::InvalidValue);
    // A user may not; the shell itself (`Clock`) may, as for every
    // service-level command (genesis, relayed peer events).
    given(s.clone())
        .when(signed(
            owner(),
            CommandBody::SetMaxEpochsPerBlock { value: 1 },
        ))
        .then_rejected(Rejection::BadOrigin);
    given(s)
        .when(clock(CommandBody::SetMaxEpochsPerBlock { value: 1 }))
        .then_ok();
}

// ---------------------------------------------------------------- registration

#[test]
fn registration_appends_uids() {
    let s = subnet_with(1);
    let s = given(s)
        .when(register(1, hk(9), 5))
        .then(&[ConsensusEvent::NeuronRegistered(NeuronRegistered {
            netuid: 1,
            uid: 2,
            hotkey: hk(9),
            block: 5,
            replaced: None,
            op: None,
        })]);
    let m = s.metagraph(1).unwrap();
    let n = &m.neurons[2];
    assert_eq!((n.hotkey, n.registered_at, n.last_update), (hk(9), 5, 5));
    assert!(!n.validator_permit);
    assert_eq!(m.neurons[1].stake, 1_000);
}

#[test]
fn registration_rejections() {
    let s = subnet_with(1);
    given(s.clone())
        .when(register(1, hk(0), 2))
        .then_rejected(Rejection::HotKeyAlreadyRegisteredInSubNet);
    given(s.clone())
        .when(register(2, hk(5), 2))
        .then_rejected(Rejection::SubnetNotExists);
    given(s.clone())
        .when(signed(
            hk(5),
            CommandBody::RegisterNeuron {
                netuid: 1,
                hotkey: hk(5),
                block: 2,
                op: None,
            },
        ))
        .then_rejected(Rejection::BadOrigin);
    // Full, and only the owner's (immortal) hotkey is left to prune.
    let mut s = Consensus::default();
    run(
        &mut s,
        [
            block(1),
            create(
                1,
                SubnetParams {
                    max_allowed_uids: 1,
                    max_allowed_validators: 1,
                    ..test_params()
                },
            ),
            register(1, owner_hotkey(), 1),
        ],
    );
    given(s)
        .when(register(1, hk(1), 2))
        .then_rejected(Rejection::NoNeuronIdAvailable);
    let mut s = Consensus::default();
    run(
        &mut s,
        [
            block(1),
            create(
                1,
                SubnetParams {
                    max_allowed_uids: 0,
                    max_allowed_validators: 0,
                    ..test_params()
                },
            ),
        ],
    );
    given(s)
        .when(register(1, hk(1), 2))
        .then_rejected(Rejection::NoNeuronIdAvailable);
}

/// A full subnet of 4: owner at uid 0, hk(0..3) at 1..=3, registered at
/// blocks 1, 2, 3.
fn full_subnet(immunity_period: u16, min_non_immune_uids: u16) -> Consensus {
    let mut s = Consensus::default();
    run(
        &mut s,
        [
            block(1),
            create(
                1,
                SubnetParams {
                    max_allowed_uids: 4,
                    max_allowed_validators: 4,
                    immunity_period,
                    min_non_immune_uids,
                    ..test_params()
                },
            ),
            register(1, owner_hotkey(), 1),
            register(1, hk(0), 1),
            register(1, hk(1), 2),
            register(1, hk(2), 3),
        ],
    );
    s
}

#[test]
fn full_subnet_replaces_the_pruning_choice() {
    // All emissions 0: earliest registration wins (uid 1), never the owner.
    let s = full_subnet(0, 0);
    let (events, s) = given(s).when(register(1, hk(7), 50)).then_ok();
    assert_eq!(
        events,
        vec![ConsensusEvent::NeuronRegistered(NeuronRegistered {
            netuid: 1,
            uid: 1,
            hotkey: hk(7),
            block: 50,
            replaced: Some(hk(0)),
            op: None,
        })]
    );
    let m = s.metagraph(1).unwrap();
    assert_eq!(m.neurons[1].hotkey, hk(7));
    assert_eq!(m.neurons[1].registered_at, 50);
    // Next: uid 2 (registered at 2), then uid 3.
    let (events, _) = given(s).when(register(1, hk(8), 51)).then_ok();
    assert!(matches!(
        &events[0],
        ConsensusEvent::NeuronRegistered(NeuronRegistered { uid: 2, .. })
    ));
}

#[test]
fn pruning_prefers_non_immune_above_the_floor() {
    // Immunity 10 blocks: at block 12, uids registered at 1 and 2 are free,
    // the one registered at 3 is immune.
    let mut s = full_subnet(10, 0);
    advance_to(&mut s, 12);
    let (e, _) = given(s.clone()).when(register(1, hk(7), 12)).then_ok();
    assert!(matches!(
        &e[0],
        ConsensusEvent::NeuronRegistered(NeuronRegistered { uid: 1, .. })
    ));
    // With a floor of 2 free uids, 2 free is not enough: the best immune goes.
    let mut s = full_subnet(10, 2);
    advance_to(&mut s, 12);
    let (e, _) = given(s).when(register(1, hk(7), 12)).then_ok();
    assert!(matches!(
        &e[0],
        ConsensusEvent::NeuronRegistered(NeuronRegistered { uid: 3, .. })
    ));
}

#[test]
fn pruning_uses_last_emission_first() {
    let mut s = full_subnet(0, 0);
    // uid 1 staked: after an epoch it holds the emission, uids 2 and 3 none.
    run(
        &mut s,
        [
            stake(1, hk(0), 1_000),
            service(CommandBody::EmissionPending {
                netuid: 1,
                rao: 1_000_000,
            }),
        ],
    );
    let events = advance_to(&mut s, 10);
    assert_eq!(epochs(&events).len(), 1);
    assert!(s.metagraph(1).unwrap().neurons[1].emission > 0);
    let (e, _) = given(s).when(register(1, hk(7), 11)).then_ok();
    assert!(matches!(
        &e[0],
        ConsensusEvent::NeuronRegistered(NeuronRegistered { uid: 2, .. })
    ));
}

#[test]
fn replacing_a_uid_clears_its_rows_and_zeroes_weights_on_it() {
    let mut s = full_subnet(0, 0);
    advance_to(&mut s, 10); // epoch: the owner gets its permit
    run(
        &mut s,
        [set_weights(owner_hotkey(), 1, &[1, 2, 3], &[10, 20, 40])],
    );
    let before = s.metagraph(1).unwrap();
    assert_eq!(
        before.neurons[0].weights,
        vec![(1, 16384), (2, 32768), (3, 65535)]
    );
    run(&mut s, [register(1, hk(7), 11)]); // replaces uid 1
    let m = s.metagraph(1).unwrap();
    assert_eq!(m.neurons[0].weights, vec![(1, 0), (2, 32768), (3, 65535)]);
    assert!(m.neurons[1].weights.is_empty() && m.neurons[1].bonds.is_empty());
    assert!(!m.neurons[1].validator_permit);
    assert_eq!(m.neurons[1].last_update, 11);
}

// ---------------------------------------------------------------- stake and emission

#[test]
fn stake_updates_replace_the_reported_stake() {
    let s = subnet_with(1);
    let s = given(s)
        .when(stake(1, hk(0), 5))
        .then(&[ConsensusEvent::StakeUpdated(StakeUpdated {
            netuid: 1,
            hotkey: hk(0),
            stake: 5,
        })]);
    assert_eq!(s.stake_of(1, &hk(0)), 5);
    let s = given(s).when(stake(1, hk(0), 5)).then(&[]);
    let s = given(s).when(stake(1, hk(0), 0)).then_ok().1;
    assert_eq!(s.stake_of(1, &hk(0)), 0);
    given(s.clone())
        .when(stake(9, hk(0), 1))
        .then_rejected(Rejection::SubnetNotExists);
    given(s)
        .when(signed(
            hk(0),
            CommandBody::StakeUpdate {
                netuid: 1,
                hotkey: hk(0),
                stake: 1,
            },
        ))
        .then_rejected(Rejection::BadOrigin);
}

fn emission(netuid: u16, rao: u64) -> Command {
    service(CommandBody::EmissionPending { netuid, rao })
}

#[test]
fn emission_accumulates_until_an_epoch() {
    let s = given(subnet_with(1))
        .when(emission(1, 7))
        .then(&[ConsensusEvent::EmissionAccrued(EmissionAccrued {
            netuid: 1,
            rao: 7,
        })]);
    let s = given(s).when(emission(1, 0)).then(&[]);
    let mut s = given(s).when(emission(1, 3)).then_ok().1;
    assert_eq!(s.subnets()[0].pending_emission, 10);
    given(s.clone())
        .when(emission(1, u64::MAX))
        .then_rejected(Rejection::Overflow);
    given(s.clone())
        .when(emission(2, 1))
        .then_rejected(Rejection::SubnetNotExists);
    let events = advance_to(&mut s, 10);
    assert_eq!(epochs(&events)[0].rao, 10);
    assert_eq!(s.subnets()[0].pending_emission, 0);
}

// ---------------------------------------------------------------- set_weights

/// Subnet 1 with owner + 3 staked neurons, after the epoch at block 10 (so
/// the staked ones hold permits), at block 10.
fn permitted() -> Consensus {
    let mut s = subnet_with(3);
    advance_to(&mut s, 10);
    let m = s.metagraph(1).unwrap();
    assert!(m.neurons.iter().all(|n| n.validator_permit));
    s
}

#[test]
fn set_weights_stores_the_max_upscaled_row_with_zeros() {
    let s = given(permitted())
        .when(set_weights(hk(0), 1, &[0, 2, 3], &[0, 21845, 43690]))
        .then(&[ConsensusEvent::WeightsSet(WeightsSet {
            netuid: 1,
            uid: 1,
            hotkey: hk(0),
            weights: vec![(0, 0), (2, 32768), (3, 65535)],
            block: 10,
        })]);
    let n = &s.metagraph(1).unwrap().neurons[1];
    assert_eq!(n.last_update, 10);
    assert_eq!(n.weights, vec![(0, 0), (2, 32768), (3, 65535)]);
}

#[test]
fn self_weight_and_owner_need_no_permit() {
    let s = subnet_with(2); // no epoch yet: no permits
    let s = given(s).when(set_weights(hk(0), 1, &[1], &[5])).then_ok().1;
    assert_eq!(s.metagraph(1).unwrap().neurons[1].weights, vec![(1, 65535)]);
    given(s.clone())
        .when(set_weights(hk(0), 1, &[2], &[5]))
        .then_rejected(Rejection::NeuronNoValidatorPermit);
    given(s)
        .when(set_weights(owner_hotkey(), 1, &[1, 2], &[1, 1]))
        .then_ok();
}

/// Each rule of governance.md §6.1 in turn, each input breaking that rule
/// and every later one, so the first failing check is the one reported.
#[test]
fn set_weights_checks_run_in_the_chain_order() {
    let mut s = permitted();
    run(
        &mut s,
        [
            set_param(1, Hyperparameter::StakeThreshold(1_500)),
            set_param(1, Hyperparameter::WeightsVersionKey(7)),
            set_param(1, Hyperparameter::MinAllowedWeights(3)),
            set_param(1, Hyperparameter::MaxWeightLimit(30_000)),
            set_param(1, Hyperparameter::WeightsRateLimit(5)),
            register(1, hk(9), 10),
            stake(1, hk(9), 5_000),
        ],
    );
    advance_to(&mut s, 12);
    let sw = |who, netuid, uids: &[u16], values: &[u16], version_key| {
        signed(
            who,
            CommandBody::SetWeights {
                netuid,
                uids: uids.to_vec(),
                values: values.to_vec(),
                version_key,
            },
        )
    };
    let bad = [0u16, 0, 9, 9, 9]; // duplicate and invalid uids
    let cases: Vec<(Command, Rejection)> = vec![
        (
            sw(hk(9), 0, &bad, &[1], 0),
            Rejection::CanNotSetRootNetworkWeights,
        ),
        (
            sw(hk(9), 1, &bad, &[1], 0),
            Rejection::WeightVecNotEqualSize,
        ),
        (sw(hk(9), 2, &bad, &[1; 5], 0), Rejection::SubnetNotExists),
        (
            sw(hk(9), 1, &[0, 1, 2, 3, 4, 5], &[1; 6], 0),
            Rejection::UidsLengthExceedUidsInSubNet,
        ),
        (
            sw(hk(8), 1, &bad, &[1; 5], 0),
            Rejection::HotKeyNotRegisteredInSubNet,
        ),
        (
            sw(hk(0), 1, &bad, &[1; 5], 0),
            Rejection::NotEnoughStakeToSetWeights,
        ),
        (
            sw(hk(9), 1, &bad, &[1; 5], 6),
            Rejection::IncorrectWeightVersionKey,
        ),
        (
            sw(hk(9), 1, &bad, &[1; 5], 7),
            Rejection::SettingWeightsTooFast,
        ),
    ];
    for (cmd, why) in cases {
        given(s.clone()).when(cmd).then_rejected(why);
    }
    advance_to(&mut s, 15);
    let cases: Vec<(Command, Rejection)> = vec![
        (
            sw(hk(9), 1, &bad, &[1; 5], 7),
            Rejection::NeuronNoValidatorPermit,
        ),
        (sw(hk(2), 1, &bad, &[1; 5], 7), Rejection::DuplicateUids),
        (
            sw(hk(2), 1, &[0, 9], &[1, 1], 7),
            Rejection::UidVecContainInvalidOne,
        ),
        (
            sw(hk(2), 1, &[0, 1], &[1, 1], 7),
            Rejection::WeightVecLengthIsLow,
        ),
        (
            sw(hk(2), 1, &[0, 1, 2], &[1, 1, 5], 7),
            Rejection::MaxWeightExceeded,
        ),
    ];
    for (cmd, why) in cases {
        given(s.clone()).when(cmd).then_rejected(why);
    }
    // Within the limit: max share 1/4 ≤ 30000/65535.
    given(s.clone())
        .when(sw(hk(2), 1, &[0, 1, 2, 3], &[1, 1, 1, 1], 7))
        .then_ok();
    // A self weight passes the length and limit rules.
    given(s).when(sw(hk(9), 1, &[4], &[1], 7)).then_ok();
}

#[test]
fn set_weights_is_refused_under_commit_reveal_and_from_non_signers() {
    let mut s = permitted();
    given(s.clone())
        .when(Command::new(
            Origin::Service(service_key()),
            CommandBody::SetWeights {
                netuid: 1,
                uids: vec![1],
                values: vec![1],
                version_key: 0,
            },
        ))
        .then_rejected(Rejection::BadOrigin);
    run(
        &mut s,
        [set_param(1, Hyperparameter::CommitRevealEnabled(true))],
    );
    given(s)
        .when(set_weights(hk(0), 0, &[1], &[1, 2]))
        .then_rejected(Rejection::CanNotSetRootNetworkWeights);
    let mut s = permitted();
    run(
        &mut s,
        [set_param(1, Hyperparameter::CommitRevealEnabled(true))],
    );
    given(s)
        .when(set_weights(hk(0), 1, &[1], &[1, 2]))
        .then_rejected(Rejection::CommitRevealEnabled);
}

#[test]
fn rate_limit_counts_from_the_last_update() {
    let mut s = permitted();
    run(&mut s, [set_param(1, Hyperparameter::WeightsRateLimit(3))]);
    // Registered at 1, now 10: passes; then blocked until 13.
    run(&mut s, [set_weights(hk(0), 1, &[1], &[1])]);
    advance_to(&mut s, 12);
    given(s.clone())
        .when(set_weights(hk(0), 1, &[1], &[1]))
        .then_rejected(Rejection::SettingWeightsTooFast);
    advance_to(&mut s, 13);
    given(s).when(set_weights(hk(0), 1, &[1], &[1])).then_ok();
}

// ---------------------------------------------------------------- trigger_epoch

fn trigger(who: keys::AccountId, netuid: u16) -> Command {
    signed(who, CommandBody::TriggerEpoch { netuid })
}

#[test]
fn trigger_epoch_schedules_after_the_freeze_window() {
    let mut s = Consensus::default();
    run(
        &mut s,
        [
            block(1),
            create(
                1,
                SubnetParams {
                    tempo: 100,
                    ..test_params()
                },
            ),
        ],
    );
    advance_to(&mut s, 20);
    let mut s = given(s).when(trigger(owner(), 1)).then(&[
        ConsensusEvent::EpochTriggered(EpochTriggered {
            netuid: 1,
            fires_at: 30,
        }),
        // the freeze window governance keeps: a trigger is pending
        ConsensusEvent::EpochScheduleChanged(EpochScheduleChanged {
            netuid: 1,
            next_epoch_block: 100,
            trigger_pending: true,
            epoch_ran: false,
        }),
    ]);
    assert_eq!(s.next_epoch_block(1), Some(100));
    assert_eq!(s.trigger_pending(1), Some(true));
    given(s.clone())
        .when(trigger(owner(), 1))
        .then_rejected(Rejection::EpochTriggerAlreadyPending);
    let events = advance_to(&mut s, 29);
    assert!(epochs(&events).is_empty());
    let events = advance_to(&mut s, 30);
    assert_eq!(epochs(&events).len(), 1);
    let summary = &s.subnets()[0];
    assert_eq!(
        (summary.last_epoch_block, summary.pending_epoch_at),
        (30, 0)
    );
    // Next auto epoch at 130; a governance (service) trigger works too.
    given(s)
        .when(service(CommandBody::TriggerEpoch { netuid: 1 }))
        .then_ok();
}

#[test]
fn trigger_epoch_rejections() {
    let mut s = Consensus::default();
    run(
        &mut s,
        [
            block(1),
            create(
                1,
                SubnetParams {
                    tempo: 100,
                    ..test_params()
                },
            ),
            create(
                2,
                SubnetParams {
                    tempo: 100,
                    commit_reveal_enabled: true,
                    ..test_params()
                },
            ),
        ],
    );
    advance_to(&mut s, 20);
    given(s.clone())
        .when(trigger(hk(1), 1))
        .then_rejected(Rejection::BadOrigin);
    given(s.clone())
        .when(clock(CommandBody::TriggerEpoch { netuid: 1 }))
        .then_rejected(Rejection::BadOrigin);
    given(s.clone())
        .when(trigger(owner(), 3))
        .then_rejected(Rejection::SubnetNotExists);
    given(s.clone())
        .when(trigger(owner(), 2))
        .then_rejected(Rejection::DynamicTempoBlockedByCommitReveal);
    // Subnet 1: last epoch slot 0, next auto at 100; at 91 only 9 remain.
    advance_to(&mut s, 91);
    given(s)
        .when(trigger(owner(), 1))
        .then_rejected(Rejection::AutoEpochAlreadyImminent);
}

// ---------------------------------------------------------------- commit-reveal

/// `permitted()` with commit-reveal on (reveal period 1), at block 10,
/// epoch index 1.
fn cr() -> Consensus {
    let mut s = permitted();
    run(
        &mut s,
        [set_param(1, Hyperparameter::CommitRevealEnabled(true))],
    );
    s
}

const SALT: [u16; 3] = [7, 8, 9];

fn commit(who: keys::AccountId, uids: &[u16], values: &[u16]) -> Command {
    signed(
        who,
        CommandBody::CommitWeights {
            netuid: 1,
            hash: commit_hash(&who, 1, uids, values, &SALT, 0),
        },
    )
}

fn reveal(who: keys::AccountId, uids: &[u16], values: &[u16]) -> Command {
    signed(
        who,
        CommandBody::RevealWeights {
            netuid: 1,
            uids: uids.to_vec(),
            values: values.to_vec(),
            salt: SALT.to_vec(),
            version_key: 0,
        },
    )
}

#[test]
fn commit_then_reveal_in_the_next_epoch() {
    let s = cr();
    let hash = commit_hash(&hk(0), 1, &[2, 3], &[1, 2], &SALT, 0);
    let mut s =
        given(s)
            .when(commit(hk(0), &[2, 3], &[1, 2]))
            .then(&[ConsensusEvent::WeightsCommitted(WeightsCommitted {
                netuid: 1,
                uid: 1,
                hotkey: hk(0),
                hash,
                block: 10,
                epoch: 1,
                expired_dropped: 0,
            })]);
    given(s.clone())
        .when(reveal(hk(0), &[2, 3], &[1, 2]))
        .then_rejected(Rejection::RevealTooEarly);
    advance_to(&mut s, 20); // epoch 2
    let s =
        given(s)
            .when(reveal(hk(0), &[2, 3], &[1, 2]))
            .then(&[ConsensusEvent::WeightsRevealed(WeightsRevealed {
                netuid: 1,
                uid: 1,
                hotkey: hk(0),
                hash,
                weights: vec![(2, 32768), (3, 65535)],
                commits_removed: 1,
            })]);
    let n = &s.metagraph(1).unwrap().neurons[1];
    assert_eq!(n.weights, vec![(2, 32768), (3, 65535)]);
    assert_eq!(
        n.last_update, 10,
        "the commit set LastUpdate, the reveal does not"
    );
    assert!(s.subnet(1).unwrap().commits.is_empty());
    given(s)
        .when(reveal(hk(0), &[2, 3], &[1, 2]))
        .then_rejected(Rejection::NoWeightsCommitFound);
}

#[test]
fn reveal_failures() {
    let mut s = cr();
    run(&mut s, [commit(hk(0), &[2, 3], &[1, 2])]);
    advance_to(&mut s, 20);
    given(s.clone())
        .when(reveal(hk(0), &[2, 3], &[1, 3]))
        .then_rejected(Rejection::InvalidRevealCommitHashNotMatch);
    given(s.clone())
        .when(reveal(hk(1), &[2, 3], &[1, 2]))
        .then_rejected(Rejection::NoWeightsCommitFound);
    // A matching reveal whose weights break a set_weights rule is refused whole.
    let mut bad = s.clone();
    run(&mut bad, [commit(hk(1), &[2, 2], &[1, 1])]);
    advance_to(&mut bad, 30);
    given(bad)
        .when(reveal(hk(1), &[2, 2], &[1, 1]))
        .then_rejected(Rejection::DuplicateUids);
    // After the reveal epoch the commit has expired.
    advance_to(&mut s, 30);
    given(s.clone())
        .when(reveal(hk(0), &[2, 3], &[1, 2]))
        .then_rejected(Rejection::ExpiredWeightCommit);
    given(s)
        .when(reveal(hk(0), &[2, 3], &[9, 9]))
        .then_rejected(Rejection::NoWeightsCommitFound);
}

#[test]
fn commit_failures() {
    let s = cr();
    given(s.clone())
        .when(commit(hk(8), &[1], &[1]))
        .then_rejected(Rejection::HotKeyNotRegisteredInSubNet);
    given(s.clone())
        .when(Command::new(
            Origin::Signed(hk(0)),
            CommandBody::CommitWeights {
                netuid: 4,
                hash: [0; 32],
            },
        ))
        .then_rejected(Rejection::SubnetNotExists);
    let mut limited = s.clone();
    run(
        &mut limited,
        [
            set_param(1, Hyperparameter::StakeThreshold(1_500)),
            set_param(1, Hyperparameter::WeightsRateLimit(2)),
        ],
    );
    given(limited.clone())
        .when(commit(hk(0), &[1], &[1]))
        .then_rejected(Rejection::NotEnoughStakeToSetWeights);
    run(&mut limited, [commit(hk(1), &[1], &[1])]);
    given(limited)
        .when(commit(hk(1), &[1], &[2]))
        .then_rejected(Rejection::CommittingWeightsTooFast);
    // At most MAX_UNREVEALED_COMMITS queued.
    let mut full = s.clone();
    for i in 0..MAX_UNREVEALED_COMMITS as u16 {
        run(&mut full, [commit(hk(0), &[1], &[i + 1])]);
    }
    given(full.clone())
        .when(commit(hk(0), &[1], &[99]))
        .then_rejected(Rejection::TooManyUnrevealedCommits);
    // Once they expire, the queue makes room (and drops them).
    advance_to(&mut full, 30);
    let (events, full) = given(full).when(commit(hk(0), &[1], &[99])).then_ok();
    assert!(matches!(
        &events[0],
        ConsensusEvent::WeightsCommitted(WeightsCommitted {
            expired_dropped: 10,
            epoch: 3,
            ..
        })
    ));
    assert_eq!(full.subnet(1).unwrap().commits[&hk(0)].len(), 1);
    // Disabled: both calls refused.
    let s = permitted();
    given(s.clone())
        .when(commit(hk(0), &[1], &[1]))
        .then_rejected(Rejection::CommitRevealDisabled);
    given(s)
        .when(reveal(hk(0), &[1], &[1]))
        .then_rejected(Rejection::CommitRevealDisabled);
}

#[test]
fn commit_hash_binds_every_field() {
    let base = commit_hash(&hk(0), 1, &[1, 2], &[3, 4], &[5], 6);
    assert_ne!(base, commit_hash(&hk(1), 1, &[1, 2], &[3, 4], &[5], 6));
    assert_ne!(base, commit_hash(&hk(0), 2, &[1, 2], &[3, 4], &[5], 6));
    assert_ne!(base, commit_hash(&hk(0), 1, &[1], &[2, 3, 4], &[5], 6));
    assert_ne!(base, commit_hash(&hk(0), 1, &[1, 2], &[3, 4], &[], 6));
    assert_ne!(base, commit_hash(&hk(0), 1, &[1, 2], &[3, 4], &[5], 7));
    assert_eq!(base, commit_hash(&hk(0), 1, &[1, 2], &[3, 4], &[5], 6));
}
