"""One cursor that is the focused row, actions safe twice and visibly busy, honest pages (issue 10), in Chromium."""
import re
import sqlite3

from playwright.sync_api import expect

from manager_page import Manager


def test_after_rename_and_escape_the_focused_row_is_the_one_keys_act_on(page, server):
    m = Manager(page, server.url).open()
    third = m.rows.nth(2)
    third.focus()
    page.keyboard.press("F2")
    expect(page.locator("#wsm-rename-modal")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#wsm-rename-modal")).to_be_hidden()
    label = third.locator("th").text_content().strip()
    assert m.focused_label() == label and m.cursor_label() == label
    page.keyboard.press("Delete")
    expect(page.locator("#wsm-delete-modal-body")).to_contain_text(label)


def test_tab_onto_a_rows_link_moves_the_cursor_there(page, server):
    m = Manager(page, server.url).open()
    m.rows.nth(4).locator("th a").focus()
    label = m.rows.nth(4).locator("th").text_content().strip()
    assert m.cursor_label() == label
    expect(m.rows.nth(4)).to_have_attribute("aria-current", "true")
    page.keyboard.press("Delete")
    expect(page.locator("#wsm-delete-modal-body")).to_contain_text(label)


def test_roving_tabindex_tab_enters_the_list_on_the_focused_row(page, server):
    m = Manager(page, server.url).open()
    m.rows.nth(3).focus()
    page.keyboard.press("ArrowDown")
    assert m.focused_label() == m.rows.nth(4).locator("th").text_content().strip()
    tabbable = page.evaluate("[...document.querySelectorAll('#wsm-list-body tbody tr')].filter(r => r.tabIndex === 0).length")
    assert tabbable == 1


def test_enter_on_a_header_sorts_and_focus_stays_on_it(page, server):
    m = Manager(page, server.url).open()
    header = page.locator("thead").get_by_role("button", name="Session")
    header.focus()
    page.keyboard.press("Enter")
    m.wait_view("dir", "asc")
    m.settled()
    expect(page.locator("thead").get_by_role("button", name="Session")).to_be_focused()
    page.keyboard.press("Enter")
    m.wait_view("dir", "desc")
    m.settled()
    expect(page.locator("thead").get_by_role("button", name="Session")).to_be_focused()
    assert "/workflow" not in page.url


def test_type_ahead_then_arrow_and_enter_resume_a_row_of_the_search(page, server):
    Manager(page, server.url).open()
    page.keyboard.press("/")
    for ch in "podcast":
        page.keyboard.type(ch)
        page.wait_for_timeout(80)
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(80)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("/workflow$"))
    expect(page.locator("#workflow-label")).to_contain_text("Podcast")


def test_enter_typed_ahead_of_slow_search_results_opens_a_result(page, server):
    "Down and Enter pressed before the search's results arrive (a slow server) open the first result, not nothing."
    Manager(page, server.url).open()
    page.evaluate("""() => { const send = XMLHttpRequest.prototype.send;
        XMLHttpRequest.prototype.send = function (body) { setTimeout(() => send.call(this, body), 700); }; }""")
    page.keyboard.press("/")
    page.keyboard.type("podcast")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("/workflow$"))
    expect(page.locator("#workflow-label")).to_contain_text("Podcast")


def test_double_click_on_new_session_makes_one_session(page, server):
    m = Manager(page, server.url).open()
    before = int(m.count().split()[0])
    page.locator("#wsm-new-session-btn").dblclick()
    m.settled()
    expect(page.locator("#wsm-count")).to_have_text(f"{before + 1} sessions")
    page.wait_for_timeout(300)
    assert _sessions(server) == before + 1


def test_double_click_on_delete_confirm_says_deleted_not_an_error(page, server):
    m = Manager(page, server.url).open()
    row = m.rows.first
    label = row.locator("th").text_content().strip()
    row.get_by_role("button", name=f"Delete “{label}”").click()
    page.locator("#wsm-delete-modal [data-wsm-confirm]").dblclick()
    m.settled()
    expect(m.notice()).to_contain_text(f"Deleted “{label}”")
    expect(m.notice().locator(".alert-error")).to_have_count(0)
    expect(m.notice().get_by_role("button", name="Undo")).to_be_visible()


