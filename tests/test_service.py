"""The service's set-up and its contract with hosts: exact flow scope, ids that cannot exist, renames, the change
number, and the faults issue 7 lists (unparsable state, unrelated or unavailable SQLite files, an older release's
objects). Tests taking `backend` run on SQLite and PostgreSQL; the rest are about SQLite files.
"""
import os
import sqlite3
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from cjm_workflow_state.state_store import SQLiteWorkflowStateStore

from cjm_fasthtml_workflow_session_management.models import SessionQuery
from cjm_fasthtml_workflow_session_management.services.management import (
    InvalidSessionIdError, SessionExistsError, SessionManagementService)
from cjm_fasthtml_workflow_session_management.stores.errors import SessionStoreSchemaError, StoreUnavailableError

from backends import SqliteBackend
from http_helpers import ts
from service_helpers import (
    FLOW, found, ids, kept_counts, make_service, raw_set, read_all, real_counts, settle, split_key, stale_count, stored)


# --------------------------------------------------------------------------------------------------
# Exact flow scope
# --------------------------------------------------------------------------------------------------
FLOWS = ("a_b", "axb", "100%", "1000", "Flow", "flow", "a", "a:b")  # each a LIKE, case or ':' trap for another
SHARED_IDS = ("s1", "s2", "s3")  # every flow has sessions under these same ids


@pytest.fixture
def flows(backend):
    "A service per flow, each flow with sessions s1-s3 labelled 'shared <flow> <n>'."
    services = {f: make_service(backend, f) for f in FLOWS}
    for f, svc in services.items():
        for n, sid in enumerate(SHARED_IDS): svc.create_session(f"shared {f} {n}", session_id=sid)
    return services


def by_flow(backend) -> dict:
    "flow -> its rows of the dump."
    rows = {}
    for row in backend.dump(): rows.setdefault(split_key(row[0])[0], []).append(row)
    return rows


def others_unchanged(backend, flow: str, before: dict) -> None:
    "Every flow but `flow` holds exactly what it held before."
    now = by_flow(backend)
    assert {f: rows for f, rows in now.items() if f != flow} == {f: rows for f, rows in before.items() if f != flow}, flow


def test_reads_see_only_their_own_flow(backend, flows):
    for f, svc in flows.items():
        assert found(svc, "shared") == set(SHARED_IDS), f
        assert {i.resolved_label for i in read_all(svc)} == {f"shared {f} {n}" for n in range(3)}, f
        assert svc.read_page(search="shared").total == 3 and svc.read_page().total == 3, f
        with svc.reader() as r: assert r.steps() == {"": 3}, f
        assert svc.get_session("s1").resolved_label == f"shared {f} 0", f
        assert [s["id"] for s in svc.export_sessions(list(SHARED_IDS))["sessions"]] == list(SHARED_IDS), f


def test_writes_touch_only_their_own_flow(backend, flows):
    "Rename, delete, trash, restore, import and bulk delete by query in one flow leave every other flow alone."
    for f, svc in flows.items():
        before = by_flow(backend)
        svc.rename_session("s1", f"renamed {f}")
        svc.delete_session("s2")
        assert svc.trash_count() == 1 and [t.session_id for t in svc.read_trash().items] == ["s2"], f
        others_unchanged(backend, f, before)
        assert all(flows[g].trash_count() == 0 for g in FLOWS if g != f), f
        assert svc.restore_sessions(["s2"]) == 1, f
        imported = svc.import_sessions(svc.export_sessions(list(SHARED_IDS)))
        assert len(set(imported) - set(SHARED_IDS)) == 3, f  # the ids exist in this flow: new ids
        svc.read_page(search="shared")  # the list the user deletes from
        moved, _ = svc.move_to_trash(query=SessionQuery(search="shared"))
        assert moved == 4 and svc.read_page().total == 2, f  # all but the renamed one and its copy
        others_unchanged(backend, f, before)
        assert svc.purge_trash() == 4 and svc.trash_count() == 0, f
        svc.move_to_trash(query=SessionQuery())
        svc.restore_all()
        others_unchanged(backend, f, before)
    flows_count, _ = real_counts(backend)
    assert flows_count == {f: 2 for f in FLOWS} and kept_counts(backend) == real_counts(backend)


