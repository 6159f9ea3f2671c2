"""A host written for the released 0.0.2 or 0.0.15 runs unchanged (issue 7).

Every test drives a host from `hosts.py` over HTTP with Starlette's TestClient (one TestClient is one browser
with its own cookie jar) on a real SQLite file in `tmp_path`, and checks only what a host developer can see:
status codes and headers, element ids, the rows' `data-session-id`, visible text and the database rows.
A user's active run is set the released ways: the host's own `set_session_id` link, or Resume.
"""
import asyncio
import gc
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Dict
from urllib.parse import urljoin

import pytest
from fasthtml.common import to_xml
from cjm_fasthtml_virtual_collection.core.models import CellRenderContext, ColumnDef
from cjm_workflow_state.state_store import SessionSummary, SQLiteWorkflowStateStore

from cjm_fasthtml_workflow_session_management.components.helpers import render_icon_button
from cjm_fasthtml_workflow_session_management.components.session_list import (
    build_session_columns, create_session_cell_renderer, render_list_scripts)
from cjm_fasthtml_workflow_session_management.html_ids import SessionManagerHtmlIds
from cjm_fasthtml_workflow_session_management.models import (
    ColumnSpec, EnrichedSessionSummary, SessionManagementUrls)
from cjm_fasthtml_workflow_session_management.services.management import SessionManagementService
from cjm_fasthtml_workflow_session_management.utils import default_label, format_relative_time

from hosts import (
    ACTIVE_RUN_ID, BASE, FLOW_ID, INTERVIEW, LECTURE, PODCAST, PREFIX, RUNS, WORKFLOW_URL, Run,
    build_calling_styles_host, build_demo_0015_host, build_demo_002_host, build_meeting_host,
    build_prefixed_manager, build_sync_tab_page_host, build_tab_page_host, create_state_db,
    get_decomp_step_title, init_decomp_session_manager, seed_runs, stored_runs)
from page_reading import badge_owners, cell_texts, element_text, hx_urls, id_counts, parse, session_rows

# The paths the releases served under the prefix; hosts hard-code them in links, forms and tests.
RELEASED_PATHS = {name: f"{PREFIX}/{name}" for name in (
    "management_page", "list_sessions", "create_session", "delete_session", "rename_session", "resume_session")}
CREATE, DELETE, RENAME, RESUME = (RELEASED_PATHS[n] for n in
                                  ("create_session", "delete_session", "rename_session", "resume_session"))

HTMX = {"HX-Request": "true", "Origin": BASE, "Sec-Fetch-Site": "same-origin"}  # what htmx in the page sends
HOW = {"htmx": HTMX, "plain form": {}}  # a plain form post from a script: no htmx, no Origin, no Fetch metadata

RELEASED_IDS = {
    "VC_PREFIX": "wsm_sess", "PAGE_CONTENT": "wsm-page-content", "SESSION_LIST": "wsm-session-list",
    "SESSION_DETAIL": "wsm-session-detail", "TOOLBAR": "wsm-toolbar", "NEW_SESSION_BTN": "wsm-new-session-btn",
    "RESUME_BTN": "wsm-resume-btn", "RENAME_BTN": "wsm-rename-btn", "DELETE_BTN": "wsm-delete-btn",
    "DELETE_MODAL": "wsm-delete-modal", "DELETE_MODAL_BODY": "wsm-delete-modal-body",
    "RENAME_MODAL": "wsm-rename-modal", "RENAME_MODAL_BODY": "wsm-rename-modal-body",
    "RENAME_INPUT": "wsm-rename-input", "ALERT_AREA": "wsm-alert-area",
    "ACTIVE_SESSION_BADGE": "wsm-active-session-badge"}
PAGE_IDS = [RELEASED_IDS[n] for n in ("PAGE_CONTENT", "SESSION_LIST", "TOOLBAR", "NEW_SESSION_BTN", "DELETE_MODAL",
                                      "DELETE_MODAL_BODY", "RENAME_MODAL", "RENAME_MODAL_BODY", "RENAME_INPUT",
                                      "ALERT_AREA")]

