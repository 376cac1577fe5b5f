//! A statement's rows read through SQLite's C API, the crate's one place with `unsafe` code.
//!
//! rusqlite reads a value with two API calls, `sqlite3_column_type` and then the typed getter
//! (`sqlite3_column_double`, ...), and each call looks the column up again (`columnMem`:
//! bounds, the connection's mutex, the error state). Here one `sqlite3_column_value` per value
//! finds the column once, and type and content are read off that value. Reading the bench's 1M
//! rows of 8 columns (release build, callgrind): 2.51 G instructions through rusqlite, 2.10 G
//! here, of which stepping alone is 1.49 G; in time 190-195 ms against 160-168 ms, with 118-122
//! ms for stepping. That thread bounds a long SQLite result, which streams as fast as it reads.
//!
//! rusqlite still prepares the statement first (`run`): its errors, column names and declared
//! types are the ones users see. The cursor prepares the same text again on the same
//! connection, which costs tens of microseconds.

// The unsafe code here is reviewed: every block says why it holds.
#![allow(unsafe_code)]

use crate::Param;
use rusqlite::ffi;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::ffi::c_int;
use std::marker::PhantomData;
use std::ptr::NonNull;

/// A prepared statement of `conn`, stepped row by row. It lives no longer than the connection
/// (the lifetime), and stays on the thread that made it (raw pointers are neither `Send` nor
/// `Sync`), as a connection opened with `SQLITE_OPEN_NO_MUTEX` requires.
pub(super) struct Cursor<'conn> {
    stmt: NonNull<ffi::sqlite3_stmt>,
    db: NonNull<ffi::sqlite3>,
    _conn: PhantomData<&'conn Connection>,
}

