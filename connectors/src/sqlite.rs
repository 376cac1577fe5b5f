//! SQLite through rusqlite (bundled). Files open read-only (`SQLITE_OPEN_READ_ONLY`) unless the
//! connection says otherwise, and always for a run forced read-only (kept in a pool of their
//! own), with ATTACH disabled by limit, defensive mode on and extension loading never compiled in. Statements run on blocking threads; a progress handler stops a
//! statement at its deadline or when the client has gone.

use crate::cell::{Cell, Column, ColumnKind};
use crate::error::{ConnectorError, ErrorKind, Result};
use crate::settings::default_true;
use crate::sink::{CancelSignal, ResultSink};
use crate::statement::Access;
use crate::{ColumnInfo, Engine, Listing, Param, Query, TableInfo};
use rusqlite::types::ValueRef;
use rusqlite::{limits::Limit, Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteSettings {
    /// Absolute path of the database file.
    pub path: PathBuf,
    #[serde(default = "default_true")]
    pub read_only: bool,
}

/// Idle connections kept for reuse; opening one costs a file open and schema read.
const MAX_IDLE: usize = 4;
/// SQLite VM steps between checks of the deadline and the client.
const PROGRESS_STEPS: i32 = 10_000;

pub struct SqliteEngine {
    settings: SqliteSettings,
    /// Connections opened as the settings say.
    idle: Mutex<Vec<Connection>>,
    /// Read-only connections of a writable file, for runs forced read-only.
    idle_forced_read_only: Mutex<Vec<Connection>>,
}

impl SqliteEngine {
    /// Opens the file once to prove it is a readable SQLite database.
    pub async fn open(settings: SqliteSettings) -> Result<Self> {
        if !settings.path.is_absolute() {
            return Err(ConnectorError::invalid(format!(
                "the SQLite path must be absolute, got {}",
                settings.path.display()
            )));
        }
        let engine =
            Self { settings, idle: Mutex::new(Vec::new()), idle_forced_read_only: Mutex::new(Vec::new()) };
        engine
            .with_connection(engine.settings.read_only, |conn| {
                conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))
                    .map_err(|e| map_error(e, None))
            })
            .await?;
        Ok(engine)
    }

    fn connect(&self, read_only: bool) -> Result<Connection> {
        let path = &self.settings.path;
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                ConnectorError::not_found(format!("SQLite file {} does not exist", path.display()))
            }
            _ => ConnectorError::invalid(format!("cannot read SQLite file {}: {e}", path.display())),
        })?;
        if !meta.is_file() {
            return Err(ConnectorError::invalid(format!("{} is not a file", path.display())));
        }
        let mode =
            if read_only { OpenFlags::SQLITE_OPEN_READ_ONLY } else { OpenFlags::SQLITE_OPEN_READ_WRITE };
        let conn =
            Connection::open_with_flags(path, mode | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(|e| {
                ConnectorError::invalid(format!(
                    "cannot open SQLite file {}: {}",
                    path.display(),
                    describe(&e)
                ))
            })?;
        conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0);
        // Results stream through once, so a big private page cache buys little (the OS caches
        // the file for every connection) and costs memory per pooled connection.
        conn.pragma_update(None, "cache_size", -512).map_err(|e| map_error(e, None))?;
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)
            .and_then(|_| {
                conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)
            })
            .map_err(|e| map_error(e, None))?;
        Ok(conn)
    }

    /// The idle connections opened read-only (`read_only`) or as the settings say.
    fn pool(&self, read_only: bool) -> &Mutex<Vec<Connection>> {
        if read_only && !self.settings.read_only {
            &self.idle_forced_read_only
        } else {
            &self.idle
        }
    }

    /// Runs `work` on a blocking thread with a pooled connection, opened read-only when
    /// `read_only` (which a writable connection's settings alone would not do).
    async fn with_connection<T, F>(&self, read_only: bool, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let read_only = read_only || self.settings.read_only;
        let pool = self.pool(read_only);
        let pooled = pool.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match pooled {
            Some(conn) => conn,
            None => self.connect_blocking(read_only).await?,
        };
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let result = work(&conn);
            (conn, result)
        })
        .await
        .map_err(|e| ConnectorError::internal(format!("SQLite worker failed: {e}")))?;
        conn.progress_handler(0, None::<fn() -> bool>);
        if let Ok(mut idle) = pool.lock() {
            if idle.len() < MAX_IDLE {
                idle.push(conn);
            }
        }
        result
    }

    async fn connect_blocking(&self, read_only: bool) -> Result<Connection> {
        // Opening touches the file system; it is quick, so it runs inline rather than paying
        // for a second thread hop.
        self.connect(read_only)
    }
}

