#!/usr/bin/env bash
# The one test command (README "Test"): installs what is missing, starts what the tests need,
# then runs formatting and lint checks and every test against the real services.
#
#   scripts/test.sh                 everything
#   scripts/test.sh -- --test server   extra arguments go to `cargo test`
#
# Needs root (or passwordless sudo) only when something must be installed or started.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

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
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
# The Workspace browser test (tests/workspace/browser.rs): Chromium driven by chromedriver, and
# openssl for the https://pro.openbb.co stand-in.
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v openssl >/dev/null || need+=(openssl)
if [ "${#need[@]}" -gt 0 ]; then
    echo "installing: ${need[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=900 \
        --no-install-recommends "${need[@]}"
else
    echo "all present"
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

say "services"
port_open() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
    for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
    echo "$2 did not start listening on 127.0.0.1:$1" >&2
    return 1
}
if ! port_open 3306; then
    echo "starting MariaDB"
    as_root mkdir -p /run/mysqld && as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
    wait_port 3306 MariaDB
fi
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
tests/snowflake/start.sh setup

say "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

say "tests (real keyring session)"
scripts/with-keyring.sh cargo test --workspace --locked "$@"
