//! The Arrow IPC stream format (`application/vnd.apache.arrow.stream`), fed the same `Cell`s as
//! the text formats. Rows are gathered into column builders and written as one record batch per
//! `BATCH_ROWS` rows (or `BATCH_BYTES` of values), so memory stays bounded like the text formats.
//!
//! Arrow needs one type per column, fixed by the schema that opens the stream. A column's type
//! comes from its kind (docs/type-mapping.md) and, where the kind leaves it open (SQLite's
//! untyped expressions, a decimal's scale, whether a timestamp carries a zone), from the column's
//! first non-null value; a column still all-null when the first batch is written becomes Utf8.
//! A later value that does not fit its column's type fails the query with the column named,
//! rather than being rounded or dropped.

use crate::cell::{Cell, Column, ColumnKind};
use crate::error::ConnectorError;
use crate::format::{normalize_decimal, write_json_value};
use crate::sink::RowBlock;
use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, GenericByteBuilder,
    Int64Builder, PrimitiveBuilder, StringBuilder, Time64MicrosecondBuilder, TimestampMicrosecondBuilder,
    UInt64Builder,
};
use arrow_array::types::ByteArrayType;
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, RecordBatch};
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{Field, Schema};
use base64::Engine as _;
use std::ops::Range;
use std::sync::Arc;

/// Rows per record batch: large enough that per-batch overhead vanishes (4096 rather than 16384
/// cost 0.5% more instructions on the bench's 1M rows), small enough that a batch of wide rows
/// stays within a few hundred KiB (the smaller batches lowered the Arrow series' peak RSS).
const BATCH_ROWS: usize = 4 * 1024;
/// A batch is also written once its values take about this many bytes (long text, blobs).
const BATCH_BYTES: usize = 4 << 20;
/// The largest precision Decimal128 holds.
const MAX_DECIMAL128_PRECISION: u8 = 38;

