//! The one DuckDB value → `Cell` mapping (docs/type-mapping.md, "DuckDB"). Results arrive as
//! Arrow record batches; the Arrow layout alone cannot tell HUGEINT from UHUGEINT or DECIMAL(38,0)
//! (all `Decimal128(38, 0)`), nor BIT, GEOMETRY or BIGNUM from BLOB, so each column carries the
//! DuckDB type tree (`Ty`) read from the prepared statement, and the two together decide.

use crate::cell::{Cell, ColumnKind};
use crate::format::write_json_value;
use crate::render::calendar::{push_epoch_date, push_time, push_trimmed_fraction};
use crate::render::number::f32_shortest;
use crate::render::wire::utf8;
use crate::render::wkb::wkb_to_wkt;
use duckdb::arrow::array::{Array, AsArray};
use duckdb::arrow::datatypes::{
    ArrowDictionaryKeyType, DataType, Date32Type, Date64Type, Decimal128Type, Decimal256Type, Decimal32Type,
    Decimal64Type, Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    IntervalMonthDayNanoType, IntervalUnit, Time32MillisecondType, Time32SecondType, Time64MicrosecondType,
    Time64NanosecondType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use duckdb::core::{LogicalTypeHandle, LogicalTypeId as Id};
use std::borrow::Cow;
use std::fmt::Write as _;

/// Nested values deeper than this are refused rather than recursed into.
const MAX_DEPTH: usize = 64;

/// A DuckDB type: its id, its name as DuckDB spells it, and the types inside it (LIST/ARRAY: the
/// element; MAP: key and value; STRUCT/UNION: the fields, named).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ty {
    pub(crate) id: Id,
    pub(crate) name: String,
    pub(crate) children: Vec<(String, Ty)>,
}

impl Ty {
    pub(crate) fn leaf(id: Id, name: &str) -> Self {
        Self { id, name: name.to_string(), children: Vec::new() }
    }

    /// The type tree of a logical type handle. Only ids that have children are asked for them:
    /// the driver panics on the others.
    pub(crate) fn of(handle: &LogicalTypeHandle) -> Self {
        Self::of_depth(handle, 0)
    }

    fn of_depth(handle: &LogicalTypeHandle, depth: usize) -> Self {
        let id = handle.id();
        let mut children = Vec::new();
        if depth < MAX_DEPTH && matches!(id, Id::List | Id::Array | Id::Map | Id::Struct | Id::Union) {
            for i in 0..handle.num_children() {
                let name = match id {
                    Id::Struct | Id::Union => handle.child_name(i),
                    Id::Map if i == 0 => "key".to_string(),
                    Id::Map => "value".to_string(),
                    _ => String::new(),
                };
                children.push((name, Self::of_depth(&handle.child(i), depth + 1)));
            }
        }
        let name = match id {
            Id::Decimal => format!("DECIMAL({},{})", handle.decimal_width(), handle.decimal_scale()),
            Id::List => format!("{}[]", children.first().map_or("", |(_, t)| t.name.as_str())),
            Id::Map => {
                let key = children.first().map_or("", |(_, t)| t.name.as_str());
                let value = children.get(1).map_or("", |(_, t)| t.name.as_str());
                format!("MAP({key}, {value})")
            }
            Id::Struct | Id::Union => {
                let fields: Vec<String> = children.iter().map(|(n, t)| format!("{n} {}", t.name)).collect();
                let word = if id == Id::Struct { "STRUCT" } else { "UNION" };
                format!("{word}({})", fields.join(", "))
            }
            Id::Array => format!("{}[]", children.first().map_or("", |(_, t)| t.name.as_str())),
            other => type_name(other).to_string(),
        };
        Self { id, name, children }
    }

    /// Whether the prepared statement could not know the type before its parameters were bound
    /// (`SELECT ?`): the Arrow type of the result then names it.
    pub(crate) fn is_unresolved(&self) -> bool {
        matches!(self.id, Id::Invalid | Id::Any | Id::Unsupported | Id::StringLiteral | Id::IntegerLiteral)
    }

