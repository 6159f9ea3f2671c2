"""The view in the URL (issue 9 point 4, issue 12 point 1), through HTTP on both databases.

A page load's query string is its view; every request from the page carries `view=<data-view of its list body>`
plus what its control changes. Nothing of the view lives in the cookie, so tabs are independent.
"""
import json
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl

import pytest

from cjm_fasthtml_workflow_session_management.models import SessionQuery

from http_helpers import (
    ACTIVE_KEY, NOTICE_KEY, alert_node, alert_role, alert_text, count_text, cursor_ids, list_body, make_harness, page, parse,
    row_ids, rows, session_cookie, squash, stored_labels)

N = 30
STEPS = ("upload", "transcribe", "review")


def view_sessions():
    """30 sessions "Run 0".."Run 29" (not zero-padded: natural order matters), every fifth unlabelled with a generated
    title, at three steps in turn, four owners; all updated in 2024 (so "older than 30 days")."""
    out = []
    for i in range(N):
        label = None if i % 5 == 0 else f"Run {i}"
        out.append(dict(id=f"v{i:02d}", label=label, step=STEPS[i % 3],
                        state={"owner": f"owner{i % 4}", "file": f"f{i}.wav", "title": f"Title {i}", "pad": "x" * i}))
    return out


@pytest.fixture
def h(backend):
    return make_harness(backend, view_sessions())


def window(h, start=0, limit=10, **query):
    "Ids of a window, read straight from the service (the oracle the HTTP answers are compared with)."
    with h.service.reader() as r:
        return [i.session_id for i in r.page(SessionQuery(**query), start, limit).items]


def month_ago() -> str: return f"{datetime.now(timezone.utc) - timedelta(days=30):%Y-%m-%d %H:%M:%S}"


def pairs(view: str) -> set: return set(parse_qsl(view))


def assert_error(r, where=""):
    "A 4xx answer whose body is an error alert (role=alert) with words in it, swapped into the alert area."
    assert 400 <= r.status_code < 500, (where, r.status_code, r.text[:300])
    area = alert_node(r.text)
    assert area is not None and area.get("hx-swap-oob"), (where, r.text[:300])
    assert alert_role(r.text) == "alert" and alert_text(r.text), (where, r.text[:300])


# ==================================================================================================
# A URL restores its view
# ==================================================================================================
def url_cases(h):
    "(URL parameters, (start, rows, query kwargs) of the window they must show)."
    owner = h.service.add_host_sort("owner", "$.owner")
    return [
        ({"sort": "label", "dir": "asc"}, (0, 10, dict(order_by="label", descending=False))),
        ({"sort": "label"}, (0, 10, dict(order_by="label", descending=True))),
        ({"sort": "status", "dir": "asc"}, (0, 10, dict(order_by="step", descending=False))),
        ({"sort": "size", "dir": "desc"}, (0, 10, dict(order_by="size"))),
        ({"sort": "created", "dir": "asc"}, (0, 10, dict(order_by="created_at", descending=False))),
        ({"sort": "owner", "dir": "asc"}, (0, 10, dict(order_by=owner, descending=False))),
        ({"dir": "asc"}, (0, 10, dict(descending=False))),
        ({"q": "run 1"}, (0, 10, dict(search="run 1"))),
        ({"q": "TITLE"}, (0, 10, dict(search="title"))),
        ({"step": "review"}, (0, 10, dict(steps=("review",)))),
        ({"step": ["upload", "review"]}, (0, 10, dict(steps=("upload", "review")))),
        ({"age": "old"}, (0, 10, dict(updated_before=month_ago()))),
        ({"unlabelled": "1"}, (0, 10, dict(unlabelled=True))),
        ({"start": "7"}, (7, 10, {})),
        ({"rows": "4"}, (0, 4, {})),
        ({"rows": "4", "start": "8"}, (8, 4, {})),
        ({"sort": "label", "dir": "asc", "q": "run", "step": ["upload", "review"], "age": "old", "start": "2", "rows": "3"},
         (2, 3, dict(order_by="label", descending=False, search="run", steps=("upload", "review"), updated_before=month_ago()))),
    ]


