//! Subnets (§3): lock cost, the registration saga, rate limit, subnet limit
//! and pruning, start call, owner hotkey, identity, symbol, dissolution.

mod common;

use aggregate::Aggregate;
use common::*;
use governance_core::event::*;
use governance_core::*;

/// The Oct 2025 reset: L = 1 250 TAO paid at block 1 ⇒ 2 500 TAO now.
fn world_2500() -> Governance {
    let mut s = Governance::default();
    run(
        &mut s,
        [genesis_full(no_rate_limit(), (1_250 * TAO, 1)), block(1)],
    );
    s
}

#[test]
fn lock_cost_doubles_then_decays_linearly_to_the_floor() {
    let mut s = world_2500();
    // I = 57 600 blocks; L / I = 21 701 388 RAO per block (truncated).
    assert_eq!(s.lock_cost(), 2_500 * TAO);
    advance_to(&mut s, 1 + 28_800);
    assert_eq!(s.lock_cost(), 1_875_000_025_600);
    advance_to(&mut s, 1 + 57_600);
    // back to L after I blocks (plus the truncation remainder)
    assert_eq!(s.lock_cost(), 1_250_000_051_200);
    advance_to(&mut s, 1 + 115_200);
    // 2L − 2I·(L/I) = 102 400 RAO < floor ⇒ NetworkMinLockCost = 1 TAO
    assert_eq!(s.lock_cost(), TAO);
}

#[test]
fn paying_the_lock_doubles_the_next_price() {
    let mut s = world_2500();
    advance_to(&mut s, 1 + 57_600);
    let paid = s.lock_cost();
    let ev = run(
        &mut s,
        [
            register_network(ck(1), hk(1), "a"),
            ledger(CommandBody::LockConfirmed { op: "a".into() }),
        ],
    );
    assert!(ev.iter().any(|e| matches!(e,
        GovernanceEvent::SubnetRegistered(r) if r.lock == 1_250_000_051_200)));
    assert_eq!(s.last_lock_cost, paid);
    assert_eq!(s.lock_cost(), 2 * paid);
}

#[test]
fn halvings_shorten_the_reduction_interval() {
    let mut s = world_2500();
    run(
        &mut s,
        [ledger(CommandBody::BlockEmission { rao: TAO / 2 })],
    );
    advance_to(&mut s, 1 + 28_800);
    // I = 28 800: L / I = 43 402 777
    assert_eq!(s.lock_cost(), 1_250_000_022_400);
}

#[test]
fn a_block_carries_its_emission_once_it_changes() {
    let s = world_2500();
    let h = s.height + 1;
    let (ev, s) = given(s)
        .when(ledger(CommandBody::Block {
            height: h,
            emission: TAO / 2,
        }))
        .then_ok();
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert!(matches!(
        ev[1],
        GovernanceEvent::BlockEmissionObserved(BlockEmissionObserved { rao }) if rao == TAO / 2
    ));
    assert_eq!(s.block_emission, TAO / 2);
    // The same emission again: just the block.
    let (ev, _) = given(s)
        .when(ledger(CommandBody::Block {
            height: h + 1,
            emission: TAO / 2,
        }))
        .then_ok();
    assert_eq!(ev.len(), 1, "{ev:?}");
}

