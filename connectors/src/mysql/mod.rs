//! MySQL and MariaDB through sqlx. Every user statement is prepared, so rows arrive in the binary
//! protocol and each value is read straight from its wire bytes (`value.rs`).
//!
//! Reads run in `START TRANSACTION READ ONLY` on read-only connections (and in runs forced
//! read-only) and are rolled back afterwards; `INTO OUTFILE`/`INTO DUMPFILE`, which such a
//! transaction allows, is refused before it reaches the server (`statement::check_dialect`, with
//! MySQL's own comment rules). Session state does not outlive a query on a pooled connection:
//! locks are released with the rollback, and a statement that names variables (or writes) gets
//! a connection that is closed afterwards instead of reused. The server's own statement time limit
//! (`max_execution_time` on MySQL, `max_statement_time` on MariaDB) is set per query, with a
//! client-side deadline behind it. A query that is abandoned (client gone, row cap, deadline,
//! dropped future) is stopped with `KILL QUERY` from a separate connection, and its connection is
//! closed rather than returned to the pool.

mod error;
mod params;
mod schema;
mod settings;
mod value;

pub use settings::MysqlSettings;

use crate::dialect::Dialect;
use crate::error::{ConnectorError, Result};
use crate::kind::EngineKind;
use crate::settings::{Secrets, TlsMode};
use crate::sink::ResultSink;
use crate::sqlx_common::{
    admit_wire, check_parameter_count, stream_rows, within_deadline, RowWriter, Running, Server,
};
use crate::statement::{self, CheckedStatement};
use crate::tunnel::Tunnel;
use crate::{ColumnInfo, Engine, Listing, Query, TableInfo};
use error::{map_error, server_name};
use sqlx::mysql::{MySql, MySqlArguments, MySqlConnectOptions, MySqlRow, MySqlSslMode};
use sqlx::{
    AssertSqlSafe, Column as _, ConnectOptions as _, Connection as _, Executor as _, Row as _,
    SqlSafeStr as _, Statement as _,
};
use value::MysqlType;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    MySql,
    MariaDb,
}

pub struct MysqlEngine {
    server: Server<MySql, MysqlSettings>,
    flavor: Flavor,
    /// `RELEASE_ALL_LOCKS()` exists (MySQL 5.7+, MariaDB 10.5+): every query ends with it.
    releases_locks: bool,
    /// Kept for the engine's lifetime: dropping it closes the forwarded port.
    tunnel: Option<Tunnel>,
}

