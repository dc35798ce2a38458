//! An in-process OTLP trace receiver: the test double that stands in for
//! Jaeger (or an OpenTelemetry collector) in taonet's tests and in the
//! docker-compose test override.
//!
//! - [`OtlpReceiver`]: starts an OTLP/gRPC `TraceService` (and optionally an
//!   HTTP listener for OTLP/HTTP `POST /v1/traces` plus the JSON query API
//!   `GET /api/spans`, `GET /api/traces`) on its own Tokio runtime, so it
//!   works from plain `#[test]` functions and never shares a runtime with
//!   the code under test (whose shutdown may block its own runtime).
//! - [`ReceivedSpan`]: the flattened, serde-friendly form of one received
//!   span (hex ids, service name from the resource, attributes as strings).
//! - [`traces`] / [`is_connected`]: grouping spans into traces and checking
//!   that a trace forms one tree, which is what the distributed-tracing
//!   assertions of the end-to-end tests come down to.
//! - `http` (private): the tiny hand-rolled HTTP/1.1 responder.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use serde::{Deserialize, Serialize};

mod http;

/// One span as the receiver stores and serves it.
///
/// Ids are lowercase hex (32 chars for a trace id, 16 for span ids), the
/// form Jaeger and `traceparent` use, so assertions can compare them with
/// propagated headers directly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedSpan {
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    pub name: String,
    /// `service.name` of the resource that exported the span.
    pub service_name: String,
    pub start_unix_nanos: u64,
    pub end_unix_nanos: u64,
    /// Span attributes, every value rendered as a string.
    pub attributes: BTreeMap<String, String>,
    /// Resource attributes of the exporting process (service.version,
    /// service.instance.id, ...), values rendered as strings.
    #[serde(default)]
    pub resource_attributes: BTreeMap<String, String>,
}

/// Why the receiver could not start.
#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    #[error("cannot build the receiver runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open span output file {path}: {source}")]
    OutFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Where the receiver listens and what it writes.
#[derive(Clone, Debug)]
pub struct ReceiverConfig {
    /// OTLP/gRPC listener (port 0 picks a free port).
    pub grpc: SocketAddr,
    /// HTTP listener serving `POST /v1/traces` and the query API.
    pub http_query: Option<SocketAddr>,
    /// A second HTTP listener with the same routes, for the conventional
    /// OTLP/HTTP port (4318) next to Jaeger's query port (16686).
    pub http_otlp: Option<SocketAddr>,
    /// Append every received span as one JSON line to this file.
    pub out: Option<PathBuf>,
}

impl ReceiverConfig {
    /// gRPC only, on `grpc`.
    pub fn grpc(grpc: SocketAddr) -> Self {
        ReceiverConfig {
            grpc,
            http_query: None,
            http_otlp: None,
            out: None,
        }
    }
}

/// Shared span store: appended to by the listeners, read by the test.
pub(crate) struct Store {
    spans: Mutex<Vec<ReceivedSpan>>,
    changed: Condvar,
    out: Option<Mutex<File>>,
}

impl Store {
    fn lock(&self) -> MutexGuard<'_, Vec<ReceivedSpan>> {
        // A panic while holding the lock cannot leave the Vec inconsistent
        // (we only push), so a poisoned lock is still usable.
        self.spans.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn snapshot(&self) -> Vec<ReceivedSpan> {
        self.lock().clone()
    }

    /// Flattens and stores an export request; returns the number of spans.
    pub(crate) fn ingest(&self, request: ExportTraceServiceRequest) -> usize {
        let spans = flatten(request);
        let n = spans.len();
        if let Some(out) = &self.out {
            let mut file = out.lock().unwrap_or_else(|e| e.into_inner());
            for span in &spans {
                if let Ok(line) = serde_json::to_string(span) {
                    if let Err(err) = writeln!(file, "{line}") {
                        tracing::warn!(%err, "cannot append span to output file");
                    }
                }
            }
            let _ = file.flush();
        }
        self.lock().extend(spans);
        self.changed.notify_all();
        n
    }
}

/// A running receiver. Dropping it stops the listeners.
pub struct OtlpReceiver {
    store: Arc<Store>,
    grpc_addr: SocketAddr,
    http_query_addr: Option<SocketAddr>,
    http_otlp_addr: Option<SocketAddr>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for OtlpReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpReceiver")
            .field("grpc_addr", &self.grpc_addr)
            .field("http_query_addr", &self.http_query_addr)
            .field("http_otlp_addr", &self.http_otlp_addr)
            .finish_non_exhaustive()
    }
}

impl OtlpReceiver {
    /// Starts a gRPC-only receiver on `addr` (port 0 allowed).
    pub fn start(addr: SocketAddr) -> Result<OtlpReceiver, ReceiverError> {
        Self::start_with(ReceiverConfig::grpc(addr))
    }

