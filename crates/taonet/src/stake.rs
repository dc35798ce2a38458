//! `taonet stake ...`, `taonet subnets list`, `taonet subnet show`: the dTAO
//! side of the CLI.
//!
//! A staking command is signed by the wallet's coldkey and sent to the amm;
//! its command id is also the operation id of the saga it starts with the
//! ledger. The amm accepts or refuses it at once (a named error, nothing
//! moved); an accepted stake then completes when the ledger has moved the
//! TAO, so the CLI waits for the operation's outcome (`--no-wait` prints the
//! acceptance and returns).

use crate::amount::{format_tao, parse_tao};
use crate::{client, print_json};
use amm_core::CommandBody as A;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use keys::AccountId;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// Which wallet signs, and whether to wait for the outcome.
#[derive(Args, Debug, Clone)]
pub struct Signer {
    /// Wallet whose coldkey signs.
    #[arg(long)]
    pub wallet: String,
    /// Print the acceptance and return without waiting for the outcome.
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for the outcome (seconds).
    #[arg(long, default_value_t = 30)]
    pub wait_secs: u64,
}

#[derive(Args, Debug, Clone)]
pub struct Limit {
    /// Limit price in TAO per alpha (decimal); the swap stops there.
    #[arg(long)]
    pub limit_price: Option<String>,
    /// Execute the part up to the limit instead of refusing the whole.
    #[arg(long)]
    pub partial: bool,
}

