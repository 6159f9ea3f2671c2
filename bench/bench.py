"""The project's benchmark: the session manager's reads and writes as a flow grows, on SQLite and on PostgreSQL.

Run from the repository root:

    .venv/bin/python bench/bench.py [--sizes 100,100000] [--pg-sizes 100,100000,1000000] [--quick] [--out bench/RESULTS.md]
    .venv/bin/python bench/bench.py --keep-pg            # leave PostgreSQL and its databases up, for bench/profile_pg.py
    .venv/bin/python bench/bench.py --first-start-only   # re-measure only a host's first start, merged into the report
    .venv/bin/python bench/bench.py --rerender           # rewrite the report from bench/RESULTS.json

Each (database, N) runs in a fresh interpreter (`--child`, which prints its results as JSON): it seeds N sessions
straight into `workflow_state`, starts the service and waits for the one-time display build, then times the
service's reads and writes, the real HTTP routes (Starlette's TestClient, requests as the page sends them), the
page weight, memory, and at N=100,000 a bulk delete and restore of 10,000 sessions and a restart; then, on a fresh
database of 100,000, a host's first start as a host writes it. PostgreSQL is a throwaway server (tests/pg_server.py)
with one database per size. Last, the demo app runs under uvicorn with 200 simulated idle pages. The report (bench/RESULTS.md) is rewritten; text after NOTES_MARK in it is kept.
"""
import argparse
import json
import logging
import os
import platform
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the worktree's package (not the venv's editable install), pg_server

import report  # noqa: E402  (bench/ is on the path: this script's folder)

log = logging.getLogger("bench")
DEFAULT_SIZES, DEFAULT_PG_SIZES = (100, 100_000), (100, 100_000, 1_000_000)
QUICK_SIZES, QUICK_PG_SIZES = (100, 2_000), (100, 2_000)
BULK_N = 100_000  # Size at which bulk delete/restore and the restart are measured (the largest size in --quick)
PG_SETTINGS = {"shared_buffers": "1GB", "maintenance_work_mem": "512MB", "effective_cache_size": "8GB"}


