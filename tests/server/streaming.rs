//! Large results: the row cap and its header on both sides of the held-back window, the
//! timeout, and a client that goes away.

use crate::common::*;
use futures::StreamExt;
use serde_json::json;
use std::time::{Duration, Instant};

/// Never produces a row, so only the timeout or a cancellation can stop it.
const ENDLESS: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

#[tokio::test]
async fn row_cap_marks_truncation_for_small_and_streamed_results() {
    let s = start_with(|c| c.limits.default_rows = 70_000).await;
    let db = items_db(s.dir.path(), 80_000);
    s.add_sqlite("big", &db, true).await;

    let (status, headers, body) =
        s.query_text(json!({"connection": "big", "sql": "select * from items", "limit": 10})).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-truncated"], "true");
    assert_eq!(headers["x-row-limit"], "10");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap().as_array().unwrap().len(), 10);

    // ~70k rows is about 4 MiB: beyond the 2 MiB held-back window, but the result ends within
    // the 4 MiB SQLite reads ahead while the probe runs, so its end settles the header.
    let (status, headers, body) =
        s.query_text(json!({"connection": "big", "sql": "select * from items"})).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-truncated"], "true");
    let rows: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 70_000);
    assert_eq!(rows[69_999]["id"], 70_000);

    let (_, headers, body) =
        s.query_text(json!({"connection": "big", "sql": "select * from items", "limit": 80_000})).await;
    assert_eq!(headers["x-truncated"], "false");
    let rows: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 80_000);

    let (_, headers, _) = s
        .query_text(json!({"connection": "big", "sql": "select * from items where id <= ?", "params": [80_000], "limit": 79_999}))
        .await;
    assert_eq!(headers["x-truncated"], "true");
}

#[tokio::test]
async fn the_probe_settles_truncation_of_results_longer_than_the_read_ahead() {
    let s = start().await;
    let db = items_db(s.dir.path(), 1);
    s.add_sqlite("shop", &db, true).await;
    // 30,000 rows of about 1 KiB: past the 2 MiB window and the 4 MiB read behind it, so
    // `X-Truncated` must come from the `exceeds` probe before the first byte goes out.
    let sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000) \
               SELECT x, printf('%.1000c', 'y') AS pad FROM c";
    for (limit, truncated, rows) in [(25_000, "true", 25_000), (30_000, "false", 30_000)] {
        let (status, headers, body) =
            s.query_text(json!({"connection": "shop", "sql": sql, "limit": limit})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(headers["x-truncated"], truncated, "limit {limit}");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body.as_array().unwrap().len(), rows);
        assert_eq!(body[rows - 1]["x"], rows);
    }
}

#[tokio::test]
async fn a_table_read_whole_settles_truncation_from_its_count() {
    let s = start().await;
    let db = items_db(s.dir.path(), 200_000);
    s.add_sqlite("shop", &db, true).await;
    // About 11 MiB of JSON, past the window and the read-ahead, so the probe settles the header.
    // For the table read whole SQLite counts its b-tree (connectors' `sqlite/count.rs`); with a
    // filter the count would step every row, so the offset probe answers instead.
    for sql in ["select * from items", "select * from items where qty >= 0"] {
        for (limit, truncated) in [(199_999, "true"), (200_000, "false"), (250_000, "false")] {
            let (status, headers, body) =
                s.query_text(json!({"connection": "shop", "sql": sql, "limit": limit})).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(headers["x-truncated"], truncated, "{sql} limit {limit}");
            let body: serde_json::Value = serde_json::from_str(&body).unwrap();
            let rows = body.as_array().unwrap().len();
            assert_eq!(rows, limit.min(200_000), "{sql} limit {limit}");
        }
    }
}