def test_every_view_parameter_in_the_url_restores_its_view(h):
    """GET management_page with each view parameter (and all together) shows exactly the window the service reads
    for that view, and the list body's data-view names the parameters (sort always with its direction)."""
    client = h.client()
    for params, (start, limit, query) in url_cases(h):
        html = page(h, client, **params)
        body = list_body(html)
        assert row_ids(html) == window(h, start, limit, **query), params
        assert (body["start"], body["rows"]) == (start, limit), (params, body)
        given = {(k, v) for k, vs in params.items() for v in (vs if isinstance(vs, list) else [vs])}
        if "sort" in params: given.add(("dir", params.get("dir", "desc")))
        if "dir" in params and "sort" not in params: given |= {("sort", "updated")}
        assert pairs(body["view"]) == given, (params, body["view"])


def test_the_page_shows_its_view_in_its_controls(h):
    "The restored view shows in the search box, the sort header, the filter menu, the count and the pager."
    html = page(h, h.client(), sort="label", dir="asc", q="run", step="review", age="old", rows="3", start="3")
    doc = parse(html)
    assert doc.by_id("wsm-search").get("value") == "run"
    header = doc.find("button", data_sort="label").parent
    assert header.get("aria-sort") == "ascending"
    filters = doc.by_id("wsm-filters")
    checked = {i.get("value") for i in filters.find_all("input", name="step") if "checked" in i.attrs}
    assert checked == {"review"}
    assert [i.get("value") for i in filters.find_all("input", name="age") if "checked" in i.attrs] == ["old"]
    total = len(window(h, 0, 100, search="run", steps=("review",), updated_before=month_ago()))
    assert count_text(html) == f"{total} matching sessions"
    assert doc.find("input", name="page").get("value") == "2"


def test_label_sort_from_the_url_is_natural_and_mixes_generated_labels(h):
    """sort=label&dir=asc orders what the user sees: stored "Run N" labels in natural order (Run 2 < Run 12),
    generated "Title N" labels among them by their own text (case-insensitively)."""
    html = page(h, h.client(), sort="label", dir="asc", rows="100")
    def natural(label):
        word, num = label.rsplit(" ", 1)
        return (word.casefold(), int(num))
    shown = [r["label"] for r in rows(html)]
    assert len(shown) == N and shown == sorted(shown, key=natural)
    assert shown.index("Run 2") < shown.index("Run 12") and "Title 0" in shown


def test_data_view_round_trips(h):
    """The list body's data-view, loaded as a URL or sent back as `view=`, shows the same window again, and
    a move's answer carries a data-view that does the same."""
    client = h.client()
    first = page(h, client, sort="owner", dir="desc", q="run", step="upload", rows="3", start="3")
    view = list_body(first)["view"]
    again = page(h, client, **dict(parse_qsl(view)))
    assert row_ids(again) == row_ids(first) and list_body(again)["view"] == view
    tab = h.tab(client, **dict(parse_qsl(view)))
    r = tab.list()
    assert row_ids(r.text) == row_ids(first) and list_body(r.text)["view"] == view
    moved = tab.move("nav_page_down")
    moved_view = list_body(moved.text)["view"]
    assert ("start", "6") in pairs(moved_view)
    assert row_ids(page(h, client, **dict(parse_qsl(moved_view)))) == row_ids(moved.text)


def test_trash_view_in_the_url(h):
    "trash=1 in the URL shows the trash (its rows, newest deletion first, and its count); data-view says trash=1."
    h.service.delete_sessions(["v03", "v04", "v05"])
    html = page(h, h.client(), trash="1")
    body = list_body(html)
    assert body["trash"] and ("trash", "1") in pairs(body["view"]) and body["total"] == 3
    assert set(row_ids(html)) == {"v03", "v04", "v05"}
    assert row_ids(html) == [t.session_id for t in h.service.read_trash(0, 10).items]
    assert count_text(html) == "3 in the trash"


