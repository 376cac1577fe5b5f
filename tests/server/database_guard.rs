//! The database side of issue 12 over HTTP: privilege warnings in the connection answers, a NUL
//! in PostgreSQL SQL as a 400, and the memory caps as a 400 naming the column; every refusal is
//! `{"detail"}` and the server keeps serving.

use crate::common::*;
use dc_test_support::mysql::MysqlDb;
use dc_test_support::postgres::PostgresDb;
use serde_json::json;

#[tokio::test]
async fn a_root_login_is_warned_about_when_created_and_tested() {
    let Some(db) = MysqlDb::create().await else { return };
    let s = start().await;
    let mut connection = json!({"name": "root", "kind": "mysql", "host": db.host, "port": db.port,
        "database": db.db, "user": db.admin_user, "tls": "prefer"});
    if let Some(password) = &db.admin_password {
        connection["password"] = json!(password);
    }
    let (status, _, created) = s.post("/api/v1/connections", connection).await;
    assert_eq!(status, 201, "{created}");
    let warnings = created["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w.as_str().unwrap().contains("FILE")), "{created}");
    let (status, _, test) = s.post("/api/v1/connections/root/test", json!({})).await;
    assert_eq!(status, 200, "{test}");
    assert_eq!(test["warnings"], created["warnings"]);
    // Root cannot write a file through a read-only connection, whatever its privileges.
    let (status, _, refused) = s
        .post(
            "/api/v1/query",
            json!({"connection": "root", "sql": "select 1 into --\u{1}\noutfile '/tmp/dc_http_x'"}),
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused["detail"].as_str().unwrap().contains("OUTFILE"), "{refused}");
    assert!(!std::path::Path::new("/tmp/dc_http_x").exists());
}

#[tokio::test]
async fn a_nul_in_postgres_sql_is_a_400_and_caps_name_the_column() {
    let Some(db) = PostgresDb::create().await else { return };
    let s = start_with(|config| {
        config.limits.max_value_bytes = 1000;
        config.limits.max_row_bytes = 1500;
    })
    .await;
    let connection = json!({"name": "pg", "kind": "postgres", "host": db.host, "port": db.port,
        "database": db.db, "user": db.user, "password": db.password, "tls": "prefer"});
    let (status, _, created) = s.post("/api/v1/connections", connection).await;
    assert_eq!(status, 201, "{created}");

    let (status, _, nul) =
        s.post("/api/v1/query", json!({"connection": "pg", "sql": "select 'a\u{0}b'"})).await;
    assert_eq!(status, 400, "{nul}");
    assert!(nul["detail"].as_str().unwrap().contains("NUL"), "{nul}");

    let (status, _, big) =
        s.post("/api/v1/query", json!({"connection": "pg", "sql": "select repeat('x', 5000) as big"})).await;
    assert_eq!(status, 400, "{big}");
    let detail = big["detail"].as_str().unwrap();
    assert!(detail.contains("\"big\"") && detail.contains("--max-value-bytes"), "{big}");

    let (status, _, fine) =
        s.post("/api/v1/query", json!({"connection": "pg", "sql": "select 1 as one"})).await;
    assert_eq!(status, 200, "{fine}");
    assert_eq!(fine, json!([{"one": 1}]));
}
