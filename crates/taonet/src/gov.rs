//! The governance side of the CLI: `taonet subnet create/start/set`,
//! `taonet neuron register`, `taonet root register`, `taonet delegate
//! take`, `taonet lock ...`, `taonet propose`, `taonet vote`,
//! `taonet proposals`, `taonet admin ...`.
//!
//! Every command is signed by a wallet's coldkey and sent to the governance
//! service, which accepts or refuses it at once (a named error, nothing
//! changed). A subnet or neuron registration then runs as a saga through
//! the ledger, the amm and consensus, so those two wait for the outcome
//! (`--no-wait` prints the acceptance and returns).

use crate::amount::{format_tao, parse_tao};
use crate::stake::{resolve_hotkey, Signer};
use crate::{client, print_json};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use governance_core::{AdminAction, CommandBody as G, GlobalParam, Hyperparameter};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// A hyperparameter as `--param NAME --value V`.
#[derive(Args, Debug, Clone)]
pub struct ParamArg {
    /// snake_case name (e.g. tempo, max_allowed_uids, immunity_period,
    /// subnet_emission_enabled, fee_rate).
    #[arg(long)]
    pub param: String,
    /// The value: a number, true/false, or JSON for compound values
    /// (alpha_values: '{"low":45875,"high":58982}').
    #[arg(long)]
    pub value: String,
}

