//! The one skip rule. Some tests need what a developer's machine may lack: a database server,
//! the OS keyring, Chromium, a desktop session. They run by default and fail with a clear
//! message when it is missing. `DC_SKIP_<THING>=1` skips them on purpose, saying so loudly; any
//! other value, or none, runs them. Under CI (`CI` set to anything but empty, `0` or `false`) a
//! skip request is refused with a panic, so CI never passes a test it did not run.

use std::io::Write as _;

/// What a test needs that a machine may lack, each with its opt-out variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// MySQL or MariaDB (`DC_TEST_MYSQL_URL`, default root@127.0.0.1:3306).
    Mysql,
    /// PostgreSQL (`DC_TEST_POSTGRES_URL`, default postgres@127.0.0.1:5432).
    Postgres,
    /// The fakesnow venv behind tests/fixtures/fakesnow.
    Snowflake,
    /// The real OS keyring (`scripts/with-keyring.sh`).
    Keyring,
    /// Chromium, chromedriver and port 443.
    Browser,
    /// Xvfb, a keyring session and tauri-driver (`scripts/test-desktop.sh`).
    Desktop,
    /// The official MCP Python SDK in its venv (`tests/mcp/setup.sh`).
    Mcp,
    /// OpenSSH's `sshd` and `ssh-keygen` (package `openssh-server`), for SSH tunnel tests.
    Sshd,
    /// The desktop app installed from the .deb this checkout built (`scripts/test-package.sh`).
    Package,
    /// pyarrow and polars in their venv (`tests/arrow/setup.sh`), which read our Arrow streams.
    Arrow,
    /// DuckDB's Python package in `.venv-duckdb` (`tests/fixtures/duckdb/setup.sh`), which writes
    /// the DuckDB engine's fixture files.
    Duckdb,
}

impl Need {
    /// The variable that opts out of tests with this need.
    pub fn variable(self) -> &'static str {
        match self {
            Self::Mysql => "DC_SKIP_MYSQL",
            Self::Postgres => "DC_SKIP_POSTGRES",
            Self::Snowflake => "DC_SKIP_SNOWFLAKE",
            Self::Keyring => "DC_SKIP_KEYRING",
            Self::Browser => "DC_SKIP_BROWSER",
            Self::Desktop => "DC_SKIP_DESKTOP",
            Self::Mcp => "DC_SKIP_MCP",
            Self::Sshd => "DC_SKIP_SSHD",
            Self::Package => "DC_SKIP_PACKAGE",
            Self::Arrow => "DC_SKIP_ARROW",
            Self::Duckdb => "DC_SKIP_DUCKDB",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Self::Mysql => "MySQL/MariaDB",
            Self::Postgres => "PostgreSQL",
            Self::Snowflake => "fakesnow (Snowflake's wire protocol)",
            Self::Keyring => "the OS keyring",
            Self::Browser => "Chromium",
            Self::Desktop => "the desktop window session",
            Self::Mcp => "the MCP Python SDK",
            Self::Sshd => "OpenSSH's sshd",
            Self::Package => "the installed desktop package",
            Self::Arrow => "pyarrow and polars",
            Self::Duckdb => "DuckDB's Python package (the fixtures' writer)",
        }
    }
}

/// Whether the calling test should return now because the developer opted out of `need`.
/// Prints the skip where `cargo test` shows it; panics instead under CI.
pub fn skipped(need: Need) -> bool {
    let test = std::thread::current().name().unwrap_or("this test").to_string();
    let skip = decide(need, std::env::var_os(need.variable()).as_deref(), in_ci(), &test);
    if skip {
        // Straight to the process's stderr: `eprintln!` would be captured, and shown only if the
        // test failed, which a skipped test never does.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED {test}: {}=1 opts out of tests that need {}. Unset it to run them. ***\n",
            need.variable(),
            need.what()
        );
    }
    skip
}

/// Whether a test that needs the real OS keyring may run: inside `scripts/with-keyring.sh`,
/// which sets `DC_KEYRING_SESSION`, it does. Elsewhere it panics saying how to run it (a skipped
/// keyring test would hide a broken store), unless `DC_SKIP_KEYRING=1` opted out.
pub fn keyring_session() -> bool {
    if skipped(Need::Keyring) {
        return false;
    }
    assert!(
        std::env::var_os("DC_KEYRING_SESSION").is_some(),
        "this test needs the real OS keyring: run it as `scripts/with-keyring.sh cargo test ...` \
         (or set DC_SKIP_KEYRING=1 to skip it locally)"
    );
    true
}

/// Whether this run is CI's.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false")))
}

fn decide(need: Need, value: Option<&std::ffi::OsStr>, ci: bool, test: &str) -> bool {
    if value != Some("1".as_ref()) {
        return false;
    }
    let variable = need.variable();
    assert!(!ci, "{variable}=1 asks to skip {test}, but CI is set and CI runs every test: unset {variable}");
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_1_skips() {
        assert!(decide(Need::Mysql, Some("1".as_ref()), false, "t"));
        for other in ["0", "", "yes", "true", " 1"] {
            assert!(!decide(Need::Mysql, Some(other.as_ref()), false, "t"), "{other:?}");
        }
        assert!(!decide(Need::Mysql, None, false, "t"));
        // Not asked to skip: CI runs it like anyone else.
        assert!(!decide(Need::Keyring, None, true, "t"));
    }

    #[test]
    #[should_panic(expected = "CI runs every test")]
    fn ci_refuses_to_skip() {
        decide(Need::Postgres, Some("1".as_ref()), true, "t");
    }
}