def test_a_flow_never_restores_or_purges_another_flows_trash(backend, flows):
    _, batch = flows["a_b"].move_to_trash(["s1", "s2"])
    for f in ("axb", "a", "a:b", "Flow"):
        assert flows[f].restore_batch(batch).session_ids == [], f
        assert flows[f].restore_sessions(["s1"]) == 0 and flows[f].purge_trash() == 0, f
        assert flows[f].purge_sessions(["s1", "s2"]) == 0 and flows[f].trashed("s1") is None, f
    assert flows["a_b"].trash_count() == 2 and flows["a_b"].restore_batch(batch).count == 2


def test_another_flows_document_is_refused(backend, flows):
    from cjm_fasthtml_workflow_session_management.services.transfer import DocumentError
    doc = flows["Flow"].export_sessions(["s1"])
    with pytest.raises(DocumentError, match="flow"): flows["flow"].import_sessions(doc)


# --------------------------------------------------------------------------------------------------
# Ids that cannot exist; renames
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["", "   ", "a:b", ":", "x\ny", None, 7])
def test_ids_that_cannot_exist_are_not_found_and_writes_to_them_do_nothing(backend, bad):
    svc = make_service(backend)
    svc.create_session("Mine", session_id="a")
    make_service(backend, f"{FLOW}:a").create_session("Lookalike", session_id="b")  # SQLite key 'demo:a:b'
    before, changes = backend.dump(), svc.changes()
    assert svc.session_exists(bad) is False
    assert svc.get_session(bad) is None and svc.session_state(bad) is None and svc.trashed(bad) is None
    svc.rename_session(bad, "hijack")
    svc.delete_session(bad)
    assert svc.delete_sessions([bad]) == 0
    assert (backend.dump(), svc.changes(), svc.trash_count()) == (before, changes, 0)


def test_creating_a_taken_id_is_refused(backend):
    svc = make_service(backend)
    svc.create_session("First", session_id="mine")
    before = backend.dump()
    with pytest.raises(SessionExistsError): svc.create_session("Second", session_id="mine")
    with pytest.raises(InvalidSessionIdError): svc.create_session("Bad", session_id="a:b")
    assert backend.dump() == before
    assert make_service(backend, "other").create_session("Theirs", session_id="mine") == "mine"  # ids are per flow


def test_rename_keeps_updated_at(backend):
    backend.seed([{"id": "r1", "label": "Before", "created": ts(1), "updated": ts(5)}])
    svc = make_service(backend)
    svc.rename_session("r1", "After")
    assert stored(backend)["r1"] == ("After", None, {}, ts(1), ts(5))
    svc.rename_session("r1", None)
    assert stored(backend)["r1"][0] is None and stored(backend)["r1"][4] == ts(5)


@pytest.mark.parametrize("same", ["Kept", "  Kept  ", "Kept\u200b"])
def test_an_unchanged_rename_writes_nothing(backend, same):
    svc = make_service(backend)
    sid = svc.create_session("Kept")
    unlabelled = svc.create_session()
    before, changes = backend.dump(), svc.changes()
    svc.rename_session(sid, same)  # cleans to the label it has
    svc.rename_session(unlabelled, None)
    svc.rename_session(unlabelled, "   ")
    assert (backend.dump(), svc.changes()) == (before, changes)


