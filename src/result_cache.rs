//! The opt-in result cache of saved queries: a dashboard that refreshes every few minutes reads
//! the last answer instead of waking the database (a Snowflake warehouse bills each wake-up).
//! A saved query opts in with a policy (`ttl_seconds`, `max_bytes`; `PUT
//! /api/v1/queries/{id}/cache`). The API's `/run` and the query's Workspace widgets both read
//! through it (`run_saved`). Only queries on read-only connections are cached: a write must
//! always run. A result larger than `max_bytes` is not kept; all cached results together stay
//! under `SERVER_MAX_BYTES`, the oldest going first. `Cache-Control: no-cache` on a run skips
//! the cache (and refreshes it). The key holds the connection, SQL, parameters, limit, timeout
//! and format, so an edited query never answers from an old entry.

use crate::app::App;
use crate::connections;
use crate::error::{Error, Result};
use crate::execution::{self, BodyStream, QueryInput, QueryOutput, Truncation};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
use connectors::{Column, Format};
use futures::Stream;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// All cached results of the server together stay under this.
pub const SERVER_MAX_BYTES: usize = 256 << 20;
/// The longest a result may be kept.
pub const MAX_TTL_SECONDS: u64 = 7 * 24 * 3600;

/// A saved query's cache policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CachePolicy {
    /// How long a result is served from the cache, 1 to 604800 seconds.
    pub ttl_seconds: u64,
    /// Results larger than this are not kept; 1 byte to 256 MiB.
    pub max_bytes: u64,
}

impl CachePolicy {
    /// The reason the policy is not acceptable, if it is not.
    pub fn problem(&self) -> Option<String> {
        if !(1..=MAX_TTL_SECONDS).contains(&self.ttl_seconds) {
            return Some(format!("ttl_seconds must be between 1 and {MAX_TTL_SECONDS}"));
        }
        if self.max_bytes == 0 || self.max_bytes > SERVER_MAX_BYTES as u64 {
            return Some(format!("max_bytes must be between 1 and {SERVER_MAX_BYTES}"));
        }
        None
    }
}

/// Where an answer of a cached saved query came from, for its `X-Cache` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    Miss,
}

impl CacheOutcome {
    pub fn header_value(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
        }
    }
}

/// The policy of saved query `id`, if it has one.
pub fn policy(app: &App, id: i64) -> Result<Option<CachePolicy>> {
    let Some(text) = app.state.query_cache_policy(id)? else { return Ok(None) };
    serde_json::from_str(&text).map(Some).map_err(|e| {
        Error::Internal(format!("the stored cache policy of saved query {id} is unreadable: {e}"))
    })
}

/// Whether the caller asked to skip the cache (`Cache-Control: no-cache` or `no-store`).
pub fn bypass_requested(headers: &HeaderMap) -> bool {
    headers.get_all(header::CACHE_CONTROL).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|d| matches!(d.trim().to_ascii_lowercase().as_str(), "no-cache" | "no-store"))
    })
}

/// Runs saved query `id` (already bound into `input`) through its result cache when it has a
/// policy and its connection is read-only now; every surface that runs a saved query (the API's
/// `/run`, the Workspace widgets) comes through here, so a dashboard's refreshes hit the cache.
/// The outcome is `None` when the query is not cached (no policy, or a connection that may now
/// write).
pub async fn run_saved(
    app: &Arc<App>,
    id: i64,
    bypass: bool,
    input: QueryInput,
    format: Format,
    source: &'static str,
) -> Result<(QueryOutput, Option<CacheOutcome>)> {
    let Some(policy) = policy(app, id)? else {
        return Ok((execution::run(app, input, format, source).await?, None));
    };
    // The connection may have become writable since the policy was set.
    if !connections::engine(app, &input.connection).await?.read_only {
        return Ok((execution::run(app, input, format, source).await?, None));
    }
    let key = CacheKey {
        query_id: id,
        connection: input.connection.clone(),
        sql: input.sql.clone(),
        params: format!("{:?}", input.params),
        limit: input.limit,
        timeout_ms: input.timeout_ms,
        format: format.content_type(),
    };
    if !bypass {
        if let Some(output) = app.results.get(&key) {
            return Ok((output, Some(CacheOutcome::Hit)));
        }
    }
    let output = execution::run(app, input, format, source).await?;
    Ok((app.results.fill(key, policy, output), Some(CacheOutcome::Miss)))
}

