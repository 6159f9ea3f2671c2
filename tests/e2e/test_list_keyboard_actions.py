"""The session list as a keyboard and mouse user drives it: styling, navigation, the actions, search and sort."""
import re

from playwright.sync_api import Page, expect

ROWS = '[id^="sm-vc-row-"]:not([id*="-col-"])'


def open_manager(page: Page, server) -> Page:
    "Load the manager page and wait for its list."
    page.goto(server.url + "/manage/sessions/")
    expect(page.locator(ROWS).first).to_be_visible()
    return page


def rows(page: Page):
    return page.locator(ROWS)


def labels(page: Page) -> list:
    "The labels of the visible rows, top to bottom."
    return [t.strip() for t in page.locator(f"{ROWS} [data-sm-label]").all_inner_texts()]


def cursor_label(page: Page) -> str:
    return page.locator("[data-sm-cursor] [data-sm-label]").inner_text().strip()


def count(page: Page) -> int:
    "The number in the toolbar's live count."
    return int(re.sub(r"\D", "", page.locator("#sm-count").inner_text().split(" ")[0]))


def test_page_is_styled(server, page):
    open_manager(page, server)
    btn = page.locator("#sm-new-session")
    style = btn.evaluate("e => { const s = getComputedStyle(e); return [s.backgroundColor, s.paddingLeft, s.borderRadius] }")
    assert style[0] not in ("rgba(0, 0, 0, 0)", "transparent") and style[1] != "0px", style
    assert page.locator("#sm-icons").evaluate("e => getComputedStyle(e).display") == "none"
    assert page.locator(f"{ROWS} svg").first.evaluate("e => e.getBoundingClientRect().width") <= 24


def test_click_moves_the_cursor(server, page):
    open_manager(page, server)
    third = rows(page).nth(2)
    third.locator('[id$="-col-step"]').click()   # a plain cell, not a link or button
    expect(third.locator("[data-sm-cursor]")).to_have_count(1)
    expect(page.locator("[data-sm-cursor]")).to_have_count(1)


def test_double_click_resumes_the_row(server, page):
    open_manager(page, server)
    third = rows(page).nth(2)
    sid = third.locator("[data-session-id]").get_attribute("data-session-id")
    third.locator('[id$="-col-step"]').dblclick()
    expect(page).to_have_url(re.compile(r"/workflow$"))
    expect(page.locator("#workflow-session-id")).to_have_text(sid)


def test_a_request_whose_row_was_replaced_does_not_hold_up_the_next(server, page):
    open_manager(page, server)
    # One task: a click, a second click on the same row (its element is replaced when the first answer moves the
    # cursor there), then a move down. The second click is dropped; the move must still go out at once.
    page.evaluate("""() => { const cell = document.querySelector('#sm-vc-row-2-col-step');
                             cell.click(); cell.click(); document.getElementById('sm-vc-btn-nav-down').click(); }""")
    expect(rows(page).nth(3).locator("[data-sm-cursor]")).to_have_count(1)
    expect(page.locator("[data-sm-cursor]")).to_have_count(1)


def test_a_double_click_on_a_header_sorts_twice(server, page):
    # The second click waits for the first sort's answer, which replaces the header: its replacement takes the click
    open_manager(page, server)
    header = page.locator('[data-sm-sort="label"]')
    header.dblclick()
    expect(header).to_have_attribute("aria-sort", "descending")
    header.click()                          # one click, one sort: the replacement was not bound twice
    expect(header).to_have_attribute("aria-sort", "ascending")
    page.wait_for_timeout(300)
    expect(header).to_have_attribute("aria-sort", "ascending")


