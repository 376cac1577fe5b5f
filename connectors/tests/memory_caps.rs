//! The memory caps (issue 12): a value or a row over `--max-value-bytes` / `--max-row-bytes`
//! fails the query with `TooLarge` naming the column, on every engine, and a query that asks
//! for a gigabyte does not take one. Peak memory is measured on this process (`VmHWM` after
//! resetting it through /proc/self/clear_refs), so the tests run one at a time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use connectors::sqlite::SqliteSettings;
use connectors::{
    ConnectionSettings, ConnectorError, Engine, ErrorKind, Format, ResultSink, Secrets, SinkOptions,
};
use dc_test_support::engine::*;
use dc_test_support::fakesnow;
use dc_test_support::mysql::MysqlDb;
use dc_test_support::postgres::PostgresDb;
use std::sync::Arc;
use tokio::sync::Mutex;

/// One test at a time: the peak measured must be this test's own.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

const MIB: usize = 1 << 20;
/// Small caps for the error tests, so they stay cheap.
const SMALL_VALUE: usize = MIB;
const SMALL_ROW: usize = 2 * MIB;

/// Runs `sql` with the given caps, reading the result as the server does, and returns the error.
async fn capped_error(engine: &dyn Engine, sql: &str, max_value: usize, max_row: usize) -> ConnectorError {
    let options = SinkOptions::new(Format::Json, 1000).with_caps(max_value, max_row);
    let (sink, mut rx) = ResultSink::new(options);
    let drain = async move { while rx.recv().await.is_some() {} };
    let (result, ()) = tokio::join!(engine.query(query(sql), sink), drain);
    match result {
        Ok(()) => panic!("{sql} should have failed on the memory caps"),
        Err(e) => e,
    }
}

