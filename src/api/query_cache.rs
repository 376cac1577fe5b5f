//! `/api/v1/queries/{id}/cache`: a saved query's result cache policy, and running a saved query
//! through the cache (`result_cache.rs` says what is kept and for how long).

use crate::app::App;
use crate::connections;
use crate::error::{Error, Result};
use crate::execution::{self, QueryInput};
use crate::http::{stream_response, ApiJson, ApiPath};
use crate::result_cache::{CacheKey, CachePolicy};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Json;
use connectors::Format;
use std::sync::Arc;

/// The policy of saved query `id`, if it has one.
pub(crate) fn policy(app: &App, id: i64) -> Result<Option<CachePolicy>> {
    let Some(text) = app.state.query_cache_policy(id)? else { return Ok(None) };
    serde_json::from_str(&text).map(Some).map_err(|e| {
        Error::Internal(format!("the stored cache policy of saved query {id} is unreadable: {e}"))
    })
}

#[utoipa::path(get, path = "/api/v1/queries/{id}/cache", tag = "saved queries", params(("id" = i64, Path)),
    responses((status = 200, body = CachePolicy), (status = 404, description = "no such query, or not cached")))]
pub(super) async fn get(State(app): State<Arc<App>>, ApiPath(id): ApiPath<i64>) -> Result<Json<CachePolicy>> {
    app.state.require_query(id)?;
    policy(&app, id)?
        .map(Json)
        .ok_or_else(|| Error::NotFound(format!("saved query {id} has no result cache")))
}

#[utoipa::path(put, path = "/api/v1/queries/{id}/cache", tag = "saved queries", params(("id" = i64, Path)),
    request_body = CachePolicy,
    responses((status = 200, body = CachePolicy),
        (status = 422, description = "out of range, or the query's connection may write")))]
pub(super) async fn put(
    State(app): State<Arc<App>>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<CachePolicy>> {
    // serde reads a struct from a JSON array too ([ttl, bytes]); only the documented object is a policy.
    if !body.is_object() {
        return Err(Error::BadRequest("a cache policy is a JSON object {ttl_seconds, max_bytes}".into()));
    }
    let policy: CachePolicy =
        serde_json::from_value(body).map_err(|e| Error::BadRequest(format!("cache policy: {e}")))?;
    if let Some(problem) = policy.problem() {
        return Err(Error::Unprocessable(problem));
    }
    let saved = app.state.require_query(id)?;
    if !app.state.require_connection(&saved.connection)?.settings.read_only() {
        return Err(Error::Unprocessable(format!(
            "connection {:?} may write, and a query that may write is never cached; make the \
             connection read-only to cache its results",
            saved.connection
        )));
    }
    let text = serde_json::to_string(&policy).map_err(|e| Error::Internal(e.to_string()))?;
    app.state.set_query_cache_policy(id, Some(&text))?;
    app.results.forget(id);
    Ok(Json(policy))
}

#[utoipa::path(delete, path = "/api/v1/queries/{id}/cache", tag = "saved queries", params(("id" = i64, Path)),
    responses((status = 204, description = "no longer cached; kept results dropped")))]
pub(super) async fn delete(State(app): State<Arc<App>>, ApiPath(id): ApiPath<i64>) -> Result<StatusCode> {
    app.state.require_query(id)?;
    app.state.set_query_cache_policy(id, None)?;
    app.results.forget(id);
    Ok(StatusCode::NO_CONTENT)
}

/// Whether the caller asked to skip the cache (`Cache-Control: no-cache` or `no-store`).
fn bypass(headers: &HeaderMap) -> bool {
    headers.get_all(header::CACHE_CONTROL).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|d| matches!(d.trim().to_ascii_lowercase().as_str(), "no-cache" | "no-store"))
    })
}

/// Runs saved query `id` through its result cache when it has a policy and its connection is
/// read-only now; the answer says `X-Cache: hit` or `miss`. Without a policy, a plain run.
pub(super) async fn run(
    app: &Arc<App>,
    id: i64,
    headers: &HeaderMap,
    input: QueryInput,
    format: Format,
) -> Result<Response> {
    let Some(policy) = policy(app, id)? else {
        return Ok(stream_response(execution::run(app, input, format, "api").await?));
    };
    // The connection may have become writable since the policy was set.
    if !connections::engine(app, &input.connection).await?.read_only {
        return Ok(stream_response(execution::run(app, input, format, "api").await?));
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
    if !bypass(headers) {
        if let Some(output) = app.results.get(&key) {
            return Ok(with_cache_header(stream_response(output), "hit"));
        }
    }
    let output = execution::run(app, input, format, "api").await?;
    Ok(with_cache_header(stream_response(app.results.fill(key, policy, output)), "miss"))
}

fn with_cache_header(mut response: Response, value: &'static str) -> Response {
    response.headers_mut().insert("x-cache", HeaderValue::from_static(value));
    response
}
