//! Latency of one group commit on sled: `append` of a small batch, then
//! `flush` (what a service does before it answers). Prints percentiles.
//! `cargo run --release -p store --example flush_latency [commits] [events per commit]`
use std::time::Instant;

use store::sled_store::SledStore;
use store::{Batch, EventStore};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let commits = args.first().copied().unwrap_or(2_000);
    let per = args.get(1).copied().unwrap_or(4);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SledStore::open(dir.path()).expect("open");
    let mut seq = 0u64;
    let (mut append_us, mut flush_us) = (Vec::new(), Vec::new());
    for _ in 0..commits {
        let events = (0..per)
            .map(|_| {
                seq += 1;
                store::conformance::event(seq)
            })
            .collect();
        let batch = Batch {
            expected_last_seq: seq - per as u64,
            events,
            checkpoints: vec![("inbox:x".into(), seq)],
            dedup: Vec::new(),
            journal: Vec::new(),
        };
        let t = Instant::now();
        store.append(batch).expect("append");
        let t1 = Instant::now();
        store.flush().expect("flush");
        append_us.push(t1.duration_since(t).as_secs_f64() * 1e6);
        flush_us.push(t1.elapsed().as_secs_f64() * 1e6);
    }
    for (name, v) in [("append", &mut append_us), ("flush", &mut flush_us)] {
        v.sort_by(f64::total_cmp);
        let p = |q: f64| v[((v.len() - 1) as f64 * q) as usize];
        println!(
            "{name}: p50 {:.0} us, p90 {:.0} us, p99 {:.0} us, max {:.0} us",
            p(0.5),
            p(0.9),
            p(0.99),
            p(1.0)
        );
    }
}
