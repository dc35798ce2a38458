//! The fault-injection suite (`taonet-faults`, docs/faults.md): a mixed
//! workload from concurrent clients against a real local cluster while a
//! seeded scheduler kills, restarts and stalls its parts; then the checks
//! that every acknowledged command applied exactly once, that every
//! invariant holds and that replay equals live.

use crate::*;
use amm_core::{CommandBody as Amm, GenesisNeuron, GenesisSubnet};
use bus::rpc::{CallError, CallOptions};
use consensus_core::CommandBody as Cons;
use envelope::{Envelope, VersionedEvent};
use governance_core::CommandBody as Gov;
use keys::{AccountId, Keypair};
use ledger_core::{Clock, CommandBody as Ledger};
use nix::sys::signal::Signal;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use taonet::genesis::NetworkGenesis;

pub const SERVICES: [&str; 4] = ["ledger", "amm", "consensus", "governance"];

/// How a run goes.
#[derive(Clone, Debug)]
pub struct Config {
    pub duration: Duration,
    pub seed: u64,
    /// Transfer clients and staking clients (each).
    pub clients: usize,
    /// Pause between two faults: uniform in `[fault_min, fault_max]`.
    pub fault_min: Duration,
    pub fault_max: Duration,
    /// The consumers' ack wait (`TAONET_INBOX_ACK_WAIT_MS`); a stall lasts
    /// longer than this.
    pub ack_wait: Duration,
    /// How long the cluster may take to settle after the faults stop.
    pub settle_timeout: Duration,
    /// Keep the cluster's temp dir (logs) after the run.
    pub keep: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            duration: Duration::from_secs(60),
            seed: 1,
            clients: 3,
            fault_min: Duration::from_secs(3),
            fault_max: Duration::from_secs(7),
            ack_wait: Duration::from_secs(2),
            settle_timeout: Duration::from_secs(120),
            keep: false,
        }
    }
}

// ---------------------------------------------------------------- keys ---

fn key(uri: &str) -> Keypair {
    Keypair::from_uri(uri).expect("dev key")
}
fn sender(c: usize) -> Keypair {
    key(&format!("//faults/sender/{c}"))
}
fn receiver(j: usize) -> Keypair {
    key(&format!("//faults/receiver/{j}"))
}
fn staker(c: usize) -> Keypair {
    key(&format!("//faults/staker/{c}"))
}
fn registrar() -> Keypair {
    key("//faults/registrar")
}
fn owner() -> Keypair {
    key("//faults/owner")
}
/// Genesis neuron `i` of subnet `netuid` (a hotkey that sets weights).
fn neuron(netuid: u16, i: usize) -> Keypair {
    key(&format!("//faults/neuron/{netuid}/{i}"))
}
fn voter() -> Keypair {
    key("//faults/voter")
}
fn voter_hotkey() -> Keypair {
    key("//faults/voter/hotkey")
}
fn new_hotkey(k: usize) -> Keypair {
    key(&format!("//faults/new-hotkey/{k}"))
}

const RECEIVERS: usize = 4;
const NEURONS: usize = 4;
const NETUIDS: [u16; 2] = [1, 2];
/// Each subnet's UID limit during a run: registrations soon prune.
const MAX_UIDS: u16 = 12;
const SENDER_FUNDS: u64 = 10_000 * TAO;
const RECEIVER_FUNDS: u64 = TAO;
const STAKER_FUNDS: u64 = 100_000 * TAO;
const REGISTRAR_FUNDS: u64 = 100_000 * TAO;

fn genesis(cfg: &Config) -> NetworkGenesis {
    let mut balances = vec![(admin().public(), 10 * TAO), (owner().public(), 10 * TAO)];
    for c in 0..cfg.clients {
        balances.push((sender(c).public(), SENDER_FUNDS));
        balances.push((staker(c).public(), STAKER_FUNDS));
    }
    for j in 0..RECEIVERS {
        balances.push((receiver(j).public(), RECEIVER_FUNDS));
    }
    balances.push((registrar().public(), REGISTRAR_FUNDS));
    balances.push((voter().public(), 100 * TAO));
    let ledger = ledger_core::Genesis {
        balances,
        admin: Some(admin().public()),
        services: vec![service_key().public()],
        clock: Clock::Manual,
        ..ledger_core::Genesis::default()
    };
    let subnets = NETUIDS
        .iter()
        .map(|&netuid| GenesisSubnet {
            netuid,
            owner: owner().public(),
            owner_hotkey: neuron(netuid, 0).public(),
            tao_reserve: 1_000 * TAO,
            alpha_reserve: 1_000 * TAO,
            first_emission_block: Some(0),
            emission_enabled: true,
            neurons: (0..NEURONS)
                .map(|i| GenesisNeuron {
                    hotkey: neuron(netuid, i).public(),
                    owner: owner().public(),
                })
                .collect(),
            tempo: Some(10),
        })
        .collect();
    let mut g = NetworkGenesis {
        ledger,
        subnets,
        ..Default::default()
    };
    g.governance.triumvirate = vec![owner().public()];
    g.governance.config.admin_freeze_window = 0;
    g
}

/// Before the faults: the voter's hotkey takes a root seat (and so the
/// senate seat the votes need).
async fn setup(ctx: &Ctx, client: &async_nats::Client, r: &mut Report) {
    let body = Gov::RootRegister {
        hotkey: voter_hotkey().public(),
    };
    let out = ctx
        .run(
            client,
            "governance",
            "root_register",
            &voter(),
            &body,
            "setup-root".into(),
            Model::Setup,
        )
        .await;
    if !matches!(out, Outcome::Acked { .. }) {
        r.notes.push(format!(
            "root register of the voter: {out:?} (votes will be refused)"
        ));
    }
    // Small metagraphs (Root lowers the floor and the validator count,
    // then the limit), so registrations prune within a bounded run.
    use governance_core::{AdminAction, Hyperparameter as H};
    for netuid in NETUIDS {
        for (i, param) in [
            H::MinAllowedUids(1),
            H::MaxAllowedValidators(2),
            H::MaxAllowedUids(MAX_UIDS),
        ]
        .into_iter()
        .enumerate()
        {
            let body = Gov::Admin(AdminAction::SetHyperparameter { netuid, param });
            let out = ctx
                .run(
                    client,
                    "governance",
                    "admin",
                    &admin(),
                    &body,
                    format!("setup-{netuid}-{i}"),
                    Model::Setup,
                )
                .await;
            if !matches!(out, Outcome::Acked { .. }) {
                r.notes.push(format!("setup of subnet {netuid}: {out:?}"));
            }
        }
    }
}

// ------------------------------------------------------------ commands ---

/// What a client finally learnt about one command.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Accepted; its events are `first_seq..=last_seq` of the service's log.
    Acked {
        first_seq: u64,
        last_seq: u64,
        events: Vec<Value>,
        /// Learnt from a retry's `AlreadyProcessed`: an earlier attempt landed.
        on_retry: bool,
    },
    /// A rule refused it: it must have changed nothing.
    Rejected(String),
    /// `AlreadyProcessed` on the very first attempt: an id applied before
    /// it was ever sent.
    Spurious,
    /// No answer before the client gave up.
    Unanswered(String),
}

