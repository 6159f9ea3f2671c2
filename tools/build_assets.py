"""Build the demo's and browser tests' front-end assets into demo/static/ (run by tools/setup.sh).

- app.css: Tailwind v4 + daisyUI 5 (frontend/input.css), minified, from the HTML of every component
  state that tools/render_states.py renders into frontend/scan/.
- htmx.min.js: copied from the pinned htmx.org npm package.

Always rebuilds (about a second). Needs `npm ci` first: node_modules holds the pinned tools.

    .venv/bin/python tools/build_assets.py
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render_states import SCAN_DIR, render_all  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
TAILWIND = NODE_MODULES / ".bin" / "tailwindcss"
HTMX = NODE_MODULES / "htmx.org" / "dist" / "htmx.min.js"
INPUT_CSS = ROOT / "frontend" / "input.css"
STATIC_DIR = ROOT / "demo" / "static"
SCAN_SOURCE = '@source "./scan";'  # The line of input.css that names the scanned folder


def _need(path:Path) -> Path:
    "`path`, or exit with how to get it when npm's packages are missing."
    if not path.exists():
        sys.exit(f"build_assets: {path.relative_to(ROOT)} is missing; run `npm ci` (or tools/setup.sh) in {ROOT} first")
    return path


def build_css(scan_dir:Path=SCAN_DIR, out_css:Path=STATIC_DIR / "app.css", input_css:Path=INPUT_CSS) -> Path:
    "Build `out_css` with the Tailwind CLI from `input_css`, scanning the HTML in `scan_dir`; return `out_css`."
    css = input_css.read_text(encoding="utf-8")
    if SCAN_SOURCE not in css: raise ValueError(f"{input_css} has no line {SCAN_SOURCE!r} to point at the scan folder")
    # The CSS goes in on stdin, read from input.css's folder: "tailwindcss" and "daisyui" resolve from there
    # as they would for input.css itself, and the scan folder can be any folder (a test's temporary one)
    css = css.replace(SCAN_SOURCE, f"@source {json.dumps(Path(scan_dir).resolve().as_posix())};")
    out_css = Path(out_css).resolve()
    out_css.parent.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([str(_need(TAILWIND)), "-i", "-", "-o", str(out_css), "--minify"], input=css, text=True,
                       cwd=input_css.parent, capture_output=True, check=True)
    except subprocess.CalledProcessError as e:
        sys.stderr.write(e.stdout + e.stderr)
        raise
    return out_css


def copy_htmx(static_dir:Path=STATIC_DIR) -> Path:
    "Copy the pinned htmx.min.js into `static_dir`; return the copy."
    static_dir.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(_need(HTMX), static_dir / "htmx.min.js"))


def build_all(static_dir:Path=STATIC_DIR, scan_dir:Path=SCAN_DIR) -> list:
    "Render every state, build app.css from it and copy htmx; return the files built."
    _need(TAILWIND)
    _need(HTMX)
    render_all(scan_dir)
    return [build_css(scan_dir, static_dir / "app.css"), copy_htmx(static_dir)]


if __name__ == "__main__":
    for path in build_all():
        print(f"build_assets: {path.relative_to(ROOT)} {path.stat().st_size:,} bytes")
