//! The MCP server driven by a real client: the official Python SDK (`mcp` on PyPI, pinned in
//! tests/mcp/requirements.txt, run from `tests/mcp/client.py`) over streamable HTTP and over
//! stdio, against real SQLite files and a real MariaDB, on connections that allow writes. What
//! the client cannot see is checked here: the file and the table are unchanged after its write
//! attempts, and every call is in the query log with the source `mcp`.
//!
//! Needs the venv that `tests/mcp/setup.sh` makes (`.venv-mcp` at the repo root, or
//! DC_MCP_VENV); fails and says how to make it when it is missing. DC_SKIP_MCP=1 skips these
//! tests locally; with CI set they never skip.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use data_connector::state::NewQuery;
use data_connector::{connections, server, App, Config};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

const BIN: &str = env!("CARGO_BIN_EXE_data-connector");
const KEY: &str = "mcp-test-key-1";
const SHOP_ROWS: i64 = 300;

/// The venv's Python, or `None` when the developer opted out.
fn python() -> Option<PathBuf> {
    if dc_test_support::skip::skipped(dc_test_support::skip::Need::Mcp) {
        return None;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = std::env::var_os("DC_MCP_VENV").map(PathBuf::from).unwrap_or_else(|| root.join(".venv-mcp"));
    let python = venv.join("bin").join("python");
    let works = Command::new(&python)
        .args(["-c", "import mcp, httpx2"])
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        works,
        "the MCP tests need the Python MCP SDK in {}: run `tests/mcp/setup.sh` (or set DC_SKIP_MCP=1 \
         to skip them locally; CI never skips)",
        venv.display()
    );
    Some(python)
}

fn client_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/client.py")
}

/// A throwaway MariaDB database, dropped at the end.
struct MariaDb {
    name: String,
}

impl MariaDb {
    fn create() -> Self {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("dc_mcp_{}_{nanos:x}", std::process::id());
        // `bump()` writes from inside a SELECT: only the engine's read-only transaction can stop it.
        mariadb(&format!(
            "CREATE DATABASE {name};
             USE {name};
             CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, price DECIMAL(10,2), note TEXT);
             INSERT INTO items VALUES (1, 'alpha', 1.50, 'a, b'), (2, 'beta', 2.25, 'x|y\\nz'), (3, 'gamma', 10.00, NULL);
             DELIMITER //
             CREATE FUNCTION bump() RETURNS INT MODIFIES SQL DATA BEGIN UPDATE items SET price = price + 1; RETURN 1; END//
             DELIMITER ;"
        ));
        Self { name }
    }

    /// Row count, price total and the table checksum: any write changes one of them.
    fn state(&self) -> String {
        mariadb(&format!(
            "SELECT count(*), sum(price), group_concat(note) FROM {0}.items; CHECKSUM TABLE {0}.items EXTENDED; \
             SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{0}';",
            self.name
        ))
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        mariadb(&format!("DROP DATABASE IF EXISTS {};", self.name));
    }
}

