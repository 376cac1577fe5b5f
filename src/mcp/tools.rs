//! What each tool does, over the same core as the HTTP API: connections from the state database,
//! listings from the engines, and every statement through `execution::run` with the source `mcp`
//! and `force_read_only`. Failures are tool errors carrying the database's message (which the
//! core has already scrubbed of secrets), so the model can read them and try again.

use super::render::{self, Shown, Table, TextFormat};
use super::SOURCE;
use crate::app::App;
use crate::connections;
use crate::error::Error;
use crate::execution::{self, QueryInput};
use crate::state::{now, LogEntry, SavedQuery};
use connectors::{ConnectionSettings, Format, Param, TableInfo};
use futures::StreamExt;
use rmcp::model::{CallToolResult, ContentBlock};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Instant;

/// Rows of a table's sample in `describe_table`.
const SAMPLE_ROWS: u64 = 5;
/// Tables `list_tables` names at most; a model cannot use more in one answer.
const MAX_LISTED: usize = 1000;
/// Bytes of one result row held while it is read; a larger row is refused, not buffered.
const MAX_ROW_BYTES: usize = 64 << 20;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ListTablesArgs {
    /// Name of a saved connection (see list_connections).
    pub connection: String,
    /// Only tables in this schema (on MySQL/MariaDB a schema is a database); every schema the
    /// connection can see when left out.
    #[serde(default)]
    pub schema: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DescribeTableArgs {
    /// Name of a saved connection (see list_connections).
    pub connection: String,
    /// Table or view name as list_tables shows it; `schema.table` also works.
    pub table: String,
    /// The table's schema, when the same name exists in several.
    #[serde(default)]
    pub schema: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RunQueryArgs {
    /// Name of a saved connection (see list_connections).
    pub connection: String,
    /// One read-only SQL statement (SELECT, WITH, VALUES, SHOW, DESCRIBE, EXPLAIN) in the
    /// connection's dialect. Writes are always refused.
    pub sql: String,
    /// Values bound to the statement's placeholders, in order: `?` on SQLite, MySQL/MariaDB
    /// and Snowflake, `$1`, `$2`, ... on PostgreSQL. Strings, numbers, booleans or null.
    #[serde(default)]
    pub params: Vec<Value>,
    /// Most rows to return (default 200; the server's maximum is 1000 unless configured lower).
    #[serde(default)]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<u64>,
    /// How the rows are written for you: markdown (default) or csv (more compact).
    #[serde(default)]
    pub format: Option<TextFormat>,
}

pub(super) fn ok(text: String, structured: Value) -> CallToolResult {
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(structured);
    result
}

pub(super) fn failed(message: impl std::fmt::Display) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(format!("Error: {message}"))])
}

pub(super) async fn list_connections(app: &Arc<App>) -> CallToolResult {
    let started = Instant::now();
    let stored = match app.state.list_connections() {
        Ok(stored) => stored,
        Err(e) => return logged_failure(app, "", "list_connections".into(), started, e),
    };
    let mut table = Table::new(vec!["name".into(), "kind".into(), "database".into()], stored.len() as u64);
    let mut listed = Vec::with_capacity(stored.len());
    for connection in &stored {
        let target = target(&connection.settings);
        table.push(vec![
            Shown::Text(connection.name.clone()),
            Shown::Text(connection.settings.kind().name().into()),
            Shown::Text(target.clone()),
        ]);
        listed.push(json!({"name": connection.name, "kind": connection.settings.kind(), "database": target}));
    }
    log(app, "", "list_connections".into(), started, stored.len() as u64, None);
    let text = if stored.is_empty() {
        "There are no saved connections yet; the user adds them in the Data Connector app or its API.".into()
    } else {
        format!(
            "{} saved connection{}. Every tool here only reads, whatever the connection allows.\n\n{}",
            stored.len(),
            if stored.len() == 1 { "" } else { "s" },
            rows_only(&table)
        )
    };
    ok(text, json!({ "connections": listed }))
}

