"""Render the HTML of every session-manager state into frontend/scan/ for Tailwind to scan.

The components build their class names at run time, so Tailwind cannot find them in the .py
sources: it scans this rendered HTML instead (see frontend/input.css). A state that is never
rendered here loses its styles in the built CSS, so add a state here whenever the library gains one.

Most states come through the real app (a temporary SQLite store, the service and the routers on a
FastHTML app, driven by starlette's TestClient); the few that no route reaches are rendered from
the component functions directly.

    .venv/bin/python tools/render_states.py [OUT_DIR]    # default: frontend/scan
"""
import sys
import tempfile
from pathlib import Path
from typing import List

from fasthtml.common import Button, Div, FastHTML, to_xml
from starlette.testclient import TestClient
from cjm_fasthtml_daisyui.components.actions.button import btn, btn_colors, btn_sizes
from cjm_fasthtml_daisyui.components.feedback.alert import alert_colors
from cjm_workflow_state.state_store import SQLiteWorkflowStateStore

from cjm_fasthtml_workflow_session_management.models import ColumnSpec
from cjm_fasthtml_workflow_session_management.services.management import SessionManagementService
from cjm_fasthtml_workflow_session_management.routes.init import init_session_manager_routers
from cjm_fasthtml_workflow_session_management.routes.manager import build_urls
from cjm_fasthtml_workflow_session_management.components.helpers import (
    render_active_session_badge, render_alert, render_delete_modal, render_empty_state, render_icon_button,
    render_management_tabs, render_section_header)
from cjm_fasthtml_workflow_session_management.components.page_renderer import render_page_header
from cjm_fasthtml_workflow_session_management.components.session_list import (
    render_help_modal, render_import_modal, render_list_empty, render_rename_modal, render_row_menu, render_session_delete_modal)

ROOT = Path(__file__).resolve().parent.parent
SCAN_DIR = ROOT / "frontend" / "scan"

FLOW, PREFIX, WORKFLOW_URL = "render-states", "/manage/sessions", "/workflow/"
BASE_URL = "http://testserver"
HX = {"HX-Request": "true", "Origin": BASE_URL, "Sec-Fetch-Site": "same-origin"}  # A request from the page
ALERT_COLORS = ("info", "success", "warning", "error")
STEPS = {"upload": "Upload files", "transcribe": "Transcribe", "review": "Review"}
TABS = [("sessions", "Sessions", "layers", f"{PREFIX}/management_page"), ("media", "Media", "image", "/manage/media/"),
        ("models", "Models", "cpu", "/manage/models/")]
COLUMNS = [ColumnSpec("files", "Files", width_class="w-20"), ColumnSpec("model", "Model", width_class="w-32", sort_path="$.model"),
           ColumnSpec("notes", "Notes")]  # One without a width class, as a host may leave it out
DEMO_COLUMNS = [ColumnSpec("file", "Audio file", "w-40"), ColumnSpec("words", "Words", "w-20")]
SORTS = ("label", "status", "files", "model", "created", "updated", "size")


def _enrich(state) -> dict: # Host enricher: display fields from the session's state
    return {"files": str(len(state.get("files", []))) if state.get("files") else "", "model": state.get("model", "")}


def _label(summary, state): # Host label generator; None for sessions without files (the library's default)
    files = state.get("files")
    return f"{files[0]} +{len(files) - 1}" if files else None


def _app(db_path:Path, columns=COLUMNS, show_created=True):
    "The real manager on a bare FastHTML app, with its service and result."
    store = SQLiteWorkflowStateStore(db_path)
    service = SessionManagementService(store, FLOW, enricher=_enrich, label_generator=_label, max_label_length=40,
                                       step_order=list(STEPS))
    res = init_session_manager_routers(service, WORKFLOW_URL, prefix=PREFIX, column_specs=columns, get_step_title=STEPS.get,
                                       page_title="Sessions", page_icon="layers", tab_entries=TABS, active_tab="sessions",
                                       show_created=show_created)
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
    ids.append(store.create_session(FLOW, label="A label long enough that the session column has to truncate it"))
    return ids


def _direct_components(urls) -> List[tuple]:
    "(name, HTML) of the component functions rendered directly: states no route reaches on its own."
    def xml(*parts): return "".join(to_xml(p) for p in parts)
    alerts = [render_alert(f"A {c} message.", getattr(alert_colors, c), f"alert-{c}") for c in ALERT_COLORS]
    dialogs = [render_rename_modal(urls), render_session_delete_modal(urls), render_help_modal(), render_import_modal(urls)]
    for d in dialogs: d.attrs["open"] = True
    return [
        ("direct-alerts", xml(*alerts, render_alert("No color."), render_alert("With undo", alert_colors.success, "", Button("Undo", cls="btn btn-xs")))),
        ("direct-modals", xml(render_delete_modal("x-delete", "x-delete-body", confirm_attrs={"hx_post": "/x"}), *dialogs, render_row_menu())),
        ("direct-empty", xml(render_empty_state(), render_empty_state("Nothing here.", "Really.", Button("Act", cls=str(btn))),
                             render_list_empty(urls), render_list_empty(urls, filtered=True), render_list_empty(urls, trash=True))),
        ("direct-badges-tabs", xml(render_active_session_badge(), render_management_tabs("media", TABS),
                                   render_page_header("Sessions", "layers", TABS, "models"), render_section_header("Sessions", "layers"))),
        ("direct-buttons", xml(render_icon_button("trash-2", "Delete", color=btn_colors.error),
                               render_icon_button("play", "Resume", size=btn_sizes.sm), Div(cls="hidden"))),
    ]


