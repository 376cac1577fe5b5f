//! The app's state: settings, the core `App` that commands use, and the server running on it.
//!
//! There is one `App` at a time and the running server serves that same `App`, so a connection
//! edited in the window is the one Workspace queries next (engines are cached per `App`). The
//! `App` holds its config from the moment it opens, so starting the server opens a fresh one
//! with the current settings; the state database is the same file either way.

use crate::error::{UiError, UiResult};
use crate::settings::{self, ApiKeyChange, DesktopSettings, SettingsInput, SettingsView};
use connectors::Secrets;
use data_connector::config::{Limits, DEFAULT_ORIGINS};
use data_connector::secrets::SecretStore;
use data_connector::{App, Config};
use serde::Serialize;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The keyring account of the server's API key. Connection names cannot start with a dot, so
/// this can never clash with a connection's entry.
const API_KEY_ENTRY: &str = ".desktop-api-key";
const API_KEY_FIELD: &str = "api_key";
/// How long Stop waits for requests in flight (a long streamed result, say) before cutting them.
const STOP_GRACE: Duration = Duration::from_secs(5);

pub(crate) struct Desktop {
    /// Where state lives, or why there is no such place.
    data_dir: Result<PathBuf, String>,
    settings: Mutex<DesktopSettings>,
    /// Messages for the window gathered before it was there to show them.
    notices: Mutex<Vec<String>>,
    core: tokio::sync::Mutex<Core>,
    /// The same OS keyring the core uses; holds the API key.
    keyring: Arc<dyn SecretStore>,
    /// Mirrors `core.server` for callers that cannot wait for the async lock (window events).
    running: AtomicBool,
}

#[derive(Default)]
struct Core {
    app: Option<Arc<App>>,
    server: Option<Running>,
    /// Why the last server stopped on its own, until the next start.
    last_failure: Option<String>,
}

struct Running {
    port: u16,
    /// Whether this server demands an API key (it may differ from the settings until a restart).
    api_key: bool,
    since: String,
    tls: bool,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
    failure: Arc<Mutex<Option<String>>>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Status {
    pub running: bool,
    pub port: Option<u16>,
    /// The address the server answers on.
    pub url: Option<String>,
    /// What to paste into Workspace (browsers call us by this name).
    pub workspace_url: Option<String>,
    /// RFC 3339 UTC time the server started.
    pub since: Option<String>,
    pub error: Option<String>,
    pub api_key: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct SettingsSaved {
    pub settings: SettingsView,
    pub status: Status,
    /// True when the running server was restarted to apply the settings.
    pub restarted: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here is a plain read or assignment, so a poisoned lock still holds
    // consistent data.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Desktop {
    pub(crate) fn load() -> Self {
        let data_dir = data_dir();
        let mut notices = Vec::new();
        let settings = match &data_dir {
            Ok(dir) => {
                let (settings, notice) = settings::load(dir);
                notices.extend(notice);
                settings
            }
            Err(_) => DesktopSettings::default(),
        };
        Self {
            data_dir,
            settings: Mutex::new(settings),
            notices: Mutex::new(notices),
            core: tokio::sync::Mutex::new(Core::default()),
            keyring: data_connector::secrets::lazy_os_store(),
            running: AtomicBool::new(false),
        }
    }

    pub(crate) fn settings(&self) -> DesktopSettings {
        lock(&self.settings).clone()
    }

    pub(crate) fn take_notices(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.notices))
    }

    pub(crate) fn data_dir_problem(&self) -> Option<String> {
        self.data_dir.as_ref().err().cloned()
    }

    pub(crate) fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    pub(crate) fn data_dir(&self) -> UiResult<PathBuf> {
        self.dir()
    }

    fn dir(&self) -> UiResult<PathBuf> {
        self.data_dir.clone().map_err(UiError::new)
    }

