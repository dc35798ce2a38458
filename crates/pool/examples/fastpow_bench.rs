//! Per-call cost of the certified fast power against the big-integer reference, on swap-shaped
//! inputs: `cargo run --release -p pool --example fastpow_bench [calls]`.

use std::hint::black_box;
use std::time::Instant;

use pool::fastpow::{pow_ratio_scaled_u64, reference, PowU64};
use pool::{Pool, SwapRequest};

const PQ: u64 = 1_000_000_000_000_000_000;

fn inputs(n: usize) -> Vec<(u128, u128, u64, u64)> {
    let mut s = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    (0..n)
        .map(|_| {
            let x = 1_000_000_000_000 + next() % 1_000_000_000_000_000;
            let dx = 1_000_000 + next() % (x / 100);
            let w2 = PQ / 100 + next() % (98 * (PQ / 100));
            (u128::from(x), u128::from(x + dx), PQ - w2, w2)
        })
        .collect()
}

fn main() {
    let calls: usize = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let cases = inputs(4096);
    let start = Instant::now();
    let mut acc = 0u64;
    for i in 0..calls {
        let (a, b, n, d) = cases[i % cases.len()];
        if let PowU64::Fits(v) = pow_ratio_scaled_u64(black_box(a), b, n, d, 256, PQ) {
            acc = acc.wrapping_add(v);
        }
    }
    let fast_ns = start.elapsed().as_secs_f64() * 1e9 / calls as f64;
    let ref_calls = (calls / 1_000).max(1);
    let start = Instant::now();
    for (i, &(a, b, n, d)) in cases.iter().cycle().take(ref_calls).enumerate() {
        let r = reference(black_box(a), b, n, d, 256, PQ);
        if i < cases.len() {
            assert_eq!(r, pow_ratio_scaled_u64(a, b, n, d, 256, PQ));
        }
    }
    let ref_ns = start.elapsed().as_secs_f64() * 1e9 / ref_calls as f64;
    println!("fast path:  {fast_ns:>10.1} ns/call ({calls} calls, checksum {acc})");
    println!("reference:  {ref_ns:>10.1} ns/call ({ref_calls} calls)");

    // The swap loop of amm-core's bench at a re-solved weight.
    let pool = Pool::constant_product(1_000_000_000_000_000, 2_000_000_000_000_000)
        .inject(3_000_000_000, 0)
        .unwrap();
    let start = Instant::now();
    let mut out = 0u64;
    for i in 0..calls as u64 {
        let amount = 1_000_000 + (i % 1_000) * 1_000;
        let req = if i % 2 == 0 {
            SwapRequest::buy(amount)
        } else {
            SwapRequest::sell(amount)
        };
        out = out.wrapping_add(black_box(&pool).swap(req).map_or(0, |r| r.amount_out));
    }
    let swaps = calls as f64 / start.elapsed().as_secs_f64();
    println!("pool swaps/s, re-solved weight: {swaps:>12.0} (checksum {out})");
}
