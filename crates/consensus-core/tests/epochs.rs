//! Epoch scheduling (tempo, trigger, safety net, MaxEpochsPerBlock with
//! deferral) and the end-to-end check that `EpochRan` is exactly
//! `yuma::run_epoch` on the stored metagraph.

mod common;

use common::*;
use consensus_core::event::*;
use consensus_core::*;
use yuma::fixed_math::i64f64_from_u64;

fn ran_at(events: &[ConsensusEvent]) -> Vec<(u16, u64)> {
    epochs(events).iter().map(|e| (e.netuid, e.block)).collect()
}

#[test]
fn epochs_run_every_tempo_blocks() {
    let mut s = subnet_with(2);
    let events = advance_to(&mut s, 45);
    assert_eq!(ran_at(&events), vec![(1, 10), (1, 20), (1, 30), (1, 40)]);
    let summary = &s.subnets()[0];
    assert_eq!((summary.epoch_index, summary.last_epoch_block), (4, 40));
}

#[test]
fn a_new_tempo_restarts_the_cycle() {
    let mut s = subnet_with(1);
    advance_to(&mut s, 15);
    run(
        &mut s,
        [service(CommandBody::SetHyperparameter {
            netuid: 1,
            param: Hyperparameter::Tempo(4),
        })],
    );
    let events = advance_to(&mut s, 24);
    assert_eq!(ran_at(&events), vec![(1, 19), (1, 23)]);
}

fn three_subnets_due_together() -> Consensus {
    let mut s = Consensus::default();
    run(&mut s, [block(1)]);
    // netuids 11, 21, 31 with tempo 10, created at block 1: all staggered
    // to last epoch slot 1 − 1 = 0.
    for netuid in [31, 11, 21] {
        run(&mut s, [create(netuid, test_params())]);
    }
    s
}

#[test]
fn at_most_max_epochs_per_block_run_and_the_rest_are_deferred() {
    let mut s = three_subnets_due_together();
    let events = advance_to(&mut s, 9);
    assert!(epochs(&events).is_empty());
    let events = advance_to(&mut s, 10);
    assert_eq!(ran_at(&events), vec![(11, 10), (21, 10)]);
    assert!(
        events.contains(&ConsensusEvent::EpochDeferred(EpochDeferred {
            netuid: 31,
            from_block: 10,
            to_block: 11,
        }))
    );
    let events = advance_to(&mut s, 11);
    assert_eq!(ran_at(&events), vec![(31, 11)]);
    // Each keeps its own cadence from its last slot.
    let events = advance_to(&mut s, 21);
    assert_eq!(ran_at(&events), vec![(11, 20), (21, 20), (31, 21)]);
}

#[test]
fn a_cap_of_one_defers_in_netuid_order() {
    let mut s = three_subnets_due_together();
    run(
        &mut s,
        [service(CommandBody::SetMaxEpochsPerBlock { value: 1 })],
    );
    let events = advance_to(&mut s, 12);
    assert_eq!(ran_at(&events), vec![(11, 10), (21, 11), (31, 12)]);
    let deferred: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ConsensusEvent::EpochDeferred(d) => Some((d.netuid, d.from_block)),
            _ => None,
        })
        .collect();
    assert_eq!(deferred, vec![(21, 10), (31, 10), (31, 11)]);
}

#[test]
fn the_safety_net_fires_after_max_tempo_blocks() {
    let mut s = Consensus::default();
    run(
        &mut s,
        [
            block(1),
            create(
                1,
                SubnetParams {
                    tempo: 60_000,
                    ..test_params()
                },
            ),
        ],
    );
    // Created at 1, no successful epoch: due when more than 50_400 blocks
    // have passed, long before the tempo.
    let events = advance_to(&mut s, 50_401);
    assert!(epochs(&events).is_empty());
    let events = advance_to(&mut s, 50_402);
    assert_eq!(ran_at(&events), vec![(1, 50_402)]);
}

// ---------------------------------------------------------------- end to end

