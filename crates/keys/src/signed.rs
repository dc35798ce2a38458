//! The wire form of every signed command.
//!
//! The signature covers the exact bytes of `body`, which travel as a string
//! inside the envelope. That is why no JSON canonicalisation is needed: the
//! verifier checks the bytes it received, then parses them.

use crate::account::AccountId;
use crate::sr25519::{self, Keypair, Signature};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// Largest accepted encoded [`Signed`] (64 KiB); bounds what a peer can make
/// a verifier parse and check.
pub const MAX_SIGNED_BYTES: usize = 64 * 1024;

/// Why a signed message was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum SignatureError {
    /// Well-formed, but the signature does not match signer and body.
    #[error("signature does not verify for this signer and body")]
    BadSignature,
    /// Not a signed message at all: bad JSON, a signature of the wrong
    /// length, a signer that is not a public key, or a body that does not
    /// parse as the expected command.
    #[error("malformed signed message")]
    Malformed,
    /// Larger than [`MAX_SIGNED_BYTES`].
    #[error("signed message larger than {MAX_SIGNED_BYTES} bytes")]
    Oversized,
}

/// A body and the signature of its signer over the body's exact bytes.
///
/// JSON: `{"signer":"5G..","body":"<signed JSON text>","signature":"0x<128 hex>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    pub signer: AccountId,
    pub body: String,
    pub signature: Signature,
}

/// The typed content of a signed command: who sent it (`client`), an id the
/// client chose so a retry can be recognised (`id`), and the command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandBody<T> {
    pub client: String,
    pub id: String,
    pub command: T,
}

impl Signed {
    /// Signs `body` as it is; the verifier will see these exact bytes.
    pub fn sign(key: &Keypair, body: String) -> Self {
        let signature = key.sign(body.as_bytes());
        Signed {
            signer: key.public(),
            body,
            signature,
        }
    }

    /// Checks the signature over the body bytes. `Malformed` when the signer
    /// is not a valid public key or the signature not a valid encoding.
    pub fn verify(&self) -> Result<(), SignatureError> {
        if schnorrkel::PublicKey::from_bytes(&self.signer.0).is_err()
            || schnorrkel::Signature::from_bytes(&self.signature.0).is_err()
        {
            return Err(SignatureError::Malformed);
        }
        if sr25519::verify(&self.signer, self.body.as_bytes(), &self.signature) {
            Ok(())
        } else {
            Err(SignatureError::BadSignature)
        }
    }

    /// Serializes `body` to JSON and signs it.
    pub fn seal<T: Serialize>(
        key: &Keypair,
        body: &CommandBody<T>,
    ) -> Result<Self, SignatureError> {
        let text = serde_json::to_string(body).map_err(|_| SignatureError::Malformed)?;
        Ok(Self::sign(key, text))
    }

    /// Verifies, then parses the body. Never parses an unverified body.
    pub fn open<T: DeserializeOwned>(&self) -> Result<CommandBody<T>, SignatureError> {
        self.verify()?;
        serde_json::from_str(&self.body).map_err(|_| SignatureError::Malformed)
    }

