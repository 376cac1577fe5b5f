//! Running one query for any caller (HTTP routes, CLI, desktop app): limits, the single-statement
//! guard, a query slot, the engine, then a body that streams from the engine to the caller. Every
//! run ends in exactly one query-log entry, including runs the client abandons.

use crate::admission::Slot;
use crate::app::App;
use crate::connections;
use crate::error::{Error, Result};
use crate::state::{now, LogEntry};
use bytes::Bytes;
use connectors::statement::{self, CheckedStatement};
use connectors::{
    Column, ConnectorError, EngineKind, Format, Param, Query, ResultSink, SinkOptions, StreamEvent,
};
use futures::Stream;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct QueryInput {
    pub connection: String,
    pub sql: String,
    pub params: Vec<Param>,
    pub limit: Option<u64>,
    pub timeout_ms: Option<u64>,
    /// Run read-only whatever the connection allows: the single-statement guard in read-only
    /// mode and the engine's own enforcement (SQLite opened read-only, a read-only transaction
    /// on MySQL/PostgreSQL). For callers that must never write: MCP tools, GET requests.
    pub force_read_only: bool,
}

/// Whether the row cap cut the result. `Unknown` only when the result outgrew the held-back
/// window and the probe statement could not be built for it (e.g. a non-SELECT); said as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truncation {
    No,
    Yes,
    Unknown,
}

impl Truncation {
    pub fn header_value(self) -> &'static str {
        match self {
            Self::No => "false",
            Self::Yes => "true",
            Self::Unknown => "unknown",
        }
    }
}

pub type BodyStream = std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

pub struct QueryOutput {
    pub format: Format,
    pub columns: Arc<[Column]>,
    pub truncated: Truncation,
    pub row_limit: u64,
    pub body: BodyStream,
}

tokio::task_local! {
    /// Set while a request whose method must not write (GET, HEAD) is handled.
    static READ_ONLY_REQUEST: ();
}

/// Runs `work` with every query it starts forced read-only (`QueryInput::force_read_only`).
/// The security layer wraps GET and HEAD handlers in it, so no route, present or future, can
/// write through a safe method.
pub async fn read_only_scope<F: std::future::Future>(work: F) -> F::Output {
    READ_ONLY_REQUEST.scope((), work).await
}

fn in_read_only_scope() -> bool {
    READ_ONLY_REQUEST.try_with(|_| ()).is_ok()
}

/// Checks, starts and hands back a streaming result. Errors before the first byte (bad SQL,
/// refused write, timeout while the result is still held back) come back as `Err`.
pub async fn run(
    app: &Arc<App>,
    input: QueryInput,
    format: Format,
    source: &'static str,
) -> Result<QueryOutput> {
    run_checked(app, input, format, source, true).await
}

/// `run` for a statement the server built around SQL someone wrote (the grid's paging and
/// counting around a saved query): that SQL was held to `check_sql` when it was saved
/// and again by the caller, so the wrapper around it does not count against the limit.
pub async fn run_generated(
    app: &Arc<App>,
    input: QueryInput,
    format: Format,
    source: &'static str,
) -> Result<QueryOutput> {
    run_checked(app, input, format, source, false).await
}

/// What any SQL must be, checked when it runs and when it is saved (so SQL that could never
/// run is refused at once): within `--max-sql-chars`, and free of NUL characters, which some
/// engines take as the end of the statement and others refuse with a protocol error.
pub fn check_sql(limits: &crate::config::Limits, sql: &str) -> Result<()> {
    if sql.contains('\0') {
        return Err(Error::BadRequest("the SQL contains a NUL character (\\0); remove it".into()));
    }
    // Counting chars is linear; a byte length under the limit settles most cases for free.
    if sql.len() > limits.max_sql_chars && sql.chars().count() > limits.max_sql_chars {
        return Err(Error::PayloadTooLarge(format!(
            "the SQL is longer than the limit of {} characters (--max-sql-chars)",
            limits.max_sql_chars
        )));
    }
    Ok(())
}