fn mariadb(sql: &str) -> String {
    let mut child = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-u", "root", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the `mariadb` client is needed (apt-get install mariadb-client)");
    child.stdin.take().unwrap().write_all(sql.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "MariaDB at 127.0.0.1:3306 is needed (start it with `start-stop-daemon --start --oknodo \
         --background --exec /usr/sbin/mariadbd`): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `items` (id, name, price, note) with `SHOP_ROWS` rows; item 1 has a 600-character note.
fn shop_db(dir: &Path) -> PathBuf {
    let path = dir.join("shop.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL, note TEXT);",
    )
    .unwrap();
    let tx = conn.unchecked_transaction().unwrap();
    for i in 1..=SHOP_ROWS {
        let note = (i == 1).then(|| "n".repeat(600));
        tx.execute(
            "INSERT INTO items VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![i, format!("item {i}"), i as f64 * 0.5, note],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    path
}

/// A server with an API key over a data dir with a writable SQLite connection `shop`, a
/// writable MariaDB connection `maria`, and a saved query on each.
struct Fixture {
    dir: tempfile::TempDir,
    data: PathBuf,
    shop: PathBuf,
    maria: MariaDb,
    app: Arc<App>,
    url: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let shop = shop_db(dir.path());
    let maria = MariaDb::create();
    let mut config = Config::local(data.clone());
    config.api_key = Some(KEY.into());
    let app = App::open(config).unwrap();
    for settings in [
        json!({"name": "shop", "kind": "sqlite", "path": shop, "read_only": false}),
        json!({"name": "maria", "kind": "mysql", "host": "127.0.0.1", "port": 3306, "user": "root",
               "database": maria.name, "tls": "disable", "read_only": false}),
    ] {
        connections::create(&app, settings.as_object().unwrap().clone()).await.unwrap();
    }
    for (connection, name, sql, params) in [
        (
            "shop",
            "Cheap items",
            "SELECT id, name, price FROM items WHERE price < ? ORDER BY id",
            vec![json!(5.0)],
        ),
        ("maria", "Maria totals", "SELECT count(*) AS n, sum(price) AS total FROM items", vec![]),
    ] {
        app.state
            .insert_query(&NewQuery {
                connection: connection.into(),
                name: name.into(),
                sql: sql.into(),
                description: String::new(),
                params: params.into_iter().map(|p| serde_json::from_value(p).unwrap()).collect(),
                widget: Default::default(),
            })
            .unwrap();
    }
    let bound = server::bind(app.clone()).await.unwrap();
    let url = format!("http://127.0.0.1:{}", bound.local_addr().port());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(bound.serve(async move {
        let _ = stopped.await;
    }));
    Fixture { dir, data, shop, maria, app, url, stop: Some(stop) }
}

/// After a client run: nothing was written, and everything it did is in the log as `mcp`.
fn assert_read_only_and_logged(f: &Fixture, shop_before: &[u8], maria_before: &str) {
    assert_eq!(std::fs::read(&f.shop).unwrap(), shop_before, "the SQLite file changed");
    let leftovers: Vec<_> = std::fs::read_dir(f.dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("shop.db-"))
        .collect();
    assert!(leftovers.is_empty(), "a journal was left behind: {leftovers:?}");
    assert_eq!(f.maria.state(), maria_before, "the MariaDB table changed");

    let log = f.app.state.recent_log(1000).unwrap();
    let find = |sql: &str| {
        log.iter().find(|e| e.sql == sql).unwrap_or_else(|| panic!("no log entry for {sql:?}: {log:#?}"))
    };
    for (sql, outcome) in [
        ("SELECT count(*) AS n FROM items", "ok"),
        ("SELECT id FROM items ORDER BY id", "truncated"),
        ("DELETE FROM items", "refused"),
        ("WITH x AS (SELECT 1) DELETE FROM items", "refused"),
        ("UPDATE items SET price = 0", "refused"),
        ("SELECT nope FROM items", "error"),
        ("-- MCP list_connections", "ok"),
        ("-- MCP describe_table items", "ok"),
    ] {
        let entry = find(sql);
        assert_eq!((entry.source.as_str(), entry.outcome.as_str()), ("mcp", outcome), "{entry:?}");
    }
    let bump = find("SELECT bump()");
    assert_eq!(bump.connection, "maria");
    assert!(bump.error.as_deref().unwrap_or_default().contains("READ ONLY"), "{bump:?}");
    assert!(log.iter().any(|e| e.sql == format!("-- MCP list_tables {}", f.maria.name)));
    assert!(log.iter().all(|e| e.source == "mcp"), "only the MCP client ran anything");
}

/// The connections really allow writes: the same statements that MCP refused work through
/// the HTTP API, so the refusals above are MCP's doing.
async fn assert_connections_are_writable(f: &Fixture) {
    let client = reqwest::Client::new();
    for (connection, sql) in [
        ("shop", "CREATE TABLE written_by_api (x INTEGER)"),
        ("maria", "UPDATE items SET price = price + 1 WHERE id = 3"),
    ] {
        let response = client
            .post(format!("{}/api/v1/query", f.url))
            .header("x-api-key", KEY)
            .json(&json!({"connection": connection, "sql": sql}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{connection}: {}", response.text().await.unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_over_streamable_http() {
    let Some(python) = python() else { return };
    let f = fixture().await;
    let shop_before = std::fs::read(&f.shop).unwrap();
    let maria_before = f.maria.state();
    let client = tokio::task::spawn_blocking({
        let f = FixtureView::of(&f);
        move || run_client_view(&python, "http", &f)
    });
    client.await.unwrap();
    assert_read_only_and_logged(&f, &shop_before, &maria_before);
    assert_connections_are_writable(&f).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_over_stdio() {
    let Some(python) = python() else { return };
    let f = fixture().await;
    let shop_before = std::fs::read(&f.shop).unwrap();
    let maria_before = f.maria.state();
    let client = tokio::task::spawn_blocking({
        let f = FixtureView::of(&f);
        move || run_client_view(&python, "stdio", &f)
    });
    client.await.unwrap();
    assert_read_only_and_logged(&f, &shop_before, &maria_before);
    assert_connections_are_writable(&f).await;
}

/// What the client run needs, owned, for a blocking thread.
struct FixtureView {
    data: PathBuf,
    url: String,
    maria: String,
}

impl FixtureView {
    fn of(f: &Fixture) -> Self {
        Self { data: f.data.clone(), url: f.url.clone(), maria: f.maria.name.clone() }
    }
}

/// Runs the Python client and fails the test with its output when a check failed.
fn run_client_view(python: &Path, transport: &str, f: &FixtureView) -> Value {
    let mut command = Command::new(python);
    command.arg(client_script()).arg(transport);
    match transport {
        "http" => command.args(["--url", &format!("{}/mcp", f.url)]),
        _ => command.args(["--command", BIN, "--data-dir"]).arg(&f.data),
    };
    command.args(["--api", &f.url, "--key", KEY, "--maria-db", &f.maria]);
    let out = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the MCP client ({transport}) failed:\n{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("no report from the client ({e}):\n{stdout}\n{stderr}"));
    assert_eq!(report["ok"], true);
    assert!(report["checks"].as_u64().unwrap() > 100, "{report}");
    report
}

/// stdio without any SDK: every line the server writes to stdout is a JSON-RPC message (logs
/// go to stderr), and it exits cleanly when the client closes stdin.
#[test]
fn stdio_writes_nothing_but_protocol_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let shop = shop_db(dir.path());
    let data = dir.path().join("data");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let app = App::open(Config::local(data.clone())).unwrap();
        let settings = json!({"name": "shop", "kind": "sqlite", "path": shop, "read_only": false});
        connections::create(&app, settings.as_object().unwrap().clone()).await.unwrap();
    });
    let mut child = Command::new(BIN)
        .args(["mcp", "--data-dir"])
        .arg(&data)
        .env("DATA_CONNECTOR_LOG", "debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let messages = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18",
               "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "run_query",
               "arguments": {"connection": "shop", "sql": "SELECT count(*) AS n FROM items"}}}),
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "run_query",
               "arguments": {"connection": "shop", "sql": "DROP TABLE items"}}}),
    ];
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = stdout.lines();
    let mut answers = Vec::new();
    for message in &messages {
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
        if message.get("id").is_some() {
            let line = lines.next().expect("an answer").unwrap();
            let answer: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:?}"));
            assert_eq!(answer["jsonrpc"], "2.0", "{answer}");
            assert_eq!(answer["id"], message["id"], "{answer}");
            answers.push(answer);
        }
    }
    drop(stdin);
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(rest.is_empty(), "stdout after the last answer: {rest:?}");
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "exit {status}: {stderr}");
    assert!(stderr.contains("query"), "logs go to stderr: {stderr}");

    assert_eq!(answers[0]["result"]["serverInfo"]["name"], "data-connector");
    let tools: Vec<&str> = answers[1]["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["describe_table", "list_connections", "list_tables", "run_query"]);
    assert_eq!(answers[2]["result"]["structuredContent"]["rows"], json!([{"n": SHOP_ROWS}]));
    assert_eq!(answers[3]["result"]["isError"], true, "{}", answers[3]);
    let count: i64 = rusqlite::Connection::open(&shop)
        .unwrap()
        .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, SHOP_ROWS);
}

