//! The statement guard (`connectors::statement`). Properties, for every dialect:
//! - it never panics, and gives the same verdict twice;
//! - an accepted statement's body is part of the input and is accepted again with the same
//!   keyword (the engines re-check what the server passes on);
//! - a read-only acceptance has a reading keyword;
//! - nothing accepted can hide what follows it: the statement plus a new line and `;DELETE`
//!   is refused, and (MySQL) plus `INTO OUTFILE`, (PostgreSQL) plus a `pg_read_file(` call,
//!   likewise. A lexer that took comment or string text for code, or code for a comment,
//!   fails these.

use crate::{run_for, Rng};
use connectors::dialect::Dialect;
use connectors::statement::{check_dialect, check_for, Access, CheckedStatement};
use connectors::ErrorKind;

const FRAGMENTS: &[&str] = &[
    "select ",
    "SELECT ",
    "with x as (select 1) select ",
    "values (1)",
    "table t",
    "show tables",
    "explain ",
    "delete from t",
    "insert into t values (1)",
    "update t set a = 1",
    "attach 'x' as y",
    "load data",
    "(",
    ")",
    ",",
    " ",
    "\n",
    "\r",
    "\t",
    "\x0b",
    "\x0c",
    ";",
    "'",
    "''",
    "\"",
    "`",
    "[",
    "]",
    "\\",
    "\\'",
    "--",
    "-- ",
    "--\x01",
    "--\x7f",
    "-",
    "#",
    "/*",
    "*/",
    "/*!",
    "/*!50000",
    "/*M!100000",
    "/*+",
    "//",
    "$$",
    "$a$",
    "$1",
    "$",
    "E'",
    "e'",
    "U&\"",
    "U&'",
    "N'",
    "X'00'",
    "@",
    "@@",
    "into",
    " outfile ",
    "dumpfile",
    "OUTFILE",
    "@outfile",
    "t.outfile",
    "pg_read_file(",
    "dblink_exec (",
    "lo_export(",
    "load_file(",
    "\"pg_read_file\"(",
    "set_config(",
    "1",
    "1e5",
    "a$b",
    "é",
    "😀",
    "\u{a0}",
    "\u{85}",
    "x",
    "from t",
    "where a = 'b'",
];

fn generate(rng: &mut Rng) -> String {
    let mut sql = String::new();
    if rng.chance(80) {
        let start: &&str =
            rng.pick(&["select ", "SELECT ", "with x as (select 1) select ", "values ", "(select "]);
        sql.push_str(start);
    }
    for _ in 0..rng.below(14) {
        if rng.chance(8) {
            // Any character at all, control characters included (not NUL: refused up front).
            let c = char::from_u32(1 + rng.below(0x2FF) as u32).unwrap_or('x');
            sql.push(c);
        } else {
            let fragment: &&str = rng.pick(FRAGMENTS);
            sql.push_str(fragment);
        }
    }
    sql
}

const DIALECTS: [Dialect; 4] = [Dialect::Sqlite, Dialect::Mysql, Dialect::Postgres, Dialect::Snowflake];

fn verdict(
    sql: &str,
    dialect: Option<Dialect>,
    access: Access,
) -> Result<CheckedStatement, (ErrorKind, String)> {
    match dialect {
        Some(d) => check_dialect(sql, d, access),
        None => check_for(sql, access),
    }
    .map_err(|e| (e.kind(), e.message().to_string()))
}

#[test]
fn statement_guard() {
    let mut accepted = 0u64;
    let cases = run_for("statement guard", |rng, seed| {
        let sql = generate(rng);
        let access = if rng.chance(80) { Access::ReadOnlyConnection } else { Access::ReadWrite };
        for dialect in [None, Some(DIALECTS[rng.below(4)])] {
            let first = verdict(&sql, dialect, access);
            assert_eq!(first, verdict(&sql, dialect, access), "unstable verdict, seed {seed}: {sql:?}");
            let Ok(checked) = first else { continue };
            accepted += 1;
            let context = format!("seed {seed}, {dialect:?}, {access:?}: {sql:?}");
            assert!(sql.contains(&checked.body), "body not from the input, {context}");
            let again = verdict(&checked.body, dialect, access)
                .unwrap_or_else(|e| panic!("body refused ({e:?}), {context} -> {:?}", checked.body));
            assert_eq!(again.keyword, checked.keyword, "{context}");
            if access.read_only() {
                assert!(checked.reads_only, "read-only accepted a {} statement, {context}", checked.keyword);
            }
            let Some(dialect) = dialect else { continue };
            let followed = format!("{sql}\n;DELETE FROM t");
            assert!(verdict(&followed, Some(dialect), access).is_err(), "a second statement hid, {context}");
            if dialect == Dialect::Mysql {
                let outfile = format!("{sql}\n INTO OUTFILE '/tmp/x'");
                assert!(verdict(&outfile, Some(dialect), access).is_err(), "OUTFILE hid, {context}");
            }
            if dialect == Dialect::Postgres && access.read_only() {
                let call = format!("{sql}\n, pg_read_file('/etc/passwd')");
                assert!(verdict(&call, Some(dialect), access).is_err(), "pg_read_file hid, {context}");
            }
        }
    });
    eprintln!("statement guard: {accepted} accepted statements checked further");
    assert!(
        cases > 1000 && accepted > 100,
        "the generator must reach accepted statements ({cases}, {accepted})"
    );
}
