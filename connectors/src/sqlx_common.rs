//! What the MySQL/MariaDB and PostgreSQL engines share because both go through sqlx: the pool
//! and the first connection (`Server`), pool limits, the guard that stops an abandoned query,
//! the row-streaming loop and the part of error mapping that is about the network rather than
//! the database. Nothing here knows either engine.

use crate::error::{scrub, ConnectorError, ErrorKind, Result};
use crate::settings::Secrets;
use crate::sink::ResultSink;
use futures::{FutureExt as _, TryStreamExt as _};
use sqlx::pool::{Pool, PoolConnection, PoolOptions};
use sqlx::{AssertSqlSafe, ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row as _, Type};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Connections per engine: enough for a dashboard's parallel widgets, few enough that one
/// laptop user cannot exhaust a shared server's `max_connections`.
pub(crate) const MAX_CONNECTIONS: u32 = 5;
/// Waiting for a database is short and said plainly (issue 12): the server limits queries per
/// connection below the pool size, so a long wait here means the database is not answering,
/// and the server then fails that connection's queries fast for a few seconds.
pub(crate) const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Listings have no user-given limit; this keeps a hung server from hanging the dialog.
const LISTING_TIMEOUT: Duration = Duration::from_secs(30);
/// The client-side deadline trails the server's so that the server's clearer error wins.
const DEADLINE_GRACE: Duration = Duration::from_secs(1);
/// How often a query whose next row is not ready yet checks that its client is still there.
const CANCEL_POLL: Duration = Duration::from_millis(200);

pub(crate) fn pool_options<DB: Database>() -> PoolOptions<DB> {
    PoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .min_connections(0)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .idle_timeout(IDLE_TIMEOUT)
        .test_before_acquire(true)
}

/// The first, direct connection, bound by `CONNECT_TIMEOUT`; `where_` names the server.
pub(crate) async fn connect_once<O: sqlx::ConnectOptions>(
    options: &O,
    where_: &str,
) -> Result<std::result::Result<O::Connection, sqlx::Error>>
where
    O::Connection: Sized,
{
    tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await.map_err(|_| {
        ConnectorError::new(
            ErrorKind::Unreachable,
            format!("no answer from {where_} within {} s", CONNECT_TIMEOUT.as_secs()),
        )
    })
}

/// The options a connection to `DB` is opened with.
pub(crate) type OptionsOf<DB> = <<DB as Database>::Connection as sqlx::Connection>::Options;

/// How an engine turns a driver error into ours.
pub(crate) type MapError<S> = fn(sqlx::Error, &ErrorContext<'_, S>) -> ConnectorError;

/// One saved connection's server: its settings, the pool, the options for the separate
/// connections that stop abandoned queries, and the secret values to scrub from messages.
pub(crate) struct Server<DB: Database, S> {
    pub(crate) settings: S,
    pool: Pool<DB>,
    pub(crate) options: Arc<OptionsOf<DB>>,
    pub(crate) secrets: Arc<[String]>,
    map_error: MapError<S>,
}

impl<DB: Database, S> Server<DB, S>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    /// Connects once directly, so a wrong password or an unreachable host is reported as such
    /// (the pool would retry a refused connection until its timeout and say only "timed out").
    /// That first connection is handed back for the engine to ask what it needs to know about
    /// the server; later ones come from the pool. `where_` names the server in messages.
    pub(crate) async fn connect(
        settings: S,
        secrets: &Secrets,
        options: OptionsOf<DB>,
        where_: &str,
        map_error: MapError<S>,
    ) -> Result<(Self, DB::Connection)> {
        let secrets: Arc<[String]> = secrets.values().map(str::to_string).collect();
        let ctx = ErrorContext { secrets: &secrets, timeout: None, settings: &settings };
        let conn = connect_once(&options, where_).await?.map_err(|e| map_error(e, &ctx))?;
        let pool = pool_options().connect_lazy_with(options.clone());
        Ok((Self { settings, pool, options: Arc::new(options), secrets, map_error }, conn))
    }

    /// The engine's error for `error`; `timeout` is the query's limit when the error may be the
    /// server enforcing it.
    pub(crate) fn error(&self, error: sqlx::Error, timeout: Option<Duration>) -> ConnectorError {
        let ctx = ErrorContext { secrets: &self.secrets, timeout, settings: &self.settings };
        (self.map_error)(error, &ctx)
    }

    pub(crate) async fn acquire(&self) -> Result<PoolConnection<DB>> {
        self.pool.acquire().await.map_err(|e| self.error(e, None))
    }

    /// Runs a fixed catalog query and returns its rows as text (`text` reads one value), bound
    /// by the listing timeout.
    pub(crate) async fn catalog(
        &self,
        sql: &'static str,
        binds: &[Option<&str>],
        text: impl Fn(&DB::Row, usize) -> Result<String>,
    ) -> Result<Vec<Vec<String>>>
    where
        Option<String>: for<'t> Encode<'t, DB> + Type<DB>,
        DB::Arguments: IntoArguments<DB>,
    {
        let work = async {
            let mut conn = self.acquire().await?;
            let mut query = sqlx::query::<DB>(sql);
            for bind in binds {
                query = query.bind(bind.map(str::to_string));
            }
            let rows = query.fetch_all(&mut *conn).await.map_err(|e| self.error(e, None))?;
            rows.iter().map(|row| (0..row.len()).map(|i| text(row, i)).collect::<Result<Vec<_>>>()).collect()
        };
        within_listing_timeout(work).await
    }
}

