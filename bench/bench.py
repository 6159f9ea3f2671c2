"""Benchmark `SessionManagementService` and the manager's HTTP routes as a flow grows from 100 to 100,000 sessions.

Run from the repo root:  .venv/bin/python bench/bench.py [--sizes 100,1000] [--repeat 200] [--http-repeat 100]
                         [--out bench/RESULTS.md]

Each size runs in its own subprocess (the hidden `--one N` mode, which prints JSON) so that memory, SQLite
caches and allocator state of one size cannot bleed into another; the parent collects the results, prints the
table and writes the markdown report.
"""
import argparse
import asyncio
import itertools
import json
import os
import platform
import random
import re
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cjm_workflow_state.state_store import SQLiteWorkflowStateStore
from fasthtml.common import FastHTML
from starlette.testclient import TestClient

from cjm_fasthtml_workflow_session_management.models import ColumnSpec
from cjm_fasthtml_workflow_session_management.routes.init import init_session_manager_routers
from cjm_fasthtml_workflow_session_management.services.management import SessionManagementService

FLOW, OTHER_FLOW, OTHER_ROWS = "bench", "other", 1_000
DEFAULT_SIZES, DEFAULT_REPEAT, DEFAULT_HTTP_REPEAT, WARMUP = (100, 10_000, 100_000), 200, 100, 10
MEMORY_READS = 100  # Reads done before sampling RSS, so the sample reflects a service that has served requests
MAX_RATIO, MAX_RSS_GROWTH_MIB, MAX_PAGE_BYTES = 1.5, 20, 40 * 1024
SCAN_REPEAT_DIVISOR = 10  # Scanning reads take ~100x longer at 100,000 rows; fewer repetitions keep the run short

STEPS = ("upload", "transcribe", "review", "export")
# "budget" appears in one topic only, and UUIDs (hex) and step names cannot contain it, so a search for it matches
# the labelled rows of that topic: about 2/3 * 1/30 = 2% of the flow
SEARCH_TEXT = "budget"
RARE_TEXT = "qzxv"  # In no label, id or step: a search whose window finds nothing
STATE_PATH = "$.source.duration_s"  # A value in the state blob that a host column sorts by
TOPICS = ("budget review", "product launch", "customer call", "team standup", "design critique", "hiring panel",
          "quarterly planning", "support escalation", "vendor negotiation", "board update", "user interview",
          "sales demo", "security audit", "onboarding", "retrospective", "roadmap sync", "marketing brief",
          "legal review", "press briefing", "investor pitch", "research readout", "training session",
          "incident postmortem", "partner sync", "all hands", "lecture", "podcast episode", "webinar",
          "field notes", "town hall")
LABEL_KINDS = ("Interview", "Meeting", "Call", "Recording", "Notes", "Session")
WORDS = ("the", "we", "should", "probably", "revisit", "numbers", "before", "next", "week", "because", "costs",
         "moved", "again", "okay", "so", "let's", "start", "with", "agenda", "item", "two", "shipping", "date",
         "slipped", "customers", "asked", "about", "pricing", "tiers", "and", "support", "hours", "I", "think",
         "team", "agreed", "to", "follow", "up", "on", "that", "thread", "right", "after", "lunch", "yes", "exactly")
MODELS, LANGUAGES = ("whisper-large-v3", "whisper-medium", "parakeet-tdt"), ("en", "de", "fr", "es", "ja")

BASE_URL = "http://testserver"
HX = {"HX-Request": "true", "Origin": BASE_URL, "Sec-Fetch-Site": "same-origin"}  # A same-origin htmx POST
VIEW_ID = re.compile(r"""hx-vals='\{"view": "([^"]+)"\}'""")  # The page's view id, on #sm-root
HTTP_LABEL = "Created over HTTP"
LONG_LABEL_TEXT = "Quarterly budget review with the product, design and support teams, second session"

