#!/usr/bin/env bash
# The packaging test (scripts/test.sh runs it last): builds the .deb and .rpm with
# scripts/package.sh, installs the .deb on this machine with apt-get, and checks what a user
# gets:
#   - `data-connector --version` from PATH, the desktop entry, icons and the systemd user unit;
#   - the time from `apt-get install` to the installed app's window on screen;
#   - the desktop window test (src-tauri/tests/window.rs) driving the installed app;
#   - src-tauri/tests/installed.rs: a second launch focuses the first, the XDG autostart entry
#     appears and goes, and the updater: silent offline, a bad signature refused, a newer
#     version (built here, signed with a throwaway key) downloaded from a local HTTP server and
#     installed by dpkg;
#   - `apt-get purge` leaves nothing behind but the user's data.
# The packages are made from the debug build scripts/test.sh has already compiled
# (`package.sh --debug`), so this costs bundling and two small relinks, not a release build.
#
# Needs root (or passwordless sudo): it installs and removes the `data-connector` package. Needs
# MariaDB on 127.0.0.1:3306 for the window test, as scripts/test.sh provides.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/data-connector-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export PATH="$HOME/.cargo/bin:$PATH"
APP=/usr/bin/data-connector-app
PACKAGE=data-connector

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
installed() { dpkg-query -W -f='${Status}' "$PACKAGE" 2>/dev/null | grep -q "install ok installed"; }

# ---- inside Xvfb + the keyring session (the script calls itself with --inner) ----------------
if [ "${1:-}" = "--inner" ]; then
    work="$2"
    say "package test: install"
    start=$(date +%s.%N)
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o DPkg::Lock::Timeout=900 "$work/v1/"*.deb >/dev/null
    # First launch as a new user would: no data folder yet, HOME a fresh one (its data folder is
    # the "user data" the purge must leave alone).
    # (with-keyring.sh points XDG_DATA_HOME at its keyring's folder; a user's session has none.)
    env -u XDG_DATA_HOME HOME="$work/home" "$APP" >"$work/first-launch.log" 2>&1 &
    app=$!
    /usr/bin/python3 src-tauri/tests/window_state.py "$app" shown 30 ||
        { cat "$work/first-launch.log" >&2; exit 1; }
    shown=$(date +%s.%N)
    printf 'install to window: %.1f s (apt-get install, then the first launch until its window maps)\n' \
        "$(echo "$shown - $start" | bc)"
    # The window's first request opens the data folder.
    for _ in $(seq 1 100); do [ -f "$work/home/.local/share/data-connector/state.db" ] && break; sleep 0.2; done
    kill "$app"
    wait "$app" 2>/dev/null || true
    [ -f "$work/home/.local/share/data-connector/state.db" ] ||
        { echo "the first launch made no data folder:" >&2; cat "$work/first-launch.log" >&2; exit 1; }

    say "package test: what the package installed"
    [ "$(command -v data-connector)" = /usr/bin/data-connector ] ||
        { echo "data-connector is not on PATH from the package" >&2; exit 1; }
    data-connector --version
    "$APP" --version
    dpkg -L "$PACKAGE" | sort >"$work/files"
    for f in /usr/bin/data-connector /usr/bin/data-connector-app /usr/lib/systemd/user/data-connector.service \
        "/usr/share/applications/Data Connector.desktop" /usr/share/icons/hicolor/128x128/apps/data-connector-app.png; do
        grep -qxF "$f" "$work/files" || { echo "the package lacks $f; it has:" >&2; cat "$work/files" >&2; exit 1; }
    done
    grep -q '^Exec=data-connector-app' "/usr/share/applications/Data Connector.desktop"
    dpkg-query -W -f='${Depends}\n' "$PACKAGE"

    say "package test: the window test against the installed app"
    # TAURI_CONFIG (exported before --inner) is what the last package build compiled the app
    # with; the same value lets cargo reuse that build for the test binaries.
    DC_DESKTOP_APP="$APP" scripts/test-desktop.sh --inner

    say "package test: one instance, start on login, updates"
    mkdir -p "$work/app-home" "$work/state"
    wd_port=$(free_port) native_port=$(free_port)
    HOME="$work/app-home" DATA_CONNECTOR_DATA_DIR="$work/state" \
        tauri-driver --port "$wd_port" --native-port "$native_port" >"$work/tauri-driver.log" 2>&1 &
    driver=$!
    stop_driver() {
        pkill -TERM -P "$driver" 2>/dev/null || true
        kill "$driver" 2>/dev/null || true
        wait "$driver" 2>/dev/null || true
    }
    trap stop_driver EXIT
    for _ in $(seq 1 100); do port_open "$wd_port" && break; sleep 0.1; done
    status=0
    DC_PACKAGE_E2E=1 TAURI_APP="$APP" DC_APP_HOME="$work/app-home" DC_UPDATE_DIR="$work/update" \
        DC_UPDATE_PORT="$(cat "$work/update-port")" DC_UPDATE_VERSION="$(cat "$work/update-version")" \
        WEBDRIVER_URL="http://127.0.0.1:$wd_port" \
        cargo test --workspace --test installed --locked -- --nocapture || status=$?
    if [ "$status" -ne 0 ]; then
        echo "--- tauri-driver log" >&2
        tail -n 50 "$work/tauri-driver.log" >&2 || true
    fi
    exit "$status"
fi

script_start=$(date +%s)
say "package test: system packages"
scripts/test-desktop.sh --install-only
# The updater installs with pkexec, a password dialog or sudo; as root here, sudo needs none.
# rpm only reads the .rpm's metadata. bc does the timing arithmetic.
need=()
for pkg in sudo rpm bc; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
apt_install ${need[@]+"${need[@]}"}
if installed; then
    echo "$PACKAGE is installed already; this test installs and purges it, so remove it first" >&2
    exit 1
