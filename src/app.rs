//! The shared state of one running server: configuration, the state database, the secret store,
//! live engines and who may run a query now (`admission`). Handlers, the CLI and the desktop app all go through it.

use crate::admission::Admission;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::secrets::SecretStore;
use crate::state::StateDb;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Mutex;

pub struct App {
    pub config: Config,
    pub state: StateDb,
    pub secrets: Arc<dyn SecretStore>,
    /// Connected engines by connection name; dropped when the connection changes.
    pub(crate) engines: Mutex<HashMap<String, Arc<Connected>>>,
    /// Query slots per connection and for the server, and connections failing right now.
    pub admission: Admission,
    /// Reads in flight that identical requests may join (`execution::Sharing`).
    pub sharing: crate::execution::Sharing,
    /// Saved queries' kept results (`result_cache`).
    pub results: Arc<crate::result_cache::ResultCache>,
    pub started: Instant,
}

/// A live engine and what the query path needs to know about its connection.
pub struct Connected {
    pub engine: Arc<dyn connectors::Engine>,
    pub read_only: bool,
}

impl App {
    /// Opens the state database and the secret store named by the config.
    pub fn open(config: Config) -> Result<Arc<Self>> {
        let secrets = if config.ephemeral_secrets {
            crate::secrets::ephemeral_store()
        } else {
            crate::secrets::lazy_os_store()
        };
        Self::with_secret_store(config, secrets)
    }

    pub fn with_secret_store(config: Config, secrets: Arc<dyn SecretStore>) -> Result<Arc<Self>> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            Error::Startup(format!("cannot create data dir {}: {e}", config.data_dir.display()))
        })?;
        let state = StateDb::open(&config.state_path())?;
        let admission = Admission::new(config.limits);
        Ok(Arc::new(Self {
            config,
            state,
            secrets,
            engines: Mutex::new(HashMap::new()),
            admission,
            sharing: crate::execution::Sharing::default(),
            results: Arc::default(),
            started: Instant::now(),
        }))
    }
}
