#!/usr/bin/env bash
# Makes the venv the MCP tests use (tests/mcp/main.rs runs tests/mcp/client.py with it): the
# official MCP Python SDK pinned in requirements.txt. Idempotent; reinstalls only when the pins
# change.
#
#   tests/mcp/setup.sh      creates or updates .venv-mcp at the repo root (or $DC_MCP_VENV)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${DC_MCP_VENV:-$root/.venv-mcp}"

if [ ! -x "$venv/bin/python" ]; then
    command -v python3 >/dev/null || { echo "python3 (>= 3.10) is required" >&2; exit 1; }
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
        || { echo "the MCP Python SDK needs Python >= 3.10; found $(python3 --version)" >&2; exit 1; }
    python3 -m venv "$venv"
fi
if ! cmp -s "$here/requirements.txt" "$venv/.dc-requirements.txt"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$venv/.dc-requirements.txt"
fi
"$venv/bin/python" -c 'import mcp, httpx2' 
