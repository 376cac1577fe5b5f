//! A real headless Chromium loads a page from https://pro.openbb.co (served here with a
//! self-signed certificate, the name mapped to 127.0.0.1) and calls the server cross-origin as
//! Workspace does: widgets.json, then a JSON POST that needs a CORS preflight. The same page
//! from another origin is refused. Driven over WebDriver (chromedriver).
//! Needs Debian's `chromium`, `chromium-driver` and `openssl`, and port 443; `DC_SKIP_BROWSER=1`
//! skips it locally.

use crate::common::*;
use dc_test_support::{skipped, Need};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const FIX: &str = "install Debian's chromium, chromium-driver and openssl (scripts/test.sh does), or set \
                   DC_SKIP_BROWSER=1 to skip the browser test locally";

/// Kills a helper process when the test ends, however it ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on port {port}; {FIX}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn run(cmd: &mut Command, what: &str) {
    let output = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}; {FIX}"));
    assert!(output.status.success(), "{what}: {}", String::from_utf8_lossy(&output.stderr));
}

/// The Workspace-origin site: one page over HTTPS on 127.0.0.1:443.
fn serve_site(dir: &Path) -> Guard {
    std::fs::write(dir.join("index.html"), "<!doctype html><title>Workspace stand-in</title>").unwrap();
    run(
        Command::new("openssl")
            .current_dir(dir)
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem"])
            .args(["-days", "1", "-subj", "/CN=pro.openbb.co"])
            .args(["-addext", "subjectAltName=DNS:pro.openbb.co,DNS:evil.example"]),
        "openssl req",
    );
    let child = Command::new("openssl")
        .current_dir(dir)
        .args(["s_server", "-accept", "443", "-cert", "cert.pem", "-key", "key.pem", "-WWW", "-quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("openssl s_server: {e}; {FIX}"));
    Guard(child)
}

struct Driver {
    client: reqwest::Client,
    url: String,
    session: String,
}

impl Driver {
    async fn start(client: reqwest::Client, port: u16, profile: &Path) -> Self {
        let url = format!("http://127.0.0.1:{port}");
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--ignore-certificate-errors",
            "--host-resolver-rules=MAP pro.openbb.co 127.0.0.1, MAP evil.example 127.0.0.1",
            // The page counts as public, as pro.openbb.co does; the LNA check stands for the user
            // having clicked Allow on Chromium's local-network prompt.
            "--ip-address-space-overrides=127.0.0.1:443=public",
            "--disable-features=LocalNetworkAccessChecks",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect::<Vec<_>>();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "acceptInsecureCerts": true,
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args}}}});
        let response: Value = client
            .post(format!("{url}/session"))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver did not start Chromium: {response}; {FIX}"))
            .to_string();
        Self { client, url, session }
    }

    async fn command(&self, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}/{path}", self.url, self.session);
        let response: Value = self.client.post(url).json(&body).send().await.unwrap().json().await.unwrap();
        response["value"].clone()
    }

    async fn open(&self, url: &str) {
        let result = self.command("url", json!({ "url": url })).await;
        assert!(result.is_null(), "could not open {url}: {result}");
    }

    /// Runs Workspace's two calls from the page and reports what the page saw.
    async fn calls(&self, base: &str) -> Value {
        let script = r#"
            const [base, done] = [arguments[0], arguments[arguments.length - 1]];
            (async () => {
              const out = {origin: location.origin};
              try {
                const r = await fetch(base + "/widgets.json");
                out.widgets_status = r.status;
                out.widgets = Object.keys(await r.json()).length;
              } catch (e) { out.widgets_error = String(e); }
              try {
                const r = await fetch(base + "/widgets/sql/omni", {method: "POST",
                  headers: {"Content-Type": "application/json"},
                  body: JSON.stringify({prompt: "SELECT count(*) AS n FROM items", connection: "shop"})});
                out.omni_status = r.status;
                out.omni = await r.json();
              } catch (e) { out.omni_error = String(e); }
              done(out);
            })();"#;
        self.command("execute/async", json!({"script": script, "args": [base]})).await
    }

    async fn quit(&self) {
        let _ = self.client.delete(format!("{}/session/{}", self.url, self.session)).send().await;
    }
}

#[tokio::test]
async fn chromium_on_workspace_origin_loads_widgets_and_runs_a_query() {
    if skipped(Need::Browser) {
        return;
    }
    assert!(Path::new(CHROMIUM).exists(), "{CHROMIUM} is missing; {FIX}");
    let s = start().await;
    let db = items_db(s.dir.path(), 12);
    s.add_sqlite("shop", &db, true).await;
    let site_dir = tempfile::tempdir().unwrap();
    let _site = serve_site(site_dir.path());
    wait_for_port(443, "openssl s_server").await;

    let driver_port = portpicker::pick_unused_port().expect("a free port for chromedriver");
    let driver = Command::new("chromedriver")
        .arg(format!("--port={driver_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("chromedriver: {e}; {FIX}"));
    let _driver_guard = Guard(driver);
    wait_for_port(driver_port, "chromedriver").await;
    let profile = tempfile::tempdir().unwrap();
    let browser = Driver::start(reqwest::Client::new(), driver_port, profile.path()).await;
    let base = format!("http://localhost:{}", s.addr.port());

    browser.open("https://pro.openbb.co/index.html").await;
    let seen = browser.calls(&base).await;
    browser.open("https://evil.example/index.html").await;
    let refused = browser.calls(&base).await;
    browser.quit().await;

    assert_eq!(seen["origin"], "https://pro.openbb.co", "{seen}");
    assert_eq!(seen["widgets_status"], 200, "{seen}");
    assert!(seen["widgets"].as_u64().unwrap() >= 7, "{seen}");
    assert_eq!(seen["omni_status"], 200, "{seen}");
    assert_eq!(seen["omni"]["content"], json!([{"n": 12}]), "{seen}");
    assert_eq!(refused["origin"], "https://evil.example", "{refused}");
    assert!(refused["widgets_error"].as_str().is_some_and(|e| e.contains("Failed to fetch")), "{refused}");
    assert!(refused["omni_error"].is_string(), "{refused}");

    // The preflight the page needed, answered before any check, with Private Network Access.
    let preflight = s
        .client
        .request(reqwest::Method::OPTIONS, s.at("/widgets/sql/omni"))
        .header("Origin", "https://pro.openbb.co")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type,authorization")
        .header("Access-Control-Request-Private-Network", "true")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], "https://pro.openbb.co");
    assert_eq!(headers["access-control-allow-private-network"], "true");
    assert!(headers["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    // The query the browser ran is in the log, from the widget route.
    assert!(s
        .log()
        .await
        .iter()
        .any(|e| e["source"] == "widget" && e["sql"] == "SELECT count(*) AS n FROM items"));
}
