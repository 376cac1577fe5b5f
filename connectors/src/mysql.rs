//! MySQL and MariaDB through sqlx. Every user statement is prepared, so rows arrive in the binary
//! protocol and each value is read straight from its wire bytes (`to_cell`): DECIMAL keeps the
//! server's digits, TIME may be negative or past 24 h, zero dates are no surprise.
//!
//! Reads run in `START TRANSACTION READ ONLY` on read-only connections (and in runs forced
//! read-only) and are rolled back
//! afterwards; `INTO OUTFILE`/`INTO DUMPFILE`, which such a transaction allows, is refused before
//! it reaches the server. The server's own statement time limit (`max_execution_time` on MySQL, `max_statement_time` on MariaDB) is set
//! per query, with a client-side deadline behind it. A query that is abandoned (client gone,
//! row cap, deadline, dropped future) is stopped with `KILL QUERY` from a separate connection,
//! and its connection is closed rather than returned to the pool.

use crate::cell::{Cell, Column, ColumnKind};
use crate::error::{ConnectorError, ErrorKind, Result};
use crate::settings::{default_true, Secrets, TlsMode};
use crate::sink::ResultSink;
use crate::sqlx_common::{
    check_parameter_count, connect_once, describe_transport_error, pool_options, stream_rows,
    within_deadline, within_listing_timeout, ErrorContext, RowWriter, Running,
};
use crate::{ColumnInfo, Engine, Listing, Param, Query, TableInfo};
use serde::{Deserialize, Serialize};
use sqlx::mysql::{
    MySql, MySqlArguments, MySqlConnectOptions, MySqlDatabaseError, MySqlPool, MySqlRow, MySqlSslMode,
    MySqlTypeInfo, MySqlValueRef,
};
use sqlx::pool::PoolConnection;
use sqlx::{
    Arguments as _, AssertSqlSafe, Column as _, ConnectOptions as _, Connection as _, Decode, Executor as _,
    Row as _, SqlSafeStr as _, Statement as _, Type, TypeInfo as _, ValueRef as _,
};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MysqlSettings {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    /// Default database; listings and unqualified table names use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    pub user: String,
    #[serde(default)]
    pub tls: TlsMode,
    /// PEM file of the CA that signed the server's certificate (for `verify-ca`/`verify-full`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_true")]
    pub read_only: bool,
}

fn default_port() -> u16 {
    3306
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    MySql,
    MariaDb,
}

pub struct MysqlEngine {
    settings: MysqlSettings,
    pool: MySqlPool,
    /// For the separate connections that kill abandoned queries.
    options: Arc<MySqlConnectOptions>,
    flavor: Flavor,
    secrets: Arc<[String]>,
}

impl MysqlEngine {
    /// Connects once directly, so a wrong password or an unreachable host is reported as such
    /// (the pool would retry a refused connection until its timeout and say only "timed out").
    pub async fn connect(settings: MysqlSettings, secrets: &Secrets) -> Result<Self> {
        let secret_values: Arc<[String]> = secrets.values().map(str::to_string).collect();
        let ctx = ErrorContext { secrets: &secret_values, timeout: None, settings: &settings };
        let mut options = MySqlConnectOptions::new()
            .host(&settings.host)
            .port(settings.port)
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
        let mut conn =
            connect_once(&options, &server_name(&settings)).await?.map_err(|e| map_error(e, &ctx))?;
        let version: String = sqlx::query_scalar("SELECT VERSION()")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| map_error(e, &ctx))?;
        let _ = conn.close().await;
        let flavor = if version.contains("MariaDB") { Flavor::MariaDb } else { Flavor::MySql };
        let pool = pool_options().connect_lazy_with(options.clone());
        Ok(Self { settings, pool, options: Arc::new(options), flavor, secrets: secret_values })
    }

    fn ctx(&self, timeout: Option<Duration>) -> ErrorContext<'_, MysqlSettings> {
        ErrorContext { secrets: &self.secrets, timeout, settings: &self.settings }
    }

    async fn acquire(&self) -> Result<PoolConnection<MySql>> {
        self.pool.acquire().await.map_err(|e| map_error(e, &self.ctx(None)))
    }

    /// Runs a fixed catalog query and returns its rows as text, bound by the listing timeout.
    async fn catalog(&self, sql: &'static str, binds: &[Option<&str>]) -> Result<Vec<Vec<String>>> {
        let work = async {
            let mut conn = self.acquire().await?;
            let mut query = sqlx::query(sql);
            for bind in binds {
                query = query.bind(bind.map(str::to_string));
            }
            let rows = query.fetch_all(&mut *conn).await.map_err(|e| map_error(e, &self.ctx(None)))?;
            rows.iter()
                .map(|row| (0..row.len()).map(|i| text_at(row, i)).collect::<Result<Vec<_>>>())
                .collect()
        };
        within_listing_timeout(work).await
    }

    async fn run(&self, query: &Query, mut sink: ResultSink) -> Result<()> {
        let ctx = self.ctx(Some(query.timeout));
        let mut running = Running::new(self.acquire().await?);

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
        if query.access(self.settings.read_only).read_only() {
            setup.push_str("START TRANSACTION READ ONLY;");
            end.insert_str(0, "ROLLBACK;");
        }
        setup.push_str("SELECT CONNECTION_ID()");
        let id: u64 = running.session_id(setup, "CONNECTION_ID()", |e| map_error(e, &ctx)).await?;
        let options = self.options.clone();
        running.stop_with(format!("stop MySQL query on connection {id}"), self.secrets.clone(), async move {
            let mut conn = options.connect().await?;
            conn.execute(AssertSqlSafe(format!("KILL QUERY {id}"))).await?;
            conn.close().await
        });

        let prepared = (&mut *running.conn).prepare(AssertSqlSafe(query.sql.clone()).into_sql_str()).await;
        let statement = match prepared {
            Ok(statement) => statement,
            Err(e) => return running.fail(&end, map_error(e, &ctx)).await,
        };
        if let Err(error) = check_parameter_count(statement.parameters(), query.params.len()) {
            return running.fail(&end, error).await;
        }
        let mut args = MySqlArguments::default();
        for param in &query.params {
            bind(&mut args, param)?;
        }

        let mut decoders = Decoders(None);
        let outcome = {
            let mut rows = statement.query_with(args).fetch(&mut *running.conn);
            stream_rows(&mut rows, &mut sink, &mut decoders, |e| map_error(e, &ctx)).await
        };
        if outcome.is_ok() && decoders.0.is_none() {
            sink.set_columns(describe(statement.columns()).0);
        }
        running.conclude(outcome, sink, &end).await
    }
}

