//! Throughput figures for docs/benchmarks.md:
//! `cargo run --release -p amm-core --example bench`.
//!
//! 1. pure pool swaps per second (`pool::Pool::swap`), at 0.5/0.5 weights
//!    and at a re-solved weight (what pools have after injections);
//! 2. the coinbase of one block over 128 subnets (decide + evolve through the
//!    aggregate), with stakers on every subnet and root;
//! 3. the same coinbase's arithmetic alone (`coinbase::tao_shares` and
//!    `coinbase::subnet_coinbase` per subnet, no maps, events or layers):
//!    the floor that any bit-exact simulator of the block pays
//!    (docs/benchmarks.md §9).

use std::hint::black_box;
use std::time::Instant;

use aggregate::Aggregate;
use amm_core::*;
use keys::AccountId;
use pool::{Pool, SwapRequest};

fn swaps(pool: Pool, n: u64) -> f64 {
    let start = Instant::now();
    let mut out = 0u64;
    for i in 0..n {
        let amount = 1_000_000 + (i % 1_000) * 1_000;
        let req = if i % 2 == 0 {
            SwapRequest::buy(amount)
        } else {
            SwapRequest::sell(amount)
        };
        out = out.wrapping_add(black_box(&pool).swap(req).map_or(0, |r| r.amount_out));
    }
    black_box(out);
    n as f64 / start.elapsed().as_secs_f64()
}

fn a(n: u32) -> AccountId {
    let mut b = [0u8; 32];
    b[..4].copy_from_slice(&n.to_le_bytes());
    AccountId(b)
}

/// One stake end to end in the amm: `AddStake` from `coldkey` to hotkey
/// `a(100)`, then the ledger's `StakeFunded`.
fn stake(amm: &mut Amm, op: &str, coldkey: AccountId, netuid: u16, amount: u64) {
    amm.handle(&Command::new(
        Origin::Signed(coldkey),
        CommandBody::AddStake {
            op: op.into(),
            hotkey: a(100),
            netuid,
            amount,
            limit_price: None,
            allow_partial: false,
        },
    ))
    .unwrap();
    amm.handle(&Command::new(
        Origin::Peer(Peer::Ledger),
        CommandBody::StakeFunded { op: op.into() },
    ))
    .unwrap();
}

