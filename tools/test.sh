#!/usr/bin/env bash
# Every test: notebook/module drift check, the notebooks' own tests, then pytest (HTTP, concurrency
# and real-browser tests). Assumes tools/setup.sh --browser has run (the Makefile's `test` does it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/check_nb_sync.sh
.venv/bin/nbdev-test --n-workers 2
.venv/bin/python -m pytest -q "$@"
