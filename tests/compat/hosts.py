"""Host apps written the way hosts of the released 0.0.2 and 0.0.15 are written, and their database.

The hosts copy the calls of two real hosts, not their code:
- the library's own `demo_app.py` at 0.0.2 (89da585) and 0.0.15 (aca3779): the manager is the home page,
  `refresh_items()` (0.0.2) or `refresh_items(request=request)` (0.0.15), then
  `handle_htmx_request(request, mgmt_result.render_page)`;
- the downstream `cjm-fasthtml-workflow-transcript-decomp` demo (pinned to `>=0.0.14`): a `/manage` page with
  its own tab nav that calls `refresh_items(request=request)` and embeds `render_page()` in its own layout.
Both use a state-only enricher for two `ColumnSpec`s, a two-argument label generator, a step title mapper
and `register_routes`. Hosts also own a workflow page (where Resume leads) that names the user's active run,
read with `get_session_id` the way workflows read it, and a link that opens a run with `set_session_id`.

Only names the releases exported are imported, from the modules that exported them.
"""
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from fasthtml.common import A, Div, P, fast_app
from starlette.testclient import TestClient

from cjm_fasthtml_app_core.components.navbar import create_navbar
from cjm_fasthtml_app_core.core.htmx import handle_htmx_request
from cjm_fasthtml_app_core.core.layout import wrap_with_layout
from cjm_fasthtml_app_core.core.routing import APIRouter, register_routes
from cjm_fasthtml_daisyui.core.resources import get_daisyui_headers
from cjm_fasthtml_daisyui.core.testing import create_theme_persistence_script
from cjm_fasthtml_interactions.core.state_store import get_session_id, set_session_id
from cjm_workflow_state.state_store import SessionSummary, SQLiteWorkflowStateStore

from cjm_fasthtml_workflow_session_management.models import ColumnSpec, SessionManagementResult
from cjm_fasthtml_workflow_session_management.routes.init import init_session_manager_routers
from cjm_fasthtml_workflow_session_management.services.management import SessionManagementService
from cjm_fasthtml_workflow_session_management.utils import default_label

BASE = "http://testserver"
FLOW_ID = "structure_decomposition"
PREFIX = "/manage/sessions"
WORKFLOW_URL = "/workflow"
ACTIVE_RUN_ID = "active-run"  # id of the element of the workflow page that names the user's active run


# --------------------------------------------------------------------------------------------------
# The host's callbacks (the downstream host keeps these in `workflow/session_integration.py`)
# --------------------------------------------------------------------------------------------------
STEP_TITLES = {"selection": "Selection", "segmentation": "Segment & Align", "review": "Review"}


def get_decomp_step_title(step_id: str) -> str:
    "Human-readable title of a workflow step id, or the raw id when it is not mapped."
    return STEP_TITLES.get(step_id, step_id) if step_id else ""


def decomp_enricher(state_json: Dict[str, Any]) -> Dict[str, str]:
    "Source and segment counts of a decomposition run, from its state alone (the released enricher shape)."
    step_states = state_json.get("step_states", {}) or {}
    sources = (step_states.get("selection", {}) or {}).get("selected_sources", []) or []
    segments = (step_states.get("segmentation", {}) or {}).get("segments", []) or []
    return {"sources": str(len(sources)) if sources else "—", "segments": str(len(segments)) if segments else "—"}


def decomp_label_generator(summary: SessionSummary, state_json: Dict[str, Any]) -> str:
    "Label of an unnamed run: its first source's record id, else the library's default label."
    sources = state_json.get("step_states", {}).get("selection", {}).get("selected_sources", []) or []
    if sources and sources[0].get("record_id"):
        return sources[0]["record_id"]
    return default_label(summary.created_at)


def decomp_column_specs() -> List[ColumnSpec]:
    "The two host columns both real hosts declare."
    return [ColumnSpec(field="sources", header="Sources"), ColumnSpec(field="segments", header="Segments")]