impl<'conn> Cursor<'conn> {
    /// Prepares `sql` (one statement) on `conn` and binds `values` to its parameters, in order.
    pub(super) fn open(conn: &'conn Connection, sql: &str, values: &[Param]) -> rusqlite::Result<Self> {
        let len = c_int::try_from(sql.len())
            .map_err(|_| failure(ffi::SQLITE_TOOBIG, "the statement is too long for SQLite"))?;
        // SAFETY: `handle` is the live connection `conn` borrows for 'conn; it is used on this
        // thread only, as everything else on `conn` is while the cursor lives.
        let db = NonNull::new(unsafe { conn.handle() })
            .ok_or_else(|| failure(ffi::SQLITE_MISUSE, "the SQLite connection is closed"))?;
        let mut stmt = std::ptr::null_mut();
        // SAFETY: `sql` is valid for `len` bytes (SQLite copies what it keeps); `stmt` is a
        // valid place for the out-pointer; the tail is not asked for.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(db.as_ptr(), sql.as_ptr().cast(), len, &mut stmt, std::ptr::null_mut())
        };
        if rc != ffi::SQLITE_OK {
            // SAFETY: `db` is live; on failure SQLite has left `stmt` null, nothing to free.
            return Err(unsafe { last_error(db, rc) });
        }
        let stmt = NonNull::new(stmt).ok_or_else(|| failure(ffi::SQLITE_MISUSE, "the statement is empty"))?;
        let mut cursor = Self { stmt, db, _conn: PhantomData };
        for (i, value) in values.iter().enumerate() {
            cursor.bind(i + 1, value)?;
        }
        Ok(cursor)
    }

    fn bind(&mut self, index: usize, value: &Param) -> rusqlite::Result<()> {
        let stmt = self.stmt.as_ptr();
        let index = c_int::try_from(index).map_err(|_| failure(ffi::SQLITE_RANGE, "too many parameters"))?;
        // SAFETY: `stmt` is live and not being stepped (binding happens before the first
        // step); SQLite copies the text (`SQLITE_TRANSIENT`) before `bind_text64` returns.
        let rc = unsafe {
            match value {
                Param::Null => ffi::sqlite3_bind_null(stmt, index),
                Param::Bool(v) => ffi::sqlite3_bind_int64(stmt, index, i64::from(*v)),
                Param::Int(v) => ffi::sqlite3_bind_int64(stmt, index, *v),
                Param::Float(v) => ffi::sqlite3_bind_double(stmt, index, *v),
                Param::Text(v) => ffi::sqlite3_bind_text64(
                    stmt,
                    index,
                    v.as_ptr().cast(),
                    v.len() as u64,
                    ffi::SQLITE_TRANSIENT(),
                    ffi::SQLITE_UTF8 as u8,
                ),
            }
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            // SAFETY: `db` is live.
            Err(unsafe { last_error(self.db, rc) })
        }
    }

    /// Moves to the next row: `true` when there is one, `false` once the rows have ended.
    pub(super) fn step(&mut self) -> rusqlite::Result<bool> {
        // SAFETY: `stmt` is live. `&mut self` ends every borrow of the previous row's values
        // (`value` borrows `self`), which stepping invalidates.
        match unsafe { ffi::sqlite3_step(self.stmt.as_ptr()) } {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            // SAFETY: `db` is live.
            rc => Err(unsafe { last_error(self.db, rc) }),
        }
    }

    /// The current row's value in `column` (from 0), as SQLite holds it: valid until the next
    /// `step`. Before the first row, after the last, or past the last column, SQLite answers
    /// NULL.
    // Inlined into the reader's loop: called apart (as `#[inline]` left it), its result came
    // back through memory, and `perf` put half of the call's samples on its entry and that store.
    #[inline(always)]
    pub(super) fn value(&self, column: usize) -> rusqlite::Result<ValueRef<'_>> {
        let stmt = self.stmt.as_ptr();
        let column = c_int::try_from(column).unwrap_or(c_int::MAX);
        // SAFETY: `stmt` is live; SQLite checks `column` itself. The value belongs to the
        // statement and stays valid, unchanged, until it is stepped, reset or finalized, none of
        // which can happen while the returned borrow of `self` lives. Text and blob pointers are
        // read before their lengths, as SQLite's documentation asks, and a null pointer with a
        // non-zero length (memory ran out converting the value) is an error, never a slice.
        unsafe {
            let value = ffi::sqlite3_column_value(stmt, column);
            Ok(match ffi::sqlite3_value_type(value) {
                ffi::SQLITE_INTEGER => ValueRef::Integer(ffi::sqlite3_value_int64(value)),
                ffi::SQLITE_FLOAT => ValueRef::Real(ffi::sqlite3_value_double(value)),
                ffi::SQLITE_TEXT => {
                    let text = ffi::sqlite3_value_text(value);
                    ValueRef::Text(bytes(text, ffi::sqlite3_value_bytes(value))?)
                }
                ffi::SQLITE_BLOB => {
                    let blob = ffi::sqlite3_value_blob(value).cast::<u8>();
                    ValueRef::Blob(bytes(blob, ffi::sqlite3_value_bytes(value))?)
                }
                _ => ValueRef::Null,
            })
        }
    }
}

