"""Filters with counts, and a list that stays live across tabs, users, processes and direct store writes (issue 12)."""
import re
import sqlite3
import sys
from pathlib import Path

from playwright.sync_api import expect

from manager_page import Manager

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "demo"))
from server import DemoServer  # noqa: E402

LIVE = 3000  # ms: a change elsewhere shows up within this


def _filters(page):
    details = page.locator("#wsm-filters")
    if not details.evaluate("d => d.open"): details.locator("summary").click()
    return details


def test_filters_by_step_age_and_label_combine_with_search_and_each_other(page, server):
    m = Manager(page, server.url).open()
    f = _filters(page)
    counts = {label.locator("span").first.text_content(): int(label.locator("span").nth(1).text_content())
              for label in f.locator("fieldset").first.locator("label").all()}
    assert set(counts) == {"Upload audio", "Transcribe", "Review"} and sum(counts.values()) == 50
    f.get_by_label("Review").check()
    m.wait_view("step", "review")
    expect(page.locator("#wsm-count")).to_have_text(f"{counts['Review']} matching sessions")
    assert set(page.locator("tbody td:nth-child(3)").all_text_contents()) == {"Review"}
    _filters(page).get_by_label("Without a label of their own").check()
    m.wait_view("unlabelled", "1")
    assert all(l.startswith("Transcript of") for l in m.settled().labels())
    m.search("interview-4")
    chips = page.locator("#wsm-filter-chips")
    expect(chips.get_by_role("button", name="Remove filter Step: Review")).to_be_visible()
    assert m.view()["step"] == ["review"] and m.view()["unlabelled"] == ["1"]
    chips.get_by_role("button", name="Remove filter Step: Review").click()
    m.wait_view("step", "")
    chips.get_by_role("button", name="Clear all").click()
    m.wait_view("unlabelled", "")
    m.wait_view("q", "")
    expect(page.locator("#wsm-count")).to_have_text("50 sessions")
    page.wait_for_url(re.compile(r"management_page$"))  # the address bar follows once the answer has settled
    page.reload()
    expect(page.locator("#wsm-count")).to_have_text("50 sessions")


def test_last_activity_filter_and_url_round_trip(page, server, new_user):
    m = Manager(page, server.url).open()
    _filters(page).get_by_label("Older than 30 days").check()
    m.wait_view("age", "old")
    old = m.settled().labels()
    other = new_user()
    other.goto(page.url)
    assert Manager(other, server.url).labels() == old
    expect(other.locator("#wsm-filter-chips")).to_contain_text("Last activity: Older than 30 days")


def test_a_session_created_by_another_user_appears_and_the_focused_row_and_dialog_stay(page, server, new_user):
    m = Manager(page, server.url).open()
    before = m.labels()
    m.rows.nth(2).focus()
    page.keyboard.press("F2")
    dialog = page.locator("#wsm-rename-modal")
    page.locator("#wsm-rename-input").fill("Half typed")
    other = Manager(new_user(), server.url).open()
    other.page.locator("#wsm-new-session-btn").click()
    other.settled()
    expect(page.locator("#wsm-count")).to_have_text("51 sessions", timeout=LIVE)
    expect(page.locator("#wsm-live-status")).to_contain_text("1 new session")
    expect(dialog).to_be_visible()
    expect(page.locator("#wsm-rename-input")).to_have_value("Half typed")
    assert m.labels() == before  # the rows the user looks at did not jump
    page.keyboard.press("Escape")
    assert m.focused_label() == before[2]
    page.locator("#wsm-live-status").get_by_role("button", name="Show").click()
    m.settled()
    assert len(m.labels()) == 10 and m.labels()[1:] == before[:9]


def test_a_rename_in_another_tab_shows_in_place_keeping_focus(page, server):
    m = Manager(page, server.url).open()
    m.rows.nth(1).focus()
    label = m.labels()[3]
    tab = Manager(page.context.new_page(), server.url).open()
    tab.row(label).get_by_role("button", name=f"Rename “{label}”").click()
    tab.page.locator("#wsm-rename-input").fill("Renamed in the other tab")
    tab.page.keyboard.press("Enter")
    tab.settled()
    expect(m.rows.nth(3).locator("th")).to_have_text("Renamed in the other tab", timeout=LIVE)
    expect(m.rows.nth(1)).to_be_focused()  # once the swap has settled, focus is back on the row it was on
    assert m.focused_label() == m.labels()[1]


def test_a_direct_store_write_and_a_deletion_elsewhere_show_up(page, server):
    m = Manager(page, server.url).open()
    sid = m.rows.first.get_attribute("data-session-id")
    with sqlite3.connect(server.db) as c:  # the workflow writes state through its own store
        c.execute("UPDATE workflow_state SET label = 'Written by the workflow' WHERE flow_session_key = ?", (f"transcription:{sid}",))
    expect(m.rows.first.locator("th")).to_have_text("Written by the workflow", timeout=LIVE)
    with sqlite3.connect(server.db) as c: c.execute("DELETE FROM workflow_state WHERE flow_session_key = ?", (f"transcription:{sid}",))
    expect(page.locator("#wsm-count")).to_have_text("49 sessions", timeout=LIVE)


def test_a_second_app_process_on_the_same_postgresql_database(page, pg_server, tmp_path):
    second = DemoServer(tmp_path / "second", 0, database_url=pg_server.database_url)
    try:
        Manager(page, pg_server.url).open()
        other = Manager(page.context.browser.new_context().new_page(), second.url).open()
        other.page.locator("#wsm-new-session-btn").click()
        other.settled()
        expect(page.locator("#wsm-count")).to_have_text("51 sessions", timeout=LIVE)
        other.page.context.close()
    finally:
        second.stop()


def test_offline_says_so_and_recovers(page, server, problems):
    problems.allow(503)
    Manager(page, server.url).open()
    page.route("**/changes", lambda route: route.abort())
    expect(page.locator("#wsm-live-status")).to_contain_text("Offline, retrying", timeout=LIVE + 2000)
    page.unroute("**/changes")
    with sqlite3.connect(server.db) as c: c.execute("DELETE FROM workflow_state WHERE rowid = (SELECT min(rowid) FROM workflow_state)")
    expect(page.locator("#wsm-live-status")).not_to_contain_text("Offline", timeout=15000)
    expect(page.locator("#wsm-count")).to_have_text("49 sessions", timeout=LIVE)
    problems.items = [p for p in problems.items if "ERR_FAILED" not in p]  # the aborted checks


def test_relative_times_age_while_the_page_stays_open(page, server):
    page.clock.install()
    page.clock.resume()  # time flows as usual, and can jump
    m = Manager(page, server.url).open()
    page.locator("#wsm-new-session-btn").click()
    m.settled()
    first = m.rows.first.locator("time")
    expect(first).to_have_text("just now")
    page.clock.fast_forward("03:05")
    expect(first).to_have_text("3 minutes ago")
