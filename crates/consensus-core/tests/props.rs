//! Property tests over random command sequences on two small subnets:
//! epoch outputs (incentive and dividends each sum to 65535 up to rounding,
//! or to 0; emission never exceeds the amount handed in), replay equals
//! live, snapshot round trip, rejections change nothing; `EpochScheduleChanged`
//! announces exactly the schedule changes.

mod common;

use aggregate::Aggregate;
use common::*;
use consensus_core::*;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Raw {
    Blocks(u8),
    Register {
        netuid: u16,
        key: u8,
    },
    Stake {
        netuid: u16,
        key: u8,
        stake: u64,
    },
    Emission {
        netuid: u16,
        rao: u64,
    },
    Weights {
        netuid: u16,
        key: u8,
        uids: Vec<u16>,
        values: Vec<u16>,
    },
    Commit {
        netuid: u16,
        key: u8,
        uids: Vec<u16>,
        values: Vec<u16>,
    },
    Reveal {
        netuid: u16,
        key: u8,
        uids: Vec<u16>,
        values: Vec<u16>,
    },
    Trigger {
        netuid: u16,
    },
    Param {
        netuid: u16,
        which: u8,
        value: u16,
    },
}

fn netuid() -> impl Strategy<Value = u16> {
    prop_oneof![Just(1u16), Just(2u16)]
}

fn raw() -> impl Strategy<Value = Raw> {
    let key = 0u8..10;
    let row = (
        proptest::collection::vec(0u16..9, 0..6),
        proptest::collection::vec(any::<u16>(), 0..6),
    );
    prop_oneof![
        3 => (1u8..8).prop_map(Raw::Blocks),
        2 => (netuid(), key.clone()).prop_map(|(netuid, key)| Raw::Register { netuid, key }),
        2 => (netuid(), key.clone(), prop_oneof![Just(0u64), 1u64..1_000_000_000_000])
            .prop_map(|(netuid, key, stake)| Raw::Stake { netuid, key, stake }),
        1 => (netuid(), 0u64..10_000_000_000).prop_map(|(netuid, rao)| Raw::Emission { netuid, rao }),
        6 => (
            netuid(),
            key.clone(),
            proptest::sample::subsequence((0u16..8).collect::<Vec<_>>(), 1..6),
            proptest::collection::vec(1u16..=u16::MAX, 6),
        )
            .prop_map(|(netuid, key, uids, values)| {
                let values = values[..uids.len()].to_vec();
                Raw::Weights { netuid, key, uids, values }
            }),
        1 => (netuid(), key.clone(), row.clone())
            .prop_map(|(netuid, key, (uids, values))| Raw::Weights { netuid, key, uids, values }),
        1 => (netuid(), key.clone(), row.clone())
            .prop_map(|(netuid, key, (uids, values))| Raw::Commit { netuid, key, uids, values }),
        1 => (netuid(), key.clone(), row)
            .prop_map(|(netuid, key, (uids, values))| Raw::Reveal { netuid, key, uids, values }),
        1 => netuid().prop_map(|netuid| Raw::Trigger { netuid }),
        1 => (netuid(), 0u8..4, any::<u16>())
            .prop_map(|(netuid, which, value)| Raw::Param { netuid, which, value }),
    ]
}

fn key(k: u8) -> keys::AccountId {
    if k == 0 {
        owner_hotkey()
    } else {
        hk(k)
    }
}

fn to_commands(s: &Consensus, r: &Raw) -> Vec<Command> {
    match r.clone() {
        Raw::Blocks(n) => (1..=u64::from(n)).map(|i| block(s.height() + i)).collect(),
        Raw::Register { netuid, key: k } => vec![register(netuid, key(k), s.height())],
        Raw::Stake {
            netuid,
            key: k,
            stake: v,
        } => vec![stake(netuid, key(k), v)],
        Raw::Emission { netuid, rao } => {
            vec![service(CommandBody::EmissionPending { netuid, rao })]
        }
        Raw::Weights {
            netuid,
            key: k,
            uids,
            values,
        } => {
            // Mostly valid rows: keep uids that exist (the rest stay as bad input).
            let n = s.subnet(netuid).map_or(0, |x| x.n()) as u16;
            let (uids, values): (Vec<u16>, Vec<u16>) = if uids.len() == values.len() {
                uids.into_iter().zip(values).filter(|(u, _)| *u < n).unzip()
            } else {
                (uids, values)
            };
            vec![set_weights(key(k), netuid, &uids, &values)]
        }
        Raw::Commit {
            netuid,
            key: k,
            uids,
            values,
        } => vec![signed(
            key(k),
            CommandBody::CommitWeights {
                netuid,
                hash: commit_hash(&key(k), netuid, &uids, &values, &[1], 0),
            },
        )],
        Raw::Reveal {
            netuid,
            key: k,
            uids,
            values,
        } => vec![signed(
            key(k),
            CommandBody::RevealWeights {
                netuid,
                uids,
                values,
                salt: vec![1],
                version_key: 0,
            },
        )],
        Raw::Trigger { netuid } => vec![signed(owner(), CommandBody::TriggerEpoch { netuid })],
        Raw::Param {
            netuid,
            which,
            value,
        } => {
            let param = match which {
                0 => Hyperparameter::Tempo(value % 12),
                1 => Hyperparameter::MaxAllowedValidators(value % 6),
                2 => Hyperparameter::Kappa(value),
                _ => Hyperparameter::Yuma3(value % 2 == 0),
            };
            vec![service(CommandBody::SetHyperparameter { netuid, param })]
        }
    }
}

