//! The one PostgreSQL value → `Cell` mapping (docs/type-mapping.md, "PostgreSQL"). sqlx asks
//! for every result column in binary, so each value is read from its binary wire format:
//! numeric keeps its exact digits (NaN → null), timestamptz is written in UTC with `+00:00`,
//! and containers (arrays, composites, ranges, hstore; `nested.rs`) become JSON or range text.

use super::nested::{range_text, write_nested};
use crate::cell::{Cell, Column, ColumnKind};
use crate::render::calendar::{push_clock, push_epoch_date, push_offset, push_time, push_trimmed_fraction};
use crate::render::number::{f32_shortest, push_number};
use crate::render::wire::{fixed, utf8};
use crate::render::wkb::wkb_to_wkt;
use sqlx::postgres::{PgRow, PgTypeInfo, PgTypeKind, PgValueFormat};
use sqlx::{Column as _, Row as _, TypeInfo as _, ValueRef as _};
use std::borrow::Cow;
use std::fmt::Write as _;

/// Column `i`'s bytes in its binary wire format, `None` for NULL. Read once per value: the caps
/// count these bytes and `cell_of` maps the same ones.
pub(super) fn wire_bytes(row: &PgRow, i: usize) -> Result<Option<&[u8]>, String> {
    let value = row.try_get_raw(i).map_err(|e| e.to_string())?;
    if value.is_null() {
        return Ok(None);
    }
    if value.format() != PgValueFormat::Binary {
        return Err("the value arrived as text, not binary".into());
    }
    value.as_bytes().map(Some).map_err(|e| e.to_string())
}

/// The cell for what `wire_bytes` read.
pub(super) fn cell_of<'r>(bytes: Option<&'r [u8]>, ty: &PgType) -> Result<Cell<'r>, String> {
    bytes.map_or(Ok(Cell::Null), |bytes| to_cell(ty, bytes))
}

pub(super) fn describe(columns: &[sqlx::postgres::PgColumn], money_scale: u8) -> (Vec<Column>, Vec<PgType>) {
    columns
        .iter()
        .map(|c| {
            let ty = PgType::of(c.type_info(), money_scale);
            (Column::new(c.name(), c.type_info().name(), ty.column_kind()), ty)
        })
        .unzip()
}

/// How to read one result column's binary bytes.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum PgType {
    Bool,
    Int2,
    Int4,
    Int8,
    /// oid, xid, cid and the reg* types: an unsigned 32-bit number on the wire.
    Oid,
    Xid8,
    Float4,
    Float8,
    Numeric,
    /// The number of fraction digits of the server's currency.
    Money(u8),
    /// text, varchar, bpchar, name, xml, unknown, enums, citext: UTF-8 as sent.
    Text,
    /// The one-byte `"char"`.
    Char,
    Bytea,
    Json,
    Jsonb,
    Jsonpath,
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    /// inet and cidr.
    Inet,
    MacAddr,
    MacAddr8,
    /// bit and varbit.
    Bit,
    PgLsn,
    Point,
    Lseg,
    Box,
    Path,
    Polygon,
    Line,
    Circle,
    /// PostGIS geometry/geography (EWKB on the wire).
    Geometry,
    Hstore,
    Void,
    Array(std::boxed::Box<PgType>),
    Range(std::boxed::Box<PgType>),
    Composite(Vec<(String, PgType)>),
    /// An anonymous `ROW(...)`: each field names its own type.
    Record,
    Unsupported(String),
}

impl PgType {
    pub(super) fn of(ty: &PgTypeInfo, money_scale: u8) -> Self {
        if let Some(known) = ty.oid().and_then(|oid| Self::from_oid(oid.0, money_scale)) {
            return known;
        }
        // sqlx resolves the OIDs of a prepared statement's columns; one it could not name has no
        // kind to ask for.
        let name = ty.name();
        if name == "?" {
            return Self::Unsupported(format!("OID {}", ty.oid().map_or(0, |o| o.0)));
        }
        match ty.kind() {
            PgTypeKind::Enum(_) => Self::Text,
            PgTypeKind::Domain(base) => Self::of(base, money_scale),
            PgTypeKind::Array(element) => Self::Array(std::boxed::Box::new(Self::of(element, money_scale))),
            PgTypeKind::Range(element) => Self::Range(std::boxed::Box::new(Self::of(element, money_scale))),
            PgTypeKind::Composite(fields) => Self::Composite(
                fields.iter().map(|(field, t)| (field.clone(), Self::of(t, money_scale))).collect(),
            ),
            PgTypeKind::Simple | PgTypeKind::Pseudo => match name.to_ascii_lowercase().as_str() {
                "citext" => Self::Text,
                "geometry" | "geography" => Self::Geometry,
                "hstore" => Self::Hstore,
                _ => Self::Unsupported(name.to_string()),
            },
        }
    }