/// The browser's view of `/mcp`: Workspace's origin gets CORS with the session header exposed
/// (its Copilot is a browser MCP client), a preflight is answered before the key is asked for,
/// and a page elsewhere or a rebinding Host is refused.
#[tokio::test]
async fn browser_guards_hold_on_mcp() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::local(dir.path().join("data"));
    config.api_key = Some(KEY.into());
    let app = App::open(config).unwrap();
    let bound = server::bind(app).await.unwrap();
    let addr = bound.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(bound.serve(async move {
        let _ = stopped.await;
    }));
    let url = format!("http://127.0.0.1:{}/mcp", addr.port());
    let client = reqwest::Client::new();
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "page", "version": "1"}}});

    let preflight = client
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://pro.openbb.co")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-api-key,mcp-session-id,mcp-protocol-version",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    let allowed = preflight.headers()["access-control-allow-headers"].to_str().unwrap().to_lowercase();
    assert!(allowed.contains("mcp-session-id") && allowed.contains("x-api-key"), "{allowed}");

    let post = |origin: &'static str| {
        client
            .post(&url)
            .header("origin", origin)
            .header("x-api-key", KEY)
            .header("accept", "application/json, text/event-stream")
            .json(&initialize)
            .send()
    };
    let workspace = post("https://pro.openbb.co").await.unwrap();
    assert_eq!(workspace.status(), 200);
    assert_eq!(workspace.headers()["access-control-allow-origin"], "https://pro.openbb.co");
    let exposed = workspace.headers()["access-control-expose-headers"].to_str().unwrap().to_lowercase();
    assert!(exposed.contains("mcp-session-id"), "{exposed}");
    assert!(workspace.headers().contains_key("mcp-session-id"));

    let foreign = post("https://evil.example").await.unwrap();
    assert_eq!(foreign.status(), 403);
    assert!(foreign.text().await.unwrap().contains("evil.example"));

    let body = initialize.to_string();
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: rebound.example:{}\r\nX-API-KEY: {KEY}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        addr.port(),
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 403"), "{response}");
    assert!(response.contains("DNS rebinding"), "{response}");
    let _ = stop.send(());
}

