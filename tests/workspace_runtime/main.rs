//! Workspace as it really behaves: every request shape in reference/workspace-runtime.md, sent
//! exactly as the frontend builds it at run time (query string vs body, form initial values,
//! bare grid bodies, no headers at all), each test naming the frontend function it copies. The
//! one-off validation pass is replayed in tests/custom_backend; the shapes here are what a
//! dashboard in use sends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dc_test_support::mysql::MysqlDb;
use dc_test_support::postgres::PostgresDb;
use dc_test_support::server as common;

mod access;
mod form;
mod get_and_omni;
mod grids;
mod ids;
mod linking;
mod parameters;
mod saved_widgets;
mod snowflake;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

/// `cleanSearchParams` + `URLSearchParams`: empty values are dropped and the rest is
/// form-encoded (a space becomes `+`).
pub fn search(params: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = params.iter().copied().filter(|(_, v)| !v.is_empty()).collect();
    if kept.is_empty() {
        return String::new();
    }
    let mut encoded = String::from("?");
    for (i, (key, value)) in kept.iter().enumerate() {
        if i > 0 {
            encoded.push('&');
        }
        encoded.push_str(&form_encode(key));
        encoded.push('=');
        encoded.push_str(&form_encode(value));
    }
    encoded
}

fn form_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b' ' => out.push('+'),
            b'*' | b'-' | b'.' | b'_' => out.push(b as char),
            b if b.is_ascii_alphanumeric() => out.push(b as char),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `getSSRRows`: POST `endpoint?<widget params>` with the bare AG Grid request as the body
/// (`{startRow: 0, endRow: 500}` on the first load) and `Content-Type: application/json`.
pub async fn ssrm(s: &TestServer, endpoint: &str, params: &[(&str, &str)], request: Value) -> (u16, Value) {
    let url = format!("{}{}", s.at(endpoint), search(params));
    let response = s
        .client
        .post(url)
        .header("Content-Type", "application/json")
        .body(request.to_string())
        .send()
        .await
        .unwrap();
    let (status, _, body) = into_parts(response).await;
    (status, body)
}

/// What the grid makes of an `ssrm_table` answer (`useSSRMGridOptions` → `getRows`): a non-2xx
/// is a blank grid with no message, so every answer must be 200; then either the `error`
/// toast, or the rows.
pub fn grid_error(status: u16, body: &Value) -> String {
    assert_eq!(status, 200, "a non-2xx answer shows a blank grid without a message: {body}");
    assert_eq!(body["rowData"], json!([]), "{body}");
    assert_eq!(body["rowCount"], 0, "{body}");
    let error = body["error"].as_str().unwrap_or_else(|| panic!("no error string: {body}"));
    assert!(!error.is_empty());
    error.to_string()
}

/// A Workspace user of the native Data Connector page: every call carries
/// `Authorization: Bearer <uuid>` and JSON (the frontend's `getHeaders`).
pub struct Ws<'a> {
    pub server: &'a TestServer,
    pub user: String,
}

impl<'a> Ws<'a> {
    pub fn new(server: &'a TestServer, user: &str) -> Self {
        Self { server, user: user.to_string() }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .server
            .client
            .request(method, self.server.at(path))
            .header("Content-Type", "application/json")
            .header("Authorization", format!("Bearer {}", self.user));
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let (status, _, body) = into_parts(request.send().await.unwrap()).await;
        (status, body)
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Saves a connection with its first query (`addDatabase`) and returns the query's id.
    pub async fn save(&self, db: &Db, name: &str, query: &str) -> i64 {
        let (status, item) = self.post("/sql/database", db.save_body(name, query)).await;
        assert_eq!(status, 201, "{item}");
        item["id"].as_i64().unwrap()
    }

    /// `getDatabaseRows`: one page of saved query `id` for the native grid. Always 200: the
    /// frontend shows nothing for any other status.
    pub async fn rows(&self, id: i64, request: Value) -> Value {
        let (status, page) = self.post(&format!("/sql/query/{id}"), json!({ "request": request })).await;
        assert_eq!(status, 200, "the native grid shows a non-2xx as a blank grid: {page}");
        page
    }
}

/// One database of each engine the native `/sql` family serves, with the same fixture SQL.
pub enum Db {
    Sqlite(std::path::PathBuf),
    Mysql(MysqlDb),
    Postgres(PostgresDb),
}

impl Db {
    pub fn sqlite(dir: &std::path::Path, name: &str) -> Self {
        Self::Sqlite(dir.join(format!("{name}.db")))
    }

    pub async fn mysql() -> Option<Self> {
        MysqlDb::create().await.map(Self::Mysql)
    }

    pub async fn postgres() -> Option<Self> {
        PostgresDb::create().await.map(Self::Postgres)
    }

    pub fn engine(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Mysql(_) => "mysql",
            Self::Postgres(_) => "postgres",
        }
    }

    pub async fn exec(&self, sql: &str) {
        match self {
            Self::Sqlite(path) => rusqlite::Connection::open(path).unwrap().execute_batch(sql).unwrap(),
            Self::Mysql(db) => db.exec_all(&[sql]).await,
            Self::Postgres(db) => db.exec(sql).await,
        }
    }

    /// The body of the native dialogs' save (`addDatabase("database", {...})`).
    pub fn save_body(&self, name: &str, query: &str) -> Value {
        let mut body = match self {
            Self::Sqlite(path) => {
                json!({"database_type": "sqlite", "username": "SQLITE", "password": "SQLITE",
                "host": "SQLITE", "database": path})
            }
            Self::Mysql(db) => json!({"database_type": "mysql", "username": db.user, "password": db.password,
                "host": db.address(), "database": db.db}),
            Self::Postgres(db) => json!({"database_type": "postgres", "username": db.user,
                "password": db.password, "host": db.address(), "database": db.db}),
        };
        body["name"] = json!(name);
        body["query"] = json!(query);
        body["category"] = json!("Tests");
        body["sub_category"] = json!("");
        body["description"] = json!("");
        body
    }
}

/// A number in a JSON answer, whether the engine sent it as a number or (exact decimals, big
/// integers) as a string.
pub fn num(value: &Value) -> f64 {
    match value {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("{s:?} is not a number")),
        other => panic!("{other} is not a number"),
    }
}
