"""The session routes over HTTP, on both databases: create, rename, delete, resume, the detail page and the JSON list.

Requests are sent as the page sends them (`Tab`: htmx, same origin, the page's view, a fresh request id per action),
or as a plain HTML form would (no HX-Request: 303 back with a notice for the next page).
"""
import json

import pytest

from http_helpers import (
    ACTIVE_KEY, BASE, HX, WORKFLOW_URL, active_ids, alert_role, alert_text, count_text, cursor_ids, flow_rows,
    labels, list_body, make_harness, newest_first, page, parse, row_ids, session_cookie, session_ids, sessions,
    squash, stored_labels, trash_ids)

N = 5


@pytest.fixture
def h(backend):
    return make_harness(backend, sessions(N) + [dict(id="gen", state={"title": "Generated title"}, updated="2024-01-01 00:00:30")])


def new_ids(h, before) -> set: return session_ids(h.backend) - before


def assert_markup(r):
    "The answer is HTML the page can swap in, not markup escaped into text."
    assert not r.text.lstrip().startswith("&lt;"), f"the {r.status_code} answer's HTML is escaped into text: {r.text[:80]!r}"


# ==================================================================================================
# Create
# ==================================================================================================
def test_create_with_a_label_becomes_active_and_first(h):
    """Create stores the cleaned label, makes the new session the user's active one (cookie and badge), puts it
    first with the cursor on it, and the count in the same answer goes up by one."""
    tab = h.tab()
    before = session_ids(h.backend)
    r = tab.post(h.urls.create_session, {"label": "  Interview \n 12 "})
    assert r.status_code == 200
    (new,) = new_ids(h, before)
    assert stored_labels(h.backend)[new] == "Interview 12"
    assert alert_text(r.text).startswith("Created “Interview 12”") and alert_role(r.text) == "status"
    assert row_ids(r.text)[0] == new and cursor_ids(r.text) == [new] and active_ids(r.text) == [new]
    assert count_text(r.text) == f"{N + 2} sessions"
    assert session_cookie(tab.client)[ACTIVE_KEY] == new
    assert active_ids(page(h, tab.client)) == [new]


def test_create_twice_with_one_request_id_makes_one_session(h):
    """A repeated create (a double click: the same request id) makes one session and answers exactly as the first
    time; another request id makes another session."""
    tab = h.tab()
    before = session_ids(h.backend)
    first = tab.post(h.urls.create_session, {"label": "Once", "request_id": "dblclick-0001"})
    second = tab.post(h.urls.create_session, {"label": "Once", "request_id": "dblclick-0001"})
    assert first.status_code == second.status_code == 200
    (new,) = new_ids(h, before)
    assert alert_text(second.text) == alert_text(first.text) and row_ids(second.text) == row_ids(first.text)
    assert active_ids(second.text) == [new] and session_cookie(tab.client)[ACTIVE_KEY] == new
    tab.post(h.urls.create_session, {"label": "Once", "request_id": "dblclick-0002"})
    assert len(new_ids(h, before)) == 2


