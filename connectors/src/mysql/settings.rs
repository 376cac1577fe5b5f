//! What a MySQL/MariaDB connection stores. The password is a secret and lives in the keyring.

use crate::settings::{default_true, EngineSettings, TlsMode};
use crate::tunnel::SshSettings;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MysqlSettings {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    /// Default database; listings and unqualified table names use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    pub user: String,
    #[serde(default)]
    pub tls: TlsMode,
    /// PEM file of the CA that signed the server's certificate (for `verify-ca`/`verify-full`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_true")]
    pub read_only: bool,
    /// Reach the server through an SSH bastion; `host`/`port` are then as the bastion sees them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<SshSettings>,
}

fn default_port() -> u16 {
    3306
}

impl EngineSettings for MysqlSettings {
    const SECRET_FIELDS: &'static [&'static str] =
        &["password", "ssh_private_key", "ssh_password", "ssh_passphrase"];

    fn read_only(&self) -> bool {
        self.read_only
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_to_read_only_with_tls_preferred() {
        let s: MysqlSettings = serde_json::from_str(r#"{"host": "h", "user": "u"}"#).unwrap();
        assert_eq!((s.port, s.tls, s.read_only, s.database), (3306, TlsMode::Prefer, true, None));
        assert!(
            serde_json::from_str::<MysqlSettings>(r#"{"host": "h", "user": "u", "pasword": "x"}"#).is_err()
        );
    }
}
