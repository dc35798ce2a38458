//! Security properties end to end (docs/security.md): a real nats-server,
//! real service processes, real sled logs.
//!
//! Provenance of consumed events: a service may publish only to its own
//! stream (the deployment's NATS users), but what it puts there is up to it.
//! The ledger must not take an envelope on governance's stream that claims
//! to be the amm's (`StakeRequested` → `FundStake` would move a victim's
//! TAO), nor trust an envelope's `seq` over the stream's. Pins
//! `bus::inbox::check_provenance` (called in `Inbox::open`) and the shell's
//! use of the stream's source and sequence (`Input::Foreign`).

use amm_core::event::StakeRequested;
use amm_core::AmmEvent;
use bus::outbox::{ensure_stream, StreamSettings};
use envelope::{codec, Envelope, EventMeta};
use governance_core::event::SubnetRegistrationRequested;
use governance_core::GovernanceEvent;
use ledger_core::Clock;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tests::*;

fn meta() -> EventMeta {
    EventMeta {
        block: 0,
        causation: None,
        correlation: "forged".into(),
        trace: None,
    }
}

/// Publishes raw envelope bytes to a stream subject, as a (rogue) service
/// with publish rights on it could, and returns the stream sequence.
async fn publish(js: &async_nats::jetstream::Context, subject: String, env: &Envelope) -> u64 {
    js.publish(subject, codec::encode_envelope(env).into())
        .await
        .expect("publish")
        .await
        .expect("stream ack")
        .sequence
}

