#!/usr/bin/env bash
# Create .venv and install alu with the embedded model, PostgreSQL support, alu eval's extra and the
# tests' tools (pinned by constraints.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[embedded,postgres,eval,dev]"
