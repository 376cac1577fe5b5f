//! Reading a parameterless read as binary `COPY (…) TO STDOUT`. Its rows carry the same binary
//! values as the extended protocol's (each type's send function), so `value::cell_of` maps them
//! unchanged; what it saves is the driver's work per row: sqlx builds a `PgRow` (its own vector
//! of value ranges, a copy of each column's type for every value read) around every row of a
//! normal query, and on a 1M-row result that was about a fifth of our server's CPU.
//!
//! Framing (PostgreSQL's "Binary Format" of COPY): a 19-byte header before the first row, then
//! each row as a 16-bit field count and, per field, a 32-bit length (-1 for NULL) and the bytes;
//! a field count of -1 ends the data. The server sends each row in a message of its own (the
//! header with the first, the end marker alone), but nothing here relies on more than whole rows
//! per message.

use super::value::{self, PgType};
use crate::cell::Column;
use crate::error::ConnectorError;
use crate::sink::ResultSink;
use crate::sqlx_common::{admit_wire, next_row, Outcome};
use crate::statement::CheckedStatement;
use bytes::Bytes;

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
/// Signature, 32-bit flags, 32-bit header-extension length.
const HEADER_LEN: usize = SIGNATURE.len() + 8;

/// Whether the statement can be read through COPY: a plain read (COPY takes a query, and no
/// parameters).
pub(super) fn suits(checked: &CheckedStatement, params: usize) -> bool {
    params == 0
        && checked.reads_only
        && matches!(checked.keyword.as_str(), "SELECT" | "WITH" | "VALUES" | "TABLE")
}

/// The COPY statement reading `sql`'s rows in binary.
pub(super) fn statement(sql: &str) -> String {
    format!("COPY (\n{sql}\n) TO STDOUT (FORMAT binary)")
}

/// Feeds the COPY data into the sink until it ends, the cap is reached, the client leaves or
/// something fails; as `sqlx_common::stream_rows` does for a normal query's rows.
pub(super) async fn stream<S>(
    messages: &mut S,
    sink: &mut ResultSink,
    columns: &[Column],
    types: &[PgType],
    map_error: impl Fn(sqlx::Error) -> ConnectorError,
) -> Outcome
where
    S: futures::Stream<Item = sqlx::Result<Bytes>> + Unpin,
{
    let mut header_read = false;
    let mut ended = false;
    loop {
        let message = match next_row(messages, sink).await {
            Some(Ok(Some(message))) => message,
            Some(Ok(None)) if ended => return Ok(true),
            Some(Ok(None)) => return Err((framing("the data ended without its end marker"), true)),
            Some(Err(e)) => return Err((map_error(e), true)),
            None => return Err((ConnectorError::cancelled(), false)),
        };
        let mut rest: &[u8] = &message;
        if !header_read {
            rest = match skip_header(rest) {
                Ok(rest) => rest,
                Err(e) => return Err((e, false)),
            };
            header_read = true;
        }
        while !rest.is_empty() {
            if ended {
                return Err((framing("data after the end marker"), false));
            }
            match take_i16(&mut rest) {
                Some(-1) => {
                    ended = true;
                    continue;
                }
                Some(n) if usize::try_from(n).ok() == Some(types.len()) => {}
                Some(n) => {
                    return Err((framing(&format!("a row of {n} fields, not {}", types.len())), false))
                }
                None => return Err((framing("a row cut short"), false)),
            }
            if !sink.accept_row() {
                return Ok(false);
            }
            if let Err(e) = write_row(&mut rest, sink, columns, types) {
                return Err((e, false));
            }
            if let Err(e) = sink.end_row().await {
                return Err((e, false));
            }
        }
    }
}

