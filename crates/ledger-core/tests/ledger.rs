//! Given/when/then scenarios for every command and rejection.

mod common;

use aggregate::Aggregate;
use common::*;
use ledger_core::command::{MAX_ADVANCE_BLOCKS, MAX_OP_LEN, TRANSFER_WEIGHT};
use ledger_core::emission::era_start;
use ledger_core::event::*;
use ledger_core::*;

const TAO: u64 = RAO_PER_TAO;

fn std_genesis() -> Genesis {
    genesis(&[(alice(), 100 * TAO), (bob(), 10 * TAO)])
}

fn started() -> Given {
    given([genesis_applied(std_genesis())])
}

fn bp(height: u64, timestamp_ms: u64, minted: u64) -> LedgerEvent {
    LedgerEvent::BlockProduced(BlockProduced {
        height,
        timestamp_ms,
        minted,
    })
}

fn recycled(block: u64, amount: u64) -> LedgerEvent {
    LedgerEvent::CoinbaseRecycled(CoinbaseRecycled { block, amount })
}

fn fund_stake(op: &str, coldkey: keys::AccountId, netuid: u16, amount: u64) -> Command {
    service(CommandBody::FundStake {
        op: op.into(),
        coldkey,
        netuid,
        amount,
    })
}

fn staked(op: &str, amount: u64) -> LedgerEvent {
    LedgerEvent::StakeFunded(StakeFunded {
        op: op.into(),
        coldkey: alice(),
        netuid: 1,
        amount,
    })
}

// ---------------------------------------------------------------- genesis

#[test]
fn genesis_sets_balances_and_issuance() {
    let g = std_genesis();
    let l = given([])
        .when(clock(CommandBody::ApplyGenesis(g.clone())))
        .then(&[genesis_applied(g)]);
    assert_eq!(l.balance(&alice()), 100 * TAO);
    assert_eq!(l.total_issuance(), 110 * TAO);
    assert_eq!(l.height(), 0);
    assert_eq!(l.accounts().count(), 2);
}

#[test]
fn genesis_only_once_and_only_from_the_clock() {
    started()
        .when(clock(CommandBody::ApplyGenesis(std_genesis())))
        .then_rejected(Rejection::GenesisAlreadyApplied);
    given([])
        .when(signed(admin(), CommandBody::ApplyGenesis(std_genesis())))
        .then_rejected(Rejection::BadOrigin);
}

#[test]
fn invalid_geneses_are_rejected() {
    let cases = [
        genesis(&[(alice(), 499)]),
        genesis(&[(alice(), 1_000), (alice(), 1_000)]),
        genesis(&[(burn_account(), 1_000)]),
        genesis(&[(alice(), TOTAL_SUPPLY), (bob(), 500)]),
        Genesis {
            existential_deposit: 0,
            ..genesis(&[])
        },
        Genesis {
            clock: Clock::Auto { block_time_ms: 0 },
            ..genesis(&[])
        },
    ];
    for g in cases {
        let w = given([]).when(clock(CommandBody::ApplyGenesis(g)));
        assert!(
            matches!(w.result, Err(Rejection::InvalidGenesis(_))),
            "{:?}",
            w.result
        );
        w.ledger.check_invariants().unwrap();
        assert_eq!(w.ledger, Ledger::default());
    }
}

#[test]
fn nothing_but_genesis_before_genesis() {
    for cmd in [
        advance(1, 0),
        clock(CommandBody::ProduceBlock { timestamp_ms: 1 }),
        transfer(alice(), bob(), 1_000, true),
        fund_stake("x", alice(), 1, 1_000),
    ] {
        given([])
            .when(cmd)
            .then_rejected(Rejection::GenesisNotApplied);
    }
}

