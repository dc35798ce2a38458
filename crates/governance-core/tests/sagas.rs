//! The sagas as the peers answer them: the neuron registration (request →
//! ledger funding → consensus registration, and its failures with and
//! without a refund), the peers' generic refusals (`LedgerRejected`,
//! `StepRefused`) on both sagas, `op_status`, and genesis subnets.

mod common;

use common::*;
use governance_core::event::*;
use governance_core::*;
use keys::AccountId;

fn reg(who: u8, hot: u8, netuid: u16, op: &str) -> Command {
    signed(
        ck(who),
        CommandBody::BurnedRegister {
            op: op.into(),
            netuid,
            hotkey: hk(hot),
            limit_price: None,
        },
    )
}

fn registered(op: &str, uid: u16) -> Command {
    consensus(CommandBody::NeuronRegistered {
        op: op.into(),
        uid,
        replaced: None,
    })
}

fn ledger_rejected(op: &str, code: &str) -> Command {
    ledger(CommandBody::LedgerRejected {
        op: op.into(),
        code: code.into(),
    })
}

fn step_refused(p: Peer, op: &str, code: &str) -> Command {
    peer(
        p,
        CommandBody::StepRefused {
            op: op.into(),
            code: code.into(),
        },
    )
}

fn failed(op: &str, hot: u8, who: u8, code: &str, refund: u64) -> GovernanceEvent {
    GovernanceEvent::NeuronRegistrationFailed(NeuronRegistrationFailed {
        op: op.into(),
        netuid: 1,
        hotkey: hk(hot),
        coldkey: ck(who),
        code: code.into(),
        refund,
    })
}

fn pending_neuron(netuid: u16) -> Option<OpStatus> {
    Some(OpStatus::Pending {
        kind: OpKind::NeuronRegistration,
        netuid,
    })
}

// ---------------------------------------------------------------- neurons

#[test]
fn the_neuron_saga_runs_requested_funded_registered() {
    let s = world_with_subnet();
    let (ev, s) = given(s).when(reg(2, 2, 1, "a")).then_ok();
    assert!(matches!(&ev[1], GovernanceEvent::NeuronRegistrationRequested(r) if r.burn == TAO));
    assert_eq!(s.op_status("a"), pending_neuron(1));
    // consensus cannot register before the ledger holds the burn
    rejects(&s, registered("a", 1), Rejection::UnexpectedOutcome);

    let s = given(s)
        .when(funded("a"))
        .then(&[GovernanceEvent::NeuronRegistrationFunded(
            NeuronRegistrationFunded {
                op: "a".into(),
                netuid: 1,
                hotkey: hk(2),
                coldkey: ck(2),
                burn: TAO,
                block: 1,
            },
        )]);
    assert_eq!(s.neuron_ops["a"].status, NeuronOpStatus::Funded);
    assert_eq!(s.op_status("a"), pending_neuron(1));
    assert!(s.subnets[&1].pending_neurons.contains(&hk(2)));
    rejects(&s, funded("a"), Rejection::UnexpectedOutcome);

    let s = given(s)
        .when(registered("a", 1))
        .then(&[GovernanceEvent::NeuronRegistered(NeuronRegistered {
            op: "a".into(),
            netuid: 1,
            hotkey: hk(2),
            coldkey: ck(2),
            burn: TAO,
            uid: 1,
            replaced: None,
            block: 1,
        })]);
    assert_eq!(
        s.op_status("a"),
        Some(OpStatus::NeuronRegistered { netuid: 1, uid: 1 })
    );
    assert!(s.subnets[&1].neurons.contains_key(&hk(2)));
    assert!(s.subnets[&1].pending_neurons.is_empty());
    // done: every later outcome is unexpected, and the op stays known
    rejects(&s, registered("a", 1), Rejection::UnexpectedOutcome);
    rejects(&s, funded("a"), Rejection::UnexpectedOutcome);
    rejects(
        &s,
        step_refused(Peer::Consensus, "a", "X"),
        Rejection::UnexpectedOutcome,
    );
    rejects(
        &s,
        ledger(CommandBody::NeuronRegistrationFailed {
            op: "a".into(),
            code: "X".into(),
        }),
        Rejection::UnexpectedOutcome,
    );
    rejects(&s, reg(2, 3, 1, "a"), Rejection::DuplicateOp);
}

