//! What a Snowflake connection stores. Passwords, MFA passcodes, private keys and their
//! passphrases, OAuth tokens and programmatic access tokens are secrets and live in the keyring.

use crate::settings::{default_true, EngineSettings};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnowflakeSettings {
    /// `xy12345.eu-central-1`, `orgname-account`, or a pasted `https://….snowflakecomputing.com`.
    #[serde(alias = "account_identifier")]
    pub account: String,
    #[serde(alias = "username")]
    pub user: String,
    /// How to log in; inferred from the secrets given when absent (key pair, then OAuth, then
    /// programmatic access token, then password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticator: Option<Authenticator>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Overrides the host the account implies: private-link hosts, proxies, tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default = "default_true")]
    pub read_only: bool,
}

/// Snowflake's names for the login methods (the `authenticator` of its own connectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Authenticator {
    /// User and password, plus `passcode` when MFA asks for one.
    Snowflake,
    /// Key pair: a JWT signed with `private_key`.
    SnowflakeJwt,
    /// An OAuth access token obtained elsewhere.
    Oauth,
    /// A programmatic access token (`pat`), made in Snowflake for this user. Sent in the password
    /// slot, which Snowflake accepts for PATs: the driver crate has no PAT authenticator.
    ProgrammaticAccessToken,
}

impl EngineSettings for SnowflakeSettings {
    const SECRET_FIELDS: &'static [&'static str] =
        &["password", "passcode", "private_key", "private_key_passphrase", "oauth_token", "pat"];

    fn read_only(&self) -> bool {
        self.read_only
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SnowflakeSettings {
        serde_json::from_value(serde_json::json!({"account": "xy12345.eu-central-1", "user": "ANALYST"}))
            .unwrap()
    }

    #[test]
    fn settings_parse_with_defaults_and_aliases() {
        let s = settings();
        assert!(s.read_only);
        assert_eq!(s.authenticator, None);
        let s: SnowflakeSettings = serde_json::from_value(serde_json::json!({
            "account_identifier": "myorg-acct", "username": "u", "authenticator": "snowflake_jwt",
            "role": "ANALYST", "warehouse": "WH", "database": "DB", "schema": "PUBLIC", "read_only": false
        }))
        .unwrap();
        assert_eq!(s.account, "myorg-acct");
        assert_eq!(s.authenticator, Some(Authenticator::SnowflakeJwt));
        let pat: SnowflakeSettings = serde_json::from_value(
            serde_json::json!({"account": "a", "user": "u", "authenticator": "programmatic_access_token"}),
        )
        .unwrap();
        assert_eq!(pat.authenticator, Some(Authenticator::ProgrammaticAccessToken));
        assert!(!s.read_only);
        let err = serde_json::from_value::<SnowflakeSettings>(
            serde_json::json!({"account": "a", "user": "u", "pasword": "x"}),
        );
        assert!(err.is_err());
    }

    #[test]
    fn secrets_are_split_off_by_from_input() {
        let input = serde_json::json!({
            "kind": "snowflake", "account": "xy12345", "user": "u", "password": "hunter2",
            "passcode": "123456", "private_key": "pem", "private_key_passphrase": "pp", "oauth_token": "tok",
            "pat": "pat-secret"
        });
        let serde_json::Value::Object(map) = input else { unreachable!() };
        let (settings, secrets) = crate::ConnectionSettings::from_input(map).unwrap();
        assert_eq!(settings.kind(), crate::EngineKind::Snowflake);
        assert!(settings.read_only());
        assert_eq!(secrets.fields().count(), 6);
        let shown = serde_json::to_string(&settings).unwrap();
        for secret in ["hunter2", "123456", "pem", "\"pp\"", "tok", "pat-secret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
