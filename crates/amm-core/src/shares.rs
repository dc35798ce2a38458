//! The three rules that have decided each subnet's share of the block's TAO
//! emission on the reference chain (issue 9), as pure functions:
//!
//! - [`EmissionRule::RootWeights`]: before dTAO (Aug 2023 → Feb 2025), root
//!   validators voted weights over netuids and every root tempo the chain
//!   turned them into `EmissionValues` (governance.md §1.3):
//!   [`root_weight_shares`];
//! - [`EmissionRule::EmaPrice`]: today's rule (tokenomics.md §2.2, CURRENT):
//!   [`crate::coinbase::tao_shares`];
//! - [`EmissionRule::NetFlow`]: Nov 2025 → Jun 2026, an EMA of each subnet's
//!   net staking flow (tokenomics.md §2.2, OLDER rules): [`flow_ema_step`]
//!   and [`net_flow_shares`].
//!
//! All arithmetic is fixed-point (`I64F64`, as the chain's root epoch and
//! flow EMAs used), with the chain's truncating multiplies and divides; no
//! floats. The outputs are `U64F64` shares summing to at most 1, the form
//! the coinbase multiplies by the block's emission.

use fixed::types::{I64F64, U64F64};
use serde::{Deserialize, Serialize};

/// Which rule splits the block's TAO emission across subnets. Chosen at
/// genesis (`economy.emission_rule`), changed by governance (a passed
/// proposal or the bootstrap admin); every switch is an event, so replay
/// reproduces it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum EmissionRule {
    /// Root validators' weights over netuids, recomputed every root tempo.
    RootWeights,
    /// EMA price × (1 − MinerBurned), renormalised (the chain today).
    #[default]
    EmaPrice,
    /// The net TAO flow EMA; subnets with negative flow get nothing.
    NetFlow,
}

impl EmissionRule {
    pub const ALL: [EmissionRule; 3] = [
        EmissionRule::RootWeights,
        EmissionRule::EmaPrice,
        EmissionRule::NetFlow,
    ];

