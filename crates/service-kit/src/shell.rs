//! The async service loop.
//!
//! One task owns the [`Runtime`]; everything else talks to it through one
//! closed enum of inputs ([`Input`]) handled by a single `match`. Commands
//! that arrive together are decided and committed together (group commit:
//! one store append and one flush for the whole batch), which is what makes
//! durable throughput high without weakening the rule that a command is
//! acknowledged only after its events are durable.
//!
//! Commands that arrive together are also admitted together: one task per
//! batch of messages, one blocking-pool job per batch that checks all its
//! signatures with one randomized batch verification (falling back to one by
//! one only when the batch fails), so batches verify in parallel and the
//! per-command cost is one task-free hop into the service loop. The decide,
//! append and flush of a group commit run on the blocking pool too, so no
//! async worker is parked in the disk wait.

use crate::runtime::{Outcome, Pending, Runtime};
use crate::{digest_hex, Caller, Cmd, Service};
use aggregate::Aggregate;
use bus::inbox::{verdict, Inbox, InboxSettings, ProvenanceError, Verdict};
use bus::outbox::{Outbox, StreamSettings};
use bus::rpc::{QueryReply, Reply, ALREADY_PROCESSED};
use bus::{subjects, Backoff};
use envelope::{Envelope, EventMeta};
use futures::{FutureExt, StreamExt};
use keys::{CommandBody, Signed};
use serde::Serialize;
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use store::EventStore;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{Instrument, Span};

/// Largest command payload accepted; larger ones are rejected unread.
pub const MAX_COMMAND_BYTES: usize = 64 * 1024;

/// Everything a service shell needs besides its core.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    pub nats_url: String,
    pub data_dir: PathBuf,
    pub stream: StreamSettings,
    pub inbox: InboxSettings,
    /// Events between snapshots (0 = never).
    pub snapshot_every: u64,
    /// Most commands decided and committed in one batch.
    pub max_batch: usize,
    pub faults: Faults,
    /// Service keys allowed on `taonet.svc.<service>.*` (saga steps and
    /// service-to-service commands). Empty: no service may act.
    pub trusted_services: BTreeSet<keys::AccountId>,
}

impl ServiceConfig {
    /// Defaults, with `TAONET_INBOX_ACK_WAIT_MS` (how long an unacked
    /// delivery waits before redelivery) read from the environment.
    pub fn new(nats_url: &str, data_dir: impl Into<PathBuf>) -> Self {
        let mut inbox = InboxSettings::default();
        if let Some(ms) = std::env::var("TAONET_INBOX_ACK_WAIT_MS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            inbox.ack_wait = Duration::from_millis(ms);
        }
        ServiceConfig {
            nats_url: nats_url.to_owned(),
            data_dir: data_dir.into(),
            stream: StreamSettings::default(),
            inbox,
            snapshot_every: 100_000,
            max_batch: 1024,
            faults: Faults::from_env(),
            trusted_services: BTreeSet::new(),
        }
    }
}

/// Fault injection for tests of crash recovery. Read from the environment
/// (`TAONET_FAULT_*`) so tests can arm them in a child process; all off by
/// default and inert in production.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Abort the process right after the Nth durable append, before any
    /// reply or publish (`TAONET_FAULT_ABORT_AFTER_APPEND=N`).
    pub abort_after_append: Option<u64>,
    /// Never publish (`TAONET_FAULT_NO_PUBLISH=1`): the outbox must heal it
    /// on the next start.
    pub no_publish: bool,
    /// Abort after applying the Nth foreign event, before acking it
    /// (`TAONET_FAULT_ABORT_BEFORE_ACK=N`): redelivery must not apply twice.
    pub abort_before_ack: Option<u64>,
}

impl Faults {
    pub fn from_env() -> Self {
        let num = |k: &str| std::env::var(k).ok().and_then(|v| v.parse().ok());
        Faults {
            abort_after_append: num("TAONET_FAULT_ABORT_AFTER_APPEND"),
            no_publish: std::env::var("TAONET_FAULT_NO_PUBLISH").is_ok_and(|v| v == "1"),
            abort_before_ack: num("TAONET_FAULT_ABORT_BEFORE_ACK"),
        }
    }
}

type CommandReply = oneshot::Sender<Reply>;

/// `None` on the user subject; on the service subject, the keys trusted to
/// act as services (everyone else gets `BadOrigin` before any decision).
type ServiceKeys = Option<Arc<BTreeSet<keys::AccountId>>>;

/// What to do with one outcome of a group commit (reply, ack, log).
type Responder<S> = Box<dyn FnOnce(Outcome<<<S as Service>::Core as Aggregate>::Rejection>) + Send>;

