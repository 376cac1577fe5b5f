//! The server's one error type, and the one place that turns errors into HTTP responses:
//! `{"detail": "..."}` with a fitting status. Messages are written for the person reading them
//! in Workspace or the desktop window, and never carry secrets.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use connectors::{ConnectorError, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    NotAcceptable(String),
    /// Every slot is taken and none came free within the queue wait: 429 with `Retry-After`.
    #[error("{0}")]
    Busy(String),
    /// The connection failed moments ago; its queries fail fast until `retry_after_secs` pass
    /// instead of queueing on a database that is down: 503 with `Retry-After`.
    #[error("{message}")]
    Unavailable { message: String, retry_after_secs: u64 },
    /// The OS keyring cannot be reached or refused us; the message says how to fix it.
    #[error("{0}")]
    SecretStore(String),
    /// The state database (saved connections, queries, log) failed.
    #[error("state database: {0}")]
    State(String),
    #[error("{0}")]
    Internal(String),
    /// Start-up problems shown on the command line (bad flags, no data dir).
    #[error("{0}")]
    Startup(String),
    /// Kept apart from `Startup` so the desktop window can word these its own way; the text
    /// here is the command line's.
    #[error("port {port} is already in use; try {}--port auto", suggestion.map(|p| format!("--port {p} or ")).unwrap_or_default())]
    PortInUse { port: u16, suggestion: Option<u16> },
    #[error("not allowed to listen on port {port}; choose a port above 1023 or --port auto")]
    PortNotAllowed { port: u16 },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Connector(e) => match e.kind() {
                ErrorKind::InvalidInput | ErrorKind::Sql => StatusCode::BAD_REQUEST,
                ErrorKind::NotFound => StatusCode::NOT_FOUND,
                ErrorKind::AccessDenied | ErrorKind::ReadOnly => StatusCode::FORBIDDEN,
                ErrorKind::Unreachable => StatusCode::BAD_GATEWAY,
                ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
                // Nobody reads this answer; 499 is the conventional "client closed request".
                ErrorKind::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
                ErrorKind::Unsupported => StatusCode::BAD_REQUEST,
                // The query asks for more than the memory caps allow: asking for less helps.
                ErrorKind::TooLarge => StatusCode::BAD_REQUEST,
                ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            },
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Self::Busy(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::SecretStore(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::State(_)
            | Self::Internal(_)
            | Self::Startup(_)
            | Self::PortInUse { .. }
            | Self::PortNotAllowed { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short machine-readable word for the query log's `outcome`.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Connector(e) if e.kind() == ErrorKind::Timeout => "timeout",
            Self::Connector(e) if e.kind() == ErrorKind::Cancelled => "cancelled",
            Self::Connector(e) if e.kind() == ErrorKind::ReadOnly => "refused",
            _ => "error",
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Self::State(e.to_string())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), "{self}");
        } else {
            tracing::debug!(status = status.as_u16(), "{self}");
        }
        let retry_after = match &self {
            Self::Busy(_) => Some(1),
            Self::Unavailable { retry_after_secs, .. } => Some((*retry_after_secs).max(1)),
            _ => None,
        };
        let mut response = detail_response(status, &self.to_string());
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl Error {
    /// The message for an answer that must stay 200 to be shown at all: Workspace's grids turn
    /// every non-2xx into a blank grid, and show only an `error` string inside a 200 (an
    /// `ssrm_table` page) or the rows themselves (a native saved-query grid). Logged as
    /// `into_response` logs.
    pub fn in_band(self) -> String {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), in_band = true, "{self}");
        } else {
            tracing::debug!(status = status.as_u16(), in_band = true, "{self}");
        }
        self.to_string()
    }
}

/// A failed form submit: Workspace's form toast (`FormParamElement`) shows only `message` and
/// `error`, never `detail`; `detail` stays for every other client.
pub fn form_error_response(error: Error) -> Response {
    let status = error.status();
    let message = error.in_band();
    (status, axum::Json(serde_json::json!({ "detail": message, "message": message }))).into_response()
}

/// `{"detail": message}` with `status`; also used by middleware that answers before a handler.
pub fn detail_response(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "detail": message }))).into_response()
}
