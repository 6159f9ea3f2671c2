"""Two app processes on one database (issue 8 point 3, issue 12 point 2), through real HTTP.

Two uvicorn processes (tests/http_app.py) serve one PostgreSQL schema, or one SQLite file; 8 client threads, each a
browser with its own cookie, send mixed creates, renames and deletes to either process at random (as a load
balancer would). Afterwards nothing acknowledged is lost, nothing deleted is back, every label is the last one
its owner set, and the count tables are exact.
"""
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from backends import PostgresBackend, SqliteBackend
from http_helpers import ACTIVE_KEY, count_tables, make_harness, real_counts, session_cookie, stored_labels, sessions
from pg_server import free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CLIENTS, OPS = 8, 40
PREFIX = "/manage/sessions"


class AppProcess:
    "tests/http_app.py in a uvicorn subprocess on a free port."
    def __init__(self, backend: str, target, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "WSM_TEST_BACKEND": backend, "WSM_TEST_TARGET": str(target),
               "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE), os.environ.get("PYTHONPATH", "")])}
        self.log = open(log, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "http_app:app", "--host", "127.0.0.1",
                                      "--port", str(self.port), "--log-level", "warning"],
                                     cwd=HERE, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None: raise RuntimeError(f"app process exited: {Path(self.log.name).read_text()}")
            try:
                if httpx.get(f"{self.url}{PREFIX}/changes", timeout=1).status_code == 200: return
            except httpx.HTTPError: time.sleep(0.1)
        raise RuntimeError("app process did not answer within 30 s")

    def stop(self) -> None:
        self.proc.terminate()
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired: self.proc.kill()
        self.log.close()


class Browser:
    "One user: a cookie jar, and a record of what the servers acknowledged."
    def __init__(self, n: int, servers: list):
        self.n, self.servers, self.rng = n, servers, random.Random(n)
        self.client = httpx.Client(timeout=30)
        self.created, self.deleted, self.labels, self.errors = set(), set(), {}, []

    def post(self, path: str, **data) -> httpx.Response:
        "A same-origin htmx POST to one of the servers, at random; the cookie goes to whichever answers."
        origin = self.rng.choice(self.servers).url
        return self.client.post(f"{origin}{PREFIX}/{path}", data={"view": "start=0", **data},
                                headers={"HX-Request": "true", "Origin": origin, "Sec-Fetch-Site": "same-origin"})

    def ok(self, r: httpx.Response, what: str) -> bool:
        if r.status_code == 200: return True
        self.errors.append((what, r.status_code, r.text[:120]))
        return False

    def create(self, i: int) -> None:
        label = f"b{self.n} made {i}"
        r = self.post("create_session", label=label, request_id=f"b{self.n}-create-{i:04d}")
        if self.ok(r, "create"):
            sid = session_cookie(self.client)[ACTIVE_KEY]  # the new session is the user's active one
            self.created.add(sid)
            self.labels[sid] = label

    def rename(self, i: int) -> None:
        alive = sorted(self.created - self.deleted)
        if not alive: return
        sid, label = self.rng.choice(alive), f"b{self.n} renamed {i}"
        if self.ok(self.post("rename_session", session_id=sid, label=label), "rename"): self.labels[sid] = label

    def delete(self, i: int) -> None:
        alive = sorted(self.created - self.deleted)
        if not alive: return
        sid = self.rng.choice(alive)
        if self.ok(self.post("delete_session", session_id=sid, request_id=f"b{self.n}-delete-{i:04d}"), "delete"):
            self.deleted.add(sid)

    def run(self, barrier: threading.Barrier) -> None:
        try:
            barrier.wait(30)
            for i in range(OPS):
                self.rng.choices([self.create, self.rename, self.delete], weights=[5, 3, 2])[0](i)
        except Exception as e: self.errors.append(("exception", type(e).__name__, str(e)[:200]))
        finally: self.client.close()


def serve_and_hammer(backend, tmp_path) -> list:
    "Two app processes on `backend`'s database, 8 browsers hammering them; the browsers, when all are done."
    make_harness(backend, sessions(10))  # seed and set the database up once, as a deploy would
    servers = [AppProcess(backend.name, backend.target, tmp_path / f"app{i}.log") for i in range(2)]
    try:
        for s in servers: s.wait()
        browsers = [Browser(n, servers) for n in range(CLIENTS)]
        barrier = threading.Barrier(CLIENTS)
        threads = [threading.Thread(target=b.run, args=(barrier,)) for b in browsers]
        for t in threads: t.start()
        for t in threads: t.join(120)
        return browsers
    finally:
        for s in servers: s.stop()


def check_nothing_lost(backend, browsers) -> None:
    "Every acknowledged create exists unless its owner deleted it, with its owner's last label; the counts are exact."
    errors = [e for b in browsers for e in b.errors]
    assert not errors, f"{len(errors)} requests failed, e.g. {errors[:3]}"
    labels = stored_labels(backend)
    created = set().union(*(b.created for b in browsers))
    deleted = set().union(*(b.deleted for b in browsers))
    assert len(created) >= CLIENTS * 3, "too few creates to mean anything"
    assert created - deleted <= set(labels), f"lost: {sorted((created - deleted) - set(labels))[:5]}"
    assert not deleted & set(labels), f"deleted but back: {sorted(deleted & set(labels))[:5]}"
    assert set(labels) == (created - deleted) | {f"s{i:03d}" for i in range(10)}
    for b in browsers:
        for sid in b.created - b.deleted: assert labels[sid] == b.labels[sid], (sid, labels[sid], b.labels[sid])
    assert count_tables(backend) == real_counts(backend)


def test_two_app_processes_on_one_postgresql_database(pg_conninfo, tmp_path):
    "Two uvicorn processes on one PostgreSQL schema serve 8 browsers' mixed writes: nothing lost, counts exact."
    backend = PostgresBackend(pg_conninfo)
    try: check_nothing_lost(backend, serve_and_hammer(backend, tmp_path))
    finally: backend.close()


def test_two_app_processes_on_one_sqlite_file(tmp_path):
    "Two uvicorn processes on one SQLite file serve 8 browsers' mixed writes: nothing lost, counts exact."
    backend = SqliteBackend(tmp_path / "state.db")
    check_nothing_lost(backend, serve_and_hammer(backend, tmp_path))


@pytest.mark.parametrize("name", ["sqlite", "postgres"])
def test_a_change_in_one_process_shows_in_the_other(name, tmp_path, request):
    """A session created through one process moves the change number the other process answers, and appears in the
    other process's list at once (the live list works across app servers on one database)."""
    backend = SqliteBackend(tmp_path / "state.db") if name == "sqlite" else PostgresBackend(request.getfixturevalue("pg_conninfo"))
    make_harness(backend, sessions(3))
    servers = [AppProcess(backend.name, backend.target, tmp_path / f"app{i}.log") for i in range(2)]
    try:
        for s in servers: s.wait()
        a, b = (f"{s.url}{PREFIX}" for s in servers)
        etag = httpx.get(f"{b}/changes").headers["etag"]
        r = httpx.post(f"{a}/create_session", data={"label": "Made on A"}, headers={"Sec-Fetch-Site": "same-origin"})
        assert r.status_code == 303
        moved = httpx.get(f"{b}/changes", headers={"If-None-Match": etag})
        assert moved.status_code == 200 and moved.headers["etag"] != etag
        listed = httpx.get(f"{b}/list_sessions", headers={"Accept": "application/json"}).json()
        assert listed["total"] == 4 and listed["sessions"][0]["label"] == "Made on A"
    finally:
        for s in servers: s.stop()
        if name == "postgres": backend.close()
