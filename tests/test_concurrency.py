"""Several app processes on one database (issue 8): nothing lost, counts exact, set-up once, indexes used.

Writers and starting services run in spawned processes (tests/writers.py), as the workers of a multi-process
server would; the checks compare what the processes say they did with what the database holds.
"""
import multiprocessing
import sqlite3
import threading
import uuid
from contextlib import contextmanager

import psycopg

from cjm_fasthtml_workflow_session_management.models import SessionQuery
from cjm_fasthtml_workflow_session_management.services import reader
from cjm_fasthtml_workflow_session_management.services.management import SessionManagementService
from cjm_fasthtml_workflow_session_management.stores.postgres import PostgresWorkflowStateStore, to_psycopg

from backends import PostgresBackend, SqliteBackend, with_search_path
from service_helpers import (
    FLOW, display_keys, kept_counts, make_service, real_counts, settle, stored, trash_rows, workflow_keys)
from writers import mixed_writes, start_service, trash_churn

WRITERS, OPS = 4, 60
SPAWN = multiprocessing.get_context("spawn")


def run_processes(target, args_per_process: list, timeout: float = 120) -> list:
    "Run `target(*args, barrier, results)` in one spawned process per args; the results they put, in any order."
    barrier, results = SPAWN.Barrier(len(args_per_process)), SPAWN.Queue()
    procs = [SPAWN.Process(target=target, args=(*args, barrier, results)) for args in args_per_process]
    for p in procs: p.start()
    try: return [results.get(timeout=timeout) for _ in procs]
    finally:
        for p in procs: p.join(10)


def check_counts(backend) -> None:
    "The count tables and the display table agree with workflow_state itself."
    assert kept_counts(backend) == real_counts(backend)
    assert display_keys(backend) == workflow_keys(backend)


def test_writer_processes_lose_nothing_and_keep_the_counts_exact(backend):
    bystander = make_service(backend, "bystander")
    kept = bystander.create_session("Bystander")
    make_service(backend)  # the host's start-up prepared the database
    results = run_processes(mixed_writes, [(backend.name, backend.target, FLOW, w, OPS) for w in range(WRITERS)])
    assert [errors for *_, errors in results] == [[]] * WRITERS
    alive = {sid: step for _, mine, _, _ in results for sid, step in mine.items()}
    trashed = [sid for _, _, gone, _ in results for sid in gone]
    assert {sid: row[1] for sid, row in stored(backend).items()} == alive
    svc = make_service(backend)
    assert svc.read_page().total == len(alive) and svc.trash_count() == len(trashed) == trash_rows(backend)
    assert {t.session_id for t in svc.read_trash(0, 1000).items} == set(trashed)
    check_counts(backend)
    with svc.reader() as r:
        steps = {}
        for step in alive.values(): steps[step or ""] = steps.get(step or "", 0) + 1
        assert r.steps() == steps
    assert [i.session_id for i in bystander.list_sessions()] == [kept]


def test_services_starting_together_set_up_once(backend):
    "Three app processes starting at once on a database with sessions the service never saw: all start, none counted twice."
    existing = 40
    backend.seed([{"id": f"x{i}", "label": f"Existing {i}"} for i in range(existing)])
    results = run_processes(start_service, [(backend.name, [backend.target], FLOW)] * 3)
    assert results == [[existing]] * 3
    check_counts(backend)
    assert make_service(backend).read_page().total == existing


def test_concurrent_writers_on_postgres_never_deadlock(pg_conninfo):
    """PostgreSQL: six app threads (own pools) saving state through the store, deleting into the trash and undoing
    it, and refreshing the list, all at once: none of these may fail (a deadlock aborts one of them)."""
    with PostgresWorkflowStateStore(pg_conninfo) as setup: SessionManagementService(setup, FLOW)  # a host's start-up
    stores = [PostgresWorkflowStateStore(pg_conninfo, max_size=2) for _ in range(6)]
    failures = []

    def run(worker, store):
        try: trash_churn(store, SessionManagementService(store, FLOW), FLOW, worker, 15)
        except Exception as e: failures.append(f"{type(e).__name__}: {str(e).splitlines()[0]}")

    threads = [threading.Thread(target=run, args=(w, s)) for w, s in enumerate(stores)]
    try:
        for t in threads: t.start()
        for t in threads: t.join()
    finally:
        for s in stores: s.close()
    assert failures == []


@contextmanager
def fresh_schema(pg_url: str):
    "The conninfo of a new, empty schema (dropped afterwards)."
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_url, autocommit=True) as conn: conn.execute(f"CREATE SCHEMA {name}")
    try: yield with_search_path(pg_url, name)
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn: conn.execute(f"DROP SCHEMA {name} CASCADE")


def test_services_starting_together_on_a_fresh_postgres_schema(pg_url):
    "Two app processes on schemas with nothing in them yet (no workflow_state either), twice over: both start."
    with fresh_schema(pg_url) as first, fresh_schema(pg_url) as second:
        results = run_processes(start_service, [("postgres", [first, second], FLOW)] * 2)
        assert results == [[0, 0]] * 2
        for conninfo in (first, second):
            backend = PostgresBackend(conninfo)
            try:
                svc = make_service(backend)
                svc.create_session("After")
                assert svc.read_page().total == 1
                check_counts(backend)
            finally: backend.close()


