"""Real-browser tests: several users and tabs at once, hostile labels, a phone-sized screen, the host's
workflow changing a session, and the detail view with the cross-management tabs.

Each test drives the demo (tests/e2e/conftest.py) as a user would: clicks, keys and taps, checked with
Playwright's auto-waiting `expect`. The `page` and `new_user` pages fail their test on any console
error, page error, failed request or JavaScript dialog."""
import re

from playwright.sync_api import Page, expect
from cjm_workflow_state.state_store import SQLiteWorkflowStateStore

MANAGER = "/manage/sessions/"
FLOW = "transcription"
PAGE_TITLE = "Transcription sessions"
STEP_TITLES = {"upload": "Upload audio", "transcribe": "Transcribe", "review": "Review"}  # demo/app.py STEPS
NEXT_STEP = {"upload": "transcribe", "transcribe": "review"}
ROW = '[id^="sm-vc-row-"]:not([id*="-col-"])'
ABSOLUTE_TIME = r"[A-Z][a-z]{2} \d{2}, \d{4} \d{2}:\d{2} UTC"


# --- helpers -------------------------------------------------------------------------------------------
def open_manager(page: Page, server) -> Page:
    "Load the manager and wait until its list shows rows."
    page.goto(server.url + MANAGER)
    expect(rows(page).first).to_be_visible()
    return page


def rows(page: Page):
    "The list's rows (not their cells)."
    return page.locator(ROW)


def row(page: Page, index: int):
    "The row at a position in the window."
    return page.locator(f"#sm-vc-row-{index}")


def label_links(page: Page):
    "The label links of the rows, top to bottom."
    return page.locator(f"{ROW} [data-sm-label]")


def labels(page: Page) -> list:
    "The labels the rows show now, top to bottom (call after an auto-waiting expect)."
    return label_links(page).all_text_contents()


def row_by_label(page: Page, label: str):
    "The row whose label is exactly `label`."
    return rows(page).filter(has=page.get_by_text(label, exact=True))


def row_by_id(page: Page, session_id: str):
    "The row of a session id."
    return rows(page).filter(has=page.locator(f'[data-session-id="{session_id}"]'))


def session_id_of(row_locator) -> str:
    "The session id a row carries."
    return row_locator.locator("[data-session-id]").get_attribute("data-session-id")


def cursor_row(page: Page, index: int):
    "The cursor marker, if it is in the row at `index`."
    return row(page, index).locator("[data-sm-cursor]")


def action(row_locator, name: str):
    "A row's Resume, Rename or Delete button."
    return row_locator.locator(f"[data-sm-action={name}]")


def sort_header(page: Page, key: str):
    "A sortable column header."
    return page.locator(f"[data-sm-sort={key}]")


def count_number(page: Page) -> int:
    "The number the live count shows."
    return int(re.search(r"[\d,]+", page.locator("#sm-count").inner_text()).group().replace(",", ""))


def expect_alert(page: Page, text: str):
    "The alert area reports `text`."
    expect(page.locator("#sm-alerts")).to_contain_text(text)


def blur_to_page(page: Page):
    "Click the page heading, so the keyboard talks to the list rather than a field."
    page.locator("#sm-header h2").click()


def resume(page: Page, row_locator) -> str:
    "Resume a row's session with its button; returns its id once the workflow shows it."
    sid = session_id_of(row_locator)
    action(row_locator, "resume").click()
    expect(page).to_have_url(re.compile(r"/workflow$"))
    expect(page.locator("#workflow-session-id")).to_have_text(sid)
    return sid


def add_sessions(server, *labels_: str) -> list:
    "Create labelled sessions straight in the demo's database (they are the most recently updated)."
    store = SQLiteWorkflowStateStore(server.db)
    return [store.create_session(FLOW, label=label) for label in labels_]


def detail_field(page: Page, term: str):
    "The value (dd) of a field (dt) of the detail view."
    return page.locator("#sm-detail dt").filter(has_text=re.compile(f"^{re.escape(term)}$")).locator("xpath=following-sibling::dd[1]")


def fully_in_viewport(locator, width: int, height: int):
    "Assert an element lies within the viewport and is the topmost element at its centre (a tap hits it)."
    box = locator.bounding_box()
    assert box is not None, "element has no box"
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"horizontally outside the {width}px viewport: {box}"
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, f"vertically outside the {height}px viewport: {box}"
    hit = locator.evaluate("e => { const r = e.getBoundingClientRect();"
                           " return e.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }")
    assert hit, "another element covers it"


