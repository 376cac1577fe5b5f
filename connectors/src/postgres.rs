//! PostgreSQL through sqlx. sqlx asks for every result column in binary, so each value is read
//! from its binary wire format (`to_cell`): numeric keeps its exact digits (NaN → null),
//! timestamptz is written in UTC with `+00:00`, arrays and composites become JSON text.
//!
//! Reads run in `BEGIN READ ONLY` with `SET LOCAL statement_timeout` and are rolled back
//! afterwards; a client-side deadline backs the time limit up. A query that is abandoned (client gone, row cap, deadline, dropped future) is
//! stopped with `pg_cancel_backend` from a separate connection, and its connection is closed
//! rather than returned to the pool.

use crate::cell::{Cell, Column, ColumnKind};
use crate::error::{ConnectorError, ErrorKind, Result};
use crate::format::write_json_value;
use crate::mysql::{f32_shortest, push_date, push_number, push_time, wkb_to_wkt};
use crate::settings::{default_true, Secrets, TlsMode};
use crate::sink::ResultSink;
use crate::sqlx_common::{
    check_parameter_count, connect_once, describe_transport_error, pool_options, stream_rows,
    within_deadline, within_listing_timeout, ErrorContext, RowWriter, Running,
};
use crate::{ColumnInfo, Engine, Listing, Param, Query, TableInfo};
use serde::{Deserialize, Serialize};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::pool::PoolConnection;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{
    PgArgumentBuffer, PgArguments, PgConnectOptions, PgDatabaseError, PgPool, PgRow, PgSslMode, PgTypeInfo,
    PgTypeKind, PgValueFormat, Postgres,
};
use sqlx::{
    Arguments as _, AssertSqlSafe, Column as _, ConnectOptions as _, Connection as _, Encode, Executor as _,
    Row as _, SqlSafeStr as _, Statement as _, Type, TypeInfo as _, ValueRef as _,
};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresSettings {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    /// Database to connect to; `postgres` when not given, which every server has, so that the
    /// connection dialog can list databases before one is chosen.
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
    5432
}

pub struct PostgresEngine {
    settings: PostgresSettings,
    pool: PgPool,
    /// For the separate connections that cancel abandoned queries.
    options: Arc<PgConnectOptions>,
    /// Fraction digits of `money` in the server's `lc_monetary`; the wire value is an integer.
    money_scale: u8,
    secrets: Arc<[String]>,
}

impl PostgresEngine {
    /// Connects once directly, so a wrong password or an unreachable host is reported as such
    /// (the pool would retry a refused connection until its timeout and say only "timed out").
    pub async fn connect(settings: PostgresSettings, secrets: &Secrets) -> Result<Self> {
        let secret_values: Arc<[String]> = secrets.values().map(str::to_string).collect();
        let ctx = ErrorContext { secrets: &secret_values, timeout: None, settings: &settings };
        let mut options = PgConnectOptions::new_without_pgpass()
            .host(&settings.host)
            .port(settings.port)
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
        let mut conn =
            connect_once(&options, &server_name(&settings)).await?.map_err(|e| map_error(e, &ctx))?;
        let scale: i32 = sqlx::query_scalar("SELECT scale(0::money::numeric)")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| map_error(e, &ctx))?;
        let _ = conn.close().await;
        let pool = pool_options().connect_lazy_with(options.clone());
        Ok(Self {
            settings,
            pool,
            options: Arc::new(options),
            money_scale: u8::try_from(scale).unwrap_or(2),
            secrets: secret_values,
        })
    }

    fn ctx(&self, timeout: Option<Duration>) -> ErrorContext<'_, PostgresSettings> {
        ErrorContext { secrets: &self.secrets, timeout, settings: &self.settings }
    }

    async fn acquire(&self) -> Result<PoolConnection<Postgres>> {
        self.pool.acquire().await.map_err(|e| map_error(e, &self.ctx(None)))
    }

    /// Runs a fixed catalog query whose columns are all `text` (booleans as `t`/`f`).
    async fn catalog(&self, sql: &'static str, binds: &[Option<&str>]) -> Result<Vec<Vec<String>>> {
        let work = async {
            let mut conn = self.acquire().await?;
            let mut query = sqlx::query(sql);
            for bind in binds {
                query = query.bind(bind.map(str::to_string));
            }
            let rows = query.fetch_all(&mut *conn).await.map_err(|e| map_error(e, &self.ctx(None)))?;
            rows.iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| {
                            row.try_get::<Option<String>, _>(i)
                                .map(Option::unwrap_or_default)
                                .map_err(|e| map_error(e, &self.ctx(None)))
                        })
                        .collect::<Result<Vec<_>>>()
                })
                .collect()
        };
        within_listing_timeout(work).await
    }

    async fn run(&self, query: &Query, mut sink: ResultSink) -> Result<()> {
        let ctx = self.ctx(Some(query.timeout));
        let read_only = query.access(self.settings.read_only).read_only();
        let mut running = Running::new(self.acquire().await?);

        let limit_ms = query.timeout.as_millis().clamp(1, i32::MAX as u128);
        // SET LOCAL ends with the transaction; a writable connection runs outside one (so that
        // e.g. VACUUM works) and sets the session value before every statement instead.
        let (setup, end) = if read_only {
            // Rolled back, never committed: a read has nothing to keep, and the few writes READ
            // ONLY does not catch (`lo_create`) are undone.
            (
                format!("BEGIN READ ONLY; SET LOCAL statement_timeout = {limit_ms}; SELECT pg_backend_pid()"),
                "ROLLBACK",
            )
        } else {
            (
                format!("SET statement_timeout = {limit_ms}; SELECT pg_backend_pid()"),
                "RESET statement_timeout",
            )
        };
        let pid: i32 = running.session_id(setup, "pg_backend_pid()", |e| map_error(e, &ctx)).await?;
        let options = self.options.clone();
        running.stop_with(
            format!("cancel PostgreSQL query of backend {pid}"),
            self.secrets.clone(),
            async move {
                let mut conn = options.connect().await?;
                sqlx::query("SELECT pg_cancel_backend($1)").bind(pid).execute(&mut conn).await?;
                conn.close().await
            },
        );

        // Parameter types go into the statement (the server must know them to read the binary
        // values), but sqlx caches prepared statements by their text alone; the type signature
        // in a trailing comment keeps the same SQL with other parameter types apart.
        let types: Vec<PgTypeInfo> = query.params.iter().map(param_type).collect();
        let sql = if types.is_empty() {
            query.sql.clone()
        } else {
            let signature: Vec<&str> = types.iter().map(|t| t.name()).collect();
            format!("{}\n/* dc:{} */", query.sql, signature.join(","))
        };
        let prepared = (&mut *running.conn).prepare_with(AssertSqlSafe(sql).into_sql_str(), &types).await;
        let statement = match prepared {
            Ok(statement) => statement,
            Err(e) => return running.fail(end, map_error(e, &ctx)).await,
        };
        if let Err(error) = check_parameter_count(statement.parameters(), query.params.len()) {
            return running.fail(end, error).await;
        }
        let (columns, types) = describe(statement.columns(), self.money_scale);
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
        sink.set_columns(columns);
        let mut args = PgArguments::default();
        for param in &query.params {
            bind(&mut args, param)?;
        }

        let outcome = {
            let mut rows = statement.query_with(args).fetch(&mut *running.conn);
            stream_rows(&mut rows, &mut sink, &mut Decoders(&types), |e| map_error(e, &ctx)).await
        };
        running.conclude(outcome, sink, end).await
    }
}

