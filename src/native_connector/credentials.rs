//! From Workspace's credential fields to our connections: the request body as Workspace sends
//! it, the connection input it maps to, transient engines for the dialogs' listings, and the
//! named connections ("links") that saved queries run on.
//!
//! Link names are `workspace-<connection id>` for a connection's first context and
//! `workspace-<connection id>-<n>` for further ones (another database, or for Snowflake another
//! role, warehouse or schema), so they are readable in the desktop window and our API.

use super::Family;
use crate::app::App;
use crate::connections;
use crate::error::{Error, Result};
use crate::state::native_queries::{LinkChoice, NativeQueryFields, SaveTarget, Saved};
use connectors::{ConnectionSettings, Engine, EngineKind, Secrets};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::Arc;

/// Every field any native-protocol body carries; each endpoint reads the ones it needs. Unknown fields
/// (e.g. the dialog's `table`) are ignored, as the frontend sends whole form states.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct Body {
    pub database_type: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub host: Option<String>,
    pub account_identifier: Option<String>,
    /// Not sent by Workspace: a Snowflake host override (private link, proxies, tests).
    pub base_url: Option<String>,
    pub role: Option<String>,
    pub warehouse: Option<String>,
    pub schema: Option<String>,
    pub database: Option<String>,
    pub name: Option<String>,
    pub query: Option<String>,
    pub category: Option<String>,
    #[serde(alias = "subCategory")]
    pub sub_category: Option<String>,
    pub description: Option<String>,
}

pub(super) fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str> {
    given(value).ok_or_else(|| Error::Unprocessable(format!("\"{field}\" is required")))
}

/// The engine kind and the `database_type` Workspace shows for it.
pub(super) fn database_type(family: Family, body: &Body) -> Result<EngineKind> {
    if family == Family::Snowflake {
        return Ok(EngineKind::Snowflake);
    }
    match required(&body.database_type, "database_type")?.to_ascii_lowercase().as_str() {
        "sqlite" => Ok(EngineKind::Sqlite),
        "mysql" | "mariadb" => Ok(EngineKind::Mysql),
        "postgres" | "postgresql" => Ok(EngineKind::Postgres),
        "duckdb" => Ok(EngineKind::Duckdb),
        other => Err(Error::Unprocessable(format!("unknown database_type {other:?}: use mysql or sqlite"))),
    }
}

/// The connection input (`{"kind": ..., secrets...}`) for credentials in `body`, without a
/// context; `apply_context` adds it.
pub(super) fn input(family: Family, body: &Body) -> Result<Map<String, Value>> {
    let kind = database_type(family, body)?;
    let mut map = Map::new();
    map.insert("kind".into(), kind.name().into());
    map.insert("read_only".into(), true.into());
    match kind {
        EngineKind::Sqlite | EngineKind::Duckdb => {}
        EngineKind::Snowflake => {
            map.insert("account".into(), required(&body.account_identifier, "account_identifier")?.into());
            map.insert("user".into(), required(&body.username, "username")?.into());
            insert_given(&mut map, "password", &body.password);
            insert_given(&mut map, "base_url", &body.base_url);
        }
        EngineKind::Mysql | EngineKind::Postgres => {
            let host = required(&body.host, "host")?;
            let (host, port) = split_port(host);
            map.insert("host".into(), host.into());
            if let Some(port) = port {
                map.insert("port".into(), port.into());
            }
            map.insert("user".into(), required(&body.username, "username")?.into());
            insert_given(&mut map, "password", &body.password);
        }
    }
    Ok(map)
}

fn insert_given(map: &mut Map<String, Value>, field: &str, value: &Option<String>) {
    if let Some(value) = given(value) {
        map.insert(field.into(), value.into());
    }
}

