"""Moving through the list over HTTP (issue 10 point 4, issue 8 point 2), on both databases.

Moves are sent as the client script sends them: GET /vc/nav_* with the page's view, its cursor and the ids of
the window's first and last rows (the server reads a moved window from them by key). Whatever path the server
takes, the window it answers must be the one an offset read of the view gives.
"""
import re

import pytest

from cjm_fasthtml_workflow_session_management.models import SessionQuery

from http_helpers import (
    alert_role, alert_text, cursor_ids, list_body, make_harness, newest_first, pager_buttons, parse, row_ids, sessions)

N = 23


@pytest.fixture
def h(backend):
    return make_harness(backend, sessions(N))


def offset_window(h, start, rows) -> list:
    "The ids an offset read of the default order gives."
    return [i.session_id for i in h.service.read_page(start, rows).items]


def page_box(html) -> tuple:
    "(value, max) of the pager's page number box."
    box = parse(html).find("input", name="page")
    return int(box.get("value")), int(box.get("max"))


def test_nav_down_at_the_window_edge_moves_the_window_by_one(h):
    """Down on the last row of the window shifts the window by one row and puts the cursor on the new last row;
    Up on its first row shifts it back. The window is the offset read each time."""
    tab = h.tab(rows="5")
    for _ in range(4): tab.move("nav_down")
    assert tab.body["start"] == 0 and cursor_ids(tab.html) == [newest_first(N)[4]]
    r = tab.move("nav_down")
    assert list_body(r.text)["start"] == 1 and row_ids(r.text) == offset_window(h, 1, 5)
    assert cursor_ids(r.text) == [newest_first(N)[5]]
    for _ in range(4): tab.move("nav_up")
    r = tab.move("nav_up")
    assert tab.body["start"] == 0 and row_ids(r.text) == offset_window(h, 0, 5) and cursor_ids(r.text) == [newest_first(N)[0]]
    r = tab.move("nav_up")  # at the very top: nothing moves
    assert tab.body["start"] == 0 and cursor_ids(r.text) == [newest_first(N)[0]]


@pytest.mark.parametrize("rows", [3, 7, 10])
def test_page_moves_go_by_exactly_the_rows_shown(h, rows):
    """Page Down moves the window by exactly `rows` (never rows-1) until the end, Page Up back by exactly `rows`;
    every window is the offset read at its start, the cursor keeps its place in the window."""
    tab = h.tab(rows=str(rows))
    starts = [0]
    while starts[-1] + rows < N:
        r = tab.move("nav_page_down")
        starts.append(tab.body["start"])
        assert starts[-1] == starts[-2] + rows, starts
        assert row_ids(r.text) == offset_window(h, starts[-1], rows)
        assert cursor_ids(r.text) == [row_ids(r.text)[0]]
    r = tab.move("nav_page_down")  # on the last page: stays
    assert tab.body["start"] == starts[-1]
    for expected in reversed(starts[:-1]):
        r = tab.move("nav_page_up")
        assert tab.body["start"] == expected and row_ids(r.text) == offset_window(h, expected, rows)


def test_first_and_last(h):
    """End shows the last rows with the cursor on the very last one, Home the first rows with the cursor on the
    first; the pager's buttons are disabled at each end and enabled away from it."""
    tab = h.tab()
    assert pager_buttons(tab.html) == {"first": True, "page_up": True, "page_down": False, "last": False}
    r = tab.move("nav_last")
    assert row_ids(r.text)[-1] == "s000" and cursor_ids(r.text) == ["s000"]
    assert row_ids(r.text) == offset_window(h, tab.body["start"], 10) and len(row_ids(r.text)) > 0
    assert pager_buttons(r.text) == {"first": False, "page_up": False, "page_down": True, "last": True}
    r = tab.move("nav_down")  # past the end: nothing moves
    assert cursor_ids(r.text) == ["s000"]
    r = tab.move("nav_first")
    assert tab.body["start"] == 0 and row_ids(r.text) == offset_window(h, 0, 10) and cursor_ids(r.text) == ["s022"]
    assert pager_buttons(r.text) == {"first": True, "page_up": True, "page_down": False, "last": False}


def test_the_last_page_says_it_is_the_last(h):
    """After End the pager's page box says the last page ("3 of 3" for 23 rows at 10 a page), as its disabled
    Next/Last buttons do; Page Up from there lands on a page whose number and buttons agree too."""
    tab = h.tab()
    r = tab.move("nav_last")
    assert page_box(r.text) == (3, 3), f"End shows rows {tab.body['start'] + 1}-{N} as page {page_box(r.text)}"
    r = tab.move("nav_page_up")
    value, _ = page_box(r.text)
    assert (value == 1) == pager_buttons(r.text)["page_up"], (tab.body["start"], value, pager_buttons(r.text))