#[async_trait::async_trait]
impl Engine for SqliteEngine {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn server_version(&self) -> Result<String> {
        self.with_connection(self.settings.read_only, |conn| {
            conn.query_row("SELECT 'SQLite ' || sqlite_version()", [], |r| r.get(0))
                .map_err(|e| map_error(e, None))
        })
        .await
    }

    async fn list(&self, what: Listing) -> Result<Vec<String>> {
        match what {
            Listing::Databases | Listing::Schemas => Ok(vec!["main".into()]),
            Listing::Roles | Listing::Warehouses => {
                Err(ConnectorError::unsupported("SQLite has no roles or warehouses"))
            }
        }
    }

    async fn tables(&self, schema: Option<&str>) -> Result<Vec<TableInfo>> {
        if let Some(other) = schema.filter(|s| *s != "main") {
            return Err(ConnectorError::not_found(format!("SQLite has only the schema main, not {other}")));
        }
        self.with_connection(self.settings.read_only, |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') \
                     AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                )
                .map_err(|e| map_error(e, None))?;
            let rows = stmt
                .query_map([], |r| Ok(TableInfo { schema: "main".into(), name: r.get(0)?, kind: r.get(1)? }))
                .and_then(Iterator::collect)
                .map_err(|e| map_error(e, None))?;
            Ok(rows)
        })
        .await
    }

    async fn columns(&self, schema: Option<&str>, table: &str) -> Result<Vec<ColumnInfo>> {
        if let Some(other) = schema.filter(|s| *s != "main") {
            return Err(ConnectorError::not_found(format!("SQLite has only the schema main, not {other}")));
        }
        let table = table.to_string();
        self.with_connection(self.settings.read_only, move |conn| {
            let mut stmt = conn
                .prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid")
                .map_err(|e| map_error(e, None))?;
            let columns: Vec<ColumnInfo> = stmt
                .query_map([&table], |r| {
                    let not_null: bool = r.get(2)?;
                    Ok(ColumnInfo { name: r.get(0)?, db_type: r.get(1)?, nullable: !not_null })
                })
                .and_then(Iterator::collect)
                .map_err(|e| map_error(e, None))?;
            if columns.is_empty() {
                return Err(ConnectorError::not_found(format!("table {table} does not exist")));
            }
            Ok(columns)
        })
        .await
    }

    async fn query(&self, query: Query, sink: ResultSink) -> Result<()> {
        let access = query.access(self.settings.read_only);
        self.with_connection(access.read_only(), move |conn| run(conn, &query, sink, access)).await
    }
}

