"""Profile reads on a database the bench built (run bench.py --keep-pg first): cProfile and EXPLAIN (ANALYZE, BUFFERS).

    .venv/bin/python bench/profile_pg.py postgresql://postgres@127.0.0.1:PORT/bench_1000000 [operation ...]

Starting a `SessionManagementService` on a built database would mark every display row stale again (see
RESULTS.md, "Restart"), so this builds the service object without running its constructor: the same recipe, sort
keys and backend, and nothing written. Each statement a read runs is recorded with its parameters and explained.
"""
import cProfile
import io
import pstats
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import seeding  # noqa: E402
from cjm_fasthtml_workflow_session_management.models import SessionQuery  # noqa: E402
from cjm_fasthtml_workflow_session_management.services import management  # noqa: E402
from cjm_fasthtml_workflow_session_management.services.display import DisplayRecipe, sort_slot  # noqa: E402
from cjm_fasthtml_workflow_session_management.services.reader import BUILT_IN_SORTS, CountMemo  # noqa: E402
from cjm_fasthtml_workflow_session_management.stores import postgres  # noqa: E402

RECORDED = []  # (sql, params) of the statements run while recording


def recording_execute(real):
    "PgConnection.execute that also records the statement and its parameters."
    def execute(self, sql, params=()):
        RECORDED.append((sql, tuple(params)))
        return real(self, sql, params)
    return execute


def quiet_service(conninfo: str):
    "The bench host's service on a built database, without the constructor (which would re-mark every row stale)."
    store = postgres.PostgresWorkflowStateStore(conninfo, max_size=2)
    svc = object.__new__(management.SessionManagementService)
    svc.state_store, svc._flow_id, svc.max_label_length, svc.trash_days = store, seeding.FLOW, 200, 30
    svc.recipe = DisplayRecipe(seeding.generate_label, seeding.enrich, seeding.STEP_TITLES.get, tuple(seeding.STEPS))
    svc.sorts, svc.backend, svc._builder, svc._builder_lock = dict(BUILT_IN_SORTS), management.backend_for(store), None, threading.Lock()
    svc._counts = CountMemo()
    for field, path in (("duration", seeding.STATE_PATH), ("segments", None)):
        key = sort_slot(field, path)
        svc.sorts[key], svc.recipe.host_sorts[field] = (svc.backend.json_text("sort_keys", key), True), path
    return svc


def operations(svc) -> dict:
    "The reads worth a look, by name."
    n = svc.read_page(0, 1).total
    with svc.reader() as r: anchor = r.page(SessionQuery(), n // 2, 1).items[0].session_id
    def after():
        with svc.reader() as r: return r.after(SessionQuery(), anchor, 10)
    def count_step():
        with svc.reader() as r: return r.count(SessionQuery(steps=("review",)))
    return {"first_updated": lambda: svc.read_page(0, 20), "first_label": lambda: svc.read_page(0, 20, "label", False),
            "keyset_row": after, "count_step": count_step, "mid_offset": lambda: svc.read_page(n // 2, 10),
            "search_few": lambda: svc.read_page(0, 20, search=seeding.FEW_TERM),
            "search_2pct": lambda: svc.read_page(0, 20, search=seeding.TWO_PERCENT_TERM),
            "search_short": lambda: svc.read_page(0, 20, search=seeding.SHORT_TERM)}


def explain(conninfo: str, sql: str, params: tuple) -> str:
    "EXPLAIN (ANALYZE, BUFFERS) of one recorded statement, in a read-only transaction that is rolled back."
    import psycopg
    with psycopg.connect(conninfo, prepare_threshold=None) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + postgres.to_psycopg(sql), params).fetchall()
        conn.rollback()
    return "\n".join(r[0] for r in rows)


def profile(conninfo: str, name: str, fn, repeat: int = 30) -> None:
    "Median time, the statements and their plans, and where Python spends the time."
    for _ in range(5): fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    print(f"\n=== {name}: median {times[len(times) // 2] * 1e3:.2f} ms")
    RECORDED.clear()
    fn()
    for sql, params in list(RECORDED):
        if sql.lstrip().upper().startswith("SELECT") or sql.lstrip().upper().startswith("WITH"):
            print(f"--- {sql}\n    params {params}\n{explain(conninfo, sql, params)}")
        else: print(f"--- {sql}")
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(repeat): fn()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(8)
    print(out.getvalue()[-2500:])


def main() -> None:
    conninfo, wanted = sys.argv[1], sys.argv[2:]
    postgres.PgConnection.execute = recording_execute(postgres.PgConnection.execute)
    svc = quiet_service(conninfo)
    for name, fn in operations(svc).items():
        if not wanted or name in wanted: profile(conninfo, name, fn)


if __name__ == "__main__":
    main()