enum Builder {
    /// No non-null value seen yet; the number of nulls so far.
    Undecided(usize),
    Int(Int64Builder),
    UInt(UInt64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    Text(StringBuilder),
    Binary(BinaryBuilder),
    Decimal(Decimal128Builder, i8),
    Date(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
    Time(Time64MicrosecondBuilder),
}

pub(crate) struct ArrowEncoder {
    columns: Vec<Column>,
    builders: Vec<Builder>,
    /// The schema, fixed when the first batch is written.
    schema: Option<Arc<Schema>>,
    writer: Option<StreamWriter<Vec<u8>>>,
    column: usize,
    batch_rows: usize,
    batch_bytes: usize,
    rows: u64,
    error: Option<ConnectorError>,
}

impl ArrowEncoder {
    pub(crate) fn new(columns: &[Column]) -> Self {
        Self {
            columns: columns.to_vec(),
            builders: columns.iter().map(|_| Builder::Undecided(0)).collect(),
            schema: None,
            writer: None,
            column: 0,
            batch_rows: 0,
            batch_bytes: 0,
            rows: 0,
            error: None,
        }
    }

    /// The first error met, once; the sink fails the query with it at the end of the row.
    pub(crate) fn take_error(&mut self) -> Option<ConnectorError> {
        self.error.take()
    }

    pub(crate) fn begin_row(&mut self) {
        self.column = 0;
    }

    pub(crate) fn cell(&mut self, cell: &Cell<'_>) {
        let index = self.column;
        self.column += 1;
        if self.error.is_some() {
            return;
        }
        let Some(column) = self.columns.get(index) else {
            self.error = Some(ConnectorError::internal("a row has more values than the result has columns"));
            return;
        };
        let decided = self.schema.is_some();
        let Some(builder) = self.builders.get_mut(index) else { return };
        self.batch_bytes += cell_bytes(cell);
        if let Err(what) = append(builder, column, cell, decided) {
            self.error = Some(does_not_fit(column, self.rows + 1, what));
        }
    }

    /// Appends rows `rows` of `block`, a column at a time, up to the end of the record batch;
    /// returns how many rows it took. Fails as `cell` row after row would have: of the values
    /// that fail, the first in row order, where a value the engine cannot show comes before
    /// one that does not fit its Arrow column (that error waited for the end of its row).
    pub(crate) fn append_block<B: RowBlock>(
        &mut self,
        block: &B,
        rows: Range<usize>,
        out: &mut Vec<u8>,
    ) -> Result<usize, ConnectorError> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        if block.width() != self.columns.len() {
            return Err(ConnectorError::internal("a row's values do not match the result's columns"));
        }
        let taken = rows.len().min(BATCH_ROWS.saturating_sub(self.batch_rows).max(1));
        let rows = rows.start..rows.start + taken;
        let decided = self.schema.is_some();
        let mut first: Option<Failure> = None;
        for (index, (builder, column)) in self.builders.iter_mut().zip(&self.columns).enumerate() {
            match append_column(builder, column, block, index, rows.clone(), decided) {
                Ok(bytes) => self.batch_bytes += bytes,
                Err(failure) => {
                    if first.as_ref().is_none_or(|f| failure.order() < f.order()) {
                        first = Some(failure);
                    }
                }
            }
        }
        if let Some(failure) = first {
            return Err(match failure.why {
                Why::Unreadable(error) => error,
                Why::DoesNotFit(what) => {
                    let row = self.rows + (failure.row - rows.start) as u64 + 1;
                    match self.columns.get(failure.column) {
                        Some(column) => does_not_fit(column, row, what),
                        None => ConnectorError::internal("a value outside the result's columns"),
                    }
                }
            });
        }
        self.rows += taken as u64;
        self.batch_rows += taken;
        if self.batch_rows >= BATCH_ROWS || self.batch_bytes >= BATCH_BYTES {
            self.write_batch(out);
        }
        match self.error.take() {
            Some(error) => Err(error),
            None => Ok(taken),
        }
    }

    pub(crate) fn end_row(&mut self, out: &mut Vec<u8>) {
        self.rows += 1;
        self.batch_rows += 1;
        if self.batch_rows >= BATCH_ROWS || self.batch_bytes >= BATCH_BYTES {
            self.write_batch(out);
        }
    }

    /// Writes the last batch (or only the schema, for an empty result) and the end-of-stream mark.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        if self.batch_rows > 0 || self.writer.is_none() {
            self.write_batch(out);
        }
        if let Some(writer) = self.writer.as_mut() {
            if let Err(e) = writer.finish() {
                self.error.get_or_insert(ConnectorError::internal(format!("arrow: {e}")));
            }
            drain(writer, out);
        }
    }

    fn write_batch(&mut self, out: &mut Vec<u8>) {
        if self.error.is_some() {
            return;
        }
        let rows = self.batch_rows;
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().map(|b| finish_builder(b, rows)).collect();
        let schema = match &self.schema {
            Some(schema) => schema.clone(),
            None => {
                let fields: Vec<Field> = self
                    .columns
                    .iter()
                    .zip(&arrays)
                    .map(|(c, a)| Field::new(c.name.clone(), a.data_type().clone(), true))
                    .collect();
                let schema = Arc::new(Schema::new(fields));
                self.schema = Some(schema.clone());
                schema
            }
        };
        let written = RecordBatch::try_new(schema.clone(), arrays).and_then(|batch| {
            let writer = match self.writer.as_mut() {
                Some(writer) => writer,
                None => self.writer.insert(StreamWriter::try_new(Vec::new(), &schema)?),
            };
            writer.write(&batch)?;
            drain(writer, out);
            Ok(())
        });
        if let Err(e) = written {
            self.error = Some(ConnectorError::internal(format!("arrow: {e}")));
        }
        self.batch_rows = 0;
        self.batch_bytes = 0;
    }
}

fn does_not_fit(column: &Column, row: u64, what: &str) -> ConnectorError {
    ConnectorError::unsupported(format!(
        "column \"{}\" (row {row}) holds {what}, which does not fit the Arrow type the column got \
         from its type and first values; CAST the column to one type in the SQL, or ask for JSON or CSV",
        column.name
    ))
}

/// The first value of a block's column that failed.
struct Failure {
    row: usize,
    column: usize,
    why: Why,
}

