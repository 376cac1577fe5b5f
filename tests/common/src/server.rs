//! The real server on port 0 with real HTTP through reqwest (or raw TCP where a client would
//! rewrite what a test needs to send), and the small SQLite databases the server tests query.

use data_connector::{server, App, Config};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

pub struct TestServer {
    pub url: String,
    pub addr: SocketAddr,
    pub app: Arc<App>,
    pub dir: tempfile::TempDir,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::local(dir.path().join("data"));
    adjust(&mut config);
    let app = App::open(config).unwrap();
    let bound = server::bind(app.clone()).await.unwrap();
    let addr = bound.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(bound.serve(async move {
        let _ = stopped.await;
    }));
    TestServer {
        url: format!("http://127.0.0.1:{}", addr.port()),
        addr,
        app,
        dir,
        client: reqwest::Client::new(),
        stop: Some(stop),
    }
}

impl TestServer {
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub async fn get(&self, path: &str) -> (u16, HeaderMap, Value) {
        into_parts(self.client.get(self.at(path)).send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, HeaderMap, Value) {
        into_parts(self.client.post(self.at(path)).json(&body).send().await.unwrap()).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, HeaderMap, Value) {
        into_parts(self.client.patch(self.at(path)).json(&body).send().await.unwrap()).await
    }

    pub async fn delete(&self, path: &str) -> (u16, HeaderMap, Value) {
        into_parts(self.client.delete(self.at(path)).send().await.unwrap()).await
    }

    /// POST /api/v1/query and the raw body text.
    pub async fn query_text(&self, body: Value) -> (u16, HeaderMap, String) {
        let response = self.client.post(self.at("/api/v1/query")).json(&body).send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap())
    }

    /// Registers an SQLite file as a connection and asserts it was created.
    pub async fn add_sqlite(&self, name: &str, path: &Path, read_only: bool) -> Value {
        let (status, _, body) = self
            .post(
                "/api/v1/connections",
                json!({"name": name, "kind": "sqlite", "path": path, "read_only": read_only}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }

    pub async fn log(&self) -> Vec<Value> {
        let (status, _, body) = self.get("/api/v1/log").await;
        assert_eq!(status, 200);
        body.as_array().unwrap().clone()
    }

    /// Waits (up to `seconds`) for the newest log entry of `sql` to have an outcome.
    pub async fn wait_for_log(&self, sql: &str, seconds: u64) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        loop {
            if let Some(entry) = self.log().await.into_iter().find(|e| e["sql"] == sql) {
                return entry;
            }
            assert!(std::time::Instant::now() < deadline, "no log entry for {sql:?} after {seconds}s");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

pub async fn into_parts(response: reqwest::Response) -> (u16, HeaderMap, Value) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, headers, body)
}

/// Sends `request` verbatim over TCP (for Host headers a client would rewrite) and returns the
/// status code and body.
pub async fn raw(addr: SocketAddr, request: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
    (status, body)
}

/// A small database: `items` (id, name, price, qty) with `n` rows.
pub fn items_db(dir: &Path, n: i64) -> PathBuf {
    let path = dir.join(format!("items_{n}.db"));
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL, qty INTEGER);
         CREATE VIEW cheap AS SELECT * FROM items WHERE price < 10;",
    )
    .unwrap();
    let tx = conn.unchecked_transaction().unwrap();
    for i in 1..=n {
        tx.execute(
            "INSERT INTO items VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![i, format!("item {i}"), i as f64 * 0.5, i % 7],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    path
}

pub fn file_digest(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}
