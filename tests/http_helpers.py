"""Helpers for the HTTP tests: an app on a real SQLite file, a browser-like tab, an HTML tree and DB snapshots.

Everything here drives the library only through HTTP, the way the page's htmx and client script do:
every request from a page carries that page's view id (`hx-vals` on `#sm-root`) and `HX-Request: true`.
"""
import base64
import json
import sqlite3
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

from cjm_workflow_state.state_store import SQLiteWorkflowStateStore
from fasthtml.common import FastHTML
from starlette.testclient import TestClient

from cjm_fasthtml_workflow_session_management.models import ColumnSpec
from cjm_fasthtml_workflow_session_management.routes.init import init_session_manager_routers
from cjm_fasthtml_workflow_session_management.services.management import SessionManagementService

FLOW = "demo"
BASE = "http://testserver"
WORKFLOW_URL = "/workflow"
ACTIVE_KEY = "_workflow_session_id"
HX = {"HX-Request": "true", "Origin": BASE, "Sec-Fetch-Site": "same-origin"}  # a same-origin htmx POST
PLACEHOLDER = "—"


# --------------------------------------------------------------------------------------------------
# Seeding and inspecting the database
# --------------------------------------------------------------------------------------------------
def ts(i: int) -> str:
    "A fixed SQLite timestamp, `i` minutes after a fixed instant in the past (so relative times are stable)."
    return f"2024-01-0{1 + i // 1440} {(i // 60) % 24:02d}:{i % 60:02d}:00"


def seed(db: Path, rows: List[Dict[str, Any]], flow: str = FLOW) -> None:
    """Insert sessions straight into `workflow_state`. Each row: `id` and optionally `label`, `step`,
    `state` (dict), `created`/`updated` (timestamps); missing timestamps are distinct and increase with position."""
    data = []
    for i, r in enumerate(rows):
        stamp = r.get("updated", ts(i))
        data.append((f"{flow}:{r['id']}", r.get("label"), r.get("step"), json.dumps(r.get("state", {})),
                     r.get("created", stamp), stamp))
    with sqlite3.connect(db) as c:
        c.executemany("INSERT INTO workflow_state (flow_session_key, label, current_step, state_json, created_at,"
                      " updated_at) VALUES (?,?,?,?,?,?)", data)
    c.close()


def db_dump(db: Path) -> list:
    "Every row of `workflow_state` (and of the service's count table, if it exists), in key order."
    c = sqlite3.connect(db)
    try:
        dump = [tuple(r) for r in c.execute("SELECT * FROM workflow_state ORDER BY 1")]
        if c.execute("SELECT 1 FROM sqlite_master WHERE name = 'sm1_flow_counts'").fetchone():
            dump += [("counts",) + tuple(r) for r in c.execute("SELECT * FROM sm1_flow_counts ORDER BY 1")]
        return dump
    finally: c.close()


def db_snapshot(db: Path) -> tuple:
    "The logical dump plus the database file's bytes after folding the WAL back into it."
    dump = db_dump(db)
    c = sqlite3.connect(db)
    try: c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally: c.close()
    return dump, Path(db).read_bytes()


def stored_labels(db: Path, flow: str = FLOW) -> Dict[str, Optional[str]]:
    "session id -> stored label of the flow's sessions."
    c = sqlite3.connect(db)
    try:
        return {k[len(flow) + 1:]: lbl for k, lbl in
                c.execute("SELECT flow_session_key, label FROM workflow_state WHERE flow_session_key LIKE ?", (flow + ":%",))}
    finally: c.close()


def session_ids(db: Path, flow: str = FLOW) -> set:
    "Ids of the flow's sessions in the database."
    return set(stored_labels(db, flow))


