"""One size on one database, measured in a process of its own: seed, build, then time every read and write.

`measure(spec)` returns a JSON-ready dict; bench.py runs it in a fresh interpreter per size and database so that
memory, caches and allocator state of one size cannot bleed into another.
"""
import html
import logging
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from fasthtml.common import FastHTML
from starlette.testclient import TestClient

import seeding
from seeding import FLOW, STATE_PATH, STEP_TITLES, STEPS
from cjm_fasthtml_workflow_session_management.models import ColumnSpec, SessionQuery
from cjm_fasthtml_workflow_session_management.routes.init import init_session_manager_routers
from cjm_fasthtml_workflow_session_management.routes.kit import derived_id
from cjm_fasthtml_workflow_session_management.services.management import SessionManagementService
from cjm_fasthtml_workflow_session_management.services.reader import CountMemo

log = logging.getLogger("bench")
WARMUP = 10
PAGE_ROWS = 20  # Rows of the page whose weight is checked
BASE_URL = "http://testserver"
GET_HEADERS = {"HX-Request": "true", "Sec-Fetch-Site": "same-origin"}  # What htmx sends from the manager's page
POST_HEADERS = {**GET_HEADERS, "Origin": BASE_URL}
COLUMNS = [ColumnSpec("duration", "Duration", sort_path=STATE_PATH), ColumnSpec("segments", "Segments")]
BODY_TAG = re.compile(r'<div\b[^>]*\bid="wsm-list-body"[^>]*>')
ATTR = re.compile(r'([\w-]+)="([^"]*)"')
ROW_ID = re.compile(r'<tr\b[^>]*\bdata-session-id="([^"]+)"')
UNDO = re.compile(r'data-wsm-undo="([0-9a-f]+)"')


# --- timing -------------------------------------------------------------------------------------------------

def median_us(fn, repeat: int, warmup: int = WARMUP) -> float:
    "Median wall time of `fn()` in microseconds, after `warmup` untimed calls."
    for _ in range(warmup): fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def reference_work() -> int:
    "A fixed piece of pure-Python work: its time shows how fast the (shared) machine was when a section ran."
    return sum(i * i for i in range(20_000))


def seconds(fn):
    "(result of fn(), seconds it took)."
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def memory_mib() -> dict:
    "This process's resident set size now (VmRSS) and at its peak (VmHWM), in MiB."
    got = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key = line.split(":")[0]
        if key in ("VmRSS", "VmHWM"): got[key] = int(line.split()[1]) / 1024
    return got


class BuildLog(logging.Handler):
    "Keeps the display builder's log lines: its progress, and the errors that stopped it."
    def __init__(self):
        super().__init__()
        self.lines, self.errors = [], []
        logging.getLogger("cjm_fasthtml_workflow_session_management.services.display").addHandler(self)

    def emit(self, record):
        line = f"{record.created:.1f} {record.getMessage()}"
        if record.exc_info: line += f" ({type(record.exc_info[1]).__name__}: {str(record.exc_info[1]).splitlines()[0]})"
        (self.errors if record.levelno >= logging.ERROR else self.lines).append(line)

    def close(self):
        logging.getLogger("cjm_fasthtml_workflow_session_management.services.display").removeHandler(self)
        super().close()


# --- the store, the service, the build ----------------------------------------------------------------------

def open_store(spec: dict, tmp: Path):
    "A store on the spec's database (a SQLite file in `tmp`, or the PostgreSQL database bench.py made)."
    if spec["db"] == "sqlite":
        from cjm_workflow_state.state_store import SQLiteWorkflowStateStore
        return SQLiteWorkflowStateStore(tmp / "bench.db")
    from cjm_fasthtml_workflow_session_management.stores.postgres import PostgresWorkflowStateStore
    return PostgresWorkflowStateStore(spec["target"], max_size=8)


def seed(spec: dict, store) -> None:
    "Seed the spec's N sessions (plus the other flow) straight into workflow_state."
    if spec["db"] == "sqlite": seeding.seed_sqlite(Path(store.db_path), spec["n"])
    else: seeding.seed_postgres(spec["target"], spec["n"])


