"""Seeded sessions shaped like a transcription workflow's, written straight into `workflow_state` on either database.

Both databases get the same shape of data, drawn by the same rules:
- ~2 KB of JSON state per session (a source file, settings and 12-20 transcript segments);
- a stored label on ~2/3 of the sessions ("Interview — budget review #12"), the rest named by the host's
  label generator after their source file ("budget_review_123456.wav");
- search terms with known match counts at every N: `FEW_TERM` in exactly 3 labels, `TWO_PERCENT_TERM` in one
  topic of 50 (~2% of sessions, stored and generated labels alike), `BULK_TERM` in every tenth label
  (exactly N/10), `NO_TERM` nowhere;
- distinct creation times spread over ~6 months, the last update somewhere after.
SQLite rows are drawn in Python and inserted with one `executemany` in one transaction; PostgreSQL rows are built by
one `INSERT ... SELECT generate_series(...)` (no row leaves the server).
"""
import json
import random
import sqlite3
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg

FLOW, OTHER_FLOW, OTHER_ROWS = "bench", "other", 1_000
STEPS = ("upload", "transcribe", "review", "export")
STEP_TITLES = {"upload": "Upload audio", "transcribe": "Transcribe", "review": "Review", "export": "Export"}
FEW_TERM, TWO_PERCENT_TERM, BULK_TERM, NO_TERM, SHORT_TERM = "kilimanjaro", "budget", "dictation", "qzxv", "bu"
STATE_PATH = "$.source.duration_s"  # The host column that sorts by a state value
LABEL_SHARE = 63  # Percent of the rows outside the BULK_TERM tenth that get a stored label (0.1 + 0.9 * 0.63 = 2/3)
SPAN_DAYS = 180
# 50 topics: TWO_PERCENT_TERM is in the first only; none holds another term, a step title or a hex-only word
TOPICS = ("budget review", "product launch", "customer call", "team standup", "design critique", "hiring panel",
          "quarterly planning", "support escalation", "vendor negotiation", "board update", "user interview",
          "sales demo", "security audit", "onboarding", "retrospective", "roadmap sync", "marketing brief",
          "legal review", "press briefing", "investor pitch", "research readout", "training session",
          "incident postmortem", "partner sync", "all hands", "lecture", "podcast episode", "webinar",
          "field notes", "town hall", "pricing workshop", "data ethics", "ops handover", "release planning",
          "vision offsite", "coaching", "panel talk", "office hours", "sprint demo", "grant proposal",
          "clinic intake", "court hearing", "oral history", "focus group", "language lesson", "sermon",
          "radio show", "lab meeting", "thesis defense", "museum tour")
LABEL_KINDS = ("Interview", "Meeting", "Call", "Recording", "Notes", "Session")
WORDS = ("the", "we", "should", "probably", "revisit", "numbers", "before", "next", "week", "because", "costs",
         "moved", "again", "okay", "so", "let's", "start", "with", "agenda", "item", "two", "shipping", "date",
         "slipped", "customers", "asked", "about", "pricing", "tiers", "and", "support", "hours", "I", "think",
         "team", "agreed", "to", "follow", "up", "on", "that", "thread", "right", "after", "lunch", "yes", "exactly")
MODELS, LANGUAGES = ("whisper-large-v3", "whisper-medium", "parakeet-tdt"), ("en", "de", "fr", "es", "ja")


def few_rows(n: int) -> tuple:
    "Indexes of the 3 rows whose label holds FEW_TERM."
    return n // 4, n // 2, 3 * n // 4


def stamp(dt: datetime) -> str:
    "Format like SQLite's CURRENT_TIMESTAMP, so seeded and service-created rows sort together."
    return dt.strftime("%Y-%m-%d %H:%M:%S")


def state_of(rng: random.Random, pool: list) -> dict:
    "A ~2 KB state shaped like a transcription workflow's, with a varying number of segments."
    t, segments = 0.0, []
    for _ in range(rng.randint(12, 20)):
        end = round(t + rng.uniform(2, 12), 2)
        segments.append({"start": t, "end": end, "text": rng.choice(pool)})
        t = end
    return {"source": {"name": f"{rng.choice(TOPICS).replace(' ', '_')}_{rng.randrange(10**6):06d}.wav",
                       "duration_s": round(rng.uniform(30, 7200), 1)},
            "settings": {"model": rng.choice(MODELS), "language": rng.choice(LANGUAGES), "diarize": rng.random() < 0.5},
            "_step_transcribe": {"segments": segments}}


def label_of(rng: random.Random, i: int, n: int):
    "The stored label of row i of n, or None (the label generator names it)."
    if i in few_rows(n): return f"Interview — {FEW_TERM} expedition #{i}"
    if i % 10 == 3: return f"{BULK_TERM.title()} — {rng.choice(TOPICS)} #{i}"
    return f"{rng.choice(LABEL_KINDS)} — {rng.choice(TOPICS)} #{i}" if rng.randrange(100) < LABEL_SHARE else None


def python_rows(flow: str, n: int, seed: int):
    "Yield n rows (key, step, state JSON, created, updated, label) lazily, so 100,000 rows are never all in memory."
    rng, now = random.Random(seed), datetime.now(timezone.utc)
    pool = [" ".join(rng.choices(WORDS, k=rng.randint(10, 14))) for _ in range(2_000)]
    span = timedelta(days=SPAN_DAYS)
    for i in range(n):
        created = now - span * (n - i) / n  # >= 155 s apart at 100,000 rows: every created_at is distinct
        updated = created + (now - created) * rng.random()
        yield (f"{flow}:{uuid.UUID(int=rng.getrandbits(128), version=4)}", rng.choice(STEPS),
               json.dumps(state_of(rng, pool)), stamp(created), stamp(updated), label_of(rng, i, n))


