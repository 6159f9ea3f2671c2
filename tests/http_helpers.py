"""Helpers for the HTTP tests: an app on either database, a browser-like tab, an HTML tree and readers of the answers.

Everything here drives the library only through HTTP, the way the page's htmx and client script do
(`static/session_manager.js`): every request from a page carries `view=<data-view of the list body it shows>`,
`cursor` (the focused row's index) and, for moves, `first`/`last` (ids of the window's first and last rows);
every POST carries a fresh `request_id` unless it says otherwise, and htmx's `HX-Request: true`.
"""
import base64
import json
import sqlite3
import uuid
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

from fasthtml.common import FastHTML
from starlette.testclient import TestClient

from cjm_fasthtml_workflow_session_management.models import ColumnSpec
from cjm_fasthtml_workflow_session_management.routes.init import init_session_manager_routers
from cjm_fasthtml_workflow_session_management.services.management import SessionManagementService

FLOW = "demo"
BASE = "http://testserver"
WORKFLOW_URL = "/workflow"
ACTIVE_KEY = "_workflow_session_id"
NOTICE_KEY = "wsm:notice"
SECRET = "test-secret-key-0123456789abcdef"
HX = {"HX-Request": "true", "Origin": BASE, "Sec-Fetch-Site": "same-origin"}  # a same-origin htmx request
PLACEHOLDER = "—"


# --------------------------------------------------------------------------------------------------
# Seeding and inspecting the database
# --------------------------------------------------------------------------------------------------
def ts(i: int) -> str:
    "A fixed SQLite timestamp, `i` minutes after a fixed instant in the past (so relative times are stable)."
    return f"2024-01-0{1 + i // 1440} {(i // 60) % 24:02d}:{i % 60:02d}:00"


