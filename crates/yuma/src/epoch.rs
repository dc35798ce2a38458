//! One Yuma epoch of one subnet mechanism: subtensor's sparse `epoch_mechanism` (spec §4–§5).
//!
//! [`run_epoch`] is a pure function of its inputs. Block numbers, the emission amount and the
//! `last_tempo` block used by the recently-registered bond mask all arrive as arguments, so the
//! caller owns scheduling (spec §8) and the engine never looks at a clock.

use fixed::types::I64F64;
use serde::{Deserialize, Serialize};

/// Subnet hyperparameters read by the epoch, in their storage encodings (spec §2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hyperparameters {
    /// `Kappa`, κ = v/65535.
    pub kappa_u16: u16,
    /// `BondsPenalty`, β = v/65535.
    pub bonds_penalty_u16: u16,
    /// `BondsMovingAverage` in ppm; EMA α = 1 − v/1e6.
    pub bonds_moving_average: u64,
    /// `Yuma3On`.
    pub yuma3: bool,
    /// `LiquidAlphaOn` (only has an effect with Yuma3).
    pub liquid_alpha: bool,
    /// `AlphaValues.0`, /65535.
    pub alpha_low_u16: u16,
    /// `AlphaValues.1`, /65535.
    pub alpha_high_u16: u16,
    /// `AlphaSigmoidSteepness` (effective steepness = value/100).
    pub alpha_sigmoid_steepness: i16,
    /// `MaxAllowedValidators`: k of the top-k permits.
    pub max_allowed_validators: u16,
    /// Activity cutoff, already resolved to blocks (`get_activity_cutoff_blocks`).
    pub activity_cutoff_blocks: u64,
    /// `StakeThreshold` in rao, compared with `floor(raw stake)`.
    pub stake_threshold: u64,
}

impl Default for Hyperparameters {
    /// Production defaults (`runtime/src/lib.rs`), activity cutoff resolved at tempo 360.
    fn default() -> Self {
        Hyperparameters {
            kappa_u16: 32767,
            bonds_penalty_u16: 65535,
            bonds_moving_average: 900_000,
            yuma3: false,
            liquid_alpha: false,
            alpha_low_u16: 45875,
            alpha_high_u16: 58982,
            alpha_sigmoid_steepness: 1000,
            max_allowed_validators: 128,
            activity_cutoff_blocks: 5000,
            stake_threshold: 0,
        }
    }
}

/// `get_activity_cutoff_blocks`: `max(1, floor(factor_milli · tempo / 1000))`.
pub fn activity_cutoff_blocks(factor_milli: u32, tempo: u16) -> u64 {
    ((factor_milli as u64 * tempo as u64) / 1000).max(1)
}

/// The block the recently-registered bond mask compares against (spec §4.10):
/// `current_block − tempo` before the first successful epoch, then `last_step_block + 1`.
pub fn last_tempo_block(current_block: u64, tempo: u64, last_mechanism_step_block: u64) -> u64 {
    if last_mechanism_step_block == 0 {
        current_block.saturating_sub(tempo)
    } else {
        last_mechanism_step_block.saturating_add(1)
    }
}

/// Per-uid stored state of one subnet mechanism, as the epoch reads it (spec §3). Every vector
/// is indexed by uid and has length `n`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SubnetState {
    /// Raw stake weight `alpha + tao · TaoWeight` (I64F64, spec §4.2).
    pub stake: Vec<I64F64>,
    /// Permits stored by the previous epoch.
    pub validator_permit: Vec<bool>,
    /// Block of each uid's last weight update.
    pub last_update: Vec<u64>,
    /// Block of each uid's (re)registration.
    pub block_at_registration: Vec<u64>,
    /// Stored weight rows `[(uid, u16)]` (already max-upscaled by `set_weights`).
    pub weights: Vec<Vec<(u16, u16)>>,
    /// Stored bond rows `[(uid, u16)]`.
    pub bonds: Vec<Vec<(u16, u16)>>,
}

impl SubnetState {
    /// Number of uids.
    pub fn n(&self) -> usize {
        self.stake.len()
    }
}

