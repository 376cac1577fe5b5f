//! The value model every engine maps its native values into. Each engine has exactly one
//! function from its driver's value to `Cell`; the output formats take it from there, so the
//! rules of docs/type-mapping.md (2^53, NaN, exact decimals, base64) live in `format.rs` once.

use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    /// Exact decimal digits as the database printed them (`-12.3400`, `1E+5`); written as a JSON
    /// number without passing through f64. `NaN`/`Infinity` are written as null.
    Decimal(Cow<'a, str>),
    /// Text, and everything docs/type-mapping.md renders as a string: dates, times, JSON
    /// documents, UUIDs.
    Text(Cow<'a, str>),
    /// Binary data, written as standard base64.
    Bytes(Cow<'a, [u8]>),
}

/// A column's type as the server reports it to clients (Route A `schema`, Route B `cellDataType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    Integer,
    Float,
    Decimal,
    Boolean,
    Text,
    Date,
    DateTime,
    Time,
    Binary,
    Json,
    Other,
}

impl ColumnKind {
    pub fn is_numeric(self) -> bool {
        matches!(self, Self::Integer | Self::Float | Self::Decimal)
    }
}

/// One result column: its (de-duplicated) output name, the database's type name and our kind.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Column {
    pub name: String,
    pub db_type: String,
    pub kind: ColumnKind,
}

impl Column {
    pub fn new(name: impl Into<String>, db_type: impl Into<String>, kind: ColumnKind) -> Self {
        Self { name: name.into(), db_type: db_type.into(), kind }
    }
}

/// Renames repeated column names to `name_2`, `name_3`, ... (skipping names the result already
/// has) so that no value is lost when rows become JSON objects.
pub fn dedupe_column_names(columns: &mut [Column]) {
    let mut seen = std::collections::HashSet::with_capacity(columns.len());
    let taken: std::collections::HashSet<String> = columns.iter().map(|c| c.name.clone()).collect();
    for column in columns.iter_mut() {
        if seen.insert(column.name.clone()) {
            continue;
        }
        let base = column.name.clone();
        let mut n = 2;
        loop {
            let candidate = format!("{base}_{n}");
            if !taken.contains(&candidate) && !seen.contains(&candidate) {
                seen.insert(candidate.clone());
                column.name = candidate;
                break;
            }
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(input: &[&str]) -> Vec<String> {
        let mut cols: Vec<Column> = input.iter().map(|n| Column::new(*n, "", ColumnKind::Other)).collect();
        dedupe_column_names(&mut cols);
        cols.into_iter().map(|c| c.name).collect()
    }

    #[test]
    fn duplicate_names_get_suffixes() {
        assert_eq!(names(&["a", "b", "a", "a"]), ["a", "b", "a_2", "a_3"]);
        assert_eq!(names(&["a", "a", "a_2"]), ["a", "a_3", "a_2"]);
        assert_eq!(names(&["x"]), ["x"]);
    }
}
