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
//!
//! Provenance: the stream a message arrived on is the only thing that says
//! which service published it (the NATS users of the deployment let a
//! service publish only to its own `taonet.evt.<service>.>`), and the
//! stream sequence the server assigned is the only trustworthy position.
//! The envelope's own `service` and `seq` are claims by the publisher, so
//! [`check_provenance`] refuses any event whose claims differ from the
//! stream's: a service able to publish to its own stream can otherwise put
//! an envelope there that claims to be another service's event (a forged
//! amm `StakeRequested` on governance's stream, which the ledger would turn
//! into a `FundStake`), or a `seq` that moves or wedges the consumer. A
//! refused delivery is consumed without effect: its stream sequence becomes
//! the checkpoint (so the consumer moves on and a restart does not see it
//! again) but nothing is applied.

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

/// Why a delivered message is not accepted as the stream owner's event.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProvenanceError {
    /// The envelope names another service than the stream's owner.
    #[error("envelope claims service {claimed:?} but arrived on {stream:?}'s stream")]
    WrongService { stream: String, claimed: String },
    /// The envelope's `seq` is not the stream sequence the server assigned.
    #[error("envelope claims seq {claimed} but its stream sequence is {stream_seq}")]
    WrongSeq { stream_seq: u64, claimed: u64 },
    /// Not an envelope at all.
    #[error("undecodable envelope: {0}")]
    Malformed(String),
}

/// Accepts `envelope`, delivered at `stream_seq` on `source`'s stream, only
/// if it says what the stream says: published by `source`, at `stream_seq`.
pub fn check_provenance(
    source: &str,
    stream_seq: u64,
    envelope: &Envelope,
) -> Result<(), ProvenanceError> {
    if envelope.service != source {
        return Err(ProvenanceError::WrongService {
            stream: source.to_owned(),
            claimed: envelope.service.clone(),
        });
    }
    if envelope.seq != stream_seq {
        return Err(ProvenanceError::WrongSeq {
            stream_seq,
            claimed: envelope.seq,
        });
    }
    Ok(())
}

/// One delivered message and the handle to ack it.
pub struct Delivery {
    /// The sequence the server assigned on the source's stream: the
    /// position the inbox orders, checkpoints and acks by.
    pub stream_seq: u64,
    /// The event, if it decoded and passed [`check_provenance`]; otherwise
    /// why it is refused (it is then consumed without effect).
    pub envelope: Result<Envelope, ProvenanceError>,
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
        let source = self.source.clone();
        Ok(messages.map(move |m| {
            let message = m.map_err(BusError::nats)?;
            // The ack subject carries the stream sequence; a message without
            // one is not a JetStream delivery and cannot be positioned.
            let (stream_seq, delivered) = match message.info() {
                Ok(i) => (i.stream_sequence, i.delivered),
                Err(e) => return Err(BusError::Malformed(format!("no delivery info: {e}"))),
            };
            let envelope = codec::decode_envelope(&message.payload)
                .map_err(ProvenanceError::Malformed)
                .and_then(|env| check_provenance(&source, stream_seq, &env).map(|()| env));
            Ok(Delivery {
                stream_seq,
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

    fn env(service: &str, seq: u64) -> Envelope {
        Envelope {
            id: uuid::Uuid::nil(),
            service: service.into(),
            seq,
            event_type: "StakeRequested".into(),
            version: 1,
            block: 0,
            causation: None,
            correlation: "op".into(),
            trace: None,
            payload: vec![],
        }
    }

    /// Pins both comparisons of `check_provenance`: remove either and one
    /// of the refusals below is accepted.
    #[test]
    fn provenance_is_the_stream_not_the_envelope() {
        assert_eq!(check_provenance("amm", 7, &env("amm", 7)), Ok(()));
        // Another service's name on governance's stream.
        assert_eq!(
            check_provenance("governance", 7, &env("amm", 7)),
            Err(ProvenanceError::WrongService {
                stream: "governance".into(),
                claimed: "amm".into()
            })
        );
        // The right name, a made-up position (ahead, behind).
        assert_eq!(
            check_provenance("amm", 7, &env("amm", 8)),
            Err(ProvenanceError::WrongSeq {
                stream_seq: 7,
                claimed: 8
            })
        );
        assert!(check_provenance("amm", 7, &env("amm", 1)).is_err());
        // Case and prefix tricks are other names.
        assert!(check_provenance("amm", 7, &env("AMM", 7)).is_err());
        assert!(check_provenance("amm", 7, &env("amm ", 7)).is_err());
    }
}
