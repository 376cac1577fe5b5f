//! The DuckDB engine on files written by DuckDB's Python package (tests/fixtures/duckdb/make.py):
//! every type of a `.duckdb` file to exact JSON, Parquet/CSV/JSON files and globs read by an
//! in-memory database, read-only refusals with every file's bytes unchanged, DuckDB's own locks
//! on settings, timeouts, departed clients, long results and row caps, parameters, bad paths and
//! the listings.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use connectors::duckdb::DuckdbSettings;
use connectors::{
    statement, ColumnKind, ConnectionSettings, Engine, ErrorKind, Format, Listing, ResultSink, Secrets,
    SinkOptions,
};
use dc_test_support::duckdb::{fixtures, tree_checksums};
use dc_test_support::engine::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Keeps DuckDB busy far longer than any test's timeout: only an interrupt stops it.
const ENDLESS: &str =
    "SELECT count(*) AS n FROM range(100000000000) a, range(1000) b WHERE a.range + b.range = -1";

async fn open(path: Option<&Path>, read_only: bool) -> Arc<dyn Engine> {
    let settings =
        ConnectionSettings::Duckdb(DuckdbSettings { path: path.map(Path::to_path_buf), read_only });
    connect_engine(settings, &Secrets::new()).await
}

/// A copy of the fixture `.duckdb` file in a folder of its own, so that its folder's contents can
/// be compared before and after (DuckDB would create a `.wal` or `.tmp` next to it on a write).
fn own_copy(dir: &Path) -> PathBuf {
    let from = fixtures().unwrap().join("sample.duckdb");
    let to = dir.join("sample.duckdb");
    std::fs::copy(&from, &to).unwrap();
    to
}

fn file(name: &str) -> String {
    fixtures().unwrap().join(name).display().to_string().replace('\'', "''")
}

#[tokio::test]
async fn every_type_of_a_duckdb_file_maps_to_exact_json() {
    if fixtures().is_none() {
        return;
    }
    let engine = open(Some(&fixtures().unwrap().join("sample.duckdb")), true).await;
    let out = output(&*engine, "SELECT * EXCLUDE (ttz), ttz::VARCHAR AS ttz FROM all_types WHERE b").await;
    let expected = serde_json::json!([{
        "b": true, "ti": -128, "si": -32768, "i": -2147483648i64, "bi": "-9223372036854775808",
        "hi": "-170141183460469231731687303715884105728",
        "uti": 255, "usi": 65535, "ui": 4294967295u64, "ubi": "18446744073709551615",
        "uhi": "340282366920938463463374607431768211455",
        "f": 1.1, "d": 0.1, "dec_small": -123.4,
        "v": "héllo 😀 \"q\"", "bl": "AP8Q", "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "m": "happy",
        "bits": "10101", "dt": "2024-02-29", "t": "13:05:06.250000",
        "ts": "2024-01-02T03:04:05.123456", "ts_s": "2024-01-02T03:04:05",
        "ts_ms": "2024-01-02T03:04:05.123000", "ts_ns": "2024-01-02T03:04:05.123456789",
        "tstz": "2024-01-02T01:04:05+00:00", "iv": "1 year 2 months 3 days 04:05:06.5",
        "l": "[1,null,3]", "s": "{\"id\":7,\"name\":\"x\"}", "mp": "{\"a\":1,\"b\":null}", "arr": "[1,2,3]",
        "un": "\"u\"", "nested": "[{\"tags\":[\"p\",\"q\"],\"at\":\"2024-05-06T07:08:09\"}]",
        "ttz": "13:05:06+05:30",
    }]);
    // Decimals keep every digit: compare their text, serde_json would round them.
    for digits in ["\"dec_big\":1234567890123456789012345678.0123456789,", "\"dec_mid\":123456789012345.678,"]
    {
        assert!(out.body.contains(digits), "{digits} in {}", out.body);
    }
    let mut got = out.json();
    got[0].as_object_mut().unwrap().remove("dec_big");
    got[0].as_object_mut().unwrap().remove("dec_mid");
    assert_eq!(got, expected);
    let kinds: Vec<(&str, ColumnKind)> = out.columns.iter().map(|c| (c.name.as_str(), c.kind)).collect();
    for (name, kind) in [
        ("hi", ColumnKind::Integer),
        ("uhi", ColumnKind::Integer),
        ("dec_big", ColumnKind::Decimal),
        ("dt", ColumnKind::Date),
        ("tstz", ColumnKind::DateTime),
        ("t", ColumnKind::Time),
        ("bl", ColumnKind::Binary),
        ("l", ColumnKind::Json),
        ("mp", ColumnKind::Json),
        ("v", ColumnKind::Text),
    ] {
        assert!(kinds.contains(&(name, kind)), "{name}: {kinds:?}");
    }
    let types: Vec<&str> = out.columns.iter().map(|c| c.db_type.as_str()).collect();
    assert!(types.contains(&"DECIMAL(38,10)") && types.contains(&"HUGEINT"), "{types:?}");

    // DuckDB's Arrow export drops a TIMETZ's offset: the column is refused, naming the cast.
    let e = error(&*engine, query("SELECT ttz FROM all_types WHERE b")).await;
    assert!(e.message().contains("ttz") && e.message().contains("CAST(ttz AS VARCHAR)"), "{}", e.message());

    // The row of NULLs: every column null, whatever its type.
    let nulls = output(&*engine, "SELECT * FROM all_types WHERE b IS NULL").await.json();
    let row = nulls[0].as_object().unwrap();
    assert_eq!(row.len(), out.columns.len());
    assert!(row.values().all(serde_json::Value::is_null), "{row:?}");
}

