//! The ledger state, how events change it, what it answers, and the
//! invariants it keeps.
//!
//! Only `BTreeMap`s and sets: the bincode encoding of the state is canonical,
//! so [`Ledger::digest`] compares states across processes and replays.
//! `evolve` never fails and never panics: `decide` has already checked every
//! sum, and evolve uses saturating arithmetic only so a bug cannot crash the
//! service (the invariant checks would report it instead).

use std::collections::BTreeMap;

use keys::AccountId;
use serde::{Deserialize, Serialize};

use crate::emission::{self, EmissionSchedule, TOTAL_SUPPLY};
use crate::event::*;
use crate::genesis::Params;

/// Name of the burn account (`AccountId::system`): tokenomics.md §4.3
/// `burn_tao` moves TAO there without changing total issuance.
pub const BURN_ACCOUNT_NAME: &str = "ledger/burn";

/// The burn account: no one holds its key; it only ever receives.
pub fn burn_account() -> AccountId {
    AccountId::system(BURN_ACCOUNT_NAME)
}

/// Where a subnet-registration lock stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LockStatus {
    Locked,
    Confirmed { netuid: u16 },
    Released,
}

/// What one saga operation id has done so far; kept forever so a retried
/// step is recognised (ids are bounded by `MAX_OP_LEN`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operation {
    Stake {
        coldkey: AccountId,
        netuid: u16,
        amount: u64,
        refunded: bool,
    },
    Payout {
        netuid: u16,
        to: AccountId,
        amount: u64,
    },
    Lock {
        coldkey: AccountId,
        amount: u64,
        status: LockStatus,
    },
    Registration {
        coldkey: AccountId,
        netuid: u16,
        amount: u64,
        refunded: bool,
    },
    Recycle {
        netuid: u16,
        amount: u64,
    },
    Burn {
        from: AccountId,
        amount: u64,
    },
    Settle {
        moves: Vec<crate::command::CustodyMove>,
    },
}

impl Operation {
    /// The record as its first step created it: later steps (refund,
    /// confirm, release) only change the status fields.
    pub(crate) fn as_requested(&self) -> Operation {
        let mut first = self.clone();
        match &mut first {
            Operation::Stake { refunded, .. } | Operation::Registration { refunded, .. } => {
                *refunded = false
            }
            Operation::Lock { status, .. } => *status = LockStatus::Locked,
            Operation::Payout { .. }
            | Operation::Recycle { .. }
            | Operation::Burn { .. }
            | Operation::Settle { .. } => {}
        }
        first
    }
}

/// The whole TAO ledger. `Default` is the empty ledger before genesis.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub(crate) params: Option<Params>,
    pub(crate) height: u64,
    pub(crate) last_timestamp_ms: u64,
    pub(crate) total_issuance: u64,
    /// Free balances; every entry is ≥ the existential deposit.
    pub(crate) balances: BTreeMap<AccountId, u64>,
    pub(crate) burn_balance: u64,
    /// TAO held for each subnet (pool reserves, registration burns).
    pub(crate) custody: BTreeMap<u16, u64>,
    /// Active subnet-registration locks by op id.
    pub(crate) locked: BTreeMap<String, u64>,
    /// Minted coinbase credit not yet claimed, by block.
    pub(crate) pending_credit: BTreeMap<u64, u64>,
    /// Claims of blocks still inside the claim window, so a retried claim is
    /// recognised; pruned as blocks leave the window.
    pub(crate) claims: BTreeMap<u64, Vec<(u16, u64)>>,
    pub(crate) operations: BTreeMap<String, Operation>,
}

fn add_to<K: Ord>(map: &mut BTreeMap<K, u64>, key: K, amount: u64) {
    if amount == 0 {
        return;
    }
    let v = map.entry(key).or_insert(0);
    *v = v.saturating_add(amount);
}

/// Subtracts and drops the entry at zero, so maps hold no empty entries.
fn sub_from<K: Ord>(map: &mut BTreeMap<K, u64>, key: K, amount: u64) {
    if let Some(v) = map.get_mut(&key) {
        *v = v.saturating_sub(amount);
        if *v == 0 {
            map.remove(&key);
        }
    }
}

