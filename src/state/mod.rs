//! The state database: non-secret connection settings, saved queries and the query log, in one
//! SQLite file under the data dir. Secrets are never written here (they live in the OS keyring).
//! Calls are short and serialized behind one connection.

mod log_writer;
mod migrations;
pub mod native_queries;
pub mod widget;

pub use widget::{Display, WidgetSettings};

use crate::error::{Error, Result};
use connectors::ConnectionSettings;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

pub struct StateDb {
    conn: Mutex<Connection>,
    log: log_writer::LogWriter,
    /// Bumped by every saved-query change; widgets.json records the value it was built from, so
    /// an answer can ask Workspace to re-read it (`refreshBackend`).
    widgets_changed: AtomicU64,
    widgets_served: AtomicU64,
}

#[derive(Debug, Clone)]
pub struct StoredConnection {
    pub id: i64,
    pub name: String,
    pub settings: ConnectionSettings,
    /// Which secret fields the keyring entry holds (names only).
    pub secret_fields: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SavedQuery {
    pub id: i64,
    pub connection: String,
    pub name: String,
    pub sql: String,
    pub description: String,
    /// Default parameter values bound when the query runs without its own.
    #[schema(value_type = Vec<Object>)]
    pub params: Vec<connectors::Param>,
    /// Parameters, display, refresh interval, row cap and category of its widget.
    #[serde(flatten)]
    pub widget: WidgetSettings,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone)]