def test_every_write_moves_the_change_number_and_only_its_flows(backend):
    svc, other = make_service(backend), make_service(backend, "other")
    seen = [svc.changes()]

    def moved(what):
        now = svc.changes()
        assert now > seen[-1], what
        with svc.reader() as r: assert r.changes() == now, what
        seen.append(now)

    a = svc.create_session("A"); moved("create")
    svc.rename_session(a, "B"); moved("rename")
    backend.store.update_state(FLOW, a, {"x": 1}); moved("store write")
    raw_set(backend, a, "label", "C"); moved("raw write")
    b = svc.duplicate_session(a); moved("duplicate")
    _, batch = svc.move_to_trash([a, b]); moved("delete")
    svc.restore_batch(batch); moved("restore")
    svc.delete_session(b); moved("delete one")
    svc.purge_trash(); moved("purge")
    svc.import_sessions(svc.export_sessions([a])); moved("import")
    other.create_session("elsewhere")
    backend.store.update_state("other", "o", {"x": 1})
    assert svc.changes() == seen[-1]


# --------------------------------------------------------------------------------------------------
# Issue 7: state SQLite cannot parse
# --------------------------------------------------------------------------------------------------
def rank_service(backend):
    "A service with a host column sorted by a state path (the kind of sort that once indexed the state)."
    svc = make_service(backend, enricher=lambda state: {"n": str(state.get("n"))})
    return svc, svc.add_host_sort("n", "$.n")


def order(svc, key, descending=False):
    return ids(read_all(svc, SessionQuery(key, descending)))


def test_state_sqlite_cannot_parse_is_saved_read_and_sorted_last(tmp_path):
    "Python's json writes NaN, which SQLite's JSON functions refuse: the workflow still saves, the row still reads."
    backend = SqliteBackend(tmp_path / "nan.db")
    svc, key = rank_service(backend)
    backend.store.update_state(FLOW, "two", {"n": 2})
    backend.store.update_state(FLOW, "nan", {"n": float("nan")})
    backend.store.update_state(FLOW, "one", {"n": 1, "x": float("inf")})
    make_service(backend, "elsewhere")  # another flow's service on the same file
    backend.store.update_state("elsewhere", "e", {"n": float("-inf")})
    assert backend.store.get_state(FLOW, "one")["x"] == float("inf")
    assert order(svc, key) == ["one", "two", "nan"]
    assert order(svc, key, descending=True) == ["two", "one", "nan"]
    assert svc.get_session("nan").enriched_fields == {"n": "nan"}
    assert found(svc, "nan") == {"nan"}


def test_a_file_already_holding_unparsable_state_starts(tmp_path):
    backend = SqliteBackend(tmp_path / "nan.db")
    backend.store.update_state(FLOW, "nan", {"n": float("nan")})
    backend.store.update_state(FLOW, "one", {"n": 1})
    svc, key = rank_service(backend)
    assert order(svc, key) == ["one", "nan"]
    backend.store.update_state(FLOW, "nan", {"n": float("nan"), "more": 1})
    assert svc.session_state("nan")["more"] == 1


# --------------------------------------------------------------------------------------------------
# Issue 7: files that are not (or no longer) a workflow database
# --------------------------------------------------------------------------------------------------
def sm_objects(db: Path) -> list:
    "Names of the service's objects (and an older release's) in a SQLite file."
    conn = sqlite3.connect(db)
    try: return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'sm%'")]
    finally: conn.close()


def journal_mode(db: Path) -> str:
    conn = sqlite3.connect(db)
    try: return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally: conn.close()


def test_an_unrelated_sqlite_file_is_refused_and_left_as_it_was(tmp_path):
    db = tmp_path / "crm.db"
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers (name) VALUES ('Ada')")
    conn.close()
    store = SQLiteWorkflowStateStore(db)  # the host's store adds its own (empty) table first
    before = db.read_bytes()
    with pytest.raises(SessionStoreSchemaError):
        SessionManagementService(store, FLOW)
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.db"]  # no -wal, no -shm
    assert journal_mode(db) == "delete" and sm_objects(db) == []


