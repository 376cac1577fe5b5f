//! The endpoints behind the widgets. Parameters arrive form-encoded in the query string (GET)
//! or as JSON (omni, ssrm, form); an empty parameter counts as missing, and a missing required
//! one answers 422 `{"detail": "... missing"}`, which Workspace's validation pass accepts.

use super::spec;
use crate::api::extract::{ApiPath, ApiQuery};
use crate::app::App;
use crate::connections;
use crate::error::{Error, Result};
use crate::execution::{self, QueryInput};
use crate::rowmodel::{self, RowRequest};
use crate::workspace::credentials::parse_body;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use connectors::dialect::Dialect;
use connectors::{Format, TableInfo};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Rows the SQL widgets show unless their `limit` says otherwise.
const DEFAULT_WIDGET_ROWS: u64 = 1000;

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty()).ok_or_else(|| {
        Error::Unprocessable(format!("{name} missing: choose a value for the \"{name}\" parameter"))
    })
}

/// Numbers arrive as text in query strings and as numbers or text in JSON bodies.
fn number(value: Option<&Value>) -> Result<Option<u64>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            n.as_u64().map(Some).ok_or_else(|| Error::Unprocessable(format!("{n} is not a row count")))
        }
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => {
            s.trim().parse().map(Some).map_err(|_| Error::Unprocessable(format!("{s:?} is not a row count")))
        }
        Some(other) => Err(Error::Unprocessable(format!("{other} is not a row count"))),
    }
}

pub async fn widgets_json(State(app): State<Arc<App>>) -> Result<Json<Value>> {
    let mut widgets = spec::widgets(&app).await?;
    crate::mcp::workspace::link_widgets(&app, &mut widgets)?;
    Ok(Json(widgets))
}

pub async fn apps_json(State(app): State<Arc<App>>, headers: axum::http::HeaderMap) -> Result<Json<Value>> {
    let mut apps = spec::apps(&spec::widgets(&app).await?);
    if let Some(host) = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()) {
        crate::mcp::workspace::advertise(&mut apps, host);
    }
    Ok(Json(apps))
}

/// `optionsEndpoint` of the connection pickers: `[{label, value, extraInfo}]`.
pub async fn connection_options(State(app): State<Arc<App>>) -> Result<Json<Vec<Value>>> {
    let options = app
        .state
        .list_connections()?
        .into_iter()
        .map(|c| {
            json!({"label": c.name, "value": c.name, "extraInfo": {"description": c.settings.kind(),
                   "rightOfDescription": target(&c.settings)}})
        })
        .collect();
    Ok(Json(options))
}

/// Where a connection points, for people: a file, a host/database or a Snowflake account.
fn target(settings: &connectors::ConnectionSettings) -> String {
    let value = serde_json::to_value(settings).unwrap_or_default();
    let field = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_string);
    field("path")
        .or_else(|| field("account"))
        .or_else(|| field("host").map(|h| format!("{h}/{}", field("database").unwrap_or_default())))
        .unwrap_or_default()
}

pub async fn connections_table(State(app): State<Arc<App>>) -> Result<Json<Vec<Value>>> {
    let rows = app
        .state
        .list_connections()?
        .into_iter()
        .map(|c| {
            json!({"name": c.name, "kind": c.settings.kind(), "target": target(&c.settings),
                   "read_only": c.settings.read_only()})
        })
        .collect();
    Ok(Json(rows))
}

/// The fields the add-connection form may send that a connection takes.
const FORM_FIELDS: &[&str] = &[
    "name",
    "kind",
    "path",
    "url",
    "host",
    "port",
    "user",
    "password",
    "database",
    "account",
    "warehouse",
    "role",
    "schema",
    "read_only",
];

