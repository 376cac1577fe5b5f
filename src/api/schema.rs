//! `/api/v1/connections/{name}/...`: databases, schemas, tables and columns.

use crate::app::App;
use crate::connections;
use crate::error::Result;
use crate::http::{ApiPath, ApiQuery};
use axum::extract::State;
use axum::Json;
use connectors::{ColumnInfo, Listing, TableInfo};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize, utoipa::IntoParams)]
pub(super) struct SchemaFilter {
    /// Only this schema; every schema the connection can see when left out.
    pub schema: Option<String>,
}

#[derive(utoipa::ToSchema)]
#[schema(as = TableInfo)]
#[allow(dead_code)]
pub(super) struct TableDoc {
    schema: String,
    name: String,
    /// `table` or `view`
    kind: String,
}

#[derive(utoipa::ToSchema)]
#[schema(as = ColumnInfo)]
#[allow(dead_code)]
pub(super) struct ColumnDoc {
    name: String,
    #[schema(rename = "type")]
    r#type: String,
    nullable: bool,
}

#[utoipa::path(get, path = "/api/v1/connections/{name}/databases", tag = "schema",
    params(("name" = String, Path)), responses((status = 200, body = Vec<String>)))]
pub(super) async fn databases(
    State(app): State<Arc<App>>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Vec<String>>> {
    let connected = connections::engine(&app, &name).await?;
    Ok(Json(connected.engine.list(Listing::Databases).await?))
}

#[utoipa::path(get, path = "/api/v1/connections/{name}/schemas", tag = "schema",
    params(("name" = String, Path)), responses((status = 200, body = Vec<String>)))]
pub(super) async fn schemas(
    State(app): State<Arc<App>>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Vec<String>>> {
    let connected = connections::engine(&app, &name).await?;
    Ok(Json(connected.engine.list(Listing::Schemas).await?))
}

#[utoipa::path(get, path = "/api/v1/connections/{name}/tables", tag = "schema",
    params(("name" = String, Path), SchemaFilter), responses((status = 200, body = Vec<TableDoc>)))]
pub(super) async fn tables(
    State(app): State<Arc<App>>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(filter): ApiQuery<SchemaFilter>,
) -> Result<Json<Vec<TableInfo>>> {
    let connected = connections::engine(&app, &name).await?;
    Ok(Json(connected.engine.tables(filter.schema.as_deref()).await?))
}

#[utoipa::path(get, path = "/api/v1/connections/{name}/tables/{table}/columns", tag = "schema",
    params(("name" = String, Path), ("table" = String, Path), SchemaFilter),
    responses((status = 200, body = Vec<ColumnDoc>), (status = 404, description = "no such table")))]
pub(super) async fn columns(
    State(app): State<Arc<App>>,
    ApiPath((name, table)): ApiPath<(String, String)>,
    ApiQuery(filter): ApiQuery<SchemaFilter>,
) -> Result<Json<Vec<ColumnInfo>>> {
    let connected = connections::engine(&app, &name).await?;
    Ok(Json(connected.engine.columns(filter.schema.as_deref(), &table).await?))
}
