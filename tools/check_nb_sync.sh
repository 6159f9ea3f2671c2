#!/usr/bin/env bash
# Fails when the notebooks and the exported modules differ (nbdev-clean or nbdev-export would change
# a file), when a module has no source notebook, or when a notebook or module is not tracked by git.
# Leaves the tree as nbdev would (cleaned, exported), so a failure shows the fix in `git diff`.
set -euo pipefail
cd "$(dirname "$0")/.."
PKG=cjm_fasthtml_workflow_session_management
snapshot() { find nbs "$PKG" -type f \( -name '*.ipynb' -o -name '*.py' -o -name '*.txt' \) -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha1sum; }
before=$(snapshot)
.venv/bin/nbdev-clean
.venv/bin/nbdev-export
after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "ERROR: nbs/ and $PKG were out of sync or notebooks were not clean; nbdev-clean/nbdev-export changed:" >&2
  diff <(echo "$before") <(echo "$after") | grep '^[<>]' | awk '{print "  " $3}' | sort -u >&2
  exit 1
fi
untracked=$(git ls-files --others --exclude-standard -- nbs "$PKG")
if [ -n "$untracked" ]; then
  echo "ERROR: notebooks or exported modules not tracked by git (git add them):" >&2; echo "$untracked" >&2; exit 1
fi
.venv/bin/python - "$PKG" <<'PY'
import re, sys
from pathlib import Path
bad = [str(p) for p in Path(sys.argv[1]).rglob('*.py') if p.name not in ('__init__.py', '_modidx.py')
       and not ((m := re.search(r'File to edit: (\S+\.ipynb)', p.read_text())) and (p.parent/m[1]).exists())]
if bad: sys.exit(f"ERROR: modules without a source notebook (delete them): {bad}")
PY
echo "notebooks and modules in sync"
