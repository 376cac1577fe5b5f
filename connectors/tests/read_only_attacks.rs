//! The read-only attack suite (issue 12): every spelling of a write, a file write or an
//! out-of-transaction side effect that was tried against read-only connections, and variants,
//! against the real engines with a login that could do all of it (MariaDB root, the PostgreSQL
//! superuser). Each must be refused by the statement guard (`ReadOnly`, our wording) before the
//! database sees it, and where the database runs on this machine the files it would have
//! written are checked on disk. Pooled sessions must not keep locks or variables either.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use connectors::sqlite::SqliteSettings;
use connectors::{ConnectionSettings, ConnectorError, Engine, ErrorKind, Secrets};
use dc_test_support::engine::*;
use dc_test_support::mysql::MysqlDb;
use dc_test_support::postgres::PostgresDb;
use dc_test_support::{fakesnow, unique};
use serde_json::json;
use sqlx::{AssertSqlSafe, ConnectOptions as _, Connection as _, Executor as _};
use std::path::PathBuf;
use std::str::FromStr;

/// A file the database server could write: in /tmp, which the local servers share with us.
fn target_file(tag: &str) -> PathBuf {
    PathBuf::from(format!("/tmp/{}_{tag}", unique("dc_attack")))
}

/// Runs every statement (with `{file}` replaced by a fresh path) and checks that each is refused
/// as a read-only violation by our guard, and that no file appeared. Returns the count.
async fn assert_all_refused(engine: &dyn Engine, label: &str, attacks: &[String]) -> usize {
    for (i, attack) in attacks.iter().enumerate() {
        let file = target_file(&format!("{label}_{i}"));
        let sql = attack.replace("{file}", &file.to_string_lossy());
        let e = match run(engine, query(&sql)).await {
            Ok(out) => panic!("{label}: {sql:?} ran and returned {}", out.body),
            Err(e) => e,
        };
        assert_refused_by_guard(&e, &sql);
        assert!(!file.exists(), "{label}: {sql:?} wrote {}", file.display());
    }
    eprintln!("{label}: {} attack spellings refused", attacks.len());
    attacks.len()
}

