"""What a person sees of the manager in a browser, read the way they would read it: rows by their labels,
the focused row, the count, the notice, the address bar. Tests drive the page with real clicks and keys."""
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

PAGE = "/manage/sessions/management_page"


class Manager:
    "The session manager page of the demo, in one browser tab."
    def __init__(self, page: Page, base: str):
        self.page, self.base = page, base

    def open(self, query: str = "") -> "Manager":
        self.page.goto(self.base + PAGE + (f"?{query}" if query else ""))
        expect(self.page.locator("#wsm-list-body")).to_be_attached()
        return self

    @property
    def rows(self): return self.page.locator("#wsm-list-body tbody tr")

    def row(self, label: str): return self.rows.filter(has=self.page.locator("th", has_text=label)).first

    def labels(self) -> list: return [t.strip() for t in self.page.locator("#wsm-list-body tbody th").all_text_contents()]

    def settled(self) -> "Manager":
        "Wait until no request of the manager is on its way."
        self.page.wait_for_function("!document.querySelector('.htmx-request') && !document.querySelector('[aria-busy=true]')")
        self.page.wait_for_timeout(60)
        return self

    def focused_label(self) -> str:
        return self.page.evaluate("(() => { const r = document.activeElement.closest('tr[data-session-id]');"
                                  " return r ? r.querySelector('th').textContent.trim() : null })()")

    def cursor_label(self) -> str:
        return self.page.locator("#wsm-list-body tbody tr[aria-current] th").text_content().strip()

    def count(self) -> str: return self.page.locator("#wsm-count").text_content().strip()

    def notice(self): return self.page.locator("#wsm-alert-area")

    def view(self) -> dict:
        "The view parameters in the address bar."
        return {k: v for k, v in parse_qs(urlsplit(self.page.url).query).items()}

    def search(self, text: str) -> "Manager":
        "Type a search and wait for the list that shows it."
        self.page.locator("#wsm-search").fill(text)
        self.wait_view("q", " ".join(text.split()))
        return self.settled()

    def wait_view(self, name: str, value: str) -> None:
        "Wait until the list shows a view whose parameter `name` is `value` ('' for absent)."
        self.page.wait_for_function("([n, v]) => { const b = document.getElementById('wsm-list-body');"
                                    " return b && (new URLSearchParams(b.dataset.view).get(n) || '') === v }", arg=[name, value])

    def sort(self, header: str) -> "Manager":
        self.page.locator("thead").get_by_role("button", name=header).click()
        return self.settled()
