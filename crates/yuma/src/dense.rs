//! The dense epoch engine: the fused engine's stages (`fused.rs`, itself the chain's sparse
//! `epoch_mechanism` restructured) on dense `k × n` matrices, where `k` is the number of uids
//! that carry a (permitted) weight row, a bond row or active stake, with straight-line integer
//! kernels that the compiler vectorizes. [`crate::epoch::run_epoch`] tries it first; it
//! declines (`None`) every input it does not cover (unsorted or duplicate columns, sums out of
//! range, too sparse for dense work to pay), and the caller then runs the fused engine, which
//! declines in turn to the helper-by-helper port. All three are bit-identical (`epoch::tests`).
//!
//! # Why it is bit-identical to the fused engine
//!
//! The fused engine's module notes carry over (proportion domain `P = [0, 2³²]` of raw I32F32
//! bits, no saturation below 2²⁹ stored entries, the range of every stage). On top of them:
//!
//! * **Dense rows.** Accepted weight and bond rows have strictly increasing columns (the
//!   chain's `set_weights` stores them so), so scattering a row into a dense row of width `n`
//!   loses nothing, and every stage of original Yuma and non-liquid Yuma3 treats an absent
//!   entry exactly like a stored 0: the weighted median's spare slot scores 0, clipping maps a
//!   dropped entry (`w > c_j = 0`) to what is a 0 in every sum, the EMA keeps the positive
//!   cells only, and all the other stages are sums of products that vanish at 0. The liquid
//!   EMA reads only the entries of the weights row, which a presence bitmap keeps.
//! * **Kernels on plain integers** (all inputs in `P` or below 2⁵²):
//!   - [`mulp`] is `mul` on `P` (the fused engine's `mulp`) with the 33-bit operands split so
//!     that only a 32 × 32 → 64-bit product is needed: an operand equal to 2³² (1.0) returns
//!     the other one unchanged, which is exactly `floor(2³²·b / 2³²)`;
//!   - [`divp`] / [`divp_fma`] are `safe_div(x, d)` = `floor(x·2³² / d)` for `0 ≤ x ≤ d < 2⁵²`:
//!     the quotient is guessed in binary64 arithmetic and then *fixed by an exact remainder
//!     test*; see their notes. A zero divisor is only used with `x = 0` (a column whose
//!     divisor is its sum or maximum is all zero when the divisor is), where the result is 0
//!     as in `safe_div`;
//!   - `floor(x·65535 / 2³²)` (`fixed_proportion_to_u16` on `P`) is `((x << 16) − x) >> 32`;
//!   - the Yuma3 bond `floor(v·2³² / 65535)` is `v·65537 + [v = 65535]`, since
//!     `2³² = 65535·65537 + 1`;
//!   - the penalty interpolation `w + floor(β·(c − w)/2³²)` with `c ≤ w` is
//!     `w − ceil(β·(w − c)/2³²)`, computed without a signed 128-bit product.
//! * **Weighted median.** The fused fast path's characterization (the smallest score whose
//!   cumulative stake exceeds the minority, or the largest score when the whole stake does
//!   not) is found either by a 32-bucket stake histogram on each column's top value bits and a
//!   selection inside the one bucket that crosses the minority ([`median_block`]), or, on
//!   CPUs with 64-bit vector min/max (AVX-512), by an exact bracket search with one column per
//!   vector lane ([`median_bracket`]).
//! * **Column maxima.** The maximum of a column-normalized EMA column is the normalized
//!   maximum, `floor(max·2³²/E)`, since flooring is monotone; so the max-upscale divisors are
//!   known before the normalization pass, which then also writes the stored bonds.
//! * **Stake normalization**: `fixed64_to_fixed32(s / Σs)` is `floor(floor(s·2⁶⁴/Σ)/2³²) =
//!   floor(s·2³²/Σ)`; with every stake a multiple of `2^t` and `Σ/2^t < 2⁶⁴` it is a u64
//!   problem, solved like [`divp`] (guess, exact 128-bit test).
//! * **Top-k permits**: the chain's stable ascending sort by stake orders the uids by
//!   `(stake, uid)`; the `n − k` smallest of those keys are found by a selection.
//!
//! # Layout
//!
//! Rows are stored with a stride of an odd number of cache lines (`n` rounded up to the
//! median block, plus one line if needed): with a power-of-two stride (n = 256 u64 = 2 KiB)
//! a column's entries of all rows fall into the same few L1 sets, and the column-blocked
//! median thrashes. The padding columns of the weights are kept at 0.
//!
//! # Vector instruction sets
//!
//! The engine body is one `#[inline(always)]` function, instantiated three times: for the
//! baseline target and inside `#[target_feature]` wrappers for AVX2 + FMA and AVX-512,
//! chosen at run time by CPU detection ([`Isa`]). The kernels are integer (and binary64, for
//! the guesses only) code whose results do not depend on how the compiler vectorizes them,
//! and each copy computes the same function; `epoch::tests` runs every copy the CPU supports
//! against the reference, in debug and (`cargo test --release`) vectorized builds. One kernel
//! is written with AVX-512 intrinsics for the AVX-512 copy ([`bracket_pass_avx512`], the
//! weighted median's pass: the compiler's code for the portable loop blends each masked
//! update separately); `tests::median_kernels_match_the_oracle` checks both versions.

use fixed::types::{I32F32, I64F64};

use crate::epoch::{EpochContext, EpochOutput, Hyperparameters, SubnetState};
use crate::fixed_math::{
    bonds_moving_average_alpha, i64f64_to_i32f32, i64f64_to_u64, share_of_rao, sub, sum,
    u16_proportion_to_fixed, LiquidAlpha, ZERO,
};
use crate::vector::{inplace_normalize, inplace_normalize_64, is_topk_nonzero, is_zero};

/// 1.0 as raw I32F32 bits.
const ONE_BITS: u64 = 1 << 32;
/// The low 32 bits.
const LO: u64 = 0xFFFF_FFFF;
/// At most this many stored weight + bond entries (see the fused engine's notes).
const MAX_ENTRIES: usize = 1 << 29;
/// At most this many cells (`k × n`) in the dense matrices.
const MAX_CELLS: usize = 1 << 22;
/// 2⁵² as binary64, and its bit pattern: `from_bits(x | MAGIC_BITS) − MAGIC = x` for
/// `x < 2⁵²`, and `(y + MAGIC).to_bits() − MAGIC_BITS` is `y` rounded to an integer for
/// `0 ≤ y < 2⁵¹` (the spacing of binary64 numbers in `[2⁵², 2⁵³)` is 1).
const MAGIC: f64 = 4_503_599_627_370_496.0;
const MAGIC_BITS: u64 = 0x4330_0000_0000_0000;
/// 2⁻³² as binary64.
const SCALE: f64 = 1.0 / 4_294_967_296.0;

/// `mul(a, b)` for `a, b ∈ P`: `floor(a·b / 2³²)`.
///
/// With `a, b < 2³²` this is the 64-bit product of the low halves, shifted. If `a = 2³²` the
/// result is `b`, and if `b = 2³²` it is `a` (both hold when both are 2³²).
#[inline(always)]
fn mulp(a: u64, b: u64) -> u64 {
    debug_assert!(a <= ONE_BITS && b <= ONE_BITS);
    let p = ((a & LO) * (b & LO)) >> 32;
    let p = if a > LO { b } else { p };
    if b > LO {
        a
    } else {
        p
    }
}

/// [`mulp`] with `k < 2³²`: only `b` can be 2³² (then the product is `k`).
#[inline(always)]
fn mulk(k: u64, b: u64) -> u64 {
    debug_assert!(k < ONE_BITS && b <= ONE_BITS);
    // `k & LO` is `k`; the mask lets the compiler use a 32 × 32 → 64-bit vector product.
    let p = ((k & LO) * (b & LO)) >> 32;
    if b > LO {
        k
    } else {
        p
    }
}

/// `k`, hidden from the optimizer. The fast loops are entered after a test `k < 2³²`, from
/// which the compiler would drop [`mulk`]'s mask `k & LO`, and with it the knowledge that a
/// 32 × 32 → 64-bit vector product suffices (it then emits a full 64-bit product, several
/// times slower). The value is unchanged.
#[inline(always)]
fn opaque(k: u64) -> u64 {
    std::hint::black_box(k) & LO
}

/// `fixed_proportion_to_u16(x)` for `x ∈ P`: `floor(x·65535 / 2³²)`.
#[inline(always)]
fn p2u16(x: u64) -> u16 {
    debug_assert!(x <= ONE_BITS);
    (((x << 16) - x) >> 32) as u16
}

/// Column divisors for [`divp`] / [`divp_fma`], as parallel arrays (which vectorize better
/// than structs): each divisor `d` (at least 1), `d·2⁻³²` and the binary64 `2³² / d`.
#[derive(Default)]
struct DivCols {
    d: Vec<u64>,
    /// `d·2⁻³²` (exact), for [`divp_fma`].
    df: Vec<f64>,
    inv: Vec<f64>,
}

impl DivCols {
    /// Prepare the divisors `src` (each below 2⁵²). A zero divisor is stored as 1: it is only
    /// ever applied to `x = 0`, which gives 0 either way (`safe_div(0, 0) = 0`).
    #[inline(always)]
    fn set(&mut self, src: &[u64]) {
        let n = src.len();
        self.d.resize(n, 0);
        self.df.resize(n, 0.0);
        self.inv.resize(n, 0.0);
        let (d, df, inv) = (&mut self.d[..n], &mut self.df[..n], &mut self.inv[..n]);
        for j in 0..n {
            debug_assert!(src[j] < 1 << 52);
            let x = src[j].max(1);
            d[j] = x;
            let xf = f64::from_bits(x | MAGIC_BITS) - MAGIC;
            df[j] = xf * SCALE;
            inv[j] = ONE_BITS as f64 / xf;
        }
    }
}

/// A view of `n` prepared divisors of a [`DivCols`].
#[derive(Clone, Copy)]
struct Divs<'a> {
    d: &'a [u64],
    df: &'a [f64],
    inv: &'a [f64],
}

impl<'a> Divs<'a> {
    #[inline(always)]
    fn of(c: &'a DivCols, n: usize) -> Self {
        Divs {
            d: &c.d[..n],
            df: &c.df[..n],
            inv: &c.inv[..n],
        }
    }
}

/// The binary64 `2³² / d` of one divisor `d ≥ 1` for [`divp`].
#[inline(always)]
fn inv_of(d: u64) -> f64 {
    ONE_BITS as f64 / d as f64
}

