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

/// One page: the total row count after filtering, the page's columns, its rows streaming as a
/// JSON array, and in pivot mode the generated columns (`pivotResultFields`).
pub struct Page {
    pub total: u64,
    pub columns: Arc<[Column]>,
    pub body: BodyStream,
    pub pivot_fields: Option<Vec<String>>,
}

const ALIAS: &str = "dc_q";

/// Statements the grid cannot page: they are not queries, so they cannot stand inside
/// `SELECT * FROM (...)`. Refused when saved for a grid, and explained when met in one.
const UNWRAPPABLE: &[&str] = &["SHOW", "DESCRIBE", "DESC", "EXPLAIN", "PRAGMA"];

/// Refuses a statement a grid could not page, with what to write instead.
pub fn check_wrappable(sql: &str) -> Result<()> {
    let checked = statement::check(sql, false)?;
    if UNWRAPPABLE.contains(&checked.keyword.as_str()) {
        return Err(Error::Unprocessable(format!(
            "{} statements cannot be shown in a grid, which pages, sorts and filters the rows in the \
             database by running the query inside SELECT * FROM (...); save a SELECT instead (for \
             example over information_schema)",
            checked.keyword
        )));
    }
    if !checked.reads_only {
        return Err(Error::Unprocessable(format!(
            "{} statements do not return rows to show in a grid; save a SELECT",
            if checked.keyword.is_empty() { "such" } else { checked.keyword.as_str() }
        )));
    }
    Ok(())
}

pub async fn fetch(
    app: &Arc<App>,
    connection: &str,
    query_sql: &str,
    request: &RowRequest,
    source: &'static str,
) -> Result<Page> {
    // Failures before a statement runs are logged here; a statement that runs logs itself.
    let refuse = |e: Error| {
        log_refusal(app, source, connection, query_sql, &e);
        e
    };
    execution::check_sql(&app.config.limits, query_sql).map_err(refuse)?;
    let connected = connections::engine(app, connection).await.map_err(refuse)?;
    let dialect = connected.engine.kind().dialect();
    // The wrapper starts with SELECT, so the statement inside must pass the guard on its own.
    let checked = statement::check(query_sql, connected.read_only).map_err(|e| refuse(e.into()))?;
    check_wrappable(&checked.body).map_err(refuse)?;
    let subquery = checked.as_subquery(ALIAS);
    let max_rows = app.config.limits.max_rows;
    if let Some((page, limit)) = sql::direct_page(dialect, &checked.body, request, max_rows) {
        let count = format!("SELECT COUNT(*) AS dc_count FROM {subquery}");
        let counted = run(app, connection, count, Vec::new(), Some(1), source).await?;
        let total = read_count(counted.body).await?;
        let page = run(app, connection, page.sql, page.params, limit.map(|l| l.max(1)), source).await?;
        return Ok(Page { total, columns: page.columns, body: page.body, pivot_fields: None });
    }
    let columns: Arc<[Column]> = if sql::names_columns(request) {
        let probe = format!("SELECT * FROM {subquery}{}", dialect.limit_offset(Some(0), 0));
        run(app, connection, probe, Vec::new(), Some(1), source).await?.columns
    } else {
        Arc::from(Vec::new())
    };
    let (plan, pivot_fields) = if sql::pivoting(request) {
        let keys = sql::pivot_keys(dialect, &subquery, &columns, request).map_err(refuse)?;
        let cap = sql::MAX_PIVOT_COLUMNS as u64 + 1;
        let found = run(app, connection, keys.sql, keys.params, Some(cap), source).await?;
        let key_rows = read_rows(found.body).await?;
        let pivot =
            sql::plan_pivot(dialect, &subquery, &columns, request, &key_rows, max_rows).map_err(refuse)?;
        (pivot.plan, Some(pivot.fields))
    } else {
        (sql::plan(dialect, &subquery, &columns, request, max_rows).map_err(refuse)?, None)
    };
    let counted = run(app, connection, plan.count.sql, plan.count.params, Some(1), source).await?;
    let total = read_count(counted.body).await?;
    let cap = plan.limit.map(|l| l.max(1));
    let page = run(app, connection, plan.page.sql, plan.page.params, cap, source).await?;
    Ok(Page { total, columns: page.columns, body: page.body, pivot_fields })
}