#[tokio::test]
async fn values_computed_in_memory_follow_the_same_rules() {
    let engine = open(None, true).await;
    for (sql, expected) in [
        (
            "SELECT 170141183460469231731687303715884105727::HUGEINT AS v",
            r#""170141183460469231731687303715884105727""#,
        ),
        ("SELECT 9007199254740993::HUGEINT AS v", r#""9007199254740993""#),
        ("SELECT 42::UHUGEINT AS v", "42"),
        ("SELECT -0.50::DECIMAL(3,2) AS v", "-0.50"),
        ("SELECT 0.00::DECIMAL(20,2) AS v", "0.00"),
        ("SELECT 'NaN'::DOUBLE AS v", "null"),
        ("SELECT 'infinity'::FLOAT AS v", "null"),
        ("SELECT DATE '0001-01-01' - INTERVAL 1 DAY AS v", r#""0000-12-31T00:00:00""#),
        ("SELECT TIMESTAMP 'infinity' AS v", r#""infinity""#),
        ("SELECT INTERVAL '-90 minutes' AS v", r#""-01:30:00""#),
        ("SELECT INTERVAL 0 DAY AS v", r#""00:00:00""#),
        ("SELECT gen_random_uuid() IS NOT NULL AS v", "true"),
        ("SELECT '\\xDE\\xAD'::BLOB AS v", r#""3q0=""#),
        ("SELECT [[1, 2], [3]] AS v", r#""[[1,2],[3]]""#),
        ("SELECT {'k': [1.5, NULL]} AS v", r#""{\"k\":[1.5,null]}""#),
        ("SELECT MAP {1: 'a'} AS v", r#""{\"1\":\"a\"}""#),
        ("SELECT [18446744073709551615::UHUGEINT * 2] AS v", r#""[\"36893488147419103230\"]""#),
    ] {
        assert_eq!(body(&*engine, sql).await, format!("[{{\"v\":{expected}}}]"), "{sql}");
    }
    // Duplicate names keep every value.
    assert_eq!(body(&*engine, "SELECT 1 AS a, 2 AS a").await, r#"[{"a":1,"a_2":2}]"#);
}

#[tokio::test]
async fn an_in_memory_database_reads_parquet_csv_json_and_globs() {
    let Some(dir) = fixtures() else { return };
    let engine = open(None, true).await;
    let expected = r#"[{"id":1,"day":"2024-01-02","price":101.25,"name":"AAPL"},{"id":2,"day":"2024-01-03","price":99.50,"name":"MSFT"},{"id":3,"day":"2024-01-04","price":100.00,"name":"AAPL"}]"#;
    for source in [
        format!("read_parquet('{}')", file("prices.parquet")),
        format!("'{}'", file("prices.parquet")),
        format!("read_parquet('{}/parts/*.parquet')", dir.display()),
    ] {
        let sql = format!("SELECT * FROM {source} ORDER BY id");
        assert_eq!(body(&*engine, &sql).await, expected, "{sql}");
    }
    // CSV and JSON carry no DECIMAL type: DuckDB's readers guess DOUBLE.
    let loose = r#"[{"id":1,"day":"2024-01-02","price":101.25,"name":"AAPL"},{"id":2,"day":"2024-01-03","price":99.5,"name":"MSFT"},{"id":3,"day":"2024-01-04","price":100.0,"name":"AAPL"}]"#;
    for source in [
        format!("read_csv('{}')", file("prices.csv")),
        format!("'{}'", file("odd name's.csv")),
        format!("read_json('{}')", file("prices.json")),
    ] {
        let sql = format!("SELECT id, day, price, name FROM {source} ORDER BY id");
        assert_eq!(body(&*engine, &sql).await, loose, "{sql}");
    }
    let types = body(
        &*engine,
        &format!("SELECT hi, dec_big, tstz, l, s, mp, u, bl FROM '{}'", file("types.parquet")),
    )
    .await;
    assert!(types.contains("\"dec_big\":1234567890123456789012345678.0123456789"), "{types}");
    assert!(types.contains("\"tstz\":\"2024-01-02T01:04:05+00:00\""), "{types}");
    assert!(types.contains("\"l\":\"[1,null,3]\""), "{types}");

    let e = error(&*engine, query(&format!("SELECT * FROM '{}/nothing-*.parquet'", dir.display()))).await;
    assert_kind(&e, ErrorKind::Sql);
    assert!(e.message().contains("No files found"), "{}", e.message());
}

#[tokio::test]
async fn read_only_refusals_leave_every_byte_unchanged() {
    if fixtures().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = own_copy(dir.path());
    let out = dir.path().join("out");
    let before = tree_checksums(dir.path());
    let engine = open(Some(&path), true).await;
    let target = out.display().to_string();
    for sql in [
        "CREATE TABLE t (x INTEGER)".to_string(),
        "INSERT INTO prices VALUES (9, DATE '2024-01-09', 1, 'X')".to_string(),
        "UPDATE prices SET price = 0".to_string(),
        "DROP VIEW recent_prices".to_string(),
        format!("COPY prices TO '{target}.csv'"),
        format!("COPY (SELECT 1) TO '{target}.parquet' (FORMAT parquet)"),
        format!("EXPORT DATABASE '{target}'"),
        format!("IMPORT DATABASE '{target}'"),
        format!("ATTACH '{target}.duckdb' AS other"),
        format!("ATTACH '{target}.duckdb' AS other (READ_ONLY false)"),
        "DETACH sample".to_string(),
        "INSTALL httpfs".to_string(),
        "FORCE INSTALL httpfs".to_string(),
        "LOAD httpfs".to_string(),
        "SET enable_external_access = true".to_string(),
        "SET autoinstall_known_extensions = true".to_string(),
        "SET allow_community_extensions = true".to_string(),
        "PRAGMA enable_profiling".to_string(),
        "CALL checkpoint()".to_string(),
        "CHECKPOINT".to_string(),
        "SELECT 1; DROP TABLE prices".to_string(),
    ] {
        let e = error(&*engine, query(&sql)).await;
        assert_kind(&e, ErrorKind::ReadOnly);
        assert!(!e.message().is_empty(), "{sql}");
    }
    // What the guard lets through still reads only; the folder is exactly as it was.
    assert_eq!(body(&*engine, "SELECT count(*) AS n FROM prices").await, r#"[{"n":3}]"#);
    drop(engine);
    assert_eq!(tree_checksums(dir.path()), before);
}

#[tokio::test]
async fn duckdb_holds_its_own_line_where_the_guard_lets_a_statement_pass() {
    if fixtures().is_none() {
        return;
    }
    // A writable connection may SET, but lock_configuration makes every setting final: nothing
    // widens access, whatever the guard allowed.
    let dir = tempfile::tempdir().unwrap();
    let path = own_copy(dir.path());
    let engine = open(Some(&path), false).await;
    for sql in [
        "SET enable_external_access = true",
        "SET autoinstall_known_extensions = true",
        "SET autoload_known_extensions = true",
        "SET allow_community_extensions = true",
        "SET lock_configuration = false",
        "SET temp_directory = '/tmp/elsewhere'",
    ] {
        let e = error(&*engine, query(sql)).await;
        assert!(e.message().to_lowercase().contains("lock"), "{sql}: {}", e.message());
    }
    // COPY ... TO, EXPORT and INSTALL are refused on writable connections too.
    for sql in ["COPY prices TO '/tmp/dc-never.csv'", "EXPORT DATABASE '/tmp/dc-never'", "INSTALL httpfs"] {
        assert_kind(&error(&*engine, query(sql)).await, ErrorKind::ReadOnly);
    }
    assert!(!Path::new("/tmp/dc-never.csv").exists());
    // Writes to the database itself are what a writable connection is for.
    body(&*engine, "INSERT INTO prices VALUES (4, DATE '2024-01-05', 1.00, 'NEW')").await;
    assert_eq!(body(&*engine, "SELECT count(*) AS n FROM prices").await, r#"[{"n":4}]"#);
    // A run forced read-only (MCP, GET) on the writable connection is refused like a read-only one.
    let mut forced = query("DELETE FROM prices");
    forced.force_read_only = true;
    assert_kind(&error(&*engine, forced).await, ErrorKind::ReadOnly);
}

#[tokio::test]
async fn queries_stop_at_their_timeout_and_when_the_client_leaves() {
    let engine = open(None, true).await;
    let started = std::time::Instant::now();
    let e = error(&*engine, query_with(ENDLESS, vec![], Duration::from_millis(500))).await;
    assert_kind(&e, ErrorKind::Timeout);
    assert!(e.message().contains("500 ms"), "{}", e.message());
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());

    let (sink, rx) = ResultSink::new(SinkOptions::new(Format::Json, u64::MAX));
    let task = tokio::spawn({
        let engine = engine.clone();
        async move { engine.query(query(ENDLESS), sink).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(rx);
    let result =
        tokio::time::timeout(Duration::from_secs(5), task).await.expect("the engine noticed").unwrap();
    assert_kind(&result.unwrap_err(), ErrorKind::Cancelled);
    assert_eq!(body(&*engine, "SELECT 1 AS x").await, r#"[{"x":1}]"#);
}

#[tokio::test]
async fn a_million_parquet_rows_stream_and_row_caps_stop() {
    if fixtures().is_none() {
        return;
    }
    let engine = open(None, true).await;
    let sql = format!("SELECT * FROM read_parquet('{}')", file("big.parquet"));
    let (sink, mut rx) = ResultSink::new(SinkOptions::new(Format::Ndjson, u64::MAX));
    let reader = async move {
        let (mut lines, mut chunks, mut last) = (0u64, 0u64, Vec::new());
        while let Some(event) = rx.recv().await {
            let bytes: Vec<u8> = match event {
                connectors::StreamEvent::Started { first, .. } => first.concat(),
                connectors::StreamEvent::Chunk(chunk) => chunk.to_vec(),
                connectors::StreamEvent::Complete { body, .. } => body.concat(),
                connectors::StreamEvent::Finished { .. } => continue,
            };
            chunks += 1;
            lines += bytes.iter().filter(|b| **b == b'\n').count() as u64;
            last = bytes;
        }
        (lines, chunks, last)
    };
    let (result, (lines, chunks, last)) = tokio::join!(engine.query(query(&sql), sink), reader);
    result.unwrap();
    assert_eq!(lines, 1_000_000);
    assert!(chunks > 10, "{chunks} chunks: not streamed");
    let tail = String::from_utf8(last).unwrap();
    assert!(tail.contains("\"name\":\"name-"), "{tail}");

    let out = run_limited(&*engine, query(&sql), 10).await.unwrap();
    assert_eq!((out.rows, out.truncated), (10, true));
    let checked = statement::check(&sql, true).unwrap();
    assert!(engine.exceeds(&checked, &query(&sql), 999_999).await.unwrap());
    assert!(!engine.exceeds(&checked, &query(&sql), 1_000_000).await.unwrap());
}

#[tokio::test]
async fn parameters_bind_and_missing_ones_are_refused() {
    let engine = open(None, true).await;
    assert_parameters_bind(
        &*engine,
        "SELECT ? AS n, ? AS b, ? AS i, ? AS f, ? AS t",
        r#"[{"n":null,"b":true,"i":"-9007199254740993","f":1.5,"t":"it's 😀"}]"#,
    )
    .await;
    assert_missing_parameter_refused(&*engine, "SELECT ? AS x").await;
    let out = run(
        &*engine,
        query_with(
            "SELECT DATE '2024-01-02' = ? AS same",
            vec![connectors::Param::Text("2024-01-02".into())],
            QUERY_TIMEOUT,
        ),
    )
    .await
    .unwrap();
    assert_eq!(out.body, r#"[{"same":true}]"#);
}

#[tokio::test]
async fn bad_paths_are_refused_with_the_reason() {
    let Some(dir) = fixtures() else { return };
    let cases = [
        (PathBuf::from("relative.duckdb"), ErrorKind::InvalidInput, "absolute"),
        (dir.join("missing.duckdb"), ErrorKind::NotFound, "does not exist"),
        (dir.join("prices.csv"), ErrorKind::InvalidInput, "cannot open DuckDB database"),
        (PathBuf::from("/nonexistent-dir/x.duckdb"), ErrorKind::NotFound, "does not exist"),
    ];
    for (path, kind, words) in cases {
        let settings =
            ConnectionSettings::Duckdb(DuckdbSettings { path: Some(path.clone()), read_only: true });
        let e = connect_error(settings, &Secrets::new()).await;
        assert_kind(&e, kind);
        assert!(e.message().contains(words), "{}: {}", path.display(), e.message());
    }
    // A folder is an in-memory database whose relative file names start there.
    let folder = open(Some(dir), true).await;
    assert_eq!(body(&*folder, "SELECT count(*) AS n FROM 'prices.parquet'").await, r#"[{"n":3}]"#);
    assert_eq!(
        body(&*folder, "SELECT count(*) AS n FROM read_csv('parts/../prices.csv')").await,
        r#"[{"n":3}]"#
    );

    // A writable connection to a missing file creates it, but only in a folder that exists.
    let settings = ConnectionSettings::Duckdb(DuckdbSettings {
        path: Some(PathBuf::from("/nonexistent-dir/x.duckdb")),
        read_only: false,
    });
    assert_kind(&connect_error(settings, &Secrets::new()).await, ErrorKind::NotFound);
    let scratch = tempfile::tempdir().unwrap();
    let fresh = scratch.path().join("new.duckdb");
    let engine = open(Some(&fresh), false).await;
    body(&*engine, "CREATE TABLE t AS SELECT 1 AS x").await;
    assert_eq!(body(&*engine, "SELECT * FROM t").await, r#"[{"x":1}]"#);
}

#[tokio::test]
async fn schema_browsing_lists_tables_views_and_columns() {
    let Some(dir) = fixtures() else { return };
    let engine = open(Some(&dir.join("sample.duckdb")), true).await;
    assert!(
        engine.server_version().await.unwrap().starts_with("DuckDB v"),
        "{}",
        engine.server_version().await.unwrap()
    );
    assert_eq!(engine.list(Listing::Databases).await.unwrap(), ["sample"]);
    assert_eq!(engine.list(Listing::Schemas).await.unwrap(), ["main", "other"]);
    assert_kind(&engine.list(Listing::Roles).await.unwrap_err(), ErrorKind::Unsupported);

    let tables = engine.tables(None).await.unwrap();
    let found: Vec<_> =
        tables.iter().map(|t| (t.schema.as_str(), t.name.as_str(), t.kind.as_str())).collect();
    assert_eq!(
        found,
        [
            ("main", "all_types", "table"),
            ("main", "prices", "table"),
            ("main", "recent_prices", "view"),
            ("other", "notes", "table")
        ]
    );
    let other = engine.tables(Some("other")).await.unwrap();
    assert_eq!(other.len(), 1);

    let columns = engine.columns(Some("other"), "notes").await.unwrap();
    let found: Vec<_> = columns.iter().map(|c| (c.name.as_str(), c.db_type.as_str(), c.nullable)).collect();
    assert_eq!(found, [("id", "INTEGER", false), ("body", "VARCHAR", true)]);
    assert_eq!(engine.columns(None, "prices").await.unwrap().len(), 4);
    assert_kind(&engine.columns(None, "missing").await.unwrap_err(), ErrorKind::NotFound);
    assert_kind(
        &engine.columns(Some("x'; DROP TABLE prices; --"), "prices").await.unwrap_err(),
        ErrorKind::NotFound,
    );

    let memory = open(None, true).await;
    assert_eq!(memory.list(Listing::Databases).await.unwrap(), ["memory"]);
    assert!(memory.tables(None).await.unwrap().is_empty());
}