/// `safe_div(x, d) = floor(x·2³² / d)` for `0 ≤ x ≤ d < 2⁵²`, `d ≥ 1`, `inv = 2³²/d` rounded.
///
/// Why it is exact. Let `t = x·2³²/d ≤ 2³²` and `q = floor(t)`. `x < 2⁵²` converts to binary64
/// exactly (the `MAGIC` trick), `inv = fl(2³²/d)` and `est = fl(x·inv)` are correctly rounded
/// IEEE-754 operations (which Rust guarantees, without contraction into fused multiply-adds),
/// so `|est − t| ≤ t·(2⁻⁵² + 2⁻¹⁰⁶) < 2⁻¹⁹`. Rounding `est` to an integer gives `q0 ∈ {q, q+1}`
/// (`est > q − ½` and `est < q + 1 + 2⁻¹⁹ < q + 3/2`). The remainder `x·2³² − q0·d` lies in
/// `[−d, d)`, well inside the i64 range, so computing it modulo 2⁶⁴ (wrapping) gives it exactly;
/// it is negative exactly when `q0 = q + 1`. The result is therefore `q` whatever the guess's
/// last bits were, and `tests::divp_is_exact` checks it against the 128-bit division.
#[inline(always)]
fn divp(x: u64, d: u64, inv: f64) -> u64 {
    debug_assert!(d >= 1 && x <= d && d < 1 << 52);
    let xf = f64::from_bits(x | MAGIC_BITS) - MAGIC;
    let q0 = (xf * inv + MAGIC).to_bits().wrapping_sub(MAGIC_BITS);
    let r = (x << 32).wrapping_sub(q0.wrapping_mul(d)) as i64;
    let q = q0.wrapping_sub((r < 0) as u64);
    debug_assert_eq!(q as u128, ((x as u128) << 32) / d as u128);
    q
}

/// [`divp`] on CPUs with fused multiply-add: the same guess `q0 ∈ {q, q + 1}` (now from the
/// exact product `x·inv`, rounded once when `2⁵²` is added), and the remainder in units of
/// 2⁻³², `x − q0·(d·2⁻³²) = (x·2³² − q0·d)·2⁻³²`, computed by one fused multiply-add: the
/// numerator is an integer of magnitude below `d < 2⁵²`, so the value is exactly
/// representable, the single rounding of the fused operation leaves it exact, and its sign
/// decides as in [`divp`]. `ds` is `d·2⁻³²` (exact). With `NATIVE` the u64 → binary64
/// conversion is the CPU's (AVX-512), otherwise the `MAGIC` trick; both are exact below 2⁵².
/// `tests::divp_is_exact` checks it.
#[inline(always)]
fn divp_fma<const NATIVE: bool>(x: u64, d: u64, ds: f64, inv: f64) -> u64 {
    debug_assert!(d >= 1 && x <= d && d < 1 << 52 && ds == d as f64 * SCALE);
    let xf = if NATIVE {
        x as f64
    } else {
        f64::from_bits(x | MAGIC_BITS) - MAGIC
    };
    let qm = xf.mul_add(inv, MAGIC);
    let q0 = qm.to_bits().wrapping_sub(MAGIC_BITS);
    let r = (MAGIC - qm).mul_add(ds, xf);
    let q = q0.wrapping_sub((r < 0.0) as u64);
    debug_assert_eq!(q as u128, ((x as u128) << 32) / d as u128);
    q
}

/// [`divp`] or [`divp_fma`].
#[inline(always)]
fn divq<const FMA: bool, const NATIVE: bool>(x: u64, d: u64, ds: f64, inv: f64) -> u64 {
    if FMA {
        divp_fma::<NATIVE>(x, d, ds, inv)
    } else {
        divp(x, d, inv)
    }
}

/// Buffers reused from one epoch to the next (see [`crate::epoch::EpochWorkspace`]).
#[derive(Default)]
pub(crate) struct Workspace {
    /// uids of the dense rows, increasing.
    rows: Vec<usize>,
    /// Active stake of each dense row.
    row_stake: Vec<u64>,
    /// Normalized weights (later the column-normalized EMA), `k × n`.
    w: Vec<u64>,
    /// Stored bond values, `k × n`.
    b: Vec<u32>,
    /// EMA, `k × n`.
    e: Vec<u64>,
    /// Weight presence bitmap (liquid alpha only), `k × ⌈n/64⌉` words.
    present: Vec<u64>,
    /// Per-column scratch.
    col_a: Vec<u64>,
    col_b: Vec<u64>,
    col_c: Vec<u64>,
    cons: Vec<u64>,
    inc: Vec<u64>,
    div_a: DivCols,
    div_b: DivCols,
    /// Keep mask of the bond columns (`u32::MAX` = keep).
    bond_keep: Vec<u32>,
    /// Per-row scratch.
    row_u16: Vec<u16>,
    /// EMA factor rows (see `ema_row`), `3 × n`.
    fac: Vec<u32>,
    /// Weighted median: offsets into `w` and stakes of the staked rows, the bucket members
    /// of a block of columns and one selection window.
    staked_off: Vec<usize>,
    staked_s: Vec<i64>,
    members: Vec<u32>,
    window: Vec<(u64, i64)>,
}

/// Which copy of the engine runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    Base,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Isa {
    /// Every copy this CPU can run, the fastest last.
    pub(crate) fn available() -> Vec<Isa> {
        #[allow(unused_mut)]
        let mut v = vec![Isa::Base];
        #[cfg(target_arch = "x86_64")]
        {
            if avx2_detected() {
                v.push(Isa::Avx2);
            }
            if avx512_detected() {
                v.push(Isa::Avx512);
            }
        }
        v
    }

    /// The fastest available copy (detected once).
    pub(crate) fn best() -> Isa {
        use std::sync::OnceLock;
        static BEST: OnceLock<Isa> = OnceLock::new();
        *BEST.get_or_init(|| *Isa::available().last().expect("baseline"))
    }
}

#[cfg(target_arch = "x86_64")]
fn avx2_detected() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("bmi1")
        && std::arch::is_x86_feature_detected!("bmi2")
        && std::arch::is_x86_feature_detected!("lzcnt")
        && std::arch::is_x86_feature_detected!("popcnt")
        && std::arch::is_x86_feature_detected!("fma")
}

