//! duckdb errors → `ConnectorError`. DuckDB reports one failure code through its C API and puts
//! the class of the error at the start of the message (`Catalog Error: ...`), so the message
//! decides the kind.

use crate::error::{ConnectorError, ErrorKind};

/// DuckDB's message where there is one, else the driver's.
pub(crate) fn describe(e: &duckdb::Error) -> String {
    match e {
        duckdb::Error::DuckDBFailure(_, Some(msg)) => msg.clone(),
        other => other.to_string(),
    }
}

/// The query stopped because `InterruptHandle::interrupt` was called (timeout or a departed client).
pub(crate) fn is_interrupt(e: &duckdb::Error) -> bool {
    let message = describe(e);
    message.starts_with("INTERRUPT Error")
        || message.starts_with("Interrupt Error")
        || message.contains("Interrupted!")
}

/// `read_only` is `Some(true)` when the failing statement ran on a read-only connection, where a
/// write refused by DuckDB's read-only mode is the connection's rule.
pub(crate) fn map_error(e: &duckdb::Error, read_only: Option<bool>) -> ConnectorError {
    let message = describe(e);
    ConnectorError::new(kind_of(&message, read_only), message)
}

pub(crate) fn kind_of(message: &str, read_only: Option<bool>) -> ErrorKind {
    let class = message.split(':').next().unwrap_or_default().to_ascii_lowercase();
    match class.as_str() {
        "permission error" => ErrorKind::AccessDenied,
        _ if message.contains("read-only mode") || message.contains("read only mode") => {
            if read_only == Some(true) {
                ErrorKind::ReadOnly
            } else {
                ErrorKind::AccessDenied
            }
        }
        "invalid input error"
        | "parser error"
        | "binder error"
        | "catalog error"
        | "conversion error"
        | "constraint error"
        | "out of range error"
        | "not implemented error"
        | "io error"
        | "invalid type error"
        | "type mismatch error" => ErrorKind::Sql,
        "out of memory error" => ErrorKind::TooLarge,
        _ => ErrorKind::Sql,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_classes_map_to_kinds() {
        assert_eq!(kind_of("Catalog Error: Table with name x does not exist!", None), ErrorKind::Sql);
        assert_eq!(
            kind_of("Invalid Input Error: Cannot execute statement of type \"CREATE\" on database \"db\" which is attached in read-only mode!", Some(true)),
            ErrorKind::ReadOnly
        );
        assert_eq!(
            kind_of("Permission Error: File system LocalFileSystem has been disabled by configuration", None),
            ErrorKind::AccessDenied
        );
        assert_eq!(kind_of("Out of Memory Error: could not allocate", None), ErrorKind::TooLarge);
        let e = duckdb::Error::DuckDBFailure(
            duckdb::ffi::Error::new(1),
            Some("INTERRUPT Error: Interrupted!".into()),
        );
        assert!(is_interrupt(&e));
        assert_eq!(describe(&e), "INTERRUPT Error: Interrupted!");
    }
}
