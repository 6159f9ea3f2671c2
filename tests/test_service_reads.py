"""Search and sort what the list shows (issue 9), on both databases.

The display table holds, per session, the text the list shows: the resolved label (stored, else the host's
label generator, else the default), the step title and the host columns. These tests search and sort that
text, write through the store and plain SQL behind the service's back, and check that the next read sees it.
"""
import random
import time

import pytest

from cjm_fasthtml_workflow_session_management.models import SessionQuery
from cjm_fasthtml_workflow_session_management.services.display import READ_REFRESH

from backends import SqliteBackend
from http_helpers import ts
from service_helpers import (
    FLOW, found, ids, kept_counts, make_service, raw_delete, raw_insert, raw_set, read_all, real_counts, settle,
    stale_count)

STEP_TITLES = {"upload": "Upload audio", "transcribe": "Transcribe", "review": "Review"}
STEP_ORDER = ("upload", "transcribe", "review")


def transcript_label(summary, state):
    "A released-style label generator, (summary, state): names a session after its file."
    return f"Transcript of {state['file']}" if state.get("file") else None


def file_column(state):
    "A released-style enricher, state only: one host column."
    return {"file": state.get("file", "")}


def transcript_service(backend, **kw):
    "A service set up like the transcript host: generated labels, step titles, a host column."
    return make_service(backend, label_generator=transcript_label, enricher=file_column,
                        get_step_title=STEP_TITLES.get, **kw)


def order(svc, order_by, descending=False, **kw):
    "Ids of every session in one order."
    return ids(read_all(svc, SessionQuery(order_by, descending, **kw)))


# --------------------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------------------
def test_search_finds_what_the_list_shows(backend):
    "Generated labels, step titles, host column text, stored labels, ids and step ids are all searchable."
    backend.seed([{"id": "sess-a", "step": "upload", "state": {"file": "bulk-0927.wav"}},
                  {"id": "sess-b", "label": "Interview", "step": "transcribe", "state": {"file": "talk.mp3"}},
                  {"id": "sess-c", "label": "Notes", "step": "review"},
                  {"id": "sess-d", "label": "Other"},
                  {"id": "sess-e", "label": "Accents", "state": {"file": "Résumé FINAL.wav"}}])
    svc = transcript_service(backend)
    assert found(svc, "Transcript of bulk") == {"sess-a"}  # generated label
    assert found(svc, "upload audio") == {"sess-a"}  # step title
    assert found(svc, "talk.mp3") == {"sess-b"}  # host column
    assert found(svc, "nterv") == {"sess-b"}  # stored label
    assert found(svc, "sess-c") == {"sess-c"}  # id
    assert found(svc, "review") == {"sess-c"}  # step id and title
    assert found(svc, "0927") == {"sess-a"}
    assert found(svc, "resume final") == {"sess-e"}  # host text, accents and case folded
    assert found(svc, "nothing like this") == set()


def check_searches(svc, expected_by_term: dict) -> None:
    "Each search finds exactly its expected ids, in a full read and in a first window (with its count)."
    wrong = {}
    for term, expected in expected_by_term.items():
        page = svc.read_page(0, 10, search=term)
        got = (found(svc, term), page.total, page.capped, set(ids(page.items)))
        if got != (expected, len(expected), False, expected): wrong[term] = got
    assert wrong == {}


def test_search_ignores_case_and_accents(backend):
    backend.seed([{"id": "c1", "label": "cafe"}, {"id": "c2", "label": "Café crème"}, {"id": "c3", "label": "CAFE"},
                  {"id": "c4", "label": "milk"}])
    cafes = {"c1", "c2", "c3"}
    check_searches(make_service(backend), {"CAFÉ": cafes, "café": cafes, "Cafe": cafes, "CAF": cafes, "É": cafes,
                                           "crème": {"c2"}, "CREME": {"c2"}, "ÇAFE": cafes, "milk": {"c4"}})