def init_decomp_session_manager(db: Path) -> SessionManagementResult:
    "Service and routers over the host's state file, configured as both real hosts configure them."
    service = SessionManagementService(state_store=SQLiteWorkflowStateStore(db), flow_id=FLOW_ID,
                                       enricher=decomp_enricher, label_generator=decomp_label_generator)
    return init_session_manager_routers(service=service, workflow_url=WORKFLOW_URL, prefix=PREFIX,
                                        column_specs=decomp_column_specs(), get_step_title=get_decomp_step_title,
                                        page_title="Workflow Sessions", page_icon="layers")


# --------------------------------------------------------------------------------------------------
# The host apps
# --------------------------------------------------------------------------------------------------
@dataclass
class Host:
    "A host app, the session manager it mounted, and the URL of the host's own page that shows the manager."
    app: Any
    sessions: SessionManagementResult
    page_url: str

    def browser(self) -> TestClient:
        "A new browser (its own cookie jar) that does not follow redirects, so tests see them."
        return TestClient(self.app, base_url=BASE, follow_redirects=False)


def new_app(app_id: str):
    "`fast_app` as both real hosts call it: no pico, daisyUI from a CDN, a signed session cookie."
    return fast_app(pico=False, hdrs=[*get_daisyui_headers(), create_theme_persistence_script()],
                    title="Workflow Session Manager Demo", htmlkw={"data-theme": "light"},
                    session_cookie=f"session_{app_id}_", secret_key=f"{app_id}-demo-secret")


def add_workflow_routes(router: APIRouter) -> Callable:
    "The host's workflow page (where Resume leads) and a link that opens a run; returns the workflow route."
    @router
    def workflow(request):
        "The workflow names the run the user's cookie points at, read as workflows read it."
        return P(get_session_id(request.session), id=ACTIVE_RUN_ID)

    @router
    def open_run(request, session_id: str):
        "A host link that makes a run the user's active one the released way, then shows the workflow."
        set_session_id(request.session, session_id)
        return P(get_session_id(request.session), id=ACTIVE_RUN_ID)
    return workflow


def build_demo_002_host(db: Path) -> Host:
    "The released demo at 0.0.2: the home page primes the session id, calls `refresh_items()` bare, renders."
    app, rt = new_app("wsmgmt")
    router = APIRouter(prefix="")
    mgmt_result = init_decomp_session_manager(db)

    @router
    async def index(request):
        "Homepage: the session manager page."
        get_session_id(request.session)
        mgmt_result.refresh_items()
        return handle_htmx_request(request, mgmt_result.render_page)

    add_workflow_routes(router)
    register_routes(app, router)
    for r in mgmt_result.routers:
        register_routes(app, r)
    return Host(app, mgmt_result, "/")


def build_demo_0015_host(db: Path) -> Host:
    "The released demo at 0.0.15: as 0.0.2, but `refresh_items(request=request)`."
    app, rt = new_app("wsmgmt")
    router = APIRouter(prefix="")
    mgmt_result = init_decomp_session_manager(db)

    @router
    async def index(request):
        "Homepage: the session manager page."
        get_session_id(request.session)
        mgmt_result.refresh_items(request=request)
        return handle_htmx_request(request, mgmt_result.render_page)

    add_workflow_routes(router)
    register_routes(app, router)
    for r in mgmt_result.routers:
        register_routes(app, r)
    return Host(app, mgmt_result, "/")


MGMT_TABS = [("Sessions", "sessions"), ("Graphs", "graphs")]
MGMT_WRAPPER_ID = "mgmt-wrapper"


def render_mgmt_tabs(active_tab: str):
    "The host's own tab nav above the manager; htmx swaps the whole wrapper on a click."
    return Div(*[A(label, role="tab", aria_selected=str(key == active_tab).lower(), hx_get=f"/manage?tab={key}",
                   hx_target=f"#{MGMT_WRAPPER_ID}", hx_swap="outerHTML", hx_push_url=f"/manage?tab={key}")
                 for label, key in MGMT_TABS], role="tablist")


