//! PostgreSQL through sqlx. sqlx asks for every result column in binary, so each value is read
//! from its binary wire format (`value.rs`). A read without parameters streams as binary
//! `COPY (…) TO STDOUT` (`copy.rs`), which carries the same binary values with far less of the
//! driver's work per row; the statement is still prepared first for its columns and types.
//!
//! Reads run in `BEGIN READ ONLY` with `SET LOCAL statement_timeout` and are rolled back
//! afterwards; a client-side deadline backs the time limit up. Functions that act outside the
//! transaction (`dblink_exec`, `lo_export`, `pg_read_file`, ...) are refused on read-only runs
//! before the server sees them (`statement::check_dialect`), and every query ends by releasing
//! session-level advisory locks, so a pooled connection carries nothing to the next query. A query that is abandoned (client
//! gone, row cap, deadline, dropped future) is stopped with `pg_cancel_backend` from a separate
//! connection, and its connection is closed rather than returned to the pool.

mod caps;
mod copy;
mod error;
mod nested;
mod params;
mod schema;
mod settings;
mod value;

pub use settings::PostgresSettings;

use crate::dialect::Dialect;
use crate::error::{ConnectorError, Result};
use crate::kind::EngineKind;
use crate::settings::{Secrets, TlsMode};
use crate::sink::ResultSink;
use crate::sqlx_common::{
    admit_wire, check_parameter_count, stream_rows, unless_cancelled, within_deadline, RowWriter, Running,
    Server,
};
use crate::statement::{self, CheckedStatement};
use crate::tunnel::Tunnel;
use crate::{ColumnInfo, Engine, Listing, Query, TableInfo};
use error::{map_error, server_name};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgRow, PgSslMode, PgTypeInfo, Postgres};
use sqlx::{
    AssertSqlSafe, Column as _, ConnectOptions as _, Connection as _, Executor as _, Row as _,
    SqlSafeStr as _, Statement as _, TypeInfo as _,
};
use value::PgType;

pub struct PostgresEngine {
    server: Server<Postgres, PostgresSettings>,
    /// Fraction digits of `money` in the server's `lc_monetary`; the wire value is an integer.
    money_scale: u8,
    /// Kept for the engine's lifetime: dropping it closes the forwarded port.
    tunnel: Option<Tunnel>,
}