def new_service(store) -> SessionManagementService:
    "The service as the bench's host configures it (steps titled and ordered, a label generator and an enricher)."
    return SessionManagementService(store, FLOW, enricher=seeding.enrich, label_generator=seeding.generate_label,
                                    get_step_title=STEP_TITLES.get, step_order=list(STEPS))


def build(spec: dict, store) -> tuple:
    "(service, timings): start the service, add the host's sort columns, and wait for the display build."
    progress = BuildLog()
    svc, ctor_s = seconds(lambda: new_service(store))
    _, sorts_s = seconds(lambda: [svc.add_host_sort(c.field, c.sort_path) for c in COLUMNS])
    t0 = time.perf_counter()
    svc.read_page(0, 1)  # the first read refreshes a bounded batch and starts the background builder for the rest
    if svc._builder is not None: svc._builder.thread.join()
    build_s = time.perf_counter() - t0
    progress.close()
    out = {"ctor_s": ctor_s, "host_sorts_s": sorts_s, "build_s": build_s, "progress": progress.lines, "errors": progress.errors}
    if spec["db"] == "postgres": out["vacuum_s"] = seconds(lambda: vacuum(spec["target"]))[1]
    out["stale_left"] = stale_rows(spec, store)
    return svc, out


def vacuum(conninfo: str) -> None:
    "VACUUM ANALYZE the database once the build is done: the steady state autovacuum reaches, without its timing."
    import psycopg
    with psycopg.connect(conninfo, autocommit=True) as conn: conn.execute("VACUUM ANALYZE")


def stale_rows(spec: dict, store) -> int:
    "Display rows of the flow still waiting for the host's callbacks."
    sql = "SELECT count(*) FROM sm2_stale_rows WHERE flow = '%s'" % FLOW
    if spec["db"] == "sqlite":
        import sqlite3
        with sqlite3.connect(store.db_path) as conn: return conn.execute(sql).fetchone()[0]
    import psycopg
    with psycopg.connect(spec["target"]) as conn: return conn.execute(sql).fetchone()[0]


# --- service reads and writes -------------------------------------------------------------------------------

def ids_at(svc, offsets: list) -> list:
    "Session ids at given positions of the default order (newest update first)."
    with svc.reader() as r:
        return [r.page(SessionQuery(), o, 1).items[0].session_id for o in offsets]


def keyset(svc, query: SessionQuery, anchor: str, rows: int = 10):
    "A window read by key after `anchor`, as a move does."
    with svc.reader() as r:
        got = r.after(query, anchor, rows)
    assert got and len(got) == rows, "keyset read came back short"
    return got


def step_count(svc):
    "The count a step filter shows."
    with svc.reader() as r:
        return r.count(SessionQuery(steps=("review",)))


def afresh(svc, read):
    "A read with no count kept from an earlier one, as the first read after any write."
    svc._counts = CountMemo()
    return read()