    /// The DuckDB type an Arrow column of a result stands for, for columns whose prepared type
    /// was unresolved. Scalars only: a container's element types come from DuckDB.
    pub(crate) fn from_arrow(data_type: &DataType) -> Self {
        let id = match data_type {
            DataType::Boolean => Id::Boolean,
            DataType::Int8 => Id::Tinyint,
            DataType::Int16 => Id::Smallint,
            DataType::Int32 => Id::Integer,
            DataType::Int64 => Id::Bigint,
            DataType::UInt8 => Id::UTinyint,
            DataType::UInt16 => Id::USmallint,
            DataType::UInt32 => Id::UInteger,
            DataType::UInt64 => Id::UBigint,
            DataType::Float16 | DataType::Float32 => Id::Float,
            DataType::Float64 => Id::Double,
            DataType::Decimal32(..)
            | DataType::Decimal64(..)
            | DataType::Decimal128(..)
            | DataType::Decimal256(..) => Id::Decimal,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Id::Varchar,
            DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_) => Id::Blob,
            DataType::Date32 | DataType::Date64 => Id::Date,
            DataType::Time32(_) | DataType::Time64(_) => Id::Time,
            DataType::Timestamp(_, Some(_)) => Id::TimestampTZ,
            DataType::Timestamp(..) => Id::Timestamp,
            DataType::Interval(_) => Id::Interval,
            DataType::Null => Id::SqlNull,
            _ => Id::Invalid,
        };
        let name = match data_type {
            DataType::Decimal32(p, s) | DataType::Decimal64(p, s) | DataType::Decimal128(p, s) => {
                format!("DECIMAL({p},{s})")
            }
            _ => type_name(id).to_string(),
        };
        Self { id, name, children: Vec::new() }
    }

    /// The column kind of a result column of this type.
    pub(crate) fn kind(&self) -> ColumnKind {
        match self.id {
            Id::Boolean => ColumnKind::Boolean,
            Id::Tinyint
            | Id::Smallint
            | Id::Integer
            | Id::Bigint
            | Id::UTinyint
            | Id::USmallint
            | Id::UInteger
            | Id::UBigint
            | Id::Hugeint
            | Id::UHugeint => ColumnKind::Integer,
            Id::Float | Id::Double => ColumnKind::Float,
            Id::Decimal => ColumnKind::Decimal,
            Id::Date => ColumnKind::Date,
            Id::Timestamp | Id::TimestampS | Id::TimestampMs | Id::TimestampNs | Id::TimestampTZ => {
                ColumnKind::DateTime
            }
            Id::Time | Id::TimeTZ | Id::TimeNs => ColumnKind::Time,
            Id::Varchar | Id::Uuid | Id::Enum | Id::Interval | Id::Bit | Id::Geometry => ColumnKind::Text,
            Id::Blob => ColumnKind::Binary,
            Id::List | Id::Array | Id::Map | Id::Struct | Id::Union => ColumnKind::Json,
            _ => ColumnKind::Other,
        }
    }

    fn child(&self, i: usize) -> Result<&Ty, String> {
        self.children.get(i).map(|(_, t)| t).ok_or_else(|| format!("{} has no member {i}", self.name))
    }
}

/// DuckDB's name of a type without parameters.
fn type_name(id: Id) -> &'static str {
    match id {
        Id::Boolean => "BOOLEAN",
        Id::Tinyint => "TINYINT",
        Id::Smallint => "SMALLINT",
        Id::Integer => "INTEGER",
        Id::Bigint => "BIGINT",
        Id::UTinyint => "UTINYINT",
        Id::USmallint => "USMALLINT",
        Id::UInteger => "UINTEGER",
        Id::UBigint => "UBIGINT",
        Id::Hugeint => "HUGEINT",
        Id::UHugeint => "UHUGEINT",
        Id::Float => "FLOAT",
        Id::Double => "DOUBLE",
        Id::Decimal => "DECIMAL",
        Id::Varchar => "VARCHAR",
        Id::Blob => "BLOB",
        Id::Date => "DATE",
        Id::Time => "TIME",
        Id::TimeNs => "TIME_NS",
        Id::TimeTZ => "TIME WITH TIME ZONE",
        Id::Timestamp => "TIMESTAMP",
        Id::TimestampS => "TIMESTAMP_S",
        Id::TimestampMs => "TIMESTAMP_MS",
        Id::TimestampNs => "TIMESTAMP_NS",
        Id::TimestampTZ => "TIMESTAMP WITH TIME ZONE",
        Id::Interval => "INTERVAL",
        Id::Uuid => "UUID",
        Id::Enum => "ENUM",
        Id::Bit => "BIT",
        Id::Bignum => "BIGNUM",
        Id::Geometry => "GEOMETRY",
        Id::Variant => "VARIANT",
        Id::SqlNull => "NULL",
        Id::List => "LIST",
        Id::Array => "ARRAY",
        Id::Map => "MAP",
        Id::Struct => "STRUCT",
        Id::Union => "UNION",
        _ => "UNKNOWN",
    }
}

/// Whether the type is written as JSON text.
fn is_container(id: Id) -> bool {
    matches!(id, Id::List | Id::Array | Id::Map | Id::Struct | Id::Union)
}

