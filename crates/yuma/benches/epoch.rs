//! Epoch timings: 64 validators × 256 uids, a full 256 × 256 matrix, and a round of 128
//! 64 × 256 subnets. Weights are dense pseudo-random rows and the bonds come from warm-up
//! epochs, so every stage of the sparse path does its full work.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use yuma::{run_epoch, Hyperparameters};

use yuma::synthetic::dense_subnet as subnet;

fn bench(c: &mut Criterion) {
    let original = Hyperparameters {
        max_allowed_validators: 256,
        activity_cutoff_blocks: 5000,
        ..Default::default()
    };
    let yuma3 = Hyperparameters {
        yuma3: true,
        liquid_alpha: true,
        bonds_penalty_u16: 0,
        bonds_moving_average: 975_000,
        ..original.clone()
    };
    for (label, hp) in [("original", &original), ("yuma3_liquid", &yuma3)] {
        let (s64, ctx64) = subnet(64, 256, hp, 7);
        c.bench_function(&format!("epoch_{label}_64x256"), |b| {
            b.iter(|| run_epoch(hp, black_box(&s64), &ctx64).expect("epoch"))
        });
        let (s256, ctx256) = subnet(256, 256, hp, 11);
        c.bench_function(&format!("epoch_{label}_256x256"), |b| {
            b.iter(|| run_epoch(hp, black_box(&s256), &ctx256).expect("epoch"))
        });
        let subnets: Vec<_> = (0..128).map(|k| subnet(64, 256, hp, 1000 + k)).collect();
        c.bench_function(&format!("epoch_{label}_128_subnets_64x256"), |b| {
            b.iter(|| {
                for (s, ctx) in &subnets {
                    black_box(run_epoch(hp, black_box(s), ctx).expect("epoch"));
                }
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
