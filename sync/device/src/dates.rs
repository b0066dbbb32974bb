//! Calendar arithmetic for the device: dates in China Standard Time, where Doorstep is
//! used, and day counts (for due dates and spreadsheet dates).

use doorstep_core::catalog::Ymd;

use crate::device::now_ms;

/// Today's date in UTC+8 (China Standard Time), where Doorstep is used.
pub fn today_china() -> Ymd {
    china_date(now_ms())
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
pub(crate) fn civil_from_days(days: i64) -> Ymd {
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
pub(crate) fn days_from_civil((y, m, d): Ymd) -> i64 {
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
    use doorstep_core::catalog::parse_ymd;

    #[test]
    fn civil_dates_from_day_counts() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_785), (2026, 11, 28));
        assert_eq!(parse_ymd("1945-08-15"), Some((1945, 8, 15)));
        assert_eq!(parse_ymd("1945-08"), None);
    }
}
