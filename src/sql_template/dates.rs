//! Date parameter values: `YYYY-MM-DD` (a longer ISO timestamp counts by its day), or
//! Workspace's modifiers on today, `$currentDate-1M` (units as the frontend reads them: h hours,
//! d days, w weeks, M months, q quarters, y years, b business days; several may follow each
//! other). Today is the UTC day: reading the local offset is unsound in a threaded process.

use time::{Date, Duration, Month, OffsetDateTime, Weekday};

pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

pub(super) fn format(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// The day `text` names, relative to `today` for modifiers; `None` when it names none.
pub fn resolve_date(text: &str, today: Date) -> Option<Date> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("$currentDate") {
        return modifiers(rest, today);
    }
    let day = text.get(..10)?;
    let tail = &text[10..];
    if !(tail.is_empty() || tail.starts_with('T') || tail.starts_with(' ')) {
        return None;
    }
    let b = day.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |s: &str| s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse::<u32>().ok()).flatten();
    let year = i32::try_from(number(&day[..4])?).ok()?;
    let month = Month::try_from(u8::try_from(number(&day[5..7])?).ok()?).ok()?;
    let dom = u8::try_from(number(&day[8..10])?).ok()?;
    Date::from_calendar_date(year, month, dom).ok()
}

fn modifiers(mut rest: &str, mut date: Date) -> Option<Date> {
    while !rest.is_empty() {
        let sign: i64 = match rest.as_bytes()[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let digits = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 5 {
            return None;
        }
        let amount: i64 = rest[1..=digits].parse().ok()?;
        let unit = rest[1 + digits..].chars().next()?;
        rest = &rest[1 + digits + unit.len_utf8()..];
        let n = sign * amount;
        date = match unit {
            'h' => (OffsetDateTime::new_utc(date, OffsetDateTime::now_utc().time())
                .checked_add(Duration::hours(n))?)
            .date(),
            'd' => date.checked_add(Duration::days(n))?,
            'w' => date.checked_add(Duration::weeks(n))?,
            'M' => add_months(date, n)?,
            'q' => add_months(date, n.checked_mul(3)?)?,
            'y' => add_months(date, n.checked_mul(12)?)?,
            'b' => add_business_days(date, n)?,
            _ => return None,
        };
    }
    Some(date)
}

/// Months later (or earlier), the day clamped to the month's length: Jan 31 + 1M is Feb 28/29.
fn add_months(date: Date, months: i64) -> Option<Date> {
    let index = i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1 + months;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).ok()
}

fn add_business_days(mut date: Date, n: i64) -> Option<Date> {
    let step = Duration::days(n.signum());
    let mut left = n.abs();
    while left > 0 {
        date = date.checked_add(step)?;
        if !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
            left -= 1;
        }
    }
    Some(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn plain_and_relative_dates() {
        let today = date!(2024 - 03 - 31);
        assert_eq!(resolve_date("2024-02-29", today), Some(date!(2024 - 02 - 29)));
        assert_eq!(resolve_date("2024-02-29T10:00:00Z", today), Some(date!(2024 - 02 - 29)));
        assert_eq!(resolve_date("2023-02-29", today), None);
        assert_eq!(resolve_date("2024-1-01", today), None);
        assert_eq!(resolve_date("2024-01-01x", today), None);
        assert_eq!(resolve_date("$currentDate", today), Some(today));
        assert_eq!(resolve_date("$currentDate-1M", today), Some(date!(2024 - 02 - 29)));
        assert_eq!(resolve_date("$currentDate-1y+2d", today), Some(date!(2023 - 04 - 02)));
        assert_eq!(resolve_date("$currentDate-1w", today), Some(date!(2024 - 03 - 24)));
        assert_eq!(resolve_date("$currentDate-1q", today), Some(date!(2023 - 12 - 31)));
        // Sunday minus one business day is Friday.
        assert_eq!(resolve_date("$currentDate-1b", today), Some(date!(2024 - 03 - 29)));
        assert_eq!(resolve_date("$currentDate-1x", today), None);
        assert_eq!(resolve_date("$currentDate-", today), None);
        assert_eq!(resolve_date("$currentDate-999999d", today), None);
        assert_eq!(resolve_date("ÿÿÿÿ-ÿÿ-ÿÿ", today), None);
    }
}
