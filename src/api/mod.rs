//! Our own HTTP API under `/api/v1`, plus `/` and `/health`, documented as OpenAPI at
//! `/openapi.json` (the routes are listed in README.md, "API"). The desktop window, the CLI and
//! scripts use it; Workspace's two protocols (`native_connector`, `custom_backend`) serve the
//! same core beside it, as docs/architecture.md describes.

mod connections;
pub mod local;
mod log;
mod meta;
mod query;
mod query_cache;
mod saved_queries;
mod schema;

use crate::app::App;
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(info(
    title = "Data Connector",
    description = "Query your own SQLite, MySQL/MariaDB, PostgreSQL and Snowflake databases from \
        OpenBB Workspace. Errors are `{\"detail\": \"...\"}`."
))]
struct ApiDoc;

pub fn router() -> Router<Arc<App>> {
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(meta::about))
        .routes(routes!(meta::health))
        .routes(routes!(connections::list, connections::create))
        .routes(routes!(connections::get, connections::update, connections::delete))
        .routes(routes!(connections::test))
        .routes(routes!(schema::databases))
        .routes(routes!(schema::schemas))
        .routes(routes!(schema::tables))
        .routes(routes!(schema::columns))
        .routes(routes!(query::post, query::get))
        .routes(routes!(saved_queries::list, saved_queries::create))
        .routes(routes!(saved_queries::get, saved_queries::update, saved_queries::delete))
        .routes(routes!(saved_queries::run))
        .routes(routes!(query_cache::get, query_cache::put, query_cache::delete))
        .routes(routes!(log::recent))
        .split_for_parts();
    let openapi = Arc::new(openapi);
    router.route("/openapi.json", get(move || async move { Json(openapi.as_ref().clone()) }))
}
