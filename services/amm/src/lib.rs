//! The amm service: the dTAO economy core (`amm-core`: pools, share pools,
//! staking, the per-block coinbase, epoch payouts, root claims) in the
//! service-kit shell.
//!
//! It consumes two streams through its inbox:
//! - the ledger's: `BlockProduced` runs the block's coinbase, `StakeFunded`
//!   completes a stake, `StepRejected` fails the op it names;
//! - consensus's: `EpochRan` pays the epoch out, `NeuronRegistered`
//!   records a registration.
//!
//! Users sign staking commands on `taonet.cmd.amm.*`; the amm decides and
//! the ledger carries out the TAO side (see ARCHITECTURE.md "Sagas").
//!
//! Queries: `status` (built in), `subnets`, `subnet` `{"netuid"}`,
//! `portfolio` `{"coldkey"}`, `op` `{"op"}`, `children` `{"netuid"}`,
//! `totals`, `invariants`, `digest`.

use aggregate::Aggregate;
use amm_core::{
    Amm, AmmGenesis, Command, CommandBody, EmissionRule, OpStatus, Origin, Peer, SubnetParam,
};
use consensus_core::ConsensusEvent;
use envelope::Foreign;
use keys::AccountId;
use ledger_core::LedgerEvent;
use serde_json::{json, Value};
use service_kit::{Caller, Service, ServiceConfig, ShellError};
use std::sync::Arc;
use store::EventStore;
use tokio::sync::watch;

/// Marker type tying the amm core to the shell.
pub struct AmmService;

impl Service for AmmService {
    type Core = Amm;
    type Wire = CommandBody;

    fn admit(caller: Caller, _encoded_len: u32, wire: CommandBody) -> Command {
        // Service keys have no amm commands of their own: they are treated
        // as signers, which every peer-only command refuses (BadOrigin).
        let who = match caller {
            Caller::User(a) | Caller::Service(a) => a,
        };
        Command::new(Origin::Signed(who), wire)
    }

    fn sources() -> &'static [&'static str] {
        &["ledger", "consensus", "governance"]
    }

    fn on_foreign_event(_core: &Amm, event: Foreign<'_>) -> Option<Command> {
        match event.service.as_str() {
            "ledger" => from_ledger(event).map(|b| Command::new(Origin::Peer(Peer::Ledger), b)),
            "consensus" => {
                from_consensus(event).map(|b| Command::new(Origin::Peer(Peer::Consensus), b))
            }
            "governance" => {
                from_governance(event).map(|b| Command::new(Origin::Peer(Peer::Governance), b))
            }
            _ => None,
        }
    }

    fn query(core: &Amm, name: &str, args: &Value) -> Result<Value, String> {
        query(core, name, args)
    }
}

/// What a ledger event asks of the amm.
pub fn from_ledger(event: Foreign<'_>) -> Option<CommandBody> {
    if !matches!(
        event.event_type.as_str(),
        "BlockProduced" | "StakeFunded" | "StepRejected"
    ) {
        return None;
    }
    match event.decode::<LedgerEvent>() {
        Ok(LedgerEvent::BlockProduced(b)) => Some(CommandBody::Block {
            height: b.height,
            minted: b.minted,
        }),
        Ok(LedgerEvent::StakeFunded(f)) => Some(CommandBody::StakeFunded { op: f.op }),
        Ok(LedgerEvent::StepRejected(r)) => Some(CommandBody::LedgerRejected {
            op: r.op,
            code: r.code,
            message: r.message,
        }),
        Ok(_) => None,
        Err(err) => {
            tracing::error!(seq = event.seq, %err, "undecodable ledger event");
            None
        }
    }
}

/// What a consensus event asks of the amm.
pub fn from_consensus(event: Foreign<'_>) -> Option<CommandBody> {
    if !matches!(event.event_type.as_str(), "EpochRan" | "NeuronRegistered") {
        return None;
    }
    match event.decode::<ConsensusEvent>() {
        Ok(ConsensusEvent::EpochRan(e)) => Some(CommandBody::Epoch {
            netuid: e.netuid,
            block: e.block,
            hotkeys: e.hotkeys,
            incentive: e.server_emission,
            dividend: e.validator_emission,
        }),
        Ok(ConsensusEvent::NeuronRegistered(n)) => Some(CommandBody::NeuronRegistered {
            netuid: n.netuid,
            hotkey: n.hotkey,
            replaced: n.replaced,
        }),
        Ok(_) => None,
        Err(err) => {
            tracing::error!(seq = event.seq, %err, "undecodable consensus event");
            None
        }
    }
}