    /// The JSON wire bytes; `Oversized` if they exceed [`MAX_SIGNED_BYTES`],
    /// so a sender learns before a receiver refuses.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SignatureError> {
        let bytes = serde_json::to_vec(self).map_err(|_| SignatureError::Malformed)?;
        if bytes.len() > MAX_SIGNED_BYTES {
            return Err(SignatureError::Oversized);
        }
        Ok(bytes)
    }

    /// Parses wire bytes (checking the size first). Does not verify: call
    /// [`Signed::verify`] or [`Signed::open`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SignatureError> {
        if bytes.len() > MAX_SIGNED_BYTES {
            return Err(SignatureError::Oversized);
        }
        serde_json::from_slice(bytes).map_err(|_| SignatureError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Cmd {
        Transfer { to: AccountId, amount: u64 },
    }

    fn alice() -> Keypair {
        Keypair::from_uri("//Alice").unwrap()
    }

    fn body() -> CommandBody<Cmd> {
        CommandBody {
            client: "cli".into(),
            id: "1".into(),
            command: Cmd::Transfer {
                to: Keypair::from_uri("//Bob").unwrap().public(),
                amount: 5,
            },
        }
    }

    #[test]
    fn seal_open_round_trip_through_bytes() {
        let s = Signed::seal(&alice(), &body()).unwrap();
        let bytes = s.to_bytes().unwrap();
        let back = Signed::from_bytes(&bytes).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.open::<Cmd>().unwrap(), body());
    }

    #[test]
    fn json_shape() {
        let s = Signed::sign(&alice(), r#"{"a":1}"#.into());
        let v: serde_json::Value = serde_json::from_slice(&s.to_bytes().unwrap()).unwrap();
        assert_eq!(
            v["signer"],
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        );
        assert_eq!(v["body"], r#"{"a":1}"#);
        let sig = v["signature"].as_str().unwrap();
        assert!(sig.starts_with("0x"));
        assert_eq!(sig.len(), 130);
        assert_eq!(v.as_object().unwrap().len(), 3);
    }

    #[test]
    fn bincode_round_trip_is_compact() {
        let s = Signed::sign(&alice(), "b".into());
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&s, cfg).unwrap();
        // 32 key bytes, 1+1 body, 1+64 signature: raw bytes, not text.
        assert_eq!(bytes.len(), 32 + 2 + 65);
        let (back, _): (Signed, usize) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
        assert_eq!(back, s);
        assert!(back.verify().is_ok());
    }

    #[test]
    fn whitespace_in_body_is_signed_as_is() {
        // Different bytes for the same JSON value: each verifies on its own
        // bytes, and one signature does not carry over to the other.
        let a = Signed::sign(&alice(), r#"{"a":1}"#.into());
        let b = Signed::sign(&alice(), r#"{ "a": 1 }"#.into());
        assert!(a.verify().is_ok() && b.verify().is_ok());
        let mixed = Signed {
            signature: a.signature,
            ..b
        };
        assert_eq!(mixed.verify(), Err(SignatureError::BadSignature));
    }

    #[test]
    fn tampered_body_is_rejected() {
        let mut s = Signed::seal(&alice(), &body()).unwrap();
        s.body = s.body.replace("\"amount\":5", "\"amount\":500");
        assert_eq!(s.verify(), Err(SignatureError::BadSignature));
        assert_eq!(s.open::<Cmd>(), Err(SignatureError::BadSignature));
    }

    #[test]
    fn wrong_signer_is_rejected() {
        let mut s = Signed::seal(&alice(), &body()).unwrap();
        s.signer = Keypair::from_uri("//Bob").unwrap().public();
        assert_eq!(s.verify(), Err(SignatureError::BadSignature));
        // A signer that is not a curve point at all.
        s.signer = AccountId([0xff; 32]);
        assert_eq!(s.verify(), Err(SignatureError::Malformed));
    }

    #[test]
    fn truncated_signature_is_rejected() {
        let s = Signed::seal(&alice(), &body()).unwrap();
        let json = String::from_utf8(s.to_bytes().unwrap()).unwrap();
        let hex = s.signature.to_hex();
        let truncated = json.replace(&hex, &hex[..hex.len() - 2]);
        assert_eq!(
            Signed::from_bytes(truncated.as_bytes()),
            Err(SignatureError::Malformed)
        );
        // A signature without schnorrkel's marker bit.
        let mut bad = s.clone();
        bad.signature.0[63] &= 0x7f;
        assert_eq!(bad.verify(), Err(SignatureError::Malformed));
    }

    #[test]
    fn body_of_another_type_is_malformed() {
        let s = Signed::sign(&alice(), r#"{"client":"x"}"#.into());
        assert_eq!(s.open::<Cmd>(), Err(SignatureError::Malformed));
        assert_eq!(
            Signed::from_bytes(b"not json"),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn oversized_is_rejected_both_ways() {
        let s = Signed::sign(&alice(), "x".repeat(MAX_SIGNED_BYTES));
        assert_eq!(s.to_bytes(), Err(SignatureError::Oversized));
        let big = vec![b' '; MAX_SIGNED_BYTES + 1];
        assert_eq!(Signed::from_bytes(&big), Err(SignatureError::Oversized));
    }
}
