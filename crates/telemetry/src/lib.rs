//! Tracing and OpenTelemetry export; W3C trace context in NATS headers and envelopes.
//!
//! - [`init`]: installs the process-wide `tracing` subscriber (fmt layer to
//!   stderr, text or JSON lines, filtered by `RUST_LOG`) and the OpenTelemetry
//!   layer, exporting OTLP (gRPC, or http/protobuf) when the standard
//!   `OTEL_*` variables ask for it. Returns a [`TelemetryGuard`] whose drop
//!   flushes the exporter.
//! - [`ExportSettings`]: the pure reading of the `OTEL_*` variables that
//!   decides whether and how spans are exported (unit tested without a
//!   global subscriber).
//! - Propagation: [`inject_nats`] / [`extract_nats`] / [`set_parent_from_nats`]
//!   carry the W3C `traceparent`/`tracestate` in NATS headers;
//!   [`current_trace_context`] / [`set_parent_from_trace_context`] carry it in
//!   [`envelope::TraceContext`], so a replayed event still links to the
//!   operation that produced it.
//!
//! The OpenTelemetry layer is installed even when nothing is exported: spans
//! then still get real trace and span ids, so a service that does not export
//! still forwards the caller's `traceparent` and does not break the trace of
//! the services around it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Queue size of the batch span processor unless `OTEL_BSP_MAX_QUEUE_SIZE`
/// says otherwise. The SDK default (2,048) drops spans under load-test
/// rates before the exporter catches up.
pub const DEFAULT_BSP_MAX_QUEUE_SIZE: usize = 65_536;

/// Filter for spans that reach the OpenTelemetry layer unless
/// `TAONET_TRACE_FILTER` says otherwise. The transport crates are switched
/// off so the exporter does not trace its own exports (a feedback loop).
pub const DEFAULT_TRACE_FILTER: &str = "info,h2=off,hyper=off,hyper_util=off,tonic=off,tower=off,\
reqwest=off,opentelemetry=off,opentelemetry_sdk=off,opentelemetry_otlp=off";

/// Log filter unless `RUST_LOG` says otherwise: `info`, with the
/// OpenTelemetry crates' own start-up chatter held to warnings.
pub const DEFAULT_LOG_FILTER: &str =
    "info,opentelemetry=warn,opentelemetry_sdk=warn,opentelemetry_otlp=warn";

/// Name of the instrumentation scope of every taonet span.
const TRACER_NAME: &str = "taonet";

static INITIALIZED: AtomicBool = AtomicBool::new(false);

/// Why telemetry could not be set up or shut down.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// [`init`] already ran in this process (the subscriber is global).
    #[error("telemetry is already initialised in this process")]
    AlreadyInitialized,
    /// Some other code installed a global `tracing` subscriber first.
    #[error("a global tracing subscriber is already installed: {0}")]
    SubscriberAlreadySet(String),
    /// `RUST_LOG` or `TAONET_TRACE_FILTER` is not a valid filter.
    #[error("invalid filter in {var}: {reason}")]
    InvalidFilter { var: &'static str, reason: String },
    /// The `OTEL_*` configuration names something unsupported.
    #[error("unsupported OpenTelemetry configuration: {0}")]
    Config(String),
    /// The OTLP exporter could not be built.
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// The private export runtime could not be started.
    #[error("cannot start the telemetry export runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// Flushing or shutting down the tracer provider failed.
    #[error("telemetry shutdown failed: {0}")]
    Shutdown(String),
}

/// OTLP transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtlpProtocol {
    Grpc,
    HttpProtobuf,
}

/// Whether and how spans are exported, as the standard `OTEL_*` variables
/// say. Endpoint, headers, timeout and the batch-processor variables are
/// read by the OpenTelemetry crates themselves; this covers the decisions
/// they leave to the application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportSettings {
    /// `None`: no exporter (nothing configured, or `OTEL_TRACES_EXPORTER=none`).
    pub protocol: Option<OtlpProtocol>,
}

