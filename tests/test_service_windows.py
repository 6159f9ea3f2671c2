"""Windows of the list: by position (`page`) and by key (`after` / `before`), on both databases.

One flow of 60 sessions with ties in every column, generated and stored labels, sessions without a step or a
host value. For every sort key, both directions and several searches and filters, the full order is checked
against an independent sort, and every window from every anchor against that order.
"""
import pytest

from cjm_fasthtml_workflow_session_management.models import SessionQuery
from cjm_fasthtml_workflow_session_management.utils import natural_key, value_sort_key

from http_helpers import ts
from service_helpers import ids, make_service, read_all

N, WINDOW = 60, 7
STEPS = (None, "upload", "transcribe", "review")
STEP_ORDER = ("upload", "transcribe", "review")
LABELS = ("Run 7", "run 10", "Alpha", "alpha", "Ünïcode", "Run 7", "Zed 2")
RANKS = (3, -1, 2.5, None, "x", 10)


def session(i: int) -> dict:
    "The i-th seeded session (seeded in this order, so `i` is its creation order)."
    state = {"file": f"take {i % 7}.wav" if i % 3 else "", "rank": RANKS[i % 6], "pad": "x" * (i % 4)}
    if RANKS[i % 6] is None: del state["rank"]
    label = None if i % 5 == 0 else LABELS[i % len(LABELS)]
    return {"id": f"w{i:02d}", "label": label, "step": STEPS[i % 4], "state": state, "created": ts(i // 2),
            "updated": ts(N - i // 3)}


SESSIONS = [session(i) for i in range(N)]
STATE = {s["id"]: s["state"] for s in SESSIONS}
CREATED = {s["id"]: i for i, s in enumerate(SESSIONS)}


def generated_label(summary, state):
    "Every tenth session is named after its file; the other unlabelled ones get the default label."
    return f"Take of {summary.session_id}" if int(summary.session_id[1:]) % 10 == 0 else None


@pytest.fixture
def flow(backend):
    "(service, {sort name: sort key}) over the 60 sessions, written while the service is set up."
    svc = make_service(backend, label_generator=generated_label, step_order=STEP_ORDER,
                       enricher=lambda state: {"file": state.get("file", ""), "rank": str(state.get("rank", ""))})
    keys = {k: k for k in ("label", "step", "created_at", "updated_at", "size")}
    keys["file"], keys["rank"] = svc.add_host_sort("file"), svc.add_host_sort("rank", "$.rank")
    backend.seed(SESSIONS)
    return svc, keys


def sort_value(name: str, item):
    "The value an item sorts by under sort `name` (None: it has none and sorts last)."
    if name == "label": return natural_key(item.resolved_label)
    if name == "step": return STEP_ORDER.index(item.summary.current_step) if item.summary.current_step else None
    if name == "created_at": return item.summary.created_at
    if name == "updated_at": return item.summary.updated_at
    if name == "size": return item.summary.state_size_bytes
    if name == "file": return natural_key(item.enriched_fields["file"]) if item.enriched_fields["file"].strip() else None
    return value_sort_key(STATE[item.session_id].get("rank"))


def expected_order(name: str, descending: bool, items: list) -> list:
    "Ids in the documented order: by value (ties by creation, newest first descending), values-less last both ways."
    filled = sorted((i for i in items if sort_value(name, i) is not None),
                    key=lambda i: (sort_value(name, i), CREATED[i.session_id]), reverse=descending)
    empty = sorted((i for i in items if sort_value(name, i) is None), key=lambda i: CREATED[i.session_id], reverse=descending)
    return ids(filled + empty)


QUERIES = {
    "all": {},
    "search": {"search": "run"},  # 3+ characters: the search index
    "short search and steps": {"search": "a", "steps": ("upload", "")},  # 1 character: a scan
    "unlabelled and recent": {"unlabelled": True, "updated_since": ts(45)},
    "few matches": {"search": "take 3"},
}


def check_windows(r, query: SessionQuery, full: list, where: str) -> None:
    "Every window by position and by key, from every anchor, against the full order (inclusive ones from every third)."
    for i, anchor in enumerate(full):
        at = f"{where}, position {i}"
        page = r.page(query, i, WINDOW)
        assert (page.offset, ids(page.items)) == (i, full[i:i + WINDOW]), at
        assert ids(r.after(query, anchor, WINDOW)) == full[i + 1:i + 1 + WINDOW], at
        assert ids(r.before(query, anchor, WINDOW)) == full[max(0, i - WINDOW):i], at
        if i % 3 == len(full) % 3:  # the last anchor among them
            assert ids(r.after(query, anchor, WINDOW, inclusive=True)) == full[i:i + WINDOW], at
            assert ids(r.before(query, anchor, WINDOW, inclusive=True)) == full[max(0, i + 1 - WINDOW):i + 1], at


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("query_name", list(QUERIES))
def test_windows_by_position_and_by_key_agree_with_the_order(flow, query_name, descending):
    svc, keys = flow
    for name, key in keys.items():
        query = SessionQuery(key, descending, **QUERIES[query_name])
        items = read_all(svc, query)
        full = expected_order(name, descending, items)
        assert ids(items) == full, name
        with svc.reader() as r:
            assert r.count(query) == (len(full), False)
            check_windows(r, query, full, f"{name} {query_name}")


def test_the_filters_select_what_they_say(flow):
    "The queries above really narrow the flow (so the windows are checked over different sets)."
    svc, _ = flow
    sizes = {name: len(read_all(svc, SessionQuery(**q))) for name, q in QUERIES.items()}
    assert sizes["all"] == N
    assert 5 <= min(sizes.values()) and max(v for k, v in sizes.items() if k != "all") < N


@pytest.mark.parametrize("query", [SessionQuery(), SessionQuery("label", False, search="run")], ids=["all", "search"])
def test_offsets_past_the_end_clamp_to_the_last_page(flow, query):
    svc, _ = flow
    full = ids(read_all(svc, query))
    with svc.reader() as r:
        for offset in (len(full), len(full) + 3, 10 ** 9):
            page = r.page(query, offset, WINDOW)
            assert (page.total, page.offset, ids(page.items)) == (len(full), len(full) - WINDOW, full[-WINDOW:])
        last = r.page(query, len(full) - WINDOW, WINDOW)
        assert ids(last.items) == full[-WINDOW:]
        assert ids(r.page(query, -5, WINDOW).items) == full[:WINDOW]


def test_window_larger_than_the_flow(flow):
    svc, _ = flow
    page = svc.read_page(0, 500, order_by="label", descending=False)
    assert (page.total, page.offset, len(page.items)) == (N, 0, N)
    assert ids(page.items) == ids(read_all(svc, SessionQuery("label", False)))


def test_keyset_reads_from_a_deleted_anchor_return_none(flow):
    svc, _ = flow
    query = SessionQuery("label", False)
    gone = ids(read_all(svc, query))[10]
    svc.delete_session(gone)
    with svc.reader() as r:
        assert r.after(query, gone, WINDOW) is None
        assert r.before(query, gone, WINDOW) is None
        assert r.after(query, "never-was", WINDOW) is None