def time_service_reads(svc, n: int, repeat: int) -> dict:
    "Median times of the reads the list makes, through the service."
    mid_first, mid_last = ids_at(svc, [n // 2, n // 2 + 9])
    q, sort_path_key, text_key = SessionQuery(), svc.add_host_sort("duration", STATE_PATH), svc.add_host_sort("segments")
    reads = {
        "reference": reference_work,
        "first_updated": lambda: svc.read_page(0, 20),
        "first_label": lambda: svc.read_page(0, 20, "label", False),
        "first_step": lambda: svc.read_page(0, 20, "step", False),
        "first_host_text": lambda: svc.read_page(0, 20, text_key, True),
        "first_host_path": lambda: svc.read_page(0, 20, sort_path_key, True),
        "last_window": lambda: svc.read_page(n - 20, 20),
        "keyset_row": lambda: keyset(svc, q, mid_first),
        "keyset_page": lambda: keyset(svc, q, mid_last),
        "search_few": lambda: svc.read_page(0, 20, search=seeding.FEW_TERM),
        "search_2pct": lambda: svc.read_page(0, 20, search=seeding.TWO_PERCENT_TERM),
        "search_2pct_afresh": lambda: afresh(svc, lambda: svc.read_page(0, 20, search=seeding.TWO_PERCENT_TERM)),
        "search_none": lambda: svc.read_page(0, 20, search=seeding.NO_TERM),
        "search_short": lambda: svc.read_page(0, 20, search=seeding.SHORT_TERM),
        "count_step": lambda: step_count(svc),
        "changes": svc.changes,
        "get_session": lambda: svc.get_session(mid_first),
    }
    return {k: median_us(fn, repeat) for k, fn in reads.items()}


def search_counts(svc) -> dict:
    "How many sessions each search term finds (the list's count: capped at 1,000)."
    terms = {"few": seeding.FEW_TERM, "2pct": seeding.TWO_PERCENT_TERM, "none": seeding.NO_TERM, "bulk": seeding.BULK_TERM,
             "short": seeding.SHORT_TERM}
    with svc.reader() as r:
        out = {k: r.count(SessionQuery(search=t), cap=None)[0] for k, t in terms.items()}
    return out


def time_service_writes(svc, n: int, repeat: int) -> dict:
    "Median times of create, rename and delete; every delete removes a session the create loop made."
    created, target = [], ids_at(svc, [n // 3])[0]
    labels = iter(f"Renamed by bench {i}" for i in range(10**9))
    out = {"create": median_us(lambda: created.append(svc.create_session("Created by bench")), repeat)}
    doomed = iter(created)  # warm-up and timed calls match in both loops
    out["delete"] = median_us(lambda: svc.delete_session(next(doomed)), repeat)
    out["rename"] = median_us(lambda: svc.rename_session(target, next(labels)), repeat)
    return out


# --- HTTP ---------------------------------------------------------------------------------------------------

def build_app(svc):
    "The manager's real routes on a FastHTML app, mounted the way a host mounts them; (app, result)."
    app = FastHTML(default_hdrs=False, secret_key="b" * 32)
    res = init_session_manager_routers(svc, workflow_url="/workflow", column_specs=COLUMNS, get_step_title=STEP_TITLES.get)
    for router in res.routers: router.to_app(app)
    return app, res


class Listed:
    "What a page shows of the list: its view, window and rows (read from the list body, as the page's script does)."
    def __init__(self, text: str):
        tag = BODY_TAG.search(text)
        if tag is None: raise RuntimeError(f"no list body in the answer: {text[:300]}")
        attrs = {k: html.unescape(v) for k, v in ATTR.findall(tag.group(0))}
        self.view, self.start = attrs.get("data-view", ""), int(attrs["data-start"])
        self.rows, self.total = int(attrs["data-rows"]), int(attrs["data-total"])
        self.ids = ROW_ID.findall(text[tag.start():])

    def params(self, cursor: int = None, **more) -> dict:
        "What the page sends with a request: its view, the focused row, and the window's rows (first, last, all)."
        return {"view": self.view, "was": self.view, "cursor": str(self.start if cursor is None else cursor),
                "first": self.ids[0], "last": self.ids[-1], "shown": ",".join(self.ids), **more}


def checked(r, status: int = 200):
    "The response, once known to answer `status`: timing error pages would be worthless."
    if r.status_code != status:
        raise RuntimeError(f"{r.request.method} {r.request.url} answered {r.status_code}, expected {status}: {r.text[:300]}")
    return r


class Http:
    "The page's requests against the real routes."
    def __init__(self, client: TestClient, res, n: int):
        self.c, self.u, self.vc, self.n = client, res.urls, res.urls.management_page.rsplit("/", 1)[0] + "/vc", n
        self.top = Listed(checked(self.get(self.u.management_page)).text)
        self.mid = Listed(checked(self.get(self.u.management_page, start=str(n // 2))).text)

    def get(self, url: str, **params):
        return self.c.get(url, params=params, headers=GET_HEADERS)

    def post(self, url: str, **form):
        return self.c.post(url, data=form, headers=POST_HEADERS)


def check_moves(h: Http) -> None:
    "Once: the moves land where the page expects (so their timings measure real moves)."
    mid = h.mid
    down = Listed(checked(h.get(f"{h.vc}/nav_down", **mid.params(mid.start + mid.rows - 1))).text)
    page = Listed(checked(h.get(f"{h.vc}/nav_page_down", **mid.params())).text)
    end = Listed(checked(h.get(f"{h.vc}/nav_last", **mid.params())).text)
    expected = (mid.start + 1, mid.start + mid.rows, mid.total - mid.rows)
    if (down.start, page.start, end.start) != expected or down.ids[0] != mid.ids[1] or page.ids[0] == mid.ids[-1]:
        raise RuntimeError(f"moves landed at {(down.start, page.start, end.start)}, expected {expected}")


def time_http_reads(h: Http, repeat: int) -> dict:
    "Median times of the page's reads."
    top, mid, u = h.top, h.mid, h.u
    check_moves(h)
    etag = checked(h.get(u.changes)).headers["etag"]
    reads = {
        "reference": reference_work,
        "page": lambda: checked(h.c.get(u.management_page)),
        "page_mid": lambda: checked(h.c.get(u.management_page, params={"start": str(h.n // 2)})),
        "list": lambda: checked(h.get(u.list_sessions, **top.params())),
        "nav_down": lambda: checked(h.get(f"{h.vc}/nav_down", **mid.params(mid.start + mid.rows - 1))),
        "nav_page_down": lambda: checked(h.get(f"{h.vc}/nav_page_down", **mid.params())),
        "nav_last": lambda: checked(h.get(f"{h.vc}/nav_last", **mid.params())),
        "search_few": lambda: checked(h.get(u.list_sessions, **top.params(q=seeding.FEW_TERM, start="0"))),
        "search_2pct": lambda: checked(h.get(u.list_sessions, **top.params(q=seeding.TWO_PERCENT_TERM, start="0"))),
        "sort_label": lambda: checked(h.get(f"{h.vc}/sort", **top.params(sort="label"))),
        "changes": lambda: checked(h.c.get(u.changes, headers={"If-None-Match": etag}), 304),
    }
    return {k: median_us(fn, repeat) for k, fn in reads.items()}


def time_http_writes(h: Http, svc, repeat: int) -> dict:
    "Median times of the page's writes, at the top of the list and from its middle; every delete removes a real session."
    top, mid, u = h.top, h.mid, h.u
    created, copies = [], []
    def create():
        rid = uuid.uuid4().hex
        checked(h.post(u.create_session, label="Created over HTTP", request_id=rid, **top.params()))
        created.append(derived_id({"request_id": rid}, "create", FLOW))
    out = {"create": median_us(create, repeat)}
    doomed = iter(created)  # the sessions just created, at the top of the list
    out["delete"] = median_us(lambda: checked(h.post(u.delete_sessions, session_id=next(doomed), request_id=uuid.uuid4().hex,
                                                     **top.params())), repeat)
    labels = iter(f"Renamed over HTTP {i}" for i in range(10**9))
    out["rename"] = median_us(lambda: checked(h.post(u.rename_session, session_id=top.ids[3], label=next(labels), **top.params())), repeat)
    out["rename_mid"] = median_us(lambda: checked(h.post(u.rename_session, session_id=mid.ids[3], label=next(labels),
                                                         **mid.params())), repeat)
    with svc.reader() as r:  # sessions around the middle of the list, deleted from the page showing it, restored after
        middle = [i.session_id for i in r.page(SessionQuery(), max(0, (h.n - repeat - WARMUP) // 2), repeat + WARMUP).items]
    doomed = iter(middle)
    out["delete_mid"] = median_us(lambda: checked(h.post(u.delete_sessions, session_id=next(doomed), request_id=uuid.uuid4().hex,
                                                         **mid.params())), repeat)
    svc.restore_sessions(middle)
    out["resume"] = median_us(lambda: checked(h.post(u.resume_session, session_id=mid.ids[3], request_id=uuid.uuid4().hex,
                                                     **mid.params()), 204), repeat)
    def duplicate():
        rid = uuid.uuid4().hex
        checked(h.post(u.duplicate_session, session_id=mid.ids[3], request_id=rid, **mid.params()))
        copies.append(derived_id({"request_id": rid}, "duplicate", FLOW))
    out["duplicate"] = median_us(duplicate, repeat)
    svc.delete_sessions(copies)
    return out


def page_weight(h: Http) -> dict:
    "Bytes of the page with 20 rows, and of the htmx list fragment of that view."
    page = checked(h.c.get(h.u.management_page, params={"rows": str(PAGE_ROWS)}))
    listed = Listed(page.text)
    frag = checked(h.get(h.u.list_sessions, **listed.params()))
    assert len(listed.ids) == PAGE_ROWS and Listed(frag.text).ids == listed.ids
    return {"page_bytes": len(page.content), "fragment_bytes": len(frag.content), "rows": PAGE_ROWS}


# --- bulk, restart ------------------------------------------------------------------------------------------

def bulk(svc, h: Http) -> dict:
    "Delete every session matching BULK_TERM and restore them: through the service, then as the page does."
    q = SessionQuery(search=seeding.BULK_TERM)
    (moved, batch), del_s = seconds(lambda: svc.move_to_trash(query=q))
    restored, res_s = seconds(lambda: svc.restore_batch(batch))
    searched = Listed(checked(h.get(h.u.list_sessions, **h.top.params(q=seeding.BULK_TERM, start="0"))).text)
    answer, http_del_s = seconds(lambda: checked(h.post(h.u.delete_sessions, all="1", request_id=uuid.uuid4().hex, **searched.params())))
    undo = UNDO.search(answer.text).group(1)
    http_moved = svc.batch_size(undo)
    _, http_res_s = seconds(lambda: checked(h.post(h.u.restore_sessions, batch=undo, request_id=uuid.uuid4().hex, **searched.params())))
    left = svc.batch_size(undo)
    return {"matched": moved, "restored": restored.count, "http_moved": http_moved, "http_left_in_trash": left,
            "delete_s": del_s, "restore_s": res_s, "http_delete_s": http_del_s, "http_restore_s": http_res_s}


def restart(spec: dict, store) -> dict:
    "A host restarting on the built database: a new service and the routers, as the host's start-up code does."
    out, builder_log, svc = {}, BuildLog(), None
    try:
        svc, out["ctor_s"] = seconds(lambda: new_service(store))
        out["stale_after_ctor"] = stale_rows(spec, store)
        _, out["routers_s"] = seconds(lambda: build_app(svc))
        out["stale_after_routers"] = stale_rows(spec, store)
    except Exception as e:  # the report says what failed: a host's start-up would have stopped here
        out["error"] = f"{type(e).__name__}: {str(e).splitlines()[0]}"
    t0 = time.perf_counter()
    while svc is not None and stale_rows(spec, store) and time.perf_counter() - t0 < 900:
        if svc._builder is not None and svc._builder.running: svc._builder.thread.join(900)
        else: svc.read_page(0, 1)  # a builder that stopped is replaced by the next read
    out["rebuild_s"] = time.perf_counter() - t0
    out["stale_left"], out["builder_errors"] = stale_rows(spec, store), builder_log.errors
    builder_log.close()
    return out


def first_start(spec: dict) -> dict:
    "A host's first start on a freshly seeded database, exactly as a host writes it: the service, then the routers."
    out, builder_log, svc = {"db": spec["db"], "n": spec["n"]}, BuildLog(), None
    with tempfile.TemporaryDirectory(prefix="sm-bench-first-") as tmp:
        store = open_store(spec, Path(tmp))
        seed(spec, store)
        t0 = time.perf_counter()
        try:
            svc, out["ctor_s"] = seconds(lambda: new_service(store))
            _, out["routers_s"] = seconds(lambda: build_app(svc))
        except Exception as e:  # where a host's start-up would have stopped
            out["error"] = f"{type(e).__name__}: {str(e).splitlines()[0]}"
        while svc is not None and stale_rows(spec, store) and time.perf_counter() - t0 < 900:
            if svc._builder is not None and svc._builder.running: svc._builder.thread.join(900)
            else: svc.read_page(0, 1)  # a builder that stopped is replaced by the next read
        out["until_built_s"], out["stale_left"] = time.perf_counter() - t0, stale_rows(spec, store)
        out["builder_errors"], out["progress"] = builder_log.errors, builder_log.lines
        builder_log.close()
        if spec["db"] == "postgres": store.close()
    return out


# --- one size -----------------------------------------------------------------------------------------------

def load() -> str: return Path("/proc/loadavg").read_text().split(" ", 3)[:3]  # 1, 5, 15 min load averages


def timings(spec: dict, svc, h: "Http") -> dict:
    "The timed rows of one size: service reads and writes, HTTP reads and writes."
    n = spec["n"]
    service = time_service_reads(svc, n, spec["repeat"]) | {f"w_{k}": v for k, v in time_service_writes(svc, n, spec["write_repeat"]).items()}
    log.info("%s N=%s: timing HTTP", spec["db"], f"{n:,}")
    http = time_http_reads(h, spec["http_repeat"]) | {f"w_{k}": v for k, v in time_http_writes(h, svc, spec["http_write_repeat"]).items()}
    return {"service": service, "http": http}


def retime(spec: dict) -> dict:
    "The timed rows again, on the database an earlier child built (a restarted host: nothing to rebuild)."
    out = {"db": spec["db"], "n": spec["n"], "load_before": load()}
    store = open_store(spec, Path(spec["dir"] or "."))  # (a PostgreSQL store needs no folder)
    svc = new_service(store)
    for c in COLUMNS: svc.add_host_sort(c.field, c.sort_path)
    out["stale_at_start"] = stale_rows(spec, store)
    app, res = build_app(svc)
    with TestClient(app, base_url=BASE_URL) as client: out |= timings(spec, svc, Http(client, res, spec["n"]))
    if spec["db"] == "postgres": store.close()
    out["load_after"] = load()
    return out


def measure(spec: dict) -> dict:
    "Everything for one database and size (or, for spec kind 'first_start', a host's first start; 'retime', the timings again)."
    if spec.get("kind") == "first_start": return first_start(spec)
    if spec.get("kind") == "retime": return retime(spec)
    n, out = spec["n"], {"db": spec["db"], "n": spec["n"], "load_before": load()}
    with tempfile.TemporaryDirectory(prefix="sm-bench-") as tmp:
        store = open_store(spec, Path(spec.get("dir") or tmp))
        out["seed_s"] = seconds(lambda: seed(spec, store))[1]
        log.info("%s N=%s: seeded in %.1f s; starting the service", spec["db"], f"{n:,}", out["seed_s"])
        svc, out["build"] = build(spec, store)
        log.info("%s N=%s: built in %.1f s; timing the service", spec["db"], f"{n:,}", out["build"]["build_s"])
        out["search_counts"] = search_counts(svc)
        app, res = build_app(svc)
        with TestClient(app, base_url=BASE_URL) as client:  # one event loop for every request, as a server has
            h = Http(client, res, n)
            out |= timings(spec, svc, h)
            out["weight"] = page_weight(h)
            out["memory"] = memory_mib()
            if (total := svc.read_page(0, 1).total) != n:
                raise RuntimeError(f"expected {n} sessions after the write loops, found {total}")
            if spec.get("bulk"):
                log.info("%s N=%s: bulk delete and restore", spec["db"], f"{n:,}")
                out["bulk"] = bulk(svc, h)
                out["memory_after_bulk"] = memory_mib()
        out["stale_after_serving"] = stale_rows(spec, store)
        if spec.get("restart"):
            log.info("%s N=%s: restarting the service on the built database", spec["db"], f"{n:,}")
            out["restart"] = restart(spec, store)
        if spec["db"] == "postgres": store.close()
    out["load_after"] = load()
    return out


if __name__ == "__main__":
    sys.exit("run bench/bench.py")
