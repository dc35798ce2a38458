//! The event envelope: the one shape every persisted and published taonet
//! event has, whatever service wrote it.
//!
//! - [`Envelope`]: id, service, gap-free sequence, type, version, block
//!   height, causation and correlation ids, W3C trace context, payload.
//! - [`EnvelopeRef`]: the same envelope borrowed from its bytes, for
//!   readers of whole logs (replay) that must not allocate per event.
//! - [`codec`]: the bincode 2 encoding of envelopes and payloads. Every byte
//!   that reaches sled or NATS goes through it, so the wire and the disk
//!   agree.
//! - [`VersionedEvent`]: what a service's event enum implements so the
//!   envelope can carry it; decoding goes through the upcasters of the
//!   implementing type, so an event written by an older version still
//!   decodes.
//!
//! The envelope is a storage and wire boundary: domain types live in the
//! pure cores, and only their persisted form passes through here.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub mod codec;
pub mod golden;

/// W3C trace context (`traceparent`, `tracestate`) of the span that caused an
/// event. Kept in the envelope as well as in NATS headers so a replayed or
/// republished event still links to the operation that produced it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceContext {
    pub traceparent: String,
    pub tracestate: String,
}

/// One event as stored in a service's log and published on its stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Globally unique (UUID v7). Used as `Nats-Msg-Id`, so JetStream drops a
    /// republished duplicate.
    pub id: Uuid,
    /// The service whose log this is (`ledger`, `amm`, ...).
    pub service: String,
    /// Position in the service's log: 1, 2, 3, ... with no gaps. Equal to
    /// the JetStream stream sequence of the service's stream.
    pub seq: u64,
    /// Event type name, e.g. `Transferred`.
    pub event_type: String,
    /// Schema version of `payload` for this `event_type`.
    pub version: u16,
    /// Block height at which the event happened.
    pub block: u64,
    /// What directly caused this event: a command id (`cmd:<signer>:<id>`)
    /// or the id of another event (`evt:<uuid>`).
    pub causation: Option<String>,
    /// The user operation this event belongs to (saga / operation id); all
    /// events of one operation share it across services.
    pub correlation: String,
    /// Trace context of the span that produced the event.
    pub trace: Option<TraceContext>,
    /// bincode 2 encoding of the event body at `version`.
    pub payload: Vec<u8>,
}

/// An [`Envelope`] borrowed from its encoded bytes
/// ([`codec::decode_envelope_ref`]): same fields, same encoding, no copies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct EnvelopeRef<'a> {
    pub id: Uuid,
    pub service: &'a str,
    pub seq: u64,
    pub event_type: &'a str,
    pub version: u16,
    pub block: u64,
    #[serde(borrow)]
    pub causation: Option<&'a str>,
    pub correlation: &'a str,
    #[serde(borrow)]
    pub trace: Option<TraceContextRef<'a>>,
    pub payload: &'a [u8],
}

/// [`TraceContext`] borrowed from encoded bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct TraceContextRef<'a> {
    pub traceparent: &'a str,
    pub tracestate: &'a str,
}

impl EnvelopeRef<'_> {
    /// The owned envelope.
    pub fn to_owned(&self) -> Envelope {
        Envelope {
            id: self.id,
            service: self.service.to_owned(),
            seq: self.seq,
            event_type: self.event_type.to_owned(),
            version: self.version,
            block: self.block,
            causation: self.causation.map(str::to_owned),
            correlation: self.correlation.to_owned(),
            trace: self.trace.map(|t| TraceContext {
                traceparent: t.traceparent.to_owned(),
                tracestate: t.tracestate.to_owned(),
            }),
            payload: self.payload.to_vec(),
        }
    }
}

/// Why an event body could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("unknown event type {event_type} v{version}")]
    UnknownType { event_type: String, version: u16 },
    #[error("malformed payload for {event_type} v{version}: {reason}")]
    Malformed {
        event_type: String,
        version: u16,
        reason: String,
    },
}

/// A service's event type as it crosses the storage and wire boundary.
///
/// `decode` must accept every version ever written (upcasting old ones to the
/// current shape); golden fixtures of each version are checked in and tested.
pub trait VersionedEvent: Sized {
    /// Type name written to the envelope.
    fn event_type(&self) -> &'static str;
    /// Current schema version of this event type.
    fn version(&self) -> u16;
    /// Encodes the body at its current version.
    fn encode_payload(&self) -> Vec<u8>;
    /// Decodes (and upcasts) a body of any known version.
    fn decode_payload(event_type: &str, version: u16, payload: &[u8]) -> Result<Self, DecodeError>;

