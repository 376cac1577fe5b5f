//! Command line: `serve` runs the server, `query` runs one statement against a saved connection
//! and prints the result for scripts and pipes, `mcp` serves the MCP tools on stdio.

use crate::config::{default_data_dir, Config, Limits};
use crate::error::{Error, Result};
use crate::execution::{self, QueryInput, Truncation};
use crate::App;
use clap::{Args, Parser, Subcommand, ValueEnum};
use futures::StreamExt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

mod queries;
pub use queries::QueriesCommand;

#[derive(Debug, Parser)]
#[command(name = "data-connector", version, about = "Query your own databases from OpenBB Workspace")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server that Workspace connects to.
    Serve(ServeArgs),
    /// Run one SQL statement against a saved connection and print the rows.
    Query(QueryArgs),
    /// Serve the read-only MCP tools on standard input and output, for AI clients that start a
    /// local process (Claude Desktop and others; see docs/mcp.md).
    Mcp(McpArgs),
    /// Manage the local certificate authority behind `serve --tls`.
    #[command(subcommand)]
    Tls(TlsCommand),
    /// List, add, delete and run saved queries (each is a widget in Workspace).
    #[command(subcommand)]
    Queries(QueriesCommand),
}

#[derive(Debug, Subcommand)]
pub enum TlsCommand {
    /// Trust the local CA (created if missing) in this user's trust stores: Linux's NSS
    /// database (~/.pki/nssdb, Chromium), macOS's login keychain, Windows' user Root store.
    InstallCa(TrustArgs),
    /// Remove the local CA from the stores `install-ca` changed.
    UninstallCa(TrustArgs),
    /// Print where the local CA certificate is (created if missing), to trust it by hand.
    CaPath(TrustArgs),
}

