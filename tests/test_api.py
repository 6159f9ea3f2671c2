"The result's callables and `init_session_router` used as the spec describes them, through HTTP and directly."
import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from fasthtml.common import Div, FastHTML, to_xml
from starlette.testclient import TestClient

from cjm_fasthtml_workflow_session_management.models import SessionPage
from cjm_fasthtml_workflow_session_management.routes.init import build_urls, init_session_manager_routers
from cjm_fasthtml_workflow_session_management.routes.sessions import ACTIVE_SESSION_KEY, init_session_router
from cjm_fasthtml_workflow_session_management.services.management import InvalidSessionIdError, SessionManagementService

SAME_ORIGIN = {"HX-Request": "true", "Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}


@pytest.fixture
def service(store):
    svc = SessionManagementService(store, "demo")
    for i in range(3): svc.create_session(f"Run {i}")
    return svc


def test_callables_work_without_a_request(service):
    res = init_session_manager_routers(service, "/workflow")
    page = to_xml(res.render_page())
    assert 'id="sm-root"' in page and page.count("data-session-id=") == 3 and "data-sm-active" not in page
    assert to_xml(res.render_list()).count("data-session-id=") == 3
    # In its own thread: pytest-playwright keeps an event loop running in this one
    current = ThreadPoolExecutor(1).submit(asyncio.run, res.refresh_items()).result()
    assert isinstance(current, SessionPage) and current.total == 3 and len(current.items) == 3


def test_resume_session_callable_sets_the_interactions_key(service):
    res = init_session_manager_routers(service, "/workflow")
    sid, sess = service.list_sessions()[0].session_id, {}
    res.resume_session(sess, sid)
    assert sess == {ACTIVE_SESSION_KEY: sid}
    with pytest.raises(InvalidSessionIdError): res.resume_session(sess, "a:b")


def test_routers_register_with_to_app_and_urls_are_known_up_front(service):
    res = init_session_manager_routers(service, "/workflow", prefix="/runs")
    assert res.urls.management_page == "/runs/" and res.urls.create_session == "/runs/create"
    app = FastHTML(secret_key="k" * 32, default_hdrs=False)
    for r in res.routers: r.to_app(app)
    client = TestClient(app, base_url="http://testserver")
    page = client.get(res.urls.management_page)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"   # Back never shows a stale list
    assert client.post(res.urls.create_session, headers=SAME_ORIGIN).status_code == 200
    assert service.read_page().total == 4
    assert set(res.routes) >= {"create_session", "rename_session", "delete_session", "resume_session", "list_sessions", "nav_down", "sort"}


def test_init_session_router_accepts_the_specs_zero_argument_callables(service):
    "A host wiring `init_session_router` itself with () -> ... callables gets working routes."
    urls, _ = build_urls("/s")
    calls = []
    router, routes = init_session_router(
        service, "/s", urls, "/workflow",
        refresh_items=lambda: calls.append("refresh"),
        refresh_items_oob=lambda: (calls.append("oob"), Div("refreshed", id="list"))[1],
        render_page=lambda: Div("the page"), render_list=lambda: Div("the list"))
    app = FastHTML(secret_key="k" * 32, default_hdrs=False)
    router.to_app(app)
    client = TestClient(app, base_url="http://testserver")
    assert "the page" in client.get(urls.management_page).text
    assert "the list" in client.get(urls.list_sessions).text
    r = client.post(urls.rename_session, data={"session_id": service.list_sessions()[0].session_id, "label": "new"},
                    headers=SAME_ORIGIN)
    assert r.status_code == 200 and "refreshed" in r.text and calls == ["oob"]
    assert "new" in {e.summary.label for e in service.list_sessions()}
    assert client.get(urls.session_detail, params={"session_id": "x"}).status_code == 404   # no detail view given


def test_requests_without_a_view_id_follow_the_users_latest_view(service):
    "A client that ignores view ids (a script, a test) sees its latest sort and search on every GET."
    res = init_session_manager_routers(service, "/workflow")
    app = FastHTML(secret_key="k" * 32, default_hdrs=False)
    for r in res.routers: r.to_app(app)
    client = TestClient(app, base_url="http://testserver")
    client.get(res.urls.management_page)
    assert client.post(res.urls.search, data={"q": "Run 2"}, headers=SAME_ORIGIN).status_code == 200
    assert client.get(res.urls.list_sessions).text.count("data-session-id=") == 1
    assert 'value="Run 2"' in client.get(res.urls.management_page).text
    other = TestClient(app, base_url="http://testserver")   # another user is untouched
    assert other.get(res.urls.list_sessions).text.count("data-session-id=") == 3


def test_fields_sent_as_file_uploads_are_treated_as_missing(service):
    "Multipart uploads in place of text fields get a 4xx (or are ignored), never a 500."
    res = init_session_manager_routers(service, "/workflow")
    app = FastHTML(secret_key="k" * 32, default_hdrs=False)
    for r in res.routers: r.to_app(app)
    client = TestClient(app, base_url="http://testserver", raise_server_exceptions=False)
    sid = service.list_sessions()[0].session_id
    upload = ("f.txt", b"data")
    r = client.post(res.urls.rename_session, data={"session_id": sid}, files={"label": upload}, headers=SAME_ORIGIN)
    assert r.status_code == 400 and "A label is required" in r.text
    r = client.post(res.urls.delete_session, files={"session_id": upload}, headers=SAME_ORIGIN)
    assert r.status_code == 400 and service.read_page().total == 3
    assert client.post(res.urls.search, files={"q": upload}, headers=SAME_ORIGIN).status_code == 200