impl PostgresEngine {
    pub async fn connect(settings: PostgresSettings, secrets: &Secrets) -> Result<Self> {
        let (tunnel, host, port) =
            Tunnel::route(settings.ssh.as_ref(), secrets, &settings.host, settings.port).await?;
        let mut options = PgConnectOptions::new_without_pgpass()
            .host(&host)
            .port(port)
            .username(&settings.user)
            .database(settings.database.as_deref().unwrap_or("postgres"))
            .application_name("data-connector")
            .ssl_mode(match settings.tls {
                TlsMode::Disable => PgSslMode::Disable,
                TlsMode::Prefer => PgSslMode::Prefer,
                TlsMode::Require => PgSslMode::Require,
                TlsMode::VerifyCa => PgSslMode::VerifyCa,
                TlsMode::VerifyFull => PgSslMode::VerifyFull,
            });
        if let Some(password) = secrets.get("password") {
            options = options.password(password);
        }
        if let Some(ca) = &settings.ca_file {
            options = options.ssl_root_cert(ca);
        }
        let where_ = server_name(&settings);
        let (server, mut conn) =
            Server::<Postgres, _>::connect(settings, secrets, options, &where_, map_error).await?;
        let scale: i32 = sqlx::query_scalar("SELECT scale(0::money::numeric)")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| server.error(e, None))?;
        let _ = conn.close().await;
        Ok(Self { server, money_scale: u8::try_from(scale).unwrap_or(2), tunnel })
    }

    async fn run(&self, query: &Query, checked: &CheckedStatement, sink: ResultSink) -> Result<()> {
        let read_only = query.access(self.server.settings.read_only).read_only();
        let sink = if read_only && copy::suits(checked, query.params.len()) {
            match self.execute(query, checked, sink, true).await? {
                Some(sink) => sink,
                None => return Ok(()),
            }
        } else {
            sink
        };
        self.execute(query, checked, sink, false).await.map(drop)
    }

    /// Runs the statement, through binary COPY when `by_copy` (`copy.rs`). `Ok(Some(sink))` hands
    /// the untouched sink back when COPY refused the statement before its first row: it then
    /// runs again as a prepared statement, on another connection.
    async fn execute(
        &self,
        query: &Query,
        checked: &CheckedStatement,
        mut sink: ResultSink,
        by_copy: bool,
    ) -> Result<Option<ResultSink>> {
        let map_error = |e| self.server.error(e, Some(query.timeout));
        let read_only = query.access(self.server.settings.read_only).read_only();
        let mut running = Running::new(self.server.acquire().await?);
        if !checked.reads_only {
            // LISTEN, PREPARE, temporary tables, cursors WITH HOLD...: a writing statement can
            // leave state that RESET ALL does not clear, so its session is not reused. (DISCARD
            // ALL would, but it also drops the statements sqlx keeps prepared.)
            running.discard_after();
        }

        let limit_ms = query.timeout.as_millis().clamp(1, i32::MAX as u128);
        // SET LOCAL ends with the transaction; a writable connection runs outside one (so that
        // e.g. VACUUM works) and sets the session value before every statement instead.
        let (setup, end) = if read_only {
            // Rolled back, never committed: a read has nothing to keep, and the few writes READ
            // ONLY does not catch (`lo_create`) are undone.
            // Advisory locks taken with pg_advisory_lock belong to the session and survive the
            // rollback.
            (
                format!("BEGIN READ ONLY; SET LOCAL statement_timeout = {limit_ms}; SELECT pg_backend_pid()"),
                "ROLLBACK; SELECT pg_advisory_unlock_all()",
            )
        } else {
            // RESET ALL also undoes what the statement itself set (set_config(..., false)).
            (
                format!("SET statement_timeout = {limit_ms}; SELECT pg_backend_pid()"),
                "RESET ALL; SELECT pg_advisory_unlock_all()",
            )
        };
        let pid: i32 = running.session_id(setup, "pg_backend_pid()", map_error).await?;
        let options = self.server.options.clone();
        running.stop_with(
            format!("cancel PostgreSQL query of backend {pid}"),
            self.server.secrets.clone(),
            async move {
                let mut conn = options.connect().await?;
                sqlx::query("SELECT pg_cancel_backend($1)").bind(pid).execute(&mut conn).await?;
                conn.close().await
            },
        );

        // Parameter types go into the statement (the server must know them to read the binary
        // values), but sqlx caches prepared statements by their text alone; the type signature
        // in a trailing comment keeps the same SQL with other parameter types apart.
        let param_types: Vec<PgTypeInfo> = query.params.iter().map(params::param_type).collect();
        let signed = |sql: &str| {
            if param_types.is_empty() {
                sql.to_string()
            } else {
                let signature: Vec<&str> = param_types.iter().map(|t| t.name()).collect();
                format!("{sql}\n/* dc:{} */", signature.join(","))
            }
        };
        let prepared = (&mut *running.conn)
            .prepare_with(AssertSqlSafe(signed(&query.sql)).into_sql_str(), &param_types)
            .await;
        let statement = match prepared {
            Ok(statement) => statement,
            Err(e) => return running.fail(end, map_error(e)).await,
        };
        if let Err(error) = check_parameter_count(statement.parameters(), query.params.len()) {
            return running.fail(end, error).await;
        }
        let (columns, types) = value::describe(statement.columns(), self.money_scale);
        if let Some((column, why)) =
            columns.iter().zip(&types).find_map(|(c, t)| t.unsupported().map(|w| (c, w)))
        {
            let error = ConnectorError::unsupported(format!(
                "column \"{}\" has type {why}, which cannot be shown yet; cast it in the query, e.g. \
                 {}::text",
                column.name, column.name
            ));
            return running.fail(end, error).await;
        }
        let (max_value, max_row) = (sink.max_value_bytes(), sink.max_row_bytes());
        let guarded = caps::guarded(&checked.body, checked, &columns, &types, max_value, max_row);
        if by_copy {
            let sql = copy::statement(guarded.as_deref().unwrap_or(&query.sql));
            let outcome = match unless_cancelled(&sink, running.conn.copy_out_raw(&sql)).await {
                None => return Err(ConnectorError::cancelled()),
                Some(Ok(mut messages)) => {
                    sink.set_columns(columns.clone());
                    Some(copy::stream(&mut messages, &mut sink, &columns, &types, map_error).await)
                }
                Some(Err(_)) => None,
            };
            let Some(outcome) = outcome else {
                // COPY takes fewer kinds of query than a prepared statement (a WITH holding a
                // write must be at the top level); the statement did not run. sqlx leaves the
                // connection out of step after a refused COPY, so it is not reused.
                running.close_unused();
                return Ok(Some(sink));
            };
            let outcome = outcome.map_err(|(e, over)| (caps::explain(e, &columns, max_value, max_row), over));
            return running.conclude(outcome, sink, end).await.map(|()| None);
        }
        let statement = match guarded {
            Some(sql) => {
                let wrapped = (&mut *running.conn)
                    .prepare_with(AssertSqlSafe(signed(&sql)).into_sql_str(), &param_types)
                    .await;
                match wrapped {
                    Ok(wrapped) => wrapped,
                    // A statement the wrapping does not suit runs as it is, with the caps checked
                    // here as its rows arrive. The failed prepare aborted the read-only
                    // transaction, so it starts again (prepared statements outlive it).
                    Err(_) if read_only => {
                        let restart =
                            format!("ROLLBACK; BEGIN READ ONLY; SET LOCAL statement_timeout = {limit_ms}");
                        if let Err(e) =
                            sqlx::raw_sql(AssertSqlSafe(restart)).execute(&mut *running.conn).await
                        {
                            return running.fail(end, map_error(e)).await;
                        }
                        statement
                    }
                    Err(_) => statement,
                }
            }
            None => statement,
        };
        sink.set_columns(columns.clone());
        let mut args = PgArguments::default();
        for param in &query.params {
            params::bind(&mut args, param)?;
        }

        let outcome = {
            let mut rows = statement.query_with(args).fetch(&mut *running.conn);
            stream_rows(&mut rows, &mut sink, &mut Decoders(&types), map_error).await
        };
        let outcome = outcome.map_err(|(e, over)| (caps::explain(e, &columns, max_value, max_row), over));
        running.conclude(outcome, sink, end).await.map(|()| None)
    }
}

