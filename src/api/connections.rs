//! `/api/v1/connections`: saved connections, their secrets accepted but never returned.

use crate::app::App;
use crate::connections::{self, TestReport};
use crate::error::Result;
use crate::http::{ApiJson, ApiPath};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{Map, Value};
use std::sync::Arc;

/// A connection: `{"name", "kind", ...settings, "has_<secret>": bool, "created_at", "updated_at"}`.
/// SQLite: `{"name": "prices", "kind": "sqlite", "path": "/abs/file.db", "read_only": true}`.
pub(super) struct ConnectionJson;

impl utoipa::PartialSchema for ConnectionJson {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .description(Some(
                "kind (sqlite|mysql|postgres|snowflake|duckdb), name, the kind's settings; secrets are write-only \
                 and reported as has_<field>",
            ))
            .into()
    }
}

impl utoipa::ToSchema for ConnectionJson {}

#[utoipa::path(get, path = "/api/v1/connections", tag = "connections",
    responses((status = 200, body = Vec<ConnectionJson>)))]
pub(super) async fn list(State(app): State<Arc<App>>) -> Result<Json<Vec<Value>>> {
    Ok(Json(connections::list(&app)?.into_iter().map(|c| c.into_json()).collect()))
}

#[utoipa::path(post, path = "/api/v1/connections", tag = "connections",
    request_body(content = ConnectionJson, description = "name, kind, settings and secrets"),
    responses((status = 201, body = ConnectionJson), (status = 409, description = "name taken"),
        (status = 404, description = "file or database not found")))]
pub(super) async fn create(
    State(app): State<Arc<App>>,
    ApiJson(input): ApiJson<Map<String, Value>>,
) -> Result<(StatusCode, Json<Value>)> {
    let created = connections::create(&app, input).await?;
    let mut json = created.into_json();
    let name = json.get("name").and_then(Value::as_str).map(str::to_string);
    if let (Some(name), Value::Object(map)) = (name, &mut json) {
        let engine = connections::engine(&app, &name).await?;
        map.insert("warnings".into(), Value::from(connections::privilege_warnings(&*engine.engine).await));
    }
    Ok((StatusCode::CREATED, Json(json)))
}

#[utoipa::path(get, path = "/api/v1/connections/{name}", tag = "connections",
    params(("name" = String, Path)), responses((status = 200, body = ConnectionJson)))]
pub(super) async fn get(State(app): State<Arc<App>>, ApiPath(name): ApiPath<String>) -> Result<Json<Value>> {
    Ok(Json(connections::get(&app, &name)?.into_json()))
}

#[utoipa::path(patch, path = "/api/v1/connections/{name}", tag = "connections",
    params(("name" = String, Path)),
    request_body(content = ConnectionJson, description = "fields to change; secrets left out are kept"),
    responses((status = 200, body = ConnectionJson)))]
pub(super) async fn update(
    State(app): State<Arc<App>>,
    ApiPath(name): ApiPath<String>,
    ApiJson(patch): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>> {
    Ok(Json(connections::update(&app, &name, patch).await?.into_json()))
}

#[utoipa::path(delete, path = "/api/v1/connections/{name}", tag = "connections",
    params(("name" = String, Path)), responses((status = 204, description = "deleted with its secrets and saved queries")))]
pub(super) async fn delete(
    State(app): State<Arc<App>>,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode> {
    connections::delete(&app, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/connections/{name}/test", tag = "connections",
    params(("name" = String, Path)), responses((status = 200, body = TestReport)))]
pub(super) async fn test(
    State(app): State<Arc<App>>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<TestReport>> {
    Ok(Json(connections::test(&app, &name).await?))
}