#[derive(Debug, Args)]
pub struct TrustArgs {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// Linux: also the system store (/usr/local/share/ca-certificates); needs root.
    #[arg(long)]
    pub system: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DataDirArg {
    /// Where saved connections, queries, the query log and the demo database live.
    #[arg(long, env = "DATA_CONNECTOR_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Anything but loopback requires --api-key.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port number, or `auto` for a free one.
    #[arg(long, default_value = "6900", value_parser = parse_port)]
    pub port: PortChoice,
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// Create (once) and register the demo market-data database as connection `demo`.
    #[arg(long)]
    pub demo: bool,
    /// Also allow browser requests from this origin (repeatable); Workspace's origins are always allowed.
    #[arg(long = "allow-origin", value_name = "URL")]
    pub allow_origins: Vec<String>,
    /// Require this key in the X-API-KEY header of every request.
    #[arg(long, env = "DATA_CONNECTOR_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// With --api-key: let Workspace's Data Connectors page in for this OpenBB user id
    /// (repeatable). That page sends the user id, not the key (docs/workspace.md).
    #[arg(long = "workspace-user", value_name = "USER_ID")]
    pub workspace_users: Vec<String>,
    /// Also allow Workspace Lite's origins (http://localhost:8080 and http://localhost:3000).
    #[arg(long)]
    pub workspace_lite: bool,
    /// Keep secrets in memory only, for the life of this process, instead of the OS keyring.
    #[arg(long)]
    pub ephemeral_secrets: bool,
    /// Serve HTTPS with a certificate for localhost from the app's local CA (see `tls install-ca`).
    #[arg(long)]
    pub tls: bool,
    /// Serve HTTPS with your own PEM certificate chain instead (implies --tls; needs --tls-key).
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Rows a query returns unless it asks for another limit.
    #[arg(long, default_value_t = Limits::default().default_rows)]
    pub default_rows: u64,
    /// The most rows a query may ask for.
    #[arg(long, default_value_t = Limits::default().max_rows)]
    pub max_rows: u64,
    /// Query time limit unless a query asks for another (milliseconds).
    #[arg(long, default_value_t = Limits::default().default_timeout.as_millis() as u64)]
    pub timeout_ms: u64,
    /// Queries allowed to run at once on the whole server; more wait in line (--queue-wait-ms).
    #[arg(long, default_value_t = Limits::default().max_concurrent_queries)]
    pub max_concurrent_queries: usize,
    /// Queries allowed to run at once on one connection, so a hung database cannot take every slot.
    #[arg(long, default_value_t = Limits::default().max_queries_per_connection)]
    pub max_queries_per_connection: usize,
    /// How long a query waits for a free slot before it gets 429 (milliseconds).
    #[arg(long, default_value_t = Limits::default().queue_wait.as_millis() as u64)]
    pub queue_wait_ms: u64,
    /// After a connection fails to answer, its queries get 503 this long (milliseconds; 0: never).
    #[arg(long, default_value_t = Limits::default().failure_pause.as_millis() as u64)]
    pub failure_pause_ms: u64,
    /// A client must send a request's headers within this time, and idle connections close after
    /// it (milliseconds).
    #[arg(long, default_value_t = Limits::default().header_timeout.as_millis() as u64)]
    pub header_timeout_ms: u64,
    /// Open client connections at most; more wait until one closes.
    #[arg(long, default_value_t = Limits::default().max_connections)]
    pub max_connections: usize,
    /// Largest request body accepted (bytes).
    #[arg(long, default_value_t = Limits::default().max_body_bytes)]
    pub max_body_bytes: usize,
    /// Longest SQL accepted (characters).
    #[arg(long, default_value_t = Limits::default().max_sql_chars)]
    pub max_sql_chars: usize,
    /// Largest value a result may hold (bytes); a bigger one fails the query, naming its column.
    #[arg(long, default_value_t = Limits::default().max_value_bytes)]
    pub max_value_bytes: usize,
    /// Largest row a result may hold, all its values together (bytes).
    #[arg(long, default_value_t = Limits::default().max_row_bytes)]
    pub max_row_bytes: usize,
}

/// How a result is written: the same flags for an ad-hoc query and a saved one.
#[derive(Debug, Args)]
pub struct ResultArgs {
    #[arg(long, short, value_enum, default_value = "json")]
    pub format: OutputFormat,
    /// Row cap.
    #[arg(long)]
    pub limit: Option<u64>,
    /// Time limit in milliseconds.
    #[arg(long)]
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Name of a saved connection.
    #[arg(long, short)]
    pub connection: String,
    #[command(flatten)]
    pub result: ResultArgs,
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// Read secrets from memory only (useful only with a data dir whose connections have none).
    #[arg(long, hide = true)]
    pub ephemeral_secrets: bool,
    /// The SQL statement; `-` reads it from standard input.
    pub sql: String,
}

#[derive(Debug, Args)]
pub struct McpArgs {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// Read secrets from memory only (useful only with a data dir whose connections have none).
    #[arg(long, hide = true)]
    pub ephemeral_secrets: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    Json,
    Csv,
    Ndjson,
    /// Arrow IPC stream (binary; for pyarrow, polars and friends).
    Arrow,
}

impl From<OutputFormat> for connectors::Format {
    fn from(f: OutputFormat) -> Self {
        match f {
            OutputFormat::Json => Self::Json,
            OutputFormat::Csv => Self::Csv,
            OutputFormat::Ndjson => Self::Ndjson,
            OutputFormat::Arrow => Self::Arrow,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortChoice {
    Fixed(u16),
    Auto,
}

fn parse_port(text: &str) -> std::result::Result<PortChoice, String> {
    if text.eq_ignore_ascii_case("auto") {
        return Ok(PortChoice::Auto);
    }
    text.parse::<u16>()
        .map(PortChoice::Fixed)
        .map_err(|_| format!("{text:?} is not a port (1-65535) or `auto`"))
}

/// A free port: portpicker's choice, or 0 (the OS picks at bind) where it finds none.
pub fn resolve_port(choice: PortChoice) -> u16 {
    match choice {
        PortChoice::Fixed(port) => port,
        PortChoice::Auto => portpicker::pick_unused_port().unwrap_or(0),
    }
}

fn data_dir(arg: &DataDirArg) -> Result<PathBuf> {
    arg.data_dir
        .clone()
        .or_else(default_data_dir)
        .ok_or_else(|| Error::Startup("cannot find the OS data directory; pass --data-dir".into()))
}

pub async fn serve(args: ServeArgs) -> Result<()> {
    let limits = Limits {
        default_rows: args.limits.default_rows,
        max_rows: args.limits.max_rows,
        default_timeout: Duration::from_millis(args.limits.timeout_ms),
        max_concurrent_queries: args.limits.max_concurrent_queries,
        max_queries_per_connection: args.limits.max_queries_per_connection,
        queue_wait: Duration::from_millis(args.limits.queue_wait_ms),
        failure_pause: Duration::from_millis(args.limits.failure_pause_ms),
        header_timeout: Duration::from_millis(args.limits.header_timeout_ms),
        max_connections: args.limits.max_connections,
        max_body_bytes: args.limits.max_body_bytes,
        max_sql_chars: args.limits.max_sql_chars,
        max_value_bytes: args.limits.max_value_bytes,
        max_row_bytes: args.limits.max_row_bytes,
        ..Limits::default()
    };
    if limits.default_rows == 0 || limits.default_rows > limits.max_rows {
        return Err(Error::Startup("--default-rows must be between 1 and --max-rows".into()));
    }
    if limits.max_value_bytes == 0 || limits.max_row_bytes < limits.max_value_bytes {
        return Err(Error::Startup("--max-value-bytes must be above 0 and at most --max-row-bytes".into()));
    }
    if limits.header_timeout.is_zero() || limits.max_connections == 0 {
        return Err(Error::Startup("--header-timeout-ms and --max-connections must be above 0".into()));
    }
    let config = Config {
        host: args.host,
        port: resolve_port(args.port),
        data_dir: data_dir(&args.data_dir)?,
        allowed_origins: args.allow_origins,
        api_key: args.api_key.filter(|k| !k.is_empty()),
        workspace_users: args
            .workspace_users
            .into_iter()
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .collect(),
        workspace_lite: args.workspace_lite,
        ephemeral_secrets: args.ephemeral_secrets,
        limits,
    };
    let certificate = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(crate::tls::Certificate::Files { cert, key }),
        _ if args.tls => Some(crate::tls::Certificate::LocalCa),
        _ => None,
    };
    // Before opening anything else: a bad certificate is the user's first error to see.
    let tls = match &certificate {
        Some(certificate) => Some(crate::tls::server_config(certificate, &config.data_dir)?),
        None => None,
    };
    let app = App::open(config)?;
    if app.secrets.is_ephemeral() {
        tracing::warn!(
            "--ephemeral-secrets: secrets are kept in memory only and are lost when the server stops"
        );
    }
    if args.demo {
        crate::demo::ensure(&app).await?;
    }
    let mut server = crate::server::bind(app).await?;
    if let Some(tls) = tls {
        server = server.with_tls(tls);
    }
    announce(&format!("listening on {}", server.url()));
    let scheme = if certificate.is_some() { "https" } else { "http" };
    announce(&format!(
        "In OpenBB Workspace, connect to {scheme}://localhost:{} and click Allow when the browser asks \
         for local network access",
        server.local_addr().port()
    ));
    if matches!(certificate, Some(crate::tls::Certificate::LocalCa)) {
        announce(
            "If the browser does not trust the certificate yet, run `data-connector tls install-ca` once",
        );
    }
    server.serve(shutdown_signal()).await
}

/// Prints a start-up line. Whoever started us may have stopped reading stdout; that must not
/// take the server down (println! would panic on a closed pipe).
fn announce(line: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}

async fn shutdown_signal() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
    tracing::info!("shutting down");
}

pub async fn query(args: QueryArgs) -> Result<()> {
    let mut config = Config::local(data_dir(&args.data_dir)?);
    config.ephemeral_secrets = args.ephemeral_secrets;
    let app = App::open(config)?;
    let sql = if args.sql == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| Error::BadRequest(format!("cannot read SQL from standard input: {e}")))?;
        text
    } else {
        args.sql
    };
    let input = QueryInput {
        connection: args.connection,
        sql,
        params: Vec::new(),
        limit: args.result.limit,
        timeout_ms: args.result.timeout_ms,
        force_read_only: false,
    };
    let mut output = execution::run(&app, input, args.result.format.into(), "cli").await?;
    let mut stdout = tokio::io::stdout();
    while let Some(chunk) = output.body.next().await {
        let chunk = chunk.map_err(|e| Error::Internal(e.to_string()))?;
        if let Err(e) = stdout.write_all(&chunk).await {
            // A closed pipe (`| head`) is the reader's choice, not an error.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(Error::Internal(format!("cannot write the result: {e}")));
        }
    }
    if matches!(args.result.format, OutputFormat::Json) {
        let _ = stdout.write_all(b"\n").await;
    }
    let _ = stdout.flush().await;
    match output.truncated {
        Truncation::Yes => {
            eprintln!("note: the result was cut at {} rows; raise it with --limit", output.row_limit)
        }
        Truncation::Unknown => eprintln!("note: the result may have been cut at {} rows", output.row_limit),
        Truncation::No => {}
    }
    Ok(())
}