def test_pager_at_the_ends_of_an_exact_number_of_pages(backend):
    "With 20 rows at 10 a page, the second page disables Next and Last, and Page Down there does not move."
    h = make_harness(backend, sessions(20))
    tab = h.tab()
    r = tab.move("nav_page_down")
    assert tab.body["start"] == 10 and pager_buttons(r.text) == {"first": False, "page_up": False, "page_down": True, "last": True}
    assert page_box(r.text) == (2, 2)
    tab.move("nav_page_down")
    assert tab.body["start"] == 10


def test_a_stale_anchor_still_answers_the_offset_window(h):
    """When the row a page sent as its `last` (or `first`) anchor was deleted meanwhile (by the workflow's store),
    Page Down (or Up) still answers the window an offset read gives, full and without the deleted row."""
    tab = h.tab(rows="5")
    tab.move("nav_page_down")
    h.backend.store.delete_session("demo", tab.rows[-1]["id"])
    r = tab.move("nav_page_down")
    assert tab.body["start"] == 10 and row_ids(r.text) == offset_window(h, 10, 5)
    h.backend.store.delete_session("demo", tab.rows[0]["id"])
    r = tab.move("nav_page_up")
    assert tab.body["start"] == 5 and row_ids(r.text) == offset_window(h, 5, 5)
    h.backend.store.delete_session("demo", tab.rows[-1]["id"])
    for _ in range(4): tab.move("nav_down")
    r = tab.move("nav_down")
    assert tab.body["start"] == 6 and row_ids(r.text) == offset_window(h, 6, 5)
    assert list_body(r.text)["total"] == N - 3


def test_anchors_of_another_view_do_not_leak_into_this_one(h):
    """Anchors a page sends that are not rows of its view at all (a hand-edited request) never give a window
    outside the view: a move answers the offset window of the page's own view."""
    tab = h.tab(rows="5", step="review")
    r = tab.get(h.vc("nav_page_down"), {"first": "s001", "last": "s000"})  # s000 and s001 are not at "review"
    assert r.status_code == 200
    with h.service.reader() as reader:
        expected = [i.session_id for i in reader.page(SessionQuery(steps=("review",)), 5, 5).items]
    assert row_ids(r.text) == expected


def test_page_jump(h):
    """The page box (page=N) shows page N; a page past the end shows the last rows; page 0 is refused with an
    alert and changes nothing."""
    tab = h.tab(rows="4")
    r = tab.list(page="3")
    assert tab.body["start"] == 8 and row_ids(r.text) == offset_window(h, 8, 4) and page_box(r.text) == (3, 6)
    assert cursor_ids(r.text) == [row_ids(r.text)[0]]
    r = tab.list(page="99")
    assert row_ids(r.text)[-1] == "s000" and pager_buttons(r.text)["last"]
    shown = tab.body
    r = tab.get(h.urls.list_sessions, {"page": "0"})
    assert r.status_code == 400 and alert_role(r.text) == "alert" and "page" in alert_text(r.text).lower()
    assert tab.body == shown


def test_moves_on_an_emptied_list(h):
    "Every move on a list whose sessions were all deleted meanwhile answers 200 with the empty state."
    tab = h.tab()
    h.service.delete_sessions([f"s{i:03d}" for i in range(N)])
    for name in ("nav_down", "nav_up", "nav_page_down", "nav_page_up", "nav_first", "nav_last"):
        r = tab.move(name)
        assert row_ids(r.text) == [] and list_body(r.text)["total"] == 0, name
        assert "No sessions yet." in parse(r.text).text()


def test_a_page_past_the_end_of_a_capped_search_shows_its_last_page(backend):
    """A search matching more than the count's cap (1,000) counts on when a page past the cap is asked for: the page
    box beyond the end shows the search's last page, ending with its oldest match, not an empty list."""
    h = make_harness(backend, sessions(1100))
    tab = h.tab(q="run", rows="20")
    assert list_body(tab.html)["capped"]
    r = tab.list(page="99")
    assert row_ids(r.text)[-1] == "s000" and tab.body["start"] == 1080 and len(row_ids(r.text)) == 20


@pytest.mark.parametrize("acted", ["first", "middle", "last"])
def test_an_action_deep_in_the_list_answers_its_window_read_by_key(backend, acted):
    """Deleting a row of a window in the middle of a list answers what a read by position gives (the rows below move
    up by one, the start stays), read from the first row the page still shows; on SQLite, whose trace shows the
    parameters, no statement skips rows with OFFSET."""
    h = make_harness(backend, sessions(60))
    tab = h.tab(rows="10", start="30")
    shown = [r["id"] for r in tab.rows]
    gone = shown[{"first": 0, "middle": 4, "last": -1}[acted]]
    statements = []
    h.service.statement_hook = statements.append
    r = tab.post(h.urls.delete_session, {"session_id": gone, "was": tab.view, "shown": ",".join(shown)})
    h.service.statement_hook = None
    assert r.status_code == 200
    assert tab.body["start"] == 30 and row_ids(r.text) == offset_window(h, 30, 10)
    assert row_ids(r.text)[:9] == [s for s in shown if s != gone]
    if backend.name == "sqlite": assert not [s for s in statements if re.search(r"OFFSET [1-9]", s)]
