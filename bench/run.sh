#!/usr/bin/env bash
# Builds the release binary and runs the end-to-end benchmark (see bench.py for options).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin data-connector
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
exec python3 bench/bench.py --bin "$target_dir/release/data-connector" "$@"
