//! Which database engine a connection uses. What differs by engine outside the engine's own
//! folder (its name in JSON, its secret fields, its SQL dialect, how people call it) is answered
//! here by exhaustive matches, so a new variant makes the compiler point at each place that must
//! learn it (docs/adding-an-engine.md).

use crate::dialect::Dialect;
use crate::duckdb::DuckdbSettings;
use crate::error::ConnectorError;
use crate::mysql::MysqlSettings;
use crate::postgres::PostgresSettings;
use crate::settings::EngineSettings;
use crate::snowflake::SnowflakeSettings;
use crate::sqlite::SqliteSettings;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    Sqlite,
    Mysql,
    Postgres,
    Snowflake,
    Duckdb,
}

impl EngineKind {
    /// Every engine, in the order forms list them.
    pub const ALL: [Self; 5] = [Self::Sqlite, Self::Mysql, Self::Postgres, Self::Snowflake, Self::Duckdb];

    /// The `kind` of a connection in JSON, the API and the state database.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Mysql => "mysql",
            Self::Postgres => "postgres",
            Self::Snowflake => "snowflake",
            Self::Duckdb => "duckdb",
        }
    }

    /// The engine as people call it, for forms and messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Mysql => "MySQL / MariaDB",
            Self::Postgres => "PostgreSQL",
            Self::Snowflake => "Snowflake",
            Self::Duckdb => "DuckDB",
        }
    }

    /// The JSON fields of this kind that are secrets: split off on input, kept in the keyring,
    /// reported only as `has_<field>` on output. Each settings type declares its own.
    pub fn secret_fields(self) -> &'static [&'static str] {
        match self {
            Self::Sqlite => SqliteSettings::SECRET_FIELDS,
            Self::Mysql => MysqlSettings::SECRET_FIELDS,
            Self::Postgres => PostgresSettings::SECRET_FIELDS,
            Self::Snowflake => SnowflakeSettings::SECRET_FIELDS,
            Self::Duckdb => DuckdbSettings::SECRET_FIELDS,
        }
    }

    /// How statements built around a user's query are spelled for this engine.
    pub fn dialect(self) -> Dialect {
        match self {
            Self::Sqlite => Dialect::Sqlite,
            Self::Mysql => Dialect::Mysql,
            Self::Postgres => Dialect::Postgres,
            Self::Snowflake => Dialect::Snowflake,
            Self::Duckdb => Dialect::Duckdb,
        }
    }

    /// `sqlite, mysql, postgres, snowflake or duckdb`, for messages that list the kinds.
    pub fn names() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
        match names.split_last() {
            Some((last, [])) => (*last).to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for EngineKind {
    type Err = ConnectorError;

    /// Exactly the names `name` gives; other spellings (`mariadb`, `postgresql`) belong to the
    /// inputs that accept them, such as connection URLs.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == text)
            .ok_or_else(|| ConnectorError::invalid(format!("unknown kind {text:?}: use {}", Self::names())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_match_the_json_tag() {
        for kind in EngineKind::ALL {
            assert_eq!(kind.name().parse::<EngineKind>().unwrap(), kind);
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
            assert_eq!(kind.to_string(), kind.name());
        }
        assert!("oracle".parse::<EngineKind>().is_err());
        assert!("MySQL".parse::<EngineKind>().is_err());
        assert_eq!(EngineKind::names(), "sqlite, mysql, postgres, snowflake or duckdb");
    }

    #[test]
    fn all_lists_every_variant() {
        // serde's derive knows every variant: its error for an unknown name lists them all.
        let message = serde_json::from_str::<EngineKind>("\"?\"").unwrap_err().to_string();
        let listed = message.split("expected one of ").nth(1).and_then(|l| l.split(" at line").next());
        let variants: Vec<&str> =
            listed.unwrap_or_default().split(", ").map(|name| name.trim_matches('`')).collect();
        let all: Vec<&str> = EngineKind::ALL.iter().map(|kind| kind.name()).collect();
        assert_eq!(variants, all, "EngineKind::ALL must list every variant ({message})");
    }

    #[test]
    fn each_kind_names_its_secrets_and_dialect() {
        assert!(EngineKind::Sqlite.secret_fields().is_empty());
        assert_eq!(EngineKind::Mysql.secret_fields()[0], "password");
        assert!(EngineKind::Postgres.secret_fields().contains(&"ssh_private_key"));
        assert!(EngineKind::Snowflake.secret_fields().contains(&"private_key"));
        assert_eq!(EngineKind::Snowflake.dialect(), Dialect::Snowflake);
        assert_eq!(EngineKind::Postgres.dialect(), Dialect::Postgres);
    }

    #[test]
    fn every_kind_is_a_connection_settings_tag() {
        // ALL must list every variant: each parses as a connection kind, which serde spells from
        // the ConnectionSettings variants, and the settings report the same kind back.
        let inputs = [
            serde_json::json!({"kind": "sqlite", "path": "/x.db"}),
            serde_json::json!({"kind": "mysql", "host": "h", "user": "u"}),
            serde_json::json!({"kind": "postgres", "host": "h", "user": "u"}),
            serde_json::json!({"kind": "snowflake", "account": "a", "user": "u"}),
            serde_json::json!({"kind": "duckdb"}),
        ];
        assert_eq!(inputs.len(), EngineKind::ALL.len());
        for (input, kind) in inputs.into_iter().zip(EngineKind::ALL) {
            let serde_json::Value::Object(input) = input else { unreachable!() };
            let (settings, _) = crate::ConnectionSettings::from_input(input).unwrap();
            assert_eq!(settings.kind(), kind);
        }
    }
}
