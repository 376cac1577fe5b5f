//! SSH tunnels through the API, against a private OpenSSH server on loopback and the real
//! MariaDB: the SSH secrets split off into the secret store and never shown (`has_ssh_*`), the
//! host key pinned on first use and shown, kept by an update for the same bastion, a changed key
//! refused by the connection test, and malformed `ssh` input answered with a `detail`.

use crate::common::*;
use dc_test_support::mysql::MysqlDb;
use dc_test_support::sshd::Sshd;
use serde_json::{json, Value};

fn connection(db: &MysqlDb, sshd: &Sshd, name: &str, key: &str) -> Value {
    json!({"name": name, "kind": "mysql", "host": db.host, "port": db.port, "database": db.db,
           "user": db.user, "password": db.password, "tls": "disable",
           "ssh": {"host": "127.0.0.1", "port": sshd.port, "user": sshd.user, "private_key": key}})
}

#[tokio::test]
async fn ssh_tunnel_connections_pin_the_host_key_and_never_return_secrets() {
    let Some(mut sshd) = Sshd::start() else { return };
    let Some(db) = MysqlDb::create().await else { return };
    let s = start().await;
    let key_body = sshd.client_key.lines().nth(1).unwrap().to_string();

    let (status, _, created) =
        s.post("/api/v1/connections", connection(&db, &sshd, "tunneled", &sshd.client_key)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["ssh"]["host_key"], sshd.fingerprint(false), "{created}");
    assert_eq!(
        (created["has_ssh_private_key"].clone(), created["has_password"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(created["has_ssh_password"], false);
    assert!(created["ssh"].get("private_key").is_none(), "{created}");
    let (status, _, body) = s.query_text(json!({"connection": "tunneled", "sql": "select 6 * 7 as n"})).await;
    assert_eq!((status, body.as_str()), (200, r#"[{"n":42}]"#));
    assert!(sshd.log().contains("direct-tcpip"));

    // An update for the same bastion that leaves out host_key and the key keeps both.
    let (status, _, patched) = s
        .patch(
            "/api/v1/connections/tunneled",
            json!({"ssh": {"host": "127.0.0.1", "port": sshd.port, "user": sshd.user}}),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["ssh"]["host_key"], sshd.fingerprint(false), "{patched}");
    assert_eq!(patched["has_ssh_private_key"], true);

    // The bastion comes back with another key: the connection test names the step and both keys.
    sshd.restart(true);
    let (status, _, refused) = s.patch("/api/v1/connections/tunneled", json!({"read_only": true})).await;
    assert_eq!(status, 403, "{refused}");
    let detail = refused["detail"].as_str().unwrap();
    assert!(detail.contains("host_key") && detail.contains("host key changed"), "{detail}");
    assert!(
        detail.contains(&sshd.fingerprint(false)) && detail.contains(&sshd.fingerprint(true)),
        "{detail}"
    );

    // A wrong key is refused at the SSH auth step.
    let (status, _, refused) =
        s.post("/api/v1/connections", connection(&db, &sshd, "stranger", &sshd.stranger_key)).await;
    assert_eq!(status, 403, "{refused}");
    assert!(refused["detail"].as_str().unwrap().contains("ssh_auth"), "{refused}");

    for (status, _, body) in [s.get("/api/v1/connections").await, s.get("/api/v1/log").await] {
        assert_eq!(status, 200);
        assert!(!body.to_string().contains(&key_body) && !body.to_string().contains(&db.password), "{body}");
    }
}

#[tokio::test]
async fn malformed_ssh_settings_get_a_detail() {
    let s = start().await;
    let base = json!({"kind": "postgres", "host": "127.0.0.1", "user": "u"});
    for ssh in [
        json!("bastion"),
        json!({"host": "b"}),
        json!({"host": "b", "user": "u", "port": 70000}),
        json!({"host": "b", "user": "u", "privatekey": "x"}),
        json!({"host": "b", "user": "u", "private_key": 5}),
        json!({"host": "b", "user": "u"}),
        json!({"host": "b", "user": "u", "private_key": "not a key"}),
    ] {
        let mut input = base.clone();
        input["name"] = json!("bad-ssh");
        input["ssh"] = ssh.clone();
        let (status, _, body) = s.post("/api/v1/connections", input).await;
        assert!((400..500).contains(&status), "{ssh}: {status} {body}");
        assert!(body["detail"].is_string(), "{ssh}: {body}");
    }
    assert_eq!(s.get("/api/v1/connections").await.0, 200, "the server is still up");
}
