"""bench/RESULTS.md from one run's results: every table, every limit with PASS or FAIL."""
import re
from pathlib import Path

import seeding

MAX_RATIO, MAX_PAGE_BYTES, MAX_ROW_BYTES, MAX_RSS_GROWTH_MIB, MAX_IDLE_CPU_PCT = 1.5, 40 * 1024, 1024, 20, 5
NOTES_MARK = "<!-- Everything below this line is written by hand and kept when the bench rewrites this file. -->"
FLAT, INFO = True, False

SERVICE_ROWS = (  # (result key, what is timed, must stay flat)
    ("reference", "reference: fixed pure-Python work (how fast the shared machine was; not the package)", INFO),
    ("first_updated", "first window (20 rows), Updated newest first: `read_page(0, 20)`", FLAT),
    ("first_label", "first window, Session A-Z (natural order)", FLAT),
    ("first_step", "first window, Step (workflow order)", FLAT),
    ("first_host_text", "first window, host column by its text (Segments, desc)", FLAT),
    ("first_host_path", f"first window, host column by `sort_path` `{seeding.STATE_PATH}` (desc)", FLAT),
    ("last_window", "last window (`read_page(N-20, 20)`)", FLAT),
    ("keyset_row", "move by a row from the middle: `with svc.reader() as r: r.after(query, anchor, 10)`", FLAT),
    ("keyset_page", "move by a page from the middle: `r.after(query, last row of the window, 10)`", FLAT),
    ("search_few", f"search '{seeding.FEW_TERM}' (3 sessions)", FLAT),
    ("search_2pct", f"search '{seeding.TWO_PERCENT_TERM}' (~2% of sessions; count capped at 1,000 and kept until the next write)", FLAT),
    ("search_2pct_afresh", f"search '{seeding.TWO_PERCENT_TERM}' counted afresh (the first read after any write)", INFO),
    ("search_none", f"search '{seeding.NO_TERM}' (no session)", FLAT),
    ("search_short", f"search '{seeding.SHORT_TERM}' (2 characters: a scan, count capped)", INFO),
    ("count_step", "count with a step filter (`r.count(SessionQuery(steps=('review',)))`)", FLAT),
    ("changes", "change number (`changes()`)", FLAT),
    ("get_session", "`get_session`", FLAT),
    ("w_create", "`create_session`", FLAT),
    ("w_rename", "`rename_session` (a real change each time)", FLAT),
    ("w_delete", "`delete_session` (a real session each time, into the trash)", FLAT),
)
HTTP_ROWS = (
    ("reference", "reference: fixed pure-Python work (how fast the shared machine was; not the package)", INFO),
    ("page", "GET management page (a new user, default view)", FLAT),
    ("page_mid", "GET management page?start=N/2 (a link into the middle: a jump, read from the nearer end)", INFO),
    ("list", "GET list fragment (htmx, `view=` the list body's data-view)", FLAT),
    ("nav_down", "GET /vc/nav_down at the window's edge, middle of the list (keyset from `first`)", FLAT),
    ("nav_page_down", "GET /vc/nav_page_down, middle of the list (keyset from `last`)", FLAT),
    ("nav_last", "GET /vc/nav_last (End) from the middle", FLAT),
    ("search_few", f"GET list_sessions q='{seeding.FEW_TERM}' (3 sessions)", FLAT),
    ("search_2pct", f"GET list_sessions q='{seeding.TWO_PERCENT_TERM}' (~2%)", FLAT),
    ("sort_label", "GET /vc/sort?sort=label (sort by Session)", FLAT),
    ("w_create", "POST create_session (a label, a request_id)", FLAT),
    ("w_rename", "POST rename_session, top of the list (a real change each time)", FLAT),
    ("w_rename_mid", "POST rename_session from the middle of the list (view start=N/2)", FLAT),
    ("w_delete", "POST delete_sessions session_id=… (as the delete dialog sends it), top of the list", FLAT),
    ("w_delete_mid", "POST delete_sessions session_id=… from the middle of the list (view start=N/2)", FLAT),
    ("w_resume", "POST resume_session (204 + HX-Redirect)", FLAT),
    ("w_duplicate", "POST duplicate_session", FLAT),
    ("changes", "GET changes with If-None-Match (304): the live list's check", FLAT),
)
DB_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def verdict(ok: bool) -> str: return "PASS" if ok else "**FAIL**"