/// Everything about one epoch call that is not stored state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EpochContext {
    /// Current block.
    pub current_block: u64,
    /// Block for the recently-registered bond mask, see [`last_tempo_block`].
    pub last_tempo: u64,
    /// Alpha (rao) handed to this epoch.
    pub rao_emission: u64,
    /// uid of the subnet owner's hotkey, if registered (exempt from the stake threshold, always
    /// permitted, keeps its self-weight).
    pub owner_uid: Option<u16>,
    /// Commit-reveal: each uid's earliest unexpired commit block (`u64::MAX` = none). `None`
    /// when commit-reveal is disabled (spec §4.5 step 5).
    pub commit_blocks: Option<Vec<u64>>,
}

/// The results of one epoch, in their stored encodings (spec §4.13).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochOutput {
    /// `StakeWeight`: floor(stake share · 65535).
    pub stake_u16: Vec<u16>,
    /// `Consensus`.
    pub consensus_u16: Vec<u16>,
    /// `Incentive`.
    pub incentive_u16: Vec<u16>,
    /// `Dividends`.
    pub dividends_u16: Vec<u16>,
    /// `ValidatorTrust`.
    pub validator_trust_u16: Vec<u16>,
    /// `Emission`: combined emission per uid in rao.
    pub emission: Vec<u64>,
    /// Miner (incentive) part of the emission in rao.
    pub server_emission: Vec<u64>,
    /// Validator (dividend) part of the emission in rao.
    pub validator_emission: Vec<u64>,
    /// `Active`.
    pub active: Vec<bool>,
    /// New `ValidatorPermit`s.
    pub validator_permit: Vec<bool>,
    /// Stored `Bonds` rows after the epoch (all rows, untouched ones included).
    pub bonds_u16: Vec<Vec<(u16, u16)>>,
}

impl EpochOutput {
    /// Write the epoch's persisted results (permits, bonds) into `state`, giving the state the
    /// next epoch reads.
    pub fn apply_to(&self, state: &mut SubnetState) {
        state.validator_permit.clone_from(&self.validator_permit);
        state.bonds.clone_from(&self.bonds_u16);
    }
}

/// Inputs the engine refuses.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EpochError {
    /// A per-uid vector does not have `n` entries.
    #[error("{field} has {got} entries, expected n = {n}")]
    LengthMismatch {
        /// Offending field.
        field: &'static str,
        /// Its length.
        got: usize,
        /// Number of uids.
        n: usize,
    },
    /// More uids than a u16 can address.
    #[error("n = {0} exceeds 65535 uids")]
    TooManyUids(usize),
}

pub(crate) fn check_len(field: &'static str, got: usize, n: usize) -> Result<(), EpochError> {
    if got == n {
        Ok(())
    } else {
        Err(EpochError::LengthMismatch { field, got, n })
    }
}

/// Scratch buffers of the epoch engine, kept from one call to the next so that an epoch does
/// not allocate (and zero) its working matrices afresh. Reusing one changes no result: every
/// buffer is overwritten before it is read. Buffers grow to the largest subnet seen (at most
/// about 80 MB) and are freed with the workspace. [`run_epoch`] keeps one per thread;
/// [`run_epoch_with`] takes the caller's.
#[derive(Default)]
pub struct EpochWorkspace {
    dense: crate::dense::Workspace,
}

impl EpochWorkspace {
    /// An empty workspace (buffers grow on first use).
    pub fn new() -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for EpochWorkspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EpochWorkspace")
    }
}

thread_local! {
    static WORKSPACE: std::cell::RefCell<EpochWorkspace> =
        std::cell::RefCell::new(EpochWorkspace::default());
}

/// Run one sparse epoch (`epoch_mechanism`) and return its outputs.
///
/// Inputs whose values stay in the ranges the chain produces (non-negative stake, rows whose
/// weights sum below 2³¹, an EMA α in [0, 1], …) go through the dense engine (`dense.rs`) if
/// their rows have increasing columns and are dense enough, else through the fused engine
/// (`fused.rs`); anything else through the helper-by-helper port (`generic.rs`). All three
/// give bit-identical results (`tests::fused_matches_reference`). Uses a per-thread
/// [`EpochWorkspace`].
pub fn run_epoch(
    hp: &Hyperparameters,
    state: &SubnetState,
    ctx: &EpochContext,
) -> Result<EpochOutput, EpochError> {
    WORKSPACE.with(|ws| match ws.try_borrow_mut() {
        Ok(mut ws) => run_epoch_with(&mut ws, hp, state, ctx),
        Err(_) => run_epoch_with(&mut EpochWorkspace::default(), hp, state, ctx),
    })
}

