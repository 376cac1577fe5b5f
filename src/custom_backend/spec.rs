//! `widgets.json` and `apps.json`. Every widget keeps to the Workspace frontend's validation
//! (required `name`/`description`/`endpoint`, known keys and `type`s only, `headerName` on every
//! column): one invalid widget makes Workspace drop the whole backend. Ids are stable so
//! dashboards survive upgrades.

use crate::app::App;
use crate::error::Result;
use crate::rowmodel;
use crate::state::SavedQuery;
use axum::extract::State;
use axum::Json;
use connectors::{Column, ColumnKind, EngineKind};
use serde_json::{json, Map, Value};
use std::sync::Arc;

pub(super) const CATEGORY: &str = "Data Connector";
pub(super) const SQL_EDITOR: &str = "dc_sql_editor";
pub(super) const SQL_QUERY: &str = "dc_sql_query";
pub(super) const SCHEMA_TABLES: &str = "dc_schema_tables";
pub(super) const SCHEMA_COLUMNS: &str = "dc_schema_columns";
pub(super) const TABLE_BROWSER: &str = "dc_table_browser";
pub(super) const CONNECTIONS: &str = "dc_connections";
pub(super) const QUERY_LOG: &str = "dc_query_log";
pub(super) const SQL_WORKBENCH: &str = "dc_sql_workbench";

pub(super) async fn widgets_json(State(app): State<Arc<App>>) -> Result<Json<Value>> {
    let generation = app.state.widgets_generation();
    let mut widgets = widgets(&app).await?;
    app.state.widgets_served(generation);
    super::mcp_links::link_widgets(&app, &mut widgets)?;
    Ok(Json(widgets))
}

/// The MCP server is advertised at the address Workspace used to reach this backend.
pub(super) async fn apps_json(
    State(app): State<Arc<App>>,
    headers: axum::http::HeaderMap,
) -> Result<Json<Value>> {
    let widgets = widgets(&app).await?;
    let mut apps = apps(&widgets, default_connection(&app)?.as_deref());
    super::saved::add_saved_query_apps(&mut apps, &app.state.list_queries(None)?);
    if let Some(host) = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()) {
        super::mcp_links::advertise(&mut apps, host);
    }
    Ok(Json(apps))
}

/// Refresh policy, stated on every widget on purpose: Workspace refetches every 15 minutes and
/// treats data as stale after 5 unless told otherwise, and each refetch of a query widget runs
/// SQL on the user's database.
const NO_AUTO_REFRESH: bool = false;
/// Schema listings change rarely; a manual refresh is always there.
const SCHEMA_STALE_MS: u64 = 5 * 60 * 1000;
/// The query log is worth watching while queries run.
const LOG_REFRESH_MS: u64 = 60 * 1000;

/// The connection the app's pickers start on: `demo` when it exists, else the first by name.
pub(super) fn default_connection(app: &App) -> Result<Option<String>> {
    let names: Vec<String> = app.state.list_connections()?.into_iter().map(|c| c.name).collect();
    Ok(names.iter().find(|n| *n == "demo").or(names.first()).cloned())
}

pub(super) fn saved_query_id(id: i64) -> String {
    format!("dc_saved_query_{id}")
}

/// The connection picker every data widget shares. Workspace links pickers by `groupById`,
/// which is the last path segment of `optionsEndpoint` (`handleEndpointParam`), made
/// `<paramName>-<segment>` when two pickers of one widget end alike
/// (`populateGroupByIdCounts`): so each picker kind ends in its own segment, and resolves to
/// `connection` or `table` in every widget.
pub(super) const CONNECTION_OPTIONS: &str = "widgets/options/connection";
pub(super) const TABLE_OPTIONS: &str = "widgets/options/table";

fn connection_param() -> Value {
    json!({
        "paramName": "connection",
        "label": "Connection",
        "type": "endpoint",
        "optionsEndpoint": CONNECTION_OPTIONS,
        "description": "A saved connection of this Data Connector",
    })
}