    /// Built-in types by their fixed OIDs (`pg_type.dat`).
    pub(super) fn from_oid(oid: u32, money_scale: u8) -> Option<Self> {
        Some(match oid {
            16 => Self::Bool,
            17 => Self::Bytea,
            18 => Self::Char,
            19 | 25 | 142 | 194 | 705 | 1042 | 1043 => Self::Text,
            20 => Self::Int8,
            21 => Self::Int2,
            23 => Self::Int4,
            24 | 26 | 28 | 29 | 2202..=2206 | 3734 | 3769 | 4089 | 4096 => Self::Oid,
            114 => Self::Json,
            600 => Self::Point,
            601 => Self::Lseg,
            602 => Self::Path,
            603 => Self::Box,
            604 => Self::Polygon,
            628 => Self::Line,
            650 | 869 => Self::Inet,
            700 => Self::Float4,
            701 => Self::Float8,
            718 => Self::Circle,
            774 => Self::MacAddr8,
            790 => Self::Money(money_scale),
            829 => Self::MacAddr,
            1082 => Self::Date,
            1083 => Self::Time,
            1114 => Self::Timestamp,
            1184 => Self::TimestampTz,
            1186 => Self::Interval,
            1266 => Self::TimeTz,
            1560 | 1562 => Self::Bit,
            1700 => Self::Numeric,
            2249 => Self::Record,
            2278 => Self::Void,
            2950 => Self::Uuid,
            3220 => Self::PgLsn,
            3802 => Self::Jsonb,
            4072 => Self::Jsonpath,
            5069 => Self::Xid8,
            _ => return None,
        })
    }

    /// The type (or part of it) that cannot be decoded, if any.
    pub(super) fn unsupported(&self) -> Option<&str> {
        match self {
            Self::Unsupported(name) => Some(name),
            Self::Array(t) | Self::Range(t) => t.unsupported(),
            Self::Composite(fields) => fields.iter().find_map(|(_, t)| t.unsupported()),
            _ => None,
        }
    }

    pub(super) fn column_kind(&self) -> ColumnKind {
        match self {
            Self::Bool => ColumnKind::Boolean,
            Self::Int2 | Self::Int4 | Self::Int8 | Self::Oid | Self::Xid8 => ColumnKind::Integer,
            Self::Float4 | Self::Float8 => ColumnKind::Float,
            Self::Numeric | Self::Money(_) => ColumnKind::Decimal,
            Self::Bytea => ColumnKind::Binary,
            Self::Json | Self::Jsonb | Self::Array(_) | Self::Composite(_) | Self::Record | Self::Hstore => {
                ColumnKind::Json
            }
            Self::Date => ColumnKind::Date,
            Self::Timestamp | Self::TimestampTz => ColumnKind::DateTime,
            Self::Time | Self::TimeTz => ColumnKind::Time,
            Self::Void | Self::Unsupported(_) => ColumnKind::Other,
            _ => ColumnKind::Text,
        }
    }
}

