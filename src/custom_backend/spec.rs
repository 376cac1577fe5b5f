//! `widgets.json` and `apps.json`. Every widget keeps to the Workspace frontend's validation
//! (required `name`/`description`/`endpoint`, known keys and `type`s only, `headerName` on every
//! column): one invalid widget makes Workspace drop the whole backend. Ids are stable so
//! dashboards survive upgrades.

use crate::app::App;
use crate::connections;
use crate::error::Result;
use crate::state::SavedQuery;
use axum::extract::State;
use axum::Json;
use connectors::{
    statement, Column, ColumnKind, EngineKind, Format, Query, ResultSink, SinkOptions, StreamEvent,
};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;

pub(super) const CATEGORY: &str = "Data Connector";
pub(super) const SQL_EDITOR: &str = "dc_sql_editor";
pub(super) const SQL_QUERY: &str = "dc_sql_query";
pub(super) const SCHEMA_TABLES: &str = "dc_schema_tables";
pub(super) const SCHEMA_COLUMNS: &str = "dc_schema_columns";
pub(super) const TABLE_BROWSER: &str = "dc_table_browser";
pub(super) const CONNECTIONS: &str = "dc_connections";
pub(super) const QUERY_LOG: &str = "dc_query_log";

pub(super) async fn widgets_json(State(app): State<Arc<App>>) -> Result<Json<Value>> {
    let mut widgets = widgets(&app).await?;
    super::mcp_links::link_widgets(&app, &mut widgets)?;
    Ok(Json(widgets))
}

/// The MCP server is advertised at the address Workspace used to reach this backend.
pub(super) async fn apps_json(
    State(app): State<Arc<App>>,
    headers: axum::http::HeaderMap,
) -> Result<Json<Value>> {
    let mut apps = apps(&widgets(&app).await?);
    if let Some(host) = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()) {
        super::mcp_links::advertise(&mut apps, host);
    }
    Ok(Json(apps))
}

/// How long widgets.json waits to learn one saved query's columns; Workspace gives the whole
/// file 60 s.
const COLUMN_PROBE: Duration = Duration::from_secs(3);

pub(super) fn saved_query_id(id: i64) -> String {
    format!("dc_saved_query_{id}")
}

/// The connection picker every data widget shares (linked by `paramName` across widgets).
fn connection_param() -> Value {
    json!({
        "paramName": "connection",
        "label": "Connection",
        "type": "endpoint",
        "optionsEndpoint": "widgets/connections/options",
        "description": "A saved connection of this Data Connector",
    })
}

fn column(field: &str, header: &str, data_type: &str) -> Value {
    json!({"field": field, "headerName": header, "cellDataType": data_type})
}

fn table_data(columns: Vec<Value>) -> Value {
    json!({"table": {"showAll": true, "enableAdvanced": true, "columnsDefs": columns}})
}

