//! GET and HEAD never write, on any connection and any route; a request another site started
//! (`Sec-Fetch-Site: cross-site` or `same-site`) without an allowed Origin is refused before
//! any handler. On SQLite, MariaDB and PostgreSQL, the rows are counted after each attempt.

use crate::common::*;
use dc_test_support::mysql::MysqlDb;
use dc_test_support::postgres::PostgresDb;
use serde_json::{json, Value};

/// What an attack may try, each expected to leave the table's three rows alone.
async fn attacks(s: &TestServer, connection: &str, table: &str) -> Vec<(String, u16, String)> {
    let delete = format!("delete from {table} where id = 1");
    let encoded = |sql: &str| sql.replace(' ', "%20").replace('=', "%3D");
    let query = format!("/api/v1/query?connection={connection}&sql={}", encoded(&delete));
    let widget = format!("/widgets/sql/query?connection={connection}&sql={}", encoded(&delete));
    let (status, _, saved) =
        s.post("/api/v1/queries", json!({"connection": connection, "name": "wipe", "sql": delete})).await;
    assert_eq!(status, 201, "{saved}");
    let saved_widget = format!("/widgets/queries/{}", saved["id"]);

    let mut seen = Vec::new();
    for path in [&query, &widget, &saved_widget] {
        for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
            // As an <img> or a link from another site sends it, and as a script on our own
            // origin (or curl) would.
            for site in [Some("cross-site"), Some("same-site"), Some("same-origin"), Some("none"), None] {
                let mut request = s.client.request(method.clone(), s.at(path));
                if let Some(site) = site {
                    request = request.header("sec-fetch-site", site);
                }
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                let body = response.text().await.unwrap();
                seen.push((format!("{method} {path} sec-fetch-site={site:?}"), status, body));
            }
        }
    }
    seen
}

fn assert_refused(seen: &[(String, u16, String)]) {
    for (what, status, body) in seen {
        assert!(*status == 403, "{what}: {status} {body}");
        if what.starts_with("GET") {
            let detail: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{what}: {body}"));
            let detail = detail["detail"].as_str().unwrap_or_else(|| panic!("{what}: {body}"));
            if what.contains("cross-site") || what.contains("same-site") {
                assert!(detail.contains("cross-site request forgery"), "{what}: {detail}");
            } else {
                assert!(detail.contains("GET and HEAD requests never write"), "{what}: {detail}");
            }
        }
    }
}

/// The same checks that prove the connection really can write (POST deletes), so the refusals
/// above are the server's doing and not the database's.
async fn assert_post_writes(s: &TestServer, connection: &str, table: &str) {
    let (status, _, body) = s
        .query_text(json!({"connection": connection, "sql": format!("delete from {table} where id = 3")}))
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Reads still work from every origin that may read: GET runs read-only, it does not refuse.
async fn assert_reads(s: &TestServer, connection: &str, table: &str) {
    let path =
        format!("/api/v1/query?connection={connection}&sql=select%20count(*)%20as%20n%20from%20{table}");
    let (status, _, body) = s.get(&path).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["n"], 3, "{body}");
    let r = s
        .client
        .get(s.at(&path))
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://pro.openbb.co")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "Workspace's own origin is allowed cross-site");
}

#[tokio::test]
async fn sqlite_rows_survive_get_head_and_cross_site() {
    let _serial = crate::support::serial().await;
    let s = start().await;
    let path = s.dir.path().join("rw.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("create table t (id integer primary key); insert into t values (1), (2), (3);")
        .unwrap();
    s.add_sqlite("rw", &path, false).await;
    let count = || conn.query_row("select count(*) from t", [], |r| r.get::<_, i64>(0)).unwrap();

    assert_reads(&s, "rw", "t").await;
    let seen = attacks(&s, "rw", "t").await;
    assert_refused(&seen);
    assert_eq!(count(), 3, "a GET, HEAD or cross-site request deleted a row");
    assert_post_writes(&s, "rw", "t").await;
    assert_eq!(count(), 2);
}

#[tokio::test]
async fn mariadb_rows_survive_get_head_and_cross_site() {
    let _serial = crate::support::serial().await;
    let Some(db) = MysqlDb::create().await else { return };
    db.exec_all(&["create table t (id int primary key)", "insert into t values (1), (2), (3)"]).await;
    let s = start().await;
    let (status, _, body) = s
        .post(
            "/api/v1/connections",
            json!({"name": "rw", "kind": "mysql", "host": db.host, "port": db.port, "database": db.db,
                   "user": db.user, "password": db.password, "tls": "disable", "read_only": false}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let count = format!("select count(*) from `{}`.t", db.db);

    assert_reads(&s, "rw", "t").await;
    let seen = attacks(&s, "rw", "t").await;
    assert_refused(&seen);
    assert_eq!(db.scalar(&count).await, 3, "a GET, HEAD or cross-site request deleted a row");
    assert_post_writes(&s, "rw", "t").await;
    assert_eq!(db.scalar(&count).await, 2);
}

#[tokio::test]
async fn postgres_rows_survive_get_head_and_cross_site() {
    let _serial = crate::support::serial().await;
    let Some(db) = PostgresDb::create().await else { return };
    db.exec("create table t (id int primary key); insert into t values (1), (2), (3);").await;
    let s = start().await;
    let (status, _, body) = s
        .post(
            "/api/v1/connections",
            json!({"name": "rw", "kind": "postgres", "host": db.host, "port": db.port, "database": db.db,
                   "user": db.user, "password": db.password, "tls": "disable", "read_only": false}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    assert_reads(&s, "rw", "t").await;
    let seen = attacks(&s, "rw", "t").await;
    assert_refused(&seen);
    assert_eq!(
        db.scalar("select count(*) from t").await,
        3,
        "a GET, HEAD or cross-site request deleted a row"
    );
    assert_post_writes(&s, "rw", "t").await;
    assert_eq!(db.scalar("select count(*) from t").await, 2);
}

#[tokio::test]
async fn cross_site_requests_without_an_allowed_origin_are_refused_on_every_method() {
    let _serial = crate::support::serial().await;
    let s = start().await;
    for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] {
        for site in ["cross-site", "same-site", "CROSS-SITE"] {
            let request = format!(
                "{method} /api/v1/connections HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nSec-Fetch-Site: {site}\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n",
                s.addr.port()
            );
            let (status, body) = raw(s.addr, &request).await;
            assert_eq!(status, 403, "{method} {site}: {body}");
            if method != "HEAD" {
                assert!(body.contains("cross-site request forgery"), "{method} {site}: {body}");
            }
        }
    }
    // What the user does themselves (address bar, bookmark) and same-origin requests pass.
    for site in ["none", "same-origin"] {
        let r = s.client.get(s.at("/health")).header("sec-fetch-site", site).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{site}");
    }
}
