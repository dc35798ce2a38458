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
    // Serve until SIGINT/SIGTERM. An explicit handler matters in a
    // container: as PID 1 the process would otherwise ignore SIGTERM and
    // `docker compose down` would wait for the kill timeout. The handlers
    // are installed before any port opens: a SIGTERM sent as soon as a
    // client can connect must find them (it once killed the process
    // instead, in CI).
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
    let stop = {
        let _in_runtime = signals.enter();
        Stop::install()
    };
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
    signals.block_on(stop.wait());
    eprintln!(
        "taonet-otlp-receiver: stopping after {} spans",
        receiver.spans().len()
    );
    receiver.shutdown();
    std::process::ExitCode::SUCCESS
}

/// The stop signals, registered with the OS when installed.
#[cfg(unix)]
struct Stop {
    term: Option<tokio::signal::unix::Signal>,
    int: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl Stop {
    /// Must run inside the runtime (it registers with its driver).
    fn install() -> Self {
        use tokio::signal::unix::{signal, SignalKind};
        Stop {
            term: signal(SignalKind::terminate()).ok(),
            int: signal(SignalKind::interrupt()).ok(),
        }
    }

    async fn wait(mut self) {
        async fn next(s: &mut Option<tokio::signal::unix::Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        if self.term.is_none() && self.int.is_none() {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
        tokio::select! {
            _ = next(&mut self.term) => {}
            _ = next(&mut self.int) => {}
        }
    }
}

#[cfg(not(unix))]
struct Stop;

#[cfg(not(unix))]
impl Stop {
    fn install() -> Self {
        Stop
    }

    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