/// The refusal is ours: the guard's wording, not a database error passed on.
fn assert_refused_by_guard(e: &ConnectorError, sql: &str) {
    assert_eq!(e.kind(), ErrorKind::ReadOnly, "{sql:?}: {} ({:?})", e.message(), e.kind());
    let ours = ["is read-only and", "is not allowed", "only one SQL statement", "acts outside"];
    assert!(
        ours.iter().any(|w| e.message().contains(w)),
        "{sql:?} was refused by the database, not the guard: {e}"
    );
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The MySQL/MariaDB spellings: `--` before every control character, `#`, executable and
/// versioned comments, backslash escapes, and OUTFILE/DUMPFILE/LOAD_FILE in their places.
fn mysql_attacks() -> Vec<String> {
    let mut attacks = Vec::new();
    // The reported bypass, and `--` before every other whitespace or control character.
    for c in (0x01u8..=0x20).chain([0x7f]) {
        attacks.push(format!("select * from t into --{}\nOUTFILE '{{file}}'", c as char));
    }
    attacks.extend(strings(&[
        "select * from t into # c\nOUTFILE '{file}'",
        "select * from t into /* c */ OUTFILE '{file}'",
        "select * from t into/**/outfile '{file}'",
        "SELECT * FROM t INTO OUTFILE '{file}'",
        "select * from t into\noutfile '{file}'",
        "select * from t into\toutfile '{file}' fields terminated by ','",
        "select * from t into dumpfile '{file}'",
        "select v from t limit 1 into DumpFile '{file}'",
        "(select * from t) into outfile '{file}'",
        "select 1 union select 2 into outfile '{file}'",
        "select * from t /*! into outfile '{file}' */",
        "select * from t /*!50000 into outfile '{file}' */",
        "select * from t /*!50000into outfile '{file}'*/",
        "select * from t /*M!100000 into outfile '{file}' */",
        "select * from t /*!99999 ' */ into outfile '{file}' -- '",
        "select 'a\\' into outfile '{file}' -- '",
        "select \"a\\\" into outfile '{file}' -- \"",
        "select 1 --\x01'\ninto outfile '{file}' -- '",
        "with x as (select 1) select * from x into outfile '{file}'",
        "select load_file('/etc/hostname')",
        "select LOAD_FILE /* c */ ('/etc/hostname')",
        "select `load_file`('/etc/hostname')",
        "delete from t",
        "/*!delete from t*/",
        "/*! delete */ from t",
        "select 1; delete from t",
        "select 1;--\x01\ndelete from t",
        "select 1 /*!; delete from t */",
        "select 1 # \n; delete from t",
        "insert into t values (9, 'x')",
        "update t set v = 'x'",
        "set @a = 1",
        "do sleep(0)",
        "load data infile '/etc/hostname' into table t",
        "create table u (a int)",
        "handler t open",
        "call p()",
        "lock tables t write",
    ]));
    attacks
}

#[tokio::test]
async fn mariadb_refuses_every_spelling_with_a_root_login() {
    let Some(f) = MysqlDb::create().await else { return };
    f.exec_all(&[
        "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))",
        "INSERT INTO t VALUES (1, 'one'), (2, 'two')",
    ])
    .await;
    // Without the guard this login writes files here (secure_file_priv permitting): proves the
    // on-disk checks can fail. When the server forbids it, the guard is still checked by wording.
    let canary = target_file("canary");
    let url = std::env::var("DC_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
    let mut admin = sqlx::mysql::MySqlConnectOptions::from_str(&url).unwrap().connect().await.unwrap();
    let wrote = admin.execute(AssertSqlSafe(format!("SELECT 1 INTO OUTFILE '{}'", canary.display()))).await;
    let _ = admin.close().await;
    eprintln!(
        "without the guard, this login writes {}: {}",
        canary.display(),
        wrote.is_ok() && canary.exists()
    );
    let _ = std::fs::remove_file(&canary);

    let engine = f.admin_engine(true).await;
    let attacks = mysql_attacks();
    let count = assert_all_refused(&*engine, "mariadb read-only", &attacks).await;
    assert!(count >= 60, "{count}");
    // Nothing changed.
    assert_eq!(f.scalar(&format!("SELECT COUNT(*) FROM `{}`.t", f.db)).await, 2);

    // File writes are refused on writable connections too, as LOAD DATA is.
    let writable = f.admin_engine(false).await;
    let file_attacks: Vec<String> = attacks.iter().filter(|a| a.contains("{file}")).cloned().collect();
    assert_all_refused(&*writable, "mariadb writable (file writes)", &file_attacks).await;
    // The same words inside strings, quoted names and comments are not attacks.
    for sql in [
        "select 'into outfile' as a",
        "select `v` as `outfile` from t",
        "select 1 -- into outfile '/tmp/x'",
        "select 1 --1 as two",
        "select 1 # into outfile",
        "select v from t where v = 'a -- b'",
    ] {
        run(&*engine, query(sql)).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

#[tokio::test]
async fn mariadb_pooled_sessions_keep_no_locks_or_variables() {
    let Some(f) = MysqlDb::create().await else { return };
    let lock = unique("dc_lock");
    for read_only in [true, false] {
        let engine = f.engine(read_only).await;
        assert_eq!(body(&*engine, &format!("SELECT GET_LOCK('{lock}', 0) AS got")).await, r#"[{"got":1}]"#);
        // Free again as soon as the query is over, seen from another session.
        assert_eq!(f.scalar(&format!("SELECT IS_FREE_LOCK('{lock}')")).await, 1, "read_only={read_only}");
        body(&*engine, "SELECT @dc_leak := 42 AS v").await;
        for _ in 0..8 {
            assert_eq!(
                body(&*engine, "SELECT @dc_leak AS v").await,
                r#"[{"v":null}]"#,
                "read_only={read_only}"
            );
        }
    }
    // A writable connection's SET does not outlive its statement either.
    let engine = f.engine(false).await;
    run(&*engine, query("SET @dc_set = 7")).await.unwrap();
    run(&*engine, query("SET SESSION sql_mode = 'ANSI_QUOTES'")).await.unwrap();
    for _ in 0..8 {
        assert_eq!(body(&*engine, "SELECT @dc_set AS v").await, r#"[{"v":null}]"#);
        assert_eq!(body(&*engine, "SELECT \"x\" AS v").await, r#"[{"v":"x"}]"#);
    }
}

/// The PostgreSQL spellings: the functions that act outside the transaction, in every way of
/// naming and calling them, and the lexing differences (standard strings, `#`, nested comments).
fn postgres_attacks(db: &str) -> Vec<String> {
    let conn = format!("dbname={db} host=127.0.0.1 user=postgres");
    let mut attacks: Vec<String> = [
        format!("select dblink_exec('{conn}', 'delete from t')"),
        format!("SELECT DBLINK_EXEC('{conn}', 'delete from t')"),
        format!("select public.dblink_exec('{conn}', 'delete from t')"),
        format!("select \"dblink_exec\"('{conn}', 'delete from t')"),
        format!("select dblink_exec /* c */ ('{conn}', 'delete from t')"),
        format!("select dblink_exec\n('{conn}', 'delete from t')"),
        format!("select * from dblink('{conn}', 'delete from t returning 1') as x(a int)"),
        format!("select dblink_connect('c', '{conn}')"),
        format!("with x as (select dblink_exec('{conn}', 'delete from t')) select * from x"),
        format!("select (select dblink_exec('{conn}', 'delete from t'))"),
    ]
    .into();
    attacks.extend(strings(&[
        "select lo_export(lo_from_bytea(0, 'x'), '{file}')",
        "select pg_catalog.lo_export(lo_from_bytea(0, 'x'), '{file}')",
        "select lo_import('/etc/hostname')",
        "select lo_from_bytea(0, 'x')",
        "select lo_unlink(1)",
        "select pg_read_file('/etc/hostname')",
        "select pg_read_file('PG_VERSION')",
        "select PG_READ_FILE /* c */ ('/etc/hostname')",
        "select pg_read_binary_file('/etc/hostname')",
        "select * from pg_ls_dir('.')",
        "select pg_ls_waldir()",
        "select pg_ls_logdir()",
        "select pg_ls_tmpdir()",
        "select pg_stat_file('PG_VERSION')",
        "select pg_reload_conf()",
        "select pg_rotate_logfile()",
        "select pg_terminate_backend(pg_backend_pid())",
        "select pg_cancel_backend(pg_backend_pid())",
        "select pg_file_write('{file}', 'x', false)",
        "select pg_catalog.set_config('search_path', 'evil', false)",
        "select query_to_xml('select pg_read_file(''/etc/hostname'')', true, true, '')",
        "select ts_stat('select pg_read_file(''/etc/hostname'')::tsvector')",
        "select pg_logical_emit_message(false, 'p', 'm')",
        "select pg_switch_wal()",
        "select pg_create_restore_point('x')",
        "select pg_stat_reset()",
        "select U&\"pg\\005fread_file\"('/etc/hostname')",
        "select 1 /* a /* b */ */, pg_read_file('/etc/hostname')",
        "select $q$ ' $q$, pg_read_file('/etc/hostname')",
        "select E'\\'', pg_read_file('/etc/hostname')",
        "select 'a\\', pg_read_file('/etc/hostname') --'",
        "select 1; delete from t",
        "select 'a\\'; delete from t; --'",
        "select 5 # 3; delete from t",
        "select 1 --\r; delete from t",
        "delete from t",
        "copy t to '{file}'",
        "copy (select 1) to program 'touch {file}'",
        "do $$ begin perform pg_read_file('/etc/hostname'); end $$",
        "set default_transaction_read_only = off",
        "listen x",
        "prepare p as select 1",
        "declare c cursor with hold for select 1",
        "create temp table x (a int)",
        "notify x",
        "vacuum t",
    ]));
    attacks
}

#[tokio::test]
async fn postgres_refuses_every_spelling_with_a_superuser_login() {
    let Some(f) = PostgresDb::create().await else { return };
    // adminpack (pg_file_write) is gone from PostgreSQL 17; the guard refuses the name anyway.
    f.admin_exec(
        "CREATE EXTENSION IF NOT EXISTS dblink; \
         DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS adminpack; EXCEPTION WHEN OTHERS THEN NULL; END $$; \
         CREATE TABLE t (id int primary key, v text); INSERT INTO t VALUES (1, 'one'), (2, 'two')",
    )
    .await;
    // Without the guard this login writes server files: proves the on-disk checks can fail.
    let canary = target_file("canary");
    f.admin_exec(&format!("COPY (SELECT 1) TO '{}'", canary.display())).await;
    assert!(canary.exists(), "the superuser could not write {}", canary.display());
    let _ = std::fs::remove_file(&canary);

    let engine = f.admin_engine(true).await;
    let attacks = postgres_attacks(&f.db);
    let count = assert_all_refused(&*engine, "postgres read-only", &attacks).await;
    assert!(count >= 50, "{count}");
    assert_eq!(f.admin_scalar("SELECT count(*) FROM t").await, 2);
    assert_eq!(f.admin_scalar("SELECT count(*) FROM pg_largeobject_metadata").await, 0);

    // Ordinary reads of the same names are fine.
    for sql in [
        "select 'pg_read_file(1)' as a -- pg_read_file(1)\n",
        "select * from pg_file_settings limit 1",
        "select count(*) from pg_stat_activity",
        "select pg_sleep(0), now()",
        "select E'a\\'b' as a, $x$;$x$ as b",
    ] {
        run(&*engine, query(sql)).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    // A writable connection may call them: the list is for read-only runs.
    let writable = f.admin_engine(false).await;
    run(&*writable, query("select pg_read_file('PG_VERSION') as v")).await.unwrap();
}

#[tokio::test]
async fn postgres_nul_in_sql_is_a_bad_request() {
    let Some(f) = PostgresDb::create().await else { return };
    let engine = f.engine(true).await;
    let e = error(&*engine, query("select 'a\0b'")).await;
    assert_kind(&e, ErrorKind::InvalidInput);
    assert!(e.message().contains("NUL"), "{e}");
    // The engine is fine afterwards.
    assert_eq!(body(&*engine, "select 1 as one").await, r#"[{"one":1}]"#);
}

#[tokio::test]
async fn postgres_pooled_sessions_keep_no_advisory_locks_or_settings() {
    let Some(f) = PostgresDb::create().await else { return };
    let key = 4_200_000 + i64::from(std::process::id() % 100_000);
    let held = format!("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = {key}");
    for read_only in [true, false] {
        let engine = f.engine(read_only).await;
        body(&*engine, &format!("SELECT pg_advisory_lock({key})::text AS got")).await;
        assert_eq!(f.admin_scalar(&held).await, 0, "read_only={read_only}");
        body(&*engine, &format!("SELECT pg_try_advisory_lock({key}) AS got")).await;
        assert_eq!(f.admin_scalar(&held).await, 0, "read_only={read_only}");
    }
    // A writable connection's session settings do not reach the next query.
    let engine = f.engine(false).await;
    run(&*engine, query("SELECT set_config('application_name', 'dc_leak', false) AS s")).await.unwrap();
    run(&*engine, query("SET search_path = dc_nowhere")).await.unwrap();
    for _ in 0..6 {
        assert_eq!(
            body(&*engine, "SELECT current_setting('application_name') AS a").await,
            r#"[{"a":"data-connector"}]"#
        );
        assert_eq!(body(&*engine, "SELECT current_schemas(false)::text AS s").await, r#"[{"s":"{public}"}]"#);
    }
}

#[tokio::test]
async fn sqlite_refuses_every_spelling_on_a_read_only_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("attack.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one'), (2, 'two');",
        )
        .unwrap();
    let settings = ConnectionSettings::Sqlite(SqliteSettings { path: path.clone(), read_only: true });
    let engine = connect_engine(settings, &Secrets::new()).await;
    let attacks = strings(&[
        "delete from t",
        "select 1; delete from t",
        "select 1 # x\n; delete from t",
        "select $a$, 1; delete from t; select $a$",
        "select 1 /* a /* b */ ; delete from t",
        "select 'a\\'; delete from t; --'",
        "select 1 --\x01\n; delete from t",
        "attach database '{file}' as x",
        "ATTACH '{file}' AS x",
        "/* c */ attach '{file}' as x",
        "detach x",
        "vacuum into '{file}'",
        "vacuum",
        "pragma journal_mode = wal",
        "pragma writable_schema = 1",
        "insert into t values (3, 'x') returning *",
        "replace into t values (1, 'x')",
        "update t set v = 'x'",
        "create table u (a)",
        "create temp table u (a)",
        "drop table t",
        "reindex",
        "analyze",
        "begin immediate",
    ]);
    let count = assert_all_refused(&*engine, "sqlite read-only", &attacks).await;
    assert!(count >= 20);
    // The engine's own check (stmt_readonly) stands behind the guard for what reads like a read.
    let e = error(&*engine, query("with x as (select 1) insert into t select 3, 'x' from x")).await;
    assert_kind(&e, ErrorKind::ReadOnly);
    let check = rusqlite::Connection::open(&path).unwrap();
    let rows: i64 = check.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 2);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no other file appeared next to the database"
    );
}

#[tokio::test]
async fn snowflake_read_only_refuses_every_spelling() {
    let Some(sf) = fakesnow::adapter() else { return };
    sf.setup(json!({"users": [{"account": "fake", "user": "ATTACK", "password": "pw-ATTACK"}]})).await;
    let engine = sf
        .engine(
            json!({"user": "ATTACK", "password": "pw-ATTACK", "database": "DB_ATTACK", "read_only": true}),
        )
        .await;
    let attacks = strings(&[
        "delete from t",
        "select 1; delete from t",
        "select 1 --\r; delete from t",
        "select 1 /* a */; drop table t",
        "select 1 // x\n; delete from t",
        "insert into t values (1)",
        "copy into @stage from t",
        "put file:///etc/hostname @stage",
        "create table u (a int)",
        "call p()",
        "execute immediate 'delete from t'",
        "merge into t using u on t.a = u.a when matched then delete",
        "grant select on t to role public",
        "use role accountadmin",
        "alter session set query_tag = 'x'",
    ]);
    let count = assert_all_refused(&*engine, "snowflake read-only", &attacks).await;
    assert!(count >= 15);
}
