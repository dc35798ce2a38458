//! Substrate secret URIs (`<phrase>//hard/soft///password`) and derivation
//! junctions, parsed the way `sp_core::crypto::SecretUri` and
//! `DeriveJunction` do so derived addresses agree with every Substrate tool.

use crate::sr25519::KeyError;
use blake2::{digest::consts::U32, Blake2b, Digest};

/// One step of a derivation path. The 32 bytes are the chain code:
/// the SCALE encoding of the junction text (or number), zero-padded, or its
/// blake2b-256 hash when longer than 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Junction {
    /// `//name`: the child's secret cannot be computed from the parent's
    /// public key.
    Hard([u8; 32]),
    /// `/name`: the child's public key follows from the parent's public key.
    Soft([u8; 32]),
}

impl Junction {
    /// The junction for one path segment's text (without its slashes).
    /// Digits-only text that fits a u64 is a number, as in Substrate.
    pub fn new(code: &str, hard: bool) -> Self {
        let encoded = match code.parse::<u64>() {
            Ok(n) => n.to_le_bytes().to_vec(),
            Err(_) => scale_str(code),
        };
        let mut cc = [0u8; 32];
        if encoded.len() > 32 {
            cc.copy_from_slice(&Blake2b::<U32>::digest(&encoded));
        } else {
            cc[..encoded.len()].copy_from_slice(&encoded);
        }
        if hard {
            Junction::Hard(cc)
        } else {
            Junction::Soft(cc)
        }
    }
}

/// SCALE encoding of a string: compact length prefix, then the UTF-8 bytes.
fn scale_str(s: &str) -> Vec<u8> {
    let mut out = compact_len(s.len() as u64);
    out.extend_from_slice(s.as_bytes());
    out
}

/// SCALE compact integer encoding.
fn compact_len(n: u64) -> Vec<u8> {
    match n {
        0..=0x3f => vec![(n as u8) << 2],
        0x40..=0x3fff => (((n as u16) << 2) | 0b01).to_le_bytes().to_vec(),
        0x4000..=0x3fff_ffff => (((n as u32) << 2) | 0b10).to_le_bytes().to_vec(),
        _ => {
            let bytes = n.to_le_bytes();
            let len = 8 - (n.leading_zeros() / 8) as usize;
            let mut out = vec![(((len - 4) as u8) << 2) | 0b11];
            out.extend_from_slice(&bytes[..len]);
            out
        }
    }
}

/// A parsed secret URI; `phrase` is `None` when the URI starts with a path
/// (then the dev phrase applies).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SecretUri<'a> {
    pub phrase: Option<&'a str>,
    pub junctions: Vec<Junction>,
    pub password: Option<&'a str>,
}

/// Mirrors Substrate's regex
/// `^(?P<phrase>[\d\w ]+)?(?P<path>(//?[^/]+)*)(///(?P<password>.*))?$`.
pub(crate) fn parse(uri: &str) -> Result<SecretUri<'_>, KeyError> {
    let (phrase, rest) = match uri.find('/') {
        Some(i) => (&uri[..i], &uri[i..]),
        None => (uri, ""),
    };
    if !phrase
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == ' ')
    {
        return Err(KeyError::InvalidUri(
            "phrase may hold only letters, digits and spaces",
        ));
    }
    // A junction never contains "///", so the first one starts the password.
    let (path, password) = match rest.find("///") {
        Some(i) => (&rest[..i], Some(&rest[i + 3..])),
        None => (rest, None),
    };
    let mut junctions = Vec::new();
    let mut p = path;
    while !p.is_empty() {
        // Each segment is "/" or "//" followed by at least one non-slash.
        let after_first = p
            .strip_prefix('/')
            .ok_or(KeyError::InvalidUri("bad path"))?;
        let (hard, body) = match after_first.strip_prefix('/') {
            Some(b) => (true, b),
            None => (false, after_first),
        };
        let end = body.find('/').unwrap_or(body.len());
        if end == 0 {
            return Err(KeyError::InvalidUri("empty junction"));
        }
        junctions.push(Junction::new(&body[..end], hard));
        p = &body[end..];
    }
    Ok(SecretUri {
        phrase: (!phrase.is_empty()).then_some(phrase),
        junctions,
        password,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_compact_lengths() {
        assert_eq!(compact_len(0), vec![0]);
        assert_eq!(compact_len(5), vec![20]);
        assert_eq!(compact_len(63), vec![252]);
        assert_eq!(compact_len(64), vec![0x01, 0x01]);
        assert_eq!(compact_len(16383), vec![0xfd, 0xff]);
        assert_eq!(compact_len(16384), vec![0x02, 0x00, 0x01, 0x00]);
        assert_eq!(compact_len(1 << 30), vec![0x03, 0x00, 0x00, 0x00, 0x40]);
    }

    #[test]
    fn junction_chain_codes() {
        let mut alice = [0u8; 32];
        alice[0] = 5 << 2;
        alice[1..6].copy_from_slice(b"Alice");
        assert_eq!(Junction::new("Alice", true), Junction::Hard(alice));
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(Junction::new("1", false), Junction::Soft(one));
        // 32 chars + 1 prefix byte = 33 > 32: hashed.
        let long = "a".repeat(32);
        let expected: [u8; 32] = Blake2b::<U32>::digest(scale_str(&long)).into();
        assert_eq!(Junction::new(&long, true), Junction::Hard(expected));
    }

    #[test]
    fn parses_phrase_path_password() {
        let u = parse("foo bar//hard/soft///pass/word").unwrap();
        assert_eq!(u.phrase, Some("foo bar"));
        assert_eq!(
            u.junctions,
            vec![Junction::new("hard", true), Junction::new("soft", false)]
        );
        assert_eq!(u.password, Some("pass/word"));
        let u = parse("//Alice").unwrap();
        assert_eq!(u.phrase, None);
        assert_eq!(u.password, None);
        assert!(parse("a//").is_err());
        assert!(parse("a-b//x").is_err());
    }
}