/// The add-connection form's submit: the form's values as JSON; blanks are left out.
pub async fn add_connection(State(app): State<Arc<App>>, bytes: Bytes) -> Result<Json<Value>> {
    let form: Map<String, Value> = parse_body(&bytes)?;
    let mut input = Map::new();
    for (key, value) in form {
        if !FORM_FIELDS.contains(&key.as_str()) {
            continue;
        }
        let value = match value {
            Value::Null => continue,
            Value::String(s) if s.trim().is_empty() => continue,
            Value::String(s) if key == "port" => Value::from(
                s.trim()
                    .parse::<u16>()
                    .map_err(|_| Error::Unprocessable(format!("port {s:?} is not a number")))?,
            ),
            Value::String(s) if key == "read_only" => Value::Bool(s != "false"),
            Value::String(s) if key != "password" => Value::String(s.trim().to_string()),
            other => other,
        };
        input.insert(key, value);
    }
    required(&input.get("name").and_then(Value::as_str).map(str::to_string), "name")?;
    if input.get("kind").and_then(Value::as_str) != Some("sqlite") {
        input.remove("path");
    }
    let created = connections::create(&app, input).await?;
    Ok(Json(json!({"success": true, "connection": created.into_json()})))
}

#[derive(Debug, Deserialize)]
pub struct SqlParams {
    connection: Option<String>,
    sql: Option<String>,
    limit: Option<String>,
}

/// The SQL query table widget: `GET ?connection=&sql=&limit=`, rows streamed as a JSON array.
pub async fn sql_query(
    State(app): State<Arc<App>>,
    ApiQuery(params): ApiQuery<SqlParams>,
) -> Result<Response> {
    let connection = required(&params.connection, "connection")?;
    let sql = required(&params.sql, "sql")?;
    let limit = number(params.limit.map(Value::String).as_ref())?.unwrap_or(DEFAULT_WIDGET_ROWS);
    let input = QueryInput {
        connection: connection.into(),
        sql: sql.into(),
        params: Vec::new(),
        limit: Some(limit),
        timeout_ms: None,
        force_read_only: false,
    };
    Ok(crate::api::query::stream_response(execution::run(&app, input, Format::Json, "widget").await?))
}

