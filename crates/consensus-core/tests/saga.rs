//! Governance's saga steps as consensus sees them: `CreateSubnet` /
//! `RegisterNeuron` carrying an `op` (refusals recorded as `StepRefused`),
//! `DropSubnet`, and the `EpochScheduleChanged` announcements governance
//! keeps its freeze window with.

mod common;

use common::*;
use consensus_core::event::*;
use consensus_core::*;

fn create_op(netuid: u16, params: SubnetParams, op: &str) -> Command {
    service(CommandBody::CreateSubnet {
        netuid,
        owner: owner(),
        owner_hotkey: owner_hotkey(),
        params,
        op: Some(op.into()),
    })
}

fn register_op(netuid: u16, hotkey: keys::AccountId, block: u64, op: &str) -> Command {
    service(CommandBody::RegisterNeuron {
        netuid,
        hotkey,
        block,
        op: Some(op.into()),
    })
}

fn refused(op: &str, r: Rejection) -> ConsensusEvent {
    ConsensusEvent::StepRefused(StepRefused {
        op: op.into(),
        code: r.code(),
        message: r.to_string(),
    })
}

fn drop_subnet(netuid: u16) -> Command {
    service(CommandBody::DropSubnet { netuid })
}

fn schedule_events(events: &[ConsensusEvent]) -> Vec<&EpochScheduleChanged> {
    events
        .iter()
        .filter_map(|e| match e {
            ConsensusEvent::EpochScheduleChanged(c) => Some(c),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------- op steps

#[test]
fn a_relayed_create_subnet_carries_its_op() {
    let mut s = Consensus::default();
    advance_to(&mut s, 100);
    let s = given(s).when(create_op(7, test_params(), "sn-a")).then(&[
        ConsensusEvent::SubnetCreated(SubnetCreated {
            netuid: 7,
            owner: owner(),
            owner_hotkey: owner_hotkey(),
            params: test_params(),
            block: 100,
            last_epoch_block: 93,
            op: Some("sn-a".into()),
        }),
        ConsensusEvent::EpochScheduleChanged(EpochScheduleChanged {
            netuid: 7,
            next_epoch_block: 103,
            trigger_pending: false,
            epoch_ran: false,
        }),
        // the metagraph opens with the owner hotkey at uid 0
        ConsensusEvent::NeuronRegistered(NeuronRegistered {
            netuid: 7,
            uid: 0,
            hotkey: owner_hotkey(),
            block: 100,
            replaced: None,
            op: None,
        }),
    ]);
    let m = s.metagraph(7).unwrap();
    assert_eq!(m.neurons.len(), 1);
    assert_eq!((m.neurons[0].uid, m.neurons[0].hotkey), (0, owner_hotkey()));
    assert_eq!(s.next_epoch_block(7), Some(103));
    assert_eq!(s.trigger_pending(7), Some(false));
    assert_eq!(s.next_epoch_block(8), None);
}

#[test]
fn a_refused_create_subnet_with_an_op_is_recorded_not_rejected() {
    let s = subnet_with(0);
    let before = s.clone();
    let s = given(s)
        .when(create_op(1, test_params(), "dup"))
        .then(&[refused("dup", Rejection::SubnetAlreadyExists)]);
    assert_eq!(s, before, "StepRefused changes no state");
    given(s.clone())
        .when(create_op(0, test_params(), "root"))
        .then(&[ConsensusEvent::StepRefused(StepRefused {
            op: "root".into(),
            code: "NotPermittedOnRootSubnet".into(),
            message: "not permitted on the root subnet".into(),
        })]);
    given(s.clone())
        .when(create_op(
            2,
            SubnetParams {
                tempo: 0,
                ..test_params()
            },
            "t0",
        ))
        .then(&[refused("t0", Rejection::TempoOutOfBounds)]);
    // a registered subnet needs room for its owner hotkey
    given(s.clone())
        .when(create_op(
            2,
            SubnetParams {
                max_allowed_uids: 0,
                max_allowed_validators: 0,
                ..test_params()
            },
            "u0",
        ))
        .then(&[refused("u0", Rejection::NoNeuronIdAvailable)]);
    // The origin is checked before: a user cannot record a step outcome.
    given(s.clone())
        .when(signed(
            owner(),
            CommandBody::CreateSubnet {
                netuid: 2,
                owner: owner(),
                owner_hotkey: owner_hotkey(),
                params: test_params(),
                op: Some("x".into()),
            },
        ))
        .then_rejected(Rejection::BadOrigin);
    // Without an op the rejection stands, as before.
    given(s)
        .when(create(1, test_params()))
        .then_rejected(Rejection::SubnetAlreadyExists);
}

#[test]
fn the_shell_may_relay_steps_as_clock() {
    let mut s = Consensus::default();
    run(&mut s, [block(1)]);
    let (events, s) = given(s)
        .when(clock(CommandBody::CreateSubnet {
            netuid: 1,
            owner: owner(),
            owner_hotkey: owner_hotkey(),
            params: test_params(),
            op: Some("sn".into()),
        }))
        .then_ok();
    assert!(
        matches!(&events[0], ConsensusEvent::SubnetCreated(c) if c.op.as_deref() == Some("sn"))
    );
    assert_eq!(s.metagraph(1).unwrap().neurons.len(), 1, "owner at uid 0");
    let (events, _) = given(s)
        .when(clock(CommandBody::RegisterNeuron {
            netuid: 1,
            hotkey: hk(1),
            block: 1,
            op: Some("nr".into()),
        }))
        .then_ok();
    assert!(
        matches!(&events[0], ConsensusEvent::NeuronRegistered(n) if n.op.as_deref() == Some("nr") && n.uid == 1)
    );
}

#[test]
fn a_relayed_registration_carries_its_op() {
    let s = subnet_with(1);
    let s =
        given(s)
            .when(register_op(1, hk(9), 5, "nr-9"))
            .then(&[ConsensusEvent::NeuronRegistered(NeuronRegistered {
                netuid: 1,
                uid: 2,
                hotkey: hk(9),
                block: 5,
                replaced: None,
                op: Some("nr-9".into()),
            })]);
    assert_eq!(s.metagraph(1).unwrap().neurons[2].hotkey, hk(9));
}

#[test]
fn a_refused_registration_with_an_op_is_recorded_for_governance() {
    let s = subnet_with(1);
    given(s.clone())
        .when(register_op(1, hk(0), 2, "again"))
        .then(&[ConsensusEvent::StepRefused(StepRefused {
            op: "again".into(),
            code: "HotKeyAlreadyRegisteredInSubNet".into(),
            message: "hotkey already registered in subnet".into(),
        })]);
    given(s.clone())
        .when(register_op(2, hk(5), 2, "nowhere"))
        .then(&[refused("nowhere", Rejection::SubnetNotExists)]);
    given(s.clone())
        .when(signed(
            hk(5),
            CommandBody::RegisterNeuron {
                netuid: 1,
                hotkey: hk(5),
                block: 2,
                op: Some("x".into()),
            },
        ))
        .then_rejected(Rejection::BadOrigin);
    // Full, and only the owner's (immortal) hotkey is left.
    let mut full = Consensus::default();
    run(
        &mut full,
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
    given(full)
        .when(register_op(1, hk(1), 2, "full"))
        .then(&[refused("full", Rejection::NoNeuronIdAvailable)]);
}

#[test]
fn rejection_codes_are_variant_names() {
    assert_eq!(Rejection::SubnetNotExists.code(), "SubnetNotExists");
    assert_eq!(
        Rejection::UnexpectedBlock {
            expected: 2,
            got: 3
        }
        .code(),
        "UnexpectedBlock"
    );
    assert_eq!(
        Rejection::UnknownHyperparameter("x".into()).code(),
        "UnknownHyperparameter"
    );
}

#[test]
fn json_commands_without_an_op_still_parse() {
    let json = serde_json::json!({"RegisterNeuron": {
        "netuid": 1, "hotkey": hk(1), "block": 3
    }});
    let body: CommandBody = serde_json::from_value(json).unwrap();
    assert_eq!(
        body,
        CommandBody::RegisterNeuron {
            netuid: 1,
            hotkey: hk(1),
            block: 3,
            op: None
        }
    );
}

// ---------------------------------------------------------------- drop

#[test]
fn drop_subnet_forgets_everything_and_the_netuid_can_return() {
    let mut s = subnet_with(2);
    advance_to(&mut s, 10); // the first epoch hands out permits
    run(
        &mut s,
        [
            set_weights(hk(1), 1, &[1, 2], &[1, 1]),
            service(CommandBody::EmissionPending {
                netuid: 1,
                rao: 1_000,
            }),
        ],
    );
    advance_to(&mut s, 20); // the second one forms bonds
    run(
        &mut s,
        [service(CommandBody::EmissionPending {
            netuid: 1,
            rao: 500,
        })],
    );
    let m = s.metagraph(1).unwrap();
    assert!(m.neurons.iter().any(|n| !n.bonds.is_empty()));
    assert!(m.neurons.iter().any(|n| !n.weights.is_empty()));
    assert_eq!(m.pending_emission, 500);
    let s = given(s)
        .when(drop_subnet(1))
        .then(&[ConsensusEvent::SubnetDropped(SubnetDropped { netuid: 1 })]);
    assert!(s.metagraph(1).is_none());
    assert!(s.subnets().is_empty());
    assert_eq!(s.stake_of(1, &hk(1)), 0);
    assert_eq!(s.next_epoch_block(1), None);
    // No epochs for it any more.
    let mut s = s;
    let events = advance_to(&mut s, 40);
    assert!(epochs(&events).is_empty());
    assert!(schedule_events(&events).is_empty());
    // Created again: empty metagraph, nothing pending, schedule announced.
    let (events, s) = given(s).when(create(1, test_params())).then_ok();
    assert_eq!(
        schedule_events(&events),
        vec![&EpochScheduleChanged {
            netuid: 1,
            next_epoch_block: 49,
            trigger_pending: false,
            epoch_ran: false,
        }]
    );
    let m = s.metagraph(1).unwrap();
    assert!(m.neurons.is_empty());
    assert_eq!((m.pending_emission, m.epoch_index), (0, 0));
}

#[test]
fn drop_subnet_rejections() {
    let s = subnet_with(0);
    given(s.clone())
        .when(drop_subnet(2))
        .then_rejected(Rejection::SubnetNotExists);
    given(s.clone())
        .when(drop_subnet(0))
        .then_rejected(Rejection::SubnetNotExists);
    given(s.clone())
        .when(signed(owner(), CommandBody::DropSubnet { netuid: 1 }))
        .then_rejected(Rejection::BadOrigin);
    given(s)
        .when(clock(CommandBody::DropSubnet { netuid: 1 }))
        .then_ok();
}

// ---------------------------------------------------------------- schedule

#[test]
fn an_epoch_announces_the_next_one() {
    // Subnet 1, tempo 10, created at block 1: slot 0, next epoch at 10.
    let mut s = subnet_with(1);
    assert_eq!(s.next_epoch_block(1), Some(10));
    let events = advance_to(&mut s, 9);
    assert!(schedule_events(&events).is_empty(), "nothing changed");
    let events = advance_to(&mut s, 10);
    let pos = events
        .iter()
        .position(|e| matches!(e, ConsensusEvent::EpochRan(_)))
        .unwrap();
    assert_eq!(
        events[pos + 1],
        ConsensusEvent::EpochScheduleChanged(EpochScheduleChanged {
            netuid: 1,
            next_epoch_block: 20,
            trigger_pending: false,
            epoch_ran: true,
        })
    );
    assert_eq!(events.len(), pos + 2);
    assert_eq!(s.next_epoch_block(1), Some(20));
}

#[test]
fn a_new_tempo_announces_a_new_schedule_other_parameters_do_not() {
    let mut s = subnet_with(1);
    advance_to(&mut s, 15);
    given(s.clone())
        .when(service(CommandBody::SetHyperparameter {
            netuid: 1,
            param: Hyperparameter::Tempo(4),
        }))
        .then(&[
            ConsensusEvent::HyperparameterSet(HyperparameterSet {
                netuid: 1,
                param: Hyperparameter::Tempo(4),
            }),
            ConsensusEvent::EpochScheduleChanged(EpochScheduleChanged {
                netuid: 1,
                next_epoch_block: 19,
                trigger_pending: false,
                epoch_ran: false,
            }),
        ]);
    given(s.clone())
        .when(service(CommandBody::SetHyperparameter {
            netuid: 1,
            param: Hyperparameter::Kappa(1),
        }))
        .then(&[ConsensusEvent::HyperparameterSet(HyperparameterSet {
            netuid: 1,
            param: Hyperparameter::Kappa(1),
        })]);
    // The same tempo restarts the cycle at 15: next 25 instead of 20.
    let (events, mut s) = given(s)
        .when(service(CommandBody::SetHyperparameter {
            netuid: 1,
            param: Hyperparameter::Tempo(10),
        }))
        .then_ok();
    assert_eq!(schedule_events(&events)[0].next_epoch_block, 25);
    // Restarting at the slot it already has changes nothing: no announcement.
    advance_to(&mut s, 25);
    assert_eq!(s.next_epoch_block(1), Some(35));
    let (events, _) = given(s.clone())
        .when(service(CommandBody::SetHyperparameter {
            netuid: 1,
            param: Hyperparameter::Tempo(10),
        }))
        .then_ok();
    assert!(
        schedule_events(&events).is_empty(),
        "restart at 25 = the last slot: next stays 35"
    );
}

#[test]
fn deferrals_announce_a_pending_epoch_once() {
    let mut s = Consensus::default();
    run(&mut s, [block(1)]);
    for netuid in [11, 21, 31] {
        run(&mut s, [create(netuid, test_params())]);
    }
    run(
        &mut s,
        [service(CommandBody::SetMaxEpochsPerBlock { value: 1 })],
    );
    advance_to(&mut s, 9);
    let events = advance_to(&mut s, 10);
    // 11 ran; 21 and 31 deferred: pending from now on.
    assert_eq!(
        schedule_events(&events),
        vec![
            &EpochScheduleChanged {
                netuid: 11,
                next_epoch_block: 20,
                trigger_pending: false,
                epoch_ran: true,
            },
            &EpochScheduleChanged {
                netuid: 21,
                next_epoch_block: 10,
                trigger_pending: true,
                epoch_ran: false,
            },
            &EpochScheduleChanged {
                netuid: 31,
                next_epoch_block: 10,
                trigger_pending: true,
                epoch_ran: false,
            },
        ]
    );
    assert_eq!(s.trigger_pending(31), Some(true));
    let events = advance_to(&mut s, 11);
    // 21 ran; 31 deferred again: still pending, nothing new to say.
    assert_eq!(
        schedule_events(&events),
        vec![&EpochScheduleChanged {
            netuid: 21,
            next_epoch_block: 21,
            trigger_pending: false,
            epoch_ran: true,
        }]
    );
    let events = advance_to(&mut s, 12);
    assert_eq!(
        schedule_events(&events),
        vec![&EpochScheduleChanged {
            netuid: 31,
            next_epoch_block: 22,
            trigger_pending: false,
            epoch_ran: true,
        }]
    );
}

#[test]
fn the_safety_net_is_part_of_the_schedule() {
    let mut s = Consensus::default();
    run(&mut s, [block(1)]);
    let (events, _) = given(s)
        .when(create(
            1,
            SubnetParams {
                tempo: 60_000,
                ..test_params()
            },
        ))
        .then_ok();
    // Slot 0 + 60 000, but the safety net fires first: 1 + 50 400 + 1.
    assert_eq!(schedule_events(&events)[0].next_epoch_block, 50_402);
}
