//! The per-block coinbase (§2.1–§2.4) and the EMA price update (§3.6), in
//! the order of §8: emit set → shares → terms (pre-mint alpha issuance) →
//! weight re-solve → chain buy → reserves injection → alpha_out mint → root
//! proportion (post-mint) → pending pots → EMA. Then the automatic root
//! claims (`claims`). All of it is one `CoinbaseRan` (+ claim events).
//!
//! Epochs are not drained here: consensus runs them and sends `Epoch`; the
//! pots wait in a per-block FIFO until then (`payout`).

use fixed::types::{I64F64, U64F64, U96F32};
use keys::AccountId;
use pool::fixed64;
use pool::{Mechanism, Pool, SwapRequest};

use crate::decide::Decision;
use crate::event::*;
use crate::fx::{self, u96};
use crate::rejection::Rejection;
use crate::shares::{
    flow_ema_step, net_flow_shares, root_weight_shares, EmissionRule, FlowParams, RootVote,
    ROOT_KAPPA, ROOT_RHO,
};
use crate::state::{Subnet, Tx};

/// TAO shares of the emit set (§2.2, CURRENT): EMA-price shares weighted by
/// `1 − min(MinerBurned, 1)` (falling back to the plain shares when every
/// weight is 0), then renormalised over the emission-enabled subnets when
/// any is disabled. All `U64F64`; truncating divisions, so Σ ≤ 1.
pub fn tao_shares(prices: &[U64F64], miner_burned: &[U64F64], enabled: &[bool]) -> Vec<U64F64> {
    let zero = fixed64::ZERO;
    let one = fixed64::ONE;
    let sum = prices.iter().fold(zero, |a, p| fixed64::add(a, *p));
    let s: Vec<U64F64> = prices
        .iter()
        .map(|p| {
            if sum == zero {
                zero
            } else {
                fixed64::safe_div(*p, sum)
            }
        })
        .collect();
    let w: Vec<U64F64> = s
        .iter()
        .zip(miner_burned)
        .map(|(s, mb)| fixed64::mul(*s, fixed64::sub(one, (*mb).min(one))))
        .collect();
    let wsum = w.iter().fold(zero, |a, x| fixed64::add(a, *x));
    let mut share: Vec<U64F64> = if wsum == zero {
        s
    } else {
        w.iter().map(|x| fixed64::safe_div(*x, wsum)).collect()
    };
    if enabled.iter().any(|e| !e) {
        let esum = share
            .iter()
            .zip(enabled)
            .filter(|(_, e)| **e)
            .fold(zero, |a, (x, _)| fixed64::add(a, *x));
        for (x, e) in share.iter_mut().zip(enabled) {
            *x = if *e && esum != zero {
                fixed64::safe_div(*x, esum)
            } else {
                zero
            };
        }
    }
    share
}

/// `get_subnet_terms` of one subnet: `(tao_in, alpha_in, excess_tao)` in
/// U96F32, from its TAO emission, spot price, root proportion (pre-mint) and
/// alpha emission: `alpha_in = tao/price` capped at `rp · alpha_emission`
/// (when capped, `tao_in = cap · price`), the rest of the TAO is excess.
pub fn subnet_terms(
    tao_emission: U96F32,
    price: U96F32,
    root_proportion: U96F32,
    alpha_emission: U96F32,
) -> (U96F32, U96F32, U96F32) {
    let mut tao_in = tao_emission;
    let mut alpha_in = fx::div(tao_emission, price);
    let cap = fx::mul(root_proportion, alpha_emission);
    if alpha_in > cap {
        alpha_in = cap;
        tao_in = fx::mul(cap, price);
    }
    let excess = tao_emission.saturating_sub(tao_in);
    (tao_in, alpha_in, excess)
}

/// §2.4's split of one subnet's alpha emission `a`: `(owner_cut, server,
/// validator, root)`, each floored separately. `rp` is the post-mint root
/// proportion.
pub fn split_alpha_out(a: U96F32, owner_cut: Option<u16>, rp: U96F32) -> (u64, u64, u64, u64) {
    let half = U96F32::from_num(1) / 2;
    let cut = owner_cut.map_or(fx::U96_ZERO, |c| fx::mul(a, fx::ratio_u16(c)));
    let a = a.saturating_sub(cut);
    let root_alpha = fx::mul(fx::mul(rp, a), half);
    let server = fx::mul(a, half);
    let validator = server.saturating_sub(root_alpha);
    (
        fx::floor(cut),
        fx::floor(server),
        fx::floor(validator),
        fx::floor(root_alpha),
    )
}

