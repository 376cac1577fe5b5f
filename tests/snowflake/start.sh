#!/usr/bin/env bash
# fakesnow + the JSON adapter (adapter.py) for the Snowflake tests.
#
#   tests/snowflake/start.sh setup    create or update the venv (.venv-fakesnow at the repo root)
#   tests/snowflake/start.sh [start]  setup, then start on a free port; prints the adapter URL
#   tests/snowflake/start.sh stop     stop the server started by `start`
#   tests/snowflake/start.sh status   print the URL if it is running
#
# `cargo test` starts its own adapter (connectors/tests/snowflake.rs); this script is for setting
# up the venv and for poking at the adapter by hand. Environment: DC_FAKESNOW_VENV (venv path),
# DC_FAKESNOW_PORT (default: any free port), DC_FAKESNOW_CHUNK_ROWS (default 5000).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${DC_FAKESNOW_VENV:-$root/.venv-fakesnow}"
run_dir="$root/target/fakesnow"
pid_file="$run_dir/adapter.pid"
url_file="$run_dir/adapter.url"
log_file="$run_dir/adapter.log"

setup() {
    if [ ! -x "$venv/bin/python" ]; then
        command -v python3 >/dev/null || { echo "python3 (>= 3.11) is required" >&2; exit 1; }
        python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
            || { echo "fakesnow 0.12.1 needs Python >= 3.11; found $(python3 --version)" >&2; exit 1; }
        python3 -m venv "$venv"
    fi
    # Reinstall only when the pins changed since the last successful install.
    if ! cmp -s "$here/requirements.txt" "$venv/.dc-requirements.txt"; then
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
        cp "$here/requirements.txt" "$venv/.dc-requirements.txt"
    fi
}

running() {
    [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

start() {
    setup
    mkdir -p "$run_dir"
    if running && [ -s "$url_file" ]; then
        cat "$url_file"
        return
    fi
    rm -f "$url_file"
    nohup "$venv/bin/python" "$here/adapter.py" \
        --port "${DC_FAKESNOW_PORT:-0}" \
        --chunk-rows "${DC_FAKESNOW_CHUNK_ROWS:-5000}" \
        --url-file "$url_file" >"$log_file" 2>&1 </dev/null &
    echo $! >"$pid_file"
    for _ in $(seq 1 300); do
        if [ -s "$url_file" ]; then
            cat "$url_file"
            return
        fi
        if ! running; then
            echo "the adapter exited; log:" >&2
            cat "$log_file" >&2
            rm -f "$pid_file"
            exit 1
        fi
        sleep 0.1
    done
    echo "the adapter did not come up within 30 s; log: $log_file" >&2
    stop
    exit 1
}

stop() {
    if running; then
        pid="$(cat "$pid_file")"
        kill -INT "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pid_file" "$url_file"
}

case "${1:-start}" in
    setup) setup ;;
    start) start ;;
    stop) stop ;;
    status)
        if running && [ -s "$url_file" ]; then cat "$url_file"; else echo "not running" >&2; exit 1; fi
        ;;
    *)
        echo "usage: $0 [setup|start|stop|status]" >&2
        exit 2
        ;;
esac
