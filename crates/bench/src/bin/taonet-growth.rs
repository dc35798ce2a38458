//! How the pure cores' costs grow with the network's size (issue 7: "how
//! each cost grows as subnets, uids and events grow, one table per
//! dimension, three sizes at least"). Prints markdown tables for
//! docs/benchmarks.md:
//!
//! - **subnets**: the amm's per-block coinbase (decide + evolve through the
//!   aggregate, stakers on every subnet and root) and the Yuma epochs of all
//!   subnets (64 validators x 256 uids each) at 8, 32, 128 and 512 subnets;
//! - **uids**: one Yuma epoch of a subnet with 64 validators and 64 to 4096
//!   uids.
//!
//! The events dimension (replay of a log of N events against raw sled
//! iteration of the same log) is `taonet-bench --skip publish,e2e,stake
//! --replay-events N`, which measures its anchor in the same run.
//!
//! `cargo run --release -p bench --bin taonet-growth [-- --quick]`
//!
//! Timing uses the wall clock (medians of several rounds); nothing here
//! reaches state, and no figure is asserted: speed goals live in
//! docs/benchmarks.md, not in tests.

use std::hint::black_box;
use std::time::Instant;

use aggregate::Aggregate;
use amm_core::*;
use keys::AccountId;
use yuma::{run_epoch, EpochContext, Hyperparameters, SubnetState};

fn a(n: u32) -> AccountId {
    let mut b = [0u8; 32];
    b[..4].copy_from_slice(&n.to_le_bytes());
    AccountId(b)
}

/// Median and minimum of `rounds` timings of `f`, in seconds.
fn time<F: FnMut()>(rounds: usize, mut f: F) -> (f64, f64) {
    let mut t: Vec<f64> = (0..rounds.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    (t[t.len() / 2], t[0])
}

/// An amm with `n` subnets (and root), four stakers on each, EMA warmed up.
fn amm_with(n: u16) -> Amm {
    let subnets: Vec<GenesisSubnet> = (1..=n)
        .map(|netuid| GenesisSubnet {
            netuid,
            owner: a(1),
            owner_hotkey: a(2),
            tao_reserve: 1_000_000_000_000 + u64::from(netuid) * 1_000_000_000,
            alpha_reserve: 2_000_000_000_000,
            first_emission_block: Some(1),
            emission_enabled: true,
            neurons: vec![GenesisNeuron {
                hotkey: a(100),
                owner: a(101),
            }],
            tempo: None,
        })
        .collect();
    let mut amm = Amm::default();
    amm.handle(&Command::new(
        Origin::Genesis,
        CommandBody::ApplyGenesis(AmmGenesis {
            params: AmmParams::default(),
            subnets,
        }),
    ))
    .expect("genesis");
    for s in amm.subnets.values_mut() {
        if s.netuid != 0 {
            s.moving_price_bits = 1 << 30;
        }
    }
    let mut op = 0;
    for netuid in 0..=n {
        for who in 0..4u32 {
            op += 1;
            let op = format!("s{op}");
            amm.handle(&Command::new(
                Origin::Signed(a(101 + who)),
                CommandBody::AddStake {
                    op: op.clone(),
                    hotkey: a(100),
                    netuid,
                    amount: 10_000_000_000,
                    limit_price: None,
                    allow_partial: false,
                },
            ))
            .expect("stake");
            amm.handle(&Command::new(
                Origin::Peer(Peer::Ledger),
                CommandBody::StakeFunded { op },
            ))
            .expect("funded");
        }
    }
    amm
}

fn block(amm: &mut Amm) -> usize {
    let height = amm.height + 1;
    amm.handle(&Command::new(
        Origin::Peer(Peer::Ledger),
        CommandBody::Block {
            height,
            minted: 1_000_000_000,
        },
    ))
    .expect("block")
    .len()
}

use yuma::synthetic::dense_subnet as subnet;

fn epochs(hp: &Hyperparameters, subnets: &[(SubnetState, EpochContext)]) -> u64 {
    let mut total = 0u64;
    for (s, ctx) in subnets {
        let out = run_epoch(hp, s, ctx).expect("epoch");
        total = total.wrapping_add(out.emission.iter().sum::<u64>());
    }
    total
}

fn fmt_time(s: f64) -> String {
    if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let hp = Hyperparameters {
        max_allowed_validators: 256,
        activity_cutoff_blocks: 5000,
        ..Default::default()
    };

    println!("### Growth with subnets\n");
    println!(
        "| subnets | coinbase per block (median) | per subnet | events per block | \
         Yuma epochs of all subnets, 64 x 256 each (median) | per subnet | amm digest |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let sizes: &[u16] = if quick {
        &[8, 32, 128]
    } else {
        &[8, 32, 128, 512]
    };
    for &n in sizes {
        let mut amm = amm_with(n);
        for _ in 0..5 {
            block(&mut amm);
        }
        let blocks = if quick { 20 } else { 100 };
        let mut events = 0;
        let (cb, _) = time(blocks, || events = block(&mut amm));
        amm.check_invariants().expect("amm invariants");
        let (digest, _) = time(5, || {
            black_box(amm.digest());
        });
        let nets: Vec<_> = (0..n as u64)
            .map(|k| subnet(64, 256, &hp, 1000 + k))
            .collect();
        let (ep, _) = time(if quick { 3 } else { 7 }, || {
            black_box(epochs(&hp, black_box(&nets)));
        });
        println!(
            "| {n} | {} | {} | {events} | {} | {} | {} |",
            fmt_time(cb),
            fmt_time(cb / f64::from(n)),
            fmt_time(ep),
            fmt_time(ep / f64::from(n)),
            fmt_time(digest),
        );
    }

    println!("\n### Growth with uids (one subnet, 64 validators, dense weights)\n");
    println!("| uids | weight entries | Yuma epoch (median) | min | per weight entry |");
    println!("|---:|---:|---:|---:|---:|");
    let uids: &[usize] = if quick {
        &[64, 256, 1024]
    } else {
        &[64, 256, 1024, 4096]
    };
    for &n in uids {
        let net = [subnet(64, n, &hp, 7)];
        let rounds = if quick { 21 } else { 201 };
        let (med, min) = time(rounds, || {
            black_box(epochs(&hp, black_box(&net)));
        });
        let entries = 64 * n;
        println!(
            "| {n} | {entries} | {} | {} | {:.1} ns |",
            fmt_time(med),
            fmt_time(min),
            med / entries as f64 * 1e9
        );
    }
}
