"""Deleting into the trash and restoring from it (issue 11), on both databases.

A delete moves the whole row (id, label, step, state, timestamps); a restore puts back exactly that row, under
its old id unless a new session took it meanwhile. Bulk deletes of a query are one call and one batch.
"""
from datetime import datetime, timedelta, timezone

import pytest

from cjm_fasthtml_workflow_session_management.models import SessionQuery

from http_helpers import ts
from service_helpers import (
    FLOW, found, ids, kept_counts, make_service, ph, raw_insert, raw_states, read_all, real_counts, settle, stored,
    trash_rows)

STEP_TITLES = {"upload": "Upload audio", "review": "Review"}


def transcript_service(backend, **kw):
    "Generated labels, step titles and a host column, as the transcript host has them."
    return make_service(backend, label_generator=lambda summary, state: f"Transcript of {state['file']}" if state.get("file") else None,
                        enricher=lambda state: {"file": state.get("file", "")}, get_step_title=STEP_TITLES.get, **kw)


def age_trash(backend, sid: str, days: float) -> None:
    "Pretend the trash entry of `sid` was deleted `days` days ago."
    when = f"{datetime.now(timezone.utc) - timedelta(days=days):%Y-%m-%d %H:%M:%S}"
    p = ph(backend)
    backend.sql(f"UPDATE sm2_trash SET deleted_at = {p} WHERE sid = {p}", (when, sid))


def statements_run(backend, traced: list) -> int:
    """Statements the service ran, from its statement hook. SQLite's trace repeats a statement for each trigger
    step it runs and adds the search index's own ('--' or quoted 'main' statements); its statements arrive with
    their parameters filled in, so one statement per session would show as that many distinct texts."""
    if backend.name == "postgres": return len(traced)
    return len({s for s in traced if not s.startswith("--") and "'main'." not in s})


def whole(backend) -> tuple:
    "Everything a restore must put back: every row as stored, and each state's exact text."
    return backend.dump(), raw_states(backend)


# --------------------------------------------------------------------------------------------------
# One session
# --------------------------------------------------------------------------------------------------
def test_delete_moves_the_whole_row_and_restore_puts_it_back_exactly(backend):
    backend.seed([{"id": "keep", "label": "Bystander"},
                  {"id": "d1", "label": "Interview", "step": "upload", "created": ts(3), "updated": ts(9),
                   "state": {"file": "talk.wav", "nested": {"ü": [1, 2.5, None, True]}, "text": "line\nbreak \"quoted\""}}])
    raw_insert(backend, "raw", state_text='{"compact":[1,2],"b":"\\u00e9"}')  # state text no Python json would write
    svc = transcript_service(backend)
    shown = svc.get_session("d1")
    before = whole(backend)
    svc.delete_session("d1")
    svc.delete_session("raw")
    assert [k for k, *_ in backend.dump()] == [f"{FLOW}:keep"]
    item = svc.trashed("d1")
    assert (item.session_id, item.label, item.stored_label, item.step, item.step_title, item.created_at, item.updated_at) == \
           ("d1", "Interview", "Interview", "upload", "Upload audio", ts(3), ts(9))
    assert item.size == shown.summary.state_size_bytes
    assert svc.get_session("d1") is None and not svc.session_exists("d1")
    assert svc.restore_batch(item.batch).session_ids == ["d1"]
    assert svc.restore_batch(svc.trashed("raw").batch).renamed == {}
    assert whole(backend) == before
    again = svc.get_session("d1")
    assert (again.resolved_label, again.enriched_fields, again.summary) == (shown.resolved_label, shown.enriched_fields, shown.summary)
    assert svc.trash_count() == 0 and trash_rows(backend) == 0


def test_restore_batch_undoes_exactly_that_batch(backend):
    svc = make_service(backend)
    a, b, c, d = (svc.create_session(n) for n in "ABCD")
    _, first = svc.move_to_trash([a])
    n, second = svc.move_to_trash([b, c, "not-there"])
    assert n == 2 and svc.trash_count() == 3 and svc.batch_size(second) == 2
    restored = svc.restore_batch(second)
    assert sorted(restored.session_ids) == sorted([b, c]) and restored.renamed == {}
    assert set(ids(read_all(svc))) == {b, c, d} and [t.session_id for t in svc.read_trash().items] == [a]
    assert svc.restore_batch(second).session_ids == []  # undoing twice does nothing
    assert svc.restore_batch(first).session_ids == [a]


