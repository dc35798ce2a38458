//! Command request/reply.
//!
//! A command is a NATS request whose payload is a signed command (see the
//! `keys` crate); the reply is a [`Reply`]. A domain rejection, an
//! infrastructure failure on the service side and a transport problem are
//! different variants of [`CallError`] so callers can match on kinds.

use async_nats::{HeaderMap, RequestErrorKind};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a service answers to a command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Reply {
    /// The command's events are durable at `first_seq..=last_seq`.
    Accepted {
        block: u64,
        first_seq: u64,
        last_seq: u64,
        events: Vec<serde_json::Value>,
    },
    /// A rule refused the command; nothing changed. `code` is the rule's
    /// name (e.g. `InsufficientBalance`).
    Rejected {
        code: String,
        message: String,
        #[serde(default)]
        detail: serde_json::Value,
    },
    /// The service could not process the command (storage failure, shutting
    /// down). Retrying with the same command id is safe.
    Failed { message: String },
}

/// The rejection code a retried command gets when its first attempt landed.
pub const ALREADY_PROCESSED: &str = "AlreadyProcessed";

/// A successful command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Accepted {
    pub block: u64,
    pub first_seq: u64,
    pub last_seq: u64,
    pub events: Vec<serde_json::Value>,
    /// True when an earlier attempt of this call had already landed.
    pub duplicate: bool,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum CallError {
    #[error("rejected: {code}: {message}")]
    Rejected {
        code: String,
        message: String,
        detail: serde_json::Value,
    },
    #[error("service failed: {0}")]
    Failed(String),
    #[error("no service is listening on {0}")]
    NoResponders(String),
    #[error("timed out")]
    TimedOut,
    #[error("transport: {0}")]
    Transport(String),
    #[error("bad reply: {0}")]
    BadReply(String),
}

/// How hard to try.
#[derive(Clone, Debug)]
pub struct CallOptions {
    pub timeout: Duration,
    /// Total attempts for retryable failures (timeouts, no responders,
    /// service failures). Commands are idempotent by command id, so a retry
    /// never applies twice.
    pub attempts: u32,
    pub backoff: Duration,
}

impl Default for CallOptions {
    fn default() -> Self {
        CallOptions {
            timeout: Duration::from_secs(10),
            attempts: 8,
            backoff: Duration::from_millis(250),
        }
    }
}

/// Sends a command and waits for its reply, retrying what is retryable.
pub async fn call(
    client: &async_nats::Client,
    subject: &str,
    headers: HeaderMap,
    payload: Bytes,
    opts: &CallOptions,
) -> Result<Accepted, CallError> {
    let mut last_err = CallError::TimedOut;
    for attempt in 1..=opts.attempts.max(1) {
        if attempt > 1 {
            tokio::time::sleep(opts.backoff * (attempt - 1).min(8)).await;
        }
        let req = client.request_with_headers(subject.to_owned(), headers.clone(), payload.clone());
        let msg = match tokio::time::timeout(opts.timeout, req).await {
            Err(_) => {
                last_err = CallError::TimedOut;
                continue;
            }
            Ok(Err(e)) => {
                last_err = match e.kind() {
                    RequestErrorKind::NoResponders => CallError::NoResponders(subject.to_owned()),
                    RequestErrorKind::TimedOut => CallError::TimedOut,
                    RequestErrorKind::InvalidSubject => {
                        return Err(CallError::Transport(e.to_string()))
                    }
                    _ => CallError::Transport(e.to_string()),
                };
                continue;
            }
            Ok(Ok(msg)) => msg,
        };
        let reply: Reply =
            serde_json::from_slice(&msg.payload).map_err(|e| CallError::BadReply(e.to_string()))?;
        match reply {
            Reply::Accepted {
                block,
                first_seq,
                last_seq,
                events,
            } => {
                return Ok(Accepted {
                    block,
                    first_seq,
                    last_seq,
                    events,
                    duplicate: false,
                })
            }
            // Our own earlier attempt landed (its reply was lost).
            Reply::Rejected { code, detail, .. } if code == ALREADY_PROCESSED && attempt > 1 => {
                return Ok(Accepted {
                    block: detail["block"].as_u64().unwrap_or(0),
                    first_seq: detail["first_seq"].as_u64().unwrap_or(0),
                    last_seq: detail["last_seq"].as_u64().unwrap_or(0),
                    events: vec![],
                    duplicate: true,
                })
            }
            Reply::Rejected {
                code,
                message,
                detail,
            } => {
                return Err(CallError::Rejected {
                    code,
                    message,
                    detail,
                })
            }
            Reply::Failed { message } => {
                last_err = CallError::Failed(message);
                continue;
            }
        }
    }
    Err(last_err)
}

/// Answer of a query: a JSON value or an error text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryReply {
    Ok(serde_json::Value),
    Error(String),
}

/// Sends a query (unsigned, read-only) and waits for the answer.
pub async fn query(
    client: &async_nats::Client,
    subject: &str,
    args: &serde_json::Value,
    opts: &CallOptions,
) -> Result<serde_json::Value, CallError> {
    let payload: Bytes = serde_json::to_vec(args).expect("json").into();
    let mut last_err = CallError::TimedOut;
    for attempt in 1..=opts.attempts.max(1) {
        if attempt > 1 {
            tokio::time::sleep(opts.backoff * (attempt - 1).min(8)).await;
        }
        match tokio::time::timeout(
            opts.timeout,
            client.request(subject.to_owned(), payload.clone()),
        )
        .await
        {
            Err(_) => last_err = CallError::TimedOut,
            Ok(Err(e)) => {
                last_err = match e.kind() {
                    RequestErrorKind::NoResponders => CallError::NoResponders(subject.to_owned()),
                    RequestErrorKind::TimedOut => CallError::TimedOut,
                    _ => CallError::Transport(e.to_string()),
                }
            }
            Ok(Ok(msg)) => {
                let reply: QueryReply = serde_json::from_slice(&msg.payload)
                    .map_err(|e| CallError::BadReply(e.to_string()))?;
                return match reply {
                    QueryReply::Ok(v) => Ok(v),
                    QueryReply::Error(e) => Err(CallError::Rejected {
                        code: "QueryFailed".into(),
                        message: e,
                        detail: serde_json::Value::Null,
                    }),
                };
            }
        }
    }
    Err(last_err)
}