/// Adds `X-Cache: hit|miss` to the answer of a cached saved query.
pub fn with_cache_header(mut response: Response, outcome: Option<CacheOutcome>) -> Response {
    if let Some(outcome) = outcome {
        response.headers_mut().insert("x-cache", HeaderValue::from_static(outcome.header_value()));
    }
    response
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub query_id: i64,
    pub connection: String,
    pub sql: String,
    /// The parameters' Debug text: every digit and the variant.
    pub params: String,
    pub limit: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub format: &'static str,
}

struct Entry {
    format: Format,
    columns: Arc<[Column]>,
    truncated: Truncation,
    row_limit: u64,
    body: Arc<[Bytes]>,
    bytes: usize,
    stored: Instant,
    expires: Instant,
}

#[derive(Default)]
pub struct ResultCache {
    entries: Mutex<HashMap<CacheKey, Entry>>,
}

impl ResultCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached result for `key`, as a fresh output, if one is still valid.
    pub fn get(&self, key: &CacheKey) -> Option<QueryOutput> {
        let mut entries = self.entries();
        let now = Instant::now();
        entries.retain(|_, e| e.expires > now);
        let entry = entries.get(key)?;
        let body = entry.body.clone();
        let chunks = (0..body.len()).map(move |i| Ok::<_, std::io::Error>(body[i].clone()));
        Some(QueryOutput {
            format: entry.format,
            columns: entry.columns.clone(),
            truncated: entry.truncated,
            row_limit: entry.row_limit,
            body: Box::pin(futures::stream::iter(chunks)),
        })
    }

    /// Drops every entry of saved query `id` (its policy changed or it was deleted).
    pub fn forget(&self, query_id: i64) {
        self.entries().retain(|k, _| k.query_id != query_id);
    }

    /// How many bytes the cache holds now.
    pub fn bytes(&self) -> usize {
        self.entries().values().map(|e| e.bytes).sum()
    }

    fn insert(&self, key: CacheKey, entry: Entry) {
        let mut entries = self.entries();
        entries.remove(&key);
        let mut total: usize = entries.values().map(|e| e.bytes).sum();
        while total + entry.bytes > SERVER_MAX_BYTES {
            let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.stored).map(|(k, _)| k.clone()) else {
                break;
            };
            if let Some(gone) = entries.remove(&oldest) {
                total -= gone.bytes;
            }
        }
        entries.insert(key, entry);
    }

    /// Streams `output` to the caller unchanged, keeping a copy that is stored once the whole
    /// result has gone through without error and within `policy.max_bytes`.
    pub fn fill(self: &Arc<Self>, key: CacheKey, policy: CachePolicy, output: QueryOutput) -> QueryOutput {
        let recorder = Recorder {
            inner: output.body,
            cache: self.clone(),
            key: Some(key),
            policy,
            kept: Vec::new(),
            bytes: 0,
            format: output.format,
            columns: output.columns.clone(),
            truncated: output.truncated,
            row_limit: output.row_limit,
        };
        QueryOutput { body: Box::pin(recorder), ..output }
    }
}

struct Recorder {
    inner: BodyStream,
    cache: Arc<ResultCache>,
    /// `None` once the copy was given up (too large, or an error).
    key: Option<CacheKey>,
    policy: CachePolicy,
    kept: Vec<Bytes>,
    bytes: usize,
    format: Format,
    columns: Arc<[Column]>,
    truncated: Truncation,
    row_limit: u64,
}

impl Stream for Recorder {
    type Item = std::io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let next = this.inner.as_mut().poll_next(cx);
        match &next {
            Poll::Ready(Some(Ok(chunk))) if this.key.is_some() => {
                this.bytes += chunk.len();
                if this.bytes as u64 > this.policy.max_bytes {
                    this.key = None;
                    this.kept = Vec::new();
                } else {
                    this.kept.push(chunk.clone());
                }
            }
            Poll::Ready(Some(Err(_))) => this.key = None,
            Poll::Ready(None) => {
                if let Some(key) = this.key.take() {
                    let now = Instant::now();
                    this.cache.insert(
                        key,
                        Entry {
                            format: this.format,
                            columns: this.columns.clone(),
                            truncated: this.truncated,
                            row_limit: this.row_limit,
                            body: std::mem::take(&mut this.kept).into(),
                            bytes: this.bytes,
                            stored: now,
                            expires: now + Duration::from_secs(this.policy.ttl_seconds),
                        },
                    );
                }
            }
            _ => {}
        }
        next
    }
}
