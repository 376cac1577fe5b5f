//! The MySQL/MariaDB engine against a real server (default: the local MariaDB as root without a
//! password; `DC_TEST_MYSQL_URL` points elsewhere). Each test makes its own database and a user
//! with a password (`dc_test_support::mysql::MysqlDb`), and drops both.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use connectors::mysql::MysqlSettings;
use connectors::{statement, ColumnKind, ConnectionSettings, EngineKind, ErrorKind, Listing, Secrets};
use dc_test_support::engine::*;
use dc_test_support::mysql::MysqlDb;
use dc_test_support::types::{assert_type_cases, type_table, TypeCase};
use dc_test_support::unique;
use std::time::Duration;

/// The test's database, or an early return when the developer opted out (`DC_SKIP_MYSQL=1`).
macro_rules! fixture {
    () => {
        match MysqlDb::create().await {
            Some(f) => f,
            None => return,
        }
    };
}

#[tokio::test]
async fn every_type_maps_to_exact_json() {
    let f = fixture!();
    // MariaDB's JSON is LONGTEXT with a check, so its kind is text; MySQL has a JSON type.
    let json_kind = if f.mariadb { ColumnKind::Text } else { ColumnKind::Json };
    let cases: Vec<TypeCase> = vec![
        ("TINYINT(1)", "1", "true", ColumnKind::Boolean),
        ("BOOL", "0", "false", ColumnKind::Boolean),
        ("TINYINT", "-128", "-128", ColumnKind::Integer),
        ("TINYINT UNSIGNED", "255", "255", ColumnKind::Integer),
        ("SMALLINT", "-32768", "-32768", ColumnKind::Integer),
        ("SMALLINT UNSIGNED", "65535", "65535", ColumnKind::Integer),
        ("MEDIUMINT", "-8388608", "-8388608", ColumnKind::Integer),
        ("MEDIUMINT UNSIGNED", "16777215", "16777215", ColumnKind::Integer),
        ("INT", "-2147483648", "-2147483648", ColumnKind::Integer),
        ("INT UNSIGNED", "4294967295", "4294967295", ColumnKind::Integer),
        ("BIGINT", "-9223372036854775808", "\"-9223372036854775808\"", ColumnKind::Integer),
        ("BIGINT", "9007199254740991", "9007199254740991", ColumnKind::Integer),
        ("BIGINT", "9007199254740992", "\"9007199254740992\"", ColumnKind::Integer),
        ("BIGINT UNSIGNED", "18446744073709551615", "\"18446744073709551615\"", ColumnKind::Integer),
        (
            "DECIMAL(65,30)",
            "12345678901234567890123456789012345.123456789012345678901234567890",
            "12345678901234567890123456789012345.123456789012345678901234567890",
            ColumnKind::Decimal,
        ),
        ("DECIMAL(10,2)", "-0.5", "-0.50", ColumnKind::Decimal),
        ("FLOAT", "1.1", "1.1", ColumnKind::Float),
        ("DOUBLE", "0.1", "0.1", ColumnKind::Float),
        ("DOUBLE", "-1.5e300", "-1.5e300", ColumnKind::Float),
        ("BIT(1)", "b'1'", "1", ColumnKind::Integer),
        ("BIT(64)", "~0", "\"18446744073709551615\"", ColumnKind::Integer),
        ("DATE", "'2024-02-29'", "\"2024-02-29\"", ColumnKind::Date),
        ("DATE", "'0000-00-00'", "null", ColumnKind::Date),
        (
            "DATETIME(6)",
            "'2024-12-31 23:59:58.123456'",
            "\"2024-12-31T23:59:58.123456\"",
            ColumnKind::DateTime,
        ),
        ("DATETIME", "'2024-01-02 03:04:05'", "\"2024-01-02T03:04:05\"", ColumnKind::DateTime),
        ("DATETIME", "'2024-01-02 00:00:00'", "\"2024-01-02T00:00:00\"", ColumnKind::DateTime),
        ("TIMESTAMP", "'2024-01-02 03:04:05'", "\"2024-01-02T03:04:05+00:00\"", ColumnKind::DateTime),
        ("TIME", "'-838:59:59'", "\"-838:59:59\"", ColumnKind::Time),
        ("TIME(6)", "'25:02:03.5'", "\"25:02:03.500000\"", ColumnKind::Time),
        ("TIME", "'00:00:00'", "\"00:00:00\"", ColumnKind::Time),
        ("YEAR", "2024", "2024", ColumnKind::Integer),
        ("CHAR(5)", "'ab'", "\"ab\"", ColumnKind::Text),
        ("VARCHAR(50)", "'héllo 😀'", "\"héllo 😀\"", ColumnKind::Text),
        ("VARCHAR(50) COLLATE utf8mb4_bin", "'bin 😀'", "\"bin 😀\"", ColumnKind::Text),
        ("TEXT", "'a\\nb \"q\" \\\\'", r#""a\nb \"q\" \\""#, ColumnKind::Text),
        ("LONGTEXT", "REPEAT('x', 3)", "\"xxx\"", ColumnKind::Text),
        ("BINARY(3)", "x'00FF10'", "\"AP8Q\"", ColumnKind::Binary),
        ("VARBINARY(10)", "x'DEADBEEF'", "\"3q2+7w==\"", ColumnKind::Binary),
        ("BLOB", "x'00'", "\"AA==\"", ColumnKind::Binary),
        ("LONGBLOB", "''", "\"\"", ColumnKind::Binary),
        ("ENUM('a','b')", "'b'", "\"b\"", ColumnKind::Text),
        ("SET('x','y','z')", "'x,z'", "\"x,z\"", ColumnKind::Text),
        // MariaDB's JSON is LONGTEXT with a check; MySQL has a JSON type. Both give the text.
        ("JSON", r#"'{"a": [1, 2]}'"#, r#""{\"a\": [1, 2]}""#, json_kind),
        ("POINT", "POINT(1, -2.5)", "\"POINT(1 -2.5)\"", ColumnKind::Text),
        (
            "LINESTRING",
            "ST_GeomFromText('LINESTRING(0 0,1.5 2)')",
            "\"LINESTRING(0 0,1.5 2)\"",
            ColumnKind::Text,
        ),
        (
            "GEOMETRY",
            "ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))')",
            "\"POLYGON((0 0,1 0,1 1,0 0))\"",
            ColumnKind::Text,
        ),
        ("INT", "NULL", "null", ColumnKind::Integer),
        ("VARCHAR(5)", "NULL", "null", ColumnKind::Text),
    ];
    let [create, insert] = type_table(EngineKind::Mysql, "t", &cases);
    // Zero dates and a fixed zone for TIMESTAMP need the session's permission and clock.
    f.exec_all(&["SET SESSION sql_mode = ''", "SET time_zone = '+00:00'", &create, &insert]).await;
    assert_type_cases(&*f.engine(true).await, "t", &cases).await;
}

#[tokio::test]
async fn expressions_parameters_and_duplicate_names() {
    let f = fixture!();
    let engine = f.engine(true).await;
    assert_eq!(
        body(
            &*engine,
            "SELECT 1 AS a, 2 AS a, 1.50 AS d, 'x' AS s, NULL AS n, CAST(-7 AS DECIMAL(5,2)) AS m"
        )
        .await,
        r#"[{"a":1,"a_2":2,"d":1.50,"s":"x","n":null,"m":-7.00}]"#
    );
    assert_parameters_bind(
        &*engine,
        "SELECT ? IS NULL AS n, ? AS b, ? AS i, ? AS f, ? AS t",
        r#"[{"n":1,"b":1,"i":"-9007199254740993","f":1.5,"t":"it's 😀"}]"#,
    )
    .await;
    assert_missing_parameter_refused(&*engine, "SELECT ? AS a").await;

    assert_named_without_rows(&*engine, "SELECT 1 AS one, 'a' AS two FROM DUAL WHERE 1 = 0", &["one", "two"])
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
        let e = error(&*engine, query(sql)).await;
        assert_kind(&e, ErrorKind::ReadOnly);
        assert!(!e.message().is_empty());
    }
    assert!(!std::path::Path::new("/tmp/dc_should_not_exist.txt").exists());
    assert_eq!(
        body(&*engine, "SELECT id, v FROM t ORDER BY id").await,
        r#"[{"id":1,"v":"one"},{"id":2,"v":"two"}]"#
    );

    // A writable connection may write: the refusals above came from the read-only setting.
    let writable = f.engine(false).await;
    run(&*writable, query("INSERT INTO t VALUES (3, 'three')")).await.unwrap();
    assert_eq!(f.scalar(&format!("SELECT COUNT(*) FROM `{}`.t", f.db)).await, 3);
}

#[tokio::test]
async fn queries_stop_at_their_timeout() {
    let f = fixture!();
    let engine = f.engine(true).await;
    assert_times_out(&*engine, "SLEEP(5)").await;
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
async fn a_client_leaving_mid_stream_stops_the_query_on_the_server() {
    let f = fixture!();
    let engine = f.engine(true).await;
    let f = &f;
    a_client_leaving_mid_stream_stops_the_query(
        &engine,
        "SELECT seq, REPEAT('x', 100) AS pad, '{marker}' AS m FROM seq_1_to_5000000",
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
    let e = error(&*engine, query("SELECT 1 +")).await;
    assert_kind(&e, ErrorKind::Sql);
    assert!(e.message().contains("syntax"), "{}", e.message());
    // The server echoes the statement back; a password typed into it must not come out.
    let e = error(&*engine, query(&format!("SELECT '{}' FROMM nowhere", f.password))).await;
    assert_kind(&e, ErrorKind::Sql);
    assert!(!secrets_shown(e.message()), "{}", e.message());
    let e = error(&*engine, query("SELECT * FROM no_such_table")).await;
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
    assert_eq!(body(&*engine, "SELECT DATABASE() AS db").await, format!(r#"[{{"db":"{}"}}]"#, f.db));
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
    let rows = streamed_rows(&*engine, sql).await;
    assert_eq!(rows[0], serde_json::json!({"n": 0, "label": "row 00000"}));
    assert_eq!(rows[99_999], serde_json::json!({"n": 99_999, "label": "row 99999"}));

    let marker = unique("dc_capped");
    let capped = format!("{sql}, '{marker}'");
    let out = run_limited(&*engine, query(&capped), 10).await.unwrap();
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
