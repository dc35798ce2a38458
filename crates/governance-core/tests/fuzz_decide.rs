//! Fuzzing `decide`: hostile edits of every command variant (and its
//! origin) against a world with an open subnet, registered neurons, alpha
//! and root stakes, a senate, an open proposal and sagas in flight
//! (testkit::fuzz; docs/fuzzing.md). Checks governance's invariants after
//! every accepted command. `PROPTEST_CASES` sets the input count.

mod common;

use common::*;
use governance_core::*;
use testkit::fuzz;

fn base() -> (Governance, Vec<GovernanceEvent>) {
    let mut cmds = vec![
        genesis_with(Config {
            root_max_registrations_per_block: 10,
            root_target_registrations_per_interval: 10,
            ..no_rate_limit()
        }),
        block(1),
        register_network(ck(1), hk(1), "net1"),
        ledger(CommandBody::LockConfirmed { op: "net1".into() }),
        amm(CommandBody::PoolOpened { op: "net1".into() }),
        consensus(CommandBody::MetagraphOpened { op: "net1".into() }),
    ];
    for i in 2..=3u8 {
        let op = format!("r{i}");
        cmds.push(signed(
            ck(i),
            CommandBody::BurnedRegister {
                op: op.clone(),
                netuid: 1,
                hotkey: hk(i),
                limit_price: None,
            },
        ));
        cmds.push(funded(&op));
        cmds.push(consensus(CommandBody::NeuronRegistered {
            op,
            uid: u16::from(i) - 1,
            replaced: None,
        }));
    }
    cmds.push(stakes(StakeReport {
        root: (1..=4u8).map(|i| (hk(i), u64::from(i) * TAO)).collect(),
        hotkey_alpha: vec![(hk(2), 0, 5 * TAO), (hk(3), 0, TAO)],
        prices: vec![(0, 1u128 << 64)],
        coldkey_alpha: vec![(ck(2), 1, 4 * TAO), (ck(3), 1, TAO)],
    }));
    for i in 1..=3u8 {
        cmds.push(signed(ck(i), CommandBody::RootRegister { hotkey: hk(i) }));
    }
    cmds.push(signed(
        triumvir(0),
        CommandBody::Propose {
            action: AdminAction::SetGlobal(GlobalParam::SubnetLimit(64)),
            duration: 3_600,
        },
    ));
    // Sagas in flight: a subnet registration and a neuron registration.
    cmds.push(register_network(ck(4), hk(4), "net2"));
    cmds.push(signed(
        ck(5),
        CommandBody::BurnedRegister {
            op: "r5".into(),
            netuid: 1,
            hotkey: hk(5),
            limit_price: Some(10 * TAO),
        },
    ));
    fuzz::build(cmds)
}

