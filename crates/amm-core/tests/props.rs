//! Long random runs over several subnets: stakes (funded, refused or
//! interleaved), unstakes, moves, transfers, swaps, recycles, burns, blocks,
//! epochs, claims and parameter changes, and governance's subnet lifecycle
//! (open, start, close, dissolve, registration burns, owner changes,
//! parameters). After every step the accounting identities hold
//! (`check_invariants`) and a model ledger's custody per subnet equals
//! `SubnetTAO` (the model confirms a new subnet's lock at open, and a gone
//! subnet's custody is empty); Σ credits ≤ minted; rejections change
//! nothing; governance steps are always answered; with random stake locks
//! mirrored from governance, no guarded step (unstake, move, transfer,
//! swap, recycle, burn) leaves a coldkey whose alpha fell below its locked
//! mass; with random childkeys, childkey takes and `CKBurn` from
//! governance, the stake weights consensus was last told equal the
//! current ones (inheritance included) after every step; at the end replay
//! equals live and a snapshot restores the state.

mod common;

use std::collections::BTreeMap;

use amm_core::event::*;
use amm_core::*;
use common::*;
use proptest::prelude::*;

const TAO: u64 = 1_000_000_000;
/// Genesis subnets 1..=NETS; governance may open NETS+1 and NETS+2 (and
/// reopen dissolved ones).
const NETS: u16 = 5;
const ALL: u16 = NETS + 2;
const USERS: [u8; 4] = [ALICE, BOB, 30, 40];
const HOTKEYS: [u8; 4] = [ALICE_HK, BOB_HK, OWNER_HK, 31];

#[derive(Clone, Debug)]
enum Raw {
    Request {
        who: usize,
        hk: usize,
        net: u16,
        amount: u64,
        limit: Option<u64>,
        partial: bool,
    },
    Fund(usize),
    Refuse(usize),
    Unstake {
        who: usize,
        hk: usize,
        net: u16,
        permille: u64,
        limit: Option<u64>,
    },
    UnstakeAll {
        who: usize,
        hk: usize,
    },
    Move {
        who: usize,
        hk: usize,
        hk2: usize,
        net: u16,
        net2: u16,
        permille: u64,
    },
    Transfer {
        who: usize,
        who2: usize,
        hk: usize,
        net: u16,
        net2: u16,
        permille: u64,
    },
    Swap {
        who: usize,
        hk: usize,
        net: u16,
        net2: u16,
        permille: u64,
        limit: Option<u64>,
    },
    Recycle {
        who: usize,
        hk: usize,
        net: u16,
        permille: u64,
        burn: bool,
    },
    Blocks {
        n: u8,
        minted: u64,
    },
    Epoch {
        net: u16,
        lag: u8,
        inc: Vec<u16>,
        div: Vec<u16>,
    },
    Claim {
        who: usize,
        kind: u8,
    },
    Param {
        net: u16,
        which: u8,
        value: u64,
        by_governance: bool,
    },
    Open {
        net: u16,
        lock: u64,
        owner: usize,
    },
    Start {
        net: u16,
    },
    Close {
        net: u16,
        right_op: bool,
    },
    Dissolve {
        net: u16,
    },
    RegBurn {
        net: u16,
        who: usize,
        amount: u64,
    },
    Owner {
        net: u16,
        hk: usize,
        takeover: Option<usize>,
    },
    /// Governance mirrors a lock of `permille` of the coldkey's alpha on a
    /// subnet (above 1000: more than it holds), as of `back` blocks ago
    /// (or ahead of the amm).
    Lock {
        who: usize,
        hk: usize,
        net: u16,
        permille: u64,
        perpetual: bool,
        back: i64,
    },
    Unlock {
        who: usize,
        net: u16,
    },
    UnlockRate {
        blocks: u64,
    },
    /// Governance applies `hk`'s childkeys on `net`: `(proportion, child)`
    /// pairs; a proportion of 0..=3 picks u64::MAX / (1 + it), others are
    /// raw (so sums overflow sometimes: refused).
    Children {
        hk: usize,
        net: u16,
        kids: Vec<(u64, usize)>,
    },
    ChildkeyTake {
        hk: usize,
        net: u16,
        take: u16,
    },
}

