//! Consensus events: the facts the log keeps, and their versioned encoding.
//!
//! Each variant wraps a payload struct named like the event type; the
//! payload is what goes into the envelope (bincode via `envelope::codec`).
//! Every (type, version) ever written is listed in [`EVENT_SCHEMA`] and has a
//! golden fixture under `tests/fixtures/`.
//!
//! `EpochRan` carries every output the epoch persists (permits, bonds, the
//! u16 terms, the rao split), so `evolve` never re-runs the engine: replay is
//! cheap and does not depend on the engine version that wrote the log.
//!
//! History: `SubnetCreated` and `NeuronRegistered` v1 had no `op` (the saga
//! id governance relays); a v1 payload decodes as v2 with `op = None`.

use envelope::{codec, DecodeError, VersionedEvent};
use keys::AccountId;
use serde::{Deserialize, Serialize};

use crate::params::{Hyperparameter, SubnetParams};

/// Every (event type, version) the decoder accepts, current and historical.
pub const EVENT_SCHEMA: &[(&str, u16)] = &[
    ("BlockObserved", 1),
    ("SubnetCreated", 1),
    ("SubnetCreated", 2),
    ("HyperparameterSet", 1),
    ("MaxEpochsPerBlockSet", 1),
    ("NeuronRegistered", 1),
    ("NeuronRegistered", 2),
    ("StakeUpdated", 1),
    ("EmissionAccrued", 1),
    ("WeightsSet", 1),
    ("WeightsCommitted", 1),
    ("WeightsRevealed", 1),
    ("EpochTriggered", 1),
    ("EpochDeferred", 1),
    ("EpochRan", 1),
    ("EpochSkipped", 1),
    ("StepRefused", 1),
    ("SubnetDropped", 1),
    ("EpochScheduleChanged", 1),
    ("EmissionsAccrued", 1),
    ("StakesUpdated", 1),
];

/// The consensus clock moved to `height`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockObserved {
    pub height: u64,
}

/// `last_epoch_block` is staggered: `block − (netuid mod tempo)`.
/// Version 2: `op` is the governance saga step that asked for it (None for
/// genesis subnets and direct service commands).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetCreated {
    pub netuid: u16,
    pub owner: AccountId,
    pub owner_hotkey: AccountId,
    pub params: SubnetParams,
    pub block: u64,
    pub last_epoch_block: u64,
    pub op: Option<String>,
}

/// `SubnetCreated` as version 1 wrote it (no `op`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetCreatedV1 {
    pub netuid: u16,
    pub owner: AccountId,
    pub owner_hotkey: AccountId,
    pub params: SubnetParams,
    pub block: u64,
    pub last_epoch_block: u64,
}

impl From<SubnetCreatedV1> for SubnetCreated {
    fn from(v1: SubnetCreatedV1) -> Self {
        SubnetCreated {
            netuid: v1.netuid,
            owner: v1.owner,
            owner_hotkey: v1.owner_hotkey,
            params: v1.params,
            block: v1.block,
            last_epoch_block: v1.last_epoch_block,
            op: None,
        }
    }
}

/// A new tempo also restarts the epoch cycle at the current block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HyperparameterSet {
    pub netuid: u16,
    pub param: Hyperparameter,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaxEpochsPerBlockSet {
    pub value: u16,
}

/// `replaced`: the hotkey that held `uid` before (pruned), if any.
/// Version 2: `op` is the governance saga step that asked for it (None for
/// genesis neurons and direct service commands).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronRegistered {
    pub netuid: u16,
    pub uid: u16,
    pub hotkey: AccountId,
    pub block: u64,
    pub replaced: Option<AccountId>,
    pub op: Option<String>,
}

/// `NeuronRegistered` as version 1 wrote it (no `op`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronRegisteredV1 {
    pub netuid: u16,
    pub uid: u16,
    pub hotkey: AccountId,
    pub block: u64,
    pub replaced: Option<AccountId>,
}

