//! The edges of issue 12, point 9: oversize bodies answer JSON 413 on every body route, a URL
//! password with `?` is never echoed (in answers or in the debug log), SQL too long to run is
//! refused when it is saved, with the same limit as a run.

use crate::common::*;
use crate::routes::{self, is_detail};
use crate::support::raw_send;
use serde_json::json;
use std::time::Duration;

const LIMIT: usize = 4096;

#[tokio::test]
async fn oversize_bodies_get_json_413_on_every_body_route() {
    let _serial = crate::support::serial().await;
    let s = start_with(|c| c.limits.max_body_bytes = LIMIT).await;
    let routes = routes::all(&s).await;
    let body_routes: Vec<_> = routes.iter().filter(|r| r.takes_body()).collect();
    assert!(body_routes.len() >= 20, "{body_routes:?}");
    let body = format!("{{\"sql\": \"{}\"}}", "x".repeat(LIMIT * 2));
    let port = s.addr.port();
    for route in &body_routes {
        let path = route.concrete("1");
        let head = format!(
            "{} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer fuzz-user\r\n\
             Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
             Connection: close\r\n",
            route.method
        );
        // Announced by Content-Length, and streamed in chunks with no length given.
        let sized = format!("{head}Content-Length: {}\r\n\r\n{body}", body.len());
        let chunked =
            format!("{head}Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n", body.len());
        for (how, request) in [("content-length", sized), ("chunked", chunked)] {
            let r = raw_send(s.addr, request.as_bytes(), Duration::from_secs(10)).await;
            if how == "chunked" && r.status != 413 {
                // No length up front: only a route that reads its body meets the limit; one that
                // ignores it (a test, a delete) answers as it would anyway.
                assert!(
                    (400..500).contains(&r.status),
                    "{} {path} ({how}): {} {}",
                    route.method,
                    r.head,
                    r.body
                );
            } else {
                assert_eq!(r.status, 413, "{} {path} ({how}): {} {}", route.method, r.head, r.body);
            }
            assert!(
                r.head.to_ascii_lowercase().contains("content-type: application/json"),
                "{path}: {}",
                r.head
            );
            assert!(is_detail(&r.body), "{} {path} ({how}): {}", route.method, r.body);
        }
    }
    let (status, _, _) = s.get("/health").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_url_password_with_a_question_mark_is_never_echoed() {
    let _serial = crate::support::serial().await;
    let s = start().await;
    let secret_parts = ["s3cr", "t!x", "s3cr?t!x"];
    // A bad port after a password with '?': the answer names the port, not the password.
    for url in [
        "mysql://bob:s3cr?t!x@127.0.0.1:notaport/db",
        "postgres://bob:s3cr?t!x@127.0.0.1:notaport/db",
        "mysql://bob:s3cr?t!x@127.0.0.1:1/db?ssl-mode=bogus",
        "postgres://bob:s3cr?t!x@[::1/db",
    ] {
        let (status, _, body) = s.post("/api/v1/connections", json!({"name": "leaky", "url": url})).await;
        assert!((400..500).contains(&status), "{url}: {status} {body}");
        let text = body.to_string();
        assert!(is_detail(&text), "{text}");
        for part in secret_parts {
            assert!(!text.contains(part), "{url} echoed {part:?}: {text}");
        }
    }
    // Parsed right, the password is the password: a refused connection says so without it.
    let (status, _, body) = s
        .post(
            "/api/v1/connections",
            json!({"name": "refused", "url": "postgres://bob:s3cr?t!x@127.0.0.1:1/db"}),
        )
        .await;
    assert!(status >= 400, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("127.0.0.1"), "{body}");
    for part in secret_parts {
        assert!(!body.to_string().contains(part), "echoed {part:?}: {body}");
    }
}

/// The same through the real binary with the debug log on: nothing of the password in it.
#[tokio::test]
async fn the_debug_log_never_holds_a_url_password() {
    let _serial = crate::support::serial().await;
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_data-connector"))
        .args(["serve", "--port", "0", "--ephemeral-secrets", "--data-dir"])
        .arg(dir.path())
        .env("DATA_CONNECTOR_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line}")).to_string();
    let client = reqwest::Client::new();
    for bad in ["mysql://bob:s3cr?t!x@127.0.0.1:notaport/db", "postgres://bob:s3cr?t!x@127.0.0.1:1/db"] {
        let r = client
            .post(format!("{url}/api/v1/connections"))
            .json(&json!({"name": "leaky", "url": bad}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error() || r.status().is_server_error());
    }
    let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("DEBUG"), "the debug log was not on: {log}");
    for part in ["s3cr", "t!x"] {
        assert!(!log.contains(part), "the log holds {part:?}:\n{log}");
    }
}

