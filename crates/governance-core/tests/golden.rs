//! Golden fixtures: every (event type, version) ever written is checked in
//! under tests/fixtures/<Type>.v<N>.bin and must keep decoding to the same
//! value. A missing fixture of a current version is written when the tests
//! run with `UPDATE_FIXTURES=1` (never overwriting one that exists); without
//! it a missing fixture fails the test.

use std::path::PathBuf;

use envelope::golden::Golden;
use governance_core::event::*;
use governance_core::*;
use keys::AccountId;

fn a(n: u8) -> AccountId {
    AccountId([n; 32])
}

fn identity() -> SubnetIdentity {
    SubnetIdentity {
        name: "apex".into(),
        github: "gh/apex".into(),
        url: "https://apex.example".into(),
        ..SubnetIdentity::default()
    }
}

/// One sample per variant, at its current version.
fn samples() -> Vec<GovernanceEvent> {
    use GovernanceEvent as E;
    vec![
        E::GenesisApplied(GenesisApplied {
            admin: Some(a(1)),
            config: Config::default(),
            triumvirate: vec![a(2), a(3)],
            last_lock: (1_250_000_000_000, 1),
            subnets: vec![GenesisSubnet {
                netuid: 2,
                owner: a(20),
                owner_hotkey: a(21),
                lock: 1_000_000_000,
                tempo: 99,
                first_emission_block: Some(1),
                neurons: vec![a(21), a(22), a(23)],
                hotkey_owners: vec![(a(23), a(24))],
            }],
        }),
        E::BlockObserved(BlockObserved {
            height: 100,
            root_interval_reset: true,
        }),
        E::BlockEmissionObserved(BlockEmissionObserved { rao: 500_000_000 }),
        E::MarketObserved(MarketObserved {
            entries: vec![(1, 1 << 32, 77), (2, -1, 0)],
        }),
        E::StakesObserved(StakesObserved {
            root: vec![(a(4), 10)],
            hotkey_alpha: vec![(a(4), 3, 20)],
            prices: vec![(3, 1u128 << 63)],
            coldkey_alpha: vec![(a(5), 3, 30)],
        }),
        E::EpochScheduleObserved(EpochScheduleObserved {
            netuid: 3,
            next_epoch_block: 720,
            trigger_pending: true,
        }),
        E::SubnetRegistrationRequested(SubnetRegistrationRequested {
            op: "op-1".into(),
            coldkey: a(5),
            hotkey: a(6),
            netuid: 3,
            lock_amount: 2_500_000_000_000,
            prune: Some(3),
            identity: Some(identity()),
            block: 9,
        }),
        E::SubnetRegistered(SubnetRegistered {
            op: "op-1".into(),
            netuid: 3,
            owner: a(5),
            owner_hotkey: a(6),
            lock: 2_500_000_000_000,
            symbol: 3,
            block: 10,
            tempo: 360,
            burn: 1_000_000_000,
            identity: None,
        }),
        E::SubnetRegistrationProgressed(SubnetRegistrationProgressed {
            op: "op-1".into(),
            pool_open: true,
            metagraph_open: false,
        }),
        E::SubnetOpened(SubnetOpened {
            op: "op-1".into(),
            netuid: 3,
        }),
        E::SubnetRegistrationFailed(SubnetRegistrationFailed {
            op: "op-2".into(),
            coldkey: a(5),
            netuid: Some(4),
            code: "InsufficientLiquidity".into(),
            refund: 1_000_000_000,
            close_pool: false,
            close_metagraph: true,
            restored_lock_cost: 500_000_000_000,
            restored_lock_block: 7,
        }),
        E::SubnetDissolved(SubnetDissolved {
            netuid: 3,
            owner: a(5),
            lock: 10,
            reason: DissolveReason::Pruned {
                by_op: "op-3".into(),
            },
        }),
        E::SubnetStarted(SubnetStarted {
            netuid: 3,
            first_emission_block: 11,
        }),
        E::SubnetOwnerHotkeySet(SubnetOwnerHotkeySet {
            netuid: 3,
            hotkey: a(7),
            block: 12,
        }),
        E::SubnetIdentitySet(SubnetIdentitySet {
            netuid: 3,
            identity: identity(),
        }),
        E::SymbolSet(SymbolSet {
            netuid: 3,
            symbol: 438,
        }),
        E::HyperparameterSet(HyperparameterSet {
            netuid: 3,
            param: Hyperparameter::AlphaValues {
                low: 2_000,
                high: 60_000,
            },
            target: Target::Consensus,
            by_owner: true,
            block: 13,
        }),
        E::GlobalParamSet(GlobalParamSet {
            param: GlobalParam::VoteWeighting(VoteWeighting::StakeWeighted),
        }),
        E::HotkeyAssociated(HotkeyAssociated {
            hotkey: a(8),
            coldkey: a(9),
        }),
        E::NeuronRegistrationRequested(NeuronRegistrationRequested {
            op: "op-4".into(),
            netuid: 3,
            hotkey: a(8),
            coldkey: a(9),
            burn: 1_000_000_000,
            new_burn: 1_260_000_000,
            block: 14,
        }),
        E::NeuronRegistrationFunded(NeuronRegistrationFunded {
            op: "op-4".into(),
            netuid: 3,
            hotkey: a(8),
            coldkey: a(9),
            burn: 1_260_000_000,
            block: 14,
        }),
        E::NeuronRegistered(NeuronRegistered {
            op: "op-4".into(),
            netuid: 3,
            hotkey: a(8),
            coldkey: a(9),
            burn: 1_260_000_000,
            uid: 5,
            replaced: Some(a(10)),
            block: 15,
        }),
        E::NeuronRegistrationFailed(NeuronRegistrationFailed {
            op: "op-5".into(),
            netuid: 3,
            hotkey: a(8),
            coldkey: a(9),
            code: "NotEnoughBalanceToStake".into(),
            refund: 0,
        }),
        E::RootRegistered(RootRegistered {
            hotkey: a(11),
            coldkey: a(12),
            uid: 63,
            replaced: Some(a(13)),
            block: 16,
        }),
        E::SenateChanged(SenateChanged {
            joined: Some(a(11)),
            left: Some(a(13)),
        }),
        E::DelegateTakeSet(DelegateTakeSet {
            hotkey: a(11),
            take: 11_796,
            block: 16,
            forced: true,
        }),
        E::ChildrenScheduled(ChildrenScheduled {
            hotkey: a(11),
            netuid: 3,
            children: vec![(u64::MAX / 2, a(14))],
            apply_at: 7_217,
            block: 17,
        }),
        E::ChildrenApplied(ChildrenApplied {
            hotkey: a(11),
            netuid: 3,
            children: vec![(u64::MAX / 2, a(14))],
        }),
        E::ChildkeyTakeSet(ChildkeyTakeSet {
            hotkey: a(11),
            netuid: 3,
            take: 1_000,
            block: 18,
        }),
        E::LockUpdated(LockUpdated {
            coldkey: a(12),
            netuid: 3,
            hotkey: a(11),
            locked: 1_000,
            conviction: 368,
            perpetual: false,
            block: 19,
        }),
        E::LockRemoved(LockRemoved {
            coldkey: a(12),
            netuid: 3,
        }),
        E::SubnetOwnerChanged(SubnetOwnerChanged {
            netuid: 3,
            old_owner: a(5),
            new_owner: a(12),
            new_owner_hotkey: a(11),
        }),
        E::TriumvirateSet(TriumvirateSet {
            members: vec![a(2), a(3), a(15)],
        }),
        E::ProposalCreated(ProposalCreated {
            id: 4,
            proposer: a(2),
            action: AdminAction::SetHyperparameter {
                netuid: 3,
                param: Hyperparameter::Tempo(720),
            },
            hash: [0xAB; 32],
            voters: vec![(a(11), 1), (a(16), 1)],
            threshold: 2,
            end: 3_620,
        }),
        E::Voted(Voted {
            id: 4,
            hotkey: a(11),
            approve: true,
            yes: 1,
            no: 0,
        }),
        E::ProposalClosed(ProposalClosed {
            id: 4,
            outcome: ProposalOutcome::Approved,
            yes: 2,
            no: 0,
        }),
        E::ProposalExecutionFailed(ProposalExecutionFailed {
            id: 4,
            code: "AdminActionProhibitedDuringWeightsWindow".into(),
        }),
        E::AuthorityHandedOver(AuthorityHandedOver { former_admin: a(1) }),
        E::EmissionObserved(EmissionObserved {
            entries: vec![(1, 250_000_000), (3, 750_000_000)],
        }),
        E::EmissionRuleObserved(EmissionRuleObserved {
            rule: EmissionRule::RootWeights,
        }),
    ]
}

