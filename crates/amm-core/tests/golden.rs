//! Golden fixtures: every (event type, version) ever written is checked in
//! under tests/fixtures/<Type>.v<N>.bin and must keep decoding to the same
//! value. Missing fixtures of current versions are written with
//! `UPDATE_FIXTURES=1` (never overwriting one).

use std::path::PathBuf;

use amm_core::event::*;
use amm_core::*;
use envelope::golden::Golden;
use keys::AccountId;

fn a(n: u8) -> AccountId {
    AccountId([n; 32])
}

fn claimed() -> Vec<ClaimedSet> {
    vec![ClaimedSet {
        netuid: 3,
        hotkey: a(2),
        coldkey: a(1),
        claimed: 123_456_789_012,
    }]
}

/// One sample per variant, at its current version.
fn samples() -> Vec<AmmEvent> {
    vec![
        AmmEvent::GenesisApplied(GenesisApplied {
            genesis: AmmGenesis {
                params: AmmParams {
                    admin: Some(a(9)),
                    ..AmmParams::default()
                },
                subnets: vec![GenesisSubnet {
                    netuid: 1,
                    owner: a(1),
                    owner_hotkey: a(2),
                    tao_reserve: 1_000_000_000_000,
                    alpha_reserve: 2_000_000_000_000,
                    first_emission_block: Some(1),
                    emission_enabled: true,
                    neurons: vec![GenesisNeuron {
                        hotkey: a(3),
                        owner: a(4),
                    }],
                    tempo: Some(360),
                }],
            },
        }),
        AmmEvent::CoinbaseRan(CoinbaseRan {
            block: 7,
            minted: 1_000_000_000,
            subnets: vec![SubnetCoinbase {
                netuid: 1,
                tao_in: 600_000_000,
                alpha_in: 300_000_000,
                excess_tao: 399_999_999,
                bought_alpha: 199_000_000,
                alpha_out: 1_000_000_000,
                owner_cut: 179_995_422,
                server: 410_002_288,
                validator: 307_501_716,
                root: 102_500_572,
                root_recycled: 0,
                tao_reserve: 1_001_000_000_000,
                alpha_reserve: 2_000_100_000_000,
                alpha_outstanding: 1_199_000_000,
                quote_weight: 500_100_000_000_000_000,
                moving_price_bits: 1 << 31,
            }],
            credits: vec![(1, 999_999_999)],
            recycled: 1,
        }),
        AmmEvent::StakeRequested(StakeRequested {
            op: "op-1".into(),
            coldkey: a(1),
            hotkey: a(2),
            netuid: 1,
            amount: 5_000_000_000,
            limit_price: Some(2_000_000_000),
            allow_partial: true,
        }),
        AmmEvent::StakeFailed(StakeFailed {
            op: "op-1".into(),
            coldkey: a(1),
            netuid: 1,
            funded: 5_000_000_000,
            code: "PriceLimitExceeded".into(),
            message: "price limit exceeded".into(),
        }),
        AmmEvent::TaoSettlement(TaoSettlement {
            op: "op-2".into(),
            moves: vec![
                TaoMove {
                    from_netuid: 1,
                    to: TaoDest::Account(a(1)),
                    amount: 10,
                },
                TaoMove {
                    from_netuid: 1,
                    to: TaoDest::Custody(2),
                    amount: 20,
                },
                TaoMove {
                    from_netuid: 2,
                    to: TaoDest::Burn,
                    amount: 1,
                },
                TaoMove {
                    from_netuid: 2,
                    to: TaoDest::Recycle,
                    amount: 2,
                },
            ],
        }),
        AmmEvent::StakeWeights(StakeWeights {
            entries: vec![(1, a(2), 1_000_000_000), (2, a(2), 0)],
        }),
        AmmEvent::StakeAdded(StakeAdded {
            op: "op-3".into(),
            netuid: 0,
            hotkey: a(2),
            coldkey: a(1),
            tao: 4_997_482_000,
            fee: 2_518_000,
            alpha: 4_997_482_000,
            shares: 21_463_754_964_992_000_000,
            tao_reserve: 10_000_000_000,
            alpha_reserve: 0,
            root_claimed: claimed(),
        }),
        AmmEvent::StakeRemoved(StakeRemoved {
            op: "op-4".into(),
            netuid: 1,
            hotkey: a(2),
            coldkey: a(1),
            alpha: 1_000_000,
            shares: 4_294_967_296_000_000,
            alpha_sold: 999_497,
            fee_alpha: 503,
            tao_out: 499_000,
            tao_reserve: 999_999_501_000,
            alpha_reserve: 2_000_000_999_497,
            root_claimed: vec![],
        }),
        AmmEvent::StakeTransferred(StakeTransferred {
            op: "op-5".into(),
            netuid: 0,
            from_hotkey: a(2),
            from_coldkey: a(1),
            to_hotkey: a(3),
            to_coldkey: a(4),
            alpha: 7_000_000,
            shares_removed: 30_064_771_072_000_000,
            shares_added: 30_064_771_072_000_000,
            root_claimed: claimed(),
        }),
        AmmEvent::AlphaRecycled(AlphaRecycled {
            op: "op-6".into(),
            netuid: 1,
            hotkey: a(2),
            coldkey: a(1),
            alpha: 1_000,
            shares: 4_294_967_296_000,
        }),
        AmmEvent::AlphaBurned(AlphaBurned {
            op: "op-7".into(),
            netuid: 1,
            hotkey: a(2),
            coldkey: a(1),
            alpha: 2_000,
            shares: 8_589_934_592_000,
        }),
        AmmEvent::OpCompleted(OpCompleted {
            op: "op-8".into(),
            summary: "unstaked 1000000 alpha on netuid 1: 499000 rao".into(),
        }),
        AmmEvent::EpochPaid(EpochPaid {
            netuid: 1,
            block: 360,
            server: 4_100,
            validator: 3_000,
            root: 1_000,
            owner_cut: 1_800,
            credits: vec![
                AlphaCredit::Stake {
                    hotkey: a(3),
                    coldkey: a(4),
                    alpha: 3_075,
                    shares: 13_207_024_435_200,
                },
                AlphaCredit::Hotkey {
                    hotkey: a(2),
                    alpha: 2_460,
                },
            ],
            root_rates: vec![(a(2), 1_760_963_706)],
            root_owed: 820,
            burned: 1_025,
            recycled: 0,
            dust: 3,
            miner_burned_bits: 1 << 30,
        }),
        AmmEvent::RootClaimed(RootClaimed {
            op: "root-claim/361/0".into(),
            netuid: 1,
            hotkey: a(2),
            coldkey: a(1),
            alpha: 820_004,
            claimed: 820_004,
            kept_shares: None,
            tao_out: 410_000,
            tao_reserve: 999_999_590_000,
            alpha_reserve: 2_000_000_820_004,
        }),
        AmmEvent::HotkeyAssociated(HotkeyAssociated {
            hotkey: a(2),
            coldkey: a(1),
        }),
        AmmEvent::NeuronSeen(NeuronSeen {
            netuid: 1,
            hotkey: a(5),
            replaced: Some(a(3)),
        }),
        AmmEvent::ParamSet(ParamSet {
            netuid: 1,
            param: SubnetParam::DelegateTake {
                hotkey: a(2),
                take: 0,
            },
            block: 12,
        }),
        AmmEvent::RootClaimTypeSet(RootClaimTypeSet {
            coldkey: a(1),
            claim_type: RootClaimType::KeepSubnets(vec![1, 3]),
        }),
        AmmEvent::StakeReport(StakeReport {
            root: vec![(a(2), 5_000_000_000), (a(3), 0)],
            hotkey_alpha: vec![(a(2), 0, 5_000_000_000), (a(2), 1, 2_499_000_000)],
            prices: vec![(0, 1u128 << 64), (1, 1u128 << 63), (4, 0)],
            coldkey_alpha: vec![(a(1), 1, 4_998_000_000), (a(4), 3, 0)],
        }),
        AmmEvent::SubnetOpened(SubnetOpened {
            op: "reg-1".into(),
            netuid: 6,
            owner: a(1),
            owner_hotkey: a(2),
            tao: 2_500_000_000_000,
            alpha: 1_666_666_666_666,
            block: 1_234,
        }),
        AmmEvent::SubnetClosed(SubnetClosed {
            op: "reg-1".into(),
            netuid: 6,
        }),
        AmmEvent::SubnetDissolved(SubnetDissolved {
            netuid: 3,
            block: 900_000,
            payouts: vec![(a(1), 123_456_789), (a(4), 1)],
            recycled: 876_543_210,
        }),
        AmmEvent::RegistrationBurned(RegistrationBurned {
            op: "neuron-7".into(),
            netuid: 1,
            coldkey: a(4),
            tao: 1_000_000_000,
            fee: 503_547,
            alpha_burned: 998_496_453,
            tao_reserve: 1_000_999_496_453,
            alpha_reserve: 999_001_503_547,
        }),
        AmmEvent::SubnetOwnerSet(SubnetOwnerSet {
            netuid: 1,
            owner: a(4),
            owner_hotkey: a(5),
        }),
        AmmEvent::GovernanceStepRefused(GovernanceStepRefused {
            op: "dissolve/9/100".into(),
            code: "SubnetNotExists".into(),
            message: "no subnet 9 to dissolve".into(),
        }),
        AmmEvent::LockMirrored(LockMirrored {
            coldkey: a(1),
            netuid: 3,
            locked: 7_500_000_000,
            perpetual: false,
            block: 1_234,
        }),
        AmmEvent::LockCleared(LockCleared {
            coldkey: a(1),
            netuid: 3,
        }),
        AmmEvent::UnlockRateSet(UnlockRateSet { blocks: 934_866 }),
        AmmEvent::ChildrenSet(ChildrenSet {
            hotkey: a(2),
            netuid: 3,
            children: vec![(u64::MAX / 4, a(5)), (9_223_372_036_854_775_807, a(6))],
        }),
        AmmEvent::ChildkeyTakeMirrored(ChildkeyTakeMirrored {
            hotkey: a(5),
            netuid: 3,
            take: 11_796,
        }),
        AmmEvent::RootWeightsSet(RootWeightsSet {
            hotkey: a(2),
            weights: vec![(1, 40_000), (3, 65_535)],
            block: 4_321,
        }),
        AmmEvent::RootSharesComputed(RootSharesComputed {
            block: 4_400,
            shares: vec![
                (1, 6_608_508_011_853_733_888),
                (3, 11_838_236_061_855_817_728),
            ],
            validators: vec![(a(2), 1_000_000_000_000), (a(4), 250_000_000)],
        }),
    ]
}

