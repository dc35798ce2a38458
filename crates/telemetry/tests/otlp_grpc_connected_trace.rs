//! End to end over OTLP/gRPC: a span in one "service", its context carried
//! in NATS headers and in an envelope, children in "another service", all
//! exported to an in-process receiver as one connected trace.
//!
//! One test per file: the subscriber is process-global.

use std::net::SocketAddr;
use std::time::Duration;

use otlp_receiver::{is_connected, traces, OtlpReceiver};

#[test]
fn parent_and_remote_children_form_one_trace() {
    let receiver = OtlpReceiver::start("127.0.0.1:0".parse::<SocketAddr>().unwrap()).unwrap();
    for var in [
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_SERVICE_NAME",
        "OTEL_TRACES_SAMPLER",
        "OTEL_TRACES_SAMPLER_ARG",
        "TAONET_TRACE_FILTER",
    ] {
        std::env::remove_var(var);
    }
    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint());
    std::env::set_var("OTEL_BSP_SCHEDULE_DELAY", "100");
    std::env::set_var("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test");

    let mut guard = telemetry::init("svc-a", "1.2.3").expect("init");
    assert!(guard.is_exporting());
    assert!(matches!(
        telemetry::init("svc-a", "1.2.3"),
        Err(telemetry::TelemetryError::AlreadyInitialized)
    ));

    let mut headers = async_nats::HeaderMap::new();
    let (parent_tc, parent_trace_id) = {
        let parent = tracing::info_span!("publish_transfer", amount = 5u64);
        let _entered = parent.enter();
        telemetry::inject_nats(&mut headers);
        let tc = telemetry::current_trace_context().expect("valid span context");
        let trace_id = tc.traceparent.split('-').nth(1).unwrap().to_owned();
        (tc, trace_id)
    };
    let traceparent = headers.get("traceparent").expect("traceparent injected");
    assert_eq!(traceparent.as_str(), parent_tc.traceparent);

    // "Another service": a consumer span whose parent comes from the headers.
    {
        let child = tracing::info_span!("consume_transfer");
        assert!(telemetry::set_parent_from_nats(&child, &headers));
        let _entered = child.enter();
        let tc = telemetry::current_trace_context().unwrap();
        assert!(tc.traceparent.contains(&parent_trace_id));
    }
    // A replay consumer: parent from the envelope's trace context.
    {
        let replay = tracing::info_span!("replay_transfer");
        assert!(telemetry::set_parent_from_trace_context(
            &replay, &parent_tc
        ));
        let _entered = replay.enter();
    }

    guard.shutdown().expect("shutdown flushes");
    assert!(
        receiver.wait_for(|s| s.len() >= 3, Duration::from_secs(10)),
        "spans received: {:?}",
        receiver.spans()
    );
    let spans = receiver.spans();
    let by_name = |n: &str| {
        spans
            .iter()
            .find(|s| s.name == n)
            .unwrap_or_else(|| panic!("span {n} missing in {spans:?}"))
            .clone()
    };
    let parent = by_name("publish_transfer");
    let child = by_name("consume_transfer");
    let replay = by_name("replay_transfer");

    assert_eq!(parent.trace_id, parent_trace_id);
    assert_eq!(child.trace_id, parent.trace_id);
    assert_eq!(replay.trace_id, parent.trace_id);
    assert_eq!(parent.parent_span_id, "");
    assert_eq!(child.parent_span_id, parent.span_id);
    assert_eq!(replay.parent_span_id, parent.span_id);

    assert_eq!(parent.service_name, "svc-a");
    assert_eq!(
        parent
            .resource_attributes
            .get("service.version")
            .map(String::as_str),
        Some("1.2.3")
    );
    assert_eq!(
        parent
            .resource_attributes
            .get("deployment.environment")
            .map(String::as_str),
        Some("test")
    );
    assert!(parent
        .resource_attributes
        .get("service.instance.id")
        .is_some_and(|id| id.ends_with(&format!("-{}", std::process::id()))));
    assert_eq!(
        parent.attributes.get("amount").map(String::as_str),
        Some("5")
    );
    assert!(parent.end_unix_nanos >= parent.start_unix_nanos);

    let all = traces(&spans);
    assert_eq!(all.len(), 1, "exactly one trace: {all:?}");
    assert!(is_connected(&all[&parent.trace_id]));
}
