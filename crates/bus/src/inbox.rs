//! The inbox: a durable pull consumer on another service's stream,
//! positioned by the consuming service's own checkpoint.
//!
//! The consumer applies an event, records the event's sequence as its
//! checkpoint in the same store batch as the events it caused, and only then
//! acks. A crash before the ack leads to redelivery, and the checkpoint says
//! the event was applied, so it is acked and skipped. Because streams hold
//! events at stream sequence == event sequence (see `outbox`), the next
//! event to apply is always `checkpoint + 1`; anything else is either a
//! duplicate (skip) or a gap (re-position the consumer).

use crate::{subjects, BusError};
use async_nats::jetstream::{self, consumer};
use envelope::{codec, Envelope};
use futures::StreamExt;
use std::time::Duration;

/// What to do with a delivered message.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// `seq == checkpoint + 1`: apply it.
    Apply,
    /// Already applied: ack and skip.
    Duplicate,
    /// Something before it is missing: re-position from the checkpoint.
    Gap,
}

/// The decision the inbox makes for each delivery.
pub fn verdict(checkpoint: u64, seq: u64) -> Verdict {
    if seq <= checkpoint {
        Verdict::Duplicate
    } else if seq == checkpoint + 1 {
        Verdict::Apply
    } else {
        Verdict::Gap
    }
}

/// One delivered event and the handle to ack it.
pub struct Delivery {
    pub envelope: Envelope,
    /// How many times the server has delivered it (1 = first time).
    pub delivered: i64,
    message: jetstream::Message,
}

impl Delivery {
    pub async fn ack(&self) -> Result<(), BusError> {
        self.message.ack().await.map_err(BusError::nats)
    }
}

/// Settings of an inbox consumer.
#[derive(Clone, Debug)]
pub struct InboxSettings {
    pub ack_wait: Duration,
    pub max_ack_pending: i64,
}

impl Default for InboxSettings {
    fn default() -> Self {
        InboxSettings {
            ack_wait: Duration::from_secs(30),
            max_ack_pending: 20_000,
        }
    }
}

/// A durable consumer of `source`'s events on behalf of `consumer_service`.
pub struct Inbox {
    js: jetstream::Context,
    source: String,
    durable: String,
    settings: InboxSettings,
}

impl Inbox {
    pub fn new(
        js: jetstream::Context,
        consumer_service: &str,
        source: &str,
        settings: InboxSettings,
    ) -> Self {
        Inbox {
            js,
            source: source.to_owned(),
            durable: format!("{consumer_service}-from-{source}"),
            settings,
        }
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Opens the durable consumer. An existing one keeps its position (its
    /// unacked messages will be redelivered); `reposition` deletes it first
    /// and starts again right after `checkpoint`.
    pub async fn open(
        &self,
        checkpoint: u64,
        reposition: bool,
    ) -> Result<impl futures::Stream<Item = Result<Delivery, BusError>> + use<>, BusError> {
        let stream = loop {
            match self.js.get_stream(subjects::stream(&self.source)).await {
                Ok(s) => break s,
                Err(e) => {
                    tracing::debug!(error = %e, source = %self.source, "waiting for source stream");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        if reposition {
            let _ = stream.delete_consumer(&self.durable).await;
        }
        let consumer: consumer::PullConsumer = stream
            .get_or_create_consumer(
                &self.durable,
                consumer::pull::Config {
                    durable_name: Some(self.durable.clone()),
                    deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                        start_sequence: checkpoint + 1,
                    },
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: self.settings.ack_wait,
                    max_ack_pending: self.settings.max_ack_pending,
                    filter_subject: subjects::events(&self.source),
                    ..Default::default()
                },
            )
            .await
            .map_err(BusError::nats)?;
        let messages = consumer.messages().await.map_err(BusError::nats)?;
        Ok(messages.map(|m| {
            let message = m.map_err(BusError::nats)?;
            let delivered = message.info().map(|i| i.delivered).unwrap_or(1);
            let envelope = codec::decode_envelope(&message.payload).map_err(BusError::Malformed)?;
            Ok(Delivery {
                envelope,
                delivered,
                message,
            })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        assert_eq!(verdict(0, 1), Verdict::Apply);
        assert_eq!(verdict(5, 5), Verdict::Duplicate);
        assert_eq!(verdict(5, 3), Verdict::Duplicate);
        assert_eq!(verdict(5, 7), Verdict::Gap);
    }
}