#[derive(Subcommand, Debug)]
pub enum StakeCmd {
    /// Stake TAO to a hotkey on a subnet (buys alpha through the pool).
    Add {
        #[command(flatten)]
        signer: Signer,
        /// Hotkey: SS58, or WALLET/HOTKEY of a local wallet.
        #[arg(long)]
        hotkey: String,
        #[arg(long)]
        netuid: u16,
        /// TAO to stake (decimal, e.g. 1.5).
        #[arg(long)]
        amount: String,
        #[command(flatten)]
        limit: Limit,
    },
    /// Unstake alpha (sells it through the pool; TAO to the coldkey).
    Remove {
        #[command(flatten)]
        signer: Signer,
        #[arg(long)]
        hotkey: String,
        #[arg(long)]
        netuid: u16,
        /// Alpha to unstake (decimal).
        #[arg(long, required_unless_present = "all")]
        alpha: Option<String>,
        /// Every position of this hotkey, on every subnet.
        #[arg(long, conflicts_with_all = ["alpha", "limit_price", "partial"])]
        all: bool,
        #[command(flatten)]
        limit: Limit,
    },
    /// Move stake to another hotkey and/or subnet (same coldkey).
    Move {
        #[command(flatten)]
        signer: Signer,
        #[arg(long)]
        from_hotkey: String,
        #[arg(long)]
        to_hotkey: String,
        #[arg(long)]
        from_netuid: u16,
        #[arg(long)]
        to_netuid: u16,
        #[arg(long)]
        alpha: String,
    },
    /// Give stake to another coldkey (same hotkey), maybe on another subnet.
    Transfer {
        #[command(flatten)]
        signer: Signer,
        /// Destination coldkey: SS58 or wallet name.
        #[arg(long)]
        to: String,
        #[arg(long)]
        hotkey: String,
        #[arg(long)]
        from_netuid: u16,
        #[arg(long)]
        to_netuid: u16,
        #[arg(long)]
        alpha: String,
    },
    /// Swap stake from one subnet to another (same hotkey and coldkey).
    Swap {
        #[command(flatten)]
        signer: Signer,
        #[arg(long)]
        hotkey: String,
        #[arg(long)]
        from_netuid: u16,
        #[arg(long)]
        to_netuid: u16,
        #[arg(long)]
        alpha: String,
        #[command(flatten)]
        limit: Limit,
    },
    /// A coldkey's positions with their TAO value.
    List {
        /// Wallet name or SS58 coldkey.
        #[arg(long)]
        wallet: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum SubnetsCmd {
    /// Every subnet: pool, price, EMA price, emission, pending pots.
    List {
        #[arg(long)]
        json: bool,
    },
}

/// A hotkey given as SS58 or `WALLET/HOTKEY`.
pub fn resolve_hotkey(wallet_dir: &Path, s: &str) -> Result<AccountId> {
    if let Ok(a) = s.parse::<AccountId>() {
        return Ok(a);
    }
    let Some((wallet, hotkey)) = s.split_once('/') else {
        bail!("{s:?} is neither an SS58 address nor WALLET/HOTKEY");
    };
    Ok(keys::Wallet::open(wallet_dir, wallet)
        .with_context(|| format!("wallet {wallet}"))?
        .hotkey(hotkey)
        .with_context(|| format!("hotkey {hotkey} of wallet {wallet}"))?
        .public())
}

fn alpha(s: &str) -> Result<u64> {
    parse_tao(s).map_err(|e| anyhow::anyhow!("alpha amount {s:?}: {e}"))
}

fn limit_price(l: &Limit) -> Result<Option<u64>> {
    l.limit_price
        .as_deref()
        .map(|p| parse_tao(p).map_err(|e| anyhow::anyhow!("--limit-price {p:?}: {e}")))
        .transpose()
}

/// Runs a `stake` subcommand.
pub fn stake(wallet_dir: &Path, nats_url: &str, cmd: StakeCmd) -> Result<()> {
    let op = uuid::Uuid::now_v7().to_string();
    let (signer, body, name) = match cmd {
        StakeCmd::List { wallet, json: j } => return list(wallet_dir, nats_url, &wallet, j),
        StakeCmd::Add {
            signer,
            hotkey,
            netuid,
            amount,
            limit,
        } => {
            let body = A::AddStake {
                op: op.clone(),
                hotkey: resolve_hotkey(wallet_dir, &hotkey)?,
                netuid,
                amount: parse_tao(&amount).map_err(|e| anyhow::anyhow!("--amount: {e}"))?,
                limit_price: limit_price(&limit)?,
                allow_partial: limit.partial,
            };
            (signer, body, "add_stake")
        }
        StakeCmd::Remove {
            signer,
            hotkey,
            netuid,
            alpha: a,
            all,
            limit,
        } => {
            let hotkey = resolve_hotkey(wallet_dir, &hotkey)?;
            if all {
                let body = A::UnstakeAll {
                    op: op.clone(),
                    hotkey,
                };
                (signer, body, "unstake_all")
            } else {
                let body = A::RemoveStake {
                    op: op.clone(),
                    hotkey,
                    netuid,
                    alpha: alpha(a.as_deref().unwrap_or_default())?,
                    limit_price: limit_price(&limit)?,
                    allow_partial: limit.partial,
                };
                (signer, body, "remove_stake")
            }
        }
        StakeCmd::Move {
            signer,
            from_hotkey,
            to_hotkey,
            from_netuid,
            to_netuid,
            alpha: a,
        } => {
            let body = A::MoveStake {
                op: op.clone(),
                origin_hotkey: resolve_hotkey(wallet_dir, &from_hotkey)?,
                destination_hotkey: resolve_hotkey(wallet_dir, &to_hotkey)?,
                origin_netuid: from_netuid,
                destination_netuid: to_netuid,
                alpha: alpha(&a)?,
            };
            (signer, body, "move_stake")
        }
        StakeCmd::Transfer {
            signer,
            to,
            hotkey,
            from_netuid,
            to_netuid,
            alpha: a,
        } => {
            let body = A::TransferStake {
                op: op.clone(),
                destination_coldkey: client::resolve_account(wallet_dir, &to)?,
                hotkey: resolve_hotkey(wallet_dir, &hotkey)?,
                origin_netuid: from_netuid,
                destination_netuid: to_netuid,
                alpha: alpha(&a)?,
            };
            (signer, body, "transfer_stake")
        }
        StakeCmd::Swap {
            signer,
            hotkey,
            from_netuid,
            to_netuid,
            alpha: a,
            limit,
        } => {
            let body = A::SwapStake {
                op: op.clone(),
                hotkey: resolve_hotkey(wallet_dir, &hotkey)?,
                origin_netuid: from_netuid,
                destination_netuid: to_netuid,
                alpha: alpha(&a)?,
                limit_price: limit_price(&limit)?,
                allow_partial: limit.partial,
            };
            (signer, body, "swap_stake")
        }
    };
    let key = client::coldkey(wallet_dir, &signer.wallet)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let v = rt.block_on(async {
        let _g = crate::cli::cli_telemetry();
        let c = client::connect(nats_url).await?;
        let accepted = client::send(&c, &key, "amm", name, &body, Some(op.clone())).await?;
        if signer.no_wait {
            return anyhow::Ok(json!({"op": op, "status": "accepted", "accepted": accepted}));
        }
        client::wait_for_op(&c, "amm", &op, Duration::from_secs(signer.wait_secs)).await
    })?;
    let failed = v["status"] == "failed";
    print_json(&v);
    if failed {
        bail!(
            "{}: {}",
            v["code"].as_str().unwrap_or("Failed"),
            v["message"].as_str().unwrap_or("")
        );
    }
    Ok(())
}

fn list(wallet_dir: &Path, nats_url: &str, wallet: &str, as_json: bool) -> Result<()> {
    let coldkey = client::resolve_account(wallet_dir, wallet)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let v = rt.block_on(async {
        let c = client::connect(nats_url).await?;
        let mut v = client::query(&c, "amm", "portfolio", json!({"coldkey": coldkey})).await?;
        if let Ok(b) = client::query(&c, "ledger", "balance", json!({"account": coldkey})).await {
            v["free_rao"] = b["free_rao"].clone();
        }
        anyhow::Ok(v)
    })?;
    if as_json {
        print_json(&v);
    } else {
        print!("{}", portfolio_table(&v));
    }
    Ok(())
}

fn u(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// A coldkey's positions, readable.
pub fn portfolio_table(v: &Value) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "coldkey {}", s(&v["coldkey"]));
    let _ = writeln!(
        out,
        "{:>6}  {:<48}  {:>22}  {:>22}",
        "netuid", "hotkey", "alpha", "TAO value (spot)"
    );
    for p in v["positions"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "{:>6}  {:<48}  {:>22}  {:>22}",
            s(&p["netuid"]),
            s(&p["hotkey"]),
            format_tao(u(&p["alpha"])),
            format_tao(u(&p["tao_value"])),
        );
    }
    let _ = writeln!(
        out,
        "staked value {} TAO   free {} TAO",
        format_tao(u(&v["total_tao_value"])),
        format_tao(u(&v["free_rao"]))
    );
    out
}