def sizes(text: str) -> list:
    "Sizes from a comma-separated list ('' for none)."
    return sorted({int(s.replace("_", "")) for s in text.split(",") if s.strip()})


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", help=f"SQLite sizes (default {','.join(map(str, DEFAULT_SIZES))})")
    p.add_argument("--pg-sizes", help=f"PostgreSQL sizes, '' for none (default {','.join(map(str, DEFAULT_PG_SIZES))})")
    p.add_argument("--quick", action="store_true", help="a smoke run: small sizes and few repetitions (under a minute)")
    p.add_argument("--repeat", type=int, help="timed calls per service read (default 200; --quick 20)")
    p.add_argument("--http-repeat", type=int, help="timed requests per HTTP read (default 100; --quick 10)")
    p.add_argument("--idle-pages", type=int, help="simulated idle pages, 0 for none (default 200; --quick 20)")
    p.add_argument("--idle-seconds", type=float, help="seconds the idle pages' CPU is measured (default 30; --quick 5)")
    p.add_argument("--rounds", type=int, help="timing rounds per size, each size's best kept (default 2; --quick 1)")
    p.add_argument("--keep-pg", action="store_true", help="leave the PostgreSQL server and its databases running (to profile)")
    p.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"), help="report path")
    p.add_argument("--first-start-only", action="store_true",
                   help="only measure a host's first start, merged into the report's JSON, and rewrite the report")
    p.add_argument("--rerender", action="store_true", help="rewrite the report from its JSON (no measuring)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--serve-demo", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args()
    q = args.quick
    args.sizes = sizes(args.sizes) if args.sizes is not None else list(QUICK_SIZES if q else DEFAULT_SIZES)
    args.pg_sizes = sizes(args.pg_sizes) if args.pg_sizes is not None else list(QUICK_PG_SIZES if q else DEFAULT_PG_SIZES)
    args.repeat = args.repeat or (20 if q else 200)
    args.http_repeat = args.http_repeat or (10 if q else 100)
    args.rounds = args.rounds or (1 if q else 2)
    args.idle_pages = args.idle_pages if args.idle_pages is not None else (20 if q else 200)
    args.idle_seconds = args.idle_seconds or (5 if q else 30)
    return args


def configure_logging() -> None:
    "Warnings from everyone; progress from the bench, the package (the display build) and the PostgreSQL server."
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for name in ("bench", "cjm_fasthtml_workflow_session_management", "pg_server"): logging.getLogger(name).setLevel(logging.INFO)


# --- children -----------------------------------------------------------------------------------------------

def run_child(spec: dict) -> dict:
    "Measure one (database, N) in a fresh interpreter; its log goes to our stderr, its result comes back as JSON."
    log.info("measuring %s N=%s", spec["db"], f"{spec['n']:,}")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], stdout=subprocess.PIPE, text=True, env=env)
    if proc.returncode != 0:
        return {"db": spec["db"], "n": spec["n"], "failed": f"child exited with {proc.returncode} (see the log)"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def spec_for(db: str, n: int, all_sizes: list, args, target=None, folder=None) -> dict:
    "What a child measures."
    heavy = n == BULK_N or (args.quick and n == max(all_sizes))
    return {"db": db, "n": n, "target": target, "dir": folder and str(folder), "repeat": args.repeat,
            "write_repeat": max(5, args.repeat // 4), "http_repeat": args.http_repeat,
            "http_write_repeat": max(5, args.http_repeat // 2), "bulk": heavy, "restart": heavy}


def measure_sizes(specs: list, rounds: int) -> list:
    """Each size built and timed once, then timed again in later rounds (every size once per round, so that a slow
    spell of the shared machine falls on one round of every size rather than on one size); each row keeps its best."""
    results = [run_child(spec) for spec in specs]
    for round_no in range(2, rounds + 1):
        for result, spec in zip(results, specs):
            if "failed" in result: continue
            log.info("round %d: %s N=%s", round_no, spec["db"], f"{spec['n']:,}")
            again = run_child(spec | {"kind": "retime"})
            if "failed" in again: result["failed"] = again["failed"]; continue
            for part in ("service", "http"):
                result.setdefault(f"{part}_rounds", [dict(result[part])]).append(again[part])
                result[part] = {k: min(r[k] for r in result[f"{part}_rounds"]) for k in result[part]}
    return results


# --- PostgreSQL ---------------------------------------------------------------------------------------------

def start_postgres():
    "The throwaway server, with memory settings a real server would have (it restarts once to apply them)."
    import psycopg
    from pg_server import run, start_server
    server = start_server()
    with psycopg.connect(server.url, autocommit=True) as conn:
        for name, value in PG_SETTINGS.items(): conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    # -l: the server's output goes to its log (pg_ctl's own pipes would stay open as long as the server runs)
    run([str(server.bin / "pg_ctl"), "-D", str(server.root / "data"), "-l", str(server.root / "log"), "-w", "-t", "60", "restart"])
    return server


def pg_facts(server) -> dict:
    "The server's version and the settings that matter for the numbers."
    import psycopg
    names = ("shared_buffers", "work_mem", "maintenance_work_mem", "effective_cache_size", "fsync", "synchronous_commit",
             "full_page_writes", "jit", "max_parallel_workers_per_gather")
    with psycopg.connect(server.url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        settings = {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in names}
    return {"version": version, "settings": settings}


def size_database(server, n: int, kind: str = "bench") -> str:
    "A fresh database for one size (with the extensions the service uses); its conninfo."
    import psycopg
    name = f"{kind}_{n}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    url = server.url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(url, autocommit=True) as conn:
        for ext in ("pg_trgm", "btree_gin"): conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")
    return url


def drop_database(server, n: int, kind: str = "bench") -> None:
    import psycopg
    with psycopg.connect(server.url, autocommit=True) as conn: conn.execute(f"DROP DATABASE IF EXISTS {kind}_{n} WITH (FORCE)")


def first_start_n(sizes: list, args):
    "The size at which a host's first start is measured (None: not in this run)."
    return BULK_N if BULK_N in sizes else (max(sizes) if args.quick and sizes else None)


def first_start_spec(db: str, n: int, target=None) -> dict:
    return {"kind": "first_start", "db": db, "n": n, "target": target}


def run_postgres(args, sizes: list, first: bool = True) -> tuple:
    "(results, server facts, first-start result) for the PostgreSQL sizes."
    server = start_postgres()
    try:
        facts, started = pg_facts(server), None
        results = measure_sizes([spec_for("postgres", n, args.pg_sizes, args, size_database(server, n)) for n in sizes], args.rounds)
        for n in sizes:
            if not args.keep_pg: drop_database(server, n)
        if first and (n := first_start_n(args.pg_sizes, args)):
            started = run_child(first_start_spec("postgres", n, size_database(server, n, "first")))
            drop_database(server, n, "first")
        return results, facts, started
    finally:
        if args.keep_pg: log.warning("PostgreSQL left running: %s (data in %s)", server.url, server.root)
        else: server.stop()


# --- the run ------------------------------------------------------------------------------------------------

def machine() -> dict:
    "What the numbers were measured on."
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "?")
    mem = next(int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal"))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "cjm_fasthtml_workflow_session_management"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return {"platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(), "ram_gib": mem / 2**20,
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "commit": commit + (" (modified)" if dirty else ""),
            "date": f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}", "command": shlex.join(sys.orig_argv)}


def measure_all(args) -> dict:
    "The whole run."
    import idle
    t0 = time.monotonic()
    run = {"machine": machine(), "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory(prefix="sm-bench-") as tmp:  # each size's SQLite file, kept for its later rounds
        folders = [Path(tmp, str(n)) for n in args.sizes]
        for folder in folders: folder.mkdir()
        run["sqlite"] = measure_sizes([spec_for("sqlite", n, args.sizes, args, folder=f) for n, f in zip(args.sizes, folders)], args.rounds)
    n = first_start_n(args.sizes, args)
    run["first_start"] = [run_child(first_start_spec("sqlite", n))] if n else []
    run["postgres"], run["pg"], started = run_postgres(args, args.pg_sizes) if args.pg_sizes else ([], None, None)
    run["first_start"] += [started] if started else []
    if args.idle_pages:
        log.info("idle pages: %d for %.0f s", args.idle_pages, args.idle_seconds)
        run["idle"] = idle.measure_idle(args.idle_pages, args.idle_seconds, **({"settle_s": 1, "boot_s": 1} if args.quick else {}))
    run["elapsed_s"] = time.monotonic() - t0
    return run


def measure_first_starts(run: dict, args) -> None:
    "Add a host's first start (SQLite and PostgreSQL) to an earlier run's results."
    t0 = time.monotonic()
    n = first_start_n(args.sizes, args)
    run["first_start"] = [run_child(first_start_spec("sqlite", n))] if n else []
    if args.pg_sizes and first_start_n(args.pg_sizes, args):
        server = start_postgres()
        try:
            n = first_start_n(args.pg_sizes, args)
            run["first_start"].append(run_child(first_start_spec("postgres", n, size_database(server, n, "first"))))
        finally: server.stop()
    run["first_start_run"] = {"date": machine()["date"], "command": machine()["command"], "elapsed_s": time.monotonic() - t0}


def main() -> None:
    args = parse_args()
    configure_logging()
    if args.child:
        import measure
        print(json.dumps(measure.measure(json.loads(args.child))))
        return
    if args.serve_demo:
        import idle
        idle.serve(args.serve_demo[0], int(args.serve_demo[1]), int(args.serve_demo[2]))
        return
    if args.rerender or args.first_start_only:
        run = json.loads(args.out.with_suffix(".json").read_text())
        if args.first_start_only: measure_first_starts(run, args)
    else:
        run = measure_all(args)
    args.out.with_suffix(".json").write_text(json.dumps(run, indent=1))
    args.out.write_text(report.render(run, args.out))
    print(report.summary(run))
    log.info("wrote %s (and %s) in %.1f min", args.out, args.out.with_suffix(".json").name, run["elapsed_s"] / 60)


if __name__ == "__main__":
    main()
