//! The `taonet` CLI, as a library so tests can run the same binary logic.
//!
//! - [`cli`]: argument definitions (clap) and dispatch.
//! - [`amount`]: exact TAO <-> RAO text conversion (no floats).
//! - [`client`]: signing commands and talking to services over NATS.
//! - [`wallets`]: `taonet wallet ...`.
//! - [`serve`]: `taonet serve <service>`: one service process.
//! - [`up`]: `taonet up`: nats-server plus all four services on one data dir.
//! - [`replay`]: `taonet replay`: offline state rebuild and digest.
//! - [`calc`]: pure calculators (`calc emission`).
//! - [`sim`]: `taonet sim run`: the simulator (the `sim` crate).
//!
//! Every command prints one JSON object on stdout; errors go to stderr as
//! `error: ...` (and a JSON object with the rejection code where there is
//! one) with a non-zero exit.

pub mod amount;
pub mod calc;
pub mod cli;
pub mod client;
pub mod gov;
pub mod paths;
pub mod replay;
pub mod serve;
pub mod sim;
pub mod stake;
pub mod up;
pub mod wallets;

/// The network genesis file (its own crate so the simulator reads the same
/// type); kept at `taonet::genesis` for existing callers.
pub use network_genesis as genesis;

use std::process::ExitCode;

/// Runs the CLI with the process arguments.
pub fn main_entry() -> ExitCode {
    use clap::Parser;
    let args = cli::Cli::parse();
    match cli::dispatch(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(bus::rpc::CallError::Rejected {
                code,
                message,
                detail,
            }) = e.downcast_ref::<bus::rpc::CallError>()
            {
                eprintln!(
                    "{}",
                    serde_json::json!({"error": code, "message": message, "detail": detail})
                );
                eprintln!("error: {code}: {message}");
            } else {
                eprintln!("error: {e:#}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Prints a JSON value on stdout (pretty when stdout is a terminal).
pub fn print_json(v: &serde_json::Value) {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        println!("{}", serde_json::to_string_pretty(v).expect("json"));
    } else {
        println!("{v}");
    }
}
