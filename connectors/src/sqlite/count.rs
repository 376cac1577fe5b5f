//! The truncation probe's quick path: `SELECT count(*)` over the statement, kept only when SQLite
//! answers it from the b-tree itself. For a table read whole (`SELECT * FROM t`, or a view that is
//! one) SQLite compiles that count to a single `OP_Count`, which sums each page's cell count
//! without stepping a row: 3.4-3.9 ms for the bench's 1M rows where stepping over them (`LIMIT 1
//! OFFSET n`, `offset_probe`) took 24 ms on the same machine, and on two cores the probe's time is
//! taken from the query it settles. Anything else (a filter, a join, DISTINCT, an ORDER BY, an
//! inner LIMIT) would count by stepping every row, with no `LIMIT` to stop it; such a count is
//! stopped after a few VM instructions and the caller falls back to the offset probe.

use super::error::{is_interrupt, map_error};
use super::params;
use crate::error::Result;
use crate::Param;
use rusqlite::Connection;

/// VM instructions the count may execute. A count answered from the b-tree runs about ten
/// (open, count, result row, halt); one that steps rows passes this at its first hundred rows.
const COUNT_INSTRUCTIONS: i32 = 100;

/// `OP_Count` visits every page of the b-tree it counts, where the offset probe stops after
/// `limit` rows. On a file much larger than the limit (a 5 GB table read with Workspace's 100k
/// rows) counting would cost far more than stepping, so the count is tried only on files of at
/// most `limit / ROWS_PER_PAGE` pages. A page read costs about as much as stepping 20-50 rows,
/// so the count then costs at most a few times the offset probe, and less whenever the table
/// holds no more than `limit` rows (the same pages, without stepping).
const ROWS_PER_PAGE: u64 = 16;

/// The number of rows `sql` (a `SELECT count(*)` over the statement) counts, or `None` when
/// SQLite would have to step rows to count them, or the file is too large for counting to pay
/// (see the constants).
pub(super) fn whole_table_count(
    conn: &Connection,
    sql: &str,
    values: &[Param],
    limit: u64,
) -> Result<Option<u64>> {
    let pages: u64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0)).map_err(|e| map_error(e, None))?;
    if pages.saturating_mul(ROWS_PER_PAGE) > limit {
        return Ok(None);
    }
    let mut stmt = conn.prepare(sql).map_err(|e| map_error(e, None))?;
    if !stmt.readonly() || stmt.parameter_count() != values.len() {
        return Ok(None);
    }
    for (i, value) in values.iter().enumerate() {
        params::bind(&mut stmt, i + 1, value).map_err(|e| map_error(e, None))?;
    }
    conn.progress_handler(COUNT_INSTRUCTIONS, Some(|| true));
    let counted = {
        let mut rows = stmt.raw_query();
        rows.next().and_then(|row| row.map(|r| r.get::<_, i64>(0)).transpose())
    };
    conn.progress_handler(0, None::<fn() -> bool>);
    match counted {
        Ok(Some(count)) => Ok(u64::try_from(count).ok()),
        Ok(None) => Ok(None),
        Err(e) if is_interrupt(&e) => Ok(None),
        Err(e) => Err(map_error(e, Some(true))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: u64) -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("t.db")).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
             CREATE INDEX t_name ON t (name);
             CREATE VIEW v AS SELECT * FROM t;",
        )
        .unwrap();
        conn.execute(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?1) \
             INSERT INTO t SELECT x, 'n' || x FROM c",
            [rows],
        )
        .unwrap();
        (dir, conn)
    }

    fn count(conn: &Connection, statement: &str, values: &[Param], limit: u64) -> Option<u64> {
        let sql = format!("SELECT count(*) FROM (\n{statement}\n) AS q");
        whole_table_count(conn, &sql, values, limit).unwrap()
    }

    #[test]
    fn a_table_read_whole_is_counted_from_the_b_tree() {
        let (_dir, conn) = table(5_000);
        for statement in ["SELECT * FROM t", "select name, id from t", "SELECT * FROM v"] {
            assert_eq!(count(&conn, statement, &[], 1_000_000), Some(5_000), "{statement}");
        }
    }

    #[test]
    fn a_count_that_would_step_rows_is_left_to_the_offset_probe() {
        let (_dir, conn) = table(5_000);
        for statement in [
            "SELECT * FROM t WHERE id > 10",
            "SELECT DISTINCT name FROM t",
            "SELECT name FROM t ORDER BY name DESC",
            "SELECT * FROM t LIMIT 4000",
            "SELECT a.id FROM t a JOIN t b ON a.id = b.id",
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500) SELECT x FROM c",
        ] {
            assert_eq!(count(&conn, statement, &[], 1_000_000), None, "{statement}");
        }
        // A count SQLite answers without a table is still exact.
        assert_eq!(count(&conn, "SELECT 1 UNION ALL SELECT 2", &[], 1_000_000), Some(2));
    }

    #[test]
    fn parameters_are_bound_and_a_mismatch_is_left_to_the_offset_probe() {
        let (_dir, conn) = table(100);
        assert_eq!(count(&conn, "SELECT ?1 AS p, * FROM t", &[Param::Int(7)], 1_000_000), Some(100));
        assert_eq!(count(&conn, "SELECT ?1 AS p, * FROM t", &[], 1_000_000), None);
    }

    #[test]
    fn a_file_much_larger_than_the_limit_is_not_counted() {
        let (_dir, conn) = table(5_000);
        let pages: u64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        assert!(pages > 2, "{pages}");
        assert_eq!(count(&conn, "SELECT * FROM t", &[], pages * ROWS_PER_PAGE), Some(5_000));
        assert_eq!(count(&conn, "SELECT * FROM t", &[], pages * ROWS_PER_PAGE - 1), None);
    }
}