@pytest.mark.parametrize("how", ["batch", "ids", "all"])
def test_a_restore_whose_id_was_taken_keeps_both_and_says_so(backend, how):
    "Only a host-chosen id can be taken again; the restored session then comes back under a new id."
    svc = make_service(backend)
    svc.create_session("Original", session_id="chosen")
    backend.store.update_state(FLOW, "chosen", {"v": "old"})
    old = stored(backend)["chosen"]
    batch = svc.move_to_trash(["chosen"])[1]
    svc.create_session("Newcomer", session_id="chosen")
    newcomer = stored(backend)["chosen"]
    restored = {"batch": lambda: svc.restore_batch(batch), "ids": lambda: svc.restore_many(["chosen"]),
                "all": svc.restore_all}[how]()
    (new_id,) = restored.session_ids
    assert restored.renamed == {"chosen": new_id} and new_id != "chosen"
    assert stored(backend)["chosen"] == newcomer and stored(backend)[new_id] == old
    assert found(svc, "original") == {new_id} and found(svc, "newcomer") == {"chosen"}
    assert svc.trash_count() == 0


def test_the_latest_deletion_of_an_id_is_the_one_restored(backend):
    svc = make_service(backend)
    svc.create_session("First life", session_id="twice")
    svc.delete_session("twice")
    svc.create_session("Second life", session_id="twice")
    svc.delete_session("twice")
    assert svc.trash_count() == 2 and svc.trashed("twice").label == "Second life"
    assert svc.restore_sessions(["twice"]) == 1
    assert svc.get_session("twice").resolved_label == "Second life" and svc.trash_count() == 1


def test_restore_shows_what_the_session_holds_now_after_writes_just_before_the_delete(backend):
    "A session renamed or saved by its workflow and deleted before any read comes back showing its current text."
    svc = transcript_service(backend)
    renamed, saved = svc.create_session("Old name"), svc.create_session()
    svc.read_page()
    svc.rename_session(renamed, "New name")
    backend.store.update_state(FLOW, saved, {"file": "late.wav"})
    _, batch = svc.move_to_trash([renamed, saved])
    svc.restore_batch(batch)
    assert svc.get_session(renamed).resolved_label == "New name"
    assert svc.get_session(saved).resolved_label == "Transcript of late.wav"
    assert found(svc, "new name") == {renamed} and found(svc, "late.wav") == {saved}


# --------------------------------------------------------------------------------------------------
# Purging
# --------------------------------------------------------------------------------------------------
def test_purge_by_age_and_all(backend):
    svc = make_service(backend)
    made = [svc.create_session(f"S{i}") for i in range(4)]
    for sid in made: svc.delete_session(sid)
    age_trash(backend, made[0], 40)
    age_trash(backend, made[1], 10)
    assert svc.purge_trash(older_than_days=30) == 1
    assert svc.purge_trash(older_than_days=7) == 1
    assert svc.trash_count() == 2 and {t.session_id for t in svc.read_trash().items} == set(made[2:])
    assert svc.purge_sessions([made[2], "not-there"]) == 1
    assert svc.purge_trash() == 1 and svc.trash_count() == 0 and trash_rows(backend) == 0
    assert svc.restore_sessions(made) == 0 and svc.read_page().total == 0


def test_starting_the_service_purges_trash_older_than_trash_days(backend):
    svc = make_service(backend)
    old, recent = svc.create_session("Old"), svc.create_session("Recent")
    svc.delete_sessions([old, recent])
    age_trash(backend, old, 31)
    make_service(backend, trash_days=30)
    assert [t.session_id for t in svc.read_trash().items] == [recent]


def test_trash_days_zero_deletes_for_good(backend):
    svc = make_service(backend, trash_days=0)
    a, b, c = (svc.create_session(n) for n in ("Alpha", "Bravo", "Charlie"))
    svc.delete_session(a)
    n, batch = svc.move_to_trash(query=SessionQuery(search="bravo"))
    assert n == 1 and [k for k, *_ in backend.dump()] == [f"{FLOW}:{c}"]
    assert svc.trash_count() == 0 and trash_rows(backend) == 0 and svc.trashed(a) is None
    assert svc.restore_batch(batch).session_ids == [] and svc.restore_sessions([a, b]) == 0
    assert kept_counts(backend) == real_counts(backend)


# --------------------------------------------------------------------------------------------------
# Bulk
# --------------------------------------------------------------------------------------------------
BULK = 2000


