//! What the window can ask of Rust. Connections and the log go through the same core as the
//! HTTP API, in-process, so the window works whether or not the server is running.

use crate::desktop::{self, Desktop, SettingsSaved, Status};
use crate::error::{UiError, UiResult};
use crate::settings::{SettingsInput, SettingsView};
use crate::updates::{self, Installed, Pending, UpdateCheck};
use data_connector::connections::{self, ConnectionView, TestReport};
use data_connector::state::LogEntry;
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt;

pub(crate) const WORKSPACE_URL: &str = "https://pro.openbb.co";
/// PEM keys are a few KiB; anything much larger is the wrong file.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;
const MAX_LOG_ENTRIES: u64 = 500;

type Shared<'a> = State<'a, Arc<Desktop>>;

#[derive(Serialize)]
pub(crate) struct Initial {
    version: String,
    status: Status,
    settings: SettingsView,
    /// Problems found before the window opened (an unreadable settings file, say).
    notices: Vec<String>,
    /// Set when nothing can work (no data folder); the window shows only this.
    fatal: Option<String>,
}

#[tauri::command]
pub(crate) async fn initial_state(app: AppHandle, desktop: Shared<'_>) -> UiResult<Initial> {
    Ok(Initial {
        // The bundle's version (what updates compare against), which a release may set apart
        // from the crate's.
        version: app.package_info().version.to_string(),
        status: desktop.status().await,
        settings: desktop.settings_view(),
        notices: desktop.take_notices(),
        fatal: desktop.data_dir_problem(),
    })
}

#[tauri::command]
pub(crate) async fn server_status(desktop: Shared<'_>) -> UiResult<Status> {
    Ok(desktop.status().await)
}

#[tauri::command]
pub(crate) async fn recommend_port() -> UiResult<u16> {
    desktop::recommend_port()
}

#[tauri::command]
pub(crate) async fn start_server(desktop: Shared<'_>, port: String) -> UiResult<Status> {
    desktop.start(&port).await
}

#[tauri::command]
pub(crate) async fn stop_server(desktop: Shared<'_>) -> UiResult<Status> {
    Ok(desktop.stop().await)
}

/// Opens Workspace in the user's browser; the window itself never leaves the app's own pages.
#[tauri::command]
pub(crate) async fn open_workspace() -> UiResult<()> {
    open::that_detached(WORKSPACE_URL)
        .map_err(|e| UiError::new(format!("Could not open a browser ({e}). Go to {WORKSPACE_URL} yourself.")))
}

#[tauri::command]
pub(crate) async fn list_connections(desktop: Shared<'_>) -> UiResult<Vec<ConnectionView>> {
    Ok(connections::list(&*desktop.app().await?)?)
}

#[tauri::command]
pub(crate) async fn create_connection(
    desktop: Shared<'_>,
    input: Map<String, Value>,
) -> UiResult<ConnectionView> {
    Ok(connections::create(&*desktop.app().await?, input).await?)
}

#[tauri::command]
pub(crate) async fn update_connection(
    desktop: Shared<'_>,
    name: String,
    patch: Map<String, Value>,
) -> UiResult<ConnectionView> {
    Ok(connections::update(&*desktop.app().await?, &name, patch).await?)
}

#[tauri::command]
pub(crate) async fn delete_connection(desktop: Shared<'_>, name: String) -> UiResult<()> {
    Ok(connections::delete(&*desktop.app().await?, &name).await?)
}

#[tauri::command]
pub(crate) async fn test_connection(desktop: Shared<'_>, name: String) -> UiResult<TestReport> {
    Ok(connections::test(&*desktop.app().await?, &name).await?)
}

/// The newest query log entries, newest first.
#[tauri::command]
pub(crate) async fn activity(desktop: Shared<'_>, limit: u64) -> UiResult<Vec<LogEntry>> {
    let app = desktop.app().await?;
    Ok(app.state.recent_log(limit.clamp(1, MAX_LOG_ENTRIES))?)
}

#[tauri::command]
pub(crate) async fn get_settings(desktop: Shared<'_>) -> UiResult<SettingsView> {
    Ok(desktop.settings_view())
}

#[tauri::command]
pub(crate) async fn save_settings(desktop: Shared<'_>, input: SettingsInput) -> UiResult<SettingsSaved> {
    desktop.save_settings(input).await
}

/// Trusts the local CA behind the HTTPS switch in this user's trust stores (see
/// `data-connector tls install-ca`); only ever run from the Settings button the user clicks.
#[tauri::command]
pub(crate) async fn install_local_ca(desktop: Shared<'_>) -> UiResult<Vec<String>> {
    let dir = desktop.data_dir()?;
    tokio::task::spawn_blocking(move || {
        let ca = data_connector::tls::ca::ensure(&dir)?;
        data_connector::tls::trust::install(&ca, &data_connector::tls::trust::Stores::default())
    })
    .await
    .map_err(|e| UiError::new(format!("Could not trust the local CA: {e}")))?
    .map_err(UiError::from)
}

