//! The DuckDB engine itself (the module's comment in `mod.rs` says what it holds to). Kept apart
//! from the settings so that a build without DuckDB's C++ still knows the connection kind.

use super::error::{describe, is_interrupt, map_error};
use super::settings::DuckdbSettings;
use super::{params, schema, value};
use crate::cell::Column;
use crate::dialect::Dialect;
use crate::error::{ConnectorError, Result};
use crate::kind::EngineKind;
use crate::sink::ResultSink;
use crate::statement::{self, Access};
use crate::{ColumnInfo, Engine, Listing, Query, TableInfo};
use duckdb::{AccessMode, Config, Connection};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use value::Ty;

/// How often the watcher looks for a departed client while a query runs.
const CANCEL_POLL: Duration = Duration::from_millis(100);

pub struct DuckdbEngine {
    settings: DuckdbSettings,
    /// The database instance; runs use connections cloned from it (`try_clone`), which share
    /// its catalog and its lock on the file.
    root: Mutex<Connection>,
}

impl DuckdbEngine {
    /// Opens the file (or an in-memory database) once; a path that is not a readable DuckDB
    /// database is refused here, with the reason.
    pub async fn open(settings: DuckdbSettings) -> Result<Self> {
        let opening = settings.clone();
        let root = tokio::task::spawn_blocking(move || open_database(&opening))
            .await
            .map_err(|e| ConnectorError::internal(format!("DuckDB worker failed: {e}")))??;
        Ok(Self { settings, root: Mutex::new(root) })
    }

    fn connection(&self) -> Result<Connection> {
        let root =
            self.root.lock().map_err(|_| ConnectorError::internal("the DuckDB database lock is poisoned"))?;
        root.try_clone().map_err(|e| map_error(&e, None))
    }

    /// Runs `work` on a blocking thread with a connection of its own.
    async fn with_connection<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let conn = self.connection()?;
        tokio::task::spawn_blocking(move || work(&conn))
            .await
            .map_err(|e| ConnectorError::internal(format!("DuckDB worker failed: {e}")))?
    }
}

/// The settings every database opens with; see the module's comment for why each.
fn config(read_only_file: bool, folder: Option<&Path>) -> duckdb::Result<Config> {
    let mode = if read_only_file { AccessMode::ReadOnly } else { AccessMode::Automatic };
    let spill = std::env::temp_dir().join("data-connector-duckdb");
    let mut config = Config::default();
    if let Some(folder) = folder {
        config = config.with("file_search_path", folder.to_string_lossy())?;
    }
    config
        .access_mode(mode)?
        .enable_autoload_extension(false)?
        .with("allow_community_extensions", "false")?
        .with("allow_unsigned_extensions", "false")?
        .with("allow_persistent_secrets", "false")?
        .with("temp_directory", spill.to_string_lossy())?
        .with("lock_configuration", "true")
}

fn open_database(settings: &DuckdbSettings) -> Result<Connection> {
    let opened = match &settings.path {
        None => Connection::open_in_memory_with_flags(config(false, None).map_err(|e| map_error(&e, None))?),
        Some(path) => match check_path(path, settings.read_only)? {
            Target::Folder => {
                let config = config(false, Some(path)).map_err(|e| map_error(&e, None))?;
                Connection::open_in_memory_with_flags(config)
            }
            Target::File => {
                let config = config(settings.read_only, None).map_err(|e| map_error(&e, None))?;
                Connection::open_with_flags(path, config)
            }
        },
    };
    opened.map_err(|e| {
        let shown = settings
            .path
            .as_deref()
            .map_or_else(|| "an in-memory database".to_string(), |p| p.display().to_string());
        ConnectorError::invalid(format!("cannot open DuckDB database {shown}: {}", describe(&e)))
    })
}

/// What a connection's path names.
enum Target {
    /// A `.duckdb` file (or, on a writable connection, one to create).
    File,
    /// A folder of data files: an in-memory database that finds relative names there.
    Folder,
}

