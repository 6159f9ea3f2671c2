"""Many sessions at once (issue 11) in Chromium: selection, bulk delete with undo, the trash, duplicate, export, import."""
import json
import sqlite3

from playwright.sync_api import expect

from manager_page import Manager


def _select(m, *indexes, shift=False):
    for i in indexes: m.rows.nth(i).locator("td input[type=checkbox]").click(modifiers=["Shift"] if shift else [])


def test_selection_by_click_space_shift_and_page_survives_paging_and_sorting(page, server):
    m = Manager(page, server.url).open()
    bar = page.locator("#wsm-selection")
    expect(bar).to_be_hidden()
    _select(m, 0)
    expect(bar).to_contain_text("1 selected")
    m.rows.nth(2).focus()
    page.keyboard.press("Space")
    expect(bar).to_contain_text("2 selected")
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Shift+ArrowDown")
    expect(bar).to_contain_text("4 selected")
    _select(m, 8, shift=True)  # a range from the last toggled row
    expect(bar).to_contain_text("8 selected")
    expect(m.rows.nth(5)).to_have_attribute("aria-selected", "true")
    page.locator("[data-move=page_down]").click()
    m.settled()
    page.locator("[data-wsm-select-page]").click()
    expect(bar).to_contain_text("18 selected")
    m.sort("Session")
    expect(bar).to_contain_text("18 selected")
    page.keyboard.press("Escape")
    expect(bar).to_be_hidden()


def test_bulk_delete_of_a_search_then_undo_with_ctrl_z(page, server):
    m = Manager(page, server.url).open()
    m.search("transcript")
    matches = int(m.count().split()[0])
    _select(m, 0)
    page.locator("#wsm-selection [data-wsm-select-all]").click()
    expect(page.locator("#wsm-selection")).to_contain_text(f"All {matches} selected")
    page.locator("#wsm-selection").get_by_role("button", name="Delete").click()
    dialog = page.locator("#wsm-delete-modal")
    expect(dialog).to_contain_text(f"all {matches} matching sessions")
    dialog.locator("[data-wsm-confirm]").click()
    m.settled()
    expect(m.notice()).to_contain_text(f"Deleted {matches} sessions")
    expect(page.get_by_text("No sessions match.")).to_be_visible()
    page.locator("body").press("Control+z")
    m.settled()
    expect(m.notice()).to_contain_text(f"Restored {matches} sessions")
    expect(page.locator("#wsm-count")).to_have_text(f"{matches} matching sessions")


def test_the_trash_lists_deleted_sessions_restores_one_and_deletes_forever(page, server):
    m = Manager(page, server.url).open()
    labels = m.labels()[:3]
    for label in labels:
        m.row(label).get_by_role("button", name=f"Delete “{label}”").click()
        page.locator("#wsm-delete-modal [data-wsm-confirm]").click()
        m.settled()
    page.get_by_role("button", name="Trash 3 deleted sessions").click()
    m.settled()
    expect(page.locator("#wsm-count")).to_have_text("3 in the trash")
    assert sorted(m.labels()) == sorted(labels)
    m.row(labels[0]).get_by_role("button", name=f"Restore “{labels[0]}”").click()
    m.settled()
    expect(m.notice()).to_contain_text("Restored 1 session")
    m.row(labels[1]).get_by_role("button", name=f"Delete “{labels[1]}” forever").click()
    dialog = page.locator("#wsm-delete-modal")
    expect(dialog).to_contain_text("cannot be undone")
    dialog.locator("[data-wsm-confirm]").click()
    m.settled()
    expect(page.locator("#wsm-count")).to_have_text("1 in the trash")
    page.get_by_role("button", name="Back to sessions").click()
    m.settled()
    assert labels[0] in m.labels() and labels[1] not in m.labels()


def test_duplicate_makes_an_independent_copy_placed_first_and_focused(page, server):
    m = Manager(page, server.url).open()
    label = m.labels()[4]
    m.row(label).get_by_role("button", name=f"Actions for “{label}”").click()
    page.get_by_role("menuitem", name=f"Duplicate “{label}”").click()
    m.settled()
    assert m.labels()[0] == f"Copy of {label}"
    assert m.focused_label() == f"Copy of {label}"


def test_export_downloads_a_document_and_import_brings_it_back(page, server, tmp_path):
    m = Manager(page, server.url).open()
    _select(m, 0, 1)
    with page.expect_download() as got:
        page.locator("#wsm-selection").get_by_role("button", name="Export").click()
    path = tmp_path / "export.json"
    got.value.save_as(path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "cjm-workflow-sessions" and len(doc["sessions"]) == 2
    page.locator("#wsm-selection").get_by_role("button", name="Delete").click()
    page.locator("#wsm-delete-modal [data-wsm-confirm]").click()
    m.settled()
    with sqlite3.connect(server.db) as c: c.execute("DELETE FROM sm2_trash")  # gone for good: import is the only way back
    page.evaluate("document.getElementById('wsm-import-modal').showModal()")
    page.locator("#wsm-import-file").set_input_files(str(path))
    page.locator("#wsm-import-modal").get_by_role("button", name="Import").click()
    m.settled()
    expect(m.notice()).to_contain_text("Imported 2 sessions")
    for s in doc["sessions"]:
        expect(page.locator(f'tr[data-session-id="{s["id"]}"]')).to_have_count(1)


def test_every_action_is_reachable_on_a_phone(new_user, server):
    page = new_user(viewport={"width": 390, "height": 844})
    m = Manager(page, server.url).open()
    label = m.labels()[0]
    width = page.evaluate("document.querySelector('tbody th').getBoundingClientRect().width")
    assert width > 390 * 0.55, width  # the label keeps most of the width
    m.rows.first.get_by_role("button", name=f"Actions for “{label}”").click()
    menu = page.get_by_role("menu")
    for action in ("Resume", "Rename", "Duplicate", "Export", "Delete"):
        expect(menu.get_by_role("menuitem", name=f"{action} “{label}”")).to_be_visible()
    menu.get_by_role("menuitem", name=f"Rename “{label}”").click()
    expect(page.locator("#wsm-rename-modal")).to_be_visible()