async fn run_checked(
    app: &Arc<App>,
    mut input: QueryInput,
    format: Format,
    source: &'static str,
    check_length: bool,
) -> Result<QueryOutput> {
    input.force_read_only |= in_read_only_scope();
    let mut log = LogGuard::new(app.clone(), source, &input);
    let row_limit = input.limit.unwrap_or(app.config.limits.default_rows);
    let checked = if check_length { check_sql(&app.config.limits, &input.sql) } else { Ok(()) };
    let started = match checked {
        Ok(()) => start(app, input, format, &mut log).await,
        Err(e) => Err(e),
    };
    match started {
        Ok(started) => {
            if let PendingStream::Complete(..) = started.pending {
                log.finish(started.rows, started.truncated);
            }
            Ok(QueryOutput {
                format,
                columns: started.columns,
                truncated: started.truncated,
                row_limit,
                body: started.pending.into_body(log),
            })
        }
        Err(e) => {
            let e = explain_safe_method(e);
            log.fail(&e);
            Err(e)
        }
    }
}

/// A write refused because the request came as GET or HEAD says how to send it instead.
fn explain_safe_method(error: Error) -> Error {
    match error {
        Error::Connector(e) if e.kind() == connectors::ErrorKind::ReadOnly && in_read_only_scope() => {
            Error::Connector(ConnectorError::read_only(format!(
                "{}; GET and HEAD requests never write, send a writing statement with POST",
                e.message()
            )))
        }
        other => other,
    }
}

/// A query whose first bytes (or whole result) are ready.
struct Started {
    columns: Arc<[Column]>,
    truncated: Truncation,
    /// The row count of a whole (`Complete`) result.
    rows: u64,
    pending: PendingStream,
}

async fn start(app: &Arc<App>, input: QueryInput, format: Format, log: &mut LogGuard) -> Result<Started> {
    let limits = app.config.limits;
    let row_limit = input.limit.unwrap_or(limits.default_rows);
    if row_limit == 0 || row_limit > limits.max_rows {
        return Err(Error::BadRequest(format!(
            "limit must be between 1 and {} rows (the server's --max-rows)",
            limits.max_rows
        )));
    }
    let timeout = input.timeout_ms.map(Duration::from_millis).unwrap_or(limits.default_timeout);
    if timeout.is_zero() || timeout > limits.max_timeout {
        return Err(Error::BadRequest(format!(
            "timeout_ms must be between 1 and {}",
            limits.max_timeout.as_millis()
        )));
    }
    let key = ShareKey::new(&input, format, row_limit, timeout);
    // A joiner takes no query slot: it adds no work for the database.
    if let Some((rx, run)) = app.sharing.join(&key) {
        return first_event(rx, Outcome::Shared(run), None).await;
    }
    let permit = app.admission.enter(&input.connection).await?;
    let connected = connections::engine(app, &input.connection).await?;
    let access = statement::Access::of(connected.read_only, input.force_read_only);
    // With the engine's own lexing, so the body handed on is cut where the database would cut it.
    let checked = statement::check_dialect(&input.sql, connected.engine.kind().dialect(), access)?;
    let query = Query {
        sql: checked.body.clone(),
        params: input.params,
        timeout,
        force_read_only: input.force_read_only,
    };
    let options = SinkOptions::new(format, row_limit).with_caps(limits.max_value_bytes, limits.max_row_bytes);
    let (sink, rx) = ResultSink::new(options);
    let engine = connected.engine.clone();
    let task_query = query.clone();
    let task: JoinHandle<connectors::Result<()>> =
        tokio::spawn(async move { engine.query(task_query, sink).await });
    let probe = ProbeInput { engine: connected.engine.clone(), checked, query, limit: row_limit };
    // Only reads are shared: two identical writes must both run.
    if connected.read_only || input.force_read_only {
        let run = Arc::new(SharedRun::new(probe));
        let own = run.subscribe();
        app.sharing.insert(key.clone(), run.clone());
        tokio::spawn(fan_out(app.clone(), key, run.clone(), rx, task));
        return first_event(own, Outcome::Shared(run), Some(permit)).await;
    }
    log.task = Some(task.abort_handle());
    first_event(rx, Outcome::Task(task, Box::new(probe)), Some(permit)).await
}