#[cfg(target_arch = "x86_64")]
fn avx512_detected() -> bool {
    avx2_detected()
        && std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512dq")
        && std::arch::is_x86_feature_detected!("avx512vl")
        && std::arch::is_x86_feature_detected!("avx512bw")
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,lzcnt,popcnt,fma")]
fn run_avx2(
    ws: &mut Workspace,
    hp: &Hyperparameters,
    state: &SubnetState,
    ctx: &EpochContext,
) -> Option<EpochOutput> {
    run_impl::<false, true>(ws, hp, state, ctx)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,lzcnt,popcnt,fma,avx512f,avx512dq,avx512vl,avx512bw")]
fn run_avx512(
    ws: &mut Workspace,
    hp: &Hyperparameters,
    state: &SubnetState,
    ctx: &EpochContext,
) -> Option<EpochOutput> {
    run_impl::<true, true>(ws, hp, state, ctx)
}

fn run_base(
    ws: &mut Workspace,
    hp: &Hyperparameters,
    state: &SubnetState,
    ctx: &EpochContext,
) -> Option<EpochOutput> {
    run_impl::<false, false>(ws, hp, state, ctx)
}

/// Run the dense engine with the given copy (which must be in [`Isa::available`]) on an input
/// whose lengths [`crate::epoch::run_epoch`] has checked; `None` if it does not cover it.
pub(crate) fn run_dense(
    ws: &mut Workspace,
    hp: &Hyperparameters,
    state: &SubnetState,
    ctx: &EpochContext,
    isa: Isa,
) -> Option<EpochOutput> {
    match isa {
        Isa::Base => run_base(ws, hp, state, ctx),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => {
            assert!(avx2_detected());
            // SAFETY: the only requirement of a `#[target_feature]` function is that the CPU
            // supports the features it enables; every one of them was detected just above.
            unsafe { run_avx2(ws, hp, state, ctx) }
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => {
            assert!(avx512_detected());
            // SAFETY: as above, every enabled feature was detected at run time.
            unsafe { run_avx512(ws, hp, state, ctx) }
        }
    }
}

/// §4.2: `fixed64_to_fixed32(inplace_normalize_64(filtered stake))`; see the module notes.
#[inline(always)]
fn normalized_stake(filtered: &[I64F64]) -> Vec<I32F32> {
    let slow = || {
        let mut f = filtered.to_vec();
        inplace_normalize_64(&mut f);
        f.into_iter().map(i64f64_to_i32f32).collect::<Vec<_>>()
    };
    let mut total: i128 = 0;
    let mut or_bits: u128 = 0;
    for s in filtered {
        let b = s.to_bits();
        if b < 0 {
            return slow();
        }
        let Some(t) = total.checked_add(b) else {
            return slow();
        };
        total = t;
        or_bits |= b as u128;
    }
    if total == 0 {
        return slow();
    }
    // Every stake (hence the total) is a multiple of 2^tz.
    let tz = or_bits.trailing_zeros();
    let d = (total as u128) >> tz;
    if d > u64::MAX as u128 {
        return slow();
    }
    let d = d as u64;
    let inv = ONE_BITS as f64 / d as f64;
    filtered
        .iter()
        .map(|s| {
            // a ≤ d; q = floor(a·2³²/d) ≤ 2³². The guess is within 2⁻¹⁹ of the quotient (three
            // correctly rounded steps on a value ≤ 2³²), so rounding it gives q or q + 1, and
            // the exact remainder a·2³² − q0·d (|·| < 2⁶⁵ + 2⁶⁴, an i128) tells which.
            let a = ((s.to_bits() as u128) >> tz) as u64;
            let q0 = ((a as f64) * inv + MAGIC)
                .to_bits()
                .wrapping_sub(MAGIC_BITS);
            let r = ((a as i128) << 32) - (q0 as i128) * (d as i128);
            let q = if r < 0 { q0 - 1 } else { q0 };
            debug_assert_eq!(q as u128, ((a as u128) << 32) / d as u128);
            I32F32::from_bits(q as i64)
        })
        .collect()
}

/// `is_topk_nonzero` for non-negative stakes below 2⁴⁷ raw: the `n − k` smallest
/// `(stake, uid)` keys are those the chain's stable sort puts first.
#[inline(always)]
fn topk(stake: &[I32F32], k: usize) -> Vec<bool> {
    let n = stake.len();
    let mut result: Vec<bool> = stake.iter().map(|&v| v != ZERO).collect();
    if n <= k {
        // n < k: nothing cleared; n = k: n − k = 0 entries cleared.
        return result;
    }
    if !stake.iter().all(|s| (0..1 << 47).contains(&s.to_bits())) {
        return is_topk_nonzero(stake, k);
    }
    let mut keys: Vec<u64> = stake
        .iter()
        .enumerate()
        .map(|(i, s)| (s.to_bits() as u64) << 16 | i as u64)
        .collect();
    let cut = n - k;
    if cut == n {
        return vec![false; n];
    }
    keys.select_nth_unstable(cut);
    for &key in &keys[..cut] {
        result[(key & 0xFFFF) as usize] = false;
    }
    result
}

/// At most this many missing columns inside a row's span for [`scatter_runs`].
const MAX_GAPS: usize = 32;

/// Scatter one stored row into a dense row of width `n` (zeroing the columns it lacks);
/// `false` if its columns are not strictly increasing. Columns ≥ n are dropped.
///
/// Rows are mostly runs of consecutive columns (all of them, or all but a few): a row whose
/// span `first..=last` (inside `0..n`) lacks at most [`MAX_GAPS`] columns is copied run by
/// run ([`scatter_runs`]), others by [`scatter_chunks`].
#[inline(always)]
fn scatter_row<T: Copy + Default + From<u16>>(src: &[(u16, u16)], dst: &mut [T]) -> bool {
    let (n, len) = (dst.len(), src.len());
    let (Some(a), Some(b)) = (src.first(), src.last()) else {
        dst.fill(T::default());
        return true;
    };
    if near_dense(a.0, b.0, len, n) {
        scatter_runs(src, dst)
    } else {
        scatter_chunks(src, dst)
    }
}

/// Whether a row of `len` entries from column `first` to `last` lies inside `0..n` and its
/// span lacks at most [`MAX_GAPS`] columns (it may still be unsorted).
#[inline(always)]
fn near_dense(first: u16, last: u16, len: usize, n: usize) -> bool {
    let (first, last) = (first as usize, last as usize);
    last < n && first <= last && last - first + 1 >= len && last - first + 1 - len <= MAX_GAPS
}

/// [`scatter_row`] for a non-empty row whose columns are below `n = dst.len() ≤ 65535`, as
/// maximal runs of consecutive columns, each written with one bulk copy that also checks it.
///
/// Why it is exact. A run starting at position `p` with column `c0` is the longest stretch
/// `p..e` with `src[q].0 = q + (c0 − p)`; if the row is strictly increasing, `src[q].0 − q` is
/// non-decreasing, so that predicate holds on a prefix of `p..` and a binary search finds `e`
/// (capped so that the run fits below `n`). Whatever the row, the copy checks every column of
/// the run against `q + (c0 − p)` (so a run is really consecutive), and each run must start
/// above the last column written (`c0 ≥ next`). A row that passes both is therefore strictly
/// increasing and its cells are the runs' values with zeros between, exactly the scatter;
/// and a strictly increasing row passes (its runs are consecutive and increasing). Each run
/// advances `p`, so the loop ends.
#[inline(always)]
fn scatter_runs<T: Copy + Default + From<u16>>(src: &[(u16, u16)], dst: &mut [T]) -> bool {
    let (n, len) = (dst.len(), src.len());
    debug_assert!(len > 0 && n <= u16::MAX as usize);
    let mut p = 0usize;
    let mut next = 0usize;
    let mut bad = 0u16;
    while p < len {
        let c0 = src[p].0 as usize;
        if c0 < next || c0 >= n {
            return false;
        }
        dst[next..c0].fill(T::default());
        let d = c0.wrapping_sub(p);
        let run = |q: usize| src[q].0 as usize == q.wrapping_add(d);
        // The run ends at e ∈ (p, cap]: `run(p)` holds, and usually the rest is one run.
        let cap = len.min(p + (n - c0));
        let e = if run(cap - 1) {
            cap
        } else {
            // run(lo − 1) holds and run(hi) does not: the first q > p where it fails.
            let (mut lo, mut hi) = (p + 1, cap - 1);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if run(mid) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            lo
        };
        let m = e - p;
        let (s, o) = (&src[p..e], &mut dst[c0..c0 + m]);
        for t in 0..m {
            o[t] = T::from(s[t].1);
            bad |= s[t].0 ^ (c0 + t) as u16;
        }
        next = c0 + m;
        p = e;
    }
    dst[next..].fill(T::default());
    bad == 0
}

/// [`scatter_row`] for any row: each chunk of 16 entries of a strictly increasing row is one
/// run exactly when its last column is its first plus 15, and is then copied in bulk.
#[inline(always)]
fn scatter_chunks<T: Copy + Default + From<u16>>(src: &[(u16, u16)], dst: &mut [T]) -> bool {
    let n = dst.len();
    if src.len() == n {
        let src = &src[..n];
        let mut off = 0u32;
        for (p, e) in src.iter().enumerate() {
            off |= e.0 as u32 ^ p as u32;
        }
        if off == 0 {
            for p in 0..n {
                dst[p] = T::from(src[p].1);
            }
            return true;
        }
    }
    // Plain integer arithmetic (vectorizes without mask juggling): `b − a − 1` is negative
    // exactly when the next column `b` is not above the previous `a`.
    let mut bad = 0i32;
    if let Some(rest) = src.get(1..) {
        for (a, b) in src.iter().zip(rest) {
            bad |= b.0 as i32 - a.0 as i32 - 1;
        }
    }
    if bad < 0 {
        return false;
    }
    let src = &src[..src.partition_point(|e| (e.0 as usize) < n)];
    dst.fill(T::default());
    const CH: usize = 16;
    let mut chunks = src.chunks_exact(CH);
    for c in &mut chunks {
        let first = c[0].0 as usize;
        if c[CH - 1].0 as usize - first == CH - 1 {
            let d = &mut dst[first..first + CH];
            for t in 0..CH {
                d[t] = T::from(c[t].1);
            }
        } else {
            for e in c {
                dst[e.0 as usize] = T::from(e.1);
            }
        }
    }
    for e in chunks.remainder() {
        dst[e.0 as usize] = T::from(e.1);
    }
    true
}

/// The row-normalized weights of a row stored with exactly the columns `0..n` (`n =
/// dst.len()`), none masked except the diagonal column `diag` (`n` if none): the same cells as
/// scattering it, zeroing `diag`, summing and dividing by the sum ([`divq`]), in two passes
/// (copy, check and sum; then divide in place). `None` if the columns are not
/// `0..n` (nothing is decided, the caller scatters the row), `Some(false)` if the sum is out
/// of range (the engine declines), else `Some(true)`.
#[inline(always)]
fn full_weight_row<const FMA: bool, const NATIVE: bool>(
    src: &[(u16, u16)],
    diag: usize,
    dst: &mut [u64],
) -> Option<bool> {
    let n = dst.len();
    let src = &src[..n];
    let (mut bad, mut s) = (0u32, 0u64);
    for (p, (x, e)) in dst.iter_mut().zip(src).enumerate() {
        *x = e.1 as u64;
        bad |= e.0 as u32 ^ p as u32;
        s += e.1 as u64;
    }
    if bad != 0 {
        return None;
    }
    if diag < n {
        s -= dst[diag];
        dst[diag] = 0;
    }
    if s >= 1 << 31 {
        return Some(false);
    }
    if s > 0 {
        let (sf, inv) = (s as f64 * SCALE, inv_of(s));
        for x in dst.iter_mut() {
            *x = divq::<FMA, NATIVE>(*x, s, sf, inv);
        }
    }
    Some(true)
}

/// Weighted medians (see the module notes) of the `C` columns `j0..j0 + C`: for each, the
/// smallest value whose cumulative stake exceeds `minority`, or the largest value when the
/// whole stake does not. The staked rows start at `offs` in `w` with (positive) stakes
/// `stakes`, summing exactly to `total`; `colmax` are the columns' largest values over those
/// rows. Two passes over the rows, the `C` columns interleaved: a 32-bucket stake histogram of
/// each column's top 5 value bits, then the members of the one bucket that crosses the
/// minority, in which [`select_window`] finishes.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn median_block<const C: usize>(
    w: &[u64],
    j0: usize,
    offs: &[usize],
    stakes: &[i64],
    colmax: &[u64],
    total: i64,
    minority: i64,
    members: &mut [u32],
    window: &mut [(u64, i64)],
    out: &mut [u64],
) {
    let ks = offs.len();
    let (colmax, out) = (&colmax[..C], &mut out[..C]);
    let mut sh = [0u32; C];
    let mut open = false;
    for c in 0..C {
        let m = colmax[c];
        out[c] = if ks == 0 || m == 0 {
            0
        } else if total <= minority {
            m
        } else {
            open = true;
            u64::MAX // decided below
        };
        sh[c] = (64 - m.leading_zeros()).saturating_sub(5);
    }
    if !open {
        return;
    }
    let mut h = [[0i64; 32]; C];
    for (&off, &s) in offs.iter().zip(stakes) {
        let x = &w[off + j0..off + j0 + C];
        for c in 0..C {
            h[c][((x[c] >> sh[c]) & 31) as usize] += s;
        }
    }
    // Per column, the first non-empty bucket whose cumulative stake exceeds the minority (it
    // exists: the buckets hold the whole stake, total > minority), and the stake below it.
    let mut digit = [0u64; C];
    let mut base = [0i64; C];
    for c in 0..C {
        let (mut b, mut d) = (0i64, 0u64);
        for &hd in &h[c] {
            if hd > 0 && b + hd > minority {
                break;
            }
            b += hd;
            d += 1;
        }
        debug_assert!(d < 32 || out[c] != u64::MAX);
        digit[c] = d;
        base[c] = b;
    }
    // The members of each chosen bucket (branch-free append: the slot written for row t is at
    // most t, since it counts the members among the rows before t).
    let members = &mut members[..C * ks];
    let mut len = [0usize; C];
    for (t, &off) in offs.iter().enumerate() {
        let x = &w[off + j0..off + j0 + C];
        for c in 0..C {
            members[c * ks + len[c]] = t as u32;
            len[c] += ((x[c] >> sh[c]) == digit[c]) as usize;
        }
    }
    for c in 0..C {
        if out[c] != u64::MAX {
            continue;
        }
        let win = &mut window[..len[c]];
        for (e, &t) in win.iter_mut().zip(&members[c * ks..c * ks + len[c]]) {
            let t = t as usize;
            *e = (w[offs[t] + j0 + c], stakes[t]);
        }
        out[c] = select_window(win, base[c], minority);
    }
}

/// Width of a [`median_bracket`] block: 32 columns, four 512-bit vectors.
const BRACKET: usize = 32;

/// Weighted medians of the `BRACKET` columns `j0..j0 + BRACKET`, one column per vector lane
/// (for CPUs with 64-bit vector min/max, i.e. AVX-512); same inputs and result as
/// [`median_block`], found differently.
///
/// Per column, `v* = min{v : C(v) > minority}` with `C(v)` the stake of the values `≤ v` (the
/// module notes). The search keeps two data values `a ≤ v* ≤ b` with `C(< a) ≤ minority <
/// C(b)`, starting from the column's minimum and maximum (the cases `minority < 0`, which
/// selects the minimum, and `total ≤ minority`, the maximum, are answered directly). A pass
/// over the rows at a pivot `a ≤ t < b` gives `C(t)`, the largest value `≤ t` and the smallest
/// value `> t`: if `C(t) > minority` then `v* ≤ t`, so `v*` is at most the largest value `≤ t`,
/// which becomes `b`; otherwise `v* > t` and the smallest value `> t` becomes `a`. Either way
/// the bracket shrinks by at least one data value, and it closes on `v*`. The pivot is only a
/// guess (first the stake-weighted mean, then interpolated on the stake, or the midpoint when
/// the last passes did not halve the bracket): any pivot in `[a, b)` keeps the invariant, so its
/// (binary64) arithmetic does not affect the result.
///
/// With `NATIVE` (only in the AVX-512 copy, see [`bracket_pass`]) the passes use AVX-512
/// masked operations.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn median_bracket<const NATIVE: bool>(
    w: &[u64],
    j0: usize,
    offs: &[usize],
    stakes: &[i64],
    total: i64,
    minority: i64,
    out: &mut [u64],
) {
    const L: usize = BRACKET;
    // Interpolation usually closes in a few passes; bisecting after one slow pass cost more
    // passes than it saved (5.5 instead of 6.6 per block on the bench), but after a few it
    // bounds the worst case.
    const STALL: u8 = 4;
    let out = &mut out[..L];
    if offs.is_empty() {
        out.fill(0);
        return;
    }
    let mut a = [u64::MAX; L];
    let mut b = [0u64; L];
    let mut mean = [0f64; L]; // Σ stake·value, for the first pivot
    for (&off, &s) in offs.iter().zip(stakes) {
        let x = &w[off + j0..off + j0 + L];
        let sf = s as f64;
        for l in 0..L {
            a[l] = a[l].min(x[l]);
            b[l] = b[l].max(x[l]);
            mean[l] += sf * x[l] as f64;
        }
    }
    if total <= minority {
        out.copy_from_slice(&b);
        return;
    }
    if minority < 0 {
        out.copy_from_slice(&a);
        return;
    }
    let mut ca = [0i64; L]; // C(< a)
    let mut cb = [total; L]; // C(b)
                             // Passes in a row that did not halve the bracket; from STALL on, the next pivot bisects.
    let mut stall = [0u8; L];
    let mut first = true;
    let mut t = [0u64; L];
    let mut c = [0i64; L];
    let mut pred = [0u64; L];
    let mut succ = [u64::MAX; L];
    loop {
        let mut open = false;
        for l in 0..L {
            let span = b[l] - a[l];
            open |= span != 0;
            t[l] = if span == 0 {
                a[l]
            } else if first {
                // The stake-weighted mean, clamped into [a, b).
                guess_u64(mean[l] / total as f64).clamp(a[l], b[l] - 1)
            } else if stall[l] >= STALL {
                a[l] + (span - 1) / 2
            } else {
                let f = (minority - ca[l]) as f64 / (cb[l] - ca[l]) as f64;
                a[l] + guess_u64(span as f64 * f).min(span - 1)
            };
        }
        if !open {
            break;
        }
        first = false;
        c.fill(0);
        pred.fill(0);
        succ.fill(u64::MAX);
        // Vectors of 8 columns that are all closed are skipped (their results are unused).
        let mut live = [false; L / 8];
        for (l, (x, y)) in a.iter().zip(&b).enumerate() {
            live[l / 8] |= x != y;
        }
        bracket_pass::<NATIVE>(w, j0, offs, stakes, &t, live, &mut c, &mut pred, &mut succ);
        for l in 0..L {
            let span = b[l] - a[l];
            if span == 0 {
                continue;
            }
            if c[l] > minority {
                b[l] = pred[l];
                cb[l] = c[l];
            } else {
                a[l] = succ[l];
                ca[l] = c[l];
            }
            stall[l] = if b[l] - a[l] > span / 2 {
                stall[l].saturating_add(1)
            } else {
                0
            };
        }
    }
    out.copy_from_slice(&a);
}

/// One pass of [`median_bracket`] over the staked rows at the pivots `t`: per column `l`, adds
/// to `c[l]` the stake of the values `≤ t[l]`, raises `pred[l]` to the largest such value and
/// lowers `succ[l]` to the smallest value `> t[l]` (the caller starts them at 0, 0 and
/// `u64::MAX`).
///
/// `NATIVE` must only be set when the CPU supports AVX-512 F: it is the `WIDE` flag of
/// [`run_impl`], which is true only in [`run_avx512`] (entered after `avx512_detected()`),
/// and the tests pass it only after checking `avx512_detected()`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn bracket_pass<const NATIVE: bool>(
    w: &[u64],
    j0: usize,
    offs: &[usize],
    stakes: &[i64],
    t: &[u64; BRACKET],
    live: [bool; BRACKET / 8],
    c: &mut [i64; BRACKET],
    pred: &mut [u64; BRACKET],
    succ: &mut [u64; BRACKET],
) {
    #[cfg(target_arch = "x86_64")]
    if NATIVE {
        debug_assert!(avx512_detected());
        // SAFETY: the function's only requirement is that the CPU supports AVX-512 F, which
        // holds whenever `NATIVE` is set (see above).
        unsafe { bracket_pass_avx512(w, j0, offs, stakes, t, live, c, pred, succ) };
        return;
    }
    let _ = live; // the portable loop computes every column
    for (&off, &s) in offs.iter().zip(stakes) {
        let x = &w[off + j0..off + j0 + BRACKET];
        // m = all ones where x ≤ t (integer masks vectorize best).
        for l in 0..BRACKET {
            let m = ((x[l] <= t[l]) as u64).wrapping_neg();
            c[l] += s & m as i64;
            pred[l] = pred[l].max(x[l] & m);
            succ[l] = succ[l].min(x[l] | m);
        }
    }
}