/// Adding a variant breaks this match: add a sample above (and a fixture).
fn _every_variant_needs_a_sample(e: &GovernanceEvent) {
    use GovernanceEvent as E;
    match e {
        E::GenesisApplied(_)
        | E::BlockObserved(_)
        | E::BlockEmissionObserved(_)
        | E::MarketObserved(_)
        | E::StakesObserved(_)
        | E::EpochScheduleObserved(_)
        | E::SubnetRegistrationRequested(_)
        | E::SubnetRegistered(_)
        | E::SubnetRegistrationProgressed(_)
        | E::SubnetOpened(_)
        | E::SubnetRegistrationFailed(_)
        | E::SubnetDissolved(_)
        | E::SubnetStarted(_)
        | E::SubnetOwnerHotkeySet(_)
        | E::SubnetIdentitySet(_)
        | E::SymbolSet(_)
        | E::HyperparameterSet(_)
        | E::GlobalParamSet(_)
        | E::HotkeyAssociated(_)
        | E::NeuronRegistrationRequested(_)
        | E::NeuronRegistrationFunded(_)
        | E::NeuronRegistered(_)
        | E::NeuronRegistrationFailed(_)
        | E::RootRegistered(_)
        | E::SenateChanged(_)
        | E::DelegateTakeSet(_)
        | E::ChildrenScheduled(_)
        | E::ChildrenApplied(_)
        | E::ChildkeyTakeSet(_)
        | E::LockUpdated(_)
        | E::LockRemoved(_)
        | E::SubnetOwnerChanged(_)
        | E::TriumvirateSet(_)
        | E::ProposalCreated(_)
        | E::Voted(_)
        | E::ProposalClosed(_)
        | E::ProposalExecutionFailed(_)
        | E::AuthorityHandedOver(_)
        | E::EmissionObserved(_)
        | E::EmissionRuleObserved(_) => {}
    }
}

