//! The simulator end to end: determinism, the emission figures checked by
//! hand, and the example scenarios.

use sim::Scenario;

const TAO: u64 = 1_000_000_000;

fn run(s: &Scenario) -> sim::Outcome {
    sim::run(s, &mut |_, _| {}).expect("the scenario runs")
}

/// Parses and runs `text`, checks the cores' invariants held, and runs it
/// again: the same report bytes (every agent is deterministic).
fn run_checked(text: &str) -> sim::Outcome {
    let out = run(&Scenario::from_json(text).expect("parses"));
    assert!(out.invariants.is_empty(), "{:?}", out.invariants);
    assert_eq!(
        out.report_json(),
        run(&Scenario::from_json(text).unwrap()).report_json(),
        "the same scenario twice gives the same report"
    );
    out
}

fn example(name: &str) -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    Scenario::load(&path).expect("the example parses")
}

/// A small economy: two subnets, a staker, a validator, a scripted transfer.
fn small(blocks: u64, seed: u64) -> Scenario {
    Scenario::from_json(&small_text(blocks, seed)).expect("the scenario parses")
}

fn small_text(blocks: u64, seed: u64) -> String {
    format!(
        r#"{{
        "name": "small", "seed": {seed}, "blocks": {blocks}, "start_date": "2025-06-01",
        "genesis": {{
            "balances": [["@Alice", 1000000000000000], ["@Bob", 500000000000000], ["@Dave", 1000000000000]],
            "admin": "@Alice",
            "subnets": [
                {{"netuid": 1, "owner": "@Alice", "owner_hotkey": "@AliceHot",
                  "tao_reserve": 10000000000000, "alpha_reserve": 10000000000000,
                  "first_emission_block": 0, "tempo": 10,
                  "neurons": [{{"hotkey": "@Val1", "owner": "@Bob"}}, {{"hotkey": "@Miner1", "owner": "@Dave"}}]}},
                {{"netuid": 2, "owner": "@Bob", "owner_hotkey": "@BobHot",
                  "tao_reserve": 5000000000000, "alpha_reserve": 20000000000000,
                  "first_emission_block": 0, "tempo": 10}}
            ]
        }},
        "rules": [{{"netuid": 1, "param": {{"CommitRevealEnabled": false}}}},
                  {{"netuid": 1, "param": {{"WeightsRateLimit": 0}}}}],
        "commands": [
            {{"at": 0, "signer": "@Bob", "service": "amm", "command": {{"AddStake": {{
                "op": "bob-1", "hotkey": "@Val1", "netuid": 1, "amount": 100000000000000,
                "limit_price": null, "allow_partial": false}}}}}},
            {{"at": 3, "signer": "@Alice", "service": "ledger", "command": {{"Transfer": {{
                "to": "@Carol", "amount": 5000000000, "keep_alive": true}}}}}}
        ],
        "agents": [
            {{"kind": "staker", "coldkey": "@Bob", "hotkey": "@Val1", "netuids": [1, 2],
              "every": 7, "max_rao": 2000000000000, "chase": false}},
            {{"kind": "validator", "hotkey": "@Val1", "netuid": 1, "every": 10, "noise_pct": 20,
              "miners": [{{"hotkey": "@Miner1", "quality": 60000}}]}}
        ]
    }}"#
    )
}

#[test]
fn same_scenario_and_seed_give_identical_report_bytes() {
    let s = small(60, 7);
    let a = run(&s);
    let b = run(&s);
    assert_eq!(a.report_json(), b.report_json());
    assert_eq!(a.global_csv(), b.global_csv());
    assert_eq!(a.subnets_csv(), b.subnets_csv());
    // Something actually happened: commands were accepted, subnets were
    // paid epochs, prices moved.
    let r = &a.report;
    assert!(r.commands.accepted >= 2, "{:?}", r.commands);
    // The rule switch took: the validator's plain weights are accepted.
    assert!(r.commands.rejections.is_empty(), "{:?}", r.commands);
    assert_eq!(r.subnets.len(), 2);
    assert!(r.subnets.iter().all(|s| s.epochs >= 5), "{:?}", r.subnets);
    assert!(r.subnets.iter().all(|s| s.tao_emission_rao > 0));
    let shares: u64 = r.subnets.iter().map(|s| s.tao_share_ppm).sum();
    assert!((999_990..=1_000_000).contains(&shares), "{shares}");
    assert_eq!(r.issuance.minted_rao, 60 * TAO);
}

