//! What the connection dialogs list on MySQL/MariaDB, from `information_schema`. A MySQL schema
//! is a database.

use super::value::raw_bytes;
use super::MysqlSettings;
use crate::error::{ConnectorError, Result};
use crate::sqlx_common::{first_value, Server};
use crate::{ColumnInfo, Listing, TableInfo};
use sqlx::mysql::{MySql, MySqlRow};
use sqlx::{Row as _, ValueRef as _};

type MysqlServer = Server<MySql, MysqlSettings>;

/// What the login may do beyond reading, from `SHOW GRANTS` (`privileges::mysql_grant_warnings`).
pub(super) async fn privilege_warnings(server: &MysqlServer) -> Result<Vec<String>> {
    let rows = server.catalog("SHOW GRANTS", &[], text_at).await?;
    let lines: Vec<String> = rows.into_iter().filter_map(|r| r.into_iter().next()).collect();
    Ok(crate::privileges::mysql_grant_warnings(&lines))
}

/// `MariaDB 10.11.19` / `MySQL 8.0.36`.
pub(super) async fn version(server: &MysqlServer) -> Result<String> {
    let rows = server.catalog("SELECT VERSION()", &[], text_at).await?;
    let version =
        first_value(rows).ok_or_else(|| ConnectorError::internal("the server did not report its version"))?;
    Ok(describe_version(&version))
}

pub(super) async fn list(server: &MysqlServer, what: Listing) -> Result<Vec<String>> {
    match what {
        Listing::Databases | Listing::Schemas => Ok(server
            .catalog("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME", &[], text_at)
            .await?
            .into_iter()
            .filter_map(|r| r.into_iter().next())
            .collect()),
        Listing::Roles | Listing::Warehouses => {
            Err(ConnectorError::unsupported("MySQL/MariaDB connections have no roles or warehouses to pick"))
        }
    }
}

pub(super) async fn tables(server: &MysqlServer, schema: Option<&str>) -> Result<Vec<TableInfo>> {
    let rows = server
        .catalog(
            "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES \
             WHERE (? IS NULL AND TABLE_SCHEMA NOT IN \
                    ('information_schema', 'mysql', 'performance_schema', 'sys')) \
                OR TABLE_SCHEMA = ? \
             ORDER BY TABLE_SCHEMA, TABLE_NAME",
            &[schema, schema],
            text_at,
        )
        .await?;
    if rows.is_empty() {
        if let Some(schema) = schema {
            let found = server
                .catalog(
                    "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                    &[Some(schema)],
                    text_at,
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

pub(super) async fn columns(
    server: &MysqlServer,
    schema: Option<&str>,
    table: &str,
) -> Result<Vec<ColumnInfo>> {
    let rows = server
        .catalog(
            "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? \
             ORDER BY ORDINAL_POSITION",
            &[schema, Some(table)],
            text_at,
        )
        .await?;
    if rows.is_empty() {
        return Err(ConnectorError::not_found(match (schema, &server.settings.database) {
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

/// Reads a catalog value as text whatever its declared type or collation.
fn text_at(row: &MySqlRow, i: usize) -> Result<String> {
    let value = row.try_get_raw(i).map_err(|e| ConnectorError::internal(e.to_string()))?;
    if value.is_null() {
        return Ok(String::new());
    }
    let bytes = raw_bytes(value).map_err(ConnectorError::internal)?;
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// `MariaDB 10.11.19` / `MySQL 8.0.36` from `VERSION()`.
pub(super) fn describe_version(version: &str) -> String {
    if version.contains("MariaDB") {
        format!("MariaDB {}", version.split('-').next().unwrap_or(version))
    } else {
        format!("MySQL {version}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_name_the_server() {
        assert_eq!(describe_version("10.11.19-MariaDB-0+deb12u1"), "MariaDB 10.11.19");
        assert_eq!(describe_version("8.0.36"), "MySQL 8.0.36");
    }
}
