//! The OS keyring through `keyring-core`. The store crate is picked per OS at compile time and
//! entries are built against our own store object, not keyring-core's process-wide default, so
//! nothing else in the process can swap the store underneath us.

use std::sync::{Arc, Mutex, MutexGuard};

use connectors::Secrets;
use keyring_core::{CredentialStore, Entry, Error as KeyringError};

use super::{check_name, decode, encode, unreadable_entry, SecretStore, SERVICE};
use crate::error::{Error, Result};

/// Ends the "cannot reach the keyring" messages, after "Start the server ... or".
const EPHEMERAL_HINT: &str = "run it with --ephemeral-secrets to keep secrets in memory until it exits.";

type Opener = fn() -> keyring_core::Result<Arc<CredentialStore>>;

/// Connects on first use and again after the connection broke, so a server started before
/// the keyring was available (or that outlives a keyring daemon restart) recovers by itself.
pub(super) struct OsKeyring {
    open: Opener,
    describe: &'static str,
    store: Mutex<Option<Arc<CredentialStore>>>,
}

#[derive(Clone, Copy)]
enum Op {
    Read,
    Save,
    Delete,
}

impl Op {
    fn done(self) -> &'static str {
        match self {
            Op::Read => "read",
            Op::Save => "saved",
            Op::Delete => "removed",
        }
    }
}

impl OsKeyring {
    pub(super) fn new() -> Self {
        Self::with_opener(platform::open, platform::DESCRIPTION)
    }

    fn with_opener(open: Opener, describe: &'static str) -> Self {
        Self { open, describe, store: Mutex::new(None) }
    }

    fn slot(&self) -> MutexGuard<'_, Option<Arc<CredentialStore>>> {
        // The slot only ever holds a finished store or nothing, so a poisoned lock is harmless.
        self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The connected store, opening it if needed. Failures are not cached: the next call tries
    /// again, so unlocking or starting the keyring fixes the server without a restart.
    pub(super) fn connect(&self) -> Result<Arc<CredentialStore>> {
        // Held while opening so concurrent first calls make one D-Bus connection, not several.
        let mut slot = self.slot();
        if let Some(store) = slot.as_ref() {
            return Ok(store.clone());
        }
        let store = (self.open)().map_err(|e| Error::SecretStore(platform::unreachable(&e)))?;
        *slot = Some(store.clone());
        Ok(store)
    }

    fn forget(&self, broken: &Arc<CredentialStore>) {
        let mut slot = self.slot();
        if slot.as_ref().is_some_and(|current| Arc::ptr_eq(current, broken)) {
            *slot = None;
        }
    }

    fn run<T>(
        &self,
        op: Op,
        connection: &str,
        call: impl Fn(&Entry) -> keyring_core::Result<T>,
    ) -> Result<T> {
        check_name(connection)?;
        let attempt =
            |store: &Arc<CredentialStore>| store.build(SERVICE, connection, None).and_then(|e| call(&e));
        let store = self.connect()?;
        match attempt(&store) {
            // A platform failure is usually a stale connection (the keyring daemon or session
            // bus restarted). Every call here is idempotent, so reconnect and try once more.
            Err(KeyringError::PlatformFailure(first)) => {
                tracing::warn!("the OS keyring failed ({first}); reconnecting once");
                self.forget(&store);
                let store = self.connect()?;
                attempt(&store).map_err(|e| op_error(op, connection, e))
            }
            other => other.map_err(|e| op_error(op, connection, e)),
        }
    }
}

