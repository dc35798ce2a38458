//! Golden fixtures: every (event type, version) ever written is checked in
//! under tests/fixtures/<Type>.v<N>.bin and must keep decoding to the same
//! value (the approach of ledger-core's golden test).
//!
//! A fixture of a current version that is missing is written when the tests
//! run with `UPDATE_FIXTURES=1` (never overwriting one that exists); without
//! it a missing fixture fails the test.

use std::path::PathBuf;

use consensus_core::event::*;
use consensus_core::*;
use envelope::golden::Golden;
use envelope::{codec, VersionedEvent};
use keys::AccountId;

fn a(n: u8) -> AccountId {
    AccountId([n; 32])
}

/// One sample per variant, at its current version.
fn samples() -> Vec<ConsensusEvent> {
    vec![
        ConsensusEvent::BlockObserved(BlockObserved { height: 7 }),
        ConsensusEvent::SubnetCreated(SubnetCreated {
            netuid: 3,
            owner: a(1),
            owner_hotkey: a(2),
            params: SubnetParams::default(),
            block: 7,
            last_epoch_block: 4,
            op: Some("sn-op-1".into()),
        }),
        ConsensusEvent::HyperparameterSet(HyperparameterSet {
            netuid: 3,
            param: Hyperparameter::AlphaValues {
                low: 2_000,
                high: 60_000,
            },
        }),
        ConsensusEvent::MaxEpochsPerBlockSet(MaxEpochsPerBlockSet { value: 3 }),
        ConsensusEvent::NeuronRegistered(NeuronRegistered {
            netuid: 3,
            uid: 5,
            hotkey: a(3),
            block: 9,
            replaced: Some(a(4)),
            op: Some("nr-op-2".into()),
        }),
        ConsensusEvent::StakeUpdated(StakeUpdated {
            netuid: 3,
            hotkey: a(3),
            stake: 123_456_789,
        }),
        ConsensusEvent::EmissionAccrued(EmissionAccrued {
            netuid: 3,
            rao: 1_000_000_000,
        }),
        ConsensusEvent::EmissionsAccrued(EmissionsAccrued {
            entries: vec![(1, 7), (3, 1_000_000_000)],
        }),
        ConsensusEvent::StakesUpdated(StakesUpdated {
            entries: vec![(3, a(3), 123_456_789), (3, a(4), 0)],
        }),
        ConsensusEvent::WeightsSet(WeightsSet {
            netuid: 3,
            uid: 1,
            hotkey: a(3),
            weights: vec![(0, 0), (2, 65_535), (4, 32_768)],
            block: 11,
        }),
        ConsensusEvent::WeightsCommitted(WeightsCommitted {
            netuid: 3,
            uid: 1,
            hotkey: a(3),
            hash: [0xAB; 32],
            block: 12,
            epoch: 2,
            expired_dropped: 1,
        }),
        ConsensusEvent::WeightsRevealed(WeightsRevealed {
            netuid: 3,
            uid: 1,
            hotkey: a(3),
            hash: [0xAB; 32],
            weights: vec![(2, 65_535)],
            commits_removed: 2,
        }),
        ConsensusEvent::EpochTriggered(EpochTriggered {
            netuid: 3,
            fires_at: 22,
        }),
        ConsensusEvent::EpochDeferred(EpochDeferred {
            netuid: 4,
            from_block: 20,
            to_block: 21,
        }),
        ConsensusEvent::EpochRan(EpochRan {
            netuid: 3,
            block: 20,
            epoch_index: 2,
            rao: 1_000_000,
            hotkeys: vec![a(2), a(3)],
            stake: vec![0, 65_535],
            consensus: vec![65_535, 0],
            incentive: vec![65_535, 0],
            dividends: vec![0, 65_535],
            validator_trust: vec![0, 65_535],
            emission: vec![500_000, 499_999],
            server_emission: vec![500_000, 0],
            validator_emission: vec![0, 499_999],
            active: vec![true, true],
            validator_permit: vec![true, true],
            bonds: vec![vec![], vec![(0, 65_535)]],
        }),
        ConsensusEvent::EpochSkipped(EpochSkipped {
            netuid: 3,
            block: 30,
            reason: "n = 70000 exceeds 65535 uids".into(),
        }),
        ConsensusEvent::StepRefused(StepRefused {
            op: "nr-op-3".into(),
            code: "HotKeyAlreadyRegisteredInSubNet".into(),
            message: "hotkey already registered in subnet".into(),
        }),
        ConsensusEvent::SubnetDropped(SubnetDropped { netuid: 3 }),
        ConsensusEvent::EpochScheduleChanged(EpochScheduleChanged {
            netuid: 3,
            next_epoch_block: 380,
            trigger_pending: true,
            epoch_ran: false,
        }),
    ]
}