UNKNOWN_ID = "3ecb6f2b-5a7d-4c94-af4b-8dae6a5b4c04"  # a well-formed id no run has
BAD_IDS = {"empty": "", "colon": "a:b", "unknown uuid": UNKNOWN_ID}

HOSTS = {"0.0.2 demo": build_demo_002_host, "0.0.15 demo": build_demo_0015_host,
         "tab page": build_tab_page_host, "sync tab page": build_sync_tab_page_host}


# --------------------------------------------------------------------------------------------------
# Fixtures and helpers
# --------------------------------------------------------------------------------------------------
@pytest.fixture
def db(tmp_path):
    "The host's state file, holding the three runs of `hosts.RUNS`."
    path = create_state_db(tmp_path / "workflow_state.db")
    seed_runs(path, RUNS)
    return path


@pytest.fixture(params=list(HOSTS))
def host(request, db):
    "Each released-style host over the seeded file."
    return HOSTS[request.param](db)


def get_page(browser, url: str, htmx: bool = False) -> str:
    "GET a page (as htmx would, if `htmx`); it must answer 200."
    r = browser.get(url, headers={"HX-Request": "true"} if htmx else None)
    assert r.status_code == 200, (url, r.status_code, r.text[:500])
    return r.text


def open_run(browser, run: Run) -> None:
    "Make `run` the browser's active run through the host's own `set_session_id` link."
    r = browser.get("/open_run", params={"session_id": run.session_id})
    assert r.status_code == 200, r.text[:500]


def active_run(browser) -> str:
    "The run the browser's cookie points at, as the host's workflow page reads it."
    return element_text(get_page(browser, WORKFLOW_URL), ACTIVE_RUN_ID)


def assert_answered(browser, r) -> None:
    "A mutation's answer: a 2xx, or a 303 to a page that answers 200."
    if r.status_code == 303:
        assert browser.get(r.headers["location"]).status_code == 200, r.headers["location"]
    else:
        assert 200 <= r.status_code < 300, (r.status_code, r.text[:500])


def other_runs(runs: dict, session_id: str) -> dict:
    "`stored_runs` without `session_id`."
    return {k: v for k, v in runs.items() if k != session_id}


def assert_host_columns_filled(html: str) -> None:
    """Every run's row shows the enricher's values under the host's column headers, the step title and the
    resolved label; a run the enricher filled completely shows no placeholder at all."""
    for run in RUNS:
        row = cell_texts(html, run.session_id)
        assert row.get("Sources") == str(len(run.sources)), (run.session_id, row)
        assert row.get("Segments") == (str(run.segments) if run.segments else "—"), (run.session_id, row)
    shown = " | ".join(cell_texts(html, LECTURE.session_id).values())
    assert "Segment & Align" in shown and "Lecture 3 notes" in shown, shown
    assert "—" not in cell_texts(html, LECTURE.session_id).values(), shown
    assert "podcast-07" in " | ".join(cell_texts(html, PODCAST.session_id).values())


@contextmanager
def no_unawaited_coroutines():
    "Fail when the block leaves a coroutine that was never awaited (looked for after a garbage collection)."
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
        gc.collect()
    unawaited = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)
                 and "never awaited" in str(w.message)]
    assert not unawaited, unawaited


def host_built_urls(prefix: str) -> SessionManagementUrls:
    "A URL bundle built by a host by hand, with only the seven fields the releases had."
    return SessionManagementUrls(
        management_page=f"{prefix}/management_page", list_sessions=f"{prefix}/list_sessions",
        session_detail=f"{prefix}/session_detail", create_session=f"{prefix}/create_session",
        delete_session=f"{prefix}/delete_session", rename_session=f"{prefix}/rename_session",
        resume_session=f"{prefix}/resume_session")