    /// The name used in genesis files, the CLI and the subnet table.
    pub fn as_str(self) -> &'static str {
        match self {
            EmissionRule::RootWeights => "root-weights",
            EmissionRule::EmaPrice => "ema-price",
            EmissionRule::NetFlow => "net-flow",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for EmissionRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

const I_ZERO: I64F64 = I64F64::ZERO;
const I_ONE: I64F64 = I64F64::ONE;

/// `FlowEmaSmoothingFactor` default (tokenomics.md §5): divided by
/// `i64::MAX` it is ≈ 3.2e-6, a half-life of ≈ 216,000 blocks (30 days).
pub const DEFAULT_FLOW_SMOOTHING: u64 = 29_597_889_189_277;

/// The flow rule's parameters (`FlowEmaSmoothingFactor`, `TaoFlowCutoff`,
/// `FlowNormExponent`), chain defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FlowParams {
    /// The EMA coefficient is `smoothing / i64::MAX`.
    pub smoothing: u64,
    /// `TaoFlowCutoff` as I64F64 bits (RAO per block); default 0.
    pub cutoff_bits: i128,
    /// `FlowNormExponent`; default 1. Integer exponents only (see
    /// [`net_flow_shares`]).
    pub exponent: u8,
}

impl Default for FlowParams {
    fn default() -> Self {
        FlowParams {
            smoothing: DEFAULT_FLOW_SMOOTHING,
            cutoff_bits: 0,
            exponent: 1,
        }
    }
}

impl FlowParams {
    /// `a = FlowEmaSmoothingFactor / i64::MAX` (truncated).
    pub fn alpha(&self) -> I64F64 {
        I64F64::from_num(self.smoothing)
            .checked_div(I64F64::from_num(i64::MAX))
            .unwrap_or(I_ZERO)
            .min(I_ONE)
    }
}

/// One block of the flow EMA: `ema' = (1 − a)·ema + a·flow`, where `flow`
/// is the block's net TAO flow into the subnet in RAO (staked in minus
/// unstaked out, fees included). Saturating: a flow beyond ±2^63 RAO per
/// block cannot happen (21M TAO is 2.1e16 RAO).
pub fn flow_ema_step(ema: I64F64, flow: i128, alpha: I64F64) -> I64F64 {
    let flow = I64F64::saturating_from_num(flow);
    (I_ONE - alpha)
        .saturating_mul(ema)
        .saturating_add(alpha.saturating_mul(flow))
}

/// Net-flow shares (`get_shares_flow`): `L = max(cutoff, min(0, min_i S_i))`,
/// `z_i = max(S_i − L, 0)`, `share_i = z_i^p / Σ z^p`. With the default
/// cutoff 0, `L = 0`: a subnet whose flow EMA is negative gets zero.
///
/// For `p > 1` the `z` are first divided by their maximum, so the powers
/// stay in range (the ratio is unchanged up to rounding); the chain's
/// exponent is a fixed-point number, ours an integer (default 1, the only
/// value the chain ever used).
pub fn net_flow_shares(emas: &[I64F64], params: &FlowParams) -> Vec<U64F64> {
    let cutoff = I64F64::from_bits(params.cutoff_bits);
    let min = emas.iter().copied().fold(I_ZERO, I64F64::min);
    let floor = cutoff.max(min.min(I_ZERO));
    let mut z: Vec<I64F64> = emas
        .iter()
        .map(|s| s.saturating_sub(floor).max(I_ZERO))
        .collect();
    let p = params.exponent.max(1);
    if p > 1 {
        let max = z.iter().copied().fold(I_ZERO, I64F64::max);
        if max > I_ZERO {
            for x in &mut z {
                let r = x.checked_div(max).unwrap_or(I_ZERO);
                let mut acc = r;
                for _ in 1..p {
                    acc = acc.saturating_mul(r);
                }
                *x = acc;
            }
        }
    }
    normalize_to_shares(&z)
}

/// `x_i / Σ x` as `U64F64` (all zero when the sum is zero), each truncated.
fn normalize_to_shares(x: &[I64F64]) -> Vec<U64F64> {
    let sum = x
        .iter()
        .fold(I_ZERO, |a, v| a.saturating_add((*v).max(I_ZERO)));
    x.iter()
        .map(|v| {
            if sum <= I_ZERO || *v <= I_ZERO {
                U64F64::ZERO
            } else {
                let s = v.checked_div(sum).unwrap_or(I_ZERO);
                U64F64::from_bits(s.to_bits() as u128)
            }
        })
        .collect()
}

/// Root's defaults: `Rho` 10 and `Kappa` 32,767 (/65,535 ≈ 0.5).
pub const ROOT_RHO: u16 = 10;
pub const ROOT_KAPPA: u16 = 32_767;

/// One root validator's vote: its stake (RAO) and its weights over netuids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootVote<'a> {
    pub stake: u64,
    /// (netuid, weight); netuids outside the emit set are ignored.
    pub weights: &'a [(u16, u16)],
}

