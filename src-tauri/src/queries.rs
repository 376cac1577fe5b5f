//! The Queries view's commands: saved queries listed, saved and deleted through the HTTP API's
//! own handlers in-process (`data_connector::api::local`), so the window checks and stores them
//! exactly as Workspace and `curl` do; and the editor's preview, which runs the SQL being written.

use crate::desktop::Desktop;
use crate::error::{UiError, UiResult};
use data_connector::api::local::{self, Method};
use data_connector::execution::{self, QueryInput};
use data_connector::sql_template::{self, ParameterSpec};
use futures::StreamExt;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tauri::State;

/// The preview grid shows the first rows only; the widget itself returns up to its row limit.
const PREVIEW_ROWS: u64 = 100;

type Shared<'a> = State<'a, Arc<Desktop>>;

#[derive(Debug, Serialize)]
pub(crate) struct Preview {
    columns: Vec<PreviewColumn>,
    /// Each row's values in `columns` order.
    rows: Vec<Vec<Value>>,
    /// From sending the query to the last row read.
    elapsed_ms: f64,
    /// The result had more rows than the preview shows.
    truncated: bool,
}

#[derive(Debug, Serialize)]
struct PreviewColumn {
    name: String,
    db_type: String,
}

#[tauri::command]
pub(crate) async fn list_queries(desktop: Shared<'_>) -> UiResult<Value> {
    let app = desktop.app().await?;
    Ok(local::json(&app, Method::GET, "/api/v1/queries", None).await?)
}

/// Creates a saved query (`id` absent) or replaces the fields `query` holds of saved query `id`.
#[tauri::command]
pub(crate) async fn save_query(
    desktop: Shared<'_>,
    id: Option<i64>,
    query: Map<String, Value>,
) -> UiResult<Value> {
    let app = desktop.app().await?;
    let body = Value::Object(query);
    Ok(match id {
        None => local::json(&app, Method::POST, "/api/v1/queries", Some(&body)).await?,
        Some(id) => local::json(&app, Method::PATCH, &format!("/api/v1/queries/{id}"), Some(&body)).await?,
    })
}

#[tauri::command]
pub(crate) async fn delete_query(desktop: Shared<'_>, id: i64) -> UiResult<()> {
    let app = desktop.app().await?;
    local::json(&app, Method::DELETE, &format!("/api/v1/queries/{id}"), None).await?;
    Ok(())
}

/// Runs the SQL in the editor and returns its first rows, its `{{name}}` parameters bound as a
/// saved query's are (`values` by name, else the declared defaults). Always read-only, whatever
/// the connection allows: trying out a statement must never change data.
#[tauri::command]
pub(crate) async fn preview_query(
    desktop: Shared<'_>,
    connection: String,
    sql: String,
    parameters: Option<Value>,
    values: Option<HashMap<String, String>>,
) -> UiResult<Preview> {
    if connection.trim().is_empty() {
        return Err(UiError::field("connection", "Choose a connection to run the query on."));
    }
    if sql.trim().is_empty() {
        return Err(UiError::field("sql", "Write a query to preview."));
    }
    let declared: Vec<ParameterSpec> = match parameters {
        Some(value) => serde_json::from_value(value)
            .map_err(|e| UiError::field("parameters", format!("The parameters are not valid: {e}")))?,
        None => Vec::new(),
    };
    let app = desktop.app().await?;
    let dialect = app.state.require_connection(&connection)?.settings.kind().dialect();
    // The checks a save makes, so the preview fails where saving would.
    sql_template::validate(&sql, &declared, dialect)?;
    let bound = sql_template::bind(&sql, &declared, &values.unwrap_or_default(), dialect)?;
    let input = QueryInput {
        connection,
        sql: bound.sql,
        params: bound.params,
        limit: Some(PREVIEW_ROWS),
        timeout_ms: None,
        force_read_only: true,
    };
    let started = Instant::now();
    let output = execution::run(&app, input, connectors::Format::Json, "app").await?;
    let mut body = output.body;
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| UiError::new(format!("The query failed while sending rows: {e}")))?;
        bytes.extend_from_slice(&chunk);
    }
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let objects: Vec<Map<String, Value>> = serde_json::from_slice(&bytes)
        .map_err(|e| UiError::new(format!("The result could not be read: {e}")))?;
    let columns: Vec<PreviewColumn> = output
        .columns
        .iter()
        .map(|c| PreviewColumn { name: c.name.clone(), db_type: c.db_type.clone() })
        .collect();
    let rows = objects
        .into_iter()
        .map(|mut row| columns.iter().map(|c| row.remove(&c.name).unwrap_or(Value::Null)).collect())
        .collect();
    Ok(Preview { columns, rows, elapsed_ms, truncated: output.truncated != execution::Truncation::No })
}
