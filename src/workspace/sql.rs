//! `/sql/databases`: the databases a MySQL (or PostgreSQL) login can see, before saving
//! (`POST`, credentials in the body) or for a saved query's connection (`GET /{id}`).

use super::auth::User;
use super::credentials::{self, parse_body, Body};
use super::Family;
use crate::api::extract::ApiPath;
use crate::app::App;
use crate::connections;
use crate::error::Result;
use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use connectors::Listing;
use std::sync::Arc;

pub async fn databases(_user: User, State(_app): State<Arc<App>>, bytes: Bytes) -> Result<Json<Vec<String>>> {
    let body: Body = parse_body(&bytes)?;
    // SQLite sends the placeholder "SQLITE" credentials here; its database is a file path the
    // user types next, so there is nothing to list yet.
    if credentials::database_type(Family::Sql, &body)? == "sqlite" {
        return Ok(Json(Vec::new()));
    }
    let engine = credentials::transient(credentials::input(Family::Sql, &body)?).await?;
    Ok(Json(engine.list(Listing::Databases).await?))
}

pub async fn databases_saved(
    user: User,
    State(app): State<Arc<App>>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<String>>> {
    let query = app.state.ws_require_query(&user.0, Family::Sql.as_str(), id)?;
    if query.database_type == "sqlite" {
        return Ok(Json(vec![query.database]));
    }
    let connected = connections::engine(&app, &query.link).await?;
    Ok(Json(connected.engine.list(Listing::Databases).await?))
}
