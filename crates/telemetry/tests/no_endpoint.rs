//! Without any OTLP endpoint, init works, spans still carry context (so a
//! non-exporting service forwards traceparent), and nothing is exported.

#[test]
fn init_without_endpoint_exports_nothing() {
    for var in [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_TRACES_EXPORTER",
    ] {
        std::env::remove_var(var);
    }
    std::env::set_var("TAONET_LOG_FORMAT", "json");
    let mut guard = telemetry::init("svc-quiet", "0.0.1").expect("init");
    assert!(!guard.is_exporting());
    {
        let span = tracing::info_span!("local_only");
        let _e = span.enter();
        tracing::info!("json log line");
        let tc = telemetry::current_trace_context().expect("context still propagates");
        assert!(tc.traceparent.starts_with("00-"));
        let mut headers = async_nats::HeaderMap::new();
        telemetry::inject_nats(&mut headers);
        assert_eq!(headers.get("traceparent").unwrap().as_str(), tc.traceparent);
    }
    guard.shutdown().expect("shutdown");
    assert!(matches!(
        telemetry::init("svc-quiet", "0.0.1"),
        Err(telemetry::TelemetryError::AlreadyInitialized)
    ));
}
