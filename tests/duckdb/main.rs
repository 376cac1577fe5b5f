//! The DuckDB engine through the HTTP API, end to end, on files written by DuckDB's Python
//! package (tests/fixtures/duckdb/make.py): a connection made with `{"kind": "duckdb"}`, Parquet,
//! CSV and the `.duckdb` file queried over HTTP, read-only refusals as 4xx `{"detail"}` with the
//! files' bytes unchanged, bad paths as 4xx, timeouts as 504, schema browsing, and a million
//! Parquet rows streamed by the real server binary with its peak memory measured.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use dc_test_support::duckdb::{fixtures, tree_checksums};
use dc_test_support::server::{start, TestServer};
use futures::StreamExt;
use serde_json::{json, Value};
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// The peak resident memory the server may reach while streaming a million Parquet rows as JSON.
/// Measured: 115 MiB (DuckDB's threads and buffers and the binary take most of it); the result
/// itself must not (its 66 MB of JSON would blow through this).
const PEAK_RSS_LIMIT_MIB: u64 = 256;

fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

async fn add_duckdb(s: &TestServer, name: &str, path: Option<&Path>, read_only: bool) -> Value {
    let mut body = json!({"name": name, "kind": "duckdb", "read_only": read_only});
    if let Some(path) = path {
        body["path"] = json!(path);
    }
    let (status, _, body) = s.post("/api/v1/connections", body).await;
    assert_eq!(status, 201, "{body}");
    body
}

fn quoted(path: &Path) -> String {
    path.display().to_string().replace('\'', "''")
}

