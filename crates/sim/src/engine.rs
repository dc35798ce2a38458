//! The four cores in one process.
//!
//! Why the services' glue and not a hand-written wiring: the cluster joins
//! the cores with `Service::admit` (a signed command becomes a core
//! command), `Service::on_foreign` (another service's event becomes a
//! command) and `Service::on_tick` (the ledger's timer becomes a block).
//! The simulator calls exactly those, so a rule the services follow is a
//! rule the simulator follows.
//!
//! Delivery: one FIFO queue of events. Each event a core emits is queued
//! as the value it is, beside its envelope's header as the runtime would
//! wrap it (service, per-service sequence, block); nothing is encoded to
//! be decoded again in the same process. The head of the queue is handed,
//! in a fixed service order, to every service whose `sources()` name its
//! stream (`Service::on_foreign_event` with `Foreign::in_process`, the
//! glue the wire path runs after decoding), and what they emit joins the
//! tail. So every service sees each stream in order, as its inbox would,
//! and one run has one interleaving: the same every time.
//!
//! A block: the ledger's tick at `start + height × block time`, its
//! consequences run to quiescence (coinbase, claims, epochs, payouts), then
//! the scripted commands and agents of that block, again to quiescence.

use crate::report::{Observer, Outcome};
use crate::scenario::{derived_hotkey, hotkey_base, Agent, Scenario, ServiceCommand};
use crate::SimError;
use aggregate::Aggregate;
use amm::AmmService;
use consensus::ConsensusService;
use envelope::{Envelope, EventMeta, Foreign};
use governance::GovernanceService;
use keys::{AccountId, Keypair};
use ledger::LedgerService;
use service_kit::{Caller, Cmd, Service};
use std::any::Any;
use std::collections::{BTreeSet, VecDeque};

/// An event in flight: its envelope's header and the event itself.
type Queued = (Envelope, Box<dyn Any>);

/// One core and the position of its log.
struct Node<S: Service> {
    core: S::Core,
    seq: u64,
}

impl<S: Service> Node<S> {
    fn new() -> Self {
        Node {
            core: Default::default(),
            seq: 0,
        }
    }

    /// Decides `cmd` and, if accepted, evolves and queues its events;
    /// a rejection is returned as its code and changes nothing.
    fn handle(
        &mut self,
        cmd: &Cmd<S>,
        queue: &mut VecDeque<Queued>,
        obs: &mut Observer,
    ) -> Result<(), String> {
        match self.core.handle(cmd) {
            Ok(events) => {
                let meta = EventMeta {
                    block: self.core.block(),
                    causation: None,
                    correlation: String::new(),
                    trace: None,
                };
                for ev in events {
                    obs.produced(<S::Core as Aggregate>::SERVICE, &ev);
                    self.seq += 1;
                    let header = Envelope::header_numbered(
                        <S::Core as Aggregate>::SERVICE,
                        self.seq,
                        &ev,
                        &meta,
                    );
                    queue.push_back((header, Box::new(ev)));
                }
                Ok(())
            }
            Err(r) => Err(rejection_code(&r)),
        }
    }

    /// Runs start-up commands; any refusal stops the simulation (a
    /// cluster would start without that part of the genesis).
    fn start(
        &mut self,
        cmds: Vec<Cmd<S>>,
        queue: &mut VecDeque<Queued>,
        obs: &mut Observer,
    ) -> Result<(), SimError> {
        for c in &cmds {
            self.handle(c, queue, obs)
                .map_err(|reason| SimError::Startup {
                    service: <S::Core as Aggregate>::SERVICE,
                    reason,
                })?;
        }
        Ok(())
    }

    /// Hands one foreign event to this service, if it consumes the stream.
    fn feed(
        &mut self,
        env: &Envelope,
        typed: &dyn Any,
        queue: &mut VecDeque<Queued>,
        obs: &mut Observer,
    ) {
        if !S::sources().contains(&env.service.as_str()) {
            return;
        }
        if let Some(cmd) = S::on_foreign_event(&self.core, Foreign::in_process(env, typed)) {
            if let Err(code) = self.handle(&cmd, queue, obs) {
                obs.foreign_rejected(<S::Core as Aggregate>::SERVICE, &code);
            }
        }
    }

