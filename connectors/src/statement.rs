//! The single-statement guard that every engine shares. It understands enough SQL lexing
//! (comments, quoted strings and identifiers, PostgreSQL dollar quotes) to find statement
//! boundaries and the leading keyword. It is the outer layer only: each engine also enforces
//! read-only itself (SQLite `mode=ro` + `sqlite3_stmt_readonly`, MySQL/PostgreSQL read-only
//! transactions), because a keyword check cannot see through e.g. `WITH ... DELETE`.

use crate::error::{ConnectorError, Result};

/// Statements that only read. `WITH` is here because it usually starts a SELECT; engines catch
/// data-modifying CTEs.
const READ_KEYWORDS: &[&str] = &["SELECT", "WITH", "VALUES", "TABLE", "SHOW", "DESCRIBE", "DESC", "EXPLAIN"];

/// Never allowed, even on a writable connection: they reach outside the connection's database.
const FORBIDDEN_KEYWORDS: &[&str] = &["ATTACH", "DETACH", "LOAD"];

/// Whether a run may write, and if not, who decided: the refusal is worded for the one who can
/// change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The connection allows writes and the caller did not forbid them.
    ReadWrite,
    /// The connection is read-only (its `read_only` setting).
    ReadOnlyConnection,
    /// The caller forbade writes for this run whatever the connection allows (MCP tools, GET
    /// requests): changing the connection would not help, so the message does not suggest it.
    ReadOnlyRequest,
}

impl Access {
    /// A forced read-only run wins over the connection's setting.
    pub fn of(connection_read_only: bool, force_read_only: bool) -> Self {
        if force_read_only {
            Self::ReadOnlyRequest
        } else if connection_read_only {
            Self::ReadOnlyConnection
        } else {
            Self::ReadWrite
        }
    }

    pub fn read_only(self) -> bool {
        self != Self::ReadWrite
    }

