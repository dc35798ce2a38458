//! `taonet-bench`: what the ledger costs over its plumbing, in one run.
//!
//! Four measurements, each printed as a markdown table next to its anchor:
//!
//! 1. anchor: raw JetStream async publish (file storage, R1) of messages the
//!    size of a ledger envelope, with a pipelined ack window like the outbox;
//! 2. the ledger end to end: pre-signed transfers through NATS into
//!    `ledger::run` (in process) on a sled log, acknowledged after flush,
//!    with K requests in flight; plus the time until the outbox has
//!    published everything;
//! 3. anchor: raw sled iteration over the ledger's log (no decoding);
//! 4. replay of that log, and of a log of a million events built without
//!    NATS by driving `Runtime::<Ledger>::process` directly.
//!
//! Module map: `main` (orchestration, tables), `keys_and_genesis`,
//! `publish_anchor`, `end_to_end`, `log_build`, `iterate` (anchors and
//! replay), `cpu` (/proc accounting so a loaded machine shows).

use anyhow::{anyhow, bail, Context, Result};
use async_nats::jetstream::{self, stream};
use bytes::Bytes;
use clap::Parser;
use envelope::{codec, Envelope, EventMeta};
use keys::{AccountId, CommandBody, Junction, Keypair, Signed};
use ledger_core::{Clock, Command, CommandBody as LedgerCmd, Genesis, Ledger, LedgerEvent, Origin};
use service_kit::{Outcome, Pending, Runtime, ServiceConfig};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::sled_store::SledStore;
use store::EventStore;
use tokio::sync::watch;

const TAO: u64 = 1_000_000_000;
/// Outbox-like ack window for the publish anchor (bus::outbox uses 4096).
const WINDOW: usize = 4096;

#[derive(Parser, Debug)]
#[command(about = "taonet ledger benchmark: end-to-end transfers and replay against their anchors")]
struct Args {
    /// Shorter run (fewer transfers and a smaller replay log).
    #[arg(long)]
    quick: bool,
    /// Signed transfers per end-to-end run (default 50_000; quick 20_000).
    #[arg(long)]
    transfers: Option<usize>,
    /// Requests in flight, one end-to-end run each (default 64,256,1024).
    #[arg(long, value_delimiter = ',')]
    inflight: Option<Vec<usize>>,
    /// Funded sender accounts `//bench/<i>` (transfers go round-robin i -> i+1).
    #[arg(long, default_value_t = 1000)]
    senders: usize,
    /// Events in the replay log built without NATS (default 1_000_000; quick 200_000).
    #[arg(long)]
    replay_events: Option<u64>,
    /// Messages for the JetStream publish anchor (default 100_000; quick 30_000).
    #[arg(long)]
    publish_msgs: Option<usize>,
    /// Commands per `Runtime::process` call when building the replay log.
    #[arg(long, default_value_t = 10_000)]
    build_batch: usize,
    /// Keep the replay log here and reuse it when it already exists
    /// (profiling replay without rebuilding the log).
    #[arg(long)]
    replay_log: Option<std::path::PathBuf>,
    /// Give the transfers of the replay log their idempotency keys, as the
    /// shell does (about twice the build time; the event log is the same).
    #[arg(long)]
    build_dedup: bool,
    /// Also write the tables to this file.
    #[arg(long)]
    markdown: Option<std::path::PathBuf>,
    /// Skip parts: any of `publish,e2e,replay,stake` (for profiling one part).
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
    /// Offered stake rates (stakes/s), one open-loop run each.
    #[arg(long, value_delimiter = ',')]
    stake_rates: Option<Vec<usize>>,
    /// Stakes per stake run (default 10_000; quick 3_000).
    #[arg(long)]
    stakes: Option<usize>,
}

mod stake;

fn main() -> Result<()> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(args))
}

struct Report {
    sections: Vec<String>,
}

impl Report {
    fn add(&mut self, s: String) {
        println!("{s}");
        self.sections.push(s);
    }
}