/// One row's values from `rest`, which it advances past them.
fn write_row(
    rest: &mut &[u8],
    sink: &mut ResultSink,
    columns: &[Column],
    types: &[PgType],
) -> Result<(), ConnectorError> {
    for (i, ty) in types.iter().enumerate() {
        let bytes = take_value(rest).ok_or_else(|| framing("a value cut short"))?;
        admit_wire(sink, i, &Ok(bytes))?;
        let cell = value::cell_of(bytes, ty).map_err(|why| {
            let column = columns.get(i);
            ConnectorError::unreadable(
                column.map_or("?", |c| c.name.as_str()),
                column.map_or("?", |c| c.db_type.as_str()),
                &why,
            )
        })?;
        sink.cell(&cell);
    }
    Ok(())
}

fn skip_header(data: &[u8]) -> Result<&[u8], ConnectorError> {
    if data.len() < HEADER_LEN || !data.starts_with(SIGNATURE) {
        return Err(framing("no binary COPY header"));
    }
    let mut rest = &data[SIGNATURE.len()..];
    take_i32(&mut rest).ok_or_else(|| framing("a header cut short"))?;
    let extension = take_i32(&mut rest).and_then(|n| usize::try_from(n).ok());
    match extension {
        Some(n) if n <= rest.len() => Ok(&rest[n..]),
        _ => Err(framing("a header extension cut short")),
    }
}

/// A value's bytes, `Some(None)` for NULL, `None` when the data ends first.
fn take_value<'a>(rest: &mut &'a [u8]) -> Option<Option<&'a [u8]>> {
    let len = take_i32(rest)?;
    if len == -1 {
        return Some(None);
    }
    let len = usize::try_from(len).ok()?;
    let (value, after) = rest.split_at_checked(len)?;
    *rest = after;
    Some(Some(value))
}

fn take_i16(rest: &mut &[u8]) -> Option<i16> {
    let (head, after) = rest.split_first_chunk::<2>()?;
    *rest = after;
    Some(i16::from_be_bytes(*head))
}

fn take_i32(rest: &mut &[u8]) -> Option<i32> {
    let (head, after) = rest.split_first_chunk::<4>()?;
    *rest = after;
    Some(i32::from_be_bytes(*head))
}

fn framing(why: &str) -> ConnectorError {
    ConnectorError::internal(format!("PostgreSQL's binary COPY data could not be read: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Vec<u8> {
        let mut data = SIGNATURE.to_vec();
        data.extend_from_slice(&0i32.to_be_bytes());
        data.extend_from_slice(&0i32.to_be_bytes());
        data
    }

    #[test]
    fn values_nulls_and_the_header_are_taken_apart() {
        let mut data = header();
        data.extend_from_slice(&[0, 2]);
        data.extend_from_slice(&4i32.to_be_bytes());
        data.extend_from_slice(&7i32.to_be_bytes());
        data.extend_from_slice(&(-1i32).to_be_bytes());
        let mut rest = skip_header(&data).unwrap();
        assert_eq!(take_i16(&mut rest), Some(2));
        assert_eq!(take_value(&mut rest), Some(Some(&7i32.to_be_bytes()[..])));
        assert_eq!(take_value(&mut rest), Some(None));
        assert!(rest.is_empty());
    }

    #[test]
    fn short_or_foreign_data_is_refused_not_read_past() {
        assert!(skip_header(b"PGCOPY\n").is_err());
        assert!(skip_header(b"not a copy header at all").is_err());
        let mut with_extension = header();
        with_extension[SIGNATURE.len() + 4..].copy_from_slice(&100i32.to_be_bytes());
        assert!(skip_header(&with_extension).is_err(), "an extension longer than the data");
        let mut rest: &[u8] = &[0, 0, 0, 9, 1, 2];
        assert_eq!(take_value(&mut rest), None, "a length past the end");
        let mut rest: &[u8] = &[0xff, 0xff, 0xff, 0xfe];
        assert_eq!(take_value(&mut rest), None, "a negative length other than -1");
        let mut rest: &[u8] = &[7];
        assert_eq!(take_i16(&mut rest), None);
    }

    #[test]
    fn the_statement_keeps_the_query_on_lines_of_its_own() {
        // A trailing `--` comment in the user's SQL must not swallow the closing parenthesis.
        assert_eq!(statement("select 1 -- one"), "COPY (\nselect 1 -- one\n) TO STDOUT (FORMAT binary)");
    }
}
