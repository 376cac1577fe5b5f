//! Route A, replayed as `api/dataConnectors.ts` and the Data Connector dialogs send it.

use crate::common::*;
use crate::Ws;
use dc_test_support::mysql::MysqlDb;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const SQL_ITEM_KEYS: &[&str] = &[
    "id",
    "connection",
    "name",
    "database",
    "database_type",
    "query",
    "category",
    "subCategory",
    "description",
];

fn keys(item: &Value) -> BTreeSet<String> {
    item.as_object().unwrap().keys().cloned().collect()
}

fn assert_sql_item(item: &Value) {
    let expected: BTreeSet<String> = SQL_ITEM_KEYS.iter().map(|k| k.to_string()).collect();
    assert_eq!(keys(item), expected, "{item}");
    assert!(item["id"].is_i64() && item["connection"].is_i64(), "{item}");
}

/// The body of Form2's `addDatabase("database", {...data, ...values})` for SQLite.
fn sqlite_save(path: &std::path::Path, name: &str, query: &str) -> Value {
    json!({
        "database_type": "sqlite", "username": "SQLITE", "password": "SQLITE", "host": "SQLITE",
        "name": name, "database": path, "query": query,
        "category": "My Data", "sub_category": "Prices", "description": "first"
    })
}

#[tokio::test]
async fn missing_or_malformed_bearer_is_401_detail() {
    let s = start().await;
    for path in ["/sql/databases", "/snowflake/databases"] {
        let (status, _, body) = s.get(path).await;
        assert_eq!(status, 401, "{body}");
        assert!(body["detail"].as_str().unwrap().contains("Bearer"), "{body}");
    }
    let response =
        s.client.get(s.at("/sql/databases")).header("Authorization", "Basic abc").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let ws = Ws::new(&s, "has space");
    assert_eq!(ws.get("/sql/databases").await.0, 401);
    // GET / stays open: Workspace probes it without the header.
    let (status, _, body) = s.get("/").await;
    assert_eq!(status, 200);
    assert!(body["version"].as_str().unwrap().split('.').count() == 3);
}

