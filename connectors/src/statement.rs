//! The statement guard. It lexes SQL with each engine's own comment and quoting rules, so that
//! what it takes for a comment or a string is what the database takes for one: a guard that
//! guesses (a `--` before a control character is a comment to MariaDB, a backslash ends no
//! PostgreSQL string) can be walked around. Where the rules depend on a server setting the
//! guard cannot see (`NO_BACKSLASH_ESCAPES`, `standard_conforming_strings`, the server version
//! that decides whether a `/*!50000 ... */` comment runs), the statement is lexed once per
//! reading and must pass under every one of them.
//!
//! It is the outer layer only: each engine also enforces read-only itself (SQLite `mode=ro` +
//! `sqlite3_stmt_readonly`, MySQL/PostgreSQL read-only transactions), because a keyword check
//! cannot see through e.g. `WITH ... DELETE`. What such a transaction cannot stop (files written
//! by `INTO OUTFILE`, PostgreSQL functions that act outside the transaction) is refused here,
//! from the lists below.

use crate::dialect::Dialect;
use crate::error::{ConnectorError, ErrorKind, Result};

/// Statements that only read. `WITH` is here because it usually starts a SELECT; engines catch
/// data-modifying CTEs.
const READ_KEYWORDS: &[&str] = &["SELECT", "WITH", "VALUES", "TABLE", "SHOW", "DESCRIBE", "DESC", "EXPLAIN"];

/// Never allowed, even on a writable connection: they reach outside the connection's database.
const FORBIDDEN_KEYWORDS: &[&str] = &["ATTACH", "DETACH", "LOAD"];

/// MySQL/MariaDB words that write a file on the database host (`SELECT ... INTO OUTFILE` and
/// `INTO DUMPFILE`). Refused on every connection, like `LOAD DATA INFILE`: a writable
/// connection may change its database, not the server's file system. Both are reserved or
/// keyword-only in practice, so a column of that name must be quoted anyway.
const MYSQL_FILE_WRITING_WORDS: &[&str] = &["OUTFILE", "DUMPFILE"];

/// MySQL/MariaDB functions refused on read-only runs: they reach outside the database
/// (`LOAD_FILE` reads any file the server may read; `sys_exec`/`sys_eval` are the usual names of
/// the lib_mysqludf_sys shell UDFs). Locks taken with `GET_LOCK` are released when the
/// connection goes back to the pool instead (docs/security.md).
/// DuckDB statements refused on every connection: they reach outside the database file
/// (`INSTALL`/`FORCE INSTALL` download extensions, `EXPORT DATABASE` writes a folder,
/// `IMPORT DATABASE` runs the SQL script of one, bypassing this guard).
const DUCKDB_FORBIDDEN_KEYWORDS: &[&str] = &["INSTALL", "FORCE", "EXPORT", "IMPORT"];

const MYSQL_READ_ONLY_REFUSED_FUNCTIONS: &[&str] = &["load_file", "sys_exec", "sys_eval"];

/// PostgreSQL functions refused on read-only runs, by exact (lower-case) name: they act outside
/// the transaction (which is rolled back) or on the server itself, so `BEGIN READ ONLY` does not
/// stop them. Reviewed against the PostgreSQL 12-17 function lists (docs/security.md explains
/// each group and what was left out on purpose, such as `pg_notify`, delivered only on commit).
pub const POSTGRES_READ_ONLY_REFUSED_FUNCTIONS: &[&str] = &[
    // Server files (pg_read_server_files / superuser).
    "pg_read_file",
    "pg_read_binary_file",
    "pg_stat_file",
    // Large objects: lo_import reads and lo_export writes server files.
    "loread",
    "lowrite",
    // Server control and other sessions.
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_promote",
    "pg_switch_wal",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_log_backend_memory_contexts",
    "pg_logdir_ls",
    "pg_import_system_collations",
    "pg_stat_statements_reset",
    // WAL written outside the transaction when asked to be non-transactional.
    "pg_logical_emit_message",
    // Session settings beyond the transaction (also undone by RESET ALL on release).
    "set_config",
    // Run a query given as text, out of the guard's sight.
    "query_to_xml",
    "query_to_xml_and_xmlschema",
    "query_to_xmlschema",
    "cursor_to_xml",
    "cursor_to_xmlschema",
    "ts_stat",
    "ts_rewrite",
];

/// PostgreSQL function families refused on read-only runs, by name prefix.
pub const POSTGRES_READ_ONLY_REFUSED_PREFIXES: &[&str] = &[
    // dblink, dblink_exec, dblink_connect, ...: statements in another session, committed there.
    "dblink",
    // lo_import, lo_export, lo_create, lo_unlink, lo_put, ...
    "lo_",
    // pg_ls_dir, pg_ls_logdir, pg_ls_waldir, pg_ls_tmpdir, ...: server directories.
    "pg_ls_",
    // adminpack: pg_file_write, pg_file_rename, pg_file_unlink, pg_file_sync.
    "pg_file_",
    // Statistics counters, reset outside any transaction.
    "pg_stat_reset",
    // Replication slots and origins, backups, WAL replay.
    "pg_create_",
    "pg_drop_",
    "pg_copy_",
    "pg_replication_origin_",
    "pg_replication_slot_",
    "pg_logical_slot_",
    "pg_backup_",
    "pg_wal_replay_",
];

/// Whether `name` (a PostgreSQL function name, any case) is one a read-only run refuses.
pub fn postgres_function_refused(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    POSTGRES_READ_ONLY_REFUSED_FUNCTIONS.contains(&name.as_str())
        || POSTGRES_READ_ONLY_REFUSED_PREFIXES.iter().any(|p| name.starts_with(p))
}

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
/// Engine-neutral lexing: the server's first look, before it knows the engine's dialect matters;
/// every engine checks again with `check_dialect` before its database sees the statement.
pub fn check(sql: &str, read_only: bool) -> Result<CheckedStatement> {
    check_for(sql, if read_only { Access::ReadOnlyConnection } else { Access::ReadWrite })
}