/// `host:3307` → (`host`, 3307); bare IPv6 addresses and non-numeric suffixes stay whole.
fn split_port(host: &str) -> (&str, Option<u16>) {
    if let Some(rest) = host.strip_prefix('[') {
        if let Some((inner, after)) = rest.split_once(']') {
            return (inner, after.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => match port.parse() {
            Ok(port) => (name, Some(port)),
            Err(_) => (host, None),
        },
        _ => (host, None),
    }
}

/// Writes a query's context into a connection input: the SQLite file, the default database,
/// Snowflake's role, warehouse and schema.
pub(super) fn apply_context(map: &mut Map<String, Value>, fields: &NativeQueryFields) {
    let kind = map.get("kind").and_then(Value::as_str).and_then(|k| k.parse::<EngineKind>().ok());
    let mut set = |field: &str, value: Option<&str>| match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => {
            map.insert(field.into(), v.into());
        }
        None => {
            map.remove(field);
        }
    };
    match kind {
        Some(EngineKind::Sqlite) => set("path", Some(&fields.database)),
        // An empty database is DuckDB's in-memory database, whose queries read files.
        Some(EngineKind::Duckdb) => set("path", Some(&fields.database)),
        Some(EngineKind::Snowflake) => {
            set("database", Some(&fields.database));
            set("role", fields.role.as_deref());
            set("warehouse", fields.warehouse.as_deref());
            set("schema", fields.database_schema.as_deref());
        }
        Some(EngineKind::Mysql | EngineKind::Postgres) | None => set("database", Some(&fields.database)),
    }
}

/// Connects without saving anything: the dialogs list databases, roles and warehouses before
/// the user has saved the connection.
pub(super) async fn transient(map: Map<String, Value>) -> Result<Arc<dyn Engine>> {
    let (settings, secrets) = ConnectionSettings::from_input(map)?;
    connectors::connect(&settings, &secrets).await.map_err(|e| Error::from(e.scrubbed(secrets.values())))
}

/// The stored input of a named connection (settings plus secrets), to derive another context
/// from or to connect with different session settings.
pub(super) async fn stored_input(app: &Arc<App>, link: &str) -> Result<Map<String, Value>> {
    let stored = app.state.require_connection(link)?;
    let mut map = match serde_json::to_value(&stored.settings) {
        Ok(Value::Object(map)) => map,
        _ => return Err(Error::Internal("cannot re-read stored connection settings".into())),
    };
    if !stored.secret_fields.is_empty() {
        let store = app.secrets.clone();
        let key = link.to_string();
        let secrets: Option<Secrets> = tokio::task::spawn_blocking(move || store.get(&key))
            .await
            .map_err(|e| Error::Internal(format!("secret store task failed: {e}")))??;
        let secrets = secrets.ok_or_else(|| {
            Error::SecretStore(format!(
                "the secrets of connection {link:?} are missing from the {}; add the connection in \
                 Workspace again",
                app.secrets.describe()
            ))
        })?;
        for field in secrets.fields() {
            if let Some(value) = secrets.get(field) {
                map.insert(field.into(), value.into());
            }
        }
    }
    Ok(map)
}

/// The link a query should run on: one its connection already has, or a new one, checked and
/// connected but not stored yet (`save` stores it with the query, in one transaction).
pub(super) enum Link {
    Existing(String),
    // Boxed: a prepared connection (settings, secrets, an SSH tunnel) is large.
    New(Box<connections::Prepared>),
}

/// The link a query with `fields` should run on: one the connection already has for the same
/// context, else a new one derived from `source`'s credentials.
pub(super) async fn link_for(
    app: &Arc<App>,
    connection: i64,
    source: &str,
    fields: &NativeQueryFields,
) -> Result<Link> {
    if let Some(link) = app.state.native_find_link(connection, fields)? {
        return Ok(Link::Existing(link));
    }
    let mut input = stored_input(app, source).await?;
    apply_context(&mut input, fields);
    Ok(Link::New(Box::new(connections::prepare(input).await?)))
}

/// Stores a query with its link (and, for a new Workspace connection, the connection) in one
/// transaction of the state database; a new link's secrets are written inside it.
pub(super) async fn save(
    app: &Arc<App>,
    target: OwnedTarget,
    link: Link,
    fields: NativeQueryFields,
) -> Result<Saved> {
    let (existing, prepared) = match link {
        Link::Existing(name) => (Some(name), None),
        Link::New(prepared) => (None, Some(*prepared)),
    };
    let worker = app.clone();
    let (saved, prepared) = tokio::task::spawn_blocking(move || {
        let target = target.borrowed();
        let saved = match (&existing, &prepared) {
            (Some(name), _) => {
                worker.state.native_save(target, LinkChoice::Existing(name), &fields, |_| Ok(()))
            }
            (None, Some(new)) => {
                let secret_fields = new.secret_fields();
                let choice = LinkChoice::New { settings: &new.settings, secret_fields: &secret_fields };
                worker.state.native_save(target, choice, &fields, |name| new.store_secrets(&worker, name))
            }
            (None, None) => Err(Error::Internal("a save without a link".into())),
        };
        (saved, prepared)
    })
    .await
    .map_err(|e| Error::Internal(format!("saving failed: {e}")))?;
    let saved = saved?;
    if let Some(prepared) = prepared {
        prepared.register(app, &saved.link).await;
    }
    Ok(saved)
}

/// `SaveTarget` with owned strings, to cross into the blocking task.
pub(super) enum OwnedTarget {
    NewConnection { user: String, family: String, database_type: String },
    Add { connection: i64 },
    Update { connection: i64, id: i64 },
}

impl OwnedTarget {
    fn borrowed(&self) -> SaveTarget<'_> {
        match self {
            Self::NewConnection { user, family, database_type } => {
                SaveTarget::NewConnection { user, family, database_type }
            }
            Self::Add { connection } => SaveTarget::Add { connection: *connection },
            Self::Update { connection, id } => SaveTarget::Update { connection: *connection, id: *id },
        }
    }
}

/// Deletes a link no saved query runs on any more, and the connection once it has no queries.
pub(super) async fn collect_garbage(app: &Arc<App>, connection: i64, links: &[String]) -> Result<()> {
    for link in links {
        if !app.state.native_link_in_use(link)? {
            match connections::delete(app, link).await {
                Ok(()) | Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    if app.state.native_connection_queries(connection)?.is_empty() {
        app.state.native_delete_connection(connection)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_split_off_hosts() {
        assert_eq!(split_port("db.example:3307"), ("db.example", Some(3307)));
        assert_eq!(split_port("db.example"), ("db.example", None));
        assert_eq!(split_port("[::1]:3306"), ("::1", Some(3306)));
        assert_eq!(split_port("::1"), ("::1", None));
    }
}
