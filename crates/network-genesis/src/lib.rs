//! The network genesis file: one JSON document every service reads (the
//! services through `taonet serve`, the simulator through `sim`).
//!
//! The ledger's fields sit at the top level (so a ledger-only genesis,
//! `{"balances": [...]}`, is still valid); `economy` holds the amm's
//! parameters and `subnets` the subnets that exist at block 0. Each service
//! takes its part: the ledger its balances plus the subnets' pool TAO as
//! custody, the amm the parameters and pools, consensus the metagraphs.

use amm_core::{AmmGenesis, AmmParams, GenesisSubnet};
use anyhow::{bail, Context, Result};
use ledger_core::Genesis;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkGenesis {
    #[serde(flatten)]
    pub ledger: Genesis,
    #[serde(default)]
    pub economy: AmmParams,
    #[serde(default)]
    pub subnets: Vec<GenesisSubnet>,
    /// Which rule splits each block's TAO across subnets: `ema-price` (the
    /// default, the chain today), `net-flow` or `root-weights` (issue 9);
    /// a passed proposal (`GlobalParam::EmissionRule`) changes it later.
    #[serde(default)]
    pub emission_rule: amm_core::EmissionRule,
    /// Governance: the bootstrap admin key, global configuration, the first
    /// triumvirate and the lock-cost seed.
    #[serde(default)]
    pub governance: GovernanceSettings,
}

/// The governance part of a network genesis (every field optional).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GovernanceSettings {
    /// The bootstrap admin key; the ledger's `admin` when absent.
    pub admin: Option<keys::AccountId>,
    /// Global parameters (`SubnetLimit`, `NetworkRateLimit`, take bounds,
    /// TaoWeight, vote weighting, ...); the live chain values when absent.
    pub config: governance_core::Config,
    /// Up to three coldkeys that may propose.
    pub triumvirate: Vec<keys::AccountId>,
    /// (`NetworkLastLockCost`, last lock block). (0, 0), the default, makes
    /// the first subnet cost `NetworkMinLockCost` (1 TAO); the chain's
    /// October 2025 reset is (1 250 TAO, now), i.e. 2 500 TAO.
    pub last_lock: (u64, u64),
}

