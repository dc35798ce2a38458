//! Property tests: the emission formula against independent references, and
//! random command sequences against the ledger's invariants, replay and
//! snapshots.

mod common;

use aggregate::Aggregate;
use common::*;
use envelope::VersionedEvent;
use keys::AccountId;
use ledger_core::emission::{era, era_start, MAX_ERA};
use ledger_core::*;
use proptest::prelude::*;

const TAO: u64 = RAO_PER_TAO;

// ---------------------------------------------------------------- emission

/// The chain's steps on raw I96F32 bits, with substrate_fixed's rounding
/// halving loop for the integer part of log2, written independently of the
/// crate's closed form.
fn reference_emission(issuance: u64) -> u64 {
    if issuance >= TOTAL_SUPPLY {
        return 0;
    }
    let one: u128 = 1 << 32;
    let ratio = u128::from(issuance) * one / u128::from(TOTAL_SUPPLY);
    let mut x = one * one / (one - ratio);
    let mut k = 0u32;
    while x >= 2 * one {
        x = (x >> 1) + (x & 1);
        k += 1;
    }
    // 1/2^k in I96F32, times 1e9, truncated.
    let inv = if k > 32 { 0 } else { one >> k };
    (inv * u128::from(DEFAULT_BLOCK_EMISSION) / one) as u64
}

/// The era from the defining inequality `I/21e15 ≥ 1 − 2^−k` on the
/// truncated ratio, counted boundary by boundary.
fn reference_era(issuance: u64) -> u32 {
    if issuance >= TOTAL_SUPPLY {
        return MAX_ERA;
    }
    (1..=32u32)
        .filter(|k| {
            u128::from(issuance) << 32
                >= ((1u128 << 32) - (1u128 << (32 - k))) * u128::from(TOTAL_SUPPLY)
        })
        .count() as u32
}

fn issuance() -> impl Strategy<Value = u64> {
    prop_oneof![
        0..=TOTAL_SUPPLY,
        // Around every era boundary.
        (0..=MAX_ERA, -2_000i64..2_000).prop_map(|(k, d)| {
            era_start(k)
                .unwrap()
                .saturating_add_signed(d)
                .min(TOTAL_SUPPLY + 10)
        }),
        TOTAL_SUPPLY..=u64::MAX,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    #[test]
    fn emission_matches_the_references(i in issuance()) {
        prop_assert_eq!(block_emission(i), reference_emission(i));
        prop_assert_eq!(era(i), reference_era(i));
        prop_assert_eq!(block_emission(i), if i >= TOTAL_SUPPLY { 0 } else { DEFAULT_BLOCK_EMISSION >> reference_era(i) });
    }

    #[test]
    fn emission_never_increases_with_issuance(a in issuance(), b in issuance()) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(block_emission(lo) >= block_emission(hi));
        prop_assert!(era(lo) <= era(hi));
    }

    #[test]
    fn mint_never_passes_the_cap(e in any::<u64>(), i in issuance()) {
        let m = mint_amount(e, i);
        prop_assert!(m <= e);
        if i <= TOTAL_SUPPLY {
            prop_assert!(i + m <= TOTAL_SUPPLY);
        } else {
            prop_assert_eq!(m, 0);
        }
    }
}

// ---------------------------------------------------------------- sequences

fn dave() -> AccountId {
    acct(4)
}

fn pool() -> [AccountId; 6] {
    [alice(), bob(), carol(), dave(), burn_account(), admin()]
}

const OPS: [&str; 4] = ["a", "b", "c", "d"];

/// A command in raw form; [`to_command`] maps it onto the current state so
/// sequences stay meaningful (timestamps near the last one, claims near the
/// current height).
#[derive(Clone, Debug)]
struct Raw {
    kind: u8,
    a: u8,
    b: u8,
    c: u8,
    amount: u64,
    flag: bool,
    origin: u8,
}

fn amount() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(499),
        Just(500),
        Just(501),
        1..10_000u64,
        1..=20 * TAO,
        1..=200 * TAO,
        Just(u64::MAX),
    ]
}

fn raw() -> impl Strategy<Value = Raw> {
    (
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        amount(),
        any::<bool>(),
        any::<u8>(),
    )
        .prop_map(|(kind, a, b, c, amount, flag, origin)| Raw {
            kind,
            a,
            b,
            c,
            amount,
            flag,
            origin,
        })
}