/// [`bracket_pass`] with AVX-512 masked operations: per row and vector of 8 columns, one
/// compare and three merge-masked updates (the compiler's code for the portable loop blends
/// each update separately).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
fn bracket_pass_avx512(
    w: &[u64],
    j0: usize,
    offs: &[usize],
    stakes: &[i64],
    t: &[u64; BRACKET],
    live: [bool; BRACKET / 8],
    c: &mut [i64; BRACKET],
    pred: &mut [u64; BRACKET],
    succ: &mut [u64; BRACKET],
) {
    use std::arch::x86_64::*;
    const V: usize = BRACKET / 8;
    let mut tv = [_mm512_setzero_si512(); V];
    let mut cv = tv;
    let mut pv = tv;
    let mut sv = tv;
    for q in 0..V {
        // SAFETY: each array has BRACKET = 8·V elements, so elements 8q..8q + 8 are in
        // bounds; unaligned loads have no alignment requirement.
        unsafe {
            tv[q] = _mm512_loadu_si512(t.as_ptr().add(8 * q).cast());
            cv[q] = _mm512_loadu_si512(c.as_ptr().add(8 * q).cast());
            pv[q] = _mm512_loadu_si512(pred.as_ptr().add(8 * q).cast());
            sv[q] = _mm512_loadu_si512(succ.as_ptr().add(8 * q).cast());
        }
    }
    if live.iter().all(|&l| l) {
        for (&off, &s) in offs.iter().zip(stakes) {
            let x = &w[off + j0..off + j0 + BRACKET];
            let s = _mm512_set1_epi64(s);
            for q in 0..V {
                // SAFETY: `x` has BRACKET elements (the slice above is bounds-checked).
                let xv = unsafe { _mm512_loadu_si512(x.as_ptr().add(8 * q).cast()) };
                let le = _mm512_cmple_epu64_mask(xv, tv[q]);
                cv[q] = _mm512_mask_add_epi64(cv[q], le, cv[q], s);
                pv[q] = _mm512_mask_max_epu64(pv[q], le, pv[q], xv);
                sv[q] = _mm512_mask_min_epu64(sv[q], !le, sv[q], xv);
            }
        }
    } else {
        // Only the live vectors, one at a time (the last passes of a block have few).
        for q in (0..V).filter(|&q| live[q]) {
            let (tq, mut cq, mut pq, mut sq) = (tv[q], cv[q], pv[q], sv[q]);
            for (&off, &s) in offs.iter().zip(stakes) {
                let x = &w[off + j0 + 8 * q..off + j0 + 8 * q + 8];
                // SAFETY: `x` has 8 elements (the slice above is bounds-checked).
                let xv = unsafe { _mm512_loadu_si512(x.as_ptr().cast()) };
                let le = _mm512_cmple_epu64_mask(xv, tq);
                cq = _mm512_mask_add_epi64(cq, le, cq, _mm512_set1_epi64(s));
                pq = _mm512_mask_max_epu64(pq, le, pq, xv);
                sq = _mm512_mask_min_epu64(sq, !le, sq, xv);
            }
            (cv[q], pv[q], sv[q]) = (cq, pq, sq);
        }
    }
    for q in 0..V {
        // SAFETY: as for the loads above.
        unsafe {
            _mm512_storeu_si512(c.as_mut_ptr().add(8 * q).cast(), cv[q]);
            _mm512_storeu_si512(pred.as_mut_ptr().add(8 * q).cast(), pv[q]);
            _mm512_storeu_si512(succ.as_mut_ptr().add(8 * q).cast(), sv[q]);
        }
    }
}

/// `y` rounded to an integer, for `0 ≤ y < 2⁵¹` (the `MAGIC` trick; other values give some
/// u64). For pivot guesses only, which the callers clamp into the bracket: unlike `as u64`
/// (a saturating conversion), it vectorizes.
#[inline(always)]
fn guess_u64(y: f64) -> u64 {
    (y + MAGIC).to_bits().wrapping_sub(MAGIC_BITS)
}

/// The smallest value `v` of `window` with `base + Σ_{x ≤ v} stake > minority` (which exists:
/// `base + stake(window) > minority`), where `base` is the stake of the lower values outside.
/// Same invariant as `sparse::weighted_quantile_pairs`, whose radix step is used on large
/// windows; small ones take the minimum repeatedly.
#[inline(always)]
fn select_window(window: &mut [(u64, i64)], mut base: i64, minority: i64) -> u64 {
    let mut len = window.len();
    debug_assert!(len > 0);
    loop {
        if len == 1 {
            return window[0].0;
        }
        if len <= 8 {
            loop {
                let m = window[..len].iter().map(|e| e.0).min().unwrap_or(0);
                let s: i64 = window[..len]
                    .iter()
                    .map(|e| if e.0 == m { e.1 } else { 0 })
                    .sum();
                if base + s > minority || s == 0 {
                    return m;
                }
                base += s;
                let mut kept = 0usize;
                for i in 0..len {
                    let e = window[i];
                    window[kept] = e;
                    kept += (e.0 != m) as usize;
                }
                len = kept;
                if len == 0 {
                    return m; // unreachable with a consistent total
                }
            }
        }
        let k0 = window[0].0;
        let diff = window[..len].iter().fold(0u64, |d, e| d | (e.0 ^ k0));
        if diff == 0 {
            return k0;
        }
        let shift = (63 - diff.leading_zeros()).saturating_sub(3);
        let mut h = [0i64; 16];
        for e in &window[..len] {
            h[((e.0 >> shift) & 15) as usize] += e.1;
        }
        let mut digit = 0u64;
        for &hd in &h {
            if hd > 0 && base + hd > minority {
                break;
            }
            base += hd;
            digit += 1;
        }
        let mut kept = 0usize;
        for i in 0..len {
            let e = window[i];
            window[kept] = e;
            kept += (((e.0 >> shift) & 15) == digit) as usize;
        }
        len = kept;
        if len == 0 {
            return 0; // unreachable with a consistent total
        }
    }
}