def test_a_read_sees_one_snapshot_while_others_delete(backend):
    "Count and window come from one snapshot: a window is never shorter than its count promises, even mid-delete."
    backend.seed([{"id": f"r{i:03d}", "label": f"Run {i}"} for i in range(90)])
    svc = make_service(backend)
    settle(svc)
    doomed = [f"r{i:03d}" for i in range(60)]
    done, bad = threading.Event(), []

    def deleter():
        try:
            for sid in doomed: svc.delete_session(sid)
        finally: done.set()

    thread = threading.Thread(target=deleter)
    thread.start()
    while not done.is_set():
        page = svc.read_page(10 ** 6, 10)  # the last window, from a count taken in the same snapshot
        if len(page.items) != min(10, page.total): bad.append((page.total, page.offset, len(page.items)))
    thread.join()
    assert bad == [] and svc.read_page().total == 30
    check_counts(backend)


# --------------------------------------------------------------------------------------------------
# PostgreSQL: the reads use the service's indexes
# --------------------------------------------------------------------------------------------------
class Recorder:
    "A reader's connection that remembers each statement and its parameters (and runs it unchanged)."
    def __init__(self, conn):
        self.conn, self.calls = conn, []

    def execute(self, sql, params=()):
        self.calls.append((sql, tuple(params)))
        return self.conn.execute(sql, params)


def statements_of(svc, query: SessionQuery, offset: int = 0, limit: int = 20) -> list:
    "(sql, params) of the statements one windowed read runs."
    with svc.reader() as r:
        r.conn = Recorder(r.conn)
        r.page(query, offset, limit)
        return r.conn.calls


def plan(conninfo: str, sql: str, params: tuple) -> str:
    with psycopg.connect(conninfo) as conn:
        return "\n".join(row[0] for row in conn.execute("EXPLAIN " + to_psycopg(sql), params))


INDEXED_READS = {"first window": SessionQuery(), "by label": SessionQuery("label", False), "by step": SessionQuery("step"),
                 "last window": SessionQuery(descending=False), "search": SessionQuery(search="run 4217"),
                 "search and step": SessionQuery(search="run 42", steps=("review",))}


def test_postgres_reads_use_the_service_indexes(pg_conninfo):
    """At 5,000 sessions (and 50,000 of another flow, so that the table is larger than the flow), analysed: no read
    scans the whole display table, and a search walking the default order reads no row to test its text."""
    store = PostgresWorkflowStateStore(pg_conninfo, max_size=4)
    try:
        with psycopg.connect(pg_conninfo, autocommit=True) as conn:
            conn.execute("INSERT INTO workflow_state (flow_id, session_id, label, current_step, state, updated_at) "
                         "SELECT f, 's' || i, 'Run ' || i || ' of ' || f, (ARRAY['upload', 'review', NULL])[1 + mod(i, 3)], "
                         "jsonb_build_object('i', i), now() - i * interval '1 minute' "
                         "FROM generate_series(1, 5000) AS i, unnest(ARRAY[%s, 'other']) AS f", (FLOW,))
            conn.execute("INSERT INTO workflow_state (flow_id, session_id, label, state) "
                         "SELECT 'other', 'x' || i, 'Other ' || i, '{}' FROM generate_series(1, 45000) AS i")
        svc = SessionManagementService(store, FLOW)
        settle(svc)
        with psycopg.connect(pg_conninfo, autocommit=True) as conn: conn.execute("VACUUM ANALYZE")  # as autovacuum leaves it
        scans = {}
        for name, query in INDEXED_READS.items():
            offset = 4980 if name == "last window" else 0
            for sql, params in statements_of(svc, query, offset):
                text = plan(pg_conninfo, sql, params)
                if "sm2_display" in sql and ("Seq Scan on sm2_display" in text or "sm2_" not in text):
                    scans[name] = f"{sql}\n{text}"
        assert scans == {}
        window = statements_of(svc, SessionQuery(search="run 1"))[-1]  # 1,111 matches: the window walks the Updated order
        assert "Index Only Scan Backward using sm2_sort_updated_at" in plan(pg_conninfo, *window)  # its text is in the index
    finally: store.close()


def test_sqlite_searches_read_their_text_from_indexes(tmp_path):
    """A search in the default order tests each row's text in the Updated index, which holds it (no row is read for it), and its
    count checks each match's flow in `sm2_seq_flow`; a count narrowed by a step reads the rows it must."""
    backend = SqliteBackend(tmp_path / "state.db")
    backend.seed([{"id": f"s{i}", "label": f"Run {i}", "step": "review" if i % 2 else "upload"} for i in range(300)])
    svc = SessionManagementService(backend.store, FLOW)
    settle(svc)
    conn = sqlite3.connect(tmp_path / "state.db")

    def plans(query):
        return ["\n".join(r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params)) for sql, params in statements_of(svc, query)]

    searched = plans(SessionQuery(search="run 1"))
    assert any("COVERING INDEX sm2_seq_flow" in p for p in searched), searched
    assert any("USING COVERING INDEX sm2_sort_updated_at" in p for p in searched), searched
    assert "search" in [r[2] for r in conn.execute("PRAGMA index_info(sm2_sort_updated_at)")]
    assert not any("sm2_seq_flow" in p for p in plans(SessionQuery(search="run 1", steps=("review",))))


