"""Reading a page the way a host developer checks it: ids, the rows' `data-session-id`, visible text.

A row is a table row (`<tr>` or `role="row"`); a session's row is the row holding its `data-session-id`
(on the row itself or inside it). A cell is read by the text of its column header.
"""
from collections import Counter
from html.parser import HTMLParser
from typing import Dict, Iterator, List, Optional

ACTIVE_SESSION_BADGE = "wsm-active-session-badge"  # the released id of the Active badge
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
CELL_ROLES = {"cell", "gridcell", "columnheader", "rowheader"}


class Node:
    "An element: tag, attributes, parent and children (Nodes and text)."
    def __init__(self, tag: str, attrs: Dict[str, Optional[str]], parent: Optional["Node"] = None):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    def get(self, name: str) -> Optional[str]: return self.attrs.get(name)

    def text(self) -> str:
        "The text inside, whitespace collapsed (what the user reads)."
        return " ".join(self._raw_text().split())

    def _raw_text(self) -> str:
        return "".join(c if isinstance(c, str) else c._raw_text() for c in self.children)

    def walk(self) -> Iterator["Node"]:
        "This node and every element below it, in document order."
        yield self
        for c in self.children:
            if isinstance(c, Node): yield from c.walk()

    def ancestors(self) -> Iterator["Node"]:
        "This node, then its parents up to the document."
        n = self
        while n is not None:
            yield n
            n = n.parent

    def is_row(self) -> bool: return self.tag == "tr" or self.get("role") == "row"
    def is_cell(self) -> bool: return self.tag in ("td", "th") or self.get("role") in CELL_ROLES


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Node("#document", {})

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.cur)
        self.cur.children.append(node)
        if tag not in VOID: self.cur = node

    def handle_startendtag(self, tag, attrs): self.cur.children.append(Node(tag, dict(attrs), self.cur))

    def handle_endtag(self, tag):
        open_node = next((n for n in self.cur.ancestors() if n.tag == tag), None)
        if open_node is not None and open_node.parent is not None: self.cur = open_node.parent

    def handle_data(self, data): self.cur.children.append(data)


def parse(html: str) -> Node:
    "The document (or fragment) as a tree of `Node`s."
    b = _Builder()
    b.feed(html)
    b.close()
    return b.root


def id_counts(html: str) -> Counter:
    "How many elements carry each id."
    return Counter(n.get("id") for n in parse(html).walk() if n.get("id"))


def session_rows(html: str) -> Dict[str, Node]:
    "session id -> its row, for every row that holds a `data-session-id`, in document order."
    out = {}
    for n in parse(html).walk():
        sid = n.get("data-session-id")
        row = next((a for a in n.ancestors() if a.is_row()), None) if sid else None
        if row is not None: out.setdefault(sid, row)
    return out


def row_session_id(row: Node) -> Optional[str]:
    "The `data-session-id` held by a row (on it or inside it)."
    return next((n.get("data-session-id") for n in row.walk() if n.get("data-session-id")), None)


def badge_owners(html: str) -> List[str]:
    """The session id of the row holding each Active badge (`#wsm-active-session-badge`), in document order;
    `None` for a badge outside any session's row."""
    owners = []
    for badge in (n for n in parse(html).walk() if n.get("id") == ACTIVE_SESSION_BADGE):
        holder = next((a for a in badge.ancestors() if a.get("data-session-id") or a.is_row()), None)
        owners.append(None if holder is None else holder.get("data-session-id") or row_session_id(holder))
    return owners


def cells(row: Node) -> List[Node]:
    "The cells of a row, left to right (cells nested in a cell are part of it)."
    found = []
    def visit(node):
        for c in node.children:
            if not isinstance(c, Node): continue
            if c.is_cell(): found.append(c)
            else: visit(c)
    visit(row)
    return found


def header_texts(html: str) -> List[str]:
    "Texts of the first row of column headers."
    for n in parse(html).walk():
        if n.is_row() and any(c.tag == "th" or c.get("role") == "columnheader" for c in cells(n)):
            return [c.text() for c in cells(n)]
    return []


def cell_texts(html: str, session_id: str) -> Dict[str, str]:
    "Column header text -> text of that column's cell in the session's row."
    row = session_rows(html).get(session_id)
    assert row is not None, f"no row with data-session-id={session_id!r} in the page"
    return dict(zip(header_texts(html), (c.text() for c in cells(row))))


def element_text(html: str, id_: str) -> Optional[str]:
    "Text of the element with id `id_`, or None when the page has none."
    node = next((n for n in parse(html).walk() if n.get("id") == id_), None)
    return None if node is None else node.text()


def hx_urls(html: str) -> List[str]:
    "Every URL the page requests: its htmx attributes, and the URLs it hands its client script (`data-wsm-*` on the page root)."
    nodes = list(parse(html).walk())
    scripted = [v for n in nodes for k, v in n.attrs.items() if k.startswith("data-wsm-") and isinstance(v, str) and v.startswith("/")]
    return [n.get(a) for n in nodes for a in ("hx-get", "hx-post") if n.get(a)] + scripted
