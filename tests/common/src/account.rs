//! Where a throwaway database is and who may use it: what a connection form asks for. The
//! database fixtures deref to it, so a test reads `db.user` or `db.address()` whatever the engine.

use crate::engine::password_secrets;
use connectors::Secrets;

pub struct Account {
    pub host: String,
    pub port: u16,
    /// The database the fixture made.
    pub db: String,
    pub user: String,
    pub password: String,
}

impl Account {
    /// The user's password as the secrets a connection keeps.
    pub fn secrets(&self) -> Secrets {
        password_secrets(&self.password)
    }

    /// `host:port`, as Workspace's connection dialogs send it.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}