async fn run(args: Args) -> Result<()> {
    let n = args
        .transfers
        .unwrap_or(if args.quick { 20_000 } else { 50_000 });
    let ks = args.inflight.clone().unwrap_or_else(|| vec![64, 256, 1024]);
    let replay_target = args
        .replay_events
        .unwrap_or(if args.quick { 200_000 } else { 1_000_000 });
    let publish_n = args
        .publish_msgs
        .unwrap_or(if args.quick { 30_000 } else { 100_000 });
    let skip = |what: &str| args.skip.iter().any(|s| s == what);
    let total = Instant::now();
    let mut report = Report {
        sections: Vec::new(),
    };

    eprintln!("# deriving {} sender keys", args.senders);
    let keys = keys_and_genesis::senders(args.senders)?;
    let admin = Keypair::from_uri("//bench/admin")?;
    let genesis = keys_and_genesis::genesis(&keys, &admin);

    let nats = testkit::nats::NatsServer::start();
    let url = nats.url();
    let client = bus::connect(&url, "taonet-bench").await?;
    // JetStream answers shortly after the listener is up.
    let js = jetstream::new(client.clone());
    wait_jetstream(&js).await?;

    let env_len = keys_and_genesis::typical_envelope_len(&keys);
    report.add(format!(
        "machine load before the run: `{}`\n",
        cpu::uptime().trim()
    ));

    if !skip("publish") {
        eprintln!("# anchor: JetStream publish, {publish_n} x {env_len} B");
        let plain = publish_anchor::run(&js, "BENCH_RAW", publish_n, env_len, false).await?;
        let headed = publish_anchor::run(&js, "BENCH_HDR", publish_n, env_len, true).await?;
        report.add(publish_anchor::table(publish_n, env_len, &plain, &headed));
    }

    let mut last_log: Option<(tempfile::TempDir, std::path::PathBuf)> = None;
    if !skip("e2e") {
        eprintln!("# signing {n} transfers");
        let t = Instant::now();
        let payloads = Arc::new(keys_and_genesis::sign_transfers(&keys, n)?);
        let sign_s = t.elapsed().as_secs_f64();
        let payload_len = payloads.iter().map(|p| p.len()).sum::<usize>() / payloads.len();
        let mut rows = Vec::new();
        for &k in &ks {
            eprintln!("# end to end, K = {k}");
            let (r, dir, path) = end_to_end::run(&url, &genesis, payloads.clone(), k).await?;
            eprintln!("#   {:.0} transfers/s", r.throughput());
            rows.push((k, r));
            last_log = Some((dir, path));
        }
        report.add(end_to_end::table(
            n,
            args.senders,
            payload_len,
            sign_s,
            &rows,
        ));
    }

    if let Some((_dir, path)) = &last_log {
        eprintln!("# iterate and replay the end-to-end log");
        let r = iterate::measure(path)?;
        report.add(iterate::table(
            "Raw sled iteration and replay over the end-to-end log (last K)",
            &r,
        ));
    }

    if !skip("stake") {
        let rates = args
            .stake_rates
            .clone()
            .unwrap_or_else(|| vec![500, 1000, 2000]);
        let m = args
            .stakes
            .unwrap_or(if args.quick { 3_000 } else { 10_000 });
        let mut rows = Vec::new();
        for &rate in &rates {
            eprintln!("# stakes end to end at {rate}/s");
            let r = stake::run(&url, &keys, &admin, rate, m).await?;
            eprintln!(
                "#   p50 {:.1} ms, p99 {:.1} ms",
                f64::from(r.lat_us.get(r.lat_us.len() / 2).copied().unwrap_or(0)) / 1000.0,
                f64::from(
                    r.lat_us
                        .get(r.lat_us.len() * 99 / 100)
                        .copied()
                        .unwrap_or(0)
                ) / 1000.0
            );
            rows.push(r);
        }
        report.add(stake::table(&rows));
    }

    if !skip("replay") {
        let dir = tempfile::tempdir()?;
        let reuse = args.replay_log.as_ref().is_some_and(|p| p.exists());
        let path = args
            .replay_log
            .clone()
            .unwrap_or_else(|| dir.path().join("ledger"));
        let built = if reuse {
            eprintln!("# reusing the log at {}", path.display());
            log_build::Built {
                events: SledStore::open(&path)?.last_seq()?,
                transfers: 0,
                blocks: 0,
                seconds: f64::NAN,
            }
        } else {
            eprintln!("# building a {replay_target}-event log without NATS");
            log_build::build(
                &path,
                &keys,
                &admin,
                &genesis,
                replay_target,
                args.build_batch,
                args.build_dedup,
            )?
        };
        eprintln!(
            "#   {} events in {:.1} s ({:.0} events/s through Runtime::process)",
            built.events,
            built.seconds,
            built.events as f64 / built.seconds
        );
        let r = iterate::measure(&path)?;
        let mut s = iterate::table(
            &format!(
                "Raw sled iteration and replay over a {}-event log",
                r.events
            ),
            &r,
        );
        s.push_str(&format!(
            "\nThe log was built in {:.1} s by `Runtime::<Ledger>::process` in batches of {} \
             commands ({:.0} events/s, decide + envelope + one sled append and flush per batch); \
             {} transfers ({}), {} `AdvanceBlocks {{ n: 1 }}` commands (manual clock).\n",
            built.seconds,
            args.build_batch,
            built.events as f64 / built.seconds,
            built.transfers,
            if args.build_dedup {
                "with idempotency keys"
            } else {
                "without idempotency keys, which replay never reads; `--build-dedup` adds them"
            },
            built.blocks,
        ));
        report.add(s);
    }

    report.add(format!(
        "Total bench runtime: {:.0} s. Machine load after the run: `{}`\n",
        total.elapsed().as_secs_f64(),
        cpu::uptime().trim()
    ));
    drop(client);
    drop(nats);
    if let Some(out) = &args.markdown {
        std::fs::write(out, report.sections.join("\n"))?;
    }
    Ok(())
}