/// One EMA step (§3.6): `α = moving_alpha · b/(b+H)`, `ema' = α·min(spot, 1)
/// + (1 − α)·ema` in U96F32, stored as I96F32 bits.
pub fn ema_step(
    ema_bits: i128,
    spot: U64F64,
    moving_alpha_bits: i128,
    blocks_since_start: u64,
    halving_blocks: u64,
) -> i128 {
    let b = u96(blocks_since_start);
    let alpha = fx::mul(
        fx::i96_to_u96(moving_alpha_bits),
        fx::div(b, b.saturating_add(u96(halving_blocks))),
    );
    let one = U96F32::from_num(1);
    let spot = fx::from_u64f64(spot).min(one);
    let ema = fx::i96_to_u96(ema_bits);
    let new = fx::mul(alpha, spot).saturating_add(fx::mul(one.saturating_sub(alpha), ema));
    fx::u96_to_i96_bits(new)
}

/// What the TAO shares (§2.2) and the root sell flag read off the emit
/// set, in its order: EMA prices (1 for a stable pool), `MinerBurned`, and
/// `SubnetEmissionEnabled`.
pub struct ShareInputs {
    pub prices: Vec<U64F64>,
    pub burned: Vec<U64F64>,
    pub enabled: Vec<bool>,
}

impl ShareInputs {
    pub fn of(emit: &[&Subnet]) -> Self {
        ShareInputs {
            prices: emit
                .iter()
                .map(|s| {
                    if s.mechanism == Mechanism::Stable {
                        fixed64::ONE
                    } else {
                        fx::i96_to_u64f64(s.moving_price_bits)
                    }
                })
                .collect(),
            burned: emit
                .iter()
                .map(|s| fx::to_u64f64(U96F32::from_bits(s.miner_burned_bits)))
                .collect(),
            enabled: emit.iter().map(|s| s.emission_enabled).collect(),
        }
    }

    /// Σ EMA prices > 1: root alpha is sold, else recycled (§2.4).
    pub fn root_sell(&self) -> bool {
        let sum = self
            .prices
            .iter()
            .fold(fixed64::ZERO, |a, p| fixed64::add(a, *p));
        sum > fixed64::ONE
    }
}

/// What one block's coinbase shares across its subnets: the inputs of
/// [`subnet_coinbase`] that do not belong to one subnet.
#[derive(Clone, Copy, Debug)]
pub struct BlockTerms {
    pub height: u64,
    /// TAO minted this block (RAO).
    pub minted: u64,
    /// `SubnetTAO` of root (the root proportion's TAO side).
    pub root_tao: u64,
    pub tao_weight: U96F32,
    /// Σ EMA prices > 1: root alpha is sold, else recycled.
    pub root_sell: bool,
    pub moving_alpha_bits: i128,
    /// The global `ema_halving_blocks` (a subnet's override wins).
    pub ema_halving_blocks: u64,
}

