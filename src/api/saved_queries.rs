//! `/api/v1/queries`: saved queries, and running one by id.

use super::query::negotiate;
use crate::app::App;
use crate::error::{Error, Result};
use crate::execution::QueryInput;
use crate::http::{ApiJson, ApiPath};
use crate::state::{NewQuery, SavedQuery};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use connectors::Param;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct QueryDraft {
    pub connection: String,
    pub name: String,
    pub sql: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub params: Vec<Param>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct QueryPatch {
    pub connection: Option<String>,
    pub name: Option<String>,
    pub sql: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub params: Option<Vec<Param>>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RunOptions {
    /// Replaces the saved default parameters.
    #[schema(value_type = Option<Vec<Object>>)]
    pub params: Option<Vec<Param>>,
    pub limit: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/queries", tag = "saved queries", responses((status = 200, body = Vec<SavedQuery>)))]
pub(super) async fn list(State(app): State<Arc<App>>) -> Result<Json<Vec<SavedQuery>>> {
    Ok(Json(app.state.list_queries(None)?))
}

#[utoipa::path(post, path = "/api/v1/queries", tag = "saved queries", request_body = QueryDraft,
    responses((status = 201, body = SavedQuery)))]
pub(super) async fn create(
    State(app): State<Arc<App>>,
    ApiJson(draft): ApiJson<QueryDraft>,
) -> Result<(StatusCode, Json<SavedQuery>)> {
    let query = validated(
        &app,
        NewQuery {
            connection: draft.connection,
            name: draft.name,
            sql: draft.sql,
            description: draft.description,
            params: draft.params,
        },
    )?;
    let saved = app.state.insert_query(&query)?;
    crate::rowmodel::learn_columns(&app, &saved).await;
    Ok((StatusCode::CREATED, Json(saved)))
}

#[utoipa::path(get, path = "/api/v1/queries/{id}", tag = "saved queries", params(("id" = i64, Path)),
    responses((status = 200, body = SavedQuery)))]
pub(super) async fn get(State(app): State<Arc<App>>, ApiPath(id): ApiPath<i64>) -> Result<Json<SavedQuery>> {
    Ok(Json(app.state.require_query(id)?))
}

#[utoipa::path(patch, path = "/api/v1/queries/{id}", tag = "saved queries", params(("id" = i64, Path)),
    request_body = QueryPatch, responses((status = 200, body = SavedQuery)))]
pub(super) async fn update(
    State(app): State<Arc<App>>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<QueryPatch>,
) -> Result<Json<SavedQuery>> {
    let current = app.state.require_query(id)?;
    let query = validated(
        &app,
        NewQuery {
            connection: patch.connection.unwrap_or(current.connection),
            name: patch.name.unwrap_or(current.name),
            sql: patch.sql.unwrap_or(current.sql),
            description: patch.description.unwrap_or(current.description),
            params: patch.params.unwrap_or(current.params),
        },
    )?;
    let saved = app.state.update_query(id, &query)?;
    crate::rowmodel::learn_columns(&app, &saved).await;
    Ok(Json(saved))
}

#[utoipa::path(delete, path = "/api/v1/queries/{id}", tag = "saved queries", params(("id" = i64, Path)),
    responses((status = 204, description = "deleted")))]
pub(super) async fn delete(State(app): State<Arc<App>>, ApiPath(id): ApiPath<i64>) -> Result<StatusCode> {
    if app.state.delete_query(id)? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound(format!("there is no saved query with id {id}")))
    }
}

#[utoipa::path(post, path = "/api/v1/queries/{id}/run", tag = "saved queries", params(("id" = i64, Path)),
    request_body(content = Option<RunOptions>, description = "optional; an empty body runs with the saved defaults"),
    responses((status = 200, description = "as POST /api/v1/query")))]
pub(super) async fn run(
    State(app): State<Arc<App>>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response> {
    let options: RunOptions = if body.iter().all(u8::is_ascii_whitespace) {
        RunOptions::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| Error::BadRequest(format!("invalid run options: {e}")))?
    };
    let saved = app.state.require_query(id)?;
    let format = negotiate(options.format.as_deref(), &headers)?;
    let input = QueryInput {
        connection: saved.connection,
        sql: saved.sql,
        params: options.params.unwrap_or(saved.params),
        limit: options.limit,
        timeout_ms: options.timeout_ms,
        force_read_only: false,
    };
    super::query_cache::run(&app, id, &headers, input, format).await
}

fn validated(app: &App, query: NewQuery) -> Result<NewQuery> {
    if query.name.trim().is_empty() || query.name.len() > 200 {
        return Err(Error::Unprocessable("a saved query needs a name of 1-200 characters".into()));
    }
    // SQL that saves must also run: the same length limit as a run.
    crate::execution::check_sql(&app.config.limits, &query.sql)?;
    connectors::statement::check(&query.sql, false)?;
    Ok(query)
}
