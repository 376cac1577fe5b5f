//! The SQL workbench (`ssrm_advanced`): the user's own SQL, paged, sorted, filtered and grouped
//! in the database by the row model, and the schema autocomplete Workspace's SQL editor reads
//! from `GET /table-schemas`.
//!
//! What arrives, read in Workspace's frontend (`useSSRMGridOptions`, `getQueryState`,
//! `getSSRRows`): the widget's params other than `query` in the URL query string
//! (`cleanSearchParams`), and the body is the AG Grid request plus `query` (the editor's SQL,
//! after Workspace replaced each `{{param}}` the user defined in the editor with its value) and
//! `disableCache`. The first load also posts `{startRow: 0, endRow: 500, query}` and reads only
//! `rowData`. The validation pass merges the params into the body, which is the fallback. A
//! `{{name}}` still in the SQL is bound from the query string (`bind`).

use super::params::required;
use super::schema::grid_error;
use crate::app::App;
use crate::connections;
use crate::error::{Error, Result};
use crate::http::{json_object_stream, parse_body};
use crate::rowmodel::{self, RowRequest};
use crate::sql_template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::Response;
use axum::Json;
use connectors::TableInfo;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(super) const ENDPOINT: &str = "widgets/sql/workbench";

/// Rows a request that names no `endRow` gets (a preview posting `{query}` alone): the grid's
/// own first page. Any page the grid asks for is served up to the server's row limit.
const PREVIEW_ROWS: u64 = 500;

/// `schemaName` that makes the editor complete from every entry of `/table-schemas` rather
/// than from one table (`MonacoEditor`, `useAddCopilotWidgetData`).
const ALL_SCHEMAS: &str = "ALL_DATABASES_ALL_SCHEMAS_ALL_TABLES";

/// The widget, in widgets.json. `connection` is an ordinary param, so it reaches the endpoint
/// in the query string and links with the other widgets' connection pickers.
pub(super) fn widget(connection_param: Value, category: &str) -> Value {
    json!({
        "name": "SQL Workbench",
        "description": "Explore a saved connection with your own read-only SQL: every row of the result, \
            paged, sorted, filtered and grouped in the database, with table and column autocomplete.",
        "category": category,
        "subCategory": "SQL",
        "type": "ssrm_advanced",
        "endpoint": ENDPOINT,
        "schemaName": ALL_SCHEMAS,
        "gridData": {"w": 40, "h": 20},
        "source": [category],
        "params": [
            {"paramName": "query", "label": "SQL", "type": "text", "language": "sql", "show": false,
             "value": "SELECT 1 AS one",
             "description": "A read-only SQL statement; the grid pages, sorts and filters its result in the database"},
            connection_param,
        ],
        "data": {"table": {"showAll": true, "enableAdvanced": true}},
        // Each refetch runs the SQL on the user's database; a manual refresh is always there.
        "refetchInterval": false,
        "staleTime": false,
    })
}

/// `POST widgets/sql/workbench`: one page, `{rowCount, rowData}` (+ `pivotResultFields`), or a
/// 200 `{rowData: [], rowCount: 0, error}`, the only failure the grid shows.
pub(super) async fn rows(State(app): State<Arc<App>>, uri: Uri, bytes: Bytes) -> Response {
    match page(&app, &uri, &bytes).await {
        Ok(response) => response,
        Err(e) => grid_error(e),
    }
}

async fn page(app: &Arc<App>, uri: &Uri, bytes: &[u8]) -> Result<Response> {
    let Query(params) = Query::<Map<String, Value>>::try_from_uri(uri)
        .map_err(|e| Error::Unprocessable(format!("invalid query string: {}", e.body_text())))?;
    let body: Map<String, Value> = parse_body(bytes)?;
    let connection = required(&text(&params, &body, "connection")?, "connection")?.to_string();
    // `getSSRRows` never puts `query` in the URL; the body is where it lives.
    let sql = required(&text(&body, &params, "query")?, "query")?.to_string();
    let mut request: RowRequest = serde_json::from_value(Value::Object(body))
        .map_err(|e| Error::Unprocessable(format!("invalid row request: {e}")))?;
    if request.end_row.is_none() {
        request.end_row = Some(request.start_row.unwrap_or(0).saturating_add(PREVIEW_ROWS));
    }
    let bound = bind(app, &connection, &sql, &params).await?;
    let page =
        rowmodel::fetch_read_only(app, &connection, &bound.sql, &bound.params, &request, "widget").await?;
    let suffix = match &page.pivot_fields {
        Some(fields) => format!(",\"pivotResultFields\":{}}}", json!(fields)),
        None => "}".into(),
    };
    Ok(json_object_stream(format!("{{\"rowCount\":{},\"rowData\":", page.total), page.body, suffix))
}

/// The `{{name}}`s still in the SQL, bound from the widget params in the query string.
///
/// Parameters the user defines in Workspace's editor are written into the SQL by Workspace
/// before it is sent (`getNewQuery`), so most SQL arrives without any. What can still arrive:
/// the editor's own SQL as typed, with the parameter values as query-string params
/// (`useAutoMetadataUpdate` posts it so, through `getSSRRows`), or a `{{name}}` the user never
/// defined. Each is bound as a text value when the query string has it, never written into the
/// SQL; one without a value is refused with a message naming it.
async fn bind(
    app: &Arc<App>,
    connection: &str,
    sql: &str,
    params: &Map<String, Value>,
) -> Result<sql_template::Bound> {
    let dialect = connections::engine(app, connection).await?.engine.kind().dialect();
    let bound = sql_template::text_specs(sql, dialect).and_then(|specs| {
        let values: HashMap<String, String> = params
            .iter()
            .filter(|(name, _)| specs.iter().any(|s| s.name == **name))
            .filter_map(|(name, value)| value.as_str().map(|v| (name.clone(), v.to_string())))
            .collect();
        sql_template::bind(sql, &specs, &values, dialect)
    });
    bound.map_err(|e| {
        let e = match e {
            Error::Unprocessable(message) => Error::Unprocessable(format!(
                "{message}: define it in the SQL editor's parameters, or give the widget a param of that name"
            )),
            other => other,
        };
        rowmodel::log_refusal(app, "widget", connection, sql, &e);
        e
    })
}

