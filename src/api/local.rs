//! The API without a socket, for the desktop window and the command line: the same handlers, the
//! same checks and the same `{"detail"}` errors an HTTP client gets, so a saved query is checked
//! and stored one way whoever saves it, and fields the API learns reach both without changes here.
//!
//! No security layers: the caller is this machine's user inside this process, who already holds
//! the state database; Host, Origin and API-key checks guard the socket, which this never opens.

use crate::app::App;
use crate::error::{Error, Result};
use axum::body::{Body, Bytes};
/// Callers outside the crate name methods through this, whatever `http` version they depend on.
pub use axum::http::Method;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

/// Answers of our own JSON routes are small (a list of saved queries); a result that streams rows
/// is read through `send` instead.
const MAX_JSON_BYTES: usize = 64 * 1024 * 1024;
/// The most of an error body kept as its message.
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// Sends one request to `/api/v1/...` and hands back a 2xx answer as it is (a run's rows still
/// streaming); any other answer becomes the `Error` its status and `detail` say.
pub async fn send(app: &Arc<App>, method: Method, path: &str, body: Option<&Value>) -> Result<Response> {
    let mut request = Request::builder().method(method).uri(path);
    let body = match body {
        Some(value) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(serde_json::to_vec(value).map_err(|e| Error::Internal(e.to_string()))?)
        }
        None => Body::empty(),
    };
    let request = request.body(body).map_err(|e| Error::Internal(format!("bad local request: {e}")))?;
    let router =
        super::router().with_state(app.clone()).layer(axum::middleware::from_fn(crate::http::json_errors));
    let response = match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), MAX_ERROR_BYTES).await.unwrap_or_default();
    Err(error_for(status, &bytes))
}

/// `send`, reading the answer as JSON (`null` for an empty one, such as a 204).
pub async fn json(app: &Arc<App>, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
    let response = send(app, method, path, body).await?;
    let bytes: Bytes = axum::body::to_bytes(response.into_body(), MAX_JSON_BYTES)
        .await
        .map_err(|e| Error::Internal(format!("could not read the answer: {e}")))?;
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes).map_err(|e| Error::Internal(format!("the answer is not JSON: {e}")))
}

/// The error an answer stands for, worded as its `detail`.
fn error_for(status: StatusCode, body: &[u8]) -> Error {
    let detail = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("detail").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body).trim().to_string();
            if text.is_empty() {
                status.canonical_reason().unwrap_or("the request failed").to_string()
            } else {
                text
            }
        });
    match status {
        StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN => Error::BadRequest(detail),
        StatusCode::NOT_FOUND => Error::NotFound(detail),
        StatusCode::CONFLICT => Error::Conflict(detail),
        StatusCode::UNAUTHORIZED => Error::Unauthorized(detail),
        StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge(detail),
        StatusCode::UNPROCESSABLE_ENTITY => Error::Unprocessable(detail),
        StatusCode::NOT_ACCEPTABLE => Error::NotAcceptable(detail),
        StatusCode::TOO_MANY_REQUESTS => Error::Busy(detail),
        StatusCode::SERVICE_UNAVAILABLE => Error::Unavailable { message: detail, retry_after_secs: 1 },
        _ => Error::Internal(detail),
    }
}
