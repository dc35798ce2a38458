//! Childkeys (governance.md §5.3; tokenomics.md §2.6 step 3): governance
//! decides them (rate limits, cooldown, stake threshold, take bounds) and
//! the amm mirrors the lists in force (`SetChildren` → [`ChildrenSet`],
//! `SetChildkeyTake` → [`ChildkeyTakeMirrored`]). They change two things:
//!
//! - **stake weights** for consensus (`get_stake_weights_for_hotkey_on_subnet`,
//!   `get_inherited_for_hotkey_on_subnet`, `get_tao_inherited_for_hotkey_on_subnet`):
//!   on subnet `n` a parent gives `q × its stake` to each child (`q` = the
//!   child's u64 proportion / (2^64 − 1)) and keeps the rest, separately for
//!   its alpha on `n` and its root stake (with the children it has on `n`):
//!   ```text
//!   inherited(h) = floor(s_h − Σ_children s_h·q_c + Σ_parents s_p·q_p)     (U96F32)
//!   weight(h, n) = alpha_inherited + floor(tao_inherited · TaoWeight)
//!   ```
//! - **dividends** ([`Tx::childkey_dividends`], `get_parent_child_dividends_distribution`),
//!   before the alpha/root split of step 4.
//!
//! Deliberate difference from the chain: the chain recycles `floor(CKBurn ×
//! E_p)` out of `SubnetAlphaOut` on top of paying the whole pots to the
//! remaining dividend weights. Here the burned weight takes its share of the
//! pots instead (`pot × Σ burn / Σ D`, floored, from the validator pot and
//! from the root pot), which is recycled; the rest of each pot is shared
//! by the remaining weights as before. No alpha is paid twice.

use fixed::types::U96F32;
use keys::AccountId;

use crate::event::*;
use crate::fx::{self, u96};
use crate::lifecycle::Step;
use crate::rejection::Rejection;
use crate::state::Tx;

/// The largest children list (governance's `MAX_CHILDREN`).
pub const MAX_CHILDREN: usize = governance_core::params::MAX_CHILDREN;

/// The op a refused `SetChildren` is recorded under.
pub fn children_op(netuid: u16, hotkey: &AccountId) -> String {
    format!("children/{netuid}/{hotkey}")
}

/// The op a refused `SetChildkeyTake` is recorded under.
pub fn childkey_take_op(netuid: u16, hotkey: &AccountId) -> String {
    format!("childkey-take/{netuid}/{hotkey}")
}

/// A u64 proportion `raw / (2^64 − 1)` in U96F32 (child proportions,
/// `CKBurn`, `TaoWeight`).
pub fn ratio_u64(raw: u64) -> U96F32 {
    fx::tao_weight(raw)
}

/// One hotkey's dividend through its parents (§2.6 step 3): what goes to
/// each parent, to the hotkey itself, and the burned weight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DividendSplit {
    /// `(parent, floor(E_p − burn − take))` in parent order.
    pub parents: Vec<(AccountId, u64)>,
    /// `floor(D − Σ E_p + Σ take)`.
    pub own: u64,
    /// `Σ floor(burn)`.
    pub burned: u64,
}

/// A parent's stakes as the split needs them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParentStake {
    pub parent: AccountId,
    /// The child's u64 proportion of this parent.
    pub proportion: u64,
    /// Its own alpha on the subnet and its root stake.
    pub alpha: u64,
    pub root: u64,
    /// Its owner differs from the child's (burn and take apply).
    pub other_owner: bool,
}