impl ExportSettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, TelemetryError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the settings through `get` (a variable lookup), so the rules
    /// can be tested without touching the process environment.
    pub fn from_lookup<F>(get: F) -> Result<Self, TelemetryError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let set = |k: &str| get(k).is_some_and(|v| !v.trim().is_empty());
        let exporter = get("OTEL_TRACES_EXPORTER").unwrap_or_default();
        let exporter = exporter.trim().to_ascii_lowercase();
        if exporter == "none" {
            return Ok(ExportSettings { protocol: None });
        }
        if !(exporter.is_empty() || exporter == "otlp") {
            return Err(TelemetryError::Config(format!(
                "OTEL_TRACES_EXPORTER={exporter} (only otlp and none are supported)"
            )));
        }
        if !set("OTEL_EXPORTER_OTLP_ENDPOINT") && !set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            return Ok(ExportSettings { protocol: None });
        }
        let protocol = get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            .filter(|v| !v.trim().is_empty())
            .or_else(|| get("OTEL_EXPORTER_OTLP_PROTOCOL"))
            .unwrap_or_default();
        let protocol = match protocol.trim().to_ascii_lowercase().as_str() {
            "" | "grpc" => OtlpProtocol::Grpc,
            "http/protobuf" => OtlpProtocol::HttpProtobuf,
            other => {
                return Err(TelemetryError::Config(format!(
                    "OTLP protocol {other} (supported: grpc, http/protobuf)"
                )))
            }
        };
        Ok(ExportSettings {
            protocol: Some(protocol),
        })
    }
}

/// Keeps the tracer provider alive; dropping it (or [`shutdown`]) flushes
/// queued spans to the exporter and shuts the provider down.
///
/// Shutdown never depends on the caller's Tokio runtime: the gRPC exporter
/// runs on a small private runtime owned by the guard, so dropping the
/// guard inside `#[tokio::main]`, a current-thread runtime or plain `main`
/// all work.
///
/// [`shutdown`]: TelemetryGuard::shutdown
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
    runtime: Option<tokio::runtime::Runtime>,
    exporting: bool,
}

impl std::fmt::Debug for TelemetryGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryGuard")
            .field("exporting", &self.exporting)
            .field("shut_down", &self.provider.is_none())
            .finish()
    }
}

impl TelemetryGuard {
    /// Whether spans are exported over OTLP.
    pub fn is_exporting(&self) -> bool {
        self.exporting
    }

    /// Sends every span ended so far without shutting down.
    pub fn flush(&self) -> Result<(), TelemetryError> {
        match &self.provider {
            Some(p) => p
                .force_flush()
                .map_err(|e| TelemetryError::Shutdown(e.to_string())),
            None => Ok(()),
        }
    }

    /// Flushes and shuts the provider down. Spans ended afterwards are
    /// dropped. Idempotent.
    pub fn shutdown(&mut self) -> Result<(), TelemetryError> {
        let result = match self.provider.take() {
            Some(p) => p
                .shutdown()
                .map_err(|e| TelemetryError::Shutdown(e.to_string())),
            None => Ok(()),
        };
        if let Some(rt) = self.runtime.take() {
            // Non-blocking, so it is allowed inside an async context.
            rt.shutdown_background();
        }
        result
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Err(err) = self.shutdown() {
            eprintln!("telemetry: {err}");
        }
    }
}

/// Installs the global `tracing` subscriber and OpenTelemetry pipeline.
///
/// - Logs: fmt layer on stderr, filter from `RUST_LOG` (default
///   [`DEFAULT_LOG_FILTER`], i.e. `info`),
///   JSON lines when `TAONET_LOG_FORMAT=json`.
/// - Traces: exported over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` or
///   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set and `OTEL_TRACES_EXPORTER`
///   is not `none`; gRPC unless `OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`.
///   Spans reaching the exporter are filtered by `TAONET_TRACE_FILTER`
///   (default [`DEFAULT_TRACE_FILTER`]), independently of `RUST_LOG`, so
///   quieting logs does not cut traces.
/// - Resource: `service.name` (`OTEL_SERVICE_NAME` wins over
///   `service_name`), `service.version`, `service.instance.id`
///   (`hostname-pid`), then `OTEL_RESOURCE_ATTRIBUTES`.
/// - Sampling: `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` (parsed by
///   the SDK; default `parentbased_always_on`).
/// - Batching: queue of [`DEFAULT_BSP_MAX_QUEUE_SIZE`] unless
///   `OTEL_BSP_MAX_QUEUE_SIZE` is set; `OTEL_BSP_SCHEDULE_DELAY`,
///   `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, `OTEL_BSP_EXPORT_TIMEOUT` honoured.
/// - Propagation: the W3C TraceContext propagator is installed globally.
///
/// May be called from inside or outside a Tokio runtime. A second call in
/// the same process returns [`TelemetryError::AlreadyInitialized`].
pub fn init(service_name: &str, service_version: &str) -> Result<TelemetryGuard, TelemetryError> {
    if INITIALIZED
        .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        return Err(TelemetryError::AlreadyInitialized);
    }
    let result = init_inner(service_name, service_version);
    if result.is_err() {
        // Nothing global was installed, so a corrected retry may proceed.
        INITIALIZED.store(false, Ordering::SeqCst);
    }
    result
}

