//! Vector helpers of `pallets/subtensor/src/epoch/math.rs`.

use fixed::types::{I32F32, I64F64};

use crate::fixed_math::{checked_mul, i64f64_checked_div, safe_div, sum, ZERO};

/// `inplace_normalize`: divide by the sum unless the sum is 0.
pub fn inplace_normalize(x: &mut [I32F32]) {
    let s = sum(x.iter().copied());
    inplace_normalize_using_sum(x, s);
}

/// `inplace_normalize_using_sum` (`inplace_normalize_i32f32_with_sum`).
pub fn inplace_normalize_using_sum(x: &mut [I32F32], s: I32F32) {
    if s == ZERO {
        return;
    }
    let d = crate::fixed_math::Divisor::new(s);
    x.iter_mut().for_each(|v| *v = d.safe_div(*v));
}

/// `inplace_normalize_64`: the I64F64 stake normalization (safe_div: 0 on overflow).
pub fn inplace_normalize_64(x: &mut [I64F64]) {
    let s = I64F64::from_bits(x.iter().fold(0i128, |a, v| a.wrapping_add(v.to_bits())));
    if s == I64F64::ZERO {
        return;
    }
    x.iter_mut()
        .for_each(|v| *v = i64f64_checked_div(*v, s).unwrap_or(I64F64::ZERO));
}

/// `is_zero`: the vector sums to 0.
pub fn is_zero(x: &[I32F32]) -> bool {
    sum(x.iter().copied()) == ZERO
}

/// `inplace_mask_vector`: zero the entries whose mask is true; a mask shorter than the vector
/// masks the missing positions, an empty mask masks nothing.
pub fn inplace_mask_vector(mask: &[bool], x: &mut [I32F32]) {
    if mask.is_empty() {
        return;
    }
    for (i, v) in x.iter_mut().enumerate() {
        if *mask.get(i).unwrap_or(&true) {
            *v = ZERO;
        }
    }
}

/// `vec_mul`: element-wise product, 0 where the product overflows (`checked_mul`).
pub fn vec_mul(a: &[I32F32], b: &[I32F32]) -> Vec<I32F32> {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| checked_mul(x, y).unwrap_or(ZERO))
        .collect()
}

/// `is_topk_nonzero` (`is_topk_nonzero_i32f32`): non-zero entries, and if `n ≥ k` the `n − k`
/// smallest are cleared after a *stable* ascending sort, so equal stakes favour the higher uid.
pub fn is_topk_nonzero(x: &[I32F32], k: usize) -> Vec<bool> {
    let n = x.len();
    let mut result: Vec<bool> = x.iter().map(|&v| v != ZERO).collect();
    if n < k {
        return result;
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by_key(|&i| x[i]); // stable
    for &i in idx.iter().take(n - k) {
        result[i] = false;
    }
    result
}

/// `vec_u16_max_upscale_to_u16` (`set_weights`): scale a u16 row so its maximum is 65535,
/// rounding to nearest with ties away from zero.
pub fn vec_u16_max_upscale_to_u16(v: &[u16]) -> Vec<u16> {
    use crate::fixed_math::{from_u64, mul, round, to_u16};
    let xs: Vec<I32F32> = v.iter().map(|&e| from_u64(e as u64)).collect();
    let u16_max = from_u64(u16::MAX as u64);
    let threshold = from_u64(32768);
    match xs.iter().max() {
        Some(&m) if m == ZERO => xs.iter().map(|&e| to_u16(mul(e, u16_max))).collect(),
        Some(&m) if m > threshold => {
            let factor = safe_div(u16_max, m);
            xs.iter().map(|&e| to_u16(round(mul(e, factor)))).collect()
        }
        Some(&m) => xs
            .iter()
            .map(|&e| to_u16(round(safe_div(mul(e, u16_max), m))))
            .collect(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_upscale_example_from_spec() {
        assert_eq!(
            vec_u16_max_upscale_to_u16(&[43690, 21845]),
            vec![65535, 32768]
        );
        assert_eq!(
            vec_u16_max_upscale_to_u16(&[32767, 32767]),
            vec![65535, 65535]
        );
    }

    #[test]
    fn topk_ties_favour_higher_uid() {
        let s = vec![I32F32::from_num(0.5); 4];
        assert_eq!(is_topk_nonzero(&s, 2), vec![false, false, true, true]);
    }
}