#[async_trait::async_trait]
impl Engine for PostgresEngine {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    async fn server_version(&self) -> Result<String> {
        let rows = self.catalog("SELECT current_setting('server_version')", &[]).await?;
        let version = rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .ok_or_else(|| ConnectorError::internal("the server did not report its version"))?;
        Ok(format!("PostgreSQL {version}"))
    }

    async fn list(&self, what: Listing) -> Result<Vec<String>> {
        let sql = match what {
            Listing::Databases => {
                "SELECT datname::text FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1"
            }
            Listing::Schemas => {
                "SELECT nspname::text FROM pg_namespace \
                 WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%' ORDER BY 1"
            }
            Listing::Roles | Listing::Warehouses => {
                return Err(ConnectorError::unsupported(
                    "PostgreSQL connections have no roles or warehouses to pick",
                ))
            }
        };
        Ok(self.catalog(sql, &[]).await?.into_iter().filter_map(|r| r.into_iter().next()).collect())
    }

    async fn tables(&self, schema: Option<&str>) -> Result<Vec<TableInfo>> {
        let rows = self
            .catalog(
                "SELECT n.nspname::text, c.relname::text, \
                        CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') \
                   AND CASE WHEN $1::text IS NULL \
                            THEN n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' \
                            ELSE n.nspname = $1 END \
                 ORDER BY 1, 2",
                &[schema],
            )
            .await?;
        if rows.is_empty() {
            if let Some(schema) = schema {
                let found = self
                    .catalog("SELECT nspname::text FROM pg_namespace WHERE nspname = $1", &[Some(schema)])
                    .await?;
                if found.is_empty() {
                    return Err(ConnectorError::not_found(format!("schema {schema} does not exist")));
                }
            }
        }
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let [schema, name, kind]: [String; 3] = r.try_into().ok()?;
                Some(TableInfo { schema, name, kind })
            })
            .collect())
    }

    async fn columns(&self, schema: Option<&str>, table: &str) -> Result<Vec<ColumnInfo>> {
        let rows = self
            .catalog(
                "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), (NOT a.attnotnull)::text \
                 FROM pg_attribute a \
                 JOIN pg_class c ON c.oid = a.attrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') \
                   AND a.attnum > 0 AND NOT a.attisdropped \
                   AND CASE WHEN $1::text IS NULL THEN pg_table_is_visible(c.oid) ELSE n.nspname = $1 END \
                 ORDER BY a.attnum",
                &[schema, Some(table)],
            )
            .await?;
        if rows.is_empty() {
            return Err(ConnectorError::not_found(match schema {
                Some(schema) => format!("table {schema}.{table} does not exist"),
                None => format!("table {table} does not exist in the search path"),
            }));
        }
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let [name, db_type, nullable]: [String; 3] = r.try_into().ok()?;
                Some(ColumnInfo { name, db_type, nullable: nullable == "true" })
            })
            .collect())
    }

    async fn query(&self, query: Query, sink: ResultSink) -> Result<()> {
        within_deadline(query.timeout, self.run(&query, sink)).await
    }
}

/// The result's decoders, known from the prepared statement before any row arrives.
struct Decoders<'a>(&'a [PgType]);

impl RowWriter<PgRow> for Decoders<'_> {
    fn write(&mut self, row: &PgRow, sink: &mut ResultSink) -> Result<()> {
        write_row(row, self.0, sink)
    }
}

/// A NULL parameter of type `unknown`, so the server infers its type from where it is used
/// (`WHERE int_column = $1`, `INSERT ... VALUES ($1)`) as it would for a literal NULL.
struct UntypedNull;

impl Type<Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(705))
    }
}

impl Encode<'_, Postgres> for UntypedNull {
    fn encode_by_ref(&self, _: &mut PgArgumentBuffer) -> std::result::Result<IsNull, BoxDynError> {
        Ok(IsNull::Yes)
    }
}

fn param_type(param: &Param) -> PgTypeInfo {
    match param {
        Param::Null => UntypedNull::type_info(),
        Param::Bool(_) => <bool as Type<Postgres>>::type_info(),
        Param::Int(_) => <i64 as Type<Postgres>>::type_info(),
        Param::Float(_) => <f64 as Type<Postgres>>::type_info(),
        Param::Text(_) => <String as Type<Postgres>>::type_info(),
    }
}

/// Text is bound as `text`: the server receives every parameter in binary, so it cannot parse
/// a string as e.g. a date itself; `$1::date` in the query does that.
fn bind(args: &mut PgArguments, param: &Param) -> Result<()> {
    let added = match param {
        Param::Null => args.add(UntypedNull),
        Param::Bool(v) => args.add(*v),
        Param::Int(v) => args.add(*v),
        Param::Float(v) => args.add(*v),
        Param::Text(v) => args.add(v.clone()),
    };
    added.map_err(|e| ConnectorError::invalid(format!("cannot bind parameter: {e}")))
}

fn write_row(row: &PgRow, types: &[PgType], sink: &mut ResultSink) -> Result<()> {
    for (i, ty) in types.iter().enumerate() {
        let cell = cell_at(row, i, ty).map_err(|why| {
            let column = row.columns().get(i).map_or("?", |c| c.name());
            let type_name = row.columns().get(i).map_or("?", |c| c.type_info().name());
            ConnectorError::internal(format!("cannot read column \"{column}\" ({type_name}): {why}"))
        })?;
        sink.cell(&cell);
    }
    Ok(())
}

fn cell_at<'r>(row: &'r PgRow, i: usize, ty: &PgType) -> Result<Cell<'r>, String> {
    let value = row.try_get_raw(i).map_err(|e| e.to_string())?;
    if value.is_null() {
        return Ok(Cell::Null);
    }
    if value.format() != PgValueFormat::Binary {
        return Err("the value arrived as text, not binary".into());
    }
    to_cell(ty, value.as_bytes().map_err(|e| e.to_string())?)
}

fn describe(columns: &[sqlx::postgres::PgColumn], money_scale: u8) -> (Vec<Column>, Vec<PgType>) {
    columns
        .iter()
        .map(|c| {
            let ty = PgType::of(c.type_info(), money_scale);
            (Column::new(c.name(), c.type_info().name(), ty.column_kind()), ty)
        })
        .unzip()
}

