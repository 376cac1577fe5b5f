//! Snowflake through `snowflake-connector-rs` (Snowflake's driver REST API, JSON rowsets).
//!
//! One engine keeps one Snowflake session and logs in again when Snowflake expires it (the crate
//! does not renew tokens). Results stream partition by partition: the first part comes inline
//! with the query response, the rest are chunk downloads fetched one ahead by a task while the
//! previous one is written, so memory holds at most two partitions whatever the row count.
//!
//! Snowflake has no read-only session switch. A read-only connection refuses anything but
//! single reading statements (`statement::check`, repeated here so the engine holds the line on
//! its own), and Snowflake itself rejects multi-statement requests by default; what the
//! connection can actually change is decided by its role, which is the real guard.

mod account;
pub mod value;

use crate::cell::Column;
use crate::error::{scrub, ConnectorError, ErrorKind, Result};
use crate::settings::{default_true, Secrets};
use crate::sink::{CancelSignal, ResultSink};
use crate::{statement, ColumnInfo, Engine, Listing, Param, Query, TableInfo};
use serde::{Deserialize, Serialize};
use snowflake_connector_rs as sf;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex};
use tokio::time::Instant;
use value::SnowflakeType;

pub use account::Target;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnowflakeSettings {
    /// `xy12345.eu-central-1`, `orgname-account`, or a pasted `https://….snowflakecomputing.com`.
    #[serde(alias = "account_identifier")]
    pub account: String,
    #[serde(alias = "username")]
    pub user: String,
    /// How to log in; inferred from the secrets given when absent (key pair, then OAuth, then
    /// password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticator: Option<Authenticator>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Overrides the host the account implies: private-link hosts, proxies, tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default = "default_true")]
    pub read_only: bool,
}

/// Snowflake's names for the login methods (the `authenticator` of its own connectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Authenticator {
    /// User and password, plus `passcode` when MFA asks for one.
    Snowflake,
    /// Key pair: a JWT signed with `private_key`.
    SnowflakeJwt,
    /// An OAuth access token obtained elsewhere.
    Oauth,
}

/// What identifies the session in Snowflake's query history.
const QUERY_TAG: &str = "OpenBB Data Connector";
/// Bounds a login that gets no answer (a black-holed host); the crate's own limit is 120 s.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(90);
/// Listings and other metadata statements the dialogs run.
const METADATA_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an abort request may take before we give up on it and report anyway.
const ABORT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a running statement checks whether the client is still there.
const CLIENT_POLL: Duration = Duration::from_millis(100);

pub struct SnowflakeEngine {
    settings: SnowflakeSettings,
    target: Target,
    client: sf::Client,
    /// Every secret value, to scrub from messages.
    secrets: Vec<String>,
    session: Mutex<Option<Arc<sf::Session>>>,
}

impl SnowflakeEngine {
    /// Builds the client and logs in once, so bad credentials fail here with a clear error.
    pub async fn connect(settings: SnowflakeSettings, secrets: &Secrets) -> Result<Self> {
        let scrub_list: Vec<String> = secrets.values().map(str::to_string).collect();
        let engine =
            Self::build(settings, secrets).map_err(|e| e.scrubbed(scrub_list.iter().map(String::as_str)))?;
        engine.session().await?;
        Ok(engine)
    }