impl From<NeuronRegisteredV1> for NeuronRegistered {
    fn from(v1: NeuronRegisteredV1) -> Self {
        NeuronRegistered {
            netuid: v1.netuid,
            uid: v1.uid,
            hotkey: v1.hotkey,
            block: v1.block,
            replaced: v1.replaced,
            op: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeUpdated {
    pub netuid: u16,
    pub hotkey: AccountId,
    pub stake: u64,
}

/// `rao` added to the subnet's pending epoch emission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmissionAccrued {
    pub netuid: u16,
    pub rao: u64,
}

/// A block's coinbase accruals, one event for all subnets: (netuid, rao)
/// added to each subnet's pending epoch emission. One `EmissionAccrued`
/// per subnet was 128 envelopes a block at 128 subnets (most of the
/// simulator's events); the state change is the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmissionsAccrued {
    pub entries: Vec<(u16, u64)>,
}

/// The stake weights of one `StakeUpdates` command that changed, as
/// (netuid, hotkey, stake; 0 forgets it), in key order: one event instead
/// of one `StakeUpdated` each (an epoch's payout changes a whole subnet's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakesUpdated {
    pub entries: Vec<(u16, AccountId, u64)>,
}

/// A stored weight row (already max-upscaled; explicit zeros kept);
/// `last_update` of `uid` becomes `block`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightsSet {
    pub netuid: u16,
    pub uid: u16,
    pub hotkey: AccountId,
    pub weights: Vec<(u16, u16)>,
    pub block: u64,
}

/// A hash commit queued under epoch `epoch`, after dropping
/// `expired_dropped` expired commits from the front of the hotkey's queue;
/// `last_update` of `uid` becomes `block` (the commit consumes the rate limit).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightsCommitted {
    pub netuid: u16,
    pub uid: u16,
    pub hotkey: AccountId,
    pub hash: [u8; 32],
    pub block: u64,
    pub epoch: u64,
    pub expired_dropped: u32,
}

/// A reveal: `commits_removed` commits leave the front of the queue (the
/// expired ones, then every commit up to and including the revealed one)
/// and the row is stored; `last_update` is not touched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightsRevealed {
    pub netuid: u16,
    pub uid: u16,
    pub hotkey: AccountId,
    pub hash: [u8; 32],
    pub weights: Vec<(u16, u16)>,
    pub commits_removed: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochTriggered {
    pub netuid: u16,
    pub fires_at: u64,
}

/// Due at `from_block` but over `MaxEpochsPerBlock`: runs at `to_block`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochDeferred {
    pub netuid: u16,
    pub from_block: u64,
    pub to_block: u64,
}

/// One epoch of one subnet: every per-uid vector is indexed by uid and as
/// long as `hotkeys`. `rao` is the pending emission it drained; the
/// `emission` entries sum to at most `rao` (floors), and the amm pays them
/// to `hotkeys` (`server_emission` as incentive, `validator_emission` as
/// dividends).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochRan {
    pub netuid: u16,
    pub block: u64,
    /// `SubnetEpochIndex` after this epoch.
    pub epoch_index: u64,
    pub rao: u64,
    pub hotkeys: Vec<AccountId>,
    pub stake: Vec<u16>,
    pub consensus: Vec<u16>,
    pub incentive: Vec<u16>,
    pub dividends: Vec<u16>,
    pub validator_trust: Vec<u16>,
    pub emission: Vec<u64>,
    pub server_emission: Vec<u64>,
    pub validator_emission: Vec<u64>,
    pub active: Vec<bool>,
    pub validator_permit: Vec<bool>,
    pub bonds: Vec<Vec<(u16, u16)>>,
}

/// The engine refused the inputs: the slot is consumed, the pending
/// emission keeps accumulating (the chain's `EpochSkipped`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochSkipped {
    pub netuid: u16,
    pub block: u64,
    pub reason: String,
}

/// A governance saga step (`CreateSubnet` / `RegisterNeuron` carrying an
/// `op`) was refused. Unlike a plain command's rejection this is recorded,
/// because governance waits for the outcome: `code` is the rejection's
/// stable name ([`crate::Rejection::code`]), `message` its text. Changes no
/// state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRefused {
    pub op: String,
    pub code: String,
    pub message: String,
}

