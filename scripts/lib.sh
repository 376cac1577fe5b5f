# Shell helpers shared by scripts/test.sh and scripts/test-desktop.sh (sourced, not run).

say() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
port_open() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The tests' one skip rule (tests/common/src/skip.rs), for the scripts: DC_SKIP_<THING>=1 opts
# out and says so; any other value runs. Under CI a skip request is refused, so CI never passes
# what it did not run.
in_ci() {
    local ci="${CI:-}"
    case "${ci,,}" in "" | 0 | false) return 1 ;; *) return 0 ;; esac
}

skip_requested() {
    local var="DC_SKIP_$1"
    [ "${!var:-}" = "1" ] || return 1
    if in_ci; then
        echo "$var=1 asks to skip, but CI is set and CI runs every test: unset $var" >&2
        exit 1
    fi
    echo "*** SKIPPED: $var=1 opts out of $2. Unset it to run them. ***"
    return 0
}

wait_port() {
    for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
    echo "$2 did not start listening on 127.0.0.1:$1" >&2
    return 1
}

# Installs the named Debian packages (no recommends), or says that nothing was missing.
apt_install() {
    if [ "$#" -eq 0 ]; then
        echo "all present"
        return 0
    fi
    echo "installing: $*"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=900 \
        --no-install-recommends "$@"
}

start_mariadb() {
    port_open 3306 && return 0
    echo "starting MariaDB"
    as_root mkdir -p /run/mysqld && as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
    as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
    wait_port 3306 MariaDB
}

# The Tauri CLI (bundling, icons, update signing) from npm's @tauri-apps/cli, which ships a
# prebuilt binary: seconds to install instead of a ten-minute `cargo install tauri-cli`. It lives
# in a cache outside the checkout, pinned to the tauri version in Cargo.lock's major.minor line.
# Prints the path of the `tauri` command.
TAURI_CLI_VERSION=2.12.5
tauri_cli() {
    local dir="${DC_TOOLS_DIR:-$HOME/.cache/data-connector-tools}"
    local bin="$dir/node_modules/.bin/tauri"
    if [ ! -x "$bin" ] || [ "$("$bin" --version 2>/dev/null)" != "tauri-cli $TAURI_CLI_VERSION" ]; then
        command -v npm >/dev/null || apt_install npm >&2
        mkdir -p "$dir"
        echo "installing @tauri-apps/cli@$TAURI_CLI_VERSION into $dir" >&2
        npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error \
            "@tauri-apps/cli@$TAURI_CLI_VERSION" >&2
    fi
    echo "$bin"
}
