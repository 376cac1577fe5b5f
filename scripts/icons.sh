#!/usr/bin/env bash
# Regenerates every icon of the desktop app from one source image: make_icons.py draws
# src-tauri/icons/app-icon.png (1024x1024), then the Tauri CLI's `icon` command writes the PNG
# sizes, icon.ico (Windows) and icon.icns (macOS) beside it. The results are committed, so builds
# never need this; run it after changing the drawing.
#
#   scripts/icons.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

icons=src-tauri/icons
python3 "$icons/make_icons.py" "$icons/app-icon.png"
tauri="$(tauri_cli)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if ! log=$("$tauri" icon "$icons/app-icon.png" --output "$out" 2>&1); then
    echo "$log" >&2
    exit 1
fi
# Only the desktop formats: the CLI also writes Android, iOS and Windows Store sets, which this
# app does not ship.
for f in 32x32.png 64x64.png 128x128.png 128x128@2x.png icon.png icon.ico icon.icns; do
    cp "$out/$f" "$icons/$f"
done
echo "icons written to $icons"