fn init_inner(service_name: &str, service_version: &str) -> Result<TelemetryGuard, TelemetryError> {
    let log_filter = filter_from_env("RUST_LOG", DEFAULT_LOG_FILTER)?;
    let trace_filter = filter_from_env("TAONET_TRACE_FILTER", DEFAULT_TRACE_FILTER)?;
    let settings = ExportSettings::from_env()?;

    let resource = build_resource(service_name, service_version);
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    let mut runtime = None;
    if let Some(protocol) = settings.protocol {
        let exporter = match protocol {
            OtlpProtocol::Grpc => {
                // tonic's channel spawns its connection tasks on the runtime
                // current at build time; give it a private one so export and
                // shutdown never wait on the application's runtime.
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("otel-export")
                    .enable_all()
                    .build()
                    .map_err(TelemetryError::Runtime)?;
                let built = {
                    let _enter = rt.enter();
                    SpanExporter::builder()
                        .with_tonic()
                        .with_protocol(opentelemetry_otlp::Protocol::Grpc)
                        .build()
                };
                match built {
                    Ok(exporter) => {
                        runtime = Some(rt);
                        exporter
                    }
                    Err(err) => {
                        // A plain drop of a runtime panics inside async code.
                        rt.shutdown_background();
                        return Err(err.into());
                    }
                }
            }
            OtlpProtocol::HttpProtobuf => SpanExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .build()?,
        };
        let mut batch = BatchConfigBuilder::default();
        if std::env::var_os("OTEL_BSP_MAX_QUEUE_SIZE").is_none() {
            batch = batch.with_max_queue_size(DEFAULT_BSP_MAX_QUEUE_SIZE);
        }
        let processor = BatchSpanProcessor::builder(exporter)
            .with_batch_config(batch.build())
            .build();
        builder = builder.with_span_processor(processor);
    }
    let provider = builder.build();
    let tracer = provider.tracer(TRACER_NAME);

    let fmt_layer =
        if std::env::var("TAONET_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json")) {
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(std::io::stderr)
                .boxed()
        } else {
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .boxed()
        };
    let otel_layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(trace_filter);

    let installed = tracing_subscriber::registry()
        .with(fmt_layer.with_filter(log_filter))
        .with(otel_layer)
        .try_init();
    if let Err(err) = installed {
        let _ = provider.shutdown();
        if let Some(rt) = runtime {
            rt.shutdown_background();
        }
        return Err(TelemetryError::SubscriberAlreadySet(err.to_string()));
    }

    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    opentelemetry::global::set_tracer_provider(provider.clone());

    Ok(TelemetryGuard {
        provider: Some(provider),
        runtime,
        exporting: settings.protocol.is_some(),
    })
}

fn filter_from_env(var: &'static str, default: &str) -> Result<EnvFilter, TelemetryError> {
    let spec = std::env::var(var)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned());
    EnvFilter::try_new(&spec).map_err(|e| TelemetryError::InvalidFilter {
        var,
        reason: e.to_string(),
    })
}

/// `service.instance.id`: distinguishes replicas of one service (several
/// containers, or several processes on one host).
pub fn instance_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .or_else(|_| std::fs::read_to_string("/etc/hostname"))
                .ok()
        })
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned());
    format!("{host}-{}", std::process::id())
}

