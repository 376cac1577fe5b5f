//! SQLite through rusqlite (bundled). Files open read-only (`SQLITE_OPEN_READ_ONLY`) unless the
//! connection says otherwise, and always for a run forced read-only (kept in a pool of their
//! own), with ATTACH disabled by limit, defensive mode on and extension loading never compiled
//! in. Statements run on blocking threads, a long result's encoding on a second one while SQLite
//! steps (`batch.rs`); a progress handler stops a statement at its deadline or when the client
//! has gone.

mod batch;
mod count;
mod cursor;
mod error;
mod params;
mod schema;
mod settings;
mod value;

pub use settings::SqliteSettings;

use crate::cell::ColumnKind;
use crate::dialect::Dialect;
use crate::error::{ConnectorError, Result};
use crate::kind::EngineKind;
use crate::sink::{CancelSignal, ResultSink};
use crate::statement::{self, Access, CheckedStatement};
use crate::{offset_probe, ColumnInfo, Engine, Listing, Query, TableInfo};
use batch::{Batch, Filled, Reader};
use cursor::Cursor;
use error::{describe, is_interrupt, is_too_big, map_error};
use rusqlite::{limits::Limit, Connection, OpenFlags};
use std::sync::Mutex;
use std::time::Instant;

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
            // The bundled SQLite is built with SQLITE_ENABLE_MEMORY_MANAGEMENT, so every
            // connection of the process shares one page-cache LRU. Pages left behind by idle
            // pooled connections made the next queries allocate and free a buffer for each page
            // they read instead of reusing one (10k rows by index: 33-34 ms after the 1M series,
            // 25-26 ms fresh). An idle connection keeps no pages; the OS caches the file anyway.
            // Failing to release them costs only that speed.
            let _ = conn.execute_batch("PRAGMA shrink_memory");
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
    fn kind(&self) -> EngineKind {
        EngineKind::Sqlite
    }

    async fn server_version(&self) -> Result<String> {
        self.with_connection(self.settings.read_only, |conn| {
            conn.query_row("SELECT 'SQLite ' || sqlite_version()", [], |r| r.get(0))
                .map_err(|e| map_error(e, None))
        })
        .await
    }

    async fn list(&self, what: Listing) -> Result<Vec<String>> {
        schema::list(what)
    }

    async fn tables(&self, schema: Option<&str>) -> Result<Vec<TableInfo>> {
        schema::only_main(schema)?;
        self.with_connection(self.settings.read_only, schema::tables).await
    }

    async fn columns(&self, schema: Option<&str>, table: &str) -> Result<Vec<ColumnInfo>> {
        schema::only_main(schema)?;
        let table = table.to_string();
        self.with_connection(self.settings.read_only, move |conn| schema::columns(conn, &table)).await
    }

    async fn query(&self, query: Query, sink: ResultSink) -> Result<()> {
        let access = query.access(self.settings.read_only);
        statement::check_dialect(&query.sql, Dialect::Sqlite, access)?;
        self.with_connection(access.read_only(), move |conn| run(conn, &query, sink, access)).await
    }

    /// A count from the b-tree where SQLite can give one (`count.rs`), else the offset probe.
    async fn exceeds(&self, checked: &CheckedStatement, query: &Query, rows: u64) -> Result<bool> {
        let access = query.access(self.settings.read_only);
        let sql = format!("SELECT count(*) AS dc_count FROM {}", checked.as_subquery("dc_count_q"));
        let values = query.params.clone();
        let counted = self
            .with_connection(access.read_only(), move |conn| {
                count::whole_table_count(conn, &sql, &values, rows)
            })
            .await;
        match counted {
            Ok(Some(count)) => Ok(count > rows),
            // The offset probe runs the statement as the query did, and reports any error itself.
            Ok(None) | Err(_) => offset_probe(self, checked, query, rows).await,
        }
    }
}

