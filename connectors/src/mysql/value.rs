//! The one MySQL/MariaDB value → `Cell` mapping (docs/type-mapping.md, "MySQL and MariaDB"),
//! from the bytes of the binary protocol: every user statement is prepared, so each value is read
//! straight from its wire form. DECIMAL keeps the server's digits, TIME may be negative or past
//! 24 h, zero dates become null.

use crate::cell::{Cell, Column, ColumnKind};
use crate::render::calendar::{push_date, push_time};
use crate::render::number::f32_shortest;
use crate::render::wire::{fixed, utf8};
use crate::render::wkb::wkb_to_wkt;
use sqlx::mysql::{MySql, MySqlRow, MySqlTypeInfo, MySqlValueRef};
use sqlx::{Column as _, Decode, Row as _, Type, TypeInfo as _, ValueRef as _};
use std::borrow::Cow;

/// Column `i`'s bytes as the binary protocol carries them, `None` for NULL. Read once per value:
/// the caps count these bytes and `cell_of` maps the same ones.
pub(super) fn wire_bytes(row: &MySqlRow, i: usize) -> Result<Option<&[u8]>, String> {
    let value = row.try_get_raw(i).map_err(|e| e.to_string())?;
    // sqlx reports zero dates ('0000-00-00') as NULL too; there is no such day to show.
    if value.is_null() {
        return Ok(None);
    }
    raw_bytes(value).map(Some)
}

/// The cell for what `wire_bytes` read.
pub(super) fn cell_of(bytes: Option<&[u8]>, ty: MysqlType) -> Result<Cell<'_>, String> {
    bytes.map_or(Ok(Cell::Null), |bytes| to_cell(ty, bytes))
}

pub(super) fn raw_bytes(value: MySqlValueRef<'_>) -> Result<&[u8], String> {
    <&[u8] as Decode<MySql>>::decode(value).map_err(|e| e.to_string())
}

/// How to read one result column's binary-protocol bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MysqlType {
    /// TINYINT(1), which MySQL also calls BOOL/BOOLEAN.
    Bool {
        unsigned: bool,
    },
    TinyInt {
        unsigned: bool,
    },
    SmallInt {
        unsigned: bool,
    },
    /// INT and MEDIUMINT: both travel as 4 bytes.
    Int {
        unsigned: bool,
    },
    BigInt {
        unsigned: bool,
    },
    Float,
    Double,
    Decimal,
    Bit,
    Year,
    Date,
    DateTime,
    Timestamp,
    Time,
    Text,
    Json,
    Binary,
    Geometry,
    Null,
}

impl MysqlType {
    /// From the column's type as sqlx reports it. Whether a string column is text is decided by
    /// its collation (sqlx's `str` compatibility check), not by the BINARY flag, which MySQL
    /// also sets for text in `_bin` collations such as MariaDB's JSON columns.
    pub(super) fn of(ty: &MySqlTypeInfo) -> (Self, Cow<'static, str>) {
        let unsigned = <u64 as Type<MySql>>::compatible(ty);
        let is_text = <str as Type<MySql>>::compatible(ty);
        let name = ty.name();
        let kind = match name {
            "BOOLEAN" => Self::Bool { unsigned },
            "TINYINT" | "TINYINT UNSIGNED" => Self::TinyInt { unsigned },
            "SMALLINT" | "SMALLINT UNSIGNED" => Self::SmallInt { unsigned },
            "INT" | "INT UNSIGNED" | "MEDIUMINT" | "MEDIUMINT UNSIGNED" => Self::Int { unsigned },
            "BIGINT" | "BIGINT UNSIGNED" => Self::BigInt { unsigned },
            "FLOAT" => Self::Float,
            "DOUBLE" => Self::Double,
            "DECIMAL" => Self::Decimal,
            "BIT" => Self::Bit,
            "YEAR" => Self::Year,
            "DATE" => Self::Date,
            "DATETIME" => Self::DateTime,
            "TIMESTAMP" => Self::Timestamp,
            "TIME" => Self::Time,
            "JSON" => Self::Json,
            "GEOMETRY" => Self::Geometry,
            "NULL" => Self::Null,
            _ if is_text => Self::Text,
            _ => Self::Binary,
        };
        let shown = match (kind, name) {
            (Self::Text, "BINARY") => "CHAR",
            (Self::Text, "VARBINARY") => "VARCHAR",
            (Self::Text, "TINYBLOB") => "TINYTEXT",
            (Self::Text, "BLOB") => "TEXT",
            (Self::Text, "MEDIUMBLOB") => "MEDIUMTEXT",
            (Self::Text, "LONGBLOB") => "LONGTEXT",
            (_, name) => return (kind, Cow::Owned(name.to_string())),
        };
        (kind, Cow::Borrowed(shown))
    }

