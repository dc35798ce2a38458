//! Read-only answers for the service's queries. Prices are reported both as
//! raw fixed-point bits (exact) and as decimal strings for display.

use keys::AccountId;
use pool::Mechanism;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::fx;
use crate::state::{Amm, OpStatus, PotEntry, StakeLock, Tx};

/// One subnet at a glance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetSummary {
    pub netuid: u16,
    pub stable: bool,
    pub tao_reserve: u64,
    pub alpha_reserve: u64,
    pub alpha_outstanding: u64,
    pub protocol_alpha: u64,
    /// Spot price (U64F64 bits, a decimal string in JSON: they pass 2^64)
    /// and as a decimal.
    #[serde(with = "as_string")]
    pub price_bits: u128,
    pub price: String,
    /// EMA price (I96F32 bits) and as a decimal.
    #[serde(with = "as_string")]
    pub moving_price_bits: i128,
    pub moving_price: String,
    pub quote_weight: u64,
    pub fee_rate: u16,
    /// Pending pots summed over the FIFO.
    pub pending: PotEntry,
    /// Alpha this subnet mints per block at its current alpha issuance.
    pub alpha_emission_per_block: u64,
    /// Receives emission now (started, subtoken on, registration allowed).
    pub emitting: bool,
    /// `start_call` made: `FirstEmissionBlockNumber` is set.
    pub started: bool,
    pub first_emission_block: Option<u64>,
    /// `SubnetEmissionEnabled` (pool-side TAO emission; off for new subnets
    /// until Root enables it).
    pub emission_enabled: bool,
    pub subtoken_enabled: bool,
    pub registration_allowed: bool,
    /// `NetworkRegisteredAt` and `SubnetLocked` (0 for genesis subnets).
    pub registered_at: u64,
    pub locked: u64,
    pub owner: AccountId,
    pub owner_hotkey: AccountId,
    pub burned_alpha: u64,
    pub recycled_alpha: u64,
    pub dust: u64,
    pub root_owed: u64,
    /// Alpha bought and burned by neuron registrations (out of issuance).
    pub registration_burned_alpha: u64,
    #[serde(with = "as_string")]
    pub miner_burned_bits: u128,
}

/// 128-bit fixed-point bits travel as decimal strings: JSON numbers stop
/// at 64 bits in most readers.
mod as_string {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};
    use std::fmt::Display;
    use std::str::FromStr;

    pub fn serialize<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, T: FromStr, D: Deserializer<'de>>(d: D) -> Result<T, D::Error>
    where
        T::Err: Display,
    {
        String::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}

/// One stake position of a coldkey.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub netuid: u16,
    pub hotkey: AccountId,
    pub alpha: u64,
    /// `alpha × spot price`, floored (no slippage, no fee).
    pub tao_value: u64,
    /// The coldkey's locked mass on `netuid` now (subnet-wide: the same on
    /// every position of the subnet; 0 without a lock).
    pub locked: u64,
    /// The coldkey's alpha on `netuid` over all its hotkeys less `locked`:
    /// what may leave the subnet (subnet-wide, as `locked`).
    pub available: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Portfolio {
    pub coldkey: AccountId,
    pub positions: Vec<Position>,
    pub tao_value: u64,
    /// Root dividends claimable now, per (netuid, hotkey).
    pub claimable: Vec<(u16, AccountId, u64)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub height: u64,
    pub total_stake: u64,
    pub subnets: usize,
    pub alpha_outstanding: u128,
    pub pending_ops: usize,
}

