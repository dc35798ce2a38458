//! The receiver over its real transports: OTLP/gRPC (tonic client),
//! OTLP/HTTP and the JSON query API (raw HTTP/1.1), and the JSON-lines file.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_receiver::{is_connected, traces, OtlpReceiver, ReceivedSpan, ReceiverConfig};
use prost::Message;

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn span(trace: u8, id: u8, parent: Option<u8>, name: &str) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: name.into(),
        start_time_unix_nano: 1_000 + u64::from(id),
        end_time_unix_nano: 2_000 + u64::from(id),
        attributes: vec![
            kv("op", name),
            KeyValue {
                key: "n".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::IntValue(7)),
                }),
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

fn request(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", service), kv("service.version", "9")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            schema_url: String::new(),
        }],
    }
}

fn http(addr: &str, raw: &[u8]) -> (String, Vec<u8>) {
    let host = addr.trim_start_matches("http://");
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(raw).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(out[..split].to_vec()).unwrap();
    (head, out[split + 4..].to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_export_is_stored_and_flattened() {
    let receiver = OtlpReceiver::start("127.0.0.1:0".parse().unwrap()).unwrap();
    assert!(receiver.endpoint().starts_with("http://127.0.0.1:"));
    let mut client = TraceServiceClient::connect(receiver.endpoint())
        .await
        .unwrap();
    client
        .export(request(
            "svc-a",
            vec![span(1, 1, None, "root"), span(1, 2, Some(1), "child")],
        ))
        .await
        .unwrap();
    client
        .export(request("svc-b", vec![span(1, 3, Some(2), "grandchild")]))
        .await
        .unwrap();

    assert!(receiver.wait_for(|s| s.len() == 3, Duration::from_secs(5)));
    let spans = receiver.spans();
    let root = &spans[0];
    assert_eq!(root.trace_id, "01".repeat(16));
    assert_eq!(root.span_id, "01".repeat(8));
    assert_eq!(root.parent_span_id, "");
    assert_eq!(root.service_name, "svc-a");
    assert_eq!(root.attributes["op"], "root");
    assert_eq!(root.attributes["n"], "7");
    assert_eq!(root.resource_attributes["service.version"], "9");
    assert_eq!((root.start_unix_nanos, root.end_unix_nanos), (1_001, 2_001));
    assert_eq!(spans[2].service_name, "svc-b");
    assert_eq!(spans[2].parent_span_id, "02".repeat(8));

    let all = traces(&spans);
    assert_eq!(all.len(), 1);
    assert!(is_connected(&all["01".repeat(16).as_str()]));

    receiver.clear();
    assert!(receiver.spans().is_empty());
    assert!(!receiver.wait_for(|s| !s.is_empty(), Duration::from_millis(50)));
}

#[test]
fn http_otlp_query_api_and_out_file() {
    let dir = std::env::temp_dir().join(format!("otlp-receiver-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("spans.jsonl");
    let _ = std::fs::remove_file(&out);
    let receiver = OtlpReceiver::start_with(ReceiverConfig {
        grpc: "127.0.0.1:0".parse().unwrap(),
        http_query: Some("127.0.0.1:0".parse().unwrap()),
        http_otlp: Some("127.0.0.1:0".parse().unwrap()),
        out: Some(out.clone()),
    })
    .unwrap();
    let otlp = receiver.http_otlp_endpoint().unwrap();
    let query = receiver.http_query_endpoint().unwrap();

    let body = request(
        "svc-h",
        vec![span(5, 1, None, "h-root"), span(5, 2, Some(1), "h-child")],
    )
    .encode_to_vec();
    let mut raw = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(&body);
    let (head, _) = http(&otlp, &raw);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    let (head, body) = http(
        &query,
        b"GET /api/spans HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let spans: Vec<ReceivedSpan> = serde_json::from_slice(&body).unwrap();
    assert_eq!(spans.len(), 2);
    assert_eq!(spans, receiver.spans());

    let trace_id = "05".repeat(16);
    let (_, body) = http(
        &query,
        format!("GET /api/spans?trace_id={trace_id}&service=svc-h HTTP/1.1\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    let filtered: Vec<ReceivedSpan> = serde_json::from_slice(&body).unwrap();
    assert_eq!(filtered.len(), 2);
    let (_, body) = http(
        &query,
        b"GET /api/spans?service=nobody HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    let none: Vec<ReceivedSpan> = serde_json::from_slice(&body).unwrap();
    assert!(none.is_empty());

    let (_, body) = http(
        &query,
        b"GET /api/traces HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    let grouped: std::collections::BTreeMap<String, Vec<ReceivedSpan>> =
        serde_json::from_slice(&body).unwrap();
    assert!(is_connected(&grouped[&trace_id]));

    let (head, _) = http(&query, b"GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    let (head, _) = http(
        &otlp,
        b"POST /v1/traces HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    assert!(head.starts_with("HTTP/1.1 415"), "{head}");

    let lines: Vec<ReceivedSpan> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, spans);
    drop(receiver);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let receiver = OtlpReceiver::start_with(ReceiverConfig {
        http_query: Some("127.0.0.1:0".parse().unwrap()),
        ..ReceiverConfig::grpc("127.0.0.1:0".parse().unwrap())
    })
    .unwrap();
    let host = receiver
        .http_query_endpoint()
        .unwrap()
        .replace("http://", "");
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert_eq!(out.matches("HTTP/1.1 200 OK").count(), 2, "{out}");
}