def test_double_save_in_rename_posts_once(page, server):
    m = Manager(page, server.url).open()
    posts = []
    page.on("request", lambda r: r.method == "POST" and "rename_session" in r.url and posts.append(r))
    m.rows.first.focus()
    page.keyboard.press("F2")
    page.locator("#wsm-rename-input").fill("Renamed twice over")
    page.locator("#wsm-rename-modal").get_by_role("button", name="Save").dblclick()
    m.settled()
    expect(m.rows.first.locator("th")).to_have_text("Renamed twice over")
    assert len(posts) == 1


def test_a_control_is_busy_while_its_request_is_on_its_way(page, server):
    m = Manager(page, server.url).open()
    release = []
    page.route("**/create_session", lambda route: release.append(route))
    button = page.locator("#wsm-new-session-btn")
    button.click()
    expect(button).to_have_attribute("aria-busy", "true")
    expect(button).to_be_disabled()
    release[0].continue_()
    m.settled()
    expect(page.locator("#wsm-new-session-btn")).to_be_enabled()


def test_saving_rename_unchanged_changes_nothing_and_a_rename_keeps_the_row_in_place(page, server):
    m = Manager(page, server.url).open()
    labels = m.labels()
    generated = next(i for i, l in enumerate(labels) if l.startswith("Transcript"))
    m.rows.nth(generated).focus()
    page.keyboard.press("F2")
    page.locator("#wsm-rename-modal").get_by_role("button", name="Save").click()
    m.settled()
    expect(m.notice()).to_contain_text("Nothing to change")
    assert m.labels() == labels
    m.rows.nth(3).focus()
    page.keyboard.press("F2")
    page.locator("#wsm-rename-input").fill("A brand new name")
    page.keyboard.press("Enter")
    m.settled()
    assert m.labels()[3] == "A brand new name" and m.labels()[:3] == labels[:3]


def test_the_pager_moves_by_exactly_the_rows_shown_and_stops_at_the_ends(page, server):
    m = Manager(page, server.url).open("rows=10")
    all_labels = Manager(page.context.new_page(), server.url).open("rows=50").labels()
    pager = page.locator("#wsm-pager")
    expect(pager.get_by_role("button", name="Previous page")).to_be_disabled()
    expect(pager.get_by_role("button", name="First page")).to_be_disabled()
    pager.get_by_role("button", name="Next page").click()
    m.settled()
    assert m.labels() == all_labels[10:20]
    pager.get_by_role("button", name="Last page").click()
    m.settled()
    assert m.labels() == all_labels[40:50]
    expect(pager.get_by_role("button", name="Next page")).to_be_disabled()
    pager.get_by_label("Page number").fill("2")
    pager.get_by_label("Page number").press("Enter")
    m.wait_view("start", "10")
    assert m.settled().labels() == all_labels[10:20]
    m.rows.first.focus()
    page.keyboard.press("PageDown")
    m.wait_view("start", "20")
    assert m.settled().labels() == all_labels[20:30]


def test_success_notices_fade_and_errors_stay_until_dismissed(page, server, problems):
    problems.allow(422)  # a label over the limit
    m = Manager(page, server.url).open()
    page.locator("#wsm-new-session-btn").click()
    expect(m.notice().locator("[role=status]")).to_be_visible()
    page.mouse.move(5, 5)  # a notice under the pointer waits for it to leave
    expect(m.notice().locator("[role=status]")).to_have_count(0, timeout=9000)
    m.rows.first.focus()
    page.keyboard.press("F2")
    page.locator("#wsm-rename-input").evaluate("(el) => el.removeAttribute('maxlength')")
    page.locator("#wsm-rename-input").fill("x" * 300)
    page.keyboard.press("Enter")
    error = m.notice().locator("[role=alert]")
    expect(error).to_contain_text("limit is 200")
    page.keyboard.press("Escape")
    page.wait_for_timeout(7000)
    expect(error).to_be_visible()
    error.get_by_role("button", name="Dismiss").click()
    expect(error).to_have_count(0)


