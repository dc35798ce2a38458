//! Replay equals live state: whatever commands arrive, however the shell
//! groups them into commits, and wherever snapshots fall, rebuilding the
//! ledger from its log (from scratch or from the snapshot) gives the live
//! digest, on both store implementations.

use aggregate::Aggregate;
use envelope::EventMeta;
use keys::Keypair;
use ledger_core::{Clock, Command, CommandBody as Ledger, Ledger as State, Origin};
use proptest::prelude::*;
use service_kit::runtime::replay;
use service_kit::{Pending, Runtime};
use std::sync::Arc;
use store::{mem::MemStore, sled_store::SledStore, EventStore};
use tests::*;

fn keys() -> Vec<Keypair> {
    vec![
        alice(),
        bob(),
        Keypair::from_uri("//Carol").unwrap(),
        Keypair::from_uri("//Dave").unwrap(),
    ]
}

#[derive(Clone, Debug)]
enum Op {
    Transfer {
        from: usize,
        to: usize,
        amount: u64,
        keep_alive: bool,
    },
    Advance(u64),
    Fund {
        from: usize,
        netuid: u16,
        amount: u64,
        op: u8,
    },
    Refund {
        op: u8,
    },
    Claim {
        netuid: u16,
        amount: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..4usize, 0..4usize, 0..3_000 * TAO, any::<bool>())
            .prop_map(|(from, to, amount, keep_alive)| Op::Transfer { from, to, amount, keep_alive }),
        2 => (1..5u64).prop_map(Op::Advance),
        1 => (0..4usize, 1..4u16, 0..100 * TAO, 0..8u8).prop_map(|(from, netuid, amount, op)| Op::Fund { from, netuid, amount, op }),
        1 => (0..8u8).prop_map(|op| Op::Refund { op }),
        1 => (1..4u16, 0..2 * TAO).prop_map(|(netuid, amount)| Op::Claim { netuid, amount }),
    ]
}

/// Commands depend only on the op list (not on the state), so the same
/// list means the same commands however it is batched.
fn command(op: &Op, i: usize, height: u64, ks: &[Keypair]) -> Command {
    let service = Origin::Service(service_key().public());
    match op {
        Op::Transfer {
            from,
            to,
            amount,
            keep_alive,
        } => Command::new(
            Origin::Signed(ks[*from].public()),
            Ledger::Transfer {
                to: ks[*to].public(),
                amount: *amount,
                keep_alive: *keep_alive,
            },
        )
        .with_len(180),
        Op::Advance(n) => Command::new(
            Origin::Signed(admin().public()),
            Ledger::AdvanceBlocks {
                n: *n,
                timestamp_ms: 1_000_000 * (i as u64 + 1),
                block_time_ms: 12_000,
            },
        ),
        Op::Fund {
            from,
            netuid,
            amount,
            op,
        } => Command::new(
            service,
            Ledger::FundStake {
                op: format!("op{op}"),
                coldkey: ks[*from].public(),
                netuid: *netuid,
                amount: *amount,
            },
        ),
        Op::Refund { op } => Command::new(
            service,
            Ledger::RefundStake {
                op: format!("op{op}"),
            },
        ),
        Op::Claim { netuid, amount } => Command::new(
            service,
            Ledger::ClaimCoinbase {
                block: height,
                credits: vec![(*netuid, *amount)],
            },
        ),
    }
}

fn pending(c: Command, i: usize) -> Pending<Command> {
    Pending {
        command: Some(c),
        meta: EventMeta {
            block: 0,
            causation: None,
            correlation: format!("p{i}"),
            trace: None,
        },
        dedup: Some(format!("cmd/{i}").into_bytes()),
        checkpoint: None,
        journal: None,
    }
}

fn run_on(store: Arc<dyn EventStore>, ops: &[Op], batch: usize, snapshot_every: u64) -> [u8; 32] {
    let ks = keys();
    let mut rt = Runtime::<State>::open(store.clone(), snapshot_every).unwrap();
    let genesis = Command::new(
        Origin::Clock,
        Ledger::ApplyGenesis(test_genesis(Clock::Manual)),
    );
    rt.process(vec![pending(genesis, usize::MAX)]);
    let mut i = 0;
    let mut height = 0;
    for chunk in ops.chunks(batch.max(1)) {
        // Commands in one batch are decided against the state as it evolves
        // inside the batch, exactly as the live shell does.
        let mut items = Vec::new();
        for op in chunk {
            if let Op::Advance(n) = op {
                height += n;
            }
            items.push(pending(command(op, i, height, &ks), i));
            i += 1;
        }
        rt.process(items);
        rt.state().check_invariants().unwrap();
    }
    let live = rt.state().digest();
    // Replay from scratch and from the snapshot, and a fresh open.
    let (scratch, _) = replay::<State>(store.as_ref(), None, false).unwrap();
    let (snap, _) = replay::<State>(store.as_ref(), None, true).unwrap();
    assert_eq!(scratch.digest(), live, "replay from scratch");
    assert_eq!(snap.digest(), live, "replay from snapshot");
    drop(rt);
    let reopened = Runtime::<State>::open(store, snapshot_every).unwrap();
    assert_eq!(reopened.state().digest(), live, "reopen");
    live
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, .. ProptestConfig::default() })]
    #[test]
    fn replay_equals_live(ops in prop::collection::vec(op(), 1..80), batch in 1usize..40, snap in 0u64..25) {
        let mem = run_on(Arc::new(MemStore::new()), &ops, batch, snap);
        let dir = tempfile::tempdir().unwrap();
        let sled = run_on(Arc::new(SledStore::open(dir.path()).unwrap()), &ops, batch, snap);
        prop_assert_eq!(mem, sled, "both stores reach the same state");
        // Group commit does not change the outcome: one command per batch
        // gives the same state as any batching.
        let single = run_on(Arc::new(MemStore::new()), &ops, 1, 0);
        prop_assert_eq!(mem, single);
    }
}
