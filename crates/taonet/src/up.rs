//! `taonet up`: a whole local cluster on one data dir.
//!
//! Starts nats-server (JetStream, store in `DATA/nats`) and the four
//! services as child processes (`taonet serve <svc>`, logs in
//! `DATA/logs`), writes `DATA/cluster.json` so other commands find NATS,
//! restarts a service that dies (so `kill -9` shows replay), and stops
//! everything cleanly on Ctrl-C or SIGTERM. A second `taonet up` on the
//! same data dir replays every log and continues where it stopped.

use crate::genesis::NetworkGenesis;
use crate::serve::SERVICES;
use anyhow::{bail, Context, Result};
use keys::{AccountId, Keypair};
use ledger_core::Clock;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct UpArgs {
    pub data: PathBuf,
    pub wallet_dir: PathBuf,
    pub nats_port: u16,
    pub monitor_port: u16,
    pub block_time_ms: Option<u64>,
    pub manual_blocks: bool,
    pub fund: Vec<String>,
    pub genesis: Option<PathBuf>,
    /// Demo subnets to open at genesis, and their tempo.
    pub subnets: u16,
    pub tempo: u16,
    /// Exit after start-up (for scripts and tests that only need it up).
    pub detach_check: bool,
}

/// Finds nats-server, installing Debian's package when we are root on a
/// Debian-like system and it is missing.
pub fn find_or_install_nats() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("TAONET_NATS_SERVER") {
        return Ok(PathBuf::from(p));
    }
    if let Some(p) = which("nats-server") {
        return Ok(p);
    }
    let root = nix::unistd::geteuid().is_root();
    if root && which("apt-get").is_some() {
        eprintln!(
            "nats-server not found: installing Debian's package (apt-get install nats-server)"
        );
        let ok = Command::new("sh")
            .args(["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            if let Some(p) = which("nats-server") {
                return Ok(p);
            }
        }
    }
    bail!(
        "nats-server (2.9+, with JetStream) is not installed. On Debian/Ubuntu: `sudo apt-get install nats-server`; \
         elsewhere see https://docs.nats.io/running-a-nats-service/introduction/installation, or set TAONET_NATS_SERVER"
    )
}

fn which(bin: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(bin))
        .find(|p| p.is_file())
}

/// A key kept in the data dir (admin and service keys of a local cluster).
pub fn data_key(data: &Path, name: &str) -> Result<Keypair> {
    let dir = data.join("keys");
    std::fs::create_dir_all(&dir)?;
    let file = dir.join(format!("{name}.seed"));
    if let Ok(text) = std::fs::read_to_string(&file) {
        let bytes = hex::decode(text.trim()).context("key file is not hex")?;
        let seed: [u8; 32] = bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("key file is not 32 bytes"))?;
        return Ok(Keypair::from_seed(&seed));
    }
    let seed: [u8; 32] = rand::random();
    write_private(&file, &hex::encode(seed))?;
    Ok(Keypair::from_seed(&seed))
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// Builds (first start) or reads (later starts) the cluster's genesis.
fn genesis(args: &UpArgs) -> Result<(PathBuf, bool)> {
    let path = args.data.join("genesis.json");
    if path.exists() {
        if !args.fund.is_empty()
            || args.genesis.is_some()
            || args.subnets > 0
            || args.block_time_ms.is_some()
            || args.manual_blocks
        {
            eprintln!(
                "note: {} exists (the ledger applied it on first start); --fund/--genesis/--subnets/--block-time-ms/--manual-blocks are ignored",
                path.display()
            );
        }
        return Ok((path, false));
    }
    let mut g = match &args.genesis {
        Some(p) => crate::serve::load_genesis(p)?,
        None => NetworkGenesis::default(),
    };
    for f in &args.fund {
        let (who, tao) = f
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--fund takes WALLET_OR_SS58=TAO, got {f:?}"))?;
        let account: AccountId = crate::client::resolve_account(&args.wallet_dir, who)?;
        let rao = crate::amount::parse_tao(tao).map_err(|e| anyhow::anyhow!("--fund {f}: {e}"))?;
        g.ledger.balances.retain(|(a, _)| *a != account);
        g.ledger.balances.push((account, rao));
    }
    if args.manual_blocks {
        g.ledger.clock = Clock::Manual;
    } else if let Some(ms) = args.block_time_ms {
        g.ledger.clock = Clock::Auto { block_time_ms: ms };
    }
    if args.subnets > 0 {
        if !g.subnets.is_empty() {
            bail!("--subnets and a genesis file with subnets: choose one");
        }
        let owner = match g.ledger.admin {
            Some(a) => a,
            None => data_key(&args.data, "admin")?.public(),
        };
        for netuid in 1..=args.subnets {
            let hotkey = data_key(&args.data, &format!("subnet-{netuid}-owner-hotkey"))?.public();
            g.subnets.push(amm_core::GenesisSubnet {
                netuid,
                owner,
                owner_hotkey: hotkey,
                tao_reserve: 1_000 * 1_000_000_000,
                alpha_reserve: 1_000 * 1_000_000_000,
                first_emission_block: Some(0),
                emission_enabled: true,
                neurons: vec![amm_core::GenesisNeuron { hotkey, owner }],
                tempo: Some(args.tempo),
            });
        }
    }
    if g.ledger.admin.is_none() {
        g.ledger.admin = Some(data_key(&args.data, "admin")?.public());
    }
    for svc in SERVICES {
        let k = data_key(&args.data, svc)?.public();
        if !g.ledger.services.contains(&k) {
            g.ledger.services.push(k);
        }
    }
    g.validate().context("genesis")?;
    std::fs::write(&path, serde_json::to_string_pretty(&g)?)?;
    Ok((path, true))
}

