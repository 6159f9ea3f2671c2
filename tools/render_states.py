"""Render the HTML of every session-manager state into frontend/scan/ for Tailwind to scan.

The components build their class names at run time, so Tailwind cannot find them in the .py
sources: it scans this rendered HTML instead (see frontend/input.css). A state that is never
rendered here loses its styles in the built CSS, so add a state here whenever the library gains one.

Most states come through the real app (a temporary SQLite store, the service and the routers on a
FastHTML app, driven by starlette's TestClient); the few that no route reaches are rendered from
the component functions directly.

    .venv/bin/python tools/render_states.py [OUT_DIR]    # default: frontend/scan
"""
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import List

from fasthtml.common import Button, Dialog, Div, Form, H3, P, FastHTML, to_xml
from starlette.testclient import TestClient
from cjm_fasthtml_daisyui.components.actions.button import btn, btn_colors, btn_sizes
from cjm_fasthtml_daisyui.components.actions.modal import modal, modal_action, modal_box
from cjm_fasthtml_daisyui.components.feedback.alert import alert_colors
from cjm_workflow_state.state_store import SQLiteWorkflowStateStore

from cjm_fasthtml_workflow_session_management.models import ColumnSpec
from cjm_fasthtml_workflow_session_management.services.management import SessionManagementService
from cjm_fasthtml_workflow_session_management.routes.init import build_urls, init_session_manager_routers
from cjm_fasthtml_workflow_session_management.components.helpers import (
    render_active_session_badge, render_alert, render_delete_modal, render_empty_state, render_icon_button,
    render_icon_sprite, render_management_tabs, render_section_header)
from cjm_fasthtml_workflow_session_management.components.page_renderer import (
    MANAGER_ICONS, render_page_header, render_session_manager_page)
from cjm_fasthtml_workflow_session_management.components.session_list import (
    render_list_empty, render_rename_modal, render_session_delete_modal)
from cjm_fasthtml_workflow_session_management.components.session_detail import render_session_detail

ROOT = Path(__file__).resolve().parent.parent
SCAN_DIR = ROOT / "frontend" / "scan"

FLOW, PREFIX, WORKFLOW_URL = "render-states", "/manage/sessions", "/workflow/"
BASE_URL = "http://testserver"
HX = {"HX-Request": "true", "Origin": BASE_URL, "Sec-Fetch-Site": "same-origin"}  # A request from the page
SORTABLE = ("label", "step", "host-1", "updated_at", "size")  # host-1: the Model column, sorted by its state path
ALERT_COLORS = ("info", "success", "warning", "error")
STEPS = {"upload": "Upload files", "transcribe": "Transcribe", "review": "Review"}
TABS = [("sessions", "Sessions", "layers", f"{PREFIX}/"), ("media", "Media", "image", "/manage/media/"),
        ("models", "Models", "cpu", "/manage/models/")]
COLUMNS = [ColumnSpec("files", "Files", width_class="w-20"), ColumnSpec("model", "Model", width_class="w-32", sort_path="$.model"),
           ColumnSpec("notes", "Notes")]  # One without a width class, as a host may leave it out


def _enrich(summary, state) -> dict: # Host enricher: display fields from the session's state
    return {"files": str(len(state.get("files", []))) if state.get("files") else "", "model": state.get("model", "")}


def _label(summary, state): # Host label generator; None for sessions without files (the library's default)
    files = state.get("files")
    return f"{files[0]} +{len(files) - 1}" if files else None


def _app(db_path:Path):
    "The real manager on a bare FastHTML app, with its service and result."
    store = SQLiteWorkflowStateStore(db_path)
    service = SessionManagementService(store, FLOW, enricher=_enrich, label_generator=_label, max_label_length=40)
    res = init_session_manager_routers(service, WORKFLOW_URL, prefix=PREFIX, column_specs=COLUMNS,
                                       get_step_title=STEPS.get, page_title="Sessions", page_icon="layers",
                                       tab_entries=TABS, active_tab="sessions")
    app = FastHTML(default_hdrs=False, secret_key="render-states-not-secret")
    for router in res.routers: router.to_app(app)
    return app, store, service, res


def _seed(store:SQLiteWorkflowStateStore) -> List[str]:
    "Sessions covering every kind of row: labelled, generated label, default label, not started, long label."
    ids = []
    for i in range(15):
        sid = store.create_session(FLOW, label=f"Interview {i:02d}" if i % 3 == 0 else None)
        if i % 4 != 3: store.set_current_step(FLOW, sid, list(STEPS)[i % 3] if i % 5 else "unknown-step")
        if i % 2: store.update_state(FLOW, sid, {"files": [f"clip-{i}.wav", "notes.txt"], "model": "whisper-large"})
        ids.append(sid)
    store.create_session(FLOW, label="A label long enough that the session column has to truncate it " * 2)
    return ids


