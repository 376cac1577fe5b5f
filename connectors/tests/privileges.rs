//! Privilege warnings (issue 12): what a login can do beyond reading, reported by each engine
//! from its own database. A root/superuser login gets warnings; a login made to only read gets
//! none.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use connectors::mysql::MysqlSettings;
use connectors::postgres::PostgresSettings;
use connectors::ConnectionSettings;
use dc_test_support::engine::*;
use dc_test_support::mysql::MysqlDb;
use dc_test_support::postgres::PostgresDb;
use dc_test_support::{fakesnow, unique};
use serde_json::json;

#[tokio::test]
async fn mariadb_root_is_warned_about_and_a_reader_is_not() {
    let Some(f) = MysqlDb::create().await else { return };
    let root = f.admin_engine(true).await;
    let warnings = root.privilege_warnings().await.unwrap();
    eprintln!("root: {warnings:#?}");
    assert!(warnings.iter().any(|w| w.contains("FILE")), "{warnings:?}");
    assert!(warnings.iter().any(|w| w.contains("SUPER")), "{warnings:?}");
    assert!(warnings.iter().all(|w| w.contains("read")), "each warning gives the advice: {warnings:?}");

    // The fixture's user may do anything in its database.
    let owner = f.engine(true).await.privilege_warnings().await.unwrap();
    assert!(owner.iter().any(|w| w.contains(&format!("ALL PRIVILEGES on `{}`.*", f.db))), "{owner:?}");
    assert!(!owner.iter().any(|w| w.contains("FILE")), "{owner:?}");

    let reader = unique("dc_ro");
    let hosts = ["%", "localhost", "127.0.0.1"];
    for host in hosts {
        f.exec(&format!("CREATE USER '{reader}'@'{host}' IDENTIFIED BY 'pw-{reader}'")).await;
        f.exec(&format!("GRANT SELECT, SHOW VIEW ON `{}`.* TO '{reader}'@'{host}'", f.db)).await;
    }
    let settings = MysqlSettings { user: reader.clone(), ..f.settings(true) };
    let engine =
        connect_engine(ConnectionSettings::Mysql(settings), &password_secrets(&format!("pw-{reader}"))).await;
    let none = engine.privilege_warnings().await;
    for host in hosts {
        f.exec(&format!("DROP USER IF EXISTS '{reader}'@'{host}'")).await;
    }
    assert_eq!(none.unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn postgres_superuser_and_owner_are_warned_about_and_a_reader_is_not() {
    let Some(f) = PostgresDb::create().await else { return };
    f.exec("CREATE TABLE t (id int primary key, v text)").await;
    let superuser = f.admin_engine(true).await.privilege_warnings().await.unwrap();
    eprintln!("superuser: {superuser:#?}");
    assert!(superuser[0].contains("superuser"), "{superuser:?}");

    // The fixture's role owns the database and the table.
    let owner = f.engine(true).await.privilege_warnings().await.unwrap();
    assert!(owner.iter().any(|w| w.contains("change data in 1 table(s) or view(s) (public.t)")), "{owner:?}");
    assert!(owner.iter().any(|w| w.contains("new schemas in this database")), "{owner:?}");
    assert!(!owner.iter().any(|w| w.contains("superuser")), "{owner:?}");

    let reader = unique("dc_ro");
    f.admin_exec(&format!(
        "CREATE ROLE {reader} LOGIN PASSWORD 'pw-{reader}'; GRANT CONNECT ON DATABASE {db} TO {reader}; \
         GRANT USAGE ON SCHEMA public TO {reader}; GRANT SELECT ON t TO {reader}",
        db = f.db
    ))
    .await;
    let settings = PostgresSettings { user: reader.clone(), ..f.settings(true) };
    let engine =
        connect_engine(ConnectionSettings::Postgres(settings), &password_secrets(&format!("pw-{reader}")))
            .await;
    let none = engine.privilege_warnings().await;
    drop(engine);
    f.admin_exec(&format!("DROP OWNED BY {reader}; DROP ROLE {reader}")).await;
    assert_eq!(none.unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn snowflake_admin_roles_are_warned_about() {
    let Some(sf) = fakesnow::adapter() else { return };
    sf.setup(json!({"users": [{"account": "fake", "user": "PRIVS", "password": "pw-PRIVS"}]})).await;
    let admin = sf
        .engine(
            json!({"user": "PRIVS", "password": "pw-PRIVS", "database": "DB_PRIVS", "role": "ACCOUNTADMIN"}),
        )
        .await;
    let warnings = admin.privilege_warnings().await.unwrap();
    eprintln!("ACCOUNTADMIN: {warnings:#?}");
    assert!(warnings.iter().any(|w| w.contains("ACCOUNTADMIN")), "{warnings:?}");
    let analyst = sf
        .engine(json!({"user": "PRIVS", "password": "pw-PRIVS", "database": "DB_PRIVS", "role": "ANALYST"}))
        .await;
    let warnings = analyst.privilege_warnings().await.unwrap();
    assert!(!warnings.iter().any(|w| w.contains("ADMIN")), "{warnings:?}");
}
