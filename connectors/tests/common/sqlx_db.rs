//! Helpers shared by the MySQL/MariaDB and PostgreSQL engine tests: unique names for throwaway
//! databases, running a query through a real `ResultSink` and reading back the exact body, and the
//! checks both engines must pass in the same way.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use connectors::{
    Column, ConnectionSettings, ConnectorError, Engine, ErrorKind, Format, Param, Query, ResultSink, Secrets,
    SinkOptions, StreamEvent,
};
use sqlx::{AssertSqlSafe, Executor as _};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::Receiver;
use tokio::task::JoinHandle;

/// A name no other test run uses: pid, time and a counter.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{nanos:x}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Whether the developer opted out of this engine's tests (`DC_SKIP_MYSQL=1`, ...). CI never sets it.
pub fn skipped(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "1")
}

/// What one query produced, reassembled from the sink's events.
#[derive(Debug)]
pub struct Output {
    pub columns: Vec<Column>,
    pub body: String,
    pub rows: u64,
    pub truncated: bool,
    /// Whether the result was long enough to stream (`Started` rather than `Complete`).
    pub streamed: bool,
}

pub fn query(sql: &str) -> Query {
    Query::new(sql, Vec::new(), Duration::from_secs(30))
}

pub fn query_with(sql: &str, params: Vec<Param>, timeout: Duration) -> Query {
    Query::new(sql, params, timeout)
}

/// Runs the query with a row cap, reading the events while the engine writes them (the channel
/// is bounded, so a long result would otherwise stall).
pub async fn run_limited(
    engine: &Arc<dyn Engine>,
    query: Query,
    limit: u64,
) -> Result<Output, ConnectorError> {
    let (sink, mut rx) = ResultSink::new(SinkOptions::new(Format::Json, limit));
    let reader = async move {
        let mut out =
            Output { columns: Vec::new(), body: String::new(), rows: 0, truncated: false, streamed: false };
        let mut bytes = Vec::new();
        let mut finished = false;
        while let Some(event) = rx.recv().await {
            match event {
                StreamEvent::Complete { columns, body, rows, truncated } => {
                    out.columns = columns.to_vec();
                    bytes.extend_from_slice(&body.concat());
                    (out.rows, out.truncated, finished) = (rows, truncated, true);
                }
                StreamEvent::Started { columns, first } => {
                    out.columns = columns.to_vec();
                    out.streamed = true;
                    bytes.extend_from_slice(&first.concat());
                }
                StreamEvent::Chunk(chunk) => bytes.extend_from_slice(&chunk),
                StreamEvent::Finished { rows, truncated } => {
                    (out.rows, out.truncated, finished) = (rows, truncated, true)
                }
            }
        }
        out.body = String::from_utf8(bytes).expect("the body is UTF-8");
        (out, finished)
    };
    let (result, (out, finished)) = tokio::join!(engine.query(query, sink), reader);
    result?;
    assert!(finished, "the engine returned Ok without finishing the sink");
    Ok(out)
}

pub async fn run(engine: &Arc<dyn Engine>, query: Query) -> Result<Output, ConnectorError> {
    run_limited(engine, query, u64::MAX).await
}

pub async fn body(engine: &Arc<dyn Engine>, sql: &str) -> String {
    match run(engine, query(sql)).await {
        Ok(out) => out.body,
        Err(e) => panic!("{sql}: {e} ({:?})", e.kind()),
    }
}

pub async fn error(engine: &Arc<dyn Engine>, query: Query) -> ConnectorError {
    match run(engine, query).await {
        Ok(out) => panic!("expected an error, got {}", out.body),
        Err(e) => e,
    }
}

pub fn assert_kind(result: &ConnectorError, kind: ErrorKind) {
    assert_eq!(result.kind(), kind, "unexpected error kind for: {}", result.message());
}

/// Polls `check` until it holds or `within` passes.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs async clean-up from `Drop`, which may happen while a test's runtime is unwinding: a
/// fresh thread with its own runtime always can.
pub fn block_on_fresh<F: std::future::Future<Output = ()> + Send + 'static>(work: F) {
    let _ = std::thread::spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
            rt.block_on(work);
        }
    })
    .join();
}

/// The including file's `Fixture`, or an early return from the test when the developer opted out.
macro_rules! fixture {
    () => {
        match Fixture::new().await {
            Some(f) => f,
            None => return,
        }
    };
}

