//! The memory caps, enforced by the server. sqlx reads each row message whole before handing it
//! over, so `SELECT repeat('x', 900000000)` would be in our memory (twice, while the buffer grows)
//! before any check of ours could see it. A reading statement therefore runs wrapped in a size
//! check: the server fails the row whose value or row is over the cap, with a marker this module
//! turns back into the caps' error naming the column.

use super::value::PgType;
use crate::cell::Column;
use crate::dialect::Dialect;
use crate::error::{ConnectorError, ErrorKind};
use crate::sink;
use crate::statement::CheckedStatement;

const VALUE_MARKER: &str = "dc_value_too_large:";
const ROW_MARKER: &str = "dc_row_too_large:";
/// Up to this many variable-size columns, the row check names the column that tips it over.
const RUNNING_TOTALS: usize = 12;

/// The statement wrapped in the size check, or `None` when it cannot be wrapped (not a plain
/// read, no columns) or has no column of variable size. Column names and types stay those of
/// the statement itself; its order is kept (the check filters, it does not sort).
pub(super) fn guarded(
    sql: &str,
    checked: &CheckedStatement,
    columns: &[Column],
    types: &[PgType],
    max_value: usize,
    max_row: usize,
) -> Option<String> {
    if !matches!(checked.keyword.as_str(), "SELECT" | "WITH" | "VALUES" | "TABLE") || columns.is_empty() {
        return None;
    }
    let sizes: Vec<(usize, String)> =
        types.iter().enumerate().filter_map(|(i, ty)| size_of(ty, i).map(|size| (i, size))).collect();
    if sizes.is_empty() {
        return None;
    }
    let aliases: Vec<String> = (1..=columns.len()).map(|i| format!("dc_c{i}")).collect();
    let select: Vec<String> = columns
        .iter()
        .zip(&aliases)
        .map(|(column, alias)| format!("q.{alias} AS {}", Dialect::Postgres.quote_ident(&column.name)))
        .collect();
    // The marker's text depends on the row, so the planner cannot fold it into a constant
    // error raised whether or not the branch is taken.
    let mut checks: Vec<String> = sizes
        .iter()
        .map(|(i, size)| {
            format!("WHEN {size} > {max_value} THEN CAST('{VALUE_MARKER}{}:' || {size} AS int)", i + 1)
        })
        .collect();
    // Running totals, so the error can name the column where the row went over; past a few
    // columns only the whole row is checked, to keep the statement small.
    let totals_from = if sizes.len() <= RUNNING_TOTALS { 2 } else { sizes.len() };
    for k in totals_from..=sizes.len() {
        let total = sizes[..k].iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>().join(" + ");
        let column = sizes[k - 1].0 + 1;
        checks
            .push(format!("WHEN {total} > {max_row} THEN CAST('{ROW_MARKER}{column}:' || ({total}) AS int)"));
    }
    // OFFSET 0 keeps the planner from pulling the statement up into the check, which would
    // compute each checked expression (an md5(), a repeat()) once more per use: 2.7x the server
    // time on a computed 1M-row result, against about 1.2x with the fence.
    Some(format!(
        "SELECT {} FROM (SELECT * FROM (\n{sql}\n) AS dc_u OFFSET 0) AS q({}) WHERE CASE {} ELSE 0 END = 0",
        select.join(", "),
        aliases.join(", "),
        checks.join(" ")
    ))
}