def done(results: list) -> list: return [r for r in results if "failed" not in r]


def table(head: list, rows: list) -> str:
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows])


def ratio_rows(results: list, section: str, spec: tuple) -> tuple:
    "(markdown rows, [(title, ratios, ok)] of the flat ones) of one timing table."
    rows, checks = [], []
    for key, title, flat in spec:
        values = [r[section][key] for r in results]
        ratios = [v / values[0] for v in values[1:]]
        ok = all(x <= MAX_RATIO for x in ratios)
        cells = [f"{x:.2f}" for x in ratios]
        rows.append([title, *[f"{v:,.0f}" for v in values], *cells, verdict(ok) if flat else "informational"])
        if flat: checks.append((title, ratios, ok))
    return rows, checks


def timing_section(results: list, section: str, spec: tuple, db: str) -> tuple:
    "A timing table of one database, and its checks."
    results = done(results)
    if len(results) < 2: return f"(no {DB_NAMES[db]} results to compare)", []
    base = results[0]["n"]
    head = ["operation", *[f"N={r['n']:,} (µs)" for r in results], *[f"N={r['n']:,} / N={base:,}" for r in results[1:]], "flat?"]
    rows, checks = ratio_rows(results, section, spec)
    return table(head, rows), [(f"{DB_NAMES[db]} {section}: {t}", x, ok) for t, x, ok in checks]


def weight_section(results: list) -> tuple:
    "Page and fragment bytes at each size and database, against the limits."
    rows, checks = [], []
    for r in results:
        w = r["weight"]
        per_row = w["fragment_bytes"] / w["rows"]
        page_ok, row_ok = w["page_bytes"] <= MAX_PAGE_BYTES, per_row <= MAX_ROW_BYTES
        rows.append([DB_NAMES[r["db"]], f"{r['n']:,}", f"{w['page_bytes']:,}", verdict(page_ok), f"{w['fragment_bytes']:,}",
                     f"{per_row:,.0f}", verdict(row_ok)])
        checks += [(f"{DB_NAMES[r['db']]} N={r['n']:,}: page of {w['rows']} rows {w['page_bytes']:,} B", None, page_ok),
                   (f"{DB_NAMES[r['db']]} N={r['n']:,}: fragment {per_row:,.0f} B per row", None, row_ok)]
    head = ["database", "N", f"page, rows=20 (bytes, ≤ {MAX_PAGE_BYTES:,})", "", "list fragment (bytes)", "per row (≤ 1,024)", ""]
    return table(head, rows), checks


def memory_section(by_db: dict) -> tuple:
    "RSS after serving at each size, and the growth over N=100, against the limit at N=100,000."
    rows, checks = [], []
    for db, results in by_db.items():
        results = done(results)
        if not results: continue
        base = results[0]
        for r in results:
            growth = r["memory"]["VmRSS"] - base["memory"]["VmRSS"]
            checked = r["n"] == 100_000 and base["n"] == 100
            rows.append([DB_NAMES[db], f"{r['n']:,}", f"{r['memory']['VmRSS']:.1f}", f"{growth:+.1f}" if r is not base else "",
                         verdict(growth <= MAX_RSS_GROWTH_MIB) if checked else ("" if r is base else "informational"),
                         f"{r['memory_after_bulk']['VmRSS']:.1f} (peak {r['memory_after_bulk']['VmHWM']:.1f})" if "memory_after_bulk" in r else ""])
            if checked: checks.append((f"{DB_NAMES[db]}: RSS growth N=100,000 over N=100 {growth:+.1f} MiB", None, growth <= MAX_RSS_GROWTH_MIB))
    head = ["database", "N", "RSS after serving (MiB)", "growth over the smallest N (MiB)", f"≤ {MAX_RSS_GROWTH_MIB} MiB", "RSS after the bulk run (MiB)"]
    return table(head, rows), checks


