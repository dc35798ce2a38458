//! Argument definitions and dispatch.

use crate::{amount, calc, client, paths, print_json, replay, serve, up, wallets};
use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use ledger_core::CommandBody;
use serde_json::json;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "taonet",
    version,
    about = "The taonet token economy: ledger, Yuma consensus, dTAO pools, governance"
)]
pub struct Cli {
    /// NATS URL of a running cluster (default: what `taonet up` recorded, else nats://127.0.0.1:4222).
    #[arg(long, global = true, env = "TAONET_NATS_URL")]
    pub nats: Option<String>,
    /// Wallet directory.
    #[arg(long, global = true, env = "TAONET_WALLET_DIR")]
    pub wallet_dir: Option<PathBuf>,
    /// Data directory of the local cluster.
    #[arg(long = "data", global = true, env = "TAONET_DATA")]
    pub data: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Create, list and show wallets (coldkeys and hotkeys).
    #[command(subcommand)]
    Wallet(WalletCmd),
    /// Transfer TAO from a wallet's coldkey (signed; fee burned).
    Transfer(TransferArgs),
    /// Free balance of an account or wallet.
    Balance {
        /// Wallet name or SS58 address.
        account: String,
    },
    /// Block height and clock; `block advance N` in manual-clock mode.
    Block {
        #[command(subcommand)]
        action: Option<BlockCmd>,
    },
    /// Total issuance and where it sits.
    Issuance,
    /// The emission schedule at the current issuance (era, per block, next halving).
    Schedule,
    /// A service's status: log position, published position, state digest.
    Status {
        /// One service; all four when omitted.
        #[arg(long)]
        service: Option<String>,
    },
    /// Pure calculators (no cluster needed).
    #[command(subcommand)]
    Calc(CalcCmd),
    /// The whole economy in one process over a scenario (no cluster needed).
    #[command(subcommand)]
    Sim(crate::sim::SimCmd),
    /// Set, commit or reveal weights (signed by a hotkey of a wallet).
    #[command(subcommand)]
    Weights(WeightsCmd),
    /// Stake, unstake, move, transfer and swap stake; list a portfolio.
    #[command(subcommand)]
    Stake(crate::stake::StakeCmd),
    /// Every subnet's pool, prices and emission.
    #[command(subcommand)]
    Subnets(crate::stake::SubnetsCmd),
    /// One subnet in detail.
    #[command(subcommand)]
    Subnet(SubnetCmd),
    /// Register neurons on a subnet.
    #[command(subcommand)]
    Neuron(crate::gov::NeuronCmd),
    /// The root network.
    #[command(subcommand)]
    Root(crate::gov::RootCmd),
    /// Delegate take.
    #[command(subcommand)]
    Delegate(crate::gov::DelegateCmd),
    /// Stake locks (conviction; limits how fast stake can leave).
    #[command(subcommand)]
    Lock(crate::gov::LockCmd),
    /// Propose an admin action to the collective (triumvirate members).
    Propose(crate::gov::ProposeArgs),
    /// Vote on a proposal as a senator.
    Vote(crate::gov::VoteArgs),
    /// Proposals and their tallies; `proposals close --id N`.
    Proposals {
        #[command(subcommand)]
        action: Option<crate::gov::ProposalsCmd>,
    },
    /// Actions of the bootstrap admin key (local clusters), and its handover.
    #[command(subcommand)]
    Admin(crate::gov::AdminCmd),
    /// A subnet's metagraph: a table, or JSON with --json.
    Metagraph {
        #[arg(long)]
        netuid: u16,
        #[arg(long)]
        json: bool,
    },
    /// Yuma consensus scenarios.
    #[command(subcommand)]
    Yuma(YumaCmd),
    /// Rebuild a service's state from its log offline and print its digest.
    Replay {
        #[arg(long)]
        service: String,
        /// Replay up to and including this sequence.
        #[arg(long)]
        to_seq: Option<u64>,
        /// Start from the latest snapshot (default: from the first event).
        #[arg(long)]
        use_snapshot: bool,
    },
    /// Print a service's command journal (every user command it decided,
    /// as signed, with its block and outcome), one JSON record per line.
    Journal {
        #[arg(long)]
        service: String,
    },
    /// Start nats-server and all services on one data dir (Ctrl-C stops).
    Up(UpCmd),
    /// Run one service in this process.
    Serve(ServeCmd),
}