    pub(super) fn column_kind(self) -> ColumnKind {
        match self {
            Self::Bool { .. } => ColumnKind::Boolean,
            Self::TinyInt { .. } | Self::SmallInt { .. } | Self::Int { .. } | Self::BigInt { .. } => {
                ColumnKind::Integer
            }
            Self::Bit | Self::Year => ColumnKind::Integer,
            Self::Float | Self::Double => ColumnKind::Float,
            Self::Decimal => ColumnKind::Decimal,
            Self::Date => ColumnKind::Date,
            Self::DateTime | Self::Timestamp => ColumnKind::DateTime,
            Self::Time => ColumnKind::Time,
            Self::Text | Self::Geometry => ColumnKind::Text,
            Self::Json => ColumnKind::Json,
            Self::Binary => ColumnKind::Binary,
            Self::Null => ColumnKind::Other,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Bool { .. } => "BOOLEAN",
            Self::TinyInt { .. } => "TINYINT",
            Self::SmallInt { .. } => "SMALLINT",
            Self::Int { .. } => "INT",
            Self::BigInt { .. } => "BIGINT",
            Self::Float => "FLOAT",
            Self::Double => "DOUBLE",
            Self::Decimal => "DECIMAL",
            Self::Bit => "BIT",
            Self::Year => "YEAR",
            Self::Date => "DATE",
            Self::DateTime => "DATETIME",
            Self::Timestamp => "TIMESTAMP",
            Self::Time => "TIME",
            Self::Text => "TEXT",
            Self::Json => "JSON",
            Self::Binary => "BINARY",
            Self::Geometry => "GEOMETRY",
            Self::Null => "NULL",
        }
    }
}

pub(super) fn describe(columns: &[sqlx::mysql::MySqlColumn]) -> (Vec<Column>, Vec<MysqlType>) {
    columns
        .iter()
        .map(|c| {
            let (ty, db_type) = MysqlType::of(c.type_info());
            (Column::new(c.name(), db_type, ty.column_kind()), ty)
        })
        .unzip()
}