#[async_trait::async_trait]
impl Engine for PostgresEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Postgres
    }

    fn ssh_host_key(&self) -> Option<String> {
        self.tunnel.as_ref().map(|t| t.host_key().to_string())
    }

    async fn server_version(&self) -> Result<String> {
        schema::version(&self.server).await
    }

    async fn list(&self, what: Listing) -> Result<Vec<String>> {
        schema::list(&self.server, what).await
    }

    async fn privilege_warnings(&self) -> Result<Vec<String>> {
        schema::privilege_warnings(&self.server).await
    }

    async fn tables(&self, schema: Option<&str>) -> Result<Vec<TableInfo>> {
        schema::tables(&self.server, schema).await
    }

    async fn columns(&self, schema: Option<&str>, table: &str) -> Result<Vec<ColumnInfo>> {
        schema::columns(&self.server, schema, table).await
    }

    async fn query(&self, query: Query, sink: ResultSink) -> Result<()> {
        let access = query.access(self.server.settings.read_only);
        let checked = statement::check_dialect(&query.sql, Dialect::Postgres, access)?;
        within_deadline(query.timeout, self.run(&query, &checked, sink)).await
    }
}

/// The result's decoders, known from the prepared statement before any row arrives.
struct Decoders<'a>(&'a [PgType]);

impl RowWriter<PgRow> for Decoders<'_> {
    fn write(&mut self, row: &PgRow, sink: &mut ResultSink) -> Result<()> {
        for (i, ty) in self.0.iter().enumerate() {
            let bytes = value::wire_bytes(row, i);
            admit_wire(sink, i, &bytes)?;
            let cell = bytes.and_then(|b| value::cell_of(b, ty)).map_err(|why| {
                let column = row.columns().get(i).map_or("?", |c| c.name());
                let type_name = row.columns().get(i).map_or("?", |c| c.type_info().name());
                ConnectorError::unreadable(column, type_name, &why)
            })?;
            sink.cell(&cell);
        }
        Ok(())
    }
}