/// Historical versions: none yet (every type is at v1).
/// Historical versions: `StakesObserved` v1 carried hotkey totals (upcast
/// with them dropped, see `StakesObservedV1`).
fn historical() -> Vec<(&'static str, u16, GovernanceEvent, Vec<u8>)> {
    let v1 = StakesObservedV1 {
        root: vec![(a(4), 10)],
        hotkey_total: vec![(a(4), 20)],
        coldkey_alpha: vec![(a(5), 3, 30)],
    };
    vec![(
        "StakesObserved",
        1,
        GovernanceEvent::StakesObserved(v1.clone().into()),
        envelope::codec::encode(&v1),
    )]
}

fn golden() -> Golden<GovernanceEvent> {
    Golden {
        dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")),
        service: "governance",
        schema: EVENT_SCHEMA,
        samples: samples(),
        historical: historical(),
    }
}

envelope::golden_tests!(golden());

#[test]
fn the_default_burn_multiplier_is_the_chains_1_26() {
    // U64F64::from_num(1.26) on the chain (f64 only here, in a test)
    assert_eq!(
        fixed::types::U64F64::from_num(1.26f64).to_bits(),
        params::DEFAULT_BURN_INCREASE_MULT_BITS
    );
}

#[test]
fn rejection_codes_are_variant_names() {
    assert_eq!(Rejection::StakeTooLowForRoot.code(), "StakeTooLowForRoot");
    assert_eq!(
        Rejection::UnexpectedBlock {
            expected: 1,
            got: 2
        }
        .code(),
        "UnexpectedBlock"
    );
}