/// The engine inputs rebuilt by hand from the public metagraph and
/// parameters, independently of the core's own `epoch_inputs`.
fn inputs_from_metagraph(
    s: &Consensus,
    netuid: u16,
    block: u64,
    rao: u64,
    last_step: u64,
) -> (yuma::Hyperparameters, yuma::SubnetState, yuma::EpochContext) {
    let m = s.metagraph(netuid).unwrap();
    let p = &s.subnet(netuid).unwrap().params;
    let hp = yuma::Hyperparameters {
        kappa_u16: p.kappa,
        bonds_penalty_u16: p.bonds_penalty,
        bonds_moving_average: p.bonds_moving_average,
        yuma3: p.yuma3,
        liquid_alpha: p.liquid_alpha,
        alpha_low_u16: p.alpha_low,
        alpha_high_u16: p.alpha_high,
        alpha_sigmoid_steepness: p.alpha_sigmoid_steepness,
        max_allowed_validators: p.max_allowed_validators,
        activity_cutoff_blocks: yuma::activity_cutoff_blocks(
            p.activity_cutoff_factor_milli,
            p.tempo,
        ),
        stake_threshold: p.stake_threshold,
    };
    let state = yuma::SubnetState {
        stake: m.neurons.iter().map(|n| i64f64_from_u64(n.stake)).collect(),
        validator_permit: m.neurons.iter().map(|n| n.validator_permit).collect(),
        last_update: m.neurons.iter().map(|n| n.last_update).collect(),
        block_at_registration: m.neurons.iter().map(|n| n.registered_at).collect(),
        weights: m.neurons.iter().map(|n| n.weights.clone()).collect(),
        bonds: m.neurons.iter().map(|n| n.bonds.clone()).collect(),
    };
    let ctx = yuma::EpochContext {
        current_block: block,
        last_tempo: yuma::last_tempo_block(block, u64::from(p.tempo), last_step),
        rao_emission: rao,
        owner_uid: m
            .neurons
            .iter()
            .position(|n| n.hotkey == m.owner_hotkey)
            .map(|u| u as u16),
        commit_blocks: None,
    };
    (hp, state, ctx)
}

fn check_epoch_equals_engine(yuma3: bool) {
    let mut s = Consensus::default();
    run(
        &mut s,
        [
            block(1),
            create(
                1,
                SubnetParams {
                    yuma3,
                    max_allowed_validators: 3,
                    ..test_params()
                },
            ),
            register(1, owner_hotkey(), 1),
        ],
    );
    for i in 0..6u8 {
        run(&mut s, [register(1, hk(i), 1)]);
        if i < 4 {
            run(&mut s, [stake(1, hk(i), 1_000_000 * (u64::from(i) + 1))]);
        }
    }
    let mut last_step = 0;
    let mut checked = 0;
    for round in 0..6u64 {
        // Validators (uids 1..=4, the permitted ones after the first epoch)
        // weight the miners 5 and 6, and shift over time.
        let mut cmds = vec![service(CommandBody::EmissionPending {
            netuid: 1,
            rao: 1_000_000_000 + round,
        })];
        if round > 0 {
            for v in 1..=4u16 {
                let who = hk((v - 1) as u8);
                if s.metagraph(1).unwrap().neurons[usize::from(v)].validator_permit {
                    cmds.push(set_weights(
                        who,
                        1,
                        &[5, 6, 0],
                        &[v * 100 + round as u16, 400 - v * 50, 0],
                    ));
                }
            }
        }
        run(&mut s, cmds);
        let target = s.subnets()[0].next_auto_epoch_block;
        advance_to(&mut s, target - 1);
        let rao = s.subnets()[0].pending_emission;
        let (hp, state, ctx) = inputs_from_metagraph(&s, 1, target, rao, last_step);
        let want = yuma::run_epoch(&hp, &state, &ctx).unwrap();
        let events = advance_to(&mut s, target);
        let got = epochs(&events);
        assert_eq!(got.len(), 1);
        let got = got[0];
        assert_eq!(got.rao, rao);
        assert_eq!(got.stake, want.stake_u16);
        assert_eq!(got.consensus, want.consensus_u16);
        assert_eq!(got.incentive, want.incentive_u16);
        assert_eq!(got.dividends, want.dividends_u16);
        assert_eq!(got.validator_trust, want.validator_trust_u16);
        assert_eq!(got.emission, want.emission);
        assert_eq!(got.server_emission, want.server_emission);
        assert_eq!(got.validator_emission, want.validator_emission);
        assert_eq!(got.active, want.active);
        assert_eq!(got.validator_permit, want.validator_permit);
        assert_eq!(got.bonds, want.bonds_u16);
        // And the stored metagraph is the engine's `apply_to`.
        let mut next = state.clone();
        want.apply_to(&mut next);
        let m = s.metagraph(1).unwrap();
        let permits: Vec<bool> = m.neurons.iter().map(|n| n.validator_permit).collect();
        let bonds: Vec<_> = m.neurons.iter().map(|n| n.bonds.clone()).collect();
        assert_eq!(permits, next.validator_permit);
        assert_eq!(bonds, next.bonds);
        let incentive: Vec<u16> = m.neurons.iter().map(|n| n.incentive).collect();
        assert_eq!(incentive, want.incentive_u16);
        if round > 1 {
            assert!(got.incentive[5] > 0 && got.dividends.iter().any(|d| *d > 0));
        }
        last_step = target;
        checked += 1;
    }
    assert_eq!(checked, 6);
}