/// Waits for the engine's first event: a whole small result, or the first window of a long one.
async fn first_event(
    mut rx: mpsc::Receiver<StreamEvent>,
    outcome: Outcome,
    permit: Option<Slot>,
) -> Result<Started> {
    match rx.recv().await {
        Some(StreamEvent::Complete { columns, body, rows, truncated }) => {
            let truncated = if truncated { Truncation::Yes } else { Truncation::No };
            Ok(Started { columns, truncated, rows, pending: PendingStream::Complete(body, permit) })
        }
        Some(StreamEvent::Started { columns, first }) => {
            let (truncated, ahead) = match settle_truncation(&mut rx, &outcome).await {
                Some(settled) => settled,
                // The query failed while the response had not begun: a proper error yet.
                None => return Err(outcome.error().await),
            };
            let pending = PendingStream::Streaming { first, ahead, rx, outcome, permit, truncated };
            Ok(Started { columns, truncated, rows: 0, pending })
        }
        Some(_) => Err(Error::Internal("the engine sent rows out of order".into())),
        None => Err(outcome.error().await),
    }
}

/// Bytes of a long result read ahead while its truncation probe runs. Without them the
/// engine stops once its channel is full, and the probe (a scan of `limit` rows: 0.1-0.2 s on
/// MariaDB for 1M) is added to the whole query's time; with them the engine goes on meanwhile,
/// and a result that ends within them settles `X-Truncated` itself, the probe abandoned.
const PROBE_READ_AHEAD: usize = 16 << 20;
/// The read-ahead for SQLite, whose probe is a scan of the file in this process (10-20 ms for
/// the bench's 1M rows, over an index where one covers the rows). 16 MiB held there filled
/// whenever the probe's thread waited for a core behind the query's own two, and put the
/// SQLite series' peak RSS at 31-39 MiB; with 4 MiB it was 28-29 MiB and the 1M-row times
/// moved within their noise (A/B, 3 rounds: JSON 248 -> 258 ms, Arrow 248 -> 248, CSV 270 -> 255).
/// Over MariaDB the same 4 MiB cost 6% (693 -> 738 ms), hence a figure per engine.
const SQLITE_PROBE_READ_AHEAD: usize = 4 << 20;

/// `X-Truncated` for a result that outgrew the held-back window, and the events read ahead
/// (at most `Outcome::read_ahead` bytes) while it was settled. `None` when the result failed in
/// the meantime: its error can still be the response.
async fn settle_truncation(
    rx: &mut mpsc::Receiver<StreamEvent>,
    outcome: &Outcome,
) -> Option<(Truncation, VecDeque<StreamEvent>)> {
    let mut ahead = VecDeque::new();
    let mut bytes = 0;
    let mut probe = std::pin::pin!(outcome.truncation());
    // A probe that could not tell (a statement it cannot wrap, or one that failed when run
    // again) leaves the result's own end, within the read-ahead, to settle it.
    let mut undecided = false;
    let read_ahead = outcome.read_ahead();
    while bytes < read_ahead {
        tokio::select! {
            truncated = &mut probe, if !undecided => match truncated {
                Truncation::Unknown => undecided = true,
                settled => return Some((settled, ahead)),
            },
            event = rx.recv() => match event {
                Some(StreamEvent::Chunk(chunk)) => {
                    bytes += chunk.len();
                    ahead.push_back(StreamEvent::Chunk(chunk));
                }
                Some(StreamEvent::Finished { rows, truncated }) => {
                    ahead.push_back(StreamEvent::Finished { rows, truncated });
                    let truncated = if truncated { Truncation::Yes } else { Truncation::No };
                    return Some((truncated, ahead));
                }
                Some(other) => {
                    // Out of order; the stream reports it where it would have.
                    ahead.push_back(other);
                    break;
                }
                None => return None,
            },
        }
    }
    let truncated = if undecided { Truncation::Unknown } else { probe.await };
    Some((truncated, ahead))
}

/// What settling `X-Truncated` needs (`probe`).
struct ProbeInput {
    engine: Arc<dyn connectors::Engine>,
    checked: CheckedStatement,
    query: Query,
    limit: u64,
}

/// Where a query's end comes from: its own engine task, or a run shared with identical requests.
enum Outcome {
    Task(JoinHandle<connectors::Result<()>>, Box<ProbeInput>),
    Shared(Arc<SharedRun>),
}