#[tokio::test]
async fn sql_that_could_never_run_is_refused_when_saved() {
    let _serial = crate::support::serial().await;
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    s.add_sqlite("shop", &db, true).await;
    let max = s.app.config.limits.max_sql_chars;
    // Valid SQL, one character over the limit: a comment pads it.
    let long = format!("select 1 -- {}", "x".repeat(max));
    let (status, _, body) =
        s.post("/api/v1/queries", json!({"connection": "shop", "name": "long", "sql": long})).await;
    assert_eq!(status, 413, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("--max-sql-chars"), "{body}");
    // At the limit it saves, and runs.
    let fits = format!("select 1 as one -- {}", "x".repeat(max - 19));
    assert_eq!(fits.chars().count(), max);
    let (status, _, saved) =
        s.post("/api/v1/queries", json!({"connection": "shop", "name": "fits", "sql": fits})).await;
    assert_eq!(status, 201, "{saved}");
    let r = s.client.post(s.at(&format!("/api/v1/queries/{}/run", saved["id"]))).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (status, _, body) = s.patch(&format!("/api/v1/queries/{}", saved["id"]), json!({"sql": long})).await;
    assert_eq!(status, 413, "{body}");

    // Workspace's native protocol: the 1 MB query of the issue, and one at the limit that the
    // grid then pages (the wrapper around it does not count against the limit).
    let megabyte = format!("select 1 -- {}", "x".repeat(1_000_000));
    let save = |query: &str| {
        json!({"database_type": "sqlite", "username": "SQLITE", "password": "SQLITE", "host": "SQLITE",
               "name": "q", "database": db, "query": query})
    };
    let native = |path: &str, body: serde_json::Value, method: reqwest::Method| {
        s.client.request(method, s.at(path)).header("authorization", "Bearer edge-user").json(&body).send()
    };
    let r = native("/sql/database", save(&megabyte), reqwest::Method::POST).await.unwrap();
    let (status, _, body) = into_parts(r).await;
    assert_eq!(status, 413, "{body}");
    let r = native("/sql/databases", json!({}), reqwest::Method::GET).await.unwrap();
    let (_, _, listed) = into_parts(r).await;
    assert_eq!(listed, json!([]), "a refused save left something behind");

    let fits = format!("select id from items -- {}", "x".repeat(max - 24));
    assert_eq!(fits.chars().count(), max);
    let r = native("/sql/database", save(&fits), reqwest::Method::POST).await.unwrap();
    let (status, _, item) = into_parts(r).await;
    assert_eq!(status, 201, "{item}");
    let id = item["id"].as_i64().unwrap();
    let r = native(
        &format!("/sql/query/{id}"),
        json!({"request": {"startRow": 0, "endRow": 10, "sortModel": [{"colId": "id", "sort": "desc"}]}}),
        reqwest::Method::POST,
    )
    .await
    .unwrap();
    let (status, _, page) = into_parts(r).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["rows"], 3, "{page}");
    let r = native(&format!("/sql/database/{id}/query"), json!({"query": megabyte}), reqwest::Method::PATCH)
        .await
        .unwrap();
    let (status, _, body) = into_parts(r).await;
    assert_eq!(status, 413, "{body}");
}

/// A NUL in SQL is a 400 that says so: SQLite would silently stop reading at it, PostgreSQL's
/// protocol cannot carry it (issue 12 saw a 502).
#[tokio::test]
async fn sql_with_a_nul_character_is_a_400() {
    let _serial = crate::support::serial().await;
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    s.add_sqlite("shop", &db, false).await;
    let mut connections = vec!["shop"];
    let pg = dc_test_support::postgres::PostgresDb::create().await;
    if let Some(pg) = &pg {
        let (status, _, body) = s
            .post(
                "/api/v1/connections",
                json!({"name": "pg", "kind": "postgres", "host": pg.host, "port": pg.port, "database": pg.db,
                       "user": pg.user, "password": pg.password, "tls": "disable"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        connections.push("pg");
    }
    for connection in connections {
        for sql in ["select 1\0", "select 1\0; delete from items", "select '\0' as x"] {
            let (status, _, body) = s.query_text(json!({"connection": connection, "sql": sql})).await;
            assert_eq!(status, 400, "{connection} {sql:?}: {body}");
            assert!(body.contains("NUL"), "{body}");
        }
    }
    let (status, _, body) =
        s.post("/api/v1/queries", json!({"connection": "shop", "name": "nul", "sql": "select 1\0"})).await;
    assert_eq!(status, 400, "{body}");
    let (_, _, count) =
        s.get("/api/v1/query?connection=shop&sql=select%20count(*)%20as%20n%20from%20items").await;
    assert_eq!(count[0]["n"], 3);
}
