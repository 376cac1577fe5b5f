//! Start on login: an XDG autostart entry on Linux (`~/.config/autostart/data-connector.desktop`),
//! a launch agent on macOS, a Run registry value on Windows. The OS entry itself is the setting,
//! so what the window shows is always what will happen at the next login.

use crate::error::{UiError, UiResult};
use tauri::{AppHandle, Runtime};
use tauri_plugin_autostart::ManagerExt;

/// The argument the login entry launches the app with, so it can tell a login from a user's launch.
pub(crate) const AUTOSTART_ARG: &str = "--autostart";
/// Names the login entry (the `.desktop` file on Linux).
const ENTRY_NAME: &str = "data-connector";

pub(crate) fn plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_autostart::Builder::new().args([AUTOSTART_ARG]).app_name(ENTRY_NAME).build()
}

/// Whether this launch came from the login entry.
pub(crate) fn launched_at_login() -> bool {
    std::env::args().skip(1).any(|arg| arg == AUTOSTART_ARG)
}

pub(crate) fn enabled<R: Runtime>(app: &AppHandle<R>) -> UiResult<bool> {
    app.autolaunch()
        .is_enabled()
        .map_err(|e| UiError::new(format!("Could not read the start-on-login entry: {e}")))
}

pub(crate) fn set<R: Runtime>(app: &AppHandle<R>, on: bool) -> UiResult<bool> {
    let manager = app.autolaunch();
    let done = if on { manager.enable() } else { manager.disable() };
    done.map_err(|e| {
        let what = if on { "add" } else { "remove" };
        UiError::new(format!("Could not {what} the start-on-login entry: {e}"))
    })?;
    enabled(app)
}
