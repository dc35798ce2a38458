//! What a run measured. Everything is an integer (RAO, alpha-RAO, parts
//! per million, basis points) or an exact decimal string printed by the
//! fixed-point types, so the report's bytes depend only on the scenario
//! and the seed.

use crate::scenario::Scenario;
use crate::SimError;
use amm_core::{Amm, AmmEvent};
use keys::AccountId;
use ledger_core::emission::{self, BLOCKS_PER_DAY, DEFAULT_BLOCK_EMISSION};
use ledger_core::{event::LedgerEvent, Ledger};
use serde::Serialize;
use std::any::Any;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

const DAYS_PER_YEAR: u64 = 365;

/// The JSON report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub scenario: String,
    pub seed: u64,
    pub blocks: u64,
    pub block_time_ms: u64,
    pub start_date: String,
    pub end_date: String,
    pub issuance: Issuance,
    pub emission: Emission,
    pub inflation: Inflation,
    /// Every halving the run crossed.
    pub halvings: Vec<Halving>,
    /// The next halving, projected from the final issuance at the final rate
    /// (nothing recycled meanwhile).
    pub next_halving: Option<Projected>,
    /// The scenario's `projection`: from the issuance and date it gives.
    pub projection: Option<Projected>,
    pub subnets: Vec<SubnetReport>,
    /// Stake concentration at the end of the run.
    pub stake_concentration: StakeRow,
    pub commands: Commands,
    /// Subnet and neuron registrations over the run, and what they pruned.
    pub registrations: Registrations,
    /// Events each core emitted.
    pub events: BTreeMap<String, u64>,
    /// Final state digests (hex), as `taonet replay` prints them.
    pub digests: BTreeMap<String, String>,
    /// `@Name` accounts of the scenario (SS58 → name).
    pub accounts: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Issuance {
    pub start_rao: u64,
    pub end_rao: u64,
    /// Sum of the blocks' `minted`.
    pub minted_rao: u64,
    /// `start + minted − end`: what recycling took out of issuance.
    pub removed_rao: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Emission {
    pub first_block_rao: u64,
    pub last_block_rao: u64,
    /// The rate of the first and last block over 7 200 blocks (one day of
    /// 12-second blocks).
    pub per_day_start_rao: u64,
    pub per_day_end_rao: u64,
    /// `minted × 7 200 / blocks`: the run's average day.
    pub per_day_average_rao: u64,
}

/// Annualised: a year of days at the current rate over the issuance.
#[derive(Clone, Debug, Serialize)]
pub struct Inflation {
    pub start_bp: u64,
    pub end_bp: u64,
    pub start: String,
    pub end: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Halving {
    /// The first block minted at the halved rate.
    pub block: u64,
    pub date: String,
    /// Issuance when that block was produced.
    pub issuance_rao: u64,
    pub era: u32,
    pub per_day_before_rao: u64,
    pub per_day_after_rao: u64,
    pub inflation_before_bp: u64,
    pub inflation_after_bp: u64,
    pub inflation_before: String,
    pub inflation_after: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Projected {
    pub from_issuance_rao: u64,
    pub from_date: String,
    pub halving_issuance_rao: u64,
    pub blocks: u64,
    /// Block number in the run (for `next_halving`).
    pub block: Option<u64>,
    pub date: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct SubnetReport {
    pub netuid: u16,
    /// Spot and EMA price (TAO per alpha), exact decimals.
    pub price: String,
    pub ema_price: String,
    pub tao_reserve: u64,
    pub alpha_reserve: u64,
    pub alpha_outstanding: u64,
    /// TAO the coinbase gave the subnet over the run (injected + chain buy).
    pub tao_emission_rao: u64,
    /// Its share of all subnets' TAO emission, in parts per million.
    pub tao_share_ppm: u64,
    pub epochs: u64,
    /// Neurons (uids) on the subnet's metagraph at the end of the run.
    pub neurons: u64,
    pub payouts: Payouts,
    /// The validators' and root's alpha, valued in TAO at the spot price
    /// of the sample after each payout (RAO; see [`SubnetRow`]).
    pub validator_income_rao: u64,
}

/// Alpha paid by the subnet's epochs over the run (alpha-RAO).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Payouts {
    pub owner: u64,
    pub miner: u64,
    pub validator: u64,
    pub root: u64,
}

/// What the registration sagas did, counted from governance's events
/// (after the fact, so a saga that fails downstream counts as failed,
/// not as registered).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Registrations {
    /// Subnets registered (`SubnetRegistered`).
    pub subnets_registered: u64,
    /// The TAO their locks took from the owners (RAO).
    pub subnet_locks_rao: u64,
    /// Subnet registrations that failed after being accepted.
    pub subnets_failed: u64,
    /// Subnets dissolved to make room at the subnet limit.
    pub subnets_pruned: u64,
    /// Neurons registered by burn (`NeuronRegistered`, genesis excluded).
    pub neurons_registered: u64,
    /// Of those, how many took the uid of a pruned neuron.
    pub neurons_replaced: u64,
    /// The burns those registrations paid (RAO).
    pub neuron_burns_rao: u64,
    /// Neuron registrations that failed after being accepted, and the
    /// burns refunded for them (RAO).
    pub neurons_failed: u64,
    pub neuron_refunds_rao: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Commands {
    pub accepted: u64,
    pub rejected: u64,
    /// `service:code` → count, for scripted and agent commands.
    pub rejections: BTreeMap<String, u64>,
    /// Commands derived from another service's event that a core refused
    /// (the cluster logs these as warnings): `service:code` → count.
    pub foreign_rejections: BTreeMap<String, u64>,
}

/// One sampled block of the network.
#[derive(Clone, Debug)]
pub struct GlobalRow {
    pub block: u64,
    pub issuance_rao: u64,
    pub block_emission_rao: u64,
    pub era: u32,
    pub minted_rao: u64,
}

/// One sampled block of one subnet.
#[derive(Clone, Debug)]
pub struct SubnetRow {
    pub block: u64,
    pub netuid: u16,
    pub price: String,
    pub ema_price: String,
    pub tao_reserve: u64,
    pub alpha_reserve: u64,
    pub alpha_outstanding: u64,
    /// Share of the TAO emission since the previous sample (ppm).
    pub tao_share_ppm: u64,
    /// Cumulative validator income: each interval's validator and root
    /// alpha payouts valued at this sample's spot price (RAO).
    pub validator_income_rao: u64,
}

/// How concentrated stake is at one sampled block, over the hotkeys'
/// total stake values (each hotkey's `Σ_n floor(alpha_n · price_n)`, root
/// included: the figure the amm reports to governance for its stake
/// thresholds).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StakeRow {
    pub block: u64,
    /// Hotkeys with a non-zero stake value.
    pub hotkeys: u64,
    /// The sum of their values (RAO).
    pub total_value_rao: u64,
    /// Share of that sum held by the largest hotkey, and by the ten
    /// largest (ppm, rounded down).
    pub top1_ppm: u64,
    pub top10_ppm: u64,
    /// Herfindahl-Hirschman index in ppm: `Σ share_i²` with each share in
    /// ppm rounded down (1 000 000: one hotkey holds everything; n equal
    /// hotkeys: 1 000 000 / n).
    pub hhi_ppm: u64,
}

impl StakeRow {
    /// Concentration of `values` (one per hotkey, any order).
    pub fn of(block: u64, values: impl IntoIterator<Item = u64>) -> StakeRow {
        let mut v: Vec<u64> = values.into_iter().filter(|x| *x > 0).collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        let total: u128 = v.iter().map(|x| u128::from(*x)).sum();
        let share = |part: u128| -> u64 {
            (part * 1_000_000)
                .checked_div(total)
                .map_or(0, |v| u64::try_from(v).unwrap_or(u64::MAX))
        };
        let top = |k: usize| share(v.iter().take(k).map(|x| u128::from(*x)).sum());
        let hhi: u128 = v
            .iter()
            .map(|x| {
                let s = u128::from(share(u128::from(*x)));
                s * s
            })
            .sum::<u128>()
            / 1_000_000;
        StakeRow {
            block,
            hotkeys: v.len() as u64,
            total_value_rao: u64::try_from(total).unwrap_or(u64::MAX),
            top1_ppm: top(1),
            top10_ppm: top(10),
            hhi_ppm: u64::try_from(hhi).unwrap_or(u64::MAX),
        }
    }
}

/// The time series (CSV and plots).
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub block_time_ms: u64,
    pub start_ms: u64,
    pub global: Vec<GlobalRow>,
    pub subnets: Vec<SubnetRow>,
    /// Stake concentration per sampled block.
    pub stake: Vec<StakeRow>,
}

/// A finished run.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub report: Report,
    pub series: Series,
    /// The final state's figures (what `sim replay` compares).
    pub economy: crate::economy::Economy,
    /// Each scripted command's outcome, in the scenario's file order:
    /// `None` accepted, `Some(code)` refused with that code.
    pub scripted: Vec<Option<String>>,
    /// The cores' `check_invariants` failures at the end of the run
    /// (`service: why`), and the cross-core ones (`cross-core: why`:
    /// governance's total stake of every hotkey, computed from the alpha
    /// and prices the amm reported, equals the amm's own); empty when every
    /// accounting identity holds.
    pub invariants: Vec<String>,
}

