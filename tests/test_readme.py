"""The README's host quick-start runs as written, with only the names it leaves to the host filled in."""
import re
from pathlib import Path

from starlette.testclient import TestClient

README = Path(__file__).resolve().parents[1] / "README.md"
HX = {"HX-Request": "true", "Sec-Fetch-Site": "same-origin"}


def quick_start() -> str:
    "The Python block under the README's quick-start heading."
    return re.search(r"## Quick start for a host app\n\n```python\n(.*?)```", README.read_text(), re.S)[1]


def test_quick_start_serves_the_manager_in_the_host_layout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the quick-start keeps its database under ./data
    ns = {"SECRET": "s" * 32, "my_layout": lambda *content: ("host-layout-marker", *content)}
    exec(quick_start(), ns)
    client = TestClient(ns["app"])
    empty = client.get("/sessions")
    assert empty.status_code == 200 and "host-layout-marker" in empty.text and "No sessions yet." in empty.text

    created = client.post(ns["manager"].urls.create_session, data={"label": "From the README"}, headers=HX)
    assert created.status_code == 200
    page = client.get("/sessions").text
    assert "From the README" in page and "1 session" in page and 'id="wsm-active-session-badge"' in page
    assert client.get(ns["manager"].urls.management_page).status_code == 200


def test_the_readme_names_only_routes_the_manager_serves(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = {"SECRET": "s" * 32, "my_layout": lambda *content: content}
    exec(quick_start(), ns)
    table = README.read_text().split("### Routes", 1)[1].split("Plain form posts", 1)[0]
    named = set(re.findall(r"^\| `(\w+)` \|", table, re.M))
    served = {name for name in vars(ns["manager"].urls) if getattr(ns["manager"].urls, name)}
    assert named and named <= served, named - served