/// How to read one result column's binary bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum PgType {
    Bool,
    Int2,
    Int4,
    Int8,
    /// oid, xid, cid and the reg* types: an unsigned 32-bit number on the wire.
    Oid,
    Xid8,
    Float4,
    Float8,
    Numeric,
    /// The number of fraction digits of the server's currency.
    Money(u8),
    /// text, varchar, bpchar, name, xml, unknown, enums, citext: UTF-8 as sent.
    Text,
    /// The one-byte `"char"`.
    Char,
    Bytea,
    Json,
    Jsonb,
    Jsonpath,
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    /// inet and cidr.
    Inet,
    MacAddr,
    MacAddr8,
    /// bit and varbit.
    Bit,
    PgLsn,
    Point,
    Lseg,
    Box,
    Path,
    Polygon,
    Line,
    Circle,
    /// PostGIS geometry/geography (EWKB on the wire).
    Geometry,
    Hstore,
    Void,
    Array(std::boxed::Box<PgType>),
    Range(std::boxed::Box<PgType>),
    Composite(Vec<(String, PgType)>),
    /// An anonymous `ROW(...)`: each field names its own type.
    Record,
    Unsupported(String),
}

impl PgType {
    pub fn of(ty: &PgTypeInfo, money_scale: u8) -> Self {
        if let Some(known) = ty.oid().and_then(|oid| Self::from_oid(oid.0, money_scale)) {
            return known;
        }
        // sqlx resolves the OIDs of a prepared statement's columns; one it could not name has no
        // kind to ask for.
        let name = ty.name();
        if name == "?" {
            return Self::Unsupported(format!("OID {}", ty.oid().map_or(0, |o| o.0)));
        }
        match ty.kind() {
            PgTypeKind::Enum(_) => Self::Text,
            PgTypeKind::Domain(base) => Self::of(base, money_scale),
            PgTypeKind::Array(element) => Self::Array(std::boxed::Box::new(Self::of(element, money_scale))),
            PgTypeKind::Range(element) => Self::Range(std::boxed::Box::new(Self::of(element, money_scale))),
            PgTypeKind::Composite(fields) => Self::Composite(
                fields.iter().map(|(field, t)| (field.clone(), Self::of(t, money_scale))).collect(),
            ),
            PgTypeKind::Simple | PgTypeKind::Pseudo => match name.to_ascii_lowercase().as_str() {
                "citext" => Self::Text,
                "geometry" | "geography" => Self::Geometry,
                "hstore" => Self::Hstore,
                _ => Self::Unsupported(name.to_string()),
            },
        }
    }

    /// Built-in types by their fixed OIDs (`pg_type.dat`).
    pub fn from_oid(oid: u32, money_scale: u8) -> Option<Self> {
        Some(match oid {
            16 => Self::Bool,
            17 => Self::Bytea,
            18 => Self::Char,
            19 | 25 | 142 | 194 | 705 | 1042 | 1043 => Self::Text,
            20 => Self::Int8,
            21 => Self::Int2,
            23 => Self::Int4,
            24 | 26 | 28 | 29 | 2202..=2206 | 3734 | 3769 | 4089 | 4096 => Self::Oid,
            114 => Self::Json,
            600 => Self::Point,
            601 => Self::Lseg,
            602 => Self::Path,
            603 => Self::Box,
            604 => Self::Polygon,
            628 => Self::Line,
            650 | 869 => Self::Inet,
            700 => Self::Float4,
            701 => Self::Float8,
            718 => Self::Circle,
            774 => Self::MacAddr8,
            790 => Self::Money(money_scale),
            829 => Self::MacAddr,
            1082 => Self::Date,
            1083 => Self::Time,
            1114 => Self::Timestamp,
            1184 => Self::TimestampTz,
            1186 => Self::Interval,
            1266 => Self::TimeTz,
            1560 | 1562 => Self::Bit,
            1700 => Self::Numeric,
            2249 => Self::Record,
            2278 => Self::Void,
            2950 => Self::Uuid,
            3220 => Self::PgLsn,
            3802 => Self::Jsonb,
            4072 => Self::Jsonpath,
            5069 => Self::Xid8,
            _ => return None,
        })
    }

    /// The type (or part of it) that cannot be decoded, if any.
    pub fn unsupported(&self) -> Option<&str> {
        match self {
            Self::Unsupported(name) => Some(name),
            Self::Array(t) | Self::Range(t) => t.unsupported(),
            Self::Composite(fields) => fields.iter().find_map(|(_, t)| t.unsupported()),
            _ => None,
        }
    }

    pub fn column_kind(&self) -> ColumnKind {
        match self {
            Self::Bool => ColumnKind::Boolean,
            Self::Int2 | Self::Int4 | Self::Int8 | Self::Oid | Self::Xid8 => ColumnKind::Integer,
            Self::Float4 | Self::Float8 => ColumnKind::Float,
            Self::Numeric | Self::Money(_) => ColumnKind::Decimal,
            Self::Bytea => ColumnKind::Binary,
            Self::Json | Self::Jsonb | Self::Array(_) | Self::Composite(_) | Self::Record | Self::Hstore => {
                ColumnKind::Json
            }
            Self::Date => ColumnKind::Date,
            Self::Timestamp | Self::TimestampTz => ColumnKind::DateTime,
            Self::Time | Self::TimeTz => ColumnKind::Time,
            Self::Void | Self::Unsupported(_) => ColumnKind::Other,
            _ => ColumnKind::Text,
        }
    }
}