/// The closed set of things the service loop reacts to.
enum Input<S: Aggregate> {
    Command {
        pending: Pending<S::Command>,
        span: Span,
        reply: CommandReply,
    },
    Foreign {
        /// The stream it arrived on and its stream sequence: the inbox
        /// position, whatever the envelope claims.
        source: String,
        seq: u64,
        /// The event, or why it was refused ([`bus::inbox::check_provenance`]).
        event: Result<Envelope, ProvenanceError>,
        /// Trace context of the consuming span (child of the producer's).
        trace: Option<envelope::TraceContext>,
        done: oneshot::Sender<Result<(), String>>,
    },
    Tick {
        now_ms: u64,
    },
    Query {
        name: String,
        args: serde_json::Value,
        reply: oneshot::Sender<QueryReply>,
    },
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Runs a service until `shutdown` becomes true.
pub async fn run<S: Service>(
    cfg: ServiceConfig,
    store: Arc<dyn EventStore>,
    start: Vec<Cmd<S>>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ShellError> {
    let service = <S::Core as Aggregate>::SERVICE;
    let mut runtime = Runtime::<S::Core>::open(store.clone(), cfg.snapshot_every)?;
    let client = bus::connect(&cfg.nats_url, &format!("taonet-{service}")).await?;
    let js = async_nats::jetstream::new(client.clone());

    // Outbox: publishes the log; first catch up whatever a crash left.
    let (appended_tx, appended_rx) = watch::channel(runtime.last_seq());
    let outbox = Outbox::new(js.clone(), service, store.clone(), cfg.stream.clone());
    let published = outbox.published();
    let mut tasks = Vec::new();
    if !cfg.faults.no_publish {
        tasks.push(tokio::spawn(outbox.run(appended_rx, shutdown.clone())));
    }

    let (tx, mut rx) = mpsc::channel::<Input<S::Core>>(65_536);

    // Commands: users on taonet.cmd.<svc>.>, services on taonet.svc.<svc>.>
    let trusted: ServiceKeys = Some(Arc::new(cfg.trusted_services.clone()));
    for (subject, is_service) in [
        (subjects::command(service, ">"), None),
        (subjects::service_command(service, ">"), trusted),
    ] {
        let sub = client
            .queue_subscribe(subject, service.to_owned())
            .await
            .map_err(|e| ShellError::Nats(e.to_string()))?;
        tasks.push(tokio::spawn(command_listener::<S>(
            client.clone(),
            sub,
            is_service,
            tx.clone(),
            shutdown.clone(),
        )));
    }
    let qsub = client
        .queue_subscribe(subjects::query(service, ">"), service.to_owned())
        .await
        .map_err(|e| ShellError::Nats(e.to_string()))?;
    tasks.push(tokio::spawn(query_listener::<S>(
        client.clone(),
        qsub,
        tx.clone(),
        shutdown.clone(),
    )));

    for source in S::sources() {
        let cp = store.checkpoint(&inbox_key(source))?.unwrap_or(0);
        let inbox = Inbox::new(js.clone(), service, source, cfg.inbox.clone());
        tasks.push(tokio::spawn(inbox_task::<S>(
            inbox,
            cp,
            tx.clone(),
            shutdown.clone(),
            cfg.faults.abort_before_ack,
        )));
    }

    // Start-up commands (genesis) run only on an empty log. They are decided
    // in one batch, so a log with any event holds all that they did; running
    // them again on a restart is not harmless: a genesis neuron pruned since
    // would be registered again (over another uid), an event no other
    // service asked for. A rejection on the first start is worth a log line;
    // a failure stops the service.
    if !start.is_empty() && runtime.last_seq() > 0 {
        tracing::info!(
            last_seq = runtime.last_seq(),
            "log not empty: start-up commands were applied before; skipped"
        );
    } else if !start.is_empty() {
        let start = start.into_iter().map(|c| internal(c, "start")).collect();
        for o in runtime.process(start) {
            match o {
                Outcome::Failed(e) => return Err(ShellError::Startup(e)),
                Outcome::Rejected(r) => tracing::info!(reason = %r, "start-up command not applied"),
                _ => {}
            }
        }
        appended_tx.send_replace(runtime.last_seq());
    }
    if let Some(every) = S::tick_interval(runtime.state()) {
        let tx = tx.clone();
        let mut sd = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            let mut timer = tokio::time::interval(every);
            timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            timer.tick().await;
            loop {
                tokio::select! {
                    _ = timer.tick() => {
                        if tx.send(Input::Tick { now_ms: now_ms() }).await.is_err() { return }
                    }
                    _ = sd.changed() => return,
                }
            }
        }));
    }

    drop(tx);

    tracing::info!(service, last_seq = runtime.last_seq(), "service ready");
    let mut appends = 0u64;
    // Last foreign event applied per source, as the store's checkpoints say:
    // the inbox pipelines its deliveries, so after a failure it may resend
    // events that did commit; they are recognised here and not applied twice.
    let load_applied = |store: &Arc<dyn EventStore>| -> Result<BTreeMap<String, u64>, ShellError> {
        let mut m = BTreeMap::new();
        for source in S::sources() {
            m.insert(
                (*source).to_owned(),
                store.checkpoint(&inbox_key(source))?.unwrap_or(0),
            );
        }
        Ok(m)
    };
    let mut applied = load_applied(&store)?;
    // Deliveries refused for their provenance since this process started
    // (reported by the status query).
    let mut refused = 0u64;
    loop {
        let first = tokio::select! {
            i = rx.recv() => match i { Some(i) => i, None => break },
            _ = shutdown.changed() => break,
        };
        // Group commit: take whatever else is already waiting.
        let mut inputs = vec![first];
        while inputs.len() < cfg.max_batch {
            match rx.try_recv() {
                Ok(i) => inputs.push(i),
                Err(_) => break,
            }
        }
        let mut pendings = Vec::new();
        let mut replies: Vec<Responder<S>> = Vec::new();
        // (source, seq) of each pending that consumes a foreign event.
        let mut consumed: Vec<Option<(String, u64)>> = Vec::new();
        for input in inputs {
            match input {
                Input::Command {
                    pending,
                    span,
                    reply,
                } => {
                    pendings.push(pending);
                    consumed.push(None);
                    replies.push(Box::new(move |o| {
                        let _e = span.enter();
                        let r = to_reply(o);
                        if let Reply::Rejected { code, .. } = &r {
                            tracing::info!(code = %code, "command rejected");
                        }
                        let _ = reply.send(r);
                    }));
                }
                Input::Foreign {
                    source,
                    seq,
                    event,
                    trace,
                    done,
                } => {
                    let last = applied.get(&source).copied().unwrap_or(0);
                    if seq <= last {
                        tracing::info!(%source, seq, "already applied; skipped");
                        let _ = done.send(Ok(()));
                        continue;
                    }
                    let envelope = match event {
                        Ok(envelope) => envelope,
                        Err(why) => {
                            // Consumed without effect: only the checkpoint
                            // moves past it, so the consumer neither applies
                            // it nor stops on it (and a restart skips it).
                            refused += 1;
                            tracing::error!(%source, seq, reason = %why, refused, "foreign event refused: not the stream owner's event");
                            pendings.push(Pending {
                                command: None,
                                meta: EventMeta {
                                    block: 0,
                                    causation: None,
                                    correlation: String::new(),
                                    trace: None,
                                },
                                dedup: None,
                                checkpoint: Some((inbox_key(&source), seq)),
                                journal: None,
                            });
                            consumed.push(Some((source, seq)));
                            replies.push(Box::new(move |o| {
                                let _ = done.send(match o {
                                    Outcome::Failed(e) => Err(e),
                                    _ => Ok(()),
                                });
                            }));
                            continue;
                        }
                    };
                    let command = S::on_foreign(runtime.state(), &envelope);
                    let meta = EventMeta {
                        block: 0,
                        causation: Some(format!("evt:{}", envelope.id)),
                        correlation: envelope.correlation.clone(),
                        trace: trace.or_else(|| envelope.trace.clone()),
                    };
                    pendings.push(Pending {
                        command,
                        meta,
                        dedup: None,
                        checkpoint: Some((inbox_key(&source), seq)),
                        journal: None,
                    });
                    consumed.push(Some((source.clone(), seq)));
                    replies.push(Box::new(move |o| {
                        let _ = done.send(match o {
                            Outcome::Failed(e) => Err(e),
                            Outcome::Rejected(r) => {
                                // The event is consumed (checkpointed) either
                                // way; a rule refusing it is worth an operator's look.
                                tracing::warn!(%source, seq, reason = %r, "foreign event rejected by the core");
                                Ok(())
                            }
                            _ => Ok(()),
                        });
                    }));
                }
                Input::Tick { now_ms } => {
                    if let Some(c) = S::on_tick(runtime.state(), now_ms) {
                        pendings.push(internal(c, "clock"));
                        consumed.push(None);
                        replies.push(Box::new(|o| {
                            if let Outcome::Failed(e) = o {
                                tracing::error!(error = %e, "clock tick failed");
                            }
                        }));
                    }
                }
                Input::Query { name, args, reply } => {
                    let _ = reply.send(answer_query::<S>(
                        &runtime,
                        *published.borrow(),
                        refused,
                        &name,
                        &args,
                    ));
                }
            }
        }
        if pendings.is_empty() {
            continue;
        }
        let before = runtime.last_seq();
        // Decide, append and flush off the async workers: the flush waits on
        // the disk, and a worker parked in it cannot serve NATS meanwhile.
        let (back, outcomes) = match tokio::task::spawn_blocking(move || {
            let outcomes = runtime.process(pendings);
            (runtime, outcomes)
        })
        .await
        {
            Ok(r) => r,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        runtime = back;
        if runtime.last_seq() != before {
            appends += 1;
            if cfg.faults.abort_after_append == Some(appends) {
                tracing::error!("fault injection: aborting after append {appends}");
                std::process::abort();
            }
            appended_tx.send_replace(runtime.last_seq());
        }
        let mut failed = false;
        for ((o, r), c) in outcomes.into_iter().zip(replies).zip(consumed) {
            match (&o, c) {
                (Outcome::Failed(_), _) => failed = true,
                (_, Some((source, seq))) => {
                    applied.insert(source, seq);
                }
                _ => {}
            }
            r(o);
        }
        if failed {
            // The runtime rebuilt its state from the log; so must we.
            applied = load_applied(&store)?;
        }
    }
    tracing::info!(service, last_seq = runtime.last_seq(), "service stopping");
    runtime.snapshot();
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(6), t).await;
    }
    client.flush().await.ok();
    Ok(())
}

