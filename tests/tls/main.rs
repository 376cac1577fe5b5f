//! `serve --tls`: the real binary serving HTTPS with its local CA or the user's own certificate,
//! bad certificate files refused at startup, plain HTTP and garbage on the TLS port survived, and
//! a headless Chromium whose NSS database (filled by `tls install-ca`) trusts only our CA
//! calling the API from an `https://` page, with a browser that lacks the CA refused.
//! Needs `certutil` (libnss3-tools), Debian's `chromium` and `chromium-driver`;
//! `DC_SKIP_BROWSER=1` skips the Chromium test locally.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod browser;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_data-connector");

/// A `data-connector serve` process, killed when the test ends however it ends.
struct Served {
    child: Child,
    port: u16,
    /// Kept open so the server's later lines have somewhere to go.
    _stdout: BufReader<ChildStdout>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    portpicker::pick_unused_port().expect("a free port")
}

/// Starts `serve` on a port it picks itself and waits for its "listening on" line, which comes
/// after the certificate files are in place. (A port picked here and handed over could be taken
/// by another test's server first, whose answer would then be mistaken for this one's.)
fn serve(data_dir: &Path, args: &[&str]) -> Served {
    let mut child = Command::new(BIN)
        .args(["serve", "--ephemeral-secrets", "--port", "auto", "--data-dir"])
        .arg(data_dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url =
        line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("serve {args:?} said {line:?}"));
    let port = url.trim_end_matches('/').rsplit(':').next().and_then(|p| p.parse().ok());
    let port = port.unwrap_or_else(|| panic!("no port in {url:?}"));
    Served { child, port, _stdout: stdout }
}

/// Runs `serve` expecting it to refuse to start; returns its stderr.
fn serve_fails(data_dir: &Path, args: &[&str]) -> String {
    let output = Command::new(BIN)
        .args(["serve", "--ephemeral-secrets", "--port", "0", "--data-dir"])
        .arg(data_dir)
        .args(args)
        .output()
        .unwrap();
    assert!(!output.status.success(), "serve {args:?} started");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn cli(home: &Path, args: &[&str]) -> Output {
    Command::new(BIN).args(args).env("HOME", home).output().unwrap()
}

fn client_trusting(ca_pem: &Path) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(ca_pem).unwrap()).unwrap();
    reqwest::Client::builder().add_root_certificate(ca).tls_built_in_root_certs(false).build().unwrap()
}

fn ca_pem(data_dir: &Path) -> PathBuf {
    data_dir.join("tls").join("ca.pem")
}