def bulk_section(by_db: dict) -> str:
    rows = []
    for db, results in by_db.items():
        for r in done(results):
            if "bulk" not in r: continue
            b = r["bulk"]
            rows.append([DB_NAMES[db], f"{r['n']:,}", f"{b['matched']:,}", f"{b['delete_s']:.2f}", f"{b['restored']:,} in {b['restore_s']:.2f}",
                         f"{b['http_moved']:,} in {b['http_delete_s']:.2f}", f"{b['http_restore_s']:.2f} ({b['http_left_in_trash']:,} left in the trash)"])
    head = ["database", "N", "matching", "service `move_to_trash(query=…)` (s)", "service `restore_batch` (s)",
            "HTTP `delete_sessions all=1` (s)", "HTTP `restore_sessions batch=` (Undo) (s)"]
    return table(head, rows) if rows else "(not measured)"


def build_section(by_db: dict) -> str:
    rows = []
    for db, results in by_db.items():
        for r in done(results):
            b = r["build"]
            rate = r["n"] / b["build_s"] if b["build_s"] > 0.5 else None
            rows.append([DB_NAMES[db], f"{r['n']:,}", f"{r['seed_s']:.1f}", f"{b['ctor_s']:.1f}", f"{b['host_sorts_s']:.1f}", f"{b['build_s']:.1f}",
                         f"{rate:,.0f}" if rate else "", f"{b['vacuum_s']:.1f}" if "vacuum_s" in b else "", str(len(b["progress"])),
                         f"{b['ctor_s'] + b['host_sorts_s'] + b['build_s']:.1f}", str(b["stale_left"]),
                         f"{r['load_before'][0]} → {r['load_after'][0]}"])
    head = ["database", "N", "seed (s)", "`SessionManagementService(...)` (s)", "2 × `add_host_sort` (s)", "background build until done (s)",
            "build rate (sessions/s)", "VACUUM ANALYZE (s)", "progress lines logged", "start-up + build (s)", "stale rows left",
            "load average (1 min) when the process started → ended"]
    return table(head, rows)


def restart_section(by_db: dict) -> tuple:
    rows, checks = [], []
    for db, results in by_db.items():
        for r in done(results):
            if "restart" not in r: continue
            x = r["restart"]
            rows.append([DB_NAMES[db], f"{r['n']:,}", f"{x.get('ctor_s', 0):.1f}", f"{x.get('stale_after_ctor', '')}",
                         f"{x['routers_s']:.1f}" if "routers_s" in x else "", str(x.get("stale_after_routers", "")),
                         f"{x['rebuild_s']:.1f}" if "rebuild_s" in x else "", str(x.get("stale_left", "")),
                         "; ".join(([x["error"]] if x.get("error") else []) + [f"builder: {e.split(' ', 1)[1]}" for e in x.get("builder_errors", [])])])
            ok = not x.get("error") and not x.get("builder_errors") and not x.get("stale_after_ctor") and not x.get("stale_after_routers")
            checks.append((f"{DB_NAMES[db]} N={r['n']:,}: a restart keeps the built display rows (built once)", None, ok))
    head = ["database", "N", "`SessionManagementService(...)` (s)", "stale rows after it", "`init_session_manager_routers` (s)",
            "stale rows after it", "rebuild until done (s)", "stale rows left", "errors (the host's start-up, the builder)"]
    return (table(head, rows) if rows else "(not measured)"), checks