/// Microseconds and days between 1970-01-01 and PostgreSQL's epoch 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The one PostgreSQL value → `Cell` mapping (SPEC §6), from the binary bytes of a non-NULL
/// value. Every malformed value is an error, never a default.
pub fn to_cell<'a>(ty: &PgType, b: &'a [u8]) -> Result<Cell<'a>, String> {
    let text = |s: String| Ok(Cell::Text(Cow::Owned(s)));
    match ty {
        PgType::Bool => Ok(Cell::Bool(fixed::<1>(b)?[0] != 0)),
        PgType::Int2 => Ok(Cell::Int(i64::from(i16::from_be_bytes(fixed(b)?)))),
        PgType::Int4 => Ok(Cell::Int(i64::from(i32::from_be_bytes(fixed(b)?)))),
        PgType::Int8 => Ok(Cell::Int(i64::from_be_bytes(fixed(b)?))),
        PgType::Oid => Ok(Cell::Int(i64::from(u32::from_be_bytes(fixed(b)?)))),
        PgType::Xid8 => Ok(Cell::UInt(u64::from_be_bytes(fixed(b)?))),
        PgType::Float4 => Ok(Cell::Float(f32_shortest(f32::from_be_bytes(fixed(b)?)))),
        PgType::Float8 => Ok(Cell::Float(f64::from_be_bytes(fixed(b)?))),
        PgType::Numeric => Ok(Cell::Decimal(Cow::Owned(numeric_text(b)?))),
        PgType::Money(scale) => {
            Ok(Cell::Decimal(Cow::Owned(scaled_text(i64::from_be_bytes(fixed(b)?), *scale))))
        }
        PgType::Text | PgType::Json => Ok(Cell::Text(Cow::Borrowed(utf8(b)?))),
        PgType::Jsonb | PgType::Jsonpath => match b.split_first() {
            Some((1, rest)) => Ok(Cell::Text(Cow::Borrowed(utf8(rest)?))),
            _ => Err("unknown jsonb/jsonpath version".into()),
        },
        PgType::Char => match b {
            [] => Ok(Cell::Text(Cow::Borrowed(""))),
            [c] if c.is_ascii() => Ok(Cell::Text(Cow::Owned(char::from(*c).to_string()))),
            // As PostgreSQL prints a non-ASCII "char": an octal escape.
            [c] => text(format!("\\{c:03o}")),
            _ => Err(format!("\"char\" value of {} bytes", b.len())),
        },
        PgType::Bytea => Ok(Cell::Bytes(Cow::Borrowed(b))),
        PgType::Date => {
            let days = i32::from_be_bytes(fixed(b)?);
            let mut out = String::with_capacity(10);
            match days {
                i32::MAX => out.push_str("infinity"),
                i32::MIN => out.push_str("-infinity"),
                _ => push_pg_date(&mut out, i64::from(days)),
            }
            text(out)
        }
        PgType::Time => {
            let mut out = String::with_capacity(15);
            push_day_time(&mut out, i64::from_be_bytes(fixed(b)?))?;
            text(out)
        }
        PgType::TimeTz => {
            let (micros, zone) = (b.get(..8).ok_or("short timetz")?, b.get(8..).ok_or("short timetz")?);
            let mut out = String::with_capacity(21);
            push_day_time(&mut out, i64::from_be_bytes(fixed(micros)?))?;
            // The wire holds seconds west of UTC; ISO 8601 writes the offset east.
            push_offset(&mut out, -i64::from(i32::from_be_bytes(fixed(zone)?)));
            text(out)
        }
        PgType::Timestamp | PgType::TimestampTz => {
            let micros = i64::from_be_bytes(fixed(b)?);
            let mut out = String::with_capacity(32);
            match micros {
                i64::MAX => out.push_str("infinity"),
                i64::MIN => out.push_str("-infinity"),
                _ => {
                    push_pg_date(&mut out, micros.div_euclid(MICROS_PER_DAY));
                    out.push('T');
                    push_day_time(&mut out, micros.rem_euclid(MICROS_PER_DAY))?;
                    if *ty == PgType::TimestampTz {
                        out.push_str("+00:00");
                    }
                }
            }
            text(out)
        }
        PgType::Interval => {
            let micros = i64::from_be_bytes(fixed(b.get(..8).ok_or("short interval")?)?);
            let days = i32::from_be_bytes(fixed(b.get(8..12).ok_or("short interval")?)?);
            let months = i32::from_be_bytes(fixed(b.get(12..).ok_or("short interval")?)?);
            text(interval_text(micros, days, months))
        }
        PgType::Uuid => {
            let u = fixed::<16>(b)?;
            let mut out = String::with_capacity(36);
            for (i, byte) in u.iter().enumerate() {
                if matches!(i, 4 | 6 | 8 | 10) {
                    out.push('-');
                }
                let _ = write!(out, "{byte:02x}");
            }
            text(out)
        }
        PgType::Inet => text(inet_text(b)?),
        PgType::MacAddr | PgType::MacAddr8 => {
            let expected = if *ty == PgType::MacAddr { 6 } else { 8 };
            if b.len() != expected {
                return Err(format!("MAC address of {} bytes", b.len()));
            }
            text(b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(":"))
        }
        PgType::Bit => {
            let bits = usize::try_from(i32::from_be_bytes(fixed(b.get(..4).ok_or("short bit string")?)?))
                .map_err(|_| "negative bit length")?;
            let data = &b[4..];
            if data.len() != bits.div_ceil(8) {
                return Err("bit string length does not match its data".into());
            }
            text((0..bits).map(|i| if data[i / 8] & (0x80 >> (i % 8)) != 0 { '1' } else { '0' }).collect())
        }
        PgType::PgLsn => {
            let lsn = u64::from_be_bytes(fixed(b)?);
            text(format!("{:X}/{:X}", lsn >> 32, lsn & 0xffff_ffff))
        }
        PgType::Point
        | PgType::Lseg
        | PgType::Box
        | PgType::Path
        | PgType::Polygon
        | PgType::Line
        | PgType::Circle => text(geometric_text(ty, b)?),
        PgType::Geometry => text(wkb_to_wkt(b)?),
        PgType::Void => Ok(Cell::Null),
        PgType::Array(_) | PgType::Composite(_) | PgType::Record | PgType::Hstore => {
            let mut out = Vec::with_capacity(b.len() * 2);
            write_nested(ty, b, &mut out, 0)?;
            String::from_utf8(out).map_err(|e| e.to_string()).and_then(text)
        }
        PgType::Range(element) => text(range_text(element, b)?),
        PgType::Unsupported(name) => Err(format!("type {name} cannot be decoded")),
    }
}

fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N], String> {
    bytes.try_into().map_err(|_| format!("expected {N} bytes, got {}", bytes.len()))
}

fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))
}

/// Days since 1970-01-01 → proleptic Gregorian (year, month, day); H. Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn push_pg_date(out: &mut String, days_since_2000: i64) {
    let (y, m, d) = civil_from_days(days_since_2000 + PG_EPOCH_DAYS);
    push_date(out, y, m, d);
}

fn push_day_time(out: &mut String, micros: i64) -> Result<(), String> {
    // 24:00:00 is a valid time of day in PostgreSQL.
    if !(0..=MICROS_PER_DAY).contains(&micros) {
        return Err(format!("time of day out of range: {micros} µs"));
    }
    let secs = micros / 1_000_000;
    push_time(
        out,
        (secs / 3600) as u64,
        (secs / 60 % 60) as u8,
        (secs % 60) as u8,
        (micros % 1_000_000) as u32,
    );
    Ok(())
}

fn push_offset(out: &mut String, seconds_east: i64) {
    let sign = if seconds_east < 0 { '-' } else { '+' };
    let s = seconds_east.unsigned_abs();
    let _ = write!(out, "{sign}{:02}:{:02}", s / 3600, s / 60 % 60);
    if !s.is_multiple_of(60) {
        let _ = write!(out, ":{:02}", s % 60);
    }
}