    pub(crate) fn settings_view(&self) -> SettingsView {
        let limits = Limits::default();
        SettingsView {
            settings: self.settings(),
            default_origins: DEFAULT_ORIGINS,
            max_rows: limits.max_rows,
            max_timeout_secs: limits.max_timeout.as_secs(),
            data_dir: match &self.data_dir {
                Ok(dir) => dir.display().to_string(),
                Err(why) => why.clone(),
            },
            secret_store: self.keyring.describe(),
        }
    }

    /// The `App` the window's commands use: the running server's, else one opened on demand.
    pub(crate) async fn app(&self) -> UiResult<Arc<App>> {
        let mut core = self.core.lock().await;
        if let Some(app) = &core.app {
            return Ok(app.clone());
        }
        let app = self.open_app(&self.settings(), 0, None).await?;
        core.app = Some(app.clone());
        Ok(app)
    }

    async fn open_app(
        &self,
        settings: &DesktopSettings,
        port: u16,
        api_key: Option<String>,
    ) -> UiResult<Arc<App>> {
        let mut config = Config::local(self.dir()?);
        config.port = port;
        config.ephemeral_secrets = false;
        config.allowed_origins = settings.allowed_origins.clone();
        config.api_key = api_key;
        config.workspace_users = settings.workspace_users.clone();
        config.limits.default_rows = settings.default_rows;
        config.limits.default_timeout = Duration::from_secs(settings.timeout_secs);
        // Opening runs the state database's migrations: file I/O, so off the async workers.
        tokio::task::spawn_blocking(move || App::open(config))
            .await
            .map_err(|e| UiError::new(format!("Could not open the data folder: {e}")))?
            .map_err(UiError::from)
    }

    pub(crate) async fn status(&self) -> Status {
        let mut core = self.core.lock().await;
        self.reap(&mut core);
        self.status_of(&core)
    }

    /// Forgets a server that stopped on its own, keeping why.
    fn reap(&self, core: &mut Core) {
        if core.server.as_ref().is_some_and(|r| r.task.is_finished()) {
            if let Some(running) = core.server.take() {
                core.last_failure = lock(&running.failure)
                    .take()
                    .or_else(|| Some("The server stopped unexpectedly.".to_string()));
            }
            self.running.store(false, Ordering::SeqCst);
        }
    }

    fn status_of(&self, core: &Core) -> Status {
        match &core.server {
            Some(running) => Status {
                running: true,
                port: Some(running.port),
                url: Some(if running.tls {
                    format!("https://localhost:{}", running.port)
                } else {
                    data_connector::server::url_for(SocketAddr::from((Ipv4Addr::LOCALHOST, running.port)))
                }),
                workspace_url: Some(format!(
                    "{}://localhost:{}",
                    if running.tls { "https" } else { "http" },
                    running.port
                )),
                since: Some(running.since.clone()),
                error: None,
                api_key: running.api_key,
            },
            None => Status {
                running: false,
                port: None,
                url: None,
                workspace_url: None,
                since: None,
                error: core.last_failure.clone(),
                api_key: false,
            },
        }
    }

    /// Starts the server on `port_text` (as typed in the window) and remembers the port.
    pub(crate) async fn start(&self, port_text: &str) -> UiResult<Status> {
        let port = parse_port(port_text)?;
        let mut core = self.core.lock().await;
        self.reap(&mut core);
        if let Some(running) = &core.server {
            return Err(UiError::field(
                "port",
                format!("The server is already running on port {}.", running.port),
            ));
        }
        self.start_locked(&mut core, port).await?;
        let mut settings = self.settings();
        if settings.port != port {
            settings.port = port;
            // The server runs either way; only the next launch's suggestion is lost.
            if let Err(e) = settings::save(&self.dir()?, &settings) {
                tracing::warn!("{e}");
            }
            *lock(&self.settings) = settings;
        }
        Ok(self.status_of(&core))
    }