def build_tab_page_host(db: Path) -> Host:
    "The downstream host: an async `/manage` tab page that refreshes, then embeds `render_page()` in its layout."
    app, rt = new_app("txdecomp")
    router = APIRouter(prefix="")
    session_mgmt_result = init_decomp_session_manager(db)
    workflow = add_workflow_routes(router)

    @router
    async def manage(request):
        "Management page: tab nav + the active tab; full page requests get the navbar layout."
        active_tab = request.query_params.get("tab", "sessions")

        async def _build_wrapper():
            if active_tab == "graphs":
                content = P("No graphs yet.")
            else:
                session_mgmt_result.refresh_items(request=request)
                content = session_mgmt_result.render_page()
            return Div(render_mgmt_tabs(active_tab), content, id=MGMT_WRAPPER_ID)

        wrapper = await _build_wrapper()
        return handle_htmx_request(request, lambda: wrapper,
                                   wrap_fn=lambda content: wrap_with_layout(content, navbar=navbar))

    navbar = create_navbar(title="Structure Decomp Demo", nav_items=[("Workflow", workflow), ("Manage", manage)],
                           home_route=manage, theme_selector=True)
    register_routes(app, router, *session_mgmt_result.routers)
    return Host(app, session_mgmt_result, "/manage")


def build_sync_tab_page_host(db: Path) -> Host:
    "The tab page as a plain `def` route (FastHTML runs it in a worker thread)."
    app, rt = new_app("txdecomp")
    router = APIRouter(prefix="")
    session_mgmt_result = init_decomp_session_manager(db)
    workflow = add_workflow_routes(router)

    @router
    def manage(request):
        "Management page: tab nav + the session manager, in the host layout for full page requests."
        session_mgmt_result.refresh_items(request=request)
        wrapper = Div(render_mgmt_tabs("sessions"), session_mgmt_result.render_page(), id=MGMT_WRAPPER_ID)
        return handle_htmx_request(request, lambda: wrapper,
                                   wrap_fn=lambda content: wrap_with_layout(content, navbar=navbar))

    navbar = create_navbar(title="Structure Decomp Demo", nav_items=[("Workflow", workflow), ("Manage", manage)],
                           home_route=manage, theme_selector=True)
    register_routes(app, router, *session_mgmt_result.routers)
    return Host(app, session_mgmt_result, "/manage")


def build_calling_styles_host(db: Path) -> Host:
    """A host with one page per way hosts call `refresh_items` (`/styles/<name>`), each embedding the manager
    in the host's own wrapper; `list_only` embeds `render_list()` instead of `render_page()`."""
    app, rt = new_app("styles")
    router = APIRouter(prefix="")
    styles = APIRouter(prefix="/styles")
    sm = init_decomp_session_manager(db)
    add_workflow_routes(router)

    def wrap(content): return Div(render_mgmt_tabs("sessions"), content, id=MGMT_WRAPPER_ID)

    @styles
    async def keyword(request):
        sm.refresh_items(request=request)
        return wrap(sm.render_page())

    @styles
    async def positional(request):
        sm.refresh_items(request)
        return wrap(sm.render_page())

    @styles
    async def bare(request):
        sm.refresh_items()
        return wrap(sm.render_page())

    @styles
    async def awaited(request):
        await sm.refresh_items(request=request)
        return wrap(sm.render_page())

    @styles
    async def awaited_bare(request):
        await sm.refresh_items()
        return wrap(sm.render_page())

    @styles
    def sync_keyword(request):
        sm.refresh_items(request=request)
        return wrap(sm.render_page())

    @styles
    def sync_positional(request):
        sm.refresh_items(request)
        return wrap(sm.render_page())

    @styles
    def sync_bare(request):
        sm.refresh_items()
        return wrap(sm.render_page())

    @styles
    async def list_only(request):
        sm.refresh_items(request=request)
        return wrap(sm.render_list())

    register_routes(app, router, styles, *sm.routers)
    return Host(app, sm, "/styles/keyword")