#[test]
fn the_saga_runs_requested_locked_opened() {
    let s = world_2500();
    let (ev, s) = given(s).when(register_network(ck(1), hk(1), "a")).then_ok();
    assert_eq!(
        ev,
        vec![GovernanceEvent::SubnetRegistrationRequested(
            SubnetRegistrationRequested {
                op: "a".into(),
                coldkey: ck(1),
                hotkey: hk(1),
                netuid: 1,
                lock_amount: 2_500 * TAO,
                prune: None,
                identity: None,
                block: 1,
            }
        )]
    );
    assert_eq!(s.registrations["a"].stage, Stage::Requested);
    assert!(s.subnets.is_empty());

    let (ev, s) = given(s)
        .when(ledger(CommandBody::LockConfirmed { op: "a".into() }))
        .then_ok();
    assert_eq!(
        ev,
        vec![
            GovernanceEvent::HotkeyAssociated(HotkeyAssociated {
                hotkey: hk(1),
                coldkey: ck(1)
            }),
            GovernanceEvent::SubnetRegistered(SubnetRegistered {
                op: "a".into(),
                netuid: 1,
                owner: ck(1),
                owner_hotkey: hk(1),
                lock: 2_500 * TAO,
                symbol: 1,
                block: 1,
                tempo: 360,
                burn: TAO,
                identity: None,
            })
        ]
    );
    assert_eq!(s.registrations["a"].stage, Stage::Locked);
    // not usable until pool and metagraph are open
    rejects(
        &s,
        signed(ck(1), CommandBody::StartCall { netuid: 1 }),
        Rejection::SubnetNotExists,
    );
    let s = given(s)
        .when(amm(CommandBody::PoolOpened { op: "a".into() }))
        .then(&[GovernanceEvent::SubnetRegistrationProgressed(
            SubnetRegistrationProgressed {
                op: "a".into(),
                pool_open: true,
                metagraph_open: false,
            },
        )]);
    rejects(
        &s,
        amm(CommandBody::PoolOpened { op: "a".into() }),
        Rejection::UnexpectedOutcome,
    );
    let s = given(s)
        .when(consensus(CommandBody::MetagraphOpened { op: "a".into() }))
        .then(&[
            GovernanceEvent::SubnetRegistrationProgressed(SubnetRegistrationProgressed {
                op: "a".into(),
                pool_open: true,
                metagraph_open: true,
            }),
            GovernanceEvent::SubnetOpened(SubnetOpened {
                op: "a".into(),
                netuid: 1,
            }),
        ]);
    assert_eq!(s.registrations["a"].stage, Stage::Opened);
    assert!(s.active_subnet(1).is_some());
    assert_eq!(s.subnets[&1].neurons.len(), 1, "owner hotkey holds uid 0");
}

#[test]
fn a_refused_lock_fails_the_saga_without_compensation() {
    let mut s = world_2500();
    run(&mut s, [register_network(ck(1), hk(1), "a")]);
    let s = given(s)
        .when(ledger(CommandBody::LockRefused {
            op: "a".into(),
            code: "CannotAffordLockCost".into(),
        }))
        .then(&[GovernanceEvent::SubnetRegistrationFailed(
            SubnetRegistrationFailed {
                op: "a".into(),
                coldkey: ck(1),
                netuid: None,
                code: "CannotAffordLockCost".into(),
                refund: 0,
                close_pool: false,
                close_metagraph: false,
                restored_lock_cost: 1_250 * TAO,
                restored_lock_block: 1,
            },
        )]);
    assert_eq!(s.lock_cost(), 2_500 * TAO);
    // a new attempt is possible at once
    given(s).when(register_network(ck(1), hk(1), "b")).then_ok();
}

#[test]
fn a_refusal_after_the_lock_compensates_every_step() {
    let mut s = world_2500();
    run(
        &mut s,
        [
            register_network(ck(1), hk(1), "a"),
            ledger(CommandBody::LockConfirmed { op: "a".into() }),
            consensus(CommandBody::MetagraphOpened { op: "a".into() }),
        ],
    );
    assert_eq!(s.lock_cost(), 5_000 * TAO);
    let s = given(s)
        .when(amm(CommandBody::PoolRefused {
            op: "a".into(),
            code: "InsufficientLiquidity".into(),
        }))
        .then(&[GovernanceEvent::SubnetRegistrationFailed(
            SubnetRegistrationFailed {
                op: "a".into(),
                coldkey: ck(1),
                netuid: Some(1),
                code: "InsufficientLiquidity".into(),
                refund: 2_500 * TAO,
                close_pool: false,
                close_metagraph: true,
                restored_lock_cost: 1_250 * TAO,
                restored_lock_block: 1,
            },
        )]);
    assert!(s.subnets.is_empty());
    assert_eq!(s.lock_cost(), 2_500 * TAO, "last lock restored");
    assert!(matches!(s.registrations["a"].stage, Stage::Failed { .. }));
}

