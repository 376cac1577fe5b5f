//! Where an engine's rows go. The sink encodes rows as they come and hands bytes to the HTTP
//! layer over a bounded channel, so memory stays flat whatever the row count, and a client that
//! goes away stops the engine at its next row.
//!
//! The first `window` bytes are held back (as chunks, so every buffer has the same size and the
//! allocator reuses it; one large buffer per query left memory creeping up): a result that ends inside the window is delivered as
//! `Complete`, with its exact row count and truncation flag, so the HTTP layer can set
//! `X-Truncated` and turn an error into a proper status. Longer results start streaming with
//! `Started` and the HTTP layer settles truncation with `Engine::exceeds`.

use crate::cell::{dedupe_column_names, Cell, Column};
use crate::error::{ConnectorError, Result};
use crate::format::{Encoder, Format};
use bytes::Bytes;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Bytes held back before the response starts (see module docs).
pub const DEFAULT_WINDOW: usize = 2 << 20;
/// Size of each streamed chunk after the window.
pub const DEFAULT_CHUNK: usize = 64 << 10;
/// Chunks that may wait in the channel; with the window this bounds the engine's side of a
/// query's buffers to about 3 MiB, whatever its row count. (The HTTP side reads up to 16 MiB
/// more while the truncation probe runs, `execution::PROBE_READ_AHEAD`.) Before that read-ahead
/// the channel filled during the probe, and 64 chunks held 4 MiB for nothing (peak RSS 38-41
/// MiB over 1M MariaDB or PostgreSQL rows, 33-34 MiB with 16, at the same speed); 8 cost
/// PostgreSQL 5%.
pub const CHANNEL_CHUNKS: usize = 16;

#[derive(Debug, Clone)]
pub enum StreamEvent {
    /// The whole result fit in the window.
    Complete {
        columns: Arc<[Column]>,
        body: Vec<Bytes>,
        rows: u64,
        truncated: bool,
    },
    /// The first window of a longer result; `Chunk`s and then `Finished` follow.
    Started {
        columns: Arc<[Column]>,
        first: Vec<Bytes>,
    },
    Chunk(Bytes),
    Finished {
        rows: u64,
        truncated: bool,
    },
}

/// The largest value (in bytes, as the database sent it) a query may return: one value could
/// otherwise take gigabytes of memory (`SELECT zeroblob(900000000)`).
pub const DEFAULT_MAX_VALUE_BYTES: usize = 64 << 20;
/// The largest row, all its values together.
pub const DEFAULT_MAX_ROW_BYTES: usize = 128 << 20;

#[derive(Debug, Clone, Copy)]
pub struct SinkOptions {
    pub format: Format,
    /// Rows beyond this are not sent; the result is then marked truncated.
    pub limit: u64,
    pub window: usize,
    pub chunk: usize,
    /// A bigger value fails the query (`ResultSink::admit_value`).
    pub max_value_bytes: usize,
    /// A bigger row fails the query.
    pub max_row_bytes: usize,
}

impl SinkOptions {
    pub fn new(format: Format, limit: u64) -> Self {
        Self {
            format,
            limit,
            window: DEFAULT_WINDOW,
            chunk: DEFAULT_CHUNK,
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            max_row_bytes: DEFAULT_MAX_ROW_BYTES,
        }
    }

    /// The same options with other memory caps (the server's `--max-value-bytes` and
    /// `--max-row-bytes`).
    pub fn with_caps(self, max_value_bytes: usize, max_row_bytes: usize) -> Self {
        Self { max_value_bytes, max_row_bytes, ..self }
    }
}

/// The caps' error for a value of `len` bytes in column `name`.
pub(crate) fn value_too_large(name: &str, len: usize, cap: usize) -> ConnectorError {
    ConnectorError::too_large(format!(
        "column \"{name}\" holds a value of {len} bytes, more than the limit of {cap} bytes per value \
         (the server's --max-value-bytes); select a part of it (e.g. substr) instead"
    ))
}

