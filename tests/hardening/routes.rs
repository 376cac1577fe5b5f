//! Every route the server answers, generated rather than listed by hand: our API from the
//! OpenAPI document it serves, Workspace's two protocols from their routers' source
//! (`src/native_connector/mod.rs`, `src/custom_backend/mod.rs`), and the MCP endpoint. A route
//! added there is fuzzed and size-checked here without touching this file.

use crate::common::TestServer;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    /// With `{id}`-style placeholders.
    pub path: String,
}

impl Route {
    pub fn takes_body(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PUT" | "PATCH")
    }

    /// The path with each placeholder filled in by `fill`.
    pub fn concrete(&self, fill: &str) -> String {
        let mut out = String::new();
        let mut rest = self.path.as_str();
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').map(|e| start + e + 1).unwrap_or(rest.len());
            out.push_str(fill);
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    }
}

pub async fn all(s: &TestServer) -> Vec<Route> {
    let mut routes = Vec::new();
    let (status, _, doc) = s.get("/openapi.json").await;
    assert_eq!(status, 200);
    for (path, item) in doc["paths"].as_object().expect("OpenAPI paths") {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                routes.push(Route { method: method.to_uppercase(), path: path.clone() });
            }
        }
    }
    routes.push(Route { method: "GET".into(), path: "/openapi.json".into() });
    let root = env!("CARGO_MANIFEST_DIR");
    for file in ["src/native_connector/mod.rs", "src/custom_backend/mod.rs"] {
        let source = std::fs::read_to_string(format!("{root}/{file}")).unwrap();
        routes.extend(from_router_source(&source));
    }
    for method in ["GET", "POST", "DELETE"] {
        routes.push(Route { method: method.into(), path: "/mcp".into() });
    }
    routes.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
    routes.dedup();
    assert!(routes.len() >= 40, "the route list looks short: {routes:?}");
    routes
}

/// Routes declared as `.route("path", get(..).post(..))` or `.route(&format!("{base}/..."), ..)`
/// with `base` looping over `for base in [..]`.
fn from_router_source(source: &str) -> Vec<Route> {
    let bases: Vec<String> = source
        .lines()
        .find(|l| l.trim_start().starts_with("for base in"))
        .map(|l| quoted(l).collect())
        .unwrap_or_default();
    let mut routes = Vec::new();
    for line in source.lines().filter(|l| l.contains(".route(")) {
        let paths: Vec<String> = if line.contains("{base}") {
            let tail = line.split("{base}").nth(1).unwrap_or_default();
            let tail = tail.split('"').next().unwrap_or_default().replace("{{", "{").replace("}}", "}");
            bases.iter().map(|b| format!("{b}{tail}")).collect()
        } else {
            quoted(line).take(1).collect()
        };
        for method in ["get", "post", "put", "patch", "delete"] {
            let called = ["(", ".", " "].iter().any(|before| line.contains(&format!("{before}{method}(")));
            if called {
                for path in &paths {
                    routes.push(Route { method: method.to_uppercase(), path: path.clone() });
                }
            }
        }
    }
    routes
}

fn quoted(line: &str) -> impl Iterator<Item = String> + '_ {
    line.split('"').skip(1).step_by(2).map(str::to_string)
}

/// Whether `body` is `{"detail": "<non-empty text>"}`.
/// Grid routes answer failures in band: Workspace turns any non-2xx from them into a blank
/// grid with no message (`getSSRRows`, `getDatabaseRows`), so they answer 200 with an `error`
/// string the grid shows (docs/workspace.md).
pub fn answers_in_band(method_and_path: &str) -> bool {
    let Some(path) = method_and_path.strip_prefix("POST ") else { return false };
    let path = path.split([' ', ':', '?']).next().unwrap_or_default();
    ["/sql/query/", "/snowflake/query/", "/widgets/queries/"].iter().any(|p| path.starts_with(p))
        || path == "/widgets/table/rows"
}

/// A 200 whose JSON carries a non-empty `error` string: an in-band grid failure.
pub fn is_in_band_error(body: &str) -> bool {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(|e| !e.is_empty()))
        .unwrap_or(false)
}

pub fn is_detail(body: &str) -> bool {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("detail").and_then(Value::as_str).map(|d| !d.is_empty()))
        .unwrap_or(false)
}
