//! Sparse-matrix helpers of `pallets/subtensor/src/epoch/math.rs`, on a compressed-row layout.
//!
//! The chain stores rows as `Vec<Vec<(u16, I32F32)>>`. Here a matrix is one flat buffer of
//! `(column, value)` entries plus row offsets, which keeps a 256 × 256 epoch free of per-row
//! allocations. Entry order inside a row is preserved exactly as the chain would keep it,
//! because a few functions (liquid alpha's peeking walk, `mat_ema_alpha_sparse`) depend on it.
//! Each function names the `math.rs` function it mirrors.

use fixed::types::I32F32;

use crate::fixed_math::{add, mul, sub, sum, Divisor, ZERO};

/// A row-major sparse matrix of I32F32 values (`Vec<Vec<(u16, I32F32)>>` in subtensor).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SparseMatrix {
    pub(crate) offsets: Vec<usize>,
    pub(crate) cols: Vec<u16>,
    pub(crate) vals: Vec<I32F32>,
}

impl SparseMatrix {
    /// An empty matrix with no rows, room reserved for `rows` rows and `entries` entries.
    pub fn with_capacity(rows: usize, entries: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        SparseMatrix {
            offsets,
            cols: Vec::with_capacity(entries),
            vals: Vec::with_capacity(entries),
        }
    }

    /// Build from nested rows.
    pub fn from_rows<R: AsRef<[(u16, I32F32)]>>(rows: &[R]) -> Self {
        let mut m = Self::with_capacity(rows.len(), rows.iter().map(|r| r.as_ref().len()).sum());
        for r in rows {
            for &(j, v) in r.as_ref() {
                m.push(j, v);
            }
            m.end_row();
        }
        m
    }

    /// Nested rows (for inspection and tests).
    pub fn to_rows(&self) -> Vec<Vec<(u16, I32F32)>> {
        (0..self.rows())
            .map(|i| {
                let (c, v) = self.row(i);
                c.iter().copied().zip(v.iter().copied()).collect()
            })
            .collect()
    }

    /// Append an entry to the row under construction.
    #[inline]
    pub fn push(&mut self, col: u16, val: I32F32) {
        self.cols.push(col);
        self.vals.push(val);
    }

    /// Close the row under construction.
    #[inline]
    pub fn end_row(&mut self) {
        self.offsets.push(self.cols.len());
    }

