//! `GET /` (what Workspace probes for `version`) and `GET /health`.

use crate::app::App;
use crate::security::Anonymous;
use axum::extract::State;
use axum::Extension;
use axum::Json;
use serde::Serialize;
use std::sync::Arc;

/// Without the API key (when one is set) only `name` and `version` are answered: enough for
/// Workspace's reachability check, nothing about the machine.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct About {
    pub name: &'static str,
    pub version: &'static str,
    /// Where connection secrets are kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_store: Option<&'static str>,
    /// True when secrets live only in memory and are lost when the server stops.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ephemeral_secrets: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openapi: Option<&'static str>,
}

#[utoipa::path(get, path = "/", tag = "meta", responses((status = 200, body = About)))]
pub(super) async fn about(
    State(app): State<Arc<App>>,
    anonymous: Option<Extension<Anonymous>>,
) -> Json<About> {
    let known = anonymous.is_none();
    Json(About {
        name: "data-connector",
        version: env!("CARGO_PKG_VERSION"),
        secret_store: known.then(|| app.secrets.describe()),
        ephemeral_secrets: known.then(|| app.secrets.is_ephemeral()),
        openapi: known.then_some("/openapi.json"),
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Health {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uptime_s: Option<u64>,
}

#[utoipa::path(get, path = "/health", tag = "meta", responses((status = 200, body = Health)))]
pub(super) async fn health(
    State(app): State<Arc<App>>,
    anonymous: Option<Extension<Anonymous>>,
) -> Json<Health> {
    let uptime_s = anonymous.is_none().then(|| app.started.elapsed().as_secs());
    Json(Health { status: "ok", uptime_s })
}