    /// What refuses a write, to start an error message with. A read-only request does not
    /// mention the connection's setting: changing it would not help.
    pub fn refuser(self) -> &'static str {
        match self {
            Self::ReadWrite | Self::ReadOnlyConnection => "the connection is read-only",
            Self::ReadOnlyRequest => "this request is read-only",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedStatement {
    /// The statement without surrounding whitespace, comments or trailing semicolons.
    pub body: String,
    /// Upper-cased first keyword, e.g. `SELECT`.
    pub keyword: String,
    pub reads_only: bool,
}

impl CheckedStatement {
    /// The statement as a derived table, for row counts, paging and truncation probes. The
    /// newlines keep a trailing `--` comment inside the statement from swallowing the `)`.
    pub fn as_subquery(&self, alias: &str) -> String {
        format!("(\n{}\n) AS {alias}", self.body)
    }
}

/// Checks that `sql` holds exactly one statement, and, when `read_only`, that it only reads.
pub fn check(sql: &str, read_only: bool) -> Result<CheckedStatement> {
    check_for(sql, if read_only { Access::ReadOnlyConnection } else { Access::ReadWrite })
}

/// `check` for a run whose access may have been narrowed by its caller.
pub fn check_for(sql: &str, access: Access) -> Result<CheckedStatement> {
    let tokens = significant_spans(sql)?;
    let Some(&(first_start, _)) = tokens.first() else {
        return Err(ConnectorError::invalid("the SQL is empty"));
    };
    // Everything after the first `;` must be more semicolons, whitespace or comments.
    let mut end = sql.len();
    let mut seen_terminator = false;
    for &(start, stop) in &tokens {
        let text = &sql[start..stop];
        if text == ";" {
            if !seen_terminator {
                end = start;
            }
            seen_terminator = true;
        } else if seen_terminator {
            return Err(ConnectorError::read_only(
                "only one SQL statement can run at a time; remove everything after the first ';'",
            ));
        }
    }
    let body = sql[first_start..end.max(first_start)].trim().to_string();
    if body.is_empty() {
        return Err(ConnectorError::invalid("the SQL is empty"));
    }
    let keyword: String = sql[first_start..]
        .trim_start_matches(|c: char| c == '(' || c.is_whitespace())
        .chars()
        .take_while(|c| c.is_ascii_alphabetic() || *c == '_')
        .collect::<String>()
        .to_ascii_uppercase();
    if FORBIDDEN_KEYWORDS.contains(&keyword.as_str()) {
        return Err(ConnectorError::read_only(format!(
            "{keyword} is not allowed: a connection can only reach its own database"
        )));
    }
    let reads_only = READ_KEYWORDS.contains(&keyword.as_str());
    if access.read_only() && !reads_only {
        let shown = if keyword.is_empty() { "this statement".to_string() } else { keyword };
        let hint = match access {
            Access::ReadOnlyConnection => " (set \"read_only\": false on the connection to allow writes)",
            Access::ReadWrite | Access::ReadOnlyRequest => "",
        };
        return Err(ConnectorError::read_only(format!(
            "{} and {shown} is not a read statement; \
             only SELECT, WITH, VALUES, SHOW, DESCRIBE and EXPLAIN can run{hint}",
            access.refuser()
        )));
    }
    Ok(CheckedStatement { body, keyword, reads_only })
}

/// Byte spans of everything that is not whitespace or a comment: quoted strings and identifiers
/// are one span each, `;` is its own span, any other run of characters is one span.
fn significant_spans(sql: &str) -> Result<Vec<(usize, usize)>> {
    let bytes = sql.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        match b {
            b if b.is_ascii_whitespace() => i += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => i = skip_line(bytes, i),
            b'#' => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = find(bytes, i + 2, b"*/")
                    .map(|p| p + 2)
                    .ok_or_else(|| ConnectorError::sql("unterminated /* comment"))?;
            }
            b'\'' | b'"' | b'`' => {
                i = skip_quoted(bytes, i, b)?;
                spans.push((start, i));
            }
            b'[' => {
                i = find(bytes, i + 1, b"]")
                    .map(|p| p + 1)
                    .ok_or_else(|| ConnectorError::sql("unterminated [identifier]"))?;
                spans.push((start, i));
            }
            b'$' => {
                i = skip_dollar_quoted(bytes, i)?;
                spans.push((start, i));
            }
            b';' => {
                i += 1;
                spans.push((start, i));
            }
            _ => {
                while i < bytes.len() && !is_boundary(bytes, i) {
                    i += 1;
                }
                if i == start {
                    i += 1;
                }
                spans.push((start, i));
            }
        }
    }
    Ok(spans)
}

fn is_boundary(bytes: &[u8], i: usize) -> bool {
    match bytes[i] {
        b if b.is_ascii_whitespace() => true,
        b';' | b'\'' | b'"' | b'`' | b'[' | b'#' => true,
        b'-' => bytes.get(i + 1) == Some(&b'-'),
        b'/' => bytes.get(i + 1) == Some(&b'*'),
        _ => false,
    }
}

fn skip_line(bytes: &[u8], i: usize) -> usize {
    find(bytes, i, b"\n").map(|p| p + 1).unwrap_or(bytes.len())
}

/// Where `needle` next starts in `bytes` at or after `from`.
pub(crate) fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// Skips a quoted string or identifier. A doubled quote is an escaped quote; in single-quoted
/// strings a backslash escapes the next byte too (MySQL), which is harmless for the others
/// because it only matters before a quote.
fn skip_quoted(bytes: &[u8], start: usize, quote: u8) -> Result<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\\' && quote == b'\'' {
            i += 2;
            continue;
        }
        if b == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return Ok(i + 1);
        }
        i += 1;
    }
    Err(ConnectorError::sql("unterminated quoted string or identifier"))
}

