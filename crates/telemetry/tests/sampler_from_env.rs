//! OTEL_TRACES_SAMPLER is honoured: with `parentbased_traceidratio` and a
//! ratio of 0, new roots are not exported, but a child of a sampled remote
//! parent is (the parent's decision wins).

use std::time::Duration;

use otlp_receiver::OtlpReceiver;

#[test]
fn parentbased_ratio_zero_keeps_only_sampled_remote_children() {
    let receiver = OtlpReceiver::start("127.0.0.1:0".parse().unwrap()).unwrap();
    std::env::remove_var("OTEL_TRACES_EXPORTER");
    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint());
    std::env::set_var("OTEL_TRACES_SAMPLER", "parentbased_traceidratio");
    std::env::set_var("OTEL_TRACES_SAMPLER_ARG", "0");
    std::env::set_var("OTEL_BSP_SCHEDULE_DELAY", "50");
    let mut guard = telemetry::init("svc-sampled", "0.0.1").expect("init");
    {
        let root = tracing::info_span!("unsampled_root");
        let _e = root.enter();
        // Context still propagates, flagged as not sampled.
        let tc = telemetry::current_trace_context().unwrap();
        assert!(tc.traceparent.ends_with("-00"), "{}", tc.traceparent);
    }
    let remote = envelope::TraceContext {
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
        tracestate: String::new(),
    };
    {
        let child = tracing::info_span!("sampled_child");
        assert!(telemetry::set_parent_from_trace_context(&child, &remote));
        let _e = child.enter();
    }
    guard.shutdown().unwrap();
    assert!(receiver.wait_for(|s| !s.is_empty(), Duration::from_secs(10)));
    // Give any straggler a moment, then check exactly what arrived.
    std::thread::sleep(Duration::from_millis(200));
    let spans = receiver.spans();
    assert_eq!(spans.len(), 1, "{spans:?}");
    assert_eq!(spans[0].name, "sampled_child");
    assert_eq!(spans[0].trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(spans[0].parent_span_id, "00f067aa0ba902b7");
}