/// The amm side of a governance hyperparameter, if the amm applies it.
pub fn amm_param(p: &governance_core::Hyperparameter) -> Option<SubnetParam> {
    use governance_core::Hyperparameter as H;
    Some(match p {
        H::NetworkRegistrationAllowed(v) => SubnetParam::RegistrationAllowed(*v),
        H::OwnerCutEnabled(v) => SubnetParam::OwnerCutEnabled(*v),
        H::SubnetEmissionEnabled(v) => SubnetParam::EmissionEnabled(*v),
        H::SubtokenEnabled(v) => SubnetParam::SubtokenEnabled(*v),
        H::FeeRate(v) => SubnetParam::FeeRate(*v),
        H::EmaPriceHalvingBlocks(v) => SubnetParam::EmaHalvingBlocks(*v),
        H::RootClaimThreshold(v) => SubnetParam::RootClaimThreshold(*v),
        _ => return None,
    })
}

/// What a governance event asks of the amm: open a registered subnet's
/// pool (or close it when the registration failed), dissolve a pruned or
/// dissolved subnet, start one, burn a neuron registration's TAO through
/// the pool, and apply the parameters governance owns the rules for.
pub fn from_governance(event: Foreign<'_>) -> Option<CommandBody> {
    use governance_core::{GlobalParam, GovernanceEvent as G, Target};
    if !matches!(
        event.event_type.as_str(),
        "SubnetRegistered"
            | "SubnetRegistrationFailed"
            | "SubnetDissolved"
            | "SubnetStarted"
            | "HyperparameterSet"
            | "GlobalParamSet"
            | "DelegateTakeSet"
            | "NeuronRegistered"
            | "SubnetOwnerHotkeySet"
            | "SubnetOwnerChanged"
            | "HotkeyAssociated"
            | "LockUpdated"
            | "LockRemoved"
            | "GenesisApplied"
            | "ChildrenApplied"
            | "ChildkeyTakeSet"
    ) {
        return None;
    }
    let set = |netuid: u16, param: SubnetParam| Some(CommandBody::SetParam { netuid, param });
    match event.decode::<G>() {
        Ok(G::SubnetRegistered(r)) => Some(CommandBody::OpenSubnet {
            op: r.op,
            netuid: r.netuid,
            owner: r.owner,
            owner_hotkey: r.owner_hotkey,
            lock: r.lock,
            block: r.block,
        }),
        Ok(G::SubnetRegistrationFailed(f)) if f.close_pool => Some(CommandBody::CloseSubnet {
            op: f.op,
            netuid: f.netuid?,
        }),
        Ok(G::SubnetDissolved(d)) => Some(CommandBody::DissolveSubnet {
            netuid: d.netuid,
            block: event.block,
        }),
        Ok(G::SubnetStarted(s)) => set(s.netuid, SubnetParam::StartCall),
        Ok(G::HyperparameterSet(h)) if h.target == Target::Amm => {
            set(h.netuid, amm_param(&h.param)?)
        }
        Ok(G::GlobalParamSet(g)) => match g.param {
            GlobalParam::TaoWeight(v) => set(0, SubnetParam::TaoWeight(v)),
            GlobalParam::MinStake(v) => set(0, SubnetParam::MinStake(v)),
            GlobalParam::UnlockRate(v) => Some(CommandBody::SetUnlockRate { blocks: v }),
            GlobalParam::EmissionRule(r) => set(
                0,
                SubnetParam::EmissionRule(match r {
                    governance_core::EmissionRule::RootWeights => EmissionRule::RootWeights,
                    governance_core::EmissionRule::EmaPrice => EmissionRule::EmaPrice,
                    governance_core::EmissionRule::NetFlow => EmissionRule::NetFlow,
                }),
            ),
            GlobalParam::RootTempo(v) => set(0, SubnetParam::RootTempo(v)),
            _ => None,
        },
        // Governance keeps locks and conviction; the amm enforces the
        // unstake guard on the locked mass.
        Ok(G::LockUpdated(l)) => Some(CommandBody::SetLock {
            coldkey: l.coldkey,
            netuid: l.netuid,
            locked: l.locked,
            perpetual: l.perpetual,
            block: l.block,
        }),
        // Childkeys as governance applies them (after the cooldown):
        // stake inheritance and the parent/child dividend split.
        Ok(G::ChildrenApplied(c)) => Some(CommandBody::SetChildren {
            hotkey: c.hotkey,
            netuid: c.netuid,
            children: c.children,
        }),
        Ok(G::ChildkeyTakeSet(t)) => Some(CommandBody::SetChildkeyTake {
            hotkey: t.hotkey,
            netuid: t.netuid,
            take: t.take,
        }),
        Ok(G::GenesisApplied(g)) => Some(CommandBody::SetUnlockRate {
            blocks: g.config.unlock_rate,
        }),
        Ok(G::LockRemoved(l)) => Some(CommandBody::ClearLock {
            coldkey: l.coldkey,
            netuid: l.netuid,
        }),
        Ok(G::DelegateTakeSet(t)) => set(
            0,
            SubnetParam::DelegateTake {
                hotkey: t.hotkey,
                take: t.take,
            },
        ),
        Ok(G::NeuronRegistered(n)) => Some(CommandBody::RegistrationBurn {
            op: n.op,
            netuid: n.netuid,
            coldkey: n.coldkey,
            amount: n.burn,
        }),
        Ok(G::SubnetOwnerHotkeySet(o)) => Some(CommandBody::SetOwner {
            netuid: o.netuid,
            owner: None,
            owner_hotkey: o.hotkey,
        }),
        Ok(G::HotkeyAssociated(a)) => Some(CommandBody::HotkeyOwner {
            hotkey: a.hotkey,
            coldkey: a.coldkey,
        }),
        Ok(G::SubnetOwnerChanged(o)) => Some(CommandBody::SetOwner {
            netuid: o.netuid,
            owner: Some(o.new_owner),
            owner_hotkey: o.new_owner_hotkey,
        }),
        Ok(_) => None,
        Err(err) => {
            tracing::error!(seq = event.seq, %err, "undecodable governance event");
            None
        }
    }
}

