//! A subnet registration is one trace across all four services: the
//! client's span, governance's command span, the ledger locking the TAO,
//! governance recording the subnet, the amm opening the pool and consensus
//! the metagraph, governance closing the saga and the ledger moving the
//! lock into custody, parent links intact.

use governance_core::CommandBody as G;
use keys::Keypair;
use ledger_core::Clock;
use otlp_receiver::{is_connected, traces, OtlpReceiver, ReceivedSpan};
use std::time::Duration;
use taonet::genesis::NetworkGenesis;
use tests::*;
use tracing::Instrument;

fn find<'a>(
    trace: &'a [ReceivedSpan],
    service: &str,
    name: &str,
    event: Option<&str>,
) -> Option<&'a ReceivedSpan> {
    trace.iter().find(|s| {
        s.service_name == service
            && s.name == name
            && event.is_none_or(|e| s.attributes.get("event").map(String::as_str) == Some(e))
    })
}

/// (service, event consumed) of every saga step.
const STEPS: [(&str, &str); 7] = [
    ("taonet-ledger", "SubnetRegistrationRequested"),
    ("taonet-governance", "LockedForSubnet"),
    ("taonet-amm", "SubnetRegistered"),
    ("taonet-consensus", "SubnetRegistered"),
    ("taonet-governance", "SubnetOpened"),
    ("taonet-governance", "SubnetCreated"),
    ("taonet-ledger", "SubnetOpened"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subnet_registration_is_one_trace_across_all_services() {
    let receiver = OtlpReceiver::start("127.0.0.1:0".parse().unwrap()).expect("receiver");
    let endpoint = receiver.endpoint();
    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint);
    std::env::set_var("OTEL_BSP_SCHEDULE_DELAY", "100");
    let guard = telemetry::init("taonet-test-client", "0.0.0").expect("telemetry");

    let genesis = NetworkGenesis {
        ledger: test_genesis(Clock::Manual),
        ..Default::default()
    };
    let mut c = Cluster::start_network(&genesis);
    let otel = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    for svc in ["ledger", "amm", "consensus", "governance"] {
        c.start_service(svc, &otel);
    }
    let client = c.client().await;
    for svc in ["ledger", "amm", "consensus", "governance"] {
        wait_ready(&client, svc).await;
    }

    let root = tracing::info_span!("user.register_network");
    let trace_id = telemetry::trace_context_of(&root)
        .expect("root context")
        .traceparent[3..35]
        .to_string();
    let mut headers = async_nats::HeaderMap::new();
    telemetry::inject_nats_from_span(&root, &mut headers);
    let hotkey = Keypair::from_uri("//trace/owner").unwrap().public();
    let body = G::RegisterNetwork {
        op: "traced-subnet".into(),
        hotkey,
        identity: None,
        max_lock_cost: None,
    };
    bus::rpc::call(
        &client,
        &bus::subjects::command("governance", "register_network"),
        headers,
        signed_for(&alice(), "traced-subnet", &body),
        &Default::default(),
    )
    .instrument(root.clone())
    .await
    .expect("registration accepted");
    drop(root);
    guard.flush().expect("flush spans");

    let in_trace = |spans: &[ReceivedSpan]| -> Vec<ReceivedSpan> {
        spans
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .cloned()
            .collect()
    };
    // Complete: every step's span is in, and so is every span's parent
    // (each service exports in its own batches, so a child can arrive
    // before its parent from another process; waiting for the tree, not
    // only for the steps, keeps the check from racing the exporters).
    let complete = |spans: &[ReceivedSpan]| {
        let t = in_trace(spans);
        is_connected(&t)
            && find(&t, "taonet-governance", "command", None).is_some()
            && STEPS
                .iter()
                .all(|(svc, ev)| find(&t, svc, "consume", Some(ev)).is_some())
    };
    let got = receiver.wait_for(complete, Duration::from_secs(30));
    let spans = receiver.spans();
    assert!(
        got,
        "spans received: {:#?}",
        in_trace(&spans)
            .iter()
            .map(|s| (&s.service_name, &s.name, s.attributes.get("event")))
            .collect::<Vec<_>>()
    );
    let all = traces(&spans);
    let trace = &all[&trace_id];
    assert!(is_connected(trace), "one tree with one root: {trace:#?}");
    let root = trace.iter().find(|s| s.parent_span_id.is_empty()).unwrap();
    assert_eq!(root.service_name, "taonet-test-client");
    let command = find(trace, "taonet-governance", "command", None).unwrap();
    let lock = find(trace, "taonet-ledger", "consume", Some(STEPS[0].1)).unwrap();
    let locked = find(trace, "taonet-governance", "consume", Some(STEPS[1].1)).unwrap();
    let pool = find(trace, "taonet-amm", "consume", Some(STEPS[2].1)).unwrap();
    let metagraph = find(trace, "taonet-consensus", "consume", Some(STEPS[3].1)).unwrap();
    assert_eq!(
        lock.parent_span_id, command.span_id,
        "lock under the command"
    );
    assert_eq!(locked.parent_span_id, lock.span_id, "record under the lock");
    assert_eq!(pool.parent_span_id, locked.span_id, "pool under the record");
    assert_eq!(
        metagraph.parent_span_id, locked.span_id,
        "metagraph under the record"
    );
    let services: std::collections::BTreeSet<&str> =
        trace.iter().map(|s| s.service_name.as_str()).collect();
    for svc in [
        "taonet-ledger",
        "taonet-amm",
        "taonet-consensus",
        "taonet-governance",
    ] {
        assert!(services.contains(svc), "{svc} in the trace: {services:?}");
    }
}
