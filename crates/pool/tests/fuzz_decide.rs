//! Fuzzing the pool's decisions: hostile swaps (any side, amount, limit,
//! fee flag), simulations, injections, max-amount queries, cross-subnet
//! move bounds and share-pool deposits/withdrawals, in random sequences on
//! pools with hostile but reachable reserves (up to the TAO supply), any
//! fee rate and any quote weight (docs/fuzzing.md). Checks: nothing panics;
//! an accepted swap pays at most the output reserve, charges at most what
//! was offered and moves the reserves by exactly what it reports; a refused
//! one (and every query) leaves the pool as it was; a simulation that
//! succeeds predicts the swap; the quote weight stays in [0.01, 0.99];
//! share pools keep their sums; replaying the accepted operations from the
//! start gives the same pools. `PROPTEST_CASES` sets the input count.

use pool::{
    max_amount_move, Direction, Perquintill, Pool, SharePool, SwapRequest, MINIMUM_RESERVE,
};
use proptest::prelude::*;

const SUPPLY: u64 = 21_000_000_000_000_000;

fn edge() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(MINIMUM_RESERVE - 1),
        Just(MINIMUM_RESERVE),
        Just(1_000_000_000),
        Just(SUPPLY),
        Just(u64::MAX),
        Just(u64::MAX / 1000),
        any::<u64>(),
        0..10_000u64,
        0..=SUPPLY,
    ]
}

fn reserve() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(MINIMUM_RESERVE - 1),
        Just(MINIMUM_RESERVE),
        Just(SUPPLY),
        MINIMUM_RESERVE..10_000_000_000u64,
        0..=SUPPLY,
    ]
}

fn weight() -> impl Strategy<Value = Perquintill> {
    prop_oneof![
        Just(Perquintill::HALF),
        Just(Perquintill::ZERO),
        Just(Perquintill::ONE),
        Just(Perquintill::from_parts(10_000_000_000_000_000)),
        Just(Perquintill::from_parts(990_000_000_000_000_000)),
        any::<u64>().prop_map(Perquintill::from_parts),
    ]
}

#[derive(Clone, Debug)]
enum Op {
    Swap(SwapRequest),
    Simulate(SwapRequest),
    Inject(u64, u64),
    MaxAdd(u64),
    MaxRemove(u64),
    Move(u64),
    Deposit(u8, u64),
    Withdraw(u8, u64),
    Credit(u64),
}

