//! The rules README.md states (its "Security" and "Connections" sections and `--api-key`), from
//! the outside: Host, Origin, CORS with Private Network Access, the API key, and read-only
//! connections that leave their file untouched.

use crate::common::*;
use serde_json::json;

const WORKSPACE: &str = "https://pro.openbb.co";

#[tokio::test]
async fn preflight_is_answered_with_and_without_private_network_access() {
    let s = start_with(|c| c.api_key = Some("sekrit".into())).await;
    let preflight = |pna: bool| {
        let mut request = s
            .client
            .request(reqwest::Method::OPTIONS, s.at("/api/v1/query"))
            .header("origin", WORKSPACE)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,authorization,x-api-key");
        if pna {
            request = request.header("access-control-request-private-network", "true");
        }
        request.send()
    };
    let response = preflight(true).await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let h = response.headers();
    assert_eq!(h["access-control-allow-origin"], WORKSPACE);
    assert_eq!(h["access-control-allow-private-network"], "true");
    assert!(h["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    assert!(h["access-control-allow-headers"].to_str().unwrap().contains("x-api-key"));

    let response = preflight(false).await.unwrap();
    assert!(response.status().is_success());
    assert!(response.headers().get("access-control-allow-private-network").is_none());
}

#[tokio::test]
async fn allowed_origins_get_cors_headers_and_others_are_refused() {
    let s = start_with(|c| c.allowed_origins = vec!["https://my.dashboard.test/".into()]).await;
    for origin in [WORKSPACE, "https://excel.openbb.co", "https://my.dashboard.test"] {
        let r = s.client.get(s.at("/")).header("origin", origin).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{origin}");
        assert_eq!(r.headers()["access-control-allow-origin"], origin);
    }
    let r = s.client.get(s.at("/")).header("origin", "https://evil.example").send().await.unwrap();
    let (status, _, body) = into_parts(r).await;
    assert_eq!(status, 403);
    assert!(body["detail"].as_str().unwrap().contains("--allow-origin"), "{body}");
    let r = s
        .client
        .request(reqwest::Method::OPTIONS, s.at("/api/v1/query"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
}

#[tokio::test]
async fn dns_rebinding_hosts_are_refused() {
    let s = start().await;
    let port = s.addr.port();
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let (status, body) =
            raw(s.addr, &format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")).await;
        assert_eq!(status, 200, "{host}: {body}");
    }
    for host in
        [format!("evil.example:{port}"), "localhost:1".to_string(), format!("attacker.localhost.evil:{port}")]
    {
        let (status, body) =
            raw(s.addr, &format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")).await;
        assert_eq!(status, 403, "{host}");
        assert!(body.contains("DNS rebinding"), "{body}");
    }
}

#[tokio::test]
async fn api_key_is_required_when_configured() {
    let s = start_with(|c| c.api_key = Some("sekrit".into())).await;
    let (status, _, body) = s.get("/api/v1/connections").await;
    assert_eq!(status, 401);
    assert!(body["detail"].as_str().unwrap().contains("X-API-KEY"));
    let wrong = s.client.get(s.at("/api/v1/connections")).header("x-api-key", "nope").send().await.unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let right = s.client.get(s.at("/api/v1/connections")).header("x-api-key", "sekrit").send().await.unwrap();
    assert_eq!(right.status().as_u16(), 200);
    // Workspace's reachability check sends no headers: `GET /` answers, with name and version only.
    let (status, _, about) = s.get("/").await;
    assert_eq!((status, about.as_object().unwrap().len()), (200, 2), "{about}");
}

#[tokio::test]
async fn non_loopback_host_requires_an_api_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = data_connector::Config::local(dir.path().to_path_buf());
    config.host = "0.0.0.0".parse().unwrap();
    let app = data_connector::App::open(config).unwrap();
    let err = data_connector::server::bind(app).await.err().expect("must refuse");
    assert!(err.to_string().contains("--api-key"), "{err}");
}

#[tokio::test]
async fn read_only_connections_refuse_writes_and_leave_the_file_untouched() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    let before = file_digest(&db);
    s.add_sqlite("shop", &db, true).await;
    for sql in [
        "delete from items",
        "insert into items values (9, 'x', 1, 1)",
        "drop table items",
        "WITH x AS (SELECT 1) DELETE FROM items",
        "WITH x AS (SELECT 1) INSERT INTO items SELECT 10, 'y', 1, 1 FROM x",
        "select 1; delete from items",
        "ATTACH DATABASE ':memory:' AS other",
        "pragma writable_schema = 1",
        "vacuum",
        "create table t2 (a)",
    ] {
        let (status, _, body) = s.query_text(json!({"connection": "shop", "sql": sql})).await;
        assert_eq!(status, 403, "{sql}: {body}");
        let detail =
            serde_json::from_str::<serde_json::Value>(&body).unwrap()["detail"].as_str().unwrap().to_string();
        assert!(!detail.is_empty(), "{sql}");
    }
    assert_eq!(file_digest(&db), before, "the file changed");
    let (_, _, body) =
        s.query_text(json!({"connection": "shop", "sql": "select count(*) as n from items"})).await;
    assert_eq!(body, r#"[{"n":3}]"#);
}

#[tokio::test]
async fn writable_connections_allow_writes_but_never_attach() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    s.add_sqlite("rw", &db, false).await;
    let (status, _, body) =
        s.query_text(json!({"connection": "rw", "sql": "insert into items values (4, 'new', 2.5, 1)"})).await;
    assert_eq!(status, 200, "{body}");
    let (_, _, body) =
        s.query_text(json!({"connection": "rw", "sql": "select count(*) as n from items"})).await;
    assert_eq!(body, r#"[{"n":4}]"#);
    let other = s.dir.path().join("other.db");
    let (status, _, body) = s
        .query_text(json!({"connection": "rw", "sql": format!("ATTACH DATABASE '{}' AS o", other.display())}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(!other.exists());
}
