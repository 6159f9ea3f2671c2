"""Many sessions at once over HTTP (issue 11), on both databases: bulk delete with undo, the trash, duplicate,
export and import."""
import json
import time
import uuid
from contextlib import contextmanager

import psycopg
import pytest

from cjm_fasthtml_workflow_session_management.services.transfer import FORMAT, VERSION

from backends import PostgresBackend, with_search_path
from http_helpers import (
    ACTIVE_KEY, FLOW, HX, alert_role, alert_text, count_tables, count_text, cursor_ids, flow_rows, labels, list_body,
    make_harness, page, parse, real_counts, row_ids, session_cookie, session_ids, sessions, trash_ids)

N = 8


@pytest.fixture
def h(backend):
    return make_harness(backend, sessions(N))


def undo_batch(html) -> str:
    "The batch the notice's Undo restores."
    button = parse(html).find(data_wsm_undo=True)
    assert button is not None, f"no Undo in {html[:200]!r}"
    return button.get("data-wsm-undo")


def post(h, client, url, **data):
    "A same-origin htmx POST with repeatable fields (lists)."
    return client.post(url, data={"view": "start=0", **data}, headers=HX)


def assert_counts_exact(h):
    assert count_tables(h.backend) == real_counts(h.backend)


# ==================================================================================================
# Bulk delete and undo
# ==================================================================================================
def test_delete_a_selection_then_undo_restores_it_exactly(h):
    """delete_sessions with repeated session_id moves exactly those to the trash in one action; its Undo
    restores every row exactly as it was (ids, labels, steps, state, timestamps)."""
    before, client = h.backend.dump(), h.client()
    r = post(h, client, h.urls.delete_sessions, session_id=["s001", "s004", "s006", "not-there"], request_id="bulk-delete-1")
    assert r.status_code == 200 and alert_text(r.text).startswith("Deleted 3 sessions.") and alert_role(r.text) == "status"
    assert session_ids(h.backend) == {f"s{i:03d}" for i in range(N)} - {"s001", "s004", "s006"}
    assert trash_ids(h.backend) == {"s001", "s004", "s006"} and count_text(r.text) == f"{N - 3} sessions"
    again = post(h, client, h.urls.delete_sessions, session_id=["s001", "s004", "s006"], request_id="bulk-delete-1")
    assert alert_text(again.text) == alert_text(r.text) and undo_batch(again.text) == undo_batch(r.text)
    r = post(h, client, h.urls.restore_sessions, batch=undo_batch(r.text))
    assert r.status_code == 200 and alert_text(r.text).startswith("Restored 3 sessions.")
    assert h.backend.dump() == before and trash_ids(h.backend) == set()
    assert_counts_exact(h)


def test_delete_all_matching_a_search_of_2000_then_undo(backend):
    """`all=1` with a search view deletes every match (not only the window: 1,100 of 2,000) in one request, and
    Undo with its batch restores all of them exactly, each in bounded time."""
    h = make_harness(backend, sessions(2000))
    tab = h.tab(q="Run 1")
    wait_for_display(h)  # the race with the first build is test_bulk_delete_during_the_first_display_build
    before = h.backend.dump()
    matching = {sid for sid, (label, *_) in flow_rows(h.backend).items() if "Run 1" in label}
    assert len(matching) == 1100
    t0 = time.monotonic()
    r = tab.post(h.urls.delete_sessions, {"all": "1"})
    deleted_in = time.monotonic() - t0
    assert r.status_code == 200 and alert_text(r.text).startswith("Deleted 1,100 sessions.")
    assert trash_ids(h.backend) == matching and len(session_ids(h.backend)) == 900
    assert count_text(r.text) == "0 matching sessions" and row_ids(r.text) == []
    assert count_tables(h.backend)["sessions"] == 900
    t0 = time.monotonic()
    r = tab.post(h.urls.restore_sessions, {"batch": undo_batch(r.text)})
    restored_in = time.monotonic() - t0
    assert alert_text(r.text).startswith("Restored 1,100 sessions.")
    assert h.backend.dump() == before
    assert_counts_exact(h)
    assert deleted_in < 5 and restored_in < 5, (deleted_in, restored_in)


def wait_for_display(h):
    "Wait until the service's background display builder (started by the first read of many new rows) is done."
    builder = h.service._builder
    if builder is not None: builder.thread.join(60)


