//! The on-disk form of one secret key.
//!
//! Inside is Bittensor's keyfile JSON (`accountId`, `publicKey`, `privateKey`,
//! `secretPhrase`, `secretSeed`, `ss58Address`), so the content is the same
//! as `btcli` writes. Around it is our own versioned envelope:
//!
//! - encrypted: `{"version":1,"kdf":"argon2id","m_cost","t_cost","p_cost",
//!   "salt","nonce","ciphertext"}`: argon2id turns the password into a key,
//!   XChaCha20-Poly1305 seals the keyfile JSON. The 24-byte nonce is random
//!   (safe for XChaCha), and the KDF parameters are bound as associated
//!   data so they cannot be swapped without detection.
//! - plaintext: `{"version":1,"kdf":"none","keyfile":{..}}`, the marker
//!   making it explicit that no password protects it (hotkeys, as Bittensor).
//!
//! A bare Bittensor keyfile JSON (no envelope) is read as plaintext too, so
//! unencrypted `btcli` hotkeys open here.

use crate::sr25519::Keypair;
use crate::wallet::WalletError;
use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

const VERSION: u32 = 1;

/// argon2id cost. `m_cost` is in KiB, as in the argon2 crate and RFC 9106.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub m_cost: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane: RFC 9106's second recommended setting,
    /// about a quarter second on a laptop, so guessing is expensive.
    fn default() -> Self {
        KdfParams {
            m_cost: 64 * 1024,
            t_cost: 3,
            p_cost: 1,
        }
    }
}

impl KdfParams {
    /// Upper bounds accepted when *reading* a file, so a planted file cannot
    /// make us allocate or spin without limit (4 GiB, 64 passes, 64 lanes).
    const MAX: KdfParams = KdfParams {
        m_cost: 4 * 1024 * 1024,
        t_cost: 64,
        p_cost: 64,
    };

    fn within_read_limits(&self) -> bool {
        self.m_cost <= Self::MAX.m_cost
            && self.t_cost <= Self::MAX.t_cost
            && self.p_cost <= Self::MAX.p_cost
    }

    fn derive_key(&self, password: &str, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, WalletError> {
        let params = Params::new(self.m_cost, self.t_cost, self.p_cost, Some(32))
            .map_err(|_| WalletError::InvalidKdfParams)?;
        let mut key = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(password.as_bytes(), salt, key.as_mut())
            .map_err(|_| WalletError::InvalidKdfParams)?;
        Ok(key)
    }

    fn aad(&self) -> Vec<u8> {
        format!(
            "taonet-keyfile:v{VERSION}:argon2id:m={}:t={}:p={}",
            self.m_cost, self.t_cost, self.p_cost
        )
        .into_bytes()
    }
}

/// Bittensor's keyfile JSON. Secret fields are wiped on drop.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyfileData {
    account_id: String,
    public_key: String,
    #[serde(default)]
    private_key: Option<String>,
    #[serde(default)]
    secret_phrase: Option<String>,
    #[serde(default)]
    secret_seed: Option<String>,
    ss58_address: String,
}

impl Drop for KeyfileData {
    fn drop(&mut self) {
        self.private_key.zeroize();
        self.secret_phrase.zeroize();
        self.secret_seed.zeroize();
    }
}

impl KeyfileData {
    pub(crate) fn new(key: &Keypair, phrase: Option<&str>) -> Self {
        let public = format!("0x{}", hex::encode(key.public().0));
        KeyfileData {
            account_id: public.clone(),
            public_key: public,
            private_key: Some(format!("0x{}", hex::encode(key.private_key().as_ref()))),
            secret_phrase: phrase.map(str::to_owned),
            secret_seed: key.seed().map(|s| format!("0x{}", hex::encode(s))),
            ss58_address: key.public().to_ss58(),
        }
    }

    /// Rebuilds the key from the strongest secret present (phrase, then
    /// seed, then private key) and checks it matches the stored public key.
    pub(crate) fn keypair(&self) -> Result<Keypair, WalletError> {
        let corrupt = |why: &str| WalletError::Corrupt(why.to_owned());
        let key = if let Some(p) = &self.secret_phrase {
            Keypair::from_phrase(p, None).map_err(|_| corrupt("bad secretPhrase"))?
        } else if let Some(s) = &self.secret_seed {
            let mut seed = Zeroizing::new([0u8; 32]);
            hex::decode_to_slice(s.trim_start_matches("0x"), seed.as_mut())
                .map_err(|_| corrupt("bad secretSeed"))?;
            Keypair::from_seed(&seed)
        } else if let Some(k) = &self.private_key {
            let bytes = Zeroizing::new(
                hex::decode(k.trim_start_matches("0x")).map_err(|_| corrupt("bad privateKey"))?,
            );
            Keypair::from_private_key(&bytes).map_err(|_| corrupt("bad privateKey"))?
        } else {
            return Err(corrupt("keyfile holds no secret"));
        };
        let expected = self.public_key.trim_start_matches("0x");
        if hex::encode(key.public().0) != expected.to_ascii_lowercase() {
            return Err(corrupt("secret does not match publicKey"));
        }
        Ok(key)
    }
}

#[derive(Serialize, Deserialize)]
struct Encrypted {
    version: u32,
    kdf: String,
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
    nonce: String,
    ciphertext: String,
}

