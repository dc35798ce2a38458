//! The ledger service: the TAO ledger core (`ledger-core`) in the
//! service-kit shell.
//!
//! It owns balances, custody, locks, issuance and the block clock. The clock
//! is the shell's timer: each tick becomes a `ProduceBlock` command carrying
//! the wall time as data, so the core stays pure and replay reproduces every
//! block without a clock.
//!
//! Queries (`taonet.qry.ledger.<name>`): `status` (built in), `balance`
//! `{"account": ss58}`, `issuance`, `block`, `schedule`, `custody`
//! `{"netuid": n}`, `accounts`, `invariants`.

use aggregate::Aggregate;
use envelope::Foreign;
use keys::AccountId;
use ledger_core::{Clock, Command, CommandBody, CustodyDest, CustodyMove, Genesis, Ledger, Origin};
use serde_json::{json, Value};
use service_kit::{Caller, Service, ServiceConfig, ShellError};
use std::sync::Arc;
use std::time::Duration;
use store::EventStore;
use tokio::sync::watch;

/// Marker type tying the ledger core to the shell.
pub struct LedgerService;

impl Service for LedgerService {
    type Core = Ledger;
    type Wire = CommandBody;

    fn admit(caller: Caller, encoded_len: u32, wire: CommandBody) -> Command {
        let origin = match caller {
            Caller::User(a) => Origin::Signed(a),
            Caller::Service(a) => Origin::Service(a),
        };
        Command {
            origin,
            encoded_len,
            body: wire,
        }
    }

    fn sources() -> &'static [&'static str] {
        &["amm", "governance"]
    }

    fn on_foreign_event(_core: &Ledger, event: Foreign<'_>) -> Option<Command> {
        let body = match event.service.as_str() {
            "amm" => from_amm(event),
            "governance" => from_governance(event),
            _ => None,
        };
        body.map(|body| Command::new(Origin::Peer, body))
    }

    fn tick_interval(core: &Ledger) -> Option<Duration> {
        match core.params()?.clock {
            Clock::Auto { block_time_ms } => Some(Duration::from_millis(block_time_ms.max(1))),
            Clock::Manual => None,
        }
    }

    fn on_tick(_core: &Ledger, now_ms: u64) -> Option<Command> {
        Some(Command::new(
            Origin::Clock,
            CommandBody::ProduceBlock {
                timestamp_ms: now_ms,
            },
        ))
    }

    fn query(core: &Ledger, name: &str, args: &Value) -> Result<Value, String> {
        query(core, name, args)
    }
}

/// The saga step an amm event asks of the ledger (the choreography of
/// ARCHITECTURE.md "Sagas"); `None` for events that move no TAO.
pub fn from_amm(event: Foreign<'_>) -> Option<CommandBody> {
    use amm_core::event::TaoDest;
    use amm_core::AmmEvent;
    if !matches!(
        event.event_type.as_str(),
        "StakeRequested" | "StakeFailed" | "TaoSettlement" | "CoinbaseRan"
    ) {
        return None;
    }
    match event.decode::<AmmEvent>() {
        Ok(AmmEvent::StakeRequested(e)) => Some(CommandBody::FundStake {
            op: e.op,
            coldkey: e.coldkey,
            netuid: e.netuid,
            amount: e.amount,
        }),
        Ok(AmmEvent::StakeFailed(e)) if e.funded > 0 => Some(CommandBody::RefundStake { op: e.op }),
        // A stake's settlement (refund, fee) follows its funding step under
        // the same amm op: the ledger keys it apart.
        Ok(AmmEvent::TaoSettlement(e)) => Some(CommandBody::Settle {
            op: format!("{}/settle", e.op),
            moves: e
                .moves
                .into_iter()
                .map(|m| CustodyMove {
                    from_netuid: m.from_netuid,
                    to: match m.to {
                        TaoDest::Account(a) => CustodyDest::Account(a),
                        TaoDest::Custody(n) => CustodyDest::Custody(n),
                        TaoDest::Burn => CustodyDest::Burn,
                        TaoDest::Recycle => CustodyDest::Recycle,
                    },
                    amount: m.amount,
                })
                .collect(),
        }),
        Ok(AmmEvent::CoinbaseRan(e)) if e.minted > 0 => Some(CommandBody::ClaimCoinbase {
            block: e.block,
            credits: e.credits,
        }),
        Ok(_) => None,
        Err(err) => {
            tracing::error!(seq = event.seq, %err, "undecodable amm event");
            None
        }
    }
}

/// The saga step a governance event asks of the ledger: hold a subnet
/// registration's lock, move it into the new subnet's custody once pool and
/// metagraph are open, release it if the registration failed; take a
/// neuron registration's burn into custody, refund it if the registration
/// failed after that.
pub fn from_governance(event: Foreign<'_>) -> Option<CommandBody> {
    use governance_core::GovernanceEvent as G;
    if !matches!(
        event.event_type.as_str(),
        "SubnetRegistrationRequested"
            | "SubnetOpened"
            | "SubnetRegistrationFailed"
            | "NeuronRegistrationRequested"
            | "NeuronRegistrationFailed"
    ) {
        return None;
    }
    match event.decode::<G>() {
        Ok(G::SubnetRegistrationRequested(r)) => Some(CommandBody::LockForSubnet {
            op: r.op,
            coldkey: r.coldkey,
            amount: r.lock_amount,
        }),
        Ok(G::SubnetOpened(o)) => Some(CommandBody::ConfirmLock {
            op: o.op,
            netuid: o.netuid,
        }),
        Ok(G::SubnetRegistrationFailed(f)) if f.refund > 0 => {
            Some(CommandBody::ReleaseLock { op: f.op })
        }
        Ok(G::NeuronRegistrationRequested(r)) => Some(CommandBody::FundRegistration {
            op: r.op,
            coldkey: r.coldkey,
            netuid: r.netuid,
            amount: r.burn,
        }),
        Ok(G::NeuronRegistrationFailed(f)) if f.refund > 0 => {
            Some(CommandBody::RefundRegistration { op: f.op })
        }
        Ok(_) => None,
        Err(err) => {
            tracing::error!(seq = event.seq, %err, "undecodable governance event");
            None
        }
    }
}

