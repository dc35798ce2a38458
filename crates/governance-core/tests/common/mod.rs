//! Given/when/then on the pure governance core, plus test keys and commands.
#![allow(dead_code)]

use aggregate::Aggregate;
use governance_core::event::*;
use governance_core::*;
use keys::AccountId;

pub const TAO: u64 = 1_000_000_000;

pub fn acct(n: u8) -> AccountId {
    AccountId([n; 32])
}

pub fn admin() -> AccountId {
    acct(0xAD)
}

/// Coldkey of test user `i`.
pub fn ck(i: u8) -> AccountId {
    acct(0x10 + i)
}

/// Hotkey of test user `i`.
pub fn hk(i: u8) -> AccountId {
    acct(0x80 + i)
}

/// Triumvir `i` (0..3).
pub fn triumvir(i: u8) -> AccountId {
    acct(0xE0 + i)
}

pub fn signed(who: AccountId, body: CommandBody) -> Command {
    Command::new(Origin::Signed(who), body)
}

pub fn peer(p: Peer, body: CommandBody) -> Command {
    Command::new(Origin::Peer(p), body)
}

pub fn ledger(body: CommandBody) -> Command {
    peer(Peer::Ledger, body)
}

pub fn amm(body: CommandBody) -> Command {
    peer(Peer::Amm, body)
}

pub fn consensus(body: CommandBody) -> Command {
    peer(Peer::Consensus, body)
}

pub fn admin_cmd(action: AdminAction) -> Command {
    signed(admin(), CommandBody::Admin(action))
}

pub fn block(height: u64) -> Command {
    ledger(CommandBody::Block {
        height,
        emission: 0,
    })
}

pub fn genesis_with(config: Config) -> Command {
    genesis_full(config, (0, 0))
}

pub fn genesis_full(config: Config, last_lock: (u64, u64)) -> Command {
    Command::new(
        Origin::Genesis,
        CommandBody::ApplyGenesis {
            admin: Some(admin()),
            config,
            triumvirate: vec![triumvir(0), triumvir(1), triumvir(2)],
            last_lock,
            subnets: Vec::new(),
        },
    )
}

/// Genesis (no rate limit) with `subnets`, then block 1.
pub fn world_with_genesis_subnets(subnets: Vec<GenesisSubnet>) -> Governance {
    let mut s = Governance::default();
    run(
        &mut s,
        [
            Command::new(
                Origin::Genesis,
                CommandBody::ApplyGenesis {
                    admin: Some(admin()),
                    config: no_rate_limit(),
                    triumvirate: vec![triumvir(0), triumvir(1), triumvir(2)],
                    last_lock: (0, 0),
                    subnets,
                },
            ),
            block(1),
        ],
    );
    s
}

/// The ledger took the burn of neuron registration `op`.
pub fn funded(op: &str) -> Command {
    ledger(CommandBody::RegistrationFunded { op: op.into() })
}

/// Applies commands that must all succeed.
#[track_caller]
pub fn run(
    state: &mut Governance,
    cmds: impl IntoIterator<Item = Command>,
) -> Vec<GovernanceEvent> {
    let mut all = Vec::new();
    for c in cmds {
        let events = state
            .handle(&c)
            .unwrap_or_else(|e| panic!("{c:?} refused: {e:?}"));
        all.extend(events);
    }
    state.check_invariants().unwrap();
    all
}

/// Observes blocks up to and including `to`.
pub fn advance_to(state: &mut Governance, to: u64) {
    let from = state.height() + 1;
    for h in from..=to {
        state.handle(&block(h)).expect("block");
    }
    state.check_invariants().unwrap();
}

/// Genesis (default config) at block 1.
pub fn world() -> Governance {
    world_with(Config::default())
}

pub fn world_with(config: Config) -> Governance {
    let mut s = Governance::default();
    run(&mut s, [genesis_with(config), block(1)]);
    s
}

pub fn register_network(who: AccountId, hotkey: AccountId, op: &str) -> Command {
    signed(
        who,
        CommandBody::RegisterNetwork {
            op: op.into(),
            hotkey,
            identity: None,
            max_lock_cost: None,
        },
    )
}

/// A whole registration saga: request, lock, pool, metagraph. Returns the
/// netuid.
#[track_caller]
pub fn open_subnet(s: &mut Governance, who: AccountId, hotkey: AccountId, op: &str) -> u16 {
    let ev = run(
        s,
        [
            register_network(who, hotkey, op),
            ledger(CommandBody::LockConfirmed { op: op.into() }),
            amm(CommandBody::PoolOpened { op: op.into() }),
            consensus(CommandBody::MetagraphOpened { op: op.into() }),
        ],
    );
    ev.iter()
        .find_map(|e| match e {
            GovernanceEvent::SubnetOpened(o) => Some(o.netuid),
            _ => None,
        })
        .expect("subnet opened")
}

/// Config without the network rate limit (several subnets in a test).
pub fn no_rate_limit() -> Config {
    Config {
        network_rate_limit: 0,
        ..Config::default()
    }
}

/// World with subnet 1 owned by ck(1)/hk(1), opened at block 1.
pub fn world_with_subnet() -> Governance {
    let mut s = world_with(no_rate_limit());
    assert_eq!(open_subnet(&mut s, ck(1), hk(1), "net1"), 1);
    s
}

pub fn stakes(report: StakeReport) -> Command {
    amm(CommandBody::Stakes(report))
}

pub fn root_stakes(entries: &[(AccountId, u64)]) -> Command {
    stakes(StakeReport {
        root: entries.to_vec(),
        ..StakeReport::default()
    })
}

pub struct Given {
    pub state: Governance,
}

pub fn given(state: Governance) -> Given {
    state.check_invariants().expect("given state is consistent");
    Given { state }
}

pub struct When {
    before: [u8; 32],
    pub state: Governance,
    pub result: Result<Vec<GovernanceEvent>, Rejection>,
}

impl Given {
    pub fn when(mut self, cmd: Command) -> When {
        let before = self.state.digest();
        let result = self.state.handle(&cmd);
        When {
            before,
            state: self.state,
            result,
        }
    }
}

impl When {
    #[track_caller]
    pub fn then(self, expected: &[GovernanceEvent]) -> Governance {
        assert_eq!(self.result, Ok(expected.to_vec()));
        self.state.check_invariants().unwrap();
        self.state
    }

    #[track_caller]
    pub fn then_ok(self) -> (Vec<GovernanceEvent>, Governance) {
        let events = self.result.clone().expect("command accepted");
        self.state.check_invariants().unwrap();
        (events, self.state)
    }

    /// Refused for this reason, and nothing changed.
    #[track_caller]
    pub fn then_rejected(self, expected: Rejection) -> Governance {
        assert_eq!(self.result, Err(expected));
        assert_eq!(
            self.state.digest(),
            self.before,
            "rejection changed the state"
        );
        self.state
    }
}

/// Shorthand: `cmd` is refused with `r` and changes nothing.
#[track_caller]
pub fn rejects(state: &Governance, cmd: Command, r: Rejection) {
    given(state.clone()).when(cmd).then_rejected(r);
}

/// Observes `n` more blocks.
pub fn advance(state: &mut Governance, n: u64) {
    let to = state.height() + n;
    advance_to(state, to);
}
