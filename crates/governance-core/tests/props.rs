//! Property tests over random command sequences: every state keeps
//! `check_invariants`, a rejection changes nothing, replaying the events
//! into a fresh state gives the live digest, snapshots round-trip.

mod common;

use aggregate::Aggregate;
use common::*;
use governance_core::*;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Raw {
    Blocks(u8),
    RegisterNetwork {
        key: u8,
        op: u8,
    },
    SagaOutcome {
        op: u8,
        which: u8,
    },
    BurnedRegister {
        key: u8,
        netuid: u16,
        op: u8,
    },
    NeuronOutcome {
        op: u8,
        which: u8,
        uid: u16,
        replaced: Option<u8>,
    },
    RootRegister {
        key: u8,
    },
    Stakes {
        key: u8,
        root: u64,
        alpha: u64,
    },
    Take {
        key: u8,
        take: u16,
        up: bool,
    },
    Children {
        key: u8,
        netuid: u16,
        kids: Vec<u8>,
    },
    ChildTake {
        key: u8,
        netuid: u16,
        take: u16,
    },
    Param {
        netuid: u16,
        which: u8,
        value: u16,
        root: bool,
    },
    Market {
        netuid: u16,
        price: i64,
        out: u64,
    },
    Lock {
        key: u8,
        hot: u8,
        netuid: u16,
        amount: u64,
    },
    MoveLock {
        key: u8,
        hot: u8,
        netuid: u16,
    },
    Perpetual {
        key: u8,
        netuid: u16,
        on: bool,
    },
    Epoch {
        netuid: u16,
        next: u16,
        pending: bool,
        ran: bool,
    },
    StartCall {
        key: u8,
        netuid: u16,
    },
    Propose {
        who: u8,
        limit: u16,
    },
    Vote {
        key: u8,
        id: u64,
        approve: bool,
    },
    Close {
        id: u64,
    },
    Admin {
        which: u8,
        netuid: u16,
        value: u16,
    },
    HandOver,
    /// A whole registration saga that succeeds.
    FullSaga {
        key: u8,
        op: u8,
    },
}

fn key() -> impl Strategy<Value = u8> {
    0u8..8
}

fn netuid() -> impl Strategy<Value = u16> {
    0u16..4
}

fn raw() -> impl Strategy<Value = Raw> {
    prop_oneof![
        4 => (1u8..30).prop_map(Raw::Blocks),
        2 => (key(), 0u8..4).prop_map(|(key, op)| Raw::RegisterNetwork { key, op }),
        4 => (0u8..4, 0u8..6).prop_map(|(op, which)| Raw::SagaOutcome { op, which }),
        3 => (key(), netuid(), 0u8..8).prop_map(|(key, netuid, op)| Raw::BurnedRegister { key, netuid, op }),
        4 => (0u8..8, 0u8..6, 0u16..8, proptest::option::of(key()))
            .prop_map(|(op, which, uid, replaced)| Raw::NeuronOutcome { op, which, uid, replaced }),
        2 => key().prop_map(|key| Raw::RootRegister { key }),
        2 => (key(), 0u64..10_000, 0u64..10_000_000_000)
            .prop_map(|(key, root, alpha)| Raw::Stakes { key, root, alpha }),
        1 => (key(), any::<u16>(), any::<bool>()).prop_map(|(key, take, up)| Raw::Take { key, take, up }),
        1 => (key(), netuid(), proptest::collection::vec(key(), 0..3))
            .prop_map(|(key, netuid, kids)| Raw::Children { key, netuid, kids }),
        1 => (key(), netuid(), 0u16..13_000).prop_map(|(key, netuid, take)| Raw::ChildTake { key, netuid, take }),
        3 => (netuid(), 0u8..8, any::<u16>(), any::<bool>())
            .prop_map(|(netuid, which, value, root)| Raw::Param { netuid, which, value, root }),
        1 => (netuid(), 0i64..1_000, 0u64..1_000_000).prop_map(|(netuid, price, out)| Raw::Market { netuid, price, out }),
        2 => (key(), key(), netuid(), 0u64..5_000_000_000)
            .prop_map(|(key, hot, netuid, amount)| Raw::Lock { key, hot, netuid, amount }),
        1 => (key(), key(), netuid()).prop_map(|(key, hot, netuid)| Raw::MoveLock { key, hot, netuid }),
        1 => (key(), netuid(), any::<bool>()).prop_map(|(key, netuid, on)| Raw::Perpetual { key, netuid, on }),
        2 => (netuid(), 0u16..400, any::<bool>(), any::<bool>())
            .prop_map(|(netuid, next, pending, ran)| Raw::Epoch { netuid, next, pending, ran }),
        1 => (key(), netuid()).prop_map(|(key, netuid)| Raw::StartCall { key, netuid }),
        2 => (0u8..4, 0u16..200).prop_map(|(who, limit)| Raw::Propose { who, limit }),
        6 => (0u8..4, 0u64..3, proptest::bool::weighted(0.8)).prop_map(|(key, id, approve)| Raw::Vote { key, id, approve }),
        2 => (0u64..3).prop_map(|id| Raw::Close { id }),
        1 => (0u8..5, netuid(), any::<u16>()).prop_map(|(which, netuid, value)| Raw::Admin { which, netuid, value }),
        1 => Just(Raw::HandOver),
        2 => (key(), 4u8..12).prop_map(|(key, op)| Raw::FullSaga { key, op }),
    ]
}