fn account_arg(args: &Value) -> Result<AccountId, String> {
    let s = args["account"]
        .as_str()
        .ok_or("missing \"account\" (an SS58 address)")?;
    s.parse().map_err(|e| format!("bad account {s}: {e}"))
}

/// The ledger's read side. Pure: the same function serves the running
/// service and offline replay.
pub fn query(core: &Ledger, name: &str, args: &Value) -> Result<Value, String> {
    Ok(match name {
        "balance" => {
            let who = account_arg(args)?;
            json!({"account": who, "free_rao": core.balance(&who), "block": core.height()})
        }
        "issuance" => json!({
            "total_issuance_rao": core.total_issuance(),
            "pending_coinbase_rao": core.pending_credit(),
            "locked_rao": core.locked_total(),
            "burn_account_rao": core.burn_account_balance(),
            "block": core.height(),
        }),
        "block" => json!({
            "height": core.height(),
            "timestamp_ms": core.last_timestamp_ms(),
            "clock": core.params().map(|p| serde_json::to_value(&p.clock).unwrap_or(Value::Null)),
        }),
        "schedule" => serde_json::to_value(core.schedule()).map_err(|e| e.to_string())?,
        "custody" => {
            let netuid = args["netuid"].as_u64().ok_or("missing \"netuid\"")?;
            let netuid = u16::try_from(netuid).map_err(|_| "netuid out of range")?;
            json!({"netuid": netuid, "custody_rao": core.custody(netuid)})
        }
        "accounts" => {
            let list: Vec<Value> = core
                .accounts()
                .map(|(a, b)| json!({"account": a, "free_rao": b}))
                .collect();
            json!({"accounts": list})
        }
        "invariants" => match core.check_invariants() {
            Ok(()) => json!({"ok": true}),
            Err(e) => json!({"ok": false, "violation": e}),
        },
        "digest" => json!({"state_digest": service_kit::digest_hex(&core.digest())}),
        other => return Err(format!("unknown query {other}")),
    })
}

/// Runs the ledger service on a store until `shutdown`. The genesis is
/// applied only to an empty log; on a restart it is ignored.
pub async fn run(
    cfg: ServiceConfig,
    store: Arc<dyn EventStore>,
    genesis: Genesis,
    shutdown: watch::Receiver<bool>,
) -> Result<(), ShellError> {
    service_kit::run::<LedgerService>(cfg, store, start(genesis), shutdown).await
}

/// The start-up commands of an empty ledger: its genesis. Shared with the
/// simulator so both start a network the same way.
pub fn start(genesis: Genesis) -> Vec<Command> {
    vec![Command::new(
        Origin::Clock,
        CommandBody::ApplyGenesis(genesis),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use envelope::{Envelope, EventMeta};
    use governance_core::event as g;
    use governance_core::GovernanceEvent;

    fn wrap(ev: &GovernanceEvent) -> Envelope {
        let meta = EventMeta {
            block: 1,
            causation: None,
            correlation: "c".into(),
            trace: None,
        };
        Envelope::wrap("governance", 3, ev, &meta)
    }

    fn step(ev: GovernanceEvent) -> Option<CommandBody> {
        LedgerService::on_foreign(&Ledger::default(), &wrap(&ev)).map(|c| {
            assert_eq!(c.origin, Origin::Peer);
            c.body
        })
    }

    #[test]
    fn governance_sagas_become_ledger_steps() {
        let k = AccountId([3; 32]);
        assert_eq!(
            step(GovernanceEvent::SubnetRegistrationRequested(
                g::SubnetRegistrationRequested {
                    op: "s".into(),
                    coldkey: k,
                    hotkey: k,
                    netuid: 2,
                    lock_amount: 7,
                    prune: None,
                    identity: None,
                    block: 1,
                }
            )),
            Some(CommandBody::LockForSubnet {
                op: "s".into(),
                coldkey: k,
                amount: 7
            })
        );
        assert_eq!(
            step(GovernanceEvent::SubnetOpened(g::SubnetOpened {
                op: "s".into(),
                netuid: 2
            })),
            Some(CommandBody::ConfirmLock {
                op: "s".into(),
                netuid: 2
            })
        );
        let failed = |refund| {
            GovernanceEvent::NeuronRegistrationFailed(g::NeuronRegistrationFailed {
                op: "n".into(),
                netuid: 2,
                hotkey: k,
                coldkey: k,
                code: "X".into(),
                refund,
            })
        };
        // Nothing was taken: nothing to give back.
        assert_eq!(step(failed(0)), None);
        assert_eq!(
            step(failed(5)),
            Some(CommandBody::RefundRegistration { op: "n".into() })
        );
    }
}
