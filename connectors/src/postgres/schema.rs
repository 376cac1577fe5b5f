//! What the connection dialogs list on PostgreSQL, from the system catalogs. Every catalog
//! query selects `text` columns (booleans as `true`/`false`).

use super::PostgresSettings;
use crate::error::{ConnectorError, Result};
use crate::sqlx_common::{first_value, Server};
use crate::{ColumnInfo, Listing, TableInfo};
use sqlx::postgres::{PgRow, Postgres};
use sqlx::Row as _;

type PostgresServer = Server<Postgres, PostgresSettings>;

/// The login's role attributes, its membership in the predefined roles that reach beyond the
/// database, and what it may change in this database (`privileges::postgres_warnings`).
pub(super) async fn privilege_warnings(server: &PostgresServer) -> Result<Vec<String>> {
    const SQL: &str = "\
        WITH writable AS ( \
            SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name \
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
            WHERE c.relkind IN ('r', 'p', 'v', 'f') \
              AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' \
              AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')) \
        SELECT r.rolsuper::text, r.rolcreaterole::text, r.rolcreatedb::text, r.rolreplication::text, \
            r.rolbypassrls::text, \
            coalesce((SELECT string_agg(g.rolname::text, ',' ORDER BY g.rolname) FROM pg_roles g \
                WHERE g.rolname IN ('pg_write_server_files', 'pg_execute_server_program', \
                    'pg_read_server_files', 'pg_signal_backend', 'pg_write_all_data') \
                  AND pg_has_role(current_user, g.oid, 'MEMBER')), ''), \
            (SELECT count(*) FROM writable)::text, \
            coalesce((SELECT string_agg(name, ',') FROM (SELECT name FROM writable ORDER BY name LIMIT 3) s), ''), \
            coalesce((SELECT string_agg(quote_ident(nspname), ',' ORDER BY nspname) FROM pg_namespace \
                WHERE has_schema_privilege(oid, 'CREATE') \
                  AND nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%'), ''), \
            has_database_privilege(current_database(), 'CREATE')::text \
        FROM pg_roles r WHERE r.rolname = current_user";
    let rows = server.catalog(SQL, &[], text(server)).await?;
    let row =
        rows.into_iter().next().ok_or_else(|| ConnectorError::internal("the login's role was not found"))?;
    let at = |i: usize| row.get(i).map_or("", String::as_str);
    let list = |i: usize| -> Vec<String> {
        at(i).split(',').filter(|s| !s.is_empty()).map(str::to_string).collect()
    };
    let login = crate::privileges::PostgresLogin {
        superuser: at(0) == "true",
        create_role: at(1) == "true",
        create_db: at(2) == "true",
        replication: at(3) == "true",
        bypass_rls: at(4) == "true",
        powerful_roles: list(5),
        writable_tables: at(6).parse().unwrap_or(0),
        writable_sample: list(7),
        create_schemas: list(8),
        create_in_database: at(9) == "true",
    };
    Ok(crate::privileges::postgres_warnings(&login))
}

/// `PostgreSQL 15.8`.
pub(super) async fn version(server: &PostgresServer) -> Result<String> {
    let rows = server.catalog("SELECT current_setting('server_version')", &[], text(server)).await?;
    let version =
        first_value(rows).ok_or_else(|| ConnectorError::internal("the server did not report its version"))?;
    Ok(format!("PostgreSQL {version}"))
}

pub(super) async fn list(server: &PostgresServer, what: Listing) -> Result<Vec<String>> {
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
    Ok(server
        .catalog(sql, &[], text(server))
        .await?
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .collect())
}

pub(super) async fn tables(server: &PostgresServer, schema: Option<&str>) -> Result<Vec<TableInfo>> {
    let rows = server
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
            text(server),
        )
        .await?;
    if rows.is_empty() {
        if let Some(schema) = schema {
            let found = server
                .catalog(
                    "SELECT nspname::text FROM pg_namespace WHERE nspname = $1",
                    &[Some(schema)],
                    text(server),
                )
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

pub(super) async fn columns(
    server: &PostgresServer,
    schema: Option<&str>,
    table: &str,
) -> Result<Vec<ColumnInfo>> {
    let rows = server
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
            text(server),
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

/// Reads one `text` catalog value; NULL reads as empty.
fn text(server: &PostgresServer) -> impl Fn(&PgRow, usize) -> Result<String> + '_ {
    |row, i| {
        row.try_get::<Option<String>, _>(i).map(Option::unwrap_or_default).map_err(|e| server.error(e, None))
    }
}
