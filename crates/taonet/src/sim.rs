//! `taonet sim run SCENARIO`: the whole economy in one process (the `sim`
//! crate), no cluster needed; `taonet sim compare SCENARIO --rules ..`:
//! the same scenario under several emission rules. Prints the JSON report on stdout; `--out`
//! also writes it with the CSV series, `--plot` the charts (SVG and PNG).

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
        /// Write supply, prices and shares charts here (.svg and .png each).
        #[arg(long)]
        plot: Option<PathBuf>,
    },
    /// Run one scenario under several emission-share rules (the genesis'
    /// `emission_rule` replaced) and compare them. Prints a table; `--out`
    /// writes comparison.json/.txt and each run's report under <rule>/.
    Compare {
        scenario: PathBuf,
        /// Comma-separated: ema-price, net-flow, root-weights.
        #[arg(long, default_value = "ema-price,net-flow,root-weights")]
        rules: String,
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write shares-<rule>, prices-<rule> and validator-income charts here (.svg and .png).
        #[arg(long)]
        plot: Option<PathBuf>,
    },
    /// What-if replay: re-run the commands a real cluster recorded (its
    /// data directory, as `taonet up --data` left it, running or not)
    /// under changed rules, and compare per subnet and per account with
    /// what happened. Prints the comparison (JSON); `--out` also writes
    /// replay.txt and both runs' reports.
    Replay {
        /// The cluster's data directory (genesis.json and one log per service).
        #[arg(long)]
        from: PathBuf,
        /// The changed rules: a JSON object with `rules` (subnet
        /// hyperparameters, as a scenario's), `globals` (global parameters)
        /// and `emission_rule`; see docs/sim.md.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Shorthand for `{"emission_rule": RULE}` (ema-price, net-flow, root-weights).
        #[arg(long)]
        emission_rule: Option<String>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Runs below this many blocks finish too fast to need a progress bar.
const PROGRESS_FROM_BLOCKS: u64 = 10_000;

fn load(path: &std::path::Path, seed: Option<u64>) -> Result<sim::Scenario> {
    let mut s =
        sim::Scenario::load(path).with_context(|| format!("scenario {}", path.display()))?;
    if let Some(seed) = seed {
        s.seed = seed;
    }
    Ok(s)
}

/// A progress bar on stderr (only for long runs on a terminal).
fn bar(show: bool, label: &str, done: u64, total: u64) {
    if show {
        let width = 40;
        let filled = (done * width / total.max(1)) as usize;
        eprint!(
            "\r{label}[{}{}] {done}/{total} blocks",
            "#".repeat(filled),
            "-".repeat(width as usize - filled)
        );
        if done == total {
            eprintln!();
        }
        let _ = std::io::stderr().flush();
    }
}

pub fn run(cmd: SimCmd) -> Result<()> {
    let (scenario, seed, out, plot) = match cmd {
        SimCmd::Run {
            scenario,
            seed,
            out,
            plot,
        } => (scenario, seed, out, plot),
        SimCmd::Compare {
            scenario,
            rules,
            seed,
            out,
            plot,
        } => return compare(&scenario, &rules, seed, out, plot),
        SimCmd::Replay {
            from,
            rules,
            emission_rule,
            out,
        } => return replay(&from, rules, emission_rule, out),
    };
    let s = load(&scenario, seed)?;
    let show = s.blocks >= PROGRESS_FROM_BLOCKS && std::io::stderr().is_terminal();
    let mut progress = |done: u64, total: u64| bar(show, "", done, total);
    let outcome = sim::run(&s, &mut progress)?;
    // A broken accounting identity is a core or simulator bug: say so
    // beside the report rather than let its figures pass as sound.
    for broken in &outcome.invariants {
        eprintln!("warning: invariant broken at the end of the run: {broken}");
    }
    if let Some(dir) = &out {
        outcome.write(dir)?;
    }
    if let Some(dir) = &plot {
        sim::plot::write(&outcome, dir)?;
    }
    print!("{}", outcome.report_json());
    Ok(())
}

fn compare(
    scenario: &std::path::Path,
    rules: &str,
    seed: Option<u64>,
    out: Option<PathBuf>,
    plot: Option<PathBuf>,
) -> Result<()> {
    let s = load(scenario, seed)?;
    let rules = rules
        .split(',')
        .map(|r| {
            amm_core::EmissionRule::parse(r.trim())
                .with_context(|| format!("unknown rule {r:?} (ema-price, net-flow, root-weights)"))
        })
        .collect::<Result<Vec<_>>>()?;
    let show = s.blocks >= PROGRESS_FROM_BLOCKS && std::io::stderr().is_terminal();
    let names: Vec<String> = rules.iter().map(|r| format!("{r:<13}")).collect();
    let cmp = sim::compare(&s, &rules, &mut |i, d, t| bar(show, &names[i], d, t))?;
    if let Some(dir) = &out {
        cmp.write(dir)?;
    }
    if let Some(dir) = &plot {
        sim::plot::write_comparison(&cmp, dir)?;
    }
    print!("{}", cmp.table());
    Ok(())
}

fn replay(
    from: &std::path::Path,
    rules: Option<PathBuf>,
    emission_rule: Option<String>,
    out: Option<PathBuf>,
) -> Result<()> {
    let mut what_if = match &rules {
        Some(p) => sim::replay::WhatIf::from_json(
            &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        )?,
        None => sim::replay::WhatIf::default(),
    };
    if let Some(r) = emission_rule {
        what_if.emission_rule =
            Some(amm_core::EmissionRule::parse(r.trim()).with_context(|| {
                format!("unknown rule {r:?} (ema-price, net-flow, root-weights)")
            })?);
    }
    let rec = crate::replay::recording(from)?;
    let show = rec.blocks >= PROGRESS_FROM_BLOCKS && std::io::stderr().is_terminal();
    let labels = ["as recorded  ", "what if      "];
    let r = sim::replay::replay(&rec, &what_if, &mut |i, d, t| bar(show, labels[i], d, t))?;
    if let Some(dir) = &out {
        r.report.write((&r.as_recorded, &r.what_if), dir)?;
    }
    print!("{}", r.report.json());
    Ok(())
}
