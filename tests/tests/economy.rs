//! The dTAO economy across services: stakes go through the amm and the
//! ledger's saga steps, blocks run the amm's coinbase, consensus runs the
//! epochs on the amm's blocks and the amm pays them out; the amm is killed
//! mid-stream and restarted; at the end every cross-service invariant holds
//! and every service's live digest equals its offline replay.

use amm_core::{CommandBody as A, GenesisNeuron, GenesisSubnet};
use bus::rpc::{CallError, CallOptions};
use keys::{AccountId, Keypair};
use ledger_core::{Clock, CommandBody as Ledger};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use taonet::genesis::NetworkGenesis;
use tests::*;

fn once() -> CallOptions {
    CallOptions {
        attempts: 1,
        timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

fn hk(i: u8) -> Keypair {
    Keypair::from_uri(&format!("//economy/hotkey/{i}")).unwrap()
}

fn genesis() -> NetworkGenesis {
    let ledger = test_genesis(Clock::Manual);
    let subnet = GenesisSubnet {
        netuid: 1,
        owner: bob().public(),
        owner_hotkey: hk(9).public(),
        tao_reserve: 1_000 * TAO,
        alpha_reserve: 1_000 * TAO,
        first_emission_block: Some(0),
        emission_enabled: true,
        neurons: vec![
            GenesisNeuron {
                hotkey: hk(0).public(),
                owner: alice().public(),
            },
            GenesisNeuron {
                hotkey: hk(1).public(),
                owner: bob().public(),
            },
            GenesisNeuron {
                hotkey: hk(9).public(),
                owner: bob().public(),
            },
        ],
        tempo: Some(10),
    };
    NetworkGenesis {
        ledger,
        subnets: vec![subnet],
        ..Default::default()
    }
}

async fn amm(
    client: &async_nats::Client,
    key: &Keypair,
    name: &str,
    body: &A,
) -> Result<bus::rpc::Accepted, CallError> {
    let id = match body {
        A::AddStake { op, .. } | A::RemoveStake { op, .. } => op.clone(),
        _ => uuid::Uuid::now_v7().to_string(),
    };
    send_to(client, "amm", name, signed_for(key, &id, body), &once()).await
}

fn add_stake(op: &str, hotkey: AccountId, netuid: u16, amount: u64) -> A {
    A::AddStake {
        op: op.into(),
        hotkey,
        netuid,
        amount,
        limit_price: None,
        allow_partial: false,
    }
}

/// Waits for an op to leave `pending`; returns its final status.
async fn op_outcome(client: &async_nats::Client, op: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = query(client, "amm", "op", json!({"op": op}))
            .await
            .expect("op query");
        if v["status"] != "pending" {
            return v;
        }
        assert!(Instant::now() < deadline, "op {op} still pending: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `from`: the current height (block timestamps must keep increasing).
async fn advance(client: &async_nats::Client, id: &str, from: u64, n: u64) {
    let adv = Ledger::AdvanceBlocks {
        n,
        timestamp_ms: 1_000 + (from + 1) * 12_000,
        block_time_ms: 12_000,
    };
    send(
        client,
        "advance_blocks",
        signed(&admin(), id, &adv),
        &once(),
    )
    .await
    .expect("advance");
}

/// Waits until the amm and consensus have followed the ledger to `height`,
/// every service has published its whole log, and the amm has no
/// operation waiting for the ledger.
async fn settle(client: &async_nats::Client, height: u64) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let mut done = true;
        for svc in ["ledger", "amm", "consensus"] {
            let s = status(client, svc).await;
            done &= s["block"] == height && s["published_seq"] == s["last_seq"];
        }
        let totals = query(client, "amm", "totals", Value::Null).await.unwrap();
        done &= totals["pending_ops"] == 0;
        if done && custody_matches(client).await.is_ok() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "cluster did not settle at block {height}: {:?}",
            custody_matches(client).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The ledger's custody of every subnet equals the amm's pool TAO.
async fn custody_matches(client: &async_nats::Client) -> Result<(), String> {
    let subnets = query(client, "amm", "subnets", Value::Null).await.unwrap();
    for s in subnets["subnets"].as_array().unwrap() {
        let netuid = s["netuid"].as_u64().unwrap();
        let c = query(client, "ledger", "custody", json!({"netuid": netuid}))
            .await
            .unwrap();
        if c["custody_rao"] != s["tao_reserve"] {
            return Err(format!(
                "subnet {netuid}: ledger custody {} vs pool {}",
                c["custody_rao"], s["tao_reserve"]
            ));
        }
    }
    Ok(())
}

fn alpha_of(portfolio: &Value, netuid: u64, hotkey: &AccountId) -> u64 {
    portfolio["positions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["netuid"] == netuid && p["hotkey"] == json!(hotkey))
        .map_or(0, |p| p["alpha"].as_u64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stake_earn_unstake_with_an_amm_crash() {
    let mut c = Cluster::start_network(&genesis());
    for svc in ["ledger", "amm", "consensus"] {
        c.start_service(svc, &[]);
    }
    let client = c.client().await;
    for svc in ["ledger", "amm", "consensus"] {
        wait_ready(&client, svc).await;
    }
    let alice_pub = alice().public();
    let bob_pub = bob().public();
    let alice_before = balance(&client, &alice_pub).await;

    // Stakes: into subnet 1's pool and onto root.
    amm(
        &client,
        &alice(),
        "add_stake",
        &add_stake("s1", hk(0).public(), 1, 100 * TAO),
    )
    .await
    .expect("stake accepted");
    amm(
        &client,
        &alice(),
        "add_stake",
        &add_stake("r1", hk(0).public(), 0, 10 * TAO),
    )
    .await
    .expect("root stake accepted");
    assert_eq!(op_outcome(&client, "s1").await["status"], "done");
    assert_eq!(op_outcome(&client, "r1").await["status"], "done");
    assert_eq!(
        balance(&client, &alice_pub).await,
        alice_before - 110 * TAO,
        "the ledger moved exactly the staked TAO"
    );
    let p = query(&client, "amm", "portfolio", json!({"coldkey": alice_pub}))
        .await
        .unwrap();
    let staked_alpha = alpha_of(&p, 1, &hk(0).public());
    assert!(staked_alpha > 0, "alpha bought: {p}");
    assert_eq!(alpha_of(&p, 0, &hk(0).public()), 10 * TAO, "root is 1:1");

    // Bad input: named errors, nothing moved.
    for (body, code) in [
        (add_stake("b1", hk(0).public(), 1, 1_000), "AmountTooLow"),
        (
            add_stake("b2", hk(0).public(), 9, 10 * TAO),
            "SubnetNotExists",
        ),
        (
            add_stake("b3", hk(7).public(), 1, 10 * TAO),
            "HotKeyAccountNotExists",
        ),
    ] {
        match amm(&client, &alice(), "add_stake", &body).await {
            Err(CallError::Rejected { code: got, .. }) => assert_eq!(got, code),
            other => panic!("expected {code}: {other:?}"),
        }
    }
    // More than Bob has: accepted by the amm, refused by the ledger, and
    // the op fails with nothing moved.
    let bob_before = balance(&client, &bob_pub).await;
    amm(
        &client,
        &bob(),
        "add_stake",
        &add_stake("b4", hk(1).public(), 1, 5_000 * TAO),
    )
    .await
    .expect("accepted for funding");
    let failed = op_outcome(&client, "b4").await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["code"], "NotEnoughBalanceToStake", "{failed}");
    assert_eq!(balance(&client, &bob_pub).await, bob_before);

    // Epochs pay out: alice's validator earns alpha.
    advance(&client, "adv-1", 0, 25).await;
    settle(&client, 25).await;
    let p = query(&client, "amm", "portfolio", json!({"coldkey": alice_pub}))
        .await
        .unwrap();
    let earned = alpha_of(&p, 1, &hk(0).public());
    assert!(
        earned > staked_alpha,
        "dividends grew the stake: {staked_alpha} -> {earned}"
    );
    let m = query(&client, "consensus", "metagraph", json!({"netuid": 1}))
        .await
        .unwrap();
    assert!(m["epoch_index"].as_u64().unwrap() >= 2, "epochs ran: {m}");

    // The amm dies mid-stream (kill -9) while blocks arrive, and restarts.
    advance(&client, "adv-2", 25, 40).await;
    c.kill9("amm");
    advance(&client, "adv-3", 65, 5).await;
    c.start_service("amm", &[]);
    wait_ready(&client, "amm").await;
    settle(&client, 70).await;

    // Unstake everything from subnet 1: the TAO comes back to alice.
    let p = query(&client, "amm", "portfolio", json!({"coldkey": alice_pub}))
        .await
        .unwrap();
    let all = alpha_of(&p, 1, &hk(0).public());
    let before_unstake = balance(&client, &alice_pub).await;
    let remove = A::RemoveStake {
        op: "u1".into(),
        hotkey: hk(0).public(),
        netuid: 1,
        alpha: all,
        limit_price: None,
        allow_partial: false,
    };
    amm(&client, &alice(), "remove_stake", &remove)
        .await
        .expect("unstake accepted");
    assert_eq!(op_outcome(&client, "u1").await["status"], "done");
    settle(&client, 70).await;
    let after_unstake = balance(&client, &alice_pub).await;
    assert!(
        after_unstake > before_unstake + 100 * TAO,
        "more than the stake came back: {before_unstake} -> {after_unstake}"
    );

    // Invariants hold in every service, across services too.
    for svc in ["ledger", "amm"] {
        let inv = query(&client, svc, "invariants", Value::Null)
            .await
            .unwrap();
        assert_eq!(inv["ok"], true, "{svc}: {inv}");
    }
    custody_matches(&client).await.expect("custody = pool TAO");
    let issuance = query(&client, "ledger", "issuance", Value::Null)
        .await
        .unwrap();
    assert_eq!(
        issuance["pending_coinbase_rao"], 0,
        "every block's credit was claimed or recycled"
    );

    // Live digests equal offline replay.
    let mut live = Vec::new();
    for svc in ["ledger", "amm", "consensus"] {
        live.push((svc, status(&client, svc).await["state_digest"].clone()));
    }
    for (svc, _) in &live {
        c.stop(svc);
    }
    for (svc, digest) in live {
        let offline = c.replay(svc);
        assert_eq!(offline["state_digest"], digest, "{svc}: replay = live");
    }
}
