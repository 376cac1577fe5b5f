//! The SQL widgets: the editor (omni), the query table, and every saved query as its own
//! widget. Each runs through the one query path (`execution::run`) and streams its rows.

use super::params::{number, required};
use crate::app::App;
use crate::error::{Error, Result};
use crate::execution::{self, QueryInput};
use crate::http::{json_object_stream, parse_body, stream_response, ApiPath, ApiQuery};
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use connectors::Format;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Rows the SQL widgets show unless their `limit` says otherwise.
const DEFAULT_WIDGET_ROWS: u64 = 1000;

#[derive(Debug, Deserialize)]
pub(super) struct SqlParams {
    connection: Option<String>,
    sql: Option<String>,
    limit: Option<String>,
}

/// The SQL query table widget: `GET ?connection=&sql=&limit=`, rows streamed as a JSON array.
pub(super) async fn query(
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
    Ok(stream_response(execution::run(&app, input, Format::Json, "widget").await?))
}

/// The SQL editor (omni): `POST {prompt, connection, limit}`. Rows come back as a table; a
/// statement that fails comes back as text in the widget rather than an HTTP error, so the
/// editor shows the database's message next to the SQL.
pub(super) async fn omni(State(app): State<Arc<App>>, bytes: Bytes) -> Result<Response> {
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
        Ok(output) => Ok(json_object_stream(
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

/// One saved query as its own widget.
pub(super) async fn saved_query(State(app): State<Arc<App>>, ApiPath(id): ApiPath<i64>) -> Result<Response> {
    let saved = app.state.require_query(id)?;
    let input = QueryInput {
        connection: saved.connection,
        sql: saved.sql,
        params: saved.params,
        limit: Some(app.config.limits.default_rows),
        timeout_ms: None,
        force_read_only: false,
    };
    Ok(stream_response(execution::run(&app, input, Format::Json, "widget").await?))
}
