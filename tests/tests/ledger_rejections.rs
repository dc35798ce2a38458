//! Bad input against a running ledger: every case is a typed, named
//! rejection, changes nothing (same digest, same log position), and the
//! service keeps serving.

use bus::rpc::{CallError, CallOptions};
use keys::{CommandBody, Keypair, Signed};
use ledger_core::{Clock, CommandBody as Ledger};
use std::time::Duration;
use tests::*;

fn once() -> CallOptions {
    CallOptions {
        attempts: 1,
        timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

async fn expect_rejected(
    client: &async_nats::Client,
    subject: &str,
    payload: bytes::Bytes,
    code: &str,
) {
    let before = status(client, "ledger").await;
    let r = send(client, subject, payload, &once()).await;
    match r {
        Err(CallError::Rejected { code: got, .. }) => assert_eq!(got, code),
        other => panic!("expected {code}, got {other:?}"),
    }
    let after = status(client, "ledger").await;
    assert_eq!(
        before["state_digest"], after["state_digest"],
        "{code} changed the state"
    );
    assert_eq!(
        before["last_seq"], after["last_seq"],
        "{code} wrote to the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_commands_are_named_rejections_that_change_nothing() {
    let mut c = Cluster::start(test_genesis(Clock::Manual));
    c.start_service("ledger", &[]);
    let client = c.client().await;
    wait_ready(&client, "ledger").await;
    let bob_id = bob().public();

    // Idempotency: the same signed command twice has one effect.
    let p = signed(&alice(), "once", &transfer(&bob_id, 2 * TAO));
    let before = balance(&client, &bob_id).await;
    send(&client, "transfer", p.clone(), &once())
        .await
        .expect("first");
    expect_rejected(&client, "transfer", p, "AlreadyProcessed").await;
    assert_eq!(balance(&client, &bob_id).await, before + 2 * TAO);

    // Forged: the body was changed after signing.
    let good = Signed::seal(
        &alice(),
        &CommandBody {
            client: "t".into(),
            id: "forged".into(),
            command: transfer(&bob_id, TAO),
        },
    )
    .unwrap();
    let mut forged = good.clone();
    forged.body = forged.body.replace("1000000000", "9000000000");
    expect_rejected(
        &client,
        "transfer",
        forged.to_bytes().unwrap().into(),
        "BadSignature",
    )
    .await;

    // Signed by another key than the account that acts.
    let mut other = good.clone();
    other.signature = bob().sign(good.body.as_bytes());
    expect_rejected(
        &client,
        "transfer",
        other.to_bytes().unwrap().into(),
        "BadSignature",
    )
    .await;

    // Unsigned / garbage / oversized.
    expect_rejected(
        &client,
        "transfer",
        bytes::Bytes::from_static(b"{\"not\":\"signed\"}"),
        "Malformed",
    )
    .await;
    expect_rejected(
        &client,
        "transfer",
        bytes::Bytes::from(vec![0xffu8; 300]),
        "Malformed",
    )
    .await;
    expect_rejected(
        &client,
        "transfer",
        bytes::Bytes::from(vec![b' '; 70 * 1024]),
        "Oversized",
    )
    .await;

    // Domain rules.
    let stranger = Keypair::from_uri("//Stranger").unwrap();
    expect_rejected(
        &client,
        "transfer",
        signed(&alice(), "zero", &transfer(&bob_id, 0)),
        "AmountTooLow",
    )
    .await;
    expect_rejected(
        &client,
        "transfer",
        signed(&stranger, "broke", &transfer(&bob_id, TAO)),
        "InsufficientBalance",
    )
    .await;
    expect_rejected(
        &client,
        "transfer",
        signed(&alice(), "dust", &transfer(&stranger.public(), 100)),
        "ExistentialDeposit",
    )
    .await;
    expect_rejected(
        &client,
        "transfer",
        signed(
            &bob(),
            "all",
            &transfer(&alice().public(), balance(&client, &bob_id).await),
        ),
        "InsufficientBalance",
    )
    .await;
    expect_rejected(
        &client,
        "transfer",
        signed(&alice(), "overflow", &transfer(&bob_id, u64::MAX)),
        "Overflow",
    )
    .await;

    // Admin and service actions from the wrong keys / subjects.
    let adv = Ledger::AdvanceBlocks {
        n: 1,
        timestamp_ms: 1,
        block_time_ms: 12_000,
    };
    expect_rejected(
        &client,
        "advance_blocks",
        signed(&bob(), "adv", &adv),
        "BadOrigin",
    )
    .await;
    let fund = Ledger::FundStake {
        op: "op-1".into(),
        coldkey: alice().public(),
        netuid: 1,
        amount: TAO,
    };
    // A user cannot run a saga step, even on their own account ...
    expect_rejected(
        &client,
        "fund_stake",
        signed(&alice(), "saga-as-user", &fund),
        "BadOrigin",
    )
    .await;
    // ... nor can a key that is not a trusted service, on the service subject.
    expect_rejected(
        &client,
        "svc",
        signed(&alice(), "saga-untrusted", &fund),
        "BadOrigin",
    )
    .await;
    // The trusted service key can.
    send(
        &client,
        "svc",
        signed(&service_key(), "saga-ok", &fund),
        &once(),
    )
    .await
    .expect("trusted service runs the saga step");

    // Still serving after all of that.
    send(
        &client,
        "transfer",
        signed(&alice(), "after", &transfer(&bob_id, TAO)),
        &once(),
    )
    .await
    .expect("still serving");
    let inv = query(&client, "ledger", "invariants", serde_json::Value::Null)
        .await
        .unwrap();
    assert_eq!(inv["ok"], true, "{inv}");

    // The command journal kept each command the core decided, once, with
    // its outcome: not the retry (AlreadyProcessed), and not what the shell
    // refused before any decision (signatures, garbage, size, an untrusted
    // key on the service subject).
    c.stop("ledger");
    let out = std::process::Command::new(node_bin())
        .args(["journal", "--service", "ledger", "--data"])
        .arg(c.dir.path())
        .output()
        .expect("taonet journal");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seen: Vec<(String, String)> = records
        .iter()
        .map(|r| {
            let body: serde_json::Value =
                serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
            let outcome = match &r["outcome"] {
                o if o.get("accepted").is_some() => "accepted".to_owned(),
                o => o["rejected"]["code"].as_str().unwrap().to_owned(),
            };
            (body["id"].as_str().unwrap().to_owned(), outcome)
        })
        .collect();
    let want = [
        ("once", "accepted"),
        ("zero", "AmountTooLow"),
        ("broke", "InsufficientBalance"),
        ("dust", "ExistentialDeposit"),
        ("all", "InsufficientBalance"),
        ("overflow", "Overflow"),
        ("adv", "BadOrigin"),
        ("saga-as-user", "BadOrigin"),
        ("saga-ok", "accepted"),
        ("after", "accepted"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    assert_eq!(seen, want);
    assert_eq!(
        records
            .iter()
            .map(|r| r["n"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        (1..=10).collect::<Vec<_>>()
    );
    assert_eq!(records[8]["service_caller"], true, "{}", records[8]);
    assert_eq!(records[0]["signer"], alice().public().to_ss58());
}
