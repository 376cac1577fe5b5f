//! Every route of our API, with the shapes clients rely on.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn root_and_health_describe_the_server() {
    let s = start().await;
    let (status, _, body) = s.get("/").await;
    assert_eq!(status, 200);
    assert_eq!(body["name"], "data-connector");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["ephemeral_secrets"], true);
    let (status, _, body) = s.get("/health").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
}

#[tokio::test]
async fn connections_lifecycle() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    let created = s.add_sqlite("shop", &db, true).await;
    assert_eq!(created["kind"], "sqlite");
    assert_eq!(created["path"], db.to_str().unwrap());
    assert_eq!(created["read_only"], true);
    // SQLite has no logins: nothing to warn about, but the field is always there.
    assert_eq!(created["warnings"], json!([]));

    let (status, _, list) = s.get("/api/v1/connections").await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "shop");

    let (status, _, dup) =
        s.post("/api/v1/connections", json!({"name": "shop", "kind": "sqlite", "path": db})).await;
    assert_eq!(status, 409, "{dup}");
    assert!(dup["detail"].as_str().unwrap().contains("already exists"));

    let (status, _, test) = s.post("/api/v1/connections/shop/test", json!({})).await;
    assert_eq!(status, 200, "{test}");
    assert_eq!(test["ok"], true);
    assert!(test["server_version"].as_str().unwrap().starts_with("SQLite 3."));
    assert!(test["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(test["warnings"], json!([]));

    let (status, _, renamed) = s.patch("/api/v1/connections/shop", json!({"name": "store"})).await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["name"], "store");
    assert_eq!(renamed["path"], db.to_str().unwrap());
    assert_eq!(s.get("/api/v1/connections/shop").await.0, 404);
    let (status, _, got) = s.get("/api/v1/connections/store").await;
    assert_eq!((status, got["read_only"].as_bool()), (200, Some(true)));

    assert_eq!(s.delete("/api/v1/connections/store").await.0, 204);
    let (status, _, gone) = s.get("/api/v1/connections/store").await;
    assert_eq!(status, 404);
    assert!(gone["detail"].as_str().unwrap().contains("store"));
    assert_eq!(s.delete("/api/v1/connections/store").await.0, 404);
}

#[tokio::test]
async fn missing_or_unreadable_sqlite_files_are_clear_4xx() {
    let s = start().await;
    let missing = s.dir.path().join("nope.db");
    let (status, _, body) =
        s.post("/api/v1/connections", json!({"name": "x", "kind": "sqlite", "path": missing})).await;
    assert_eq!(status, 404, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("does not exist"), "{body}");

    let not_db = s.dir.path().join("text.db");
    std::fs::write(&not_db, "this is not a database, just some text that is long enough").unwrap();
    let (status, _, body) =
        s.post("/api/v1/connections", json!({"name": "x", "kind": "sqlite", "path": not_db})).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("not a database"), "{body}");

    let (status, _, body) =
        s.post("/api/v1/connections", json!({"name": "x", "kind": "sqlite", "path": "relative.db"})).await;
    assert_eq!(status, 400, "{body}");
    let (status, _, body) = s.post("/api/v1/connections", json!({"name": "x", "kind": "oracle"})).await;
    assert_eq!(status, 400, "{body}");
    let (status, _, body) = s
        .post(
            "/api/v1/connections",
            json!({"name": "x", "kind": "sqlite", "path": not_db, "pasword": "typo"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("pasword"), "{body}");
    let (status, _, body) =
        s.post("/api/v1/connections", json!({"name": "../x", "kind": "sqlite", "path": not_db})).await;
    assert_eq!(status, 422, "{body}");
}

#[tokio::test]
async fn schema_browsing() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    s.add_sqlite("shop", &db, true).await;
    let (status, _, tables) = s.get("/api/v1/connections/shop/tables").await;
    assert_eq!(status, 200);
    assert_eq!(
        tables,
        json!([{"schema": "main", "name": "cheap", "kind": "view"}, {"schema": "main", "name": "items", "kind": "table"}])
    );
    let (status, _, columns) = s.get("/api/v1/connections/shop/tables/items/columns").await;
    assert_eq!(status, 200);
    assert_eq!(
        columns,
        json!([
            {"name": "id", "type": "INTEGER", "nullable": true},
            {"name": "name", "type": "TEXT", "nullable": false},
            {"name": "price", "type": "REAL", "nullable": true},
            {"name": "qty", "type": "INTEGER", "nullable": true}
        ])
    );
    let (status, _, body) = s.get("/api/v1/connections/shop/tables/nope/columns").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(s.get("/api/v1/connections/shop/databases").await.2, json!(["main"]));
    assert_eq!(s.get("/api/v1/connections/shop/schemas").await.2, json!(["main"]));
    assert_eq!(s.get("/api/v1/connections/nope/tables").await.0, 404);
}