# (result key, row title, must stay flat); keys are what the --one child reports
OPERATIONS = (
    ("first_updated_desc", "read_page first window (offset 0, limit 20), updated_at desc", True),
    ("first_label_asc", "read_page first window, label asc", True),
    ("first_size_desc", "read_page first window, size desc", True),
    ("first_state_desc", f"read_page first window, state path {STATE_PATH} desc (add_state_sort)", True),
    ("last_window", "read_page last window (offset N-20), updated_at desc", True),
    ("mid_offset", "read_page offset N/2, updated_at desc — not expected to be flat (OFFSET skips rows)", False),
    ("search", f"read_page search '{SEARCH_TEXT}' (~2% of rows) — not expected to be flat (search is a scan)", False),
    ("search_none", f"read_page search '{RARE_TEXT}' (no match) — not expected to be flat (search is a scan)", False),
    ("create_session", "create_session", True),
    ("rename_session", "rename_session (existing id)", True),
    ("delete_session", "delete_session (a real row each time)", True),
    ("session_exists", "session_exists", True),
    ("get_session", "get_session", True),
    ("http_page", "HTTP GET management page", True),
    ("http_list", "HTTP GET list fragment (?view=)", True),
    ("http_nav", "HTTP POST vc/nav_down, vc/nav_up (alternating, cursor stays near the top)", True),
    ("http_ends", "HTTP POST vc/nav_last, vc/nav_first (alternating End and Home)", True),
    ("http_sort_state", "HTTP POST vc/sort?column=host-0 (a host column sorted by its state path, alternating)", True),
    ("http_sort", "HTTP POST vc/sort?column=label (alternating asc/desc)", True),
    ("http_search", f"HTTP POST search '{SEARCH_TEXT}' — not expected to be flat (search is a scan)", False),
    ("http_create", "HTTP POST create (with a label)", True),
    ("http_rename", "HTTP POST rename (existing id)", True),
    ("http_delete", "HTTP POST delete (a real row each time)", True),
    ("http_resume", "HTTP POST resume (200 + HX-Redirect)", True),
)


def sqlite_ts(dt: datetime) -> str:
    """Format like SQLite's CURRENT_TIMESTAMP, so seeded and service-created rows sort together."""
    return dt.strftime("%Y-%m-%d %H:%M:%S")


def sentence_pool(rng: random.Random, size: int = 2_000) -> list:
    """Transcript-like sentences; picking from a pool varies blobs without paying to build every sentence."""
    return [" ".join(rng.choices(WORDS, k=rng.randint(10, 14))) for _ in range(size)]


def state_json(rng: random.Random, pool: list) -> str:
    """A ~2 KB state blob shaped like a transcription workflow's, with a varying number of segments."""
    t, segments = 0.0, []
    for _ in range(rng.randint(12, 20)):
        end = round(t + rng.uniform(2, 12), 2)
        segments.append({"start": t, "end": end, "text": rng.choice(pool)})
        t = end
    return json.dumps({
        "source": {"name": f"{rng.choice(TOPICS).replace(' ', '_')}_{rng.randrange(10**6):06d}.wav",
                   "duration_s": round(rng.uniform(30, 7200), 1)},
        "settings": {"model": rng.choice(MODELS), "language": rng.choice(LANGUAGES), "diarize": rng.random() < 0.5},
        "_step_transcribe": {"segments": segments},
    })


def session_rows(rng: random.Random, flow: str, n: int, now: datetime):
    """Yield n rows for `flow`, lazily, so seeding 100,000 rows does not hold them all in memory."""
    pool, span = sentence_pool(rng), timedelta(days=180)
    for i in range(n):
        # Even spacing over ~6 months keeps every created_at distinct (>= 155 s apart at 100,000 rows)
        created = now - span * (n - i) / n
        updated = created + (now - created) * rng.random()
        label = f"{rng.choice(LABEL_KINDS)} — {rng.choice(TOPICS)} #{i}" if rng.random() < 2 / 3 else None
        yield (f"{flow}:{uuid.UUID(int=rng.getrandbits(128), version=4)}", rng.choice(STEPS),
               state_json(rng, pool), sqlite_ts(created), sqlite_ts(updated), label)


