//! Stake operations end to end through the saga: a signed `AddStake` to
//! the amm, the amm's `StakeRequested`, the ledger's `FundStake`, the amm's
//! swap and `OpCompleted`, each step a sled append + flush and a JetStream
//! publish, across two services in this process.
//!
//! Open loop: stakes are sent at a fixed rate whatever the replies do, so
//! latency includes queueing (the honest figure at a given load). Latency
//! is measured from the send to the moment the amm's `OpCompleted` event for
//! that op reaches a plain NATS subscriber of the amm's event subject, i.e.
//! after both services have made every step durable and published it.
//! One warm-up stake runs end to end before each measured run.
//!
//! Diagnosis only: with `TAONET_BENCH_MEMSTORE` set, both services run on the
//! in-memory store instead of sled (no disk, no durability), which shows how
//! much of the latency the group commits' appends and flushes are.

use super::*;
use amm_core::{AmmEvent, AmmGenesis, CommandBody as AmmCmd, GenesisNeuron, GenesisSubnet};
use envelope::VersionedEvent;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::Mutex;

pub struct StakeRun {
    pub rate: usize,
    pub sent: usize,
    pub completed: usize,
    pub failed: usize,
    pub wall_s: f64,
    pub lat_us: Vec<u32>,
    pub accept_us: Vec<u32>,
    /// Per stage, sorted: send → the amm's `StakeRequested` published,
    /// → the ledger's `StakeFunded` published, → the amm's `OpCompleted`.
    pub stage_us: [Vec<u32>; 3],
}

impl StakeRun {
    fn pct(v: &[u32], p: f64) -> f64 {
        if v.is_empty() {
            return f64::NAN;
        }
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        f64::from(v[i]) / 1000.0
    }
}

/// The network: every bench key funded, one subnet whose pool holds
/// 1M TAO against 1M alpha, one hotkey owned by the admin.
fn network(keys: &[Keypair], admin: &Keypair, hotkey: AccountId) -> (Genesis, AmmGenesis) {
    let mut ledger = keys_and_genesis::genesis(keys, admin);
    ledger.coinbase_claim_window = ledger_core::NEVER_EXPIRE;
    ledger.custody = vec![(1, 1_000_000 * TAO)];
    let amm = AmmGenesis {
        params: amm_core::AmmParams {
            admin: Some(admin.public()),
            ..Default::default()
        },
        subnets: vec![GenesisSubnet {
            netuid: 1,
            owner: admin.public(),
            owner_hotkey: hotkey,
            tao_reserve: 1_000_000 * TAO,
            alpha_reserve: 1_000_000 * TAO,
            first_emission_block: Some(0),
            emission_enabled: true,
            neurons: vec![GenesisNeuron {
                hotkey,
                owner: admin.public(),
            }],
            tempo: None,
        }],
    };
    (ledger, amm)
}

fn sign(keys: &[Keypair], hotkey: AccountId, n: usize, tag: &str) -> Result<Vec<(String, Bytes)>> {
    (0..n)
        .map(|j| {
            let op = format!("{tag}-{j}");
            let body = CommandBody {
                client: "taonet-bench".into(),
                id: op.clone(),
                command: AmmCmd::AddStake {
                    op: op.clone(),
                    hotkey,
                    netuid: 1,
                    amount: TAO,
                    limit_price: None,
                    allow_partial: false,
                },
            };
            let s = Signed::seal(&keys[j % keys.len()], &body).map_err(|e| anyhow!("{e}"))?;
            Ok((op, s.to_bytes().map_err(|e| anyhow!("{e}"))?.into()))
        })
        .collect()
}

