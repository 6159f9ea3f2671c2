"""Copies of sessions (issue 11): duplicate, export and import, on both databases.

A duplicate is an independent session; an export document holds whole sessions and imports back to the same
rows (state byte for byte); a document that cannot be imported in full changes nothing at all.
"""
import json

import pytest

from cjm_fasthtml_workflow_session_management.models import SessionQuery
from cjm_fasthtml_workflow_session_management.services.management import InvalidSessionIdError, SessionExistsError
from cjm_fasthtml_workflow_session_management.services.transfer import FORMAT, VERSION, DocumentError

from backends import PostgresBackend, SqliteBackend
from http_helpers import ts
from service_helpers import FLOW, ids, make_service, raw_states, stored

STATE = {"file": "talk.wav", "ü": "crème brûlée 🎧", "nested": {"list": [1, 2.5, None, True, "x"], "empty": {}},
         "big": 10 ** 20, "small": 1e-7, "text": "line\nbreak \"quoted\" \\ back", "_step_upload": {"done": True}}


def write_sessions(backend):
    "Three sessions written the way a workflow writes them: through the store."
    svc = make_service(backend)
    a = svc.create_session("Interview")
    backend.store.update_state(FLOW, a, STATE)
    backend.store.set_current_step(FLOW, a, "review")
    b = svc.create_session()
    backend.store.update_state(FLOW, b, {"n": 1})
    c = svc.create_session("Empty")
    return svc, [a, b, c]


def everything(backend, svc) -> tuple:
    "What a refused import must leave as it was: every row, each state's text, and the service's counters."
    return backend.dump(), raw_states(backend), svc.changes(), svc.trash_count()


# --------------------------------------------------------------------------------------------------
# Duplicate
# --------------------------------------------------------------------------------------------------
def test_a_duplicate_is_an_independent_copy(backend):
    svc, (a, *_) = write_sessions(backend)
    copy = svc.duplicate_session(a)
    label, step, state, *_ = stored(backend)[copy]
    assert (label, step, state) == ("Copy of Interview", "review", STATE)
    assert raw_states(backend)[copy] == raw_states(backend)[a]
    original = stored(backend)[a], raw_states(backend)[a]
    backend.store.update_state(FLOW, copy, {"file": "variation.wav"})
    backend.store.update_step_state(FLOW, copy, "upload", {"done": False})
    assert (stored(backend)[a], raw_states(backend)[a]) == original
    copied = stored(backend)[copy], raw_states(backend)[copy]
    backend.store.update_state(FLOW, a, {"nested": "changed"})
    backend.store.set_current_step(FLOW, a, "upload")
    assert (stored(backend)[copy], raw_states(backend)[copy]) == copied
    assert backend.store.get_state(FLOW, copy)["nested"] == STATE["nested"]


def test_a_duplicate_comes_first_in_the_default_order(backend):
    svc = make_service(backend)
    made = [svc.create_session(f"S{i}") for i in range(3)]  # within one second, as the store keeps time
    copy = svc.duplicate_session(made[0])
    assert ids(svc.read_page(0, 10).items) == [copy] + made[::-1]


def test_duplicate_labels(backend):
    backend.seed([{"id": "gen", "state": {"file": "a.wav"}}, {"id": "long", "label": "x" * 200}])
    svc = make_service(backend, label_generator=lambda summary, state: f"Transcript of {state['file']}" if state.get("file") else None)
    assert svc.get_session(svc.duplicate_session("gen")).resolved_label == "Copy of Transcript of a.wav"
    variation, long = svc.duplicate_session("gen", label="  Variation  "), svc.duplicate_session("long")
    assert stored(backend)[variation][0] == "Variation"
    long_copy = stored(backend)[long][0]
    assert long_copy.startswith("Copy of x") and len(long_copy) == 200


