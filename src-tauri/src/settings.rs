//! The window's own settings (`desktop.json` in the data dir): the last port, what the server
//! is started with, and how the window behaves. No secrets: the API key lives in the keyring
//! and this file only records that one is set.

use crate::error::UiError;
use data_connector::config::{Limits, DEFAULT_ORIGINS};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The CLI's default port, so the app and `data-connector serve` agree out of the box.
pub(crate) const DEFAULT_PORT: u16 = 6900;
const FILE_NAME: &str = "desktop.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct DesktopSettings {
    /// The port the server last started on.
    pub port: u16,
    pub allowed_origins: Vec<String>,
    pub default_rows: u64,
    pub timeout_secs: u64,
    pub start_on_open: bool,
    pub close_to_tray: bool,
    pub api_key_set: bool,
    /// OpenBB user ids Workspace's Data Connectors page may call with while an API key is set
    /// (it cannot send the key); the server's `--workspace-user`.
    pub workspace_users: Vec<String>,
    /// Serve HTTPS with a certificate from the local CA (the server's `--tls`).
    pub tls: bool,
}

impl Default for DesktopSettings {
    fn default() -> Self {
        let limits = Limits::default();
        Self {
            port: DEFAULT_PORT,
            allowed_origins: Vec::new(),
            default_rows: limits.default_rows,
            timeout_secs: limits.default_timeout.as_secs(),
            start_on_open: false,
            close_to_tray: false,
            api_key_set: false,
            workspace_users: Vec::new(),
            tls: false,
        }
    }
}

/// What the Settings form sends.
#[derive(Debug, Deserialize)]
pub(crate) struct SettingsInput {
    pub allowed_origins: Vec<String>,
    pub default_rows: u64,
    pub timeout_secs: u64,
    pub start_on_open: bool,
    pub close_to_tray: bool,
    #[serde(default)]
    pub api_key: ApiKeyChange,
    #[serde(default)]
    pub workspace_users: Vec<String>,
    #[serde(default)]
    pub tls: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(tag = "action", content = "value", rename_all = "lowercase")]
pub(crate) enum ApiKeyChange {
    #[default]
    Keep,
    Set(String),
    Remove,
}

/// What the window shows: the settings plus the fixed facts around them.
#[derive(Debug, Serialize)]
pub(crate) struct SettingsView {
    #[serde(flatten)]
    pub settings: DesktopSettings,
    pub default_origins: &'static [&'static str],
    pub max_rows: u64,
    pub max_timeout_secs: u64,
    pub data_dir: String,
    pub secret_store: &'static str,
}

pub(crate) fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// Reads the settings; a missing file gives the defaults, an unreadable one the defaults plus a
/// message for the window (the file is left alone until the user saves).
pub(crate) fn load(data_dir: &Path) -> (DesktopSettings, Option<String>) {
    let file = path(data_dir);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (DesktopSettings::default(), None),
        Err(e) => {
            return (
                DesktopSettings::default(),
                Some(format!("Could not read {}: {e}. Using the default settings.", file.display())),
            )
        }
    };
    match serde_json::from_str::<DesktopSettings>(&text) {
        Ok(settings) => (settings.sanitized(), None),
        Err(e) => (
            DesktopSettings::default(),
            Some(format!(
                "{} is not valid ({e}). Using the default settings; saving them replaces the file.",
                file.display()
            )),
        ),
    }
}

/// Writes through a temporary file so a crash mid-write never leaves half a file behind.
pub(crate) fn save(data_dir: &Path, settings: &DesktopSettings) -> Result<(), UiError> {
    let file = path(data_dir);
    let text = serde_json::to_string_pretty(settings)
        .map_err(|e| UiError::new(format!("Could not encode the settings: {e}")))?;
    let temp = data_dir.join(format!(".{FILE_NAME}.tmp"));
    std::fs::create_dir_all(data_dir)
        .and_then(|()| std::fs::write(&temp, text))
        .and_then(|()| std::fs::rename(&temp, &file))
        .map_err(|e| UiError::new(format!("Could not save the settings to {}: {e}", file.display())))
}

impl DesktopSettings {
    /// A hand-edited file may hold values the form would refuse; clamp them instead of failing.
    fn sanitized(mut self) -> Self {
        let limits = Limits::default();
        if self.port == 0 {
            self.port = DEFAULT_PORT;
        }
        self.default_rows = self.default_rows.clamp(1, limits.max_rows);
        self.timeout_secs = self.timeout_secs.clamp(1, limits.max_timeout.as_secs());
        self.allowed_origins.retain(|o| normalize_origin(o).is_ok());
        self.workspace_users.retain(|u| valid_user_id(u));
        self
    }

