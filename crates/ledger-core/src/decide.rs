//! `decide`: which events a command produces, or why it is refused.
//!
//! Checks run in a fixed order: genesis, origin, mode, operation id,
//! idempotency, amounts, balances. Every sum is checked; nothing here
//! mutates the state, so a rejection leaves it exactly as it was.

use keys::AccountId;

use crate::command::{
    fee_weight, Command, CommandBody, CustodyDest, CustodyMove, Origin, MAX_ADVANCE_BLOCKS,
    MAX_OP_LEN,
};
use crate::emission::{block_emission, mint_amount};
use crate::event::*;
use crate::genesis::{Clock, Params};
use crate::rejection::Rejection;
use crate::state::{burn_account, Ledger, LockStatus, Operation};

const PERBILL: u128 = 1_000_000_000;

/// The op a saga step is keyed by (`coinbase/<block>` for claims).
fn step_op(body: &CommandBody) -> String {
    match body {
        CommandBody::FundStake { op, .. }
        | CommandBody::RefundStake { op }
        | CommandBody::PayFromCustody { op, .. }
        | CommandBody::LockForSubnet { op, .. }
        | CommandBody::ConfirmLock { op, .. }
        | CommandBody::ReleaseLock { op }
        | CommandBody::FundRegistration { op, .. }
        | CommandBody::RefundRegistration { op }
        | CommandBody::RecycleFromCustody { op, .. }
        | CommandBody::BurnTao { op, .. }
        | CommandBody::Settle { op, .. } => op.clone(),
        CommandBody::ClaimCoinbase { block, .. } => format!("coinbase/{block}"),
        _ => String::new(),
    }
}

