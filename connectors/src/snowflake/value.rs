//! The one Snowflake value → `Cell` mapping (docs/snowflake.md, "Values → JSON").
//!
//! Snowflake sends every value of a JSON rowset as a string (or null), whose meaning depends on
//! the column type: FIXED and REAL as decimal text, BOOLEAN as `1`/`0`, DATE as days since the
//! epoch, TIME as seconds since midnight with a fraction, TIMESTAMP_NTZ/LTZ as epoch seconds with
//! a fraction, TIMESTAMP_TZ as that plus ` <1440 + offset minutes>`, BINARY as hex, and
//! VARIANT/OBJECT/ARRAY/VECTOR/GEOGRAPHY as their text. `to_cell` is the one place that reads
//! those strings; it borrows them wherever the output is the same text.

use crate::cell::{Cell, Column, ColumnKind};
use crate::render::calendar::{civil_from_days, push_clock, push_date, push_offset, push_trimmed_fraction};
use snowflake_connector_rs as sf;
use snowflake_connector_rs::ColumnType;
use std::borrow::Cow;
use std::ops::{Range, RangeInclusive};

const NANOS_PER_SECOND: i128 = 1_000_000_000;
/// TIMESTAMP_TZ's time zone field is the offset in minutes plus this.
const TZ_INDEX_UTC: i64 = 1440;
/// Older servers pack TIMESTAMP_TZ into one integer: `epoch_nanos * 16384 + tz_index`.
const LEGACY_TZ_SHIFT: i128 = 16_384;
/// The years a date or timestamp may fall in. Snowflake's own values stay far inside; a wire
/// value beyond is corrupt, and is refused (DATE) or shown as the raw instant (timestamps) rather
/// than given a calendar date.
const YEARS: RangeInclusive<i64> = -262_143..=262_142;
const SECONDS_PER_DAY: i64 = 86_400;

/// A column's Snowflake type, reduced to what decides how its values are read and shown. Built
/// from the driver's `ColumnType` through its public tag and scale, so it stays correct when the
/// driver adds variants (they arrive as `Other` and pass through as text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SnowflakeType {
    /// FIXED with scale 0: NUMBER(p,0), INT, BIGINT, ...
    Integer,
    /// FIXED with a scale: NUMBER(p,s), DECIMAL.
    Decimal,
    Real,
    Text,
    Boolean,
    Date,
    Time,
    TimestampNtz,
    TimestampLtz,
    TimestampTz,
    Binary,
    /// VARIANT, OBJECT, ARRAY.
    SemiStructured,
    /// VECTOR, GEOGRAPHY, GEOMETRY and tags the driver does not know.
    Other,
}

impl SnowflakeType {
    pub(super) fn of(ty: &ColumnType) -> Self {
        Self::from_tag(ty.as_str(), ty.scale())
    }

    /// `tag` is the rowtype `type` field (`fixed`, `timestamp_tz`, ...), case-insensitive.
    pub(super) fn from_tag(tag: &str, scale: Option<u8>) -> Self {
        match tag.to_ascii_lowercase().as_str() {
            "fixed" if scale.unwrap_or(0) == 0 => Self::Integer,
            "fixed" => Self::Decimal,
            "real" | "float" | "double" | "double precision" => Self::Real,
            "text" | "varchar" | "char" | "string" => Self::Text,
            "boolean" => Self::Boolean,
            "date" => Self::Date,
            "time" => Self::Time,
            "timestamp_ntz" => Self::TimestampNtz,
            "timestamp_ltz" => Self::TimestampLtz,
            "timestamp_tz" => Self::TimestampTz,
            "binary" => Self::Binary,
            "variant" | "object" | "array" => Self::SemiStructured,
            _ => Self::Other,
        }
    }