def test_search_wildcards_are_literal(backend):
    "`%`, `_`, the escape character and the search index's own syntax match only themselves, in short and long searches."
    backend.seed([{"id": "p1", "label": "100% done"}, {"id": "p2", "label": "1000 done"}, {"id": "p3", "label": "a_b"},
                  {"id": "p4", "label": "axb"}, {"id": "p5", "label": "a%b"}, {"id": "p6", "label": "a\\b"},
                  {"id": "p7", "label": 'say "hi" OR x*y'}, {"id": "p8", "label": "say hi or xy"}])
    check_searches(make_service(backend), {"%": {"p1", "p5"}, "0%": {"p1"}, "0% d": {"p1"}, "_": {"p3"}, "a_b": {"p3"},
                                           "a%b": {"p5"}, "\\": {"p6"}, "a\\b": {"p6"}, "%%": set(), "__": set(),
                                           '"hi"': {"p7"}, '"': {"p7"}, "x*y": {"p7"}, "*": {"p7"}, "hi or": {"p8"},
                                           '" or x': {"p7"}, "or": {"p7", "p8"}})


def test_one_and_two_character_searches(backend):
    backend.seed([{"id": "k1", "label": "azqa"}, {"id": "k2", "label": "plain"}, {"id": "k3", "label": "qua"}])
    check_searches(make_service(backend), {"q": {"k1", "k3"}, "zq": {"k1"}, "Zq": {"k1"}, "x": set(), " q ": {"k1", "k3"}})


def test_search_counts_stop_at_1000(backend):
    "Counts of a search cap at 1000 (`capped`); a search matching fewer counts exactly; the window still fills."
    backend.seed([{"id": f"r{i:04d}", "label": f"Run {i}"} for i in range(1100)])
    svc = make_service(backend)
    settle(svc)
    for term in ("run", "ru", "r"):
        page = svc.read_page(0, 20, search=term)
        assert (page.total, page.capped, len(page.items)) == (1000, True, 20), term
    page = svc.read_page(0, 20, search="Run 1")  # Run 1, 10-19, 100-199, 1000-1099
    assert (page.total, page.capped) == (211, False)
    with svc.reader() as r:
        assert r.count(SessionQuery(search="run"), cap=None) == (1100, False)
        assert r.count(SessionQuery()) == (1100, False)  # no search: the count table, never capped


def test_a_huge_shown_text_saves_lists_and_is_searchable_by_its_start(backend):
    "Search reads the start of each shown value; a label or host value of any size still saves, lists and sorts."
    rng = random.Random(7)
    noise = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(5000))  # 15 KB that hardly compresses
    svc = transcript_service(backend)
    file_key = svc.add_host_sort("file")
    a = svc.create_session()
    backend.store.set_session_label(FLOW, a, "Needle " + noise)  # the store takes a label of any length
    backend.store.update_state(FLOW, a, {"file": noise + " haystack.wav"})
    raw_insert(backend, "raw-huge", label="Raw " + noise)  # a first display row from the trigger
    assert found(svc, "needle") == {a} and found(svc, "raw " + noise[:50]) == {"raw-huge"}
    assert found(svc, "haystack") == set()  # past the searchable start of its value
    assert svc.get_session(a).resolved_label == "Needle " + noise
    assert order(svc, "label") == [a, "raw-huge"] and order(svc, file_key) == [a, "raw-huge"]


def counted(svc, query: SessionQuery) -> tuple:
    "(the count, whether counting it ran a count statement)."
    statements = []
    svc.statement_hook = statements.append
    with svc.reader() as r: n = r.count(query)
    svc.statement_hook = None
    return n, any("count(*)" in s for s in statements)


