//! Snowflake through `snowflake-connector-rs` (Snowflake's driver REST API, JSON rowsets).
//!
//! One engine keeps one Snowflake session and logs in again when Snowflake expires it (the crate
//! does not renew tokens). Results stream partition by partition: the first part comes inline
//! with the query response, the rest are chunk downloads fetched one ahead by a task while the
//! previous one is written, so memory holds at most two partitions whatever the row count.
//!
//! Snowflake has no read-only session switch. A read-only connection refuses anything but
//! single reading statements (`statement::check_dialect`, with Snowflake's comment rules, so the engine holds the line on
//! its own), and Snowflake itself rejects multi-statement requests by default; what the
//! connection can actually change is decided by its role, which is the real guard.

mod account;
mod auth;
mod error;
mod params;
mod schema;
mod settings;
mod value;

pub use account::Target;
pub use settings::{Authenticator, SnowflakeSettings};

use crate::cell::Column;
use crate::error::{ConnectorError, ErrorKind, Result};
use crate::kind::EngineKind;
use crate::settings::Secrets;
use crate::sink::{CancelSignal, ResultSink};
use crate::{statement, ColumnInfo, Engine, Listing, Param, Query, TableInfo};
use snowflake_connector_rs as sf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex};
use tokio::time::Instant;
use value::{RawRow, SnowflakeType};

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
    /// The login method in use (given or inferred), for messages about a refused login.
    authenticator: Authenticator,
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
        let (authenticator, auth) = auth::auth_config(settings.authenticator, secrets)?;
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
            authenticator,
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
                .query_handle_with_options(params::statement_with(sql, params), options)
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
        let index = schema::column_index(&names, name, sql)?;
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
                    sink.admit_value(i, row.get(i).map_or(0, str::len))?;
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
}

#[async_trait::async_trait]
impl Engine for SnowflakeEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Snowflake
    }

    async fn server_version(&self) -> Result<String> {
        schema::version(self).await
    }

    async fn list(&self, what: Listing) -> Result<Vec<String>> {
        schema::list(self, what).await
    }

    async fn privilege_warnings(&self) -> Result<Vec<String>> {
        schema::privilege_warnings(self).await.map_err(|e| self.scrubbed(e))
    }

    async fn tables(&self, schema: Option<&str>) -> Result<Vec<TableInfo>> {
        schema::tables(self, schema).await
    }

    async fn columns(&self, schema: Option<&str>, table: &str) -> Result<Vec<ColumnInfo>> {
        schema::columns(self, schema, table).await
    }

    async fn query(&self, query: Query, sink: ResultSink) -> Result<()> {
        statement::check_dialect(
            &query.sql,
            crate::dialect::Dialect::Snowflake,
            query.access(self.settings.read_only),
        )?;
        let deadline = deadline_after(query.timeout);
        // The execute phase watches the deadline itself (to send the abort); this bound covers
        // the login before it and the chunk downloads and writing after it.
        match tokio::time::timeout_at(deadline, self.stream(&query, sink, deadline)).await {
            Ok(result) => result.map_err(|e| self.scrubbed(e)),
            Err(_) => Err(ConnectorError::timeout(query.timeout)),
        }
    }
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

#[cfg(test)]
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
}
