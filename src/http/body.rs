//! Request bodies that Workspace's frontend may post empty.

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;

/// Parses a JSON body that may be empty (the frontend posts some calls without one): an empty
/// or blank body is `T::default()`, malformed JSON a 422.
pub fn parse_body<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| Error::Unprocessable(format!("invalid JSON body: {e}")))
}
