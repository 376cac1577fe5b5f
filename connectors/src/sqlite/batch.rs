//! Rows read from SQLite into compact batches, so that stepping the statement and encoding the
//! result run on two threads at once (the machine's second core otherwise idles through a long
//! result). The SQLite thread only steps, checks each value against the caps and copies it into
//! the batch as SQLite holds it (text and blobs into one buffer per batch); the encoder thread
//! rebuilds each `ValueRef` and maps it with the one `value::to_cell`, exactly as reading it
//! directly would, so every format's bytes and every error are the same whichever thread
//! found them. Batches go back to the SQLite thread once encoded, so a long result allocates
//! nothing per row. The sink takes each batch as a block (`sink::RowBlock`), which Arrow
//! appends a column at a time.

use super::cursor::Cursor;
use super::value;
use crate::cell::{dedupe_column_names, Cell, Column, ColumnKind};
use crate::error::{ConnectorError, Result};
use crate::sink::{row_too_large, value_too_large, ResultSink, RowBlock};
use rusqlite::types::ValueRef;
use std::sync::mpsc;
use std::time::Duration;

/// Values per batch: about 1000 rows of the bench's 8 columns. Smaller batches cost more
/// hand-offs between the threads; larger ones keep more rows in memory for nothing.
const BATCH_VALUES: usize = 8 * 1024;
/// A batch is also handed on once its text and blobs take this many bytes.
const BATCH_BYTES: usize = 256 << 10;
/// Batches decoded ahead of the encoder. Two keep both threads busy; the memory is bounded by
/// this plus the ones being filled and encoded.
const BATCHES_AHEAD: usize = 2;

/// A value's storage class. A batch keeps it in a byte of its own beside an 8-byte payload
/// (`Batch`): 9 bytes a value where an enum of the two took 24. One core writes a batch and the
/// other reads it, so each of those bytes crosses between them: with the enum, `perf` put a
/// third of `Reader::fill`'s samples on the stores into the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Class {
    Null,
    Integer,
    Real,
    Text,
    Blob,
}

/// Rows of values, row after row.
#[derive(Default)]
pub(super) struct Batch {
    classes: Vec<Class>,
    /// Per value: an integer's bits, a real's bits (`f64::to_bits`), or where a text or blob
    /// lies in `bytes` (`span`); 0 for NULL.
    payloads: Vec<u64>,
    bytes: Vec<u8>,
    rows: usize,
}

/// `start..end` of a text or blob in a batch's buffer, packed into a payload. A batch is handed
/// on at 256 KiB of bytes and a row holds at most the row cap, so the buffer stays far below
/// 4 GiB unless `--max-row-bytes` is raised beyond that: such a row is refused (`push_bytes`).
fn span(payload: u64) -> std::ops::Range<usize> {
    let start = (payload & u64::from(u32::MAX)) as usize;
    let end = (payload >> 32) as usize;
    start..end
}

impl Batch {
    fn clear(&mut self) {
        self.classes.clear();
        self.payloads.clear();
        self.bytes.clear();
        self.rows = 0;
    }

    fn is_full(&self) -> bool {
        self.classes.len() >= BATCH_VALUES || self.bytes.len() >= BATCH_BYTES
    }

    fn push(&mut self, class: Class, payload: u64) {
        self.classes.push(class);
        self.payloads.push(payload);
    }

    /// Copies a text or blob into the buffer; its payload, or `None` past 4 GiB (see `span`).
    fn push_bytes(&mut self, value: &[u8]) -> Option<u64> {
        let start = u32::try_from(self.bytes.len()).ok()?;
        let end = u32::try_from(self.bytes.len().checked_add(value.len())?).ok()?;
        self.bytes.extend_from_slice(value);
        Some(u64::from(start) | (u64::from(end) << 32))
    }

    /// Drops the values from `len` on (a row that failed half-way).
    fn truncate(&mut self, len: usize) {
        self.classes.truncate(len);
        self.payloads.truncate(len);
    }

    /// The class and payload of the value at `index`.
    #[inline(always)]
    fn at(&self, index: usize) -> Option<(Class, u64)> {
        Some((*self.classes.get(index)?, *self.payloads.get(index)?))
    }

    /// A value as SQLite held it.
    #[inline(always)]
    fn raw(&self, class: Class, payload: u64) -> ValueRef<'_> {
        // The spans are those this batch pushed; `get` only guards against a bug here.
        match class {
            Class::Null => ValueRef::Null,
            Class::Integer => ValueRef::Integer(payload as i64),
            Class::Real => ValueRef::Real(f64::from_bits(payload)),
            Class::Text => ValueRef::Text(self.bytes.get(span(payload)).unwrap_or_default()),
            Class::Blob => ValueRef::Blob(self.bytes.get(span(payload)).unwrap_or_default()),
        }
    }

    /// Writes the batch's rows to the sink; fails as `end_row_blocking` does (the client has
    /// gone, or a value does not fit the format), or on text that is not UTF-8.
    pub(super) fn encode(&self, sink: &mut ResultSink, columns: &Columns<'_>) -> Result<()> {
        // One check of the whole buffer (text and blobs) instead of one per value; where a blob
        // or a text is not UTF-8, each text is checked by itself.
        let text = std::str::from_utf8(&self.bytes).ok();
        // The reader stops at the row cap, so the sink takes every row.
        sink.write_block_blocking(&Block { batch: self, columns, text })
    }
}