#[tokio::test]
async fn query_by_post_and_get_in_three_formats() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    s.add_sqlite("shop", &db, true).await;
    let (status, headers, body) = s
        .query_text(json!({"connection": "shop", "sql": "select id, name from items where id <= ? order by id", "params": [2]}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["x-truncated"], "false");
    assert_eq!(body, r#"[{"id":1,"name":"item 1"},{"id":2,"name":"item 2"}]"#);

    let url = s.at("/api/v1/query?connection=shop&sql=select+id,+qty+from+items+order+by+id&limit=2");
    let csv = s.client.get(&url).header("accept", "text/csv").send().await.unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(csv.headers()["x-truncated"], "true");
    assert_eq!(csv.text().await.unwrap(), "id,qty\n1,1\n2,2\n");

    let nd = s.client.get(&url).header("accept", "application/x-ndjson").send().await.unwrap();
    assert_eq!(nd.headers()["content-type"], "application/x-ndjson");
    assert_eq!(nd.text().await.unwrap(), "{\"id\":1,\"qty\":1}\n{\"id\":2,\"qty\":2}\n");

    let refused = s.client.get(&url).header("accept", "application/xml").send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 406);

    let (status, _, body) =
        s.query_text(json!({"connection": "shop", "sql": "select nope from items"})).await;
    assert_eq!(status, 400);
    assert!(body.contains("no such column"), "{body}");
    let (status, _, body) =
        s.query_text(json!({"connection": "shop", "sql": "select ?", "params": []})).await;
    assert_eq!(status, 400, "{body}");
    let (status, _, _) = s.query_text(json!({"connection": "ghost", "sql": "select 1"})).await;
    assert_eq!(status, 404);
    let (status, _, body) = s.get("/api/v1/query?connection=shop").await;
    assert_eq!(status, 422, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("sql"), "{body}");
}

#[tokio::test]
async fn saved_queries_lifecycle_and_run() {
    let s = start().await;
    let db = items_db(s.dir.path(), 5);
    s.add_sqlite("shop", &db, true).await;
    let (status, _, saved) = s
        .post(
            "/api/v1/queries",
            json!({"connection": "shop", "name": "Top", "sql": "select id from items where id > ? order by id", "params": [3]}),
        )
        .await;
    assert_eq!(status, 201, "{saved}");
    let id = saved["id"].as_i64().unwrap();
    assert_eq!(saved["connection"], "shop");

    let (_, _, list) = s.get("/api/v1/queries").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, _, got) = s.get(&format!("/api/v1/queries/{id}")).await;
    assert_eq!((status, got["name"].as_str()), (200, Some("Top")));

    let run = s.client.post(s.at(&format!("/api/v1/queries/{id}/run"))).send().await.unwrap();
    assert_eq!(run.status().as_u16(), 200);
    assert_eq!(run.text().await.unwrap(), r#"[{"id":4},{"id":5}]"#);
    let run = s
        .client
        .post(s.at(&format!("/api/v1/queries/{id}/run")))
        .json(&json!({"params": [4], "format": "csv"}))
        .send()
        .await
        .unwrap();
    assert_eq!(run.text().await.unwrap(), "id\n5\n");

    let (status, _, patched) =
        s.patch(&format!("/api/v1/queries/{id}"), json!({"description": "the best ones"})).await;
    assert_eq!(status, 200);
    assert_eq!(patched["description"], "the best ones");
    assert_eq!(patched["sql"], saved["sql"]);

    let (status, _, bad) =
        s.post("/api/v1/queries", json!({"connection": "ghost", "name": "x", "sql": "select 1"})).await;
    assert_eq!(status, 404, "{bad}");
    let (status, _, bad) = s
        .post("/api/v1/queries", json!({"connection": "shop", "name": "x", "sql": "select 1; select 2"}))
        .await;
    assert_eq!(status, 403, "{bad}");

    assert_eq!(s.delete(&format!("/api/v1/queries/{id}")).await.0, 204);
    assert_eq!(s.get(&format!("/api/v1/queries/{id}")).await.0, 404);
    assert_eq!(s.post(&format!("/api/v1/queries/{id}/run"), json!({})).await.0, 404);
}

#[tokio::test]
async fn deleting_a_connection_deletes_its_saved_queries() {
    let s = start().await;
    let db = items_db(s.dir.path(), 1);
    s.add_sqlite("shop", &db, true).await;
    let (_, _, saved) =
        s.post("/api/v1/queries", json!({"connection": "shop", "name": "q", "sql": "select 1"})).await;
    assert_eq!(s.delete("/api/v1/connections/shop").await.0, 204);
    assert_eq!(s.get(&format!("/api/v1/queries/{}", saved["id"])).await.0, 404);
}

