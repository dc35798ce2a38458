//! bincode 2 (serde mode, standard config with a size limit) for envelopes
//! and event bodies. bincode is unmaintained upstream; we pin `=2.0.1` and
//! keep every use behind these functions (docs/decisions/0001-bincode.md).

use serde::{de::DeserializeOwned, Serialize};

/// Largest envelope or body we decode. Anything larger is malformed input,
/// not a reason to allocate.
pub const MAX_DECODE_BYTES: usize = 4 * 1024 * 1024;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_DECODE_BYTES>()
}

/// Encodes a value. Encoding our own types cannot fail short of a bug, so
/// this panics on error rather than making every caller handle it.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, config()).expect("bincode encoding of an owned value")
}

/// Decodes a value, rejecting trailing bytes.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let (value, read) =
        bincode::serde::decode_from_slice(bytes, config()).map_err(|e| e.to_string())?;
    if read != bytes.len() {
        return Err(format!("{} trailing bytes", bytes.len() - read));
    }
    Ok(value)
}

/// Decodes an event body of `event_type` at `version`, naming both in the
/// error: what every service's `VersionedEvent::decode_payload` needs.
pub fn decode_body<T: DeserializeOwned>(
    event_type: &str,
    version: u16,
    payload: &[u8],
) -> Result<T, crate::DecodeError> {
    decode(payload).map_err(|reason| crate::DecodeError::Malformed {
        event_type: event_type.to_owned(),
        version,
        reason,
    })
}

/// Encodes an envelope.
pub fn encode_envelope(env: &crate::Envelope) -> Vec<u8> {
    encode(env)
}

/// Decodes an envelope.
pub fn decode_envelope(bytes: &[u8]) -> Result<crate::Envelope, String> {
    decode(bytes)
}

/// Decodes an envelope as a view borrowing from `bytes` (no allocation),
/// rejecting trailing bytes like [`decode_envelope`]. Replay reads every
/// event of a log once and needs only type, version, sequence and payload,
/// so the owned copies `decode_envelope` makes are pure cost there.
pub fn decode_envelope_ref(bytes: &[u8]) -> Result<crate::EnvelopeRef<'_>, String> {
    let (value, read) =
        bincode::serde::borrow_decode_from_slice(bytes, config()).map_err(|e| e.to_string())?;
    if read != bytes.len() {
        return Err(format!("{} trailing bytes", bytes.len() - read));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Envelope, TraceContext};

    #[test]
    fn envelope_round_trips() {
        let env = Envelope {
            id: uuid::Uuid::now_v7(),
            service: "ledger".into(),
            seq: 7,
            event_type: "Transferred".into(),
            version: 1,
            block: 42,
            causation: Some("cmd:x:1".into()),
            correlation: "op-1".into(),
            trace: Some(TraceContext {
                traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into(),
                tracestate: String::new(),
            }),
            payload: vec![1, 2, 3],
        };
        assert_eq!(decode_envelope(&encode_envelope(&env)).unwrap(), env);
    }

    #[test]
    fn borrowed_view_reads_the_same_bytes() {
        let mut env = Envelope {
            id: uuid::Uuid::now_v7(),
            service: "ledger".into(),
            seq: 300,
            event_type: "Transferred".into(),
            version: 2,
            block: 1 << 40,
            causation: Some("cmd:x:1".into()),
            correlation: "op-1".into(),
            trace: Some(TraceContext {
                traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into(),
                tracestate: "k=v".into(),
            }),
            payload: (0..=255u8).chain(0..40).collect(),
        };
        for _ in 0..2 {
            let bytes = encode_envelope(&env);
            let view = decode_envelope_ref(&bytes).unwrap();
            assert_eq!(view.to_owned(), env);
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(decode_envelope_ref(&longer).is_err());
            assert!(decode_envelope_ref(&bytes[..bytes.len() - 1]).is_err());
            env.causation = None;
            env.trace = None;
            env.payload.clear();
        }
    }

    #[test]
    fn trailing_bytes_and_garbage_are_rejected() {
        let mut bytes = encode(&5u64);
        bytes.push(0);
        assert!(decode::<u64>(&bytes).is_err());
        assert!(decode_envelope(&[0xff; 3]).is_err());
    }
}