#[test]
fn funding_is_the_ledgers_to_report() {
    let mut s = world_with_subnet();
    rejects(&s, funded("nope"), Rejection::UnknownOp);
    run(&mut s, [reg(2, 2, 1, "a")]);
    for p in [Peer::Amm, Peer::Consensus] {
        rejects(
            &s,
            peer(p, CommandBody::RegistrationFunded { op: "a".into() }),
            Rejection::BadOrigin,
        );
    }
    rejects(
        &s,
        signed(ck(2), CommandBody::RegistrationFunded { op: "a".into() }),
        Rejection::BadOrigin,
    );
    rejects(
        &s,
        ledger(CommandBody::NeuronRegistered {
            op: "a".into(),
            uid: 1,
            replaced: None,
        }),
        Rejection::BadOrigin,
    );
}

#[test]
fn a_burn_the_ledger_refuses_fails_without_a_refund() {
    let mut s = world_with_subnet();
    run(&mut s, [reg(2, 2, 1, "a")]);
    let s = given(s)
        .when(ledger_rejected("a", "NotEnoughBalanceToStake"))
        .then(&[failed("a", 2, 2, "NotEnoughBalanceToStake", 0)]);
    assert_eq!(
        s.op_status("a"),
        Some(OpStatus::Failed {
            kind: OpKind::NeuronRegistration,
            code: "NotEnoughBalanceToStake".into(),
        })
    );
    assert!(s.subnets[&1].pending_neurons.is_empty());
    assert_eq!(s.burn(1), Some(1_260_000_000), "the bump stays");
    rejects(&s, funded("a"), Rejection::UnexpectedOutcome);
    // the hotkey may try again
    given(s).when(reg(2, 2, 1, "b")).then_ok();
}

#[test]
fn the_ledger_cannot_reject_a_burn_it_already_took() {
    let mut s = world_with_subnet();
    run(&mut s, [reg(2, 2, 1, "a"), funded("a")]);
    rejects(&s, ledger_rejected("a", "X"), Rejection::UnexpectedOutcome);
    rejects(&s, ledger_rejected("zz", "X"), Rejection::UnknownOp);
    rejects(
        &s,
        amm(CommandBody::LedgerRejected {
            op: "a".into(),
            code: "X".into(),
        }),
        Rejection::BadOrigin,
    );
}

#[test]
fn a_registration_consensus_refuses_after_the_funding_refunds_the_burn() {
    let mut s = world_with_subnet();
    run(&mut s, [reg(2, 2, 1, "a"), funded("a")]);
    let s = given(s)
        .when(step_refused(
            Peer::Consensus,
            "a",
            "HotKeyAlreadyRegisteredInSubNet",
        ))
        .then(&[failed("a", 2, 2, "HotKeyAlreadyRegisteredInSubNet", TAO)]);
    assert_eq!(
        s.op_status("a"),
        Some(OpStatus::Failed {
            kind: OpKind::NeuronRegistration,
            code: "HotKeyAlreadyRegisteredInSubNet".into(),
        })
    );
    assert!(s.subnets[&1].pending_neurons.is_empty());
    assert!(!s.subnets[&1].neurons.contains_key(&hk(2)));
    rejects(&s, registered("a", 1), Rejection::UnexpectedOutcome);
}

