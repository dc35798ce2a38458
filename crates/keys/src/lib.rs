//! Keys, signatures and wallets as Bittensor uses them.
//!
//! - [`account`]: [`AccountId`], a 32-byte sr25519 public key shown as an
//!   SS58 address with prefix 42 (the generic Substrate prefix Bittensor uses).
//! - [`sr25519`]: [`Keypair`] and [`Signature`]; keys from seeds, BIP39
//!   mnemonics and Substrate secret URIs (`//Alice`), derived exactly as
//!   Substrate derives them so addresses match `btcli` and polkadot.js.
//! - [`uri`]: parsing of secret URIs and derivation [`Junction`]s.
//! - [`signed`]: [`Signed`], the wire form of every signed command: the
//!   signature covers the exact body bytes, so no canonical JSON is needed.
//! - [`wallet`]: [`Wallet`] directories in Bittensor's layout (`coldkey`,
//!   `coldkeypub.txt`, `hotkeys/`), coldkeys encrypted at rest with
//!   argon2id + XChaCha20-Poly1305; `keyfile` holds that file format.

pub mod account;
mod keyfile;
pub mod signed;
pub mod sr25519;
pub mod uri;
pub mod wallet;

pub use account::{AccountId, Ss58Error, SS58_PREFIX};
pub use signed::{CommandBody, SignatureError, Signed, MAX_SIGNED_BYTES};
pub use sr25519::{verify, verify_batch, KeyError, Keypair, Signature, DEV_PHRASE};
pub use uri::Junction;
pub use wallet::{KdfParams, Wallet, WalletError, WalletInfo};
