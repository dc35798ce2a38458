//! TAO amounts as text, converted exactly: "1.5" TAO = 1_500_000_000 RAO.

use ledger_core::RAO_PER_TAO;

/// Parses a decimal TAO amount (at most 9 decimals) into RAO.
pub fn parse_tao(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return Err("empty amount".into());
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("{s:?} is not a decimal TAO amount"));
    }
    if frac.len() > 9 {
        return Err(format!("{s:?} has more than 9 decimals (1 RAO = 1e-9 TAO)"));
    }
    let int: u64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| "amount too large")?
    };
    let frac_rao: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().map_err(|_| "bad decimals")?
    };
    int.checked_mul(RAO_PER_TAO)
        .and_then(|r| r.checked_add(frac_rao))
        .ok_or_else(|| "amount too large".into())
}

/// Formats RAO as a decimal TAO string with 9 decimals.
pub fn format_tao(rao: u64) -> String {
    format!("{}.{:09}", rao / RAO_PER_TAO, rao % RAO_PER_TAO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_conversions() {
        assert_eq!(parse_tao("1.5"), Ok(1_500_000_000));
        assert_eq!(parse_tao("0.000000001"), Ok(1));
        assert_eq!(parse_tao("21000000"), Ok(21_000_000_000_000_000));
        assert_eq!(parse_tao(".25"), Ok(250_000_000));
        assert!(parse_tao("0.0000000001").is_err());
        assert!(parse_tao("-1").is_err());
        assert!(parse_tao("1e3").is_err());
        assert!(parse_tao("99999999999999999999").is_err());
        assert_eq!(format_tao(1_500_000_001), "1.500000001");
    }
}
