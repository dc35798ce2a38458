//! Shared test helpers: accounts, a genesis, and a harness that runs
//! commands through the aggregate while a model ledger tracks custody.
#![allow(dead_code)]

use std::collections::BTreeMap;

use aggregate::Aggregate;
use amm_core::event::*;
use amm_core::*;
use keys::AccountId;

pub fn a(n: u8) -> AccountId {
    AccountId([n; 32])
}

pub const OWNER: u8 = 1;
pub const OWNER_HK: u8 = 2;
pub const ADMIN: u8 = 9;
pub const ALICE: u8 = 10;
pub const ALICE_HK: u8 = 11;
pub const BOB: u8 = 20;
pub const BOB_HK: u8 = 21;

/// A subnet with a 0.5/0.5 pool, emission started at block 1.
pub fn subnet(netuid: u16, tao: u64, alpha: u64) -> GenesisSubnet {
    GenesisSubnet {
        netuid,
        owner: a(OWNER),
        owner_hotkey: a(OWNER_HK),
        tao_reserve: tao,
        alpha_reserve: alpha,
        first_emission_block: Some(1),
        emission_enabled: true,
        neurons: vec![
            GenesisNeuron {
                hotkey: a(ALICE_HK),
                owner: a(ALICE),
            },
            GenesisNeuron {
                hotkey: a(BOB_HK),
                owner: a(BOB),
            },
        ],
        tempo: None,
    }
}

pub fn genesis(subnets: Vec<GenesisSubnet>) -> AmmGenesis {
    AmmGenesis {
        params: AmmParams {
            admin: Some(a(ADMIN)),
            ..AmmParams::default()
        },
        subnets,
    }
}

pub fn signed(who: u8, body: CommandBody) -> Command {
    Command::new(Origin::Signed(a(who)), body)
}

pub fn ledger(body: CommandBody) -> Command {
    Command::new(Origin::Peer(Peer::Ledger), body)
}

pub fn consensus(body: CommandBody) -> Command {
    Command::new(Origin::Peer(Peer::Consensus), body)
}

pub fn governance(body: CommandBody) -> Command {
    Command::new(Origin::Peer(Peer::Governance), body)
}

/// The amm plus a model of the ledger's custody accounts, and every event
/// emitted (for replay).
pub struct Harness {
    pub amm: Amm,
    pub custody: BTreeMap<u16, u128>,
    pub log: Vec<AmmEvent>,
    pub ops: u64,
    /// TAO minted and credited, for Σ credits ≤ minted.
    pub minted: u128,
    pub credited: u128,
    /// Locks credited to custody at `SubnetOpened` (the model confirms a
    /// lock at once; the real ledger does once governance says so), by
    /// netuid, until the subnet closes or dissolves.
    pub locks: BTreeMap<u16, u64>,
}

impl Harness {
    pub fn new(g: AmmGenesis) -> Self {
        let mut custody = BTreeMap::new();
        for s in &g.subnets {
            custody.insert(s.netuid, u128::from(s.tao_reserve));
        }
        let mut h = Harness {
            amm: Amm::default(),
            custody,
            log: Vec::new(),
            ops: 0,
            minted: 0,
            credited: 0,
            locks: BTreeMap::new(),
        };
        h.run(Command::new(Origin::Genesis, CommandBody::ApplyGenesis(g)))
            .expect("genesis");
        h
    }

    pub fn next_op(&mut self) -> String {
        self.ops += 1;
        format!("op-{}", self.ops)
    }

    /// Decides and evolves; on a rejection checks nothing changed. Feeds
    /// the model ledger with the events.
    pub fn run(&mut self, cmd: Command) -> Result<Vec<AmmEvent>, Rejection> {
        let before = self.amm.digest();
        match self.amm.handle(&cmd) {
            Ok(events) => {
                for e in &events {
                    self.ledger_sees(e);
                }
                self.log.extend(events.iter().cloned());
                Ok(events)
            }
            Err(r) => {
                assert_eq!(before, self.amm.digest(), "a rejection changed the state");
                Err(r)
            }
        }
    }