    async fn start_locked(&self, core: &mut Core, port: u16) -> UiResult<()> {
        let settings = self.settings();
        let api_key = if settings.api_key_set { Some(self.read_api_key().await?) } else { None };
        let requires_key = api_key.is_some();
        let app = self.open_app(&settings, port, api_key).await?;
        let mut server = data_connector::server::bind(app.clone()).await.map_err(bind_error)?;
        if settings.tls {
            let dir = self.dir()?;
            let tls = tokio::task::spawn_blocking(move || {
                data_connector::tls::server_config(&data_connector::tls::Certificate::LocalCa, &dir)
            })
            .await
            .map_err(|e| UiError::new(format!("Could not set up HTTPS: {e}")))?
            .map_err(UiError::from)?;
            server = server.with_tls(tls);
        }
        let (shutdown, stop) = oneshot::channel::<()>();
        let failure = Arc::new(Mutex::new(None));
        let failed = failure.clone();
        let task = tokio::spawn(async move {
            let stopped = async {
                // A dropped sender means the app is going away: stop as well.
                let _ = stop.await;
            };
            if let Err(e) = server.serve(stopped).await {
                tracing::error!("{e}");
                *lock(&failed) = Some(e.to_string());
            }
        });
        core.app = Some(app);
        core.last_failure = None;
        core.server = Some(Running {
            port,
            api_key: requires_key,
            since: data_connector::state::now(),
            tls: settings.tls,
            shutdown,
            task,
            failure,
        });
        self.running.store(true, Ordering::SeqCst);
        tracing::info!("server listening on 127.0.0.1:{port}");
        Ok(())
    }

    pub(crate) async fn stop(&self) -> Status {
        let mut core = self.core.lock().await;
        Self::stop_locked(&mut core).await;
        self.running.store(false, Ordering::SeqCst);
        core.last_failure = None;
        self.status_of(&core)
    }

    async fn stop_locked(core: &mut Core) {
        let Some(running) = core.server.take() else { return };
        let _ = running.shutdown.send(());
        let mut task = running.task;
        if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
            tracing::warn!("requests still running after {STOP_GRACE:?}; cutting them off");
            task.abort();
            let _ = task.await;
        }
        tracing::info!("server on port {} stopped", running.port);
    }

    /// Saves the settings (the API key to the keyring) and restarts a running server so they
    /// take effect.
    pub(crate) async fn save_settings(&self, input: SettingsInput) -> UiResult<SettingsSaved> {
        let dir = self.dir()?;
        let before = self.settings();
        let mut settings = before.clone();
        settings.apply(&input)?;
        let key_changed = !matches!(input.api_key, ApiKeyChange::Keep);
        match input.api_key {
            ApiKeyChange::Keep => {}
            ApiKeyChange::Set(key) => {
                let key = key.trim().to_string();
                settings::validate_api_key(&key)?;
                let mut secrets = Secrets::new();
                secrets.insert(API_KEY_FIELD, key);
                self.keyring_call(move |store| store.set(API_KEY_ENTRY, &secrets)).await?;
                settings.api_key_set = true;
            }
            ApiKeyChange::Remove => {
                self.keyring_call(|store| store.delete(API_KEY_ENTRY)).await?;
                settings.api_key_set = false;
            }
        }
        // Startup and tray choices are read when needed; only these live in a server's config.
        let server_changed = key_changed
            || settings.allowed_origins != before.allowed_origins
            || settings.workspace_users != before.workspace_users
            || settings.default_rows != before.default_rows
            || settings.timeout_secs != before.timeout_secs
            || settings.tls != before.tls;
        settings::save(&dir, &settings)?;
        *lock(&self.settings) = settings;

        let mut core = self.core.lock().await;
        self.reap(&mut core);
        let mut restarted = false;
        if server_changed {
            if let Some(port) = core.server.as_ref().map(|r| r.port) {
                Self::stop_locked(&mut core).await;
                self.running.store(false, Ordering::SeqCst);
                if let Err(e) = self.start_locked(&mut core, port).await {
                    return Err(UiError::new(format!(
                        "The settings were saved, but the server could not restart on port {port}: {}",
                        e.message
                    )));
                }
                restarted = true;
            } else {
                // Commands keep using the open App; its config only matters to a server.
                core.app = None;
            }
        }
        Ok(SettingsSaved { settings: self.settings_view(), status: self.status_of(&core), restarted })
    }

    async fn read_api_key(&self) -> UiResult<String> {
        let found = self.keyring_call(|store| store.get(API_KEY_ENTRY)).await?;
        found.and_then(|secrets| secrets.get(API_KEY_FIELD).map(str::to_string)).ok_or_else(|| {
            UiError::new(
                "The API key is missing from the OS keyring. Set a new one in Settings, or remove it there.",
            )
        })
    }

    /// Keyring calls block on D-Bus; keep them off the async workers.
    async fn keyring_call<T: Send + 'static>(
        &self,
        call: impl FnOnce(&dyn SecretStore) -> data_connector::Result<T> + Send + 'static,
    ) -> UiResult<T> {
        let store = self.keyring.clone();
        tokio::task::spawn_blocking(move || call(store.as_ref()))
            .await
            .map_err(|e| UiError::new(format!("The keyring call failed: {e}")))?
            .map_err(UiError::from)
    }
}