    /// Number of rows.
    #[inline]
    pub fn rows(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Columns and values of row `i`.
    #[inline]
    pub fn row(&self, i: usize) -> (&[u16], &[I32F32]) {
        let (a, b) = (self.offsets[i], self.offsets[i + 1]);
        (&self.cols[a..b], &self.vals[a..b])
    }

    #[inline]
    fn row_mut(&mut self, i: usize) -> (&[u16], &mut [I32F32]) {
        let (a, b) = (self.offsets[i], self.offsets[i + 1]);
        (&self.cols[a..b], &mut self.vals[a..b])
    }

    /// Keep the entries for which `keep(row, col, value)` holds, in order. This one routine
    /// covers `mask_rows_sparse`, `mask_diag_sparse`, `mask_diag_sparse_except_index`,
    /// `vec_mask_sparse_matrix` and `scalar_vec_mask_sparse_matrix`.
    pub fn filter(&self, mut keep: impl FnMut(usize, u16, I32F32) -> bool) -> SparseMatrix {
        let mut out = SparseMatrix::with_capacity(self.rows(), self.cols.len());
        for i in 0..self.rows() {
            let (c, v) = self.row(i);
            for (&j, &x) in c.iter().zip(v) {
                if keep(i, j, x) {
                    out.push(j, x);
                }
            }
            out.end_row();
        }
        out
    }

    /// Map every value in place.
    pub fn map_values(&mut self, mut f: impl FnMut(usize, u16, I32F32) -> I32F32) {
        for i in 0..self.rows() {
            let (c, v) = self.row_mut(i);
            for (&j, x) in c.iter().zip(v.iter_mut()) {
                *x = f(i, j, *x);
            }
        }
    }
}

/// `inplace_row_normalize_sparse`: divide each row by its sum when the sum is positive.
pub fn inplace_row_normalize_sparse(m: &mut SparseMatrix) {
    for i in 0..m.rows() {
        let (_, v) = m.row_mut(i);
        let s = sum(v.iter().copied());
        if s > ZERO {
            let d = Divisor::new(s);
            v.iter_mut().for_each(|x| *x = d.safe_div(*x));
        }
    }
}

/// `row_sum_sparse`.
pub fn row_sum_sparse(m: &SparseMatrix) -> Vec<I32F32> {
    (0..m.rows())
        .map(|i| sum(m.row(i).1.iter().copied()))
        .collect()
}

/// `col_sum` over a sparse matrix: column sums, ignoring columns ≥ `columns`.
fn col_sums(m: &SparseMatrix, columns: usize) -> Vec<I32F32> {
    let mut s = vec![ZERO; columns];
    for (&j, &v) in m.cols.iter().zip(&m.vals) {
        if let Some(c) = s.get_mut(j as usize) {
            *c = add(*c, v);
        }
    }
    s
}

/// `inplace_col_normalize_sparse`: divide each entry by its column sum when that sum is non-zero.
pub fn inplace_col_normalize_sparse(m: &mut SparseMatrix, columns: usize) {
    let d: Vec<Divisor> = col_sums(m, columns).into_iter().map(Divisor::new).collect();
    divide_by_columns(m, &d);
}

/// Divide every entry by its column's divisor, skipping zero divisors and columns past `d`.
fn divide_by_columns(m: &mut SparseMatrix, d: &[Divisor]) {
    for (&j, v) in m.cols.iter().zip(m.vals.iter_mut()) {
        if let Some(d) = d.get(j as usize) {
            if !d.is_zero() {
                *v = d.safe_div(*v);
            }
        }
    }
}

/// `inplace_col_max_upscale_sparse`: divide each entry by its column maximum when non-zero.
pub fn inplace_col_max_upscale_sparse(m: &mut SparseMatrix, columns: usize) {
    let mut mx = vec![ZERO; columns];
    for (&j, &v) in m.cols.iter().zip(&m.vals) {
        if let Some(c) = mx.get_mut(j as usize) {
            if *c < v {
                *c = v;
            }
        }
    }
    let d: Vec<Divisor> = mx.into_iter().map(Divisor::new).collect();
    divide_by_columns(m, &d);
}

/// `row_sum_sparse(mat_vec_mul_sparse(col_normalized(m), v))` without materializing the
/// normalized matrix: `r_i = Σ_j (m_ij / colsum_j) · v_j`, columns with a zero sum left as is.
pub fn row_sum_of_col_normalized_mat_vec_mul_sparse(
    m: &SparseMatrix,
    columns: usize,
    v: &[I32F32],
) -> Vec<I32F32> {
    let d: Vec<Divisor> = col_sums(m, columns).into_iter().map(Divisor::new).collect();
    (0..m.rows())
        .map(|i| {
            let (c, x) = m.row(i);
            let mut acc = 0i64;
            for (&j, &b) in c.iter().zip(x) {
                let ju = j as usize;
                let Some(&vj) = v.get(ju) else { continue };
                let b = match d.get(ju) {
                    Some(d) if !d.is_zero() => d.safe_div(b),
                    _ => b,
                };
                acc = acc.wrapping_add(mul(b, vj).to_bits());
            }
            I32F32::from_bits(acc)
        })
        .collect()
}

/// `matmul_sparse`: `r_j = Σ_i v_i · m_ij` (each product floored).
pub fn matmul_sparse(m: &SparseMatrix, v: &[I32F32], columns: usize) -> Vec<I32F32> {
    let mut r = vec![ZERO; columns];
    for i in 0..m.rows() {
        let s = v.get(i).copied().unwrap_or(ZERO);
        let (c, x) = m.row(i);
        for (&j, &w) in c.iter().zip(x) {
            if let Some(cell) = r.get_mut(j as usize) {
                *cell = add(*cell, mul(s, w));
            }
        }
    }
    r
}

/// `matmul_transpose_sparse`: `r_i = Σ_j v_j · m_ij`.
pub fn matmul_transpose_sparse(m: &SparseMatrix, v: &[I32F32]) -> Vec<I32F32> {
    (0..m.rows())
        .map(|i| {
            let (c, x) = m.row(i);
            sum(c
                .iter()
                .zip(x)
                .map(|(&j, &b)| mul(v.get(j as usize).copied().unwrap_or(ZERO), b)))
        })
        .collect()
}

/// `row_sum_sparse(mat_vec_mul_sparse(m, v))`: `r_i = Σ_j m_ij · v_j`. `mat_vec_mul_sparse`
/// drops zero products, which does not change the sums.
pub fn row_sum_of_mat_vec_mul_sparse(m: &SparseMatrix, v: &[I32F32]) -> Vec<I32F32> {
    (0..m.rows())
        .map(|i| {
            let (c, x) = m.row(i);
            sum(c
                .iter()
                .zip(x)
                .filter_map(|(&j, &b)| v.get(j as usize).map(|&vj| mul(b, vj))))
        })
        .collect()
}

/// `row_hadamard_sparse`: `m_ij · v_i`.
pub fn row_hadamard_sparse(m: &SparseMatrix, v: &[I32F32]) -> SparseMatrix {
    let mut out = m.clone();
    inplace_row_hadamard_sparse(&mut out, v);
    out
}

/// [`row_hadamard_sparse`] in place.
pub fn inplace_row_hadamard_sparse(m: &mut SparseMatrix, v: &[I32F32]) {
    for i in 0..m.rows() {
        let s = v.get(i).copied().unwrap_or(ZERO);
        let (_, x) = m.row_mut(i);
        x.iter_mut().for_each(|x| *x = mul(*x, s));
    }
}

/// `col_clip_sparse`: `min(w_ij, c_j)`, except that an entry above a zero (or negative)
/// threshold is removed instead of stored as 0.
pub fn col_clip_sparse(m: &SparseMatrix, threshold: &[I32F32]) -> SparseMatrix {
    let mut out = SparseMatrix::with_capacity(m.rows(), m.cols.len());
    for i in 0..m.rows() {
        let (c, x) = m.row(i);
        for (&j, &w) in c.iter().zip(x) {
            let th = threshold.get(j as usize).copied().unwrap_or(ZERO);
            if th < w {
                if th > ZERO {
                    out.push(j, th);
                }
            } else {
                out.push(j, w);
            }
        }
        out.end_row();
    }
    out
}

/// `interpolate_sparse`: `a + ratio·(b − a)` with the ratio = 0 / 1 shortcuts; otherwise every
/// row is densified and only strictly positive results are kept (in column order).
pub fn interpolate_sparse(
    a: &SparseMatrix,
    b: &SparseMatrix,
    columns: usize,
    ratio: I32F32,
) -> SparseMatrix {
    if ratio == ZERO {
        return a.clone();
    }
    if ratio == crate::fixed_math::ONE {
        return b.clone();
    }
    let mut out = SparseMatrix::with_capacity(a.rows(), a.cols.len());
    let mut r1 = vec![ZERO; columns];
    let mut r2 = vec![ZERO; columns];
    for i in 0..a.rows() {
        r1.iter_mut().for_each(|x| *x = ZERO);
        r2.iter_mut().for_each(|x| *x = ZERO);
        let (c, x) = a.row(i);
        for (&j, &v) in c.iter().zip(x) {
            if let Some(e) = r1.get_mut(j as usize) {
                *e = v;
            }
        }
        if i < b.rows() {
            let (c, x) = b.row(i);
            for (&j, &v) in c.iter().zip(x) {
                if let Some(e) = r2.get_mut(j as usize) {
                    *e = v;
                }
            }
        }
        for j in 0..columns {
            let v = add(r1[j], mul(ratio, sub(r2[j], r1[j])));
            if ZERO < v {
                out.push(j as u16, v);
            }
        }
        out.end_row();
    }
    out
}

/// `mat_ema_sparse`: `alpha·new + (1−alpha)·old`, densified per row, positives kept in column
/// order.
pub fn mat_ema_sparse(new: &SparseMatrix, old: &SparseMatrix, alpha: I32F32) -> SparseMatrix {
    let n = new.rows();
    let one_minus = sub(crate::fixed_math::ONE, alpha);
    let mut out = SparseMatrix::with_capacity(n, new.cols.len().max(old.cols.len()));
    let mut acc = vec![ZERO; n];
    for i in 0..n {
        let (nc, nv) = new.row(i);
        let (oc, ov) = if i < old.rows() {
            old.row(i)
        } else {
            (&[][..], &[][..])
        };
        if nc.is_empty() && oc.is_empty() {
            out.end_row();
            continue;
        }
        for (&j, &v) in nc.iter().zip(nv) {
            if let Some(cell) = acc.get_mut(j as usize) {
                *cell = add(*cell, mul(alpha, v));
            }
        }
        for (&j, &v) in oc.iter().zip(ov) {
            if let Some(cell) = acc.get_mut(j as usize) {
                *cell = add(*cell, mul(one_minus, v));
            }
        }
        // Columns are u16 (the chain's densified rows have n ≤ 65535 entries).
        for (j, cell) in acc.iter_mut().enumerate() {
            if *cell > ZERO {
                out.cols.push(j as u16);
                out.vals.push(*cell);
                *cell = ZERO;
            } else if *cell != ZERO {
                *cell = ZERO;
            }
        }
        out.end_row();
    }
    out
}

/// The liquid-alpha EMA of the sparse path: `liquid_alpha_matrix_sparse` followed by
/// `mat_ema_alpha_sparse`, fused so that α is only evaluated where it is used.
///
/// For each row, `liquid_alpha_matrix_sparse` walks columns 0..n with two peeking iterators
/// over the weight and bond rows (so an entry is only "seen" if the rows are in ascending
/// order up to it); `mat_ema_alpha_sparse` then emits, **only for columns present in the
/// weights row**, `min(1, (1−α)·b + max(α·w, 0))` when positive. A bond whose column is absent
/// from the weights row is dropped — the sparse quirk of spec §5.3.
pub fn liquid_ema_sparse(
    weights: &SparseMatrix,
    bonds: &SparseMatrix,
    consensus: &[I32F32],
    alpha: impl Fn(I32F32, I32F32, I32F32) -> I32F32,
) -> SparseMatrix {
    let n = consensus.len();
    let one = crate::fixed_math::ONE;
    let mut out = SparseMatrix::with_capacity(weights.rows(), weights.cols.len());
    // Per-column values as the peeking walk sees them, and the decayed old bonds.
    let mut seen_w = vec![ZERO; n];
    let mut seen_b = vec![ZERO; n];
    let mut decayed_src: Vec<Option<I32F32>> = vec![None; n];
    let mut touched_w = Vec::with_capacity(n);
    let mut touched_b = Vec::with_capacity(n);
    for i in 0..weights.rows() {
        let (wc, wv) = weights.row(i);
        if wc.is_empty() {
            out.end_row();
            continue;
        }
        let (bc, bv) = if i < bonds.rows() {
            bonds.row(i)
        } else {
            (&[][..], &[][..])
        };
        peek_walk(wc, wv, n, &mut seen_w, &mut touched_w);
        peek_walk(bc, bv, n, &mut seen_b, &mut touched_b);
        // mat_ema_alpha_sparse: decayed[j] = (1 − α_j)·old_ij, last entry wins.
        for (&j, &b) in bc.iter().zip(bv) {
            if let Some(cell) = decayed_src.get_mut(j as usize) {
                *cell = Some(b);
            }
        }
        for (&j, &w) in wc.iter().zip(wv) {
            let ju = j as usize;
            if ju >= n {
                continue;
            }
            let a = alpha(consensus[ju], seen_w[ju], seen_b[ju]);
            let decayed = match decayed_src[ju] {
                Some(b) => mul(sub(one, a), b),
                None => ZERO,
            };
            let inc = mul(a, w).max(ZERO);
            let v = add(decayed, inc).min(one);
            if v > ZERO {
                out.push(j, v);
            }
        }
        out.end_row();
        for &j in touched_w.iter() {
            seen_w[j] = ZERO;
        }
        for &j in touched_b.iter() {
            seen_b[j] = ZERO;
        }
        for &j in bc {
            if let Some(cell) = decayed_src.get_mut(j as usize) {
                *cell = None;
            }
        }
    }
    out
}

/// Replays the peeking walk of `liquid_alpha_matrix_sparse` over one row: for j = 0..n, skip
/// entries with column < j, and take the value of the next entry if its column equals j.
/// Writes the seen values into `seen` and the columns written (to reset them) into `touched`.
fn peek_walk(
    cols: &[u16],
    vals: &[I32F32],
    n: usize,
    seen: &mut [I32F32],
    touched: &mut Vec<usize>,
) {
    touched.clear();
    let mut p = 0usize;
    // Jump straight between entry columns instead of stepping j one by one: the walk only
    // advances past entries whose column is below the current j.
    let mut j = 0usize;
    while j < n && p < cols.len() {
        let c = cols[p] as usize;
        if c < j {
            p += 1;
            continue;
        }
        if c == j {
            seen[j] = vals[p];
            touched.push(j);
            // The iterator is not advanced on a match; the next j skips it.
            j += 1;
            continue;
        }
        // c > j: nothing for columns j..c; resume at c.
        j = c;
    }
}

/// `weighted_median` (iterative mid-pivot partition search). `stake` and `score` are indexed
/// by the entries of `partition`.
pub fn weighted_median(
    stake: &[I32F32],
    score: &[I32F32],
    partition: &[usize],
    minority: I32F32,
    mut lo: I32F32,
    mut hi: I32F32,
    scratch: &mut MedianScratch,
) -> I32F32 {
    let cur = &mut scratch.cur;
    cur.clear();
    cur.extend_from_slice(partition);
    let limit = partition.len();
    let mut iterations = 0usize;
    loop {
        let n = cur.len();
        if n == 0 {
            return ZERO;
        }
        if n == 1 {
            return score.get(cur[0]).copied().unwrap_or(ZERO);
        }
        let pivot = score.get(cur[n / 2]).copied().unwrap_or(ZERO);
        let mut lo_stake = ZERO;
        let mut hi_stake = ZERO;
        scratch.lower.clear();
        scratch.upper.clear();
        for &idx in cur.iter() {
            let s = score.get(idx).copied().unwrap_or(ZERO);
            if s == pivot {
                continue;
            }
            if s < pivot {
                lo_stake = add(lo_stake, stake.get(idx).copied().unwrap_or(ZERO));
                scratch.lower.push(idx);
            } else {
                hi_stake = add(hi_stake, stake.get(idx).copied().unwrap_or(ZERO));
                scratch.upper.push(idx);
            }
        }
        if minority < add(lo, lo_stake) && !scratch.lower.is_empty() {
            std::mem::swap(cur, &mut scratch.lower);
            hi = add(lo, lo_stake);
        } else if sub(hi, hi_stake) <= minority && !scratch.upper.is_empty() {
            std::mem::swap(cur, &mut scratch.upper);
            lo = sub(hi, hi_stake);
        } else {
            return pivot;
        }
        iterations += 1;
        if iterations > limit {
            return ZERO;
        }
    }
}

/// [`weighted_median`] for strictly positive stakes whose running sums never overflow, on
/// `(score, stake)` pairs (reordered in place): the smallest score whose cumulative stake
/// (all entries with a score ≤ it) exceeds `minority`, or the largest score if none does.
///
/// Why this equals the chain's pivot search: with positive stakes the cumulative sums `C_k`
/// over the distinct sorted scores are strictly increasing, and the search keeps the invariant
/// that its window `[lo, hi]` of stake brackets the first `C_t > minority` (or the window's
/// end, for `minority` outside `[0, C_m)`): a pivot above `t` has `minority < C_{k−1}` and
/// recurses lower, one below has `C_k ≤ minority` and recurses upper, and `t` itself is
/// returned. So the result does not depend on the pivots, and any selection gives it;
/// `tests::fast_median_matches_reference` checks this against the chain's algorithm.
#[cfg_attr(not(test), allow(dead_code))]
fn weighted_quantile(val: &mut [i64], stk: &mut [i64], minority: i64) -> i64 {
    let mut len = val.len().min(stk.len());
    let mut base = 0i64; // stake of the entries below the window
    loop {
        match len {
            0 => return 0,
            1 => return val[0],
            _ => {}
        }
        let (v, s) = (&mut val[..len], &mut stk[..len]);
        let pivot = v[len / 2];
        // Branch-free tallies of the stake below and at the pivot.
        let (mut s_less, mut s_eq, mut n_less, mut n_greater) = (0i64, 0i64, 0usize, 0usize);
        for (&x, &w) in v.iter().zip(s.iter()) {
            let lt = x < pivot;
            let eq = x == pivot;
            s_less += if lt { w } else { 0 };
            s_eq += if eq { w } else { 0 };
            n_less += lt as usize;
            n_greater += (x > pivot) as usize;
        }
        let below = base + s_less;
        let keep_less = if minority < below && n_less > 0 {
            true
        } else if minority < below + s_eq || n_greater == 0 {
            return pivot;
        } else {
            base = below + s_eq;
            false
        };
        // Compact the chosen side to the front of the window.
        let mut w = 0usize;
        for i in 0..len {
            let x = v[i];
            let take = if keep_less { x < pivot } else { x > pivot };
            v[w] = x;
            s[w] = s[i];
            w += take as usize;
        }
        len = w;
    }
}

/// [`weighted_quantile`] on `(score, stake)` pairs (reordered in place), by an MSB-first
/// radix selection instead of pivots: the same characterization — the smallest score whose
/// cumulative stake exceeds `minority`, or the largest score if none does — is found by
/// narrowing the candidates to one 4-bit digit bucket at a time.
///
/// Invariant: every entry outside the window scores either below all window entries (their
/// stake is `base`) or above them, `minority < base + stake(window)`, and every lower score's
/// cumulative stake (at most `base`) is `≤ minority`. The bucket
/// kept is the first whose cumulative stake exceeds `minority`, which preserves it; once the
/// window holds one distinct score `v`, all lower scores have cumulative stake `≤ base ≤
/// minority` and `v`'s is `> minority`. (A negative `minority` selects the smallest score:
/// the first non-empty bucket every time.) Digits run over the bits where the window's scores
/// still differ (signed scores are compared through `x ⊕ 2⁶³`). Requires positive stakes
/// whose total (`total`, passed in) fits an i64; `tests::quantile_matches_pivot_search_on_ties` and
/// `tests::fast_median_matches_reference` compare it with the pivot search.
fn weighted_quantile_pairs(data: &mut [(i64, i64)], total: i64, minority: i64) -> i64 {
    const SIGN: u64 = 1 << 63;
    let Some(&(x0, _)) = data.first() else {
        return 0;
    };
    let k0 = x0 as u64;
    let mut diff = 0u64;
    for &(x, _) in data.iter() {
        diff |= x as u64 ^ k0;
    }
    if total <= minority {
        return data.iter().map(|e| e.0).max().unwrap_or(0);
    }
    let mut base = 0i64;
    let mut len = data.len();
    loop {
        if diff == 0 || len == 1 {
            return data[0].0;
        }
        let shift = (63 - diff.leading_zeros()).saturating_sub(3);
        let window = &mut data[..len];
        let mut h = [0i64; 16];
        for &(x, w) in window.iter() {
            h[(((x as u64 ^ SIGN) >> shift) & 15) as usize] += w;
        }
        let mut digit = 0u64;
        for &hd in &h {
            // The first non-empty bucket holding a score whose cumulative stake exceeds
            // `minority` (with `minority < base` that is the first non-empty one).
            if hd > 0 && base + hd > minority {
                break;
            }
            base += hd;
            digit += 1;
        }
        // Keep the chosen bucket (branch-free compaction), then find the bits on which it
        // still differs.
        let mut kept = 0usize;
        for i in 0..len {
            let e = window[i];
            window[kept] = e;
            kept += (((e.0 as u64 ^ SIGN) >> shift) & 15 == digit) as usize;
        }
        len = kept;
        let k0 = window[0].0 as u64;
        diff = window[..len].iter().fold(0, |d, e| d | (e.0 as u64 ^ k0));
    }
}

/// Column-major buffers of the median fast path, reused between calls on one thread so a
/// 256 × 256 epoch does not zero a fresh megabyte every time.
#[derive(Default)]
struct MedianBuffers {
    pairs: Vec<(i64, i64)>,
    cols: Vec<ColumnFill>,
}

/// Per column: next free slot, stake of the rows present, last row seen (duplicate check).
#[derive(Clone, Copy)]
struct ColumnFill {
    fill: usize,
    present: i64,
    last_row: usize,
}

thread_local! {
    static MEDIAN_BUFFERS: std::cell::RefCell<MedianBuffers> =
        std::cell::RefCell::new(MedianBuffers::default());
}

/// The fast path of [`weighted_median_col_sparse`]; `None` if a row repeats a column.
fn fast_medians(
    use_stake: &[I32F32],
    staked_rows: &[usize],
    score: &SparseMatrix,
    columns: usize,
    total: i64,
    minority: i64,
) -> Option<Vec<I32F32>> {
    MEDIAN_BUFFERS.with(|b| {
        let mut b = b.borrow_mut();
        fast_medians_in(
            &mut b,
            use_stake,
            staked_rows,
            score,
            columns,
            total,
            minority,
        )
    })
}

fn fast_medians_in(
    buf: &mut MedianBuffers,
    use_stake: &[I32F32],
    staked_rows: &[usize],
    score: &SparseMatrix,
    columns: usize,
    total: i64,
    minority: i64,
) -> Option<Vec<I32F32>> {
    let k_rows = use_stake.len();
    // Column j owns the slots [j·(k + 1), (j + 1)·(k + 1)): without duplicate columns a column
    // has at most one entry per staked row, plus the spare slot.
    let stride = k_rows + 1;
    let size = columns * stride;
    if buf.pairs.len() < size {
        buf.pairs.resize(size, (0, 0));
    }
    buf.cols.clear();
    buf.cols.extend((0..columns).map(|j| ColumnFill {
        fill: j * stride,
        present: 0,
        last_row: usize::MAX,
    }));
    let MedianBuffers { pairs, cols } = buf;
    for (k, &r) in staked_rows.iter().enumerate() {
        if r == usize::MAX {
            continue;
        }
        let sk = use_stake[k].to_bits();
        let (c, v) = score.row(r);
        for (&j, &x) in c.iter().zip(v) {
            let Some(col) = cols.get_mut(j as usize) else {
                continue;
            };
            if col.last_row == k {
                return None;
            }
            col.last_row = k;
            pairs[col.fill] = (x.to_bits(), sk);
            col.fill += 1;
            col.present += sk;
        }
    }
    let mut median = Vec::with_capacity(columns);
    for (j, col) in cols.iter().enumerate() {
        let a = j * stride;
        let mut b = col.fill;
        if b - a < k_rows {
            pairs[b] = (0, total - col.present);
            b += 1;
        }
        // Every column's pairs carry the full stake: present rows plus the spare slot.
        median.push(I32F32::from_bits(weighted_quantile_pairs(
            &mut pairs[a..b],
            total,
            minority,
        )));
    }
    Some(median)
}

/// Reusable buffers for [`weighted_median`].
#[derive(Default)]
pub struct MedianScratch {
    cur: Vec<usize>,
    lower: Vec<usize>,
    upper: Vec<usize>,
}

/// `weighted_median_col_sparse`: per column, the κ-quantile of the scores of the rows with
/// positive stake (absent entries score 0), stakes re-normalized over those rows.
pub fn weighted_median_col_sparse(
    stake: &[I32F32],
    score: &SparseMatrix,
    columns: usize,
    majority: I32F32,
) -> Vec<I32F32> {
    let mut use_stake: Vec<I32F32> = stake.iter().copied().filter(|&s| s > ZERO).collect();
    crate::vector::inplace_normalize(&mut use_stake);
    let k_rows = use_stake.len();
    let stake_sum = sum(use_stake.iter().copied());
    let minority = sub(stake_sum, majority);
    let idx: Vec<usize> = (0..k_rows).collect();

    // Column-major view of the staked rows: for each column, (k, value) in row order, so that a
    // duplicate column inside a row resolves as in the chain (last write wins).
    let mut staked_rows: Vec<usize> = Vec::with_capacity(k_rows);
    for (r, &s) in stake.iter().enumerate() {
        if s > ZERO && r < score.rows() {
            staked_rows.push(r);
        } else if s > ZERO {
            staked_rows.push(usize::MAX);
        }
    }
    // Fast path (see [`weighted_quantile`]): every stake positive, the stake total exact and
    // no duplicate column inside a row. The column-major buffers then hold (score, stake)
    // directly, with one spare slot per column for the rows without an entry (score 0).
    let exact_total: i128 = use_stake.iter().map(|s| s.to_bits() as i128).sum();
    if use_stake.iter().all(|&s| s > ZERO) && exact_total <= i64::MAX as i128 {
        if let Some(m) = fast_medians(
            &use_stake,
            &staked_rows,
            score,
            columns,
            exact_total as i64,
            minority.to_bits(),
        ) {
            return m;
        }
    }

    let mut counts = vec![0usize; columns + 1];
    for &r in &staked_rows {
        if r == usize::MAX {
            continue;
        }
        for &j in score.row(r).0 {
            if (j as usize) < columns {
                counts[j as usize + 1] += 1;
            }
        }
    }
    for j in 0..columns {
        counts[j + 1] += counts[j];
    }
    let mut fill = counts.clone();
    let total = counts[columns];
    let mut csc_k = vec![0usize; total];
    let mut csc_v = vec![ZERO; total];
    for (k, &r) in staked_rows.iter().enumerate() {
        if r == usize::MAX {
            continue;
        }
        let (c, v) = score.row(r);
        for (&j, &x) in c.iter().zip(v) {
            let ju = j as usize;
            if ju < columns {
                csc_k[fill[ju]] = k;
                csc_v[fill[ju]] = x;
                fill[ju] += 1;
            }
        }
    }

    let mut col = vec![ZERO; k_rows];
    let mut scratch = MedianScratch::default();
    let mut median = Vec::with_capacity(columns);
    for j in 0..columns {
        let (a, b) = (counts[j], counts[j + 1]);
        for p in a..b {
            col[csc_k[p]] = csc_v[p];
        }
        median.push(weighted_median(
            &use_stake,
            &col,
            &idx,
            minority,
            ZERO,
            stake_sum,
            &mut scratch,
        ));
        for p in a..b {
            col[csc_k[p]] = ZERO;
        }
    }
    median
}

/// The kernels as they were before the fused / reciprocal rewrites, kept verbatim for the
/// equivalence tests.
#[cfg(test)]
pub(crate) mod reference {
    use super::{col_sums, weighted_median, MedianScratch, SparseMatrix};
    use crate::fixed_math::{add, mul, sub, sum, Divisor, ZERO};
    use fixed::types::I32F32;

