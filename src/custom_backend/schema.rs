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
use axum::extract::State;
use axum::response::Response;
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

pub(super) async fn tables(
    State(app): State<Arc<App>>,
    ApiQuery(params): ApiQuery<ConnectionParam>,
) -> Result<Json<Vec<TableInfo>>> {
    let connection = required(&params.connection, "connection")?;
    Ok(Json(connections::engine(&app, connection).await?.engine.tables(None).await?))
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

/// The large-table browser (`ssrm_table`): the grid's request merged with the widget's
/// params, answered as `{rowData, rowCount}` with `rowData` streaming.
pub(super) async fn table_rows(State(app): State<Arc<App>>, bytes: Bytes) -> Result<Response> {
    let body: Map<String, Value> = parse_body(&bytes)?;
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
    let connection = required(&text("connection"), "connection")?.to_string();
    let table = required(&text("table"), "table")?.to_string();
    let request: RowRequest = serde_json::from_value(Value::Object(body))
        .map_err(|e| Error::Unprocessable(format!("invalid row request: {e}")))?;
    let found = resolve_table(&app, &connection, &table).await?;
    let dialect = connections::engine(&app, &connection).await?.engine.kind().dialect();
    let sql =
        format!("SELECT * FROM {}.{}", dialect.quote_ident(&found.schema), dialect.quote_ident(&found.name));
    let page = rowmodel::fetch(&app, &connection, &sql, &request, "widget").await?;
    Ok(json_object_stream(format!("{{\"rowCount\":{},\"rowData\":", page.total), page.body, "}".into()))
}