impl Outcome {
    fn probe(&self) -> &ProbeInput {
        match self {
            Self::Task(_, p) => p,
            Self::Shared(run) => &run.probe,
        }
    }

    /// How much of the result may wait in memory while the probe runs.
    fn read_ahead(&self) -> usize {
        match self.probe().engine.kind() {
            EngineKind::Sqlite => SQLITE_PROBE_READ_AHEAD,
            EngineKind::Mysql | EngineKind::Postgres | EngineKind::Snowflake | EngineKind::Duckdb => {
                PROBE_READ_AHEAD
            }
        }
    }

    async fn truncation(&self) -> Truncation {
        match self {
            Self::Task(_, p) => probe(&*p.engine, &p.checked, &p.query, p.limit).await,
            Self::Shared(run) => {
                let p = &run.probe;
                *run.truncation.get_or_init(|| probe(&*p.engine, &p.checked, &p.query, p.limit)).await
            }
        }
    }

    /// Why the result ended without finishing.
    async fn error(self) -> Error {
        match self {
            Self::Task(task, _) => engine_error(task).await,
            Self::Shared(run) => match run.error.get() {
                Some(e) => Error::Connector(e.clone()),
                None => Error::Internal("the query ended without a result".into()),
            },
        }
    }
}

/// Identical requests that arrive while a read is running share it (Workspace retries, two
/// widgets on one query): same connection, SQL, parameters, limit, timeout, format and
/// read-only mode. A request may join until the run's first event (the whole small result, or
/// the first window of a long one) is handed out; after that it starts its own execution, so
/// no caller ever gets a result that began before it asked.
#[derive(Default)]
pub struct Sharing {
    runs: std::sync::Mutex<HashMap<ShareKey, Arc<SharedRun>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ShareKey {
    connection: String,
    sql: String,
    params: String,
    limit: u64,
    timeout: Duration,
    format: &'static str,
    force_read_only: bool,
}

impl ShareKey {
    fn new(input: &QueryInput, format: Format, limit: u64, timeout: Duration) -> Self {
        Self {
            connection: input.connection.clone(),
            sql: input.sql.clone(),
            // Debug keeps every digit and the variant (a text "1" is not the number 1).
            params: format!("{:?}", input.params),
            limit,
            timeout,
            format: format.content_type(),
            force_read_only: input.force_read_only,
        }
    }
}

impl Sharing {
    fn runs(&self) -> std::sync::MutexGuard<'_, HashMap<ShareKey, Arc<SharedRun>>> {
        self.runs.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A receiver on the identical run still open to joiners, if there is one.
    fn join(&self, key: &ShareKey) -> Option<(mpsc::Receiver<StreamEvent>, Arc<SharedRun>)> {
        let run = self.runs().get(key).cloned()?;
        let mut joiners = run.joiners();
        let (tx, rx) = mpsc::channel(CALLER_CHUNKS);
        joiners.as_mut()?.push(tx);
        drop(joiners);
        Some((rx, run))
    }

    fn insert(&self, key: ShareKey, run: Arc<SharedRun>) {
        self.runs().insert(key, run);
    }

    fn remove(&self, key: &ShareKey, run: &Arc<SharedRun>) {
        let mut runs = self.runs();
        if runs.get(key).is_some_and(|r| Arc::ptr_eq(r, run)) {
            runs.remove(key);
        }
    }

    /// Runs in flight that identical requests may still join.
    pub fn open_runs(&self) -> usize {
        self.runs().len()
    }
}

pub(crate) struct SharedRun {
    /// Callers' channels until the first event goes out; `None` after (no more joiners).
    joiners: std::sync::Mutex<Option<Vec<mpsc::Sender<StreamEvent>>>>,
    /// The engine's error, set before the callers' channels close.
    error: std::sync::OnceLock<ConnectorError>,
    truncation: tokio::sync::OnceCell<Truncation>,
    probe: ProbeInput,
}

impl SharedRun {
    fn new(probe: ProbeInput) -> Self {
        Self {
            joiners: std::sync::Mutex::new(Some(Vec::new())),
            error: std::sync::OnceLock::new(),
            truncation: tokio::sync::OnceCell::new(),
            probe,
        }
    }