impl Outcome {
    /// The report as written to `report.json` (pretty, newline-terminated).
    pub fn report_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.report).expect("report serializes");
        s.push('\n');
        s
    }

    /// `series.csv`: one row per sampled block.
    pub fn global_csv(&self) -> String {
        let mut s = String::from("block,date,issuance_rao,block_emission_rao,era,minted_rao\n");
        for r in &self.series.global {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{}",
                r.block,
                crate::date::format(self.series.start_ms + r.block * self.series.block_time_ms),
                r.issuance_rao,
                r.block_emission_rao,
                r.era,
                r.minted_rao
            );
        }
        s
    }

    /// `subnets.csv`: one row per sampled block and subnet.
    pub fn subnets_csv(&self) -> String {
        let mut s = String::from(
            "block,netuid,price,ema_price,tao_reserve,alpha_reserve,alpha_outstanding,tao_share_ppm,validator_income_rao\n",
        );
        for r in &self.series.subnets {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{},{}",
                r.block,
                r.netuid,
                r.price,
                r.ema_price,
                r.tao_reserve,
                r.alpha_reserve,
                r.alpha_outstanding,
                r.tao_share_ppm,
                r.validator_income_rao
            );
        }
        s
    }

    /// `stake.csv`: stake concentration, one row per sampled block.
    pub fn stake_csv(&self) -> String {
        let mut s = String::from("block,date,hotkeys,total_value_rao,top1_ppm,top10_ppm,hhi_ppm\n");
        for r in &self.series.stake {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{}",
                r.block,
                crate::date::format(self.series.start_ms + r.block * self.series.block_time_ms),
                r.hotkeys,
                r.total_value_rao,
                r.top1_ppm,
                r.top10_ppm,
                r.hhi_ppm
            );
        }
        s
    }

    /// Writes `report.json`, `series.csv`, `subnets.csv` and `stake.csv`
    /// into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), SimError> {
        write_file(&dir.join("report.json"), &self.report_json())?;
        write_file(&dir.join("series.csv"), &self.global_csv())?;
        write_file(&dir.join("subnets.csv"), &self.subnets_csv())?;
        write_file(&dir.join("stake.csv"), &self.stake_csv())
    }
}

