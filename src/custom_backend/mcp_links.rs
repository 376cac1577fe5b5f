//! What OpenBB Workspace learns about the MCP server from the custom backend's files: apps.json
//! lists it in `mcp_servers` (Workspace registers it for the Copilot on the backend's first
//! connect, copying the backend's header credentials such as `X-API-KEY` onto it), and each
//! widget showing what a tool returns carries `mcp_tool`, so a Copilot answer from that tool
//! cites the widget.

//!
//! The MCP server's public names (path, server name, tool ids) are the only thing this door
//! takes from `mcp`.

use super::spec;
use crate::app::App;
use crate::error::Result;
use crate::mcp::tool_names::{DESCRIBE_TABLE, LIST_CONNECTIONS, LIST_TABLES, RUN_QUERY};
use crate::mcp::{saved_query_tool_names, PATH, SERVER_NAME};
use serde_json::{json, Value};

/// Adds `mcp_tool` to the widgets whose data a tool returns with the same parameters.
pub(super) fn link_widgets(app: &App, widgets: &mut Value) -> Result<()> {
    let Value::Object(widgets) = widgets else { return Ok(()) };
    let mut link = |widget: &str, tool: &str| {
        if let Some(Value::Object(widget)) = widgets.get_mut(widget) {
            widget.insert("mcp_tool".into(), json!({"mcp_server": SERVER_NAME, "tool_id": tool}));
        }
    };
    link(spec::CONNECTIONS, LIST_CONNECTIONS);
    link(spec::SCHEMA_TABLES, LIST_TABLES);
    link(spec::SCHEMA_COLUMNS, DESCRIBE_TABLE);
    link(spec::SQL_QUERY, RUN_QUERY);
    let queries = app.state.list_queries(None)?;
    for (query, tool) in queries.iter().zip(saved_query_tool_names(&queries)) {
        link(&spec::saved_query_id(query.id), &tool);
    }
    Ok(())
}

/// Adds this server to every app's `mcp_servers`, at the address Workspace reached the backend
/// by (`host`, the request's `Host`, which the server's guard has already checked).
pub(super) fn advertise(apps: &mut Value, host: &str) {
    let server = json!({
        "name": SERVER_NAME,
        "description": "Read-only SQL over your own databases: list connections, tables and columns, \
            run queries and saved queries.",
        "url": format!("http://{host}{PATH}"),
    });
    let Value::Array(apps) = apps else { return };
    for app in apps {
        if let Value::Object(app) = app {
            app.insert("mcp_servers".into(), json!([server.clone()]));
        }
    }
}