pub struct NewQuery {
    pub connection: String,
    pub name: String,
    pub sql: String,
    pub description: String,
    pub params: Vec<connectors::Param>,
    pub widget: WidgetSettings,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LogEntry {
    pub id: i64,
    /// RFC 3339 time the query started.
    pub at: String,
    /// Who ran it: `api`, `cli`, `workspace`, `widget`, `app`, `mcp` (an AI client; its listings
    /// and descriptions are logged too, with `sql` saying what was asked: `-- MCP list_tables`).
    pub source: String,
    pub connection: String,
    pub sql: String,
    pub rows: u64,
    pub duration_ms: f64,
    /// `ok`, `truncated`, `error`, `timeout`, `cancelled` or `refused`.
    pub outcome: String,
    pub error: Option<String>,
}

impl StateDb {
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::State(format!("cannot create data dir {}: {e}", dir.display())))?;
        }
        let mut conn = Connection::open(path)
            .map_err(|e| Error::State(format!("cannot open {}: {e}", path.display())))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )?;
        migrations::apply(&mut conn)?;
        let log = log_writer::LogWriter::start(path)?;
        Ok(Self {
            conn: Mutex::new(conn),
            log,
            widgets_changed: AtomicU64::new(0),
            widgets_served: AtomicU64::new(0),
        })
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| Error::Internal("state database lock poisoned".into()))
    }

    // ---- connections -------------------------------------------------------------------

    pub fn list_connections(&self) -> Result<Vec<StoredConnection>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT id, name, settings, secret_fields, created_at, updated_at FROM connections ORDER BY name",
        )?;
        let rows = stmt.query_map([], raw_connection)?.collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(decode_connection).collect()
    }

    pub fn get_connection(&self, name: &str) -> Result<Option<StoredConnection>> {
        let conn = self.conn()?;
        let raw = conn
            .query_row(
                "SELECT id, name, settings, secret_fields, created_at, updated_at FROM connections WHERE name = ?1",
                [name],
                raw_connection,
            )
            .optional()?;
        raw.map(decode_connection).transpose()
    }

    pub fn insert_connection(
        &self,
        name: &str,
        settings: &ConnectionSettings,
        secret_fields: &[String],
    ) -> Result<StoredConnection> {
        if !insert_connection_row(&*self.conn()?, name, settings, secret_fields)? {
            return Err(Error::Conflict(format!("a connection named {name:?} already exists")));
        }
        self.require_connection(name)
    }

    /// Replaces settings (and possibly the name) of an existing connection.
    pub fn update_connection(
        &self,
        name: &str,
        new_name: &str,
        settings: &ConnectionSettings,
        secret_fields: &[String],
    ) -> Result<StoredConnection> {
        {
            let conn = self.conn()?;
            if new_name != name {
                let taken: bool = conn.query_row(
                    "SELECT count(*) > 0 FROM connections WHERE name = ?1",
                    [new_name],
                    |r| r.get(0),
                )?;
                if taken {
                    return Err(Error::Conflict(format!("a connection named {new_name:?} already exists")));
                }
            }
            let changed = conn.execute(
                "UPDATE connections SET name = ?2, kind = ?3, settings = ?4, secret_fields = ?5, updated_at = ?6 \
                 WHERE name = ?1",
                params![name, new_name, settings.kind().name(), to_json(settings)?, to_json(&secret_fields)?, now()],
            )?;
            if changed == 0 {
                return Err(no_connection(name));
            }
        }
        self.require_connection(new_name)
    }

    /// Deletes the connection and its saved queries; false when there was none.
    pub fn delete_connection(&self, name: &str) -> Result<bool> {
        Ok(self.conn()?.execute("DELETE FROM connections WHERE name = ?1", [name])? > 0)
    }

    pub fn require_connection(&self, name: &str) -> Result<StoredConnection> {
        self.get_connection(name)?.ok_or_else(|| no_connection(name))
    }

    // ---- saved queries -----------------------------------------------------------------

    /// The saved-query generation widgets.json is about to describe.
    pub fn widgets_generation(&self) -> u64 {
        self.widgets_changed.load(Ordering::Acquire)
    }

    /// Records that a client was sent widgets.json built at `generation`.
    pub fn widgets_served(&self, generation: u64) {
        self.widgets_served.fetch_max(generation, Ordering::AcqRel);
    }

    /// Whether saved queries changed since widgets.json was last sent.
    pub fn widgets_stale(&self) -> bool {
        self.widgets_changed.load(Ordering::Acquire) > self.widgets_served.load(Ordering::Acquire)
    }

    fn widgets_change(&self) {
        self.widgets_changed.fetch_add(1, Ordering::AcqRel);
    }

    pub fn list_queries(&self, connection: Option<&str>) -> Result<Vec<SavedQuery>> {
        let conn = self.conn()?;
        let mut stmt =
            conn.prepare(&format!("{QUERY_SELECT} WHERE (?1 IS NULL OR c.name = ?1) ORDER BY q.id"))?;
        let rows = stmt.query_map([connection], raw_query)?.collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(decode_query).collect()
    }

    pub fn get_query(&self, id: i64) -> Result<Option<SavedQuery>> {
        let conn = self.conn()?;
        let raw = conn.query_row(&format!("{QUERY_SELECT} WHERE q.id = ?1"), [id], raw_query).optional()?;
        raw.map(decode_query).transpose()
    }

    pub fn require_query(&self, id: i64) -> Result<SavedQuery> {
        self.get_query(id)?.ok_or_else(|| Error::NotFound(format!("there is no saved query with id {id}")))
    }

    pub fn insert_query(&self, query: &NewQuery) -> Result<SavedQuery> {
        let id = {
            let conn = self.conn()?;
            let connection_id = connection_id(&conn, &query.connection)?;
            conn.execute(
                &format!(
                    "INSERT INTO queries (id, connection_id, name, sql, description, params, created_at, \
                     updated_at, parameters, display, refresh_interval, row_limit, category) \
                     VALUES ({}, ?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10, ?11)",
                    next_id("queries")
                ),
                params![
                    connection_id,
                    query.name,
                    query.sql,
                    query.description,
                    to_json(&query.params)?,
                    now(),
                    to_json(&query.widget.parameters)?,
                    to_json(&query.widget.display)?,
                    query.widget.refresh_interval.map(sql_int),
                    query.widget.row_limit.map(sql_int),
                    query.widget.category,
                ],
            )?;
            conn.last_insert_rowid()
        };
        self.widgets_change();
        self.require_query(id)
    }

    pub fn update_query(&self, id: i64, query: &NewQuery) -> Result<SavedQuery> {
        {
            let conn = self.conn()?;
            let connection_id = connection_id(&conn, &query.connection)?;
            let changed = conn.execute(
                "UPDATE queries SET connection_id = ?2, name = ?3, sql = ?4, description = ?5, params = ?6, \
                 updated_at = ?7, columns = CASE WHEN sql = ?4 AND connection_id = ?2 THEN columns END, \
                 parameters = ?8, display = ?9, refresh_interval = ?10, row_limit = ?11, category = ?12 \
                 WHERE id = ?1",
                params![
                    id,
                    connection_id,
                    query.name,
                    query.sql,
                    query.description,
                    to_json(&query.params)?,
                    now(),
                    to_json(&query.widget.parameters)?,
                    to_json(&query.widget.display)?,
                    query.widget.refresh_interval.map(sql_int),
                    query.widget.row_limit.map(sql_int),
                    query.widget.category,
                ],
            )?;
            if changed == 0 {
                return Err(Error::NotFound(format!("there is no saved query with id {id}")));
            }
        }
        self.widgets_change();
        self.require_query(id)
    }

    /// The stored column lists (JSON) of the saved queries that have one, by id.
    pub fn stored_query_columns(&self) -> Result<std::collections::HashMap<i64, String>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare("SELECT id, columns FROM queries WHERE columns IS NOT NULL")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Stores the columns learned for saved query `id` when it has none (a change of its SQL or
    /// connection clears them), unless its SQL changed meanwhile.
    pub fn store_query_columns(&self, id: i64, sql: &str, columns: &str) -> Result<()> {
        self.conn()?.execute(
            "UPDATE queries SET columns = ?3 WHERE id = ?1 AND sql = ?2 AND columns IS NULL",
            params![id, sql, columns],
        )?;
        Ok(())
    }

    /// The result cache policy (JSON) of saved query `id`; `None` when it has none.
    pub fn query_cache_policy(&self, id: i64) -> Result<Option<String>> {
        let conn = self.conn()?;
        let policy = conn
            .query_row("SELECT cache FROM queries WHERE id = ?1", [id], |r| r.get::<_, Option<String>>(0))
            .optional()?;
        Ok(policy.flatten())
    }

    /// Sets (or with `None` clears) the result cache policy of saved query `id`; false when
    /// there is no such query.
    pub fn set_query_cache_policy(&self, id: i64, policy: Option<&str>) -> Result<bool> {
        Ok(self.conn()?.execute("UPDATE queries SET cache = ?2 WHERE id = ?1", params![id, policy])? > 0)
    }

    pub fn delete_query(&self, id: i64) -> Result<bool> {
        let deleted = self.conn()?.execute("DELETE FROM queries WHERE id = ?1", [id])? > 0;
        if deleted {
            self.widgets_change();
        }
        Ok(deleted)
    }

    // ---- query log ---------------------------------------------------------------------

    /// Queues an entry for the log writer, which commits entries in batches and trims the log
    /// to its newest `keep` entries.
    pub fn append_log(&self, entry: &LogEntry, keep: u64) -> Result<()> {
        self.log.append(entry.clone(), keep);
        Ok(())
    }

    /// Commits every queued log entry; the server calls it when it stops.
    pub fn flush_log(&self) {
        self.log.flush();
    }

    pub fn recent_log(&self, limit: u64) -> Result<Vec<LogEntry>> {
        self.log.flush();
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT id, at, source, connection, sql, rows, duration_ms, outcome, error FROM query_log \
             ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok(LogEntry {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    source: r.get(2)?,
                    connection: r.get(3)?,
                    sql: r.get(4)?,
                    rows: r.get::<_, i64>(5)?.max(0) as u64,
                    duration_ms: r.get(6)?,
                    outcome: r.get(7)?,
                    error: r.get(8)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

/// The id the next row of `table` gets: one past the highest it ever issued, so a deleted
/// row's id never comes back (migration 3). `table` is one of our own table names.
pub(crate) fn next_id(table: &str) -> String {
    format!(
        "(SELECT max(coalesce((SELECT max(id) FROM {table}), 0), \
         coalesce((SELECT max_id FROM id_high_water WHERE tbl = '{table}'), 0)) + 1)"
    )
}

/// Inserts a connection row unless the name is taken; whether it did. Multi-step saves call
/// it inside their transaction.
fn insert_connection_row(
    conn: &Connection,
    name: &str,
    settings: &ConnectionSettings,
    secret_fields: &[String],
) -> Result<bool> {
    let inserted = conn.execute(
        &format!(
            "INSERT INTO connections (id, name, kind, settings, secret_fields, created_at, updated_at) \
             VALUES ({}, ?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (name) DO NOTHING",
            next_id("connections")
        ),
        params![name, settings.kind().name(), to_json(settings)?, to_json(&secret_fields)?, now()],
    )?;
    Ok(inserted > 0)
}

const QUERY_SELECT: &str = "SELECT q.id, c.name, q.name, q.sql, q.description, q.params, q.created_at, \
     q.updated_at, q.parameters, q.display, q.refresh_interval, q.row_limit, q.category \
     FROM queries q JOIN connections c ON c.id = q.connection_id";

type RawConnection = (i64, String, String, String, String, String);
struct RawQuery {
    base: (i64, String, String, String, String, String, String, String),
    parameters: String,
    display: String,
    refresh_interval: Option<i64>,
    row_limit: Option<i64>,
    category: Option<String>,
}

/// SQLite integers are signed; the settings are checked far below `i64::MAX`.
fn sql_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn raw_connection(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawConnection> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
}

fn decode_connection(
    (id, name, settings, secret_fields, created_at, updated_at): RawConnection,
) -> Result<StoredConnection> {
    Ok(StoredConnection {
        id,
        settings: from_json(&settings, &name)?,
        secret_fields: from_json(&secret_fields, &name)?,
        name,
        created_at,
        updated_at,
    })
}

fn raw_query(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawQuery> {
    Ok(RawQuery {
        base: (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?),
        parameters: r.get(8)?,
        display: r.get(9)?,
        refresh_interval: r.get(10)?,
        row_limit: r.get(11)?,
        category: r.get(12)?,
    })
}

fn decode_query(raw: RawQuery) -> Result<SavedQuery> {
    let (id, connection, name, sql, description, params, created_at, updated_at) = raw.base;
    Ok(SavedQuery {
        params: from_json(&params, &name)?,
        widget: WidgetSettings {
            parameters: from_json(&raw.parameters, &name)?,
            display: from_json(&raw.display, &name)?,
            refresh_interval: raw.refresh_interval.and_then(|n| u64::try_from(n).ok()),
            row_limit: raw.row_limit.and_then(|n| u64::try_from(n).ok()),
            category: raw.category,
        },
        id,
        connection,
        name,
        sql,
        description,
        created_at,
        updated_at,
    })
}

fn connection_id(conn: &Connection, name: &str) -> Result<i64> {
    conn.query_row("SELECT id FROM connections WHERE name = ?1", [name], |r| r.get(0))
        .optional()?
        .ok_or_else(|| no_connection(name))
}

pub fn no_connection(name: &str) -> Error {
    Error::NotFound(format!("there is no connection named {name:?}"))
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Internal(format!("cannot encode state: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::State(format!("stored record {what:?} is unreadable: {e}")))
}

/// Current UTC time, RFC 3339 with milliseconds.
pub fn now() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc().format(&format).unwrap_or_default()
}
