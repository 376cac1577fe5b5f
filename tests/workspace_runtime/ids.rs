//! Ids are never reused, across restarts too: dashboards keep `database-<id>` and the absolute
//! `.../query/<id>` endpoint (`getDatabaseRows`), and `dc_saved_query_<id>`, for good, so an id
//! handed out again would point an old widget at another query.

use crate::common::*;
use crate::{Db, Ws};
use serde_json::json;
use std::path::Path;

async fn at(data: &Path) -> TestServer {
    let data = data.to_path_buf();
    start_with(move |c| c.data_dir = data).await
}

#[tokio::test]
async fn native_ids_are_never_reused_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = Db::sqlite(dir.path(), "ids");
    db.exec("CREATE TABLE t (id INTEGER)").await;
    let (first, second, connection) = {
        let s = at(&data).await;
        let ws = Ws::new(&s, "ids-user");
        let first = ws.save(&db, "First", "SELECT * FROM t").await;
        let (status, item) = ws.post(&format!("/sql/database/{first}"), json!({"name": "Second",
            "database": match &db { Db::Sqlite(p) => p.clone(), _ => unreachable!() }, "query": "SELECT 1 AS x"})).await;
        assert_eq!(status, 201, "{item}");
        let second = item["id"].as_i64().unwrap();
        // Delete the newest query, then the whole connection.
        assert_eq!(ws.call(reqwest::Method::DELETE, &format!("/sql/database/{second}"), None).await.0, 200);
        let connection = item["connection"].as_i64().unwrap();
        assert_eq!(
            ws.call(reqwest::Method::DELETE, &format!("/sql/connection/{connection}"), None).await.0,
            200
        );
        (first, second, connection)
    };
    let s = at(&data).await;
    let ws = Ws::new(&s, "ids-user");
    let (status, item) = ws.post("/sql/database", db.save_body("Third", "SELECT * FROM t")).await;
    assert_eq!(status, 201, "{item}");
    assert!(item["id"].as_i64().unwrap() > second.max(first), "{item}");
    assert!(item["connection"].as_i64().unwrap() > connection, "{item}");
    // The old widget's endpoint finds nothing, and says so in the grid.
    let page = ws.rows(second, json!({})).await;
    assert!(page["error"].as_str().unwrap().contains("no saved query"), "{page}");
}

#[tokio::test]
async fn saved_query_ids_are_never_reused_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let items = items_db(dir.path(), 3);
    let newest = {
        let s = at(&data).await;
        s.add_sqlite("shop", &items, true).await;
        let mut ids = Vec::new();
        for name in ["a", "b"] {
            let (status, _, saved) = s
                .post(
                    "/api/v1/queries",
                    json!({"connection": "shop", "name": name, "sql": "SELECT * FROM items"}),
                )
                .await;
            assert_eq!(status, 201, "{saved}");
            ids.push(saved["id"].as_i64().unwrap());
        }
        assert_eq!(s.delete(&format!("/api/v1/queries/{}", ids[1])).await.0, 204);
        ids[1]
    };
    let s = at(&data).await;
    let (status, _, saved) =
        s.post("/api/v1/queries", json!({"connection": "shop", "name": "c", "sql": "SELECT 1 AS one"})).await;
    assert_eq!(status, 201, "{saved}");
    assert!(saved["id"].as_i64().unwrap() > newest, "{saved}");
    let (_, _, widgets) = s.get("/widgets.json").await;
    assert!(widgets.get(format!("dc_saved_query_{newest}")).is_none());
    // A connection deleted and made again gets a new id too, so nothing keyed by it comes back.
    assert_eq!(s.delete("/api/v1/connections/shop").await.0, 204);
    s.add_sqlite("shop", &items, true).await;
    let (status, _, again) =
        s.post("/api/v1/queries", json!({"connection": "shop", "name": "d", "sql": "SELECT 2 AS two"})).await;
    assert_eq!(status, 201, "{again}");
    assert!(again["id"].as_i64().unwrap() > saved["id"].as_i64().unwrap());
}