def test_bulk_delete_during_the_first_display_build(pg_url):
    """On PostgreSQL, a bulk delete sent right after the first page load of 2,000 sessions (while the service
    builds its display rows in the background) succeeds. Each round is a fresh schema, since the race is with the
    first build; it is a race, so several rounds are tried."""
    statuses = []
    for _ in range(5):
        with fresh_postgres(pg_url) as backend:
            h = make_harness(backend, sessions(2000))
            tab = h.tab(q="Run 1")
            r = tab.post(h.urls.delete_sessions, {"all": "1"})
            statuses.append((r.status_code, alert_text(r.text)[:60]))
            wait_for_display(h)
    assert all(status == 200 for status, _ in statuses), statuses


@contextmanager
def fresh_postgres(pg_url):
    "A PostgresBackend on a schema of its own, dropped afterwards."
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_url, autocommit=True) as conn: conn.execute(f"CREATE SCHEMA {schema}")
    backend = PostgresBackend(with_search_path(pg_url, schema))
    try: yield backend
    finally:
        backend.close()
        with psycopg.connect(pg_url, autocommit=True) as conn: conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_bulk_delete_of_the_active_session_says_which_is_active_now(h):
    "When the active session is among the deleted, the notice names the session that is active now."
    tab = h.tab()
    tab.resume("s007")
    r = tab.post(h.urls.delete_sessions, {"session_id": ["s007", "s006"]})
    assert "Your active session is now “Run 005”." in alert_text(r.text)
    assert session_cookie(tab.client)[ACTIVE_KEY] == "s005"


def test_bulk_delete_needs_something_to_delete(h):
    "delete_sessions without ids or all=1 is refused with a message, and changes nothing."
    before = h.backend.dump()
    r = post(h, h.client(), h.urls.delete_sessions)
    assert r.status_code == 400 and alert_role(r.text) == "alert" and alert_text(r.text)
    assert h.backend.dump() == before


# ==================================================================================================
# The trash
# ==================================================================================================
def toolbar_button(html, text):
    "The toolbar button whose text starts with `text`, as (its URL, its hx-vals)."
    button = next(b for b in parse(html).by_id("wsm-toolbar").find_all("button") if b.text().strip().startswith(text))
    return button.get("hx-get"), json.loads(button.get("hx-vals"))


def test_the_trash_button_and_back_switch_the_toolbar(h):
    """The toolbar's Trash button (it sends view=trash=1) answers the trash's rows AND its toolbar (count "N in the
    trash", Back to sessions, Empty trash); Back to sessions answers the sessions' rows and toolbar again."""
    client = h.client()
    post(h, client, h.urls.delete_sessions, session_id=["s000", "s001"])
    tab = h.tab(client)
    url, vals = toolbar_button(tab.html, "Trash")
    r = tab.get(url, vals)
    assert list_body(r.text)["trash"] and set(row_ids(r.text)) == {"s000", "s001"}
    assert count_text(r.text) == "2 in the trash", "the toolbar still shows the sessions' count and controls"
    url, vals = toolbar_button(r.text, "Back to sessions")
    r = tab.get(url, vals)
    assert not list_body(r.text)["trash"] and count_text(r.text) == f"{N - 2} sessions"


def test_trash_view_restore_and_purge(h):
    """The trash view (trash=1) lists the deleted sessions with their count; restore by ids and all=1 bring
    them back; purge by ids and all=1 delete them for good; the counts stay exact."""
    client = h.client()
    post(h, client, h.urls.delete_sessions, session_id=["s000", "s001", "s002", "s003", "s004"])
    tab = h.tab(client, trash="1")
    assert list_body(tab.html)["trash"] and set(row_ids(tab.html)) == {"s000", "s001", "s002", "s003", "s004"}
    assert count_text(tab.html) == "5 in the trash" and labels(tab.html)["s002"] == "Run 002"
    r = tab.post(h.urls.restore_sessions, {"session_id": ["s001"]})
    assert alert_text(r.text).startswith("Restored 1 session.") and "s001" in session_ids(h.backend)
    assert count_text(r.text) == "4 in the trash" and "s001" not in row_ids(r.text)
    r = tab.post(h.urls.purge_trash, {"session_id": ["s002"]})
    assert alert_text(r.text).startswith("Deleted 1 session forever.") and trash_ids(h.backend) == {"s000", "s003", "s004"}
    assert "s002" not in session_ids(h.backend) and count_text(r.text) == "3 in the trash"
    r = tab.post(h.urls.restore_sessions, {"all": "1"})
    assert alert_text(r.text).startswith("Restored 3 sessions.") and trash_ids(h.backend) == set()
    post(h, client, h.urls.delete_sessions, session_id=["s005", "s006"])
    r = tab.post(h.urls.purge_trash, {"all": "1"})
    assert alert_text(r.text).startswith("Deleted 2 sessions forever.") and trash_ids(h.backend) == set()
    assert session_ids(h.backend) == {"s000", "s001", "s003", "s004", "s007"}
    assert_counts_exact(h)


