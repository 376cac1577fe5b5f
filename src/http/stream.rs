//! Query results as HTTP responses. Rows go out as the database sends them, never collected,
//! and no response that streams rows may be cached.

use crate::execution::{BodyStream, QueryOutput};
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use futures::StreamExt;

/// A whole result in its own format, with the headers that say whether the row cap cut it
/// (`X-Truncated`, `X-Row-Limit`).
pub fn stream_response(output: QueryOutput) -> Response {
    let mut response = Response::new(Body::from_stream(output.body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(output.format.content_type()));
    headers.insert("x-truncated", HeaderValue::from_static(output.truncated.header_value()));
    headers.insert("x-row-limit", HeaderValue::from(output.row_limit));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A JSON object one of whose members is a streamed JSON array: `prefix`, the array, `suffix`.
pub fn json_object_stream(prefix: String, body: BodyStream, suffix: String) -> Response {
    let head = futures::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(prefix)) });
    let tail = futures::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(suffix)) });
    let mut response = Response::new(Body::from_stream(head.chain(body).chain(tail)));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