/// The caps' error for a row (`which`: "row 3", "a row") over the row cap, reached at `column`.
pub(crate) fn row_too_large(which: &str, cap: usize, column: Option<&str>) -> ConnectorError {
    let at = column.map(|c| format!(", reached at column \"{c}\"")).unwrap_or_default();
    ConnectorError::too_large(format!(
        "{which} is larger than the limit of {cap} bytes per row (the server's --max-row-bytes){at}; \
         select fewer or shorter columns"
    ))
}

/// Rows an engine has read ahead of the sink (SQLite's batches), which the sink may take a
/// column at a time: Arrow then fills each column's builder in one loop, where row by row it
/// switched builder (and paid the sink's per-row work) at every value.
pub(crate) trait RowBlock {
    fn rows(&self) -> usize;
    fn width(&self) -> usize;
    /// The value at `row`, `column`, through the engine's one value → `Cell` mapping; `Err` is
    /// a value the engine cannot show.
    fn cell(&self, row: usize, column: usize) -> Result<Cell<'_>>;
}

/// A cheap, cloneable "has the client gone?" check for engines that poll from a callback
/// (SQLite's progress handler).
#[derive(Clone)]
pub struct CancelSignal(mpsc::Sender<StreamEvent>);

impl CancelSignal {
    pub fn is_cancelled(&self) -> bool {
        self.0.is_closed()
    }
}

pub struct ResultSink {
    tx: mpsc::Sender<StreamEvent>,
    encoder: Encoder,
    options: SinkOptions,
    buf: Vec<u8>,
    /// Full chunks held back until the window fills or the result ends.
    held: Vec<Bytes>,
    held_bytes: usize,
    columns: Option<Arc<[Column]>>,
    started: bool,
    rows: u64,
    truncated: bool,
    /// Bytes of the current row's values so far, for the row cap.
    row_bytes: usize,
    /// The rest of a buffer larger than a chunk, cut into chunk-sized views (`ready_event`).
    pieces: std::collections::VecDeque<Bytes>,
}

impl ResultSink {
    pub fn new(options: SinkOptions) -> (Self, mpsc::Receiver<StreamEvent>) {
        let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
        let sink = Self {
            tx,
            encoder: Encoder::new(options.format),
            options,
            buf: Vec::with_capacity(options.chunk + 4096),
            held: Vec::new(),
            held_bytes: 0,
            columns: None,
            started: false,
            rows: 0,
            truncated: false,
            row_bytes: 0,
            pieces: std::collections::VecDeque::new(),
        };
        (sink, rx)
    }

    pub fn cancel_signal(&self) -> CancelSignal {
        CancelSignal(self.tx.clone())
    }

    pub fn is_cancelled(&self) -> bool {
        self.tx.is_closed()
    }

    /// Declares the result's columns; must come before the first row. Repeated names are renamed.
    pub fn set_columns(&mut self, mut columns: Vec<Column>) {
        dedupe_column_names(&mut columns);
        self.encoder.begin(&columns, &mut self.buf);
        self.columns = Some(columns.into());
    }