def test_restore_and_purge_need_something(h):
    "restore_sessions and purge_trash without batch, ids or all=1 answer 400 with a message."
    client = h.client()
    for url in (h.urls.restore_sessions, h.urls.purge_trash):
        r = post(h, client, url)
        assert r.status_code == 400 and alert_text(r.text), url


# ==================================================================================================
# Duplicate
# ==================================================================================================
def test_duplicate_is_first_focused_and_independent(h):
    """Duplicate makes one copy (the same request twice: still one) labelled "Copy of …", placed first with the
    cursor (aria-current) on it; its state is a copy that later writes to the original do not change."""
    tab = h.tab(sort="label", dir="asc", q="Run 00")
    before = session_ids(h.backend)
    r = tab.post(h.urls.duplicate_session, {"session_id": "s003", "request_id": "duplicate-once"})
    tab.post(h.urls.duplicate_session, {"session_id": "s003", "request_id": "duplicate-once"})
    assert r.status_code == 200
    (copy,) = session_ids(h.backend) - before
    assert row_ids(r.text)[0] == copy and cursor_ids(r.text) == [copy]
    assert parse(r.text).find("tr", data_session_id=copy).get("aria-current") == "true"
    assert labels(r.text)[copy] == "Copy of Run 003" and alert_text(r.text).startswith("Duplicated “Run 003”")
    rows = flow_rows(h.backend)
    assert rows[copy][1:3] == rows["s003"][1:3]  # step and state
    h.backend.store.update_state(FLOW, "s003", {"owner": "changed"})
    assert flow_rows(h.backend)[copy][2]["owner"] == "owner3"


# ==================================================================================================
# Export
# ==================================================================================================
def check_document(doc, ids):
    "A valid export document of exactly `ids`."
    assert doc["format"] == FORMAT and doc["version"] == VERSION and doc["flow_id"] == FLOW
    assert sorted(s["id"] for s in doc["sessions"]) == sorted(ids)
    for s in doc["sessions"]: assert set(s) == {"id", "label", "step", "created", "updated", "state"}


def test_export_downloads_a_valid_document(h):
    "export_sessions of some ids is a JSON download (Content-Disposition: attachment, a .json name) of exactly those."
    r = h.client().get(h.urls.export_sessions, params={"session_id": ["s001", "s002", "missing"]})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;") and '.json"' in disposition
    doc = r.json()
    check_document(doc, ["s001", "s002"])
    s1 = next(s for s in doc["sessions"] if s["id"] == "s001")
    assert s1["label"] == "Run 001" and s1["step"] == "transcribe" and s1["state"] == {"owner": "owner1", "file": "file-001.wav"}
    r = h.client().get(h.urls.export_sessions)
    assert r.status_code == 400 and alert_text(r.text)


def test_export_all_streams_every_match(backend):
    "export_sessions with all=1 and a search view holds every matching session, beyond any window."
    h = make_harness(backend, sessions(1200))
    r = h.client().get(h.urls.export_sessions, params={"all": "1", "view": "q=Run 1&rows=5"})
    assert r.status_code == 200
    expected = [sid for sid, (label, *_) in flow_rows(h.backend).items() if "Run 1" in label]
    assert len(expected) == 300
    check_document(r.json(), expected)


# ==================================================================================================
# Import
# ==================================================================================================
def upload(h, client, raw: bytes, **data):
    "POST import_sessions with `raw` as the uploaded file."
    return client.post(h.urls.import_sessions, data={"view": "start=0", **data},
                       files={"document": ("sessions.json", raw, "application/json")}, headers=HX)