def test_the_queue_of_stale_rows_is_vacuumed_once_a_background_build_is_done(pg_conninfo):
    "A build empties a queue of thousands of rows; their dead versions would be walked by every lookup until autovacuum."
    store = PostgresWorkflowStateStore(pg_conninfo, max_size=4)
    try:
        with psycopg.connect(pg_conninfo, autocommit=True) as conn:
            conn.execute("INSERT INTO workflow_state (flow_id, session_id, state) SELECT %s, 's' || i, '{}' "
                         "FROM generate_series(1, 3000) AS i", (FLOW,))
        svc = SessionManagementService(store, FLOW)
        settle(svc)
        with psycopg.connect(pg_conninfo, autocommit=True) as conn:
            assert conn.execute("SELECT count(*), pg_relation_size('sm2_stale_rows') FROM sm2_stale_rows").fetchone() == (0, 0)
    finally: store.close()


def pages_touched(conn, sql: str, params: tuple = ()) -> int:
    "Buffers one statement reads, by EXPLAIN (ANALYZE, BUFFERS)."
    plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params).fetchone()[0][0]["Plan"]
    return plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]


def test_a_read_looks_into_a_clean_queue_after_a_few_rows_pass_through_a_large_one(pg_conninfo):
    """The queue's table keeps the size a build gave it. When a few thousand rows pass through it later, VACUUM must still
    clear their index entries, or every read's first statement walks them."""
    store = PostgresWorkflowStateStore(pg_conninfo, max_size=2)
    try:
        SessionManagementService(store, FLOW)
        with psycopg.connect(pg_conninfo, autocommit=True) as conn:
            conn.execute("INSERT INTO sm2_stale_rows SELECT 'a built flow', i FROM generate_series(1, 400000) AS i")
            conn.execute("INSERT INTO sm2_stale_rows VALUES ('another flow', 1)")  # on the last page: the table keeps its size
            conn.execute("DELETE FROM sm2_stale_rows WHERE flow = 'a built flow'")
            conn.execute("VACUUM sm2_stale_rows")
            conn.execute("INSERT INTO sm2_stale_rows SELECT %s, i FROM generate_series(1, 6000) AS i", (FLOW,))
            conn.execute("DELETE FROM sm2_stale_rows WHERE flow = %s", (FLOW,))
            conn.execute("VACUUM sm2_stale_rows")
            assert pages_touched(conn, to_psycopg(reader._NUMBERS), (FLOW, FLOW)) <= 8
    finally: store.close()


def test_a_search_reads_a_short_list_of_unmerged_index_entries_after_many_writes(pg_conninfo):
    """The trigram index gathers new entries in a list that every search reads, until VACUUM merges them, which a large table
    waits long for (here autovacuum is off, as if the table were large). The list must stay short between merges."""
    store = PostgresWorkflowStateStore(pg_conninfo, max_size=2)
    try:
        svc = SessionManagementService(store, FLOW)
        with psycopg.connect(pg_conninfo, autocommit=True) as conn:
            conn.execute("ALTER TABLE sm2_display SET (autovacuum_enabled = off)")
            for i in range(300): svc.create_session(f"Interview {i}: the budget review of the product launch")
            settle(svc)
            conn.execute("SET enable_seqscan = off")  # 300 rows would be read whole: the index is what is measured
            assert pages_touched(conn, "SELECT seq FROM sm2_display WHERE search LIKE %s", ("%qzxv%",)) <= 16
    finally: store.close()


def test_a_database_set_up_before_the_index_settings_gets_them(pg_conninfo):
    "A service starting on a database set up without the queue's and the search index's settings adds them, once."
    store = PostgresWorkflowStateStore(pg_conninfo, max_size=2)
    settings = ("SELECT relname, reloptions FROM pg_class WHERE relname IN ('sm2_stale_rows', 'sm2_search_trgm') "
                "AND relnamespace = current_schema()::regnamespace ORDER BY relname")
    try:
        SessionManagementService(store, FLOW)
        with psycopg.connect(pg_conninfo, autocommit=True) as conn:
            made = conn.execute(settings).fetchall()
            conn.execute("ALTER TABLE sm2_stale_rows RESET (vacuum_index_cleanup)")
            conn.execute("ALTER INDEX sm2_search_trgm RESET (gin_pending_list_limit)")
            assert conn.execute(settings).fetchall() == [("sm2_search_trgm", None), ("sm2_stale_rows", None)]
            SessionManagementService(store, FLOW)
            assert conn.execute(settings).fetchall() == made == [
                ("sm2_search_trgm", ["gin_pending_list_limit=64"]), ("sm2_stale_rows", ["vacuum_index_cleanup=on"])]
    finally: store.close()
