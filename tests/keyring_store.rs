//! The credential store against the real OS keyring (GNOME Keyring over Secret Service),
//! checked from the outside with `secret-tool`. Run it inside a throwaway keyring session:
//!
//!     scripts/with-keyring.sh cargo test --workspace --test keyring_store
//!
//! Outside that session the real-keyring tests fail on purpose (a skipped keyring test would
//! hide a broken store); set `DC_SKIP_KEYRING=1` to skip them locally. The no-keyring and
//! in-memory tests run anywhere.

// A failed unwrap is how a test reports failure; the workspace lint is for server code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::process::{Command, Output};

use connectors::Secrets;
use data_connector::error::Error;
use data_connector::secrets::{self, SERVICE};
use dc_test_support::skip::keyring_session;

/// Connection names unique per test and process, so parallel tests and reruns never collide.
fn name(test: &str) -> String {
    format!("dc-test-{test}-{}", std::process::id())
}

fn secrets(pairs: &[(&str, &str)]) -> Secrets {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn run(cmd: &str, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(cmd)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd}: {e}"));
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

/// What `secret-tool lookup service data-connector username <connection>` prints, if anything.
fn lookup(connection: &str) -> Option<BTreeMap<String, String>> {
    let out = run("secret-tool", &["lookup", "service", SERVICE, "username", connection], None);
    if !out.status.success() {
        return None;
    }
    Some(serde_json::from_slice(&out.stdout).expect("the keyring entry is a JSON object of strings"))
}

/// `secret-tool search --all` for the connection: items on stdout, attributes on stderr.
fn search(connection: &str) -> String {
    let out = run("secret-tool", &["search", "--all", "service", SERVICE, "username", connection], None);
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn store_with_secret_tool(connection: &str, value: &str, extra: &str) {
    let out = run(
        "secret-tool",
        &["store", "--label=written by a test", "service", SERVICE, "username", connection, "extra", extra],
        Some(value),
    );
    assert!(out.status.success(), "secret-tool store failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn map(s: &Secrets) -> BTreeMap<String, String> {
    s.fields().map(|f| (f.to_string(), s.get(f).unwrap_or_default().to_string())).collect()
}

#[test]
fn real_keyring_set_get_update_rename_delete() {
    if !keyring_session() {
        return;
    }
    let store = secrets::open_os_store().expect("the keyring session is unlocked");
    assert!(store.describe().contains("Secret Service"), "{}", store.describe());
    assert!(!store.is_ephemeral());

    let (a, b) = (name("crud-a"), name("crud-b"));
    let first = secrets(&[("password", "pw 1 \"quoted\" ünïcode\n"), ("passcode", "123456")]);
    store.set(&a, &first).unwrap();

    assert_eq!(lookup(&a), Some(map(&first)), "secret-tool sees one JSON object of all fields");
    let found = search(&a);
    assert!(found.contains(&format!("attribute.service = {SERVICE}")), "{found}");
    assert!(found.contains(&format!("attribute.username = {a}")), "{found}");
    assert_eq!(found.matches("secret = ").count(), 1, "exactly one entry per connection: {found}");
    assert_eq!(store.get(&a).unwrap(), Some(first));

    let second = secrets(&[("password", "pw 2")]);
    store.set(&a, &second).unwrap();
    assert_eq!(store.get(&a).unwrap(), Some(second.clone()), "set replaces all fields");
    assert_eq!(lookup(&a), Some(map(&second)));
    assert_eq!(search(&a).matches("secret = ").count(), 1, "an update does not add an entry");

    store.rename(&a, &b).unwrap();
    assert_eq!(store.get(&a).unwrap(), None);
    assert_eq!(lookup(&a), None);
    assert_eq!(store.get(&b).unwrap(), Some(second.clone()));
    assert_eq!(lookup(&b), Some(map(&second)));
    store.rename(&a, &b).unwrap();
    assert_eq!(store.get(&b).unwrap(), Some(second), "renaming a missing entry is a no-op");

    store.delete(&b).unwrap();
    assert_eq!(store.get(&b).unwrap(), None);
    assert_eq!(lookup(&b), None);
    assert!(!search(&b).contains("secret = "), "secret-tool finds nothing after delete");
    store.delete(&b).unwrap();

    // A connection without secret fields leaves nothing behind.
    store.set(&a, &Secrets::new()).unwrap();
    assert_eq!(lookup(&a), None);
    assert_eq!(store.get(&a).unwrap(), None);
}

#[test]
fn real_keyring_connections_do_not_see_each_other() {
    if !keyring_session() {
        return;
    }
    let store = secrets::open_os_store().unwrap();
    let (a, b, c) = (name("iso-a"), name("iso-b"), name("iso-c"));
    let sa = secrets(&[("password", "alpha")]);
    let sb = secrets(&[("password", "beta"), ("private_key", "-----BEGIN PRIVATE KEY-----\nabc\n")]);
    store.set(&a, &sa).unwrap();
    store.set(&b, &sb).unwrap();
    assert_eq!(store.get(&a).unwrap(), Some(sa.clone()));
    assert_eq!(store.get(&b).unwrap(), Some(sb));
    assert_eq!(store.get(&c).unwrap(), None);
    // A name that is a prefix of another must not match it.
    assert_eq!(store.get(&a[..a.len() - 1]).unwrap(), None);

    store.delete(&b).unwrap();
    assert_eq!(store.get(&a).unwrap(), Some(sa), "deleting one connection keeps the other");
    store.delete(&a).unwrap();
}

#[test]
fn real_keyring_foreign_entries_are_reported_then_replaced() {
    if !keyring_session() {
        return;
    }
    let store = secrets::open_os_store().unwrap();

    // Not JSON: the error names the connection and the fix, never the stored value.
    let bad = name("foreign");
    store_with_secret_tool(&bad, "hunter2-not-json", "1");
    let err = store.get(&bad).unwrap_err();
    assert!(matches!(err, Error::SecretStore(_)), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&bad) && !msg.contains("hunter2"), "{msg}");
    store.set(&bad, &secrets(&[("password", "fixed")])).unwrap();
    assert_eq!(store.get(&bad).unwrap(), Some(secrets(&[("password", "fixed")])));
    store.delete(&bad).unwrap();

    // Two entries for one connection: reading cannot pick one; saving leaves exactly one.
    let dup = name("dup");
    store_with_secret_tool(&dup, r#"{"password":"one"}"#, "1");
    store_with_secret_tool(&dup, r#"{"password":"two"}"#, "2");
    let msg = store.get(&dup).unwrap_err().to_string();
    assert!(msg.contains("2 entries") && msg.contains(&dup), "{msg}");
    store.set(&dup, &secrets(&[("password", "three")])).unwrap();
    assert_eq!(search(&dup).matches("secret = ").count(), 1, "{}", search(&dup));
    assert_eq!(store.get(&dup).unwrap(), Some(secrets(&[("password", "three")])));

    store_with_secret_tool(&dup, r#"{"password":"four"}"#, "4");
    store.delete(&dup).unwrap();
    assert!(!search(&dup).contains("secret = "), "delete removes every duplicate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_keyring_from_tokio_blocking_threads() {
    if !keyring_session() {
        return;
    }
    // The server's pattern: open lazily, call from spawn_blocking while the runtime is busy.
    let store = secrets::lazy_os_store();
    let conns: Vec<String> = (0..4).map(|i| name(&format!("tokio-{i}"))).collect();
    let tasks = conns.iter().cloned().map(|conn| {
        let store = store.clone();
        tokio::task::spawn_blocking(move || {
            let s = secrets(&[("password", &conn)]);
            store.set(&conn, &s)?;
            let got = store.get(&conn)?;
            store.delete(&conn)?;
            Ok::<_, Error>(got == Some(s))
        })
    });
    for task in futures::future::join_all(tasks).await {
        assert!(task.expect("no panic inside the keyring call").expect("keyring call"));
    }
    let opened = tokio::task::spawn_blocking(secrets::open_os_store).await.unwrap();
    assert!(opened.is_ok(), "open_os_store from a blocking thread");
    for conn in &conns {
        assert_eq!(lookup(conn), None);
    }
}

#[test]
fn ephemeral_store_keeps_secrets_in_memory() {
    let store = secrets::ephemeral_store();
    assert!(store.is_ephemeral());
    assert!(store.describe().contains("--ephemeral-secrets"));
    let (a, b) = ("mem-a", "mem-b");
    let sa = secrets(&[("password", "alpha")]);
    store.set(a, &sa).unwrap();
    store.set(b, &secrets(&[("password", "beta")])).unwrap();
    assert_eq!(store.get(a).unwrap(), Some(sa.clone()));
    store.set(b, &secrets(&[("passcode", "1")])).unwrap();
    assert_eq!(store.get(b).unwrap(), Some(secrets(&[("passcode", "1")])));
    store.rename(a, "mem-c").unwrap();
    assert_eq!(store.get(a).unwrap(), None);
    assert_eq!(store.get("mem-c").unwrap(), Some(sa));
    store.delete("mem-c").unwrap();
    store.delete("mem-c").unwrap();
    assert_eq!(store.get("mem-c").unwrap(), None);
    // A second ephemeral store is a separate, empty one.
    assert_eq!(secrets::ephemeral_store().get(b).unwrap(), None);
    if std::env::var_os("DC_KEYRING_SESSION").is_some() {
        assert_eq!(lookup(b), None, "the ephemeral store never writes to the keyring");
    }
}

/// Re-runs one of the `*_child` tests below in a fresh process with its own environment, so
/// this process (possibly inside a keyring session) stays untouched.
fn run_child(mut cmd: Command, child: &str, expect: &str) {
    cmd.args(["--exact", child, "--ignored", "--nocapture", "--test-threads=1"])
        .env("DC_CHILD_EXPECT", expect);
    let out = cmd.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("CHILD-CHECKED"), "child {child} failed:\n{text}");
}

fn this_test_binary() -> Command {
    Command::new(std::env::current_exe().unwrap())
}

#[test]
fn no_session_bus_gives_a_clear_error() {
    let runtime = tempfile::tempdir().unwrap();
    let mut cmd = this_test_binary();
    // zbus falls back to $XDG_RUNTIME_DIR/bus when the variable is unset; point that at nothing.
    cmd.env_remove("DBUS_SESSION_BUS_ADDRESS").env("XDG_RUNTIME_DIR", runtime.path());
    run_child(cmd, "no_keyring_child", "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)");
}

#[test]
fn unreachable_session_bus_gives_a_clear_error() {
    let runtime = tempfile::tempdir().unwrap();
    let address = format!("unix:path={}", runtime.path().join("no-such-bus").display());
    let mut cmd = this_test_binary();
    cmd.env("DBUS_SESSION_BUS_ADDRESS", &address).env("XDG_RUNTIME_DIR", runtime.path());
    run_child(cmd, "no_keyring_child", &format!("cannot connect to the D-Bus session bus at {address}"));
}

#[test]
fn locked_keyring_gives_a_clear_error() {
    if !keyring_session() {
        return;
    }
    // A private bus whose keyring was never unlocked: D-Bus activation starts GNOME Keyring
    // locked, as on a desktop where the login keyring did not unlock at login.
    let (data, runtime) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut cmd = Command::new("dbus-run-session");
    cmd.arg("--")
        .arg(std::env::current_exe().unwrap())
        .env("XDG_DATA_HOME", data.path())
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env("NO_AT_BRIDGE", "1");
    run_child(cmd, "locked_keyring_child", "gnome-keyring-daemon --unlock");
}

#[test]
#[ignore = "run by locked_keyring_gives_a_clear_error in a child process on a locked keyring"]
fn locked_keyring_child() {
    let expect = std::env::var("DC_CHILD_EXPECT").expect("run by locked_keyring_gives_a_clear_error");
    let started = std::time::Instant::now();
    let store = secrets::open_os_store().expect("the bus and the Secret Service are there, only locked");
    let err = store.set("conn", &secrets(&[("password", "hunter2")])).unwrap_err();
    assert!(matches!(err, Error::SecretStore(_)), "{err}");
    let msg = err.to_string();
    println!("set: {msg}");
    assert!(msg.contains("is locked or refused access") && msg.contains(&expect), "{msg}");
    assert!(msg.contains("'conn'") && msg.contains("--ephemeral-secrets"), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "fails fast");
    println!("CHILD-CHECKED");
}

#[test]
#[ignore = "run by the *_session_bus_* tests in a child process without a reachable bus"]
fn no_keyring_child() {
    let expect = std::env::var("DC_CHILD_EXPECT").expect("run by no_session_bus_gives_a_clear_error");
    let check = |err: Error| {
        assert!(matches!(err, Error::SecretStore(_)), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("The OS keyring is not reachable"), "{msg}");
        assert!(msg.contains(&expect), "expected {expect:?} in {msg:?}");
        assert!(msg.contains("Start the server inside your desktop session"), "{msg}");
        assert!(msg.contains("--ephemeral-secrets"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
        msg
    };

    let started = std::time::Instant::now();
    let Err(err) = secrets::open_os_store() else { panic!("open_os_store must fail without a session bus") };
    println!("open_os_store: {}", check(err));
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "fails fast");

    // The lazy store starts fine and reports the same error on every use, never storing
    // secrets elsewhere.
    let lazy = secrets::lazy_os_store();
    assert!(!lazy.is_ephemeral());
    check(lazy.get("conn").unwrap_err());
    check(lazy.set("conn", &secrets(&[("password", "hunter2")])).unwrap_err());
    check(lazy.delete("conn").unwrap_err());
    check(lazy.rename("conn", "other").unwrap_err());
    println!("CHILD-CHECKED");
}
