//! Root dividend claims (§2.6 step 6, `staking/claim_root.rs`).
//!
//! `owed(h, c, n) = floor(RootClaimable[h][n] · root_stake(h, c)) −
//! RootClaimed[(n, h, c)]`, capped at what the subnet still holds as
//! claimable (`Subnet::root_owed`), so rounding can never pay out alpha that
//! was not credited. Claim types: `Keep` stakes the alpha on the subnet,
//! `Swap` (default) sells it fee-free and stakes the TAO on root (custody
//! moves netuid → 0), `KeepSubnets` keeps the listed subnets and swaps the
//! rest.
//!
//! Automatic claims: the chain picks `NumRootClaim` random coldkeys per
//! block from the block hash. We have no randomness, so we pick them
//! round-robin: the coldkeys with root stake in key order, starting at index
//! `(height × NumRootClaim) mod n`, wrapping, `min(NumRootClaim, n)` of them;
//! their claims below `RootClaimableThreshold` are skipped.

use std::collections::BTreeSet;

use keys::AccountId;
use pool::Direction;

use crate::command::RootClaimType;
use crate::decide::Decision;
use crate::event::*;
use crate::state::{Tx, ID_MAX, ID_MIN};

impl Tx<'_> {
    /// What (hotkey, coldkey) may claim on `netuid` now.
    pub(crate) fn owed(&self, netuid: u16, hotkey: &AccountId, coldkey: &AccountId) -> u64 {
        let stake = self.stake_of(0, hotkey, coldkey);
        let claimable = crate::fx::rate_times(self.rate(hotkey, netuid), stake);
        let owed = claimable.saturating_sub(self.claimed(netuid, hotkey, coldkey));
        let pot = self.subnet(netuid).map_or(0, |s| s.root_owed);
        owed.min(u128::from(pot)) as u64
    }

    /// Claims for `coldkey` on `netuids` (all when empty). `auto` applies the
    /// threshold. Emits nothing when nothing is owed.
    pub(crate) fn claim_root(
        &mut self,
        coldkey: AccountId,
        op: &str,
        netuids: &[u16],
        auto: bool,
    ) -> Decision {
        let hotkeys: Vec<AccountId> = self
            .positions
            .get(&coldkey)
            .map(|s| s.iter().filter(|(n, _)| *n == 0).map(|(_, h)| *h).collect())
            .unwrap_or_default();
        let claim_type = self.claim_types.get(&coldkey).cloned().unwrap_or_default();
        let mut moves = Vec::new();
        for h in hotkeys {
            for n in self.rated_netuids(&h) {
                if n == 0 || (!netuids.is_empty() && !netuids.contains(&n)) {
                    continue;
                }
                let threshold = if auto {
                    self.subnet(n)
                        .and_then(|s| s.root_claim_threshold)
                        .unwrap_or(self.params.root_claim_threshold)
                } else {
                    1
                };
                let owed = self.owed(n, &h, &coldkey);
                if owed == 0 || owed < threshold {
                    continue;
                }
                let claimed = self.claimed(n, &h, &coldkey) + u128::from(owed);
                let keep = match &claim_type {
                    RootClaimType::Keep => true,
                    RootClaimType::Swap => false,
                    RootClaimType::KeepSubnets(set) => set.contains(&n),
                };
                let s = match self.subnet(n) {
                    Some(s) => s.clone(),
                    None => continue,
                };
                if keep {
                    let Ok(shares) = self
                        .pool_of(n, &h)
                        .cloned()
                        .unwrap_or_default()
                        .quote_deposit(owed)
                    else {
                        continue;
                    };
                    self.emit(AmmEvent::RootClaimed(RootClaimed {
                        op: op.to_owned(),
                        netuid: n,
                        hotkey: h,
                        coldkey,
                        alpha: owed,
                        claimed,
                        kept_shares: Some(shares),
                        tao_out: 0,
                        tao_reserve: s.tao,
                        alpha_reserve: s.alpha_in,
                    }));
                    continue;
                }
                // Swap: sell fee-free, stake the TAO on root.
                let Ok(sold) = self.swap_on(n, Direction::SellAlpha, owed, None, true) else {
                    continue;
                };
                if sold.amount_in != owed || sold.amount_out == 0 {
                    continue;
                }
                self.emit(AmmEvent::RootClaimed(RootClaimed {
                    op: op.to_owned(),
                    netuid: n,
                    hotkey: h,
                    coldkey,
                    alpha: owed,
                    claimed,
                    kept_shares: None,
                    tao_out: sold.amount_out,
                    tao_reserve: sold.tao_reserve_after,
                    alpha_reserve: sold.alpha_reserve_after,
                }));
                let added = self
                    .swap_on(0, Direction::BuyAlphaWithTao, sold.amount_out, None, true)
                    .ok()
                    .and_then(|b| self.stake_added(op, 0, h, coldkey, &b).ok());
                match added {
                    Some(added) => {
                        self.emit(AmmEvent::StakeAdded(added));
                        moves.push(TaoMove {
                            from_netuid: n,
                            to: TaoDest::Custody(0),
                            amount: sold.amount_out,
                        });
                    }
                    // Root cannot take it (never for a stable pool): pay the
                    // TAO out rather than lose track of it.
                    None => moves.push(TaoMove {
                        from_netuid: n,
                        to: TaoDest::Account(coldkey),
                        amount: sold.amount_out,
                    }),
                }
            }
        }
        if !moves.is_empty() {
            self.emit(AmmEvent::TaoSettlement(TaoSettlement {
                op: op.to_owned(),
                moves,
            }));
        }
        Ok(())
    }

    /// The automatic claims of block `height` (see the module doc).
    pub(crate) fn auto_claims(&mut self, height: u64) {
        let k = usize::from(self.params.num_root_claim);
        if k == 0 {
            return;
        }
        let stakers: BTreeSet<AccountId> = self
            .pools
            .keys_in((0, ID_MIN)..=(0, ID_MAX))
            .into_iter()
            .filter_map(|key| {
                self.pools
                    .get(&key)
                    .map(|p| p.shares.keys().copied().collect::<Vec<_>>())
            })
            .flatten()
            .collect();
        let stakers: Vec<AccountId> = stakers.into_iter().collect();
        let n = stakers.len();
        if n == 0 {
            return;
        }
        let start = ((u128::from(height) * k as u128) % n as u128) as usize;
        for i in 0..k.min(n) {
            let c = stakers[(start + i) % n];
            let op = format!("{}{height}/{i}", crate::decide::AUTO_CLAIM_PREFIX);
            let _ = self.claim_root(c, &op, &[], true);
        }
    }
}
