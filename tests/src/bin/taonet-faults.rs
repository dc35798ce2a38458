//! `taonet-faults`: the fault-injection suite (docs/faults.md).
//!
//! ```text
//! taonet-faults [--duration 60s] [--seed N] [--clients N]
//!               [--fault-every 3s..7s] [--ack-wait 2s] [--settle 120s] [--keep]
//! ```
//! Exit code 0 when nothing acknowledged was lost or doubled and every
//! check held; 1 otherwise; 2 on bad arguments.

use std::process::ExitCode;
use std::time::Duration;
use tests::faults::{run, Config};

fn duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: u64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return Err(format!("bad duration unit in {s:?} (ms, s, m, h)")),
    })
}

fn parse(args: &[String]) -> Result<Config, String> {
    let mut cfg = Config::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--duration" => cfg.duration = duration(val()?)?,
            "--seed" => cfg.seed = val()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--clients" => cfg.clients = val()?.parse().map_err(|e| format!("--clients: {e}"))?,
            "--fault-every" => {
                let v = val()?;
                let (lo, hi) = v.split_once("..").unwrap_or((v, v));
                cfg.fault_min = duration(lo)?;
                cfg.fault_max = duration(hi)?;
                if cfg.fault_min > cfg.fault_max {
                    return Err("--fault-every: lower bound above upper".into());
                }
            }
            "--ack-wait" => cfg.ack_wait = duration(val()?)?,
            "--settle" => cfg.settle_timeout = duration(val()?)?,
            "--keep" => cfg.keep = true,
            "-h" | "--help" => {
                return Err(
                    "usage: taonet-faults [--duration 60s] [--seed N] [--clients N] \
                     [--fault-every 3s..7s] [--ack-wait 2s] [--settle 120s] [--keep]"
                        .into(),
                )
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if cfg.clients == 0 {
        return Err("--clients must be at least 1".into());
    }
    Ok(cfg)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match parse(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let report = rt.block_on(run(cfg));
    print!("{}", report.table());
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