#[test]
fn another_seed_gives_another_run() {
    let a = run(&small(60, 1));
    let b = run(&small(60, 2));
    assert_ne!(a.report.digests, b.report.digests);
}

#[test]
fn one_tao_per_block_is_7200_tao_per_day_before_the_first_halving() {
    // One day of 12-second blocks on a small network: 7 200 blocks, each
    // minting 1 TAO (era 0), so the day mints exactly 7 200 TAO.
    let s = Scenario::from_json(
        r#"{"blocks": 7200, "start_date": "2025-01-01",
            "genesis": {"balances": [["@Alice", 1000000000000000]]}}"#,
    )
    .unwrap();
    let r = run(&s).report;
    assert_eq!(r.block_time_ms, 12_000);
    assert_eq!(r.issuance.minted_rao, 7_200 * TAO);
    assert_eq!(r.emission.first_block_rao, TAO);
    assert_eq!(r.emission.per_day_start_rao, 7_200 * TAO);
    assert_eq!(r.emission.per_day_average_rao, 7_200 * TAO);
    assert_eq!(r.end_date, "2025-01-02T00:00:00Z");
    assert!(r.halvings.is_empty());
    // 2 628 000 TAO a year over 1 000 000 TAO.
    assert_eq!(r.inflation.start_bp, 26_280);
}

#[test]
fn tiny_example_runs() {
    let r = run(&example("tiny.json")).report;
    // Genesis stakes, agents' stakes and weights, the transfer: all taken.
    assert!(r.commands.accepted > 20, "{:?}", r.commands);
    assert!(r.commands.rejections.is_empty(), "{:?}", r.commands);
    assert!(r.commands.foreign_rejections.is_empty(), "{:?}", r.commands);
    assert_eq!(r.subnets.len(), 2);
    for s in &r.subnets {
        // 720 blocks at tempo 36: an epoch every 37 blocks or so.
        assert!(s.epochs >= 18, "{s:?}");
        assert!(
            s.payouts.miner > 0 && s.payouts.validator > 0 && s.payouts.owner > 0,
            "{s:?}"
        );
    }
    assert_eq!(r.issuance.minted_rao, 720 * TAO);
}

#[test]
fn halving_example_reproduces_the_seed_figures() {
    let s = example("halving.json");
    let r = run(&s).report;
    assert_eq!(r.halvings.len(), 1, "{:?}", r.halvings);
    let h = &r.halvings[0];
    // The halving lands when issuance reaches 10.5M TAO.
    assert!(h.issuance_rao >= 10_500_000 * TAO && h.issuance_rao < 10_500_000 * TAO + TAO);
    assert_eq!(h.per_day_before_rao, 7_200 * TAO);
    assert_eq!(h.per_day_after_rao, 3_600 * TAO);
    // 2.628M / 10.5M = 25.03% before, 12.51% after ("about 26% and 13%").
    assert_eq!(h.inflation_before_bp, 2_502);
    assert_eq!(h.inflation_after_bp, 1_251);
    assert_eq!(r.emission.per_day_start_rao, 7_200 * TAO);
    assert_eq!(r.emission.per_day_end_rao, 3_600 * TAO);
    // The projection from the scenario's issuance and date.
    let p = r.projection.as_ref().expect("a projection");
    assert_eq!(p.halving_issuance_rao, 10_500_000 * TAO);
    assert_eq!(
        p.blocks,
        (10_500_000 * TAO - p.from_issuance_rao).div_ceil(TAO)
    );
}

