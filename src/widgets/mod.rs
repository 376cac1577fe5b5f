//! Route B: the custom-backend protocol (SPEC §4). `widgets.json` and `apps.json` describe the
//! widgets; the endpoints below serve them from the same core as our API.

mod endpoints;
pub mod spec;

use crate::app::App;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/widgets.json", get(endpoints::widgets_json))
        .route("/apps.json", get(endpoints::apps_json))
        .route("/widgets/connections/options", get(endpoints::connection_options))
        .route("/widgets/connections", get(endpoints::connections_table).post(endpoints::add_connection))
        .route("/widgets/sql/omni", post(endpoints::sql_omni))
        .route("/widgets/sql/query", get(endpoints::sql_query))
        .route("/widgets/schema/tables", get(endpoints::schema_tables))
        .route("/widgets/schema/tables/options", get(endpoints::table_options))
        .route("/widgets/schema/columns", get(endpoints::schema_columns))
        .route("/widgets/table/rows", post(endpoints::table_rows))
        .route("/widgets/log", get(endpoints::query_log))
        .route("/widgets/queries/{id}", get(endpoints::saved_query))
}
