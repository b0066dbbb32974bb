//! Dates, one module for everyone: calendar dates as `(year, month, day)`, `YYYY-MM-DD`
//! text, ages, day counts, and the date in China Standard Time (UTC+8, where Doorstep is
//! used) of a moment. No clock: callers pass the time (the device's `today_china` reads it).

/// A date as (year, month, day).
pub type Ymd = (u32, u32, u32);

/// Parses `YYYY-MM-DD` into a real calendar date.
pub fn parse_ymd(text: &str) -> Option<Ymd> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = text[0..4].parse().ok()?;
    let m = text[5..7].parse().ok()?;
    let d = text[8..10].parse().ok()?;
    is_real_date(y, m, d).then_some((y, m, d))
}

/// Whole years between a birth date and `today`.
pub fn age_on(birth: Ymd, today: Ymd) -> u32 {
    let years = today.0.saturating_sub(birth.0);
    if (today.1, today.2) < (birth.1, birth.2) {
        years.saturating_sub(1)
    } else {
        years
    }
}

/// Whether (year, month, day) is a date of the Gregorian calendar.
pub fn is_real_date(year: u32, month: u32, day: u32) -> bool {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// The date in UTC+8 (China Standard Time) of a time in milliseconds since the epoch.
pub fn china_date(ms: i64) -> Ymd {
    civil_from_days((ms + 8 * 3_600_000).div_euclid(86_400_000))
}

/// `YYYY-MM-DD`.
pub fn format_ymd((y, m, d): Ymd) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// algorithm).
pub fn civil_from_days(days: i64) -> Ymd {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        u32::try_from(year).unwrap_or(0),
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the inverse of
/// [`civil_from_days`]).
pub fn days_from_civil((y, m, d): Ymd) -> i64 {
    let (y, m, d) = (i64::from(y) - i64::from(m <= 2), i64::from(m), i64::from(d));
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_from_day_counts_and_back() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_785), (2026, 11, 28));
        for days in [-1_000, 0, 11_016, 20_785, 60_000] {
            assert_eq!(days_from_civil(civil_from_days(days)), days);
        }
    }

    #[test]
    fn text_dates_are_real_calendar_dates() {
        assert_eq!(parse_ymd("1945-08-15"), Some((1945, 8, 15)));
        assert_eq!(parse_ymd("1945-08"), None);
        assert_eq!(parse_ymd("2027-02-29"), None);
        assert_eq!(parse_ymd("2028-02-29"), Some((2028, 2, 29)));
        assert_eq!(parse_ymd("2023-2-28"), None);
        assert_eq!(format_ymd((2026, 12, 1)), "2026-12-01");
    }

    #[test]
    fn china_time_is_eight_hours_ahead_and_ages_count_whole_years() {
        // 2026-11-30 17:30 UTC is 1 December in China.
        assert_eq!(china_date(1_796_059_800_000), (2026, 12, 1));
        assert_eq!(age_on((1946, 12, 2), (2026, 12, 1)), 79);
        assert_eq!(age_on((1946, 12, 1), (2026, 12, 1)), 80);
    }
}
