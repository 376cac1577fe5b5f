//! `/api/v1/queries`: saved queries, and running one by id.

use super::query::negotiate;
use crate::app::App;
use crate::error::{Error, Result};
use crate::execution::QueryInput;
use crate::http::{ApiJson, ApiPath};
use crate::sql_template::{self, ParameterSpec};
use crate::state::{Display, NewQuery, SavedQuery, WidgetSettings};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use connectors::Param;
use serde::Deserialize;
use std::collections::HashMap;
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
    /// The `{{name}}` parameters the SQL uses.
    #[serde(default)]
    pub parameters: Vec<ParameterSpec>,
    /// Table (default), chart or metric.
    #[serde(default)]
    pub display: Display,
    /// Seconds between Workspace's automatic refreshes of its widget; none refreshes on demand.
    pub refresh_interval: Option<u64>,
    /// At most this many rows reach its widget.
    pub row_limit: Option<u64>,
    /// Its widget's category in Workspace (default "Data Connector").
    pub category: Option<String>,
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
    pub parameters: Option<Vec<ParameterSpec>>,
    pub display: Option<Display>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u64>)]
    pub refresh_interval: Option<Option<u64>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u64>)]
    pub row_limit: Option<Option<u64>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
}

/// A field that is present (possibly `null`), told apart from one left out.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> std::result::Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RunOptions {
    /// Replaces the saved default parameters.
    #[schema(value_type = Option<Vec<Object>>)]
    pub params: Option<Vec<Param>>,
    /// Values of the `{{name}}` parameters by name (text, number, boolean, or a list for a
    /// `multiple` one); missing ones take their defaults.
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<serde_json::Map<String, serde_json::Value>>,
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
            widget: WidgetSettings {
                parameters: draft.parameters,
                display: draft.display,
                refresh_interval: draft.refresh_interval,
                row_limit: draft.row_limit,
                category: draft.category,
            },
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
            widget: WidgetSettings {
                parameters: patch.parameters.unwrap_or(current.widget.parameters),
                display: patch.display.unwrap_or(current.widget.display),
                refresh_interval: patch.refresh_interval.unwrap_or(current.widget.refresh_interval),
                row_limit: patch.row_limit.unwrap_or(current.widget.row_limit),
                category: patch.category.unwrap_or(current.widget.category),
            },
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
    let values = parameter_values(options.parameters.unwrap_or_default())?;
    let dialect = app.state.require_connection(&saved.connection)?.settings.kind().dialect();
    let bound = sql_template::bind(&saved.sql, &saved.widget.parameters, &values, dialect)?;
    let params = if bound.params.is_empty() { options.params.unwrap_or(saved.params) } else { bound.params };
    let input = QueryInput {
        connection: saved.connection,
        sql: bound.sql,
        params,
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
    query.widget.check(app.config.limits.max_rows)?;
    let dialect = app.state.require_connection(&query.connection)?.settings.kind().dialect();
    sql_template::validate(&query.sql, &query.widget.parameters, dialect)?;
    for spec in &query.widget.parameters {
        if let Some(options_sql) = &spec.options_sql {
            crate::execution::check_sql(&app.config.limits, options_sql)?;
        }
    }
    if !query.widget.parameters.is_empty() && !query.params.is_empty() {
        return Err(Error::BadRequest(
            "a saved query binds either positional params (?) or named {{parameters}}, not both".into(),
        ));
    }
    Ok(query)
}

/// Named values as the text Workspace would send: a list joins with commas (a multi-select).
fn parameter_values(values: serde_json::Map<String, serde_json::Value>) -> Result<HashMap<String, String>> {
    use serde_json::Value;
    let text = |name: &str, value: &Value| match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(Error::BadRequest(format!("parameter {name}: a value is text, a number or a boolean"))),
    };
    values
        .into_iter()
        .map(|(name, value)| {
            let joined = match &value {
                Value::Array(items) => {
                    items.iter().map(|v| text(&name, v)).collect::<Result<Vec<_>>>()?.join(",")
                }
                other => text(&name, other)?,
            };
            Ok((name, joined))
        })
        .collect()
}