pub(crate) fn write_file(path: &Path, text: &str) -> Result<(), SimError> {
    let io = |e| SimError::Io {
        path: path.display().to_string(),
        source: e,
    };
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(io)?;
    }
    std::fs::write(path, text).map_err(io)
}

/// `bp` basis points as a percentage with two decimals.
fn percent(bp: u64) -> String {
    format!("{}.{:02}%", bp / 100, bp % 100)
}

/// Annual inflation at `per_block` over `issuance`, in basis points.
fn inflation_bp(per_block: u64, issuance: u64) -> u64 {
    let year = u128::from(per_block) * u128::from(BLOCKS_PER_DAY * DAYS_PER_YEAR) * 10_000;
    u64::try_from(year / u128::from(issuance.max(1))).unwrap_or(u64::MAX)
}

#[derive(Default)]
struct SubnetAcc {
    tao_emission: u64,
    since_sample: u64,
    epochs: u64,
    payouts: Payouts,
    /// Validator + root alpha paid since the last sample.
    validator_alpha_since: u64,
    validator_income: u64,
}

/// Watches the events flowing between the cores and samples the state.
pub(crate) struct Observer {
    name: String,
    seed: u64,
    blocks: u64,
    start_ms: u64,
    block_ms: u64,
    names: BTreeMap<AccountId, String>,
    projection: Option<crate::scenario::Projection>,
    start_issuance: u64,
    minted: u64,
    first_minted: Option<u64>,
    last_minted: u64,
    era: u32,
    halvings: Vec<Halving>,
    subnets: BTreeMap<u16, SubnetAcc>,
    commands: Commands,
    registrations: Registrations,
    /// TAO emission received by subnets dissolved during the run, and
    /// since the last sample: still part of the totals shares are of.
    dissolved_tao: u64,
    dissolved_since_sample: u64,
    events: BTreeMap<String, u64>,
    series: Series,
}

