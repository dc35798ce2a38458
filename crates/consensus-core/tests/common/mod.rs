//! Given/when/then on the pure consensus core, plus test keys and commands.
#![allow(dead_code)]

use aggregate::Aggregate;
use consensus_core::event::*;
use consensus_core::*;
use keys::AccountId;

pub fn acct(n: u8) -> AccountId {
    AccountId([n; 32])
}

pub fn service_key() -> AccountId {
    acct(0x5E)
}

pub fn owner() -> AccountId {
    acct(0x0C)
}

pub fn owner_hotkey() -> AccountId {
    acct(0x0B)
}

/// Hotkey of test neuron `i` (distinct from the owner keys).
pub fn hk(i: u8) -> AccountId {
    acct(0x80 + i)
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

/// Small-subnet parameters for tests: tempo 10, no rate limit, commit-reveal
/// off unless a test turns it on.
pub fn test_params() -> SubnetParams {
    SubnetParams {
        tempo: 10,
        weights_rate_limit: 0,
        commit_reveal_enabled: false,
        immunity_period: 0,
        min_non_immune_uids: 0,
        ..SubnetParams::default()
    }
}

pub fn create(netuid: u16, params: SubnetParams) -> Command {
    service(CommandBody::CreateSubnet {
        netuid,
        owner: owner(),
        owner_hotkey: owner_hotkey(),
        params,
        op: None,
    })
}

pub fn register(netuid: u16, hotkey: AccountId, block: u64) -> Command {
    service(CommandBody::RegisterNeuron {
        netuid,
        hotkey,
        block,
        op: None,
    })
}

pub fn stake(netuid: u16, hotkey: AccountId, stake: u64) -> Command {
    service(CommandBody::StakeUpdate {
        netuid,
        hotkey,
        stake,
    })
}

pub fn set_weights(who: AccountId, netuid: u16, uids: &[u16], values: &[u16]) -> Command {
    signed(
        who,
        CommandBody::SetWeights {
            netuid,
            uids: uids.to_vec(),
            values: values.to_vec(),
            version_key: 0,
        },
    )
}

pub fn block(height: u64) -> Command {
    clock(CommandBody::ObserveBlock { height })
}

/// Applies commands that must all succeed.
#[track_caller]
pub fn run(state: &mut Consensus, cmds: impl IntoIterator<Item = Command>) -> Vec<ConsensusEvent> {
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
#[track_caller]
pub fn advance_to(state: &mut Consensus, to: u64) -> Vec<ConsensusEvent> {
    let from = state.height() + 1;
    run(state, (from..=to).map(block))
}

pub fn epochs(events: &[ConsensusEvent]) -> Vec<&EpochRan> {
    events
        .iter()
        .filter_map(|e| match e {
            ConsensusEvent::EpochRan(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// Subnet 1 (tempo 10, commit-reveal off) with the owner hotkey at uid 0
/// and `n` more neurons at uids 1..=n, staked `1000·(i+1)`, at block 1.
pub fn subnet_with(n: u8) -> Consensus {
    let mut s = Consensus::default();
    run(&mut s, [block(1), create(1, test_params())]);
    run(&mut s, [register(1, owner_hotkey(), 1)]);
    for i in 0..n {
        run(
            &mut s,
            [
                register(1, hk(i), 1),
                stake(1, hk(i), 1_000 * (u64::from(i) + 1)),
            ],
        );
    }
    s
}

pub struct Given {
    pub state: Consensus,
}

pub fn given(state: Consensus) -> Given {
    state.check_invariants().expect("given state is consistent");
    Given { state }
}

pub struct When {
    before: [u8; 32],
    pub state: Consensus,
    pub result: Result<Vec<ConsensusEvent>, Rejection>,
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
    pub fn then(self, expected: &[ConsensusEvent]) -> Consensus {
        assert_eq!(self.result, Ok(expected.to_vec()));
        self.state.check_invariants().unwrap();
        self.state
    }

    #[track_caller]
    pub fn then_ok(self) -> (Vec<ConsensusEvent>, Consensus) {
        let events = self.result.clone().expect("command accepted");
        self.state.check_invariants().unwrap();
        (events, self.state)
    }

    /// Refused for this reason, and nothing changed.
    #[track_caller]
    pub fn then_rejected(self, expected: Rejection) -> Consensus {
        assert_eq!(self.result, Err(expected));
        assert_eq!(
            self.state.digest(),
            self.before,
            "rejection changed the state"
        );
        self.state
    }
}