fn net() -> impl Strategy<Value = u16> {
    0..=ALL
}

fn raw() -> impl Strategy<Value = Raw> {
    let who = 0..USERS.len();
    let hk = 0..HOTKEYS.len();
    let permille = prop_oneof![Just(1000u64), 1u64..1000];
    let limit = proptest::option::of(500_000_000u64..3_000_000_000);
    prop_oneof![
        6 => (who.clone(), hk.clone(), net(), prop_oneof![1_000_000u64..10 * TAO, TAO..2_000 * TAO], limit.clone(), any::<bool>())
            .prop_map(|(who, hk, net, amount, limit, partial)| Raw::Request { who, hk, net, amount, limit, partial }),
        8 => (0usize..4).prop_map(Raw::Fund),
        1 => (0usize..4).prop_map(Raw::Refuse),
        4 => (who.clone(), hk.clone(), net(), permille.clone(), limit.clone())
            .prop_map(|(who, hk, net, permille, limit)| Raw::Unstake { who, hk, net, permille, limit }),
        1 => (who.clone(), hk.clone()).prop_map(|(who, hk)| Raw::UnstakeAll { who, hk }),
        2 => (who.clone(), hk.clone(), hk.clone(), net(), net(), permille.clone())
            .prop_map(|(who, hk, hk2, net, net2, permille)| Raw::Move { who, hk, hk2, net, net2, permille }),
        2 => (who.clone(), who.clone(), hk.clone(), net(), net(), permille.clone())
            .prop_map(|(who, who2, hk, net, net2, permille)| Raw::Transfer { who, who2, hk, net, net2, permille }),
        2 => (who.clone(), hk.clone(), net(), net(), permille.clone(), limit)
            .prop_map(|(who, hk, net, net2, permille, limit)| Raw::Swap { who, hk, net, net2, permille, limit }),
        1 => (who.clone(), hk.clone(), net(), permille, any::<bool>())
            .prop_map(|(who, hk, net, permille, burn)| Raw::Recycle { who, hk, net, permille, burn }),
        6 => (1u8..6, prop_oneof![Just(TAO), 0..2 * TAO]).prop_map(|(n, minted)| Raw::Blocks { n, minted }),
        3 => (1..=ALL, 0u8..3, proptest::collection::vec(0u16..10, 4), proptest::collection::vec(0u16..10, 4))
            .prop_map(|(net, lag, inc, div)| Raw::Epoch { net, lag, inc, div }),
        2 => (who.clone(), 0u8..3).prop_map(|(who, kind)| Raw::Claim { who, kind }),
        1 => (1..=ALL, 0u8..7, any::<u64>(), any::<bool>())
            .prop_map(|(net, which, value, by_governance)| Raw::Param { net, which, value, by_governance }),
        3 => (0..=ALL, prop_oneof![1u64..2_000_000, TAO..3_000 * TAO], who.clone())
            .prop_map(|(net, lock, owner)| Raw::Open { net, lock, owner }),
        3 => (0..=ALL).prop_map(|net| Raw::Start { net }),
        1 => (0..=ALL, prop_oneof![4 => Just(true), 1 => Just(false)])
            .prop_map(|(net, right_op)| Raw::Close { net, right_op }),
        2 => (0..=ALL).prop_map(|net| Raw::Dissolve { net }),
        2 => (0..=ALL, who.clone(), prop_oneof![Just(TAO), 1u64..10 * TAO])
            .prop_map(|(net, who, amount)| Raw::RegBurn { net, who, amount }),
        1 => (0..=ALL, hk.clone(), proptest::option::of(who.clone()))
            .prop_map(|(net, hk, takeover)| Raw::Owner { net, hk, takeover }),
        3 => (who.clone(), hk, 0..=ALL, 0u64..1_200, any::<bool>(), -50i64..5_000)
            .prop_map(|(who, hk, net, permille, perpetual, back)| Raw::Lock { who, hk, net, permille, perpetual, back }),
        1 => (who, 0..=ALL).prop_map(|(who, net)| Raw::Unlock { who, net }),
        1 => prop_oneof![Just(0u64), 1u64..5_000, Just(934_866)].prop_map(|blocks| Raw::UnlockRate { blocks }),
        4 => (0..HOTKEYS.len(), prop_oneof![3 => 1..NETS, 1 => 0..=ALL], proptest::collection::vec((prop_oneof![0u64..4, any::<u64>()], 0..HOTKEYS.len() + 2), 0..4))
            .prop_map(|(hk, net, kids)| Raw::Children { hk, net, kids }),
        1 => (0..HOTKEYS.len(), prop_oneof![3 => 1..NETS, 1 => 0..=ALL], prop_oneof![Just(0u16), Just(11_796), any::<u16>()])
            .prop_map(|(hk, net, take)| Raw::ChildkeyTake { hk, net, take }),
    ]
}