impl Observer {
    pub(crate) fn new(s: &Scenario, start_ms: u64, block_ms: u64) -> Self {
        Observer {
            name: s.name.clone(),
            seed: s.seed,
            blocks: s.blocks,
            start_ms,
            block_ms,
            names: s.names.clone(),
            projection: s.projection.clone(),
            start_issuance: 0,
            minted: 0,
            first_minted: None,
            last_minted: 0,
            era: 0,
            halvings: Vec::new(),
            subnets: BTreeMap::new(),
            commands: Commands::default(),
            registrations: Registrations::default(),
            dissolved_tao: 0,
            dissolved_since_sample: 0,
            events: BTreeMap::new(),
            series: Series {
                block_time_ms: block_ms,
                start_ms,
                ..Default::default()
            },
        }
    }

    fn date_of(&self, block: u64) -> String {
        crate::date::format(self.start_ms + block * self.block_ms)
    }

    pub(crate) fn genesis(&mut self, issuance: u64) {
        self.start_issuance = issuance;
        self.era = emission::era(issuance);
    }

    /// Before block `b` is produced at `issuance`: a new era means `b` is
    /// the first block at the halved rate.
    pub(crate) fn before_block(&mut self, b: u64, issuance: u64) {
        let era = emission::era(issuance);
        if era > self.era {
            let before = DEFAULT_BLOCK_EMISSION >> self.era;
            let after = emission::block_emission(issuance);
            let (ib, ia) = (
                inflation_bp(before, issuance),
                inflation_bp(after, issuance),
            );
            self.halvings.push(Halving {
                block: b,
                date: self.date_of(b),
                issuance_rao: issuance,
                era,
                per_day_before_rao: before * BLOCKS_PER_DAY,
                per_day_after_rao: after * BLOCKS_PER_DAY,
                inflation_before_bp: ib,
                inflation_after_bp: ia,
                inflation_before: percent(ib),
                inflation_after: percent(ia),
            });
        }
        self.era = era;
    }

    pub(crate) fn command(&mut self, service: &str, rejected: Option<&str>) {
        match rejected {
            None => self.commands.accepted += 1,
            Some(code) => {
                self.commands.rejected += 1;
                *self
                    .commands
                    .rejections
                    .entry(format!("{service}:{code}"))
                    .or_default() += 1;
            }
        }
    }

    pub(crate) fn foreign_rejected(&mut self, service: &str, code: &str) {
        *self
            .commands
            .foreign_rejections
            .entry(format!("{service}:{code}"))
            .or_default() += 1;
    }

    /// One event as its core produced it, before it is wrapped. Why here
    /// and not off the queue: the queue is FIFO and every event enters it
    /// at the tail, so production order is delivery order, and the typed
    /// event saves decoding the envelope once more (a `CoinbaseRan` of 128
    /// subnets every block).
    pub(crate) fn produced(&mut self, service: &'static str, ev: &dyn Any) {
        if let Some(n) = self.events.get_mut(service) {
            *n += 1;
        } else {
            self.events.insert(service.to_string(), 1);
        }
        if let Some(ev) = ev.downcast_ref::<AmmEvent>() {
            match ev {
                AmmEvent::CoinbaseRan(c) => {
                    for s in &c.subnets {
                        let acc = self.subnets.entry(s.netuid).or_default();
                        let tao = s.tao_in + s.excess_tao;
                        acc.tao_emission += tao;
                        acc.since_sample += tao;
                    }
                }
                AmmEvent::EpochPaid(p) => {
                    let acc = self.subnets.entry(p.netuid).or_default();
                    acc.epochs += 1;
                    acc.payouts.owner += p.owner_cut;
                    acc.payouts.miner += p.server;
                    acc.payouts.validator += p.validator;
                    acc.payouts.root += p.root;
                    acc.validator_alpha_since += p.validator + p.root;
                }
                _ => {}
            }
        } else if let Some(LedgerEvent::BlockProduced(b)) = ev.downcast_ref::<LedgerEvent>() {
            self.minted += b.minted;
            self.first_minted.get_or_insert(b.minted);
            self.last_minted = b.minted;
        } else if let Some(ev) = ev.downcast_ref::<governance_core::event::GovernanceEvent>() {
            self.governance_event(ev);
        }
    }

