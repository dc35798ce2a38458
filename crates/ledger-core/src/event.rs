//! Ledger events: the facts the log keeps, and their versioned encoding.
//!
//! Each variant wraps a payload struct named like the event type; the
//! payload is what goes into the envelope (bincode via `envelope::codec`).
//! Every (type, version) ever written is listed in [`EVENT_SCHEMA`] and has a
//! golden fixture under `tests/fixtures/`.
//!
//! History: `Transferred` v1 had no `fee` (fees arrived with v2); a v1
//! payload decodes as v2 with `fee = 0`.

use envelope::{codec, DecodeError, VersionedEvent};
use keys::AccountId;
use serde::{Deserialize, Serialize};

use crate::genesis::Genesis;

/// Every (event type, version) the decoder accepts, current and historical.
pub const EVENT_SCHEMA: &[(&str, u16)] = &[
    ("GenesisApplied", 1),
    ("GenesisApplied", 2),
    ("GenesisApplied", 3),
    ("BlockProduced", 1),
    ("CoinbaseRecycled", 1),
    ("CoinbaseClaimed", 1),
    ("Transferred", 1),
    ("Transferred", 2),
    ("AccountReaped", 1),
    ("StakeFunded", 1),
    ("StakeRefunded", 1),
    ("CustodyPaid", 1),
    ("LockedForSubnet", 1),
    ("LockConfirmed", 1),
    ("LockReleased", 1),
    ("RegistrationFunded", 1),
    ("RegistrationRefunded", 1),
    ("CustodyRecycled", 1),
    ("TaoBurned", 1),
    ("CustodySettled", 1),
    ("StepRejected", 1),
];

/// Version 2: the genesis carries subnet custody. Version 3: and the fee
/// recipient (fee burning off).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisApplied {
    pub genesis: Genesis,
}

/// `GenesisApplied` as version 2 wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisAppliedV2 {
    pub genesis: crate::genesis::GenesisV2,
}

impl From<GenesisAppliedV2> for GenesisApplied {
    fn from(v2: GenesisAppliedV2) -> Self {
        GenesisApplied {
            genesis: v2.genesis.into(),
        }
    }
}

/// `GenesisApplied` as version 1 wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisAppliedV1 {
    pub genesis: crate::genesis::GenesisV1,
}

impl From<GenesisAppliedV1> for GenesisApplied {
    fn from(v1: GenesisAppliedV1) -> Self {
        GenesisApplied {
            genesis: v1.genesis.into(),
        }
    }
}

/// Custody movements the amm decided (`Settle`), carried out at once.
/// `dust_recycled`: account credits that would have left an account below
/// the existential deposit are recycled instead (total issuance falls), so
/// a settlement never fails on them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodySettled {
    pub op: String,
    pub moves: Vec<crate::command::CustodyMove>,
    pub dust_recycled: u64,
}

/// A saga step relayed from a peer's event stream was refused. Unlike a
/// user command's rejection this is recorded, because the peer waits for
/// the outcome (`code` is the rejection's name, `message` its text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRejected {
    pub op: String,
    pub code: String,
    pub message: String,
}

/// A block: height, time, and the TAO minted into pending coinbase credit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockProduced {
    pub height: u64,
    pub timestamp_ms: u64,
    pub minted: u64,
}

/// Unspent coinbase credit of `block` leaves circulation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoinbaseRecycled {
    pub block: u64,
    pub amount: u64,
}

/// Coinbase credit of `block` moved into custody accounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoinbaseClaimed {
    pub block: u64,
    pub credits: Vec<(u16, u64)>,
}

/// `fee` is burned (total issuance falls by it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transferred {
    pub from: AccountId,
    pub to: AccountId,
    pub amount: u64,
    pub fee: u64,
}

/// `Transferred` as written before fees existed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferredV1 {
    pub from: AccountId,
    pub to: AccountId,
    pub amount: u64,
}

impl From<TransferredV1> for Transferred {
    fn from(v1: TransferredV1) -> Self {
        Transferred {
            from: v1.from,
            to: v1.to,
            amount: v1.amount,
            fee: 0,
        }
    }
}

