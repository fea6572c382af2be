#!/usr/bin/env bash
# Set up, then run the main job: forget a person on the embedded model and show the trace.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/alu demo "$@"