impl Drop for Cursor<'_> {
    fn drop(&mut self) {
        // SAFETY: `stmt` is live and finalized once, here; no value borrow outlives `self`.
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

/// The `len` bytes at `data`, borrowed for as long as the caller says they live.
///
/// # Safety
/// `data` must point to at least `len` bytes that stay valid and unchanged for `'a`, or be null.
#[inline]
unsafe fn bytes<'a>(data: *const u8, len: c_int) -> rusqlite::Result<&'a [u8]> {
    let len = usize::try_from(len).unwrap_or(0);
    if data.is_null() {
        // SQLite returns null for an empty text or blob, and for a failed allocation.
        return if len == 0 { Ok(&[]) } else { Err(failure(ffi::SQLITE_NOMEM, "out of memory")) };
    }
    // SAFETY: the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// The connection's error for result code `rc`, as rusqlite reports a failed call.
///
/// # Safety
/// `db` must be a live connection.
#[cold]
unsafe fn last_error(db: NonNull<ffi::sqlite3>, rc: c_int) -> rusqlite::Error {
    // SAFETY: the caller's contract; SQLite's message is a NUL-terminated string it owns until
    // the next call on the connection, copied here.
    let message = unsafe { std::ffi::CStr::from_ptr(ffi::sqlite3_errmsg(db.as_ptr())) };
    rusqlite::Error::SqliteFailure(ffi::Error::new(rc), Some(message.to_string_lossy().into_owned()))
}

fn failure(code: c_int, message: &str) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(ffi::Error::new(code), Some(message.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n);
             INSERT INTO t VALUES (-7, 1.5, 'héllo', x'00ff', NULL), (9223372036854775807, -0.0, '', x'', NULL);",
        )
        .unwrap();
        conn
    }

    /// Every row of `sql`, read both ways: the cursor must give what rusqlite gives.
    fn both_ways(conn: &Connection, sql: &str, values: &[Param]) -> Vec<Vec<rusqlite::types::Value>> {
        let mut stmt = conn.prepare(sql).unwrap();
        let width = stmt.column_count();
        let mut cursor = Cursor::open(conn, sql, values).unwrap();
        let mut ours: Vec<Vec<rusqlite::types::Value>> = Vec::new();
        while cursor.step().unwrap() {
            ours.push((0..width).map(|i| cursor.value(i).unwrap().into()).collect::<Vec<_>>());
        }
        for (i, value) in values.iter().enumerate() {
            super::super::params::bind(&mut stmt, i + 1, value).unwrap();
        }
        let mut theirs = Vec::new();
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next().unwrap() {
            theirs.push((0..width).map(|i| row.get_ref(i).unwrap().into()).collect::<Vec<_>>());
        }
        assert_eq!(ours, theirs, "{sql}");
        ours
    }

    #[test]
    fn values_read_as_rusqlite_reads_them() {
        use rusqlite::types::Value as V;
        let conn = conn();
        let rows = both_ways(&conn, "SELECT * FROM t", &[]);
        assert_eq!(
            rows,
            [
                vec![V::Integer(-7), V::Real(1.5), V::Text("héllo".into()), V::Blob(vec![0, 255]), V::Null],
                vec![V::Integer(i64::MAX), V::Real(-0.0), V::Text(String::new()), V::Blob(vec![]), V::Null],
            ]
        );
        // A value converted on the way (an expression) and one past the last column.
        let mut cursor = Cursor::open(&conn, "SELECT i + 0.5, upper(s) FROM t LIMIT 1", &[]).unwrap();
        assert!(cursor.step().unwrap());
        assert_eq!(cursor.value(0).unwrap(), ValueRef::Real(-6.5));
        assert_eq!(cursor.value(1).unwrap(), ValueRef::Text("HéLLO".as_bytes()));
        assert_eq!(cursor.value(2).unwrap(), ValueRef::Null);
        assert!(!cursor.step().unwrap());
    }

    #[test]
    fn parameters_bind_as_their_kinds() {
        let conn = conn();
        let values =
            [Param::Null, Param::Bool(true), Param::Int(-3), Param::Float(2.25), Param::Text("é".into())];
        let rows = both_ways(&conn, "SELECT ?1, ?2, ?3, ?4, ?5, typeof(?2)", &values);
        assert_eq!(rows[0][5], rusqlite::types::Value::Text("integer".into()));
    }

    #[test]
    fn errors_are_rusqlite_errors_with_sqlite_messages() {
        let conn = conn();
        let prepare = Cursor::open(&conn, "SELECT nope FROM t", &[]).err().unwrap();
        // rusqlite adds where in the text the error is; `run` prepares with rusqlite first, so a
        // user meets that message, and the cursor's only if the schema changed in between.
        assert_eq!(super::super::error::describe(&prepare), "no such column: nope");
        let bind = Cursor::open(&conn, "SELECT ?1", &[Param::Int(1), Param::Int(2)]).err().unwrap();
        assert!(
            matches!(bind, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ParameterOutOfRange)
        );
        let mut cursor = Cursor::open(&conn, "SELECT json_extract('{', '$')", &[]).unwrap();
        let step = cursor.step().err().unwrap();
        assert!(step.to_string().contains("malformed JSON"), "{step}");
        assert!(Cursor::open(&conn, " -- nothing", &[]).is_err());
    }
}