def seed_sqlite(db: Path, n: int) -> None:
    "Insert n sessions of FLOW and OTHER_ROWS of OTHER_FLOW in one transaction."
    sql = ("INSERT INTO workflow_state (flow_session_key, current_step, state_json, created_at, updated_at, label)"
           " VALUES (?, ?, ?, ?, ?, ?)")
    conn = sqlite3.connect(db)
    try:
        with conn:  # one transaction: a commit per row would make seeding, not the service, the slow part
            conn.executemany(sql, python_rows(FLOW, n, n))
            conn.executemany(sql, python_rows(OTHER_FLOW, OTHER_ROWS, -1))
    finally:
        conn.close()


def sql_array(values) -> str:
    "A text[] literal of trusted constants (this module's own word lists)."
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


# Segment lists are drawn once into a pool of 2,000 (as the Python generator draws sentences from a pool); each
# session takes one, by hash. h(i, k) is a non-negative hash of the row number and a salt.
POOL_SQL = f"""
CREATE TEMP TABLE bench_segments AS
SELECT k, (SELECT jsonb_agg(jsonb_build_object('start', round(((j - 1) * 6.5)::numeric, 2), 'end', round((j * 6.5)::numeric, 2),
            'text', (SELECT string_agg(({sql_array(WORDS)})[1 + (hashint4(k * 7919 + j * 131 + m) & 2147483647) % {len(WORDS)}], ' ')
                     FROM generate_series(1, 10 + (hashint4(k * 31 + j) & 2147483647) % 5) m)) ORDER BY j)
           FROM generate_series(1, 12 + k % 9) j) AS segments
FROM generate_series(0, 1999) k"""

SEED_SQL = f"""
INSERT INTO workflow_state (flow_id, session_id, current_step, state, label, created_at, updated_at)
SELECT %(flow)s, md5(%(flow)s || ':' || i)::uuid::text, ({sql_array(STEPS)})[1 + h.a % 4],
  jsonb_build_object(
    'source', jsonb_build_object('name', replace(({sql_array(TOPICS)})[1 + h.b % {len(TOPICS)}], ' ', '_') || '_'
                                         || lpad((h.c % 1000000)::text, 6, '0') || '.wav',
                                 'duration_s', round((30 + (h.d % 71700) / 10.0)::numeric, 1)),
    'settings', jsonb_build_object('model', ({sql_array(MODELS)})[1 + h.a % 3], 'language', ({sql_array(LANGUAGES)})[1 + h.c % 5],
                                   'diarize', h.d % 2 = 0),
    '_step_transcribe', jsonb_build_object('segments', s.segments)),
  CASE WHEN i IN (%(few1)s, %(few2)s, %(few3)s) THEN 'Interview — {FEW_TERM} expedition #' || i
       WHEN i % 10 = 3 THEN '{BULK_TERM.title()} — ' || ({sql_array(TOPICS)})[1 + h.e % {len(TOPICS)}] || ' #' || i
       WHEN h.f % 100 < {LABEL_SHARE} THEN ({sql_array(LABEL_KINDS)})[1 + h.g % {len(LABEL_KINDS)}] || ' — '
                                   || ({sql_array(TOPICS)})[1 + h.e % {len(TOPICS)}] || ' #' || i END,
  t.created, t.created + (%(now)s - t.created) * ((h.g % 1000000) / 1000000.0)
FROM generate_series(0, %(n)s - 1) AS i
CROSS JOIN LATERAL (SELECT hashint4(i) & 2147483647 AS a, hashint4(i + 1000000007) & 2147483647 AS b,
                           hashint4(i * 3 + 1) & 2147483647 AS c, hashint4(i * 5 + 2) & 2147483647 AS d,
                           hashint4(i * 7 + 3) & 2147483647 AS e, hashint4(i * 11 + 4) & 2147483647 AS f,
                           hashint4(i * 13 + 5) & 2147483647 AS g, hashint4(i * 17 + 6) & 2147483647 AS p) AS h
CROSS JOIN LATERAL (SELECT %(now)s - interval '{SPAN_DAYS} days' * (%(n)s - i) / %(n)s AS created) AS t
JOIN bench_segments s ON s.k = h.p % 2000""".replace(" % ", " %% ")  # modulo, not a placeholder


def seed_postgres(conninfo: str, n: int) -> None:
    "Insert n sessions of FLOW and OTHER_ROWS of OTHER_FLOW, each flow by one INSERT ... SELECT generate_series."
    now = datetime.now(timezone.utc)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(POOL_SQL)
        for flow, rows in ((FLOW, n), (OTHER_FLOW, OTHER_ROWS)):
            few = few_rows(rows)
            conn.execute(SEED_SQL, {"flow": flow, "n": rows, "now": now, "few1": few[0], "few2": few[1], "few3": few[2]})
        conn.execute("ANALYZE workflow_state")


def enrich(state: dict) -> dict:
    "Host enricher (the released one-argument style): two columns computed from the state."
    return {"duration": f"{state.get('source', {}).get('duration_s', 0) / 60:.1f} min",
            "segments": str(len(state.get("_step_transcribe", {}).get("segments", [])))}


def generate_label(summary, state: dict):
    "Host label generator: the source file name, for the ~1/3 of sessions without a stored label."
    return state.get("source", {}).get("name")
