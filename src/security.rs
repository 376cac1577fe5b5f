//! The guards a local server needs next to a web browser: DNS-rebinding protection by `Host`,
//! an `Origin` allow-list, CORS with Private Network Access, and the optional API key. Layered
//! so that preflights are answered before any key is asked for. docs/security.md states the
//! rules they keep.

use crate::error::detail_response;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

pub struct Guard {
    /// Bound to a loopback address: only loopback `Host` names are accepted.
    pub loopback: bool,
    pub port: u16,
    pub origins: Vec<String>,
    pub api_key: Option<String>,
    /// OpenBB user ids let onto the native Data Connector routes without the key.
    pub workspace_users: Vec<String>,
}

/// Marks a request let through without the key because it only asks who the server is
/// (`GET /`, `GET /health`): Workspace's reachability check (`initiateDataConnector`) sends no
/// headers at all. Handlers answer such requests with name and version only.
#[derive(Debug, Clone, Copy)]
pub struct Anonymous;

impl Guard {
    fn host_allowed(&self, host: &str) -> bool {
        if !self.loopback {
            return true;
        }
        let (name, port) = split_host_port(host);
        let name_ok = matches!(name.to_ascii_lowercase().as_str(), "localhost" | "127.0.0.1" | "[::1]");
        let port_ok = port.is_none_or(|p| p == self.port);
        name_ok && port_ok
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/');
        if self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
            return true;
        }
        // Our own pages (e.g. /openapi.json viewers) are same-origin.
        let same = |host: &str| origin.eq_ignore_ascii_case(&format!("http://{host}:{}", self.port));
        same("localhost") || same("127.0.0.1") || same("[::1]")
    }
}

impl Guard {
    /// A native Data Connector call (`/sql/...`, `/snowflake/...`) from an allow-listed OpenBB
    /// user id. The id identifies rather than proves; docs/workspace.md says what that means.
    fn workspace_user_allowed(&self, request: &Request) -> bool {
        if !is_native(request.uri().path()) {
            return false;
        }
        let Some(token) = request.headers().get(header::AUTHORIZATION).and_then(|v| bearer(v.as_bytes()))
        else {
            return false;
        };
        self.workspace_users.iter().any(|user| constant_time_eq(token, user.as_bytes()))
    }
}

/// Workspace's native Data Connector routes.
fn is_native(path: &str) -> bool {
    path.starts_with("/sql/") || path.starts_with("/snowflake/")
}

fn split_host_port(host: &str) -> (&str, Option<u16>) {
    if host.starts_with('[') {
        match host.find(']') {
            Some(end) => {
                let port = host[end + 1..].strip_prefix(':').and_then(|p| p.parse().ok());
                (&host[..=end], port)
            }
            None => (host, None),
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (name, port.parse().ok().or(Some(0))),
            None => (host, None),
        }
    }
}

/// A refusal before the request is read. Its body is never read, so the server drops the
/// connection after answering; `Connection: close` says so, or a client that reuses the
/// connection races the close and sees "server disconnected".
fn refuse(status: StatusCode, message: &str) -> Response {
    let mut response = detail_response(status, message);
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Refuses requests addressed to a non-loopback name (DNS rebinding) and browser requests from
/// origins that are not allowed.
pub async fn host_and_origin(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    match host {
        Some(host) if guard.host_allowed(&host) => {}
        Some(host) => {
            return refuse(
                StatusCode::FORBIDDEN,
                &format!(
                    "requests for host {host:?} are refused: this server answers only as localhost or \
                     127.0.0.1 (protection against DNS rebinding)"
                ),
            )
        }
        None => return refuse(StatusCode::BAD_REQUEST, "the request has no Host header"),
    }
    if let Some(origin) = request.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        if !guard.origin_allowed(origin) {
            return refuse(
                StatusCode::FORBIDDEN,
                &format!(
                    "origin {origin:?} is not allowed to use this server; allow it with \
                     --allow-origin {origin} (or in the app's settings)"
                ),
            );
        }
    } else if let Some(site) = foreign_fetch_site(request.headers()) {
        // An <img>, a link or a form from another site sends no Origin on GET, but the browser
        // still marks where it came from; without an allowed Origin such a request is a forgery.
        return detail_response(
            StatusCode::FORBIDDEN,
            &format!(
                "a request from another site (Sec-Fetch-Site: {site}) without an allowed Origin is \
                 refused (protection against cross-site request forgery)"
            ),
        );
    }
    next.run(request).await
}