fn op_error(op: Op, connection: &str, err: KeyringError) -> Error {
    let done = op.done();
    let ephemeral = "or run the server with --ephemeral-secrets to keep secrets in memory until it exits.";
    match err {
        KeyringError::NoStorageAccess(detail) => Error::SecretStore(format!(
            "The OS keyring is locked or refused access ({detail}), so the secrets of connection \
             '{connection}' could not be {done}. {} and try again, {ephemeral}",
            platform::UNLOCK_HINT
        )),
        KeyringError::PlatformFailure(detail) => Error::SecretStore(format!(
            "The OS keyring failed ({detail}), so the secrets of connection '{connection}' could not \
             be {done}. Check that it runs in your desktop session and try again, {ephemeral}"
        )),
        KeyringError::Ambiguous(entries) => Error::SecretStore(format!(
            "The OS keyring holds {} entries for connection '{connection}' (service {SERVICE}), so \
             the server cannot tell which is right. Enter the connection's secrets again to replace \
             them.",
            entries.len()
        )),
        KeyringError::TooLong(what, limit) => Error::BadRequest(format!(
            "The secrets of connection '{connection}' do not fit in the OS keyring: the {what} is \
             longer than its limit of {limit}."
        )),
        KeyringError::Invalid(what, reason) => Error::BadRequest(format!(
            "The OS keyring does not accept connection '{connection}': {what} {reason}."
        )),
        // Both carry the stored bytes, which must not reach a message.
        KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(..) => unreadable_entry(connection),
        other => Error::SecretStore(format!(
            "The secrets of connection '{connection}' could not be {done} by the OS keyring: {other}."
        )),
    }
}

/// Removes every credential of an ambiguous match, so a clean entry can take their place.
fn delete_all(entries: Vec<Entry>) -> keyring_core::Result<()> {
    for entry in entries {
        match entry.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl SecretStore for OsKeyring {
    fn get(&self, connection: &str) -> Result<Option<Secrets>> {
        let bytes = self.run(Op::Read, connection, |entry| match entry.get_secret() {
            Ok(bytes) => Ok(Some(bytes)),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(e) => Err(e),
        })?;
        bytes.map(|b| decode(connection, &b)).transpose()
    }

    fn set(&self, connection: &str, secrets: &Secrets) -> Result<()> {
        if secrets.is_empty() {
            return self.delete(connection);
        }
        // Raw UTF-8 bytes rather than `set_password`: Windows stores passwords as UTF-16, which
        // would halve the room for a Snowflake private key in its 2560-byte credential blob.
        let payload = encode(connection, secrets)?;
        self.run(Op::Save, connection, |entry| match entry.set_secret(&payload) {
            // Duplicates (e.g. written by another tool) would make every later read fail; the
            // caller is replacing all fields anyway, so clear them and write one entry.
            Err(KeyringError::Ambiguous(entries)) => {
                delete_all(entries)?;
                entry.set_secret(&payload)
            }
            other => other,
        })
    }

    fn delete(&self, connection: &str) -> Result<()> {
        self.run(Op::Delete, connection, |entry| match entry.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(KeyringError::Ambiguous(entries)) => delete_all(entries),
            Err(e) => Err(e),
        })
    }

    fn describe(&self) -> &'static str {
        self.describe
    }

    fn is_ephemeral(&self) -> bool {
        false
    }
}

#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
mod platform {
    use std::sync::Arc;

    use keyring_core::{CredentialStore, Error as KeyringError};

    use super::EPHEMERAL_HINT;

    pub(super) const DESCRIPTION: &str = "Secret Service (GNOME Keyring / KWallet)";
    pub(super) const UNLOCK_HINT: &str =
        "Unlock it (log in to the desktop, or run `gnome-keyring-daemon --unlock`)";

