//! Binding and serving: the router with its layers, the listening socket, graceful shutdown.
//! The CLI and the desktop app both start servers through here.

use crate::app::App;
use crate::error::{detail_response, Error, Result};
use crate::security::{self, Guard};
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

pub struct Server {
    app: Arc<App>,
    listener: TcpListener,
    addr: SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
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
    Ok(Server { app, listener, addr, tls: None })
}

impl Server {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serve over TLS with this configuration (`crate::tls::server_config`).
    pub fn with_tls(mut self, tls: Arc<rustls::ServerConfig>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The URL to paste into Workspace.
    pub fn url(&self) -> String {
        match self.tls {
            // The local CA's leaf names localhost; so do most users' own certificates.
            Some(_) if self.addr.ip().is_loopback() => format!("https://localhost:{}", self.addr.port()),
            Some(_) => format!("https://{}", self.addr),
            None => url_for(self.addr),
        }
    }

    /// Serves until `shutdown` resolves, then lets open requests finish and commits the query
    /// log. HTTP/1.1 only (browsers speak HTTP/2 only over TLS): each connection must send its
    /// request headers within `Limits::header_timeout` and is closed after that long idle, and
    /// at most `Limits::max_connections` are open at once; more wait in the OS's accept queue.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        raise_fd_limit();
        let limits = self.app.config.limits;
        // Graceful shutdown waits for open connections, and an MCP session's event stream stays
        // open until its session ends: end them all when shutdown begins.
        let mcp_sessions = CancellationToken::new();
        let router = router(self.app.clone(), self.addr.port(), mcp_sessions.clone());
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
        let graceful = GracefulShutdown::new();
        let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
        let tls = self.tls.map(tokio_rustls::TlsAcceptor::from);
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                () = &mut shutdown => break,
                permit = open.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
            };
            let (stream, _) = tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors or a connection reset before accept: keep
                        // serving the connections that are open, and try again shortly.
                        tracing::warn!("accepting a connection failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            let service = TowerToHyperService::new(router.clone());
            if let Some(acceptor) = &tls {
                let connection = crate::tls::serve::connection(
                    acceptor.clone(),
                    stream,
                    http.clone(),
                    service,
                    graceful.watcher(),
                );
                tokio::spawn(async move {
                    connection.await;
                    drop(permit);
                });
                continue;
            }
            let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                // Errors here are the client's doing (it went away, timed out, sent garbage).
                if let Err(e) = connection.await {
                    tracing::debug!("connection ended: {e}");
                }
                drop(permit);
            });
        }
        mcp_sessions.cancel();
        drop(self.listener);
        graceful.shutdown().await;
        self.app.state.flush_log();
        Ok(())
    }
}

/// Raises the open-file soft limit to the hard limit: each client connection is a descriptor,
/// and the usual soft limit of 1024 is below `--max-connections` plus the databases' sockets.
fn raise_fd_limit() {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource};
        let mut limit = getrlimit(Resource::Nofile);
        if limit.current < limit.maximum {
            limit.current = limit.maximum;
            if let Err(e) = setrlimit(Resource::Nofile, limit) {
                tracing::warn!("could not raise the open-file limit: {e}");
            }
        }
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

/// All routes with the security layers, outermost first: trace, plain-text errors made
/// `{"detail"}`, Host/Origin/Sec-Fetch-Site, CORS (answers preflights), API key, read-only
/// GET/HEAD, body limit. The MCP transport at `/mcp` sits inside them too;
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
        // Every route, the MCP transport included, whatever extractor reads the body.
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(axum::middleware::from_fn(security::safe_methods_read_only))
        .layer(axum::middleware::from_fn_with_state(guard.clone(), security::api_key))
        .layer(security::cors(&guard))
        .layer(axum::middleware::from_fn_with_state(guard, security::host_and_origin))
        .layer(axum::middleware::from_fn(crate::http::json_errors))
        .layer(TraceLayer::new_for_http())
}