    /// Counts the registration sagas' outcomes.
    fn governance_event(&mut self, ev: &governance_core::event::GovernanceEvent) {
        use governance_core::event::{DissolveReason, GovernanceEvent as G};
        let r = &mut self.registrations;
        match ev {
            G::SubnetRegistered(e) => {
                r.subnets_registered += 1;
                r.subnet_locks_rao += e.lock;
            }
            G::SubnetRegistrationFailed(_) => r.subnets_failed += 1,
            G::SubnetDissolved(e) => {
                r.subnets_pruned += u64::from(matches!(e.reason, DissolveReason::Pruned { .. }));
                // A later subnet on the same netuid is another subnet: its
                // figures start from zero.
                if let Some(acc) = self.subnets.remove(&e.netuid) {
                    self.dissolved_tao += acc.tao_emission;
                    self.dissolved_since_sample += acc.since_sample;
                }
            }
            G::NeuronRegistered(e) => {
                r.neurons_registered += 1;
                r.neurons_replaced += u64::from(e.replaced.is_some());
                r.neuron_burns_rao += e.burn;
            }
            G::NeuronRegistrationFailed(e) => {
                r.neurons_failed += 1;
                r.neuron_refunds_rao += e.refund;
            }
            _ => {}
        }
    }

    pub(crate) fn sample(&mut self, block: u64, ledger: &Ledger, amm: &Amm) {
        let issuance = ledger.total_issuance();
        self.series.global.push(GlobalRow {
            block,
            issuance_rao: issuance,
            block_emission_rao: emission::block_emission(issuance),
            era: emission::era(issuance),
            minted_rao: self.minted,
        });
        let interval: u64 = std::mem::take(&mut self.dissolved_since_sample)
            + self.subnets.values().map(|a| a.since_sample).sum::<u64>();
        for s in amm.subnet_summaries() {
            if s.netuid == 0 {
                continue;
            }
            let acc = self.subnets.entry(s.netuid).or_default();
            acc.validator_income += alpha_in_tao(acc.validator_alpha_since, s.price_bits);
            acc.validator_alpha_since = 0;
            self.series.subnets.push(SubnetRow {
                block,
                netuid: s.netuid,
                price: s.price,
                ema_price: s.moving_price,
                tao_reserve: s.tao_reserve,
                alpha_reserve: s.alpha_reserve,
                alpha_outstanding: s.alpha_outstanding,
                tao_share_ppm: ppm(acc.since_sample, interval),
                validator_income_rao: acc.validator_income,
            });
        }
        for a in self.subnets.values_mut() {
            a.since_sample = 0;
        }
        self.series.stake.push(stake_row(block, amm));
    }

    fn project(&self, issuance: u64, from_ms: u64, run_block: Option<u64>) -> Option<Projected> {
        let s = emission::schedule(issuance);
        let blocks = s.blocks_to_next_halving?;
        Some(Projected {
            from_issuance_rao: issuance,
            from_date: crate::date::format(from_ms),
            halving_issuance_rao: s.next_halving_issuance?,
            blocks,
            block: run_block.map(|b| b + blocks),
            date: crate::date::format(from_ms + blocks * self.block_ms),
        })
    }

