//! What a PostgreSQL connection stores. The password is a secret and lives in the keyring.

use crate::settings::{default_true, EngineSettings, TlsMode};
use crate::tunnel::SshSettings;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresSettings {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    /// Database to connect to; `postgres` when not given, which every server has, so that the
    /// connection dialog can list databases before one is chosen.
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
    5432
}

impl EngineSettings for PostgresSettings {
    const SECRET_FIELDS: &'static [&'static str] =
        &["password", "ssh_private_key", "ssh_password", "ssh_passphrase"];

    fn read_only(&self) -> bool {
        self.read_only
    }
}
