//! What a DuckDB connection stores: the database file, if any, and whether it may be written.

use crate::settings::{default_true, EngineSettings};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuckdbSettings {
    /// Absolute path of a `.duckdb` file; without one the database lives in memory and queries
    /// read files (`read_parquet('/data/*.parquet')`, `'/data/prices.csv'`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    #[serde(default = "default_true")]
    pub read_only: bool,
}

impl EngineSettings for DuckdbSettings {
    /// A file (or memory) opens without credentials.
    const SECRET_FIELDS: &'static [&'static str] = &[];

    fn read_only(&self) -> bool {
        self.read_only
    }
}