    /// `mat_ema_sparse`: `alpha·new + (1−alpha)·old`, densified per row, positives kept in column
    /// order.
    pub(crate) fn mat_ema_sparse(
        new: &SparseMatrix,
        old: &SparseMatrix,
        alpha: I32F32,
    ) -> SparseMatrix {
        let n = new.rows();
        let one_minus = sub(crate::fixed_math::ONE, alpha);
        let mut out = SparseMatrix::with_capacity(n, new.cols.len().max(old.cols.len()));
        let mut acc = vec![ZERO; n];
        for i in 0..n {
            let (nc, nv) = new.row(i);
            let (oc, ov) = if i < old.rows() {
                old.row(i)
            } else {
                (&[][..], &[][..])
            };
            if nc.is_empty() && oc.is_empty() {
                out.end_row();
                continue;
            }
            for (&j, &v) in nc.iter().zip(nv) {
                if let Some(cell) = acc.get_mut(j as usize) {
                    *cell = add(*cell, mul(alpha, v));
                }
            }
            for (&j, &v) in oc.iter().zip(ov) {
                if let Some(cell) = acc.get_mut(j as usize) {
                    *cell = add(*cell, mul(one_minus, v));
                }
            }
            for (j, cell) in acc.iter_mut().enumerate() {
                if *cell > ZERO {
                    out.push(j as u16, *cell);
                }
                *cell = ZERO;
            }
            out.end_row();
        }
        out
    }