/// `get_parent_child_dividends_distribution` in U96F32, for a hotkey with
/// dividend `d`, own alpha `alpha` and root stake `root` on the subnet,
/// whose own children take `Σ children` (u64 proportions) of it:
/// ```text
/// self  = floor(α_h·(1 − Σq_children) + τ_h·(1 − Σq_children)·tw)
/// c_p   = α_p·q_p + τ_p·q_p·tw
/// E_p   = D · (c_p / (self + Σ c))
/// owners differ: burn = CKBurn·E_p, take = childkey_take/65535·E_p,
///                p gets floor(E_p − burn − take)
/// same owner:    p gets floor(E_p)
/// h gets floor(D − Σ E_p + Σ take)
/// ```
#[allow(clippy::too_many_arguments)]
pub fn split_through_parents(
    d: u64,
    alpha: u64,
    root: u64,
    children_sum: &[u64],
    parents: &[ParentStake],
    tw: U96F32,
    childkey_take: u16,
    ck_burn: u64,
) -> DividendSplit {
    let validating = u96(d);
    let mut remaining = validating;
    let burn_prop = ratio_u64(ck_burn);
    let take_prop = fx::ratio_u16(childkey_take);
    // get_self_contribution
    let mut rest = U96F32::ONE;
    for q in children_sum {
        rest = rest.saturating_sub(ratio_u64(*q));
    }
    let own_contribution =
        fx::mul(u96(alpha), rest).saturating_add(fx::mul(fx::mul(u96(root), rest), tw));
    let mut total = u96(fx::floor(own_contribution));
    let mut contributions = Vec::with_capacity(parents.len());
    for p in parents {
        let q = ratio_u64(p.proportion);
        let c = fx::mul(u96(p.alpha), q).saturating_add(fx::mul(fx::mul(u96(p.root), q), tw));
        total = total.saturating_add(c);
        contributions.push(c);
    }
    let mut out = DividendSplit {
        parents: Vec::with_capacity(parents.len()),
        own: 0,
        burned: 0,
    };
    let mut total_take = fx::U96_ZERO;
    for (p, c) in parents.iter().zip(contributions) {
        let factor = c.checked_div(total).unwrap_or(fx::U96_ZERO);
        let mut e = fx::mul(validating, factor);
        remaining = remaining.saturating_sub(e);
        if p.other_owner {
            let burn = fx::mul(burn_prop, e);
            let take = fx::mul(take_prop, e);
            e = e.saturating_sub(burn).saturating_sub(take);
            total_take = total_take.saturating_add(take);
            out.burned = out.burned.saturating_add(fx::floor(burn));
        }
        out.parents.push((p.parent, fx::floor(e)));
    }
    out.own = fx::floor(remaining.saturating_add(total_take));
    out
}

