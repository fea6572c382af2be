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
# The console's browser tests drive Debian's Chromium (never a downloaded one): install it
# where it is missing, quietly, when we may (root, with apt); elsewhere those tests skip.
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null; } \
        || echo "chromium could not be installed: the browser tests will skip"
fi