enum Why {
    /// The engine cannot show the value (text that is not UTF-8, ...).
    Unreadable(ConnectorError),
    /// The value does not fit the column's Arrow type.
    DoesNotFit(&'static str),
}

impl Failure {
    /// Row by row, the first failing row's error is that of an unreadable value if it has one
    /// (it ended the row at once), else that of its first value that did not fit.
    fn order(&self) -> (usize, bool, usize) {
        (self.row, matches!(self.why, Why::DoesNotFit(_)), self.column)
    }
}

/// Appends one column of a block's rows; the bytes it took, or its first value that failed.
fn append_column<B: RowBlock>(
    builder: &mut Builder,
    column: &Column,
    block: &B,
    index: usize,
    rows: Range<usize>,
    decided: bool,
) -> Result<usize, Failure> {
    let mut bytes = 0;
    for row in rows {
        let cell = block.cell(row, index).map_err(|error| Failure {
            row,
            column: index,
            why: Why::Unreadable(error),
        })?;
        bytes += cell_bytes(&cell);
        // The common pairs here, in the loop; `append` (out of line) has every rule.
        match (&mut *builder, &cell) {
            (Builder::Float(b), Cell::Float(v)) if v.is_finite() => b.append_value(*v),
            (Builder::Int(b), Cell::Int(v)) => b.append_value(*v),
            (Builder::Text(b), Cell::Text(t)) => b.append_value(t),
            _ => append(builder, column, &cell, decided).map_err(|what| Failure {
                row,
                column: index,
                why: Why::DoesNotFit(what),
            })?,
        }
    }
    Ok(bytes)
}

/// Moves what the writer wrote to `out`: by swapping buffers when `out` is empty (it is when the
/// previous batch filled at least a chunk and the sink took it), which saves copying the batch.
fn drain(writer: &mut StreamWriter<Vec<u8>>, out: &mut Vec<u8>) {
    let buffer = writer.get_mut();
    if out.is_empty() {
        let written = buffer.len();
        std::mem::swap(buffer, out);
        // The next batch is about as large: one allocation rather than a series of doublings.
        buffer.reserve(written);
    } else {
        out.extend_from_slice(buffer);
    }
    buffer.clear();
}

fn cell_bytes(cell: &Cell<'_>) -> usize {
    match cell {
        Cell::Text(t) | Cell::Decimal(t) => t.len() + 4,
        Cell::Bytes(b) => b.len() + 4,
        _ => 8,
    }
}

/// Ends the batch's array for one column. A column still undecided after the first batch
/// becomes Utf8 (all null so far); later values are written as text.
fn finish_builder(builder: &mut Builder, rows: usize) -> ArrayRef {
    match builder {
        Builder::Undecided(nulls) => {
            let mut text = StringBuilder::with_capacity(rows, 0);
            text.append_nulls(*nulls);
            let array: ArrayRef = Arc::new(text.finish());
            *builder = Builder::Text(text);
            array
        }
        Builder::Int(b) => finish_primitive(b),
        Builder::UInt(b) => finish_primitive(b),
        Builder::Float(b) => finish_primitive(b),
        Builder::Bool(b) => {
            let array = b.finish();
            *b = BooleanBuilder::with_capacity(BATCH_ROWS);
            Arc::new(array)
        }
        Builder::Text(b) => finish_bytes(b),
        Builder::Binary(b) => finish_bytes(b),
        Builder::Decimal(b, _) => finish_primitive(b),
        Builder::Date(b) => finish_primitive(b),
        Builder::Timestamp(b) => finish_primitive(b),
        Builder::Time(b) => finish_primitive(b),
    }
}

// `finish` leaves a builder without capacity, so the next batch would grow it by doubling and
// copy its values at each step (about the result's size again, in `memmove`): each batch
// starts at the size the last one needed instead.
fn finish_primitive<T: ArrowPrimitiveType>(builder: &mut PrimitiveBuilder<T>) -> ArrayRef {
    let array = builder.finish();
    *builder = PrimitiveBuilder::with_capacity(BATCH_ROWS).with_data_type(array.data_type().clone());
    Arc::new(array)
}

fn finish_bytes<T: ByteArrayType>(builder: &mut GenericByteBuilder<T>) -> ArrayRef {
    let array = builder.finish();
    *builder = GenericByteBuilder::with_capacity(BATCH_ROWS, array.value_data().len());
    Arc::new(array)
}

/// Picks the builder for a column from its kind and first non-null value.
fn decide(column: &Column, cell: &Cell<'_>, nulls: usize) -> Builder {
    let capacity = BATCH_ROWS;
    let mut builder = match (column.kind, cell) {
        (ColumnKind::Decimal, Cell::Decimal(digits)) => match decimal_shape(&column.db_type, digits) {
            Some((precision, scale)) => {
                match Decimal128Builder::with_capacity(capacity).with_precision_and_scale(precision, scale) {
                    Ok(b) => Builder::Decimal(b, scale),
                    Err(_) => Builder::Text(StringBuilder::with_capacity(capacity, capacity * 8)),
                }
            }
            None => Builder::Text(StringBuilder::with_capacity(capacity, capacity * 8)),
        },
        (ColumnKind::Date, Cell::Text(t)) if parse_date(t).is_some() => {
            Builder::Date(Date32Builder::with_capacity(capacity))
        }
        (ColumnKind::DateTime, Cell::Text(t)) => match parse_timestamp(t) {
            Some((_, true)) => {
                Builder::Timestamp(TimestampMicrosecondBuilder::with_capacity(capacity).with_timezone("UTC"))
            }
            Some((_, false)) => Builder::Timestamp(TimestampMicrosecondBuilder::with_capacity(capacity)),
            None => Builder::Text(StringBuilder::with_capacity(capacity, capacity * 8)),
        },
        (ColumnKind::Time, Cell::Text(t)) if parse_time(t).is_some() => {
            Builder::Time(Time64MicrosecondBuilder::with_capacity(capacity))
        }
        (_, Cell::Int(_)) => Builder::Int(Int64Builder::with_capacity(capacity)),
        (_, Cell::UInt(_)) => Builder::UInt(UInt64Builder::with_capacity(capacity)),
        (_, Cell::Float(_)) => Builder::Float(Float64Builder::with_capacity(capacity)),
        (_, Cell::Bool(_)) => Builder::Bool(BooleanBuilder::with_capacity(capacity)),
        (_, Cell::Bytes(_)) => Builder::Binary(BinaryBuilder::with_capacity(capacity, capacity * 8)),
        _ => Builder::Text(StringBuilder::with_capacity(capacity, capacity * 8)),
    };
    for _ in 0..nulls {
        append_null(&mut builder);
    }
    builder
}

fn append_null(builder: &mut Builder) {
    match builder {
        Builder::Undecided(n) => *n += 1,
        Builder::Int(b) => b.append_null(),
        Builder::UInt(b) => b.append_null(),
        Builder::Float(b) => b.append_null(),
        Builder::Bool(b) => b.append_null(),
        Builder::Text(b) => b.append_null(),
        Builder::Binary(b) => b.append_null(),
        Builder::Decimal(b, _) => b.append_null(),
        Builder::Date(b) => b.append_null(),
        Builder::Timestamp(b) => b.append_null(),
        Builder::Time(b) => b.append_null(),
    }
}

/// Appends one value; `Err` names what did not fit. `decided`: the schema is written, so an
/// undecided column can no longer pick its type (it became Utf8 then).
fn append(
    builder: &mut Builder,
    column: &Column,
    cell: &Cell<'_>,
    decided: bool,
) -> Result<(), &'static str> {
    if matches!(cell, Cell::Null) || matches!(cell, Cell::Float(v) if !v.is_finite()) {
        append_null(builder);
        return Ok(());
    }
    if let Builder::Undecided(nulls) = *builder {
        debug_assert!(!decided, "the first batch turns undecided columns into text");
        *builder = decide(column, cell, nulls);
    }
    match (builder, cell) {
        (Builder::Int(b), Cell::Int(v)) => b.append_value(*v),
        (Builder::Int(b), Cell::UInt(v)) => {
            b.append_value(i64::try_from(*v).map_err(|_| "an unsigned integer beyond 2^63")?)
        }
        (Builder::UInt(b), Cell::UInt(v)) => b.append_value(*v),
        (Builder::UInt(b), Cell::Int(v)) => {
            b.append_value(u64::try_from(*v).map_err(|_| "a negative integer")?)
        }
        (Builder::Float(b), Cell::Float(v)) => b.append_value(*v),
        // Integers in a REAL column (SQLite stores 2.0 as 2): exact up to 2^53, as JSON has them.
        (Builder::Float(b), Cell::Int(v)) => b.append_value(*v as f64),
        (Builder::Bool(b), Cell::Bool(v)) => b.append_value(*v),
        (Builder::Binary(b), Cell::Bytes(v)) => b.append_value(v),
        (Builder::Binary(b), Cell::Text(v)) => b.append_value(v.as_bytes()),
        (Builder::Decimal(b, scale), Cell::Decimal(digits)) => b.append_value(
            decimal_value(digits, *scale).ok_or("a decimal with more digits than its column's scale")?,
        ),
        (Builder::Decimal(b, scale), Cell::Int(v)) => b.append_value(
            decimal_value(&v.to_string(), *scale).ok_or("an integer too large for the decimal")?,
        ),
        (Builder::Date(b), Cell::Text(t)) => b.append_value(parse_date(t).ok_or("text that is not a date")?),
        (Builder::Timestamp(b), Cell::Text(t)) => {
            b.append_value(parse_timestamp(t).ok_or("text that is not a timestamp")?.0)
        }
        (Builder::Time(b), Cell::Text(t)) => b.append_value(parse_time(t).ok_or("text that is not a time")?),
        (Builder::Text(b), cell) => match cell {
            Cell::Text(t) => b.append_value(t),
            Cell::Bytes(v) => b.append_value(base64::engine::general_purpose::STANDARD.encode(v)),
            Cell::Decimal(d) => b.append_value(normalize_decimal(d).as_deref().unwrap_or(&**d)),
            other => {
                let mut text = Vec::new();
                write_json_value(other, &mut text);
                b.append_value(String::from_utf8_lossy(&text));
            }
        },
        (_, Cell::Int(_) | Cell::UInt(_)) => return Err("an integer"),
        (_, Cell::Float(_)) => return Err("a floating-point number"),
        (_, Cell::Bool(_)) => return Err("a boolean"),
        (_, Cell::Bytes(_)) => return Err("binary data"),
        (_, Cell::Decimal(_)) => return Err("a decimal"),
        (_, Cell::Text(_)) => return Err("text"),
        (_, Cell::Null) => return Err("null"),
    }
    Ok(())
}