/// The account fell below the existential deposit and was removed; its
/// remaining `dust` leaves total issuance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountReaped {
    pub account: AccountId,
    pub dust: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeFunded {
    pub op: String,
    pub coldkey: AccountId,
    pub netuid: u16,
    pub amount: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeRefunded {
    pub op: String,
    pub coldkey: AccountId,
    pub netuid: u16,
    pub amount: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyPaid {
    pub op: String,
    pub netuid: u16,
    pub to: AccountId,
    pub amount: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedForSubnet {
    pub op: String,
    pub coldkey: AccountId,
    pub amount: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockConfirmed {
    pub op: String,
    pub netuid: u16,
    pub amount: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockReleased {
    pub op: String,
    pub coldkey: AccountId,
    pub amount: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationFunded {
    pub op: String,
    pub coldkey: AccountId,
    pub netuid: u16,
    pub amount: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationRefunded {
    pub op: String,
    pub coldkey: AccountId,
    pub netuid: u16,
    pub amount: u64,
}

/// Custody TAO leaves circulation (total issuance falls).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyRecycled {
    pub op: String,
    pub netuid: u16,
    pub amount: u64,
}

/// Free TAO moved to the burn account (total issuance unchanged).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaoBurned {
    pub op: String,
    pub from: AccountId,
    pub amount: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LedgerEvent {
    GenesisApplied(GenesisApplied),
    BlockProduced(BlockProduced),
    CoinbaseRecycled(CoinbaseRecycled),
    CoinbaseClaimed(CoinbaseClaimed),
    Transferred(Transferred),
    AccountReaped(AccountReaped),
    StakeFunded(StakeFunded),
    StakeRefunded(StakeRefunded),
    CustodyPaid(CustodyPaid),
    LockedForSubnet(LockedForSubnet),
    LockConfirmed(LockConfirmed),
    LockReleased(LockReleased),
    RegistrationFunded(RegistrationFunded),
    RegistrationRefunded(RegistrationRefunded),
    CustodyRecycled(CustodyRecycled),
    TaoBurned(TaoBurned),
    CustodySettled(CustodySettled),
    StepRejected(StepRejected),
}

use envelope::codec::decode_body as body;

impl VersionedEvent for LedgerEvent {
    fn event_type(&self) -> &'static str {
        match self {
            LedgerEvent::GenesisApplied(_) => "GenesisApplied",
            LedgerEvent::BlockProduced(_) => "BlockProduced",
            LedgerEvent::CoinbaseRecycled(_) => "CoinbaseRecycled",
            LedgerEvent::CoinbaseClaimed(_) => "CoinbaseClaimed",
            LedgerEvent::Transferred(_) => "Transferred",
            LedgerEvent::AccountReaped(_) => "AccountReaped",
            LedgerEvent::StakeFunded(_) => "StakeFunded",
            LedgerEvent::StakeRefunded(_) => "StakeRefunded",
            LedgerEvent::CustodyPaid(_) => "CustodyPaid",
            LedgerEvent::LockedForSubnet(_) => "LockedForSubnet",
            LedgerEvent::LockConfirmed(_) => "LockConfirmed",
            LedgerEvent::LockReleased(_) => "LockReleased",
            LedgerEvent::RegistrationFunded(_) => "RegistrationFunded",
            LedgerEvent::RegistrationRefunded(_) => "RegistrationRefunded",
            LedgerEvent::CustodyRecycled(_) => "CustodyRecycled",
            LedgerEvent::TaoBurned(_) => "TaoBurned",
            LedgerEvent::CustodySettled(_) => "CustodySettled",
            LedgerEvent::StepRejected(_) => "StepRejected",
        }
    }

    fn version(&self) -> u16 {
        match self {
            LedgerEvent::GenesisApplied(_) => 3,
            LedgerEvent::Transferred(_) => 2,
            _ => 1,
        }
    }

    fn encode_payload(&self) -> Vec<u8> {
        match self {
            LedgerEvent::GenesisApplied(e) => codec::encode(e),
            LedgerEvent::BlockProduced(e) => codec::encode(e),
            LedgerEvent::CoinbaseRecycled(e) => codec::encode(e),
            LedgerEvent::CoinbaseClaimed(e) => codec::encode(e),
            LedgerEvent::Transferred(e) => codec::encode(e),
            LedgerEvent::AccountReaped(e) => codec::encode(e),
            LedgerEvent::StakeFunded(e) => codec::encode(e),
            LedgerEvent::StakeRefunded(e) => codec::encode(e),
            LedgerEvent::CustodyPaid(e) => codec::encode(e),
            LedgerEvent::LockedForSubnet(e) => codec::encode(e),
            LedgerEvent::LockConfirmed(e) => codec::encode(e),
            LedgerEvent::LockReleased(e) => codec::encode(e),
            LedgerEvent::RegistrationFunded(e) => codec::encode(e),
            LedgerEvent::RegistrationRefunded(e) => codec::encode(e),
            LedgerEvent::CustodyRecycled(e) => codec::encode(e),
            LedgerEvent::TaoBurned(e) => codec::encode(e),
            LedgerEvent::CustodySettled(e) => codec::encode(e),
            LedgerEvent::StepRejected(e) => codec::encode(e),
        }
    }

    fn decode_payload(event_type: &str, version: u16, payload: &[u8]) -> Result<Self, DecodeError> {
        let (t, v, p) = (event_type, version, payload);
        Ok(match (t, v) {
            ("GenesisApplied", 1) => {
                LedgerEvent::GenesisApplied(body::<GenesisAppliedV1>(t, v, p)?.into())
            }
            ("GenesisApplied", 2) => {
                LedgerEvent::GenesisApplied(body::<GenesisAppliedV2>(t, v, p)?.into())
            }
            ("GenesisApplied", 3) => LedgerEvent::GenesisApplied(body(t, v, p)?),
            ("BlockProduced", 1) => LedgerEvent::BlockProduced(body(t, v, p)?),
            ("CoinbaseRecycled", 1) => LedgerEvent::CoinbaseRecycled(body(t, v, p)?),
            ("CoinbaseClaimed", 1) => LedgerEvent::CoinbaseClaimed(body(t, v, p)?),
            ("Transferred", 1) => LedgerEvent::Transferred(body::<TransferredV1>(t, v, p)?.into()),
            ("Transferred", 2) => LedgerEvent::Transferred(body(t, v, p)?),
            ("AccountReaped", 1) => LedgerEvent::AccountReaped(body(t, v, p)?),
            ("StakeFunded", 1) => LedgerEvent::StakeFunded(body(t, v, p)?),
            ("StakeRefunded", 1) => LedgerEvent::StakeRefunded(body(t, v, p)?),
            ("CustodyPaid", 1) => LedgerEvent::CustodyPaid(body(t, v, p)?),
            ("LockedForSubnet", 1) => LedgerEvent::LockedForSubnet(body(t, v, p)?),
            ("LockConfirmed", 1) => LedgerEvent::LockConfirmed(body(t, v, p)?),
            ("LockReleased", 1) => LedgerEvent::LockReleased(body(t, v, p)?),
            ("RegistrationFunded", 1) => LedgerEvent::RegistrationFunded(body(t, v, p)?),
            ("RegistrationRefunded", 1) => LedgerEvent::RegistrationRefunded(body(t, v, p)?),
            ("CustodyRecycled", 1) => LedgerEvent::CustodyRecycled(body(t, v, p)?),
            ("TaoBurned", 1) => LedgerEvent::TaoBurned(body(t, v, p)?),
            ("CustodySettled", 1) => LedgerEvent::CustodySettled(body(t, v, p)?),
            ("StepRejected", 1) => LedgerEvent::StepRejected(body(t, v, p)?),
            _ => {
                return Err(DecodeError::UnknownType {
                    event_type: t.to_owned(),
                    version: v,
                })
            }
        })
    }
}
