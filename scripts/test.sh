#!/usr/bin/env bash
# The one test command (README "Test"): installs what is missing, starts what the tests need,
# then runs formatting and lint checks and every test against the real services.
#
#   scripts/test.sh                 everything
#   scripts/test.sh -- --test server   extra arguments go to `cargo test`
#   DC_SKIP_DESKTOP=1 scripts/test.sh  everything but the desktop window (no WebKitGTK needed;
#                                      refused under CI, like every DC_SKIP_* variable)
#   DC_SKIP_PACKAGE=1 scripts/test.sh  everything but the packaging test (which installs and
#                                      purges the data-connector package on this machine)
#
# Needs root (or passwordless sudo) only when something must be installed or started.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# A target dir outside the checkout lets fresh clones on the same machine reuse builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/data-connector-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

say "system packages"
need=()
command -v dbus-run-session >/dev/null || need+=(dbus)
command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring)
command -v secret-tool >/dev/null || need+=(libsecret-tools)
command -v curl >/dev/null || need+=(curl)
command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server mariadb-client)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null || need+=(openssh-server)  # SSH tunnel tests (tests/common/src/sshd.rs)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
# The Workspace browser test (tests/custom_backend/browser.rs): Chromium driven by chromedriver, and
# openssl for the https://pro.openbb.co stand-in.
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v openssl >/dev/null || need+=(openssl)
# serve --tls (tests/tls): certutil fills the NSS database Chromium trusts.
command -v certutil >/dev/null || need+=(libnss3-tools)
# The Windows build check: C parts of dependencies (SQLite, ring) compile with MinGW.
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64)
apt_install ${need[@]+"${need[@]}"}
# The desktop app (src-tauri/) links WebKitGTK, so even clippy needs its -dev packages.
if skip_requested DESKTOP "the desktop app's lints and tests"; then
    desktop=no
    workspace=(--workspace --exclude data-connector-app)
else
    desktop=yes
    scripts/test-desktop.sh --install-only
    workspace=(--workspace)
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
rustup target list --installed 2>/dev/null | grep -qx x86_64-pc-windows-gnu ||
    rustup target add x86_64-pc-windows-gnu

say "services"
start_mariadb
if ! port_open 5432; then
    echo "starting PostgreSQL"
    cluster=$(ls /etc/postgresql | sort -V | tail -n 1)
    as_root pg_ctlcluster --skip-systemctl-redirect "$cluster" main start
    wait_port 5432 PostgreSQL
fi
# The tests log in over TCP as in production: root without a password on MariaDB, trust on PostgreSQL.
mariadb -h 127.0.0.1 -u root -e 'SELECT 1' >/dev/null
psql -h 127.0.0.1 -U postgres -d postgres -c 'SELECT 1' >/dev/null 2>&1 ||
    psql -h 127.0.0.1 -d postgres -c 'SELECT 1' >/dev/null
echo "MariaDB and PostgreSQL are up"

say "fakesnow (Snowflake wire protocol)"
tests/fixtures/fakesnow/start.sh setup

say "MCP Python SDK (the client tests/mcp drives)"
tests/mcp/setup.sh

say "pyarrow and polars (read the Arrow streams in tests/server/arrow.rs)"
tests/arrow/setup.sh
say "DuckDB's Python package (writes the DuckDB engine's fixtures)"
tests/fixtures/duckdb/setup.sh

say "format and lints"
cargo fmt --all -- --check
cargo clippy "${workspace[@]}" --all-targets --locked -- -D warnings

say "Windows build check (x86_64-pc-windows-gnu: compiles and passes clippy)"
# What can be checked of the Windows app without Windows: every crate, the desktop app included,
# type-checks and lints for it (the release workflow builds the real .msi on a Windows runner).
cargo clippy "${workspace[@]}" --all-targets --locked --target x86_64-pc-windows-gnu -- -D warnings

say "tests (real keyring session)"
# The stable-toolchain fuzz targets (tests/fuzz) run this long each.
export DC_FUZZ_SECONDS="${DC_FUZZ_SECONDS:-30}"
# tests/hardening's load test: two phases of this many seconds at 64 clients; it prints its
# figures (answers/s, p99, non-2xx) with the slowloris, fuzz and kill -9 figures.
export DC_LOAD_SECONDS="${DC_LOAD_SECONDS:-10}"
# The window's own tests (module window_e2e of src-tauri/tests/window.rs) need Xvfb and
# tauri-driver around them, and the installed package's (installed_e2e, src-tauri/tests/
# installed.rs) the package installed: they run in the next steps, filtered out of this one by name.
harness=(--skip window_e2e:: --skip installed_e2e::)
if [[ " $* " == *" -- "* ]]; then set -- "$@" "${harness[@]}"; else set -- "$@" -- "${harness[@]}"; fi
scripts/with-keyring.sh cargo test "${workspace[@]}" --locked "$@"

if [ "$desktop" = yes ]; then
    say "desktop window (Xvfb, keyring session, tauri-driver)"
    scripts/test-desktop.sh
    if ! skip_requested PACKAGE "building, installing and removing the .deb"; then
        say "packages (.deb/.rpm built, the .deb installed, driven and purged)"
        scripts/test-package.sh
    fi
fi