/// `long`: an advance with `flag` set runs up to ~10_000 blocks.
fn to_command(r: &Raw, l: &Ledger, long: bool) -> Command {
    let p = pool();
    let who = |i: u8| p[i as usize % p.len()];
    let op = OPS[r.a as usize % OPS.len()].to_string();
    let netuid = u16::from(r.c % 3);
    let (body, right) = match r.kind % 15 {
        0..=2 => (
            CommandBody::Transfer {
                to: who(r.b),
                amount: r.amount,
                keep_alive: r.flag,
            },
            Origin::Signed(who(r.a)),
        ),
        3 => (
            CommandBody::AdvanceBlocks {
                n: if long && r.flag {
                    u64::from(r.a) * 39
                } else {
                    u64::from(r.a % 4)
                },
                timestamp_ms: l.last_timestamp_ms() + u64::from(r.b) * 100,
                block_time_ms: u64::from(r.c) * 10,
            },
            Origin::Signed(admin()),
        ),
        kind => {
            let body = match kind {
                4 => CommandBody::FundStake {
                    op,
                    coldkey: who(r.b),
                    netuid,
                    amount: r.amount,
                },
                5 => CommandBody::RefundStake { op },
                6 => CommandBody::PayFromCustody {
                    op,
                    netuid,
                    to: who(r.b),
                    amount: r.amount,
                },
                7 => CommandBody::LockForSubnet {
                    op,
                    coldkey: who(r.b),
                    amount: r.amount,
                },
                8 => CommandBody::ConfirmLock { op, netuid },
                9 => CommandBody::ReleaseLock { op },
                10 => CommandBody::FundRegistration {
                    op,
                    coldkey: who(r.b),
                    netuid,
                    amount: r.amount,
                },
                11 => CommandBody::RefundRegistration { op },
                12 => CommandBody::RecycleFromCustody {
                    op,
                    netuid,
                    amount: r.amount,
                },
                13 => CommandBody::BurnTao {
                    op,
                    from: who(r.b),
                    amount: r.amount,
                },
                _ => {
                    let block = l.height().saturating_sub(u64::from(r.a % 3));
                    let pending = l.pending_credit_of(block);
                    let credits = match r.b % 4 {
                        0 => vec![(netuid, pending / 2), (netuid + 1, pending - pending / 2)],
                        1 => vec![(netuid, pending / 3)],
                        2 => vec![(netuid, pending + 1)],
                        _ => vec![],
                    };
                    CommandBody::ClaimCoinbase { block, credits }
                }
            };
            (body, Origin::Service(service_key()))
        }
    };
    let origin = if r.origin.is_multiple_of(10) {
        match r.origin % 3 {
            0 => Origin::Signed(carol()),
            1 => Origin::Service(carol()),
            _ => Origin::Clock,
        }
    } else {
        right
    };
    Command {
        origin,
        encoded_len: u32::from(r.c),
        body,
    }
}

fn run_sequence(g: Genesis, raws: &[Raw], long: bool) -> Result<(), TestCaseError> {
    let mut live = Ledger::default();
    let mut log = live
        .handle(&clock(CommandBody::ApplyGenesis(g)))
        .expect("valid genesis");
    for r in raws {
        let cmd = to_command(r, &live, long);
        let before = live.digest();
        let decided = live.decide(&cmd);
        prop_assert_eq!(live.digest(), before, "decide changed the state");
        match live.handle(&cmd) {
            Ok(events) => {
                prop_assert_eq!(Ok(events.clone()), decided);
                log.extend(events);
            }
            Err(rejection) => {
                prop_assert_eq!(Err(rejection), decided);
                prop_assert_eq!(live.digest(), before, "rejection changed the state");
            }
        }
        if let Err(e) = live.check_invariants() {
            return Err(TestCaseError::fail(format!("after {cmd:?}: {e}")));
        }
        prop_assert!(live.total_issuance() <= TOTAL_SUPPLY);
    }
    // Replay through the wire encoding gives the same state.
    let mut replayed = Ledger::default();
    for e in &log {
        let decoded =
            LedgerEvent::decode_payload(e.event_type(), e.version(), &e.encode_payload()).unwrap();
        prop_assert_eq!(&decoded, e);
        replayed.evolve(&decoded);
    }
    prop_assert_eq!(replayed.digest(), live.digest());
    prop_assert_eq!(&replayed, &live);
    let restored = Ledger::restore(&live.snapshot()).map_err(TestCaseError::fail)?;
    prop_assert_eq!(restored.digest(), live.digest());
    Ok(())
}

fn test_genesis(default_fees: bool, window: u64) -> Genesis {
    Genesis {
        fees: if default_fees {
            Fees::default()
        } else {
            Fees::zero()
        },
        coinbase_claim_window: window,
        ..genesis(&[
            (alice(), 100 * TAO),
            (bob(), 10 * TAO),
            (carol(), 1_000),
            (admin(), TAO),
        ])
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_sequences_keep_every_invariant(
        default_fees in any::<bool>(),
        window in 0..3u64,
        raws in prop::collection::vec(raw(), 1..60),
    ) {
        run_sequence(test_genesis(default_fees, window), &raws, false)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Starting in the top eras, with block runs of up to ~10_000 blocks
    /// between the random commands: issuance never exceeds 21e15.
    #[test]
    fn issuance_never_exceeds_the_cap(
        k in 20..=MAX_ERA,
        below in 0..2_000_000u64,
        raws in prop::collection::vec(raw(), 1..30),
    ) {
        let start = era_start(k).unwrap().saturating_sub(below);
        let g = Genesis {
            coinbase_claim_window: 5,
            ..genesis(&[(alice(), start - 100 * TAO), (bob(), 100 * TAO)])
        };
        run_sequence(g, &raws, true)?;
    }
}
