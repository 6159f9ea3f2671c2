"""Concurrent writers of one session: how many updates each store keeps.

Run from the repo root:  .venv/bin/python bench/lost_updates.py [--procs 4] [--writes 50] [--rounds 3]

The load of tests/test_pg_store.py's lost-update test: `procs` spawned processes each make `writes`
`update_state` and `writes` `update_step_state` calls on the SAME session, every call adding its own key.
cjm-workflow-state's SQLite store reads the state, merges in Python and writes it back on a second
connection, so a writer overwrites keys another added in between; PostgresWorkflowStateStore merges
inside one statement and keeps every key. PostgreSQL is `$SM_TEST_PG_URL`, else a throwaway server.
"""
import argparse
import multiprocessing
import os
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from backends import hammer, hammered_keys, open_store  # noqa: E402
from pg_server import start_server  # noqa: E402

FLOW = "bench"


def one_round(name: str, target, procs: int, writes: int) -> str:
    "Run the writers once on a new session; a line saying how many keys survived."
    session_id, ctx = uuid.uuid4().hex, multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(procs + 1)
    workers = [ctx.Process(target=hammer, args=(name, target, FLOW, session_id, p, writes, barrier))
               for p in range(procs)]
    for w in workers: w.start()
    barrier.wait(60)
    for w in workers: w.join()
    store = open_store(name, target)
    state, expected = store.get_state(FLOW, session_id), hammered_keys(procs, writes)
    if name == "postgres": store.close()
    top = sum(k in state for k in expected)
    step = sum(k in state.get("_step_s", {}) for k in expected)
    failed = sum(w.exitcode != 0 for w in workers)
    return (f"{name:8}  top-level keys kept {top}/{len(expected)}  step keys kept {step}/{len(expected)}"
            f"  writers that crashed {failed}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--writes", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    server = None if os.environ.get("SM_TEST_PG_URL") else start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            targets = {"sqlite": Path(tmp) / "state.db", "postgres": os.environ.get("SM_TEST_PG_URL") or server.url}
            for name, target in targets.items():
                for _ in range(args.rounds): print(one_round(name, target, args.procs, args.writes), flush=True)
    finally:
        if server: server.stop()


if __name__ == "__main__":
    main()