    pub(super) fn kind(self) -> ColumnKind {
        match self {
            Self::Integer => ColumnKind::Integer,
            Self::Decimal => ColumnKind::Decimal,
            Self::Real => ColumnKind::Float,
            Self::Text => ColumnKind::Text,
            Self::Boolean => ColumnKind::Boolean,
            Self::Date => ColumnKind::Date,
            Self::Time => ColumnKind::Time,
            Self::TimestampNtz | Self::TimestampLtz | Self::TimestampTz => ColumnKind::DateTime,
            Self::Binary => ColumnKind::Binary,
            Self::SemiStructured => ColumnKind::Json,
            Self::Other => ColumnKind::Other,
        }
    }
}

/// The one Snowflake value → `Cell` mapping. `raw` is the cell exactly as the JSON rowset carries
/// it (`None` for SQL NULL). An `Err` says what was malformed; the caller adds the column.
pub(super) fn to_cell(ty: SnowflakeType, raw: Option<&str>) -> Result<Cell<'_>, String> {
    let Some(raw) = raw else {
        return Ok(Cell::Null);
    };
    let cell = match ty {
        SnowflakeType::Integer => match raw.parse::<i64>() {
            Ok(v) => Cell::Int(v),
            // Beyond i64 (NUMBER(38,0) reaches 10^38): docs/type-mapping.md writes such integers as strings.
            Err(_) if is_integer_text(raw) => Cell::Text(Cow::Borrowed(raw)),
            Err(_) => return Err(format!("'{raw}' is not an integer NUMBER")),
        },
        // Exactly the digits Snowflake printed (scale included), never through f64.
        SnowflakeType::Decimal => Cell::Decimal(Cow::Borrowed(raw)),
        SnowflakeType::Real => Cell::Float(parse_real(raw)?),
        SnowflakeType::Boolean => match raw {
            "1" => Cell::Bool(true),
            "0" => Cell::Bool(false),
            _ if raw.eq_ignore_ascii_case("true") => Cell::Bool(true),
            _ if raw.eq_ignore_ascii_case("false") => Cell::Bool(false),
            _ => return Err(format!("'{raw}' is not a BOOLEAN")),
        },
        SnowflakeType::Date => Cell::Text(Cow::Owned(format_date(raw)?)),
        SnowflakeType::Time => Cell::Text(Cow::Owned(format_time(raw)?)),
        SnowflakeType::TimestampNtz => Cell::Text(Cow::Owned(format_timestamp(parse_epoch(raw)?, None))),
        // LTZ is an instant; the JSON rowset carries it in UTC, so that is the offset we show.
        SnowflakeType::TimestampLtz => Cell::Text(Cow::Owned(format_timestamp(parse_epoch(raw)?, Some(0)))),
        SnowflakeType::TimestampTz => {
            let (instant, offset_minutes) = parse_timestamp_tz(raw)?;
            Cell::Text(Cow::Owned(format_timestamp(instant, Some(offset_minutes))))
        }
        SnowflakeType::Binary => Cell::Bytes(Cow::Owned(decode_hex(raw)?)),
        // VARIANT/OBJECT/ARRAY: their JSON text, as docs/type-mapping.md asks. VECTOR (`[1,2]`; float vectors
        // may hold `inf`/`nan`, so it is not always JSON), GEOGRAPHY/GEOMETRY (GeoJSON or WKT per
        // the session's output format) and unknown types: the text Snowflake sent.
        SnowflakeType::Text | SnowflakeType::SemiStructured | SnowflakeType::Other => {
            Cell::Text(Cow::Borrowed(raw))
        }
    };
    Ok(cell)
}

/// The result column as clients see it: Snowflake's SQL type name and our kind.
pub(super) fn column(name: &str, ty: &ColumnType) -> Column {
    Column::new(
        name,
        sql_type_name(ty.as_str(), ty.precision(), ty.scale(), ty.length()),
        SnowflakeType::of(ty).kind(),
    )
}