#[derive(Subcommand, Debug)]
pub enum WalletCmd {
    /// Create a wallet (coldkey; encrypted unless --no-password).
    Create {
        #[arg(long)]
        name: String,
        /// Store the coldkey unencrypted (test and demo wallets only).
        #[arg(long)]
        no_password: bool,
        #[arg(long, default_value_t = 12)]
        words: usize,
    },
    /// List wallets.
    List,
    /// Show one wallet's public keys.
    Show {
        #[arg(long)]
        name: String,
    },
    /// Create a hotkey in a wallet.
    NewHotkey {
        #[arg(long)]
        name: String,
        #[arg(long)]
        hotkey: String,
    },
}

#[derive(Args, Debug)]
pub struct TransferArgs {
    /// Wallet whose coldkey signs and pays.
    #[arg(long)]
    pub wallet: String,
    /// Destination: SS58 address or wallet name.
    #[arg(long)]
    pub to: String,
    /// Amount in TAO (up to 9 decimals).
    #[arg(long, conflicts_with = "rao")]
    pub amount: Option<String>,
    /// Amount in RAO.
    #[arg(long)]
    pub rao: Option<u64>,
    /// Allow the sender's balance to fall below the existential deposit (the rest is burned).
    #[arg(long)]
    pub allow_death: bool,
    /// Command id (default: a fresh UUID); resending the same id never applies twice.
    #[arg(long)]
    pub id: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct WeightArgs {
    /// Wallet holding the hotkey.
    #[arg(long)]
    pub wallet: String,
    /// Hotkey name in the wallet.
    #[arg(long)]
    pub hotkey: String,
    #[arg(long)]
    pub netuid: u16,
    /// Comma-separated uids.
    #[arg(long, value_delimiter = ',')]
    pub uids: Vec<u16>,
    /// Comma-separated u16 weights (upscaled so the largest is 65535).
    #[arg(long, value_delimiter = ',')]
    pub weights: Vec<u16>,
    #[arg(long, default_value_t = 0)]
    pub version_key: u64,
}

#[derive(Subcommand, Debug)]
pub enum WeightsCmd {
    /// set_weights (subnets with commit-reveal off).
    Set(WeightArgs),
    /// commit_weights: a hash of the weights and a salt, revealed later.
    Commit {
        #[command(flatten)]
        w: WeightArgs,
        /// Comma-separated u16 salt (keep it for the reveal).
        #[arg(long, value_delimiter = ',')]
        salt: Vec<u16>,
    },
    /// reveal_weights: the weights and salt of an earlier commit.
    Reveal {
        #[command(flatten)]
        w: WeightArgs,
        #[arg(long, value_delimiter = ',')]
        salt: Vec<u16>,
    },
}

#[derive(Subcommand, Debug)]
pub enum BlockCmd {
    /// Produce N blocks now (manual clock only; signed by the admin key).
    Advance {
        n: u64,
        /// Wallet of the admin (default: the admin key in the data dir).
        #[arg(long)]
        wallet: Option<String>,
        /// Block time stamped on the produced blocks, ms.
        #[arg(long, default_value_t = 12_000)]
        block_time_ms: u64,
    },
}

#[derive(Subcommand, Debug)]
pub enum CalcCmd {
    /// Block emission for a total issuance (spec tokenomics §1.1).
    Emission {
        #[arg(long)]
        issuance: u64,
    },
    /// One swap on a weighted (Balancer) pool given on the command line (spec tokenomics §3.3).
    Swap(SwapArgs),
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("side").required(true).args(["buy_with_tao", "sell_alpha"])))]
pub struct SwapArgs {
    #[arg(long)]
    pub tao_reserve: u64,
    #[arg(long)]
    pub alpha_reserve: u64,
    /// Quote (TAO) weight in Perquintill (10^18 = 1); 0.5 is constant product.
    #[arg(long, default_value_t = 500_000_000_000_000_000)]
    pub quote_weight: u64,
    /// Fee rate as a u16 proportion of 65535.
    #[arg(long, default_value_t = 33)]
    pub fee_rate: u16,
    /// Buy alpha with this much TAO (RAO).
    #[arg(long)]
    pub buy_with_tao: Option<u64>,
    /// Sell this much alpha (alpha RAO).
    #[arg(long)]
    pub sell_alpha: Option<u64>,
    /// Limit price in RAO per alpha (price x 1e9).
    #[arg(long)]
    pub limit_price: Option<u64>,
}