#[test]
fn step_refusals_of_a_neuron_op_come_from_consensus_after_the_funding() {
    let mut s = world_with_subnet();
    run(&mut s, [reg(2, 2, 1, "a")]);
    // not funded yet: consensus has not been asked
    rejects(
        &s,
        step_refused(Peer::Consensus, "a", "X"),
        Rejection::UnexpectedOutcome,
    );
    run(&mut s, [funded("a")]);
    // the amm has no step of its own before the registration
    rejects(
        &s,
        step_refused(Peer::Amm, "a", "X"),
        Rejection::UnexpectedOutcome,
    );
    rejects(
        &s,
        step_refused(Peer::Ledger, "a", "X"),
        Rejection::BadOrigin,
    );
    rejects(
        &s,
        step_refused(Peer::Consensus, "zz", "X"),
        Rejection::UnknownOp,
    );
}

#[test]
fn a_burn_funded_after_the_subnet_was_dissolved_is_refunded_at_once() {
    let mut s = world_with_subnet();
    run(
        &mut s,
        [
            reg(2, 2, 1, "a"),
            admin_cmd(AdminAction::DissolveSubnet { netuid: 1 }),
        ],
    );
    let s = given(s)
        .when(funded("a"))
        .then(&[failed("a", 2, 2, "SubnetNotExists", TAO)]);
    assert_eq!(
        s.op_status("a"),
        Some(OpStatus::Failed {
            kind: OpKind::NeuronRegistration,
            code: "SubnetNotExists".into(),
        })
    );
}

#[test]
fn neuron_registration_failed_computes_the_refund_itself() {
    let mut s = world_with_subnet();
    run(&mut s, [reg(2, 2, 1, "p"), reg(3, 3, 1, "f"), funded("f")]);
    let fail = |op: &str| {
        amm(CommandBody::NeuronRegistrationFailed {
            op: op.into(),
            code: "InsufficientLiquidity".into(),
        })
    };
    given(s.clone())
        .when(fail("p"))
        .then(&[failed("p", 2, 2, "InsufficientLiquidity", 0)]);
    // "f" paid the bumped price
    given(s)
        .when(fail("f"))
        .then(&[failed("f", 3, 3, "InsufficientLiquidity", 1_260_000_000)]);
}

// ---------------------------------------------------------------- subnets

#[test]
fn a_ledger_rejection_of_a_lock_is_a_refused_lock() {
    let mut s = world_with(no_rate_limit());
    run(&mut s, [register_network(ck(1), hk(1), "a")]);
    let (by_lock_refused, _) = given(s.clone())
        .when(ledger(CommandBody::LockRefused {
            op: "a".into(),
            code: "CannotAffordLockCost".into(),
        }))
        .then_ok();
    let s = given(s)
        .when(ledger_rejected("a", "CannotAffordLockCost"))
        .then(&by_lock_refused);
    assert!(matches!(
        &by_lock_refused[0],
        GovernanceEvent::SubnetRegistrationFailed(f) if f.refund == 0 && f.netuid.is_none()
    ));
    assert_eq!(
        s.op_status("a"),
        Some(OpStatus::Failed {
            kind: OpKind::SubnetRegistration,
            code: "CannotAffordLockCost".into(),
        })
    );
    // after the lock the ledger has nothing left to reject
    let mut s = world_with(no_rate_limit());
    run(
        &mut s,
        [
            register_network(ck(1), hk(1), "a"),
            ledger(CommandBody::LockConfirmed { op: "a".into() }),
        ],
    );
    rejects(&s, ledger_rejected("a", "X"), Rejection::UnexpectedOutcome);
}