    /// A user command, admitted as the service admits a signed one.
    fn submit(
        &mut self,
        signer: AccountId,
        encoded_len: u32,
        wire: S::Wire,
        queue: &mut VecDeque<Queued>,
        obs: &mut Observer,
    ) -> Result<(), String> {
        let cmd = S::admit(Caller::User(signer), encoded_len, wire);
        let res = self.handle(&cmd, queue, obs);
        obs.command(
            <S::Core as Aggregate>::SERVICE,
            res.as_ref().err().map(String::as_str),
        );
        res
    }
}

/// A rejection's code as the shell reports it (its variant name).
fn rejection_code<R: serde::Serialize>(r: &R) -> String {
    service_kit::journal::rejection_code(r)
}

/// splitmix64: a tiny seeded generator whose sequence never changes with a
/// dependency's version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform-ish in `0..n` (`n` ≥ 1; the modulo bias is irrelevant here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// What an agent remembers between blocks. The older agents read all
/// they need off the cores' state; the registering ones count their own
/// accepted registrations (that count is the next fresh hotkey's index,
/// so a refused attempt retries the same hotkey).
struct Memory {
    /// `//<hotkey_prefix>`, for agents that derive hotkeys.
    base: Option<Keypair>,
    /// Registrations of this agent the cores accepted.
    registered: u64,
    /// The owner hotkeys of the subnets it registered (`subnet_owner`),
    /// to find the ones waiting for its `StartCall`.
    hotkeys: BTreeSet<AccountId>,
}

/// The whole network in one process.
struct Engine {
    ledger: Node<LedgerService>,
    consensus: Node<ConsensusService>,
    amm: Node<AmmService>,
    governance: Node<GovernanceService>,
    queue: VecDeque<Queued>,
    obs: Observer,
}

impl Engine {
    fn checkpoint(&self, block: u64, commands: bool) -> Checkpoint {
        Checkpoint {
            block,
            commands,
            seqs: [
                self.ledger.seq,
                self.consensus.seq,
                self.amm.seq,
                self.governance.seq,
            ],
            heights: [
                self.ledger.core.block(),
                self.consensus.core.block(),
                self.amm.core.block(),
                self.governance.core.block(),
            ],
        }
    }

    /// Delivers queued events until no service has anything left to say.
    fn settle(&mut self) {
        while let Some((env, typed)) = self.queue.pop_front() {
            let q = &mut self.queue;
            let o = &mut self.obs;
            let t = typed.as_ref();
            self.ledger.feed(&env, t, q, o);
            self.consensus.feed(&env, t, q, o);
            self.amm.feed(&env, t, q, o);
            self.governance.feed(&env, t, q, o);
        }
    }

    /// Admits and decides one user command; `Err(code)` if refused.
    /// `encoded_len` is the signed body's length when known (a recorded
    /// command); only the ledger charges by it.
    fn submit(
        &mut self,
        signer: AccountId,
        cmd: ServiceCommand,
        encoded_len: Option<u32>,
    ) -> Result<(), String> {
        let (q, o) = (&mut self.queue, &mut self.obs);
        let len = encoded_len.unwrap_or(0);
        match cmd {
            ServiceCommand::Ledger(body) => {
                // The ledger's length fee is per encoded byte of the signed
                // body; without one, the JSON of the command stands in.
                let len = encoded_len.unwrap_or_else(|| {
                    let n = serde_json::to_vec(&body).map_or(0, |v| v.len());
                    u32::try_from(n).unwrap_or(u32::MAX)
                });
                self.ledger.submit(signer, len, body, q, o)
            }
            ServiceCommand::Consensus(body) => self.consensus.submit(signer, len, body, q, o),
            ServiceCommand::Amm(body) => self.amm.submit(signer, len, body, q, o),
            ServiceCommand::Governance(body) => self.governance.submit(signer, len, body, q, o),
        }
    }