fn pct(have: u64, permille: u64) -> u64 {
    ((u128::from(have) * u128::from(permille)) / 1000) as u64
}

struct Run {
    h: Harness,
    pending: Vec<String>,
    /// The op that opened each governance-opened subnet.
    opened: BTreeMap<u16, String>,
    /// A same-subnet move between the coldkey's own hotkeys: not guarded
    /// (share rounding may cost it a rao), set by the step that made it.
    exempt: Option<(keys::AccountId, u16)>,
}

/// Steps where alpha leaves a coldkey's stake: the unstake guard applies.
fn guarded(r: &Raw) -> bool {
    matches!(
        r,
        Raw::Unstake { .. }
            | Raw::UnstakeAll { .. }
            | Raw::Move { .. }
            | Raw::Transfer { .. }
            | Raw::Swap { .. }
            | Raw::Recycle { .. }
    )
}

impl Run {
    fn new() -> Self {
        let mut subnets = Vec::new();
        for n in 1..=NETS {
            let tao = u64::from(n) * 300 * TAO;
            let mut s = subnet(n, tao, 1_000 * TAO);
            if n == NETS {
                s.emission_enabled = false;
            }
            s.neurons.push(GenesisNeuron {
                hotkey: a(31),
                owner: a(30),
            });
            subnets.push(s);
        }
        let mut h = Harness::new(genesis(subnets));
        for (i, s) in h.amm.subnets.values_mut().enumerate() {
            if s.netuid != 0 {
                // Given: EMA prices already warmed up (the sell flag is on).
                s.moving_price_bits = (i as i128 + 1) << 30;
            }
        }
        Run {
            h,
            pending: Vec::new(),
            opened: BTreeMap::new(),
            exempt: None,
        }
    }

    /// A step, then the unstake guard's promise: after a guarded step no
    /// coldkey whose alpha on a locked subnet fell holds less than its
    /// locked mass there.
    fn step(&mut self, r: &Raw) {
        let before: Vec<(keys::AccountId, u16, u64, u64)> = self
            .h
            .amm
            .locks
            .keys()
            .map(|(n, c)| {
                let amm = &self.h.amm;
                (*c, *n, amm.coldkey_alpha(c, *n), amm.locked_alpha(c, *n))
            })
            .collect();
        self.exempt = None;
        self.act(r);
        if !guarded(r) {
            return;
        }
        for (c, n, alpha, locked) in before {
            if self.exempt == Some((c, n)) {
                continue;
            }
            let now = self.h.amm.coldkey_alpha(&c, n);
            assert!(
                now >= alpha || now >= locked,
                "{r:?}: {c} on {n} fell from {alpha} to {now} below its lock {locked}"
            );
        }
    }

