//! The ledger under crashes and outages, against a real nats-server and
//! real service processes: what was acknowledged is never lost, nothing is
//! applied twice, the stream ends up an exact copy of the log, and replay
//! gives the live digest.

use bus::rpc::{CallError, CallOptions};
use ledger_core::{Clock, CommandBody as Ledger};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use tests::*;

fn once() -> CallOptions {
    CallOptions {
        attempts: 1,
        timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

fn patient() -> CallOptions {
    CallOptions {
        attempts: 40,
        timeout: Duration::from_secs(3),
        backoff: Duration::from_millis(250),
    }
}

async fn wait_published(client: &async_nats::Client, service: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = status(client, service).await;
        if s["published_seq"] == s["last_seq"] {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "{service} never caught up publishing: {s}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Stream sequence == event sequence, every event once, same as the log.
async fn assert_stream_equals_log(cluster: &Cluster, client: &async_nats::Client, last_seq: u64) {
    let stream = stream_contents(client, "ledger").await;
    assert_eq!(
        stream.len() as u64,
        last_seq,
        "stream holds every event once"
    );
    let mut ids = BTreeSet::new();
    for (sseq, env) in &stream {
        assert_eq!(*sseq, env.seq, "stream sequence equals event sequence");
        assert!(ids.insert(env.id), "event {} published twice", env.seq);
    }
    let _ = cluster;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_republishes_what_a_crash_left_unpublished() {
    let mut c = Cluster::start(test_genesis(Clock::Manual));
    // A ledger that appends but never publishes: every event it writes is
    // "between append and publish" when it dies.
    c.start_service("ledger", &[("TAONET_FAULT_NO_PUBLISH", "1")]);
    let client = c.client().await;
    wait_ready(&client, "ledger").await;
    for i in 0..5 {
        let p = signed(&alice(), &format!("t{i}"), &transfer(&bob().public(), TAO));
        send(&client, "transfer", p, &once())
            .await
            .expect("accepted");
    }
    let before = status(&client, "ledger").await;
    assert_eq!(before["last_seq"], 6, "genesis + 5 transfers are durable");
    c.kill9("ledger");

    c.start_service("ledger", &[]);
    wait_ready(&client, "ledger").await;
    let after = wait_published(&client, "ledger").await;
    assert_eq!(after["last_seq"], 6);
    assert_eq!(after["state_digest"], before["state_digest"]);
    assert_stream_equals_log(&c, &client, 6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_after_append_before_reply_applies_once() {
    let mut c = Cluster::start(test_genesis(Clock::Manual));
    c.start_service("ledger", &[("TAONET_FAULT_ABORT_AFTER_APPEND", "1")]);
    let client = c.client().await;
    wait_ready(&client, "ledger").await;
    let bob_before = balance(&client, &bob().public()).await;
    let p = signed(&alice(), "crash-1", &transfer(&bob().public(), 7 * TAO));
    let r = send(&client, "transfer", p.clone(), &once()).await;
    assert!(r.is_err(), "the process died before replying: {r:?}");
    assert!(
        c.wait_exit("ledger", Duration::from_secs(10)),
        "fault injection aborted the ledger"
    );

    c.start_service("ledger", &[]);
    wait_ready(&client, "ledger").await;
    // The append was durable before the crash: the transfer happened ...
    assert_eq!(
        balance(&client, &bob().public()).await,
        bob_before + 7 * TAO
    );
    // ... and the client's retry with the same id does not repeat it.
    match send(&client, "transfer", p.clone(), &once()).await {
        Err(CallError::Rejected { code, .. }) => assert_eq!(code, "AlreadyProcessed"),
        other => panic!("retry should be AlreadyProcessed, got {other:?}"),
    }
    // A retrying client (attempt > 1) treats that as success.
    let acc = bus::rpc::call(
        &client,
        &bus::subjects::command("ledger", "transfer"),
        async_nats::HeaderMap::new(),
        p,
        &CallOptions {
            attempts: 2,
            ..once()
        },
    )
    .await;
    assert!(
        matches!(acc, Err(CallError::Rejected { .. })),
        "first attempt is still a rejection"
    );
    assert_eq!(
        balance(&client, &bob().public()).await,
        bob_before + 7 * TAO
    );
    let s = wait_published(&client, "ledger").await;
    assert_stream_equals_log(&c, &client, s["last_seq"].as_u64().unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_during_a_stream_of_transfers_loses_no_acknowledged_transfer() {
    let mut c = Cluster::start(test_genesis(Clock::Manual));
    c.start_service("ledger", &[]);
    let client = c.client().await;
    wait_ready(&client, "ledger").await;
    let bob_before = balance(&client, &bob().public()).await;
    const N: usize = 400;
    let payloads: Vec<_> = (0..N)
        .map(|i| signed(&alice(), &format!("k{i}"), &transfer(&bob().public(), TAO)))
        .collect();
    let mut tasks = Vec::new();
    for (i, p) in payloads.iter().cloned().enumerate() {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            // Spread the stream over time so the kill lands in the middle.
            tokio::time::sleep(Duration::from_millis((i as u64) * 2)).await;
            (i, send(&client, "transfer", p, &once()).await)
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.kill9("ledger");
    let mut acked = BTreeSet::new();
    for t in tasks {
        let (i, r) = t.await.unwrap();
        if r.is_ok() {
            acked.insert(i);
        }
    }
    assert!(
        !acked.is_empty() && acked.len() < N,
        "the kill must land mid-stream ({} acked)",
        acked.len()
    );

    c.start_service("ledger", &[]);
    wait_ready(&client, "ledger").await;
    // Every acknowledged transfer survived.
    let after_restart = balance(&client, &bob().public()).await;
    assert!(after_restart >= bob_before + acked.len() as u64 * TAO);
    // Resend everything with the same ids: the acknowledged ones (and any
    // that landed without a reply) are refused as already processed.
    let mut applied_now = 0;
    for (i, p) in payloads.iter().enumerate() {
        match send(&client, "transfer", p.clone(), &patient()).await {
            Ok(_) => {
                assert!(
                    !acked.contains(&i),
                    "acknowledged transfer {i} applied twice"
                );
                applied_now += 1;
            }
            Err(CallError::Rejected { code, .. }) if code == "AlreadyProcessed" => {}
            Err(e) => panic!("resend {i}: {e}"),
        }
    }
    // Exactly N transfers, each once.
    assert_eq!(
        balance(&client, &bob().public()).await,
        bob_before + N as u64 * TAO
    );
    assert!(applied_now <= N - acked.len());

    let live = wait_published(&client, "ledger").await;
    assert_stream_equals_log(&c, &client, live["last_seq"].as_u64().unwrap()).await;
    c.stop("ledger");
    let offline = c.replay("ledger");
    assert_eq!(
        offline["state_digest"], live["state_digest"],
        "replay digest equals live digest"
    );
    assert_eq!(offline["last_seq"], live["last_seq"]);
    let transfers = read_log(&c.data("ledger"))
        .iter()
        .filter(|e| e.event_type == "Transferred")
        .count();
    assert_eq!(transfers, N);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_restart_under_load_loses_nothing() {
    let mut c = Cluster::start(test_genesis(Clock::Auto { block_time_ms: 50 }));
    c.start_service("ledger", &[]);
    let client = c.client().await;
    wait_ready(&client, "ledger").await;
    let bob_before = balance(&client, &bob().public()).await;
    const N: usize = 120;
    let sender = {
        let client = client.clone();
        tokio::spawn(async move {
            let mut ok = 0;
            for i in 0..N {
                let p = signed(&alice(), &format!("n{i}"), &transfer(&bob().public(), TAO));
                match send(&client, "transfer", p, &patient()).await {
                    Ok(_) => ok += 1,
                    Err(CallError::Rejected { code, .. }) if code == "AlreadyProcessed" => ok += 1,
                    Err(e) => panic!("transfer {i} failed for good: {e}"),
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            ok
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    c.nats.kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    c.nats.start_again();
    let ok = sender.await.unwrap();
    assert_eq!(ok, N);
    wait_ready(&client, "ledger").await;
    assert_eq!(
        balance(&client, &bob().public()).await,
        bob_before + N as u64 * TAO
    );
    // Blocks kept coming and everything reached the stream, in order.
    let s = wait_published(&client, "ledger").await;
    assert!(
        s["block"].as_u64().unwrap() > 5,
        "the block clock kept running: {s}"
    );
    let last = s["last_seq"].as_u64().unwrap();
    let stream = stream_contents(&client, "ledger").await;
    assert!(stream.len() as u64 >= last);
    for (sseq, env) in &stream {
        assert_eq!(*sseq, env.seq);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_apply_each_event_once_under_redelivery() {
    let mut c = Cluster::start(test_genesis(Clock::Manual));
    c.start_service("ledger", &[]);
    // Dies after applying (and committing) its 3rd ledger event, before the
    // ack: the server will redeliver it.
    // The governance service dies after applying its 3rd consumed event,
    // before the ack.
    c.start_service(
        "governance",
        &[
            ("TAONET_FAULT_ABORT_BEFORE_ACK", "3"),
            ("TAONET_INBOX_ACK_WAIT_MS", "1000"),
        ],
    );
    // The amm runs each ledger block's coinbase; consensus turns the amm's
    // coinbase blocks into its own block clock.
    c.start_service("amm", &[]);
    c.start_service("consensus", &[]);
    let client = c.client().await;
    wait_ready(&client, "ledger").await;
    let p = signed(
        &admin(),
        "adv-1",
        &Ledger::AdvanceBlocks {
            n: 10,
            timestamp_ms: 1_000,
            block_time_ms: 12_000,
        },
    );
    send(&client, "advance_blocks", p, &once())
        .await
        .expect("advance");
    assert!(
        c.wait_exit("governance", Duration::from_secs(20)),
        "governance aborted before its ack"
    );
    // The amm claims each block's coinbase credit, which appends to the
    // ledger's log: wait for the last claim before counting its events.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let i = query(&client, "ledger", "issuance", serde_json::Value::Null)
            .await
            .expect("issuance");
        if i["pending_coinbase_rao"] == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "coinbase never claimed: {i}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ledger = wait_published(&client, "ledger").await;
    let ledger_last = ledger["last_seq"].as_u64().unwrap();
    assert!(ledger_last > 10);

    c.start_service("governance", &[("TAONET_INBOX_ACK_WAIT_MS", "1000")]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = query(&client, "governance", "status", serde_json::Value::Null).await;
        if s.as_ref().is_ok_and(|s| s["block"] == 10) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "governance did not catch up: {s:?} {}",
            c.log("governance")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The events the first run applied but never acked come back once
    // their ack wait (1 s) is over; let that happen before stopping.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    c.stop("governance");
    // Each ledger block reached governance exactly once: one
    // `BlockObserved` per height, in order, and no event of governance's
    // log has the same cause as another of its type.
    let log = read_log(&c.data("governance"));
    let seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=log.len() as u64).collect::<Vec<_>>());
    let blocks: Vec<u64> = log
        .iter()
        .filter_map(|e| {
            use envelope::VersionedEvent;
            match governance_core::GovernanceEvent::from_envelope(e) {
                Ok(governance_core::GovernanceEvent::BlockObserved(b)) => Some(b.height),
                _ => None,
            }
        })
        .collect();
    assert_eq!(blocks, (1..=10).collect::<Vec<_>>(), "one block each");
    let mut causes = std::collections::BTreeSet::new();
    for e in &log {
        if let Some(cause) = &e.causation {
            assert!(
                causes.insert((e.event_type.clone(), cause.clone())),
                "{} caused twice by {cause}",
                e.event_type
            );
        }
    }
    assert!(
        [
            "duplicate delivery skipped",
            "already applied; skipped",
            "inbox gap; repositioning"
        ]
        .iter()
        .any(|m| c.log("governance").contains(m)),
        "a recovery path ran (redelivery or repositioning): {}",
        c.log("governance")
    );

    // The consensus core followed the same blocks, and its restart and
    // offline replay agree with the live digest.
    let deadline = Instant::now() + Duration::from_secs(30);
    let cons = loop {
        let s = status(&client, "consensus").await;
        if s["block"] == 10 {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "consensus did not follow the blocks: {s}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    c.stop("consensus");
    c.start_service("consensus", &[]);
    let again = wait_ready(&client, "consensus").await;
    assert_eq!(
        again["state_digest"], cons["state_digest"],
        "restart gives the same state"
    );
    c.stop("consensus");
    let offline = c.replay("consensus");
    assert_eq!(
        offline["state_digest"], cons["state_digest"],
        "replay gives the same state"
    );
}