pub(super) async fn list_tables(app: &Arc<App>, args: ListTablesArgs) -> CallToolResult {
    let started = Instant::now();
    let what = match &args.schema {
        Some(schema) => format!("list_tables {schema}"),
        None => "list_tables".into(),
    };
    if let Err(unknown) = known_connection(app, &args.connection) {
        return failed(unknown);
    }
    let listed = async {
        let connected = connections::engine(app, &args.connection).await?;
        Ok::<_, Error>(connected.engine.tables(args.schema.as_deref()).await?)
    }
    .await;
    let tables = match listed {
        Ok(tables) => tables,
        Err(e) => return logged_failure(app, &args.connection, what, started, e),
    };
    log(app, &args.connection, what, started, tables.len() as u64, None);
    let shown = tables.len().min(MAX_LISTED);
    let mut table = Table::new(vec!["schema".into(), "name".into(), "kind".into()], MAX_LISTED as u64);
    for t in &tables[..shown] {
        table.push(vec![
            Shown::Text(t.schema.clone()),
            Shown::Text(t.name.clone()),
            Shown::Text(t.kind.clone()),
        ]);
    }
    let mut text = if tables.len() > shown {
        format!(
            "{} tables and views; the first {shown} are listed. Pass `schema` to see one schema at a time.",
            tables.len()
        )
    } else {
        format!("{} tables and views.", tables.len())
    };
    if shown > 0 {
        text.push_str("\n\n");
        text.push_str(&rows_only(&table));
    }
    ok(text, json!({"connection": args.connection, "tables": &tables[..shown], "total": tables.len()}))
}

pub(super) async fn describe_table(app: &Arc<App>, args: DescribeTableArgs) -> CallToolResult {
    let started = Instant::now();
    if let Err(unknown) = known_connection(app, &args.connection) {
        return failed(unknown);
    }
    let what = format!("describe_table {}", args.table);
    let described = async {
        let stored = app.state.require_connection(&args.connection)?;
        let connected = connections::engine(app, &args.connection).await?;
        let found = find_table(&*connected.engine, &args, default_schema(&stored.settings)).await?;
        let columns = connected.engine.columns(Some(&found.schema), &found.name).await?;
        Ok::<_, Error>((connected, found, columns))
    }
    .await;
    let (connected, found, columns) = match described {
        Ok(described) => described,
        Err(e) => return logged_failure(app, &args.connection, what, started, e),
    };
    log(app, &args.connection, what, started, columns.len() as u64, None);

    let mut column_table =
        Table::new(vec!["column".into(), "type".into(), "nullable".into()], columns.len() as u64);
    for column in &columns {
        column_table.push(vec![
            Shown::Text(column.name.clone()),
            Shown::Text(column.db_type.clone()),
            Shown::Bool(column.nullable),
        ]);
    }
    let mut text = format!(
        "{} {}.{} has {} column{}.\n\n{}",
        if found.kind == "view" { "View" } else { "Table" },
        found.schema,
        found.name,
        columns.len(),
        if columns.len() == 1 { "" } else { "s" },
        rows_only(&column_table)
    );
    let mut structured = Map::new();
    structured.insert("connection".into(), json!(args.connection));
    structured.insert("schema".into(), json!(found.schema));
    structured.insert("table".into(), json!(found.name));
    structured.insert("kind".into(), json!(found.kind));
    structured.insert("columns".into(), json!(columns));
    let dialect = connected.engine.kind().dialect();
    let sql = format!(
        "SELECT * FROM {}.{}{}",
        dialect.quote_ident(&found.schema),
        dialect.quote_ident(&found.name),
        dialect.limit_offset(Some(SAMPLE_ROWS), 0)
    );
    let sample = read(app, read_only_input(&args.connection, sql, Vec::new(), SAMPLE_ROWS)).await;
    match sample {
        Ok(sample) => {
            match sample.rows.len() {
                0 => text.push_str("\nIt has no rows."),
                1 => text.push_str(&format!("\nIts first row:\n\n{}", rows_only(&sample))),
                n => text.push_str(&format!("\nA sample of {n} rows:\n\n{}", rows_only(&sample))),
            }
            if sample.cut_cells > 0 {
                text.push_str(&format!(
                    "(Values longer than {} characters are cut, marked …[cut: N more characters].)\n",
                    render::MAX_CELL_CHARS
                ));
            }
            structured.insert("sample".into(), render::structured(&sample, Map::new()));
        }
        Err(e) => {
            text.push_str(&format!("\nSample rows could not be read: {e}"));
            structured.insert("sample_error".into(), json!(e.to_string()));
        }
    }
    ok(text, Value::Object(structured))
}

