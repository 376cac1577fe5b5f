//! Running queries through an engine the way the server does (a real `ResultSink`), and the
//! checks every engine must pass in the same way.

use connectors::{
    Column, ConnectionSettings, ConnectorError, Engine, ErrorKind, Format, Param, Query, ResultSink, Secrets,
    SinkOptions, StreamEvent,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::Receiver;
use tokio::task::JoinHandle;

/// The time limit of `query`: generous, so that a busy 2-core machine does not fail a test that
/// is not about time.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(60);

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

impl Output {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("the body is JSON")
    }
}

pub fn query(sql: &str) -> Query {
    query_with(sql, Vec::new(), QUERY_TIMEOUT)
}

pub fn query_with(sql: &str, params: Vec<Param>, timeout: Duration) -> Query {
    Query::new(sql, params, timeout)
}

/// Runs the query with a row cap, reading the events while the engine writes them (the channel
/// is bounded, so a long result would otherwise stall).
pub async fn run_limited(engine: &dyn Engine, query: Query, limit: u64) -> Result<Output, ConnectorError> {
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

pub async fn run(engine: &dyn Engine, query: Query) -> Result<Output, ConnectorError> {
    run_limited(engine, query, u64::MAX).await
}

/// The output of `sql`, which must succeed.
pub async fn output(engine: &dyn Engine, sql: &str) -> Output {
    match run(engine, query(sql)).await {
        Ok(out) => out,
        Err(e) => panic!("{sql}: {e} ({:?})", e.kind()),
    }
}

/// The body of `sql`, which must succeed.
pub async fn body(engine: &dyn Engine, sql: &str) -> String {
    output(engine, sql).await.body
}

/// The error of `query`, which must fail.
pub async fn error(engine: &dyn Engine, query: Query) -> ConnectorError {
    let sql = query.sql.clone();
    match run(engine, query).await {
        Ok(out) => panic!("{sql} should fail, got {}", out.body),
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

/// A query that outlives its 500 ms limit fails as a timeout, promptly, and leaves the pool usable;
/// `sleep` is the dialect's `SLEEP(5)`.
pub async fn assert_times_out(engine: &dyn Engine, sleep: &str) {
    let started = std::time::Instant::now();
    let e = error(engine, query_with(&format!("SELECT {sleep}"), vec![], Duration::from_millis(500))).await;
    assert_kind(&e, ErrorKind::Timeout);
    assert!(e.message().contains("500 ms"), "{}", e.message());
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert_eq!(body(engine, "SELECT 1 AS x").await, r#"[{"x":1}]"#);
}

/// One parameter of each kind, with values that test the edges: NULL, a boolean, an integer past
/// 2^53, a float, text with a quote and an emoji.
pub fn every_param_kind() -> Vec<Param> {
    vec![
        Param::Null,
        Param::Bool(true),
        Param::Int(-9_007_199_254_740_993),
        Param::Float(1.5),
        Param::Text("it's 😀".into()),
    ]
}

/// `sql`, whose placeholders take `every_param_kind` in order, returns exactly `expected`.
pub async fn assert_parameters_bind(engine: &dyn Engine, sql: &str, expected: &str) {
    let out = run(engine, query_with(sql, every_param_kind(), Duration::from_secs(10))).await.unwrap();
    assert_eq!(out.body, expected, "{sql}");
}

/// A statement with a placeholder and no value for it is the caller's mistake, not the SQL's.
pub async fn assert_missing_parameter_refused(engine: &dyn Engine, sql: &str) {
    let e = error(engine, query_with(sql, vec![], Duration::from_secs(10))).await;
    assert_kind(&e, ErrorKind::InvalidInput);
}

/// A result without rows still names its columns.
pub async fn assert_named_without_rows(engine: &dyn Engine, sql: &str, names: &[&str]) {
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

/// The error connecting with these settings gives; panics if the connection succeeds.
pub async fn connect_error(settings: ConnectionSettings, secrets: &Secrets) -> ConnectorError {
    match connectors::connect(&settings, secrets).await {
        Ok(_) => panic!("connecting should have failed"),
        Err(e) => e,
    }
}

/// A local port nothing listens on, for connections that must be refused.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Settings and secrets from a connection dialog's URL input, checked to keep the password out
/// of what is stored.
pub fn settings_from_url(input: serde_json::Value, password: &str) -> (ConnectionSettings, Secrets) {
    let serde_json::Value::Object(input) = input else { panic!("the input must be a JSON object") };
    let (settings, secrets) = ConnectionSettings::from_input(input).unwrap();
    let stored = serde_json::to_string(&settings).unwrap();
    assert!(!stored.contains(password) && !stored.contains("url"), "{stored}");
    (settings, secrets)
}

/// Runs a result long enough to stream and returns its rows, checked to be complete.
pub async fn streamed_rows(engine: &dyn Engine, sql: &str) -> Vec<serde_json::Value> {
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
    assert_eq!(body(&**engine, "SELECT 2 AS x").await, r#"[{"x":2}]"#);
}

/// A long result whose client goes away after the first window: the engine stops with
/// `Cancelled` at its next row and the statement stops on the server. `rows_sql` returns
/// millions of rows and holds `{marker}` where the marker goes.
pub async fn a_client_leaving_mid_stream_stops_the_query<F, Fut>(
    engine: &Arc<dyn Engine>,
    rows_sql: &str,
    running: F,
) where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let marker = crate::unique("dc_left");
    let sql = rows_sql.replace("{marker}", &marker);
    let (sink, mut rx) = ResultSink::new(SinkOptions::new(Format::Json, u64::MAX));
    let task = tokio::spawn({
        let engine = engine.clone();
        async move { engine.query(query(&sql), sink).await }
    });
    match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
        Ok(Some(StreamEvent::Started { .. })) => {}
        Ok(Some(StreamEvent::Complete { rows, .. })) => {
            panic!("expected a streaming result, got all {rows} rows")
        }
        other => panic!("expected the first window of a streaming result, got {other:?}"),
    }
    // The channel is full and nobody reads it: the statement waits on the server.
    assert!(running(marker.clone()).await, "the query should still be running on the server");
    drop(rx);
    let result =
        tokio::time::timeout(Duration::from_secs(5), task).await.expect("the engine noticed").unwrap();
    assert_kind(&result.unwrap_err(), ErrorKind::Cancelled);
    assert_stops(&marker, &running).await;
    assert_eq!(body(&**engine, "SELECT 2 AS x").await, r#"[{"x":2}]"#);
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
    let marker = crate::unique(prefix);
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
