"""Security and faults over HTTP (issue 7 points 2-3), on both databases unless the fault is SQLite's own.

- Cross-site refusal by Fetch metadata (Go's CrossOriginProtection rule) on every POST route.
- Input that cannot be text (a lone surrogate in JSON, a file where text belongs) is refused or ignored, never stored.
- The cookie stays under 4 KB and holds only what the manager put there, type-checked.
- An unavailable SQLite database answers 503 with words, not a bare 500.
- A fuzz run: random routes, methods and odd values never answer 500, and the counts stay exact.
"""
import json
import os
import random
import shutil
import subprocess
from contextlib import contextmanager

import pytest

from backends import SqliteBackend
from http_helpers import (
    ACTIVE_KEY, BASE, HX, NOTICE_KEY, active_ids, alert_node, alert_text, count_tables, forge_session_cookie,
    make_harness, page, parse, real_counts, session_cookie, set_cookie_sizes, sessions, stored_labels, trash_ids)

N = 6
COOKIE_LIMIT = 4096  # bytes of name=value a browser keeps per cookie


@pytest.fixture
def h(backend):
    return make_harness(backend, sessions(N))


def export_of(h, *ids) -> bytes:
    return h.client().get(h.urls.export_sessions, params={"session_id": list(ids)}).content


def post_requests(h):
    "(name, url, form fields, files) for every POST route, with input a same-origin request carries out."
    u, doc = h.urls, export_of(h, "s000")
    reqs = [("create_session", u.create_session, {"label": "Made here"}, None),
            ("rename_session", u.rename_session, {"session_id": "s000", "label": "Changed"}, None),
            ("delete_session", u.delete_session, {"session_id": "s001"}, None),
            ("resume_session", u.resume_session, {"session_id": "s002"}, None),
            ("duplicate_session", u.duplicate_session, {"session_id": "s003"}, None),
            ("delete_sessions", u.delete_sessions, {"session_id": ["s004"]}, None),
            ("restore_sessions", u.restore_sessions, {"all": "1"}, None),
            ("purge_trash", u.purge_trash, {"all": "1"}, None),
            ("import_sessions", u.import_sessions, {}, {"document": ("x.json", doc, "application/json")}),
            ("activate", h.vc("activate"), {"session_id": "s005"}, None),
            ("sort", h.vc("sort"), {"sort": "label"}, None),
            ("update_viewport", h.vc("update_viewport"), {"rows": "3"}, None),
            ("focus_row", h.vc("focus_row"), {"row_index": "2"}, None)]
    reqs += [(f"nav_{m}", h.vc(f"nav_{m}"), {}, None) for m in ("up", "down", "page_up", "page_down", "first", "last")]
    return reqs


def post_paths(h) -> set:
    "Paths of every route of the manager that answers POST."
    return {r.path for r in h.app.routes if "POST" in getattr(r, "methods", ()) and r.path.startswith(h.urls.prefix)}


def state_of(h, client) -> tuple:
    "Everything a refused request must leave alone: the rows, the trash and the user's cookie."
    return h.backend.dump(), trash_ids(h.backend), session_cookie(client)


# ==================================================================================================
# Cross-site requests
# ==================================================================================================
REFUSED = {
    "Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": "cross-site", "Origin": BASE},
    "Sec-Fetch-Site same-site": {"Sec-Fetch-Site": "same-site"},
    "foreign Origin": {"Origin": "http://evil.example"},
    "look-alike Origin": {"Origin": "http://testserver.evil.example"},
    "Origin of another scheme": {"Origin": "https://testserver"},
    "Origin of another port": {"Origin": "http://testserver:8080"},
    "Origin null": {"Origin": "null"},
}
ALLOWED = {
    "Sec-Fetch-Site same-origin": {"Sec-Fetch-Site": "same-origin", "Origin": BASE},
    "Sec-Fetch-Site none": {"Sec-Fetch-Site": "none"},
    "same Origin, no Fetch metadata": {"Origin": BASE},
    "neither header": {},
}