#[async_trait::async_trait]
impl Engine for MysqlEngine {
    fn kind(&self) -> &'static str {
        "mysql"
    }

    async fn server_version(&self) -> Result<String> {
        let rows = self.catalog("SELECT VERSION()", &[]).await?;
        let version = rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .ok_or_else(|| ConnectorError::internal("the server did not report its version"))?;
        Ok(describe_version(&version))
    }

    async fn list(&self, what: Listing) -> Result<Vec<String>> {
        match what {
            // A MySQL schema is a database.
            Listing::Databases | Listing::Schemas => Ok(self
                .catalog("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME", &[])
                .await?
                .into_iter()
                .filter_map(|r| r.into_iter().next())
                .collect()),
            Listing::Roles | Listing::Warehouses => Err(ConnectorError::unsupported(
                "MySQL/MariaDB connections have no roles or warehouses to pick",
            )),
        }
    }

    async fn tables(&self, schema: Option<&str>) -> Result<Vec<TableInfo>> {
        let rows = self
            .catalog(
                "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES \
                 WHERE (? IS NULL AND TABLE_SCHEMA NOT IN \
                        ('information_schema', 'mysql', 'performance_schema', 'sys')) \
                    OR TABLE_SCHEMA = ? \
                 ORDER BY TABLE_SCHEMA, TABLE_NAME",
                &[schema, schema],
            )
            .await?;
        if rows.is_empty() {
            if let Some(schema) = schema {
                let found = self
                    .catalog(
                        "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                        &[Some(schema)],
                    )
                    .await?;
                if found.is_empty() {
                    return Err(ConnectorError::not_found(format!("database {schema} does not exist")));
                }
            }
        }
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let [schema, name, kind]: [String; 3] = r.try_into().ok()?;
                let kind = if kind.contains("VIEW") { "view" } else { "table" };
                Some(TableInfo { schema, name, kind: kind.into() })
            })
            .collect())
    }

    async fn columns(&self, schema: Option<&str>, table: &str) -> Result<Vec<ColumnInfo>> {
        let rows = self
            .catalog(
                "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? \
                 ORDER BY ORDINAL_POSITION",
                &[schema, Some(table)],
            )
            .await?;
        if rows.is_empty() {
            return Err(ConnectorError::not_found(match (schema, &self.settings.database) {
                (Some(schema), _) => format!("table {schema}.{table} does not exist"),
                (None, Some(db)) => format!("table {table} does not exist in database {db}"),
                (None, None) => {
                    format!("table {table} not found: the connection has no default database, give a schema")
                }
            }));
        }
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let [name, db_type, nullable]: [String; 3] = r.try_into().ok()?;
                Some(ColumnInfo { name, db_type, nullable: nullable.eq_ignore_ascii_case("YES") })
            })
            .collect())
    }

    async fn query(&self, query: Query, sink: ResultSink) -> Result<()> {
        let access = query.access(self.settings.read_only);
        if access.read_only() && writes_a_file(&query.sql) {
            return Err(ConnectorError::read_only(format!(
                "{} and SELECT ... INTO OUTFILE/DUMPFILE writes a file on the database server",
                access.refuser()
            )));
        }
        within_deadline(query.timeout, self.run(&query, sink)).await
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
                let (columns, types) = describe(row.columns());
                sink.set_columns(columns);
                self.0 = Some(types);
                Ok(())
            }
        }
    }

    fn write(&mut self, row: &MySqlRow, sink: &mut ResultSink) -> Result<()> {
        write_row(row, self.0.as_deref().unwrap_or_default(), sink)
    }
}

fn bind(args: &mut MySqlArguments, param: &Param) -> Result<()> {
    let added = match param {
        Param::Null => args.add(None::<String>),
        Param::Bool(v) => args.add(*v),
        Param::Int(v) => args.add(*v),
        Param::Float(v) => args.add(*v),
        Param::Text(v) => args.add(v.clone()),
    };
    added.map_err(|e| ConnectorError::invalid(format!("cannot bind parameter: {e}")))
}

fn write_row(row: &MySqlRow, types: &[MysqlType], sink: &mut ResultSink) -> Result<()> {
    for (i, ty) in types.iter().enumerate() {
        let cell = cell_at(row, i, *ty).map_err(|why| {
            let column = row.columns().get(i).map_or("?", |c| c.name());
            ConnectorError::internal(format!("cannot read column \"{column}\" ({}): {why}", ty.name()))
        })?;
        sink.cell(&cell);
    }
    Ok(())
}

