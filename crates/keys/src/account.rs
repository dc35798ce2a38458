use blake2::{Blake2b512, Digest};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The SS58 address format Bittensor uses.
pub const SS58_PREFIX: u8 = 42;

/// A 32-byte public key (sr25519): a coldkey, a hotkey or a system account.
/// Displays and parses as SS58 (prefix 42); serializes as SS58 in
/// human-readable formats (JSON) and as 32 raw bytes otherwise (bincode), so
/// stored state stays compact and JSON stays readable.
///
/// Ordered as its bytes are (lexicographically), like the derived order of
/// `[u8; 32]`, but compared as four big-endian words: every B-tree of the
/// cores is keyed by account ids, and the derived order calls `memcmp`
/// for each comparison (12 % of a simulated block, profiled).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AccountId(pub [u8; 32]);

impl AccountId {
    /// The key as four big-endian words; their order is the bytes' order.
    #[inline]
    fn words(&self) -> [u64; 4] {
        let w = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&self.0[i * 8..i * 8 + 8]);
            u64::from_be_bytes(b)
        };
        [w(0), w(1), w(2), w(3)]
    }
}

impl Ord for AccountId {
    #[inline]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.words().cmp(&other.words())
    }
}

impl PartialOrd for AccountId {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Ss58Error {
    #[error("not base58")]
    BadBase58,
    #[error("wrong length for an SS58 address with a 32-byte key")]
    BadLength,
    #[error("SS58 prefix {0}, expected 42")]
    WrongPrefix(u16),
    #[error("SS58 checksum mismatch")]
    BadChecksum,
}

fn checksum(data: &[u8]) -> [u8; 2] {
    let mut h = Blake2b512::new();
    h.update(b"SS58PRE");
    h.update(data);
    let out = h.finalize();
    [out[0], out[1]]
}

impl AccountId {
    /// SS58 text with prefix 42.
    pub fn to_ss58(&self) -> String {
        let mut data = Vec::with_capacity(35);
        data.push(SS58_PREFIX);
        data.extend_from_slice(&self.0);
        let c = checksum(&data);
        data.extend_from_slice(&c);
        bs58::encode(data).into_string()
    }

    /// Parses SS58 text; only prefix 42 is accepted.
    pub fn from_ss58(s: &str) -> Result<Self, Ss58Error> {
        let data = bs58::decode(s)
            .into_vec()
            .map_err(|_| Ss58Error::BadBase58)?;
        if data.len() != 35 {
            return Err(Ss58Error::BadLength);
        }
        if data[0] != SS58_PREFIX {
            return Err(Ss58Error::WrongPrefix(data[0] as u16));
        }
        if checksum(&data[..33]) != [data[33], data[34]] {
            return Err(Ss58Error::BadChecksum);
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&data[1..33]);
        Ok(AccountId(key))
    }

    /// A deterministic system account derived from a name (custody, burn).
    /// No one holds its private key: blake2b("taonet/system/" + name).
    pub fn system(name: &str) -> Self {
        let mut h = Blake2b512::new();
        h.update(b"taonet/system/");
        h.update(name.as_bytes());
        let out = h.finalize();
        let mut key = [0u8; 32];
        key.copy_from_slice(&out[..32]);
        AccountId(key)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_ss58())
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.to_ss58())
    }
}

impl FromStr for AccountId {
    type Err = Ss58Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_ss58(s)
    }
}

impl Serialize for AccountId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_ss58())
        } else {
            self.0.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            AccountId::from_ss58(&s).map_err(serde::de::Error::custom)
        } else {
            Ok(AccountId(<[u8; 32]>::deserialize(d)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word order is the byte order: every B-tree, digest and
    /// snapshot that iterates account ids depends on it.
    #[test]
    fn order_is_the_byte_order() {
        let mut x: u64 = 0x243F_6A88_85A3_08D3;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z ^ (z >> 31)
        };
        let mut ids: Vec<AccountId> = Vec::new();
        for _ in 0..400 {
            let mut b = [0u8; 32];
            for chunk in b.chunks_mut(8) {
                chunk.copy_from_slice(&next().to_le_bytes());
            }
            // Keys that share long prefixes, differ in one byte at a word
            // edge, or in the top bit.
            let mut c = b;
            c[(next() % 32) as usize] ^= 1 << (next() % 8);
            let mut d = b;
            d[..24].fill(0);
            ids.extend([AccountId(b), AccountId(c), AccountId(d)]);
        }
        ids.extend([AccountId([0; 32]), AccountId([0xff; 32])]);
        for a in &ids {
            for b in ids.iter().step_by(7) {
                assert_eq!(a.cmp(b), a.0.cmp(&b.0), "{a:?} vs {b:?}");
                assert_eq!(a.partial_cmp(b), Some(a.0.cmp(&b.0)));
            }
        }
    }

    #[test]
    fn alice_public_key_has_her_well_known_address() {
        // //Alice sr25519 public key and its generic-substrate (42) address.
        let alice = hex_literal("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d");
        let id = AccountId(alice);
        assert_eq!(
            id.to_ss58(),
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        );
        assert_eq!(AccountId::from_ss58(&id.to_ss58()).unwrap(), id);
    }

    #[test]
    fn bad_checksum_is_rejected() {
        let mut s = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY".to_string();
        s.pop();
        s.push('Z');
        assert!(AccountId::from_ss58(&s).is_err());
    }

    fn hex_literal(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for i in 0..32 {
            out[i] = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }
}
