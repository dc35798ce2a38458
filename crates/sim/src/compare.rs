//! One scenario under several emission-share rules (issue 9): the same
//! genesis, seed, scripted commands and agents, run once per rule with the
//! genesis' `emission_rule` replaced, and a side-by-side report.
//!
//! Each run is an ordinary [`crate::run`]; the comparison only picks the
//! numbers that differ between rules (each subnet's share of the TAO
//! emission, its prices, the validators' income) out of the runs' reports.

use crate::report::Outcome;
use crate::scenario::Scenario;
use crate::SimError;
use amm_core::EmissionRule;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The runs, in the order the rules were asked for.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub scenario: String,
    pub seed: u64,
    pub blocks: u64,
    pub runs: Vec<(EmissionRule, Outcome)>,
}

/// `comparison.json`.
#[derive(Clone, Debug, Serialize)]
pub struct ComparisonReport {
    pub scenario: String,
    pub seed: u64,
    pub blocks: u64,
    pub rules: Vec<RuleReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RuleReport {
    pub rule: String,
    pub subnets: Vec<RuleSubnet>,
    /// Validator + root income over all subnets (RAO, see
    /// [`crate::report::SubnetReport::validator_income_rao`]).
    pub validator_income_rao: u64,
    /// TAO the coinbase could not give any subnet (recycled).
    pub removed_rao: u64,
    pub commands_rejected: BTreeMap<String, u64>,
    pub digests: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RuleSubnet {
    pub netuid: u16,
    /// Share of the whole run's TAO emission (ppm).
    pub tao_share_ppm: u64,
    /// Share over the last sample interval (ppm): where the rule ended up.
    pub final_share_ppm: u64,
    pub tao_emission_rao: u64,
    pub price: String,
    pub ema_price: String,
    pub validator_income_rao: u64,
}

/// Runs `scenario` once per rule. `progress(rule index, done, total)`.
pub fn compare(
    scenario: &Scenario,
    rules: &[EmissionRule],
    progress: &mut dyn FnMut(usize, u64, u64),
) -> Result<Comparison, SimError> {
    if rules.is_empty() {
        return Err(SimError::Scenario("compare needs at least one rule".into()));
    }
    let mut runs = Vec::with_capacity(rules.len());
    for (i, &rule) in rules.iter().enumerate() {
        let mut s = scenario.clone();
        s.genesis.emission_rule = rule;
        let outcome = crate::run(&s, &mut |d, t| progress(i, d, t))?;
        runs.push((rule, outcome));
    }
    Ok(Comparison {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        blocks: scenario.blocks,
        runs,
    })
}

impl Comparison {
    pub fn report(&self) -> ComparisonReport {
        let rules = self
            .runs
            .iter()
            .map(|(rule, o)| {
                let r = &o.report;
                RuleReport {
                    rule: rule.to_string(),
                    subnets: r
                        .subnets
                        .iter()
                        .map(|s| RuleSubnet {
                            netuid: s.netuid,
                            tao_share_ppm: s.tao_share_ppm,
                            final_share_ppm: o
                                .series
                                .subnets
                                .iter()
                                .rev()
                                .find(|r| r.netuid == s.netuid)
                                .map_or(0, |r| r.tao_share_ppm),
                            tao_emission_rao: s.tao_emission_rao,
                            price: s.price.clone(),
                            ema_price: s.ema_price.clone(),
                            validator_income_rao: s.validator_income_rao,
                        })
                        .collect(),
                    validator_income_rao: r.subnets.iter().map(|s| s.validator_income_rao).sum(),
                    removed_rao: r.issuance.removed_rao,
                    commands_rejected: r.commands.rejections.clone(),
                    digests: r.digests.clone(),
                }
            })
            .collect();
        ComparisonReport {
            scenario: self.scenario.clone(),
            seed: self.seed,
            blocks: self.blocks,
            rules,
        }
    }

    /// `comparison.json` (pretty, newline-terminated).
    pub fn report_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.report()).expect("report serializes");
        s.push('\n');
        s
    }

    /// A plain-text table: per subnet and rule, the share and validator
    /// income (what `examples/rules.md` quotes).
    pub fn table(&self) -> String {
        use std::fmt::Write as _;
        let mut t = String::from(
            "rule          subnet   share  last share   TAO emitted  price         validator income (TAO)\n",
        );
        for r in self.report().rules {
            for s in &r.subnets {
                let _ = writeln!(
                    t,
                    "{:<13} sn{:<4} {:>7} {:>11} {:>13}  {:<13.13} {:>12}",
                    r.rule,
                    s.netuid,
                    pct(s.tao_share_ppm),
                    pct(s.final_share_ppm),
                    tao(s.tao_emission_rao),
                    s.price,
                    tao(s.validator_income_rao),
                );
            }
        }
        t
    }

    /// Writes `comparison.json`, `comparison.txt`, and each run's own
    /// report and CSV under `<rule>/`.
    pub fn write(&self, dir: &Path) -> Result<(), SimError> {
        crate::report::write_file(&dir.join("comparison.json"), &self.report_json())?;
        crate::report::write_file(&dir.join("comparison.txt"), &self.table())?;
        for (rule, o) in &self.runs {
            o.write(&dir.join(rule.as_str()))?;
        }
        Ok(())
    }
}

/// ppm as a percentage with two decimals.
fn pct(ppm: u64) -> String {
    format!("{}.{:02}%", ppm / 10_000, ppm % 10_000 / 100)
}

/// RAO as TAO with three decimals (truncated).
fn tao(rao: u64) -> String {
    format!(
        "{}.{:03}",
        rao / 1_000_000_000,
        rao % 1_000_000_000 / 1_000_000
    )
}
