//! Differential tests of the certified fast power (`pool::fastpow`) against the big-integer
//! reference (`pool::bigpow::pow_ratio_scaled`), over the input shapes of both call sites:
//! * `Balancer::exp_scaled`: `a = x`, `b = x ± dx` (u64), exponent `w1/w2` or `w2/w1` with
//!   `w1 + w2 = 10^18`, precision 256, scale 10^18;
//! * `Balancer::delta_to_price`: `a`, `b` the bits of two `U64F64` prices, exponent
//!   `w / 10^18`, precision 1024, scale 10^18.
//!
//! `long_differential` (ignored) runs millions of cases:
//! `cargo test --release -p pool --test fastpow -- --ignored --nocapture`
//! (`FASTPOW_CASES` sets the number of swap-shaped cases, default 2,000,000).

use pool::fastpow::{pow_ratio_scaled_u64, reference, try_fast, PowU64};
use proptest::prelude::*;

const PQ: u64 = 1_000_000_000_000_000_000;
const EXP_PRECISION: u32 = 256;
const DELTA_PRECISION: u32 = 1024;

/// Both entry points agree with the reference; returns whether the fast path certified.
fn check(a: u128, b: u128, n: u64, d: u64, precision: u32) -> bool {
    let want = reference(a, b, n, d, precision, PQ);
    let fast = try_fast(a, b, n, d, precision, PQ);
    if let Some(got) = fast {
        assert_eq!(
            got, want,
            "fast path: a={a} b={b} n={n} d={d} precision={precision}"
        );
    }
    assert_eq!(pow_ratio_scaled_u64(a, b, n, d, precision, PQ), want);
    fast.is_some()
}

/// Reserves: dust to the whole supply, and the u64 edge.
fn reserve() -> impl Strategy<Value = u64> {
    prop_oneof![
        1..1_000u64,
        1_000_000..10_000_000_000u64,
        1_000_000..21_000_000_000_000_000u64,
        (u64::MAX - 1_000_000)..=u64::MAX,
        any::<u64>().prop_map(|v| v.max(1)),
    ]
}

/// `dx` relative to the reserve: tiny (ratio near 1) up to ~1000x (log-uniform).
fn dx_for(x: u64) -> impl Strategy<Value = u64> {
    prop_oneof![
        1..=16u64,
        (0.0f64..1.0).prop_map(move |u| ((x as f64) * 1e-9 * 1e12f64.powf(u)).max(1.0) as u64),
        any::<u64>(),
    ]
}

/// Quote weights in [0.01, 0.99] as Perquintill parts: uniform, near 0.5, near the bounds, and
/// "round" weights whose reduced exponent takes the chain's exact path.
fn quote_weight() -> impl Strategy<Value = u64> {
    prop_oneof![
        (PQ / 100)..=(99 * (PQ / 100)),
        ((PQ / 2 - 1_000_000)..=(PQ / 2 + 1_000_000)).prop_filter("not 0.5", |w| *w != PQ / 2),
        (PQ / 100)..=(PQ / 100 + 1_000_000),
        (99 * (PQ / 100) - 1_000_000)..=(99 * (PQ / 100)),
        prop::sample::select(vec![
            PQ / 100,
            PQ / 10,
            PQ / 8,
            PQ / 5,
            PQ / 4,
            3 * (PQ / 10),
            2 * (PQ / 5),
            3 * (PQ / 5),
            3 * (PQ / 4),
            4 * (PQ / 5),
            9 * (PQ / 10),
            99 * (PQ / 100),
        ]),
    ]
}