BAD_URL_VALUES = [{"sort": "nope"}, {"sort": "actions"}, {"dir": "sideways"}, {"rows": "0"}, {"rows": "101"},
                  {"rows": "x"}, {"start": "-3"}, {"start": "abc"}, {"start": "9" * 40}, {"age": "century"},
                  {"unlabelled": "yes"}, {"trash": "2"}, {"page": "0"}, {"page": "-1"}, {"view": "%%%"}]


def test_invalid_url_values_fall_back_to_the_default_view(h):
    "A bookmarked URL with values the list cannot use still answers 200, with the default view for those values."
    client = h.client()
    default = row_ids(page(h, client))
    for params in BAD_URL_VALUES:
        r = client.get(h.urls.management_page, params=params)
        assert r.status_code == 200, (params, r.status_code)
        assert row_ids(r.text) == default and list_body(r.text)["view"] == "", (params, list_body(r.text))
    long = client.get(h.urls.management_page, params={"q": "r" * 300})
    assert long.status_code == 200 and len(dict(parse_qsl(list_body(long.text)["view"]))["q"]) <= 200


BAD_CONTROL_VALUES = [  # (route name or list, parameters a page control sent)
    ("sort", {"sort": "nope"}), ("sort", {"column": "actions"}), ("sort", {"sort": "label", "dir": "sideways"}),
    ("update_viewport", {"rows": "0"}), ("update_viewport", {"rows": "101"}), ("update_viewport", {"visible_rows": "x"}),
    ("list", {"rows": "0"}), ("list", {"q": "q" * 201}), ("list", {"age": "century"}), ("list", {"start": "-1"}),
    ("list", {"page": "0"}), ("list", {"sort": "nope"}), ("focus_row", {"row_index": "abc"}),
]


def test_invalid_control_values_answer_4xx_with_an_alert(h):
    """Values a page control sends are checked: an unknown sort column, rows outside 1-100, a search over 200
    characters, an unknown age filter... each answers 4xx with an error alert, and changes nothing."""
    tab = h.tab(sort="label", dir="asc")
    shown, before, wrong = tab.body, stored_labels(h.backend), []
    for name, params in BAD_CONTROL_VALUES:
        url = h.urls.list_sessions if name == "list" else h.vc(name)
        for send in (tab.get,) if name == "list" else (tab.get, tab.post):  # the list is GET only
            r = send(url, params)
            try: assert_error(r, f"{send.__name__} {name} {params}")
            except AssertionError:
                wrong.append((send.__name__.upper(), name, {k: v[:12] for k, v in params.items()}, r.status_code))
            assert tab.body == shown, (name, params)
    assert stored_labels(h.backend) == before
    assert not wrong, f"not answered 4xx with an alert: {wrong}"


# ==================================================================================================
# Filters sent by the filter menu
# ==================================================================================================
def test_filter_menu_sends_its_whole_state(h):
    """With `filters=1` the steps, age and unlabelled come only from the request: unchecking the last step clears
    the step filter; without it, a request that sends only a search keeps the page's filters."""
    tab = h.tab(step=["upload", "review"], unlabelled="1")
    assert pairs(tab.view) == {("step", "upload"), ("step", "review"), ("unlabelled", "1")}
    tab.list(filters="1", step="upload", unlabelled="1", start="0")
    assert pairs(tab.view) == {("step", "upload"), ("unlabelled", "1")}
    assert row_ids(tab.html) == window(h, steps=("upload",), unlabelled=True)
    tab.list(filters="1", unlabelled="1", start="0")  # the last step unchecked
    assert pairs(tab.view) == {("unlabelled", "1")}
    tab.list(q="title 1")  # the search box: the filters stay
    assert pairs(tab.view) == {("unlabelled", "1"), ("q", "title 1")}
    assert row_ids(tab.html) == window(h, search="title 1", unlabelled=True)
    r = tab.list(filters="1", start="0")  # everything unchecked
    assert pairs(tab.view) == {("q", "title 1")} and count_text(r.text) == f"{len(window(h, 0, 100, search='title 1'))} matching sessions"


# ==================================================================================================
# Tabs are independent; the cookie holds no view
# ==================================================================================================
def assert_cookie_holds_no_view(client):
    "The session cookie holds only the active session id and at most a bounded notice."
    sess = session_cookie(client)
    assert set(sess) <= {ACTIVE_KEY, NOTICE_KEY}, sess
    if NOTICE_KEY in sess: assert len(sess[NOTICE_KEY]["text"]) <= 300, sess


