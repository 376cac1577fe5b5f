//! What the connection dialogs list on SQLite: one schema, `main` (ATTACH is disabled), its
//! tables and views from `sqlite_schema`, and columns from `pragma_table_info`.

use super::error::map_error;
use crate::error::{ConnectorError, Result};
use crate::{ColumnInfo, Listing, TableInfo};
use rusqlite::Connection;

const MAIN: &str = "main";

pub(super) fn list(what: Listing) -> Result<Vec<String>> {
    match what {
        Listing::Databases | Listing::Schemas => Ok(vec![MAIN.into()]),
        Listing::Roles | Listing::Warehouses => {
            Err(ConnectorError::unsupported("SQLite has no roles or warehouses"))
        }
    }
}

/// Refuses any schema but `main`, the only one a connection can see.
pub(super) fn only_main(schema: Option<&str>) -> Result<()> {
    match schema.filter(|s| *s != MAIN) {
        Some(other) => {
            Err(ConnectorError::not_found(format!("SQLite has only the schema main, not {other}")))
        }
        None => Ok(()),
    }
}

pub(super) fn tables(conn: &Connection) -> Result<Vec<TableInfo>> {
    let mut stmt = conn
        .prepare(
            "SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        )
        .map_err(|e| map_error(e, None))?;
    let rows = stmt
        .query_map([], |r| Ok(TableInfo { schema: MAIN.into(), name: r.get(0)?, kind: r.get(1)? }))
        .and_then(Iterator::collect)
        .map_err(|e| map_error(e, None))?;
    Ok(rows)
}

pub(super) fn columns(conn: &Connection, table: &str) -> Result<Vec<ColumnInfo>> {
    let mut stmt = conn
        .prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid")
        .map_err(|e| map_error(e, None))?;
    let columns: Vec<ColumnInfo> = stmt
        .query_map([table], |r| {
            let not_null: bool = r.get(2)?;
            Ok(ColumnInfo { name: r.get(0)?, db_type: r.get(1)?, nullable: !not_null })
        })
        .and_then(Iterator::collect)
        .map_err(|e| map_error(e, None))?;
    if columns.is_empty() {
        return Err(ConnectorError::not_found(format!("table {table} does not exist")));
    }
    Ok(columns)
}