def seed(db: Path, n: int, sample: int = 100) -> list:
    """Bulk-insert n sessions of FLOW plus OTHER_ROWS of OTHER_FLOW; return a random sample of FLOW's session ids."""
    rng, now = random.Random(n), datetime.now(timezone.utc)
    sql = ("INSERT INTO workflow_state (flow_session_key, current_step, state_json, created_at, updated_at, label)"
           " VALUES (?, ?, ?, ?, ?, ?)")
    conn = sqlite3.connect(db)
    try:
        with conn:  # One transaction: a commit per row would make seeding, not the service, the slow part
            conn.executemany(sql, session_rows(rng, FLOW, n, now))
            conn.executemany(sql, session_rows(rng, OTHER_FLOW, OTHER_ROWS, now))
        keys = conn.execute("SELECT flow_session_key FROM workflow_state WHERE flow_session_key LIKE ?"
                            " ORDER BY random() LIMIT ?", (f"{FLOW}:%", sample)).fetchall()
    finally:
        conn.close()
    return [k[0].split(":", 1)[1] for k in keys]


def enrich(summary, state: dict) -> dict:
    """Host enricher: two display columns computed from the state blob."""
    return {"duration": f"{state.get('source', {}).get('duration_s', 0) / 60:.1f} min",
            "segments": len(state.get("_step_transcribe", {}).get("segments", []))}


def generate_label(summary, state: dict):
    """Host label generator: the source file name, used for the ~1/3 of rows without a stored label."""
    return state.get("source", {}).get("name")


def rss_mib() -> float:
    """This process's resident set size, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


def median_us(fn, repeat: int, warmup: int = WARMUP, after=None) -> float:
    """Median wall time of `fn()` in microseconds, after `warmup` untimed calls; `after()` runs untimed after each."""
    for _ in range(warmup):
        fn()
        if after:
            after()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if after:
            after()
    return statistics.median(times) * 1e6


def time_reads(svc: SessionManagementService, n: int, repeat: int) -> dict:
    """Median times of the read_page variants."""
    scans = max(5, repeat // SCAN_REPEAT_DIVISOR)
    return {
        "first_updated_desc": median_us(lambda: svc.read_page(0, 20), repeat),
        "first_label_asc": median_us(lambda: svc.read_page(0, 20, "label", False), repeat),
        "first_size_desc": median_us(lambda: svc.read_page(0, 20, "size", True), repeat),
        "first_state_desc": median_us(lambda: svc.read_page(0, 20, "duration", True), repeat),
        "last_window": median_us(lambda: svc.read_page(n - 20, 20), repeat),
        "mid_offset": median_us(lambda: svc.read_page(n // 2, 20), scans, warmup=2),
        "search": median_us(lambda: svc.read_page(0, 20, search=SEARCH_TEXT), scans, warmup=2),
        "search_none": median_us(lambda: svc.read_page(0, 20, search=RARE_TEXT), scans, warmup=2),
    }


def time_mutations(svc: SessionManagementService, existing: list, repeat: int) -> dict:
    """Median times of the single-session operations; deletes consume the sessions the create loop made."""
    created, targets = [], itertools.cycle(existing)
    out = {"create_session": median_us(lambda: created.append(svc.create_session("Created by bench")), repeat)}
    doomed = iter(created)  # Warm-up and timed calls match in both loops, so every delete removes a real row
    out["delete_session"] = median_us(lambda: svc.delete_session(next(doomed)), repeat)
    out["rename_session"] = median_us(lambda: svc.rename_session(next(targets), "Renamed by bench"), repeat)
    out["session_exists"] = median_us(lambda: svc.session_exists(next(targets)), repeat)
    out["get_session"] = median_us(lambda: svc.get_session(next(targets)), repeat)
    return out


def build_app(svc: SessionManagementService):
    """The manager's real routes on a FastHTML app, mounted the way a host mounts them; returns (app, result)."""
    app = FastHTML(default_hdrs=False, secret_key="b" * 32)
    res = init_session_manager_routers(svc, workflow_url="/workflow",
                                       column_specs=[ColumnSpec("duration", "Duration", sort_path=STATE_PATH),
                                                     ColumnSpec("segments", "Segments")],
                                       get_step_title=str.title)
    for router in res.routers:
        router.to_app(app)
    return app, res


def checked(send, status: int = 200, header: str = None):
    """`send`, after one call has answered `status` (and carried `header`): timing error pages is worthless."""
    r = send()
    if r.status_code != status or (header and header not in r.headers):
        raise RuntimeError(f"{r.request.method} {r.request.url} answered {r.status_code} (expected {status}"
                           f"{f' with {header}' if header else ''}): {r.text[:200]}")
    return send


def hx_post(client: TestClient, url: str, **form):
    """POST `form` the way the page's htmx does: same-origin, so the routes' mutation guard lets it through."""
    return client.post(url, data=form, headers=HX)