/// The subnet is gone: metagraph, weights, bonds, commits, pending emission
/// and its stake weights. The netuid may be created again later.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetDropped {
    pub netuid: u16,
}

/// The subnet's epoch schedule as [`crate::Consensus::next_epoch_block`]
/// and [`crate::Consensus::trigger_pending`] answer it, after the event just
/// before this one changed it (`SubnetCreated`, `EpochRan`, `EpochSkipped`,
/// a tempo `HyperparameterSet`, `EpochTriggered`, `EpochDeferred`). Emitted
/// only when one of the two values differs from before; it changes no state.
/// `epoch_ran`: the change comes from an `EpochRan` of this subnet at this
/// block (governance applies pending childkeys then).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochScheduleChanged {
    pub netuid: u16,
    pub next_epoch_block: u64,
    pub trigger_pending: bool,
    pub epoch_ran: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsensusEvent {
    BlockObserved(BlockObserved),
    SubnetCreated(SubnetCreated),
    HyperparameterSet(HyperparameterSet),
    MaxEpochsPerBlockSet(MaxEpochsPerBlockSet),
    NeuronRegistered(NeuronRegistered),
    StakeUpdated(StakeUpdated),
    EmissionAccrued(EmissionAccrued),
    WeightsSet(WeightsSet),
    WeightsCommitted(WeightsCommitted),
    WeightsRevealed(WeightsRevealed),
    EpochTriggered(EpochTriggered),
    EpochDeferred(EpochDeferred),
    EpochRan(EpochRan),
    EpochSkipped(EpochSkipped),
    StepRefused(StepRefused),
    SubnetDropped(SubnetDropped),
    EpochScheduleChanged(EpochScheduleChanged),
    EmissionsAccrued(EmissionsAccrued),
    StakesUpdated(StakesUpdated),
}

use envelope::codec::decode_body as body;