/// A rejection's name (its variant), as replies and `StepRejected` carry it.
pub fn rejection_code(r: &Rejection) -> String {
    let debug = format!("{r:?}");
    debug
        .split(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Whether a create-type step is new or a retry of the same request.
enum Step {
    Fresh,
    Repeat,
}

impl Ledger {
    pub(crate) fn decide_command(&self, cmd: &Command) -> Result<Vec<LedgerEvent>, Rejection> {
        if let CommandBody::ApplyGenesis(genesis) = &cmd.body {
            if cmd.origin != Origin::Clock {
                return Err(Rejection::BadOrigin);
            }
            if self.params.is_some() {
                return Err(Rejection::GenesisAlreadyApplied);
            }
            genesis.validate().map_err(Rejection::InvalidGenesis)?;
            return Ok(vec![LedgerEvent::GenesisApplied(GenesisApplied {
                genesis: genesis.clone(),
            })]);
        }
        let params = self.params.as_ref().ok_or(Rejection::GenesisNotApplied)?;
        match &cmd.body {
            CommandBody::ApplyGenesis(_) => unreachable!("handled above"),
            CommandBody::ProduceBlock { timestamp_ms } => {
                if cmd.origin != Origin::Clock {
                    return Err(Rejection::BadOrigin);
                }
                if params.clock == Clock::Manual {
                    return Err(Rejection::AutoClockDisabled);
                }
                self.produce_blocks(params, 1, *timestamp_ms, 0)
            }
            CommandBody::AdvanceBlocks {
                n,
                timestamp_ms,
                block_time_ms,
            } => {
                match (&cmd.origin, params.admin) {
                    (Origin::Signed(who), Some(admin)) if *who == admin => {}
                    _ => return Err(Rejection::BadOrigin),
                }
                if params.clock != Clock::Manual {
                    return Err(Rejection::ManualClockDisabled);
                }
                if *n > MAX_ADVANCE_BLOCKS {
                    return Err(Rejection::TooManyBlocks {
                        requested: *n,
                        max: MAX_ADVANCE_BLOCKS,
                    });
                }
                self.produce_blocks(params, *n, *timestamp_ms, *block_time_ms)
            }
            CommandBody::Transfer {
                to,
                amount,
                keep_alive,
            } => {
                let Origin::Signed(from) = cmd.origin else {
                    return Err(Rejection::BadOrigin);
                };
                let fee = self.fee(cmd)?;
                self.transfer(params, from, *to, *amount, fee, *keep_alive)
            }
            body => match &cmd.origin {
                Origin::Service(key) if params.services.contains(key) => {
                    self.saga_step(params, body)
                }
                // A peer's step is answered with an event either way.
                Origin::Peer => match self.saga_step(params, body) {
                    Ok(events) => Ok(events),
                    Err(r) => Ok(vec![LedgerEvent::StepRejected(StepRejected {
                        op: step_op(body),
                        code: rejection_code(&r),
                        message: r.to_string(),
                    })]),
                },
                _ => Err(Rejection::BadOrigin),
            },
        }
    }

    /// The fee a command would pay: `weight·per_weight_perbill/1e9 +
    /// encoded_len·per_byte`, floored, for user-signed commands that pay
    /// (see [`fee_weight`]); 0 otherwise. Burned, not paid to anyone.
    pub fn fee(&self, cmd: &Command) -> Result<u64, Rejection> {
        let params = self.params.as_ref().ok_or(Rejection::GenesisNotApplied)?;
        let (Origin::Signed(_), Some(weight)) = (&cmd.origin, fee_weight(&cmd.body)) else {
            return Ok(0);
        };
        let weight_fee = u128::from(weight) * u128::from(params.fees.per_weight_perbill) / PERBILL;
        let length_fee = u128::from(cmd.encoded_len) * u128::from(params.fees.per_byte);
        u64::try_from(weight_fee + length_fee).map_err(|_| Rejection::Overflow)
    }

    /// `n` blocks, each preceded by the recycling of credit that has left
    /// the claim window, simulated on a copy of the few fields they touch.
    fn produce_blocks(
        &self,
        params: &Params,
        n: u64,
        first_timestamp_ms: u64,
        block_time_ms: u64,
    ) -> Result<Vec<LedgerEvent>, Rejection> {
        let mut issuance = self.total_issuance;
        let mut pending = self.pending_credit.clone();
        let mut height = self.height;
        let mut last = self.last_timestamp_ms;
        let mut events = Vec::new();
        for i in 0..n {
            let h = height.checked_add(1).ok_or(Rejection::Overflow)?;
            let timestamp_ms = i
                .checked_mul(block_time_ms)
                .and_then(|d| first_timestamp_ms.checked_add(d))
                .ok_or(Rejection::Overflow)?;
            if height > 0 && timestamp_ms <= last {
                return Err(Rejection::TimestampNotIncreasing {
                    last,
                    got: timestamp_ms,
                });
            }
            let cutoff = h.saturating_sub(params.coinbase_claim_window);
            let rest = pending.split_off(&cutoff);
            for (block, amount) in std::mem::replace(&mut pending, rest) {
                issuance = issuance.checked_sub(amount).ok_or(Rejection::Overflow)?;
                events.push(LedgerEvent::CoinbaseRecycled(CoinbaseRecycled {
                    block,
                    amount,
                }));
            }
            let minted = mint_amount(block_emission(issuance), issuance);
            issuance = issuance.checked_add(minted).ok_or(Rejection::Overflow)?;
            if minted > 0 {
                pending.insert(h, minted);
            }
            events.push(LedgerEvent::BlockProduced(BlockProduced {
                height: h,
                timestamp_ms,
                minted,
            }));
            height = h;
            last = timestamp_ms;
        }
        Ok(events)
    }

    fn transfer(
        &self,
        params: &Params,
        from: AccountId,
        to: AccountId,
        amount: u64,
        fee: u64,
        keep_alive: bool,
    ) -> Result<Vec<LedgerEvent>, Rejection> {
        if amount == 0 {
            return Err(Rejection::AmountTooLow);
        }
        if to == from {
            return Err(Rejection::SelfTransfer);
        }
        let balance = self
            .balances
            .get(&from)
            .copied()
            .ok_or(Rejection::InsufficientBalance)?;
        let debit = amount.checked_add(fee).ok_or(Rejection::Overflow)?;
        let remaining = balance
            .checked_sub(debit)
            .ok_or(Rejection::InsufficientBalance)?;
        let reaped = remaining < params.existential_deposit;
        if reaped && keep_alive {
            return Err(Rejection::Expendability);
        }
        self.check_credit(params, &to, amount)?;
        let mut events = vec![LedgerEvent::Transferred(Transferred {
            from,
            to,
            amount,
            fee,
        })];
        if reaped {
            events.push(LedgerEvent::AccountReaped(AccountReaped {
                account: from,
                dust: remaining,
            }));
        }
        Ok(events)
    }

    /// A keep-alive debit of free balance (staking, locks, burns).
    fn check_debit_keep_alive(
        &self,
        params: &Params,
        who: &AccountId,
        amount: u64,
    ) -> Result<(), Rejection> {
        let balance = self
            .balances
            .get(who)
            .copied()
            .ok_or(Rejection::InsufficientBalance)?;
        let remaining = balance
            .checked_sub(amount)
            .ok_or(Rejection::InsufficientBalance)?;
        if remaining < params.existential_deposit {
            return Err(Rejection::Expendability);
        }
        Ok(())
    }

    /// A credit to a free balance must leave it at or above the existential
    /// deposit; the burn account is not a free balance.
    fn check_credit(&self, params: &Params, to: &AccountId, amount: u64) -> Result<(), Rejection> {
        if *to == burn_account() {
            return Err(Rejection::CannotUseSystemAccount);
        }
        let after = self
            .balances
            .get(to)
            .copied()
            .unwrap_or(0)
            .checked_add(amount)
            .ok_or(Rejection::Overflow)?;
        if after < params.existential_deposit {
            return Err(Rejection::ExistentialDeposit);
        }
        Ok(())
    }

    fn check_custody_debit(&self, netuid: u16, amount: u64) -> Result<(), Rejection> {
        let available = self.custody(netuid);
        if available < amount {
            return Err(Rejection::CustodyInsufficient {
                netuid,
                available,
                requested: amount,
            });
        }
        Ok(())
    }

    fn check_custody_credit(&self, netuid: u16, amount: u64) -> Result<(), Rejection> {
        self.custody(netuid)
            .checked_add(amount)
            .map(|_| ())
            .ok_or(Rejection::Overflow)
    }

    /// New op, or a retry of the very request that created it.
    fn first_step(&self, op: &str, requested: &Operation) -> Result<Step, Rejection> {
        match self.operations.get(op) {
            None => Ok(Step::Fresh),
            Some(rec) if rec.as_requested() == *requested => Ok(Step::Repeat),
            Some(_) => Err(conflict(op)),
        }
    }

    fn existing(&self, op: &str) -> Result<&Operation, Rejection> {
        self.operations
            .get(op)
            .ok_or_else(|| Rejection::UnknownOperation { op: op.to_owned() })
    }

    fn saga_step(
        &self,
        params: &Params,
        body: &CommandBody,
    ) -> Result<Vec<LedgerEvent>, Rejection> {
        if let CommandBody::ClaimCoinbase { block, credits } = body {
            return self.claim_coinbase(*block, credits);
        }
        let op = match body {
            CommandBody::FundStake { op, .. }
            | CommandBody::RefundStake { op }
            | CommandBody::PayFromCustody { op, .. }
            | CommandBody::LockForSubnet { op, .. }
            | CommandBody::ConfirmLock { op, .. }
            | CommandBody::ReleaseLock { op }
            | CommandBody::FundRegistration { op, .. }
            | CommandBody::RefundRegistration { op }
            | CommandBody::RecycleFromCustody { op, .. }
            | CommandBody::BurnTao { op, .. }
            | CommandBody::Settle { op, .. } => op,
            _ => return Err(Rejection::BadOrigin),
        };
        if op.is_empty() || op.len() > MAX_OP_LEN {
            return Err(Rejection::InvalidOperationId);
        }
        let op_owned = || op.clone();
        match body {
            CommandBody::FundStake {
                coldkey,
                netuid,
                amount,
                ..
            }
            | CommandBody::FundRegistration {
                coldkey,
                netuid,
                amount,
                ..
            } => {
                let stake = matches!(body, CommandBody::FundStake { .. });
                let requested = if stake {
                    Operation::Stake {
                        coldkey: *coldkey,
                        netuid: *netuid,
                        amount: *amount,
                        refunded: false,
                    }
                } else {
                    Operation::Registration {
                        coldkey: *coldkey,
                        netuid: *netuid,
                        amount: *amount,
                        refunded: false,
                    }
                };
                if let Step::Repeat = self.first_step(op, &requested)? {
                    return Ok(vec![]);
                }
                positive(*amount)?;
                self.check_debit_keep_alive(params, coldkey, *amount)?;
                self.check_custody_credit(*netuid, *amount)?;
                Ok(vec![if stake {
                    LedgerEvent::StakeFunded(StakeFunded {
                        op: op_owned(),
                        coldkey: *coldkey,
                        netuid: *netuid,
                        amount: *amount,
                    })
                } else {
                    LedgerEvent::RegistrationFunded(RegistrationFunded {
                        op: op_owned(),
                        coldkey: *coldkey,
                        netuid: *netuid,
                        amount: *amount,
                    })
                }])
            }
            CommandBody::RefundStake { .. } | CommandBody::RefundRegistration { .. } => {
                let stake = matches!(body, CommandBody::RefundStake { .. });
                let (coldkey, netuid, amount, refunded) = match (stake, self.existing(op)?) {
                    (
                        true,
                        Operation::Stake {
                            coldkey,
                            netuid,
                            amount,
                            refunded,
                        },
                    )
                    | (
                        false,
                        Operation::Registration {
                            coldkey,
                            netuid,
                            amount,
                            refunded,
                        },
                    ) => (*coldkey, *netuid, *amount, *refunded),
                    _ => return Err(conflict(op)),
                };
                if refunded {
                    return Ok(vec![]);
                }
                self.check_custody_debit(netuid, amount)?;
                self.check_credit(params, &coldkey, amount)?;
                Ok(vec![if stake {
                    LedgerEvent::StakeRefunded(StakeRefunded {
                        op: op_owned(),
                        coldkey,
                        netuid,
                        amount,
                    })
                } else {
                    LedgerEvent::RegistrationRefunded(RegistrationRefunded {
                        op: op_owned(),
                        coldkey,
                        netuid,
                        amount,
                    })
                }])
            }
            CommandBody::PayFromCustody {
                netuid, to, amount, ..
            } => {
                let requested = Operation::Payout {
                    netuid: *netuid,
                    to: *to,
                    amount: *amount,
                };
                if let Step::Repeat = self.first_step(op, &requested)? {
                    return Ok(vec![]);
                }
                positive(*amount)?;
                self.check_custody_debit(*netuid, *amount)?;
                self.check_credit(params, to, *amount)?;
                Ok(vec![LedgerEvent::CustodyPaid(CustodyPaid {
                    op: op_owned(),
                    netuid: *netuid,
                    to: *to,
                    amount: *amount,
                })])
            }
            CommandBody::LockForSubnet {
                coldkey, amount, ..
            } => {
                let requested = Operation::Lock {
                    coldkey: *coldkey,
                    amount: *amount,
                    status: LockStatus::Locked,
                };
                if let Step::Repeat = self.first_step(op, &requested)? {
                    return Ok(vec![]);
                }
                positive(*amount)?;
                self.check_debit_keep_alive(params, coldkey, *amount)?;
                Ok(vec![LedgerEvent::LockedForSubnet(LockedForSubnet {
                    op: op_owned(),
                    coldkey: *coldkey,
                    amount: *amount,
                })])
            }
            CommandBody::ConfirmLock { netuid, .. } => match self.existing(op)? {
                Operation::Lock {
                    amount,
                    status: LockStatus::Locked,
                    ..
                } => {
                    self.check_custody_credit(*netuid, *amount)?;
                    Ok(vec![LedgerEvent::LockConfirmed(LockConfirmed {
                        op: op_owned(),
                        netuid: *netuid,
                        amount: *amount,
                    })])
                }
                Operation::Lock {
                    status: LockStatus::Confirmed { netuid: done },
                    ..
                } if done == netuid => Ok(vec![]),
                _ => Err(conflict(op)),
            },
            CommandBody::ReleaseLock { .. } => match self.existing(op)? {
                Operation::Lock {
                    coldkey,
                    amount,
                    status: LockStatus::Locked,
                } => {
                    self.check_credit(params, coldkey, *amount)?;
                    Ok(vec![LedgerEvent::LockReleased(LockReleased {
                        op: op_owned(),
                        coldkey: *coldkey,
                        amount: *amount,
                    })])
                }
                Operation::Lock {
                    status: LockStatus::Released,
                    ..
                } => Ok(vec![]),
                _ => Err(conflict(op)),
            },
            CommandBody::RecycleFromCustody { netuid, amount, .. } => {
                let requested = Operation::Recycle {
                    netuid: *netuid,
                    amount: *amount,
                };
                if let Step::Repeat = self.first_step(op, &requested)? {
                    return Ok(vec![]);
                }
                positive(*amount)?;
                self.check_custody_debit(*netuid, *amount)?;
                Ok(vec![LedgerEvent::CustodyRecycled(CustodyRecycled {
                    op: op_owned(),
                    netuid: *netuid,
                    amount: *amount,
                })])
            }
            CommandBody::BurnTao { from, amount, .. } => {
                let requested = Operation::Burn {
                    from: *from,
                    amount: *amount,
                };
                if let Step::Repeat = self.first_step(op, &requested)? {
                    return Ok(vec![]);
                }
                positive(*amount)?;
                self.check_debit_keep_alive(params, from, *amount)?;
                self.burn_balance
                    .checked_add(*amount)
                    .ok_or(Rejection::Overflow)?;
                Ok(vec![LedgerEvent::TaoBurned(TaoBurned {
                    op: op_owned(),
                    from: *from,
                    amount: *amount,
                })])
            }
            CommandBody::Settle { moves, .. } => {
                let requested = Operation::Settle {
                    moves: moves.clone(),
                };
                if let Step::Repeat = self.first_step(op, &requested)? {
                    return Ok(vec![]);
                }
                if moves.is_empty() {
                    return Err(Rejection::AmountTooLow);
                }
                let dust = self.check_settlement(params, moves)?;
                Ok(vec![LedgerEvent::CustodySettled(CustodySettled {
                    op: op_owned(),
                    moves: moves.clone(),
                    dust_recycled: dust,
                })])
            }
            _ => Err(Rejection::BadOrigin),
        }
    }

    /// Checks a settlement against current custody and balances, applied in
    /// order; returns the dust it recycles (account credits that would stay
    /// below the existential deposit).
    fn check_settlement(&self, params: &Params, moves: &[CustodyMove]) -> Result<u64, Rejection> {
        use std::collections::BTreeMap;
        let mut custody: BTreeMap<u16, u64> = BTreeMap::new();
        let mut credits: BTreeMap<AccountId, u64> = BTreeMap::new();
        let mut burned: u64 = self.burn_balance;
        for m in moves {
            positive(m.amount)?;
            let from = custody
                .entry(m.from_netuid)
                .or_insert_with(|| self.custody(m.from_netuid));
            *from = from
                .checked_sub(m.amount)
                .ok_or(Rejection::CustodyInsufficient {
                    netuid: m.from_netuid,
                    available: *from,
                    requested: m.amount,
                })?;
            match &m.to {
                CustodyDest::Account(who) => {
                    if *who == burn_account() {
                        return Err(Rejection::CannotUseSystemAccount);
                    }
                    let c = credits.entry(*who).or_insert(0);
                    *c = c.checked_add(m.amount).ok_or(Rejection::Overflow)?;
                }
                CustodyDest::Custody(to) => {
                    let to = custody.entry(*to).or_insert_with(|| self.custody(*to));
                    *to = to.checked_add(m.amount).ok_or(Rejection::Overflow)?;
                }
                CustodyDest::Burn => {
                    burned = burned.checked_add(m.amount).ok_or(Rejection::Overflow)?;
                }
                CustodyDest::Recycle => {}
            }
        }
        let mut dust: u64 = 0;
        for (who, amount) in credits {
            let after = self
                .balances
                .get(&who)
                .copied()
                .unwrap_or(0)
                .checked_add(amount)
                .ok_or(Rejection::Overflow)?;
            if after < params.existential_deposit {
                dust += amount;
            }
        }
        Ok(dust)
    }

    /// One claim per block: the credits go to custody and the rest of the
    /// block's credit is recycled at once. A retry of the same claim while
    /// the block is inside the window decides to nothing.
    fn claim_coinbase(
        &self,
        block: u64,
        credits: &[(u16, u64)],
    ) -> Result<Vec<LedgerEvent>, Rejection> {
        if let Some(done) = self.claims.get(&block) {
            return if done.as_slice() == credits {
                Ok(vec![])
            } else {
                Err(conflict(&format!("coinbase/{block}")))
            };
        }
        let available = self
            .pending_credit
            .get(&block)
            .copied()
            .ok_or(Rejection::NoPendingCredit { block })?;
        let mut requested: u64 = 0;
        for (_, amount) in credits {
            requested = requested.checked_add(*amount).ok_or(Rejection::Overflow)?;
        }
        let rest = available
            .checked_sub(requested)
            .ok_or(Rejection::CreditInsufficient {
                block,
                available,
                requested,
            })?;
        // Custody sums stay below total issuance, so they cannot overflow;
        // checked anyway because checking is cheaper than proving.
        let mut custody = std::collections::BTreeMap::new();
        for (netuid, amount) in credits {
            let c = custody
                .entry(*netuid)
                .or_insert_with(|| self.custody(*netuid));
            *c = c.checked_add(*amount).ok_or(Rejection::Overflow)?;
        }
        let mut events = vec![LedgerEvent::CoinbaseClaimed(CoinbaseClaimed {
            block,
            credits: credits.to_vec(),
        })];
        if rest > 0 {
            events.push(LedgerEvent::CoinbaseRecycled(CoinbaseRecycled {
                block,
                amount: rest,
            }));
        }
        Ok(events)
    }
}

fn positive(amount: u64) -> Result<(), Rejection> {
    if amount == 0 {
        Err(Rejection::AmountTooLow)
    } else {
        Ok(())
    }
}

fn conflict(op: &str) -> Rejection {
    Rejection::OperationConflict { op: op.to_owned() }
}