/// Snowflake's own spelling of a type (`NUMBER(38,0)`, `TIMESTAMP_TZ(9)`) from its wire tag.
pub(super) fn sql_type_name(
    tag: &str,
    precision: Option<u8>,
    scale: Option<u8>,
    length: Option<u32>,
) -> String {
    let tag = tag.to_ascii_lowercase();
    let with_scale = |base: &str| match scale {
        Some(s) => format!("{base}({s})"),
        None => base.to_string(),
    };
    match tag.as_str() {
        "fixed" => match (precision, scale) {
            (Some(p), Some(s)) => format!("NUMBER({p},{s})"),
            (Some(p), None) => format!("NUMBER({p})"),
            _ => "NUMBER".to_string(),
        },
        "real" => "FLOAT".to_string(),
        "text" => match length {
            Some(n) => format!("VARCHAR({n})"),
            None => "VARCHAR".to_string(),
        },
        "time" => with_scale("TIME"),
        "timestamp_ntz" => with_scale("TIMESTAMP_NTZ"),
        "timestamp_ltz" => with_scale("TIMESTAMP_LTZ"),
        "timestamp_tz" => with_scale("TIMESTAMP_TZ"),
        other => other.to_ascii_uppercase(),
    }
}

fn is_integer_text(raw: &str) -> bool {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn parse_real(raw: &str) -> Result<f64, String> {
    // Rust's parser takes `inf`, `infinity` and `nan` in any case, which covers Snowflake's
    // `inf`/`-inf`/`NaN` spellings; format.rs turns them into null.
    raw.trim().parse::<f64>().map_err(|_| format!("'{raw}' is not a FLOAT"))
}

fn format_date(raw: &str) -> Result<String, String> {
    let days: i64 =
        raw.trim().parse().map_err(|_| format!("'{raw}' is not a DATE (days since 1970-01-01)"))?;
    let (year, month, day) = i32::try_from(days)
        .ok()
        .map(|days| civil_from_days(i64::from(days)))
        .filter(|(year, ..)| YEARS.contains(year))
        .ok_or_else(|| format!("DATE {raw} days from 1970-01-01 is out of range"))?;
    let mut out = String::with_capacity(10);
    push_date(&mut out, year, month, day);
    Ok(out)
}

fn format_time(raw: &str) -> Result<String, String> {
    let (seconds, nanos) = parse_epoch(raw)?;
    if !(0..SECONDS_PER_DAY).contains(&seconds) {
        return Err(format!("'{raw}' is not a TIME (seconds since midnight)"));
    }
    let mut out = String::with_capacity(18);
    push_seconds_of_day(&mut out, seconds, nanos);
    Ok(out)
}

/// `[-]seconds[.fraction]` as whole seconds (floored) plus nanoseconds, exactly: no float on the way.
fn parse_epoch(raw: &str) -> Result<(i64, u32), String> {
    let invalid = || format!("'{raw}' is not epoch seconds");
    let text = raw.trim();
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || fraction.len() > 9 {
        return Err(invalid());
    }
    let whole: i128 = whole.parse().map_err(|_| invalid())?;
    let frac_nanos = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(9)
        .fold(0i128, |acc, b| acc * 10 + i128::from(b - b'0'));
    let total =
        whole.checked_mul(NANOS_PER_SECOND).and_then(|w| w.checked_add(frac_nanos)).ok_or_else(invalid)?;
    let total = if negative { -total } else { total };
    let seconds = i64::try_from(total.div_euclid(NANOS_PER_SECOND)).map_err(|_| invalid())?;
    let nanos = u32::try_from(total.rem_euclid(NANOS_PER_SECOND)).map_err(|_| invalid())?;
    Ok((seconds, nanos))
}

/// TIMESTAMP_TZ: `epoch.fraction tz_index`, or the older single packed integer.
fn parse_timestamp_tz(raw: &str) -> Result<((i64, u32), i64), String> {
    let text = raw.trim();
    let invalid = || format!("'{raw}' is not a TIMESTAMP_TZ");
    let (instant, tz_index) = match text.split_once(' ') {
        Some((epoch, tz)) => {
            let tz_index: i64 = tz.trim().parse().map_err(|_| invalid())?;
            (parse_epoch(epoch)?, tz_index)
        }
        None => {
            // Packed form, always with 9 fractional digits of scale in the integer part.
            let packed: i128 = text.parse().map_err(|_| invalid())?;
            let scaled = packed.div_euclid(LEGACY_TZ_SHIFT);
            let tz_index = i64::try_from(packed.rem_euclid(LEGACY_TZ_SHIFT)).map_err(|_| invalid())?;
            let seconds = i64::try_from(scaled.div_euclid(NANOS_PER_SECOND)).map_err(|_| invalid())?;
            let nanos = u32::try_from(scaled.rem_euclid(NANOS_PER_SECOND)).map_err(|_| invalid())?;
            ((seconds, nanos), tz_index)
        }
    };
    if !(0..=2 * TZ_INDEX_UTC).contains(&tz_index) {
        return Err(invalid());
    }
    Ok((instant, tz_index - TZ_INDEX_UTC))
}

/// ISO 8601 `YYYY-MM-DDTHH:MM:SS[.f]`, plus `±HH:MM` when an offset is given (the wall time is
/// then local to that offset). Fractions keep every non-zero digit and drop trailing zeros.
fn format_timestamp((seconds, nanos): (i64, u32), offset_minutes: Option<i64>) -> String {
    let local_seconds = seconds.saturating_add(offset_minutes.unwrap_or(0) * 60);
    let (year, month, day) = civil_from_days(local_seconds.div_euclid(SECONDS_PER_DAY));
    if !YEARS.contains(&year) {
        return format!("{seconds}.{nanos:09}");
    }
    let mut out = String::with_capacity(35);
    push_date(&mut out, year, month, day);
    out.push('T');
    push_seconds_of_day(&mut out, local_seconds.rem_euclid(SECONDS_PER_DAY), nanos);
    if let Some(offset) = offset_minutes {
        push_offset(&mut out, offset * 60);
    }
    out
}

/// `HH:MM:SS[.f]` for a second of the day (0..86400) and its nanoseconds.
fn push_seconds_of_day(out: &mut String, seconds: i64, nanos: u32) {
    let seconds = seconds.unsigned_abs();
    push_clock(out, seconds / 3600, (seconds / 60 % 60) as u8, (seconds % 60) as u8);
    push_trimmed_fraction(out, u64::from(nanos), 9);
}

fn decode_hex(raw: &str) -> Result<Vec<u8>, String> {
    let pairs = raw.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return Err(format!("BINARY value has an odd number of hex digits ({})", raw.len()));
    }
    let nibble = |b: u8| match b {
        b'0'..=b'9' => Ok(b - b'0'),
        b'a'..=b'f' => Ok(b - b'a' + 10),
        b'A'..=b'F' => Ok(b - b'A' + 10),
        _ => Err(format!("BINARY value has a non-hex character {:?}", char::from(b))),
    };
    pairs.map(|pair| Ok((nibble(pair[0])? << 4) | nibble(pair[1])?)).collect()
}

