//! `taonet-otlp-receiver`: the OTLP test double the docker-compose test
//! override runs in place of Jaeger. Receives OTLP/gRPC (and optionally
//! OTLP/HTTP), serves received spans as JSON at `GET /api/spans` on the
//! query port, and optionally appends each span as a JSON line to a file.
//! Exits cleanly on SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use otlp_receiver::{OtlpReceiver, ReceiverConfig};

#[derive(Debug, Parser)]
#[command(
    name = "taonet-otlp-receiver",
    about = "OTLP trace receiver (Jaeger test double)"
)]
struct Args {
    /// OTLP/gRPC listen address.
    #[arg(long, default_value = "0.0.0.0:4317")]
    grpc: SocketAddr,
    /// HTTP query listener (`GET /api/spans`, `GET /api/traces`, also
    /// accepts `POST /v1/traces`).
    #[arg(long)]
    http_query: Option<SocketAddr>,
    /// OTLP/HTTP listener (`POST /v1/traces`), conventionally port 4318.
    #[arg(long)]
    http_otlp: Option<SocketAddr>,
    /// Append each received span as a JSON line to this file.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let receiver = match OtlpReceiver::start_with(ReceiverConfig {
        grpc: args.grpc,
        http_query: args.http_query,
        http_otlp: args.http_otlp,
        out: args.out,
    }) {
        Ok(r) => r,
        Err(err) => {
            eprintln!("taonet-otlp-receiver: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    eprintln!("taonet-otlp-receiver: OTLP/gRPC on {}", receiver.endpoint());
    if let Some(q) = receiver.http_query_endpoint() {
        eprintln!("taonet-otlp-receiver: query API on {q}/api/spans");
    }
    if let Some(h) = receiver.http_otlp_endpoint() {
        eprintln!("taonet-otlp-receiver: OTLP/HTTP on {h}/v1/traces");
    }
    // Serve until SIGINT/SIGTERM. An explicit handler matters in a
    // container: as PID 1 the process would otherwise ignore SIGTERM and
    // `docker compose down` would wait for the kill timeout.
    let signals = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("taonet-otlp-receiver: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    signals.block_on(wait_for_signal());
    eprintln!(
        "taonet-otlp-receiver: stopping after {} spans",
        receiver.spans().len()
    );
    receiver.shutdown();
    std::process::ExitCode::SUCCESS
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