/// One subnet's coinbase (§2.3, §2.4, §3.6): its TAO `share` of the block
/// through the weight re-solve, the chain buy, the reserves injection, the
/// alpha mint and split, and the EMA step. Pure arithmetic on the subnet as
/// it was before the block: `Tx::block` calls it per subnet, and the
/// benchmark's arithmetic floor (docs/benchmarks.md §9) times it alone.
pub fn subnet_coinbase(s: &Subnet, share: U64F64, t: &BlockTerms) -> SubnetCoinbase {
    let (height, root_tao, tw) = (t.height, t.root_tao, t.tao_weight);
    let tao_emission = fx::from_u64f64(fixed64::mul(fixed64::from_u64(t.minted), share));
    let issuance = s.alpha_in.saturating_add(s.alpha_out);
    let alpha_emission = u96(ledger_core::emission::block_emission(issuance));
    let pool = s.pool();
    let price = fx::from_u64f64(pool.price());
    let rp = fx::root_proportion(root_tao, tw, issuance);
    let (tao_in, alpha_in, excess) = subnet_terms(tao_emission, price, rp, alpha_emission);
    let (mut tao_in, mut alpha_in, excess) =
        (fx::floor(tao_in), fx::floor(alpha_in), fx::floor(excess));

    // 1. Re-solve the weights for the injection (refused: inject 0).
    let injected = if tao_in == 0 && alpha_in == 0 {
        Ok(pool)
    } else {
        pool.inject(tao_in, alpha_in)
    };
    let weighted = match injected {
        Ok(p) => Pool::new(
            pool.tao_reserve,
            pool.alpha_reserve,
            p.quote_weight(),
            pool.fee_rate,
        )
        .unwrap_or(pool),
        Err(_) => {
            tao_in = 0;
            alpha_in = 0;
            pool
        }
    };
    // 3. Chain buy with the excess, fee-free at the max price, on the
    // new weights and the old reserves; the alpha stays protocol-owned.
    let (placed, bought, mut after) = if excess > 0 {
        match weighted.swap(SwapRequest::buy(excess).without_fees()) {
            Ok(r) => (r.amount_in, r.amount_out, r.pool_after),
            Err(_) => (0, 0, weighted),
        }
    } else {
        (0, 0, weighted)
    };
    // 4. Reserves injection.
    after.tao_reserve += tao_in;
    after.alpha_reserve += alpha_in;

    // alpha_out mint and split (§2.4).
    let minted_alpha = fx::floor(alpha_emission);
    let mut alpha_out = s.alpha_out + bought + minted_alpha;
    let rp_post = fx::root_proportion(root_tao, tw, after.alpha_reserve + alpha_out);
    let cut = s.owner_cut_enabled.then_some(s.owner_cut);
    let (owner_cut, server, validator, root_alpha) = split_alpha_out(alpha_emission, cut, rp_post);
    let (root, root_recycled) = if t.root_sell {
        (root_alpha, 0)
    } else {
        (0, root_alpha)
    };
    alpha_out -= root_recycled;

    // EMA update (after the coinbase, on the new spot price).
    let since = s
        .first_emission_block
        .map_or(0, |f| height.saturating_sub(f.saturating_sub(1)));
    let ema = ema_step(
        s.moving_price_bits,
        after.price(),
        t.moving_alpha_bits,
        since,
        s.ema_halving_blocks.unwrap_or(t.ema_halving_blocks),
    );
    SubnetCoinbase {
        netuid: s.netuid,
        tao_in,
        alpha_in,
        excess_tao: placed,
        bought_alpha: bought,
        alpha_out: minted_alpha,
        owner_cut,
        server,
        validator,
        root,
        root_recycled,
        tao_reserve: after.tao_reserve,
        alpha_reserve: after.alpha_reserve,
        alpha_outstanding: alpha_out,
        quote_weight: after.quote_weight().deconstruct(),
        moving_price_bits: ema,
    }
}

/// Subnets with `SubnetEmissionEnabled = false` get no TAO under the
/// net-flow and root-weight rules (their share is recycled, not
/// redistributed: those rules predate the flag).
fn disable(mut shares: Vec<U64F64>, enabled: &[bool]) -> Vec<U64F64> {
    for (s, e) in shares.iter_mut().zip(enabled) {
        if !e {
            *s = fixed64::ZERO;
        }
    }
    shares
}

/// A root validator's weights: (netuid, weight).
pub type RootWeights = Vec<(u16, u16)>;

/// At most this many root validators count (the root network's 64 slots).
pub const ROOT_VALIDATORS: usize = 64;

