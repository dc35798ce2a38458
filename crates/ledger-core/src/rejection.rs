//! Why the ledger refuses a command. Names follow the chain's error classes
//! (governance.md §7, `pallet_balances`) where one exists. A rejected command
//! changes nothing, not even a fee is charged.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Rejection {
    /// The origin may not send this command.
    #[error("bad origin")]
    BadOrigin,
    /// Not enough free balance for amount plus fee (or no account at all).
    #[error("insufficient balance")]
    InsufficientBalance,
    /// The credited account would end below the existential deposit.
    #[error("resulting balance below the existential deposit")]
    ExistentialDeposit,
    /// A keep-alive debit would leave the account below the existential
    /// deposit.
    #[error("keep-alive: the account would be reaped")]
    Expendability,
    #[error("amount too low")]
    AmountTooLow,
    #[error("arithmetic overflow")]
    Overflow,
    /// Sender and receiver are the same account.
    #[error("transfer to self")]
    SelfTransfer,
    /// The burn account receives TAO only through `BurnTao`.
    #[error("cannot use a system account")]
    CannotUseSystemAccount,
    #[error("genesis already applied")]
    GenesisAlreadyApplied,
    #[error("genesis not applied")]
    GenesisNotApplied,
    #[error("invalid genesis: {0}")]
    InvalidGenesis(String),
    /// `AdvanceBlocks` while the clock is automatic.
    #[error("manual clock disabled")]
    ManualClockDisabled,
    /// `ProduceBlock` while the clock is manual.
    #[error("auto clock disabled")]
    AutoClockDisabled,
    #[error("too many blocks: {requested} > {max}")]
    TooManyBlocks { requested: u64, max: u64 },
    /// Block timestamps must strictly increase.
    #[error("timestamp {got} not after {last}")]
    TimestampNotIncreasing { last: u64, got: u64 },
    /// Operation id empty or longer than `MAX_OP_LEN`.
    #[error("invalid operation id")]
    InvalidOperationId,
    #[error("unknown operation {op}")]
    UnknownOperation { op: String },
    /// The op id is taken by a step with other parameters, or the step does
    /// not fit the operation's current state.
    #[error("operation {op} conflicts with its earlier steps")]
    OperationConflict { op: String },
    #[error("custody of subnet {netuid} holds {available}, {requested} requested")]
    CustodyInsufficient {
        netuid: u16,
        available: u64,
        requested: u64,
    },
    /// No unclaimed credit for this block (never minted, zero, or expired).
    #[error("no pending coinbase credit for block {block}")]
    NoPendingCredit { block: u64 },
    #[error("block {block} has {available} credit, {requested} claimed")]
    CreditInsufficient {
        block: u64,
        available: u64,
        requested: u64,
    },
}
