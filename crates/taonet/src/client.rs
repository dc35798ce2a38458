//! Talking to a running cluster: signing commands with wallet keys and
//! sending them, and queries.

use anyhow::{bail, Context, Result};
use bus::rpc::{Accepted, CallOptions};
use keys::{CommandBody, Keypair, Signed, Wallet, WalletError};
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

/// Connects without retrying forever: a CLI should say at once that no
/// cluster is running. `url` may list several servers, comma-separated;
/// credentials come from `TAONET_NATS_USER` and `TAONET_NATS_PASSWORD_FILE`
/// (see `bus::credentials_from_env`).
pub async fn connect(url: &str) -> Result<async_nats::Client> {
    bus::with_env_credentials(async_nats::ConnectOptions::new())?
        .name("taonet-cli")
        .connection_timeout(Duration::from_secs(3))
        .connect(bus::server_list(url))
        .await
        .with_context(|| {
            format!("no NATS server at {url}: is `taonet up` running? (or pass --nats URL)")
        })
}

/// The password for an encrypted wallet: `TAONET_WALLET_PASSWORD`, else a
/// prompt on the terminal.
pub fn password_for(wallet: &Wallet) -> Result<Option<String>> {
    if !wallet.is_encrypted()? {
        return Ok(None);
    }
    if let Ok(p) = std::env::var("TAONET_WALLET_PASSWORD") {
        return Ok(Some(p));
    }
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let p = rpassword::prompt_password(format!("password for wallet {}: ", wallet.name()))?;
        return Ok(Some(p));
    }
    bail!(
        "wallet {} is encrypted: set TAONET_WALLET_PASSWORD or run from a terminal",
        wallet.name()
    )
}

/// The coldkey of a wallet, unlocked.
pub fn coldkey(wallet_dir: &Path, name: &str) -> Result<Keypair> {
    let wallet = Wallet::open(wallet_dir, name).with_context(|| format!("wallet {name}"))?;
    let password = password_for(&wallet)?;
    match wallet.coldkey(password.as_deref()) {
        Ok(k) => Ok(k),
        Err(WalletError::WrongPassword) => bail!("wrong password for wallet {name}"),
        Err(e) => Err(e).with_context(|| format!("wallet {name}")),
    }
}

/// An SS58 address or the name of a wallet in the wallet dir.
pub fn resolve_account(wallet_dir: &Path, s: &str) -> Result<keys::AccountId> {
    if let Ok(a) = s.parse::<keys::AccountId>() {
        return Ok(a);
    }
    match Wallet::open(wallet_dir, s) {
        Ok(w) => Ok(w.coldkeypub()),
        Err(_) => bail!(
            "{s:?} is neither an SS58 address nor a wallet in {}",
            wallet_dir.display()
        ),
    }
}

/// Signs and sends one command; retries safely (same command id).
pub async fn send<T: Serialize>(
    client: &async_nats::Client,
    key: &Keypair,
    service: &str,
    name: &str,
    command: &T,
    id: Option<String>,
) -> Result<Accepted> {
    let body = CommandBody {
        client: format!("taonet-cli/{}", env!("CARGO_PKG_VERSION")),
        id: id.unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
        command,
    };
    let signed = Signed::seal(key, &body).map_err(|e| anyhow::anyhow!("signing: {e}"))?;
    let payload = signed
        .to_bytes()
        .map_err(|e| anyhow::anyhow!("encoding: {e}"))?;
    let span = tracing::info_span!("cli.command", service, command = name, id = %body.id);
    let mut headers = async_nats::HeaderMap::new();
    telemetry::inject_nats_from_span(&span, &mut headers);
    let subject = bus::subjects::command(service, name);
    let opts = CallOptions::default();
    let res = {
        use tracing::Instrument;
        bus::rpc::call(client, &subject, headers, payload.into(), &opts)
            .instrument(span)
            .await
    };
    Ok(res?)
}

/// One query.
pub async fn query(
    client: &async_nats::Client,
    service: &str,
    name: &str,
    args: serde_json::Value,
) -> Result<serde_json::Value> {
    let opts = CallOptions {
        attempts: 3,
        timeout: Duration::from_secs(5),
        ..Default::default()
    };
    Ok(bus::rpc::query(client, &bus::subjects::query(service, name), &args, &opts).await?)
}

/// Polls `service`'s `op` query until the saga `op` started is done or
/// failed (the amm's stakes, governance's registrations).
pub async fn wait_for_op(
    c: &async_nats::Client,
    service: &str,
    op: &str,
    limit: std::time::Duration,
) -> Result<serde_json::Value> {
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(20);
    loop {
        let v = query(c, service, "op", serde_json::json!({"op": op})).await?;
        if v["status"] != "pending" {
            return Ok(v);
        }
        if started.elapsed() > limit {
            anyhow::bail!("operation {op} still pending after {limit:?}; check later with the {service} service's op query");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_millis(500));
    }
}