    fn joiners(&self) -> std::sync::MutexGuard<'_, Option<Vec<mpsc::Sender<StreamEvent>>>> {
        self.joiners.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn subscribe(&self) -> mpsc::Receiver<StreamEvent> {
        let (tx, rx) = mpsc::channel(CALLER_CHUNKS);
        if let Some(joiners) = self.joiners().as_mut() {
            joiners.push(tx);
        }
        rx
    }

    /// Whether every caller has gone before the first event.
    fn abandoned(&self) -> bool {
        self.joiners().as_ref().is_some_and(|j| j.iter().all(mpsc::Sender::is_closed))
    }
}

/// Chunks that may wait in each caller's channel of a shared run. The engine's own channel
/// (`connectors::sink::CHANNEL_CHUNKS`) already holds the run's read-ahead; as deep a channel
/// per caller would let a long result hold twice that while its first bytes wait for the
/// truncation probe.
const CALLER_CHUNKS: usize = 4;

/// How often a shared run still waiting for its first event checks that someone still wants it.
const ABANDON_POLL: Duration = Duration::from_millis(100);

/// Hands every event of the engine to every caller of a shared run, at the pace of the slowest
/// (the channels are bounded, so memory stays flat). Joining closes at the first event. When
/// every caller has gone the engine is stopped, as a lone caller's disconnect stops it.
async fn fan_out(
    app: Arc<App>,
    key: ShareKey,
    run: Arc<SharedRun>,
    mut engine: mpsc::Receiver<StreamEvent>,
    task: JoinHandle<connectors::Result<()>>,
) {
    let mut callers: Option<Vec<mpsc::Sender<StreamEvent>>> = None;
    loop {
        let event = tokio::select! {
            event = engine.recv() => event,
            () = tokio::time::sleep(ABANDON_POLL), if callers.is_none() => {
                if run.abandoned() {
                    app.sharing.remove(&key, &run);
                    task.abort();
                    return;
                }
                continue;
            }
        };
        if callers.is_none() {
            app.sharing.remove(&key, &run);
            callers = Some(run.joiners().take().unwrap_or_default());
        }
        let (Some(event), Some(targets)) = (event, callers.as_mut()) else { break };
        let mut alive = Vec::with_capacity(targets.len());
        for caller in targets.drain(..) {
            if caller.send(event.clone()).await.is_ok() {
                alive.push(caller);
            }
        }
        if alive.is_empty() {
            // Dropping the engine's receiver stops it at its next row.
            task.abort();
            return;
        }
        *targets = alive;
    }
    let error = match task.await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e),
        Err(e) => Some(ConnectorError::internal(format!("the query task failed: {e}"))),
    };
    if let Some(error) = error {
        let _ = run.error.set(error);
    }
    drop(callers);
}

/// Settles `X-Truncated` for a result longer than the held-back window.
async fn probe(
    engine: &dyn connectors::Engine,
    checked: &CheckedStatement,
    query: &Query,
    limit: u64,
) -> Truncation {
    match engine.exceeds(checked, query, limit).await {
        Ok(true) => Truncation::Yes,
        Ok(false) => Truncation::No,
        Err(e) => {
            tracing::warn!("could not tell whether the result exceeds {limit} rows: {e}");
            Truncation::Unknown
        }
    }
}

/// The engine task ended without finishing its sink: its error explains why.
async fn engine_error(task: JoinHandle<connectors::Result<()>>) -> Error {
    match task.await {
        Ok(Err(e)) => Error::Connector(e),
        Ok(Ok(())) => Error::Internal("the engine ended without a result".into()),
        Err(e) => Error::Internal(format!("the query task failed: {e}")),
    }
}

enum PendingStream {
    Complete(Vec<Bytes>, Option<Slot>),
    Streaming {
        first: Vec<Bytes>,
        /// Events read while the truncation probe ran (`settle_truncation`), sent before `rx`'s.
        ahead: VecDeque<StreamEvent>,
        rx: mpsc::Receiver<StreamEvent>,
        outcome: Outcome,
        /// `None` for a caller that joined a shared run.
        permit: Option<Slot>,
        truncated: Truncation,
    },
}