# --- 1. users and tabs are independent ----------------------------------------------------------------
def test_two_users_and_two_tabs_keep_their_own_view(server, new_user, problems):
    """Two users resume different sessions and each sees the Active badge on their own only; one user's
    sort, search and cursor never reach the other; two tabs of one user keep their own sort."""
    a, b = open_manager(new_user(), server), open_manager(new_user(), server)
    default_labels = labels(b)
    assert len(default_labels) == 10

    x = resume(a, row(a, 0))
    y = resume(b, row(b, 1))
    assert x != y

    for user, own, other in ((a, x, y), (b, y, x)):
        open_manager(user, server)
        expect(user.locator("[data-sm-active]")).to_have_count(1)
        expect(row_by_id(user, own).locator("[data-sm-active]")).to_have_count(1)
        expect(row_by_id(user, other).locator("[data-sm-active]")).to_have_count(0)

    # A sorts by Session and searches "Board".
    sort_header(a, "label").click()
    expect(sort_header(a, "label")).to_have_attribute("aria-sort", "ascending")
    expect(sort_header(a, "updated_at")).to_have_attribute("aria-sort", "none")
    a.locator("#sm-search").fill("Board")
    expect(a.locator("#sm-count")).to_contain_text("matching")
    expect(label_links(a).first).to_contain_text("Board")
    found = labels(a)
    assert len(found) >= 4 and all("Board" in label for label in found), found
    assert found == sorted(found, key=str.casefold), found

    # B still has the default order, no search, all sessions.
    b.reload()
    expect(sort_header(b, "updated_at")).to_have_attribute("aria-sort", "descending")
    expect(sort_header(b, "label")).to_have_attribute("aria-sort", "none")
    expect(b.locator("#sm-search")).to_have_value("")
    expect(b.locator("#sm-count")).to_have_text("50 sessions")
    expect(label_links(b)).to_have_text(default_labels)

    # A moves the cursor down three rows; B's cursor stays on the first row.
    blur_to_page(a)
    for _ in range(3): a.keyboard.press("ArrowDown")
    expect(cursor_row(a, 3)).to_have_count(1)
    expect(a.locator("[data-sm-cursor]")).to_have_count(1)
    b.reload()
    expect(cursor_row(b, 0)).to_have_count(1)
    expect(b.locator("[data-sm-cursor]")).to_have_count(1)
    expect(b.locator("[data-sm-active]")).to_have_count(1)
    expect(row_by_id(b, y).locator("[data-sm-active]")).to_have_count(1)

    # Two tabs of one user: each keeps its own sort.
    tab1 = open_manager(new_user(), server)
    tab2 = problems.watch(tab1.context.new_page())
    tab2.set_default_timeout(10_000)
    open_manager(tab2, server)
    expect(label_links(tab2)).to_have_text(default_labels)

    sort_header(tab1, "label").click()
    expect(sort_header(tab1, "label")).to_have_attribute("aria-sort", "ascending")
    by_label = labels(tab1)
    assert by_label != default_labels

    # tab2 pages away and back: its rows are re-read from the server in tab2's own (default) order.
    tab2.keyboard.press("PageDown")
    expect(label_links(tab2).first).not_to_have_text(default_labels[0])
    tab2.keyboard.press("Home")
    expect(label_links(tab2)).to_have_text(default_labels)
    expect(sort_header(tab2, "updated_at")).to_have_attribute("aria-sort", "descending")

    sort_header(tab2, "size").click()
    expect(sort_header(tab2, "size")).not_to_have_attribute("aria-sort", "none")
    expect(sort_header(tab2, "label")).to_have_attribute("aria-sort", "none")
    by_size = labels(tab2)

    # tab1, after tab2's sort, still reads its rows by label.
    tab1.keyboard.press("PageDown")
    expect(label_links(tab1).first).not_to_have_text(by_label[0])
    tab1.keyboard.press("Home")
    expect(label_links(tab1)).to_have_text(by_label)
    expect(sort_header(tab1, "label")).to_have_attribute("aria-sort", "ascending")
    expect(sort_header(tab1, "size")).to_have_attribute("aria-sort", "none")
    tab2.keyboard.press("PageDown")
    tab2.keyboard.press("Home")
    expect(cursor_row(tab2, 0)).to_have_count(1)
    expect(label_links(tab2)).to_have_text(by_size)


