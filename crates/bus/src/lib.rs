//! NATS plumbing shared by every service. Only this crate (and the service
//! shells that configure it) knows subject and stream names.
//!
//! - [`subjects`]: the naming scheme (`taonet.evt.<service>.<event>`,
//!   `taonet.cmd.<service>.<command>`, `taonet.qry.<service>.<query>`).
//! - [`connect`]: a client that retries forever while NATS is away.
//! - [`outbox`]: tails a service's log and publishes it to the service's
//!   JetStream stream so that stream sequence == event sequence, healing any
//!   crash between append and publish.
//! - [`inbox`]: durable pull consumers positioned by the consumer's own
//!   checkpoint, so redelivery has no second effect.
//! - [`rpc`]: command request/reply with typed replies and retries.
//!
//! The stream-sequence invariant is what makes the rest simple: every event
//! is published with `Nats-Expected-Last-Sequence = seq - 1`, so the server
//! refuses gaps and reordering, and `Nats-Msg-Id = event id`, so it drops a
//! duplicate. A consumer can then treat the stream sequence as the event
//! sequence.

pub mod inbox;
pub mod outbox;
pub mod rpc;
pub mod subjects;

use std::time::Duration;

/// Infrastructure failures talking to NATS. Domain rejections are not here:
/// they travel inside [`rpc::Reply`].
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("nats: {0}")]
    Nats(String),
    #[error(
        "the {service} log is behind its stream ({log} < {stream}): the local log lost events"
    )]
    LogBehindStream {
        service: String,
        log: u64,
        stream: u64,
    },
    #[error("store: {0}")]
    Store(#[from] store::StoreError),
    #[error("malformed message: {0}")]
    Malformed(String),
}

impl BusError {
    pub fn nats(e: impl std::fmt::Display) -> Self {
        BusError::Nats(e.to_string())
    }
}

/// Environment variable naming the NATS user (see [`credentials_from_env`]).
pub const NATS_USER_ENV: &str = "TAONET_NATS_USER";
/// Environment variable naming a file that holds the NATS user's password.
pub const NATS_PASSWORD_FILE_ENV: &str = "TAONET_NATS_PASSWORD_FILE";
/// Environment variable holding the NATS user's password itself (prefer the file).
pub const NATS_PASSWORD_ENV: &str = "TAONET_NATS_PASSWORD";

/// The servers of a NATS URL that may list several, comma-separated
/// (`nats://n1:4222,nats://n2:4222`): a client tries each in turn and
/// keeps the others for reconnection.
pub fn server_list(url: &str) -> Vec<String> {
    url.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// NATS user and password from the environment: `TAONET_NATS_USER` with
/// the password read from the file `TAONET_NATS_PASSWORD_FILE` (a secret
/// mounted into the container; surrounding whitespace is trimmed) or, if
/// no file is named, from `TAONET_NATS_PASSWORD`. `None` when no user is
/// set (an open server, as `taonet up` runs).
pub fn credentials_from_env() -> Result<Option<(String, String)>, BusError> {
    credentials_from_lookup(|k| std::env::var(k).ok())
}

/// [`credentials_from_env`] through a variable lookup (testable).
pub fn credentials_from_lookup<F>(get: F) -> Result<Option<(String, String)>, BusError>
where
    F: Fn(&str) -> Option<String>,
{
    let Some(user) = get(NATS_USER_ENV).filter(|u| !u.trim().is_empty()) else {
        return Ok(None);
    };
    let password = match get(NATS_PASSWORD_FILE_ENV).filter(|f| !f.trim().is_empty()) {
        Some(file) => std::fs::read_to_string(file.trim())
            .map_err(|e| BusError::Nats(format!("{NATS_PASSWORD_FILE_ENV}={file}: {e}")))?
            .trim()
            .to_owned(),
        None => get(NATS_PASSWORD_ENV).unwrap_or_default(),
    };
    if password.is_empty() {
        return Err(BusError::Nats(format!(
            "{NATS_USER_ENV} is set but no password: set {NATS_PASSWORD_FILE_ENV} (or {NATS_PASSWORD_ENV})"
        )));
    }
    Ok(Some((user.trim().to_owned(), password)))
}

/// Adds the credentials of [`credentials_from_env`], if any, to `opts`.
pub fn with_env_credentials(
    opts: async_nats::ConnectOptions,
) -> Result<async_nats::ConnectOptions, BusError> {
    Ok(match credentials_from_env()? {
        Some((user, password)) => opts.user_and_password(user, password),
        None => opts,
    })
}

/// Connects to NATS, retrying the first connection and every reconnection
/// forever: services must outlive a NATS restart. `url` may list several
/// servers, comma-separated; credentials come from the environment
/// ([`credentials_from_env`]).
pub async fn connect(url: &str, name: &str) -> Result<async_nats::Client, BusError> {
    with_env_credentials(async_nats::ConnectOptions::new())?
        .name(name)
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connection_timeout(Duration::from_secs(5))
        .request_timeout(Some(Duration::from_secs(10)))
        .connect(server_list(url))
        .await
        .map_err(BusError::nats)
}

/// Exponential backoff with a cap, for loops that wait out NATS outages.
#[derive(Clone, Debug)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new() -> Self {
        Backoff {
            next: Duration::from_millis(50),
            max: Duration::from_secs(2),
        }
    }
    pub fn reset(&mut self) {
        self.next = Duration::from_millis(50);
    }
    pub async fn wait(&mut self) {
        tokio::time::sleep(self.next).await;
        self.next = (self.next * 2).min(self.max);
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn server_list_splits_commas() {
        assert_eq!(server_list("nats://a:4222"), vec!["nats://a:4222"]);
        assert_eq!(
            server_list("nats://a:4222, nats://b:4222,,"),
            vec!["nats://a:4222", "nats://b:4222"]
        );
    }

    #[test]
    fn no_user_means_no_credentials() {
        assert!(credentials_from_lookup(lookup(&[])).unwrap().is_none());
        let only_pw = lookup(&[(NATS_PASSWORD_ENV, "x")]);
        assert!(credentials_from_lookup(only_pw).unwrap().is_none());
    }

    #[test]
    fn password_from_file_is_trimmed() {
        let file = std::env::temp_dir().join(format!("taonet-bus-pw-{}", std::process::id()));
        std::fs::write(&file, "s3cret\n").unwrap();
        let f = file.to_str().unwrap();
        let got = credentials_from_lookup(lookup(&[
            (NATS_USER_ENV, "ledger"),
            (NATS_PASSWORD_FILE_ENV, f),
            (NATS_PASSWORD_ENV, "ignored"),
        ]))
        .unwrap();
        let _ = std::fs::remove_file(&file);
        assert_eq!(got, Some(("ledger".into(), "s3cret".into())));
    }

    #[test]
    fn password_from_env_and_missing_password() {
        let got =
            credentials_from_lookup(lookup(&[(NATS_USER_ENV, "cli"), (NATS_PASSWORD_ENV, "pw")]))
                .unwrap();
        assert_eq!(got, Some(("cli".into(), "pw".into())));
        assert!(credentials_from_lookup(lookup(&[(NATS_USER_ENV, "cli")])).is_err());
        let missing = lookup(&[
            (NATS_USER_ENV, "cli"),
            (NATS_PASSWORD_FILE_ENV, "/nonexistent/taonet-pw"),
        ]);
        assert!(credentials_from_lookup(missing).is_err());
    }
}
