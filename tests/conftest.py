"""Shared fixtures: real SQLite files in a temporary folder, and one real PostgreSQL server per test session.

PostgreSQL tests never skip: with `SM_TEST_PG_URL` unset they start a throwaway server (tests/pg_server.py),
and if it cannot start they fail, saying why. Each test gets a schema of its own on that server.
"""
import os
import uuid

import psycopg
import pytest
from cjm_workflow_state.state_store import SQLiteWorkflowStateStore
from psycopg import sql

from backends import PostgresBackend, SqliteBackend, with_search_path
from pg_server import start_server


@pytest.fixture
def store(tmp_path):
    "A fresh cjm-workflow-state store backed by a real SQLite file."
    return SQLiteWorkflowStateStore(tmp_path / "state.db")


@pytest.fixture(scope="session")
def pg_url():
    "URL of the PostgreSQL test database: `$SM_TEST_PG_URL` (with pg_trgm and btree_gin), else a throwaway server."
    if url := os.environ.get("SM_TEST_PG_URL"):
        yield url
        return
    try: server, reason = start_server(), None
    except Exception as e: server, reason = None, f"{type(e).__name__}: {e}"
    if server is None: pytest.fail(f"the PostgreSQL test server could not start: {reason}", pytrace=False)
    try: yield server.url
    finally: server.stop()


@pytest.fixture
def pg_conninfo(pg_url):
    "A conninfo whose search path starts with a fresh schema (so the test's tables are its own); dropped afterwards."
    schema = f"t_{uuid.uuid4().hex[:16]}"  # lower-case letters and digits: no quoting needed in the search path
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    yield with_search_path(pg_url, schema)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, tmp_path):
    "Each test once per database: a `backends.Backend` with a fresh store (PostgreSQL starts only when asked for)."
    if request.param == "sqlite": b = SqliteBackend(tmp_path / "state.db")
    else: b = PostgresBackend(request.getfixturevalue("pg_conninfo"))
    try: yield b
    finally: b.close()