pub(super) async fn widgets(app: &Arc<App>) -> Result<Value> {
    let mut widgets = Map::new();
    widgets.insert(
        SQL_EDITOR.into(),
        json!({
            "name": "SQL Editor",
            "description": "Write a read-only SQL statement for a saved connection and run it; rows come back as a table.",
            "category": CATEGORY,
            "subCategory": "SQL",
            "type": "omni",
            "endpoint": "widgets/sql/omni",
            "gridData": {"w": 40, "h": 18},
            "source": [CATEGORY],
            "params": [
                {"paramName": "prompt", "label": "SQL", "type": "text", "language": "sql", "show": false,
                 "value": "SELECT 1 AS one", "description": "Read-only SQL statement"},
                connection_param(),
                {"paramName": "limit", "label": "Row limit", "type": "number", "value": 1000,
                 "description": "At most this many rows are shown"},
            ],
        }),
    );
    widgets.insert(
        SQL_QUERY.into(),
        json!({
            "name": "SQL Query",
            "description": "Runs a read-only SQL statement on a saved connection and shows the rows as a table.",
            "category": CATEGORY,
            "subCategory": "SQL",
            "type": "table",
            "endpoint": "widgets/sql/query",
            "runButton": true,
            "gridData": {"w": 40, "h": 15},
            "source": [CATEGORY],
            "params": [
                connection_param(),
                {"paramName": "sql", "label": "SQL", "type": "text", "value": "SELECT 1 AS one",
                 "description": "Read-only SQL statement"},
                {"paramName": "limit", "label": "Row limit", "type": "number", "value": 1000,
                 "description": "At most this many rows are returned"},
            ],
            "data": {"table": {"showAll": true, "enableAdvanced": true}},
        }),
    );
    widgets.insert(
        SCHEMA_TABLES.into(),
        json!({
            "name": "Tables",
            "description": "The tables and views of a saved connection.",
            "category": CATEGORY,
            "subCategory": "Schema",
            "type": "table",
            "endpoint": "widgets/schema/tables",
            "gridData": {"w": 16, "h": 15},
            "source": [CATEGORY],
            "params": [connection_param()],
            "data": table_data(vec![
                column("schema", "Schema", "text"),
                column("name", "Table", "text"),
                column("kind", "Kind", "text"),
            ]),
        }),
    );
    widgets.insert(
        SCHEMA_COLUMNS.into(),
        json!({
            "name": "Columns",
            "description": "The columns of one table of a saved connection, with their types.",
            "category": CATEGORY,
            "subCategory": "Schema",
            "type": "table",
            "endpoint": "widgets/schema/columns",
            "gridData": {"w": 24, "h": 15},
            "source": [CATEGORY],
            "params": [connection_param(), table_param()],
            "data": table_data(vec![
                column("name", "Column", "text"),
                column("type", "Type", "text"),
                column("nullable", "Nullable", "boolean"),
            ]),
        }),
    );
    widgets.insert(
        TABLE_BROWSER.into(),
        json!({
            "name": "Table Browser",
            "description": "Browses a large table page by page; sorting and filtering run in the database.",
            "category": CATEGORY,
            "subCategory": "Schema",
            "type": "ssrm_table",
            "endpoint": "widgets/table/rows",
            "gridData": {"w": 40, "h": 20},
            "source": [CATEGORY],
            "params": [connection_param(), table_param()],
            "data": {"table": {"showAll": false, "enableAdvanced": true}},
        }),
    );
    widgets.insert(
        CONNECTIONS.into(),
        json!({
            "name": "Connections",
            "description": "The saved connections of this Data Connector; add one with the form (secrets go to the OS keyring).",
            "category": CATEGORY,
            "subCategory": "Manage",
            "type": "table",
            "endpoint": "widgets/connections",
            "gridData": {"w": 20, "h": 12},
            "source": [CATEGORY],
            "params": [connection_form()],
            "data": table_data(vec![
                column("name", "Name", "text"),
                column("kind", "Kind", "text"),
                column("target", "Database", "text"),
                column("read_only", "Read-only", "boolean"),
            ]),
        }),
    );
    widgets.insert(
        QUERY_LOG.into(),
        json!({
            "name": "Query Log",
            "description": "The most recent queries this Data Connector ran, newest first.",
            "category": CATEGORY,
            "subCategory": "Manage",
            "type": "table",
            "endpoint": "widgets/log",
            "gridData": {"w": 20, "h": 12},
            "source": [CATEGORY],
            "params": [{"paramName": "limit", "label": "Entries", "type": "number", "value": 100,
                        "description": "How many entries to show"}],
            "data": table_data(vec![
                column("at", "Time", "text"),
                column("source", "Source", "text"),
                column("connection", "Connection", "text"),
                column("sql", "SQL", "text"),
                json!({"field": "rows", "headerName": "Rows", "cellDataType": "number", "formatterFn": "int"}),
                json!({"field": "duration_ms", "headerName": "ms", "cellDataType": "number"}),
                column("outcome", "Outcome", "text"),
                column("error", "Error", "text"),
            ]),
        }),
    );
    let saved = app.state.list_queries(None)?;
    let probes = saved.iter().map(|query| probe_columns(app, query));
    let learned = futures::future::join_all(probes).await;
    for (query, columns) in saved.iter().zip(learned) {
        widgets.insert(saved_query_id(query.id), saved_query_widget(query, columns.as_deref()));
    }
    Ok(Value::Object(widgets))
}

fn table_param() -> Value {
    json!({
        "paramName": "table",
        "label": "Table",
        "type": "endpoint",
        "optionsEndpoint": "widgets/schema/tables/options",
        "optionsParams": {"connection": "$connection"},
        "description": "A table or view of the connection",
    })
}

fn connection_form() -> Value {
    let text = |name: &str, label: &str, description: &str| json!({"paramName": name, "label": label, "type": "text", "value": "", "description": description});
    json!({
        "paramName": "add_connection",
        "label": "Add connection",
        "type": "form",
        "endpoint": "widgets/connections",
        "description": "Save a new connection; it is tested before it is saved",
        "inputParams": [
            text("name", "Name", "Letters, digits, spaces, '_', '-' or '.'"),
            {"paramName": "kind", "label": "Database", "type": "text", "value": EngineKind::Sqlite.name(),
             "description": "The kind of database",
             "options": EngineKind::ALL.map(|k| json!({"label": k.label(), "value": k.name()}))},
            text("path", "SQLite file", "SQLite: absolute path of the database file"),
            text("url", "URL", "MySQL/PostgreSQL: mysql://user@host:3306/db or postgres://..."),
            text("host", "Host", "MySQL/PostgreSQL host"),
            {"paramName": "port", "label": "Port", "type": "number", "description": "MySQL/PostgreSQL port"},
            text("user", "User", "User name"),
            text("password", "Password", "Kept in the OS keyring, never shown again"),
            text("database", "Database", "Default database"),
            text("account", "Snowflake account", "Snowflake account identifier or URL"),
            text("warehouse", "Warehouse", "Snowflake warehouse"),
            text("role", "Role", "Snowflake role"),
            text("schema", "Schema", "Snowflake schema"),
            {"paramName": "read_only", "label": "Read-only", "type": "boolean", "value": true,
             "description": "Refuse statements that write"},
            {"paramName": "submit", "label": "Add connection", "type": "button", "value": true,
             "description": "Test and save the connection"},
        ],
    })
}

