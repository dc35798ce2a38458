//! The governance service: the governance core (`governance-core`: subnets
//! and their registration saga, hyperparameters and who may set them,
//! neuron registration by burn, the root network and the senate,
//! delegation, childkeys, stake locks, the Triumvirate + Senate collective)
//! in the service-kit shell.
//!
//! Governance orchestrates the sagas that create things; it consumes the
//! three other streams through its inbox:
//! - the ledger's: `BlockProduced` (the clock and the block emission that
//!   scales the lock cost's decay), `LockedForSubnet` and
//!   `RegistrationFunded` (a saga's TAO is held), `StepRejected` for one of
//!   its own operations (the saga fails, compensated);
//! - the amm's: `CoinbaseRan` (EMA prices and alpha out, for pruning),
//!   `StakeReport` (root stake, total hotkey stake, coldkey alpha, for the
//!   root network, childkeys and locks), `SubnetOpened` and
//!   `GovernanceStepRefused` (the pool step of a registration);
//! - consensus's: `SubnetCreated` and `NeuronRegistered` carrying one of
//!   its operation ids, `StepRefused`, and the epoch schedule (the freeze
//!   window).
//!
//! Users sign governance commands on `taonet.cmd.governance.*`; the
//! bootstrap admin key signs `Admin` actions until it hands its powers to
//! the collective.
//!
//! Queries: `status` (built in), `subnets`, `subnet` `{"netuid"}`,
//! `lock_cost`, `op` `{"op"}`, `proposals`, `proposal` `{"id"}`, `root`,
//! `delegate` `{"hotkey"}`, `locks` `{"coldkey"}`, `config`, `invariants`,
//! `digest`.

use aggregate::Aggregate;
use amm_core::AmmEvent;
use consensus_core::ConsensusEvent;
use envelope::Foreign;
use governance_core::state::{OpKind, OpStatus};
use governance_core::{Command, CommandBody, Governance, Origin, Peer, StakeReport};
use keys::AccountId;
use ledger_core::LedgerEvent;
use serde_json::{json, Value};
use service_kit::{Caller, Service, ServiceConfig, ShellError};
use std::sync::Arc;
use store::EventStore;
use tokio::sync::watch;

/// Marker type tying the governance core to the shell.
pub struct GovernanceService;

impl Service for GovernanceService {
    type Core = Governance;
    type Wire = CommandBody;

    fn admit(caller: Caller, _encoded_len: u32, wire: CommandBody) -> Command {
        // Service keys have no governance commands of their own: they are
        // treated as signers, which every peer-only command refuses.
        let who = match caller {
            Caller::User(a) | Caller::Service(a) => a,
        };
        Command::new(Origin::Signed(who), wire)
    }

    fn sources() -> &'static [&'static str] {
        &["ledger", "amm", "consensus"]
    }

    fn on_foreign_event(core: &Governance, event: Foreign<'_>) -> Option<Command> {
        match event.service.as_str() {
            "ledger" => {
                from_ledger(core, event).map(|b| Command::new(Origin::Peer(Peer::Ledger), b))
            }
            "amm" => from_amm(core, event).map(|b| Command::new(Origin::Peer(Peer::Amm), b)),
            "consensus" => {
                from_consensus(core, event).map(|b| Command::new(Origin::Peer(Peer::Consensus), b))
            }
            _ => None,
        }
    }

    fn query(core: &Governance, name: &str, args: &Value) -> Result<Value, String> {
        query(core, name, args)
    }
}

/// Whether `op` names one of governance's own sagas (a subnet or neuron
/// registration). Other services' failures (a stake refused by the ledger)
/// are not governance's business.
fn own_op(core: &Governance, op: &str) -> bool {
    core.registrations.contains_key(op) || core.neuron_ops.contains_key(op)
}

/// What a ledger event asks of governance.
pub fn from_ledger(core: &Governance, event: Foreign<'_>) -> Option<CommandBody> {
    if !matches!(
        event.event_type.as_str(),
        "BlockProduced" | "LockedForSubnet" | "RegistrationFunded" | "StepRejected"
    ) {
        return None;
    }
    match event.decode::<LedgerEvent>() {
        Ok(LedgerEvent::BlockProduced(b)) => Some(CommandBody::Block {
            height: b.height,
            emission: b.minted,
        }),
        Ok(LedgerEvent::LockedForSubnet(l)) if own_op(core, &l.op) => {
            Some(CommandBody::LockConfirmed { op: l.op })
        }
        Ok(LedgerEvent::RegistrationFunded(f)) if own_op(core, &f.op) => {
            Some(CommandBody::RegistrationFunded { op: f.op })
        }
        Ok(LedgerEvent::StepRejected(r)) if own_op(core, &r.op) => {
            Some(CommandBody::LedgerRejected {
                op: r.op,
                code: r.code,
            })
        }
        Ok(_) => None,
        Err(err) => {
            tracing::error!(seq = event.seq, %err, "undecodable ledger event");
            None
        }
    }
}