/// Precision and scale for a decimal column: the database's declared `(p,s)` when its type
/// name has them, else the scale of the first value (MySQL and Snowflake always print the
/// column's scale) at the widest precision. `None` when the values cannot fit Decimal128.
fn decimal_shape(db_type: &str, first: &str) -> Option<(u8, i8)> {
    let declared = db_type.split_once('(').and_then(|(_, rest)| {
        let inner = rest.split_once(')')?.0;
        let (p, s) = inner.split_once(',').unwrap_or((inner, "0"));
        Some((p.trim().parse::<u8>().ok()?, s.trim().parse::<i8>().ok()?))
    });
    match declared {
        Some((p, s)) if p <= MAX_DECIMAL128_PRECISION && s >= 0 && (s as u8) <= p => Some((p, s)),
        Some(_) => None,
        None => {
            let number = normalize_decimal(first)?;
            if number.contains(['e', 'E']) {
                return None;
            }
            let scale = number.split_once('.').map_or(0, |(_, f)| f.len());
            let scale = i8::try_from(scale).ok().filter(|s| *s as u8 <= MAX_DECIMAL128_PRECISION)?;
            Some((MAX_DECIMAL128_PRECISION, scale))
        }
    }
}

/// The decimal's digits as an integer at `scale`; `None` if it has more fractional digits
/// than the scale (that would round) or does not fit 38 digits.
fn decimal_value(text: &str, scale: i8) -> Option<i128> {
    let number = normalize_decimal(text)?;
    if number.contains(['e', 'E']) {
        return None;
    }
    let (negative, unsigned) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, &*number),
    };
    let (int_part, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let scale = usize::try_from(scale).ok()?;
    let frac = frac.trim_end_matches('0');
    if frac.len() > scale {
        return None;
    }
    let mut value: i128 = 0;
    for b in int_part.bytes().chain(frac.bytes()) {
        value = value.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    for _ in frac.len()..scale {
        value = value.checked_mul(10)?;
    }
    if value >= 10i128.pow(u32::from(MAX_DECIMAL128_PRECISION)) {
        return None;
    }
    Some(if negative { -value } else { value })
}

fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian `YYYY-MM-DD`.
fn parse_date(text: &str) -> Option<i32> {
    let (year, rest) = text.split_at_checked(4)?;
    let (month, day) = rest.strip_prefix('-')?.split_once('-')?;
    let (year, month, day) = (digits(year)?, digits(month)?, digits(day)?);
    if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    i32::try_from(days_from_civil(year, month, day)).ok()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Howard Hinnant's days-from-civil.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Microseconds since midnight of `HH:MM:SS[.ffffff]`.
fn parse_time(text: &str) -> Option<i64> {
    let (clock, frac) = text.split_once('.').unwrap_or((text, ""));
    let mut parts = clock.split(':');
    let (h, m, s) = (digits(parts.next()?)?, digits(parts.next()?)?, digits(parts.next()?)?);
    if parts.next().is_some() || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let micros = if frac.is_empty() {
        0
    } else {
        if frac.len() > 9 {
            return None;
        }
        let padded = format!("{frac:0<6}");
        // Digits beyond microseconds would be rounded away: refuse them unless zero.
        let (us, rest) = padded.split_at(6);
        if rest.bytes().any(|b| b != b'0') {
            return None;
        }
        digits(us)?
    };
    Some(((h * 60 + m) * 60 + s) * 1_000_000 + micros)
}

/// Microseconds since the epoch (UTC when an offset is given) of `YYYY-MM-DD[T ]HH:MM:SS[.f]`
/// with an optional `Z` or `±HH:MM` offset, and whether it had one.
fn parse_timestamp(text: &str) -> Option<(i64, bool)> {
    let (date, rest) = text.split_at_checked(10)?;
    let days = i64::from(parse_date(date)?);
    let rest = rest.strip_prefix(['T', ' '])?;
    let (clock, offset) = match rest.find(['Z', '+', '-']) {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let micros = parse_time(clock)?;
    let offset_micros = match offset {
        None => 0,
        Some("Z") => 0,
        Some(o) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (h, m) = o[1..].split_once(':').unwrap_or((&o[1..], "00"));
            let (h, m) = (digits(h)?, digits(m)?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 60 + m) * 60 * 1_000_000
        }
    };
    Some((days * 86_400_000_000 + micros - offset_micros, offset.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_times_and_timestamps_parse_exactly() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2024-03-01"), Some(19783));
        assert_eq!(parse_date("1969-12-31"), Some(-1));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2024-13-01"), None);
        assert_eq!(parse_time("01:02:03.5"), Some(3_723_500_000));
        assert_eq!(parse_time("01:02:03.1234567"), None);
        assert_eq!(parse_timestamp("1970-01-01T00:00:01+00:00"), Some((1_000_000, true)));
        assert_eq!(parse_timestamp("1970-01-01 02:00:00+02:00"), Some((0, true)));
        assert_eq!(parse_timestamp("1970-01-01T00:00:00.000001"), Some((1, false)));
        assert_eq!(parse_timestamp("infinity"), None);
    }

    #[test]
    fn decimals_keep_their_scale_or_refuse_to_round() {
        assert_eq!(decimal_shape("DECIMAL(10,2)", "1.00"), Some((10, 2)));
        assert_eq!(decimal_shape("numeric", "-12.340"), Some((38, 3)));
        assert_eq!(decimal_shape("NUMERIC(60,2)", "1.00"), None);
        assert_eq!(decimal_value("-12.34", 3), Some(-12340));
        assert_eq!(decimal_value("12.345", 2), None);
        assert_eq!(decimal_value("12.340", 2), Some(1234));
    }
}
