//! `/sql/databases`: the databases a MySQL (or PostgreSQL) login can see, before saving
//! (`POST`, credentials in the body) or for a saved query's connection (`GET /{id}`).

use super::auth::User;
use super::credentials::{self, Body};
use super::{Caller, Family};
use crate::connections;
use crate::error::Result;
use crate::http::{parse_body, ApiPath};
use axum::body::Bytes;
use axum::Json;
use connectors::{EngineKind, Listing};

pub(super) async fn databases(_user: User, bytes: Bytes) -> Result<Json<Vec<String>>> {
    let body: Body = parse_body(&bytes)?;
    // SQLite sends the placeholder "SQLITE" credentials here; its database is a file path the
    // user types next, so there is nothing to list yet.
    if credentials::database_type(Family::Sql, &body)? == EngineKind::Sqlite {
        return Ok(Json(Vec::new()));
    }
    let engine = credentials::transient(credentials::input(Family::Sql, &body)?).await?;
    Ok(Json(engine.list(Listing::Databases).await?))
}

pub(super) async fn databases_saved(caller: Caller, ApiPath(id): ApiPath<i64>) -> Result<Json<Vec<String>>> {
    let query = caller.saved(id)?;
    if query.database_type == EngineKind::Sqlite.name() {
        return Ok(Json(vec![query.fields.database]));
    }
    let connected = connections::engine(&caller.app, &query.link).await?;
    Ok(Json(connected.engine.list(Listing::Databases).await?))
}
