#!/usr/bin/env bash
# Makes the venv the Arrow tests use (tests/server/arrow.rs runs tests/arrow/read.py with it):
# pyarrow and polars pinned in requirements.txt, the two readers scripts use most. Idempotent;
# reinstalls only when the pins change.
#
#   tests/arrow/setup.sh      creates or updates .venv-arrow at the repo root (or $DC_ARROW_VENV)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${DC_ARROW_VENV:-$root/.venv-arrow}"

if [ ! -x "$venv/bin/python" ]; then
    command -v python3 >/dev/null || { echo "python3 (>= 3.10) is required" >&2; exit 1; }
    python3 -m venv "$venv"
fi
if ! cmp -s "$here/requirements.txt" "$venv/.dc-requirements.txt"; then
    # Bounded: two wheels, no builds from source.
    timeout 600 "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: \
        -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$venv/.dc-requirements.txt"
fi
"$venv/bin/python" -c 'import pyarrow, polars'
