//! Workspace's native Data Connector protocol: the API Workspace's Data Connectors page calls
//! with `Authorization: Bearer <user uuid>` (docs/workspace.md, "The Data Connectors page",
//! states what it must do). Two families share the saved-query routes: `/sql/...` (MySQL,
//! SQLite; PostgreSQL as an extra) and `/snowflake/...`.

mod auth;
mod credentials;
mod saved_queries;
mod snowflake;
mod sql;

use crate::app::App;
use crate::error::Error;
use crate::http::parse_body;
use crate::state::native_queries::NativeQuery;
use auth::User;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::{delete, get, patch, post};
use axum::Router;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Sql,
    Snowflake,
}

impl Family {
    fn as_str(self) -> &'static str {
        match self {
            Self::Sql => "sql",
            Self::Snowflake => "snowflake",
        }
    }

    /// The family is the first path segment, so the shared routes serve both.
    fn of_path(path: &str) -> Self {
        if path.starts_with("/snowflake/") {
            Self::Snowflake
        } else {
            Self::Sql
        }
    }
}

/// Who calls, on which family's routes: what every handler here starts from, so each handler
/// names only what differs (its path id and body). Saved items are scoped by both.
struct Caller {
    user: User,
    family: Family,
    app: Arc<App>,
}

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let user = User::from_request_parts(parts, app).await?;
        Ok(Self { user, family: Family::of_path(parts.uri.path()), app: Arc::clone(app) })
    }
}

impl Caller {
    /// A saved query of this caller in this family; anyone else's id is "not found".
    fn saved(&self, id: i64) -> crate::error::Result<NativeQuery> {
        self.app.state.native_require_query(&self.user.0, self.family.as_str(), id)
    }

    /// The body of a request on saved query `id`, and the query. The body is read first, so a
    /// malformed one answers 422 even for an unknown id.
    fn request<T: DeserializeOwned + Default>(
        &self,
        id: i64,
        bytes: &[u8],
    ) -> crate::error::Result<(T, NativeQuery)> {
        let body = parse_body(bytes)?;
        Ok((body, self.saved(id)?))
    }

    /// Saved query `id` as Workspace reads it, as it now stands in the state DB.
    fn item(&self, id: i64) -> crate::error::Result<Value> {
        Ok(item(&self.saved(id)?))
    }
}

pub fn router() -> Router<Arc<App>> {
    let mut router: Router<Arc<App>> = Router::new()
        .route("/sql/databases", get(saved_queries::list).post(sql::databases))
        .route("/sql/databases/{id}", get(sql::databases_saved))
        .route("/snowflake/databases", get(saved_queries::list).post(snowflake::databases))
        .route("/snowflake/databases/{id}", get(snowflake::databases_saved))
        .route("/snowflake/roles", post(snowflake::roles))
        .route("/snowflake/roles/{id}", post(snowflake::roles_saved))
        .route("/snowflake/warehouses", post(snowflake::warehouses))
        .route("/snowflake/warehouses/{id}", post(snowflake::warehouses_saved))
        .route("/snowflake/database/validate", post(snowflake::validate))
        .route("/snowflake/database/validate/{id}", post(snowflake::validate_saved));
    for base in ["/sql", "/snowflake"] {
        router = router
            .route(&format!("{base}/database"), post(saved_queries::create))
            .route(&format!("{base}/database/{{id}}"), post(saved_queries::add).delete(saved_queries::delete))
            .route(&format!("{base}/database/{{id}}/saveas"), post(saved_queries::save_as))
            .route(&format!("{base}/database/{{id}}/nonsensitive"), patch(saved_queries::update))
            .route(&format!("{base}/database/{{id}}/query"), patch(saved_queries::update_sql))
            .route(&format!("{base}/connection/{{id}}"), delete(saved_queries::delete_connection))
            .route(&format!("{base}/query/{{id}}"), post(saved_queries::run));
    }
    router
}

/// A saved query as the frontend's `Database` / `SnowflakeDatabase` types read it.
fn item(query: &NativeQuery) -> Value {
    let fields = &query.fields;
    let mut item = json!({
        "id": query.id,
        "connection": query.connection,
        "name": fields.name,
        "database": fields.database,
        "database_type": query.database_type,
        "query": fields.query,
        "category": fields.category,
        "subCategory": fields.sub_category,
        "description": fields.description,
    });
    if query.family == Family::Snowflake.as_str() {
        if let Value::Object(map) = &mut item {
            map.insert("role".into(), json!(fields.role.clone().unwrap_or_default()));
            map.insert("warehouse".into(), json!(fields.warehouse.clone().unwrap_or_default()));
            map.insert("database_schema".into(), json!(fields.database_schema.clone().unwrap_or_default()));
        }
    }
    item
}
