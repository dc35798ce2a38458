//! The one-year benchmark of issue 8: 128 subnets × 256 uids with a
//! realistic command mix, run in the simulator, timed (docs/benchmarks.md
//! §9). A year is 2 628 000 blocks; `--days N` runs a slice and
//! extrapolates.
//!
//! ```text
//! cargo run --release -p sim --example year -- [--days 365] [--blocks N] [--subnets 128] [--uids 256]
//! ```
//!
//! The mix, per subnet: one validator (1 000 TAO of stake from a whale at
//! genesis) setting weights on its 255 miners every tempo (360 blocks,
//! ±10 % noise), so every subnet runs a full 256-uid epoch every tempo;
//! network-wide: four random stakers (one stake every 12 blocks each), two
//! price chasers (every 50), two unstakers (every 100) and a transfer-free
//! ledger (the coinbase, claims and recycling run every block).

use keys::AccountId;
use serde_json::{json, Value};
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TAO: u64 = 1_000_000_000;
const BLOCKS_PER_DAY: u64 = 7_200;
const YEAR: u64 = 2_628_000;

fn acct(tag: u8, n: u32, k: u32) -> AccountId {
    let mut b = [0u8; 32];
    b[0] = tag;
    b[1..5].copy_from_slice(&n.to_le_bytes());
    b[5..9].copy_from_slice(&k.to_le_bytes());
    AccountId(b)
}

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn scenario(days: u64, subnets: u32, uids: u32) -> Value {
    let admin = acct(1, 0, 0);
    let whales: Vec<AccountId> = (0..8).map(|i| acct(2, i, 0)).collect();
    let miner_owner = acct(3, 0, 0);
    let mut balances = vec![json!([admin, 1_000 * TAO]), json!([miner_owner, TAO])];
    for w in &whales {
        balances.push(json!([w, 1_000_000 * TAO]));
    }
    let mut nets = Vec::new();
    let mut rules = Vec::new();
    let mut commands = Vec::new();
    let mut agents = Vec::new();
    for n in 1..=subnets {
        let val = acct(4, n, 0);
        let mut neurons = vec![json!({"hotkey": val, "owner": whales[n as usize % 8]})];
        let mut miners = Vec::new();
        for k in 1..uids {
            let hk = acct(5, n, k);
            neurons.push(json!({"hotkey": hk, "owner": miner_owner}));
            miners.push(json!({"hotkey": hk, "quality": 1_000 + (k * 7_919) % 60_000}));
        }
        nets.push(json!({
            "netuid": n, "owner": acct(6, n, 0), "owner_hotkey": acct(7, n, 0),
            "tao_reserve": (1_000 + 50 * u64::from(n)) * TAO, "alpha_reserve": 10_000 * TAO,
            "first_emission_block": 0, "tempo": 360, "neurons": neurons,
        }));
        rules.push(json!({"netuid": n, "param": {"CommitRevealEnabled": false}}));
        rules.push(json!({"netuid": n, "param": {"WeightsRateLimit": 0}}));
        commands.push(
            json!({"at": 0, "signer": whales[n as usize % 8], "service": "amm",
            "command": {"AddStake": {"op": format!("genesis-{n}"), "hotkey": val, "netuid": n,
                "amount": 1_000 * TAO, "limit_price": null, "allow_partial": false}}}),
        );
        agents.push(
            json!({"kind": "validator", "hotkey": val, "netuid": n, "every": 360,
            "noise_pct": 10, "miners": miners}),
        );
    }
    let all: Vec<u32> = (1..=subnets).collect();
    for i in 0..4u32 {
        let n = 1 + i % subnets;
        agents.push(json!({"kind": "staker", "coldkey": whales[i as usize],
            "hotkey": acct(4, n, 0), "netuids": all, "every": 12, "max_rao": 20 * TAO}));
    }
    for i in 4..6u32 {
        agents.push(json!({"kind": "staker", "coldkey": whales[i as usize],
            "hotkey": acct(4, 1, 0), "netuids": all, "every": 50, "max_rao": 50 * TAO,
            "chase": true}));
    }
    for i in 0..2u32 {
        agents.push(json!({"kind": "unstaker", "coldkey": whales[i as usize],
            "hotkey": acct(4, 1 + i, 0), "netuid": 1 + i, "every": 100,
            "max_alpha": 20 * TAO}));
    }
    json!({
        "name": format!("year-bench {subnets}x{uids}, {days} days"),
        "seed": 1,
        "blocks": days * BLOCKS_PER_DAY,
        "start_date": "2025-01-01",
        "sample_every": BLOCKS_PER_DAY,
        "genesis": {
            "balances": balances, "admin": admin, "subnets": nets,
            "governance": {"admin": admin},
        },
        "rules": rules,
        "commands": commands,
        "agents": agents,
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let days = arg(&args, "--days", 365);
    let subnets = arg(&args, "--subnets", 128) as u32;
    let uids = arg(&args, "--uids", 256) as u32;
    let t0 = Instant::now();
    let mut s = sim::Scenario::from_json(&scenario(days, subnets, uids).to_string())
        .expect("the benchmark scenario");
    // `--blocks N`: a slice shorter than a day.
    s.blocks = arg(&args, "--blocks", s.blocks);
    s.name = format!("year-bench {subnets}x{uids}, {} blocks", s.blocks);
    let setup = t0.elapsed();
    let t1 = Instant::now();
    let mut last = Instant::now();
    let mut half: Option<(u64, Instant)> = None;
    let outcome = sim::run(&s, &mut |done, total| {
        if half.is_none() && done >= total / 2 {
            half = Some((done, Instant::now()));
        }
        if last.elapsed().as_secs() >= 10 {
            last = Instant::now();
            let rate = done as f64 / t1.elapsed().as_secs_f64();
            eprintln!("{done}/{total} blocks, {rate:.0} blocks/s");
        }
    })
    .expect("the benchmark runs");
    let run = t1.elapsed().as_secs_f64();
    let r = &outcome.report;
    let blocks = r.blocks as f64;
    let rate = blocks / run;
    let epochs: u64 = r.subnets.iter().map(|s| s.epochs).sum();
    println!("scenario        {}", r.scenario);
    println!(
        "setup           {:.2} s (scenario parse)",
        setup.as_secs_f64()
    );
    println!("blocks          {}", r.blocks);
    println!("run             {run:.2} s");
    println!("blocks/s        {rate:.0}");
    if let Some((from, at)) = half {
        let second = (r.blocks - from) as f64 / at.elapsed().as_secs_f64();
        println!("blocks/s        {second:.0} over the second half (blocks {from}..)");
    }
    println!("speed-up        {:.0}x over 12 s/block", rate * 12.0);
    println!(
        "a year          {:.1} s at this rate ({} blocks)",
        YEAR as f64 / rate,
        YEAR
    );
    println!("epochs          {epochs} ({:.0}/s)", epochs as f64 / run);
    println!(
        "commands        {} accepted, {} rejected {:?}",
        r.commands.accepted, r.commands.rejected, r.commands.rejections
    );
    println!("events          {:?}", r.events);
    // The final states, so that a faster build can show it computes the
    // same economy (equal digests, equal states).
    for (service, d) in &r.digests {
        println!("digest          {service:<11} {d}");
    }
    if !outcome.invariants.is_empty() {
        println!("invariants      {:?}", outcome.invariants);
    }
}
