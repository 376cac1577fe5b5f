//! Snowflake's wire protocol for tests: fakesnow's server mode behind the adapter in
//! tests/fixtures/fakesnow/adapter.py (JSON rowsets, gzip result chunks, and the login checks and
//! errors fakesnow does not have). One adapter process serves a whole test binary; tests keep
//! apart by user and database names.
//!
//! Needs the venv once: `tests/fixtures/fakesnow/start.sh setup` (or `DC_FAKESNOW_VENV` naming
//! one). Without it every Snowflake test fails and says so; `DC_SKIP_SNOWFLAKE=1` skips them.

use crate::repo_root;
use crate::skip::{skipped, Need};
use connectors::{ConnectionSettings, ConnectorError, Engine, Secrets};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Rows per result part the adapter serves: 200k rows arrive as 1 inline part + 39 chunks.
pub const CHUNK_ROWS: usize = 5000;
const FIX: &str = "run `tests/fixtures/fakesnow/start.sh setup` in the repository root (it creates \
                   .venv-fakesnow with fakesnow[server]==0.12.1), or set DC_SKIP_SNOWFLAKE=1 to \
                   skip the Snowflake tests locally";

pub struct Adapter {
    pub url: String,
    /// Holds the adapter's stdin open: it exits when this process does, however that happens.
    _process: Mutex<Child>,
}

static ADAPTER: OnceLock<Adapter> = OnceLock::new();

/// This test binary's adapter, started on first use; `None` only when the developer opted out.
pub fn adapter() -> Option<&'static Adapter> {
    if skipped(Need::Snowflake) {
        return None;
    }
    Some(ADAPTER.get_or_init(start_adapter))
}

fn start_adapter() -> Adapter {
    let root = repo_root();
    let venv =
        std::env::var_os("DC_FAKESNOW_VENV").map_or_else(|| root.join(".venv-fakesnow"), PathBuf::from);
    let python = venv.join("bin").join("python");
    assert!(
        python.exists(),
        "the Snowflake tests need fakesnow, but {} does not exist: {FIX}",
        python.display()
    );
    let log_dir = root.join("target").join("fakesnow");
    std::fs::create_dir_all(&log_dir).expect("create target/fakesnow");
    let log_path = log_dir.join(format!("adapter-test-{}.log", crate::unique("run")));
    let log = std::fs::File::create(&log_path).expect("create the adapter log");
    let mut child = Command::new(&python)
        .arg(root.join("tests").join("fixtures").join("fakesnow").join("adapter.py"))
        .args(["--port", "0", "--chunk-rows", &CHUNK_ROWS.to_string(), "--exit-with-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}; {FIX}", python.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("ADAPTER_URL=") {
                let _ = tx.send(url.to_string());
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(90)) {
        Ok(url) => Adapter { url, _process: Mutex::new(child) },
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!("the fakesnow adapter did not start; its log ({}):\n{log}\n{FIX}", log_path.display());
        }
    }
}

/// A minimal HTTP/1.1 client for the adapter's control endpoints, off the async threads.
pub async fn control(method: &'static str, url: String, body: Option<Value>) -> Value {
    tokio::task::spawn_blocking(move || {
        let rest = url.strip_prefix("http://").expect("http URL");
        let (host, path) =
            rest.split_once('/').map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut stream = TcpStream::connect(host).expect("connect to the adapter");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        let (_, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
    })
    .await
    .expect("control request")
}

impl Adapter {
    /// Registers users (with their credentials, roles, warehouses, denied tables) and unknown
    /// accounts: `POST /_adapter/setup`.
    pub async fn setup(&self, body: Value) {
        control("POST", format!("{}/_adapter/setup", self.url), Some(body)).await;
    }

    /// Logins, running statements, abort requests and results served so far.
    pub async fn state(&self) -> Value {
        control("GET", format!("{}/_adapter/state", self.url), None).await
    }

    /// Settings and secrets for a connection to the adapter, split the way the API splits
    /// them; `fields` add to or replace the defaults (account `fake`, schema PUBLIC, writable).
    pub fn connection(&self, fields: Value) -> (ConnectionSettings, Secrets) {
        let mut input = json!({
            "kind": "snowflake", "account": "fake", "base_url": self.url, "schema": "PUBLIC", "read_only": false
        });
        if let (Value::Object(base), Value::Object(extra)) = (&mut input, fields) {
            base.extend(extra);
        }
        let Value::Object(map) = input else { unreachable!("built as an object above") };
        ConnectionSettings::from_input(map).expect("valid settings")
    }

    pub async fn engine(&self, fields: Value) -> Arc<dyn Engine> {
        let (settings, secrets) = self.connection(fields);
        connectors::connect(&settings, &secrets).await.unwrap_or_else(|e| panic!("connect: {e}"))
    }

    pub async fn connect_err(&self, fields: Value) -> ConnectorError {
        let (settings, secrets) = self.connection(fields);
        match connectors::connect(&settings, &secrets).await {
            Ok(_) => panic!("connect should have failed"),
            Err(e) => e,
        }
    }

    /// A user who logs in with a password and works in a database of its own.
    pub async fn password_user(&self, name: &str) -> Arc<dyn Engine> {
        self.setup(json!({"users": [{"account": "fake", "user": name, "password": format!("pw-{name}")}]}))
            .await;
        self.engine(json!({"user": name, "password": format!("pw-{name}"), "database": format!("DB_{name}")}))
            .await
    }
}