/// PostgreSQL's own `intervalstyle = postgres` text, e.g. `1 year 2 mons 3 days 04:05:06.5`:
/// an interval has no ISO 8601 form that keeps months, days and time apart as PostgreSQL does.
fn interval_text(micros: i64, days: i32, months: i32) -> String {
    if (micros, days, months) == (i64::MAX, i32::MAX, i32::MAX) {
        return "infinity".into();
    }
    if (micros, days, months) == (i64::MIN, i32::MIN, i32::MIN) {
        return "-infinity".into();
    }
    let mut out = String::new();
    let (mut is_zero, mut is_before) = (true, false);
    for (value, unit) in [(months / 12, "year"), (months % 12, "mon"), (days, "day")] {
        if value == 0 {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        let plus = if !is_zero && value > 0 && is_before { "+" } else { "" };
        let _ = write!(out, "{plus}{value} {unit}{}", if value == 1 { "" } else { "s" });
        is_before = value < 0;
        is_zero = false;
    }
    if is_zero || micros != 0 {
        if !is_zero {
            out.push(' ');
        }
        out.push_str(if micros < 0 {
            "-"
        } else if is_before {
            "+"
        } else {
            ""
        });
        let abs = micros.unsigned_abs();
        let secs = abs / 1_000_000;
        let _ = write!(out, "{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
        let fraction = abs % 1_000_000;
        if fraction != 0 {
            let digits = format!("{fraction:06}");
            out.push('.');
            out.push_str(digits.trim_end_matches('0'));
        }
    }
    out
}

/// The binary numeric (base-10000 digits, weight, sign, display scale) as decimal text with
/// exactly `dscale` fraction digits, as PostgreSQL prints it.
fn numeric_text(b: &[u8]) -> Result<String, String> {
    let header = b.get(..8).ok_or("short numeric")?;
    let word = |i: usize| u16::from_be_bytes([header[i], header[i + 1]]);
    let (ndigits, weight, sign, dscale) =
        (usize::from(word(0)), word(2) as i16, word(4), usize::from(word(6)));
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        other => return Err(format!("bad numeric sign {other:#x}")),
    }
    if b.len() != 8 + 2 * ndigits {
        return Err("numeric length does not match its digit count".into());
    }
    let digit = |i: i64| -> u16 {
        usize::try_from(i)
            .ok()
            .filter(|&i| i < ndigits)
            .map_or(0, |i| u16::from_be_bytes([b[8 + 2 * i], b[9 + 2 * i]]))
    };
    if (0..ndigits as i64).any(|i| digit(i) > 9999) {
        return Err("numeric digit out of range".into());
    }
    let weight = i64::from(weight);
    let mut out = String::with_capacity(ndigits * 4 + dscale + 3);
    if sign == 0x4000 {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        for i in 0..=weight {
            let _ = if i == 0 { write!(out, "{}", digit(i)) } else { write!(out, "{:04}", digit(i)) };
        }
    }
    if dscale > 0 {
        out.push('.');
        let start = out.len();
        let mut i = weight + 1;
        while out.len() - start < dscale {
            let _ = write!(out, "{:04}", digit(i));
            i += 1;
        }
        out.truncate(start + dscale);
    }
    Ok(out)
}

/// An integer count of currency units' fractions (`money`) as decimal text.
fn scaled_text(value: i64, scale: u8) -> String {
    let abs = value.unsigned_abs();
    let sign = if value < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{abs}");
    }
    let div = 10u64.pow(u32::from(scale.min(19)));
    format!("{sign}{}.{:0width$}", abs / div, abs % div, width = usize::from(scale))
}

fn inet_text(b: &[u8]) -> Result<String, String> {
    let [family, bits, is_cidr, len] = fixed::<4>(b.get(..4).ok_or("short inet")?)?;
    let addr = &b[4..];
    if addr.len() != usize::from(len) {
        return Err("inet length does not match its data".into());
    }
    let (text, max_bits) = match family {
        2 => (std::net::Ipv4Addr::from(fixed::<4>(addr)?).to_string(), 32),
        3 => (std::net::Ipv6Addr::from(fixed::<16>(addr)?).to_string(), 128),
        other => return Err(format!("unknown inet family {other}")),
    };
    Ok(if is_cidr != 0 || bits != max_bits { format!("{text}/{bits}") } else { text })
}

