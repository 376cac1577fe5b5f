//! End-to-end test of the installed package: the app that `apt-get install` put in /usr/bin, as
//! a user's desktop runs it. One instance per user, start on login, and updates, each through
//! the real thing: a second launch, the XDG autostart entry, and the updater downloading a signed
//! .deb from a local HTTP server and installing it with dpkg.
//!
//! Run it with `scripts/test-package.sh`, which builds and installs the packages, makes the update
//! (a newer version of the same app, signed with a throwaway key whose public half the installed
//! app carries), and sets up Xvfb, the keyring session and tauri-driver. Under a plain
//! `cargo test` it fails and says so, unless `DC_SKIP_PACKAGE=1` opts out.

// Test code: a failed expectation is the test failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dc_test_support::{skipped, Need};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const WAIT: Duration = Duration::from_secs(30);
const PACKAGE: &str = "data-connector";

/// What scripts/test-package.sh hands over.
struct Setup {
    /// The installed app, /usr/bin/data-connector-app.
    app: String,
    /// HOME of the app that tauri-driver starts: its autostart entry lands under it.
    app_home: PathBuf,
    /// Holds update.deb (the newer version), good.sig (its signature by the key the installed
    /// app trusts) and bad.sig (a signature of the same file by another key).
    update_dir: PathBuf,
    /// The port of the update URL compiled into the installed app.
    update_port: u16,
    update_version: String,
}

fn setup() -> Option<Setup> {
    if std::env::var("DC_PACKAGE_E2E").as_deref() != Ok("1") {
        if skipped(Need::Package) {
            return None;
        }
        panic!(
            "the installed-package tests need the .deb built and installed: run scripts/test-package.sh \
             (or set DC_SKIP_PACKAGE=1 to skip them on purpose)"
        );
    }
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set"));
    Some(Setup {
        app: var("TAURI_APP"),
        app_home: PathBuf::from(var("DC_APP_HOME")),
        update_dir: PathBuf::from(var("DC_UPDATE_DIR")),
        update_port: var("DC_UPDATE_PORT").parse().expect("DC_UPDATE_PORT is a port"),
        update_version: var("DC_UPDATE_VERSION"),
    })
}

// ---- one instance --------------------------------------------------------------------------

