//! The SQL spelling differences the server needs when it builds statements around a user's
//! query (Workspace's row model: filters, sorting, paging). Only identifiers and placeholders
//! are ever written into the SQL; every value is bound.

/// The SQL dialect of an engine: `EngineKind::dialect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Mysql,
    Postgres,
    Snowflake,
    Duckdb,
}

/// The escape character for LIKE patterns. Not a backslash: MySQL also treats a backslash as an
/// escape inside string literals, so `ESCAPE '\'` would need a different spelling there.
pub const LIKE_ESCAPE: char = '!';

impl Dialect {
    /// A quoted identifier; the quote character is doubled inside, so any name is safe.
    pub fn quote_ident(self, name: &str) -> String {
        let quote = match self {
            Self::Mysql => '`',
            Self::Sqlite | Self::Postgres | Self::Snowflake | Self::Duckdb => '"',
        };
        let mut out = String::with_capacity(name.len() + 2);
        out.push(quote);
        for c in name.chars() {
            if c == quote {
                out.push(quote);
            }
            out.push(c);
        }
        out.push(quote);
        out
    }

    /// The placeholder of the `n`th bound value (1-based).
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Self::Postgres => format!("${n}"),
            Self::Sqlite | Self::Mysql | Self::Snowflake | Self::Duckdb => "?".to_string(),
        }
    }

    /// The placeholder of the `n`th bound value, typed for `param` where the dialect needs it:
    /// PostgreSQL infers an untyped parameter's type from its context (`float_col = $1` makes it
    /// a float8) while the driver sends the value in the encoding of its own type, so the cast
    /// pins the type the value is sent as.
    pub fn bound(self, n: usize, param: &crate::Param) -> String {
        use crate::Param;
        let placeholder = self.placeholder(n);
        if self != Self::Postgres {
            return placeholder;
        }
        let ty = match param {
            Param::Null => return placeholder,
            Param::Bool(_) => "BOOLEAN",
            Param::Int(_) => "BIGINT",
            Param::Float(_) => "DOUBLE PRECISION",
            Param::Text(_) => "TEXT",
        };
        format!("CAST({placeholder} AS {ty})")
    }

    /// `expr` as text, for text filters on columns of any type.
    pub fn as_text(self, expr: &str) -> String {
        match self {
            Self::Mysql => format!("CAST({expr} AS CHAR)"),
            Self::Sqlite | Self::Postgres => format!("CAST({expr} AS TEXT)"),
            Self::Snowflake => format!("TO_VARCHAR({expr})"),
            Self::Duckdb => format!("CAST({expr} AS VARCHAR)"),
        }
    }

    /// The calendar day of a date, timestamp or ISO date string.
    pub fn as_date(self, expr: &str) -> String {
        match self {
            Self::Sqlite => format!("date({expr})"),
            Self::Mysql => format!("DATE({expr})"),
            Self::Postgres | Self::Duckdb => format!("CAST({expr} AS DATE)"),
            Self::Snowflake => format!("TO_DATE({expr})"),
        }
    }

    /// `text LIKE pattern` with our escape character; `pattern` is a placeholder.
    pub fn like(self, text: &str, pattern: &str) -> String {
        format!("{text} LIKE {pattern} ESCAPE '{LIKE_ESCAPE}'")
    }

    /// `LIMIT`/`OFFSET` for paging. The numbers are typed integers, never user text.
    pub fn limit_offset(self, limit: Option<u64>, offset: u64) -> String {
        match (limit, offset) {
            (Some(limit), 0) => format!(" LIMIT {limit}"),
            (Some(limit), offset) => format!(" LIMIT {limit} OFFSET {offset}"),
            // MySQL has no OFFSET without LIMIT; its documented idiom is the largest BIGINT.
            (None, 0) => String::new(),
            (None, offset) => match self {
                Self::Mysql => format!(" LIMIT 18446744073709551615 OFFSET {offset}"),
                Self::Sqlite => format!(" LIMIT -1 OFFSET {offset}"),
                Self::Postgres | Self::Snowflake | Self::Duckdb => format!(" OFFSET {offset}"),
            },
        }
    }
}

/// Escapes LIKE wildcards in a literal fragment, for use with [`Dialect::like`].
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_') || c == LIKE_ESCAPE {
            out.push(LIKE_ESCAPE);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_escaped() {
        assert_eq!(Dialect::Sqlite.quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(Dialect::Mysql.quote_ident("a`b"), "`a``b`");
        assert_eq!(Dialect::Postgres.quote_ident("x"), "\"x\"");
    }

    #[test]
    fn placeholders_follow_the_dialect() {
        assert_eq!(Dialect::Postgres.placeholder(3), "$3");
        assert_eq!(Dialect::Mysql.placeholder(3), "?");
        assert_eq!(crate::EngineKind::Snowflake.dialect(), Dialect::Snowflake);
        assert!("oracle".parse::<crate::EngineKind>().is_err());
        assert_eq!(Dialect::Postgres.bound(2, &crate::Param::Int(1)), "CAST($2 AS BIGINT)");
        assert_eq!(Dialect::Sqlite.bound(2, &crate::Param::Int(1)), "?");
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like("50%_a!b"), "50!%!_a!!b");
    }

    #[test]
    fn paging_without_a_limit() {
        assert_eq!(Dialect::Postgres.limit_offset(None, 5), " OFFSET 5");
        assert_eq!(Dialect::Sqlite.limit_offset(Some(10), 0), " LIMIT 10");
        assert!(Dialect::Mysql.limit_offset(None, 5).contains("OFFSET 5"));
    }
}
