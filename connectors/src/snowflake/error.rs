//! Snowflake's answers → `ConnectorError`: its error codes decide the kind (with a hint where
//! the fix is a setting), network trouble names the host, and every message is scrubbed of
//! secrets by the engine before it leaves.

use super::{Authenticator, SnowflakeEngine};
use crate::error::{scrub, ConnectorError, ErrorKind};
use snowflake_connector_rs as sf;
use std::time::Duration;

impl SnowflakeEngine {
    pub(super) fn login_error(&self, e: &sf::Error) -> ConnectorError {
        let host = self.target.host();
        let user = self.settings.user.trim();
        match e.kind() {
            sf::ErrorKind::Auth => match e.snowflake_message() {
                Some(message) => ConnectorError::new(
                    ErrorKind::AccessDenied,
                    format!(
                        "Snowflake refused the login of user {user}{}: {}{}",
                        match self.authenticator {
                            Authenticator::ProgrammaticAccessToken => " with the programmatic access token",
                            _ => "",
                        },
                        message.trim(),
                        login_hint(self.authenticator, message),
                    ),
                ),
                None if is_key_error(e) => ConnectorError::invalid(format!(
                    "the private key could not be used ({e}): it must be an RSA key in PKCS#8 PEM, \
                     and an encrypted key needs its private_key_passphrase; check the passphrase"
                )),
                None => ConnectorError::new(
                    ErrorKind::AccessDenied,
                    format!("Snowflake refused the login of user {user}"),
                ),
            },
            sf::ErrorKind::Network => match http_status(e) {
                Some(403 | 404) => ConnectorError::not_found(format!(
                    "Snowflake account {} was not found at {host} (HTTP {}); use the account identifier \
                     from your Snowflake URL, e.g. xy12345.eu-central-1 or myorg-myaccount",
                    self.target.account,
                    http_status(e).unwrap_or_default()
                )),
                Some(status) => ConnectorError::new(
                    ErrorKind::Unreachable,
                    format!("Snowflake at {host} answered the login with HTTP {status}: {e}"),
                ),
                None => ConnectorError::new(
                    ErrorKind::Unreachable,
                    format!("cannot reach Snowflake at {host}: {}", error_chain(e)),
                ),
            },
            sf::ErrorKind::Timeout => ConnectorError::new(
                ErrorKind::Unreachable,
                format!("Snowflake at {host} did not answer the login in time: {e}"),
            ),
            sf::ErrorKind::Server => self.server_error(e),
            sf::ErrorKind::Config => {
                ConnectorError::invalid(format!("invalid Snowflake connection settings: {e}"))
            }
            _ => ConnectorError::internal(format!("Snowflake login failed: {}", error_chain(e))),
        }
    }

    pub(super) fn query_error(&self, e: &sf::Error, timeout: Duration) -> ConnectorError {
        match e.kind() {
            sf::ErrorKind::Server | sf::ErrorKind::SessionExpired => self.server_error(e),
            sf::ErrorKind::Timeout => ConnectorError::timeout(timeout),
            sf::ErrorKind::Cancelled => ConnectorError::cancelled(),
            sf::ErrorKind::BindEncode => {
                ConnectorError::invalid(format!("a query parameter cannot be sent to Snowflake: {e}"))
            }
            sf::ErrorKind::Network => ConnectorError::new(
                ErrorKind::Unreachable,
                format!("lost the connection to Snowflake at {}: {}", self.target.host(), error_chain(e)),
            ),
            sf::ErrorKind::Auth => self.login_error(e),
            _ => ConnectorError::internal(format!(
                "Snowflake answered in a way this connector cannot read: {}",
                error_chain(e)
            )),
        }
    }

    /// Snowflake's own error, with its message and code, classified by the code.
    fn server_error(&self, e: &sf::Error) -> ConnectorError {
        let message = e.snowflake_message().map(str::trim).unwrap_or("no message");
        let code = e.snowflake_code().unwrap_or("");
        let (kind, hint) = classify_code(code, message);
        let mut text = if code.is_empty() {
            format!("Snowflake: {message}")
        } else {
            format!("Snowflake error {code}: {message}")
        };
        if let Some(hint) = hint {
            text.push_str(" (");
            text.push_str(hint);
            text.push(')');
        }
        ConnectorError::new(kind, text)
    }
}

/// What to check after a refused login for the method in use. The crate keeps no code for a
/// refused login, so wrong credentials (390100) are told by Snowflake's message. Snowflake ended
/// password-only sign-in in 2026, so a correct password can be refused too.
fn login_hint(authenticator: Authenticator, message: &str) -> &'static str {
    let wrong_credentials = message.to_ascii_lowercase().contains("incorrect username or password");
    match (authenticator, wrong_credentials) {
        (Authenticator::ProgrammaticAccessToken, _) => {
            " (check that the token is the whole secret Snowflake showed once, for this user, not expired \
             or revoked, and that the user's network policy allows this address)"
        }
        (Authenticator::Snowflake, true) => {
            " (if this is a programmatic access token in the password field, check it is for this user \
             and not expired or revoked; a password alone no longer signs in to Snowflake: use a \
             programmatic access token, key pair or OAuth)"
        }
        _ => "",
    }
}

