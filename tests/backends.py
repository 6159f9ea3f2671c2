"""The two databases the library runs on, behind one small interface the tests share.

`Backend` is what the `backend` fixture (tests/conftest.py) yields, once per database:
- `name`: "sqlite" or "postgres";
- `store`: a fresh cjm-workflow-state store on a private database (a temporary SQLite file, or a fresh
  PostgreSQL schema) and `target`, what opens it (the file's path, or the conninfo);
- `seed(rows, flow)`: insert sessions straight into `workflow_state`, as `http_helpers.seed` does for SQLite
  (each row: `id` and optionally `label`, `step`, `state`, `created`, `updated`);
- `dump()`: every `workflow_state` row as `(flow:session key, label, current_step, state dict, created_at,
  updated_at)`, in key order, the same tuples on both databases for the same data;
- `sql(query, params)`: a raw query in the database's own dialect (`?` placeholders on SQLite, `%s` on
  PostgreSQL), returning its rows.
"""
import json
import sqlite3
from pathlib import Path
from typing import Any, Dict, List, Sequence
from urllib.parse import quote

import psycopg
from cjm_workflow_state.state_store import SQLiteWorkflowStateStore

from cjm_fasthtml_workflow_session_management.stores.postgres import PostgresWorkflowStateStore, utc_text
from http_helpers import FLOW, seed as seed_sqlite, ts


def with_search_path(url: str, schema: str) -> str:
    "`url` with libpq `options` that put `schema` first on the search path (public stays, for pg_trgm)."
    return f"{url}{'&' if '?' in url else '?'}options={quote(f'-c search_path={schema},public')}"


class SqliteBackend:
    "A SQLiteWorkflowStateStore on a file of its own."
    name = "sqlite"

    def __init__(self, db: Path):
        self.target = Path(db)
        self.store = SQLiteWorkflowStateStore(self.target)

    def seed(self, rows: List[Dict[str, Any]], flow: str = FLOW) -> None: seed_sqlite(self.target, rows, flow)

    def sql(self, query: str, params: Sequence = ()) -> list:
        conn = sqlite3.connect(self.target)
        try:
            with conn: return [tuple(r) for r in conn.execute(query, params)]
        finally: conn.close()

    def dump(self) -> list:
        rows = self.sql("SELECT flow_session_key, label, current_step, state_json, created_at, updated_at"
                        " FROM workflow_state ORDER BY flow_session_key")
        return [(k, label, step, json.loads(state) if state else {}, c, u) for k, label, step, state, c, u in rows]

    def close(self) -> None: pass


class PostgresBackend:
    "A PostgresWorkflowStateStore on a schema of its own (`target` carries the search path)."
    name = "postgres"

    def __init__(self, conninfo: str):
        self.target = conninfo
        self.store = PostgresWorkflowStateStore(conninfo, max_size=4)

    def seed(self, rows: List[Dict[str, Any]], flow: str = FLOW) -> None:
        data = []
        for i, r in enumerate(rows):
            stamp = r.get("updated", ts(i))  # the same default timestamps as the SQLite seed
            data.append((flow, r["id"], r.get("label"), r.get("step"), json.dumps(r.get("state", {})),
                         r.get("created", stamp), stamp))
        with psycopg.connect(self.target, autocommit=True) as conn, conn.cursor() as cur:
            # Seeded timestamps are naive UTC, as SQLite's CURRENT_TIMESTAMP writes them
            cur.executemany("INSERT INTO workflow_state (flow_id, session_id, label, current_step, state, created_at,"
                            " updated_at) VALUES (%s, %s, %s, %s, %s::jsonb, %s::timestamp AT TIME ZONE 'UTC',"
                            " %s::timestamp AT TIME ZONE 'UTC')", data)

    def sql(self, query: str, params: Sequence = ()) -> list:
        with psycopg.connect(self.target, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def dump(self) -> list:
        return self.sql(f"SELECT flow_id || ':' || session_id AS k, label, current_step, state, {utc_text('created_at')},"
                        f" {utc_text('updated_at')} FROM workflow_state ORDER BY (flow_id || ':' || session_id) COLLATE \"C\"")

    def close(self) -> None: self.store.close()


Backend = SqliteBackend | PostgresBackend


def open_store(name: str, target):
    "A store of backend `name` on `target` (a SQLite path, or a PostgreSQL conninfo with a one-connection pool)."
    return SQLiteWorkflowStateStore(target) if name == "sqlite" else PostgresWorkflowStateStore(target, max_size=1)


def hammer(name: str, target, flow: str, session_id: str, proc: int, n: int, barrier) -> None:
    """One of several concurrent writers of the same session (run it in a spawned process): `n` top-level and
    `n` step-state updates, each adding its own key `k<proc>_<i>`. `barrier` lines the writers up first."""
    store = open_store(name, target)
    barrier.wait(60)  # every writer connected: now they all write at once
    for i in range(n):
        store.update_state(flow, session_id, {f"k{proc}_{i}": i})
        store.update_step_state(flow, session_id, "s", {f"k{proc}_{i}": i})
    if name == "postgres": store.close()


def hammered_keys(procs: int, n: int) -> Dict[str, int]:
    "Every key `procs` hammer writers add, with its value."
    return {f"k{p}_{i}": i for p in range(procs) for i in range(n)}