/// What an amm event asks of governance.
pub fn from_amm(core: &Governance, event: Foreign<'_>) -> Option<CommandBody> {
    if !matches!(
        event.event_type.as_str(),
        "CoinbaseRan" | "StakeReport" | "SubnetOpened" | "GovernanceStepRefused" | "ParamSet"
    ) {
        return None;
    }
    match event.decode::<AmmEvent>() {
        Ok(AmmEvent::CoinbaseRan(c)) => {
            let entries: Vec<(u16, i128, u64)> = c
                .subnets
                .iter()
                .filter(|s| core.subnets.contains_key(&s.netuid))
                .map(|s| (s.netuid, s.moving_price_bits, s.alpha_outstanding))
                .collect();
            let credits: Vec<(u16, u64)> = c
                .subnets
                .iter()
                .filter(|s| core.subnets.contains_key(&s.netuid))
                .map(|s| (s.netuid, s.tao_in + s.excess_tao))
                .collect();
            (!entries.is_empty()).then_some(CommandBody::Market { entries, credits })
        }
        Ok(AmmEvent::ParamSet(p)) => {
            let rule = match p.param {
                amm_core::SubnetParam::EmissionRule(r) => r,
                _ => return None,
            };
            Some(CommandBody::EmissionRuleChanged {
                rule: match rule {
                    amm_core::EmissionRule::RootWeights => {
                        governance_core::EmissionRule::RootWeights
                    }
                    amm_core::EmissionRule::EmaPrice => governance_core::EmissionRule::EmaPrice,
                    amm_core::EmissionRule::NetFlow => governance_core::EmissionRule::NetFlow,
                },
            })
        }
        Ok(AmmEvent::StakeReport(r)) => Some(CommandBody::Stakes(StakeReport {
            root: r.root,
            hotkey_alpha: r.hotkey_alpha,
            prices: r.prices,
            coldkey_alpha: r.coldkey_alpha,
        })),
        Ok(AmmEvent::SubnetOpened(o)) if own_op(core, &o.op) => {
            Some(CommandBody::PoolOpened { op: o.op })
        }
        Ok(AmmEvent::GovernanceStepRefused(r)) if own_op(core, &r.op) => {
            Some(CommandBody::StepRefused {
                op: r.op,
                code: r.code,
            })
        }
        Ok(_) => None,
        Err(err) => {
            tracing::error!(seq = event.seq, %err, "undecodable amm event");
            None
        }
    }
}