impl Tx<'_> {
    /// The `root-weights` shares of the emit set for block `height`: a root
    /// epoch runs (and [`RootSharesComputed`] records it) when the height
    /// is a multiple of the root tempo, or when no share is stored yet (the
    /// block after a switch to this rule) and the epoch gives some;
    /// otherwise the stored shares of the last epoch.
    fn root_epoch_if_due(&mut self, height: u64, emit: &[u16], stored: Vec<U64F64>) -> Vec<U64F64> {
        let none_stored = stored.iter().all(|s| *s == fixed64::ZERO);
        let due = height.is_multiple_of(self.root_tempo.max(1));
        if !due && !none_stored {
            return stored;
        }
        let netuids: Vec<u16> = emit.to_vec();
        // Root validators: hotkeys with weights and root stake ≥ min_stake,
        // the 64 largest by stake (ties: lower key first).
        let mut validators: Vec<(AccountId, u64, RootWeights)> = self
            .root_weights
            .keys_in(..)
            .into_iter()
            .filter_map(|hk| {
                let stake = self.hotkey_alpha(0, &hk);
                let (_, w) = self.root_weights.get(&hk)?;
                (stake >= self.params.min_stake.max(1)).then(|| (hk, stake, w.clone()))
            })
            .collect();
        validators.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        validators.truncate(ROOT_VALIDATORS);
        let votes: Vec<RootVote<'_>> = validators
            .iter()
            .map(|(_, stake, w)| RootVote {
                stake: *stake,
                weights: w,
            })
            .collect();
        let shares = root_weight_shares(&netuids, &votes, ROOT_RHO, ROOT_KAPPA);
        let any = shares.iter().any(|s| *s != fixed64::ZERO);
        if due || any {
            self.emit(AmmEvent::RootSharesComputed(RootSharesComputed {
                block: height,
                shares: netuids
                    .iter()
                    .zip(&shares)
                    .filter(|(_, s)| **s != fixed64::ZERO)
                    .map(|(n, s)| (*n, s.to_bits()))
                    .collect(),
                validators: validators.iter().map(|(h, s, _)| (*h, *s)).collect(),
            }));
        }
        shares
    }

    pub(crate) fn block(&mut self, height: u64, minted: u64) -> Decision {
        let expected = self.height + 1;
        if (self.started && height != expected) || (!self.started && height <= self.height) {
            return Err(Rejection::BlockOutOfOrder {
                expected,
                got: height,
            });
        }
        let tw = fx::tao_weight(self.params.tao_weight);
        let root_tao = self.subnet(0).map_or(0, |s| s.tao);
        // The emit set by netuid, read in place (a subnet is ~400 bytes and
        // this runs for every subnet every block): only the root epoch's
        // `RootSharesComputed` is emitted before the loop below reads them,
        // and it changes nothing the coinbase reads but the shares.
        let emit_ids: Vec<u16> = self
            .netuids()
            .into_iter()
            .filter(|n| {
                self.subnet(*n).is_some_and(|s| {
                    !s.is_root()
                        && s.first_emission_block.is_some()
                        && s.subtoken_enabled
                        && s.registration_allowed
                })
            })
            .collect();
        let emit: Vec<&Subnet> = emit_ids.iter().filter_map(|n| self.subnet(*n)).collect();

        let inputs = ShareInputs::of(&emit);
        let enabled = &inputs.enabled;
        let shares = match self.emission_rule {
            EmissionRule::EmaPrice => tao_shares(&inputs.prices, &inputs.burned, enabled),
            EmissionRule::NetFlow => {
                let flow = FlowParams::default();
                let alpha = flow.alpha();
                let emas: Vec<I64F64> = emit
                    .iter()
                    .map(|s| flow_ema_step(I64F64::from_bits(s.flow_ema_bits), s.tao_flow, alpha))
                    .collect();
                disable(net_flow_shares(&emas, &flow), enabled)
            }
            EmissionRule::RootWeights => {
                let stored: Vec<U64F64> = emit
                    .iter()
                    .map(|s| U64F64::from_bits(s.root_share_bits))
                    .collect();
                let shares = self.root_epoch_if_due(height, &emit_ids, stored);
                disable(shares, enabled)
            }
        };
        let emit: Vec<&Subnet> = emit_ids.iter().filter_map(|n| self.subnet(*n)).collect();
        let root_sell = inputs.root_sell();

        let mut out = Vec::with_capacity(emit.len());
        let mut credits = Vec::new();
        let mut credited: u64 = 0;
        let terms = BlockTerms {
            height,
            minted,
            root_tao,
            tao_weight: tw,
            root_sell,
            moving_alpha_bits: self.params.moving_alpha_bits,
            ema_halving_blocks: self.params.ema_halving_blocks,
        };
        for (s, share) in emit.iter().zip(&shares) {
            let c = subnet_coinbase(s, *share, &terms);
            let credit = c.tao_in + c.excess_tao;
            credited += credit;
            if credit > 0 {
                credits.push((s.netuid, credit));
            }
            out.push(c);
        }
        self.emit(AmmEvent::CoinbaseRan(CoinbaseRan {
            block: height,
            minted,
            subnets: out,
            credits,
            recycled: minted.saturating_sub(credited),
        }));
        self.auto_claims(height);
        Ok(())
    }
}
