#!/usr/bin/env bash
# Set up, lint, then run every test (the end-to-end ones on the real embedded model too).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check alu tests benchmarks
exec .venv/bin/python -m pytest -q "$@"
