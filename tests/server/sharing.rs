//! One execution for identical concurrent reads (execution.rs, `Sharing`): the database sees one
//! statement, every caller gets the same bytes, writes are never shared, and a request that
//! arrives after the result started gets its own run.

use crate::common::*;
use dc_test_support::postgres::PostgresDb;
use futures::future::join_all;
use serde_json::{json, Value};
use std::time::Duration;

async fn body_of(s: &TestServer, request: Value) -> (u16, Vec<u8>) {
    let response = s.client.post(s.at("/api/v1/query")).json(&request).send().await.unwrap();
    (response.status().as_u16(), response.bytes().await.unwrap().to_vec())
}

/// How many backends are running a statement containing `marker` (the test role sees its own).
async fn executions(db: &PostgresDb, marker: &str) -> i64 {
    db.scalar(&format!(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE query LIKE '%{marker}%' AND state = 'active' AND pid <> pg_backend_pid()"
    ))
    .await
}

async fn add_postgres(s: &TestServer, db: &PostgresDb, name: &str, read_only: bool) {
    let connection = json!({"name": name, "kind": "postgres", "host": db.host, "port": db.port,
        "database": db.db, "user": db.user, "password": db.password, "tls": "prefer", "read_only": read_only});
    let (status, _, created) = s.post("/api/v1/connections", connection).await;
    assert_eq!(status, 201, "{created}");
}

#[tokio::test]
async fn identical_concurrent_reads_run_once_and_get_identical_bytes() {
    let Some(db) = PostgresDb::create().await else { return };
    let s = start().await;
    add_postgres(&s, &db, "pg", true).await;
    let marker = "dc_shared_marker_1";
    // The sleep runs once (a FROM subquery), the marker names the column so it is in the text.
    let sql = format!("SELECT n AS {marker} FROM (SELECT pg_sleep(1.5)) s, generate_series(1, 3) n");
    let request = json!({"connection": "pg", "sql": sql});
    // Eight callers, twice the per-connection query limit: joiners take no slot.
    let calls = join_all((0..8).map(|_| body_of(&s, request.clone())));
    let watch = async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        (executions(&db, marker).await, s.app.sharing.open_runs())
    };
    let (answers, (running, open)) = tokio::join!(calls, watch);
    assert_eq!(running, 1, "the database saw {running} executions of the shared statement");
    assert_eq!(open, 1);
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{}", String::from_utf8_lossy(body));
        assert_eq!(body, &answers[0].1);
    }
    let expected = format!(r#"[{{"{marker}":1}},{{"{marker}":2}},{{"{marker}":3}}]"#);
    assert_eq!(String::from_utf8_lossy(&answers[0].1), expected);
    // The run closed to joiners at its first event and left the registry.
    assert_eq!(s.app.sharing.open_runs(), 0);
    // Every caller still has its own log entry (the log is written in batches).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let logged =
            s.log().await.iter().filter(|e| e["sql"] == sql.as_str() && e["outcome"] == "ok").count();
        if logged == 8 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{logged} of 8 runs logged");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn writable_connections_and_different_requests_are_not_shared() {
    let Some(db) = PostgresDb::create().await else { return };
    let s = start().await;
    add_postgres(&s, &db, "rw", false).await;
    add_postgres(&s, &db, "ro", true).await;
    let marker = "dc_shared_marker_2";
    let sql = format!("SELECT 1 AS {marker} FROM (SELECT pg_sleep(1.5)) s");
    let requests = [
        json!({"connection": "rw", "sql": sql}),
        json!({"connection": "rw", "sql": sql}),
        json!({"connection": "ro", "sql": sql, "limit": 5}),
        json!({"connection": "ro", "sql": sql, "limit": 6}),
    ];
    let calls = join_all(requests.iter().map(|r| body_of(&s, r.clone())));
    let watch = async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        executions(&db, marker).await
    };
    let (answers, running) = tokio::join!(calls, watch);
    assert_eq!(running, 4, "writable runs and different limits must each run");
    assert!(answers.iter().all(|(status, _)| *status == 200));
}

#[tokio::test]
async fn a_shared_long_result_streams_to_every_caller_and_a_late_caller_runs_its_own() {
    let s = start().await;
    let db = items_db(s.dir.path(), 1);
    s.add_sqlite("shop", &db, true).await;
    let sql = "with recursive n(x) as (select 1 union all select x + 1 from n where x < 300000) \
               select x, 'row ' || x as label from n";
    let request = json!({"connection": "shop", "sql": sql, "limit": 1_000_000});
    let answers = join_all((0..4).map(|_| body_of(&s, request.clone()))).await;
    for (status, body) in &answers {
        assert_eq!(*status, 200);
        assert_eq!(body, &answers[0].1);
    }
    let rows: Vec<Value> = serde_json::from_slice(&answers[0].1).unwrap();
    assert_eq!(rows.len(), 300_000);
    // A caller that leaves does not stop the others.
    let leaver = s.client.post(s.at("/api/v1/query")).json(&request).send();
    let stayer = body_of(&s, request.clone());
    let ((), stayed) = tokio::join!(async { drop(leaver.await.unwrap()) }, stayer);
    assert_eq!(stayed, answers[0]);
    // After the result started, an identical request gets its own run with the same answer.
    let again = body_of(&s, request).await;
    assert_eq!(again, answers[0]);
    assert_eq!(s.app.sharing.open_runs(), 0);
}

#[tokio::test]
async fn a_shared_run_that_fails_gives_every_caller_the_error() {
    let Some(db) = PostgresDb::create().await else { return };
    let s = start().await;
    add_postgres(&s, &db, "pg", true).await;
    // Fails while running (not while planning), so all three are in the run when it fails.
    let sql = "SELECT 1 / (n - 1) AS boom FROM (SELECT pg_sleep(0.5)) s, generate_series(1, 1) n";
    let answers = join_all((0..3).map(|_| body_of(&s, json!({"connection": "pg", "sql": sql})))).await;
    for (status, body) in answers {
        assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
        let detail: Value = serde_json::from_slice(&body).unwrap();
        assert!(detail["detail"].as_str().unwrap().contains("division by zero"), "{detail}");
    }
}