/// The size of a value as DuckDB holds it, for the memory caps: text and blobs by their bytes,
/// containers by the bytes of the values inside, fixed-width values by their width.
pub(crate) fn size(array: &dyn Array, row: usize) -> usize {
    if array.is_null(row) {
        return 0;
    }
    match array.data_type() {
        DataType::Utf8 => array.as_string_opt::<i32>().map_or(0, |a| a.value(row).len()),
        DataType::LargeUtf8 => array.as_string_opt::<i64>().map_or(0, |a| a.value(row).len()),
        DataType::Utf8View => array.as_string_view_opt().map_or(0, |a| a.value(row).len()),
        DataType::Binary => array.as_binary_opt::<i32>().map_or(0, |a| a.value(row).len()),
        DataType::LargeBinary => array.as_binary_opt::<i64>().map_or(0, |a| a.value(row).len()),
        DataType::BinaryView => array.as_binary_view_opt().map_or(0, |a| a.value(row).len()),
        DataType::List(_) => {
            array.as_list_opt::<i32>().map_or(0, |a| range_size(a.values().as_ref(), a.value_offsets(), row))
        }
        DataType::LargeList(_) => {
            array.as_list_opt::<i64>().map_or(0, |a| range_size(a.values().as_ref(), a.value_offsets(), row))
        }
        DataType::Map(..) => array.as_map_opt().map_or(0, |a| {
            range_size(a.keys().as_ref(), a.value_offsets(), row)
                + range_size(a.values().as_ref(), a.value_offsets(), row)
        }),
        DataType::FixedSizeList(..) => array.as_fixed_size_list_opt().map_or(0, |a| {
            let len = a.value_length().max(0) as usize;
            let start = a.value_offset_at(row);
            (start..start + len).map(|i| size(a.values().as_ref(), i)).sum()
        }),
        DataType::Struct(_) => {
            array.as_struct_opt().map_or(0, |a| a.columns().iter().map(|c| size(c.as_ref(), row)).sum())
        }
        DataType::Union(..) => array.as_union_opt().map_or(0, |a| {
            let id = a.type_id(row);
            size(a.child(id).as_ref(), a.value_offset(row))
        }),
        other => other.primitive_width().unwrap_or(8),
    }
}

fn range_size<O: Copy + TryInto<usize>>(values: &dyn Array, offsets: &[O], row: usize) -> usize {
    let (Some(start), Some(end)) = (offsets.get(row), offsets.get(row + 1)) else { return 0 };
    let (Ok(start), Ok(end)) = ((*start).try_into(), (*end).try_into()) else { return 0 };
    (start..end).map(|i| size(values, i)).sum()
}

/// The cell of the value at `row` of a result column of type `ty`. A value that cannot be read
/// is an error (the caller names the column), never a replacement.
pub(crate) fn to_cell<'a>(ty: &Ty, array: &'a dyn Array, row: usize) -> Result<Cell<'a>, String> {
    to_cell_depth(ty, array, row, 0)
}