# --------------------------------------------------------------------------------------------------
# Pages: host columns filled, the viewer's own Active badge
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("htmx", [False, True], ids=["full page", "htmx request"])
def test_host_page_shows_host_columns_and_the_viewers_own_badge(host, htmx):
    "The host's own page answers 200, its host columns are filled and the badge sits on the viewer's run."
    alice = host.browser()
    open_run(alice, LECTURE)
    html = get_page(alice, host.page_url, htmx)
    assert_host_columns_filled(html)
    assert badge_owners(html) == [LECTURE.session_id]


@pytest.mark.parametrize("path_name", ["management_page", "list_sessions"])
def test_manager_pages_at_released_paths_show_the_viewers_own_badge(host, path_name):
    "The manager's own page and list fragment, at their released paths, render like the host page."
    alice = host.browser()
    open_run(alice, INTERVIEW)
    html = get_page(alice, RELEASED_PATHS[path_name])
    assert_host_columns_filled(html)
    assert badge_owners(html) == [INTERVIEW.session_id]


def test_users_interleaved_each_see_only_their_own_badge(host):
    """Alice, Bob and Carol (who never opened a run) load the page in turns, also after Bob resumes another
    run: each sees the badge on their own run only."""
    alice, bob, carol = host.browser(), host.browser(), host.browser()
    open_run(alice, LECTURE)
    open_run(bob, INTERVIEW)
    expected = {alice: [LECTURE.session_id], bob: [INTERVIEW.session_id], carol: []}
    for _ in range(2):
        for browser, owners in expected.items():
            assert badge_owners(get_page(browser, host.page_url)) == owners
    assert bob.post(RESUME, data={"session_id": PODCAST.session_id}, headers=HTMX).status_code == 204
    expected[bob] = [PODCAST.session_id]
    for browser, owners in expected.items():
        assert badge_owners(get_page(browser, host.page_url)) == owners


@pytest.mark.parametrize("route", ["/manage", "/manage_sync", "/manage_bare"])
def test_users_meeting_between_refresh_and_render_keep_their_own_badge(db, route):
    """Alice's and Bob's requests both call `refresh_items` before either calls `render_page()` (async with
    `request=`, a plain `def` route, and 0.0.2's bare call): each page still shows its own user's badge."""
    for _ in range(3):
        meeting = threading.Barrier(2, timeout=5)
        host = build_meeting_host(db, meeting.wait)
        alice, bob = host.browser(), host.browser()
        open_run(alice, LECTURE)
        open_run(bob, INTERVIEW)
        with ThreadPoolExecutor(2) as pool:
            alice_page, bob_page = pool.map(lambda b: get_page(b, route), (alice, bob))
        assert badge_owners(alice_page) == [LECTURE.session_id]
        assert badge_owners(bob_page) == [INTERVIEW.session_id]


def test_concurrent_renders_never_show_another_users_badge(host):
    "Two users rendering the host page from two threads, many times, only ever see their own badge."
    alice, bob = host.browser(), host.browser()
    open_run(alice, LECTURE)
    open_run(bob, INTERVIEW)

    def render_many(browser):
        return {tuple(badge_owners(get_page(browser, host.page_url))) for _ in range(25)}

    with ThreadPoolExecutor(2) as pool:
        seen_by_alice, seen_by_bob = pool.map(render_many, (alice, bob))
    assert seen_by_alice == {(LECTURE.session_id,)}
    assert seen_by_bob == {(INTERVIEW.session_id,)}


# --------------------------------------------------------------------------------------------------
# How hosts call the result: refresh_items, render_page(), render_list()
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("style", ["keyword", "positional", "bare", "awaited", "awaited_bare",
                                   "sync_keyword", "sync_positional", "sync_bare", "list_only"])
