//! The MySQL/MariaDB engine against a real server (default: the local MariaDB as root without a
//! password; `DC_TEST_MYSQL_URL` points elsewhere). Each test makes its own database and a user
//! with a password, and drops both.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/sqlx_db.rs"]
#[macro_use]
mod sqlx_db;

use connectors::mysql::MysqlSettings;
use connectors::settings::TlsMode;
use connectors::{statement, ColumnKind, ConnectionSettings, Engine, ErrorKind, Listing, Param, Secrets};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions as _, Connection as _, Executor as _};
use sqlx_db::*;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

const HOW_TO_START: &str = "start it with `start-stop-daemon --start --oknodo --background --exec \
    /usr/sbin/mariadbd`, or point DC_TEST_MYSQL_URL at a server (mysql://root@127.0.0.1:3306/test); \
    DC_SKIP_MYSQL=1 skips these tests on a machine without MySQL/MariaDB";

struct Fixture {
    admin: MySqlPool,
    admin_options: MySqlConnectOptions,
    host: String,
    port: u16,
    admin_user: String,
    admin_password: Option<String>,
    db: String,
    user: String,
    password: String,
    mariadb: bool,
}

impl Fixture {
    /// `None` only when the developer opted out with DC_SKIP_MYSQL=1.
    async fn new() -> Option<Self> {
        if skipped("DC_SKIP_MYSQL") {
            eprintln!("DC_SKIP_MYSQL=1: skipping a MySQL/MariaDB test");
            return None;
        }
        let url =
            std::env::var("DC_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
        let options = MySqlConnectOptions::from_str(&url).expect("DC_TEST_MYSQL_URL is a mysql:// URL");
        let admin_password = url::password(&url);
        // A direct connection first: the pool would retry a refused one and say only "timed out".
        let probe = options
            .connect()
            .await
            .unwrap_or_else(|e| panic!("MySQL/MariaDB is not reachable at {url}: {e}; {HOW_TO_START}"));
        let _ = probe.close().await;
        let admin = MySqlPoolOptions::new()
            .max_connections(3)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.clone())
            .await
            .unwrap_or_else(|e| panic!("MySQL/MariaDB is not reachable at {url}: {e}; {HOW_TO_START}"));
        let version: String = sqlx::query_scalar("SELECT VERSION()").fetch_one(&admin).await.unwrap();
        let fixture = Self {
            host: options.get_host().to_string(),
            port: options.get_port(),
            admin_user: options.get_username().to_string(),
            admin_password,
            db: unique("dc_t"),
            user: unique("dc_u"),
            password: unique("Pw-secret"),
            mariadb: version.contains("MariaDB"),
            admin,
            admin_options: options,
        };
        let (db, user, pw) = (&fixture.db, &fixture.user, &fixture.password);
        fixture.exec(&format!("CREATE DATABASE `{db}` CHARACTER SET utf8mb4")).await;
        for host in ["%", "localhost"] {
            fixture.exec(&format!("CREATE USER '{user}'@'{host}' IDENTIFIED BY '{pw}'")).await;
            fixture.exec(&format!("GRANT ALL ON `{db}`.* TO '{user}'@'{host}'")).await;
        }
        Some(fixture)
    }

    async fn exec(&self, sql: &str) {
        self.admin.execute(AssertSqlSafe(sql.to_string())).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Runs statements on one admin connection (session settings carry over), in the test database.
    async fn exec_all(&self, statements: &[&str]) {
        let mut conn = self.admin.acquire().await.unwrap();
        conn.execute(AssertSqlSafe(format!("USE `{}`", self.db))).await.unwrap();
        exec_each(&mut *conn, statements).await;
    }

    async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar(AssertSqlSafe(sql.to_string())).fetch_one(&self.admin).await.unwrap()
    }