/// Geometric types in PostgreSQL's own text forms: `(x,y)`, `[(x,y),(x,y)]`, `<(x,y),r>`, ...
fn geometric_text(ty: &PgType, b: &[u8]) -> Result<String, String> {
    let numbers = |bytes: &[u8]| -> Result<Vec<f64>, String> {
        if !bytes.len().is_multiple_of(8) {
            return Err("geometric value is not a whole number of floats".into());
        }
        Ok(bytes
            .chunks_exact(8)
            .map(|c| f64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect())
    };
    let points = |v: &[f64]| {
        v.chunks(2)
            .map(|p| {
                let mut s = String::from("(");
                push_number(&mut s, p[0]);
                s.push(',');
                push_number(&mut s, p.get(1).copied().unwrap_or(f64::NAN));
                s.push(')');
                s
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let expect = |v: &Vec<f64>, n: usize| {
        if v.len() == n {
            Ok(())
        } else {
            Err(format!("geometric value has {} numbers, expected {n}", v.len()))
        }
    };
    Ok(match ty {
        PgType::Point => {
            let v = numbers(b)?;
            expect(&v, 2)?;
            points(&v)
        }
        PgType::Lseg => {
            let v = numbers(b)?;
            expect(&v, 4)?;
            format!("[{}]", points(&v))
        }
        PgType::Box => {
            let v = numbers(b)?;
            expect(&v, 4)?;
            points(&v)
        }
        PgType::Line => {
            let v = numbers(b)?;
            expect(&v, 3)?;
            let mut s = String::from("{");
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                push_number(&mut s, *x);
            }
            s.push('}');
            s
        }
        PgType::Circle => {
            let v = numbers(b)?;
            expect(&v, 3)?;
            let mut s = format!("<{},", points(&v[..2]));
            push_number(&mut s, v[2]);
            s.push('>');
            s
        }
        PgType::Path => {
            let closed = *b.first().ok_or("short path")? != 0;
            let n = i32::from_be_bytes(fixed(b.get(1..5).ok_or("short path")?)?);
            let v = numbers(&b[5..])?;
            expect(&v, usize::try_from(n).map_err(|_| "negative point count")? * 2)?;
            if closed {
                format!("({})", points(&v))
            } else {
                format!("[{}]", points(&v))
            }
        }
        _ => {
            let n = i32::from_be_bytes(fixed(b.get(..4).ok_or("short polygon")?)?);
            let v = numbers(&b[4..])?;
            expect(&v, usize::try_from(n).map_err(|_| "negative point count")? * 2)?;
            format!("({})", points(&v))
        }
    })
}

/// Reads 4-byte-length-prefixed values (-1 is NULL) from a binary container.
struct Items<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Items<'a> {
    fn i32(&mut self) -> Result<i32, String> {
        let v = i32::from_be_bytes(fixed(
            self.b.get(self.pos..self.pos + 4).ok_or("container value is cut short")?,
        )?);
        self.pos += 4;
        Ok(v)
    }

    fn value(&mut self) -> Result<Option<&'a [u8]>, String> {
        let len = self.i32()?;
        if len < 0 {
            return Ok(None);
        }
        let end = self.pos + len as usize;
        let v = self.b.get(self.pos..end).ok_or("container value is cut short")?;
        self.pos = end;
        Ok(Some(v))
    }

    fn done(&self) -> Result<(), String> {
        if self.pos == self.b.len() {
            Ok(())
        } else {
            Err("trailing bytes in container value".into())
        }
    }
}

/// Containers nest (arrays of composites of arrays...); deeper input is refused.
const MAX_NESTING: usize = 32;

/// Writes a value as JSON inside an array, composite or hstore: JSON documents are embedded
/// as JSON, containers recurse, everything else follows the top-level cell rules.
fn write_nested(ty: &PgType, b: &[u8], out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    if depth > MAX_NESTING {
        return Err("value nested too deeply".into());
    }
    match ty {
        PgType::Json => out.extend_from_slice(utf8(b)?.as_bytes()),
        PgType::Jsonb => match b.split_first() {
            Some((1, rest)) => out.extend_from_slice(utf8(rest)?.as_bytes()),
            _ => return Err("unknown jsonb version".into()),
        },
        PgType::Array(element) => write_array(element, b, out, depth)?,
        PgType::Composite(fields) => {
            let mut items = Items { b, pos: 0 };
            let n = items.i32()?;
            if usize::try_from(n).ok() != Some(fields.len()) {
                return Err(format!("composite has {n} fields, expected {}", fields.len()));
            }
            out.push(b'{');
            for (i, (name, field)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                crate::format::write_json_str(name, out);
                out.push(b':');
                items.i32()?;
                write_optional(field, items.value()?, out, depth)?;
            }
            out.push(b'}');
            items.done()?;
        }
        PgType::Record => {
            let mut items = Items { b, pos: 0 };
            let n = items.i32()?;
            out.push(b'[');
            for i in 0..n {
                if i > 0 {
                    out.push(b',');
                }
                let oid = items.i32()? as u32;
                let field = PgType::from_oid(oid, 2).ok_or(format!("record field of type OID {oid}"))?;
                write_optional(&field, items.value()?, out, depth)?;
            }
            out.push(b']');
            items.done()?;
        }
        PgType::Hstore => {
            let mut items = Items { b, pos: 0 };
            let n = items.i32()?;
            out.push(b'{');
            for i in 0..n {
                if i > 0 {
                    out.push(b',');
                }
                let key = items.value()?.ok_or("hstore key is NULL")?;
                crate::format::write_json_str(utf8(key)?, out);
                out.push(b':');
                write_optional(&PgType::Text, items.value()?, out, depth)?;
            }
            out.push(b'}');
            items.done()?;
        }
        _ => write_json_value(&to_cell(ty, b)?, out),
    }
    Ok(())
}

fn write_optional(ty: &PgType, value: Option<&[u8]>, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    match value {
        Some(b) => write_nested(ty, b, out, depth + 1),
        None => {
            out.extend_from_slice(b"null");
            Ok(())
        }
    }
}

/// A binary array (dimensions, lower bounds, elements in row-major order) as nested JSON
/// arrays; lower bounds are dropped, as JSON arrays start at 0.
fn write_array(element: &PgType, b: &[u8], out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    let mut items = Items { b, pos: 0 };
    let ndim = items.i32()?;
    items.i32()?; // has-nulls flag: the -1 lengths say the same
    items.i32()?; // element OID: the column type already names it
    let ndim =
        usize::try_from(ndim).ok().filter(|&n| n <= 6).ok_or(format!("array with {ndim} dimensions"))?;
    let mut dims = Vec::with_capacity(ndim);
    for _ in 0..ndim {
        let len = usize::try_from(items.i32()?).map_err(|_| "negative array dimension")?;
        items.i32()?;
        dims.push(len);
    }
    if dims.is_empty() {
        out.extend_from_slice(b"[]");
        return items.done();
    }
    let total = dims.iter().try_fold(1usize, |acc, d| acc.checked_mul(*d)).ok_or("array too large")?;
    // Every element takes at least its 4-byte length.
    if total > (b.len() - items.pos) / 4 {
        return Err("array claims more elements than it holds".into());
    }
    write_dimension(element, &dims, &mut items, out, depth)?;
    items.done()
}

fn write_dimension(
    element: &PgType,
    dims: &[usize],
    items: &mut Items<'_>,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), String> {
    out.push(b'[');
    for i in 0..dims[0] {
        if i > 0 {
            out.push(b',');
        }
        if dims.len() > 1 {
            write_dimension(element, &dims[1..], items, out, depth)?;
        } else {
            write_optional(element, items.value()?, out, depth)?;
        }
    }
    out.push(b']');
    Ok(())
}

/// A range in PostgreSQL's text form (`[1,10)`, `empty`), its bounds written as our cells are.
fn range_text(element: &PgType, b: &[u8]) -> Result<String, String> {
    const EMPTY: u8 = 0x01;
    const LB_INC: u8 = 0x02;
    const UB_INC: u8 = 0x04;
    const LB_INF: u8 = 0x08;
    const UB_INF: u8 = 0x10;
    let (&flags, rest) = b.split_first().ok_or("empty range value")?;
    if flags & EMPTY != 0 {
        return Ok("empty".into());
    }
    let mut items = Items { b: rest, pos: 0 };
    let mut out = String::from(if flags & LB_INC != 0 { "[" } else { "(" });
    if flags & LB_INF == 0 {
        push_bound(&mut out, element, items.value()?.ok_or("NULL range bound")?)?;
    }
    out.push(',');
    if flags & UB_INF == 0 {
        push_bound(&mut out, element, items.value()?.ok_or("NULL range bound")?)?;
    }
    out.push(if flags & UB_INC != 0 { ']' } else { ')' });
    items.done()?;
    Ok(out)
}

fn push_bound(out: &mut String, element: &PgType, b: &[u8]) -> Result<(), String> {
    let text = match to_cell(element, b)? {
        Cell::Int(v) => v.to_string(),
        Cell::UInt(v) => v.to_string(),
        Cell::Float(v) => {
            let mut s = String::new();
            push_number(&mut s, v);
            s
        }
        Cell::Decimal(s) | Cell::Text(s) => s.into_owned(),
        Cell::Bool(v) => v.to_string(),
        Cell::Null => String::new(),
        Cell::Bytes(_) => return Err("binary range bounds are not supported".into()),
    };
    let needs_quotes = text.is_empty()
        || text.chars().any(|c| matches!(c, '"' | '\\' | '(' | ')' | '[' | ']' | ',') || c.is_whitespace());
    if needs_quotes {
        out.push('"');
        for c in text.chars() {
            if c == '"' || c == '\\' {
                out.push(c);
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(&text);
    }
    Ok(())
}

/// SQLSTATE → our kinds. `57014` (query_canceled) is a timeout only when the statement timeout
/// caused it, which the caller decides from the message.
fn kind_for_sqlstate(code: &str) -> ErrorKind {
    match code {
        "28P01" | "28000" | "42501" => ErrorKind::AccessDenied,
        "3D000" => ErrorKind::NotFound,
        "25006" => ErrorKind::ReadOnly,
        "57014" => ErrorKind::Cancelled,
        "53300" | "57P01" | "57P02" | "57P03" => ErrorKind::Unreachable,
        _ if code.starts_with("08") => ErrorKind::Unreachable,
        _ => ErrorKind::Sql,
    }
}

fn server_name(settings: &PostgresSettings) -> String {
    format!("PostgreSQL at {}:{}", settings.host, settings.port)
}

fn map_error(error: sqlx::Error, ctx: &ErrorContext<'_, PostgresSettings>) -> ConnectorError {
    let where_ = server_name(ctx.settings);
    let (kind, message) = match &error {
        sqlx::Error::Database(db) => {
            let pg = db.try_downcast_ref::<PgDatabaseError>();
            let code = pg
                .map_or_else(|| db.code().map(Cow::into_owned).unwrap_or_default(), |p| p.code().to_string());
            let mut message = db.message().to_string();
            if let Some(hint) = pg.and_then(PgDatabaseError::hint) {
                let _ = write!(message, " (hint: {hint})");
            }
            match (kind_for_sqlstate(&code), ctx.timeout) {
                (ErrorKind::Cancelled, Some(limit)) if message.contains("statement timeout") => {
                    return ConnectorError::timeout(limit)
                }
                (ErrorKind::Cancelled, _) if message.contains("statement timeout") => {
                    (ErrorKind::Timeout, message)
                }
                (kind, _) => (kind, message),
            }
        }
        other => describe_transport_error(other, &where_),
    };
    ctx.error(kind, &message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(ty: &PgType, bytes: &[u8]) -> String {
        let mut out = Vec::new();
        write_json_value(&to_cell(ty, bytes).unwrap(), &mut out);
        String::from_utf8(out).unwrap()
    }

    fn numeric(weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut b = Vec::new();
        for w in [digits.len() as u16, weight as u16, sign, dscale] {
            b.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b
    }

    #[test]
    fn numerics_keep_every_digit() {
        assert_eq!(json(&PgType::Numeric, &numeric(1, 0, 4, &[12, 3456, 7800])), "123456.7800");
        assert_eq!(json(&PgType::Numeric, &numeric(-2, 0x4000, 8, &[1])), "-0.00000001");
        assert_eq!(json(&PgType::Numeric, &numeric(0, 0, 0, &[])), "0");
        assert_eq!(json(&PgType::Numeric, &numeric(0, 0, 2, &[])), "0.00");
        assert_eq!(json(&PgType::Numeric, &numeric(2, 0, 0, &[1])), "100000000");
        assert_eq!(
            json(&PgType::Numeric, &numeric(4, 0, 3, &[1234, 5678, 9012, 3456, 7890, 1230])),
            "12345678901234567890.123"
        );
        assert_eq!(json(&PgType::Numeric, &numeric(0, 0xC000, 0, &[])), "null");
        assert_eq!(json(&PgType::Numeric, &numeric(0, 0xD000, 0, &[])), "null");
        assert!(to_cell(&PgType::Numeric, &numeric(0, 0, 0, &[10000])).is_err());
        assert!(to_cell(&PgType::Numeric, &[0, 1]).is_err());
    }

    #[test]
    fn integers_floats_money_and_bools() {
        assert_eq!(json(&PgType::Int2, &(-5i16).to_be_bytes()), "-5");
        assert_eq!(json(&PgType::Int4, &i32::MAX.to_be_bytes()), "2147483647");
        assert_eq!(json(&PgType::Int8, &i64::MAX.to_be_bytes()), "\"9223372036854775807\"");
        assert_eq!(json(&PgType::Oid, &u32::MAX.to_be_bytes()), "4294967295");
        assert_eq!(json(&PgType::Float4, &0.1f32.to_be_bytes()), "0.1");
        assert_eq!(json(&PgType::Float8, &f64::INFINITY.to_be_bytes()), "null");
        assert_eq!(json(&PgType::Money(2), &(-1234i64).to_be_bytes()), "-12.34");
        assert_eq!(json(&PgType::Money(0), &5i64.to_be_bytes()), "5");
        assert_eq!(json(&PgType::Money(2), &i64::MIN.to_be_bytes()), "-92233720368547758.08");
        assert_eq!(json(&PgType::Bool, &[1]), "true");
        assert_eq!(json(&PgType::Void, &[]), "null");
    }

    #[test]
    fn dates_times_and_intervals() {
        assert_eq!(json(&PgType::Date, &0i32.to_be_bytes()), "\"2000-01-01\"");
        assert_eq!(json(&PgType::Date, &(-730_485i32).to_be_bytes()), "\"0000-01-01\"");
        assert_eq!(json(&PgType::Date, &i32::MAX.to_be_bytes()), "\"infinity\"");
        let ts = (8_828i64 * MICROS_PER_DAY) + 3_723_000_001;
        assert_eq!(json(&PgType::Timestamp, &ts.to_be_bytes()), "\"2024-03-03T01:02:03.000001\"");
        assert_eq!(
            json(&PgType::TimestampTz, &(-1i64).to_be_bytes()),
            "\"1999-12-31T23:59:59.999999+00:00\""
        );
        assert_eq!(json(&PgType::Timestamp, &i64::MIN.to_be_bytes()), "\"-infinity\"");
        assert_eq!(json(&PgType::Time, &MICROS_PER_DAY.to_be_bytes()), "\"24:00:00\"");
        let mut timetz = (47_106_250_000i64).to_be_bytes().to_vec();
        timetz.extend_from_slice(&(-19_800i32).to_be_bytes());
        assert_eq!(json(&PgType::TimeTz, &timetz), "\"13:05:06.250000+05:30\"");
        assert_eq!(interval_text(-14_706_500_000, 3, 10), "10 mons 3 days -04:05:06.5");
        assert_eq!(interval_text(0, -1, 0), "-1 days");
        assert_eq!(interval_text(0, 0, 0), "00:00:00");
        assert_eq!(interval_text(360_000_000_000, 0, 0), "100:00:00");
        assert_eq!(interval_text(-1_000_000, 0, 1), "1 mon -00:00:01");
        assert_eq!(interval_text(0, 5, -14), "-1 years -2 mons +5 days");
        assert!(to_cell(&PgType::Time, &(-1i64).to_be_bytes()).is_err());
    }

    #[test]
    fn identifiers_and_addresses() {
        let uuid =
            [0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11];
        assert_eq!(json(&PgType::Uuid, &uuid), "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
        assert_eq!(json(&PgType::Inet, &[2, 32, 0, 4, 192, 168, 0, 1]), "\"192.168.0.1\"");
        assert_eq!(json(&PgType::Inet, &[2, 24, 1, 4, 10, 0, 0, 0]), "\"10.0.0.0/24\"");
        let mut v6 = vec![3, 64, 0, 16, 0x20, 0x01, 0x0d, 0xb8];
        v6.extend([0; 12]);
        assert_eq!(json(&PgType::Inet, &v6), "\"2001:db8::/64\"");
        assert_eq!(json(&PgType::MacAddr, &[8, 0, 0x2b, 1, 2, 3]), "\"08:00:2b:01:02:03\"");
        assert_eq!(json(&PgType::Bit, &[0, 0, 0, 10, 0b1011_0000, 0b0100_0000]), "\"1011000001\"");
        assert_eq!(json(&PgType::PgLsn, &0x0000_0001_0000_00a0u64.to_be_bytes()), "\"1/A0\"");
        assert_eq!(json(&PgType::Char, b"x"), "\"x\"");
    }

    #[test]
    fn text_json_and_bytes() {
        assert_eq!(json(&PgType::Text, "ünï 😀".as_bytes()), "\"ünï 😀\"");
        assert_eq!(json(&PgType::Json, br#"{"a":1}"#), r#""{\"a\":1}""#);
        assert_eq!(json(&PgType::Jsonb, b"\x01{\"a\": 1}"), r#""{\"a\": 1}""#);
        assert!(to_cell(&PgType::Jsonb, b"\x02{}").is_err());
        assert_eq!(json(&PgType::Bytea, &[0xde, 0xad, 0xbe, 0xef]), "\"3q2+7w==\"");
    }

    fn array(elem_oid: u32, dims: &[(i32, i32)], items: &[Option<Vec<u8>>]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend((dims.len() as i32).to_be_bytes());
        b.extend(i32::from(items.iter().any(Option::is_none)).to_be_bytes());
        b.extend(elem_oid.to_be_bytes());
        for (len, lower) in dims {
            b.extend(len.to_be_bytes());
            b.extend(lower.to_be_bytes());
        }
        for item in items {
            match item {
                Some(v) => {
                    b.extend((v.len() as i32).to_be_bytes());
                    b.extend(v);
                }
                None => b.extend((-1i32).to_be_bytes()),
            }
        }
        b
    }

    #[test]
    fn arrays_become_json_text() {
        let int4 = |v: i32| Some(v.to_be_bytes().to_vec());
        let ty = PgType::Array(std::boxed::Box::new(PgType::Int4));
        let two_by_two = array(23, &[(2, 1), (2, 1)], &[int4(1), int4(2), int4(3), None]);
        assert_eq!(json(&ty, &two_by_two), r#""[[1,2],[3,null]]""#);
        assert_eq!(json(&ty, &array(23, &[], &[])), r#""[]""#);
        let texts = PgType::Array(std::boxed::Box::new(PgType::Text));
        assert_eq!(
            json(&texts, &array(25, &[(2, 1)], &[Some(b"a\"b".to_vec()), Some(b"".to_vec())])),
            r#""[\"a\\\"b\",\"\"]""#
        );
        let jsonb = PgType::Array(std::boxed::Box::new(PgType::Jsonb));
        assert_eq!(
            json(&jsonb, &array(3802, &[(1, 1)], &[Some(b"\x01{\"k\": [1]}".to_vec())])),
            r#""[{\"k\": [1]}]""#
        );
        assert!(to_cell(&ty, &array(23, &[(3, 1)], &[int4(1)])).is_err());
    }

    #[test]
    fn ranges_composites_and_geometry() {
        let ty = PgType::Range(std::boxed::Box::new(PgType::Int4));
        let mut r = vec![0x02];
        for v in [1i32, 10] {
            r.extend(4i32.to_be_bytes());
            r.extend(v.to_be_bytes());
        }
        assert_eq!(json(&ty, &r), "\"[1,10)\"");
        assert_eq!(json(&ty, &[0x01]), "\"empty\"");
        let mut unbounded = vec![0x10 | 0x02];
        unbounded.extend(4i32.to_be_bytes());
        unbounded.extend(5i32.to_be_bytes());
        assert_eq!(json(&ty, &unbounded), "\"[5,)\"");

        let composite = PgType::Composite(vec![("id".into(), PgType::Int4), ("name".into(), PgType::Text)]);
        let mut c = 2i32.to_be_bytes().to_vec();
        c.extend(23u32.to_be_bytes());
        c.extend(4i32.to_be_bytes());
        c.extend(7i32.to_be_bytes());
        c.extend(25u32.to_be_bytes());
        c.extend((-1i32).to_be_bytes());
        assert_eq!(json(&composite, &c), r#""{\"id\":7,\"name\":null}""#);
        assert_eq!(json(&PgType::Record, &c), r#""[7,null]""#);

        let mut point = Vec::new();
        for v in [1.5f64, -2.0] {
            point.extend(v.to_be_bytes());
        }
        assert_eq!(json(&PgType::Point, &point), "\"(1.5,-2)\"");
        let mut circle = point.clone();
        circle.extend(3.0f64.to_be_bytes());
        assert_eq!(json(&PgType::Circle, &circle), "\"<(1.5,-2),3>\"");
        let mut path = vec![0];
        path.extend(2i32.to_be_bytes());
        path.extend(&point);
        path.extend(&point);
        assert_eq!(json(&PgType::Path, &path), "\"[(1.5,-2),(1.5,-2)]\"");
    }

    #[test]
    fn sqlstates_map_to_kinds() {
        assert_eq!(kind_for_sqlstate("28P01"), ErrorKind::AccessDenied);
        assert_eq!(kind_for_sqlstate("3D000"), ErrorKind::NotFound);
        assert_eq!(kind_for_sqlstate("42601"), ErrorKind::Sql);
        assert_eq!(kind_for_sqlstate("25006"), ErrorKind::ReadOnly);
        assert_eq!(kind_for_sqlstate("08006"), ErrorKind::Unreachable);
    }

    #[test]
    fn civil_dates_round_the_calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        let mut out = String::new();
        push_pg_date(&mut out, -2_451_545);
        assert_eq!(out, "-4713-11-24");
    }
}
