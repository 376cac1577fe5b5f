//! `GET /` (what Workspace probes for `version`) and `GET /health`.

use crate::app::App;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use std::sync::Arc;

#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct About {
    pub name: &'static str,
    pub version: &'static str,
    /// Where connection secrets are kept.
    pub secret_store: &'static str,
    /// True when secrets live only in memory and are lost when the server stops.
    pub ephemeral_secrets: bool,
    pub openapi: &'static str,
}

#[utoipa::path(get, path = "/", tag = "meta", responses((status = 200, body = About)))]
pub(super) async fn about(State(app): State<Arc<App>>) -> Json<About> {
    Json(About {
        name: "data-connector",
        version: env!("CARGO_PKG_VERSION"),
        secret_store: app.secrets.describe(),
        ephemeral_secrets: app.secrets.is_ephemeral(),
        openapi: "/openapi.json",
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Health {
    pub status: &'static str,
    pub uptime_s: u64,
}

#[utoipa::path(get, path = "/health", tag = "meta", responses((status = 200, body = Health)))]
pub(super) async fn health(State(app): State<Arc<App>>) -> Json<Health> {
    Json(Health { status: "ok", uptime_s: app.started.elapsed().as_secs() })
}