    /// Starts a receiver with the given listeners. Binding happens before
    /// this returns, so the endpoints are connectable immediately.
    pub fn start_with(config: ReceiverConfig) -> Result<OtlpReceiver, ReceiverError> {
        let out = match &config.out {
            Some(path) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|source| ReceiverError::OutFile {
                        path: path.clone(),
                        source,
                    })?,
            )),
            None => None,
        };
        let store = Arc::new(Store {
            spans: Mutex::new(Vec::new()),
            changed: Condvar::new(),
            out,
        });

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("otlp-receiver")
            .enable_all()
            .build()
            .map_err(ReceiverError::Runtime)?;

        // Bind synchronously with std (no `block_on`, so `start` also works
        // from inside an async test), then hand the sockets to Tokio.
        let _enter = runtime.enter();
        let bind = |addr: SocketAddr| {
            std::net::TcpListener::bind(addr)
                .and_then(|l| {
                    l.set_nonblocking(true)?;
                    tokio::net::TcpListener::from_std(l)
                })
                .map_err(|source| ReceiverError::Bind { addr, source })
        };
        let local = |l: &tokio::net::TcpListener, addr: SocketAddr| {
            l.local_addr()
                .map_err(|source| ReceiverError::Bind { addr, source })
        };

        let grpc_listener = bind(config.grpc)?;
        let grpc_addr = local(&grpc_listener, config.grpc)?;
        let service = TraceServiceServer::new(GrpcTraceService {
            store: store.clone(),
        });
        runtime.spawn(async move {
            let incoming = tokio_stream::wrappers::TcpListenerStream::new(grpc_listener);
            if let Err(err) = tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(incoming)
                .await
            {
                tracing::error!(%err, "OTLP gRPC server stopped");
            }
        });

        let mut http_addrs = [None, None];
        for (slot, addr) in http_addrs
            .iter_mut()
            .zip([config.http_query, config.http_otlp])
        {
            if let Some(addr) = addr {
                let listener = bind(addr)?;
                *slot = Some(local(&listener, addr)?);
                runtime.spawn(http::serve(listener, store.clone()));
            }
        }

        drop(_enter);
        Ok(OtlpReceiver {
            store,
            grpc_addr,
            http_query_addr: http_addrs[0],
            http_otlp_addr: http_addrs[1],
            runtime: Some(runtime),
        })
    }

    /// The gRPC endpoint as an OTLP exporter wants it:
    /// `http://127.0.0.1:PORT` (an unspecified bind address is reported as
    /// loopback, since that is where a local exporter must connect).
    pub fn endpoint(&self) -> String {
        endpoint_url(self.grpc_addr)
    }

    /// Bound gRPC address.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// Base URL of the HTTP query listener (serves `/api/spans` and
    /// `/v1/traces`), when configured.
    pub fn http_query_endpoint(&self) -> Option<String> {
        self.http_query_addr.map(endpoint_url)
    }

    /// Base URL of the OTLP/HTTP listener, when configured.
    pub fn http_otlp_endpoint(&self) -> Option<String> {
        self.http_otlp_addr.map(endpoint_url)
    }

    /// Every span received so far, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.store.snapshot()
    }

    /// Forgets every span received so far.
    pub fn clear(&self) {
        self.store.lock().clear();
    }

    /// Blocks until `pred` holds for the received spans or `timeout`
    /// passes; returns whether it held. Exports arrive asynchronously
    /// (batch processors flush on a timer), so tests poll rather than
    /// assert once.
    pub fn wait_for<F>(&self, mut pred: F, timeout: Duration) -> bool
    where
        F: FnMut(&[ReceivedSpan]) -> bool,
    {
        let deadline = Instant::now() + timeout;
        let mut spans = self.store.lock();
        loop {
            if pred(&spans) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            spans = self
                .store
                .changed
                .wait_timeout(spans, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Stops the listeners. Equivalent to dropping the receiver.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            // `shutdown_background` does not block, so this is safe inside
            // an async context too (a plain drop of a runtime there panics).
            rt.shutdown_background();
        }
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.stop();
    }
}

fn endpoint_url(addr: SocketAddr) -> String {
    let ip = if addr.ip().is_unspecified() {
        std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
    } else {
        addr.ip()
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

struct GrpcTraceService {
    store: Arc<Store>,
}

#[tonic::async_trait]
impl TraceService for GrpcTraceService {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.store.ingest(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// Flattens an export request into [`ReceivedSpan`]s.
pub fn flatten(request: ExportTraceServiceRequest) -> Vec<ReceivedSpan> {
    let mut out = Vec::new();
    for rs in request.resource_spans {
        let resource_attributes = rs
            .resource
            .map(|r| attributes_to_map(&r.attributes))
            .unwrap_or_default();
        let service_name = resource_attributes
            .get("service.name")
            .cloned()
            .unwrap_or_default();
        for ss in rs.scope_spans {
            for span in ss.spans {
                out.push(ReceivedSpan {
                    trace_id: hex::encode(&span.trace_id),
                    span_id: hex::encode(&span.span_id),
                    parent_span_id: if span.parent_span_id.iter().all(|b| *b == 0) {
                        String::new()
                    } else {
                        hex::encode(&span.parent_span_id)
                    },
                    name: span.name,
                    service_name: service_name.clone(),
                    start_unix_nanos: span.start_time_unix_nano,
                    end_unix_nanos: span.end_time_unix_nano,
                    attributes: attributes_to_map(&span.attributes),
                    resource_attributes: resource_attributes.clone(),
                });
            }
        }
    }
    out
}

fn attributes_to_map(kvs: &[KeyValue]) -> BTreeMap<String, String> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), any_value_to_string(kv.value.as_ref())))
        .collect()
}