fn status_kib(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Runs `work` and returns its output with how far this process's peak resident memory rose
/// above what it held before, in MiB.
async fn peak_growth_mib<T>(work: impl std::future::Future<Output = T>) -> (T, usize) {
    let before = status_kib("VmRSS:");
    // "5" resets VmHWM to the current RSS (Linux 4.0+).
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let out = work.await;
    let peak = status_kib("VmHWM:");
    (out, peak.saturating_sub(before) / 1024)
}

fn assert_too_large(e: &ConnectorError, column: &str) {
    assert_eq!(e.kind(), ErrorKind::TooLarge, "{e}");
    assert!(e.message().contains(&format!("\"{column}\"")), "the error should name {column}: {e}");
    assert!(e.message().contains("--max-"), "the error should name the setting: {e}");
}

async fn sqlite_engine(dir: &std::path::Path) -> Arc<dyn Engine> {
    let path = dir.join("caps.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB); INSERT INTO t VALUES (1, zeroblob(3000000));",
        )
        .unwrap();
    connect_engine(ConnectionSettings::Sqlite(SqliteSettings { path, read_only: true }), &Secrets::new())
        .await
}

#[tokio::test]
async fn sqlite_stops_a_900_mb_zeroblob_before_allocating_it() {
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let engine = sqlite_engine(dir.path()).await;
    // The default caps, as the server runs.
    let (result, growth) = peak_growth_mib(async {
        let (sink, mut rx) = ResultSink::new(SinkOptions::new(Format::Json, 10));
        let drain = async move { while rx.recv().await.is_some() {} };
        tokio::join!(engine.query(query("SELECT zeroblob(900000000) AS z"), sink), drain).0
    })
    .await;
    let e = result.expect_err("900 MB is over the default cap");
    assert_too_large(&e, "z");
    eprintln!("sqlite zeroblob(900000000): peak grew by {growth} MiB");
    assert!(growth < 64, "peak memory grew by {growth} MiB");

    assert_too_large(
        &capped_error(&*engine, "SELECT zeroblob(2000000) AS z", SMALL_VALUE, SMALL_ROW).await,
        "z",
    );
    // A stored value over the cap, and a row over the row cap.
    assert_too_large(&capped_error(&*engine, "SELECT id, b FROM t", SMALL_VALUE, SMALL_ROW).await, "b");
    let e = capped_error(
        &*engine,
        "SELECT zeroblob(800000) AS a, zeroblob(800000) AS b, zeroblob(800000) AS c",
        SMALL_VALUE,
        SMALL_ROW,
    )
    .await;
    assert_too_large(&e, "c");
    assert!(e.message().contains("per row"), "{e}");
    // Under the caps all is as before.
    assert_eq!(body(&*engine, "SELECT length(zeroblob(1000)) AS n").await, r#"[{"n":1000}]"#);
}

#[tokio::test]
async fn mariadb_values_and_rows_over_the_caps_fail_naming_the_column() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(f) = MysqlDb::create().await else { return };
    f.exec_all(&[
        "CREATE TABLE t (id INT PRIMARY KEY, b LONGBLOB)",
        "INSERT INTO t VALUES (1, REPEAT('x', 3000000))",
    ])
    .await;
    let engine = f.engine(true).await;
    assert_too_large(
        &capped_error(&*engine, "SELECT REPEAT('x', 2000000) AS big", SMALL_VALUE, SMALL_ROW).await,
        "big",
    );
    assert_too_large(&capped_error(&*engine, "SELECT id, b FROM t", SMALL_VALUE, SMALL_ROW).await, "b");
    let e = capped_error(
        &*engine,
        "SELECT REPEAT('a', 800000) AS a, REPEAT('b', 800000) AS b, REPEAT('c', 800000) AS c",
        SMALL_VALUE,
        SMALL_ROW,
    )
    .await;
    assert_too_large(&e, "c");
    // The engine goes on serving.
    assert_eq!(body(&*engine, "SELECT LENGTH(b) AS n FROM t").await, r#"[{"n":3000000}]"#);
}

#[tokio::test]
async fn postgres_values_and_rows_over_the_caps_fail_naming_the_column() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(f) = PostgresDb::create().await else { return };
    let engine = f.engine(true).await;
    // The driver would read this row whole (and twice over while its buffer grows, 2.5 GiB for
    // 900 MB): the server-side size check stops it first.
    let (result, growth) = peak_growth_mib(async {
        let (sink, mut rx) = ResultSink::new(SinkOptions::new(Format::Json, 10));
        let drain = async move { while rx.recv().await.is_some() {} };
        tokio::join!(engine.query(query("SELECT repeat('x', 300000000) AS z"), sink), drain).0
    })
    .await;
    assert_too_large(&result.expect_err("300 MB is over the default cap"), "z");
    eprintln!("postgres repeat('x', 300000000): peak grew by {growth} MiB");
    assert!(growth < 64, "peak memory grew by {growth} MiB");
    assert_too_large(
        &capped_error(&*engine, "SELECT repeat('x', 2000000) AS big", SMALL_VALUE, SMALL_ROW).await,
        "big",
    );
    assert_too_large(
        &capped_error(&*engine, "SELECT decode(repeat('00', 2000000), 'hex') AS bin", SMALL_VALUE, SMALL_ROW)
            .await,
        "bin",
    );
    let e = capped_error(
        &*engine,
        "SELECT repeat('a', 800000) AS a, repeat('b', 800000) AS b, repeat('c', 800000) AS c",
        SMALL_VALUE,
        SMALL_ROW,
    )
    .await;
    assert_too_large(&e, "c");
    assert_eq!(body(&*engine, "SELECT length(repeat('x', 1000)) AS n").await, r#"[{"n":1000}]"#);
}

#[tokio::test]
async fn snowflake_values_over_the_caps_fail_naming_the_column() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(sf) = fakesnow::adapter() else { return };
    let engine = sf.password_user("CAPS").await;
    assert_too_large(
        &capped_error(&*engine, "SELECT REPEAT('x', 2000000) AS BIG", SMALL_VALUE, SMALL_ROW).await,
        "BIG",
    );
    let e = capped_error(
        &*engine,
        "SELECT REPEAT('a', 800000) AS A, REPEAT('b', 800000) AS B, REPEAT('c', 800000) AS C",
        SMALL_VALUE,
        SMALL_ROW,
    )
    .await;
    assert_too_large(&e, "C");
}
