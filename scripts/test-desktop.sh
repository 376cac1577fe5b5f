#!/usr/bin/env bash
# The desktop window's end-to-end test (src-tauri/tests/window.rs): installs what is missing,
# builds the app, then drives the real window over WebDriver under Xvfb, inside a private D-Bus
# session with an unlocked throwaway GNOME Keyring. Needs MariaDB on 127.0.0.1:3306 (root, no
# password), as scripts/test.sh provides, or DC_TEST_MYSQL_URL naming another server.
#
#   scripts/test-desktop.sh                  build and run the test
#   scripts/test-desktop.sh --install-only   only install system packages and tauri-driver
#   DC_SCREENSHOT_DIR=/some/dir scripts/test-desktop.sh   also keep the window's screenshots
#   DC_DESKTOP_APP=/path/to/data-connector-app scripts/test-desktop.sh   test that binary instead
#       (e.g. a release build) of the debug build
#
# Needs root (or passwordless sudo) only when something must be installed. Exit code = the test's.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/data-connector-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export PATH="$HOME/.cargo/bin:$PATH"
APP="${DC_DESKTOP_APP:-$CARGO_TARGET_DIR/debug/data-connector-app}"

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# ---- inside Xvfb + the keyring session (the script calls itself with --inner) ----------------
if [ "${1:-}" = "--inner" ]; then
    data=$(mktemp -d) driver=""
    cleanup() {
        if [ -n "$driver" ]; then
            # WebKitWebDriver is tauri-driver's child; stop it first so nothing outlives the session.
            pkill -TERM -P "$driver" 2>/dev/null || true
            kill "$driver" 2>/dev/null || true
            wait "$driver" 2>/dev/null || true
        fi
        rm -rf "$data"
    }
    trap cleanup EXIT
    # The app (started by WebKitWebDriver) inherits this: its state and settings go to a
    # throwaway folder, never the user's.
    export DATA_CONNECTOR_DATA_DIR="$data/state" TAURI_APP="$APP" DC_DESKTOP_E2E=1
    free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
    wd_port=$(free_port) native_port=$(free_port)
    export WEBDRIVER_URL="http://127.0.0.1:$wd_port"
    tauri-driver --port "$wd_port" --native-port "$native_port" >"$data/tauri-driver.log" 2>&1 &
    driver=$!
    # Poll the TCP port, not /status: asking before WebKitWebDriver is up makes tauri-driver
    # log a backtrace.
    for _ in $(seq 1 100); do port_open "$wd_port" && break; sleep 0.1; done
    if ! port_open "$wd_port"; then
        echo "tauri-driver did not start listening on $wd_port:" >&2
        cat "$data/tauri-driver.log" >&2
        exit 1
    fi
    status=0
    cargo test --workspace --test window --locked -- --nocapture || status=$?
    if [ "$status" -ne 0 ]; then
        echo "--- tauri-driver log" >&2
        tail -n 50 "$data/tauri-driver.log" >&2 || true
    fi
    exit "$status"
fi

say "desktop: system packages"
# Tauri 2's build dependencies on Debian, plus what the window test runs in. Never dbus-x11:
# it lets GIO autolaunch session buses that outlive the test.
packages=(libwebkit2gtk-4.1-dev build-essential libxdo-dev libssl-dev libayatana-appindicator3-dev
    librsvg2-dev pkg-config xvfb xauth dbus gnome-keyring libsecret-tools webkit2gtk-driver python3
    python3-xlib)
need=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
apt_install ${need[@]+"${need[@]}"}
if ! command -v tauri-driver >/dev/null; then
    echo "installing tauri-driver"
    cargo install tauri-driver --locked --version '^2'
fi
if [ "${1:-}" = "--install-only" ]; then
    exit 0
fi

if [ -z "${DC_TEST_MYSQL_URL:-}" ]; then
    say "desktop: MariaDB"
    if [ -x /usr/sbin/mariadbd ]; then start_mariadb || true; fi
    port_open 3306 || { echo "MariaDB is not listening on 127.0.0.1:3306; the window test needs it" >&2; exit 1; }
fi

say "desktop: build"
# --workspace, as scripts/test.sh builds: with `-p` Cargo resolves features for the app alone and
# rebuilds about a hundred crates (two minutes here) that the workspace build already has.
cargo build --workspace --bins --locked
cargo test --workspace --test window --locked --no-run

say "desktop: window test (Xvfb, keyring session, tauri-driver)"
xvfb-run -a -s "-screen 0 1280x800x24" scripts/with-keyring.sh scripts/test-desktop.sh --inner