/// One row's cells as Snowflake sent them, copied out of the partition in one buffer: the
/// crate's row API yields owned values only.
#[derive(Debug, Default)]
pub(super) struct RawRow {
    text: String,
    cells: Vec<Option<Range<usize>>>,
}

impl RawRow {
    pub(super) fn get(&self, index: usize) -> Option<&str> {
        let range = self.cells.get(index)?.clone()?;
        self.text.get(range)
    }
}

impl sf::FromRow for RawRow {
    type Plan = usize;

    fn build_plan(ctx: sf::RowPlanContext<'_>) -> sf::decode::PlanBuildResult<usize> {
        Ok(ctx.schema().len())
    }

    fn from_row_with_plan(row: sf::RowRef<'_>, columns: &usize) -> sf::decode::RowDecodeResult<Self> {
        let mut out = RawRow { text: String::new(), cells: Vec::with_capacity(*columns) };
        for index in 0..*columns {
            let cell = row.cell_at(index)?.raw().map(|raw| {
                let start = out.text.len();
                out.text.push_str(raw);
                start..out.text.len()
            });
            out.cells.push(cell);
        }
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::format::write_json_value;
    use SnowflakeType as T;

    /// The value as it ends up in the flat JSON, so each case shows the whole path to the output.
    fn json(ty: SnowflakeType, raw: Option<&str>) -> String {
        let mut out = Vec::new();
        write_json_value(&to_cell(ty, raw).unwrap(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn tags_classify_like_the_rowtype() {
        assert_eq!(SnowflakeType::from_tag("fixed", Some(0)), T::Integer);
        assert_eq!(SnowflakeType::from_tag("FIXED", None), T::Integer);
        assert_eq!(SnowflakeType::from_tag("fixed", Some(2)), T::Decimal);
        assert_eq!(SnowflakeType::from_tag("real", None), T::Real);
        assert_eq!(SnowflakeType::from_tag("text", None), T::Text);
        assert_eq!(SnowflakeType::from_tag("boolean", None), T::Boolean);
        assert_eq!(SnowflakeType::from_tag("date", None), T::Date);
        assert_eq!(SnowflakeType::from_tag("time", Some(9)), T::Time);
        assert_eq!(SnowflakeType::from_tag("timestamp_ntz", Some(9)), T::TimestampNtz);
        assert_eq!(SnowflakeType::from_tag("timestamp_ltz", Some(9)), T::TimestampLtz);
        assert_eq!(SnowflakeType::from_tag("timestamp_tz", Some(9)), T::TimestampTz);
        assert_eq!(SnowflakeType::from_tag("binary", None), T::Binary);
        for tag in ["variant", "object", "array"] {
            assert_eq!(SnowflakeType::from_tag(tag, None), T::SemiStructured);
        }
        for tag in ["geography", "geometry", "vector", "something_new"] {
            assert_eq!(SnowflakeType::from_tag(tag, None), T::Other);
        }
        assert_eq!(T::Integer.kind(), ColumnKind::Integer);
        assert_eq!(T::Decimal.kind(), ColumnKind::Decimal);
        assert_eq!(T::TimestampTz.kind(), ColumnKind::DateTime);
        assert_eq!(T::SemiStructured.kind(), ColumnKind::Json);
        assert_eq!(T::Other.kind(), ColumnKind::Other);
    }

    #[test]
    fn type_names_follow_snowflake() {
        assert_eq!(sql_type_name("fixed", Some(38), Some(0), None), "NUMBER(38,0)");
        assert_eq!(sql_type_name("fixed", Some(10), Some(2), None), "NUMBER(10,2)");
        assert_eq!(sql_type_name("fixed", None, None, None), "NUMBER");
        assert_eq!(sql_type_name("real", None, None, None), "FLOAT");
        assert_eq!(sql_type_name("text", None, None, Some(20)), "VARCHAR(20)");
        assert_eq!(sql_type_name("timestamp_tz", None, Some(9), None), "TIMESTAMP_TZ(9)");
        assert_eq!(sql_type_name("time", None, None, None), "TIME");
        assert_eq!(sql_type_name("variant", None, None, None), "VARIANT");
        assert_eq!(sql_type_name("geography", None, None, None), "GEOGRAPHY");
    }

    #[test]
    fn null_is_null_for_every_type() {
        for ty in [T::Integer, T::Decimal, T::Real, T::Text, T::Date, T::TimestampTz, T::Binary, T::Other] {
            assert_eq!(to_cell(ty, None).unwrap(), Cell::Null);
        }
    }

    #[test]
    fn integers() {
        assert_eq!(to_cell(T::Integer, Some("42")).unwrap(), Cell::Int(42));
        assert_eq!(json(T::Integer, Some("-7")), "-7");
        assert_eq!(json(T::Integer, Some("9007199254740991")), "9007199254740991");
        // Past 2^53 and past i64 docs/type-mapping.md wants strings, digits intact.
        assert_eq!(json(T::Integer, Some("9007199254740993")), "\"9007199254740993\"");
        assert_eq!(
            json(T::Integer, Some("99999999999999999999999999999999999999")),
            "\"99999999999999999999999999999999999999\""
        );
        assert_eq!(json(T::Integer, Some("-99999999999999999999")), "\"-99999999999999999999\"");
        assert!(to_cell(T::Integer, Some("1.5")).is_err());
        assert!(to_cell(T::Integer, Some("")).is_err());
    }

    #[test]
    fn decimals_keep_their_digits() {
        assert_eq!(to_cell(T::Decimal, Some("12.50")).unwrap(), Cell::Decimal("12.50".into()));
        assert_eq!(json(T::Decimal, Some("12.50")), "12.50");
        assert_eq!(json(T::Decimal, Some("-0.0000000001")), "-0.0000000001");
        assert_eq!(
            json(T::Decimal, Some("1234567890123456789012345678.0123456789")),
            "1234567890123456789012345678.0123456789"
        );
    }

    #[test]
    fn reals() {
        assert_eq!(to_cell(T::Real, Some("1.5")).unwrap(), Cell::Float(1.5));
        assert_eq!(json(T::Real, Some("0.1")), "0.1");
        assert_eq!(json(T::Real, Some("1.000000000000000e+20")), "1e20");
        assert_eq!(json(T::Real, Some("-2.5E-3")), "-0.0025");
        for non_finite in ["NaN", "nan", "inf", "-inf", "Infinity", "-Infinity"] {
            assert_eq!(json(T::Real, Some(non_finite)), "null", "{non_finite}");
        }
        assert!(to_cell(T::Real, Some("one")).is_err());
    }

    #[test]
    fn text_is_borrowed_unchanged() {
        let raw = "héllo \"quoted\"\n";
        assert_eq!(to_cell(T::Text, Some(raw)).unwrap(), Cell::Text(Cow::Borrowed(raw)));
        assert_eq!(json(T::Text, Some("")), "\"\"");
    }

    #[test]
    fn booleans() {
        assert_eq!(json(T::Boolean, Some("1")), "true");
        assert_eq!(json(T::Boolean, Some("0")), "false");
        assert_eq!(json(T::Boolean, Some("TRUE")), "true");
        assert_eq!(json(T::Boolean, Some("false")), "false");
        assert!(to_cell(T::Boolean, Some("2")).is_err());
    }

    #[test]
    fn dates_are_days_since_the_epoch() {
        assert_eq!(json(T::Date, Some("0")), "\"1970-01-01\"");
        assert_eq!(json(T::Date, Some("19724")), "\"2024-01-02\"");
        assert_eq!(json(T::Date, Some("-1")), "\"1969-12-31\"");
        assert_eq!(json(T::Date, Some("-719162")), "\"0001-01-01\"");
        assert_eq!(json(T::Date, Some("2932896")), "\"9999-12-31\"");
        assert!(to_cell(T::Date, Some("2024-01-02")).is_err());
        assert!(to_cell(T::Date, Some("99999999999")).is_err());
    }

    #[test]
    fn times_are_seconds_since_midnight() {
        assert_eq!(json(T::Time, Some("45296")), "\"12:34:56\"");
        assert_eq!(json(T::Time, Some("45296.500000000")), "\"12:34:56.5\"");
        assert_eq!(json(T::Time, Some("0.000000001")), "\"00:00:00.000000001\"");
        assert_eq!(json(T::Time, Some("86399.999")), "\"23:59:59.999\"");
        assert!(to_cell(T::Time, Some("86400")).is_err());
        assert!(to_cell(T::Time, Some("-1")).is_err());
        assert!(to_cell(T::Time, Some("12:00")).is_err());
    }

    #[test]
    fn timestamp_ntz_has_no_offset() {
        assert_eq!(json(T::TimestampNtz, Some("1704164645.123000000")), "\"2024-01-02T03:04:05.123\"");
        assert_eq!(json(T::TimestampNtz, Some("1704164645")), "\"2024-01-02T03:04:05\"");
        assert_eq!(json(T::TimestampNtz, Some("0.000001")), "\"1970-01-01T00:00:00.000001\"");
        // Before 1970 the wire value is negative seconds with a fraction: -0.5 s is 23:59:59.5.
        assert_eq!(json(T::TimestampNtz, Some("-0.500000000")), "\"1969-12-31T23:59:59.5\"");
        assert_eq!(json(T::TimestampNtz, Some("-86400")), "\"1969-12-31T00:00:00\"");
        assert_eq!(
            json(T::TimestampNtz, Some("253402300799.999999999")),
            "\"9999-12-31T23:59:59.999999999\""
        );
        assert!(to_cell(T::TimestampNtz, Some("1.1234567891")).is_err());
        assert!(to_cell(T::TimestampNtz, Some("abc")).is_err());
        assert!(to_cell(T::TimestampNtz, Some("1.")).is_ok());
    }

    #[test]
    fn timestamp_ltz_is_shown_in_utc_with_offset() {
        assert_eq!(json(T::TimestampLtz, Some("1704164645.123")), "\"2024-01-02T03:04:05.123+00:00\"");
    }

    #[test]
    fn timestamp_tz_carries_its_offset() {
        // 1440 is UTC; the index is 1440 + offset in minutes, and the wall time is local.
        assert_eq!(
            json(T::TimestampTz, Some("1704164645.123000000 1440")),
            "\"2024-01-02T03:04:05.123+00:00\""
        );
        assert_eq!(
            json(T::TimestampTz, Some("1704164645.123000000 1560")),
            "\"2024-01-02T05:04:05.123+02:00\""
        );
        assert_eq!(json(T::TimestampTz, Some("1704164645 1110")), "\"2024-01-01T21:34:05-05:30\"");
        assert_eq!(json(T::TimestampTz, Some("-0.5 1500")), "\"1970-01-01T00:59:59.5+01:00\"");
        // The older packed form: epoch nanoseconds * 16384 + index.
        let packed = (1_704_164_645_123_000_000i128 * 16384 + 1560).to_string();
        assert_eq!(json(T::TimestampTz, Some(&packed)), "\"2024-01-02T05:04:05.123+02:00\"");
        assert!(to_cell(T::TimestampTz, Some("1704164645 3000")).is_err());
        assert!(to_cell(T::TimestampTz, Some("1704164645 x")).is_err());
    }

    #[test]
    fn binary_is_hex_on_the_wire_and_base64_out() {
        assert_eq!(to_cell(T::Binary, Some("ABCD")).unwrap(), Cell::Bytes(Cow::Owned(vec![0xab, 0xcd])));
        assert_eq!(json(T::Binary, Some("48656c6c6f")), "\"SGVsbG8=\"");
        assert_eq!(json(T::Binary, Some("")), "\"\"");
        assert!(to_cell(T::Binary, Some("ABC")).is_err());
        assert!(to_cell(T::Binary, Some("ZZ")).is_err());
    }

    #[test]
    fn semi_structured_and_others_are_their_text() {
        assert_eq!(json(T::SemiStructured, Some(r#"{"a":[1,2]}"#)), r#""{\"a\":[1,2]}""#);
        assert_eq!(json(T::SemiStructured, Some("[\n  1,\n  undefined\n]")), r#""[\n  1,\n  undefined\n]""#);
        assert_eq!(json(T::SemiStructured, Some("\"text\"")), r#""\"text\"""#);
        assert_eq!(json(T::Other, Some("[1.5,inf,nan]")), "\"[1.5,inf,nan]\"");
        assert_eq!(json(T::Other, Some("POINT(1 2)")), "\"POINT(1 2)\"");
        assert_eq!(
            json(T::Other, Some(r#"{"coordinates":[1,2],"type":"Point"}"#)),
            r#""{\"coordinates\":[1,2],\"type\":\"Point\"}""#
        );
    }
}