def test_every_way_hosts_call_refresh_items_renders_the_requests_user(db, style):
    """`refresh_items` called sync with `request=`, positionally or bare, or awaited, in async and plain `def`
    routes, then `render_page()` (or `render_list()`) with no argument: each user gets their own badge and the
    host columns, and no coroutine is left unawaited."""
    host = build_calling_styles_host(db)
    alice, bob = host.browser(), host.browser()
    open_run(alice, LECTURE)
    open_run(bob, INTERVIEW)
    with no_unawaited_coroutines():
        for browser, run in ((alice, LECTURE), (bob, INTERVIEW)):
            html = get_page(browser, f"/styles/{style}")
            assert_host_columns_filled(html)
            assert badge_owners(html) == [run.session_id]


def test_refresh_items_outside_a_request_is_harmless(db):
    "A host may call `refresh_items()` at start-up, or await it: no error, no coroutine left unawaited."
    sessions = init_decomp_session_manager(db)

    async def start_up():
        await sessions.refresh_items()

    with no_unawaited_coroutines():
        sessions.refresh_items()
        asyncio.run(start_up())


# --------------------------------------------------------------------------------------------------
# Create, rename, delete, resume: by htmx and by plain form
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", list(HOW))
def test_create_session(host, db, how):
    "Create adds one run, makes it the user's active run (as the releases did) and the page shows it."
    alice = host.browser()
    before = stored_runs(db)
    r = alice.post(CREATE, headers=HOW[how])
    assert_answered(alice, r)
    created = set(stored_runs(db)) - set(before)
    assert len(created) == 1 and len(stored_runs(db)) == len(before) + 1
    new_id = created.pop()
    assert active_run(alice) == new_id
    assert badge_owners(get_page(alice, host.page_url)) == [new_id]


@pytest.mark.parametrize("how", list(HOW))
def test_rename_session(host, db, how):
    "Rename stores the new label for that run only, and the page shows it."
    alice = host.browser()
    before = stored_runs(db)
    r = alice.post(RENAME, data={"session_id": INTERVIEW.session_id, "label": "Sam, second take"}, headers=HOW[how])
    assert_answered(alice, r)
    after = stored_runs(db)
    assert after[INTERVIEW.session_id][0] == "Sam, second take"
    assert other_runs(after, INTERVIEW.session_id) == other_runs(before, INTERVIEW.session_id)
    assert "Sam, second take" in " | ".join(cell_texts(get_page(alice, host.page_url), INTERVIEW.session_id).values())


@pytest.mark.parametrize("how", list(HOW))
def test_delete_session(host, db, how):
    "Delete removes that run only from `workflow_state`, and the page no longer lists it."
    alice = host.browser()
    open_run(alice, LECTURE)
    before = stored_runs(db)
    r = alice.post(DELETE, data={"session_id": PODCAST.session_id}, headers=HOW[how])
    assert_answered(alice, r)
    after = stored_runs(db)
    assert PODCAST.session_id not in after
    assert after == other_runs(before, PODCAST.session_id)
    html = get_page(alice, host.page_url)
    assert PODCAST.session_id not in session_rows(html)
    assert badge_owners(html) == [LECTURE.session_id]


def test_resume_by_htmx_answers_204_with_hx_redirect(host):
    "Resume from the page: 204 with `HX-Redirect: <workflow_url>`, and the run becomes the user's active one."
    alice = host.browser()
    open_run(alice, LECTURE)
    r = alice.post(RESUME, data={"session_id": INTERVIEW.session_id}, headers=HTMX)
    assert r.status_code == 204, (r.status_code, r.text[:500])
    assert r.headers.get("HX-Redirect") == WORKFLOW_URL
    assert active_run(alice) == INTERVIEW.session_id
    assert badge_owners(get_page(alice, host.page_url)) == [INTERVIEW.session_id]


def test_resume_by_plain_form_redirects_303_to_the_workflow(host):
    "Resume by a plain form post: a 303 to the workflow URL, which then shows the resumed run."
    alice = host.browser()
    r = alice.post(RESUME, data={"session_id": PODCAST.session_id})
    assert r.status_code == 303, (r.status_code, r.text[:500])
    assert urljoin(BASE + "/", r.headers["location"]) == BASE + WORKFLOW_URL
    assert active_run(alice) == PODCAST.session_id