    fn settings(&self, read_only: bool) -> MysqlSettings {
        MysqlSettings {
            host: self.host.clone(),
            port: self.port,
            database: Some(self.db.clone()),
            user: self.user.clone(),
            tls: TlsMode::Prefer,
            ca_file: None,
            read_only,
        }
    }

    fn secrets(&self) -> Secrets {
        password_secrets(&self.password)
    }

    async fn engine(&self, read_only: bool) -> Arc<dyn Engine> {
        connect_engine(ConnectionSettings::Mysql(self.settings(read_only)), &self.secrets()).await
    }

    /// Whether a statement containing `marker` is running on the server (not counting ours).
    async fn running(&self, marker: &str) -> bool {
        let sql = format!(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
             WHERE INFO LIKE '%{marker}%' AND ID <> CONNECTION_ID()"
        );
        self.scalar(&sql).await > 0
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // The pool belongs to the test's runtime, which is blocked here: clean up over a new
        // connection on the helper thread's own runtime.
        let (options, db, user) = (self.admin_options.clone(), self.db.clone(), self.user.clone());
        block_on_fresh(async move {
            let Ok(mut admin) = options.connect().await else { return };
            let _ = admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{db}`"))).await;
            for host in ["%", "localhost"] {
                let _ = admin.execute(AssertSqlSafe(format!("DROP USER IF EXISTS '{user}'@'{host}'"))).await;
            }
            let _ = admin.close().await;
        });
    }
}

/// The password part of a URL, for connecting as the admin in error-path tests.
mod url {
    pub fn password(url: &str) -> Option<String> {
        let authority = url.split_once("://")?.1.split('/').next()?;
        let userinfo = authority.rsplit_once('@')?.0;
        Some(userinfo.split_once(':')?.1.to_string()).filter(|p| !p.is_empty())
    }
}

#[tokio::test]
async fn every_type_maps_to_exact_json() {
    let f = fixture!();
    let mariadb = f.mariadb;
    // (column definition, inserted SQL value, expected JSON, expected kind when it is the same
    // on MySQL and MariaDB)
    let cases: Vec<(&str, &str, &str, Option<ColumnKind>)> = vec![
        ("TINYINT(1)", "1", "true", Some(ColumnKind::Boolean)),
        ("BOOL", "0", "false", Some(ColumnKind::Boolean)),
        ("TINYINT", "-128", "-128", Some(ColumnKind::Integer)),
        ("TINYINT UNSIGNED", "255", "255", Some(ColumnKind::Integer)),
        ("SMALLINT", "-32768", "-32768", Some(ColumnKind::Integer)),
        ("SMALLINT UNSIGNED", "65535", "65535", Some(ColumnKind::Integer)),
        ("MEDIUMINT", "-8388608", "-8388608", Some(ColumnKind::Integer)),
        ("MEDIUMINT UNSIGNED", "16777215", "16777215", Some(ColumnKind::Integer)),
        ("INT", "-2147483648", "-2147483648", Some(ColumnKind::Integer)),
        ("INT UNSIGNED", "4294967295", "4294967295", Some(ColumnKind::Integer)),
        ("BIGINT", "-9223372036854775808", "\"-9223372036854775808\"", Some(ColumnKind::Integer)),
        ("BIGINT", "9007199254740991", "9007199254740991", Some(ColumnKind::Integer)),
        ("BIGINT", "9007199254740992", "\"9007199254740992\"", Some(ColumnKind::Integer)),
        ("BIGINT UNSIGNED", "18446744073709551615", "\"18446744073709551615\"", Some(ColumnKind::Integer)),
        (
            "DECIMAL(65,30)",
            "12345678901234567890123456789012345.123456789012345678901234567890",
            "12345678901234567890123456789012345.123456789012345678901234567890",
            Some(ColumnKind::Decimal),
        ),
        ("DECIMAL(10,2)", "-0.5", "-0.50", Some(ColumnKind::Decimal)),
        ("FLOAT", "1.1", "1.1", Some(ColumnKind::Float)),
        ("DOUBLE", "0.1", "0.1", Some(ColumnKind::Float)),
        ("DOUBLE", "-1.5e300", "-1.5e300", Some(ColumnKind::Float)),
        ("BIT(1)", "b'1'", "1", Some(ColumnKind::Integer)),
        ("BIT(64)", "~0", "\"18446744073709551615\"", Some(ColumnKind::Integer)),
        ("DATE", "'2024-02-29'", "\"2024-02-29\"", Some(ColumnKind::Date)),
        ("DATE", "'0000-00-00'", "null", Some(ColumnKind::Date)),
        (
            "DATETIME(6)",
            "'2024-12-31 23:59:58.123456'",
            "\"2024-12-31T23:59:58.123456\"",
            Some(ColumnKind::DateTime),
        ),
        ("DATETIME", "'2024-01-02 03:04:05'", "\"2024-01-02T03:04:05\"", Some(ColumnKind::DateTime)),
        ("DATETIME", "'2024-01-02 00:00:00'", "\"2024-01-02T00:00:00\"", Some(ColumnKind::DateTime)),
        ("TIMESTAMP", "'2024-01-02 03:04:05'", "\"2024-01-02T03:04:05+00:00\"", Some(ColumnKind::DateTime)),
        ("TIME", "'-838:59:59'", "\"-838:59:59\"", Some(ColumnKind::Time)),
        ("TIME(6)", "'25:02:03.5'", "\"25:02:03.500000\"", Some(ColumnKind::Time)),
        ("TIME", "'00:00:00'", "\"00:00:00\"", Some(ColumnKind::Time)),
        ("YEAR", "2024", "2024", Some(ColumnKind::Integer)),
        ("CHAR(5)", "'ab'", "\"ab\"", Some(ColumnKind::Text)),
        ("VARCHAR(50)", "'héllo 😀'", "\"héllo 😀\"", Some(ColumnKind::Text)),
        ("VARCHAR(50) COLLATE utf8mb4_bin", "'bin 😀'", "\"bin 😀\"", Some(ColumnKind::Text)),
        ("TEXT", "'a\\nb \"q\" \\\\'", r#""a\nb \"q\" \\""#, Some(ColumnKind::Text)),
        ("LONGTEXT", "REPEAT('x', 3)", "\"xxx\"", Some(ColumnKind::Text)),
        ("BINARY(3)", "x'00FF10'", "\"AP8Q\"", Some(ColumnKind::Binary)),
        ("VARBINARY(10)", "x'DEADBEEF'", "\"3q2+7w==\"", Some(ColumnKind::Binary)),
        ("BLOB", "x'00'", "\"AA==\"", Some(ColumnKind::Binary)),
        ("LONGBLOB", "''", "\"\"", Some(ColumnKind::Binary)),
        ("ENUM('a','b')", "'b'", "\"b\"", Some(ColumnKind::Text)),
        ("SET('x','y','z')", "'x,z'", "\"x,z\"", Some(ColumnKind::Text)),
        // MariaDB's JSON is LONGTEXT with a check; MySQL has a JSON type. Both give the text.
        ("JSON", r#"'{"a": [1, 2]}'"#, r#""{\"a\": [1, 2]}""#, None),
        ("POINT", "POINT(1, -2.5)", "\"POINT(1 -2.5)\"", Some(ColumnKind::Text)),
        (
            "LINESTRING",
            "ST_GeomFromText('LINESTRING(0 0,1.5 2)')",
            "\"LINESTRING(0 0,1.5 2)\"",
            Some(ColumnKind::Text),
        ),
        (
            "GEOMETRY",
            "ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))')",
            "\"POLYGON((0 0,1 0,1 1,0 0))\"",
            Some(ColumnKind::Text),
        ),
        ("INT", "NULL", "null", Some(ColumnKind::Integer)),
        ("VARCHAR(5)", "NULL", "null", Some(ColumnKind::Text)),
    ];
    let columns: Vec<String> =
        cases.iter().enumerate().map(|(i, (def, ..))| format!("c{i} {def} NULL")).collect();
    let values: Vec<&str> = cases.iter().map(|(_, v, ..)| *v).collect();
    let create = format!("CREATE TABLE t ({})", columns.join(", "));
    let insert = format!("INSERT INTO t VALUES ({})", values.join(", "));
    // Zero dates and a fixed zone for TIMESTAMP need the session's permission and clock.
    f.exec_all(&["SET SESSION sql_mode = ''", "SET time_zone = '+00:00'", &create, &insert]).await;

    let engine = f.engine(true).await;
    for (i, (def, value, expected, kind)) in cases.iter().enumerate() {
        let out = run(&engine, query(&format!("SELECT c{i} FROM t"))).await.unwrap();
        assert_eq!(out.body, format!("[{{\"c{i}\":{expected}}}]"), "{def} holding {value}");
        if let Some(kind) = kind {
            assert_eq!(out.columns[0].kind, *kind, "{def}");
        }
        if *def == "JSON" {
            let json_kind = if mariadb { ColumnKind::Text } else { ColumnKind::Json };
            assert_eq!(out.columns[0].kind, json_kind);
        }
    }
    // The whole row at once: keys in column order.
    let all = body(&engine, "SELECT * FROM t").await;
    let expected: Vec<String> =
        cases.iter().enumerate().map(|(i, (_, _, e, _))| format!("\"c{i}\":{e}")).collect();
    assert_eq!(all, format!("[{{{}}}]", expected.join(",")));
}

#[tokio::test]
async fn expressions_parameters_and_duplicate_names() {
    let f = fixture!();
    let engine = f.engine(true).await;
    assert_eq!(
        body(&engine, "SELECT 1 AS a, 2 AS a, 1.50 AS d, 'x' AS s, NULL AS n, CAST(-7 AS DECIMAL(5,2)) AS m")
            .await,
        r#"[{"a":1,"a_2":2,"d":1.50,"s":"x","n":null,"m":-7.00}]"#
    );
    let params = vec![
        Param::Null,
        Param::Bool(true),
        Param::Int(-9_007_199_254_740_993),
        Param::Float(1.5),
        Param::Text("it's 😀".into()),
    ];
    let out = run(
        &engine,
        query_with("SELECT ? IS NULL AS n, ? AS b, ? AS i, ? AS f, ? AS t", params, Duration::from_secs(10)),
    )
    .await
    .unwrap();
    assert_eq!(out.body, r#"[{"n":1,"b":1,"i":"-9007199254740993","f":1.5,"t":"it's 😀"}]"#);

    let e = error(&engine, query_with("SELECT ? AS a", vec![], Duration::from_secs(10))).await;
    assert_kind(&e, ErrorKind::InvalidInput);

    assert_named_without_rows(&engine, "SELECT 1 AS one, 'a' AS two FROM DUAL WHERE 1 = 0", &["one", "two"])
        .await;
}

#[tokio::test]
async fn read_only_connections_refuse_writes_at_the_server() {
    let f = fixture!();
    f.exec_all(&[
        "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))",
        "INSERT INTO t VALUES (1, 'one'), (2, 'two')",
        "CREATE FUNCTION sneaky() RETURNS INT MODIFIES SQL DATA BEGIN DELETE FROM t; RETURN 1; END",
    ])
    .await;
    let engine = f.engine(true).await;
    // These bypass the server's keyword check on purpose: the engine must refuse on its own.
    for sql in [
        "DELETE FROM t",
        "INSERT INTO t VALUES (3, 'three')",
        "UPDATE t SET v = 'x'",
        "SELECT sneaky()",
        "SELECT * FROM t INTO OUTFILE '/tmp/dc_should_not_exist.txt'",
        "SELECT 1 /*!50000 INTO DUMPFILE '/tmp/dc_should_not_exist.txt' */",
    ] {
        let e = error(&engine, query(sql)).await;
        assert_kind(&e, ErrorKind::ReadOnly);
        assert!(!e.message().is_empty());
    }
    assert!(!std::path::Path::new("/tmp/dc_should_not_exist.txt").exists());
    assert_eq!(
        body(&engine, "SELECT id, v FROM t ORDER BY id").await,
        r#"[{"id":1,"v":"one"},{"id":2,"v":"two"}]"#
    );

    // A writable connection may write: the refusals above came from the read-only setting.
    let writable = f.engine(false).await;
    run(&writable, query("INSERT INTO t VALUES (3, 'three')")).await.unwrap();
    assert_eq!(f.scalar(&format!("SELECT COUNT(*) FROM `{}`.t", f.db)).await, 3);
}

#[tokio::test]
async fn queries_stop_at_their_timeout() {
    let f = fixture!();
    let engine = f.engine(true).await;
    assert_times_out(&engine, "SLEEP(5)").await;
}

#[tokio::test]
async fn a_departed_client_stops_the_query_on_the_server() {
    let f = fixture!();
    let engine = f.engine(true).await;
    let f = &f;
    abandoned_queries_stop_on_the_server(
        &engine,
        "SLEEP(30)",
        |marker| async move { f.running(&marker).await },
    )
    .await;
}

#[tokio::test]
async fn connection_errors_are_classified_and_never_show_the_password() {
    let f = fixture!();
    let secrets_shown = |message: &str| message.contains(&f.password) || message.contains("Wrong-pw");

    let mut wrong: Secrets = Secrets::new();
    wrong.insert("password", unique("Wrong-pw"));
    let e = connect_error(ConnectionSettings::Mysql(f.settings(true)), &wrong).await;
    assert_kind(&e, ErrorKind::AccessDenied);
    assert!(!secrets_shown(e.message()), "{}", e.message());

    let refused = MysqlSettings { port: free_port(), ..f.settings(true) };
    let e = connect_error(ConnectionSettings::Mysql(refused), &f.secrets()).await;
    assert_kind(&e, ErrorKind::Unreachable);
    assert!(!secrets_shown(e.message()), "{}", e.message());

    let unknown_host = MysqlSettings { host: "dc-no-such-host.invalid".into(), ..f.settings(true) };
    let e = connect_error(ConnectionSettings::Mysql(unknown_host), &f.secrets()).await;
    assert_kind(&e, ErrorKind::Unreachable);

    // Only an account that may see every database learns that one does not exist.
    let admin = MysqlSettings {
        user: f.admin_user.clone(),
        database: Some(unique("dc_missing")),
        ..f.settings(true)
    };
    let admin_secrets: Secrets =
        f.admin_password.iter().map(|p| ("password".to_string(), p.clone())).collect();
    let e = connect_error(ConnectionSettings::Mysql(admin), &admin_secrets).await;
    assert_kind(&e, ErrorKind::NotFound);

    let engine = f.engine(true).await;
    let e = error(&engine, query("SELEC 1")).await;
    assert_kind(&e, ErrorKind::Sql);
    assert!(e.message().contains("syntax"), "{}", e.message());
    // The server echoes the statement back; a password typed into it must not come out.
    let e = error(&engine, query(&format!("SELECT '{}' FROMM nowhere", f.password))).await;
    assert_kind(&e, ErrorKind::Sql);
    assert!(!secrets_shown(e.message()), "{}", e.message());
    let e = error(&engine, query("SELECT * FROM no_such_table")).await;
    assert_kind(&e, ErrorKind::Sql);
}

#[tokio::test]
async fn schema_browsing() {
    let f = fixture!();
    f.exec_all(&[
        "CREATE TABLE prices (ticker VARCHAR(10) NOT NULL, close DECIMAL(12,4), day DATE)",
        "CREATE VIEW tickers AS SELECT DISTINCT ticker FROM prices",
    ])
    .await;
    let engine = f.engine(true).await;
    assert!(engine.server_version().await.unwrap().starts_with(if f.mariadb {
        "MariaDB "
    } else {
        "MySQL "
    }));
    assert!(engine.list(Listing::Databases).await.unwrap().contains(&f.db));
    assert!(engine.list(Listing::Schemas).await.unwrap().contains(&f.db));
    assert_kind(&engine.list(Listing::Roles).await.unwrap_err(), ErrorKind::Unsupported);

    let tables = engine.tables(Some(&f.db)).await.unwrap();
    let found: Vec<_> =
        tables.iter().map(|t| (t.schema.as_str(), t.name.as_str(), t.kind.as_str())).collect();
    assert_eq!(found, [(f.db.as_str(), "prices", "table"), (f.db.as_str(), "tickers", "view")]);
    assert!(engine.tables(None).await.unwrap().iter().any(|t| t.name == "prices" && t.schema == f.db));
    assert_kind(&engine.tables(Some("dc_no_such_db")).await.unwrap_err(), ErrorKind::NotFound);

    let columns = engine.columns(None, "prices").await.unwrap();
    let found: Vec<_> = columns.iter().map(|c| (c.name.as_str(), c.db_type.as_str(), c.nullable)).collect();
    assert_eq!(
        found,
        [("ticker", "varchar(10)", false), ("close", "decimal(12,4)", true), ("day", "date", true)]
    );
    assert_eq!(engine.columns(Some(&f.db), "tickers").await.unwrap().len(), 1);
    assert_kind(&engine.columns(Some(&f.db), "nope").await.unwrap_err(), ErrorKind::NotFound);
}

#[tokio::test]
async fn a_url_connection_keeps_its_password_out_of_the_settings() {
    let f = fixture!();
    let url = format!("mariadb://{}:{}@{}:{}/{}", f.user, f.password, f.host, f.port, f.db);
    let (settings, secrets) =
        settings_from_url(serde_json::json!({ "url": url, "read_only": true }), &f.password);
    assert_eq!(secrets.get("password"), Some(f.password.as_str()));
    let engine = connectors::connect(&settings, &secrets).await.unwrap();
    assert_eq!(body(&engine, "SELECT DATABASE() AS db").await, format!(r#"[{{"db":"{}"}}]"#, f.db));
}

#[tokio::test]
async fn large_results_stream_complete_and_row_caps_stop_the_server() {
    let f = fixture!();
    f.exec_all(&["CREATE TABLE d (i INT)", "INSERT INTO d VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)"])
        .await;
    let engine = f.engine(true).await;
    let sql = "SELECT a.i + 10 * b.i + 100 * c.i + 1000 * e.i + 10000 * g.i AS n, \
               CONCAT('row ', a.i, b.i, c.i, e.i, g.i) AS label \
               FROM d a, d b, d c, d e, d g ORDER BY n";
    let rows = streamed_rows(&engine, sql).await;
    assert_eq!(rows[0], serde_json::json!({"n": 0, "label": "row 00000"}));
    assert_eq!(rows[99_999], serde_json::json!({"n": 99_999, "label": "row 99999"}));

    let marker = unique("dc_capped");
    let capped = format!("{sql}, '{marker}'");
    let out = run_limited(&engine, query(&capped), 10).await.unwrap();
    assert_eq!((out.rows, out.truncated), (10, true));
    assert_eq!(serde_json::from_str::<Vec<serde_json::Value>>(&out.body).unwrap().len(), 10);
    assert!(
        eventually(Duration::from_secs(5), || async { !f.running(&marker).await }).await,
        "the capped query kept running"
    );

    // The truncation probe the server uses for long results.
    let checked = statement::check(sql, true).unwrap();
    assert!(engine.exceeds(&checked, &query(sql), 99_999).await.unwrap());
    assert!(!engine.exceeds(&checked, &query(sql), 100_000).await.unwrap());
}