impl Amm {
    pub fn subnet_summary(&self, netuid: u16) -> Option<SubnetSummary> {
        let s = self.subnets.get(&netuid)?;
        let pool = s.pool();
        let price = pool.price();
        let mut pending = PotEntry::default();
        for (_, e) in self.pots.range((netuid, 0)..=(netuid, u64::MAX)) {
            pending.add(e);
        }
        let issuance = s.alpha_in.saturating_add(s.alpha_out);
        Some(SubnetSummary {
            netuid,
            stable: s.mechanism == Mechanism::Stable,
            tao_reserve: s.tao,
            alpha_reserve: s.alpha_in,
            alpha_outstanding: s.alpha_out,
            protocol_alpha: s.protocol_alpha,
            price_bits: price.to_bits(),
            price: price.to_string(),
            moving_price_bits: s.moving_price_bits,
            moving_price: fixed::types::I96F32::from_bits(s.moving_price_bits).to_string(),
            quote_weight: s.quote_weight,
            fee_rate: s.fee_rate,
            pending,
            alpha_emission_per_block: if s.is_root() {
                0
            } else {
                ledger_core::emission::block_emission(issuance)
            },
            emitting: !s.is_root()
                && s.first_emission_block.is_some()
                && s.subtoken_enabled
                && s.registration_allowed,
            started: s.started(),
            first_emission_block: s.first_emission_block,
            emission_enabled: s.emission_enabled,
            subtoken_enabled: s.subtoken_enabled,
            registration_allowed: s.registration_allowed,
            registered_at: s.registered_at,
            locked: s.locked,
            owner: s.owner,
            owner_hotkey: s.owner_hotkey,
            burned_alpha: s.burned_alpha,
            recycled_alpha: s.recycled_alpha,
            dust: s.dust,
            root_owed: s.root_owed,
            registration_burned_alpha: s.registration_burned_alpha,
            miner_burned_bits: s.miner_burned_bits,
        })
    }