# --------------------------------------------------------------------------------------------------
# Released paths, ids and unknown ids
# --------------------------------------------------------------------------------------------------
def test_result_urls_are_the_released_paths(host):
    "`result.urls` holds the paths the releases served (hosts hard-code them)."
    urls = host.sessions.urls
    assert {name: getattr(urls, name) for name in RELEASED_PATHS} == RELEASED_PATHS


def test_manager_page_requests_only_urls_under_its_prefix(host):
    "Everything the manager page asks for lives under the host's prefix, the list's moves under `<prefix>/vc/`."
    urls = hx_urls(get_page(host.browser(), RELEASED_PATHS["management_page"]))
    assert urls and all(u.startswith(PREFIX + "/") for u in urls), urls
    assert any(u.startswith(PREFIX + "/vc/") for u in urls), urls


@pytest.mark.parametrize("how", list(HOW))
@pytest.mark.parametrize("bad", list(BAD_IDS))
@pytest.mark.parametrize("path", [RENAME, DELETE, RESUME], ids=["rename", "delete", "resume"])
def test_unknown_or_impossible_ids_answer_4xx_and_change_nothing(db, path, bad, how):
    "Rename, delete and resume of `\"\"`, `\"a:b\"` or an unknown id: a 4xx, no row changed, active run kept."
    host = build_demo_0015_host(db)
    alice = host.browser()
    open_run(alice, LECTURE)
    before = stored_runs(db)
    r = alice.post(path, data={"session_id": BAD_IDS[bad], "label": "Renamed"}, headers=HOW[how])
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
    assert stored_runs(db) == before
    assert active_run(alice) == LECTURE.session_id


def test_html_ids_keep_the_released_names_and_values():
    "`SessionManagerHtmlIds` has every released name with its released value."
    assert {name: getattr(SessionManagerHtmlIds, name, None) for name in RELEASED_IDS} == RELEASED_IDS
    assert SessionManagerHtmlIds.as_selector("wsm-session-list") == "#wsm-session-list"


@pytest.mark.parametrize("where", ["manager page", "host page"])
def test_pages_carry_the_released_ids_once(host, where):
    "The page root, list, toolbar, New Session button, dialogs, rename input and alert area carry their ids, once."
    url = RELEASED_PATHS["management_page"] if where == "manager page" else host.page_url
    counts = id_counts(get_page(host.browser(), url))
    assert {i: counts[i] for i in PAGE_IDS} == {i: 1 for i in PAGE_IDS}


# --------------------------------------------------------------------------------------------------
# Public helpers used on their own
# --------------------------------------------------------------------------------------------------
def enriched(run: Run, **fields) -> EnrichedSessionSummary:
    "The list item of `run` as the service gives it, with host fields `fields`."
    summary = SessionSummary(flow_id=FLOW_ID, session_id=run.session_id, label=run.label, current_step=run.step,
                             created_at=run.created_at, updated_at=run.updated_at, state_size_bytes=512)
    return EnrichedSessionSummary(summary=summary, resolved_label=run.label or "", enriched_fields=fields)


def cell(key: str) -> CellRenderContext:
    "The render context of column `key` in the first row."
    return CellRenderContext(row_index=0, column=ColumnDef(key=key), total_items=1)


def test_build_session_columns_keys():
    "Columns: label, status (the step), one per ColumnSpec.field, updated, size, actions, in that order."
    columns = build_session_columns([ColumnSpec("sources", "Sources"), ColumnSpec("segments", "Segments")])
    assert [c.key for c in columns] == ["label", "status", "sources", "segments", "updated", "size", "actions"]