    fn build(settings: SnowflakeSettings, secrets: &Secrets) -> Result<Self> {
        let user = settings.user.trim();
        if user.is_empty() {
            return Err(ConnectorError::invalid("\"user\" is required for Snowflake"));
        }
        let target = account::resolve(&settings.account, settings.base_url.as_deref())?;
        let auth = auth_config(settings.authenticator, secrets)?;
        let non_empty =
            |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let mut session =
            sf::SessionConfig::new().with_session_parameter("QUERY_TAG", serde_json::json!(QUERY_TAG));
        if let Some(role) = non_empty(&settings.role) {
            session = session.with_role(role);
        }
        if let Some(warehouse) = non_empty(&settings.warehouse) {
            session = session.with_warehouse(warehouse);
        }
        if let Some(database) = non_empty(&settings.database) {
            session = session.with_database(database);
        }
        if let Some(schema) = non_empty(&settings.schema) {
            session = session.with_schema(schema);
        }
        let mut config = sf::ClientConfig::new(user, target.account.clone(), auth)
            .with_session(session)
            .with_query(sf::QueryConfig::new().with_query_cancel_request_timeout(ABORT_TIMEOUT));
        if let Some(url) = &target.base_url {
            config = config.with_endpoint(sf::EndpointConfig::custom_base_url(url.clone()));
        }
        let client = sf::Client::new(config)
            .map_err(|e| ConnectorError::invalid(format!("invalid Snowflake connection settings: {e}")))?;
        Ok(Self {
            settings,
            target,
            client,
            secrets: secrets.values().map(str::to_string).collect(),
            session: Mutex::new(None),
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    fn scrubbed(&self, error: ConnectorError) -> ConnectorError {
        error.scrubbed(self.secrets.iter().map(String::as_str))
    }

    async fn session(&self) -> Result<Arc<sf::Session>> {
        let mut current = self.session.lock().await;
        if let Some(session) = current.as_ref() {
            return Ok(Arc::clone(session));
        }
        let session = Arc::new(self.login().await?);
        *current = Some(Arc::clone(&session));
        Ok(session)
    }

    /// A new session after `stale` expired; concurrent callers share one new login.
    async fn renew(&self, stale: &Arc<sf::Session>) -> Result<Arc<sf::Session>> {
        let mut current = self.session.lock().await;
        if let Some(session) = current.as_ref().filter(|s| !Arc::ptr_eq(s, stale)) {
            return Ok(Arc::clone(session));
        }
        let session = Arc::new(self.login().await?);
        *current = Some(Arc::clone(&session));
        Ok(session)
    }

    async fn login(&self) -> Result<sf::Session> {
        match tokio::time::timeout(LOGIN_TIMEOUT, self.client.create_session()).await {
            Ok(Ok(session)) => Ok(session),
            Ok(Err(e)) => Err(self.scrubbed(self.login_error(&e))),
            Err(_) => Err(self.scrubbed(ConnectorError::new(
                ErrorKind::Unreachable,
                format!(
                    "no answer from Snowflake at {} within {} s; check the account identifier and your network",
                    self.target.host(),
                    LOGIN_TIMEOUT.as_secs()
                ),
            ))),
        }
    }

    /// Submits one statement and waits until Snowflake has its result, sending Snowflake's abort
    /// request if the deadline passes or the client goes away first. A session that expired is
    /// renewed once; nothing has been streamed yet at that point, so the retry is invisible.
    async fn execute(
        &self,
        sql: &str,
        params: &[Param],
        timeout: Duration,
        deadline: Instant,
        client: Option<&CancelSignal>,
    ) -> Result<sf::ResultCursor> {
        let mut session = self.session().await?;
        let mut renewed = false;
        loop {
            // Our deadline should fire first so that the abort below goes out; the crate's own
            // limit only backs it up.
            let options =
                sf::QueryOptions::new().with_query_response_timeout(timeout.saturating_add(ABORT_TIMEOUT));
            let handle = session
                .query_handle_with_options(statement_with(sql, params), options)
                .map_err(|e| self.scrubbed(self.query_error(&e, timeout)))?;
            let mut abort = AbortOnDrop(Some(handle.canceller()));
            let outcome = tokio::select! {
                result = handle.execute() => result,
                () = client_gone(client) => {
                    abort.abort_now().await;
                    return Err(ConnectorError::cancelled());
                }
                () = tokio::time::sleep_until(deadline) => {
                    abort.abort_now().await;
                    return Err(ConnectorError::timeout(timeout));
                }
            };
            match outcome {
                Ok(cursor) => {
                    abort.disarm();
                    return Ok(cursor);
                }
                Err(e) if e.is_session_expired() && !renewed => {
                    abort.disarm();
                    renewed = true;
                    session = self.renew(&session).await?;
                }
                Err(e) => {
                    // A lost connection or a timeout in the crate leaves the statement running on
                    // Snowflake. After an answer from Snowflake the crate sends nothing.
                    abort.abort_now().await;
                    return Err(self.scrubbed(self.query_error(&e, timeout)));
                }
            }
        }
    }

    /// Runs a small metadata statement and returns its column names and rows of raw text.
    async fn fetch(&self, sql: &str) -> Result<(Vec<String>, Vec<RawRow>)> {
        let deadline = deadline_after(METADATA_TIMEOUT);
        let work = async {
            let mut cursor = self.execute(sql, &[], METADATA_TIMEOUT, deadline, None).await?;
            let names = cursor.schema().columns().iter().map(|c| c.name().to_string()).collect();
            let mut rows = Vec::new();
            while let Some(table) =
                cursor.next_table().await.map_err(|e| self.query_error(&e, METADATA_TIMEOUT))?
            {
                for row in table.rows::<RawRow>().map_err(|e| self.query_error(&e, METADATA_TIMEOUT))? {
                    rows.push(row.map_err(|e| self.query_error(&e, METADATA_TIMEOUT))?);
                }
            }
            Ok((names, rows))
        };
        match tokio::time::timeout_at(deadline, work).await {
            Ok(result) => result.map_err(|e| self.scrubbed(e)),
            Err(_) => Err(ConnectorError::timeout(METADATA_TIMEOUT)),
        }
    }

    /// The values of column `name` (case-insensitive) of a metadata statement.
    async fn fetch_column(&self, sql: &str, name: &str) -> Result<Vec<String>> {
        let (names, rows) = self.fetch(sql).await?;
        let index = column_index(&names, name, sql)?;
        Ok(rows.iter().filter_map(|r| r.get(index).map(str::to_string)).collect())
    }

    async fn stream(&self, query: &Query, mut sink: ResultSink, deadline: Instant) -> Result<()> {
        let client = sink.cancel_signal();
        let mut cursor =
            self.execute(&query.sql, &query.params, query.timeout, deadline, Some(&client)).await?;
        let columns = cursor.schema().columns();
        let types: Vec<SnowflakeType> = columns.iter().map(|c| SnowflakeType::of(c.ty())).collect();
        let names: Vec<String> = columns.iter().map(|c| c.name().to_string()).collect();
        sink.set_columns(columns.iter().map(|c| value::column(c.name(), c.ty())).collect::<Vec<Column>>());

        // The next partition downloads while this one is written, so at most two are in memory.
        // Dropping `_fetcher` (error, row cap, client gone) stops the download in flight.
        let (tx, mut rx) = mpsc::channel::<sf::Result<sf::ResultTable>>(1);
        let _fetcher = AbortOnDropTask(tokio::spawn(async move {
            // The slot before the download: nothing is fetched that could not be handed over.
            while let Ok(slot) = tx.reserve().await {
                match cursor.next_table().await {
                    Ok(Some(table)) => slot.send(Ok(table)),
                    Ok(None) => return,
                    Err(e) => return slot.send(Err(e)),
                }
            }
        }));

        while let Some(table) = rx.recv().await {
            let table = table.map_err(|e| self.query_error(&e, query.timeout))?;
            let rows = table.rows::<RawRow>().map_err(|e| self.query_error(&e, query.timeout))?;
            for row in rows {
                let row = row.map_err(|e| self.query_error(&e, query.timeout))?;
                if !sink.accept_row() {
                    return sink.finish().await;
                }
                for (i, ty) in types.iter().enumerate() {
                    let cell = value::to_cell(*ty, row.get(i)).map_err(|problem| {
                        ConnectorError::internal(format!(
                            "Snowflake sent a value this connector cannot read in column {}: {problem}",
                            names.get(i).map_or("?", String::as_str)
                        ))
                    })?;
                    sink.cell(&cell);
                }
                sink.end_row().await?;
            }
        }
        sink.finish().await
    }

    fn login_error(&self, e: &sf::Error) -> ConnectorError {
        let host = self.target.host();
        let user = self.settings.user.trim();
        match e.kind() {
            sf::ErrorKind::Auth => match e.snowflake_message() {
                Some(message) => ConnectorError::new(
                    ErrorKind::AccessDenied,
                    format!("Snowflake refused the login of user {user}: {}", message.trim()),
                ),
                None if is_key_error(e) => ConnectorError::invalid(format!(
                    "the private key could not be used ({e}): it must be an RSA key in PKCS#8 PEM, \
                     and an encrypted key needs its private_key_passphrase; check the passphrase"
                )),
                None => ConnectorError::new(
                    ErrorKind::AccessDenied,
                    format!("Snowflake refused the login of user {user}"),
                ),
            },
            sf::ErrorKind::Network => match http_status(e) {
                Some(403 | 404) => ConnectorError::not_found(format!(
                    "Snowflake account {} was not found at {host} (HTTP {}); use the account identifier \
                     from your Snowflake URL, e.g. xy12345.eu-central-1 or myorg-myaccount",
                    self.target.account,
                    http_status(e).unwrap_or_default()
                )),
                Some(status) => ConnectorError::new(
                    ErrorKind::Unreachable,
                    format!("Snowflake at {host} answered the login with HTTP {status}: {e}"),
                ),
                None => ConnectorError::new(
                    ErrorKind::Unreachable,
                    format!("cannot reach Snowflake at {host}: {}", error_chain(e)),
                ),
            },
            sf::ErrorKind::Timeout => ConnectorError::new(
                ErrorKind::Unreachable,
                format!("Snowflake at {host} did not answer the login in time: {e}"),
            ),
            sf::ErrorKind::Server => self.server_error(e),
            sf::ErrorKind::Config => {
                ConnectorError::invalid(format!("invalid Snowflake connection settings: {e}"))
            }
            _ => ConnectorError::internal(format!("Snowflake login failed: {}", error_chain(e))),
        }
    }

    fn query_error(&self, e: &sf::Error, timeout: Duration) -> ConnectorError {
        match e.kind() {
            sf::ErrorKind::Server | sf::ErrorKind::SessionExpired => self.server_error(e),
            sf::ErrorKind::Timeout => ConnectorError::timeout(timeout),
            sf::ErrorKind::Cancelled => ConnectorError::cancelled(),
            sf::ErrorKind::BindEncode => {
                ConnectorError::invalid(format!("a query parameter cannot be sent to Snowflake: {e}"))
            }
            sf::ErrorKind::Network => ConnectorError::new(
                ErrorKind::Unreachable,
                format!("lost the connection to Snowflake at {}: {}", self.target.host(), error_chain(e)),
            ),
            sf::ErrorKind::Auth => self.login_error(e),
            _ => ConnectorError::internal(format!(
                "Snowflake answered in a way this connector cannot read: {}",
                error_chain(e)
            )),
        }
    }

    /// Snowflake's own error, with its message and code, classified by the code.
    fn server_error(&self, e: &sf::Error) -> ConnectorError {
        let message = e.snowflake_message().map(str::trim).unwrap_or("no message");
        let code = e.snowflake_code().unwrap_or("");
        let (kind, hint) = classify_code(code, message);
        let mut text = if code.is_empty() {
            format!("Snowflake: {message}")
        } else {
            format!("Snowflake error {code}: {message}")
        };
        if let Some(hint) = hint {
            text.push_str(" (");
            text.push_str(hint);
            text.push(')');
        }
        ConnectorError::new(kind, text)
    }
}

#[async_trait::async_trait]
impl Engine for SnowflakeEngine {
    fn kind(&self) -> &'static str {
        "snowflake"
    }

    async fn server_version(&self) -> Result<String> {
        let (_, rows) = self.fetch("SELECT CURRENT_VERSION()").await?;
        let version = rows.first().and_then(|r| r.get(0)).unwrap_or("unknown");
        Ok(format!("Snowflake {version}"))
    }

    async fn list(&self, what: Listing) -> Result<Vec<String>> {
        let mut names = match what {
            Listing::Databases => self.fetch_column("SHOW TERSE DATABASES", "name").await?,
            Listing::Schemas => self.fetch_column("SHOW TERSE SCHEMAS", "name").await?,
            Listing::Warehouses => self.fetch_column("SHOW WAREHOUSES", "name").await?,
            Listing::Roles => {
                // The roles this user may switch to (granted ones and their hierarchy), not every
                // role of the account that SHOW ROLES would list.
                let (_, rows) = self.fetch("SELECT CURRENT_AVAILABLE_ROLES()").await?;
                let text = rows.first().and_then(|r| r.get(0)).unwrap_or("[]");
                serde_json::from_str::<Vec<String>>(text).map_err(|e| {
                    ConnectorError::internal(format!(
                        "CURRENT_AVAILABLE_ROLES() did not return a list of names: {e}"
                    ))
                })?
            }
        };
        names.sort();
        names.dedup();
        Ok(names)
    }

    async fn tables(&self, schema: Option<&str>) -> Result<Vec<TableInfo>> {
        let sql = match schema {
            Some(schema) => format!("SHOW TERSE OBJECTS IN SCHEMA {}", quote_ident(schema)?),
            None => "SHOW TERSE OBJECTS IN DATABASE".to_string(),
        };
        let (names, rows) = self.fetch(&sql).await.map_err(|e| not_found_as(e, || schema_missing(schema)))?;
        let name_at = column_index(&names, "name", &sql)?;
        let kind_at = column_index(&names, "kind", &sql)?;
        let schema_at = column_index(&names, "schema_name", &sql)?;
        let mut tables: Vec<TableInfo> = rows
            .iter()
            .filter_map(|row| {
                let name = row.get(name_at)?.to_string();
                let kind = row.get(kind_at).unwrap_or("TABLE").to_ascii_uppercase();
                let schema = row.get(schema_at).map(str::to_string).or_else(|| schema.map(str::to_string))?;
                let kind = if kind.contains("VIEW") { "view" } else { "table" };
                Some(TableInfo { schema, name, kind: kind.to_string() })
            })
            .collect();
        tables.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        Ok(tables)
    }

    async fn columns(&self, schema: Option<&str>, table: &str) -> Result<Vec<ColumnInfo>> {
        let qualified = match schema {
            Some(schema) => format!("{}.{}", quote_ident(schema)?, quote_ident(table)?),
            None => quote_ident(table)?,
        };
        let sql = format!("DESCRIBE TABLE {qualified}");
        let shown = schema.map_or_else(|| table.to_string(), |s| format!("{s}.{table}"));
        let missing = || {
            ConnectorError::not_found(format!("table {shown} does not exist or is not visible to this role"))
        };
        let (names, rows) = self.fetch(&sql).await.map_err(|e| not_found_as(e, missing))?;
        let name_at = column_index(&names, "name", &sql)?;
        let type_at = column_index(&names, "type", &sql)?;
        let null_at = column_index(&names, "null?", &sql)?;
        let columns: Vec<ColumnInfo> = rows
            .iter()
            .filter_map(|row| {
                Some(ColumnInfo {
                    name: row.get(name_at)?.to_string(),
                    db_type: row.get(type_at).unwrap_or_default().to_string(),
                    nullable: !row.get(null_at).is_some_and(|v| v.eq_ignore_ascii_case("N")),
                })
            })
            .collect();
        if columns.is_empty() {
            return Err(missing());
        }
        Ok(columns)
    }

    async fn query(&self, query: Query, sink: ResultSink) -> Result<()> {
        statement::check_for(&query.sql, query.access(self.settings.read_only))?;
        let deadline = deadline_after(query.timeout);
        // The execute phase watches the deadline itself (to send the abort); this bound covers
        // the login before it and the chunk downloads and writing after it.
        match tokio::time::timeout_at(deadline, self.stream(&query, sink, deadline)).await {
            Ok(result) => result.map_err(|e| self.scrubbed(e)),
            Err(_) => Err(ConnectorError::timeout(query.timeout)),
        }
    }
}

/// The login method and its credentials, from the secrets (never from settings).
fn auth_config(authenticator: Option<Authenticator>, secrets: &Secrets) -> Result<sf::AuthConfig> {
    let given = |field: &str| secrets.get(field).filter(|v| !v.trim().is_empty());
    let authenticator = match authenticator {
        Some(a) => a,
        None if given("private_key").is_some() => Authenticator::SnowflakeJwt,
        None if given("oauth_token").is_some() => Authenticator::Oauth,
        None if given("password").is_some() => Authenticator::Snowflake,
        None => {
            return Err(ConnectorError::invalid(
                "Snowflake needs a password, a private_key (key-pair login) or an oauth_token",
            ))
        }
    };
    match authenticator {
        Authenticator::Snowflake => {
            let password = given("password")
                .ok_or_else(|| ConnectorError::invalid("\"password\" is required for password login"))?;
            let mut config = sf::PasswordConfig::new(password);
            if let Some(passcode) = given("passcode") {
                config = config.with_passcode(passcode.trim());
            }
            Ok(sf::AuthConfig::password(config))
        }
        Authenticator::SnowflakeJwt => {
            let pem = given("private_key")
                .ok_or_else(|| ConnectorError::invalid("\"private_key\" is required for key-pair login"))?;
            key_pair_config(pem, given("private_key_passphrase")).map(sf::AuthConfig::key_pair)
        }
        Authenticator::Oauth => {
            let token = given("oauth_token")
                .ok_or_else(|| ConnectorError::invalid("\"oauth_token\" is required for OAuth login"))?;
            Ok(sf::AuthConfig::oauth(token.trim()))
        }
    }
}

/// Checks the PEM's kind before the crate parses it, so each mistake gets its own message.
fn key_pair_config(pem: &str, passphrase: Option<&str>) -> Result<sf::KeyPairConfig> {
    // Keys pasted through JSON or env files often arrive with literal `\n`s.
    let pem = if pem.contains('\n') { pem.trim().to_string() } else { pem.trim().replace("\\n", "\n") };
    if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        return match passphrase {
            Some(passphrase) => Ok(sf::KeyPairConfig::from_encrypted_pem(pem, passphrase.as_bytes().to_vec())),
            None => Err(ConnectorError::invalid(
                "the private key is encrypted (BEGIN ENCRYPTED PRIVATE KEY): give its passphrase as private_key_passphrase",
            )),
        };
    }
    if pem.contains("-----BEGIN RSA PRIVATE KEY-----") {
        return Err(ConnectorError::invalid(
            "the private key is in PKCS#1 form (BEGIN RSA PRIVATE KEY); Snowflake key-pair login needs PKCS#8: \
             convert it with `openssl pkcs8 -topk8 -in rsa_key.pem -out rsa_key.p8 -nocrypt` \
             (or `-v2 aes-256-cbc` instead of `-nocrypt` to keep it encrypted)",
        ));
    }
    if pem.contains("-----BEGIN PRIVATE KEY-----") {
        // An unencrypted key with a passphrase given: the passphrase has nothing to unlock.
        return Ok(sf::KeyPairConfig::from_pem(pem));
    }
    Err(ConnectorError::invalid(
        "private_key must be a PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN ENCRYPTED PRIVATE KEY-----)",
    ))
}

/// Error kind and a hint for the user, from Snowflake's error code (and message where codes are
/// shared).
fn classify_code(code: &str, message: &str) -> (ErrorKind, Option<&'static str>) {
    let lower = message.to_ascii_lowercase();
    match code {
        // No active warehouse / the warehouse is suspended and cannot resume / does not exist.
        "000606" | "000625" | "000627" => (
            ErrorKind::InvalidInput,
            Some("set \"warehouse\" on the connection to one this role may use; list them with the warehouses listing"),
        ),
        "003001" | "003003" | "003011" => (ErrorKind::AccessDenied, Some("the connection's role lacks this privilege")),
        "000604" => (ErrorKind::Cancelled, None),
        "000630" => (ErrorKind::Timeout, None),
        "090105" | "090106" => (
            ErrorKind::InvalidInput,
            Some("set \"database\" and \"schema\" on the connection, or qualify names as database.schema.table"),
        ),
        // Login, session and authentication codes (incorrect password, JWT invalid, OAuth token
        // invalid or expired, MFA required, user locked, IP not allowed, session expired).
        _ if code.starts_with("390") || code.starts_with("394") => (ErrorKind::AccessDenied, None),
        _ if lower.contains("insufficient privileges") => {
            (ErrorKind::AccessDenied, Some("the connection's role lacks this privilege"))
        }
        _ => (ErrorKind::Sql, None),
    }
}

/// A missing schema or table shows up as a SQL error (002003, "does not exist or not
/// authorized"); listings report it as `NotFound`.
fn not_found_as(error: ConnectorError, not_found: impl FnOnce() -> ConnectorError) -> ConnectorError {
    let message = error.message().to_ascii_lowercase();
    if error.kind() == ErrorKind::Sql
        && (message.contains("002003")
            || message.contains("does not exist")
            || message.contains("not authorized"))
    {
        not_found()
    } else {
        error
    }
}

fn schema_missing(schema: Option<&str>) -> ConnectorError {
    match schema {
        Some(schema) => ConnectorError::not_found(format!(
            "schema {schema} does not exist or is not visible to this role"
        )),
        None => ConnectorError::not_found(
            "the connection's database does not exist or is not visible to this role",
        ),
    }
}

/// A name as it is stored (as the listings return it), quoted so that case and spaces survive.
fn quote_ident(name: &str) -> Result<String> {
    if name.is_empty() || name.contains('\0') {
        return Err(ConnectorError::invalid("an empty name is not a Snowflake identifier"));
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

fn column_index(names: &[String], wanted: &str, sql: &str) -> Result<usize> {
    names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(wanted))
        .ok_or_else(|| ConnectorError::internal(format!("{sql} returned no {wanted} column")))
}

fn statement_with(sql: &str, params: &[Param]) -> sf::Statement<sf::PositionalBinds> {
    params.iter().fold(sf::Statement::new_positional(sql.to_string()), |statement, param| match param {
        Param::Null => statement.bind(Option::<String>::None),
        Param::Bool(v) => statement.bind(*v),
        Param::Int(v) => statement.bind(*v),
        Param::Float(v) => statement.bind(*v),
        Param::Text(v) => statement.bind(v.clone()),
    })
}

/// Now + `timeout`, saturating: a huge timeout means "no deadline", not a panic.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout).unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 86_400))
}

async fn client_gone(client: Option<&CancelSignal>) {
    match client {
        Some(signal) => {
            while !signal.is_cancelled() {
                tokio::time::sleep(CLIENT_POLL).await;
            }
        }
        None => std::future::pending::<()>().await,
    }
}

/// Sends Snowflake's abort request for a statement whose future is dropped before Snowflake
/// answered (timeout, client gone): the crate never aborts on drop by itself.
struct AbortOnDrop(Option<sf::QueryCanceller>);

impl AbortOnDrop {
    fn disarm(&mut self) {
        self.0 = None;
    }

