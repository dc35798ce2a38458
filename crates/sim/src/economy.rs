//! The economy at one moment, as figures that can be compared: what a
//! what-if replay puts side by side for the real cluster's logs and for
//! simulated runs. Built from the ledger's and the amm's states only, so
//! the same function reads a simulated run and an offline replay of a
//! cluster's logs.

use amm_core::Amm;
use keys::AccountId;
use ledger_core::Ledger;
use serde::Serialize;
use std::collections::BTreeMap;

/// The economy's state figures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Economy {
    pub block: u64,
    pub total_issuance_rao: u64,
    pub subnets: BTreeMap<u16, SubnetState>,
    pub accounts: BTreeMap<AccountId, AccountState>,
}

/// One subnet (root included).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SubnetState {
    pub tao_reserve: u64,
    pub alpha_reserve: u64,
    pub alpha_outstanding: u64,
    /// Spot price as U64F64 bits (exact) and as a decimal string.
    pub price_bits: u128,
    pub price: String,
    pub ema_price: String,
    /// TAO the ledger holds in the subnet's custody account.
    pub custody_rao: u64,
}

/// One account: its free TAO and its stake.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AccountState {
    pub free_rao: u64,
    /// Σ over its positions of `alpha × spot price`, floored each.
    pub stake_value_rao: u64,
    /// Its alpha per (netuid, hotkey).
    pub alpha: BTreeMap<(u16, AccountId), u64>,
}

impl Economy {
    /// Reads the figures off a ledger and an amm state.
    pub fn of(ledger: &Ledger, amm: &Amm) -> Economy {
        let subnets = amm
            .subnet_summaries()
            .into_iter()
            .map(|s| {
                (
                    s.netuid,
                    SubnetState {
                        tao_reserve: s.tao_reserve,
                        alpha_reserve: s.alpha_reserve,
                        alpha_outstanding: s.alpha_outstanding,
                        price_bits: s.price_bits,
                        price: s.price,
                        ema_price: s.moving_price,
                        custody_rao: ledger.custody(s.netuid),
                    },
                )
            })
            .collect();
        let mut accounts: BTreeMap<AccountId, AccountState> = ledger
            .accounts()
            .map(|(a, free)| {
                (
                    a,
                    AccountState {
                        free_rao: free,
                        ..Default::default()
                    },
                )
            })
            .collect();
        for coldkey in amm.positions.keys() {
            let positions = amm.position_values(coldkey);
            let entry = accounts.entry(*coldkey).or_default();
            entry.stake_value_rao = positions
                .iter()
                .fold(0u64, |t, (.., value)| t.saturating_add(*value));
            entry.alpha = positions
                .iter()
                .filter(|(_, _, alpha, _)| *alpha > 0)
                .map(|(n, h, alpha, _)| ((*n, *h), *alpha))
                .collect();
        }
        Economy {
            block: ledger.height(),
            total_issuance_rao: ledger.total_issuance(),
            subnets,
            accounts,
        }
    }
}
