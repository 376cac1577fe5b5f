//! A throwaway PostgreSQL database owned by a role with a password, on the server
//! `DC_TEST_POSTGRES_URL` names (default: `postgres` with trust authentication on
//! 127.0.0.1:5432). Both are dropped when the fixture is.

use crate::account::Account;
use crate::engine::connect_engine;
use crate::skip::{skipped, Need};
use crate::{block_on_fresh, unique};
use connectors::postgres::PostgresSettings;
use connectors::settings::TlsMode;
use connectors::{ConnectionSettings, Engine};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions as _, Connection as _, Executor as _};
use std::ops::Deref;
use std::str::FromStr;
use std::sync::Arc;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const HOW_TO_START: &str =
    "start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main \
    start`, or point DC_TEST_POSTGRES_URL at a server (postgres://postgres@127.0.0.1:5432/postgres); \
    DC_SKIP_POSTGRES=1 skips these tests on a machine without PostgreSQL";

pub struct PostgresDb {
    account: Account,
    /// Connected to the test database as the test role. Fixtures are made by the role itself,
    /// which owns the database, so an engine connected as that role reads them without grants.
    owner: PgPool,
    /// The server's admin account, which creates and drops the role and database.
    admin_options: PgConnectOptions,
    admin_password: Option<String>,
}

impl PostgresDb {
    /// `None` only when the developer opted out with `DC_SKIP_POSTGRES=1`; panics, saying how
    /// to fix it, when the server cannot be reached.
    pub async fn create() -> Option<Self> {
        if skipped(Need::Postgres) {
            return None;
        }
        let url = std::env::var("DC_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.into());
        let options = PgConnectOptions::from_str(&url).expect("DC_TEST_POSTGRES_URL is a postgres:// URL");
        let mut server = options
            .connect()
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL is not reachable at {url}: {e}; {HOW_TO_START}"));
        let (db, user, password) = (unique("dc_t"), unique("dc_u"), unique("Pw-secret"));
        for sql in [
            format!("CREATE ROLE {user} LOGIN PASSWORD '{password}'"),
            format!("CREATE DATABASE {db} OWNER {user} ENCODING 'UTF8' TEMPLATE template0"),
        ] {
            server.execute(AssertSqlSafe(sql.clone())).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        let _ = server.close().await;
        let owner_options = options.clone().database(&db).username(&user).password(&password);
        let owner = PgPoolOptions::new().max_connections(3).connect_with(owner_options).await.unwrap();
        Some(Self {
            owner,
            account: Account {
                host: options.get_host().to_string(),
                port: options.get_port(),
                db,
                user,
                password,
            },
            admin_options: options,
            admin_password: crate::mysql::url_password(&url),
        })
    }

    /// Runs SQL (one statement or several) as the owner, in the test database.
    pub async fn exec(&self, sql: &str) {
        self.owner
            .execute(sqlx::raw_sql(AssertSqlSafe(sql.to_string())))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Runs statements as the owner on one connection, naming the one that fails.
    pub async fn exec_all(&self, statements: &[&str]) {
        let mut conn = self.owner.acquire().await.unwrap();
        for sql in statements {
            conn.execute(sqlx::raw_sql(AssertSqlSafe(sql.to_string())))
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }

    /// The first value of a query that returns an integer, as the owner.
    pub async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar(AssertSqlSafe(sql.to_string())).fetch_one(&self.owner).await.unwrap()
    }

    /// Whether a statement containing `marker` is running on the server (not counting ours).
    pub async fn running(&self, marker: &str) -> bool {
        let sql = format!(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE query LIKE '%{marker}%' AND state = 'active' AND pid <> pg_backend_pid()"
        );
        self.scalar(&sql).await > 0
    }

    /// Settings of a connection to the test database as the test role.
    pub fn settings(&self, read_only: bool) -> PostgresSettings {
        PostgresSettings {
            host: self.host.clone(),
            port: self.port,
            database: Some(self.db.clone()),
            user: self.user.clone(),
            tls: TlsMode::Prefer,
            ca_file: None,
            read_only,
            ssh: None,
        }
    }

    pub async fn engine(&self, read_only: bool) -> Arc<dyn Engine> {
        connect_engine(ConnectionSettings::Postgres(self.settings(read_only)), &self.secrets()).await
    }

    /// An engine on the test database as the server's admin account (a superuser by default),
    /// for tests of what the guard stops whatever the login may do.
    pub async fn admin_engine(&self, read_only: bool) -> Arc<dyn Engine> {
        let settings = PostgresSettings {
            user: self.admin_options.get_username().to_string(),
            ..self.settings(read_only)
        };
        let secrets = self
            .admin_password
            .as_deref()
            .map_or_else(connectors::Secrets::new, crate::engine::password_secrets);
        connect_engine(ConnectionSettings::Postgres(settings), &secrets).await
    }

    /// Runs SQL (one statement or several) as the admin, in the test database.
    pub async fn admin_exec(&self, sql: &str) {
        let mut conn = self.admin_options.clone().database(&self.db).connect().await.unwrap();
        conn.execute(sqlx::raw_sql(AssertSqlSafe(sql.to_string())))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let _ = conn.close().await;
    }

    /// The first value of a query that returns an integer, as the admin in the test database.
    pub async fn admin_scalar(&self, sql: &str) -> i64 {
        let mut conn = self.admin_options.clone().database(&self.db).connect().await.unwrap();
        let value = sqlx::query_scalar(AssertSqlSafe(sql.to_string())).fetch_one(&mut conn).await.unwrap();
        let _ = conn.close().await;
        value
    }
}

impl Deref for PostgresDb {
    type Target = Account;

    fn deref(&self) -> &Account {
        &self.account
    }
}

impl Drop for PostgresDb {
    fn drop(&mut self) {
        // The pool belongs to the test's runtime, which is blocked here: clean up over a new
        // connection on the helper thread's own runtime.
        let (options, db, user) = (self.admin_options.clone(), self.db.clone(), self.user.clone());
        block_on_fresh(async move {
            let Ok(mut admin) = options.connect().await else { return };
            let _ = admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))).await;
            let _ = admin.execute(AssertSqlSafe(format!("DROP ROLE IF EXISTS {user}"))).await;
            let _ = admin.close().await;
        });
    }
}
