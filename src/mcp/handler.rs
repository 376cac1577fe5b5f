//! The MCP handler: the fixed tools (declared with rmcp's macros, their input schemas derived
//! with schemars) and one tool per saved query, listed fresh on every `tools/list`. A session
//! that stays open is told (`notifications/tools/list_changed`) when the saved queries change,
//! whoever changed them: this process, the desktop app or another server on the same data dir.

use super::saved;
use super::tools::{self, DescribeTableArgs, ListTablesArgs, RunQueryArgs};
use crate::app::App;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListToolsResult,
    PaginatedRequestParams, ProtocolVersion, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{tool, tool_router, ErrorData, RoleServer, ServerHandler};
use std::sync::Arc;
use std::time::Duration;

/// How often an open session checks whether the saved queries changed.
const WATCH_INTERVAL: Duration = Duration::from_secs(2);

const INSTRUCTIONS: &str = "Read-only access to the user's own databases (SQLite, MySQL/MariaDB, \
PostgreSQL, Snowflake) through their saved connections. Start with list_connections, then \
list_tables and describe_table to learn a schema, then run_query with one SELECT in the \
connection's SQL dialect. Tools named query_* run the user's saved queries. Nothing here can \
write: statements that would change data are refused. Results are capped (200 rows unless you ask \
for a `limit`), and the answer says when more rows exist; prefer aggregation and WHERE clauses \
over fetching many rows.";

#[derive(Clone)]
pub struct DataConnectorMcp {
    app: Arc<App>,
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl DataConnectorMcp {
    pub fn new(app: Arc<App>) -> Self {
        Self { app, tool_router: Self::tool_router() }
    }

    #[tool(
        description = "List the user's saved database connections: name, kind (sqlite, mysql, \
            postgres, snowflake) and the database each points to. Every other tool takes one of \
            these names as `connection`.",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_connections(&self) -> Result<CallToolResult, ErrorData> {
        Ok(tools::list_connections(&self.app).await)
    }

    #[tool(
        description = "List the tables and views of a connection, optionally of one schema \
            (a database on MySQL/MariaDB; SQLite has only `main`).",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_tables(
        &self,
        Parameters(args): Parameters<ListTablesArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(tools::list_tables(&self.app, args).await)
    }

    #[tool(
        description = "Describe one table or view: its columns with their database types and \
            nullability, and a few sample rows.",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn describe_table(
        &self,
        Parameters(args): Parameters<DescribeTableArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(tools::describe_table(&self.app, args).await)
    }

    #[tool(
        description = "Run one read-only SQL statement on a connection and get its rows as a \
            markdown table (or CSV) plus structured JSON. At most 200 rows unless `limit` asks for \
            more (up to the server's maximum, 1000 by default); the answer says plainly when more \
            rows exist. Writes are refused whatever the connection allows. Values go in `params`, \
            bound to placeholders, never spliced into the SQL.",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn run_query(
        &self,
        Parameters(args): Parameters<RunQueryArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(tools::run_query(&self.app, args).await)
    }

    /// The saved queries as tools, each with its name; an error reading the state database
    /// leaves them out (the fixed tools still work) and is logged.
    fn saved_tools(&self) -> Vec<(Tool, crate::state::SavedQuery)> {
        let queries = match self.app.state.list_queries(None) {
            Ok(queries) => queries,
            Err(e) => {
                tracing::warn!("MCP: cannot list the saved queries: {e}");
                return Vec::new();
            }
        };
        let max_rows = super::MAX_ROWS.min(self.app.config.limits.max_rows);
        saved::names(&queries)
            .into_iter()
            .zip(queries)
            .map(|(name, query)| {
                let tool = Tool::new(
                    name,
                    saved::description(&query),
                    Arc::new(saved::input_schema(&query, max_rows)),
                )
                .with_title(format!("Saved query: {}", query.name))
                .with_annotations(read_only_annotations());
                (tool, query)
            })
            .collect()
    }

    fn all_tools(&self) -> Vec<Tool> {
        let mut tools = self.tool_router.list_all();
        tools.extend(self.saved_tools().into_iter().map(|(tool, _)| tool));
        tools
    }
}

fn read_only_annotations() -> ToolAnnotations {
    ToolAnnotations::new().read_only(true).destructive(false).idempotent(true).open_world(false)
}

impl ServerHandler for DataConnectorMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_tool_list_changed().build())
            .with_server_info(
                Implementation::new("data-connector", env!("CARGO_PKG_VERSION"))
                    .with_title(super::SERVER_NAME),
            )
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let mut result = ListToolsResult::with_all_items(self.all_tools());
        // The list follows the user's saved queries: never cache it, and never share it.
        if context.protocol_version().is_some_and(|v| v >= ProtocolVersion::V_2026_07_28) {
            result.ttl_ms = Some(0);
            result.cache_scope = Some(CacheScope::Private);
        }
        Ok(result)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if self.tool_router.has_route(&request.name) {
            return self.tool_router.call(ToolCallContext::new(self, request, context)).await;
        }
        let name = request.name.to_string();
        let found = self.saved_tools().into_iter().find(|(tool, _)| tool.name == name);
        let result = match found {
            Some((_, query)) => {
                tools::run_saved(&self.app, query, request.arguments.unwrap_or_default()).await
            }
            // A saved query renamed or deleted since the client listed the tools: say so in words
            // the model reads, rather than as a protocol error it may never see.
            None => tools::failed(format!(
                "there is no tool named {name:?}; the saved queries may have changed, so list the tools again"
            )),
        };
        Ok(result.into())
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        match self.tool_router.get(name) {
            Some(tool) => Some(tool.clone()),
            None => self.saved_tools().into_iter().map(|(tool, _)| tool).find(|tool| tool.name == name),
        }
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        let peer = context.peer;
        let this = self.clone();
        tokio::spawn(async move {
            let mut known = this.all_tools();
            let mut tick = tokio::time::interval(WATCH_INTERVAL);
            tick.tick().await;
            loop {
                tick.tick().await;
                if peer.is_transport_closed() {
                    break;
                }
                let now = this.all_tools();
                if now != known {
                    known = now;
                    if peer.notify_tool_list_changed().await.is_err() {
                        break;
                    }
                }
            }
        });
    }
}