def indexed(progress: list) -> int:
    "Sessions the background builder indexed, from its 'session list ready' lines."
    return sum(int(m) for m in re.findall(r"session list ready \((\d+) sessions indexed\)", " ".join(progress)))


def first_start_section(run: dict) -> tuple:
    "A host's first start on a fresh database: the service, then the routers, as a host writes it."
    rows, checks = [], []
    for x in run.get("first_start") or []:
        name, n = DB_NAMES[x["db"]], x["n"]
        if "failed" in x:
            rows.append([name, f"{n:,}", "", "", "", "", "", x["failed"]])
            checks.append((f"{name} N={n:,}: a host's first start builds the list without an error", None, False))
            continue
        errors = ([x["error"]] if x.get("error") else []) + [f"builder: {e.split(' ', 1)[1]}" for e in x["builder_errors"]]
        built = indexed(x["progress"])
        rows.append([name, f"{n:,}", f"{x['ctor_s']:.1f}" if "ctor_s" in x else "", f"{x['routers_s']:.1f}" if "routers_s" in x else "",
                     f"{x['until_built_s']:.1f}", f"{built:,}", str(x["stale_left"]), "; ".join(errors)])
        checks += [(f"{name} N={n:,}: a host's first start (service, then routers) builds the list without an error", None,
                    not errors and x["stale_left"] == 0),
                   (f"{name} N={n:,}: a host's first start indexes each session once ({built:,} indexed for {n:,})", None, built <= n)]
    head = ["database", "N", "`SessionManagementService(...)` (s)", "`init_session_manager_routers` (s)", "until built (s)",
            "sessions the builder indexed", "stale rows left", "errors (the host's start-up, the builder)"]
    return (table(head, rows) if rows else "(not measured)"), checks


def idle_section(idle: dict) -> tuple:
    ok = idle["cpu_pct"] < MAX_IDLE_CPU_PCT
    rows = [[f"{idle['pages']}", f"{idle['window_s']:.1f}", f"{idle['cpu_pct']:.1f}", verdict(ok), f"{idle['checks']:,}",
             f"{idle['not_304']}", f"{idle['median_ms']:.1f}", f"{idle['server_us_per_check']:,.0f}", f"{idle['client_cpu_pct']:.0f}",
             f"{idle['rss_mib']:.0f}"]]
    head = ["open pages", "window (s)", "server CPU (% of one core)", f"< {MAX_IDLE_CPU_PCT}%", "checks in the window",
            "answers not 304", "median answer (ms)", "server CPU per check (µs)", "client's own CPU (%)", "server RSS (MiB)"]
    return table(head, rows), [(f"{idle['pages']} idle pages: server CPU {idle['cpu_pct']:.1f}% of one core", None, ok)]


def failures(by_db: dict) -> str:
    bad = [r for results in by_db.values() for r in results if "failed" in r]
    return "\n".join(f"- {DB_NAMES[r['db']]} N={r['n']:,}: {r['failed']}" for r in bad)


def verdict_list(checks: list) -> str:
    lines = []
    for title, ratios, ok in checks:
        detail = f" (ratios {', '.join(f'{x:.2f}' for x in ratios)})" if ratios else ""
        lines.append(f"- {verdict(ok)} {title}{detail}")
    return "\n".join(lines)


def sections(run: dict) -> tuple:
    "(markdown body, every check) of a run."
    by_db = {"sqlite": run["sqlite"], "postgres": run["postgres"]}
    parts, checks = [], []
    for section, spec, name in (("service", SERVICE_ROWS, "Service reads and writes"), ("http", HTTP_ROWS, "HTTP (the real routes)")):
        for db, results in by_db.items():
            if not results: continue
            text, c = timing_section(results, section, spec, db)
            parts.append(f"### {name}: {DB_NAMES[db]}\n\n{text}")
            checks += c
    weight, c = weight_section([r for results in by_db.values() for r in done(results)])
    checks += c
    memory, c = memory_section(by_db)
    checks += c
    restart, c = restart_section(by_db)
    checks += c
    first, c = first_start_section(run)
    checks += c
    idle, c = idle_section(run["idle"]) if run.get("idle") else ("(not run)", [])
    checks += c
    return parts, checks, weight, memory, restart, first, idle, by_db


