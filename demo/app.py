"""Demo host: a three-step transcription workflow with the session manager embedded in its layout.

Run `make demo` (or `.venv/bin/python demo/app.py [--port 5001] [--data demo/data]`), then open
http://127.0.0.1:5001/. Everything is served locally (htmx and one CSS file built at set-up), so
the page works with no network. With `--database-url postgresql://...` (or `DATABASE_URL`, or
`make demo DATABASE_URL=...`) the same demo runs on PostgreSQL, seeded the first time.
"""
import argparse
import json
import os
import random
import secrets
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import uvicorn
from fasthtml.common import (A, Button, Div, FastHTML, Form, H1, Input, Label, Link, Main, Meta, Nav, P, Redirect, Script,
                             Span, Textarea, Title)
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.staticfiles import StaticFiles
from cjm_workflow_state.state_store import SQLiteWorkflowStateStore

from cjm_fasthtml_workflow_session_management.components.page_renderer import render_manager_root, render_page_header
from cjm_fasthtml_workflow_session_management.models import ColumnSpec
from cjm_fasthtml_workflow_session_management.routes.init import init_session_manager_routers
from cjm_fasthtml_workflow_session_management.routes.manager import ACTIVE_SESSION_KEY
from cjm_fasthtml_workflow_session_management.services.management import SessionManagementService

HERE = Path(__file__).parent
FLOW = "transcription"
STEPS = {"upload": "Upload audio", "transcribe": "Transcribe", "review": "Review"}
MANAGER = "/manage/sessions"
MANAGER_PAGE = f"{MANAGER}/management_page"
TABS = [("sessions", "Sessions", "layers", MANAGER_PAGE), ("media", "Media", "film", "/media")]
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]  # Requests naming any other host are refused (DNS rebinding)


def session_secret(data_dir: Path) -> str:
    "The cookie-signing secret: from DEMO_SESSION_SECRET, else a generated file kept in the data folder."
    if env := os.environ.get("DEMO_SESSION_SECRET"): return env
    path = data_dir / "session_secret"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def enricher(state) -> dict:
    "Two host columns: the audio file and the transcript's word count."
    return {"file": state.get("file") or "—", "words": f"{len(state.get('transcript', '').split()):,}"}


def label_generator(summary, state):
    "Name unlabelled runs after their audio file."
    return f"Transcript of {state['file']}" if state.get("file") else None


def sample_rows(n: int):
    "`n` sample sessions with varied steps, sizes and ages: (id, step, state, created, updated, label)."
    rng = random.Random(7)
    now = datetime.now(timezone.utc)
    for i in range(n):
        step = rng.choice(list(STEPS))
        state = {"file": f"interview-{i + 1:02d}.wav"}
        if step != "upload": state["transcript"] = " ".join(rng.choice(["the", "panel", "agreed", "budget", "next", "quarter", "data"]) for _ in range(rng.randint(20, 400)))
        created = now - timedelta(days=rng.randint(1, 200), minutes=rng.randint(0, 1440))
        updated = created + (now - created) * rng.random()
        label = rng.choice([None, None, f"Board meeting {i + 1}", f"Customer call #{i + 1}", f"Lecture {i + 1}: data ethics",
                            f"Podcast episode {i + 1}"])
        yield secrets.token_hex(8), step, json.dumps(state), f"{created:%Y-%m-%d %H:%M:%S}", f"{updated:%Y-%m-%d %H:%M:%S}", label


def seed(store, n: int = 50) -> None:
    "Add `n` sample sessions (first run only), straight into the store's table as a bulk import would."
    rows = list(sample_rows(n))
    if hasattr(store, "db_path"):
        with sqlite3.connect(store.db_path) as conn:
            conn.executemany("INSERT INTO workflow_state (flow_session_key, current_step, state_json, created_at, updated_at, label) "
                             "VALUES (?,?,?,?,?,?)", [(f"{FLOW}:{sid}", *rest) for sid, *rest in rows])
        return
    with store.pool.connection() as conn:
        conn.cursor().executemany("INSERT INTO workflow_state (flow_id, session_id, current_step, state, created_at, updated_at, label) "
                                  "VALUES (%s, %s, %s, %s::jsonb, %s::timestamp AT TIME ZONE 'UTC', %s::timestamp AT TIME ZONE 'UTC', %s)",
                                  [(FLOW, *row) for row in rows])


def open_store(data_dir: Path, database_url: str = ""):
    "The workflow store: PostgreSQL at `database_url`, else a SQLite file in `data_dir`; and whether it is new."
    if database_url:
        from cjm_fasthtml_workflow_session_management.stores.postgres import PostgresWorkflowStateStore
        store = PostgresWorkflowStateStore(database_url)
        return store, not store.list_sessions(FLOW)
    fresh = not (data_dir / "workflow_state.db").exists()
    return SQLiteWorkflowStateStore(data_dir / "workflow_state.db"), fresh


def layout(*content, title: str = "Transcription demo"):
    "The host's page chrome: a skip link, a top bar linking the workflow and the manager, and the main area."
    skip = A("Skip to content", href="#main", cls="sr-only focus:not-sr-only focus:absolute focus:p-2 focus:bg-base-100")
    bar = Nav(A("Transcription demo", href="/", cls="font-bold text-lg"),
              Div(A("Workflow", href="/workflow", cls="link"), A("Sessions", href=MANAGER_PAGE, cls="link"), cls="flex gap-4"),
              aria_label="Site", cls="navbar bg-base-200 px-4 flex justify-between")
    return Div(skip, bar, Main(*content, id="main", tabindex="-1", cls="p-4 max-w-6xl mx-auto"), cls="min-h-screen")


