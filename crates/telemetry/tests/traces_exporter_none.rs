//! OTEL_TRACES_EXPORTER=none wins over a configured endpoint.

use std::time::Duration;

use otlp_receiver::OtlpReceiver;

#[test]
fn exporter_none_sends_nothing() {
    let receiver = OtlpReceiver::start("127.0.0.1:0".parse().unwrap()).unwrap();
    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint());
    std::env::set_var("OTEL_TRACES_EXPORTER", "none");
    std::env::set_var("OTEL_BSP_SCHEDULE_DELAY", "50");
    let mut guard = telemetry::init("svc-none", "0.0.1").expect("init");
    assert!(!guard.is_exporting());
    {
        let span = tracing::info_span!("not_exported");
        let _e = span.enter();
    }
    guard.shutdown().unwrap();
    assert!(!receiver.wait_for(|s| !s.is_empty(), Duration::from_millis(500)));
}