/// The engine body (see the module notes); instantiated once per instruction set.
#[inline(always)]
fn run_impl<const WIDE: bool, const FMA: bool>(
    ws: &mut Workspace,
    hp: &Hyperparameters,
    state: &SubnetState,
    ctx: &EpochContext,
) -> Option<EpochOutput> {
    let n = state.n();
    if n == 0 {
        return None;
    }
    let total_weights: usize = state.weights.iter().map(Vec::len).sum();
    let total_bonds: usize = state.bonds.iter().map(Vec::len).sum();
    if total_weights.saturating_add(total_bonds) >= MAX_ENTRIES {
        return None;
    }
    let alpha = bonds_moving_average_alpha(hp.bonds_moving_average).to_bits();
    if !(0..=ONE_BITS as i64).contains(&alpha) {
        return None;
    }
    let alpha = alpha as u64;
    let one_minus = ONE_BITS - alpha;
    let owner = ctx.owner_uid.map(|u| u as usize).filter(|&u| u < n);
    let block = ctx.current_block;

    // §4.1 activity.
    let active: Vec<bool> = state
        .last_update
        .iter()
        .map(|&u| u.saturating_add(hp.activity_cutoff_blocks) >= block)
        .collect();

    // §4.2 stake.
    let filtered: Vec<I64F64> = state
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
    let stake = normalized_stake(&filtered);

    // §4.3 permits.
    let mut old_permit = state.validator_permit.clone();
    if let Some(o) = owner {
        old_permit[o] = true;
    }
    let mut new_permit = topk(&stake, hp.max_allowed_validators as usize);
    if let Some(o) = owner {
        new_permit[o] = true;
    }

    // §4.4 active stake.
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
    if !active_stake
        .iter()
        .all(|s| (0..=ONE_BITS as i64).contains(&s.to_bits()))
    {
        return None;
    }

    // The dense rows: every uid with a (permitted) weight row, a bond row or active stake.
    ws.rows.clear();
    ws.rows.extend((0..n).filter(|&i| {
        (old_permit[i] && !state.weights[i].is_empty())
            || !state.bonds[i].is_empty()
            || active_stake[i] != ZERO
    }));
    let k = ws.rows.len();
    // Dense work must stay within a small factor of the sparse work, and the matrices within
    // MAX_CELLS cells (about 80 MB of buffers; larger subnets take the sparse engine).
    let cells = k.saturating_mul(n);
    if cells > 8 * (total_weights + total_bonds) + 4096 || cells > MAX_CELLS {
        return None;
    }
    ws.row_stake.clear();
    ws.row_stake
        .extend(ws.rows.iter().map(|&i| active_stake[i].to_bits() as u64));
    let liquid_mode = hp.yuma3 && hp.liquid_alpha;
    let words = n.div_ceil(64);
    // Row stride of the dense matrices: room for whole median blocks, and an odd number of
    // cache lines so that a column's entries do not all fall into the same few L1 sets.
    let ns = {
        let s = n.div_ceil(BRACKET) * BRACKET;
        if (s / 8).is_multiple_of(2) {
            s + 8
        } else {
            s
        }
    };

    // §4.5 weights, row-normalized, and §4.10 stored bonds, both dense.
    let reg = &state.block_at_registration[..n];
    let max_reg = reg.iter().copied().max().unwrap_or(0);
    let last_tempo = ctx.last_tempo;
    let all_old = reg.iter().all(|&r| last_tempo > r);
    ws.bond_keep.clear();
    ws.bond_keep.extend(
        reg.iter()
            .map(|&r| if last_tempo > r { u32::MAX } else { 0 }),
    );
    ws.w.resize(k * ns, 0);
    ws.b.resize(k * ns, 0);
    ws.col_a.clear();
    ws.col_a.resize(n, 0); // bond column sums
    if liquid_mode {
        ws.present.clear();
        ws.present.resize(k * words, 0);
    }
    for r in 0..k {
        let i = ws.rows[r];
        // The padding columns of the weights stay 0 (the median blocks read them).
        ws.w[r * ns + n..(r + 1) * ns].fill(0);
        let wrow = &mut ws.w[r * ns..r * ns + n];
        if old_permit[i] && !liquid_mode && state.weights[i].len() == n {
            // A full row, unmasked (the common case): straight from the stored pairs.
            let lu = state.last_update[i];
            let cb = ctx.commit_blocks.as_ref().map_or(u64::MAX, |c| c[i]);
            if lu > max_reg && cb >= max_reg {
                let diag = if owner != Some(i) { i } else { n };
                match full_weight_row::<FMA, WIDE>(&state.weights[i], diag, wrow) {
                    Some(true) => continue,
                    Some(false) => return None,
                    None => {} // not the columns 0..n: the general path below
                }
            }
        }
        if old_permit[i] {
            let src = &state.weights[i];
            if !scatter_row(src, wrow) {
                return None;
            }
            let mask_diag = owner != Some(i);
            if mask_diag {
                wrow[i] = 0;
            }
            let lu = state.last_update[i];
            let cb = ctx.commit_blocks.as_ref().map_or(u64::MAX, |c| c[i]);
            let masked = !(lu > max_reg && cb >= max_reg);
            if masked {
                for j in 0..n {
                    let rg = reg[j];
                    if !(lu > rg && cb >= rg) {
                        wrow[j] = 0;
                    }
                }
            }
            if liquid_mode {
                // Presence after the masks (a masked entry is absent). The row's columns
                // increase, so each bitmap word is assembled in a register.
                let p = &mut ws.present[r * words..(r + 1) * words];
                let (mut word, mut bits) = (0usize, 0u64);
                for &(j, _) in src {
                    let ju = j as usize;
                    if ju >= n {
                        break;
                    }
                    if ju >> 6 != word {
                        p[word] = bits;
                        word = ju >> 6;
                        bits = 0;
                    }
                    bits |= 1 << (ju & 63);
                }
                p[word] = bits;
                if mask_diag {
                    p[i >> 6] &= !(1 << (i & 63));
                }
                if masked {
                    for (j, &rg) in reg.iter().enumerate() {
                        if !(lu > rg && cb >= rg) {
                            p[j >> 6] &= !(1 << (j & 63));
                        }
                    }
                }
            }
            let mut s = 0u64;
            for &x in wrow.iter() {
                s += x;
            }
            if s >= 1 << 31 {
                return None;
            }
            if s > 0 {
                let (sf, inv) = (s as f64 * SCALE, inv_of(s));
                for x in wrow.iter_mut() {
                    *x = divq::<FMA, WIDE>(*x, s, sf, inv);
                }
            }
        } else {
            wrow.fill(0);
        }
    }
    for r in 0..k {
        let i = ws.rows[r];
        let brow = &mut ws.b[r * ns..r * ns + n];
        if !scatter_row(&state.bonds[i], brow) {
            return None;
        }
        let bsum = &mut ws.col_a[..n];
        if all_old {
            for j in 0..n {
                bsum[j] += brow[j] as u64;
            }
        } else {
            let keep = &ws.bond_keep[..n];
            for j in 0..n {
                brow[j] &= keep[j];
                bsum[j] += brow[j] as u64;
            }
        }
    }
    if !hp.yuma3 && ws.col_a.iter().any(|&s| s >= 1 << 31) {
        return None;
    }

    // §4.6 consensus: the median's stakes are the positive active stakes, re-normalized.
    let kappa = u16_proportion_to_fixed(hp.kappa_u16);
    let mut use_stake: Vec<I32F32> = ws
        .rows
        .iter()
        .map(|&i| active_stake[i])
        .filter(|&s| s > ZERO)
        .collect();
    inplace_normalize(&mut use_stake);
    let stake_sum = sum(use_stake.iter().copied());
    let exact_total: i128 = use_stake.iter().map(|s| s.to_bits() as i128).sum();
    if !(use_stake.iter().all(|&s| s > ZERO) && exact_total <= i64::MAX as i128) {
        return None;
    }
    let minority = sub(stake_sum, kappa).to_bits();
    ws.staked_off.clear();
    ws.staked_s.clear();
    for r in 0..k {
        if ws.row_stake[r] > 0 {
            ws.staked_off.push(r * ns);
        }
    }
    ws.staked_s.extend(use_stake.iter().map(|s| s.to_bits()));
    let ks = ws.staked_off.len();

    ws.cons.clear();
    ws.cons.resize(ns, 0);
    let total = exact_total as i64;
    if WIDE {
        let mut j0 = 0usize;
        while j0 < n {
            median_bracket::<WIDE>(
                &ws.w,
                j0,
                &ws.staked_off,
                &ws.staked_s,
                total,
                minority,
                &mut ws.cons[j0..],
            );
            j0 += BRACKET;
        }
    } else {
        // Column maxima over the staked rows, then blocks of 4 columns.
        let colmax = &mut ws.col_b;
        colmax.clear();
        colmax.resize(ns, 0);
        for &off in &ws.staked_off {
            let (m, x) = (&mut colmax[..n], &ws.w[off..off + n]);
            for j in 0..n {
                m[j] = m[j].max(x[j]);
            }
        }
        ws.members.resize(4 * ks, 0);
        ws.window.resize(ks + 1, (0, 0));
        let mut j0 = 0usize;
        while j0 + 4 <= n {
            median_block::<4>(
                &ws.w,
                j0,
                &ws.staked_off,
                &ws.staked_s,
                &colmax[j0..],
                total,
                minority,
                &mut ws.members,
                &mut ws.window,
                &mut ws.cons[j0..],
            );
            j0 += 4;
        }
        while j0 < n {
            median_block::<1>(
                &ws.w,
                j0,
                &ws.staked_off,
                &ws.staked_s,
                &colmax[j0..],
                total,
                minority,
                &mut ws.members,
                &mut ws.window,
                &mut ws.cons[j0..],
            );
            j0 += 1;
        }
    }
    let cons = &ws.cons[..n];

    // §4.7 clipping and validator trust, §4.8 ranks: one pass.
    // Σ_j min(w_ij, c_j) ≤ Σ_j w_ij ≤ 2³²: in P.
    let mut validator_trust = vec![0u64; n];
    ws.col_b.clear();
    ws.col_b.resize(n, 0);
    let ranks = &mut ws.col_b[..n];
    for r in 0..k {
        let wrow = &ws.w[r * ns..r * ns + n];
        let s = ws.row_stake[r];
        let mut t = 0u64;
        if s > 0 && s < ONE_BITS {
            let s = opaque(s);
            for j in 0..n {
                let v = wrow[j].min(cons[j]);
                t += v;
                ranks[j] += mulk(s, v);
            }
        } else if s > 0 {
            for j in 0..n {
                let v = wrow[j].min(cons[j]);
                t += v;
                ranks[j] += mulp(s, v);
            }
        } else {
            for j in 0..n {
                t += wrow[j].min(cons[j]);
            }
        }
        validator_trust[ws.rows[r]] = t;
    }
    ws.inc.clear();
    ws.inc.extend_from_slice(ranks);
    normalize_p::<FMA, WIDE>(&mut ws.inc);
    let inc = &ws.inc[..n];

    // §4.9 weights for bonds: β = 0 the weights, β = 1 the clipped weights, else in between.
    let beta = u16_proportion_to_fixed(hp.bonds_penalty_u16).to_bits() as u64;

    // §5 bonds and dividends.
    let mut dividends = vec![0u64; n];
    ws.e.resize(k * ns, 0);
    let esum = &mut ws.col_c;
    esum.clear();
    esum.resize(n, 0);
    let esum = &mut esum[..n];
    let mut bonds_u16: Vec<Vec<(u16, u16)>> = Vec::with_capacity(n);
    if hp.yuma3 {
        let liquid = hp.liquid_alpha && cons.iter().any(|&c| c != 0);
        if liquid {
            let low = u16_proportion_to_fixed(hp.alpha_low_u16);
            let high = u16_proportion_to_fixed(hp.alpha_high_u16);
            let steep = I32F32::from_bits((hp.alpha_sigmoid_steepness as i64) << 32);
            let mut sigmoid = LiquidAlpha::new(low, high, steep);
            liquid_ema(
                LiquidParts {
                    w: &ws.w,
                    b: &ws.b,
                    present: &ws.present,
                    e: &mut ws.e,
                    esum,
                },
                n,
                ns,
                k,
                cons,
                beta,
                &mut sigmoid,
            );
        } else {
            for r in 0..k {
                let wrow = &ws.w[r * ns..r * ns + n];
                let brow = &ws.b[r * ns..r * ns + n];
                let erow = &mut ws.e[r * ns..r * ns + n];
                for j in 0..n {
                    let x =
                        mulp(alpha, wfb(wrow[j], cons[j], beta)) + mulp(one_minus, bond_p(brow[j]));
                    erow[j] = x;
                    esum[j] += x;
                }
            }
        }
        // row_sum(mat_vec_mul(col_normalize(ema), incentive)), then · active stake.
        ws.div_a.set(esum);
        let (dd, fd, di) = (&ws.div_a.d[..n], &ws.div_a.df[..n], &ws.div_a.inv[..n]);
        for r in 0..k {
            let erow = &ws.e[r * ns..r * ns + n];
            let mut t = 0u64;
            for j in 0..n {
                t += mulp(divq::<FMA, WIDE>(erow[j], dd[j], fd[j], di[j]), inc[j]);
            }
            // vec_mul(per_validator, active_stake): both in P, so `mul` never overflows.
            dividends[ws.rows[r]] = mulp(t, ws.row_stake[r]);
        }
        normalize_p::<FMA, WIDE>(&mut dividends);
        let mut r = 0usize;
        for i in 0..n {
            let in_rows = r < k && ws.rows[r] == i;
            bonds_u16.push(if new_permit[i] {
                if in_rows {
                    let erow = &ws.e[r * ns..r * ns + n];
                    ws.row_u16.resize(n, 0);
                    let u = &mut ws.row_u16[..n];
                    let (mut zc, mut zl) = (0u64, 0u64);
                    for j in 0..n {
                        u[j] = p2u16(erow[j]);
                        let z = is_zero_bit(erow[j]);
                        zc += z;
                        zl = zl.max(j as u64 & z.wrapping_neg());
                    }
                    emit_row(erow, u, zc as usize, zl as usize)
                } else {
                    Vec::new()
                }
            } else if old_permit[i] {
                Vec::new()
            } else {
                state.bonds[i].clone()
            });
            r += in_rows as usize;
        }
    } else {
        // Delta column sums: with β = 1 these are the ranks (the same products).
        let dsum = &mut ws.col_b[..n]; // = ranks when β = 1
        if beta != ONE_BITS {
            dsum.fill(0);
            for r in 0..k {
                let s = ws.row_stake[r];
                if s == 0 {
                    continue;
                }
                let wrow = &ws.w[r * ns..r * ns + n];
                for j in 0..n {
                    dsum[j] += mulp(wfb(wrow[j], cons[j], beta), s);
                }
            }
        }
        ws.div_a.set(dsum);
        ws.div_b.set(&ws.col_a[..n]);
        let (da, fa, ia) = (&ws.div_a.d[..n], &ws.div_a.df[..n], &ws.div_a.inv[..n]);
        let (db, fb, ib) = (&ws.div_b.d[..n], &ws.div_b.df[..n], &ws.div_b.inv[..n]);
        // EMA of the column-normalized delta and bonds, its column sums and maxima.
        let emax = &mut ws.col_b[..n]; // dsum is in div_a now
        emax.fill(0);
        for r in 0..k {
            let s = ws.row_stake[r];
            let wrow = &ws.w[r * ns..r * ns + n];
            let brow = &ws.b[r * ns..r * ns + n];
            let erow = &mut ws.e[r * ns..r * ns + n];
            // The row's constant factors are almost always below 2³² (1.0): a copy of the
            // loop for that case multiplies without the 1.0 tests on them.
            if s < ONE_BITS && alpha < ONE_BITS && one_minus < ONE_BITS {
                // The factors as rows of u32 (see `ema_row`): s, α, 1 − α.
                if ws.fac.len() != 3 * n {
                    ws.fac.clear();
                    ws.fac.resize(3 * n, 0);
                }
                ws.fac[..n].fill(s as u32);
                ws.fac[n..2 * n].fill(alpha as u32);
                ws.fac[2 * n..].fill(one_minus as u32);
                let f = &ws.fac[..];
                let (dv, bv) = (Divs::of(&ws.div_a, n), Divs::of(&ws.div_b, n));
                let rows = (wrow, brow, cons);
                match beta {
                    ONE_BITS => ema_row::<FMA, WIDE, 1>(rows, beta, f, dv, bv, erow, esum, emax),
                    0 => ema_row::<FMA, WIDE, 0>(rows, beta, f, dv, bv, erow, esum, emax),
                    _ => ema_row::<FMA, WIDE, 2>(rows, beta, f, dv, bv, erow, esum, emax),
                }
            } else {
                for j in 0..n {
                    let d = divq::<FMA, WIDE>(
                        mulp(wfb(wrow[j], cons[j], beta), s),
                        da[j],
                        fa[j],
                        ia[j],
                    );
                    let b = divq::<FMA, WIDE>(brow[j] as u64, db[j], fb[j], ib[j]);
                    let x = mulp(alpha, d) + mulp(one_minus, b);
                    erow[j] = x;
                    esum[j] += x;
                    emax[j] = emax[j].max(x);
                }
            }
        }
        // ema ← col_normalize(ema), dividends = matmul_transpose(ema, incentive), and the
        // max-upscaled stored bonds, in one pass: the column maximum of the normalized EMA is
        // the normalized column maximum, floor(max·2³²/E) (flooring is monotone).
        ws.div_a.set(esum);
        let (da, fa, ia) = (&ws.div_a.d[..n], &ws.div_a.df[..n], &ws.div_a.inv[..n]);
        for j in 0..n {
            emax[j] = divq::<FMA, WIDE>(emax[j], da[j], fa[j], ia[j]);
        }
        ws.div_b.set(emax);
        ws.row_u16.resize(n, 0);
        let mut r = 0usize;
        let mut zeros = (0usize, 0usize);
        for i in 0..n {
            let in_rows = r < k && ws.rows[r] == i;
            if in_rows {
                let erow = &ws.e[r * ns..r * ns + n];
                let (dv, bv) = (Divs::of(&ws.div_a, n), Divs::of(&ws.div_b, n));
                let (t, zc, zl) = store_row::<FMA, WIDE>(erow, inc, dv, bv, &mut ws.row_u16[..n]);
                dividends[i] = t;
                zeros = (zc, zl);
            }
            bonds_u16.push(if new_permit[i] {
                if in_rows {
                    emit_row(&ws.e[r * ns..r * ns + n], &ws.row_u16, zeros.0, zeros.1)
                } else {
                    Vec::new()
                }
            } else if old_permit[i] {
                Vec::new()
            } else {
                state.bonds[i].clone()
            });
            r += in_rows as usize;
        }
        normalize_p::<FMA, WIDE>(&mut dividends);
    }

    // §4.12 emission: incentive and dividends are in P, their sums exact. The combined
    // vector's own sum (inplace_normalize) is the emission sum.
    let rao = ctx.rao_emission;
    let emission_sum: u64 = inc.iter().zip(&dividends).map(|(&a, &b)| a + b).sum();
    let mut server_emission = vec![0u64; n];
    let mut validator_emission = vec![0u64; n];
    let mut emission = vec![0u64; n];
    if emission_sum > 0 {
        let (tf, inv) = (emission_sum as f64 * SCALE, inv_of(emission_sum));
        for j in 0..n {
            let (a, b) = (inc[j], dividends[j]);
            server_emission[j] = rao_of(divq::<FMA, WIDE>(a, emission_sum, tf, inv), rao);
            validator_emission[j] = rao_of(divq::<FMA, WIDE>(b, emission_sum, tf, inv), rao);
            emission[j] = rao_of(divq::<FMA, WIDE>(a + b, emission_sum, tf, inv), rao);
        }
    } else {
        // Everything is 0: the validator and combined shares fall back to the stake.
        let fallback = if is_zero(&active_stake) {
            &stake
        } else {
            &active_stake
        };
        for j in 0..n {
            validator_emission[j] = share_of_rao(fallback[j], rao);
        }
        emission.clone_from(&validator_emission);
    }
    Some(EpochOutput {
        stake_u16: stake
            .iter()
            .map(|&x| crate::fixed_math::fixed_proportion_to_u16(x))
            .collect(),
        consensus_u16: cons.iter().map(|&c| p2u16(c)).collect(),
        incentive_u16: inc.iter().map(|&c| p2u16(c)).collect(),
        dividends_u16: dividends.iter().map(|&c| p2u16(c)).collect(),
        validator_trust_u16: validator_trust.iter().map(|&c| p2u16(c)).collect(),
        emission,
        server_emission,
        validator_emission,
        active,
        validator_permit: new_permit,
        bonds_u16,
    })
}

