//! Saved queries (both families): list, save with a new connection, add, save as, edit,
//! delete, and `POST /{family}/query/{id}`, which serves a saved query to the grid.

use super::credentials::{self, given, Body, Link, OwnedTarget};
use super::{item, Caller, Family};
use crate::app::App;
use crate::connections;
use crate::error::{Error, Result};
use crate::http::{json_object_stream, parse_body, ApiPath};
use crate::rowmodel::{self, RowRequest};
use crate::state::native_queries::NativeQueryFields;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// `GET /{family}/databases`: the caller's saved queries.
pub(super) async fn list(caller: Caller) -> Result<Json<Vec<Value>>> {
    let queries = caller.app.state.native_list_queries(&caller.user.0, caller.family.as_str())?;
    Ok(Json(queries.iter().map(item).collect()))
}

fn created(caller: &Caller, id: i64) -> Result<(StatusCode, Json<Value>)> {
    Ok((StatusCode::CREATED, Json(caller.item(id)?)))
}

/// `POST /{family}/database`: credentials plus the first query make a new connection.
pub(super) async fn create(caller: Caller, bytes: Bytes) -> Result<(StatusCode, Json<Value>)> {
    let (family, app) = (caller.family, &caller.app);
    let body: Body = parse_body(&bytes)?;
    let fields = merge(app, family, &body, &NativeQueryFields::default(), false)?;
    let database_type = credentials::database_type(family, &body)?;
    let mut input = credentials::input(family, &body)?;
    credentials::apply_context(&mut input, &fields);
    let link = Link::New(Box::new(connections::prepare(input).await?));
    let target = OwnedTarget::NewConnection {
        user: caller.user.0.clone(),
        family: family.as_str().to_string(),
        database_type: database_type.name().to_string(),
    };
    let saved = credentials::save(app, target, link, fields).await?;
    created(&caller, saved.id)
}

/// `POST /{family}/database/{id}`: another query on the connection of saved query `id`.
pub(super) async fn add(
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>)> {
    let (body, source): (Body, _) = caller.request(id, &bytes)?;
    let fields = merge(&caller.app, caller.family, &body, &source.fields, false)?;
    let link = credentials::link_for(&caller.app, source.connection, &source.link, &fields).await?;
    let target = OwnedTarget::Add { connection: source.connection };
    let saved = credentials::save(&caller.app, target, link, fields).await?;
    created(&caller, saved.id)
}

/// `POST /{family}/database/{id}/saveas`: a copy of query `id` under a new name and SQL.
pub(super) async fn save_as(
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>)> {
    let (body, source): (Body, _) = caller.request(id, &bytes)?;
    // A copy keeps its source's context, so it runs on the same link.
    let context = Body { database: None, role: None, warehouse: None, schema: None, ..body };
    let fields = merge(&caller.app, caller.family, &context, &source.fields, false)?;
    let id = caller.app.state.native_insert_query(source.connection, &source.link, &fields)?;
    created(&caller, id)
}

/// `PATCH /{family}/database/{id}/nonsensitive`: name, context, SQL and metadata; credentials
/// in the body are ignored.
pub(super) async fn update(caller: Caller, ApiPath(id): ApiPath<i64>, bytes: Bytes) -> Result<Json<Value>> {
    let (body, current): (Body, _) = caller.request(id, &bytes)?;
    let fields = merge(&caller.app, caller.family, &body, &current.fields, true)?;
    let link = credentials::link_for(&caller.app, current.connection, &current.link, &fields).await?;
    let target = OwnedTarget::Update { connection: current.connection, id };
    credentials::save(&caller.app, target, link, fields).await?;
    credentials::collect_garbage(&caller.app, current.connection, &[current.link]).await?;
    Ok(Json(caller.item(id)?))
}

/// `PATCH /{family}/database/{id}/query`: `{query}` only.
pub(super) async fn update_sql(
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    bytes: Bytes,
) -> Result<Json<Value>> {
    let (body, current): (Body, _) = caller.request(id, &bytes)?;
    let query = given(&body.query).ok_or_else(|| Error::Unprocessable("\"query\" is required".into()))?;
    let fields = NativeQueryFields { query: query.to_string(), ..current.fields };
    validate(&caller.app, &fields)?;
    caller.app.state.native_update_query(id, &current.link, &fields)?;
    Ok(Json(caller.item(id)?))
}

/// `DELETE /{family}/database/{id}`: one saved query.
pub(super) async fn delete(caller: Caller, ApiPath(id): ApiPath<i64>) -> Result<Json<Value>> {
    let current = caller.saved(id)?;
    caller.app.state.native_delete_query(id)?;
    credentials::collect_garbage(&caller.app, current.connection, &[current.link]).await?;
    Ok(Json(json!({ "deleted": [id] })))
}