fn cell_at(row: &MySqlRow, i: usize, ty: MysqlType) -> Result<Cell<'_>, String> {
    let value = row.try_get_raw(i).map_err(|e| e.to_string())?;
    // sqlx reports zero dates ('0000-00-00') as NULL too; there is no such day to show.
    if value.is_null() {
        return Ok(Cell::Null);
    }
    to_cell(ty, raw_bytes(value)?)
}

fn raw_bytes(value: MySqlValueRef<'_>) -> Result<&[u8], String> {
    <&[u8] as Decode<MySql>>::decode(value).map_err(|e| e.to_string())
}

/// Reads a catalog value as text whatever its declared type or collation.
fn text_at(row: &MySqlRow, i: usize) -> Result<String> {
    let value = row.try_get_raw(i).map_err(|e| ConnectorError::internal(e.to_string()))?;
    if value.is_null() {
        return Ok(String::new());
    }
    let bytes = raw_bytes(value).map_err(ConnectorError::internal)?;
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// How to read one result column's binary-protocol bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MysqlType {
    /// TINYINT(1), which MySQL also calls BOOL/BOOLEAN.
    Bool {
        unsigned: bool,
    },
    TinyInt {
        unsigned: bool,
    },
    SmallInt {
        unsigned: bool,
    },
    /// INT and MEDIUMINT: both travel as 4 bytes.
    Int {
        unsigned: bool,
    },
    BigInt {
        unsigned: bool,
    },
    Float,
    Double,
    Decimal,
    Bit,
    Year,
    Date,
    DateTime,
    Timestamp,
    Time,
    Text,
    Json,
    Binary,
    Geometry,
    Null,
}

impl MysqlType {
    /// From the column's type as sqlx reports it. Whether a string column is text is decided by
    /// its collation (sqlx's `str` compatibility check), not by the BINARY flag, which MySQL
    /// also sets for text in `_bin` collations such as MariaDB's JSON columns.
    pub fn of(ty: &MySqlTypeInfo) -> (Self, Cow<'static, str>) {
        let unsigned = <u64 as Type<MySql>>::compatible(ty);
        let is_text = <str as Type<MySql>>::compatible(ty);
        let name = ty.name();
        let kind = match name {
            "BOOLEAN" => Self::Bool { unsigned },
            "TINYINT" | "TINYINT UNSIGNED" => Self::TinyInt { unsigned },
            "SMALLINT" | "SMALLINT UNSIGNED" => Self::SmallInt { unsigned },
            "INT" | "INT UNSIGNED" | "MEDIUMINT" | "MEDIUMINT UNSIGNED" => Self::Int { unsigned },
            "BIGINT" | "BIGINT UNSIGNED" => Self::BigInt { unsigned },
            "FLOAT" => Self::Float,
            "DOUBLE" => Self::Double,
            "DECIMAL" => Self::Decimal,
            "BIT" => Self::Bit,
            "YEAR" => Self::Year,
            "DATE" => Self::Date,
            "DATETIME" => Self::DateTime,
            "TIMESTAMP" => Self::Timestamp,
            "TIME" => Self::Time,
            "JSON" => Self::Json,
            "GEOMETRY" => Self::Geometry,
            "NULL" => Self::Null,
            _ if is_text => Self::Text,
            _ => Self::Binary,
        };
        let shown = match (kind, name) {
            (Self::Text, "BINARY") => "CHAR",
            (Self::Text, "VARBINARY") => "VARCHAR",
            (Self::Text, "TINYBLOB") => "TINYTEXT",
            (Self::Text, "BLOB") => "TEXT",
            (Self::Text, "MEDIUMBLOB") => "MEDIUMTEXT",
            (Self::Text, "LONGBLOB") => "LONGTEXT",
            (_, name) => return (kind, Cow::Owned(name.to_string())),
        };
        (kind, Cow::Borrowed(shown))
    }

    pub fn column_kind(self) -> ColumnKind {
        match self {
            Self::Bool { .. } => ColumnKind::Boolean,
            Self::TinyInt { .. } | Self::SmallInt { .. } | Self::Int { .. } | Self::BigInt { .. } => {
                ColumnKind::Integer
            }
            Self::Bit | Self::Year => ColumnKind::Integer,
            Self::Float | Self::Double => ColumnKind::Float,
            Self::Decimal => ColumnKind::Decimal,
            Self::Date => ColumnKind::Date,
            Self::DateTime | Self::Timestamp => ColumnKind::DateTime,
            Self::Time => ColumnKind::Time,
            Self::Text | Self::Geometry => ColumnKind::Text,
            Self::Json => ColumnKind::Json,
            Self::Binary => ColumnKind::Binary,
            Self::Null => ColumnKind::Other,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Bool { .. } => "BOOLEAN",
            Self::TinyInt { .. } => "TINYINT",
            Self::SmallInt { .. } => "SMALLINT",
            Self::Int { .. } => "INT",
            Self::BigInt { .. } => "BIGINT",
            Self::Float => "FLOAT",
            Self::Double => "DOUBLE",
            Self::Decimal => "DECIMAL",
            Self::Bit => "BIT",
            Self::Year => "YEAR",
            Self::Date => "DATE",
            Self::DateTime => "DATETIME",
            Self::Timestamp => "TIMESTAMP",
            Self::Time => "TIME",
            Self::Text => "TEXT",
            Self::Json => "JSON",
            Self::Binary => "BINARY",
            Self::Geometry => "GEOMETRY",
            Self::Null => "NULL",
        }
    }
}