impl Ledger {
    /// Applies one event (the `Aggregate::evolve` body).
    pub(crate) fn apply(&mut self, event: &LedgerEvent) {
        match event {
            LedgerEvent::GenesisApplied(e) => {
                self.params = Some(e.genesis.params());
                self.balances = e.genesis.balance_map();
                self.custody = e.genesis.custody_map();
                self.total_issuance = self
                    .balances
                    .values()
                    .chain(self.custody.values())
                    .fold(0u64, |a, b| a.saturating_add(*b));
            }
            LedgerEvent::BlockProduced(e) => {
                self.height = e.height;
                self.last_timestamp_ms = e.timestamp_ms;
                self.total_issuance = self.total_issuance.saturating_add(e.minted);
                add_to(&mut self.pending_credit, e.height, e.minted);
                let window = self.params.as_ref().map_or(0, |p| p.coinbase_claim_window);
                let cutoff = e.height.saturating_sub(window);
                self.claims = self.claims.split_off(&cutoff);
            }
            LedgerEvent::CoinbaseRecycled(e) => {
                sub_from(&mut self.pending_credit, e.block, e.amount);
                self.total_issuance = self.total_issuance.saturating_sub(e.amount);
            }
            LedgerEvent::CoinbaseClaimed(e) => {
                for (netuid, amount) in &e.credits {
                    sub_from(&mut self.pending_credit, e.block, *amount);
                    add_to(&mut self.custody, *netuid, *amount);
                }
                // With credit that never expires, claims arrive once through
                // the amm's stream (and a repeat finds no credit left), so
                // they are not remembered: the map would grow every block.
                let window = self.params.as_ref().map_or(0, |p| p.coinbase_claim_window);
                if window != crate::genesis::NEVER_EXPIRE {
                    self.claims.insert(e.block, e.credits.clone());
                }
            }
            LedgerEvent::Transferred(e) => {
                sub_from(&mut self.balances, e.from, e.amount.saturating_add(e.fee));
                add_to(&mut self.balances, e.to, e.amount);
                // Burned, or paid to the fee recipient (fee burning off) if
                // it is not the payer and the fee leaves it a live account:
                // decided from the state alone, so replay pays exactly as
                // live did. (The payer's own fee is burned: its transfer
                // may reap it in the same decision.)
                let recipient = self.params.as_ref().and_then(|p| {
                    let r = p.fees.recipient.filter(|r| *r != e.from)?;
                    let after = self
                        .balances
                        .get(&r)
                        .copied()
                        .unwrap_or(0)
                        .saturating_add(e.fee);
                    (e.fee > 0 && after >= p.existential_deposit).then_some(r)
                });
                match recipient {
                    Some(r) => add_to(&mut self.balances, r, e.fee),
                    None => self.total_issuance = self.total_issuance.saturating_sub(e.fee),
                }
            }
            LedgerEvent::AccountReaped(e) => {
                self.balances.remove(&e.account);
                self.total_issuance = self.total_issuance.saturating_sub(e.dust);
            }
            LedgerEvent::StakeFunded(e) => {
                sub_from(&mut self.balances, e.coldkey, e.amount);
                add_to(&mut self.custody, e.netuid, e.amount);
                self.operations.insert(
                    e.op.clone(),
                    Operation::Stake {
                        coldkey: e.coldkey,
                        netuid: e.netuid,
                        amount: e.amount,
                        refunded: false,
                    },
                );
            }
            LedgerEvent::StakeRefunded(e) => {
                sub_from(&mut self.custody, e.netuid, e.amount);
                add_to(&mut self.balances, e.coldkey, e.amount);
                if let Some(Operation::Stake { refunded, .. }) = self.operations.get_mut(&e.op) {
                    *refunded = true;
                }
            }
            LedgerEvent::CustodyPaid(e) => {
                sub_from(&mut self.custody, e.netuid, e.amount);
                add_to(&mut self.balances, e.to, e.amount);
                self.operations.insert(
                    e.op.clone(),
                    Operation::Payout {
                        netuid: e.netuid,
                        to: e.to,
                        amount: e.amount,
                    },
                );
            }
            LedgerEvent::LockedForSubnet(e) => {
                sub_from(&mut self.balances, e.coldkey, e.amount);
                self.locked.insert(e.op.clone(), e.amount);
                self.operations.insert(
                    e.op.clone(),
                    Operation::Lock {
                        coldkey: e.coldkey,
                        amount: e.amount,
                        status: LockStatus::Locked,
                    },
                );
            }
            LedgerEvent::LockConfirmed(e) => {
                self.locked.remove(&e.op);
                add_to(&mut self.custody, e.netuid, e.amount);
                if let Some(Operation::Lock { status, .. }) = self.operations.get_mut(&e.op) {
                    *status = LockStatus::Confirmed { netuid: e.netuid };
                }
            }
            LedgerEvent::LockReleased(e) => {
                self.locked.remove(&e.op);
                add_to(&mut self.balances, e.coldkey, e.amount);
                if let Some(Operation::Lock { status, .. }) = self.operations.get_mut(&e.op) {
                    *status = LockStatus::Released;
                }
            }
            LedgerEvent::RegistrationFunded(e) => {
                sub_from(&mut self.balances, e.coldkey, e.amount);
                add_to(&mut self.custody, e.netuid, e.amount);
                self.operations.insert(
                    e.op.clone(),
                    Operation::Registration {
                        coldkey: e.coldkey,
                        netuid: e.netuid,
                        amount: e.amount,
                        refunded: false,
                    },
                );
            }
            LedgerEvent::RegistrationRefunded(e) => {
                sub_from(&mut self.custody, e.netuid, e.amount);
                add_to(&mut self.balances, e.coldkey, e.amount);
                if let Some(Operation::Registration { refunded, .. }) =
                    self.operations.get_mut(&e.op)
                {
                    *refunded = true;
                }
            }
            LedgerEvent::CustodyRecycled(e) => {
                sub_from(&mut self.custody, e.netuid, e.amount);
                self.total_issuance = self.total_issuance.saturating_sub(e.amount);
                self.operations.insert(
                    e.op.clone(),
                    Operation::Recycle {
                        netuid: e.netuid,
                        amount: e.amount,
                    },
                );
            }
            LedgerEvent::CustodySettled(e) => {
                use crate::command::CustodyDest;
                let ed = self.params.as_ref().map_or(0, |p| p.existential_deposit);
                let mut credits: BTreeMap<AccountId, u64> = BTreeMap::new();
                for m in &e.moves {
                    sub_from(&mut self.custody, m.from_netuid, m.amount);
                    match &m.to {
                        CustodyDest::Account(who) => {
                            let c = credits.entry(*who).or_insert(0);
                            *c = c.saturating_add(m.amount);
                        }
                        CustodyDest::Custody(to) => add_to(&mut self.custody, *to, m.amount),
                        CustodyDest::Burn => {
                            self.burn_balance = self.burn_balance.saturating_add(m.amount)
                        }
                        CustodyDest::Recycle => {
                            self.total_issuance = self.total_issuance.saturating_sub(m.amount)
                        }
                    }
                }
                for (who, amount) in credits {
                    let before = self.balances.get(&who).copied().unwrap_or(0);
                    if before.saturating_add(amount) < ed {
                        self.total_issuance = self.total_issuance.saturating_sub(amount);
                    } else {
                        add_to(&mut self.balances, who, amount);
                    }
                }
                self.operations.insert(
                    e.op.clone(),
                    Operation::Settle {
                        moves: e.moves.clone(),
                    },
                );
            }
            LedgerEvent::StepRejected(_) => {}
            LedgerEvent::TaoBurned(e) => {
                sub_from(&mut self.balances, e.from, e.amount);
                self.burn_balance = self.burn_balance.saturating_add(e.amount);
                self.operations.insert(
                    e.op.clone(),
                    Operation::Burn {
                        from: e.from,
                        amount: e.amount,
                    },
                );
            }
        }
    }