/// Microseconds and days between 1970-01-01 and PostgreSQL's epoch 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The cell of a non-NULL value from its binary bytes. Every malformed value is an error,
/// never a default.
pub(super) fn to_cell<'a>(ty: &PgType, b: &'a [u8]) -> Result<Cell<'a>, String> {
    let text = |s: String| Ok(Cell::Text(Cow::Owned(s)));
    match ty {
        PgType::Bool => Ok(Cell::Bool(fixed::<1>(b)?[0] != 0)),
        PgType::Int2 => Ok(Cell::Int(i64::from(i16::from_be_bytes(fixed(b)?)))),
        PgType::Int4 => Ok(Cell::Int(i64::from(i32::from_be_bytes(fixed(b)?)))),
        PgType::Int8 => Ok(Cell::Int(i64::from_be_bytes(fixed(b)?))),
        PgType::Oid => Ok(Cell::Int(i64::from(u32::from_be_bytes(fixed(b)?)))),
        PgType::Xid8 => Ok(Cell::UInt(u64::from_be_bytes(fixed(b)?))),
        PgType::Float4 => Ok(Cell::Float(f32_shortest(f32::from_be_bytes(fixed(b)?)))),
        PgType::Float8 => Ok(Cell::Float(f64::from_be_bytes(fixed(b)?))),
        PgType::Numeric => Ok(Cell::Decimal(Cow::Owned(numeric_text(b)?))),
        PgType::Money(scale) => {
            Ok(Cell::Decimal(Cow::Owned(scaled_text(i64::from_be_bytes(fixed(b)?), *scale))))
        }
        PgType::Text | PgType::Json => Ok(Cell::Text(Cow::Borrowed(utf8(b)?))),
        PgType::Jsonb | PgType::Jsonpath => match b.split_first() {
            Some((1, rest)) => Ok(Cell::Text(Cow::Borrowed(utf8(rest)?))),
            _ => Err("unknown jsonb/jsonpath version".into()),
        },
        PgType::Char => match b {
            [] => Ok(Cell::Text(Cow::Borrowed(""))),
            [c] if c.is_ascii() => Ok(Cell::Text(Cow::Owned(char::from(*c).to_string()))),
            // As PostgreSQL prints a non-ASCII "char": an octal escape.
            [c] => text(format!("\\{c:03o}")),
            _ => Err(format!("\"char\" value of {} bytes", b.len())),
        },
        PgType::Bytea => Ok(Cell::Bytes(Cow::Borrowed(b))),
        PgType::Date => {
            let days = i32::from_be_bytes(fixed(b)?);
            let mut out = String::with_capacity(10);
            match days {
                i32::MAX => out.push_str("infinity"),
                i32::MIN => out.push_str("-infinity"),
                _ => push_pg_date(&mut out, i64::from(days)),
            }
            text(out)
        }
        PgType::Time => {
            let mut out = String::with_capacity(15);
            push_day_time(&mut out, i64::from_be_bytes(fixed(b)?))?;
            text(out)
        }
        PgType::TimeTz => {
            let (micros, zone) = (b.get(..8).ok_or("short timetz")?, b.get(8..).ok_or("short timetz")?);
            let mut out = String::with_capacity(21);
            push_day_time(&mut out, i64::from_be_bytes(fixed(micros)?))?;
            // The wire holds seconds west of UTC; ISO 8601 writes the offset east.
            push_offset(&mut out, -i64::from(i32::from_be_bytes(fixed(zone)?)));
            text(out)
        }
        PgType::Timestamp | PgType::TimestampTz => {
            let micros = i64::from_be_bytes(fixed(b)?);
            let mut out = String::with_capacity(32);
            match micros {
                i64::MAX => out.push_str("infinity"),
                i64::MIN => out.push_str("-infinity"),
                _ => {
                    push_pg_date(&mut out, micros.div_euclid(MICROS_PER_DAY));
                    out.push('T');
                    push_day_time(&mut out, micros.rem_euclid(MICROS_PER_DAY))?;
                    if *ty == PgType::TimestampTz {
                        out.push_str("+00:00");
                    }
                }
            }
            text(out)
        }
        PgType::Interval => {
            let micros = i64::from_be_bytes(fixed(b.get(..8).ok_or("short interval")?)?);
            let days = i32::from_be_bytes(fixed(b.get(8..12).ok_or("short interval")?)?);
            let months = i32::from_be_bytes(fixed(b.get(12..).ok_or("short interval")?)?);
            text(interval_text(micros, days, months))
        }
        PgType::Uuid => {
            let u = fixed::<16>(b)?;
            let mut out = String::with_capacity(36);
            for (i, byte) in u.iter().enumerate() {
                if matches!(i, 4 | 6 | 8 | 10) {
                    out.push('-');
                }
                let _ = write!(out, "{byte:02x}");
            }
            text(out)
        }
        PgType::Inet => text(inet_text(b)?),
        PgType::MacAddr | PgType::MacAddr8 => {
            let expected = if *ty == PgType::MacAddr { 6 } else { 8 };
            if b.len() != expected {
                return Err(format!("MAC address of {} bytes", b.len()));
            }
            text(b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(":"))
        }
        PgType::Bit => {
            let bits = usize::try_from(i32::from_be_bytes(fixed(b.get(..4).ok_or("short bit string")?)?))
                .map_err(|_| "negative bit length")?;
            let data = &b[4..];
            if data.len() != bits.div_ceil(8) {
                return Err("bit string length does not match its data".into());
            }
            text((0..bits).map(|i| if data[i / 8] & (0x80 >> (i % 8)) != 0 { '1' } else { '0' }).collect())
        }
        PgType::PgLsn => {
            let lsn = u64::from_be_bytes(fixed(b)?);
            text(format!("{:X}/{:X}", lsn >> 32, lsn & 0xffff_ffff))
        }
        PgType::Point
        | PgType::Lseg
        | PgType::Box
        | PgType::Path
        | PgType::Polygon
        | PgType::Line
        | PgType::Circle => text(geometric_text(ty, b)?),
        PgType::Geometry => text(wkb_to_wkt(b)?),
        PgType::Void => Ok(Cell::Null),
        PgType::Array(_) | PgType::Composite(_) | PgType::Record | PgType::Hstore => {
            let mut out = Vec::with_capacity(b.len() * 2);
            write_nested(ty, b, &mut out, 0)?;
            String::from_utf8(out).map_err(|e| e.to_string()).and_then(text)
        }
        PgType::Range(element) => text(range_text(element, b)?),
        PgType::Unsupported(name) => Err(format!("type {name} cannot be decoded")),
    }
}