/// The listed table the arguments name: an exact name (in `schema` when given), else
/// `schema.table` split at its first dot; of a name in several schemas, the one in the schema
/// unqualified names resolve to. Only names the database listed reach SQL.
async fn find_table(
    engine: &dyn connectors::Engine,
    args: &DescribeTableArgs,
    default_schema: Option<&str>,
) -> Result<TableInfo, Error> {
    let tables = engine.tables(args.schema.as_deref()).await?;
    let named = |schema: Option<&str>, name: &str| -> Vec<TableInfo> {
        tables.iter().filter(|t| t.name == name && schema.is_none_or(|s| t.schema == s)).cloned().collect()
    };
    let mut found = named(args.schema.as_deref(), &args.table);
    if found.is_empty() && args.schema.is_none() {
        if let Some((schema, name)) = args.table.split_once('.') {
            found = named(Some(schema), name);
        }
    }
    if found.len() > 1 {
        if let Some(default) = found.iter().position(|t| Some(t.schema.as_str()) == default_schema) {
            return Ok(found.remove(default));
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => {
            let mut names: Vec<String> =
                tables.iter().take(50).map(|t| format!("{}.{}", t.schema, t.name)).collect();
            if tables.len() > names.len() {
                names.push(format!("… {} more", tables.len() - names.len()));
            }
            Err(Error::NotFound(format!(
                "there is no table or view {:?}{}; the connection has: {}",
                args.table,
                args.schema.as_deref().map(|s| format!(" in schema {s:?}")).unwrap_or_default(),
                if names.is_empty() { "no tables".into() } else { names.join(", ") }
            )))
        }
        _ => Err(Error::Unprocessable(format!(
            "{:?} exists in several schemas ({}); pass `schema`",
            args.table,
            found.iter().map(|t| t.schema.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

pub(super) async fn run_query(app: &Arc<App>, args: RunQueryArgs) -> CallToolResult {
    if let Err(unknown) = known_connection(app, &args.connection) {
        return failed(unknown);
    }
    let limit = match row_limit(app, args.limit) {
        Ok(limit) => limit,
        Err(message) => return failed(message),
    };
    let params = match args
        .params
        .iter()
        .enumerate()
        .map(|(i, v)| param(v).map_err(|why| format!("params[{i}]: {why}")))
        .collect()
    {
        Ok(params) => params,
        Err(message) => return failed(message),
    };
    let input = read_only_input(&args.connection, args.sql, params, limit);
    rows_result(app, input, args.format.unwrap_or_default(), Map::new()).await
}

/// Runs a saved query through its tool; `arguments` are checked against its declared parameters.
pub(super) async fn run_saved(
    app: &Arc<App>,
    query: SavedQuery,
    arguments: Map<String, Value>,
) -> CallToolResult {
    let limit = match arguments.get("limit") {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_u64() {
            Some(limit) => Some(limit),
            None => return failed(format!("limit must be a whole number of rows, not {value}")),
        },
    };
    let format = match arguments.get("format") {
        None | Some(Value::Null) => TextFormat::default(),
        Some(value) => match serde_json::from_value(value.clone()) {
            Ok(format) => format,
            Err(_) => {
                return failed(format!("format must be one of {}, not {value}", TextFormat::NAMES.join(", ")))
            }
        },
    };
    let limit = match row_limit(app, limit) {
        Ok(limit) => limit,
        Err(message) => return failed(message),
    };
    let bound = if query.widget.parameters.is_empty() {
        super::saved::bind(&query, &arguments).map(|params| (query.sql.clone(), params))
    } else {
        match app.state.require_connection(&query.connection) {
            Ok(stored) => super::saved::bind_named(&query, &arguments, stored.settings.kind().dialect()),
            Err(e) => Err(e.to_string()),
        }
    };
    let (sql, params) = match bound {
        Ok(bound) => bound,
        Err(message) => return failed(message),
    };
    let mut extra = Map::new();
    extra.insert("saved_query".into(), json!({"id": query.id, "name": query.name}));
    let input = read_only_input(&query.connection, sql, params, limit);
    rows_result(app, input, format, extra).await
}

async fn rows_result(
    app: &Arc<App>,
    input: QueryInput,
    format: TextFormat,
    mut extra: Map<String, Value>,
) -> CallToolResult {
    extra.insert("connection".into(), json!(input.connection));
    match read(app, input).await {
        Ok(table) => ok(render::text(&table, format), render::structured(&table, extra)),
        Err(e) => failed(e),
    }
}

fn read_only_input(connection: &str, sql: String, params: Vec<Param>, limit: u64) -> QueryInput {
    QueryInput {
        connection: connection.to_string(),
        sql,
        params,
        limit: Some(limit),
        timeout_ms: None,
        force_read_only: true,
    }
}

/// Runs the statement through the one query path (which logs it) and reads its rows, cutting
/// wide cells as they arrive so that memory holds at most the capped rows and one raw row.
async fn read(app: &Arc<App>, input: QueryInput) -> Result<Table, Error> {
    let limit = input.limit.unwrap_or(super::DEFAULT_ROWS);
    let mut output = execution::run(app, input, Format::Ndjson, SOURCE).await?;
    let mut table = Table::new(output.columns.iter().map(|c| c.name.clone()).collect(), limit);
    let mut pending: Vec<u8> = Vec::new();
    while let Some(chunk) = output.body.next().await {
        // The query path has logged the failure; its text is the error's.
        let chunk = chunk.map_err(|e| Error::Internal(e.to_string()))?;
        pending.extend_from_slice(&chunk);
        let mut start = 0;
        while let Some(end) = pending[start..].iter().position(|b| *b == b'\n').map(|p| p + start) {
            table.push_ndjson(&pending[start..end]).map_err(Error::Internal)?;
            start = end + 1;
        }
        pending.drain(..start);
        if pending.len() > MAX_ROW_BYTES {
            return Err(Error::PayloadTooLarge(format!(
                "a row of the result is larger than {} MiB; select fewer or narrower columns",
                MAX_ROW_BYTES >> 20
            )));
        }
    }
    table.truncated = output.truncated;
    Ok(table)
}

/// The row cap of one call: the server's MCP default, and at most its MCP maximum.
fn row_limit(app: &App, asked: Option<u64>) -> Result<u64, String> {
    let max = super::MAX_ROWS.min(app.config.limits.max_rows);
    match asked {
        None => Ok(super::DEFAULT_ROWS.min(max)),
        Some(limit) if (1..=max).contains(&limit) => Ok(limit),
        Some(limit) => Err(format!("limit must be between 1 and {max} rows, not {limit}")),
    }
}

/// A bound value from a JSON argument.
pub(super) fn param(value: &Value) -> Result<Param, String> {
    match value {
        Value::Null => Ok(Param::Null),
        Value::Bool(b) => Ok(Param::Bool(*b)),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(int), _) => Ok(Param::Int(int)),
            (None, Some(float)) => Ok(Param::Float(float)),
            (None, None) => Err(format!("{n} is not a number the database can take")),
        },
        Value::String(s) => Ok(Param::Text(s.clone())),
        Value::Array(_) | Value::Object(_) => {
            Err("must be a string, number, boolean or null (one value per placeholder)".into())
        }
    }
}

/// `Err` with a message naming the saved connections when `name` is not one of them.
fn known_connection(app: &App, name: &str) -> Result<(), String> {
    let known = app.state.list_connections().map_err(|e| e.to_string())?;
    if known.iter().any(|c| c.name == name) {
        return Ok(());
    }
    let names: Vec<String> = known.iter().map(|c| format!("{:?}", c.name)).collect();
    Err(if names.is_empty() {
        format!("there is no connection named {name:?}; there are no saved connections yet")
    } else {
        format!("there is no connection named {name:?}; the connections are: {}", names.join(", "))
    })
}

/// The schema an unqualified table name means on this connection, where the settings say.
fn default_schema(settings: &ConnectionSettings) -> Option<&str> {
    match settings {
        ConnectionSettings::Sqlite(_) => Some("main"),
        ConnectionSettings::Mysql(s) => s.database.as_deref(),
        ConnectionSettings::Postgres(_) => Some("public"),
        ConnectionSettings::Snowflake(s) => s.schema.as_deref(),
        ConnectionSettings::Duckdb(_) => Some("main"),
    }
}

/// Where a connection points, for the model: a file, a server and database, or an account.
fn target(settings: &ConnectionSettings) -> String {
    let server = |host: &str, port: u16, database: &Option<String>| match database {
        Some(database) => format!("{host}:{port}/{database}"),
        None => format!("{host}:{port}"),
    };
    match settings {
        ConnectionSettings::Sqlite(s) => s.path.display().to_string(),
        ConnectionSettings::Mysql(s) => server(&s.host, s.port, &s.database),
        ConnectionSettings::Postgres(s) => server(&s.host, s.port, &s.database),
        ConnectionSettings::Snowflake(s) => match &s.database {
            Some(database) => format!("{}/{database}", s.account),
            None => s.account.clone(),
        },
        ConnectionSettings::Duckdb(s) => s
            .path
            .as_ref()
            .map_or_else(|| "in-memory DuckDB (reads local files)".to_string(), |p| p.display().to_string()),
    }
}

/// A listing's rows as a markdown table, without the row-count line.
fn rows_only(table: &Table) -> String {
    let mut out = String::new();
    render::markdown(table, &mut out);
    out
}

fn logged_failure(
    app: &App,
    connection: &str,
    what: String,
    started: Instant,
    error: Error,
) -> CallToolResult {
    log(app, connection, what, started, 0, Some(&error));
    failed(error)
}

/// A query-log entry for a call that runs no SQL of the user's (listings, descriptions), so
/// the Activity view shows everything an agent looked at. Its `sql` says what was asked.
fn log(app: &App, connection: &str, what: String, started: Instant, rows: u64, error: Option<&Error>) {
    let entry = LogEntry {
        id: 0,
        at: now(),
        source: SOURCE.into(),
        connection: connection.into(),
        sql: format!("-- MCP {what}"),
        rows,
        duration_ms: connections::elapsed_ms(started),
        outcome: error.map_or("ok", Error::outcome).into(),
        error: error.map(ToString::to_string),
    };
    if let Err(e) = app.state.append_log(&entry, app.config.limits.log_entries) {
        tracing::warn!("could not write the query log: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_arguments_become_bound_values() {
        assert_eq!(param(&json!(null)), Ok(Param::Null));
        assert_eq!(param(&json!(true)), Ok(Param::Bool(true)));
        assert_eq!(param(&json!(-3)), Ok(Param::Int(-3)));
        assert_eq!(param(&json!(2.5)), Ok(Param::Float(2.5)));
        assert_eq!(param(&json!("x")), Ok(Param::Text("x".into())));
        assert!(param(&json!([1])).is_err());
        assert!(param(&json!({"a": 1})).is_err());
    }
}