def test_duplicate_refuses_missing_sources_and_taken_or_invalid_ids(backend):
    svc = make_service(backend)
    a = svc.create_session("A")
    make_service(backend, "other").create_session("Theirs", session_id="theirs")
    before = backend.dump()
    with pytest.raises(KeyError): svc.duplicate_session("missing")
    with pytest.raises(KeyError): svc.duplicate_session("theirs")  # another flow's session
    with pytest.raises(SessionExistsError): svc.duplicate_session(a, new_id=a)
    with pytest.raises(InvalidSessionIdError): svc.duplicate_session(a, new_id="a:b")
    assert backend.dump() == before
    assert svc.duplicate_session(a, new_id="chosen") == "chosen" and svc.session_exists("chosen")


# --------------------------------------------------------------------------------------------------
# Export and import
# --------------------------------------------------------------------------------------------------
def test_the_export_document(backend):
    svc, (a, b, c) = write_sessions(backend)
    doc = svc.export_sessions([c, a, "missing", "x:y"])
    assert (doc["format"], doc["version"], doc["flow_id"]) == (FORMAT, VERSION, FLOW) and doc["exported_at"]
    assert [s["id"] for s in doc["sessions"]] == [a, c]  # creation order; unknown ids left out
    label, step, state, created, updated = stored(backend)[a]
    assert doc["sessions"][0] == {"id": a, "label": "Interview", "step": "review", "created": created,
                                  "updated": updated, "state": STATE}
    assert json.loads(json.dumps(doc)) == doc  # plain JSON


def exported(svc, query: SessionQuery) -> list:
    "Ids of an export of a query."
    return [s["id"] for batch in svc.export_batches(query=query) for s in batch]


def test_export_of_a_query(backend):
    svc, (a, b, c) = write_sessions(backend)
    svc.read_page()
    assert exported(svc, SessionQuery(search="interview")) == [a]
    assert exported(svc, SessionQuery(steps=("review",))) == [a]
    assert exported(svc, SessionQuery(unlabelled=True)) == [b]
    assert exported(svc, SessionQuery()) == [a, b, c]


def test_export_of_a_search_matches_what_the_list_shows_now(backend):
    "A session renamed since the last read is exported by its new label, not its old one."
    svc, (a, b, c) = write_sessions(backend)
    svc.read_page()
    svc.rename_session(a, "Lecture")
    svc.rename_session(c, "Interview again")
    assert exported(svc, SessionQuery(search="interview")) == [c]


def test_export_then_import_restores_every_row_byte_for_byte(backend):
    svc, made = write_sessions(backend)
    before = backend.dump(), raw_states(backend)
    doc = json.dumps(svc.export_sessions(made)).encode()  # as downloaded
    svc.delete_sessions(made)
    svc.purge_trash()
    assert backend.dump() == []
    assert svc.import_sessions(doc) == made
    assert (backend.dump(), raw_states(backend)) == before
    assert svc.get_session(made[0]).resolved_label == "Interview" and svc.read_page().total == 3


def test_imported_ids_that_exist_get_new_ids(backend):
    svc, (a, b, c) = write_sessions(backend)
    doc = svc.export_sessions([a, b])
    doc["sessions"].append({**doc["sessions"][0], "id": "free-id"})
    got = svc.import_sessions(doc)
    assert got[2] == "free-id" and len(set(got[:2]) & {a, b, c}) == 0 and len(set(got)) == 3
    rows = stored(backend)
    assert rows[got[0]] == rows[a] and rows[got[1]] == rows[b] and rows["free-id"] == rows[a]
    named = svc.import_sessions(doc, id_for=lambda old: f"{old}-again")
    assert named == [f"{a}-again", f"{b}-again", "free-id-again"] and svc.read_page().total == 9


def test_an_id_for_that_gives_a_taken_id_does_not_drop_sessions(backend):
    "If the host's `id_for` answers an id the flow has, the import must not report sessions it did not write."
    svc, (a, b, c) = write_sessions(backend)
    before = everything(backend, svc)
    try: got = svc.import_sessions(svc.export_sessions([a, b]), id_for=lambda old: c)
    except ValueError: assert everything(backend, svc) == before  # refused whole: fine too
    else:
        assert len(set(got)) == 2 and c not in got
        assert all(svc.session_exists(s) for s in got) and svc.read_page().total == 5


def test_an_empty_document_imports_nothing(backend):
    svc, _ = write_sessions(backend)
    before = everything(backend, svc)
    assert svc.import_sessions(svc.export_sessions([])) == []
    assert everything(backend, svc) == before