async fn wait_jetstream(js: &jetstream::Context) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // (`query_account` does not parse nats-server 2.9's answer; creating a
        // throwaway stream is the readiness check instead.)
        let probe = js
            .get_or_create_stream(stream::Config {
                name: "BENCH_READY".into(),
                subjects: vec!["bench.ready".into()],
                storage: stream::StorageType::Memory,
                ..Default::default()
            })
            .await;
        match probe {
            Ok(_) => {
                let _ = js.delete_stream("BENCH_READY").await;
                return Ok(());
            }
            Err(e) if Instant::now() > deadline => bail!("JetStream not ready: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

fn fmt_rate(x: f64) -> String {
    let s = format!("{:.0}", x);
    let bytes = s.as_bytes();
    let mut out = String::new();
    for (i, c) in bytes.iter().enumerate() {
        if i > 0 && (bytes.len() - i) % 3 == 0 {
            out.push('\u{202f}');
        }
        out.push(*c as char);
    }
    out
}

mod keys_and_genesis {
    use super::*;

    /// `//bench/<i>`: one hard derivation of the dev phrase, then a soft
    /// junction per account (the same keys `Keypair::from_uri` gives, without
    /// re-running the phrase KDF a thousand times).
    pub fn senders(n: usize) -> Result<Vec<Keypair>> {
        let base = Keypair::from_uri("//bench")?;
        Ok((0..n)
            .map(|i| base.derive(&[Junction::new(&i.to_string(), false)]))
            .collect())
    }

    /// Every sender funded with 10_000 TAO; manual clock so no block timer
    /// interleaves with the measured traffic; default fees.
    pub fn genesis(keys: &[Keypair], admin: &Keypair) -> Genesis {
        Genesis {
            balances: keys.iter().map(|k| (k.public(), 10_000 * TAO)).collect(),
            admin: Some(admin.public()),
            clock: Clock::Manual,
            ..Genesis::default()
        }
    }

    pub fn transfer_body(keys: &[Keypair], j: usize) -> (usize, LedgerCmd) {
        let s = j % keys.len();
        let to = keys[(s + 1) % keys.len()].public();
        (
            s,
            LedgerCmd::Transfer {
                to,
                amount: TAO,
                keep_alive: true,
            },
        )
    }

    pub fn command_id(j: usize) -> String {
        format!("bench-{j}")
    }

    /// Transfer j: sender j mod senders pays the next account 1 TAO.
    pub fn sign_transfers(keys: &[Keypair], n: usize) -> Result<Vec<Bytes>> {
        let threads = std::thread::available_parallelism()
            .map(|p| p.get())
            .unwrap_or(1);
        let chunk = n.div_ceil(threads);
        let parts: Vec<Result<Vec<Bytes>>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    s.spawn(move || {
                        (t * chunk..((t + 1) * chunk).min(n))
                            .map(|j| {
                                let (s, command) = transfer_body(keys, j);
                                let body = CommandBody {
                                    client: "taonet-bench".to_owned(),
                                    id: command_id(j),
                                    command,
                                };
                                let signed = Signed::seal(&keys[s], &body)
                                    .map_err(|e| anyhow!("seal: {e}"))?;
                                Ok(Bytes::from(
                                    signed.to_bytes().map_err(|e| anyhow!("encode: {e}"))?,
                                ))
                            })
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("signer thread"))
                .collect()
        });
        let mut out = Vec::with_capacity(n);
        for p in parts {
            out.extend(p?);
        }
        Ok(out)
    }

    /// Size of the encoded envelope of a transfer as the shell writes it
    /// (causation `cmd:<ss58>:<id>`, correlation = command id, no trace).
    pub fn typical_envelope_len(keys: &[Keypair]) -> usize {
        let (s, _) = transfer_body(keys, 12_345);
        let ev = LedgerEvent::Transferred(ledger_core::event::Transferred {
            from: keys[s].public(),
            to: keys[(s + 1) % keys.len()].public(),
            amount: TAO,
            fee: 100_300,
        });
        let env = Envelope::wrap("ledger", 12_345, &ev, &meta(&keys[s].public(), 12_345));
        codec::encode_envelope(&env).len()
    }

    pub fn meta(signer: &AccountId, j: usize) -> EventMeta {
        let id = command_id(j);
        EventMeta {
            block: 0,
            causation: Some(format!("cmd:{signer}:{id}")),
            correlation: id,
            trace: None,
        }
    }

    /// The shell's idempotency key for a command.
    pub fn dedup_key(signer: &AccountId, j: usize) -> Vec<u8> {
        let id = command_id(j);
        let mut k = Vec::with_capacity(40 + id.len());
        k.extend_from_slice(b"cmd/");
        k.extend_from_slice(&signer.0);
        k.push(b'/');
        k.extend_from_slice(id.as_bytes());
        k
    }
}

mod publish_anchor {
    use super::*;
    use async_nats::HeaderMap;

    pub struct Result_ {
        pub seconds: f64,
    }

    /// N messages into a fresh file-storage R1 stream, acks awaited with a
    /// window of 4096 like `bus::outbox`. With `headers`, each message also
    /// carries what the outbox sends (`Nats-Msg-Id`, expected last sequence,
    /// `Taonet-Seq`), so the server's duplicate and sequence checks run.
    pub async fn run(
        js: &jetstream::Context,
        name: &str,
        n: usize,
        size: usize,
        headers: bool,
    ) -> Result<Result_> {
        let subject = format!("bench.{}.x", name.to_lowercase());
        let _ = js.delete_stream(name).await;
        js.create_stream(stream::Config {
            name: name.to_owned(),
            subjects: vec![format!("bench.{}.>", name.to_lowercase())],
            storage: stream::StorageType::File,
            num_replicas: 1,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow!("create stream: {e}"))?;
        let payload = Bytes::from(vec![0x5au8; size]);
        let mut pending = VecDeque::with_capacity(WINDOW);
        let started = Instant::now();
        for i in 0..n {
            let fut = if headers {
                let seq = i as u64 + 1;
                let mut h = HeaderMap::new();
                h.insert(async_nats::header::NATS_MESSAGE_ID, uuid_like(seq).as_str());
                h.insert(
                    async_nats::header::NATS_EXPECTED_LAST_SEQUENCE,
                    (seq - 1).to_string().as_str(),
                );
                h.insert(bus::subjects::SEQ_HEADER, seq.to_string().as_str());
                js.publish_with_headers(subject.clone(), h, payload.clone())
                    .await
            } else {
                js.publish(subject.clone(), payload.clone()).await
            }
            .map_err(|e| anyhow!("publish: {e}"))?;
            pending.push_back(fut);
            if pending.len() >= WINDOW {
                pending
                    .pop_front()
                    .expect("non-empty")
                    .await
                    .map_err(|e| anyhow!("ack: {e}"))?;
            }
        }
        while let Some(f) = pending.pop_front() {
            f.await.map_err(|e| anyhow!("ack: {e}"))?;
        }
        let seconds = started.elapsed().as_secs_f64();
        let _ = js.delete_stream(name).await;
        Ok(Result_ { seconds })
    }

    fn uuid_like(seq: u64) -> String {
        format!("0198c0de-0000-7000-8000-{seq:012x}")
    }

    pub fn table(n: usize, size: usize, plain: &Result_, headed: &Result_) -> String {
        format!(
            "### 1. Anchor: raw JetStream async publish\n\n\
             {n} messages of {size} B (the encoded envelope of a ledger transfer) into a fresh \
             stream, file storage, R1, acks pipelined with a window of {WINDOW} (as `bus::outbox`). \
             Durability: JetStream file store with nats-server 2.9's default sync \
             (`sync_interval` 2 min: written to the OS on ack, fsync'd every 2 minutes).\n\n\
             | variant | msgs/s | wall |\n|---|---:|---:|\n\
             | no headers | {} | {:.2} s |\n\
             | outbox headers (`Nats-Msg-Id`, `Nats-Expected-Last-Sequence`, `Taonet-Seq`) | {} | {:.2} s |\n",
            fmt_rate(n as f64 / plain.seconds),
            plain.seconds,
            fmt_rate(n as f64 / headed.seconds),
            headed.seconds,
        )
    }
}

mod end_to_end {
    use super::*;

    pub struct E2e {
        pub n: usize,
        pub wall: f64,
        pub outbox: f64,
        pub lat_us: Vec<u32>,
        pub failures: usize,
        pub cpu: cpu::Sample,
    }

    impl E2e {
        pub fn throughput(&self) -> f64 {
            self.n as f64 / self.wall
        }
        fn pct(&self, p: f64) -> f64 {
            if self.lat_us.is_empty() {
                return 0.0;
            }
            let i = ((self.lat_us.len() as f64 - 1.0) * p).round() as usize;
            self.lat_us[i] as f64 / 1000.0
        }
    }

    async fn status(client: &async_nats::Client) -> Result<serde_json::Value> {
        let opts = bus::rpc::CallOptions {
            attempts: 1,
            timeout: Duration::from_secs(5),
            ..Default::default()
        };
        bus::rpc::query(
            client,
            &bus::subjects::query("ledger", "status"),
            &serde_json::Value::Null,
            &opts,
        )
        .await
        .map_err(|e| anyhow!("status: {e}"))
    }

    /// One run on a fresh log: start the ledger, send every payload with `k`
    /// requests in flight, wait for the outbox, stop the ledger. Returns the
    /// figures and the (closed) log's directory.
    pub async fn run(
        url: &str,
        genesis: &Genesis,
        payloads: Arc<Vec<Bytes>>,
        k: usize,
    ) -> Result<(E2e, tempfile::TempDir, std::path::PathBuf)> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("ledger");
        let store: Arc<dyn EventStore> = Arc::new(SledStore::open(&path)?);
        let cfg = ServiceConfig::new(url, dir.path());
        let (sd_tx, sd_rx) = watch::channel(false);
        let service = tokio::spawn(ledger::run(cfg, store.clone(), genesis.clone(), sd_rx));
        let client = bus::connect(url, "taonet-bench-client").await?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let base = loop {
            match status(&client).await {
                Ok(v) if v["published_seq"] == v["last_seq"] => {
                    break v["last_seq"].as_u64().unwrap_or(0)
                }
                _ if Instant::now() > deadline => bail!("ledger not ready"),
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };

        let n = payloads.len();
        let subject = async_nats::Subject::from(bus::subjects::command("ledger", "transfer"));
        let next = Arc::new(AtomicUsize::new(0));
        let cpu0 = cpu::sample();
        let started = Instant::now();
        let mut workers = Vec::with_capacity(k);
        for _ in 0..k {
            let client = client.clone();
            let payloads = payloads.clone();
            let next = next.clone();
            let subject = subject.clone();
            workers.push(tokio::spawn(async move {
                let mut lat = Vec::with_capacity(n / k + 1);
                let mut failures = 0usize;
                let mut first_failure = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let t = Instant::now();
                    let r = client.request(subject.clone(), payloads[i].clone()).await;
                    lat.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    match r {
                        // The reply is `{"status":"accepted",...}` (internally
                        // tagged); checking the prefix keeps client CPU low.
                        Ok(m) if m.payload.starts_with(br#"{"status":"accepted""#) => {}
                        Ok(m) => {
                            failures += 1;
                            first_failure.get_or_insert_with(|| {
                                String::from_utf8_lossy(&m.payload).into_owned()
                            });
                        }
                        Err(e) => {
                            failures += 1;
                            first_failure.get_or_insert_with(|| e.to_string());
                        }
                    }
                }
                (lat, failures, first_failure)
            }));
        }
        let mut lat_us = Vec::with_capacity(n);
        let mut failures = 0;
        let mut first_failure = None;
        for w in workers {
            let (l, f, ff) = w.await?;
            lat_us.extend(l);
            failures += f;
            if first_failure.is_none() {
                first_failure = ff;
            }
        }
        let wall = started.elapsed().as_secs_f64();
        let cpu = cpu::sample().since(&cpu0);
        let expected = base + (n - failures) as u64;
        let outbox = loop {
            let v = status(&client).await?;
            let last = v["last_seq"].as_u64().unwrap_or(0);
            let published = v["published_seq"].as_u64().unwrap_or(0);
            if last >= expected && published == last {
                break started.elapsed().as_secs_f64();
            }
            if started.elapsed() > Duration::from_secs(300) {
                bail!("outbox did not catch up: {v}");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        sd_tx.send_replace(true);
        service
            .await
            .context("ledger task")?
            .map_err(|e| anyhow!("ledger: {e}"))?;
        drop(store);
        // The next run starts a fresh log, so its stream must be fresh too.
        let js = jetstream::new(client.clone());
        js.delete_stream(bus::subjects::stream("ledger"))
            .await
            .map_err(|e| anyhow!("delete stream: {e}"))?;
        lat_us.sort_unstable();
        if let Some(f) = &first_failure {
            eprintln!("#   {failures} failed; first: {f}");
        }
        Ok((
            E2e {
                n,
                wall,
                outbox,
                lat_us,
                failures,
                cpu,
            },
            dir,
            path,
        ))
    }

    pub fn table(
        n: usize,
        senders: usize,
        payload_len: usize,
        sign_s: f64,
        rows: &[(usize, E2e)],
    ) -> String {
        let mut s = format!(
            "### 2. Ledger end to end: signed transfers through NATS\n\n\
             {n} pre-signed `Transfer`s (signing excluded: {:.1} s on the client, {payload_len} B each on \
             the wire) from {senders} funded accounts `//bench/<i>` (i pays i+1, round robin, so no \
             single hot account), sent as NATS requests with K in flight to `ledger::run` in this \
             process (tokio multi-thread) on a fresh sled log. Wall time from first send to last reply. \
             Durability: a reply is sent only after the batch's events are appended and `sled::Db::flush` \
             returned (sync_file_range, not fsync), one flush per group commit; the outbox then publishes to \
             JetStream (file storage, R1, nats-server 2.9 default `sync_interval` 2 min).\n\n\
             | K in flight | transfers/s | wall | p50 | p90 | p99 | outbox done (published_seq = last_seq) | failed | CPU busy (machine) | CPU/transfer: bench process (ledger + clients) | CPU/transfer: nats-server |\n\
             |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
            sign_s
        );
        for (k, r) in rows {
            s.push_str(&format!(
                "| {k} | {} | {:.2} s | {:.1} ms | {:.1} ms | {:.1} ms | {:.2} s after first send ({:+.2} s after last reply) | {} | {:.0} % | {:.0} µs | {:.0} µs |\n",
                fmt_rate(r.throughput()),
                r.wall,
                r.pct(0.50),
                r.pct(0.90),
                r.pct(0.99),
                r.outbox,
                r.outbox - r.wall,
                r.failures,
                r.cpu.busy_percent(),
                r.cpu.own_seconds() * 1e6 / r.n as f64,
                r.cpu.nats_seconds() * 1e6 / r.n as f64,
            ));
        }
        s
    }
}

mod log_build {
    use super::*;

    pub struct Built {
        pub events: u64,
        pub transfers: u64,
        pub blocks: u64,
        pub seconds: f64,
    }

    fn pending(command: Command, meta: EventMeta, dedup: Option<Vec<u8>>) -> Pending<Command> {
        Pending {
            command: Some(command),
            meta,
            dedup,
            checkpoint: None,
            journal: None,
        }
    }

    /// A ledger log of at least `target` events written by the real runtime:
    /// genesis, then batches of one `AdvanceBlocks { n: 1 }` plus `batch`
    /// transfers with their idempotency keys, as the shell would admit them.
    pub fn build(
        path: &std::path::Path,
        keys: &[Keypair],
        admin: &Keypair,
        genesis: &Genesis,
        target: u64,
        batch: usize,
        dedup: bool,
    ) -> Result<Built> {
        let started = Instant::now();
        let store: Arc<dyn EventStore> = Arc::new(SledStore::open(path)?);
        let mut rt = Runtime::<Ledger>::open(store, 0)?;
        let publics: Vec<AccountId> = keys.iter().map(|k| k.public()).collect();
        let internal = EventMeta {
            block: 0,
            causation: Some("internal:start".into()),
            correlation: "internal:start".into(),
            trace: None,
        };
        check(rt.process(vec![pending(
            Command::new(Origin::Clock, LedgerCmd::ApplyGenesis(genesis.clone())),
            internal,
            None,
        )]))?;
        let (mut transfers, mut blocks) = (0u64, 0u64);
        let mut j = 0usize;
        let mut ts = 1_700_000_000_000u64;
        while rt.last_seq() < target {
            let left = (target - rt.last_seq()) as usize;
            let mut items = Vec::with_capacity(batch + 1);
            items.push(pending(
                Command::new(
                    Origin::Signed(admin.public()),
                    LedgerCmd::AdvanceBlocks {
                        n: 1,
                        timestamp_ms: ts,
                        block_time_ms: 12_000,
                    },
                ),
                keys_and_genesis::meta(&admin.public(), j),
                None,
            ));
            ts += 12_000;
            blocks += 1;
            for _ in 0..batch.min(left) {
                let (s, body) = keys_and_genesis::transfer_body(keys, j);
                let who = publics[s];
                items.push(pending(
                    Command {
                        origin: Origin::Signed(who),
                        encoded_len: 330,
                        body,
                    },
                    keys_and_genesis::meta(&who, j),
                    dedup.then(|| keys_and_genesis::dedup_key(&who, j)),
                ));
                j += 1;
                transfers += 1;
            }
            check(rt.process(items))?;
        }
        Ok(Built {
            events: rt.last_seq(),
            transfers,
            blocks,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    fn check(outcomes: Vec<Outcome<ledger_core::Rejection>>) -> Result<()> {
        for o in outcomes {
            match o {
                Outcome::Accepted { .. } => {}
                other => bail!("log build: command not accepted: {other:?}"),
            }
        }
        Ok(())
    }
}

mod iterate {
    use super::*;

    pub struct Iter {
        pub events: u64,
        pub raw_cold: f64,
        pub raw_warm: f64,
        pub lent_warm: f64,
        pub replay: f64,
        pub replay_events: u64,
    }

    fn raw(store: &SledStore) -> Result<(u64, f64)> {
        let t = Instant::now();
        let mut n = 0u64;
        let mut bytes = 0usize;
        for v in store.iter_raw_from(1) {
            bytes += v?.len();
            n += 1;
        }
        std::hint::black_box(bytes);
        Ok((n, t.elapsed().as_secs_f64()))
    }

    /// Reopens the log (sled's cache empty, the OS page cache likely warm),
    /// iterates it raw twice (first pass after open, then warm), then
    /// replays it into a `Ledger` from the first event (no snapshot).
    pub fn measure(path: &std::path::Path) -> Result<Iter> {
        let store = SledStore::open(path)?;
        let (events, raw_cold) = raw(&store)?;
        let (_, w1) = raw(&store)?;
        let (_, w2) = raw(&store)?;
        let raw_warm = w1.min(w2);
        let mut lent_warm = f64::MAX;
        for _ in 0..2 {
            let t = Instant::now();
            let mut bytes = 0usize;
            store.for_each_raw_from(1, &mut |v| {
                bytes += v.len();
                true
            })?;
            std::hint::black_box(bytes);
            lent_warm = lent_warm.min(t.elapsed().as_secs_f64());
        }
        let mut best = f64::MAX;
        let mut replay_events = 0;
        for _ in 0..2 {
            let (state, stats) = service_kit::runtime::replay::<Ledger>(&store, None, false)?;
            std::hint::black_box(&state);
            best = best.min(stats.seconds);
            replay_events = stats.events;
        }
        Ok(Iter {
            events,
            raw_cold,
            raw_warm,
            lent_warm,
            replay: best,
            replay_events,
        })
    }

    pub fn table(title: &str, r: &Iter) -> String {
        let raw_rate = r.events as f64 / r.raw_warm;
        let replay_rate = r.replay_events as f64 / r.replay;
        format!(
            "### {title}\n\n\
             Durability: read side, no writes. Sled reopened before the first pass; best of two \
             warm passes reported for raw iteration and for replay. Replay decodes on a second \
             thread and evolves on the calling one.\n\n\
             | measurement | events | events/s | wall |\n|---|---:|---:|---:|\n\
             | anchor: `EventStore::iter_raw_from(1)`, first pass after open | {} | {} | {:.3} s |\n\
             | anchor: `EventStore::iter_raw_from(1)`, warm | {} | {} | {:.3} s |\n\
             | `EventStore::for_each_raw_from(1)` (bytes lent, not copied; what replay reads through), warm | {} | {} | {:.3} s |\n\
             | `service_kit::runtime::replay::<Ledger>` (decode envelope + event, evolve) | {} | {} | {:.3} s |\n\
             \nreplay / raw iteration (warm) = {:.2}\n",
            r.events,
            fmt_rate(r.events as f64 / r.raw_cold),
            r.raw_cold,
            r.events,
            fmt_rate(raw_rate),
            r.raw_warm,
            r.events,
            fmt_rate(r.events as f64 / r.lent_warm),
            r.lent_warm,
            r.replay_events,
            fmt_rate(replay_rate),
            r.replay,
            replay_rate / raw_rate,
        )
    }
}

mod cpu {
    /// Machine-wide CPU time from /proc/stat, to show how busy the machine
    /// was during a run (nats-server, the ledger and the clients share it).
    #[derive(Clone, Copy, Default)]
    pub struct Sample {
        busy: u64,
        total: u64,
        /// CPU ticks (user + system) of this process and of its
        /// nats-server child.
        own: u64,
        nats: u64,
    }

    fn ticks_of(stat: &str) -> Option<(u64, String, u32)> {
        // pid (comm) state ppid ... utime(14) stime(15)
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat[open + 1..close].to_owned();
        let rest: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        let ppid = rest.get(1)?.parse().ok()?;
        let utime: u64 = rest.get(11)?.parse().ok()?;
        let stime: u64 = rest.get(12)?.parse().ok()?;
        Some((utime + stime, comm, ppid))
    }

    fn nats_ticks() -> u64 {
        let me = std::process::id();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return 0;
        };
        dir.filter_map(|e| e.ok())
            .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
            .filter_map(|s| ticks_of(&s))
            .filter(|(_, comm, ppid)| comm == "nats-server" && *ppid == me)
            .map(|(t, _, _)| t)
            .sum()
    }

    /// Clock ticks per second of /proc times (USER_HZ, 100 on Linux).
    pub const HZ: f64 = 100.0;

    pub fn sample() -> Sample {
        let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let Some(line) = text.lines().next() else {
            return Sample::default();
        };
        let v: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok())
            .collect();
        let total: u64 = v.iter().sum();
        let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
        let own = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| ticks_of(&s))
            .map_or(0, |t| t.0);
        Sample {
            busy: total - idle,
            total,
            own,
            nats: nats_ticks(),
        }
    }

    impl Sample {
        pub fn since(&self, earlier: &Sample) -> Sample {
            Sample {
                busy: self.busy - earlier.busy,
                total: self.total - earlier.total,
                own: self.own - earlier.own,
                nats: self.nats - earlier.nats,
            }
        }
        /// CPU seconds of this process (ledger + clients) and of nats-server.
        pub fn own_seconds(&self) -> f64 {
            self.own as f64 / HZ
        }
        pub fn nats_seconds(&self) -> f64 {
            self.nats as f64 / HZ
        }
        pub fn busy_percent(&self) -> f64 {
            if self.total == 0 {
                0.0
            } else {
                100.0 * self.busy as f64 / self.total as f64
            }
        }
    }

    pub fn uptime() -> String {
        std::process::Command::new("uptime")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }
}