    /// `inplace_col_normalize_sparse`: divide each entry by its column sum when that sum is non-zero.
    pub(crate) fn inplace_col_normalize_sparse(m: &mut SparseMatrix, columns: usize) {
        let s: Vec<(bool, Divisor)> = col_sums(m, columns)
            .into_iter()
            .map(|x| (x != ZERO, Divisor::new(x)))
            .collect();
        for (&j, v) in m.cols.iter().zip(m.vals.iter_mut()) {
            if let Some((true, d)) = s.get(j as usize) {
                *v = d.safe_div(*v);
            }
        }
    }

    /// `inplace_col_max_upscale_sparse`: divide each entry by its column maximum when non-zero.
    pub(crate) fn inplace_col_max_upscale_sparse(m: &mut SparseMatrix, columns: usize) {
        let mut mx = vec![ZERO; columns];
        for (&j, &v) in m.cols.iter().zip(&m.vals) {
            if let Some(c) = mx.get_mut(j as usize) {
                if *c < v {
                    *c = v;
                }
            }
        }
        let mx: Vec<(bool, Divisor)> = mx
            .into_iter()
            .map(|x| (x != ZERO, Divisor::new(x)))
            .collect();
        for (&j, v) in m.cols.iter().zip(m.vals.iter_mut()) {
            if let Some((true, d)) = mx.get(j as usize) {
                *v = d.safe_div(*v);
            }
        }
    }