async fn locked(client: &async_nats::Client) -> u64 {
    query(client, "ledger", "issuance", Value::Null)
        .await
        .expect("issuance")["locked_rao"]
        .as_u64()
        .expect("locked_rao")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_envelopes_on_a_peer_stream_are_refused_and_do_not_wedge_the_inbox() {
    let mut c = Cluster::start(test_genesis(Clock::Manual));
    let client = c.client().await;
    let js = async_nats::jetstream::new(client.clone());
    // Governance's stream, as its outbox creates it; no governance service
    // runs: the test is the (compromised) publisher.
    ensure_stream(&js, "governance", &StreamSettings::default())
        .await
        .expect("stream");
    c.start_service("ledger", &[]);
    wait_ready(&client, "ledger").await;
    let alice_id = alice().public();
    let before_balance = balance(&client, &alice_id).await;
    let before = status(&client, "ledger").await;

    // 1. On governance's stream, an envelope claiming to be the amm's
    //    StakeRequested for Alice's TAO (without the check, the ledger's
    //    governance inbox dispatches on `service == "amm"` and funds it).
    let stake = AmmEvent::StakeRequested(StakeRequested {
        op: "forged-stake".into(),
        coldkey: alice_id,
        hotkey: bob().public(),
        netuid: 1,
        amount: 1_000 * TAO,
        limit_price: None,
        allow_partial: false,
    });
    let forged = Envelope::wrap("amm", 1, &stake, &meta());
    let s1 = publish(
        &js,
        bus::subjects::event("governance", "StakeRequested"),
        &forged,
    )
    .await;
    assert_eq!(s1, 1);

    // 2. Governance's own name, but a made-up position far ahead (without
    //    the seq check: a gap the consumer repositions to forever, and
    //    everything after it waits).
    let lock = |op: &str, amount: u64| {
        GovernanceEvent::SubnetRegistrationRequested(SubnetRegistrationRequested {
            op: op.into(),
            coldkey: alice_id,
            hotkey: bob().public(),
            netuid: 1,
            lock_amount: amount,
            prune: None,
            identity: None,
            block: 0,
        })
    };
    let ahead = Envelope::wrap("governance", 1_000, &lock("forged-lock", 7 * TAO), &meta());
    let s2 = publish(
        &js,
        bus::subjects::event("governance", "SubnetRegistrationRequested"),
        &ahead,
    )
    .await;
    assert_eq!(s2, 2);

    // 3. Bytes that are no envelope at all (before: a decode error the
    //    consumer reopened on forever).
    let s3 = js
        .publish(
            bus::subjects::event("governance", "Garbage"),
            bytes::Bytes::from_static(b"\xff\xff not an envelope"),
        )
        .await
        .expect("publish")
        .await
        .expect("ack")
        .sequence;
    assert_eq!(s3, 3);

    // 4. A genuine governance event at its true position: it must apply,
    //    which shows the refusals above did not stop the consumer.
    let real_lock = 3 * TAO;
    let genuine = Envelope::wrap("governance", 4, &lock("real-lock", real_lock), &meta());
    let s4 = publish(
        &js,
        bus::subjects::event("governance", "SubnetRegistrationRequested"),
        &genuine,
    )
    .await;
    assert_eq!(s4, 4);

    let deadline = Instant::now() + Duration::from_secs(30);
    while locked(&client).await != real_lock {
        assert!(
            Instant::now() < deadline,
            "the genuine event after the forged ones was never applied (inbox wedged?): {}",
            c.log("ledger")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Alice lost exactly the genuine lock: the forged stake and the forged
    // lock moved nothing.
    assert_eq!(
        balance(&client, &alice_id).await,
        before_balance - real_lock
    );
    let after = status(&client, "ledger").await;
    assert_eq!(after["refused_events"], json!(3), "{after}");
    // One event appended: LockedForSubnet (a refusal only moves the checkpoint).
    assert_eq!(
        after["last_seq"].as_u64().unwrap(),
        before["last_seq"].as_u64().unwrap() + 1
    );
    let inv = query(&client, "ledger", "invariants", Value::Null)
        .await
        .unwrap();
    assert_eq!(inv["ok"], true, "{inv}");

    // A restart does not see the refused events again (the checkpoint moved
    // past them) and replays to the same state.
    c.stop("ledger");
    let log = read_log(&c.data("ledger"));
    let types: Vec<&str> = log.iter().map(|e| e.event_type.as_str()).collect();
    assert!(!types.contains(&"StakeFunded"), "{types:?}");
    assert_eq!(
        types.iter().filter(|t| **t == "LockedForSubnet").count(),
        1,
        "{types:?}"
    );
    c.start_service("ledger", &[]);
    let again = wait_ready(&client, "ledger").await;
    assert_eq!(again["state_digest"], after["state_digest"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = status(&client, "ledger").await;
    assert_eq!(again["refused_events"], json!(0), "{again}");
    assert_eq!(again["state_digest"], after["state_digest"]);
}

/// A known finding, pinned so that fixing it flips this test (and the
/// docs/security.md entry with it): a signed command that was *rejected*
/// leaves no idempotency record (`Runtime::process` stores the command id
/// only with accepted events), and signed bodies carry no expiry or nonce.
/// Whoever saw the rejected bytes can submit them again once they would
/// succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finding_a_rejected_signed_command_can_be_replayed_once_it_would_succeed() {
    use bus::rpc::{CallError, CallOptions};
    let mut c = Cluster::start(test_genesis(Clock::Manual));
    c.start_service("ledger", &[]);
    let client = c.client().await;
    wait_ready(&client, "ledger").await;
    let once = CallOptions {
        attempts: 1,
        timeout: Duration::from_secs(5),
        ..Default::default()
    };
    let (alice_id, bob_id) = (alice().public(), bob().public());
    // Bob (1000 TAO) signs 1500 TAO to Alice: refused.
    let bytes = signed(&bob(), "later", &transfer(&alice_id, 1_500 * TAO));
    match send(&client, "transfer", bytes.clone(), &once).await {
        Err(CallError::Rejected { code, .. }) => assert_eq!(code, "InsufficientBalance"),
        other => panic!("{other:?}"),
    }
    // Bob's balance grows; the very same bytes now go through.
    send(
        &client,
        "transfer",
        signed(&alice(), "fund-bob", &transfer(&bob_id, 1_000 * TAO)),
        &once,
    )
    .await
    .unwrap();
    let alice_before = balance(&client, &alice_id).await;
    send(&client, "transfer", bytes.clone(), &once)
        .await
        .expect("the rejected command, replayed, is accepted");
    assert_eq!(
        balance(&client, &alice_id).await,
        alice_before + 1_500 * TAO
    );
    // From then on it is a duplicate: at most one effect.
    match send(&client, "transfer", bytes, &once).await {
        Err(CallError::Rejected { code, .. }) => assert_eq!(code, "AlreadyProcessed"),
        other => panic!("{other:?}"),
    }
}