fn describe(columns: &[sqlx::mysql::MySqlColumn]) -> (Vec<Column>, Vec<MysqlType>) {
    columns
        .iter()
        .map(|c| {
            let (ty, db_type) = MysqlType::of(c.type_info());
            (Column::new(c.name(), db_type, ty.column_kind()), ty)
        })
        .unzip()
}

fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N], String> {
    bytes.try_into().map_err(|_| format!("expected {N} bytes, got {}", bytes.len()))
}

/// The one MySQL/MariaDB value → `Cell` mapping (SPEC §6), from binary-protocol bytes of a
/// non-NULL value. Every malformed value is an error, never a default.
pub fn to_cell(ty: MysqlType, bytes: &[u8]) -> Result<Cell<'_>, String> {
    Ok(match ty {
        MysqlType::Bool { unsigned } => {
            let v = if unsigned {
                i64::from(fixed::<1>(bytes)?[0])
            } else {
                i64::from(fixed::<1>(bytes)?[0] as i8)
            };
            // TINYINT(1) can hold 2..127 too; those stay numbers rather than become `true`.
            match v {
                0 | 1 => Cell::Bool(v == 1),
                _ => Cell::Int(v),
            }
        }
        MysqlType::TinyInt { unsigned: false } => Cell::Int(i64::from(fixed::<1>(bytes)?[0] as i8)),
        MysqlType::TinyInt { unsigned: true } => Cell::Int(i64::from(fixed::<1>(bytes)?[0])),
        MysqlType::SmallInt { unsigned: false } => Cell::Int(i64::from(i16::from_le_bytes(fixed(bytes)?))),
        MysqlType::SmallInt { unsigned: true } => Cell::Int(i64::from(u16::from_le_bytes(fixed(bytes)?))),
        MysqlType::Int { unsigned: false } => Cell::Int(i64::from(i32::from_le_bytes(fixed(bytes)?))),
        MysqlType::Int { unsigned: true } => Cell::Int(i64::from(u32::from_le_bytes(fixed(bytes)?))),
        MysqlType::BigInt { unsigned: false } => Cell::Int(i64::from_le_bytes(fixed(bytes)?)),
        MysqlType::BigInt { unsigned: true } => Cell::UInt(u64::from_le_bytes(fixed(bytes)?)),
        MysqlType::Float => Cell::Float(f32_shortest(f32::from_le_bytes(fixed(bytes)?))),
        MysqlType::Double => Cell::Float(f64::from_le_bytes(fixed(bytes)?)),
        MysqlType::Decimal => Cell::Decimal(Cow::Borrowed(utf8(bytes)?)),
        MysqlType::Bit => {
            if bytes.len() > 8 {
                return Err(format!("BIT value of {} bytes", bytes.len()));
            }
            Cell::UInt(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
        }
        MysqlType::Year => Cell::Int(i64::from(u16::from_le_bytes(fixed(bytes)?))),
        MysqlType::Date => {
            let Some((out, _)) = date_part(bytes, "DATE", 10)? else { return Ok(Cell::Null) };
            Cell::Text(Cow::Owned(out))
        }
        MysqlType::DateTime | MysqlType::Timestamp => {
            let Some((mut out, body)) = date_part(bytes, "DATETIME", 32)? else { return Ok(Cell::Null) };
            out.push('T');
            let (h, m, s) = body.get(4..7).map_or((0, 0, 0), |t| (t[0], t[1], t[2]));
            let micros = body.get(7..11).map_or(0, |f| u32::from_le_bytes([f[0], f[1], f[2], f[3]]));
            push_time(&mut out, u64::from(h), m, s, micros);
            if ty == MysqlType::Timestamp {
                out.push_str("+00:00");
            }
            Cell::Text(Cow::Owned(out))
        }
        MysqlType::Time => {
            let body = temporal_body(bytes, "TIME", &[0, 8, 12])?;
            let mut out = String::with_capacity(20);
            if body.is_empty() {
                push_time(&mut out, 0, 0, 0, 0);
            } else {
                if body[0] == 1 {
                    out.push('-');
                }
                let days = u64::from(u32::from_le_bytes([body[1], body[2], body[3], body[4]]));
                let micros = body.get(8..12).map_or(0, |f| u32::from_le_bytes([f[0], f[1], f[2], f[3]]));
                push_time(&mut out, days * 24 + u64::from(body[5]), body[6], body[7], micros);
            }
            Cell::Text(Cow::Owned(out))
        }
        MysqlType::Text | MysqlType::Json => Cell::Text(Cow::Borrowed(utf8(bytes)?)),
        MysqlType::Binary => Cell::Bytes(Cow::Borrowed(bytes)),
        MysqlType::Geometry => {
            // MySQL stores a 4-byte SRID before the WKB; WKT (as ST_AsText gives) is what a
            // person can read in a table.
            let wkb = bytes.get(4..).ok_or("GEOMETRY value shorter than its SRID")?;
            Cell::Text(Cow::Owned(wkb_to_wkt(wkb)?))
        }
        MysqlType::Null => Cell::Null,
    })
}

/// The bytes after a temporal value's length prefix, which must agree with it and be one of the
/// lengths the protocol allows for the type.
fn temporal_body<'b>(bytes: &'b [u8], what: &str, lengths: &[usize]) -> Result<&'b [u8], String> {
    let (len, body) = bytes.split_first().ok_or_else(|| format!("empty {what} value"))?;
    if usize::from(*len) != body.len() || !lengths.contains(&body.len()) {
        return Err(format!("{what} value of {} bytes", body.len()));
    }
    Ok(body)
}

