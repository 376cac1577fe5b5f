//! A throwaway MySQL/MariaDB database and a user with a password who may do anything in it, on
//! the server `DC_TEST_MYSQL_URL` names (default: root without a password on 127.0.0.1:3306).
//! Both are dropped when the fixture is.

use crate::account::Account;
use crate::engine::connect_engine;
use crate::skip::{skipped, Need};
use crate::{block_on_fresh, unique};
use connectors::mysql::MysqlSettings;
use connectors::settings::TlsMode;
use connectors::{ConnectionSettings, Engine};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions as _, Connection as _, Executor as _};
use std::ops::Deref;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

const DEFAULT_URL: &str = "mysql://root@127.0.0.1:3306";
const HOW_TO_START: &str = "start it with `start-stop-daemon --start --oknodo --background --exec \
    /usr/sbin/mariadbd`, or point DC_TEST_MYSQL_URL at a server (mysql://root@127.0.0.1:3306); \
    DC_SKIP_MYSQL=1 skips these tests on a machine without MySQL/MariaDB";
/// The user may connect from anywhere; `localhost` and `127.0.0.1` are listed as well because an
/// anonymous or host-specific account on the server would otherwise win over `%`.
const USER_HOSTS: [&str; 3] = ["%", "localhost", "127.0.0.1"];

pub struct MysqlDb {
    account: Account,
    /// The account of `DC_TEST_MYSQL_URL`, which creates and drops the database and user.
    pub admin_user: String,
    pub admin_password: Option<String>,
    pub mariadb: bool,
    admin: MySqlPool,
    admin_options: MySqlConnectOptions,
}

impl MysqlDb {
    /// `None` only when the developer opted out with `DC_SKIP_MYSQL=1`; panics, saying how to
    /// fix it, when the server cannot be reached.
    pub async fn create() -> Option<Self> {
        if skipped(Need::Mysql) {
            return None;
        }
        let url = std::env::var("DC_TEST_MYSQL_URL").unwrap_or_else(|_| DEFAULT_URL.into());
        let options = MySqlConnectOptions::from_str(&url).expect("DC_TEST_MYSQL_URL is a mysql:// URL");
        // A direct connection first: the pool would retry a refused one and say only "timed out".
        let probe = options
            .connect()
            .await
            .unwrap_or_else(|e| panic!("MySQL/MariaDB is not reachable at {url}: {e}; {HOW_TO_START}"));
        let _ = probe.close().await;
        let admin = MySqlPoolOptions::new()
            .max_connections(3)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .unwrap_or_else(|e| panic!("MySQL/MariaDB is not reachable at {url}: {e}; {HOW_TO_START}"));
        let version: String = sqlx::query_scalar("SELECT VERSION()").fetch_one(&admin).await.unwrap();
        let fixture = Self {
            account: Account {
                host: options.get_host().to_string(),
                port: options.get_port(),
                db: unique("dc_t"),
                user: unique("dc_u"),
                password: unique("Pw-secret"),
            },
            admin_user: options.get_username().to_string(),
            admin_password: url_password(&url),
            mariadb: version.contains("MariaDB"),
            admin,
            admin_options: options,
        };
        let (db, user, pw) = (&fixture.db, &fixture.user, &fixture.password);
        fixture.exec(&format!("CREATE DATABASE `{db}` CHARACTER SET utf8mb4")).await;
        for host in USER_HOSTS {
            fixture.exec(&format!("CREATE USER '{user}'@'{host}' IDENTIFIED BY '{pw}'")).await;
            fixture.exec(&format!("GRANT ALL ON `{db}`.* TO '{user}'@'{host}'")).await;
        }
        Some(fixture)
    }

    /// Runs SQL (one statement or several) as the admin, outside the test database.
    pub async fn exec(&self, sql: &str) {
        self.admin
            .execute(sqlx::raw_sql(AssertSqlSafe(sql.to_string())))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Runs statements as the admin on one connection in the test database, so that session
    /// settings carry over from one to the next; names the statement that fails.
    pub async fn exec_all(&self, statements: &[&str]) {
        let mut conn = self.admin.acquire().await.unwrap();
        let mut run = vec![format!("USE `{}`", self.db)];
        run.extend(statements.iter().map(|s| s.to_string()));
        for sql in run {
            conn.execute(sqlx::raw_sql(AssertSqlSafe(sql.clone())))
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }

    /// The first value of a query that returns an integer, as the admin.
    pub async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar(AssertSqlSafe(sql.to_string())).fetch_one(&self.admin).await.unwrap()
    }

    /// Whether a statement containing `marker` is running on the server (not counting ours).
    pub async fn running(&self, marker: &str) -> bool {
        let sql = format!(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
             WHERE INFO LIKE '%{marker}%' AND ID <> CONNECTION_ID()"
        );
        self.scalar(&sql).await > 0
    }

    /// Settings of a connection to the test database as the test user.
    pub fn settings(&self, read_only: bool) -> MysqlSettings {
        MysqlSettings {
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
        connect_engine(ConnectionSettings::Mysql(self.settings(read_only)), &self.secrets()).await
    }

    /// An engine on the test database as the admin account (root by default: every privilege,
    /// FILE included), for tests of what the guard stops whatever the login may do.
    pub async fn admin_engine(&self, read_only: bool) -> Arc<dyn Engine> {
        let settings = MysqlSettings { user: self.admin_user.clone(), ..self.settings(read_only) };
        let secrets = self
            .admin_password
            .as_deref()
            .map_or_else(connectors::Secrets::new, crate::engine::password_secrets);
        connect_engine(ConnectionSettings::Mysql(settings), &secrets).await
    }
}

impl Deref for MysqlDb {
    type Target = Account;

    fn deref(&self) -> &Account {
        &self.account
    }
}

impl Drop for MysqlDb {
    fn drop(&mut self) {
        // The pool belongs to the test's runtime, which is blocked here: clean up over a new
        // connection on the helper thread's own runtime.
        let (options, db, user) = (self.admin_options.clone(), self.db.clone(), self.user.clone());
        block_on_fresh(async move {
            let Ok(mut admin) = options.connect().await else { return };
            let _ = admin.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{db}`"))).await;
            for host in USER_HOSTS {
                let _ = admin.execute(AssertSqlSafe(format!("DROP USER IF EXISTS '{user}'@'{host}'"))).await;
            }
            let _ = admin.close().await;
        });
    }
}

/// The password part of a URL (sqlx's options do not give it back), for tests that connect as
/// the admin.
pub(crate) fn url_password(url: &str) -> Option<String> {
    let authority = url.split_once("://")?.1.split('/').next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    Some(userinfo.split_once(':')?.1.to_string()).filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_come_out_of_urls() {
        assert_eq!(super::url_password("mysql://root:pw@h:3306/db").as_deref(), Some("pw"));
        assert_eq!(super::url_password("mysql://root@h:3306"), None);
        assert_eq!(super::url_password("mysql://root:@h"), None);
    }
}
