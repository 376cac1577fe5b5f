//! The SQL widgets: the editor (omni), the query table, and every saved query as its own
//! widget. Each runs through the one query path (`execution::run`) and streams its rows.

use super::params::{number, required};
use crate::app::App;
use crate::error::{Error, Result};
use crate::execution::{self, QueryInput};
use crate::http::{json_object_stream, parse_body, stream_response, ApiPath, ApiQuery};
use crate::rowmodel::{self, RowRequest};
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

/// A saved query as a paged grid (`ssrm_table`): `getSSRRows` posts the bare AG Grid request.
/// Failures answer 200 with `error`, the only thing the grid shows.
pub(super) async fn saved_query_rows(
    State(app): State<Arc<App>>,
    ApiPath(id): ApiPath<i64>,
    bytes: Bytes,
) -> Response {
    let page = async {
        let saved = app.state.require_query(id)?;
        let request: RowRequest = parse_body(&bytes)?;
        let page = rowmodel::fetch(&app, &saved.connection, &saved.sql, &request, "widget").await?;
        if !page.columns.is_empty()
            && !rowmodel::sql::pivoting(&request)
            && request.row_group_cols.as_ref().is_none_or(Vec::is_empty)
        {
            remember_columns(&app, &saved, &page.columns);
        }
        Ok::<_, Error>(page)
    };
    match page.await {
        Ok(page) => {
            let suffix = match &page.pivot_fields {
                Some(fields) => format!(",\"pivotResultFields\":{}}}", json!(fields)),
                None => "}".into(),
            };
            json_object_stream(format!("{{\"rowCount\":{},\"rowData\":", page.total), page.body, suffix)
        }
        Err(e) => super::schema::grid_error(e),
    }
}

pub(super) fn remember_columns(app: &App, saved: &crate::state::SavedQuery, columns: &[connectors::Column]) {
    if let Err(e) = app.state.store_query_columns(saved.id, &saved.sql, &rowmodel::encode_columns(columns)) {
        tracing::warn!("could not store the columns of saved query {}: {e}", saved.id);
    }
}
