#!/usr/bin/env bash
# Fails when the notebooks and the exported modules differ, when a module has no source notebook,
# or when an export produced a file git does not track. Run on a clean checkout: it rewrites files.
set -euo pipefail
cd "$(dirname "$0")/.."
PKG=cjm_fasthtml_workflow_session_management
.venv/bin/nbdev-clean
.venv/bin/nbdev-export
if ! git diff --quiet || [ -n "$(git ls-files --others --exclude-standard)" ]; then
  echo "ERROR: nbs/ and $PKG are out of sync or notebooks are not clean: edit the notebook (or nbdev-update), then nbdev-export and nbdev-clean" >&2
  git status --short >&2; git --no-pager diff --stat >&2; exit 1
fi
.venv/bin/python - "$PKG" <<'PY'
import re, sys
from pathlib import Path
bad = [str(p) for p in Path(sys.argv[1]).rglob('*.py') if p.name not in ('__init__.py', '_modidx.py')
       and not ((m := re.search(r'File to edit: (\S+\.ipynb)', p.read_text())) and (p.parent/m[1]).exists())]
if bad: sys.exit(f"ERROR: modules without a source notebook: {bad}")
PY
echo "notebooks and modules in sync"