fn run(conn: &Connection, query: &Query, mut sink: ResultSink, access: Access) -> Result<()> {
    let read_only = access.read_only();
    let started = Instant::now();
    let deadline = started + query.timeout;
    let cancel: CancelSignal = sink.cancel_signal();
    let watch = cancel.clone();
    conn.progress_handler(PROGRESS_STEPS, Some(move || watch.is_cancelled() || Instant::now() >= deadline));
    let interrupted = |e: rusqlite::Error| {
        if is_interrupt(&e) {
            if cancel.is_cancelled() {
                ConnectorError::cancelled()
            } else {
                ConnectorError::timeout(query.timeout)
            }
        } else {
            map_error(e, Some(read_only))
        }
    };

    let mut stmt = conn.prepare(&query.sql).map_err(interrupted)?;
    if read_only && !stmt.readonly() {
        return Err(ConnectorError::read_only(format!(
            "{} and this statement would write; the file was not changed",
            access.refuser()
        )));
    }
    let expected = stmt.parameter_count();
    if expected != query.params.len() {
        return Err(ConnectorError::invalid(format!(
            "the query has {expected} parameter(s) but {} value(s) were given",
            query.params.len()
        )));
    }
    for (i, param) in query.params.iter().enumerate() {
        bind(&mut stmt, i + 1, param).map_err(|e| map_error(e, None))?;
    }
    let declared: Vec<(String, Option<String>)> =
        stmt.columns().iter().map(|c| (c.name().to_string(), c.decl_type().map(str::to_string))).collect();
    let hints: Vec<ColumnKind> =
        declared.iter().map(|(_, t)| t.as_deref().map_or(ColumnKind::Other, kind_of_decltype)).collect();

    let mut rows = stmt.raw_query();
    let mut first = true;
    while let Some(row) = rows.next().map_err(interrupted)? {
        if first {
            first = false;
            sink.set_columns(columns_from(&declared, &hints, Some(row)));
        }
        if !sink.accept_row() {
            break;
        }
        for (i, hint) in hints.iter().enumerate() {
            let value = row.get_ref(i).map_err(|e| map_error(e, None))?;
            sink.cell(&to_cell(value, *hint));
        }
        sink.end_row_blocking()?;
    }
    if first {
        sink.set_columns(columns_from(&declared, &hints, None));
    }
    drop(rows);
    sink.finish_blocking()
}

fn columns_from(
    declared: &[(String, Option<String>)],
    hints: &[ColumnKind],
    first: Option<&rusqlite::Row<'_>>,
) -> Vec<Column> {
    declared
        .iter()
        .zip(hints)
        .enumerate()
        .map(|(i, ((name, decl), hint))| {
            let (db_type, kind) = match (decl, first.and_then(|r| r.get_ref(i).ok())) {
                (Some(t), _) => (t.clone(), *hint),
                (None, Some(value)) => storage_class(value),
                (None, None) => (String::new(), ColumnKind::Other),
            };
            Column::new(name.clone(), db_type, kind)
        })
        .collect()
}

/// The one SQLite value → `Cell` mapping (SPEC §6). SQLite is dynamically typed, so the
/// storage class decides; a column declared BOOLEAN turns 0/1 into false/true.
pub fn to_cell(value: ValueRef<'_>, hint: ColumnKind) -> Cell<'_> {
    match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(v) if hint == ColumnKind::Boolean && (v == 0 || v == 1) => Cell::Bool(v == 1),
        ValueRef::Integer(v) => Cell::Int(v),
        ValueRef::Real(v) => Cell::Float(v),
        ValueRef::Text(bytes) => Cell::Text(String::from_utf8_lossy(bytes)),
        ValueRef::Blob(bytes) => Cell::Bytes(Cow::Borrowed(bytes)),
    }
}

/// Column kind from a declared type, following SQLite's affinity rules plus the common
/// date/boolean/JSON names.
pub fn kind_of_decltype(decl: &str) -> ColumnKind {
    let t = decl.to_ascii_uppercase();
    if t.contains("BOOL") {
        ColumnKind::Boolean
    } else if t.contains("DATETIME") || t.contains("TIMESTAMP") {
        ColumnKind::DateTime
    } else if t.contains("DATE") {
        ColumnKind::Date
    } else if t.contains("TIME") {
        ColumnKind::Time
    } else if t.contains("INT") {
        ColumnKind::Integer
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        ColumnKind::Text
    } else if t.contains("JSON") {
        ColumnKind::Json
    } else if t.contains("BLOB") {
        ColumnKind::Binary
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        ColumnKind::Float
    } else if t.contains("DEC") || t.contains("NUM") {
        ColumnKind::Decimal
    } else {
        ColumnKind::Other
    }
}