/// A `U64F64` price as raw bits: anything from 2^-64 to 2^64.
fn price_bits() -> impl Strategy<Value = u128> {
    prop_oneof![
        any::<u128>().prop_map(|v| v.max(1)),
        (1u128 << 40)..(1u128 << 90),
        (1u128 << 63)..(1u128 << 66),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// The swap exponent (`exp_scaled`): buys, sells and `get_base_needed_for_quote`'s
    /// negative `dx`.
    #[test]
    fn swap_exponent_matches_reference(
        (x, dx) in reserve().prop_flat_map(|x| (Just(x), dx_for(x))),
        w2 in quote_weight(),
        base_quote in any::<bool>(),
        negative in prop::bool::weighted(0.1),
    ) {
        let w1 = PQ - w2;
        let (n, d) = if base_quote { (w1, w2) } else { (w2, w1) };
        let b = if negative { x.saturating_sub(dx) } else { x.saturating_add(dx) };
        check(u128::from(x), u128::from(b), n, d, EXP_PRECISION);
    }

    /// The limit-price exponent (`delta_to_price`): ratios near 1 and arbitrary.
    #[test]
    fn limit_exponent_matches_reference(
        p in price_bits(),
        rel in prop_oneof![Just(0i64), -1_000_000i64..1_000_000, any::<i64>()],
        other in price_bits(),
        near in any::<bool>(),
        w in quote_weight(),
    ) {
        let q = if near { p.saturating_add_signed(i128::from(rel)).max(1) } else { other };
        check(p, q, w, PQ, DELTA_PRECISION);
        check(q, p, w, PQ, DELTA_PRECISION);
    }
}

/// Exact rational powers: `V` is an integer (or an integer plus a tiny fraction), the case the
/// margin test exists for. All must fall back and all must match.
#[test]
fn integer_results_fall_back() {
    let mut fell_back = 0;
    let mut total = 0;
    // Integer exponents (weight 0.2 → w1/w2 = 4, 0.1 → 9, 0.25 → 3): `(p/q)^k · 10^18` is an
    // integer whenever `q^k | 10^18`.
    for w2 in [PQ / 5, PQ / 10, PQ / 4] {
        let w1 = PQ - w2;
        for (p, q) in [
            (1u64, 2u64),
            (1, 5),
            (2, 5),
            (1, 10),
            (4, 5),
            (7, 10),
            (1, 4),
        ] {
            for m in [1u64, 3, 1_000_000_007, 123_456_789_012] {
                total += 1;
                if !check(u128::from(p * m), u128::from(q * m), w1, w2, EXP_PRECISION) {
                    fell_back += 1;
                }
            }
        }
    }
    // Roots: exponent 1/k (w1/w2 = 1/4 at w2 = 0.8) of a perfect k-th power ratio.
    for (w2, k) in [(4 * (PQ / 5), 4u32), (9 * (PQ / 10), 9), (3 * (PQ / 4), 3)] {
        let w1 = PQ - w2;
        for (p, q) in [(1u64, 2u64), (1, 10), (3, 10), (1, 5)] {
            total += 1;
            let (a, b) = (u128::from(p).pow(k), u128::from(q).pow(k));
            if !check(a, b, w1, w2, EXP_PRECISION) {
                fell_back += 1;
            }
        }
    }
    // Limit shape with weight 0.5 (exponent 1/2, the exact path): perfect squares.
    for (p, q) in [
        (1u128, 4u128),
        (9, 4),
        (1 << 64, 1 << 66),
        (25 << 60, 16 << 60),
    ] {
        total += 1;
        if !check(p, q, PQ / 2, PQ, DELTA_PRECISION) {
            fell_back += 1;
        }
    }
    assert!(fell_back > total / 2, "{fell_back} of {total} fell back");
}

/// Near an integer on the approximate path: `(1/2)^(4 + ε)` with weights one part away from
/// 0.2 (the exponent reduces to a fraction far above 32 bits).
#[test]
fn near_integer_approximate_path() {
    for w2 in [PQ / 5 - 1, PQ / 5 + 1, PQ / 5 - 1000, PQ / 5 + 1000] {
        let w1 = PQ - w2;
        for m in [1u64, 7, 1 << 40] {
            check(u128::from(m), u128::from(2 * m), w1, w2, EXP_PRECISION);
            check(u128::from(2 * m), u128::from(m), w1, w2, EXP_PRECISION);
        }
    }
}

/// Square roots within `1/(2N)` of an integer `N` (exponent 1/2, the exact path):
/// `sqrt((N² + k) · 10^36 / 10^36)`, for `k` near 0 (must fall back) and `k = N` (a fraction of
/// about one half, certified).
#[test]
fn square_roots_near_integers() {
    let b = 10u128.pow(36);
    let mut certified = 0;
    for n in [3u128, 1_000_003, 4_294_967_311, 1 << 62, (1 << 64) - 59] {
        let sq = n * n;
        for a in [sq, sq - 1, sq + 1, sq + 2, sq + n, sq + 2 * n] {
            if check(a, b, PQ / 2, PQ, DELTA_PRECISION) {
                certified += 1;
            }
        }
    }
    // Only the `sq + n` cases (fraction ≈ 1/2) of the large N can be certified.
    assert!(certified >= 4, "{certified}");
}

/// Degenerate and out-of-region inputs.
#[test]
fn edges() {
    for (a, b, n, d) in [
        (0u128, 5u128, 1u64, 2u64),
        (5, 0, 1, 2),
        (5, 7, 0, 2),
        (5, 7, 1, 0),
        (1, u128::MAX, PQ / 100, PQ),
        (u128::MAX, 1, 99 * (PQ / 100), PQ),
        (1, u128::from(u64::MAX), 99 * (PQ / 100), PQ / 100),
        (u128::from(u64::MAX), 1, 99 * (PQ / 100), PQ / 100),
        (
            u128::from(u64::MAX),
            u128::from(u64::MAX - 1),
            99 * (PQ / 100),
            PQ / 100,
        ),
        (
            u128::from(u64::MAX - 1),
            u128::from(u64::MAX),
            PQ / 100,
            99 * (PQ / 100),
        ),
        (1, 1, 3, 7),
        // Result just above / below 2^64 (exponent 1: 18.446744073709551616 · 10^18).
        (18_446_744_073_709_551_616, 1_000_000_000_000_000_000, 1, 1),
        (18_446_744_073_709_551_615, 1_000_000_000_000_000_000, 1, 1),
        (18_446_744_073_709_551_617, 1_000_000_000_000_000_000, 1, 1),
    ] {
        for precision in [EXP_PRECISION, DELTA_PRECISION] {
            check(a, b, n, d, precision);
        }
    }
    assert_eq!(
        pow_ratio_scaled_u64(18_446_744_073_709_551_615, PQ.into(), 1, 1, 256, PQ),
        PowU64::Fits(u64::MAX)
    );
    assert_eq!(
        pow_ratio_scaled_u64(18_446_744_073_709_551_616, PQ.into(), 1, 1, 256, PQ),
        PowU64::TooLarge
    );
}

/// SplitMix64, for the long run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Log-uniform in [1, 2^bits).
    fn log_uniform(&mut self, bits: u32) -> u64 {
        let b = self.below(u64::from(bits)) as u32 + 1;
        (self.next() >> (64 - b)).max(1)
    }
}