/// `check` for a run whose access may have been narrowed by its caller.
pub fn check_for(sql: &str, access: Access) -> Result<CheckedStatement> {
    check_with(sql, Syntax::Neutral, access)
}

/// The engine's own check, with its dialect's exact lexing and its refused words and functions.
pub fn check_dialect(sql: &str, dialect: Dialect, access: Access) -> Result<CheckedStatement> {
    check_with(sql, Syntax::Of(dialect), access)
}

/// Whether the statement (lexed as MySQL) names a user or system variable (`@x`, `@@x`): such a
/// statement may leave state on its session, so its connection is not reused.
pub fn mysql_names_variables(sql: &str) -> bool {
    MYSQL_LEXINGS.iter().any(|rules| match lex(sql, rules) {
        Ok(tokens) => tokens.iter().any(|t| t.kind == Kind::Other && &sql[t.start..t.end] == "@"),
        // Not lexable: the statement will fail anyway; keep nothing of its session.
        Err(_) => true,
    })
}

/// A `{{name}}` parameter of a saved query, as the dialect reads the SQL: only code counts,
/// never the inside of a string, quoted identifier or comment. `start..end` covers the braces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSlot {
    pub name: String,
    pub start: usize,
    pub end: usize,
}

/// The longest parameter name accepted in `{{name}}`.
pub const TEMPLATE_NAME_MAX: usize = 64;

/// Every `{{name}}` in `sql`, in order, under every lexing of `dialect` (they must agree: where a
/// parameter sits must not depend on a server setting). An unclosed `{{`, or one not followed by
/// a name of letters, digits and `_`, is invalid input.
pub fn template_slots(sql: &str, dialect: Dialect) -> Result<Vec<TemplateSlot>> {
    let lexings: &[Rules] = match dialect {
        Dialect::Sqlite => &[SQLITE],
        Dialect::Mysql => &MYSQL_LEXINGS,
        Dialect::Postgres => &POSTGRES_LEXINGS,
        Dialect::Snowflake => &SNOWFLAKE_LEXINGS,
        Dialect::Duckdb => &DUCKDB_LEXINGS,
    };
    let mut agreed: Option<Vec<TemplateSlot>> = None;
    for rules in lexings {
        let slots = slots_in(sql, &lex(sql, rules)?)?;
        match &agreed {
            Some(earlier) if *earlier != slots => {
                return Err(ConnectorError::invalid(
                    "whether a {{parameter}} is inside a string depends on the server's string settings \
                     (a backslash before a quote); write a quote inside a string as '' instead",
                ))
            }
            Some(_) => {}
            None => agreed = Some(slots),
        }
    }
    Ok(agreed.unwrap_or_default())
}