impl Tx<'_> {
    /// `ChildKeys[(hotkey, netuid)]`.
    pub fn children_of(&self, netuid: u16, hotkey: &AccountId) -> &[(u64, AccountId)] {
        self.children
            .get(&(netuid, *hotkey))
            .map_or(&[][..], |v| v.as_slice())
    }

    /// `ParentKeys[(hotkey, netuid)]`.
    pub fn parents_of(&self, netuid: u16, hotkey: &AccountId) -> &[(u64, AccountId)] {
        self.parents
            .get(&(netuid, *hotkey))
            .map_or(&[][..], |v| v.as_slice())
    }

    /// `ChildkeyTake[(hotkey, netuid)]` (default 0).
    pub fn childkey_take(&self, netuid: u16, hotkey: &AccountId) -> u16 {
        self.childkey_takes
            .get(&(netuid, *hotkey))
            .copied()
            .unwrap_or(0)
    }

    /// The stake `hotkey` holds after childkey delegation on subnet
    /// `netuid`, of its alpha on `stake_netuid` (`netuid` for alpha, 0 for
    /// root TAO): `floor(s − Σ_children s·q + Σ_parents s_p·q_p)` in U96F32.
    pub(crate) fn inherited(&self, netuid: u16, stake_netuid: u16, hotkey: &AccountId) -> u64 {
        let initial = u96(self.hotkey_alpha(stake_netuid, hotkey));
        if netuid == 0 {
            return fx::floor(initial);
        }
        let mut to_children = fx::U96_ZERO;
        for (q, _) in self.children_of(netuid, hotkey) {
            to_children = to_children.saturating_add(fx::mul(initial, ratio_u64(*q)));
        }
        let mut from_parents = fx::U96_ZERO;
        for (q, p) in self.parents_of(netuid, hotkey) {
            let s = u96(self.hotkey_alpha(stake_netuid, p));
            from_parents = from_parents.saturating_add(fx::mul(s, ratio_u64(*q)));
        }
        fx::floor(
            initial
                .saturating_sub(to_children)
                .saturating_add(from_parents),
        )
    }

    /// The weighted dividends of an epoch after §2.6 step 3, per
    /// recipient: `hotkeys` first (same positions, so `weights[i]` starts
    /// as `dividend[i]` when nobody has parents), then every parent outside
    /// `hotkeys`, in the order met. Returns the recipients, their weights
    /// and the burned weight `Σ floor(CKBurn·E_p)`.
    pub(crate) fn childkey_dividends(
        &self,
        netuid: u16,
        hotkeys: &[AccountId],
        dividend: &[u64],
        tw: U96F32,
    ) -> (Vec<AccountId>, Vec<u64>, u64) {
        let mut recipients: Vec<AccountId> = hotkeys.to_vec();
        let mut weights: Vec<u64> = vec![0; hotkeys.len()];
        let mut burned = 0u64;
        let owner = |h: &AccountId| self.hotkeys.get(h).map(|i| i.owner);
        for (i, (h, d)) in hotkeys.iter().zip(dividend).enumerate() {
            let parents = self.parents_of(netuid, h);
            if parents.is_empty() || *d == 0 {
                weights[i] = weights[i].saturating_add(*d);
                continue;
            }
            let own_owner = owner(h);
            let stakes: Vec<ParentStake> = parents
                .iter()
                .map(|(q, p)| ParentStake {
                    parent: *p,
                    proportion: *q,
                    alpha: self.hotkey_alpha(netuid, p),
                    root: self.hotkey_alpha(0, p),
                    other_owner: owner(p) != own_owner,
                })
                .collect();
            let kids: Vec<u64> = self.children_of(netuid, h).iter().map(|c| c.0).collect();
            let split = split_through_parents(
                *d,
                self.hotkey_alpha(netuid, h),
                self.hotkey_alpha(0, h),
                &kids,
                &stakes,
                tw,
                self.childkey_take(netuid, h),
                self.ck_burn,
            );
            weights[i] = weights[i].saturating_add(split.own);
            burned = burned.saturating_add(split.burned);
            for (p, v) in split.parents {
                let at = match recipients.iter().position(|r| *r == p) {
                    Some(at) => at,
                    None => {
                        recipients.push(p);
                        weights.push(0);
                        recipients.len() - 1
                    }
                };
                weights[at] = weights[at].saturating_add(v);
            }
        }
        (recipients, weights, burned)
    }

    /// `SetChildren` from governance.
    pub(crate) fn set_children(
        &mut self,
        hotkey: AccountId,
        netuid: u16,
        children: &[(u64, AccountId)],
    ) -> Step {
        let refuse = |r: Rejection, m: String| Err((r, m));
        if netuid == 0 || self.subnet(netuid).is_none() {
            return refuse(
                Rejection::SubnetNotExists,
                format!("no subnet {netuid} for childkeys"),
            );
        }
        if children.len() > MAX_CHILDREN {
            return refuse(
                Rejection::TooManyChildren,
                format!("{} children (at most {MAX_CHILDREN})", children.len()),
            );
        }
        let mut sum: u64 = 0;
        for (i, (q, c)) in children.iter().enumerate() {
            if *c == hotkey {
                return refuse(
                    Rejection::InvalidChild,
                    format!("{hotkey} is its own child"),
                );
            }
            if children[..i].iter().any(|(_, o)| o == c) {
                return refuse(Rejection::DuplicateChild, format!("child {c} twice"));
            }
            let Some(s) = sum.checked_add(*q) else {
                return refuse(
                    Rejection::ProportionOverflow,
                    "child proportions sum above u64::MAX".to_owned(),
                );
            };
            sum = s;
        }
        self.emit(AmmEvent::ChildrenSet(ChildrenSet {
            hotkey,
            netuid,
            children: children.to_vec(),
        }));
        Ok(())
    }

    /// `SetChildkeyTake` from governance.
    pub(crate) fn set_childkey_take(&mut self, hotkey: AccountId, netuid: u16, take: u16) -> Step {
        if netuid == 0 || self.subnet(netuid).is_none() {
            return Err((
                Rejection::SubnetNotExists,
                format!("no subnet {netuid} for a childkey take"),
            ));
        }
        self.emit(AmmEvent::ChildkeyTakeMirrored(ChildkeyTakeMirrored {
            hotkey,
            netuid,
            take,
        }));
        Ok(())
    }
}