#[test]
fn genesis_loads_from_json_with_defaults() {
    let json = format!(
        r#"{{"balances": [["{}", 1000000]], "admin": "{}", "clock": "manual"}}"#,
        alice(),
        admin()
    );
    let g: Genesis = serde_json::from_str(&json).unwrap();
    assert_eq!(g.balances, vec![(alice(), 1_000_000)]);
    assert_eq!(g.existential_deposit, 500);
    assert_eq!(g.fees, Fees::default());
    assert_eq!(g.fees.per_weight_perbill, 500_000);
    assert_eq!(g.clock, Clock::Manual);
    assert_eq!(g.coinbase_claim_window, 1);
    let auto: Genesis =
        serde_json::from_str(r#"{"clock": {"auto": {"block_time_ms": 250}}}"#).unwrap();
    assert_eq!(auto.clock, Clock::Auto { block_time_ms: 250 });
    assert_eq!(
        Genesis::default().clock,
        Clock::Auto {
            block_time_ms: 12_000
        }
    );
}

// ---------------------------------------------------------------- clock

#[test]
fn advance_blocks_mints_and_recycles_unclaimed_credit() {
    let l = started().when(advance(3, 1_000)).then(&[
        bp(1, 1_000, TAO),
        bp(2, 13_000, TAO),
        // Block 1 left the one-block window before block 3 is minted.
        recycled(1, TAO),
        bp(3, 25_000, TAO),
    ]);
    assert_eq!(l.height(), 3);
    assert_eq!(l.last_timestamp_ms(), 25_000);
    assert_eq!(l.total_issuance(), 110 * TAO + 2 * TAO);
    assert_eq!(l.pending_credit(), 2 * TAO);
    assert_eq!(l.pending_credit_of(1), 0);
    assert_eq!(l.block(), 3);
}

#[test]
fn advance_blocks_rules() {
    started()
        .when(signed(
            alice(),
            CommandBody::AdvanceBlocks {
                n: 1,
                timestamp_ms: 0,
                block_time_ms: 1,
            },
        ))
        .then_rejected(Rejection::BadOrigin);
    started()
        .when(Command::new(
            Origin::Clock,
            CommandBody::AdvanceBlocks {
                n: 1,
                timestamp_ms: 0,
                block_time_ms: 1,
            },
        ))
        .then_rejected(Rejection::BadOrigin);
    started()
        .when(advance(MAX_ADVANCE_BLOCKS + 1, 0))
        .then_rejected(Rejection::TooManyBlocks {
            requested: MAX_ADVANCE_BLOCKS + 1,
            max: MAX_ADVANCE_BLOCKS,
        });
    started().when(advance(0, 0)).then(&[]);
    let auto = Genesis {
        clock: Clock::Auto {
            block_time_ms: 12_000,
        },
        ..std_genesis()
    };
    given([genesis_applied(auto)])
        .when(advance(1, 0))
        .then_rejected(Rejection::ManualClockDisabled);
    let no_admin = Genesis {
        admin: None,
        ..std_genesis()
    };
    given([genesis_applied(no_admin)])
        .when(advance(1, 0))
        .then_rejected(Rejection::BadOrigin);
}

#[test]
fn block_timestamps_strictly_increase() {
    let l = started().when(advance(1, 5_000)).then_ok().1;
    given_state(l.clone())
        .when(advance(1, 5_000))
        .then_rejected(Rejection::TimestampNotIncreasing {
            last: 5_000,
            got: 5_000,
        });
    given_state(l.clone())
        .when(signed(
            admin(),
            CommandBody::AdvanceBlocks {
                n: 2,
                timestamp_ms: 6_000,
                block_time_ms: 0,
            },
        ))
        .then_rejected(Rejection::TimestampNotIncreasing {
            last: 6_000,
            got: 6_000,
        });
    given_state(l)
        .when(signed(
            admin(),
            CommandBody::AdvanceBlocks {
                n: 2,
                timestamp_ms: u64::MAX,
                block_time_ms: 1,
            },
        ))
        .then_rejected(Rejection::Overflow);
}

#[test]
fn produce_block_is_the_auto_clock() {
    let auto = Genesis {
        clock: Clock::Auto {
            block_time_ms: 12_000,
        },
        ..std_genesis()
    };
    let l = given([genesis_applied(auto.clone())])
        .when(clock(CommandBody::ProduceBlock {
            timestamp_ms: 12_000,
        }))
        .then(&[bp(1, 12_000, TAO)]);
    given_state(l)
        .when(signed(
            admin(),
            CommandBody::ProduceBlock {
                timestamp_ms: 24_000,
            },
        ))
        .then_rejected(Rejection::BadOrigin);
    started()
        .when(clock(CommandBody::ProduceBlock { timestamp_ms: 1 }))
        .then_rejected(Rejection::AutoClockDisabled);
}

#[test]
fn halving_happens_at_the_issuance_threshold() {
    let start1 = era_start(1).unwrap();
    // Wide window so nothing is recycled while we watch issuance climb.
    let g = Genesis {
        coinbase_claim_window: 100,
        ..genesis(&[(alice(), start1 - 2 * TAO + 1)])
    };
    let l = given([genesis_applied(g)]).when(advance(3, 0)).then(&[
        bp(1, 0, TAO),
        bp(2, 12_000, TAO),
        bp(3, 24_000, TAO / 2),
    ]);
    assert_eq!(l.schedule().era, 1);
    assert_eq!(l.schedule().block_emission_rao, TAO / 2);
    assert_eq!(l.total_issuance(), start1 + TAO / 2 + 1);
}

#[test]
fn recycling_postpones_the_halving() {
    // Same start, but the default window recycles unclaimed credit.
    let start1 = era_start(1).unwrap();
    let l = given([genesis_applied(genesis(&[(alice(), start1 - 2 * TAO + 1)]))])
        .when(advance(3, 0))
        .then(&[
            bp(1, 0, TAO),
            bp(2, 12_000, TAO),
            recycled(1, TAO),
            bp(3, 24_000, TAO),
        ]);
    assert_eq!(l.schedule().era, 1);
}

#[test]
fn emission_stops_near_the_cap() {
    let g = genesis(&[(alice(), TOTAL_SUPPLY - 1_000)]);
    let l = given([genesis_applied(g)])
        .when(advance(2, 0))
        .then(&[bp(1, 0, 0), bp(2, 12_000, 0)]);
    assert_eq!(l.total_issuance(), TOTAL_SUPPLY - 1_000);
    assert_eq!(l.pending_credit(), 0);
}

// ---------------------------------------------------------------- transfers

/// Alice sends Carol 1 TAO with a 125-byte body under `g`'s fees: the
/// ledger before, after, and the fee (100 125 RAO, checked against
/// `Ledger::fee` and the event).
fn alice_pays_carol_one_tao(g: Genesis) -> (Ledger, Ledger, u64) {
    let cmd = transfer(alice(), carol(), TAO, true).with_len(125);
    let fee = 100_125;
    let before = given([genesis_applied(g.clone())]).ledger;
    assert_eq!(before.fee(&cmd), Ok(fee));
    let after = given([genesis_applied(g)])
        .when(cmd)
        .then(&[LedgerEvent::Transferred(Transferred {
            from: alice(),
            to: carol(),
            amount: TAO,
            fee,
        })]);
    (before, after, fee)
}

#[test]
fn transfer_keep_alive_with_fees() {
    let g = Genesis {
        fees: Fees::default(),
        ..std_genesis()
    };
    let (before, l, fee) = alice_pays_carol_one_tao(g);
    assert_eq!(fee, TRANSFER_WEIGHT * 500_000 / 1_000_000_000 + 125);
    assert_eq!(l.balance(&alice()), 99 * TAO - fee);
    assert_eq!(l.balance(&carol()), TAO);
    // The fee is burned: issuance falls by it.
    assert_eq!(l.total_issuance(), before.total_issuance() - fee);
}

/// Fee burning off: the genesis names a fee recipient, which is paid every
/// fee but its own; issuance does not fall. A recipient without a genesis
/// balance is refused.
#[test]
fn fees_go_to_the_recipient_when_burning_is_off() {
    let g = Genesis {
        fees: Fees {
            recipient: Some(bob()),
            ..Fees::default()
        },
        ..std_genesis()
    };
    let (before, l, fee) = alice_pays_carol_one_tao(g.clone());
    assert_eq!(l.balance(&alice()), 99 * TAO - fee);
    assert_eq!(l.balance(&bob()), 10 * TAO + fee, "the recipient is paid");
    assert_eq!(
        l.total_issuance(),
        before.total_issuance(),
        "nothing burned"
    );
    l.check_invariants().unwrap();

    // The recipient empties its account, its own fee burned (reaped); the
    // next fee (above the existential deposit) opens it again.
    let all = l.balance(&bob()) - fee;
    let l = given_state(l)
        .when(transfer(bob(), carol(), all, false).with_len(125))
        .then_ok()
        .1;
    assert_eq!(l.balance(&bob()), 0, "reaped");
    let issuance = l.total_issuance();
    let l = given_state(l)
        .when(transfer(alice(), carol(), TAO, true).with_len(125))
        .then_ok()
        .1;
    assert_eq!(l.balance(&bob()), fee);
    assert_eq!(l.total_issuance(), issuance, "paid, not burned");
    l.check_invariants().unwrap();

    let bad = Genesis {
        fees: Fees {
            recipient: Some(carol()),
            ..Fees::default()
        },
        ..std_genesis()
    };
    assert!(bad.validate().unwrap_err().contains("fee recipient"));
}

#[test]
fn keep_alive_refuses_to_reap() {
    started()
        .when(transfer(bob(), carol(), 10 * TAO - 499, true))
        .then_rejected(Rejection::Expendability);
    // The fee counts: remaining after amount + fee must be ≥ ED.
    let g = Genesis {
        fees: Fees {
            per_weight_perbill: 0,
            per_byte: 1,
            recipient: None,
        },
        ..std_genesis()
    };
    given([genesis_applied(g)])
        .when(transfer(bob(), carol(), 10 * TAO - 500, true).with_len(1))
        .then_rejected(Rejection::Expendability);
    started()
        .when(transfer(bob(), carol(), 10 * TAO - 500, true))
        .then_ok();
}

#[test]
fn allow_death_reaps_and_burns_the_dust() {
    let l = started()
        .when(transfer(bob(), carol(), 10 * TAO - 499, false))
        .then(&[
            LedgerEvent::Transferred(Transferred {
                from: bob(),
                to: carol(),
                amount: 10 * TAO - 499,
                fee: 0,
            }),
            LedgerEvent::AccountReaped(AccountReaped {
                account: bob(),
                dust: 499,
            }),
        ]);
    assert_eq!(l.balance(&bob()), 0);
    assert_eq!(l.total_issuance(), 110 * TAO - 499);
    // Sending everything reaps with no dust.
    started()
        .when(transfer(bob(), carol(), 10 * TAO, false))
        .then(&[
            LedgerEvent::Transferred(Transferred {
                from: bob(),
                to: carol(),
                amount: 10 * TAO,
                fee: 0,
            }),
            LedgerEvent::AccountReaped(AccountReaped {
                account: bob(),
                dust: 0,
            }),
        ]);
}

#[test]
fn transfer_rejections() {
    started()
        .when(transfer(bob(), carol(), 10 * TAO + 1, false))
        .then_rejected(Rejection::InsufficientBalance);
    started()
        .when(transfer(carol(), bob(), 1_000, false))
        .then_rejected(Rejection::InsufficientBalance);
    started()
        .when(transfer(alice(), bob(), 0, false))
        .then_rejected(Rejection::AmountTooLow);
    started()
        .when(transfer(alice(), alice(), 1_000, false))
        .then_rejected(Rejection::SelfTransfer);
    started()
        .when(transfer(alice(), carol(), 499, false))
        .then_rejected(Rejection::ExistentialDeposit);
    started()
        .when(transfer(alice(), burn_account(), 1_000, false))
        .then_rejected(Rejection::CannotUseSystemAccount);
    started()
        .when(Command::new(
            Origin::Service(service_key()),
            CommandBody::Transfer {
                to: bob(),
                amount: 1_000,
                keep_alive: false,
            },
        ))
        .then_rejected(Rejection::BadOrigin);
    // A small credit to an existing account is fine.
    started().when(transfer(alice(), bob(), 1, true)).then_ok();
}

#[test]
fn fee_overflow_is_a_rejection() {
    let g = Genesis {
        fees: Fees {
            per_weight_perbill: 0,
            per_byte: u64::MAX,
            recipient: None,
        },
        ..std_genesis()
    };
    given([genesis_applied(g)])
        .when(transfer(alice(), bob(), 1_000, false).with_len(2))
        .then_rejected(Rejection::Overflow);
    let g = Genesis {
        fees: Fees {
            per_weight_perbill: 0,
            per_byte: u64::MAX,
            recipient: None,
        },
        ..std_genesis()
    };
    // Fee + amount overflows u64.
    given([genesis_applied(g)])
        .when(transfer(alice(), bob(), 1_000, false).with_len(1))
        .then_rejected(Rejection::Overflow);
}

#[test]
fn commands_without_fee_weight_are_free() {
    let g = Genesis {
        fees: Fees::default(),
        ..std_genesis()
    };
    let l = given([genesis_applied(g)]).ledger;
    assert_eq!(l.fee(&advance(1, 0).with_len(1_000)), Ok(0));
    assert_eq!(
        l.fee(&fund_stake("x", alice(), 1, 1).with_len(1_000)),
        Ok(0)
    );
    assert_eq!(
        fee_weight(&CommandBody::ProduceBlock { timestamp_ms: 0 }),
        None
    );
}

// ---------------------------------------------------------------- saga steps

#[test]
fn fund_and_refund_stake_are_idempotent() {
    let l = started()
        .when(fund_stake("s1", alice(), 1, TAO))
        .then(&[staked("s1", TAO)]);
    assert_eq!(l.custody(1), TAO);
    assert_eq!(l.balance(&alice()), 99 * TAO);
    let l = given_state(l)
        .when(fund_stake("s1", alice(), 1, TAO))
        .then(&[]);
    let l = given_state(l)
        .when(fund_stake("s1", alice(), 1, TAO + 1))
        .then_rejected(Rejection::OperationConflict { op: "s1".into() });
    let refund = service(CommandBody::RefundStake { op: "s1".into() });
    let l = given_state(l)
        .when(refund.clone())
        .then(&[LedgerEvent::StakeRefunded(StakeRefunded {
            op: "s1".into(),
            coldkey: alice(),
            netuid: 1,
            amount: TAO,
        })]);
    assert_eq!(l.custody(1), 0);
    assert_eq!(l.balance(&alice()), 100 * TAO);
    let l = given_state(l).when(refund).then(&[]);
    // Retrying the original step after its compensation changes nothing.
    given_state(l)
        .when(fund_stake("s1", alice(), 1, TAO))
        .then(&[]);
}

#[test]
fn saga_step_rejections() {
    started()
        .when(Command::new(
            Origin::Service(carol()),
            CommandBody::FundStake {
                op: "s".into(),
                coldkey: alice(),
                netuid: 1,
                amount: 1,
            },
        ))
        .then_rejected(Rejection::BadOrigin);
    started()
        .when(signed(
            alice(),
            CommandBody::FundStake {
                op: "s".into(),
                coldkey: alice(),
                netuid: 1,
                amount: 1,
            },
        ))
        .then_rejected(Rejection::BadOrigin);
    started()
        .when(fund_stake("", alice(), 1, 1))
        .then_rejected(Rejection::InvalidOperationId);
    started()
        .when(fund_stake(&"x".repeat(MAX_OP_LEN + 1), alice(), 1, 1))
        .then_rejected(Rejection::InvalidOperationId);
    started()
        .when(fund_stake("s", alice(), 1, 0))
        .then_rejected(Rejection::AmountTooLow);
    started()
        .when(fund_stake("s", bob(), 1, 10 * TAO - 1))
        .then_rejected(Rejection::Expendability);
    started()
        .when(fund_stake("s", carol(), 1, 1_000))
        .then_rejected(Rejection::InsufficientBalance);
    started()
        .when(service(CommandBody::RefundStake { op: "nope".into() }))
        .then_rejected(Rejection::UnknownOperation { op: "nope".into() });
    // The op id belongs to a stake: a registration refund conflicts with it.
    let l = started().when(fund_stake("s", alice(), 1, TAO)).then_ok().1;
    given_state(l.clone())
        .when(service(CommandBody::RefundRegistration { op: "s".into() }))
        .then_rejected(Rejection::OperationConflict { op: "s".into() });
    given_state(l.clone())
        .when(service(CommandBody::ConfirmLock {
            op: "s".into(),
            netuid: 1,
        }))
        .then_rejected(Rejection::OperationConflict { op: "s".into() });
    // Custody drained by a payout: the refund cannot be covered.
    let l = given_state(l)
        .when(service(CommandBody::PayFromCustody {
            op: "p".into(),
            netuid: 1,
            to: bob(),
            amount: TAO,
        }))
        .then_ok()
        .1;
    given_state(l)
        .when(service(CommandBody::RefundStake { op: "s".into() }))
        .then_rejected(Rejection::CustodyInsufficient {
            netuid: 1,
            available: 0,
            requested: TAO,
        });
}

#[test]
fn pay_from_custody() {
    let l = started().when(fund_stake("s", alice(), 2, TAO)).then_ok().1;
    let pay = |amount, to| {
        service(CommandBody::PayFromCustody {
            op: "p".into(),
            netuid: 2,
            to,
            amount,
        })
    };
    given_state(l.clone())
        .when(pay(TAO + 1, bob()))
        .then_rejected(Rejection::CustodyInsufficient {
            netuid: 2,
            available: TAO,
            requested: TAO + 1,
        });
    given_state(l.clone())
        .when(pay(100, carol()))
        .then_rejected(Rejection::ExistentialDeposit);
    given_state(l.clone())
        .when(pay(100, burn_account()))
        .then_rejected(Rejection::CannotUseSystemAccount);
    let l = given_state(l)
        .when(pay(TAO / 2, carol()))
        .then(&[LedgerEvent::CustodyPaid(CustodyPaid {
            op: "p".into(),
            netuid: 2,
            to: carol(),
            amount: TAO / 2,
        })]);
    assert_eq!(l.balance(&carol()), TAO / 2);
    assert_eq!(l.custody(2), TAO / 2);
    let l = given_state(l).when(pay(TAO / 2, carol())).then(&[]);
    given_state(l)
        .when(pay(TAO / 2, bob()))
        .then_rejected(Rejection::OperationConflict { op: "p".into() });
}

#[test]
fn subnet_lock_confirm_and_release() {
    let lock = |op: &str| {
        service(CommandBody::LockForSubnet {
            op: op.into(),
            coldkey: alice(),
            amount: 5 * TAO,
        })
    };
    let confirm = |op: &str, netuid| {
        service(CommandBody::ConfirmLock {
            op: op.into(),
            netuid,
        })
    };
    let release = |op: &str| service(CommandBody::ReleaseLock { op: op.into() });

    let l = started()
        .when(lock("n1"))
        .then(&[LedgerEvent::LockedForSubnet(LockedForSubnet {
            op: "n1".into(),
            coldkey: alice(),
            amount: 5 * TAO,
        })]);
    assert_eq!(l.locked_total(), 5 * TAO);
    assert_eq!(l.locked("n1"), Some(5 * TAO));
    assert_eq!(l.balance(&alice()), 95 * TAO);
    let l = given_state(l).when(lock("n1")).then(&[]);

    // Confirm: the lock becomes the pool's initial TAO.
    let confirmed =
        given_state(l.clone())
            .when(confirm("n1", 7))
            .then(&[LedgerEvent::LockConfirmed(LockConfirmed {
                op: "n1".into(),
                netuid: 7,
                amount: 5 * TAO,
            })]);
    assert_eq!(confirmed.custody(7), 5 * TAO);
    assert_eq!(confirmed.locked_total(), 0);
    assert_eq!(
        confirmed.operation("n1"),
        Some(&Operation::Lock {
            coldkey: alice(),
            amount: 5 * TAO,
            status: LockStatus::Confirmed { netuid: 7 }
        })
    );
    let confirmed = given_state(confirmed).when(confirm("n1", 7)).then(&[]);
    let confirmed = given_state(confirmed)
        .when(confirm("n1", 8))
        .then_rejected(Rejection::OperationConflict { op: "n1".into() });
    given_state(confirmed)
        .when(release("n1"))
        .then_rejected(Rejection::OperationConflict { op: "n1".into() });

    // Release: the compensation.
    let released = given_state(l)
        .when(release("n1"))
        .then(&[LedgerEvent::LockReleased(LockReleased {
            op: "n1".into(),
            coldkey: alice(),
            amount: 5 * TAO,
        })]);
    assert_eq!(released.balance(&alice()), 100 * TAO);
    let released = given_state(released).when(release("n1")).then(&[]);
    given_state(released)
        .when(confirm("n1", 7))
        .then_rejected(Rejection::OperationConflict { op: "n1".into() });
    started()
        .when(confirm("zz", 1))
        .then_rejected(Rejection::UnknownOperation { op: "zz".into() });
    started()
        .when(release("zz"))
        .then_rejected(Rejection::UnknownOperation { op: "zz".into() });
}

#[test]
fn registration_burn_and_refund() {
    let fund = service(CommandBody::FundRegistration {
        op: "r".into(),
        coldkey: alice(),
        netuid: 3,
        amount: TAO,
    });
    let l = started()
        .when(fund.clone())
        .then(&[LedgerEvent::RegistrationFunded(RegistrationFunded {
            op: "r".into(),
            coldkey: alice(),
            netuid: 3,
            amount: TAO,
        })]);
    assert_eq!(l.custody(3), TAO);
    let l = given_state(l).when(fund).then(&[]);
    let l = given_state(l)
        .when(fund_stake("r", alice(), 3, TAO))
        .then_rejected(Rejection::OperationConflict { op: "r".into() });
    let refund = service(CommandBody::RefundRegistration { op: "r".into() });
    let l = given_state(l)
        .when(refund.clone())
        .then(&[LedgerEvent::RegistrationRefunded(RegistrationRefunded {
            op: "r".into(),
            coldkey: alice(),
            netuid: 3,
            amount: TAO,
        })]);
    assert_eq!(l.balance(&alice()), 100 * TAO);
    given_state(l).when(refund).then(&[]);
}

#[test]
fn recycle_lowers_issuance_and_burn_does_not() {
    let l = started()
        .when(fund_stake("s", alice(), 1, 2 * TAO))
        .then_ok()
        .1;
    let before = l.total_issuance();
    let recycle = service(CommandBody::RecycleFromCustody {
        op: "rc".into(),
        netuid: 1,
        amount: TAO,
    });
    let l = given_state(l)
        .when(recycle.clone())
        .then(&[LedgerEvent::CustodyRecycled(CustodyRecycled {
            op: "rc".into(),
            netuid: 1,
            amount: TAO,
        })]);
    assert_eq!(l.total_issuance(), before - TAO);
    assert_eq!(l.custody(1), TAO);
    let l = given_state(l).when(recycle).then(&[]);
    let l = given_state(l)
        .when(service(CommandBody::RecycleFromCustody {
            op: "rc2".into(),
            netuid: 1,
            amount: TAO + 1,
        }))
        .then_rejected(Rejection::CustodyInsufficient {
            netuid: 1,
            available: TAO,
            requested: TAO + 1,
        });

    let burn = service(CommandBody::BurnTao {
        op: "b".into(),
        from: alice(),
        amount: 3 * TAO,
    });
    let issuance = l.total_issuance();
    let l = given_state(l)
        .when(burn.clone())
        .then(&[LedgerEvent::TaoBurned(TaoBurned {
            op: "b".into(),
            from: alice(),
            amount: 3 * TAO,
        })]);
    assert_eq!(l.total_issuance(), issuance);
    assert_eq!(l.burn_account_balance(), 3 * TAO);
    assert_eq!(l.balance(&burn_account()), 3 * TAO);
    let l = given_state(l).when(burn).then(&[]);
    given_state(l)
        .when(service(CommandBody::BurnTao {
            op: "b2".into(),
            from: bob(),
            amount: 10 * TAO,
        }))
        .then_rejected(Rejection::Expendability);
}

// ---------------------------------------------------------------- coinbase

fn claim(block: u64, credits: &[(u16, u64)]) -> Command {
    service(CommandBody::ClaimCoinbase {
        block,
        credits: credits.to_vec(),
    })
}

#[test]
fn claim_moves_credit_to_custody_and_recycles_the_rest() {
    let l = started().when(advance(1, 0)).then_ok().1;
    let issuance = l.total_issuance();
    let credits = [(1, 600_000_000), (2, 399_999_999)];
    let l = given_state(l).when(claim(1, &credits)).then(&[
        LedgerEvent::CoinbaseClaimed(CoinbaseClaimed {
            block: 1,
            credits: credits.to_vec(),
        }),
        recycled(1, 1),
    ]);
    assert_eq!(l.custody(1), 600_000_000);
    assert_eq!(l.custody(2), 399_999_999);
    assert_eq!(l.pending_credit(), 0);
    assert_eq!(l.total_issuance(), issuance - 1);
    // A retry is a no-op; another claim for the block conflicts.
    let l = given_state(l).when(claim(1, &credits)).then(&[]);
    let l = given_state(l)
        .when(claim(1, &[(1, 1)]))
        .then_rejected(Rejection::OperationConflict {
            op: "coinbase/1".into(),
        });
    // A claimed block is not recycled again later.
    let l = given_state(l).when(advance(3, 12_000)).then(&[
        bp(2, 12_000, TAO),
        bp(3, 24_000, TAO),
        recycled(2, TAO),
        bp(4, 36_000, TAO),
    ]);
    // Claim records are pruned with the window.
    given_state(l)
        .when(claim(1, &credits))
        .then_rejected(Rejection::NoPendingCredit { block: 1 });
}

#[test]
fn claim_rejections() {
    let l = started().when(advance(2, 0)).then_ok().1;
    given_state(l.clone())
        .when(claim(1, &[(1, TAO), (2, 1)]))
        .then_rejected(Rejection::CreditInsufficient {
            block: 1,
            available: TAO,
            requested: TAO + 1,
        });
    given_state(l.clone())
        .when(claim(9, &[]))
        .then_rejected(Rejection::NoPendingCredit { block: 9 });
    given_state(l.clone())
        .when(claim(1, &[(1, u64::MAX), (2, 1)]))
        .then_rejected(Rejection::Overflow);
    given_state(l.clone())
        .when(Command::new(
            Origin::Signed(service_key()),
            CommandBody::ClaimCoinbase {
                block: 1,
                credits: vec![],
            },
        ))
        .then_rejected(Rejection::BadOrigin);
    // Unclaimed credit expires: block 1 is recycled when block 3 is minted.
    let l = given_state(l).when(advance(1, 100_000)).then_ok().1;
    given_state(l)
        .when(claim(1, &[(1, 1)]))
        .then_rejected(Rejection::NoPendingCredit { block: 1 });
}

#[test]
fn an_empty_claim_recycles_everything() {
    let l = started().when(advance(1, 0)).then_ok().1;
    given_state(l).when(claim(1, &[])).then(&[
        LedgerEvent::CoinbaseClaimed(CoinbaseClaimed {
            block: 1,
            credits: vec![],
        }),
        recycled(1, TAO),
    ]);
}

// ---------------------------------------------------------------- aggregate

#[test]
fn snapshot_restore_and_digest() {
    let l = started().when(advance(2, 0)).then_ok().1;
    let l = given_state(l)
        .when(fund_stake("s", alice(), 1, TAO))
        .then_ok()
        .1;
    let restored = Ledger::restore(&l.snapshot()).unwrap();
    assert_eq!(restored, l);
    assert_eq!(restored.digest(), l.digest());
    assert_ne!(Ledger::default().digest(), l.digest());
    assert!(Ledger::restore(&[1, 2, 3]).is_err());
    let wrong_version = envelope::codec::encode(&(SNAPSHOT_VERSION + 1, &l));
    assert!(Ledger::restore(&wrong_version)
        .unwrap_err()
        .contains("version"));
    assert_eq!(Ledger::SERVICE, "ledger");
}

#[test]
fn rejections_serialize_with_their_names() {
    let json = serde_json::to_string(&Rejection::CustodyInsufficient {
        netuid: 1,
        available: 2,
        requested: 3,
    })
    .unwrap();
    assert!(json.contains("CustodyInsufficient"), "{json}");
    assert_eq!(
        serde_json::to_string(&Rejection::Expendability).unwrap(),
        "\"Expendability\""
    );
}

// ------------------------------------------------- peer steps and settlement

fn peer(body: CommandBody) -> Command {
    Command::new(Origin::Peer, body)
}

fn custody_genesis() -> Genesis {
    Genesis {
        custody: vec![(1, 50 * TAO), (2, 10 * TAO)],
        ..std_genesis()
    }
}

#[test]
fn genesis_custody_counts_in_issuance() {
    let l = given([genesis_applied(custody_genesis())]).ledger;
    assert_eq!(l.custody(1), 50 * TAO);
    assert_eq!(l.total_issuance(), 170 * TAO);
    l.check_invariants().unwrap();
    let dup = Genesis {
        custody: vec![(1, 1), (1, 2)],
        ..std_genesis()
    };
    given([])
        .when(clock(CommandBody::ApplyGenesis(dup)))
        .then_rejected(Rejection::InvalidGenesis(
            "custody of subnet 1 appears twice".into(),
        ));
}

#[test]
fn a_refused_peer_step_is_recorded_not_returned() {
    let fund = CommandBody::FundStake {
        op: "p1".into(),
        coldkey: bob(),
        netuid: 1,
        amount: 11 * TAO,
    };
    let l = given([genesis_applied(custody_genesis())])
        .when(peer(fund))
        .then(&[LedgerEvent::StepRejected(StepRejected {
            op: "p1".into(),
            code: "InsufficientBalance".into(),
            message: "insufficient balance".into(),
        })]);
    assert_eq!(l.balance(&bob()), 10 * TAO);
    // A user cannot use the peer path's saga steps.
    given([genesis_applied(custody_genesis())])
        .when(signed(
            alice(),
            CommandBody::Settle {
                op: "x".into(),
                moves: vec![],
            },
        ))
        .then_rejected(Rejection::BadOrigin);
}

#[test]
fn settle_moves_custody_all_or_nothing_and_once() {
    let moves = vec![
        CustodyMove {
            from_netuid: 1,
            to: CustodyDest::Account(bob()),
            amount: 2 * TAO,
        },
        CustodyMove {
            from_netuid: 1,
            to: CustodyDest::Custody(0),
            amount: 3 * TAO,
        },
        CustodyMove {
            from_netuid: 1,
            to: CustodyDest::Burn,
            amount: 7,
        },
        CustodyMove {
            from_netuid: 2,
            to: CustodyDest::Recycle,
            amount: TAO,
        },
        // Below the existential deposit for a new account: recycled.
        CustodyMove {
            from_netuid: 2,
            to: CustodyDest::Account(carol()),
            amount: 499,
        },
    ];
    let settle = CommandBody::Settle {
        op: "s1".into(),
        moves: moves.clone(),
    };
    let l = given([genesis_applied(custody_genesis())])
        .when(peer(settle.clone()))
        .then(&[LedgerEvent::CustodySettled(CustodySettled {
            op: "s1".into(),
            moves,
            dust_recycled: 499,
        })]);
    assert_eq!(l.balance(&bob()), 12 * TAO);
    assert_eq!(l.balance(&carol()), 0);
    assert_eq!(l.custody(0), 3 * TAO);
    assert_eq!(l.custody(1), 45 * TAO - 7);
    assert_eq!(l.custody(2), 9 * TAO - 499);
    assert_eq!(l.burn_account_balance(), 7);
    assert_eq!(l.total_issuance(), 170 * TAO - TAO - 499);
    // The same op again changes nothing.
    let l = given_state(l).when(peer(settle)).then(&[]);
    // More than custody holds: refused as a whole.
    given_state(l)
        .when(peer(CommandBody::Settle {
            op: "s2".into(),
            moves: vec![
                CustodyMove {
                    from_netuid: 0,
                    to: CustodyDest::Account(bob()),
                    amount: TAO,
                },
                CustodyMove {
                    from_netuid: 0,
                    to: CustodyDest::Account(bob()),
                    amount: 3 * TAO,
                },
            ],
        }))
        .then(&[LedgerEvent::StepRejected(StepRejected {
            op: "s2".into(),
            code: "CustodyInsufficient".into(),
            message: Rejection::CustodyInsufficient {
                netuid: 0,
                available: 2 * TAO,
                requested: 3 * TAO,
            }
            .to_string(),
        })]);
}

#[test]
fn never_expiring_credit_waits_for_the_claim() {
    let g = Genesis {
        coinbase_claim_window: NEVER_EXPIRE,
        ..custody_genesis()
    };
    let (_, l) = given([genesis_applied(g)]).when(advance(50, 0)).then_ok();
    assert_eq!(l.pending_credit(), 50 * TAO);
    let (events, l) = given_state(l)
        .when(peer(CommandBody::ClaimCoinbase {
            block: 1,
            credits: vec![(1, TAO / 2)],
        }))
        .then_ok();
    assert!(matches!(events[0], LedgerEvent::CoinbaseClaimed(_)));
    assert_eq!(l.custody(1), 50 * TAO + TAO / 2);
    assert_eq!(l.pending_credit(), 49 * TAO);
}