fn saved_query_widget(query: &SavedQuery, columns: Option<&[Column]>) -> Value {
    let description = if query.description.trim().is_empty() {
        format!("Saved query on {}: {}", query.connection, query.sql)
    } else {
        query.description.clone()
    };
    let mut widget = json!({
        "name": query.name,
        "description": description,
        "category": CATEGORY,
        "subCategory": "Saved queries",
        "type": "table",
        "endpoint": format!("widgets/queries/{}", query.id),
        "gridData": {"w": 40, "h": 15},
        "source": [CATEGORY],
    });
    let data = match columns {
        Some(columns) => table_data(columns.iter().map(column_def).collect()),
        None => json!({"table": {"showAll": true, "enableAdvanced": true}}),
    };
    if let Value::Object(map) = &mut widget {
        map.insert("data".into(), data);
    }
    widget
}

/// A column definition for a result column, typed from the engine's column kind.
pub(super) fn column_def(column: &Column) -> Value {
    let mut def = json!({"field": column.name, "headerName": column.name});
    let (data_type, formatter) = match column.kind {
        ColumnKind::Integer => ("number", Some("int")),
        ColumnKind::Float | ColumnKind::Decimal => ("number", None),
        ColumnKind::Boolean => ("boolean", None),
        ColumnKind::Date => ("dateString", None),
        ColumnKind::DateTime => ("date", None),
        ColumnKind::Text | ColumnKind::Time | ColumnKind::Binary | ColumnKind::Json | ColumnKind::Other => {
            ("text", None)
        }
    };
    if let Value::Object(map) = &mut def {
        map.insert("cellDataType".into(), data_type.into());
        if let Some(formatter) = formatter {
            map.insert("formatterFn".into(), formatter.into());
        }
    }
    def
}

/// The columns a saved query returns, from a zero-row run straight on the engine: metadata for
/// widgets.json, so it takes no query slot and leaves no query-log entry. `None` when it cannot
/// tell in time (Workspace then infers columns from the rows).
async fn probe_columns(app: &Arc<App>, query: &SavedQuery) -> Option<Vec<Column>> {
    let checked = statement::check(&query.sql, true).ok()?;
    let connected = connections::engine(app, &query.connection).await.ok()?;
    let probe = Query {
        sql: format!("SELECT * FROM {} LIMIT 0", checked.as_subquery("dc_q")),
        params: query.params.clone(),
        timeout: COLUMN_PROBE,
        force_read_only: true,
    };
    let (sink, mut rx) = ResultSink::new(SinkOptions::new(Format::Json, 1));
    tokio::time::timeout(COLUMN_PROBE, connected.engine.query(probe, sink)).await.ok()?.ok()?;
    match rx.recv().await {
        Some(StreamEvent::Complete { columns, .. }) => Some(columns.to_vec()),
        _ => None,
    }
}

/// One app that lays out the widgets on three tabs, with the connection pickers linked.
pub(super) fn apps(widgets: &Value) -> Value {
    let item = |id: &str, x: u32, y: u32, w: u32, h: u32| json!({"i": id, "x": x, "y": y, "w": w, "h": h});
    let linked: Vec<&str> = [SQL_EDITOR, SQL_QUERY, SCHEMA_TABLES, SCHEMA_COLUMNS, TABLE_BROWSER]
        .into_iter()
        .filter(|id| widgets.get(*id).is_some())
        .collect();
    json!([{
        "name": "Data Connector",
        "description": "Query your own SQLite, MySQL/MariaDB, PostgreSQL and Snowflake databases.",
        "allowCustomization": true,
        "tabs": {
            "sql": {"id": "sql", "name": "SQL", "layout": [
                item(SQL_EDITOR, 0, 0, 40, 18),
                item(SQL_QUERY, 0, 18, 40, 15),
            ]},
            "browse": {"id": "browse", "name": "Browse", "layout": [
                item(SCHEMA_TABLES, 0, 0, 16, 15),
                item(SCHEMA_COLUMNS, 16, 0, 24, 15),
                item(TABLE_BROWSER, 0, 15, 40, 20),
            ]},
            "manage": {"id": "manage", "name": "Manage", "layout": [
                item(CONNECTIONS, 0, 0, 20, 12),
                item(QUERY_LOG, 20, 0, 20, 12),
            ]},
        },
        "groups": [{"name": "Group 1", "type": "endpointParam", "paramName": "connection", "widgetIds": linked}],
    }])
}
