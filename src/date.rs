//! Calendar dates and RFC 3339 timestamps, from Unix seconds, without a time-zone database: UTC
//! only. Waivers expire on a date (`2027-03-31`) and reports carry the time they were made; both
//! need the civil calendar and nothing else, so it is computed here (Howard Hinnant's
//! days-from-civil algorithm) rather than pulled in with a date crate.

use std::fmt;

/// A proleptic Gregorian date (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i64,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// Parses `YYYY-MM-DD` exactly (four-digit year, two-digit month and day, a real date).
    pub fn parse(text: &str) -> Option<Date> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = text.get(range)?;
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let year = number(0..4)?;
        let month = u32::try_from(number(5..7)?).ok()?;
        let day = u32::try_from(number(8..10)?).ok()?;
        let date = Date { year, month, day };
        // A real date: round-trips through the day count (rejects 2027-02-30, month 13).
        ((1..=12).contains(&month) && day >= 1 && Date::from_days(date.days()) == date)
            .then_some(date)
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i64 {
        let year = if self.month <= 2 {
            self.year - 1
        } else {
            self.year
        };
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let month = i64::from(self.month);
        let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5
            + i64::from(self.day)
            - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        Date {
            year,
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }

    /// The UTC date of a Unix time.
    pub fn from_unix(seconds: i64) -> Date {
        Date::from_days(seconds.div_euclid(86_400))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// `2026-12-03T07:52:33Z`: RFC 3339 in UTC, whole seconds.
pub fn rfc3339(unix_seconds: i64) -> String {
    let date = Date::from_unix(unix_seconds);
    let second_of_day = unix_seconds.rem_euclid(86_400);
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

/// Parses what [`rfc3339`] writes (and any RFC 3339 time with a `Z` or numeric offset, fractional
/// seconds ignored) back to Unix seconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let date = Date::parse(text.get(0..10)?)?;
    let rest = text.get(10..)?;
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix('t'))?;
    let field = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = rest.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (hour, minute, second) = (field(0..2)?, field(3..5)?, field(6..8)?);
    if rest.get(2..3)? != ":" || rest.get(5..6)? != ":" || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut zone = rest.get(8..)?;
    if let Some(fraction) = zone.strip_prefix('.') {
        zone = fraction.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = if zone == "Z" || zone == "z" {
        0
    } else {
        let sign = match zone.get(0..1)? {
            "+" => 1,
            "-" => -1,
            _ => return None,
        };
        let hours: i64 = zone.get(1..3)?.parse().ok()?;
        let minutes: i64 = zone.get(4..6)?.parse().ok()?;
        if zone.len() != 6 || zone.get(3..4)? != ":" {
            return None;
        }
        sign * (hours * 3600 + minutes * 60)
    };
    Some(date.days() * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_known_days() {
        assert_eq!(Date::parse("1970-01-01").map(Date::days), Some(0));
        assert_eq!(Date::parse("2000-03-01").map(Date::days), Some(11_017));
        assert_eq!(
            Date::parse("2024-02-29").map(|d| d.to_string()).as_deref(),
            Some("2024-02-29")
        );
        for bad in [
            "2027-02-30",
            "2027-13-01",
            "2027-3-31",
            "27-03-31",
            "2027-03-31x",
            "2023-02-29",
            "+027-03-31",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        for days in [-1_000_000, -1, 0, 59, 60, 11_016, 20_000, 2_932_896] {
            assert_eq!(Date::from_days(days).days(), days);
        }
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        // `date -u -d @1796284353 +%FT%TZ`
        assert_eq!(rfc3339(1_796_284_353), "2026-12-03T07:52:33Z");
        assert_eq!(parse_rfc3339("2026-12-03T07:52:33Z"), Some(1_796_284_353));
        assert_eq!(
            parse_rfc3339("2026-12-03T08:52:33.5+01:00"),
            Some(1_796_284_353)
        );
        assert_eq!(parse_rfc3339("2026-12-03 07:52:33Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