#[tokio::test]
async fn sqlite_lifecycle_as_the_frontend_drives_it() {
    let s = start().await;
    let db = items_db(s.dir.path(), 30);
    let ws = Ws::new(&s, "6f1b6a53-8c5e-4c1e-9f55-1a2b3c4d5e6f");

    // Form1: SQLite sends the placeholder credentials; nothing to list before the path.
    let (status, body) = ws
        .post(
            "/sql/databases",
            json!({"database_type": "sqlite", "username": "SQLITE", "password": "SQLITE", "host": "SQLITE"}),
        )
        .await;
    assert_eq!((status, body.clone()), (200, json!([])));
    assert_eq!(ws.get("/sql/databases").await, (200, json!([])));

    // Form2: save the connection with its first query, then re-read the list.
    let (status, first) = ws.post("/sql/database", sqlite_save(&db, "Items", "SELECT * FROM items")).await;
    assert_eq!(status, 201, "{first}");
    let (status, list) = ws.get("/sql/databases").await;
    assert_eq!(status, 200);
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 1);
    let item = &list[0];
    assert_sql_item(item);
    assert_eq!(item["name"], "Items");
    assert_eq!(item["database"], db.to_str().unwrap());
    assert_eq!(item["database_type"], "sqlite");
    assert_eq!(item["query"], "SELECT * FROM items");
    assert_eq!(item["category"], "My Data");
    assert_eq!(item["subCategory"], "Prices");
    assert_eq!(item["description"], "first");
    let (id, connection) = (item["id"].as_i64().unwrap(), item["connection"].as_i64().unwrap());

    // The credentials became a named connection of our API, read-only, named after the id.
    let (status, _, named) = s.get(&format!("/api/v1/connections/workspace-{connection}")).await;
    assert_eq!(status, 200, "{named}");
    assert_eq!((named["kind"].as_str(), named["read_only"].as_bool()), (Some("sqlite"), Some(true)));

    // The edit dialog lists databases for the saved item.
    assert_eq!(ws.get(&format!("/sql/databases/{id}")).await, (200, json!([db.to_str().unwrap()])));

    // addDatabaseExisting: Form2's values only (no credentials).
    let (status, second) = ws
        .post(
            &format!("/sql/database/{id}"),
            json!({"name": "Cheap", "database": db, "query": "SELECT * FROM cheap", "category": "", "sub_category": "", "description": ""}),
        )
        .await;
    assert_eq!(status, 201, "{second}");
    assert_sql_item(&second);
    assert_eq!(second["connection"], connection);

    // addDatabaseSaveAs: {name, category, sub_category, description, query}.
    let (status, third) = ws
        .post(
            &format!("/sql/database/{id}/saveas"),
            json!({"name": "Copy", "category": "Other", "sub_category": "x", "description": "d", "query": "SELECT id FROM items"}),
        )
        .await;
    assert_eq!(status, 201, "{third}");
    assert_eq!((third["connection"].as_i64(), third["database"].as_str()), (Some(connection), db.to_str()));

    // updateDatabaseNonsensitive and updateDatabaseQuery.
    let (status, updated) = ws
        .patch(
            &format!("/sql/database/{id}/nonsensitive"),
            json!({"name": "Items renamed", "database": db, "query": "SELECT id, name FROM items", "category": "My Data", "sub_category": "", "description": "d2"}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (updated["name"].as_str(), updated["description"].as_str()),
        (Some("Items renamed"), Some("d2"))
    );
    let (status, updated) =
        ws.patch(&format!("/sql/database/{id}/query"), json!({"query": "SELECT id, price FROM items"})).await;
    assert_eq!((status, updated["query"].as_str()), (200, Some("SELECT id, price FROM items")));
    let (status, refused) =
        ws.patch(&format!("/sql/database/{id}/query"), json!({"query": "DELETE FROM items"})).await;
    assert!(status >= 400, "{refused}");
    assert!(refused["detail"].is_string());

    // The widget's call: POST /sql/query/{id} with AG Grid's request.
    let request = json!({"request": {"startRow": 0, "endRow": 5, "rowGroupCols": [], "valueCols": [], "pivotCols": [],
        "pivotMode": false, "groupKeys": [], "filterModel": {}, "sortModel": [{"colId": "id", "sort": "desc"}]}});
    let (status, page) = ws.post(&format!("/sql/query/{id}"), request).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(keys(&page), ["data", "rows", "schema", "timestamp"].iter().map(|k| k.to_string()).collect());
    assert_eq!(page["rows"], 30);
    assert_eq!(page["data"].as_array().unwrap().len(), 5);
    assert_eq!(page["data"][0], json!({"id": 30, "price": 15.0}));
    assert_eq!(page["schema"], json!({"id": "INTEGER", "price": "REAL"}));
    assert!(page["timestamp"].as_u64().unwrap() > 1_600_000_000);
    // The Copilot snapshot call sends no paging fields beyond the defaults; a missing body works.
    let (status, all) = ws.post(&format!("/sql/query/{id}"), json!({})).await;
    assert_eq!((status, all["data"].as_array().map(Vec::len)), (200, Some(30)));

    // deleteDatabase, then deleteDatabaseConnection removes the rest and the credentials.
    let (status, _) = ws.delete(&format!("/sql/database/{}", third["id"])).await;
    assert_eq!(status, 200);
    assert_eq!(ws.get("/sql/databases").await.1.as_array().unwrap().len(), 2);
    let (status, deleted) = ws.delete(&format!("/sql/connection/{connection}")).await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(ws.get("/sql/databases").await, (200, json!([])));
    assert_eq!(s.get(&format!("/api/v1/connections/workspace-{connection}")).await.0, 404);
    assert_eq!(ws.delete(&format!("/sql/connection/{connection}")).await.0, 404);
}