    /// Decodes the body an envelope carries.
    fn from_envelope(env: &Envelope) -> Result<Self, DecodeError> {
        Self::decode_payload(&env.event_type, env.version, &env.payload)
    }
}

/// A foreign event as a consumer's glue reads it: its envelope and, when
/// it is delivered in process (the simulator), the event its producer
/// emitted, so the consumer need not decode what was never encoded.
/// Derefs to the envelope for its metadata (`service`, `seq`, `block`, ...).
#[derive(Clone, Copy)]
pub struct Foreign<'a> {
    env: &'a Envelope,
    typed: Option<&'a dyn std::any::Any>,
}

impl<'a> Foreign<'a> {
    /// An event as stored and published: decoded from its payload.
    pub fn wire(env: &'a Envelope) -> Self {
        Foreign { env, typed: None }
    }

    /// An event handed over in process beside its envelope's header
    /// ([`Envelope::header_numbered`]).
    pub fn in_process(env: &'a Envelope, typed: &'a dyn std::any::Any) -> Self {
        Foreign {
            env,
            typed: Some(typed),
        }
    }

    /// The envelope.
    pub fn envelope(&self) -> &'a Envelope {
        self.env
    }

    /// The event body: the producer's own value when handed over in
    /// process, otherwise decoded (and upcast) from the payload. The
    /// codec's round trip (`decode(encode(e)) == e`, golden fixtures of
    /// every version) is what makes the two the same value.
    pub fn decode<E: VersionedEvent + Clone + 'static>(&self) -> Result<E, DecodeError> {
        match self.typed.and_then(|t| t.downcast_ref::<E>()) {
            Some(e) => Ok(e.clone()),
            None => E::from_envelope(self.env),
        }
    }
}

impl std::ops::Deref for Foreign<'_> {
    type Target = Envelope;
    fn deref(&self) -> &Envelope {
        self.env
    }
}

/// Everything about a new event except its position and id, which the shell
/// assigns when it appends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventMeta {
    pub block: u64,
    pub causation: Option<String>,
    pub correlation: String,
    pub trace: Option<TraceContext>,
}

impl Envelope {
    /// [`Envelope::wrap`] with an id made from `service` and `seq` instead
    /// of a time-ordered random one: for in-process runs (the simulator),
    /// where ids need only be unique per (service, seq), and where asking
    /// the OS for randomness per event was a measurable share of a run
    /// (and made ids differ between otherwise identical runs).
    pub fn wrap_numbered<E: VersionedEvent>(
        service: &str,
        seq: u64,
        event: &E,
        meta: &EventMeta,
    ) -> Self {
        Envelope {
            payload: event.encode_payload(),
            ..Self::header_numbered(service, seq, event, meta)
        }
    }

    /// [`Envelope::wrap_numbered`] without the payload: the header of an
    /// event handed to consumers in process beside the event itself
    /// ([`Foreign::in_process`]). Never stored or published: its payload
    /// is empty, so it decodes to nothing.
    pub fn header_numbered<E: VersionedEvent>(
        service: &str,
        seq: u64,
        event: &E,
        meta: &EventMeta,
    ) -> Self {
        let mut tag = [0u8; 8];
        for (t, b) in tag.iter_mut().zip(service.bytes()) {
            *t = b;
        }
        Self::header(
            Uuid::from_u64_pair(u64::from_be_bytes(tag), seq),
            service,
            seq,
            event,
            meta,
        )
    }

    /// Everything but the payload, which is left empty.
    fn header<E: VersionedEvent>(
        id: Uuid,
        service: &str,
        seq: u64,
        event: &E,
        meta: &EventMeta,
    ) -> Self {
        Envelope {
            id,
            service: service.to_owned(),
            seq,
            event_type: event.event_type().to_owned(),
            version: event.version(),
            block: meta.block,
            causation: meta.causation.clone(),
            correlation: meta.correlation.clone(),
            trace: meta.trace.clone(),
            payload: Vec::new(),
        }
    }

    /// Wraps an event body for appending at `seq`, with a fresh
    /// time-ordered id.
    pub fn wrap<E: VersionedEvent>(service: &str, seq: u64, event: &E, meta: &EventMeta) -> Self {
        Envelope {
            payload: event.encode_payload(),
            ..Self::header(Uuid::now_v7(), service, seq, event, meta)
        }
    }
}
