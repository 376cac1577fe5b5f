//! What the connection dialogs list on DuckDB: the attached database (the file, or `memory`),
//! its schemas, their tables and views and columns, from DuckDB's `information_schema`. Values
//! are bound; nothing the caller sends is spliced into SQL.

use super::error::map_error;
use crate::error::{ConnectorError, Result};
use crate::{ColumnInfo, Listing, TableInfo};
use duckdb::Connection;

/// Schemas every DuckDB database has for its catalog views, not for data.
const SYSTEM_SCHEMAS: &str = "('information_schema', 'pg_catalog')";

fn strings(conn: &Connection, sql: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(sql).map_err(|e| map_error(&e, None))?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(Iterator::collect)
        .map_err(|e| map_error(&e, None))?;
    Ok(rows)
}

pub(super) fn list(conn: &Connection, what: Listing) -> Result<Vec<String>> {
    match what {
        Listing::Databases => strings(conn, "SELECT current_database()"),
        Listing::Schemas => strings(
            conn,
            &format!(
                "SELECT schema_name FROM information_schema.schemata WHERE catalog_name = current_database() \
                 AND schema_name NOT IN {SYSTEM_SCHEMAS} ORDER BY schema_name"
            ),
        ),
        Listing::Roles | Listing::Warehouses => {
            Err(ConnectorError::unsupported("DuckDB has no roles or warehouses"))
        }
    }
}

pub(super) fn tables(conn: &Connection, schema: Option<&str>) -> Result<Vec<TableInfo>> {
    let sql = format!(
        "SELECT table_schema, table_name, table_type FROM information_schema.tables \
         WHERE table_catalog = current_database() AND table_schema NOT IN {SYSTEM_SCHEMAS} \
         AND (CAST(? AS VARCHAR) IS NULL OR table_schema = ?) ORDER BY table_schema, table_name"
    );
    let mut stmt = conn.prepare(&sql).map_err(|e| map_error(&e, None))?;
    let rows = stmt
        .query_map(duckdb::params![schema, schema], |r| {
            let kind: String = r.get(2)?;
            Ok(TableInfo {
                schema: r.get(0)?,
                name: r.get(1)?,
                kind: if kind.eq_ignore_ascii_case("VIEW") { "view".into() } else { "table".into() },
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| map_error(&e, None))?;
    Ok(rows)
}

pub(super) fn columns(conn: &Connection, schema: Option<&str>, table: &str) -> Result<Vec<ColumnInfo>> {
    let mut stmt = conn
        .prepare(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns \
             WHERE table_catalog = current_database() AND table_schema = coalesce(CAST(? AS VARCHAR), current_schema()) \
             AND table_name = ? ORDER BY ordinal_position",
        )
        .map_err(|e| map_error(&e, None))?;
    let columns: Vec<ColumnInfo> = stmt
        .query_map(duckdb::params![schema, table], |r| {
            let nullable: String = r.get(2)?;
            Ok(ColumnInfo {
                name: r.get(0)?,
                db_type: r.get(1)?,
                nullable: nullable.eq_ignore_ascii_case("YES"),
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| map_error(&e, None))?;
    if columns.is_empty() {
        return Err(ConnectorError::not_found(format!("table {table} does not exist")));
    }
    Ok(columns)
}