    // ----- queries -----

    /// Free balance (the burn account reports its burned total).
    pub fn balance(&self, who: &AccountId) -> u64 {
        if *who == burn_account() {
            return self.burn_balance;
        }
        self.balances.get(who).copied().unwrap_or(0)
    }

    /// Subtensor `TotalIssuance`: drives the halving.
    pub fn total_issuance(&self) -> u64 {
        self.total_issuance
    }

    pub fn height(&self) -> u64 {
        self.height
    }

    pub fn last_timestamp_ms(&self) -> u64 {
        self.last_timestamp_ms
    }

    /// The emission schedule at the current total issuance.
    pub fn schedule(&self) -> EmissionSchedule {
        emission::schedule(self.total_issuance)
    }

    /// TAO held for subnet `netuid`.
    pub fn custody(&self, netuid: u16) -> u64 {
        self.custody.get(&netuid).copied().unwrap_or(0)
    }

    /// All non-empty custody accounts.
    pub fn custody_accounts(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.custody.iter().map(|(n, v)| (*n, *v))
    }

    /// TAO in active subnet-registration locks.
    pub fn locked_total(&self) -> u64 {
        self.locked.values().fold(0, |a, b| a.saturating_add(*b))
    }

    /// The amount an active lock holds.
    pub fn locked(&self, op: &str) -> Option<u64> {
        self.locked.get(op).copied()
    }

