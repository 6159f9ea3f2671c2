"Service behaviour that needs real files, threads or scale: concurrency, scoping and flat read cost."
import multiprocessing
import random
import sqlite3
import threading

import pytest

from cjm_fasthtml_workflow_session_management.services.management import (
    SessionManagementService, InvalidSessionIdError)


def seed(store, flow, n, blob="{}"):
    "Bulk-insert `n` sessions of `flow` straight into the store's table."
    with sqlite3.connect(store.db_path) as c:
        c.executemany("INSERT INTO workflow_state (flow_session_key, current_step, state_json, label) VALUES (?,?,?,?)",
                      [(f"{flow}:{i:06d}", f"step{i % 3}", blob, None if i % 4 == 0 else f"Run {i}") for i in range(n)])


def count_reads(service, **kw):
    "Statements and connections one read_page costs."
    stmts, conns = [], []
    service.statement_hook = stmts.append
    real = sqlite3.connect
    def counting_connect(*a, **k):
        conns.append(1)
        return real(*a, **k)
    sqlite3.connect = counting_connect
    try: page = service.read_page(**kw)
    finally: sqlite3.connect, service.statement_hook = real, None
    return page, sum(s.startswith("SELECT") for s in stmts), len(conns)


@pytest.mark.parametrize("search", ["", "Run"])
def test_statements_per_read_do_not_depend_on_n(tmp_path, search):
    from cjm_workflow_state.state_store import SQLiteWorkflowStateStore
    costs = []
    for n in (100, 20_000):
        store = SQLiteWorkflowStateStore(tmp_path / f"n{n}.db")
        seed(store, "flow", n)
        svc = SessionManagementService(store, "flow", enricher=lambda s, st: {"a": 1})
        page, n_stmts, n_conns = count_reads(svc, offset=0, limit=20, order_by="label", search=search)
        assert len(page.items) == 20
        costs.append((n_stmts, n_conns))
    assert costs[0] == costs[1] == (2, 1)


def test_two_flows_on_one_file_with_colliding_ids(store):
    flows = ["a_b", "a%b", "axb", "A_B", "a", "a:b"]
    services = {f: SessionManagementService(store, f) for f in flows}
    made = {f: {services[f].create_session(f"{f} #{i}") for i in range(3)} for f in flows}
    for f in flows:
        svc = services[f]
        assert {e.session_id for e in svc.list_sessions()} == made[f]
        assert svc.read_page().total == 3
        other = next(iter(made["a:b" if f == "a" else "a"]))
        assert not svc.session_exists(other)
        assert svc.get_session(other) is None
        svc.rename_session(other, "hijack")   # documented no-op for ids the flow does not have
        svc.delete_session(other)
    for f in flows:
        assert {e.session_id for e in services[f].list_sessions()} == made[f]
        assert all(e.summary.label.startswith(f + " #") for e in services[f].list_sessions())


def test_store_created_sessions_with_colon_ids_stay_with_the_longer_flow(store):
    # The store itself lets flow "a" make session "b:x", whose key equals flow "a:b" session "x".
    # The service assigns such a key to the flow before the last ':', and refuses ':' in ids it is given.
    store.create_session("a", "b:x")
    assert [e.session_id for e in SessionManagementService(store, "a:b").list_sessions()] == ["x"]
    svc_a = SessionManagementService(store, "a")
    assert svc_a.list_sessions() == []
    with pytest.raises(InvalidSessionIdError): svc_a.session_exists("b:x")


