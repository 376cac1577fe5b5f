//! `/api/v1/log`: the most recent queries, newest first.

use crate::app::App;
use crate::error::Result;
use crate::http::ApiQuery;
use crate::state::LogEntry;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize, utoipa::IntoParams)]
pub(super) struct LogParams {
    /// How many entries (default 100, at most 1000).
    pub limit: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/log", tag = "log", params(LogParams),
    responses((status = 200, body = Vec<LogEntry>)))]
pub(super) async fn recent(
    State(app): State<Arc<App>>,
    ApiQuery(params): ApiQuery<LogParams>,
) -> Result<Json<Vec<LogEntry>>> {
    Ok(Json(app.state.recent_log(params.limit.unwrap_or(100).clamp(1, 1000))?))
}
