//! `--ephemeral-secrets`: secrets kept in this process only, gone when it exits. Chosen by the
//! user, never as a fallback for a missing keyring.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use connectors::Secrets;

use super::{check_name, SecretStore};
use crate::error::Result;

#[derive(Default)]
pub(super) struct MemoryStore {
    entries: Mutex<HashMap<String, Secrets>>,
}

impl MemoryStore {
    fn entries(&self) -> MutexGuard<'_, HashMap<String, Secrets>> {
        // A panic elsewhere while holding the lock cannot leave a half-written map (every
        // operation is a single insert or remove), so the data is still good to use.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, connection: &str) -> Result<Option<Secrets>> {
        check_name(connection)?;
        Ok(self.entries().get(connection).cloned())
    }

    fn set(&self, connection: &str, secrets: &Secrets) -> Result<()> {
        check_name(connection)?;
        let mut entries = self.entries();
        if secrets.is_empty() {
            entries.remove(connection);
        } else {
            entries.insert(connection.to_owned(), secrets.clone());
        }
        Ok(())
    }

    fn delete(&self, connection: &str) -> Result<()> {
        check_name(connection)?;
        self.entries().remove(connection);
        Ok(())
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        check_name(from)?;
        check_name(to)?;
        let mut entries = self.entries();
        if let Some(secrets) = entries.remove(from) {
            entries.insert(to.to_owned(), secrets);
        }
        Ok(())
    }

    fn describe(&self) -> &'static str {
        "in memory only (--ephemeral-secrets)"
    }

    fn is_ephemeral(&self) -> bool {
        true
    }
}
