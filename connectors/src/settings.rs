//! What a saved connection is made of: non-secret settings (stored in the state database and
//! shown in the API) and secrets (kept only in the OS keyring and handed to `connect`).

use crate::kind::EngineKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Non-secret settings, tagged by `kind` in JSON: `{"kind": "sqlite", "path": ..., "read_only": true}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ConnectionSettings {
    Sqlite(crate::sqlite::SqliteSettings),
    Mysql(crate::mysql::MysqlSettings),
    Postgres(crate::postgres::PostgresSettings),
    Snowflake(crate::snowflake::SnowflakeSettings),
    Duckdb(crate::duckdb::DuckdbSettings),
}

impl ConnectionSettings {
    /// The SSH tunnel settings of an engine that has them.
    pub fn ssh_mut(&mut self) -> Option<&mut crate::tunnel::SshSettings> {
        match self {
            Self::Mysql(s) => s.ssh.as_mut(),
            Self::Postgres(s) => s.ssh.as_mut(),
            Self::Sqlite(_) | Self::Snowflake(_) | Self::Duckdb(_) => None,
        }
    }

    /// Pins the bastion's host key seen on first use; a key already pinned is kept (the tunnel
    /// has refused any other).
    pub fn pin_ssh_host_key(&mut self, fingerprint: Option<String>) {
        if let (Some(ssh), Some(fingerprint)) = (self.ssh_mut(), fingerprint) {
            ssh.host_key.get_or_insert(fingerprint);
        }
    }

    pub fn kind(&self) -> EngineKind {
        match self {
            Self::Sqlite(_) => EngineKind::Sqlite,
            Self::Mysql(_) => EngineKind::Mysql,
            Self::Postgres(_) => EngineKind::Postgres,
            Self::Snowflake(_) => EngineKind::Snowflake,
            Self::Duckdb(_) => EngineKind::Duckdb,
        }
    }

    pub fn read_only(&self) -> bool {
        match self {
            Self::Sqlite(s) => s.read_only(),
            Self::Mysql(s) => s.read_only(),
            Self::Postgres(s) => s.read_only(),
            Self::Snowflake(s) => s.read_only(),
            Self::Duckdb(s) => s.read_only(),
        }
    }
}

/// What every engine's settings type declares about itself.
pub trait EngineSettings {
    /// The JSON fields of this engine's connections that are secrets: split off on input, kept in
    /// the keyring, reported only as `has_<field>` on output.
    const SECRET_FIELDS: &'static [&'static str];

    /// Whether the connection refuses writes (the default for every engine).
    fn read_only(&self) -> bool;
}

pub(crate) fn default_true() -> bool {
    true
}

/// Secret fields of one connection. `Debug` never prints the values.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secrets(BTreeMap<String, String>);

impl Secrets {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }
    pub fn insert(&mut self, field: impl Into<String>, value: impl Into<String>) {
        self.0.insert(field.into(), value.into());
    }
    pub fn remove(&mut self, field: &str) -> Option<String> {
        self.0.remove(field)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
    /// The secret values, for scrubbing driver messages.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.0.values().map(String::as_str)
    }
    /// Fields of `other` replace ours; fields `other` lacks are kept (an update without a
    /// password keeps the stored one).
    pub fn merge(&mut self, other: Secrets) {
        self.0.extend(other.0);
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys().map(|k| format!("{k}: ***"))).finish()
    }
}

impl FromIterator<(String, String)> for Secrets {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secret_values() {
        let mut s = Secrets::new();
        s.insert("password", "hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn merge_keeps_fields_the_update_lacks() {
        let mut stored: Secrets =
            [("password".into(), "a".into()), ("passcode".into(), "1".into())].into_iter().collect();
        stored.merge([("password".to_string(), "b".to_string())].into_iter().collect());
        assert_eq!(stored.get("password"), Some("b"));
        assert_eq!(stored.get("passcode"), Some("1"));
    }
}

impl ConnectionSettings {
    /// Splits a connection as the API receives it (`{"kind": ..., fields..., secrets...}`, without
    /// `name`) into settings and secrets. Unknown fields are refused so a typo such as
    /// `"pasword"` cannot silently drop a credential.
    pub fn from_input(
        mut input: serde_json::Map<String, serde_json::Value>,
    ) -> crate::Result<(Self, Secrets)> {
        if input.contains_key("url") {
            network_url::expand_url(&mut input)?;
        }
        let kind = match input.get("kind") {
            Some(serde_json::Value::String(kind)) => kind.clone(),
            _ => {
                return Err(crate::ConnectorError::invalid(format!(
                    "\"kind\" is required: {}",
                    EngineKind::names()
                )))
            }
        };
        // An unknown kind has no secrets to split off; serde names the kinds it accepts below.
        let secret_fields = kind.parse::<EngineKind>().map_or(&[][..], EngineKind::secret_fields);
        if secret_fields.contains(&crate::tunnel::SECRET_FIELDS[0]) {
            crate::tunnel::lift_secrets(&mut input);
        }
        let mut secrets = Secrets::new();
        for field in secret_fields {
            match input.remove(*field) {
                Some(serde_json::Value::String(value)) if !value.is_empty() => secrets.insert(*field, value),
                Some(serde_json::Value::String(_) | serde_json::Value::Null) | None => {}
                Some(_) => {
                    return Err(crate::ConnectorError::invalid(format!("\"{field}\" must be a string")))
                }
            }
        }
        let settings = serde_json::from_value(serde_json::Value::Object(input))
            .map_err(|e| crate::ConnectorError::invalid(format!("invalid {kind} connection: {e}")))?;
        Ok((settings, secrets))
    }
}

/// How MySQL/MariaDB and PostgreSQL connections use TLS (libpq's `sslmode` names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    Disable,
    /// TLS when the server offers it, plain otherwise; the certificate is not checked.
    #[default]
    Prefer,
    /// TLS or fail; the certificate is not checked.
    Require,
    /// TLS with a certificate signed by a trusted CA (`ca_file`, else the public roots).
    VerifyCa,
    /// As `verify-ca`, and the certificate must name the host.
    VerifyFull,
}

impl TlsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }

    /// Our names plus the drivers' own spellings (`REQUIRED`, `VERIFY_IDENTITY`, `allow`, ...),
    /// so URLs copied from other tools work.
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().replace('_', "-").as_str() {
            "disable" | "disabled" | "false" => Some(Self::Disable),
            // libpq's "allow" tries plain text first; taking TLS when offered is never weaker.
            "prefer" | "preferred" | "allow" => Some(Self::Prefer),
            "require" | "required" | "true" => Some(Self::Require),
            "verify-ca" => Some(Self::VerifyCa),
            "verify-full" | "verify-identity" => Some(Self::VerifyFull),
            _ => None,
        }
    }
}

/// Connection URLs (`mysql://`, `mariadb://`, `postgres://`, `postgresql://`) taken apart into
/// the fields `from_input` expects, so a URL never reaches the stored settings and its
/// password goes the way of every other secret.
pub(crate) mod network_url {
    use super::TlsMode;
    use crate::kind::EngineKind;
    use crate::{ConnectorError, Result};
    use serde_json::{Map, Value};

