//! sr25519 key pairs and signatures, derived exactly as Substrate (and so
//! Bittensor's wallets) derive them, so a mnemonic or `//Alice`-style URI
//! gives the same address here as in `btcli` or polkadot.js.

use crate::account::AccountId;
use crate::uri::{self, Junction};
use schnorrkel::{
    derive::{ChainCode, Derivation},
    signing_context, ExpansionMode, MiniSecretKey, PublicKey, SecretKey,
};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use zeroize::Zeroizing;

/// Signing context Substrate uses for every sr25519 signature; a signature
/// made under another context would not verify on-chain or in other tools.
pub const SIGNING_CONTEXT: &[u8] = b"substrate";

/// The development phrase Substrate uses when a URI has no phrase
/// (`//Alice`, `//Bob`, ...). Public knowledge: never hold funds with it.
pub const DEV_PHRASE: &str =
    "bottom drive obey lake curtain smoke basket hold race lonely fit walk";

/// Mnemonic lengths BIP39 allows.
pub const WORD_COUNTS: [usize; 5] = [12, 15, 18, 21, 24];

/// Why a key could not be made from the given material.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum KeyError {
    #[error("not a valid BIP39 English mnemonic")]
    InvalidPhrase,
    #[error("{0} words: a mnemonic has 12, 15, 18, 21 or 24 words")]
    InvalidWordCount(usize),
    #[error("not a valid secret URI: {0}")]
    InvalidUri(&'static str),
    #[error("not a valid secret key or seed")]
    InvalidSecret,
}

/// A 64-byte sr25519 signature. Hex (`0x` + 128 digits) in human-readable
/// formats such as JSON, 64 raw bytes otherwise.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; 64]);

impl Signature {
    /// `0x` followed by 128 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }

    /// Parses `0x`-prefixed (or bare) hex of exactly 64 bytes.
    pub fn from_hex(s: &str) -> Option<Self> {
        let s = s.strip_prefix("0x").unwrap_or(s);
        let mut out = [0u8; 64];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Signature(out))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.to_hex())
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The text was not 64 bytes of hex.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
#[error("a signature is 0x followed by 128 hex digits")]
pub struct BadSignatureHex;

impl FromStr for Signature {
    type Err = BadSignatureHex;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Signature::from_hex(s).ok_or(BadSignatureHex)
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_hex())
        } else {
            // serde has no impls for [u8; 64]; bytes keep bincode compact.
            s.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Signature;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a 64-byte signature")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Signature, E> {
                Signature::from_hex(v).ok_or_else(|| E::custom(BadSignatureHex))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Signature, E> {
                let arr: [u8; 64] = v
                    .try_into()
                    .map_err(|_| E::invalid_length(v.len(), &self))?;
                Ok(Signature(arr))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Signature, A::Error> {
                let mut out = [0u8; 64];
                for (i, b) in out.iter_mut().enumerate() {
                    *b = seq
                        .next_element()?
                        .ok_or_else(|| de::Error::invalid_length(i, &self))?;
                }
                if seq.next_element::<u8>()?.is_some() {
                    return Err(de::Error::invalid_length(65, &self));
                }
                Ok(Signature(out))
            }
        }
        if d.is_human_readable() {
            d.deserialize_str(V)
        } else {
            d.deserialize_bytes(V)
        }
    }
}

/// An sr25519 key pair: a coldkey or a hotkey with its secret.
///
/// Keeps the 32-byte mini secret ("seed") when it is known, because that is
/// what wallet files store and what hard derivation continues from; keys
/// reached through a soft junction have no seed (Substrate behaves the same).
/// The secret is wiped on drop (schnorrkel zeroizes its key pair).
#[derive(Clone)]
pub struct Keypair {
    pair: schnorrkel::Keypair,
    seed: Option<Zeroizing<[u8; 32]>>,
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print secret material.
        write!(f, "Keypair({})", self.public())
    }
}