def seed(db: Path, rows: List[Dict[str, Any]], flow: str = FLOW) -> None:
    """Insert sessions straight into a SQLite `workflow_state`. Each row: `id` and optionally `label`, `step`,
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


def flow_rows(backend, flow: str = FLOW) -> Dict[str, tuple]:
    "session id -> (label, step, state, created, updated) of the flow's rows, read straight from `workflow_state`."
    prefix = f"{flow}:"
    return {k[len(prefix):]: rest for k, *rest in backend.dump() if k.startswith(prefix)}


def stored_labels(backend, flow: str = FLOW) -> Dict[str, Optional[str]]:
    "session id -> stored label of the flow's sessions."
    return {sid: row[0] for sid, row in flow_rows(backend, flow).items()}


def session_ids(backend, flow: str = FLOW) -> set:
    "Ids of the flow's sessions in the database."
    return set(flow_rows(backend, flow))


def trash_ids(backend, flow: str = FLOW) -> set:
    "Ids of the flow's sessions in the trash table."
    q = "SELECT sid FROM sm2_trash WHERE flow = " + ("?" if backend.name == "sqlite" else "%s")
    return {r[0] for r in backend.sql(q, (flow,))}


def count_tables(backend, flow: str = FLOW) -> dict:
    "What the service's count tables say: sessions, trash and sessions per step of the flow."
    p = "?" if backend.name == "sqlite" else "%s"
    flows = backend.sql(f"SELECT sessions, trash FROM sm2_flows WHERE flow = {p}", (flow,))
    sessions, trash = flows[0] if flows else (0, 0)
    steps = {s: n for s, n in backend.sql(f"SELECT step, sessions FROM sm2_steps WHERE flow = {p}", (flow,)) if n}
    return {"sessions": sessions, "trash": trash, "steps": steps}


def real_counts(backend, flow: str = FLOW) -> dict:
    "The same numbers, counted from the rows themselves."
    rows = flow_rows(backend, flow)
    steps: Dict[str, int] = {}
    for label, step, *_ in rows.values(): steps[step or ""] = steps.get(step or "", 0) + 1
    return {"sessions": len(rows), "trash": len(trash_ids(backend, flow)), "steps": steps}


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


def parse(html) -> Node:
    "Parse an HTML document or fragment (or pass a parsed one through) into a `Node` tree."
    if isinstance(html, Node): return html
    b = _TreeBuilder()
    b.feed(html)
    b.close()
    return b.root


def squash(text: str) -> str: return " ".join(text.split())  # whitespace collapsed, as a reader sees it


# --------------------------------------------------------------------------------------------------
# Readers of the manager's answers
# --------------------------------------------------------------------------------------------------
LIST_BODY, COUNT, ALERT_AREA, LIVE_STATUS = "wsm-list-body", "wsm-count", "wsm-alert-area", "wsm-live-status"


def rows(html) -> List[dict]:
    "The list's rows (`tr[data-session-id]`) in order: id, index (from aria-rowindex), label, Active badge, cursor."
    out = []
    for tr in parse(html).find_all("tr", data_session_id=True):
        head = tr.find("th")
        out.append(dict(id=tr.get("data-session-id"), index=int(tr.get("aria-rowindex")) - 2,
                        label=squash(head.text()).removesuffix(" Active") if head else None,
                        active=tr.find(data_wsm_active="1") is not None, cursor=tr.get("aria-current") == "true"))
    return out


def row_ids(html) -> List[str]: return [r["id"] for r in rows(html)]
def active_ids(html) -> List[str]: return [r["id"] for r in rows(html) if r["active"]]
def cursor_ids(html) -> List[str]: return [r["id"] for r in rows(html) if r["cursor"]]
def labels(html) -> Dict[str, str]: return {r["id"]: r["label"] for r in rows(html)}


def list_body(html) -> Optional[dict]:
    "The list body's data attributes (view, start, rows, total, capped, changes, trash) and whether it is out of band."
    n = parse(html).by_id(LIST_BODY)
    if n is None: return None
    return dict(view=n.get("data-view"), start=int(n.get("data-start")), rows=int(n.get("data-rows")),
                total=int(n.get("data-total")), capped=n.get("data-capped") == "1", changes=int(n.get("data-changes")),
                trash=n.get("data-trash") == "1", oob=n.get("hx-swap-oob"))


def count_text(html) -> Optional[str]:
    "Text of the live count (`#wsm-count`), if the answer has it."
    n = parse(html).by_id(COUNT)
    return squash(n.text()) if n else None


def alert_node(html) -> Optional[Node]:
    "The alert area of an answer."
    return parse(html).by_id(ALERT_AREA)


def alert_text(html) -> str:
    "The alert area's text (whitespace collapsed), '' when absent."
    n = alert_node(html)
    return squash(n.text()) if n else ""


def alert_role(html) -> Optional[str]:
    "role of the alert shown: 'alert' for errors and warnings, 'status' for success and information."
    n = alert_node(html)
    shown = n and (n.find(role="alert") or n.find(role="status"))
    return shown.get("role") if shown else None


def pager_buttons(html) -> Dict[str, bool]:
    "move -> whether its pager button is disabled."
    return {b.get("data-move"): "disabled" in b.attrs for b in parse(html).find_all("button", data_move=True)}


def session_cookie(client: TestClient) -> dict:
    "The decoded (unverified) contents of the client's signed Starlette session cookie ({} when it has none)."
    for name, value in client.cookies.items():
        if name.startswith("session"):
            payload = value.strip('"').split(".")[0]
            return json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    return {}


def forge_session_cookie(client: TestClient, data: dict, secret: str = SECRET) -> None:
    "Give `client` a validly signed session cookie holding `data` (as a user who tampered with the server's own would)."
    from itsdangerous import TimestampSigner
    signed = TimestampSigner(secret).sign(base64.b64encode(json.dumps(data).encode())).decode()
    client.cookies.clear()
    client.cookies.set("session_", signed, domain="testserver.local")  # where the TestClient keeps the server's cookie


def set_cookie_sizes(r) -> List[int]:
    "Length of name=value of each cookie a response sets."
    return [len(v.split(";")[0]) for k, v in r.headers.multi_items() if k.lower() == "set-cookie"]


def request_id() -> str: return uuid.uuid4().hex  # as the client script makes one per action


# --------------------------------------------------------------------------------------------------
# The app and a browser tab
# --------------------------------------------------------------------------------------------------
def default_enricher(state): return {"owner": state.get("owner", ""), "file": state.get("file", "")}
def default_label_generator(summary, state): return state.get("title") or None
def default_step_title(step): return {"upload": "Upload audio", "transcribe": "Transcribe", "review": "Review"}.get(step, step)
DEFAULT_COLUMNS = (ColumnSpec("owner", "Owner", sort_path="$.owner"), ColumnSpec("file", "File"))


@dataclass
class Harness:
    "A FastHTML app with the session manager mounted, over a backend's store."
    backend: Any
    service: SessionManagementService
    res: Any
    app: FastHTML

    @property
    def urls(self): return self.res.urls

    def vc(self, name: str) -> str: return f"{self.urls.prefix}/vc/{name}"  # URL of list route `name` (nav_down, sort...)

    def client(self) -> TestClient:
        "A new browser: its own cookie jar. Server errors come back as 500 responses, so tests can assert on them."
        return TestClient(self.app, base_url=BASE, raise_server_exceptions=False)

    def tab(self, client: Optional[TestClient] = None, **params) -> "Tab":
        "Open the manager page (with view parameters `params` in its URL) in a (new, unless given) browser."
        return Tab.open(self, client or self.client(), **params)


def make_harness(backend, sessions: Optional[List[dict]] = None, *, enricher: Optional[Callable] = default_enricher,
                 label_generator: Optional[Callable] = default_label_generator,
                 get_step_title: Optional[Callable] = default_step_title, column_specs=DEFAULT_COLUMNS,
                 service_kw: Optional[dict] = None, flow: str = FLOW, **router_kw) -> Harness:
    "Seed `backend` with `sessions` (of `flow`), then build the service, the routers and the app."
    if sessions: backend.seed(sessions, flow)
    service = SessionManagementService(backend.store, flow, enricher=enricher, label_generator=label_generator,
                                       get_step_title=get_step_title, **(service_kw or {}))
    res = init_session_manager_routers(service, workflow_url=WORKFLOW_URL, column_specs=list(column_specs or []),
                                       get_step_title=get_step_title, **router_kw)
    app = FastHTML(secret_key=SECRET, default_hdrs=False)
    for r in res.routers: r.to_app(app)
    return Harness(backend, service, res, app)


class Tab:
    """One open page in one browser, as the client script keeps it: the list body it shows last (its view, rows and
    cursor). Every request carries that view, the cursor and the window's first/last ids; POSTs a fresh request id."""
    def __init__(self, h: Harness, client: TestClient, html: str):
        self.h, self.client, self.html = h, client, html
        self.body = list_body(html)
        self.rows = rows(html)
        assert self.body is not None, "the page has no list body"

    @classmethod
    def open(cls, h: Harness, client: TestClient, **params) -> "Tab":
        r = client.get(h.urls.management_page, params=params)
        assert r.status_code == 200, (r.status_code, r.text[:500])
        return cls(h, client, r.text)

    @property
    def view(self) -> str: return self.body["view"]

    def carried(self, move: bool = False) -> dict:
        "What the client script adds to a request from this page."
        p = {"view": self.body["view"] or "start=0"}
        cur = [r for r in self.rows if r["cursor"]]
        if cur: p["cursor"] = str(cur[0]["index"])
        if self.rows: p.update(first=self.rows[0]["id"], last=self.rows[-1]["id"])
        return p

    def _seen(self, r):
        "Take in an answer: a list body in it is now what the page shows."
        if r.status_code < 500 and r.headers.get("content-type", "").startswith("text/html") and (b := list_body(r.text)):
            self.body, self.rows, self.html = b, rows(r.text), r.text
        return r

    def get(self, url: str, params: Optional[dict] = None, headers: Optional[dict] = None, **kw):
        "An htmx GET from this page; `params` override what the page carries."
        return self._seen(self.client.get(url, params={**self.carried(), **(params or {})},
                                          headers={**HX, **(headers or {})}, **kw))

    def post(self, url: str, data: Optional[dict] = None, headers: Optional[dict] = None, **kw):
        "An htmx POST from this page (same-origin headers, a fresh request id unless `data` gives one)."
        body = {**self.carried(), "request_id": request_id(), **(data or {})}
        return self._seen(self.client.post(url, data=body, headers=HX if headers is None else headers, **kw))

    def move(self, name: str, **params):
        "A move of the list (nav_down, nav_page_up, ...), sent as the script sends it; asserts success."
        r = self.get(self.h.vc(name if name.startswith("nav_") else f"nav_{name}"), params)
        assert r.status_code == 200, (name, r.status_code, r.text[:500])
        return r

    def list(self, **params):
        "The list fragment of this page's view (changed by `params`), as the page asks for it; asserts success."
        r = self.get(self.h.urls.list_sessions, params)
        assert r.status_code == 200, (r.status_code, r.text[:500])
        return r

    def json(self, **params) -> dict:
        "The JSON window of this page's view."
        r = self.client.get(self.h.urls.list_sessions, params={"view": self.view or "start=0", **params},
                            headers={"Accept": "application/json"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json"), r.text[:500]
        return r.json()

    def resume(self, session_id: str):
        "Resume a session (it becomes the user's active one); asserts the redirect."
        r = self.post(self.h.urls.resume_session, {"session_id": session_id})
        assert r.status_code == 204 and r.headers.get("hx-redirect") == WORKFLOW_URL, (r.status_code, r.headers)
        return r


def page(h: Harness, client: TestClient, **params) -> str:
    "A fresh page load in `client` (a new tab)."
    r = client.get(h.urls.management_page, params=params)
    assert r.status_code == 200, r.text[:500]
    return r.text


def sessions(n: int, **extra) -> List[dict]:
    "`n` seed rows s000.. labelled 'Run 000'.., newer with each index, at steps upload/transcribe/review in turn."
    steps = ("upload", "transcribe", "review")
    return [dict(id=f"s{i:03d}", label=f"Run {i:03d}", step=steps[i % 3],
                 state={"owner": f"owner{i % 4}", "file": f"file-{i:03d}.wav", **extra}) for i in range(n)]


def newest_first(n: int) -> List[str]: return [f"s{i:03d}" for i in reversed(range(n))]  # the default order of `sessions(n)`
