//! AG Grid's server-side row model over a saved or generated query: paging, sorting, filters
//! and row grouping, translated to SQL around the query (`sql`) and run through the one query
//! path (`execution::run`). The native protocol's `/query/{id}` and the custom backend's
//! `ssrm_table` widget use it.

pub mod model;
pub mod sql;

pub use model::RowRequest;

use crate::app::App;
use crate::connections;
use crate::error::{Error, Result};
use crate::execution::{self, BodyStream, QueryInput};
use connectors::{statement, Column, Format};
use futures::StreamExt;
use std::sync::Arc;

/// One page: the total row count after filtering, the page's columns, and its rows streaming
/// as a JSON array.
pub struct Page {
    pub total: u64,
    pub columns: Arc<[Column]>,
    pub body: BodyStream,
}

const ALIAS: &str = "dc_q";

pub async fn fetch(
    app: &Arc<App>,
    connection: &str,
    query_sql: &str,
    request: &RowRequest,
    source: &'static str,
) -> Result<Page> {
    execution::check_sql(&app.config.limits, query_sql)?;
    let connected = connections::engine(app, connection).await?;
    let dialect = connected.engine.kind().dialect();
    // The wrapper starts with SELECT, so the statement inside must pass the guard on its own.
    let checked = statement::check(query_sql, connected.read_only)?;
    let subquery = checked.as_subquery(ALIAS);
    let columns: Arc<[Column]> = if sql::names_columns(request) {
        let probe = format!("SELECT * FROM {subquery}{}", dialect.limit_offset(Some(0), 0));
        run(app, connection, probe, Vec::new(), Some(1), source).await?.columns
    } else {
        Arc::from(Vec::new())
    };
    let plan = sql::plan(dialect, &subquery, &columns, request, app.config.limits.max_rows)?;
    let counted = run(app, connection, plan.count.sql, plan.count.params, Some(1), source).await?;
    let total = read_count(counted.body).await?;
    let cap = plan.limit.map(|l| l.max(1));
    let page = run(app, connection, plan.page.sql, plan.page.params, cap, source).await?;
    Ok(Page { total, columns: page.columns, body: page.body })
}

async fn run(
    app: &Arc<App>,
    connection: &str,
    sql: String,
    params: Vec<connectors::Param>,
    limit: Option<u64>,
    source: &'static str,
) -> Result<execution::QueryOutput> {
    let input = QueryInput {
        connection: connection.to_string(),
        sql,
        params,
        limit,
        timeout_ms: None,
        force_read_only: false,
    };
    execution::run_generated(app, input, Format::Json, source).await
}

/// The single `dc_count` of a count statement's JSON body; big counts arrive as strings.
async fn read_count(mut body: BodyStream) -> Result<u64> {
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        bytes.extend_from_slice(&chunk.map_err(|e| Error::Internal(format!("counting rows failed: {e}")))?);
    }
    let rows: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Internal(format!("the row count was not JSON: {e}")))?;
    let value = rows.first().and_then(|row| row.values().next()).cloned().unwrap_or_default();
    match &value {
        serde_json::Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| Error::Internal(format!("the row count came back as {value}")))
}

/// A column's type for clients: the database's own type name, or our kind when the engine
/// reports none.
pub fn column_type(column: &Column) -> String {
    if column.db_type.is_empty() {
        kind_name(column.kind).to_string()
    } else {
        column.db_type.clone()
    }
}

pub fn kind_name(kind: connectors::ColumnKind) -> &'static str {
    use connectors::ColumnKind as K;
    match kind {
        K::Integer => "integer",
        K::Float => "float",
        K::Decimal => "decimal",
        K::Boolean => "boolean",
        K::Text => "text",
        K::Date => "date",
        K::DateTime => "datetime",
        K::Time => "time",
        K::Binary => "binary",
        K::Json => "json",
        K::Other => "other",
    }
}