#[tokio::test]
async fn local_ca_serves_the_api_over_https_and_keeps_its_key_private() {
    let dir = tempfile::tempdir().unwrap();
    let served = serve(dir.path(), &["--tls"]);
    let client = client_trusting(&ca_pem(dir.path()));
    for host in ["localhost", "127.0.0.1"] {
        let response =
            client.get(format!("https://{host}:{}/widgets.json", served.port)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{host}");
        let widgets: serde_json::Value = response.json().await.unwrap();
        assert!(widgets.as_object().unwrap().len() >= 7);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = dir.path().join("tls").join("ca-key.pem");
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // A second start reuses the CA from disk, and its new leaf still chains to it.
    drop(served);
    let before = std::fs::read(ca_pem(dir.path())).unwrap();
    let served = serve(dir.path(), &["--tls"]);
    assert_eq!(std::fs::read(ca_pem(dir.path())).unwrap(), before);
    let response = client.get(format!("https://localhost:{}/health", served.port)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    // A client without our CA refuses the certificate.
    let plain = reqwest::Client::new();
    let refused = plain.get(format!("https://localhost:{}/health", served.port)).send().await;
    assert!(refused.is_err(), "an untrusting client accepted the certificate");
}

#[tokio::test]
async fn own_certificate_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args(["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"])
        // An end-entity certificate, as a real one is (openssl marks self-signed ones CA:TRUE).
        .args(["-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=serverAuth"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let served = serve(
        &dir.path().join("data"),
        &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()],
    );
    let response =
        client_trusting(&cert).get(format!("https://localhost:{}/health", served.port)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    // The user's certificate is used, so no local CA was made.
    assert!(!ca_pem(&dir.path().join("data")).exists());
}

#[test]
fn bad_certificate_files_are_clear_startup_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, b"\x00\xffnot a certificate\n-----BEGIN CERTIFICATE-----\n!!!\n").unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, b"").unwrap();
    let missing = dir.path().join("missing.pem");
    let a_dir = dir.path().to_str().unwrap();
    let (garbage, empty, missing) =
        (garbage.to_str().unwrap(), empty.to_str().unwrap(), missing.to_str().unwrap());

    let err = serve_fails(&data, &["--tls-cert", missing, "--tls-key", missing]);
    assert!(err.contains("cannot read --tls-cert") && err.contains("missing.pem"), "{err}");
    // A directory stands for an unreadable file (tests may run as root, who reads any mode).
    let err = serve_fails(&data, &["--tls-cert", a_dir, "--tls-key", garbage]);
    assert!(err.contains("cannot read --tls-cert"), "{err}");
    let err = serve_fails(&data, &["--tls-cert", garbage, "--tls-key", garbage]);
    assert!(err.contains("is not a PEM certificate"), "{err}");
    let err = serve_fails(&data, &["--tls-cert", empty, "--tls-key", garbage]);
    assert!(err.contains("holds no PEM certificate"), "{err}");
    // A real certificate with a key that is not one, then with another certificate's key.
    let made = cli(dir.path(), &["tls", "ca-path", "--data-dir", data.to_str().unwrap()]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let cert = ca_pem(&data);
    let cert = cert.to_str().unwrap();
    let err = serve_fails(&data, &["--tls-cert", cert, "--tls-key", garbage]);
    assert!(err.contains("is not a PEM private key"), "{err}");
    let other = tempfile::tempdir().unwrap();
    assert!(cli(dir.path(), &["tls", "ca-path", "--data-dir", other.path().to_str().unwrap()])
        .status
        .success());
    let other_key = other.path().join("tls").join("ca-key.pem");
    let err = serve_fails(&data, &["--tls-cert", cert, "--tls-key", other_key.to_str().unwrap()]);
    assert!(err.contains("do not make a usable certificate"), "{err}");
    let err = serve_fails(&data, &["--tls-cert", cert]);
    assert!(err.contains("--tls-key"), "{err}");
}

#[tokio::test]
async fn plain_http_and_garbage_on_the_tls_port_leave_it_serving() {
    let dir = tempfile::tempdir().unwrap();
    let served = serve(dir.path(), &["--tls"]);
    let addr = ("127.0.0.1", served.port);
    // Plain HTTP: the handshake fails (rustls answers with an alert or closes), nothing more.
    let mut plain = std::net::TcpStream::connect(addr).unwrap();
    plain.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    plain.write_all(b"GET /widgets.json HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(!String::from_utf8_lossy(&answer).contains("dc_sql_editor"), "served data over plain HTTP");
    // Garbage, a connection that says nothing, and a half handshake left hanging.
    let mut garbage = std::net::TcpStream::connect(addr).unwrap();
    garbage.write_all(&[0x16, 0x03, 0x01, 0xff, 0xff, 0, 1, 2, 3]).unwrap();
    let _idle = std::net::TcpStream::connect(addr).unwrap();
    let mut junk = std::net::TcpStream::connect(addr).unwrap();
    junk.write_all(&[0xAB; 4096]).unwrap();
    let client = client_trusting(&ca_pem(dir.path()));
    let response = client.get(format!("https://localhost:{}/health", served.port)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let (status, body) = {
        let r = client.get(format!("https://localhost:{}/no-such-route", served.port)).send().await.unwrap();
        (r.status(), r.json::<serde_json::Value>().await.unwrap())
    };
    assert_eq!(status, 404);
    assert!(body["detail"].is_string());
}

#[tokio::test]
async fn a_tls_client_that_sends_no_request_is_closed_after_the_header_timeout() {
    use tokio::io::AsyncReadExt;
    let dir = tempfile::tempdir().unwrap();
    let served = serve(dir.path(), &["--tls", "--header-timeout-ms", "1000"]);
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(ca_pem(dir.path())).unwrap();
    use rustls::pki_types::pem::PemObject;
    roots.add(rustls::pki_types::CertificateDer::from_pem_slice(&pem).unwrap()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", served.port)).await.unwrap();
    let started = Instant::now();
    let mut tls = connector.connect("localhost".try_into().unwrap(), tcp).await.unwrap();
    // Handshake done, then silence: the server must hang up on its own.
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(10), tls.read(&mut buf)).await;
    assert!(read.is_ok(), "a silent TLS client was kept open for 10 s");
    assert!(started.elapsed() >= Duration::from_millis(900), "closed before the header timeout");
    let client = client_trusting(&ca_pem(dir.path()));
    let response = client.get(format!("https://localhost:{}/health", served.port)).send().await.unwrap();
    assert_eq!(response.status(), 200);
}