# --- 2. hostile labels are text ------------------------------------------------------------------------
IMG = """<img src=x onerror="document.title='pwned'">"""
BACKSLASH = "ends with a backslash \\"
SCRIPT = "</script><script>document.title='pwned'</script>"
TITLE = "</title><script>document.title='pwned'</script><title>"


def test_hostile_labels_stay_text(server, page):
    """Labels made of markup, script and a trailing backslash show as literal text in the list, the
    dialogs, the alerts and the detail view, and never run."""
    add_sessions(server, IMG, BACKSLASH, SCRIPT, TITLE)
    open_manager(page, server)
    expect(page).to_have_title(PAGE_TITLE)
    expect(page.locator("#sm-count")).to_have_text("54 sessions")
    for label in (IMG, BACKSLASH, SCRIPT, TITLE):
        expect(row_by_label(page, label)).to_have_count(1)
        expect(row_by_label(page, label).locator("[data-sm-label]")).to_have_text(label)
    expect(page.locator("#sm-root img")).to_have_count(0)
    expect(page.locator("#sm-root script")).to_have_count(1)  # only the manager's own script tag

    # The detail view of a hostile label: the heading and the tab title hold it as text.
    for label in (SCRIPT, TITLE):
        row_by_label(page, label).locator("[data-sm-label]").click()
        expect(page.locator("#sm-detail")).to_be_visible()
        expect(page.locator("#sm-detail h2[data-sm-label]")).to_have_text(label)
        expect(page).to_have_title(f"{label} · {PAGE_TITLE}")
        expect(page.locator("#sm-root img")).to_have_count(0)
        page.locator("#sm-detail").get_by_role("link", name="All sessions").click()
        expect(page).to_have_url(server.url + MANAGER)
        expect(page).to_have_title(PAGE_TITLE)

    # Rename the <img> row: the dialog holds the exact label; the new one is shown as text too.
    renamed = 'Renamed <b>bold</b> & "quoted" \\'
    action(row_by_label(page, IMG), "rename").click()
    expect(page.locator("#sm-rename-modal")).to_be_visible()
    expect(page.locator("#sm-rename-input")).to_have_value(IMG)
    page.locator("#sm-rename-input").fill(renamed)
    page.locator("#sm-rename-input").press("Enter")
    expect_alert(page, "Renamed")
    expect(page.locator("#sm-alerts")).to_contain_text(renamed)
    expect(page.locator("#sm-rename-modal")).to_be_hidden()
    expect(row_by_label(page, renamed)).to_have_count(1)
    expect(row_by_label(page, IMG)).to_have_count(0)
    expect(page.locator("#sm-root b")).to_have_count(0)

    # Delete the backslash row: the dialog names it exactly.
    action(row_by_label(page, BACKSLASH), "delete").click()
    expect(page.locator("#sm-delete-modal")).to_be_visible()
    expect(page.locator("#sm-delete-modal [data-sm-fill=label]")).to_have_text(BACKSLASH)
    page.locator("#sm-delete-modal [data-sm-confirm]").click()
    expect_alert(page, "Deleted")
    expect(page.locator("#sm-alerts")).to_contain_text(BACKSLASH)
    expect(page.locator("#sm-delete-modal")).to_be_hidden()
    expect(row_by_label(page, BACKSLASH)).to_have_count(0)
    expect(page.locator("#sm-count")).to_have_text("53 sessions")

    expect(page).to_have_title(PAGE_TITLE)
    expect(page.locator("img")).to_have_count(0)


