//! The outbox: a service's log is the source of truth and this task makes
//! its JetStream stream an exact copy of it.
//!
//! Every event `n` is published with `Nats-Expected-Last-Sequence = n - 1`
//! and `Nats-Msg-Id = <event id>`. The server therefore refuses anything
//! that would leave a gap or reorder the stream, and drops a duplicate
//! inside its window; outside the window the expected-sequence check refuses
//! it. After any failure the task asks the stream where it is and publishes
//! from there, so a crash between append and publish, a NATS restart or a
//! lost ack all heal the same way: at start-up and on every retry.

use crate::{subjects, Backoff, BusError};
use async_nats::jetstream::{self, context::PublishErrorKind, stream};
use async_nats::HeaderMap;
use envelope::{codec, Envelope};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use store::EventStore;
use tokio::sync::watch;

/// Acks awaited at once; bounded so a slow server applies back-pressure.
const WINDOW: usize = 4096;
/// Events read from the log per chunk while catching up.
const CHUNK: usize = 2048;

/// Stream settings a service's event stream is created with.
#[derive(Clone, Debug)]
pub struct StreamSettings {
    pub replicas: usize,
    pub duplicate_window: Duration,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
        }
    }
}

/// Creates (or finds) a service's event stream.
pub async fn ensure_stream(
    js: &jetstream::Context,
    service: &str,
    settings: &StreamSettings,
) -> Result<stream::Stream, BusError> {
    js.get_or_create_stream(stream::Config {
        name: subjects::stream(service),
        subjects: vec![subjects::events(service)],
        storage: stream::StorageType::File,
        num_replicas: settings.replicas,
        duplicate_window: settings.duplicate_window,
        ..Default::default()
    })
    .await
    .map_err(BusError::nats)
}

/// Publishes one service's log to its stream.
pub struct Outbox {
    js: jetstream::Context,
    service: String,
    store: Arc<dyn EventStore>,
    settings: StreamSettings,
    published: watch::Sender<u64>,
}

impl Outbox {
    pub fn new(
        js: jetstream::Context,
        service: &str,
        store: Arc<dyn EventStore>,
        settings: StreamSettings,
    ) -> Self {
        Outbox {
            js,
            service: service.to_owned(),
            store,
            settings,
            published: watch::channel(0).0,
        }
    }

    /// The stream sequence known to be published (for status queries).
    pub fn published(&self) -> watch::Receiver<u64> {
        self.published.subscribe()
    }

    /// Publishes everything the log has and the stream lacks. Returns the
    /// stream's last sequence afterwards (= the log's last sequence).
    pub async fn sync(&self) -> Result<u64, BusError> {
        let mut stream = ensure_stream(&self.js, &self.service, &self.settings).await?;
        let stream_last = stream
            .info()
            .await
            .map_err(BusError::nats)?
            .state
            .last_sequence;
        let log_last = self.store.last_seq()?;
        if log_last < stream_last {
            return Err(BusError::LogBehindStream {
                service: self.service.clone(),
                log: log_last,
                stream: stream_last,
            });
        }
        self.published.send_replace(stream_last);
        self.publish_after(stream_last).await
    }

    /// Publishes the log after `stream_last`, a position a previous sync or
    /// publish established, without asking the stream again: two JetStream
    /// API round trips fewer per cycle. Safe because every message carries
    /// `Nats-Expected-Last-Sequence`: if the stream is not where we think,
    /// the server refuses it and the caller falls back to [`Outbox::sync`].
    async fn publish_after(&self, mut stream_last: u64) -> Result<u64, BusError> {
        let log_last = self.store.last_seq()?;
        while stream_last < log_last {
            let events = self.store.read(stream_last + 1, CHUNK)?;
            if events.is_empty() {
                break;
            }
            stream_last = self.publish_chunk(&events).await?;
            self.published.send_replace(stream_last);
        }
        Ok(stream_last)
    }

    async fn publish_chunk(&self, events: &[Envelope]) -> Result<u64, BusError> {
        let mut pending = VecDeque::with_capacity(WINDOW);
        let mut last = events[0].seq - 1;
        for env in events {
            let subject = subjects::event(&self.service, &env.event_type);
            let fut = self
                .js
                .publish_with_headers(
                    subject,
                    headers_for(env),
                    codec::encode_envelope(env).into(),
                )
                .await
                .map_err(BusError::nats)?;
            pending.push_back((env.seq, fut));
            if pending.len() >= WINDOW {
                let (seq, fut) = pending.pop_front().expect("non-empty");
                last = settle(seq, fut.await)?;
            }
        }
        while let Some((seq, fut)) = pending.pop_front() {
            last = settle(seq, fut.await)?;
        }
        Ok(last)
    }

    /// Runs until `shutdown` flips: publishes whenever `appended` moves and
    /// retries with backoff while NATS is away.
    pub async fn run(
        self,
        mut appended: watch::Receiver<u64>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut backoff = Backoff::new();
        // The stream position as of the last success; `None` asks the
        // stream (at start and after any failure).
        let mut known: Option<u64> = None;
        loop {
            let result = match known {
                Some(last) => self.publish_after(last).await,
                None => self.sync().await,
            };
            match result {
                Ok(last) => {
                    known = Some(last);
                    backoff.reset()
                }
                Err(e @ BusError::LogBehindStream { .. }) => {
                    tracing::error!(error = %e, "outbox stopped: refusing to publish over a longer stream");
                    return;
                }
                Err(e) => {
                    known = None;
                    tracing::warn!(error = %e, service = %self.service, "outbox publish failed; retrying");
                    tokio::select! {
                        _ = backoff.wait() => continue,
                        _ = shutdown.changed() => return,
                    }
                }
            }
            if *shutdown.borrow() {
                return;
            }
            let target = *appended.borrow_and_update();
            if target > *self.published.borrow() {
                continue;
            }
            tokio::select! {
                r = appended.changed() => if r.is_err() { return },
                _ = shutdown.changed() => {
                    // Drain what was appended before stopping.
                    let _ = tokio::time::timeout(Duration::from_secs(5), self.sync()).await;
                    return;
                }
            }
        }
    }
}

fn settle(
    seq: u64,
    ack: Result<jetstream::publish::PublishAck, jetstream::context::PublishError>,
) -> Result<u64, BusError> {
    match ack {
        Ok(_) => Ok(seq),
        // Another copy got there first or the stream moved: the caller
        // re-reads the stream position and continues from it.
        Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => Err(BusError::Nats(format!(
            "stream position moved at seq {seq}: {e}"
        ))),
        Err(e) => Err(BusError::nats(e)),
    }
}

fn headers_for(env: &Envelope) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        async_nats::header::NATS_MESSAGE_ID,
        env.id.to_string().as_str(),
    );
    h.insert(
        async_nats::header::NATS_EXPECTED_LAST_SEQUENCE,
        (env.seq - 1).to_string().as_str(),
    );
    h.insert(subjects::SEQ_HEADER, env.seq.to_string().as_str());
    if let Some(tc) = &env.trace {
        h.insert(subjects::TRACEPARENT, tc.traceparent.as_str());
        if !tc.tracestate.is_empty() {
            h.insert(subjects::TRACESTATE, tc.tracestate.as_str());
        }
    }
    h
}
