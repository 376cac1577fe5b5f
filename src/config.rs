//! Runtime configuration of one server: where it listens, what it lets through, and the limits
//! every request is held to. Built by the CLI (or the desktop app) and shared read-only.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Origins Workspace is served from; always allowed.
pub const DEFAULT_ORIGINS: &[&str] = &["https://pro.openbb.co", "https://excel.openbb.co"];

/// Where self-hosted Workspace Lite runs (`:8080`; `:3000` in development): allowed with
/// `--workspace-lite` (the desktop app's "Workspace Lite" toggle).
pub const WORKSPACE_LITE_ORIGINS: &[&str] = &["http://localhost:8080", "http://localhost:3000"];

#[derive(Debug, Clone)]
pub struct Config {
    pub host: IpAddr,
    /// 0 binds a port the OS picks (tests); the CLI resolves `auto` before this.
    pub port: u16,
    pub data_dir: PathBuf,
    /// Extra origins besides `DEFAULT_ORIGINS`, e.g. the desktop window's.
    pub allowed_origins: Vec<String>,
    pub api_key: Option<String>,
    /// OpenBB user ids whose native Data Connector calls (`Authorization: Bearer <user id>`) are
    /// let through without the API key; Workspace cannot send the key on that route.
    pub workspace_users: Vec<String>,
    /// Also allow Workspace Lite's origins (`WORKSPACE_LITE_ORIGINS`).
    pub workspace_lite: bool,
    pub ephemeral_secrets: bool,
    pub limits: Limits,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub max_sql_chars: usize,
    pub default_rows: u64,
    pub max_rows: u64,
    pub default_timeout: Duration,
    pub max_timeout: Duration,
    /// Queries running at once on the whole server.
    pub max_concurrent_queries: usize,
    /// The largest value a result may hold, and the largest row (bytes as the database sends
    /// them): past these a query fails naming the column, instead of taking the memory.
    pub max_value_bytes: usize,
    pub max_row_bytes: usize,
    /// Queries running at once on one connection: fewer than the server's, so one slow or
    /// hung database cannot take every slot.
    pub max_queries_per_connection: usize,
    /// How long a query waits in line for a free slot before it gets 429.
    pub queue_wait: Duration,
    /// After a connection fails to answer, its queries get 503 this long instead of queueing.
    pub failure_pause: Duration,
    /// Entries of the query log kept in the state database.
    pub log_entries: u64,
    /// A client must send a request's headers within this time (slowloris), and an idle
    /// keep-alive connection is closed after it.
    pub header_timeout: Duration,
    /// Open client connections at most; more wait in the OS's accept queue.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1 << 20,
            max_sql_chars: 100_000,
            default_rows: 100_000,
            max_rows: 10_000_000,
            default_timeout: Duration::from_secs(60),
            max_timeout: Duration::from_secs(3600),
            max_value_bytes: connectors::sink::DEFAULT_MAX_VALUE_BYTES,
            max_row_bytes: connectors::sink::DEFAULT_MAX_ROW_BYTES,
            max_concurrent_queries: 16,
            // SQLite keeps 4 idle connections and MySQL/PostgreSQL pools hold 5, one of which
            // stays free for the truncation probe of a streaming result.
            max_queries_per_connection: 4,
            queue_wait: Duration::from_secs(2),
            failure_pause: Duration::from_secs(5),
            log_entries: 10_000,
            header_timeout: Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

impl Config {
    /// Loopback, OS-picked port, in-memory secrets: what tests and embedders start from.
    pub fn local(data_dir: PathBuf) -> Self {
        Self {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            data_dir,
            allowed_origins: Vec::new(),
            api_key: None,
            workspace_users: Vec::new(),
            workspace_lite: false,
            ephemeral_secrets: true,
            limits: Limits::default(),
        }
    }

    pub fn origins(&self) -> Vec<String> {
        let mut all: Vec<String> = DEFAULT_ORIGINS.iter().map(|o| o.to_string()).collect();
        let lite = if self.workspace_lite { WORKSPACE_LITE_ORIGINS } else { &[] };
        for origin in lite.iter().map(|o| o.to_string()).chain(self.allowed_origins.iter().cloned()) {
            let origin = origin.trim_end_matches('/').to_string();
            if !all.contains(&origin) {
                all.push(origin);
            }
        }
        all
    }

    pub fn state_path(&self) -> PathBuf {
        self.data_dir.join("state.db")
    }
}

/// The OS data directory for this app (`~/.local/share/data-connector` on Linux).
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("co", "OpenBB", "data-connector").map(|d| d.data_dir().to_path_buf())
}
