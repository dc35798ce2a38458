//! UTC dates as milliseconds since the Unix epoch, by hand (Howard
//! Hinnant's `days_from_civil` / `civil_from_days`), so a halving date is
//! computed from data, never from the machine's clock.

/// Parses `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ` (UTC) into Unix ms.
pub fn parse(s: &str) -> Result<u64, String> {
    let bad = || format!("bad date {s:?}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
    let (day, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t.strip_suffix('Z').ok_or_else(bad)?)),
        None => (s, None),
    };
    let d: Vec<&str> = day.split('-').collect();
    if d.len() != 3 {
        return Err(bad());
    }
    let num = |x: &str| x.parse::<u32>().map_err(|_| bad());
    let (y, m, dd) = (
        d[0].parse::<i64>().map_err(|_| bad())?,
        num(d[1])?,
        num(d[2])?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&dd) || y < 1970 {
        return Err(bad());
    }
    let (mut hh, mut mi, mut ss) = (0, 0, 0);
    if let Some(t) = time {
        let t: Vec<&str> = t.split(':').collect();
        if t.len() != 3 {
            return Err(bad());
        }
        (hh, mi, ss) = (num(t[0])?, num(t[1])?, num(t[2])?);
        if hh > 23 || mi > 59 || ss > 59 {
            return Err(bad());
        }
    }
    let days = days_from_civil(y, m, dd);
    let secs = days * 86_400 + i64::from(hh * 3600 + mi * 60 + ss);
    u64::try_from(secs * 1000).map_err(|_| bad())
}

/// Formats Unix ms as `YYYY-MM-DDTHH:MM:SSZ` (milliseconds dropped).
pub fn format(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates_round_trip() {
        assert_eq!(parse("1970-01-01").unwrap(), 0);
        // 2024-02-29 00:00:00 UTC = 1709164800 s.
        assert_eq!(parse("2024-02-29").unwrap(), 1_709_164_800_000);
        assert_eq!(format(1_709_164_800_000), "2024-02-29T00:00:00Z");
        let t = parse("2025-12-14T15:04:05Z").unwrap();
        assert_eq!(format(t), "2025-12-14T15:04:05Z");
        assert!(parse("2025-13-01").is_err());
        assert!(parse("yesterday").is_err());
    }
}
