//! The one SQLite value → `Cell` mapping (docs/type-mapping.md, "SQLite"). SQLite is
//! dynamically typed, so a value's storage class decides its cell; the declared column type
//! only sets the column's kind and turns BOOLEAN 0/1 into false/true.

use super::cursor::Cursor;
use crate::cell::{Cell, Column, ColumnKind};
use crate::render::wire::utf8;
use rusqlite::types::ValueRef;
use std::borrow::Cow;

/// The cell of one value. Text that is not UTF-8 is an error (the caller names the column), as
/// on every other engine: replacing bytes would hand the user a value the file does not hold.
/// `checked`: the text's bytes already checked as UTF-8, as a `str` (a batch checks its whole
/// buffer at once, cheaper than value by value: short text paid the check's setup each time).
#[inline]
pub(crate) fn to_cell<'a>(
    value: ValueRef<'a>,
    hint: ColumnKind,
    checked: Option<&'a str>,
) -> Result<Cell<'a>, String> {
    Ok(match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(v) if hint == ColumnKind::Boolean && (v == 0 || v == 1) => Cell::Bool(v == 1),
        ValueRef::Integer(v) => Cell::Int(v),
        ValueRef::Real(v) => Cell::Float(v),
        ValueRef::Text(bytes) => Cell::Text(Cow::Borrowed(match checked {
            // The very bytes (same place, same length), so no second check is needed.
            Some(text) if std::ptr::eq(text.as_bytes(), bytes) => text,
            _ => utf8(bytes)?,
        })),
        ValueRef::Blob(bytes) => Cell::Bytes(Cow::Borrowed(bytes)),
    })
}

/// A value's size as SQLite holds it, for the memory caps.
pub(crate) fn size(value: ValueRef<'_>) -> usize {
    match value {
        ValueRef::Text(b) | ValueRef::Blob(b) => b.len(),
        ValueRef::Null => 0,
        ValueRef::Integer(_) | ValueRef::Real(_) => 8,
    }
}

/// Column kind from a declared type, following SQLite's affinity rules plus the common
/// date/boolean/JSON names.
pub(crate) fn kind_of_decltype(decl: &str) -> ColumnKind {
    let t = decl.to_ascii_uppercase();
    if t.contains("BOOL") {
        ColumnKind::Boolean
    } else if t.contains("DATETIME") || t.contains("TIMESTAMP") {
        ColumnKind::DateTime
    } else if t.contains("DATE") {
        ColumnKind::Date
    } else if t.contains("TIME") {
        ColumnKind::Time
    } else if t.contains("INT") {
        ColumnKind::Integer
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        ColumnKind::Text
    } else if t.contains("JSON") {
        ColumnKind::Json
    } else if t.contains("BLOB") {
        ColumnKind::Binary
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        ColumnKind::Float
    } else if t.contains("DEC") || t.contains("NUM") {
        ColumnKind::Decimal
    } else {
        ColumnKind::Other
    }
}

/// The type name and kind of a value's storage class, for columns without a declared type
/// (expressions).
pub(crate) fn storage_class(value: ValueRef<'_>) -> (String, ColumnKind) {
    match value {
        ValueRef::Integer(_) => ("INTEGER".into(), ColumnKind::Integer),
        ValueRef::Real(_) => ("REAL".into(), ColumnKind::Float),
        ValueRef::Text(_) => ("TEXT".into(), ColumnKind::Text),
        ValueRef::Blob(_) => ("BLOB".into(), ColumnKind::Binary),
        ValueRef::Null => (String::new(), ColumnKind::Other),
    }
}

/// The result's columns: declared types where the statement has them, else the storage class of
/// the first row's value.
pub(crate) fn columns_from(
    declared: &[(String, Option<String>)],
    hints: &[ColumnKind],
    first: Option<&Cursor<'_>>,
) -> Vec<Column> {
    declared
        .iter()
        .zip(hints)
        .enumerate()
        .map(|(i, ((name, decl), hint))| {
            let (db_type, kind) = match (decl, first.and_then(|row| row.value(i).ok())) {
                (Some(t), _) => (t.clone(), *hint),
                (None, Some(value)) => storage_class(value),
                (None, None) => (String::new(), ColumnKind::Other),
            };
            Column::new(name.clone(), db_type, kind)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decltypes_map_to_kinds() {
        for (decl, kind) in [
            ("INTEGER", ColumnKind::Integer),
            ("BIGINT", ColumnKind::Integer),
            ("VARCHAR(20)", ColumnKind::Text),
            ("REAL", ColumnKind::Float),
            ("DOUBLE PRECISION", ColumnKind::Float),
            ("NUMERIC(10,2)", ColumnKind::Decimal),
            ("BOOLEAN", ColumnKind::Boolean),
            ("DATE", ColumnKind::Date),
            ("DATETIME", ColumnKind::DateTime),
            ("TIMESTAMP", ColumnKind::DateTime),
            ("BLOB", ColumnKind::Binary),
            ("JSON", ColumnKind::Json),
            ("", ColumnKind::Other),
        ] {
            assert_eq!(kind_of_decltype(decl), kind, "{decl}");
        }
    }

    #[test]
    fn values_map_to_cells() {
        let cell = |value, hint| to_cell(value, hint, None).unwrap();
        assert_eq!(cell(ValueRef::Null, ColumnKind::Text), Cell::Null);
        assert_eq!(cell(ValueRef::Integer(1), ColumnKind::Boolean), Cell::Bool(true));
        assert_eq!(cell(ValueRef::Integer(2), ColumnKind::Boolean), Cell::Int(2));
        assert_eq!(cell(ValueRef::Integer(i64::MAX), ColumnKind::Integer), Cell::Int(i64::MAX));
        assert_eq!(cell(ValueRef::Real(1.5), ColumnKind::Other), Cell::Float(1.5));
        assert_eq!(cell(ValueRef::Text("é".as_bytes()), ColumnKind::Text), Cell::Text("é".into()));
        assert_eq!(cell(ValueRef::Blob(&[1, 2]), ColumnKind::Binary), Cell::Bytes(Cow::Borrowed(&[1, 2])));
    }

    #[test]
    fn invalid_utf8_text_is_an_error_not_a_replacement() {
        let why = to_cell(ValueRef::Text(&[b'a', 0xff, b'b']), ColumnKind::Text, None).unwrap_err();
        assert!(why.starts_with("not UTF-8"), "{why}");
        // The same bytes stored as a BLOB are fine: they are bytes.
        assert_eq!(
            to_cell(ValueRef::Blob(&[b'a', 0xff]), ColumnKind::Text, None).unwrap(),
            Cell::Bytes(Cow::Borrowed(&[b'a', 0xff]))
        );
    }
}
