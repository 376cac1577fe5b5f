//! rusqlite errors → `ConnectorError`: SQLite's result codes decide the kind.

use crate::error::{ConnectorError, ErrorKind};

pub(crate) fn is_interrupt(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::OperationInterrupted)
}

/// SQLite refused to build a string or blob over `SQLITE_LIMIT_LENGTH` (the value cap).
pub(crate) fn is_too_big(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::TooBig)
}

/// SQLite's own message where there is one (it names the table or column), else rusqlite's.
pub(crate) fn describe(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        other => other.to_string(),
    }
}

/// `read_only` is `Some(true)` when the failing statement ran on a read-only connection, where a
/// write refused by the file's mode is the connection's rule rather than a permission problem.
pub(crate) fn map_error(e: rusqlite::Error, read_only: Option<bool>) -> ConnectorError {
    use rusqlite::ErrorCode as C;
    let message = describe(&e);
    let kind = match &e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            C::ReadOnly if read_only == Some(true) => ErrorKind::ReadOnly,
            C::ReadOnly | C::PermissionDenied | C::AuthorizationForStatementDenied => ErrorKind::AccessDenied,
            C::NotADatabase => ErrorKind::InvalidInput,
            C::CannotOpen => ErrorKind::NotFound,
            C::DatabaseBusy | C::DatabaseLocked => ErrorKind::Unreachable,
            _ => ErrorKind::Sql,
        },
        rusqlite::Error::MultipleStatement => ErrorKind::ReadOnly,
        rusqlite::Error::InvalidParameterCount(..) | rusqlite::Error::InvalidParameterName(_) => {
            ErrorKind::InvalidInput
        }
        _ => ErrorKind::Sql,
    };
    ConnectorError::new(kind, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some("the message".into()))
    }

    #[test]
    fn result_codes_map_to_kinds() {
        use rusqlite::ffi;
        assert_eq!(map_error(failure(ffi::SQLITE_READONLY), Some(true)).kind(), ErrorKind::ReadOnly);
        assert_eq!(map_error(failure(ffi::SQLITE_READONLY), None).kind(), ErrorKind::AccessDenied);
        assert_eq!(map_error(failure(ffi::SQLITE_NOTADB), None).kind(), ErrorKind::InvalidInput);
        assert_eq!(map_error(failure(ffi::SQLITE_CANTOPEN), None).kind(), ErrorKind::NotFound);
        assert_eq!(map_error(failure(ffi::SQLITE_BUSY), None).kind(), ErrorKind::Unreachable);
        assert_eq!(map_error(failure(ffi::SQLITE_ERROR), None).kind(), ErrorKind::Sql);
        assert_eq!(map_error(failure(ffi::SQLITE_ERROR), None).message(), "the message");
        assert!(is_interrupt(&failure(ffi::SQLITE_INTERRUPT)));
        assert!(!is_interrupt(&failure(ffi::SQLITE_ERROR)));
    }
}