#[tokio::test]
async fn users_never_see_each_other() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    let alice = Ws::new(&s, "alice-uuid");
    let bob = Ws::new(&s, "bob-uuid");
    let (status, item) = alice.post("/sql/database", sqlite_save(&db, "Mine", "SELECT * FROM items")).await;
    assert_eq!(status, 201, "{item}");
    let (id, connection) = (item["id"].as_i64().unwrap(), item["connection"].as_i64().unwrap());
    assert_eq!(bob.get("/sql/databases").await, (200, json!([])));
    assert_eq!(bob.get("/snowflake/databases").await, (200, json!([])));
    let request = json!({"request": {"startRow": 0, "endRow": 10}});
    // The grid shows only a 200 (`getDatabaseRows`), so "not found" is its error row there.
    for (status, body) in [
        bob.post(&format!("/sql/query/{id}"), request.clone()).await,
        alice.post(&format!("/snowflake/query/{id}"), request.clone()).await,
    ] {
        assert_eq!(status, 200, "{body}");
        assert!(body["data"][0]["error"].as_str().unwrap().contains("no saved query"), "{body}");
    }
    for (status, body) in [
        bob.get(&format!("/sql/databases/{id}")).await,
        bob.post(&format!("/sql/database/{id}"), json!({"name": "x", "database": db, "query": "SELECT 1"}))
            .await,
        bob.post(&format!("/sql/database/{id}/saveas"), json!({"name": "x", "query": "SELECT 1"})).await,
        bob.patch(&format!("/sql/database/{id}/nonsensitive"), json!({"name": "x"})).await,
        bob.patch(&format!("/sql/database/{id}/query"), json!({"query": "SELECT 1"})).await,
        bob.delete(&format!("/sql/database/{id}")).await,
        bob.delete(&format!("/sql/connection/{connection}")).await,
    ] {
        assert_eq!(status, 404, "{body}");
        assert!(body["detail"].is_string());
    }
    let (status, page) = alice.post(&format!("/sql/query/{id}"), request).await;
    assert_eq!((status, page["rows"].as_u64()), (200, Some(3)));
    assert_eq!(alice.get("/sql/databases").await.1.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_bodies_get_detail() {
    let s = start().await;
    let ws = Ws::new(&s, "u1");
    let (status, body) = ws.post("/sql/database", json!({"database_type": "oracle", "name": "x"})).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = ws
        .post("/sql/database", json!({"database_type": "sqlite", "username": "SQLITE", "password": "SQLITE", "host": "SQLITE", "name": "x", "query": "SELECT 1"}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("database"));
    let missing = s.dir.path().join("missing.db");
    let (status, body) = ws.post("/sql/database", sqlite_save(&missing, "x", "SELECT 1")).await;
    assert_eq!(status, 404, "{body}");
    // A failed save leaves nothing behind.
    assert_eq!(ws.get("/sql/databases").await, (200, json!([])));
    let (_, _, connections) = s.get("/api/v1/connections").await;
    assert_eq!(connections, json!([]));
    let (status, body) =
        ws.call(reqwest::Method::POST, "/sql/query/1", Some(Value::String("{".into()))).await;
    assert_eq!(status, 200, "the grid shows failures as an error row: {body}");
    assert!(body["error"].as_str().unwrap().contains("JSON"), "{body}");
}

#[tokio::test]
async fn mysql_lists_databases_saves_and_serves_pages() {
    let Some(f) = MysqlDb::create().await else { return };
    f.exec_all(&["CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20)); INSERT INTO t VALUES (1,'a'),(2,'b'),(3,'c');"]).await;
    let s = start().await;
    let ws = Ws::new(&s, "mysql-user");
    let creds =
        json!({"database_type": "mysql", "username": f.user, "password": f.password, "host": f.address()});
    let (status, dbs) = ws.post("/sql/databases", creds.clone()).await;
    assert_eq!(status, 200, "{dbs}");
    assert!(dbs.as_array().unwrap().iter().any(|d| d == &json!(f.db)), "{dbs}");
    let (status, body) = ws
        .post(
            "/sql/databases",
            json!({"database_type": "mysql", "username": f.user, "password": "wrong", "host": f.address()}),
        )
        .await;
    assert!(status >= 400, "{body}");
    assert!(!body["detail"].as_str().unwrap().contains("wrong"));

    let mut save = creds.clone();
    save.as_object_mut().unwrap().extend(
        json!({"name": "T", "database": f.db, "query": "SELECT * FROM t", "category": "My Data", "sub_category": "", "description": ""})
            .as_object()
            .unwrap()
            .clone(),
    );
    let (status, item) = ws.post("/sql/database", save).await;
    assert_eq!(status, 201, "{item}");
    assert_eq!(item["database_type"], "mysql");
    let id = item["id"].as_i64().unwrap();
    let (status, dbs) = ws.get(&format!("/sql/databases/{id}")).await;
    assert!(status == 200 && dbs.as_array().unwrap().contains(&json!(f.db)), "{dbs}");
    let request = json!({"request": {"startRow": 1, "endRow": 3, "sortModel": [{"colId": "name", "sort": "asc"}],
        "filterModel": {"name": {"filterType": "text", "type": "notEqual", "filter": "A"}}}});
    let (status, page) = ws.post(&format!("/sql/query/{id}"), request).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["rows"], 2);
    assert_eq!(page["data"], json!([{"id": 3, "name": "c"}]));
    assert_eq!(page["schema"]["id"], "INT");
    // The password lives in the secret store, never in the state database.
    let state = std::fs::read(s.dir.path().join("data").join("state.db")).unwrap();
    assert!(!String::from_utf8_lossy(&state).contains(&f.password));
    ws.delete(&format!("/sql/database/{id}")).await;
    assert_eq!(s.get("/api/v1/connections").await.2, json!([]));
}