def test_cell_renderer_asks_for_the_active_session_on_every_render():
    """The three-argument cell renderer calls `get_active_session_id()` each time it draws a row's label (so the
    badge follows it) and draws a host column from `item.enriched_fields[ctx.column.key]`."""
    active = {"id": LECTURE.session_id}
    calls = []

    def get_active_session_id():
        calls.append(active["id"])
        return active["id"]

    render_cell = create_session_cell_renderer(host_built_urls(PREFIX), get_active_session_id, get_decomp_step_title)
    item = enriched(LECTURE, sources="3")
    for active_id, badges in ((LECTURE.session_id, 1), (INTERVIEW.session_id, 0)):
        active["id"] = active_id
        calls_before = len(calls)
        label_html = to_xml(render_cell(item, cell("label")))
        assert len(calls) > calls_before, "get_active_session_id() was not called for this render"
        assert id_counts(label_html)[RELEASED_IDS["ACTIVE_SESSION_BADGE"]] == badges, label_html
    assert parse(to_xml(render_cell(item, cell("sources")))).text() == "3"
    assert parse(to_xml(render_cell(item, cell("segments")))).text() == "—"


def test_default_label_and_dates_older_than_a_month():
    "`default_label(None)` and `format_relative_time` beyond 30 days answer as the releases did."
    assert default_label(None) == "Untitled Session"
    forty_days_later = datetime(2026, 4, 10, 12, 0, tzinfo=timezone.utc)
    assert format_relative_time("2026-03-01 12:00:00", now=forty_days_later) == "Mar 01, 2026"


def test_icon_button_draws_its_icon_itself():
    "`render_icon_button` on its own holds a complete SVG drawing, not a reference to a sprite elsewhere."
    svgs = [n for n in parse(to_xml(render_icon_button("trash-2", "Delete"))).walk() if n.tag == "svg"]
    drawn = {n.tag for svg in svgs for n in svg.walk()}
    assert drawn & {"path", "line", "polyline", "polygon", "circle", "rect", "ellipse"}, drawn


def test_list_scripts_from_host_built_urls_load_from_the_manager(db):
    "`render_list_scripts` with a host-built seven-field URL bundle loads a script the manager's router serves."
    host = build_prefixed_manager(db, "/x")
    scripts = [n for n in parse(to_xml(render_list_scripts(host_built_urls("/x")))).walk() if n.tag == "script"]
    sources = [s.get("src") for s in scripts if s.get("src")]
    assert sources, "no <script src=...>"
    browser = host.browser()
    for src in sources:
        r = browser.get(src)
        assert r.status_code == 200 and "javascript" in r.headers.get("content-type", ""), (src, r.status_code)


# --------------------------------------------------------------------------------------------------
# The service
# --------------------------------------------------------------------------------------------------
TIED_AT = "2026-02-02 10:00:00"
TIED = [Run(sid, "Same label", "selection", [], 0, TIED_AT, TIED_AT) for sid in (  # created in this order
    "d4000000-0000-4000-8000-000000000000", "a1000000-0000-4000-8000-000000000000",
    "c3000000-0000-4000-8000-000000000000", "b2000000-0000-4000-8000-000000000000")]


@pytest.mark.parametrize("descending", [True, False], ids=["descending", "ascending"])
@pytest.mark.parametrize("order_by", ["updated_at", "created_at", "label"])
def test_tied_sessions_keep_creation_order(tmp_path, order_by, descending):
    "Runs with equal timestamps (whole seconds) and labels sort by creation: newest first when descending."
    db = create_state_db(tmp_path / "tied.db")
    seed_runs(db, TIED)
    service = SessionManagementService(state_store=SQLiteWorkflowStateStore(db), flow_id=FLOW_ID)
    listed = [s.summary.session_id for s in service.list_sessions(order_by=order_by, descending=descending)]
    created = [r.session_id for r in TIED]
    assert listed == (created[::-1] if descending else created)


@pytest.mark.parametrize("bad", list(BAD_IDS))
def test_service_queries_answer_no_and_writes_do_nothing_for_impossible_ids(db, bad):
    "`session_exists` is False and `get_session` None; `rename_session`/`delete_session` are silent no-ops."
    service = SessionManagementService(state_store=SQLiteWorkflowStateStore(db), flow_id=FLOW_ID)
    before = stored_runs(db)
    assert service.session_exists(BAD_IDS[bad]) is False
    assert service.get_session(BAD_IDS[bad]) is None
    service.rename_session(BAD_IDS[bad], "Renamed")
    service.delete_session(BAD_IDS[bad])
    assert stored_runs(db) == before


