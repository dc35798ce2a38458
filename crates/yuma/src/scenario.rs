//! JSON scenarios for `taonet yuma run` (spec/interfaces.md).
//!
//! A scenario is `{hyperparameters, initial_state, steps}` exactly as the entries of
//! `vectors/subtensor-epoch.json`; the scenarios of `vectors/yuma-simulators.json` use the same
//! shape, so both replay through [`run_scenario`]. Unknown fields (`expect`, `expect_full`,
//! `note`, `id`, …) are ignored. Each step applies its events in the order the vectors' schema
//! gives (stake, set_weights, replace_uid, reset_bonds_for_uid), then runs one epoch whose new
//! permits and stored bonds become the next step's state.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::epoch::{
    last_tempo_block, run_epoch, EpochContext, EpochError, EpochOutput, Hyperparameters,
    SubnetState,
};
use crate::fixed_math::i64f64_from_u64;
use crate::vector::vec_u16_max_upscale_to_u16;

/// Why a scenario could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The input is not valid JSON or does not have the scenario shape.
    #[error("invalid scenario JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The scenario is well-formed JSON but inconsistent.
    #[error("invalid scenario: {0}")]
    Invalid(String),
    /// The epoch engine refused the state.
    #[error("epoch at step {step}: {source}")]
    Epoch {
        /// 0-based step index.
        step: usize,
        /// Engine error.
        source: EpochError,
    },
}

fn d_alpha_low() -> u16 {
    45875
}
fn d_alpha_high() -> u16 {
    58982
}
fn d_steepness() -> i16 {
    1000
}
fn d_kappa() -> u16 {
    32767
}
fn d_penalty() -> u16 {
    65535
}
fn d_bma() -> u64 {
    900_000
}
fn d_max_validators() -> u16 {
    128
}
fn d_cutoff() -> u64 {
    5000
}

#[derive(Deserialize)]
struct HyperIn {
    #[serde(default = "d_kappa")]
    kappa_u16: u16,
    #[serde(default = "d_penalty")]
    bonds_penalty_u16: u16,
    #[serde(default = "d_bma")]
    bonds_moving_average: u64,
    #[serde(default)]
    yuma3: bool,
    #[serde(default)]
    liquid_alpha: bool,
    #[serde(default = "d_alpha_low")]
    alpha_low_u16: u16,
    #[serde(default = "d_alpha_high")]
    alpha_high_u16: u16,
    #[serde(default = "d_steepness")]
    alpha_sigmoid_steepness: i16,
    #[serde(default = "d_max_validators")]
    max_allowed_validators: u16,
    #[serde(default)]
    tempo: Option<u64>,
    #[serde(default = "d_cutoff")]
    activity_cutoff_blocks: u64,
    #[serde(default)]
    min_stake: u64,
    #[serde(default)]
    rao_emission: u64,
    /// `BondsResetOn`. Absent means the scenario's `reset_bonds_for_uid` events already passed
    /// the chain's gate (the simulator scenarios list resets without the flag).
    #[serde(default)]
    bonds_reset: Option<bool>,
    #[serde(default)]
    owner_uid: Option<u16>,
}

#[derive(Deserialize)]
struct StateIn {
    #[serde(default)]
    n: Option<usize>,
    stake: Vec<u64>,
    validator_permit: Vec<bool>,
    last_update: Vec<u64>,
    block_at_registration: Vec<u64>,
    bonds: Vec<Vec<(u16, u16)>>,
    weights: Vec<Vec<(u16, u16)>>,
    #[serde(default)]
    owner_uid: Option<u16>,
}

#[derive(Deserialize)]
struct SetWeightsIn {
    uid: u16,
    uids: Vec<u16>,
    #[serde(default)]
    stored_u16: Option<Vec<u16>>,
    #[serde(default)]
    values_u16: Option<Vec<u16>>,
    #[serde(default)]
    block: Option<u64>,
}

#[derive(Deserialize)]
struct ReplaceIn {
    uid: u16,
    #[serde(default)]
    block: Option<u64>,
    #[serde(default)]
    new_stake: Option<u64>,
}

#[derive(Deserialize)]
struct StepIn {
    block: u64,
    #[serde(default)]
    last_tempo: Option<u64>,
    #[serde(default)]
    stake: Option<Vec<u64>>,
    #[serde(default)]
    set_weights: Option<Vec<SetWeightsIn>>,
    #[serde(default)]
    replace_uid: Option<Vec<ReplaceIn>>,
    #[serde(default)]
    reset_bonds_for_uid: Option<Vec<u16>>,
    #[serde(default)]
    rao_emission: Option<u64>,
    #[serde(default)]
    commit_blocks: Option<Vec<u64>>,
}

#[derive(Deserialize)]
struct ScenarioIn {
    hyperparameters: HyperIn,
    initial_state: StateIn,
    steps: Vec<StepIn>,
}

/// One replayed step: the block and the epoch's outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepResult {
    /// Block the epoch ran at.
    pub block: u64,
    /// Epoch outputs.
    pub output: EpochOutput,
}