    /// What agent `i` does at `block`, if anything.
    fn agent(
        &self,
        i: usize,
        agent: &Agent,
        block: u64,
        rng: &mut Rng,
        memory: &Memory,
    ) -> Option<(AccountId, ServiceCommand)> {
        match agent {
            Agent::Staker {
                coldkey,
                hotkey,
                netuids,
                every,
                max_rao,
                chase,
            } => {
                if !block.is_multiple_of(*every) || netuids.is_empty() {
                    return None;
                }
                let amount = max_rao / 2 + rng.below(max_rao - max_rao / 2 + 1);
                let netuid = if *chase {
                    self.hottest(netuids)?
                } else {
                    netuids[rng.below(netuids.len() as u64) as usize]
                };
                Some((
                    *coldkey,
                    ServiceCommand::Amm(amm_core::CommandBody::AddStake {
                        op: format!("sim/{i}/{block}"),
                        hotkey: *hotkey,
                        netuid,
                        amount,
                        limit_price: None,
                        allow_partial: false,
                    }),
                ))
            }
            Agent::Validator {
                hotkey,
                netuid,
                every,
                noise_pct,
                miners,
            } => {
                if !block.is_multiple_of(*every) {
                    return None;
                }
                let subnet = self.consensus.core.subnet(*netuid)?;
                let noise = u64::from(*noise_pct).min(100);
                let mut uids = Vec::new();
                let mut values = Vec::new();
                for m in miners {
                    let Some(uid) = subnet.neurons.iter().position(|n| n.hotkey == m.hotkey) else {
                        continue;
                    };
                    // quality × (100 − noise .. 100 + noise) / 100
                    uids.push(u16::try_from(uid).ok()?);
                    values.push(Self::noisy(m.quality, noise, rng));
                }
                if uids.is_empty() {
                    return None;
                }
                Some((
                    *hotkey,
                    ServiceCommand::Consensus(consensus_core::CommandBody::SetWeights {
                        netuid: *netuid,
                        uids,
                        values,
                        version_key: subnet.params.weights_version_key,
                    }),
                ))
            }
            Agent::WeightCopier {
                hotkey,
                netuid,
                every,
                leader,
            } => {
                if !block.is_multiple_of(*every) {
                    return None;
                }
                let subnet = self.consensus.core.subnet(*netuid)?;
                subnet.neurons.iter().position(|n| n.hotkey == *hotkey)?;
                let row = &subnet.neurons.iter().find(|n| n.hotkey == *leader)?.weights;
                if row.is_empty() {
                    return None;
                }
                Some((
                    *hotkey,
                    ServiceCommand::Consensus(consensus_core::CommandBody::SetWeights {
                        netuid: *netuid,
                        uids: row.iter().map(|(u, _)| *u).collect(),
                        values: row.iter().map(|(_, w)| *w).collect(),
                        version_key: subnet.params.weights_version_key,
                    }),
                ))
            }
            Agent::Unstaker {
                coldkey,
                hotkey,
                netuid,
                every,
                max_alpha,
            } => {
                if !block.is_multiple_of(*every) {
                    return None;
                }
                let want = max_alpha / 2 + rng.below(max_alpha - max_alpha / 2 + 1);
                // At most half the position: it keeps earning dividends.
                let alpha = want.min(self.amm.core.stake(*netuid, hotkey, coldkey) / 2);
                if alpha == 0 {
                    return None;
                }
                Some((
                    *coldkey,
                    ServiceCommand::Amm(amm_core::CommandBody::RemoveStake {
                        op: format!("sim/{i}/{block}"),
                        hotkey: *hotkey,
                        netuid: *netuid,
                        alpha,
                        limit_price: None,
                        allow_partial: false,
                    }),
                ))
            }
            Agent::RootValidator {
                hotkey,
                every,
                noise_pct,
                weights,
            } => {
                if !block.is_multiple_of(*every) || weights.is_empty() {
                    return None;
                }
                let noise = u64::from(*noise_pct).min(100);
                let weights = weights
                    .iter()
                    .map(|&(n, w)| (n, Self::noisy(w, noise, rng)))
                    .collect();
                Some((
                    *hotkey,
                    ServiceCommand::Amm(amm_core::CommandBody::SetRootWeights { weights }),
                ))
            }
            Agent::SubnetOwner {
                coldkey,
                every,
                count,
                max_lock_rao,
                start_call,
                ..
            } => {
                if *start_call {
                    if let Some(netuid) = self.startable(coldkey, &memory.hotkeys) {
                        return Some((
                            *coldkey,
                            ServiceCommand::Governance(governance_core::CommandBody::StartCall {
                                netuid,
                            }),
                        ));
                    }
                }
                if !block.is_multiple_of(*every) || memory.registered >= *count {
                    return None;
                }
                let hotkey = derived_hotkey(memory.base.as_ref()?, memory.registered);
                Some((
                    *coldkey,
                    ServiceCommand::Governance(governance_core::CommandBody::RegisterNetwork {
                        op: format!("sim/{i}/{block}"),
                        hotkey,
                        identity: None,
                        max_lock_cost: *max_lock_rao,
                    }),
                ))
            }
            Agent::Registrant {
                coldkey,
                netuid,
                every,
                count,
                max_burn_rao,
                ..
            } => {
                if !block.is_multiple_of(*every) || count.is_some_and(|c| memory.registered >= c) {
                    return None;
                }
                if let Some(max) = max_burn_rao {
                    // The price a user reads off the chain before paying.
                    let burn = self.governance.core.burn(*netuid)?;
                    if burn > *max {
                        return None;
                    }
                }
                let hotkey = derived_hotkey(memory.base.as_ref()?, memory.registered);
                Some((
                    *coldkey,
                    ServiceCommand::Governance(governance_core::CommandBody::BurnedRegister {
                        op: format!("sim/{i}/{block}"),
                        netuid: *netuid,
                        hotkey,
                        limit_price: *max_burn_rao,
                    }),
                ))
            }
        }
    }

