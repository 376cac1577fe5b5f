#!/usr/bin/env bash
# Builds the Linux packages of the desktop app (.deb and .rpm) with the Tauri CLI: the app
# (`data-connector-app`), the headless `data-connector` command beside it in /usr/bin, a desktop
# entry, icons, and the systemd user unit `data-connector.service`.
#
#   scripts/package.sh                  release build, packages in $CARGO_TARGET_DIR/packages/
#   scripts/package.sh --debug          package the debug build that scripts/test.sh already made
#                                       (what CI installs: no second, release, compile)
#   scripts/package.sh --bundles deb    only the .deb
#
# Environment:
#   TAURI_SIGNING_PRIVATE_KEY (+ _PASSWORD)  also write the update signatures (*.sig) with this
#                                       key (a path or the key itself); without it, no .sig files
#   DC_PACKAGE_CONFIG                   JSON merged into src-tauri/tauri.conf.json, compiled into
#                                       the app and used for the bundle (the release workflow
#                                       sets the update URL this way; the package test its own
#                                       update key and version)
#   DC_PACKAGE_OUT                      where the packages go (default $CARGO_TARGET_DIR/packages)
#
# Needs the app's build dependencies (scripts/test-desktop.sh --install-only installs them) and
# npm, for the Tauri CLI (scripts/lib.sh, tauri_cli).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/data-connector-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
profile=release bundles=deb,rpm
while [ $# -gt 0 ]; do
    case "$1" in
        --debug) profile=debug ;;
        --bundles) bundles="$2"; shift ;;
        *) echo "unknown argument: $1 (see the top of $0)" >&2; exit 2 ;;
    esac
    shift
done
out="${DC_PACKAGE_OUT:-$CARGO_TARGET_DIR/packages}"
tauri="$(tauri_cli)"
triple=$(rustc -vV | sed -n 's/^host: //p')

config_args=(--config src-tauri/tauri.bundle.conf.json)
if [ -n "${DC_PACKAGE_CONFIG:-}" ]; then
    config_args+=(--config "$DC_PACKAGE_CONFIG")
    # tauri-build and generate_context! read this: the update key, URL and version are compiled in.
    export TAURI_CONFIG="$DC_PACKAGE_CONFIG"
else
    unset TAURI_CONFIG
fi
if [ -z "${TAURI_SIGNING_PRIVATE_KEY:-}" ]; then
    echo "TAURI_SIGNING_PRIVATE_KEY is not set: building without update signatures"
    config_args+=(--config '{"bundle":{"createUpdaterArtifacts":false}}')
fi

say "package: build ($profile)"
start=$(date +%s)
if [ "$profile" = release ]; then
    # What `tauri build` does: production assets protocol, release profile.
    cargo build --release --workspace --bins --locked --features data-connector-app/custom-protocol
else
    # The same command scripts/test-desktop.sh runs, so CI reuses that build.
    cargo build --workspace --bins --locked
fi
echo "build took $(($(date +%s) - start)) s"

say "package: bundle ($bundles)"
start=$(date +%s)
# The bundler patches the binary it packs and reads it from <target dir>/<profile>/, so it gets
# a staging target dir holding stripped copies: the packages lose the line tables the profiles
# keep for backtraces (a quarter of the size), and the build's own binaries stay untouched.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$profile" src-tauri/binaries
strip -o "$stage/$profile/data-connector-app" "$CARGO_TARGET_DIR/$profile/data-connector-app"
# Tauri's sidecar convention: binaries/<name>-<target triple>, installed as /usr/bin/<name>.
strip -o "src-tauri/binaries/data-connector-$triple" "$CARGO_TARGET_DIR/$profile/data-connector"
debug_flag=()
[ "$profile" = debug ] && debug_flag=(--debug)
CARGO_TARGET_DIR="$stage" "$tauri" bundle --ci ${debug_flag[@]+"${debug_flag[@]}"} \
    --bundles "$bundles" "${config_args[@]}"
echo "bundling took $(($(date +%s) - start)) s"

mkdir -p "$out"
found=0
for kind in deb rpm; do
    for f in "$stage/$profile/bundle/$kind"/*."$kind" "$stage/$profile/bundle/$kind"/*."$kind".sig; do
        [ -e "$f" ] || continue
        cp "$f" "$out/"
        found=1
    done
done
[ "$found" = 1 ] || { echo "the bundler wrote no packages" >&2; exit 1; }
say "packages in $out"
ls -l "$out"