/// A DATE or DATETIME value's date, written into a new string, and its body for the time of
/// day; `None` for the zero date, which has no day to show.
fn date_part<'b>(bytes: &'b [u8], what: &str, capacity: usize) -> Result<Option<(String, &'b [u8])>, String> {
    let body = temporal_body(bytes, what, &[0, 4, 7, 11])?;
    if body.is_empty() {
        return Ok(None);
    }
    let mut out = String::with_capacity(capacity);
    push_date(&mut out, i64::from(u16::from_le_bytes([body[0], body[1]])), body[2], body[3]);
    Ok(Some((out, body)))
}

fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))
}

/// FLOAT as the digits MySQL shows (`1.1`), not those of the nearest f64 (`1.100000023841858`).
pub(crate) fn f32_shortest(v: f32) -> f64 {
    if !v.is_finite() {
        return f64::from(v);
    }
    ryu::Buffer::new().format_finite(v).parse().unwrap_or(f64::from(v))
}

/// `YYYY-MM-DD`; years outside 0..=9999 get a sign (ISO 8601 expanded years, astronomical
/// numbering: year 0 is 1 BC).
pub(crate) fn push_date(out: &mut String, year: i64, month: u8, day: u8) {
    let _ = match year {
        0..=9999 => write!(out, "{year:04}-{month:02}-{day:02}"),
        _ if year < 0 => write!(out, "-{:04}-{month:02}-{day:02}", year.unsigned_abs()),
        _ => write!(out, "+{year}-{month:02}-{day:02}"),
    };
}

/// `HH:MM:SS`, then `.ffffff` when there are microseconds. Hours may exceed 23 (MySQL TIME).
pub(crate) fn push_time(out: &mut String, hours: u64, minutes: u8, seconds: u8, micros: u32) {
    let _ = write!(out, "{hours:02}:{minutes:02}:{seconds:02}");
    if micros != 0 {
        let _ = write!(out, ".{micros:06}");
    }
}

/// Well-known binary → well-known text, for MySQL geometries and PostGIS EWKB. Z and M
/// coordinates (ISO codes 1000/2000/3000 or EWKB flags) are kept; an EWKB SRID is dropped, as
/// `ST_AsText` does.
pub(crate) fn wkb_to_wkt(wkb: &[u8]) -> Result<String, String> {
    let mut reader = WkbReader { bytes: wkb, pos: 0 };
    let mut out = String::with_capacity(wkb.len());
    reader.geometry(&mut out, 0, true)?;
    if reader.pos != wkb.len() {
        return Err(format!("{} trailing bytes after the geometry", wkb.len() - reader.pos));
    }
    Ok(out)
}

struct WkbReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl WkbReader<'_> {
    /// Nesting allowed in geometry collections; deeper input is refused rather than recursed.
    const MAX_DEPTH: usize = 32;

    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let end = self.pos + N;
        let slice = self.bytes.get(self.pos..end).ok_or("geometry value is cut short")?;
        self.pos = end;
        fixed(slice)
    }

    fn u32(&mut self, little: bool) -> Result<u32, String> {
        let b = self.take::<4>()?;
        Ok(if little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    }

    fn f64(&mut self, little: bool) -> Result<f64, String> {
        let b = self.take::<8>()?;
        Ok(if little { f64::from_le_bytes(b) } else { f64::from_be_bytes(b) })
    }

    fn count(&mut self, little: bool, item_bytes: usize) -> Result<usize, String> {
        let n = self.u32(little)? as usize;
        // A count the remaining bytes cannot hold is corrupt; checking it first also bounds
        // the work and memory a hostile value can cause.
        if n.saturating_mul(item_bytes) > self.bytes.len() - self.pos {
            return Err(format!("geometry claims {n} items but is too short"));
        }
        Ok(n)
    }

    fn geometry(&mut self, out: &mut String, depth: usize, tagged: bool) -> Result<(), String> {
        if depth > Self::MAX_DEPTH {
            return Err("geometry nested too deeply".into());
        }
        let little = match self.take::<1>()?[0] {
            0 => false,
            1 => true,
            other => return Err(format!("bad WKB byte order {other}")),
        };
        let code = self.u32(little)?;
        let (mut has_z, mut has_m) = (code & 0x8000_0000 != 0, code & 0x4000_0000 != 0);
        if code & 0x2000_0000 != 0 {
            self.take::<4>()?;
        }
        let iso = code & 0x0fff_ffff;
        let base = iso % 1000;
        match iso / 1000 {
            0 => {}
            1 => has_z = true,
            2 => has_m = true,
            3 => (has_z, has_m) = (true, true),
            _ => return Err(format!("unknown WKB geometry type {code}")),
        }
        let dims = 2 + usize::from(has_z) + usize::from(has_m);
        let name = match base {
            1 => "POINT",
            2 => "LINESTRING",
            3 => "POLYGON",
            4 => "MULTIPOINT",
            5 => "MULTILINESTRING",
            6 => "MULTIPOLYGON",
            7 => "GEOMETRYCOLLECTION",
            _ => return Err(format!("unknown WKB geometry type {code}")),
        };
        if tagged {
            out.push_str(name);
            match (has_z, has_m) {
                (true, true) => out.push_str(" ZM "),
                (true, false) => out.push_str(" Z "),
                (false, true) => out.push_str(" M "),
                (false, false) => {}
            }
        }
        let point_bytes = dims * 8;
        match base {
            1 => {
                let coords = (0..dims).map(|_| self.f64(little)).collect::<Result<Vec<_>, _>>()?;
                if coords.iter().all(|c| c.is_nan()) {
                    out.push_str(if tagged { " EMPTY" } else { "EMPTY" });
                    return Ok(());
                }
                out.push('(');
                push_coords(out, &coords);
                out.push(')');
            }
            2 => {
                let n = self.count(little, point_bytes)?;
                self.points(out, little, dims, n)?;
            }
            3 => {
                let rings = self.count(little, 4)?;
                self.list(out, rings, |r, out| {
                    let n = r.count(little, point_bytes)?;
                    r.points(out, little, dims, n)
                })?;
            }
            _ => {
                let parts = self.count(little, 9)?;
                // Members of MULTI* carry their own header; only a collection names them.
                let tag_members = base == 7;
                self.list(out, parts, |r, out| r.geometry(out, depth + 1, tag_members))?;
            }
        }
        Ok(())
    }

    fn points(&mut self, out: &mut String, little: bool, dims: usize, n: usize) -> Result<(), String> {
        let mut coords = vec![0.0; dims];
        self.list(out, n, |r, out| {
            for c in coords.iter_mut() {
                *c = r.f64(little)?;
            }
            push_coords(out, &coords);
            Ok(())
        })
    }

    fn list(
        &mut self,
        out: &mut String,
        n: usize,
        mut item: impl FnMut(&mut Self, &mut String) -> Result<(), String>,
    ) -> Result<(), String> {
        if n == 0 {
            out.push_str(" EMPTY");
            return Ok(());
        }
        out.push('(');
        for i in 0..n {
            if i > 0 {
                out.push(',');
            }
            item(self, out)?;
        }
        out.push(')');
        Ok(())
    }
}