fn to_cell_depth<'a>(ty: &Ty, array: &'a dyn Array, row: usize, depth: usize) -> Result<Cell<'a>, String> {
    if row >= array.len() {
        return Err(format!("row {row} is outside the batch of {}", array.len()));
    }
    if array.is_null(row) {
        return Ok(Cell::Null);
    }
    // Arrow unions have no validity of their own: a NULL union is a NULL in its member.
    if let Some(union) = array.as_union_opt() {
        let child = union.child(union.type_id(row));
        if child.is_null(union.value_offset(row)) {
            return Ok(Cell::Null);
        }
    }
    if is_container(ty.id) {
        let mut out = Vec::new();
        write_json(ty, array, row, &mut out, depth)?;
        return String::from_utf8(out).map(|s| Cell::Text(Cow::Owned(s))).map_err(|e| e.to_string());
    }
    let mismatch = || format!("DuckDB sent {} as Arrow {}", ty.name, array.data_type());
    Ok(match array.data_type() {
        DataType::Null => Cell::Null,
        DataType::Boolean => Cell::Bool(array.as_boolean_opt().ok_or_else(mismatch)?.value(row)),
        DataType::Int8 => {
            Cell::Int(i64::from(array.as_primitive_opt::<Int8Type>().ok_or_else(mismatch)?.value(row)))
        }
        DataType::Int16 => {
            Cell::Int(i64::from(array.as_primitive_opt::<Int16Type>().ok_or_else(mismatch)?.value(row)))
        }
        DataType::Int32 => {
            Cell::Int(i64::from(array.as_primitive_opt::<Int32Type>().ok_or_else(mismatch)?.value(row)))
        }
        DataType::Int64 => Cell::Int(array.as_primitive_opt::<Int64Type>().ok_or_else(mismatch)?.value(row)),
        DataType::UInt8 => {
            Cell::Int(i64::from(array.as_primitive_opt::<UInt8Type>().ok_or_else(mismatch)?.value(row)))
        }
        DataType::UInt16 => {
            Cell::Int(i64::from(array.as_primitive_opt::<UInt16Type>().ok_or_else(mismatch)?.value(row)))
        }
        DataType::UInt32 => {
            Cell::Int(i64::from(array.as_primitive_opt::<UInt32Type>().ok_or_else(mismatch)?.value(row)))
        }
        DataType::UInt64 => {
            Cell::UInt(array.as_primitive_opt::<UInt64Type>().ok_or_else(mismatch)?.value(row))
        }
        DataType::Float16 => {
            Cell::Float(f64::from(array.as_primitive_opt::<Float16Type>().ok_or_else(mismatch)?.value(row)))
        }
        DataType::Float32 => Cell::Float(f32_shortest(
            array.as_primitive_opt::<Float32Type>().ok_or_else(mismatch)?.value(row),
        )),
        DataType::Float64 => {
            Cell::Float(array.as_primitive_opt::<Float64Type>().ok_or_else(mismatch)?.value(row))
        }
        DataType::Decimal32(_, scale) => {
            let v = array.as_primitive_opt::<Decimal32Type>().ok_or_else(mismatch)?.value(row);
            exact(ty, i128::from(v), *scale)
        }
        DataType::Decimal64(_, scale) => {
            let v = array.as_primitive_opt::<Decimal64Type>().ok_or_else(mismatch)?.value(row);
            exact(ty, i128::from(v), *scale)
        }
        DataType::Decimal128(_, scale) => {
            exact(ty, array.as_primitive_opt::<Decimal128Type>().ok_or_else(mismatch)?.value(row), *scale)
        }
        DataType::Decimal256(_, scale) => {
            let v = array.as_primitive_opt::<Decimal256Type>().ok_or_else(mismatch)?.value(row);
            Cell::Decimal(Cow::Owned(scaled_digits(&v.to_string(), *scale)))
        }
        DataType::Utf8 => text(ty, array.as_string_opt::<i32>().ok_or_else(mismatch)?.value(row))?,
        DataType::LargeUtf8 => text(ty, array.as_string_opt::<i64>().ok_or_else(mismatch)?.value(row))?,
        DataType::Utf8View => text(ty, array.as_string_view_opt().ok_or_else(mismatch)?.value(row))?,
        DataType::Binary => bytes(ty, array.as_binary_opt::<i32>().ok_or_else(mismatch)?.value(row))?,
        DataType::LargeBinary => bytes(ty, array.as_binary_opt::<i64>().ok_or_else(mismatch)?.value(row))?,
        DataType::BinaryView => bytes(ty, array.as_binary_view_opt().ok_or_else(mismatch)?.value(row))?,
        DataType::FixedSizeBinary(_) => {
            bytes(ty, array.as_fixed_size_binary_opt().ok_or_else(mismatch)?.value(row))?
        }
        DataType::Date32 => {
            let days = array.as_primitive_opt::<Date32Type>().ok_or_else(mismatch)?.value(row);
            let mut out = String::with_capacity(10);
            push_epoch_date(&mut out, i64::from(days));
            Cell::Text(Cow::Owned(out))
        }
        DataType::Date64 => {
            let ms = array.as_primitive_opt::<Date64Type>().ok_or_else(mismatch)?.value(row);
            let mut out = String::with_capacity(10);
            push_epoch_date(&mut out, ms.div_euclid(86_400_000));
            Cell::Text(Cow::Owned(out))
        }
        DataType::Time32(TimeUnit::Second) => {
            let s = array.as_primitive_opt::<Time32SecondType>().ok_or_else(mismatch)?.value(row);
            time_of_day(i64::from(s) * 1_000_000_000, 6)
        }
        DataType::Time32(TimeUnit::Millisecond) => {
            let ms = array.as_primitive_opt::<Time32MillisecondType>().ok_or_else(mismatch)?.value(row);
            time_of_day(i64::from(ms) * 1_000_000, 6)
        }
        // DuckDB's Arrow export drops a TIMETZ's offset and keeps the local time: writing that
        // time alone would silently change the value.
        DataType::Time64(_) if ty.id == Id::TimeTZ => {
            return Err("DuckDB hands TIME WITH TIME ZONE over without its offset".into());
        }
        DataType::Time64(TimeUnit::Microsecond) => {
            let us = array.as_primitive_opt::<Time64MicrosecondType>().ok_or_else(mismatch)?.value(row);
            time_of_day(us.saturating_mul(1_000), 6)
        }
        DataType::Time64(TimeUnit::Nanosecond) => {
            let ns = array.as_primitive_opt::<Time64NanosecondType>().ok_or_else(mismatch)?.value(row);
            time_of_day(ns, 9)
        }
        DataType::Timestamp(unit, tz) => {
            let (nanos, digits) = match unit {
                TimeUnit::Second => {
                    let v = array.as_primitive_opt::<TimestampSecondType>().ok_or_else(mismatch)?.value(row);
                    (i128::from(v) * 1_000_000_000, 6)
                }
                TimeUnit::Millisecond => {
                    let v =
                        array.as_primitive_opt::<TimestampMillisecondType>().ok_or_else(mismatch)?.value(row);
                    (i128::from(v) * 1_000_000, 6)
                }
                TimeUnit::Microsecond => {
                    let v =
                        array.as_primitive_opt::<TimestampMicrosecondType>().ok_or_else(mismatch)?.value(row);
                    (i128::from(v) * 1_000, 6)
                }
                TimeUnit::Nanosecond => {
                    let v =
                        array.as_primitive_opt::<TimestampNanosecondType>().ok_or_else(mismatch)?.value(row);
                    (i128::from(v), 9)
                }
            };
            Cell::Text(Cow::Owned(timestamp(nanos, digits, tz.is_some() || ty.id == Id::TimestampTZ)))
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let v = array.as_primitive_opt::<IntervalMonthDayNanoType>().ok_or_else(mismatch)?.value(row);
            Cell::Text(Cow::Owned(interval(v.months, v.days, v.nanoseconds)))
        }
        DataType::Dictionary(key, _) => match key.as_ref() {
            DataType::UInt8 => dictionary::<UInt8Type>(ty, array, row)?,
            DataType::UInt16 => dictionary::<UInt16Type>(ty, array, row)?,
            DataType::UInt32 => dictionary::<UInt32Type>(ty, array, row)?,
            DataType::Int8 => dictionary::<Int8Type>(ty, array, row)?,
            DataType::Int16 => dictionary::<Int16Type>(ty, array, row)?,
            DataType::Int32 => dictionary::<Int32Type>(ty, array, row)?,
            DataType::Int64 => dictionary::<Int64Type>(ty, array, row)?,
            _ => return Err(mismatch()),
        },
        _ => return Err(format!("{} has no reader here (Arrow {})", ty.name, array.data_type())),
    })
}