#[tokio::test]
async fn a_failure_while_the_probe_runs_is_still_a_proper_error() {
    let s = start().await;
    let db = items_db(s.dir.path(), 1);
    s.add_sqlite("shop", &db, true).await;
    // About 4 MiB of rows, then an error: past the held-back window, so the response waits for
    // the probe, which fails too (it filters the same rows) and so cannot settle anything; the
    // error comes within the read-ahead, before any byte has gone out.
    let sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) \
               SELECT x, printf('%.200c', 'y') AS v FROM c \
               WHERE CASE WHEN x < 20000 THEN 1 ELSE json_extract('{', '$') END";
    let (status, _, body) = s.query_text(json!({"connection": "shop", "sql": sql})).await;
    assert_eq!(status, 400, "{body}");
    let detail: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(detail["detail"].as_str().unwrap().contains("malformed JSON"), "{body}");
    let (status, _, _) = s.query_text(json!({"connection": "shop", "sql": "select 1"})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_long_result_streams_in_many_chunks() {
    let s = start().await;
    let db = items_db(s.dir.path(), 100_000);
    s.add_sqlite("big", &db, true).await;
    let response = s
        .client
        .post(s.at("/api/v1/query"))
        .header("accept", "application/x-ndjson")
        .json(&json!({"connection": "big", "sql": "select * from items order by id"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers().get("content-length").is_none(), "must be streamed, not buffered");
    let mut stream = response.bytes_stream();
    let (mut chunks, mut body) = (0, Vec::new());
    while let Some(chunk) = stream.next().await {
        chunks += 1;
        body.extend_from_slice(&chunk.unwrap());
    }
    assert!(chunks > 5, "{chunks} chunks");
    let text = String::from_utf8(body).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 100_000);
    assert_eq!(lines[99_999], r#"{"id":100000,"name":"item 100000","price":50000.0,"qty":5}"#);
}

#[tokio::test]
async fn timeout_interrupts_the_statement() {
    let s = start().await;
    let db = items_db(s.dir.path(), 1);
    s.add_sqlite("shop", &db, true).await;
    let started = Instant::now();
    let (status, _, body) =
        s.query_text(json!({"connection": "shop", "sql": ENDLESS, "timeout_ms": 300})).await;
    assert_eq!(status, 504, "{body}");
    assert!(body.contains("timed out after 300 ms"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    let entry = s.wait_for_log(ENDLESS, 2).await;
    assert_eq!(entry["outcome"], "timeout");
}

#[tokio::test]
async fn a_client_that_disconnects_cancels_its_query() {
    let s = start().await;
    let db = items_db(s.dir.path(), 1);
    s.add_sqlite("shop", &db, true).await;
    let request =
        s.client.post(s.at("/api/v1/query")).json(&json!({"connection": "shop", "sql": ENDLESS})).send();
    // The client gives up long before the 60 s default timeout.
    assert!(tokio::time::timeout(Duration::from_millis(300), request).await.is_err());
    let entry = s.wait_for_log(ENDLESS, 5).await;
    assert_eq!(entry["outcome"], "cancelled", "{entry}");
    assert!(entry["duration_ms"].as_f64().unwrap() < 5000.0, "{entry}");
    // The query slot was given back and the engine still answers.
    let (status, _, _) = s.query_text(json!({"connection": "shop", "sql": "select 1"})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_client_that_stops_reading_a_stream_cancels_it() {
    let s = start().await;
    let db = items_db(s.dir.path(), 200_000);
    s.add_sqlite("big", &db, true).await;
    let sql = "select a.* from items a, items b";
    let response = s
        .client
        .post(s.at("/api/v1/query"))
        .json(&json!({"connection": "big", "sql": sql, "limit": 10_000_000}))
        .send()
        .await
        .unwrap();
    let mut stream = response.bytes_stream();
    let first = stream.next().await.unwrap().unwrap();
    assert!(!first.is_empty());
    drop(stream);
    let entry = s.wait_for_log(sql, 5).await;
    assert_eq!(entry["outcome"], "cancelled", "{entry}");
}

#[tokio::test]
async fn too_many_concurrent_queries_get_429() {
    // A query waits this long for a slot before it is refused (bursts queue; see
    // tests/hardening/load.rs); the slow query below holds its slot longer.
    let s = start_with(|c| {
        c.limits.max_concurrent_queries = 1;
        c.limits.queue_wait = Duration::from_millis(200);
    })
    .await;
    let db = items_db(s.dir.path(), 1);
    s.add_sqlite("shop", &db, true).await;
    let slow = s
        .client
        .post(s.at("/api/v1/query"))
        .json(&json!({"connection": "shop", "sql": ENDLESS, "timeout_ms": 1500}))
        .send();
    let slow = tokio::spawn(slow);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, headers, body) = s.query_text(json!({"connection": "shop", "sql": "select 1"})).await;
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("--max-concurrent-queries"), "{body}");
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(slow.await.unwrap().unwrap().status().as_u16(), 504);
    let (status, _, _) = s.query_text(json!({"connection": "shop", "sql": "select 1"})).await;
    assert_eq!(status, 200);
}
