#!/usr/bin/env bash
# Every test: notebook/module drift check, unused names (pyflakes), the notebooks' own tests, then pytest
# (HTTP, concurrency and real-browser tests). Assumes tools/setup.sh --browser has run (the Makefile's `test` does it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/check_nb_sync.sh
.venv/bin/python -m pyflakes cjm_fasthtml_workflow_session_management demo tools bench tests
.venv/bin/nbdev-test --n-workers 2
.venv/bin/python -m pytest -q "$@"