/// Replay a parsed scenario value and return every step's outputs as typed values.
pub fn replay(input: &Value) -> Result<Vec<StepResult>, ScenarioError> {
    let sc = ScenarioIn::deserialize(input)?;
    let h = &sc.hyperparameters;
    let hp = Hyperparameters {
        kappa_u16: h.kappa_u16,
        bonds_penalty_u16: h.bonds_penalty_u16,
        bonds_moving_average: h.bonds_moving_average,
        yuma3: h.yuma3,
        liquid_alpha: h.liquid_alpha,
        alpha_low_u16: h.alpha_low_u16,
        alpha_high_u16: h.alpha_high_u16,
        alpha_sigmoid_steepness: h.alpha_sigmoid_steepness,
        max_allowed_validators: h.max_allowed_validators,
        activity_cutoff_blocks: h.activity_cutoff_blocks,
        stake_threshold: h.min_stake,
    };
    let init = &sc.initial_state;
    let n = init.n.unwrap_or(init.stake.len());
    let mut state = SubnetState {
        stake: init.stake.iter().map(|&s| i64f64_from_u64(s)).collect(),
        validator_permit: init.validator_permit.clone(),
        last_update: init.last_update.clone(),
        block_at_registration: init.block_at_registration.clone(),
        weights: init.weights.clone(),
        bonds: init.bonds.clone(),
    };
    if state.stake.len() != n {
        return Err(ScenarioError::Invalid(format!(
            "initial_state.stake has {} entries, n = {n}",
            state.stake.len()
        )));
    }
    let owner_uid = h.owner_uid.or(init.owner_uid);
    let check_uid = |uid: u16, what: &str| {
        if (uid as usize) < n {
            Ok(uid as usize)
        } else {
            Err(ScenarioError::Invalid(format!(
                "{what}: uid {uid} ≥ n = {n}"
            )))
        }
    };

    let mut results = Vec::with_capacity(sc.steps.len());
    let mut last_step_block = 0u64;
    for (k, step) in sc.steps.iter().enumerate() {
        if let Some(stake) = &step.stake {
            if stake.len() != n {
                return Err(ScenarioError::Invalid(format!(
                    "step {k}: stake has {} entries, n = {n}",
                    stake.len()
                )));
            }
            state.stake = stake.iter().map(|&s| i64f64_from_u64(s)).collect();
        }
        for sw in step.set_weights.iter().flatten() {
            let i = check_uid(sw.uid, "set_weights")?;
            let stored = match (&sw.stored_u16, &sw.values_u16) {
                (Some(s), _) => s.clone(),
                (None, Some(v)) => vec_u16_max_upscale_to_u16(v),
                (None, None) => {
                    return Err(ScenarioError::Invalid(format!(
                        "step {k}: set_weights for uid {} has neither stored_u16 nor values_u16",
                        sw.uid
                    )))
                }
            };
            if stored.len() != sw.uids.len() {
                return Err(ScenarioError::Invalid(format!(
                    "step {k}: set_weights for uid {}: {} uids but {} values",
                    sw.uid,
                    sw.uids.len(),
                    stored.len()
                )));
            }
            state.weights[i] = sw.uids.iter().copied().zip(stored).collect();
            state.last_update[i] = sw.block.unwrap_or(step.block);
        }
        for r in step.replace_uid.iter().flatten() {
            let u = check_uid(r.uid, "replace_uid")?;
            let at = r.block.unwrap_or(step.block);
            // clear_neuron + registration (spec §7).
            state.validator_permit[u] = false;
            state.bonds[u].clear();
            state.weights[u].clear();
            for row in state.weights.iter_mut() {
                for e in row.iter_mut().filter(|e| e.0 == r.uid) {
                    e.1 = 0;
                }
            }
            state.block_at_registration[u] = at;
            state.last_update[u] = at;
            if let Some(s) = r.new_stake {
                state.stake[u] = i64f64_from_u64(s);
            }
        }
        if h.bonds_reset != Some(false) {
            for &uid in step.reset_bonds_for_uid.iter().flatten() {
                for row in state.bonds.iter_mut() {
                    row.retain(|e| e.0 != uid);
                }
            }
        }
        let last_tempo = step
            .last_tempo
            .unwrap_or_else(|| last_tempo_block(step.block, h.tempo.unwrap_or(0), last_step_block));
        let ctx = EpochContext {
            current_block: step.block,
            last_tempo,
            rao_emission: step.rao_emission.unwrap_or(h.rao_emission),
            owner_uid,
            commit_blocks: step.commit_blocks.clone(),
        };
        let output = run_epoch(&hp, &state, &ctx)
            .map_err(|source| ScenarioError::Epoch { step: k, source })?;
        output.apply_to(&mut state);
        last_step_block = step.block;
        results.push(StepResult {
            block: step.block,
            output,
        });
    }
    Ok(results)
}

/// The JSON object of one step, as `taonet yuma run` prints it.
pub fn step_to_json(step: &StepResult) -> Value {
    let o = &step.output;
    json!({
        "block": step.block,
        "stake_u16": o.stake_u16,
        "consensus_u16": o.consensus_u16,
        "incentive_u16": o.incentive_u16,
        "dividends_u16": o.dividends_u16,
        "validator_trust_u16": o.validator_trust_u16,
        "emission": o.emission,
        "validator_permit": o.validator_permit,
        "bonds_u16": o.bonds_u16,
    })
}

/// Replay one scenario object and return `{"steps": [...]}` (spec/interfaces.md).
pub fn run_scenario(input: &Value) -> Result<Value, ScenarioError> {
    let steps = replay(input)?;
    Ok(json!({ "steps": steps.iter().map(step_to_json).collect::<Vec<_>>() }))
}

/// [`run_scenario`] on JSON text, returning JSON text.
pub fn run_scenario_str(input: &str) -> Result<String, ScenarioError> {
    let v: Value = serde_json::from_str(input)?;
    Ok(serde_json::to_string(&run_scenario(&v)?)?)
}
