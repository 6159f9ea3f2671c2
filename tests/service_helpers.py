"""Helpers for the service tests: a service on a backend, full ordered reads, raw writes and count checks.

Every helper works on both databases through a `backends.Backend` (tests/backends.py). Raw writes go straight
to `workflow_state` in the database's own dialect, as a workflow or another tool would write it: the service
learns of them only through its triggers.
"""
from typing import Any, Dict, List, Optional, Tuple

from cjm_fasthtml_workflow_session_management.models import SessionQuery
from cjm_fasthtml_workflow_session_management.services.management import SessionManagementService

FLOW = "demo"


def make_service(backend, flow: str = FLOW, **kw) -> SessionManagementService:
    "A service on the backend's store, scoped to `flow`."
    return SessionManagementService(backend.store, flow, **kw)


def ids(items) -> List[str]:
    "Session ids of list items (or trash items), in order."
    return [i.session_id for i in items]


def settle(svc: SessionManagementService) -> None:
    "Bring every display row up to date now: a read refreshes a few, the background builder (if any) the rest."
    svc.read_page(0, 1)
    if svc._builder is not None: svc._builder.thread.join()


def read_all(svc: SessionManagementService, query: SessionQuery = SessionQuery()) -> list:
    "Every session the query matches, in its order (uncapped), read in one window."
    with svc.reader() as r:
        n = r.count(query, cap=None)[0]
        return r.page(query, 0, max(n, 1), counted=(n, False)).items


def found(svc: SessionManagementService, search: str, **kw) -> set:
    "Ids of the sessions a search finds."
    return set(ids(read_all(svc, SessionQuery(search=search, **kw))))


def split_key(key: str) -> Tuple[str, str]:
    "(flow, session id) of a dump key: the flow is what precedes the last ':' (session ids have none)."
    flow, sid = key.rsplit(":", 1)
    return flow, sid


def flow_dump(backend, flow: str = FLOW) -> list:
    "The backend's dump, only the rows of `flow`."
    return [row for row in backend.dump() if split_key(row[0])[0] == flow]


def stored(backend, flow: str = FLOW) -> Dict[str, tuple]:
    "session id -> (label, step, state dict, created_at, updated_at) of the flow's rows."
    return {split_key(k)[1]: tuple(rest) for k, *rest in flow_dump(backend, flow)}


# --------------------------------------------------------------------------------------------------
# Raw SQL in each database's dialect
# --------------------------------------------------------------------------------------------------
def raw_insert(backend, sid: str, label: Optional[str] = None, step: Optional[str] = None, state_text: str = "{}",
               flow: str = FLOW) -> None:
    "Insert a session with plain SQL (timestamps from the database's defaults)."
    if backend.name == "sqlite":
        backend.sql("INSERT INTO workflow_state (flow_session_key, label, current_step, state_json) VALUES (?, ?, ?, ?)",
                    (f"{flow}:{sid}", label, step, state_text))
    else:
        backend.sql("INSERT INTO workflow_state (flow_id, session_id, label, current_step, state) VALUES (%s, %s, %s, %s, %s::jsonb)",
                    (flow, sid, label, step, state_text))


def raw_set(backend, sid: str, column: str, value: Any, flow: str = FLOW) -> None:
    "Set one column (`label` or `current_step`) of a session with plain SQL."
    assert column in ("label", "current_step")
    if backend.name == "sqlite":
        backend.sql(f"UPDATE workflow_state SET {column} = ? WHERE flow_session_key = ?", (value, f"{flow}:{sid}"))
    else: backend.sql(f"UPDATE workflow_state SET {column} = %s WHERE flow_id = %s AND session_id = %s", (value, flow, sid))


def raw_delete(backend, sid: str, flow: str = FLOW) -> None:
    "Delete a session with plain SQL."
    if backend.name == "sqlite": backend.sql("DELETE FROM workflow_state WHERE flow_session_key = ?", (f"{flow}:{sid}",))
    else: backend.sql("DELETE FROM workflow_state WHERE flow_id = %s AND session_id = %s", (flow, sid))


def raw_states(backend, flow: str = FLOW) -> Dict[str, str]:
    "session id -> the state exactly as stored, as text (SQLite: `state_json`; PostgreSQL: `state::text`)."
    if backend.name == "sqlite":
        rows = backend.sql("SELECT flow_session_key, state_json FROM workflow_state")
        return {split_key(k)[1]: s for k, s in rows if split_key(k)[0] == flow}
    return dict(backend.sql("SELECT session_id, state::text FROM workflow_state WHERE flow_id = %s", (flow,)))


def ph(backend) -> str:
    "The database's parameter placeholder."
    return "?" if backend.name == "sqlite" else "%s"


# --------------------------------------------------------------------------------------------------
# Counts the triggers keep, against the real ones
# --------------------------------------------------------------------------------------------------
def real_counts(backend) -> Tuple[Dict[str, int], Dict[Tuple[str, str], int]]:
    "({flow: sessions}, {(flow, step): sessions}) counted from workflow_state itself (no step counts as '')."
    flows: Dict[str, int] = {}
    steps: Dict[Tuple[str, str], int] = {}
    for key, _label, step, *_ in backend.dump():
        flow = split_key(key)[0]
        flows[flow] = flows.get(flow, 0) + 1
        steps[(flow, step or "")] = steps.get((flow, step or ""), 0) + 1
    return flows, steps


def kept_counts(backend) -> Tuple[Dict[str, int], Dict[Tuple[str, str], int]]:
    "The same counts as the service's count tables hold them (zero rows left out)."
    flows = {f: int(n) for f, n in backend.sql("SELECT flow, sessions FROM sm2_flows") if n}
    steps = {(f, s): int(n) for f, s, n in backend.sql("SELECT flow, step, sessions FROM sm2_steps") if n}
    return flows, steps


def display_keys(backend) -> List[str]:
    "'flow:sid' of every display row, sorted."
    return sorted(f"{f}:{s}" for f, s in backend.sql("SELECT flow, sid FROM sm2_display"))


def workflow_keys(backend) -> List[str]:
    "'flow:sid' of every workflow_state row, sorted."
    return sorted(row[0] for row in backend.dump())


def stale_count(backend, flow: str = FLOW) -> int:
    "Display rows of `flow` waiting to be refreshed."
    return backend.sql(f"SELECT count(*) FROM sm2_stale_rows WHERE flow = {ph(backend)}", (flow,))[0][0]


def trash_rows(backend, flow: str = FLOW) -> int:
    "Rows of `flow` in the trash table."
    return backend.sql(f"SELECT count(*) FROM sm2_trash WHERE flow = {ph(backend)}", (flow,))[0][0]