/// The cell of a non-NULL value from its binary-protocol bytes. Every malformed value is an error, never a default.
pub(super) fn to_cell(ty: MysqlType, bytes: &[u8]) -> Result<Cell<'_>, String> {
    Ok(match ty {
        MysqlType::Bool { unsigned } => {
            let v = if unsigned {
                i64::from(fixed::<1>(bytes)?[0])
            } else {
                i64::from(fixed::<1>(bytes)?[0] as i8)
            };
            // TINYINT(1) can hold 2..127 too; those stay numbers rather than become `true`.
            match v {
                0 | 1 => Cell::Bool(v == 1),
                _ => Cell::Int(v),
            }
        }
        MysqlType::TinyInt { unsigned: false } => Cell::Int(i64::from(fixed::<1>(bytes)?[0] as i8)),
        MysqlType::TinyInt { unsigned: true } => Cell::Int(i64::from(fixed::<1>(bytes)?[0])),
        MysqlType::SmallInt { unsigned: false } => Cell::Int(i64::from(i16::from_le_bytes(fixed(bytes)?))),
        MysqlType::SmallInt { unsigned: true } => Cell::Int(i64::from(u16::from_le_bytes(fixed(bytes)?))),
        MysqlType::Int { unsigned: false } => Cell::Int(i64::from(i32::from_le_bytes(fixed(bytes)?))),
        MysqlType::Int { unsigned: true } => Cell::Int(i64::from(u32::from_le_bytes(fixed(bytes)?))),
        MysqlType::BigInt { unsigned: false } => Cell::Int(i64::from_le_bytes(fixed(bytes)?)),
        MysqlType::BigInt { unsigned: true } => Cell::UInt(u64::from_le_bytes(fixed(bytes)?)),
        MysqlType::Float => Cell::Float(f32_shortest(f32::from_le_bytes(fixed(bytes)?))),
        MysqlType::Double => Cell::Float(f64::from_le_bytes(fixed(bytes)?)),
        MysqlType::Decimal => Cell::Decimal(Cow::Borrowed(utf8(bytes)?)),
        MysqlType::Bit => {
            if bytes.len() > 8 {
                return Err(format!("BIT value of {} bytes", bytes.len()));
            }
            Cell::UInt(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
        }
        MysqlType::Year => Cell::Int(i64::from(u16::from_le_bytes(fixed(bytes)?))),
        MysqlType::Date => {
            let Some((out, _)) = date_part(bytes, "DATE", 10)? else { return Ok(Cell::Null) };
            Cell::Text(Cow::Owned(out))
        }
        MysqlType::DateTime | MysqlType::Timestamp => {
            let Some((mut out, body)) = date_part(bytes, "DATETIME", 32)? else { return Ok(Cell::Null) };
            out.push('T');
            let (h, m, s) = body.get(4..7).map_or((0, 0, 0), |t| (t[0], t[1], t[2]));
            let micros = body.get(7..11).map_or(0, |f| u32::from_le_bytes([f[0], f[1], f[2], f[3]]));
            push_time(&mut out, u64::from(h), m, s, micros);
            if ty == MysqlType::Timestamp {
                out.push_str("+00:00");
            }
            Cell::Text(Cow::Owned(out))
        }
        MysqlType::Time => {
            let body = temporal_body(bytes, "TIME", &[0, 8, 12])?;
            let mut out = String::with_capacity(20);
            if body.is_empty() {
                push_time(&mut out, 0, 0, 0, 0);
            } else {
                if body[0] == 1 {
                    out.push('-');
                }
                let days = u64::from(u32::from_le_bytes([body[1], body[2], body[3], body[4]]));
                let micros = body.get(8..12).map_or(0, |f| u32::from_le_bytes([f[0], f[1], f[2], f[3]]));
                push_time(&mut out, days * 24 + u64::from(body[5]), body[6], body[7], micros);
            }
            Cell::Text(Cow::Owned(out))
        }
        MysqlType::Text | MysqlType::Json => Cell::Text(Cow::Borrowed(utf8(bytes)?)),
        MysqlType::Binary => Cell::Bytes(Cow::Borrowed(bytes)),
        MysqlType::Geometry => {
            // MySQL stores a 4-byte SRID before the WKB; WKT (as ST_AsText gives) is what a
            // person can read in a table.
            let wkb = bytes.get(4..).ok_or("GEOMETRY value shorter than its SRID")?;
            Cell::Text(Cow::Owned(wkb_to_wkt(wkb)?))
        }
        MysqlType::Null => Cell::Null,
    })
}

/// The bytes after a temporal value's length prefix, which must agree with it and be one of the
/// lengths the protocol allows for the type.
fn temporal_body<'b>(bytes: &'b [u8], what: &str, lengths: &[usize]) -> Result<&'b [u8], String> {
    let (len, body) = bytes.split_first().ok_or_else(|| format!("empty {what} value"))?;
    if usize::from(*len) != body.len() || !lengths.contains(&body.len()) {
        return Err(format!("{what} value of {} bytes", body.len()));
    }
    Ok(body)
}

