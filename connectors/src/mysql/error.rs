//! sqlx errors from MySQL/MariaDB → `ConnectorError`: the server's error number decides the
//! kind; network trouble is described by `sqlx_common`.

use super::MysqlSettings;
use crate::error::{ConnectorError, ErrorKind};
use crate::sqlx_common::{describe_transport_error, ErrorContext};
use sqlx::mysql::MySqlDatabaseError;

/// Error numbers (not SQLSTATEs, which MySQL shares across unrelated errors) → our kinds.
fn kind_for_number(number: u16) -> ErrorKind {
    match number {
        // Access denied (password, database, table, column, command, privilege).
        1044 | 1045 | 1142 | 1143 | 1227 | 1370 | 1698 | 1820 | 1862 => ErrorKind::AccessDenied,
        1049 => ErrorKind::NotFound,
        // Read-only transaction; an option such as --read-only or --secure-file-priv.
        1792 | 1290 | 1836 => ErrorKind::ReadOnly,
        // MySQL max_execution_time, MariaDB max_statement_time.
        3024 | 1969 => ErrorKind::Timeout,
        // Too many connections; lost connection; server shutting down.
        1040 | 1203 | 2002 | 2003 | 2006 | 2013 | 1053 => ErrorKind::Unreachable,
        _ => ErrorKind::Sql,
    }
}

pub(super) fn server_name(settings: &MysqlSettings) -> String {
    format!("MySQL/MariaDB at {}:{}", settings.host, settings.port)
}

pub(super) fn map_error(error: sqlx::Error, ctx: &ErrorContext<'_, MysqlSettings>) -> ConnectorError {
    let where_ = server_name(ctx.settings);
    let (kind, message) = match &error {
        sqlx::Error::Database(db) => {
            let number = db.try_downcast_ref::<MySqlDatabaseError>().map(MySqlDatabaseError::number);
            let kind = number.map_or(ErrorKind::Sql, kind_for_number);
            match (kind, ctx.timeout) {
                (ErrorKind::Timeout, Some(limit)) => return ConnectorError::timeout(limit),
                _ => (kind, db.message().to_string()),
            }
        }
        sqlx::Error::Configuration(e) if e.to_string().contains("RSA") => (
            ErrorKind::Unreachable,
            format!(
                "{where_} asks for the password to be RSA-encrypted (caching_sha2_password over a \
                 plain connection); set \"tls\" to \"prefer\" or \"require\""
            ),
        ),
        other => describe_transport_error(other, &where_),
    };
    ctx.error(kind, &message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_numbers_map_to_kinds() {
        assert_eq!(kind_for_number(1045), ErrorKind::AccessDenied);
        assert_eq!(kind_for_number(1049), ErrorKind::NotFound);
        assert_eq!(kind_for_number(1064), ErrorKind::Sql);
        assert_eq!(kind_for_number(1146), ErrorKind::Sql);
        assert_eq!(kind_for_number(1792), ErrorKind::ReadOnly);
        assert_eq!(kind_for_number(1969), ErrorKind::Timeout);
        assert_eq!(kind_for_number(3024), ErrorKind::Timeout);
    }
}
