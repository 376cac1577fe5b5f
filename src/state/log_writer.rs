//! The query log's writer: entries go into a channel and one thread commits them in batches on
//! its own connection, so a burst of queries costs one transaction per batch instead of one
//! write each, and no request waits for the log. Reads flush first, so a client that ran a
//! query sees its entry; dropping the writer (shutdown) drains the channel before it returns.

use super::LogEntry;
use crate::error::{Error, Result};
use rusqlite::{params, Connection};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

/// Entries committed in one transaction at most; a bigger backlog takes several.
const MAX_BATCH: usize = 2048;
/// How long entries gather before a batch is written: a reader waits at most this long more.
const BATCH_WINDOW: Duration = Duration::from_millis(10);
/// How long a reader waits for the writer to catch up before reading what is there.
const FLUSH_WAIT: Duration = Duration::from_secs(5);
/// How long another writer of the state database may hold it before a batch gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

enum Message {
    Entry(LogEntry, u64),
    Flush(SyncSender<()>),
}

pub(super) struct LogWriter {
    sender: Mutex<Option<Sender<Message>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl LogWriter {
    pub(super) fn start(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)
            .map_err(|e| Error::State(format!("cannot open {} for the query log: {e}", path.display())))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.execute_batch("PRAGMA synchronous = NORMAL;")?;
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("query-log".into())
            .spawn(move || write_batches(conn, receiver))
            .map_err(|e| Error::State(format!("cannot start the query log writer: {e}")))?;
        Ok(Self { sender: Mutex::new(Some(sender)), thread: Mutex::new(Some(thread)) })
    }

    pub(super) fn append(&self, entry: LogEntry, keep: u64) {
        let sent = self.sender().is_some_and(|s| s.send(Message::Entry(entry, keep)).is_ok());
        if !sent {
            tracing::warn!("the query log writer has stopped; an entry was not written");
        }
    }

    /// Returns once every entry appended before the call is committed (or after `FLUSH_WAIT`).
    pub(super) fn flush(&self) {
        let Some(sender) = self.sender() else { return };
        let (done, wait) = mpsc::sync_channel(1);
        if sender.send(Message::Flush(done)).is_ok() {
            let _ = wait.recv_timeout(FLUSH_WAIT);
        }
    }

    /// Stops the writer after it has committed everything queued; later entries are dropped.
    pub(super) fn close(&self) {
        if let Ok(mut sender) = self.sender.lock() {
            sender.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            if thread.join().is_err() {
                tracing::warn!("the query log writer panicked");
            }
        }
    }

    fn sender(&self) -> Option<Sender<Message>> {
        self.sender.lock().ok().and_then(|s| s.clone())
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        self.close();
    }
}

fn write_batches(mut conn: Connection, receiver: Receiver<Message>) {
    // Blocks for the first message; after an entry, lets more gather for `BATCH_WINDOW` before
    // taking them all. Sleeping rather than waiting on the channel spares a thread wake-up per
    // entry, which under a burst costs more than the writes.
    while let Ok(first) = receiver.recv() {
        if matches!(first, Message::Entry(..)) {
            std::thread::sleep(BATCH_WINDOW);
        }
        let mut entries = Vec::new();
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                Message::Entry(entry, keep) => entries.push((entry, keep)),
                Message::Flush(done) => flushes.push(done),
            }
            next = if entries.len() < MAX_BATCH { receiver.try_recv().ok() } else { None };
        }
        if !entries.is_empty() {
            if let Err(e) = commit(&mut conn, &entries) {
                tracing::warn!("could not write {} query log entries: {e}", entries.len());
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Appends the batch and trims the log to its newest `keep` entries, in one transaction.
fn commit(conn: &mut Connection, entries: &[(LogEntry, u64)]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    let mut keep = u64::MAX;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO query_log (at, source, connection, sql, rows, duration_ms, outcome, error) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for (entry, entry_keep) in entries {
            insert.execute(params![
                entry.at,
                entry.source,
                entry.connection,
                entry.sql,
                entry.rows as i64,
                entry.duration_ms,
                entry.outcome,
                entry.error
            ])?;
            keep = keep.min(*entry_keep);
        }
    }
    let last = tx.last_insert_rowid();
    let keep = i64::try_from(keep).unwrap_or(i64::MAX);
    tx.execute("DELETE FROM query_log WHERE id <= ?1", [last.saturating_sub(keep)])?;
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::super::{now, StateDb};
    use super::LogEntry;

    fn entry(i: usize) -> LogEntry {
        LogEntry {
            id: 0,
            at: now(),
            source: "api".into(),
            connection: "c".into(),
            sql: format!("select {i}"),
            rows: 1,
            duration_ms: 0.1,
            outcome: "ok".into(),
            error: None,
        }
    }

    #[test]
    fn readers_see_every_entry_and_the_log_keeps_its_newest() {
        let dir = tempfile::tempdir().unwrap();
        let db = StateDb::open(&dir.path().join("state.db")).unwrap();
        std::thread::scope(|scope| {
            for t in 0..4 {
                let db = &db;
                scope.spawn(move || {
                    for i in 0..1000 {
                        db.append_log(&entry(t * 1000 + i), 1500).unwrap();
                    }
                });
            }
        });
        let all = db.recent_log(10_000).unwrap();
        assert_eq!(all.len(), 1500, "trimmed to the newest 1500");
        assert_eq!(all[0].id, 4000, "every entry was written");
    }

    #[test]
    fn closing_commits_what_is_queued() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let db = StateDb::open(&path).unwrap();
        for i in 0..3000 {
            db.append_log(&entry(i), 10_000).unwrap();
        }
        drop(db);
        let reopened = StateDb::open(&path).unwrap();
        let all = reopened.recent_log(10_000).unwrap();
        assert_eq!(all.len(), 3000);
        assert_eq!(all[0].sql, "select 2999");
    }
}