fn netuid_arg(args: &Value) -> Result<u16, String> {
    let n = args["netuid"].as_u64().ok_or("missing \"netuid\"")?;
    u16::try_from(n).map_err(|_| "netuid out of range".into())
}

fn account_arg(args: &Value, key: &str) -> Result<AccountId, String> {
    let s = args[key]
        .as_str()
        .ok_or_else(|| format!("missing {key:?} (an SS58 address)"))?;
    s.parse().map_err(|e| format!("bad account {s}: {e}"))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, String> {
    serde_json::to_value(v).map_err(|e| e.to_string())
}

/// The amm's read side. Pure: the same function serves the running service
/// and offline replay.
pub fn query(core: &Amm, name: &str, args: &Value) -> Result<Value, String> {
    Ok(match name {
        "subnets" => {
            let shares = core.next_block_shares();
            let mut list = to_json(&core.subnet_summaries())?;
            for s in list.as_array_mut().into_iter().flatten() {
                let netuid = s["netuid"].as_u64().unwrap_or(0) as u16;
                let share = shares
                    .iter()
                    .find(|(n, _)| *n == netuid)
                    .map_or(0, |(_, v)| *v);
                s["emission_share_ppb"] = json!(share);
            }
            json!({
                "block": core.block(),
                "emission_rule": core.emission_rule.as_str(),
                "root_tempo": core.root_tempo,
                "subnets": list,
            })
        }
        "root_weights" => {
            let list: Vec<Value> = core
                .root_weight_list()
                .into_iter()
                .map(|(h, stake, at, w)| {
                    json!({"hotkey": h, "root_stake": stake, "set_at": at,
                        "weights": w.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>()})
                })
                .collect();
            json!({
                "block": core.block(),
                "emission_rule": core.emission_rule.as_str(),
                "root_tempo": core.root_tempo,
                "validators": list,
                "root_shares": core.subnets.values()
                    .filter(|s| s.root_share_bits != 0)
                    .map(|s| json!({"netuid": s.netuid,
                        "share": fixed::types::U64F64::from_bits(s.root_share_bits).to_string()}))
                    .collect::<Vec<_>>(),
            })
        }
        "subnet" => {
            let netuid = netuid_arg(args)?;
            let s = core
                .subnet_summary(netuid)
                .ok_or_else(|| format!("SubnetNotExists: no subnet {netuid}"))?;
            let mut v = to_json(&s)?;
            v["block"] = json!(core.block());
            v
        }
        "portfolio" => {
            let coldkey = account_arg(args, "coldkey")?;
            let p = core.portfolio(&coldkey);
            let mut v = to_json(&p)?;
            v["total_tao_value"] = json!(p.tao_value);
            v["block"] = json!(core.block());
            v
        }
        "op" => {
            let op = args["op"].as_str().ok_or("missing \"op\"")?;
            match core.op(op) {
                None => json!({"op": op, "status": "unknown"}),
                Some(OpStatus::Pending { request }) => {
                    json!({"op": op, "status": "pending", "request": to_json(request)?})
                }
                Some(OpStatus::Done { summary }) => {
                    json!({"op": op, "status": "done", "summary": summary})
                }
                Some(OpStatus::Failed { code, message }) => {
                    json!({"op": op, "status": "failed", "code": code, "message": message})
                }
            }
        }
        "children" => {
            let netuid = netuid_arg(args)?;
            let list: Vec<Value> = core
                .children
                .iter()
                .filter(|((n, _), _)| *n == netuid)
                .map(|((_, parent), kids)| {
                    json!({"parent": parent, "children": kids.iter()
                        .map(|(q, c)| json!({"proportion": q.to_string(), "child": c}))
                        .collect::<Vec<_>>()})
                })
                .collect();
            let takes: Vec<Value> = core
                .childkey_takes
                .iter()
                .filter(|((n, _), _)| *n == netuid)
                .map(|((_, h), t)| json!({"hotkey": h, "take": t}))
                .collect();
            json!({"netuid": netuid, "block": core.block(), "parents": list, "childkey_takes": takes})
        }
        "totals" => to_json(&core.totals())?,
        "invariants" => match core.check_invariants() {
            Ok(()) => json!({"ok": true}),
            Err(e) => json!({"ok": false, "violation": e}),
        },
        "digest" => json!({"state_digest": service_kit::digest_hex(&core.digest())}),
        other => return Err(format!("unknown query {other}")),
    })
}

/// Runs the amm service on a store until `shutdown`. The genesis is
/// applied only to an empty log; on a restart it is refused and ignored.
pub async fn run(
    cfg: ServiceConfig,
    store: Arc<dyn EventStore>,
    genesis: AmmGenesis,
    shutdown: watch::Receiver<bool>,
) -> Result<(), ShellError> {
    let start = start_commands(genesis, EmissionRule::default());
    service_kit::run::<AmmService>(cfg, store, start, shutdown).await
}

/// The amm's start-up commands: the genesis, then the network's emission
/// rule when it is not the default (run only on an empty log).
pub fn start_commands(genesis: AmmGenesis, rule: EmissionRule) -> Vec<Command> {
    let mut start = vec![Command::new(
        Origin::Genesis,
        CommandBody::ApplyGenesis(genesis),
    )];
    if rule != EmissionRule::default() {
        start.push(Command::new(
            Origin::Genesis,
            CommandBody::SetParam {
                netuid: 0,
                param: SubnetParam::EmissionRule(rule),
            },
        ));
    }
    start
}

/// [`run`] with explicit start-up commands ([`start_commands`]).
pub async fn run_with(
    cfg: ServiceConfig,
    store: Arc<dyn EventStore>,
    start: Vec<Command>,
    shutdown: watch::Receiver<bool>,
) -> Result<(), ShellError> {
    service_kit::run::<AmmService>(cfg, store, start, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use envelope::{Envelope, EventMeta};
    use governance_core::event as g;
    use governance_core::{GovernanceEvent, Hyperparameter, Target};

    fn step(ev: GovernanceEvent) -> Option<CommandBody> {
        let meta = EventMeta {
            block: 9,
            causation: None,
            correlation: "c".into(),
            trace: None,
        };
        let env = Envelope::wrap("governance", 3, &ev, &meta);
        AmmService::on_foreign(&Amm::default(), &env).map(|c| {
            assert_eq!(c.origin, Origin::Peer(Peer::Governance));
            c.body
        })
    }

    #[test]
    fn a_registered_subnet_opens_its_pool() {
        let k = AccountId([4; 32]);
        assert_eq!(
            step(GovernanceEvent::SubnetRegistered(g::SubnetRegistered {
                op: "s".into(),
                netuid: 2,
                owner: k,
                owner_hotkey: k,
                lock: 10,
                symbol: 2,
                block: 5,
                tempo: 360,
                burn: 1,
                identity: None,
            })),
            Some(CommandBody::OpenSubnet {
                op: "s".into(),
                netuid: 2,
                owner: k,
                owner_hotkey: k,
                lock: 10,
                block: 5
            })
        );
    }

    #[test]
    fn only_amm_hyperparameters_reach_the_amm() {
        let set = |param, target| {
            step(GovernanceEvent::HyperparameterSet(g::HyperparameterSet {
                netuid: 2,
                param,
                target,
                by_owner: false,
                block: 5,
            }))
        };
        assert_eq!(
            set(Hyperparameter::SubnetEmissionEnabled(true), Target::Amm),
            Some(CommandBody::SetParam {
                netuid: 2,
                param: SubnetParam::EmissionEnabled(true)
            })
        );
        assert_eq!(set(Hyperparameter::Tempo(720), Target::Consensus), None);
    }
}
