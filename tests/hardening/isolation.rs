//! One failing database does not take the others down (issue 12, point 5). The tests start
//! their own MariaDB and PostgreSQL, kill them with SIGKILL (mid-stream, and before a query) or
//! hang them behind a TCP proxy that stops relaying, and meanwhile check that an SQLite
//! connection keeps answering 200 quickly; the failed connection fails fast with 503 and
//! `Retry-After` for a few seconds instead of queueing, and recovers when its database is back.

use crate::common::*;
use crate::support::{Instance, Kind, Proxy};
use dc_test_support::skip::{skipped, Need};
use futures::StreamExt;
use serde_json::json;
use std::time::{Duration, Instant};

const PAUSE: Duration = Duration::from_secs(3);

async fn server() -> TestServer {
    let s = start_with(|c| {
        c.limits.failure_pause = PAUSE;
        c.limits.queue_wait = Duration::from_secs(1);
    })
    .await;
    let db = items_db(s.dir.path(), 100);
    s.add_sqlite("local", &db, true).await;
    s
}

async fn add(s: &TestServer, connection: serde_json::Value) {
    let (status, _, body) = s.post("/api/v1/connections", connection).await;
    assert_eq!(status, 201, "{body}");
}

/// A small query on the SQLite connection: answered 200, and how long it took.
async fn local_query(s: &TestServer) -> Duration {
    let started = Instant::now();
    let (status, _, body) =
        s.query_text(json!({"connection": "local", "sql": "select count(*) from items"})).await;
    assert_eq!(status, 200, "the SQLite connection failed while another database was down: {body}");
    started.elapsed()
}

/// Asserts that `connection` now fails fast: 503, `Retry-After`, `{"detail"}`, well under the
/// time a database wait would take.
async fn assert_fails_fast(s: &TestServer, connection: &str) {
    let started = Instant::now();
    let (status, headers, body) = s.query_text(json!({"connection": connection, "sql": "select 1"})).await;
    let took = started.elapsed();
    assert_eq!(status, 503, "{body}");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=PAUSE.as_secs()).contains(&retry), "Retry-After {retry}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(body["detail"].as_str().unwrap().contains("failed moments ago"), "{body}");
    assert!(took < Duration::from_millis(500), "a 503 took {took:?}");
    crate::support::report(&format!(
        "isolation: {connection} refused fast with 503 in {:.1} ms, Retry-After {retry}",
        took.as_secs_f64() * 1e3
    ));
}

