//! The guard may be dropped inside a current-thread Tokio runtime (the
//! typical `#[tokio::main(flavor = "current_thread")]` service) without
//! deadlocking, and the spans still arrive.

use std::time::Duration;

use otlp_receiver::OtlpReceiver;

#[tokio::test(flavor = "current_thread")]
async fn drop_guard_inside_current_thread_runtime() {
    let receiver = OtlpReceiver::start("127.0.0.1:0".parse().unwrap()).unwrap();
    std::env::remove_var("OTEL_TRACES_EXPORTER");
    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint());
    // A long delay: only the shutdown flush can deliver the span in time.
    std::env::set_var("OTEL_BSP_SCHEDULE_DELAY", "60000");
    let guard = telemetry::init("svc-async", "0.0.1").expect("init");
    async {
        tokio::task::yield_now().await;
    }
    .await;
    {
        let span = tracing::info_span!("async_op");
        let _e = span.enter();
    }
    drop(guard);
    assert!(receiver.wait_for(
        |s| s.iter().any(|s| s.name == "async_op"),
        Duration::from_secs(10)
    ));
}