/// HUGEINT, UHUGEINT and DECIMAL share Arrow's 128-bit decimal; the DuckDB type says which.
/// Integers that fit 64 bits are integers; wider ones keep every digit as text (JSON numbers
/// beyond 2^53 are strings anyway).
fn exact(ty: &Ty, v: i128, scale: i8) -> Cell<'static> {
    match ty.id {
        Id::UHugeint => {
            // The unsigned value travels in the same 128 bits.
            let u = v as u128;
            match u64::try_from(u) {
                Ok(small) => Cell::UInt(small),
                Err(_) => Cell::Text(Cow::Owned(u.to_string())),
            }
        }
        Id::Hugeint | Id::Tinyint | Id::Smallint | Id::Integer | Id::Bigint => match i64::try_from(v) {
            Ok(small) => Cell::Int(small),
            Err(_) => Cell::Text(Cow::Owned(v.to_string())),
        },
        _ => Cell::Decimal(Cow::Owned(scaled_digits(&v.to_string(), scale))),
    }
}

/// The unscaled digits `digits` (with an optional `-`) with `scale` fraction digits: every digit
/// of the DECIMAL, trailing zeros kept (`DECIMAL(5,2)` 1.50 stays `1.50`).
pub(crate) fn scaled_digits(digits: &str, scale: i8) -> String {
    let (negative, magnitude) = match digits.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, digits),
    };
    let mut out = String::with_capacity(magnitude.len() + 3);
    if negative {
        out.push('-');
    }
    if scale <= 0 {
        out.push_str(magnitude);
        for _ in 0..scale.unsigned_abs() {
            if magnitude != "0" {
                out.push('0');
            }
        }
        return out;
    }
    let scale = scale as usize;
    if magnitude.len() <= scale {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - magnitude.len()));
        out.push_str(magnitude);
    } else {
        let (int, frac) = magnitude.split_at(magnitude.len() - scale);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
    out
}

fn text<'a>(ty: &Ty, value: &'a str) -> Result<Cell<'a>, String> {
    match ty.id {
        // DuckDB exports BIGNUM as its decimal text in some versions; it is an integer of any size.
        Id::Bignum => Ok(Cell::Text(Cow::Borrowed(value))),
        _ => Ok(Cell::Text(Cow::Borrowed(value))),
    }
}

fn bytes<'a>(ty: &Ty, value: &'a [u8]) -> Result<Cell<'a>, String> {
    Ok(match ty.id {
        Id::Bit => Cell::Text(Cow::Owned(bit_string(value)?)),
        Id::Geometry => Cell::Text(Cow::Owned(wkb_to_wkt(value)?)),
        Id::Uuid => Cell::Text(Cow::Owned(uuid(value)?)),
        Id::Varchar | Id::Enum => Cell::Text(Cow::Borrowed(utf8(value)?)),
        Id::Bignum => {
            return Err(
                "BIGNUM has no reader here; CAST(col AS VARCHAR) in the query returns its digits".into()
            )
        }
        _ => Cell::Bytes(Cow::Borrowed(value)),
    })
}

/// DuckDB's BIT layout: one byte telling how many leading bits of the first data byte are
/// padding, then the bits, most significant first.
pub(crate) fn bit_string(value: &[u8]) -> Result<String, String> {
    let (&padding, data) = value.split_first().ok_or("an empty BIT value")?;
    if padding > 7 || (data.is_empty() && padding != 0) {
        return Err(format!("a BIT value with {padding} bits of padding"));
    }
    let mut out = String::with_capacity(data.len() * 8);
    for (i, byte) in data.iter().enumerate() {
        let first = if i == 0 { padding } else { 0 };
        for bit in first..8 {
            out.push(if byte & (0x80 >> bit) != 0 { '1' } else { '0' });
        }
    }
    Ok(out)
}

pub(crate) fn uuid(value: &[u8]) -> Result<String, String> {
    if value.len() != 16 {
        return Err(format!("a UUID of {} bytes", value.len()));
    }
    let mut out = String::with_capacity(36);
    for (i, b) in value.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{b:02x}");
    }
    Ok(out)
}

fn dictionary<'a, K: ArrowDictionaryKeyType>(
    ty: &Ty,
    array: &'a dyn Array,
    row: usize,
) -> Result<Cell<'a>, String>
where
    K::Native: TryInto<usize>,
{
    let dict = array.as_dictionary_opt::<K>().ok_or_else(|| format!("{} is not a dictionary", ty.name))?;
    let key = dict.keys().value(row).try_into().map_err(|_| "a negative ENUM index".to_string())?;
    let values = dict.values();
    if key >= values.len() {
        return Err(format!("ENUM index {key} is outside its {} values", values.len()));
    }
    to_cell_depth(&Ty::leaf(Id::Varchar, &ty.name), values.as_ref(), key, 0)
}

