//! The PostgreSQL engine against a real server (default: the local cluster as `postgres` with
//! trust authentication; `DC_TEST_POSTGRES_URL` points elsewhere). Each test makes its own
//! database and a role with a password (`dc_test_support::postgres::PostgresDb`), and drops both.
//! Because trust authentication accepts any password, the wrong-password test starts a private
//! scram-sha-256 cluster of its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use connectors::postgres::PostgresSettings;
use connectors::settings::TlsMode;
use connectors::{statement, ColumnKind, ConnectionSettings, EngineKind, ErrorKind, Listing, Param, Secrets};
use dc_test_support::engine::*;
use dc_test_support::postgres::PostgresDb;
use dc_test_support::types::{assert_type_cases, type_table, TypeCase};
use dc_test_support::{skipped, unique, Need};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The test's database, or an early return when the developer opted out (`DC_SKIP_POSTGRES=1`).
macro_rules! fixture {
    () => {
        match PostgresDb::create().await {
            Some(f) => f,
            None => return,
        }
    };
}

#[tokio::test]
async fn every_type_maps_to_exact_json() {
    let f = fixture!();
    f.exec_all(&[
        "CREATE TYPE mood AS ENUM ('happy', 'sad')",
        "CREATE TYPE pair AS (id int, name text)",
        "CREATE DOMAIN posint AS int CHECK (VALUE > 0)",
        // Trusted extensions (PostgreSQL 13+), which the database owner may create.
        "CREATE EXTENSION hstore",
        "CREATE EXTENSION citext",
    ])
    .await;
    let cases: Vec<TypeCase> = vec![
        ("bool", "true", "true", ColumnKind::Boolean),
        ("int2", "-32768", "-32768", ColumnKind::Integer),
        ("int4", "2147483647", "2147483647", ColumnKind::Integer),
        ("int8", "-9223372036854775808", "\"-9223372036854775808\"", ColumnKind::Integer),
        ("int8", "9007199254740991", "9007199254740991", ColumnKind::Integer),
        ("int8", "9007199254740993", "\"9007199254740993\"", ColumnKind::Integer),
        (
            "numeric(65,30)",
            "12345678901234567890123456789012345.123456789012345678901234567890",
            "12345678901234567890123456789012345.123456789012345678901234567890",
            ColumnKind::Decimal,
        ),
        ("numeric", "-0.00100", "-0.00100", ColumnKind::Decimal),
        ("numeric", "100000000", "100000000", ColumnKind::Decimal),
        ("numeric", "'NaN'", "null", ColumnKind::Decimal),
        ("numeric(10,2)", "0", "0.00", ColumnKind::Decimal),
        ("float4", "1.1", "1.1", ColumnKind::Float),
        ("float8", "0.1", "0.1", ColumnKind::Float),
        ("float8", "'NaN'", "null", ColumnKind::Float),
        ("float8", "'-Infinity'", "null", ColumnKind::Float),
        ("money", "12.34", "12.34", ColumnKind::Decimal),
        ("text", "'héllo 😀 \"q\"'", r#""héllo 😀 \"q\"""#, ColumnKind::Text),
        ("varchar(10)", "'x'", "\"x\"", ColumnKind::Text),
        ("char(5)", "'ab'", "\"ab   \"", ColumnKind::Text),
        ("bytea", "'\\xdeadbeef'", "\"3q2+7w==\"", ColumnKind::Binary),
        ("date", "'2024-02-29'", "\"2024-02-29\"", ColumnKind::Date),
        ("date", "'infinity'", "\"infinity\"", ColumnKind::Date),
        ("date", "'0001-01-01 BC'", "\"0000-01-01\"", ColumnKind::Date),
        ("time", "'13:05:06.25'", "\"13:05:06.250000\"", ColumnKind::Time),
        ("time", "'24:00:00'", "\"24:00:00\"", ColumnKind::Time),
        ("timetz", "'13:05:06+05:30'", "\"13:05:06+05:30\"", ColumnKind::Time),
        ("timestamp", "'2024-01-02 03:04:05.123456'", "\"2024-01-02T03:04:05.123456\"", ColumnKind::DateTime),
        ("timestamp", "'-infinity'", "\"-infinity\"", ColumnKind::DateTime),
        ("timestamptz", "'2024-01-02 03:04:05+02'", "\"2024-01-02T01:04:05+00:00\"", ColumnKind::DateTime),
        (
            "interval",
            "'1 year 2 mons 3 days 04:05:06.5'",
            "\"1 year 2 mons 3 days 04:05:06.5\"",
            ColumnKind::Text,
        ),
        ("interval", "'-1 days'", "\"-1 days\"", ColumnKind::Text),
        (
            "uuid",
            "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
            "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"",
            ColumnKind::Text,
        ),
        ("json", r#"'{"a": [1,  2]}'"#, r#""{\"a\": [1,  2]}""#, ColumnKind::Json),
        ("jsonb", r#"'{"b": 1, "a": [1,  2]}'"#, r#""{\"a\": [1, 2], \"b\": 1}""#, ColumnKind::Json),
        ("int4[]", "'{{1,2},{3,NULL}}'", r#""[[1,2],[3,null]]""#, ColumnKind::Json),
        ("text[]", r#"'{"a b",NULL,"é"}'"#, r#""[\"a b\",null,\"é\"]""#, ColumnKind::Json),
        ("numeric[]", "'{1.50,-2}'", r#""[1.50,-2]""#, ColumnKind::Json),
        ("date[]", "'{2024-01-01}'", r#""[\"2024-01-01\"]""#, ColumnKind::Json),
        ("jsonb[]", r#"ARRAY['{"k": 1}'::jsonb]"#, r#""[{\"k\": 1}]""#, ColumnKind::Json),
        ("int8[]", "'{}'", r#""[]""#, ColumnKind::Json),
        ("mood", "'happy'", "\"happy\"", ColumnKind::Text),
        ("mood[]", "'{happy,sad}'", r#""[\"happy\",\"sad\"]""#, ColumnKind::Json),
        ("pair", "ROW(7, 'x')", r#""{\"id\":7,\"name\":\"x\"}""#, ColumnKind::Json),
        ("posint", "5", "5", ColumnKind::Integer),
        ("inet", "'192.168.0.1/24'", "\"192.168.0.1/24\"", ColumnKind::Text),
        ("inet", "'::1'", "\"::1\"", ColumnKind::Text),
        ("cidr", "'10.0.0.0/8'", "\"10.0.0.0/8\"", ColumnKind::Text),
        ("macaddr", "'08:00:2b:01:02:03'", "\"08:00:2b:01:02:03\"", ColumnKind::Text),
        ("bit(4)", "B'1010'", "\"1010\"", ColumnKind::Text),
        ("varbit", "B'101'", "\"101\"", ColumnKind::Text),
        ("int4range", "'[1,10)'", "\"[1,10)\"", ColumnKind::Text),
        ("daterange", "'[2024-01-01,2024-02-01)'", "\"[2024-01-01,2024-02-01)\"", ColumnKind::Text),
        ("tstzrange", "'[2024-01-01 00:00+00,)'", "\"[2024-01-01T00:00:00+00:00,)\"", ColumnKind::Text),
        ("int4range", "'empty'", "\"empty\"", ColumnKind::Text),
        ("point", "'(1.5,-2)'", "\"(1.5,-2)\"", ColumnKind::Text),
        ("box", "'((0,0),(1,1))'", "\"(1,1),(0,0)\"", ColumnKind::Text),
        ("circle", "'<(0,0),2>'", "\"<(0,0),2>\"", ColumnKind::Text),
        ("xml", "'<a>1</a>'", "\"<a>1</a>\"", ColumnKind::Text),
        ("citext", "'MiXed'", "\"MiXed\"", ColumnKind::Text),
        ("hstore", "'k=>v, n=>NULL'", r#""{\"k\":\"v\",\"n\":null}""#, ColumnKind::Json),
        ("int4", "NULL", "null", ColumnKind::Integer),
        ("text", "NULL", "null", ColumnKind::Text),
    ];
    let [create, insert] = type_table(EngineKind::Postgres, "t", &cases);
    f.exec_all(&[&create, &insert]).await;
    let engine = f.engine(true).await;
    assert_type_cases(&*engine, "t", &cases).await;
    // Those reads had no parameters, so they came through binary COPY (connectors'
    // postgres/copy.rs); a read with one runs as a prepared statement. Same row either way.
    let prepared = run(
        &*engine,
        query_with("SELECT * FROM t WHERE $1", vec![Param::Bool(true)], Duration::from_secs(10)),
    )
    .await
    .unwrap();
    assert_eq!(prepared.body, body(&*engine, "SELECT * FROM t").await);

    // A type without a decoder is refused up front, with the way around it.
    let e = error(&*engine, query("SELECT to_tsvector('simple', 'a b') AS doc")).await;
    assert_kind(&e, ErrorKind::Unsupported);
    assert!(e.message().contains("doc::text"), "{}", e.message());
    assert_eq!(
        body(&*engine, "SELECT to_tsvector('simple', 'a b')::text AS doc").await,
        r#"[{"doc":"'a':1 'b':2"}]"#
    );
}

#[tokio::test]
async fn expressions_parameters_and_duplicate_names() {
    let f = fixture!();
    let engine = f.engine(true).await;
    assert_eq!(
        body(
            &*engine,
            "SELECT 1 AS a, 2 AS a, 1.50 AS d, 'x' AS s, NULL AS n, ROW(1, 'b') AS r, pg_sleep(0) AS v"
        )
        .await,
        r#"[{"a":1,"a_2":2,"d":1.50,"s":"x","n":null,"r":"[1,\"b\"]","v":null}]"#
    );
    assert_parameters_bind(
        &*engine,
        "SELECT $1::int IS NULL AS n, $2 AS b, $3 AS i, $4 AS f, $5 AS t, $5::text || '!' AS u",
        r#"[{"n":true,"b":true,"i":"-9007199254740993","f":1.5,"t":"it's 😀","u":"it's 😀!"}]"#,
    )
    .await;
    // An untyped NULL takes the type its use gives it.
    let out = run(
        &*engine,
        query_with(
            "SELECT count(*) AS c FROM generate_series(1, 3) g WHERE g = $1",
            vec![Param::Null],
            Duration::from_secs(10),
        ),
    )
    .await
    .unwrap();
    assert_eq!(out.body, r#"[{"c":0}]"#);

    // The same SQL with other parameter types must not reuse the first prepared statement.
    for (param, expected) in [
        (Param::Int(5), r#"[{"v":"5"}]"#),
        (Param::Text("abc".into()), r#"[{"v":"abc"}]"#),
        (Param::Float(0.25), r#"[{"v":"0.25"}]"#),
        (Param::Bool(false), r#"[{"v":"false"}]"#),
    ] {
        let out = run(&*engine, query_with("SELECT $1::text AS v", vec![param], Duration::from_secs(10)))
            .await
            .unwrap();
        assert_eq!(out.body, expected);
    }
    // An int8 parameter against an int4 column.
    let out = run(
        &*engine,
        query_with(
            "SELECT count(*) AS c FROM generate_series(1, 9) g WHERE g <= $1",
            vec![Param::Int(4)],
            Duration::from_secs(10),
        ),
    )
    .await
    .unwrap();
    assert_eq!(out.body, r#"[{"c":4}]"#);

    assert_missing_parameter_refused(&*engine, "SELECT $1::int AS a").await;

    assert_named_without_rows(&*engine, "SELECT 1 AS one, 'a' AS two WHERE false", &["one", "two"]).await;
}

#[tokio::test]
async fn read_only_connections_refuse_writes_at_the_server() {
    let f = fixture!();
    f.exec_all(&[
        "CREATE TABLE t (id int PRIMARY KEY, v text)",
        "INSERT INTO t VALUES (1, 'one'), (2, 'two')",
        "CREATE SEQUENCE s",
    ])
    .await;
    let engine = f.engine(true).await;
    for sql in [
        // Binary COPY refuses this one before it runs (a WITH holding a write must be at the
        // top level); it runs again as a prepared statement, which the server refuses as a write.
        "WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone",
        "SELECT * INTO t2 FROM t",
        "SELECT nextval('s')",
        "DELETE FROM t",
        "INSERT INTO t VALUES (3, 'three')",
        "CREATE TABLE t3 (x int)",
    ] {
        let e = error(&*engine, query(sql)).await;
        assert_kind(&e, ErrorKind::ReadOnly);
        assert!(e.message().contains("read-only"), "{}", e.message());
    }
    assert_eq!(
        body(&*engine, "SELECT id, v FROM t ORDER BY id").await,
        r#"[{"id":1,"v":"one"},{"id":2,"v":"two"}]"#
    );
    // READ ONLY lets large-object functions through, so the guard refuses them (the attack
    // suite, read_only_attacks.rs, has the rest of that list).
    let e = error(&*engine, query("SELECT lo_create(0) AS oid")).await;
    assert_kind(&e, ErrorKind::ReadOnly);
    assert_eq!(f.scalar("SELECT count(*) FROM pg_largeobject_metadata").await, 0);

    let writable = f.engine(false).await;
    let out = run(
        &*writable,
        query("WITH added AS (INSERT INTO t VALUES (3, 'three') RETURNING id) SELECT * FROM added"),
    )
    .await
    .unwrap();
    assert_eq!(out.body, r#"[{"id":3}]"#);
    assert_eq!(f.scalar("SELECT count(*) FROM t").await, 3);
}

#[tokio::test]
async fn queries_stop_at_their_timeout() {
    let f = fixture!();
    let engine = f.engine(true).await;
    assert_times_out(&*engine, "pg_sleep(5)").await;
    // Writable connections have no transaction to scope the limit to; it still applies.
    let writable = f.engine(false).await;
    let e = error(&*writable, query_with("SELECT pg_sleep(5)", vec![], Duration::from_millis(300))).await;
    assert_kind(&e, ErrorKind::Timeout);
}

#[tokio::test]
async fn a_departed_client_stops_the_query_on_the_server() {
    let f = fixture!();
    let engine = f.engine(true).await;
    let f = &f;
    abandoned_queries_stop_on_the_server(&engine, "pg_sleep(30)", |marker| async move {
        f.running(&marker).await
    })
    .await;
}

#[tokio::test]
async fn a_client_leaving_mid_stream_stops_the_query_on_the_server() {
    let f = fixture!();
    let engine = f.engine(true).await;
    let f = &f;
    a_client_leaving_mid_stream_stops_the_query(
        &engine,
        "SELECT g, repeat('x', 100) AS pad, '{marker}' AS m FROM generate_series(1, 5000000) g",
        |marker| async move { f.running(&marker).await },
    )
    .await;
}

#[tokio::test]
async fn connection_errors_are_classified_and_never_show_the_password() {
    let f = fixture!();
    let secrets_shown = |message: &str| message.contains(&f.password);

    let refused = PostgresSettings { port: free_port(), ..f.settings(true) };
    let e = connect_error(ConnectionSettings::Postgres(refused), &f.secrets()).await;
    assert_kind(&e, ErrorKind::Unreachable);
    assert!(!secrets_shown(e.message()), "{}", e.message());

    let unknown_host = PostgresSettings { host: "dc-no-such-host.invalid".into(), ..f.settings(true) };
    let e = connect_error(ConnectionSettings::Postgres(unknown_host), &f.secrets()).await;
    assert_kind(&e, ErrorKind::Unreachable);

    let missing_db = PostgresSettings { database: Some(unique("dc_missing")), ..f.settings(true) };
    let e = connect_error(ConnectionSettings::Postgres(missing_db), &f.secrets()).await;
    assert_kind(&e, ErrorKind::NotFound);
    assert!(!secrets_shown(e.message()), "{}", e.message());

    let unknown_role = PostgresSettings { user: unique("dc_nobody"), ..f.settings(true) };
    let e = connect_error(ConnectionSettings::Postgres(unknown_role), &f.secrets()).await;
    assert_kind(&e, ErrorKind::AccessDenied);

    let engine = f.engine(true).await;
    let e = error(&*engine, query("SELECT 1 +")).await;
    assert_kind(&e, ErrorKind::Sql);
    assert!(e.message().contains("syntax error"), "{}", e.message());
    // The server quotes bad input back; a password typed into a query must not come out.
    let e = error(&*engine, query(&format!("SELECT '{}'::int", f.password))).await;
    assert_kind(&e, ErrorKind::Sql);
    assert!(e.message().contains("invalid input syntax"), "{}", e.message());
    assert!(!secrets_shown(e.message()), "{}", e.message());
    let e = error(&*engine, query("SELECT * FROM no_such_table")).await;
    assert_kind(&e, ErrorKind::Sql);
}

/// A private cluster that checks passwords (scram-sha-256), on a free port, removed on drop.
struct ScramCluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    password: String,
}

impl ScramCluster {
    fn start() -> Self {
        let bin = pg_bindir().unwrap_or_else(|| {
            panic!(
                "no PostgreSQL server binaries (initdb) found; install postgresql or set DC_TEST_PG_BINDIR"
            )
        });
        let dir = std::env::temp_dir().join(unique("dc_pg_scram"));
        std::fs::create_dir(&dir).unwrap();
        let password = unique("Admin-pw");
        std::fs::write(dir.join("pw"), &password).unwrap();
        if is_root() {
            // initdb refuses to run as root; the cluster belongs to the postgres account.
            let status = Command::new("chown").args(["-R", "postgres:"]).arg(&dir).status().unwrap();
            assert!(status.success(), "chown of {} failed", dir.display());
        }
        let port = free_port();
        let cluster = Self { dir, bin, port, password };
        let data = cluster.dir.join("data");
        cluster.pg(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "--auth-host=scram-sha-256".as_ref(),
                "--auth-local=trust".as_ref(),
                "--no-sync".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                format!("--pwfile={}", cluster.dir.join("pw").display()).as_ref(),
            ],
        );
        let server_options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=16MB",
            cluster.port,
            cluster.dir.display()
        );
        cluster.pg(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-o".as_ref(),
                server_options.as_ref(),
                "-l".as_ref(),
                cluster.dir.join("log").as_os_str(),
                "-w".as_ref(),
                "-t".as_ref(),
                "30".as_ref(),
                "start".as_ref(),
            ],
        );
        cluster
    }

    fn pg(&self, tool: &str, args: &[&std::ffi::OsStr]) {
        let program = self.bin.join(tool);
        let output = if is_root() {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&program).args(args).output()
        } else {
            Command::new(&program).args(args).output()
        }
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        assert!(
            output.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for ScramCluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let stop: [&std::ffi::OsStr; 5] =
            ["-D".as_ref(), data.as_os_str(), "-m".as_ref(), "immediate".as_ref(), "stop".as_ref()];
        let program = self.bin.join("pg_ctl");
        let _ = if is_root() {
            Command::new("runuser").args(["-u", "postgres", "--"]).arg(&program).args(stop).output()
        } else {
            Command::new(&program).args(stop).output()
        };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn pg_bindir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("DC_TEST_PG_BINDIR") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| Path::new(&bin.join("initdb")).exists())
        .collect();
    versions.sort_by_key(|p| p.parent().and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok()));
    versions.pop()
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_never_shown() {
    if skipped(Need::Postgres) {
        return;
    }
    let cluster = tokio::task::spawn_blocking(ScramCluster::start).await.unwrap();
    let settings = PostgresSettings {
        host: "127.0.0.1".into(),
        port: cluster.port,
        database: None,
        user: "postgres".into(),
        tls: TlsMode::Prefer,
        ca_file: None,
        read_only: true,
        ssh: None,
    };
    let wrong_password = unique("Wrong-pw");
    let wrong: Secrets = password_secrets(&wrong_password);
    let e = connect_error(ConnectionSettings::Postgres(settings.clone()), &wrong).await;
    assert_kind(&e, ErrorKind::AccessDenied);
    assert!(e.message().contains("password authentication failed"), "{}", e.message());
    assert!(!e.message().contains(&wrong_password), "{}", e.message());

    let right: Secrets = password_secrets(&cluster.password);
    let engine = connectors::connect(&ConnectionSettings::Postgres(settings), &right).await.unwrap();
    assert!(engine.server_version().await.unwrap().starts_with("PostgreSQL "));
    assert!(engine.list(Listing::Databases).await.unwrap().contains(&"postgres".to_string()));
    drop(engine);
    tokio::task::spawn_blocking(move || drop(cluster)).await.unwrap();
}

#[tokio::test]
async fn schema_browsing() {
    let f = fixture!();
    f.exec_all(&[
        "CREATE SCHEMA market",
        "CREATE TABLE market.prices (ticker varchar(10) NOT NULL, close numeric(12,4), day date)",
        "CREATE VIEW market.tickers AS SELECT DISTINCT ticker FROM market.prices",
        "CREATE TABLE public.notes (body text)",
    ])
    .await;
    let engine = f.engine(true).await;
    assert!(engine.server_version().await.unwrap().starts_with("PostgreSQL "));
    assert!(engine.list(Listing::Databases).await.unwrap().contains(&f.db));
    let schemas = engine.list(Listing::Schemas).await.unwrap();
    assert!(
        schemas.contains(&"market".to_string()) && schemas.contains(&"public".to_string()),
        "{schemas:?}"
    );
    assert!(!schemas.iter().any(|s| s.starts_with("pg_") || s == "information_schema"));
    assert_kind(&engine.list(Listing::Warehouses).await.unwrap_err(), ErrorKind::Unsupported);

    let tables = engine.tables(Some("market")).await.unwrap();
    let found: Vec<_> =
        tables.iter().map(|t| (t.schema.as_str(), t.name.as_str(), t.kind.as_str())).collect();
    assert_eq!(found, [("market", "prices", "table"), ("market", "tickers", "view")]);
    let all = engine.tables(None).await.unwrap();
    assert!(all.iter().any(|t| t.schema == "public" && t.name == "notes"));
    assert!(all.iter().any(|t| t.schema == "market" && t.name == "prices"));
    assert_kind(&engine.tables(Some("dc_no_such_schema")).await.unwrap_err(), ErrorKind::NotFound);

    let columns = engine.columns(Some("market"), "prices").await.unwrap();
    let found: Vec<_> = columns.iter().map(|c| (c.name.as_str(), c.db_type.as_str(), c.nullable)).collect();
    assert_eq!(
        found,
        [("ticker", "character varying(10)", false), ("close", "numeric(12,4)", true), ("day", "date", true)]
    );
    assert_eq!(engine.columns(None, "notes").await.unwrap().len(), 1);
    assert_kind(&engine.columns(None, "prices").await.unwrap_err(), ErrorKind::NotFound);
    assert_kind(&engine.columns(Some("market"), "nope").await.unwrap_err(), ErrorKind::NotFound);
}

#[tokio::test]
async fn a_url_connection_keeps_its_password_out_of_the_settings() {
    let f = fixture!();
    let url = format!("postgresql://{}:{}@{}:{}/{}?sslmode=prefer", f.user, f.password, f.host, f.port, f.db);
    let (settings, secrets) = settings_from_url(serde_json::json!({ "url": url }), &f.password);
    assert!(settings.read_only());
    assert_eq!(secrets.get("password"), Some(f.password.as_str()));
    let engine = connectors::connect(&settings, &secrets).await.unwrap();
    assert_eq!(body(&*engine, "SELECT current_database() AS db").await, format!(r#"[{{"db":"{}"}}]"#, f.db));
}

#[tokio::test]
async fn large_results_stream_complete_and_row_caps_stop_the_server() {
    let f = fixture!();
    let engine = f.engine(true).await;
    let sql = "SELECT n, 'row ' || n AS label, n * 0.5 AS half FROM generate_series(1, 100000) n";
    let rows = streamed_rows(&*engine, sql).await;
    assert_eq!(rows[0], serde_json::json!({"n": 1, "label": "row 1", "half": 0.5}));
    assert_eq!(rows[99_999], serde_json::json!({"n": 100_000, "label": "row 100000", "half": 50000.0}));

    let marker = unique("dc_capped");
    let capped = format!("SELECT n, '{marker}' AS m FROM generate_series(1, 10000000) n");
    let out = run_limited(&*engine, query(&capped), 10).await.unwrap();
    assert_eq!((out.rows, out.truncated), (10, true));
    assert!(
        eventually(Duration::from_secs(5), || async { !f.running(&marker).await }).await,
        "the capped query kept running"
    );
    assert_eq!(body(&*engine, "SELECT 3 AS x").await, r#"[{"x":3}]"#);

    let checked = statement::check(sql, true).unwrap();
    assert!(engine.exceeds(&checked, &query(sql), 99_999).await.unwrap());
    assert!(!engine.exceeds(&checked, &query(sql), 100_000).await.unwrap());
}
