//! Chromium over TLS. On Linux, Chromium trusts what the NSS database in `$HOME/.pki/nssdb`
//! trusts, so each browser gets its own `HOME`: one filled by `data-connector tls install-ca`
//! (our CA and nothing else added), one left empty. The page is a second `serve --tls` on
//! another port, so the call is cross-origin https -> https as from Workspace.

use super::*;
use dc_test_support::{skipped, Need};
use serde_json::{json, Value};

const CHROMIUM: &str = "/usr/bin/chromium";
const FIX: &str = "install Debian's chromium, chromium-driver and libnss3-tools (scripts/test.sh does), or \
                   set DC_SKIP_BROWSER=1 to skip the browser test locally";

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A WebDriver session on a chromedriver started with `home` as `HOME`.
struct Browser {
    client: reqwest::Client,
    url: String,
    session: String,
    _driver: Kill,
}

impl Browser {
    async fn start(home: &Path, profile: &Path) -> Self {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .env("HOME", home)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("chromedriver: {e}; {FIX}"));
        let driver = Kill(driver);
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen; {FIX}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect::<Vec<_>>();
        // acceptInsecureCerts false: a certificate error is an error, not a click-through.
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "acceptInsecureCerts": false,
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args}}}});
        let client = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}");
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
        Self { client, url, session, _driver: driver }
    }

    async fn command(&self, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}/{path}", self.url, self.session);
        let response: Value = self.client.post(url).json(&body).send().await.unwrap().json().await.unwrap();
        response["value"].clone()
    }

    /// Navigates; `Null` on success, the WebDriver error otherwise.
    async fn open(&self, url: &str) -> Value {
        self.command("url", json!({ "url": url })).await
    }

    async fn fetch_widgets(&self, base: &str) -> Value {
        let script = r#"
            const [base, done] = [arguments[0], arguments[arguments.length - 1]];
            (async () => {
              const out = {origin: location.origin};
              try {
                const r = await fetch(base + "/widgets.json");
                out.status = r.status;
                out.widgets = Object.keys(await r.json()).length;
              } catch (e) { out.error = String(e); }
              done(out);
            })();"#;
        self.command("execute/async", json!({"script": script, "args": [base]})).await
    }

    async fn quit(&self) {
        let _ = self.client.delete(format!("{}/session/{}", self.url, self.session)).send().await;
    }
}

#[tokio::test]
async fn chromium_trusting_only_our_ca_calls_the_api_over_https() {
    if skipped(Need::Browser) {
        return;
    }
    assert!(Path::new(CHROMIUM).exists(), "{CHROMIUM} is missing; {FIX}");
    let dir = tempfile::tempdir().unwrap();
    let (api_data, page_data) = (dir.path().join("api"), dir.path().join("page"));
    let (trusting, untrusting) = (dir.path().join("home-trusting"), dir.path().join("home-untrusting"));
    for d in [&trusting, &untrusting] {
        std::fs::create_dir_all(d).unwrap();
    }
    let installed = cli(&trusting, &["tls", "install-ca", "--data-dir", api_data.to_str().unwrap()]);
    assert!(installed.status.success(), "install-ca: {}; {FIX}", String::from_utf8_lossy(&installed.stderr));
    assert!(String::from_utf8_lossy(&installed.stdout).contains(".pki/nssdb"));
    // The page's server uses the same CA: copy it, as a second install on this machine would.
    std::fs::create_dir_all(page_data.join("tls")).unwrap();
    for file in ["ca.pem", "ca-key.pem"] {
        std::fs::copy(api_data.join("tls").join(file), page_data.join("tls").join(file)).unwrap();
    }
    let page = serve(&page_data, &["--tls"]);
    let page_origin = format!("https://localhost:{}", page.port);
    let api = serve(&api_data, &["--tls", "--allow-origin", &page_origin]);
    let api_base = format!("https://localhost:{}", api.port);

    let profile = tempfile::tempdir().unwrap();
    let browser = Browser::start(&trusting, profile.path()).await;
    let opened = browser.open(&format!("{page_origin}/health")).await;
    let seen = browser.fetch_widgets(&api_base).await;
    browser.quit().await;
    assert!(opened.is_null(), "the trusting browser refused the page: {opened}");
    assert_eq!(seen["origin"], page_origin.as_str(), "{seen}");
    assert_eq!(seen["status"], 200, "{seen}");
    assert!(seen["widgets"].as_u64().unwrap_or(0) >= 7, "{seen}");

    // Without our CA the same page is Chromium's certificate error page, and nothing on it
    // reaches the API. (chromedriver reports the navigation itself as done.)
    let profile = tempfile::tempdir().unwrap();
    let browser = Browser::start(&untrusting, profile.path()).await;
    browser.open(&format!("{page_origin}/health")).await;
    let page_text = browser
        .command("execute/sync", json!({"script": "return document.body.innerText", "args": []}))
        .await;
    let refused = browser.fetch_widgets(&api_base).await;
    browser.quit().await;
    assert!(page_text.as_str().is_some_and(|t| t.contains("ERR_CERT_AUTHORITY_INVALID")), "{page_text}");
    assert_eq!(refused["origin"], "null", "{refused}");
    assert!(refused["error"].as_str().is_some_and(|e| e.contains("Failed to fetch")), "{refused}");

    // uninstall-ca takes it out of the NSS database again.
    let removed = cli(&trusting, &["tls", "uninstall-ca", "--data-dir", api_data.to_str().unwrap()]);
    assert!(removed.status.success(), "{}", String::from_utf8_lossy(&removed.stderr));
    let listed = Command::new("certutil")
        .args(["-L", "-d"])
        .arg(format!("sql:{}", trusting.join(".pki/nssdb").display()))
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&listed.stdout).contains("Data Connector local CA"));
}
