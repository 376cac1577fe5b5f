//! The burst a Workspace dashboard makes (issue 12, point 6): 64 clients on keep-alive
//! connections, each sending its next request as soon as the last one is answered, first at
//! `/health`, then running `select 1` on an SQLite connection, against the real binary in its
//! own process. The client is a minimal HTTP/1.1 loop over raw sockets, so that the client's
//! own cost stays small next to the server's on a shared 2-core machine.
//!
//! It prints answers/s, p50/p99 latency and non-2xx answers for both, and fails on any non-2xx
//! answer: bursts must queue, not be refused. The rates are printed, not asserted (speed is
//! for bench/, and this runs the debug build under `cargo test`); README.md, "Security and
//! reliability", quotes a release run. `DC_LOAD_SECONDS` (default 10) sets each phase's length.

use crate::routes::is_detail;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CLIENTS: usize = 64;

pub struct Figures {
    pub answers: u64,
    pub non_2xx: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub first_failure: Option<String>,
}

/// The server binary in its own process; killed when dropped.
pub struct Spawned {
    pub child: Child,
    pub port: u16,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `data-connector serve` on a free port with `data_dir`.
pub fn spawn_server(extra: &[&str], data_dir: &std::path::Path) -> Spawned {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(binary())
        .args(["serve", "--port", "0", "--ephemeral-secrets", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .env("DATA_CONNECTOR_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    // Keep reading stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in stdout.lines() {});
    Spawned { child, port }
}

/// `DC_LOAD_BIN` (e.g. the release build) or the binary `cargo test` built.
fn binary() -> String {
    std::env::var("DC_LOAD_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_data-connector").to_string())
}

fn seconds() -> u64 {
    std::env::var("DC_LOAD_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10).clamp(1, 60)
}

/// One request over an open keep-alive connection; the status and body.
async fn exchange(
    stream: &mut TcpStream,
    request: &[u8],
    buf: &mut Vec<u8>,
) -> std::io::Result<(u16, Vec<u8>)> {
    stream.write_all(request).await?;
    buf.clear();
    let head_end = loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            break end + 4;
        }
        read_more(stream, buf).await?;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let body = if let Some(length) = length {
        while buf.len() < head_end + length {
            read_more(stream, buf).await?;
        }
        buf[head_end..head_end + length].to_vec()
    } else {
        // Chunked: read until the last chunk, then take the chunks' data.
        while find(&buf[head_end..], b"\r\n0\r\n\r\n").is_none() && !buf[head_end..].starts_with(b"0\r\n\r\n")
        {
            read_more(stream, buf).await?;
        }
        dechunk(&buf[head_end..])
    };
    Ok((status, body))
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the server closed the connection",
        ));
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = find(data, b"\r\n") {
        let size = std::str::from_utf8(&data[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok());
        let Some(size) = size.filter(|s| *s > 0) else { break };
        let start = line_end + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

/// `CLIENTS` connections sending `request` back to back for `duration`.
pub async fn hammer(port: u16, request: Vec<u8>, duration: Duration) -> Figures {
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut non_2xx = 0u64;
            let mut first_failure = None;
            let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let mut buf = Vec::with_capacity(16 * 1024);
            while Instant::now() < deadline {
                let sent = Instant::now();
                match exchange(&mut stream, &request, &mut buf).await {
                    Ok((status, body)) => {
                        latencies.push(sent.elapsed());
                        if !(200..300).contains(&status) {
                            non_2xx += 1;
                            if first_failure.is_none() {
                                let text = String::from_utf8_lossy(&body).to_string();
                                assert!(
                                    is_detail(&text),
                                    "a refusal without {{\"detail\"}}: {status} {text}"
                                );
                                first_failure = Some(format!("{status} {text}"));
                            }
                        }
                    }
                    Err(e) => {
                        non_2xx += 1;
                        first_failure.get_or_insert_with(|| format!("connection failed: {e}"));
                        stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                        stream.set_nodelay(true).unwrap();
                    }
                }
            }
            (latencies, non_2xx, first_failure)
        }));
    }
    let mut latencies = Vec::new();
    let mut non_2xx = 0;
    let mut first_failure = None;
    for task in tasks {
        let (l, n, f) = task.await.unwrap();
        latencies.extend(l);
        non_2xx += n;
        first_failure = first_failure.or(f);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1e3)
            .unwrap_or(f64::NAN)
    };
    Figures {
        answers: latencies.len() as u64,
        non_2xx,
        per_second: latencies.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        first_failure,
    }
}

pub fn get_request(port: u16, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").into_bytes()
}

pub fn post_request(port: u16, path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

pub async fn add_sqlite(port: u16, name: &str, path: &std::path::Path) {
    let r = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/v1/connections"))
        .json(&serde_json::json!({"name": name, "kind": "sqlite", "path": path}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
}

fn print(what: &str, f: &Figures) {
    crate::support::report(&format!(
        "load {what:<10} {CLIENTS} clients: {:>8} answers, {:>9.0} answers/s, p50 {:>6.2} ms, \
         p99 {:>6.2} ms, non-2xx {}",
        f.answers, f.per_second, f.p50_ms, f.p99_ms, f.non_2xx
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_clients_get_no_errors_on_small_queries() {
    let _serial = crate::support::serial().await;
    let dir = tempfile::tempdir().unwrap();
    let server = spawn_server(&[], &dir.path().join("data"));
    let db = dir.path().join("small.db");
    rusqlite::Connection::open(&db).unwrap().execute_batch("create table t (x integer)").unwrap();
    add_sqlite(server.port, "small", &db).await;
    let duration = Duration::from_secs(seconds());

    let health = hammer(server.port, get_request(server.port, "/health"), duration).await;
    print("/health", &health);
    let body = r#"{"connection":"small","sql":"select 1"}"#;
    let query = hammer(server.port, post_request(server.port, "/api/v1/query", body), duration).await;
    print("select 1", &query);
    crate::support::report(&format!(
        "load small queries at {:.1}% of the /health rate (target: at least 25%, p99 at most 10 ms \
         on a release build)",
        100.0 * query.per_second / health.per_second
    ));
    assert_eq!(health.non_2xx, 0, "{:?}", health.first_failure);
    assert_eq!(query.non_2xx, 0, "bursts must queue, not fail: {:?}", query.first_failure);
    assert!(query.answers > 0 && health.answers > 0);
    // Every one of them is in the query log (ids count every entry ever written, trimmed or
    // not): the batched writer lost nothing.
    let logged = reqwest::get(format!("http://127.0.0.1:{}/api/v1/log?limit=1", server.port))
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(logged[0]["sql"], "select 1", "{logged}");
    assert_eq!(logged[0]["id"].as_u64(), Some(query.answers), "{logged}");
}