fn push_pg_date(out: &mut String, days_since_2000: i64) {
    push_epoch_date(out, days_since_2000 + PG_EPOCH_DAYS);
}

fn push_day_time(out: &mut String, micros: i64) -> Result<(), String> {
    // 24:00:00 is a valid time of day in PostgreSQL.
    if !(0..=MICROS_PER_DAY).contains(&micros) {
        return Err(format!("time of day out of range: {micros} µs"));
    }
    let secs = micros / 1_000_000;
    push_time(
        out,
        (secs / 3600) as u64,
        (secs / 60 % 60) as u8,
        (secs % 60) as u8,
        (micros % 1_000_000) as u32,
    );
    Ok(())
}

/// PostgreSQL's own `intervalstyle = postgres` text, e.g. `1 year 2 mons 3 days 04:05:06.5`:
/// an interval has no ISO 8601 form that keeps months, days and time apart as PostgreSQL does.
fn interval_text(micros: i64, days: i32, months: i32) -> String {
    if (micros, days, months) == (i64::MAX, i32::MAX, i32::MAX) {
        return "infinity".into();
    }
    if (micros, days, months) == (i64::MIN, i32::MIN, i32::MIN) {
        return "-infinity".into();
    }
    let mut out = String::new();
    let (mut is_zero, mut is_before) = (true, false);
    for (value, unit) in [(months / 12, "year"), (months % 12, "mon"), (days, "day")] {
        if value == 0 {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        let plus = if !is_zero && value > 0 && is_before { "+" } else { "" };
        let _ = write!(out, "{plus}{value} {unit}{}", if value == 1 { "" } else { "s" });
        is_before = value < 0;
        is_zero = false;
    }
    if is_zero || micros != 0 {
        if !is_zero {
            out.push(' ');
        }
        out.push_str(if micros < 0 {
            "-"
        } else if is_before {
            "+"
        } else {
            ""
        });
        let abs = micros.unsigned_abs();
        let secs = abs / 1_000_000;
        push_clock(&mut out, secs / 3600, (secs / 60 % 60) as u8, (secs % 60) as u8);
        push_trimmed_fraction(&mut out, abs % 1_000_000, 6);
    }
    out
}

/// The binary numeric (base-10000 digits, weight, sign, display scale) as decimal text with
/// exactly `dscale` fraction digits, as PostgreSQL prints it.
fn numeric_text(b: &[u8]) -> Result<String, String> {
    let header = b.get(..8).ok_or("short numeric")?;
    let word = |i: usize| u16::from_be_bytes([header[i], header[i + 1]]);
    let (ndigits, weight, sign, dscale) =
        (usize::from(word(0)), word(2) as i16, word(4), usize::from(word(6)));
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        other => return Err(format!("bad numeric sign {other:#x}")),
    }
    if b.len() != 8 + 2 * ndigits {
        return Err("numeric length does not match its digit count".into());
    }
    let digit = |i: i64| -> u16 {
        usize::try_from(i)
            .ok()
            .filter(|&i| i < ndigits)
            .map_or(0, |i| u16::from_be_bytes([b[8 + 2 * i], b[9 + 2 * i]]))
    };
    if (0..ndigits as i64).any(|i| digit(i) > 9999) {
        return Err("numeric digit out of range".into());
    }
    let weight = i64::from(weight);
    let mut out = String::with_capacity(ndigits * 4 + dscale + 3);
    if sign == 0x4000 {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        for i in 0..=weight {
            let _ = if i == 0 { write!(out, "{}", digit(i)) } else { write!(out, "{:04}", digit(i)) };
        }
    }
    if dscale > 0 {
        out.push('.');
        let start = out.len();
        let mut i = weight + 1;
        while out.len() - start < dscale {
            let _ = write!(out, "{:04}", digit(i));
            i += 1;
        }
        out.truncate(start + dscale);
    }
    Ok(out)
}