def header(run: dict) -> str:
    m, a, pg = run["machine"], run["args"], run.get("pg")
    pg_line = (f"- PostgreSQL {pg['version']} (a throwaway server from tests/pg_server.py on 127.0.0.1, same machine), settings: "
               + ", ".join(f"{k}={v}" for k, v in pg["settings"].items()) if pg else "- PostgreSQL: not run")
    return f"""- Machine: {m['platform']}; {m['cpu']}; {m['cores']} cores; {m['ram_gib']:.0f} GiB RAM
- Python {m['python']}, SQLite {m['sqlite']}
{pg_line}
- Package: commit {m['commit']} of this worktree
- Date: {m['date']}; whole run {run['elapsed_s'] / 60:.1f} min
- Command: `{m['command']}`
- Sizes: SQLite {', '.join(f'{n:,}' for n in a['sizes'])}; PostgreSQL {', '.join(f'{n:,}' for n in a['pg_sizes']) or 'none'}"""


def method(run: dict) -> str:
    a = run["args"]
    return f"""Each (database, N) runs in a fresh Python process. It seeds N sessions of flow `{seeding.FLOW}` plus {seeding.OTHER_ROWS:,} of
flow `{seeding.OTHER_FLOW}` straight into `workflow_state`: ~2 KB of JSON state each (a source file, settings, 12-20
transcript segments), a stored label on ~2/3 of them, the rest named by the host's label generator after their
source file, distinct creation times over ~6 months. SQLite: rows drawn in Python, one `executemany` in one
transaction. PostgreSQL: one `INSERT ... SELECT generate_series(...)` per flow, states built in SQL
(`jsonb_build_object` over a pool of 2,000 segment lists, varying names, durations and settings), one database
per size. Search terms have known match counts at every N: '{seeding.FEW_TERM}' is in 3 labels,
'{seeding.TWO_PERCENT_TERM}' in one topic of 50 (~2%, stored and generated labels), '{seeding.BULK_TERM}' in every tenth
label (10,000 at N=100,000), '{seeding.NO_TERM}' nowhere.

The service is the host's: `SessionManagementService(store, flow, enricher=…, label_generator=…, get_step_title=…,
step_order=…)`, two host columns (Duration sorted by `sort_path` `{seeding.STATE_PATH}`, Segments sorted by its text).
The process waits for the one-time display build (`svc._builder.thread.join()`); on PostgreSQL it then runs
`VACUUM ANALYZE` (the steady state autovacuum reaches on its own, without its timing landing in a measurement).

Timings are medians of wall time (`time.perf_counter`) after {10} untimed warm-up calls: service reads {a['repeat']} calls,
service writes {max(5, a['repeat'] // 4)}, HTTP reads {a['http_repeat']} requests, HTTP writes {max(5, a['http_repeat'] // 2)}.
HTTP goes through the real routes (`init_session_manager_routers` with the two host columns, on a FastHTML app)
with Starlette's TestClient in the same process, requests as the page sends them: `HX-Request: true`,
`Sec-Fetch-Site: same-origin` (and `Origin` on posts), `view`/`was` = the list body's `data-view`, `cursor`, and
`first`/`last` = the ids of the window's first and last rows; the middle of the list is the page loaded with
`start=N/2`. Each move is checked once to land where the page expects (nav_down: start+1 with the window's second
row first; nav_page_down: start+rows; End: N-rows) and every timed answer's status is checked. Writes act on real
sessions: deletes remove the sessions the create loop made; renames change the label each time; duplicates are
deleted afterwards. RSS is VmRSS of the measuring process after the HTTP runs (it also did the build).

{rounds_text(a.get('rounds', 1))}

A row marked flat must cost at most {MAX_RATIO}× at N=100,000 what it costs at N=100 (on PostgreSQL also at N=1,000,000),
medians of this one run."""


