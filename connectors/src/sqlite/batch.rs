//! Rows read from SQLite into compact batches, so that stepping the statement and encoding the
//! result run on two threads at once (the machine's second core otherwise idles through a long
//! result). The SQLite thread only steps, checks each value against the caps and copies it into
//! the batch as SQLite holds it (text and blobs into one buffer per batch); the encoder thread
//! rebuilds each `ValueRef` and maps it with the one `value::to_cell`, exactly as reading it
//! directly would, so every format's bytes and every error are the same whichever thread
//! found them. Batches go back to the SQLite thread once encoded, so a long result allocates
//! nothing per row.

use super::value;
use crate::cell::{dedupe_column_names, Column, ColumnKind};
use crate::error::{ConnectorError, Result};
use crate::sink::{row_too_large, value_too_large, ResultSink};
use rusqlite::types::ValueRef;
use std::sync::mpsc;

/// Values per batch: about 1000 rows of the bench's 8 columns. Smaller batches cost more
/// hand-offs between the threads; larger ones keep more rows in memory for nothing.
const BATCH_VALUES: usize = 8 * 1024;
/// A batch is also handed on once its text and blobs take this many bytes.
const BATCH_BYTES: usize = 256 << 10;
/// Batches decoded ahead of the encoder. Two keep both threads busy; the memory is bounded by
/// this plus the ones being filled and encoded.
const BATCHES_AHEAD: usize = 2;

/// One value as SQLite holds it (a `ValueRef` without the borrow); text and blobs are ranges of
/// the batch's buffer.
#[derive(Debug, Clone, Copy)]
enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(usize, usize),
    Blob(usize, usize),
}

/// Rows of values, row after row.
#[derive(Default)]
pub(super) struct Batch {
    values: Vec<Value>,
    bytes: Vec<u8>,
    rows: usize,
}

impl Batch {
    fn clear(&mut self) {
        self.values.clear();
        self.bytes.clear();
        self.rows = 0;
    }

    fn is_full(&self) -> bool {
        self.values.len() >= BATCH_VALUES || self.bytes.len() >= BATCH_BYTES
    }

    fn raw(&self, value: Value) -> ValueRef<'_> {
        // The ranges are those this batch pushed; `get` only guards against a bug here.
        match value {
            Value::Null => ValueRef::Null,
            Value::Integer(v) => ValueRef::Integer(v),
            Value::Real(v) => ValueRef::Real(v),
            Value::Text(start, end) => ValueRef::Text(self.bytes.get(start..end).unwrap_or_default()),
            Value::Blob(start, end) => ValueRef::Blob(self.bytes.get(start..end).unwrap_or_default()),
        }
    }

    /// Writes the batch's rows to the sink; fails as `end_row_blocking` does (the client has
    /// gone, or a value does not fit the format), or on text that is not UTF-8.
    pub(super) fn encode(&self, sink: &mut ResultSink, columns: &Columns<'_>) -> Result<()> {
        let width = columns.hints.len();
        for row in 0..self.rows {
            if !sink.accept_row() {
                // The reader stops at the row cap, so this does not happen; if it did, the
                // sink has marked the result truncated.
                break;
            }
            let values = self.values.get(row * width..(row + 1) * width).unwrap_or_default();
            for ((&value, hint), declared) in values.iter().zip(columns.hints).zip(columns.declared) {
                let raw = self.raw(value);
                let cell =
                    value::to_cell(raw, *hint).map_err(|why| super::unreadable(declared, raw, &why))?;
                sink.cell(&cell);
            }
            sink.end_row_blocking()?;
        }
        Ok(())
    }
}

/// What the encoder needs of the statement's columns: their declared types and kinds.
#[derive(Clone, Copy)]
pub(super) struct Columns<'a> {
    pub(super) declared: &'a [(String, Option<String>)],
    pub(super) hints: &'a [ColumnKind],
}

/// Where the reader stopped.
pub(super) enum Filled {
    /// The batch is full; more rows may follow.
    Full,
    /// The statement has no more rows (or the row cap was reached: `Reader::truncated`).
    Done,
}

/// Reads rows into batches on the SQLite thread: the caps per value and per row, the row cap,
/// and the result's columns from its first row.
pub(super) struct Reader<'a> {
    declared: &'a [(String, Option<String>)],
    hints: &'a [ColumnKind],
    /// The result's columns, known at the first row (an expression's type is its first value's).
    pub(super) columns: Option<Vec<Column>>,
    /// Output names (de-duplicated as the sink does) for the caps' errors.
    names: Vec<String>,
    limit: u64,
    max_value: usize,
    max_row: usize,
    rows: u64,
    /// A row beyond the row cap exists.
    pub(super) truncated: bool,
}

