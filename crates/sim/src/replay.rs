//! What-if replay: the commands a real cluster recorded, run again in the
//! simulator under changed rules, and compared with what happened.
//!
//! Input ([`Recording`]): the cluster's genesis file, each service's
//! command journal (`service_kit::journal`: every user command the service
//! decided, as signed, with the block it was decided at and its outcome),
//! the ledger's block timestamps and the final state of the real logs
//! (replayed offline, as `taonet replay` does). Gathering it is I/O and
//! lives in the CLI; everything here is pure.
//!
//! Two runs are made of the same commands:
//!
//! - **as recorded**: the genesis and the commands, nothing changed. It
//!   says how faithful the replay is: when its final digests equal the real
//!   logs' the simulator reproduced the cluster exactly, and every
//!   difference the what-if run shows is the rules' doing. (A cluster under
//!   load decides a command somewhere inside a block while the simulator
//!   puts every command after its block's consequences settle, so a busy
//!   cluster can differ a little; the report says by how much, command by
//!   command.)
//! - **what if**: the same, with the [`WhatIf`] switches applied after
//!   genesis (hyperparameters, global parameters, the emission rule).
//!
//! The [`ReplayReport`] puts the real figures, the as-recorded ones and the
//! what-if ones side by side per subnet and per account, and lists every
//! command whose outcome changed.

use crate::economy::{AccountState, Economy, SubnetState};
use crate::scenario::{Rule, Scenario, Scripted, ServiceCommand};
use crate::SimError;
use keys::AccountId;
use network_genesis::NetworkGenesis;
use serde::{Deserialize, Serialize};
use service_kit::journal::{Record, RecordedOutcome};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The services in the order their journals are merged (and the order the
/// simulator hands events to them).
pub const SERVICES: [&str; 4] = ["ledger", "consensus", "amm", "governance"];

/// Everything a what-if replay needs from a cluster's data directory.
#[derive(Clone, Debug)]
pub struct Recording {
    /// Where it came from (for the report).
    pub source: String,
    pub genesis: NetworkGenesis,
    /// Each service's journal, in record order.
    pub journals: BTreeMap<String, Vec<Record>>,
    /// The ledger's height at the end of its log.
    pub blocks: u64,
    /// Block `b`'s timestamp at index `b − 1`, from the ledger's log.
    pub block_timestamps_ms: Vec<u64>,
    /// The real logs' final figures and digests.
    pub real: Economy,
    pub real_digests: BTreeMap<String, String>,
}

/// The changed rules (`taonet sim replay --rules FILE`, a JSON object).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WhatIf {
    /// Subnet hyperparameters, set by the genesis admin after genesis.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Global parameters (`VoteWeighting`, `TaoWeight`, `EmissionRule`, ...).
    #[serde(default)]
    pub globals: Vec<governance_core::GlobalParam>,
    /// Replaces the genesis' emission-share rule.
    #[serde(default)]
    pub emission_rule: Option<amm_core::EmissionRule>,
    /// Fee burning off: the ledger pays every fee to this account (which
    /// must hold a genesis balance) instead of burning it.
    #[serde(default)]
    pub fee_recipient: Option<AccountId>,
}

impl WhatIf {
    /// Sets the switches on a scenario: genesis choices replaced, rules
    /// and globals for the genesis admin to set after genesis.
    pub fn apply(&self, s: &mut Scenario) -> Result<(), SimError> {
        if let Some(rule) = self.emission_rule {
            s.genesis.emission_rule = rule;
        }
        if self.fee_recipient.is_some() {
            s.genesis.ledger.fees.recipient = self.fee_recipient;
            s.genesis
                .validate()
                .map_err(|e| SimError::Genesis(format!("{e:#}")))?;
        }
        s.rules = self.rules.clone();
        s.globals = self.globals.clone();
        if !(s.rules.is_empty() && s.globals.is_empty()) && s.admin().is_none() {
            return Err(SimError::Scenario(
                "what-if rules are set by the genesis admin, and this genesis has none".into(),
            ));
        }
        Ok(())
    }

    pub fn from_json(text: &str) -> Result<WhatIf, SimError> {
        serde_json::from_str(text).map_err(|e| SimError::Scenario(format!("what-if rules: {e}")))
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
            && self.globals.is_empty()
            && self.emission_rule.is_none()
            && self.fee_recipient.is_none()
    }
}

/// One recorded command, as the replay schedules it.
#[derive(Clone, Debug, Serialize)]
pub struct Replayed {
    pub service: String,
    pub signer: AccountId,
    pub id: String,
    pub block: u64,
    /// What the cluster made of it: `accepted` or the refusal's code.
    pub recorded: String,
}

