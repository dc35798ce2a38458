//! Commands consensus decides on, and who may send them.

use keys::AccountId;
use serde::{Deserialize, Serialize};

use crate::params::{Hyperparameter, SubnetParams};

/// Who sent a command, as the shell established it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    /// A verified user signature: a hotkey (weights) or a subnet owner's
    /// coldkey (`TriggerEpoch`).
    Signed(AccountId),
    /// A verified service key. The shell admits only the configured service
    /// keys (ledger, amm, governance), so the core does not keep a list.
    Service(AccountId),
    /// The shell itself: relaying the amm's coinbase blocks and stake
    /// weights and governance's saga steps (`CreateSubnet`, `RegisterNeuron`,
    /// `DropSubnet`), applying genesis subnets at start-up.
    Clock,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    pub origin: Origin,
    pub body: CommandBody,
}

impl Command {
    pub fn new(origin: Origin, body: CommandBody) -> Self {
        Command { origin, body }
    }
}

/// What a command asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandBody {
    /// `Clock`: the ledger produced block `height` (must be the next one).
    /// Runs every epoch due at it, at most `MaxEpochsPerBlock`, deferring
    /// the rest one block.
    ObserveBlock { height: u64 },
    /// `Clock`: the amm ran block `height`'s coinbase. Its epoch accruals
    /// (server + validator + root alpha, rao) join each subnet's pending
    /// emission first, then the block is observed as by `ObserveBlock`, so
    /// an epoch at `height` drains that block's emission too (the chain's
    /// order: coinbase, then `drain_pending`). Unknown netuids are skipped.
    ObserveCoinbase {
        height: u64,
        accruals: Vec<(u16, u64)>,
    },
    /// `Clock` or `Service`: the amm's new stake weights, (netuid, hotkey,
    /// rao); entries for unknown subnets are skipped.
    StakeUpdates { entries: Vec<(u16, AccountId, u64)> },
    /// `Service` or `Clock`: a subnet was registered (governance). With
    /// `op` (governance's saga id) `SubnetCreated` carries the op and the
    /// owner hotkey is registered at uid 0 (a `NeuronRegistered` without
    /// op follows), and a domain rejection is not returned but recorded as
    /// `StepRefused { op, .. }`. Without it (genesis: the neurons follow as
    /// `RegisterNeuron`s) nothing is registered and a refusal is a plain
    /// rejection.
    CreateSubnet {
        netuid: u16,
        owner: AccountId,
        owner_hotkey: AccountId,
        params: SubnetParams,
        #[serde(default)]
        op: Option<String>,
    },
    /// `Service` or `Clock`: the subnet is gone (governance dissolved it or
    /// its registration failed): metagraph, weights, bonds, commits, pending
    /// emission and stake weights are dropped; the netuid may come back.
    DropSubnet { netuid: u16 },
    /// `Service`: governance changed a hyperparameter (it has checked who may).
    SetHyperparameter { netuid: u16, param: Hyperparameter },
    /// `Service`: the Root-settable `MaxEpochsPerBlock`.
    SetMaxEpochsPerBlock { value: u16 },
    /// `Service` or `Clock`: a paid registration (governance.md §4.2 steps
    /// 1–6 happened elsewhere); appends a uid or replaces the pruning
    /// choice. `op` as for `CreateSubnet`: refusals become `StepRefused`.
    RegisterNeuron {
        netuid: u16,
        hotkey: AccountId,
        block: u64,
        #[serde(default)]
        op: Option<String>,
    },
    /// `Service`: the amm's latest stake weight of a hotkey on a subnet (rao).
    StakeUpdate {
        netuid: u16,
        hotkey: AccountId,
        stake: u64,
    },
    /// `Service`: alpha (rao) the amm sets aside for the subnet's next epoch;
    /// accumulates until an epoch drains it.
    EmissionPending { netuid: u16, rao: u64 },
    /// `Signed(hotkey)`: `set_weights`.
    SetWeights {
        netuid: u16,
        uids: Vec<u16>,
        values: Vec<u16>,
        version_key: u64,
    },
    /// `Signed(hotkey)`: `commit_weights` with a [`crate::commit_hash`].
    CommitWeights { netuid: u16, hash: [u8; 32] },
    /// `Signed(hotkey)`: `reveal_weights`.
    RevealWeights {
        netuid: u16,
        uids: Vec<u16>,
        values: Vec<u16>,
        salt: Vec<u16>,
        version_key: u64,
    },
    /// `Signed(owner coldkey)` or `Service` (governance on the owner's
    /// behalf): `trigger_epoch`.
    TriggerEpoch { netuid: u16 },
}
