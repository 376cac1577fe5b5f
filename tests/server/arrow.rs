//! The Arrow IPC stream (`Accept: application/vnd.apache.arrow.stream`, `"format": "arrow"`),
//! read back by pyarrow and polars (tests/arrow/read.py in the venv `tests/arrow/setup.sh`
//! makes) on SQLite, MariaDB and PostgreSQL: each engine's types become the Arrow types
//! docs/type-mapping.md lists, exactly.

use crate::common::*;
use dc_test_support::mysql::MysqlDb;
use dc_test_support::postgres::PostgresDb;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const ARROW: &str = "application/vnd.apache.arrow.stream";

/// The venv's Python, or `None` when the developer opted out (DC_SKIP_ARROW=1).
fn python() -> Option<PathBuf> {
    if dc_test_support::skip::skipped(dc_test_support::skip::Need::Arrow) {
        return None;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv =
        std::env::var_os("DC_ARROW_VENV").map(PathBuf::from).unwrap_or_else(|| root.join(".venv-arrow"));
    let python = venv.join("bin").join("python");
    let works = Command::new(&python)
        .args(["-c", "import pyarrow, polars"])
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        works,
        "the Arrow tests need pyarrow and polars in {}: run `tests/arrow/setup.sh` (or set DC_SKIP_ARROW=1 \
         to skip them locally; CI never skips)",
        venv.display()
    );
    Some(python)
}

/// What pyarrow and polars make of an Arrow stream; asserts polars agrees with pyarrow.
fn read_back(python: &Path, dir: &Path, body: &[u8]) -> Value {
    let file = dir.join("result.arrows");
    std::fs::write(&file, body).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/arrow/read.py");
    let out = Command::new(python).arg(script).arg(&file).output().unwrap();
    assert!(out.status.success(), "read.py failed: {}", String::from_utf8_lossy(&out.stderr));
    let read: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(read["polars_matches"], true, "{read}");
    read
}