def test_two_tabs_acting_at_once_never_clobber_each_other(h):
    """Two tabs of one browser (one cookie) sort, search, page and move at the same moment, from two threads: each
    ends with exactly the view of its own actions, and the cookie holds no view at all."""
    client = h.client()
    t1, t2 = h.tab(client), h.tab(client)
    t1.resume("v07")  # the cookie holds something: the active session
    barrier = threading.Barrier(2)
    script = {t1: [("get", h.vc("sort"), {"sort": "label", "dir": "asc"}), ("get", h.urls.list_sessions, {"q": "run"}),
                   ("move", "nav_page_down", {}), ("move", "nav_down", {})],
              t2: [("get", h.urls.list_sessions, {"step": "review"}), ("get", h.vc("update_viewport"), {"rows": "3"}),
                   ("move", "nav_last", {}), ("get", h.vc("sort"), {"sort": "size", "dir": "asc"})]}
    errors = []

    def run(tab):
        try:
            for kind, what, params in script[tab]:
                barrier.wait(10)
                r = tab.move(what, **params) if kind == "move" else tab.get(what, params)
                assert r.status_code == 200, (what, r.status_code, r.text[:300])
        except Exception as e: errors.append(e)

    threads = [threading.Thread(target=run, args=(t,)) for t in (t1, t2)]
    for t in threads: t.start()
    for t in threads: t.join(30)
    assert not errors, errors
    assert pairs(t1.view) == {("sort", "label"), ("dir", "asc"), ("q", "run"), ("start", "10")}
    assert row_ids(t1.html) == window(h, 10, 10, order_by="label", descending=False, search="run")
    assert cursor_ids(t1.html) == [row_ids(t1.html)[1]]
    assert pairs(t2.view) == {("sort", "size"), ("dir", "asc"), ("step", "review"), ("rows", "3")}
    assert row_ids(t2.html) == window(h, 0, 3, order_by="size", descending=False, steps=("review",))
    assert_cookie_holds_no_view(client)
    assert session_cookie(client)[ACTIVE_KEY] == "v07"


def test_ten_tabs_keep_their_own_views(h):
    "Ten tabs of one browser, each with its own search and sort, each still get their own window afterwards."
    client = h.client()
    tabs = [h.tab(client) for _ in range(10)]
    for i, tab in enumerate(tabs):
        tab.list(q=f"run {i + 1}")
        if i % 2: tab.get(h.vc("sort"), {"sort": "label", "dir": "asc"})
    for i, tab in enumerate(tabs):
        expected = window(h, search=f"run {i + 1}", **(dict(order_by="label", descending=False) if i % 2 else {}))
        assert row_ids(tab.list().text) == expected, i
    assert_cookie_holds_no_view(client)


def test_removing_a_filter_chip_refreshes_the_count_and_the_chips(h):
    """A filter chip (and "Clear all") sends the view without its filter: the answer shows the wider list AND its
    count, chips and filter menu, so the page does not keep saying "4 matching sessions" over 30 rows."""
    tab = h.tab(step="review", q="run")
    chips = parse(tab.html).by_id("wsm-filter-chips")
    chip = next(b for b in chips.find_all("button") if "Review" in b.text())
    r = tab.get(chip.get("hx-get"), json.loads(chip.get("hx-vals")))
    assert pairs(tab.view) == {("q", "run")} and row_ids(r.text) == window(h, search="run")
    total = len(window(h, 0, 100, search="run"))
    assert count_text(r.text) == f"{total} matching sessions", "the count still shows the filtered list's"
    assert "Review" not in squash(parse(r.text).by_id("wsm-filter-chips").text())
    other = h.tab(step="review", unlabelled="1")
    clear = next(b for b in parse(other.html).by_id("wsm-filter-chips").find_all("button") if "Clear all" in b.text())
    r = other.get(clear.get("hx-get"), json.loads(clear.get("hx-vals")))
    assert other.view == "" and count_text(r.text) == f"{N} sessions"
