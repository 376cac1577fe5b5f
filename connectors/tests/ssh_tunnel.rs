//! SSH tunnels against a real OpenSSH server on loopback (`dc_test_support::sshd`), forwarding to
//! the real MariaDB and PostgreSQL of the other tests: queries go through `direct-tcpip` channels
//! (sshd's own log says so), the host key is pinned and a changed one refused, a dropped bastion
//! is reconnected, and each failed step is named.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use connectors::error::ConnectStep;
use connectors::mysql::MysqlSettings;
use connectors::postgres::PostgresSettings;
use connectors::tunnel::SshSettings;
use connectors::{ConnectionSettings, ConnectorError, ErrorKind, Secrets};
use dc_test_support::engine::*;
use dc_test_support::mysql::MysqlDb;
use dc_test_support::postgres::PostgresDb;
use dc_test_support::sshd::Sshd;
use std::time::Duration;

fn ssh(sshd: &Sshd, host_key: Option<String>) -> SshSettings {
    SshSettings { host: "127.0.0.1".into(), port: sshd.port, user: sshd.user.clone(), host_key }
}

fn with_key(mut secrets: Secrets, key: &str) -> Secrets {
    secrets.insert("ssh_private_key", key);
    secrets
}

fn assert_step(e: &ConnectorError, step: ConnectStep, kind: ErrorKind) {
    assert_eq!((e.step(), e.kind()), (Some(step), kind), "{}", e.message());
    assert!(e.message().contains(step.as_str()), "{}", e.message());
}

fn assert_no_key_material(e: &ConnectorError, sshd: &Sshd) {
    for key in [&sshd.client_key, &sshd.stranger_key] {
        let body = key.lines().nth(1).unwrap();
        assert!(!e.message().contains(body), "{}", e.message());
    }
}

#[tokio::test]
async fn mariadb_through_the_tunnel_pins_the_host_key_and_survives_a_bastion_restart() {
    let Some(mut sshd) = Sshd::start() else { return };
    let Some(db) = MysqlDb::create().await else { return };
    let settings = MysqlSettings { ssh: Some(ssh(&sshd, None)), ..db.settings(true) };
    let engine =
        connect_engine(ConnectionSettings::Mysql(settings), &with_key(db.secrets(), &sshd.client_key)).await;
    assert!(body(&*engine, "SELECT 40 + 2 AS answer").await.contains("42"));
    // Our fingerprint is what OpenSSH's own tool computes for the server's key.
    assert_eq!(engine.ssh_host_key(), Some(sshd.fingerprint(false)));
    let log = sshd.log();
    assert!(log.contains("direct-tcpip") && log.contains(&format!("port {}", db.port)), "{log}");

    // The bastion drops every session; the next query opens a new one.
    sshd.restart(false);
    let back = eventually(Duration::from_secs(20), || async {
        run(&*engine, query("SELECT 7 AS seven")).await.is_ok_and(|o| o.json().to_string().contains('7'))
    })
    .await;
    assert!(back, "no query through the tunnel after the bastion restarted: {}", sshd.log());
}

#[tokio::test]
async fn postgres_through_the_tunnel() {
    let Some(sshd) = Sshd::start() else { return };
    let Some(db) = PostgresDb::create().await else { return };
    let pinned = sshd.fingerprint(false);
    let settings = PostgresSettings { ssh: Some(ssh(&sshd, Some(pinned.clone()))), ..db.settings(true) };
    let engine =
        connect_engine(ConnectionSettings::Postgres(settings), &with_key(db.secrets(), &sshd.client_key))
            .await;
    assert!(body(&*engine, "SELECT 40 + 2 AS answer").await.contains("42"));
    assert_eq!(engine.ssh_host_key(), Some(pinned));
    let log = sshd.log();
    assert!(log.contains("direct-tcpip") && log.contains(&format!("port {}", db.port)), "{log}");
}

#[tokio::test]
async fn a_changed_host_key_is_refused_naming_both_fingerprints() {
    let Some(mut sshd) = Sshd::start() else { return };
    let Some(db) = PostgresDb::create().await else { return };
    let pinned = sshd.fingerprint(false);
    sshd.restart(true);
    let settings = PostgresSettings { ssh: Some(ssh(&sshd, Some(pinned.clone()))), ..db.settings(true) };
    let e = connect_error(ConnectionSettings::Postgres(settings), &with_key(db.secrets(), &sshd.client_key))
        .await;
    assert_step(&e, ConnectStep::HostKey, ErrorKind::AccessDenied);
    assert!(e.message().contains("host key changed"), "{}", e.message());
    assert!(
        e.message().contains(&pinned) && e.message().contains(&sshd.fingerprint(true)),
        "{}",
        e.message()
    );
    assert!(e.message().contains(&format!("127.0.0.1:{}", sshd.port)), "{}", e.message());
}