/// `DELETE /{family}/connection/{id}`: every query of connection `id` (the `connection` field
/// of the saved items), and with them its credentials.
pub(super) async fn delete_connection(caller: Caller, ApiPath(id): ApiPath<i64>) -> Result<Json<Value>> {
    let app = &caller.app;
    if !app.state.native_owns_connection(&caller.user.0, caller.family.as_str(), id)? {
        return Err(Error::NotFound(format!("there is no connection with id {id}")));
    }
    let queries = app.state.native_connection_queries(id)?;
    let mut links: Vec<String> = Vec::new();
    for query in &queries {
        app.state.native_delete_query(query.id)?;
        if !links.contains(&query.link) {
            links.push(query.link.clone());
        }
    }
    credentials::collect_garbage(app, id, &links).await?;
    Ok(Json(json!({ "deleted": queries.iter().map(|q| q.id).collect::<Vec<_>>() })))
}

#[derive(Debug, Default, Deserialize)]
struct RowsBody {
    request: Option<RowRequest>,
}

/// `POST /{family}/query/{id}`: one page of saved query `id` for the grid, as
/// `{rows, data, schema, timestamp}` (plus `pivotResultFields` in pivot mode); `data` streams
/// from the database. `getDatabaseRows` turns any non-2xx into a blank grid without a word, so
/// a failure is a 200 whose one row has an `error` column saying what went wrong (the query
/// log has the rest), and `error` at the top for clients that look there.
pub(super) async fn run(caller: Caller, ApiPath(id): ApiPath<i64>, bytes: Bytes) -> Response {
    match page(&caller, id, &bytes).await {
        Ok(response) => response,
        Err(e) => {
            let message = e.in_band();
            Json(json!({
                "rows": 1,
                "data": [{"error": message}],
                "schema": {"error": "text"},
                "timestamp": timestamp(),
                "error": message,
            }))
            .into_response()
        }
    }
}

async fn page(caller: &Caller, id: i64, bytes: &[u8]) -> Result<Response> {
    let (body, query): (RowsBody, _) = caller.request(id, bytes)?;
    let request = body.request.unwrap_or_default();
    let page = rowmodel::fetch(&caller.app, &query.link, &query.fields.query, &request, "workspace").await?;
    let schema: Map<String, Value> =
        page.columns.iter().map(|c| (c.name.clone(), Value::String(rowmodel::column_type(c)))).collect();
    let prefix = format!("{{\"rows\":{},\"data\":", page.total);
    let pivot = match &page.pivot_fields {
        Some(fields) => format!(",\"pivotResultFields\":{}", json!(fields)),
        None => String::new(),
    };
    let suffix = format!(",\"schema\":{},\"timestamp\":{}{pivot}}}", Value::Object(schema), timestamp());
    Ok(json_object_stream(prefix, page.body, suffix))
}

fn timestamp() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The query fields of a request: given fields win; the context (database, role, warehouse,
/// schema) falls back to `base`; name, SQL and metadata too when `inherit` (an edit).
fn merge(
    app: &App,
    family: Family,
    body: &Body,
    base: &NativeQueryFields,
    inherit: bool,
) -> Result<NativeQueryFields> {
    let pick = |value: &Option<String>, fallback: &str, inherit: bool| -> String {
        given(value).map(str::to_string).unwrap_or_else(|| {
            if inherit {
                fallback.to_string()
            } else {
                String::new()
            }
        })
    };
    let snowflake = |value: &Option<String>, fallback: &Option<String>| -> Option<String> {
        if family == Family::Snowflake {
            given(value).map(str::to_string).or_else(|| fallback.clone())
        } else {
            None
        }
    };
    let fields = NativeQueryFields {
        name: pick(&body.name, &base.name, inherit),
        database: pick(&body.database, &base.database, true),
        query: pick(&body.query, &base.query, inherit),
        category: pick(&body.category, &base.category, inherit),
        sub_category: pick(&body.sub_category, &base.sub_category, inherit),
        description: pick(&body.description, &base.description, inherit),
        role: snowflake(&body.role, &base.role),
        warehouse: snowflake(&body.warehouse, &base.warehouse),
        database_schema: snowflake(&body.schema, &base.database_schema),
    };
    validate(app, &fields)?;
    Ok(fields)
}

fn validate(app: &App, fields: &NativeQueryFields) -> Result<()> {
    if fields.name.is_empty() || fields.name.chars().count() > 200 {
        return Err(Error::Unprocessable("\"name\" is required (1-200 characters)".into()));
    }
    if fields.database.is_empty() {
        return Err(Error::Unprocessable("\"database\" is required".into()));
    }
    if fields.query.is_empty() {
        return Err(Error::Unprocessable("\"query\" is required".into()));
    }
    // Every saved query is shown in the paged grid; refusing here beats saving a query that
    // can never show. First, so a PRAGMA hears why it cannot be a grid, not that it writes.
    rowmodel::check_wrappable(&fields.query)?;
    // SQL that saves must also run: the same length limit as a run.
    crate::execution::check_sql(&app.config.limits, &fields.query)?;
    connectors::statement::check(&fields.query, true)?;
    Ok(())
}