impl PendingStream {
    fn into_body(self, log: LogGuard) -> BodyStream {
        match self {
            Self::Complete(body, permit) => {
                drop(permit);
                drop(log);
                Box::pin(futures::stream::iter(body.into_iter().map(Ok)))
            }
            Self::Streaming { first, ahead, rx, outcome, permit, truncated } => {
                let state = StreamState {
                    ahead,
                    rx: Some(rx),
                    outcome: Some(outcome),
                    log,
                    _permit: permit,
                    truncated,
                };
                let head = futures::stream::iter(first.into_iter().map(Ok));
                let tail = futures::stream::unfold(state, |mut state| async move {
                    let chunk = state.next().await?;
                    Some((chunk, state))
                });
                Box::pin(futures::StreamExt::chain(head, tail))
            }
        }
    }
}

struct StreamState {
    ahead: VecDeque<StreamEvent>,
    rx: Option<mpsc::Receiver<StreamEvent>>,
    outcome: Option<Outcome>,
    log: LogGuard,
    _permit: Option<Slot>,
    truncated: Truncation,
}

impl StreamState {
    async fn next(&mut self) -> Option<std::io::Result<Bytes>> {
        let rx = self.rx.as_mut()?;
        let event = match self.ahead.pop_front() {
            Some(event) => Some(event),
            None => rx.recv().await,
        };
        match event {
            Some(StreamEvent::Chunk(bytes)) => Some(Ok(bytes)),
            Some(StreamEvent::Finished { rows, .. }) => {
                self.rx = None;
                self.log.finish(rows, self.truncated);
                None
            }
            Some(_) => Some(Err(self.abort(Error::Internal("the engine sent rows out of order".into())))),
            None => {
                self.rx = None;
                let error = match self.outcome.take() {
                    Some(outcome) => outcome.error().await,
                    None => Error::Internal("the query ended early".into()),
                };
                Some(Err(self.abort(error)))
            }
        }
    }

    /// A failure after the status line was sent: the only honest signal left is to break the
    /// response off, so the client sees an incomplete body rather than a short valid one.
    fn abort(&mut self, error: Error) -> std::io::Error {
        tracing::warn!("query failed while streaming: {error}");
        self.log.fail(&error);
        self.rx = None;
        std::io::Error::other(error.to_string())
    }
}

/// Writes the query's log entry exactly once: when it finishes, fails, or is dropped unfinished
/// (the client went away), in which case it also stops the engine task.
struct LogGuard {
    app: Arc<App>,
    entry: Option<LogEntry>,
    started: Instant,
    task: Option<tokio::task::AbortHandle>,
}

impl LogGuard {
    fn new(app: Arc<App>, source: &str, input: &QueryInput) -> Self {
        let entry = LogEntry {
            id: 0,
            at: now(),
            source: source.to_string(),
            connection: input.connection.clone(),
            sql: input.sql.clone(),
            rows: 0,
            duration_ms: 0.0,
            outcome: String::new(),
            error: None,
        };
        Self { app, entry: Some(entry), started: Instant::now(), task: None }
    }

    fn finish(&mut self, rows: u64, truncated: Truncation) {
        let outcome = if truncated == Truncation::Yes { "truncated" } else { "ok" };
        if let Some(entry) = &self.entry {
            self.app.admission.record(&entry.connection, None);
        }
        self.write(rows, outcome, None);
    }

    fn fail(&mut self, error: &Error) {
        if let Some(entry) = &self.entry {
            self.app.admission.record(&entry.connection, Some(error));
        }
        self.write(0, error.outcome(), Some(error.to_string()));
    }

    fn write(&mut self, rows: u64, outcome: &str, error: Option<String>) {
        let Some(mut entry) = self.entry.take() else { return };
        entry.rows = rows;
        entry.duration_ms = connections::elapsed_ms(self.started);
        entry.outcome = outcome.to_string();
        entry.error = error;
        tracing::info!(
            connection = %entry.connection, rows, duration_ms = entry.duration_ms, outcome, "query"
        );
        if let Err(e) = self.app.state.append_log(&entry, self.app.config.limits.log_entries) {
            tracing::warn!("could not write the query log: {e}");
        }
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        if self.entry.is_some() {
            if let Some(task) = &self.task {
                task.abort();
            }
            let cancelled = Error::Connector(ConnectorError::cancelled());
            self.fail(&cancelled);
        }
    }
}
