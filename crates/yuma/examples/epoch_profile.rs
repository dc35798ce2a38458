//! Runs one bench case a fixed number of times, for instruction counts under
//! `valgrind --tool=callgrind --toggle-collect=epoch_profile::measured`.
//! Usage: `epoch_profile <original|yuma3_liquid> <64x256|256x256|1x256|128_subnets> [rounds]`; with
//! `rounds`, the case is instead timed that many times and the median and minimum wall-clock
//! time of one round are printed.

use yuma::{run_epoch, EpochContext, Hyperparameters, SubnetState};

use yuma::synthetic::dense_subnet as subnet;

fn main() {
    let args: Vec<String> = std::env::args().collect();
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
    let hp = if args.get(1).map(String::as_str) == Some("yuma3_liquid") {
        yuma3
    } else {
        original
    };
    let subnets: Vec<_> = match args.get(2).map(String::as_str) {
        Some("256x256") => vec![subnet(256, 256, &hp, 11)],
        // The shape of the simulator's year benchmark (docs/benchmarks.md
        // §9): one validator and 255 miners.
        Some("1x256") => vec![subnet(1, 256, &hp, 13)],
        Some("128_subnets") => (0..128).map(|k| subnet(64, 256, &hp, 1000 + k)).collect(),
        _ => vec![subnet(64, 256, &hp, 7)],
    };
    if let Some(rounds) = args.get(3).and_then(|r| r.parse::<usize>().ok()) {
        let mut times: Vec<f64> = (0..rounds.max(1))
            .map(|_| {
                let t = std::time::Instant::now();
                std::hint::black_box(measured(&hp, std::hint::black_box(&subnets)));
                t.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "median {:.1} us, min {:.1} us per round ({} rounds)",
            times[times.len() / 2],
            times[0],
            times.len()
        );
        return;
    }
    println!("{}", measured(&hp, &subnets));
}

/// The measured region (callgrind `--toggle-collect=epoch_profile::measured`).
#[inline(never)]
fn measured(hp: &Hyperparameters, subnets: &[(SubnetState, EpochContext)]) -> u64 {
    let mut total = 0u64;
    for (s, ctx) in subnets {
        let out = run_epoch(hp, s, ctx).expect("epoch");
        total = total.wrapping_add(out.emission.iter().sum::<u64>());
    }
    total
}