/// The SQL for the size of column `i`'s value in bytes, about as it travels; `None` for types of
/// fixed, small size.
fn size_of(ty: &PgType, i: usize) -> Option<String> {
    let column = format!("q.dc_c{}", i + 1);
    let size = match ty {
        // Text-like types (xml, enums, citext too) by their text, bytea by its bytes: the
        // uncompressed length even when the value is stored compressed.
        PgType::Text => format!("octet_length({column}::text)"),
        PgType::Bytea => format!("octet_length({column})"),
        PgType::Json | PgType::Jsonb | PgType::Jsonpath | PgType::Numeric | PgType::Bit => {
            format!("pg_column_size({column})")
        }
        PgType::Path | PgType::Polygon | PgType::Geometry | PgType::Hstore => {
            format!("pg_column_size({column})")
        }
        PgType::Array(_) | PgType::Range(_) | PgType::Composite(_) | PgType::Record => {
            format!("pg_column_size({column})")
        }
        PgType::Unsupported(_) => format!("pg_column_size({column})"),
        _ => return None,
    };
    Some(format!("coalesce({size}, 0)::bigint"))
}

/// The caps' error for a failure raised by the size check; other errors pass unchanged.
pub(super) fn explain(
    error: ConnectorError,
    columns: &[Column],
    max_value: usize,
    max_row: usize,
) -> ConnectorError {
    if error.kind() != ErrorKind::Sql {
        return error;
    }
    let message = error.message();
    let marked = |marker: &str| {
        let rest = message.split(marker).nth(1)?;
        let mut parts = rest.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty());
        let index: usize = parts.next()?.parse().ok()?;
        let len: usize = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let name = index.checked_sub(1).and_then(|i| columns.get(i)).map_or("?", |c| c.name.as_str());
        Some((name.to_string(), len))
    };
    if let Some((name, len)) = marked(VALUE_MARKER) {
        return sink::value_too_large(&name, len, max_value);
    }
    if let Some((name, _)) = marked(ROW_MARKER) {
        return sink::row_too_large("a row", max_row, Some(&name));
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::ColumnKind;

    fn checked(keyword: &str) -> CheckedStatement {
        CheckedStatement { body: String::new(), keyword: keyword.into(), reads_only: true }
    }

    #[test]
    fn only_variable_columns_of_plain_reads_are_checked() {
        let columns = vec![
            Column::new("id", "int4", ColumnKind::Integer),
            Column::new("a\"b", "text", ColumnKind::Text),
        ];
        let types = vec![PgType::Int4, PgType::Text];
        let sql = guarded("select 1, 'x'", &checked("SELECT"), &columns, &types, 10, 20).unwrap();
        assert!(
            sql.starts_with(
                "SELECT q.dc_c1 AS \"id\", q.dc_c2 AS \"a\"\"b\" FROM (SELECT * FROM (\nselect 1, 'x'\n) AS dc_u \
                 OFFSET 0) AS q(dc_c1, dc_c2)"
            ),
            "{sql}"
        );
        assert!(sql.contains("WHEN coalesce(octet_length(q.dc_c2::text), 0)::bigint > 10 THEN"), "{sql}");
        assert!(!sql.contains("dc_row_too_large"), "one variable column has no row check: {sql}");
        assert!(guarded("select 1", &checked("SELECT"), &columns[..1], &types[..1], 10, 20).is_none());
        assert!(guarded("insert ...", &checked("INSERT"), &columns, &types, 10, 20).is_none());
    }

    #[test]
    fn markers_become_the_caps_error() {
        let columns = vec![Column::new("big", "text", ColumnKind::Text)];
        let raised =
            ConnectorError::sql("invalid input syntax for type integer: \"dc_value_too_large:1:900000000\"");
        let e = explain(raised, &columns, 64, 128);
        assert_eq!(e.kind(), ErrorKind::TooLarge);
        assert!(e.message().contains("column \"big\" holds a value of 900000000 bytes"), "{e}");
        let e = explain(
            ConnectorError::sql("invalid input syntax: \"dc_row_too_large:1:300\""),
            &columns,
            64,
            128,
        );
        assert_eq!(e.kind(), ErrorKind::TooLarge);
        assert!(e.message().contains("reached at column \"big\""), "{e}");
        let other = explain(ConnectorError::sql("syntax error"), &columns, 64, 128);
        assert_eq!(other.kind(), ErrorKind::Sql);
    }
}