/// A recorded command that is not replayed, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    pub service: String,
    pub id: String,
    pub block: u64,
    pub reason: String,
}

/// The recorded commands as a scenario's scripted commands, in replay
/// order: by block, then by the time the shells admitted them, then by
/// service and journal order. The ledger's `AdvanceBlocks` (the manual
/// clock) are not commands here: the simulator produces the same blocks
/// with the recorded timestamps.
pub fn schedule(rec: &Recording) -> (Vec<Scripted>, Vec<Replayed>, Vec<Skipped>) {
    let mut keyed = Vec::new();
    let mut skipped = Vec::new();
    for (rank, service) in SERVICES.iter().enumerate() {
        for (n, r) in rec.journals.get(*service).into_iter().flatten().enumerate() {
            let id = r.command_id().unwrap_or_default();
            let skip = |reason: &str| Skipped {
                service: (*service).to_owned(),
                id: id.clone(),
                block: r.block,
                reason: reason.to_owned(),
            };
            if r.service_caller {
                skipped.push(skip("sent by a service key (a saga step, not a user's)"));
                continue;
            }
            let command = match wire_command(service, &r.body) {
                Ok(c) => c,
                Err(e) => {
                    skipped.push(skip(&format!("body does not parse: {e}")));
                    continue;
                }
            };
            if matches!(
                command,
                ServiceCommand::Ledger(ledger_core::CommandBody::AdvanceBlocks { .. })
            ) {
                skipped.push(skip("block production (the simulator's clock)"));
                continue;
            }
            let at = r.block.min(rec.blocks);
            let scripted = Scripted {
                at,
                signer: r.signer,
                encoded_len: u32::try_from(r.body.len()).ok(),
                command,
            };
            let replayed = Replayed {
                service: (*service).to_owned(),
                signer: r.signer,
                id,
                block: at,
                recorded: outcome_name(&r.outcome),
            };
            keyed.push(((at, r.received_ms, rank, n), scripted, replayed));
        }
    }
    keyed.sort_by_key(|(k, ..)| *k);
    let (scripted, replayed) = keyed.into_iter().map(|(_, s, r)| (s, r)).unzip();
    (scripted, replayed, skipped)
}

fn outcome_name(o: &RecordedOutcome) -> String {
    match o {
        RecordedOutcome::Accepted { .. } => "accepted".into(),
        RecordedOutcome::Rejected { code } => code.clone(),
    }
}

fn sim_outcome_name(o: &Option<String>) -> String {
    o.clone().unwrap_or_else(|| "accepted".into())
}

/// A signed body's command as the scenario's [`ServiceCommand`].
fn wire_command(service: &str, body: &str) -> Result<ServiceCommand, String> {
    #[derive(Deserialize)]
    struct Body {
        command: serde_json::Value,
    }
    let b: Body = serde_json::from_str(body).map_err(|e| e.to_string())?;
    serde_json::from_value(serde_json::json!({"service": service, "command": b.command}))
        .map_err(|e| e.to_string())
}

/// The scenario that re-runs a recording, with `what_if` applied (`None`:
/// as recorded).
pub fn scenario(rec: &Recording, what_if: Option<&WhatIf>) -> Result<Scenario, SimError> {
    let mut s = recorded_scenario(rec, schedule(rec).0);
    if let Some(w) = what_if {
        w.apply(&mut s)?;
    }
    Ok(s)
}

/// The recording's genesis and `commands` (its [`schedule`]), unchanged.
fn recorded_scenario(rec: &Recording, commands: Vec<Scripted>) -> Scenario {
    let mut s = Scenario {
        name: format!("replay of {}", rec.source),
        seed: 0,
        blocks: rec.blocks,
        start_date: String::new(),
        sample_every: None,
        genesis: rec.genesis.clone(),
        rules: Vec::new(),
        globals: Vec::new(),
        block_timestamps_ms: rec.block_timestamps_ms.clone(),
        commands,
        agents: Vec::new(),
        projection: None,
        names: BTreeMap::new(),
    };
    // Block 0 at the first block's time less one interval (whole seconds:
    // the dates in the report are to the second; the blocks themselves
    // carry the recorded timestamps exactly).
    let start_ms = rec
        .block_timestamps_ms
        .first()
        .map_or(0, |t| t.saturating_sub(s.block_time_ms()));
    s.start_date = crate::date::format(start_ms);
    // Dev keys that appear in the genesis or as signers get their names.
    s.names = dev_names(&s);
    s
}