/// An integer count of currency units' fractions (`money`) as decimal text.
fn scaled_text(value: i64, scale: u8) -> String {
    let abs = value.unsigned_abs();
    let sign = if value < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{abs}");
    }
    let div = 10u64.pow(u32::from(scale.min(19)));
    format!("{sign}{}.{:0width$}", abs / div, abs % div, width = usize::from(scale))
}

fn inet_text(b: &[u8]) -> Result<String, String> {
    let [family, bits, is_cidr, len] = fixed::<4>(b.get(..4).ok_or("short inet")?)?;
    let addr = &b[4..];
    if addr.len() != usize::from(len) {
        return Err("inet length does not match its data".into());
    }
    let (text, max_bits) = match family {
        2 => (std::net::Ipv4Addr::from(fixed::<4>(addr)?).to_string(), 32),
        3 => (std::net::Ipv6Addr::from(fixed::<16>(addr)?).to_string(), 128),
        other => return Err(format!("unknown inet family {other}")),
    };
    Ok(if is_cidr != 0 || bits != max_bits { format!("{text}/{bits}") } else { text })
}

/// Geometric types in PostgreSQL's own text forms: `(x,y)`, `[(x,y),(x,y)]`, `<(x,y),r>`, ...
fn geometric_text(ty: &PgType, b: &[u8]) -> Result<String, String> {
    let numbers = |bytes: &[u8]| -> Result<Vec<f64>, String> {
        if !bytes.len().is_multiple_of(8) {
            return Err("geometric value is not a whole number of floats".into());
        }
        Ok(bytes
            .chunks_exact(8)
            .map(|c| f64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect())
    };
    let points = |v: &[f64]| {
        v.chunks(2)
            .map(|p| {
                let mut s = String::from("(");
                push_number(&mut s, p[0]);
                s.push(',');
                push_number(&mut s, p.get(1).copied().unwrap_or(f64::NAN));
                s.push(')');
                s
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let expect = |v: &Vec<f64>, n: usize| {
        if v.len() == n {
            Ok(())
        } else {
            Err(format!("geometric value has {} numbers, expected {n}", v.len()))
        }
    };
    Ok(match ty {
        PgType::Point => {
            let v = numbers(b)?;
            expect(&v, 2)?;
            points(&v)
        }
        PgType::Lseg => {
            let v = numbers(b)?;
            expect(&v, 4)?;
            format!("[{}]", points(&v))
        }
        PgType::Box => {
            let v = numbers(b)?;
            expect(&v, 4)?;
            points(&v)
        }
        PgType::Line => {
            let v = numbers(b)?;
            expect(&v, 3)?;
            let mut s = String::from("{");
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                push_number(&mut s, *x);
            }
            s.push('}');
            s
        }
        PgType::Circle => {
            let v = numbers(b)?;
            expect(&v, 3)?;
            let mut s = format!("<{},", points(&v[..2]));
            push_number(&mut s, v[2]);
            s.push('>');
            s
        }
        PgType::Path => {
            let closed = *b.first().ok_or("short path")? != 0;
            let n = i32::from_be_bytes(fixed(b.get(1..5).ok_or("short path")?)?);
            let v = numbers(&b[5..])?;
            expect(&v, usize::try_from(n).map_err(|_| "negative point count")? * 2)?;
            if closed {
                format!("({})", points(&v))
            } else {
                format!("[{}]", points(&v))
            }
        }
        _ => {
            let n = i32::from_be_bytes(fixed(b.get(..4).ok_or("short polygon")?)?);
            let v = numbers(&b[4..])?;
            expect(&v, usize::try_from(n).map_err(|_| "negative point count")? * 2)?;
            format!("({})", points(&v))
        }
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::format::write_json_value;

    /// The value as it ends up in the flat JSON.
    pub(in crate::postgres) fn json(ty: &PgType, bytes: &[u8]) -> String {
        let mut out = Vec::new();
        write_json_value(&to_cell(ty, bytes).unwrap(), &mut out);
        String::from_utf8(out).unwrap()
    }

    fn numeric(weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut b = Vec::new();
        for w in [digits.len() as u16, weight as u16, sign, dscale] {
            b.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b
    }

    #[test]
    fn numerics_keep_every_digit() {
        assert_eq!(json(&PgType::Numeric, &numeric(1, 0, 4, &[12, 3456, 7800])), "123456.7800");
        assert_eq!(json(&PgType::Numeric, &numeric(-2, 0x4000, 8, &[1])), "-0.00000001");
        assert_eq!(json(&PgType::Numeric, &numeric(0, 0, 0, &[])), "0");
        assert_eq!(json(&PgType::Numeric, &numeric(0, 0, 2, &[])), "0.00");
        assert_eq!(json(&PgType::Numeric, &numeric(2, 0, 0, &[1])), "100000000");
        assert_eq!(
            json(&PgType::Numeric, &numeric(4, 0, 3, &[1234, 5678, 9012, 3456, 7890, 1230])),
            "12345678901234567890.123"
        );
        assert_eq!(json(&PgType::Numeric, &numeric(0, 0xC000, 0, &[])), "null");
        assert_eq!(json(&PgType::Numeric, &numeric(0, 0xD000, 0, &[])), "null");
        assert!(to_cell(&PgType::Numeric, &numeric(0, 0, 0, &[10000])).is_err());
        assert!(to_cell(&PgType::Numeric, &[0, 1]).is_err());
    }

    #[test]
    fn integers_floats_money_and_bools() {
        assert_eq!(json(&PgType::Int2, &(-5i16).to_be_bytes()), "-5");
        assert_eq!(json(&PgType::Int4, &i32::MAX.to_be_bytes()), "2147483647");
        assert_eq!(json(&PgType::Int8, &i64::MAX.to_be_bytes()), "\"9223372036854775807\"");
        assert_eq!(json(&PgType::Oid, &u32::MAX.to_be_bytes()), "4294967295");
        assert_eq!(json(&PgType::Float4, &0.1f32.to_be_bytes()), "0.1");
        assert_eq!(json(&PgType::Float8, &f64::INFINITY.to_be_bytes()), "null");
        assert_eq!(json(&PgType::Money(2), &(-1234i64).to_be_bytes()), "-12.34");
        assert_eq!(json(&PgType::Money(0), &5i64.to_be_bytes()), "5");
        assert_eq!(json(&PgType::Money(2), &i64::MIN.to_be_bytes()), "-92233720368547758.08");
        assert_eq!(json(&PgType::Bool, &[1]), "true");
        assert_eq!(json(&PgType::Void, &[]), "null");
    }

    #[test]
    fn dates_times_and_intervals() {
        assert_eq!(json(&PgType::Date, &0i32.to_be_bytes()), "\"2000-01-01\"");
        assert_eq!(json(&PgType::Date, &(-730_485i32).to_be_bytes()), "\"0000-01-01\"");
        assert_eq!(json(&PgType::Date, &i32::MAX.to_be_bytes()), "\"infinity\"");
        let ts = (8_828i64 * MICROS_PER_DAY) + 3_723_000_001;
        assert_eq!(json(&PgType::Timestamp, &ts.to_be_bytes()), "\"2024-03-03T01:02:03.000001\"");
        assert_eq!(
            json(&PgType::TimestampTz, &(-1i64).to_be_bytes()),
            "\"1999-12-31T23:59:59.999999+00:00\""
        );
        assert_eq!(json(&PgType::Timestamp, &i64::MIN.to_be_bytes()), "\"-infinity\"");
        assert_eq!(json(&PgType::Time, &MICROS_PER_DAY.to_be_bytes()), "\"24:00:00\"");
        let mut timetz = (47_106_250_000i64).to_be_bytes().to_vec();
        timetz.extend_from_slice(&(-19_800i32).to_be_bytes());
        assert_eq!(json(&PgType::TimeTz, &timetz), "\"13:05:06.250000+05:30\"");
        assert_eq!(interval_text(-14_706_500_000, 3, 10), "10 mons 3 days -04:05:06.5");
        assert_eq!(interval_text(0, -1, 0), "-1 days");
        assert_eq!(interval_text(0, 0, 0), "00:00:00");
        assert_eq!(interval_text(360_000_000_000, 0, 0), "100:00:00");
        assert_eq!(interval_text(-1_000_000, 0, 1), "1 mon -00:00:01");
        assert_eq!(interval_text(0, 5, -14), "-1 years -2 mons +5 days");
        assert!(to_cell(&PgType::Time, &(-1i64).to_be_bytes()).is_err());
    }

    #[test]
    fn identifiers_and_addresses() {
        let uuid =
            [0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11];
        assert_eq!(json(&PgType::Uuid, &uuid), "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
        assert_eq!(json(&PgType::Inet, &[2, 32, 0, 4, 192, 168, 0, 1]), "\"192.168.0.1\"");
        assert_eq!(json(&PgType::Inet, &[2, 24, 1, 4, 10, 0, 0, 0]), "\"10.0.0.0/24\"");
        let mut v6 = vec![3, 64, 0, 16, 0x20, 0x01, 0x0d, 0xb8];
        v6.extend([0; 12]);
        assert_eq!(json(&PgType::Inet, &v6), "\"2001:db8::/64\"");
        assert_eq!(json(&PgType::MacAddr, &[8, 0, 0x2b, 1, 2, 3]), "\"08:00:2b:01:02:03\"");
        assert_eq!(json(&PgType::Bit, &[0, 0, 0, 10, 0b1011_0000, 0b0100_0000]), "\"1011000001\"");
        assert_eq!(json(&PgType::PgLsn, &0x0000_0001_0000_00a0u64.to_be_bytes()), "\"1/A0\"");
        assert_eq!(json(&PgType::Char, b"x"), "\"x\"");
    }

    #[test]
    fn text_json_and_bytes() {
        assert_eq!(json(&PgType::Text, "ünï 😀".as_bytes()), "\"ünï 😀\"");
        assert_eq!(json(&PgType::Json, br#"{"a":1}"#), r#""{\"a\":1}""#);
        assert_eq!(json(&PgType::Jsonb, b"\x01{\"a\": 1}"), r#""{\"a\": 1}""#);
        assert!(to_cell(&PgType::Jsonb, b"\x02{}").is_err());
        assert_eq!(json(&PgType::Bytea, &[0xde, 0xad, 0xbe, 0xef]), "\"3q2+7w==\"");
    }

    #[test]
    fn geometry() {
        let mut point = Vec::new();
        for v in [1.5f64, -2.0] {
            point.extend(v.to_be_bytes());
        }
        assert_eq!(json(&PgType::Point, &point), "\"(1.5,-2)\"");
        let mut circle = point.clone();
        circle.extend(3.0f64.to_be_bytes());
        assert_eq!(json(&PgType::Circle, &circle), "\"<(1.5,-2),3>\"");
        let mut path = vec![0];
        path.extend(2i32.to_be_bytes());
        path.extend(&point);
        path.extend(&point);
        assert_eq!(json(&PgType::Path, &path), "\"[(1.5,-2),(1.5,-2)]\"");
    }

    #[test]
    fn dates_before_the_common_era() {
        let mut out = String::new();
        push_pg_date(&mut out, -2_451_545);
        assert_eq!(out, "-4713-11-24");
    }
}