def test_a_workflow_file_with_other_tables_and_sessions_is_accepted(tmp_path):
    "A shared file that already holds sessions is the host's workflow database: the service sets up."
    backend = SqliteBackend(tmp_path / "shared.db")
    backend.sql("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    backend.seed([{"id": "x1", "label": "Existing"}])
    assert found(make_service(backend), "existing") == {"x1"}


@contextmanager
def read_only(path: Path):
    "Make a file read-only for this process, even as root (which ignores permission bits: it gets the immutable flag)."
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
        try: yield
        finally: subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        path.chmod(0o444)
        try: yield
        finally: path.chmod(0o644)


def vanish(db: Path) -> None:
    "Delete a SQLite file with its WAL and shared-memory files."
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        if p.exists(): p.unlink()


WRITES = {
    "create": lambda svc, sid: svc.create_session("new"),
    "create with id": lambda svc, sid: svc.create_session("new", session_id="chosen"),
    "rename": lambda svc, sid: svc.rename_session(sid, "renamed"),
    "delete": lambda svc, sid: svc.delete_session(sid),
    "duplicate": lambda svc, sid: svc.duplicate_session(sid),
    "import": lambda svc, sid: svc.import_sessions(DOC),
    "purge": lambda svc, sid: svc.purge_trash(),
    "restore all": lambda svc, sid: svc.restore_all(),
    "start a service": lambda svc, sid: SessionManagementService(svc.state_store, "another flow"),
}
READS = {
    "read_page": lambda svc, sid: svc.read_page(),
    "list_sessions": lambda svc, sid: svc.list_sessions(),
    "get_session": lambda svc, sid: svc.get_session(sid),
    "session_exists": lambda svc, sid: svc.session_exists(sid),
    "session_state": lambda svc, sid: svc.session_state(sid),
    "changes": lambda svc, sid: svc.changes(),
    "trash": lambda svc, sid: (svc.trash_count(), svc.read_trash()),
    "export": lambda svc, sid: svc.export_sessions([sid]),
}
DOC = {"format": "cjm-workflow-sessions", "version": 1, "flow_id": FLOW, "exported_at": ts(0),
       "sessions": [{"id": "imported", "label": None, "step": None, "created": ts(0), "updated": ts(0), "state": {}}]}


@pytest.fixture
def set_up(tmp_path):
    "(service, database file, one session id) on a settled SQLite file."
    backend = SqliteBackend(tmp_path / "state.db")
    svc = make_service(backend)
    sid = svc.create_session("Here")
    svc.read_page()
    return svc, backend.target, sid


@pytest.mark.parametrize("op", list(WRITES) + list(READS))
def test_a_vanished_file_raises_store_unavailable(set_up, op):
    svc, db, sid = set_up
    vanish(db)
    with pytest.raises(StoreUnavailableError):
        {**WRITES, **READS}[op](svc, sid)


@pytest.mark.parametrize("op", list(WRITES) + list(READS))
def test_the_service_does_not_recreate_a_vanished_file(set_up, op):
    "Whatever the service is asked, it never leaves an empty database where the real one was."
    svc, db, sid = set_up
    vanish(db)
    try: {**WRITES, **READS}[op](svc, sid)
    except StoreUnavailableError: pass
    assert not db.exists()


def test_every_call_after_a_vanished_file_keeps_saying_unavailable(set_up):
    "A create on a vanished file, then every other call: each raises StoreUnavailableError, none a bare sqlite3 error."
    svc, db, sid = set_up
    vanish(db)
    wrong = {}
    for op, call in {**WRITES, **READS}.items():
        try: call(svc, sid)
        except StoreUnavailableError: continue
        except Exception as e: wrong[op] = f"{type(e).__module__}.{type(e).__name__}: {e}"
        else: wrong[op] = "answered"
    assert wrong == {}


@pytest.mark.parametrize("op", list(WRITES))
def test_writes_to_a_read_only_file_raise_store_unavailable(set_up, op):
    svc, db, sid = set_up
    with read_only(db), pytest.raises(StoreUnavailableError):
        WRITES[op](svc, sid)


@pytest.mark.parametrize("op", list(READS))
def test_reads_of_a_read_only_file_answer_or_raise_store_unavailable(set_up, op):
    svc, db, sid = set_up
    with read_only(db):
        try: READS[op](svc, sid)
        except StoreUnavailableError: pass


# --------------------------------------------------------------------------------------------------
# Migration from the previous release's objects
# --------------------------------------------------------------------------------------------------
def add_previous_release_objects(db: Path) -> None:
    "What the previous release left in a file: a count table, an index and a trigger named sm1_*."
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("CREATE TABLE sm1_flow_counts (flow TEXT PRIMARY KEY, n INTEGER NOT NULL)")
        conn.execute("INSERT INTO sm1_flow_counts VALUES ('demo', 999)")
        conn.execute("CREATE INDEX sm1_x ON workflow_state (created_at)")
        conn.execute("""CREATE TRIGGER sm1_count_insert AFTER INSERT ON workflow_state BEGIN
                        UPDATE sm1_flow_counts SET n = n + 1 WHERE flow = 'demo'; END""")
    conn.close()


def test_a_file_of_the_previous_release_starts_cleanly(tmp_path):
    backend = SqliteBackend(tmp_path / "old.db")
    backend.seed([{"id": f"o{i}", "label": f"Old {i}", "step": "upload" if i % 2 else None} for i in range(5)])
    add_previous_release_objects(backend.target)
    svc = make_service(backend)
    assert not [n for n in sm_objects(backend.target) if n.startswith("sm1")]
    assert svc.read_page().total == 5 and found(svc, "old") == {f"o{i}" for i in range(5)}
    with svc.reader() as r: assert r.steps() == {"upload": 2, "": 3}
    backend.store.create_session(FLOW, "after")  # the old trigger is gone with its table: writes work
    assert svc.read_page().total == 6 and kept_counts(backend) == real_counts(backend)
    assert make_service(backend).read_page().total == 6  # a second start has nothing left to migrate


def named(backend, name: str) -> bool:
    "Whether the backend's database has a table, index or trigger of this name (in the test's schema)."
    if backend.name == "sqlite": return bool(backend.sql("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)))
    return bool(backend.sql("SELECT 1 FROM pg_class WHERE relname = %s AND relnamespace = current_schema()::regnamespace", (name,)))


def to_the_layout_before_the_stale_queue(backend) -> None:
    "Make a set-up database look like one of the layout that marked stale rows by an indexed flag: no queue table, the "
    "flag's index, (on SQLite) an update trigger that knows nothing of a queue, and shown text of an older recipe."
    ph = "?" if backend.name == "sqlite" else "%s"
    backend.sql("DROP TABLE sm2_stale_rows")
    backend.sql("CREATE INDEX sm2_stale ON sm2_display (flow, seq)")
    backend.sql(f"UPDATE sm2_display SET label = {ph}, search = {ph}", ("Shown by an older recipe", "shown by an older recipe"))
    if backend.name == "sqlite":
        backend.sql("DROP TRIGGER sm2_update")
        backend.sql("CREATE TRIGGER sm2_update AFTER UPDATE ON workflow_state BEGIN SELECT 1; END")


def test_a_database_of_the_layout_before_the_stale_queue_is_moved_to_it(backend):
    "A database set up before stale rows were queued: set-up adds the queue, rebuilds every row once, and writes keep showing."
    backend.seed([{"id": f"q{i}", "state": {"file": f"f{i}.wav"}} for i in range(5)])
    take = dict(label_generator=lambda summary, state: f"Take {state['file']}")
    settle(make_service(backend, **take))
    to_the_layout_before_the_stale_queue(backend)
    svc = make_service(backend, **take)
    assert named(backend, "sm2_stale_rows") and not named(backend, "sm2_stale")
    assert found(svc, "take f") == {f"q{i}" for i in range(5)} and found(svc, "older recipe") == set()
    backend.store.update_state(FLOW, "q0", {"file": "renamed.wav"})
    assert found(svc, "take renamed") == {"q0"} and stale_count(backend) == 0
    assert make_service(backend, **take).read_page().total == 5 and stale_count(backend) == 0  # nothing left to move