#[test]
fn plots_and_csv_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&small(30, 3));
    out.write(dir.path()).unwrap();
    let files = sim::plot::write(&out, dir.path()).unwrap();
    assert_eq!(files.len(), 8);
    for f in [
        "supply.png",
        "prices.png",
        "shares.png",
        "concentration.png",
    ] {
        let png = std::fs::read(dir.path().join(f)).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{f} is a PNG");
        assert!(png.len() > 200, "{f} is nearly empty");
    }
    for f in [
        "report.json",
        "series.csv",
        "subnets.csv",
        "supply.svg",
        "prices.svg",
        "shares.svg",
        "concentration.svg",
        "stake.csv",
    ] {
        let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert!(text.len() > 100, "{f} is nearly empty");
    }
    let csv = std::fs::read_to_string(dir.path().join("series.csv")).unwrap();
    // Header plus block 0 plus one row per block (30 blocks < 1000 samples).
    assert_eq!(csv.lines().count(), 1 + 31);
    let svg = std::fs::read_to_string(dir.path().join("prices.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("sn1 spot"));
}

#[test]
fn bad_scenarios_are_refused_with_the_reason() {
    let err = |text: &str| match Scenario::from_json(text) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted: {text}"),
    };
    let genesis = r#""genesis": {"balances": [["@Alice", 1000000000000]]}"#;
    assert!(err(&format!(r#"{{"blocks": 5, "colour": 1, {genesis}}}"#)).contains("colour"));
    assert!(err(&format!(
        r#"{{"blocks": 5, {genesis}, "commands": [{{"at": 9, "signer": "@Alice",
            "service": "ledger", "command": {{"Transfer": {{"to": "@Bob", "amount": 1, "keep_alive": true}}}}}}]}}"#
    ))
    .contains("past the run"));
    assert!(err(&format!(
        r#"{{"blocks": 5, "start_date": "soon", {genesis}}}"#
    ))
    .contains("bad date"));
    // A genesis the cluster would refuse, the simulator refuses too.
    assert!(
        err(r#"{"blocks": 5, "genesis": {"balances": [["@Alice", 1]]}}"#)
            .contains("existential deposit")
    );
}

#[test]
fn stake_concentration_is_computed_in_integers() {
    use sim::report::StakeRow;
    // One holder: everything.
    let one = StakeRow::of(5, [7]);
    assert_eq!(
        (one.hotkeys, one.top1_ppm, one.top10_ppm, one.hhi_ppm),
        (1, 1_000_000, 1_000_000, 1_000_000)
    );
    // Four equal holders (and zeros, which are not holders).
    let four = StakeRow::of(5, [0, 10, 10, 10, 10, 0]);
    assert_eq!(four.hotkeys, 4);
    assert_eq!(four.total_value_rao, 40);
    assert_eq!(
        (four.top1_ppm, four.top10_ppm, four.hhi_ppm),
        (250_000, 1_000_000, 250_000)
    );
    // Twelve holders, one large: 12 of 23 on top, the top ten 21 of 23.
    let mut v = vec![12u64];
    v.extend([1; 11]);
    let r = StakeRow::of(0, v);
    assert_eq!(r.top1_ppm, 12 * 1_000_000 / 23);
    assert_eq!(r.top10_ppm, 21 * 1_000_000 / 23);
    let big = u128::from(12 * 1_000_000 / 23u64);
    let small = u128::from(1_000_000 / 23u64);
    assert_eq!(
        u128::from(r.hhi_ppm),
        (big * big + 11 * small * small) / 1_000_000
    );
    // Nobody staked.
    assert_eq!(StakeRow::of(0, []), StakeRow::default());
}

#[test]
fn the_run_samples_stake_concentration() {
    let out = run(&small(30, 3));
    assert_eq!(out.series.stake.len(), out.series.global.len());
    let last = out.series.stake.last().unwrap();
    assert_eq!(&out.report.stake_concentration, last);
    // Bob's stake on Val1 dominates the small economy.
    assert!(last.hotkeys >= 1);
    assert!(last.top1_ppm > 500_000, "{last:?}");
    assert!(last.top1_ppm <= last.top10_ppm && last.top10_ppm <= 1_000_000);
}

