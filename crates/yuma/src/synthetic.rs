//! Synthetic subnets for benchmarks: dense pseudo-random weights from
//! `validators` staked uids over all `n` uids, warmed up by three epochs
//! (permits, then bonds) so every stage of an epoch does its full work.
//! Deterministic (xorshift on `seed`); shared by `benches/epoch.rs`,
//! `examples/epoch_profile.rs` and `taonet-growth`.

use crate::fixed_math::i64f64_from_u64;
use crate::{run_epoch, EpochContext, Hyperparameters, SubnetState};

/// Deterministic xorshift so the bench needs no rand dependency.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// A warmed-up subnet of `n` uids whose first `validators` hold stake and
/// set dense weights.
pub fn dense_subnet(
    validators: usize,
    n: usize,
    hp: &Hyperparameters,
    seed: u64,
) -> (SubnetState, EpochContext) {
    let mut s = seed | 1;
    let stake = (0..n)
        .map(|i| {
            if i < validators {
                1_000_000_000 + next(&mut s) % 1_000_000_000_000
            } else {
                0
            }
        })
        .map(i64f64_from_u64)
        .collect();
    let weights = (0..n)
        .map(|i| {
            if i < validators {
                (0..n as u16)
                    .map(|j| (j, (next(&mut s) % 65536) as u16))
                    .collect()
            } else {
                Vec::new()
            }
        })
        .collect();
    let mut state = SubnetState {
        stake,
        validator_permit: vec![false; n],
        last_update: vec![10; n],
        block_at_registration: vec![0; n],
        weights,
        bonds: vec![Vec::new(); n],
    };
    let mut ctx = EpochContext {
        current_block: 100,
        last_tempo: 99,
        rao_emission: 1_000_000_000,
        ..Default::default()
    };
    // Warm-up: the first epoch grants permits, the next ones build bonds.
    for b in 0..3 {
        ctx.current_block = 100 + b;
        ctx.last_tempo = 99 + b;
        run_epoch(hp, &state, &ctx)
            .expect("epoch")
            .apply_to(&mut state);
    }
    (state, ctx)
}