impl VersionedEvent for ConsensusEvent {
    fn event_type(&self) -> &'static str {
        match self {
            ConsensusEvent::BlockObserved(_) => "BlockObserved",
            ConsensusEvent::SubnetCreated(_) => "SubnetCreated",
            ConsensusEvent::HyperparameterSet(_) => "HyperparameterSet",
            ConsensusEvent::MaxEpochsPerBlockSet(_) => "MaxEpochsPerBlockSet",
            ConsensusEvent::NeuronRegistered(_) => "NeuronRegistered",
            ConsensusEvent::StakeUpdated(_) => "StakeUpdated",
            ConsensusEvent::EmissionAccrued(_) => "EmissionAccrued",
            ConsensusEvent::WeightsSet(_) => "WeightsSet",
            ConsensusEvent::WeightsCommitted(_) => "WeightsCommitted",
            ConsensusEvent::WeightsRevealed(_) => "WeightsRevealed",
            ConsensusEvent::EpochTriggered(_) => "EpochTriggered",
            ConsensusEvent::EpochDeferred(_) => "EpochDeferred",
            ConsensusEvent::EpochRan(_) => "EpochRan",
            ConsensusEvent::EpochSkipped(_) => "EpochSkipped",
            ConsensusEvent::StepRefused(_) => "StepRefused",
            ConsensusEvent::SubnetDropped(_) => "SubnetDropped",
            ConsensusEvent::EpochScheduleChanged(_) => "EpochScheduleChanged",
            ConsensusEvent::EmissionsAccrued(_) => "EmissionsAccrued",
            ConsensusEvent::StakesUpdated(_) => "StakesUpdated",
        }
    }

    fn version(&self) -> u16 {
        match self {
            ConsensusEvent::SubnetCreated(_) | ConsensusEvent::NeuronRegistered(_) => 2,
            _ => 1,
        }
    }

    fn encode_payload(&self) -> Vec<u8> {
        match self {
            ConsensusEvent::BlockObserved(e) => codec::encode(e),
            ConsensusEvent::SubnetCreated(e) => codec::encode(e),
            ConsensusEvent::HyperparameterSet(e) => codec::encode(e),
            ConsensusEvent::MaxEpochsPerBlockSet(e) => codec::encode(e),
            ConsensusEvent::NeuronRegistered(e) => codec::encode(e),
            ConsensusEvent::StakeUpdated(e) => codec::encode(e),
            ConsensusEvent::EmissionAccrued(e) => codec::encode(e),
            ConsensusEvent::WeightsSet(e) => codec::encode(e),
            ConsensusEvent::WeightsCommitted(e) => codec::encode(e),
            ConsensusEvent::WeightsRevealed(e) => codec::encode(e),
            ConsensusEvent::EpochTriggered(e) => codec::encode(e),
            ConsensusEvent::EpochDeferred(e) => codec::encode(e),
            ConsensusEvent::EpochRan(e) => codec::encode(e),
            ConsensusEvent::EpochSkipped(e) => codec::encode(e),
            ConsensusEvent::StepRefused(e) => codec::encode(e),
            ConsensusEvent::SubnetDropped(e) => codec::encode(e),
            ConsensusEvent::EpochScheduleChanged(e) => codec::encode(e),
            ConsensusEvent::EmissionsAccrued(e) => codec::encode(e),
            ConsensusEvent::StakesUpdated(e) => codec::encode(e),
        }
    }

    fn decode_payload(event_type: &str, version: u16, payload: &[u8]) -> Result<Self, DecodeError> {
        let (t, v, p) = (event_type, version, payload);
        Ok(match (t, v) {
            ("BlockObserved", 1) => ConsensusEvent::BlockObserved(body(t, v, p)?),
            ("SubnetCreated", 1) => {
                ConsensusEvent::SubnetCreated(body::<SubnetCreatedV1>(t, v, p)?.into())
            }
            ("SubnetCreated", 2) => ConsensusEvent::SubnetCreated(body(t, v, p)?),
            ("HyperparameterSet", 1) => ConsensusEvent::HyperparameterSet(body(t, v, p)?),
            ("MaxEpochsPerBlockSet", 1) => ConsensusEvent::MaxEpochsPerBlockSet(body(t, v, p)?),
            ("NeuronRegistered", 1) => {
                ConsensusEvent::NeuronRegistered(body::<NeuronRegisteredV1>(t, v, p)?.into())
            }
            ("NeuronRegistered", 2) => ConsensusEvent::NeuronRegistered(body(t, v, p)?),
            ("StakeUpdated", 1) => ConsensusEvent::StakeUpdated(body(t, v, p)?),
            ("EmissionAccrued", 1) => ConsensusEvent::EmissionAccrued(body(t, v, p)?),
            ("WeightsSet", 1) => ConsensusEvent::WeightsSet(body(t, v, p)?),
            ("WeightsCommitted", 1) => ConsensusEvent::WeightsCommitted(body(t, v, p)?),
            ("WeightsRevealed", 1) => ConsensusEvent::WeightsRevealed(body(t, v, p)?),
            ("EpochTriggered", 1) => ConsensusEvent::EpochTriggered(body(t, v, p)?),
            ("EpochDeferred", 1) => ConsensusEvent::EpochDeferred(body(t, v, p)?),
            ("EpochRan", 1) => ConsensusEvent::EpochRan(body(t, v, p)?),
            ("EpochSkipped", 1) => ConsensusEvent::EpochSkipped(body(t, v, p)?),
            ("StepRefused", 1) => ConsensusEvent::StepRefused(body(t, v, p)?),
            ("SubnetDropped", 1) => ConsensusEvent::SubnetDropped(body(t, v, p)?),
            ("EpochScheduleChanged", 1) => ConsensusEvent::EpochScheduleChanged(body(t, v, p)?),
            ("EmissionsAccrued", 1) => ConsensusEvent::EmissionsAccrued(body(t, v, p)?),
            ("StakesUpdated", 1) => ConsensusEvent::StakesUpdated(body(t, v, p)?),
            _ => {
                return Err(DecodeError::UnknownType {
                    event_type: t.to_owned(),
                    version: v,
                })
            }
        })
    }
}