/// After the pause and with the database back, the connection answers again.
async fn assert_recovers(s: &TestServer, connection: &str) {
    tokio::time::sleep(PAUSE).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _, body) =
            s.query_text(json!({"connection": connection, "sql": "select 1 as one"})).await;
        if status == 200 {
            assert_eq!(body, "[{\"one\":1}]");
            return;
        }
        assert!(Instant::now() < deadline, "{connection} did not recover: {status} {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn killed_mid_stream(kind: Kind) {
    let mut db = Instance::start(kind);
    let s = server().await;
    add(&s, db.connection("far", db.port)).await;
    let sql = match kind {
        Kind::Postgres => "select g, repeat('x', 200) as pad from generate_series(1, 5000000) g",
        Kind::Mariadb => "select seq, repeat('x', 200) as pad from seq_1_to_5000000",
    };
    let response = s
        .client
        .post(s.at("/api/v1/query"))
        .json(&json!({"connection": "far", "sql": sql, "limit": 5_000_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let mut body = response.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"[{"), "{:?}", &first[..first.len().min(40)]);
    db.kill();
    // The response breaks off: an incomplete body, never a short valid one.
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        let mut tail = Vec::new();
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(bytes) => tail.extend_from_slice(&bytes[bytes.len().saturating_sub(2)..]),
                Err(_) => return Err(()),
            }
        }
        Ok(tail)
    })
    .await
    .expect("the stream did not end after the database died");
    assert!(ended.is_err(), "the body ended cleanly although the database died mid-stream");
    crate::support::report(&format!("isolation: {kind:?} killed mid-stream: the response broke off"));
    assert!(local_query(&s).await < Duration::from_secs(1));
    assert_fails_fast(&s, "far").await;
    assert!(local_query(&s).await < Duration::from_secs(1));
    db.restart();
    assert_recovers(&s, "far").await;
    let entry = s.log().await.into_iter().find(|e| e["sql"] == sql).unwrap();
    assert_eq!(entry["outcome"], "error", "{entry}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_mid_stream() {
    let _serial = crate::support::serial().await;
    if skipped(Need::Postgres) {
        return;
    }
    killed_mid_stream(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_killed_mid_stream() {
    let _serial = crate::support::serial().await;
    if skipped(Need::Mysql) {
        return;
    }
    killed_mid_stream(Kind::Mariadb).await;
}

/// The database dies between two queries: the next one waits at most the short pool timeout
/// and says why, the ones after it fail fast, and SQLite answers throughout.
async fn killed_before_a_query(kind: Kind) {
    let mut db = Instance::start(kind);
    let s = server().await;
    add(&s, db.connection("far", db.port)).await;
    let (status, _, body) = s.query_text(json!({"connection": "far", "sql": "select 1"})).await;
    assert_eq!(status, 200, "{body}");
    db.kill();

    let started = Instant::now();
    let failing = s.query_text(json!({"connection": "far", "sql": "select 1"}));
    let local = async {
        let mut slowest = Duration::ZERO;
        for _ in 0..20 {
            slowest = slowest.max(local_query(&s).await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        slowest
    };
    let ((status, _, body), slowest) = tokio::join!(failing, local);
    let waited = started.elapsed();
    crate::support::report(&format!(
        "isolation: {kind:?} killed before a query: 502 after {:.2} s; SQLite meanwhile at most {:.1} ms",
        waited.as_secs_f64(),
        slowest.as_secs_f64() * 1e3
    ));
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("127.0.0.1"), "the error names the server: {body}");
    assert!(waited < Duration::from_secs(8), "waited {waited:?} for a dead database");
    assert!(slowest < Duration::from_secs(1), "SQLite took {slowest:?} while the other database was down");
    assert_fails_fast(&s, "far").await;
    db.restart();
    assert_recovers(&s, "far").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_before_a_query() {
    let _serial = crate::support::serial().await;
    if skipped(Need::Postgres) {
        return;
    }
    killed_before_a_query(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_killed_before_a_query() {
    let _serial = crate::support::serial().await;
    if skipped(Need::Mysql) {
        return;
    }
    killed_before_a_query(Kind::Mariadb).await;
}

/// The network to the database hangs (a proxy stops relaying): the hung queries take only
/// their connection's slots, more queries for it are turned away after the short queue wait,
/// and SQLite keeps answering 200 quickly the whole time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_database_holds_only_its_own_slots() {
    let _serial = crate::support::serial().await;
    if skipped(Need::Postgres) {
        return;
    }
    let db = Instance::start(Kind::Postgres);
    let proxy = Proxy::start(db.port).await;
    let s = server().await;
    add(&s, db.connection("hung", proxy.port)).await;
    let (status, _, body) = s.query_text(json!({"connection": "hung", "sql": "select 1"})).await;
    assert_eq!(status, 200, "{body}");
    proxy.set_hung(true);

    let per_connection = s.app.config.limits.max_queries_per_connection;
    let total = s.app.config.limits.max_concurrent_queries;
    // More queries than the server has slots in all, each waiting on the hung database.
    let hung: Vec<_> = (0..total + 4)
        .map(|i| {
            let client = s.client.clone();
            let url = s.at("/api/v1/query");
            tokio::spawn(async move {
                let started = Instant::now();
                let r = client
                    .post(url)
                    .json(&json!({"connection": "hung", "sql": format!("select {i}"), "timeout_ms": 4000}))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body = r.text().await.unwrap();
                (status, body, started.elapsed())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        slowest = slowest.max(local_query(&s).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    crate::support::report(&format!(
        "isolation: {} queries on a hung PostgreSQL; SQLite meanwhile at most {:.1} ms",
        total + 4,
        slowest.as_secs_f64() * 1e3
    ));
    assert!(slowest < Duration::from_millis(500), "SQLite took {slowest:?} while the other database hung");

    let mut outcomes = Vec::new();
    for task in hung {
        outcomes.push(task.await.unwrap());
    }
    let busy: Vec<_> = outcomes.iter().filter(|(status, _, _)| *status == 429).collect();
    let waited: Vec<_> = outcomes.iter().filter(|(status, _, _)| *status != 429).collect();
    assert_eq!(waited.len(), per_connection, "{outcomes:?}");
    for (status, body, took) in &busy {
        assert!(body.contains("--max-queries-per-connection"), "{status} {body}");
        assert!(*took < Duration::from_secs(3), "a queued query waited {took:?}");
    }
    for (status, body, _) in &waited {
        assert!([502, 504].contains(status), "{status} {body}");
    }
    proxy.set_hung(false);
    assert_recovers(&s, "hung").await;
}