/// Root-weight shares over `netuids` (`root_epoch`, governance.md §1.3):
///
/// 1. `S` = the validators' stakes, normalised to sum 1;
/// 2. `W` = each validator's weights over `netuids`, each row normalised;
/// 3. `rank_j = Σ_i W_ij·S_i`;
/// 4. `trust_j = Σ S_i` over validators with `W_ij > 0`;
/// 5. `consensus_j = 1 / (1 + exp(−rho·(trust_j − kappa)))`, `kappa` over 65,535;
/// 6. `share_j ∝ consensus_j·rank_j`, normalised.
///
/// No stake or no weights: every share is zero (nothing is emitted to
/// subnets; the ledger recycles the block's TAO, as unclaimed credit).
pub fn root_weight_shares(
    netuids: &[u16],
    votes: &[RootVote<'_>],
    rho: u16,
    kappa: u16,
) -> Vec<U64F64> {
    let n = netuids.len();
    let mut stake: Vec<I64F64> = votes.iter().map(|v| I64F64::from_num(v.stake)).collect();
    inplace_normalize(&mut stake);
    let mut rank = vec![I_ZERO; n];
    let mut trust = vec![I_ZERO; n];
    for (v, s) in votes.iter().zip(&stake) {
        let mut row = vec![I_ZERO; n];
        for &(netuid, w) in v.weights {
            if let Ok(j) = netuids.binary_search(&netuid) {
                row[j] = row[j].saturating_add(I64F64::from_num(w));
            }
        }
        inplace_normalize(&mut row);
        for j in 0..n {
            if row[j] > I_ZERO {
                rank[j] = rank[j].saturating_add(row[j].saturating_mul(*s));
                trust[j] = trust[j].saturating_add(*s);
            }
        }
    }
    let total: I64F64 = stake.iter().fold(I_ZERO, |a, s| a.saturating_add(*s));
    let kappa = I64F64::from_num(kappa)
        .checked_div(I64F64::from_num(u16::MAX))
        .unwrap_or(I_ZERO);
    let rho = I64F64::from_num(rho);
    let weighted: Vec<I64F64> = trust
        .iter()
        .zip(&rank)
        .map(|(t, r)| {
            let t = if total > I_ZERO {
                t.checked_div(total).unwrap_or(I_ZERO)
            } else {
                I_ZERO
            };
            let shifted = t - kappa;
            let temperatured = shifted.saturating_mul(rho);
            let consensus = match exp_i64f64(-temperatured) {
                Some(e) => I_ONE.checked_div(I_ONE + e).unwrap_or(I_ZERO),
                None => I_ZERO,
            };
            consensus.saturating_mul(*r)
        })
        .collect();
    normalize_to_shares(&weighted)
}

/// `inplace_normalize_64`: divide by the sum unless it is zero.
fn inplace_normalize(x: &mut [I64F64]) {
    let sum = x.iter().fold(I_ZERO, |a, v| a.saturating_add(*v));
    if sum == I_ZERO {
        return;
    }
    for v in x {
        *v = v.checked_div(sum).unwrap_or(I_ZERO);
    }
}

/// e as substrate_fixed's I9F23 constant (`floor(e·2²³)`), which its `exp`
/// returns for an input of exactly 1.
const E_I9F23_BITS: i128 = 22_802_600;

/// `substrate_fixed::transcendental::exp::<I64F64, I64F64>`: the Taylor
/// series, each term floored by the multiply and truncated by the divide,
/// for `i` in `2..64` (the type's fractional bits) or until a term is 0;
/// a negative input is `1 / exp(|x|)`. `None` on overflow.
pub fn exp_i64f64(x: I64F64) -> Option<I64F64> {
    if x == I_ZERO {
        return Some(I_ONE);
    }
    if x == I_ONE {
        return Some(I64F64::from_bits(E_I9F23_BITS << (64 - 23)));
    }
    let neg = x < I_ZERO;
    let x = if neg { x.checked_neg()? } else { x };
    let mut result = x.checked_add(I_ONE)?;
    let mut term = x;
    for i in 2..64i32 {
        term = term.checked_mul(x)?;
        term = term.checked_div(I64F64::from_num(i))?;
        result = result.checked_add(term)?;
        if term == I_ZERO {
            break;
        }
    }
    if neg {
        result = I_ONE.checked_div(result)?;
    }
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: U64F64) -> f64 {
        // Test-only: compare against hand-computed decimals.
        x.to_num::<f64>()
    }

    fn vote(stake: u64, weights: &[(u16, u16)]) -> RootVote<'_> {
        RootVote { stake, weights }
    }

    /// The reference sigmoid with root's rho 10 and kappa 32767/65535, in
    /// f64 (test only: the hand computation the fixed-point one must match).
    fn root_consensus(trust: f64) -> f64 {
        let kappa = f64::from(ROOT_KAPPA) / f64::from(u16::MAX);
        1.0 / (1.0 + (-f64::from(ROOT_RHO) * (trust - kappa)).exp())
    }

    #[test]
    fn rule_names_round_trip() {
        for r in EmissionRule::ALL {
            assert_eq!(EmissionRule::parse(r.as_str()), Some(r));
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
        }
        assert_eq!(EmissionRule::default(), EmissionRule::EmaPrice);
        assert_eq!(EmissionRule::parse("price"), None);
    }

    #[test]
    fn exp_matches_the_series_at_known_points() {
        // exp(0) = 1 exactly, exp(1) is the chain's I9F23 constant.
        assert_eq!(exp_i64f64(I_ZERO), Some(I_ONE));
        assert_eq!(exp_i64f64(I_ONE).unwrap().to_bits(), 22_802_600i128 << 41);
        for (x, want) in [
            (2.5f64, 12.182_493_960_703_473),
            (-2.5, 0.082_084_998_623_898_8),
            (-5.0, 0.006_737_946_999_085_467),
            (0.25, 1.284_025_416_687_741_5),
        ] {
            let got = exp_i64f64(I64F64::from_num(x)).unwrap().to_num::<f64>();
            assert!((got - want).abs() < 1e-12, "exp({x}) = {got}, want {want}");
        }
        assert_eq!(exp_i64f64(I64F64::from_num(50)), None, "e^50 > 2^63");
    }

    /// Two validators, two subnets, by hand (governance.md §1.3):
    /// S = [0.75, 0.25]; A weights 1 and 2 equally, B only 2.
    /// rank = [0.375, 0.625], trust = [0.75, 1.0];
    /// kappa = 32767/65535 = 0.4999923705...;
    /// c1 = 1/(1+e^(−10·(0.75−κ))) = 0.924146...,
    /// c2 = 1/(1+e^(−10·(1−κ))) = 0.993307...;
    /// c·rank = [0.346555, 0.620817] → shares [0.358244, 0.641756].
    #[test]
    fn root_weights_two_validators_two_subnets() {
        let a = [(1u16, 1u16), (2, 1)];
        let b = [(2u16, 65_535u16)];
        let votes = [vote(3_000_000_000_000, &a), vote(1_000_000_000_000, &b)];
        let s = root_weight_shares(&[1, 2], &votes, ROOT_RHO, ROOT_KAPPA);
        let (w1, w2) = (root_consensus(0.75) * 0.375, root_consensus(1.0) * 0.625);
        let want = [w1 / (w1 + w2), w2 / (w1 + w2)];
        for (got, want) in s.iter().zip(want) {
            assert!((f(*got) - want).abs() < 1e-12, "{} vs {want}", f(*got));
        }
        assert!((f(s[0]) - 0.358_244).abs() < 1e-6);
        assert!(s[0] + s[1] <= U64F64::ONE);
    }

    /// A subnet nobody weights gets nothing; weights for netuids outside
    /// the set are ignored; one validator alone puts its row through a
    /// consensus of 1/(1+e^(−10·(1−κ))) on every subnet it weights, so the
    /// shares are its normalised row.
    #[test]
    fn root_weights_edges() {
        let only = [(1u16, 100u16), (3, 300), (99, 1000)];
        let votes = [vote(5, &only)];
        let s = root_weight_shares(&[1, 2, 3], &votes, ROOT_RHO, ROOT_KAPPA);
        assert_eq!(s[1], U64F64::ZERO);
        assert!((f(s[0]) - 0.25).abs() < 1e-15);
        assert!((f(s[2]) - 0.75).abs() < 1e-15);

        // No votes, or no stake: nothing.
        assert!(root_weight_shares(&[1, 2], &[], ROOT_RHO, ROOT_KAPPA)
            .iter()
            .all(|x| *x == U64F64::ZERO));
        let zero = [vote(0, &only)];
        assert!(root_weight_shares(&[1, 3], &zero, ROOT_RHO, ROOT_KAPPA)
            .iter()
            .all(|x| *x == U64F64::ZERO));
    }

    /// A minority's favourite is damped by the sigmoid: 10% of the stake on
    /// subnet 2 alone yields trust 0.1 there, consensus ≈ 0.0180, so
    /// subnet 2 gets about 0.2% of the emission, not 10%.
    #[test]
    fn root_weights_sigmoid_damps_a_minority() {
        let major = [(1u16, 1u16)];
        let minor = [(2u16, 1u16)];
        let votes = [vote(900, &major), vote(100, &minor)];
        let s = root_weight_shares(&[1, 2], &votes, ROOT_RHO, ROOT_KAPPA);
        let (c1, c2) = (root_consensus(0.9), root_consensus(0.1));
        let want2 = c2 * 0.1 / (c1 * 0.9 + c2 * 0.1);
        assert!((f(s[1]) - want2).abs() < 1e-12, "{} vs {want2}", f(s[1]));
        assert!(f(s[1]) < 0.003);
    }

    /// The EMA on the spec's parameters: a = 29,597,889,189,277 / (2^63−1)
    /// = 3.2090…e-6. One block of +1,000 TAO from 0 gives a·10^12 RAO;
    /// the half-life is ln 2 / a ≈ 216,000 blocks.
    #[test]
    fn flow_ema_on_the_spec_parameters() {
        let p = FlowParams::default();
        let a = p.alpha();
        let want_a = 29_597_889_189_277f64 / 9_223_372_036_854_775_807f64;
        assert!((a.to_num::<f64>() - want_a).abs() < 1e-18);
        let e1 = flow_ema_step(I_ZERO, 1_000_000_000_000, a);
        assert!((e1.to_num::<f64>() - want_a * 1e12).abs() < 1e-3);
        // Decay with no flow: after the half-life the EMA has halved.
        let half_life = (std::f64::consts::LN_2 / want_a).round() as u32;
        assert!((215_000..217_000).contains(&half_life), "{half_life}");
        let mut e = I64F64::from_num(1_000_000);
        for _ in 0..half_life {
            e = flow_ema_step(e, 0, a);
        }
        assert!((e.to_num::<f64>() - 500_000.0).abs() < 5.0, "{e}");
        // Negative flows make a negative EMA.
        assert!(flow_ema_step(I_ZERO, -5, a) < I_ZERO);
    }

    /// Shares from flow EMAs: negative subnets get zero, the rest split
    /// in proportion (exponent 1); exponent 2 favours the larger flow.
    #[test]
    fn net_flow_shares_cut_negative_flows() {
        let emas = [
            I64F64::from_num(300),
            I64F64::from_num(-50),
            I64F64::from_num(100),
            I64F64::ZERO,
        ];
        let s = net_flow_shares(&emas, &FlowParams::default());
        assert_eq!(s[1], U64F64::ZERO);
        assert_eq!(s[3], U64F64::ZERO);
        assert!((f(s[0]) - 0.75).abs() < 1e-15);
        assert!((f(s[2]) - 0.25).abs() < 1e-15);

        let sq = net_flow_shares(
            &emas,
            &FlowParams {
                exponent: 2,
                ..FlowParams::default()
            },
        );
        assert!((f(sq[0]) - 0.9).abs() < 1e-15, "{}", f(sq[0]));
        assert!((f(sq[2]) - 0.1).abs() < 1e-15);

        // A cutoff above zero raises the floor: L = max(cutoff, min(0, min S)).
        let c = net_flow_shares(
            &emas,
            &FlowParams {
                cutoff_bits: I64F64::from_num(100).to_bits(),
                ..FlowParams::default()
            },
        );
        assert!((f(c[0]) - 1.0).abs() < 1e-15);
        assert_eq!(c[2], U64F64::ZERO);

        // All negative: nothing.
        let neg = net_flow_shares(&[I64F64::from_num(-1)], &FlowParams::default());
        assert_eq!(neg, vec![U64F64::ZERO]);
    }
}
