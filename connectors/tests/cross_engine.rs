//! The same logical values (an exact decimal, a date, 2^53 + 1, NULL, text, a boolean, a float)
//! stored in each engine's own types come out as the same JSON with the same column kinds on
//! SQLite, MySQL/MariaDB, PostgreSQL, Snowflake (fakesnow) and DuckDB: docs/type-mapping.md's promise
//! that a Workspace widget cannot tell which database fed it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use connectors::sqlite::SqliteSettings;
use connectors::{ColumnKind, ConnectionSettings, EngineKind, Secrets};
use dc_test_support::engine::{connect_engine, output};
use dc_test_support::fakesnow;
use dc_test_support::mysql::MysqlDb;
use dc_test_support::postgres::PostgresDb;
use dc_test_support::types::{assert_type_cases, type_table, TypeCase};
use serde_json::json;

/// One logical value: the JSON and kind every engine must give, and per engine the column type
/// and SQL literal that hold it (SQLite, MySQL, PostgreSQL, Snowflake, DuckDB).
struct Value {
    json: &'static str,
    kind: ColumnKind,
    types: [(&'static str, &'static str); 5],
}

const VALUES: [Value; 7] = [
    // SQLite has no exact decimal (NUMERIC affinity stores a REAL), so the value is one a double
    // holds exactly as written; the others keep the digits the scale gives.
    Value {
        json: "1234.5678",
        kind: ColumnKind::Decimal,
        types: [
            ("DECIMAL(12,4)", "1234.5678"),
            ("DECIMAL(12,4)", "1234.5678"),
            ("numeric(12,4)", "1234.5678"),
            ("NUMBER(12,4)", "1234.5678"),
            ("DECIMAL(12,4)", "1234.5678"),
        ],
    },
    Value {
        json: "\"2024-02-29\"",
        kind: ColumnKind::Date,
        types: [
            ("DATE", "'2024-02-29'"),
            ("DATE", "'2024-02-29'"),
            ("date", "'2024-02-29'"),
            ("DATE", "'2024-02-29'"),
            ("DATE", "'2024-02-29'"),
        ],
    },
    // 2^53 + 1: past what a JavaScript number holds, so a string with every digit.
    Value {
        json: "\"9007199254740993\"",
        kind: ColumnKind::Integer,
        types: [
            ("INTEGER", "9007199254740993"),
            ("BIGINT", "9007199254740993"),
            ("int8", "9007199254740993"),
            ("NUMBER(38,0)", "9007199254740993"),
            ("HUGEINT", "9007199254740993"),
        ],
    },
    Value {
        json: "null",
        kind: ColumnKind::Text,
        types: [
            ("VARCHAR(10)", "NULL"),
            ("VARCHAR(10)", "NULL"),
            ("varchar(10)", "NULL"),
            ("VARCHAR(10)", "NULL"),
            ("VARCHAR", "NULL"),
        ],
    },
    Value {
        json: r#""héllo \"q\" 😀""#,
        kind: ColumnKind::Text,
        types: [
            ("VARCHAR(20)", "'héllo \"q\" 😀'"),
            ("VARCHAR(20)", "'héllo \"q\" 😀'"),
            ("varchar(20)", "'héllo \"q\" 😀'"),
            ("VARCHAR(20)", "'héllo \"q\" 😀'"),
            ("VARCHAR", "'héllo \"q\" 😀'"),
        ],
    },
    Value {
        json: "true",
        kind: ColumnKind::Boolean,
        types: [("BOOLEAN", "1"), ("BOOL", "1"), ("bool", "true"), ("BOOLEAN", "TRUE"), ("BOOLEAN", "true")],
    },
    Value {
        json: "0.1",
        kind: ColumnKind::Float,
        types: [("REAL", "0.1"), ("DOUBLE", "0.1"), ("float8", "0.1"), ("FLOAT", "0.1"), ("DOUBLE", "0.1")],
    },
];