    /// Each emitting subnet's share of the next block's TAO emission under
    /// the active rule, in RAO per TAO minted (parts per 10^9): the credit
    /// (injection + chain buy) a dry run of the next block's coinbase gives
    /// it. The dry run changes nothing (`decide` takes `&self`).
    pub fn next_block_shares(&self) -> Vec<(u16, u64)> {
        use aggregate::Aggregate;
        let cmd = crate::Command::new(
            crate::Origin::Peer(crate::Peer::Ledger),
            crate::CommandBody::Block {
                height: self.height + 1,
                minted: 1_000_000_000,
            },
        );
        let Ok(events) = self.decide(&cmd) else {
            return Vec::new();
        };
        events
            .iter()
            .find_map(|e| match e {
                crate::AmmEvent::CoinbaseRan(c) => Some(
                    c.subnets
                        .iter()
                        .map(|s| (s.netuid, s.tao_in + s.excess_tao))
                        .collect(),
                ),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// Root validators' weights with their root stake and the block they
    /// were set at (`set_root_weights`): (hotkey, root stake, block, weights).
    pub fn root_weight_list(&self) -> Vec<(AccountId, u64, u64, crate::coinbase::RootWeights)> {
        self.root_weights
            .iter()
            .map(|(h, (at, w))| (*h, self.hotkey_root_stake(h), *at, w.clone()))
            .collect()
    }

    /// Every staked hotkey's total stake value,
    /// `Σ_n floor(TotalHotkeyAlpha[h][n] · spot price_n)` (U96F32, root at
    /// 1), as the chain's `get_total_stake_for_hotkey`; hotkeys with a
    /// value of 0 are left out. Governance computes the same from the
    /// alpha and prices of the `StakeReport`s (`hotkey_total_stake`).
    pub fn hotkey_totals(&self) -> BTreeMap<AccountId, u64> {
        let prices: BTreeMap<u16, fixed::types::U96F32> = self
            .subnets
            .iter()
            .map(|(n, s)| (*n, fx::from_u64f64(s.pool().price())))
            .collect();
        let mut totals: BTreeMap<AccountId, u64> = BTreeMap::new();
        for ((n, h), p) in &self.pools {
            let Some(price) = prices.get(n) else { continue };
            if p.value == 0 {
                continue;
            }
            let v = fx::floor(fx::mul(fx::u96(p.value), *price));
            let t = totals.entry(*h).or_default();
            *t = t.saturating_add(v);
        }
        totals.retain(|_, v| *v > 0);
        totals
    }

    /// A hotkey's stake on root (TAO, the stable pool).
    pub fn hotkey_root_stake(&self, hotkey: &AccountId) -> u64 {
        self.pools.get(&(0, *hotkey)).map_or(0, |p| p.value)
    }

    pub fn subnet_summaries(&self) -> Vec<SubnetSummary> {
        self.subnets
            .keys()
            .filter_map(|n| self.subnet_summary(*n))
            .collect()
    }

    /// A coldkey's positions as (netuid, hotkey, alpha, TAO value at spot,
    /// floored), the values as [`Amm::portfolio`] gives them, without its
    /// per-position lock figures (which cost a pass over the coldkey's
    /// positions each: quadratic for a coldkey behind thousands of
    /// hotkeys).
    pub fn position_values(&self, coldkey: &AccountId) -> Vec<(u16, AccountId, u64, u64)> {
        let mut out = Vec::new();
        for (n, h) in self.positions.get(coldkey).into_iter().flatten() {
            let alpha = self.stake(*n, h, coldkey);
            let price = self
                .subnets
                .get(n)
                .map(|s| s.pool().price())
                .unwrap_or_default();
            let tao_value = pool::fixed64::to_u64_floor(pool::fixed64::mul(
                price,
                pool::fixed64::from_u64(alpha),
            ));
            out.push((*n, *h, alpha, tao_value));
        }
        out
    }

    /// A coldkey's positions with their TAO value at spot, its locked and
    /// available alpha per subnet, and its claimable root dividends.
    pub fn portfolio(&self, coldkey: &AccountId) -> Portfolio {
        let tx = Tx::new(self);
        let mut positions = Vec::new();
        let mut claimable = Vec::new();
        let mut total = 0u64;
        for (n, h, alpha, tao_value) in self.position_values(coldkey) {
            total = total.saturating_add(tao_value);
            positions.push(Position {
                netuid: n,
                hotkey: h,
                alpha,
                tao_value,
                locked: tx.locked_alpha(coldkey, n),
                available: tx.available_alpha(coldkey, n),
            });
            if n == 0 {
                for m in tx.rated_netuids(&h) {
                    let owed = tx.owed(m, &h, coldkey);
                    if owed > 0 {
                        claimable.push((m, h, owed));
                    }
                }
            }
        }
        Portfolio {
            coldkey: *coldkey,
            positions,
            tao_value: total,
            claimable,
        }
    }

    /// A coldkey's alpha on (hotkey, netuid).
    pub fn stake(&self, netuid: u16, hotkey: &AccountId, coldkey: &AccountId) -> u64 {
        self.pools
            .get(&(netuid, *hotkey))
            .map_or(0, |p| p.value_of(coldkey))
    }

    /// A coldkey's alpha on `netuid` over all its hotkeys.
    pub fn coldkey_alpha(&self, coldkey: &AccountId, netuid: u16) -> u64 {
        Tx::new(self).coldkey_alpha(coldkey, netuid)
    }

    /// The coldkey's mirrored lock on `netuid` (as governance sent it).
    pub fn lock(&self, coldkey: &AccountId, netuid: u16) -> Option<&StakeLock> {
        self.locks.get(&(netuid, *coldkey))
    }

    /// The coldkey's locked mass on `netuid` at the amm's height.
    pub fn locked_alpha(&self, coldkey: &AccountId, netuid: u16) -> u64 {
        Tx::new(self).locked_alpha(coldkey, netuid)
    }

    /// What the unstake guard lets leave: the coldkey's alpha on `netuid`
    /// less its locked mass now.
    pub fn available_alpha(&self, coldkey: &AccountId, netuid: u16) -> u64 {
        Tx::new(self).available_alpha(coldkey, netuid)
    }

    /// `alpha + TaoWeight × root stake` of a hotkey on a subnet.
    pub fn stake_weight(&self, netuid: u16, hotkey: &AccountId) -> u64 {
        Tx::new(self).stake_weight(netuid, hotkey)
    }

    pub fn op(&self, op: &str) -> Option<&OpStatus> {
        self.ops.get(op)
    }

    pub fn totals(&self) -> Totals {
        Totals {
            height: self.height,
            total_stake: self.total_stake,
            subnets: self.subnets.len(),
            alpha_outstanding: self.subnets.values().map(|s| u128::from(s.alpha_out)).sum(),
            pending_ops: self
                .ops
                .values()
                .filter(|o| matches!(o, OpStatus::Pending { .. }))
                .count(),
        }
    }

    /// The spot price of a subnet's pool as U64F64 (`SubnetSummary::price_bits`
    /// without the rest of the summary).
    pub fn spot_price(&self, netuid: u16) -> Option<fixed::types::U64F64> {
        self.subnets.get(&netuid).map(|s| s.pool().price())
    }

    /// The EMA price of a subnet as U64F64 (1 for root).
    pub fn moving_price(&self, netuid: u16) -> Option<fixed::types::U64F64> {
        self.subnets
            .get(&netuid)
            .map(|s| fx::i96_to_u64f64(s.moving_price_bits))
    }
}
