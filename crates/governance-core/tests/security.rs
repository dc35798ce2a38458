//! Security properties of the pure governance core (docs/security.md):
//! the steps a peer's stream causes refuse every signed origin and every
//! other peer. Since `bus::inbox::check_provenance`, `Peer::Ledger` can
//! only come from the ledger's stream, so these guards are what keeps a
//! user (or the wrong service) from completing a registration saga.
//! The owner/Root/member checks are in hyperparams.rs, collective.rs,
//! delegation.rs, neurons.rs (see the table in docs/security.md).

mod common;

use common::*;
use governance_core::*;

/// (the peer that may send it, the step), for a pending registration "a".
fn steps() -> Vec<(Peer, CommandBody)> {
    let op = || "a".to_string();
    vec![
        (Peer::Ledger, CommandBody::LockConfirmed { op: op() }),
        (
            Peer::Ledger,
            CommandBody::LockRefused {
                op: op(),
                code: "X".into(),
            },
        ),
        (Peer::Ledger, CommandBody::RegistrationFunded { op: op() }),
        (
            Peer::Ledger,
            CommandBody::LedgerRejected {
                op: op(),
                code: "X".into(),
            },
        ),
        (Peer::Amm, CommandBody::PoolOpened { op: op() }),
        (
            Peer::Amm,
            CommandBody::PoolRefused {
                op: op(),
                code: "X".into(),
            },
        ),
        (Peer::Consensus, CommandBody::MetagraphOpened { op: op() }),
        (
            Peer::Consensus,
            CommandBody::MetagraphRefused {
                op: op(),
                code: "X".into(),
            },
        ),
        (
            Peer::Consensus,
            CommandBody::NeuronRegistered {
                op: op(),
                uid: 1,
                replaced: None,
            },
        ),
    ]
}

/// Pins each step's origin match in governance's `decide`: a user, a
/// Triumvirate member or the admin signing a saga outcome gets
/// `BadOrigin`, and so does a peer that is not the one the step belongs
/// to. Every rejection leaves the digest unchanged (`rejects`).
#[test]
fn saga_outcomes_come_only_from_their_peer() {
    let mut s = world_with_subnet();
    // A pending neuron registration, so each step has an op to act on.
    run(
        &mut s,
        [signed(
            ck(2),
            CommandBody::BurnedRegister {
                op: "a".into(),
                netuid: 1,
                hotkey: hk(2),
                limit_price: None,
            },
        )],
    );
    for (owner, body) in steps() {
        for who in [ck(1), ck(2), triumvir(0), admin()] {
            rejects(&s, signed(who, body.clone()), Rejection::BadOrigin);
        }
        for p in [Peer::Ledger, Peer::Amm, Peer::Consensus] {
            if p != owner {
                rejects(&s, peer(p, body.clone()), Rejection::BadOrigin);
            }
        }
    }
}