def build_meeting_host(db: Path, meet: Callable[[], None]) -> Host:
    """Tab pages whose requests stop at `meet()` between `refresh_items` and `render_page`: two users' requests
    meet there, the moment where a shared "active session" pointer hands one user's badge to the other.
    `/manage` is async with `request=`, `/manage_sync` a plain `def`, `/manage_bare` the 0.0.2 bare call."""
    app, rt = new_app("meeting")
    router = APIRouter(prefix="")
    sm = init_decomp_session_manager(db)
    add_workflow_routes(router)

    @router
    async def manage(request):
        sm.refresh_items(request=request)
        meet()
        return Div(render_mgmt_tabs("sessions"), sm.render_page(), id=MGMT_WRAPPER_ID)

    @router
    def manage_sync(request):
        sm.refresh_items(request=request)
        meet()
        return Div(render_mgmt_tabs("sessions"), sm.render_page(), id=MGMT_WRAPPER_ID)

    @router
    async def manage_bare(request):
        sm.refresh_items()
        meet()
        return Div(render_mgmt_tabs("sessions"), sm.render_page(), id=MGMT_WRAPPER_ID)

    register_routes(app, router, *sm.routers)
    return Host(app, sm, "/manage")


def build_prefixed_manager(db: Path, prefix: str) -> Host:
    "Only the manager's routers, mounted at `prefix` (a host that mounts it somewhere else)."
    app, rt = new_app("prefixed")
    service = SessionManagementService(state_store=SQLiteWorkflowStateStore(db), flow_id=FLOW_ID,
                                       enricher=decomp_enricher)
    result = init_session_manager_routers(service=service, workflow_url=WORKFLOW_URL, prefix=prefix,
                                          column_specs=decomp_column_specs())
    register_routes(app, *result.routers)
    return Host(app, result, f"{prefix}/management_page")


# --------------------------------------------------------------------------------------------------
# The host's database: runs seeded straight into `workflow_state`, as the workflow leaves them
# --------------------------------------------------------------------------------------------------
@dataclass
class Run:
    "One workflow run as the workflow stores it."
    session_id: str
    label: Optional[str]
    step: str
    sources: List[str]  # record ids of the selected sources
    segments: int  # number of segments made so far
    created_at: str
    updated_at: str

    def state(self) -> Dict[str, Any]:
        "The state blob the decomposition workflow would have saved."
        return {"step_states": {
            "selection": {"selected_sources": [{"record_id": r, "media_path": f"/media/{r}.mp3"} for r in self.sources]},
            "segmentation": {"segments": [{"text": f"Segment {i + 1}."} for i in range(self.segments)]}}}


LECTURE = Run("0b8f3c9e-2d4a-4f61-9c1e-5a7b3d2e1f01", "Lecture 3 notes", "segmentation",
              ["lecture-03-a", "lecture-03-b", "lecture-03-c"], 12, "2026-01-10 09:00:00", "2026-01-12 10:30:00")
INTERVIEW = Run("1c9a4d0f-3e5b-4a72-8d2f-6b8c4e3f2a02", "Interview with Sam", "review",
                ["interview-sam", "interview-sam-2"], 5, "2026-01-11 14:00:00", "2026-01-11 15:45:00")
PODCAST = Run("2dab5e1a-4f6c-4b83-9e3a-7c9d5f4a3b03", None, "selection",
              ["podcast-07"], 0, "2026-01-09 08:15:00", "2026-01-09 08:20:00")
RUNS = [LECTURE, INTERVIEW, PODCAST]


def create_state_db(db: Path) -> Path:
    "A state file as the workflow's own `SQLiteWorkflowStateStore` creates it."
    SQLiteWorkflowStateStore(db)
    return db


def seed_runs(db: Path, runs: List[Run], flow_id: str = FLOW_ID) -> None:
    "Insert `runs` into `workflow_state`, in order."
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO workflow_state (flow_session_key, current_step, state_json, created_at, updated_at, label)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(f"{flow_id}:{r.session_id}", r.step, json.dumps(r.state()), r.created_at, r.updated_at, r.label)
             for r in runs])
    conn.close()


def stored_runs(db: Path, flow_id: str = FLOW_ID) -> Dict[str, tuple]:
    "session id -> (label, current_step, state_json, created_at, updated_at) of every run of the flow."
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT flow_session_key, label, current_step, state_json, created_at, updated_at"
                            " FROM workflow_state WHERE substr(flow_session_key, 1, ?) = ?",
                            (len(flow_id) + 1, f"{flow_id}:")).fetchall()
    finally:
        conn.close()
    return {key[len(flow_id) + 1:]: tuple(rest) for key, *rest in rows}
