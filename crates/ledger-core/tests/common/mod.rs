//! Given/when/then on the pure ledger, plus test accounts and commands.
#![allow(dead_code)]

use aggregate::Aggregate;
use keys::AccountId;
use ledger_core::*;

pub fn acct(n: u8) -> AccountId {
    AccountId([n; 32])
}

pub fn admin() -> AccountId {
    acct(0xAD)
}

pub fn service_key() -> AccountId {
    acct(0x5E)
}

pub fn alice() -> AccountId {
    acct(1)
}

pub fn bob() -> AccountId {
    acct(2)
}

pub fn carol() -> AccountId {
    acct(3)
}

/// A manual-clock genesis with zero fees, ED 500, one admin, one service.
pub fn genesis(balances: &[(AccountId, u64)]) -> Genesis {
    Genesis {
        balances: balances.to_vec(),
        fees: Fees::zero(),
        admin: Some(admin()),
        services: vec![service_key()],
        clock: Clock::Manual,
        ..Genesis::default()
    }
}

pub fn genesis_applied(g: Genesis) -> LedgerEvent {
    LedgerEvent::GenesisApplied(ledger_core::event::GenesisApplied { genesis: g })
}

pub fn clock(body: CommandBody) -> Command {
    Command::new(Origin::Clock, body)
}

pub fn signed(who: AccountId, body: CommandBody) -> Command {
    Command::new(Origin::Signed(who), body)
}

pub fn service(body: CommandBody) -> Command {
    Command::new(Origin::Service(service_key()), body)
}

pub fn transfer(from: AccountId, to: AccountId, amount: u64, keep_alive: bool) -> Command {
    signed(
        from,
        CommandBody::Transfer {
            to,
            amount,
            keep_alive,
        },
    )
}

pub fn advance(n: u64, timestamp_ms: u64) -> Command {
    signed(
        admin(),
        CommandBody::AdvanceBlocks {
            n,
            timestamp_ms,
            block_time_ms: 12_000,
        },
    )
}

pub struct Given {
    pub ledger: Ledger,
}

/// A ledger built by evolving `events` from the empty state.
pub fn given(events: impl IntoIterator<Item = LedgerEvent>) -> Given {
    let mut ledger = Ledger::default();
    for e in events {
        ledger.evolve(&e);
    }
    ledger
        .check_invariants()
        .expect("given state is consistent");
    Given { ledger }
}

/// Starts from an existing state.
pub fn given_state(ledger: Ledger) -> Given {
    Given { ledger }
}

pub struct When {
    before: [u8; 32],
    pub ledger: Ledger,
    pub result: Result<Vec<LedgerEvent>, Rejection>,
}

impl Given {
    pub fn when(mut self, cmd: Command) -> When {
        let before = self.ledger.digest();
        let result = self.ledger.handle(&cmd);
        When {
            before,
            ledger: self.ledger,
            result,
        }
    }
}

impl When {
    /// The command succeeded with exactly these events; returns the state.
    #[track_caller]
    pub fn then(self, expected: &[LedgerEvent]) -> Ledger {
        assert_eq!(self.result, Ok(expected.to_vec()));
        self.ledger.check_invariants().unwrap();
        self.ledger
    }

    /// The command succeeded; returns its events and the state.
    #[track_caller]
    pub fn then_ok(self) -> (Vec<LedgerEvent>, Ledger) {
        let events = self.result.clone().expect("command accepted");
        self.ledger.check_invariants().unwrap();
        (events, self.ledger)
    }

    /// The command was refused for this reason and changed nothing.
    #[track_caller]
    pub fn then_rejected(self, expected: Rejection) -> Ledger {
        assert_eq!(self.result, Err(expected));
        assert_eq!(
            self.ledger.digest(),
            self.before,
            "rejection changed the state"
        );
        self.ledger
    }
}