#[tokio::test]
async fn each_failed_step_is_named() {
    let Some(sshd) = Sshd::start() else { return };
    let Some(db) = MysqlDb::create().await else { return };
    let connect = |ssh: SshSettings, secrets: Secrets| {
        let settings = MysqlSettings { ssh: Some(ssh), ..db.settings(true) };
        async move { connect_error(ConnectionSettings::Mysql(settings), &secrets).await }
    };

    let e = connect(ssh(&sshd, None), with_key(db.secrets(), &sshd.stranger_key)).await;
    assert_step(&e, ConnectStep::SshAuth, ErrorKind::AccessDenied);
    assert!(e.message().contains(&sshd.user), "{}", e.message());
    assert_no_key_material(&e, &sshd);

    let e = connect(ssh(&sshd, None), with_key(db.secrets(), "not a key")).await;
    assert_step(&e, ConnectStep::SshAuth, ErrorKind::InvalidInput);

    let unknown = SshSettings { host: "dc-no-such-host.invalid".into(), ..ssh(&sshd, None) };
    let e = connect(unknown, with_key(db.secrets(), &sshd.client_key)).await;
    assert_step(&e, ConnectStep::Dns, ErrorKind::Unreachable);

    let closed = SshSettings { port: free_port(), ..ssh(&sshd, None) };
    let e = connect(closed, with_key(db.secrets(), &sshd.client_key)).await;
    assert_step(&e, ConnectStep::Tcp, ErrorKind::Unreachable);

    // The tunnel works; the database refuses the login: no tunnel step, the database's error.
    let e = connect(ssh(&sshd, None), with_key(password_secrets("Wrong-pw-x"), &sshd.client_key)).await;
    assert_eq!((e.step(), e.kind()), (None, ErrorKind::AccessDenied), "{}", e.message());
    assert_no_key_material(&e, &sshd);
}

#[tokio::test]
async fn an_encrypted_key_needs_its_passphrase() {
    let Some(sshd) = Sshd::start() else { return };
    let Some(db) = MysqlDb::create().await else { return };
    let settings =
        || ConnectionSettings::Mysql(MysqlSettings { ssh: Some(ssh(&sshd, None)), ..db.settings(true) });
    let mut secrets = with_key(db.secrets(), &sshd.encrypted_key);
    let e = connect_error(settings(), &secrets).await;
    assert_step(&e, ConnectStep::SshAuth, ErrorKind::InvalidInput);

    secrets.insert("ssh_passphrase", "Wrong-passphrase");
    let e = connect_error(settings(), &secrets).await;
    assert_step(&e, ConnectStep::SshAuth, ErrorKind::InvalidInput);
    assert!(!e.message().contains("Wrong-passphrase"), "{}", e.message());

    secrets.insert("ssh_passphrase", sshd.passphrase.clone());
    let engine = connect_engine(settings(), &secrets).await;
    assert!(body(&*engine, "SELECT 1 AS one").await.contains('1'));
}

#[test]
fn ssh_secrets_given_inside_ssh_are_split_off_and_never_stored() {
    let input = serde_json::json!({
        "kind": "postgres", "host": "db.internal", "user": "u", "password": "Db-pw",
        "ssh": {"host": "bastion", "user": "me", "private_key": "KEY-PEM", "passphrase": "Key-pass"}
    });
    let serde_json::Value::Object(input) = input else { unreachable!() };
    let (settings, secrets) = ConnectionSettings::from_input(input).unwrap();
    assert_eq!(secrets.get("ssh_private_key"), Some("KEY-PEM"));
    assert_eq!(secrets.get("ssh_passphrase"), Some("Key-pass"));
    let stored = serde_json::to_string(&settings).unwrap();
    assert!(
        !stored.contains("KEY-PEM") && !stored.contains("Key-pass") && !stored.contains("Db-pw"),
        "{stored}"
    );
    assert!(stored.contains(r#""ssh":{"host":"bastion","port":22,"user":"me"}"#), "{stored}");

    let typo = serde_json::json!({"kind": "mysql", "host": "h", "user": "u", "ssh": {"host": "b", "user": "me", "privat_key": "k"}});
    let serde_json::Value::Object(typo) = typo else { unreachable!() };
    assert!(ConnectionSettings::from_input(typo).is_err());
}