#[test]
fn step_refusals_of_a_subnet_op_fail_the_waiting_opening() {
    let mut s = world_with(no_rate_limit());
    run(&mut s, [register_network(ck(1), hk(1), "a")]);
    // no opening asked for yet
    rejects(
        &s,
        step_refused(Peer::Amm, "a", "X"),
        Rejection::UnexpectedOutcome,
    );
    run(
        &mut s,
        [
            ledger(CommandBody::LockConfirmed { op: "a".into() }),
            amm(CommandBody::PoolOpened { op: "a".into() }),
        ],
    );
    assert_eq!(
        s.op_status("a"),
        Some(OpStatus::Pending {
            kind: OpKind::SubnetRegistration,
            netuid: 1
        })
    );
    // the pool is open: the amm has nothing left to refuse
    rejects(
        &s,
        step_refused(Peer::Amm, "a", "X"),
        Rejection::UnexpectedOutcome,
    );
    rejects(
        &s,
        amm(CommandBody::PoolRefused {
            op: "a".into(),
            code: "X".into(),
        }),
        Rejection::UnexpectedOutcome,
    );
    // consensus refuses the metagraph: as MetagraphRefused, the pool closes
    let (by_metagraph_refused, _) = given(s.clone())
        .when(consensus(CommandBody::MetagraphRefused {
            op: "a".into(),
            code: "SubnetAlreadyExists".into(),
        }))
        .then_ok();
    let s = given(s)
        .when(step_refused(Peer::Consensus, "a", "SubnetAlreadyExists"))
        .then(&by_metagraph_refused);
    match &by_metagraph_refused[..] {
        [GovernanceEvent::SubnetRegistrationFailed(f)] => {
            assert_eq!(f.netuid, Some(1));
            assert!(f.close_pool && !f.close_metagraph);
            assert_eq!(f.refund, TAO);
        }
        other => panic!("{other:?}"),
    }
    assert!(s.subnets.is_empty());
}

#[test]
fn the_amm_refusing_the_pool_is_a_refused_pool() {
    let mut s = world_with(no_rate_limit());
    run(
        &mut s,
        [
            register_network(ck(1), hk(1), "a"),
            ledger(CommandBody::LockConfirmed { op: "a".into() }),
        ],
    );
    let (by_pool_refused, _) = given(s.clone())
        .when(amm(CommandBody::PoolRefused {
            op: "a".into(),
            code: "InsufficientLiquidity".into(),
        }))
        .then_ok();
    given(s)
        .when(step_refused(Peer::Amm, "a", "InsufficientLiquidity"))
        .then(&by_pool_refused);
}

#[test]
fn op_status_follows_a_subnet_saga_to_the_end() {
    let mut s = world_with(no_rate_limit());
    assert_eq!(s.op_status("a"), None);
    run(&mut s, [register_network(ck(1), hk(1), "a")]);
    assert_eq!(
        s.op_status("a"),
        Some(OpStatus::Pending {
            kind: OpKind::SubnetRegistration,
            netuid: 1
        })
    );
    run(
        &mut s,
        [
            ledger(CommandBody::LockConfirmed { op: "a".into() }),
            amm(CommandBody::PoolOpened { op: "a".into() }),
            consensus(CommandBody::MetagraphOpened { op: "a".into() }),
        ],
    );
    assert_eq!(s.op_status("a"), Some(OpStatus::SubnetOpened { netuid: 1 }));
    // still answered much later
    advance(&mut s, 1_000);
    assert_eq!(s.op_status("a"), Some(OpStatus::SubnetOpened { netuid: 1 }));
}

// ---------------------------------------------------------------- genesis

fn gsubnet(netuid: u16, owner: u8, neurons: &[u8]) -> GenesisSubnet {
    GenesisSubnet {
        netuid,
        owner: ck(owner),
        owner_hotkey: hk(owner),
        lock: 100 * TAO,
        tempo: 360,
        first_emission_block: None,
        neurons: neurons.iter().map(|i| hk(*i)).collect(),
        hotkey_owners: Vec::new(),
    }
}

fn genesis_cmd(subnets: Vec<GenesisSubnet>) -> Command {
    Command::new(
        Origin::Genesis,
        CommandBody::ApplyGenesis {
            admin: Some(admin()),
            config: no_rate_limit(),
            triumvirate: vec![],
            last_lock: (0, 0),
            subnets,
        },
    )
}

