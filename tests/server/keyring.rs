//! Secrets through the whole server, against the real Secret Service and a real MariaDB user
//! with a password: stored only in the keyring, read back after a restart, kept on updates that
//! leave them out, moved on rename, removed on delete; and the clear error when no keyring is
//! reachable, with `--ephemeral-secrets` as the explicit way around it.
//!
//! Runs inside `scripts/with-keyring.sh` (the test command does that); elsewhere it fails and
//! says so, unless DC_SKIP_KEYRING=1. The MariaDB user comes from `DC_TEST_MYSQL_URL`'s server.

use crate::common::*;
use dc_test_support::mysql::MysqlDb;
use dc_test_support::skip::keyring_session;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_data-connector");

/// The connection input for `db`'s user, password included, as the API receives it.
fn connection(db: &MysqlDb, name: &str) -> Value {
    json!({"name": name, "kind": "mysql", "host": db.host, "port": db.port, "database": db.db,
           "user": db.user, "password": db.password, "tls": "disable"})
}

fn secret_tool_lookup(name: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "data-connector", "username", name])
        .output()
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).to_string())
}

fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            hits.extend(files_containing(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path) {
            if bytes.windows(needle.len()).any(|w| w == needle) {
                hits.push(path.display().to_string());
            }
        }
    }
    hits
}

#[tokio::test]
async fn secrets_live_in_the_keyring_and_survive_a_restart() {
    if !keyring_session() {
        return;
    }
    let Some(user) = MysqlDb::create().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let name = format!("kr-life-{}", std::process::id());
    {
        let s = start_with(|c| {
            c.data_dir = data_dir.clone();
            c.ephemeral_secrets = false;
        })
        .await;
        let (status, _, created) = s.post("/api/v1/connections", connection(&user, &name)).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["has_password"], true);
        assert!(created.get("password").is_none());
        assert!(!created.to_string().contains(&user.password));

        let stored = secret_tool_lookup(&name).expect("the keyring has an entry for the connection");
        assert!(stored.contains(&user.password), "the entry holds the password");

        let (status, _, body) =
            s.query_text(json!({"connection": name, "sql": "select current_user() as u"})).await;
        assert_eq!(status, 200, "{body}");
        let (_, _, list) = s.get("/api/v1/connections").await;
        assert!(!list.to_string().contains(&user.password));
        let (_, _, log) = s.get("/api/v1/log").await;
        assert!(!log.to_string().contains(&user.password));
        let (_, _, about) = s.get("/").await;
        assert_eq!(about["ephemeral_secrets"], false);
    }
    assert_eq!(
        files_containing(&data_dir, user.password.as_bytes()),
        Vec::<String>::new(),
        "password on disk"
    );

    // A new server on the same data dir reads the secret back from the keyring.
    let s = start_with(|c| {
        c.data_dir = data_dir.clone();
        c.ephemeral_secrets = false;
    })
    .await;
    let (status, _, test) = s.post(&format!("/api/v1/connections/{name}/test"), json!({})).await;
    assert_eq!(status, 200, "{test}");
    assert!(test["server_version"].as_str().unwrap().contains("MariaDB"), "{test}");

    // An update without the password keeps it.
    let (status, _, patched) =
        s.patch(&format!("/api/v1/connections/{name}"), json!({"read_only": true, "port": user.port})).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["has_password"], true);
    assert!(secret_tool_lookup(&name).unwrap().contains(&user.password));
    let (status, _, body) = s.query_text(json!({"connection": name, "sql": "select 1 as one"})).await;
    assert_eq!((status, body.as_str()), (200, r#"[{"one":1}]"#));

    // A wrong new password is refused and the stored one stays.
    let (status, _, refused) =
        s.patch(&format!("/api/v1/connections/{name}"), json!({"password": "definitely-wrong-pw"})).await;
    assert_eq!(status, 403, "{refused}");
    assert!(!refused.to_string().contains("definitely-wrong-pw"), "{refused}");
    assert!(secret_tool_lookup(&name).unwrap().contains(&user.password));

    // Renaming moves the entry; deleting removes it.
    let renamed = format!("{name}-moved");
    let (status, _, body) = s.patch(&format!("/api/v1/connections/{name}"), json!({"name": renamed})).await;
    assert_eq!(status, 200, "{body}");
    assert!(secret_tool_lookup(&name).is_none(), "the old entry is gone");
    assert!(secret_tool_lookup(&renamed).unwrap().contains(&user.password));
    let (status, _, body) = s.query_text(json!({"connection": renamed, "sql": "select 1 as one"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(s.delete(&format!("/api/v1/connections/{renamed}")).await.0, 204);
    assert!(secret_tool_lookup(&renamed).is_none(), "delete removes the keyring entry");
}

/// Starts the real binary with the given extra args and environment, returns its URL and child.
fn serve(
    data_dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (std::process::Child, String, std::process::ChildStderr) {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--port", "auto", "--data-dir"]).arg(data_dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line:?}")).to_string();
    let stderr = child.stderr.take().unwrap();
    (child, url, stderr)
}

#[tokio::test]
async fn without_a_keyring_secrets_fail_clearly_and_ephemeral_secrets_is_the_opt_in() {
    let Some(user) = MysqlDb::create().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = items_db(dir.path(), 2);
    let no_bus = [("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/dc-test-bus")];
    let client = reqwest::Client::new();

    let (mut child, url, _stderr) = serve(&dir.path().join("a"), &[], &no_bus);
    // Connections without secrets work: the keyring is needed only when a secret is.
    let r = client
        .post(format!("{url}/api/v1/connections"))
        .json(&json!({"name": "local", "kind": "sqlite", "path": db}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let r = client
        .post(format!("{url}/api/v1/connections"))
        .json(&connection(&user, "remote"))
        .send()
        .await
        .unwrap();
    let (status, _, body) = into_parts(r).await;
    assert_eq!(status, 503, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("keyring") && detail.contains("--ephemeral-secrets"), "{detail}");
    assert!(!detail.contains(&user.password));
    let _ = child.kill();
    let _ = child.wait();

    let (mut child, url, stderr) = serve(&dir.path().join("b"), &["--ephemeral-secrets"], &no_bus);
    let about: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(about["ephemeral_secrets"], true, "{about}");
    let r = client
        .post(format!("{url}/api/v1/connections"))
        .json(&connection(&user, "remote"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let r = client
        .post(format!("{url}/api/v1/query"))
        .json(&json!({"connection": "remote", "sql": "select 2 as two"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), r#"[{"two":2}]"#);
    let _ = child.kill();
    let _ = child.wait();
    let mut log = String::new();
    std::io::Read::read_to_string(&mut std::io::BufReader::new(stderr), &mut log).unwrap();
    assert!(log.contains("--ephemeral-secrets"), "the log says secrets are in memory: {log}");
}