def test_a_search_count_is_kept_until_anyone_changes_the_flow(backend):
    "Counting a search again runs no count; every kind of write, by any writer, is counted afresh and exactly."
    backend.seed([{"id": f"m{i:02d}", "label": f"Match {i}", "step": "review"} for i in range(30)] + [{"id": "z", "label": "Zebra"}])
    svc, other_process = make_service(backend), make_service(backend)
    settle(svc)
    match, in_review = SessionQuery(search="match"), SessionQuery(search="match", steps=("review",))
    assert counted(svc, match) == ((30, False), True)
    assert counted(svc, match) == ((30, False), False)
    assert counted(svc, SessionQuery(search=" MATCH ")) == ((30, False), False)  # the same search, folded
    assert counted(svc, in_review) == ((30, False), True)  # a filter is a different count
    writes = [(lambda: svc.rename_session("z", "Match zebra"), 31),
              (lambda: backend.store.set_session_label(FLOW, "m00", "Plain"), 30),
              (lambda: raw_set(backend, "m01", "label", "Other"), 29),
              (lambda: other_process.delete_session("m02"), 28),
              (lambda: svc.restore_sessions(["m02"]), 29),
              (lambda: raw_insert(backend, "m99", label="Match 99"), 30),
              (lambda: backend.store.delete_session(FLOW, "m99"), 29)]
    for write, expected in writes:
        write()
        assert counted(svc, match) == ((expected, False), True)
        assert counted(svc, match) == ((expected, False), False)
    assert counted(svc, in_review)[0] == (28, False)  # m00 and m01 renamed away; z and m99 had no step


# --------------------------------------------------------------------------------------------------
# Sort
# --------------------------------------------------------------------------------------------------
def test_label_sort_is_natural_with_stored_and_generated_labels_together(backend):
    backend.seed([{"id": "l1", "label": "Lecture 10"}, {"id": "l2", "state": {"file": "2"}},
                  {"id": "l3", "label": "lecture 1"}, {"id": "l4", "label": "Zoo"}, {"id": "l5", "label": "Éclair"},
                  {"id": "l6", "state": {"file": "a"}}, {"id": "l7", "label": "apple"}])
    svc = make_service(backend, label_generator=lambda summary, state: f"Lecture {state['file']}" if state.get("file") == "2"
                       else ("banana" if state.get("file") else None))
    expected = ["l7", "l6", "l5", "l3", "l2", "l1", "l4"]  # apple banana Éclair lecture-1 Lecture-2 Lecture-10 Zoo
    assert order(svc, "label") == expected
    assert order(svc, "label", descending=True) == expected[::-1]


STEPPED = [{"id": "t1", "step": "review"}, {"id": "t2", "step": "upload"}, {"id": "t3"}, {"id": "t4", "step": "transcribe"},
           {"id": "t5", "step": "upload"}, {"id": "t6", "step": "archive"}, {"id": "t7"}]


def test_step_sorts_by_workflow_order_and_empty_steps_last(backend):
    "Steps in the host's order, steps it does not list after them by title; no step last in both directions."
    backend.seed(STEPPED)
    svc = make_service(backend, get_step_title=STEP_TITLES.get, step_order=STEP_ORDER)
    assert order(svc, "step") == ["t2", "t5", "t4", "t1", "t6", "t3", "t7"]
    assert order(svc, "step", descending=True) == ["t6", "t1", "t4", "t5", "t2", "t7", "t3"]


def test_step_sorts_by_title_without_an_order(backend):
    backend.seed(STEPPED)
    svc = make_service(backend, get_step_title=STEP_TITLES.get)
    # archive (no title: its id) < Review < Transcribe < Upload audio
    assert order(svc, "step") == ["t6", "t1", "t4", "t2", "t5", "t3", "t7"]
    assert order(svc, "step", descending=True) == ["t5", "t2", "t4", "t1", "t6", "t7", "t3"]


TIED = "2024-01-01 00:00:00"
TIE_ORDER = ["e3", "e1", "e4", "e0", "e2"]  # the order the sessions are written in


def write_tied_sessions(backend):
    "Five sessions with equal labels, steps, states and timestamps (cjm-workflow-state keeps whole seconds)."
    backend.seed([{"id": sid, "label": "Same", "step": "upload", "state": {"file": "x.wav"}, "created": TIED,
                   "updated": TIED} for sid in TIE_ORDER])


def test_ties_keep_creation_order(backend):
    "Sessions equal in the sort key come in creation order, newest first when descending."
    svc = make_service(backend, enricher=file_column)
    write_tied_sessions(backend)  # written while the service is set up: its triggers see them one by one
    for key in ("label", "created_at", "updated_at", "size", "step", svc.add_host_sort("file")):
        assert order(svc, key) == TIE_ORDER and order(svc, key, descending=True) == TIE_ORDER[::-1], key