def rounds_text(rounds: int) -> str:
    if rounds <= 1: return "Each size was timed in one round."
    return (f"Each size was timed in {rounds} rounds: all sizes once, then all again, each later round in a fresh process on the "
            "database the first built (a restarted host: nothing rebuilt). A row keeps its best median over the rounds, "
            "so a slow spell of the shared machine, which lands on one size's round, does not decide a ratio.")


def render(run: dict, out: Path) -> str:
    "The whole report; hand-written notes after NOTES_MARK in the old file are kept."
    parts, checks, weight, memory, restart, first, idle, by_db = sections(run)
    failed = [c for c in checks if not c[2]]
    kept = out.read_text().split(NOTES_MARK, 1)[1] if out.exists() and NOTES_MARK in out.read_text() else "\n"
    crashed = failures(by_db)
    return f"""# Benchmark: cjm-fasthtml-workflow-session-management

{header(run)}

## Verdicts

{len(checks) - len(failed)} of {len(checks)} checked limits pass; {len(failed)} fail.{chr(10) + chr(10) + 'Children that failed:' + chr(10) + crashed if crashed else ''}

{verdict_list(failed) if failed else '(none fail)'}

<details><summary>Every check</summary>

{verdict_list(checks)}

</details>

## Method

{method(run)}

## Timings

{chr(10).join(p + chr(10) for p in parts)}
## Page weight

The page GET with `rows=20` (a new user's page of 20 rows) and the htmx GET of that view's list fragment (the list
body the page swaps in), per row.

{weight}

## Memory

{memory}

## Bulk delete and restore (informational)

Every session matching '{seeding.BULK_TERM}' (10,000 at N=100,000): deleted through the service
(`move_to_trash(query=SessionQuery(search=…))`) and restored (`restore_batch`), then deleted as the page does (POST
`delete_sessions` with `all=1` and the search's view) and restored with the notice's Undo (POST `restore_sessions
batch=…`). One run each, seconds.

{bulk_section(by_db)}

## One-time display build (informational)

Seed N sessions into a fresh database, then start the service (which adds its tables and copies every session in
SQL), add the host's two sort columns, then read once (the first read starts the background build) and wait for the
build (the host's callbacks, per session) until done.

{build_section(by_db)}

## A host's first start

A host's start-up code as written: `SessionManagementService(...)`, then `init_session_manager_routers` with the two
host columns (which add their sort columns), on a freshly seeded database of N sessions, then waiting until no
display row is stale (the bench reads once to start the build, as the host's first page would).{first_note(run)}

{first}

## Restart on a built database

What a host's start-up does after a restart: `SessionManagementService(...)`, then `init_session_manager_routers`
with the two host columns, on the database just built and served. The display rows are built already: nothing
should be stale.

{restart}

## Idle pages

The demo app (demo/app.py: SQLite, 1,000 sessions) under uvicorn in its own process on 127.0.0.1; one
asyncio process simulates open, visible, idle pages: each loads the page once, then every 2 s after the previous
answer sends `GET changes` with `If-None-Match` (the client script's conditional poll). Pages start spread over one
poll period; after 4 s to settle, the uvicorn process's CPU (user + system from /proc, via psutil) is read over the
window. The cost of one check at N=100 and N=100,000 is the `GET changes` row of the HTTP tables.

{idle}

{NOTES_MARK}{kept}"""


def first_note(run: dict) -> str:
    x = run.get("first_start_run")
    return f" (Measured separately: {x['date']}, `{x['command']}`, {x['elapsed_s'] / 60:.1f} min.)" if x else ""


def summary(run: dict) -> str:
    "The verdicts, for the terminal."
    checks = sections(run)[1]
    return verdict_list(checks).replace("**", "")