def test_the_list_of_post_routes_is_complete(h):
    "The cross-site tests cover every POST route the manager serves (a new route must join `post_requests`)."
    assert {url.split("?")[0] for _, url, _, _ in post_requests(h)} == post_paths(h)


@pytest.mark.parametrize("case", list(REFUSED))
def test_cross_site_posts_are_refused_and_change_nothing(h, case):
    """Every POST route answers 403 with an alert, without a redirect, and changes neither the database nor the
    user's cookie, for a cross-site (or cross-origin) browser request; htmx or not makes no difference."""
    client = h.client()
    h.tab(client).resume("s005")
    h.service.delete_session("s000")  # something in the trash for restore and purge
    before = state_of(h, client)
    for name, url, data, files in post_requests(h):
        for htmx in ({"HX-Request": "true"}, {}):
            r = client.post(url, data=data, files=files, headers={**REFUSED[case], **htmx}, follow_redirects=False)
            assert r.status_code == 403, (case, name, r.status_code)
            assert alert_text(r.text) and "hx-redirect" not in r.headers and "location" not in r.headers, (case, name)
            assert state_of(h, client) == before, (case, name)


@pytest.mark.parametrize("case", list(ALLOWED))
def test_same_origin_and_plain_posts_are_allowed(backend, case):
    """Same-origin, user-initiated (none), same-Origin-only and header-less requests (scripts, host test clients)
    pass the check on every POST route: none answers 403, and the create really happened."""
    h = make_harness(backend, sessions(N))
    client = h.client()
    before = set(stored_labels(h.backend))
    for name, url, data, files in post_requests(h):
        r = client.post(url, data=data, files=files, headers=ALLOWED[case], follow_redirects=False)
        assert r.status_code != 403 and r.status_code < 500, (case, name, r.status_code, alert_text(r.text))
    assert "Made here" in {stored_labels(h.backend)[s] for s in set(stored_labels(h.backend)) - before}