def test_keyboard_navigation(server, page):
    open_manager(page, server)
    first = labels(page)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator("[data-sm-cursor] [data-sm-label]")).to_have_text(first[2])
    page.keyboard.press("PageDown")
    footer = page.locator("#sm-vc-footer")
    expect(footer).not_to_have_text(re.compile(r"Showing 1-10 "))
    # Screen readers see a table: the header and the window's rows, each row placed in the whole list
    table = page.get_by_role("table")
    expect(table).to_have_attribute("aria-rowcount", "51")
    expect(table.get_by_role("row")).to_have_count(11)
    expect(table.get_by_role("columnheader")).to_have_count(7)
    expect(table.get_by_role("row").nth(1).get_by_role("cell")).to_have_count(7)
    first_shown = int(re.search(r"Showing (\d+)-", footer.inner_text())[1])
    expect(table.get_by_role("row").nth(1)).to_have_attribute("aria-rowindex", str(first_shown + 1))
    page.keyboard.press("End")
    expect(footer).to_have_text(re.compile(r"Showing 41-50 of 50"))
    expect(rows(page).last.locator("[data-sm-cursor]")).to_have_count(1)
    page.keyboard.press("Home")
    expect(footer).to_have_text(re.compile(r"Showing 1-10 of 50"))
    expect(page.locator("[data-sm-cursor] [data-sm-label]")).to_have_text(first[0])
    page.keyboard.press("ArrowUp")          # already at the top: stays
    expect(page.locator("[data-sm-cursor] [data-sm-label]")).to_have_text(first[0])


def test_pager_buttons(server, page):
    open_manager(page, server)
    page.get_by_title("Next page (Page Down)").click()
    expect(page.locator("#sm-vc-footer")).to_have_text(re.compile(r"Showing 10-19 of 50"))
    page.get_by_title("Last page (End)").click()
    expect(page.locator("#sm-vc-footer")).to_have_text(re.compile(r"Showing 41-50 of 50"))


def test_enter_resumes_the_cursor_session(server, page):
    open_manager(page, server)
    page.keyboard.press("ArrowDown")
    expect(rows(page).nth(1).locator("[data-sm-cursor]")).to_have_count(1)
    sid = page.locator("[data-sm-cursor]").get_attribute("data-session-id")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/workflow$"))
    expect(page.locator("#workflow-session-id")).to_have_text(sid)
    page.goto(server.url + "/manage/sessions/")
    expect(page.locator(f'[data-session-id="{sid}"] [data-sm-active]')).to_have_count(1)
    expect(page.locator("[data-sm-active]")).to_have_count(1)


def test_f2_renames_and_focus_returns_to_the_row(server, page):
    open_manager(page, server)
    old = labels(page)[1]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("F2")               # at once: acts on the row the move lands on, not the one it left
    dialog = page.locator("#sm-rename-modal")
    expect(dialog).to_be_visible()
    box = page.locator("#sm-rename-input")
    expect(box).to_have_value(old)
    expect(box).to_be_focused()
    expect(box).to_have_accessible_name("Label")
    expect(box).to_have_accessible_description("Leave empty to use the automatic label.")
    box.fill("Renamed by keyboard")
    box.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#sm-alerts")).to_contain_text("Renamed to “Renamed by keyboard”")
    expect(page.get_by_text("Renamed by keyboard", exact=True)).to_be_visible()
    focused = page.evaluate("document.activeElement.querySelector('[data-sm-label]')?.textContent")
    assert focused == "Renamed by keyboard"


def test_escape_cancels_rename(server, page):
    open_manager(page, server)
    before = labels(page)
    page.keyboard.press("F2")
    page.locator("#sm-rename-input").fill("never saved")
    page.keyboard.press("Escape")
    expect(page.locator("#sm-rename-modal")).to_be_hidden()
    assert labels(page) == before
    expect(page.locator("#sm-alerts")).to_be_empty()


def test_delete_key_asks_escape_cancels_confirm_deletes(server, page):
    open_manager(page, server)
    label = cursor_label(page)
    page.keyboard.press("Delete")
    dialog = page.locator("#sm-delete-modal")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-sm-fill=label]")).to_have_text(label)
    expect(dialog).to_have_accessible_name("Delete Session?")
    expect(dialog).to_have_accessible_description(re.compile(re.escape(label)))
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert count(page) == 50
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Delete")           # waits for both moves, back on the same row
    dialog.locator("[data-sm-confirm]").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#sm-count")).to_have_text("49 sessions")
    expect(page.locator("#sm-alerts")).to_contain_text(f"Deleted “{label}”")
    assert label not in labels(page)
    expect(page.locator("#sm-vc-footer")).to_have_text(re.compile(r"of 49"))


def test_n_creates_a_session_and_makes_it_active(server, page):
    open_manager(page, server)
    page.keyboard.press("n")
    expect(page.locator("#sm-count")).to_have_text("51 sessions")
    expect(page.locator("#sm-alerts")).to_contain_text("Created")
    expect(rows(page).first.locator("[data-sm-active]")).to_have_count(1)
    expect(rows(page).first.locator("[data-sm-cursor]")).to_have_count(1)


