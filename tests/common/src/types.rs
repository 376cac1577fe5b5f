//! The one type-case runner: a table with one column per case, one row holding each case's
//! value, and the exact JSON and kind each column must come back with, on any engine. Engine
//! tests list their own cases; the cross-engine test lists the same logical values for every
//! engine with the same expected output.

use crate::engine::{body, output};
use connectors::{ColumnKind, Engine, EngineKind};

/// One column: its SQL type, the SQL literal inserted into it, the JSON the value must come back
/// as, and the column's kind.
pub type TypeCase<'a> = (&'a str, &'a str, &'a str, ColumnKind);

/// `CREATE TABLE {table}` with a nullable column `c<i>` per case and the `INSERT` of one row
/// holding every case's value, spelled for `kind`'s dialect. The caller runs them, as whatever
/// account and session may create tables on that engine.
pub fn type_table(kind: EngineKind, table: &str, cases: &[TypeCase<'_>]) -> [String; 2] {
    let dialect = kind.dialect();
    let columns: Vec<String> = cases
        .iter()
        .enumerate()
        .map(|(i, (sql_type, ..))| format!("{} {sql_type} NULL", dialect.quote_ident(&format!("c{i}"))))
        .collect();
    let values: Vec<&str> = cases.iter().map(|(_, value, ..)| *value).collect();
    [
        format!("CREATE TABLE {table} ({})", columns.join(", ")),
        format!("INSERT INTO {table} VALUES ({})", values.join(", ")),
    ]
}

/// Checks every case of a table `type_table` made: each column alone (its exact JSON and its
/// kind), then the whole row at once (keys in column order).
pub async fn assert_type_cases(engine: &dyn Engine, table: &str, cases: &[TypeCase<'_>]) {
    let dialect = engine.kind().dialect();
    let column = |i: usize| dialect.quote_ident(&format!("c{i}"));
    for (i, (sql_type, value, expected, kind)) in cases.iter().enumerate() {
        let out = output(engine, &format!("SELECT {} FROM {table}", column(i))).await;
        assert_eq!(out.body, format!("[{{\"c{i}\":{expected}}}]"), "{sql_type} holding {value}");
        assert_eq!(out.columns[0].kind, *kind, "{sql_type}");
    }
    let all = body(engine, &format!("SELECT * FROM {table}")).await;
    let expected: Vec<String> =
        cases.iter().enumerate().map(|(i, (_, _, json, _))| format!("\"c{i}\":{json}")).collect();
    assert_eq!(all, format!("[{{{}}}]", expected.join(",")));
}
