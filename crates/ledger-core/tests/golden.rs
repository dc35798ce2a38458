//! Golden fixtures: every (event type, version) ever written is checked in
//! under tests/fixtures/<Type>.v<N>.bin and must keep decoding to the same
//! value.
//!
//! A fixture of a current version that is missing is written when the tests
//! run with `UPDATE_FIXTURES=1` (never overwriting one that exists); without
//! it a missing fixture fails the test. Historical versions cannot be
//! regenerated: their fixtures were written while they were current.

use std::path::PathBuf;

use envelope::codec;
use envelope::golden::Golden;
use keys::AccountId;
use ledger_core::event::*;
use ledger_core::genesis::{FeesV1, GenesisV1, GenesisV2};
use ledger_core::*;

fn a(n: u8) -> AccountId {
    AccountId([n; 32])
}

fn op() -> String {
    "op-0001".to_owned()
}

/// One sample per variant, at its current version. Fixed values: the
/// fixtures are their encodings.
fn samples() -> Vec<LedgerEvent> {
    vec![
        LedgerEvent::GenesisApplied(GenesisApplied {
            genesis: Genesis {
                balances: vec![(a(1), 1_000_000), (a(2), 2_000_000)],
                existential_deposit: 500,
                fees: Fees {
                    recipient: Some(a(2)),
                    ..Fees::default()
                },
                admin: Some(a(0xAD)),
                services: vec![a(0x5E)],
                clock: Clock::Auto {
                    block_time_ms: 12_000,
                },
                coinbase_claim_window: 1,
                custody: vec![(1, 1_000_000_000_000)],
            },
        }),
        LedgerEvent::BlockProduced(BlockProduced {
            height: 7,
            timestamp_ms: 1_700_000_084_000,
            minted: 1_000_000_000,
        }),
        LedgerEvent::CoinbaseRecycled(CoinbaseRecycled {
            block: 5,
            amount: 123_456,
        }),
        LedgerEvent::CoinbaseClaimed(CoinbaseClaimed {
            block: 6,
            credits: vec![(1, 600_000_000), (3, 399_999_999)],
        }),
        LedgerEvent::Transferred(Transferred {
            from: a(1),
            to: a(2),
            amount: 1_000_000,
            fee: 100_125,
        }),
        LedgerEvent::AccountReaped(AccountReaped {
            account: a(1),
            dust: 42,
        }),
        LedgerEvent::StakeFunded(StakeFunded {
            op: op(),
            coldkey: a(1),
            netuid: 3,
            amount: 5_000_000,
        }),
        LedgerEvent::StakeRefunded(StakeRefunded {
            op: op(),
            coldkey: a(1),
            netuid: 3,
            amount: 5_000_000,
        }),
        LedgerEvent::CustodyPaid(CustodyPaid {
            op: op(),
            netuid: 3,
            to: a(2),
            amount: 4_000_000,
        }),
        LedgerEvent::LockedForSubnet(LockedForSubnet {
            op: op(),
            coldkey: a(1),
            amount: 1_000_000_000,
        }),
        LedgerEvent::LockConfirmed(LockConfirmed {
            op: op(),
            netuid: 4,
            amount: 1_000_000_000,
        }),
        LedgerEvent::LockReleased(LockReleased {
            op: op(),
            coldkey: a(1),
            amount: 1_000_000_000,
        }),
        LedgerEvent::RegistrationFunded(RegistrationFunded {
            op: op(),
            coldkey: a(1),
            netuid: 3,
            amount: 500_000,
        }),
        LedgerEvent::RegistrationRefunded(RegistrationRefunded {
            op: op(),
            coldkey: a(1),
            netuid: 3,
            amount: 500_000,
        }),
        LedgerEvent::CustodyRecycled(CustodyRecycled {
            op: op(),
            netuid: 3,
            amount: 77,
        }),
        LedgerEvent::TaoBurned(TaoBurned {
            op: op(),
            from: a(1),
            amount: 9_999,
        }),
        LedgerEvent::CustodySettled(CustodySettled {
            op: op(),
            moves: vec![
                CustodyMove {
                    from_netuid: 3,
                    to: CustodyDest::Account(a(1)),
                    amount: 1_000_000,
                },
                CustodyMove {
                    from_netuid: 3,
                    to: CustodyDest::Custody(0),
                    amount: 2_000,
                },
                CustodyMove {
                    from_netuid: 3,
                    to: CustodyDest::Burn,
                    amount: 33,
                },
                CustodyMove {
                    from_netuid: 3,
                    to: CustodyDest::Recycle,
                    amount: 1,
                },
            ],
            dust_recycled: 0,
        }),
        LedgerEvent::StepRejected(StepRejected {
            op: op(),
            code: "InsufficientBalance".into(),
            message: "insufficient balance".into(),
        }),
    ]
}

