//! The fused epoch engine: the stages of [`crate::generic`] (the chain's sparse
//! `epoch_mechanism`, helper by helper), restructured so that each matrix is walked as few
//! times as possible and the arithmetic runs on plain integers.
//!
//! # Why it is bit-identical
//!
//! Every value is produced from the same operands by the same rounding as in the generic
//! port; what changes is *how* an operation is evaluated, never *what* it computes:
//!
//! * **Proportion domain.** Call `P` the raw I32F32 bit patterns in `[0, 2³²]` (values in
//!   [0, 1]). For `a, b ∈ P` the exact product `a·b ≤ 2⁶⁴` and its floor `(a·b) >> 32 ≤ 2³²`
//!   never saturates, so `mul(a, b)` (an i128 product, arithmetic shift, clamp) equals
//!   [`mulp`] (a u64×u64→u128 product and a shift). The engine only calls [`mulp`] on operands
//!   shown to be in `P`; the guards of [`run_fused`] (checked before any work that depends on
//!   them) return `None` — and [`crate::epoch::run_epoch`] falls back to the generic port —
//!   whenever an input could leave that domain.
//! * **No saturation.** Sums of at most 2³⁰ non-negative terms each below 2³³ stay below 2⁶³,
//!   so saturating and wrapping additions are plain additions, and plain additions are
//!   associative: sums may be taken in any order and fused into other passes. Guard: fewer
//!   than 2²⁹ stored weight and bond entries in total.
//! * **Ranges, stage by stage** (each line relies on the previous ones):
//!   - active stake: checked to lie in `P` (it does whenever stakes are non-negative);
//!   - weights: a row normalized by its sum `S = Σw·2³²` gives `floor(w·2³²/Σw) ∈ P`; guard:
//!     `Σw < 2³¹` per row, so that the wrapping row sum of the chain is the exact sum;
//!   - consensus: a weighted median returns one of the column's scores or 0, so `∈ P`;
//!   - clipped weights `min(w, c)` and their interpolation with the weights (`β ∈ P`) stay in
//!     `P` (`r1 + floor(β·(r2 − r1))` lies between `r1` and `r2`);
//!   - incentive, dividends: normalized non-negative vectors, `∈ P`;
//!   - every column normalization divides a non-negative entry by a column sum that includes
//!     it, so the quotient is in `P`;
//!   - EMA coefficients α and 1 − α: guard `α ∈ P` (bonds_moving_average ≤ 10⁶).
//! * **Divisions** all go through [`Divisor`], which is exactly `safe_div`; the zero-divisor
//!   test of the column normalizations is dropped where a zero divisor implies an all-zero
//!   column ([`divide_by`]).
//! * **Skipped materializations.** Original Yuma with β = 1 never stores the clipped matrix
//!   nor `row_hadamard(clipped, stake)`: their entries are recomputed (one compare, one
//!   multiply) where the EMA reads them, and the hadamard's column sums are the incentive's
//!   raw column sums (`Σ_i mul(s_i, c_ij)`, the same products). The normalized bonds and deltas
//!   are divided on the fly.
//! * **Liquid alpha** ([`liquid_ema_sorted`]) runs on rows with increasing columns, where the
//!   chain's peeking walk sees every entry; other inputs take the generic kernel. The 30-term
//!   `exp` series of memo misses run four at a time (`fixed_math::exp_safe4`).
//!
//! The equivalence is tested on random subnets (unsorted rows, duplicate and out-of-range
//! columns, every hyperparameter) and on bench-sized ones: `epoch::tests`.

use fixed::types::{I32F32, I64F64};

use crate::epoch::{EpochContext, EpochOutput, Hyperparameters, SubnetState};
use crate::fixed_math::{
    add, bonds_moving_average_alpha, fixed_proportion_to_u16, i64f64_to_i32f32, i64f64_to_u64,
    share_of_rao, sum, u16_proportion_to_fixed, Divisor, LiquidAlpha, ONE, ZERO,
};
use crate::sparse::{
    interpolate_sparse, liquid_ema_sparse, weighted_median_col_sparse, SparseMatrix,
};
use crate::vector::{
    inplace_normalize, inplace_normalize_64, inplace_normalize_using_sum, is_topk_nonzero, is_zero,
    vec_mul,
};