/// Foreign events handed to the processing loop before the oldest of them
/// is committed (bounded by the consumer's `max_ack_pending` too).
const INBOX_WINDOW: usize = 512;

fn inbox_key(source: &str) -> String {
    format!("inbox:{source}")
}

fn internal<C>(command: C, what: &str) -> Pending<C> {
    Pending {
        command: Some(command),
        meta: EventMeta {
            block: 0,
            causation: Some(format!("internal:{what}")),
            correlation: format!("internal:{what}"),
            trace: telemetry::current_trace_context(),
        },
        dedup: None,
        checkpoint: None,
        journal: None,
    }
}

fn to_reply<R: Serialize + std::fmt::Display>(o: Outcome<R>) -> Reply {
    match o {
        Outcome::Accepted {
            block,
            first_seq,
            last_seq,
            events,
        } => Reply::Accepted {
            block,
            first_seq,
            last_seq,
            events,
        },
        Outcome::Rejected(r) => rejected(&r),
        Outcome::Duplicate {
            block,
            first_seq,
            last_seq,
        } => Reply::Rejected {
            code: ALREADY_PROCESSED.into(),
            message: "a command with this id was already applied".into(),
            detail: serde_json::json!({"block": block, "first_seq": first_seq, "last_seq": last_seq}),
        },
        Outcome::Failed(message) => Reply::Failed { message },
    }
}