    /// Applies the form's values (everything except the API key, which the caller stores).
    pub(crate) fn apply(&mut self, input: &SettingsInput) -> Result<(), UiError> {
        let limits = Limits::default();
        let mut origins: Vec<String> = Vec::new();
        for raw in input.allowed_origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
            let origin = normalize_origin(raw).map_err(|m| UiError::field("allowed_origins", m))?;
            if !DEFAULT_ORIGINS.contains(&origin.as_str()) && !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        if input.default_rows == 0 || input.default_rows > limits.max_rows {
            return Err(UiError::field(
                "default_rows",
                format!("Enter a row cap between 1 and {}.", limits.max_rows),
            ));
        }
        let max_timeout = limits.max_timeout.as_secs();
        if input.timeout_secs == 0 || input.timeout_secs > max_timeout {
            return Err(UiError::field(
                "timeout_secs",
                format!("Enter a timeout between 1 and {max_timeout} seconds."),
            ));
        }
        let mut users: Vec<String> = Vec::new();
        for user in input.workspace_users.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
            if !valid_user_id(user) {
                return Err(UiError::field(
                    "workspace_users",
                    format!(
                        "{user:?} is not an OpenBB user id (letters, digits, '-', '_' or '.', at most 128)."
                    ),
                ));
            }
            if !users.iter().any(|u| u == user) {
                users.push(user.to_string());
            }
        }
        self.allowed_origins = origins;
        self.workspace_users = users;
        self.default_rows = input.default_rows;
        self.timeout_secs = input.timeout_secs;
        self.start_on_open = input.start_on_open;
        self.close_to_tray = input.close_to_tray;
        self.tls = input.tls;
        Ok(())
    }
}

/// `scheme://host[:port]`, as browsers send it in `Origin`; a trailing slash is dropped.
pub(crate) fn normalize_origin(raw: &str) -> Result<String, String> {
    let origin = raw.trim().trim_end_matches('/');
    let bad = || {
        format!("{raw:?} is not an origin. Write it as scheme://host[:port], e.g. https://my-app.example.com")
    };
    let (scheme, rest) = origin.split_once("://").ok_or_else(bad)?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("{raw:?}: only http:// and https:// origins can be allowed."));
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ', '\t']) {
        return Err(bad());
    }
    let (host, port) = match rest.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']').ok_or_else(bad)?;
            match after {
                "" => (host, None),
                _ => (host, Some(after.strip_prefix(':').ok_or_else(bad)?)),
            }
        }
        None => match rest.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        },
    };
    if host.is_empty() {
        return Err(bad());
    }
    if port.is_some_and(|p| p.parse::<u16>().map_or(true, |p| p == 0)) {
        return Err(format!("{raw:?} has an invalid port."));
    }
    Ok(format!("{scheme}://{}", rest.to_ascii_lowercase()))
}

/// What Workspace sends as `Authorization: Bearer <user id>`, as the server accepts it.
fn valid_user_id(user: &str) -> bool {
    !user.is_empty()
        && user.len() <= 128
        && user.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Keys go in an HTTP header, so they stay printable ASCII; a short key is easy to guess.
pub(crate) fn validate_api_key(key: &str) -> Result<(), UiError> {
    if key.len() < 16 || key.len() > 256 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(UiError::field(
            "api_key",
            "Use 16-256 visible characters without spaces, or press Generate.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalized_or_refused() {
        assert_eq!(normalize_origin("https://App.Example.com/").unwrap(), "https://app.example.com");
        assert_eq!(normalize_origin("http://localhost:5173").unwrap(), "http://localhost:5173");
        assert_eq!(normalize_origin("http://[::1]:8080").unwrap(), "http://[::1]:8080");
        for bad in ["example.com", "ftp://x", "https://", "https://x/path", "https://x:0", "https://x:port"] {
            assert!(normalize_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn apply_checks_limits_and_drops_default_origins() {
        let mut s = DesktopSettings::default();
        let input = SettingsInput {
            allowed_origins: vec!["https://pro.openbb.co".into(), " https://a.example ".into(), "".into()],
            default_rows: 500,
            timeout_secs: 30,
            start_on_open: true,
            close_to_tray: false,
            api_key: ApiKeyChange::Keep,
            workspace_users: vec![" 6f1b6a53-8c5e ".into(), "".into(), "6f1b6a53-8c5e".into()],
            tls: true,
        };
        s.apply(&input).unwrap();
        assert!(s.tls);
        assert_eq!(s.allowed_origins, vec!["https://a.example".to_string()]);
        assert_eq!(s.workspace_users, vec!["6f1b6a53-8c5e".to_string()]);
        let bad = SettingsInput { workspace_users: vec!["has space".into()], ..input };
        assert_eq!(s.apply(&bad).unwrap_err().field, Some("workspace_users"));
        let input = SettingsInput { workspace_users: Vec::new(), ..bad };
        assert_eq!((s.default_rows, s.timeout_secs, s.start_on_open), (500, 30, true));
        let bad = SettingsInput { default_rows: 0, ..input };
        assert_eq!(s.apply(&bad).unwrap_err().field, Some("default_rows"));
    }

    #[test]
    fn unreadable_file_gives_defaults_and_a_message() {
        let dir = std::env::temp_dir().join(format!("dc-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(path(&dir), "{not json").unwrap();
        let (settings, message) = load(&dir);
        assert_eq!(settings, DesktopSettings::default());
        assert!(message.unwrap().contains("not valid"));
        let saved = DesktopSettings { port: 7000, ..DesktopSettings::default() };
        save(&dir, &saved).unwrap();
        assert_eq!(load(&dir), (saved, None));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn api_keys_must_be_long_and_printable() {
        assert!(validate_api_key("short").is_err());
        assert!(validate_api_key("has a space in it, long enough").is_err());
        assert!(validate_api_key("0123456789abcdef").is_ok());
    }
}