/// Adding a variant breaks this match, which is the reminder to add a
/// sample above (and so a fixture).
fn _every_variant_needs_a_sample(e: &LedgerEvent) {
    match e {
        LedgerEvent::GenesisApplied(_)
        | LedgerEvent::BlockProduced(_)
        | LedgerEvent::CoinbaseRecycled(_)
        | LedgerEvent::CoinbaseClaimed(_)
        | LedgerEvent::Transferred(_)
        | LedgerEvent::AccountReaped(_)
        | LedgerEvent::StakeFunded(_)
        | LedgerEvent::StakeRefunded(_)
        | LedgerEvent::CustodyPaid(_)
        | LedgerEvent::LockedForSubnet(_)
        | LedgerEvent::LockConfirmed(_)
        | LedgerEvent::LockReleased(_)
        | LedgerEvent::RegistrationFunded(_)
        | LedgerEvent::RegistrationRefunded(_)
        | LedgerEvent::CustodyRecycled(_)
        | LedgerEvent::TaoBurned(_)
        | LedgerEvent::CustodySettled(_)
        | LedgerEvent::StepRejected(_) => {}
    }
}

/// Historical versions: what their fixture must decode (upcast) to, and the
/// old payload struct the fixture was written from.
fn historical() -> Vec<(&'static str, u16, LedgerEvent, Vec<u8>)> {
    let v1_genesis = GenesisV1 {
        balances: vec![(a(1), 1_000_000), (a(2), 2_000_000)],
        existential_deposit: 500,
        fees: FeesV1 {
            per_weight_perbill: ledger_core::genesis::DEFAULT_PER_WEIGHT_PERBILL,
            per_byte: ledger_core::genesis::DEFAULT_PER_BYTE,
        },
        admin: Some(a(0xAD)),
        services: vec![a(0x5E)],
        clock: Clock::Auto {
            block_time_ms: 12_000,
        },
        coinbase_claim_window: 1,
    };
    let v2_genesis = GenesisV2 {
        custody: vec![(1, 1_000_000_000_000)],
        ..v1_genesis.clone().into()
    };
    vec![
        (
            "GenesisApplied",
            1,
            LedgerEvent::GenesisApplied(GenesisApplied {
                genesis: v1_genesis.clone().into(),
            }),
            codec::encode(&GenesisAppliedV1 {
                genesis: v1_genesis,
            }),
        ),
        (
            "GenesisApplied",
            2,
            LedgerEvent::GenesisApplied(GenesisApplied {
                genesis: v2_genesis.clone().into(),
            }),
            codec::encode(&GenesisAppliedV2 {
                genesis: v2_genesis,
            }),
        ),
        (
            "Transferred",
            1,
            LedgerEvent::Transferred(Transferred {
                from: a(1),
                to: a(2),
                amount: 1_000_000,
                fee: 0,
            }),
            codec::encode(&TransferredV1 {
                from: a(1),
                to: a(2),
                amount: 1_000_000,
            }),
        ),
    ]
}

fn golden() -> Golden<LedgerEvent> {
    Golden {
        dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")),
        service: "ledger",
        schema: EVENT_SCHEMA,
        samples: samples(),
        historical: historical(),
    }
}

envelope::golden_tests!(golden());