/// Adding a variant breaks this match: add a sample above (and a fixture).
fn _every_variant_needs_a_sample(e: &ConsensusEvent) {
    match e {
        ConsensusEvent::BlockObserved(_)
        | ConsensusEvent::SubnetCreated(_)
        | ConsensusEvent::HyperparameterSet(_)
        | ConsensusEvent::MaxEpochsPerBlockSet(_)
        | ConsensusEvent::NeuronRegistered(_)
        | ConsensusEvent::StakeUpdated(_)
        | ConsensusEvent::EmissionAccrued(_)
        | ConsensusEvent::EmissionsAccrued(_)
        | ConsensusEvent::StakesUpdated(_)
        | ConsensusEvent::WeightsSet(_)
        | ConsensusEvent::WeightsCommitted(_)
        | ConsensusEvent::WeightsRevealed(_)
        | ConsensusEvent::EpochTriggered(_)
        | ConsensusEvent::EpochDeferred(_)
        | ConsensusEvent::EpochRan(_)
        | ConsensusEvent::EpochSkipped(_)
        | ConsensusEvent::StepRefused(_)
        | ConsensusEvent::SubnetDropped(_)
        | ConsensusEvent::EpochScheduleChanged(_) => {}
    }
}

/// Retired versions: the checked-in v1 fixtures (written before `op`
/// existed) decode as v2 with `op = None`; the bytes are the v1 sample's.
fn historical() -> Vec<(&'static str, u16, ConsensusEvent, Vec<u8>)> {
    let v1_subnet = SubnetCreatedV1 {
        netuid: 3,
        owner: a(1),
        owner_hotkey: a(2),
        params: SubnetParams::default(),
        block: 7,
        last_epoch_block: 4,
    };
    let v1_neuron = NeuronRegisteredV1 {
        netuid: 3,
        uid: 5,
        hotkey: a(3),
        block: 9,
        replaced: Some(a(4)),
    };
    vec![
        (
            "SubnetCreated",
            1,
            ConsensusEvent::SubnetCreated(SubnetCreated {
                netuid: 3,
                owner: a(1),
                owner_hotkey: a(2),
                params: SubnetParams::default(),
                block: 7,
                last_epoch_block: 4,
                op: None,
            }),
            codec::encode(&v1_subnet),
        ),
        (
            "NeuronRegistered",
            1,
            ConsensusEvent::NeuronRegistered(NeuronRegistered {
                netuid: 3,
                uid: 5,
                hotkey: a(3),
                block: 9,
                replaced: Some(a(4)),
                op: None,
            }),
            codec::encode(&v1_neuron),
        ),
    ]
}

#[test]
fn v1_fixtures_upcast_to_v2_with_no_op() {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"));
    let subnet = std::fs::read(dir.join("SubnetCreated.v1.bin")).unwrap();
    match ConsensusEvent::decode_payload("SubnetCreated", 1, &subnet).unwrap() {
        ConsensusEvent::SubnetCreated(e) => {
            assert_eq!((e.netuid, e.block, e.last_epoch_block), (3, 7, 4));
            assert_eq!(e.op, None);
        }
        other => panic!("{other:?}"),
    }
    let neuron = std::fs::read(dir.join("NeuronRegistered.v1.bin")).unwrap();
    match ConsensusEvent::decode_payload("NeuronRegistered", 1, &neuron).unwrap() {
        ConsensusEvent::NeuronRegistered(e) => {
            assert_eq!((e.netuid, e.uid, e.replaced), (3, 5, Some(a(4))));
            assert_eq!(e.op, None);
        }
        other => panic!("{other:?}"),
    }
    // a v2 payload is not a v1 one (the op is extra), and vice versa
    assert!(ConsensusEvent::decode_payload("NeuronRegistered", 2, &neuron).is_err());
}

fn golden() -> Golden<ConsensusEvent> {
    Golden {
        dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")),
        service: "consensus",
        schema: EVENT_SCHEMA,
        samples: samples(),
        historical: historical(),
    }
}

envelope::golden_tests!(golden());