/// The first value of a catalog answer, such as a version.
pub(crate) fn first_value(rows: Vec<Vec<String>>) -> Option<String> {
    rows.into_iter().next().and_then(|row| row.into_iter().next())
}

pub(crate) async fn within_listing_timeout<T>(work: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::time::timeout(LISTING_TIMEOUT, work).await.map_err(|_| ConnectorError::timeout(LISTING_TIMEOUT))?
}

/// Runs a user query under the client-side deadline. Dropping `run` on expiry drops its
/// `Running` guard, which stops the query on the server.
pub(crate) async fn within_deadline(timeout: Duration, run: impl Future<Output = Result<()>>) -> Result<()> {
    match tokio::time::timeout(timeout.saturating_add(DEADLINE_GRACE), run).await {
        Ok(result) => result,
        Err(_) => Err(ConnectorError::timeout(timeout)),
    }
}

/// Refuses a statement whose parameter count (however the driver reports it) differs from the
/// number of values given.
pub(crate) fn check_parameter_count(
    parameters: Option<sqlx::Either<&[impl Sized], usize>>,
    given: usize,
) -> Result<()> {
    let expected = match parameters {
        Some(sqlx::Either::Left(types)) => types.len(),
        Some(sqlx::Either::Right(count)) => count,
        None => 0,
    };
    if expected != given {
        return Err(ConnectorError::invalid(format!(
            "the query has {expected} parameter(s) but {given} value(s) were given"
        )));
    }
    Ok(())
}

type StopQuery = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A pooled connection with a query in flight. Unless the query was seen through to its end,
/// dropping this stops the query on the server and closes the connection, whatever the
/// reason: an error, a full sink, a departed client or a dropped future.
pub(crate) struct Running<DB: Database> {
    pub(crate) conn: PoolConnection<DB>,
    stop: Option<StopQuery>,
    finished: bool,
}