    /// Sends the abort and waits for Snowflake to acknowledge it. The request runs as its own
    /// task, so it still goes out if this future is dropped half-way (the outer deadline).
    async fn abort_now(&mut self) {
        if let Some(canceller) = self.0.take() {
            let request = tokio::spawn(async move { canceller.cancel().await });
            if let Ok(Err(e)) = request.await {
                tracing::warn!("Snowflake abort request failed: {e}");
            }
        }
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        let Some(canceller) = self.0.take() else { return };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = canceller.cancel().await {
                    tracing::warn!("Snowflake abort request failed: {e}");
                }
            });
        }
    }
}

struct AbortOnDropTask(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDropTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One row's cells as Snowflake sent them, copied out of the partition in one buffer: the
/// crate's row API yields owned values only.
#[derive(Debug, Default)]
struct RawRow {
    text: String,
    cells: Vec<Option<Range<usize>>>,
}

impl RawRow {
    fn get(&self, index: usize) -> Option<&str> {
        let range = self.cells.get(index)?.clone()?;
        self.text.get(range)
    }
}

impl sf::FromRow for RawRow {
    type Plan = usize;

    fn build_plan(ctx: sf::RowPlanContext<'_>) -> sf::decode::PlanBuildResult<usize> {
        Ok(ctx.schema().len())
    }

    fn from_row_with_plan(row: sf::RowRef<'_>, columns: &usize) -> sf::decode::RowDecodeResult<Self> {
        let mut out = RawRow { text: String::new(), cells: Vec::with_capacity(*columns) };
        for index in 0..*columns {
            let cell = row.cell_at(index)?.raw().map(|raw| {
                let start = out.text.len();
                out.text.push_str(raw);
                start..out.text.len()
            });
            out.cells.push(cell);
        }
        Ok(out)
    }
}

fn is_key_error(e: &sf::Error) -> bool {
    matches!(e.to_string().as_str(), "private key error" | "DER error" | "JWT error")
}

/// The HTTP status of a `NetworkError::HttpStatus`, which the crate shows as `HTTP 404: ...`.
fn http_status(e: &sf::Error) -> Option<u16> {
    let text = e.to_string();
    let rest = text.strip_prefix("HTTP ")?;
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// The error and its causes, since the crate's own message is often just "network error".
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    scrub(&text, std::iter::empty())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn secrets(pairs: &[(&str, &str)]) -> Secrets {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn settings() -> SnowflakeSettings {
        serde_json::from_value(serde_json::json!({"account": "xy12345.eu-central-1", "user": "ANALYST"}))
            .unwrap()
    }

    #[test]
    fn settings_parse_with_defaults_and_aliases() {
        let s = settings();
        assert!(s.read_only);
        assert_eq!(s.authenticator, None);
        let s: SnowflakeSettings = serde_json::from_value(serde_json::json!({
            "account_identifier": "myorg-acct", "username": "u", "authenticator": "snowflake_jwt",
            "role": "ANALYST", "warehouse": "WH", "database": "DB", "schema": "PUBLIC", "read_only": false
        }))
        .unwrap();
        assert_eq!(s.account, "myorg-acct");
        assert_eq!(s.authenticator, Some(Authenticator::SnowflakeJwt));
        assert!(!s.read_only);
        let err = serde_json::from_value::<SnowflakeSettings>(
            serde_json::json!({"account": "a", "user": "u", "pasword": "x"}),
        );
        assert!(err.is_err());
    }

    #[test]
    fn secrets_are_split_off_by_from_input() {
        let input = serde_json::json!({
            "kind": "snowflake", "account": "xy12345", "user": "u", "password": "hunter2",
            "passcode": "123456", "private_key": "pem", "private_key_passphrase": "pp", "oauth_token": "tok"
        });
        let serde_json::Value::Object(map) = input else { unreachable!() };
        let (settings, secrets) = crate::ConnectionSettings::from_input(map).unwrap();
        assert_eq!(settings.kind(), "snowflake");
        assert!(settings.read_only());
        assert_eq!(secrets.fields().count(), 5);
        let shown = serde_json::to_string(&settings).unwrap();
        for secret in ["hunter2", "123456", "pem", "\"pp\"", "tok"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn authenticator_is_inferred_from_the_secrets() {
        assert!(auth_config(None, &secrets(&[("password", "pw")])).is_ok());
        assert!(auth_config(None, &secrets(&[("oauth_token", "t")])).is_ok());
        let err = auth_config(None, &secrets(&[])).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let err = auth_config(Some(Authenticator::Oauth), &secrets(&[("password", "pw")])).unwrap_err();
        assert!(err.message().contains("oauth_token"), "{err}");
        let err = auth_config(Some(Authenticator::Snowflake), &secrets(&[("password", "  ")])).unwrap_err();
        assert!(err.message().contains("password"), "{err}");
    }

    #[test]
    fn key_mistakes_get_their_own_messages() {
        let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----";
        let err = key_pair_config(encrypted, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains("private_key_passphrase"), "{err}");
        assert!(key_pair_config(encrypted, Some("pp")).is_ok());
        let pkcs1 = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----";
        assert!(key_pair_config(pkcs1, None).unwrap_err().message().contains("openssl pkcs8 -topk8"));
        assert_eq!(key_pair_config("not a key", None).unwrap_err().kind(), ErrorKind::InvalidInput);
        let escaped = "-----BEGIN PRIVATE KEY-----\\nMIIB\\n-----END PRIVATE KEY-----";
        assert!(key_pair_config(escaped, None).is_ok());
        // Through auth_config, the inference picks the key over a stale password.
        let s = secrets(&[("password", "old"), ("private_key", encrypted)]);
        assert!(auth_config(None, &s).unwrap_err().message().contains("private_key_passphrase"));
    }

    #[test]
    fn codes_classify() {
        assert_eq!(classify_code("000606", "No active warehouse").0, ErrorKind::InvalidInput);
        assert_eq!(classify_code("003001", "SQL access control error").0, ErrorKind::AccessDenied);
        assert_eq!(
            classify_code("390100", "Incorrect username or password was specified.").0,
            ErrorKind::AccessDenied
        );
        assert_eq!(classify_code("390144", "JWT token is invalid.").0, ErrorKind::AccessDenied);
        assert_eq!(classify_code("002003", "Object 'X' does not exist or not authorized.").0, ErrorKind::Sql);
        assert_eq!(classify_code("001003", "syntax error").0, ErrorKind::Sql);
        assert_eq!(
            classify_code("000630", "Statement reached its statement or warehouse timeout").0,
            ErrorKind::Timeout
        );
        assert_eq!(
            classify_code("", "Insufficient privileges to operate on schema").0,
            ErrorKind::AccessDenied
        );
    }

    #[test]
    fn identifiers_are_quoted_exactly() {
        assert_eq!(quote_ident("PUBLIC").unwrap(), "\"PUBLIC\"");
        assert_eq!(quote_ident("Mixed Case").unwrap(), "\"Mixed Case\"");
        assert_eq!(quote_ident("a\"b").unwrap(), "\"a\"\"b\"");
        assert!(quote_ident("").is_err());
    }

    #[test]
    fn build_refuses_bad_settings_without_network() {
        let mut s = settings();
        s.user = " ".into();
        assert_eq!(
            SnowflakeEngine::build(s, &secrets(&[("password", "pw")])).err().map(|e| e.kind()),
            Some(ErrorKind::InvalidInput)
        );
        let mut s = settings();
        s.account = "https://example.com".into();
        assert_eq!(
            SnowflakeEngine::build(s, &secrets(&[("password", "pw")])).err().map(|e| e.kind()),
            Some(ErrorKind::InvalidInput)
        );
        let engine = SnowflakeEngine::build(settings(), &secrets(&[("password", "pw")])).unwrap();
        assert_eq!(engine.target().host(), "https://xy12345.eu-central-1.snowflakecomputing.com");
    }

    #[test]
    fn not_found_is_recognised_in_sql_errors() {
        let err = not_found_as(
            ConnectorError::sql("Snowflake error 002003: Table 'T' does not exist or not authorized."),
            || ConnectorError::not_found("gone"),
        );
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let err = not_found_as(ConnectorError::sql("Snowflake error 001003: syntax error"), || {
            ConnectorError::not_found("gone")
        });
        assert_eq!(err.kind(), ErrorKind::Sql);
    }
}
