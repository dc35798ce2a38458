//! The simulator: the four pure cores (ledger, consensus, amm, governance)
//! in one process, no NATS and no sled, driven block by block over a
//! scenario, deterministically (same scenario and seed, same report bytes).
//!
//! - [`scenario`]: the scenario file (JSON): genesis, rule switches,
//!   scripted commands, seeded agents, length.
//! - [`engine`]: the cores, joined by the services' own glue
//!   (`Service::admit`, `Service::on_foreign`, `Service::on_tick`): every
//!   event a core emits is delivered FIFO to the services that consume its
//!   stream, exactly as the cluster's inboxes would deliver it.
//! - [`compare`]: one scenario under several emission-share rules.
//! - [`replay`]: what-if replay of the commands a real cluster recorded
//!   (its command journals) under changed rules, compared with its logs.
//! - [`economy`]: the comparable figures of a state (per subnet, per
//!   account).
//! - [`report`]: what a run measured: the JSON report and the CSV series.
//! - [`plot`]: hand-written SVG charts of the main series (and PNG ones).
//! - [`png`]: a minimal PNG writer for the README's charts.
//! - [`date`]: UTC civil dates for the halving projection (no clock read).

pub mod compare;
pub mod date;
pub mod economy;
pub mod engine;
pub mod plot;
pub mod png;
pub mod replay;
pub mod report;
pub mod scenario;

pub use compare::{compare, Comparison};
pub use engine::{run, run_observed, Checkpoint};
pub use report::{Outcome, Report};
pub use scenario::Scenario;

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("scenario: {0}")]
    Scenario(String),
    #[error("genesis: {0}")]
    Genesis(String),
    #[error("{service} start-up command refused: {reason}")]
    Startup {
        service: &'static str,
        reason: String,
    },
    #[error("writing {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}