    #[derive(Debug, PartialEq)]
    pub(crate) struct UrlParts {
        pub(crate) kind: EngineKind,
        pub(crate) host: Option<String>,
        pub(crate) port: Option<u16>,
        pub(crate) user: Option<String>,
        pub(crate) password: Option<String>,
        pub(crate) database: Option<String>,
        pub(crate) tls: Option<TlsMode>,
        pub(crate) ca_file: Option<String>,
    }

    /// Replaces `url` in the input with the fields it holds. A field given both in the URL and
    /// beside it must agree: silently preferring one would hide a mistake.
    pub(crate) fn expand_url(input: &mut Map<String, Value>) -> Result<()> {
        let url = match input.remove("url") {
            Some(Value::String(url)) => url,
            Some(Value::Null) | None => return Ok(()),
            Some(_) => return Err(ConnectorError::invalid("\"url\" must be a string")),
        };
        let parts = parse(&url)?;
        match input.get("kind") {
            None => {
                input.insert("kind".into(), Value::String(parts.kind.name().into()));
            }
            Some(Value::String(kind)) if kind == parts.kind.name() => {}
            Some(other) => {
                return Err(ConnectorError::invalid(format!(
                    "the url is for {} but \"kind\" is {other}",
                    parts.kind
                )))
            }
        }
        let fields = [
            ("host", parts.host.map(Value::String)),
            ("port", parts.port.map(Value::from)),
            ("user", parts.user.map(Value::String)),
            ("password", parts.password.map(Value::String)),
            ("database", parts.database.map(Value::String)),
            ("tls", parts.tls.map(|t| Value::String(t.as_str().into()))),
            ("ca_file", parts.ca_file.map(Value::String)),
        ];
        for (field, value) in fields {
            let Some(value) = value else { continue };
            match input.get(field) {
                None | Some(Value::Null) => {
                    input.insert(field.into(), value);
                }
                Some(given) if *given == value => {}
                Some(_) => {
                    return Err(ConnectorError::invalid(format!(
                        "\"{field}\" is given both in the url and as a field, with different values"
                    )))
                }
            }
        }
        Ok(())
    }