def test_an_action_on_a_row_someone_else_deleted_refreshes_the_list_and_says_so(page, server, new_user, problems):
    problems.allow(404)  # the answer to an action on a session that is gone
    m = Manager(page, server.url).open()
    before = int(m.count().split()[0])
    label = m.rows.first.locator("th").text_content().strip()
    other = Manager(new_user(), server.url).open()
    other.rows.first.get_by_role("button", name=f"Delete “{label}”").click()
    other.page.locator("#wsm-delete-modal [data-wsm-confirm]").click()
    other.settled()
    m.rows.first.get_by_role("button", name=f"Rename “{label}”").click()
    page.locator("#wsm-rename-input").fill("Too late")
    page.keyboard.press("Enter")
    m.settled()
    expect(m.notice()).to_contain_text("no longer exists")
    expect(page.locator("#wsm-count")).to_have_text(f"{before - 1} sessions")
    assert label not in m.labels()


def test_a_deleted_sessions_detail_url_shows_a_page_with_the_way_back(page, server, problems):
    problems.allow(404)  # the page of a session that is gone says so with a 404
    m = Manager(page, server.url).open()
    href = m.rows.first.locator("th a").get_attribute("href")
    label = m.rows.first.locator("th").text_content().strip()
    m.rows.first.get_by_role("button", name=f"Delete “{label}”").click()
    page.locator("#wsm-delete-modal [data-wsm-confirm]").click()
    m.settled()
    page.goto(server.url + href)
    expect(page.get_by_role("heading", name="This session no longer exists")).to_be_visible()
    expect(page.get_by_role("navigation", name="Site")).to_be_visible()  # in the host's layout
    page.get_by_role("button", name="Restore it").click()
    expect(page.get_by_role("heading", name=label)).to_be_visible()
    page.get_by_role("link", name="All sessions").click()
    expect(page.locator("#wsm-list-body")).to_be_attached()


def test_after_deleting_the_last_row_focus_lands_on_new_session(page, empty_server, new_user):
    m = Manager(page, empty_server.url).open()
    expect(page.get_by_text("No sessions yet.")).to_be_visible()
    Manager(new_user(), empty_server.url).open().page.locator("#wsm-new-session-btn").click()  # someone else's session
    page.reload()
    m.rows.first.focus()
    page.keyboard.press("Delete")
    page.locator("#wsm-delete-modal [data-wsm-confirm]").click()
    m.settled()
    expect(page.locator("#wsm-new-session-btn")).to_be_focused()
    expect(page.locator("#wsm-list-body").get_by_text("No items")).to_have_count(0)


def test_question_mark_lists_the_keys(page, server):
    Manager(page, server.url).open()
    page.keyboard.press("?")
    help = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help).to_be_visible()
    expect(help).to_contain_text("Rename it")
    page.keyboard.press("Escape")
    expect(help).to_be_hidden()


def _sessions(server) -> int:
    with sqlite3.connect(server.db) as c: return c.execute("SELECT count(*) FROM workflow_state").fetchone()[0]


def test_the_detail_view_renames_duplicates_and_deletes_by_its_labelled_buttons(page, server):
    m = Manager(page, server.url).open()
    label = m.labels()[0]
    page.goto(server.url + m.rows.first.locator("th a").get_attribute("href"))
    detail = page.locator("#wsm-session-detail")
    detail.get_by_role("button", name=f"Rename “{label}”").click()
    page.locator("#wsm-rename-input").fill("Renamed in the detail view")
    page.keyboard.press("Enter")
    expect(detail.get_by_role("heading", level=2)).to_have_text("Renamed in the detail view")
    expect(page).to_have_title(re.compile("^Renamed in the detail view"))
    page.locator("#wsm-session-detail").get_by_role("button", name="Duplicate “Renamed in the detail view”").click()
    expect(page.locator("#wsm-session-detail h2")).to_have_text("Copy of Renamed in the detail view")
    expect(page.locator("#wsm-alert-area")).to_contain_text("Duplicated")
    page.locator("#wsm-session-detail").get_by_role("button", name="Delete “Copy of Renamed in the detail view”").click()
    page.locator("#wsm-delete-modal [data-wsm-confirm]").click()
    page.wait_for_url(re.compile("management_page"))
    expect(page.locator("#wsm-alert-area")).to_contain_text("Deleted “Copy of Renamed in the detail view”")
    expect(page.locator("#wsm-alert-area").get_by_role("button", name="Undo")).to_be_visible()
