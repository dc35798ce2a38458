//! The consensus service: the consensus core (`consensus-core`: metagraph,
//! weights validation, commit-reveal, epoch scheduling over the bit-exact
//! `yuma` engine) in the service-kit shell.
//!
//! It follows the amm's blocks through its inbox: each `CoinbaseRan` (the
//! amm's coinbase of a ledger block) becomes `ObserveCoinbase`, which adds
//! the block's epoch emission to the pending pots and runs the epochs that
//! are due, and each `StakeWeights` becomes `StakeUpdates`. Genesis subnets
//! and neurons are start-up commands; later subnets and registrations
//! arrive as service commands on `taonet.svc.consensus.*` (governance);
//! weights arrive signed by hotkeys on `taonet.cmd.consensus.*`.
//!
//! Queries: `status` (built in), `metagraph` `{"netuid": n}`, `subnets`.

use amm_core::AmmEvent;
use consensus_core::{Command, CommandBody, Consensus, Origin};
use envelope::{Envelope, VersionedEvent};
use serde_json::{json, Value};
use service_kit::{Caller, Service, ServiceConfig, ShellError};
use std::sync::Arc;
use store::EventStore;
use tokio::sync::watch;

/// Kept for `taonet replay` and tooling that names services by type.
pub use consensus_core::Consensus as ConsensusCore;

/// Marker type tying the consensus core to the shell.
pub struct ConsensusService;

impl Service for ConsensusService {
    type Core = Consensus;
    type Wire = CommandBody;

    fn admit(caller: Caller, _encoded_len: u32, wire: CommandBody) -> Command {
        let origin = match caller {
            Caller::User(a) => Origin::Signed(a),
            Caller::Service(a) => Origin::Service(a),
        };
        Command { origin, body: wire }
    }

    fn sources() -> &'static [&'static str] {
        &["amm"]
    }

    fn on_foreign(_core: &Consensus, event: &Envelope) -> Option<Command> {
        from_amm(event).map(|body| Command {
            origin: Origin::Clock,
            body,
        })
    }

    fn query(core: &Consensus, name: &str, args: &Value) -> Result<Value, String> {
        match name {
            "metagraph" => {
                let netuid = args["netuid"].as_u64().ok_or("missing \"netuid\"")?;
                let netuid = u16::try_from(netuid).map_err(|_| "netuid out of range")?;
                let m = core
                    .metagraph(netuid)
                    .ok_or_else(|| format!("SubnetNotExists: no subnet {netuid}"))?;
                serde_json::to_value(m).map_err(|e| e.to_string())
            }
            "subnets" => Ok(json!({"block": core.height(), "subnets": core.subnets()})),
            other => Err(format!("unknown query {other}")),
        }
    }
}

/// What an amm event means to consensus: a coinbase block (its epoch
/// accruals, then the block itself) or new stake weights.
pub fn from_amm(event: &Envelope) -> Option<CommandBody> {
    if !matches!(event.event_type.as_str(), "CoinbaseRan" | "StakeWeights") {
        return None;
    }
    match AmmEvent::from_envelope(event) {
        Ok(AmmEvent::CoinbaseRan(c)) => Some(CommandBody::ObserveCoinbase {
            height: c.block,
            accruals: c.epoch_accruals(),
        }),
        Ok(AmmEvent::StakeWeights(w)) => Some(CommandBody::StakeUpdates { entries: w.entries }),
        Ok(_) => None,
        Err(err) => {
            tracing::error!(seq = event.seq, %err, "undecodable amm event");
            None
        }
    }
}

/// Runs the consensus service on a store until `shutdown`. `start`: the
/// genesis subnets and neurons (refused, and so ignored, on a restart).
pub async fn run(
    cfg: ServiceConfig,
    store: Arc<dyn EventStore>,
    start: Vec<Command>,
    shutdown: watch::Receiver<bool>,
) -> Result<(), ShellError> {
    service_kit::run::<ConsensusService>(cfg, store, start, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use amm_core::event::CoinbaseRan;
    use envelope::EventMeta;

    #[test]
    fn amm_coinbase_blocks_become_observe_coinbase() {
        let ev = AmmEvent::CoinbaseRan(CoinbaseRan {
            block: 1,
            minted: 1_000_000_000,
            subnets: vec![],
            credits: vec![],
            recycled: 1_000_000_000,
        });
        let meta = EventMeta {
            block: 1,
            causation: None,
            correlation: "c".into(),
            trace: None,
        };
        let env = Envelope::wrap("amm", 2, &ev, &meta);
        let cmd = ConsensusService::on_foreign(&Consensus::default(), &env).expect("a command");
        assert_eq!(
            cmd.body,
            CommandBody::ObserveCoinbase {
                height: 1,
                accruals: vec![]
            }
        );
    }
}