fn seeds(s: &Governance) -> Vec<Command> {
    let h = s.height();
    let op = |x: &str| x.to_string();
    let param = |netuid, param| signed(ck(1), CommandBody::SetHyperparameter { netuid, param });
    vec![
        genesis_with(Config::default()),
        block(h.saturating_add(1)),
        ledger(CommandBody::Block {
            height: h.saturating_add(1),
            emission: TAO,
        }),
        amm(CommandBody::BlockEmission { rao: TAO }),
        ledger(CommandBody::LockConfirmed { op: op("net2") }),
        ledger(CommandBody::LockRefused {
            op: op("net2"),
            code: op("InsufficientBalance"),
        }),
        funded("r5"),
        ledger(CommandBody::LedgerRejected {
            op: op("r5"),
            code: op("InsufficientBalance"),
        }),
        consensus(CommandBody::StepRefused {
            op: op("net2"),
            code: op("x"),
        }),
        amm(CommandBody::PoolOpened { op: op("net2") }),
        amm(CommandBody::PoolRefused {
            op: op("net2"),
            code: op("x"),
        }),
        consensus(CommandBody::MetagraphOpened { op: op("net2") }),
        consensus(CommandBody::MetagraphRefused {
            op: op("net2"),
            code: op("x"),
        }),
        amm(CommandBody::Market {
            entries: vec![(1, 1_000_000_000, 5 * TAO), (2, -7, 1)],
            credits: vec![(1, 300_000_000), (2, 0), (9, u64::MAX)],
        }),
        amm(CommandBody::EmissionRuleChanged {
            rule: governance_core::EmissionRule::RootWeights,
        }),
        stakes(StakeReport {
            root: vec![(hk(5), 9 * TAO)],
            hotkey_alpha: vec![(hk(1), 1, TAO)],
            prices: vec![(1, 1u128 << 63)],
            coldkey_alpha: vec![(ck(2), 1, 0), (ck(4), 2, TAO)],
        }),
        consensus(CommandBody::EpochSchedule {
            netuid: 1,
            next_epoch_block: h.saturating_add(10),
            trigger_pending: false,
            epoch_ran: true,
        }),
        consensus(CommandBody::NeuronRegistered {
            op: op("r5"),
            uid: 3,
            replaced: Some(hk(2)),
        }),
        consensus(CommandBody::NeuronRegistrationFailed {
            op: op("r5"),
            code: op("TooMany"),
        }),
        signed(
            ck(6),
            CommandBody::RegisterNetwork {
                op: op("net3"),
                hotkey: hk(6),
                identity: Some(SubnetIdentity {
                    name: op("n"),
                    ..SubnetIdentity::default()
                }),
                max_lock_cost: Some(TAO),
            },
        ),
        signed(ck(1), CommandBody::StartCall { netuid: 1 }),
        signed(
            ck(1),
            CommandBody::SetSubnetOwnerHotkey {
                netuid: 1,
                hotkey: hk(2),
            },
        ),
        signed(
            ck(1),
            CommandBody::SetSubnetIdentity {
                netuid: 1,
                identity: SubnetIdentity::default(),
            },
        ),
        signed(
            ck(1),
            CommandBody::UpdateSymbol {
                netuid: 1,
                symbol: 3,
            },
        ),
        param(1, Hyperparameter::Tempo(7)),
        param(1, Hyperparameter::MaxAllowedUids(2)),
        param(1, Hyperparameter::WeightsRateLimit(u64::MAX)),
        param(1, Hyperparameter::CommitRevealEnabled(true)),
        signed(
            ck(7),
            CommandBody::BurnedRegister {
                op: op("r7"),
                netuid: 1,
                hotkey: hk(7),
                limit_price: None,
            },
        ),
        signed(ck(4), CommandBody::RootRegister { hotkey: hk(4) }),
        signed(ck(4), CommandBody::AdjustSenate { hotkey: hk(4) }),
        signed(
            ck(2),
            CommandBody::DecreaseTake {
                hotkey: hk(2),
                take: 0,
            },
        ),
        signed(
            ck(2),
            CommandBody::IncreaseTake {
                hotkey: hk(2),
                take: 11_796,
            },
        ),
        signed(
            ck(2),
            CommandBody::SetChildren {
                hotkey: hk(2),
                netuid: 1,
                children: vec![(u64::MAX / 2, hk(3)), (1, hk(1))],
            },
        ),
        signed(
            ck(2),
            CommandBody::SetChildkeyTake {
                hotkey: hk(2),
                netuid: 1,
                take: 1_000,
            },
        ),
        signed(
            ck(2),
            CommandBody::LockStake {
                hotkey: hk(2),
                netuid: 1,
                amount: TAO,
            },
        ),
        signed(
            ck(2),
            CommandBody::SetPerpetualLock {
                netuid: 1,
                perpetual: true,
            },
        ),
        signed(
            ck(2),
            CommandBody::MoveLock {
                destination_hotkey: hk(3),
                netuid: 1,
            },
        ),
        signed(
            triumvir(1),
            CommandBody::Propose {
                action: AdminAction::DissolveSubnet { netuid: 1 },
                duration: 10,
            },
        ),
        signed(
            ck(1),
            CommandBody::Vote {
                hotkey: hk(1),
                id: 0,
                approve: true,
            },
        ),
        signed(
            ck(2),
            CommandBody::Vote {
                hotkey: hk(2),
                id: 1,
                approve: false,
            },
        ),
        signed(ck(9), CommandBody::Close { id: 0 }),
        admin_cmd(AdminAction::SetHyperparameter {
            netuid: 1,
            param: Hyperparameter::ImmunityPeriod(0),
        }),
        admin_cmd(AdminAction::SetGlobal(GlobalParam::NetworkMinLockCost(1))),
        admin_cmd(AdminAction::SetGlobal(GlobalParam::MaxDelegateTake(
            u16::MAX,
        ))),
        admin_cmd(AdminAction::DissolveSubnet { netuid: 1 }),
        admin_cmd(AdminAction::SetTriumvirate {
            members: vec![triumvir(0), ck(9)],
        }),
        admin_cmd(AdminAction::VetoProposal { id: 0 }),
        admin_cmd(AdminAction::SetSubnetOwnerHotkey {
            netuid: 1,
            hotkey: hk(9),
        }),
        admin_cmd(AdminAction::UpdateSymbol {
            netuid: 1,
            symbol: u16::MAX,
        }),
        signed(admin(), CommandBody::HandOverToCollective),
    ]
}

#[test]
fn hostile_commands_never_break_governance() {
    let stats = fuzz::fuzz_decide("governance", &base(), seeds, Governance::check_invariants);
    assert!(stats.mutated > 0);
}
