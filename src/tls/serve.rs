//! One TLS connection on the server's accept loop (`Server::serve`): the handshake, bounded by
//! `HANDSHAKE_TIMEOUT`, then the same HTTP/1.1 connection builder (header timeout, keep-alive)
//! and graceful shutdown as plain connections. A client that speaks plain HTTP, garbage or
//! nothing to this port fails its own handshake and nothing else.

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::Watcher;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves one accepted TCP connection over TLS until it ends or shutdown closes it.
pub async fn connection<S>(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    http: http1::Builder,
    service: S,
    watcher: Watcher,
) where
    S: hyper::service::Service<hyper::Request<Incoming>, Response = axum::response::Response>
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let peer = stream.peer_addr().ok();
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return tracing::debug!("TLS handshake with {peer:?} failed: {e}"),
        Err(_) => return tracing::debug!("TLS handshake with {peer:?} timed out"),
    };
    // Errors here are the client's doing (it went away, timed out, sent garbage).
    if let Err(e) = watcher.watch(http.serve_connection(TokioIo::new(stream), service)).await {
        tracing::debug!("connection from {peer:?} ended: {e}");
    }
}
