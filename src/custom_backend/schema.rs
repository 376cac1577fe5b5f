//! The schema widgets: tables, columns, the table pickers' options, and the large-table browser
//! (`ssrm_table`). A table a widget names is looked up among the tables the connection lists
//! before any SQL is built from it.

use super::params::required;
use crate::app::App;
use crate::connections;
use crate::error::{Error, Result};
use crate::http::{json_object_stream, parse_body, ApiQuery};
use crate::rowmodel::{self, RowRequest};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::Json;
use connectors::TableInfo;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
pub(super) struct ConnectionParam {
    connection: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct TableParams {
    connection: Option<String>,
    table: Option<String>,
}

/// The Tables widget: each row also carries `table`, the table pickers' value for it, which a
/// click on the cell sets in the linked widgets.
pub(super) async fn tables(
    State(app): State<Arc<App>>,
    ApiQuery(params): ApiQuery<ConnectionParam>,
) -> Result<Json<Vec<Value>>> {
    let connection = required(&params.connection, "connection")?;
    let tables = connections::engine(&app, connection).await?.engine.tables(None).await?;
    Ok(Json(
        tables
            .iter()
            .map(|t| json!({"table": label(t), "schema": t.schema, "name": t.name, "kind": t.kind}))
            .collect(),
    ))
}

/// `optionsEndpoint` of the table pickers; Workspace passes the chosen connection along.
pub(super) async fn table_options(
    State(app): State<Arc<App>>,
    ApiQuery(params): ApiQuery<ConnectionParam>,
) -> Result<Json<Vec<Value>>> {
    let Some(connection) = params.connection.as_deref().filter(|c| !c.trim().is_empty()) else {
        return Ok(Json(Vec::new()));
    };
    let tables = connections::engine(&app, connection).await?.engine.tables(None).await?;
    Ok(Json(
        tables
            .iter()
            .map(|t| json!({"label": label(t), "value": label(t), "extraInfo": {"description": t.kind}}))
            .collect(),
    ))
}

fn label(table: &TableInfo) -> String {
    format!("{}.{}", table.schema, table.name)
}

/// The table a picker value names, among the tables the connection really has: only names
/// the database listed ever reach SQL, and then only quoted.
async fn resolve_table(app: &Arc<App>, connection: &str, value: &str) -> Result<TableInfo> {
    let tables = connections::engine(app, connection).await?.engine.tables(None).await?;
    let mut matches = tables.iter().filter(|t| label(t) == value);
    if let Some(found) = matches.next() {
        return Ok(found.clone());
    }
    let by_name: Vec<&TableInfo> = tables.iter().filter(|t| t.name == value).collect();
    match by_name.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::NotFound(format!("connection {connection:?} has no table {value:?}"))),
        _ => Err(Error::Unprocessable(format!("{value:?} is in several schemas; choose schema.table"))),
    }
}

pub(super) async fn columns(
    State(app): State<Arc<App>>,
    ApiQuery(params): ApiQuery<TableParams>,
) -> Result<Json<Vec<connectors::ColumnInfo>>> {
    let connection = required(&params.connection, "connection")?;
    let table = resolve_table(&app, connection, required(&params.table, "table")?).await?;
    let engine = connections::engine(&app, connection).await?.engine.clone();
    Ok(Json(engine.columns(Some(&table.schema), &table.name).await?))
}

/// The Table Browser (`ssrm_table`). At run time `getSSRRows` puts the widget's params in the
/// URL query string (`cleanSearchParams`: empty values dropped) and posts the bare AG Grid
/// request; Workspace's one-off validation pass posts the params merged into the body, so the
/// body is the fallback. Answered as `{rowCount, rowData}` (plus `pivotResultFields` in pivot
/// mode) with `rowData` streaming; a failure is a 200 `{rowData: [], rowCount: 0, error}`,
/// because the grid turns any other status into a blank grid and shows only `error`.
pub(super) async fn table_rows(State(app): State<Arc<App>>, uri: Uri, bytes: Bytes) -> Response {
    match table_page(&app, &uri, &bytes).await {
        Ok(response) => response,
        Err(e) => grid_error(e),
    }
}

/// What an `ssrm_table` shows for a failed page: the "Error fetching data" toast with `error`.
pub(super) fn grid_error(error: Error) -> Response {
    Json(json!({"rowData": [], "rowCount": 0, "error": error.in_band()})).into_response()
}

async fn table_page(app: &Arc<App>, uri: &Uri, bytes: &[u8]) -> Result<Response> {
    let Query(params) = Query::<Map<String, Value>>::try_from_uri(uri)
        .map_err(|e| Error::Unprocessable(format!("invalid query string: {}", e.body_text())))?;
    let body: Map<String, Value> = parse_body(bytes)?;
    let text = |key: &str| {
        let given = |map: &Map<String, Value>| {
            map.get(key).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
        };
        given(&params).or_else(|| given(&body))
    };
    let connection = required(&text("connection"), "connection")?.to_string();
    let table = required(&text("table"), "table")?.to_string();
    let request: RowRequest = serde_json::from_value(Value::Object(body))
        .map_err(|e| Error::Unprocessable(format!("invalid row request: {e}")))?;
    let found = resolve_table(app, &connection, &table).await?;
    let dialect = connections::engine(app, &connection).await?.engine.kind().dialect();
    let sql =
        format!("SELECT * FROM {}.{}", dialect.quote_ident(&found.schema), dialect.quote_ident(&found.name));
    let page = rowmodel::fetch(app, &connection, &sql, &request, "widget").await?;
    let suffix = match &page.pivot_fields {
        Some(fields) => format!(",\"pivotResultFields\":{}}}", json!(fields)),
        None => "}".into(),
    };
    Ok(json_object_stream(format!("{{\"rowCount\":{},\"rowData\":", page.total), page.body, suffix))
}