#[test]
fn a_weight_copier_sets_the_leaders_row() {
    // A third neuron on subnet 1 copies Val1's stored weights every tempo,
    // a block after Val1 sets them.
    let text = small_text(60, 7)
        .replace(
            r#"{"hotkey": "@Miner1", "owner": "@Dave"}]"#,
            r#"{"hotkey": "@Miner1", "owner": "@Dave"}, {"hotkey": "@Copier", "owner": "@Dave"}]"#,
        )
        .replace(
            r#""miners": [{"hotkey": "@Miner1", "quality": 60000}]}"#,
            r#""miners": [{"hotkey": "@Miner1", "quality": 60000}]},
            {"kind": "weight_copier", "hotkey": "@Copier", "netuid": 1, "every": 10, "leader": "@Val1"}"#,
        )
        .replace(
            r#""commands": ["#,
            r#""commands": [
            {"at": 0, "signer": "@Dave", "service": "amm", "command": {"AddStake": {
                "op": "dave-1", "hotkey": "@Copier", "netuid": 1, "amount": 500000000000,
                "limit_price": null, "allow_partial": false}}},"#,
        );
    assert!(text.contains("weight_copier"));
    let with = run(&Scenario::from_json(&text).expect("parses"));
    let without = run(&small(60, 7));
    // The copier (staked by Dave at genesis, so it holds a validator
    // permit from the first epoch) sends at blocks 10, 20, .., 60 (Val1
    // has a row from block 10 on: the validator runs first in scenario
    // order) and every copy is accepted, besides Dave's stake.
    assert!(
        with.report.commands.rejections.is_empty(),
        "{:?}",
        with.report.commands
    );
    assert_eq!(
        with.report.commands.accepted,
        without.report.commands.accepted + 1 + 6,
        "{:?} vs {:?}",
        with.report.commands,
        without.report.commands
    );
    // Deterministic, like every agent.
    assert_eq!(
        with.report_json(),
        run(&Scenario::from_json(&text).unwrap()).report_json()
    );
}

/// `small_text` with Erin funded (100 000 TAO), governance `config`
/// fields added to the genesis, and `agents` appended to its agents.
fn small_with(blocks: u64, config: &str, agents: &str) -> String {
    let text = small_text(blocks, 7)
        .replace(
            r#"["@Dave", 1000000000000]]"#,
            r#"["@Dave", 1000000000000], ["@Erin", 100000000000000]]"#,
        )
        .replace(
            r#""admin": "@Alice","#,
            &format!(r#""admin": "@Alice", "governance": {{"config": {{{config}}}}},"#),
        )
        .replace(
            r#""miners": [{"hotkey": "@Miner1", "quality": 60000}]}"#,
            &format!(r#""miners": [{{"hotkey": "@Miner1", "quality": 60000}}]}}, {agents}"#),
        );
    assert!(text.contains("@Erin") && text.contains(agents), "{text}");
    text
}

/// The free balance of the `@Name` account at the end of a run.
fn free_of(out: &sim::Outcome, name: &str) -> u64 {
    out.economy
        .accounts
        .iter()
        .find(|(k, _)| out.report.accounts.get(&k.to_ss58()).map(String::as_str) == Some(name))
        .map_or(0, |(_, a)| a.free_rao)
}

#[test]
fn a_subnet_owner_registers_and_starts_subnets() {
    // Erin registers a subnet every 5 blocks, at most 3; the chain-wide
    // rate limit is 10 blocks, so every other attempt is refused.
    let text = small_with(
        60,
        r#""network_rate_limit": 10"#,
        r#"{"kind": "subnet_owner", "coldkey": "@Erin", "hotkey_prefix": "ErinOwner",
            "every": 5, "count": 3, "start_call": true}"#,
    );
    let out = run_checked(&text);
    let without = run(&small(60, 7));
    let r = &out.report;
    // Attempts at 5, 10, 15, 20, 25: taken at 5, 15, 25 (10 blocks apart),
    // refused at 10 and 20; each new subnet's StartCall the block after.
    assert_eq!(
        r.commands.rejections,
        [("governance:NetworkTxRateLimitExceeded".to_string(), 2)].into(),
        "{:?}",
        r.commands
    );
    assert_eq!(
        r.commands.accepted,
        without.report.commands.accepted + 3 + 3,
        "{:?}",
        r.commands
    );
    assert_eq!(
        r.registrations.subnets_registered, 3,
        "{:?}",
        r.registrations
    );
    assert_eq!(r.registrations.subnets_failed, 0);
    assert_eq!(r.registrations.subnets_pruned, 0);
    assert_eq!(r.subnets.len(), 2 + 3, "{:?}", r.subnets);
    // Each new subnet opens with its owner hotkey at uid 0.
    for s in r.subnets.iter().filter(|s| s.netuid > 2) {
        assert_eq!(s.neurons, 1, "{s:?}");
    }
    // Erin paid exactly the locks (no fee is charged on governance commands).
    assert!(r.registrations.subnet_locks_rao > 0);
    assert_eq!(
        free_of(&out, "Erin"),
        100_000 * TAO - r.registrations.subnet_locks_rao
    );
    // The same run twice: the same bytes.
}

#[test]
fn at_the_subnet_limit_a_registration_prunes_the_weakest_subnet() {
    // The limit is the two genesis subnets and nothing is immune: each
    // registration dissolves the active subnet with the lowest EMA price
    // and reuses its netuid. At block 30 that is genesis subnet 2 (price
    // 0.25 against subnet 1's 1.0); at block 60 it is the subnet Erin
    // registered at 30, which never started and so has no EMA price.
    let text = small_with(
        60,
        r#""network_rate_limit": 10, "subnet_limit": 2, "network_immunity_period": 0"#,
        r#"{"kind": "subnet_owner", "coldkey": "@Erin", "hotkey_prefix": "ErinOwner",
            "every": 30, "count": 2}"#,
    );
    let out = run_checked(&text);
    let r = &out.report;
    let g = &r.registrations;
    assert_eq!((g.subnets_registered, g.subnets_pruned), (2, 2), "{g:?}");
    assert_eq!(r.subnets.len(), 2, "{:?}", r.subnets);
    let (sn1, sn2) = (&r.subnets[0], &r.subnets[1]);
    // Subnet 1 is still the genesis one, with its two neurons and its
    // epochs; netuid 2 is Erin's latest, her owner hotkey alone.
    assert_eq!((sn1.netuid, sn1.neurons), (1, 2), "{sn1:?}");
    assert!(sn1.epochs >= 5, "{sn1:?}");
    assert_eq!((sn2.netuid, sn2.neurons, sn2.epochs), (2, 1, 0), "{sn2:?}");
    // Erin paid both locks and got nothing back: a new subnet's owner is
    // not refunded at dissolution, and she held no stake in either.
    assert_eq!(free_of(&out, "Erin"), 100_000 * TAO - g.subnet_locks_rao);
    // The only refusals: Bob's staker picking netuid 2 after block 30,
    // a subnet whose owner has not sent StartCall (no subtoken yet).
    assert!(
        r.commands
            .rejections
            .keys()
            .all(|k| k == "amm:SubtokenDisabled"),
        "{:?}",
        r.commands
    );
}