fn storage_class(value: ValueRef<'_>) -> (String, ColumnKind) {
    match value {
        ValueRef::Integer(_) => ("INTEGER".into(), ColumnKind::Integer),
        ValueRef::Real(_) => ("REAL".into(), ColumnKind::Float),
        ValueRef::Text(_) => ("TEXT".into(), ColumnKind::Text),
        ValueRef::Blob(_) => ("BLOB".into(), ColumnKind::Binary),
        ValueRef::Null => (String::new(), ColumnKind::Other),
    }
}

fn bind(stmt: &mut rusqlite::Statement<'_>, index: usize, param: &Param) -> rusqlite::Result<()> {
    match param {
        Param::Null => stmt.raw_bind_parameter(index, rusqlite::types::Null),
        Param::Bool(v) => stmt.raw_bind_parameter(index, i64::from(*v)),
        Param::Int(v) => stmt.raw_bind_parameter(index, v),
        Param::Float(v) => stmt.raw_bind_parameter(index, v),
        Param::Text(v) => stmt.raw_bind_parameter(index, v.as_str()),
    }
}

fn is_interrupt(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::OperationInterrupted)
}

fn describe(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        other => other.to_string(),
    }
}

fn map_error(e: rusqlite::Error, read_only: Option<bool>) -> ConnectorError {
    use rusqlite::ErrorCode as C;
    let message = describe(&e);
    let kind = match &e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            C::ReadOnly if read_only == Some(true) => ErrorKind::ReadOnly,
            C::ReadOnly | C::PermissionDenied | C::AuthorizationForStatementDenied => ErrorKind::AccessDenied,
            C::NotADatabase => ErrorKind::InvalidInput,
            C::CannotOpen => ErrorKind::NotFound,
            C::DatabaseBusy | C::DatabaseLocked => ErrorKind::Unreachable,
            _ => ErrorKind::Sql,
        },
        rusqlite::Error::MultipleStatement => ErrorKind::ReadOnly,
        rusqlite::Error::InvalidParameterCount(..) | rusqlite::Error::InvalidParameterName(_) => {
            ErrorKind::InvalidInput
        }
        _ => ErrorKind::Sql,
    };
    ConnectorError::new(kind, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decltypes_map_to_kinds() {
        for (decl, kind) in [
            ("INTEGER", ColumnKind::Integer),
            ("BIGINT", ColumnKind::Integer),
            ("VARCHAR(20)", ColumnKind::Text),
            ("REAL", ColumnKind::Float),
            ("DOUBLE PRECISION", ColumnKind::Float),
            ("NUMERIC(10,2)", ColumnKind::Decimal),
            ("BOOLEAN", ColumnKind::Boolean),
            ("DATE", ColumnKind::Date),
            ("DATETIME", ColumnKind::DateTime),
            ("TIMESTAMP", ColumnKind::DateTime),
            ("BLOB", ColumnKind::Binary),
            ("JSON", ColumnKind::Json),
            ("", ColumnKind::Other),
        ] {
            assert_eq!(kind_of_decltype(decl), kind, "{decl}");
        }
    }

    #[test]
    fn values_map_to_cells() {
        assert_eq!(to_cell(ValueRef::Null, ColumnKind::Text), Cell::Null);
        assert_eq!(to_cell(ValueRef::Integer(1), ColumnKind::Boolean), Cell::Bool(true));
        assert_eq!(to_cell(ValueRef::Integer(2), ColumnKind::Boolean), Cell::Int(2));
        assert_eq!(to_cell(ValueRef::Integer(i64::MAX), ColumnKind::Integer), Cell::Int(i64::MAX));
        assert_eq!(to_cell(ValueRef::Real(1.5), ColumnKind::Other), Cell::Float(1.5));
        assert_eq!(to_cell(ValueRef::Text("é".as_bytes()), ColumnKind::Text), Cell::Text("é".into()));
        assert_eq!(to_cell(ValueRef::Blob(&[1, 2]), ColumnKind::Binary), Cell::Bytes(Cow::Borrowed(&[1, 2])));
    }
}