#[test]
fn saga_outcomes_are_checked() {
    let mut s = world_2500();
    rejects(
        &s,
        ledger(CommandBody::LockConfirmed { op: "x".into() }),
        Rejection::UnknownOp,
    );
    run(&mut s, [register_network(ck(1), hk(1), "a")]);
    rejects(
        &s,
        amm(CommandBody::LockConfirmed { op: "a".into() }),
        Rejection::BadOrigin,
    );
    rejects(
        &s,
        amm(CommandBody::PoolOpened { op: "a".into() }),
        Rejection::UnexpectedOutcome,
    );
    rejects(
        &s,
        register_network(ck(2), hk(2), "a"),
        Rejection::DuplicateOp,
    );
    rejects(&s, register_network(ck(2), hk(2), ""), Rejection::InvalidOp);
    // one saga in flight: the chain-wide rate limit counts it
    rejects(
        &s,
        register_network(ck(2), hk(2), "b"),
        Rejection::NetworkTxRateLimitExceeded,
    );
}

#[test]
fn network_rate_limit_is_chain_wide_28800_blocks() {
    let mut s = world();
    open_subnet(&mut s, ck(1), hk(1), "a");
    advance_to(&mut s, 1 + 28_799);
    rejects(
        &s,
        register_network(ck(2), hk(2), "b"),
        Rejection::NetworkTxRateLimitExceeded,
    );
    advance_to(&mut s, 1 + 28_800);
    assert_eq!(open_subnet(&mut s, ck(2), hk(2), "b"), 2);
}

#[test]
fn registration_input_errors() {
    let mut s = world_with(Config {
        network_registration_start_block: 10,
        ..no_rate_limit()
    });
    rejects(
        &s,
        register_network(ck(1), hk(1), "a"),
        Rejection::SubNetRegistrationDisabled,
    );
    advance_to(&mut s, 10);
    open_subnet(&mut s, ck(1), hk(1), "a");
    // hk(1) belongs to ck(1)
    rejects(
        &s,
        register_network(ck(2), hk(1), "b"),
        Rejection::NonAssociatedColdKey,
    );
    let cost = s.lock_cost();
    rejects(
        &s,
        signed(
            ck(2),
            CommandBody::RegisterNetwork {
                op: "b".into(),
                hotkey: hk(2),
                identity: None,
                max_lock_cost: Some(cost - 1),
            },
        ),
        Rejection::CannotAffordLockCost,
    );
    rejects(
        &s,
        signed(
            ck(2),
            CommandBody::RegisterNetwork {
                op: "b".into(),
                hotkey: hk(2),
                identity: Some(SubnetIdentity {
                    name: "x".repeat(257),
                    ..SubnetIdentity::default()
                }),
                max_lock_cost: None,
            },
        ),
        Rejection::InvalidIdentity,
    );
}

#[test]
fn at_the_limit_the_lowest_ema_price_outside_immunity_is_pruned() {
    let mut s = world_with(Config {
        subnet_limit: 2,
        network_immunity_period: 100,
        ..no_rate_limit()
    });
    open_subnet(&mut s, ck(1), hk(1), "a");
    open_subnet(&mut s, ck(2), hk(2), "b");
    run(
        &mut s,
        [amm(CommandBody::Market {
            entries: vec![(1, 5 << 32, 0), (2, 3 << 32, 0), (9, 0, 0)],
            credits: vec![],
        })],
    );
    // both immune
    rejects(
        &s,
        register_network(ck(3), hk(3), "c"),
        Rejection::SubnetLimitReached,
    );
    advance_to(&mut s, 101);
    assert_eq!(s.subnet_to_prune(), Some(2));
    run(&mut s, [register_network(ck(3), hk(3), "c")]);
    assert_eq!(s.registrations["c"].prune, Some(2));
    let ev = run(
        &mut s,
        [ledger(CommandBody::LockConfirmed { op: "c".into() })],
    );
    assert!(matches!(&ev[0], GovernanceEvent::SubnetDissolved(d)
        if d.netuid == 2 && d.owner == ck(2)
            && d.reason == DissolveReason::Pruned { by_op: "c".into() }));
    assert!(ev.iter().any(|e| matches!(e,
        GovernanceEvent::SubnetRegistered(r) if r.netuid == 2 && r.owner == ck(3) && r.symbol == 2)));
    assert_eq!(s.subnets[&2].owner, ck(3));
}

