"""Search and sort what the user sees, and the view in the URL (issue 9), in a real Chromium on the demo.

The demo's sessions show generated labels ("Transcript of interview-07.wav"), step titles ("Upload audio")
and host columns ("interview-07.wav"); these tests search and sort by what is on the screen."""
import re

from playwright.sync_api import expect

from manager_page import Manager


def test_search_finds_generated_labels_step_titles_and_host_columns(page, any_server):
    m = Manager(page, any_server.url).open()
    m.search("transcript of interview")
    assert m.labels() and all(l.startswith("Transcript of interview") for l in m.labels())
    m.search("UPLOAD AUDIO")  # a step title, in another case
    assert m.labels() and all(t == "Upload audio" for t in page.locator("tbody td:nth-child(3)").all_text_contents())
    m.search("interview-07.wav")  # a host column's value
    expect(m.rows).to_have_count(1)
    expect(m.rows.first.locator("mark").first).to_be_visible()  # the match is highlighted
    m.search("zzz-nothing")
    expect(page.get_by_text("No sessions match.")).to_be_visible()
    expect(page.locator("#wsm-list-body").get_by_text("No items")).to_have_count(0)


def test_session_sorts_stored_and_generated_labels_together_in_natural_order(page, server):
    m = Manager(page, server.url).open("rows=50")
    m.sort("Session")
    labels = m.labels()
    assert labels == sorted(labels, key=_natural), labels
    lectures = [l for l in labels if l.startswith("Lecture ")]
    numbers = [int(re.match(r"Lecture (\d+)", l)[1]) for l in lectures]
    assert numbers == sorted(numbers)  # "Lecture 2" before "Lecture 10"
    assert any(l.startswith("Transcript") for l in labels) and any(l.startswith("Lecture") for l in labels)  # both kinds, in one order
    expect(page.locator("th[aria-sort=ascending]")).to_have_count(1)


def _natural(text):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text.casefold())]


def test_step_sorts_in_workflow_order(page, server):
    m = Manager(page, server.url).open("rows=50")
    m.sort("Step")
    steps = page.locator("tbody td:nth-child(3)").all_text_contents()
    order = ["Upload audio", "Transcribe", "Review"]
    assert [order.index(s) for s in steps] == sorted(order.index(s) for s in steps), steps


def test_back_undoes_a_sort_and_a_search(page, server):
    m = Manager(page, server.url).open()
    first = m.labels()
    m.sort("Session")
    sorted_labels = m.labels()
    assert m.view()["sort"] == ["label"]
    m.search("podcast")
    assert m.view()["q"] == ["podcast"]
    page.go_back()
    expect(page.locator("#wsm-list-body")).not_to_have_attribute("data-view", re.compile("q="))
    m.settled()
    assert m.labels() == sorted_labels
    expect(page.locator("#wsm-search")).to_have_value("")
    page.go_back()
    expect(page.locator("#wsm-list-body")).to_have_attribute("data-view", "")
    m.settled()
    assert m.labels() == first


def test_a_copied_url_opens_the_same_view_in_a_fresh_browser(page, server, new_user):
    m = Manager(page, server.url).open()
    m.sort("Session")
    m.search("i")
    page.locator("[data-move=page_down]").click()
    m.settled()
    url, labels = page.url, m.labels()
    other = new_user()
    other.goto(url)
    expect(other.locator("#wsm-list-body")).to_be_attached()
    assert Manager(other, server.url).labels() == labels
    expect(other.locator("#wsm-search")).to_have_value("i")


def test_ten_tabs_keep_their_own_views(page, server):
    context = page.context
    tabs = [page] + [context.new_page() for _ in range(9)]
    searches = ["call", "lecture", "board", "podcast", "transcript", "interview-1", "interview-2", "ethics", "meeting", ""]
    for tab, q in zip(tabs, searches):
        m = Manager(tab, server.url).open()
        if q: m.search(q)
    for tab, q in zip(tabs, searches):  # every tab still shows its own search after all the others acted
        tab.reload()
        expect(tab.locator("#wsm-search")).to_have_value(q)
        labels = Manager(tab, server.url).labels()
        assert labels, q
    for tab in tabs[1:]: tab.close()
