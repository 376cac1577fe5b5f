//! kill -9 during writes (issue 12, "Tests"): writers save queries and connections through our
//! API and Workspace's native protocol as fast as they can, the server is killed with SIGKILL
//! at a random moment, and after a restart every write it acknowledged is there. Native saves
//! are transactions: no Workspace connection without a query, no link without a query.

use crate::load::spawn_server;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ROUNDS: usize = 4;
const WRITERS: usize = 6;

#[derive(Default)]
struct Acknowledged {
    queries: Vec<i64>,
    connections: Vec<String>,
    native: Vec<i64>,
}

async fn write_until_killed(
    port: u16,
    writer: usize,
    round: usize,
    db: String,
    acked: Arc<Mutex<Acknowledged>>,
) {
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    for i in 0.. {
        let result = match i % 3 {
            0 => client
                .post(format!("{base}/api/v1/queries"))
                .json(&json!({"connection": "base", "name": format!("q-{round}-{writer}-{i}"), "sql": format!("select {i}")}))
                .send()
                .await,
            1 => client
                .post(format!("{base}/api/v1/connections"))
                .json(&json!({"name": format!("c-{round}-{writer}-{i}"), "kind": "sqlite", "path": db}))
                .send()
                .await,
            _ => client
                .post(format!("{base}/sql/database"))
                .header("authorization", "Bearer durable-user")
                .json(&json!({"database_type": "sqlite", "username": "SQLITE", "password": "SQLITE",
                              "host": "SQLITE", "name": format!("n-{round}-{writer}-{i}"), "database": db,
                              "query": "select 1"}))
                .send()
                .await,
        };
        let Ok(response) = result else { return };
        if response.status().as_u16() != 201 {
            // Cut off mid-answer by the kill, or a real failure: either way not acknowledged.
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            assert!(text.is_empty() || status.is_server_error() || status == 201, "{status} {text}");
            continue;
        }
        let Ok(body) = response.json::<Value>().await else { return };
        let mut acked = acked.lock().unwrap();
        match i % 3 {
            0 => acked.queries.push(body["id"].as_i64().unwrap()),
            1 => acked.connections.push(body["name"].as_str().unwrap().to_string()),
            _ => acked.native.push(body["id"].as_i64().unwrap()),
        }
    }
}

async fn get(port: u16, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .header("authorization", "Bearer durable-user")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_writes_loses_no_acknowledged_write() {
    let _serial = crate::support::serial().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = dir.path().join("items.db");
    rusqlite::Connection::open(&db).unwrap().execute_batch("create table t (x integer)").unwrap();
    let db = db.to_string_lossy().to_string();
    let (mut total_acked, mut total_lost) = (0usize, 0usize);
    let mut server = spawn_server(&[], &data);
    crate::load::add_sqlite(server.port, "base", std::path::Path::new(&db)).await;
    for round in 0..ROUNDS {
        let acked = Arc::new(Mutex::new(Acknowledged::default()));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| tokio::spawn(write_until_killed(server.port, w, round, db.clone(), acked.clone())))
            .collect();
        // A different moment each round.
        tokio::time::sleep(Duration::from_millis(400 + 350 * round as u64)).await;
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        for w in writers {
            w.await.unwrap();
        }

        // Half-made native saves would show here, before anything could clean up.
        let state = rusqlite::Connection::open(data.join("state.db")).unwrap();
        let count = |sql: &str| state.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(
            count("SELECT count(*) FROM ws_connections c WHERE NOT EXISTS (SELECT 1 FROM ws_queries q WHERE q.ws_connection_id = c.id)"),
            0,
            "a Workspace connection without a query survived the kill"
        );
        assert_eq!(
            count("SELECT count(*) FROM connections WHERE name LIKE 'workspace-%' AND name NOT IN (SELECT link FROM ws_queries)"),
            0,
            "a link without a query survived the kill"
        );
        drop(state);

        server = spawn_server(&[], &data);
        let queries = get(server.port, "/api/v1/queries").await;
        let connections = get(server.port, "/api/v1/connections").await;
        let native = get(server.port, "/sql/databases").await;
        let has =
            |list: &Value, key: &str, value: Value| list.as_array().unwrap().iter().any(|v| v[key] == value);
        let acked = acked.lock().unwrap();
        let mut lost = Vec::new();
        lost.extend(
            acked.queries.iter().filter(|id| !has(&queries, "id", json!(id))).map(|id| format!("query {id}")),
        );
        lost.extend(
            acked
                .connections
                .iter()
                .filter(|n| !has(&connections, "name", json!(n)))
                .map(|n| format!("connection {n}")),
        );
        lost.extend(
            acked.native.iter().filter(|id| !has(&native, "id", json!(id))).map(|id| format!("native {id}")),
        );
        let round_acked = acked.queries.len() + acked.connections.len() + acked.native.len();
        assert!(round_acked > 0, "round {round}: nothing was written before the kill");
        total_acked += round_acked;
        total_lost += lost.len();
        assert!(lost.is_empty(), "round {round}: acknowledged writes lost after kill -9: {lost:?}");
    }
    crate::support::report(&format!(
        "kill -9: {ROUNDS} rounds, {total_acked} acknowledged writes, {total_lost} lost"
    ));
}