class _Recorder:
    "Saves each rendered state as a numbered file; `get`/`post` fetch one through the app and save its answer."
    def __init__(self, out_dir:Path, client:TestClient):
        self.out_dir, self.client, self.written = out_dir, client, []

    def save(self, name:str, html:str) -> str:
        path = self.out_dir / f"{len(self.written):02d}-{name}.html"
        # Class names with Tailwind's arbitrary variants hold "&" ("[&_td]:truncate"); HTML escapes it, the scanner must not see it escaped
        path.write_text(html.replace("&amp;", "&"), encoding="utf-8")
        self.written.append(path)
        return html

    def get(self, name:str, url:str, status:int=200, **params) -> str:
        r = self.client.get(url, params=params, headers=HX)
        assert r.status_code == status, f"{name}: GET {url} -> {r.status_code}"
        return self.save(name, r.text)

    def page(self, name:str, url:str, status:int=200, **params) -> str:
        r = self.client.get(url, params=params)
        assert r.status_code == status, f"{name}: GET {url} -> {r.status_code}"
        return self.save(name, r.text)

    def post(self, name:str, url:str, status:int=200, data:dict=None) -> str:
        r = self.client.post(url, data=data or {}, headers=HX)
        assert r.status_code == status, f"{name}: POST {url} -> {r.status_code}: {r.text[:200]}"
        return self.save(name, r.text)


def _list_states(rec:_Recorder, u, vc, ids:List[str]) -> None:
    "The page with an active session, searches, filters, every sort, the moves, the trash."
    rec.client.post(u.resume_session, data={"session_id": ids[-1]}, headers=HX)
    page = rec.page("page-sessions", u.management_page)
    assert 'id="wsm-active-session-badge"' in page, "the page shows no Active badge after a resume"
    rec.page("page-search", u.management_page, q="Interview")
    rec.get("search-no-match", u.list_sessions, q="zzz", view="")
    rec.get("filters", u.list_sessions, filters="1", step="review", age="week", unlabelled="1", view="")
    for col in SORTS:
        for d in ("asc", "desc"): rec.get(f"sort-{col}-{d}", u.list_sessions, sort=col, dir=d, start="0", view="")
    for nav in ("nav_down", "nav_page_down", "nav_last", "nav_first"): rec.get(nav, getattr(vc, nav), view="rows=5", cursor="4")
    rec.get("live-changed", u.list_sessions, live="1", shown="x,y", total="3", view="")


def _action_states(rec:_Recorder, u, ids:List[str]) -> None:
    "The detail view, the answers and alerts of every action, and the trash."
    rec.page("detail-active", u.session_detail, session_id=ids[1])
    rec.page("detail-missing", u.session_detail, 404, session_id="nope")
    rec.post("rename-too-long", u.rename_session, 422, data={"session_id": ids[0], "label": "x" * 300})
    rec.post("rename-ok", u.rename_session, data={"session_id": ids[0], "label": "Renamed session"})
    rec.post("rename-detail", u.rename_session, data={"session_id": ids[2], "label": "From the detail", "context": "detail"})
    rec.post("create", u.create_session, data={"request_id": "render-states-create"})
    rec.post("duplicate", u.duplicate_session, data={"session_id": ids[3]})
    rec.post("delete", u.delete_session, data={"session_id": ids[4]})
    rec.post("delete-gone", u.delete_session, 404, data={"session_id": ids[4]})
    rec.post("bulk-delete", u.delete_sessions, data={"session_id": [ids[5], ids[6]]})
    rec.page("detail-deleted", u.session_detail, 404, session_id=ids[4])
    rec.get("trash", u.list_sessions, view="trash=1")
    rec.page("page-trash", u.management_page, trash="1")
    rec.post("restore", u.restore_sessions, data={"session_id": ids[5], "view": "trash=1"})
    rec.post("purge", u.purge_trash, data={"all": "1", "view": "trash=1"})
    rec.get("trash-empty", u.list_sessions, view="trash=1")


def render_all(out_dir:Path=SCAN_DIR) -> List[Path]:
    "Render every state into `out_dir` (its old *.html removed first); return the files written."
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.html"): old.unlink()
    with tempfile.TemporaryDirectory(prefix="wsm-render-") as tmp:
        app, store, service, res = _app(Path(tmp) / "state.db")
        with TestClient(app, base_url=BASE_URL, follow_redirects=False) as client:
            rec = _Recorder(out_dir, client)
            rec.page("page-empty", res.urls.management_page)
            ids = _seed(store)
            _list_states(rec, res.urls, build_urls(PREFIX)[1], ids)
            _action_states(rec, res.urls, ids)
        # The demo's columns (two host columns, no Created) hide other positions on a phone
        app, store, service, demo = _app(Path(tmp) / "demo.db", DEMO_COLUMNS, show_created=False)
        _seed(store)
        with TestClient(app, base_url=BASE_URL) as client: rec.save("page-demo-columns", client.get(demo.urls.management_page).text)
        for name, html in _direct_components(res.urls): rec.save(name, html)
    return rec.written


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else SCAN_DIR
    files = render_all(out)
    print(f"render_states: {len(files)} files, {sum(f.stat().st_size for f in files):,} bytes in {out}")
