//! End-to-end test of the desktop window: the real app, driven over WebDriver (tauri-driver +
//! WebKitWebDriver), with the real OS keyring and the real MariaDB.
//!
//! Run it with `scripts/test-desktop.sh`, which builds the app, starts Xvfb, a D-Bus session
//! with an unlocked throwaway GNOME Keyring and tauri-driver, and sets `DC_DESKTOP_E2E=1`.
//! Under a plain `cargo test` it fails and says so, unless `DC_SKIP_DESKTOP=1` opts out. The
//! MariaDB user is made on `DC_TEST_MYSQL_URL`'s server (`dc_test_support::mysql`).

// Test code: a failed expectation is the test failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dc_test_support::mysql::MysqlDb;
use dc_test_support::{skipped, Need};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::future::Future;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const WAIT: Duration = Duration::from_secs(20);

/// Whether the desktop tests should run here; panics when they cannot and nobody opted out, so a
/// plain `cargo test` never passes them silently.
fn desktop_session() -> Option<String> {
    if std::env::var("DC_DESKTOP_E2E").as_deref() != Ok("1") {
        if skipped(Need::Desktop) {
            return None;
        }
        panic!(
            "the desktop window tests need Xvfb, a keyring session and tauri-driver: run \
             scripts/test-desktop.sh (or set DC_SKIP_DESKTOP=1 to skip them on purpose)"
        );
    }
    let app = std::env::var("TAURI_APP").expect("TAURI_APP must name the built data-connector-app binary");
    assert!(Path::new(&app).is_file(), "TAURI_APP={app} does not exist; build the app first");
    Some(app)
}

