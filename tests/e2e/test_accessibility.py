"""Accessibility checked by a real checker: axe-core (the pinned npm package) in Chromium, in every state the issue
lists (the list, both dialogs, the detail view, the empty state, the trash, the keyboard help), in light and dark, at
1280 and 390 px. Zero violations."""
from pathlib import Path

import pytest
from playwright.sync_api import expect

from manager_page import Manager

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def violations(page) -> list:
    "axe-core's violations on the page as it is now (WCAG 2.1 AA and best practices), once every animation has ended."
    # (daisyUI keeps a scroll-linked animation running on <html> while a dialog is open: that one never ends)
    page.wait_for_function("document.getAnimations().every(a => a.playState !== 'running' || a.effect.target === document.documentElement)")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => (await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})).violations
        .map(v => `${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`)""")
    return found


@pytest.fixture(params=[(scheme, size) for scheme in ("light", "dark") for size in SIZES], ids=lambda p: f"{p[0]}-{p[1]}")
def look(request, new_user):
    "A browser page in one colour scheme and one screen size."
    scheme, size = request.param
    return new_user(color_scheme=scheme, viewport=SIZES[size])


def test_the_list(look, server):
    m = Manager(look, server.url).open()
    m.rows.nth(1).focus()
    assert violations(look) == []


def test_the_rename_dialog(look, server):
    m = Manager(look, server.url).open()
    m.rows.first.focus()
    look.keyboard.press("F2")
    expect(look.locator("#wsm-rename-modal")).to_be_visible()
    assert violations(look) == []


def test_the_delete_dialog(look, server):
    m = Manager(look, server.url).open()
    m.rows.first.focus()
    look.keyboard.press("Delete")
    expect(look.locator("#wsm-delete-modal")).to_be_visible()
    assert violations(look) == []


def test_the_detail_view(look, server):
    m = Manager(look, server.url).open()
    look.goto(server.url + m.rows.first.locator("th a").get_attribute("href"))
    expect(look.locator("#wsm-session-detail")).to_be_visible()
    assert violations(look) == []


def test_the_empty_state(look, empty_server):
    Manager(look, empty_server.url).open()
    expect(look.get_by_text("No sessions yet.")).to_be_visible()
    assert violations(look) == []


def test_search_filters_trash_and_help(new_user, server):
    page = new_user()
    m = Manager(page, server.url).open()
    m.search("interview")
    page.locator("#wsm-filters summary").click()
    m.rows.first.locator("td input").click()
    assert violations(page) == []
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    assert violations(page) == []
    page.keyboard.press("Escape")
    page.locator("#wsm-trash-btn").click()
    m.settled()
    assert violations(page) == []


def test_the_demo_page_has_a_language_a_heading_and_a_skip_link(page, server):
    Manager(page, server.url).open()
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.locator("h1")).to_have_count(1)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