/// One row of the original-Yuma bond EMA, for a row whose stake `s` and EMA factors `α`,
/// `1 − α` are below 2³² (so [`mul32`] applies), given as the rows `f = [s; n] ++ [α; n] ++
/// [1 − α; n]`: a factor loaded and widened per column is known to the compiler to fit in 32
/// bits, so it multiplies with one 32 × 32 → 64-bit vector product (a broadcast constant
/// often loses that knowledge, and the product then costs several instructions). The cells
/// `α·safe_div(s·wfb, Δ_j) + (1 − α)·safe_div(b, B_j)`, added to the column sums and maxima.
/// `BETA` is 0 or 1 when β is 0 or 1.0 (a copy of the loop without the other cases of
/// [`wfb`]), else 2.
/// The output rows are separate `&mut` arguments, which the compiler knows do not overlap (it
/// then vectorizes without run-time overlap checks).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn ema_row<const FMA: bool, const NATIVE: bool, const BETA: u8>(
    (w, b, cons): (&[u64], &[u32], &[u64]),
    beta: u64,
    f: &[u32],
    dv: Divs<'_>,
    bv: Divs<'_>,
    e: &mut [u64],
    esum: &mut [u64],
    emax: &mut [u64],
) {
    let n = w.len();
    let (b, cons) = (&b[..n], &cons[..n]);
    let (e, esum, emax) = (&mut e[..n], &mut esum[..n], &mut emax[..n]);
    let (da, fa, ia) = (&dv.d[..n], &dv.df[..n], &dv.inv[..n]);
    let (db, fb, ib) = (&bv.d[..n], &bv.df[..n], &bv.inv[..n]);
    let (fs, fa1, fm) = (&f[..n], &f[n..2 * n], &f[2 * n..3 * n]);
    for j in 0..n {
        let v = match BETA {
            0 => w[j],
            1 => w[j].min(cons[j]),
            _ => wfb(w[j], cons[j], beta),
        };
        let d = divq::<FMA, NATIVE>(mul32(fs[j], v), da[j], fa[j], ia[j]);
        let bq = divq::<FMA, NATIVE>(b[j] as u64, db[j], fb[j], ib[j]);
        let x = mul32(fa1[j], d) + mul32(fm[j], bq);
        e[j] = x;
        esum[j] += x;
        emax[j] = emax[j].max(x);
    }
}

