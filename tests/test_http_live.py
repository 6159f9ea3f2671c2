"""The live list over HTTP (issue 12 point 2), on both databases.

An open page polls `changes` with If-None-Match; when the number moved it asks for its list with `live=1`, the ids
it shows (`shown`) and its total: same rows -> the body is refreshed in place; other rows -> only a status line
("3 new sessions") and the count, so the user's rows do not jump.
"""
import pytest

from cjm_fasthtml_workflow_session_management.services.management import SessionManagementService

from backends import open_store
from http_helpers import FLOW, count_text, labels, list_body, make_harness, parse, row_ids, sessions, squash

N = 6


@pytest.fixture
def h(backend):
    return make_harness(backend, sessions(N))


def changes(h, client, etag=None):
    "GET changes (conditionally, with `etag`): (status, ETag, number or None)."
    r = client.get(h.urls.changes, headers={"If-None-Match": etag} if etag else {})
    return r.status_code, r.headers.get("etag"), r.json()["changes"] if r.status_code == 200 else None


def raw_rename(backend, sid, label):
    "Rename a session with plain SQL, as another program writing the table would."
    if backend.name == "sqlite":
        backend.sql("UPDATE workflow_state SET label = ? WHERE flow_session_key = ?", (label, f"{FLOW}:{sid}"))
    else:
        backend.sql("UPDATE workflow_state SET label = %s WHERE flow_id = %s AND session_id = %s", (label, FLOW, sid))


def test_changes_answers_json_with_an_etag_and_304_when_unchanged(h):
    """changes answers {"changes": n} with ETag and no-cache; the same ETag back answers 304 with no body; reads move
    nothing."""
    client = h.client()
    r = client.get(h.urls.changes)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.headers["etag"] == f'"{r.json()["changes"]}"' and "no-cache" in r.headers["cache-control"]
    client.get(h.urls.management_page)
    client.get(h.urls.list_sessions, headers={"Accept": "application/json"})
    again = client.get(h.urls.changes, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == r.headers["etag"]


def test_changes_moves_after_every_kind_of_writer(h):
    """The change number moves after a write through the manager's routes, through the workflow's own store, through
    another service instance on the same database, and by plain SQL; each time the old ETag gets 200 again."""
    client = h.client()
    other_store = open_store(h.backend.name, h.backend.target)
    other = SessionManagementService(other_store, FLOW)
    writers = {
        "route": lambda: client.post(h.urls.rename_session, data={"session_id": "s001", "label": "By route"},
                                     headers={"Sec-Fetch-Site": "same-origin"}),
        "store": lambda: h.backend.store.update_state(FLOW, "s002", {"owner": "workflow"}),
        "another service": lambda: other.create_session("From another service"),
        "raw SQL": lambda: raw_rename(h.backend, "s003", "By SQL"),
    }
    try:
        _, etag, number = changes(h, client)
        for name, write in writers.items():
            write()
            status, new_etag, new_number = changes(h, client, etag)
            assert status == 200 and new_number > number, (name, status, number, new_number)
            assert changes(h, client, new_etag)[0] == 304, name
            etag, number = new_etag, new_number
    finally:
        if hasattr(other_store, "close"): other_store.close()


def live_check(tab):
    "What the page's poll asks when the number moved: its list, with live=1, the ids it shows and its total."
    shown = ",".join(r["id"] for r in tab.rows)
    return tab.client.get(tab.h.urls.list_sessions, params={**tab.carried(), "live": "1", "shown": shown,
                                                            "total": str(tab.body["total"])},
                          headers={"HX-Request": "true"})


def test_live_refresh_of_the_same_rows_replaces_the_body(h):
    """When the rows the page shows are still the same ones in the same order (a rename elsewhere), the live answer
    refreshes the list body in place (with the new label) and shows no status line."""
    tab = h.tab()
    raw_rename(h.backend, "s003", "Renamed elsewhere")
    r = live_check(tab)
    assert r.status_code == 200
    body = list_body(r.text)
    assert body is not None and body["oob"] and row_ids(r.text) == row_ids(tab.html)
    assert labels(r.text)["s003"] == "Renamed elsewhere"
    status = parse(r.text).by_id("wsm-live-status")
    assert status is None or not squash(status.text())


def test_live_check_with_new_rows_says_how_many_and_keeps_the_body(h):
    """When sessions were created elsewhere (the rows would move), the live answer is the status line "3 new
    sessions" and the new count, without a list body: the user's rows stay put until they choose Show."""
    tab = h.tab()
    for i in range(3): h.backend.store.create_session(FLOW, label=f"Elsewhere {i}")
    r = live_check(tab)
    assert r.status_code == 200 and list_body(r.text) is None
    status = parse(r.text).by_id("wsm-live-status")
    assert status is not None and status.get("hx-swap-oob")
    assert squash(status.text()).startswith("3 new sessions") and status.find("button", data_wsm_show="1") is not None
    assert count_text(r.text) == f"{N + 3} sessions"


def test_live_check_after_a_delete_elsewhere(h):
    "A session deleted elsewhere changes the rows: the status line says the list changed, with the new count."
    tab = h.tab()
    h.backend.store.delete_session(FLOW, "s004")
    r = live_check(tab)
    assert list_body(r.text) is None and count_text(r.text) == f"{N - 1} sessions"
    assert squash(parse(r.text).by_id("wsm-live-status").text()).startswith("The list has changed")