    pub(super) fn open() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(zbus_secret_service_keyring_store::Store::new()?)
    }

    /// Says which link is missing (session bus, or a Secret Service provider on it) and how to
    /// fix it. The store reports both as opaque D-Bus errors, so this reads their text.
    pub(super) fn unreachable(err: &KeyringError) -> String {
        // The platform error alone; keyring-core's "Platform failure: " prefix adds nothing here.
        let detail = match err {
            KeyringError::PlatformFailure(inner) | KeyringError::NoStorageAccess(inner) => inner.to_string(),
            other => other.to_string(),
        };
        let text = detail.to_ascii_lowercase();
        let mentions = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
        let address = std::env::var("DBUS_SESSION_BUS_ADDRESS").ok().filter(|a| !a.trim().is_empty());
        let start = "Start the server inside your desktop session, or";
        if mentions(&["serviceunknown", "org.freedesktop.secrets", "not provided by any .service"]) {
            format!(
                "The OS keyring is not reachable: no Secret Service provider (GNOME Keyring or \
                 KWallet) answers on the D-Bus session bus ({detail}). Install one (for example \
                 `apt-get install gnome-keyring`) and start the server inside your desktop \
                 session, or {EPHEMERAL_HINT}"
            )
        } else if mentions(&[
            "failed to connect",
            "dbus session found",
            "no such file",
            "connection refused",
            "address",
            "permission denied",
        ]) {
            match address {
                None => format!(
                    "The OS keyring is not reachable: no D-Bus session bus \
                     (DBUS_SESSION_BUS_ADDRESS is not set). {start} {EPHEMERAL_HINT}"
                ),
                Some(address) => format!(
                    "The OS keyring is not reachable: cannot connect to the D-Bus session bus at \
                     {address} ({detail}). {start} {EPHEMERAL_HINT}"
                ),
            }
        } else {
            format!(
                "The OS keyring (Secret Service) could not be opened ({detail}). {start} \
                 {EPHEMERAL_HINT}"
            )
        }
    }
}

#[cfg(target_os = "macos")]
mod platform {
    use std::sync::Arc;

    use keyring_core::{CredentialStore, Error as KeyringError};

    use super::EPHEMERAL_HINT;

    pub(super) const DESCRIPTION: &str = "macOS Keychain";
    pub(super) const UNLOCK_HINT: &str =
        "Unlock your login keychain (in Keychain Access, or with `security unlock-keychain`)";

    pub(super) fn open() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(apple_native_keyring_store::keychain::Store::new()?)
    }

    pub(super) fn unreachable(err: &KeyringError) -> String {
        format!(
            "The OS keyring (macOS Keychain) is not reachable ({err}). Run the server as the \
             logged-in user, or {EPHEMERAL_HINT}"
        )
    }
}

#[cfg(target_os = "windows")]
mod platform {
    use std::sync::Arc;

    use keyring_core::{CredentialStore, Error as KeyringError};

    use super::EPHEMERAL_HINT;

    pub(super) const DESCRIPTION: &str = "Windows Credential Manager";
    pub(super) const UNLOCK_HINT: &str =
        "Run the server as the logged-in Windows user whose Credential Manager should keep them";

    pub(super) fn open() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(windows_native_keyring_store::Store::new()?)
    }

    pub(super) fn unreachable(err: &KeyringError) -> String {
        format!(
            "The OS keyring (Windows Credential Manager) is not reachable ({err}). Run the server \
             as the logged-in user, or {EPHEMERAL_HINT}"
        )
    }
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "macos",
    target_os = "windows"
)))]
mod platform {
    use std::sync::Arc;

    use keyring_core::{CredentialStore, Error as KeyringError};

    pub(super) const DESCRIPTION: &str = "none (no supported OS keyring on this platform)";
    pub(super) const UNLOCK_HINT: &str = "Use a platform with an OS keyring";

    pub(super) fn open() -> keyring_core::Result<Arc<CredentialStore>> {
        Err(KeyringError::NotSupportedByStore("no OS keyring is supported on this platform".into()))
    }