    /// The lowest-netuid active subnet of `coldkey`, with one of `hotkeys`
    /// as owner hotkey, not started yet and past the start-call delay:
    /// what its owner's `StartCall` would now be accepted for.
    fn startable(&self, coldkey: &AccountId, hotkeys: &BTreeSet<AccountId>) -> Option<u16> {
        let g = &self.governance.core;
        g.subnets
            .iter()
            .find(|(_, s)| {
                s.is_active()
                    && s.owner == *coldkey
                    && hotkeys.contains(&s.owner_hotkey)
                    && s.first_emission_block.is_none()
                    && g.height() >= s.registered_at.saturating_add(g.config.start_call_delay)
            })
            .map(|(n, _)| *n)
    }

    /// Up to ±`noise` percent around `v` (seeded), capped at `u16::MAX`.
    fn noisy(v: u16, noise: u64, rng: &mut Rng) -> u16 {
        let factor = 100 - noise + rng.below(2 * noise + 1);
        (u64::from(v) * factor / 100).min(u64::from(u16::MAX)) as u16
    }

    /// The subnet whose spot price is furthest above its EMA price.
    fn hottest(&self, netuids: &[u16]) -> Option<u16> {
        netuids
            .iter()
            .filter_map(|&n| {
                let price = self.amm.core.spot_price(n)?.to_bits();
                let ema = self.amm.core.moving_price(n)?.to_bits().max(1);
                Some((price.saturating_mul(1_000_000) / ema, n))
            })
            // Highest score; ties go to the lowest netuid.
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
            .map(|(_, n)| n)
    }
}

/// Where the four logs stand at a quiescent point of a run: after block
/// `block`'s own consequences (`commands == false`; block 0 is the
/// genesis), or after that block's scripted commands and agents too. A
/// cluster driven with the same commands at the same points must reach
/// exactly these log lengths (the sim-vs-cluster test waits on them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub block: u64,
    pub commands: bool,
    /// Events in each log: ledger, consensus, amm, governance.
    pub seqs: [u64; 4],
    /// Each core's block height (`Aggregate::block`), same order.
    pub heights: [u64; 4],
}

/// Runs a scenario to its last block. `progress(done, total)` is called
/// as blocks complete (about a thousand times over a run).
pub fn run(scenario: &Scenario, progress: &mut dyn FnMut(u64, u64)) -> Result<Outcome, SimError> {
    run_observed(scenario, progress, &mut |_| {})
}