#[derive(Default)]
struct Tally {
    cases: u64,
    certified: u64,
}

fn long_run(seed: u64, swap_cases: u64, limit_cases: u64) -> (Tally, Tally) {
    let mut rng = Rng(seed);
    let mut swap = Tally::default();
    for _ in 0..swap_cases {
        let x = match rng.below(4) {
            0 => 1_000_000 + rng.below(21_000_000_000_000_000),
            1 => rng.log_uniform(64),
            _ => 1_000_000_000 + rng.below(10_000_000_000_000),
        };
        // Realistic swaps (up to 10% of the reserve) most of the time, up to ~1000x otherwise.
        let dx = match rng.below(8) {
            0 => rng.below(16) + 1,
            1 => (u128::from(x) * u128::from(rng.below(1_000_000_000)) / 1_000_000) as u64,
            _ => ((u128::from(x) * u128::from(rng.below(1 << 40))) >> 43) as u64,
        }
        .max(1);
        let w2 = match rng.below(4) {
            0 => PQ / 2 + rng.below(2_000_001) - 1_000_000,
            _ => PQ / 100 + rng.below(98 * (PQ / 100) + 1),
        };
        if w2 == PQ / 2 {
            continue;
        }
        let (n, d) = if rng.below(2) == 0 {
            (PQ - w2, w2)
        } else {
            (w2, PQ - w2)
        };
        let b = if rng.below(16) == 0 {
            x.saturating_sub(dx)
        } else {
            x.saturating_add(dx)
        };
        swap.cases += 1;
        if check(u128::from(x), u128::from(b), n, d, EXP_PRECISION) {
            swap.certified += 1;
        }
    }
    let mut limit = Tally::default();
    for _ in 0..limit_cases {
        let p = (u128::from(rng.next()) << 64 | u128::from(rng.next())) >> rng.below(100);
        let q = match rng.below(2) {
            0 => p.saturating_add_signed(i128::from(rng.next() as i32)),
            _ => p + (p >> (rng.below(20) + 1)),
        }
        .max(1);
        let w = PQ / 100 + rng.below(98 * (PQ / 100) + 1);
        limit.cases += 1;
        if check(q.max(p), q.min(p).max(1), w, PQ, DELTA_PRECISION) {
            limit.certified += 1;
        }
    }
    (swap, limit)
}

/// Millions of swap-shaped cases (and a smaller number of limit-shaped ones, whose reference runs
/// at 1024 bits), on two threads. Prints how many were certified and how many fell back.
#[test]
#[ignore]
fn long_differential() {
    let swap_cases: u64 = std::env::var("FASTPOW_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let limit_cases = swap_cases / 20;
    let start = std::time::Instant::now();
    let threads: Vec<_> = (0..2u64)
        .map(|t| std::thread::spawn(move || long_run(0x5EED + t, swap_cases / 2, limit_cases / 2)))
        .collect();
    let (mut swap, mut limit) = (Tally::default(), Tally::default());
    for t in threads {
        let (s, l) = t.join().unwrap();
        swap.cases += s.cases;
        swap.certified += s.certified;
        limit.cases += l.cases;
        limit.certified += l.certified;
    }
    println!(
        "swap shape:  {} cases passed, {} certified by the fast path, {} fell back",
        swap.cases,
        swap.certified,
        swap.cases - swap.certified
    );
    println!(
        "limit shape: {} cases passed, {} certified by the fast path, {} fell back",
        limit.cases,
        limit.certified,
        limit.cases - limit.certified
    );
    println!("elapsed: {:.1} s", start.elapsed().as_secs_f64());
}
