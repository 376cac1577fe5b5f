//! The MCP server (SPEC §5): read-only tools over the same core for AI clients, on the Model
//! Context Protocol's streamable HTTP transport at `/mcp` (mounted by `server::router` inside
//! the Host, Origin and API-key layers) and on stdio (`data-connector mcp`). Built on rmcp, the
//! official Rust SDK.
//!
//! `handler` declares the tools, `tools` runs them (every statement through `execution::run`,
//! forced read-only, logged with the source `mcp`), `saved` turns saved queries into tools,
//! `render` sizes results for a model, `workspace` advertises the server to OpenBB Workspace.

mod handler;
mod render;
mod saved;
mod tools;

pub use handler::DataConnectorMcp;

use crate::app::App;
use crate::error::{Error, Result};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::ServiceExt;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Where the streamable HTTP transport is mounted.
pub const PATH: &str = "/mcp";

/// The fixed tools' names, which Workspace's widgets cite in `mcp_tool`.
pub mod tool_names {
    pub const LIST_CONNECTIONS: &str = "list_connections";
    pub const LIST_TABLES: &str = "list_tables";
    pub const DESCRIBE_TABLE: &str = "describe_table";
    pub const RUN_QUERY: &str = "run_query";
}

/// The tool name of each saved query, in the order given (see `saved::names`).
pub fn saved_query_tool_names(queries: &[crate::state::SavedQuery]) -> Vec<String> {
    saved::names(queries)
}
/// The name Workspace and the docs give this server; widgets' `mcp_tool` refers to it.
pub const SERVER_NAME: &str = "Data Connector";
/// The query log's `source` for everything an MCP client does.
pub const SOURCE: &str = "mcp";
/// Rows a result has unless the call asks for a `limit`.
pub const DEFAULT_ROWS: u64 = 200;
/// The most rows a call may ask for (lower when the server's `--max-rows` is).
pub const MAX_ROWS: u64 = 1000;

/// The streamable HTTP transport, one handler per session. Host and Origin are checked by the
/// server's own layers before a request gets here (rmcp's Host check stays on as a second
/// line on a loopback server); `stop` ends every open session, whose event streams would
/// otherwise hold a graceful shutdown open.
pub fn http_service(
    app: Arc<App>,
    stop: CancellationToken,
) -> StreamableHttpService<DataConnectorMcp, LocalSessionManager> {
    let mut config = StreamableHttpServerConfig::default()
        .with_cancellation_token(stop)
        .with_max_request_body_bytes(app.config.limits.max_body_bytes);
    if !app.config.host.is_loopback() {
        // Bound beyond loopback (with an API key): the Host is whatever name the machine has.
        config = config.disable_allowed_hosts();
    }
    let sessions = Arc::new(LocalSessionManager::default());
    StreamableHttpService::new(move || Ok(DataConnectorMcp::new(app.clone())), sessions, config)
}

/// Serves one client on standard input and output until it closes them. Nothing else may
/// write to stdout: logs go to stderr.
pub async fn serve_stdio(app: Arc<App>) -> Result<()> {
    let running = DataConnectorMcp::new(app)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| Error::Startup(format!("the MCP client did not start a session: {e}")))?;
    running.waiting().await.map_err(|e| Error::Internal(format!("the MCP session failed: {e}")))?;
    Ok(())
}