#[tokio::test]
async fn files_and_a_duckdb_file_are_queried_over_http() {
    let Some(dir) = fixtures() else { return };
    let s = start().await;
    add_duckdb(&s, "files", None, true).await;
    let sql = format!("select * from read_parquet('{}/parts/*.parquet') order by id", quoted(dir));
    let (status, _, body) = s.query_text(json!({"connection": "files", "sql": sql})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        r#"[{"id":1,"day":"2024-01-02","price":101.25,"name":"AAPL"},{"id":2,"day":"2024-01-03","price":99.50,"name":"MSFT"},{"id":3,"day":"2024-01-04","price":100.00,"name":"AAPL"}]"#
    );
    let csv = format!(
        "select name, count(*) as n from '{}' group by name order by name",
        quoted(&dir.join("prices.csv"))
    );
    let (status, _, body) = s.query_text(json!({"connection": "files", "sql": csv, "params": []})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, r#"[{"name":"AAPL","n":2},{"name":"MSFT","n":1}]"#);
    let with_param =
        format!("select count(*) as n from '{}' where name = ?", quoted(&dir.join("prices.parquet")));
    let (status, _, body) =
        s.query_text(json!({"connection": "files", "sql": with_param, "params": ["AAPL"]})).await;
    assert_eq!((status, body.as_str()), (200, r#"[{"n":2}]"#));

    add_duckdb(&s, "sample", Some(&dir.join("sample.duckdb")), true).await;
    let (status, _, body) = s
        .query_text(json!({"connection": "sample", "sql": "select hi, uhi, dec_big, tstz, mp from all_types where b"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        r#"[{"hi":"-170141183460469231731687303715884105728","uhi":"340282366920938463463374607431768211455","dec_big":1234567890123456789012345678.0123456789,"tstz":"2024-01-02T01:04:05+00:00","mp":"{\"a\":1,\"b\":null}"}]"#
    );
    let (status, headers, text) = s
        .client
        .post(s.at("/api/v1/query"))
        .header("accept", "text/csv")
        .json(&json!({"connection": "sample", "sql": "select id, price from prices order by id"}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r.headers().clone(), r))
        .unwrap();
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert_eq!(text.text().await.unwrap(), "id,price\n1,101.25\n2,99.50\n3,100.00\n");
}

#[tokio::test]
async fn read_only_refusals_are_4xx_details_and_change_no_file() {
    let Some(fixture_dir) = fixtures() else { return };
    let s = start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sample.duckdb");
    std::fs::copy(fixture_dir.join("sample.duckdb"), &path).unwrap();
    std::fs::copy(fixture_dir.join("prices.parquet"), dir.path().join("prices.parquet")).unwrap();
    let before = tree_checksums(dir.path());
    add_duckdb(&s, "ro", Some(&path), true).await;
    add_duckdb(&s, "mem", None, true).await;
    let out = quoted(&dir.path().join("out"));
    let parquet = quoted(&dir.path().join("prices.parquet"));
    for (connection, sql) in [
        ("ro", "create table t (x int)".to_string()),
        ("ro", "insert into prices select * from prices".to_string()),
        ("ro", format!("copy prices to '{out}.csv'")),
        ("mem", format!("copy (select * from '{parquet}') to '{parquet}'")),
        ("ro", format!("export database '{out}'")),
        ("ro", format!("attach '{out}.duckdb' as w (read_only false)")),
        ("mem", format!("attach '{out}.duckdb'")),
        ("mem", "install httpfs".to_string()),
        ("mem", "load httpfs".to_string()),
        ("ro", "set enable_external_access = true".to_string()),
        ("mem", "set autoload_known_extensions = true".to_string()),
        ("ro", "pragma enable_profiling".to_string()),
        ("ro", "checkpoint".to_string()),
    ] {
        let (status, _, body) = s.query_text(json!({"connection": connection, "sql": sql})).await;
        assert!((400..500).contains(&status), "{sql}: {status} {body}");
        let detail: Value = serde_json::from_str(&body).unwrap();
        assert!(detail["detail"].as_str().is_some_and(|d| !d.is_empty()), "{sql}: {body}");
    }
    let (status, _, _) =
        s.query_text(json!({"connection": "ro", "sql": "select count(*) from prices"})).await;
    assert_eq!(status, 200, "the server and the connection are still up");
    // Deleting the connection closes the database; the folder is exactly as it was.
    let (status, _, _) = s.delete("/api/v1/connections/ro").await;
    assert!(status < 300, "{status}");
    assert_eq!(tree_checksums(dir.path()), before);
}

#[tokio::test]
async fn bad_paths_and_settings_get_4xx_details() {
    let Some(dir) = fixtures() else { return };
    let s = start().await;
    let not_a_db = dir.join("prices.csv");
    for body in [
        json!({"name": "a", "kind": "duckdb", "path": "relative.duckdb"}),
        json!({"name": "b", "kind": "duckdb", "path": dir.join("missing.duckdb")}),
        json!({"name": "d", "kind": "duckdb", "path": not_a_db}),
        json!({"name": "e", "kind": "duckdb", "path": "/../../etc/passwd"}),
        json!({"name": "f", "kind": "duckdb", "path": "/dev/null"}),
        json!({"name": "g", "kind": "duckdb", "path": 7}),
        json!({"name": "h", "kind": "duckdb", "path": "/tmp/x\u{0}y.duckdb"}),
        json!({"name": "i", "kind": "duckdb", "path": format!("/{}", "a".repeat(5000))}),
        json!({"name": "j", "kind": "duckdb", "threads": 64}),
    ] {
        let (status, _, answer) = s.post("/api/v1/connections", body.clone()).await;
        assert!((400..500).contains(&status), "{body}: {status} {answer}");
        assert!(answer["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}: {answer}");
    }
    // Paths inside queries are the user's to choose; a bad one is a 4xx too.
    add_duckdb(&s, "mem", None, true).await;
    for sql in [
        "select * from '/nonexistent/*.parquet'",
        "select * from read_parquet('/etc/passwd')",
        "select * from read_csv('/proc/self/nonexistent')",
        "select * from read_json('/nonexistent/events.json')",
    ] {
        let (status, _, body) = s.query_text(json!({"connection": "mem", "sql": sql})).await;
        assert!((400..500).contains(&status), "{sql}: {status} {body}");
    }
    let (status, _, _) = s.get("/health").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn timeouts_answer_504_and_schema_browsing_lists_tables_and_views() {
    let Some(dir) = fixtures() else { return };
    let s = start().await;
    add_duckdb(&s, "mem", None, true).await;
    let endless = "select count(*) from range(100000000000) a, range(1000) b where a.range + b.range = -1";
    let started = Instant::now();
    let (status, _, body) =
        s.query_text(json!({"connection": "mem", "sql": endless, "timeout_ms": 500})).await;
    assert_eq!(status, 504, "{body}");
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());

    add_duckdb(&s, "sample", Some(&dir.join("sample.duckdb")), true).await;
    let (status, _, body) = s.get("/api/v1/connections/sample/tables").await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<(String, String)> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_string(), t["kind"].as_str().unwrap().to_string()))
        .collect();
    for expected in
        [("prices", "table"), ("recent_prices", "view"), ("notes", "table"), ("all_types", "table")]
    {
        assert!(names.contains(&(expected.0.to_string(), expected.1.to_string())), "{names:?}");
    }
    let (status, _, body) = s.get("/api/v1/connections/sample/tables/prices/columns").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_array().unwrap().len(), 4, "{body}");
}

/// VmHWM (peak resident set) of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn a_million_parquet_rows_stream_from_the_server_with_flat_memory() {
    let Some(dir) = fixtures() else { return };
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_data-connector"))
        .args(["serve", "--port", "0", "--ephemeral-secrets", "--data-dir"])
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line}")).to_string();
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{url}/api/v1/connections"))
        .json(&json!({"name": "files", "kind": "duckdb"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let pid = child.id();
    let sql = format!("select * from read_parquet('{}')", quoted(&dir.join("big.parquet")));
    let started = Instant::now();
    let response = client
        .post(format!("{url}/api/v1/query"))
        .json(&json!({"connection": "files", "sql": sql, "limit": 2_000_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers().get("content-length").is_none(), "must be streamed, not buffered");
    let (mut bytes, mut rows, mut chunks) = (0usize, 0usize, 0usize);
    // The last 5 bytes of the previous chunk go in front of the next: a row's `{"id":` may be
    // split between two chunks.
    let mut tail = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        chunks += 1;
        bytes += chunk.len();
        let mut seam = tail[tail.len().saturating_sub(5)..].to_vec();
        seam.extend_from_slice(&chunk);
        rows += seam.windows(6).filter(|w| w == b"{\"id\":").count();
        tail = chunk.to_vec();
    }
    let elapsed = started.elapsed();
    let peak_mib = peak_rss_kib(pid) / 1024;
    let _ = Command::new("kill").args(["-INT", &pid.to_string()]).status();
    let _ = child.wait();
    report(&format!(
        "duckdb: 1,000,000 Parquet rows as JSON over HTTP: {bytes} bytes in {chunks} chunks, {:.2} s, server peak RSS {peak_mib} MiB",
        elapsed.as_secs_f64()
    ));
    assert_eq!(rows, 1_000_000);
    assert!(String::from_utf8_lossy(&tail).trim_end().ends_with("}]"));
    assert!(bytes > 50_000_000, "{bytes}");
    assert!(peak_mib < PEAK_RSS_LIMIT_MIB, "server peak RSS {peak_mib} MiB >= {PEAK_RSS_LIMIT_MIB} MiB");
}

/// A saved query on a folder of files as a dashboard uses it: its `{{since}}` date parameter
/// bound from the query string `useJsonData` builds through `cleanSearchParams` (and its default
/// when the param is absent), and the SQL workbench paging, sorting and filtering a million
/// Parquet rows in DuckDB as `getRows` → `getQueryState` posts them.
#[tokio::test]
async fn dashboards_and_the_workbench_run_on_duckdb_files() {
    let Some(dir) = fixtures() else { return };
    let s = start().await;
    add_duckdb(&s, "folder", Some(dir), true).await;
    let (status, _, saved) = s
        .post(
            "/api/v1/queries",
            json!({"connection": "folder", "name": "names since",
                   "sql": "select name, count(*) as n from 'prices.parquet' where day >= {{since}} group by name order by name",
                   "parameters": [{"name": "since", "type": "date", "default": "2024-01-03"}]}),
        )
        .await;
    assert_eq!(status, 201, "{saved}");
    let id = saved["id"].as_i64().unwrap();
    let (status, _, rows) = s.get(&format!("/widgets/queries/{id}")).await;
    assert_eq!(
        (status, rows.clone()),
        (200, json!([{"name": "AAPL", "n": 1}, {"name": "MSFT", "n": 1}])),
        "{rows}"
    );
    let (status, _, rows) = s.get(&format!("/widgets/queries/{id}?since=2024-01-01")).await;
    assert_eq!(
        (status, rows.clone()),
        (200, json!([{"name": "AAPL", "n": 2}, {"name": "MSFT", "n": 1}])),
        "{rows}"
    );
    // A value that is not a date is the parameter's 4xx, never SQL.
    let (status, _, body) = s.get(&format!("/widgets/queries/{id}?since=2024-01-01'%20or%201=1")).await;
    assert!(
        (400..500).contains(&status) && body["detail"].as_str().unwrap().contains("since"),
        "{status} {body}"
    );

    // The workbench: the rows named `name-4999` (ids that leave 4999 divided by 5,000), sorted by
    // price (highest first) then id; the highest price such a row has is 999.99, held by ids
    // 99999, 199999, ... 999999.
    let request = json!({"startRow": 0, "endRow": 3,
        "sortModel": [{"colId": "price", "sort": "desc"}, {"colId": "id", "sort": "asc"}],
        "filterModel": {"name": {"filterType": "text", "type": "equals", "filter": "name-4999"}},
        "rowGroupCols": [], "groupKeys": [], "valueCols": [], "pivotCols": [], "pivotMode": false,
        "query": "select id, price, name from read_parquet('big.parquet')", "disableCache": false});
    let started = Instant::now();
    let response = s
        .client
        .post(s.at("/widgets/sql/workbench?connection=folder"))
        .header("Content-Type", "application/json")
        .body(request.to_string())
        .send()
        .await
        .unwrap();
    let (status, _, page) = dc_test_support::server::into_parts(response).await;
    report(&format!("duckdb workbench: 3 sorted, filtered rows of 1,000,000 in {:?}", started.elapsed()));
    assert_eq!(status, 200, "{page}");
    assert!(page.get("error").is_none(), "{page}");
    let ids: Vec<i64> =
        page["rowData"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [99999, 199999, 299999], "{page}");
    assert_eq!(page["rowData"][0]["price"], json!(999.99), "{page}");
    // Every 5,000th id has that name: 200 of the million match the filter.
    assert_eq!(page["rowCount"], 200, "{page}");
}