/// A DATE or DATETIME value's date, written into a new string, and its body for the time of
/// day; `None` for the zero date, which has no day to show.
fn date_part<'b>(bytes: &'b [u8], what: &str, capacity: usize) -> Result<Option<(String, &'b [u8])>, String> {
    let body = temporal_body(bytes, what, &[0, 4, 7, 11])?;
    if body.is_empty() {
        return Ok(None);
    }
    let mut out = String::with_capacity(capacity);
    push_date(&mut out, i64::from(u16::from_le_bytes([body[0], body[1]])), body[2], body[3]);
    Ok(Some((out, body)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::write_json_value;

    fn json(ty: MysqlType, bytes: &[u8]) -> String {
        let mut out = Vec::new();
        write_json_value(&to_cell(ty, bytes).unwrap(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn integers_of_every_width_and_sign() {
        let s = |unsigned| MysqlType::TinyInt { unsigned };
        assert_eq!(json(s(false), &[0x80]), "-128");
        assert_eq!(json(s(true), &[0xff]), "255");
        assert_eq!(json(MysqlType::SmallInt { unsigned: false }, &(-32768i16).to_le_bytes()), "-32768");
        assert_eq!(json(MysqlType::SmallInt { unsigned: true }, &65535u16.to_le_bytes()), "65535");
        assert_eq!(json(MysqlType::Int { unsigned: false }, &i32::MIN.to_le_bytes()), "-2147483648");
        assert_eq!(json(MysqlType::Int { unsigned: true }, &u32::MAX.to_le_bytes()), "4294967295");
        assert_eq!(
            json(MysqlType::BigInt { unsigned: false }, &i64::MIN.to_le_bytes()),
            "\"-9223372036854775808\""
        );
        assert_eq!(json(MysqlType::BigInt { unsigned: false }, &42i64.to_le_bytes()), "42");
        assert_eq!(
            json(MysqlType::BigInt { unsigned: true }, &u64::MAX.to_le_bytes()),
            "\"18446744073709551615\""
        );
        assert!(to_cell(MysqlType::Int { unsigned: false }, &[1, 2]).is_err());
    }

    #[test]
    fn tinyint_1_is_boolean_when_it_holds_0_or_1() {
        let b = MysqlType::Bool { unsigned: false };
        assert_eq!(json(b, &[1]), "true");
        assert_eq!(json(b, &[0]), "false");
        assert_eq!(json(b, &[0xfe]), "-2");
        assert_eq!(json(MysqlType::Bool { unsigned: true }, &[0xfe]), "254");
    }

    #[test]
    fn floats_decimals_bits_and_years() {
        assert_eq!(json(MysqlType::Float, &1.1f32.to_le_bytes()), "1.1");
        assert_eq!(json(MysqlType::Double, &0.1f64.to_le_bytes()), "0.1");
        assert_eq!(json(MysqlType::Double, &f64::NAN.to_le_bytes()), "null");
        assert_eq!(
            json(MysqlType::Decimal, b"-12345678901234567890123456789012345.123456789012345678901234567890"),
            "-12345678901234567890123456789012345.123456789012345678901234567890"
        );
        assert_eq!(json(MysqlType::Bit, &[0x01, 0x02]), "258");
        assert_eq!(json(MysqlType::Bit, &[0xff; 8]), "\"18446744073709551615\"");
        assert_eq!(json(MysqlType::Year, &2024u16.to_le_bytes()), "2024");
    }

    #[test]
    fn dates_datetimes_and_times() {
        assert_eq!(json(MysqlType::Date, &[4, 0xe8, 0x07, 2, 29]), "\"2024-02-29\"");
        assert_eq!(json(MysqlType::Date, &[0]), "null");
        let micros = 123456u32.to_le_bytes();
        let dt = [11, 0xe8, 0x07, 12, 31, 23, 59, 58, micros[0], micros[1], micros[2], micros[3]];
        assert_eq!(json(MysqlType::DateTime, &dt), "\"2024-12-31T23:59:58.123456\"");
        assert_eq!(json(MysqlType::DateTime, &[4, 0xe8, 0x07, 1, 2]), "\"2024-01-02T00:00:00\"");
        assert_eq!(
            json(MysqlType::Timestamp, &[7, 0xe8, 0x07, 1, 2, 3, 4, 5]),
            "\"2024-01-02T03:04:05+00:00\""
        );
        assert_eq!(json(MysqlType::Time, &[0]), "\"00:00:00\"");
        // -838:59:59 is MySQL's minimum: 34 days 22 h.
        assert_eq!(json(MysqlType::Time, &[8, 1, 34, 0, 0, 0, 22, 59, 59]), "\"-838:59:59\"");
        let half = 500000u32.to_le_bytes();
        assert_eq!(
            json(MysqlType::Time, &[12, 0, 1, 0, 0, 0, 1, 2, 3, half[0], half[1], half[2], half[3]]),
            "\"25:02:03.500000\""
        );
        assert!(to_cell(MysqlType::Date, &[4, 1, 2]).is_err());
    }

    #[test]
    fn text_binary_and_json() {
        assert_eq!(json(MysqlType::Text, "héllo 😀".as_bytes()), "\"héllo 😀\"");
        assert_eq!(json(MysqlType::Json, br#"{"a": [1, 2]}"#), r#""{\"a\": [1, 2]}""#);
        assert_eq!(json(MysqlType::Binary, &[0, 255, 16]), "\"AP8Q\"");
        assert!(to_cell(MysqlType::Text, &[0xff]).is_err());
    }

    #[test]
    fn geometries_drop_their_srid_and_become_wkt() {
        let mut value = vec![0, 0, 0, 0, 1, 1, 0, 0, 0];
        value.extend_from_slice(&1.0f64.to_le_bytes());
        value.extend_from_slice(&(-2.5f64).to_le_bytes());
        assert_eq!(json(MysqlType::Geometry, &value), "\"POINT(1 -2.5)\"");
        assert!(to_cell(MysqlType::Geometry, &[0, 0]).is_err());
    }
}