    pub(crate) fn finish(
        mut self,
        ledger: &Ledger,
        consensus: &consensus_core::Consensus,
        amm: &Amm,
        digests: &[(&str, [u8; 32])],
    ) -> Outcome {
        let end = ledger.total_issuance();
        let start = self.start_issuance;
        let first = self.first_minted.unwrap_or(0);
        let last = self.last_minted;
        let total_tao: u64 =
            self.dissolved_tao + self.subnets.values().map(|a| a.tao_emission).sum::<u64>();
        let mut subnets = Vec::new();
        for s in amm.subnet_summaries() {
            if s.netuid == 0 {
                continue;
            }
            let acc = self.subnets.remove(&s.netuid).unwrap_or_default();
            let validator_income_rao =
                acc.validator_income + alpha_in_tao(acc.validator_alpha_since, s.price_bits);
            subnets.push(SubnetReport {
                netuid: s.netuid,
                price: s.price,
                ema_price: s.moving_price,
                tao_reserve: s.tao_reserve,
                alpha_reserve: s.alpha_reserve,
                alpha_outstanding: s.alpha_outstanding,
                tao_emission_rao: acc.tao_emission,
                tao_share_ppm: ppm(acc.tao_emission, total_tao),
                epochs: acc.epochs,
                neurons: consensus
                    .subnet(s.netuid)
                    .map_or(0, |m| m.neurons.len() as u64),
                payouts: acc.payouts,
                validator_income_rao,
            });
        }
        let start_bp = inflation_bp(emission::block_emission(start), start);
        let end_bp = inflation_bp(emission::block_emission(end), end);
        let end_ms = self.start_ms + self.blocks * self.block_ms;
        let projection = self.projection.as_ref().and_then(|p| {
            let from = crate::date::parse(&p.date).ok()?;
            self.project(p.issuance_rao, from, None)
        });
        let report = Report {
            scenario: self.name.clone(),
            seed: self.seed,
            blocks: self.blocks,
            block_time_ms: self.block_ms,
            start_date: self.date_of(0),
            end_date: self.date_of(self.blocks),
            issuance: Issuance {
                start_rao: start,
                end_rao: end,
                minted_rao: self.minted,
                removed_rao: (start + self.minted).saturating_sub(end),
            },
            emission: Emission {
                first_block_rao: first,
                last_block_rao: last,
                per_day_start_rao: first * BLOCKS_PER_DAY,
                per_day_end_rao: last * BLOCKS_PER_DAY,
                per_day_average_rao: u64::try_from(
                    u128::from(self.minted) * u128::from(BLOCKS_PER_DAY)
                        / u128::from(self.blocks.max(1)),
                )
                .unwrap_or(u64::MAX),
            },
            inflation: Inflation {
                start_bp,
                end_bp,
                start: percent(start_bp),
                end: percent(end_bp),
            },
            halvings: std::mem::take(&mut self.halvings),
            next_halving: self.project(end, end_ms, Some(self.blocks)),
            projection,
            subnets,
            stake_concentration: stake_row(self.blocks, amm),
            commands: std::mem::take(&mut self.commands),
            registrations: std::mem::take(&mut self.registrations),
            events: std::mem::take(&mut self.events),
            digests: digests
                .iter()
                .map(|(s, d)| ((*s).to_owned(), service_kit::digest_hex(d)))
                .collect(),
            accounts: self
                .names
                .iter()
                .map(|(k, n)| (k.to_ss58(), n.clone()))
                .collect(),
        };
        Outcome {
            report,
            series: self.series,
            economy: crate::economy::Economy::of(ledger, amm),
            scripted: Vec::new(),
            invariants: Vec::new(),
        }
    }
}

/// Stake concentration now: over every hotkey's total stake value, the
/// figure governance checks stake thresholds against
/// (`Amm::hotkey_totals`).
fn stake_row(block: u64, amm: &Amm) -> StakeRow {
    StakeRow::of(block, amm.hotkey_totals().into_values())
}

fn ppm(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        return 0;
    }
    u64::try_from(u128::from(part) * 1_000_000 / u128::from(whole)).unwrap_or(u64::MAX)
}

/// `alpha` alpha-RAO at a spot price given as U64F64 bits, in RAO
/// (truncated).
fn alpha_in_tao(alpha: u64, price_bits: u128) -> u64 {
    u128::from(alpha)
        .checked_mul(price_bits >> 32)
        .and_then(|v| u64::try_from(v >> 32).ok())
        .unwrap_or(u64::MAX)
}