fn main() {
    let half = Pool::constant_product(1_000_000_000_000_000, 2_000_000_000_000_000);
    let n = 2_000_000;
    println!(
        "pool swaps/s, weights 0.5/0.5:      {:>12.0}",
        swaps(half, n)
    );
    let skewed = half.inject(3_000_000_000, 0).unwrap();
    println!(
        "pool swaps/s, re-solved weight {:.9}: {:>12.0}",
        skewed.quote_weight().deconstruct() as f64 / 1e18,
        swaps(skewed, 20_000)
    );

    // 128 subnets with stakers.
    let subnets: Vec<GenesisSubnet> = (1..=128u16)
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
    .unwrap();
    for s in amm.subnets.values_mut() {
        if s.netuid != 0 {
            s.moving_price_bits = 1 << 30; // warmed-up EMA: root sell flag on
        }
    }
    let mut op = 0;
    for netuid in 0..=128u16 {
        for who in 0..4u32 {
            op += 1;
            stake(
                &mut amm,
                &format!("s{op}"),
                a(101 + who),
                netuid,
                10_000_000_000,
            );
        }
    }
    let block = |amm: &mut Amm| {
        let height = amm.height + 1;
        amm.handle(&Command::new(
            Origin::Peer(Peer::Ledger),
            CommandBody::Block {
                height,
                minted: 1_000_000_000,
            },
        ))
        .unwrap()
    };
    // Warm up: weights move off 0.5 after the first injections.
    for _ in 0..5 {
        block(&mut amm);
    }
    let blocks = 200;
    let start = Instant::now();
    let mut events = 0;
    for _ in 0..blocks {
        events += block(&mut amm).len();
    }
    let per_block = start.elapsed().as_secs_f64() / blocks as f64;
    println!(
        "coinbase, 128 subnets: {:.3} ms/block ({:.0} blocks/s, {} events)",
        per_block * 1e3,
        1.0 / per_block,
        events
    );
    let start = Instant::now();
    let d = amm.digest();
    println!(
        "digest of that state: {:.3} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    black_box(d);
    amm.check_invariants().unwrap();

    coinbase_floor(&amm);
    stake_decisions();
}

/// The amm's share of one end-to-end stake (`AddStake` then the ledger's
/// `StakeFunded`, decide + evolve) on a hotkey that already has `holders`
/// nominators: the stake bench of docs/benchmarks.md §6 uses 1000.
fn stake_decisions() {
    for holders in [10u32, 1_000, 10_000] {
        let mut amm = Amm::default();
        amm.handle(&Command::new(
            Origin::Genesis,
            CommandBody::ApplyGenesis(AmmGenesis {
                params: AmmParams::default(),
                subnets: vec![GenesisSubnet {
                    netuid: 1,
                    owner: a(1),
                    owner_hotkey: a(2),
                    tao_reserve: 1_000_000_000_000_000,
                    alpha_reserve: 1_000_000_000_000_000,
                    first_emission_block: Some(1),
                    emission_enabled: true,
                    neurons: vec![GenesisNeuron {
                        hotkey: a(100),
                        owner: a(101),
                    }],
                    tempo: None,
                }],
            }),
        ))
        .unwrap();
        let mut op = 0u64;
        let mut staker = |amm: &mut Amm, who: u32| {
            op += 1;
            stake(amm, &format!("s{op}"), a(1_000 + who), 1, 1_000_000_000);
        };
        for who in 0..holders {
            staker(&mut amm, who);
        }
        let n = 2_000u32;
        let start = Instant::now();
        for i in 0..n {
            staker(&mut amm, i % holders);
        }
        let per = start.elapsed().as_secs_f64() / f64::from(n);
        println!(
            "stake decision (AddStake + StakeFunded), {holders:>6} holders on the hotkey: {:.1} us",
            per * 1e6
        );
    }
}

/// The coinbase's arithmetic alone over the subnets of `amm`, block after
/// block: the shares, then each subnet's kernel, its outcome written back
/// as `apply` does (reserves, alpha out, weight, EMA). No maps, no events,
/// no copy-on-write: what is left is the fixed-point work itself.
fn coinbase_floor(amm: &Amm) {
    use amm_core::coinbase::{subnet_coinbase, tao_shares, BlockTerms, ShareInputs};
    let mut subnets: Vec<Subnet> = amm
        .subnets
        .values()
        .filter(|s| s.netuid != 0)
        .cloned()
        .collect();
    let root_tao = amm.subnets.get(&0).map_or(0, |s| s.tao);
    let tw = amm_core::fx::tao_weight(amm.params.tao_weight);
    let blocks = 20_000u64;
    let start = Instant::now();
    let mut check = 0u64;
    for b in 0..blocks {
        let refs: Vec<&Subnet> = subnets.iter().collect();
        let inputs = ShareInputs::of(&refs);
        let shares = tao_shares(&inputs.prices, &inputs.burned, &inputs.enabled);
        let terms = BlockTerms {
            height: amm.height + 1 + b,
            minted: 1_000_000_000,
            root_tao,
            tao_weight: tw,
            root_sell: inputs.root_sell(),
            moving_alpha_bits: amm.params.moving_alpha_bits,
            ema_halving_blocks: amm.params.ema_halving_blocks,
        };
        for (s, share) in subnets.iter_mut().zip(&shares) {
            let c = subnet_coinbase(s, *share, &terms);
            s.tao = c.tao_reserve;
            s.alpha_in = c.alpha_reserve;
            s.alpha_out = c.alpha_outstanding;
            s.quote_weight = c.quote_weight;
            s.moving_price_bits = c.moving_price_bits;
            check = check.wrapping_add(c.server);
        }
    }
    black_box(check);
    let per_block = start.elapsed().as_secs_f64() / blocks as f64;
    println!(
        "coinbase arithmetic alone, {} subnets: {:.1} us/block ({:.0} ns/subnet; a year of it: {:.0} s)",
        subnets.len(),
        per_block * 1e6,
        per_block * 1e9 / subnets.len() as f64,
        per_block * 2_628_000.0
    );
}