def test_import_round_trip_restores_state_byte_identical(h):
    """An export imported after its sessions were deleted for good brings them back exactly (id, label, step,
    created, updated, state); imported again, every id is taken, so each gets a new id and the report says which."""
    client = h.client()
    raw = client.get(h.urls.export_sessions, params={"session_id": ["s002", "s005"]}).content
    before = {k: v for k, v in flow_rows(h.backend).items() if k in ("s002", "s005")}
    post(h, client, h.urls.delete_sessions, session_id=["s002", "s005"])
    post(h, client, h.urls.purge_trash, all="1")
    r = upload(h, client, raw)
    assert r.status_code == 200 and alert_text(r.text).startswith("Imported 2 sessions.")
    assert {k: v for k, v in flow_rows(h.backend).items() if k in ("s002", "s005")} == before
    r = upload(h, client, raw)
    assert r.status_code == 200 and alert_text(r.text).startswith("Imported 2 sessions.")
    new = session_ids(h.backend) - {f"s{i:03d}" for i in range(N)}
    assert len(new) == 2
    report = alert_text(r.text)
    assert "2 sessions got a new id" in report
    for old in ("s002", "s005"):
        assert old in report or "Run " + old[1:] in report or any(n in report for n in new), \
            f"the report does not say which sessions got a new id: {report!r}"
    assert_counts_exact(h)


def test_the_same_import_request_twice_imports_once(h):
    """An import sent twice with one request id (a retried upload) adds its sessions once and answers the same; a new
    request id with the same file imports copies."""
    client = h.client()
    raw = client.get(h.urls.export_sessions, params={"session_id": ["s001", "s003"]}).content
    post(h, client, h.urls.delete_sessions, session_id=["s001", "s003"])
    post(h, client, h.urls.purge_trash, all="1")  # the ids are free again: the first import takes them
    first = upload(h, client, raw, request_id="import-1")
    ids = session_ids(h.backend)
    again = upload(h, client, raw, request_id="import-1")
    assert again.status_code == 200 and alert_text(again.text) == alert_text(first.text)
    assert session_ids(h.backend) == ids and len(ids) == N and {"s001", "s003"} <= ids
    upload(h, client, raw, request_id="import-2")
    assert len(session_ids(h.backend)) == N + 2
    assert_counts_exact(h)


def bad_files(h):
    "(name, file bytes, expected status, words the message must contain) of files the import must refuse."
    doc = json.loads(h.client().get(h.urls.export_sessions, params={"session_id": ["s001", "s002"]}).content)
    text = json.dumps(doc)
    return [("truncated", text[: len(text) // 2].encode(), 422, "not valid JSON"),
            ("wrong version", json.dumps({**doc, "version": 99}).encode(), 422, "version"),
            ("wrong flow", json.dumps({**doc, "flow_id": "another-flow"}).encode(), 422, "another-flow"),
            ("duplicate ids", json.dumps({**doc, "sessions": doc["sessions"] + doc["sessions"][:1]}).encode(), 422, "twice"),
            ("not an export", b'{"hello": "world"}', 422, "not a session export"),
            ("bad state", json.dumps({**doc, "sessions": [{**doc["sessions"][0], "id": "fresh", "state": [1]}]}).encode(),
             422, "state"),
            ("oversized", json.dumps({**doc, "pad": "x" * 5000}).encode(), 413, "larger than")]


def test_bad_import_files_are_refused_and_change_nothing(backend):
    """Truncated, wrong version, wrong flow, duplicate ids, not an export, a bad state, oversized (over
    max_import_bytes): each answers 4xx with a clear message and the database is exactly as it was."""
    h = make_harness(backend, sessions(N), max_import_bytes=4000)
    client = h.client()
    before, trash = h.backend.dump(), trash_ids(h.backend)
    for name, raw, status, words in bad_files(h):
        r = upload(h, client, raw)
        assert r.status_code == status, (name, r.status_code, alert_text(r.text))
        assert alert_role(r.text) == "alert" and words.lower() in alert_text(r.text).lower(), (name, alert_text(r.text))
        assert h.backend.dump() == before and trash_ids(h.backend) == trash, name


def test_import_without_a_file(h):
    "An import whose `document` is a text field, or that has no `document` at all, is refused (400) with a message."
    client = h.client()
    before = h.backend.dump()
    for data, files in (({"document": "not a file"}, None), ({}, {"other": ("x.json", b"{}", "application/json")})):
        r = client.post(h.urls.import_sessions, data=data, files=files, headers=HX)
        assert r.status_code == 400 and "Choose an exported file" in alert_text(r.text), data
    r = client.post(h.urls.import_sessions, data={"document": "x"}, headers=HX)  # urlencoded, no multipart at all
    assert r.status_code == 400
    assert h.backend.dump() == before
    assert page(h, client)