/// The model of one command: what it must have done once acknowledged.
#[derive(Clone, Debug)]
pub enum Model {
    Transfer {
        from: AccountId,
        to: AccountId,
        amount: u64,
    },
    AddStake {
        op: String,
    },
    RemoveStake {
        op: String,
    },
    Weights,
    Register {
        op: String,
        netuid: u16,
        hotkey: AccountId,
    },
    Advance {
        n: u64,
    },
    Setup,
    Propose,
    Vote {
        id: u64,
    },
}

#[derive(Clone, Debug)]
pub struct Record {
    pub service: &'static str,
    pub kind: &'static str,
    pub signer: AccountId,
    pub id: String,
    pub attempts: u32,
    pub outcome: Outcome,
    pub model: Model,
}

impl Record {
    fn causation(&self) -> String {
        format!("cmd:{}:{}", self.signer, self.id)
    }
    fn acked(&self) -> bool {
        matches!(self.outcome, Outcome::Acked { .. })
    }
}

type Journal = Arc<Mutex<Vec<Record>>>;

/// Sends one signed command until it gets an answer, always with the same
/// id (so a retry can never apply it twice), until `give_up()` says so.
async fn submit<T: serde::Serialize>(
    client: &async_nats::Client,
    service: &str,
    name: &str,
    signer: &Keypair,
    id: &str,
    body: &T,
    give_up: impl Fn() -> bool,
) -> (Outcome, u32) {
    let payload = signed_for(signer, id, body);
    let opts = CallOptions {
        attempts: 1,
        timeout: Duration::from_secs(3),
        ..Default::default()
    };
    let mut attempts = 0;
    loop {
        attempts += 1;
        let err = match send_to(client, service, name, payload.clone(), &opts).await {
            Ok(a) => {
                return (
                    Outcome::Acked {
                        first_seq: a.first_seq,
                        last_seq: a.last_seq,
                        events: a.events,
                        on_retry: false,
                    },
                    attempts,
                )
            }
            Err(CallError::Rejected { code, detail, .. })
                if code == bus::rpc::ALREADY_PROCESSED =>
            {
                if attempts == 1 {
                    return (Outcome::Spurious, attempts);
                }
                return (
                    Outcome::Acked {
                        first_seq: detail["first_seq"].as_u64().unwrap_or(0),
                        last_seq: detail["last_seq"].as_u64().unwrap_or(0),
                        events: vec![],
                        on_retry: true,
                    },
                    attempts,
                );
            }
            Err(CallError::Rejected { code, .. }) => return (Outcome::Rejected(code), attempts),
            Err(CallError::BadReply(e)) => return (Outcome::Unanswered(e), attempts),
            Err(e) => e,
        };
        if give_up() {
            return (Outcome::Unanswered(err.to_string()), attempts);
        }
        let pause = 100 * u64::from(attempts.min(10));
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
}

struct Ctx {
    journal: Journal,
    stop: Arc<AtomicBool>,
    nats_url: String,
    /// Commands still in flight when the workload stops get this long
    /// (before that, clients retry for as long as it takes).
    drain: Duration,
    stopped_at: Mutex<Option<Instant>>,
}

impl Ctx {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
    fn stop_now(&self) {
        *self.stopped_at.lock().unwrap() = Some(Instant::now());
        self.stop.store(true, Ordering::SeqCst);
    }
    fn past_drain(&self) -> bool {
        self.stopped_at
            .lock()
            .unwrap()
            .is_some_and(|t| t.elapsed() > self.drain)
    }
    async fn connect(&self) -> async_nats::Client {
        bus::connect(&self.nats_url, "taonet-faults")
            .await
            .expect("connect")
    }
    #[allow(clippy::too_many_arguments)]
    async fn run<T: serde::Serialize>(
        &self,
        client: &async_nats::Client,
        service: &'static str,
        kind: &'static str,
        signer: &Keypair,
        body: &T,
        id: String,
        model: Model,
    ) -> Outcome {
        let (outcome, attempts) = submit(client, service, kind, signer, &id, body, || {
            self.past_drain()
        })
        .await;
        self.journal.lock().unwrap().push(Record {
            service,
            kind,
            signer: signer.public(),
            id,
            attempts,
            outcome: outcome.clone(),
            model,
        });
        outcome
    }
}

async fn pause(rng: &mut StdRng, lo: u64, hi: u64) {
    tokio::time::sleep(Duration::from_millis(rng.gen_range(lo..=hi))).await;
}

async fn transfer_client(ctx: Arc<Ctx>, c: usize, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let client = ctx.connect().await;
    let from = sender(c);
    let mut i = 0;
    while !ctx.stopped() {
        let to = receiver(rng.gen_range(0..RECEIVERS)).public();
        let amount = rng.gen_range(1..=1_000) * 1_000_000;
        let body = Ledger::Transfer {
            to,
            amount,
            keep_alive: true,
        };
        let model = Model::Transfer {
            from: from.public(),
            to,
            amount,
        };
        ctx.run(
            &client,
            "ledger",
            "transfer",
            &from,
            &body,
            format!("t-{c}-{i}"),
            model,
        )
        .await;
        i += 1;
        pause(&mut rng, 30, 150).await;
    }
}

async fn stake_client(ctx: Arc<Ctx>, c: usize, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let client = ctx.connect().await;
    let me = staker(c);
    let mut i = 0;
    while !ctx.stopped() {
        let netuid = NETUIDS[rng.gen_range(0..NETUIDS.len())];
        let hotkey = neuron(netuid, rng.gen_range(0..NEURONS)).public();
        let op = format!("s-{c}-{i}");
        i += 1;
        if rng.gen_bool(0.65) {
            let body = Amm::AddStake {
                op: op.clone(),
                hotkey,
                netuid,
                amount: rng.gen_range(1..=20) * TAO / 4,
                limit_price: None,
                allow_partial: false,
            };
            let model = Model::AddStake { op: op.clone() };
            ctx.run(&client, "amm", "add_stake", &me, &body, op, model)
                .await;
        } else {
            // Unstake a third of some position (a failed query skips a turn).
            let Ok(p) = query(&client, "amm", "portfolio", json!({"coldkey": me.public()})).await
            else {
                pause(&mut rng, 100, 300).await;
                continue;
            };
            let positions: Vec<(u16, AccountId, u64)> = p["positions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| {
                    let n = u16::try_from(x["netuid"].as_u64()?).ok()?;
                    let h: AccountId = x["hotkey"].as_str()?.parse().ok()?;
                    let a = x["alpha"].as_u64()?;
                    (n != 0 && a > 3 * TAO).then_some((n, h, a))
                })
                .collect();
            if positions.is_empty() {
                continue;
            }
            let (netuid, hotkey, alpha) = positions[rng.gen_range(0..positions.len())];
            let body = Amm::RemoveStake {
                op: op.clone(),
                hotkey,
                netuid,
                alpha: alpha / 3,
                limit_price: None,
                allow_partial: false,
            };
            let model = Model::RemoveStake { op: op.clone() };
            ctx.run(&client, "amm", "remove_stake", &me, &body, op, model)
                .await;
        }
        pause(&mut rng, 80, 300).await;
    }
}