/// A query-log entry for a grid request refused before any statement ran (a bad column name, a
/// statement the grid cannot page), so the log tells the whole story of what a grid showed.
fn log_refusal(app: &Arc<App>, source: &str, connection: &str, sql: &str, error: &Error) {
    let entry = crate::state::LogEntry {
        id: 0,
        at: crate::state::now(),
        source: source.to_string(),
        connection: connection.to_string(),
        sql: sql.to_string(),
        rows: 0,
        duration_ms: 0.0,
        outcome: error.outcome().to_string(),
        error: Some(error.to_string()),
    };
    if let Err(e) = app.state.append_log(&entry, app.config.limits.log_entries) {
        tracing::warn!("could not write the query log: {e}");
    }
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

/// The rows of a small result (a count, the pivot keys), whose size the caller capped.
async fn read_rows(mut body: BodyStream) -> Result<Vec<serde_json::Map<String, serde_json::Value>>> {
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        bytes.extend_from_slice(&chunk.map_err(|e| Error::Internal(format!("reading rows failed: {e}")))?);
    }
    serde_json::from_slice(&bytes).map_err(|e| Error::Internal(format!("the rows were not JSON: {e}")))
}

/// The single `dc_count` of a count statement's JSON body; big counts arrive as strings.
async fn read_count(body: BodyStream) -> Result<u64> {
    let rows = read_rows(body).await?;
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

pub fn kind_from_name(name: &str) -> connectors::ColumnKind {
    use connectors::ColumnKind as K;
    match name {
        "integer" => K::Integer,
        "float" => K::Float,
        "decimal" => K::Decimal,
        "boolean" => K::Boolean,
        "text" => K::Text,
        "date" => K::Date,
        "datetime" => K::DateTime,
        "time" => K::Time,
        "binary" => K::Binary,
        "json" => K::Json,
        _ => K::Other,
    }
}

/// A column list as the state database stores it (`queries.columns`).
pub fn encode_columns(columns: &[Column]) -> String {
    serde_json::to_string(columns).unwrap_or_else(|_| "[]".into())
}

/// The stored column list; `None` when it is unreadable (it is then learned again).
pub fn decode_columns(text: &str) -> Option<Vec<Column>> {
    #[derive(serde::Deserialize)]
    struct Stored {
        name: String,
        #[serde(default)]
        db_type: String,
        kind: String,
    }
    let stored: Vec<Stored> = serde_json::from_str(text).ok()?;
    Some(stored.into_iter().map(|c| Column::new(c.name, c.db_type, kind_from_name(&c.kind))).collect())
}

/// How long learning a saved query's columns may take when it is saved.
const COLUMN_PROBE: std::time::Duration = std::time::Duration::from_secs(3);

/// Learns the columns a saved query returns, from a zero-row run straight on the engine (no
/// query slot, no log entry: it is metadata), and stores them so that widgets.json and
/// apps.json never run queries. A query that cannot be probed in time keeps no list and is
/// learned from its first run instead.
pub async fn learn_columns(app: &Arc<App>, saved: &crate::state::SavedQuery) {
    let Some(columns) = probe_columns(app, saved).await else { return };
    if let Err(e) = app.state.store_query_columns(saved.id, &saved.sql, &encode_columns(&columns)) {
        tracing::warn!("could not store the columns of saved query {}: {e}", saved.id);
    }
}

async fn probe_columns(app: &Arc<App>, saved: &crate::state::SavedQuery) -> Option<Vec<Column>> {
    let connected = connections::engine(app, &saved.connection).await.ok()?;
    let dialect = connected.engine.kind().dialect();
    // `{{name}}` parameters probe with their defaults; without one the columns are learned on
    // the first run instead.
    let bound = crate::sql_template::bind(&saved.sql, &saved.widget.parameters, &Default::default(), dialect).ok()?;
    let params = if bound.params.is_empty() { saved.params.clone() } else { bound.params };
    let checked = statement::check(&bound.sql, true).ok()?;
    if check_wrappable(&checked.body).is_err() {
        return None;
    }
    let probe = connectors::Query {
        sql: format!("SELECT * FROM {}{}", checked.as_subquery(ALIAS), dialect.limit_offset(Some(0), 0)),
        params,
        timeout: COLUMN_PROBE,
        force_read_only: true,
    };
    let (sink, mut rx) = connectors::ResultSink::new(connectors::SinkOptions::new(Format::Json, 1));
    tokio::time::timeout(COLUMN_PROBE, connected.engine.query(probe, sink)).await.ok()?.ok()?;
    match rx.recv().await {
        Some(connectors::StreamEvent::Complete { columns, .. }) => Some(columns.to_vec()),
        _ => None,
    }
}
