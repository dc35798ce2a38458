//! `taonet sim run SCENARIO`: the whole economy in one process (the `sim`
//! crate), no cluster needed. Prints the JSON report on stdout; `--out`
//! also writes it with the CSV series, `--plot` the SVG charts.

use anyhow::{Context, Result};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum SimCmd {
    /// Run a scenario file (JSON; see docs/sim.md and examples/).
    Run {
        scenario: PathBuf,
        /// Seed of the agents' choices (overrides the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Write report.json, series.csv and subnets.csv here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write supply.svg, prices.svg and shares.svg here.
        #[arg(long)]
        plot: Option<PathBuf>,
    },
}

/// Runs below this many blocks finish too fast to need a progress bar.
const PROGRESS_FROM_BLOCKS: u64 = 10_000;

pub fn run(cmd: SimCmd) -> Result<()> {
    let SimCmd::Run {
        scenario,
        seed,
        out,
        plot,
    } = cmd;
    let mut s = sim::Scenario::load(&scenario)
        .with_context(|| format!("scenario {}", scenario.display()))?;
    if let Some(seed) = seed {
        s.seed = seed;
    }
    let show = s.blocks >= PROGRESS_FROM_BLOCKS && std::io::stderr().is_terminal();
    let mut progress = |done: u64, total: u64| {
        if show {
            let width = 40;
            let filled = (done * width / total.max(1)) as usize;
            eprint!(
                "\r[{}{}] {done}/{total} blocks",
                "#".repeat(filled),
                "-".repeat(width as usize - filled)
            );
            if done == total {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        }
    };
    let outcome = sim::run(&s, &mut progress)?;
    if let Some(dir) = &out {
        outcome.write(dir)?;
    }
    if let Some(dir) = &plot {
        sim::plot::write(&outcome, dir)?;
    }
    print!("{}", outcome.report_json());
    Ok(())
}