/// One row of the EMA normalization pass (original Yuma): for each cell `e`, `v =
/// safe_div(e, E_j)` (the column-normalized EMA), its dividend term `Σ_j mul(v, inc_j)`, and
/// the stored bond `fixed_proportion_to_u16(safe_div(v, M_j))` into `u` (max-upscaled by the
/// normalized column maximum `M_j`). Returns the dividend sum, the number of zero cells and
/// the column of the last one (for [`emit_row`]). A separate function so that the compiler
/// knows `u` does not overlap the inputs.
#[inline(always)]
fn store_row<const FMA: bool, const NATIVE: bool>(
    erow: &[u64],
    inc: &[u64],
    dv: Divs<'_>,
    bv: Divs<'_>,
    u: &mut [u16],
) -> (u64, usize, usize) {
    let n = erow.len();
    let (inc, u) = (&inc[..n], &mut u[..n]);
    let (da, fa, ia) = (&dv.d[..n], &dv.df[..n], &dv.inv[..n]);
    let (db, fb, ib) = (&bv.d[..n], &bv.df[..n], &bv.inv[..n]);
    let (mut t, mut zc, mut zl) = (0u64, 0u64, 0u64);
    for j in 0..n {
        let v = divq::<FMA, NATIVE>(erow[j], da[j], fa[j], ia[j]);
        t += mulp(v, inc[j]);
        u[j] = p2u16(divq::<FMA, NATIVE>(v, db[j], fb[j], ib[j]));
        let z = is_zero_bit(erow[j]);
        zc += z;
        zl = zl.max(j as u64 & z.wrapping_neg());
    }
    (t, zc as usize, zl as usize)
}

/// [`mulk`] with the factor typed as a u32.
#[inline(always)]
fn mul32(k: u32, b: u64) -> u64 {
    mulk(k as u64, b)
}

/// Weights for bonds (§4.9) from a normalized weight `w` and its column's consensus `c`:
/// β = 0 the weight, β = 1 the clipped weight `min(w, c)`, otherwise
/// `w + floor(β·(min(w, c) − w)/2³²) = w − ceil(β·u/2³²)` with `u = w − min(w, c) ≤ 2³²` and
/// `β < 2³²`, so `β·u + 2³² − 1 < 2⁶⁴`.
#[inline(always)]
fn wfb(w: u64, c: u64, beta: u64) -> u64 {
    if beta == 0 {
        w
    } else if beta == ONE_BITS {
        w.min(c)
    } else {
        let u = w - w.min(c);
        let p = (beta & LO) * (u & LO) + if u > LO { beta << 32 } else { 0 };
        w - ((p + LO) >> 32)
    }
}

/// A Yuma3 bond as a proportion: `safe_div(v·2³², 65535·2³²) = floor(v·2³²/65535)`, which is
/// `v·65537 + [v = 65535]` since `2³² = 65535·65537 + 1`.
#[inline(always)]
fn bond_p(v: u32) -> u64 {
    let v = v as u64;
    v * 65537 + (v == 65535) as u64
}

/// The stored row of the positive EMA cells of `erow`, in column order, with the values `u`.
/// `zeros` is the number of zero cells and `last_zero` the column of the last one (both
/// counted by the caller's pass over the row): rows with at most one zero cell (the common
/// case: a validator's own column) are written as one or two bulk runs, others by a
/// branch-free compaction.
#[inline(always)]
fn emit_row(erow: &[u64], u: &[u16], zeros: usize, last_zero: usize) -> Vec<(u16, u16)> {
    #[inline(always)]
    fn put_run(out: &mut [(u16, u16)], from: usize, u: &[u16]) {
        let u = &u[from..from + out.len()];
        for t in 0..out.len() {
            out[t] = ((from + t) as u16, u[t]);
        }
    }
    let n = erow.len();
    let u = &u[..n];
    debug_assert_eq!(zeros, erow.iter().filter(|&&x| x == 0).count());
    let count = n - zeros;
    if zeros <= 1 {
        let mut out = vec![(0u16, 0u16); count];
        if zeros == 0 {
            put_run(&mut out, 0, u);
        } else {
            debug_assert_eq!(erow[last_zero], 0);
            let (head, tail) = out.split_at_mut(last_zero);
            put_run(head, 0, u);
            put_run(tail, last_zero + 1, u);
        }
        return out;
    }
    // One spare slot: the write for a zero cell lands one past the cells kept so far.
    let mut out = vec![(0u16, 0u16); count + 1];
    let mut p = 0usize;
    for j in 0..n {
        out[p] = (j as u16, u[j]);
        p += (erow[j] > 0) as usize;
    }
    out.truncate(count);
    out
}

/// `inplace_normalize` of a vector of values in `P` (raw bits): their sum is exact (below
/// 2⁵²), and each value is at most the sum, so [`divq`] applies.
#[inline(always)]
fn normalize_p<const FMA: bool, const WIDE: bool>(v: &mut [u64]) {
    let mut total = 0u64;
    for &x in v.iter() {
        total += x;
    }
    if total == 0 {
        return;
    }
    let (tf, inv) = (total as f64 * SCALE, inv_of(total));
    for x in v.iter_mut() {
        *x = divq::<FMA, WIDE>(*x, total, tf, inv);
    }
}

/// `share_of_rao` of a value in `P`.
#[inline(always)]
fn rao_of(x: u64, rao: u64) -> u64 {
    ((x as u128 * rao as u128) >> 32) as u64
}

/// 1 if `x = 0`, else 0, for `x < 2⁶³` (plain arithmetic, which vectorizes well).
#[inline(always)]
fn is_zero_bit(x: u64) -> u64 {
    x.wrapping_sub(1) >> 63
}

/// The dense buffers the liquid EMA reads and writes.
struct LiquidParts<'a> {
    w: &'a [u64],
    b: &'a [u32],
    present: &'a [u64],
    e: &'a mut [u64],
    esum: &'a mut [u64],
}