/// A rejection's code is its variant name (serde's external tagging).
pub fn rejected<R: Serialize + std::fmt::Display>(r: &R) -> Reply {
    let (code, detail) = rejection_parts(r);
    Reply::Rejected {
        code,
        message: r.to_string(),
        detail,
    }
}

/// A rejection's code (its variant name) and detail (the variant's fields),
/// the one place that reads them off serde's external tagging: replies and
/// the command journal both use it.
pub fn rejection_parts<R: Serialize>(r: &R) -> (String, serde_json::Value) {
    let v = serde_json::to_value(r).unwrap_or(serde_json::Value::Null);
    match v {
        serde_json::Value::String(s) => (s, serde_json::Value::Null),
        serde_json::Value::Object(m) if m.len() == 1 => {
            let (k, d) = m.into_iter().next().expect("one entry");
            (k, d)
        }
        v => ("Rejected".to_string(), v),
    }
}

fn shell_rejection(code: &str, message: String) -> Reply {
    Reply::Rejected {
        code: code.into(),
        message,
        detail: serde_json::Value::Null,
    }
}

fn answer_query<S: Service>(
    runtime: &Runtime<S::Core>,
    published: u64,
    refused: u64,
    name: &str,
    args: &serde_json::Value,
) -> QueryReply {
    if name == "status" {
        return QueryReply::Ok(serde_json::json!({
            "service": <S::Core as Aggregate>::SERVICE,
            "last_seq": runtime.last_seq(),
            "published_seq": published,
            "block": runtime.state().block(),
            "state_digest": digest_hex(&runtime.state().digest()),
            "refused_events": refused,
        }));
    }
    match S::query(runtime.state(), name, args) {
        Ok(v) => QueryReply::Ok(v),
        Err(e) => QueryReply::Error(e),
    }
}

/// Checks size and parses the signed envelope of a command (no signature
/// check yet).
fn parse_signed(payload: &[u8]) -> Result<Signed, Reply> {
    if payload.len() > MAX_COMMAND_BYTES {
        return Err(shell_rejection(
            "Oversized",
            format!(
                "command of {} bytes exceeds {MAX_COMMAND_BYTES}",
                payload.len()
            ),
        ));
    }
    Signed::from_bytes(payload).map_err(|e| shell_rejection(signature_code(&e), e.to_string()))
}