/// Resource precedence, lowest first: the arguments, then
/// `OTEL_RESOURCE_ATTRIBUTES`, then `OTEL_SERVICE_NAME` (for `service.name`).
fn build_resource(service_name: &str, service_version: &str) -> Resource {
    use opentelemetry_sdk::resource::{EnvResourceDetector, TelemetryResourceDetector};
    // Each later step overrides keys of the earlier ones.
    let mut builder = Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_attributes([
            KeyValue::new("service.name", service_name.to_owned()),
            KeyValue::new("service.version", service_version.to_owned()),
            KeyValue::new("service.instance.id", instance_id()),
        ])
        .with_detector(Box::new(EnvResourceDetector::new()));
    if let Some(name) = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|n| !n.trim().is_empty())
    {
        builder = builder.with_service_name(name);
    }
    builder.build()
}

// ---------------------------------------------------------------------------
// Propagation
// ---------------------------------------------------------------------------

/// W3C TraceContext is the wire contract between taonet services, so the
/// helpers use it directly rather than whatever global propagator is set
/// (which is a no-op until [`init`] runs).
fn propagator() -> TraceContextPropagator {
    TraceContextPropagator::new()
}

struct NatsInjector<'a>(&'a mut async_nats::HeaderMap);

impl Injector for NatsInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key, value);
    }
}

struct NatsExtractor<'a>(&'a async_nats::HeaderMap);

impl Extractor for NatsExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        if let Some(v) = self.0.get(key) {
            return Some(v.as_str());
        }
        // NATS header names are case-sensitive; accept `Traceparent` etc.
        // from clients that capitalise.
        self.0
            .iter()
            .find(|(name, _)| AsRef::<str>::as_ref(*name).eq_ignore_ascii_case(key))
            .and_then(|(_, values)| values.first())
            .map(|v| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| name.as_ref()).collect()
    }
}

/// Writes `traceparent` (and `tracestate`, when non-empty) of the current
/// `tracing` span into NATS headers. Does nothing when there is no valid
/// span context (no span, or telemetry not initialised).
pub fn inject_nats(headers: &mut async_nats::HeaderMap) {
    inject_nats_from_span(&tracing::Span::current(), headers);
}

/// Like [`inject_nats`], for a span that is not the current one.
pub fn inject_nats_from_span(span: &tracing::Span, headers: &mut async_nats::HeaderMap) {
    let cx = span.context();
    if cx.span().span_context().is_valid() {
        propagator().inject_context(&cx, &mut NatsInjector(headers));
    }
}

/// Reads the remote parent context from NATS headers. The result carries
/// an invalid span context when the headers have no valid `traceparent`.
pub fn extract_nats(headers: &async_nats::HeaderMap) -> Context {
    propagator().extract(&NatsExtractor(headers))
}

/// Makes `span` a child of the remote span named by the NATS headers.
///
/// Call before the span is entered. Returns whether a remote parent was
/// attached; without a valid `traceparent` the span keeps its local parent
/// (it is *not* turned into a root).
pub fn set_parent_from_nats(span: &tracing::Span, headers: &async_nats::HeaderMap) -> bool {
    set_parent(span, extract_nats(headers))
}

/// The W3C trace context of the current `tracing` span, to store in an
/// [`envelope::Envelope`]. `None` when there is no valid span context.
pub fn current_trace_context() -> Option<envelope::TraceContext> {
    trace_context_of(&tracing::Span::current())
}

/// Like [`current_trace_context`], for a given span.
pub fn trace_context_of(span: &tracing::Span) -> Option<envelope::TraceContext> {
    let cx = span.context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier: HashMap<String, String> = HashMap::new();
    propagator().inject_context(&cx, &mut carrier);
    let traceparent = carrier.remove("traceparent")?;
    Some(envelope::TraceContext {
        traceparent,
        tracestate: carrier.remove("tracestate").unwrap_or_default(),
    })
}

/// Reads the remote parent context from an envelope's trace context.
pub fn extract_trace_context(tc: &envelope::TraceContext) -> Context {
    let mut carrier: HashMap<String, String> = HashMap::new();
    carrier.insert("traceparent".to_owned(), tc.traceparent.clone());
    if !tc.tracestate.is_empty() {
        carrier.insert("tracestate".to_owned(), tc.tracestate.clone());
    }
    propagator().extract(&carrier)
}

