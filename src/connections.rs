//! Saved connections: create with secrets, list without them, test, update, delete. Settings go
//! to the state database, secrets to the secret store, and engines are built on first use.

use crate::app::{App, Connected};
use crate::error::{Error, Result};
use crate::state::StoredConnection;
use connectors::{ConnectionSettings, Secrets};
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Instant;

/// A connection as the API shows it: its settings, and `has_<secret>` flags instead of secrets.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionView(Map<String, Value>);

impl ConnectionView {
    pub fn name(&self) -> &str {
        self.0.get("name").and_then(Value::as_str).unwrap_or_default()
    }
    pub fn into_json(self) -> Value {
        Value::Object(self.0)
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TestReport {
    pub ok: bool,
    pub server_version: String,
    pub latency_ms: f64,
    /// What the login can do beyond reading, one sentence each (empty for a read-only login).
    pub warnings: Vec<String>,
}

pub fn view(stored: &StoredConnection) -> ConnectionView {
    let mut map = Map::new();
    map.insert("name".into(), Value::String(stored.name.clone()));
    if let Ok(Value::Object(settings)) = serde_json::to_value(&stored.settings) {
        map.extend(settings);
    }
    for field in stored.settings.kind().secret_fields() {
        let present = stored.secret_fields.iter().any(|f| f == field);
        map.insert(format!("has_{field}"), Value::Bool(present));
    }
    map.insert("created_at".into(), Value::String(stored.created_at.clone()));
    map.insert("updated_at".into(), Value::String(stored.updated_at.clone()));
    ConnectionView(map)
}

pub fn list(app: &App) -> Result<Vec<ConnectionView>> {
    Ok(app.state.list_connections()?.iter().map(view).collect())
}

pub fn get(app: &App, name: &str) -> Result<ConnectionView> {
    Ok(view(&app.state.require_connection(name)?))
}

/// Validates the name and settings, proves they work by connecting, then stores secrets in the
/// secret store and settings in the state database.
pub async fn create(app: &App, mut input: Map<String, Value>) -> Result<ConnectionView> {
    let name = take_name(&mut input)?.ok_or_else(|| Error::Unprocessable("\"name\" is required".into()))?;
    if app.state.get_connection(&name)?.is_some() {
        return Err(Error::Conflict(format!("a connection named {name:?} already exists")));
    }
    let (mut settings, secrets) = ConnectionSettings::from_input(input)?;
    let engine = connect(&settings, &secrets).await?;
    settings.pin_ssh_host_key(engine.ssh_host_key());
    let fields: Vec<String> = secrets.fields().map(str::to_string).collect();
    if !secrets.is_empty() {
        store_secrets(app, &name, secrets).await?;
    }
    let stored = match app.state.insert_connection(&name, &settings, &fields) {
        Ok(stored) => stored,
        Err(e) => {
            if !fields.is_empty() {
                let _ = delete_secrets(app, &name).await;
            }
            return Err(e);
        }
    };
    app.engines.lock().await.insert(name, Arc::new(Connected { read_only: settings.read_only(), engine }));
    Ok(view(&stored))
}

/// A connection whose settings are checked and which has connected, not yet stored: what a
/// multi-step save (Workspace's native protocol) stores in one transaction with its query.
pub struct Prepared {
    pub settings: ConnectionSettings,
    pub secrets: Secrets,
    pub engine: Arc<dyn connectors::Engine>,
}

impl Prepared {
    pub fn secret_fields(&self) -> Vec<String> {
        self.secrets.fields().map(str::to_string).collect()
    }

    /// Saves the secrets under `name`; blocking (the keyring), for use inside a transaction.
    pub fn store_secrets(&self, app: &App, name: &str) -> Result<()> {
        if self.secrets.is_empty() {
            return Ok(());
        }
        app.secrets.set(name, &self.secrets)
    }

    /// Makes the stored connection `name` use this engine from now on.
    pub async fn register(self, app: &App, name: &str) {
        let connected = Connected { read_only: self.settings.read_only(), engine: self.engine };
        app.engines.lock().await.insert(name.to_string(), Arc::new(connected));
    }
}

/// Checks `input` (settings and secrets, no name) and connects, storing nothing.
pub async fn prepare(input: Map<String, Value>) -> Result<Prepared> {
    let (settings, secrets) = ConnectionSettings::from_input(input)?;
    let engine = connect(&settings, &secrets).await?;
    Ok(Prepared { settings, secrets, engine })
}

/// Applies a partial update. Fields present replace the stored ones; a secret left out keeps
/// the stored secret; `name` renames the connection (and moves its keyring entry).
pub async fn update(app: &App, name: &str, mut patch: Map<String, Value>) -> Result<ConnectionView> {
    let stored = app.state.require_connection(name)?;
    let new_name = take_name(&mut patch)?.unwrap_or_else(|| name.to_string());
    let mut merged = match serde_json::to_value(&stored.settings) {
        Ok(Value::Object(map)) => map,
        _ => return Err(Error::Internal("cannot re-read stored settings".into())),
    };
    let kind_changed = patch.get("kind").is_some_and(|k| k.as_str() != Some(stored.settings.kind().name()));
    if kind_changed {
        merged.clear();
    }
    // A URL replaces the individual fields it stands for.
    if patch.contains_key("url") {
        for field in ["host", "port", "database", "user"] {
            merged.remove(field);
        }
    }
    let stored_ssh = merged.get("ssh").cloned();
    merged.extend(patch);
    keep_host_key(&mut merged, stored_ssh);
    let (mut settings, new_secrets) = ConnectionSettings::from_input(merged)?;
    let mut secrets = if kind_changed || stored.secret_fields.is_empty() {
        Secrets::new()
    } else {
        load_secrets(app, name).await?
    };
    secrets.merge(new_secrets);
    let allowed = settings.kind().secret_fields();
    let stale: Vec<String> = secrets.fields().filter(|f| !allowed.contains(f)).map(str::to_string).collect();
    for field in stale {
        secrets.remove(&field);
    }
    let engine = connect(&settings, &secrets).await?;
    settings.pin_ssh_host_key(engine.ssh_host_key());
    let fields: Vec<String> = secrets.fields().map(str::to_string).collect();
    if new_name != name && app.state.get_connection(&new_name)?.is_some() {
        return Err(Error::Conflict(format!("a connection named {new_name:?} already exists")));
    }
    if secrets.is_empty() {
        if !stored.secret_fields.is_empty() {
            delete_secrets(app, name).await?;
        }
    } else {
        store_secrets(app, &new_name, secrets).await?;
        if new_name != name && !stored.secret_fields.is_empty() {
            delete_secrets(app, name).await?;
        }
    }
    let updated = app.state.update_connection(name, &new_name, &settings, &fields)?;
    // New settings deserve a fresh try, not the old ones' failure.
    app.admission.forget(name);
    let mut engines = app.engines.lock().await;
    engines.remove(name);
    engines.insert(new_name, Arc::new(Connected { read_only: settings.read_only(), engine }));
    Ok(view(&updated))
}

pub async fn delete(app: &App, name: &str) -> Result<()> {
    let stored = app.state.require_connection(name)?;
    if !stored.secret_fields.is_empty() {
        delete_secrets(app, name).await?;
    }
    app.state.delete_connection(name)?;
    app.engines.lock().await.remove(name);
    Ok(())
}

pub async fn test(app: &App, name: &str) -> Result<TestReport> {
    let connected = engine(app, name).await?;
    let started = Instant::now();
    let server_version = connected.engine.server_version().await?;
    let latency_ms = elapsed_ms(started);
    let warnings = privilege_warnings(&*connected.engine).await;
    Ok(TestReport { ok: true, server_version, latency_ms, warnings })
}

/// The login's privilege warnings (`Engine::privilege_warnings`). Advice only: a database that
/// will not say what the login may do fails neither the test nor the save.
pub async fn privilege_warnings(engine: &dyn connectors::Engine) -> Vec<String> {
    match engine.privilege_warnings().await {
        Ok(warnings) => warnings,
        Err(e) => {
            tracing::warn!("could not check what the login may do: {e}");
            Vec::new()
        }
    }
}

/// The live engine of a saved connection, connecting (and reading its secrets) on first use.
pub async fn engine(app: &App, name: &str) -> Result<Arc<Connected>> {
    if let Some(connected) = app.engines.lock().await.get(name) {
        return Ok(connected.clone());
    }
    let stored = app.state.require_connection(name)?;
    let secrets =
        if stored.secret_fields.is_empty() { Secrets::new() } else { load_secrets(app, name).await? };
    let engine = connect(&stored.settings, &secrets).await?;
    let connected = Arc::new(Connected { engine, read_only: stored.settings.read_only() });
    app.engines.lock().await.insert(name.to_string(), connected.clone());
    Ok(connected)
}

/// A patch that sends `"ssh"` for the same bastion without `host_key` keeps the pinned key: only
/// a different bastion, or an explicit `"host_key": null`, is pinned afresh.
fn keep_host_key(merged: &mut Map<String, Value>, stored: Option<Value>) {
    let (Some(Value::Object(stored)), Some(Value::Object(new))) = (stored, merged.get_mut("ssh")) else {
        return;
    };
    // Stored settings always hold the port; a patch without one means the default, 22.
    let port = new.get("port").cloned().unwrap_or(Value::from(22));
    let same_bastion = new.get("host") == stored.get("host") && Some(&port) == stored.get("port");
    if same_bastion && !new.contains_key("host_key") {
        if let Some(pinned) = stored.get("host_key") {
            new.insert("host_key".into(), pinned.clone());
        }
    }
}

async fn connect(settings: &ConnectionSettings, secrets: &Secrets) -> Result<Arc<dyn connectors::Engine>> {
    connectors::connect(settings, secrets).await.map_err(|e| Error::from(e.scrubbed(secrets.values())))
}

fn take_name(input: &mut Map<String, Value>) -> Result<Option<String>> {
    match input.remove("name") {
        None => Ok(None),
        Some(Value::String(name)) => validate_name(&name).map(|()| Some(name)),
        Some(_) => Err(Error::Unprocessable("\"name\" must be a string".into())),
    }
}

/// Names appear in URLs, keyring entries and widget ids, so they stay short and plain.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '))
        && !name.starts_with([' ', '.'])
        && !name.ends_with(' ');
    if ok {
        Ok(())
    } else {
        Err(Error::Unprocessable(format!(
            "invalid connection name {name:?}: use 1-64 letters, digits, spaces, '_', '-' or '.'"
        )))
    }
}

async fn load_secrets(app: &App, name: &str) -> Result<Secrets> {
    let store = app.secrets.clone();
    let key = name.to_string();
    let found = blocking(move || store.get(&key)).await?;
    found.ok_or_else(|| {
        Error::SecretStore(format!(
            "the secrets of connection {name:?} are missing from the {}; edit the connection and \
             enter them again",
            app.secrets.describe()
        ))
    })
}

async fn store_secrets(app: &App, name: &str, secrets: Secrets) -> Result<()> {
    let store = app.secrets.clone();
    let key = name.to_string();
    blocking(move || store.set(&key, &secrets)).await
}

async fn delete_secrets(app: &App, name: &str) -> Result<()> {
    let store = app.secrets.clone();
    let key = name.to_string();
    blocking(move || store.delete(&key)).await
}

/// Keyring calls block on D-Bus; keep them off the async workers.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(format!("secret store task failed: {e}")))?
}

pub fn elapsed_ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1e6).round() / 1e3
}