/// Parses the body of a command whose signature has been verified and turns
/// it into a pending core command (what `Signed::open` does after its own
/// check).
fn admit_verified<S: Service>(
    signed: &Signed,
    is_service: &ServiceKeys,
) -> Result<(Pending<Cmd<S>>, String), Reply> {
    let body: CommandBody<S::Wire> = serde_json::from_str(&signed.body).map_err(|_| {
        let e = keys::SignatureError::Malformed;
        shell_rejection(signature_code(&e), e.to_string())
    })?;
    if body.id.is_empty() || body.id.len() > 128 || body.client.len() > 128 {
        return Err(shell_rejection(
            "Malformed",
            "command id must be 1..=128 bytes, client at most 128".into(),
        ));
    }
    let caller = match is_service {
        Some(trusted) if trusted.contains(&signed.signer) => Caller::Service(signed.signer),
        Some(_) => {
            return Err(shell_rejection(
                "BadOrigin",
                format!("{} is not a trusted service key", signed.signer),
            ))
        }
        None => Caller::User(signed.signer),
    };
    let causation = format!("cmd:{}:{}", signed.signer, body.id);
    let mut dedup = Vec::with_capacity(40 + body.id.len());
    dedup.extend_from_slice(b"cmd/");
    dedup.extend_from_slice(&signed.signer.0);
    dedup.push(b'/');
    dedup.extend_from_slice(body.id.as_bytes());
    let command = S::admit(caller, signed.body.len() as u32, body.command);
    Ok((
        Pending {
            command: Some(command),
            meta: EventMeta {
                block: 0,
                causation: Some(causation.clone()),
                correlation: body.id.clone(),
                trace: None,
            },
            dedup: Some(dedup),
            checkpoint: None,
            journal: Some(crate::journal::Draft {
                signer: signed.signer,
                service_caller: matches!(caller, Caller::Service(_)),
                body: signed.body.clone(),
                received_ms: now_ms(),
            }),
        },
        causation,
    ))
}

/// What admitting one command off the wire gives: the pending command and
/// its causation id, or the reply refusing it.
type Admitted<S> = Result<(Pending<Cmd<S>>, String), Reply>;

/// Verifies and parses commands off the wire, each with exactly the outcome
/// it would get alone. Pure but CPU-heavy (signature checks), so it runs on
/// the blocking pool, one call per batch of messages that arrived together.
/// The signatures of a batch are checked with one randomized batch
/// verification (about twice as fast per signature as one by one); only if
/// that fails (a bad or malformed signature anywhere in the batch) are they
/// checked one by one, to refuse exactly the bad ones with their own code.
fn admit_batch<S: Service>(payloads: &[bytes::Bytes], is_service: ServiceKeys) -> Vec<Admitted<S>> {
    let parsed: Vec<Result<Signed, Reply>> = payloads.iter().map(|p| parse_signed(p)).collect();
    let candidates: Vec<(keys::AccountId, &[u8], keys::Signature)> = parsed
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|s| (s.signer, s.body.as_bytes(), s.signature))
        .collect();
    let all_valid = candidates.len() > 1 && keys::verify_batch(&candidates);
    parsed
        .into_iter()
        .map(|r| {
            let signed = r?;
            if !all_valid {
                signed
                    .verify()
                    .map_err(|e| shell_rejection(signature_code(&e), e.to_string()))?;
            }
            admit_verified::<S>(&signed, &is_service)
        })
        .collect()
}

/// What the shell makes of command payloads that arrived together off the
/// wire, exactly as the command listener admits them (size check, JSON,
/// batch then single signature checks, body, id limits, service keys):
/// for each payload the core command and its causation id, or the reply
/// refusing it. `trusted` is `Some` on a service subject. Public so the
/// wire path can be fuzzed without a NATS server (tests/tests/fuzz_decode.rs).
pub fn admit_payloads<S: Service>(
    payloads: &[bytes::Bytes],
    trusted: Option<&BTreeSet<keys::AccountId>>,
) -> Vec<Result<(Cmd<S>, String), Reply>> {
    admit_batch::<S>(payloads, trusted.map(|t| Arc::new(t.clone())))
        .into_iter()
        .map(|r| {
            r.map(|(pending, causation)| {
                let command = pending.command.expect("an admitted command");
                (command, causation)
            })
        })
        .collect()
}

fn signature_code(e: &keys::SignatureError) -> &'static str {
    match e {
        keys::SignatureError::BadSignature => "BadSignature",
        keys::SignatureError::Oversized => "Oversized",
        _ => "Malformed",
    }
}

/// Most commands taken off the subscription and verified together.
const ADMIT_BATCH: usize = 256;