/// Makes `span` a child of the span recorded in an envelope. Same rules as
/// [`set_parent_from_nats`].
pub fn set_parent_from_trace_context(span: &tracing::Span, tc: &envelope::TraceContext) -> bool {
    set_parent(span, extract_trace_context(tc))
}

fn set_parent(span: &tracing::Span, cx: Context) -> bool {
    if !cx.span().span_context().is_valid() {
        return false;
    }
    match span.set_parent(cx) {
        Ok(()) => true,
        Err(err) => {
            tracing::debug!(%err, "cannot attach remote parent to span");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn no_endpoint_means_no_export() {
        let s = ExportSettings::from_lookup(lookup(&[])).unwrap();
        assert_eq!(s.protocol, None);
        let s =
            ExportSettings::from_lookup(lookup(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")])).unwrap();
        assert_eq!(s.protocol, None);
    }

    #[test]
    fn endpoint_defaults_to_grpc() {
        let s = ExportSettings::from_lookup(lookup(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://127.0.0.1:4317",
        )]))
        .unwrap();
        assert_eq!(s.protocol, Some(OtlpProtocol::Grpc));
        let s = ExportSettings::from_lookup(lookup(&[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://127.0.0.1:4317",
        )]))
        .unwrap();
        assert_eq!(s.protocol, Some(OtlpProtocol::Grpc));
    }

    #[test]
    fn http_protobuf_selected_by_protocol() {
        let s = ExportSettings::from_lookup(lookup(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ]))
        .unwrap();
        assert_eq!(s.protocol, Some(OtlpProtocol::HttpProtobuf));
        // The signal-specific variable wins.
        let s = ExportSettings::from_lookup(lookup(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
        ]))
        .unwrap();
        assert_eq!(s.protocol, Some(OtlpProtocol::Grpc));
    }

    #[test]
    fn traces_exporter_none_disables_export() {
        let s = ExportSettings::from_lookup(lookup(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ]))
        .unwrap();
        assert_eq!(s.protocol, None);
    }

    #[test]
    fn unsupported_settings_are_typed_errors() {
        let e = ExportSettings::from_lookup(lookup(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ]))
        .unwrap_err();
        assert!(matches!(e, TelemetryError::Config(_)));
        let e = ExportSettings::from_lookup(lookup(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"),
            ("OTEL_TRACES_EXPORTER", "zipkin"),
        ]))
        .unwrap_err();
        assert!(matches!(e, TelemetryError::Config(_)));
    }

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn extract_nats_reads_traceparent() {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("traceparent", TP);
        headers.insert("tracestate", "congo=t61rcWkgMzE");
        let cx = extract_nats(&headers);
        let span = cx.span();
        let sc = span.span_context();
        assert!(sc.is_valid());
        assert!(sc.is_remote());
        assert_eq!(
            sc.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
        assert_eq!(sc.trace_state().header(), "congo=t61rcWkgMzE");
    }

    #[test]
    fn extract_nats_accepts_capitalised_header() {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Traceparent", TP);
        assert!(extract_nats(&headers).span().span_context().is_valid());
    }

    #[test]
    fn extract_without_headers_is_invalid_and_does_not_reparent() {
        let headers = async_nats::HeaderMap::new();
        assert!(!extract_nats(&headers).span().span_context().is_valid());
        let span = tracing::info_span!("x");
        assert!(!set_parent_from_nats(&span, &headers));
    }

    #[test]
    fn envelope_trace_context_round_trips() {
        let tc = envelope::TraceContext {
            traceparent: TP.to_owned(),
            tracestate: String::new(),
        };
        let cx = extract_trace_context(&tc);
        let mut carrier: HashMap<String, String> = HashMap::new();
        propagator().inject_context(&cx, &mut carrier);
        assert_eq!(carrier.get("traceparent").map(String::as_str), Some(TP));
    }

    #[test]
    fn no_span_context_without_subscriber() {
        // No global subscriber in the unit-test binary: nothing to inject.
        assert_eq!(current_trace_context(), None);
        let mut headers = async_nats::HeaderMap::new();
        inject_nats(&mut headers);
        assert!(headers.is_empty());
    }

    #[test]
    fn instance_id_ends_with_pid() {
        assert!(instance_id().ends_with(&format!("-{}", std::process::id())));
    }
}