/// Runs `sql` as Arrow; the status, content type and body.
async fn arrow_query(s: &TestServer, connection: &str, sql: &str) -> (u16, String, Vec<u8>) {
    let response = s
        .client
        .post(s.at("/api/v1/query"))
        .header("accept", ARROW)
        .json(&json!({"connection": connection, "sql": sql, "limit": 1_000_000}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, content_type, response.bytes().await.unwrap().to_vec())
}

fn schema(read: &Value) -> Vec<(String, String)> {
    read["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f[0].as_str().unwrap().to_string(), f[1].as_str().unwrap().to_string()))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[tokio::test]
async fn sqlite_types_become_arrow_types_read_by_pyarrow_and_polars() {
    let Some(python) = python() else { return };
    let s = start().await;
    let path = s.dir.path().join("types.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE v (i INTEGER, r REAL, t TEXT, b BLOB, d DATE, ts DATETIME, dec NUMERIC(10,2),
                         flag BOOLEAN, blank TEXT);
         INSERT INTO v VALUES (9223372036854775807, 0.1, 'Zürich 😀', x'00ff10', '2024-05-01',
                               '2024-05-01 13:14:15.5', '12.50', 1, NULL);
         INSERT INTO v VALUES (NULL, 2, NULL, NULL, NULL, NULL, NULL, 0, NULL);",
    )
    .unwrap();
    drop(conn);
    s.add_sqlite("v", &path, true).await;
    let (status, content_type, body) = arrow_query(&s, "v", "select *, 1 + 1 as expr from v").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(content_type, ARROW);
    let read = read_back(&python, s.dir.path(), &body);
    assert_eq!(
        schema(&read),
        pairs(&[
            ("i", "int64"),
            ("r", "double"),
            ("t", "string"),
            ("b", "binary"),
            ("d", "date32[day]"),
            ("ts", "timestamp[us]"),
            // SQLite keeps NUMERIC values as REAL: no decimal digits to keep.
            ("dec", "double"),
            ("flag", "bool"),
            ("blank", "string"),
            ("expr", "int64"),
        ])
    );
    assert_eq!(
        read["rows"],
        json!([
            {"i": 9223372036854775807i64, "r": 0.1, "t": "Zürich 😀", "b": "00ff10", "d": "2024-05-01",
             "ts": "2024-05-01T13:14:15.500000", "dec": 12.5, "flag": true, "blank": null, "expr": 2},
            // The REAL column's integer 2 stays a double; nulls stay nulls.
            {"i": null, "r": 2.0, "t": null, "b": null, "d": null, "ts": null, "dec": null, "flag": false,
             "blank": null, "expr": 2},
        ])
    );
    // `"format": "arrow"` gives the same bytes as the Accept header.
    let by_field = s
        .client
        .post(s.at("/api/v1/query"))
        .json(&json!({"connection": "v", "sql": "select *, 1 + 1 as expr from v", "format": "arrow"}))
        .send()
        .await
        .unwrap();
    assert_eq!(by_field.bytes().await.unwrap().to_vec(), body);
}

#[tokio::test]
async fn a_long_result_streams_in_batches_and_an_empty_one_has_its_schema() {
    let Some(python) = python() else { return };
    let s = start().await;
    let db = items_db(s.dir.path(), 1);
    s.add_sqlite("shop", &db, true).await;
    let sql = "with recursive n(x) as (select 1 union all select x + 1 from n where x < 200000) \
               select x, 'row ' || x as label, x * 0.5 as half from n";
    let (status, _, body) = arrow_query(&s, "shop", sql).await;
    assert_eq!(status, 200);
    assert!(body.len() > 2 << 20, "longer than the held-back window: {}", body.len());
    let read = read_back(&python, s.dir.path(), &body);
    assert_eq!(read["polars_rows"], 200_000);
    assert_eq!(read["rows"][199_999], json!({"x": 200000, "label": "row 200000", "half": 100000.0}));

    let (status, _, body) = arrow_query(&s, "shop", "select id, name from items where id < 0").await;
    assert_eq!(status, 200);
    let read = read_back(&python, s.dir.path(), &body);
    assert_eq!(read["polars_rows"], 0);
    assert_eq!(read["polars_columns"], json!(["id", "name"]));
}

#[tokio::test]
async fn a_value_that_does_not_fit_its_column_fails_with_the_column_named() {
    let s = start().await;
    let path = s.dir.path().join("mixed.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE m (n INTEGER); INSERT INTO m VALUES (1), ('not a number');").unwrap();
    drop(conn);
    s.add_sqlite("m", &path, true).await;
    let (status, _, body) = arrow_query(&s, "m", "select n from m").await;
    let detail: Value = serde_json::from_slice(&body).unwrap();
    assert!((400..500).contains(&status), "{status} {detail}");
    let message = detail["detail"].as_str().unwrap();
    assert!(message.contains("column \"n\" (row 2)") && message.contains("CAST"), "{message}");
    // JSON still answers the same query, and the server is alive.
    let (status, _, body) = s.query_text(json!({"connection": "m", "sql": "select n from m"})).await;
    assert_eq!((status, body.as_str()), (200, r#"[{"n":1},{"n":"not a number"}]"#));
}

#[tokio::test]
async fn an_unknown_format_is_refused() {
    let s = start().await;
    let db = items_db(s.dir.path(), 1);
    s.add_sqlite("shop", &db, true).await;
    let (status, _, body) =
        s.post("/api/v1/query", json!({"connection": "shop", "sql": "select 1", "format": "parquet"})).await;
    assert_eq!(status, 400);
    assert!(body["detail"].as_str().unwrap().contains("arrow"), "{body}");
}

#[tokio::test]
async fn mariadb_types_become_arrow_types() {
    let Some(python) = python() else { return };
    let Some(db) = MysqlDb::create().await else { return };
    db.exec_all(&[
        "CREATE TABLE t (id BIGINT UNSIGNED, price DECIMAL(12,3), at DATETIME(6), stamp TIMESTAMP NULL,
                         day DATE, clock TIME, x DOUBLE, name VARCHAR(20), raw VARBINARY(4))",
        "INSERT INTO t VALUES (18446744073709551615, -1234.500, '2024-01-02 03:04:05.123456',
                               '2024-01-02 03:04:05', '2024-01-02', '13:14:15', 1.5, 'né', x'0102')",
        "INSERT INTO t VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    ])
    .await;
    let s = start().await;
    let connection = json!({"name": "m", "kind": "mysql", "host": db.host, "port": db.port, "database": db.db,
        "user": db.user, "password": db.password, "tls": "prefer"});
    let (status, _, created) = s.post("/api/v1/connections", connection).await;
    assert_eq!(status, 201, "{created}");
    let (status, _, body) = arrow_query(&s, "m", "SELECT * FROM t ORDER BY id IS NULL").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let read = read_back(&python, s.dir.path(), &body);
    assert_eq!(
        schema(&read),
        pairs(&[
            ("id", "uint64"),
            ("price", "decimal128(38, 3)"),
            ("at", "timestamp[us]"),
            ("stamp", "timestamp[us, tz=UTC]"),
            ("day", "date32[day]"),
            ("clock", "time64[us]"),
            ("x", "double"),
            ("name", "string"),
            ("raw", "binary"),
        ])
    );
    assert_eq!(
        read["rows"][0],
        json!({"id": 18446744073709551615u64, "price": "-1234.500", "at": "2024-01-02T03:04:05.123456",
               "stamp": read["rows"][0]["stamp"], "day": "2024-01-02", "clock": "13:14:15", "x": 1.5,
               "name": "né", "raw": "0102"})
    );
    assert!(read["rows"][0]["stamp"].as_str().unwrap().ends_with("+00:00"), "{read}");
    assert!(read["rows"][1].as_object().unwrap().values().all(Value::is_null), "{read}");
}

#[tokio::test]
async fn postgres_types_become_arrow_types() {
    let Some(python) = python() else { return };
    let Some(db) = PostgresDb::create().await else { return };
    db.exec_all(&[
        "CREATE TABLE t (id int8, price numeric(12,3), at timestamp, stamp timestamptz, day date,
                         clock time, x float8, ok boolean, name text, raw bytea)",
        "INSERT INTO t VALUES (-5, 1234.5, '2024-01-02 03:04:05.25', '2024-01-02 03:04:05+02', '2024-01-02',
                               '13:14:15.5', 1.5, true, 'né', '\\x0102')",
    ])
    .await;
    let s = start().await;
    let connection = json!({"name": "pg", "kind": "postgres", "host": db.host, "port": db.port,
        "database": db.db, "user": db.user, "password": db.password, "tls": "prefer"});
    let (status, _, created) = s.post("/api/v1/connections", connection).await;
    assert_eq!(status, 201, "{created}");
    let (status, _, body) = arrow_query(&s, "pg", "SELECT * FROM t").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let read = read_back(&python, s.dir.path(), &body);
    assert_eq!(
        schema(&read),
        pairs(&[
            ("id", "int64"),
            ("price", "decimal128(38, 3)"),
            ("at", "timestamp[us]"),
            ("stamp", "timestamp[us, tz=UTC]"),
            ("day", "date32[day]"),
            ("clock", "time64[us]"),
            ("x", "double"),
            ("ok", "bool"),
            ("name", "string"),
            ("raw", "binary"),
        ])
    );
    assert_eq!(
        read["rows"][0],
        json!({"id": -5, "price": "1234.500", "at": "2024-01-02T03:04:05.250000",
               "stamp": "2024-01-02T01:04:05+00:00", "day": "2024-01-02", "clock": "13:14:15.500000",
               "x": 1.5, "ok": true, "name": "né", "raw": "0102"})
    );
}

#[tokio::test]
async fn duckdb_types_become_arrow_types() {
    let Some(python) = python() else { return };
    let s = start().await;
    let (status, _, body) =
        s.post("/api/v1/connections", json!({"name": "d", "kind": "duckdb", "read_only": true})).await;
    assert_eq!(status, 201, "{body}");
    let sql = "select 42::HUGEINT as small_huge, -1234.500::DECIMAL(12,3) as price, \
               TIMESTAMPTZ '2024-01-02 03:04:05.25+02:00' as stamp, TIMESTAMP '2024-01-02 03:04:05' as at, \
               DATE '2024-02-29' as day, [1, NULL, 3] as list, 'né' as name, 1.5::DOUBLE as x, \
               true as flag, '\\x01\\x02'::BLOB as raw";
    let (status, content_type, body) = arrow_query(&s, "d", sql).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(content_type, ARROW);
    let read = read_back(&python, s.dir.path(), &body);
    assert_eq!(
        schema(&read),
        pairs(&[
            ("small_huge", "int64"),
            ("price", "decimal128(12, 3)"),
            ("stamp", "timestamp[us, tz=UTC]"),
            ("at", "timestamp[us]"),
            ("day", "date32[day]"),
            // LIST, STRUCT and MAP are JSON text, as in JSON answers.
            ("list", "string"),
            ("name", "string"),
            ("x", "double"),
            ("flag", "bool"),
            ("raw", "binary"),
        ])
    );
    assert_eq!(
        read["rows"],
        json!([{"small_huge": 42, "price": "-1234.500", "stamp": "2024-01-02T01:04:05.250000+00:00",
                "at": "2024-01-02T03:04:05", "day": "2024-02-29", "list": "[1,null,3]", "name": "né",
                "x": 1.5, "flag": true, "raw": "0102"}])
    );
}
