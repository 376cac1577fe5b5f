//! Database engines behind one trait, and the one mapping from database values to flat JSON.
//!
//! An engine is built from non-secret `ConnectionSettings` plus `Secrets` (which it sees only
//! here, when it connects), and streams results into a `ResultSink`.

#![warn(unreachable_pub)]

mod arrow_stream;
pub mod cell;
pub mod dialect;
pub mod duckdb;
pub mod error;
pub mod format;
pub mod kind;
pub mod mysql;
pub mod postgres;
pub mod privileges;
mod render;
pub mod settings;
pub mod sink;
pub mod snowflake;
pub mod sqlite;
pub(crate) mod sqlx_common;
pub mod statement;
pub mod tunnel;

pub use cell::{Cell, Column, ColumnKind};
pub use error::{ConnectorError, ErrorKind, Result};
pub use format::Format;
pub use kind::EngineKind;
pub use settings::{ConnectionSettings, EngineSettings, Secrets};
pub use sink::{ResultSink, SinkOptions, StreamEvent};

use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// A bound parameter value, from the JSON `params` array of a query request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Param {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

/// One statement to run. The server has already passed it through `statement::check`.
#[derive(Debug, Clone)]
pub struct Query {
    pub sql: String,
    pub params: Vec<Param>,
    pub timeout: Duration,
    /// Run read-only even on a connection that allows writes (MCP tools, GET requests): the
    /// engine then holds the line exactly as on a read-only connection.
    pub force_read_only: bool,
}

impl Query {
    /// A statement run with the connection's own access.
    pub fn new(sql: impl Into<String>, params: Vec<Param>, timeout: Duration) -> Self {
        Self { sql: sql.into(), params, timeout, force_read_only: false }
    }

    /// What this run may do on a connection whose `read_only` setting is `connection_read_only`.
    pub fn access(&self, connection_read_only: bool) -> statement::Access {
        statement::Access::of(connection_read_only, self.force_read_only)
    }
}

/// Named objects the connection dialogs list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Databases,
    Schemas,
    Roles,
    Warehouses,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableInfo {
    pub schema: String,
    pub name: String,
    /// `table` or `view`.
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub db_type: String,
    pub nullable: bool,
}

#[async_trait::async_trait]
pub trait Engine: Send + Sync {
    fn kind(&self) -> EngineKind;

    /// `SHA256:...` of the SSH bastion's host key when the engine connects through a tunnel, for
    /// the server to pin on first use.
    fn ssh_host_key(&self) -> Option<String> {
        None
    }

    /// One round trip to the database; the answer is its version string.
    async fn server_version(&self) -> Result<String>;

    async fn list(&self, what: Listing) -> Result<Vec<String>>;

    /// Tables and views, in every schema the connection can see when `schema` is `None`.
    async fn tables(&self, schema: Option<&str>) -> Result<Vec<TableInfo>>;

    /// Columns of one table; `NotFound` when the table does not exist.
    async fn columns(&self, schema: Option<&str>, table: &str) -> Result<Vec<ColumnInfo>>;

    /// What the login can do beyond reading (write grants, server files, administration), one
    /// sentence each, for the connection dialogs: Data Connector holds read-only connections
    /// to reading, but a login that can only read is the stronger guard. Empty when the engine
    /// has no logins (SQLite) or the login only reads.
    async fn privilege_warnings(&self) -> Result<Vec<String>> {
        Ok(Vec::new())
    }

    /// Runs the query and streams its rows into `sink`, calling `finish` on success. On failure
    /// the sink is dropped unfinished and the error returned. The engine enforces the timeout,
    /// stops when the sink reports the client gone, and refuses writes on read-only connections.
    async fn query(&self, query: Query, sink: ResultSink) -> Result<()>;

    /// Whether the statement returns more than `rows` rows, without sending them: settles the
    /// `X-Truncated` header for results too long to hold back. An engine that can tell more
    /// cheaply than `offset_probe` overrides this (SQLite counts a table read whole from its
    /// b-tree).
    async fn exceeds(
        &self,
        statement: &statement::CheckedStatement,
        query: &Query,
        rows: u64,
    ) -> Result<bool> {
        offset_probe(self, statement, query, rows).await
    }
}

/// `Engine::exceeds` for any engine: asks for the one row after the first `rows`
/// (`LIMIT 1 OFFSET rows`), which the database finds by stepping over those rows.
pub(crate) async fn offset_probe<E: Engine + ?Sized>(
    engine: &E,
    statement: &statement::CheckedStatement,
    query: &Query,
    rows: u64,
) -> Result<bool> {
    let probe = Query {
        sql: format!(
            "SELECT 1 AS dc_probe FROM {} LIMIT 1 OFFSET {rows}",
            statement.as_subquery("dc_probe_q")
        ),
        params: query.params.clone(),
        timeout: query.timeout,
        force_read_only: query.force_read_only,
    };
    let (sink, mut rx) = ResultSink::new(SinkOptions::new(Format::Ndjson, 1));
    engine.query(probe, sink).await?;
    match rx.recv().await {
        Some(StreamEvent::Complete { rows, .. }) => Ok(rows > 0),
        _ => Err(ConnectorError::internal("the truncation probe returned no result")),
    }
}

/// Connects to the database the settings describe. Secrets are used here and kept only inside
/// the driver's connection options.
pub async fn connect(settings: &ConnectionSettings, secrets: &Secrets) -> Result<Arc<dyn Engine>> {
    match settings {
        ConnectionSettings::Sqlite(s) => Ok(Arc::new(sqlite::SqliteEngine::open(s.clone()).await?)),
        ConnectionSettings::Mysql(s) => Ok(Arc::new(mysql::MysqlEngine::connect(s.clone(), secrets).await?)),
        ConnectionSettings::Postgres(s) => {
            Ok(Arc::new(postgres::PostgresEngine::connect(s.clone(), secrets).await?))
        }
        ConnectionSettings::Snowflake(s) => {
            Ok(Arc::new(snowflake::SnowflakeEngine::connect(s.clone(), secrets).await?))
        }
        ConnectionSettings::Duckdb(s) => duckdb::open(s.clone()).await,
    }
}