def create_app(data_dir: Path, sample_sessions: int = 50, database_url: str = "") -> FastHTML:
    "The demo app on a SQLite file in `data_dir` (or PostgreSQL at `database_url`), seeded on first run, reused after."
    data_dir.mkdir(parents=True, exist_ok=True)
    static = HERE / "static"
    app = FastHTML(default_hdrs=False, secret_key=session_secret(data_dir), title="Transcription demo", htmlkw={"lang": "en"},
                   hdrs=[Meta(charset="utf-8"), Meta(name="viewport", content="width=device-width, initial-scale=1"),
                         Link(rel="icon", href="data:,"), Link(rel="stylesheet", href="/static/app.css"),
                         Script(src="/static/htmx.min.js")])
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=ALLOWED_HOSTS)
    app.mount("/static", StaticFiles(directory=static, check_dir=False), name="static")
    store, fresh = open_store(data_dir, database_url)
    if fresh: seed(store, sample_sessions)
    service = SessionManagementService(store, FLOW, enricher=enricher, label_generator=label_generator,
                                       get_step_title=STEPS.get, step_order=list(STEPS))
    manager = init_session_manager_routers(
        service, workflow_url="/workflow", prefix=MANAGER, page_title="Transcription sessions",
        column_specs=[ColumnSpec("file", "Audio file", "w-40"), ColumnSpec("words", "Words", "w-20")],
        tab_entries=TABS, layout=layout)
    for router in manager.routers: router.to_app(app)
    add_workflow_routes(app, store, service)

    @app.get("/")
    def home(): return Title("Transcription demo"), layout(manager_link_page())

    @app.get(f"{MANAGER}/")
    def manager_home(): return Redirect(MANAGER_PAGE)

    @app.get("/media")
    def media():
        "A second manager page of the host, to show the cross-management tabs."
        header = render_page_header("Media", "film", TABS, active_tab="media")
        return Title("Media"), layout(render_manager_root(P("The host's media library would be here."), header=header, icons=["layers", "film"]))

    @app.get("/healthz")
    def healthz(): return "ok"
    return app


def manager_link_page():
    "The demo's landing page."
    return Div(H1("Transcription demo", cls="text-2xl font-bold"),
               P("A three-step workflow whose runs are managed by cjm-fasthtml-workflow-session-management."),
               Div(A("Open the session manager", href=MANAGER_PAGE, cls="btn btn-primary"),
                   A("Continue the active session", href="/workflow", cls="btn"), cls="flex gap-2"), cls="flex flex-col gap-3")


def add_workflow_routes(app: FastHTML, store: SQLiteWorkflowStateStore, service: SessionManagementService) -> None:
    "The host's workflow: upload -> transcribe -> review, each step moving the session's step and state."
    def active(sess):
        sid = sess.get(ACTIVE_SESSION_KEY)
        return sid if sid and service.session_exists(sid) else None

    @app.get("/workflow")
    def workflow(sess):
        sid = active(sess)
        if sid is None:
            return Title("Workflow"), layout(P("No active session. ", A("Pick or create one in the session manager.", href=MANAGER_PAGE, cls="link")))
        item = service.get_session(sid)
        step = item.summary.current_step or "upload"
        state = store.get_state(FLOW, sid)
        return Title(f"{item.resolved_label} · Workflow"), layout(Div(
            A("← All sessions", href=MANAGER_PAGE, cls="link text-sm"),
            H1(item.resolved_label, id="workflow-label", cls="text-2xl font-bold"),
            P("Session ", Span(sid, id="workflow-session-id", cls="font-mono"), cls="text-sm opacity-70"),
            Div(*[Span(title, cls=f"step {'step-primary' if list(STEPS).index(k) <= list(STEPS).index(step) else ''}") for k, title in STEPS.items()],
                cls="steps w-full"),
            step_form(step, state), cls="flex flex-col gap-4", data_step=step))

    @app.post("/workflow/step")
    def advance(sess, step: str, value: str = ""):
        sid = active(sess)
        if sid is None or step not in STEPS: return Redirect("/workflow")
        key = {"upload": "file", "transcribe": "transcript", "review": "approved"}[step]
        store.update_state(FLOW, sid, {key: value or "yes"})
        following = list(STEPS)[min(list(STEPS).index(step) + 1, len(STEPS) - 1)]
        store.set_current_step(FLOW, sid, following)
        return Redirect("/workflow")


def step_form(step: str, state: dict):
    "The form of the current step."
    fields = {"upload": (Label("Audio file name", fr="value"), Input(id="value", name="value", value=state.get("file", ""), cls="input")),
              "transcribe": (Label("Transcript", fr="value"), Textarea(state.get("transcript", ""), id="value", name="value", cls="textarea w-full")),
              "review": (P("Approve the transcript of ", state.get("file", "this recording"), "."),)}[step]
    return Form(*fields, Input(type="hidden", name="step", value=step),
                Button("Save and continue" if step != "review" else "Approve", type="submit", id="workflow-submit", cls="btn btn-primary"),
                method="post", action="/workflow/step", cls="flex flex-col gap-2 max-w-xl")


def main():
    "Serve the demo on 127.0.0.1."
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 5001)))
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("DEMO_DATA_DIR", HERE / "data")))
    parser.add_argument("--sessions", type=int, default=50, help="sample sessions seeded on first run")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""), help="a postgresql:// URL (default: a SQLite file)")
    args = parser.parse_args()
    if not (HERE / "static" / "app.css").exists():
        raise SystemExit("demo/static/app.css is missing: run `make demo` (or bash tools/setup.sh) to build the assets.")
    uvicorn.run(create_app(args.data, args.sessions, args.database_url), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