fn param(which: u8, v: u16) -> Hyperparameter {
    match which {
        0 => Hyperparameter::ImmunityPeriod(v),
        1 => Hyperparameter::MaxAllowedUids(v % 300),
        2 => Hyperparameter::MinBurn(u64::from(v) * 10_000),
        3 => Hyperparameter::MaxBurn(u64::from(v) * 100_000_000),
        4 => Hyperparameter::BurnHalfLife(v % 400),
        5 => Hyperparameter::Tempo(v),
        6 => Hyperparameter::NetworkRegistrationAllowed(v.is_multiple_of(2)),
        _ => Hyperparameter::BurnIncreaseMult((1u128 << 64) + (u128::from(v) << 50)),
    }
}

fn command(r: &Raw, height: u64) -> Command {
    use CommandBody as C;
    match r {
        Raw::Blocks(_) => block(height + 1),
        Raw::RegisterNetwork { key, op } => signed(
            ck(*key),
            C::RegisterNetwork {
                op: format!("s{op}"),
                hotkey: hk(*key),
                identity: None,
                max_lock_cost: None,
            },
        ),
        Raw::SagaOutcome { op, which } => {
            let op = format!("s{op}");
            match which {
                0 => ledger(C::LockConfirmed { op }),
                1 => ledger(C::LockRefused {
                    op,
                    code: "CannotAffordLockCost".into(),
                }),
                2 => amm(C::PoolOpened { op }),
                3 => amm(C::PoolRefused {
                    op,
                    code: "X".into(),
                }),
                4 => consensus(C::MetagraphOpened { op }),
                _ => consensus(C::MetagraphRefused {
                    op,
                    code: "Y".into(),
                }),
            }
        }
        Raw::BurnedRegister { key, netuid, op } => signed(
            ck(*key % 4),
            C::BurnedRegister {
                op: format!("n{op}"),
                netuid: *netuid,
                hotkey: hk(*key),
                limit_price: None,
            },
        ),
        Raw::NeuronOutcome {
            op,
            which,
            uid,
            replaced,
        } => {
            let op = format!("n{op}");
            match which {
                0 | 1 => ledger(C::RegistrationFunded { op }),
                2 => consensus(C::NeuronRegistered {
                    op,
                    uid: *uid,
                    replaced: replaced.map(hk),
                }),
                3 => ledger(C::LedgerRejected {
                    op,
                    code: "NotEnoughBalanceToStake".into(),
                }),
                4 => consensus(C::StepRefused {
                    op,
                    code: "NoNeuronIdAvailable".into(),
                }),
                _ => amm(C::NeuronRegistrationFailed {
                    op,
                    code: "InsufficientLiquidity".into(),
                }),
            }
        }
        Raw::RootRegister { key } => signed(ck(*key % 4), C::RootRegister { hotkey: hk(*key) }),
        Raw::Stakes { key, root, alpha } => stakes(StakeReport {
            root: vec![(hk(*key), *root)],
            hotkey_alpha: vec![(hk(*key), 0, *root)],
            prices: vec![(0, 1u128 << 64)],
            coldkey_alpha: vec![(ck(*key % 4), 1, *alpha), (ck(*key % 4), 2, *alpha / 2)],
        }),
        Raw::Take { key, take, up } => {
            let body = if *up {
                C::IncreaseTake {
                    hotkey: hk(*key),
                    take: *take,
                }
            } else {
                C::DecreaseTake {
                    hotkey: hk(*key),
                    take: *take,
                }
            };
            signed(ck(*key % 4), body)
        }
        Raw::Children { key, netuid, kids } => signed(
            ck(*key % 4),
            C::SetChildren {
                hotkey: hk(*key),
                netuid: *netuid,
                children: kids.iter().map(|k| (1_000, hk(*k))).collect(),
            },
        ),
        Raw::ChildTake { key, netuid, take } => signed(
            ck(*key % 4),
            C::SetChildkeyTake {
                hotkey: hk(*key),
                netuid: *netuid,
                take: *take,
            },
        ),
        Raw::Param {
            netuid,
            which,
            value,
            root,
        } => {
            let p = param(*which, *value);
            if *root {
                admin_cmd(AdminAction::SetHyperparameter {
                    netuid: *netuid,
                    param: p,
                })
            } else {
                signed(
                    ck((*value % 4) as u8),
                    C::SetHyperparameter {
                        netuid: *netuid,
                        param: p,
                    },
                )
            }
        }
        Raw::Market { netuid, price, out } => amm(C::Market {
            entries: vec![(*netuid, i128::from(*price) << 32, *out)],
            credits: vec![],
        }),
        Raw::Lock {
            key,
            hot,
            netuid,
            amount,
        } => signed(
            ck(*key % 4),
            C::LockStake {
                hotkey: hk(*hot),
                netuid: *netuid,
                amount: *amount,
            },
        ),
        Raw::MoveLock { key, hot, netuid } => signed(
            ck(*key % 4),
            C::MoveLock {
                destination_hotkey: hk(*hot),
                netuid: *netuid,
            },
        ),
        Raw::Perpetual { key, netuid, on } => signed(
            ck(*key % 4),
            C::SetPerpetualLock {
                netuid: *netuid,
                perpetual: *on,
            },
        ),
        Raw::Epoch {
            netuid,
            next,
            pending,
            ran,
        } => consensus(C::EpochSchedule {
            netuid: *netuid,
            next_epoch_block: height + u64::from(*next),
            trigger_pending: *pending,
            epoch_ran: *ran,
        }),
        Raw::StartCall { key, netuid } => signed(ck(*key % 4), C::StartCall { netuid: *netuid }),
        Raw::Propose { who, limit } => signed(
            if *who < 3 { triumvir(*who) } else { ck(0) },
            C::Propose {
                action: if limit.is_multiple_of(3) {
                    AdminAction::DissolveSubnet { netuid: limit % 4 }
                } else {
                    AdminAction::SetGlobal(GlobalParam::SubnetLimit(*limit))
                },
                duration: 3_600,
            },
        ),
        Raw::Vote { key, id, approve } => signed(
            ck(*key % 4),
            C::Vote {
                hotkey: hk(*key),
                id: *id,
                approve: *approve,
            },
        ),
        Raw::Close { id } => signed(ck(7), C::Close { id: *id }),
        Raw::Admin {
            which,
            netuid,
            value,
        } => admin_cmd(match which {
            0 => AdminAction::DissolveSubnet { netuid: *netuid },
            1 => AdminAction::SetGlobal(GlobalParam::SubnetLimit(value % 4)),
            2 => AdminAction::SetGlobal(GlobalParam::VoteWeighting(if value.is_multiple_of(2) {
                VoteWeighting::StakeWeighted
            } else {
                VoteWeighting::OneSeatOneVote
            })),
            3 => AdminAction::VetoProposal {
                id: u64::from(value % 6),
            },
            _ => AdminAction::SetGlobal(GlobalParam::ConvictionTakeover(value.is_multiple_of(2))),
        }),
        Raw::HandOver => signed(admin(), C::HandOverToCollective),
        Raw::FullSaga { .. } => unreachable!("expanded by commands()"),
    }
}

