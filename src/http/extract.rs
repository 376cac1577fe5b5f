//! Extractors that turn axum's rejections (malformed JSON, missing params, oversize bodies) into
//! our `Error`, so every error a client sees has the same `{"detail"}` shape. Use these in
//! handlers instead of axum's `Json`, `Query` and `Path`.

use crate::error::Error;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;

#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct ApiJson<T>(pub T);

#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct ApiQuery<T>(pub T);

#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Error))]
pub struct ApiPath<T>(pub T);

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        let text = rejection.body_text();
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge(
                "the request body is larger than the server allows (--max-body-bytes)".into(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY => Error::Unprocessable(text),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                Error::BadRequest("the body must be JSON with Content-Type: application/json".into())
            }
            _ => Error::BadRequest(text),
        }
    }
}

impl From<QueryRejection> for Error {
    fn from(rejection: QueryRejection) -> Self {
        Error::Unprocessable(rejection.body_text())
    }
}

impl From<PathRejection> for Error {
    fn from(rejection: PathRejection) -> Self {
        Error::BadRequest(rejection.body_text())
    }
}
