"""HTML through beautifulsoup4 (lxml parser): main content only, h1-h6 as headings."""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag

from ..models import RawVersion, SourceFile
from .plain import text_blocks

_DROP_TAGS = (
    "script", "style", "noscript", "template", "nav", "aside", "form", "iframe", "svg",
    "button", "select", "input", "textarea", "canvas", "object", "embed", "dialog",
)  # fmt: skip
_DROP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alert"}
# Class or id words that mark page chrome rather than content.
_CHROME_WORDS = {
    "cookie", "cookies", "consent", "gdpr", "share", "sharing", "social", "breadcrumb",
    "breadcrumbs", "sidebar", "sidebar1", "menu", "navbar", "nav", "navigation", "advert",
    "ads", "newsletter", "subscribe", "skip", "headerlink", "related", "sphinxsidebar",
    "toc-sidebar", "popup", "modal", "banner",
}  # fmt: skip
_BLOCK_TAGS = {
    "p", "div", "section", "article", "main", "blockquote", "pre", "table", "tr", "ul", "ol",
    "dl", "dt", "dd", "figure", "figcaption", "address", "hr", "br", "td", "th", "body",
}  # fmt: skip
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_DATE_META = (
    ("published", ("article:published_time", "datepublished", "date", "dc.date", "dcterms.created",
                   "dc.date.issued", "pubdate", "publish-date")),
    ("modified", ("article:modified_time", "datemodified", "last-modified", "dcterms.modified",
                  "og:updated_time", "revised")),
)  # fmt: skip
_MARK = "\ue000"  # private-use character: not whitespace, never in real text


def parse(text: str, source: SourceFile, max_depth: int = 400) -> RawVersion:
    """Parse an HTML page into blocks, title, authors, dates and site name."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        # Class lists are only read as words here: keeping them as strings saves a fifth of the parse.
        soup = BeautifulSoup(_flatten_deep(text, max_depth), "lxml", multi_valued_attributes=None)
    meta = _meta(soup)
    title = meta.get("og:title") or ""
    dates: list[tuple[str, str]] = []
    for kind, names in _DATE_META:
        for name in names:
            if meta.get(name):
                dates.append((kind, meta[name]))
                break
    for time_tag in soup.find_all("time"):
        value = time_tag.get("datetime") or time_tag.get_text(" ", strip=True)
        if value and ("time", value) not in dates and len(dates) < 8:
            dates.append(("time", str(value)))
    authors = tuple(a.strip() for a in re.split(r",| and ", meta.get("author", "")) if a.strip())
    site = meta.get("og:site_name") or meta.get("application-name") or None
    html_title = soup.title.get_text(" ", strip=True) if soup.title else ""

    _drop_chrome(soup)
    root = soup.find("main") or soup.find(attrs={"role": "main"})
    if root is None:
        articles = soup.find_all("article")
        root = articles[0] if len(articles) == 1 else (soup.body or soup)
    h1 = root.find("h1") if isinstance(root, Tag) else None
    if not title:
        title = h1.get_text(" ", strip=True) if h1 else html_title
    blocks = _blocks(root)
    # The page title repeated as the first h1 is the title, not a section.
    if blocks and blocks[0].kind == "heading" and blocks[0].text == title:
        blocks = blocks[1:]
    return RawVersion(
        source=source,
        doc_type="html",
        blocks=tuple(blocks),
        title=title or None,
        authors=authors,
        date_strings=tuple(dates),
        site=site,
    )


def _flatten_deep(text: str, max_depth: int) -> str:
    # Pathologically nested markup (thousands of unclosed <div>s) only costs memory and
    # recursion downstream; past max_depth, extra opening tags are dropped, text kept.
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


def _meta(soup: BeautifulSoup) -> dict[str, str]:
    meta: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        key = tag.get("property") or tag.get("name") or tag.get("itemprop") or tag.get("http-equiv")
        content = tag.get("content")
        if key and content:
            meta.setdefault(str(key).strip().lower(), str(content).strip())
    return meta


def _chrome_words(value: object, cache: dict[str, bool]) -> bool:
    """Whether a class or id value names page chrome (values repeat a lot: cached per page)."""
    key = " ".join(value) if isinstance(value, list) else str(value)
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = not _CHROME_WORDS.isdisjoint(re.split(r"[-_\s]+", key.lower()))
    return hit


def _drop_chrome(soup: BeautifulSoup) -> None:
    doomed: list[Tag] = []
    cache: dict[str, bool] = {}
    for tag in soup.find_all(True):
        if not isinstance(tag, Tag) or tag.attrs is None:
            continue
        name = tag.name
        if (
            name in _DROP_TAGS
            or (name in ("header", "footer") and tag.find_parent(("article", "main")) is None)
            or str(tag.get("role", "")).lower() in _DROP_ROLES
            or str(tag.get("aria-hidden", "")).lower() == "true"
            or tag.has_attr("hidden")
        ) or any(tag.get(attr) and _chrome_words(tag.get(attr), cache) for attr in ("class", "id")):
            doomed.append(tag)
    for tag in doomed:
        if tag.parent is not None:
            tag.decompose()


def _blocks(root: Tag | BeautifulSoup) -> list:
    # Mark block boundaries in the tree (one pass over the tags), then read all text in one pass.
    for tag in root.find_all(True) if isinstance(root, Tag) else []:
        name = tag.name
        if name in _HEADINGS:
            tag.insert_before(f"\n\n{_MARK}H{name[1]}{_MARK}")
        elif name == "li":
            tag.insert_before(f"\n\n{_MARK}LI{_MARK}")
        elif name in _BLOCK_TAGS:
            tag.insert_before("\n\n")
        else:
            continue
        tag.insert_after("\n\n")
    raw = root.get_text()
    from ..models import Block

    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", raw):
        chunk = chunk.strip()
        if not chunk:
            continue
        m = re.match(rf"^{_MARK}(H[1-6]|LI){_MARK}\s*(.*)$", chunk, re.S)
        if m:
            body = re.sub(r"\s+", " ", m.group(2)).strip().rstrip("¶#").strip()
            if not body:
                continue
            if m.group(1) == "LI":
                blocks.append(Block("item", body))
            else:
                blocks.append(Block("heading", body, int(m.group(1)[1])))
            continue
        chunk = chunk.replace(_MARK, "")
        for block in text_blocks(re.sub(r"[ \t\r\f\v]+", " ", chunk)):
            blocks.append(Block("paragraph", re.sub(r"\s+", " ", block.text)))
    return blocks