/// A batch with its columns, as the sink reads it.
struct Block<'a> {
    batch: &'a Batch,
    columns: &'a Columns<'a>,
    /// The batch's bytes, when all of them are UTF-8.
    text: Option<&'a str>,
}

impl RowBlock for Block<'_> {
    fn rows(&self) -> usize {
        self.batch.rows
    }

    fn width(&self) -> usize {
        self.columns.hints.len()
    }

    // Inlined into the sink's loops: called apart, its result came back through memory and
    // the caller's wide load of it waited on the callee's narrower stores (perf: most of the
    // encoder's time on that one load; 1M JSON rows took 55 ms longer than row by row).
    #[inline(always)]
    fn cell(&self, row: usize, column: usize) -> Result<Cell<'_>> {
        let width = self.columns.hints.len();
        let (Some((class, payload)), Some(&hint)) =
            (self.batch.at(row * width + column), self.columns.hints.get(column))
        else {
            return Err(outside_the_batch());
        };
        let raw = self.batch.raw(class, payload);
        let checked = match class {
            Class::Text => self.text.and_then(|text| text.get(span(payload))),
            _ => None,
        };
        value::to_cell(raw, hint, checked).map_err(|why| self.unreadable(column, raw, &why))
    }
}

impl Block<'_> {
    #[cold]
    fn unreadable(&self, column: usize, raw: ValueRef<'_>, why: &str) -> ConnectorError {
        match self.columns.declared.get(column) {
            Some(declared) => super::unreadable(declared, raw, why),
            None => outside_the_batch(),
        }
    }
}

#[cold]
fn outside_the_batch() -> ConnectorError {
    ConnectorError::internal("a value outside the SQLite batch")
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
        rows: &mut Cursor<'_>,
        batch: &mut Batch,
        step_error: &dyn Fn(rusqlite::Error) -> ConnectorError,
    ) -> Result<Filled> {
        while !batch.is_full() {
            if !rows.step().map_err(step_error)? {
                return Ok(Filled::Done);
            }
            let row = &*rows;
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
            let start = batch.classes.len();
            if let Err(e) = self.read_row(row, batch) {
                batch.truncate(start);
                return Err(e);
            }
            batch.rows += 1;
            self.rows += 1;
        }
        Ok(Filled::Full)
    }

    fn read_row(&self, row: &Cursor<'_>, batch: &mut Batch) -> Result<()> {
        let mut row_bytes = 0usize;
        for i in 0..self.hints.len() {
            let raw = row.value(i).map_err(|e| super::error::map_error(e, None))?;
            let size = value::size(raw);
            row_bytes = row_bytes.saturating_add(size);
            if size > self.max_value {
                return Err(value_too_large(self.name(i), size, self.max_value));
            }
            if row_bytes > self.max_row {
                let which = format!("row {}", self.rows + 1);
                return Err(row_too_large(&which, self.max_row, Some(self.name(i))));
            }
            let (class, payload) = match raw {
                ValueRef::Null => (Class::Null, 0),
                ValueRef::Integer(v) => (Class::Integer, v as u64),
                ValueRef::Real(v) => (Class::Real, v.to_bits()),
                ValueRef::Text(bytes) => {
                    (Class::Text, batch.push_bytes(bytes).ok_or_else(|| self.too_long(i))?)
                }
                ValueRef::Blob(bytes) => {
                    (Class::Blob, batch.push_bytes(bytes).ok_or_else(|| self.too_long(i))?)
                }
            };
            batch.push(class, payload);
        }
        Ok(())
    }

    /// A row whose values pass 4 GiB in one batch (only possible with the row cap raised that
    /// far: see `span`).
    #[cold]
    fn too_long(&self, column: usize) -> ConnectorError {
        row_too_large(&format!("row {}", self.rows + 1), u32::MAX as usize, Some(self.name(column)))
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
    let mut idle = Backoff::new();
    loop {
        match batches.try_recv() {
            Ok(mut batch) => {
                idle.reset();
                batch.encode(sink, &columns)?;
                batch.clear();
                // The SQLite thread may have finished already; the batch is then simply freed.
                let _ = spent.send(batch);
            }
            Err(mpsc::TryRecvError::Empty) => idle.wait(),
            Err(mpsc::TryRecvError::Disconnected) => return Ok(()),
        }
    }
}