/// A native Open dialog for the SQLite file; `None` when the user cancels.
#[tauri::command]
pub(crate) async fn pick_sqlite_file(app: AppHandle) -> UiResult<Option<String>> {
    let dialog = app
        .dialog()
        .file()
        .set_title("Choose a SQLite database")
        .add_filter("SQLite databases", &["db", "sqlite", "sqlite3", "db3", "duckdb"])
        .add_filter("All files", &["*"]);
    let Some(path) = pick(dialog).await? else { return Ok(None) };
    Ok(Some(path.display().to_string()))
}

/// A native Open dialog for a DuckDB database file; `None` when the user cancels.
#[tauri::command]
pub(crate) async fn pick_duckdb_file(app: AppHandle) -> UiResult<Option<String>> {
    let dialog = app
        .dialog()
        .file()
        .set_title("Choose a DuckDB database")
        .add_filter("DuckDB databases", &["duckdb", "ddb", "db"])
        .add_filter("All files", &["*"]);
    let Some(path) = pick(dialog).await? else { return Ok(None) };
    Ok(Some(path.display().to_string()))
}

/// A native folder dialog for a folder of data files DuckDB queries by name; `None` when the
/// user cancels.
#[tauri::command]
pub(crate) async fn pick_duckdb_folder(app: AppHandle) -> UiResult<Option<String>> {
    let dialog = app.dialog().file().set_title("Choose a folder of Parquet, CSV or JSON files");
    let (tx, rx) = tokio::sync::oneshot::channel();
    dialog.pick_folder(move |picked| {
        let _ = tx.send(picked);
    });
    let picked = rx.await.map_err(|_| UiError::new("The folder dialog closed unexpectedly."))?;
    match picked {
        None => Ok(None),
        Some(folder) => folder
            .into_path()
            .map(|p| Some(p.display().to_string()))
            .map_err(|e| UiError::new(format!("That location cannot be opened as a local folder: {e}"))),
    }
}

/// Reads a PEM private key the user picks, for the Snowflake key-pair form. The key goes from
/// there to the keyring with the rest of the connection.
#[tauri::command]
pub(crate) async fn pick_private_key(app: AppHandle) -> UiResult<Option<String>> {
    let dialog = app
        .dialog()
        .file()
        .set_title("Choose your Snowflake private key")
        .add_filter("Private keys", &["p8", "pem", "key"])
        .add_filter("All files", &["*"]);
    let Some(path) = pick(dialog).await? else { return Ok(None) };
    let text = tokio::task::spawn_blocking(move || -> UiResult<String> {
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if size > MAX_KEY_FILE_BYTES {
            return Err(UiError::field("private_key", "That file is too large to be a private key."));
        }
        std::fs::read_to_string(&path)
            .map_err(|e| UiError::field("private_key", format!("Could not read {}: {e}", path.display())))
    })
    .await
    .map_err(|e| UiError::new(format!("Reading the key failed: {e}")))??;
    if !text.contains("PRIVATE KEY-----") {
        return Err(UiError::field(
            "private_key",
            "That file does not hold a PEM private key (-----BEGIN PRIVATE KEY-----).",
        ));
    }
    Ok(Some(text))
}

async fn pick(
    dialog: tauri_plugin_dialog::FileDialogBuilder<tauri::Wry>,
) -> UiResult<Option<std::path::PathBuf>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    // The callback form runs the GTK dialog on the main thread without blocking a worker here.
    dialog.pick_file(move |picked| {
        let _ = tx.send(picked);
    });
    let picked = rx.await.map_err(|_| UiError::new("The file dialog closed unexpectedly."))?;
    match picked {
        None => Ok(None),
        Some(file) => file
            .into_path()
            .map(Some)
            .map_err(|e| UiError::new(format!("That location cannot be opened as a local file: {e}"))),
    }
}

// ---- start on login and updates (the app's life outside the window) ----------------------

#[tauri::command]
pub(crate) async fn start_on_login(app: AppHandle) -> UiResult<bool> {
    crate::login::enabled(&app)
}

/// Adds or removes the login entry right away; returns whether it is there now.
#[tauri::command]
pub(crate) async fn set_start_on_login(app: AppHandle, enabled: bool) -> UiResult<bool> {
    crate::login::set(&app, enabled)
}

#[tauri::command]
pub(crate) async fn check_for_update(app: AppHandle, pending: State<'_, Pending>) -> UiResult<UpdateCheck> {
    updates::check(&app, &pending).await
}

/// Downloads, verifies and installs the update the last check found. The new version runs from
/// the next launch.
#[tauri::command]
pub(crate) async fn install_update(pending: State<'_, Pending>) -> UiResult<Installed> {
    updates::install(pending).await
}