def _view_id(page_html:str) -> str:
    "The page's view id, from the hx-vals of #sm-root."
    m = re.search(r'<div[^>]*id="sm-root"[^>]*>', page_html)
    assert m, "no #sm-root in the page"
    vals = re.search(r"hx-vals='([^']*)'", m.group(0)) or re.search(r'hx-vals="([^"]*)"', m.group(0))
    assert vals, "no hx-vals on #sm-root"
    return json.loads(vals.group(1).replace("&quot;", '"'))["view"]


def _direct_components(urls) -> List[tuple]:
    "(name, HTML) of the component functions rendered directly: states no route reaches on its own."
    def xml(*parts): return "".join(to_xml(p) for p in parts)
    alerts = [render_alert(f"A {c} message.", getattr(alert_colors, c), alert_id=f"alert-{c}") for c in ALERT_COLORS]
    open_rename = render_rename_modal(urls)
    open_rename.attrs["open"] = True
    open_delete = render_session_delete_modal(urls)
    open_delete.attrs["open"] = True
    # daisyUI styles an open dialog through `.modal[open]`, `.modal-open`, `:target` and `.modal-toggle:checked + .modal`,
    # and closes one on a click outside the box through a `.modal-backdrop` form
    generic_open = Dialog(Div(H3("Open dialog", cls="text-lg font-bold"), P("Body"),
                              Div(Button("Close", cls=f"{btn} {btn_colors.primary}"), cls=str(modal_action)),
                              cls=str(modal_box)),
                          Form(Button("close"), method="dialog", cls="modal-backdrop"),
                          open=True, cls=f"{modal} modal-open")
    return [
        ("direct-alerts", xml(*alerts, render_alert("No color."))),
        ("direct-modals", xml(render_delete_modal("x-delete", "x-delete-body", title="Delete it?",
                                                  confirm_attrs={"hx_post": "/x"}),
                              render_rename_modal(urls, modal_id="x-rename", input_id="x-rename-input"),
                              render_session_delete_modal(urls))),
        ("direct-open-dialog", xml(open_rename, open_delete, generic_open)),
        ("direct-empty", xml(render_empty_state(), render_empty_state("Nothing here.", "Really.", Button("Act", cls=str(btn))),
                             render_list_empty(urls), render_list_empty(urls, search="zzz"))),
        ("direct-badges-tabs", xml(render_active_session_badge(), render_active_session_badge("Current", badge_id="b"),
                                   render_management_tabs("sessions", TABS), render_management_tabs("media", TABS),
                                   render_page_header("Sessions", "layers", TABS, "models"),
                                   render_section_header("Sessions", "layers"))),
        ("direct-buttons", xml(render_icon_button("trash-2", "Delete", color=btn_colors.error),
                               render_icon_button("play", "Resume", size=btn_sizes.sm),
                               render_icon_sprite(MANAGER_ICONS))),
        ("direct-page", xml(render_session_manager_page(urls, lambda: Div("list"), tab_entries=TABS, view_id="v",
                                                        alert=("Welcome back.", alert_colors.success)))),
    ]


class _Recorder:
    "Saves each rendered state as a numbered file; `get`/`post` fetch one through the app and save its answer."
    def __init__(self, out_dir:Path, client:TestClient):
        self.out_dir, self.client, self.written = out_dir, client, []

    def save(self, name:str, html:str) -> str:
        path = self.out_dir / f"{len(self.written):02d}-{name}.html"
        path.write_text(html, encoding="utf-8")
        self.written.append(path)
        return html

    def get(self, name:str, url:str, status:int=200, **kw) -> str:
        r = self.client.get(url, **kw)
        assert r.status_code == status, f"{name}: GET {url} -> {r.status_code}"
        return self.save(name, r.text)

    def post(self, name:str, url:str, status:int=200, data:dict=None, headers:dict=HX) -> str:
        r = self.client.post(url, data=data or {}, headers=headers)
        assert r.status_code == status, f"{name}: POST {url} -> {r.status_code}: {r.text[:200]}"
        return self.save(name, r.text)


def _empty_states(rec:_Recorder, u) -> None:
    "The page and a search before any session exists."
    rec.get("page-empty", u.management_page)
    vid = _view_id(rec.get("page-empty-again", u.management_page))
    rec.post("search-empty-list", u.search, data={"q": "anything", "view": vid})
    rec.post("search-cleared", u.search, data={"q": "", "view": vid})  # A new page copies the latest view's search


