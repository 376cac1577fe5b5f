//! Slow and idle clients (issue 12, point 7), against the real binary with a short
//! `--header-timeout-ms`: connections that send their headers a byte at a time, and idle
//! keep-alive connections, are closed within the timeout while other clients are served; a
//! connection cap holds; the open-file soft limit is raised to the hard limit at start.

use crate::load::spawn_server;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TIMEOUT_MS: u64 = 2000;
const SLOW_CLIENTS: usize = 200;

async fn health(port: u16) -> (u16, Duration) {
    let started = Instant::now();
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        reqwest::Client::new().get(format!("http://127.0.0.1:{port}/health")).send(),
    )
    .await
    .expect("/health did not answer within 10 s")
    .unwrap();
    (r.status().as_u16(), started.elapsed())
}

/// Sends a request's headers one byte every 200 ms, never finishing; returns how long the
/// server kept the connection open.
async fn slow_client(port: u16) -> Duration {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let opened = Instant::now();
    let request = format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: {}", "a".repeat(1000));
    for byte in request.bytes() {
        if stream.write_all(&[byte]).await.is_err() {
            return opened.elapsed();
        }
        // A closed connection shows as a read of 0 bytes (or a reset).
        let mut probe = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut probe)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return opened.elapsed(),
            Ok(Ok(_)) | Err(_) => {}
        }
        if opened.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    opened.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_idle_connections_are_closed_while_others_are_served() {
    let _serial = crate::support::serial().await;
    let timeout = TIMEOUT_MS.to_string();
    let dir = tempfile::tempdir().unwrap();
    let server = spawn_server(&["--header-timeout-ms", &timeout], dir.path());
    let port = server.port;

    let slow: Vec<_> = (0..SLOW_CLIENTS).map(|_| tokio::spawn(slow_client(port))).collect();
    // While they trickle, others are served at once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let (status, took) = health(port).await;
        assert_eq!(status, 200);
        slowest = slowest.max(took);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(slowest < Duration::from_secs(1), "/health took {slowest:?} among slow clients");

    let mut open_for = Vec::new();
    for task in slow {
        open_for.push(task.await.unwrap());
    }
    let longest = open_for.iter().max().copied().unwrap_or_default();
    crate::support::report(&format!(
        "slowloris: {SLOW_CLIENTS} slow clients, all closed, the last after {:.2} s (--header-timeout-ms {TIMEOUT_MS})",
        longest.as_secs_f64()
    ));
    let bound = Duration::from_millis(TIMEOUT_MS + 1500);
    assert!(longest < bound, "a slow client stayed open {longest:?}");

    // An idle keep-alive connection, after one answered request, is closed too.
    let mut idle = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    idle.write_all(format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let idle_since = Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match idle.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "an idle connection stayed open 30 s");
    let idle_for = idle_since.elapsed();
    crate::support::report(&format!(
        "slowloris: an idle keep-alive connection was closed after {:.2} s",
        idle_for.as_secs_f64()
    ));
    assert!(idle_for < bound, "{idle_for:?}");

    // The open-file soft limit was raised to the hard limit.
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.child.id())).unwrap();
    let line = limits.lines().find(|l| l.starts_with("Max open files")).unwrap();
    let numbers: Vec<&str> = line.split_whitespace().skip(3).take(2).collect();
    assert_eq!(numbers[0], numbers[1], "soft limit not raised: {line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_holds_and_frees_up() {
    let _serial = crate::support::serial().await;
    let timeout = TIMEOUT_MS.to_string();
    let dir = tempfile::tempdir().unwrap();
    let server = spawn_server(&["--header-timeout-ms", &timeout, "--max-connections", "20"], dir.path());
    let port = server.port;
    // Twenty idle connections take every place.
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The next client waits in the accept queue until the idle ones time out, then is served.
    let started = Instant::now();
    let (status, _) = health(port).await;
    let waited = started.elapsed();
    assert_eq!(status, 200);
    crate::support::report(&format!(
        "connection cap: the 21st client was served after {:.2} s",
        waited.as_secs_f64()
    ));
    assert!(waited > Duration::from_millis(TIMEOUT_MS / 2), "the cap did not hold: served after {waited:?}");
    assert!(waited < Duration::from_millis(TIMEOUT_MS + 2000), "{waited:?}");
    drop(idle);
}