/// Commit-reveal is on by default, so weights go as commits of a hash and,
/// on the next turn, the reveal of what was committed (the reveal window
/// may refuse it: a rejection, counted, nothing moved).
async fn weights_client(ctx: Arc<Ctx>, netuid: u16, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let client = ctx.connect().await;
    let mut i = 0;
    let mut committed: Option<(Instant, usize, Vec<u16>, Vec<u16>)> = None;
    while !ctx.stopped() {
        let id = format!("w-{netuid}-{i}");
        i += 1;
        let uids: Vec<u16> = (0..NEURONS as u16).collect();
        // A reveal is due a tempo (10 blocks, ~3 s of this clock) later.
        let due = committed
            .as_ref()
            .is_some_and(|c| c.0.elapsed() > Duration::from_millis(3_500));
        if committed.is_some() && !due {
            pause(&mut rng, 300, 900).await;
            continue;
        }
        if let Some((_, n, values, salt)) = committed.take() {
            let body = Cons::RevealWeights {
                netuid,
                uids,
                values,
                salt,
                version_key: 0,
            };
            let hk = neuron(netuid, n);
            ctx.run(
                &client,
                "consensus",
                "reveal_weights",
                &hk,
                &body,
                id,
                Model::Weights,
            )
            .await;
        } else {
            let n = rng.gen_range(0..NEURONS);
            let hk = neuron(netuid, n);
            let values: Vec<u16> = (0..NEURONS).map(|_| rng.gen_range(1..=u16::MAX)).collect();
            let salt: Vec<u16> = (0..8).map(|_| rng.gen()).collect();
            let hash = consensus_core::commit_hash(&hk.public(), netuid, &uids, &values, &salt, 0);
            let body = Cons::CommitWeights { netuid, hash };
            let out = ctx
                .run(
                    &client,
                    "consensus",
                    "commit_weights",
                    &hk,
                    &body,
                    id,
                    Model::Weights,
                )
                .await;
            if matches!(out, Outcome::Acked { .. }) {
                committed = Some((Instant::now(), n, values, salt));
            }
        }
        pause(&mut rng, 300, 900).await;
    }
}

/// Proposals by the triumvirate member and votes by the one senator.
async fn proposal_client(ctx: Arc<Ctx>, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let client = ctx.connect().await;
    let mut k: u16 = 0;
    while !ctx.stopped() {
        k += 1;
        let body = Gov::Propose {
            action: governance_core::AdminAction::UpdateSymbol {
                netuid: NETUIDS[usize::from(k) % NETUIDS.len()],
                symbol: 100 + k,
            },
            duration: 100_000,
        };
        let out = ctx
            .run(
                &client,
                "governance",
                "propose",
                &owner(),
                &body,
                format!("p-{k}"),
                Model::Propose,
            )
            .await;
        let id = match &out {
            Outcome::Acked { events, .. } => reply_field(events, "ProposalCreated", "id"),
            _ => None,
        };
        pause(&mut rng, 200, 600).await;
        if let Some(id) = id {
            let body = Gov::Vote {
                hotkey: voter_hotkey().public(),
                id,
                approve: rng.gen_bool(0.5),
            };
            ctx.run(
                &client,
                "governance",
                "vote",
                &voter(),
                &body,
                format!("v-{id}"),
                Model::Vote { id },
            )
            .await;
        }
        pause(&mut rng, 800, 2_000).await;
    }
}

async fn register_client(ctx: Arc<Ctx>, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let client = ctx.connect().await;
    let me = registrar();
    let mut k = 0;
    while !ctx.stopped() {
        let netuid = NETUIDS[rng.gen_range(0..NETUIDS.len())];
        let hotkey = new_hotkey(k).public();
        let op = format!("r-{k}");
        k += 1;
        let body = Gov::BurnedRegister {
            op: op.clone(),
            netuid,
            hotkey,
            limit_price: None,
        };
        let model = Model::Register {
            op: op.clone(),
            netuid,
            hotkey,
        };
        ctx.run(
            &client,
            "governance",
            "burned_register",
            &me,
            &body,
            op,
            model,
        )
        .await;
        pause(&mut rng, 800, 2_000).await;
    }
}

/// The only source of blocks (a manual clock): the model height is the sum
/// of the acknowledged advances.
async fn block_client(ctx: Arc<Ctx>, seed: u64) -> u64 {
    let mut rng = StdRng::seed_from_u64(seed);
    let client = ctx.connect().await;
    let mut height = 0u64;
    let mut i = 0;
    while !ctx.stopped() {
        let n = rng.gen_range(1..=2);
        let body = Ledger::AdvanceBlocks {
            n,
            timestamp_ms: 1_000 + (height + 1) * 12_000,
            block_time_ms: 12_000,
        };
        let out = ctx
            .run(
                &client,
                "ledger",
                "advance_blocks",
                &admin(),
                &body,
                format!("b-{i}"),
                Model::Advance { n },
            )
            .await;
        i += 1;
        if matches!(out, Outcome::Acked { .. }) {
            height += n;
        }
        pause(&mut rng, 250, 600).await;
    }
    height
}

// -------------------------------------------------------------- faults ---

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    Kill9,
    NatsRestart,
    Stall,
}