/// Workspace learns of the server from apps.json, and widgets link to their tools.
#[tokio::test]
async fn workspace_files_advertise_the_server_and_link_widgets() {
    let f = fixture().await;
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{}{path}", f.url)).header("x-api-key", KEY).send();
    let apps: Value = get("/apps.json").await.unwrap().json().await.unwrap();
    let port = f.url.rsplit(':').next().unwrap();
    assert_eq!(
        apps[0]["mcp_servers"],
        json!([{"name": "Data Connector", "url": format!("http://127.0.0.1:{port}/mcp"),
                "description": apps[0]["mcp_servers"][0]["description"]}])
    );
    let widgets: Value = get("/widgets.json").await.unwrap().json().await.unwrap();
    let tool = |id: &str| widgets[id]["mcp_tool"].clone();
    assert_eq!(tool("dc_sql_query"), json!({"mcp_server": "Data Connector", "tool_id": "run_query"}));
    assert_eq!(tool("dc_schema_tables")["tool_id"], "list_tables");
    assert_eq!(tool("dc_schema_columns")["tool_id"], "describe_table");
    assert_eq!(tool("dc_connections")["tool_id"], "list_connections");
    let saved = f.app.state.list_queries(None).unwrap();
    assert_eq!(tool(&format!("dc_saved_query_{}", saved[0].id))["tool_id"], "query_cheap_items");
    assert_eq!(tool(&format!("dc_saved_query_{}", saved[1].id))["tool_id"], "query_maria_totals");
    assert!(widgets["dc_sql_editor"].get("mcp_tool").is_none(), "one widget per tool");
}

/// An MCP client's open event stream does not hold the server open: stopping it (the desktop
/// app does on every restart) ends the sessions and the server stops at once.
#[tokio::test]
async fn an_open_session_does_not_hold_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(Config::local(dir.path().join("data"))).unwrap();
    let bound = server::bind(app).await.unwrap();
    let url = format!("http://127.0.0.1:{}/mcp", bound.local_addr().port());
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(bound.serve(async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let accept = "application/json, text/event-stream";
    let initialized = client
        .post(&url)
        .header("accept", accept)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(initialized.status(), 200);
    let session = initialized.headers()["mcp-session-id"].to_str().unwrap().to_string();
    let _ = initialized.bytes().await.unwrap();
    let notified = client
        .post(&url)
        .header("accept", accept)
        .header("mcp-session-id", &session)
        .json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .send()
        .await
        .unwrap();
    assert_eq!(notified.status(), 202);
    let stream = client
        .get(&url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(!serving.is_finished());

    stop.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), serving)
        .await
        .expect("the server kept running with an MCP session open")
        .unwrap()
        .unwrap();
    drop(stream);
}
