#!/bin/sh
# Runs a command against a real, unlocked, throwaway OS keyring (GNOME Keyring over Secret
# Service) on a private D-Bus session bus, so tests exercise the real store without touching
# the user's own keyring. Everything started here exits with the session.
#
#   scripts/with-keyring.sh cargo test --workspace --test keyring_store
#
# The command's exit code is passed through.
set -eu

if [ "$#" -eq 0 ]; then
    echo "usage: $0 <command> [args...]" >&2
    exit 2
fi

missing=""
for cmd in dbus-run-session dbus-send gnome-keyring-daemon secret-tool; do
    command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
done
if [ -n "$missing" ]; then
    echo "with-keyring.sh: missing:$missing" >&2
    echo "Install them with: apt-get install -y --no-install-recommends dbus gnome-keyring libsecret-tools" >&2
    echo "(do not install dbus-x11: it lets GIO autolaunch buses that outlive the tests)" >&2
    exit 127
fi

# The inner shell gets the command as "$@" so arguments with spaces survive unchanged.
exec dbus-run-session -- sh -c '
    set -eu
    data=$(mktemp -d) runtime=$(mktemp -d) daemon=""
    cleanup() {
        # Stop the daemon while its bus still exists; one that missed the bus closing would
        # otherwise outlive the session.
        if [ -n "$daemon" ]; then kill "$daemon" 2>/dev/null || true; fi
        rm -rf "$data" "$runtime"
    }
    trap cleanup EXIT
    # A fresh XDG_DATA_HOME makes --unlock create a new "login" keyring with this password,
    # unlocked and default; the real keyring files of the user are never opened.
    export XDG_DATA_HOME="$data" XDG_RUNTIME_DIR="$runtime" NO_AT_BRIDGE=1
    if ! printf %s test-pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; then
        echo "with-keyring.sh: gnome-keyring-daemon failed to start an unlocked keyring" >&2
        exit 1
    fi
    # --unlock returns before the daemon owns its bus name. A client calling earlier would
    # make D-Bus activate a second, locked daemon, so wait until the name is owned.
    bus_call() {
        dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus "$@"
    }
    tries=0
    until bus_call org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
        grep -q "boolean true"; do
        tries=$((tries + 1))
        if [ "$tries" -ge 100 ]; then
            echo "with-keyring.sh: the Secret Service did not appear on the session bus within 10 s" >&2
            exit 1
        fi
        sleep 0.1
    done
    daemon=$(bus_call org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets |
        awk "/uint32/ { print \$2 }")
    export DC_KEYRING_SESSION=1
    # Not exec: the trap must run after the command to remove the throwaway keyring.
    status=0
    "$@" || status=$?
    exit "$status"
' with-keyring "$@"
