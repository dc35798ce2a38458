//! Fuzzing `decide`: hostile edits of every command variant (and its
//! origin) against a ledger with balances, custody, locks, stakes and
//! pending coinbase credit (testkit::fuzz; docs/fuzzing.md). Checks the
//! ledger's own invariants (issuance = balances + custody + locks + ...)
//! after every accepted command. `PROPTEST_CASES` sets the input count.

mod common;

use common::*;
use ledger_core::*;
use testkit::fuzz;

const TAO: u64 = RAO_PER_TAO;

fn peer(body: CommandBody) -> Command {
    Command::new(Origin::Peer, body)
}

fn base() -> (Ledger, Vec<LedgerEvent>) {
    let g = Genesis {
        fees: Fees::default(),
        coinbase_claim_window: 3,
        custody: vec![(1, 50 * TAO), (2, 5 * TAO)],
        ..genesis(&[
            (alice(), 100 * TAO),
            (bob(), 10 * TAO),
            (carol(), 1_000),
            (admin(), TAO),
        ])
    };
    fuzz::build([
        clock(CommandBody::ApplyGenesis(g)),
        transfer(alice(), carol(), 2 * TAO, true),
        advance(3, 12_000),
        service(CommandBody::FundStake {
            op: "s1".into(),
            coldkey: alice(),
            netuid: 1,
            amount: 5 * TAO,
        }),
        service(CommandBody::LockForSubnet {
            op: "l1".into(),
            coldkey: bob(),
            amount: 2 * TAO,
        }),
        service(CommandBody::LockForSubnet {
            op: "l2".into(),
            coldkey: alice(),
            amount: TAO,
        }),
        service(CommandBody::ConfirmLock {
            op: "l2".into(),
            netuid: 3,
        }),
        service(CommandBody::FundRegistration {
            op: "r1".into(),
            coldkey: carol(),
            netuid: 2,
            amount: TAO / 10,
        }),
    ])
}

/// Valid-looking commands of every variant for the current state.
fn seeds(l: &Ledger) -> Vec<Command> {
    let block = l.height();
    let pending = l.pending_credit_of(block);
    let ts = l.last_timestamp_ms().saturating_add(12_000);
    let op = |s: &str| s.to_string();
    vec![
        transfer(alice(), bob(), TAO, false),
        transfer(bob(), carol(), 600, true),
        transfer(carol(), alice(), 1, false).with_len(200),
        advance(1, ts),
        signed(
            admin(),
            CommandBody::AdvanceBlocks {
                n: 40,
                timestamp_ms: ts,
                block_time_ms: 0,
            },
        ),
        clock(CommandBody::ProduceBlock { timestamp_ms: ts }),
        clock(CommandBody::ApplyGenesis(Genesis::default())),
        service(CommandBody::FundStake {
            op: op("s2"),
            coldkey: bob(),
            netuid: 2,
            amount: TAO,
        }),
        service(CommandBody::RefundStake { op: op("s1") }),
        peer(CommandBody::RefundStake { op: op("s2") }),
        service(CommandBody::PayFromCustody {
            op: op("p1"),
            netuid: 1,
            to: carol(),
            amount: 3 * TAO,
        }),
        service(CommandBody::LockForSubnet {
            op: op("l3"),
            coldkey: alice(),
            amount: 10 * TAO,
        }),
        service(CommandBody::ConfirmLock {
            op: op("l1"),
            netuid: 4,
        }),
        peer(CommandBody::ReleaseLock { op: op("l1") }),
        service(CommandBody::ReleaseLock { op: op("l3") }),
        service(CommandBody::FundRegistration {
            op: op("r2"),
            coldkey: alice(),
            netuid: 1,
            amount: TAO,
        }),
        service(CommandBody::RefundRegistration { op: op("r1") }),
        service(CommandBody::RecycleFromCustody {
            op: op("c1"),
            netuid: 2,
            amount: TAO,
        }),
        service(CommandBody::BurnTao {
            op: op("b1"),
            from: bob(),
            amount: TAO,
        }),
        peer(CommandBody::Settle {
            op: op("t1"),
            moves: vec![
                CustodyMove {
                    from_netuid: 1,
                    to: CustodyDest::Account(bob()),
                    amount: TAO,
                },
                CustodyMove {
                    from_netuid: 1,
                    to: CustodyDest::Custody(2),
                    amount: TAO,
                },
                CustodyMove {
                    from_netuid: 2,
                    to: CustodyDest::Burn,
                    amount: 100,
                },
                CustodyMove {
                    from_netuid: 1,
                    to: CustodyDest::Recycle,
                    amount: 100,
                },
            ],
        }),
        service(CommandBody::ClaimCoinbase {
            block,
            credits: vec![(1, pending / 2), (2, pending - pending / 2)],
        }),
        peer(CommandBody::ClaimCoinbase {
            block: block.saturating_sub(1),
            credits: vec![(1, pending / 3)],
        }),
    ]
}

fn invariants(l: &Ledger) -> Result<(), String> {
    l.check_invariants()?;
    if l.total_issuance() > TOTAL_SUPPLY {
        return Err(format!("issuance {} above the cap", l.total_issuance()));
    }
    Ok(())
}

#[test]
fn hostile_commands_never_break_the_ledger() {
    let stats = fuzz::fuzz_decide("ledger", &base(), seeds, invariants);
    assert!(stats.mutated > 0);
}
