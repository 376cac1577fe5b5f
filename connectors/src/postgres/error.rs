//! sqlx errors from PostgreSQL → `ConnectorError`: the SQLSTATE decides the kind; network
//! trouble is described by `sqlx_common`.

use super::PostgresSettings;
use crate::error::{ConnectorError, ErrorKind};
use crate::sqlx_common::{describe_transport_error, ErrorContext};
use sqlx::postgres::PgDatabaseError;
use std::borrow::Cow;
use std::fmt::Write as _;

/// SQLSTATE → our kinds. `57014` (query_canceled) is a timeout only when the statement timeout
/// caused it, which the caller decides from the message.
fn kind_for_sqlstate(code: &str) -> ErrorKind {
    match code {
        "28P01" | "28000" | "42501" => ErrorKind::AccessDenied,
        "3D000" => ErrorKind::NotFound,
        "25006" => ErrorKind::ReadOnly,
        "57014" => ErrorKind::Cancelled,
        "53300" | "57P01" | "57P02" | "57P03" => ErrorKind::Unreachable,
        _ if code.starts_with("08") => ErrorKind::Unreachable,
        _ => ErrorKind::Sql,
    }
}

pub(super) fn server_name(settings: &PostgresSettings) -> String {
    format!("PostgreSQL at {}:{}", settings.host, settings.port)
}

pub(super) fn map_error(error: sqlx::Error, ctx: &ErrorContext<'_, PostgresSettings>) -> ConnectorError {
    let where_ = server_name(ctx.settings);
    let (kind, message) = match &error {
        sqlx::Error::Database(db) => {
            let pg = db.try_downcast_ref::<PgDatabaseError>();
            let code = pg
                .map_or_else(|| db.code().map(Cow::into_owned).unwrap_or_default(), |p| p.code().to_string());
            let mut message = db.message().to_string();
            if let Some(hint) = pg.and_then(PgDatabaseError::hint) {
                let _ = write!(message, " (hint: {hint})");
            }
            match (kind_for_sqlstate(&code), ctx.timeout) {
                (ErrorKind::Cancelled, Some(limit)) if message.contains("statement timeout") => {
                    return ConnectorError::timeout(limit)
                }
                (ErrorKind::Cancelled, _) if message.contains("statement timeout") => {
                    (ErrorKind::Timeout, message)
                }
                (kind, _) => (kind, message),
            }
        }
        other => describe_transport_error(other, &where_),
    };
    ctx.error(kind, &message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_map_to_kinds() {
        assert_eq!(kind_for_sqlstate("28P01"), ErrorKind::AccessDenied);
        assert_eq!(kind_for_sqlstate("3D000"), ErrorKind::NotFound);
        assert_eq!(kind_for_sqlstate("42601"), ErrorKind::Sql);
        assert_eq!(kind_for_sqlstate("25006"), ErrorKind::ReadOnly);
        assert_eq!(kind_for_sqlstate("08006"), ErrorKind::Unreachable);
    }
}