    /// `weighted_median_col_sparse`: per column, the κ-quantile of the scores of the rows with
    /// positive stake (absent entries score 0), stakes re-normalized over those rows.
    pub(crate) fn weighted_median_col_sparse(
        stake: &[I32F32],
        score: &SparseMatrix,
        columns: usize,
        majority: I32F32,
    ) -> Vec<I32F32> {
        let mut use_stake: Vec<I32F32> = stake.iter().copied().filter(|&s| s > ZERO).collect();
        crate::vector::inplace_normalize(&mut use_stake);
        let k_rows = use_stake.len();
        let stake_sum = sum(use_stake.iter().copied());
        let minority = sub(stake_sum, majority);
        let idx: Vec<usize> = (0..k_rows).collect();

        // Column-major view of the staked rows: for each column, (k, value) in row order, so that a
        // duplicate column inside a row resolves as in the chain (last write wins).
        let mut counts = vec![0usize; columns + 1];
        let mut staked_rows: Vec<usize> = Vec::with_capacity(k_rows);
        for (r, &s) in stake.iter().enumerate() {
            if s > ZERO && r < score.rows() {
                staked_rows.push(r);
            } else if s > ZERO {
                staked_rows.push(usize::MAX);
            }
        }
        for &r in &staked_rows {
            if r == usize::MAX {
                continue;
            }
            for &j in score.row(r).0 {
                if (j as usize) < columns {
                    counts[j as usize + 1] += 1;
                }
            }
        }
        for j in 0..columns {
            counts[j + 1] += counts[j];
        }
        let mut fill = counts.clone();
        let total = counts[columns];
        let mut csc_k = vec![0usize; total];
        let mut csc_v = vec![ZERO; total];
        for (k, &r) in staked_rows.iter().enumerate() {
            if r == usize::MAX {
                continue;
            }
            let (c, v) = score.row(r);
            for (&j, &x) in c.iter().zip(v) {
                let ju = j as usize;
                if ju < columns {
                    csc_k[fill[ju]] = k;
                    csc_v[fill[ju]] = x;
                    fill[ju] += 1;
                }
            }
        }

        let mut col = vec![ZERO; k_rows];
        let mut scratch = MedianScratch::default();
        let mut median = Vec::with_capacity(columns);
        for j in 0..columns {
            let (a, b) = (counts[j], counts[j + 1]);
            for p in a..b {
                col[csc_k[p]] = csc_v[p];
            }
            median.push(weighted_median(
                &use_stake,
                &col,
                &idx,
                minority,
                ZERO,
                stake_sum,
                &mut scratch,
            ));
            for p in a..b {
                col[csc_k[p]] = ZERO;
            }
        }
        median
    }

