"""Page weight (issue 10 point 6): a page of 20 rows at most 40 KB, a list fragment at most 1 KB per row.

Measured as the bytes of the response body the browser downloads (no compression), with typical labels and two
host columns.
"""
import uuid

import pytest

from cjm_fasthtml_workflow_session_management.models import ColumnSpec

from http_helpers import HX, list_body, make_harness, row_ids

ROWS = 20
PAGE_LIMIT = 40 * 1024
ROW_LIMIT = 1024


def typical_sessions(n: int = 60) -> list:
    """Sessions like the demo's (a transcription host): uuid ids, as create_session makes them; labels like "Lecture 12:
    data ethics", a third unlabelled (named "Transcript of interview-12.wav" by the label generator)."""
    kinds = (None, "Board meeting {}", "Customer call #{}", None, "Lecture {}: data ethics", "Podcast episode {}")
    return [dict(id=str(uuid.UUID(int=i * 7919 + 1)), label=kinds[i % 6] and kinds[i % 6].format(i + 1),
                 step=("upload", "transcribe", "review")[i % 3],
                 state={"file": f"interview-{i + 1:02d}.wav", "transcript": "the panel agreed " * (i % 50)}) for i in range(n)]


def enricher(state):
    "The demo's two host columns: the audio file and the transcript's word count."
    return {"file": state.get("file") or "—", "words": f"{len(state.get('transcript', '').split()):,}"}


def label_generator(summary, state):
    return f"Transcript of {state['file']}" if state.get("file") else None


@pytest.fixture
def h(backend):
    return make_harness(backend, typical_sessions(), enricher=enricher, label_generator=label_generator,
                        column_specs=[ColumnSpec("file", "File"), ColumnSpec("words", "Words")])


def test_a_page_of_20_rows_is_at_most_40_kb(h):
    "GET management_page with rows=20 (20 rows, two host columns, the dialogs and the icon sprite) is at most 40 KB."
    r = h.client().get(h.urls.management_page, params={"rows": str(ROWS)})
    assert r.status_code == 200 and len(row_ids(r.text)) == ROWS
    assert len(r.content) <= PAGE_LIMIT, f"the page is {len(r.content):,} bytes ({len(r.content) / 1024:.1f} KB)"


def test_a_list_fragment_is_at_most_1_kb_per_row(h):
    "The htmx list fragment of that view (body, count, filters and chips, out of band) is at most 1 KB per row."
    client = h.client()
    page = client.get(h.urls.management_page, params={"rows": str(ROWS)})
    view = list_body(page.text)["view"]
    r = client.get(h.urls.list_sessions, params={"view": view}, headers=HX)
    assert r.status_code == 200 and len(row_ids(r.text)) == ROWS
    per_row = len(r.content) / ROWS
    assert per_row <= ROW_LIMIT, f"the fragment is {len(r.content):,} bytes: {per_row:,.0f} bytes per row"
    moved = client.get(h.vc("nav_page_down"), params={"view": view}, headers=HX)
    assert len(moved.content) / ROWS <= ROW_LIMIT, f"a page move is {len(moved.content) / ROWS:,.0f} bytes per row"