impl Keypair {
    /// A fresh key from OS randomness.
    pub fn generate() -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, seed.as_mut());
        Self::from_seed(&seed)
    }

    /// The key for a 32-byte mini secret, expanded in Ed25519 mode as
    /// Substrate's `Pair::from_seed` does.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let mini = MiniSecretKey::from_bytes(seed).expect("32 bytes is a valid mini secret");
        Self::from_mini(&mini)
    }

    fn from_mini(mini: &MiniSecretKey) -> Self {
        Keypair {
            pair: mini.expand_to_keypair(ExpansionMode::Ed25519),
            seed: Some(Zeroizing::new(mini.to_bytes())),
        }
    }

    /// The key for a BIP39 English mnemonic and optional BIP39 password:
    /// PBKDF2 over the mnemonic's *entropy* (not its words), as
    /// `substrate-bip39` does; this is what makes Substrate keys differ from
    /// BIP32 wallets for the same phrase.
    pub fn from_phrase(phrase: &str, password: Option<&str>) -> Result<Self, KeyError> {
        let mnemonic = bip39::Mnemonic::parse_in(bip39::Language::English, phrase)
            .map_err(|_| KeyError::InvalidPhrase)?;
        let entropy = Zeroizing::new(mnemonic.to_entropy());
        let mini = substrate_bip39::mini_secret_from_entropy(&entropy, password.unwrap_or(""))
            .map_err(|_| KeyError::InvalidPhrase)?;
        Ok(Self::from_mini(&mini))
    }

    /// A fresh mnemonic of `words` words and its key (no BIP39 password).
    pub fn generate_with_phrase(words: usize) -> Result<(Self, String), KeyError> {
        if !WORD_COUNTS.contains(&words) {
            return Err(KeyError::InvalidWordCount(words));
        }
        // 12 words = 128 bits of entropy, 3 words more per 32 bits.
        let mut entropy = Zeroizing::new(vec![0u8; words / 3 * 4]);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, entropy.as_mut_slice());
        let mnemonic =
            bip39::Mnemonic::from_entropy(&entropy).map_err(|_| KeyError::InvalidPhrase)?;
        let phrase = mnemonic.to_string();
        let pair = Self::from_phrase(&phrase, None)?;
        Ok((pair, phrase))
    }

    /// A key from a Substrate secret URI: `[phrase | 0x<seed hex>][//hard|/soft]*[///password]`.
    /// With no phrase the dev phrase is used, so `//Alice` is Substrate's Alice.
    pub fn from_uri(uri: &str) -> Result<Self, KeyError> {
        let parsed = uri::parse(uri)?;
        let root = match parsed.phrase {
            None => Self::from_phrase(DEV_PHRASE, parsed.password)?,
            Some(p) => match p.strip_prefix("0x") {
                Some(h) => {
                    let mut seed = Zeroizing::new([0u8; 32]);
                    hex::decode_to_slice(h, seed.as_mut()).map_err(|_| KeyError::InvalidSecret)?;
                    Self::from_seed(&seed)
                }
                None => Self::from_phrase(p, parsed.password)?,
            },
        };
        Ok(root.derive(&parsed.junctions))
    }

    /// Walks a derivation path the way `sp_core::sr25519::Pair::derive` does.
    pub fn derive(&self, path: &[Junction]) -> Self {
        let mut secret: SecretKey = self.pair.secret.clone();
        let mut seed = self.seed.clone();
        for j in path {
            match j {
                Junction::Hard(cc) => {
                    let (mini, _) = secret.hard_derive_mini_secret_key(Some(ChainCode(*cc)), b"");
                    secret = mini.expand(ExpansionMode::Ed25519);
                    seed = Some(Zeroizing::new(mini.to_bytes()));
                }
                Junction::Soft(cc) => {
                    secret = secret.derived_key_simple(ChainCode(*cc), []).0;
                    seed = None;
                }
            }
        }
        Keypair {
            pair: secret.to_keypair(),
            seed,
        }
    }

    /// Rebuilds a key from the 64-byte secret in the Ed25519-compatible
    /// layout Bittensor keyfiles call `privateKey`.
    pub fn from_private_key(bytes: &[u8]) -> Result<Self, KeyError> {
        let secret = SecretKey::from_ed25519_bytes(bytes).map_err(|_| KeyError::InvalidSecret)?;
        Ok(Keypair {
            pair: secret.to_keypair(),
            seed: None,
        })
    }

    /// The 64-byte secret in the layout Bittensor keyfiles call `privateKey`.
    pub(crate) fn private_key(&self) -> Zeroizing<[u8; 64]> {
        Zeroizing::new(self.pair.secret.to_ed25519_bytes())
    }

    /// The mini secret, when known (see the type's doc).
    pub(crate) fn seed(&self) -> Option<&[u8; 32]> {
        self.seed.as_deref()
    }

    /// The public key as an account.
    pub fn public(&self) -> AccountId {
        AccountId(self.pair.public.to_bytes())
    }

    /// Signs `msg` under the Substrate context.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        let ctx = signing_context(SIGNING_CONTEXT);
        Signature(self.pair.sign(ctx.bytes(msg)).to_bytes())
    }

    /// Same as the free [`verify`]; here so callers find it next to `sign`.
    pub fn verify(signer: &AccountId, msg: &[u8], sig: &Signature) -> bool {
        verify(signer, msg, sig)
    }
}