async fn command_listener<S: Service>(
    client: async_nats::Client,
    mut sub: async_nats::Subscriber,
    is_service: ServiceKeys,
    tx: mpsc::Sender<Input<S::Core>>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let first = tokio::select! {
            m = sub.next() => match m { Some(m) => m, None => return },
            _ = shutdown.changed() => return,
        };
        // Take whatever else has already arrived, so its signatures are
        // checked in one batch; each batch is its own task, so batches are
        // verified in parallel on the blocking pool.
        let mut msgs = vec![first];
        while msgs.len() < ADMIT_BATCH {
            match sub.next().now_or_never() {
                Some(Some(m)) => msgs.push(m),
                _ => break,
            }
        }
        tokio::spawn(handle_commands::<S>(
            client.clone(),
            msgs,
            is_service.clone(),
            tx.clone(),
        ));
    }
}

/// Admits a batch of command messages, hands the admitted ones to the
/// service loop, and publishes every reply as soon as it is known (each
/// after its command's events are durable).
async fn handle_commands<S: Service>(
    client: async_nats::Client,
    msgs: Vec<async_nats::Message>,
    is_service: ServiceKeys,
    tx: mpsc::Sender<Input<S::Core>>,
) {
    let mut targets = Vec::with_capacity(msgs.len());
    let mut payloads = Vec::with_capacity(msgs.len());
    for msg in msgs {
        let Some(reply_to) = msg.reply.clone() else {
            continue;
        };
        let span = tracing::info_span!(
            "command",
            service = <S::Core as Aggregate>::SERVICE,
            subject = %msg.subject,
            causation = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        );
        if let Some(h) = &msg.headers {
            telemetry::set_parent_from_nats(&span, h);
        }
        targets.push((reply_to, span));
        payloads.push(msg.payload);
    }
    if targets.is_empty() {
        return;
    }
    let n = payloads.len();
    let admitted = tokio::task::spawn_blocking(move || admit_batch::<S>(&payloads, is_service))
        .await
        .unwrap_or_else(|e| {
            (0..n)
                .map(|_| {
                    Err(Reply::Failed {
                        message: e.to_string(),
                    })
                })
                .collect()
        });
    let mut waiting = futures::stream::FuturesUnordered::new();
    for ((reply_to, span), admitted) in targets.into_iter().zip(admitted) {
        match admitted {
            Err(r) => {
                {
                    let _e = span.enter();
                    if let Reply::Rejected { code, .. } = &r {
                        tracing::info!(code = %code, "command refused before decision");
                    }
                }
                publish_reply(&client, reply_to, &r, span).await;
            }
            Ok((mut pending, causation)) => {
                span.record("causation", causation.as_str());
                pending.meta.trace = span.in_scope(telemetry::current_trace_context);
                let (rtx, rrx) = oneshot::channel();
                let sent = tx
                    .send(Input::Command {
                        pending,
                        span: span.clone(),
                        reply: rtx,
                    })
                    .await;
                match sent {
                    Err(_) => {
                        let r = Reply::Failed {
                            message: "service is shutting down".into(),
                        };
                        publish_reply(&client, reply_to, &r, span).await;
                    }
                    Ok(()) => waiting.push(async move { (reply_to, span, rrx.await) }),
                }
            }
        }
    }
    while let Some((reply_to, span, r)) = waiting.next().await {
        let r = r.unwrap_or(Reply::Failed {
            message: "service is shutting down".into(),
        });
        publish_reply(&client, reply_to, &r, span).await;
    }
}

async fn publish_reply(
    client: &async_nats::Client,
    reply_to: async_nats::Subject,
    reply: &Reply,
    span: Span,
) {
    let bytes = serde_json::to_vec(reply).expect("reply json");
    let _ = client
        .publish(reply_to, bytes.into())
        .instrument(span)
        .await;
}

async fn query_listener<S: Service>(
    client: async_nats::Client,
    mut sub: async_nats::Subscriber,
    tx: mpsc::Sender<Input<S::Core>>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let msg = tokio::select! {
            m = sub.next() => match m { Some(m) => m, None => return },
            _ = shutdown.changed() => return,
        };
        let Some(reply_to) = msg.reply.clone() else {
            continue;
        };
        let name = msg
            .subject
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_owned();
        let args = if msg.payload.is_empty() {
            serde_json::Value::Null
        } else {
            match serde_json::from_slice(&msg.payload) {
                Ok(v) => v,
                Err(e) => {
                    let r = QueryReply::Error(format!("malformed query: {e}"));
                    let _ = client
                        .publish(reply_to, serde_json::to_vec(&r).expect("json").into())
                        .await;
                    continue;
                }
            }
        };
        let (rtx, rrx) = oneshot::channel();
        if tx
            .send(Input::Query {
                name,
                args,
                reply: rtx,
            })
            .await
            .is_err()
        {
            return;
        }
        let client = client.clone();
        tokio::spawn(async move {
            if let Ok(r) = rrx.await {
                let _ = client
                    .publish(reply_to, serde_json::to_vec(&r).expect("json").into())
                    .await;
            }
        });
    }
}

