//! Fuzzing `decide`: hostile edits of every command variant (and its
//! origin) against two populated subnets, one with commit-reveal, with
//! weights set and a commit pending (testkit::fuzz; docs/fuzzing.md).
//! Checks the metagraph invariants after every accepted command.
//! `PROPTEST_CASES` sets the input count.

mod common;

use common::*;
use consensus_core::*;
use testkit::fuzz;

fn key(k: u8) -> keys::AccountId {
    if k == 0 {
        owner_hotkey()
    } else {
        hk(k)
    }
}

fn base() -> (Consensus, Vec<ConsensusEvent>) {
    let mut cmds = vec![
        block(1),
        service(CommandBody::SetMaxEpochsPerBlock { value: 2 }),
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
    ];
    for netuid in [1, 2] {
        for k in 0..5u8 {
            cmds.push(register(netuid, key(k), 1));
            cmds.push(stake(netuid, key(k), 1_000_000 * u64::from(k + 1)));
        }
    }
    // Past an epoch on both subnets, so validator permits exist.
    cmds.extend((2..=16).map(block));
    cmds.push(set_weights(key(1), 1, &[0, 1, 2], &[10, 20, 30]));
    cmds.push(signed(
        key(1),
        CommandBody::CommitWeights {
            netuid: 2,
            hash: commit_hash(&key(1), 2, &[0, 1], &[5, 6], &[1], 0),
        },
    ));
    cmds.push(service(CommandBody::EmissionPending {
        netuid: 1,
        rao: 1_000_000_000,
    }));
    fuzz::build(cmds)
}

fn seeds(s: &Consensus) -> Vec<Command> {
    let h = s.height();
    let weights = |netuid| CommandBody::SetWeights {
        netuid,
        uids: vec![0, 1, 2, 3, 4],
        values: vec![1, 2, 3, 4, u16::MAX],
        version_key: 0,
    };
    let param = |param| service(CommandBody::SetHyperparameter { netuid: 1, param });
    vec![
        block(h.saturating_add(1)),
        block(h.saturating_add(1)),
        clock(CommandBody::ObserveCoinbase {
            height: h.saturating_add(1),
            accruals: vec![(1, 1_000_000), (2, 2_000_000), (9, 5)],
        }),
        clock(CommandBody::StakeUpdates {
            entries: vec![(1, key(2), 7_000_000), (2, key(3), 0), (7, key(1), 1)],
        }),
        service(CommandBody::CreateSubnet {
            netuid: 3,
            owner: owner(),
            owner_hotkey: key(6),
            params: test_params(),
            op: Some("g1".into()),
        }),
        service(CommandBody::DropSubnet { netuid: 2 }),
        param(Hyperparameter::Tempo(3)),
        param(Hyperparameter::MaxAllowedUids(4)),
        param(Hyperparameter::AlphaValues {
            low: 100,
            high: 60_000,
        }),
        param(Hyperparameter::AlphaSigmoidSteepness(-5)),
        param(Hyperparameter::LiquidAlpha(true)),
        param(Hyperparameter::CommitRevealEnabled(true)),
        param(Hyperparameter::ActivityCutoffFactorMilli(1)),
        param(Hyperparameter::MinAllowedWeights(3)),
        param(Hyperparameter::ImmunityPeriod(100)),
        service(CommandBody::SetMaxEpochsPerBlock { value: 0 }),
        service(CommandBody::RegisterNeuron {
            netuid: 1,
            hotkey: key(7),
            block: h,
            op: Some("r1".into()),
        }),
        register(2, key(8), h),
        stake(1, key(3), 5_000_000),
        service(CommandBody::EmissionPending {
            netuid: 2,
            rao: 3_000_000,
        }),
        signed(key(2), weights(1)),
        signed(key(3), weights(2)),
        signed(
            key(2),
            CommandBody::CommitWeights {
                netuid: 2,
                hash: commit_hash(&key(2), 2, &[0, 1], &[5, 6], &[1], 0),
            },
        ),
        signed(
            key(1),
            CommandBody::RevealWeights {
                netuid: 2,
                uids: vec![0, 1],
                values: vec![5, 6],
                salt: vec![1],
                version_key: 0,
            },
        ),
        signed(owner(), CommandBody::TriggerEpoch { netuid: 1 }),
        service(CommandBody::TriggerEpoch { netuid: 2 }),
    ]
}

#[test]
fn hostile_commands_never_break_consensus() {
    let stats = fuzz::fuzz_decide("consensus", &base(), seeds, Consensus::check_invariants);
    assert!(stats.mutated > 0);
}