fi
tauri="$(tauri_cli)"
work=$(mktemp -d)
cleanup() {
    # A failed run must not leave the package installed on a developer's machine.
    if installed; then as_root apt-get purge -y -qq "$PACKAGE" >/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

say "package test: throwaway update keys"
# The installed app trusts update.key's public half; other.key stands for anyone else.
"$tauri" signer generate --ci -p "" -w "$work/update.key" >/dev/null
"$tauri" signer generate --ci -p "" -w "$work/other.key" >/dev/null
update_port=$(free_port)
echo "$update_port" >"$work/update-port"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
next=$(echo "$version" | awk -F. '{ printf "%d.%d.%d", $1, $2, $3 + 1 }')
echo "$next" >"$work/update-version"
config() {
    python3 - "$1" "$(cat "$work/update.key.pub")" "$update_port" <<'EOF'
import json, sys
version, pubkey, port = sys.argv[1:]
print(json.dumps({"version": version, "plugins": {"updater": {
    "pubkey": pubkey,
    "endpoints": [f"http://127.0.0.1:{port}/latest.json"],
    # The test's server is plain HTTP on loopback; releases use https.
    "dangerousInsecureTransportProtocol": True}}}))
EOF
}
config "$version" >"$work/v1.json"
config "$next" >"$work/v2.json"

say "package test: build $version (installed) and $next (the update)"
build_start=$(date +%s)
export TAURI_SIGNING_PRIVATE_KEY="$work/update.key" TAURI_SIGNING_PRIVATE_KEY_PASSWORD=""
DC_PACKAGE_CONFIG="$(cat "$work/v1.json")" DC_PACKAGE_OUT="$work/v1" scripts/package.sh --debug
DC_PACKAGE_CONFIG="$(cat "$work/v2.json")" DC_PACKAGE_OUT="$work/v2" scripts/package.sh --debug --bundles deb
unset TAURI_SIGNING_PRIVATE_KEY TAURI_SIGNING_PRIVATE_KEY_PASSWORD
echo "both builds: $(($(date +%s) - build_start)) s"
mkdir -p "$work/update"
cp "$work/v2/"*.deb "$work/update/update.deb"
cp "$work/v2/"*.deb.sig "$work/update/good.sig"
cp "$work/v2/"*.deb "$work/bad.deb"
"$tauri" signer sign -f "$work/other.key" -p "" "$work/bad.deb" >/dev/null
cp "$work/bad.deb.sig" "$work/update/bad.sig"
ls -l "$work/v1" "$work/v2"

say "package test: the packages' metadata"
deb=$(ls "$work/v1/"*.deb) rpm=$(ls "$work/v1/"*.rpm)
dpkg-deb -f "$deb" Package Version Depends Recommends
# Whole outputs first: `producer | grep -q` fails under pipefail when grep stops reading early.
deb_depends=$(dpkg-deb -f "$deb" Depends) rpm_requires=$(rpm -qp --requires "$rpm" 2>/dev/null)
rpm_files=$(rpm -qpl "$rpm" 2>/dev/null)
grep -q libwebkit2gtk-4.1-0 <<<"$deb_depends" || { echo "the .deb does not depend on WebKitGTK" >&2; exit 1; }
grep -q '^libwebkit2gtk-4.1' <<<"$rpm_requires" || { echo "the .rpm does not require WebKitGTK" >&2; exit 1; }
for f in /usr/bin/data-connector /usr/bin/data-connector-app /usr/lib/systemd/user/data-connector.service; do
    grep -qxF "$f" <<<"$rpm_files" || { echo "the .rpm lacks $f" >&2; exit 1; }
done
printf 'sizes: .deb %s, .rpm %s (bytes)\n' "$(stat -c %s "$deb")" "$(stat -c %s "$rpm")"

if [ -z "${DC_TEST_MYSQL_URL:-}" ]; then
    if [ -x /usr/sbin/mariadbd ]; then start_mariadb || true; fi
    port_open 3306 || { echo "MariaDB is not listening on 127.0.0.1:3306; the window test needs it" >&2; exit 1; }
fi
# As the last package build compiled the app (see --inner), so nothing compiles twice.
export TAURI_CONFIG="$(cat "$work/v2.json")"
cargo test --workspace --test installed --test window --locked --no-run
xvfb-run -a -s "-screen 0 1280x800x24" scripts/with-keyring.sh scripts/test-package.sh --inner "$work"

say "package test: purge"
as_root apt-get purge -y -qq "$PACKAGE" >/dev/null
if installed; then echo "$PACKAGE is still installed after purge" >&2; exit 1; fi
left=()
while IFS= read -r f; do
    # Directories the system shares (/usr/bin, ...) stay; files of the package must go.
    if [ -e "$f" ] && [ ! -d "$f" ]; then left+=("$f"); fi
done <"$work/files"
if [ "${#left[@]}" -gt 0 ]; then
    echo "left behind after purge: ${left[*]}" >&2
    exit 1
fi
for exe in /proc/[0-9]*/exe; do
    case "$(readlink "$exe" 2>/dev/null)" in
        "$APP"*) echo "an installed app process outlived the purge: $exe" >&2; exit 1 ;;
    esac
done
[ -f "$work/home/.local/share/data-connector/state.db" ] ||
    { echo "the purge removed the user's data folder" >&2; exit 1; }
echo "purged: the package's files are gone; the user's data folder stays"
echo "packaging test: $(($(date +%s) - script_start)) s"
