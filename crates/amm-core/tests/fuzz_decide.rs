//! Fuzzing `decide`: hostile edits of every command variant (and its
//! origin) against three subnets with pools, stakes, a pending stake, a
//! run coinbase and a paid epoch (testkit::fuzz; docs/fuzzing.md). Checks
//! the amm's accounting identities (pool reserves, alpha issuance, share
//! pools, pots) after every accepted command. `PROPTEST_CASES` sets the
//! input count.

mod common;

use amm_core::*;
use common::*;
use testkit::fuzz;

const TAO: u64 = 1_000_000_000;

fn base() -> (Amm, Vec<AmmEvent>) {
    let mut h = Harness::new(genesis(vec![
        subnet(1, 1_000 * TAO, 1_000 * TAO),
        subnet(2, 50 * TAO, 400 * TAO),
        subnet(3, 10 * TAO, 10 * TAO),
    ]));
    h.stake(ALICE, ALICE_HK, 1, 20 * TAO).unwrap();
    h.stake(BOB, BOB_HK, 2, 5 * TAO).unwrap();
    h.stake(ALICE, BOB_HK, 0, 3 * TAO).unwrap();
    for _ in 0..3 {
        h.block(TAO).unwrap();
    }
    // One stake left waiting for the ledger's funding.
    h.run(signed(
        BOB,
        CommandBody::AddStake {
            op: "pending".into(),
            hotkey: a(BOB_HK),
            netuid: 1,
            amount: TAO,
            limit_price: None,
            allow_partial: false,
        },
    ))
    .unwrap();
    h.check();
    (h.amm, h.log)
}

