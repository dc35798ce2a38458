//! One user operation is one trace across services: the client's span, the
//! ledger's command span, and the amm service's span for consuming the
//! event the command caused, with parent links intact, exported over
//! OTLP to a receiver of ours (the stand-in for Jaeger).

use ledger_core::Clock;
use otlp_receiver::{is_connected, traces, OtlpReceiver};
use std::time::Duration;
use tests::*;
use tracing::Instrument;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_and_what_it_causes_form_one_trace() {
    let receiver = OtlpReceiver::start("127.0.0.1:0".parse().unwrap()).expect("receiver");
    let endpoint = receiver.endpoint();
    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint);
    std::env::set_var("OTEL_BSP_SCHEDULE_DELAY", "100");
    let guard = telemetry::init("taonet-test-client", "0.0.0").expect("telemetry");

    let mut c = Cluster::start(test_genesis(Clock::Manual));
    let otel = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    c.start_service("ledger", &otel);
    c.start_service("amm", &otel);
    let client = c.client().await;
    wait_ready(&client, "ledger").await;
    wait_ready(&client, "amm").await;

    let root = tracing::info_span!("user.transfer");
    let trace_id = telemetry::trace_context_of(&root)
        .expect("root context")
        .traceparent[3..35]
        .to_string();
    let mut headers = async_nats::HeaderMap::new();
    telemetry::inject_nats_from_span(&root, &mut headers);
    let payload = signed(&alice(), "traced-1", &transfer(&bob().public(), TAO));
    bus::rpc::call(
        &client,
        &bus::subjects::command("ledger", "transfer"),
        headers,
        payload,
        &Default::default(),
    )
    .instrument(root.clone())
    .await
    .expect("transfer");
    drop(root);
    guard.flush().expect("flush spans");

    let got = receiver.wait_for(
        |spans| {
            let t: Vec<_> = spans.iter().filter(|s| s.trace_id == trace_id).collect();
            t.iter().any(|s| s.service_name == "taonet-ledger")
                && t.iter()
                    .any(|s| s.service_name == "taonet-amm" && s.name == "consume")
                && t.iter().any(|s| s.service_name == "taonet-test-client")
        },
        Duration::from_secs(20),
    );
    let spans = receiver.spans();
    assert!(
        got,
        "spans received: {:#?}",
        spans
            .iter()
            .map(|s| (&s.service_name, &s.name, &s.trace_id))
            .collect::<Vec<_>>()
    );
    let all = traces(&spans);
    let trace = &all[&trace_id];
    assert!(is_connected(trace), "one tree with one root: {trace:#?}");
    let root = trace.iter().find(|s| s.parent_span_id.is_empty()).unwrap();
    assert_eq!(root.service_name, "taonet-test-client");
    let command = trace
        .iter()
        .find(|s| s.service_name == "taonet-ledger" && s.name == "command")
        .expect("ledger command span");
    let consume = trace
        .iter()
        .find(|s| s.service_name == "taonet-amm" && s.name == "consume")
        .expect("amm consume span");
    assert_eq!(
        consume.parent_span_id, command.span_id,
        "the consumer's span is a child of the command"
    );
    assert_eq!(
        consume.attributes.get("event").map(String::as_str),
        Some("Transferred")
    );
    assert!(command.resource_attributes.contains_key("service.version"));
}