# --- 3. a phone -----------------------------------------------------------------------------------------
def test_mobile_viewport_reaches_every_action(server, new_user):
    """On a 390x844 touch screen the first row's Resume, Rename and Delete, the New Session button and
    the search box are visible, inside the screen and tappable; renaming by tap works."""
    width, height = 390, 844
    phone = open_manager(new_user(viewport={"width": width, "height": height}, has_touch=True, is_mobile=True), server)
    first = row(phone, 0)
    for name in ("resume", "rename", "delete"):
        expect(action(first, name)).to_be_visible()
        fully_in_viewport(action(first, name), width, height)
    for control in (phone.locator("#sm-new-session"), phone.locator("#sm-search")):
        expect(control).to_be_visible()
        fully_in_viewport(control, width, height)

    # Delete by tap opens the dialog naming the row; Cancel keeps it.
    label = label_links(phone).first.inner_text()
    action(first, "delete").tap()
    expect(phone.locator("#sm-delete-modal")).to_be_visible()
    expect(phone.locator("#sm-delete-modal [data-sm-fill=label]")).to_have_text(label)
    phone.locator("#sm-delete-modal").get_by_role("button", name="Cancel").tap()
    expect(phone.locator("#sm-delete-modal")).to_be_hidden()
    expect(phone.locator("#sm-count")).to_have_text("50 sessions")

    # Rename by tap.
    action(first, "rename").tap()
    expect(phone.locator("#sm-rename-modal")).to_be_visible()
    expect(phone.locator("#sm-rename-input")).to_have_value(label)
    fully_in_viewport(phone.locator("#sm-rename-modal button[type=submit]"), width, height)
    phone.locator("#sm-rename-input").fill("Renamed on the phone")
    phone.locator("#sm-rename-modal button[type=submit]").tap()
    expect_alert(phone, "Renamed")
    expect(phone.locator("#sm-rename-modal")).to_be_hidden()
    expect(label_links(phone).first).to_have_text("Renamed on the phone")

    # Resume by tap.
    sid = session_id_of(row(phone, 0))
    action(row(phone, 0), "resume").tap()
    expect(phone).to_have_url(re.compile(r"/workflow$"))
    expect(phone.locator("#workflow-session-id")).to_have_text(sid)


# --- 4. the workflow moves a session ---------------------------------------------------------------------
def test_workflow_step_moves_session_to_top(server, page):
    """Saving a workflow step changes the session's step and state: back in the manager it is the first
    row (most recently updated), with the new step title, "just now" and the new host fields."""
    open_manager(page, server)
    expect(rows(page)).to_have_count(10)
    steps = page.locator(f'{ROW} [id$="-col-step"]').all_text_contents()
    movable = [i for i, title in enumerate(steps) if i > 0 and title in (STEP_TITLES["upload"], STEP_TITLES["transcribe"])]
    assert movable, f"no row below the first is before the last step: {steps}"
    index = movable[-1]
    old_step = next(k for k, v in STEP_TITLES.items() if v == steps[index])
    new_step = NEXT_STEP[old_step]

    x = resume(page, row(page, index))
    expect(page.locator("[data-step]")).to_have_attribute("data-step", old_step)
    value = page.locator("#value")
    typed = "e2e-recording.wav" if old_step == "upload" else "one two three four five"
    if value.count(): value.fill(typed)
    page.locator("#workflow-submit").click()
    expect(page.locator("[data-step]")).to_have_attribute("data-step", new_step)
    expect(page.locator("#workflow-session-id")).to_have_text(x)

    page.locator("nav").get_by_role("link", name="Sessions").click()
    expect(page).to_have_url(server.url + MANAGER)
    expect(sort_header(page, "updated_at")).to_have_attribute("aria-sort", "descending")
    expect(row(page, 0).locator("[data-session-id]")).to_have_attribute("data-session-id", x)
    expect(page.locator("#sm-vc-row-0-col-step")).to_have_text(STEP_TITLES[new_step])
    expect(page.locator("#sm-vc-row-0-col-updated_at")).to_have_text("just now")
    expect(row(page, 0).locator("[data-sm-active]")).to_have_count(1)
    if old_step == "upload": expect(page.locator("#sm-vc-row-0-col-host-0")).to_have_text(typed)
    else: expect(page.locator("#sm-vc-row-0-col-host-1")).to_have_text("5")


