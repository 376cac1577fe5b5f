//! The one layer that gives every error answered outside our handlers the `{"detail"}` shape:
//! axum's own rejections (a body over the limit read as raw bytes, a body that ends early),
//! tower-http's body limit, and the MCP transport's protocol errors, which all answer in plain
//! text.

use crate::error::detail_response;
use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// The most of a plain-text error body kept as its message; rejections are one line.
const MAX_MESSAGE_BYTES: usize = 4096;
/// How `tower_http::limit`'s error reads (`LengthLimitError`).
const LIMIT_ERROR: &str = "length limit exceeded";

pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(response.headers()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_MESSAGE_BYTES).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    // A body cut off by the limit layer reaches a handler that reads it itself (the MCP
    // transport) as a read error, which it answers 500; it is the client's oversize body.
    let (status, message) = if status == StatusCode::PAYLOAD_TOO_LARGE || text.contains(LIMIT_ERROR) {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is larger than the server allows (--max-body-bytes)".to_string(),
        )
    } else if text.is_empty() {
        (status, status.canonical_reason().unwrap_or("the request failed").to_string())
    } else {
        (status, text)
    };
    let mut answer = detail_response(status, &message);
    // Keep what tells the client how to go on (Allow, Retry-After, WWW-Authenticate, CORS).
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}