impl NetworkGenesis {
    /// Reads and validates a genesis file.
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let g: NetworkGenesis =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        g.validate()
            .with_context(|| format!("invalid genesis {}", path.display()))?;
        Ok(g)
    }

    /// The rules a genesis must meet beyond each part's own.
    pub fn validate(&self) -> Result<()> {
        let mut netuids = BTreeSet::new();
        for s in &self.subnets {
            if s.netuid == 0 {
                bail!("subnet 0 is the root network; it always exists");
            }
            if !netuids.insert(s.netuid) {
                bail!("subnet {} appears twice", s.netuid);
            }
            if s.tao_reserve == 0 || s.alpha_reserve == 0 {
                bail!("subnet {} needs non-zero tao and alpha reserves", s.netuid);
            }
            let mut hotkeys = BTreeSet::new();
            for n in &s.neurons {
                if !hotkeys.insert(n.hotkey) {
                    bail!(
                        "hotkey {} registered twice on subnet {}",
                        n.hotkey,
                        s.netuid
                    );
                }
            }
        }
        // One owner per hotkey across all subnets (governance refuses a
        // genesis where a hotkey has two owners, and would start empty).
        let mut owners = std::collections::BTreeMap::new();
        for s in &self.subnets {
            let pairs = std::iter::once((s.owner_hotkey, s.owner))
                .chain(s.neurons.iter().map(|n| (n.hotkey, n.owner)));
            for (hotkey, owner) in pairs {
                if let Some(prev) = owners.insert(hotkey, owner) {
                    if prev != owner {
                        bail!(
                            "hotkey {hotkey} has two owners ({prev} and {owner}) on subnet {}",
                            s.netuid
                        );
                    }
                }
            }
        }
        if !self.ledger.custody.is_empty() && !self.subnets.is_empty() {
            bail!("give subnets (their tao_reserve becomes custody) or custody, not both");
        }
        self.ledger_genesis()
            .validate()
            .map_err(|e| anyhow::anyhow!(e))?;
        Ok(())
    }

    /// The ledger's genesis: the subnets' pool TAO is held in custody, and
    /// coinbase credit never expires: in a network the amm claims every
    /// block's credit through its event stream, however late it runs, and
    /// credit recycled under it would leave its pools without custody.
    pub fn ledger_genesis(&self) -> Genesis {
        let mut g = self.ledger.clone();
        g.coinbase_claim_window = ledger_core::NEVER_EXPIRE;
        if g.custody.is_empty() {
            g.custody = self
                .subnets
                .iter()
                .map(|s| (s.netuid, s.tao_reserve))
                .collect();
        }
        g
    }

    /// The amm's genesis; its admin defaults to the ledger's.
    pub fn amm_genesis(&self) -> AmmGenesis {
        let mut params = self.economy.clone();
        if params.admin.is_none() {
            params.admin = self.ledger.admin;
        }
        params.existential_deposit = self.ledger.existential_deposit;
        AmmGenesis {
            params,
            subnets: self.subnets.clone(),
        }
    }

    /// Consensus's start-up commands: each genesis subnet and its neurons
    /// (rejected, and so ignored, on a restart: they already exist).
    /// The governance service's start command: its genesis, with the
    /// genesis subnets (taken netuids, owners, neurons) so registrations
    /// never collide with them.
    pub fn governance_start(&self) -> Vec<governance_core::Command> {
        use governance_core::{Command, CommandBody, Origin};
        let g = &self.governance;
        let subnets = self
            .subnets
            .iter()
            .map(|s| governance_core::GenesisSubnet {
                netuid: s.netuid,
                owner: s.owner,
                owner_hotkey: s.owner_hotkey,
                lock: s.tao_reserve,
                tempo: s
                    .tempo
                    .unwrap_or(consensus_core::SubnetParams::default().tempo),
                first_emission_block: s.first_emission_block,
                neurons: s.neurons.iter().map(|n| n.hotkey).collect(),
                hotkey_owners: s.neurons.iter().map(|n| (n.hotkey, n.owner)).collect(),
            })
            .collect();
        vec![Command::new(
            Origin::Genesis,
            CommandBody::ApplyGenesis {
                admin: g.admin.or(self.ledger.admin),
                config: g.config.clone(),
                triumvirate: g.triumvirate.clone(),
                last_lock: g.last_lock,
                subnets,
            },
        )]
    }

    pub fn consensus_start(&self) -> Vec<consensus_core::Command> {
        use consensus_core::{Command, CommandBody, Origin, SubnetParams};
        let mut cmds = Vec::new();
        for s in &self.subnets {
            let mut params = SubnetParams::default();
            if let Some(t) = s.tempo {
                params.tempo = t;
            }
            cmds.push(Command::new(
                Origin::Clock,
                CommandBody::CreateSubnet {
                    op: None,
                    netuid: s.netuid,
                    owner: s.owner,
                    owner_hotkey: s.owner_hotkey,
                    params,
                },
            ));
            for n in &s.neurons {
                cmds.push(Command::new(
                    Origin::Clock,
                    CommandBody::RegisterNeuron {
                        op: None,
                        netuid: s.netuid,
                        hotkey: n.hotkey,
                        block: 0,
                    },
                ));
            }
        }
        cmds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ledger_only_file_still_parses() {
        let g: NetworkGenesis = serde_json::from_str(r#"{"balances": []}"#).unwrap();
        assert!(g.subnets.is_empty());
        assert_eq!(g.economy, AmmParams::default());
        g.validate().unwrap();
    }

    #[test]
    fn subnet_reserves_become_ledger_custody() {
        let k = keys::AccountId([7; 32]);
        let g = NetworkGenesis {
            subnets: vec![GenesisSubnet {
                netuid: 3,
                owner: k,
                owner_hotkey: k,
                tao_reserve: 1_000,
                alpha_reserve: 2_000,
                first_emission_block: Some(0),
                emission_enabled: true,
                neurons: vec![],
                tempo: Some(10),
            }],
            ..Default::default()
        };
        g.validate().unwrap();
        assert_eq!(g.ledger_genesis().custody, vec![(3, 1_000)]);
        let text = serde_json::to_string(&g).unwrap();
        let back: NetworkGenesis = serde_json::from_str(&text).unwrap();
        assert_eq!(back, g);
        assert_eq!(g.consensus_start().len(), 1);
    }

    #[test]
    fn a_hotkey_with_two_owners_is_refused() {
        let (a, b, h) = (
            keys::AccountId([1; 32]),
            keys::AccountId([2; 32]),
            keys::AccountId([3; 32]),
        );
        let subnet = |netuid, owner| GenesisSubnet {
            netuid,
            owner,
            owner_hotkey: h,
            tao_reserve: 1_000,
            alpha_reserve: 2_000,
            first_emission_block: Some(0),
            emission_enabled: true,
            neurons: vec![amm_core::GenesisNeuron { hotkey: h, owner }],
            tempo: Some(10),
        };
        let mut g = NetworkGenesis {
            subnets: vec![subnet(1, a), subnet(2, a)],
            ..Default::default()
        };
        g.validate().unwrap();
        g.subnets[1] = subnet(2, b);
        let err = g.validate().unwrap_err().to_string();
        assert!(err.contains("two owners"), "{err}");
    }
}
