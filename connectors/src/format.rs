//! Output formats. One encoder per format, all fed the same `Cell`s, so the rules of
//! docs/type-mapping.md are implemented once: integers beyond ±(2^53−1) become strings, NaN/±Inf
//! become null, decimals keep their digits, binary becomes base64, keys follow column order.

use crate::arrow_stream::ArrowEncoder;
use crate::cell::{Cell, Column};
use crate::error::ConnectorError;
use crate::sink::RowBlock;
use base64::Engine as _;

/// The largest integer a JavaScript number holds exactly.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `[{"col":value,...},...]`
    Json,
    /// One JSON object per line.
    Ndjson,
    /// RFC 4180 CSV with a header line.
    Csv,
    /// Arrow IPC stream: typed columns in record batches (`arrow_stream.rs`).
    Arrow,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Ndjson => "application/x-ndjson",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Arrow => "application/vnd.apache.arrow.stream",
        }
    }
}

/// Writes rows of one result into a byte buffer in one format.
pub struct Encoder {
    format: Format,
    /// Per column, the ready-made `"name":` (JSON) prefix, computed once per result.
    keys: Vec<Vec<u8>>,
    column: usize,
    rows: u64,
    /// Set by `begin` for `Format::Arrow`.
    arrow: Option<Box<ArrowEncoder>>,
}

impl Encoder {
    pub fn new(format: Format) -> Self {
        Self { format, keys: Vec::new(), column: 0, rows: 0, arrow: None }
    }

    /// A value the format cannot hold (an Arrow column's type is fixed by its first values);
    /// the sink fails the query with it at the end of the row.
    pub fn take_error(&mut self) -> Option<ConnectorError> {
        self.arrow.as_mut().and_then(|a| a.take_error())
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Called once, before the first row (CSV writes its header line here).
    pub fn begin(&mut self, columns: &[Column], out: &mut Vec<u8>) {
        self.keys = columns
            .iter()
            .map(|c| {
                let mut key = Vec::with_capacity(c.name.len() + 3);
                write_json_str(&c.name, &mut key);
                key.push(b':');
                key
            })
            .collect();
        match self.format {
            Format::Json => out.push(b'['),
            Format::Ndjson => {}
            Format::Arrow => self.arrow = Some(Box::new(ArrowEncoder::new(columns))),
            Format::Csv => {
                for (i, c) in columns.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_csv_text(&c.name, out);
                }
                out.push(b'\n');
            }
        }
    }

    pub fn begin_row(&mut self, out: &mut Vec<u8>) {
        self.column = 0;
        match self.format {
            Format::Json => {
                if self.rows > 0 {
                    out.push(b',');
                }
                out.push(b'{');
            }
            Format::Ndjson => out.push(b'{'),
            Format::Csv => {}
            Format::Arrow => {
                if let Some(arrow) = self.arrow.as_mut() {
                    arrow.begin_row();
                }
            }
        }
    }

    pub fn cell(&mut self, cell: &Cell<'_>, out: &mut Vec<u8>) {
        let index = self.column;
        self.column += 1;
        match self.format {
            Format::Json | Format::Ndjson => {
                if index > 0 {
                    out.push(b',');
                }
                if let Some(key) = self.keys.get(index) {
                    out.extend_from_slice(key);
                }
                write_json_value(cell, out);
            }
            Format::Csv => {
                if index > 0 {
                    out.push(b',');
                }
                write_csv_value(cell, out);
            }
            Format::Arrow => {
                if let Some(arrow) = self.arrow.as_mut() {
                    arrow.cell(cell);
                }
            }
        }
    }

    /// Appends rows `rows` of `block` to an Arrow result (`ResultSink::write_block_blocking`);
    /// returns how many it took, fewer when a record batch fills first.
    pub(crate) fn append_block<B: RowBlock>(
        &mut self,
        block: &B,
        rows: std::ops::Range<usize>,
        out: &mut Vec<u8>,
    ) -> Result<usize, ConnectorError> {
        match self.arrow.as_mut() {
            Some(arrow) => arrow.append_block(block, rows, out),
            None => Err(ConnectorError::internal("rows were given by the block to a text format")),
        }
    }

    pub fn end_row(&mut self, out: &mut Vec<u8>) {
        self.rows += 1;
        match self.format {
            Format::Json => out.push(b'}'),
            Format::Ndjson => out.extend_from_slice(b"}\n"),
            Format::Csv => out.push(b'\n'),
            Format::Arrow => {
                if let Some(arrow) = self.arrow.as_mut() {
                    arrow.end_row(out);
                }
            }
        }
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        match self.format {
            Format::Json => out.push(b']'),
            Format::Arrow => {
                if let Some(arrow) = self.arrow.as_mut() {
                    arrow.finish(out);
                }
            }
            Format::Ndjson | Format::Csv => {}
        }
    }
}