    pub fn columns(&self) -> Option<&[Column]> {
        self.columns.as_deref()
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Call once a row has been fetched, before writing its cells. `false` means the row cap is
    /// reached: this row exists but must not be sent, so the result is marked truncated and the
    /// engine stops reading.
    pub fn accept_row(&mut self) -> bool {
        if self.rows >= self.options.limit {
            self.truncated = true;
            return false;
        }
        self.encoder.begin_row(&mut self.buf);
        self.row_bytes = 0;
        true
    }

    /// Rows beyond this are not sent (`accept_row`), for engines that read ahead of the sink.
    pub fn row_limit(&self) -> u64 {
        self.options.limit
    }

    /// The per-value cap, for engines that can make the database itself stop at it (SQLite's
    /// `SQLITE_LIMIT_LENGTH`).
    pub fn max_value_bytes(&self) -> usize {
        self.options.max_value_bytes
    }

    /// Counts a value of `len` bytes (its size as the database sent it) in column `index`
    /// against the caps, before the engine decodes it: decoding and encoding copy it again.
    /// The error names the column and says how to ask for less.
    pub fn admit_value(&mut self, index: usize, len: usize) -> Result<()> {
        self.row_bytes = self.row_bytes.saturating_add(len);
        let name = || {
            self.columns
                .as_deref()
                .and_then(|c| c.get(index))
                .map_or_else(|| format!("#{}", index + 1), |c| c.name.clone())
        };
        if len > self.options.max_value_bytes {
            return Err(value_too_large(&name(), len, self.options.max_value_bytes));
        }
        if self.row_bytes > self.options.max_row_bytes {
            let row = format!("row {}", self.rows + 1);
            return Err(row_too_large(&row, self.options.max_row_bytes, Some(&name())));
        }
        Ok(())
    }

    /// The per-row cap, for engines whose database enforces the caps itself.
    pub fn max_row_bytes(&self) -> usize {
        self.options.max_row_bytes
    }

    pub fn cell(&mut self, cell: &Cell<'_>) {
        self.encoder.cell(cell, &mut self.buf);
    }

    /// Writes a block of rows from a blocking thread. The bytes, the row cap and the error are
    /// those of `accept_row`, `cell` and `end_row_blocking` row after row (the error of the
    /// first value in row order that fails); only Arrow takes the block a column at a time.
    pub(crate) fn write_block_blocking<B: RowBlock>(&mut self, block: &B) -> Result<()> {
        if self.encoder.format() != Format::Arrow {
            for row in 0..block.rows() {
                if !self.accept_row() {
                    break;
                }
                for column in 0..block.width() {
                    let cell = block.cell(row, column)?;
                    self.cell(&cell);
                }
                self.end_row_blocking()?;
            }
            return Ok(());
        }
        let mut start = 0;
        while start < block.rows() {
            let room = self.options.limit.saturating_sub(self.rows);
            if room == 0 {
                self.truncated = true;
                break;
            }
            let end = block.rows().min(start.saturating_add(usize::try_from(room).unwrap_or(usize::MAX)));
            let taken = self.encoder.append_block(block, start..end, &mut self.buf)?;
            self.rows += taken as u64;
            start += taken;
            if self.tx.is_closed() {
                return Err(ConnectorError::cancelled());
            }
            self.send_ready_blocking()?;
        }
        Ok(())
    }

    /// Ends a row from a blocking thread; fails with `Cancelled` once the client has gone.
    pub fn end_row_blocking(&mut self) -> Result<()> {
        self.close_row()?;
        self.send_ready_blocking()
    }

    /// Sends the chunks that are ready, from a blocking thread.
    fn send_ready_blocking(&mut self) -> Result<()> {
        while let Some(event) = self.ready_event() {
            self.tx.blocking_send(event).map_err(|_| ConnectorError::cancelled())?;
        }
        Ok(())
    }

    /// Ends a row from async code; fails with `Cancelled` once the client has gone.
    pub async fn end_row(&mut self) -> Result<()> {
        self.close_row()?;
        while let Some(event) = self.ready_event() {
            self.tx.send(event).await.map_err(|_| ConnectorError::cancelled())?;
        }
        Ok(())
    }

    /// Completes the result from a blocking thread. An engine that fails simply drops the sink
    /// without finishing; the receiver then sees the channel close and asks for the error.
    pub fn finish_blocking(mut self) -> Result<()> {
        for event in self.final_events()? {
            self.tx.blocking_send(event).map_err(|_| ConnectorError::cancelled())?;
        }
        Ok(())
    }

    pub async fn finish(mut self) -> Result<()> {
        for event in self.final_events()? {
            self.tx.send(event).await.map_err(|_| ConnectorError::cancelled())?;
        }
        Ok(())
    }

    fn close_row(&mut self) -> Result<()> {
        self.encoder.end_row(&mut self.buf);
        if let Some(error) = self.encoder.take_error() {
            return Err(error);
        }
        self.rows += 1;
        // An atomic load: cheap enough per row, and it stops work the client no longer wants
        // even while the result is still inside the held-back window.
        if self.tx.is_closed() {
            return Err(ConnectorError::cancelled());
        }
        Ok(())
    }

    fn ready_event(&mut self) -> Option<StreamEvent> {
        let chunk = match self.pieces.pop_front() {
            Some(piece) => piece,
            None if self.buf.len() < self.options.chunk => return None,
            None => {
                let mut whole = self.take_buf();
                // One row can write far more than a chunk (an Arrow record batch ends with
                // it). Sent as chunk-sized views of the one buffer, it takes as many places
                // in the channel as its size says, so the channel's bound in chunks stays a
                // bound in bytes.
                let chunk = self.options.chunk.max(1);
                while whole.len() >= 2 * chunk {
                    self.pieces.push_back(whole.split_to(chunk));
                }
                match self.pieces.pop_front() {
                    Some(first) => {
                        self.pieces.push_back(whole);
                        first
                    }
                    None => whole,
                }
            }
        };
        if self.started {
            return Some(StreamEvent::Chunk(chunk));
        }
        self.held_bytes += chunk.len();
        self.held.push(chunk);
        if self.held_bytes < self.options.window {
            return None;
        }
        self.started = true;
        let columns = self.columns.clone().unwrap_or_else(|| Arc::from(Vec::new()));
        Some(StreamEvent::Started { columns, first: std::mem::take(&mut self.held) })
    }

    fn take_buf(&mut self) -> Bytes {
        let capacity = self.options.chunk + 4096;
        Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(capacity)))
    }

    fn final_events(&mut self) -> Result<Vec<StreamEvent>> {
        if self.columns.is_none() {
            self.set_columns(Vec::new());
        }
        self.encoder.finish(&mut self.buf);
        if let Some(error) = self.encoder.take_error() {
            return Err(error);
        }
        let (rows, truncated) = (self.rows, self.truncated);
        Ok(if self.started {
            vec![StreamEvent::Chunk(self.take_buf()), StreamEvent::Finished { rows, truncated }]
        } else {
            let columns = self.columns.clone().unwrap_or_else(|| Arc::from(Vec::new()));
            let mut body = std::mem::take(&mut self.held);
            body.push(self.take_buf());
            vec![StreamEvent::Complete { columns, body, rows, truncated }]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::ColumnKind;

    fn write_rows(sink: &mut ResultSink, n: i64) {
        for i in 0..n {
            if !sink.accept_row() {
                break;
            }
            sink.cell(&Cell::Int(i));
            sink.end_row_blocking().unwrap();
        }
    }

    /// A cell, or the error of a value the engine cannot show.
    type GridCell = std::result::Result<Cell<'static>, &'static str>;

    /// Rows of cells.
    struct Grid(Vec<Vec<GridCell>>);

    /// Cells to put in place (row, column, cell) and a part of the error they must give.
    type Case = (Vec<(usize, usize, GridCell)>, &'static str);

    impl RowBlock for Grid {
        fn rows(&self) -> usize {
            self.0.len()
        }
        fn width(&self) -> usize {
            self.0.first().map_or(0, Vec::len)
        }
        fn cell(&self, row: usize, column: usize) -> Result<Cell<'_>> {
            self.0[row][column].clone().map_err(ConnectorError::invalid)
        }
    }

    /// What the client gets for `blocks`, written as blocks or row by row: the body, the row
    /// count and the truncation flag, or the error's message.
    fn written(
        format: Format,
        limit: u64,
        blocks: &[Grid],
        as_blocks: bool,
    ) -> std::result::Result<(Vec<u8>, u64, bool), String> {
        // A window larger than any result: everything is held, nothing waits on the channel.
        let options = SinkOptions { window: usize::MAX, ..SinkOptions::new(format, limit) };
        let (mut sink, mut rx) = ResultSink::new(options);
        sink.set_columns(vec![
            Column::new("n", "INTEGER", ColumnKind::Integer),
            Column::new("x", "REAL", ColumnKind::Float),
            Column::new("t", "TEXT", ColumnKind::Text),
        ]);
        let mut write = || -> Result<()> {
            for block in blocks {
                if as_blocks {
                    sink.write_block_blocking(block)?;
                    continue;
                }
                for row in 0..block.rows() {
                    if !sink.accept_row() {
                        break;
                    }
                    for column in 0..block.width() {
                        sink.cell(&block.cell(row, column)?);
                    }
                    sink.end_row_blocking()?;
                }
            }
            Ok(())
        };
        write().map_err(|e| e.message().to_string())?;
        sink.finish_blocking().map_err(|e| e.message().to_string())?;
        match rx.blocking_recv() {
            Some(StreamEvent::Complete { body, rows, truncated, .. }) => Ok((body.concat(), rows, truncated)),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn row(i: usize) -> Vec<GridCell> {
        let x = match i % 7 {
            0 => Cell::Null,
            1 => Cell::Float(f64::NAN),
            // REAL columns hold integers too (SQLite stores 2.0 as 2).
            3 => Cell::Int(i as i64),
            _ => Cell::Float(i as f64 / 8.0),
        };
        let t = if i.is_multiple_of(5) { Cell::Null } else { Cell::Text(format!("row {i}").into()) };
        vec![Ok(Cell::Int(i as i64)), Ok(x), Ok(t)]
    }

    fn blocks(rows: usize, per_block: usize) -> Vec<Grid> {
        (0..rows)
            .collect::<Vec<_>>()
            .chunks(per_block)
            .map(|c| Grid(c.iter().map(|&i| row(i)).collect()))
            .collect()
    }

    #[test]
    fn blocks_write_the_bytes_rows_do_across_record_batches_and_the_row_cap() {
        for format in [Format::Arrow, Format::Csv, Format::Json] {
            for (rows, per_block, limit) in
                [(10_000, 1_000, u64::MAX), (10_000, 3_000, 5_000), (9, 4, 9), (0, 1, 3)]
            {
                let by_rows = written(format, limit, &blocks(rows, per_block), false).unwrap();
                let by_blocks = written(format, limit, &blocks(rows, per_block), true).unwrap();
                assert!(
                    by_rows == by_blocks,
                    "{format:?} {rows} rows in blocks of {per_block}, limit {limit}"
                );
                assert_eq!(by_blocks.1, (rows as u64).min(limit));
                assert_eq!(by_blocks.2, rows as u64 > limit);
            }
        }
    }

    #[test]
    fn a_block_fails_with_the_error_row_by_row_would_have_met_first() {
        let cases: [Case; 4] = [
            // A later row's failure does not hide an earlier one's, in any column.
            (
                vec![(5000, 0, Ok(Cell::Text("a".into()))), (4500, 1, Ok(Cell::Text("a".into())))],
                "column \"x\" (row 4501)",
            ),
            // In one row, a value that cannot be shown beats one that does not fit, wherever it is.
            (vec![(4200, 0, Ok(Cell::Text("a".into()))), (4200, 2, Err("unreadable t"))], "unreadable t"),
            // Values that do not fit: the row's first.
            (
                vec![(4200, 1, Ok(Cell::Bool(true))), (4200, 0, Ok(Cell::Bool(true)))],
                "column \"n\" (row 4201) holds a boolean",
            ),
            (vec![(7, 1, Err("unreadable x")), (7, 2, Err("unreadable t"))], "unreadable x"),
        ];
        for (bad, expected) in cases {
            let make = || {
                let mut blocks = blocks(10_000, 1_000);
                for (row, column, cell) in &bad {
                    blocks[row / 1_000].0[row % 1_000][*column] = cell.clone();
                }
                blocks
            };
            let by_rows = written(Format::Arrow, u64::MAX, &make(), false).unwrap_err();
            let by_blocks = written(Format::Arrow, u64::MAX, &make(), true).unwrap_err();
            assert_eq!(by_blocks, by_rows);
            assert!(by_blocks.contains(expected), "{by_blocks}");
        }
    }

    #[test]
    fn small_result_is_complete_with_exact_truncation() {
        let (mut sink, mut rx) = ResultSink::new(SinkOptions::new(Format::Json, 2));
        sink.set_columns(vec![Column::new("n", "INTEGER", ColumnKind::Integer)]);
        write_rows(&mut sink, 5);
        sink.finish_blocking().unwrap();
        match rx.blocking_recv().unwrap() {
            StreamEvent::Complete { body, rows, truncated, .. } => {
                assert_eq!(body.concat(), br#"[{"n":0},{"n":1}]"#);
                assert_eq!((rows, truncated), (2, true));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn large_result_streams_in_chunks_and_reassembles() {
        let options = SinkOptions { window: 100, chunk: 50, ..SinkOptions::new(Format::Ndjson, u64::MAX) };
        let (mut sink, mut rx) = ResultSink::new(options);
        sink.set_columns(vec![Column::new("n", "INTEGER", ColumnKind::Integer)]);
        let handle = std::thread::spawn(move || {
            write_rows(&mut sink, 1000);
            sink.finish_blocking().unwrap();
        });
        let mut body = Vec::new();
        let mut events = 0;
        while let Some(event) = rx.blocking_recv() {
            events += 1;
            match event {
                StreamEvent::Started { first, .. } => body.extend_from_slice(&first.concat()),
                StreamEvent::Chunk(chunk) => body.extend_from_slice(&chunk),
                StreamEvent::Finished { rows, truncated } => assert_eq!((rows, truncated), (1000, false)),
                StreamEvent::Complete { .. } => panic!("should have streamed"),
            }
        }
        handle.join().unwrap();
        assert!(events > 10);
        let expected: String = (0..1000).map(|i| format!("{{\"n\":{i}}}\n")).collect();
        assert_eq!(String::from_utf8(body).unwrap(), expected);
    }

    #[test]
    fn a_row_larger_than_a_chunk_goes_out_in_chunk_sized_pieces() {
        let options = SinkOptions { window: 10, chunk: 16, ..SinkOptions::new(Format::Csv, u64::MAX) };
        let (mut sink, mut rx) = ResultSink::new(options);
        sink.set_columns(vec![Column::new("t", "TEXT", ColumnKind::Text)]);
        let long = "x".repeat(100);
        assert!(sink.accept_row());
        sink.cell(&Cell::Text(long.as_str().into()));
        let handle = std::thread::spawn(move || {
            sink.end_row_blocking().unwrap();
            sink.finish_blocking().unwrap();
        });
        let mut body = Vec::new();
        let mut sizes = Vec::new();
        while let Some(event) = rx.blocking_recv() {
            match event {
                StreamEvent::Started { first, .. } => {
                    sizes.extend(first.iter().map(Bytes::len));
                    body.extend_from_slice(&first.concat());
                }
                StreamEvent::Chunk(chunk) => {
                    sizes.push(chunk.len());
                    body.extend_from_slice(&chunk);
                }
                StreamEvent::Finished { rows, .. } => assert_eq!(rows, 1),
                StreamEvent::Complete { .. } => panic!("should have streamed"),
            }
        }
        handle.join().unwrap();
        assert_eq!(String::from_utf8(body).unwrap(), format!("t\n{long}\n"));
        // 103 bytes: five pieces of 16, one of 23 (never a piece under a chunk but the last),
        // and the empty final chunk.
        assert_eq!(sizes, [16, 16, 16, 16, 16, 23, 0]);
    }

    #[test]
    fn a_dropped_receiver_cancels_the_writer() {
        let options = SinkOptions { window: 10, chunk: 10, ..SinkOptions::new(Format::Json, u64::MAX) };
        let (mut sink, rx) = ResultSink::new(options);
        sink.set_columns(vec![Column::new("n", "INTEGER", ColumnKind::Integer)]);
        drop(rx);
        assert!(sink.is_cancelled());
        assert!(sink.accept_row());
        sink.cell(&Cell::Int(1));
        let err = sink.end_row_blocking().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Cancelled);
    }

    #[test]
    fn values_and_rows_over_the_caps_fail_naming_the_column() {
        let options = SinkOptions::new(Format::Json, 10).with_caps(10, 15);
        let (mut sink, _rx) = ResultSink::new(options);
        sink.set_columns(vec![
            Column::new("a", "TEXT", ColumnKind::Text),
            Column::new("b", "TEXT", ColumnKind::Text),
        ]);
        assert!(sink.accept_row());
        sink.admit_value(0, 10).unwrap();
        let e = sink.admit_value(1, 11).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::TooLarge);
        assert!(e.message().contains("column \"b\" holds a value of 11 bytes"), "{e}");
        let e = sink.admit_value(1, 6).unwrap_err();
        assert!(e.message().contains("row 1 is larger than the limit of 15 bytes"), "{e}");
        assert!(e.message().contains("\"b\""), "{e}");
        // The row cap counts one row at a time.
        assert!(sink.accept_row());
        sink.admit_value(0, 10).unwrap();
        sink.admit_value(1, 5).unwrap();
    }
}