/// Serves MCP on stdio until the client closes it. Standard output carries only the protocol.
pub async fn mcp(args: McpArgs) -> Result<()> {
    let mut config = Config::local(data_dir(&args.data_dir)?);
    config.ephemeral_secrets = args.ephemeral_secrets;
    let app = App::open(config)?;
    crate::mcp::serve_stdio(app).await
}

/// `tls install-ca`, `uninstall-ca` and `ca-path`.
pub fn tls(command: TlsCommand) -> Result<()> {
    use crate::tls::trust::{self, Stores};
    let lines = match command {
        TlsCommand::InstallCa(args) => {
            let ca = crate::tls::ca::ensure(&data_dir(&args.data_dir)?)?;
            trust::install(&ca, &Stores { system: args.system })?
        }
        TlsCommand::UninstallCa(args) => {
            // Not `ensure`: removing trust must not create a CA.
            let ca = crate::tls::ca::dir(&data_dir(&args.data_dir)?).join(crate::tls::ca::CA_CERT_FILE);
            trust::uninstall(&ca, &Stores { system: args.system })?
        }
        TlsCommand::CaPath(args) => {
            vec![crate::tls::ca::ensure(&data_dir(&args.data_dir)?)?.display().to_string()]
        }
    };
    for line in lines {
        announce(&line);
    }
    Ok(())
}

/// `queries list|add|rm|run`.
pub async fn queries(command: QueriesCommand) -> Result<()> {
    queries::run(command).await
}

fn read_stdin() -> Result<String> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
        .map_err(|e| Error::BadRequest(format!("cannot read SQL from standard input: {e}")))?;
    Ok(text)
}

/// Writes to standard output; false when the reader has gone (`| head`), which is its choice,
/// not an error.
async fn write_chunk(bytes: &[u8]) -> Result<bool> {
    let mut stdout = tokio::io::stdout();
    match stdout.write_all(bytes).await.and(stdout.flush().await) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(Error::Internal(format!("cannot write the result: {e}"))),
    }
}

async fn write_stdout(bytes: &[u8]) -> Result<()> {
    write_chunk(bytes).await.map(|_| ())
}