def test_ties_among_sessions_older_than_the_service_keep_their_order(tmp_path):
    "SQLite: sessions the service finds when it is first set up keep the order they were written in (rowid)."
    backend = SqliteBackend(tmp_path / "old.db")
    write_tied_sessions(backend)
    svc = make_service(backend)
    for key in ("label", "created_at", "updated_at", "size", "step"):
        assert order(svc, key) == TIE_ORDER and order(svc, key, descending=True) == TIE_ORDER[::-1], key


def test_sessions_created_in_one_second_keep_creation_order(backend):
    "The service's own creates (whole-second timestamps) keep their order in every sort."
    svc = make_service(backend)
    made = [svc.create_session("Same") for _ in range(5)]
    for key in ("updated_at", "created_at", "label", "size"):
        assert order(svc, key, descending=True) == made[::-1], key
        assert order(svc, key) == made, key


def test_host_sort_by_shown_text(backend):
    "A host column sorts by its text, naturally; empty values last in both directions."
    backend.seed([{"id": "h1", "state": {"file": "track 10.wav"}}, {"id": "h2", "state": {"file": "track 2.wav"}},
                  {"id": "h3", "state": {"file": ""}}, {"id": "h4", "state": {"file": "Track 1.wav"}}, {"id": "h5"}])
    svc = make_service(backend, enricher=file_column)
    key = svc.add_host_sort("file")
    assert order(svc, key) == ["h4", "h2", "h1", "h3", "h5"]
    assert order(svc, key, descending=True) == ["h1", "h2", "h4", "h5", "h3"]


def test_host_sort_by_state_path(backend):
    "A `sort_path` column sorts by the state value: numbers numerically, then text; missing values last."
    ranks = {"n1": 10, "n2": 2, "n3": -1.5, "n4": None, "n5": 100.5, "n6": "high", "n7": 3}
    backend.seed([{"id": sid, "state": {} if rank is None else {"rank": rank}} for sid, rank in ranks.items()])
    svc = make_service(backend, enricher=lambda state: {"rank": f"#{state.get('rank')}"})
    key = svc.add_host_sort("rank", "$.rank")
    assert order(svc, key) == ["n3", "n2", "n7", "n1", "n5", "n6", "n4"]
    assert order(svc, key, descending=True) == ["n6", "n5", "n1", "n7", "n2", "n3", "n4"]


@pytest.mark.parametrize("sessions", [0, 3])
def test_unknown_sort_key_is_refused(backend, sessions):
    "An order the service does not know is refused, whether or not the flow has sessions to order."
    backend.seed([{"id": f"x{i}"} for i in range(sessions)])
    svc = make_service(backend)
    with pytest.raises(ValueError): svc.read_page(order_by="state_json")
    with pytest.raises(ValueError), svc.reader() as r: r.page(SessionQuery("flow_session_key"), 0, 10)


# --------------------------------------------------------------------------------------------------
# Writes behind the service's back are seen at the next read
# --------------------------------------------------------------------------------------------------
def test_store_and_raw_sql_writes_show_at_the_next_read(backend):
    svc = transcript_service(backend, step_order=STEP_ORDER)
    a, b = svc.create_session(), svc.create_session("Beta")
    file_key = svc.add_host_sort("file")
    assert found(svc, "fresh-take") == set()

    backend.store.update_state(FLOW, a, {"file": "fresh-take.wav"})  # the workflow saves its state
    assert found(svc, "fresh-take") == {a}  # host column and generated label
    assert svc.get_session(a).resolved_label == "Transcript of fresh-take.wav"
    assert order(svc, file_key) == [a, b]

    backend.store.set_current_step(FLOW, b, "review")
    assert found(svc, "Review") == {b}
    assert order(svc, "step") == [b, a]

    raw_insert(backend, "raw-1", label="Aardvark", step="upload", state_text='{"file": "zz.wav"}')
    assert found(svc, "aardvark") == {"raw-1"}
    assert order(svc, "label") == ["raw-1", b, a]  # Aardvark < Beta < Transcript of ...
    assert order(svc, "step") == ["raw-1", b, a]
    assert order(svc, file_key) == [a, "raw-1", b]

    raw_set(backend, "raw-1", "label", "Zebra")
    assert found(svc, "aardvark") == set() and found(svc, "zebra") == {"raw-1"}
    backend.store.set_session_label(FLOW, a, "Alpha")
    assert order(svc, "label") == [a, b, "raw-1"]
    backend.store.delete_session(FLOW, b)
    assert found(svc, "beta") == set() and order(svc, "label") == [a, "raw-1"]