def test_threaded_writers_lose_nothing(store):
    svc = SessionManagementService(store, "busy")
    other = SessionManagementService(store, "busy_")
    keep = other.create_session("bystander")
    errors, alive = [], {}
    lock = threading.Lock()

    def worker(w):
        rng, mine = random.Random(w), []
        try:
            for i in range(50):
                op = rng.random()
                if op < 0.5 or not mine:
                    mine.append(svc.create_session(f"w{w} n{i}"))
                elif op < 0.8:
                    svc.rename_session(rng.choice(mine), f"w{w} renamed {i}")
                else:
                    svc.delete_session(mine.pop(rng.randrange(len(mine))))
                svc.read_page(0, 20)
            with lock: alive[w] = set(mine)
        except Exception as e:  # surfaced below; a 'database is locked' here fails the test
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    assert errors == []
    expected = set().union(*alive.values())
    assert {e.session_id for e in svc.list_sessions()} == expected
    assert svc.read_page().total == len(expected)          # trigger-maintained count agrees
    assert [e.session_id for e in other.list_sessions()] == [keep]
    with sqlite3.connect(store.db_path) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _process_writer(args):
    "One worker process: its own store and service on the shared file, 40 mixed writes; returns (alive ids, errors)."
    from cjm_workflow_state.state_store import SQLiteWorkflowStateStore
    db, w = args
    svc, rng, mine = SessionManagementService(SQLiteWorkflowStateStore(db), "busy"), random.Random(w), []
    try:
        for i in range(40):
            op = rng.random()
            if op < 0.5 or not mine: mine.append(svc.create_session(f"p{w} n{i}"))
            elif op < 0.8: svc.rename_session(rng.choice(mine), f"p{w} renamed {i}")
            else: svc.delete_session(mine.pop(rng.randrange(len(mine))))
            svc.read_page(0, 20)
    except Exception as e:  # returned, so a 'database is locked' in a child fails the test
        return set(mine), [repr(e)]
    return set(mine), []


def test_writer_processes_lose_nothing(store):
    "Several worker processes (as under a multi-worker server) write one file at once."
    SessionManagementService(store, "busy")  # the host's start-up prepares the database once
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.map(_process_writer, [(store.db_path, w) for w in range(4)])
    assert [errs for _, errs in results] == [[]] * 4
    expected = set().union(*(alive for alive, _ in results))
    assert all(alive for alive, _ in results) and len(expected) == sum(len(alive) for alive, _ in results)
    svc = SessionManagementService(store, "busy")
    assert {e.session_id for e in svc.list_sessions()} == expected and svc.read_page().total == len(expected)
    with sqlite3.connect(store.db_path) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_count_table_matches_real_count_after_mixed_writers(store):
    svc = SessionManagementService(store, "mix")
    ids = [svc.create_session() for _ in range(20)]
    for sid in ids[:7]: store.delete_session("mix", sid)              # the store's own API
    store.update_state("mix", "fresh", {"x": 1})                         # upsert that inserts
    store.set_current_step("mix", ids[10], "s2")                         # upsert that updates
    with sqlite3.connect(store.db_path) as c:
        real = c.execute("SELECT count(*) FROM workflow_state WHERE flow_session_key LIKE 'mix:%'").fetchone()[0]
    assert svc.read_page().total == real == 14


def test_service_on_existing_database_counts_existing_rows(store):
    seed(store, "old", 37)
    assert SessionManagementService(store, "old").read_page().total == 37
    # A second service (another worker process, say) on the same file reuses what the first created
    assert SessionManagementService(store, "old").read_page(0, 5).total == 37


def test_count_and_window_agree_while_others_delete(store):
    "A read sees one snapshot: its window is never shorter than its count promises, even mid-delete."
    seed(store, "race", 400)
    svc = SessionManagementService(store, "race")
    ids = [e.session_id for e in svc.list_sessions()]
    stop, bad = threading.Event(), []

    def deleter():
        for sid in ids[:300]:
            svc.delete_session(sid)
        stop.set()

    t = threading.Thread(target=deleter)
    t.start()
    while not stop.is_set():
        with svc.reader() as r:
            total = r.count()
            offset = max(0, total - 10)
            window = r.window(offset, 10)
            if len(window) != min(10, total - offset): bad.append((total, offset, len(window)))
    t.join()
    assert bad == []
