//! Keys and addresses as Bittensor wallets use them.
//!
//! - [`AccountId`]: a 32-byte sr25519 public key, shown as an SS58 address
//!   with prefix 42 (the generic Substrate prefix Bittensor uses).

mod account;
pub use account::{AccountId, Ss58Error, SS58_PREFIX};
