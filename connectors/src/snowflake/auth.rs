//! The login method and its credentials, from the secrets (never from settings): password
//! (with an MFA passcode), key pair (a JWT signed with the private key), an OAuth token or a
//! programmatic access token.

use super::Authenticator;
use crate::error::{ConnectorError, Result};
use crate::settings::Secrets;
use snowflake_connector_rs as sf;

/// The login method actually used (given or inferred) and its credentials, from the secrets
/// (never from settings).
pub(super) fn auth_config(
    authenticator: Option<Authenticator>,
    secrets: &Secrets,
) -> Result<(Authenticator, sf::AuthConfig)> {
    let given = |field: &str| secrets.get(field).filter(|v| !v.trim().is_empty());
    let authenticator = match authenticator {
        Some(a) => a,
        None if given("private_key").is_some() => Authenticator::SnowflakeJwt,
        None if given("oauth_token").is_some() => Authenticator::Oauth,
        None if given("pat").is_some() => Authenticator::ProgrammaticAccessToken,
        None if given("password").is_some() => Authenticator::Snowflake,
        None => {
            return Err(ConnectorError::invalid(
                "Snowflake needs a pat (programmatic access token), a private_key (key-pair login), \
                 an oauth_token or a password",
            ))
        }
    };
    let config = match authenticator {
        Authenticator::Snowflake => {
            let password = given("password")
                .ok_or_else(|| ConnectorError::invalid("\"password\" is required for password login"))?;
            let mut config = sf::PasswordConfig::new(password);
            if let Some(passcode) = given("passcode") {
                config = config.with_passcode(passcode.trim());
            }
            sf::AuthConfig::password(config)
        }
        Authenticator::SnowflakeJwt => {
            let pem = given("private_key")
                .ok_or_else(|| ConnectorError::invalid("\"private_key\" is required for key-pair login"))?;
            sf::AuthConfig::key_pair(key_pair_config(pem, given("private_key_passphrase"))?)
        }
        Authenticator::Oauth => {
            let token = given("oauth_token")
                .ok_or_else(|| ConnectorError::invalid("\"oauth_token\" is required for OAuth login"))?;
            sf::AuthConfig::oauth(token.trim())
        }
        Authenticator::ProgrammaticAccessToken => {
            let token = given("pat").ok_or_else(|| {
                ConnectorError::invalid("\"pat\" (the programmatic access token) is required for PAT login")
            })?;
            // Snowflake takes a PAT wherever a password goes (its documented way for drivers
            // without a PAT authenticator, which the crate is); no MFA passcode goes with it.
            sf::AuthConfig::password(sf::PasswordConfig::new(token.trim()))
        }
    };
    Ok((authenticator, config))
}

/// Checks the PEM's kind before the crate parses it, so each mistake gets its own message.
fn key_pair_config(pem: &str, passphrase: Option<&str>) -> Result<sf::KeyPairConfig> {
    // Keys pasted through JSON or env files often arrive with literal `\n`s.
    let pem = if pem.contains('\n') { pem.trim().to_string() } else { pem.trim().replace("\\n", "\n") };
    if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        return match passphrase {
            Some(passphrase) => Ok(sf::KeyPairConfig::from_encrypted_pem(pem, passphrase.as_bytes().to_vec())),
            None => Err(ConnectorError::invalid(
                "the private key is encrypted (BEGIN ENCRYPTED PRIVATE KEY): give its passphrase as private_key_passphrase",
            )),
        };
    }
    if pem.contains("-----BEGIN RSA PRIVATE KEY-----") {
        return Err(ConnectorError::invalid(
            "the private key is in PKCS#1 form (BEGIN RSA PRIVATE KEY); Snowflake key-pair login needs PKCS#8: \
             convert it with `openssl pkcs8 -topk8 -in rsa_key.pem -out rsa_key.p8 -nocrypt` \
             (or `-v2 aes-256-cbc` instead of `-nocrypt` to keep it encrypted)",
        ));
    }
    if pem.contains("-----BEGIN PRIVATE KEY-----") {
        // An unencrypted key with a passphrase given: the passphrase has nothing to unlock.
        return Ok(sf::KeyPairConfig::from_pem(pem));
    }
    Err(ConnectorError::invalid(
        "private_key must be a PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN ENCRYPTED PRIVATE KEY-----)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn secrets(pairs: &[(&str, &str)]) -> Secrets {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn authenticator_is_inferred_from_the_secrets() {
        assert!(auth_config(None, &secrets(&[("password", "pw")])).is_ok());
        assert!(auth_config(None, &secrets(&[("oauth_token", "t")])).is_ok());
        let err = auth_config(None, &secrets(&[])).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let err = auth_config(Some(Authenticator::Oauth), &secrets(&[("password", "pw")])).unwrap_err();
        assert!(err.message().contains("oauth_token"), "{err}");
        let err = auth_config(Some(Authenticator::Snowflake), &secrets(&[("password", "  ")])).unwrap_err();
        assert!(err.message().contains("password"), "{err}");
        // A PAT wins over a stale password; asked for explicitly, it must be there.
        let (used, _) = auth_config(None, &secrets(&[("password", "pw"), ("pat", "tok")])).unwrap();
        assert_eq!(used, Authenticator::ProgrammaticAccessToken);
        let err = auth_config(Some(Authenticator::ProgrammaticAccessToken), &secrets(&[("password", "pw")]))
            .unwrap_err();
        assert!(err.message().contains("\"pat\""), "{err}");
    }

    #[test]
    fn key_mistakes_get_their_own_messages() {
        let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----";
        let err = key_pair_config(encrypted, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains("private_key_passphrase"), "{err}");
        assert!(key_pair_config(encrypted, Some("pp")).is_ok());
        let pkcs1 = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----";
        assert!(key_pair_config(pkcs1, None).unwrap_err().message().contains("openssl pkcs8 -topk8"));
        assert_eq!(key_pair_config("not a key", None).unwrap_err().kind(), ErrorKind::InvalidInput);
        let escaped = "-----BEGIN PRIVATE KEY-----\\nMIIB\\n-----END PRIVATE KEY-----";
        assert!(key_pair_config(escaped, None).is_ok());
        // Through auth_config, the inference picks the key over a stale password.
        let s = secrets(&[("password", "old"), ("private_key", encrypted)]);
        assert!(auth_config(None, &s).unwrap_err().message().contains("private_key_passphrase"));
    }
}