async fn inbox_task<S: Service>(
    inbox: Inbox,
    mut checkpoint: u64,
    tx: mpsc::Sender<Input<S::Core>>,
    mut shutdown: watch::Receiver<bool>,
    abort_before_ack: Option<u64>,
) {
    let mut backoff = Backoff::new();
    let mut reposition = false;
    let mut applied = 0u64;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let messages = match inbox.open(checkpoint, reposition).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, source = inbox.source(), "inbox open failed; retrying");
                tokio::select! { _ = backoff.wait() => continue, _ = shutdown.changed() => return }
            }
        };
        reposition = false;
        tokio::pin!(messages);
        // Deliveries are pipelined: up to INBOX_WINDOW are handed to the
        // processing loop before the oldest is done, so one group commit
        // covers many foreign events. Acks go out in order as each is done
        // (committed with its checkpoint); `last_sent` is the newest seq
        // handed over, `checkpoint` the newest acknowledged.
        let mut last_sent = checkpoint;
        let mut inflight: std::collections::VecDeque<(u64, bus::inbox::Delivery)> =
            std::collections::VecDeque::new();
        let mut dones = futures::stream::FuturesOrdered::new();
        loop {
            let room = inflight.len() < INBOX_WINDOW;
            tokio::select! {
                biased;
                _ = shutdown.changed() => return,
                r = dones.next(), if !inflight.is_empty() => {
                    let (seq, d) = inflight.pop_front().expect("one per done");
                    match r {
                        Some(Ok(Ok(()))) => {
                            checkpoint = seq;
                            applied += 1;
                            if abort_before_ack == Some(applied) {
                                tracing::error!("fault injection: aborting before ack {applied}");
                                std::process::abort();
                            }
                            let _ = d.ack().await;
                        }
                        _ => {
                            reposition = true;
                            break;
                        }
                    }
                }
                d = messages.next(), if room => {
                    let d = match d {
                        Some(Ok(d)) => d,
                        Some(Err(e)) => {
                            tracing::warn!(error = %e, source = inbox.source(), "inbox delivery failed");
                            break;
                        }
                        None => break,
                    };
                    backoff.reset();
                    match verdict(last_sent, d.stream_seq) {
                        Verdict::Duplicate => {
                            tracing::info!(
                                seq = d.stream_seq,
                                delivered = d.delivered,
                                "duplicate delivery skipped"
                            );
                            // Acked only once nothing older is in flight, so
                            // an ack never overtakes an unapplied event.
                            if inflight.is_empty() {
                                let _ = d.ack().await;
                            }
                        }
                        Verdict::Gap => {
                            tracing::warn!(last_sent, seq = d.stream_seq, "inbox gap; repositioning");
                            reposition = true;
                            break;
                        }
                        Verdict::Apply => {
                            let seq = d.stream_seq;
                            // One span per consumed event, child of the span that
                            // produced it, so an operation is one trace across
                            // services; events this causes carry this span's context.
                            let event_type = match &d.envelope {
                                Ok(e) => e.event_type.as_str(),
                                Err(_) => "refused",
                            };
                            let span = tracing::info_span!(
                                "consume",
                                service = <S::Core as Aggregate>::SERVICE,
                                source = inbox.source(),
                                event = event_type,
                                seq,
                                delivered = d.delivered,
                            );
                            if let Ok(Some(tc)) = d.envelope.as_ref().map(|e| &e.trace) {
                                telemetry::set_parent_from_trace_context(&span, tc);
                            }
                            let trace = telemetry::trace_context_of(&span);
                            let (dtx, drx) = oneshot::channel();
                            if tx
                                .send(Input::Foreign {
                                    source: inbox.source().to_owned(),
                                    seq,
                                    event: d.envelope.clone(),
                                    trace,
                                    done: dtx,
                                })
                                .instrument(span.clone())
                                .await
                                .is_err()
                            {
                                return;
                            }
                            last_sent = seq;
                            inflight.push_back((seq, d));
                            dones.push_back(drx.instrument(span));
                        }
                    }
                }
            }
        }
        tokio::select! { _ = backoff.wait() => {}, _ = shutdown.changed() => return }
    }
}

/// Why a service shell could not start or keep running. Domain rejections
/// never end up here: they are replies.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    #[error(transparent)]
    Bus(#[from] bus::BusError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Runtime(#[from] crate::RuntimeError),
    #[error("nats: {0}")]
    Nats(String),
    #[error("start-up: {0}")]
    Startup(String),
}

/// Refusals before any decision (docs/security.md). Each test names the
/// guard it pins; removing that guard makes it fail.
#[cfg(test)]
mod security_tests {
    use super::*;
    use crate::follower::{FollowerService, Name};
    use keys::Keypair;

    struct T;
    impl Name for T {
        const NAME: &'static str = "t";
    }
    type Svc = FollowerService<T>;

    fn key(uri: &str) -> Keypair {
        Keypair::from_uri(uri).unwrap()
    }