async fn run(c: &Client, shots: Option<&Path>) -> TestResult {
    wait_until_loaded(c).await?;
    install_error_hooks(c).await?;
    let layout =
        c.execute("return getComputedStyle(document.querySelector('.shell')).display", vec![]).await?;
    assert_eq!(layout, json!("grid"), "styles.css did not load");

    // 1. Recommend Port fills in a free port.
    eprintln!("window test: step 1");
    // The field opens holding the saved port; emptied first, the wait below can only see the
    // answer of recommend_port, not the saved port read before that answer arrives.
    c.find(Locator::Id("port")).await?.clear().await?;
    click(c, Locator::Id("recommend-port")).await?;
    let port = wait_for("a recommended port", || async {
        let value = input_value(c, "port").await.ok()?;
        value.parse::<u16>().ok().filter(|p| *p > 0)
    })
    .await?;
    assert!(port_is_free(port), "the recommended port {port} is not free");

    // 2. Start: GET / answers on that port.
    eprintln!("window test: step 2");
    click(c, Locator::Id("start")).await?;
    wait_for("the Stop button", || async { visible(c, "stop").await.then_some(()) }).await?;
    let (status, about) = http(port, "GET", "/", None)?;
    assert_eq!(status, 200, "GET / answered {status}: {about}");
    let about: Value = serde_json::from_str(&about)?;
    assert!(about["version"].is_string(), "GET / has no version: {about}");
    let url = input_value(c, "workspace-url").await?;
    assert_eq!(url, format!("http://localhost:{port}"));
    let status_text = c.find(Locator::Id("status-text")).await?.text().await?;
    assert!(status_text.contains(&format!("127.0.0.1:{port}")), "status says {status_text:?}");

    // 3. An SQLite connection added through the form appears in the API.
    eprintln!("window test: step 3");
    let db = sqlite_fixture()?;
    click(c, Locator::Css(".nav-item[data-view=connections]")).await?;
    c.wait().at_most(WAIT).for_element(Locator::Id("conn-empty")).await?;
    click(c, Locator::Id("add-conn")).await?;
    pick_kind(c, "sqlite").await?;
    type_into(c, "f-name", "e2e sqlite").await?;
    type_into(c, "f-path", &db.display().to_string()).await?;
    click(c, Locator::Id("conn-save")).await?;
    wait_for_connection_card(c, "e2e sqlite").await?;
    let names = api_connection_names(port)?;
    assert!(names.contains(&"e2e sqlite".to_string()), "GET /api/v1/connections lists {names:?}");

    // The Snowflake form shows the secrets of the chosen sign-in method only.
    click(c, Locator::Id("add-conn")).await?;
    pick_kind(c, "snowflake").await?;
    // A programmatic access token first: Snowflake no longer signs in with a password alone.
    assert!(visible(c, "f-pat").await && !visible(c, "f-sf-password").await, "access token field");
    c.find(Locator::Id("f-auth")).await?.select_by_value("snowflake").await?;
    assert!(visible(c, "f-sf-password").await && visible(c, "f-passcode").await, "password sign-in fields");
    assert!(!visible(c, "f-pat").await, "the access token field stays for password sign-in");
    c.find(Locator::Id("f-auth")).await?.select_by_value("snowflake_jwt").await?;
    assert!(visible(c, "f-private-key").await && visible(c, "f-passphrase").await, "key pair fields");
    assert!(!visible(c, "f-sf-password").await, "the password field stays for key pair sign-in");
    c.find(Locator::Id("f-auth")).await?.select_by_value("oauth").await?;
    assert!(visible(c, "f-token").await && !visible(c, "f-private-key").await, "OAuth fields");
    c.find(Locator::Id("f-auth")).await?.select_by_value("snowflake_jwt").await?;
    type_into(c, "f-account", "myorg-myaccount").await?;
    type_into(c, "f-sf-user", "analyst").await?;
    screenshot(c, shots, "snowflake-form.png").await?;
    click(c, Locator::Id("conn-cancel")).await?;

    // A DuckDB connection without a path: an in-memory database whose queries read any file;
    // the form offers the file and folder pickers.
    click(c, Locator::Id("add-conn")).await?;
    pick_kind(c, "duckdb").await?;
    assert!(visible(c, "browse-duck-file").await && visible(c, "browse-duck-folder").await, "DuckDB pickers");
    type_into(c, "f-name", "e2e duckdb").await?;
    click(c, Locator::Id("conn-save")).await?;
    wait_for_connection_card(c, "e2e duckdb").await?;
    let query = json!({ "connection": "e2e duckdb", "sql": "select 40 + 2 as answer, 'duck' as engine" });
    let (status, body) = http(port, "POST", "/api/v1/query", Some(&query.to_string()))?;
    assert_eq!((status, body.as_str()), (200, r#"[{"answer":42,"engine":"duck"}]"#), "DuckDB query");

    // 4. A MariaDB connection's password goes to the keyring, and nowhere in the window.
    eprintln!("window test: step 4");
    let maria = MysqlDb::create().await.ok_or("the window test needs MariaDB, but DC_SKIP_MYSQL=1 is set")?;
    click(c, Locator::Id("add-conn")).await?;
    pick_kind(c, "mysql").await?;
    type_into(c, "f-name", "e2e-mariadb").await?;
    type_into(c, "f-host", &maria.host).await?;
    type_into(c, "f-port", &maria.port.to_string()).await?;
    type_into(c, "f-user", &maria.user).await?;
    type_into(c, "f-password", &maria.password).await?;
    type_into(c, "f-database", &maria.db).await?;
    click(c, Locator::Id("conn-save")).await?;
    wait_for_connection_card(c, "e2e-mariadb").await?;
    let stored = keyring_lookup("e2e-mariadb")?.ok_or("no keyring entry for e2e-mariadb")?;
    let stored: Value = serde_json::from_str(&stored)?;
    assert_eq!(stored, json!({ "password": maria.password }), "keyring entry");
    assert!(!c.source().await?.contains(&maria.password), "the password is visible in the window");

    // Testing it from the list reaches the server.
    click(c, Locator::Css("article.conn[data-name='e2e-mariadb'] [data-action=test]")).await?;
    let result = wait_for("the test result", || async {
        let text = c
            .find(Locator::Css("article.conn[data-name='e2e-mariadb'] .conn-result"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        (text.starts_with("Connected") || text.contains("rror")).then_some(text)
    })
    .await?;
    assert!(result.starts_with("Connected"), "test said {result:?}");

    // Editing shows that the password is saved without showing it.
    click(c, Locator::Css("article.conn[data-name='e2e-mariadb'] [data-action=edit]")).await?;
    let field = c.find(Locator::Id("f-password")).await?;
    assert_eq!(field.prop("value").await?.unwrap_or_default(), "");
    let placeholder = field.attr("placeholder").await?.unwrap_or_default();
    assert!(placeholder.contains("keyring"), "placeholder {placeholder:?}");
    screenshot(c, shots, "edit-connection.png").await?;
    click(c, Locator::Id("conn-cancel")).await?;
    screenshot(c, shots, "connections.png").await?;

    // Deleting it through the window removes the keyring entry too.
    click(c, Locator::Css("article.conn[data-name='e2e-mariadb'] [data-action=delete]")).await?;
    click(c, Locator::Id("confirm-ok")).await?;
    wait_for("the MariaDB card to go", || async {
        c.find(Locator::Css("article.conn[data-name='e2e-mariadb']")).await.is_err().then_some(())
    })
    .await?;
    assert_eq!(keyring_lookup("e2e-mariadb")?, None, "the keyring entry outlived the connection");
    drop(maria);

    // 5. A query through the API shows in Activity.
    eprintln!("window test: step 5");
    let body =
        json!({ "connection": "e2e sqlite", "sql": "SELECT symbol, close FROM prices ORDER BY symbol" });
    let (status, rows) = http(port, "POST", "/api/v1/query", Some(&body.to_string()))?;
    assert_eq!(status, 200, "query answered {status}: {rows}");
    click(c, Locator::Css(".nav-item[data-view=activity]")).await?;
    let row = wait_for("the query in Activity", || async {
        let text = c.find(Locator::Css("#log-body tr")).await.ok()?.text().await.ok()?;
        text.contains("e2e sqlite").then_some(text)
    })
    .await?;
    // The Activity view names the source in words: "api" shows as "API".
    assert!(row.contains("OK") && row.contains("API"), "activity row {row:?}");

    screenshot(c, shots, "activity.png").await?;

    // 5b. The Queries view: SQL with a parameter, previewed, saved, served to Workspace.
    eprintln!("window test: step 5b");
    queries_view(c, port, shots).await?;

    // The screenshot for the docs: the server running, ready to paste into Workspace.
    click(c, Locator::Css(".nav-item[data-view=server]")).await?;
    wait_for("the Server view", || async { visible(c, "view-server").await.then_some(()) }).await?;
    screenshot(c, shots, "server-running.png").await?;
    click(c, Locator::Css(".nav-item[data-view=settings]")).await?;
    wait_for("the Settings view", || async { visible(c, "view-settings").await.then_some(()) }).await?;
    let data_dir = c.find(Locator::Id("s-data-dir")).await?.text().await?;
    if let Ok(expected) = std::env::var("DATA_CONNECTOR_DATA_DIR") {
        assert_eq!(data_dir, expected, "the app is not using the test's data folder");
    }
    screenshot(c, shots, "settings.png").await?;

    // Settings: a bad origin is refused by its field; a good one and an API key restart the
    // server, which then enforces both.
    type_into(c, "s-origins", "not-an-origin").await?;
    click(c, Locator::Id("settings-save")).await?;
    let message = wait_for("the origin message", || async {
        let text = c.find(Locator::Id("s-origins-msg")).await.ok()?.text().await.ok()?;
        (!text.is_empty()).then_some(text)
    })
    .await?;
    assert!(message.contains("not an origin"), "origin message {message:?}");
    type_into(c, "s-origins", "http://localhost:5173").await?;
    click(c, Locator::Id("api-key-set")).await?;
    click(c, Locator::Id("api-key-generate")).await?;
    let key = input_value(c, "s-api-key").await?;
    assert!(key.len() >= 16, "generated key {key:?}");
    click(c, Locator::Id("settings-save")).await?;
    let saved = wait_for("the settings to save", || async {
        let text = c.find(Locator::Id("settings-status")).await.ok()?.text().await.ok()?;
        text.starts_with("Saved").then_some(text)
    })
    .await?;
    assert!(saved.contains("restarted"), "settings status {saved:?}");
    assert!(!c.source().await?.contains(&key), "the API key is still visible after saving");
    let stored = keyring_lookup(".desktop-api-key")?.ok_or("the API key is not in the keyring")?;
    assert!(stored.contains(&key), "the keyring holds another key");
    let (status, _) = http(port, "GET", "/api/v1/connections", None)?;
    assert_eq!(status, 401, "a request without the API key got {status}");
    let with_key = [("X-API-KEY", key.as_str())];
    let (status, _) = http_with(port, "GET", "/api/v1/connections", None, &with_key)?;
    assert_eq!(status, 200, "a request with the API key got {status}");
    let allowed = [("X-API-KEY", key.as_str()), ("Origin", "http://localhost:5173")];
    let (status, _) = http_with(port, "GET", "/api/v1/connections", None, &allowed)?;
    assert_eq!(status, 200, "the allowed origin got {status}");
    let other = [("X-API-KEY", key.as_str()), ("Origin", "https://elsewhere.example")];
    let (status, _) = http_with(port, "GET", "/api/v1/connections", None, &other)?;
    assert_eq!(status, 403, "an origin that is not allowed got {status}");
    click(c, Locator::Css(".nav-item[data-view=server]")).await?;
    wait_for("the Server view", || async { visible(c, "view-server").await.then_some(()) }).await?;
    let note = visible(c, "api-key-note").await;
    assert!(note, "the Server view does not say that an API key is required");

    // 6. Stop frees the port.
    eprintln!("window test: step 6");
    click(c, Locator::Id("stop")).await?;
    wait_for("the Start button", || async { visible(c, "start").await.then_some(()) }).await?;
    assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(), "the server still answers after Stop");
    assert!(port_is_free(port), "port {port} is still taken after Stop");

    // 7. A port in use, and a port that is not a number, are explained by the field.
    eprintln!("window test: step 7");
    let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let taken = held.local_addr()?.port();
    type_into(c, "port", &taken.to_string()).await?;
    click(c, Locator::Id("start")).await?;
    let message = wait_for("the port-in-use message", || async {
        let text = c.find(Locator::Id("port-msg")).await.ok()?.text().await.ok()?;
        (!text.is_empty()).then_some(text)
    })
    .await?;
    assert!(message.contains("already in use"), "port message {message:?}");
    assert!(visible(c, "start").await, "the server claims to run on a taken port");
    let invalid = c.find(Locator::Id("port")).await?.attr("aria-invalid").await?;
    assert_eq!(invalid.as_deref(), Some("true"));
    drop(held);

    type_into(c, "port", "70000").await?;
    click(c, Locator::Id("start")).await?;
    let message = c.find(Locator::Id("port-msg")).await?.text().await?;
    assert!(message.contains("not a port"), "port message {message:?}");

    // 8. Nothing went wrong in the page along the way.
    eprintln!("window test: step 8");
    let errors = c.execute("return window.__e2eErrors", vec![]).await?;
    assert_eq!(errors, json!([]), "console errors or warnings in the window");
    std::fs::remove_file(&db)?;
    Ok(())
}

/// Writes a saved query with a `{{symbol}}` parameter in the Queries view, previews it (with the
/// default, with a typed value, with an injection attempt, a refused write, and with an error
/// shown in place), saves it as a chart, and checks that Workspace's widgets.json and the
/// widget's endpoint serve it; then renames it and deletes it, each seen in widgets.json.
async fn queries_view(c: &Client, port: u16, shots: Option<&Path>) -> TestResult {
    click(c, Locator::Css(".nav-item[data-view=queries]")).await?;
    wait_for("the Queries view", || async { visible(c, "view-queries").await.then_some(()) }).await?;
    click(c, Locator::Id("q-new")).await?;
    type_into(c, "q-name", "E2E closing price").await?;
    wait_for("the connection choices", || async {
        c.find(Locator::Css("#q-connection option[value='e2e sqlite']")).await.ok().map(|_| ())
    })
    .await?;
    c.find(Locator::Id("q-connection")).await?.select_by_value("e2e sqlite").await?;
    type_into(c, "q-description", "Closing price of one symbol").await?;
    type_into(c, "q-sql", "SELECT symbol, close FROM prices WHERE symbol = {{symbol}} ORDER BY symbol")
        .await?;

    // The parameter row comes from the SQL; its default is what Workspace starts with.
    click(c, Locator::Id("q-detect")).await?;
    let row = "#q-params tr[data-param-row]:first-child";
    let name = c.find(Locator::Css(&format!("{row} .p-name"))).await?.prop("value").await?;
    assert_eq!(name.as_deref(), Some("symbol"), "the parameter row for {{{{symbol}}}}");
    c.find(Locator::Css(&format!("{row} .p-label"))).await?.send_keys("Symbol").await?;
    c.find(Locator::Css(&format!("{row} .p-default"))).await?.send_keys("AAPL").await?;
    c.find(Locator::Css(&format!("{row} .p-options"))).await?.send_keys("AAPL, MSFT").await?;

    let preview = |expect: &'static str| async move {
        click(c, Locator::Id("q-preview")).await?;
        wait_for(expect, || async {
            let status = rendered_text(c, "q-preview-status").await.ok()?;
            let error = c.find(Locator::Id("q-preview-error")).await.ok()?;
            let failed = error.is_displayed().await.ok()?;
            if failed {
                return Some(Err(rendered_text(c, "q-preview-error").await.ok()?));
            }
            (status.contains(" · ")).then_some(Ok(status))
        })
        .await
    };
    let status =
        preview("the preview with the default").await?.map_err(|e| format!("preview failed: {e}"))?;
    assert!(status.starts_with("1 row · "), "preview status {status:?}");
    let grid = rendered_text(c, "q-preview-body").await?;
    assert!(
        grid.contains("AAPL") && grid.contains("189.5") && !grid.contains("MSFT"),
        "preview grid {grid:?}"
    );
    let head = rendered_text(c, "q-preview-head").await?;
    assert!(head.contains("symbol") && head.contains("close"), "preview columns {head:?}");

    // A value typed for the preview replaces the default; an injection attempt is only a value.
    type_into_css(c, &format!("{row} .p-value"), "MSFT").await?;
    preview("the preview with a value").await?.map_err(|e| format!("preview failed: {e}"))?;
    let grid = rendered_text(c, "q-preview-body").await?;
    assert!(grid.contains("MSFT") && !grid.contains("AAPL"), "preview grid {grid:?}");
    type_into_css(c, &format!("{row} .p-value"), "x' OR '1'='1").await?;
    let status =
        preview("the preview of an injection attempt").await?.map_err(|e| format!("preview failed: {e}"))?;
    assert!(status.starts_with("0 rows · "), "an injection attempt returned rows: {status:?}");
    c.find(Locator::Css(&format!("{row} .p-value"))).await?.clear().await?;

    // A preview never writes: a DELETE is refused in place, and the rows are still there after.
    let good_sql = input_value(c, "q-sql").await?;
    type_into(c, "q-sql", "DELETE FROM prices").await?;
    let refused = preview("the refused write").await?.err().ok_or("a DELETE previewed without an error")?;
    assert!(refused.contains("read-only"), "the refused write said {refused:?}");

    // An error shows in place, and the SQL is kept.
    type_into(c, "q-sql", "SELECT no_such_column FROM prices").await?;
    let error = preview("the preview error").await?.err().ok_or("a bad column previewed without an error")?;
    assert!(error.contains("no_such_column"), "preview error {error:?}");
    type_into(c, "q-sql", &good_sql).await?;
    preview("the preview after the fix").await?.map_err(|e| format!("preview failed: {e}"))?;
    let grid = rendered_text(c, "q-preview-body").await?;
    assert!(grid.contains("AAPL") && grid.contains("189.5"), "rows after the refused DELETE: {grid:?}");

    // Shown as a bar chart of close by symbol.
    click(c, Locator::Css("#q-display-picker input[value=chart] + span")).await?;
    c.find(Locator::Id("q-chart-type")).await?.select_by_value("bar").await?;
    type_into(c, "q-chart-x", "symbol").await?;
    type_into(c, "q-chart-y", "close").await?;
    type_into(c, "q-category", "E2E").await?;
    click(c, Locator::Id("q-save")).await?;
    let saved = wait_for("the query to save", || async {
        let text = rendered_text(c, "q-status").await.ok()?;
        (!text.is_empty()).then_some(text)
    })
    .await?;
    assert!(saved.starts_with("Saved"), "save said {saved:?}");
    wait_for("the query in the list", || async {
        let text = rendered_text(c, "q-list").await.ok()?;
        text.contains("E2E closing price").then_some(())
    })
    .await?;
    screenshot(c, shots, "queries.png").await?;

    // Workspace sees it: one widget, its parameter an input with the default and the options.
    let (id, widget) = saved_widget(port, "E2E closing price")?;
    let params = widget["params"].as_array().ok_or("the widget has no params")?;
    let symbol = params.iter().find(|p| p["paramName"] == "symbol").ok_or("no symbol param")?;
    assert_eq!(symbol["value"], "AAPL", "{symbol}");
    assert_eq!(symbol["label"], "Symbol", "{symbol}");
    assert_eq!(widget["category"], "E2E", "{widget}");
    let (status, saved_query) = http(port, "GET", &format!("/api/v1/queries/{id}"), None)?;
    assert_eq!(status, 200, "{saved_query}");
    let saved_query: Value = serde_json::from_str(&saved_query)?;
    assert_eq!(saved_query["parameters"][0]["options"], json!(["AAPL", "MSFT"]), "{saved_query}");
    assert_eq!(saved_query["display"]["type"], "chart", "{saved_query}");
    assert_eq!(saved_query["display"]["chart_type"], "bar", "{saved_query}");
    assert_eq!(saved_query["display"]["y"], json!(["close"]), "{saved_query}");
    // Its endpoint answers Workspace's request with the value bound.
    let endpoint = widget["endpoint"].as_str().ok_or("the widget has no endpoint")?;
    let (status, rows) =
        http(port, "GET", &format!("/{}?symbol=MSFT", endpoint.trim_start_matches('/')), None)?;
    assert_eq!(status, 200, "the widget answered {status}: {rows}");
    assert!(rows.contains("MSFT") && !rows.contains("AAPL"), "the widget answered {rows}");

    // Renamed in the window, renamed in Workspace.
    type_into(c, "q-name", "E2E close").await?;
    click(c, Locator::Id("q-save")).await?;
    wait_for("the rename", || async { saved_widget(port, "E2E close").ok().map(|_| ()) }).await?;

    // Deleted in the window, gone from Workspace.
    click(c, Locator::Id("q-delete")).await?;
    click(c, Locator::Id("q-confirm-ok")).await?;
    wait_for("the widget to go", || async {
        let (_, body) = http(port, "GET", "/widgets.json", None).ok()?;
        (!body.contains(&format!("\"dc_saved_query_{id}\""))).then_some(())
    })
    .await?;
    wait_for("the list to empty", || async { visible(c, "q-empty").await.then_some(()) }).await?;
    Ok(())
}

/// The saved query named `name` as Workspace's widgets.json shows it: its id and widget.
fn saved_widget(port: u16, name: &str) -> TestResult<(i64, Value)> {
    let (status, body) = http(port, "GET", "/widgets.json", None)?;
    assert_eq!(status, 200, "GET /widgets.json answered {status}: {body}");
    let widgets: Value = serde_json::from_str(&body)?;
    let found = widgets
        .as_object()
        .ok_or("widgets.json is not an object")?
        .iter()
        .find(|(key, w)| key.starts_with("dc_saved_query_") && w["name"] == name)
        .ok_or_else(|| format!("no widget named {name:?} in widgets.json"))?;
    let id = found.0.trim_start_matches("dc_saved_query_").parse()?;
    Ok((id, found.1.clone()))
}

/// The text of an element after scrolling it into view: WebKitWebDriver reports the text of
/// rows below the fold of the window's scrolled editor as empty.
async fn rendered_text(c: &Client, id: &str) -> TestResult<String> {
    let script = "const e = document.getElementById(arguments[0]); e.scrollIntoView(); return e.innerText;";
    let value = c.execute(script, vec![json!(id)]).await?;
    Ok(value.as_str().unwrap_or_default().to_string())
}

async fn type_into_css(c: &Client, css: &str, text: &str) -> TestResult {
    let field = c.find(Locator::Css(css)).await?;
    field.clear().await?;
    field.send_keys(text).await?;
    Ok(())
}

/// The app started directly (not through WebDriver) on its own data folder, with the server
/// started on open. Killed when dropped, should a check fail first.
struct Launched {
    child: std::process::Child,
    port: u16,
    dir: PathBuf,
}

impl Launched {
    fn start(app: &str, close_to_tray: bool) -> TestResult<Self> {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port();
        let dir = std::env::temp_dir().join(format!("dc-close-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let settings = json!({ "port": port, "start_on_open": true, "close_to_tray": close_to_tray });
        std::fs::write(dir.join("desktop.json"), settings.to_string())?;
        let log = std::fs::File::create(dir.join("app.log"))?;
        let child = Command::new(app)
            .env("DATA_CONNECTOR_DATA_DIR", &dir)
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let launched = Self { child, port, dir };
        let start = Instant::now();
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if start.elapsed() > WAIT {
                return Err(format!("the server did not start on open; app log:\n{}", launched.log()).into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(launched)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn wait_exit(&mut self, timeout: Duration) -> TestResult<std::process::ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if start.elapsed() > timeout {
                return Err(format!("still running after {timeout:?}; app log:\n{}", self.log()).into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("app.log")).unwrap_or_default()
    }
}

impl Drop for Launched {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn close_window(pid: u32) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/close_window.py");
    // Debian's python3, which python3-xlib belongs to (a pyenv python3 would lack it).
    let out = Command::new("/usr/bin/python3")
        .arg(&script)
        .arg(pid.to_string())
        .output()
        .expect("run close_window.py");
    assert!(out.status.success(), "close_window.py: {}", String::from_utf8_lossy(&out.stderr));
}

/// Saves a screenshot when asked to (DC_SCREENSHOT_DIR), once the toasts have faded so the
/// picture shows the view itself.
/// Clicks once no toast is showing: toasts sit over the bottom-right corner, where the Queries
/// view's Preview and Save buttons are, and a click that lands on a toast fails with an empty
/// WebDriver error.
async fn click(c: &Client, locator: Locator<'_>) -> TestResult {
    wait_for("the toasts to fade", || async { c.find(Locator::Css(".toast")).await.is_err().then_some(()) })
        .await?;
    c.find(locator).await?.click().await?;
    Ok(())
}

async fn screenshot(c: &Client, shots: Option<&Path>, name: &str) -> TestResult {
    let Some(dir) = shots else { return Ok(()) };
    wait_for("the toasts to fade", || async { c.find(Locator::Css(".toast")).await.is_err().then_some(()) })
        .await?;
    std::fs::write(dir.join(name), c.screenshot().await?)?;
    Ok(())
}

/// Records uncaught errors, rejected promises, CSP violations and console errors/warnings.
async fn install_error_hooks(c: &Client) -> TestResult {
    c.execute(
        r#"
        window.__e2eErrors = [];
        const push = (what) => window.__e2eErrors.push(String(what));
        window.addEventListener('error', (e) => push('error: ' + e.message));
        window.addEventListener('unhandledrejection', (e) => push('rejection: ' + (e.reason && e.reason.message || JSON.stringify(e.reason))));
        document.addEventListener('securitypolicyviolation', (e) => push('CSP: ' + e.violatedDirective + ' ' + e.blockedURI));
        for (const level of ['error', 'warn']) {
            const original = console[level];
            console[level] = (...args) => { push(level + ': ' + args.map(String).join(' ')); original.apply(console, args); };
        }
        "#,
        vec![],
    )
    .await?;
    Ok(())
}

/// Waits for main.js to mark the page ready. Until WebKit has loaded the page, WebDriver calls
/// may fail with errors other than "no such element" (seen once on a cold first launch, as an
/// empty "unknown error"), so any error counts as "not yet" and the last one is reported.
async fn wait_until_loaded(c: &Client) -> TestResult {
    let start = Instant::now();
    loop {
        let last_error = match c.find(Locator::Css("body[data-ready]")).await {
            Ok(_) => return Ok(()),
            Err(e) => e.to_string(),
        };
        if start.elapsed() > WAIT {
            let url = c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
            return Err(format!("the window did not load within {WAIT:?} (at {url:?}): {last_error}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for<T, F, Fut>(what: &str, mut probe: F) -> TestResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(found) = probe().await {
            return Ok(found);
        }
        if start.elapsed() > WAIT {
            return Err(format!("timed out after {WAIT:?} waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for_connection_card(c: &Client, name: &str) -> TestResult {
    let selector = format!("article.conn[data-name='{name}']");
    wait_for(&format!("the {name} card"), || async {
        if c.find(Locator::Css(&selector)).await.is_ok() {
            return Some(Ok(()));
        }
        // A failed save shows its reason in the dialog; report that instead of timing out.
        let error = c.find(Locator::Id("conn-error")).await.ok()?;
        let text = error.text().await.ok()?;
        (!text.is_empty() && error.is_displayed().await.ok()?)
            .then(|| Err(format!("saving {name} failed: {text}")))
    })
    .await?
    .map_err(Into::into)
}

async fn pick_kind(c: &Client, kind: &str) -> TestResult {
    // The radio itself is visually hidden; its label is what people click.
    click(c, Locator::Css(&format!("#kind-picker input[value={kind}] + span"))).await?;
    Ok(())
}

async fn type_into(c: &Client, id: &str, text: &str) -> TestResult<Element> {
    let field = c.find(Locator::Id(id)).await?;
    field.clear().await?;
    field.send_keys(text).await?;
    Ok(field)
}

async fn input_value(c: &Client, id: &str) -> TestResult<String> {
    Ok(c.find(Locator::Id(id)).await?.prop("value").await?.unwrap_or_default())
}

async fn visible(c: &Client, id: &str) -> bool {
    match c.find(Locator::Id(id)).await {
        Ok(element) => element.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// One HTTP/1.1 request as a browser-less client sends it (no Origin), answer decoded.
fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> TestResult<(u16, String)> {
    http_with(port, method, path, body, &[])
}

fn http_with(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> TestResult<(u16, String)> {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
    stream.set_read_timeout(Some(Duration::from_secs(15)))?;
    let body = body.unwrap_or("");
    let extra: String = headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n{extra}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8(raw)?;
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no end of headers")?;
    let status = head.split_whitespace().nth(1).ok_or("no status")?.parse()?;
    let chunked = head.lines().any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding: chunked"));
    Ok((status, if chunked { dechunk(body)? } else { body.to_string() }))
}

fn dechunk(mut body: &str) -> TestResult<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").ok_or("bad chunk")?;
        let size = usize::from_str_radix(size.trim(), 16)?;
        if size == 0 {
            return Ok(out);
        }
        out.push_str(rest.get(..size).ok_or("short chunk")?);
        body = rest.get(size + 2..).ok_or("short chunk")?;
    }
}

fn api_connection_names(port: u16) -> TestResult<Vec<String>> {
    let (status, body) = http(port, "GET", "/api/v1/connections", None)?;
    assert_eq!(status, 200, "GET /api/v1/connections answered {status}: {body}");
    let list: Value = serde_json::from_str(&body)?;
    let items = list.as_array().or_else(|| list["connections"].as_array()).ok_or("not a list")?;
    Ok(items.iter().filter_map(|c| c["name"].as_str().map(str::to_string)).collect())
}

fn sqlite_fixture() -> TestResult<PathBuf> {
    let path = std::env::temp_dir().join(format!("dc-e2e-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let db = rusqlite::Connection::open(&path)?;
    db.execute_batch(
        "CREATE TABLE prices (symbol TEXT, close REAL); \
         INSERT INTO prices VALUES ('AAPL', 189.5), ('MSFT', 411.25);",
    )?;
    Ok(path)
}

fn keyring_lookup(account: &str) -> TestResult<Option<String>> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "data-connector", "username", account])
        .output()
        .map_err(|e| format!("secret-tool: {e}"))?;
    // secret-tool exits 1 with no output when nothing matches.
    if out.stdout.is_empty() {
        return Ok(None);
    }
    Ok(Some(String::from_utf8(out.stdout)?.trim_end_matches('\n').to_string()))
}

/// The tests themselves, in one module so that `scripts/test.sh` can leave them out of its
/// general `cargo test` run by name (`--skip window_e2e::`): they run in the step after it, in the
/// session `scripts/test-desktop.sh` sets up.
mod window_e2e {
    use super::*;

    #[tokio::test]
    async fn desktop_window_end_to_end() {
        let Some(app) = desktop_session() else { return };
        let webdriver = std::env::var("WEBDRIVER_URL").unwrap_or_else(|_| "http://127.0.0.1:4444".into());
        let shots = std::env::var_os("DC_SCREENSHOT_DIR").map(PathBuf::from);

        // Several crates enable different rustls backends; without a choice rustls panics.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert("tauri:options".into(), json!({ "application": app }));
        let client = ClientBuilder::rustls()
            .expect("TLS setup for the WebDriver client")
            .capabilities(caps)
            .connect(&webdriver)
            .await
            .expect("cannot open a WebDriver session: is tauri-driver running?");

        let outcome = run(&client, shots.as_deref()).await;
        if outcome.is_err() {
            if let Some(dir) = &shots {
                if let Ok(png) = client.screenshot().await {
                    let _ = std::fs::write(dir.join("failure.png"), png);
                }
            }
        }
        // Ends the session, which closes the app (and stops its server).
        let _ = client.close().await;
        if let Err(e) = outcome {
            panic!("{e}");
        }
    }

    /// Closing the window (as a window manager's close button does) stops the server and ends the
    /// app; with "keep running in the tray" chosen, the server keeps answering.
    #[tokio::test]
    async fn closing_the_window_stops_the_server() {
        let Some(app) = desktop_session() else { return };

        let mut plain = Launched::start(&app, false).expect("launch the app");
        close_window(plain.pid());
        let status =
            plain.wait_exit(Duration::from_secs(15)).expect("the app did not exit after its window closed");
        assert!(status.success(), "the app exited with {status}");
        assert!(port_is_free(plain.port), "port {} is still taken after the window closed", plain.port);
        let log = plain.log();
        assert!(log.contains(&format!("server on port {} stopped", plain.port)), "app log:\n{log}");

        let mut tray = Launched::start(&app, true).expect("launch the app");
        close_window(tray.pid());
        std::thread::sleep(Duration::from_millis(1500));
        assert!(
            tray.child.try_wait().expect("app status").is_none(),
            "the app quit although it should stay in the tray"
        );
        let (status, _) = http(tray.port, "GET", "/", None).expect("the server went away with the window");
        assert_eq!(status, 200);
    }
}
