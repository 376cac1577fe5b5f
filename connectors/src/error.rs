//! The one error type of the `connectors` crate. The server maps `ErrorKind` to an HTTP status in
//! exactly one place; the message is always safe to show a user (no secrets: see `scrub`).

use thiserror::Error;

/// What went wrong, coarse enough for the server to choose a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request itself is malformed (bad settings, bad parameter, bad identifier).
    InvalidInput,
    /// A file, table, database or schema that does not exist.
    NotFound,
    /// The database refused us: wrong password, insufficient privileges.
    AccessDenied,
    /// The statement would write, or is not allowed at all (ATTACH, several statements).
    ReadOnly,
    /// The database could not be reached: unknown host, refused, TLS failure.
    Unreachable,
    /// The database rejected the SQL (syntax error, unknown column, ...).
    Sql,
    /// The query ran past its time limit.
    Timeout,
    /// The client went away; nobody is waiting for this answer.
    Cancelled,
    /// The engine cannot do this (e.g. roles on SQLite).
    Unsupported,
    /// A value or row of the result is larger than the server's memory caps allow.
    TooLarge,
    /// Our bug or an unexpected driver state.
    Internal,
}

/// Which step of reaching a database through an SSH tunnel failed, so that a connection test can
/// say where to look. Errors after the tunnel (the database login) carry no step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectStep {
    /// The bastion's name did not resolve.
    Dns,
    /// The bastion did not accept a TCP connection.
    Tcp,
    /// The SSH handshake failed (not an SSH server, no common algorithm).
    Ssh,
    /// The bastion presented a host key other than the pinned one.
    HostKey,
    /// The bastion refused the key or password, or the key could not be read.
    SshAuth,
}

impl ConnectStep {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Tcp => "tcp",
            Self::Ssh => "ssh",
            Self::HostKey => "host_key",
            Self::SshAuth => "ssh_auth",
        }
    }
}

#[derive(Debug, Error, Clone)]
#[error("{message}")]
pub struct ConnectorError {
    kind: ErrorKind,
    message: String,
    step: Option<ConnectStep>,
}

impl ConnectorError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), step: None }
    }
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The SSH tunnel step that failed, if the error came from the tunnel.
    pub fn step(&self) -> Option<ConnectStep> {
        self.step
    }
    pub(crate) fn at_step(mut self, step: ConnectStep) -> Self {
        self.message = format!("SSH tunnel, step {}: {}", step.as_str(), self.message);
        self.step = Some(step);
        self
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub fn read_only(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ReadOnly, message)
    }
    pub fn sql(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Sql, message)
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::TooLarge, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    pub fn timeout(after: std::time::Duration) -> Self {
        Self::new(
            ErrorKind::Timeout,
            format!("query timed out after {} ms and was stopped", after.as_millis()),
        )
    }
    pub fn cancelled() -> Self {
        Self::new(ErrorKind::Cancelled, "the client disconnected; the query was stopped")
    }

    /// A value the engine cannot read (malformed bytes, text that is not UTF-8): the query fails
    /// naming the column and its type, as docs/type-mapping.md promises, instead of showing
    /// something the database does not hold.
    pub(crate) fn unreadable(column: &str, db_type: &str, why: &str) -> Self {
        Self::internal(format!("cannot read column \"{column}\" ({db_type}): {why}"))
    }

    /// The same error with every occurrence of each secret replaced, for driver messages that echo
    /// connection strings or passwords back.
    pub fn scrubbed<'a>(mut self, secrets: impl IntoIterator<Item = &'a str>) -> Self {
        self.message = scrub(&self.message, secrets);
        self
    }
}

pub type Result<T, E = ConnectorError> = std::result::Result<T, E>;

/// Replaces every secret (and the password part of any `scheme://user:password@host` URL) in a
/// message with `***`. Secrets shorter than 3 characters are replaced only inside URLs, since
/// blanking every "a" of a message would make it unreadable without protecting anything.
pub fn scrub<'a>(message: &str, secrets: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = scrub_url_passwords(message);
    for secret in secrets {
        if secret.len() >= 3 {
            out = out.replace(secret, "***");
        }
    }
    out
}

fn scrub_url_passwords(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(scheme_end) = rest.find("://") {
        let (head, tail) = rest.split_at(scheme_end + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', ' ', '?', '"', '\'']).unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&authority[..colon]);
                out.push_str(":***");
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_secrets_and_url_passwords() {
        let msg = "cannot connect to mysql://bob:hunter2@db:3306/x (password hunter2 rejected)";
        assert_eq!(
            scrub(msg, ["hunter2"]),
            "cannot connect to mysql://bob:***@db:3306/x (password *** rejected)"
        );
        assert_eq!(scrub("postgres://u:p@h/db", []), "postgres://u:***@h/db");
        assert_eq!(scrub("no url here", ["ab"]), "no url here");
        assert_eq!(scrub("http://host/path", []), "http://host/path");
    }
}