def test_bulk_delete_of_a_search_is_one_call_and_restore_brings_all_back(backend):
    backend.seed([{"id": f"b{i:04d}", "label": f"Bulk run {i}", "state": {"i": i}} for i in range(BULK)]
                 + [{"id": f"k{i}", "label": f"Keeper {i}"} for i in range(5)])
    svc = make_service(backend)
    settle(svc)
    before, changes = whole(backend), svc.changes()
    statements = []
    svc.statement_hook = statements.append
    moved, batch = svc.move_to_trash(query=SessionQuery(search="bulk"))
    svc.statement_hook = None
    assert moved == BULK and statements_run(backend, statements) < 10  # a few statements for the whole batch, not one per session
    assert svc.read_page().total == 5 and svc.trash_count() == BULK and svc.batch_size(batch) == BULK
    assert svc.changes() > changes and kept_counts(backend) == real_counts(backend)
    assert svc.read_trash(0, 3).total == BULK
    restored = svc.restore_batch(batch)
    assert restored.count == BULK and restored.renamed == {}
    assert whole(backend) == before and svc.trash_count() == 0 and svc.read_page().total == BULK + 5
    assert kept_counts(backend) == real_counts(backend)


def test_bulk_delete_by_ids_in_one_call(backend):
    backend.seed([{"id": f"b{i:04d}", "label": f"Run {i}"} for i in range(1200)])
    svc = make_service(backend)
    chosen = [f"b{i:04d}" for i in range(0, 1200, 2)] + ["missing", ""]
    assert svc.delete_sessions(chosen) == 600
    assert svc.read_page().total == 600 and svc.trash_count() == 600
    assert svc.restore_sessions(chosen) == 600 and svc.read_page().total == 1200


@pytest.mark.parametrize("query", [SessionQuery(steps=("upload",)), SessionQuery(unlabelled=True),
                                   SessionQuery(search="take", updated_before=ts(3))], ids=["step", "unlabelled", "search+age"])
def test_bulk_delete_takes_exactly_what_the_query_reads(backend, query):
    backend.seed([{"id": "q1", "label": "Take A", "step": "upload"}, {"id": "q2", "step": "upload"},
                  {"id": "q3", "label": "Take B"}, {"id": "q4", "label": "Other", "step": "review"}, {"id": "q5"}])
    svc = make_service(backend)
    expected = set(ids(read_all(svc, query)))
    assert expected and svc.move_to_trash(query=query)[0] == len(expected)
    assert {t.session_id for t in svc.read_trash(0, 10).items} == expected
    assert set(ids(read_all(svc))) == {"q1", "q2", "q3", "q4", "q5"} - expected


def test_bulk_delete_by_query_matches_what_the_list_shows_now(backend):
    "Writes since the last read (a rename, the workflow saving state) count: the query acts on the current text."
    svc = transcript_service(backend)
    renamed, saved, kept = svc.create_session("shared one"), svc.create_session(), svc.create_session("shared two")
    svc.read_page()
    svc.rename_session(renamed, "private")
    backend.store.update_state(FLOW, saved, {"file": "shared.wav"})
    moved, _ = svc.move_to_trash(query=SessionQuery(search="shared"))
    assert {t.session_id for t in svc.read_trash().items} == {saved, kept} and moved == 2
    assert svc.session_exists(renamed)


def test_read_trash_is_newest_first_in_windows(backend):
    svc = transcript_service(backend)
    made = [svc.create_session(f"T{i}") for i in range(6)]
    for sid in made: svc.delete_session(sid)  # same second: the order of deletion decides
    newest_first = made[::-1]
    page = svc.read_trash(0, 2)
    assert (page.total, page.offset, [t.session_id for t in page.items]) == (6, 0, newest_first[:2])
    assert [t.session_id for t in svc.read_trash(2, 3).items] == newest_first[2:5]
    last = svc.read_trash(50, 4)
    assert (last.offset, [t.session_id for t in last.items]) == (2, newest_first[2:])


def test_the_trash_lists_the_current_label_of_a_session_saved_just_before_its_delete(backend):
    "A session the workflow saved just before its delete is listed in the trash under the label it has now."
    svc = transcript_service(backend)
    sid = svc.create_session()
    backend.store.update_state(FLOW, sid, {"file": "gen.wav"})
    svc.delete_session(sid)
    item = svc.trashed(sid)
    assert (item.label, item.stored_label) == ("Transcript of gen.wav", None)
