//! The consensus service in a cluster: it follows the ledger's blocks,
//! accepts a subnet and neurons from a trusted service key, weights signed
//! by hotkeys (with the chain's validation), runs the Yuma epoch when the
//! tempo says, and serves the metagraph; replay gives its live digest.

use bus::rpc::{CallError, CallOptions};
use consensus_core::{CommandBody as C, SubnetParams};
use keys::{CommandBody, Keypair, Signed};
use ledger_core::{Clock, CommandBody as Ledger};
use serde_json::json;
use std::time::{Duration, Instant};
use tests::*;

fn once() -> CallOptions {
    CallOptions {
        attempts: 1,
        timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

async fn to_consensus(
    client: &async_nats::Client,
    key: &Keypair,
    service: bool,
    id: &str,
    body: &C,
) -> Result<bus::rpc::Accepted, CallError> {
    let payload = Signed::seal(
        key,
        &CommandBody {
            client: "t".into(),
            id: id.into(),
            command: body,
        },
    )
    .unwrap()
    .to_bytes()
    .unwrap();
    let subject = if service {
        bus::subjects::service_command("consensus", "x")
    } else {
        bus::subjects::command("consensus", "weights")
    };
    bus::rpc::call(
        client,
        &subject,
        async_nats::HeaderMap::new(),
        payload.into(),
        &once(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_and_epochs_through_the_consensus_service() {
    let mut c = Cluster::start(test_genesis(Clock::Manual));
    c.start_service("ledger", &[]);
    // Consensus follows the amm's coinbase blocks.
    c.start_service("amm", &[]);
    c.start_service("consensus", &[]);
    let client = c.client().await;
    wait_ready(&client, "ledger").await;
    wait_ready(&client, "amm").await;
    wait_ready(&client, "consensus").await;
    let svc = service_key();
    let hk: Vec<Keypair> = (0..4)
        .map(|i| Keypair::from_uri(&format!("//hotkey/{i}")).unwrap())
        .collect();

    let params = SubnetParams {
        tempo: 360,
        commit_reveal_enabled: false,
        weights_rate_limit: 0,
        ..SubnetParams::default()
    };
    let create = C::CreateSubnet {
        op: None,
        netuid: 1,
        owner: alice().public(),
        owner_hotkey: hk[0].public(),
        params,
    };
    // Only a trusted service key may create a subnet.
    match to_consensus(&client, &bob(), true, "c0", &create).await {
        Err(CallError::Rejected { code, .. }) => assert_eq!(code, "BadOrigin"),
        other => panic!("untrusted service: {other:?}"),
    }
    to_consensus(&client, &svc, true, "c1", &create)
        .await
        .expect("create subnet");
    for (i, k) in hk.iter().enumerate() {
        to_consensus(
            &client,
            &svc,
            true,
            &format!("r{i}"),
            &C::RegisterNeuron {
                op: None,
                netuid: 1,
                hotkey: k.public(),
                block: 0,
            },
        )
        .await
        .expect("register");
        to_consensus(
            &client,
            &svc,
            true,
            &format!("s{i}"),
            &C::StakeUpdate {
                netuid: 1,
                hotkey: k.public(),
                stake: (i as u64 + 1) * 1_000 * TAO,
            },
        )
        .await
        .expect("stake");
    }

    // The first epoch hands out validator permits (by stake).
    let adv = Ledger::AdvanceBlocks {
        n: 400,
        timestamp_ms: 1_000,
        block_time_ms: 12_000,
    };
    send(
        &client,
        "advance_blocks",
        signed(&admin(), "adv0", &adv),
        &once(),
    )
    .await
    .expect("advance");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let m = query(&client, "consensus", "metagraph", json!({"netuid": 1}))
            .await
            .expect("metagraph");
        if m["block"] == 400 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "consensus stuck at block {}",
            m["block"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Alpha for the next epoch to pay out (the amm will send this).
    to_consensus(
        &client,
        &svc,
        true,
        "e1",
        &C::EmissionPending {
            netuid: 1,
            rao: 500 * TAO,
        },
    )
    .await
    .expect("emission");

    // Weights with the chain's validation.
    let set = |uids: Vec<u16>, values: Vec<u16>| C::SetWeights {
        netuid: 1,
        uids,
        values,
        version_key: 0,
    };
    match to_consensus(
        &client,
        &hk[3],
        false,
        "w-bad",
        &set(vec![0, 0], vec![1, 1]),
    )
    .await
    {
        Err(CallError::Rejected { code, .. }) => assert_eq!(code, "DuplicateUids"),
        other => panic!("duplicate uids: {other:?}"),
    }
    match to_consensus(&client, &hk[3], false, "w-len", &set(vec![0, 1], vec![1])).await {
        Err(CallError::Rejected { code, .. }) => assert_eq!(code, "WeightVecNotEqualSize"),
        other => panic!("unequal lengths: {other:?}"),
    }
    for (i, k) in hk.iter().enumerate().skip(1) {
        to_consensus(
            &client,
            k,
            false,
            &format!("w{i}"),
            &set(vec![0, 1, 2, 3], vec![10, 20, 30, 40]),
        )
        .await
        .unwrap_or_else(|e| panic!("weights of uid {i}: {e}"));
    }

    // Blocks: the ledger produces them, consensus runs the epoch when due.
    let adv = Ledger::AdvanceBlocks {
        n: 400,
        timestamp_ms: 100_000_000,
        block_time_ms: 12_000,
    };
    send(
        &client,
        "advance_blocks",
        signed(&admin(), "adv", &adv),
        &once(),
    )
    .await
    .expect("advance");
    let deadline = Instant::now() + Duration::from_secs(60);
    let m = loop {
        let m = query(&client, "consensus", "metagraph", json!({"netuid": 1}))
            .await
            .expect("metagraph");
        if m["block"] == 800 {
            break m;
        }
        assert!(Instant::now() < deadline, "consensus stuck: {m}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(m["epoch_index"].as_u64().unwrap() >= 1, "an epoch ran: {m}");
    let neurons = m["neurons"].as_array().unwrap();
    assert_eq!(neurons.len(), 4);
    let incentive: u64 = neurons
        .iter()
        .map(|n| n["incentive"].as_u64().unwrap())
        .sum();
    let dividends: u64 = neurons
        .iter()
        .map(|n| n["dividends"].as_u64().unwrap())
        .sum();
    assert!(
        (65_535 - 4..=65_535).contains(&incentive),
        "incentive sums to one: {incentive}"
    );
    assert!(
        (65_535 - 4..=65_535).contains(&dividends),
        "dividends sum to one: {dividends}"
    );
    let emitted: u64 = neurons
        .iter()
        .map(|n| n["emission"].as_u64().unwrap())
        .sum();
    assert!(
        emitted <= 500 * TAO && emitted > 0,
        "emission within what was handed in: {emitted}"
    );

    // The readable table through the CLI.
    let out = std::process::Command::new(node_bin())
        .args(["--nats", &c.nats.url(), "metagraph", "--netuid", "1"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        table.contains(&hk[0].public().to_string()) && table.contains("incent"),
        "{table}"
    );

    // Restart and offline replay agree with the live digest.
    let live = status(&client, "consensus").await;
    c.stop("consensus");
    let offline = c.replay("consensus");
    assert_eq!(offline["state_digest"], live["state_digest"]);
    c.start_service("consensus", &[]);
    assert_eq!(
        wait_ready(&client, "consensus").await["state_digest"],
        live["state_digest"]
    );
}
