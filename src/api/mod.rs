//! Our own HTTP API (SPEC §5), documented as OpenAPI at `/openapi.json`. Routes A and B
//! (Workspace's protocols) are adapters over the same services.

mod connections;
pub mod extract;
mod log;
mod meta;
pub mod query;
mod saved_queries;
mod schema;

use crate::app::App;
use crate::error::detail_response;
use axum::http::StatusCode;
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
        .routes(routes!(log::recent))
        .split_for_parts();
    let openapi = Arc::new(openapi);
    router
        .merge(crate::workspace::router())
        .merge(crate::widgets::router())
        .route("/openapi.json", get(move || async move { Json(openapi.as_ref().clone()) }))
        .fallback(|| async {
            detail_response(StatusCode::NOT_FOUND, "there is no such route; see /openapi.json")
        })
        .method_not_allowed_fallback(|| async {
            detail_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "this route does not accept that method; see /openapi.json",
            )
        })
}
