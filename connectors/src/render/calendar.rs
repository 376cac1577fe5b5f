//! Dates, times of day and offsets as docs/type-mapping.md writes them: `YYYY-MM-DD`,
//! `HH:MM:SS[.f]`, `±HH:MM`. Engines turn their wire values into calendar numbers; these write
//! the text.

/// Days since 1970-01-01 → proleptic Gregorian (year, month, day); H. Hinnant's algorithm.
pub(crate) fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DD`; years outside 0..=9999 get a sign (ISO 8601 expanded years, astronomical
/// numbering: year 0 is 1 BC).
pub(crate) fn push_date(out: &mut String, year: i64, month: u8, day: u8) {
    if year < 0 {
        out.push('-');
    } else if year > 9999 {
        out.push('+');
    }
    push_padded(out, year.unsigned_abs(), 4);
    out.push('-');
    push_padded(out, u64::from(month), 2);
    out.push('-');
    push_padded(out, u64::from(day), 2);
}

/// `value` in decimal with at least `width` digits (zeros in front). Dates and times are written
/// once per value of a result, so this avoids `fmt`'s machinery (3% of a MariaDB result of dates
/// went to `write!` alone).
fn push_padded(out: &mut String, value: u64, width: usize) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(value);
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(digits);
}

/// The day `days` after 1970-01-01 (before it when negative), as `push_date` writes it.
pub(crate) fn push_epoch_date(out: &mut String, days: i64) {
    let (year, month, day) = civil_from_days(days);
    push_date(out, year, month, day);
}

/// `HH:MM:SS`. Hours may exceed 23: MySQL's TIME and PostgreSQL's intervals run past a day.
pub(crate) fn push_clock(out: &mut String, hours: u64, minutes: u8, seconds: u8) {
    push_padded(out, hours, 2);
    out.push(':');
    push_padded(out, u64::from(minutes), 2);
    out.push(':');
    push_padded(out, u64::from(seconds), 2);
}

/// `HH:MM:SS`, then `.ffffff` when there are microseconds: MySQL and PostgreSQL print all six
/// digits of a fraction.
pub(crate) fn push_time(out: &mut String, hours: u64, minutes: u8, seconds: u8, micros: u32) {
    push_clock(out, hours, minutes, seconds);
    if micros != 0 {
        out.push('.');
        push_padded(out, u64::from(micros), 6);
    }
}

/// `.` and the digits of a fraction of `scale` digits without its trailing zeros (`.5`,
/// `.000001`); nothing for zero. For values whose database prints only the digits that count.
pub(crate) fn push_trimmed_fraction(out: &mut String, fraction: u64, scale: usize) {
    if fraction == 0 {
        return;
    }
    let digits = format!("{fraction:0scale$}");
    out.push('.');
    out.push_str(digits.trim_end_matches('0'));
}

/// `+HH:MM` east of UTC, `-HH:MM` west, with `:SS` when the offset has seconds (ISO 8601).
pub(crate) fn push_offset(out: &mut String, seconds_east: i64) {
    let sign = if seconds_east < 0 { '-' } else { '+' };
    let s = seconds_east.unsigned_abs();
    out.push(sign);
    push_padded(out, s / 3600, 2);
    out.push(':');
    push_padded(out, s / 60 % 60, 2);
    if !s.is_multiple_of(60) {
        out.push(':');
        push_padded(out, s % 60, 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(write: impl FnOnce(&mut String)) -> String {
        let mut out = String::new();
        write(&mut out);
        out
    }

    #[test]
    fn civil_dates_round_the_calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-719_162), (1, 1, 1));
        assert_eq!(civil_from_days(2_932_896), (9999, 12, 31));
    }

    #[test]
    fn dates_sign_years_outside_four_digits() {
        assert_eq!(text(|o| push_date(o, 2024, 2, 29)), "2024-02-29");
        assert_eq!(text(|o| push_date(o, 0, 1, 1)), "0000-01-01");
        assert_eq!(text(|o| push_date(o, -4713, 11, 24)), "-4713-11-24");
        assert_eq!(text(|o| push_date(o, 10_000, 1, 1)), "+10000-01-01");
        assert_eq!(text(|o| push_epoch_date(o, -1)), "1969-12-31");
        assert_eq!(text(|o| push_date(o, 9999, 12, 31)), "9999-12-31");
        assert_eq!(text(|o| push_date(o, 7, 1, 9)), "0007-01-09");
        assert_eq!(text(|o| push_date(o, -1, 1, 1)), "-0001-01-01");
        assert_eq!(text(|o| push_date(o, -123_456, 1, 1)), "-123456-01-01");
    }

    #[test]
    fn times_and_fractions() {
        assert_eq!(text(|o| push_time(o, 0, 0, 0, 0)), "00:00:00");
        assert_eq!(text(|o| push_time(o, 838, 59, 59, 500_000)), "838:59:59.500000");
        assert_eq!(text(|o| push_time(o, 7, 5, 3, 42)), "07:05:03.000042");
        assert_eq!(text(|o| push_clock(o, 23, 59, 9)), "23:59:09");
        assert_eq!(text(|o| push_trimmed_fraction(o, 500_000_000, 9)), ".5");
        assert_eq!(text(|o| push_trimmed_fraction(o, 1, 6)), ".000001");
        assert_eq!(text(|o| push_trimmed_fraction(o, 0, 9)), "");
    }

    #[test]
    fn offsets_are_written_east_positive() {
        assert_eq!(text(|o| push_offset(o, 0)), "+00:00");
        assert_eq!(text(|o| push_offset(o, 19_800)), "+05:30");
        assert_eq!(text(|o| push_offset(o, -19_800)), "-05:30");
        assert_eq!(text(|o| push_offset(o, 3_601)), "+01:00:01");
    }
}
