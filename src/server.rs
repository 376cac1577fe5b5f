//! Binding and serving: the router with its layers, the listening socket, graceful shutdown.
//! The CLI and the desktop app both start servers through here.

use crate::app::App;
use crate::error::{detail_response, Error, Result};
use crate::security::{self, Guard};
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;

pub struct Server {
    app: Arc<App>,
    listener: TcpListener,
    addr: SocketAddr,
}

/// Binds the configured address. A port in use is a one-line error that suggests a free port.
pub async fn bind(app: Arc<App>) -> Result<Server> {
    let host = app.config.host;
    if !host.is_loopback() && app.config.api_key.is_none() {
        return Err(Error::Startup(format!(
            "--host {host} exposes the server beyond this machine; set --api-key (or DATA_CONNECTOR_API_KEY) too"
        )));
    }
    let requested = SocketAddr::new(host, app.config.port);
    let listener = TcpListener::bind(requested).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => {
            Error::PortInUse { port: requested.port(), suggestion: portpicker::pick_unused_port() }
        }
        std::io::ErrorKind::PermissionDenied => Error::PortNotAllowed { port: requested.port() },
        _ => Error::Startup(format!("cannot listen on {requested}: {e}")),
    })?;
    let addr =
        listener.local_addr().map_err(|e| Error::Startup(format!("cannot read the bound address: {e}")))?;
    Ok(Server { app, listener, addr })
}

impl Server {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to paste into Workspace.
    pub fn url(&self) -> String {
        url_for(self.addr)
    }

    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        // Graceful shutdown waits for open connections, and an MCP session's event stream stays
        // open until its session ends: end them all when shutdown begins.
        let mcp_sessions = CancellationToken::new();
        let router = router(self.app, self.addr.port(), mcp_sessions.clone());
        let shutdown = async move {
            shutdown.await;
            mcp_sessions.cancel();
        };
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| Error::Internal(format!("server stopped: {e}")))
    }
}

pub fn url_for(addr: SocketAddr) -> String {
    if addr.ip().is_loopback() && addr.is_ipv4() {
        format!("http://127.0.0.1:{}", addr.port())
    } else {
        format!("http://{addr}")
    }
}

/// Every door side by side: our API, Workspace's native Data Connector protocol and its custom
/// backend. Unknown routes and wrong methods answer `{"detail"}` like every other error.
fn routes() -> Router<Arc<App>> {
    crate::api::router()
        .merge(crate::native_connector::router())
        .merge(crate::custom_backend::router())
        .fallback(|| async {
            detail_response(StatusCode::NOT_FOUND, "there is no such route; see /openapi.json")
        })
        .method_not_allowed_fallback(|| async {
            detail_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "this route does not accept that method; see /openapi.json",
            )
        })
}

/// All routes with the security layers, outermost first: trace, Host/Origin, CORS (answers
/// preflights), API key, body limit. The MCP transport at `/mcp` sits inside them too;
/// cancelling `mcp_sessions` ends its open sessions.
pub fn router(app: Arc<App>, port: u16, mcp_sessions: CancellationToken) -> Router {
    let guard = Arc::new(Guard {
        loopback: app.config.host.is_loopback(),
        port,
        origins: app.config.origins(),
        api_key: app.config.api_key.clone(),
        workspace_users: app.config.workspace_users.clone(),
    });
    let body_limit = app.config.limits.max_body_bytes;
    routes()
        .route_service(crate::mcp::PATH, crate::mcp::http_service(app.clone(), mcp_sessions))
        .with_state(app)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(guard.clone(), security::api_key))
        .layer(security::cors(&guard))
        .layer(axum::middleware::from_fn_with_state(guard, security::host_and_origin))
        .layer(TraceLayer::new_for_http())
}