# --------------------------------------------------------------------------------------------------
# A small DOM over html.parser
# --------------------------------------------------------------------------------------------------
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    "An element of a parsed document: tag, attributes (None for valueless ones), children (Nodes and str)."
    def __init__(self, tag: str, attrs: Dict[str, Optional[str]], parent: Optional["Node"] = None):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    def get(self, name: str, default=None): return self.attrs.get(name, default)

    def text(self) -> str:
        "All text inside, as the browser's textContent would give it."
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> Iterator["Node"]:
        yield self
        for c in self.children:
            if isinstance(c, Node): yield from c.iter()

    def find_all(self, tag: Optional[str] = None, **attrs) -> List["Node"]:
        "Descendants (and self) with `tag` whose attributes include `attrs` (`True` = present; `_` in names means `-`)."
        want = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [n for n in self.iter() if (tag is None or n.tag == tag)
                and all((k in n.attrs) if v is True else n.attrs.get(k) == v for k, v in want.items())]

    def find(self, tag: Optional[str] = None, **attrs) -> Optional["Node"]:
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def by_id(self, id_: str) -> Optional["Node"]: return self.find(id=id_)

    def __repr__(self): return f"<{self.tag} {self.attrs}>"


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.cur)
        self.cur.children.append(node)
        if tag not in VOID: self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, dict(attrs), self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag: n = n.parent
        if n is not None and n.parent is not None: self.cur = n.parent

    def handle_data(self, data): self.cur.children.append(data)


def parse(html: str) -> Node:
    "Parse an HTML document or fragment into a `Node` tree."
    b = _TreeBuilder()
    b.feed(html)
    b.close()
    return b.root


def rows(html_or_node) -> List[dict]:
    """The session rows in document order: id, label text, whether it shows the Active badge and the cursor.
    Reads the list's `[data-session-id]` holders (a detail view holds one too)."""
    root = parse(html_or_node) if isinstance(html_or_node, str) else html_or_node
    out = []
    for holder in root.find_all(data_session_id=True):
        label = holder.find(data_sm_label=True)
        out.append(dict(id=holder.get("data-session-id"), label=label.text() if label else None,
                        active=bool(holder.find_all(data_sm_active="1")), cursor=holder.get("data-sm-cursor") == "1"))
    return out


def row_ids(html) -> List[str]: return [r["id"] for r in rows(html)]
def active_ids(html) -> List[str]: return [r["id"] for r in rows(html) if r["active"]]
def cursor_ids(html) -> List[str]: return [r["id"] for r in rows(html) if r["cursor"]]


def aria_sort(html) -> Dict[str, str]:
    "Sortable column key -> its aria-sort value, as the header shows it."
    return {n.get("data-sm-sort"): n.get("aria-sort") for n in parse(html).find_all(data_sm_sort=True)}


def count_text(html) -> Optional[str]:
    "Text of the live count (`#sm-count`), if the document has it."
    n = parse(html).by_id("sm-count")
    return n.text().strip() if n else None


def count_number(html) -> Optional[int]:
    "The number in the live count."
    t = count_text(html)
    return None if t is None else int(t.split()[0].replace(",", ""))


def search_value(html) -> Optional[str]:
    "The search box's value."
    n = parse(html).by_id("sm-search")
    return None if n is None else n.get("value", "")


def alert_node(html) -> Optional[Node]:
    "The alert area element of a response."
    return parse(html).by_id("sm-alerts")


def alert_text(html) -> str:
    "The alert area's text (whitespace collapsed), '' when absent."
    n = alert_node(html)
    return " ".join(n.text().split()) if n else ""


def view_id(html: str) -> str:
    "The page's view id, from `hx-vals` on `#sm-root`."
    root = parse(html).by_id("sm-root")
    assert root is not None, "page has no #sm-root"
    return json.loads(root.get("hx-vals"))["view"]


def session_cookie(client: TestClient) -> dict:
    "The decoded (unverified) contents of the client's signed Starlette session cookie ({} when it has none)."
    for name, value in client.cookies.items():
        if name.startswith("session"):
            payload = value.strip('"').split(".")[0]
            return json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    return {}


# --------------------------------------------------------------------------------------------------
# The app and a browser tab
# --------------------------------------------------------------------------------------------------
def default_enricher(summary, state): return {"owner": state.get("owner", "")}
def default_label_generator(summary, state): return state.get("title") or None
def default_step_title(step): return f"Step {step.upper()}"