impl MysqlEngine {
    pub async fn connect(settings: MysqlSettings, secrets: &Secrets) -> Result<Self> {
        let (tunnel, host, port) =
            Tunnel::route(settings.ssh.as_ref(), secrets, &settings.host, settings.port).await?;
        let mut options = MySqlConnectOptions::new()
            .host(&host)
            .port(port)
            .username(&settings.user)
            .ssl_mode(match settings.tls {
                TlsMode::Disable => MySqlSslMode::Disabled,
                TlsMode::Prefer => MySqlSslMode::Preferred,
                TlsMode::Require => MySqlSslMode::Required,
                TlsMode::VerifyCa => MySqlSslMode::VerifyCa,
                TlsMode::VerifyFull => MySqlSslMode::VerifyIdentity,
            })
            // sqlx would add PIPES_AS_CONCAT to sql_mode, changing what `||` means in the
            // user's SQL; the server's own mode is what the user expects.
            .pipes_as_concat(false)
            .no_engine_substitution(false)
            // TIMESTAMP values then arrive in UTC, which `to_cell` marks with +00:00.
            .timezone(Some("+00:00".to_string()))
            .charset("utf8mb4");
        if let Some(password) = secrets.get("password") {
            options = options.password(password);
        }
        if let Some(database) = &settings.database {
            options = options.database(database);
        }
        if let Some(ca) = &settings.ca_file {
            options = options.ssl_ca(ca);
        }
        let where_ = server_name(&settings);
        let (server, mut conn) =
            Server::<MySql, _>::connect(settings, secrets, options, &where_, map_error).await?;
        let version: String = sqlx::query_scalar("SELECT VERSION()")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| server.error(e, None))?;
        let releases_locks = sqlx::raw_sql("DO RELEASE_ALL_LOCKS()").execute(&mut conn).await.is_ok();
        let _ = conn.close().await;
        let flavor = if version.contains("MariaDB") { Flavor::MariaDb } else { Flavor::MySql };
        Ok(Self { server, flavor, releases_locks, tunnel })
    }

    /// Whether the statement may leave state on its session that `end` does not undo: user or
    /// system variables it sets, anything a write statement leaves (temporary tables, `SET`,
    /// `LOCK TABLES`), or, on servers without `RELEASE_ALL_LOCKS`, a named lock.
    fn leaves_session_state(&self, checked: &CheckedStatement, sql: &str) -> bool {
        !checked.reads_only
            || statement::mysql_names_variables(sql)
            || (!self.releases_locks && sql.to_ascii_lowercase().contains("lock"))
    }

    async fn run(&self, query: &Query, checked: &CheckedStatement, mut sink: ResultSink) -> Result<()> {
        let map_error = |e| self.server.error(e, Some(query.timeout));
        let mut running = Running::new(self.server.acquire().await?);
        if self.leaves_session_state(checked, &query.sql) {
            running.discard_after();
        }

        let limit_ms = query.timeout.as_millis().clamp(1, u128::from(u32::MAX));
        let (variable, limit) = match self.flavor {
            // MariaDB takes seconds with microsecond precision.
            Flavor::MariaDb => ("max_statement_time", format!("{:.3}", limit_ms as f64 / 1000.0)),
            // MySQL applies it to SELECT only; other statements (on writable connections) have the
            // client-side deadline and KILL QUERY.
            Flavor::MySql => ("max_execution_time", limit_ms.to_string()),
        };
        let mut setup = format!("SET SESSION {variable} = {limit};");
        // The limit must not outlive the query on the pooled connection (a 1 ms limit would
        // break the next listing), and a read has nothing to commit.
        let mut end = format!("SET SESSION {variable} = DEFAULT");
        if self.releases_locks {
            // GET_LOCK locks belong to the session, not the transaction: without this they
            // would stay held on the pooled connection after the query.
            end.push_str("; DO RELEASE_ALL_LOCKS()");
        }
        if query.access(self.server.settings.read_only).read_only() {
            setup.push_str("START TRANSACTION READ ONLY;");
            end.insert_str(0, "ROLLBACK;");
        }
        setup.push_str("SELECT CONNECTION_ID()");
        let id: u64 = running.session_id(setup, "CONNECTION_ID()", map_error).await?;
        let options = self.server.options.clone();
        running.stop_with(
            format!("stop MySQL query on connection {id}"),
            self.server.secrets.clone(),
            async move {
                let mut conn = options.connect().await?;
                conn.execute(AssertSqlSafe(format!("KILL QUERY {id}"))).await?;
                conn.close().await
            },
        );

        let prepared = (&mut *running.conn).prepare(AssertSqlSafe(query.sql.clone()).into_sql_str()).await;
        let statement = match prepared {
            Ok(statement) => statement,
            Err(e) => return running.fail(&end, map_error(e)).await,
        };
        if let Err(error) = check_parameter_count(statement.parameters(), query.params.len()) {
            return running.fail(&end, error).await;
        }
        let mut args = MySqlArguments::default();
        for param in &query.params {
            params::bind(&mut args, param)?;
        }

        let mut decoders = Decoders(None);
        let outcome = {
            let mut rows = statement.query_with(args).fetch(&mut *running.conn);
            stream_rows(&mut rows, &mut sink, &mut decoders, map_error).await
        };
        if outcome.is_ok() && decoders.0.is_none() {
            sink.set_columns(value::describe(statement.columns()).0);
        }
        running.conclude(outcome, sink, &end).await
    }
}

#[async_trait::async_trait]
impl Engine for MysqlEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Mysql
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
        let checked = statement::check_dialect(&query.sql, Dialect::Mysql, access)?;
        within_deadline(query.timeout, self.run(&query, &checked, sink)).await
    }
}

/// The result's decoders, once the first row has named its columns.
struct Decoders(Option<Vec<MysqlType>>);

impl RowWriter<MySqlRow> for Decoders {
    fn prepare(&mut self, row: &MySqlRow, sink: &mut ResultSink) -> Result<()> {
        match &self.0 {
            Some(types) if types.len() == row.len() => Ok(()),
            Some(_) => Err(ConnectorError::unsupported("the statement returned more than one result set")),
            None => {
                let (columns, types) = value::describe(row.columns());
                sink.set_columns(columns);
                self.0 = Some(types);
                Ok(())
            }
        }
    }

    fn write(&mut self, row: &MySqlRow, sink: &mut ResultSink) -> Result<()> {
        let types = self.0.as_deref().unwrap_or_default();
        for (i, ty) in types.iter().enumerate() {
            let bytes = value::wire_bytes(row, i);
            admit_wire(sink, i, &bytes)?;
            let cell = bytes.and_then(|b| value::cell_of(b, *ty)).map_err(|why| {
                let column = row.columns().get(i).map_or("?", |c| c.name());
                ConnectorError::unreadable(column, ty.name(), &why)
            })?;
            sink.cell(&cell);
        }
        Ok(())
    }
}
