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
use consensus_core::{Command, CommandBody, Consensus, Hyperparameter, Origin, SubnetParams};
use envelope::Foreign;
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
        &["amm", "governance"]
    }

    fn on_foreign_event(_core: &Consensus, event: Foreign<'_>) -> Option<Command> {
        let body = match event.service.as_str() {
            "amm" => from_amm(event),
            "governance" => from_governance(event),
            _ => None,
        };
        body.map(|body| Command {
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
                let mut v = serde_json::to_value(m).map_err(|e| e.to_string())?;
                if let Some(s) = core.subnet(netuid) {
                    v["params"] = serde_json::to_value(&s.params).map_err(|e| e.to_string())?;
                    v["next_epoch_block"] = json!(core.next_epoch_block(netuid));
                }
                Ok(v)
            }
            "subnets" => Ok(json!({"block": core.height(), "subnets": core.subnets()})),
            other => Err(format!("unknown query {other}")),
        }
    }
}

/// What an amm event means to consensus: a coinbase block (its epoch
/// accruals, then the block itself) or new stake weights.
pub fn from_amm(event: Foreign<'_>) -> Option<CommandBody> {
    if !matches!(event.event_type.as_str(), "CoinbaseRan" | "StakeWeights") {
        return None;
    }
    match event.decode::<AmmEvent>() {
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

/// The consensus side of a governance hyperparameter, if consensus
/// applies it (the names are shared; governance checked who may set it).
pub fn consensus_param(p: &governance_core::Hyperparameter) -> Option<Hyperparameter> {
    use governance_core::Hyperparameter as G;
    use Hyperparameter as C;
    Some(match *p {
        G::Tempo(v) => C::Tempo(v),
        G::MaxAllowedUids(v) => C::MaxAllowedUids(v),
        G::MaxAllowedValidators(v) => C::MaxAllowedValidators(v),
        G::MinAllowedWeights(v) => C::MinAllowedWeights(v),
        G::MaxWeightLimit(v) => C::MaxWeightLimit(v),
        G::ImmunityPeriod(v) => C::ImmunityPeriod(v),
        G::ActivityCutoffFactorMilli(v) => C::ActivityCutoffFactorMilli(v),
        G::WeightsRateLimit(v) => C::WeightsRateLimit(v),
        G::WeightsVersionKey(v) => C::WeightsVersionKey(v),
        G::CommitRevealEnabled(v) => C::CommitRevealEnabled(v),
        G::RevealPeriodEpochs(v) => C::RevealPeriodEpochs(v),
        G::Kappa(v) => C::Kappa(v),
        G::AlphaSigmoidSteepness(v) => C::AlphaSigmoidSteepness(v),
        G::BondsMovingAverage(v) => C::BondsMovingAverage(v),
        G::BondsPenalty(v) => C::BondsPenalty(v),
        G::LiquidAlphaEnabled(v) => C::LiquidAlpha(v),
        G::AlphaValues { low, high } => C::AlphaValues { low, high },
        G::Yuma3Enabled(v) => C::Yuma3(v),
        G::MinNonImmuneUids(v) => C::MinNonImmuneUids(v),
        _ => return None,
    })
}

/// The metagraph parameters of a subnet registered now (governance.md
/// §3.1 `init_new_network`, with the tempo governance chose).
pub fn new_subnet_params(tempo: u16) -> SubnetParams {
    SubnetParams {
        tempo,
        ..SubnetParams::default()
    }
}

/// What a governance event asks of consensus: open a registered subnet's
/// metagraph (owner hotkey at uid 0), drop it when the registration failed
/// or the subnet was dissolved, register a paid neuron, apply a
/// hyperparameter.
pub fn from_governance(event: Foreign<'_>) -> Option<CommandBody> {
    use governance_core::{GovernanceEvent as G, Target};
    if !matches!(
        event.event_type.as_str(),
        "SubnetRegistered"
            | "SubnetRegistrationFailed"
            | "SubnetDissolved"
            | "NeuronRegistrationFunded"
            | "HyperparameterSet"
    ) {
        return None;
    }
    match event.decode::<G>() {
        Ok(G::SubnetRegistered(r)) => Some(CommandBody::CreateSubnet {
            op: Some(r.op),
            netuid: r.netuid,
            owner: r.owner,
            owner_hotkey: r.owner_hotkey,
            params: new_subnet_params(r.tempo),
        }),
        Ok(G::SubnetRegistrationFailed(f)) if f.close_metagraph => {
            Some(CommandBody::DropSubnet { netuid: f.netuid? })
        }
        Ok(G::SubnetDissolved(d)) => Some(CommandBody::DropSubnet { netuid: d.netuid }),
        Ok(G::NeuronRegistrationFunded(n)) => Some(CommandBody::RegisterNeuron {
            op: Some(n.op),
            netuid: n.netuid,
            hotkey: n.hotkey,
            block: n.block,
        }),
        Ok(G::HyperparameterSet(h)) if h.target == Target::Consensus => {
            Some(CommandBody::SetHyperparameter {
                netuid: h.netuid,
                param: consensus_param(&h.param)?,
            })
        }
        Ok(_) => None,
        Err(err) => {
            tracing::error!(seq = event.seq, %err, "undecodable governance event");
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
    use envelope::{Envelope, EventMeta};

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

    /// The simulator hands events over in process (a header without a
    /// payload, beside the event): the glue must turn them into the command
    /// the wire gives, and a header alone decodes to nothing.
    #[test]
    fn in_process_delivery_gives_the_wires_command() {
        let subnet = |netuid: u16, server: u64| amm_core::event::SubnetCoinbase {
            netuid,
            tao_in: 7,
            alpha_in: 11,
            excess_tao: 0,
            bought_alpha: 0,
            alpha_out: 13,
            owner_cut: 2,
            server,
            validator: 5,
            root: 1,
            root_recycled: 0,
            tao_reserve: 1_000,
            alpha_reserve: 2_000,
            alpha_outstanding: 3_000,
            quote_weight: 500_000_000_000_000_000,
            moving_price_bits: 1 << 31,
        };
        let ev = AmmEvent::CoinbaseRan(CoinbaseRan {
            block: 9,
            minted: 1_000_000_000,
            subnets: vec![subnet(1, 3), subnet(2, 0)],
            credits: vec![(1, 7), (2, 7)],
            recycled: 999_999_986,
        });
        let meta = EventMeta {
            block: 9,
            causation: None,
            correlation: "c".into(),
            trace: None,
        };
        let core = Consensus::default();
        let wire = ConsensusService::on_foreign(&core, &Envelope::wrap("amm", 4, &ev, &meta))
            .expect("a command off the wire");
        let header = Envelope::header_numbered("amm", 4, &ev, &meta);
        assert!(header.payload.is_empty());
        let typed = ConsensusService::on_foreign_event(&core, Foreign::in_process(&header, &ev))
            .expect("a command in process");
        assert_eq!(typed.body, wire.body);
        assert_eq!(
            wire.body,
            CommandBody::ObserveCoinbase {
                height: 9,
                accruals: vec![(1, 9), (2, 6)]
            }
        );
        assert!(ConsensusService::on_foreign(&core, &header).is_none());
    }
}