# --- 5. detail view and tabs ------------------------------------------------------------------------------
def test_detail_view_rename_and_tabs(server, page):
    """A row's label link opens its detail view with every field; renaming works there; "All sessions"
    goes back; the Sessions and Media tabs mark the current page and switch between them."""
    open_manager(page, server)
    first = row(page, 0)
    label, sid = label_links(page).first.inner_text(), session_id_of(first)
    step = page.locator("#sm-vc-row-0-col-step").inner_text()
    file, words = page.locator("#sm-vc-row-0-col-host-0").inner_text(), page.locator("#sm-vc-row-0-col-host-1").inner_text()

    first.locator("[data-sm-label]").click()
    expect(page).to_have_url(re.compile(r"/manage/sessions/detail\?session_id=" + re.escape(sid) + "$"))
    detail = page.locator("#sm-detail")
    expect(detail).to_be_visible()
    expect(detail.locator("h2[data-sm-label]")).to_have_text(label)
    expect(detail_field(page, "Session id")).to_have_text(sid)
    expect(detail_field(page, "Step")).to_have_text(step)
    expect(detail_field(page, "Created")).to_have_text(re.compile(f"^{ABSOLUTE_TIME}$"))
    expect(detail_field(page, "Updated")).to_have_text(re.compile(rf"^{ABSOLUTE_TIME} \(.+\)$"))
    expect(detail_field(page, "Size")).to_have_text(re.compile(r"^[\d.,]+ (B|KB|MB)$"))
    expect(detail_field(page, "Audio file")).to_have_text(file)
    expect(detail_field(page, "Words")).to_have_text(words)
    expect(page.locator("#sm-tabs").get_by_role("tab", name="Sessions")).to_have_attribute("aria-current", "page")

    # Rename from the detail view.
    action(detail, "rename").click()
    expect(page.locator("#sm-rename-modal")).to_be_visible()
    expect(page.locator("#sm-rename-input")).to_have_value(label)
    page.locator("#sm-rename-input").fill("Renamed in detail")
    page.locator("#sm-rename-input").press("Enter")
    expect_alert(page, "Renamed")
    expect(page.locator("#sm-rename-modal")).to_be_hidden()
    expect(page.locator("#sm-detail h2[data-sm-label]")).to_have_text("Renamed in detail")
    expect(page).to_have_title("Renamed in detail · Transcription sessions")   # the tab title follows the rename
    expect(detail_field(page, "Session id")).to_have_text(sid)

    # Back to the list, where the new label shows.
    page.locator("#sm-detail").get_by_role("link", name="All sessions").click()
    expect(page).to_have_url(server.url + MANAGER)
    expect(row_by_label(page, "Renamed in detail")).to_have_count(1)
    expect(row_by_id(page, sid).locator("[data-sm-label]")).to_have_text("Renamed in detail")

    # The cross-management tabs.
    tabs = page.locator("#sm-tabs")
    sessions_tab, media_tab = tabs.get_by_role("tab", name="Sessions"), tabs.get_by_role("tab", name="Media")
    expect(sessions_tab).to_have_attribute("aria-current", "page")
    expect(media_tab).not_to_have_attribute("aria-current", "page")
    media_tab.click()
    expect(page).to_have_url(server.url + "/media")
    expect(page.locator("#sm-tabs").get_by_role("tab", name="Media")).to_have_attribute("aria-current", "page")
    expect(page.locator("#sm-tabs").get_by_role("tab", name="Sessions")).not_to_have_attribute("aria-current", "page")
    page.locator("#sm-tabs").get_by_role("tab", name="Sessions").click()
    expect(page).to_have_url(server.url + MANAGER)
    expect(page.locator("#sm-tabs").get_by_role("tab", name="Sessions")).to_have_attribute("aria-current", "page")
    expect(rows(page).first).to_be_visible()


# --- 5. a request that gets no answer is still reported -------------------------------------------------
def test_network_failure_and_server_error_are_reported(server, page, problems):
    open_manager(page, server)
    page.route("**/vc/nav_down", lambda route: route.abort())
    page.keyboard.press("ArrowDown")
    expect(page.locator("#sm-alerts [role=alert]")).to_have_text("The server could not be reached. Check your connection and try again.")
    expect(page.locator("[data-sm-cursor]")).to_have_count(1)
    page.unroute("**/vc/nav_down")

    page.route("**/rename", lambda route: route.fulfill(status=500, body="Internal Server Error"))
    page.keyboard.press("F2")
    page.locator("#sm-rename-input").fill("never stored")
    page.locator("#sm-rename-input").press("Enter")
    expect(page.locator("#sm-rename-modal")).to_be_hidden()
    expect(page.locator("#sm-alerts [role=alert]")).to_contain_text("could not complete that request")
    # The browser reports both failures itself; they are the point of this test, anything else is not
    expected = [p for p in problems.items if "vc/nav_down" in p or "/rename" in p or "htmx:" in p]
    assert expected and len(expected) == len(problems.items), problems.items
    problems.items.clear()
