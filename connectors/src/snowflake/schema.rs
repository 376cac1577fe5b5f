//! What the connection dialogs list on Snowflake: `SHOW` and `DESCRIBE` statements, which need
//! no warehouse (docs/snowflake.md, "Listings").

use super::error::not_found_as;
use super::SnowflakeEngine;
use crate::error::{ConnectorError, Result};
use crate::{ColumnInfo, Listing, TableInfo};

pub(super) async fn version(engine: &SnowflakeEngine) -> Result<String> {
    let (_, rows) = engine.fetch("SELECT CURRENT_VERSION()").await?;
    let version = rows.first().and_then(|r| r.get(0)).unwrap_or("unknown");
    Ok(format!("Snowflake {version}"))
}

/// The session's role, and what that role may change (`SHOW GRANTS TO ROLE`; where the account
/// does not answer that, the role's name alone decides).
pub(super) async fn privilege_warnings(engine: &SnowflakeEngine) -> Result<Vec<String>> {
    let (_, rows) = engine.fetch("SELECT CURRENT_ROLE()").await?;
    let role = rows.first().and_then(|r| r.get(0)).unwrap_or("").to_string();
    if role.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SHOW GRANTS TO ROLE {}", quote_ident(&role)?);
    let grants = match engine.fetch(&sql).await {
        Ok((names, rows)) => {
            let privilege = column_index(&names, "privilege", &sql)?;
            let granted_on = column_index(&names, "granted_on", &sql)?;
            let name = column_index(&names, "name", &sql)?;
            rows.iter()
                .map(|row| {
                    let at = |i| row.get(i).unwrap_or("").to_string();
                    (at(privilege), at(granted_on), at(name))
                })
                .collect()
        }
        Err(e) => {
            tracing::debug!("{sql} failed, judging the role by its name only: {e}");
            Vec::new()
        }
    };
    Ok(crate::privileges::snowflake_warnings(&role, &grants))
}

pub(super) async fn list(engine: &SnowflakeEngine, what: Listing) -> Result<Vec<String>> {
    let mut names = match what {
        Listing::Databases => engine.fetch_column("SHOW TERSE DATABASES", "name").await?,
        Listing::Schemas => engine.fetch_column("SHOW TERSE SCHEMAS", "name").await?,
        Listing::Warehouses => engine.fetch_column("SHOW WAREHOUSES", "name").await?,
        Listing::Roles => {
            // The roles this user may switch to (granted ones and their hierarchy), not every
            // role of the account that SHOW ROLES would list.
            let (_, rows) = engine.fetch("SELECT CURRENT_AVAILABLE_ROLES()").await?;
            let text = rows.first().and_then(|r| r.get(0)).unwrap_or("[]");
            serde_json::from_str::<Vec<String>>(text).map_err(|e| {
                ConnectorError::internal(format!(
                    "CURRENT_AVAILABLE_ROLES() did not return a list of names: {e}"
                ))
            })?
        }
    };
    names.sort();
    names.dedup();
    Ok(names)
}

pub(super) async fn tables(engine: &SnowflakeEngine, schema: Option<&str>) -> Result<Vec<TableInfo>> {
    let sql = match schema {
        Some(schema) => format!("SHOW TERSE OBJECTS IN SCHEMA {}", quote_ident(schema)?),
        None => "SHOW TERSE OBJECTS IN DATABASE".to_string(),
    };
    let (names, rows) = engine.fetch(&sql).await.map_err(|e| not_found_as(e, || schema_missing(schema)))?;
    let name_at = column_index(&names, "name", &sql)?;
    let kind_at = column_index(&names, "kind", &sql)?;
    let schema_at = column_index(&names, "schema_name", &sql)?;
    let mut tables: Vec<TableInfo> = rows
        .iter()
        .filter_map(|row| {
            let name = row.get(name_at)?.to_string();
            let kind = row.get(kind_at).unwrap_or("TABLE").to_ascii_uppercase();
            let schema = row.get(schema_at).map(str::to_string).or_else(|| schema.map(str::to_string))?;
            let kind = if kind.contains("VIEW") { "view" } else { "table" };
            Some(TableInfo { schema, name, kind: kind.to_string() })
        })
        .collect();
    tables.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    Ok(tables)
}

pub(super) async fn columns(
    engine: &SnowflakeEngine,
    schema: Option<&str>,
    table: &str,
) -> Result<Vec<ColumnInfo>> {
    let qualified = match schema {
        Some(schema) => format!("{}.{}", quote_ident(schema)?, quote_ident(table)?),
        None => quote_ident(table)?,
    };
    let sql = format!("DESCRIBE TABLE {qualified}");
    let shown = schema.map_or_else(|| table.to_string(), |s| format!("{s}.{table}"));
    let missing =
        || ConnectorError::not_found(format!("table {shown} does not exist or is not visible to this role"));
    let (names, rows) = engine.fetch(&sql).await.map_err(|e| not_found_as(e, missing))?;
    let name_at = column_index(&names, "name", &sql)?;
    let type_at = column_index(&names, "type", &sql)?;
    let null_at = column_index(&names, "null?", &sql)?;
    let columns: Vec<ColumnInfo> = rows
        .iter()
        .filter_map(|row| {
            Some(ColumnInfo {
                name: row.get(name_at)?.to_string(),
                db_type: row.get(type_at).unwrap_or_default().to_string(),
                nullable: !row.get(null_at).is_some_and(|v| v.eq_ignore_ascii_case("N")),
            })
        })
        .collect();
    if columns.is_empty() {
        return Err(missing());
    }
    Ok(columns)
}

fn schema_missing(schema: Option<&str>) -> ConnectorError {
    match schema {
        Some(schema) => ConnectorError::not_found(format!(
            "schema {schema} does not exist or is not visible to this role"
        )),
        None => ConnectorError::not_found(
            "the connection's database does not exist or is not visible to this role",
        ),
    }
}

/// A name as it is stored (as the listings return it), quoted so that case and spaces survive.
fn quote_ident(name: &str) -> Result<String> {
    if name.is_empty() || name.contains('\0') {
        return Err(ConnectorError::invalid("an empty name is not a Snowflake identifier"));
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

pub(super) fn column_index(names: &[String], wanted: &str, sql: &str) -> Result<usize> {
    names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(wanted))
        .ok_or_else(|| ConnectorError::internal(format!("{sql} returned no {wanted} column")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_exactly() {
        assert_eq!(quote_ident("PUBLIC").unwrap(), "\"PUBLIC\"");
        assert_eq!(quote_ident("Mixed Case").unwrap(), "\"Mixed Case\"");
        assert_eq!(quote_ident("a\"b").unwrap(), "\"a\"\"b\"");
        assert!(quote_ident("").is_err());
    }
}
