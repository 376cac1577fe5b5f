//! The DuckDB engine's fixture files, written by DuckDB's Python package (a different writer than
//! the Rust crate under test) into a fresh folder per test binary: see
//! tests/fixtures/duckdb/make.py for what is in it. The venv comes from
//! tests/fixtures/duckdb/setup.sh, which scripts/test.sh runs.

use crate::{repo_root, skipped, Need};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The folder of fixtures, made on first use; `None` when the developer opted out
/// (`DC_SKIP_DUCKDB=1`). Panics with the fix when the venv is missing. The folder is named after
/// the fingerprint of make.py, so test binaries share it and a changed script makes a new one;
/// it is written to a scratch folder first and renamed into place whole. Tests only read it:
/// one that writes copies what it needs into its own folder.
pub fn fixtures() -> Option<&'static Path> {
    if skipped(Need::Duckdb) {
        return None;
    }
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    Some(DIR.get_or_init(make).as_path())
}

fn make() -> PathBuf {
    let script = repo_root().join("tests/fixtures/duckdb/make.py");
    let (len, hash) = checksum(&script);
    let dir = std::env::temp_dir().join(format!("dc-duckdb-fixtures-{len}-{hash:016x}"));
    if dir.join("big.parquet").exists() {
        return dir;
    }
    let python = std::env::var_os("DC_DUCKDB_VENV")
        .map_or_else(|| repo_root().join(".venv-duckdb"), PathBuf::from)
        .join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: run tests/fixtures/duckdb/setup.sh (scripts/test.sh does), or set DC_SKIP_DUCKDB=1",
        python.display()
    );
    let scratch = std::env::temp_dir().join(crate::unique("dc-duckdb-fixtures-new"));
    let status = Command::new(&python).arg(&script).arg(&scratch).status().expect("run make.py");
    assert!(status.success(), "{} {} failed: {status}", python.display(), script.display());
    // Another test binary may have finished first: its folder is as good as ours.
    if std::fs::rename(&scratch, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    assert!(dir.join("big.parquet").exists(), "{} was not made", dir.display());
    dir
}

/// SHA-256-free fingerprint of a file's bytes (length and a 64-bit FNV-1a hash), for checking
/// that a read-only run left a file exactly as it was.
pub fn checksum(path: &Path) -> (u64, u64) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in &bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (bytes.len() as u64, hash)
}

/// Every file under `dir` with its checksum, sorted: a run that creates, deletes or changes a
/// file there changes this list.
pub fn tree_checksums(dir: &Path) -> Vec<(PathBuf, (u64, u64))> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("read {}: {e}", d.display())) {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                out.push((path.clone(), (0, 0)));
                stack.push(path);
            } else {
                let sum = checksum(&path);
                out.push((path, sum));
            }
        }
    }
    out.sort();
    out
}
