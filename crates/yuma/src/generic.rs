//! The epoch helper by helper, as the chain's `epoch_mechanism` calls them: the fallback of
//! [`crate::epoch::run_epoch`] for inputs outside the fused engine's ranges, and the reference the
//! fused engine is tested against (`epoch::tests`).

use std::borrow::Cow;

use fixed::types::{I32F32, I64F64};

use crate::epoch::{
    check_len, EpochContext, EpochError, EpochOutput, Hyperparameters, SubnetState,
};
use crate::fixed_math::{
    add, bonds_moving_average_alpha, fixed_proportion_to_u16, from_u64, i64f64_to_i32f32,
    i64f64_to_u64, share_of_rao, sum, u16_proportion_to_fixed, LiquidAlpha, ONE, ZERO,
};
use crate::sparse::{
    col_clip_sparse, inplace_col_max_upscale_sparse, inplace_col_normalize_sparse,
    inplace_row_hadamard_sparse, inplace_row_normalize_sparse, interpolate_sparse,
    liquid_ema_sparse, mat_ema_sparse, matmul_sparse, matmul_transpose_sparse,
    row_sum_of_col_normalized_mat_vec_mul_sparse, row_sum_sparse, SparseMatrix,
};
use crate::vector::{
    inplace_mask_vector, inplace_normalize, inplace_normalize_64, inplace_normalize_using_sum,
    is_topk_nonzero, is_zero, vec_mul,
};