    pub(super) fn unreachable(_err: &KeyringError) -> String {
        "There is no supported OS keyring on this platform. Start the server with --ephemeral-secrets \
         to keep secrets in memory until it exits."
            .to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use keyring_core::mock;

    use super::*;

    fn secrets(pairs: &[(&str, &str)]) -> Secrets {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn open_mock() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(mock::Store::new()?)
    }

    fn mock_keyring() -> OsKeyring {
        OsKeyring::with_opener(open_mock, "mock")
    }

    /// Makes the next call on the connection's entry fail with `err`.
    fn fail_next(keyring: &OsKeyring, connection: &str, err: KeyringError) {
        let store = keyring.connect().unwrap();
        let entry = store.build(SERVICE, connection, None).unwrap();
        let cred: &mock::Cred = entry.as_any().downcast_ref().unwrap();
        cred.set_error(err);
    }

    fn platform_error(text: &str) -> KeyringError {
        KeyringError::PlatformFailure(text.to_string().into())
    }

    #[test]
    fn round_trip_replace_rename_delete() {
        let k = mock_keyring();
        assert_eq!(k.get("a").unwrap(), None);
        k.set("a", &secrets(&[("password", "one"), ("passcode", "1")])).unwrap();
        k.set("a", &secrets(&[("password", "two")])).unwrap();
        assert_eq!(k.get("a").unwrap(), Some(secrets(&[("password", "two")])));
        k.rename("a", "b").unwrap();
        assert_eq!(k.get("a").unwrap(), None);
        assert_eq!(k.get("b").unwrap(), Some(secrets(&[("password", "two")])));
        k.set("b", &Secrets::new()).unwrap();
        assert_eq!(k.get("b").unwrap(), None);
        k.delete("b").unwrap();
    }

    #[test]
    fn locked_keyring_says_how_to_unlock() {
        let k = mock_keyring();
        k.set("c", &secrets(&[("password", "hunter2")])).unwrap();
        fail_next(&k, "c", KeyringError::NoStorageAccess("SS error: prompt dismissed".to_string().into()));
        let err = k.get("c").unwrap_err();
        assert!(matches!(err, Error::SecretStore(_)));
        let msg = err.to_string();
        assert!(msg.contains("locked") && msg.contains(platform::UNLOCK_HINT), "{msg}");
        assert!(msg.contains("--ephemeral-secrets") && msg.contains("'c'"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn stored_bytes_never_reach_the_message() {
        let k = mock_keyring();
        fail_next(&k, "d", KeyringError::BadEncoding(b"hunter2\xff".to_vec()));
        let msg = k.get("d").unwrap_err().to_string();
        assert!(!msg.contains("hunter2") && msg.contains("'d'"), "{msg}");
    }

    #[test]
    fn too_long_is_the_callers_problem() {
        let k = mock_keyring();
        fail_next(&k, "e", KeyringError::TooLong("secret".into(), 2560));
        let err = k.set("e", &secrets(&[("private_key", "x")])).unwrap_err();
        assert!(matches!(err, Error::BadRequest(_)), "{err}");
    }

    static OPENS: AtomicUsize = AtomicUsize::new(0);

    fn counting_open() -> keyring_core::Result<Arc<CredentialStore>> {
        OPENS.fetch_add(1, Ordering::SeqCst);
        open_mock()
    }

    #[test]
    fn platform_failure_reconnects_once() {
        let k = OsKeyring::with_opener(counting_open, "mock");
        k.set("f", &secrets(&[("password", "pw")])).unwrap();
        assert_eq!(OPENS.load(Ordering::SeqCst), 1);
        fail_next(&k, "f", platform_error("org.freedesktop.DBus.Error.NoReply"));
        // The retry runs against a freshly opened (empty) mock store.
        assert_eq!(k.get("f").unwrap(), None);
        assert_eq!(OPENS.load(Ordering::SeqCst), 2);
    }

    fn failing_open() -> keyring_core::Result<Arc<CredentialStore>> {
        Err(platform_error("zbus error: org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files"))
    }

    #[test]
    fn unreachable_store_fails_each_call_not_construction() {
        let k = OsKeyring::with_opener(failing_open, "mock");
        for result in [k.get("g").map(|_| ()), k.set("g", &secrets(&[("password", "x")])), k.delete("g")] {
            let err = result.unwrap_err();
            assert!(matches!(err, Error::SecretStore(_)), "{err}");
            assert!(err.to_string().contains("--ephemeral-secrets"), "{err}");
        }
    }

    #[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
    #[test]
    fn missing_provider_is_named() {
        let msg = platform::unreachable(&failing_open().err().unwrap());
        assert!(msg.contains("no Secret Service provider"), "{msg}");
    }
}
