//! From a subnet's stored metagraph to the epoch engine's inputs, and from
//! its outputs to an `EpochRan` event. No arithmetic of its own: every
//! number in `EpochRan` comes from `yuma::run_epoch`.

use yuma::fixed_math::i64f64_from_u64;
use yuma::{EpochContext, Hyperparameters, SubnetState};

use crate::event::{ConsensusEvent, EpochRan, EpochSkipped};
use crate::state::{Consensus, Subnet};

impl Consensus {
    /// The engine inputs of `netuid`'s epoch if it ran at `block` with
    /// `rao` handed in. Public so tools (and tests) can replay an epoch.
    pub fn epoch_inputs(
        &self,
        netuid: u16,
        block: u64,
        rao: u64,
    ) -> Option<(Hyperparameters, SubnetState, EpochContext)> {
        let s = self.subnets.get(&netuid)?;
        Some(self.inputs_of(netuid, s, block, rao))
    }

    fn inputs_of(
        &self,
        netuid: u16,
        s: &Subnet,
        block: u64,
        rao: u64,
    ) -> (Hyperparameters, SubnetState, EpochContext) {
        let hp = s.params.epoch_hyperparameters();
        let state = SubnetState {
            stake: s
                .neurons
                .iter()
                .map(|x| i64f64_from_u64(self.stake_of(netuid, &x.hotkey)))
                .collect(),
            validator_permit: s.neurons.iter().map(|x| x.validator_permit).collect(),
            last_update: s.neurons.iter().map(|x| x.last_update).collect(),
            block_at_registration: s.neurons.iter().map(|x| x.registered_at).collect(),
            weights: s.neurons.iter().map(|x| x.weights.clone()).collect(),
            bonds: s.neurons.iter().map(|x| x.bonds.clone()).collect(),
        };
        // The epoch that fires now counts: commits expire against the index
        // this epoch leaves behind.
        let epoch_after = s.epoch_index.saturating_add(1);
        let commit_blocks = s.params.commit_reveal_enabled.then(|| {
            s.neurons
                .iter()
                .map(|x| {
                    s.commits
                        .get(&x.hotkey)
                        .into_iter()
                        .flatten()
                        .filter(|c| {
                            epoch_after <= c.epoch.saturating_add(s.params.reveal_period_epochs)
                        })
                        .map(|c| c.block)
                        .min()
                        .unwrap_or(u64::MAX)
                })
                .collect()
        });
        let ctx = EpochContext {
            current_block: block,
            last_tempo: yuma::last_tempo_block(block, u64::from(s.params.tempo), s.last_step_block),
            rao_emission: rao,
            owner_uid: s.owner_uid(),
            commit_blocks,
        };
        (hp, state, ctx)
    }

    /// Runs `netuid`'s epoch at `block`, draining its pending emission.
    /// `rao` is the pending emission it drains (the stored pot plus what
    /// the same decision accrued).
    pub(crate) fn run_epoch_event(
        &self,
        netuid: u16,
        s: &Subnet,
        block: u64,
        rao: u64,
    ) -> ConsensusEvent {
        let (hp, state, ctx) = self.inputs_of(netuid, s, block, rao);
        match yuma::run_epoch(&hp, &state, &ctx) {
            Ok(out) => ConsensusEvent::EpochRan(EpochRan {
                netuid,
                block,
                epoch_index: s.epoch_index.saturating_add(1),
                rao,
                hotkeys: s.neurons.iter().map(|x| x.hotkey).collect(),
                stake: out.stake_u16,
                consensus: out.consensus_u16,
                incentive: out.incentive_u16,
                dividends: out.dividends_u16,
                validator_trust: out.validator_trust_u16,
                emission: out.emission,
                server_emission: out.server_emission,
                validator_emission: out.validator_emission,
                active: out.active,
                validator_permit: out.validator_permit,
                bonds: out.bonds_u16,
            }),
            Err(e) => ConsensusEvent::EpochSkipped(EpochSkipped {
                netuid,
                block,
                reason: e.to_string(),
            }),
        }
    }
}