@dataclass
class Harness:
    "A FastHTML app with the session manager mounted, over a real SQLite file."
    db: Path
    store: SQLiteWorkflowStateStore
    service: SessionManagementService
    res: Any
    app: FastHTML

    @property
    def urls(self): return self.res.urls

    def vc(self, name: str, **params) -> str:
        "URL of collection route `name` (`nav_down`, `sort`, ...), with query parameters."
        url = f"{self.urls.management_page.rstrip('/')}/vc/{name}"
        return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")

    def client(self) -> TestClient:
        "A new browser: its own cookie jar. Server errors come back as 500 responses, so tests can assert on them."
        return TestClient(self.app, base_url=BASE, raise_server_exceptions=False)

    def tab(self, client: Optional[TestClient] = None) -> "Tab":
        "Open the manager page in a (new, unless given) browser."
        return Tab.open(self, client or self.client())


def make_harness(tmp_path: Path, rows: Optional[List[dict]] = None, *, name: str = "state.db",
                 enricher: Optional[Callable] = default_enricher, label_generator: Optional[Callable] = default_label_generator,
                 get_step_title: Optional[Callable] = default_step_title,
                 column_specs: Optional[List[ColumnSpec]] = None, **router_kw) -> Harness:
    "Seed a fresh database with `rows`, then build the service, the routers and the app."
    db = tmp_path / name
    store = SQLiteWorkflowStateStore(db)
    if rows: seed(db, rows)
    service = SessionManagementService(store, FLOW, enricher=enricher, label_generator=label_generator)
    res = init_session_manager_routers(service, workflow_url=WORKFLOW_URL,
                                       column_specs=column_specs or [ColumnSpec("owner", "Owner")],
                                       get_step_title=get_step_title, **router_kw)
    app = FastHTML(secret_key="test-secret-key-0123456789abcdef", default_hdrs=False)
    for r in res.routers: r.to_app(app)
    return Harness(db, store, service, res, app)


class Tab:
    "One page load in one browser: requests carry its view id, POSTs carry htmx's same-origin headers."
    def __init__(self, h: Harness, client: TestClient, html: str):
        self.h, self.client, self.html = h, client, html
        self.view = view_id(html)

    @classmethod
    def open(cls, h: Harness, client: TestClient) -> "Tab":
        r = client.get(h.urls.management_page)
        assert r.status_code == 200, r.text
        return cls(h, client, r.text)

    def post(self, url: str, headers: Optional[dict] = None, **data):
        "POST from this page (view id included), with `headers` (same-origin htmx by default)."
        return self.client.post(url, data={"view": self.view, **data}, headers=HX if headers is None else headers)

    def list(self) -> str:
        "The list fragment of this tab's view, as htmx would fetch it."
        r = self.client.get(self.h.urls.list_sessions, params={"view": self.view}, headers={"HX-Request": "true"})
        assert r.status_code == 200, r.text
        return r.text

    def json(self) -> dict:
        "The JSON window of this tab's view."
        r = self.client.get(self.h.urls.list_sessions, params={"view": self.view}, headers={"Accept": "application/json"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json"), r.text
        return r.json()

    def nav(self, name: str, **data):
        "POST collection route `name` (e.g. nav_down); asserts success."
        r = self.post(self.h.vc(name), **data)
        assert r.status_code == 200, (name, r.status_code, r.text)
        return r

    def sort(self, column: str):
        r = self.post(self.h.vc("sort", column=column))
        assert r.status_code == 200, r.text
        return r

    def search(self, q: str):
        r = self.post(self.h.urls.search, q=q)
        assert r.status_code == 200, r.text
        return r

    def resume(self, session_id: str):
        r = self.post(self.h.urls.resume_session, session_id=session_id)
        assert r.status_code == 200 and r.headers.get("hx-redirect") == WORKFLOW_URL, (r.status_code, r.headers, r.text)
        return r


def page(h: Harness, client: TestClient) -> str:
    "A fresh page load in `client` (a new tab)."
    r = client.get(h.urls.management_page)
    assert r.status_code == 200, r.text
    return r.text