    fn sealed(k: &Keypair, id: &str) -> Signed {
        Signed::seal(
            k,
            &CommandBody {
                client: "t".into(),
                id: id.into(),
                command: serde_json::json!({"Transfer": {"amount": 5}}),
            },
        )
        .unwrap()
    }

    fn wire(s: &Signed) -> bytes::Bytes {
        serde_json::to_vec(s).unwrap().into()
    }

    fn code(r: &Admitted<Svc>) -> String {
        match r {
            Ok(_) => "admitted".into(),
            Err(Reply::Rejected { code, .. }) => code.clone(),
            Err(other) => format!("{other:?}"),
        }
    }

    /// Each forgery travels in a batch with a good command, so the batch
    /// verification fails and the one-by-one fallback must refuse exactly
    /// the forged one (pins `if !all_valid { signed.verify() ... }` in
    /// `admit_batch`); alone, it pins the single-command path.
    #[test]
    fn forged_signatures_are_refused_alone_and_in_a_batch() {
        let alice = key("//Alice");
        let good = sealed(&alice, "good");
        let mut sig_flipped = sealed(&alice, "sig");
        sig_flipped.signature.0[5] ^= 0x01;
        let mut body_flipped = sealed(&alice, "body");
        body_flipped.body = body_flipped.body.replace("\"amount\":5", "\"amount\":6");
        let mut wrong_signer = sealed(&alice, "signer");
        wrong_signer.signer = key("//Bob").public();
        for forged in [sig_flipped, body_flipped, wrong_signer] {
            let alone = admit_batch::<Svc>(&[wire(&forged)], None);
            assert_eq!(code(&alone[0]), "BadSignature");
            let batch = admit_batch::<Svc>(&[wire(&good), wire(&forged), wire(&good)], None);
            let codes: Vec<String> = batch.iter().map(code).collect();
            assert_eq!(codes, ["admitted", "BadSignature", "admitted"]);
        }
    }

    /// Pins the size check at the top of `parse_signed` (and
    /// `Signed::from_bytes`'s): the payload is refused unread.
    #[test]
    fn oversized_payloads_are_refused_unread() {
        let big = bytes::Bytes::from(vec![b'{'; MAX_COMMAND_BYTES + 1]);
        assert_eq!(code(&admit_batch::<Svc>(&[big], None)[0]), "Oversized");
        // A validly signed command whose body makes it too large.
        let alice = key("//Alice");
        let huge = Signed::sign(&alice, "x".repeat(MAX_COMMAND_BYTES));
        let bytes: bytes::Bytes = serde_json::to_vec(&huge).unwrap().into();
        assert_eq!(code(&admit_batch::<Svc>(&[bytes], None)[0]), "Oversized");
    }

    /// Pins `Some(_) => BadOrigin` in `admit_verified`: a valid signature
    /// by a key that is not a trusted service is refused on the service
    /// subject; the trusted key is admitted as `Caller::Service`.
    #[test]
    fn service_subject_takes_only_trusted_keys() {
        let svc = key("//AmmService");
        let trusted: ServiceKeys = Some(Arc::new([svc.public()].into_iter().collect()));
        let by_user = admit_batch::<Svc>(&[wire(&sealed(&key("//Alice"), "a"))], trusted.clone());
        assert_eq!(code(&by_user[0]), "BadOrigin");
        let by_svc = admit_batch::<Svc>(&[wire(&sealed(&svc, "a"))], trusted);
        assert_eq!(code(&by_svc[0]), "admitted");
    }

    /// The idempotency key is the signer and the command id: the same signed
    /// command replayed gets the same key (so the runtime answers
    /// `AlreadyProcessed`, see `runtime`'s tests and
    /// tests/tests/ledger_rejections.rs), and another signer's command with
    /// the same id cannot pre-empt it. Pins the `dedup` bytes in
    /// `admit_verified`.
    #[test]
    fn replay_key_binds_signer_and_id() {
        let alice = sealed(&key("//Alice"), "same-id");
        let bob = sealed(&key("//Bob"), "same-id");
        let dedup = |s: &Signed| match admit_batch::<Svc>(&[wire(s)], None).remove(0) {
            Ok((p, _)) => p.dedup.expect("user commands carry a dedup key"),
            Err(r) => panic!("{r:?}"),
        };
        assert_eq!(dedup(&alice), dedup(&alice.clone()));
        assert_ne!(dedup(&alice), dedup(&bob));
    }

    /// Empty or oversized command ids are refused (they key idempotency).
    #[test]
    fn command_ids_are_bounded() {
        let alice = key("//Alice");
        for id in [String::new(), "i".repeat(129)] {
            let s = sealed(&alice, &id);
            assert_eq!(code(&admit_batch::<Svc>(&[wire(&s)], None)[0]), "Malformed");
        }
    }
}
