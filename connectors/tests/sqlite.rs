//! The SQLite engine on real files (each test makes its own in a temporary folder): every
//! storage class and declared type to exact JSON, text that is not UTF-8, read-only files,
//! timeouts, departed clients, long results and row caps, and the listings.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use connectors::sqlite::SqliteSettings;
use connectors::{
    statement, ColumnKind, ConnectionSettings, Engine, EngineKind, ErrorKind, Format, Listing, ResultSink,
    Secrets, SinkOptions,
};
use dc_test_support::engine::*;
use dc_test_support::types::{assert_type_cases, type_table, TypeCase};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Counts up forever; only a deadline or a departed client stops it.
const ENDLESS: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c";

/// A database file in `dir` made by `setup` (run as one batch).
fn database(dir: &Path, setup: &str) -> PathBuf {
    let path = dir.join("test.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(setup).unwrap_or_else(|e| panic!("{setup}: {e}"));
    path
}

async fn open(path: &Path, read_only: bool) -> Arc<dyn Engine> {
    let settings = ConnectionSettings::Sqlite(SqliteSettings { path: path.to_path_buf(), read_only });
    connect_engine(settings, &Secrets::new()).await
}

#[tokio::test]
async fn every_type_maps_to_exact_json() {
    let cases: Vec<TypeCase> = vec![
        ("INTEGER", "42", "42", ColumnKind::Integer),
        ("INTEGER", "9007199254740993", "\"9007199254740993\"", ColumnKind::Integer),
        ("BIGINT", "-9223372036854775808", "\"-9223372036854775808\"", ColumnKind::Integer),
        ("REAL", "0.1", "0.1", ColumnKind::Float),
        ("DOUBLE", "1e300", "1e300", ColumnKind::Float),
        ("FLOAT", "-2.5", "-2.5", ColumnKind::Float),
        // SQLite has no exact decimal: NUMERIC affinity stores 12.50 as the REAL 12.5.
        ("DECIMAL(10,2)", "'12.50'", "12.5", ColumnKind::Decimal),
        ("NUMERIC", "7", "7", ColumnKind::Decimal),
        ("BOOLEAN", "1", "true", ColumnKind::Boolean),
        ("BOOLEAN", "0", "false", ColumnKind::Boolean),
        ("BOOLEAN", "2", "2", ColumnKind::Boolean),
        ("TEXT", "'héllo \"q\" 😀'", r#""héllo \"q\" 😀""#, ColumnKind::Text),
        ("VARCHAR(20)", "'a\nb'", r#""a\nb""#, ColumnKind::Text),
        ("DATE", "'2024-02-29'", "\"2024-02-29\"", ColumnKind::Date),
        ("DATETIME", "'2024-01-02 03:04:05'", "\"2024-01-02 03:04:05\"", ColumnKind::DateTime),
        ("TIME", "'13:05:06'", "\"13:05:06\"", ColumnKind::Time),
        ("JSON", r#"'{"a": [1, 2]}'"#, r#""{\"a\": [1, 2]}""#, ColumnKind::Json),
        ("BLOB", "x'00FF10'", "\"AP8Q\"", ColumnKind::Binary),
        // No declared type: the first value's storage class names the column.
        ("", "x'DEADBEEF'", "\"3q2+7w==\"", ColumnKind::Binary),
        ("INTEGER", "NULL", "null", ColumnKind::Integer),
        ("TEXT", "NULL", "null", ColumnKind::Text),
    ];
    let dir = tempfile::tempdir().unwrap();
    let [create, insert] = type_table(EngineKind::Sqlite, "t", &cases);
    let path = database(dir.path(), &format!("{create}; {insert};"));
    assert_type_cases(&*open(&path, true).await, "t", &cases).await;
}

#[tokio::test]
async fn text_that_is_not_utf8_fails_naming_the_column() {
    let dir = tempfile::tempdir().unwrap();
    // CAST stores the bytes as TEXT without checking them, as any writer of the file may.
    let path = database(
        dir.path(),
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO t VALUES (1, 'fine'), (2, CAST(x'66ff6f' AS TEXT));",
    );
    let engine = open(&path, true).await;
    let e = error(&*engine, query("SELECT id, name FROM t ORDER BY id")).await;
    assert_kind(&e, ErrorKind::Internal);
    let message = e.message();
    assert!(message.contains("column \"name\" (TEXT)") && message.contains("not UTF-8"), "{message}");
    assert!(message.contains("CAST(name AS BLOB)"), "{message}");
    // The text rows alone are fine, and the cast the message suggests reads the stored bytes.
    assert_eq!(body(&*engine, "SELECT name FROM t WHERE id = 1").await, r#"[{"name":"fine"}]"#);
    assert_eq!(
        body(&*engine, "SELECT CAST(name AS BLOB) AS raw FROM t ORDER BY id").await,
        r#"[{"raw":"ZmluZQ=="},{"raw":"Zv9v"}]"#
    );
    // An expression without a declared type names the storage class instead.
    let e = error(&*engine, query("SELECT CAST(x'ff' AS TEXT) AS bad")).await;
    assert!(e.message().contains("column \"bad\" (TEXT)"), "{}", e.message());
}

#[tokio::test]
async fn expressions_parameters_and_duplicate_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path(), "CREATE TABLE t (x INTEGER);");
    let engine = open(&path, true).await;
    assert_eq!(
        body(&*engine, "SELECT 1 AS a, 2 AS a, 1.5 AS d, 'x' AS s, NULL AS n").await,
        r#"[{"a":1,"a_2":2,"d":1.5,"s":"x","n":null}]"#
    );
    assert_parameters_bind(
        &*engine,
        "SELECT ? IS NULL AS n, ? AS b, ? AS i, ? AS f, ? AS t",
        r#"[{"n":1,"b":1,"i":"-9007199254740993","f":1.5,"t":"it's 😀"}]"#,
    )
    .await;
    assert_missing_parameter_refused(&*engine, "SELECT ? AS a").await;
    assert_named_without_rows(&*engine, "SELECT x AS one, 'a' AS two FROM t", &["one", "two"]).await;
}

#[tokio::test]
async fn read_only_files_refuse_writes_and_stay_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(
        dir.path(),
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one');",
    );
    let before = std::fs::read(&path).unwrap();
    let engine = open(&path, true).await;
    for sql in [
        "DELETE FROM t",
        "INSERT INTO t VALUES (2, 'two')",
        "CREATE TABLE u (x)",
        "WITH gone AS (SELECT 1) UPDATE t SET v = 'x'",
    ] {
        let e = error(&*engine, query(sql)).await;
        assert_kind(&e, ErrorKind::ReadOnly);
    }
    assert_eq!(std::fs::read(&path).unwrap(), before, "a read-only connection changed the file");

    // A writable connection may write: the refusals came from the read-only setting.
    let writable = open(&path, false).await;
    run(&*writable, query("INSERT INTO t VALUES (2, 'two')")).await.unwrap();
    assert_eq!(body(&*engine, "SELECT count(*) AS n FROM t").await, r#"[{"n":2}]"#);
}

#[tokio::test]
async fn queries_stop_at_their_timeout_and_when_the_client_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path(), "CREATE TABLE t (x INTEGER);");
    let engine = open(&path, true).await;
    let started = std::time::Instant::now();
    let e = error(&*engine, query_with(ENDLESS, vec![], Duration::from_millis(300))).await;
    assert_kind(&e, ErrorKind::Timeout);
    assert!(e.message().contains("300 ms"), "{}", e.message());
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());

    let (sink, rx) = ResultSink::new(SinkOptions::new(Format::Json, u64::MAX));
    let task = tokio::spawn({
        let engine = engine.clone();
        async move { engine.query(query(ENDLESS), sink).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(rx);
    let result =
        tokio::time::timeout(Duration::from_secs(5), task).await.expect("the engine noticed").unwrap();
    assert_kind(&result.unwrap_err(), ErrorKind::Cancelled);
    // The pooled connection is usable afterwards.
    assert_eq!(body(&*engine, "SELECT 1 AS x").await, r#"[{"x":1}]"#);
}

#[tokio::test]
async fn large_results_stream_complete_and_row_caps_stop() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path(), "CREATE TABLE t (x INTEGER);");
    let engine = open(&path, true).await;
    let sql = "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 100000) \
               SELECT n, 'row ' || n AS label FROM s";
    let rows = streamed_rows(&*engine, sql).await;
    assert_eq!(rows[0], serde_json::json!({"n": 1, "label": "row 1"}));
    assert_eq!(rows[99_999], serde_json::json!({"n": 100_000, "label": "row 100000"}));

    let out = run_limited(&*engine, query(ENDLESS.replace("count(*) AS n", "x").as_str()), 10).await.unwrap();
    assert_eq!((out.rows, out.truncated), (10, true));

    let checked = statement::check(sql, true).unwrap();
    assert!(engine.exceeds(&checked, &query(sql), 99_999).await.unwrap());
    assert!(!engine.exceeds(&checked, &query(sql), 100_000).await.unwrap());
}

#[tokio::test]
async fn schema_browsing() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(
        dir.path(),
        "CREATE TABLE prices (ticker VARCHAR(10) NOT NULL, close DECIMAL(12,4), day DATE);
         CREATE VIEW tickers AS SELECT DISTINCT ticker FROM prices;",
    );
    let engine = open(&path, true).await;
    assert!(engine.server_version().await.unwrap().starts_with("SQLite 3."));
    assert_eq!(engine.list(Listing::Databases).await.unwrap(), ["main"]);
    assert_eq!(engine.list(Listing::Schemas).await.unwrap(), ["main"]);
    assert_kind(&engine.list(Listing::Roles).await.unwrap_err(), ErrorKind::Unsupported);

    let tables = engine.tables(None).await.unwrap();
    let found: Vec<_> =
        tables.iter().map(|t| (t.schema.as_str(), t.name.as_str(), t.kind.as_str())).collect();
    assert_eq!(found, [("main", "prices", "table"), ("main", "tickers", "view")]);
    assert_eq!(engine.tables(Some("main")).await.unwrap().len(), 2);
    assert_kind(&engine.tables(Some("other")).await.unwrap_err(), ErrorKind::NotFound);

    let columns = engine.columns(None, "prices").await.unwrap();
    let found: Vec<_> = columns.iter().map(|c| (c.name.as_str(), c.db_type.as_str(), c.nullable)).collect();
    assert_eq!(
        found,
        [("ticker", "VARCHAR(10)", false), ("close", "DECIMAL(12,4)", true), ("day", "DATE", true)]
    );
    assert_kind(&engine.columns(None, "nope").await.unwrap_err(), ErrorKind::NotFound);
    assert_kind(&engine.columns(Some("other"), "prices").await.unwrap_err(), ErrorKind::NotFound);
}

#[tokio::test]
async fn files_that_cannot_be_opened_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let connect = |path: PathBuf| async move {
        connect_error(ConnectionSettings::Sqlite(SqliteSettings { path, read_only: true }), &Secrets::new())
            .await
    };
    assert_kind(&connect("relative.db".into()).await, ErrorKind::InvalidInput);
    assert_kind(&connect(dir.path().join("missing.db")).await, ErrorKind::NotFound);
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "these are not the pages of a database, just a note long enough to look like one")
        .unwrap();
    assert_kind(&connect(text).await, ErrorKind::InvalidInput);
    assert_kind(&connect(dir.path().to_path_buf()).await, ErrorKind::InvalidInput);
}