/// 1.0 as raw I32F32 bits: the upper end of the proportion domain `P`.
const ONE_BITS: i64 = 1 << 32;

/// At most this many stored weight + bond entries: keeps every sum below 2⁶³ (see above).
const MAX_ENTRIES: usize = 1 << 29;

/// `mul(a, b)` for `a, b ∈ P`: `floor(a·b / 2³²)`, which is at most 2³² and never saturates.
#[inline(always)]
fn mulp(a: i64, b: i64) -> i64 {
    debug_assert!((0..=ONE_BITS).contains(&a) && (0..=ONE_BITS).contains(&b));
    ((a as u64 as u128 * b as u64 as u128) >> 32) as i64
}

/// `fixed_proportion_to_u16(x)` for `x ∈ P`: `to_u16(mul(x, 65535·2³²))`, where the product
/// `x·65535·2³²` is exact, so the result is `floor(x·65535 / 2³²) ≤ 65535`.
#[inline(always)]
fn proportion_to_u16(x: i64) -> u16 {
    debug_assert!((0..=ONE_BITS).contains(&x));
    ((x as u64 * 65535) >> 32) as u16
}

#[inline(always)]
fn in_p(x: i64) -> bool {
    (0..=ONE_BITS).contains(&x)
}

/// Run the epoch on an input whose lengths [`crate::epoch::run_epoch`] has checked; `None`
/// when a range guard fails (the caller then runs the generic port).
pub(crate) fn run_fused(
    hp: &Hyperparameters,
    state: &SubnetState,
    ctx: &EpochContext,
) -> Option<EpochOutput> {
    let n = state.n();
    let total_weights: usize = state.weights.iter().map(Vec::len).sum();
    let total_bonds: usize = state.bonds.iter().map(Vec::len).sum();
    if total_weights.saturating_add(total_bonds) >= MAX_ENTRIES {
        return None;
    }
    // The coefficient of the plain (non-liquid) EMA, checked up front: it leaves P only for
    // bonds_moving_average > 10⁶.
    let alpha = bonds_moving_average_alpha(hp.bonds_moving_average).to_bits();
    if !in_p(alpha) {
        return None;
    }
    let owner = ctx.owner_uid.map(|u| u as usize).filter(|&u| u < n);
    let block = ctx.current_block;

    // §4.1 activity.
    let active: Vec<bool> = state
        .last_update
        .iter()
        .map(|&u| u.saturating_add(hp.activity_cutoff_blocks) >= block)
        .collect();

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
    let mut new_permit = is_topk_nonzero(&stake, hp.max_allowed_validators as usize);
    if let Some(o) = owner {
        new_permit[o] = true;
    }

    // §4.4 active stake (inplace_mask_vector with the inactive and the forbidden masks).
    let mut active_stake: Vec<I32F32> = (0..n)
        .map(|i| {
            if active[i] && old_permit[i] {
                stake[i]
            } else {
                ZERO
            }
        })
        .collect();
    inplace_normalize(&mut active_stake);
    if !active_stake.iter().all(|s| in_p(s.to_bits())) {
        return None;
    }

    // §4.5 weights: load (integers), permit rows, diagonal (owner keeps its own), outdated,
    // commit-reveal; each row is normalized (inplace_row_normalize_sparse) as soon as it is
    // loaded. With Σw < 2³¹ the chain's wrapping row sum is the exact Σw·2³².
    let reg = &state.block_at_registration;
    let weights = load_weights(state, ctx, &old_permit, owner, total_weights)?;

    // §4.6 consensus.
    let kappa = u16_proportion_to_fixed(hp.kappa_u16);
    let consensus = weighted_median_col_sparse(&active_stake, &weights, n, kappa);

    // §4.7 clipping (col_clip_sparse) and validator trust (row_sum_sparse), §4.8 ranks
    // (matmul_sparse), in one row-major pass. Every weight column is < n. The clipped matrix
    // is only stored when a later stage reads it as a matrix; original Yuma with β = 1 (the
    // default) re-derives it on the fly in the bond EMA.
    let beta = u16_proportion_to_fixed(hp.bonds_penalty_u16);
    let clip_on_the_fly = !hp.yuma3 && beta == ONE;
    let store_clipped = beta != ZERO && !clip_on_the_fly;
    let cons = bits(&consensus);
    let clip = |w: i64, j: usize| -> Option<i64> {
        let th = cons[j];
        if th < w {
            (th > 0).then_some(th)
        } else {
            Some(w)
        }
    };
    let (clipped, validator_trust, inc) = clip_pass(&weights, &active_stake, &clip, store_clipped);
    let mut incentive: Vec<I32F32> = inc.iter().map(|&x| I32F32::from_bits(x)).collect();
    // matmul_sparse's column sums Σ_i mul(s_i, clip_ij) before normalization: these are also
    // the column sums of row_hadamard(clipped, active_stake), whose entries are mul(clip_ij, s_i).
    let ranks_raw = inc;
    inplace_normalize(&mut incentive);

    // §4.9 weights for bonds. β = 0 and β = 1 select one of the inputs unchanged.
    let interpolated;
    let wfb: &SparseMatrix = if beta == ZERO {
        &weights
    } else if beta == ONE {
        &clipped // empty (unused) when clipping on the fly
    } else {
        interpolated = interpolate_sparse(&weights, &clipped, n, beta);
        &interpolated
    };

    // §4.10 stored bonds minus recently-registered columns. Bonds on columns ≥ n never reach
    // the outputs (every consumer skips them), and scalar_vec_mask_sparse_matrix reads
    // registration 0 for them.
    let last_tempo = ctx.last_tempo;
    // When every uid registered before `last_tempo`, the mask only drops columns ≥ n.
    let all_old = reg.iter().all(|&r| last_tempo > r);
    let keep_bond = |j: u16| (j as usize) < n && (all_old || last_tempo > reg[j as usize]);
    let one_minus = ONE_BITS - alpha;

    // §5 bonds and dividends.
    let mut dividends: Vec<I32F32>;
    let mut acc = vec![0i64; n];
    let mut bonds_u16: Vec<Vec<(u16, u16)>> = Vec::with_capacity(n);
    let inc = bits(&incentive);
    if hp.yuma3 {
        // Bonds as u16 proportions: safe_div(v·2³², 65535·2³²) = floor(v·2³² / 65535) ∈ P.
        let bond_p = |v: u16| (((v as u64) << 32) / 65535) as i64;
        let liquid = hp.liquid_alpha && consensus.iter().any(|&c| c != ZERO);
        let mut esum = vec![0i64; n];
        let ema_bonds = if liquid {
            let low = u16_proportion_to_fixed(hp.alpha_low_u16);
            let high = u16_proportion_to_fixed(hp.alpha_high_u16);
            let steep = I32F32::from_bits((hp.alpha_sigmoid_steepness as i64) << 32);
            let mut sigmoid = LiquidAlpha::new(low, high, steep);
            match liquid_ema_sorted(
                wfb,
                state,
                &keep_bond,
                &cons,
                &mut sigmoid,
                &mut acc,
                &mut esum,
            ) {
                Some(ema) => ema,
                None => {
                    let mut bonds = SparseMatrix::with_capacity(n, total_bonds);
                    for row in &state.bonds {
                        for &(j, v) in row {
                            if keep_bond(j) {
                                bonds.cols.push(j);
                                bonds.vals.push(I32F32::from_bits(bond_p(v)));
                            }
                        }
                        bonds.end_row();
                    }
                    let sigmoid = std::cell::RefCell::new(sigmoid);
                    let ema = liquid_ema_sparse(wfb, &bonds, &consensus, |c, w, b| {
                        sigmoid.borrow_mut().alpha(c, w, b)
                    });
                    // The liquid EMA is clamped to (0, 1].
                    esum.iter_mut().for_each(|x| *x = 0);
                    for (&j, &v) in ema.cols.iter().zip(&ema.vals) {
                        esum[j as usize] += v.to_bits();
                    }
                    ema
                }
            }
        } else {
            ema_rows(
                &mut acc,
                &mut esum,
                wfb.cols.len().max(total_bonds),
                |i, acc| {
                    let (c, x) = wfb.row(i);
                    for (&j, &w) in c.iter().zip(x) {
                        acc[j as usize] += mulp(alpha, w.to_bits());
                    }
                    !c.is_empty()
                },
                |i, acc| {
                    let row = &state.bonds[i];
                    for &(j, v) in row {
                        if keep_bond(j) {
                            acc[j as usize] += mulp(one_minus, bond_p(v));
                        }
                    }
                    !row.is_empty()
                },
            )
        };
        // row_sum_sparse(mat_vec_mul_sparse(col_normalize(ema), incentive)). The EMA values
        // are positive; divided by their column sums they are in P.
        let div = column_divisors(&esum);
        let per_validator: Vec<I32F32> = (0..n)
            .map(|i| {
                let (c, x) = ema_bonds.row(i);
                let mut t = 0i64;
                for (&j, &b) in c.iter().zip(x) {
                    let ju = j as usize;
                    let b = divide_by_column(&div, ju, b.to_bits());
                    t += mulp(b, inc[ju]);
                }
                I32F32::from_bits(t)
            })
            .collect();
        dividends = vec_mul(&per_validator, &active_stake);
        inplace_normalize(&mut dividends);
        for i in 0..n {
            bonds_u16.push(if new_permit[i] {
                let (c, v) = ema_bonds.row(i);
                c.iter()
                    .zip(v)
                    .map(|(&j, &x)| (j, fixed_proportion_to_u16(x)))
                    .collect()
            } else if old_permit[i] {
                Vec::new()
            } else {
                state.bonds[i].clone()
            });
        }
    } else {
        // Bonds as integers (from_u64), column-normalized (inplace_col_normalize_sparse) on the
        // fly. The column sums are taken on the u16 values; below 2³¹ they are the chain's
        // saturating sums of v·2³² exactly.
        let mut bsum = vec![0u64; n];
        for row in &state.bonds {
            for &(j, v) in row {
                if keep_bond(j) {
                    bsum[j as usize] += v as u64;
                }
            }
        }
        if bsum.iter().any(|&s| s >= 1 << 31) {
            return None;
        }
        let bond_div: Vec<Divisor> = bsum
            .iter()
            .map(|&s| Divisor::new(I32F32::from_bits((s as i64) << 32)))
            .collect();
        // delta = row_hadamard(weights_for_bonds, active_stake), column-normalized on the fly:
        // first its column sums.
        let delta_sum = if clip_on_the_fly {
            ranks_raw // weights_for_bonds = clipped: the ranks' column sums (see above)
        } else {
            let mut delta_sum = vec![0i64; n];
            for (i, &s) in active_stake.iter().enumerate() {
                let s = s.to_bits();
                let (c, x) = wfb.row(i);
                for (&j, &w) in c.iter().zip(x) {
                    delta_sum[j as usize] += mulp(w.to_bits(), s);
                }
            }
            delta_sum
        };
        // Everything the EMA reads per column, packed (one bounds check per entry).
        let ecols: Vec<EmaColumn> = (0..n)
            .map(|j| EmaColumn {
                cons: cons[j],
                delta: Divisor::new(I32F32::from_bits(delta_sum[j])),
                bond: bond_div[j],
            })
            .collect();
        let mut esum = delta_sum;
        esum.iter_mut().for_each(|x| *x = 0);
        let mut ema = ema_rows(
            &mut acc,
            &mut esum,
            weights.cols.len().max(total_bonds),
            |i, acc| {
                let s = active_stake[i].to_bits();
                let acc = &mut acc[..n];
                if clip_on_the_fly {
                    let (c, x) = weights.row(i);
                    for (&j, &w) in c.iter().zip(x) {
                        let ju = j as usize;
                        let col = &ecols[ju];
                        let (th, w) = (col.cons, w.to_bits());
                        // clip(w, j), see above.
                        let v = if th < w {
                            if th > 0 {
                                th
                            } else {
                                continue;
                            }
                        } else {
                            w
                        };
                        acc[ju] += mulp(alpha, divide_by(&col.delta, mulp(v, s)));
                    }
                    // A superset of the clipped row's entries (clipping may drop some).
                    !c.is_empty()
                } else {
                    let (c, x) = wfb.row(i);
                    for (&j, &w) in c.iter().zip(x) {
                        let ju = j as usize;
                        let d = divide_by(&ecols[ju].delta, mulp(w.to_bits(), s));
                        acc[ju] += mulp(alpha, d);
                    }
                    !c.is_empty()
                }
            },
            |i, acc| {
                let row = &state.bonds[i];
                let acc = &mut acc[..n];
                for &(j, v) in row {
                    if keep_bond(j) {
                        let ju = j as usize;
                        let b = divide_by(&ecols[ju].bond, (v as i64) << 32);
                        acc[ju] += mulp(one_minus, b);
                    }
                }
                !row.is_empty()
            },
        );
        // ema ← col_normalize(ema); dividends = matmul_transpose(ema, incentive); the column
        // maxima for inplace_col_max_upscale_sparse, all in one pass.
        let (col_max, dividends_raw) = normalize_ema(&mut ema, &esum, &inc, acc);
        dividends = dividends_raw;
        inplace_normalize(&mut dividends);
        // Max-upscale (inplace_col_max_upscale_sparse) and store only the rows that keep bonds.
        bonds_u16 = store_original_bonds(&ema, &col_max, state, &new_permit, &old_permit);
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

    let u16s = |v: &[I32F32]| v.iter().map(|&x| fixed_proportion_to_u16(x)).collect();
    Some(EpochOutput {
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

/// §4.5: the permitted rows' weights, filtered and row-normalized; `None` if a row's weights
/// sum to 2³¹ or more (see the module notes).
#[inline(never)]
fn load_weights(
    state: &SubnetState,
    ctx: &EpochContext,
    old_permit: &[bool],
    owner: Option<usize>,
    total_weights: usize,
) -> Option<SparseMatrix> {
    let n = state.n();
    let reg = &state.block_at_registration;
    let max_reg = reg.iter().copied().max().unwrap_or(0);
    let mut weights = SparseMatrix::with_capacity(n, total_weights);
    for (i, row) in state.weights.iter().enumerate() {
        if old_permit[i] {
            let lu = state.last_update[i];
            let cb = ctx.commit_blocks.as_ref().map(|c| c[i]);
            if lu > max_reg && cb.is_none_or(|cb| cb >= max_reg) {
                // Neither the outdated nor the commit-reveal mask can drop an entry of this
                // row: only columns ≥ n and the diagonal go. The kept runs between them are
                // copied in bulk, already divided by the row sum.
                let drop = |j: u16| (j as usize) >= n || (j as usize == i && owner != Some(i));
                let s: u64 = row
                    .iter()
                    .map(|&(j, w)| if drop(j) { 0 } else { w as u64 })
                    .sum();
                if s >= 1 << 31 {
                    return None;
                }
                let d = Divisor::new(I32F32::from_bits((s as i64) << 32));
                let mut copy = |seg: &[(u16, u16)]| {
                    weights.cols.extend(seg.iter().map(|e| e.0));
                    if s > 0 {
                        weights.vals.extend(
                            seg.iter()
                                .map(|e| d.safe_div(I32F32::from_bits((e.1 as i64) << 32))),
                        );
                    } else {
                        // All kept weights are 0 (from_u64(0) = 0).
                        weights.vals.extend(seg.iter().map(|_| ZERO));
                    }
                };
                let mut from = 0usize;
                for (p, &(j, _)) in row.iter().enumerate() {
                    if drop(j) {
                        copy(&row[from..p]);
                        from = p + 1;
                    }
                }
                copy(&row[from..]);
                weights.end_row();
                continue;
            }
            let start = weights.cols.len();
            let mut s = 0u64;
            for &(j, w) in row {
                let ju = j as usize;
                if ju >= n {
                    continue; // get_weights_sparse filters uid_j < n
                }
                if ju == i && owner != Some(i) {
                    continue;
                }
                let r = reg[ju];
                if lu <= r {
                    continue;
                }
                if let Some(cb) = cb {
                    if cb < r {
                        continue;
                    }
                }
                s += w as u64;
                weights.cols.push(j);
                // from_u64(w) is exactly w·2³² for a u16.
                weights.vals.push(I32F32::from_bits((w as i64) << 32));
            }
            if s >= 1 << 31 {
                return None;
            }
            if s > 0 {
                let d = Divisor::new(I32F32::from_bits((s as i64) << 32));
                for v in &mut weights.vals[start..] {
                    *v = d.safe_div(*v);
                }
            }
        }
        weights.end_row();
    }

    Some(weights)
}

/// §4.7–4.8 in one pass: the clipped weights (stored only if `store`), validator trust and
/// the unnormalized incentive (raw bits).
#[inline(never)]
fn clip_pass(
    weights: &SparseMatrix,
    active_stake: &[I32F32],
    clip: &impl Fn(i64, usize) -> Option<i64>,
    store_clipped: bool,
) -> (SparseMatrix, Vec<I32F32>, Vec<i64>) {
    let n = active_stake.len();
    let mut clipped =
        SparseMatrix::with_capacity(n, if store_clipped { weights.cols.len() } else { 0 });
    let mut validator_trust = Vec::with_capacity(n);
    let mut inc = vec![0i64; n];
    for (i, &s) in active_stake.iter().enumerate() {
        let s = s.to_bits();
        let (c, x) = weights.row(i);
        let mut t = 0i64;
        for (&j, &w) in c.iter().zip(x) {
            let ju = j as usize;
            let Some(v) = clip(w.to_bits(), ju) else {
                continue;
            };
            if store_clipped {
                clipped.cols.push(j);
                clipped.vals.push(I32F32::from_bits(v));
            }
            t += v;
            inc[ju] += mulp(s, v);
        }
        validator_trust.push(I32F32::from_bits(t));
        if store_clipped {
            clipped.end_row();
        }
    }
    (clipped, validator_trust, inc)
}

/// Original Yuma after the EMA: `ema ← col_normalize(ema)`, the dividends
/// `matmul_transpose(ema, incentive)` and the column maxima of the normalized EMA (for
/// `inplace_col_max_upscale_sparse`), in one pass. `col_max` is an all-zero scratch row.
#[inline(never)]
fn normalize_ema(
    ema: &mut SparseMatrix,
    esum: &[i64],
    inc: &[i64],
    acc: Vec<i64>,
) -> (Vec<i64>, Vec<I32F32>) {
    let n = esum.len();
    let mut dividends: Vec<I32F32>;
    let ema_div = column_divisors(esum);
    let mut col_max = acc;
    dividends = Vec::with_capacity(n);
    for i in 0..n {
        let (a, b) = (ema.offsets[i], ema.offsets[i + 1]);
        let mut t = 0i64;
        for (&j, x) in ema.cols[a..b].iter().zip(&mut ema.vals[a..b]) {
            let ju = j as usize;
            let e = divide_by_column(&ema_div, ju, x.to_bits());
            *x = I32F32::from_bits(e);
            t += mulp(inc[ju], e);
            let m = &mut col_max[ju];
            if *m < e {
                *m = e;
            }
        }
        dividends.push(I32F32::from_bits(t));
    }
    (col_max, dividends)
}

/// §4.13 for original Yuma: max-upscale (`inplace_col_max_upscale_sparse`) the rows that keep
/// bonds and encode them; cleared rows and untouched rows as the chain stores them.
#[inline(never)]
fn store_original_bonds(
    ema: &SparseMatrix,
    col_max: &[i64],
    state: &SubnetState,
    new_permit: &[bool],
    old_permit: &[bool],
) -> Vec<Vec<(u16, u16)>> {
    let n = col_max.len();
    let mut bonds_u16 = Vec::with_capacity(n);
    let max_div = column_divisors(col_max);
    for i in 0..n {
        bonds_u16.push(if new_permit[i] {
            let (c, v) = ema.row(i);
            c.iter()
                .zip(v)
                .map(|(&j, &x)| {
                    let ju = j as usize;
                    (
                        j,
                        proportion_to_u16(divide_by_column(&max_div, ju, x.to_bits())),
                    )
                })
                .collect()
        } else if old_permit[i] {
            Vec::new()
        } else {
            state.bonds[i].clone()
        });
    }

    bonds_u16
}

/// The raw bits of a vector (I32F32 is a transparent i64).
fn bits(v: &[I32F32]) -> Vec<i64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// `liquid_ema_sparse` (liquid_alpha_matrix_sparse + mat_ema_alpha_sparse) when every weight
/// row and every loaded bond row has strictly increasing columns, with weights and bonds in
/// `P`; `None` (nothing computed) otherwise. Sorted rows make the chain's peeking walk see
/// every entry, so for a weight entry `(j, w)` the walk's weight is `w` and its bond is the
/// row's bond on column `j`, or 0 if there is none — and an absent bond also decays to 0, like
/// a stored 0. α is clamped to `[low, high] ⊂ P` (or is `low`), so `1 − α ∈ P` and
/// `max(α·w, 0) = α·w`; the kept value `min(1, (1 − α)·b + α·w)` is in `P` and its column
/// sum is added to `esum`. `acc` is an all-zero scratch row of width n (left all zero).
#[inline(never)]
fn liquid_ema_sorted(
    wfb: &SparseMatrix,
    state: &SubnetState,
    keep_bond: &impl Fn(u16) -> bool,
    cons: &[i64],
    sigmoid: &mut LiquidAlpha,
    acc: &mut [i64],
    esum: &mut [i64],
) -> Option<SparseMatrix> {
    let n = acc.len();
    let increasing = |c: &[u16]| c.windows(2).all(|p| p[0] < p[1]);
    if !(0..n).all(|i| increasing(wfb.row(i).0)) {
        return None;
    }
    let mut last = 0u16;
    for row in &state.bonds {
        let mut first = true;
        for &(j, _) in row {
            if keep_bond(j) {
                if !first && j <= last {
                    return None;
                }
                first = false;
                last = j;
            }
        }
    }
    // Pass 1: each entry's bond and α. Memo misses are batched four at a time so that their
    // exp series run interleaved (exp_safe4); α is a pure function of the key, so the memo
    // and the batching only change when it is computed.
    let nnz = wfb.cols.len();
    let mut bond_of = Vec::with_capacity(nnz);
    let mut alpha_of = vec![0i64; nnz];
    let mut pending = [(0i64, 0usize); 4];
    let mut npending = 0usize;
    let flush = |sigmoid: &mut LiquidAlpha, pending: &[(i64, usize)], alpha_of: &mut [i64]| {
        let mut keys = [0i64; 4];
        for (k, p) in keys.iter_mut().zip(pending) {
            *k = p.0;
        }
        let e = crate::fixed_math::exp_safe4(keys);
        for (&(key, at), &e) in pending.iter().zip(&e) {
            let a = sigmoid.alpha_from_exp(e);
            sigmoid.insert(key, a);
            alpha_of[at] = a.to_bits();
        }
    };
    for i in 0..n {
        let (wc, wv) = wfb.row(i);
        if wc.is_empty() {
            continue;
        }
        let bonds = &state.bonds[i];
        for &(j, v) in bonds {
            if keep_bond(j) {
                acc[j as usize] = (((v as u64) << 32) / 65535) as i64;
            }
        }
        let base = wfb.offsets[i];
        for (e, (&j, &w)) in wc.iter().zip(wv).enumerate() {
            let ju = j as usize;
            let b = acc[ju];
            bond_of.push(b);
            let key = sigmoid.key(I32F32::from_bits(cons[ju]), w, I32F32::from_bits(b));
            match sigmoid.lookup(key) {
                Some(a) => alpha_of[base + e] = a.to_bits(),
                None => {
                    pending[npending] = (key, base + e);
                    npending += 1;
                    if npending == 4 {
                        flush(sigmoid, &pending, &mut alpha_of);
                        npending = 0;
                    }
                }
            }
        }
        for &(j, _) in bonds {
            if let Some(cell) = acc.get_mut(j as usize) {
                *cell = 0;
            }
        }
    }
    if npending > 0 {
        flush(sigmoid, &pending[..npending], &mut alpha_of);
    }
    // Pass 2: the EMA values (entries of empty rows are absent from bond_of: none exist).
    let mut out = SparseMatrix::with_capacity(n, nnz);
    let mut e = 0usize;
    for i in 0..n {
        let (wc, wv) = wfb.row(i);
        for (&j, &w) in wc.iter().zip(wv) {
            let (a, b) = (alpha_of[e], bond_of[e]);
            e += 1;
            let v = (mulp(ONE_BITS - a, b) + mulp(a, w.to_bits())).min(ONE_BITS);
            if v > 0 {
                out.cols.push(j);
                out.vals.push(I32F32::from_bits(v));
                esum[j as usize] += v;
            }
        }
        out.end_row();
    }
    Some(out)
}

fn column_divisors(s: &[i64]) -> Vec<Divisor> {
    s.iter()
        .map(|&x| Divisor::new(I32F32::from_bits(x)))
        .collect()
}

/// Per-column inputs of the original-Yuma EMA: the consensus (clipping threshold) and the
/// column divisors of the delta and bond normalizations.
#[derive(Clone, Copy)]
struct EmaColumn {
    cons: i64,
    delta: Divisor,
    bond: Divisor,
}

/// An entry of `divide_by_columns` with its column's divisor: `safe_div(v, sum)`, or `v`
/// unchanged when the column's divisor (its sum or maximum) is zero.
///
/// Every column divided here has non-negative entries, and the divisor is their sum or
/// their maximum; so a zero divisor means every entry of the column is 0, and then
/// `safe_div(0, 0) = 0 = v`. The zero test of the chain's helpers can therefore be skipped.
#[inline(always)]
fn divide_by(d: &Divisor, v: i64) -> i64 {
    debug_assert!(v >= 0 && (!d.is_zero() || v == 0));
    d.safe_div(I32F32::from_bits(v)).to_bits()
}

/// [`divide_by`] with the divisor of column `j`.
#[inline(always)]
fn divide_by_column(d: &[Divisor], j: usize, v: i64) -> i64 {
    divide_by(&d[j], v)
}

/// `mat_ema_sparse(new', old', alpha)` over n rows: per row, `new_row` adds `alpha·new'_ij`
/// and `old_row` adds `(1 − alpha)·old'_ij` into the dense scratch row `acc` (all zero, width
/// n, left all zero); the positive cells are kept in column order and added into `esum` (the
/// EMA's column sums, for the normalization that follows). With every term non-negative and
/// no saturation, accumulating in the rows' own order is the chain's saturating sum. A row
/// whose inputs are both empty leaves `acc` zero and so keeps no cell, as in the chain; the
/// closures return whether they added anything, to skip the scan of such rows.
#[inline(never)]
fn ema_rows(
    acc: &mut [i64],
    esum: &mut [i64],
    capacity: usize,
    mut new_row: impl FnMut(usize, &mut [i64]) -> bool,
    mut old_row: impl FnMut(usize, &mut [i64]) -> bool,
) -> SparseMatrix {
    let n = acc.len();
    let esum = &mut esum[..n];
    let mut out = SparseMatrix::with_capacity(n, capacity);
    for i in 0..n {
        // Both closures run; a row neither touched has an all-zero `acc` and keeps nothing.
        let touched_new = new_row(i, acc);
        let touched_old = old_row(i, acc);
        if !(touched_new || touched_old) {
            out.end_row();
            continue;
        }
        for ((j, cell), s) in acc.iter_mut().enumerate().zip(esum.iter_mut()) {
            let v = *cell;
            *cell = 0;
            if v > 0 {
                out.cols.push(j as u16);
                out.vals.push(I32F32::from_bits(v));
                *s += v;
            }
        }
        out.end_row();
    }
    out
}