# --------------------------------------------------------------------------------------------------
# Cross-site protection by Fetch metadata (issue 7 point 2)
# --------------------------------------------------------------------------------------------------
@dataclass
class Mutation:
    "A POST route, the form it gets, and whether its effect shows in the database or the user's active run."
    path: str
    form: Dict[str, str]
    happened: Callable  # (db, before, browser) -> bool


MUTATIONS = {
    "create": Mutation(CREATE, {}, lambda db, before, b: len(stored_runs(db)) == len(before) + 1),
    "rename": Mutation(RENAME, {"session_id": INTERVIEW.session_id, "label": "Renamed"},
                       lambda db, before, b: stored_runs(db)[INTERVIEW.session_id][0] == "Renamed"),
    "delete": Mutation(DELETE, {"session_id": INTERVIEW.session_id},
                       lambda db, before, b: INTERVIEW.session_id not in stored_runs(db)),
    "resume": Mutation(RESUME, {"session_id": INTERVIEW.session_id},
                       lambda db, before, b: active_run(b) == INTERVIEW.session_id),
}
REFUSED = {
    "Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": "cross-site"},
    "Sec-Fetch-Site same-site": {"Sec-Fetch-Site": "same-site"},
    "cross-site htmx": {"Sec-Fetch-Site": "cross-site", "HX-Request": "true", "Origin": "http://evil.example"},
    "foreign Origin": {"Origin": "http://evil.example"},
    "Origin of another scheme": {"Origin": "https://testserver"},
    "Origin null": {"Origin": "null"},
}
ALLOWED = {
    "Sec-Fetch-Site same-origin": {"Sec-Fetch-Site": "same-origin"},
    "Sec-Fetch-Site none": {"Sec-Fetch-Site": "none"},
    "Origin matching the Host": {"Origin": BASE},
    "neither header": {},
}


@pytest.fixture
def alice_on_lecture(db):
    "The 0.0.15 demo host and a browser whose active run is the lecture."
    host = build_demo_0015_host(db)
    alice = host.browser()
    open_run(alice, LECTURE)
    return alice


@pytest.mark.parametrize("headers", list(REFUSED))
@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_cross_site_posts_are_refused_and_change_nothing(db, alice_on_lecture, mutation, headers):
    "A POST a browser sends from another site answers 403; no row and not the user's active run changes."
    m, before = MUTATIONS[mutation], stored_runs(db)
    r = alice_on_lecture.post(m.path, data=m.form, headers=REFUSED[headers])
    assert r.status_code == 403, (r.status_code, r.text[:500])
    assert stored_runs(db) == before
    assert active_run(alice_on_lecture) == LECTURE.session_id


@pytest.mark.parametrize("headers", list(ALLOWED))
@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_same_origin_and_non_browser_posts_are_allowed(db, alice_on_lecture, mutation, headers):
    "Same-origin and direct (`none`) browser POSTs, a matching Origin and a plain script all take effect."
    m, before = MUTATIONS[mutation], stored_runs(db)
    assert_answered(alice_on_lecture, alice_on_lecture.post(m.path, data=m.form, headers=ALLOWED[headers]))
    assert m.happened(db, before, alice_on_lecture)


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_get_never_changes_anything(db, alice_on_lecture, mutation):
    "A GET of a mutation's path, even with its form as the query, changes no row and not the active run."
    m, before = MUTATIONS[mutation], stored_runs(db)
    r = alice_on_lecture.get(m.path, params=m.form, headers={"Sec-Fetch-Site": "none"})
    assert r.status_code < 500
    assert stored_runs(db) == before
    assert active_run(alice_on_lecture) == LECTURE.session_id