#[tokio::test]
async fn the_log_records_every_query() {
    let s = start().await;
    let db = items_db(s.dir.path(), 4);
    s.add_sqlite("shop", &db, true).await;
    s.query_text(json!({"connection": "shop", "sql": "select * from items"})).await;
    s.query_text(json!({"connection": "shop", "sql": "select * from items", "limit": 2})).await;
    s.query_text(json!({"connection": "shop", "sql": "select broken"})).await;
    s.query_text(json!({"connection": "shop", "sql": "delete from items"})).await;
    let log = s.log().await;
    let outcomes: Vec<(&str, u64, &str)> = log
        .iter()
        .map(|e| (e["sql"].as_str().unwrap(), e["rows"].as_u64().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("delete from items", 0, "refused"),
            ("select broken", 0, "error"),
            ("select * from items", 2, "truncated"),
            ("select * from items", 4, "ok"),
        ]
    );
    let entry = &log[1];
    assert_eq!(entry["connection"], "shop");
    assert_eq!(entry["source"], "api");
    assert!(entry["error"].as_str().unwrap().contains("no such column"));
    assert!(entry["at"].as_str().unwrap().ends_with('Z'));
    assert!(entry["duration_ms"].as_f64().unwrap() >= 0.0);
}

#[tokio::test]
async fn openapi_describes_every_route() {
    let s = start().await;
    let (status, _, doc) = s.get("/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/", &["get"][..]),
        ("/health", &["get"]),
        ("/api/v1/connections", &["get", "post"]),
        ("/api/v1/connections/{name}", &["get", "patch", "delete"]),
        ("/api/v1/connections/{name}/test", &["post"]),
        ("/api/v1/connections/{name}/databases", &["get"]),
        ("/api/v1/connections/{name}/schemas", &["get"]),
        ("/api/v1/connections/{name}/tables", &["get"]),
        ("/api/v1/connections/{name}/tables/{table}/columns", &["get"]),
        ("/api/v1/query", &["get", "post"]),
        ("/api/v1/queries", &["get", "post"]),
        ("/api/v1/queries/{id}", &["get", "patch", "delete"]),
        ("/api/v1/queries/{id}/run", &["post"]),
        ("/api/v1/queries/{id}/cache", &["get", "put", "delete"]),
        ("/api/v1/log", &["get"]),
    ] {
        let item = paths.get(path).unwrap_or_else(|| panic!("{path} is not documented"));
        for method in methods {
            assert!(item.get(*method).is_some(), "{method} {path} is not documented");
        }
    }
}

#[tokio::test]
async fn errors_are_always_detail_json() {
    let s = start().await;
    let (status, headers, body) = s.get("/no/such/route").await;
    assert_eq!(status, 404);
    assert_eq!(headers["content-type"], "application/json");
    assert!(body["detail"].is_string());

    let (status, _, body) = s.delete("/api/v1/query").await;
    assert_eq!(status, 405);
    assert!(body["detail"].is_string());

    let malformed = s
        .client
        .post(s.at("/api/v1/query"))
        .header("content-type", "application/json")
        .body("{\"connection\": ")
        .send()
        .await
        .unwrap();
    let (status, _, body) = into_parts(malformed).await;
    assert_eq!(status, 400);
    assert!(body["detail"].is_string(), "{body}");

    let (status, _, body) = s.post("/api/v1/query", json!({"connection": "x"})).await;
    assert_eq!(status, 422);
    assert!(body["detail"].as_str().unwrap().contains("sql"), "{body}");

    let no_type = s.client.post(s.at("/api/v1/query")).body("{}").send().await.unwrap();
    let (status, _, body) = into_parts(no_type).await;
    assert_eq!(status, 400);
    assert!(body["detail"].as_str().unwrap().contains("Content-Type"), "{body}");
}

#[tokio::test]
async fn limits_on_body_sql_rows_and_timeout_are_clear() {
    let s = start_with(|c| {
        c.limits.max_body_bytes = 4096;
        c.limits.max_sql_chars = 100;
        c.limits.max_rows = 1000;
    })
    .await;
    let db = items_db(s.dir.path(), 1);
    s.add_sqlite("shop", &db, true).await;
    let huge = "x".repeat(10_000);
    let (status, _, body) = s.post("/api/v1/query", json!({"connection": "shop", "sql": huge})).await;
    assert_eq!(status, 413, "{body}");
    assert!(body["detail"].is_string());

    let long_sql = format!("select 1 {}", " ".repeat(200));
    let (status, _, body) = s.post("/api/v1/query", json!({"connection": "shop", "sql": long_sql})).await;
    assert_eq!(status, 413, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("100 characters"));

    let (status, _, body) =
        s.post("/api/v1/query", json!({"connection": "shop", "sql": "select 1", "limit": 1001})).await;
    assert_eq!(status, 400, "{body}");
    let (status, _, body) =
        s.post("/api/v1/query", json!({"connection": "shop", "sql": "select 1", "timeout_ms": 0})).await;
    assert_eq!(status, 400, "{body}");
}
