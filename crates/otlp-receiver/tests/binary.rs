//! The `taonet-otlp-receiver` binary starts, serves the query API and
//! writes the JSON-lines file.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

struct Kill(std::process::Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn binary_serves_spans_as_json() {
    let (grpc, query) = (free_port(), free_port());
    let out = std::env::temp_dir().join(format!("otlp-bin-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&out);
    let _child = Kill(
        Command::new(env!("CARGO_BIN_EXE_taonet-otlp-receiver"))
            .args(["--grpc", &format!("127.0.0.1:{grpc}")])
            .args(["--http-query", &format!("127.0.0.1:{query}")])
            .arg("--out")
            .arg(&out)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while get(query, "/health").is_none() {
        assert!(Instant::now() < deadline, "binary did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut client = TraceServiceClient::connect(format!("http://127.0.0.1:{grpc}"))
            .await
            .unwrap();
        client
            .export(ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    scope_spans: vec![ScopeSpans {
                        spans: vec![Span {
                            trace_id: vec![9; 16],
                            span_id: vec![8; 8],
                            name: "from-bin".into(),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            })
            .await
            .unwrap();
    });

    let body = get(query, "/api/spans").unwrap();
    assert!(body.contains("\"name\":\"from-bin\""), "{body}");
    let lines = std::fs::read_to_string(&out).unwrap();
    assert_eq!(lines.lines().count(), 1);
    assert!(lines.contains(&"09".repeat(16)));
    let _ = std::fs::remove_file(&out);
}

#[cfg(unix)]
#[test]
fn binary_exits_on_sigterm() {
    let grpc = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_taonet-otlp-receiver"))
        .args(["--grpc", &format!("127.0.0.1:{grpc}")])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", grpc)).is_err() {
        assert!(Instant::now() < deadline, "binary did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("binary ignored SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
