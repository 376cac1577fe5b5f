//! What the test binaries of every crate share (root `tests/`, `connectors/tests/`,
//! `src-tauri/tests/`): the one skip rule, unique names, throwaway MariaDB and PostgreSQL
//! databases that honour the test connection settings, the fakesnow adapter standing in for
//! Snowflake, running a query through an engine, the type-case runner, and (feature `server`)
//! the real server on port 0.
//!
//! Test support, not product code: a failed expectation here is the calling test failing, with
//! the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod account;
pub mod duckdb;
pub mod engine;
pub mod fakesnow;
pub mod mysql;
pub mod names;
pub mod postgres;
#[cfg(feature = "server")]
pub mod server;
pub mod skip;
pub mod sshd;
pub mod types;

pub use names::unique;
pub use skip::{skipped, Need};

/// Runs async clean-up from `Drop`, which may happen while a test's runtime is blocked or
/// unwinding: a fresh thread with its own runtime always can.
pub fn block_on_fresh<F: std::future::Future<Output = ()> + Send + 'static>(work: F) {
    let _ = std::thread::spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
            rt.block_on(work);
        }
    })
    .join();
}

/// The repository's root folder.
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("tests/common sits two folders below the repository root")
        .to_path_buf()
}
