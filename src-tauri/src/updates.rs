//! Updates: the manifest URL comes from the bundle's config (`plugins.updater.endpoints`, set by
//! the release workflow), and every download is checked against the public key in
//! `tauri.conf.json` before anything is installed. Checking never installs; the user does.

use crate::error::{UiError, UiResult};
use serde::Serialize;
use std::sync::Mutex;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_updater::{Error as UpdaterError, Update, UpdaterExt};

/// The update found by the last check, kept so that Install installs exactly what was shown.
#[derive(Default)]
pub(crate) struct Pending(Mutex<Option<Update>>);

#[derive(Debug, Serialize)]
pub(crate) struct UpdateCheck {
    pub current: String,
    /// The newer version on offer, if any.
    pub available: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Installed {
    pub version: String,
}

fn take_lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The guarded value is replaced whole, never left half-written.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) async fn check<R: Runtime>(app: &AppHandle<R>, pending: &Pending) -> UiResult<UpdateCheck> {
    let current = app.package_info().version.to_string();
    let updater = app.updater().map_err(|e| message(&e))?;
    let found = updater.check().await.map_err(|e| {
        tracing::info!("update check failed: {e}");
        message(&e)
    })?;
    let result = UpdateCheck {
        current,
        available: found.as_ref().map(|u| u.version.clone()),
        notes: found.as_ref().and_then(|u| u.body.clone()),
    };
    *take_lock(&pending.0) = found;
    Ok(result)
}

pub(crate) async fn install(pending: State<'_, Pending>) -> UiResult<Installed> {
    let update = take_lock(&pending.0)
        .clone()
        .ok_or_else(|| UiError::new("Check for updates first: there is no update to install."))?;
    tracing::info!("downloading version {} from {}", update.version, update.download_url);
    match update.download_and_install(|_, _| {}, || {}).await {
        Ok(()) => {
            tracing::info!("installed version {}", update.version);
            *take_lock(&pending.0) = None;
            Ok(Installed { version: update.version })
        }
        Err(e) => {
            tracing::warn!("update to {} failed: {e}", update.version);
            Err(message(&e))
        }
    }
}

/// What each failure means to the person who pressed the button.
fn message(e: &UpdaterError) -> UiError {
    let text = match e {
        UpdaterError::EmptyEndpoints => {
            "This build has no update source: it was not built by the release workflow. Install \
             new versions the way you installed this one."
                .to_string()
        }
        UpdaterError::Minisign(_) | UpdaterError::Base64(_) | UpdaterError::SignatureUtf8(_) => {
            "The update was refused: its signature does not match Data Connector's update key, \
             so it may not come from the Data Connector project. Nothing was installed."
                .to_string()
        }
        UpdaterError::Reqwest(_) | UpdaterError::Network(_) | UpdaterError::ReleaseNotFound => {
            format!("Could not reach the update server ({e}). Check your connection and try again.")
        }
        UpdaterError::PackageInstallFailed | UpdaterError::AuthenticationFailed => format!(
            "The update was downloaded and verified, but installing it failed ({e}). Installing a \
             package needs administrator rights."
        ),
        other => format!("The update failed: {other}"),
    };
    UiError::new(text)
}
