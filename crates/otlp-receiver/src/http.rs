//! A deliberately tiny HTTP/1.1 responder over a Tokio `TcpListener`.
//!
//! Routes:
//! - `POST /v1/traces` (`application/x-protobuf`): OTLP/HTTP trace export.
//! - `GET /api/spans[?trace_id=HEX][&service=NAME]`: received spans, JSON.
//! - `GET /api/traces`: received spans grouped by trace id, JSON.
//! - `DELETE /api/spans`: forget received spans.
//! - `GET /health`: `ok`.
//!
//! Keep-alive is supported (the OTLP HTTP client pools connections); chunked
//! request bodies are not, which no OTLP exporter sends.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::Store;

/// Largest request accepted; an export batch of 65,536 spans fits easily.
const MAX_BODY: usize = 64 * 1024 * 1024;
const MAX_HEAD: usize = 64 * 1024;

pub(crate) async fn serve(listener: TcpListener, store: Arc<Store>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(connection(stream, store.clone()));
            }
            Err(err) => {
                tracing::warn!(%err, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

struct Request {
    method: String,
    target: String,
    content_type: String,
    close: bool,
    body: Vec<u8>,
}

struct Response {
    status: &'static str,
    content_type: &'static str,
    body: Vec<u8>,
}

impl Response {
    fn text(status: &'static str, body: &str) -> Self {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.as_bytes().to_vec(),
        }
    }
    fn json(body: Vec<u8>) -> Self {
        Response {
            status: "200 OK",
            content_type: "application/json",
            body,
        }
    }
}

async fn connection(mut stream: TcpStream, store: Arc<Store>) {
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    loop {
        let request = match read_request(&mut stream, &mut buf).await {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(status) => {
                let _ = write_response(&mut stream, &Response::text(status, status), true).await;
                return;
            }
        };
        let close = request.close;
        let response = route(request, &store);
        if write_response(&mut stream, &response, close).await.is_err() || close {
            return;
        }
    }
}

/// Reads one request. `Ok(None)` is a clean EOF between requests; `Err`
/// carries the status line to answer a malformed request with.
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> Result<Option<Request>, &'static str> {
    let head_end = loop {
        if let Some(pos) = find(buf, b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > MAX_HEAD {
            return Err("431 Request Header Fields Too Large");
        }
        let mut chunk = [0u8; 8192];
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|_| "400 Bad Request")?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err("400 Bad Request")
            };
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| "400 Bad Request")?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    let version = request_line.next().unwrap_or_default().to_owned();
    if method.is_empty() || target.is_empty() || !version.starts_with("HTTP/1.") {
        return Err("400 Bad Request");
    }
    let mut content_length = 0usize;
    let mut content_type = String::new();
    let mut close = version == "HTTP/1.0";
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                content_length = value.parse().map_err(|_| "400 Bad Request")?;
            }
            "content-type" => content_type = value.to_ascii_lowercase(),
            "connection" => {
                let v = value.to_ascii_lowercase();
                if v.contains("close") {
                    close = true;
                } else if v.contains("keep-alive") {
                    close = false;
                }
            }
            "transfer-encoding" => return Err("501 Not Implemented"),
            _ => {}
        }
    }
    if content_length > MAX_BODY {
        return Err("413 Payload Too Large");
    }
    let body_start = head_end + 4;
    while buf.len() < body_start + content_length {
        let mut chunk = vec![0u8; 64 * 1024];
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|_| "400 Bad Request")?;
        if n == 0 {
            return Err("400 Bad Request");
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[body_start..body_start + content_length].to_vec();
    buf.drain(..body_start + content_length);
    Ok(Some(Request {
        method,
        target,
        content_type,
        close,
        body,
    }))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn route(request: Request, store: &Store) -> Response {
    let (path, query) = match request.target.split_once('?') {
        Some((p, q)) => (p, q),
        None => (request.target.as_str(), ""),
    };
    match (request.method.as_str(), path) {
        ("POST", "/v1/traces") => {
            if !request.content_type.starts_with("application/x-protobuf") {
                return Response::text(
                    "415 Unsupported Media Type",
                    "only application/x-protobuf is supported",
                );
            }
            match ExportTraceServiceRequest::decode(request.body.as_slice()) {
                Ok(export) => {
                    store.ingest(export);
                    Response {
                        status: "200 OK",
                        content_type: "application/x-protobuf",
                        body: ExportTraceServiceResponse {
                            partial_success: None,
                        }
                        .encode_to_vec(),
                    }
                }
                Err(err) => Response::text("400 Bad Request", &err.to_string()),
            }
        }
        ("GET", "/api/spans") => {
            let mut trace_id = None;
            let mut service = None;
            for pair in query.split('&') {
                match pair.split_once('=') {
                    Some(("trace_id", v)) => trace_id = Some(v.to_ascii_lowercase()),
                    Some(("service", v)) => service = Some(v.to_owned()),
                    _ => {}
                }
            }
            let spans: Vec<_> = store
                .snapshot()
                .into_iter()
                .filter(|s| trace_id.as_ref().is_none_or(|t| &s.trace_id == t))
                .filter(|s| service.as_ref().is_none_or(|n| &s.service_name == n))
                .collect();
            Response::json(serde_json::to_vec(&spans).unwrap_or_default())
        }
        ("GET", "/api/traces") => Response::json(
            serde_json::to_vec(&crate::traces(&store.snapshot())).unwrap_or_default(),
        ),
        ("DELETE", "/api/spans") => {
            store.lock().clear();
            Response::text("200 OK", "cleared")
        }
        ("GET", "/health") => Response::text("200 OK", "ok"),
        _ => Response::text("404 Not Found", "not found"),
    }
}

async fn write_response(
    stream: &mut TcpStream,
    response: &Response,
    close: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
        response.status,
        response.content_type,
        response.body.len(),
        if close { "close" } else { "keep-alive" },
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&response.body).await?;
    stream.flush().await
}
