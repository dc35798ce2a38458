//! The consensus service: the consensus core (`consensus-core`: metagraph,
//! weights validation, commit-reveal, epoch scheduling over the bit-exact
//! `yuma` engine) in the service-kit shell.
//!
//! It follows the ledger's blocks through its inbox: each `BlockProduced`
//! becomes `ObserveBlock`, which runs the epochs that are due. Subnets,
//! registrations, stake and pending emission arrive as service commands on
//! `taonet.svc.consensus.*` (from governance and the amm, whose cores have
//! not landed yet); weights arrive signed by hotkeys on
//! `taonet.cmd.consensus.*`.
//!
//! Queries: `status` (built in), `metagraph` `{"netuid": n}`, `subnets`.

use consensus_core::{Command, CommandBody, Consensus, Origin};
use envelope::{Envelope, VersionedEvent};
use ledger_core::LedgerEvent;
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
        &["ledger"]
    }

    fn on_foreign(_core: &Consensus, event: &Envelope) -> Option<Command> {
        if event.event_type != "BlockProduced" {
            return None;
        }
        match LedgerEvent::from_envelope(event) {
            Ok(LedgerEvent::BlockProduced(b)) => Some(Command {
                origin: Origin::Clock,
                body: CommandBody::ObserveBlock { height: b.height },
            }),
            _ => None,
        }
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

/// Runs the consensus service on a store until `shutdown`.
pub async fn run(
    cfg: ServiceConfig,
    store: Arc<dyn EventStore>,
    shutdown: watch::Receiver<bool>,
) -> Result<(), ShellError> {
    service_kit::run::<ConsensusService>(cfg, store, Vec::new(), shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use envelope::EventMeta;
    use ledger_core::event::BlockProduced;

    #[test]
    fn ledger_blocks_become_observe_block() {
        let ev = LedgerEvent::BlockProduced(BlockProduced {
            height: 1,
            timestamp_ms: 5,
            minted: 0,
        });
        let meta = EventMeta {
            block: 1,
            causation: None,
            correlation: "c".into(),
            trace: None,
        };
        let env = Envelope::wrap("ledger", 2, &ev, &meta);
        let cmd = ConsensusService::on_foreign(&Consensus::default(), &env).expect("a command");
        assert_eq!(cmd.body, CommandBody::ObserveBlock { height: 1 });
    }
}