/// The SQL editor (omni): `POST {prompt, connection, limit}`. Rows come back as a table; a
/// statement that fails comes back as text in the widget rather than an HTTP error, so the
/// editor shows the database's message next to the SQL.
pub async fn sql_omni(State(app): State<Arc<App>>, bytes: Bytes) -> Result<Response> {
    let body: Map<String, Value> = parse_body(&bytes)?;
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
    let prompt = text("prompt").or_else(|| text("query"));
    let sql = required(&prompt, "prompt")?.to_string();
    let connection = required(&text("connection"), "connection")?.to_string();
    let limit = number(body.get("limit"))?.unwrap_or(DEFAULT_WIDGET_ROWS);
    let input = QueryInput {
        connection,
        sql,
        params: Vec::new(),
        limit: Some(limit),
        timeout_ms: None,
        force_read_only: false,
    };
    match execution::run(&app, input, Format::Json, "widget").await {
        Ok(output) => Ok(crate::workspace::json_object_stream(
            "{\"content\":".into(),
            output.body,
            ",\"data_format\":{\"data_type\":\"object\",\"parse_as\":\"table\"},\"citable\":true}".into(),
        )),
        Err(e @ (Error::Connector(_) | Error::BadRequest(_) | Error::NotFound(_) | Error::Busy(_))) => {
            let message = format!("**The query failed.**\n\n{e}");
            Ok(Json(json!({"content": message, "data_format": {"data_type": "object", "parse_as": "text"}}))
                .into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct ConnectionParam {
    connection: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct TableParams {
    connection: Option<String>,
    table: Option<String>,
}

pub async fn schema_tables(
    State(app): State<Arc<App>>,
    ApiQuery(params): ApiQuery<ConnectionParam>,
) -> Result<Json<Vec<TableInfo>>> {
    let connection = required(&params.connection, "connection")?;
    Ok(Json(connections::engine(&app, connection).await?.engine.tables(None).await?))
}

/// `optionsEndpoint` of the table pickers; Workspace passes the chosen connection along.
pub async fn table_options(
    State(app): State<Arc<App>>,
    ApiQuery(params): ApiQuery<ConnectionParam>,
) -> Result<Json<Vec<Value>>> {
    let Some(connection) = params.connection.as_deref().filter(|c| !c.trim().is_empty()) else {
        return Ok(Json(Vec::new()));
    };
    let tables = connections::engine(&app, connection).await?.engine.tables(None).await?;
    Ok(Json(
        tables
            .iter()
            .map(|t| json!({"label": label(t), "value": label(t), "extraInfo": {"description": t.kind}}))
            .collect(),
    ))
}

fn label(table: &TableInfo) -> String {
    format!("{}.{}", table.schema, table.name)
}

/// The table a picker value names, among the tables the connection really has: only names
/// the database listed ever reach SQL, and then only quoted.
async fn resolve_table(app: &Arc<App>, connection: &str, value: &str) -> Result<TableInfo> {
    let tables = connections::engine(app, connection).await?.engine.tables(None).await?;
    let mut matches = tables.iter().filter(|t| label(t) == value);
    if let Some(found) = matches.next() {
        return Ok(found.clone());
    }
    let by_name: Vec<&TableInfo> = tables.iter().filter(|t| t.name == value).collect();
    match by_name.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::NotFound(format!("connection {connection:?} has no table {value:?}"))),
        _ => Err(Error::Unprocessable(format!("{value:?} is in several schemas; choose schema.table"))),
    }
}

pub async fn schema_columns(
    State(app): State<Arc<App>>,
    ApiQuery(params): ApiQuery<TableParams>,
) -> Result<Json<Vec<connectors::ColumnInfo>>> {
    let connection = required(&params.connection, "connection")?;
    let table = resolve_table(&app, connection, required(&params.table, "table")?).await?;
    let engine = connections::engine(&app, connection).await?.engine.clone();
    Ok(Json(engine.columns(Some(&table.schema), &table.name).await?))
}

/// The large-table browser (`ssrm_table`): the grid's request merged with the widget's
/// params, answered as `{rowData, rowCount}` with `rowData` streaming.
pub async fn table_rows(State(app): State<Arc<App>>, bytes: Bytes) -> Result<Response> {
    let body: Map<String, Value> = parse_body(&bytes)?;
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
    let connection = required(&text("connection"), "connection")?.to_string();
    let table = required(&text("table"), "table")?.to_string();
    let request: RowRequest = serde_json::from_value(Value::Object(body))
        .map_err(|e| Error::Unprocessable(format!("invalid row request: {e}")))?;
    let found = resolve_table(&app, &connection, &table).await?;
    let kind = connections::engine(&app, &connection).await?.engine.kind();
    let dialect = Dialect::for_kind(kind)
        .ok_or_else(|| Error::BadRequest(format!("the table browser does not support {kind} connections")))?;
    let sql =
        format!("SELECT * FROM {}.{}", dialect.quote_ident(&found.schema), dialect.quote_ident(&found.name));
    let page = rowmodel::fetch(&app, &connection, &sql, &request, "widget").await?;
    Ok(crate::workspace::json_object_stream(
        format!("{{\"rowCount\":{},\"rowData\":", page.total),
        page.body,
        "}".into(),
    ))
}

#[derive(Debug, Deserialize)]
pub struct LogParams {
    limit: Option<String>,
}

pub async fn query_log(
    State(app): State<Arc<App>>,
    ApiQuery(params): ApiQuery<LogParams>,
) -> Result<Json<Vec<crate::state::LogEntry>>> {
    let limit = number(params.limit.map(Value::String).as_ref())?.unwrap_or(100).clamp(1, 1000);
    Ok(Json(app.state.recent_log(limit)?))
}

/// One saved query as its own widget.
pub async fn saved_query(State(app): State<Arc<App>>, ApiPath(id): ApiPath<i64>) -> Result<Response> {
    let saved = app.state.require_query(id)?;
    let input = QueryInput {
        connection: saved.connection,
        sql: saved.sql,
        params: saved.params,
        limit: Some(app.config.limits.default_rows),
        timeout_ms: None,
        force_read_only: false,
    };
    Ok(crate::api::query::stream_response(execution::run(&app, input, Format::Json, "widget").await?))
}