    /// The liquid-alpha EMA of the sparse path: `liquid_alpha_matrix_sparse` followed by
    /// `mat_ema_alpha_sparse`, fused so that α is only evaluated where it is used.
    ///
    /// For each row, `liquid_alpha_matrix_sparse` walks columns 0..n with two peeking iterators
    /// over the weight and bond rows (so an entry is only "seen" if the rows are in ascending
    /// order up to it); `mat_ema_alpha_sparse` then emits, **only for columns present in the
    /// weights row**, `min(1, (1−α)·b + max(α·w, 0))` when positive. A bond whose column is absent
    /// from the weights row is dropped — the sparse quirk of spec §5.3.
    pub(crate) fn liquid_ema_sparse(
        weights: &SparseMatrix,
        bonds: &SparseMatrix,
        consensus: &[I32F32],
        alpha: impl Fn(I32F32, I32F32, I32F32) -> I32F32,
    ) -> SparseMatrix {
        let n = consensus.len();
        let one = crate::fixed_math::ONE;
        let mut out = SparseMatrix::with_capacity(weights.rows(), weights.cols.len());
        // Per-column values as the peeking walk sees them, and the decayed old bonds.
        let mut seen_w = vec![ZERO; n];
        let mut seen_b = vec![ZERO; n];
        let mut decayed_src: Vec<Option<I32F32>> = vec![None; n];
        for i in 0..weights.rows() {
            let (wc, wv) = weights.row(i);
            if wc.is_empty() {
                out.end_row();
                continue;
            }
            let (bc, bv) = if i < bonds.rows() {
                bonds.row(i)
            } else {
                (&[][..], &[][..])
            };
            let touched_w = peek_walk(wc, wv, n, &mut seen_w);
            let touched_b = peek_walk(bc, bv, n, &mut seen_b);
            // mat_ema_alpha_sparse: decayed[j] = (1 − α_j)·old_ij, last entry wins.
            for (&j, &b) in bc.iter().zip(bv) {
                if let Some(cell) = decayed_src.get_mut(j as usize) {
                    *cell = Some(b);
                }
            }
            for (&j, &w) in wc.iter().zip(wv) {
                let ju = j as usize;
                if ju >= n {
                    continue;
                }
                let a = alpha(consensus[ju], seen_w[ju], seen_b[ju]);
                let decayed = match decayed_src[ju] {
                    Some(b) => mul(sub(one, a), b),
                    None => ZERO,
                };
                let inc = mul(a, w).max(ZERO);
                let v = add(decayed, inc).min(one);
                if v > ZERO {
                    out.push(j, v);
                }
            }
            out.end_row();
            for &j in touched_w.iter() {
                seen_w[j] = ZERO;
            }
            for &j in touched_b.iter() {
                seen_b[j] = ZERO;
            }
            for &j in bc {
                if let Some(cell) = decayed_src.get_mut(j as usize) {
                    *cell = None;
                }
            }
        }
        out
    }