/// The path must be absolute; a file must exist on a read-only connection (DuckDB would
/// otherwise create one, and read-only means nothing on disk changes).
fn check_path(path: &Path, read_only: bool) -> Result<Target> {
    if !path.is_absolute() {
        return Err(ConnectorError::invalid(format!(
            "the DuckDB path must be absolute, got {}",
            path.display()
        )));
    }
    match std::fs::metadata(path) {
        // DuckDB splits file_search_path at commas.
        Ok(meta) if meta.is_dir() && path.to_string_lossy().contains(',') => {
            Err(ConnectorError::invalid(format!(
                "the folder {} has a comma in its path, which DuckDB's file search path cannot hold; \
             connect without a path and use absolute file names in queries",
                path.display()
            )))
        }
        Ok(meta) if meta.is_dir() => Ok(Target::Folder),
        Ok(_) => Ok(Target::File),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !read_only => {
            match path.parent().map(std::fs::metadata) {
                Some(Ok(parent)) if parent.is_dir() => Ok(Target::File),
                _ => {
                    Err(ConnectorError::not_found(format!("the folder of {} does not exist", path.display())))
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ConnectorError::not_found(format!(
            "DuckDB file {} does not exist (a read-only connection does not create it)",
            path.display()
        ))),
        Err(e) => Err(ConnectorError::invalid(format!("cannot read DuckDB file {}: {e}", path.display()))),
    }
}

#[async_trait::async_trait]
impl Engine for DuckdbEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Duckdb
    }

    async fn server_version(&self) -> Result<String> {
        self.with_connection(|conn| {
            conn.query_row("SELECT 'DuckDB ' || version()", [], |r| r.get(0)).map_err(|e| map_error(&e, None))
        })
        .await
    }

    async fn list(&self, what: Listing) -> Result<Vec<String>> {
        self.with_connection(move |conn| schema::list(conn, what)).await
    }

    async fn tables(&self, schema: Option<&str>) -> Result<Vec<TableInfo>> {
        let schema = schema.map(str::to_string);
        self.with_connection(move |conn| schema::tables(conn, schema.as_deref())).await
    }

    async fn columns(&self, schema: Option<&str>, table: &str) -> Result<Vec<ColumnInfo>> {
        let (schema, table) = (schema.map(str::to_string), table.to_string());
        self.with_connection(move |conn| schema::columns(conn, schema.as_deref(), &table)).await
    }

    async fn query(&self, query: Query, sink: ResultSink) -> Result<()> {
        let access = query.access(self.settings.read_only);
        statement::check_dialect(&query.sql, Dialect::Duckdb, access)?;
        let conn = self.connection()?;
        let interrupt = conn.interrupt_handle();
        let cancel = sink.cancel_signal();
        let timeout = query.timeout;
        let (done, mut finished) = tokio::sync::oneshot::channel::<()>();
        // DuckDB checks for an interrupt between the steps of its plan, so a long scan, sort or
        // join stops soon after this fires, not at the next batch the sink takes.
        let watcher = tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + timeout;
            loop {
                tokio::select! {
                    _ = &mut finished => return,
                    () = tokio::time::sleep_until(deadline) => {
                        interrupt.interrupt();
                        return;
                    }
                    () = tokio::time::sleep(CANCEL_POLL) => {
                        if cancel.is_cancelled() {
                            interrupt.interrupt();
                            return;
                        }
                    }
                }
            }
        });
        let result = tokio::task::spawn_blocking(move || run(&conn, &query, sink, access))
            .await
            .map_err(|e| ConnectorError::internal(format!("DuckDB worker failed: {e}")));
        let _ = done.send(());
        let _ = watcher.await;
        result?
    }
}

fn run(conn: &Connection, query: &Query, mut sink: ResultSink, access: Access) -> Result<()> {
    let read_only = access.read_only();
    let deadline = Instant::now() + query.timeout;
    let cancel = sink.cancel_signal();
    let stopped = |e: &duckdb::Error| {
        // Only the watcher in `query` interrupts, for a departed client or at the deadline, so
        // an interrupt with the client still here is the deadline's. Its clock starts when its
        // task first runs, which can be before this thread's: CI once saw the interrupt arrive
        // while `deadline` here was still ahead, and answered 400.
        if is_interrupt(e) || Instant::now() >= deadline {
            if cancel.is_cancelled() {
                return ConnectorError::cancelled();
            }
            return ConnectorError::timeout(query.timeout);
        }
        map_error(e, Some(read_only))
    };

    let mut stmt = conn.prepare(&query.sql).map_err(|e| stopped(&e))?;
    let expected = stmt.parameter_count();
    if expected != query.params.len() {
        return Err(ConnectorError::invalid(format!(
            "the query has {expected} parameter(s) but {} value(s) were given",
            query.params.len()
        )));
    }
    let types: Vec<Ty> = (0..stmt.column_count()).map(|i| Ty::of(&stmt.column_logical_type(i))).collect();
    let batches = stmt
        .stream_arrow(duckdb::params_from_iter(params::values(&query.params)))
        .map_err(|e| stopped(&e))?;
    let schema = batches.get_schema();
    let fields = schema.fields();
    let names: Vec<String> = fields.iter().map(|f| f.name().clone()).collect();
    // A statement whose result depends on its parameters (`SELECT ?`) is described vaguely
    // before they are bound, even in its number of columns: the executed result's Arrow types
    // name those columns then.
    let types: Vec<Ty> = if types.len() == fields.len() {
        types
            .into_iter()
            .zip(fields.iter())
            .map(|(ty, field)| if ty.is_unresolved() { Ty::from_arrow(field.data_type()) } else { ty })
            .collect()
    } else {
        fields.iter().map(|field| Ty::from_arrow(field.data_type())).collect()
    };
    sink.set_columns(
        names
            .iter()
            .zip(&types)
            .map(|(name, ty)| Column::new(name.clone(), ty.name.clone(), ty.kind()))
            .collect(),
    );
    'batches: for batch in batches {
        let batch = batch.map_err(|e| stopped(&e))?;
        for row in 0..batch.num_rows() {
            if !sink.accept_row() {
                break 'batches;
            }
            for (i, ty) in types.iter().enumerate() {
                let array = batch.column(i).as_ref();
                sink.admit_value(i, value::size(array, row))?;
                let cell = value::to_cell(ty, array, row).map_err(|why| {
                    ConnectorError::unreadable(
                        &names[i],
                        &ty.name,
                        &format!("{why}; CAST({} AS VARCHAR) in the query reads it as text", names[i]),
                    )
                })?;
                sink.cell(&cell);
            }
            sink.end_row_blocking()?;
        }
        if Instant::now() >= deadline {
            return Err(ConnectorError::timeout(query.timeout));
        }
    }
    sink.finish_blocking()
}