#[test]
fn a_registrant_fills_a_small_subnet_then_pruning_replaces_neurons() {
    // Subnet 1 (two genesis neurons) is cut to 4 uids; Dave registers a
    // fresh hotkey every 4 blocks, 6 in all: two fill the free uids, the
    // next four each take a pruned neuron's uid.
    let text = small_with(
        40,
        "",
        r#"{"kind": "registrant", "coldkey": "@Dave", "netuid": 1, "hotkey_prefix": "DaveReg",
            "every": 4, "count": 6}"#,
    )
    .replace(
        r#""rules": ["#,
        r#""rules": [{"netuid": 1, "param": {"MinAllowedUids": 1}},
                  {"netuid": 1, "param": {"MaxAllowedValidators": 4}},
                  {"netuid": 1, "param": {"MaxAllowedUids": 4}},"#,
    );
    let out = run_checked(&text);
    let r = &out.report;
    assert!(r.commands.rejections.is_empty(), "{:?}", r.commands);
    let g = &r.registrations;
    assert_eq!(g.neurons_registered, 6, "{g:?}");
    assert_eq!(g.neurons_replaced, 4, "{g:?}");
    assert_eq!((g.neurons_failed, g.neuron_refunds_rao), (0, 0), "{g:?}");
    let sn1 = r.subnets.iter().find(|s| s.netuid == 1).unwrap();
    assert_eq!(sn1.neurons, 4, "{sn1:?}");
    // Each burn is at least the 1 TAO a fresh subnet starts at, bumped
    // after each registration; Dave paid exactly the burns.
    assert!(g.neuron_burns_rao > 6 * TAO, "{g:?}");
    assert_eq!(free_of(&out, "Dave"), 1_000 * TAO - g.neuron_burns_rao);
}

#[test]
fn a_registrant_waits_while_the_burn_is_above_its_limit() {
    // Every block, at most 1.5 TAO: the burn starts at 1 TAO and is bumped
    // ×~1.26 per registration (1 → 1.26 → 1.59), so the third waits until
    // the burn has decayed (half-life 360 blocks) back under 1.5 TAO.
    let text = small_with(
        20,
        "",
        r#"{"kind": "registrant", "coldkey": "@Dave", "netuid": 1, "hotkey_prefix": "DaveReg",
            "every": 1, "max_burn_rao": 1500000000}"#,
    );
    let out = run_checked(&text);
    let r = &out.report;
    assert!(r.commands.rejections.is_empty(), "{:?}", r.commands);
    assert_eq!(
        r.registrations.neurons_registered, 2,
        "{:?}",
        r.registrations
    );
    assert!(r.registrations.neuron_burns_rao <= 2 * 1_500_000_000);
    let sn1 = r.subnets.iter().find(|s| s.netuid == 1).unwrap();
    assert_eq!(sn1.neurons, 2 + 2, "{sn1:?}");
}