impl<DB: Database> Running<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    pub(crate) fn new(conn: PoolConnection<DB>) -> Self {
        Self { conn, stop: None, finished: false }
    }

    /// The connection is closed when this is done with it rather than returned to the pool:
    /// the statement may have left state on its session that the next query must not inherit.
    pub(crate) fn discard_after(&mut self) {
        self.conn.close_on_drop();
    }

    /// Arms the guard once the server session is known. `stop` runs over a separate
    /// connection, which the engine must open itself: the query's own is busy. `what` finishes
    /// "could not ..." in the warning logged when stopping fails.
    pub(crate) fn stop_with<F>(&mut self, what: String, secrets: std::sync::Arc<[String]>, stop: F)
    where
        F: Future<Output = std::result::Result<(), sqlx::Error>> + Send + 'static,
    {
        self.stop = Some(Box::pin(async move {
            match tokio::time::timeout(CONNECT_TIMEOUT, stop).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(
                    "could not {what}: {}",
                    scrub(&e.to_string(), secrets.iter().map(String::as_str))
                ),
                Err(_) => tracing::warn!("could not {what}: timed out"),
            }
        }));
    }

    /// Runs the session setup, which ends by selecting `function`, the server's id for this
    /// session: what the guard needs to stop the query from elsewhere.
    pub(crate) async fn session_id<T>(
        &mut self,
        setup: String,
        function: &str,
        map_error: impl Fn(sqlx::Error) -> ConnectorError,
    ) -> Result<T>
    where
        T: for<'r> Decode<'r, DB> + Type<DB>,
        usize: ColumnIndex<DB::Row>,
    {
        let row =
            sqlx::raw_sql(AssertSqlSafe(setup)).fetch_optional(&mut *self.conn).await.map_err(&map_error)?;
        row.ok_or_else(|| ConnectorError::internal(format!("{function} returned no row")))?
            .try_get(0)
            .map_err(map_error)
    }

    /// Closes the connection without running anything more on it: nothing is in flight, but
    /// the driver can no longer be trusted to read the session's replies in step.
    pub(crate) fn close_unused(mut self) {
        self.finished = true;
        self.conn.close_on_drop();
    }

    /// Gives up on the statement before it ran: its setup is undone before `error` is reported.
    pub(crate) async fn fail<T>(&mut self, end: &str, error: ConnectorError) -> Result<T> {
        self.end(end).await;
        Err(error)
    }

    /// The statement is over: run `sql` to undo the query's session setup, then hand the
    /// connection back (or, if that fails, let `drop` close it).
    pub(crate) async fn end(&mut self, sql: &str) {
        if sqlx::raw_sql(AssertSqlSafe(sql.to_string())).execute(&mut *self.conn).await.is_ok() {
            self.finished = true;
        }
    }

    /// After the streaming loop: ends the statement when the server is done with it, then
    /// finishes the sink or returns the error.
    pub(crate) async fn conclude(mut self, outcome: Outcome, sink: ResultSink, end: &str) -> Result<()> {
        match outcome {
            Ok(complete) => {
                if complete {
                    self.end(end).await;
                }
                // Otherwise the row cap stopped us mid-result: the guard stops the rest.
                drop(self);
                sink.finish().await
            }
            Err((error, query_over)) => {
                if query_over {
                    self.end(end).await;
                }
                Err(error)
            }
        }
    }
}

impl<DB: Database> Drop for Running<DB> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        self.conn.close_on_drop();
        if let (Some(stop), Ok(runtime)) = (self.stop.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(stop);
        }
    }
}

/// Counts a value read off the wire (`Ok(None)` for NULL) against the caps, before its cell is
/// made from the same bytes. A value that cannot be read counts as empty: its own error follows.
pub(crate) fn admit_wire(
    sink: &mut ResultSink,
    index: usize,
    bytes: &std::result::Result<Option<&[u8]>, String>,
) -> Result<()> {
    sink.admit_value(index, bytes.as_ref().map_or(0, |b| b.map_or(0, <[u8]>::len)))
}

/// `Ok(true)` when every row was read, `Ok(false)` when the row cap stopped the reading; an
/// error carries whether the server is done with the statement (so that it can be ended).
pub(crate) type Outcome = std::result::Result<bool, (ConnectorError, bool)>;

/// How an engine turns its rows into cells.
pub(crate) trait RowWriter<R> {
    /// Before the row is counted against the cap: a chance to name the columns from the first row.
    fn prepare(&mut self, _row: &R, _sink: &mut ResultSink) -> Result<()> {
        Ok(())
    }

    fn write(&mut self, row: &R, sink: &mut ResultSink) -> Result<()>;
}

