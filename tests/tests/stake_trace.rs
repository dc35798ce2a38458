//! A stake is one trace across the services it crosses: the client's span,
//! the amm's command span, the ledger's span consuming `StakeRequested`
//! (it funds the stake), the amm's span consuming `StakeFunded` (it swaps),
//! and the ledger's span consuming the settlement, parent links intact.

use amm_core::{CommandBody as A, GenesisNeuron, GenesisSubnet};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stake_is_one_trace_across_amm_and_ledger() {
    let receiver = OtlpReceiver::start("127.0.0.1:0".parse().unwrap()).expect("receiver");
    let endpoint = receiver.endpoint();
    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint);
    std::env::set_var("OTEL_BSP_SCHEDULE_DELAY", "100");
    let guard = telemetry::init("taonet-test-client", "0.0.0").expect("telemetry");

    let hotkey = Keypair::from_uri("//trace/hotkey").unwrap().public();
    let genesis = NetworkGenesis {
        ledger: test_genesis(Clock::Manual),
        subnets: vec![GenesisSubnet {
            netuid: 1,
            owner: bob().public(),
            owner_hotkey: hotkey,
            tao_reserve: 1_000 * TAO,
            alpha_reserve: 1_000 * TAO,
            first_emission_block: Some(0),
            emission_enabled: true,
            neurons: vec![GenesisNeuron {
                hotkey,
                owner: bob().public(),
            }],
            tempo: Some(10),
        }],
        ..Default::default()
    };
    let mut c = Cluster::start_network(&genesis);
    let otel = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    c.start_service("ledger", &otel);
    c.start_service("amm", &otel);
    let client = c.client().await;
    wait_ready(&client, "ledger").await;
    wait_ready(&client, "amm").await;

    let root = tracing::info_span!("user.stake");
    let trace_id = telemetry::trace_context_of(&root)
        .expect("root context")
        .traceparent[3..35]
        .to_string();
    let mut headers = async_nats::HeaderMap::new();
    telemetry::inject_nats_from_span(&root, &mut headers);
    let body = A::AddStake {
        op: "traced-stake".into(),
        hotkey,
        netuid: 1,
        amount: 10 * TAO,
        limit_price: None,
        allow_partial: false,
    };
    bus::rpc::call(
        &client,
        &bus::subjects::command("amm", "add_stake"),
        headers,
        signed_for(&alice(), "traced-stake", &body),
        &Default::default(),
    )
    .instrument(root.clone())
    .await
    .expect("stake accepted");
    drop(root);
    guard.flush().expect("flush spans");

    let complete = |spans: &[ReceivedSpan]| {
        let t: Vec<ReceivedSpan> = spans
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .cloned()
            .collect();
        find(&t, "taonet-amm", "command", None).is_some()
            && find(&t, "taonet-ledger", "consume", Some("StakeRequested")).is_some()
            && find(&t, "taonet-amm", "consume", Some("StakeFunded")).is_some()
            && find(&t, "taonet-ledger", "consume", Some("TaoSettlement")).is_some()
    };
    let got = receiver.wait_for(complete, Duration::from_secs(30));
    let spans = receiver.spans();
    assert!(
        got,
        "spans received: {:#?}",
        spans
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .map(|s| (&s.service_name, &s.name, s.attributes.get("event")))
            .collect::<Vec<_>>()
    );
    let all = traces(&spans);
    let trace = &all[&trace_id];
    assert!(is_connected(trace), "one tree with one root: {trace:#?}");
    let root = trace.iter().find(|s| s.parent_span_id.is_empty()).unwrap();
    assert_eq!(root.service_name, "taonet-test-client");
    let command = find(trace, "taonet-amm", "command", None).unwrap();
    let funded = find(trace, "taonet-ledger", "consume", Some("StakeRequested")).unwrap();
    let swapped = find(trace, "taonet-amm", "consume", Some("StakeFunded")).unwrap();
    assert_eq!(
        funded.parent_span_id, command.span_id,
        "ledger step under the amm command"
    );
    assert_eq!(
        swapped.parent_span_id, funded.span_id,
        "amm step under the ledger step"
    );
}