/// The liquid-alpha EMA (`liquid_ema_sparse` on rows with increasing columns, as the fused
/// engine's `liquid_ema_sorted`): for each present weights-for-bonds entry `(j, w)` with bond
/// `b` (0 if none), `α = sigmoid(c_j, w, b)` and the cell `min(1, (1 − α)·b + α·w)`; cells of
/// absent entries are 0. α lies in `[low, high] ⊂ P` (or is `low`), so `1 − α ∈ P`.
///
/// Presence of a weights-for-bonds entry: β = 0, the weight entry is present; β = 1
/// (`col_clip_sparse`), present unless `w > c_j = 0`; otherwise (`interpolate_sparse`, which
/// densifies), the interpolated value is positive.
///
/// Pass 1 stores `α + 1` in the cell of each present entry (0 marks an absent one); memo
/// misses are batched four at a time so that their `exp` series run interleaved
/// (`exp_safe4`), which only changes when α is computed (it is a pure function of the
/// sigmoid key). Pass 2 turns the marks into the EMA cells, a whole row at a time.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn liquid_ema(
    p: LiquidParts<'_>,
    n: usize,
    ns: usize,
    k: usize,
    cons: &[u64],
    beta: u64,
    sigmoid: &mut LiquidAlpha,
) {
    let words = n.div_ceil(64);
    let LiquidParts {
        w,
        b,
        present,
        e,
        esum,
    } = p;
    let mut pending = [(0i64, 0usize); 4];
    let mut npending = 0usize;
    let flush = |sigmoid: &mut LiquidAlpha, pending: &[(i64, usize)], e: &mut [u64]| {
        let mut keys = [0i64; 4];
        for (key, p) in keys.iter_mut().zip(pending) {
            *key = p.0;
        }
        let ex = crate::fixed_math::exp_safe4(keys);
        for (&(key, at), &x) in pending.iter().zip(&ex) {
            let a = sigmoid.alpha_from_exp(x);
            sigmoid.insert(key, a);
            e[at] = a.to_bits() as u64 + 1;
        }
    };
    for r in 0..k {
        let wrow = &w[r * ns..r * ns + n];
        let brow = &b[r * ns..r * ns + n];
        let prow = &present[r * words..(r + 1) * words];
        e[r * ns..r * ns + n].fill(0);
        for (wi, &bits) in prow.iter().enumerate() {
            let mut m = bits;
            while m != 0 {
                let j = wi * 64 + m.trailing_zeros() as usize;
                m &= m - 1;
                let (wv, c) = (wrow[j], cons[j]);
                let wf = wfb(wv, c, beta);
                let keep = if beta == 0 {
                    true
                } else if beta == ONE_BITS {
                    !(c == 0 && wv > 0)
                } else {
                    wf > 0
                };
                if !keep {
                    continue;
                }
                let key = sigmoid.key(
                    I32F32::from_bits(c as i64),
                    I32F32::from_bits(wf as i64),
                    I32F32::from_bits(bond_p(brow[j]) as i64),
                );
                match sigmoid.lookup(key) {
                    Some(a) => e[r * ns + j] = a.to_bits() as u64 + 1,
                    None => {
                        pending[npending] = (key, r * ns + j);
                        npending += 1;
                        if npending == 4 {
                            flush(sigmoid, &pending, e);
                            npending = 0;
                        }
                    }
                }
            }
        }
    }
    if npending > 0 {
        flush(sigmoid, &pending[..npending], e);
    }
    for r in 0..k {
        let wrow = &w[r * ns..r * ns + n];
        let brow = &b[r * ns..r * ns + n];
        let erow = &mut e[r * ns..r * ns + n];
        for j in 0..n {
            let mark = erow[j];
            let a = mark.wrapping_sub(1);
            let bond = bond_p(brow[j]);
            let x = if mark > 0 {
                (mulp(ONE_BITS - a, bond) + mulp(a, wfb(wrow[j], cons[j], beta))).min(ONE_BITS)
            } else {
                0
            };
            erow[j] = x;
            esum[j] += x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    /// Both division kernels against the 128-bit division, on random and edge operands.
    #[test]
    fn divp_is_exact() {
        let mut seed = 0x0123_4567_89ab_cdefu64;
        let check = |x: u64, d: u64| {
            let want = ((x as u128) << 32) / d as u128;
            let (ds, inv) = (d as f64 * SCALE, inv_of(d));
            assert_eq!(divp(x, d, inv) as u128, want, "{x} / {d}");
            assert_eq!(
                divp_fma::<false>(x, d, ds, inv) as u128,
                want,
                "{x} / {d} (fma)"
            );
            assert_eq!(
                divp_fma::<true>(x, d, ds, inv) as u128,
                want,
                "{x} / {d} (fma, cvt)"
            );
        };
        for d in [
            1u64,
            2,
            3,
            7,
            65535,
            1 << 31,
            (1 << 32) - 1,
            1 << 32,
            (1 << 32) + 1,
        ] {
            for x in [0, 1, d / 2, d.saturating_sub(1), d] {
                check(x.min(d), d);
            }
        }
        for e in [(1u64 << 52) - 1, (1 << 52) - 2, (1 << 48) + 12345, 3 << 40] {
            for x in [0, 1, e / 3, e - 1, e] {
                check(x, e);
            }
        }
        for _ in 0..400_000 {
            let bits = xorshift(&mut seed) % 53;
            let d = (xorshift(&mut seed) >> (64 - bits.max(1))).max(1);
            let x = match xorshift(&mut seed) % 4 {
                0 => d,
                1 => xorshift(&mut seed) % (d + 1),
                // x with x·2³²/d close to an integer (the remainder near 0 or d).
                2 => {
                    let q = xorshift(&mut seed) % (1 << 32);
                    ((q as u128 * d as u128) >> 32).min(d as u128) as u64
                }
                _ => d - xorshift(&mut seed) % d.min(1000),
            };
            check(x, d);
        }
    }

    #[test]
    fn mulp_and_conversions_match_fixed_math() {
        use crate::fixed_math::{fixed_proportion_to_u16, mul, u16_proportion_to_fixed};
        let mut seed = 0x5555_aaaa_1234_4321u64;
        let pick = |seed: &mut u64| match xorshift(seed) % 4 {
            0 => ONE_BITS,
            1 => 0,
            2 => ONE_BITS - xorshift(seed) % 3,
            _ => xorshift(seed) % (ONE_BITS + 1),
        };
        for _ in 0..200_000 {
            let (a, b) = (pick(&mut seed), pick(&mut seed));
            let want = mul(I32F32::from_bits(a as i64), I32F32::from_bits(b as i64));
            assert_eq!(mulp(a, b), want.to_bits() as u64, "{a} {b}");
            if a < ONE_BITS {
                assert_eq!(mulk(a, b), want.to_bits() as u64, "{a} {b}");
            }
            assert_eq!(
                p2u16(a),
                fixed_proportion_to_u16(I32F32::from_bits(a as i64)),
                "{a}"
            );
        }
        for v in 0..=u16::MAX {
            assert_eq!(
                bond_p(v as u32),
                u16_proportion_to_fixed(v).to_bits() as u64,
                "{v}"
            );
        }
        // The penalty interpolation against interpolate_sparse's formula.
        for _ in 0..200_000 {
            let w = pick(&mut seed);
            let c = pick(&mut seed);
            let beta = u16_proportion_to_fixed(xorshift(&mut seed) as u16).to_bits() as u64;
            let (wi, ci) = (
                I32F32::from_bits(w as i64),
                I32F32::from_bits(w.min(c) as i64),
            );
            let want = crate::fixed_math::add(
                wi,
                mul(
                    I32F32::from_bits(beta as i64),
                    crate::fixed_math::sub(ci, wi),
                ),
            );
            let want = if beta == 0 {
                w
            } else if beta == ONE_BITS {
                w.min(c)
            } else {
                want.to_bits() as u64
            };
            assert_eq!(wfb(w, c, beta), want, "{w} {c} {beta}");
        }
    }

    #[test]
    fn normalized_stake_and_topk_match_the_helpers() {
        let mut seed = 0x9999_1111_2222_3333u64;
        for round in 0..3000 {
            let n = 1 + (xorshift(&mut seed) % 40) as usize;
            let stake: Vec<I64F64> = (0..n)
                .map(|_| match (round + xorshift(&mut seed)) % 5 {
                    0 => I64F64::ZERO,
                    1 => crate::fixed_math::i64f64_from_u64(xorshift(&mut seed) % 5),
                    2 => crate::fixed_math::i64f64_from_u64(xorshift(&mut seed)),
                    3 => I64F64::from_bits((xorshift(&mut seed) >> 1) as i128),
                    _ => I64F64::from_bits(
                        ((xorshift(&mut seed) as i128) << 40) | xorshift(&mut seed) as i128,
                    ),
                })
                .collect();
            let mut want = stake.clone();
            inplace_normalize_64(&mut want);
            let want: Vec<I32F32> = want.into_iter().map(i64f64_to_i32f32).collect();
            let got = normalized_stake(&stake);
            assert_eq!(got, want, "{stake:?}");
            for k in [0usize, 1, 2, n / 2, n, n + 1] {
                assert_eq!(topk(&got, k), is_topk_nonzero(&got, k), "{got:?} {k}");
            }
        }
    }

    /// The stake-weighted quantile by sorting: the smallest value whose cumulative stake
    /// exceeds `minority`, or the largest if none does.
    fn oracle(col: &[(u64, i64)], minority: i64) -> u64 {
        let mut v = col.to_vec();
        v.sort();
        let mut c = 0i64;
        for &(x, s) in &v {
            c += s;
            if c > minority {
                return x;
            }
        }
        v.last().map_or(0, |e| e.0)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(600))]

        /// Both median kernels (histogram and bracket) against the sorting oracle, with ties,
        /// small and huge alphabets and a minority below 0, on a cumulative stake, or above the
        /// total.
        #[test]
        fn median_kernels_match_the_oracle(
            ks in 0usize..70,
            cols in 1usize..70,
            alphabet in prop_oneof![Just(1u64), Just(3), Just(16), Just(1 << 20), Just(ONE_BITS + 1)],
            stake_alphabet in prop_oneof![Just(1i64), Just(4), Just(1 << 32)],
            seed in any::<u64>(),
            pick in any::<usize>(),
            shift in -2i64..=2,
        ) {
            let mut s = seed | 1;
            let ns = cols.div_ceil(BRACKET) * BRACKET + 8;
            let mut w = vec![0u64; ks.max(1) * ns];
            for r in 0..ks {
                for j in 0..cols {
                    w[r * ns + j] = xorshift(&mut s) % alphabet;
                }
            }
            let stakes: Vec<i64> = (0..ks).map(|_| 1 + (xorshift(&mut s) % stake_alphabet as u64) as i64).collect();
            let offs: Vec<usize> = (0..ks).map(|r| r * ns).collect();
            let total: i64 = stakes.iter().sum();
            // A minority on (or next to) a cumulative stake of column 0, or outside [0, total).
            let mut col0: Vec<(u64, i64)> = (0..ks).map(|r| (w[r * ns], stakes[r])).collect();
            col0.sort();
            let cut: i64 = col0.iter().take(pick % (ks + 1)).map(|e| e.1).sum();
            let minority = match pick % 7 {
                0 => -1 - (pick as i64 % 5),
                1 => total + shift.abs(),
                _ => cut + shift,
            };
            let mut colmax = vec![0u64; ns];
            for &off in &offs {
                for j in 0..cols {
                    colmax[j] = colmax[j].max(w[off + j]);
                }
            }
            let want: Vec<u64> = (0..cols)
                .map(|j| {
                    let col: Vec<(u64, i64)> = (0..ks).map(|r| (w[r * ns + j], stakes[r])).collect();
                    if ks == 0 { 0 } else { oracle(&col, minority) }
                })
                .collect();
            let mut got = vec![0u64; ns];
            let mut j0 = 0;
            while j0 < cols {
                median_bracket::<false>(&w, j0, &offs, &stakes, total, minority, &mut got[j0..]);
                j0 += BRACKET;
            }
            prop_assert_eq!(&got[..cols], &want[..], "bracket");
            #[cfg(target_arch = "x86_64")]
            if avx512_detected() {
                let mut got = vec![0u64; ns];
                let mut j0 = 0;
                while j0 < cols {
                    median_bracket::<true>(&w, j0, &offs, &stakes, total, minority, &mut got[j0..]);
                    j0 += BRACKET;
                }
                prop_assert_eq!(&got[..cols], &want[..], "bracket (AVX-512)");
            }
            let mut members = vec![0u32; 4 * ks];
            let mut window = vec![(0u64, 0i64); ks + 1];
            let mut got = vec![0u64; ns];
            let mut j0 = 0;
            while j0 + 4 <= cols {
                median_block::<4>(&w, j0, &offs, &stakes, &colmax[j0..], total, minority, &mut members, &mut window, &mut got[j0..]);
                j0 += 4;
            }
            while j0 < cols {
                median_block::<1>(&w, j0, &offs, &stakes, &colmax[j0..], total, minority, &mut members, &mut window, &mut got[j0..]);
                j0 += 1;
            }
            prop_assert_eq!(&got[..cols], &want[..], "histogram");
        }

        /// Near-dense rows (the run-by-run path): the scatter is exact, and rows made unsorted
        /// (a swap, a duplicate, a decrease) are refused, as by the chunked path.
        #[test]
        fn scatter_runs_matches_chunks(
            n in 1usize..300,
            span in 0usize..310,
            start in 0usize..8,
            holes in proptest::collection::vec(any::<u16>(), 0..40),
            corrupt in 0usize..4,
            at in any::<u16>(),
        ) {
            let mut cols: Vec<u16> = (start..start + span).map(|j| j as u16).collect();
            for h in &holes {
                if !cols.is_empty() {
                    let p = *h as usize % cols.len();
                    cols.remove(p);
                }
            }
            let mut src: Vec<(u16, u16)> = cols.iter().map(|&j| (j, j.wrapping_mul(7) | 1)).collect();
            let want: Vec<u32> = (0..n)
                .map(|j| src.iter().find(|e| e.0 as usize == j).map_or(0, |e| e.1 as u32))
                .collect();
            let mut got = vec![9u32; n];
            prop_assert!(scatter_row(&src, &mut got));
            prop_assert_eq!(&got, &want);
            let mut runs = vec![9u64; n];
            if src.last().is_some_and(|e| (e.0 as usize) < n) {
                prop_assert!(scatter_runs(&src, &mut runs));
                prop_assert!(runs.iter().zip(&want).all(|(&a, &b)| a == b as u64));
            }
            if src.len() >= 2 {
                let p = at as usize % (src.len() - 1);
                match corrupt {
                    0 => src.swap(p, p + 1),
                    1 => src[p + 1].0 = src[p].0,
                    2 => src[p + 1].0 = src[p].0.saturating_sub(1),
                    _ => src[p].0 = src[p + 1].0.saturating_add(1),
                }
                let mut a = vec![0u32; n];
                let mut b = vec![0u32; n];
                prop_assert!(!scatter_row(&src, &mut a));
                prop_assert!(!scatter_chunks(&src, &mut b));
                if src.iter().all(|e| (e.0 as usize) < n) {
                    prop_assert!(!scatter_runs(&src, &mut b));
                }
            }
        }

        /// Scattering and emitting rows round-trip, and unsorted rows are refused.
        #[test]
        fn scatter_and_emit_round_trip(
            n in 1usize..300,
            cols in proptest::collection::btree_set(0u16..310, 0..300),
            drop_every in 0usize..5,
            swap in any::<bool>(),
        ) {
            let mut src: Vec<(u16, u16)> = cols.iter().map(|&j| (j, j.wrapping_mul(31) | 1)).collect();
            let mut dst = vec![7u64; n];
            prop_assert!(scatter_row(&src, &mut dst));
            for (j, &x) in dst.iter().enumerate() {
                let want = src.iter().find(|e| e.0 as usize == j).map_or(0, |e| e.1 as u64);
                prop_assert_eq!(x, want);
            }
            // Zero some cells, emit, compare with the positive cells in order.
            let mut e = dst.clone();
            if drop_every > 0 {
                for (j, x) in e.iter_mut().enumerate() {
                    if j % (drop_every + 1) == 0 {
                        *x = 0;
                    }
                }
            }
            let u: Vec<u16> = (0..n).map(|j| (j * 3) as u16).collect();
            let want: Vec<(u16, u16)> = e.iter().enumerate().filter(|(_, &x)| x > 0).map(|(j, _)| (j as u16, u[j])).collect();
            let zeros = e.iter().filter(|&&x| x == 0).count();
            let last = e.iter().rposition(|&x| x == 0).unwrap_or(0);
            prop_assert_eq!(emit_row(&e, &u, zeros, last), want);
            if swap && src.len() >= 2 {
                let l = src.len();
                src.swap(0, l - 1);
                prop_assert!(!scatter_row(&src, &mut dst));
            }
        }
    }
}
