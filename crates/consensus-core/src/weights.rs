//! `set_weights` validation in the chain's order (governance.md §6.1), the
//! row max-upscale, and the hash commitment of commit-reveal.
//!
//! The hash commitment (our own, not the chain's SCALE + BlakeTwo256; the
//! chain's drand time-lock is out of scope) is blake3 of this byte string:
//!
//! ```text
//! "taonet/weights-commit/v1"          24 ASCII bytes, domain separation
//! hotkey                              32 bytes
//! netuid                              u16 little-endian
//! len(uids)   u32 LE, then each uid   u16 LE
//! len(values) u32 LE, then each value u16 LE
//! len(salt)   u32 LE, then each salt  u16 LE
//! version_key                         u64 LE
//! ```
//!
//! Lengths are explicit, so no two inputs share an encoding.

use fixed::types::I32F32;
use keys::AccountId;
use yuma::fixed_math::{from_u64, safe_div};
use yuma::vector::{inplace_normalize, vec_u16_max_upscale_to_u16};

use crate::rejection::Rejection;
use crate::state::{Consensus, Subnet};

/// Domain separator of [`commit_hash`].
pub const COMMIT_DOMAIN: &[u8] = b"taonet/weights-commit/v1";

/// The commitment `CommitWeights` carries and `RevealWeights` must match.
pub fn commit_hash(
    hotkey: &AccountId,
    netuid: u16,
    uids: &[u16],
    values: &[u16],
    salt: &[u16],
    version_key: u64,
) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(COMMIT_DOMAIN);
    h.update(&hotkey.0);
    h.update(&netuid.to_le_bytes());
    for list in [uids, values, salt] {
        h.update(&(list.len() as u32).to_le_bytes());
        for x in list {
            h.update(&x.to_le_bytes());
        }
    }
    h.update(&version_key.to_le_bytes());
    *h.finalize().as_bytes()
}

/// `is_self_weight`: exactly one weight, on the caller's own uid.
pub fn is_self_weight(uid: u16, uids: &[u16], values: &[u16]) -> bool {
    values.len() == 1 && uids.first() == Some(&uid)
}

/// `check_vec_max_limited`: the largest normalized weight is at most
/// `limit/65535` (I32F32, as the chain computes it).
fn max_limited(values: &[u16], limit: u16) -> bool {
    let limit = safe_div(from_u64(u64::from(limit)), from_u64(u64::from(u16::MAX)));
    let mut v: Vec<I32F32> = values.iter().map(|&x| from_u64(u64::from(x))).collect();
    inplace_normalize(&mut v);
    v.iter().max().is_none_or(|m| *m <= limit)
}

/// The row a `set_weights` or a reveal proposes.
pub(crate) struct Row<'a> {
    pub uids: &'a [u16],
    pub values: &'a [u16],
    pub version_key: u64,
}

/// Which path the checks run for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Path {
    /// `set_weights`: rate limit checked, `LastUpdate` written.
    Direct,
    /// The set-weights step of a reveal: the commit already consumed the
    /// rate limit and wrote `LastUpdate`.
    Reveal,
}

impl Consensus {
    /// Checks 1–12 of governance.md §6.1 after the subnet lookup; returns the
    /// caller's uid and the row to store. The commit-reveal gate and the
    /// length and netuid checks run in `decide` before the lookup, in the
    /// chain's order.
    pub(crate) fn validate_weights(
        &self,
        netuid: u16,
        subnet: &Subnet,
        hotkey: &AccountId,
        row: Row<'_>,
        path: Path,
    ) -> Result<(u16, Vec<(u16, u16)>), Rejection> {
        let Row {
            uids,
            values,
            version_key,
        } = row;
        let p = &subnet.params;
        let n = subnet.n();
        // 4.
        if uids.len() > n {
            return Err(Rejection::UidsLengthExceedUidsInSubNet);
        }
        // 5.
        let uid = subnet
            .uid_of(hotkey)
            .ok_or(Rejection::HotKeyNotRegisteredInSubNet)?;
        let is_owner = *hotkey == subnet.owner_hotkey;
        // 6.
        if !is_owner && self.stake_of(netuid, hotkey) < p.stake_threshold {
            return Err(Rejection::NotEnoughStakeToSetWeights);
        }
        // 7.
        if p.weights_version_key != 0 && version_key < p.weights_version_key {
            return Err(Rejection::IncorrectWeightVersionKey);
        }
        // 8.
        if path == Path::Direct && !self.rate_limit_passes(subnet, uid) {
            return Err(Rejection::SettingWeightsTooFast);
        }
        // 9.
        let self_weight = is_self_weight(uid, uids, values);
        if !(self_weight || is_owner || subnet.neurons[usize::from(uid)].validator_permit) {
            return Err(Rejection::NeuronNoValidatorPermit);
        }
        // 10.
        let mut seen = uids.to_vec();
        seen.sort_unstable();
        if seen.windows(2).any(|w| w[0] == w[1]) {
            return Err(Rejection::DuplicateUids);
        }
        if uids.iter().any(|&u| usize::from(u) >= n) {
            return Err(Rejection::UidVecContainInvalidOne);
        }
        // 11.
        let min_len = usize::from(p.min_allowed_weights).min(n);
        if !self_weight && values.len() < min_len {
            return Err(Rejection::WeightVecLengthIsLow);
        }
        // 12.
        let upscaled = vec_u16_max_upscale_to_u16(values);
        if !self_weight
            && p.max_weight_limit != u16::MAX
            && !max_limited(&upscaled, p.max_weight_limit)
        {
            return Err(Rejection::MaxWeightExceeded);
        }
        Ok((uid, uids.iter().copied().zip(upscaled).collect()))
    }

    /// `check_rate_limit`: never set (0) passes, else `now − LastUpdate ≥
    /// WeightsSetRateLimit`.
    pub(crate) fn rate_limit_passes(&self, subnet: &Subnet, uid: u16) -> bool {
        let last = subnet.neurons[usize::from(uid)].last_update;
        last == 0 || self.height.saturating_sub(last) >= subnet.params.weights_rate_limit
    }
}