/// Under the `root-weights` emission rule the chain (2023–2025) pruned the
/// lowest `EmissionValues`, not the lowest price (governance.md §1.3): here
/// subnet 1 has the higher price but the lower emission, so it goes; back
/// under `ema-price`, the price decides again.
#[test]
fn under_root_weights_the_lowest_emission_is_pruned() {
    let mut s = world_with(Config {
        subnet_limit: 2,
        network_immunity_period: 0,
        ..no_rate_limit()
    });
    open_subnet(&mut s, ck(1), hk(1), "a");
    open_subnet(&mut s, ck(2), hk(2), "b");
    run(
        &mut s,
        [amm(CommandBody::Market {
            entries: vec![(1, 5 << 32, 0), (2, 3 << 32, 0)],
            credits: vec![(1, 100_000_000), (2, 900_000_000), (9, 1)],
        })],
    );
    assert_eq!(s.subnets[&1].emission_rao, 100_000_000);
    assert_eq!(s.subnet_to_prune(), Some(2), "ema-price: the lower price");
    let ev = run(
        &mut s,
        [amm(CommandBody::EmissionRuleChanged {
            rule: EmissionRule::RootWeights,
        })],
    );
    assert!(
        matches!(&ev[..], [GovernanceEvent::EmissionRuleObserved(r)] if r.rule == EmissionRule::RootWeights)
    );
    assert_eq!(
        s.subnet_to_prune(),
        Some(1),
        "root-weights: the lower emission"
    );
    run(&mut s, [register_network(ck(3), hk(3), "c")]);
    assert_eq!(s.registrations["c"].prune, Some(1));
    // Only the amm reports its rule.
    rejects(
        &s,
        signed(
            ck(1),
            CommandBody::EmissionRuleChanged {
                rule: EmissionRule::EmaPrice,
            },
        ),
        Rejection::BadOrigin,
    );
}

#[test]
fn equal_prices_prune_the_earliest_registered() {
    let mut s = world_with(Config {
        subnet_limit: 2,
        network_immunity_period: 0,
        ..no_rate_limit()
    });
    open_subnet(&mut s, ck(1), hk(1), "a");
    advance_to(&mut s, 2);
    open_subnet(&mut s, ck(2), hk(2), "b");
    assert_eq!(s.subnet_to_prune(), Some(1));
}

#[test]
fn start_call_once_by_the_owner_after_the_delay() {
    let mut s = world_with(Config {
        start_call_delay: 50,
        ..no_rate_limit()
    });
    open_subnet(&mut s, ck(1), hk(1), "a");
    rejects(
        &s,
        signed(ck(2), CommandBody::StartCall { netuid: 1 }),
        Rejection::BadOrigin,
    );
    rejects(
        &s,
        signed(ck(1), CommandBody::StartCall { netuid: 7 }),
        Rejection::SubnetNotExists,
    );
    rejects(
        &s,
        signed(ck(1), CommandBody::StartCall { netuid: 1 }),
        Rejection::NeedWaitingMoreBlocksToStarCall,
    );
    assert!(!s.emission_eligible(1));
    advance_to(&mut s, 51);
    let s = given(s)
        .when(signed(ck(1), CommandBody::StartCall { netuid: 1 }))
        .then(&[GovernanceEvent::SubnetStarted(SubnetStarted {
            netuid: 1,
            first_emission_block: 52,
        })]);
    assert!(s.emission_eligible(1));
    rejects(
        &s,
        signed(ck(1), CommandBody::StartCall { netuid: 1 }),
        Rejection::FirstEmissionBlockNumberAlreadySet,
    );
    // disabling registrations also removes the subnet from emission
    let mut s = s;
    run(
        &mut s,
        [admin_cmd(AdminAction::SetHyperparameter {
            netuid: 1,
            param: Hyperparameter::NetworkRegistrationAllowed(false),
        })],
    );
    assert!(!s.emission_eligible(1));
}