#[test]
fn a_registration_the_ledger_cannot_fund_fails_and_takes_nothing() {
    // Carol only has the 5 TAO Alice sends at block 3. Governance accepts
    // every BurnedRegister (balances are the ledger's), so an unaffordable
    // one fails downstream when the ledger refuses to fund it: nothing was
    // taken, nothing is refunded. Attempts every 2 blocks: block 2 fails
    // (Carol has nothing yet), 4, 6 and 8 succeed (≈1.26 + 1.59 + 2.0
    // TAO: the burn is bumped ×~1.26 when a request is accepted, even one
    // that then fails), and from block 10 on she cannot pay: 12 failures.
    let text = small_with(
        30,
        "",
        r#"{"kind": "registrant", "coldkey": "@Carol", "netuid": 1, "hotkey_prefix": "CarolReg",
            "every": 2}"#,
    );
    let out = run_checked(&text);
    let r = &out.report;
    assert!(r.commands.rejections.is_empty(), "{:?}", r.commands);
    let g = &r.registrations;
    assert_eq!((g.neurons_registered, g.neurons_failed), (3, 12), "{g:?}");
    assert_eq!(g.neuron_refunds_rao, 0, "{g:?}");
    assert_eq!(free_of(&out, "Carol"), 5 * TAO - g.neuron_burns_rao);
    let sn1 = r.subnets.iter().find(|s| s.netuid == 1).unwrap();
    assert_eq!(sn1.neurons, 2 + 3, "{sn1:?}");
    // The amm sees every ledger refusal and ignores those of sagas that
    // are not its own (the cluster logs the same as warnings).
    assert_eq!(
        r.commands.foreign_rejections,
        [("amm:UnknownOperation".to_string(), 12)].into(),
        "{:?}",
        r.commands
    );
}

#[test]
fn derived_hotkeys_are_the_dev_keys_of_their_uris() {
    // What the docs promise: `taonet wallet` can rebuild an agent's keys.
    let base = sim::scenario::hotkey_base("DaveReg").unwrap();
    for n in [0, 1, 41] {
        assert_eq!(
            sim::scenario::derived_hotkey(&base, n),
            keys::Keypair::from_uri(&format!("//DaveReg/{n}"))
                .unwrap()
                .public()
        );
    }
}

#[test]
fn a_registering_agent_needs_a_plain_hotkey_prefix() {
    let text = small_with(
        5,
        "",
        r#"{"kind": "registrant", "coldkey": "@Dave", "netuid": 1, "hotkey_prefix": "a/b",
            "every": 1}"#,
    );
    match Scenario::from_json(&text) {
        Err(e) => assert!(e.to_string().contains("hotkey_prefix"), "{e}"),
        Ok(_) => panic!("accepted a prefix with '/'"),
    }
}

#[test]
fn registration_example_runs() {
    let out = run(&example("registration.json"));
    let r = &out.report;
    assert!(out.invariants.is_empty(), "{:?}", out.invariants);
    assert!(r.commands.rejections.is_empty(), "{:?}", r.commands);
    // Erin registers at 300, 600, 900 and 1200 (the rate limit is 300):
    // the first fills the limit of 3, each later one prunes a subnet.
    let g = &r.registrations;
    assert_eq!((g.subnets_registered, g.subnets_pruned), (4, 3), "{g:?}");
    assert_eq!(r.subnets.len(), 3, "{:?}", r.subnets);
    // Subnet 1, the strongest, survives, filled to its 8 uids by Dave,
    // whose later registrations replace pruned neurons; he skips the
    // attempts while the burn is above his 3 TAO.
    let sn1 = &r.subnets[0];
    assert_eq!((sn1.netuid, sn1.neurons), (1, 8), "{sn1:?}");
    assert!(g.neurons_replaced > 0, "{g:?}");
    assert!(g.neurons_registered < 1440 / 60, "{g:?}");
    assert_eq!(free_of(&out, "Dave"), 1_000 * TAO - g.neuron_burns_rao);
}