fn seeds(amm: &Amm) -> Vec<Command> {
    let height = amm.height;
    let op = |s: &str| s.to_string();
    let param = |netuid, param| signed(ADMIN, CommandBody::SetParam { netuid, param });
    vec![
        Command::new(
            Origin::Genesis,
            CommandBody::ApplyGenesis(genesis(vec![subnet(1, TAO, TAO)])),
        ),
        ledger(CommandBody::Block {
            height: height.saturating_add(1),
            minted: TAO,
        }),
        ledger(CommandBody::Block {
            height: height.saturating_add(1),
            minted: 0,
        }),
        ledger(CommandBody::StakeFunded { op: op("pending") }),
        ledger(CommandBody::LedgerRejected {
            op: op("pending"),
            code: op("InsufficientBalance"),
            message: op("no"),
        }),
        consensus(CommandBody::Epoch {
            netuid: 1,
            block: height,
            hotkeys: vec![a(ALICE_HK), a(BOB_HK), a(OWNER_HK)],
            incentive: vec![1_000, 2_000, 3_000],
            dividend: vec![5, 0, 1],
        }),
        consensus(CommandBody::NeuronRegistered {
            netuid: 2,
            hotkey: a(31),
            replaced: Some(a(BOB_HK)),
        }),
        signed(
            ALICE,
            CommandBody::AddStake {
                op: op("s1"),
                hotkey: a(ALICE_HK),
                netuid: 2,
                amount: 2 * TAO,
                limit_price: Some(TAO),
                allow_partial: true,
            },
        ),
        signed(
            ALICE,
            CommandBody::RemoveStake {
                op: op("u1"),
                hotkey: a(ALICE_HK),
                netuid: 1,
                alpha: 5 * TAO,
                limit_price: Some(1),
                allow_partial: false,
            },
        ),
        signed(
            BOB,
            CommandBody::UnstakeAll {
                op: op("u2"),
                hotkey: a(BOB_HK),
            },
        ),
        signed(
            ALICE,
            CommandBody::MoveStake {
                op: op("m1"),
                origin_hotkey: a(ALICE_HK),
                destination_hotkey: a(BOB_HK),
                origin_netuid: 1,
                destination_netuid: 2,
                alpha: TAO,
            },
        ),
        signed(
            ALICE,
            CommandBody::TransferStake {
                op: op("t1"),
                destination_coldkey: a(BOB),
                hotkey: a(ALICE_HK),
                origin_netuid: 1,
                destination_netuid: 1,
                alpha: TAO,
            },
        ),
        signed(
            BOB,
            CommandBody::SwapStake {
                op: op("w1"),
                hotkey: a(BOB_HK),
                origin_netuid: 2,
                destination_netuid: 3,
                alpha: TAO,
                limit_price: None,
                allow_partial: false,
            },
        ),
        signed(
            ALICE,
            CommandBody::RecycleAlpha {
                op: op("r1"),
                hotkey: a(ALICE_HK),
                netuid: 1,
                alpha: TAO,
            },
        ),
        signed(
            ALICE,
            CommandBody::BurnAlpha {
                op: op("b1"),
                hotkey: a(ALICE_HK),
                netuid: 1,
                alpha: TAO,
            },
        ),
        signed(
            ALICE,
            CommandBody::ClaimRoot {
                op: op("c1"),
                netuids: vec![1, 2],
            },
        ),
        signed(
            ALICE,
            CommandBody::SetRootClaimType {
                claim_type: RootClaimType::KeepSubnets(vec![1, 3]),
            },
        ),
        signed(
            BOB,
            CommandBody::SetRootClaimType {
                claim_type: RootClaimType::Keep,
            },
        ),
        signed(BOB, CommandBody::AssociateHotkey { hotkey: a(40) }),
        governance(CommandBody::OpenSubnet {
            op: op("o1"),
            netuid: 4,
            owner: a(BOB),
            owner_hotkey: a(BOB_HK),
            lock: 100 * TAO,
            block: height,
        }),
        governance(CommandBody::CloseSubnet {
            op: op("o1"),
            netuid: 4,
        }),
        governance(CommandBody::DissolveSubnet {
            netuid: 3,
            block: height,
        }),
        governance(CommandBody::RegistrationBurn {
            op: op("g1"),
            netuid: 2,
            coldkey: a(BOB),
            amount: TAO,
        }),
        governance(CommandBody::SetOwner {
            netuid: 1,
            owner: Some(a(ALICE)),
            owner_hotkey: a(ALICE_HK),
        }),
        governance(CommandBody::HotkeyOwner {
            hotkey: a(50),
            coldkey: a(BOB),
        }),
        governance(CommandBody::SetLock {
            coldkey: a(ALICE),
            netuid: 1,
            locked: 10 * TAO,
            perpetual: false,
            block: height,
        }),
        governance(CommandBody::ClearLock {
            coldkey: a(ALICE),
            netuid: 1,
        }),
        governance(CommandBody::SetUnlockRate { blocks: 100 }),
        param(1, SubnetParam::FeeRate(1_000)),
        param(2, SubnetParam::EmissionEnabled(false)),
        param(3, SubnetParam::SubtokenEnabled(false)),
        param(1, SubnetParam::OwnerCut(u16::MAX)),
        param(0, SubnetParam::TaoWeight(u64::MAX / 2)),
        param(0, SubnetParam::MinStake(TAO)),
        param(2, SubnetParam::StartCall),
        param(
            1,
            SubnetParam::DelegateTake {
                hotkey: a(ALICE_HK),
                take: 11_796,
            },
        ),
        param(0, SubnetParam::CkBurn(u64::MAX)),
        param(1, SubnetParam::EmaHalvingBlocks(1)),
        param(1, SubnetParam::RootClaimThreshold(0)),
        governance(CommandBody::SetParam {
            netuid: 2,
            param: SubnetParam::OwnerCutEnabled(false),
        }),
        governance(CommandBody::SetChildren {
            hotkey: a(ALICE_HK),
            netuid: 1,
            children: vec![(u64::MAX / 2, a(BOB_HK)), (u64::MAX / 4, a(OWNER_HK))],
        }),
        governance(CommandBody::SetChildkeyTake {
            hotkey: a(ALICE_HK),
            netuid: 1,
            take: 1_000,
        }),
        // The emission rules (issue 9): switches, the root tempo, root
        // weights (signed by a hotkey; the fuzzer edits netuids/weights).
        param(0, SubnetParam::EmissionRule(EmissionRule::RootWeights)),
        param(0, SubnetParam::EmissionRule(EmissionRule::NetFlow)),
        param(0, SubnetParam::EmissionRule(EmissionRule::EmaPrice)),
        param(0, SubnetParam::RootTempo(1)),
        signed(
            ALICE_HK,
            CommandBody::SetRootWeights {
                weights: vec![(1, 1), (2, 65_535)],
            },
        ),
        signed(
            BOB_HK,
            CommandBody::SetRootWeights {
                weights: vec![(2, 7)],
            },
        ),
    ]
}

#[test]
fn hostile_commands_never_break_the_amm() {
    let stats = fuzz::fuzz_decide("amm", &base(), seeds, Amm::check_invariants);
    assert!(stats.mutated > 0);
}
