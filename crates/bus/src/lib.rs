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

/// Connects to NATS, retrying the first connection and every reconnection
/// forever: services must outlive a NATS restart.
pub async fn connect(url: &str, name: &str) -> Result<async_nats::Client, BusError> {
    async_nats::ConnectOptions::new()
        .name(name)
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connection_timeout(Duration::from_secs(5))
        .request_timeout(Some(Duration::from_secs(10)))
        .connect(url)
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