/// The block command of the clock: the ledger's own tick (`ProduceBlock`)
/// under an automatic clock; under a manual one, what a test or operator
/// sends: the admin's `AdvanceBlocks { n: 1 }` stamped with the same time.
pub fn block_command(
    scenario: &Scenario,
    ledger: &ledger_core::Ledger,
    now_ms: u64,
) -> Option<ledger_core::Command> {
    match scenario.genesis.ledger.clock {
        ledger_core::Clock::Auto { .. } => LedgerService::on_tick(ledger, now_ms),
        ledger_core::Clock::Manual => Some(LedgerService::admit(
            Caller::User(scenario.genesis.ledger.admin?),
            0,
            ledger_core::CommandBody::AdvanceBlocks {
                n: 1,
                timestamp_ms: now_ms,
                block_time_ms: scenario.block_time_ms(),
            },
        )),
    }
}

/// [`run`], calling `checkpoint` at every quiescent point (see
/// [`Checkpoint`]).
pub fn run_observed(
    scenario: &Scenario,
    progress: &mut dyn FnMut(u64, u64),
    checkpoint: &mut dyn FnMut(&Checkpoint),
) -> Result<Outcome, SimError> {
    let g = &scenario.genesis;
    let start_ms = crate::date::parse(&scenario.start_date).map_err(SimError::Scenario)?;
    let block_ms = scenario.block_time_ms();
    let mut ledger_genesis = g.ledger_genesis();
    // The engine is the clock: under an automatic clock the ledger must
    // accept the engine's ticks at the scenario's block time; a manual
    // clock stays manual and the engine sends the admin's AdvanceBlocks.
    if let ledger_core::Clock::Auto { .. } = ledger_genesis.clock {
        ledger_genesis.clock = ledger_core::Clock::Auto {
            block_time_ms: block_ms,
        };
    }
    let mut e = Engine {
        ledger: Node::new(),
        consensus: Node::new(),
        amm: Node::new(),
        governance: Node::new(),
        queue: VecDeque::new(),
        obs: Observer::new(scenario, start_ms, block_ms),
    };
    let (q, o) = (&mut e.queue, &mut e.obs);
    e.ledger.start(ledger::start(ledger_genesis), q, o)?;
    e.consensus.start(g.consensus_start(), q, o)?;
    e.amm
        .start(amm::start_commands(g.amm_genesis(), g.emission_rule), q, o)?;
    e.governance.start(g.governance_start(), q, o)?;
    e.settle();
    e.obs.genesis(e.ledger.core.total_issuance());
    checkpoint(&e.checkpoint(0, false));

    if let Some(admin) = scenario.admin() {
        for r in &scenario.rules {
            let body = governance_core::CommandBody::Admin(
                governance_core::AdminAction::SetHyperparameter {
                    netuid: r.netuid,
                    param: r.param.clone(),
                },
            );
            let _ = e.submit(admin, ServiceCommand::Governance(body), None);
        }
        for g in &scenario.globals {
            let body = governance_core::CommandBody::Admin(
                governance_core::AdminAction::SetGlobal(g.clone()),
            );
            let _ = e.submit(admin, ServiceCommand::Governance(body), None);
        }
    }
    let mut scripted: Vec<(usize, &crate::scenario::Scripted)> =
        scenario.commands.iter().enumerate().collect();
    // Stable: file order within a block.
    scripted.sort_by_key(|(_, c)| c.at);
    let mut outcomes: Vec<Option<String>> = vec![None; scripted.len()];
    let mut next = 0;
    let mut rng = Rng(scenario.seed);
    let mut memory = scenario
        .agents
        .iter()
        .map(|a| {
            Ok(Memory {
                base: a.hotkey_prefix().map(hotkey_base).transpose()?,
                registered: 0,
                hotkeys: BTreeSet::new(),
            })
        })
        .collect::<Result<Vec<_>, SimError>>()?;
    let mut step_at = |b: u64, e: &mut Engine, next: &mut usize, rng: &mut Rng| {
        while *next < scripted.len() && scripted[*next].1.at <= b {
            let (i, c) = scripted[*next];
            outcomes[i] = e.submit(c.signer, c.command.clone(), c.encoded_len).err();
            *next += 1;
        }
        for (i, a) in scenario.agents.iter().enumerate() {
            if b > 0 {
                if let Some((who, cmd)) = e.agent(i, a, b, rng, &memory[i]) {
                    use governance_core::CommandBody as G;
                    let registers = match &cmd {
                        ServiceCommand::Governance(G::RegisterNetwork { hotkey, .. }) => {
                            Some(Some(*hotkey))
                        }
                        ServiceCommand::Governance(G::BurnedRegister { .. }) => Some(None),
                        _ => None,
                    };
                    if e.submit(who, cmd, None).is_ok() {
                        if let Some(owner_hotkey) = registers {
                            memory[i].registered += 1;
                            memory[i].hotkeys.extend(owner_hotkey);
                        }
                    }
                }
            }
        }
        e.settle();
    };
    step_at(0, &mut e, &mut next, &mut rng);
    checkpoint(&e.checkpoint(0, true));
    e.obs.sample(0, &e.ledger.core, &e.amm.core);

    let total = scenario.blocks;
    let every = scenario
        .sample_every
        .unwrap_or_else(|| (total / 1000).max(1));
    let tick = (total / 1000).max(1);
    for b in 1..=total {
        let issuance = e.ledger.core.total_issuance();
        e.obs.before_block(b, issuance);
        let now_ms = usize::try_from(b - 1)
            .ok()
            .and_then(|i| scenario.block_timestamps_ms.get(i).copied())
            .unwrap_or(start_ms + b * block_ms);
        if let Some(cmd) = block_command(scenario, &e.ledger.core, now_ms) {
            if let Err(code) = e.ledger.handle(&cmd, &mut e.queue, &mut e.obs) {
                e.obs.foreign_rejected("ledger", &format!("tick:{code}"));
            }
        }
        e.settle();
        checkpoint(&e.checkpoint(b, false));
        step_at(b, &mut e, &mut next, &mut rng);
        checkpoint(&e.checkpoint(b, true));
        if b.is_multiple_of(every) || b == total {
            e.obs.sample(b, &e.ledger.core, &e.amm.core);
        }
        if b.is_multiple_of(tick) || b == total {
            progress(b, total);
        }
    }
    let digests = [
        ("ledger", e.ledger.core.digest()),
        ("consensus", e.consensus.core.digest()),
        ("amm", e.amm.core.digest()),
        ("governance", e.governance.core.digest()),
    ];
    let mut outcome = e
        .obs
        .finish(&e.ledger.core, &e.consensus.core, &e.amm.core, &digests);
    // The cores' own accounting identities at the end of the run (issuance
    // = free + custody + locks + pending credit + burned, pool reserves,
    // ...): a broken one is reported, not hidden behind a plausible report.
    outcome.invariants = [
        ("ledger", e.ledger.core.check_invariants()),
        ("consensus", e.consensus.core.check_invariants()),
        ("amm", e.amm.core.check_invariants()),
        ("governance", e.governance.core.check_invariants()),
    ]
    .into_iter()
    .filter_map(|(s, r)| r.err().map(|why| format!("{s}: {why}")))
    .collect();
    outcome.scripted = outcomes;
    outcome.invariants.extend(
        cross_checks(&e.amm.core, &e.governance.core)
            .into_iter()
            .map(|why| format!("cross-core: {why}")),
    );
    Ok(outcome)
}

/// Invariants between cores that no single core can check: governance's
/// mirror of hotkey stake values (alpha and prices from the amm's
/// `StakeReport`s) gives every hotkey the value the amm computes.
fn cross_checks(amm: &amm_core::Amm, gov: &governance_core::Governance) -> Vec<String> {
    let totals = amm.hotkey_totals();
    let mut out = Vec::new();
    let mirrored: std::collections::BTreeSet<AccountId> =
        gov.hotkey_alpha.keys().map(|(h, _)| *h).collect();
    for h in totals.keys().chain(mirrored.iter()) {
        let (a, g) = (
            totals.get(h).copied().unwrap_or(0),
            gov.hotkey_total_stake(h),
        );
        if a != g {
            out.push(format!(
                "hotkey {h}: governance values its stake at {g}, the amm at {a}"
            ));
        }
    }
    out
}