    /// Unclaimed coinbase credit over all blocks.
    pub fn pending_credit(&self) -> u64 {
        self.pending_credit
            .values()
            .fold(0, |a, b| a.saturating_add(*b))
    }

    /// Unclaimed coinbase credit of one block.
    pub fn pending_credit_of(&self, block: u64) -> u64 {
        self.pending_credit.get(&block).copied().unwrap_or(0)
    }

    pub fn burn_account_balance(&self) -> u64 {
        self.burn_balance
    }

    /// Accounts with a free balance, in key order.
    pub fn accounts(&self) -> impl Iterator<Item = (AccountId, u64)> + '_ {
        self.balances.iter().map(|(k, v)| (*k, *v))
    }

    /// Genesis parameters; `None` before genesis.
    pub fn params(&self) -> Option<&Params> {
        self.params.as_ref()
    }

    /// What a saga operation id has done.
    pub fn operation(&self, op: &str) -> Option<&Operation> {
        self.operations.get(op)
    }

    /// The accounting identities the ledger must always satisfy:
    /// * total issuance = Σ free + Σ custody + Σ locked + Σ pending credit +
    ///   burn account, and ≤ 21e15;
    /// * every free balance ≥ the existential deposit; no empty entries;
    /// * the lock map matches the operations in `Locked` status;
    /// * before genesis, everything is empty.
    pub fn check_invariants(&self) -> Result<(), String> {
        let sum = |m: &mut dyn Iterator<Item = u64>| m.map(u128::from).sum::<u128>();
        let free = sum(&mut self.balances.values().copied());
        let custody = sum(&mut self.custody.values().copied());
        let locked = sum(&mut self.locked.values().copied());
        let pending = sum(&mut self.pending_credit.values().copied());
        let held = free + custody + locked + pending + u128::from(self.burn_balance);
        if held != u128::from(self.total_issuance) {
            return Err(format!(
                "total issuance {} != free {free} + custody {custody} + locked {locked} + pending {pending} + burn {}",
                self.total_issuance, self.burn_balance
            ));
        }
        if self.total_issuance > TOTAL_SUPPLY {
            return Err(format!(
                "total issuance {} above the cap",
                self.total_issuance
            ));
        }
        let Some(params) = &self.params else {
            return if *self == Ledger::default() {
                Ok(())
            } else {
                Err("state before genesis is not empty".into())
            };
        };
        if let Some((who, b)) = self
            .balances
            .iter()
            .find(|(_, b)| **b < params.existential_deposit)
        {
            return Err(format!("{who} holds {b}, below the existential deposit"));
        }
        if self.balances.contains_key(&burn_account()) {
            return Err("the burn account has a free balance entry".into());
        }
        if self.custody.values().any(|v| *v == 0) || self.pending_credit.values().any(|v| *v == 0) {
            return Err("empty custody or pending-credit entry".into());
        }
        let oldest_claimable = self.height.saturating_sub(params.coinbase_claim_window);
        if let Some(b) = self
            .pending_credit
            .keys()
            .find(|b| **b > self.height || **b < oldest_claimable)
        {
            return Err(format!(
                "pending credit for block {b} outside the claim window"
            ));
        }
        let active: BTreeMap<String, u64> = self
            .operations
            .iter()
            .filter_map(|(op, rec)| match rec {
                Operation::Lock {
                    amount,
                    status: LockStatus::Locked,
                    ..
                } => Some((op.clone(), *amount)),
                _ => None,
            })
            .collect();
        if active != self.locked {
            return Err("lock map disagrees with the operations in Locked status".into());
        }
        Ok(())
    }
}
