//! The Connections and Query Log widgets: the connection picker's options, the connections
//! table and its add-connection form, and the latest queries.

use super::params::{number, required};
use crate::app::App;
use crate::connections;
use crate::error::{form_error_response, Error, Result};
use crate::http::{parse_body, ApiQuery};
use crate::state::LogEntry;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use connectors::EngineKind;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// `optionsEndpoint` of the connection pickers: `[{label, value, extraInfo}]`.
pub(super) async fn connection_options(State(app): State<Arc<App>>) -> Result<Json<Vec<Value>>> {
    let options = app
        .state
        .list_connections()?
        .into_iter()
        .map(|c| {
            json!({"label": c.name, "value": c.name, "extraInfo": {"description": c.settings.kind().name(),
                   "rightOfDescription": target(&c.settings)}})
        })
        .collect();
    Ok(Json(options))
}

/// Where a connection points, for people: a file, a host/database or a Snowflake account.
fn target(settings: &connectors::ConnectionSettings) -> String {
    let value = serde_json::to_value(settings).unwrap_or_default();
    let field = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_string);
    field("path")
        .or_else(|| field("account"))
        .or_else(|| field("host").map(|h| format!("{h}/{}", field("database").unwrap_or_default())))
        .unwrap_or_default()
}

pub(super) async fn connections_table(State(app): State<Arc<App>>) -> Result<Json<Vec<Value>>> {
    let rows = app
        .state
        .list_connections()?
        .into_iter()
        .map(|c| {
            json!({"name": c.name, "kind": c.settings.kind().name(), "target": target(&c.settings),
                   "read_only": c.settings.read_only()})
        })
        .collect();
    Ok(Json(rows))
}

/// The fields the add-connection form may send that a connection takes. `read_only` is not one
/// of them: the form's `allow_writes` decides, so that an untouched form is read-only.
const FORM_FIELDS: &[&str] = &[
    "name",
    "kind",
    "path",
    "url",
    "host",
    "port",
    "user",
    "password",
    "database",
    "account",
    "pat",
    "oauth_token",
    "warehouse",
    "role",
    "schema",
    // Not an input of the form (Workspace never sends it); the API takes it too, and tests point
    // the form's Snowflake connections at the fakesnow adapter with it.
    "base_url",
];

/// The add-connection form's submit, as `FormParamElement` sends it: the form's values as JSON,
/// blanks left out. Its booleans start as `false` and a toggled one arrives as `"true"` or
/// `"false"`, so only an explicit `allow_writes` of true makes a writable connection. The answer
/// carries `message`, the only thing the form's toast shows (on success and on failure).
pub(super) async fn add_connection(State(app): State<Arc<App>>, bytes: Bytes) -> Response {
    match add(&app, &bytes).await {
        Ok(created) => {
            let name = created.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            let writable = created.get("read_only").and_then(Value::as_bool) == Some(false);
            let message = if writable {
                format!("Connection {name:?} saved; it allows writes.")
            } else {
                format!("Connection {name:?} saved, read-only.")
            };
            Json(json!({"success": true, "message": message, "connection": created})).into_response()
        }
        Err(e) => form_error_response(e),
    }
}

async fn add(app: &Arc<App>, bytes: &[u8]) -> Result<Value> {
    let form: Map<String, Value> = parse_body(bytes)?;
    let allow_writes = matches!(form.get("allow_writes"), Some(Value::Bool(true)))
        || matches!(form.get("allow_writes"), Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("true"));
    let mut input = Map::new();
    for (key, value) in form {
        if !FORM_FIELDS.contains(&key.as_str()) {
            continue;
        }
        let value = match value {
            Value::Null => continue,
            Value::String(s) if s.trim().is_empty() => continue,
            Value::String(s) if key == "port" => Value::from(
                s.trim()
                    .parse::<u16>()
                    .map_err(|_| Error::Unprocessable(format!("port {s:?} is not a number")))?,
            ),
            Value::String(s) if key != "password" => Value::String(s.trim().to_string()),
            other => other,
        };
        input.insert(key, value);
    }
    input.insert("read_only".into(), Value::Bool(!allow_writes));
    required(&input.get("name").and_then(Value::as_str).map(str::to_string), "name")?;
    // Only file engines have a path; the form's field is left over for the others.
    let kind = input.get("kind").and_then(Value::as_str);
    if ![EngineKind::Sqlite, EngineKind::Duckdb].iter().any(|k| kind == Some(k.name())) {
        input.remove("path");
    }
    Ok(connections::create(app, input).await?.into_json())
}

#[derive(Debug, Deserialize)]
pub(super) struct LogParams {
    limit: Option<String>,
}

pub(super) async fn query_log(
    State(app): State<Arc<App>>,
    ApiQuery(params): ApiQuery<LogParams>,
) -> Result<Json<Vec<LogEntry>>> {
    let limit = number(params.limit.map(Value::String).as_ref())?.unwrap_or(100).clamp(1, 1000);
    Ok(Json(app.state.recent_log(limit)?))
}