fn parse_pub(id: &AccountId) -> Option<PublicKey> {
    PublicKey::from_bytes(&id.0).ok()
}

fn parse_sig(sig: &Signature) -> Option<schnorrkel::Signature> {
    schnorrkel::Signature::from_bytes(&sig.0).ok()
}

/// Checks one signature. False for a bad signature and also for bytes that
/// are not a public key or signature at all.
pub fn verify(signer: &AccountId, msg: &[u8], sig: &Signature) -> bool {
    match (parse_pub(signer), parse_sig(sig)) {
        (Some(pk), Some(s)) => pk.verify_simple(SIGNING_CONTEXT, msg, &s).is_ok(),
        _ => false,
    }
}

/// Checks many signatures at once (schnorrkel's randomized batch check,
/// roughly twice as fast as one by one for large batches). True only if every
/// one is valid; an empty batch is trivially valid. On false the caller must
/// verify one by one to learn which failed.
pub fn verify_batch(items: &[(AccountId, &[u8], Signature)]) -> bool {
    if items.is_empty() {
        return true;
    }
    let mut pks = Vec::with_capacity(items.len());
    let mut sigs = Vec::with_capacity(items.len());
    for (id, _, sig) in items {
        match (parse_pub(id), parse_sig(sig)) {
            (Some(pk), Some(s)) => {
                pks.push(pk);
                sigs.push(s);
            }
            _ => return false,
        }
    }
    let ctx = signing_context(SIGNING_CONTEXT);
    let transcripts = items.iter().map(|(_, msg, _)| ctx.bytes(msg));
    schnorrkel::verify_batch(transcripts, &sigs, &pks, false).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    const BOB: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

    #[test]
    fn dev_accounts_have_their_well_known_addresses() {
        let alice = Keypair::from_uri("//Alice").unwrap();
        assert_eq!(
            hex::encode(alice.public().0),
            "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
        );
        assert_eq!(alice.public().to_ss58(), ALICE);
        assert_eq!(Keypair::from_uri("//Bob").unwrap().public().to_ss58(), BOB);
        // Same thing with the phrase spelled out.
        let spelled = Keypair::from_uri(&format!("{DEV_PHRASE}//Alice")).unwrap();
        assert_eq!(spelled.public(), alice.public());
    }

    #[test]
    fn dev_phrase_root_and_seed_match_substrate() {
        // `subkey inspect "bottom drive ... walk"` (no path).
        let root = Keypair::from_phrase(DEV_PHRASE, None).unwrap();
        assert_eq!(
            hex::encode(root.seed().unwrap()),
            "fac7959dbfe72f052e5a0c3c8d6530f202b02fd8f9f5ca3580ec8deb7797479e"
        );
        assert_eq!(
            root.public().to_ss58(),
            "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV"
        );
        // A hex-seed URI gives the same key as the phrase.
        let from_hex = Keypair::from_uri(
            "0xfac7959dbfe72f052e5a0c3c8d6530f202b02fd8f9f5ca3580ec8deb7797479e//Alice",
        )
        .unwrap();
        assert_eq!(from_hex.public().to_ss58(), ALICE);
    }

    #[test]
    fn hard_derivation_keeps_a_seed_soft_does_not() {
        let alice = Keypair::from_uri("//Alice").unwrap();
        let again = Keypair::from_seed(alice.seed().unwrap());
        assert_eq!(again.public(), alice.public());
        let soft = Keypair::from_uri("//Alice/soft").unwrap();
        assert!(soft.seed().is_none());
        assert_ne!(soft.public(), alice.public());
        // Soft derivation is deterministic in the public key.
        assert_eq!(
            Keypair::from_uri("//Alice/soft").unwrap().public(),
            soft.public()
        );
    }

    #[test]
    fn soft_and_numeric_junctions_match_substrate() {
        // `subkey inspect "//Alice/1"` and `"//Alice//stash"`-style vectors.
        assert_eq!(
            Keypair::from_uri("//Alice//stash")
                .unwrap()
                .public()
                .to_ss58(),
            "5GNJqTPyNqANBkUVMN1LPPrxXnFouWXoe2wNSmmEoLctxiZY"
        );
    }

    #[test]
    fn password_changes_the_key() {
        let a = Keypair::from_phrase(DEV_PHRASE, None).unwrap();
        let b = Keypair::from_phrase(DEV_PHRASE, Some("pw")).unwrap();
        assert_ne!(a.public(), b.public());
        let c = Keypair::from_uri(&format!("{DEV_PHRASE}///pw")).unwrap();
        assert_eq!(b.public(), c.public());
    }

    #[test]
    fn generated_phrases_round_trip() {
        for words in WORD_COUNTS {
            let (pair, phrase) = Keypair::generate_with_phrase(words).unwrap();
            assert_eq!(phrase.split(' ').count(), words);
            assert_eq!(
                Keypair::from_phrase(&phrase, None).unwrap().public(),
                pair.public()
            );
        }
        assert_eq!(
            Keypair::generate_with_phrase(13).unwrap_err(),
            KeyError::InvalidWordCount(13)
        );
    }

    #[test]
    fn bad_phrases_and_uris_are_rejected() {
        assert_eq!(
            Keypair::from_phrase("bottom drive obey", None).unwrap_err(),
            KeyError::InvalidPhrase
        );
        // Checksum word wrong.
        let bad = DEV_PHRASE.replace("walk", "bottom");
        assert_eq!(
            Keypair::from_phrase(&bad, None).unwrap_err(),
            KeyError::InvalidPhrase
        );
        assert!(matches!(
            Keypair::from_uri("//Alice//"),
            Err(KeyError::InvalidUri(_))
        ));
        assert!(matches!(
            Keypair::from_uri("0x1234//Alice"),
            Err(KeyError::InvalidSecret)
        ));
    }

    #[test]
    fn sign_and_verify() {
        let alice = Keypair::from_uri("//Alice").unwrap();
        let bob = Keypair::from_uri("//Bob").unwrap();
        let sig = alice.sign(b"hello");
        assert!(verify(&alice.public(), b"hello", &sig));
        assert!(Keypair::verify(&alice.public(), b"hello", &sig));
        assert!(!verify(&alice.public(), b"hellp", &sig));
        assert!(!verify(&bob.public(), b"hello", &sig));
        let mut bad = sig;
        bad.0[3] ^= 1;
        assert!(!verify(&alice.public(), b"hello", &bad));
        // Not a point on the curve / not a schnorrkel signature.
        assert!(!verify(&AccountId([0xff; 32]), b"hello", &sig));
        assert!(!verify(&alice.public(), b"hello", &Signature([0; 64])));
    }

    #[test]
    fn private_key_round_trips() {
        let k = Keypair::generate();
        let back = Keypair::from_private_key(k.private_key().as_ref()).unwrap();
        assert_eq!(back.public(), k.public());
        assert!(verify(&k.public(), b"m", &back.sign(b"m")));
    }

    #[test]
    fn batch_verification() {
        let keys: Vec<Keypair> = (0..4).map(|_| Keypair::generate()).collect();
        let msgs: Vec<Vec<u8>> = (0..4u8).map(|i| vec![i; 10]).collect();
        let mut items: Vec<(AccountId, &[u8], Signature)> = keys
            .iter()
            .zip(&msgs)
            .map(|(k, m)| (k.public(), m.as_slice(), k.sign(m)))
            .collect();
        assert!(verify_batch(&items));
        assert!(verify_batch(&[]));
        items[2].1 = b"other";
        assert!(!verify_batch(&items));
    }

    #[test]
    fn signature_serde() {
        let sig = Keypair::generate().sign(b"x");
        let json = serde_json::to_string(&sig).unwrap();
        assert_eq!(json.len(), 2 + 2 + 128);
        assert!(json.starts_with("\"0x"));
        assert_eq!(serde_json::from_str::<Signature>(&json).unwrap(), sig);
        assert!(serde_json::from_str::<Signature>("\"0x1234\"").is_err());
        assert_eq!(sig.to_hex().parse::<Signature>().unwrap(), sig);
    }
}