/// `HH:MM:SS[.ffffff]` (or nine digits for nanosecond types) from nanoseconds since midnight.
fn time_of_day(nanos: i64, digits: usize) -> Cell<'static> {
    let mut out = String::with_capacity(18);
    push_time_nanos(&mut out, i128::from(nanos.max(0)), digits);
    Cell::Text(Cow::Owned(out))
}

fn push_time_nanos(out: &mut String, nanos: i128, digits: usize) {
    let secs = (nanos / 1_000_000_000) as u64;
    let sub = (nanos % 1_000_000_000) as u64;
    let (h, m, s) = (secs / 3600, (secs / 60 % 60) as u8, (secs % 60) as u8);
    if digits == 9 {
        push_time(out, h, m, s, 0);
        if sub != 0 {
            let _ = write!(out, ".{sub:09}");
        }
    } else {
        push_time(out, h, m, s, (sub / 1_000) as u32);
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.ffffff]`, with `+00:00` for TIMESTAMP WITH TIME ZONE (an instant, which
/// DuckDB hands over in UTC). DuckDB's `infinity` timestamps are the extreme values.
pub(crate) fn timestamp(nanos: i128, digits: usize, utc: bool) -> String {
    const DAY: i128 = 86_400_000_000_000;
    let mut out = String::with_capacity(32);
    let infinite = match digits {
        9 => nanos == i128::from(i64::MAX) || nanos == -i128::from(i64::MAX),
        _ => nanos == i128::from(i64::MAX) * 1_000 || nanos == -i128::from(i64::MAX) * 1_000,
    };
    if infinite {
        return if nanos > 0 { "infinity".into() } else { "-infinity".into() };
    }
    let days = nanos.div_euclid(DAY);
    let in_day = nanos.rem_euclid(DAY);
    push_epoch_date(&mut out, days as i64);
    out.push('T');
    push_time_nanos(&mut out, in_day, digits);
    if utc {
        out.push_str("+00:00");
    }
    out
}

/// DuckDB's own interval text (`CAST(i AS VARCHAR)`): `1 year 2 months 3 days 04:05:06.5`,
/// `00:00:00` for an empty interval.
pub(crate) fn interval(months: i32, days: i32, nanos: i64) -> String {
    let mut out = String::new();
    let mut part = |n: i64, unit: &str| {
        if n != 0 {
            if !out.is_empty() {
                out.push(' ');
            }
            let plural = if n == 1 || n == -1 { "" } else { "s" };
            let _ = write!(out, "{n} {unit}{plural}");
        }
    };
    let years = i64::from(months) / 12;
    part(years, "year");
    part(i64::from(months) % 12, "month");
    part(i64::from(days), "day");
    let micros = nanos / 1_000;
    if micros != 0 {
        if !out.is_empty() {
            out.push(' ');
        }
        if micros < 0 {
            out.push('-');
        }
        let m = micros.unsigned_abs();
        let secs = m / 1_000_000;
        let _ = write!(out, "{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
        push_trimmed_fraction(&mut out, m % 1_000_000, 6);
    }
    if out.is_empty() {
        out.push_str("00:00:00");
    }
    out
}

/// A container value as JSON: LIST and ARRAY as arrays, STRUCT and MAP as objects (MAP keys as
/// their text), UNION as the value of its member. Values inside follow the top-level rules.
fn write_json(ty: &Ty, array: &dyn Array, row: usize, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("values nested more than {MAX_DEPTH} deep"));
    }
    if row >= array.len() {
        return Err(format!("row {row} is outside the batch of {}", array.len()));
    }
    if array.is_null(row) {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    if !is_container(ty.id) {
        let cell = to_cell_depth(ty, array, row, depth)?;
        write_json_value(&cell, out);
        return Ok(());
    }
    let mismatch = || format!("DuckDB sent {} as Arrow {}", ty.name, array.data_type());
    match ty.id {
        Id::List | Id::Array => {
            let element = ty.child(0)?;
            let (values, start, end) = match array.data_type() {
                DataType::List(_) => {
                    let a = array.as_list_opt::<i32>().ok_or_else(mismatch)?;
                    let o = a.value_offsets();
                    (a.values(), o[row] as usize, o[row + 1] as usize)
                }
                DataType::LargeList(_) => {
                    let a = array.as_list_opt::<i64>().ok_or_else(mismatch)?;
                    let o = a.value_offsets();
                    (a.values(), o[row] as usize, o[row + 1] as usize)
                }
                DataType::FixedSizeList(..) => {
                    let a = array.as_fixed_size_list_opt().ok_or_else(mismatch)?;
                    let start = a.value_offset_at(row);
                    (a.values(), start, start + a.value_length().max(0) as usize)
                }
                _ => return Err(mismatch()),
            };
            out.push(b'[');
            for (n, i) in (start..end).enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                write_json(element, values.as_ref(), i, out, depth + 1)?;
            }
            out.push(b']');
        }
        Id::Struct => {
            let a = array.as_struct_opt().ok_or_else(mismatch)?;
            out.push(b'{');
            for (i, column) in a.columns().iter().enumerate() {
                let (name, field) = ty.children.get(i).ok_or_else(mismatch)?;
                if i > 0 {
                    out.push(b',');
                }
                crate::format::write_json_str(name, out);
                out.push(b':');
                write_json(field, column.as_ref(), row, out, depth + 1)?;
            }
            out.push(b'}');
        }
        Id::Map => {
            let a = array.as_map_opt().ok_or_else(mismatch)?;
            let (key_ty, value_ty) = (ty.child(0)?, ty.child(1)?);
            let o = a.value_offsets();
            let (start, end) = (o[row] as usize, o[row + 1] as usize);
            out.push(b'{');
            for (n, i) in (start..end).enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                let mut key = Vec::new();
                write_json(key_ty, a.keys().as_ref(), i, &mut key, depth + 1)?;
                if key.first() == Some(&b'"') {
                    out.extend_from_slice(&key);
                } else {
                    crate::format::write_json_str(&String::from_utf8_lossy(&key), out);
                }
                out.push(b':');
                write_json(value_ty, a.values().as_ref(), i, out, depth + 1)?;
            }
            out.push(b'}');
        }
        Id::Union => {
            let a = array.as_union_opt().ok_or_else(mismatch)?;
            let type_id = a.type_id(row);
            let DataType::Union(fields, _) = array.data_type() else { return Err(mismatch()) };
            let member = fields.iter().position(|(id, _)| id == type_id).ok_or_else(mismatch)?;
            write_json(ty.child(member)?, a.child(type_id).as_ref(), a.value_offset(row), out, depth + 1)?;
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use duckdb::arrow::array::{
        ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Int32Array,
        Int64Array, IntervalMonthDayNanoArray, ListArray, StringArray, StructArray, Time64MicrosecondArray,
        TimestampMicrosecondArray, TimestampNanosecondArray, UInt64Array,
    };
    use duckdb::arrow::datatypes::{Field, IntervalMonthDayNano};
    use std::sync::Arc;

    fn cell(ty: &Ty, array: &dyn Array) -> Cell<'static> {
        match to_cell(ty, array, 0).unwrap() {
            Cell::Text(t) => Cell::Text(Cow::Owned(t.into_owned())),
            Cell::Decimal(t) => Cell::Decimal(Cow::Owned(t.into_owned())),
            Cell::Bytes(b) => Cell::Bytes(Cow::Owned(b.into_owned())),
            Cell::Null => Cell::Null,
            Cell::Bool(b) => Cell::Bool(b),
            Cell::Int(v) => Cell::Int(v),
            Cell::UInt(v) => Cell::UInt(v),
            Cell::Float(v) => Cell::Float(v),
        }
    }

    fn text(s: &str) -> Cell<'static> {
        Cell::Text(Cow::Owned(s.to_string()))
    }

    #[test]
    fn integers_and_floats() {
        assert_eq!(cell(&Ty::leaf(Id::Integer, "INTEGER"), &Int32Array::from(vec![-7])), Cell::Int(-7));
        assert_eq!(
            cell(&Ty::leaf(Id::Bigint, "BIGINT"), &Int64Array::from(vec![i64::MIN])),
            Cell::Int(i64::MIN)
        );
        assert_eq!(
            cell(&Ty::leaf(Id::UBigint, "UBIGINT"), &UInt64Array::from(vec![u64::MAX])),
            Cell::UInt(u64::MAX)
        );
        assert_eq!(cell(&Ty::leaf(Id::Float, "FLOAT"), &Float32Array::from(vec![1.1f32])), Cell::Float(1.1));
        assert_eq!(
            cell(&Ty::leaf(Id::Boolean, "BOOLEAN"), &BooleanArray::from(vec![true])),
            Cell::Bool(true)
        );
        let nulls = Int32Array::from(vec![None::<i32>]);
        assert_eq!(cell(&Ty::leaf(Id::Integer, "INTEGER"), &nulls), Cell::Null);
    }

    #[test]
    fn hugeint_uhugeint_and_decimal_share_arrow_decimal128() {
        let d =
            |v: i128, p: u8, s: i8| Decimal128Array::from(vec![v]).with_precision_and_scale(p, s).unwrap();
        let huge = Ty::leaf(Id::Hugeint, "HUGEINT");
        assert_eq!(cell(&huge, &d(i128::MIN, 38, 0)), text("-170141183460469231731687303715884105728"));
        assert_eq!(cell(&huge, &d(42, 38, 0)), Cell::Int(42));
        let uhuge = Ty::leaf(Id::UHugeint, "UHUGEINT");
        assert_eq!(cell(&uhuge, &d(-1, 38, 0)), text("340282366920938463463374607431768211455"));
        assert_eq!(cell(&uhuge, &d(7, 38, 0)), Cell::UInt(7));
        let dec = Ty::leaf(Id::Decimal, "DECIMAL(38,0)");
        assert_eq!(cell(&dec, &d(12, 38, 0)), Cell::Decimal("12".into()));
        let dec = Ty::leaf(Id::Decimal, "DECIMAL(10,3)");
        assert_eq!(cell(&dec, &d(-1500, 10, 3)), Cell::Decimal("-1.500".into()));
        assert_eq!(cell(&dec, &d(5, 10, 3)), Cell::Decimal("0.005".into()));
        assert_eq!(scaled_digits("-5", 3), "-0.005");
        assert_eq!(scaled_digits("123", 0), "123");
    }

    #[test]
    fn text_blob_uuid_bit() {
        assert_eq!(
            cell(&Ty::leaf(Id::Varchar, "VARCHAR"), &StringArray::from(vec!["héllo 😀"])),
            text("héllo 😀")
        );
        let blob = BinaryArray::from(vec![&[0u8, 255, 16][..]]);
        assert_eq!(cell(&Ty::leaf(Id::Blob, "BLOB"), &blob), Cell::Bytes(Cow::Owned(vec![0, 255, 16])));
        // BIT '10101' is 3 bits of padding then 10101.
        let bits = BinaryArray::from(vec![&[3u8, 0b1111_0101][..]]);
        assert_eq!(cell(&Ty::leaf(Id::Bit, "BIT"), &bits), text("10101"));
        assert!(bit_string(&[]).is_err());
        assert!(bit_string(&[9, 0]).is_err());
        let id = [
            0xa0u8, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11,
        ];
        assert_eq!(uuid(&id).unwrap(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        let uuid_text = StringArray::from(vec!["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]);
        assert_eq!(
            cell(&Ty::leaf(Id::Uuid, "UUID"), &uuid_text),
            text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
        );
        let bad = BinaryArray::from(vec![&[0xffu8][..]]);
        assert!(to_cell(&Ty::leaf(Id::Varchar, "VARCHAR"), &bad, 0).unwrap_err().starts_with("not UTF-8"));
    }

    #[test]
    fn dates_times_timestamps_intervals() {
        assert_eq!(cell(&Ty::leaf(Id::Date, "DATE"), &Date32Array::from(vec![19_782])), text("2024-02-29"));
        let t = Time64MicrosecondArray::from(vec![(13 * 3600 + 5 * 60 + 6) * 1_000_000 + 250_000]);
        assert_eq!(cell(&Ty::leaf(Id::Time, "TIME"), &t), text("13:05:06.250000"));
        let ts = TimestampMicrosecondArray::from(vec![1_704_164_645_123_456]);
        assert_eq!(cell(&Ty::leaf(Id::Timestamp, "TIMESTAMP"), &ts), text("2024-01-02T03:04:05.123456"));
        let tz = TimestampMicrosecondArray::from(vec![1_704_164_645_000_000]).with_timezone("UTC");
        assert_eq!(
            cell(&Ty::leaf(Id::TimestampTZ, "TIMESTAMP WITH TIME ZONE"), &tz),
            text("2024-01-02T03:04:05+00:00")
        );
        let ns = TimestampNanosecondArray::from(vec![1_704_164_645_000_000_001]);
        assert_eq!(
            cell(&Ty::leaf(Id::TimestampNs, "TIMESTAMP_NS"), &ns),
            text("2024-01-02T03:04:05.000000001")
        );
        let before = TimestampMicrosecondArray::from(vec![-1]);
        assert_eq!(cell(&Ty::leaf(Id::Timestamp, "TIMESTAMP"), &before), text("1969-12-31T23:59:59.999999"));
        let inf = TimestampMicrosecondArray::from(vec![i64::MAX]);
        assert_eq!(cell(&Ty::leaf(Id::Timestamp, "TIMESTAMP"), &inf), text("infinity"));
        let i = IntervalMonthDayNanoArray::from(vec![IntervalMonthDayNano::new(14, 3, 14_706_500_000_000)]);
        assert_eq!(cell(&Ty::leaf(Id::Interval, "INTERVAL"), &i), text("1 year 2 months 3 days 04:05:06.5"));
        assert_eq!(interval(0, 0, 0), "00:00:00");
        assert_eq!(interval(1, -1, -1_000_000_000), "1 month -1 day -00:00:01");
        assert_eq!(interval(-12, 0, 0), "-1 year");
    }

    #[test]
    fn containers_become_json_text() {
        let int = Ty::leaf(Id::Integer, "INTEGER");
        let list_ty =
            Ty { id: Id::List, name: "INTEGER[]".into(), children: vec![(String::new(), int.clone())] };
        let list =
            ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1), None, Some(3)])]);
        assert_eq!(cell(&list_ty, &list), text("[1,null,3]"));
        let name = Ty::leaf(Id::Varchar, "VARCHAR");
        let struct_ty = Ty {
            id: Id::Struct,
            name: "STRUCT(id INTEGER, name VARCHAR)".into(),
            children: vec![("id".into(), int), ("name".into(), name)],
        };
        let s = StructArray::from(vec![
            (
                Arc::new(Field::new("id", DataType::Int32, true)),
                Arc::new(Int32Array::from(vec![7])) as ArrayRef,
            ),
            (
                Arc::new(Field::new("name", DataType::Utf8, true)),
                Arc::new(StringArray::from(vec!["x\"y"])) as ArrayRef,
            ),
        ]);
        assert_eq!(cell(&struct_ty, &s), text("{\"id\":7,\"name\":\"x\\\"y\"}"));
    }
}