/// Error kind and a hint for the user, from Snowflake's error code (and message where codes are
/// shared).
fn classify_code(code: &str, message: &str) -> (ErrorKind, Option<&'static str>) {
    let lower = message.to_ascii_lowercase();
    match code {
        // No active warehouse / the warehouse is suspended and cannot resume / does not exist.
        "000606" | "000625" | "000627" => (
            ErrorKind::InvalidInput,
            Some("set \"warehouse\" on the connection to one this role may use; list them with the warehouses listing"),
        ),
        "003001" | "003003" | "003011" => (ErrorKind::AccessDenied, Some("the connection's role lacks this privilege")),
        "000604" => (ErrorKind::Cancelled, None),
        "000630" => (ErrorKind::Timeout, None),
        "090105" | "090106" => (
            ErrorKind::InvalidInput,
            Some("set \"database\" and \"schema\" on the connection, or qualify names as database.schema.table"),
        ),
        // Login, session and authentication codes (incorrect password, JWT invalid, OAuth token
        // invalid or expired, MFA required, user locked, IP not allowed, session expired).
        _ if code.starts_with("390") || code.starts_with("394") => (ErrorKind::AccessDenied, None),
        _ if lower.contains("insufficient privileges") => {
            (ErrorKind::AccessDenied, Some("the connection's role lacks this privilege"))
        }
        _ => (ErrorKind::Sql, None),
    }
}

/// A missing schema or table shows up as a SQL error (002003, "does not exist or not
/// authorized"); listings report it as `NotFound`.
pub(super) fn not_found_as(
    error: ConnectorError,
    not_found: impl FnOnce() -> ConnectorError,
) -> ConnectorError {
    let message = error.message().to_ascii_lowercase();
    if error.kind() == ErrorKind::Sql
        && (message.contains("002003")
            || message.contains("does not exist")
            || message.contains("not authorized"))
    {
        not_found()
    } else {
        error
    }
}

fn is_key_error(e: &sf::Error) -> bool {
    matches!(e.to_string().as_str(), "private key error" | "DER error" | "JWT error")
}

/// The HTTP status of a `NetworkError::HttpStatus`, which the crate shows as `HTTP 404: ...`.
fn http_status(e: &sf::Error) -> Option<u16> {
    let text = e.to_string();
    let rest = text.strip_prefix("HTTP ")?;
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// The error and its causes, since the crate's own message is often just "network error".
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    scrub(&text, std::iter::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_classify() {
        assert_eq!(classify_code("000606", "No active warehouse").0, ErrorKind::InvalidInput);
        assert_eq!(classify_code("003001", "SQL access control error").0, ErrorKind::AccessDenied);
        assert_eq!(
            classify_code("390100", "Incorrect username or password was specified.").0,
            ErrorKind::AccessDenied
        );
        assert_eq!(classify_code("390144", "JWT token is invalid.").0, ErrorKind::AccessDenied);
        assert_eq!(classify_code("002003", "Object 'X' does not exist or not authorized.").0, ErrorKind::Sql);
        assert_eq!(classify_code("001003", "syntax error").0, ErrorKind::Sql);
        assert_eq!(
            classify_code("000630", "Statement reached its statement or warehouse timeout").0,
            ErrorKind::Timeout
        );
        assert_eq!(
            classify_code("", "Insufficient privileges to operate on schema").0,
            ErrorKind::AccessDenied
        );
    }

    #[test]
    fn refused_logins_say_what_to_check() {
        let wrong = "Incorrect username or password was specified.";
        assert!(login_hint(Authenticator::ProgrammaticAccessToken, wrong).contains("revoked"));
        assert!(login_hint(Authenticator::ProgrammaticAccessToken, "User temporarily locked.")
            .contains("revoked"));
        assert!(login_hint(Authenticator::Snowflake, wrong).contains("programmatic access token"));
        // An MFA refusal already says what is missing.
        assert_eq!(
            login_hint(Authenticator::Snowflake, "Failed to authenticate: MFA with TOTP is required."),
            ""
        );
        assert_eq!(login_hint(Authenticator::Oauth, "Invalid OAuth access token."), "");
    }

    #[test]
    fn not_found_is_recognised_in_sql_errors() {
        let err = not_found_as(
            ConnectorError::sql("Snowflake error 002003: Table 'T' does not exist or not authorized."),
            || ConnectorError::not_found("gone"),
        );
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let err = not_found_as(ConnectorError::sql("Snowflake error 001003: syntax error"), || {
            ConnectorError::not_found("gone")
        });
        assert_eq!(err.kind(), ErrorKind::Sql);
    }
}