def test_create_from_a_plain_form_goes_back_with_a_notice(h):
    """A plain form post (no htmx) creates, answers 303 back to the page it came from, and that page shows the notice
    once; a plain delete whose Referer is another site goes back to the manager's page instead."""
    client = h.client()
    before = session_ids(h.backend)
    r = client.post(h.urls.create_session, data={"label": "From a form"},
                    headers={"Referer": f"{BASE}{h.urls.management_page}?q=form"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{h.urls.management_page}?q=form"
    (new,) = new_ids(h, before)
    assert alert_text(page(h, client, q="form")).startswith("Created “From a form”")
    assert alert_text(page(h, client)) == ""
    assert session_cookie(client)[ACTIVE_KEY] == new
    r = client.post(h.urls.delete_session, data={"session_id": new}, headers={"Referer": "http://evil.example/phish"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == h.urls.management_page  # never back to another site
    assert new not in session_ids(h.backend)


# ==================================================================================================
# Rename
# ==================================================================================================
def test_rename_to_the_same_label_writes_nothing(h):
    """Saving Rename unchanged (a stored label, or a generated one) writes nothing: the database rows are identical,
    the row keeps its place, and the notice says nothing changed."""
    tab = h.tab()
    order, before = row_ids(tab.html), h.backend.dump()
    for sid, label in (("s002", "Run 002"), ("gen", "Generated title"), ("gen", "  Generated   title ")):
        r = tab.post(h.urls.rename_session, {"session_id": sid, "label": label})
        assert r.status_code == 200 and alert_text(r.text).startswith("Nothing to change"), (sid, alert_text(r.text))
        assert row_ids(r.text) == order
    assert h.backend.dump() == before


def test_a_real_rename_keeps_updated_and_the_row_in_place(h):
    """A real rename stores the new label and shows it, but does not touch updated_at (it is not workflow
    activity): in the newest-first list the row stays where it was."""
    tab = h.tab()
    order = row_ids(tab.html)
    before = flow_rows(h.backend)["s001"]
    r = tab.post(h.urls.rename_session, {"session_id": "s001", "label": "Renamed"})
    assert r.status_code == 200 and alert_text(r.text).startswith("Renamed to “Renamed”")
    after = flow_rows(h.backend)["s001"]
    assert after[0] == "Renamed" and after[1:] == before[1:]
    assert row_ids(r.text) == order and labels(r.text)["s001"] == "Renamed"
    assert row_ids(tab.list().text) == order


def test_an_empty_label_clears_the_stored_one(h):
    "Renaming to an empty label clears the stored label: the row shows the generated (or default) label again."
    tab = h.tab()
    tab.post(h.urls.rename_session, {"session_id": "gen", "label": "Named for now"})
    r = tab.post(h.urls.rename_session, {"session_id": "gen", "label": "  "})
    assert r.status_code == 200 and stored_labels(h.backend)["gen"] is None
    assert alert_text(r.text).startswith("Label cleared; showing “Generated title”")
    assert labels(r.text)["gen"] == "Generated title"


def test_rename_of_a_missing_or_malformed_session(h):
    "Rename of an unknown id answers 404 with the refreshed list; malformed ids and a missing label answer 400."
    tab = h.tab()
    r = tab.post(h.urls.rename_session, {"session_id": "nope", "label": "x"})
    assert_markup(r)
    assert r.status_code == 404 and alert_role(r.text) == "alert" and list_body(r.text) is not None
    for data in ({"session_id": "", "label": "x"}, {"session_id": "demo:s001", "label": "x"}, {"session_id": "s001"}):
        r = tab.post(h.urls.rename_session, data)
        assert r.status_code == 400 and alert_text(r.text), data
    r = tab.post(h.urls.rename_session, {"session_id": "s001", "label": "y" * 201})
    assert r.status_code == 422 and stored_labels(h.backend)["s001"] == "Run 001"


# ==================================================================================================
# Delete
# ==================================================================================================
def test_delete_twice_with_one_request_id_answers_like_the_first(h):
    """A repeated delete (double click on confirm: the same request id) answers 200 with the same green notice
    (with Undo), not a red "no longer exists"; the session is in the trash once."""
    tab = h.tab()
    first = tab.post(h.urls.delete_session, {"session_id": "s003", "request_id": "confirm-twice-1"})
    second = tab.post(h.urls.delete_session, {"session_id": "s003", "request_id": "confirm-twice-1"})
    assert first.status_code == second.status_code == 200
    assert alert_text(first.text).startswith("Deleted “Run 003”.") and alert_text(second.text) == alert_text(first.text)
    assert alert_role(second.text) == "status"
    undo = [parse(r.text).find(data_wsm_undo=True).get("data-wsm-undo") for r in (first, second)]
    assert undo[0] == undo[1]
    assert "s003" not in session_ids(h.backend) and trash_ids(h.backend) == {"s003"}
    assert "s003" not in row_ids(second.text) and count_text(second.text) == f"{N} sessions"


def test_delete_of_a_session_someone_else_deleted(h):
    """Deleting a row another user deleted meanwhile answers 404 with the refreshed list and count (out of band)
    and a warning that it was already deleted."""
    tab = h.tab()
    assert "s002" in row_ids(tab.html)
    h.service.delete_session("s002")  # someone else
    r = tab.post(h.urls.delete_session, {"session_id": "s002"})
    assert_markup(r)
    assert r.status_code == 404
    assert list_body(r.text) is not None and list_body(r.text)["oob"], r.text[:200]
    assert "s002" not in row_ids(r.text) and count_text(r.text) == f"{N} sessions"
    assert "already deleted" in alert_text(r.text) and alert_role(r.text) == "alert"


def test_delete_of_a_session_that_never_existed(h):
    "Deleting an id the flow never had answers 404 with the list and says it no longer exists."
    tab = h.tab()
    r = tab.post(h.urls.delete_session, {"session_id": "never-was"})
    assert_markup(r)
    assert r.status_code == 404 and "no longer exists" in alert_text(r.text)
    assert session_ids(h.backend) == {*(f"s{i:03d}" for i in range(N)), "gen"}


def test_deleting_the_active_session_switches_the_active_one(h):
    "Deleting the user's active session makes the most recent remaining one active, and says so."
    tab = h.tab()
    tab.resume("s004")
    r = tab.post(h.urls.delete_session, {"session_id": "s004"})
    assert r.status_code == 200
    assert alert_text(r.text).startswith("Deleted “Run 004”. Your active session is now “Run 003”.")
    assert session_cookie(tab.client)[ACTIVE_KEY] == "s003" and active_ids(r.text) == ["s003"]
    r = tab.post(h.urls.delete_session, {"session_id": "s001"})  # not the active one: it stays
    assert alert_text(r.text).startswith("Deleted “Run 001”.") and "active" not in alert_text(r.text)
    assert session_cookie(tab.client)[ACTIVE_KEY] == "s003"


def test_delete_from_the_detail_view_redirects_with_the_notice(h):
    """Delete sent from the detail view answers HX-Redirect to the list page; that page shows the notice (with
    Undo) once."""
    client = h.client()
    r = client.post(h.urls.delete_session, data={"session_id": "s001", "context": "detail", "request_id": "from-detail-1"},
                    headers=HX)
    assert r.status_code in (200, 204) and r.headers["hx-redirect"] == h.urls.management_page
    shown = page(h, client)
    assert alert_text(shown).startswith("Deleted “Run 001”.") and parse(shown).find(data_wsm_undo=True) is not None
    assert alert_text(page(h, client)) == ""


# ==================================================================================================
# Resume
# ==================================================================================================
def test_resume_by_htmx_and_by_a_plain_form(h):
    """Resume by htmx answers 204 with HX-Redirect to the workflow; by a plain form, 303 to the workflow; Enter on
    a row (/vc/activate) likewise. Each makes the session active."""
    client = h.client()
    r = client.post(h.urls.resume_session, data={"session_id": "s001"}, headers=HX)
    assert r.status_code == 204 and r.headers["hx-redirect"] == WORKFLOW_URL and r.content == b""
    assert session_cookie(client)[ACTIVE_KEY] == "s001"
    r = client.post(h.urls.resume_session, data={"session_id": "s002"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == WORKFLOW_URL
    assert session_cookie(client)[ACTIVE_KEY] == "s002"
    r = client.post(h.vc("activate"), data={"session_id": "s003"}, headers=HX)
    assert r.status_code == 204 and r.headers["hx-redirect"] == WORKFLOW_URL
    assert active_ids(page(h, client)) == ["s003"]
    r = client.post(h.urls.resume_session, data={"session_id": "gone"}, headers=HX)
    assert r.status_code == 404 and "hx-redirect" not in r.headers and session_cookie(client)[ACTIVE_KEY] == "s003"


# ==================================================================================================
# The detail page
# ==================================================================================================
def test_detail_page(h):
    "The detail page answers 200 with the session's label, id, step, host fields and state keys, and its actions."
    tab = h.tab()
    tab.resume("s002")
    r = tab.client.get(h.urls.session_detail, params={"session_id": "s002"})
    assert r.status_code == 200 and r.headers.get("cache-control") == "no-store"
    detail = parse(r.text).by_id("wsm-session-detail")
    text = squash(detail.text())
    assert detail.get("data-session-id") == "s002" and "Run 002" in text and "Review" in text
    assert "owner2" in text and "file-002.wav" in text
    assert detail.find(data_wsm_active="1") is not None  # the viewer's own badge
    for button in ("wsm-resume-btn", "wsm-rename-btn", "wsm-delete-btn"): assert detail.by_id(button) is not None


def test_detail_of_a_deleted_session_is_a_404_page_with_restore(h):
    """A deleted session's detail URL answers a 404 page saying it no longer exists, with the way back and a
    Restore that brings it back (and leads to its detail page again)."""
    client = h.client()
    h.service.delete_session("s001")
    r = client.get(h.urls.session_detail, params={"session_id": "s001"})
    assert r.status_code == 404
    doc = parse(r.text)
    assert "no longer exists" in squash(doc.text())
    assert doc.find("a", href=h.urls.management_page) is not None
    restore = next(b for b in doc.find_all("button") if "Restore" in b.text())
    assert restore.get("hx-post") == h.urls.restore_sessions
    r = client.post(h.urls.restore_sessions, data=json.loads(restore.get("hx-vals")), headers=HX)
    assert r.headers["hx-redirect"] == f"{h.urls.session_detail}?session_id=s001"
    assert client.get(h.urls.session_detail, params={"session_id": "s001"}).status_code == 200
    r = client.get(h.urls.session_detail, params={"session_id": "never-was"})
    assert r.status_code == 404 and "no longer exists" in squash(parse(r.text).text())


# ==================================================================================================
# The JSON list
# ==================================================================================================
def test_json_list(h):
    "With Accept: application/json the list answers its view's window as data: total, offset, sessions with fields."
    tab = h.tab(rows="2", start="1")
    data = tab.json()
    assert data["total"] == N + 1 and data["offset"] == 1 and data["capped"] is False
    assert [s["session_id"] for s in data["sessions"]] == newest_first(N)[1:3]
    first = data["sessions"][0]
    assert first["label"] == "Run 003" and first["step"] == "upload" and first["fields"] == {"owner": "owner3", "file": "file-003.wav"}
    searched = h.client().get(h.urls.list_sessions, params={"q": "generated"}, headers={"Accept": "application/json"}).json()
    assert [s["session_id"] for s in searched["sessions"]] == ["gen"] and searched["sessions"][0]["stored_label"] is None
