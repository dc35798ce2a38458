//! Project automation (`cargo xtask <task>`), instead of shell scripts.
//!
//! - `ci`: what CI runs and what the README's test command runs: format
//!   check, clippy with warnings denied, the whole test suite.
//! - `fixtures`: (re)writes missing golden event fixtures (never overwrites).

use std::process::{Command, ExitCode};
use std::time::Instant;

fn cargo(args: &[&str]) -> bool {
    let started = Instant::now();
    eprintln!("$ cargo {}", args.join(" "));
    let ok = Command::new(env!("CARGO"))
        .args(args)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    eprintln!("  ({:.0} s)", started.elapsed().as_secs_f64());
    ok
}

fn ci() -> bool {
    if Command::new("nats-server")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("nats-server is needed by the integration tests: apt-get install nats-server (or run .ci/run)");
        return false;
    }
    cargo(&["fmt", "--all", "--", "--check"])
        && cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
        && cargo(&["test", "--workspace", "--no-fail-fast"])
}

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let ok = match task.as_str() {
        "ci" | "test" => ci(),
        "fixtures" => {
            let status = Command::new(env!("CARGO"))
                .args(["test", "-p", "ledger-core", "--test", "golden"])
                .env("UPDATE_FIXTURES", "1")
                .status();
            status.map(|s| s.success()).unwrap_or(false)
        }
        _ => {
            eprintln!("usage: cargo xtask <ci|fixtures>");
            false
        }
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
