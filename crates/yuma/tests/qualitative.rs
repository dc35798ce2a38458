//! Engine-level checks for the subtensor-epoch vectors marked `qualitative` that need no
//! registration or commit machinery beyond what `EpochContext` offers.

use yuma::fixed_math::i64f64_from_u64;
use yuma::{run_epoch, EpochContext, Hyperparameters, SubnetState};

/// `test_epoch_outputs_single_staker_registered_no_weights`: one uid, stake 1, no weights:
/// server + validator emission == rao_emission within 1000 rao.
#[test]
fn single_staker_without_weights_gets_everything() {
    let state = SubnetState {
        stake: vec![i64f64_from_u64(1)],
        validator_permit: vec![false],
        last_update: vec![0],
        block_at_registration: vec![0],
        weights: vec![vec![]],
        bonds: vec![vec![]],
    };
    let ctx = EpochContext {
        current_block: 1,
        last_tempo: 0,
        rao_emission: 1_000_000_000,
        ..Default::default()
    };
    let out = run_epoch(&Hyperparameters::default(), &state, &ctx).expect("epoch");
    let total: u64 = out.server_emission[0] + out.validator_emission[0];
    assert!(total.abs_diff(1_000_000_000) <= 1000, "{total}");
}

/// `test_epoch_masks_incoming_to_sniped_uid_prevents_inheritance` and
/// `test_epoch_no_mask_when_commit_reveal_disabled`: a validator commit older than a uid's
/// registration masks its weight on that uid; without commit-reveal the uid gets incentive.
#[test]
fn commit_reveal_mask_blocks_sniped_uid() {
    let state = SubnetState {
        stake: vec![i64f64_from_u64(100), i64f64_from_u64(0), i64f64_from_u64(0)],
        validator_permit: vec![true, false, false],
        last_update: vec![10, 1, 5],
        block_at_registration: vec![0, 0, 5],
        weights: vec![vec![(1, 65535), (2, 65535)], vec![], vec![]],
        bonds: vec![vec![], vec![], vec![]],
    };
    let mut ctx = EpochContext {
        current_block: 11,
        last_tempo: 10,
        rao_emission: 1_000_000_000,
        ..Default::default()
    };
    let open = run_epoch(&Hyperparameters::default(), &state, &ctx).expect("epoch");
    assert!(open.incentive_u16[2] > 0);
    ctx.commit_blocks = Some(vec![3, u64::MAX, u64::MAX]); // commit at 3 < registration 5
    let masked = run_epoch(&Hyperparameters::default(), &state, &ctx).expect("epoch");
    assert_eq!(masked.incentive_u16[2], 0);
    assert_eq!(masked.incentive_u16[1], 65535);
}
