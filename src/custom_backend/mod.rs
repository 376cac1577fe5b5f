//! Workspace's custom-backend protocol: `widgets.json` and `apps.json` describe the widgets
//! (`spec`), and the endpoints behind them serve them from the same core as our API.
//! docs/workspace.md, "A custom backend", states what Workspace requires of them.

mod manage;
mod mcp_links;
mod params;
mod saved;
mod schema;
mod spec;
mod sql;

use crate::app::App;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/widgets.json", get(spec::widgets_json))
        .route("/apps.json", get(spec::apps_json))
        .route(&format!("/{}", spec::CONNECTION_OPTIONS), get(manage::connection_options))
        .route(&format!("/{}", spec::TABLE_OPTIONS), get(schema::table_options))
        // The pickers' first addresses, which dashboards saved before may still hold.
        .route("/widgets/connections/options", get(manage::connection_options))
        .route("/widgets/connections", get(manage::connections_table).post(manage::add_connection))
        .route("/widgets/sql/omni", post(sql::omni))
        .route("/widgets/sql/query", get(sql::query))
        .route("/widgets/schema/tables", get(schema::tables))
        .route("/widgets/schema/tables/options", get(schema::table_options))
        .route("/widgets/schema/columns", get(schema::columns))
        .route("/widgets/table/rows", post(schema::table_rows))
        .route("/widgets/log", get(manage::query_log))
        .route("/widgets/queries/{id}", get(saved::rows).post(sql::saved_query_rows))
        .route("/widgets/queries/{id}/options/{param}", get(saved::options))
}