    fn ledger_sees(&mut self, e: &AmmEvent) {
        match e {
            AmmEvent::SubnetOpened(o) => {
                // The model confirms the lock at once.
                let c = self.custody.entry(o.netuid).or_default();
                assert_eq!(*c, 0, "custody of a new subnet {} not empty", o.netuid);
                *c += u128::from(o.tao);
                self.locks.insert(o.netuid, o.tao);
            }
            AmmEvent::SubnetClosed(c) => {
                // The lock was never confirmed: the ledger releases it.
                let lock = self
                    .locks
                    .remove(&c.netuid)
                    .expect("closed an opened subnet");
                let held = self.custody.remove(&c.netuid).unwrap_or(0);
                assert_eq!(
                    held,
                    u128::from(lock),
                    "closed pool held more than its lock"
                );
            }
            AmmEvent::SubnetDissolved(d) => {
                self.locks.remove(&d.netuid);
            }
            AmmEvent::StakeFailed(f) => {
                let c = self.custody.entry(f.netuid).or_default();
                *c = c
                    .checked_sub(u128::from(f.funded))
                    .expect("refund from custody");
            }
            AmmEvent::TaoSettlement(s) => {
                for m in &s.moves {
                    assert!(m.amount > 0, "zero move");
                    let c = self.custody.entry(m.from_netuid).or_default();
                    *c = c
                        .checked_sub(u128::from(m.amount))
                        .unwrap_or_else(|| panic!("custody {} underflow by {m:?}", m.from_netuid));
                    if let TaoDest::Custody(d) = m.to {
                        *self.custody.entry(d).or_default() += u128::from(m.amount);
                    }
                }
            }
            AmmEvent::CoinbaseRan(c) => {
                let sum: u128 = c.credits.iter().map(|(_, v)| u128::from(*v)).sum();
                assert!(sum <= u128::from(c.minted), "credits above minted");
                assert_eq!(sum + u128::from(c.recycled), u128::from(c.minted));
                for s in &c.subnets {
                    assert_eq!(
                        c.credits
                            .iter()
                            .find(|(n, _)| *n == s.netuid)
                            .map_or(0, |x| x.1),
                        s.tao_in + s.excess_tao
                    );
                }
                self.minted += u128::from(c.minted);
                self.credited += sum;
                for (n, v) in &c.credits {
                    *self.custody.entry(*n).or_default() += u128::from(*v);
                }
            }
            _ => {}
        }
    }

    /// A neuron registration's burn: the ledger moves `amount` into
    /// custody, then governance asks the amm to burn it.
    pub fn registration_burn(
        &mut self,
        op: &str,
        netuid: u16,
        coldkey: u8,
        amount: u64,
    ) -> Result<Vec<AmmEvent>, Rejection> {
        *self.custody.entry(netuid).or_default() += u128::from(amount);
        self.run(governance(CommandBody::RegistrationBurn {
            op: op.into(),
            netuid,
            coldkey: a(coldkey),
            amount,
        }))
    }

    /// add_stake as a whole saga: request, the ledger funds, execution.
    pub fn stake(
        &mut self,
        who: u8,
        hotkey: u8,
        netuid: u16,
        amount: u64,
    ) -> Result<Vec<AmmEvent>, Rejection> {
        let op = self.next_op();
        self.stake_op(&op, who, hotkey, netuid, amount, None, false)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn stake_op(
        &mut self,
        op: &str,
        who: u8,
        hotkey: u8,
        netuid: u16,
        amount: u64,
        limit_price: Option<u64>,
        allow_partial: bool,
    ) -> Result<Vec<AmmEvent>, Rejection> {
        let mut events = self.run(signed(
            who,
            CommandBody::AddStake {
                op: op.into(),
                hotkey: a(hotkey),
                netuid,
                amount,
                limit_price,
                allow_partial,
            },
        ))?;
        *self.custody.entry(netuid).or_default() += u128::from(amount);
        events.extend(self.run(ledger(CommandBody::StakeFunded { op: op.into() }))?);
        Ok(events)
    }

    pub fn block(&mut self, minted: u64) -> Result<Vec<AmmEvent>, Rejection> {
        let height = self.amm.height + 1;
        self.run(ledger(CommandBody::Block { height, minted }))
    }

    /// Every accounting identity, plus custody == SubnetTAO per subnet
    /// (and nothing left in the custody of a subnet that is gone).
    pub fn check(&self) {
        self.amm.check_invariants().unwrap();
        for (n, s) in &self.amm.subnets {
            assert_eq!(
                self.custody.get(n).copied().unwrap_or(0),
                u128::from(s.tao),
                "custody of {n} differs from SubnetTAO"
            );
        }
        for (n, c) in &self.custody {
            if !self.amm.subnets.contains_key(n) {
                assert_eq!(*c, 0, "custody of the missing subnet {n} holds {c}");
            }
        }
        assert!(self.credited <= self.minted);
    }

    /// Replaying the log into a fresh amm gives the live digest; a
    /// snapshot restores to the same state.
    pub fn check_replay(&self) {
        let mut fresh = Amm::default();
        for e in &self.log {
            fresh.evolve(e);
        }
        assert_eq!(
            fresh.digest(),
            self.amm.digest(),
            "replay differs from live"
        );
        let back = Amm::restore(&self.amm.snapshot()).expect("restore");
        assert_eq!(back, self.amm);
    }
}
