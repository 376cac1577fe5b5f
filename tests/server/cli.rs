//! The `data-connector` binary: `query` for scripts, `serve` start-up messages and errors.

use crate::common::*;
use serde_json::json;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_data-connector");

#[tokio::test]
async fn query_prints_json_csv_and_ndjson() {
    let s = start().await;
    let db = items_db(s.dir.path(), 3);
    s.add_sqlite("shop", &db, true).await;
    let data_dir = s.app.config.data_dir.clone();
    let run = |format: &str, sql: &str| {
        Command::new(BIN)
            .args(["query", "--data-dir"])
            .arg(&data_dir)
            .args(["--connection", "shop", "--format", format, sql])
            .output()
            .unwrap()
    };
    let out = run("json", "select id, name from items where id < 3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "[{\"id\":1,\"name\":\"item 1\"},{\"id\":2,\"name\":\"item 2\"}]\n"
    );
    let out = run("csv", "select id, qty from items");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "id,qty\n1,1\n2,2\n3,3\n");
    let out = run("ndjson", "select id from items limit 1");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "{\"id\":1}\n");

    let out = run("json", "delete from items");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("read-only"));
    let out = Command::new(BIN)
        .args(["query", "--data-dir"])
        .arg(&data_dir)
        .args(["-c", "ghost", "select 1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no connection named \"ghost\""));

    let mut child = Command::new(BIN)
        .args(["query", "--data-dir"])
        .arg(&data_dir)
        .args(["-c", "shop", "--limit", "2", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"select id from items").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "[{\"id\":1},{\"id\":2}]\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("cut at 2 rows"));
    // The CLI's runs are in the shared query log too.
    let log = s.log().await;
    assert!(log.iter().any(|e| e["source"] == "cli" && e["sql"] == "select id from items"), "{log:?}");
    let _ = json!({});
}

#[tokio::test]
async fn serve_prints_its_url_and_a_port_in_use_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let out = Command::new(BIN)
        .args(["serve", "--ephemeral-secrets", "--port", &port.to_string(), "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().find(|l| l.starts_with("error:")).unwrap_or_default();
    assert!(line.contains(&format!("port {port} is already in use")), "{stderr}");
    assert!(line.contains("--port auto"), "{stderr}");

    let mut child = Command::new(BIN)
        .args(["serve", "--ephemeral-secrets", "--port", "auto", "--demo", "--data-dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let url = first.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{first:?}")).to_string();
    let client = reqwest::Client::new();
    let about: serde_json::Value = client.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(about["name"], "data-connector");
    let rows: serde_json::Value = client
        .post(format!("{url}/api/v1/query"))
        .json(&json!({"connection": "demo", "sql": "select count(distinct ticker) as tickers, min(date) as first, max(date) as last from prices"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(rows[0]["tickers"].as_i64().unwrap() >= 50, "{rows}");
    assert_eq!(rows[0]["first"], "2020-01-02");
    assert_eq!(rows[0]["last"], "2024-12-31");
    let queries: serde_json::Value =
        client.get(format!("{url}/api/v1/queries")).send().await.unwrap().json().await.unwrap();
    assert!(queries.as_array().unwrap().len() >= 3);
    let _ = child.kill();
    let _ = child.wait();
}
