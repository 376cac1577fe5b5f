//! Route A: Workspace's native Data Connector protocol (SPEC §3), the API its Data Connectors
//! page calls with `Authorization: Bearer <user uuid>`. Two families share the saved-query
//! routes: `/sql/...` (MySQL, SQLite; PostgreSQL as an extra) and `/snowflake/...`.

pub mod auth;
pub mod credentials;
mod query;
mod snowflake;
mod sql;

use crate::app::App;
use crate::state::workspace::WsQuery;
use axum::routing::{delete, get, patch, post};
use axum::Router;
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Sql,
    Snowflake,
}

/// The family is the first path segment; the shared routes take it from there.
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Family {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(if parts.uri.path().starts_with("/snowflake/") { Self::Snowflake } else { Self::Sql })
    }
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sql => "sql",
            Self::Snowflake => "snowflake",
        }
    }
}

pub fn router() -> Router<Arc<App>> {
    let mut router: Router<Arc<App>> = Router::new()
        .route("/sql/databases", get(query::list_sql).post(sql::databases))
        .route("/sql/databases/{id}", get(sql::databases_saved))
        .route("/snowflake/databases", get(query::list_snowflake).post(snowflake::databases))
        .route("/snowflake/databases/{id}", get(snowflake::databases_saved))
        .route("/snowflake/roles", post(snowflake::roles))
        .route("/snowflake/roles/{id}", post(snowflake::roles_saved))
        .route("/snowflake/warehouses", post(snowflake::warehouses))
        .route("/snowflake/warehouses/{id}", post(snowflake::warehouses_saved))
        .route("/snowflake/database/validate", post(snowflake::validate))
        .route("/snowflake/database/validate/{id}", post(snowflake::validate_saved));
    for base in ["/sql", "/snowflake"] {
        router = router
            .route(&format!("{base}/database"), post(query::create))
            .route(&format!("{base}/database/{{id}}"), post(query::add).delete(query::delete))
            .route(&format!("{base}/database/{{id}}/saveas"), post(query::save_as))
            .route(&format!("{base}/database/{{id}}/nonsensitive"), patch(query::update))
            .route(&format!("{base}/database/{{id}}/query"), patch(query::update_sql))
            .route(&format!("{base}/connection/{{id}}"), delete(query::delete_connection))
            .route(&format!("{base}/query/{{id}}"), post(query::run));
    }
    router
}

/// A saved query as the frontend's `Database` / `SnowflakeDatabase` types read it.
pub fn item(query: &WsQuery) -> Value {
    let mut item = json!({
        "id": query.id,
        "connection": query.connection,
        "name": query.name,
        "database": query.database,
        "database_type": query.database_type,
        "query": query.query,
        "category": query.category,
        "subCategory": query.sub_category,
        "description": query.description,
    });
    if query.family == Family::Snowflake.as_str() {
        if let Value::Object(map) = &mut item {
            map.insert("role".into(), json!(query.role.clone().unwrap_or_default()));
            map.insert("warehouse".into(), json!(query.warehouse.clone().unwrap_or_default()));
            map.insert("database_schema".into(), json!(query.database_schema.clone().unwrap_or_default()));
        }
    }
    item
}

/// A JSON object one of whose members is a streamed array: `prefix`, the array, `suffix`. Rows
/// go out as the database sends them, never collected.
pub fn json_object_stream(
    prefix: String,
    body: crate::execution::BodyStream,
    suffix: String,
) -> axum::response::Response {
    use axum::body::{Body, Bytes};
    use axum::http::{header, HeaderValue};
    use futures::StreamExt;
    let head = futures::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(prefix)) });
    let tail = futures::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(suffix)) });
    let mut response = axum::response::Response::new(Body::from_stream(head.chain(body).chain(tail)));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
