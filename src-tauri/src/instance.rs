//! One app per data folder: launching the app again hands over to the running one, which shows
//! and focuses its window, instead of starting a second server that would fight for the port.

use std::hash::{Hash, Hasher};
use tauri::{AppHandle, Runtime};

/// Where the second launch's request lands: in the first instance, on its main thread's terms.
fn focus_running<R: Runtime>(app: &AppHandle<R>, args: Vec<String>, _cwd: String) {
    tracing::info!("the app was launched again ({} arguments); showing the running window", args.len());
    crate::tray::show_window(app);
}

pub(crate) fn plugin<R: Runtime>(identifier: &str) -> tauri::plugin::TauriPlugin<R> {
    let builder = tauri_plugin_single_instance::Builder::new().callback(focus_running);
    // On Linux the lock is a D-Bus name. A separate DATA_CONNECTOR_DATA_DIR is a separate set of
    // settings and connections (tests run several side by side), so it gets its own name.
    match std::env::var_os("DATA_CONNECTOR_DATA_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => builder.dbus_id(dbus_id(identifier, &dir)).build(),
        None => builder.build(),
    }
}

/// A D-Bus name element may hold letters, digits, `_` and `-`, and must not start with a digit.
fn dbus_id(identifier: &str, data_dir: &std::ffi::OsStr) -> String {
    // The default hasher is keyed the same in every process of one build, which is all a lock
    // between launches of the same binary needs.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut hasher);
    format!("{identifier}.dir_{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_dirs_get_distinct_valid_bus_names() {
        let a = dbus_id("co.openbb.data-connector", "/tmp/a".as_ref());
        let b = dbus_id("co.openbb.data-connector", "/tmp/b".as_ref());
        assert_ne!(a, b);
        assert_eq!(a, dbus_id("co.openbb.data-connector", "/tmp/a".as_ref()));
        for element in a.split('.') {
            assert!(!element.is_empty() && !element.starts_with(|c: char| c.is_ascii_digit()), "{a}");
            assert!(element.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'), "{a}");
        }
    }
}
