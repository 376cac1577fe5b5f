//! Closing the window: the server stops with the app, unless the user chose to keep it running
//! in the tray, in which case the window hides and the tray menu brings it back or quits.

use crate::desktop::Desktop;
use std::sync::Arc;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime, Window, WindowEvent};

const TRAY_ID: &str = "main";

pub(crate) fn on_window_event(window: &Window, event: &WindowEvent) {
    let WindowEvent::CloseRequested { api, .. } = event else { return };
    let desktop = window.state::<Arc<Desktop>>();
    if !(desktop.settings().close_to_tray && desktop.is_running()) {
        // The app exits with its last window; `main` stops the server on the way out.
        return;
    }
    match ensure_tray(window.app_handle()) {
        Ok(()) => {
            api.prevent_close();
            if let Err(e) = window.hide() {
                tracing::warn!("could not hide the window: {e}");
            }
        }
        // Without a tray the window could never come back, so close as usual.
        Err(e) => tracing::warn!("no tray icon ({e}); closing and stopping the server"),
    }
}

fn ensure_tray(app: &AppHandle) -> tauri::Result<()> {
    if app.tray_by_id(TRAY_ID).is_some() {
        return Ok(());
    }
    let show = MenuItem::with_id(app, "show", "Show Data Connector", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Stop the server and quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&show, &PredefinedMenuItem::separator(app)?, &quit])?;
    let mut tray = TrayIconBuilder::with_id(TRAY_ID).tooltip("Data Connector").menu(&menu).on_menu_event(
        |app, event| match event.id.as_ref() {
            "show" => show_window(app),
            "quit" => app.exit(0),
            _ => {}
        },
    );
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

/// Hides the window behind a tray icon at launch; without a tray it stays, or it could never
/// come back.
pub(crate) fn start_hidden(app: &AppHandle) {
    match ensure_tray(app) {
        Ok(()) => {
            if let Some(window) = app.get_webview_window("main") {
                if let Err(e) = window.hide() {
                    tracing::warn!("could not hide the window: {e}");
                }
            }
        }
        Err(e) => tracing::warn!("no tray icon ({e}); showing the window"),
    }
}

pub(crate) fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}