fn commands(r: &Raw, height: u64) -> Vec<Command> {
    match r {
        Raw::FullSaga { key, op } => {
            let op = format!("s{op}");
            vec![
                signed(
                    ck(*key % 4),
                    CommandBody::RegisterNetwork {
                        op: op.clone(),
                        hotkey: hk(*key),
                        identity: None,
                        max_lock_cost: None,
                    },
                ),
                ledger(CommandBody::LockConfirmed { op: op.clone() }),
                amm(CommandBody::PoolOpened { op: op.clone() }),
                consensus(CommandBody::MetagraphOpened { op }),
            ]
        }
        _ => vec![command(r, height)],
    }
}

fn start() -> (Governance, Vec<governance_core::GovernanceEvent>) {
    let mut s = Governance::default();
    let cfg = Config {
        network_rate_limit: 0,
        network_immunity_period: 20,
        subnet_limit: 3,
        root_max_registrations_per_block: 3,
        root_target_registrations_per_interval: 5,
        motion_duration: 10,
        unlock_rate: 50,
        maturity_rate: 80,
        ..Config::default()
    };
    // a genesis subnet (netuid 2, started) ...
    let genesis = Command::new(
        Origin::Genesis,
        CommandBody::ApplyGenesis {
            admin: Some(admin()),
            config: cfg,
            triumvirate: vec![triumvir(0), triumvir(1), triumvir(2)],
            last_lock: (0, 0),
            subnets: vec![GenesisSubnet {
                netuid: 2,
                owner: ck(1),
                owner_hotkey: hk(1),
                lock: TAO,
                tempo: 7,
                first_emission_block: Some(1),
                neurons: vec![hk(1), hk(5)],
                hotkey_owners: vec![(hk(5), ck(1))],
            }],
        },
    );
    let mut events = run(&mut s, [genesis, block(1)]);
    // ... and one registered through the saga (the lowest free netuid, 1)
    events.extend(run(
        &mut s,
        [
            register_network(ck(0), hk(0), "s0"),
            ledger(CommandBody::LockConfirmed { op: "s0".into() }),
            amm(CommandBody::PoolOpened { op: "s0".into() }),
            consensus(CommandBody::MetagraphOpened { op: "s0".into() }),
        ],
    ));
    // a senate of four root members
    events.extend(run(
        &mut s,
        (0..4u8).map(|i| {
            if i == 3 {
                block(2)
            } else {
                signed(ck(i), CommandBody::RootRegister { hotkey: hk(i) })
            }
        }),
    ));
    events.extend(run(
        &mut s,
        [signed(ck(3), CommandBody::RootRegister { hotkey: hk(3) })],
    ));
    (s, events)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_invariants_and_replay_equals_live(
        raws in proptest::collection::vec(raw(), 1..120)
    ) {
        let (mut s, mut log) = start();
        for r in &raws {
            let n = match r { Raw::Blocks(n) => *n, _ => 1 };
            for _ in 0..n {
              for cmd in commands(r, s.height()) {
                let before = s.digest();
                match s.handle(&cmd) {
                    Ok(events) => {
                        log.extend(events);
                    }
                    Err(_) => prop_assert_eq!(s.digest(), before, "rejection changed state"),
                }
                if let Err(e) = s.check_invariants() {
                    return Err(TestCaseError::fail(format!("{e} after {cmd:?}")));
                }
              }
            }
        }
        let mut replayed = Governance::default();
        for e in &log {
            replayed.evolve(e);
        }
        prop_assert_eq!(replayed.digest(), s.digest());
        let restored = Governance::restore(&s.snapshot()).expect("restore");
        prop_assert_eq!(restored.digest(), s.digest());
    }
}