def test_trusted_origin_may_post(backend):
    "An origin in `trusted_origins` may post cross-site; other origins still may not."
    h = make_harness(backend, sessions(N), trusted_origins=("https://front.example",))
    client = h.client()
    r = client.post(h.urls.rename_session, data={"session_id": "s000", "label": "From the front end"},
                    headers={"Origin": "https://front.example", "Sec-Fetch-Site": "cross-site", "HX-Request": "true"})
    assert r.status_code == 200 and stored_labels(h.backend)["s000"] == "From the front end"
    for origin in ("https://other.example", "http://front.example", "https://front.example.evil.example"):
        r = client.post(h.urls.rename_session, data={"session_id": "s000", "label": "No"},
                        headers={"Origin": origin, "Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 403, origin
    assert stored_labels(h.backend)["s000"] == "From the front end"


# ==================================================================================================
# Input that is not text
# ==================================================================================================
SURROGATE_BODIES = [b'{"label": "\\ud800", "session_id": "s001"}', b'{"session_id": "\\udfff"}',
                    b'{"session_id": "s001", "view": "\\ud800"}', b'{"\\ud800": "\\ud800"}', b'{"request_id": ["\\ud800"]}']


def test_a_lone_surrogate_in_a_json_body_answers_4xx_on_every_post_route(h):
    """A JSON body holding a lone surrogate (valid JSON, not valid text), sent as raw bytes, answers 4xx with a
    message on every POST route (in a value, in a list, or as a field's name), and changes nothing."""
    client = h.client()
    before, wrong = state_of(h, client), []
    for raw in SURROGATE_BODIES:
        for name, url, _, _ in post_requests(h):
            r = client.post(url, content=raw, headers={**HX, "Content-Type": "application/json"})
            if not (400 <= r.status_code < 500 and r.text.strip()): wrong.append((raw.decode(), name, r.status_code))
    assert not wrong, f"not answered 4xx: {wrong}"
    assert state_of(h, client) == before


def test_a_file_where_a_text_field_belongs_is_never_stored(h):
    """A repeated form field whose last value is a file upload (label=text, then label=<file>) never stores
    "UploadFile(...)": rename and create store the text value, and a file as the only label stores none."""
    client = h.client()
    upload = {"label": ("label.txt", b"file contents", "text/plain")}
    r = client.post(h.urls.rename_session, data={"session_id": "s001", "label": "typed"}, files=upload, headers=HX)
    assert r.status_code == 200 and stored_labels(h.backend)["s001"] == "typed"
    before = set(stored_labels(h.backend))
    client.post(h.urls.create_session, data={"label": "typed too"}, files=upload, headers=HX)
    client.post(h.urls.create_session, files=upload, headers=HX)
    client.post(h.urls.rename_session, data={"session_id": "s002"}, files=upload, headers=HX)
    client.post(h.urls.delete_session, data={"session_id": "s003"}, files={"session_id": ("x", b"s004", "text/plain")},
                headers=HX)
    labels = stored_labels(h.backend)
    assert not any("UploadFile" in (v or "") or "label.txt" in (v or "") for v in labels.values()), labels
    assert "typed too" in {labels[s] for s in set(labels) - before}
    assert labels["s002"] == "Run 002" and "s004" in labels


# ==================================================================================================
# The cookie
# ==================================================================================================
LONG_LABELS = {"ascii": "a" * 200, "latin": "é" * 200, "cjk": "検" * 200, "emoji": "😀" * 200,
               "quotes": '"\\' * 100, "mixed": ("Ünïcödé 検索 😀 " * 20)[:200]}


@pytest.mark.parametrize("kind", list(LONG_LABELS))
def test_deleting_the_active_session_from_detail_keeps_the_cookie_under_4kb(backend, kind):
    """Deleting the active session from the detail view stores a notice naming it and the next active one, both with
    200-character labels: whatever the script, every Set-Cookie stays within 4 KB (else the browser drops it and the
    deleted session stays active), and the cookie holds only the active id and a bounded notice."""
    h = make_harness(backend, [dict(id=f"x{i}", label=LONG_LABELS[kind][:199] + str(i)) for i in range(3)])
    tab = h.tab()
    tab.resume("x2")
    r = tab.post(h.urls.delete_session, {"session_id": "x2", "context": "detail"})
    assert r.status_code in (200, 204) and r.headers["hx-redirect"] == h.urls.management_page
    assert max(set_cookie_sizes(r)) <= COOKIE_LIMIT, f"Set-Cookie of {max(set_cookie_sizes(r))} bytes"
    sess = session_cookie(tab.client)
    assert set(sess) <= {ACTIVE_KEY, NOTICE_KEY} and sess[ACTIVE_KEY] == "x1"
    assert active_ids(page(h, tab.client)) == ["x1"]


FORGED_NOTICES = [{"text": ["<b>list</b>"]}, {"text": {"<b>": "dict"}}, {"text": 42}, "<b>a bare string</b>", 7, None,
                  ["<b>x</b>"], {"text": None, "batch": "<b>"}, {"batch": "abc"}]


@pytest.mark.parametrize("notice", FORGED_NOTICES, ids=range(len(FORGED_NOTICES)))
def test_a_forged_notice_renders_nothing(h, notice):
    """A validly signed cookie whose notice is not {"text": <str>, ...} (a secret leaked, or an older app wrote it)
    renders no alert and none of its content, and the page still answers 200; a non-string active id shows no badge."""
    client = h.client()
    forge_session_cookie(client, {NOTICE_KEY: notice, ACTIVE_KEY: ["s001"]})
    html = page(h, client)
    assert alert_text(html) == "" and not parse(html).find("b"), alert_node(html)
    assert active_ids(html) == []


def test_a_forged_notice_with_text_renders_as_text(h):
    "A notice whose text holds markup renders it as text (escaped), and an odd batch gets no Undo."
    client = h.client()
    forge_session_cookie(client, {NOTICE_KEY: {"text": "<b>bold</b>", "batch": "<script>"}})
    html = page(h, client)
    assert alert_text(html) == "<b>bold</b>" and not parse(html).find("b")
    assert parse(html).find(data_wsm_undo=True) is None


# ==================================================================================================
# An unavailable SQLite database
# ==================================================================================================
@contextmanager
def read_only(path):
    """Make a SQLite file and its folder read-only for this process: chmod, and for root (whom chmod does not stop)
    the immutable attribute. Skips the test when neither works here."""
    folder, files = path.parent, [p for p in path.parent.iterdir()]
    immutable = os.geteuid() == 0 and shutil.which("chattr")
    targets = [str(p) for p in files] + [str(folder)]
    if immutable:
        if subprocess.run(["chattr", "+i", *targets], capture_output=True).returncode != 0: pytest.skip("chattr +i failed")
    else:
        for p in files: os.chmod(p, 0o444)
        os.chmod(folder, 0o555)
    try:
        try: (folder / "probe").write_text("x")
        except OSError: pass
        else: pytest.skip("cannot make the database read-only here")
        yield
    finally:
        if immutable: subprocess.run(["chattr", "-i", *targets], check=True)
        else:
            os.chmod(folder, 0o755)
            for p in files: os.chmod(p, 0o644)


def write_requests(h):
    "(name, url, form fields, files) of the POST routes that write."
    return [r for r in post_requests(h) if not r[0].startswith("nav_") and r[0] not in ("sort", "update_viewport", "focus_row")]


def assert_unavailable(r, where):
    "503 with the alert that says what is wrong."
    assert r.status_code == 503, (where, r.status_code, r.text[:200])
    assert "not available" in alert_text(r.text), (where, alert_text(r.text))


def test_a_read_only_database_answers_503_with_a_message(tmp_path):
    """With the SQLite file (and its folder) read-only, every writing route answers 503 with the alert "The session
    database is not available right now (it may be read-only, ...)", never a bare 500; nothing changes."""
    (tmp_path / "db").mkdir()
    backend = SqliteBackend(tmp_path / "db" / "state.db")
    h = make_harness(backend, sessions(N))
    h.service.delete_session("s000")
    client = h.client()
    h.tab(client)
    before, wrong, requests = h.backend.dump(), [], write_requests(h)
    with read_only(backend.target):
        for name, url, data, files in requests:
            r = client.post(url, data=data, files=files, headers=HX)
            try: assert_unavailable(r, name)
            except AssertionError: wrong.append((name, r.status_code))
        r = client.get(h.urls.management_page)  # reading may work, or say what is wrong
        assert r.status_code == 200 or (r.status_code == 503 and "not available" in r.text), r.status_code
    assert not wrong, f"not answered 503 with the message: {wrong}"
    assert h.backend.dump() == before


def test_a_vanished_database_answers_503_with_a_message(tmp_path):
    """When the SQLite file is deleted under a running app, the page, the list and every writing route answer 503
    with the message (not 500, and without silently starting an empty database)."""
    backend = SqliteBackend(tmp_path / "state.db")
    h = make_harness(backend, sessions(N))
    client = h.client()
    h.tab(client)
    requests = write_requests(h)
    for p in tmp_path.iterdir():
        if p.name.startswith("state.db"): p.unlink()
    wrong = []
    for name, url in (("page", h.urls.management_page), ("list", h.urls.list_sessions), ("changes", h.urls.changes)):
        r = client.get(url, headers=HX)
        if r.status_code != 503 or "not available" not in r.text: wrong.append((name, r.status_code))
    for name, url, data, files in requests:
        r = client.post(url, data=data, files=files, headers=HX)
        if r.status_code != 503 or "not available" not in alert_text(r.text): wrong.append((name, r.status_code))
    assert not wrong, f"not answered 503 with the message: {wrong}"


# ==================================================================================================
# Fuzz
# ==================================================================================================
ODD_VALUES = ["", " ", "0", "-1", "1", "2", "99999999999999999999", "1e9", "nan", "s001", "s000", "demo:s001", "a:b",
              "\x00", "\x1f", "\u200b", "é", "検索", "😀", "<script>alert(1)</script>", "' OR 1=1 --", "%", "_", "%00",
              "x" * 5000, "y" * 201, "trash=1", "q=run&rows=0", "sort=nope", "start=-5&rows=101", "label", "status",
              "asc", "desc", "day", "old", "upload", "\ud800", "../../etc/passwd", "true", "null", "[]", "{}"]
PARAM_NAMES = ["session_id", "label", "view", "q", "sort", "dir", "step", "age", "unlabelled", "start", "rows", "trash",
               "page", "cursor", "first", "last", "all", "batch", "request_id", "context", "filters", "live", "shown",
               "total", "row_index", "visible_rows", "column", "document"]


def fuzz_request(rng, h):
    "One random request: (method, url, keyword arguments for the client)."
    urls = [getattr(h.urls, n) for n in ("management_page", "list_sessions", "session_detail", "create_session",
                                           "delete_session", "rename_session", "resume_session", "duplicate_session",
                                           "delete_sessions", "restore_sessions", "purge_trash", "export_sessions",
                                           "import_sessions", "changes")]
    urls += [h.vc(n) for n in ("nav_up", "nav_down", "nav_page_up", "nav_page_down", "nav_first", "nav_last", "sort",
                               "update_viewport", "focus_row", "activate")]
    url = rng.choice(urls).split("?")[0]
    method = rng.choice(["GET", "GET", "POST", "POST", "POST", "PUT", "DELETE", "HEAD"])
    pairs = [(rng.choice(PARAM_NAMES), rng.choice(ODD_VALUES)) for _ in range(rng.randint(0, 6))]
    headers = dict(rng.choice([HX, HX, {"Sec-Fetch-Site": "same-origin"}, {}, {"Accept": "application/json"},
                               {"Sec-Fetch-Site": "cross-site"}, {"If-None-Match": '"1"'}]))
    safe = [(k, v.encode("utf-8", "surrogatepass").decode("utf-8", "replace")) for k, v in pairs]
    kind = rng.choice(["query", "form", "json", "multipart"]) if method == "POST" else "query"
    if kind == "query": return method, url, dict(params=safe, headers=headers)
    if kind == "form": return method, url, dict(data=dict(safe), headers=headers)
    if kind == "json":
        body = json.dumps(dict(pairs), ensure_ascii=True).encode()  # lone surrogates travel as \ud800 escapes
        return method, url, dict(content=body, headers={**headers, "Content-Type": "application/json"})
    blob = rng.choice([b"", b"{", export_of(h, "s001"), os.urandom(64), b'{"format": "cjm-workflow-sessions"}'])
    return method, url, dict(data=dict(safe), files={rng.choice(["document", "label", "x"]): ("f.json", blob)},
                             headers=headers)


def test_fuzz_never_answers_500_and_keeps_the_counts_exact(h):
    """300 random requests (every route, methods, repeated and odd parameters, huge values, bodies of every kind)
    from two browsers never answer 500, and afterwards the count tables equal the real counts."""
    rng = random.Random(20240601)
    clients = [h.client(), h.client()]
    five_hundreds = []
    for i in range(300):
        method, url, kw = fuzz_request(rng, h)
        r = rng.choice(clients).request(method, url, follow_redirects=False, **kw)
        if r.status_code >= 500 and r.status_code != 503:
            five_hundreds.append((i, method, url.rsplit("/", 1)[-1], {k: (str(v)[:40]) for k, v in kw.items() if k != "headers"}))
    assert count_tables(h.backend) == real_counts(h.backend)
    assert not five_hundreds, f"{len(five_hundreds)} answers of 500, e.g. {five_hundreds[:5]}"
    assert all(c.get(h.urls.management_page).status_code == 200 for c in clients)
