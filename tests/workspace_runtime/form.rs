//! The Connections widget's add-connection form as `FormParamElement` submits it: initial
//! values (every boolean `false`, `endpoint` and `button` inputs left out, others at `value`),
//! a toggled boolean as `"true"`/`"false"`, and a toast that shows only `message`/`error`.

use crate::common::*;
use serde_json::{json, Map, Value};

/// The form's JSON when the user fills in only `filled`, built from widgets.json exactly as
/// `FormParamElement`'s `initialFormValues` does.
pub(crate) async fn submitted(s: &TestServer, filled: Value) -> Value {
    let (_, _, widgets) = s.get("/widgets.json").await;
    let form = widgets["dc_connections"]["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "form")
        .unwrap()
        .clone();
    let mut values = Map::new();
    for input in form["inputParams"].as_array().unwrap() {
        let name = input["paramName"].as_str().unwrap().to_string();
        match input["type"].as_str().unwrap() {
            // `undefined`: JSON.stringify leaves the key out.
            "endpoint" | "button" => {}
            "boolean" => {
                values.insert(name, json!(false));
            }
            _ => {
                if let Some(value) = input.get("value") {
                    values.insert(name, value.clone());
                }
            }
        }
    }
    for (key, value) in filled.as_object().unwrap() {
        values.insert(key.clone(), value.clone());
    }
    Value::Object(values)
}

async fn submit(s: &TestServer, body: Value) -> (u16, Value) {
    let (status, _, answer) = s.post("/widgets/connections", body).await;
    (status, answer)
}

/// An untouched "Allow writes" makes a read-only connection: SPEC's safe default is what the
/// form sends when nobody flips anything.
#[tokio::test]
async fn an_untouched_form_adds_a_read_only_connection_with_a_message() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    let body = submitted(&s, json!({"name": "shop", "path": db})).await;
    assert_eq!(body["allow_writes"], json!(false), "{body}");
    assert!(body.get("submit").is_none() && body.get("port").is_none(), "{body}");
    let (status, answer) = submit(&s, body).await;
    assert_eq!(status, 200, "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(message.contains("shop") && message.contains("read-only"), "{message}");
    let (_, _, connection) = s.get("/api/v1/connections/shop").await;
    assert_eq!(connection["read_only"], true, "{connection}");
    // Even a stale form's explicit read_only: false does not make it writable.
    let body = submitted(&s, json!({"name": "stale", "path": db, "read_only": false})).await;
    assert_eq!(submit(&s, body).await.0, 200);
    assert_eq!(s.get("/api/v1/connections/stale").await.2["read_only"], true);
}

/// The toggle (`ToggleSelect`) sends `"true"`/`"false"` strings once touched; only "true"
/// allows writes, and the toast says so.
#[tokio::test]
async fn the_allow_writes_toggle_is_the_only_way_to_writes() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    let (_, _, widgets) = s.get("/widgets.json").await;
    let form = &widgets["dc_connections"]["params"][0];
    let toggle =
        form["inputParams"].as_array().unwrap().iter().find(|p| p["paramName"] == "allow_writes").unwrap();
    assert_eq!(toggle["type"], "boolean");
    assert_eq!(toggle["options"].as_array().unwrap().len(), 2, "an On/Off toggle needs exactly two options");
    let password =
        form["inputParams"].as_array().unwrap().iter().find(|p| p["paramName"] == "password").unwrap();
    assert!(password["description"].as_str().unwrap().contains("clear text"), "{password}");
    for (value, read_only) in [("false", true), ("true", false)] {
        let name = format!("toggled-{value}");
        let body = submitted(&s, json!({"name": name, "path": db, "allow_writes": value})).await;
        let (status, answer) = submit(&s, body).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["connection"]["read_only"], read_only, "{answer}");
        assert_eq!(answer["message"].as_str().unwrap().contains("writes"), !read_only, "{answer}");
    }
}

/// Failures carry `message` (the toast joins `message` and `error`; it never shows `detail`),
/// and `detail` for every other client; bad input is a 4xx and the server stays up.
#[tokio::test]
async fn form_failures_carry_a_message_the_toast_shows() {
    let s = start().await;
    let missing = s.dir.path().join("missing.db");
    let cases = [
        (json!({"name": "", "path": "/tmp/x.db"}), "name"),
        (json!({"name": "nofile", "path": missing}), "missing.db"),
        (json!({"name": "badport", "kind": "postgres", "host": "127.0.0.1", "port": "abc"}), "port"),
        (json!({"name": "bad/name", "path": missing}), "name"),
    ];
    for (filled, says) in cases {
        let body = submitted(&s, filled.clone()).await;
        let (status, answer) = submit(&s, body).await;
        assert!((400..500).contains(&status), "{filled}: {status} {answer}");
        let message = answer["message"].as_str().unwrap_or_else(|| panic!("no message: {answer}"));
        assert!(message.contains(says), "{filled}: {message:?}");
        assert_eq!(answer["detail"].as_str(), Some(message));
    }
    let (status, answer) = submit(&s, json!("not a form")).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["message"].is_string());
    assert_eq!(s.get("/health").await.0, 200);
    assert_eq!(s.get("/api/v1/connections").await.2, json!([]));
}