/// `DATA_CONNECTOR_DATA_DIR` (as for the CLI), else the OS data directory.
fn data_dir() -> Result<PathBuf, String> {
    match std::env::var_os("DATA_CONNECTOR_DATA_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => data_connector::config::default_data_dir().ok_or_else(|| {
            "Cannot find this computer's data folder (is HOME set?). Set DATA_CONNECTOR_DATA_DIR and restart."
                .to_string()
        }),
    }
}

pub(crate) fn parse_port(text: &str) -> UiResult<u16> {
    let text = text.trim();
    if text.is_empty() {
        return Err(UiError::field("port", "Enter a port, or press Recommend Port."));
    }
    match text.parse::<u32>() {
        Ok(port @ 1..=65535) => Ok(port as u16),
        _ => {
            Err(UiError::field("port", format!("\"{text}\" is not a port. Enter a number from 1 to 65535.")))
        }
    }
}

/// The server's own bind errors speak command-line flags; the window names its own buttons.
fn bind_error(e: data_connector::Error) -> UiError {
    use data_connector::Error;
    let message = match e {
        Error::PortInUse { port, .. } => format!(
            "Port {port} is already in use by another program. Choose another port or press Recommend Port."
        ),
        Error::PortNotAllowed { port } => {
            format!(
                "This computer does not allow listening on port {port}. Choose a port from 1024 to 65535."
            )
        }
        other => other.to_string(),
    };
    UiError::field("port", message)
}

/// A free port: portpicker's choice, else one the OS hands out (portpicker finds none on hosts
/// without IPv6).
pub(crate) fn recommend_port() -> UiResult<u16> {
    if let Some(port) = portpicker::pick_unused_port() {
        return Ok(port);
    }
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| UiError::field("port", format!("Could not find a free port: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_parsed_with_messages() {
        assert_eq!(parse_port(" 8080 ").unwrap(), 8080);
        for bad in ["", "0", "65536", "80a", "-1"] {
            let err = parse_port(bad).unwrap_err();
            assert_eq!(err.field, Some("port"), "{bad}");
        }
    }

    #[test]
    fn a_port_in_use_is_named() {
        let err = bind_error(data_connector::Error::PortInUse { port: 8080, suggestion: Some(8081) });
        assert_eq!(err.field, Some("port"));
        assert!(err.message.contains("already in use"));
    }

    #[test]
    fn recommended_ports_are_free() {
        let port = recommend_port().unwrap();
        assert!(TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok());
    }
}
