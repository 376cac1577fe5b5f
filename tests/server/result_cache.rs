//! The opt-in result cache of saved queries (`result_cache.rs`, `/api/v1/queries/{id}/cache`):
//! hits and misses said in `X-Cache` (on the API's runs and on the dashboard widgets), the TTL, the size bound, the bypass, never for a
//! connection that may write, and every bad policy answered with a `{"detail"}`.

use crate::common::*;
use serde_json::{json, Value};
use std::time::Duration;

async fn run(s: &TestServer, id: i64, no_cache: bool) -> (u16, Option<String>, String) {
    let mut request = s.client.post(s.at(&format!("/api/v1/queries/{id}/run")));
    if no_cache {
        request = request.header("cache-control", "no-cache");
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let cache = response.headers().get("x-cache").map(|v| v.to_str().unwrap().to_string());
    (status, cache, response.text().await.unwrap())
}

fn add_item(db: &std::path::Path, id: i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute("INSERT INTO items (id, name, qty) VALUES (?1, 'new', 1)", [id]).unwrap();
}

async fn saved(s: &TestServer, connection: &str) -> i64 {
    let (status, _, query) = s
        .post(
            "/api/v1/queries",
            json!({"connection": connection, "name": "count", "sql": "select count(*) as n from items"}),
        )
        .await;
    assert_eq!(status, 201, "{query}");
    query["id"].as_i64().unwrap()
}

async fn put_policy(s: &TestServer, id: i64, policy: Value) -> (u16, Value) {
    let response =
        s.client.put(s.at(&format!("/api/v1/queries/{id}/cache"))).json(&policy).send().await.unwrap();
    let (status, _, body) = into_parts(response).await;
    (status, body)
}

#[tokio::test]
async fn a_cached_saved_query_answers_from_the_cache_until_its_ttl() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    s.add_sqlite("shop", &db, true).await;
    let id = saved(&s, "shop").await;
    // Without a policy: a plain run, no X-Cache.
    assert_eq!(run(&s, id, false).await, (200, None, r#"[{"n":3}]"#.into()));

    let (status, policy) = put_policy(&s, id, json!({"ttl_seconds": 2, "max_bytes": 1000})).await;
    assert_eq!(status, 200, "{policy}");
    assert_eq!(
        s.get(&format!("/api/v1/queries/{id}/cache")).await.2,
        json!({"ttl_seconds": 2, "max_bytes": 1000})
    );
    assert_eq!(run(&s, id, false).await, (200, Some("miss".into()), r#"[{"n":3}]"#.into()));
    add_item(&db, 100);
    // The database changed, the cache answers what it kept.
    assert_eq!(run(&s, id, false).await, (200, Some("hit".into()), r#"[{"n":3}]"#.into()));
    // The bypass reads the database and refreshes the entry.
    assert_eq!(run(&s, id, true).await, (200, Some("miss".into()), r#"[{"n":4}]"#.into()));
    add_item(&db, 101);
    assert_eq!(run(&s, id, false).await, (200, Some("hit".into()), r#"[{"n":4}]"#.into()));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(run(&s, id, false).await, (200, Some("miss".into()), r#"[{"n":5}]"#.into()));

    // Removing the policy drops what was kept.
    let response = s.client.delete(s.at(&format!("/api/v1/queries/{id}/cache"))).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(s.app.results.bytes(), 0);
    assert_eq!(run(&s, id, false).await, (200, None, r#"[{"n":5}]"#.into()));
    assert_eq!(s.get(&format!("/api/v1/queries/{id}/cache")).await.0, 404);
}

/// A widget's GET as a dashboard refresh sends it: `useJsonData` builds the URL through
/// `cleanSearchParams` (here with no params: the query has none) and sends no cache header.
async fn widget(s: &TestServer, id: i64) -> (u16, Option<String>, String) {
    let response = s.client.get(s.at(&format!("/widgets/queries/{id}"))).send().await.unwrap();
    let status = response.status().as_u16();
    let cache = response.headers().get("x-cache").map(|v| v.to_str().unwrap().to_string());
    (status, cache, response.text().await.unwrap())
}

#[tokio::test]
async fn dashboard_widgets_of_a_cached_query_answer_from_the_cache() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    s.add_sqlite("shop", &db, true).await;
    let table = saved(&s, "shop").await;
    let (status, _, metric) = s
        .post(
            "/api/v1/queries",
            json!({"connection": "shop", "name": "stock", "sql": "select count(*) as n from items",
                   "display": {"type": "metric", "value": "n", "label": "Items"}}),
        )
        .await;
    assert_eq!(status, 201, "{metric}");
    let metric = metric["id"].as_i64().unwrap();
    for id in [table, metric] {
        assert_eq!(put_policy(&s, id, json!({"ttl_seconds": 60, "max_bytes": 10_000})).await.0, 200);
    }

    assert_eq!(widget(&s, table).await, (200, Some("miss".into()), r#"[{"n":3}]"#.into()));
    let (status, cache, tile) = widget(&s, metric).await;
    assert_eq!((status, cache.as_deref()), (200, Some("miss")), "{tile}");
    assert_eq!(serde_json::from_str::<Value>(&tile).unwrap()["value"], 3);
    add_item(&db, 100);
    // The refresh a dashboard makes every few minutes reads what was kept, not the database.
    assert_eq!(widget(&s, table).await, (200, Some("hit".into()), r#"[{"n":3}]"#.into()));
    let (status, cache, tile) = widget(&s, metric).await;
    assert_eq!((status, cache.as_deref()), (200, Some("hit")), "{tile}");
    assert_eq!(serde_json::from_str::<Value>(&tile).unwrap()["value"], 3);
    // The API's run caps rows differently, so it has an entry of its own and reads the database.
    assert_eq!(run(&s, table, false).await, (200, Some("miss".into()), r#"[{"n":4}]"#.into()));
    // A bypass from the widget route reads the database too.
    let response = s
        .client
        .get(s.at(&format!("/widgets/queries/{table}")))
        .header("cache-control", "no-cache")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers().get("x-cache").unwrap(), "miss");
    assert_eq!(response.text().await.unwrap(), r#"[{"n":4}]"#);
}

#[tokio::test]
async fn a_result_larger_than_max_bytes_is_not_kept() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    s.add_sqlite("shop", &db, true).await;
    let id = saved(&s, "shop").await;
    let (status, _) = put_policy(&s, id, json!({"ttl_seconds": 60, "max_bytes": 5})).await;
    assert_eq!(status, 200);
    assert_eq!(run(&s, id, false).await.1.as_deref(), Some("miss"));
    assert_eq!(run(&s, id, false).await.1.as_deref(), Some("miss"));
    assert_eq!(s.app.results.bytes(), 0);
}

#[tokio::test]
async fn writable_connections_are_never_cached() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    s.add_sqlite("rw", &db, false).await;
    let id = saved(&s, "rw").await;
    let (status, body) = put_policy(&s, id, json!({"ttl_seconds": 60, "max_bytes": 1000})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("may write"), "{body}");
    assert_eq!(run(&s, id, false).await.1, None);
}

#[tokio::test]
async fn a_connection_made_writable_later_stops_the_cache() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    s.add_sqlite("shop", &db, true).await;
    let id = saved(&s, "shop").await;
    assert_eq!(put_policy(&s, id, json!({"ttl_seconds": 60, "max_bytes": 1000})).await.0, 200);
    assert_eq!(run(&s, id, false).await.1.as_deref(), Some("miss"));
    let (status, _, body) = s.patch("/api/v1/connections/shop", json!({"read_only": false})).await;
    assert_eq!(status, 200, "{body}");
    add_item(&db, 100);
    assert_eq!(run(&s, id, false).await, (200, None, r#"[{"n":4}]"#.into()));
}

#[tokio::test]
async fn bad_policies_get_a_detail_and_change_nothing() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    s.add_sqlite("shop", &db, true).await;
    let id = saved(&s, "shop").await;
    for bad in [
        json!({"ttl_seconds": 0, "max_bytes": 1000}),
        json!({"ttl_seconds": 604801, "max_bytes": 1000}),
        json!({"ttl_seconds": 60, "max_bytes": 0}),
        json!({"ttl_seconds": 60, "max_bytes": 1u64 << 40}),
        json!({"ttl_seconds": -1, "max_bytes": 1000}),
        json!({"ttl_seconds": "60", "max_bytes": 1000}),
        json!({"ttl_seconds": 60}),
        json!({"ttl_seconds": 60, "max_bytes": 1000, "extra": true}),
        json!([1, 2]),
    ] {
        let (status, body) = put_policy(&s, id, bad.clone()).await;
        assert!((400..500).contains(&status), "{bad}: {status}");
        assert!(is_detail(&body), "{bad}: {body}");
    }
    let (status, body) = put_policy(&s, 999_999, json!({"ttl_seconds": 60, "max_bytes": 1000})).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(s.get(&format!("/api/v1/queries/{id}/cache")).await.0, 404);
    assert_eq!(s.get("/health").await.0, 200);
}

fn is_detail(body: &Value) -> bool {
    body.as_object().is_some_and(|o| o.len() == 1 && o["detail"].as_str().is_some_and(|d| !d.is_empty()))
}