/// Runs `subnets list`.
pub fn subnets(nats_url: &str, cmd: SubnetsCmd) -> Result<()> {
    let SubnetsCmd::List { json: as_json } = cmd;
    let v = query_once(nats_url, "subnets", json!({}))?;
    if as_json {
        print_json(&v);
    } else {
        print!("{}", subnets_table(&v));
    }
    Ok(())
}

/// Runs `subnet show N`.
pub fn subnet_show(nats_url: &str, netuid: u16, as_json: bool) -> Result<()> {
    let v = query_once(nats_url, "subnet", json!({"netuid": netuid}))?;
    if as_json {
        print_json(&v);
    } else {
        print!("{}", subnet_detail(&v));
    }
    Ok(())
}

fn query_once(nats_url: &str, name: &str, args: Value) -> Result<Value> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let c = client::connect(nats_url).await?;
        client::query(&c, "amm", name, args).await
    })
}

/// One row per subnet.
pub fn subnets_table(v: &Value) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "block {}   emission rule {}",
        s(&v["block"]),
        v["emission_rule"].as_str().unwrap_or("ema-price")
    );
    let _ = writeln!(
        out,
        "{:>6}  {:>14}  {:>14}  {:>20}  {:>20}  {:>16}  {:>16}  {:>8}  {:>12}",
        "netuid",
        "price",
        "EMA price",
        "TAO reserve",
        "alpha reserve",
        "alpha/block",
        "pending pots",
        "emitting",
        "TAO share"
    );
    for n in v["subnets"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "{:>6}  {:>14}  {:>14}  {:>20}  {:>20}  {:>16}  {:>16}  {:>8}  {:>12}",
            s(&n["netuid"]),
            s(&n["price"]),
            s(&n["moving_price"]),
            format_tao(u(&n["tao_reserve"])),
            format_tao(u(&n["alpha_reserve"])),
            format_tao(u(&n["alpha_emission_per_block"])),
            format_tao(
                u(&n["pending"]["server"])
                    + u(&n["pending"]["validator"])
                    + u(&n["pending"]["root"])
            ),
            if n["emitting"].as_bool().unwrap_or(false) {
                "yes"
            } else {
                "no"
            },
            share_pct(u(&n["emission_share_ppb"])),
        );
    }
    out
}

/// Parts per 10^9 as a percentage with 4 decimals, in integers.
fn share_pct(ppb: u64) -> String {
    // ppb / 10^7 = percent; keep 4 decimals: ppb / 10^3 = percent × 10^4.
    let x = ppb / 1_000;
    format!("{}.{:04}%", x / 10_000, x % 10_000)
}

/// Every field of one subnet, one per line.
pub fn subnet_detail(v: &Value) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if let Some(map) = v.as_object() {
        for (k, val) in map {
            let _ = writeln!(out, "{k:<24} {}", s(val));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_render_missing_fields_as_dashes() {
        let t = subnets_table(&json!({"block": 3, "subnets": [{"netuid": 1}]}));
        assert!(t.contains("block 3"));
        assert!(t.lines().count() == 3);
        let p = portfolio_table(
            &json!({"coldkey": "x", "positions": [{"netuid": 1, "alpha": 1_500_000_000u64}]}),
        );
        assert!(p.contains("1.5"));
    }
}
