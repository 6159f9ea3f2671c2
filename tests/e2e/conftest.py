"""Real-browser fixtures: the demo served by uvicorn on 127.0.0.1, driven by Debian's Chromium.

Each test gets its own server and data folder, so tests never see each other's sessions. Every page
fails its test on a browser console error or a failed request."""
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "demo"))
from server import CHROMIUM, CHROMIUM_ARGS, DemoServer  # noqa: E402


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    "Launch Debian's Chromium: this machine cannot download Playwright's own browser."
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


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
    def __init__(self): self.items, self.statuses, self.done = [], set(), False

    def add(self, problem: str) -> None:
        if not self.done: self.items.append(problem)  # after the test, servers stop before pages close

    def allow(self, *statuses: int) -> None:
        "Answers with these statuses are what the test asks for (the browser logs each 4xx as a console error)."
        self.statuses.update(statuses)

    def _console(self, m):
        if m.type != "error": return
        status = re.search(r"status of (\d+)", m.text)
        if status and int(status[1]) in self.statuses: return
        self.add(f"console: {m.text} at {m.location.get('url')}")

    def watch(self, page):
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.add(f"page error: {e}"))
        # ERR_ABORTED is a request the page itself dropped: htmx's HX-Redirect navigates away while Chromium is
        # still closing the answered POST. A missing asset is a 404 and shows up as a console error above.
        page.on("requestfailed", lambda r: r.failure != "net::ERR_ABORTED"
                and self.add(f"request failed: {r.url} {r.failure}"))
        page.on("dialog", lambda d: (self.add(f"unexpected dialog: {d.message}"), d.dismiss()))
        return page


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    "What pages do once the test body has finished (a stopped server, a closing page) is not the test's."
    yield
    if (seen := item.funcargs.get("problems")) is not None: seen.done = True


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


@pytest.fixture
def pg_server(tmp_path, pg_conninfo):
    "The demo on PostgreSQL (a fresh schema of the test server), with its 50 seeded sample sessions."
    server = DemoServer(tmp_path / "data", 50, database_url=pg_conninfo)
    try: yield server
    finally: server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def any_server(request, tmp_path):
    "The demo on each database in turn."
    if request.param == "sqlite": yield from _server(tmp_path, 50)
    else: yield request.getfixturevalue("pg_server")
