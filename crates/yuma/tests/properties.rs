//! Invariants of the epoch on random subnets: incentive and dividends are each normalized
//! (65535 up to flooring, or zero) and the emission never exceeds the amount handed in.

use proptest::prelude::*;
use yuma::fixed_math::i64f64_from_u64;
use yuma::{run_epoch, EpochContext, Hyperparameters, SubnetState};

#[derive(Debug, Clone)]
struct Case {
    hp: Hyperparameters,
    state: SubnetState,
    blocks: Vec<u64>,
    rao: u64,
    owner: Option<u16>,
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..14).prop_flat_map(|n| {
        let row = proptest::collection::vec((0..n as u16, any::<u16>()), 0..=n);
        (
            (
                any::<u16>(),
                prop_oneof![Just(0u16), Just(65535u16), any::<u16>()],
                prop_oneof![
                    Just(0u64),
                    Just(900_000u64),
                    Just(975_000u64),
                    0u64..1_000_000
                ],
                any::<bool>(),
                any::<bool>(),
                1638u16..30000,
                0u16..30000,
                -2000i16..3000,
                1u16..16,
                0u64..8,
                prop_oneof![Just(0u64), 0u64..1000],
            ),
            proptest::collection::vec(
                prop_oneof![Just(0u64), 0u64..2000, 0u64..u64::MAX / 1024],
                n,
            ),
            proptest::collection::vec(any::<bool>(), n),
            proptest::collection::vec(0u64..6, n),
            proptest::collection::vec(0u64..6, n),
            proptest::collection::vec(row.clone(), n),
            proptest::collection::vec(row, n),
            proptest::collection::vec(6u64..14, 1..4),
            prop_oneof![Just(1_000_000_000u64), any::<u64>()],
            proptest::option::of(0..n as u16),
        )
            .prop_map(
                |(h, stake, permit, lu, reg, weights, bonds, mut blocks, rao, owner)| {
                    blocks.sort_unstable();
                    let hp = Hyperparameters {
                        kappa_u16: h.0,
                        bonds_penalty_u16: h.1,
                        bonds_moving_average: h.2,
                        yuma3: h.3,
                        liquid_alpha: h.4,
                        alpha_low_u16: h.5,
                        alpha_high_u16: h.5.saturating_add(h.6),
                        alpha_sigmoid_steepness: h.7,
                        max_allowed_validators: h.8,
                        activity_cutoff_blocks: h.9,
                        stake_threshold: h.10,
                    };
                    let state = SubnetState {
                        stake: stake.into_iter().map(i64f64_from_u64).collect(),
                        validator_permit: permit,
                        last_update: lu,
                        block_at_registration: reg,
                        weights,
                        bonds,
                    };
                    Case {
                        hp,
                        state,
                        blocks,
                        rao,
                        owner,
                    }
                },
            )
    })
}

fn normalized_or_zero(v: &[u16]) -> bool {
    let s: u64 = v.iter().map(|&x| x as u64).sum();
    s == 0 || (s <= 65535 && s + v.len() as u64 >= 65535)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn epoch_invariants(c in case()) {
        let mut state = c.state.clone();
        for &block in &c.blocks {
            let ctx = EpochContext {
                current_block: block,
                last_tempo: block.saturating_sub(1),
                rao_emission: c.rao,
                owner_uid: c.owner,
                commit_blocks: None,
            };
            let out = run_epoch(&c.hp, &state, &ctx).expect("epoch");
            prop_assert!(normalized_or_zero(&out.incentive_u16), "incentive {:?}", out.incentive_u16);
            prop_assert!(normalized_or_zero(&out.dividends_u16), "dividends {:?}", out.dividends_u16);
            let total: u128 = out.emission.iter().map(|&e| e as u128).sum();
            prop_assert!(total <= c.rao as u128, "emission {} > {}", total, c.rao);
            let split: u128 = out.server_emission.iter().chain(&out.validator_emission)
                .map(|&e| e as u128).sum();
            prop_assert!(split <= c.rao as u128, "split emission {} > {}", split, c.rao);
            prop_assert_eq!(out.bonds_u16.len(), state.n());
            out.apply_to(&mut state);
        }
    }

    #[test]
    fn epoch_is_deterministic(c in case()) {
        let ctx = EpochContext {
            current_block: c.blocks[0],
            last_tempo: c.blocks[0] - 1,
            rao_emission: c.rao,
            owner_uid: c.owner,
            commit_blocks: None,
        };
        let a = run_epoch(&c.hp, &c.state, &ctx).expect("epoch");
        let b = run_epoch(&c.hp, &c.state, &ctx).expect("epoch");
        prop_assert_eq!(a, b);
    }
}