#[derive(Subcommand, Debug)]
pub enum YumaCmd {
    /// Run a Yuma epoch scenario (FILE or stdin) and print every epoch's output.
    Run { file: Option<PathBuf> },
}

#[derive(Args, Debug)]
pub struct UpCmd {
    /// NATS client port (0 = any free port).
    #[arg(long, default_value_t = 4222)]
    pub nats_port: u16,
    /// NATS monitoring port (0 = any free port).
    #[arg(long, default_value_t = 8222)]
    pub monitor_port: u16,
    /// Block time in ms (default 12000).
    #[arg(long)]
    pub block_time_ms: Option<u64>,
    /// No block timer: blocks advance only with `taonet block advance N`.
    #[arg(long)]
    pub manual_blocks: bool,
    /// Genesis balance WALLET_OR_SS58=TAO (repeatable; first start only).
    #[arg(long)]
    pub fund: Vec<String>,
    /// Genesis file to start from (first start only).
    #[arg(long)]
    pub genesis: Option<PathBuf>,
    /// Open N subnets at genesis (netuids 1..=N, first start only): each
    /// a 1000 TAO / 1000 alpha pool, started, emitting, owned by the
    /// cluster's admin key, whose owner hotkey is its first neuron.
    #[arg(long, default_value_t = 0)]
    pub subnets: u16,
    /// Tempo of those subnets (blocks between epochs).
    #[arg(long, default_value_t = 360)]
    pub tempo: u16,
    /// Start, check that every service answers, stop, exit.
    #[arg(long, hide = true)]
    pub check: bool,
}

#[derive(Subcommand, Debug)]
pub enum SubnetCmd {
    /// Pool, prices, EMA, emission per block, pending pots.
    Show {
        netuid: u16,
        #[arg(long)]
        json: bool,
    },
    /// Register a new subnet: locks the current lock cost (waits for the
    /// pool and metagraph to open).
    Create {
        #[command(flatten)]
        signer: crate::stake::Signer,
        /// Owner hotkey (uid 0): SS58 or WALLET/HOTKEY.
        #[arg(long)]
        hotkey: String,
        /// Subnet name (identity).
        #[arg(long)]
        name: Option<String>,
        /// Refuse if the lock cost is above this (TAO).
        #[arg(long)]
        max_lock: Option<String>,
    },
    /// Start emission and enable staking (owner only).
    Start {
        #[command(flatten)]
        signer: crate::stake::Signer,
        #[arg(long)]
        netuid: u16,
    },
    /// Set an owner hyperparameter (rate-limited; not in the freeze window).
    Set {
        #[command(flatten)]
        signer: crate::stake::Signer,
        #[arg(long)]
        netuid: u16,
        #[command(flatten)]
        param: crate::gov::ParamArg,
    },
    /// Governance's record of a subnet: owner, lock, burn, neurons, params.
    Info { netuid: u16 },
    /// The current lock cost of a new subnet.
    LockCost,
}

#[derive(Args, Debug)]
pub struct ServeCmd {
    /// ledger, consensus, amm or governance.
    pub service: String,
    /// Genesis file: its service keys are trusted; the ledger applies it to an empty log.
    #[arg(long)]
    pub genesis: Option<PathBuf>,
    /// JetStream replicas for this service's stream.
    #[arg(long, default_value_t = 1, env = "TAONET_STREAM_REPLICAS")]
    pub replicas: usize,
    /// Events between snapshots (0 = never).
    #[arg(long, default_value_t = 100_000, env = "TAONET_SNAPSHOT_EVERY")]
    pub snapshot_every: u64,
}

fn rt() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