    /// Replays the peeking walk of `liquid_alpha_matrix_sparse` over one row: for j = 0..n, skip
    /// entries with column < j, and take the value of the next entry if its column equals j.
    /// Writes the seen values into `seen` and returns the columns written (to reset them).
    fn peek_walk(cols: &[u16], vals: &[I32F32], n: usize, seen: &mut [I32F32]) -> Vec<usize> {
        let mut touched = Vec::new();
        let mut p = 0usize;
        // Jump straight between entry columns instead of stepping j one by one: the walk only
        // advances past entries whose column is below the current j.
        let mut j = 0usize;
        while j < n && p < cols.len() {
            let c = cols[p] as usize;
            if c < j {
                p += 1;
                continue;
            }
            if c == j {
                seen[j] = vals[p];
                touched.push(j);
                // The iterator is not advanced on a match; the next j skips it.
                j += 1;
                continue;
            }
            // c > j: nothing for columns j..c; resume at c.
            j = c;
        }
        touched
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed_math::from_u64;

    fn f(x: f64) -> I32F32 {
        I32F32::from_num(x)
    }

    #[test]
    fn peek_walk_follows_iterator_semantics() {
        let mut seen = vec![ZERO; 8];
        // Unsorted row: column 2 comes after 5, so the walk never sees it.
        let mut t = Vec::new();
        peek_walk(&[5, 2], &[f(0.5), f(0.25)], 8, &mut seen, &mut t);
        assert_eq!(t, vec![5]);
        assert_eq!(seen[5], f(0.5));
        assert_eq!(seen[2], ZERO);
    }

    use proptest::prelude::*;

    /// Raw I32F32 bits in the shapes the epoch produces (proportions, integers) plus edges.
    fn value() -> impl Strategy<Value = I32F32> {
        prop_oneof![
            4 => (0i64..=(1 << 32)).prop_map(I32F32::from_bits),
            2 => (0i64..65536).prop_map(|v| I32F32::from_bits(v << 32)),
            1 => (0i64..8).prop_map(|v| I32F32::from_bits(v << 30)),
            1 => any::<i64>().prop_map(|v| I32F32::from_bits(v >> 16)),
            1 => Just(ZERO),
        ]
    }

    /// Matrices with unsorted rows, duplicate columns and columns past `columns`.
    fn matrix(rows: usize, columns: usize) -> impl Strategy<Value = SparseMatrix> {
        proptest::collection::vec(
            proptest::collection::vec((0..columns as u16 + 2, value()), 0..=columns + 1),
            rows,
        )
        .prop_map(|r| SparseMatrix::from_rows(&r))
    }

    fn sorted(m: &SparseMatrix) -> SparseMatrix {
        let rows: Vec<Vec<(u16, I32F32)>> = m
            .to_rows()
            .into_iter()
            .map(|mut r| {
                r.sort_by_key(|e| e.0);
                r.dedup_by_key(|e| e.0);
                r
            })
            .collect();
        SparseMatrix::from_rows(&rows)
    }

    fn case() -> impl Strategy<Value = (usize, SparseMatrix, SparseMatrix, Vec<I32F32>)> {
        (1usize..12, 1usize..12).prop_flat_map(|(r, c)| {
            (
                Just(c),
                matrix(r, c),
                matrix(r, c),
                proptest::collection::vec(value(), c.max(r)),
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn fast_median_matches_reference(
            (c, m, _, v) in case(),
            stake in proptest::collection::vec(
                prop_oneof![
                    3 => (0i64..=(1 << 32)).prop_map(I32F32::from_bits),
                    1 => Just(ZERO),
                    1 => any::<i64>().prop_map(I32F32::from_bits),
                ], 0..14),
            kappa in prop_oneof![Just(32767u16), Just(65535u16), Just(0u16), any::<u16>()],
            normalize in any::<bool>(),
        ) {
            let mut stake = if stake.is_empty() { v } else { stake };
            if normalize {
                stake.iter_mut().for_each(|s| *s = (*s).max(ZERO));
                crate::vector::inplace_normalize(&mut stake);
            }
            let kappa = crate::fixed_math::u16_proportion_to_fixed(kappa);
            let m2 = sorted(&m);
            prop_assert_eq!(
                weighted_median_col_sparse(&stake, &m, c, kappa),
                reference::weighted_median_col_sparse(&stake, &m, c, kappa)
            );
            prop_assert_eq!(
                weighted_median_col_sparse(&stake, &m2, c, kappa),
                reference::weighted_median_col_sparse(&stake, &m2, c, kappa)
            );
        }

        #[test]
        fn quantile_matches_pivot_search_on_ties(
            entries in proptest::collection::vec((0i64..6, 1i64..5), 1..40),
            pick in any::<usize>(),
            shift in -2i64..=2,
        ) {
            // Small score and stake alphabets, and a minority placed exactly on (or next to) a
            // cumulative stake, to hit every equality branch.
            let score: Vec<I32F32> = entries.iter().map(|e| I32F32::from_bits(e.0 << 30)).collect();
            let stake: Vec<I32F32> = entries.iter().map(|e| I32F32::from_bits(e.1 << 28)).collect();
            let total: i64 = entries.iter().map(|e| e.1 << 28).sum();
            let mut sorted: Vec<(i64, i64)> = entries.clone();
            sorted.sort();
            let cut: i64 = sorted[..=pick % sorted.len()].iter().map(|e| e.1 << 28).sum();
            let minority = cut + shift * (1 << 27);
            let idx: Vec<usize> = (0..entries.len()).collect();
            let want = weighted_median(
                &stake, &score, &idx, I32F32::from_bits(minority), ZERO,
                I32F32::from_bits(total), &mut MedianScratch::default(),
            );
            let mut v: Vec<i64> = score.iter().map(|x| x.to_bits()).collect();
            let mut w: Vec<i64> = stake.iter().map(|x| x.to_bits()).collect();
            prop_assert_eq!(weighted_quantile(&mut v, &mut w, minority), want.to_bits());
            let mut pairs: Vec<(i64, i64)> =
                score.iter().zip(&stake).map(|(x, s)| (x.to_bits(), s.to_bits())).collect();
            prop_assert_eq!(
                weighted_quantile_pairs(&mut pairs, total, minority),
                want.to_bits()
            );
        }

        #[test]
        fn column_kernels_match_reference((c, m, _, v) in case()) {
            let (mut a, mut b) = (m.clone(), m.clone());
            inplace_col_normalize_sparse(&mut a, c);
            reference::inplace_col_normalize_sparse(&mut b, c);
            prop_assert_eq!(&a, &b);
            let (mut a, mut b) = (m.clone(), m.clone());
            inplace_col_max_upscale_sparse(&mut a, c);
            reference::inplace_col_max_upscale_sparse(&mut b, c);
            prop_assert_eq!(&a, &b);
            let mut norm = m.clone();
            reference::inplace_col_normalize_sparse(&mut norm, c);
            prop_assert_eq!(
                row_sum_of_col_normalized_mat_vec_mul_sparse(&m, c, &v[..c]),
                row_sum_of_mat_vec_mul_sparse(&norm, &v[..c])
            );
            let mut h = m.clone();
            inplace_row_hadamard_sparse(&mut h, &v);
            let mut r = m.clone();
            r.map_values(|i, _, x| mul(x, v.get(i).copied().unwrap_or(ZERO)));
            prop_assert_eq!(h, r);
        }

        #[test]
        fn ema_kernels_match_reference(
            (c, w, b, v) in case(),
            alpha in value(),
            low in 0i64..(1 << 32),
            span in 0i64..(1 << 31),
            steep in -3000i64..3000,
        ) {
            // mat_ema_sparse densifies rows of width n = rows; keep columns in range.
            let n = w.rows();
            let clip = |m: &SparseMatrix| m.filter(|_, j, _| (j as usize) < n);
            let (wn, bn) = (clip(&w), clip(&b));
            prop_assert_eq!(
                mat_ema_sparse(&wn, &bn, alpha),
                reference::mat_ema_sparse(&wn, &bn, alpha)
            );
            let low = I32F32::from_bits(low);
            let high = add(low, I32F32::from_bits(span));
            let steep = I32F32::from_bits(steep << 32);
            let la = std::cell::RefCell::new(crate::fixed_math::LiquidAlpha::new(low, high, steep));
            let consensus = &v[..c];
            for (w, b) in [(w.clone(), b.clone()), (sorted(&w), sorted(&b))] {
                prop_assert_eq!(
                    liquid_ema_sparse(&w, &b, consensus, |x, y, z| la.borrow_mut().alpha(x, y, z)),
                    reference::liquid_ema_sparse(&w, &b, consensus, |x, y, z| {
                        crate::fixed_math::liquid_alpha_sigmoid(x, y, z, low, high, steep)
                    })
                );
            }
        }
    }

    #[test]
    fn median_of_equal_stakes() {
        let stake = vec![f(0.25); 4];
        let m = SparseMatrix::from_rows(&[
            vec![(0u16, f(0.1))],
            vec![(0, f(0.2))],
            vec![(0, f(0.3))],
            vec![(0, f(0.4))],
        ]);
        let kappa = crate::fixed_math::u16_proportion_to_fixed(32767);
        let c = weighted_median_col_sparse(&stake, &m, 1, kappa);
        // Highest value that at least κ (≈0.5) of the stake supports.
        assert_eq!(c[0], f(0.3));
        let _ = from_u64(1);
    }
}