/// Writes one value as JSON, by the rules of docs/type-mapping.md.
pub fn write_json_value(cell: &Cell<'_>, out: &mut Vec<u8>) {
    match cell {
        Cell::Null => out.extend_from_slice(b"null"),
        Cell::Bool(true) => out.extend_from_slice(b"true"),
        Cell::Bool(false) => out.extend_from_slice(b"false"),
        Cell::Int(v) => write_int(*v, out),
        Cell::UInt(v) => match i64::try_from(*v) {
            Ok(v) => write_int(v, out),
            Err(_) => {
                out.push(b'"');
                out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes());
                out.push(b'"');
            }
        },
        Cell::Float(v) => write_float(*v, out),
        Cell::Decimal(digits) => match normalize_decimal(digits) {
            Some(number) => out.extend_from_slice(number.as_bytes()),
            None if is_non_finite(digits) => out.extend_from_slice(b"null"),
            None => write_json_str(digits, out),
        },
        Cell::Text(text) => write_json_str(text, out),
        Cell::Bytes(bytes) => {
            out.push(b'"');
            write_base64(bytes, out);
            out.push(b'"');
        }
    }
}

fn write_int(v: i64, out: &mut Vec<u8>) {
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(v).as_bytes();
    if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&v) {
        out.extend_from_slice(digits);
    } else {
        out.push(b'"');
        out.extend_from_slice(digits);
        out.push(b'"');
    }
}

fn write_float(v: f64, out: &mut Vec<u8>) {
    if v.is_finite() {
        crate::render::number::write_shortest(v, out);
    } else {
        out.extend_from_slice(b"null");
    }
}

fn write_base64(bytes: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + base64::encoded_len(bytes.len(), true).unwrap_or(0), 0);
    let written =
        base64::engine::general_purpose::STANDARD.encode_slice(bytes, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
}

fn is_non_finite(digits: &str) -> bool {
    let t = digits.trim().trim_start_matches(['+', '-']);
    t.eq_ignore_ascii_case("nan") || t.eq_ignore_ascii_case("inf") || t.eq_ignore_ascii_case("infinity")
}

