"The front-end asset pipeline: every component state is rendered for Tailwind, and the built CSS styles it."
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from build_assets import build_css  # noqa: E402
from render_states import render_all  # noqa: E402

# A marker of each state that must reach the scan, or its classes go missing from app.css
STATE_MARKERS = ('data-wsm-empty', 'id="wsm-active-session-badge"', 'aria-sort="ascending"', 'aria-sort="descending"',
                 'role="alert"', 'alert-success', 'id="wsm-session-detail"', 'tab-active', 'No sessions match.',
                 'The trash is empty.', 'in the trash', 'id="wsm-rename-modal"', 'id="wsm-delete-modal"', ' open>',
                 'aria-current="true"', 'data-wsm-undo', 'This session no longer exists', 'Remove filter', 'new session')

# Selectors the components need, each from a different state or kind of class (daisyUI, utility, variant)
SELECTORS = ('.badge-primary', '.alert-error', '.alert-success', '.alert-info', '.alert-warning', '.btn-primary',
             '.btn-error', '.modal', '.modal-box', '.tab-active', '.table', '.truncate', '.input', '.w-4', '.w-20', '.w-32',
             r'.grid-cols-\[max-content_1fr\]', r'.\[\&_\[data-a\=resume\]\]\:btn', r'.\[\&_tr\[aria-current\]\]\:bg-base-200',
             r'nth-child\(3\)', r'.\[\&_\[aria-busy\=true\]\]\:cursor-progress', r'\[stroke-linecap\:round\]', '.sr-only')


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    "The rendered states, in a folder of their own."
    out = tmp_path_factory.mktemp("scan")
    return out, render_all(out)


def test_render_all_covers_every_state(scan):
    out, files = scan
    assert files and all(f.parent == out and f.suffix == ".html" for f in files)
    assert sorted(files) == sorted(out.glob("*.html"))
    html = "\n".join(f.read_text(encoding="utf-8") for f in files)
    assert [m for m in STATE_MARKERS if m not in html] == []


def test_render_all_replaces_old_files(scan, tmp_path):
    stale = tmp_path / "stale.html"
    stale.write_text('<div class="text-9xl"></div>')
    files = render_all(tmp_path)
    assert not stale.exists() and len(files) == len(scan[1])


def test_built_css_styles_the_rendered_states(scan, tmp_path):
    css = build_css(scan[0], tmp_path / "app.css").read_text(encoding="utf-8")
    assert [s for s in SELECTORS if s not in css] == []
    assert "prefers-color-scheme:dark" in css  # daisyUI's dark theme follows the system
