"""A tiny host app for the multi-process tests: the session manager over the database the environment names.

Run with uvicorn (`uvicorn http_app:app`, with tests/ on the path): `WSM_TEST_BACKEND` is "sqlite" or "postgres",
`WSM_TEST_TARGET` the SQLite file or the PostgreSQL conninfo. Every process gets the same session secret, so a
user's cookie works on any of them, as behind a load balancer.
"""
import os

from fasthtml.common import FastHTML

from cjm_fasthtml_workflow_session_management.models import ColumnSpec
from cjm_fasthtml_workflow_session_management.routes.init import init_session_manager_routers
from cjm_fasthtml_workflow_session_management.services.management import SessionManagementService

from cjm_fasthtml_workflow_session_management.stores.postgres import PostgresWorkflowStateStore
from cjm_workflow_state.state_store import SQLiteWorkflowStateStore
from http_helpers import FLOW, SECRET, WORKFLOW_URL, default_enricher, default_label_generator, default_step_title


def create_app() -> FastHTML:
    "The manager on the environment's database, with two host columns."
    backend, target = os.environ["WSM_TEST_BACKEND"], os.environ["WSM_TEST_TARGET"]
    store = SQLiteWorkflowStateStore(target) if backend == "sqlite" else PostgresWorkflowStateStore(target, max_size=4)
    service = SessionManagementService(store, FLOW, enricher=default_enricher, label_generator=default_label_generator,
                                       get_step_title=default_step_title)
    res = init_session_manager_routers(service, workflow_url=WORKFLOW_URL, get_step_title=default_step_title,
                                       column_specs=[ColumnSpec("owner", "Owner", sort_path="$.owner"), ColumnSpec("file", "File")])
    app = FastHTML(secret_key=SECRET, default_hdrs=False)
    for r in res.routers: r.to_app(app)
    return app


app = create_app()
