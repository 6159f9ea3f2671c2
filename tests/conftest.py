"Shared fixtures: real SQLite files in a temporary folder."
import pytest
from cjm_workflow_state.state_store import SQLiteWorkflowStateStore


@pytest.fixture
def store(tmp_path):
    "A fresh cjm-workflow-state store backed by a real SQLite file."
    return SQLiteWorkflowStateStore(tmp_path / "state.db")