def test_rebuild_display_after_the_label_generator_changed(backend):
    "A host that changes its label generator calls rebuild_display(); search and sort then use the new labels."
    backend.seed([{"id": f"g{i}", "state": {"file": name}} for i, name in enumerate(["b.wav", "c.wav", "a.wav"])])
    assert found(transcript_service(backend), "transcript of") == {"g0", "g1", "g2"}
    renamed = make_service(backend, label_generator=lambda summary, state: f"Take {state['file'][0]}")  # a restarted host
    renamed.rebuild_display()
    assert found(renamed, "transcript of") == set() and found(renamed, "take") == {"g0", "g1", "g2"}
    assert order(renamed, "label") == ["g2", "g0", "g1"]
    assert [i.resolved_label for i in read_all(renamed, SessionQuery("label", False))] == ["Take a", "Take b", "Take c"]


def test_changed_step_titles_rebuild_by_themselves(backend):
    "Step titles are part of what the service fingerprints: new titles show without a rebuild call."
    backend.seed([{"id": "u1", "step": "upload"}])
    assert found(make_service(backend, get_step_title=STEP_TITLES.get), "upload audio") == {"u1"}
    svc = make_service(backend, get_step_title={"upload": "Send a recording"}.get)
    assert found(svc, "send a rec") == {"u1"} and found(svc, "upload audio") == set()


def test_a_restart_keeps_the_built_display_rows(backend):
    "A host restarting with the same columns (service first, then its sort columns, as the routers add them) rebuilds nothing."
    backend.seed([{"id": f"r{i:03d}", "state": {"file": f"f{i}.wav", "duration": i}} for i in range(READ_REFRESH + 50)])

    def start():
        svc = make_service(backend, label_generator=lambda summary, state: f"Take {state['file']}",
                           enricher=lambda state: {"file": state["file"]})
        svc.add_host_sort("file"), svc.add_host_sort("duration", "$.duration")
        return svc

    settle(start())
    assert stale_count(backend) == 0
    again = start()
    assert stale_count(backend) == 0
    assert ids(again.read_page(0, 2, order_by=again.add_host_sort("duration", "$.duration")).items) == ["r249", "r248"]


def test_a_new_sort_column_rebuilds_and_sorts_every_row(backend):
    "A sort column the rows were not built with marks them for a rebuild; once built, it sorts every session."
    backend.seed([{"id": f"n{i:03d}", "state": {"duration": i}} for i in range(READ_REFRESH + 50)])
    settle(make_service(backend))
    svc = make_service(backend)
    key = svc.add_host_sort("duration", "$.duration")
    settle(svc)
    assert ids(svc.read_page(0, 2, order_by=key).items) == ["n249", "n248"]


def test_large_backlog_builds_in_the_background_while_reads_go_on(backend):
    "More stale rows than a read refreshes are built by the background builder; reads meanwhile neither block nor fail."
    n = READ_REFRESH * 4
    backend.seed([{"id": f"b{i:04d}", "state": {"file": f"f{i}"}} for i in range(n)])

    def slow_label(summary, state):
        time.sleep(0.0005)  # a host callback that costs something: the build takes a while
        return f"Built {state['file']}"

    svc = make_service(backend, label_generator=slow_label)
    assert svc.read_page(0, 20).total == n  # the first read starts the build
    builder = svc._builder
    assert builder is not None and builder.running
    slowest, reads = 0.0, 0
    while builder.running:
        started = time.perf_counter()
        page = svc.read_page(0, 20, order_by="label")
        slowest, reads = max(slowest, time.perf_counter() - started), reads + 1
        assert (page.total, len(page.items)) == (n, 20)
    builder.thread.join()
    assert reads >= 1 and slowest < 2.0
    assert stale_count(backend) == 0
    with svc.reader() as r: assert r.count(SessionQuery(search="built f"), cap=None) == (n, False)
    assert svc.read_page(0, 3, order_by="label", descending=False).items[0].resolved_label == "Built f0"