/// PostgreSQL `$tag$ ... $tag$`; a lone `$1` parameter is an ordinary token.
fn skip_dollar_quoted(bytes: &[u8], start: usize) -> Result<usize> {
    let tag_end = bytes[start + 1..]
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        .map(|p| p + start + 1);
    match tag_end {
        Some(end) if bytes[end] == b'$' && !bytes[start + 1..end].iter().any(u8::is_ascii_digit) => {
            let tag = &bytes[start..=end];
            find(bytes, end + 1, tag)
                .map(|p| p + tag.len())
                .ok_or_else(|| ConnectorError::sql("unterminated $-quoted string"))
        }
        _ => {
            let mut i = start + 1;
            while i < bytes.len() && !is_boundary(bytes, i) {
                i += 1;
            }
            Ok(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn ok(sql: &str) -> CheckedStatement {
        check(sql, true).unwrap_or_else(|e| panic!("{sql:?} refused: {e}"))
    }

    fn refused(sql: &str, read_only: bool) -> ErrorKind {
        check(sql, read_only).expect_err(sql).kind()
    }

    #[test]
    fn read_statements_pass_and_lose_trailing_noise() {
        assert_eq!(ok("  select 1 ;  ").body, "select 1");
        assert_eq!(ok("select 1;;\n-- done\n").body, "select 1");
        assert_eq!(ok("-- hi\n/* c */ WITH x AS (SELECT 1) SELECT * FROM x").keyword, "WITH");
        assert_eq!(ok("select ';' as a, \"x;y\", `z;` -- ;drop\n").keyword, "SELECT");
        assert_eq!(ok("select $$;$$, $tag$ ; $tag$, $1").keyword, "SELECT");
        assert_eq!(ok("select 'it''s; fine', 'a\\'; b'").keyword, "SELECT");
        assert_eq!(ok("select 1 -- trailing").body, "select 1 -- trailing");
        assert_eq!(ok("EXPLAIN select 1").keyword, "EXPLAIN");
        assert_eq!(ok("(select 1) union (select 2)").keyword, "SELECT");
    }

    #[test]
    fn several_statements_are_refused() {
        assert_eq!(refused("select 1; select 2", true), ErrorKind::ReadOnly);
        assert_eq!(refused("select 1; drop table t", false), ErrorKind::ReadOnly);
        assert_eq!(refused("select 1;/* c */delete from t", true), ErrorKind::ReadOnly);
    }

    #[test]
    fn writes_are_refused_when_read_only() {
        for sql in [
            "delete from t",
            "INSERT INTO t VALUES (1)",
            "drop table t",
            "pragma journal_mode=wal",
            "vacuum",
            "update t set a=1",
        ] {
            assert_eq!(refused(sql, true), ErrorKind::ReadOnly, "{sql}");
        }
        assert!(check("insert into t values (1)", false).is_ok());
    }

    #[test]
    fn a_read_only_request_refuses_writes_without_blaming_the_connection() {
        let error = check_for("delete from t", Access::ReadOnlyRequest).expect_err("a write");
        assert_eq!(error.kind(), ErrorKind::ReadOnly);
        assert!(error.message().starts_with("this request is read-only and DELETE"), "{error}");
        assert!(!error.message().contains("read_only"), "{error}");
        let error = check_for("delete from t", Access::ReadOnlyConnection).expect_err("a write");
        assert!(error.message().contains("\"read_only\": false"), "{error}");
        assert!(check_for("select 1", Access::ReadOnlyRequest).is_ok());
        assert_eq!(Access::of(false, true), Access::ReadOnlyRequest);
        assert_eq!(Access::of(true, true), Access::ReadOnlyRequest);
        assert_eq!(Access::of(true, false), Access::ReadOnlyConnection);
        assert_eq!(Access::of(false, false), Access::ReadWrite);
    }

    #[test]
    fn attach_is_refused_always() {
        assert_eq!(refused("ATTACH DATABASE '/tmp/x.db' AS x", false), ErrorKind::ReadOnly);
        assert_eq!(refused("  attach '/tmp/x' as y", true), ErrorKind::ReadOnly);
    }

    #[test]
    fn empty_and_broken_sql_is_invalid() {
        assert_eq!(refused("", true), ErrorKind::InvalidInput);
        assert_eq!(refused(" -- nothing\n ; ", true), ErrorKind::InvalidInput);
        assert_eq!(refused("select 'open", true), ErrorKind::Sql);
        assert_eq!(refused("select /* open", true), ErrorKind::Sql);
    }

    #[test]
    fn subquery_keeps_trailing_comment_inside() {
        assert_eq!(ok("select 1 -- x").as_subquery("q"), "(\nselect 1 -- x\n) AS q");
    }
}
