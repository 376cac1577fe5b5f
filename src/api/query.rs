//! `/api/v1/query`: run one statement, streamed back as JSON (default), CSV, NDJSON or an Arrow
//! IPC stream.

use crate::app::App;
use crate::error::{Error, Result};
use crate::execution::{self, QueryInput};
use crate::http::{stream_response, ApiJson, ApiQuery};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::Response;
use connectors::{Format, Param};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct QueryRequest {
    /// Name of a saved connection.
    pub connection: String,
    /// One statement. Read-only connections accept only SELECT, WITH, VALUES, SHOW, DESCRIBE, EXPLAIN.
    pub sql: String,
    /// Values bound to the statement's placeholders (`?`, `$1`, `:1` as the engine spells them).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub params: Vec<Param>,
    /// Row cap (default 100000, at most the server's --max-rows). A capped result carries `X-Truncated: true`.
    pub limit: Option<u64>,
    /// Time limit in milliseconds (default 60000).
    pub timeout_ms: Option<u64>,
    /// `json`, `csv`, `ndjson` or `arrow` (Arrow IPC stream); overrides the Accept header.
    pub format: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(super) struct QueryParams {
    pub connection: String,
    pub sql: String,
    pub limit: Option<u64>,
    pub timeout_ms: Option<u64>,
    /// `json`, `csv`, `ndjson` or `arrow` (Arrow IPC stream); overrides the Accept header.
    pub format: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/query", tag = "query", request_body = QueryRequest,
    responses((status = 200, description = "rows as a JSON array of flat objects (or CSV / NDJSON / Arrow IPC stream); \
        headers X-Truncated and X-Row-Limit"),
        (status = 403, description = "refused: the connection is read-only"),
        (status = 504, description = "timed out")))]
pub(super) async fn post(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<QueryRequest>,
) -> Result<Response> {
    let format = negotiate(request.format.as_deref(), &headers)?;
    let input = QueryInput {
        connection: request.connection,
        sql: request.sql,
        params: request.params,
        limit: request.limit,
        timeout_ms: request.timeout_ms,
        force_read_only: false,
    };
    Ok(stream_response(execution::run(&app, input, format, "api").await?))
}

#[utoipa::path(get, path = "/api/v1/query", tag = "query", params(QueryParams),
    responses((status = 200, description = "as POST /api/v1/query")))]
pub(super) async fn get(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<QueryParams>,
) -> Result<Response> {
    let format = negotiate(params.format.as_deref(), &headers)?;
    let input = QueryInput {
        connection: params.connection,
        sql: params.sql,
        params: Vec::new(),
        limit: params.limit,
        timeout_ms: params.timeout_ms,
        force_read_only: false,
    };
    Ok(stream_response(execution::run(&app, input, format, "api").await?))
}

/// Picks the output format: an explicit `format` wins, then the first media range of `Accept`
/// we can serve. An `Accept` we cannot serve is a 406, not a silent JSON answer.
pub(super) fn negotiate(explicit: Option<&str>, headers: &HeaderMap) -> Result<Format> {
    if let Some(name) = explicit {
        return parse_format(name).ok_or_else(|| {
            Error::BadRequest(format!("unknown format {name:?}: use json, csv, ndjson or arrow"))
        });
    }
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(Format::Json);
    };
    for range in accept.split(',') {
        let media = range.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        let format = match media.as_str() {
            "application/json" | "application/*" | "*/*" | "" => Format::Json,
            "text/csv" | "text/*" => Format::Csv,
            "application/x-ndjson" | "application/ndjson" | "application/jsonl" => Format::Ndjson,
            "application/vnd.apache.arrow.stream" => Format::Arrow,
            _ => continue,
        };
        return Ok(format);
    }
    Err(Error::NotAcceptable(format!(
        "cannot answer with {accept:?}; use application/json, text/csv, application/x-ndjson or application/vnd.apache.arrow.stream"
    )))
}

pub(super) fn parse_format(name: &str) -> Option<Format> {
    match name.to_ascii_lowercase().as_str() {
        "json" => Some(Format::Json),
        "csv" => Some(Format::Csv),
        "ndjson" | "jsonl" => Some(Format::Ndjson),
        "arrow" => Some(Format::Arrow),
        _ => None,
    }
}