pub fn dispatch(cli: Cli) -> Result<()> {
    let wallet_dir = cli
        .wallet_dir
        .clone()
        .unwrap_or_else(paths::default_wallet_dir);
    let data = cli.data.clone().unwrap_or_else(paths::default_data_dir);
    let nats_url = || paths::resolve_nats_url(cli.nats.clone(), &data);
    match cli.command {
        Cmd::Wallet(w) => {
            let v = match w {
                WalletCmd::Create {
                    name,
                    no_password,
                    words,
                } => wallets::create(&wallet_dir, &name, no_password, words)?,
                WalletCmd::List => wallets::list(&wallet_dir)?,
                WalletCmd::Show { name } => wallets::show(&wallet_dir, &name)?,
                WalletCmd::NewHotkey { name, hotkey } => {
                    wallets::new_hotkey(&wallet_dir, &name, &hotkey)?
                }
            };
            print_json(&v);
        }
        Cmd::Transfer(t) => {
            let amount = match (&t.amount, t.rao) {
                (Some(a), None) => {
                    amount::parse_tao(a).map_err(|e| anyhow::anyhow!("--amount: {e}"))?
                }
                (None, Some(r)) => r,
                _ => bail!("give --amount TAO or --rao RAO"),
            };
            let key = client::coldkey(&wallet_dir, &t.wallet)?;
            let to = client::resolve_account(&wallet_dir, &t.to)?;
            let url = nats_url();
            let v = rt()?.block_on(async {
                let _g = cli_telemetry();
                let c = client::connect(&url).await?;
                let body = CommandBody::Transfer {
                    to,
                    amount,
                    keep_alive: !t.allow_death,
                };
                let acc = client::send(&c, &key, "ledger", "transfer", &body, t.id.clone()).await?;
                c.flush().await.ok();
                anyhow::Ok(serde_json::to_value(acc)?)
            })?;
            print_json(&v);
        }
        Cmd::Balance { account } => {
            let who = client::resolve_account(&wallet_dir, &account)?;
            let url = nats_url();
            let mut v = rt()?.block_on(async {
                let c = client::connect(&url).await?;
                client::query(&c, "ledger", "balance", json!({"account": who})).await
            })?;
            if let Some(r) = v["free_rao"].as_u64() {
                v["free_tao"] = json!(amount::format_tao(r));
            }
            print_json(&v);
        }
        Cmd::Block { action } => {
            let url = nats_url();
            let v = match action {
                None => rt()?.block_on(async {
                    let c = client::connect(&url).await?;
                    client::query(&c, "ledger", "block", json!(null)).await
                })?,
                Some(BlockCmd::Advance {
                    n,
                    wallet,
                    block_time_ms,
                }) => {
                    let key = match wallet {
                        Some(w) => client::coldkey(&wallet_dir, &w)?,
                        None => up::data_key(&data, "admin")?,
                    };
                    rt()?.block_on(async {
                        let c = client::connect(&url).await?;
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)?
                            .as_millis() as u64;
                        // Manual blocks are stamped `block_time_ms` apart,
                        // so a second advance soon after the first starts
                        // after the last stamp rather than at the wall clock.
                        let last = client::query(&c, "ledger", "block", json!(null)).await?
                            ["timestamp_ms"]
                            .as_u64()
                            .unwrap_or(0);
                        let body = CommandBody::AdvanceBlocks {
                            n,
                            timestamp_ms: now.max(last.saturating_add(block_time_ms.max(1))),
                            block_time_ms,
                        };
                        let acc =
                            client::send(&c, &key, "ledger", "advance_blocks", &body, None).await?;
                        let block = client::query(&c, "ledger", "block", json!(null)).await?;
                        anyhow::Ok(
                            json!({"events": acc.last_seq + 1 - acc.first_seq, "block": block}),
                        )
                    })?
                }
            };
            print_json(&v);
        }
        Cmd::Issuance => {
            let url = nats_url();
            let mut v = rt()?.block_on(async {
                let c = client::connect(&url).await?;
                client::query(&c, "ledger", "issuance", json!(null)).await
            })?;
            if let Some(r) = v["total_issuance_rao"].as_u64() {
                v["total_issuance_tao"] = json!(amount::format_tao(r));
            }
            print_json(&v);
        }
        Cmd::Schedule => {
            let url = nats_url();
            let v = rt()?.block_on(async {
                let c = client::connect(&url).await?;
                client::query(&c, "ledger", "schedule", json!(null)).await
            })?;
            print_json(&v);
        }
        Cmd::Status { service } => {
            let url = nats_url();
            let names: Vec<String> = match service {
                Some(s) => vec![s],
                None => serve::SERVICES.iter().map(|s| s.to_string()).collect(),
            };
            let v = rt()?.block_on(async {
                let c = client::connect(&url).await?;
                let mut out = Vec::new();
                for s in &names {
                    out.push(match client::query(&c, s, "status", json!(null)).await {
                        Ok(v) => v,
                        Err(e) => json!({"service": s, "error": e.to_string()}),
                    });
                }
                anyhow::Ok(out)
            })?;
            if v.len() == 1 {
                print_json(&v[0]);
            } else {
                print_json(&json!({"services": v}));
            }
        }
        Cmd::Weights(w) => {
            use consensus_core::CommandBody as C;
            let (args, body, name) = match w {
                WeightsCmd::Set(a) => {
                    let body = C::SetWeights {
                        netuid: a.netuid,
                        uids: a.uids.clone(),
                        values: a.weights.clone(),
                        version_key: a.version_key,
                    };
                    (a, body, "set_weights")
                }
                WeightsCmd::Commit { w: a, salt } => {
                    let hotkey = keys::Wallet::open(&wallet_dir, &a.wallet)?
                        .hotkey(&a.hotkey)?
                        .public();
                    let hash = consensus_core::commit_hash(
                        &hotkey,
                        a.netuid,
                        &a.uids,
                        &a.weights,
                        &salt,
                        a.version_key,
                    );
                    let body = C::CommitWeights {
                        netuid: a.netuid,
                        hash,
                    };
                    (a, body, "commit_weights")
                }
                WeightsCmd::Reveal { w: a, salt } => {
                    let body = C::RevealWeights {
                        netuid: a.netuid,
                        uids: a.uids.clone(),
                        values: a.weights.clone(),
                        salt,
                        version_key: a.version_key,
                    };
                    (a, body, "reveal_weights")
                }
            };
            let key = keys::Wallet::open(&wallet_dir, &args.wallet)
                .with_context(|| format!("wallet {}", args.wallet))?
                .hotkey(&args.hotkey)
                .with_context(|| format!("hotkey {} of wallet {}", args.hotkey, args.wallet))?;
            let url = nats_url();
            let v = rt()?.block_on(async {
                let _g = cli_telemetry();
                let c = client::connect(&url).await?;
                let acc = client::send(&c, &key, "consensus", name, &body, None).await?;
                anyhow::Ok(serde_json::to_value(acc)?)
            })?;
            print_json(&v);
        }
        Cmd::Stake(c) => crate::stake::stake(&wallet_dir, &nats_url(), c)?,
        Cmd::Subnets(c) => crate::stake::subnets(&nats_url(), c)?,
        Cmd::Subnet(SubnetCmd::Create {
            signer,
            hotkey,
            name,
            max_lock,
        }) => {
            crate::gov::subnet_create(&wallet_dir, &nats_url(), &signer, &hotkey, name, max_lock)?
        }
        Cmd::Subnet(SubnetCmd::Start { signer, netuid }) => {
            crate::gov::subnet_start(&wallet_dir, &nats_url(), &signer, netuid)?
        }
        Cmd::Subnet(SubnetCmd::Set {
            signer,
            netuid,
            param,
        }) => crate::gov::subnet_set(&wallet_dir, &nats_url(), &signer, netuid, &param)?,
        Cmd::Subnet(SubnetCmd::Info { netuid }) => {
            print_json(&crate::gov::subnet_governance(&nats_url(), netuid)?)
        }
        Cmd::Subnet(SubnetCmd::LockCost) => {
            let mut v = crate::gov::lock_cost(&nats_url())?;
            if let Some(r) = v["lock_cost_rao"].as_u64() {
                v["lock_cost_tao"] = json!(amount::format_tao(r));
            }
            print_json(&v)
        }
        Cmd::Neuron(c) => crate::gov::neuron(&wallet_dir, &nats_url(), c)?,
        Cmd::Root(c) => crate::gov::root(&wallet_dir, &nats_url(), c)?,
        Cmd::Delegate(c) => crate::gov::delegate(&wallet_dir, &nats_url(), c)?,
        Cmd::Lock(c) => crate::gov::lock(&wallet_dir, &nats_url(), c)?,
        Cmd::Propose(a) => crate::gov::propose(&wallet_dir, &nats_url(), a)?,
        Cmd::Vote(a) => crate::gov::vote(&wallet_dir, &nats_url(), a)?,
        Cmd::Proposals { action } => crate::gov::proposals(&wallet_dir, &nats_url(), action)?,
        Cmd::Admin(c) => crate::gov::admin(&wallet_dir, &nats_url(), c)?,
        Cmd::Subnet(SubnetCmd::Show {
            netuid,
            json: as_json,
        }) => crate::stake::subnet_show(&nats_url(), netuid, as_json)?,
        Cmd::Metagraph {
            netuid,
            json: as_json,
        } => {
            let url = nats_url();
            let v = rt()?.block_on(async {
                let c = client::connect(&url).await?;
                client::query(&c, "consensus", "metagraph", json!({"netuid": netuid})).await
            })?;
            if as_json {
                print_json(&v);
            } else {
                print!("{}", metagraph_table(&v));
            }
        }
        Cmd::Sim(c) => crate::sim::run(c)?,
        Cmd::Calc(CalcCmd::Emission { issuance }) => print_json(&calc::emission(issuance)),
        Cmd::Calc(CalcCmd::Swap(a)) => {
            let args = pool::calc::CalcSwapArgs {
                tao_reserve: a.tao_reserve,
                alpha_reserve: a.alpha_reserve,
                quote_weight: a.quote_weight,
                fee_rate: a.fee_rate,
                buy_with_tao: a.buy_with_tao,
                sell_alpha: a.sell_alpha,
                limit_price: a.limit_price,
            };
            match pool::calc::calc_swap(&args) {
                Ok(v) => print_json(&v),
                Err(e) => {
                    return Err(bus::rpc::CallError::Rejected {
                        code: pool::calc::rejection_code(&e).to_string(),
                        message: e.to_string(),
                        detail: serde_json::Value::Null,
                    }
                    .into())
                }
            }
        }
        Cmd::Yuma(YumaCmd::Run { file }) => {
            let text = match file {
                Some(f) => std::fs::read_to_string(&f)
                    .with_context(|| format!("reading {}", f.display()))?,
                None => std::io::read_to_string(std::io::stdin())?,
            };
            let out =
                yuma::scenario::run_scenario_str(&text).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{out}");
        }
        Cmd::Replay {
            service,
            to_seq,
            use_snapshot,
        } => print_json(&replay::replay(&service, &data, to_seq, use_snapshot)?),
        Cmd::Journal { service } => {
            for line in replay::journal(&service, &data)? {
                println!("{line}");
            }
        }
        Cmd::Up(u) => up::up(up::UpArgs {
            data,
            wallet_dir,
            nats_port: u.nats_port,
            monitor_port: u.monitor_port,
            block_time_ms: u.block_time_ms,
            manual_blocks: u.manual_blocks,
            fund: u.fund,
            genesis: u.genesis,
            subnets: u.subnets,
            tempo: u.tempo,
            detach_check: u.check,
        })?,
        Cmd::Serve(s) => serve::serve(serve::ServeArgs {
            service: s.service,
            data,
            nats: cli
                .nats
                .clone()
                .unwrap_or_else(|| "nats://127.0.0.1:4222".into()),
            genesis: s.genesis,
            replicas: s.replicas,
            snapshot_every: s.snapshot_every,
        })?,
    }
    Ok(())
}