/// Feeds the rows into the sink until they end, the cap is reached, the client leaves or
/// something fails.
pub(crate) async fn stream_rows<S, R>(
    rows: &mut S,
    sink: &mut ResultSink,
    writer: &mut impl RowWriter<R>,
    map_error: impl Fn(sqlx::Error) -> ConnectorError,
) -> Outcome
where
    S: futures::Stream<Item = sqlx::Result<R>> + Unpin,
{
    loop {
        let row = match next_row(rows, sink).await {
            Some(Ok(Some(row))) => row,
            Some(Ok(None)) => return Ok(true),
            Some(Err(e)) => return Err((map_error(e), true)),
            None => return Err((ConnectorError::cancelled(), false)),
        };
        if let Err(e) = writer.prepare(&row, sink) {
            return Err((e, false));
        }
        if !sink.accept_row() {
            return Ok(false);
        }
        if let Err(e) = writer.write(&row, sink) {
            return Err((e, false));
        }
        if let Err(e) = sink.end_row().await {
            return Err((e, false));
        }
    }
}

/// The stream's next item, or `None` once the client has gone while the server is still
/// working on the row (a long `SLEEP`, a slow aggregate): the sink only notices departures
/// when a row is written, and this lets such queries be stopped without waiting for one.
pub(crate) async fn next_row<S, T>(rows: &mut S, sink: &ResultSink) -> Option<sqlx::Result<Option<T>>>
where
    S: futures::Stream<Item = sqlx::Result<T>> + Unpin,
{
    // Rows usually wait in the read buffer already; only a pending one pays for the timer.
    if let Some(item) = rows.try_next().now_or_never() {
        return Some(item);
    }
    unless_cancelled(sink, rows.try_next()).await
}

/// `work`'s output, or `None` once the client has gone while it waited (a statement that
/// computes long before the server answers at all, or its next row).
pub(crate) async fn unless_cancelled<F: Future>(sink: &ResultSink, work: F) -> Option<F::Output> {
    let mut work = std::pin::pin!(work);
    let mut poll = tokio::time::interval(CANCEL_POLL);
    poll.tick().await;
    loop {
        tokio::select! {
            output = &mut work => return Some(output),
            _ = poll.tick() => if sink.is_cancelled() {
                return None;
            },
        }
    }
}

/// What mapping a driver error needs besides the error itself.
pub(crate) struct ErrorContext<'a, S> {
    pub(crate) secrets: &'a [String],
    /// The query's limit, when the error may be the server enforcing it.
    pub(crate) timeout: Option<Duration>,
    pub(crate) settings: &'a S,
}

impl<S> ErrorContext<'_, S> {
    /// Servers echo statements and connection details back, so no message leaves unscrubbed.
    pub(crate) fn error(&self, kind: ErrorKind, message: &str) -> ConnectorError {
        ConnectorError::new(kind, scrub(message, self.secrets.iter().map(String::as_str)))
    }
}

/// Kind and message of the errors that are about reaching the server rather than the SQL;
/// `where_` names the server. Database errors are the engine's to classify.
pub(crate) fn describe_transport_error(error: &sqlx::Error, where_: &str) -> (ErrorKind, String) {
    match error {
        sqlx::Error::Io(e) => (ErrorKind::Unreachable, format!("cannot reach {where_}: {e}")),
        sqlx::Error::Tls(e) => (ErrorKind::Unreachable, format!("TLS with {where_} failed: {e}")),
        sqlx::Error::PoolTimedOut => (
            ErrorKind::Unreachable,
            format!(
                "no connection to {where_} became free within {} s: the server stopped answering or \
                 all {MAX_CONNECTIONS} connections are busy",
                ACQUIRE_TIMEOUT.as_secs()
            ),
        ),
        sqlx::Error::Configuration(e) => {
            (ErrorKind::InvalidInput, format!("invalid connection settings: {e}"))
        }
        sqlx::Error::Protocol(e) => (ErrorKind::Unreachable, format!("{where_} answered unexpectedly: {e}")),
        other => (ErrorKind::Internal, other.to_string()),
    }
}
