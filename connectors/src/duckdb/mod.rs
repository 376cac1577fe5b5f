//! DuckDB through the `duckdb` crate (bundled, with Parquet and JSON compiled in): a `.duckdb`
//! file, opened read-only unless the connection allows writes, or an in-memory database whose
//! queries read local files (`read_parquet`, `read_csv`, `read_json`, `'prices.csv'`). A folder
//! as the path is an in-memory database whose relative file names start in that folder
//! (DuckDB's `file_search_path`).
//!
//! Read-only means nothing on disk changes. DuckDB holds part of that line itself: the file opens
//! with `access_mode = READ_ONLY`; extensions are never installed or loaded (the ones queries
//! need are compiled in); persistent secrets are off; spilling goes to our own temporary folder,
//! never next to the user's file; and `lock_configuration` makes every setting final, so no `SET`
//! or `PRAGMA` can widen access later. The statement guard (`statement.rs`, DuckDB dialect)
//! holds the rest: only reading statements on read-only runs, and never `COPY ... TO`,
//! `EXPORT`/`IMPORT DATABASE`, `INSTALL`, `LOAD` or `ATTACH` on any connection.
//!
//! Each run takes its own connection to the one database instance and streams Arrow batches
//! from DuckDB's streaming result on a blocking thread into the sink; a watcher task interrupts
//! the query (DuckDB's `InterruptHandle`) at its deadline or when the client has gone.
//!
//! The engine (`engine.rs`, with `error`, `params`, `schema` and `value`) is left out of builds
//! for `windows-gnu`: that target exists here only for the Windows lint check, and DuckDB's C++
//! would need MinGW's C++ compiler and a second half-hour compile for it; there a DuckDB
//! connection is refused as unsupported. The Windows release (MSVC) includes the engine.

#[cfg(not(all(windows, target_env = "gnu")))]
mod engine;
#[cfg(not(all(windows, target_env = "gnu")))]
mod error;
#[cfg(not(all(windows, target_env = "gnu")))]
mod params;
#[cfg(not(all(windows, target_env = "gnu")))]
mod schema;
mod settings;
#[cfg(not(all(windows, target_env = "gnu")))]
mod value;

#[cfg(not(all(windows, target_env = "gnu")))]
pub use engine::DuckdbEngine;
pub use settings::DuckdbSettings;

/// Opens the engine the settings describe, where this build has one.
pub(crate) async fn open(settings: DuckdbSettings) -> crate::Result<std::sync::Arc<dyn crate::Engine>> {
    #[cfg(not(all(windows, target_env = "gnu")))]
    {
        Ok(std::sync::Arc::new(DuckdbEngine::open(settings).await?))
    }
    #[cfg(all(windows, target_env = "gnu"))]
    {
        let _ = settings;
        Err(crate::ConnectorError::unsupported(
            "this build has no DuckDB engine (windows-gnu builds leave it out)",
        ))
    }
}
