//! `/api/v1/queries/{id}/cache`: a saved query's result cache policy, and running a saved query
//! through the cache (`result_cache.rs` says what is kept and for how long).

use crate::app::App;
use crate::error::{Error, Result};
use crate::execution::QueryInput;
use crate::http::{stream_response, ApiJson, ApiPath};
use crate::result_cache::{self, policy, CachePolicy};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use connectors::Format;
use std::sync::Arc;

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

/// Runs saved query `id` through its result cache (`result_cache::run_saved`); a cached query's
/// answer says `X-Cache: hit` or `miss`.
pub(super) async fn run(
    app: &Arc<App>,
    id: i64,
    headers: &HeaderMap,
    input: QueryInput,
    format: Format,
) -> Result<Response> {
    let (output, outcome) =
        result_cache::run_saved(app, id, result_cache::bypass_requested(headers), input, format, "api")
            .await?;
    Ok(result_cache::with_cache_header(stream_response(output), outcome))
}