/// `//Name` dev keys a report can name (the ones `taonet wallet` and the
/// examples use), for the accounts that appear in the scenario.
fn dev_names(s: &Scenario) -> BTreeMap<AccountId, String> {
    const NAMES: [&str; 12] = [
        "Alice", "Bob", "Carol", "Charlie", "Dave", "Eve", "Ferdie", "Admin", "Val1", "Val2",
        "Miner1", "Miner2",
    ];
    let known: std::collections::BTreeSet<AccountId> = s
        .commands
        .iter()
        .map(|c| c.signer)
        .chain(s.admin())
        .collect();
    NAMES
        .iter()
        .filter_map(|n| {
            let k = keys::Keypair::from_uri(&format!("//{n}")).ok()?.public();
            known.contains(&k).then(|| (k, (*n).to_owned()))
        })
        .collect()
}

/// A figure in the real logs, the as-recorded run and the what-if run;
/// `delta` is what-if minus real.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Triple {
    pub real: u64,
    pub as_recorded: u64,
    pub what_if: u64,
    pub delta: i128,
}

impl Triple {
    fn of(real: u64, as_recorded: u64, what_if: u64) -> Triple {
        Triple {
            real,
            as_recorded,
            what_if,
            delta: i128::from(what_if) - i128::from(real),
        }
    }