/// Subnet 1: commit-reveal off, tempo 5, 8 uids max. Subnet 2: commit-reveal
/// on, tempo 7, original Yuma. One epoch per block at most.
fn start() -> (Consensus, Vec<ConsensusEvent>) {
    let mut s = Consensus::default();
    let events = run(
        &mut s,
        [
            block(1),
            service(CommandBody::SetMaxEpochsPerBlock { value: 1 }),
            create(
                1,
                SubnetParams {
                    tempo: 5,
                    max_allowed_uids: 8,
                    max_allowed_validators: 4,
                    ..test_params()
                },
            ),
            create(
                2,
                SubnetParams {
                    tempo: 7,
                    max_allowed_uids: 6,
                    max_allowed_validators: 3,
                    commit_reveal_enabled: true,
                    yuma3: false,
                    ..test_params()
                },
            ),
        ],
    );
    let mut events = events;
    // A populated start, so most sequences reach epochs with real weights.
    for netuid in [1, 2] {
        for k in 0..5u8 {
            events.extend(run(
                &mut s,
                [
                    register(netuid, key(k), 1),
                    stake(netuid, key(k), 1_000_000 * u64::from(k + 1)),
                ],
            ));
        }
    }
    (s, events)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_sequences_keep_every_property(raws in proptest::collection::vec(raw(), 1..60)) {
        let (mut live, mut log) = start();
        for r in &raws {
            for cmd in to_commands(&live, r) {
                let before = live.digest();
                let pending: Vec<u64> = live.subnets().iter().map(|s| s.pending_emission).collect();
                let schedule = |c: &Consensus, n: u16| c.next_epoch_block(n).zip(c.trigger_pending(n));
                let scheduled: Vec<_> = [1, 2].iter().map(|n| schedule(&live, *n)).collect();
                match live.handle(&cmd) {
                    Ok(events) => {
                        // EpochScheduleChanged: the last one of a subnet is its
                        // schedule now; none when nothing changed and no epoch ran.
                        for (i, n) in [1u16, 2].into_iter().enumerate() {
                            let announced: Vec<_> = events.iter().filter_map(|e| match e {
                                ConsensusEvent::EpochScheduleChanged(c) if c.netuid == n => Some(c),
                                _ => None,
                            }).collect();
                            let ran = events.iter().any(|e| matches!(e,
                                ConsensusEvent::EpochRan(r) if r.netuid == n));
                            let now = schedule(&live, n);
                            if now != scheduled[i] || ran {
                                let last = announced.last().expect("a change is announced");
                                prop_assert_eq!(Some((last.next_epoch_block, last.trigger_pending)), now);
                                prop_assert_eq!(last.epoch_ran, ran);
                            } else {
                                prop_assert!(announced.is_empty(), "{:?}", announced);
                            }
                        }
                        for e in &events {
                            if let ConsensusEvent::EpochRan(run) = e {
                                let n = run.hotkeys.len() as i64;
                                for v in [&run.incentive, &run.dividends] {
                                    let sum: i64 = v.iter().map(|x| i64::from(*x)).sum();
                                    prop_assert!(sum == 0 || (sum - 65_535).abs() <= n,
                                        "sum {} over {} uids", sum, n);
                                }
                                let paid: u128 = run.emission.iter().map(|x| u128::from(*x)).sum();
                                prop_assert!(paid <= u128::from(run.rao));
                                let split: u128 = run.server_emission.iter().chain(&run.validator_emission)
                                    .map(|x| u128::from(*x)).sum();
                                prop_assert!(split <= u128::from(run.rao));
                                let idx = usize::from(run.netuid - 1);
                                prop_assert_eq!(run.rao, pending[idx]);
                            }
                        }
                        log.extend(events);
                    }
                    Err(_) => prop_assert_eq!(live.digest(), before),
                }
                prop_assert!(live.check_invariants().is_ok(), "{:?}", live.check_invariants());
            }
        }
        // Replay equals live.
        let mut replayed = Consensus::default();
        for e in &log {
            replayed.evolve(e);
        }
        prop_assert_eq!(replayed.digest(), live.digest());
        prop_assert_eq!(&replayed, &live);
        // Snapshot round trip.
        let restored = Consensus::restore(&live.snapshot()).unwrap();
        prop_assert_eq!(restored.digest(), live.digest());
    }
}

#[test]
fn restore_refuses_other_versions_and_garbage() {
    let (s, _) = start();
    let mut bytes = s.snapshot();
    bytes[0] = 9;
    assert!(Consensus::restore(&bytes).is_err());
    assert!(Consensus::restore(&[1, 2, 3]).is_err());
}