fn push_coords(out: &mut String, coords: &[f64]) {
    for (i, c) in coords.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        push_number(out, *c);
    }
}

/// Shortest round-trip digits, without the `.0` ryu adds to whole numbers (`POINT(1 2)`).
pub(crate) fn push_number(out: &mut String, v: f64) {
    if v.is_finite() {
        let mut buf = ryu::Buffer::new();
        let text = buf.format_finite(v);
        out.push_str(text.strip_suffix(".0").unwrap_or(text));
    } else {
        out.push_str(if v.is_nan() {
            "NaN"
        } else if v > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        });
    }
}

/// Whether the statement (MySQL syntax) writes a server file with `INTO OUTFILE`/`INTO
/// DUMPFILE`, which a read-only transaction does not prevent. Text inside executable comments
/// (`/*! ... */`) counts, since the server runs it. Scanned both with and without backslash
/// escapes in strings, as the server's `NO_BACKSLASH_ESCAPES` mode is unknown here.
pub fn writes_a_file(sql: &str) -> bool {
    scan_into_file(sql, true) || scan_into_file(sql, false)
}

fn scan_into_file(sql: &str, backslash_escapes: bool) -> bool {
    let b = sql.as_bytes();
    let mut i = 0;
    let mut after_into = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\'' | b'"' | b'`' => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'\\' && backslash_escapes && c != b'`' {
                        i += 2;
                    } else if b[i] == c {
                        if b.get(i + 1) == Some(&c) {
                            i += 2;
                        } else {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                i += 1;
                after_into = false;
            }
            b'#' => i = b[i..].iter().position(|&x| x == b'\n').map_or(b.len(), |p| i + p),
            b'-' if b.get(i + 1) == Some(&b'-') && b.get(i + 2).is_none_or(|x| x.is_ascii_whitespace()) => {
                i = b[i..].iter().position(|&x| x == b'\n').map_or(b.len(), |p| i + p);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let executable = b.get(i + 2) == Some(&b'!') || b.get(i + 2..i + 4) == Some(b"M!");
                if executable {
                    i += if b[i + 2] == b'!' { 3 } else { 4 };
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                } else {
                    i = find(b, i + 2, b"*/").map_or(b.len(), |p| p + 2);
                }
            }
            b'*' if b.get(i + 1) == Some(&b'/') => i += 2,
            _ if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 => {
                let start = i;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80)
                {
                    i += 1;
                }
                let word = &b[start..i];
                if after_into
                    && (word.eq_ignore_ascii_case(b"OUTFILE") || word.eq_ignore_ascii_case(b"DUMPFILE"))
                {
                    return true;
                }
                after_into = word.eq_ignore_ascii_case(b"INTO");
            }
            _ if c.is_ascii_whitespace() => i += 1,
            _ => {
                after_into = false;
                i += 1;
            }
        }
    }
    false
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| from + p)
}

/// `MariaDB 10.11.19` / `MySQL 8.0.36` from `VERSION()`.
fn describe_version(version: &str) -> String {
    if version.contains("MariaDB") {
        format!("MariaDB {}", version.split('-').next().unwrap_or(version))
    } else {
        format!("MySQL {version}")
    }
}

/// Error numbers (not SQLSTATEs, which MySQL shares across unrelated errors) → our kinds.
fn kind_for_number(number: u16) -> ErrorKind {
    match number {
        // Access denied (password, database, table, column, command, privilege).
        1044 | 1045 | 1142 | 1143 | 1227 | 1370 | 1698 | 1820 | 1862 => ErrorKind::AccessDenied,
        1049 => ErrorKind::NotFound,
        // Read-only transaction; an option such as --read-only or --secure-file-priv.
        1792 | 1290 | 1836 => ErrorKind::ReadOnly,
        // MySQL max_execution_time, MariaDB max_statement_time.
        3024 | 1969 => ErrorKind::Timeout,
        // Too many connections; lost connection; server shutting down.
        1040 | 1203 | 2002 | 2003 | 2006 | 2013 | 1053 => ErrorKind::Unreachable,
        _ => ErrorKind::Sql,
    }
}