    fn differs(&self) -> bool {
        self.real != self.what_if || self.real != self.as_recorded
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct SubnetDiff {
    pub netuid: u16,
    pub tao_reserve_rao: Triple,
    pub alpha_reserve: Triple,
    pub alpha_outstanding: Triple,
    pub custody_rao: Triple,
    /// Spot prices (decimal strings): real, as recorded, what if.
    pub price: [String; 3],
    pub ema_price: [String; 3],
}

#[derive(Clone, Debug, Serialize)]
pub struct AccountDiff {
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub free_rao: Triple,
    pub stake_value_rao: Triple,
    /// Free plus stake value.
    pub total_rao: Triple,
}

/// A command whose outcome under the what-if rules (or, for fidelity,
/// in the as-recorded run) is not what the cluster recorded.
#[derive(Clone, Debug, Serialize)]
pub struct ChangedCommand {
    #[serde(flatten)]
    pub command: Replayed,
    pub as_recorded: String,
    pub what_if: String,
}

/// How closely the as-recorded run reproduced the cluster.
#[derive(Clone, Debug, Serialize)]
pub struct Fidelity {
    /// Per service: the as-recorded run's final digest equals the real
    /// log's.
    pub digests_equal: BTreeMap<String, bool>,
    /// Commands whose as-recorded outcome differs from the recorded one.
    pub outcomes_differ: usize,
    /// Every figure of the as-recorded run equals the real one.
    pub exact: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Counts {
    pub recorded: usize,
    pub replayed: usize,
    pub recorded_accepted: usize,
    pub recorded_rejected: usize,
    pub skipped: Vec<Skipped>,
}

/// What `taonet sim replay` prints.
#[derive(Clone, Debug, Serialize)]
pub struct ReplayReport {
    pub source: String,
    pub blocks: u64,
    pub what_if: WhatIf,
    pub commands: Counts,
    pub fidelity: Fidelity,
    pub total_issuance_rao: Triple,
    pub subnets: Vec<SubnetDiff>,
    /// Accounts with any figure that differs (what if or as recorded vs
    /// real); `unchanged_accounts` counts the others.
    pub accounts: Vec<AccountDiff>,
    pub unchanged_accounts: usize,
    /// Commands whose what-if outcome differs from the recorded one.
    pub changed_commands: Vec<ChangedCommand>,
    /// Commands the as-recorded run decided differently from the cluster
    /// (empty when the replay is faithful).
    pub unfaithful_commands: Vec<ChangedCommand>,
}

/// Both runs and their comparison.
pub struct Replay {
    pub report: ReplayReport,
    pub as_recorded: crate::Outcome,
    pub what_if: crate::Outcome,
}

/// Runs the recording as recorded and under `what_if`, and compares both
/// with the real logs. `progress(run, done, total)`: run 0 is as recorded,
/// 1 what if.
pub fn replay(
    rec: &Recording,
    what_if: &WhatIf,
    progress: &mut dyn FnMut(usize, u64, u64),
) -> Result<Replay, SimError> {
    let (commands, replayed, skipped) = schedule(rec);
    let base = recorded_scenario(rec, commands);
    let mut alt = base.clone();
    what_if.apply(&mut alt)?;
    let as_recorded = crate::run(&base, &mut |d, t| progress(0, d, t))?;
    let alt_run = crate::run(&alt, &mut |d, t| progress(1, d, t))?;
    let runs = Runs {
        base: &base,
        as_recorded: &as_recorded,
        what_if: &alt_run,
    };
    let report = compare(rec, what_if, replayed, skipped, runs);
    Ok(Replay {
        report,
        as_recorded,
        what_if: alt_run,
    })
}

/// The two runs of a replay and the scenario they share.
struct Runs<'a> {
    base: &'a Scenario,
    as_recorded: &'a crate::Outcome,
    what_if: &'a crate::Outcome,
}

fn compare(
    rec: &Recording,
    what_if: &WhatIf,
    replayed: Vec<Replayed>,
    skipped: Vec<Skipped>,
    runs: Runs<'_>,
) -> ReplayReport {
    let (base, a, w) = (runs.base, runs.as_recorded, runs.what_if);
    let recorded: usize = rec.journals.values().map(Vec::len).sum();
    let recorded_accepted = rec
        .journals
        .values()
        .flatten()
        .filter(|r| matches!(r.outcome, RecordedOutcome::Accepted { .. }))
        .count();
    let mut changed = Vec::new();
    let mut unfaithful = Vec::new();
    for (i, r) in replayed.iter().enumerate() {
        let as_rec = sim_outcome_name(&a.scripted[i]);
        let alt = sim_outcome_name(&w.scripted[i]);
        let c = ChangedCommand {
            command: r.clone(),
            as_recorded: as_rec.clone(),
            what_if: alt.clone(),
        };
        if as_rec != r.recorded {
            unfaithful.push(c.clone());
        }
        if alt != r.recorded {
            changed.push(c);
        }
    }
    let digests_equal: BTreeMap<String, bool> = rec
        .real_digests
        .iter()
        .map(|(s, d)| (s.clone(), a.report.digests.get(s) == Some(d)))
        .collect();
    let (real, ae, we) = (&rec.real, &a.economy, &w.economy);
    let netuids = keys_of([&real.subnets, &ae.subnets, &we.subnets]);
    let none = SubnetState::default();
    let subnets = netuids
        .into_iter()
        .map(|n| {
            let (r, x, y) = (
                real.subnets.get(&n).unwrap_or(&none),
                ae.subnets.get(&n).unwrap_or(&none),
                we.subnets.get(&n).unwrap_or(&none),
            );
            let t = |f: fn(&SubnetState) -> u64| Triple::of(f(r), f(x), f(y));
            SubnetDiff {
                netuid: n,
                tao_reserve_rao: t(|s| s.tao_reserve),
                alpha_reserve: t(|s| s.alpha_reserve),
                alpha_outstanding: t(|s| s.alpha_outstanding),
                custody_rao: t(|s| s.custody_rao),
                price: [r.price.clone(), x.price.clone(), y.price.clone()],
                ema_price: [
                    r.ema_price.clone(),
                    x.ema_price.clone(),
                    y.ema_price.clone(),
                ],
            }
        })
        .collect::<Vec<_>>();
    let holders = keys_of([&real.accounts, &ae.accounts, &we.accounts]);
    let nobody = AccountState::default();
    let mut accounts = Vec::new();
    let mut unchanged_accounts = 0;
    for k in holders {
        let (r, x, y) = (
            real.accounts.get(&k).unwrap_or(&nobody),
            ae.accounts.get(&k).unwrap_or(&nobody),
            we.accounts.get(&k).unwrap_or(&nobody),
        );
        let total = |s: &AccountState| s.free_rao.saturating_add(s.stake_value_rao);
        let d = AccountDiff {
            account: k.to_ss58(),
            name: base.names.get(&k).cloned(),
            free_rao: Triple::of(r.free_rao, x.free_rao, y.free_rao),
            stake_value_rao: Triple::of(r.stake_value_rao, x.stake_value_rao, y.stake_value_rao),
            total_rao: Triple::of(total(r), total(x), total(y)),
        };
        if d.free_rao.differs() || d.stake_value_rao.differs() || r.alpha != y.alpha {
            accounts.push(d);
        } else {
            unchanged_accounts += 1;
        }
    }
    let exact = real == ae && unfaithful.is_empty() && digests_equal.values().all(|e| *e);
    ReplayReport {
        source: rec.source.clone(),
        blocks: rec.blocks,
        what_if: what_if.clone(),
        commands: Counts {
            recorded,
            replayed: replayed.len(),
            recorded_accepted,
            recorded_rejected: recorded - recorded_accepted,
            skipped,
        },
        fidelity: Fidelity {
            digests_equal,
            outcomes_differ: unfaithful.len(),
            exact,
        },
        total_issuance_rao: Triple::of(
            real.total_issuance_rao,
            ae.total_issuance_rao,
            we.total_issuance_rao,
        ),
        subnets,
        accounts,
        unchanged_accounts,
        changed_commands: changed,
        unfaithful_commands: unfaithful,
    }
}

/// Every key of the real, as-recorded and what-if maps (a subnet or an
/// account in any of the three).
fn keys_of<K: Ord + Copy, V>(maps: [&BTreeMap<K, V>; 3]) -> std::collections::BTreeSet<K> {
    maps.iter().flat_map(|m| m.keys().copied()).collect()
}

impl ReplayReport {
    /// The report as written to `replay.json`.
    pub fn json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("replay report serializes");
        s.push('\n');
        s
    }

    /// A plain-text summary (`replay.txt`): the per-subnet and per-account
    /// differences and the changed commands.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "replay of {} over {} blocks: {} commands recorded, {} replayed",
            self.source, self.blocks, self.commands.recorded, self.commands.replayed
        );
        let _ = writeln!(
            s,
            "as recorded: {}",
            if self.fidelity.exact {
                "reproduces the cluster exactly (every digest and figure)".to_owned()
            } else {
                format!(
                    "differs from the cluster ({} command outcomes; digests equal: {:?})",
                    self.fidelity.outcomes_differ, self.fidelity.digests_equal
                )
            }
        );
        let _ = writeln!(
            s,
            "what if: {}",
            serde_json::to_string(&self.what_if).unwrap_or_default()
        );
        let _ = writeln!(
            s,
            "\nissuance (RAO): real {} what-if {} delta {}",
            self.total_issuance_rao.real,
            self.total_issuance_rao.what_if,
            self.total_issuance_rao.delta
        );
        let _ = writeln!(
            s,
            "\n{:>6} {:>20} {:>20} {:>20} {:>14} {:>14}",
            "netuid",
            "tao reserve Δ",
            "alpha reserve Δ",
            "alpha out Δ",
            "price real",
            "price what-if"
        );
        for d in &self.subnets {
            let _ = writeln!(
                s,
                "{:>6} {:>20} {:>20} {:>20} {:>14} {:>14}",
                d.netuid,
                d.tao_reserve_rao.delta,
                d.alpha_reserve.delta,
                d.alpha_outstanding.delta,
                short(&d.price[0]),
                short(&d.price[2])
            );
        }
        let _ = writeln!(
            s,
            "\n{:<50} {:>20} {:>20} {:>20}",
            "account", "free Δ (RAO)", "stake value Δ", "total Δ"
        );
        for a in &self.accounts {
            let who = match &a.name {
                Some(n) => format!("{n} {}", a.account),
                None => a.account.clone(),
            };
            let _ = writeln!(
                s,
                "{:<50} {:>20} {:>20} {:>20}",
                who, a.free_rao.delta, a.stake_value_rao.delta, a.total_rao.delta
            );
        }
        let _ = writeln!(s, "({} accounts unchanged)", self.unchanged_accounts);
        let _ = writeln!(s, "\ncommands whose outcome changed:");
        if self.changed_commands.is_empty() {
            let _ = writeln!(s, "  none");
        }
        for c in &self.changed_commands {
            let _ = writeln!(
                s,
                "  block {:>6} {:<10} {:<24} recorded {:<24} what-if {}",
                c.command.block, c.command.service, c.command.id, c.command.recorded, c.what_if
            );
        }
        s
    }

    /// Writes `replay.json`, `replay.txt`, and each run's report and
    /// series under `as-recorded/` and `what-if/`.
    pub fn write(
        &self,
        runs: (&crate::Outcome, &crate::Outcome),
        dir: &std::path::Path,
    ) -> Result<(), SimError> {
        crate::report::write_file(&dir.join("replay.json"), &self.json())?;
        crate::report::write_file(&dir.join("replay.txt"), &self.table())?;
        runs.0.write(&dir.join("as-recorded"))?;
        runs.1.write(&dir.join("what-if"))
    }
}

/// A price to 6 decimals for the table (the JSON has them whole).
fn short(p: &str) -> String {
    match p.split_once('.') {
        Some((i, f)) => format!("{i}.{}", &f[..f.len().min(6)]),
        None => p.to_owned(),
    }
}