/// Returns the decimal as a valid JSON number text, keeping every digit: drops a leading `+`,
/// adds the `0` JSON needs in `.5`/`-.5`, strips leading zeros of the integer part. `None` when
/// the text is not a finite decimal number.
pub fn normalize_decimal(text: &str) -> Option<std::borrow::Cow<'_, str>> {
    let t = text.trim();
    let unsigned = t.strip_prefix('-').or_else(|| t.strip_prefix('+')).unwrap_or(t);
    let negative = t.starts_with('-');
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], Some(&mantissa[i + 1..])),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int_part) || (int_part.is_empty() && frac_part.is_none_or(str::is_empty)) {
        return None;
    }
    if let Some(frac) = frac_part {
        if frac.is_empty() || !digits(frac) {
            return None;
        }
    }
    if let Some(exp) = exponent {
        let e = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        if e.is_empty() || !digits(e) {
            return None;
        }
    }
    let int_trimmed = int_part.trim_start_matches('0');
    let canonical = !t.starts_with('+')
        && !int_part.is_empty()
        && (int_part == "0" || int_trimmed.len() == int_part.len());
    if canonical && t.len() == text.len() {
        return Some(std::borrow::Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(t.len() + 1);
    if negative {
        out.push('-');
    }
    out.push_str(if int_trimmed.is_empty() { "0" } else { int_trimmed });
    if let Some(frac) = frac_part {
        out.push('.');
        out.push_str(frac);
    }
    if let Some(exp) = exponent {
        out.push('e');
        out.push_str(exp);
    }
    Some(std::borrow::Cow::Owned(out))
}

/// JSON string with the escapes RFC 8259 requires.
pub fn write_json_str(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xf) as usize],
            ]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn write_csv_value(cell: &Cell<'_>, out: &mut Vec<u8>) {
    match cell {
        Cell::Null => {}
        Cell::Float(v) if !v.is_finite() => {}
        Cell::Float(v) => crate::render::number::write_shortest(*v, out),
        Cell::Int(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
        Cell::UInt(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
        Cell::Bool(v) => out.extend_from_slice(if *v { b"true" } else { b"false" }),
        Cell::Decimal(digits) => match normalize_decimal(digits) {
            Some(number) => out.extend_from_slice(number.as_bytes()),
            None if is_non_finite(digits) => {}
            None => write_csv_text(digits, out),
        },
        Cell::Text(text) => write_csv_text(text, out),
        Cell::Bytes(bytes) => write_base64(bytes, out),
    }
}

fn write_csv_text(text: &str, out: &mut Vec<u8>) {
    if text.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for part in text.split_inclusive('"') {
            out.extend_from_slice(part.as_bytes());
            if part.ends_with('"') {
                out.push(b'"');
            }
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::ColumnKind;
    use std::borrow::Cow;

    fn json(cell: Cell<'_>) -> String {
        let mut out = Vec::new();
        write_json_value(&cell, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn integers_beyond_2_pow_53_become_strings() {
        assert_eq!(json(Cell::Int(MAX_SAFE_INTEGER)), "9007199254740991");
        assert_eq!(json(Cell::Int(-MAX_SAFE_INTEGER)), "-9007199254740991");
        assert_eq!(json(Cell::Int(MAX_SAFE_INTEGER + 1)), "\"9007199254740992\"");
        assert_eq!(json(Cell::Int(i64::MIN)), "\"-9223372036854775808\"");
        assert_eq!(json(Cell::UInt(u64::MAX)), "\"18446744073709551615\"");
        assert_eq!(json(Cell::UInt(42)), "42");
    }

    #[test]
    fn floats_are_shortest_round_trip_and_non_finite_is_null() {
        assert_eq!(json(Cell::Float(448.638)), "448.638");
        assert_eq!(json(Cell::Float(0.1 + 0.2)), "0.30000000000000004");
        assert_eq!(json(Cell::Float(1.0)), "1.0");
        assert_eq!(json(Cell::Float(f64::NAN)), "null");
        assert_eq!(json(Cell::Float(f64::INFINITY)), "null");
        assert_eq!(json(Cell::Float(f64::NEG_INFINITY)), "null");
    }

    #[test]
    fn decimals_keep_their_digits() {
        let d = |s: &'static str| json(Cell::Decimal(Cow::Borrowed(s)));
        assert_eq!(
            d("12345678901234567890.123456789012345678901234567890"),
            "12345678901234567890.123456789012345678901234567890"
        );
        assert_eq!(d("-0.50"), "-0.50");
        assert_eq!(d(".5"), "0.5");
        assert_eq!(d("+7"), "7");
        assert_eq!(d("007.10"), "7.10");
        assert_eq!(d("1E+5"), "1E+5");
        assert_eq!(d("NaN"), "null");
        assert_eq!(d("-Infinity"), "null");
        assert_eq!(d("12abc"), "\"12abc\"");
    }

    #[test]
    fn strings_are_escaped_and_binary_is_base64() {
        assert_eq!(json(Cell::Text("a\"b\\c\n\u{1}é😀".into())), "\"a\\\"b\\\\c\\n\\u0001é😀\"");
        assert_eq!(json(Cell::Bytes(Cow::Borrowed(&[0, 255, 16]))), "\"AP8Q\"");
        assert_eq!(json(Cell::Bytes(Cow::Borrowed(&[]))), "\"\"");
        assert_eq!(json(Cell::Bool(true)), "true");
        assert_eq!(json(Cell::Null), "null");
    }

    fn encode(format: Format) -> String {
        let columns = vec![
            Column::new("id", "INTEGER", ColumnKind::Integer),
            Column::new("name, \"quoted\"", "TEXT", ColumnKind::Text),
        ];
        let mut enc = Encoder::new(format);
        let mut out = Vec::new();
        enc.begin(&columns, &mut out);
        for (id, name) in [(1, Cell::Text("a,b".into())), (2, Cell::Null)] {
            enc.begin_row(&mut out);
            enc.cell(&Cell::Int(id), &mut out);
            enc.cell(&name, &mut out);
            enc.end_row(&mut out);
        }
        enc.finish(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn formats_write_rows_in_column_order() {
        assert_eq!(
            encode(Format::Json),
            r#"[{"id":1,"name, \"quoted\"":"a,b"},{"id":2,"name, \"quoted\"":null}]"#
        );
        assert_eq!(
            encode(Format::Ndjson),
            "{\"id\":1,\"name, \\\"quoted\\\"\":\"a,b\"}\n{\"id\":2,\"name, \\\"quoted\\\"\":null}\n"
        );
        assert_eq!(encode(Format::Csv), "id,\"name, \"\"quoted\"\"\"\n1,\"a,b\"\n2,\n");
    }

    #[test]
    fn empty_json_result_is_an_empty_array() {
        let mut enc = Encoder::new(Format::Json);
        let mut out = Vec::new();
        enc.begin(&[], &mut out);
        enc.finish(&mut out);
        assert_eq!(out, b"[]");
    }
}
