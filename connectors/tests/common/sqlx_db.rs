//! Helpers shared by the MySQL/MariaDB and PostgreSQL engine tests: unique names for throwaway
//! databases, running a query through a real `ResultSink` and reading back the exact body.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use connectors::{
    Column, ConnectorError, Engine, ErrorKind, Format, Param, Query, ResultSink, SinkOptions, StreamEvent,
};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

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
    Query { sql: sql.to_string(), params: Vec::new(), timeout: Duration::from_secs(30) }
}

pub fn query_with(sql: &str, params: Vec<Param>, timeout: Duration) -> Query {
    Query { sql: sql.to_string(), params, timeout }
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
                    bytes.extend_from_slice(&body);
                    (out.rows, out.truncated, finished) = (rows, truncated, true);
                }
                StreamEvent::Started { columns, first } => {
                    out.columns = columns.to_vec();
                    out.streamed = true;
                    bytes.extend_from_slice(&first);
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