fn server_name(settings: &MysqlSettings) -> String {
    format!("MySQL/MariaDB at {}:{}", settings.host, settings.port)
}

fn map_error(error: sqlx::Error, ctx: &ErrorContext<'_, MysqlSettings>) -> ConnectorError {
    let where_ = server_name(ctx.settings);
    let (kind, message) = match &error {
        sqlx::Error::Database(db) => {
            let number = db.try_downcast_ref::<MySqlDatabaseError>().map(MySqlDatabaseError::number);
            let kind = number.map_or(ErrorKind::Sql, kind_for_number);
            match (kind, ctx.timeout) {
                (ErrorKind::Timeout, Some(limit)) => return ConnectorError::timeout(limit),
                _ => (kind, db.message().to_string()),
            }
        }
        sqlx::Error::Configuration(e) if e.to_string().contains("RSA") => (
            ErrorKind::Unreachable,
            format!(
                "{where_} asks for the password to be RSA-encrypted (caching_sha2_password over a \
                 plain connection); set \"tls\" to \"prefer\" or \"require\""
            ),
        ),
        other => describe_transport_error(other, &where_),
    };
    ctx.error(kind, &message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::write_json_value;

    fn json(ty: MysqlType, bytes: &[u8]) -> String {
        let mut out = Vec::new();
        write_json_value(&to_cell(ty, bytes).unwrap(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn integers_of_every_width_and_sign() {
        let s = |unsigned| MysqlType::TinyInt { unsigned };
        assert_eq!(json(s(false), &[0x80]), "-128");
        assert_eq!(json(s(true), &[0xff]), "255");
        assert_eq!(json(MysqlType::SmallInt { unsigned: false }, &(-32768i16).to_le_bytes()), "-32768");
        assert_eq!(json(MysqlType::SmallInt { unsigned: true }, &65535u16.to_le_bytes()), "65535");
        assert_eq!(json(MysqlType::Int { unsigned: false }, &i32::MIN.to_le_bytes()), "-2147483648");
        assert_eq!(json(MysqlType::Int { unsigned: true }, &u32::MAX.to_le_bytes()), "4294967295");
        assert_eq!(
            json(MysqlType::BigInt { unsigned: false }, &i64::MIN.to_le_bytes()),
            "\"-9223372036854775808\""
        );
        assert_eq!(json(MysqlType::BigInt { unsigned: false }, &42i64.to_le_bytes()), "42");
        assert_eq!(
            json(MysqlType::BigInt { unsigned: true }, &u64::MAX.to_le_bytes()),
            "\"18446744073709551615\""
        );
        assert!(to_cell(MysqlType::Int { unsigned: false }, &[1, 2]).is_err());
    }

    #[test]
    fn tinyint_1_is_boolean_when_it_holds_0_or_1() {
        let b = MysqlType::Bool { unsigned: false };
        assert_eq!(json(b, &[1]), "true");
        assert_eq!(json(b, &[0]), "false");
        assert_eq!(json(b, &[0xfe]), "-2");
        assert_eq!(json(MysqlType::Bool { unsigned: true }, &[0xfe]), "254");
    }

    #[test]
    fn floats_decimals_bits_and_years() {
        assert_eq!(json(MysqlType::Float, &1.1f32.to_le_bytes()), "1.1");
        assert_eq!(json(MysqlType::Double, &0.1f64.to_le_bytes()), "0.1");
        assert_eq!(json(MysqlType::Double, &f64::NAN.to_le_bytes()), "null");
        assert_eq!(
            json(MysqlType::Decimal, b"-12345678901234567890123456789012345.123456789012345678901234567890"),
            "-12345678901234567890123456789012345.123456789012345678901234567890"
        );
        assert_eq!(json(MysqlType::Bit, &[0x01, 0x02]), "258");
        assert_eq!(json(MysqlType::Bit, &[0xff; 8]), "\"18446744073709551615\"");
        assert_eq!(json(MysqlType::Year, &2024u16.to_le_bytes()), "2024");
    }

    #[test]
    fn dates_datetimes_and_times() {
        assert_eq!(json(MysqlType::Date, &[4, 0xe8, 0x07, 2, 29]), "\"2024-02-29\"");
        assert_eq!(json(MysqlType::Date, &[0]), "null");
        let micros = 123456u32.to_le_bytes();
        let dt = [11, 0xe8, 0x07, 12, 31, 23, 59, 58, micros[0], micros[1], micros[2], micros[3]];
        assert_eq!(json(MysqlType::DateTime, &dt), "\"2024-12-31T23:59:58.123456\"");
        assert_eq!(json(MysqlType::DateTime, &[4, 0xe8, 0x07, 1, 2]), "\"2024-01-02T00:00:00\"");
        assert_eq!(
            json(MysqlType::Timestamp, &[7, 0xe8, 0x07, 1, 2, 3, 4, 5]),
            "\"2024-01-02T03:04:05+00:00\""
        );
        assert_eq!(json(MysqlType::Time, &[0]), "\"00:00:00\"");
        // -838:59:59 is MySQL's minimum: 34 days 22 h.
        assert_eq!(json(MysqlType::Time, &[8, 1, 34, 0, 0, 0, 22, 59, 59]), "\"-838:59:59\"");
        let half = 500000u32.to_le_bytes();
        assert_eq!(
            json(MysqlType::Time, &[12, 0, 1, 0, 0, 0, 1, 2, 3, half[0], half[1], half[2], half[3]]),
            "\"25:02:03.500000\""
        );
        assert!(to_cell(MysqlType::Date, &[4, 1, 2]).is_err());
    }

    #[test]
    fn text_binary_and_json() {
        assert_eq!(json(MysqlType::Text, "héllo 😀".as_bytes()), "\"héllo 😀\"");
        assert_eq!(json(MysqlType::Json, br#"{"a": [1, 2]}"#), r#""{\"a\": [1, 2]}""#);
        assert_eq!(json(MysqlType::Binary, &[0, 255, 16]), "\"AP8Q\"");
        assert!(to_cell(MysqlType::Text, &[0xff]).is_err());
    }

    fn point_wkb(x: f64, y: f64) -> Vec<u8> {
        let mut wkb = vec![1, 1, 0, 0, 0];
        wkb.extend_from_slice(&x.to_le_bytes());
        wkb.extend_from_slice(&y.to_le_bytes());
        wkb
    }

    #[test]
    fn geometries_become_wkt() {
        let mut value = vec![0, 0, 0, 0];
        value.extend(point_wkb(1.0, -2.5));
        assert_eq!(json(MysqlType::Geometry, &value), "\"POINT(1 -2.5)\"");

        let mut line = vec![0, 0, 0, 0, 2, 0, 0, 0, 2];
        for v in [0.0f64, 0.0, 1.0, 1.0] {
            line.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(wkb_to_wkt(&line).unwrap(), "LINESTRING(0 0,1 1)");

        let mut polygon = vec![1, 3, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0];
        for v in [0.0f64, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0] {
            polygon.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(wkb_to_wkt(&polygon).unwrap(), "POLYGON((0 0,1 0,1 1,0 0))");

        let mut multi = vec![1, 4, 0, 0, 0, 2, 0, 0, 0];
        multi.extend(point_wkb(1.0, 2.0));
        multi.extend(point_wkb(3.0, 4.0));
        assert_eq!(wkb_to_wkt(&multi).unwrap(), "MULTIPOINT((1 2),(3 4))");

        let mut collection = vec![1, 7, 0, 0, 0, 2, 0, 0, 0];
        collection.extend(point_wkb(1.0, 2.0));
        collection.extend(&line);
        assert_eq!(wkb_to_wkt(&collection).unwrap(), "GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1))");

        assert_eq!(wkb_to_wkt(&[1, 7, 0, 0, 0, 0, 0, 0, 0]).unwrap(), "GEOMETRYCOLLECTION EMPTY");
        // PostGIS EWKB: Z flag and an SRID.
        let mut ewkb = vec![1, 1, 0, 0, 0xa0, 0xe6, 0x10, 0, 0];
        for v in [1.0f64, 2.0, 3.0] {
            ewkb.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(wkb_to_wkt(&ewkb).unwrap(), "POINT Z (1 2 3)");

        assert!(wkb_to_wkt(&[1, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0x0f]).is_err());
        assert!(wkb_to_wkt(&[1, 99, 0, 0, 0]).is_err());
        assert!(wkb_to_wkt(&point_wkb(1.0, 2.0)[..12]).is_err());
    }

    #[test]
    fn file_writes_are_found_outside_strings_and_comments() {
        assert!(writes_a_file("SELECT * FROM t INTO OUTFILE '/tmp/x'"));
        assert!(writes_a_file("select 1 into\n dumpfile '/tmp/x'"));
        assert!(writes_a_file("SELECT 1 INTO /* c */ OUTFILE '/tmp/x'"));
        assert!(writes_a_file("SELECT 1 /*!50000 INTO OUTFILE '/tmp/x' */"));
        assert!(writes_a_file("SELECT 'a\\' INTO OUTFILE '/tmp/x'"));
        assert!(!writes_a_file("SELECT 'INTO OUTFILE' AS a"));
        assert!(!writes_a_file("SELECT 1 -- INTO OUTFILE\n"));
        assert!(!writes_a_file("SELECT 1 # INTO OUTFILE"));
        assert!(!writes_a_file("SELECT `into outfile` FROM t"));
        assert!(!writes_a_file("SELECT 1 INTO @outfile"));
    }

    #[test]
    fn error_numbers_map_to_kinds() {
        assert_eq!(kind_for_number(1045), ErrorKind::AccessDenied);
        assert_eq!(kind_for_number(1049), ErrorKind::NotFound);
        assert_eq!(kind_for_number(1064), ErrorKind::Sql);
        assert_eq!(kind_for_number(1146), ErrorKind::Sql);
        assert_eq!(kind_for_number(1792), ErrorKind::ReadOnly);
        assert_eq!(kind_for_number(1969), ErrorKind::Timeout);
        assert_eq!(kind_for_number(3024), ErrorKind::Timeout);
    }

    #[test]
    fn versions_name_the_server() {
        assert_eq!(describe_version("10.11.19-MariaDB-0+deb12u1"), "MariaDB 10.11.19");
        assert_eq!(describe_version("8.0.36"), "MySQL 8.0.36");
    }

    #[test]
    fn settings_default_to_read_only_with_tls_preferred() {
        let s: MysqlSettings = serde_json::from_str(r#"{"host": "h", "user": "u"}"#).unwrap();
        assert_eq!((s.port, s.tls, s.read_only, s.database), (3306, TlsMode::Prefer, true, None));
        assert!(
            serde_json::from_str::<MysqlSettings>(r#"{"host": "h", "user": "u", "pasword": "x"}"#).is_err()
        );
    }
}