fn slots_in(sql: &str, tokens: &[Token]) -> Result<Vec<TemplateSlot>> {
    let text = |t: &Token| &sql[t.start..t.end];
    let brace = |i: usize, c: &str| tokens.get(i).is_some_and(|t| t.kind == Kind::Other && text(t) == c);
    let adjacent = |i: usize| tokens[i].end == tokens[i + 1].start;
    let mut slots = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if !(brace(i, "{") && brace(i + 1, "{") && adjacent(i)) {
            i += 1;
            continue;
        }
        let name = tokens.get(i + 2).filter(|t| t.kind == Kind::Word).map(text);
        let valid = name.filter(|n| {
            n.len() <= TEMPLATE_NAME_MAX
                && n.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        let Some(name) = valid else {
            return Err(ConnectorError::invalid(match name {
                Some(n) => format!("{{{{{n}}}}}: a parameter name has 1-{TEMPLATE_NAME_MAX} letters, digits or '_' and starts with a letter or '_'"),
                None => "a '{{' in the SQL is not followed by a parameter name: write {{name}}, or put the braces in a string".to_string(),
            }));
        };
        if !(brace(i + 3, "}") && brace(i + 4, "}") && adjacent(i + 3)) {
            return Err(ConnectorError::invalid(format!(
                "parameter {name}: the '{{{{{name}' is not closed with '}}}}'"
            )));
        }
        slots.push(TemplateSlot { name: name.to_string(), start: tokens[i].start, end: tokens[i + 4].end });
        i += 5;
    }
    Ok(slots)
}

#[derive(Debug, Clone, Copy)]
enum Syntax {
    Neutral,
    Of(Dialect),
}

fn check_with(sql: &str, syntax: Syntax, access: Access) -> Result<CheckedStatement> {
    if sql.contains('\0') {
        // PostgreSQL's protocol ends strings at NUL and MySQL's lexer ends comments there:
        // a NUL means something different to each reader, so none gets it.
        return Err(ConnectorError::invalid(
            "the SQL contains a NUL character (\\0); pass binary values as parameters instead",
        ));
    }
    let lexings: &[Rules] = match syntax {
        Syntax::Neutral => &[NEUTRAL],
        Syntax::Of(Dialect::Sqlite) => &[SQLITE],
        Syntax::Of(Dialect::Mysql) => &MYSQL_LEXINGS,
        Syntax::Of(Dialect::Postgres) => &POSTGRES_LEXINGS,
        Syntax::Of(Dialect::Snowflake) => &SNOWFLAKE_LEXINGS,
        Syntax::Of(Dialect::Duckdb) => &DUCKDB_LEXINGS,
    };
    let mut first: Option<CheckedStatement> = None;
    let mut refusal: Option<ConnectorError> = None;
    for rules in lexings {
        match lex(sql, rules).and_then(|tokens| judge_whole(sql, &tokens, rules, syntax, access)) {
            Ok(checked) => {
                match &first {
                    // The readings must agree on where the statement ends: otherwise the body sent
                    // would mean something else to a server with the other setting (found by
                    // tests/fuzz: a backslash before a quote, then `;` and a comment).
                    Some(earlier) if earlier.body != checked.body => return Err(ConnectorError::read_only(
                        "only one SQL statement can run at a time, and where this one ends depends on the \
                         server's string settings (a backslash before a quote); write a quote inside a \
                         string as '' instead",
                    )),
                    Some(_) => {}
                    None => first = Some(checked),
                }
            }
            // A reading that shows the statement writing explains more than one that cannot
            // make sense of it: that refusal wins.
            Err(e) => match &refusal {
                Some(r) if r.kind() == ErrorKind::ReadOnly || e.kind() != ErrorKind::ReadOnly => {}
                _ => refusal = Some(e),
            },
        }
    }
    match refusal {
        Some(e) => Err(e),
        None => first.ok_or_else(|| ConnectorError::internal("no lexing rules for this dialect")),
    }
}

/// `judge`, plus: the body must read as the same tokens on its own. Cutting at the `;` must not
/// turn what came before it into a comment or an open string (found by tests/fuzz: MySQL's
/// `--;`, where `--` before `;` is not a comment but `--` at the end is).
fn judge_whole(
    sql: &str,
    tokens: &[Token],
    rules: &Rules,
    syntax: Syntax,
    access: Access,
) -> Result<CheckedStatement> {
    let checked = judge(sql, tokens, syntax, access)?;
    let before_end = tokens.iter().take_while(|t| t.kind != Kind::Semicolon).count();
    match lex(&checked.body, rules) {
        Ok(again) if again.len() == before_end => Ok(checked),
        _ => Err(ConnectorError::read_only(
            "only one SQL statement can run at a time, and where this one ends is ambiguous: put a \
             space or a line break before the ';'",
        )),
    }
}

fn judge(sql: &str, tokens: &[Token], syntax: Syntax, access: Access) -> Result<CheckedStatement> {
    let Some(first_token) = tokens.first() else {
        return Err(ConnectorError::invalid("the SQL is empty"));
    };
    let first_start = first_token.start;
    // Everything after the first `;` must be more semicolons, whitespace or comments.
    let mut end = sql.len();
    let mut seen_terminator = false;
    for token in tokens {
        if token.kind == Kind::Semicolon {
            if !seen_terminator {
                end = token.start;
            }
            seen_terminator = true;
        } else if seen_terminator {
            return Err(ConnectorError::read_only(
                "only one SQL statement can run at a time; remove everything after the first ';'",
            ));
        }
    }
    // Only what the lexer skipped as whitespace: a no-break space is part of a word to the
    // databases, so it must stay (found by tests/fuzz).
    let body = sql[first_start..end.max(first_start)].trim_end_matches(is_space).to_string();
    if body.is_empty() {
        return Err(ConnectorError::invalid("the SQL is empty"));
    }
    let keyword = tokens
        .iter()
        .find(|t| t.kind != Kind::OpenParen)
        .filter(|t| t.kind == Kind::Word)
        .map(|t| sql[t.start..t.end].to_ascii_uppercase())
        .unwrap_or_default();
    if FORBIDDEN_KEYWORDS.contains(&keyword.as_str()) {
        return Err(ConnectorError::read_only(format!(
            "{keyword} is not allowed: a connection can only reach its own database"
        )));
    }
    if let Syntax::Of(Dialect::Mysql) = syntax {
        if let Some(word) =
            keywords(sql, tokens).find(|w| MYSQL_FILE_WRITING_WORDS.iter().any(|f| w.eq_ignore_ascii_case(f)))
        {
            let word = word.to_ascii_uppercase();
            let why = "writes a file on the database server (quote a column of that name with backticks)";
            return Err(ConnectorError::read_only(if access.read_only() {
                format!("{} and INTO {word} {why}", access.refuser())
            } else {
                format!("INTO {word} is not allowed: it {why}")
            }));
        }
    }
    if let Syntax::Of(Dialect::Duckdb) = syntax {
        refuse_duckdb_files(sql, tokens, &keyword)?;
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
    if access.read_only() {
        refuse_functions(sql, tokens, syntax, access)?;
    }
    Ok(CheckedStatement { body, keyword, reads_only })
}

/// DuckDB, any connection: statements that act on the file system or the network rather than
/// the database. `COPY ... FROM` loads a file into a table and stays allowed where writes are;
/// `COPY ... TO` writes a file and is refused everywhere, as MySQL's `INTO OUTFILE` is.
fn refuse_duckdb_files(sql: &str, tokens: &[Token], keyword: &str) -> Result<()> {
    if DUCKDB_FORBIDDEN_KEYWORDS.contains(&keyword) {
        let what = match keyword {
            "EXPORT" => "writes the database out to a folder",
            "IMPORT" => "runs the SQL script of an exported folder",
            _ => "downloads and installs DuckDB extensions",
        };
        return Err(ConnectorError::read_only(format!(
            "{keyword} is not allowed: it {what}; a connection reads its database and local files, nothing else"
        )));
    }
    if keyword == "COPY" && keywords(sql, tokens).any(|w| w.eq_ignore_ascii_case("TO")) {
        return Err(ConnectorError::read_only(
            "COPY ... TO is not allowed: it writes a file; run the SELECT and save its result instead",
        ));
    }
    Ok(())
}

/// Read-only runs: the functions a read-only transaction cannot hold back.
fn refuse_functions(sql: &str, tokens: &[Token], syntax: Syntax, access: Access) -> Result<()> {
    let refused: fn(&str) -> bool = match syntax {
        Syntax::Of(Dialect::Postgres) => postgres_function_refused,
        Syntax::Of(Dialect::Mysql) => {
            |name| MYSQL_READ_ONLY_REFUSED_FUNCTIONS.iter().any(|f| name.eq_ignore_ascii_case(f))
        }
        Syntax::Neutral | Syntax::Of(Dialect::Sqlite | Dialect::Snowflake | Dialect::Duckdb) => return Ok(()),
    };
    for (i, token) in tokens.iter().enumerate() {
        if token.kind == Kind::UnicodeIdent {
            return Err(ConnectorError::read_only(format!(
                "{} and U&\"...\" identifiers are not accepted on it; write the name plainly",
                access.refuser()
            )));
        }
        // A call is a name followed by `(`, whatever comments or spaces lie between; PostgreSQL
        // calls no function without parentheses except keyword-like ones (current_user, ...).
        let called = tokens.get(i + 1).is_some_and(|next| next.kind == Kind::OpenParen);
        if !called {
            continue;
        }
        let name = match token.kind {
            Kind::Word => sql[token.start..token.end].to_string(),
            Kind::QuotedIdent => unquote(&sql[token.start..token.end]),
            _ => continue,
        };
        if refused(&name) {
            return Err(ConnectorError::read_only(format!(
                "{} and {name}() acts outside the read-only transaction (on server files, other \
                 sessions or the server itself), so it is not allowed on read-only runs",
                access.refuser()
            )));
        }
    }
    Ok(())
}

/// The unquoted words of the statement that can be keywords: not the name of a variable
/// (`@outfile`) nor a name after a dot (`t.outfile`), which MySQL reads as identifiers.
fn keywords<'a>(sql: &'a str, tokens: &'a [Token]) -> impl Iterator<Item = &'a str> + 'a {
    tokens.iter().enumerate().filter_map(move |(i, t)| {
        let previous = i.checked_sub(1).and_then(|p| tokens.get(p));
        let named = previous.is_some_and(|p| p.end == t.start && matches!(&sql[p.start..p.end], "@" | "."));
        (t.kind == Kind::Word && !named).then(|| &sql[t.start..t.end])
    })
}

/// A quoted identifier's name: quotes removed, doubled quotes single.
fn unquote(quoted: &str) -> String {
    let Some(quote) = quoted.chars().next() else { return String::new() };
    let close = if quote == '[' { ']' } else { quote };
    let inner = quoted.strip_prefix(quote).unwrap_or(quoted);
    let inner = inner.strip_suffix(close).unwrap_or(inner);
    let doubled: String = [close, close].iter().collect();
    inner.replace(&doubled, &close.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A keyword, unquoted identifier or number.
    Word,
    /// `"name"`, `` `name` `` or `[name]`.
    QuotedIdent,
    /// PostgreSQL `U&"..."`: its escapes can spell any name.
    UnicodeIdent,
    /// A string (any quoting, including dollar quotes).
    Literal,
    Semicolon,
    OpenParen,
    /// Any other single character (operators, punctuation, `@`, `$`).
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Executable {
    /// `/*! ... */` is an ordinary comment (not MySQL).
    No,
    /// MySQL/MariaDB run the inside of `/*! ... */`, `/*!50000 ... */` and `/*M! ... */`.
    Code,
    /// The same, but a versioned one (`/*!NNNNN`, `/*M!`) is a comment: what an older server
    /// (or MySQL, for `/*M!`) does.
    UnversionedOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dollar {
    No,
    /// PostgreSQL `$tag$ ... $tag$` (and `$$ ... $$`).
    Tagged,
    /// Snowflake `$$ ... $$`.
    Plain,
}

/// One reading of the SQL: where comments start and end, and how strings are quoted.
#[derive(Debug, Clone, Copy)]
struct Rules {
    hash_comments: bool,
    /// `--` starts a comment only before whitespace, a control character or the end (MySQL).
    dash_needs_space: bool,
    /// With `dash_needs_space`: bytes >= 0x80 count as such a character too.
    dash_before_high_bytes: bool,
    /// Snowflake `//` line comments.
    slash_comments: bool,
    /// A carriage return ends a line comment as a newline does (PostgreSQL).
    cr_ends_comment: bool,
    /// `/* /* */ */` is one comment (PostgreSQL).
    nested_comments: bool,
    executable: Executable,
    backslash_in_single: bool,
    backslash_in_double: bool,
    /// PostgreSQL `E'...'`, where a backslash escapes.
    e_strings: bool,
    /// PostgreSQL `U&'...'` and `U&"..."`.
    unicode_quotes: bool,
    dollar: Dollar,
    backticks: bool,
    brackets: bool,
    /// Whether `$` continues an unquoted word.
    dollar_in_words: bool,
}

const BASE: Rules = Rules {
    hash_comments: false,
    dash_needs_space: false,
    dash_before_high_bytes: false,
    slash_comments: false,
    cr_ends_comment: false,
    nested_comments: false,
    executable: Executable::No,
    backslash_in_single: false,
    backslash_in_double: false,
    e_strings: false,
    unicode_quotes: false,
    dollar: Dollar::No,
    backticks: false,
    brackets: false,
    dollar_in_words: true,
};

/// The server's first look, before the engine is known: the union of the quoting styles.
const NEUTRAL: Rules = Rules {
    hash_comments: true,
    backslash_in_single: true,
    dollar: Dollar::Tagged,
    backticks: true,
    brackets: true,
    ..BASE
};

const SQLITE: Rules = Rules { backticks: true, brackets: true, ..BASE };

const MYSQL: Rules = Rules {
    hash_comments: true,
    dash_needs_space: true,
    executable: Executable::Code,
    backslash_in_single: true,
    backslash_in_double: true,
    backticks: true,
    ..BASE
};

/// `NO_BACKSLASH_ESCAPES` on or off; versioned executable comments run or not; whether the
/// connection's character set calls a byte >= 0x80 after `--` a space.
const MYSQL_LEXINGS: [Rules; 8] = [
    MYSQL,
    Rules { backslash_in_single: false, backslash_in_double: false, ..MYSQL },
    Rules { executable: Executable::UnversionedOnly, ..MYSQL },
    Rules {
        executable: Executable::UnversionedOnly,
        backslash_in_single: false,
        backslash_in_double: false,
        ..MYSQL
    },
    Rules { dash_before_high_bytes: true, ..MYSQL },
    Rules { dash_before_high_bytes: true, backslash_in_single: false, backslash_in_double: false, ..MYSQL },
    Rules { dash_before_high_bytes: true, executable: Executable::UnversionedOnly, ..MYSQL },
    Rules {
        dash_before_high_bytes: true,
        executable: Executable::UnversionedOnly,
        backslash_in_single: false,
        backslash_in_double: false,
        ..MYSQL
    },
];

const POSTGRES: Rules = Rules {
    cr_ends_comment: true,
    nested_comments: true,
    e_strings: true,
    unicode_quotes: true,
    dollar: Dollar::Tagged,
    ..BASE
};

/// `standard_conforming_strings` on (the default) and off.
const POSTGRES_LEXINGS: [Rules; 2] = [POSTGRES, Rules { backslash_in_single: true, ..POSTGRES }];

const SNOWFLAKE: Rules =
    Rules { slash_comments: true, backslash_in_single: true, dollar: Dollar::Plain, ..BASE };

/// Snowflake documents neither whether a carriage return ends a `--` comment nor whether block
/// comments nest: both readings must pass (a non-nesting reading sees more code, never less).
const SNOWFLAKE_LEXINGS: [Rules; 2] = [SNOWFLAKE, Rules { cr_ends_comment: true, ..SNOWFLAKE }];

/// DuckDB's parser is PostgreSQL's (libpg_query): nested block comments, `--` ended by a
/// carriage return too, `E'...'` escape strings and dollar quotes. Its strings are always
/// standard-conforming (a backslash is an ordinary character), so there is one reading.
const DUCKDB_LEXINGS: [Rules; 1] = [POSTGRES];

/// Splits `sql` into significant tokens under `rules`; whitespace and comments are dropped, and
/// the inside of an executable comment is code.
fn lex(sql: &str, rules: &Rules) -> Result<Vec<Token>> {
    let b = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut in_executable = false;
    let push = |tokens: &mut Vec<Token>, kind, start, end| tokens.push(Token { kind, start, end });
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        let start = i;
        match c {
            _ if is_space(char::from(c)) => i += 1,
            b'-' if next == Some(b'-') && dash_comment(b.get(i + 2).copied(), rules) => {
                i = line_end(b, i, rules);
            }
            b'#' if rules.hash_comments => i = line_end(b, i, rules),
            b'/' if next == Some(b'/') && rules.slash_comments => i = line_end(b, i, rules),
            b'/' if next == Some(b'*') => {
                let bang = match b.get(i + 2) {
                    Some(b'!') => Some(i + 3),
                    Some(b'M') if b.get(i + 3) == Some(&b'!') => Some(i + 4),
                    _ => None,
                };
                match (bang, rules.executable) {
                    (Some(_), _) if in_executable => {
                        return Err(ConnectorError::sql("comments cannot be nested inside /*! ... */"))
                    }
                    (Some(after), Executable::Code | Executable::UnversionedOnly) => {
                        let mut j = after;
                        while b.get(j).is_some_and(u8::is_ascii_digit) {
                            j += 1;
                        }
                        let versioned = j > after || b[i + 2] == b'M';
                        if versioned && rules.executable == Executable::UnversionedOnly {
                            i = block_comment_end(b, i, false)?;
                        } else {
                            in_executable = true;
                            i = j;
                        }
                    }
                    _ if in_executable => {
                        return Err(ConnectorError::sql("comments cannot be nested inside /*! ... */"))
                    }
                    _ => i = block_comment_end(b, i, rules.nested_comments)?,
                }
            }
            b'*' if next == Some(b'/') && in_executable => {
                in_executable = false;
                i += 2;
            }
            b'\'' => {
                i = skip_quoted(b, i, b'\'', rules.backslash_in_single)?;
                push(&mut tokens, Kind::Literal, start, i);
            }
            b'"' => {
                i = skip_quoted(b, i, b'"', rules.backslash_in_double)?;
                push(&mut tokens, Kind::QuotedIdent, start, i);
            }
            b'`' if rules.backticks => {
                i = skip_quoted(b, i, b'`', false)?;
                push(&mut tokens, Kind::QuotedIdent, start, i);
            }
            b'[' if rules.brackets => {
                i = find(b, i + 1, b"]")
                    .map(|p| p + 1)
                    .ok_or_else(|| ConnectorError::sql("unterminated [identifier]"))?;
                push(&mut tokens, Kind::QuotedIdent, start, i);
            }
            b'$' if rules.dollar != Dollar::No && dollar_tag(b, i, rules.dollar).is_some() => {
                let tag_end = dollar_tag(b, i, rules.dollar).unwrap_or(i);
                let tag = &b[i..=tag_end];
                i = find(b, tag_end + 1, tag)
                    .map(|p| p + tag.len())
                    .ok_or_else(|| ConnectorError::sql("unterminated $-quoted string"))?;
                push(&mut tokens, Kind::Literal, start, i);
            }
            // The body ends at the first `;`, which would cut an executable comment open
            // (found by tests/fuzz); one statement never needs a `;` there.
            b';' if in_executable => {
                return Err(ConnectorError::read_only(
                    "only one SQL statement can run at a time: a ';' inside /*! ... */ would end it",
                ))
            }
            b';' => {
                i += 1;
                push(&mut tokens, Kind::Semicolon, start, i);
            }
            b'(' => {
                i += 1;
                push(&mut tokens, Kind::OpenParen, start, i);
            }
            _ if is_word_byte(c, rules) => {
                while i < b.len() && is_word_byte(b[i], rules) {
                    i += 1;
                }
                let word = &b[start..i];
                let quote = b.get(i).copied();
                if rules.e_strings && word.eq_ignore_ascii_case(b"e") && quote == Some(b'\'') {
                    i = skip_quoted(b, i, b'\'', true)?;
                    push(&mut tokens, Kind::Literal, start, i);
                } else if rules.unicode_quotes
                    && word.eq_ignore_ascii_case(b"u")
                    && quote == Some(b'&')
                    && matches!(b.get(i + 1), Some(b'\'' | b'"'))
                {
                    let q = b[i + 1];
                    i = skip_quoted(b, i + 1, q, false)?;
                    let kind = if q == b'"' { Kind::UnicodeIdent } else { Kind::Literal };
                    push(&mut tokens, kind, start, i);
                } else {
                    push(&mut tokens, Kind::Word, start, i);
                }
            }
            _ => {
                // One character, UTF-8 continuation bytes included, so spans stay on char
                // boundaries.
                i += 1;
                while i < b.len() && (b[i] & 0xC0) == 0x80 {
                    i += 1;
                }
                push(&mut tokens, Kind::Other, start, i);
            }
        }
    }
    if in_executable {
        return Err(ConnectorError::sql("unterminated /*! comment"));
    }
    Ok(tokens)
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

fn is_word_byte(c: u8, rules: &Rules) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 || (c == b'$' && rules.dollar_in_words)
}

/// Whether `--` followed by `after` starts a comment.
fn dash_comment(after: Option<u8>, rules: &Rules) -> bool {
    if !rules.dash_needs_space {
        return true;
    }
    match after {
        // The end of the statement, whitespace or any control character (MySQL's my_isspace
        // or my_iscntrl): `--\x01` is a comment to MariaDB.
        None => true,
        Some(c) => c <= b' ' || c == 0x7f || (c >= 0x80 && rules.dash_before_high_bytes),
    }
}

/// Where a line comment starting at `i` ends.
fn line_end(b: &[u8], i: usize, rules: &Rules) -> usize {
    b[i..]
        .iter()
        .position(|&c| c == b'\n' || (c == b'\r' && rules.cr_ends_comment))
        .map_or(b.len(), |p| i + p + 1)
}

/// Where the block comment starting at `i` (`/*`) ends, nested ones included when `nested`.
fn block_comment_end(b: &[u8], i: usize, nested: bool) -> Result<usize> {
    let mut depth = 0usize;
    let mut j = i;
    while j + 1 < b.len() {
        if b[j] == b'/' && b[j + 1] == b'*' && (nested || depth == 0) {
            depth += 1;
            j += 2;
        } else if b[j] == b'*' && b[j + 1] == b'/' {
            depth -= 1;
            j += 2;
            if depth == 0 {
                return Ok(j);
            }
        } else {
            j += 1;
        }
    }
    Err(ConnectorError::sql("unterminated /* comment"))
}

/// Where `needle` next starts in `bytes` at or after `from`.
pub(crate) fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// Skips a quoted string or identifier starting at `start`. A doubled quote is an escaped
/// quote; with `backslash`, a backslash escapes the next byte too.
fn skip_quoted(bytes: &[u8], start: usize, quote: u8, backslash: bool) -> Result<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\\' && backslash {
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

/// The index of the closing `$` of a dollar-quote opener at `start`, if there is one there: `$$`,
/// or (PostgreSQL) `$tag$` with a tag that does not start with a digit. `$1` is a parameter.
fn dollar_tag(bytes: &[u8], start: usize, dollar: Dollar) -> Option<usize> {
    match dollar {
        Dollar::No => None,
        Dollar::Plain => (bytes.get(start + 1) == Some(&b'$')).then_some(start + 1),
        Dollar::Tagged => {
            let mut j = start + 1;
            if bytes.get(j).is_some_and(u8::is_ascii_digit) {
                return None;
            }
            while bytes.get(j).is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80) {
                j += 1;
            }
            (bytes.get(j) == Some(&b'$')).then_some(j)
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

    fn passes(dialect: Dialect, sql: &str) -> CheckedStatement {
        check_dialect(sql, dialect, Access::ReadOnlyConnection)
            .unwrap_or_else(|e| panic!("{dialect:?} {sql:?} refused: {e}"))
    }

    fn refuses(dialect: Dialect, sql: &str) -> ConnectorError {
        check_dialect(sql, dialect, Access::ReadOnlyConnection)
            .expect_err(&format!("{dialect:?} should refuse {sql:?}"))
    }

    #[test]
    fn template_slots_are_found_in_code_only() {
        let sql =
            "SELECT '{{a}}', \"{{b}}\" /* {{c}} */ FROM t WHERE x = {{ d }} AND y IN ({{e}}) -- {{f}}\n";
        for dialect in
            [Dialect::Sqlite, Dialect::Mysql, Dialect::Postgres, Dialect::Snowflake, Dialect::Duckdb]
        {
            let slots = template_slots(sql, dialect).unwrap();
            let names: Vec<&str> = slots.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(names, ["d", "e"], "{dialect:?}");
            assert_eq!(&sql[slots[0].start..slots[0].end], "{{ d }}");
        }
        assert!(template_slots("SELECT $${{x}}$$", Dialect::Snowflake).unwrap().is_empty());
        assert!(template_slots("SELECT $q${{x}}$q$", Dialect::Postgres).unwrap().is_empty());
        assert!(template_slots("SELECT 1 # {{x}}", Dialect::Mysql).unwrap().is_empty());
        assert!(template_slots("SELECT 1 // {{x}}", Dialect::Snowflake).unwrap().is_empty());
    }

    #[test]
    fn broken_template_slots_are_invalid_and_named() {
        let e = template_slots("SELECT {{ticker", Dialect::Sqlite).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("ticker"), "{e}");
        assert!(template_slots("SELECT {{}}", Dialect::Sqlite).is_err());
        assert!(template_slots("SELECT {{1x}}", Dialect::Sqlite).unwrap_err().to_string().contains("1x"));
        assert!(template_slots("SELECT { {x}}", Dialect::Sqlite).unwrap().is_empty());
        // Inside a string for one MySQL reading, code for the other.
        assert!(template_slots("SELECT 'a\\' {{x}} '", Dialect::Mysql).is_err());
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
    fn a_nul_character_is_invalid_input_everywhere() {
        assert_eq!(refused("select '\0'", true), ErrorKind::InvalidInput);
        for dialect in
            [Dialect::Sqlite, Dialect::Mysql, Dialect::Postgres, Dialect::Snowflake, Dialect::Duckdb]
        {
            assert_eq!(refuses(dialect, "select 1 -- \0\n").kind(), ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn subquery_keeps_trailing_comment_inside() {
        assert_eq!(ok("select 1 -- x").as_subquery("q"), "(\nselect 1 -- x\n) AS q");
    }

    #[test]
    fn mysql_dash_comments_follow_the_server() {
        // The issue-12 bypass: `--` before a control character is a comment to MariaDB, so the
        // OUTFILE on the next line is code.
        let e = refuses(Dialect::Mysql, "select * from t into --\x01\nOUTFILE '/tmp/x'");
        assert!(e.message().contains("OUTFILE"), "{e}");
        for sep in ["\t", " ", "\x0b", "\x0c", "\r", "\x1f", "\x7f", "\x01"] {
            refuses(Dialect::Mysql, &format!("select 1 into --{sep}\nOUTFILE '/tmp/x'"));
            // And what hides behind such a comment really is hidden.
            passes(Dialect::Mysql, &format!("select 1 --{sep} '; delete\n"));
        }
        // `--` before anything else is two minus signs: `1--1` is 2.
        refuses(Dialect::Mysql, "select 1--1 into outfile '/tmp/x'");
        assert_eq!(passes(Dialect::Mysql, "select 1--1").keyword, "SELECT");
        // A quote after `--x` is a real string opener, so the `;` inside it is not a boundary.
        passes(Dialect::Mysql, "select 1 --x ';'");
        passes(Dialect::Mysql, "select 1 --");
    }

    #[test]
    fn statements_whose_end_depends_on_server_settings_are_refused() {
        let e = refuses(Dialect::Postgres, "select 'a\\';--'");
        assert_eq!(e.kind(), ErrorKind::ReadOnly, "{e}");
        passes(Dialect::Postgres, "select 'a''b';");
    }

    #[test]
    fn a_body_that_reads_differently_once_cut_is_refused() {
        let e = check_dialect("--;", Dialect::Mysql, Access::ReadWrite).expect_err("--; is ambiguous");
        assert_eq!(e.kind(), ErrorKind::ReadOnly, "{e}");
        passes(Dialect::Mysql, "select 1 -- ;");
    }

    #[test]
    fn mysql_semicolon_inside_an_executable_comment_is_refused() {
        let e = refuses(Dialect::Mysql, "(select /*!with x as (select 1) select 1;*/");
        assert_eq!(e.kind(), ErrorKind::ReadOnly, "{e}");
        passes(Dialect::Mysql, "select /*!40001 1 */ ;");
    }

    #[test]
    fn mysql_hash_and_executable_comments() {
        passes(Dialect::Mysql, "select 1 # into outfile '/tmp/x'");
        refuses(Dialect::Mysql, "select 1 # x\n into outfile '/tmp/x'");
        refuses(Dialect::Mysql, "select 1 /*! into outfile '/tmp/x' */");
        refuses(Dialect::Mysql, "select 1 /*!50000 into outfile '/tmp/x' */");
        refuses(Dialect::Mysql, "select 1 /*M!100000 into dumpfile '/tmp/x' */");
        refuses(Dialect::Mysql, "select 1 /*!50000into outfile '/tmp/x'*/");
        refuses(Dialect::Mysql, "/*! delete from t */");
        refuses(Dialect::Mysql, "select 1 /*!; delete from t */");
        // Whether or not the server runs a versioned comment, the rest must pass: here an older
        // server skips the quote inside it, and OUTFILE follows as code.
        refuses(Dialect::Mysql, "select 1 /*!99999 ' */ into outfile '/tmp/x' -- '");
        refuses(Dialect::Mysql, "select 1 /*M! ' */ into outfile '/tmp/x' -- '");
        passes(Dialect::Mysql, "select 1 /* into outfile */");
        passes(Dialect::Mysql, "select /*+ MAX_EXECUTION_TIME(1000) */ 1");
        assert_eq!(refuses(Dialect::Mysql, "select 1 /*! /* x */ */").kind(), ErrorKind::Sql);
    }

    #[test]
    fn mysql_strings_with_and_without_backslash_escapes() {
        // With backslash escapes (the default) the quote is escaped and OUTFILE is inside the
        // string; under NO_BACKSLASH_ESCAPES it is code. Both readings must pass.
        refuses(Dialect::Mysql, "select 'a\\' into outfile '/tmp/x' -- '");
        refuses(Dialect::Mysql, "select \"a\\\" into outfile '/tmp/x' -- \"");
        passes(Dialect::Mysql, "select 'into outfile', \"into dumpfile\", `outfile` from t");
        passes(Dialect::Mysql, "select 1 into @outfile");
        passes(Dialect::Mysql, "select t.outfile, t.dumpfile from t");
        refuses(Dialect::Mysql, "SELECT * FROM t INTO OUTFILE '/tmp/x'");
        refuses(Dialect::Mysql, "select 1 into\n dumpfile '/tmp/x'");
        refuses(Dialect::Mysql, "SELECT 1 INTO /* c */ OUTFILE '/tmp/x'");
        refuses(Dialect::Mysql, "table t into outfile '/tmp/x'");
        // Refused on writable connections too, like LOAD DATA.
        assert!(check_dialect("select 1 into outfile '/tmp/x'", Dialect::Mysql, Access::ReadWrite).is_err());
        assert!(check_dialect("insert into t values (1)", Dialect::Mysql, Access::ReadWrite).is_ok());
    }

    #[test]
    fn mysql_read_only_refuses_server_file_reads() {
        let e = refuses(Dialect::Mysql, "select load_file('/etc/passwd')");
        assert!(e.message().contains("load_file()"), "{e}");
        refuses(Dialect::Mysql, "select LOAD_FILE /* c */ ('/etc/passwd')");
        refuses(Dialect::Mysql, "select `load_file`('/etc/passwd')");
        passes(Dialect::Mysql, "select load_file_name from t");
        assert!(check_dialect("select load_file('/x')", Dialect::Mysql, Access::ReadWrite).is_ok());
    }

    #[test]
    fn mysql_variables_are_seen_outside_strings_only() {
        assert!(mysql_names_variables("select @a := 1"));
        assert!(mysql_names_variables("select 1 into @x"));
        assert!(mysql_names_variables("select @@session.sql_mode"));
        assert!(!mysql_names_variables("select '@a', `@b` -- @c\n"));
    }

    #[test]
    fn postgres_lexing() {
        // A backslash ends no standard string; `E''` strings do escape.
        refuses(Dialect::Postgres, "select 'a\\'; delete from t; select '");
        passes(Dialect::Postgres, "select E'a\\'; b'");
        refuses(Dialect::Postgres, "select E'a\\'' ; delete from t");
        // `#` is an operator, not a comment.
        refuses(Dialect::Postgres, "select 5 # 3; delete from t");
        // Nested block comments.
        passes(Dialect::Postgres, "select 1 /* a /* b */ ; still comment */");
        refuses(Dialect::Postgres, "select 1 /* a /* b */ */; delete from t");
        // Dollar quotes, and `$` inside identifiers.
        passes(Dialect::Postgres, "select $f$ '; $f$, $$ ; $$, a$b$ from t");
        refuses(Dialect::Postgres, "select 1+$a$ ' $a$; delete from t --'");
        // A carriage return ends a line comment.
        refuses(Dialect::Postgres, "select 1 --\r; delete from t");
        passes(Dialect::Postgres, "select 1 # 2");
    }

    #[test]
    fn postgres_read_only_refuses_out_of_transaction_functions() {
        for sql in [
            "select dblink_exec('dbname=x', 'delete from t')",
            "select * from dblink('dbname=x', 'select 1') as t(a int)",
            "select lo_export(16384, '/tmp/x')",
            "select lo_import('/etc/passwd')",
            "select pg_read_file('/etc/passwd')",
            "select pg_catalog.pg_read_binary_file('/etc/passwd')",
            "select * from pg_ls_dir('.')",
            "select pg_ls_waldir()",
            "select pg_stat_file('postgresql.conf')",
            "select pg_reload_conf()",
            "select pg_terminate_backend(1)",
            "select pg_cancel_backend(1)",
            "select pg_file_write('/tmp/x', 'y', false)",
            "select set_config('search_path', 'x', false)",
            "select query_to_xml('select pg_read_file(''/etc/passwd'')', true, true, '')",
            "select \"pg_read_file\"('/etc/passwd')",
            "select PG_READ_FILE /* c */ ('/etc/passwd')",
            "select pg_read_file\n('/etc/passwd')",
            "select lowrite(0, 'x')",
            "select pg_rotate_logfile()",
            "select pg_switch_wal()",
            "select pg_create_restore_point('x')",
            "select pg_stat_reset()",
            "select pg_logical_emit_message(false, 'p', 'm')",
            "select ts_stat('select pg_read_file(''x'')')",
            "select U&\"pg\\005fread_file\"('/etc/passwd')",
        ] {
            assert_eq!(refuses(Dialect::Postgres, sql).kind(), ErrorKind::ReadOnly, "{sql}");
        }
        // Names alone (columns, strings, comments) are fine.
        passes(Dialect::Postgres, "select lo_price, dblink_name from t");
        passes(Dialect::Postgres, "select 'pg_read_file(1)' -- pg_read_file(1)\n");
        passes(Dialect::Postgres, "select * from pg_file_settings");
        passes(Dialect::Postgres, "select pg_sleep(0), pg_notify('c', 'x'), now()");
        assert!(check_dialect("select pg_reload_conf()", Dialect::Postgres, Access::ReadWrite).is_ok());
    }

    #[test]
    fn sqlite_and_snowflake_lexing() {
        // No `#` comments and no dollar quotes in SQLite.
        refuses(Dialect::Sqlite, "select 1 # x\n; delete from t");
        refuses(Dialect::Sqlite, "select $a$, 1; delete from t; select $a$");
        passes(Dialect::Sqlite, "select [a;b], `c;d`, \"e;f\" from t");
        // Snowflake: `//` comments and `$$` strings; backslashes escape in strings.
        passes(Dialect::Snowflake, "select 1 // ; delete from t");
        // DuckDB: PostgreSQL's lexing, and the statements that reach the file system.
        passes(Dialect::Duckdb, "select * from read_parquet('/data/*.parquet') /* ; /* nested */ ; */");
        passes(Dialect::Duckdb, "select $$ ; $$, E'a\\' ; ', 'a\\'");
        refuses(Dialect::Duckdb, "select 'a\\'; copy t to '/tmp/x'");
        refuses(Dialect::Duckdb, "select 1 --\r; delete from t");
        for sql in [
            "COPY (SELECT 1) TO '/tmp/x.csv'",
            "copy t to '/tmp/x.parquet' (format parquet)",
            "EXPORT DATABASE '/tmp/out'",
            "IMPORT DATABASE '/tmp/out'",
            "INSTALL httpfs",
            "FORCE INSTALL httpfs",
            "LOAD httpfs",
            "ATTACH '/tmp/other.duckdb'",
            "SET enable_external_access = true",
            "PRAGMA enable_profiling",
            "CALL checkpoint()",
        ] {
            refuses(Dialect::Duckdb, sql);
        }
        for sql in
            ["COPY (SELECT 1) TO '/tmp/x.csv'", "EXPORT DATABASE '/tmp/out'", "INSTALL httpfs", "ATTACH '/x'"]
        {
            assert!(check_dialect(sql, Dialect::Duckdb, Access::ReadWrite).is_err(), "{sql}");
        }
        assert!(check_dialect("COPY t FROM '/tmp/x.csv'", Dialect::Duckdb, Access::ReadWrite).is_ok());
        assert!(check_dialect("select 'to' from t", Dialect::Duckdb, Access::ReadWrite).is_ok());
        passes(Dialect::Snowflake, "select $$ ; $$, 'a\\'; b'");
        refuses(Dialect::Snowflake, "select 1; delete from t");
        refuses(Dialect::Snowflake, "select 1 --\r; delete from t");
    }

    #[test]
    fn postgres_function_list_matches_families() {
        assert!(postgres_function_refused("DBLINK_CONNECT"));
        assert!(postgres_function_refused("lo_unlink"));
        assert!(postgres_function_refused("pg_ls_tmpdir"));
        assert!(!postgres_function_refused("pg_sleep"));
        assert!(!postgres_function_refused("lower"));
    }
}
