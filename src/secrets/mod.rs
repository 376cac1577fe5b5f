//! Where connection secrets live: the OS keyring, or process memory when the user asked for
//! `--ephemeral-secrets`. The rest of the server sees only [`SecretStore`], so the keyring can be
//! swapped for a mock in tests and a missing keyring is one clear error, never a silent
//! fallback to a file or to memory.
//!
//! Layout in the OS keyring: service [`SERVICE`], account = the connection name, and one secret
//! per connection holding a JSON object of all its secret fields (`{"password": "..."}`), so a
//! connection's secrets are saved, replaced and removed together.
//!
//! Every call may block on the OS (D-Bus on Linux); run it inside
//! `tokio::task::spawn_blocking`.

mod memory;
mod os_keyring;

use std::sync::Arc;

use connectors::Secrets;

use crate::error::{Error, Result};

/// The keyring service name of every entry this application writes.
pub const SERVICE: &str = "data-connector";

/// Keeps the secret fields of saved connections, one entry per connection name.
pub trait SecretStore: Send + Sync {
    /// The secrets saved for this connection; `Ok(None)` when there is no entry.
    fn get(&self, connection: &str) -> Result<Option<Secrets>>;

    /// Saves (replaces) all secret fields of the connection in one entry. Saving no fields
    /// removes the entry, so connections without secrets leave nothing in the keyring and
    /// `get` answers `Ok(None)` for them.
    fn set(&self, connection: &str, secrets: &Secrets) -> Result<()>;

    /// Removes the entry; `Ok(())` when there was none.
    fn delete(&self, connection: &str) -> Result<()>;

    /// Moves the entry to a new connection name; a no-op when there is none. An entry already
    /// saved under `to` is replaced, so callers check for name clashes first.
    fn rename(&self, from: &str, to: &str) -> Result<()> {
        if from == to {
            return Ok(());
        }
        let Some(secrets) = self.get(from)? else {
            return Ok(());
        };
        // Write the new entry before removing the old one: a failure in between leaves the
        // secrets reachable under the old name instead of losing them.
        self.set(to, &secrets)?;
        self.delete(from)
    }

    /// Human description for `GET /` and logs.
    fn describe(&self) -> &'static str;

    /// True when secrets are lost as the process exits.
    fn is_ephemeral(&self) -> bool;
}

/// The OS keyring (Secret Service, macOS Keychain or Windows Credential Manager, chosen at
/// compile time), connected now: fails with a message that says how to fix it when the
/// keyring cannot be reached.
pub fn open_os_store() -> Result<Arc<dyn SecretStore>> {
    let store = os_keyring::OsKeyring::new();
    store.connect()?;
    Ok(Arc::new(store))
}

/// The OS keyring, connected on first use: the server can start without a keyring, and
/// `get`/`set`/`delete` report the same clear error as [`open_os_store`] until one is
/// reachable. A lost connection is re-opened on the next call.
pub fn lazy_os_store() -> Arc<dyn SecretStore> {
    Arc::new(os_keyring::OsKeyring::new())
}

/// Secrets kept in process memory only, for `--ephemeral-secrets`.
pub fn ephemeral_store() -> Arc<dyn SecretStore> {
    Arc::new(memory::MemoryStore::default())
}

fn check_name(connection: &str) -> Result<()> {
    if connection.is_empty() {
        return Err(Error::BadRequest("A connection needs a name before its secrets can be stored.".into()));
    }
    Ok(())
}

fn encode(connection: &str, secrets: &Secrets) -> Result<Vec<u8>> {
    serde_json::to_vec(secrets).map_err(|e| {
        // serde_json's message may quote the value it choked on; keep only where it happened.
        Error::Internal(format!(
            "Could not encode the secrets of connection '{connection}' (JSON error at line {}, column {}).",
            e.line(),
            e.column()
        ))
    })
}

fn decode(connection: &str, bytes: &[u8]) -> Result<Secrets> {
    // The error is deliberately not quoted: serde_json's messages can contain the stored value.
    serde_json::from_slice(bytes).map_err(|_| unreadable_entry(connection))
}

fn unreadable_entry(connection: &str) -> Error {
    Error::SecretStore(format!(
        "The OS keyring entry of connection '{connection}' (service {SERVICE}) is not in the format \
         Data Connector writes (a JSON object of secret fields). Enter the connection's secrets \
         again to replace it."
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn secrets(pairs: &[(&str, &str)]) -> Secrets {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn payload_is_a_json_object_of_fields() {
        let s = secrets(&[("password", "p\"w"), ("passcode", "123")]);
        let bytes = encode("c", &s).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v, serde_json::json!({"passcode": "123", "password": "p\"w"}));
        assert_eq!(decode("c", &bytes).unwrap(), s);
    }

    #[test]
    fn undecodable_payload_error_does_not_quote_it() {
        for bad in [&b"\"hunter2\""[..], b"{\"password\": 5}", b"hunter2", b"[\"hunter2\"]"] {
            let msg = decode("conn", bad).unwrap_err().to_string();
            assert!(!msg.contains("hunter2"), "{msg}");
            assert!(msg.contains("'conn'"), "{msg}");
        }
    }

    #[test]
    fn default_rename_moves_and_tolerates_missing() {
        let store = ephemeral_store();
        store.rename("nothing", "else").unwrap();
        assert_eq!(store.get("else").unwrap(), None);

        let s = secrets(&[("password", "pw")]);
        store.set("a", &s).unwrap();
        store.rename("a", "a").unwrap();
        assert_eq!(store.get("a").unwrap(), Some(s.clone()));
        store.rename("a", "b").unwrap();
        assert_eq!(store.get("a").unwrap(), None);
        assert_eq!(store.get("b").unwrap(), Some(s));
    }

    #[test]
    fn empty_name_is_rejected() {
        let store = ephemeral_store();
        assert!(matches!(store.set("", &secrets(&[("password", "x")])), Err(Error::BadRequest(_))));
    }
}