#[derive(Subcommand, Debug)]
pub enum NeuronCmd {
    /// Register a hotkey on a subnet by burning the current registration price.
    Register {
        #[command(flatten)]
        signer: Signer,
        #[arg(long)]
        netuid: u16,
        /// Hotkey: SS58, or WALLET/HOTKEY of a local wallet.
        #[arg(long)]
        hotkey: String,
        /// Refuse if the burn is above this (TAO).
        #[arg(long)]
        max_burn: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum RootCmd {
    /// Register a hotkey on the root network (by its total stake).
    Register {
        #[command(flatten)]
        signer: Signer,
        #[arg(long)]
        hotkey: String,
    },
    /// The root members, their root stake and the senate.
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Root weights over netuids (the `root-weights` emission rule).
    #[command(subcommand)]
    Weights(RootWeightsCmd),
}

#[derive(Subcommand, Debug)]
pub enum RootWeightsCmd {
    /// set_root_weights: a root validator's weights over netuids, signed by
    /// its hotkey (needs root stake; once per root tempo).
    Set {
        /// Wallet holding the hotkey.
        #[arg(long)]
        wallet: String,
        /// Hotkey name in the wallet.
        #[arg(long)]
        hotkey: String,
        /// Comma-separated netuids.
        #[arg(long, value_delimiter = ',')]
        netuids: Vec<u16>,
        /// Comma-separated u16 weights, one per netuid.
        #[arg(long, value_delimiter = ',')]
        weights: Vec<u16>,
    },
    /// The root validators' weights, their root stake, the active emission
    /// rule and the last root epoch's shares.
    Show {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum DelegateCmd {
    /// Set a delegate's take (percent with up to 2 decimals, e.g. 18 or 9.5).
    /// A decrease applies at once; an increase is rate-limited.
    Take {
        #[command(flatten)]
        signer: Signer,
        #[arg(long)]
        hotkey: String,
        #[arg(long)]
        take: String,
    },
    /// A hotkey's take and owner.
    Show { hotkey: String },
    /// Set a parent hotkey's childkeys on a subnet (pending for the
    /// cooldown, at once before the subnet starts); no --child clears them.
    Children {
        #[command(flatten)]
        signer: Signer,
        /// The parent hotkey (owned by the signer).
        #[arg(long)]
        hotkey: String,
        #[arg(long)]
        netuid: u16,
        /// PROPORTION=HOTKEY, e.g. 0.25=bob/child (up to 5; proportions sum to at most 1).
        #[arg(long = "child")]
        children: Vec<String>,
    },
    /// A child hotkey's take on a subnet (percent, up to 2 decimals; max 18).
    ChildkeyTake {
        #[command(flatten)]
        signer: Signer,
        #[arg(long)]
        hotkey: String,
        #[arg(long)]
        netuid: u16,
        #[arg(long)]
        take: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum LockCmd {
    /// Lock (or top up a lock of) alpha on a subnet under a hotkey.
    Add {
        #[command(flatten)]
        signer: Signer,
        #[arg(long)]
        hotkey: String,
        #[arg(long)]
        netuid: u16,
        /// Alpha to lock (decimal).
        #[arg(long)]
        alpha: String,
    },
    /// Make a lock perpetual (never unlocks) or not.
    Perpetual {
        #[command(flatten)]
        signer: Signer,
        #[arg(long)]
        netuid: u16,
        #[arg(long)]
        off: bool,
    },
    /// Move a lock to another hotkey.
    Move {
        #[command(flatten)]
        signer: Signer,
        #[arg(long)]
        netuid: u16,
        #[arg(long)]
        to_hotkey: String,
    },
    /// A coldkey's locks now (locked, conviction, available alpha).
    Show { account: String },
}

#[derive(Subcommand, Debug)]
pub enum AdminCmd {
    /// Set any subnet hyperparameter as the governance authority.
    Set {
        #[command(flatten)]
        signer: Signer,
        #[arg(long)]
        netuid: u16,
        #[command(flatten)]
        param: ParamArg,
    },
    /// Set a global parameter (subnet_limit, tao_weight, min_stake, ...).
    Global {
        #[command(flatten)]
        signer: Signer,
        #[command(flatten)]
        param: ParamArg,
    },
    /// Appoint the triumvirate (up to 3 coldkeys: SS58 or wallet names).
    Triumvirate {
        #[command(flatten)]
        signer: Signer,
        #[arg(long, value_delimiter = ',')]
        members: Vec<String>,
    },
    /// Hand the admin key's powers to the collective, for good.
    Handover {
        #[command(flatten)]
        signer: Signer,
    },
}

/// What a proposal would do.
#[derive(Args, Debug, Clone)]
pub struct ActionArgs {
    /// Set a subnet hyperparameter on this subnet (with --param/--value).
    #[arg(long)]
    pub netuid: Option<u16>,
    /// Hyperparameter or global parameter name.
    #[arg(long)]
    pub param: Option<String>,
    #[arg(long)]
    pub value: Option<String>,
    /// Set a global parameter (with --param/--value) instead.
    #[arg(long)]
    pub global: bool,
    /// Dissolve this subnet.
    #[arg(long)]
    pub dissolve: Option<u16>,
    /// Any admin action as JSON (governance-core `AdminAction`).
    #[arg(long)]
    pub action_json: Option<String>,
}

#[derive(Args, Debug)]
pub struct ProposeArgs {
    #[command(flatten)]
    pub signer: Signer,
    /// Voting period in blocks (at least the configured motion duration).
    #[arg(long)]
    pub duration: u64,
    #[command(flatten)]
    pub action: ActionArgs,
}

#[derive(Args, Debug)]
pub struct VoteArgs {
    #[command(flatten)]
    pub signer: Signer,
    /// The senator hotkey voting (its coldkey signs).
    #[arg(long)]
    pub hotkey: String,
    #[arg(long)]
    pub id: u64,
    #[arg(long, conflicts_with = "nay")]
    pub aye: bool,
    #[arg(long)]
    pub nay: bool,
}

#[derive(Subcommand, Debug)]
pub enum ProposalsCmd {
    /// Every proposal with its tally (default).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Close a decided or expired proposal (anyone may).
    Close {
        #[command(flatten)]
        signer: Signer,
        #[arg(long)]
        id: u64,
    },
}

/// snake_case → the enum variant name (`max_allowed_uids` → `MaxAllowedUids`).
fn camel(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn value_json(v: &str) -> Value {
    serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned()))
}

/// `--param NAME --value V` as a subnet hyperparameter.
pub fn parse_hyperparameter(name: &str, value: &str) -> Result<Hyperparameter> {
    let j = json!({ camel(name): value_json(value) });
    let p: Hyperparameter = serde_json::from_value(j)
        .with_context(|| format!("unknown hyperparameter {name:?} or bad value {value:?}"))?;
    if p.name() != name {
        bail!(
            "unknown hyperparameter {name:?} (did you mean {:?}?)",
            p.name()
        );
    }
    Ok(p)
}

/// `--param NAME --value V` as a global parameter.
pub fn parse_global(name: &str, value: &str) -> Result<GlobalParam> {
    let j = json!({ camel(name): value_json(value) });
    serde_json::from_value(j)
        .with_context(|| format!("unknown global parameter {name:?} or bad value {value:?}"))
}

fn action(a: &ActionArgs) -> Result<AdminAction> {
    if let Some(j) = &a.action_json {
        return serde_json::from_str(j).context("--action-json is not an AdminAction");
    }
    if let Some(n) = a.dissolve {
        return Ok(AdminAction::DissolveSubnet { netuid: n });
    }
    let (Some(p), Some(v)) = (&a.param, &a.value) else {
        bail!(
            "give --param and --value (with --netuid or --global), --dissolve N or --action-json"
        );
    };
    if a.global {
        return Ok(AdminAction::SetGlobal(parse_global(p, v)?));
    }
    let Some(netuid) = a.netuid else {
        bail!("a hyperparameter needs --netuid (or --global for a global parameter)");
    };
    Ok(AdminAction::SetHyperparameter {
        netuid,
        param: parse_hyperparameter(p, v)?,
    })
}

/// A decimal fraction ("0.25", "1") → u64 proportion of u64::MAX, rounded
/// down, exactly (no floating point).
pub fn parse_proportion(s: &str) -> Result<u64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 18
        || int.is_empty()
        || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
    {
        bail!("a proportion is a decimal between 0 and 1, e.g. 0.25, got {s:?}");
    }
    let scale = 10u128.pow(frac.len() as u32);
    let num: u128 = format!("{int}{frac}").parse().context("proportion")?;
    if num > scale {
        bail!("a proportion is at most 1, got {s:?}");
    }
    Ok((num * u128::from(u64::MAX) / scale) as u64)
}

/// Percent text ("18", "9.5") → u16 proportion of 65535, rounded down.
pub fn parse_take(s: &str) -> Result<u16> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 2 || int.is_empty() {
        bail!("--take is a percent with up to 2 decimals, e.g. 18 or 9.5");
    }
    let hundredths: u64 = format!("{int}{frac:0<2}")
        .parse()
        .context("--take is not a number")?;
    if hundredths > 10_000 {
        bail!("--take is at most 100");
    }
    Ok((hundredths * 65_535 / 10_000) as u16)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Signs and sends one governance command; waits for a saga's outcome when
/// `wait` (the op id is the command id).
fn send(
    wallet_dir: &Path,
    nats_url: &str,
    signer: &Signer,
    name: &str,
    body: &G,
    op: Option<String>,
    wait: bool,
) -> Result<()> {
    let key = client::coldkey(wallet_dir, &signer.wallet)?;
    let v = runtime()?.block_on(async {
        let _g = crate::cli::cli_telemetry();
        let c = client::connect(nats_url).await?;
        let accepted = client::send(&c, &key, "governance", name, body, op.clone()).await?;
        match op {
            Some(op) if wait && !signer.no_wait => {
                client::wait_for_op(&c, "governance", &op, Duration::from_secs(signer.wait_secs))
                    .await
            }
            _ => anyhow::Ok(json!({"status": "accepted", "op": op, "accepted": accepted})),
        }
    })?;
    let failed = v["status"] == "failed";
    print_json(&v);
    if failed {
        bail!("{}", v["code"].as_str().unwrap_or("Failed"));
    }
    Ok(())
}

fn query(nats_url: &str, name: &str, args: Value) -> Result<Value> {
    runtime()?.block_on(async {
        let c = client::connect(nats_url).await?;
        client::query(&c, "governance", name, args).await
    })
}

fn new_op() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// `taonet subnet create`.
pub fn subnet_create(
    wallet_dir: &Path,
    nats_url: &str,
    signer: &Signer,
    hotkey: &str,
    name: Option<String>,
    max_lock: Option<String>,
) -> Result<()> {
    let op = new_op();
    let body = G::RegisterNetwork {
        op: op.clone(),
        hotkey: resolve_hotkey(wallet_dir, hotkey)?,
        identity: name.map(|n| governance_core::SubnetIdentity {
            name: n,
            ..Default::default()
        }),
        max_lock_cost: max_lock
            .map(|m| parse_tao(&m).map_err(|e| anyhow::anyhow!("--max-lock: {e}")))
            .transpose()?,
    };
    send(
        wallet_dir,
        nats_url,
        signer,
        "register_network",
        &body,
        Some(op),
        true,
    )
}

pub fn subnet_start(wallet_dir: &Path, nats_url: &str, signer: &Signer, netuid: u16) -> Result<()> {
    send(
        wallet_dir,
        nats_url,
        signer,
        "start_call",
        &G::StartCall { netuid },
        None,
        false,
    )
}

pub fn subnet_set(
    wallet_dir: &Path,
    nats_url: &str,
    signer: &Signer,
    netuid: u16,
    p: &ParamArg,
) -> Result<()> {
    let body = G::SetHyperparameter {
        netuid,
        param: parse_hyperparameter(&p.param, &p.value)?,
    };
    send(
        wallet_dir,
        nats_url,
        signer,
        "set_hyperparameter",
        &body,
        None,
        false,
    )
}

/// Governance's view of one subnet (owner, lock, burn, neurons, params).
pub fn subnet_governance(nats_url: &str, netuid: u16) -> Result<Value> {
    query(nats_url, "subnet", json!({"netuid": netuid}))
}

pub fn lock_cost(nats_url: &str) -> Result<Value> {
    query(nats_url, "lock_cost", json!(null))
}

pub fn neuron(wallet_dir: &Path, nats_url: &str, cmd: NeuronCmd) -> Result<()> {
    match cmd {
        NeuronCmd::Register {
            signer,
            netuid,
            hotkey,
            max_burn,
        } => {
            let op = new_op();
            let body = G::BurnedRegister {
                op: op.clone(),
                netuid,
                hotkey: resolve_hotkey(wallet_dir, &hotkey)?,
                limit_price: max_burn
                    .map(|m| parse_tao(&m).map_err(|e| anyhow::anyhow!("--max-burn: {e}")))
                    .transpose()?,
            };
            send(
                wallet_dir,
                nats_url,
                &signer,
                "burned_register",
                &body,
                Some(op),
                true,
            )
        }
    }
}

pub fn root(wallet_dir: &Path, nats_url: &str, cmd: RootCmd) -> Result<()> {
    match cmd {
        RootCmd::Register { signer, hotkey } => {
            let body = G::RootRegister {
                hotkey: resolve_hotkey(wallet_dir, &hotkey)?,
            };
            send(
                wallet_dir,
                nats_url,
                &signer,
                "root_register",
                &body,
                None,
                false,
            )
        }
        RootCmd::Weights(RootWeightsCmd::Set {
            wallet,
            hotkey,
            netuids,
            weights,
        }) => {
            if netuids.len() != weights.len() {
                bail!(
                    "WeightVecNotEqualSize: {} netuids but {} weights",
                    netuids.len(),
                    weights.len()
                );
            }
            let key = keys::Wallet::open(wallet_dir, &wallet)
                .with_context(|| format!("wallet {wallet}"))?
                .hotkey(&hotkey)
                .with_context(|| format!("hotkey {hotkey} of wallet {wallet}"))?;
            let body = amm_core::CommandBody::SetRootWeights {
                weights: netuids.into_iter().zip(weights).collect(),
            };
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let v = rt.block_on(async {
                let c = client::connect(nats_url).await?;
                let acc = client::send(&c, &key, "amm", "set_root_weights", &body, None).await?;
                anyhow::Ok(serde_json::to_value(acc)?)
            })?;
            print_json(&v);
            Ok(())
        }
        RootCmd::Weights(RootWeightsCmd::Show { json: as_json }) => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let v = rt.block_on(async {
                let c = client::connect(nats_url).await?;
                client::query(&c, "amm", "root_weights", json!({})).await
            })?;
            if as_json {
                print_json(&v);
            } else {
                print!("{}", root_weights_table(&v));
            }
            Ok(())
        }
        RootCmd::Show { json: as_json } => {
            let v = query(nats_url, "root", json!(null))?;
            if as_json {
                print_json(&v);
            } else {
                print!("{}", root_table(&v));
            }
            Ok(())
        }
    }
}

pub fn root_weights_table(v: &Value) -> String {
    let mut out = format!(
        "emission rule {}   root tempo {}\n{:<50} {:>20} {:>8}  weights (netuid:weight)\n",
        v["emission_rule"].as_str().unwrap_or("-"),
        v["root_tempo"],
        "hotkey",
        "root stake",
        "set at"
    );
    for r in v["validators"].as_array().into_iter().flatten() {
        let w: Vec<String> = r["weights"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| format!("{}:{}", p[0], p[1]))
            .collect();
        out += &format!(
            "{:<50} {:>20} {:>8}  {}\n",
            r["hotkey"].as_str().unwrap_or("-"),
            format_tao(r["root_stake"].as_u64().unwrap_or(0)),
            r["set_at"],
            w.join(" ")
        );
    }
    let shares: Vec<String> = v["root_shares"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| format!("{}:{}", s["netuid"], s["share"].as_str().unwrap_or("0")))
        .collect();
    out += &format!(
        "last root epoch shares: {}\n",
        if shares.is_empty() {
            "none".to_string()
        } else {
            shares.join(" ")
        }
    );
    out
}

pub fn root_table(v: &Value) -> String {
    let senate: Vec<&str> = v["senate"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str()).collect())
        .unwrap_or_default();
    let mut out = format!(
        "{:>4}  {:<50} {:>20}  senate\n",
        "uid", "hotkey", "root stake"
    );
    for (uid, m) in v["stakes"].as_array().into_iter().flatten().enumerate() {
        let h = m["hotkey"].as_str().unwrap_or("-");
        out += &format!(
            "{uid:>4}  {h:<50} {:>20}  {}\n",
            format_tao(m["root_stake_rao"].as_u64().unwrap_or(0)),
            if senate.contains(&h) { "yes" } else { "" }
        );
    }
    out
}

pub fn delegate(wallet_dir: &Path, nats_url: &str, cmd: DelegateCmd) -> Result<()> {
    match cmd {
        DelegateCmd::Take {
            signer,
            hotkey,
            take,
        } => {
            let hotkey = resolve_hotkey(wallet_dir, &hotkey)?;
            let take = parse_take(&take)?;
            let now = query(nats_url, "delegate", json!({"hotkey": hotkey}))?;
            let current = now["take"].as_u64().unwrap_or(0);
            let body = if u64::from(take) < current {
                G::DecreaseTake { hotkey, take }
            } else {
                G::IncreaseTake { hotkey, take }
            };
            let name = if u64::from(take) < current {
                "decrease_take"
            } else {
                "increase_take"
            };
            send(wallet_dir, nats_url, &signer, name, &body, None, false)
        }
        DelegateCmd::Children {
            signer,
            hotkey,
            netuid,
            children,
        } => {
            let children = children
                .iter()
                .map(|c| {
                    let (p, h) = c.split_once('=').ok_or_else(|| {
                        anyhow::anyhow!("--child takes PROPORTION=HOTKEY, got {c:?}")
                    })?;
                    Ok((parse_proportion(p)?, resolve_hotkey(wallet_dir, h)?))
                })
                .collect::<Result<Vec<_>>>()?;
            let body = G::SetChildren {
                hotkey: resolve_hotkey(wallet_dir, &hotkey)?,
                netuid,
                children,
            };
            send(
                wallet_dir,
                nats_url,
                &signer,
                "set_children",
                &body,
                None,
                false,
            )
        }
        DelegateCmd::ChildkeyTake {
            signer,
            hotkey,
            netuid,
            take,
        } => {
            let body = G::SetChildkeyTake {
                hotkey: resolve_hotkey(wallet_dir, &hotkey)?,
                netuid,
                take: parse_take(&take)?,
            };
            send(
                wallet_dir,
                nats_url,
                &signer,
                "set_childkey_take",
                &body,
                None,
                false,
            )
        }
        DelegateCmd::Show { hotkey } => {
            let hotkey = resolve_hotkey(wallet_dir, &hotkey)?;
            print_json(&query(nats_url, "delegate", json!({"hotkey": hotkey}))?);
            Ok(())
        }
    }
}

pub fn lock(wallet_dir: &Path, nats_url: &str, cmd: LockCmd) -> Result<()> {
    match cmd {
        LockCmd::Add {
            signer,
            hotkey,
            netuid,
            alpha,
        } => {
            let body = G::LockStake {
                hotkey: resolve_hotkey(wallet_dir, &hotkey)?,
                netuid,
                amount: parse_tao(&alpha).map_err(|e| anyhow::anyhow!("--alpha: {e}"))?,
            };
            send(
                wallet_dir,
                nats_url,
                &signer,
                "lock_stake",
                &body,
                None,
                false,
            )
        }
        LockCmd::Perpetual {
            signer,
            netuid,
            off,
        } => {
            let body = G::SetPerpetualLock {
                netuid,
                perpetual: !off,
            };
            send(
                wallet_dir,
                nats_url,
                &signer,
                "set_perpetual_lock",
                &body,
                None,
                false,
            )
        }
        LockCmd::Move {
            signer,
            netuid,
            to_hotkey,
        } => {
            let body = G::MoveLock {
                destination_hotkey: resolve_hotkey(wallet_dir, &to_hotkey)?,
                netuid,
            };
            send(
                wallet_dir,
                nats_url,
                &signer,
                "move_lock",
                &body,
                None,
                false,
            )
        }
        LockCmd::Show { account } => {
            let who = client::resolve_account(wallet_dir, &account)?;
            print_json(&query(nats_url, "locks", json!({"coldkey": who}))?);
            Ok(())
        }
    }
}

pub fn admin(wallet_dir: &Path, nats_url: &str, cmd: AdminCmd) -> Result<()> {
    let (signer, body) = match cmd {
        AdminCmd::Set {
            signer,
            netuid,
            param,
        } => (
            signer,
            G::Admin(AdminAction::SetHyperparameter {
                netuid,
                param: parse_hyperparameter(&param.param, &param.value)?,
            }),
        ),
        AdminCmd::Global { signer, param } => (
            signer,
            G::Admin(AdminAction::SetGlobal(parse_global(
                &param.param,
                &param.value,
            )?)),
        ),
        AdminCmd::Triumvirate { signer, members } => {
            let members = members
                .iter()
                .map(|m| client::resolve_account(wallet_dir, m))
                .collect::<Result<Vec<_>>>()?;
            (signer, G::Admin(AdminAction::SetTriumvirate { members }))
        }
        AdminCmd::Handover { signer } => (signer, G::HandOverToCollective),
    };
    send(wallet_dir, nats_url, &signer, "admin", &body, None, false)
}

pub fn propose(wallet_dir: &Path, nats_url: &str, a: ProposeArgs) -> Result<()> {
    let body = G::Propose {
        action: action(&a.action)?,
        duration: a.duration,
    };
    send(
        wallet_dir, nats_url, &a.signer, "propose", &body, None, false,
    )
}

pub fn vote(wallet_dir: &Path, nats_url: &str, a: VoteArgs) -> Result<()> {
    if a.aye == a.nay {
        bail!("give --aye or --nay");
    }
    let body = G::Vote {
        hotkey: resolve_hotkey(wallet_dir, &a.hotkey)?,
        id: a.id,
        approve: a.aye,
    };
    send(wallet_dir, nats_url, &a.signer, "vote", &body, None, false)
}

pub fn proposals(wallet_dir: &Path, nats_url: &str, cmd: Option<ProposalsCmd>) -> Result<()> {
    match cmd.unwrap_or(ProposalsCmd::List { json: false }) {
        ProposalsCmd::List { json: as_json } => {
            let v = query(nats_url, "proposals", json!(null))?;
            if as_json {
                print_json(&v);
            } else {
                print!("{}", proposals_table(&v));
            }
            Ok(())
        }
        ProposalsCmd::Close { signer, id } => send(
            wallet_dir,
            nats_url,
            &signer,
            "close",
            &G::Close { id },
            None,
            false,
        ),
    }
}

pub fn proposals_table(v: &Value) -> String {
    let mut out = format!(
        "block {}  senate {}  triumvirate {}\n{:>4}  {:<6} {:>8} {:>5} {:>5} {:>9}  action\n",
        v["block"],
        v["senate"].as_array().map_or(0, |a| a.len()),
        v["triumvirate"].as_array().map_or(0, |a| a.len()),
        "id",
        "open",
        "ends",
        "ayes",
        "nays",
        "threshold",
    );
    for p in v["proposals"].as_array().into_iter().flatten() {
        out += &format!(
            "{:>4}  {:<6} {:>8} {:>5} {:>5} {:>9}  {}\n",
            p["id"],
            if p["open"] == true { "yes" } else { "no" },
            p["end"],
            p["ayes"].as_array().map_or(0, |a| a.len()),
            p["nays"].as_array().map_or(0, |a| a.len()),
            p["threshold"].as_str().unwrap_or("-"),
            p["action"],
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyperparameters_parse_by_their_snake_case_names() {
        assert_eq!(
            parse_hyperparameter("tempo", "10").unwrap(),
            Hyperparameter::Tempo(10)
        );
        assert_eq!(
            parse_hyperparameter("yuma3_enabled", "false").unwrap(),
            Hyperparameter::Yuma3Enabled(false)
        );
        assert_eq!(
            parse_hyperparameter("subnet_emission_enabled", "true").unwrap(),
            Hyperparameter::SubnetEmissionEnabled(true)
        );
        assert_eq!(
            parse_hyperparameter("alpha_values", r#"{"low":1,"high":2}"#).unwrap(),
            Hyperparameter::AlphaValues { low: 1, high: 2 }
        );
        assert!(parse_hyperparameter("no_such_thing", "1").is_err());
        assert!(parse_hyperparameter("tempo", "-1").is_err());
        assert_eq!(
            parse_global("subnet_limit", "12").unwrap(),
            GlobalParam::SubnetLimit(12)
        );
    }

    #[test]
    fn proportions_are_exact_fractions_of_u64_max() {
        assert_eq!(parse_proportion("1").unwrap(), u64::MAX);
        assert_eq!(parse_proportion("0").unwrap(), 0);
        assert_eq!(parse_proportion("0.5").unwrap(), u64::MAX / 2);
        assert_eq!(parse_proportion("0.25").unwrap(), u64::MAX / 4);
        assert!(parse_proportion("1.5").is_err());
        assert!(parse_proportion("-0.1").is_err());
        assert!(parse_proportion("abc").is_err());
    }

    #[test]
    fn takes_are_percent_of_u16_max() {
        assert_eq!(parse_take("18").unwrap(), 11_796);
        assert_eq!(parse_take("0").unwrap(), 0);
        assert_eq!(parse_take("100").unwrap(), 65_535);
        assert_eq!(parse_take("9.5").unwrap(), 6_225);
        assert!(parse_take("101").is_err());
        assert!(parse_take("1.234").is_err());
    }
}
