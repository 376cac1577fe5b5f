//! Who may call what when the server has an API key: Workspace's reachability check
//! (`initiateDataConnector`, `updateVersion`) sends `GET /` with no headers at all, and the
//! native Data Connector page sends `Authorization: Bearer <OpenBB user id>`, never the key.

use crate::common::*;
use crate::Ws;
use serde_json::{json, Value};

const KEY: &str = "k3y-for-tests";
const ALLOWED: &str = "6f1b6a53-8c5e-4c1e-9f55-1a2b3c4d5e6f";

async fn keyed() -> TestServer {
    start_with(|c| {
        c.api_key = Some(KEY.into());
        c.workspace_users = vec![ALLOWED.into()];
    })
    .await
}

/// `initiateDataConnector`: a bare GET with no headers, expecting 2xx JSON with a semver
/// `version`. It gets name and version, and nothing else about the machine.
#[tokio::test]
async fn reachability_check_needs_no_key_and_learns_only_name_and_version() {
    let s = keyed().await;
    // Over raw TCP: no header but Host, as a headerless fetch.
    let (status, body) = raw(
        s.addr,
        &format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", s.addr.port()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let about: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(about.as_object().unwrap().keys().collect::<Vec<_>>(), vec!["name", "version"], "{about}");
    assert_eq!(about["version"].as_str().unwrap().split('.').count(), 3);
    let (status, _, health) = s.get("/health").await;
    assert_eq!((status, health), (200, json!({"status": "ok"})));
    // With the key: the whole answer.
    let response = s.client.get(s.at("/")).header("X-API-KEY", KEY).send().await.unwrap();
    let (_, _, about) = into_parts(response).await;
    assert!(about["secret_store"].is_string(), "{about}");
    // Everything else still needs the key. A refusal leaves the body unread, so it closes the
    // connection and says so (a client reusing it would otherwise race the close).
    for path in ["/api/v1/connections", "/widgets.json", "/api/v1/log"] {
        let (status, headers, _) = s.get(path).await;
        assert_eq!(status, 401, "{path}");
        assert_eq!(headers["connection"], "close", "{path}");
    }
    let (status, _, _) = s.post("/", json!({})).await;
    assert_eq!(status, 401, "only GET / is open");
}

/// The native page can only send the user id: an allow-listed id gets in, any other needs the
/// key (which Workspace cannot send there), and the id never opens any other route.
#[tokio::test]
async fn native_routes_let_in_allow_listed_user_ids() {
    let s = keyed().await;
    let allowed = Ws::new(&s, ALLOWED);
    let (status, body) = allowed.call(reqwest::Method::GET, "/sql/databases", None).await;
    assert_eq!((status, body), (200, json!([])));
    let db = items_db(s.dir.path(), 3);
    let (status, item) = allowed
        .post(
            "/sql/database",
            json!({"database_type": "sqlite", "username": "SQLITE", "password": "SQLITE",
            "host": "SQLITE", "name": "Items", "database": db, "query": "SELECT * FROM items"}),
        )
        .await;
    assert_eq!(status, 201, "{item}");
    let stranger = Ws::new(&s, "00000000-0000-0000-0000-000000000000");
    let (status, body) = stranger.call(reqwest::Method::GET, "/sql/databases", None).await;
    assert_eq!(status, 401, "{body}");
    assert!(body["detail"].is_string());
    for path in ["/api/v1/connections", "/widgets.json"] {
        let (status, _) = allowed.call(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 401, "a user id is not the key: {path}");
    }
    // Without an allow-list nobody gets in by id.
    let s = start_with(|c| c.api_key = Some(KEY.into())).await;
    let (status, _) = Ws::new(&s, ALLOWED).call(reqwest::Method::GET, "/sql/databases", None).await;
    assert_eq!(status, 401);
}

/// Workspace Lite's origins are one flag away (`--workspace-lite`).
#[tokio::test]
async fn workspace_lite_origins_are_one_flag_away() {
    let s = start().await;
    let lite =
        |s: &TestServer, origin: &'static str| s.client.get(s.at("/health")).header("Origin", origin).send();
    assert_eq!(lite(&s, "http://localhost:8080").await.unwrap().status().as_u16(), 403);
    let s = start_with(|c| c.workspace_lite = true).await;
    for origin in ["http://localhost:8080", "http://localhost:3000"] {
        let response = lite(&s, origin).await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{origin}");
        assert_eq!(response.headers()["access-control-allow-origin"], origin);
    }
    assert_eq!(lite(&s, "http://localhost:8081").await.unwrap().status().as_u16(), 403);
}

/// The flags themselves: `serve --api-key ... --workspace-user <id> --workspace-lite`.
#[tokio::test]
async fn serve_flags_allow_a_user_id_and_workspace_lite() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    /// Stops the server however the test ends.
    struct Serving(std::process::Child);
    impl Drop for Serving {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_data-connector"))
        .args(["serve", "--port", "auto", "--ephemeral-secrets", "--workspace-lite", "--data-dir"])
        .arg(dir.path())
        .args(["--api-key", KEY, "--workspace-user", ALLOWED])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _serving = Serving(child);
    let line = std::io::BufReader::new(stdout).lines().next().unwrap().unwrap();
    let url = line.strip_prefix("listening on ").unwrap_or_else(|| panic!("{line}")).to_string();
    let client = reqwest::Client::new();
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut request = client.get(format!("{url}{path}"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    let bearer = format!("Bearer {ALLOWED}");
    let outcomes = [
        get("/", &[]).await.unwrap().status().as_u16(),
        get("/sql/databases", &[("Authorization", &bearer)]).await.unwrap().status().as_u16(),
        get("/sql/databases", &[("Authorization", "Bearer someone-else")]).await.unwrap().status().as_u16(),
        get("/health", &[("X-API-KEY", KEY), ("Origin", "http://localhost:8080")])
            .await
            .unwrap()
            .status()
            .as_u16(),
    ];
    assert_eq!(outcomes, [200, 200, 401, 200]);
}