/// The installed app started directly, on its own data folder, with the server started on open
/// and kept in the tray. Killed when dropped, should a check fail first.
struct Launched {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Launched {
    fn start(setup: &Setup, args: &[&str]) -> TestResult<Self> {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port();
        let dir = std::env::temp_dir().join(format!("dc-instance-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let settings = json!({ "port": port, "start_on_open": true, "close_to_tray": true });
        std::fs::write(dir.join("desktop.json"), settings.to_string())?;
        let child = launch(setup, &dir, "first.log", args)?;
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

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("first.log")).unwrap_or_default()
    }
}

impl Drop for Launched {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn launch(setup: &Setup, dir: &Path, log: &str, args: &[&str]) -> TestResult<Child> {
    let log = std::fs::File::create(dir.join(log))?;
    Ok(Command::new(&setup.app)
        .args(args)
        .env("DATA_CONNECTOR_DATA_DIR", dir)
        .env("HOME", &setup.app_home)
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?)
}

fn x11_script(name: &str, args: &[&str]) -> TestResult {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join(name);
    // Debian's python3, which python3-xlib belongs to (a pyenv python3 would lack it).
    let out = Command::new("/usr/bin/python3").arg(&script).args(args).output()?;
    if !out.status.success() {
        return Err(format!("{name}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

/// Launched at login (as the autostart entry does) with "start the server" and "keep running in
/// the tray" chosen, the app serves without showing its window. Launching it again shows the
/// running window and exits; the first keeps the port.
fn login_launch_then_second_launch(setup: &Setup) -> TestResult {
    let mut first = Launched::start(setup, &["--autostart"])?;
    let pid = first.child.id().to_string();
    // The server is up, so setup has run; give a window that wrongly maps time to show.
    std::thread::sleep(Duration::from_millis(1500));
    x11_script("window_state.py", &[&pid, "hidden", "0"])
        .map_err(|e| format!("launched at login, the window showed: {e}"))?;
    eprintln!("installed test: launched at login, the app serves from the tray without a window");

    let mut second = launch(setup, &first.dir, "second.log", &[])?;
    let start = Instant::now();
    let status = loop {
        if let Some(status) = second.try_wait()? {
            break status;
        }
        if start.elapsed() > WAIT {
            let _ = second.kill();
            let log = std::fs::read_to_string(first.dir.join("second.log")).unwrap_or_default();
            return Err(format!("the second launch kept running; its log:\n{log}").into());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "the second launch exited with {status}");
    x11_script("window_state.py", &[&pid, "shown"])
        .map_err(|e| format!("{e}; first app log:\n{}", first.log()))?;
    assert!(first.child.try_wait()?.is_none(), "the first app quit");
    let (code, _) = http(first.port, "/")?;
    assert_eq!(code, 200, "the first app's server stopped answering");
    let second_log = std::fs::read_to_string(first.dir.join("second.log"))?;
    assert!(!second_log.contains("server listening"), "the second launch started a server:\n{second_log}");
    assert!(first.log().contains("launched again"), "first app log:\n{}", first.log());
    eprintln!("installed test: a second launch showed the first window and exited ({status})");
    Ok(())
}

// ---- the window: start on login, updates --------------------------------------------------

async fn start_on_login(c: &Client, setup: &Setup) -> TestResult {
    let entry = setup.app_home.join(".config/autostart/data-connector.desktop");
    assert!(!entry.exists(), "{} exists before the test", entry.display());
    c.find(Locator::Css(".nav-item[data-view=settings]")).await?.click().await?;
    let box_ = c.find(Locator::Id("s-start-on-login")).await?;
    assert_eq!(box_.prop("checked").await?.as_deref(), Some("false"));
    box_.click().await?;
    wait_for("the autostart entry", || async { entry.is_file().then_some(()) }).await?;
    let text = std::fs::read_to_string(&entry)?;
    assert!(text.contains(&format!("Exec={} --autostart", setup.app)), "autostart entry:\n{text}");
    wait_for("the box to be enabled again", || async {
        (box_.is_enabled().await.ok()? && box_.prop("checked").await.ok()?.as_deref() == Some("true"))
            .then_some(())
    })
    .await?;
    box_.click().await?;
    wait_for("the autostart entry to go", || async { (!entry.exists()).then_some(()) }).await?;
    eprintln!("installed test: the autostart entry appeared and went");
    Ok(())
}

/// Serves the update manifest and the .deb, with the signature of the caller's choice.
struct UpdateServer {
    signature: Arc<Mutex<String>>,
}

impl UpdateServer {
    fn start(setup: &Setup) -> TestResult<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, setup.update_port))?;
        let signature = Arc::new(Mutex::new(String::new()));
        let deb = std::fs::read(setup.update_dir.join("update.deb"))?;
        let (version, port, sig) = (setup.update_version.clone(), setup.update_port, signature.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let manifest = json!({
                    "version": version,
                    "notes": "The package test's update.",
                    "pub_date": "2026-01-01T00:00:00Z",
                    "platforms": { "linux-x86_64-deb": {
                        "signature": sig.lock().unwrap().clone(),
                        "url": format!("http://127.0.0.1:{port}/update.deb"),
                    }},
                });
                let _ = serve_one(stream, &manifest.to_string(), &deb);
            }
        });
        Ok(Self { signature })
    }

    fn sign_with(&self, setup: &Setup, file: &str) -> TestResult {
        *self.signature.lock().unwrap() = std::fs::read_to_string(setup.update_dir.join(file))?;
        Ok(())
    }
}

fn serve_one(mut stream: TcpStream, manifest: &str, deb: &[u8]) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte)? == 1 {
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/");
    let (status, kind, body): (&str, &str, &[u8]) = match path {
        "/latest.json" => ("200 OK", "application/json", manifest.as_bytes()),
        "/update.deb" => ("200 OK", "application/vnd.debian.binary-package", deb),
        _ => ("404 Not Found", "text/plain", b"not found"),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)
}

fn installed_version() -> TestResult<String> {
    let out = Command::new("dpkg-query").args(["-W", "-f=${Version}", PACKAGE]).output()?;
    Ok(String::from_utf8(out.stdout)?)
}

async fn update_status(c: &Client, contains: &str) -> TestResult<String> {
    wait_for(&format!("the update status to say {contains:?}"), || async {
        let text = c.find(Locator::Id("update-status")).await.ok()?.text().await.ok()?;
        text.contains(contains).then_some(text)
    })
    .await
}

async fn check_and_install(c: &Client, setup: &Setup) -> TestResult {
    c.find(Locator::Id("update-check")).await?.click().await?;
    update_status(c, &format!("Version {} is available", setup.update_version)).await?;
    assert!(visible(c, "update-banner").await, "no banner for the available update");
    c.find(Locator::Id("update-install")).await?.click().await?;
    Ok(())
}

async fn updates(c: &Client, setup: &Setup) -> TestResult {
    // No network: the check on opening found no server, and says nothing.
    wait_for("the check on opening", || async {
        c.find(Locator::Css("body[data-update-check=done]")).await.ok().map(|_| ())
    })
    .await?;
    assert!(!visible(c, "update-banner").await, "an update banner without an update server");
    assert!(c.find(Locator::Css(".toast.err")).await.is_err(), "an error toast about updates while offline");
    // Asked explicitly, it does say why.
    c.find(Locator::Id("update-check")).await?.click().await?;
    update_status(c, "Could not reach the update server").await?;
    eprintln!("installed test: offline, the check on opening said nothing; the button explained");

    let before = installed_version()?;
    let server = UpdateServer::start(setup)?;

    // A signature by another key: refused, nothing installed.
    server.sign_with(setup, "bad.sig")?;
    check_and_install(c, setup).await?;
    let refused = update_status(c, "signature does not match").await?;
    assert_eq!(installed_version()?, before, "a badly signed update was installed");
    eprintln!("installed test: the badly signed update was refused: {refused}");

    // The real signature: dpkg installs the newer version.
    server.sign_with(setup, "good.sig")?;
    let start = Instant::now();
    check_and_install(c, setup).await?;
    update_status(c, "is installed").await?;
    assert_eq!(installed_version()?, setup.update_version, "dpkg does not list the update");
    let out = Command::new(&setup.app).arg("--version").output()?;
    let said = String::from_utf8(out.stdout)?;
    assert_eq!(said.trim(), format!("data-connector-app {}", setup.update_version));
    eprintln!(
        "installed test: version {before} updated to {} in {:.1} s (check, download, verify, dpkg -i)",
        setup.update_version,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn window_checks(c: &Client, setup: &Setup) -> TestResult {
    wait_for("the window to load", || async {
        c.find(Locator::Css("body[data-ready]")).await.ok().map(|_| ())
    })
    .await?;
    start_on_login(c, setup).await?;
    // Last: it replaces the installed package with the newer version.
    updates(c, setup).await
}

// ---- helpers -------------------------------------------------------------------------------

async fn wait_for<T, F, Fut>(what: &str, mut probe: F) -> TestResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
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

async fn visible(c: &Client, id: &str) -> bool {
    match c.find(Locator::Id(id)).await {
        Ok(element) => element.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

fn http(port: u16, path: &str) -> TestResult<(u16, String)> {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
    stream.set_read_timeout(Some(Duration::from_secs(15)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")?;
    let mut text = String::new();
    stream.read_to_string(&mut text)?;
    let status = text.split_whitespace().nth(1).ok_or("no status")?.parse()?;
    Ok((status, text))
}

/// In one module so that `scripts/test.sh` can leave it out of its general `cargo test` run by
/// name (`--skip installed_e2e::`); scripts/test-package.sh runs it.
mod installed_e2e {
    use super::*;

    #[tokio::test]
    async fn installed_package_end_to_end() {
        let Some(setup) = setup() else { return };
        login_launch_then_second_launch(&setup).expect("start at login, one instance");

        let webdriver = std::env::var("WEBDRIVER_URL").expect("WEBDRIVER_URL names tauri-driver");
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert("tauri:options".into(), json!({ "application": setup.app }));
        let client = ClientBuilder::rustls()
            .expect("TLS setup for the WebDriver client")
            .capabilities(caps)
            .connect(&webdriver)
            .await
            .expect("cannot open a WebDriver session: is tauri-driver running?");
        let outcome = window_checks(&client, &setup).await;
        let _ = client.close().await;
        if let Err(e) = outcome {
            panic!("{e}");
        }
    }
}