/// A query that outlives its 500 ms limit fails as a timeout, promptly, and leaves the pool usable;
/// `sleep` is the dialect's `SLEEP(5)`.
pub async fn assert_times_out(engine: &Arc<dyn Engine>, sleep: &str) {
    let started = std::time::Instant::now();
    let e = error(engine, query_with(&format!("SELECT {sleep}"), vec![], Duration::from_millis(500))).await;
    assert_kind(&e, ErrorKind::Timeout);
    assert!(e.message().contains("500 ms"), "{}", e.message());
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert_eq!(body(engine, "SELECT 1 AS x").await, r#"[{"x":1}]"#);
}

/// A result without rows still names its columns.
pub async fn assert_named_without_rows(engine: &Arc<dyn Engine>, sql: &str, names: &[&str]) {
    let out = run(engine, query(sql)).await.unwrap();
    assert_eq!(out.body, "[]");
    let found: Vec<_> = out.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(found, names);
}

/// Secrets holding just this password.
pub fn password_secrets(password: &str) -> Secrets {
    [("password".to_string(), password.to_string())].into_iter().collect()
}

/// The engine these settings describe; panics if it cannot connect.
pub async fn connect_engine(settings: ConnectionSettings, secrets: &Secrets) -> Arc<dyn Engine> {
    connectors::connect(&settings, secrets).await.unwrap_or_else(|e| panic!("connect: {e}"))
}

/// Runs fixture statements one after another on one connection, naming the one that fails.
pub async fn exec_each<C>(conn: &mut C, statements: &[&str])
where
    for<'c> &'c mut C: sqlx::Executor<'c>,
{
    for sql in statements {
        (&mut *conn).execute(AssertSqlSafe(sql.to_string())).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// A local port nothing listens on, for connections that must be refused.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The error connecting with these settings gives; panics if the connection succeeds.
pub async fn connect_error(settings: ConnectionSettings, secrets: &Secrets) -> ConnectorError {
    connectors::connect(&settings, secrets).await.err().unwrap()
}

/// Settings and secrets from a connection dialog's URL input, checked to keep the password out
/// of what is stored.
pub fn settings_from_url(input: serde_json::Value, password: &str) -> (ConnectionSettings, Secrets) {
    let serde_json::Value::Object(input) = input else { unreachable!() };
    let (settings, secrets) = ConnectionSettings::from_input(input).unwrap();
    let stored = serde_json::to_string(&settings).unwrap();
    assert!(!stored.contains(password) && !stored.contains("url"), "{stored}");
    (settings, secrets)
}

/// Runs a result long enough to stream and returns its rows, checked to be complete.
pub async fn streamed_rows(engine: &Arc<dyn Engine>, sql: &str) -> Vec<serde_json::Value> {
    let out = run(engine, query(sql)).await.unwrap();
    assert!(out.streamed, "100k rows should stream past the held-back window");
    assert_eq!((out.rows, out.truncated), (100_000, false));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out.body).unwrap();
    assert_eq!(rows.len(), 100_000);
    rows
}

/// A query the server works on for 30 s (`sleep` is the dialect's `SLEEP(30)`) must stop on the
/// server both when its client goes away and when its future is dropped; `running` tells whether
/// a statement containing the marker is still running.
pub async fn abandoned_queries_stop_on_the_server<F, Fut>(engine: &Arc<dyn Engine>, sleep: &str, running: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    // The client goes away while the server is still computing the first row.
    let (marker, rx, task) = start_sleeping(engine, sleep, "dc_gone", &running).await;
    drop(rx);
    let result =
        tokio::time::timeout(Duration::from_secs(5), task).await.expect("the engine noticed").unwrap();
    assert_kind(&result.unwrap_err(), ErrorKind::Cancelled);
    assert_stops(&marker, &running).await;

    // The HTTP layer drops the query future instead.
    let (marker, _rx, task) = start_sleeping(engine, sleep, "dc_dropped", &running).await;
    task.abort();
    assert_stops(&marker, &running).await;
    assert_eq!(body(engine, "SELECT 2 AS x").await, r#"[{"x":2}]"#);
}

async fn start_sleeping<F, Fut>(
    engine: &Arc<dyn Engine>,
    sleep: &str,
    prefix: &str,
    running: &F,
) -> (String, Receiver<StreamEvent>, JoinHandle<Result<(), ConnectorError>>)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let marker = unique(prefix);
    let sql = format!("SELECT {sleep} AS s, '{marker}' AS m");
    let (sink, rx) = ResultSink::new(SinkOptions::new(Format::Json, u64::MAX));
    let task = tokio::spawn({
        let engine = engine.clone();
        async move { engine.query(query(&sql), sink).await }
    });
    assert!(eventually(Duration::from_secs(5), || running(marker.clone())).await, "the query never started");
    (marker, rx, task)
}

async fn assert_stops<F, Fut>(marker: &str, running: &F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    assert!(
        eventually(Duration::from_secs(5), || async { !running(marker.to_string()).await }).await,
        "the query kept running on the server"
    );
}