/// [`run_epoch`] with the caller's scratch buffers (the dense engine runs in the fastest
/// copy this CPU supports; all copies give the same result).
pub fn run_epoch_with(
    ws: &mut EpochWorkspace,
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
    let isa = crate::dense::Isa::best();
    if let Some(out) = crate::dense::run_dense(&mut ws.dense, hp, state, ctx, isa) {
        return Ok(out);
    }
    match crate::fused::run_fused(hp, state, ctx) {
        Some(out) => Ok(out),
        None => crate::generic::run_epoch_generic(hp, state, ctx),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed_math::i64f64_from_u64;
    use crate::generic::run_epoch_generic as run_epoch_reference;
    use proptest::prelude::*;

    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    thread_local! {
        /// One workspace for every case a test thread runs: buffers left by a larger or
        /// differently shaped subnet must never leak into the next result.
        static SHARED: std::cell::RefCell<crate::dense::Workspace> =
            std::cell::RefCell::new(crate::dense::Workspace::default());
    }

    /// Run `epochs` chained epochs with every engine (the dense one in each instruction-set
    /// copy this CPU runs, with a shared and a fresh workspace) and require identical outputs.
    fn check_chain(
        hp: &Hyperparameters,
        state: SubnetState,
        ctx: EpochContext,
        epochs: u64,
        require_fused: bool,
    ) -> Result<(), TestCaseError> {
        check_chain_dense(hp, state, ctx, epochs, require_fused, false)
    }

    fn check_chain_dense(
        hp: &Hyperparameters,
        mut state: SubnetState,
        mut ctx: EpochContext,
        epochs: u64,
        require_fused: bool,
        require_dense: bool,
    ) -> Result<(), TestCaseError> {
        for e in 0..epochs {
            let a = run_epoch(hp, &state, &ctx);
            let b = run_epoch_reference(hp, &state, &ctx);
            prop_assert_eq!(&a, &b, "epoch {}", e);
            if let Ok(want) = &b {
                // The fused engine itself (not its fallback), when its guards accept the input.
                let fused = crate::fused::run_fused(hp, &state, &ctx);
                prop_assert!(fused.is_some() || !require_fused, "fused engine declined");
                if let Some(got) = fused {
                    prop_assert_eq!(&got, want, "epoch {} (fused)", e);
                }
                let best = crate::dense::Isa::best();
                let shared = SHARED.with(|ws| {
                    crate::dense::run_dense(&mut ws.borrow_mut(), hp, &state, &ctx, best)
                });
                for isa in crate::dense::Isa::available() {
                    let fresh = crate::dense::run_dense(
                        &mut crate::dense::Workspace::default(),
                        hp,
                        &state,
                        &ctx,
                        isa,
                    );
                    if isa == best {
                        prop_assert_eq!(&shared, &fresh, "epoch {} (workspace reuse)", e);
                    }
                    prop_assert!(
                        fresh.is_some() || !require_dense,
                        "dense engine ({:?}) declined",
                        isa
                    );
                    if let Some(got) = fresh {
                        prop_assert_eq!(&got, want, "epoch {} (dense, {:?})", e, isa);
                    }
                }
            }
            let Ok(out) = a else { return Ok(()) };
            out.apply_to(&mut state);
            ctx.current_block += 1;
            ctx.last_tempo += 1;
        }
        Ok(())
    }

    fn hp_strategy() -> impl Strategy<Value = Hyperparameters> {
        (
            prop_oneof![Just(32767u16), any::<u16>()],
            prop_oneof![Just(0u16), Just(65535u16), any::<u16>()],
            prop_oneof![
                Just(900_000u64),
                Just(975_000u64),
                0u64..1_000_000,
                0u64..3_000_000
            ],
            any::<bool>(),
            any::<bool>(),
            1638u16..40000,
            0u16..30000,
            prop_oneof![Just(1000i16), any::<i16>()],
            prop_oneof![1u16..8, Just(256u16)],
            prop_oneof![Just(5000u64), 0u64..8],
            prop_oneof![Just(0u64), 0u64..2000],
        )
            .prop_map(|h| Hyperparameters {
                kappa_u16: h.0,
                bonds_penalty_u16: h.1,
                bonds_moving_average: h.2,
                yuma3: h.3,
                liquid_alpha: h.4,
                alpha_low_u16: h.5,
                alpha_high_u16: h.5.saturating_add(h.6),
                alpha_sigmoid_steepness: h.7,
                max_allowed_validators: h.8,
                activity_cutoff_blocks: h.9,
                stake_threshold: h.10,
            })
    }

    /// Small subnets with arbitrary rows: unsorted, duplicate columns, columns ≥ n, zeros.
    fn case() -> impl Strategy<Value = (Hyperparameters, SubnetState, EpochContext)> {
        (1usize..24, hp_strategy()).prop_flat_map(|(n, hp)| {
            let row = proptest::collection::vec(
                (
                    0..n as u16 + 2,
                    prop_oneof![Just(0u16), Just(65535u16), any::<u16>()],
                ),
                0..=n + 2,
            );
            let sorted_row = proptest::collection::btree_map(0..n as u16, any::<u16>(), 0..=n)
                .prop_map(|m| m.into_iter().collect::<Vec<_>>());
            let any_row = prop_oneof![row, sorted_row];
            (
                Just(hp),
                proptest::collection::vec(
                    prop_oneof![Just(0u64), 0u64..2000, 0u64..u64::MAX / 1024],
                    n,
                ),
                proptest::collection::vec(any::<bool>(), n),
                proptest::collection::vec(0u64..6, n),
                proptest::collection::vec(0u64..6, n),
                proptest::collection::vec(any_row.clone(), n),
                proptest::collection::vec(any_row, n),
                proptest::option::of(0..n as u16 + 1),
                proptest::option::of(proptest::collection::vec(
                    prop_oneof![Just(u64::MAX), 0u64..8],
                    n,
                )),
                prop_oneof![Just(1_000_000_000u64), any::<u64>()],
                6u64..10,
            )
                .prop_map(
                    |(hp, stake, permit, lu, reg, weights, bonds, owner, cb, rao, block)| {
                        let state = SubnetState {
                            stake: stake.into_iter().map(i64f64_from_u64).collect(),
                            validator_permit: permit,
                            last_update: lu,
                            block_at_registration: reg,
                            weights,
                            bonds,
                        };
                        let ctx = EpochContext {
                            current_block: block,
                            last_tempo: block - 1,
                            rao_emission: rao,
                            owner_uid: owner,
                            commit_blocks: cb,
                        };
                        (hp, state, ctx)
                    },
                )
        })
    }

    /// Subnets the dense engine takes: rows with strictly increasing columns (a few past n),
    /// weights, bonds and stakes from small alphabets (ties everywhere) or wide ranges, zero
    /// stakes, every mask, owner and commit-reveal setting, and widths across the 64-column
    /// bitmap words and 32-column median blocks.
    fn dense_case() -> impl Strategy<Value = (Hyperparameters, SubnetState, EpochContext)> {
        (1usize..80, hp_strategy(), any::<bool>()).prop_flat_map(|(n, hp, ties)| {
            let value = if ties {
                prop_oneof![Just(0u16), Just(1u16), Just(30000u16), Just(65535u16)].boxed()
            } else {
                prop_oneof![Just(0u16), Just(65535u16), any::<u16>()].boxed()
            };
            let sparse_row = proptest::collection::btree_map(0..n as u16 + 2, value.clone(), 0..=n)
                .prop_map(|m| m.into_iter().collect::<Vec<_>>());
            let full_row = proptest::collection::vec(value, n).prop_map(|v| {
                v.into_iter()
                    .enumerate()
                    .map(|(j, w)| (j as u16, w))
                    .collect::<Vec<_>>()
            });
            let row = prop_oneof![2 => sparse_row, 1 => full_row, 1 => Just(Vec::new())];
            let stake = if ties {
                prop_oneof![Just(0u64), Just(5u64), Just(1_000_000u64)].boxed()
            } else {
                prop_oneof![Just(0u64), 0u64..2000, 0u64..u64::MAX / 1024].boxed()
            };
            (
                Just(hp),
                proptest::collection::vec(stake, n),
                proptest::collection::vec(any::<bool>(), n),
                proptest::collection::vec(prop_oneof![Just(10u64), 0u64..6], n),
                proptest::collection::vec(prop_oneof![Just(0u64), 0u64..6], n),
                proptest::collection::vec(row.clone(), n),
                proptest::collection::vec(row, n),
                proptest::option::of(0..n as u16 + 1),
                proptest::option::of(proptest::collection::vec(
                    prop_oneof![Just(u64::MAX), 0u64..8],
                    n,
                )),
                6u64..10,
            )
                .prop_map(
                    |(hp, stake, permit, lu, reg, weights, bonds, owner, cb, block)| {
                        let state = SubnetState {
                            stake: stake.into_iter().map(i64f64_from_u64).collect(),
                            validator_permit: permit,
                            last_update: lu,
                            block_at_registration: reg,
                            weights,
                            bonds,
                        };
                        let ctx = EpochContext {
                            current_block: block,
                            last_tempo: block - 1,
                            rao_emission: 1_000_000_000,
                            owner_uid: owner,
                            commit_blocks: cb,
                        };
                        (hp, state, ctx)
                    },
                )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn fused_matches_reference((hp, state, ctx) in case()) {
            check_chain(&hp, state, ctx, 3, false)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1500))]

        #[test]
        fn dense_matches_reference((hp, state, ctx) in dense_case()) {
            check_chain_dense(&hp, state, ctx, 3, false, false)?;
        }
    }

    /// The dense engine takes the dense-friendly cases (its guards are not so strict that the
    /// property above would only exercise the fallbacks).
    #[test]
    fn dense_engine_takes_most_dense_cases() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let (mut taken, mut total) = (0, 0);
        for _ in 0..500 {
            let (hp, state, ctx) = dense_case().new_tree(&mut runner).unwrap().current();
            if run_epoch_reference(&hp, &state, &ctx).is_err() {
                continue;
            }
            total += 1;
            let mut ws = crate::dense::Workspace::default();
            taken += crate::dense::run_dense(&mut ws, &hp, &state, &ctx, crate::dense::Isa::Base)
                .is_some() as usize;
        }
        assert!(
            taken * 10 >= total * 8,
            "dense engine took {taken} of {total}"
        );
    }

    /// Bench-shaped subnets (dense random rows, warm bonds), every bond mode.
    #[test]
    fn fused_matches_reference_on_large_subnets() {
        for (k, (validators, n)) in [(64usize, 256usize), (256, 256), (40, 97)]
            .into_iter()
            .enumerate()
        {
            for mode in 0..5u64 {
                let mut s = 0x1234_5678 + k as u64 * 77 + mode;
                let hp = Hyperparameters {
                    max_allowed_validators: 256,
                    yuma3: mode >= 2,
                    liquid_alpha: mode >= 3,
                    bonds_penalty_u16: [65535, 20000, 0, 0, 40000][mode as usize],
                    bonds_moving_average: if mode >= 2 { 975_000 } else { 900_000 },
                    ..Default::default()
                };
                let stake = (0..n)
                    .map(|i| {
                        if i < validators {
                            1_000_000_000 + xorshift(&mut s) % 1_000_000_000_000
                        } else {
                            0
                        }
                    })
                    .map(i64f64_from_u64)
                    .collect();
                let weights = (0..n)
                    .map(|i| {
                        if i < validators {
                            let mut row = Vec::new();
                            for j in 0..n as u16 {
                                let r = xorshift(&mut s);
                                if !r.is_multiple_of(8) {
                                    row.push((j, (r >> 16) as u16));
                                }
                            }
                            row
                        } else {
                            Vec::new()
                        }
                    })
                    .collect();
                let state = SubnetState {
                    stake,
                    validator_permit: vec![false; n],
                    last_update: vec![10; n],
                    block_at_registration: vec![0; n],
                    weights,
                    bonds: vec![Vec::new(); n],
                };
                let ctx = EpochContext {
                    current_block: 100,
                    last_tempo: 99,
                    rao_emission: 1_000_000_000,
                    ..Default::default()
                };
                check_chain_dense(&hp, state, ctx, 5, true, true).unwrap();
            }
        }
    }
}