#[test]
fn genesis_subnets_exist_registered_opened_and_owned() {
    let mut started = gsubnet(3, 1, &[1, 4, 5]);
    started.first_emission_block = Some(0);
    started.tempo = 99;
    started.hotkey_owners = vec![(hk(5), ck(5))];
    let other = gsubnet(1, 2, &[4, 6]);
    let (ev, s) = given(Governance::default())
        .when(genesis_cmd(vec![started.clone(), other.clone()]))
        .then_ok();
    // the event carries them in netuid order, then who owns which hotkey
    assert_eq!(
        ev[0],
        GovernanceEvent::GenesisApplied(GenesisApplied {
            admin: Some(admin()),
            config: no_rate_limit(),
            triumvirate: vec![],
            last_lock: (0, 0),
            subnets: vec![other, started],
        })
    );
    let owners: Vec<(AccountId, AccountId)> = ev[1..]
        .iter()
        .map(|e| match e {
            GovernanceEvent::HotkeyAssociated(a) => (a.hotkey, a.coldkey),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        owners,
        vec![
            (hk(1), ck(1)), // owner hotkey of 3
            (hk(2), ck(2)), // owner hotkey of 1 (not a neuron of it)
            (hk(4), ck(2)), // neuron of 1 and 3: the lower netuid's owner
            (hk(5), ck(5)), // named in hotkey_owners
            (hk(6), ck(2)), // neuron of 1
        ]
    );
    let n3 = &s.subnets[&3];
    assert!(n3.is_active());
    assert_eq!(
        (n3.registered_at, n3.lock, n3.burn, n3.symbol),
        (0, 100 * TAO, TAO, 3)
    );
    assert_eq!(n3.first_emission_block, Some(0));
    assert!(n3.params.subtoken_enabled);
    assert_eq!(n3.params.tempo, 99);
    assert_eq!(n3.neurons.len(), 3);
    assert!(n3.neurons.values().all(|at| *at == 0));
    let n1 = &s.subnets[&1];
    assert_eq!(n1.first_emission_block, None);
    assert!(!n1.params.subtoken_enabled);
    assert!(
        !n1.neurons.contains_key(&hk(2)),
        "owner hotkey not among its neurons"
    );
    let mut s = s;
    run(&mut s, [block(1)]);
    assert!(s.emission_eligible(3));
    assert!(!s.emission_eligible(1));
    // not started: the owner may start it
    given(s)
        .when(signed(ck(2), CommandBody::StartCall { netuid: 1 }))
        .then_ok();
}

#[test]
fn registration_takes_the_lowest_netuid_genesis_left_free() {
    let mut s = world_with_genesis_subnets(vec![gsubnet(1, 1, &[1]), gsubnet(3, 2, &[2])]);
    let (ev, _) = given(s.clone())
        .when(register_network(ck(5), hk(5), "a"))
        .then_ok();
    assert!(matches!(&ev[0],
        GovernanceEvent::SubnetRegistrationRequested(r) if r.netuid == 2 && r.prune.is_none()));
    assert_eq!(open_subnet(&mut s, ck(5), hk(5), "a"), 2);
    assert_eq!(open_subnet(&mut s, ck(6), hk(6), "b"), 4);
    assert_eq!(s.subnets[&4].symbol, 4);
}

#[test]
fn genesis_subnets_count_toward_the_subnet_limit() {
    let mut s = Governance::default();
    run(
        &mut s,
        [
            Command::new(
                Origin::Genesis,
                CommandBody::ApplyGenesis {
                    admin: Some(admin()),
                    config: Config {
                        subnet_limit: 2,
                        ..no_rate_limit()
                    },
                    triumvirate: vec![],
                    last_lock: (0, 0),
                    subnets: vec![gsubnet(1, 1, &[1]), gsubnet(2, 2, &[2])],
                },
            ),
            block(1),
        ],
    );
    // both still immune (registered at 0): nothing to prune
    rejects(
        &s,
        register_network(ck(5), hk(5), "a"),
        Rejection::SubnetLimitReached,
    );
}

#[test]
fn genesis_neurons_are_registered() {
    let s = world_with_genesis_subnets(vec![gsubnet(1, 1, &[1, 4])]);
    // hk(4) belongs to the subnet owner ck(1) and holds a uid already
    rejects(
        &s,
        reg(1, 4, 1, "x"),
        Rejection::HotKeyAlreadyRegisteredInSubNet,
    );
    rejects(
        &s,
        reg(1, 1, 1, "x"),
        Rejection::HotKeyAlreadyRegisteredInSubNet,
    );
    // another coldkey cannot use it elsewhere
    let mut s = s;
    open_subnet(&mut s, ck(2), hk(2), "net2");
    rejects(&s, reg(3, 4, 2, "x"), Rejection::NonAssociatedColdKey);
    // its owner can
    let (ev, _) = given(s).when(reg(1, 4, 2, "y")).then_ok();
    assert!(matches!(&ev[0], GovernanceEvent::NeuronRegistrationRequested(r) if r.hotkey == hk(4)));
}

#[test]
fn bad_genesis_subnets_are_refused() {
    let bad = |subnets: Vec<GenesisSubnet>| {
        given(Governance::default())
            .when(genesis_cmd(subnets))
            .then_rejected(Rejection::InvalidValue);
    };
    bad(vec![gsubnet(0, 1, &[])]);
    bad(vec![gsubnet(4_096, 1, &[])]);
    bad(vec![gsubnet(1, 1, &[]), gsubnet(1, 2, &[])]);
    bad(vec![GenesisSubnet {
        tempo: 0,
        ..gsubnet(1, 1, &[])
    }]);
    bad(vec![gsubnet(1, 1, &[3, 3])]);
    bad(vec![GenesisSubnet {
        neurons: (0..=256u16)
            .map(|i| {
                let mut k = [0u8; 32];
                k[..2].copy_from_slice(&i.to_le_bytes());
                AccountId(k)
            })
            .collect(),
        ..gsubnet(1, 1, &[])
    }]);
    // hotkey_owners must name a neuron of the subnet
    bad(vec![GenesisSubnet {
        hotkey_owners: vec![(hk(9), ck(9))],
        ..gsubnet(1, 1, &[3])
    }]);
    // two different explicit owners of one hotkey
    bad(vec![
        GenesisSubnet {
            hotkey_owners: vec![(hk(3), ck(3))],
            ..gsubnet(1, 1, &[3])
        },
        GenesisSubnet {
            hotkey_owners: vec![(hk(3), ck(4))],
            ..gsubnet(2, 2, &[3])
        },
    ]);
    // one owner hotkey, two owners
    bad(vec![
        gsubnet(1, 1, &[]),
        GenesisSubnet {
            owner: ck(2),
            ..gsubnet(2, 1, &[])
        },
    ]);
    // an owner hotkey explicitly given to someone else
    bad(vec![GenesisSubnet {
        hotkey_owners: vec![(hk(1), ck(7))],
        ..gsubnet(1, 1, &[1])
    }]);
}

#[test]
fn the_epoch_schedule_of_a_genesis_subnet_opens_its_freeze_window() {
    let mut s = world_with_genesis_subnets(vec![gsubnet(1, 1, &[1])]);
    let set = signed(
        ck(1),
        CommandBody::SetHyperparameter {
            netuid: 1,
            param: Hyperparameter::ImmunityPeriod(10),
        },
    );
    given(s.clone()).when(set.clone()).then_ok();
    // consensus's EpochScheduleChanged, field for field
    run(
        &mut s,
        [consensus(CommandBody::EpochSchedule {
            netuid: 1,
            next_epoch_block: 5,
            trigger_pending: false,
            epoch_ran: false,
        })],
    );
    rejects(&s, set, Rejection::AdminActionProhibitedDuringWeightsWindow);
}
