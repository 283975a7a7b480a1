"""HTML -> blocks through BeautifulSoup, for pages (or parts of pages) the extractor misses.

html.py hands this module the element a page declares as its main content, or the whole
body when the extractor returned nothing. Page chrome is removed by tag (nav, aside, forms
of controls), by ARIA role, and by class or id words (sidebar, menu, comments...), but never
the document's wrappers (html, body, main, article) nor an element holding at least half of
the text: a class word on the element that wraps the article (`<body class="right-sidebar">`,
an ASP.NET page inside one `<form>`) describes the layout, not chrome.
"""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag, XMLParsedAsHTMLWarning

from ..models import Block
from .plain import text_blocks

# Never text a reader sees, whatever wraps it.
_DROP_ALWAYS = (
    "script", "style", "noscript", "template", "iframe", "svg", "button", "select", "input",
    "textarea", "canvas", "object", "embed",
)  # fmt: skip
# Chrome by element type; kept when the element holds most of the page (see module docstring).
_DROP_CHROME_TAGS = ("nav", "aside", "form", "dialog")
_DROP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alert"}
# Class or id words that mark page chrome or reader comments rather than content.
_CHROME_WORDS = {
    "cookie", "cookies", "consent", "gdpr", "share", "sharing", "social", "breadcrumb",
    "breadcrumbs", "sidebar", "menu", "navbar", "nav", "navigation", "advert", "ads",
    "newsletter", "subscribe", "skip", "related", "popup", "modal", "banner", "comment",
    "comments", "disqus",
}  # fmt: skip
_PROTECTED = {"html", "body", "main", "article", "[document]"}
_BLOCK_TAGS = {
    "p", "div", "section", "article", "main", "blockquote", "pre", "table", "ul", "ol", "dl",
    "dt", "dd", "figure", "figcaption", "address", "hr", "br", "body", "details", "summary",
    "caption", "header", "footer",
}  # fmt: skip
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_MARK = "\ue000"  # private-use character: not whitespace, never in real text


def flatten_deep(text: str, max_depth: int) -> str:
    """Drop opening tags past `max_depth` levels of nesting (the text stays)."""
    # Pathologically nested markup (thousands of unclosed <div>s) only costs memory and
    # recursion downstream.
    opens = len(re.findall(r"<(?:div|span|b|i|font|p|a|section|td|li|ul)\b", text[:2_000_000], re.I))
    if opens <= max_depth:
        return text
    depth = 0
    out: list[str] = []
    for tok in re.split(r"(<[^>]*>)", text):
        if tok.startswith("</"):
            depth = max(0, depth - 1)
        elif tok.startswith("<") and not tok.endswith("/>") and not tok.startswith("<!"):
            depth += 1
            if depth > max_depth:
                continue
        out.append(tok)
    return "".join(out)


def blocks_of(html: str) -> list[Block]:
    """Blocks of an HTML document or fragment, page chrome removed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        # Class lists are only read as words here: keeping them as strings saves a fifth of the parse.
        soup = BeautifulSoup(html, "lxml", multi_valued_attributes=None)
    root = soup.body or soup
    _drop_chrome(root)
    return _blocks(root)


def _text_size(tag: Tag) -> int:
    return sum(len(s) - s.count(" ") for s in tag.stripped_strings)


def _is_chrome(tag: Tag, cache: dict[str, bool]) -> bool:
    name = tag.name
    if name in _DROP_CHROME_TAGS or (name in ("header", "footer") and tag.find_parent(("article", "main")) is None):
        return True
    if str(tag.get("role", "")).lower() in _DROP_ROLES:
        return True
    for attr in ("class", "id"):
        value = tag.get(attr)
        if value:
            key = str(value)
            hit = cache.get(key)
            if hit is None:
                hit = cache[key] = not _CHROME_WORDS.isdisjoint(re.split(r"[-_\s]+", key.lower()))
            if hit:
                return True
    return False


def _drop_chrome(root: Tag) -> None:
    for tag in root.find_all(_DROP_ALWAYS):
        tag.decompose()
    total = _text_size(root)
    cache: dict[str, bool] = {}
    doomed = [
        tag
        for tag in root.find_all(True)
        if tag.name not in _PROTECTED and tag.attrs is not None and _is_chrome(tag, cache)
    ]
    for tag in doomed:
        # An outer element may already be gone, or be one that holds most of the page.
        if tag.parent is not None and _text_size(tag) * 2 < total:
            tag.decompose()


def _blocks(root: Tag) -> list[Block]:
    # A code block is one block, as in html.py (its lines would be cut apart below).
    for pre in root.find_all("pre"):
        pre.string = " ".join(pre.get_text().split())
    # Mark block boundaries in the tree (one pass over the tags), then read all text in one pass.
    for tag in root.find_all(True):
        name = tag.name
        if name in _HEADINGS:
            tag.insert_before(f"\n\n{_MARK}H{name[1]}{_MARK}")
        elif name == "li":
            tag.insert_before(f"\n\n{_MARK}LI{_MARK}")
        elif name == "tr":
            tag.insert_before(f"\n\n{_MARK}TR{_MARK}")
        elif name in ("td", "th"):
            # Cells of a row stay on one line, separated by a bar.
            tag.insert_before(f" {_MARK}|{_MARK} ")
            continue
        elif name in _BLOCK_TAGS:
            tag.insert_before("\n\n")
        else:
            continue
        tag.insert_after("\n\n")
    raw = root.get_text()
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", raw):
        chunk = chunk.strip()
        if not chunk:
            continue
        m = re.match(rf"^{_MARK}(H[1-6]|LI|TR){_MARK}\s*(.*)$", chunk, re.S)
        if m:
            body = re.sub(r"\s+", " ", m.group(2)).strip()
            if m.group(1) == "TR":
                cells = [c.strip() for c in body.split(f"{_MARK}|{_MARK}")]
                body = " | ".join(c for c in cells if c)
            else:
                body = body.replace(f"{_MARK}|{_MARK}", " ").strip()
            body = re.sub(r"\s+", " ", body).strip()
            if not body:
                continue
            if m.group(1) == "LI":
                blocks.append(Block("item", body))
            elif m.group(1) == "TR":
                blocks.append(Block("paragraph", body))
            else:
                blocks.append(Block("heading", body, int(m.group(1)[1])))
            continue
        chunk = chunk.replace(f"{_MARK}|{_MARK}", " ").replace(_MARK, "")
        for block in text_blocks(re.sub(r"[ \t\r\f\v]+", " ", chunk)):
            blocks.append(Block("paragraph", re.sub(r"\s+", " ", block.text)))
    return blocks