    fn act(&mut self, r: &Raw) {
        let h = &mut self.h;
        let u = |i: usize| USERS[i];
        let k = |i: usize| a(HOTKEYS[i]);
        // Mostly act on a position the coldkey really has (picked by `hk`).
        let pick = |h: &Harness, who: usize, hk: usize, net: u16| -> (keys::AccountId, u16) {
            let p = h.amm.portfolio(&a(u(who))).positions;
            if p.is_empty() || net == NETS {
                (k(hk), net)
            } else {
                let x = &p[hk % p.len()];
                (x.hotkey, x.netuid)
            }
        };
        match r.clone() {
            Raw::Request {
                who,
                hk,
                net,
                amount,
                limit,
                partial,
            } => {
                let op = h.next_op();
                let cmd = signed(
                    u(who),
                    CommandBody::AddStake {
                        op: op.clone(),
                        hotkey: k(hk),
                        netuid: net,
                        amount,
                        limit_price: limit,
                        allow_partial: partial,
                    },
                );
                if h.run(cmd).is_ok() {
                    self.pending.push(op);
                }
            }
            Raw::Fund(i) | Raw::Refuse(i) if !self.pending.is_empty() => {
                let op = self.pending.remove(i % self.pending.len());
                let Some(OpStatus::Pending { request }) = h.amm.op(&op).cloned() else {
                    panic!("op {op} not pending")
                };
                if matches!(r, Raw::Fund(_)) {
                    *h.custody.entry(request.netuid).or_default() += u128::from(request.amount);
                    h.run(ledger(CommandBody::StakeFunded { op }))
                        .expect("funding is always answered");
                } else {
                    h.run(ledger(CommandBody::LedgerRejected {
                        op,
                        code: "InsufficientBalance".into(),
                        message: "no".into(),
                    }))
                    .unwrap();
                }
            }
            Raw::Fund(_) | Raw::Refuse(_) => {}
            Raw::Unstake {
                who,
                hk,
                net,
                permille,
                limit,
            } => {
                let (hot, net) = pick(h, who, hk, net);
                let alpha = pct(h.amm.stake(net, &hot, &a(u(who))), permille);
                let op = h.next_op();
                let _ = h.run(signed(
                    u(who),
                    CommandBody::RemoveStake {
                        op,
                        hotkey: hot,
                        netuid: net,
                        alpha,
                        limit_price: limit,
                        allow_partial: true,
                    },
                ));
            }
            Raw::UnstakeAll { who, hk } => {
                let op = h.next_op();
                let _ = h.run(signed(
                    u(who),
                    CommandBody::UnstakeAll { op, hotkey: k(hk) },
                ));
            }
            Raw::Move {
                who,
                hk,
                hk2,
                net,
                net2,
                permille,
            } => {
                let (hot, net) = pick(h, who, hk, net);
                let alpha = pct(h.amm.stake(net, &hot, &a(u(who))), permille);
                if net == net2 {
                    self.exempt = Some((a(u(who)), net));
                }
                let op = h.next_op();
                let _ = h.run(signed(
                    u(who),
                    CommandBody::MoveStake {
                        op,
                        origin_hotkey: hot,
                        destination_hotkey: k(hk2),
                        origin_netuid: net,
                        destination_netuid: net2,
                        alpha,
                    },
                ));
            }
            Raw::Transfer {
                who,
                who2,
                hk,
                net,
                net2,
                permille,
            } => {
                let (hot, net) = pick(h, who, hk, net);
                let alpha = pct(h.amm.stake(net, &hot, &a(u(who))), permille);
                let op = h.next_op();
                let _ = h.run(signed(
                    u(who),
                    CommandBody::TransferStake {
                        op,
                        destination_coldkey: a(u(who2)),
                        hotkey: hot,
                        origin_netuid: net,
                        destination_netuid: net2,
                        alpha,
                    },
                ));
            }
            Raw::Swap {
                who,
                hk,
                net,
                net2,
                permille,
                limit,
            } => {
                let (hot, net) = pick(h, who, hk, net);
                let alpha = pct(h.amm.stake(net, &hot, &a(u(who))), permille);
                let op = h.next_op();
                let _ = h.run(signed(
                    u(who),
                    CommandBody::SwapStake {
                        op,
                        hotkey: hot,
                        origin_netuid: net,
                        destination_netuid: net2,
                        alpha,
                        limit_price: limit,
                        allow_partial: true,
                    },
                ));
            }
            Raw::Recycle {
                who,
                hk,
                net,
                permille,
                burn,
            } => {
                let (hot, net) = pick(h, who, hk, net);
                let alpha = pct(h.amm.stake(net, &hot, &a(u(who))), permille);
                let op = h.next_op();
                let body = if burn {
                    CommandBody::BurnAlpha {
                        op,
                        hotkey: hot,
                        netuid: net,
                        alpha,
                    }
                } else {
                    CommandBody::RecycleAlpha {
                        op,
                        hotkey: hot,
                        netuid: net,
                        alpha,
                    }
                };
                let _ = h.run(signed(u(who), body));
            }
            Raw::Blocks { n, minted } => {
                for _ in 0..n {
                    let before: Vec<(u16, fixed::types::U64F64)> = h
                        .amm
                        .subnets
                        .values()
                        .map(|s| (s.netuid, s.pool().price()))
                        .collect();
                    let schedule: Vec<(u16, u64)> = h
                        .amm
                        .subnets
                        .values()
                        .map(|s| {
                            (
                                s.netuid,
                                ledger_core::emission::block_emission(s.alpha_in + s.alpha_out),
                            )
                        })
                        .collect();
                    let ev = h.block(minted).expect("blocks in order are accepted");
                    let AmmEvent::CoinbaseRan(c) = &ev[0] else {
                        panic!("coinbase first")
                    };
                    // No block emits more than the schedule.
                    // Alpha minted is exactly the schedule at the pre-block issuance.
                    for s in &c.subnets {
                        let want = schedule.iter().find(|(n, _)| *n == s.netuid).unwrap().1;
                        assert_eq!(s.alpha_out, want);
                    }
                    // An injection without a chain buy keeps the price (§3.4, within 1e-9).
                    for s in c.subnets.iter().filter(|s| s.excess_tao == 0) {
                        let p0 = before.iter().find(|(n, _)| *n == s.netuid).unwrap().1;
                        // The pool right after the coinbase (auto claims may sell after it).
                        let p1 = pool::Pool::new(
                            s.tao_reserve,
                            s.alpha_reserve,
                            pool::Perquintill::from_parts(s.quote_weight),
                            33,
                        )
                        .unwrap()
                        .price();
                        let d = if p0 > p1 { p0 - p1 } else { p1 - p0 };
                        assert!(
                            d.to_num::<f64>() <= 1e-9 * p0.to_num::<f64>().max(1.0),
                            "price moved {p0} -> {p1}"
                        );
                    }
                }
            }
            Raw::Epoch { net, lag, inc, div } => {
                let block = h.amm.height.saturating_sub(u64::from(lag));
                let hotkeys: Vec<_> = HOTKEYS.iter().map(|x| a(*x)).collect();
                let _ = h.run(consensus(CommandBody::Epoch {
                    netuid: net,
                    block,
                    hotkeys,
                    incentive: inc.iter().map(|v| u64::from(*v) * 1_000).collect(),
                    dividend: div.iter().map(|v| u64::from(*v) * 1_000).collect(),
                }));
            }
            Raw::Claim { who, kind } => {
                let claim_type = match kind {
                    0 => RootClaimType::Swap,
                    1 => RootClaimType::Keep,
                    _ => RootClaimType::KeepSubnets(vec![1, 3]),
                };
                h.run(signed(u(who), CommandBody::SetRootClaimType { claim_type }))
                    .unwrap();
                let op = h.next_op();
                let _ = h.run(signed(
                    u(who),
                    CommandBody::ClaimRoot {
                        op,
                        netuids: vec![],
                    },
                ));
            }
            Raw::Param {
                net,
                which,
                value,
                by_governance,
            } => {
                let param = match which {
                    0 => SubnetParam::EmissionEnabled(value % 2 == 0),
                    1 => SubnetParam::OwnerCutEnabled(value % 2 == 0),
                    2 => SubnetParam::TaoWeight(value),
                    3 => SubnetParam::FeeRate((value % 10_000) as u16),
                    4 => SubnetParam::DelegateTake {
                        hotkey: a(BOB_HK),
                        take: value as u16,
                    },
                    6 => SubnetParam::CkBurn(value),
                    _ => SubnetParam::SubtokenEnabled(value % 5 != 0),
                };
                let body = CommandBody::SetParam { netuid: net, param };
                if by_governance {
                    h.run(governance(body)).expect("governance is answered");
                } else if let Err(e) = h.run(signed(ADMIN, body)) {
                    // Only a gone (or never opened) subnet refuses the admin.
                    assert_eq!(e, Rejection::SubnetNotExists);
                    assert!(!h.amm.subnets.contains_key(&net));
                }
            }
            Raw::Open { net, lock, owner } => {
                // Mostly a free netuid (the `net`-th one), else `net` as is.
                let free: Vec<u16> = (1..=ALL)
                    .filter(|n| !h.amm.subnets.contains_key(n))
                    .collect();
                let net = match free.len() {
                    0 => net,
                    _ if net == 0 => 0,
                    len => free[usize::from(net) % len],
                };
                let op = h.next_op();
                let ev = h
                    .run(governance(CommandBody::OpenSubnet {
                        op: op.clone(),
                        netuid: net,
                        owner: a(u(owner)),
                        owner_hotkey: k(owner),
                        lock,
                        block: h.amm.height,
                    }))
                    .expect("governance is answered");
                match &ev[0] {
                    AmmEvent::SubnetOpened(o) => {
                        assert_eq!(o.tao, lock);
                        self.opened.insert(net, op);
                    }
                    AmmEvent::GovernanceStepRefused(_) => {}
                    other => panic!("unexpected {other:?}"),
                }
            }
            Raw::Start { net } => {
                // Mostly one that governance opened.
                let opened: Vec<u16> = self.opened.keys().copied().collect();
                let net = match opened.len() {
                    0 => net,
                    len if net % 4 != 0 => opened[usize::from(net) % len],
                    _ => net,
                };
                h.run(governance(CommandBody::SetParam {
                    netuid: net,
                    param: SubnetParam::StartCall,
                }))
                .expect("governance is answered");
            }
            Raw::Close { net, right_op } => {
                let opened: Vec<u16> = self.opened.keys().copied().collect();
                let net = match opened.len() {
                    0 => net,
                    len => opened[usize::from(net) % len],
                };
                let op = match self.opened.get(&net) {
                    Some(op) if right_op => op.clone(),
                    _ => "not-the-op".to_owned(),
                };
                let ev = h
                    .run(governance(CommandBody::CloseSubnet { op, netuid: net }))
                    .expect("governance is answered");
                if matches!(ev[0], AmmEvent::SubnetClosed(_)) {
                    self.opened.remove(&net);
                }
            }
            Raw::Dissolve { net } => {
                let tao = h.amm.subnets.get(&net).map(|s| s.tao);
                let ev = h
                    .run(governance(CommandBody::DissolveSubnet {
                        netuid: net,
                        block: h.amm.height,
                    }))
                    .expect("governance is answered");
                if let AmmEvent::SubnetDissolved(d) = &ev[0] {
                    let paid: u64 = d.payouts.iter().map(|(_, v)| v).sum();
                    assert_eq!(Some(paid + d.recycled), tao, "the whole pool is settled");
                    self.opened.remove(&net);
                }
            }
            Raw::RegBurn { net, who, amount } => {
                let op = h.next_op();
                let alpha_out = h.amm.subnets.get(&net).map(|s| s.alpha_out);
                let ev = h
                    .registration_burn(&op, net, u(who), amount)
                    .expect("governance is answered");
                if let AmmEvent::RegistrationBurned(b) = &ev[0] {
                    // The pool may take less than offered (a tiny new pool:
                    // found by this test after two dissolutions and an
                    // open with a 0.0019 TAO lock); the rest goes back to
                    // the coldkey in the same settlement, which the model
                    // ledger checks against custody.
                    assert!(b.tao <= amount, "burned {} of {amount}", b.tao);
                    let refunded: u64 = ev
                        .iter()
                        .filter_map(|e| match e {
                            AmmEvent::TaoSettlement(s) => Some(
                                s.moves
                                    .iter()
                                    .filter(|m| matches!(m.to, TaoDest::Account(_)))
                                    .map(|m| m.amount)
                                    .sum::<u64>(),
                            ),
                            _ => None,
                        })
                        .sum();
                    assert_eq!(refunded, amount - b.tao, "the unburned rest is returned");
                    // The burned alpha never counts as outstanding.
                    assert_eq!(h.amm.subnets.get(&net).map(|s| s.alpha_out), alpha_out);
                }
            }
            Raw::Owner { net, hk, takeover } => {
                h.run(governance(CommandBody::SetOwner {
                    netuid: net,
                    owner: takeover.map(|w| a(u(w))),
                    owner_hotkey: k(hk),
                }))
                .expect("governance is answered");
            }
            Raw::Lock {
                who,
                hk,
                net,
                permille,
                perpetual,
                back,
            } => {
                let (_, net) = pick(h, who, hk, net);
                let coldkey = a(u(who));
                let locked = pct(h.amm.coldkey_alpha(&coldkey, net), permille);
                let block = h.amm.height.saturating_add_signed(-back);
                let ev = h
                    .run(governance(CommandBody::SetLock {
                        coldkey,
                        netuid: net,
                        locked,
                        perpetual,
                        block,
                    }))
                    .expect("governance is answered");
                match &ev[..] {
                    [AmmEvent::LockMirrored(l)] => {
                        assert_eq!(l.locked, locked);
                        let want = if block >= h.amm.height || perpetual {
                            locked
                        } else {
                            let tau = h.amm.unlock_rate;
                            let dt = h.amm.height - block;
                            governance_core::math::roll_lock(locked, 0, dt, false, tau, tau).0
                        };
                        assert_eq!(h.amm.locked_alpha(&coldkey, net), want);
                    }
                    [AmmEvent::GovernanceStepRefused(f)] => {
                        assert_eq!(f.code, "SubnetNotExists");
                        assert!(!h.amm.subnets.contains_key(&net));
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
            Raw::Unlock { who, net } => {
                let had = h.amm.lock(&a(u(who)), net).is_some();
                let ev = h
                    .run(governance(CommandBody::ClearLock {
                        coldkey: a(u(who)),
                        netuid: net,
                    }))
                    .expect("governance is answered");
                assert_eq!(ev.len(), usize::from(had));
                assert_eq!(h.amm.lock(&a(u(who)), net), None);
            }
            Raw::UnlockRate { blocks } => {
                h.run(governance(CommandBody::SetUnlockRate { blocks }))
                    .expect("governance is answered");
                assert!(h.amm.unlock_rate > 0);
            }
            Raw::Children { hk, net, kids } => {
                // Children among the hotkeys (and two unregistered ones).
                let child = |i: usize| HOTKEYS.get(i).map_or(a(50 + i as u8), |x| a(*x));
                let children: Vec<(u64, keys::AccountId)> = kids
                    .iter()
                    .map(|(q, c)| {
                        let q = if *q < 4 { u64::MAX / (1 + q) } else { *q };
                        (q, child(*c))
                    })
                    .collect();
                let ev = h
                    .run(governance(CommandBody::SetChildren {
                        hotkey: k(hk),
                        netuid: net,
                        children: children.clone(),
                    }))
                    .expect("governance is answered");
                match &ev[0] {
                    AmmEvent::ChildrenSet(c) => {
                        assert_eq!(c.children, children);
                        let held = h.amm.children.get(&(net, k(hk)));
                        assert_eq!(held.is_some(), !children.is_empty());
                    }
                    AmmEvent::GovernanceStepRefused(_) => {}
                    other => panic!("unexpected {other:?}"),
                }
            }
            Raw::ChildkeyTake { hk, net, take } => {
                h.run(governance(CommandBody::SetChildkeyTake {
                    hotkey: k(hk),
                    netuid: net,
                    take,
                }))
                .expect("governance is answered");
            }
        }
        weights_are_reported(&self.h);
        coldkey_alpha_is_reported(&self.h);
    }
}

/// Governance's mirror of each coldkey's alpha per subnet equals the amm's,
/// up to rounding dust another holder's deposit or withdrawal can add (it
/// never overstates; see `report_stakes`). The dust bound is empirical: 2
/// held until a run (2026-12-02, the regression seed `f65a0380…`: an
/// epoch, a cross-subnet move, an unstake-all and a transfer in a row) left
/// 3 RAO; the safety property is `told <= actual` (a lock can never be
/// allowed above what is held), the bound only catches a mirror that
/// drifts.
fn coldkey_alpha_is_reported(h: &Harness) {
    let amm = &h.amm;
    let mut keys: std::collections::BTreeSet<(keys::AccountId, u16)> =
        amm.reported_coldkey_alpha.keys().copied().collect();
    for ((n, _), p) in &amm.pools {
        keys.extend(p.shares.keys().map(|c| (*c, *n)));
    }
    for (c, n) in keys {
        let told = amm
            .reported_coldkey_alpha
            .get(&(c, n))
            .copied()
            .unwrap_or(0);
        let actual = amm.coldkey_alpha(&c, n);
        assert!(
            told <= actual && actual - told <= 4,
            "alpha of {c} on {n}: told {told}, holds {actual}"
        );
    }
}

/// What consensus was last told equals every stake weight the amm tracks
/// (registered, staked or in a childkey relation), childkeys included.
fn weights_are_reported(h: &Harness) {
    let amm = &h.amm;
    let mut keys: std::collections::BTreeSet<(u16, keys::AccountId)> =
        amm.reported.keys().copied().collect();
    keys.extend(amm.pools.keys().copied());
    keys.extend(amm.children.keys().copied());
    keys.extend(amm.parents.keys().copied());
    for (n, s) in &amm.subnets {
        keys.extend(s.neurons.iter().map(|x| (*n, *x)));
    }
    for (n, hk) in keys {
        if n == 0 || !amm.subnets.contains_key(&n) {
            continue;
        }
        let told = amm.reported.get(&(n, hk)).copied().unwrap_or(0);
        assert_eq!(told, amm.stake_weight(n, &hk), "weight of {hk} on {n}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn accounting_holds_over_random_runs(steps in proptest::collection::vec(raw(), 1..120)) {
        let mut run = Run::new();
        run.h.check();
        for s in &steps {
            run.step(s);
            run.h.check();
        }
        // Fund everything still pending, then run a few blocks and epochs.
        while let Some(op) = run.pending.pop() {
            let Some(OpStatus::Pending { request }) = run.h.amm.op(&op).cloned() else { panic!() };
            *run.h.custody.entry(request.netuid).or_default() += u128::from(request.amount);
            run.h.run(ledger(CommandBody::StakeFunded { op })).unwrap();
            run.h.check();
        }
        // Replay (from genesis, with the given EMA state) equals live.
        let mut fresh = Amm::default();
        aggregate::Aggregate::evolve(&mut fresh, &run.h.log[0]);
        let given: Vec<(u16, i128)> = Run::new().h.amm.subnets.values().map(|s| (s.netuid, s.moving_price_bits)).collect();
        for (n, bits) in given {
            fresh.subnets.get_mut(&n).unwrap().moving_price_bits = bits;
        }
        for e in &run.h.log[1..] {
            aggregate::Aggregate::evolve(&mut fresh, e);
        }
        prop_assert_eq!(aggregate::Aggregate::digest(&fresh), aggregate::Aggregate::digest(&run.h.amm));
        let back = <Amm as aggregate::Aggregate>::restore(&aggregate::Aggregate::snapshot(&run.h.amm)).unwrap();
        prop_assert_eq!(back, run.h.amm.clone());
    }
}
