//! `taonet serve <service>`: runs one service in this process until SIGINT
//! or SIGTERM, then stops cleanly (drains the outbox, writes a snapshot).

use crate::genesis::NetworkGenesis;
use anyhow::{bail, Context, Result};
use service_kit::ServiceConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::sled_store::SledStore;
use tokio::sync::watch;

pub const SERVICES: [&str; 4] = ["ledger", "consensus", "amm", "governance"];

#[derive(Clone, Debug)]
pub struct ServeArgs {
    pub service: String,
    pub data: PathBuf,
    pub nats: String,
    pub genesis: Option<PathBuf>,
    pub replicas: usize,
    pub snapshot_every: u64,
}

/// Reads a network genesis file (JSON; accounts as SS58).
pub fn load_genesis(path: &Path) -> Result<NetworkGenesis> {
    NetworkGenesis::load(path)
}

pub fn serve(args: ServeArgs) -> Result<()> {
    if !SERVICES.contains(&args.service.as_str()) {
        bail!("unknown service {:?}; one of {:?}", args.service, SERVICES);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let _guard = telemetry::init(
            &format!("taonet-{}", args.service),
            env!("CARGO_PKG_VERSION"),
        )
        .map_err(|e| anyhow::anyhow!("telemetry: {e}"))?;
        std::fs::create_dir_all(&args.data)?;
        let store = Arc::new(
            SledStore::open(&args.data)
                .with_context(|| format!("opening log in {}", args.data.display()))?,
        );
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
            let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
            tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
            tracing::info!("signal received, stopping");
            let _ = tx.send(true);
        });
        // The genesis names the service keys every service trusts on its
        // service subject; the ledger also applies it to an empty log.
        let genesis = match &args.genesis {
            Some(p) => load_genesis(p)?,
            None => NetworkGenesis::default(),
        };
        let mut cfg = ServiceConfig::new(&args.nats, &args.data);
        cfg.stream.replicas = args.replicas;
        cfg.snapshot_every = args.snapshot_every;
        cfg.trusted_services = genesis.ledger.services.iter().copied().collect();
        let res = match args.service.as_str() {
            "ledger" => ledger::run(cfg, store, genesis.ledger_genesis(), rx).await,
            "consensus" => consensus::run(cfg, store, genesis.consensus_start(), rx).await,
            "amm" => {
                let start = amm::start_commands(genesis.amm_genesis(), genesis.emission_rule);
                amm::run_with(cfg, store, start, rx).await
            }
            "governance" => governance::run(cfg, store, genesis.governance_start(), rx).await,
            _ => unreachable!(),
        };
        res.map_err(|e| anyhow::anyhow!("{} service: {e}", args.service))
    })
}
