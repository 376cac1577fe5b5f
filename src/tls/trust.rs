//! Installing the local CA into trust stores, only when the user asks
//! (`data-connector tls install-ca`, or the desktop app's TLS switch). Each store is changed
//! through the OS's own tool, so the user can inspect and undo it with the same tool:
//!
//! - Linux: the NSS database Chromium and Firefox (when configured) read, `~/.pki/nssdb`,
//!   with `certutil` (Debian/Ubuntu package `libnss3-tools`); with `--system` also
//!   `/usr/local/share/ca-certificates` plus `update-ca-certificates`, which needs root.
//! - macOS: the login keychain, `security add-trusted-cert` (macOS asks for the password).
//! - Windows: the current user's Root store, `certutil -user -addstore` (Windows asks to confirm).
//!
//! Only the Linux commands are exercised by the tests (tests/tls); the others are written from
//! the tools' documentation.

use super::ca::CA_NAME;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Which stores to change, beyond the user's own default.
#[derive(Debug, Clone, Default)]
pub struct Stores {
    /// Linux: also the system store (needs root). Ignored elsewhere.
    pub system: bool,
}

/// Trusts the CA certificate at `ca_pem`. Returns one line per store changed.
pub fn install(ca_pem: &Path, stores: &Stores) -> Result<Vec<String>> {
    os::install(ca_pem, stores)
}

/// Removes what `install` added. Returns one line per store changed.
pub fn uninstall(ca_pem: &Path, stores: &Stores) -> Result<Vec<String>> {
    os::uninstall(ca_pem, stores)
}

fn run(program: &str, args: &[&str], hint: &str) -> Result<()> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| Error::Startup(format!("cannot run {program}: {e}; {hint}")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(Error::Startup(format!(
            "{program} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str().ok_or_else(|| Error::Startup(format!("{} is not valid UTF-8", path.display())))
}

/// The user's NSS database, read by Chromium on Linux.
pub fn nss_db() -> Result<PathBuf> {
    let home = std::env::var_os("HOME").ok_or_else(|| Error::Startup("HOME is not set".into()))?;
    Ok(PathBuf::from(home).join(".pki").join("nssdb"))
}

#[cfg(target_os = "linux")]
mod os {
    use super::*;

    const CERTUTIL_HINT: &str = "install certutil (Debian/Ubuntu: apt install libnss3-tools)";
    const SYSTEM_FILE: &str = "/usr/local/share/ca-certificates/data-connector-local-ca.crt";

    pub(super) fn install(ca_pem: &Path, stores: &Stores) -> Result<Vec<String>> {
        let db = nss_db()?;
        let spec = format!("sql:{}", path_str(&db)?);
        if !db.join("cert9.db").exists() {
            std::fs::create_dir_all(&db)
                .map_err(|e| Error::Startup(format!("cannot create {}: {e}", db.display())))?;
            run("certutil", &["-N", "-d", &spec, "--empty-password"], CERTUTIL_HINT)?;
        }
        // "C,,": a CA trusted to issue server certificates, nothing else.
        run(
            "certutil",
            &["-A", "-d", &spec, "-n", CA_NAME, "-t", "C,,", "-i", path_str(ca_pem)?],
            CERTUTIL_HINT,
        )?;
        let mut done =
            vec![format!("trusted in the NSS database {} (Chromium, Firefox with it)", db.display())];
        if stores.system {
            std::fs::copy(ca_pem, SYSTEM_FILE).map_err(|e| {
                Error::Startup(format!(
                    "cannot write {SYSTEM_FILE}: {e} (the system store needs root: run with sudo)"
                ))
            })?;
            run("update-ca-certificates", &[], "install the ca-certificates package")?;
            done.push(format!("trusted system-wide ({SYSTEM_FILE})"));
        }
        Ok(done)
    }

    pub(super) fn uninstall(_ca_pem: &Path, stores: &Stores) -> Result<Vec<String>> {
        let db = nss_db()?;
        let mut done = Vec::new();
        if db.join("cert9.db").exists() {
            let spec = format!("sql:{}", path_str(&db)?);
            run("certutil", &["-D", "-d", &spec, "-n", CA_NAME], CERTUTIL_HINT)?;
            done.push(format!("removed from the NSS database {}", db.display()));
        }
        if stores.system && Path::new(SYSTEM_FILE).exists() {
            std::fs::remove_file(SYSTEM_FILE).map_err(|e| {
                Error::Startup(format!(
                    "cannot remove {SYSTEM_FILE}: {e} (the system store needs root: run with sudo)"
                ))
            })?;
            run("update-ca-certificates", &["--fresh"], "install the ca-certificates package")?;
            done.push(format!("removed from the system store ({SYSTEM_FILE})"));
        }
        Ok(done)
    }
}

#[cfg(target_os = "macos")]
mod os {
    use super::*;

    fn login_keychain() -> Result<String> {
        let home = std::env::var("HOME").map_err(|_| Error::Startup("HOME is not set".into()))?;
        Ok(format!("{home}/Library/Keychains/login.keychain-db"))
    }

    pub(super) fn install(ca_pem: &Path, _stores: &Stores) -> Result<Vec<String>> {
        let keychain = login_keychain()?;
        run(
            "security",
            &["add-trusted-cert", "-r", "trustRoot", "-p", "ssl", "-k", &keychain, path_str(ca_pem)?],
            "the security tool ships with macOS",
        )?;
        Ok(vec![format!("trusted in the login keychain ({keychain}) for TLS")])
    }

    pub(super) fn uninstall(ca_pem: &Path, _stores: &Stores) -> Result<Vec<String>> {
        run("security", &["remove-trusted-cert", path_str(ca_pem)?], "the security tool ships with macOS")?;
        run(
            "security",
            &["delete-certificate", "-c", CA_NAME, &login_keychain()?],
            "the security tool ships with macOS",
        )?;
        Ok(vec!["removed from the login keychain".into()])
    }
}

#[cfg(windows)]
mod os {
    use super::*;

    pub(super) fn install(ca_pem: &Path, _stores: &Stores) -> Result<Vec<String>> {
        run("certutil", &["-user", "-addstore", "Root", path_str(ca_pem)?], "certutil ships with Windows")?;
        Ok(vec!["trusted in the current user's Root store".into()])
    }

    pub(super) fn uninstall(_ca_pem: &Path, _stores: &Stores) -> Result<Vec<String>> {
        run("certutil", &["-user", "-delstore", "Root", CA_NAME], "certutil ships with Windows")?;
        Ok(vec!["removed from the current user's Root store".into()])
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
mod os {
    use super::*;

    pub(super) fn install(ca_pem: &Path, _stores: &Stores) -> Result<Vec<String>> {
        Err(Error::Startup(format!("add {} to this system's trust store by hand", ca_pem.display())))
    }

    pub(super) fn uninstall(_ca_pem: &Path, _stores: &Stores) -> Result<Vec<String>> {
        Err(Error::Startup(format!("remove \"{CA_NAME}\" from this system's trust store by hand")))
    }
}