#[test]
fn owner_hotkey_changes_once_per_50400_blocks_root_too() {
    let mut s = world_with_subnet();
    let set = |who, h| {
        signed(
            who,
            CommandBody::SetSubnetOwnerHotkey {
                netuid: 1,
                hotkey: h,
            },
        )
    };
    rejects(&s, set(ck(2), hk(9)), Rejection::NotSubnetOwner);
    run(&mut s, [set(ck(1), hk(9))]);
    assert_eq!(s.subnets[&1].owner_hotkey, hk(9));
    rejects(&s, set(ck(1), hk(8)), Rejection::TxRateLimitExceeded);
    rejects(
        &s,
        admin_cmd(AdminAction::SetSubnetOwnerHotkey {
            netuid: 1,
            hotkey: hk(8),
        }),
        Rejection::TxRateLimitExceeded,
    );
    advance_to(&mut s, 1 + 50_400);
    run(&mut s, [set(ck(1), hk(8))]);
}

#[test]
fn identity_and_symbol() {
    let mut s = world_with_subnet();
    open_subnet(&mut s, ck(2), hk(2), "b");
    let identity = SubnetIdentity {
        name: "alpha".into(),
        ..SubnetIdentity::default()
    };
    rejects(
        &s,
        signed(
            ck(2),
            CommandBody::SetSubnetIdentity {
                netuid: 1,
                identity: identity.clone(),
            },
        ),
        Rejection::NotSubnetOwner,
    );
    rejects(
        &s,
        signed(
            ck(1),
            CommandBody::SetSubnetIdentity {
                netuid: 1,
                identity: SubnetIdentity {
                    discord: "d".repeat(257),
                    ..SubnetIdentity::default()
                },
            },
        ),
        Rejection::InvalidIdentity,
    );
    run(
        &mut s,
        [signed(
            ck(1),
            CommandBody::SetSubnetIdentity {
                netuid: 1,
                identity: identity.clone(),
            },
        )],
    );
    assert_eq!(s.subnets[&1].identity, Some(identity));
    let sym = |who, symbol| signed(who, CommandBody::UpdateSymbol { netuid: 1, symbol });
    rejects(&s, sym(ck(1), 439), Rejection::SymbolDoesNotExist);
    rejects(&s, sym(ck(1), 2), Rejection::SymbolAlreadyInUse);
    rejects(&s, sym(ck(2), 5), Rejection::NotSubnetOwner);
    run(&mut s, [sym(ck(1), 5)]);
    run(
        &mut s,
        [admin_cmd(AdminAction::UpdateSymbol {
            netuid: 1,
            symbol: 6,
        })],
    );
    assert_eq!(s.subnets[&1].symbol, 6);
}

#[test]
fn the_authority_dissolves_subnets() {
    let s = world_with_subnet();
    rejects(
        &s,
        admin_cmd(AdminAction::DissolveSubnet { netuid: 0 }),
        Rejection::SubnetNotExists,
    );
    rejects(
        &s,
        signed(
            ck(1),
            CommandBody::Admin(AdminAction::DissolveSubnet { netuid: 1 }),
        ),
        Rejection::BadOrigin,
    );
    let s = given(s)
        .when(admin_cmd(AdminAction::DissolveSubnet { netuid: 1 }))
        .then(&[GovernanceEvent::SubnetDissolved(SubnetDissolved {
            netuid: 1,
            owner: ck(1),
            lock: TAO,
            reason: DissolveReason::Authority,
        })]);
    assert!(s.subnets.is_empty());
}

#[test]
fn blocks_arrive_in_order() {
    let s = world();
    rejects(
        &s,
        block(5),
        Rejection::UnexpectedBlock {
            expected: 2,
            got: 5,
        },
    );
    rejects(
        &s,
        amm(CommandBody::Block {
            height: 2,
            emission: 0,
        }),
        Rejection::BadOrigin,
    );
    let mut s2 = s.clone();
    run(&mut s2, [block(2)]);
    assert_eq!(s2.block(), 2);
    rejects(
        &s,
        Command::new(
            Origin::Genesis,
            CommandBody::ApplyGenesis {
                admin: None,
                config: Config::default(),
                triumvirate: vec![],
                last_lock: (0, 0),
                subnets: vec![],
            },
        ),
        Rejection::GenesisAlreadyApplied,
    );
}
