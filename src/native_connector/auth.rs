//! Who is calling: Workspace sends `Authorization: Bearer <OpenBB user uuid>` on every call
//! of the native protocol. The uuid identifies (saved items are scoped by it); it proves
//! nothing, so it is only ever compared, never trusted for anything else.

use crate::error::Error;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

/// The calling Workspace user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct User(pub String);

const MAX_LEN: usize = 128;

impl<S: Send + Sync> FromRequestParts<S> for User {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let missing = || {
            Error::Unauthorized(
                "an Authorization: Bearer <OpenBB user id> header is required; Workspace sends it \
                 when the Data Connector URL is set on its Data Connectors page"
                    .into(),
            )
        };
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(missing)?;
        let text = header.to_str().map_err(|_| missing())?.trim();
        let (scheme, token) = text.split_once(' ').ok_or_else(missing)?;
        let token = token.trim();
        let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if !scheme.eq_ignore_ascii_case("bearer")
            || token.is_empty()
            || token.len() > MAX_LEN
            || !token.chars().all(plain)
        {
            return Err(missing());
        }
        Ok(User(token.to_string()))
    }
}
