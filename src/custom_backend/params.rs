//! Widget parameters as Workspace sends them: form-encoded in the query string (GET) or JSON
//! (omni, ssrm, form). An empty parameter counts as missing, and a missing required one answers
//! 422 `{"detail": "... missing"}`, which Workspace's validation pass accepts.

use crate::error::{Error, Result};
use serde_json::Value;

pub(super) fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty()).ok_or_else(|| {
        Error::Unprocessable(format!("{name} missing: choose a value for the \"{name}\" parameter"))
    })
}

/// Numbers arrive as text in query strings and as numbers or text in JSON bodies.
pub(super) fn number(value: Option<&Value>) -> Result<Option<u64>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            n.as_u64().map(Some).ok_or_else(|| Error::Unprocessable(format!("{n} is not a row count")))
        }
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => {
            s.trim().parse().map(Some).map_err(|_| Error::Unprocessable(format!("{s:?} is not a row count")))
        }
        Some(other) => Err(Error::Unprocessable(format!("{other} is not a row count"))),
    }
}
