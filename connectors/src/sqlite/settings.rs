//! What a SQLite connection stores: the file, and whether it may be written.

use crate::settings::{default_true, EngineSettings};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteSettings {
    /// Absolute path of the database file.
    pub path: PathBuf,
    #[serde(default = "default_true")]
    pub read_only: bool,
}

impl EngineSettings for SqliteSettings {
    /// A file opens without credentials.
    const SECRET_FIELDS: &'static [&'static str] = &[];

    fn read_only(&self) -> bool {
        self.read_only
    }
}