/// Adding a variant breaks this match: add a sample above (and a fixture).
fn _every_variant_needs_a_sample(e: &AmmEvent) {
    match e {
        AmmEvent::GenesisApplied(_)
        | AmmEvent::CoinbaseRan(_)
        | AmmEvent::StakeRequested(_)
        | AmmEvent::StakeFailed(_)
        | AmmEvent::TaoSettlement(_)
        | AmmEvent::StakeWeights(_)
        | AmmEvent::StakeAdded(_)
        | AmmEvent::StakeRemoved(_)
        | AmmEvent::StakeTransferred(_)
        | AmmEvent::AlphaRecycled(_)
        | AmmEvent::AlphaBurned(_)
        | AmmEvent::OpCompleted(_)
        | AmmEvent::EpochPaid(_)
        | AmmEvent::RootClaimed(_)
        | AmmEvent::HotkeyAssociated(_)
        | AmmEvent::NeuronSeen(_)
        | AmmEvent::ParamSet(_)
        | AmmEvent::RootClaimTypeSet(_)
        | AmmEvent::StakeReport(_)
        | AmmEvent::SubnetOpened(_)
        | AmmEvent::SubnetClosed(_)
        | AmmEvent::SubnetDissolved(_)
        | AmmEvent::RegistrationBurned(_)
        | AmmEvent::SubnetOwnerSet(_)
        | AmmEvent::GovernanceStepRefused(_)
        | AmmEvent::LockMirrored(_)
        | AmmEvent::LockCleared(_)
        | AmmEvent::UnlockRateSet(_)
        | AmmEvent::ChildrenSet(_)
        | AmmEvent::ChildkeyTakeMirrored(_)
        | AmmEvent::RootWeightsSet(_)
        | AmmEvent::RootSharesComputed(_) => {}
    }
}

/// Historical versions: `StakeReport` v1 carried hotkey totals as values
/// (upcast with them dropped, see `StakeReportV1`).
fn historical() -> Vec<(&'static str, u16, AmmEvent, Vec<u8>)> {
    let v1 = StakeReportV1 {
        root: vec![(a(2), 5_000_000_000), (a(3), 0)],
        hotkey_total: vec![(a(2), 7_499_000_000)],
        coldkey_alpha: vec![(a(1), 1, 4_998_000_000), (a(4), 3, 0)],
    };
    vec![(
        "StakeReport",
        1,
        AmmEvent::StakeReport(v1.clone().into()),
        envelope::codec::encode(&v1),
    )]
}

fn golden() -> Golden<AmmEvent> {
    Golden {
        dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")),
        service: "amm",
        schema: EVENT_SCHEMA,
        samples: samples(),
        historical: historical(),
    }
}

envelope::golden_tests!(golden());