/// The cases of one engine: its types and literals, everyone's JSON and kinds.
fn cases(kind: EngineKind) -> Vec<TypeCase<'static>> {
    let index = match kind {
        EngineKind::Sqlite => 0,
        EngineKind::Mysql => 1,
        EngineKind::Postgres => 2,
        EngineKind::Snowflake => 3,
        EngineKind::Duckdb => 4,
    };
    VALUES.iter().map(|v| (v.types[index].0, v.types[index].1, v.json, v.kind)).collect()
}

/// The row every engine returns for `SELECT *`, written out once so that the per-engine tests
/// compare against the same bytes.
fn the_row() -> String {
    let fields: Vec<String> =
        VALUES.iter().enumerate().map(|(i, v)| format!("\"c{i}\":{}", v.json)).collect();
    format!("[{{{}}}]", fields.join(","))
}

#[test]
fn the_row_is_flat_json() {
    let row: serde_json::Value = serde_json::from_str(&the_row()).unwrap();
    assert_eq!(
        row,
        json!([{"c0": 1234.5678, "c1": "2024-02-29", "c2": "9007199254740993", "c3": null,
                "c4": "héllo \"q\" 😀", "c5": true, "c6": 0.1}])
    );
}

#[tokio::test]
async fn sqlite() {
    let cases = cases(EngineKind::Sqlite);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("values.db");
    let [create, insert] = type_table(EngineKind::Sqlite, "t", &cases);
    rusqlite::Connection::open(&path).unwrap().execute_batch(&format!("{create}; {insert};")).unwrap();
    let engine =
        connect_engine(ConnectionSettings::Sqlite(SqliteSettings { path, read_only: true }), &Secrets::new())
            .await;
    assert_type_cases(&*engine, "t", &cases).await;
    assert_eq!(output(&*engine, "SELECT * FROM t").await.body, the_row());
}

#[tokio::test]
async fn mysql() {
    let Some(db) = MysqlDb::create().await else { return };
    let cases = cases(EngineKind::Mysql);
    let [create, insert] = type_table(EngineKind::Mysql, "t", &cases);
    db.exec_all(&[&create, &insert]).await;
    let engine = db.engine(true).await;
    assert_type_cases(&*engine, "t", &cases).await;
    assert_eq!(output(&*engine, "SELECT * FROM t").await.body, the_row());
}

#[tokio::test]
async fn postgres() {
    let Some(db) = PostgresDb::create().await else { return };
    let cases = cases(EngineKind::Postgres);
    let [create, insert] = type_table(EngineKind::Postgres, "t", &cases);
    db.exec_all(&[&create, &insert]).await;
    let engine = db.engine(true).await;
    assert_type_cases(&*engine, "t", &cases).await;
    assert_eq!(output(&*engine, "SELECT * FROM t").await.body, the_row());
}

#[tokio::test]
async fn snowflake() {
    let Some(sf) = fakesnow::adapter() else { return };
    let cases = cases(EngineKind::Snowflake);
    let engine = sf.password_user("SAME_VALUES").await;
    for sql in type_table(EngineKind::Snowflake, "T", &cases) {
        output(&*engine, &sql).await;
    }
    assert_type_cases(&*engine, "T", &cases).await;
    assert_eq!(output(&*engine, "SELECT * FROM T").await.body, the_row());
}

/// A writable `.duckdb` file of the engine's own making: the cases are DuckDB's types.
#[tokio::test]
async fn duckdb() {
    let cases = cases(EngineKind::Duckdb);
    let dir = tempfile::tempdir().unwrap();
    let settings = ConnectionSettings::Duckdb(connectors::duckdb::DuckdbSettings {
        path: Some(dir.path().join("values.duckdb")),
        read_only: false,
    });
    let engine = connect_engine(settings, &Secrets::new()).await;
    for sql in type_table(EngineKind::Duckdb, "t", &cases) {
        output(&*engine, &sql).await;
    }
    assert_type_cases(&*engine, "t", &cases).await;
    assert_eq!(output(&*engine, "SELECT * FROM t").await.body, the_row());
}