def document(**session) -> dict:
    "A valid one-session document, with some of the session's fields replaced."
    s = {"id": "new", "label": "New", "step": None, "created": ts(1), "updated": ts(2), "state": {"ok": 1}, **session}
    return {"format": FORMAT, "version": VERSION, "flow_id": FLOW, "exported_at": ts(3), "sessions": [s]}


def with_sessions(*sessions) -> dict:
    return {**document(), "sessions": list(sessions)}


GOOD = document()["sessions"][0]
BAD_DOCUMENTS = {
    "truncated": json.dumps(document()).encode()[:60],
    "not json": b"\x89PNG\r\n\x1a\n",
    "empty file": b"",
    "a list": b"[]",
    "no format": {k: v for k, v in document().items() if k != "format"},
    "wrong version": {**document(), "version": 2},
    "wrong flow": {**document(), "flow_id": "another"},
    "flow of another case": {**document(), "flow_id": FLOW.upper()},
    "sessions not a list": {**document(), "sessions": {"new": GOOD}},
    "duplicate ids": with_sessions(GOOD, {**GOOD, "label": "Twin"}),
    "NaN in state": document(state={"x": float("nan")}),
    "Infinity text": json.dumps(document()).replace('"ok": 1', '"ok": Infinity'),
    "lone surrogate in label": json.dumps(document()).replace('"New"', '"\\ud800"'),
    "lone surrogate in state": document(state={"x": "\ud800"}),
    "lone surrogate key": document(state={"\udfff": 1}),
    "NUL in state": document(state={"x": "a\x00b"}),
    "state a list": document(state=[1, 2]),
    "state a string": document(state="{}"),
    "state missing": {**document(), "sessions": [{k: v for k, v in GOOD.items() if k != "state"}]},
    "state too deep": document(state=json.loads('{"a":' * 300 + "1" + "}" * 300)),
    "oversized label": document(label="x" * 201),
    "label not text": document(label=5),
    "step not text": document(step=["upload"]),
    "id with colon": document(id="a:b"),
    "blank id": document(id="  "),
    "bad time": document(created="yesterday"),
    "bad second session": with_sessions(GOOD, {**GOOD, "id": "other", "state": None}),
}


def import_outcome(svc, doc) -> str:
    "'refused' when importing `doc` raises DocumentError with a message; else what happened instead."
    try: got = svc.import_sessions(doc)
    except DocumentError as e: return "refused" if str(e).strip() else "refused without a message"
    except Exception as e: return f"{type(e).__name__}: {e}"
    return f"imported as {got}"


def test_bad_documents_are_refused_and_change_nothing(backend):
    "Each bad document raises DocumentError (a clear message) and leaves every row, state and counter as it was."
    backend.seed([{"id": "new", "label": "Here first", "state": {"ok": 0}}])  # the documents' id is taken
    svc = make_service(backend)
    before, wrong = everything(backend, svc), {}
    for name, doc in BAD_DOCUMENTS.items():
        outcome = import_outcome(svc, doc)
        if outcome != "refused": wrong[name] = outcome
        elif everything(backend, svc) != before: wrong[name] = "refused, but the database changed"
    assert wrong == {}


def test_documents_move_between_the_databases(tmp_path, pg_conninfo):
    "Exported from SQLite, imported into PostgreSQL, exported again and imported into a new SQLite file: the same rows."
    first, pg, last = SqliteBackend(tmp_path / "first.db"), PostgresBackend(pg_conninfo), SqliteBackend(tmp_path / "last.db")
    try:
        svc, made = write_sessions(first)
        made.append(svc.duplicate_session(made[0]))
        to_pg = make_service(pg).import_sessions(svc.export_sessions(made))
        assert to_pg == made and pg.dump() == first.dump()
        back = make_service(last).import_sessions(json.dumps(make_service(pg).export_sessions(made)))
        assert back == made and last.dump() == first.dump()
        assert [pg.store.get_state(FLOW, s) for s in made] == [first.store.get_state(FLOW, s) for s in made]
    finally: pg.close()