def _list_states(rec:_Recorder, u, vc, active:str) -> str:
    "A list with an active session: the page, the fragment, search results, every sort and the moves; returns a view id."
    r = rec.client.post(u.resume_session, data={"session_id": active}, headers=HX)
    assert r.status_code in (200, 303), f"resume -> {r.status_code}"
    page = rec.get("page-sessions", u.management_page)
    assert "data-sm-active" in page, "the page shows no Active badge after a resume"
    vid = _view_id(page)
    rec.get("list-fragment", f"{u.list_sessions}?view={vid}", headers={"HX-Request": "true"})
    for name, q in (("search-match", "Interview"), ("search-no-match", "zzz"), ("search-cleared", "")):
        rec.post(name, u.search, data={"q": q, "view": vid})
    vid = _view_id(rec.get("page-for-sort", u.management_page))  # a fresh view, so the list is unfiltered
    for col in SORTABLE:
        for direction in ("asc", "desc"):  # A second click on a column reverses it
            html = rec.post(f"sort-{col}-{direction}", vc.sort, data={"column": col, "view": vid})
            order = "ascending" if direction == "asc" else "descending"
            assert f'aria-sort="{order}" tabindex="0" data-sm-sort="{col}"' in html, f"sort {col} {direction}"
    for nav in ("nav_down", "nav_page_down", "nav_last", "nav_first"):
        rec.post(nav, getattr(vc, nav), data={"view": vid})
    return vid


def _detail_and_alert_states(rec:_Recorder, u, service, ids:List[str], active:str, vid:str) -> None:
    "The detail view, and the alerts that errors and successes leave, from the list and from the detail view."
    rec.get("detail-active", f"{u.session_detail}?session_id={active}")
    rec.get("detail-other", f"{u.session_detail}?session_id={next(i for i in ids if i != active)}")
    rec.get("detail-missing", f"{u.session_detail}?session_id=nope", status=404)
    rec.post("rename-too-long", u.rename_session, 422, data={"session_id": ids[0], "label": "x" * 300, "view": vid})
    rec.post("rename-refused", u.rename_session, 403, data={"session_id": ids[0], "label": "y", "view": vid}, headers={})
    rec.post("rename-ok", u.rename_session, data={"session_id": ids[0], "label": "Renamed session", "view": vid})
    rec.post("rename-clear", u.rename_session, data={"session_id": ids[0], "label": "", "view": vid})
    rec.post("rename-detail", u.rename_session, data={"session_id": ids[1], "label": "Renamed from detail", "context": "detail"})
    rec.post("create", u.create_session, data={"view": vid})
    rec.post("delete", u.delete_session, data={"session_id": ids[2], "view": vid})
    # Delete the active session from its detail view: a fresh one, so earlier deletes cannot have taken it
    doomed = service.create_session("Deleted from its detail view")
    rec.client.post(u.resume_session, data={"session_id": doomed}, headers=HX)
    r = rec.client.post(u.delete_session, data={"session_id": doomed, "context": "detail"}, headers=HX)
    assert r.status_code in (200, 303), f"delete from detail -> {r.status_code}"
    assert "alert-success" in rec.get("page-after-delete-flash", u.management_page), "no flash after a delete from the detail view"


def render_all(out_dir:Path=SCAN_DIR) -> List[Path]:
    "Render every state into `out_dir` (its old *.html removed first); return the files written."
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.html"): old.unlink()
    with tempfile.TemporaryDirectory(prefix="sm-render-") as tmp:
        app, store, service, res = _app(Path(tmp) / "state.db")
        u, vc = res.urls, build_urls(PREFIX)[1]
        with TestClient(app, base_url=BASE_URL, follow_redirects=False) as client:
            rec = _Recorder(out_dir, client)
            _empty_states(rec, u)
            ids = _seed(store)
            active = service.read_page(0, 1).items[0].session_id  # The first row of the default order, so it shows
            vid = _list_states(rec, u, vc, active)
            _detail_and_alert_states(rec, u, service, ids, active, vid)
        # --- what no route reaches
        item = service.read_page(0, 1).items[0]
        rec.save("detail-component", to_xml(render_session_detail(item, u, True, STEPS.get, COLUMNS)))
        for name, html in _direct_components(u): rec.save(name, html)
    return rec.written


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else SCAN_DIR
    files = render_all(out)
    print(f"render_states: {len(files)} files, {sum(f.stat().st_size for f in files):,} bytes in {out}")
