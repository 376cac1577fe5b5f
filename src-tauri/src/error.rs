//! The error every command returns to the window: a message written for the user, and the
//! form field it belongs to (shown next to that field) when there is one.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct UiError {
    pub message: String,
    pub field: Option<&'static str>,
}

impl UiError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), field: None }
    }

    pub(crate) fn field(field: &'static str, message: impl Into<String>) -> Self {
        Self { message: message.into(), field: Some(field) }
    }
}

impl From<data_connector::Error> for UiError {
    fn from(e: data_connector::Error) -> Self {
        // The core's messages are already meant for people and never carry secrets.
        Self::new(e.to_string())
    }
}

impl std::fmt::Display for UiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub(crate) type UiResult<T> = Result<T, UiError>;