# --------------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------------
FILTERED = [{"id": "f1", "label": "Take one", "step": "upload", "updated": ts(10)},
            {"id": "f2", "step": "upload", "state": {"file": "take2.wav"}, "updated": ts(20)},
            {"id": "f3", "label": "Take three", "step": "review", "updated": ts(30)},
            {"id": "f4", "state": {"file": "other.wav"}, "updated": ts(40)},
            {"id": "f5", "label": "Misc", "updated": ts(50)}]


FILTER_CASES = [
    (SessionQuery(steps=("upload",)), {"f1", "f2"}),
    (SessionQuery(steps=("upload", "review")), {"f1", "f2", "f3"}),
    (SessionQuery(steps=("",)), {"f4", "f5"}),  # "" stands for no step
    (SessionQuery(steps=("nowhere",)), set()),
    (SessionQuery(updated_since=ts(30)), {"f3", "f4", "f5"}),  # since: inclusive
    (SessionQuery(updated_before=ts(30)), {"f1", "f2"}),  # before: exclusive
    (SessionQuery(updated_since=ts(20), updated_before=ts(50)), {"f2", "f3", "f4"}),
    (SessionQuery(unlabelled=True), {"f2", "f4"}),  # generated labels are not stored labels
    (SessionQuery(search="take"), {"f1", "f2", "f3"}),
    (SessionQuery(search="take", steps=("upload",)), {"f1", "f2"}),
    (SessionQuery(search="take", unlabelled=True), {"f2"}),
    (SessionQuery(search="ta", steps=("upload", "review"), updated_since=ts(20)), {"f2", "f3"}),
    (SessionQuery(search="wav", unlabelled=True, updated_before=ts(40)), {"f2"}),
]


def test_filters_alone_and_combined_with_search(backend):
    backend.seed(FILTERED)
    svc = transcript_service(backend)
    for query, expected in FILTER_CASES:
        assert set(ids(read_all(svc, query))) == expected, query
        with svc.reader() as r:
            assert r.count(query) == (len(expected), False), query
            assert set(ids(r.page(query, 0, 10).items)) == expected, query


def test_step_counts_stay_exact_whoever_writes(backend):
    "`steps()` and the step and flow counts match a real count after every kind of write, by any writer."
    svc = transcript_service(backend)
    other = make_service(backend, "other")

    def check(after):
        flows, steps = real_counts(backend)
        mine = {step: n for (flow, step), n in steps.items() if flow == FLOW}
        assert kept_counts(backend) == (flows, steps), after
        with svc.reader() as r:
            assert r.steps() == mine, after
            assert r.count() == (flows.get(FLOW, 0), False), after
            for step, n in mine.items(): assert r.count(SessionQuery(steps=(step,))) == (n, False), after

    a = svc.create_session(); check("service create")
    backend.store.set_current_step(FLOW, a, "upload"); check("store step")
    backend.store.update_state(FLOW, "store-made", {"x": 1}); check("store upsert inserting a row")
    backend.store.set_current_step(FLOW, "store-step", "review"); check("store upsert inserting a row at a step")
    raw_insert(backend, "raw", step="upload"); check("raw insert")
    raw_set(backend, "raw", "current_step", "review"); check("raw step change")
    raw_set(backend, "raw", "current_step", None); check("raw step cleared")
    copy = svc.duplicate_session("store-step"); check("duplicate")
    svc.delete_session(a); check("delete")
    svc.restore_sessions([a]); check("restore")
    backend.store.delete_session(FLOW, "store-made"); check("store delete")
    raw_delete(backend, "raw"); check("raw delete")
    svc.import_sessions(svc.export_sessions([copy])); check("import")
    svc.move_to_trash(query=SessionQuery(steps=("review",))); check("bulk delete by step")
    other.create_session(); backend.store.set_current_step("other", "o1", "upload"); check("another flow")
    assert svc.restore_all().count == 3; check("restore all")
