//! OTLP over http/protobuf, with OTEL_SERVICE_NAME overriding the argument.

use std::time::Duration;

use otlp_receiver::{OtlpReceiver, ReceiverConfig};

#[test]
fn http_protobuf_export_reaches_receiver() {
    let receiver = OtlpReceiver::start_with(ReceiverConfig {
        http_otlp: Some("127.0.0.1:0".parse().unwrap()),
        ..ReceiverConfig::grpc("127.0.0.1:0".parse().unwrap())
    })
    .unwrap();
    for var in [
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_RESOURCE_ATTRIBUTES",
        "TAONET_TRACE_FILTER",
    ] {
        std::env::remove_var(var);
    }
    std::env::set_var(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        receiver.http_otlp_endpoint().unwrap(),
    );
    std::env::set_var("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
    std::env::set_var("OTEL_SERVICE_NAME", "svc-from-env");
    std::env::set_var("OTEL_BSP_SCHEDULE_DELAY", "100");

    let mut guard = telemetry::init("svc-arg", "0.1.0").expect("init");
    assert!(guard.is_exporting());
    {
        let span = tracing::info_span!("http_exported");
        let _e = span.enter();
        tracing::info!("inside");
    }
    guard.flush().expect("flush");
    assert!(
        receiver.wait_for(
            |s| s.iter().any(|s| s.name == "http_exported"),
            Duration::from_secs(10)
        ),
        "spans: {:?}",
        receiver.spans()
    );
    let span = receiver
        .spans()
        .into_iter()
        .find(|s| s.name == "http_exported")
        .unwrap();
    assert_eq!(span.service_name, "svc-from-env");
    assert_eq!(span.parent_span_id, "");
    guard.shutdown().unwrap();
    // Idempotent.
    guard.shutdown().unwrap();
}