    /// `scheme://[user[:password]@]host[:port][/database][?param=value&...]`, percent-decoded.
    pub(crate) fn parse(url: &str) -> Result<UrlParts> {
        let invalid = |why: &str| ConnectorError::invalid(format!("invalid connection url: {why}"));
        let (scheme, rest) = url.split_once("://").ok_or_else(|| invalid("it must start with scheme://"))?;
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "mysql" | "mariadb" => EngineKind::Mysql,
            "postgres" | "postgresql" => EngineKind::Postgres,
            other => {
                return Err(invalid(&format!(
                    "unknown scheme {other:?}; use mysql://, mariadb://, postgres:// or postgresql://"
                )))
            }
        };
        let mut parts = UrlParts {
            kind,
            host: None,
            port: None,
            user: None,
            password: None,
            database: None,
            tls: None,
            ca_file: None,
        };
        // A password may hold an unescaped '/', '?' or '@', so the user part ends at the last
        // '@' of the whole URL (an '@' in a parameter value is written %40). Splitting off the
        // parameters first would cut a password at its '?' and quote the pieces in errors.
        let (userinfo, rest) = match rest.rfind('@') {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
            None => (None, rest),
        };
        let (rest, query) = match rest.split_once('?') {
            Some((rest, query)) => (rest, Some(query)),
            None => (rest, None),
        };
        if let Some(userinfo) = userinfo {
            let (user, password) = match userinfo.split_once(':') {
                Some((user, password)) => (user, Some(password)),
                None => (userinfo, None),
            };
            parts.user = Some(decode(user)?).filter(|u| !u.is_empty());
            parts.password = password.map(decode).transpose()?.filter(|p| !p.is_empty());
        }
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], Some(&rest[slash + 1..])),
            None => (rest, None),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| invalid("unclosed '[' in the host"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        parts.host = Some(decode(host)?).filter(|h| !h.is_empty());
        if let Some(port) = port.filter(|p| !p.is_empty()) {
            parts.port = Some(port.parse().map_err(|_| invalid(&format!("port {port:?} is not a number")))?);
        }
        parts.database = path.map(decode).transpose()?.filter(|d| !d.is_empty());
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode(value)?;
            match key.to_ascii_lowercase().replace('_', "-").as_str() {
                "sslmode" | "ssl-mode" | "tls" => {
                    parts.tls = Some(
                        TlsMode::parse(&value)
                            .ok_or_else(|| invalid(&format!("unknown TLS mode {value:?}")))?,
                    );
                }
                "sslrootcert" | "ssl-ca" | "ca-file" => parts.ca_file = Some(value),
                other => {
                    return Err(invalid(&format!(
                        "unsupported parameter {other:?}; supported: sslmode (or ssl-mode) and \
                         sslrootcert (or ssl-ca)"
                    )))
                }
            }
        }
        Ok(parts)
    }

    fn decode(text: &str) -> Result<String> {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| ConnectorError::invalid("invalid connection url: bad %-escape"))?;
                out.push(hex);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out)
            .map_err(|_| ConnectorError::invalid("invalid connection url: %-escapes are not UTF-8"))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn urls_split_into_fields() {
            let p = parse("mariadb://bob:p%40ss%2Fw:rd@db.example:3307/sales?ssl-mode=REQUIRED").unwrap();
            assert_eq!(p.kind, EngineKind::Mysql);
            assert_eq!(p.user.as_deref(), Some("bob"));
            assert_eq!(p.password.as_deref(), Some("p@ss/w:rd"));
            assert_eq!((p.host.as_deref(), p.port), (Some("db.example"), Some(3307)));
            assert_eq!(p.database.as_deref(), Some("sales"));
            assert_eq!(p.tls, Some(TlsMode::Require));

            let p = parse("postgresql://[::1]:6543/my%20db?sslmode=verify-full&sslrootcert=/ca.pem").unwrap();
            assert_eq!(p.kind, EngineKind::Postgres);
            assert_eq!((p.host.as_deref(), p.port, p.user), (Some("::1"), Some(6543), None));
            assert_eq!(p.database.as_deref(), Some("my db"));
            assert_eq!((p.tls, p.ca_file.as_deref()), (Some(TlsMode::VerifyFull), Some("/ca.pem")));

            // Issue 12: a '?' in the password is the password's, not the start of parameters.
            let p = parse("mysql://bob:pa?ss:w/rd@db.example:3307/sales?ssl-mode=disabled").unwrap();
            assert_eq!(p.password.as_deref(), Some("pa?ss:w/rd"));
            assert_eq!(
                (p.host.as_deref(), p.port, p.database.as_deref()),
                (Some("db.example"), Some(3307), Some("sales"))
            );
            let e = parse("mysql://bob:pa?ss@db.example:x3/sales").unwrap_err().to_string();
            assert!(!e.contains("pa") && !e.contains("ss@"), "{e}");

            assert!(parse("http://x").is_err());
            assert!(parse("mysql://h:notaport/").is_err());
            assert!(parse("mysql://h/?foo=1").is_err());
        }

        #[test]
        fn the_url_password_becomes_a_secret() {
            let input =
                serde_json::json!({"url": "postgres://ann:s3cret@localhost/test", "read_only": false});
            let serde_json::Value::Object(input) = input else { unreachable!() };
            let (settings, secrets) = crate::ConnectionSettings::from_input(input).unwrap();
            assert_eq!(secrets.get("password"), Some("s3cret"));
            assert_eq!(settings.kind(), EngineKind::Postgres);
            assert!(!settings.read_only());
            let stored = serde_json::to_string(&settings).unwrap();
            assert!(!stored.contains("s3cret") && !stored.contains("url"), "{stored}");
        }

        #[test]
        fn url_and_fields_must_agree() {
            let input = serde_json::json!({"url": "mysql://a@h/db", "kind": "postgres"});
            let serde_json::Value::Object(input) = input else { unreachable!() };
            assert!(crate::ConnectionSettings::from_input(input).is_err());
            let input = serde_json::json!({"url": "mysql://a@h/db", "host": "other"});
            let serde_json::Value::Object(input) = input else { unreachable!() };
            assert!(crate::ConnectionSettings::from_input(input).is_err());
        }
    }
}