#[test]
fn epoch_ran_equals_the_engine_on_the_stored_metagraph_original_yuma() {
    check_epoch_equals_engine(false);
}

#[test]
fn epoch_ran_equals_the_engine_on_the_stored_metagraph_yuma3() {
    check_epoch_equals_engine(true);
}

#[test]
fn commit_reveal_masks_reach_the_engine() {
    let mut s = subnet_with(3);
    advance_to(&mut s, 10);
    run(
        &mut s,
        [service(CommandBody::SetHyperparameter {
            netuid: 1,
            param: Hyperparameter::CommitRevealEnabled(true),
        })],
    );
    let hash = commit_hash(&hk(0), 1, &[2], &[1], &[1], 0);
    run(
        &mut s,
        [signed(
            hk(0),
            CommandBody::CommitWeights { netuid: 1, hash },
        )],
    );
    let (_, _, ctx) = s.epoch_inputs(1, 20, 0).unwrap();
    let mut want = vec![u64::MAX; 4];
    want[1] = 10;
    assert_eq!(ctx.commit_blocks, Some(want));
}

#[test]
fn a_coinbase_accrual_joins_the_epoch_of_its_own_block() {
    let mut s = subnet_with(2);
    advance_to(&mut s, 8);
    let accrue = |height: u64, rao: u64| {
        clock(CommandBody::ObserveCoinbase {
            height,
            accruals: vec![(1, rao), (99, 5)],
        })
    };
    let events = run(&mut s, [accrue(9, 1_000)]);
    assert!(epochs(&events).is_empty());
    // Block 10 is the epoch block: its own 500 rao are drained with it.
    let events = run(&mut s, [accrue(10, 500)]);
    assert!(matches!(events[0], ConsensusEvent::BlockObserved(_)));
    assert!(
        matches!(&events[1], ConsensusEvent::EmissionsAccrued(e) if e.entries == vec![(1, 500)]),
        "{:?}",
        events[1]
    );
    assert_eq!(epochs(&events)[0].rao, 1_500);
    assert_eq!(s.subnets()[0].pending_emission, 0);
    s.check_invariants().unwrap();
    // Stake updates: unchanged and unknown-subnet entries produce nothing.
    let events = run(
        &mut s,
        [clock(CommandBody::StakeUpdates {
            entries: vec![(1, hk(0), 7), (1, hk(0), 9), (42, hk(0), 1)],
        })],
    );
    assert_eq!(events.len(), 1);
    assert_eq!(s.stake_of(1, &hk(0)), 9);
}