/// `cross-site` or `same-site` from `Sec-Fetch-Site`: a request started by a page that is not
/// ours. `same-origin` and `none` (typed in the address bar, a bookmark) are the user's own.
fn foreign_fetch_site(headers: &axum::http::HeaderMap) -> Option<&'static str> {
    let site = headers.get("sec-fetch-site")?.as_bytes();
    if site.eq_ignore_ascii_case(b"cross-site") {
        Some("cross-site")
    } else if site.eq_ignore_ascii_case(b"same-site") {
        Some("same-site")
    } else {
        None
    }
}

/// GET and HEAD never change anything, whatever the connection allows: a browser sends them
/// from any page without asking (an `<img>`, a link, a prefetch), so every query a safe method
/// runs is forced read-only (`execution::read_only_scope`).
pub async fn safe_methods_read_only(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        crate::execution::read_only_scope(next.run(request)).await
    } else {
        next.run(request).await
    }
}

/// Requires the key when one is configured, as `X-API-KEY` or as `Authorization: Bearer <key>`
/// (what MCP clients, Workspace's Copilot among them, send as a token). Preflights never reach
/// this layer.
pub async fn api_key(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    if let Some(expected) = &guard.api_key {
        if request.method() != Method::OPTIONS {
            let headers = request.headers();
            let given = headers
                .get("x-api-key")
                .map(HeaderValue::as_bytes)
                .or_else(|| headers.get(header::AUTHORIZATION).and_then(|v| bearer(v.as_bytes())))
                .unwrap_or_default();
            if !constant_time_eq(given, expected.as_bytes()) {
                let mut request = request;
                if matches!(*request.method(), Method::GET | Method::HEAD)
                    && matches!(request.uri().path(), "/" | "/health")
                {
                    request.extensions_mut().insert(Anonymous);
                    return next.run(request).await;
                }
                if guard.workspace_user_allowed(&request) {
                    return next.run(request).await;
                }
                let message = if is_native(request.uri().path()) {
                    "this server requires an API key, which Workspace's Data Connectors page cannot send; \
                     allow your OpenBB user id with --workspace-user <id>, or connect through Apps → \
                     Connect backend with the X-API-KEY header"
                } else {
                    "a valid X-API-KEY header is required; use the key the server was started with"
                };
                return refuse(StatusCode::UNAUTHORIZED, message);
            }
        }
    }
    next.run(request).await
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let scheme = value.get(..7)?;
    scheme.eq_ignore_ascii_case(b"bearer ").then(|| value[7..].trim_ascii())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn cors(guard: &Guard) -> CorsLayer {
    let origins: Vec<HeaderValue> =
        guard.origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([
            header::HeaderName::from_static("x-truncated"),
            header::HeaderName::from_static("x-row-limit"),
            header::HeaderName::from_static("x-cache"),
            // A browser MCP client (Workspace's Copilot) must read the session it was given.
            header::HeaderName::from_static("mcp-session-id"),
            header::HeaderName::from_static("mcp-protocol-version"),
        ])
        .allow_private_network(true)
        .max_age(Duration::from_secs(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard {
            loopback: true,
            port: 6900,
            origins: vec!["https://pro.openbb.co".into()],
            api_key: None,
            workspace_users: Vec::new(),
        }
    }

    #[test]
    fn only_loopback_hosts_on_our_port() {
        let g = guard();
        for ok in ["localhost:6900", "127.0.0.1:6900", "[::1]:6900", "LOCALHOST:6900", "localhost"] {
            assert!(g.host_allowed(ok), "{ok}");
        }
        for bad in
            ["evil.com:6900", "localhost:80", "127.0.0.1:abc", "localhost.evil.com:6900", "10.0.0.1:6900"]
        {
            assert!(!g.host_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header() {
        assert_eq!(bearer(b"Bearer k3y"), Some(&b"k3y"[..]));
        assert_eq!(bearer(b"bearer  k3y "), Some(&b"k3y"[..]));
        assert_eq!(bearer(b"Basic k3y"), None);
        assert_eq!(bearer(b"Bearer"), None);
    }

    #[test]
    fn origins_from_the_list_or_ourselves() {
        let g = guard();
        assert!(g.origin_allowed("https://pro.openbb.co"));
        assert!(g.origin_allowed("http://localhost:6900"));
        assert!(!g.origin_allowed("https://evil.example"));
        assert!(!g.origin_allowed("null"));
        assert!(!g.origin_allowed("http://localhost:6901"));
    }
}
