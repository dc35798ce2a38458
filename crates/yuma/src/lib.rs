//! The pure Yuma consensus epoch, bit-exact with the reference chain.
//!
//! A port of opentensor/subtensor's sparse `epoch_mechanism` (commit 14bc6f9, see
//! `shared/spec/yuma.md`): original Yuma and Yuma3 bonds, bonds penalty, liquid alpha, activity
//! cutoff, stake threshold, top-k validator permits, outdated-weight, commit-reveal and
//! recently-registered masks, owner exemptions and the emission split with its stake fallback.
//! No I/O, no clock, no randomness: block numbers and amounts arrive as arguments.
//!
//! Module map:
//! - [`fixed_math`]: scalar I32F32 / I64F64 arithmetic with substrate-fixed rounding, plus the
//!   `exp` series and the liquid-alpha sigmoid.
//! - [`vector`]: vector helpers of subtensor's `math.rs` (normalize, masks, top-k, max-upscale).
//! - [`sparse`]: the sparse-matrix helpers of `math.rs` on a compressed-row layout, including
//!   the weighted median and the liquid-alpha EMA.
//! - [`epoch`]: the epoch itself ([`run_epoch`]) and its input/output types; the work is done
//!   by the dense engine (`dense`, vectorizable kernels on dense matrices, for inputs with
//!   sorted rows), the fused engine (`fused`, sparse integer kernels with range guards) or,
//!   for inputs outside its ranges, by the helper-by-helper port (`generic`). All are
//!   bit-identical.
//! - [`scenario`]: JSON scenario replay for `taonet yuma run` ([`scenario::run_scenario`]).

mod dense;
pub mod epoch;
pub mod fixed_math;
mod fused;
mod generic;
pub mod scenario;
pub mod sparse;
pub mod synthetic;
pub mod vector;

pub use epoch::{
    activity_cutoff_blocks, last_tempo_block, run_epoch, run_epoch_with, EpochContext, EpochError,
    EpochOutput, EpochWorkspace, Hyperparameters, SubnetState,
};
pub use scenario::{run_scenario, run_scenario_str, ScenarioError};