def test_slash_focuses_search_which_narrows_and_clears(server, page):
    open_manager(page, server)
    page.keyboard.press("/")
    search = page.locator("#sm-search")
    expect(search).to_be_focused()
    page.keyboard.type("Board")
    expect(page.locator("#sm-count")).to_have_text(re.compile(r"^\d+ matching sessions?$"))
    assert all("Board" in label for label in labels(page)) and labels(page)
    page.keyboard.press("ArrowDown")        # from the search box on to the results: the keys move the cursor again
    expect(search).not_to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(rows(page).nth(1).locator("[data-sm-cursor]")).to_have_count(1)
    search.fill("")
    search.dispatch_event("search")
    expect(page.locator("#sm-count")).to_have_text("50 sessions")


def test_no_match_state_differs_from_empty_state(server, page):
    open_manager(page, server)
    page.locator("#sm-search").fill("no such session zzz")
    expect(page.get_by_text("No sessions match your search.")).to_be_visible()
    expect(page.get_by_text("No sessions yet.")).to_have_count(0)
    page.get_by_role("button", name="Clear search").click()
    expect(page.locator("#sm-count")).to_have_text("50 sessions")
    expect(page.locator("#sm-search")).to_have_value("")


def test_empty_state_offers_a_new_session(empty_server, page):
    page.goto(empty_server.url + "/manage/sessions/")
    expect(page.get_by_text("No sessions yet.")).to_be_visible()
    page.locator("[data-sm-empty]").get_by_role("button", name="New Session").click()
    expect(page.locator("#sm-count")).to_have_text("1 session")
    expect(page.locator(ROWS)).to_have_count(1)


def _sorted_check(page, column, key):
    "Click a header twice: ascending then descending, each matching what the rows show."
    header = page.locator(f'[data-sm-sort="{column}"]')
    for order in ("ascending", "descending"):
        header.click()
        expect(header).to_have_attribute("aria-sort", order)
        expect(page.locator('[aria-sort="none"]')).to_have_count(4)
        values = [key(v) for v in page.locator(f'{ROWS} [id$="-col-{column}"]').all_inner_texts()]
        assert values == sorted(values, reverse=order == "descending"), (column, order, values)


def test_every_column_sorts_and_shows_its_order(server, page):
    open_manager(page, server)
    expect(page.locator('[data-sm-sort="updated_at"]')).to_have_attribute("aria-sort", "descending")
    size = lambda t: float(t.split()[0]) * {"B": 1, "KB": 1024, "MB": 1024 ** 2}[t.split()[1]]
    _sorted_check(page, "size", size)
    _sorted_check(page, "step", str.lower)
    _sorted_check(page, "host-0", str.lower)   # Audio file: a host column the demo gives a state path
    header = page.locator('[data-sm-sort="label"]')
    header.click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    # Stored labels, case-insensitively; generated ones (italic) come after all stored ones
    stored = page.locator(f"{ROWS} [data-sm-label]:not(.italic)").all_inner_texts()
    assert stored == sorted(stored, key=str.lower) and stored
    header = page.locator('[data-sm-sort="updated_at"]')
    header.click()
    expect(header).to_have_attribute("aria-sort", "ascending")


def test_rows_menu_resizes_the_window_and_a_reload_keeps_it(server, page):
    open_manager(page, server)
    expect(rows(page)).to_have_count(10)
    page.get_by_label("Rows").select_option("25")
    expect(page.locator("#sm-vc-footer")).to_have_text(re.compile(r"Showing 1-25 of 50"))
    expect(rows(page)).to_have_count(25)
    page.keyboard.press("End")
    expect(page.locator("#sm-vc-footer")).to_have_text(re.compile(r"Showing 26-50 of 50"))
    page.reload()
    expect(rows(page)).to_have_count(25)
    expect(page.get_by_label("Rows")).to_have_value("25")


def test_new_session_during_a_search_clears_it_and_shows_the_new_row(server, page):
    open_manager(page, server)
    page.locator("#sm-search").fill("Board")
    expect(page.locator("#sm-count")).to_have_text(re.compile("matching"))
    page.locator("#sm-new-session").click()
    expect(page.locator("#sm-count")).to_have_text("51 sessions")
    expect(page.locator("#sm-search")).to_have_value("")
    expect(rows(page).first.locator("[data-sm-active]")).to_have_count(1)
