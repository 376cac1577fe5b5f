//! `/snowflake/...` dialog listings: roles, then warehouses for a role, then the tables a
//! role and warehouse can see (`database/validate`), each from posted credentials or (`/{id}`)
//! from a saved query's connection.

use super::auth::User;
use super::credentials::{self, given, Body};
use super::{Caller, Family};
use crate::connections;
use crate::error::{Error, Result};
use crate::http::{parse_body, ApiPath};
use axum::body::Bytes;
use axum::Json;
use connectors::dialect::Dialect;
use connectors::{Engine, Format, Listing, Query, ResultSink, SinkOptions, StreamEvent};
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// Tables and views listed for the dialog (Snowflake's SHOW answers at most 10,000 rows).
const TABLES_LISTED: u64 = 10_000;
const LISTING_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Serialize, PartialEq, Eq)]
pub(super) struct TableEntry {
    database: String,
    schema: String,
    table: String,
}

/// Credentials from the body with the session settings the body names.
async fn posted(bytes: &[u8]) -> Result<(Body, Arc<dyn Engine>)> {
    let body: Body = parse_body(bytes)?;
    let mut input = credentials::input(Family::Snowflake, &body)?;
    session(&mut input, &body);
    Ok((body.clone(), credentials::transient(input).await?))
}

/// A saved query's credentials with the session settings the body names.
async fn saved(caller: &Caller, id: i64, bytes: &[u8]) -> Result<(Body, Arc<dyn Engine>)> {
    let (body, query): (Body, _) = caller.request(id, bytes)?;
    if given(&body.role).is_none() && given(&body.warehouse).is_none() {
        return Ok((body, connections::engine(&caller.app, &query.link).await?.engine.clone()));
    }
    let mut input = credentials::stored_input(&caller.app, &query.link).await?;
    for field in ["role", "warehouse", "database", "schema"] {
        input.remove(field);
    }
    session(&mut input, &body);
    Ok((body, credentials::transient(input).await?))
}

fn session(input: &mut Map<String, Value>, body: &Body) {
    for (field, value) in [("role", &body.role), ("warehouse", &body.warehouse)] {
        if let Some(value) = given(value) {
            input.insert(field.into(), value.into());
        }
    }
}

async fn list(engine: Arc<dyn Engine>, what: Listing) -> Result<Json<Vec<String>>> {
    Ok(Json(engine.list(what).await?))
}

pub(super) async fn roles(_user: User, bytes: Bytes) -> Result<Json<Vec<String>>> {
    list(posted(&bytes).await?.1, Listing::Roles).await
}

pub(super) async fn roles_saved(
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    bytes: Bytes,
) -> Result<Json<Vec<String>>> {
    list(saved(&caller, id, &bytes).await?.1, Listing::Roles).await
}

pub(super) async fn warehouses(_user: User, bytes: Bytes) -> Result<Json<Vec<String>>> {
    list(posted(&bytes).await?.1, Listing::Warehouses).await
}

pub(super) async fn warehouses_saved(
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    bytes: Bytes,
) -> Result<Json<Vec<String>>> {
    list(saved(&caller, id, &bytes).await?.1, Listing::Warehouses).await
}

pub(super) async fn databases(_user: User, bytes: Bytes) -> Result<Json<Vec<String>>> {
    list(posted(&bytes).await?.1, Listing::Databases).await
}

/// A GET has no body, so the saved session settings stand.
pub(super) async fn databases_saved(caller: Caller, ApiPath(id): ApiPath<i64>) -> Result<Json<Vec<String>>> {
    list(saved(&caller, id, &[]).await?.1, Listing::Databases).await
}

pub(super) async fn validate(_user: User, bytes: Bytes) -> Result<Json<Vec<TableEntry>>> {
    let (body, engine) = posted(&bytes).await?;
    Ok(Json(tables(&*engine, &body).await?))
}

pub(super) async fn validate_saved(
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    bytes: Bytes,
) -> Result<Json<Vec<TableEntry>>> {
    let (body, engine) = saved(&caller, id, &bytes).await?;
    Ok(Json(tables(&*engine, &body).await?))
}

/// Every table and view the session can see (or only those of `body.database`), in one catalog
/// statement, not one per database: `SHOW TERSE OBJECTS IN ACCOUNT` lists what the role may see,
/// as Snowflake's own pickers do. At most `TABLES_LISTED` entries: the dialog fills drop-downs.
async fn tables(engine: &dyn Engine, body: &Body) -> Result<Vec<TableEntry>> {
    let scope = match given(&body.database) {
        Some(database) => format!("IN DATABASE {}", Dialect::Snowflake.quote_ident(database)),
        None => "IN ACCOUNT".to_string(),
    };
    let rows = rows(engine, format!("SHOW TERSE OBJECTS {scope} LIMIT {TABLES_LISTED}")).await?;
    let mut entries: Vec<TableEntry> = rows
        .iter()
        .map(|row| {
            let text = |key: &str| row.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
            TableEntry { database: text("database_name"), schema: text("schema_name"), table: text("name") }
        })
        .filter(|entry| !entry.schema.eq_ignore_ascii_case("INFORMATION_SCHEMA"))
        .collect();
    entries.sort_by(|a, b| (&a.database, &a.schema, &a.table).cmp(&(&b.database, &b.schema, &b.table)));
    Ok(entries)
}

/// Runs a metadata statement on an engine directly (transient engines have no saved name for
/// the query path) and returns its rows.
async fn rows(engine: &dyn Engine, sql: String) -> Result<Vec<Map<String, Value>>> {
    let (sink, mut rx) = ResultSink::new(SinkOptions::new(Format::Json, TABLES_LISTED));
    let collect = tokio::spawn(async move {
        let mut body = Vec::new();
        while let Some(event) = rx.recv().await {
            match event {
                StreamEvent::Complete { body: b, .. } => body.extend_from_slice(&b.concat()),
                StreamEvent::Started { first, .. } => body.extend_from_slice(&first.concat()),
                StreamEvent::Chunk(chunk) => body.extend_from_slice(&chunk),
                StreamEvent::Finished { .. } => {}
            }
        }
        body
    });
    engine.query(Query::new(sql, Vec::new(), LISTING_TIMEOUT), sink).await?;
    let body = collect.await.map_err(|e| Error::Internal(format!("listing task failed: {e}")))?;
    serde_json::from_slice(&body).map_err(|e| Error::Internal(format!("listing was not JSON: {e}")))
}