/// What a consensus event asks of governance.
pub fn from_consensus(core: &Governance, event: Foreign<'_>) -> Option<CommandBody> {
    if !matches!(
        event.event_type.as_str(),
        "SubnetCreated" | "NeuronRegistered" | "StepRefused" | "EpochScheduleChanged"
    ) {
        return None;
    }
    match event.decode::<ConsensusEvent>() {
        Ok(ConsensusEvent::SubnetCreated(s)) => match s.op {
            Some(op) if own_op(core, &op) => Some(CommandBody::MetagraphOpened { op }),
            _ => None,
        },
        Ok(ConsensusEvent::NeuronRegistered(n)) => match n.op {
            Some(op) if own_op(core, &op) => Some(CommandBody::NeuronRegistered {
                op,
                uid: n.uid,
                replaced: n.replaced,
            }),
            _ => None,
        },
        Ok(ConsensusEvent::StepRefused(r)) if own_op(core, &r.op) => {
            Some(CommandBody::StepRefused {
                op: r.op,
                code: r.code,
            })
        }
        Ok(ConsensusEvent::EpochScheduleChanged(e)) if core.subnets.contains_key(&e.netuid) => {
            Some(CommandBody::EpochSchedule {
                netuid: e.netuid,
                next_epoch_block: e.next_epoch_block,
                trigger_pending: e.trigger_pending,
                epoch_ran: e.epoch_ran,
            })
        }
        Ok(_) => None,
        Err(err) => {
            tracing::error!(seq = event.seq, %err, "undecodable consensus event");
            None
        }
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, String> {
    serde_json::to_value(v).map_err(|e| e.to_string())
}

fn account_arg(args: &Value, key: &str) -> Result<AccountId, String> {
    let s = args[key]
        .as_str()
        .ok_or_else(|| format!("missing {key:?} (an SS58 address)"))?;
    s.parse().map_err(|e| format!("bad account {s}: {e}"))
}

fn netuid_arg(args: &Value) -> Result<u16, String> {
    let n = args["netuid"].as_u64().ok_or("missing \"netuid\"")?;
    u16::try_from(n).map_err(|_| "netuid out of range".into())
}

fn subnet_json(core: &Governance, netuid: u16) -> Option<Value> {
    let s = core.subnets.get(&netuid)?;
    let neurons: Vec<Value> = s
        .neurons
        .iter()
        .map(|(h, at)| {
            json!({"hotkey": h, "registered_at": at,
                   "immune": core.neuron_is_immune(netuid, h)})
        })
        .collect();
    Some(json!({
        "netuid": netuid,
        "status": if s.is_active() { "active" } else { "registering" },
        "owner": s.owner,
        "owner_hotkey": s.owner_hotkey,
        "lock_rao": s.lock,
        "symbol": s.symbol,
        "registered_at": s.registered_at,
        "identity": s.identity,
        "first_emission_block": s.first_emission_block,
        "started": s.first_emission_block.is_some(),
        "emission_eligible": core.emission_eligible(netuid),
        "burn_rao": s.burn,
        "ema_price_bits": s.ema_price_bits.to_string(),
        "alpha_out": s.alpha_out,
        "next_epoch_block": s.next_epoch_block,
        "in_freeze_window": core.in_freeze_window(netuid),
        "params": params_json(&s.params),
        "neuron_count": s.neurons.len(),
        "pending_registrations": s.pending_neurons.len(),
        "neurons": neurons,
    }))
}

/// A subnet's parameters as JSON; the U64F64 burn multiplier (past u64) is
/// a decimal string of its bits.
fn params_json(p: &governance_core::SubnetParams) -> Value {
    let mut q = p.clone();
    q.burn_increase_mult_bits = 0;
    let mut v = serde_json::to_value(&q).unwrap_or(Value::Null);
    v["burn_increase_mult_bits"] = json!(p.burn_increase_mult_bits.to_string());
    v
}

/// Governance's read side. Pure: the same function serves the running
/// service and offline replay.
pub fn query(core: &Governance, name: &str, args: &Value) -> Result<Value, String> {
    Ok(match name {
        "subnets" => {
            let list: Vec<Value> = core
                .subnets
                .keys()
                .filter_map(|n| {
                    let mut v = subnet_json(core, *n)?;
                    v.as_object_mut()?.remove("neurons");
                    Some(v)
                })
                .collect();
            json!({
                "block": core.height(),
                "subnet_limit": core.config.subnet_limit,
                "lock_cost_rao": core.lock_cost(),
                "subnet_to_prune": core.subnet_to_prune(),
                "emission_rule": core.emission_rule,
                "subnets": list,
            })
        }
        "subnet" => {
            let netuid = netuid_arg(args)?;
            let mut v = subnet_json(core, netuid)
                .ok_or_else(|| format!("SubnetNotExists: no subnet {netuid}"))?;
            v["block"] = json!(core.height());
            v
        }
        "lock_cost" => json!({
            "block": core.height(),
            "lock_cost_rao": core.lock_cost(),
            "last_lock_cost_rao": core.last_lock_cost,
            "last_lock_block": core.last_lock_block,
        }),
        "op" => {
            let op = args["op"].as_str().ok_or("missing \"op\"")?;
            op_json(op, core.op_status(op))
        }
        "proposals" => {
            let list: Vec<Value> = core
                .proposals
                .iter()
                .map(|(id, p)| proposal_json(core, *id, p))
                .collect();
            json!({"block": core.height(), "proposals": list,
                   "senate": core.senate, "triumvirate": core.triumvirate,
                   "admin": core.admin, "handed_over": core.handed_over})
        }
        "proposal" => {
            let id = args["id"].as_u64().ok_or("missing \"id\"")?;
            let p = core
                .proposals
                .get(&id)
                .ok_or_else(|| format!("ProposalMissing: no proposal {id}"))?;
            proposal_json(core, id, p)
        }
        "root" => json!({
            "block": core.height(),
            "members": core.root.members,
            "senate": core.senate,
            "stakes": core.root.members.iter()
                .map(|h| json!({"hotkey": h, "root_stake_rao": core.root_stake.get(h).copied().unwrap_or(0)}))
                .collect::<Vec<_>>(),
        }),
        "delegate" => {
            let hotkey = account_arg(args, "hotkey")?;
            json!({"hotkey": hotkey, "take": core.delegate_take(&hotkey),
                   "owner": core.hotkey_owner.get(&hotkey),
                   "last_change": core.delegates.get(&hotkey).map(|d| d.last_change)})
        }
        "locks" => {
            let coldkey = account_arg(args, "coldkey")?;
            let list: Vec<Value> = core
                .locks
                .range((coldkey, 0)..=(coldkey, u16::MAX))
                .map(|((_, netuid), _)| {
                    let now = core.lock_at(&coldkey, *netuid, core.height());
                    json!({"netuid": netuid, "lock": now,
                           "available_alpha": core.available_stake(&coldkey, *netuid, core.height())})
                })
                .collect();
            json!({"coldkey": coldkey, "block": core.height(), "locks": list})
        }
        "config" => to_json(&core.config)?,
        "invariants" => match core.check_invariants() {
            Ok(()) => json!({"ok": true}),
            Err(e) => json!({"ok": false, "violation": e}),
        },
        "digest" => json!({"state_digest": service_kit::digest_hex(&core.digest())}),
        other => return Err(format!("unknown query {other}")),
    })
}

/// A saga's state for clients: `status` is `pending`, `done` or `failed`
/// (the CLI waits while it is `pending`), or `unknown`.
fn op_json(op: &str, status: Option<OpStatus>) -> Value {
    match status {
        None => json!({"op": op, "status": "unknown"}),
        Some(OpStatus::Pending { kind, netuid }) => {
            json!({"op": op, "status": "pending", "kind": kind, "netuid": netuid})
        }
        Some(OpStatus::SubnetOpened { netuid }) => {
            json!({"op": op, "status": "done", "kind": OpKind::SubnetRegistration, "netuid": netuid})
        }
        Some(OpStatus::NeuronRegistered { netuid, uid }) => {
            json!({"op": op, "status": "done", "kind": OpKind::NeuronRegistration,
                   "netuid": netuid, "uid": uid})
        }
        Some(OpStatus::Failed { kind, code }) => {
            json!({"op": op, "status": "failed", "kind": kind, "code": code})
        }
    }
}

fn proposal_json(core: &Governance, id: u64, p: &governance_core::Proposal) -> Value {
    let (ayes, nays) = p.tally();
    json!({
        "id": id,
        "proposer": p.proposer,
        "action": to_json(&p.action).unwrap_or_else(|_| json!(format!("{:?}", p.action))),
        "end": p.end,
        "open": core.height() <= p.end,
        "threshold": p.threshold.to_string(),
        "ayes": p.ayes, "nays": p.nays,
        "aye_weight": ayes.to_string(), "nay_weight": nays.to_string(),
        "total_weight": p.total().to_string(),
    })
}

/// Runs the governance service on a store until `shutdown`. `start`: the
/// genesis command (refused, and so ignored, on a restart).
pub async fn run(
    cfg: ServiceConfig,
    store: Arc<dyn EventStore>,
    start: Vec<Command>,
    shutdown: watch::Receiver<bool>,
) -> Result<(), ShellError> {
    service_kit::run::<GovernanceService>(cfg, store, start, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use envelope::{Envelope, EventMeta, VersionedEvent};

    fn wrap<E: VersionedEvent>(service: &str, ev: &E) -> Envelope {
        let meta = EventMeta {
            block: 1,
            causation: None,
            correlation: "c".into(),
            trace: None,
        };
        Envelope::wrap(service, 7, ev, &meta)
    }

    fn with_ops() -> Governance {
        let mut g = Governance::default();
        g.neuron_ops.insert(
            "reg".into(),
            governance_core::state::NeuronOp {
                netuid: 1,
                hotkey: AccountId([1; 32]),
                coldkey: AccountId([2; 32]),
                burn: 5,
                status: governance_core::NeuronOpStatus::Pending,
            },
        );
        g
    }

    #[test]
    fn ledger_blocks_carry_their_emission() {
        let ev = LedgerEvent::BlockProduced(ledger_core::event::BlockProduced {
            height: 4,
            timestamp_ms: 1,
            minted: 1_000_000_000,
        });
        let cmd = GovernanceService::on_foreign(&Governance::default(), &wrap("ledger", &ev))
            .expect("a command");
        assert_eq!(cmd.origin, Origin::Peer(Peer::Ledger));
        assert_eq!(
            cmd.body,
            CommandBody::Block {
                height: 4,
                emission: 1_000_000_000
            }
        );
    }

    #[test]
    fn only_governance_ops_are_relayed_from_the_ledger() {
        let rejected = |op: &str| {
            LedgerEvent::StepRejected(ledger_core::event::StepRejected {
                op: op.into(),
                code: "NotEnoughBalanceToStake".into(),
                message: String::new(),
            })
        };
        let g = with_ops();
        let mine = GovernanceService::on_foreign(&g, &wrap("ledger", &rejected("reg")));
        assert_eq!(
            mine.map(|c| c.body),
            Some(CommandBody::LedgerRejected {
                op: "reg".into(),
                code: "NotEnoughBalanceToStake".into()
            })
        );
        // A stake the ledger refused is the amm's business.
        assert!(GovernanceService::on_foreign(&g, &wrap("ledger", &rejected("stake-1"))).is_none());
    }
}