/// A text value from `first`, else `second`; blank counts as missing, anything but a string is
/// refused so a number or object never turns into SQL or a connection name by accident.
fn text(first: &Map<String, Value>, second: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    for map in [first, second] {
        match map.get(key) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) if s.trim().is_empty() => continue,
            Some(Value::String(s)) => return Ok(Some(s.clone())),
            Some(other) => {
                return Err(Error::Unprocessable(format!(
                    "\"{key}\" must be text, not {}",
                    match other {
                        Value::Bool(_) => "a boolean",
                        Value::Number(_) => "a number",
                        Value::Array(_) => "a list",
                        _ => "an object",
                    }
                )))
            }
        }
    }
    Ok(None)
}

/// How long `/table-schemas` spends on one connection, and how many tables it describes there:
/// Workspace reads it once when the backend is added, and a slow or huge database must not hold
/// that up. What was read by then is answered.
const BROWSE_TIME: Duration = Duration::from_secs(10);
const BROWSE_TABLES: usize = 2000;

/// `GET /table-schemas`: the tables of every connection, in the shape Workspace's SQL editor
/// completes from (`MonacoEditor`: an object keyed by the name as written in SQL, each entry
/// `{database, schema, tableName, columns: [{name, type}]}`; columns are looked up by the
/// table name the user typed). Each table appears as `name` and as `schema.name`.
///
/// The editor completes three levels (database, then schema, then table); our engines name a
/// table in two (`schema.name`). So the bare entry follows OpenBB's own DuckDB backend
/// (`piiq/openbb-duck`: `database` = `tableName`, `schema` empty, which the editor offers
/// straight after `FROM`), and the qualified one carries the schema in `database` and the
/// table in `schema`, so that after `schema.` the editor offers the table.
///
/// A name in several connections or schemas keeps its first entry: the default connection
/// (the one the pickers start on) first, then the others by name. A connection that cannot be
/// browsed is left out (and logged) rather than failing the whole answer.
pub(super) async fn table_schemas(State(app): State<Arc<App>>) -> Result<Json<Value>> {
    let mut names: Vec<String> = app.state.list_connections()?.into_iter().map(|c| c.name).collect();
    names.sort();
    if let Some(first) = super::spec::default_connection(&app)? {
        names.retain(|n| *n != first);
        names.insert(0, first);
    }
    let mut schemas = Map::new();
    for name in names {
        match browse(&app, &name).await {
            Ok(entries) => {
                for (key, entry) in entries {
                    schemas.entry(key).or_insert(entry);
                }
            }
            Err(e) => tracing::warn!("/table-schemas left out connection {name:?}: {e}"),
        }
    }
    Ok(Json(Value::Object(schemas)))
}

/// `GET /semantic-views`, which Workspace requests next to `/table-schemas`: none here (SQL
/// databases have tables, not semantic views), answered as OpenBB's DuckDB backend does.
pub(super) async fn semantic_views() -> Json<Value> {
    Json(json!({}))
}

async fn browse(app: &Arc<App>, connection: &str) -> Result<Vec<(String, Value)>> {
    let deadline = Instant::now() + BROWSE_TIME;
    let engine = tokio::time::timeout(BROWSE_TIME, connections::engine(app, connection))
        .await
        .map_err(|_| late("connecting"))??
        .engine
        .clone();
    let tables = tokio::time::timeout_at(deadline.into(), engine.tables(None))
        .await
        .map_err(|_| late("listing tables"))??;
    let mut entries = Vec::new();
    for table in tables.iter().take(BROWSE_TABLES) {
        let Ok(columns) =
            tokio::time::timeout_at(deadline.into(), engine.columns(Some(&table.schema), &table.name)).await
        else {
            tracing::warn!("/table-schemas: connection {connection:?} took longer than {BROWSE_TIME:?}");
            break;
        };
        // A table that vanished or cannot be described still completes by name.
        let columns = columns.unwrap_or_default();
        entries.extend(entries_for(connection, table, &columns));
    }
    Ok(entries)
}

fn late(what: &str) -> Error {
    Error::Unavailable { message: format!("{what} took longer than {BROWSE_TIME:?}"), retry_after_secs: 0 }
}

fn entries_for(
    connection: &str,
    table: &TableInfo,
    columns: &[connectors::ColumnInfo],
) -> [(String, Value); 2] {
    let columns: Vec<Value> = columns
        .iter()
        .map(|c| {
            let nullable = if c.nullable { "Y" } else { "N" };
            json!({"name": c.name, "type": c.db_type, "kind": "COLUMN", "null?": nullable})
        })
        .collect();
    let entry = |database: &str, schema: &str| {
        json!({"database": database, "schema": schema, "tableName": table.name, "kind": table.kind,
               "columns": columns, "column_count": columns.len(), "connection": connection})
    };
    [
        (table.name.clone(), entry(&table.name, "")),
        (format!("{}.{}", table.schema, table.name), entry(&table.schema, &table.name)),
    ]
}