/// Inserts the refresh policy into a widget description.
fn refresh(mut widget: Value, interval_ms: Option<u64>, stale_ms: Option<u64>) -> Value {
    if let Value::Object(map) = &mut widget {
        map.insert("refetchInterval".into(), interval_ms.map_or(json!(NO_AUTO_REFRESH), |ms| json!(ms)));
        map.insert("staleTime".into(), stale_ms.map_or(json!(false), |ms| json!(ms)));
    }
    widget
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
    widgets.insert(SQL_WORKBENCH.into(), super::workbench::widget(connection_param(), CATEGORY));
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
            // Clicking a table sets it in Columns and Table Browser (the "table" group): the
            // cell's value is the picker's value (`schema.name`).
            "data": table_data(vec![
                json!({"field": "table", "headerName": "Table", "cellDataType": "text", "renderFn": "cellOnClick",
                       "renderFnParams": {"actionType": "groupBy", "groupBy": {"paramName": "table"}},
                       "headerTooltip": "Click a table to show it in Columns and Table Browser"}),
                column("schema", "Schema", "text"),
                column("name", "Name", "text"),
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
            // Connection details are not data to reason over; keep them out of Copilot's context.
            "disableRetrievalForCopilot": true,
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
            // The log holds other queries' SQL and errors: not for Copilot's context.
            "disableRetrievalForCopilot": true,
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
    // Stated refresh policies: nothing that runs SQL refreshes on its own.
    let policies: [(&str, Option<u64>, Option<u64>); 7] = [
        (SQL_EDITOR, None, None),
        (SQL_QUERY, None, None),
        (SCHEMA_TABLES, None, Some(SCHEMA_STALE_MS)),
        (SCHEMA_COLUMNS, None, Some(SCHEMA_STALE_MS)),
        (TABLE_BROWSER, None, None),
        (CONNECTIONS, None, Some(SCHEMA_STALE_MS)),
        (QUERY_LOG, Some(LOG_REFRESH_MS), Some(LOG_REFRESH_MS / 2)),
    ];
    for (id, interval, stale) in policies {
        if let Some(widget) = widgets.get_mut(id) {
            *widget = refresh(widget.take(), interval, stale);
        }
    }
    // Saved queries are described from the column lists stored when they were saved or first
    // ran: this file runs no SQL, however many queries there are.
    let saved = app.state.list_queries(None)?;
    let stored = app.state.stored_query_columns()?;
    for query in &saved {
        let columns = stored.get(&query.id).and_then(|text| rowmodel::decode_columns(text));
        widgets
            .insert(saved_query_id(query.id), super::saved::widget(query, columns.as_deref(), paged(query)));
    }
    Ok(Value::Object(widgets))
}

/// Whether a saved query is served to the grid page by page (`ssrm_table`, sorted and filtered
/// in the database): any query the row model can wrap and that binds no parameters. Others are
/// a `table` of at most `SAVED_TABLE_ROWS` rows.
pub(super) fn paged(query: &SavedQuery) -> bool {
    query.params.is_empty()
        && query.widget.parameters.is_empty()
        && query.widget.display == crate::state::Display::Table
        && rowmodel::check_wrappable(&query.sql).is_ok()
}

/// Rows a saved query that cannot be paged sends to the browser.
pub(super) const SAVED_TABLE_ROWS: u64 = 1000;

fn table_param() -> Value {
    json!({
        "paramName": "table",
        "label": "Table",
        "type": "endpoint",
        "optionsEndpoint": TABLE_OPTIONS,
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
        "description": "Save a new connection; it is tested before it is saved and is read-only unless you turn on \"Allow writes\". Passwords typed here show in clear text: for connections with secrets, the desktop app is safer.",
        "inputParams": [
            text("name", "Name", "Letters, digits, spaces, '_', '-' or '.'"),
            {"paramName": "kind", "label": "Database", "type": "text", "value": EngineKind::Sqlite.name(),
             "description": "The kind of database",
             "options": EngineKind::ALL.map(|k| json!({"label": k.label(), "value": k.name()}))},
            text("path", "File or folder", "SQLite: absolute path of the database file; DuckDB: a .duckdb file or a folder of data files (empty: in memory)"),
            text("url", "URL", "MySQL/PostgreSQL: mysql://user@host:3306/db or postgres://..."),
            text("host", "Host", "MySQL/PostgreSQL host"),
            {"paramName": "port", "label": "Port", "type": "number", "description": "MySQL/PostgreSQL port"},
            text("user", "User", "User name"),
            text("password", "Password", "Workspace shows what you type here in clear text (its form has no password field). It is kept in the OS keyring and never shown again; to keep it off screen, add the connection in the Data Connector desktop app instead."),
            text("database", "Database", "Default database"),
            text("account", "Snowflake account", "Snowflake account identifier or URL. Snowflake no longer signs in with a password alone: use a programmatic access token (below, or in Password), an OAuth token, or a key pair (add key-pair connections in the Data Connector desktop app: a private key does not fit this form)."),
            text("pat", "Snowflake access token", "Snowflake programmatic access token (PAT) for User. Shown in clear text while you type, like Password; kept in the OS keyring and never shown again."),
            text("oauth_token", "Snowflake OAuth token", "Snowflake OAuth access token for User. Shown in clear text while you type, like Password; kept in the OS keyring and never shown again."),
            text("warehouse", "Warehouse", "Snowflake warehouse"),
            text("role", "Role", "Snowflake role"),
            text("schema", "Schema", "Snowflake schema"),
            // Workspace starts every boolean at false and shows an On/Off toggle only for exactly
            // two options (`FormParamElement`): so the safe choice is the untouched one.
            {"paramName": "allow_writes", "label": "Allow writes", "type": "boolean", "value": false,
             "options": [{"label": "Off", "value": false}, {"label": "On", "value": true}],
             "description": "Off (the default): the connection is read-only and refuses INSERT, UPDATE, DELETE and DDL. On: statements may change the database."},
            {"paramName": "submit", "label": "Add connection", "type": "button", "value": true,
             "description": "Test and save the connection"},
        ],
    })
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

/// One app that lays out the widgets on three tabs. Two groups link the pickers: the
/// connection (every widget with one) and the table (Tables, whose table cells set it by click,
/// Columns and Table Browser). The connection group starts on `default_connection`.
pub(super) fn apps(widgets: &Value, default_connection: Option<&str>) -> Value {
    let present = |ids: &[&'static str]| -> Vec<&'static str> {
        ids.iter().copied().filter(|id| widgets.get(*id).is_some()).collect()
    };
    let connection_widgets =
        present(&[SQL_EDITOR, SQL_QUERY, SQL_WORKBENCH, SCHEMA_TABLES, SCHEMA_COLUMNS, TABLE_BROWSER]);
    let table_widgets = present(&[SCHEMA_TABLES, SCHEMA_COLUMNS, TABLE_BROWSER]);
    let item = |id: &str, x: u32, y: u32, w: u32, h: u32| {
        let mut groups = Vec::new();
        if connection_widgets.contains(&id) {
            groups.push(CONNECTION_GROUP);
        }
        if table_widgets.contains(&id) {
            groups.push(TABLE_GROUP);
        }
        let mut item = json!({"i": id, "x": x, "y": y, "w": w, "h": h});
        if !groups.is_empty() {
            item["groups"] = json!(groups);
        }
        item
    };
    let mut connection_group = json!({"name": CONNECTION_GROUP, "type": "endpointParam",
        "paramName": "connection", "widgetIds": connection_widgets});
    if let Some(name) = default_connection {
        connection_group["defaultValue"] = json!(name);
    }
    let table_group = json!({"name": TABLE_GROUP, "type": "endpointParam", "paramName": "table",
        "widgetIds": table_widgets});
    json!([{
        "name": "Data Connector",
        "description": "Query your own SQLite, MySQL/MariaDB, PostgreSQL and Snowflake databases.",
        "allowCustomization": true,
        "tabs": {
            "sql": {"id": "sql", "name": "SQL", "layout": [
                item(SQL_EDITOR, 0, 0, 40, 18),
                item(SQL_QUERY, 0, 18, 40, 15),
                item(SQL_WORKBENCH, 0, 33, 40, 20),
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
        "groups": [connection_group, table_group],
    }])
}

/// Group names as OpenBB's own apps spell them.
const CONNECTION_GROUP: &str = "Group 1";
const TABLE_GROUP: &str = "Group 2";