fn request() -> impl Strategy<Value = SwapRequest> {
    (
        any::<bool>(),
        edge(),
        proptest::option::of(edge()),
        any::<bool>(),
    )
        .prop_map(|(buy, amount_in, limit_price, drop_fees)| SwapRequest {
            direction: if buy {
                Direction::BuyAlphaWithTao
            } else {
                Direction::SellAlpha
            },
            amount_in,
            limit_price,
            drop_fees,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => request().prop_map(Op::Swap),
        2 => request().prop_map(Op::Simulate),
        2 => (edge(), edge()).prop_map(|(t, a)| Op::Inject(t, a)),
        1 => edge().prop_map(Op::MaxAdd),
        1 => edge().prop_map(Op::MaxRemove),
        1 => edge().prop_map(Op::Move),
        2 => (0u8..4, edge()).prop_map(|(k, a)| Op::Deposit(k, a)),
        2 => (0u8..4, edge()).prop_map(|(k, a)| Op::Withdraw(k, a)),
        1 => edge().prop_map(Op::Credit),
    ]
}

fn make_pool(stable: bool, tao: u64, alpha: u64, w: Perquintill, fee: u16) -> Pool {
    if stable {
        return Pool::stable(tao, alpha);
    }
    // An out-of-bounds weight is refused; fall back to constant product.
    Pool::new(tao, alpha, w, fee).unwrap_or_else(|_| Pool::constant_product(tao, alpha))
}

/// Applies one operation; returns whether it changed anything. Fails the
/// case on a broken property.
fn apply(
    p: &mut Pool,
    other: &Pool,
    shares: &mut SharePool<u8>,
    op: &Op,
) -> Result<bool, TestCaseError> {
    let before = *p;
    let shares_before = shares.clone();
    let changed = match *op {
        Op::Swap(req) => match p.swap(req) {
            Ok(r) => {
                let buy = req.direction == Direction::BuyAlphaWithTao;
                let (rin, rout) = if buy {
                    (p.tao_reserve, p.alpha_reserve)
                } else {
                    (p.alpha_reserve, p.tao_reserve)
                };
                if p.mechanism == pool::Mechanism::Stable {
                    // Root's 1:1 pool checks no reserve (the chain's stable
                    // mechanism): the amm keeps root's TAO reserve at least
                    // the root stake, so a sell never outruns it there.
                    prop_assert_eq!(
                        (r.amount_in, r.amount_out, r.fee),
                        (req.amount_in, req.amount_in, 0)
                    );
                    *p = r.pool_after;
                    return finish(p, &before, shares, &shares_before, op, true);
                }
                prop_assert!(r.amount_out <= rout, "{:?} paid {:?}", p, r);
                prop_assert!(
                    u128::from(r.amount_in) + u128::from(r.fee) <= u128::from(req.amount_in),
                    "{:?} charged more than offered: {:?}",
                    req,
                    r
                );
                let (ain, aout) = if buy {
                    (r.tao_reserve_after, r.alpha_reserve_after)
                } else {
                    (r.alpha_reserve_after, r.tao_reserve_after)
                };
                prop_assert_eq!(ain, rin.saturating_add(r.amount_in));
                prop_assert_eq!(aout, rout - r.amount_out);
                prop_assert_eq!(r.pool_after.tao_reserve, r.tao_reserve_after);
                prop_assert_eq!(r.pool_after.alpha_reserve, r.alpha_reserve_after);
                prop_assert_eq!(r.pool_after.fee_rate, p.fee_rate);
                prop_assert_eq!(r.pool_after.quote_weight(), p.quote_weight());
                *p = r.pool_after;
                true
            }
            Err(e) => {
                prop_assert!(!e.to_string().is_empty());
                false
            }
        },
        Op::Simulate(req) => {
            if let Ok(sim) = p.simulate(req) {
                match p.swap(req) {
                    Ok(r) => prop_assert_eq!(r, sim),
                    Err(e) => prop_assert_eq!(e, pool::SwapError::InsufficientLiquidity),
                }
            }
            false
        }
        Op::Inject(t, a) => match p.inject(t, a) {
            Ok(after) => {
                prop_assert_eq!(after.tao_reserve, p.tao_reserve.saturating_add(t));
                prop_assert_eq!(after.alpha_reserve, p.alpha_reserve.saturating_add(a));
                let w = after.quote_weight().deconstruct();
                if after.mechanism == pool::Mechanism::Dynamic {
                    prop_assert!(
                        (10_000_000_000_000_000..=990_000_000_000_000_000).contains(&w),
                        "weight {} after injecting ({}, {}) into {:?}",
                        w,
                        t,
                        a,
                        p
                    );
                }
                *p = after;
                true
            }
            Err(_) => false,
        },
        Op::MaxAdd(limit) => {
            let _ = p.max_amount_add(limit);
            false
        }
        Op::MaxRemove(limit) => {
            let _ = p.max_amount_remove(limit);
            false
        }
        Op::Move(limit) => {
            let _ = max_amount_move(p, other, limit);
            let _ = max_amount_move(other, p, limit);
            false
        }
        Op::Deposit(k, a) => shares.deposit(k, a).is_ok(),
        Op::Withdraw(k, a) => shares.withdraw(&k, a).is_ok(),
        Op::Credit(a) => {
            if shares.value.checked_add(a).is_some() {
                shares.credit(a);
                true
            } else {
                false
            }
        }
    };
    finish(p, &before, shares, &shares_before, op, changed)
}

fn finish(
    p: &Pool,
    before: &Pool,
    shares: &SharePool<u8>,
    shares_before: &SharePool<u8>,
    op: &Op,
    changed: bool,
) -> Result<bool, TestCaseError> {
    if !changed {
        prop_assert_eq!(p, before, "a refusal or query changed the pool");
        prop_assert_eq!(shares, shares_before, "a refusal changed the share pool");
    }
    prop_assert!(
        shares.sum_of_values() <= u128::from(shares.value),
        "{:?}",
        shares
    );
    shares
        .check()
        .map_err(|e| TestCaseError::fail(format!("after {op:?}: {e}")))?;
    Ok(changed)
}

proptest! {
    // Cases from PROPTEST_CASES (proptest's default config reads it).
    #[test]
    fn hostile_pool_operations_keep_the_pool_consistent(
        stable in prop_oneof![4 => Just(false), 1 => Just(true)],
        tao in reserve(),
        alpha in reserve(),
        w in weight(),
        fee in prop_oneof![Just(0u16), Just(33), Just(u16::MAX), any::<u16>()],
        other in (reserve(), reserve()),
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        let start = make_pool(stable, tao, alpha, w, fee);
        let other = Pool::constant_product(other.0, other.1);
        let mut live = start;
        let mut shares = SharePool::<u8>::default();
        let mut accepted = Vec::new();
        for op in &ops {
            if apply(&mut live, &other, &mut shares, op)? {
                accepted.push(op.clone());
            }
        }
        // Replay: the accepted operations alone, from the start, again.
        let mut replayed = start;
        let mut replayed_shares = SharePool::<u8>::default();
        for op in &accepted {
            prop_assert!(apply(&mut replayed, &other, &mut replayed_shares, op)?);
        }
        prop_assert_eq!(replayed, live);
        prop_assert_eq!(replayed_shares, shares);
    }
}
