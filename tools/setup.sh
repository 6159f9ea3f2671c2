#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: the Python >= 3.12 venv with the package and its dev
# dependencies, the pinned npm packages and the built front-end assets, and (for the browser
# tests, with --browser) Debian's chromium. Safe to run again: each step skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  for py in python3.12 python3.13 "$HOME"/.pyenv/versions/3.1[23]*/bin/python /usr/bin/python3.1[23]; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      command -v "$py"; return 0
    fi
  done
  echo "ERROR: this project needs Python >= 3.12 (tried python3.12, python3.13, ~/.pyenv/versions/3.12*, 3.13*)" >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  py=$(find_python)
  echo "setup: creating .venv with $py"
  "$py" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ settings.ini -nt "$stamp" ] || [ setup.py -nt "$stamp" ]; then
  echo "setup: installing the package and its dev dependencies"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]"
  touch "$stamp"
fi

if [ -f package.json ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    command -v npm >/dev/null || { echo "ERROR: npm is needed to build the front-end assets" >&2; exit 1; }
    echo "setup: installing pinned npm packages"
    npm ci --no-audit --no-fund --loglevel=error
  fi
  .venv/bin/python tools/build_assets.py
fi

if [ "${1:-}" = "--browser" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing Debian's chromium for the browser tests"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium
fi