/// One run at `rate` stakes/s for `n` stakes, on fresh logs and streams.
pub async fn run(
    url: &str,
    keys: &[Keypair],
    admin: &Keypair,
    rate: usize,
    n: usize,
) -> Result<StakeRun> {
    let hotkey = Keypair::from_uri("//bench/hotkey")?.public();
    let (ledger_g, amm_g) = network(keys, admin, hotkey);
    let dir = tempfile::tempdir()?;
    let (sd_tx, sd_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    {
        let store: Arc<dyn EventStore> = if std::env::var_os("TAONET_BENCH_MEMSTORE").is_some() {
            Arc::new(store::mem::MemStore::new())
        } else {
            Arc::new(SledStore::open(&dir.path().join("ledger"))?)
        };
        let cfg = ServiceConfig::new(url, dir.path().join("ledger-data"));
        tasks.push(tokio::spawn(ledger::run(
            cfg,
            store,
            ledger_g,
            sd_rx.clone(),
        )));
        let store: Arc<dyn EventStore> = if std::env::var_os("TAONET_BENCH_MEMSTORE").is_some() {
            Arc::new(store::mem::MemStore::new())
        } else {
            Arc::new(SledStore::open(&dir.path().join("amm"))?)
        };
        let cfg = ServiceConfig::new(url, dir.path().join("amm-data"));
        tasks.push(tokio::spawn(amm::run(cfg, store, amm_g, sd_rx)));
    }
    let client = bus::connect(url, "taonet-bench-stake").await?;
    let opts = bus::rpc::CallOptions {
        attempts: 1,
        timeout: Duration::from_secs(2),
        ..Default::default()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    for svc in ["ledger", "amm"] {
        loop {
            let q = bus::rpc::query(
                &client,
                &bus::subjects::query(svc, "status"),
                &serde_json::Value::Null,
                &opts,
            )
            .await;
            if q.is_ok() {
                break;
            }
            if Instant::now() > deadline {
                bail!("{svc} not ready");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let payloads = sign(keys, hotkey, n, &format!("r{rate}"))?;

    // Warm-up: one stake end to end before the clock starts, so every
    // consumer exists (an inbox waits for its source's stream to appear)
    // and the first measured stakes do not queue behind that start-up.
    {
        let (op, payload) = sign(keys, hotkey, 1, &format!("warm{rate}"))?
            .pop()
            .expect("one");
        let subject = bus::subjects::command("amm", "add_stake");
        client
            .request(subject, payload)
            .await
            .map_err(|e| anyhow!("warm-up stake: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let v = bus::rpc::query(
                &client,
                &bus::subjects::query("amm", "op"),
                &serde_json::json!({"op": op}),
                &opts,
            )
            .await
            .map_err(|e| anyhow!("op query: {e}"))?;
            if v["status"] == "done" {
                break;
            }
            if Instant::now() > deadline {
                bail!("warm-up stake did not complete: {v}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    // Completion times by op, from the amm's published events.
    let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let done: Arc<Mutex<(Vec<u32>, usize)>> = Arc::new(Mutex::new((Vec::with_capacity(n), 0)));
    // When each op's StakeRequested and StakeFunded were seen (by op).
    let stages: Arc<Mutex<HashMap<String, [Option<Instant>; 2]>>> =
        Arc::new(Mutex::new(HashMap::new()));
    let stage_us: Arc<Mutex<[Vec<u32>; 3]>> = Arc::new(Mutex::new(Default::default()));
    let mut sub = client
        .subscribe(bus::subjects::events("amm"))
        .await
        .map_err(|e| anyhow!("subscribe: {e}"))?;
    let mut ledger_sub = client
        .subscribe(bus::subjects::event("ledger", "StakeFunded"))
        .await
        .map_err(|e| anyhow!("subscribe: {e}"))?;
    let ledger_watcher = {
        let stages = stages.clone();
        tokio::spawn(async move {
            while let Some(m) = ledger_sub.next().await {
                let Ok(env) = codec::decode_envelope(&m.payload) else {
                    continue;
                };
                if let Ok(ledger_core::LedgerEvent::StakeFunded(e)) =
                    ledger_core::LedgerEvent::from_envelope(&env)
                {
                    stages.lock().unwrap().entry(e.op).or_default()[1] = Some(Instant::now());
                }
            }
        })
    };
    let watcher = {
        let sent_at = sent_at.clone();
        let done = done.clone();
        let stages = stages.clone();
        let stage_us = stage_us.clone();
        tokio::spawn(async move {
            let mut seen = 0usize;
            while let Some(m) = sub.next().await {
                let Ok(env) = codec::decode_envelope(&m.payload) else {
                    continue;
                };
                let (op, ok) = match env.event_type.as_str() {
                    "StakeRequested" => {
                        if let Ok(AmmEvent::StakeRequested(e)) = AmmEvent::from_envelope(&env) {
                            stages.lock().unwrap().entry(e.op).or_default()[0] =
                                Some(Instant::now());
                        }
                        continue;
                    }
                    "OpCompleted" | "StakeFailed" => match AmmEvent::from_envelope(&env) {
                        Ok(AmmEvent::OpCompleted(e)) => (e.op, true),
                        Ok(AmmEvent::StakeFailed(e)) => (e.op, false),
                        _ => continue,
                    },
                    _ => continue,
                };
                let Some(t) = sent_at.lock().unwrap().get(&op).copied() else {
                    continue;
                };
                let now = Instant::now();
                if ok {
                    if let Some([Some(a), Some(b)]) = stages.lock().unwrap().remove(&op) {
                        let us = |d: Duration| d.as_micros().min(u32::MAX as u128) as u32;
                        let mut st = stage_us.lock().unwrap();
                        st[0].push(us(a.saturating_duration_since(t)));
                        st[1].push(us(b.saturating_duration_since(a)));
                        st[2].push(us(now.saturating_duration_since(b)));
                    }
                }
                let mut d = done.lock().unwrap();
                if ok {
                    d.0.push(now.duration_since(t).as_micros().min(u32::MAX as u128) as u32);
                } else {
                    d.1 += 1;
                }
                seen += 1;
                if seen == n {
                    break;
                }
            }
        })
    };

    let subject = async_nats::Subject::from(bus::subjects::command("amm", "add_stake"));
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let started = Instant::now();
    let mut replies = Vec::with_capacity(n);
    for (j, (op, payload)) in payloads.into_iter().enumerate() {
        let due = started + interval.mul_f64(j as f64);
        tokio::time::sleep_until(due.into()).await;
        sent_at.lock().unwrap().insert(op, Instant::now());
        let c = client.clone();
        let s = subject.clone();
        replies.push(tokio::spawn(async move {
            let t = Instant::now();
            let r = c.request(s, payload).await;
            let us = t.elapsed().as_micros().min(u32::MAX as u128) as u32;
            match r {
                Ok(m) if m.payload.starts_with(br#"{"status":"accepted""#) => Ok(us),
                Ok(m) => Err(String::from_utf8_lossy(&m.payload).into_owned()),
                Err(e) => Err(e.to_string()),
            }
        }));
    }
    let mut accept_us = Vec::with_capacity(n);
    let mut refused = 0;
    for r in replies {
        match r.await? {
            Ok(us) => accept_us.push(us),
            Err(e) => {
                if refused == 0 {
                    eprintln!("#   first refusal: {e}");
                }
                refused += 1;
            }
        }
    }
    let expect = n - refused;
    let wait_until = Instant::now() + Duration::from_secs(120);
    loop {
        let (ok, failed) = {
            let d = done.lock().unwrap();
            (d.0.len(), d.1)
        };
        if ok + failed >= expect {
            break;
        }
        if Instant::now() > wait_until {
            bail!("only {ok} of {expect} stakes completed");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let wall_s = started.elapsed().as_secs_f64();
    watcher.abort();
    ledger_watcher.abort();
    sd_tx.send_replace(true);
    for t in tasks {
        t.await?.map_err(|e| anyhow!("service: {e}"))?;
    }
    let js = jetstream::new(client.clone());
    for svc in ["ledger", "amm"] {
        let _ = js.delete_stream(bus::subjects::stream(svc)).await;
    }
    let (mut lat_us, failed) = std::mem::take(&mut *done.lock().unwrap());
    lat_us.sort_unstable();
    accept_us.sort_unstable();
    let mut stage_us = std::mem::take(&mut *stage_us.lock().unwrap());
    for v in &mut stage_us {
        v.sort_unstable();
    }
    Ok(StakeRun {
        rate,
        sent: n,
        completed: lat_us.len(),
        failed: failed + refused,
        wall_s,
        lat_us,
        accept_us,
        stage_us,
    })
}

pub fn table(rows: &[StakeRun]) -> String {
    let mut s = String::from(
        "## Stakes end to end through the saga (amm + ledger)\n\n\
         Open loop: signed `AddStake` (1 TAO each, 1000 funded coldkeys round robin, one hotkey, \
         one subnet with a 1M TAO / 1M alpha pool) sent at a fixed rate to `amm::run` and \
         `ledger::run` in this process on fresh sled logs. Each stake is 4 durable steps \
         (amm request, ledger funding, amm swap and completion), each a group-committed sled \
         append + flush and a JetStream publish. Latency: send → the amm's `OpCompleted` event \
         seen by a NATS subscriber. Accept: send → the amm's reply.\n\n\
         | offered stakes/s | stakes | completed | failed | achieved stakes/s | p50 | p90 | p99 | max | accept p50 | accept p99 |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |\n",
            r.rate,
            r.sent,
            r.completed,
            r.failed,
            r.completed as f64 / r.wall_s,
            StakeRun::pct(&r.lat_us, 0.5),
            StakeRun::pct(&r.lat_us, 0.9),
            StakeRun::pct(&r.lat_us, 0.99),
            StakeRun::pct(&r.lat_us, 1.0),
            StakeRun::pct(&r.accept_us, 0.5),
            StakeRun::pct(&r.accept_us, 0.99),
        ));
    }
    s.push_str(
        "\nBy stage (p50 / p99): send → the amm's `StakeRequested` seen; → the ledger's \
         `StakeFunded` seen; → the amm's `OpCompleted` seen.\n\n\
         | offered stakes/s | to StakeRequested | to StakeFunded | to OpCompleted |\n\
         |---:|---:|---:|---:|\n",
    );
    for r in rows {
        let st = |i: usize| {
            format!(
                "{:.1} / {:.1} ms",
                StakeRun::pct(&r.stage_us[i], 0.5),
                StakeRun::pct(&r.stage_us[i], 0.99)
            )
        };
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.rate,
            st(0),
            st(1),
            st(2)
        ));
    }
    s
}