/// The epoch as written before the fused engine, helper by helper (kept as it was).
pub(crate) fn run_epoch_generic(
    hp: &Hyperparameters,
    state: &SubnetState,
    ctx: &EpochContext,
) -> Result<EpochOutput, EpochError> {
    let n = state.n();
    if n > u16::MAX as usize {
        return Err(EpochError::TooManyUids(n));
    }
    check_len("validator_permit", state.validator_permit.len(), n)?;
    check_len("last_update", state.last_update.len(), n)?;
    check_len(
        "block_at_registration",
        state.block_at_registration.len(),
        n,
    )?;
    check_len("weights", state.weights.len(), n)?;
    check_len("bonds", state.bonds.len(), n)?;
    if let Some(cb) = &ctx.commit_blocks {
        check_len("commit_blocks", cb.len(), n)?;
    }
    let owner = ctx.owner_uid.map(|u| u as usize).filter(|&u| u < n);
    let block = ctx.current_block;

    // §4.1 activity.
    let inactive: Vec<bool> = state
        .last_update
        .iter()
        .map(|&u| u.saturating_add(hp.activity_cutoff_blocks) < block)
        .collect();
    let active: Vec<bool> = inactive.iter().map(|b| !b).collect();

    // §4.2 stake: threshold (owner exempt), I64F64 normalization, narrow to I32F32.
    let mut filtered: Vec<I64F64> = state
        .stake
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            if owner != Some(i) && i64f64_to_u64(s) < hp.stake_threshold {
                I64F64::ZERO
            } else {
                s
            }
        })
        .collect();
    inplace_normalize_64(&mut filtered);
    let stake: Vec<I32F32> = filtered.into_iter().map(i64f64_to_i32f32).collect();

    // §4.3 permits: old ones (owner forced) mask this epoch, new ones are stored.
    let mut old_permit = state.validator_permit.clone();
    if let Some(o) = owner {
        old_permit[o] = true;
    }
    let forbid: Vec<bool> = old_permit.iter().map(|b| !b).collect();
    let mut new_permit = is_topk_nonzero(&stake, hp.max_allowed_validators as usize);
    if let Some(o) = owner {
        new_permit[o] = true;
    }

    // §4.4 active stake.
    let mut active_stake = stake.clone();
    inplace_mask_vector(&inactive, &mut active_stake);
    inplace_mask_vector(&forbid, &mut active_stake);
    inplace_normalize(&mut active_stake);

    // §4.5 weights: load (integers), permit rows, diagonal (owner keeps its own), outdated,
    // commit-reveal, row-normalize.
    let mut weights = SparseMatrix::with_capacity(n, state.weights.iter().map(Vec::len).sum());
    for (i, row) in state.weights.iter().enumerate() {
        if !forbid[i] {
            let lu = state.last_update[i];
            let cb = ctx.commit_blocks.as_ref().map(|c| c[i]);
            for &(j, w) in row {
                let ju = j as usize;
                if ju >= n {
                    continue; // get_weights_sparse filters uid_j < n
                }
                if ju == i && owner != Some(i) {
                    continue;
                }
                let reg = state.block_at_registration[ju];
                if lu <= reg {
                    continue;
                }
                if let Some(cb) = cb {
                    if cb < reg {
                        continue;
                    }
                }
                weights.push(j, from_u64(w as u64));
            }
        }
        weights.end_row();
    }
    inplace_row_normalize_sparse(&mut weights);

    // §4.6 consensus, §4.7 clipping and validator trust.
    let kappa = u16_proportion_to_fixed(hp.kappa_u16);
    let consensus = crate::sparse::weighted_median_col_sparse(&active_stake, &weights, n, kappa);
    let clipped = col_clip_sparse(&weights, &consensus);
    let validator_trust = row_sum_sparse(&clipped);

    // §4.8 ranks and incentive.
    let mut incentive = matmul_sparse(&clipped, &active_stake, n);
    inplace_normalize(&mut incentive);

    // §4.9 weights for bonds.
    let beta = u16_proportion_to_fixed(hp.bonds_penalty_u16);
    // β = 0 and β = 1 select one of the inputs unchanged: borrow it instead of cloning.
    let weights_for_bonds: Cow<'_, SparseMatrix> = if beta == ZERO {
        Cow::Borrowed(&weights)
    } else if beta == ONE {
        Cow::Borrowed(&clipped)
    } else {
        Cow::Owned(interpolate_sparse(&weights, &clipped, n, beta))
    };

    // §4.10 stored bonds minus recently-registered columns.
    let reg = &state.block_at_registration;
    let last_tempo = ctx.last_tempo;
    let load_bonds = |conv: &dyn Fn(u16) -> I32F32| {
        let mut b = SparseMatrix::with_capacity(n, state.bonds.iter().map(Vec::len).sum());
        for row in &state.bonds {
            for &(j, v) in row {
                // Bonds on columns ≥ n never reach the outputs (every consumer skips them), and
                // scalar_vec_mask_sparse_matrix reads registration 0 for them.
                let ju = j as usize;
                if ju < n && last_tempo > reg[ju] {
                    b.push(j, conv(v));
                }
            }
            b.end_row();
        }
        b
    };

    // §5 bonds and dividends.
    let mut dividends: Vec<I32F32>;
    let ema_bonds: SparseMatrix;
    if hp.yuma3 {
        let bonds = load_bonds(&u16_proportion_to_fixed);
        let liquid = hp.liquid_alpha && consensus.iter().any(|&c| c != ZERO);
        ema_bonds = if liquid {
            let low = u16_proportion_to_fixed(hp.alpha_low_u16);
            let high = u16_proportion_to_fixed(hp.alpha_high_u16);
            let steep = I32F32::from_bits((hp.alpha_sigmoid_steepness as i64) << 32);
            let sigmoid = std::cell::RefCell::new(LiquidAlpha::new(low, high, steep));
            liquid_ema_sparse(&weights_for_bonds, &bonds, &consensus, |c, w, b| {
                sigmoid.borrow_mut().alpha(c, w, b)
            })
        } else {
            let alpha = bonds_moving_average_alpha(hp.bonds_moving_average);
            mat_ema_sparse(&weights_for_bonds, &bonds, alpha)
        };
        let per_validator = row_sum_of_col_normalized_mat_vec_mul_sparse(&ema_bonds, n, &incentive);
        dividends = vec_mul(&per_validator, &active_stake);
        inplace_normalize(&mut dividends);
    } else {
        let mut bonds = load_bonds(&|v| from_u64(v as u64));
        inplace_col_normalize_sparse(&mut bonds, n);
        let mut delta = weights_for_bonds.into_owned();
        inplace_row_hadamard_sparse(&mut delta, &active_stake);
        inplace_col_normalize_sparse(&mut delta, n);
        let alpha = bonds_moving_average_alpha(hp.bonds_moving_average);
        let mut ema = mat_ema_sparse(&delta, &bonds, alpha);
        inplace_col_normalize_sparse(&mut ema, n);
        dividends = matmul_transpose_sparse(&ema, &incentive);
        inplace_normalize(&mut dividends);
        inplace_col_max_upscale_sparse(&mut ema, n);
        ema_bonds = ema;
    }

    // §4.12 emission.
    let combined: Vec<I32F32> = incentive
        .iter()
        .zip(&dividends)
        .map(|(&i, &d)| add(i, d))
        .collect();
    let emission_sum = sum(combined.iter().copied());
    let mut norm_server = incentive.clone();
    let mut norm_validator = dividends.clone();
    let mut norm_combined = combined;
    inplace_normalize_using_sum(&mut norm_server, emission_sum);
    inplace_normalize_using_sum(&mut norm_validator, emission_sum);
    inplace_normalize(&mut norm_combined);
    if emission_sum == ZERO {
        let fallback = if is_zero(&active_stake) {
            &stake
        } else {
            &active_stake
        };
        norm_validator.clone_from(fallback);
        norm_combined.clone_from(fallback);
    }
    let rao = ctx.rao_emission;
    let to_rao = |v: &[I32F32]| {
        v.iter()
            .map(|&x| share_of_rao(x, rao))
            .collect::<Vec<u64>>()
    };

    // §4.13 stored bonds.
    let bonds_u16: Vec<Vec<(u16, u16)>> = (0..n)
        .map(|i| {
            if new_permit[i] {
                let (c, v) = ema_bonds.row(i);
                c.iter()
                    .zip(v)
                    .map(|(&j, &x)| (j, fixed_proportion_to_u16(x)))
                    .collect()
            } else if old_permit[i] {
                Vec::new()
            } else {
                state.bonds[i].clone()
            }
        })
        .collect();

    let u16s = |v: &[I32F32]| v.iter().map(|&x| fixed_proportion_to_u16(x)).collect();
    Ok(EpochOutput {
        stake_u16: u16s(&stake),
        consensus_u16: u16s(&consensus),
        incentive_u16: u16s(&incentive),
        dividends_u16: u16s(&dividends),
        validator_trust_u16: u16s(&validator_trust),
        emission: to_rao(&norm_combined),
        server_emission: to_rao(&norm_server),
        validator_emission: to_rao(&norm_validator),
        active,
        validator_permit: new_permit,
        bonds_u16,
    })
}