/// Read side of the plaintext envelope; `kdf` was already checked by
/// [`is_encrypted`].
#[derive(Deserialize)]
struct Plain {
    version: u32,
    keyfile: KeyfileData,
}

/// Encodes a keyfile, encrypting it when a password is given.
pub(crate) fn seal(
    data: &KeyfileData,
    password: Option<&str>,
    kdf: &KdfParams,
) -> Result<Zeroizing<Vec<u8>>, WalletError> {
    let Some(password) = password else {
        let plain = PlainRef {
            version: VERSION,
            kdf: "none",
            keyfile: data,
        };
        return Ok(Zeroizing::new(
            serde_json::to_vec_pretty(&plain).map_err(|e| WalletError::Corrupt(e.to_string()))?,
        ));
    };
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let key = kdf.derive_key(password, &salt)?;
    let cipher = XChaCha20Poly1305::new(key.as_ref().into());
    let clear =
        Zeroizing::new(serde_json::to_vec(data).map_err(|e| WalletError::Corrupt(e.to_string()))?);
    let aad = kdf.aad();
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &clear,
                aad: &aad,
            },
        )
        .map_err(|_| WalletError::Corrupt("encryption failed".into()))?;
    let env = Encrypted {
        version: VERSION,
        kdf: "argon2id".into(),
        m_cost: kdf.m_cost,
        t_cost: kdf.t_cost,
        p_cost: kdf.p_cost,
        salt: hex::encode(salt),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ciphertext),
    };
    Ok(Zeroizing::new(
        serde_json::to_vec_pretty(&env).map_err(|e| WalletError::Corrupt(e.to_string()))?,
    ))
}

#[derive(Serialize)]
struct PlainRef<'a> {
    version: u32,
    kdf: &'static str,
    keyfile: &'a KeyfileData,
}

/// Whether the bytes are an encrypted keyfile (without decrypting).
pub(crate) fn is_encrypted(bytes: &[u8]) -> Result<bool, WalletError> {
    if foreign_encrypted(bytes).is_some() {
        return Ok(true);
    }
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| unreadable())?;
    match v.get("kdf").and_then(|k| k.as_str()) {
        Some("argon2id") => Ok(true),
        Some("none") => Ok(false),
        Some(other) => Err(WalletError::Corrupt(format!("unknown kdf {other:?}"))),
        None if v.get("publicKey").is_some() => Ok(false),
        None => Err(unreadable()),
    }
}

fn unreadable() -> WalletError {
    WalletError::Corrupt("not a taonet or plaintext Bittensor keyfile".into())
}

/// btcli's own encrypted formats: recognised (so listing a btcli wallet
/// folder works) but not decrypted here.
fn foreign_encrypted(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"$NACL") {
        Some("btcli NaCl-encrypted keyfile")
    } else if bytes.starts_with(b"$ANSIBLE_VAULT") {
        Some("btcli ansible-vault keyfile")
    } else {
        None
    }
}

/// Decodes a keyfile, decrypting with `password` when it is encrypted.
pub(crate) fn open(bytes: &[u8], password: Option<&str>) -> Result<KeyfileData, WalletError> {
    let corrupt = |e: serde_json::Error| WalletError::Corrupt(e.to_string());
    if let Some(what) = foreign_encrypted(bytes) {
        return Err(WalletError::UnsupportedFormat(what));
    }
    if !is_encrypted(bytes)? {
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(corrupt)?;
        if v.get("kdf").is_some() {
            let p: Plain = serde_json::from_value(v).map_err(corrupt)?;
            check_version(p.version)?;
            return Ok(p.keyfile);
        }
        return serde_json::from_value(v).map_err(corrupt);
    }
    let env: Encrypted = serde_json::from_slice(bytes).map_err(corrupt)?;
    check_version(env.version)?;
    let kdf = KdfParams {
        m_cost: env.m_cost,
        t_cost: env.t_cost,
        p_cost: env.p_cost,
    };
    if !kdf.within_read_limits() {
        return Err(WalletError::Corrupt("KDF parameters out of range".into()));
    }
    let password = password.ok_or(WalletError::PasswordRequired)?;
    let hexfield = |s: &str| hex::decode(s).map_err(|_| WalletError::Corrupt("bad hex".into()));
    let salt = hexfield(&env.salt)?;
    let nonce = hexfield(&env.nonce)?;
    let ciphertext = hexfield(&env.ciphertext)?;
    if nonce.len() != 24 || salt.len() < 8 {
        return Err(WalletError::Corrupt("bad salt or nonce length".into()));
    }
    let key = kdf.derive_key(password, &salt)?;
    let cipher = XChaCha20Poly1305::new(key.as_ref().into());
    let aad = kdf.aad();
    // An AEAD cannot tell a wrong password from a tampered ciphertext; the
    // wrong password is by far the likelier cause, so that is what we say.
    let clear = Zeroizing::new(
        cipher
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| WalletError::WrongPassword)?,
    );
    serde_json::from_slice(&clear).map_err(corrupt)
}

fn check_version(v: u32) -> Result<(), WalletError> {
    if v == VERSION {
        Ok(())
    } else {
        Err(WalletError::Corrupt(format!(
            "keyfile version {v}, expected {VERSION}"
        )))
    }
}