def fresh_view(client: TestClient, res) -> str:
    """Load the page as a new user and return its view id, so each operation starts from the default view."""
    client.cookies.clear()  # Views are kept in the session cookie; a sort or search must not leak into the next op
    page = checked(lambda: client.get(res.urls.management_page))()
    return VIEW_ID.search(page.text).group(1)


def page_bytes(client: TestClient, res) -> int:
    """Size of the page body a new user gets."""
    client.cookies.clear()
    return len(checked(lambda: client.get(res.urls.management_page))().content)


def time_http_reads(client: TestClient, res, repeat: int) -> dict:
    """Median times of the page, the list fragment and the collection routes, each on a fresh default view."""
    urls, vc = res.urls, res.urls.management_page.rstrip("/") + "/vc"
    out = {"http_page": median_us(checked(lambda: client.get(urls.management_page)), repeat)}
    view = fresh_view(client, res)
    out["http_list"] = median_us(checked(lambda: client.get(urls.list_sessions, params={"view": view})), repeat)
    view, moves = fresh_view(client, res), itertools.cycle(("nav_down", "nav_up"))
    out["http_nav"] = median_us(checked(lambda: hx_post(client, f"{vc}/{next(moves)}", view=view)), repeat)
    view, moves = fresh_view(client, res), itertools.cycle(("nav_last", "nav_first"))
    out["http_ends"] = median_us(checked(lambda: hx_post(client, f"{vc}/{next(moves)}", view=view)), repeat)
    view = fresh_view(client, res)  # Sorting the same column again flips its direction
    out["http_sort"] = median_us(checked(lambda: hx_post(client, f"{vc}/sort?column=label", view=view)), repeat)
    view = fresh_view(client, res)
    out["http_sort_state"] = median_us(checked(lambda: hx_post(client, f"{vc}/sort?column=host-0", view=view)), repeat)
    view = fresh_view(client, res)
    out["http_search"] = median_us(checked(lambda: hx_post(client, urls.search, view=view, q=SEARCH_TEXT)),
                                   max(5, repeat // SCAN_REPEAT_DIVISOR), warmup=2,
                                   after=lambda: hx_post(client, urls.search, view=view, q=""))
    return out


def time_http_mutations(client: TestClient, res, svc: SessionManagementService, existing: list, repeat: int) -> dict:
    """Median times of the session routes; deletes consume the sessions the create loop made."""
    urls, targets = res.urls, itertools.cycle(existing)
    view = fresh_view(client, res)
    out = {"http_create": median_us(checked(
        lambda: hx_post(client, urls.create_session, view=view, label=HTTP_LABEL)), repeat)}
    # The newest sessions are the ones just created (seeded rows are all older); checking their label proves it
    created = svc.read_page(0, repeat + WARMUP + 1, "created_at", True).items
    if any(s.summary.label != HTTP_LABEL for s in created):
        raise RuntimeError("the newest sessions are not the ones the HTTP create loop made")
    doomed = iter([s.session_id for s in created])
    view = fresh_view(client, res)  # A new user has no active session, so no delete pays for switching it
    out["http_delete"] = median_us(checked(
        lambda: hx_post(client, urls.delete_session, view=view, session_id=next(doomed))), repeat)
    view = fresh_view(client, res)
    out["http_rename"] = median_us(checked(
        lambda: hx_post(client, urls.rename_session, view=view, session_id=next(targets), label="Renamed over HTTP")),
        repeat)
    view = fresh_view(client, res)
    out["http_resume"] = median_us(checked(
        lambda: hx_post(client, urls.resume_session, view=view, session_id=next(targets)), header="HX-Redirect"),
        repeat)
    return out


def long_label_page_bytes(client: TestClient, res, svc: SessionManagementService) -> int:
    """Page size once every row of the first window carries a label of the service's maximum length."""
    long = (LONG_LABEL_TEXT * (svc.max_label_length // len(LONG_LABEL_TEXT) + 1))[:svc.max_label_length - 1] + "."
    # Renaming bumps updated_at, so renamed rows stay on top, but a row updated in the same second can tie and
    # displace one: rename until the window a new user sees holds long labels only
    while short := [s.session_id for s in asyncio.run(res.refresh_items()).items if s.summary.label != long]:
        for sid in short:
            svc.rename_session(sid, long)
    return page_bytes(client, res)


def run_one(n: int, repeat: int, http_repeat: int) -> dict:
    """Seed a fresh database with n sessions, start the service, and measure everything for this size."""
    with tempfile.TemporaryDirectory(prefix="sm-bench-") as tmp:
        db = Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        store = SQLiteWorkflowStateStore(db)  # Creates the table the seed inserts into
        existing = seed(db, n)
        t1 = time.perf_counter()
        svc = SessionManagementService(store, FLOW, enricher=enrich, label_generator=generate_label)
        t2 = time.perf_counter()
        svc.add_state_sort(STATE_PATH, "duration")
        t3 = time.perf_counter()
        for _ in range(MEMORY_READS):
            svc.read_page(0, 20)
        search_total = svc.read_page(search=SEARCH_TEXT).total
        timings = {**time_reads(svc, n, repeat), **time_mutations(svc, existing, max(1, repeat // 2))}
        app, res = build_app(svc)
        with TestClient(app, base_url=BASE_URL) as client:  # One event loop for every request, as a server has
            page = page_bytes(client, res)
            timings |= time_http_reads(client, res, http_repeat)
            timings |= time_http_mutations(client, res, svc, existing, max(1, http_repeat // 2))
            # Deletes must have removed exactly the sessions the creates added, or the delete timings measured no-ops
            if (total := svc.read_page().total) != n:
                raise RuntimeError(f"expected {n} sessions after the mutation loops, found {total}")
            long_page = long_label_page_bytes(client, res, svc)
        rss = rss_mib()  # Last, so it includes whatever serving the HTTP routes keeps alive
        return {"n": n, "seed_s": t1 - t0, "startup_s": t2 - t1, "state_sort_s": t3 - t2, "rss_mib": rss, "db_mib": db.stat().st_size / 2**20,
                "search_total": search_total, "page_bytes": page, "long_page_bytes": long_page,
                "max_label": svc.max_label_length, "us": timings}


def run_child(n: int, repeat: int, http_repeat: int) -> dict:
    """Measure one size in a fresh interpreter and return its JSON result."""
    print(f"measuring N={n:,} ...", file=sys.stderr, flush=True)
    proc = subprocess.run([sys.executable, __file__, "--one", str(n), "--repeat", str(repeat),
                           "--http-repeat", str(http_repeat)],
                          stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(proc.stdout)


def verdict(ok: bool) -> str:
    """PASS/FAIL marker for a checked limit."""
    return "PASS" if ok else "FAIL"


def results_table(results: list) -> str:
    """Markdown table: one row per operation, one column per size, then the largest/smallest ratio."""
    lo, hi = results[0], results[-1]
    head = ["operation"] + [f"N={r['n']:,} (µs)" for r in results] + [f"ratio N={hi['n']:,} / N={lo['n']:,}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, title, flat in OPERATIONS:
        ratio = hi["us"][key] / lo["us"][key]
        check = f" (must be ≤ {MAX_RATIO}: {verdict(ratio <= MAX_RATIO)})" if flat else " (informational)"
        cells = [title] + [f"{r['us'][key]:,.0f}" for r in results] + [f"{ratio:.2f}{check}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def memory_section(results: list) -> str:
    """RSS at each size and the growth from smallest to largest, checked against the limit."""
    lo, hi = results[0], results[-1]
    growth = hi["rss_mib"] - lo["rss_mib"]
    sizes = ", ".join(f"N={r['n']:,}: {r['rss_mib']:.1f} MiB" for r in results)
    return (f"RSS after building the service, serving {MEMORY_READS} first-window reads, the timed service calls "
            f"and the HTTP runs: {sizes}.\n\n"
            f"Growth N={hi['n']:,} over N={lo['n']:,}: **{growth:+.1f} MiB** "
            f"(must be ≤ {MAX_RSS_GROWTH_MIB} MiB: **{verdict(growth <= MAX_RSS_GROWTH_MIB)}**)")


def page_size_section(results: list) -> str:
    """Page body size at each size, as seeded and with maximum-length labels in the first window, against the limit."""
    lines = ["| N | page (bytes) | first window with maximum-length labels (bytes) |", "|---|---|---|"]
    for r in results:
        cells = [f"{r[k]:,} ({verdict(r[k] <= MAX_PAGE_BYTES)})" for k in ("page_bytes", "long_page_bytes")]
        lines.append(f"| {r['n']:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def setup_section(results: list) -> str:
    """Informational seeding and start-up costs, which are not part of the checked measurements."""
    lines = ["| N | seed (s) | service start-up (s) | add_state_sort (s) | DB size (MiB) | search matches |",
             "|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['n']:,} | {r['seed_s']:.2f} | {r['startup_s']:.2f} | {r['state_sort_s']:.2f} | {r['db_mib']:.1f} | "
                     f"{r['search_total']:,} ({r['search_total'] / r['n']:.1%}) |")
    return "\n".join(lines)


def report(results: list, repeat: int, http_repeat: int) -> str:
    """The full markdown report."""
    return f"""# Session management service benchmark

Median wall time (`time.perf_counter`) of `SessionManagementService` calls, and of HTTP requests to the manager's
routes, against a flow of N sessions.
Each N runs in its own subprocess on a fresh SQLite file holding N sessions of flow `{FLOW}` (~2 KB JSON state,
labels on ~2/3 of rows, distinct timestamps over ~6 months) plus {OTHER_ROWS:,} sessions of flow `{OTHER_FLOW}`.
The service runs with a host enricher (2 fields from the state) and a label generator, so JSON decoding and
enrichment are included. Every call opens and closes its own SQLite connection, as the service does.

Reads: {repeat} timed calls after {WARMUP} warm-up calls ({max(5, repeat // SCAN_REPEAT_DIVISOR)} after 2 for the two scanning reads).
Mutations: {max(1, repeat // 2)} timed calls after {WARMUP} warm-up calls.

HTTP rows go through the real routes (`init_session_manager_routers` with two host columns, mounted on a
`FastHTML` app) with Starlette's `TestClient`, in the same process and on the same database, after the service
rows; they include routing, the session cookie, rendering and the service calls each request makes. Posts carry
same-origin htmx headers and the page's view id; every operation starts from a fresh default view (newest first,
the routers' default window of 10 rows). Each operation's status code (and resume's `HX-Redirect`) is checked
once before timing.

HTTP reads: {http_repeat} timed requests after {WARMUP} warm-up ({max(5, http_repeat // SCAN_REPEAT_DIVISOR)} after 2 for search; its clearing post is untimed).
HTTP mutations: {max(1, http_repeat // 2)} timed requests after {WARMUP} warm-up.

Rows marked "must be ≤ {MAX_RATIO}" are expected to cost the same at any N.

- Machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs; temp dir `{tempfile.gettempdir()}`
- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}
- Date: {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}
- Command: `{shlex.join(sys.orig_argv)}`

## Timings

{results_table(results)}

## Page size

Body of the page GET a new user gets, as seeded, and after the timed runs with every session of the first window
renamed to a {results[-1]['max_label']}-character label (the service's maximum):
each must be ≤ {MAX_PAGE_BYTES:,} bytes (40 KB).

{page_size_section(results)}

## Memory

{memory_section(results)}

## Set-up (informational)

{setup_section(results)}
"""


def parse_args() -> argparse.Namespace:
    """Command-line options; `--one` is the hidden per-size child mode."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                   help="comma-separated session counts (default: %(default)s)")
    p.add_argument("--repeat", type=int, default=DEFAULT_REPEAT,
                   help="timed calls per read; mutations use half (default: %(default)s)")
    p.add_argument("--http-repeat", type=int, default=DEFAULT_HTTP_REPEAT,
                   help="timed requests per HTTP read; HTTP mutations use half (default: %(default)s)")
    p.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"),
                   help="markdown report path (default: bench/RESULTS.md)")
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)
    return p.parse_args()


def main() -> None:
    """Run every size in a subprocess, print the table and write the report (or, with --one, measure one size)."""
    args = parse_args()
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.repeat, args.http_repeat)))
        return
    results = [run_child(n, args.repeat, args.http_repeat) for n in sorted({int(s) for s in args.sizes.split(",")})]
    print(results_table(results), page_size_section(results), memory_section(results), setup_section(results),
          sep="\n\n")
    args.out.write_text(report(results, args.repeat, args.http_repeat))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