struct Proc {
    name: String,
    child: Child,
    restarts: u32,
}

fn spawn_service(args: &UpArgs, svc: &str, nats_url: &str, genesis: &Path) -> Result<Child> {
    let exe = std::env::current_exe()?;
    let logs = args.data.join("logs");
    std::fs::create_dir_all(&logs)?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(logs.join(format!("{svc}.log")))?;
    let mut cmd = Command::new(exe);
    cmd.arg("serve")
        .arg(svc)
        .arg("--data")
        .arg(args.data.join(svc))
        .arg("--nats")
        .arg(nats_url)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    cmd.arg("--genesis").arg(genesis);
    let child = cmd.spawn().with_context(|| format!("starting {svc}"))?;
    std::fs::write(
        args.data.join("run").join(format!("{svc}.pid")),
        child.id().to_string(),
    )?;
    Ok(child)
}

/// Starts nats-server on the requested ports; when they are taken (a system
/// nats-server on 4222 is common), falls back to free ports and says so.
fn spawn_nats(args: &UpArgs) -> Result<(Child, String, String)> {
    match spawn_nats_on(args) {
        Ok(x) => Ok(x),
        Err(e) if args.nats_port != 0 || args.monitor_port != 0 => {
            eprintln!("note: {e}; using free ports instead");
            spawn_nats_on(&UpArgs {
                nats_port: 0,
                monitor_port: 0,
                ..args.clone()
            })
        }
        Err(e) => Err(e),
    }
}