fn run(conn: &Connection, query: &Query, mut sink: ResultSink, access: Access) -> Result<()> {
    let read_only = access.read_only();
    let started = Instant::now();
    let deadline = started + query.timeout;
    let cancel: CancelSignal = sink.cancel_signal();
    let watch = cancel.clone();
    conn.progress_handler(PROGRESS_STEPS, Some(move || watch.is_cancelled() || Instant::now() >= deadline));
    // SQLite itself refuses to build a string or blob over the cap (SQLITE_TOOBIG), so
    // `zeroblob(900000000)` fails before anything is allocated, inside SQLite or here.
    let max_value = i32::try_from(sink.max_value_bytes()).unwrap_or(i32::MAX);
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, max_value);
    let too_big = std::cell::Cell::new(None::<Vec<String>>);
    let interrupted = |e: rusqlite::Error| {
        if is_too_big(&e) {
            return too_large(too_big.take().unwrap_or_default(), max_value);
        }
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

    let stmt = conn.prepare(&query.sql).map_err(&interrupted)?;
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
    let declared: Vec<(String, Option<String>)> =
        stmt.columns().iter().map(|c| (c.name().to_string(), c.decl_type().map(str::to_string))).collect();
    too_big.set(Some(declared.iter().map(|(name, _)| name.clone()).collect()));
    let hints: Vec<ColumnKind> = declared
        .iter()
        .map(|(_, t)| t.as_deref().map_or(ColumnKind::Other, value::kind_of_decltype))
        .collect();

    // The rows are read through the cursor (`cursor.rs` says why); rusqlite's statement has
    // given the statement's errors, the checks and the columns above, so the parameters are
    // bound once, to the cursor. What fails there is a value SQLite refuses (e.g. a text over
    // the value cap), reported as SQLite words it.
    drop(stmt);
    let mut rows = Cursor::open(conn, &query.sql, &query.params).map_err(|e| map_error(e, None))?;
    let mut reader = Reader::new(&declared, &hints, &sink);
    let columns = batch::Columns { declared: &declared, hints: &hints };
    let mut first = Batch::default();
    let filled = reader.fill(&mut rows, &mut first, &interrupted);
    sink.set_columns(reader.columns.take().unwrap_or_else(|| value::columns_from(&declared, &hints, None)));
    // The rows read before an error are encoded first: an earlier row the format refuses is
    // the error the client would have met first.
    match filled {
        Err(e) => {
            first.encode(&mut sink, &columns)?;
            return Err(e);
        }
        // A short result is encoded here: no second thread for a few rows.
        Ok(Filled::Done) => first.encode(&mut sink, &columns)?,
        Ok(Filled::Full) => {
            let (pipe, batches, give_back) = batch::pipe();
            let (read, encoded) = std::thread::scope(|scope| {
                let encoder = scope.spawn(|| batch::encode_batches(&mut sink, columns, batches, give_back));
                let read = read_rest(&mut reader, &mut rows, first, &pipe, &interrupted);
                // Closing the channel lets the encoder finish the batches it has.
                drop(pipe);
                let encoded = encoder
                    .join()
                    .unwrap_or_else(|_| Err(ConnectorError::internal("the SQLite result encoder failed")));
                (read, encoded)
            });
            encoded?;
            read?;
        }
    }
    if reader.truncated {
        // A row beyond the cap exists: the sink marks the result truncated.
        sink.accept_row();
    }
    drop(rows);
    sink.finish_blocking()
}

/// Reads the rest of a long result, handing each full batch (starting with `batch`) to the
/// encoder thread. Returns early, with no error of its own, once the encoder has stopped.
fn read_rest(
    reader: &mut Reader<'_>,
    rows: &mut Cursor<'_>,
    mut batch: Batch,
    pipe: &batch::Pipe,
    step_error: &dyn Fn(rusqlite::Error) -> ConnectorError,
) -> Result<()> {
    loop {
        if !pipe.send(batch) {
            return Ok(());
        }
        batch = pipe.empty();
        let filled = reader.fill(rows, &mut batch, step_error);
        if !matches!(filled, Ok(Filled::Full)) {
            // The last rows, or those before an error (see `run`).
            pipe.send(batch);
            return filled.map(|_| ());
        }
    }
}

/// The error for a value SQLite stores but we cannot show, with the cast that reads it anyway.
fn unreadable(
    (name, declared): &(String, Option<String>),
    raw: rusqlite::types::ValueRef<'_>,
    why: &str,
) -> ConnectorError {
    let db_type = declared.clone().unwrap_or_else(|| value::storage_class(raw).0);
    ConnectorError::unreadable(
        name,
        &db_type,
        &format!("{why}; CAST({name} AS BLOB) in the query returns the stored bytes"),
    )
}

/// SQLite stopped at a value over the cap while computing the row, before it could be read: the
/// column is not known then, only the result's columns.
fn too_large(columns: Vec<String>, max_value: i32) -> ConnectorError {
    let which = match columns.as_slice() {
        [one] => format!("column \"{one}\" holds"),
        [] => "the statement builds".to_string(),
        many => format!(
            "one of the columns {} holds",
            many.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")
        ),
    };
    ConnectorError::too_large(format!(
        "{which} a value of more than {max_value} bytes, the limit per value (the server's \
         --max-value-bytes); SQLite stopped before building it; select a part of it (e.g. substr) instead"
    ))
}