/// Telemetry for CLI commands: traces start at the CLI when OTLP export is
/// configured; logs stay quiet (warnings only) unless RUST_LOG says more.
pub(crate) fn cli_telemetry() -> Option<telemetry::TelemetryGuard> {
    if std::env::var_os("RUST_LOG").is_none() {
        // Single-threaded at this point: nothing else reads the environment.
        std::env::set_var("RUST_LOG", "warn");
    }
    telemetry::init("taonet-cli", env!("CARGO_PKG_VERSION")).ok()
}

/// A readable metagraph: one row per uid, u16 values as fractions.
pub fn metagraph_table(v: &serde_json::Value) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "netuid {}  block {}  last epoch {}  epochs {}  pending emission {} rao",
        v["netuid"], v["block"], v["last_epoch_block"], v["epoch_index"], v["pending_emission"]
    );
    let _ = writeln!(
        out,
        "{:>4}  {:<48}  {:>16}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7}  {:>14}  {:>3}  {:>8}",
        "uid",
        "hotkey",
        "stake (rao)",
        "stake",
        "cons",
        "incent",
        "divs",
        "vtrust",
        "emission (rao)",
        "vp",
        "updated"
    );
    let frac = |x: &serde_json::Value| format!("{:.4}", x.as_u64().unwrap_or(0) as f64 / 65535.0);
    for n in v["neurons"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "{:>4}  {:<48}  {:>16}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7}  {:>14}  {:>3}  {:>8}",
            n["uid"],
            n["hotkey"].as_str().unwrap_or(""),
            n["stake"],
            frac(&n["stake_u16"]),
            frac(&n["consensus"]),
            frac(&n["incentive"]),
            frac(&n["dividends"]),
            frac(&n["validator_trust"]),
            n["emission"],
            if n["validator_permit"] == true {
                "*"
            } else {
                ""
            },
            n["last_update"],
        );
    }
    out
}