fn spawn_nats_on(args: &UpArgs) -> Result<(Child, String, String)> {
    let bin = find_or_install_nats()?;
    let run = args.data.join("run");
    let ports = run.join("nats-ports");
    let _ = std::fs::remove_dir_all(&ports);
    std::fs::create_dir_all(&ports)?;
    let logs = args.data.join("logs");
    std::fs::create_dir_all(&logs)?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(logs.join("nats-server.log"))?;
    let port = |p: u16| {
        if p == 0 {
            "-1".to_string()
        } else {
            p.to_string()
        }
    };
    let mut child = Command::new(&bin)
        .args([
            "-a",
            "127.0.0.1",
            "-p",
            &port(args.nats_port),
            "-m",
            &port(args.monitor_port),
            "-js",
            "-sd",
        ])
        .arg(args.data.join("nats"))
        .arg("--ports_file_dir")
        .arg(&ports)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let file = ports.join(format!("nats-server_{}.ports", child.id()));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = std::fs::read_to_string(&file) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                let url = v["nats"][0].as_str().unwrap_or_default().to_owned();
                let mon = v["monitoring"][0].as_str().unwrap_or_default().to_owned();
                return Ok((child, url, mon));
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            bail!(
                "nats-server exited at start ({status}; port {} or {} busy?), see {}",
                args.nats_port,
                args.monitor_port,
                logs.join("nats-server.log").display()
            );
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            bail!(
                "nats-server did not start (port {} busy?); see {}",
                args.nats_port,
                logs.join("nats-server.log").display()
            );
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn terminate(child: &mut Child, wait: Duration) {
    let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

pub fn up(args: UpArgs) -> Result<()> {
    std::fs::create_dir_all(args.data.join("run"))?;
    let (genesis_path, fresh) = genesis(&args)?;
    let (mut nats, nats_url, monitor_url) = spawn_nats(&args)?;
    let mut procs = Vec::new();
    for svc in SERVICES {
        procs.push(Proc {
            name: svc.to_string(),
            child: spawn_service(&args, svc, &nats_url, &genesis_path)?,
            restarts: 0,
        });
    }
    let info = json!({
        "nats_url": nats_url,
        "nats_monitor": monitor_url,
        "data_dir": args.data,
        "genesis": genesis_path,
        "fresh_genesis": fresh,
        "logs": args.data.join("logs"),
        "services": procs.iter().map(|p| json!({"name": p.name, "pid": p.child.id(), "log_dir": args.data.join(&p.name)})).collect::<Vec<_>>(),
        "traces": "set OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://127.0.0.1:4317) before `taonet up` to export to Jaeger",
    });
    std::fs::write(
        args.data.join("cluster.json"),
        serde_json::to_string_pretty(&info)?,
    )?;

    // Wait until every service answers its status query.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let ready = rt.block_on(async {
        let client = crate::client::connect(&nats_url).await?;
        let mut statuses = Vec::new();
        for svc in SERVICES {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                match crate::client::query(&client, svc, "status", serde_json::Value::Null).await {
                    Ok(v) => {
                        statuses.push(v);
                        break;
                    }
                    Err(e) if Instant::now() > deadline => {
                        return Err(e.context(format!("{svc} did not come up")))
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        }
        anyhow::Ok(statuses)
    });
    let statuses = match ready {
        Ok(s) => s,
        Err(e) => {
            for p in &mut procs {
                terminate(&mut p.child, Duration::from_secs(5));
            }
            terminate(&mut nats, Duration::from_secs(5));
            return Err(e);
        }
    };
    crate::print_json(&json!({"cluster": info, "status": statuses}));
    eprintln!(
        "taonet is up: NATS {nats_url} (monitor {monitor_url}), data {}. Ctrl-C stops it.",
        args.data.display()
    );
    if args.detach_check {
        for p in &mut procs {
            terminate(&mut p.child, Duration::from_secs(10));
        }
        terminate(&mut nats, Duration::from_secs(5));
        return Ok(());
    }

    // Supervise until a signal.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("rt");
            rt.block_on(async {
                use tokio::signal::unix::{signal, SignalKind};
                let mut term = signal(SignalKind::terminate()).expect("SIGTERM");
                let mut int = signal(SignalKind::interrupt()).expect("SIGINT");
                tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
            });
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
        });
    }
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(200));
        if let Ok(Some(status)) = nats.try_wait() {
            eprintln!("nats-server exited ({status}); restarting it");
            let (n, _, _) = spawn_nats(&UpArgs {
                nats_port: port_of(&nats_url),
                monitor_port: port_of(&monitor_url),
                ..args.clone()
            })?;
            nats = n;
        }
        for p in &mut procs {
            if let Ok(Some(status)) = p.child.try_wait() {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    continue;
                }
                p.restarts += 1;
                eprintln!(
                    "{} exited ({status}); restarting it (restart {}), it replays its log",
                    p.name, p.restarts
                );
                std::thread::sleep(Duration::from_millis(500));
                p.child = spawn_service(&args, &p.name, &nats_url, &genesis_path)?;
            }
        }
    }
    eprintln!("stopping services ...");
    for p in &mut procs {
        let _ = kill(Pid::from_raw(p.child.id() as i32), Signal::SIGTERM);
    }
    for p in &mut procs {
        terminate(&mut p.child, Duration::from_secs(15));
    }
    terminate(&mut nats, Duration::from_secs(10));
    eprintln!(
        "stopped; `taonet up --data {}` continues where it stopped",
        args.data.display()
    );
    Ok(())
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}