impl FaultKind {
    fn name(self) -> &'static str {
        match self {
            FaultKind::Kill9 => "kill -9 + restart",
            FaultKind::NatsRestart => "nats-server restart",
            FaultKind::Stall => "SIGSTOP > ack wait, SIGCONT",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Fault {
    pub at: Duration,
    pub kind: FaultKind,
    pub target: &'static str,
    pub held: Duration,
}

fn service_env(cfg: &Config) -> Vec<(&'static str, String)> {
    vec![(
        "TAONET_INBOX_ACK_WAIT_MS",
        cfg.ack_wait.as_millis().to_string(),
    )]
}

fn start(c: &mut Cluster, cfg: &Config, svc: &str) {
    let env = service_env(cfg);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    c.start_service(svc, &env);
}

/// Runs on its own thread and owns the cluster while faults happen.
fn fault_scheduler(
    c: &mut Cluster,
    cfg: &Config,
    stop: &AtomicBool,
    log: &mut Vec<Fault>,
    began: Instant,
) {
    let mut rng = StdRng::seed_from_u64(cfg.seed ^ 0xfa17);
    let mut bag: Vec<FaultKind> = Vec::new();
    let mut round: Vec<&'static str> = Vec::new();
    let sleep_until_stop = |d: Duration| {
        let end = Instant::now() + d;
        while Instant::now() < end && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    loop {
        let gap = rng.gen_range(cfg.fault_min.as_millis()..=cfg.fault_max.as_millis());
        sleep_until_stop(Duration::from_millis(gap as u64));
        if stop.load(Ordering::SeqCst) {
            break;
        }
        // Kinds come from a shuffled bag (two kills, a NATS restart, a
        // stall) and targets from a shuffled round of the services, so a
        // short run still sees every kind and every service.
        if bag.is_empty() {
            bag = vec![
                FaultKind::Kill9,
                FaultKind::Kill9,
                FaultKind::NatsRestart,
                FaultKind::Stall,
            ];
            bag.shuffle(&mut rng);
        }
        let kind = bag.pop().expect("bag");
        if kind != FaultKind::NatsRestart && round.is_empty() {
            round = SERVICES.to_vec();
            round.shuffle(&mut rng);
        }
        let target = if kind == FaultKind::NatsRestart {
            "ledger"
        } else {
            round.pop().expect("round")
        };
        let at = began.elapsed();
        let held = match kind {
            FaultKind::Kill9 => {
                c.kill9(target);
                let d = Duration::from_millis(rng.gen_range(100..=1_500));
                std::thread::sleep(d);
                start(c, cfg, target);
                d
            }
            FaultKind::NatsRestart => {
                c.nats.kill();
                let d = Duration::from_millis(rng.gen_range(200..=2_000));
                std::thread::sleep(d);
                c.nats.start_again();
                d
            }
            FaultKind::Stall => {
                let d = cfg.ack_wait + Duration::from_millis(rng.gen_range(500..=2_500));
                c.signal(target, Signal::SIGSTOP);
                std::thread::sleep(d);
                c.signal(target, Signal::SIGCONT);
                d
            }
        };
        let target = if kind == FaultKind::NatsRestart {
            "nats"
        } else {
            target
        };
        eprintln!(
            "[{:>7.1}s] fault: {} on {target} ({} ms)",
            at.as_secs_f64(),
            kind.name(),
            held.as_millis()
        );
        log.push(Fault {
            at,
            kind,
            target,
            held,
        });
        // A service that died by itself (it should not) is restarted and
        // reported.
        for svc in SERVICES {
            if !c.is_running(svc) {
                eprintln!(
                    "[{:>7.1}s] {svc} exited on its own; restarting",
                    began.elapsed().as_secs_f64()
                );
                start(c, cfg, svc);
            }
        }
    }
}

// -------------------------------------------------------------- checks ---

#[derive(Default, Debug)]
pub struct Report {
    pub sent: BTreeMap<&'static str, usize>,
    pub acked: BTreeMap<&'static str, usize>,
    pub acked_on_retry: usize,
    pub retried: usize,
    pub rejected: BTreeMap<String, usize>,
    pub unanswered: Vec<String>,
    pub faults: BTreeMap<FaultKind, usize>,
    pub lost: Vec<String>,
    pub duplicated: Vec<String>,
    pub violations: Vec<String>,
    pub notes: Vec<String>,
    pub height: u64,
    pub digests: Vec<(String, u64, String, String)>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.lost.is_empty()
            && self.duplicated.is_empty()
            && self.violations.is_empty()
            && self.unanswered.is_empty()
    }

    pub fn table(&self) -> String {
        let mut s = String::new();
        let total = |m: &BTreeMap<&'static str, usize>| m.values().sum::<usize>();
        let _ = writeln!(s, "== taonet-faults summary ==");
        let _ = writeln!(s, "{:<34} {:>8}", "commands sent", total(&self.sent));
        for (k, v) in &self.sent {
            let a = self.acked.get(k).copied().unwrap_or(0);
            let _ = writeln!(s, "  {k:<32} {v:>8}  (acked {a})");
        }
        let _ = writeln!(s, "{:<34} {:>8}", "acknowledged", total(&self.acked));
        let _ = writeln!(
            s,
            "  {:<32} {:>8}",
            "acked only on a retry", self.acked_on_retry
        );
        let _ = writeln!(s, "  {:<32} {:>8}", "commands retried", self.retried);
        let rej: usize = self.rejected.values().sum();
        let _ = writeln!(s, "{:<34} {:>8}", "rejected (a rule, nothing moved)", rej);
        for (k, v) in &self.rejected {
            let _ = writeln!(s, "  {k:<32} {v:>8}");
        }
        let _ = writeln!(s, "{:<34} {:>8}", "unanswered", self.unanswered.len());
        let f: usize = self.faults.values().sum();
        let _ = writeln!(s, "{:<34} {:>8}", "faults injected", f);
        for (k, v) in &self.faults {
            let _ = writeln!(s, "  {:<32} {v:>8}", k.name());
        }
        let _ = writeln!(s, "{:<34} {:>8}", "blocks (model height)", self.height);
        let _ = writeln!(s, "{:<34} {:>8}", "lost", self.lost.len());
        let _ = writeln!(s, "{:<34} {:>8}", "duplicated", self.duplicated.len());
        let _ = writeln!(
            s,
            "{:<34} {:>8}",
            "invariant violations",
            self.violations.len()
        );
        for (svc, seq, live, offline) in &self.digests {
            let same = if live == offline { "==" } else { "!=" };
            let _ = writeln!(
                s,
                "  replay {svc:<11} last_seq {seq:>7}  live {} {same} offline {}",
                &live[..live.len().min(12)],
                &offline[..offline.len().min(12)]
            );
        }
        for (title, list) in [
            ("LOST", &self.lost),
            ("DUPLICATED", &self.duplicated),
            ("VIOLATION", &self.violations),
            ("UNANSWERED", &self.unanswered),
            ("note", &self.notes),
        ] {
            for x in list.iter().take(20) {
                let _ = writeln!(s, "{title}: {x}");
            }
            if list.len() > 20 {
                let _ = writeln!(s, "{title}: ... {} more", list.len() - 20);
            }
        }
        let _ = writeln!(s, "result: {}", if self.ok() { "PASS" } else { "FAIL" });
        s
    }
}

/// One event of a log: (seq, type, causation, data as JSON).
type LogEvent = (u64, String, Option<String>, Value);

/// Every event of a stopped service's log as (seq, type, causation, data).
fn decoded_log(c: &Cluster, svc: &str) -> Vec<LogEvent> {
    fn data<E: VersionedEvent + serde::Serialize>(e: &Envelope) -> Value {
        match E::from_envelope(e) {
            Ok(ev) => {
                let v = serde_json::to_value(&ev).unwrap_or(Value::Null);
                // Externally tagged: {"Type": {...}}.
                match v {
                    Value::Object(m) if m.len() == 1 => {
                        m.into_iter().next().map(|(_, v)| v).unwrap_or(Value::Null)
                    }
                    other => other,
                }
            }
            Err(_) => Value::Null,
        }
    }
    read_log(&c.data(svc))
        .iter()
        .map(|e| {
            let d = match svc {
                "ledger" => data::<ledger_core::LedgerEvent>(e),
                "amm" => data::<amm_core::AmmEvent>(e),
                "consensus" => data::<consensus_core::ConsensusEvent>(e),
                _ => data::<governance_core::GovernanceEvent>(e),
            };
            (e.seq, e.event_type.clone(), e.causation.clone(), d)
        })
        .collect()
}

async fn q(client: &async_nats::Client, svc: &str, name: &str, args: Value) -> Option<Value> {
    for _ in 0..5 {
        if let Ok(v) = query(client, svc, name, args.clone()).await {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

/// What "settled" needs: every service at the model height with its whole
/// log published, no stake op or registration waiting, custody == pool.
async fn settled(client: &async_nats::Client, height: u64, regs: &[String]) -> Result<(), String> {
    let mut last = Vec::new();
    for svc in SERVICES {
        let s = query(client, svc, "status", Value::Null)
            .await
            .map_err(|e| format!("{svc} status: {e}"))?;
        if s["block"] != height || s["published_seq"] != s["last_seq"] {
            return Err(format!("{svc}: {s}"));
        }
        last.push(s["last_seq"].clone());
    }
    let totals = query(client, "amm", "totals", Value::Null)
        .await
        .map_err(|e| e.to_string())?;
    if totals["pending_ops"] != 0 {
        return Err(format!("amm pending ops: {}", totals["pending_ops"]));
    }
    let iss = query(client, "ledger", "issuance", Value::Null)
        .await
        .map_err(|e| e.to_string())?;
    if iss["pending_coinbase_rao"] != 0 {
        return Err(format!("unclaimed coinbase: {iss}"));
    }
    for op in regs {
        let v = query(client, "governance", "op", json!({"op": op}))
            .await
            .map_err(|e| e.to_string())?;
        if v["status"] == "pending" {
            return Err(format!("registration {op} pending: {v}"));
        }
    }
    custody_vs_pool(client).await?;
    Ok(())
}

/// The ledger's custody of every subnet equals the amm's pool TAO.
async fn custody_vs_pool(client: &async_nats::Client) -> Result<u128, String> {
    let subnets = query(client, "amm", "subnets", Value::Null)
        .await
        .map_err(|e| e.to_string())?;
    let mut total = 0u128;
    for s in subnets["subnets"].as_array().into_iter().flatten() {
        let netuid = s["netuid"].as_u64().unwrap_or(0);
        let c = query(client, "ledger", "custody", json!({"netuid": netuid}))
            .await
            .map_err(|e| e.to_string())?;
        if c["custody_rao"] != s["tao_reserve"] {
            return Err(format!(
                "subnet {netuid}: ledger custody {} != amm pool TAO {}",
                c["custody_rao"], s["tao_reserve"]
            ));
        }
        total += u128::from(c["custody_rao"].as_u64().unwrap_or(0));
    }
    Ok(total)
}

/// A field of the first event of type `ty` in a reply (the reply's `data`
/// is the externally tagged event: `{"Type": {...}, "version": n}`).
fn reply_field(events: &[Value], ty: &str, field: &str) -> Option<u64> {
    events
        .iter()
        .find(|e| e["type"] == ty)
        .and_then(|e| e["data"][ty][field].as_u64())
}

fn fee_of(events: &[Value]) -> Option<u64> {
    reply_field(events, "Transferred", "fee")
}

/// The checks on the live, settled cluster.
async fn live_checks(
    client: &async_nats::Client,
    records: &[Record],
    clients: usize,
    balances: &mut BTreeMap<AccountId, u64>,
    done_ops: &mut BTreeMap<String, &'static str>,
    regs: &mut Registrations,
    r: &mut Report,
) {
    // Each service's own invariants (consensus has no such query).
    for svc in ["ledger", "amm", "governance"] {
        match q(client, svc, "invariants", Value::Null).await {
            Some(v) if v["ok"] == true => {}
            Some(v) => r.violations.push(format!("{svc} invariants: {v}")),
            None => r.violations.push(format!("{svc} invariants query failed")),
        }
    }
    // TAO: issuance == free + custody + locks + pending + burn, recomputed
    // here from the ledger's queries.
    match custody_vs_pool(client).await {
        Err(e) => r.violations.push(format!("custody vs pool: {e}")),
        Ok(custody) => {
            let iss = q(client, "ledger", "issuance", Value::Null).await;
            let acc = q(client, "ledger", "accounts", Value::Null).await;
            if let (Some(iss), Some(acc)) = (iss, acc) {
                let free: u128 = acc["accounts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| u128::from(a["free_rao"].as_u64().unwrap_or(0)))
                    .sum();
                let g = |k: &str| u128::from(iss[k].as_u64().unwrap_or(0));
                let held = free
                    + custody
                    + g("locked_rao")
                    + g("pending_coinbase_rao")
                    + g("burn_account_rao");
                if held != g("total_issuance_rao") {
                    r.violations.push(format!(
                        "issuance {} != free {free} + custody {custody} + locked {} + pending {} + burn {}",
                        g("total_issuance_rao"),
                        g("locked_rao"),
                        g("pending_coinbase_rao"),
                        g("burn_account_rao")
                    ));
                }
            } else {
                r.violations.push("issuance/accounts query failed".into());
            }
        }
    }
    // Alpha accounting is the amm's `invariants` above: per subnet, stakes
    // + protocol + pots + owed + burned + dust == alpha outstanding, root
    // 1:1, Σ pool TAO == total stake, no entry of a missing subnet.

    // Balances of the transfer accounts, compared with the model once the
    // log is readable (the fees of transfers acked on a retry are there).
    for who in transfer_accounts(clients) {
        match q(client, "ledger", "balance", json!({"account": who})).await {
            Some(v) => {
                balances.insert(who, v["free_rao"].as_u64().unwrap_or(0));
            }
            None => r.violations.push(format!("balance query for {who} failed")),
        }
    }
    // Stake ops and registrations: every acknowledged one has a final
    // status, and each done registration's hotkey is in the metagraph once.
    let metagraphs = &mut regs.metagraphs;
    for netuid in NETUIDS {
        if let Some(m) = q(client, "consensus", "metagraph", json!({"netuid": netuid})).await {
            metagraphs.insert(
                netuid,
                m["neurons"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|n| n["hotkey"].as_str().map(str::to_owned))
                    .collect(),
            );
        }
    }
    // Proposals: as many as acknowledged proposes (none closes or expires
    // within a run); each acknowledged vote is in its proposal's tally once.
    let proposals = q(client, "governance", "proposals", Value::Null).await;
    let list: Vec<Value> = proposals
        .as_ref()
        .and_then(|p| p["proposals"].as_array().cloned())
        .unwrap_or_default();
    let proposes = records
        .iter()
        .filter(|r| r.acked() && matches!(r.model, Model::Propose))
        .count();
    if proposals.is_none() {
        r.violations.push("proposals query failed".into());
    } else if list.len() != proposes {
        let line = format!(
            "{} proposals for {proposes} acknowledged proposes",
            list.len()
        );
        if list.len() < proposes {
            r.lost.push(line);
        } else {
            r.duplicated.push(line);
        }
    }
    for rec in records.iter().filter(|r| r.acked()) {
        match &rec.model {
            Model::Vote { id } => {
                let hk = json!(voter_hotkey().public());
                let n = list.iter().find(|p| p["id"] == *id).map_or(0, |p| {
                    ["ayes", "nays"]
                        .iter()
                        .flat_map(|k| p[*k].as_array().cloned().unwrap_or_default())
                        .filter(|v| *v == hk)
                        .count()
                });
                match n {
                    1 => {}
                    0 => r
                        .lost
                        .push(format!("vote on proposal {id} not in its tally")),
                    n => r
                        .duplicated
                        .push(format!("vote on proposal {id} counted {n}x")),
                }
            }
            Model::AddStake { op } | Model::RemoveStake { op } => {
                match q(client, "amm", "op", json!({"op": op})).await {
                    Some(v) if v["status"] == "done" => {
                        done_ops.insert(op.clone(), rec.kind);
                    }
                    Some(v) if v["status"] == "failed" => {}
                    Some(v) => r.lost.push(format!("acked stake op {op}: {v}")),
                    None => r.violations.push(format!("op query {op} failed")),
                }
            }
            Model::Register { op, netuid, hotkey } => {
                let v = q(client, "governance", "op", json!({"op": op})).await;
                let in_graph = metagraphs.get(netuid).map_or(0, |m| {
                    m.iter().filter(|h| **h == hotkey.to_string()).count()
                });
                match v {
                    Some(v) if v["status"] == "done" => {
                        // Absent is fine if a later registration pruned it:
                        // checked against the metagraph model below.
                        if in_graph > 1 {
                            r.duplicated.push(format!(
                                "registration {op}: hotkey {in_graph}x in metagraph {netuid}"
                            ));
                        }
                        regs.done.push((op.clone(), *netuid, hotkey.to_string()));
                    }
                    Some(v) if v["status"] == "failed" => {
                        if in_graph != 0 {
                            r.duplicated.push(format!(
                                "registration {op} failed but hotkey in metagraph {netuid}"
                            ));
                        }
                    }
                    Some(v) => r.lost.push(format!("acked registration {op}: {v}")),
                    None => r.violations.push(format!("op query {op} failed")),
                }
            }
            _ => {}
        }
    }
}

/// The checks on the stopped cluster's logs: each acknowledged command's
/// events are exactly the range its reply named; nothing else carries its
/// causation; every cause (a command or a consumed event) has one
/// contiguous run of effects; no saga step for one op twice.
fn log_checks(logs: &BTreeMap<&'static str, Vec<LogEvent>>, records: &[Record], r: &mut Report) {
    let mut by_cause: BTreeMap<(&str, &str), Vec<u64>> = BTreeMap::new();
    for (svc, log) in logs {
        let seqs: Vec<u64> = log.iter().map(|e| e.0).collect();
        if seqs != (1..=log.len() as u64).collect::<Vec<_>>() {
            r.violations.push(format!("{svc}: log sequence has gaps"));
        }
        for (seq, _, cause, _) in log {
            if let Some(cause) = cause {
                by_cause
                    .entry((svc, cause.as_str()))
                    .or_default()
                    .push(*seq);
            }
        }
        // One contiguous run per cause.
        for ((s, cause), seqs) in by_cause.iter().filter(|((s, _), _)| s == svc) {
            if seqs.windows(2).any(|w| w[1] != w[0] + 1) && !cause.starts_with("internal:") {
                r.duplicated.push(format!(
                    "{s}: effects of {cause} in separate runs at seqs {seqs:?}"
                ));
            }
        }
        // One saga step of a kind per op.
        let mut steps: BTreeMap<(&str, &str), Vec<u64>> = BTreeMap::new();
        for (seq, ty, _, data) in log {
            if let Some(op) = data.get("op").and_then(Value::as_str) {
                steps.entry((ty.as_str(), op)).or_default().push(*seq);
            }
        }
        r.notes.push(format!(
            "{svc}: {} events, {} causes, {} (type, op) saga steps checked",
            log.len(),
            by_cause.keys().filter(|(s, _)| s == svc).count(),
            steps.len()
        ));
        for ((ty, op), seqs) in steps {
            if seqs.len() > 1 {
                r.duplicated.push(format!(
                    "{svc}: {ty} for op {op} {}x at {seqs:?}",
                    seqs.len()
                ));
            }
        }
    }
    let mut ours = BTreeSet::new();
    for rec in records {
        let cause = rec.causation();
        ours.insert((rec.service, cause.clone()));
        let got = by_cause.get(&(rec.service, cause.as_str()));
        match &rec.outcome {
            Outcome::Acked {
                first_seq,
                last_seq,
                ..
            } => {
                let want: Vec<u64> = if *first_seq == 0 || last_seq < first_seq {
                    vec![]
                } else {
                    (*first_seq..=*last_seq).collect()
                };
                let got = got.cloned().unwrap_or_default();
                if got.is_empty() && !want.is_empty() {
                    r.lost.push(format!(
                        "{} {} {}: acked at {want:?}, no event in the log",
                        rec.service, rec.kind, rec.id
                    ));
                } else if got.len() > want.len() && !want.is_empty() {
                    r.duplicated.push(format!(
                        "{} {} {}: acked at {want:?}, log has {got:?}",
                        rec.service, rec.kind, rec.id
                    ));
                } else if got != want {
                    r.violations.push(format!(
                        "{} {} {}: acked at {want:?}, log has {got:?}",
                        rec.service, rec.kind, rec.id
                    ));
                }
            }
            Outcome::Rejected(code) => {
                if let Some(got) = got {
                    r.duplicated.push(format!(
                        "{} {} {}: rejected ({code}) yet events at {got:?}",
                        rec.service, rec.kind, rec.id
                    ));
                }
            }
            Outcome::Spurious => r.duplicated.push(format!(
                "{} {} {}: AlreadyProcessed on its first attempt",
                rec.service, rec.kind, rec.id
            )),
            Outcome::Unanswered(_) => {}
        }
    }
    // A command of ours the log applied but no client heard of.
    for ((svc, cause), seqs) in &by_cause {
        if cause.starts_with("cmd:") && !ours.contains(&(*svc, cause.to_string())) {
            let signer = cause.split(':').nth(1).unwrap_or_default();
            let known = records.iter().any(|r| r.signer.to_string() == signer);
            if known {
                r.violations
                    .push(format!("{svc}: {cause} applied at {seqs:?} but never sent"));
            }
        }
    }
}

/// A stake op the amm reports done moved TAO on the ledger exactly once:
/// an add was funded (`StakeFunded{op}`), a remove was paid out of custody
/// (`CustodySettled{op/settle}`).
fn saga_checks(ledger_log: &[LogEvent], done: &BTreeMap<String, &'static str>, r: &mut Report) {
    let mut funded: BTreeMap<&str, usize> = BTreeMap::new();
    let mut paid: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, ty, _, data) in ledger_log {
        let Some(op) = data.get("op").and_then(Value::as_str) else {
            continue;
        };
        let op = op.split('/').next().unwrap_or(op);
        match ty.as_str() {
            "StakeFunded" => *funded.entry(op).or_default() += 1,
            "CustodySettled" => *paid.entry(op).or_default() += 1,
            _ => {}
        }
    }
    let mut checked = 0;
    for (op, kind) in done {
        let (n, what) = match *kind {
            "add_stake" => (funded.get(op.as_str()).copied().unwrap_or(0), "StakeFunded"),
            _ => (
                paid.get(op.as_str()).copied().unwrap_or(0),
                "CustodySettled",
            ),
        };
        checked += 1;
        if n == 0 {
            r.lost.push(format!(
                "{kind} {op} done at the amm, no {what} on the ledger"
            ));
        } else if n > 1 {
            r.duplicated
                .push(format!("{kind} {op}: {what} {n}x on the ledger"));
        }
    }
    r.notes.push(format!(
        "{checked} done stake ops matched to their ledger step"
    ));
}

/// Registrations seen live: each subnet's metagraph hotkeys and the
/// registrations governance reports done (op, netuid, hotkey).
#[derive(Default)]
pub struct Registrations {
    metagraphs: BTreeMap<u16, Vec<String>>,
    done: Vec<(String, u16, String)>,
}

/// Each done registration put its hotkey in the metagraph once
/// (`NeuronRegistered{op}` in consensus's log), and each subnet's
/// metagraph is exactly its genesis neurons plus the done registrations
/// minus the hotkeys a later registration replaced (pruning).
fn registration_checks(consensus_log: &[LogEvent], regs: &Registrations, r: &mut Report) {
    let mut registered: BTreeMap<&str, usize> = BTreeMap::new();
    let mut replaced: BTreeSet<(u16, String)> = BTreeSet::new();
    for (_, ty, _, d) in consensus_log {
        if ty != "NeuronRegistered" {
            continue;
        }
        if let Some(op) = d["op"].as_str() {
            *registered.entry(op).or_default() += 1;
        }
        if let (Some(n), Some(h)) = (d["netuid"].as_u64(), d["replaced"].as_str()) {
            replaced.insert((n as u16, h.to_owned()));
        }
    }
    for (op, _, _) in &regs.done {
        match registered.get(op.as_str()).copied().unwrap_or(0) {
            1 => {}
            0 => r
                .lost
                .push(format!("registration {op} done, no NeuronRegistered")),
            n => r
                .duplicated
                .push(format!("registration {op}: NeuronRegistered {n}x")),
        }
    }
    for netuid in NETUIDS {
        let Some(live) = regs.metagraphs.get(&netuid) else {
            r.violations
                .push(format!("metagraph {netuid} query failed"));
            continue;
        };
        let mut want: BTreeSet<String> = (0..NEURONS)
            .map(|i| neuron(netuid, i).public().to_string())
            .collect();
        // In registration order (op r-<k>): a hotkey pruned later is gone.
        for (_, _, h) in regs.done.iter().filter(|x| x.1 == netuid) {
            want.insert(h.clone());
        }
        want.retain(|h| !replaced.contains(&(netuid, h.clone())));
        let got: BTreeSet<String> = live.iter().cloned().collect();
        for h in want.difference(&got) {
            r.lost.push(format!(
                "metagraph {netuid}: registered {h} missing (not pruned)"
            ));
        }
        for h in got.difference(&want) {
            r.duplicated.push(format!(
                "metagraph {netuid}: {h} present but pruned or never registered"
            ));
        }
        if got.len() != live.len() {
            r.duplicated
                .push(format!("metagraph {netuid}: a hotkey holds two uids"));
        }
    }
    r.notes.push(format!(
        "{} done registrations, {} pruned hotkeys, checked against the metagraphs",
        regs.done.len(),
        replaced.len()
    ));
}

fn transfer_accounts(clients: usize) -> Vec<AccountId> {
    (0..clients)
        .map(|c| sender(c).public())
        .chain((0..RECEIVERS).map(|j| receiver(j).public()))
        .collect()
}

/// Each transfer account's balance against the model of the acknowledged
/// transfers: genesis funds, minus amount and fee sent, plus amounts
/// received. Less than the model is a lost transfer, more a doubled one.
fn balance_checks(
    ledger_log: &[LogEvent],
    records: &[Record],
    clients: usize,
    balances: &BTreeMap<AccountId, u64>,
    r: &mut Report,
) {
    let fees: BTreeMap<&str, u64> = ledger_log
        .iter()
        .filter(|e| e.1 == "Transferred")
        .filter_map(|e| Some((e.2.as_deref()?, e.3["fee"].as_u64()?)))
        .collect();
    let mut expect: BTreeMap<AccountId, i128> = BTreeMap::new();
    for c in 0..clients {
        expect.insert(sender(c).public(), SENDER_FUNDS as i128);
    }
    for j in 0..RECEIVERS {
        expect.insert(receiver(j).public(), RECEIVER_FUNDS as i128);
    }
    for rec in records {
        if let (Model::Transfer { from, to, amount }, Outcome::Acked { events, .. }) =
            (&rec.model, &rec.outcome)
        {
            let fee = fee_of(events)
                .or_else(|| fees.get(rec.causation().as_str()).copied())
                .unwrap_or(0);
            *expect.get_mut(from).unwrap() -= (*amount + fee) as i128;
            *expect.get_mut(to).unwrap() += *amount as i128;
        }
    }
    for (who, want) in &expect {
        let Some(got) = balances.get(who) else {
            continue;
        };
        let got = i128::from(*got);
        if got == *want {
            continue;
        }
        // A sender holds less than the model when a transfer applied twice,
        // a receiver when one was lost; and the other way round.
        let is_sender = (0..clients).any(|c| sender(c).public() == *who);
        let line = format!("balance of {who}: {got}, model of the acknowledged transfers {want}");
        if (got < *want) == is_sender {
            r.duplicated.push(line);
        } else {
            r.lost.push(line);
        }
    }
}

/// Waits until a service answers `status` (or gives up after 60 s).
async fn ready(client: &async_nats::Client, svc: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if query(client, svc, "status", Value::Null).await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// One whole run: start, load + faults, settle, check, stop, replay.
pub async fn run(cfg: Config) -> Report {
    let mut r = Report::default();
    let mut cluster = Cluster::start_network(&genesis(&cfg));
    if cfg.keep {
        eprintln!("cluster dir (kept): {}", cluster.dir.path().display());
    }
    for svc in SERVICES {
        start(&mut cluster, &cfg, svc);
    }
    let client = cluster.client().await;
    for svc in SERVICES {
        if !ready(&client, svc).await {
            r.violations.push(format!("{svc} never became ready"));
            return r;
        }
    }
    eprintln!(
        "cluster up (nats {}); load for {:?}, seed {}",
        cluster.nats.url(),
        cfg.duration,
        cfg.seed
    );

    // ---- load and faults --------------------------------------------------
    let stop = Arc::new(AtomicBool::new(false));
    let ctx = Arc::new(Ctx {
        journal: Arc::new(Mutex::new(Vec::new())),
        stop: stop.clone(),
        nats_url: cluster.nats.url(),
        drain: cfg.settle_timeout,
        stopped_at: Mutex::new(None),
    });
    setup(&ctx, &client, &mut r).await;
    let began = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..cfg.clients {
        tasks.push(tokio::spawn(transfer_client(
            ctx.clone(),
            c,
            cfg.seed * 1_000 + c as u64,
        )));
        tasks.push(tokio::spawn(stake_client(
            ctx.clone(),
            c,
            cfg.seed * 1_000 + 100 + c as u64,
        )));
    }
    for netuid in NETUIDS {
        tasks.push(tokio::spawn(weights_client(
            ctx.clone(),
            netuid,
            cfg.seed * 1_000 + 200 + u64::from(netuid),
        )));
    }
    tasks.push(tokio::spawn(register_client(
        ctx.clone(),
        cfg.seed * 1_000 + 300,
    )));
    tasks.push(tokio::spawn(proposal_client(
        ctx.clone(),
        cfg.seed * 1_000 + 500,
    )));
    let blocks = tokio::spawn(block_client(ctx.clone(), cfg.seed * 1_000 + 400));

    let fault_stop = Arc::new(AtomicBool::new(false));
    let scheduler = {
        let cfg = cfg.clone();
        let fault_stop = fault_stop.clone();
        std::thread::spawn(move || {
            let mut faults = Vec::new();
            fault_scheduler(&mut cluster, &cfg, &fault_stop, &mut faults, began);
            (cluster, faults)
        })
    };
    tokio::time::sleep(cfg.duration).await;
    fault_stop.store(true, Ordering::SeqCst);
    ctx.stop_now();
    let (mut cluster, faults) = tokio::task::spawn_blocking(move || scheduler.join())
        .await
        .expect("join")
        .expect("fault scheduler");
    for svc in SERVICES {
        if !cluster.is_running(svc) {
            r.violations
                .push(format!("{svc} was not running at the end"));
            start(&mut cluster, &cfg, svc);
        }
        cluster.signal(svc, Signal::SIGCONT);
    }
    eprintln!(
        "[{:>7.1}s] faults stopped ({}); draining clients",
        began.elapsed().as_secs_f64(),
        faults.len()
    );
    for t in tasks {
        let _ = t.await;
    }
    r.height = blocks.await.unwrap_or(0);
    for f in &faults {
        *r.faults.entry(f.kind).or_default() += 1;
    }
    let records = std::mem::take(&mut *ctx.journal.lock().unwrap());
    for rec in &records {
        *r.sent.entry(rec.kind).or_default() += 1;
        if rec.attempts > 1 {
            r.retried += 1;
        }
        match &rec.outcome {
            Outcome::Acked { on_retry, .. } => {
                *r.acked.entry(rec.kind).or_default() += 1;
                if *on_retry {
                    r.acked_on_retry += 1;
                }
            }
            Outcome::Rejected(code) => {
                *r.rejected
                    .entry(format!("{} {code}", rec.kind))
                    .or_default() += 1
            }
            Outcome::Unanswered(e) => r
                .unanswered
                .push(format!("{} {} {}: {e}", rec.service, rec.kind, rec.id)),
            Outcome::Spurious => {}
        }
    }

    // Self-test of the checks (docs/faults.md): corrupt the journal the way
    // a lost or doubled command would look to them.
    let mut records = records;
    let tamper = std::env::var("TAONET_FAULTS_TAMPER").unwrap_or_default();
    for mode in tamper.split(',') {
        match mode {
            // The log and the balances hold a transfer no client was told of
            // (as if applied twice): must show as duplicated.
            "forget" => {
                if let Some(i) = records
                    .iter()
                    .position(|r| r.acked() && matches!(r.model, Model::Transfer { .. }))
                {
                    records.remove(i);
                }
            }
            // A transfer acknowledged that the ledger never applied: lost.
            "phantom" => {
                if let Some(mut fake) = records
                    .iter()
                    .find(|r| r.acked() && matches!(r.model, Model::Transfer { .. }))
                    .cloned()
                {
                    fake.id = "phantom".into();
                    records.push(fake);
                }
            }
            _ => {}
        }
    }

    // ---- settle -----------------------------------------------------------
    let regs: Vec<String> = records
        .iter()
        .filter(|r| r.acked())
        .filter_map(|r| match &r.model {
            Model::Register { op, .. } => Some(op.clone()),
            _ => None,
        })
        .collect();
    let deadline = Instant::now() + cfg.settle_timeout;
    let mut stable = 0;
    let mut last_state = String::new();
    loop {
        match settled(&client, r.height, &regs).await {
            Ok(()) => {
                // Twice in a row, the same logs: nothing is still moving.
                let mut st = String::new();
                for svc in SERVICES {
                    if let Ok(s) = query(&client, svc, "status", Value::Null).await {
                        st.push_str(&format!("{}/{} ", s["last_seq"], s["state_digest"]));
                    }
                }
                stable = if st == last_state { stable + 1 } else { 0 };
                last_state = st;
                if stable >= 2 {
                    break;
                }
            }
            Err(e) if Instant::now() > deadline => {
                r.violations
                    .push(format!("did not settle in {:?}: {e}", cfg.settle_timeout));
                break;
            }
            Err(_) => stable = 0,
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "[{:>7.1}s] settled at block {}; checking",
        began.elapsed().as_secs_f64(),
        r.height
    );

    // ---- checks on the live cluster ----------------------------------------
    let mut live = Vec::new();
    for svc in SERVICES {
        match q(&client, svc, "status", Value::Null).await {
            Some(s) => live.push((svc, s)),
            None => r
                .violations
                .push(format!("{svc} status failed after settling")),
        }
    }
    // The stream is an exact copy of the log: one message per event, at
    // its own sequence.
    for (svc, s) in &live {
        let last = s["last_seq"].as_u64().unwrap_or(0);
        let stream = stream_contents(&client, svc).await;
        if stream.len() as u64 != last {
            r.violations.push(format!(
                "{svc}: stream holds {} messages, log {last} events",
                stream.len()
            ));
        }
        let mut ids = BTreeSet::new();
        for (sseq, env) in &stream {
            if *sseq != env.seq || !ids.insert(env.id) {
                r.violations
                    .push(format!("{svc}: stream seq {sseq} holds event {}", env.seq));
                break;
            }
        }
    }
    let mut balances = BTreeMap::new();
    let mut done_ops = BTreeMap::new();
    let mut regs = Registrations::default();
    live_checks(
        &client,
        &records,
        cfg.clients,
        &mut balances,
        &mut done_ops,
        &mut regs,
        &mut r,
    )
    .await;
    if let Some(s) = live.iter().find(|(s, _)| *s == "ledger") {
        if s.1["block"] != r.height {
            r.violations.push(format!(
                "ledger height {} != acknowledged advances {}",
                s.1["block"], r.height
            ));
        }
    }

    // ---- stop, replay, read the logs --------------------------------------
    for svc in SERVICES {
        cluster.stop(svc);
    }
    for (svc, s) in &live {
        let offline = cluster.replay(svc);
        let (ld, od) = (
            s["state_digest"].as_str().unwrap_or_default().to_owned(),
            offline["state_digest"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
        if ld != od || offline["last_seq"] != s["last_seq"] {
            r.violations.push(format!(
                "{svc}: live {} at {} != replay {} at {}",
                ld, s["last_seq"], od, offline["last_seq"]
            ));
        }
        r.digests
            .push((svc.to_string(), s["last_seq"].as_u64().unwrap_or(0), ld, od));
    }
    let mut logs = BTreeMap::new();
    for svc in SERVICES {
        logs.insert(svc, decoded_log(&cluster, svc));
    }
    log_checks(&logs, &records, &mut r);
    balance_checks(&logs["ledger"], &records, cfg.clients, &balances, &mut r);
    saga_checks(&logs["ledger"], &done_ops, &mut r);
    registration_checks(&logs["consensus"], &regs, &mut r);
    // A failing run keeps its evidence (not a self-test: it fails on purpose).
    if (!r.ok() && tamper.is_empty()) || cfg.keep {
        let dir = cluster.dir.path().to_path_buf();
        let keep = std::env::temp_dir().join(format!(
            "taonet-faults-seed{}-{}",
            cfg.seed,
            std::process::id()
        ));
        if taonet::replay::copy_dir(&dir, &keep).is_ok() {
            r.notes.push(format!(
                "cluster dir (logs, sled, nats) copied to {}",
                keep.display()
            ));
        }
    }
    r
}
