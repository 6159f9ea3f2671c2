"""Idle open pages: the demo app under uvicorn, and many simulated pages doing what an idle page does.

An open, visible page checks the flow's change number every 2 s after the previous answer, with `If-None-Match`
(the client script's conditional poll); nothing changes, so every check is answered 304. The server's CPU is
read from /proc through psutil (user + system time of the uvicorn process) over the measuring window.
"""
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
MANAGER_PAGE, CHANGES = "/manage/sessions/management_page", "/manage/sessions/changes"
POLL_S = 2.0  # The client script's POLL
DATA_CHANGES = re.compile(r'data-changes="(\d+)"')


def serve(data_dir: str, port: int, sessions: int) -> None:
    "Run the demo app (seeded with `sessions` on first run) on 127.0.0.1:`port`; the subprocess side."
    import uvicorn
    sys.path.insert(0, str(ROOT / "demo"))
    from app import create_app
    uvicorn.run(create_app(Path(data_dir), sessions), host="127.0.0.1", port=port, log_level="warning")


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, sessions: int) -> tuple:
    "(process, base URL) of the demo app in a subprocess, once it answers."
    port = free_port()
    env = {**os.environ, "DEMO_SESSION_SECRET": "bench-idle-" + "x" * 40, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("bench.py")), "--serve-demo", str(data_dir), str(port),
                             str(sessions)], env=env, cwd=ROOT)
    base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None: raise RuntimeError("the demo server exited")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1): return proc, base
        except OSError: time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the demo server did not answer within 60 s")


class Tally:
    "Answers to the checks, with when they came."
    def __init__(self): self.answers = []  # (monotonic time, status, seconds)

    def within(self, t0: float, t1: float) -> list: return [a for a in self.answers if t0 <= a[0] < t1]


async def idle_page(base: str, delay: float, stop: asyncio.Event, loaded: list, tally: Tally) -> None:
    "One open page: load it, then check for changes every POLL_S after each answer, conditionally."
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        await asyncio.sleep(delay)
        page = await c.get(MANAGER_PAGE)
        etag = f'"{DATA_CHANGES.search(page.text).group(1)}"'
        loaded.append(time.monotonic())
        while not stop.is_set():
            await asyncio.sleep(POLL_S)
            t0 = time.monotonic()
            r = await c.get(CHANGES, headers={"If-None-Match": etag, "Sec-Fetch-Site": "same-origin"})
            tally.answers.append((time.monotonic(), r.status_code, time.monotonic() - t0))
            etag = r.headers.get("etag", etag)


async def run_pages(base: str, proc: subprocess.Popen, pages: int, settle_s: float, window_s: float) -> dict:
    "Open `pages` pages (spread over one poll period); once all are loaded and settled, measure the server's CPU."
    tally, server, stop, loaded = Tally(), psutil.Process(proc.pid), asyncio.Event(), []
    start = time.monotonic()
    tasks = [asyncio.create_task(idle_page(base, POLL_S * i / pages, stop, loaded, tally)) for i in range(pages)]
    while len(loaded) < pages: await asyncio.sleep(0.1)
    load_s = time.monotonic() - start
    await asyncio.sleep(settle_s)  # loading the pages is not idling: the window starts once every page only polls
    cpu0, wall0, client0 = server.cpu_times(), time.monotonic(), time.process_time()
    await asyncio.sleep(window_s)
    cpu1, wall1, client1 = server.cpu_times(), time.monotonic(), time.process_time()
    stop.set()
    await asyncio.gather(*tasks)
    answers = tally.within(wall0, wall1)
    server_s = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    return {"pages": pages, "load_s": load_s, "window_s": wall1 - wall0, "server_cpu_s": server_s, "cpu_pct": 100 * server_s / (wall1 - wall0),
            "client_cpu_pct": 100 * (client1 - client0) / (wall1 - wall0), "checks": len(answers),
            "not_304": sum(1 for a in answers if a[1] != 304),
            "median_ms": statistics.median(a[2] for a in answers) * 1000 if answers else None,
            "server_us_per_check": 1e6 * server_s / max(1, len(answers))}


def measure_idle(pages: int, window_s: float, sessions: int = 1_000, settle_s: float = 4.0, boot_s: float = 3.0) -> dict:
    "Start the demo on a fresh SQLite file with `sessions`, open `pages` idle pages, and measure."
    with tempfile.TemporaryDirectory(prefix="sm-bench-idle-") as tmp:
        proc, base = start_server(Path(tmp), sessions)
        try:
            time.sleep(boot_s)  # the demo's first display build (1,000 sessions) is done well within this
            out = asyncio.run(run_pages(base, proc, pages, settle_s, window_s))
            out["rss_mib"] = psutil.Process(proc.pid).memory_info().rss / 2**20
        finally:
            proc.terminate()
            proc.wait(10)
    return {**out, "sessions": sessions}