/// How long a side of the pipe sleeps while the other has nothing for it (or no room),
/// doubling while it waits on. Neither side ever blocks in the channel, so neither has to wake
/// the other: waking a thread parked on the other vCPU cost the SQLite thread, which bounds a
/// long result, 15-30 µs a batch on these VMs (its own reading of the 1M bench rows: 161 ms
/// alone, 185-194 ms handing batches to a blocked encoder, 166-178 ms to a sleeping one).
struct Backoff(Duration);

impl Backoff {
    /// About the time the SQLite thread takes to fill a batch, so a sleeping side is back
    /// before the next batch waits long.
    const FIRST: Duration = Duration::from_micros(50);
    /// A slow statement (a batch every few seconds) costs a sleeping encoder 1,000 wake-ups a
    /// second at most, and its rows at most this much more time.
    const LONGEST: Duration = Duration::from_millis(1);

    fn new() -> Self {
        Self(Self::FIRST)
    }

    fn wait(&mut self) {
        std::thread::sleep(self.0);
        self.0 = (self.0 * 2).min(Self::LONGEST);
    }

    fn reset(&mut self) {
        self.0 = Self::FIRST;
    }
}

/// The channel to an encoder thread: batches go out, encoded ones come back.
pub(super) struct Pipe {
    to_encoder: mpsc::SyncSender<Batch>,
    spent: mpsc::Receiver<Batch>,
}

/// A pipe and the encoder's ends of it.
pub(super) fn pipe() -> (Pipe, mpsc::Receiver<Batch>, mpsc::Sender<Batch>) {
    let (to_encoder, batches) = mpsc::sync_channel(BATCHES_AHEAD);
    let (give_back, spent) = mpsc::channel();
    (Pipe { to_encoder, spent }, batches, give_back)
}

impl Pipe {
    /// Hands a batch to the encoder, waiting while `BATCHES_AHEAD` wait already; `false` once
    /// the encoder has stopped.
    pub(super) fn send(&self, mut batch: Batch) -> bool {
        let mut full = Backoff::new();
        loop {
            match self.to_encoder.try_send(batch) {
                Ok(()) => return true,
                Err(mpsc::TrySendError::Full(back)) => {
                    batch = back;
                    full.wait();
                }
                Err(mpsc::TrySendError::Disconnected(_)) => return false,
            }
        }
    }

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
        let text = batch.push_bytes("é".as_bytes()).unwrap();
        let blob = batch.push_bytes(&[0, 255]).unwrap();
        batch.push(Class::Text, text);
        batch.push(Class::Blob, blob);
        batch.push(Class::Integer, -7i64 as u64);
        batch.push(Class::Real, (-1.5f64).to_bits());
        batch.push(Class::Null, 0);
        let values: Vec<_> = (0..6).map(|i| batch.at(i).map(|(class, p)| batch.raw(class, p))).collect();
        assert_eq!(
            values,
            [
                Some(ValueRef::Text("é".as_bytes())),
                Some(ValueRef::Blob(&[0, 255])),
                Some(ValueRef::Integer(-7)),
                Some(ValueRef::Real(-1.5)),
                Some(ValueRef::Null),
                None
            ]
        );
    }

    #[test]
    fn a_text_is_checked_by_itself_where_the_buffer_is_utf8_only_with_its_neighbour() {
        let mut batch = Batch::default();
        // A blob ending in the first byte of "é", a text of its second byte: together they are
        // UTF-8, the text alone is not. Then a text that is.
        let blob = batch.push_bytes(&[0xc3]).unwrap();
        let half = batch.push_bytes(&[0xa9]).unwrap();
        let whole = batch.push_bytes("é".as_bytes()).unwrap();
        batch.push(Class::Blob, blob);
        batch.push(Class::Text, half);
        batch.push(Class::Null, 0);
        batch.push(Class::Text, whole);
        batch.rows = 2;
        let declared =
            vec![("b".to_string(), Some("BLOB".to_string())), ("t".to_string(), Some("TEXT".to_string()))];
        let hints = [ColumnKind::Binary, ColumnKind::Text];
        let columns = Columns { declared: &declared, hints: &hints };
        let text = std::str::from_utf8(&batch.bytes).ok();
        assert!(text.is_some());
        let block = Block { batch: &batch, columns: &columns, text };
        assert_eq!(block.cell(0, 0).unwrap(), Cell::Bytes(vec![0xc3].into()));
        let error = block.cell(0, 1).unwrap_err();
        assert!(error.message().contains("column \"t\" (TEXT): not UTF-8"), "{error}");
        assert_eq!(block.cell(1, 1).unwrap(), Cell::Text("é".into()));
        assert!(block.cell(2, 0).is_err(), "a row the batch does not have");
    }
}