fn any_value_to_string(value: Option<&AnyValue>) -> String {
    use any_value::Value;
    match value.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(Value::BytesValue(b)) => hex::encode(b),
        Some(Value::ArrayValue(a)) => {
            let items: Vec<String> = a
                .values
                .iter()
                .map(|v| any_value_to_string(Some(v)))
                .collect();
            format!("[{}]", items.join(","))
        }
        Some(Value::KvlistValue(kv)) => {
            let items: Vec<String> = kv
                .values
                .iter()
                .map(|kv| format!("{}={}", kv.key, any_value_to_string(kv.value.as_ref())))
                .collect();
            format!("{{{}}}", items.join(","))
        }
        #[allow(unreachable_patterns)]
        Some(_) => String::new(),
    }
}

/// Groups spans by trace id; within a trace, spans are ordered by start
/// time (then span id, for a stable order).
pub fn traces(spans: &[ReceivedSpan]) -> BTreeMap<String, Vec<ReceivedSpan>> {
    let mut map: BTreeMap<String, Vec<ReceivedSpan>> = BTreeMap::new();
    for span in spans {
        map.entry(span.trace_id.clone())
            .or_default()
            .push(span.clone());
    }
    for trace in map.values_mut() {
        trace.sort_by(|a, b| {
            (a.start_unix_nanos, &a.span_id).cmp(&(b.start_unix_nanos, &b.span_id))
        });
    }
    map
}

/// Whether `trace` is one tree: exactly one root (no parent), and every
/// other span's parent is a span of the same trace. A trace broken by a
/// lost `traceparent` shows up as a second root (or a different trace id);
/// a trace with an exported child but a dropped parent shows up as a
/// dangling parent id.
pub fn is_connected(trace: &[ReceivedSpan]) -> bool {
    if trace.is_empty() {
        return false;
    }
    let trace_id = &trace[0].trace_id;
    if trace.iter().any(|s| &s.trace_id != trace_id) {
        return false;
    }
    let ids: std::collections::BTreeSet<&str> = trace.iter().map(|s| s.span_id.as_str()).collect();
    let roots = trace.iter().filter(|s| s.parent_span_id.is_empty()).count();
    roots == 1
        && trace
            .iter()
            .filter(|s| !s.parent_span_id.is_empty())
            .all(|s| ids.contains(s.parent_span_id.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(trace: &str, id: &str, parent: &str) -> ReceivedSpan {
        ReceivedSpan {
            trace_id: trace.into(),
            span_id: id.into(),
            parent_span_id: parent.into(),
            name: id.into(),
            service_name: "svc".into(),
            start_unix_nanos: 0,
            end_unix_nanos: 0,
            attributes: BTreeMap::new(),
            resource_attributes: BTreeMap::new(),
        }
    }

    #[test]
    fn connected_tree() {
        let t = [
            s("t", "a", ""),
            s("t", "b", "a"),
            s("t", "c", "b"),
            s("t", "d", "a"),
        ];
        assert!(is_connected(&t));
    }

    #[test]
    fn two_roots_is_not_connected() {
        assert!(!is_connected(&[s("t", "a", ""), s("t", "b", "")]));
    }

    #[test]
    fn dangling_parent_is_not_connected() {
        assert!(!is_connected(&[s("t", "a", ""), s("t", "b", "zz")]));
    }

    #[test]
    fn no_root_or_empty_or_mixed_traces_are_not_connected() {
        assert!(!is_connected(&[]));
        assert!(!is_connected(&[s("t", "a", "b"), s("t", "b", "a")]));
        assert!(!is_connected(&[s("t", "a", ""), s("u", "b", "a")]));
    }

    #[test]
    fn traces_groups_and_orders() {
        let mut late = s("t", "b", "a");
        late.start_unix_nanos = 5;
        let spans = vec![late, s("u", "x", ""), s("t", "a", "")];
        let map = traces(&spans);
        assert_eq!(map.len(), 2);
        let t: Vec<_> = map["t"].iter().map(|s| s.span_id.as_str()).collect();
        assert_eq!(t, ["a", "b"]);
    }

    #[test]
    fn endpoint_reports_loopback_for_unspecified_bind() {
        assert_eq!(
            endpoint_url("0.0.0.0:4317".parse().unwrap()),
            "http://127.0.0.1:4317"
        );
        assert_eq!(endpoint_url("[::1]:9".parse().unwrap()), "http://[::1]:9");
    }

    #[test]
    fn all_zero_parent_is_root() {
        use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: None,
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        trace_id: vec![1; 16],
                        span_id: vec![2; 8],
                        parent_span_id: vec![0; 8],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                schema_url: String::new(),
            }],
        };
        let spans = flatten(req);
        assert_eq!(spans[0].parent_span_id, "");
        assert_eq!(spans[0].service_name, "");
    }
}
