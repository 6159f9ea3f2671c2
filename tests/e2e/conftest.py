"""Real-browser fixtures: the demo served by uvicorn on 127.0.0.1, driven by Debian's Chromium.

Each test gets its own server and data folder, so tests never see each other's sessions. Every page
fails its test on a browser console error or a failed request."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
UNSAFE_PORTS = {5060, 5061, 6000, 6665, 6666, 6667, 6668, 6669, 10080}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    "Launch Debian's Chromium: this machine cannot download Playwright's own browser."
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def free_port() -> int:
    "An ephemeral port Chromium agrees to load."
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in UNSAFE_PORTS: return port


class DemoServer:
    "The demo app in a uvicorn subprocess with its own data folder."
    def __init__(self, data_dir: Path, sessions: int):
        self.port, self.data_dir = free_port(), data_dir
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DEMO_SESSION_SECRET": "e2e-" + "x" * 40}
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "demo" / "app.py"), "--port", str(self.port),
                                      "--data", str(data_dir), "--sessions", str(sessions)], env=env, cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"demo server exited: {self.proc.stdout.read().decode()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200: return
            except OSError: time.sleep(0.1)
        raise RuntimeError("demo server did not answer /healthz within 30 s")

    def stop(self):
        self.proc.terminate()
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired: self.proc.kill()

    @property
    def db(self) -> Path: return self.data_dir / "workflow_state.db"


def _server(tmp_path, sessions):
    server = DemoServer(tmp_path / "data", sessions)
    try: yield server
    finally: server.stop()


@pytest.fixture
def server(tmp_path):
    "The demo with its 50 seeded sample sessions."
    yield from _server(tmp_path, 50)


@pytest.fixture
def empty_server(tmp_path):
    "The demo with no sessions."
    yield from _server(tmp_path, 0)


class BrowserProblems:
    "Console errors, page errors and failed requests seen by the pages of one test."
    def __init__(self): self.items = []
    def watch(self, page):
        page.on("console", lambda m: m.type == "error" and self.items.append(f"console: {m.text} at {m.location.get('url')}"))
        page.on("pageerror", lambda e: self.items.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.items.append(f"request failed: {r.url} {r.failure}"))
        page.on("dialog", lambda d: (self.items.append(f"unexpected dialog: {d.message}"), d.dismiss()))
        return page


@pytest.fixture
def problems():
    "Fails the test if any watched page logged a console error, threw, failed a request or opened a JS dialog."
    seen = BrowserProblems()
    yield seen
    assert seen.items == [], "browser problems:\n" + "\n".join(seen.items)


@pytest.fixture
def page(page, problems):
    "Playwright's page, watched for browser problems."
    page.set_default_timeout(10_000)
    return problems.watch(page)


@pytest.fixture
def new_user(browser, problems):
    "Factory of fresh browser contexts (separate cookies): each is another user."
    contexts = []
    def make(**kw):
        ctx = browser.new_context(**kw)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(10_000)
        return problems.watch(page)
    yield make
    for ctx in contexts: ctx.close()