impl<'a> Reader<'a> {
    pub(super) fn new(
        declared: &'a [(String, Option<String>)],
        hints: &'a [ColumnKind],
        sink: &ResultSink,
    ) -> Self {
        Self {
            declared,
            hints,
            columns: None,
            names: Vec::new(),
            limit: sink.row_limit(),
            max_value: sink.max_value_bytes(),
            max_row: sink.max_row_bytes(),
            rows: 0,
            truncated: false,
        }
    }

    /// Steps the statement until the batch is full or the rows end. On an error the batch
    /// keeps the whole rows read before it (`step_error` maps SQLite's errors).
    pub(super) fn fill(
        &mut self,
        rows: &mut rusqlite::Rows<'_>,
        batch: &mut Batch,
        step_error: &dyn Fn(rusqlite::Error) -> ConnectorError,
    ) -> Result<Filled> {
        while !batch.is_full() {
            let Some(row) = rows.next().map_err(step_error)? else { return Ok(Filled::Done) };
            if self.columns.is_none() {
                let columns = value::columns_from(self.declared, self.hints, Some(row));
                let mut named = columns.clone();
                dedupe_column_names(&mut named);
                self.names = named.into_iter().map(|c| c.name).collect();
                self.columns = Some(columns);
            }
            if self.rows >= self.limit {
                self.truncated = true;
                return Ok(Filled::Done);
            }
            let start = batch.values.len();
            if let Err(e) = self.read_row(row, batch) {
                batch.values.truncate(start);
                return Err(e);
            }
            batch.rows += 1;
            self.rows += 1;
        }
        Ok(Filled::Full)
    }

    fn read_row(&self, row: &rusqlite::Row<'_>, batch: &mut Batch) -> Result<()> {
        let mut row_bytes = 0usize;
        for i in 0..self.hints.len() {
            let raw = row.get_ref(i).map_err(|e| super::error::map_error(e, None))?;
            let size = value::size(raw);
            row_bytes = row_bytes.saturating_add(size);
            if size > self.max_value {
                return Err(value_too_large(self.name(i), size, self.max_value));
            }
            if row_bytes > self.max_row {
                let which = format!("row {}", self.rows + 1);
                return Err(row_too_large(&which, self.max_row, Some(self.name(i))));
            }
            let value = match raw {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(v) => Value::Integer(v),
                ValueRef::Real(v) => Value::Real(v),
                ValueRef::Text(bytes) => {
                    let start = batch.bytes.len();
                    batch.bytes.extend_from_slice(bytes);
                    Value::Text(start, batch.bytes.len())
                }
                ValueRef::Blob(bytes) => {
                    let start = batch.bytes.len();
                    batch.bytes.extend_from_slice(bytes);
                    Value::Blob(start, batch.bytes.len())
                }
            };
            batch.values.push(value);
        }
        Ok(())
    }

    fn name(&self, index: usize) -> &str {
        self.names.get(index).map_or("?", String::as_str)
    }
}

/// Encodes batches sent by the SQLite thread until the channel closes, handing each one back
/// for reuse. Stops at the first error (the client has gone, a value the format cannot hold);
/// dropping the receiver then stops the SQLite thread at its next batch.
pub(super) fn encode_batches(
    sink: &mut ResultSink,
    columns: Columns<'_>,
    batches: mpsc::Receiver<Batch>,
    spent: mpsc::Sender<Batch>,
) -> Result<()> {
    for mut batch in batches {
        batch.encode(sink, &columns)?;
        batch.clear();
        // The SQLite thread may have finished already; the batch is then simply freed.
        let _ = spent.send(batch);
    }
    Ok(())
}

/// The channel to an encoder thread: batches go out, encoded ones come back.
pub(super) struct Pipe {
    pub(super) to_encoder: mpsc::SyncSender<Batch>,
    pub(super) spent: mpsc::Receiver<Batch>,
}

/// A pipe and the encoder's ends of it.
pub(super) fn pipe() -> (Pipe, mpsc::Receiver<Batch>, mpsc::Sender<Batch>) {
    let (to_encoder, batches) = mpsc::sync_channel(BATCHES_AHEAD);
    let (give_back, spent) = mpsc::channel();
    (Pipe { to_encoder, spent }, batches, give_back)
}

impl Pipe {
    /// An empty batch: one the encoder is done with, else a new one.
    pub(super) fn empty(&self) -> Batch {
        self.spent.try_recv().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_back_as_sqlite_held_them() {
        let mut batch = Batch::default();
        batch.bytes.extend_from_slice("é".as_bytes());
        batch.bytes.extend_from_slice(&[0, 255]);
        assert_eq!(batch.raw(Value::Text(0, 2)), ValueRef::Text("é".as_bytes()));
        assert_eq!(batch.raw(Value::Blob(2, 4)), ValueRef::Blob(&[0, 255]));
        assert_eq!(batch.raw(Value::Integer(7)), ValueRef::Integer(7));
        assert_eq!(batch.raw(Value::Real(1.5)), ValueRef::Real(1.5));
        assert_eq!(batch.raw(Value::Null), ValueRef::Null);
    }
}
