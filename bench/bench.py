"""Benchmark `SessionManagementService` reads and mutations as a flow grows from 100 to 100,000 sessions.

Run from the repo root:  .venv/bin/python bench/bench.py [--sizes 100,1000] [--repeat 200] [--out bench/RESULTS.md]

Each size runs in its own subprocess (the hidden `--one N` mode, which prints JSON) so that memory, SQLite
caches and allocator state of one size cannot bleed into another; the parent collects the results, prints the
table and writes the markdown report.
"""
import argparse
import itertools
import json
import os
import platform
import random
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

# The package is not installed in the venv; running the script puts bench/, not the repo root, on sys.path
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cjm_workflow_state.state_store import SQLiteWorkflowStateStore  # noqa: E402
from cjm_fasthtml_workflow_session_management.services.management import SessionManagementService  # noqa: E402

FLOW, OTHER_FLOW, OTHER_ROWS = "bench", "other", 1_000
DEFAULT_SIZES, DEFAULT_REPEAT, WARMUP = (100, 10_000, 100_000), 200, 10
MEMORY_READS = 100  # Reads done before sampling RSS, so the sample reflects a service that has served requests
MAX_RATIO, MAX_RSS_GROWTH_MIB = 1.5, 20
SCAN_REPEAT_DIVISOR = 10  # Scanning reads take ~100x longer at 100,000 rows; fewer repetitions keep the run short

STEPS = ("upload", "transcribe", "review", "export")
# "budget" appears in one topic only, and UUIDs (hex) and step names cannot contain it, so a search for it matches
# the labelled rows of that topic: about 2/3 * 1/30 = 2% of the flow
SEARCH_TEXT = "budget"
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

# (result key, row title, must stay flat); keys are what the --one child reports
OPERATIONS = (
    ("first_updated_desc", "read_page first window (offset 0, limit 20), updated_at desc", True),
    ("first_label_asc", "read_page first window, label asc", True),
    ("first_size_desc", "read_page first window, size desc", True),
    ("mid_offset", "read_page offset N/2, updated_at desc — not expected to be flat (OFFSET skips rows)", False),
    ("search", f"read_page search '{SEARCH_TEXT}' (~2% of rows) — not expected to be flat (search is a scan)", False),
    ("create_session", "create_session", True),
    ("rename_session", "rename_session (existing id)", True),
    ("delete_session", "delete_session (a real row each time)", True),
    ("session_exists", "session_exists", True),
    ("get_session", "get_session", True),
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


def median_us(fn, repeat: int, warmup: int = WARMUP) -> float:
    """Median wall time of `fn()` in microseconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def time_reads(svc: SessionManagementService, n: int, repeat: int) -> dict:
    """Median times of the read_page variants."""
    scans = max(5, repeat // SCAN_REPEAT_DIVISOR)
    return {
        "first_updated_desc": median_us(lambda: svc.read_page(0, 20), repeat),
        "first_label_asc": median_us(lambda: svc.read_page(0, 20, "label", False), repeat),
        "first_size_desc": median_us(lambda: svc.read_page(0, 20, "size", True), repeat),
        "mid_offset": median_us(lambda: svc.read_page(n // 2, 20), scans, warmup=2),
        "search": median_us(lambda: svc.read_page(0, 20, search=SEARCH_TEXT), scans, warmup=2),
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


def run_one(n: int, repeat: int) -> dict:
    """Seed a fresh database with n sessions, start the service, and measure everything for this size."""
    with tempfile.TemporaryDirectory(prefix="sm-bench-") as tmp:
        db = Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        store = SQLiteWorkflowStateStore(db)  # Creates the table the seed inserts into
        existing = seed(db, n)
        t1 = time.perf_counter()
        svc = SessionManagementService(store, FLOW, enricher=enrich, label_generator=generate_label)
        t2 = time.perf_counter()
        for _ in range(MEMORY_READS):
            svc.read_page(0, 20)
        rss = rss_mib()
        search_total = svc.read_page(search=SEARCH_TEXT).total
        timings = {**time_reads(svc, n, repeat), **time_mutations(svc, existing, max(1, repeat // 2))}
        # Deletes must have removed exactly the sessions the creates added, or the delete timings measured no-ops
        if (total := svc.read_page().total) != n:
            raise RuntimeError(f"expected {n} sessions after the mutation loops, found {total}")
        return {"n": n, "seed_s": t1 - t0, "startup_s": t2 - t1, "rss_mib": rss, "db_mib": db.stat().st_size / 2**20,
                "search_total": search_total, "us": timings}


def run_child(n: int, repeat: int) -> dict:
    """Measure one size in a fresh interpreter and return its JSON result."""
    print(f"measuring N={n:,} ...", file=sys.stderr, flush=True)
    proc = subprocess.run([sys.executable, __file__, "--one", str(n), "--repeat", str(repeat)],
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
    return (f"RSS after building the service and serving {MEMORY_READS} first-window reads: {sizes}.\n\n"
            f"Growth N={hi['n']:,} over N={lo['n']:,}: **{growth:+.1f} MiB** "
            f"(must be ≤ {MAX_RSS_GROWTH_MIB} MiB: **{verdict(growth <= MAX_RSS_GROWTH_MIB)}**)")


def setup_section(results: list) -> str:
    """Informational seeding and start-up costs, which are not part of the checked measurements."""
    lines = ["| N | seed (s) | service start-up (s) | DB size (MiB) | search matches |", "|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['n']:,} | {r['seed_s']:.2f} | {r['startup_s']:.2f} | {r['db_mib']:.1f} | "
                     f"{r['search_total']:,} ({r['search_total'] / r['n']:.1%}) |")
    return "\n".join(lines)


def report(results: list, repeat: int) -> str:
    """The full markdown report."""
    return f"""# Session management service benchmark

Median wall time (`time.perf_counter`) of `SessionManagementService` calls against a flow of N sessions.
Each N runs in its own subprocess on a fresh SQLite file holding N sessions of flow `{FLOW}` (~2 KB JSON state,
labels on ~2/3 of rows, distinct timestamps over ~6 months) plus {OTHER_ROWS:,} sessions of flow `{OTHER_FLOW}`.
The service runs with a host enricher (2 fields from the state) and a label generator, so JSON decoding and
enrichment are included. Every call opens and closes its own SQLite connection, as the service does.

Reads: {repeat} timed calls after {WARMUP} warm-up calls ({max(5, repeat // SCAN_REPEAT_DIVISOR)} after 2 for the two scanning reads).
Mutations: {max(1, repeat // 2)} timed calls after {WARMUP} warm-up calls.
Rows marked "must be ≤ {MAX_RATIO}" are expected to cost the same at any N.

- Machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs; temp dir `{tempfile.gettempdir()}`
- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}
- Date: {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}
- Command: `{shlex.join(sys.orig_argv)}`

## Timings

{results_table(results)}

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
    p.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"),
                   help="markdown report path (default: bench/RESULTS.md)")
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)
    return p.parse_args()


def main() -> None:
    """Run every size in a subprocess, print the table and write the report (or, with --one, measure one size)."""
    args = parse_args()
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.repeat)))
        return
    results = [run_child(n, args.repeat) for n in sorted({int(s) for s in args.sizes.split(",")})]
    print(results_table(results), memory_section(results), setup_section(results), sep="\n\n")
    args.out.write_text(report(results, args.repeat))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
