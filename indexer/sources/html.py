"""HTML pages: main content and metadata through trafilatura and htmldate, on one lxml parse.

`parse` reads the page once with lxml and removes what a reader never sees (scripts, hidden
elements, permalink marks). trafilatura extracts the main content (headings, paragraphs, lists,
tables, code), which is walked here into blocks; extract_metadata and htmldate read a view of
the page without its text blocks for the title, authors, site name and the published and
modified dates. When the extractor returns nothing, keeps under a quarter of the text of the
element the page declares as its main content (`<main>`, `role="main"`, a single `<article>`),
or falls under its own minimum, htmlwalk.py walks that element (or the body) with
BeautifulSoup instead. No other module sees trafilatura, htmldate or lxml types.
"""

from __future__ import annotations

import logging
import re
import warnings
from copy import deepcopy

import lxml.html
from htmldate import find_date
from lxml import etree
from trafilatura import bare_extraction, extract_metadata
from trafilatura.settings import DEFAULT_CONFIG

from ..models import Block, RawVersion, SourceFile
from . import htmlwalk

# Library log records are not for our users' terminals: results that matter come back as
# values (None when an extractor gives up) and are handled here.
for _name in ("trafilatura", "htmldate", "courlan", "justext", "readability"):
    _logger = logging.getLogger(_name)
    _logger.addHandler(logging.NullHandler())
    _logger.propagate = False

# huge_tree: libxml2 otherwise drops the text of anything nested deeper than 255 levels.
_PARSER = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True)
# A fixed upper bound keeps dates deterministic: htmldate's default is today's date.
_DATE_RANGE = {"extensive_search": False, "max_date": "2100-12-31"}
# Below this many characters the extractor's own result is a whole-page fallback.
_MIN_EXTRACTED = DEFAULT_CONFIG.getint("DEFAULT", "MIN_EXTRACTED_SIZE")
# Class, id or itemprop words that label a date, time or author (a word start, or camelCase).
_META_LABEL = re.compile(
    r"(?:^|[^A-Za-z]|(?<=[a-z])(?=[A-Z]))(?i:date|pubdate|time|publi|modif|updat|author|byline|posted|meta|credit|writer)"
)
# How <title> joins a page's title and its site's name ("Headline | Site", "Site — Page").
_SEPARATORS = (" | ", " — ", " – ", " - ", " · ", " :: ", " » ")
_TITLE_SEPARATORS = re.compile("|".join(re.escape(sep) for sep in _SEPARATORS))
_TEXT_BLOCKS = ("p", "li", "dd", "dt", "td", "th", "pre", "blockquote", "figcaption", "h2", "h3", "h4", "h5", "h6")
_HEADING_LEVELS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_HEADINGS = frozenset(_HEADING_LEVELS)
_NEVER_TEXT = ("script", "style", "noscript", "template")
# Elements that may be hidden, and links within the page (permalink marks), found in one pass.
_MAYBE_UNSEEN = etree.XPath(
    "//*[@hidden or @aria-hidden='true' or contains(@style, 'none') or contains(@style, 'hidden')]"
    " | //a[starts-with(@href, '#')]"
)
_DEEPER_THAN = etree.XPath("boolean(//*[count(ancestor::*) > $d])")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_WS = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?:;…\"”’)]\s*$")
_WORD = re.compile(r"[^\W_]+")
_COMMENT_WORDS = {"comment", "comments", "reply", "replies", "respond", "discussion", "disqus"}
# Elements of the extractor's XML that hold blocks (the rest is inline text).
_BLOCK_TAGS = {"head", "p", "list", "table", "quote", "div", "lb", "graphic", "main", "body"}


def parse(text: str, source: SourceFile, max_depth: int = 400) -> RawVersion:
    """Parse an HTML page into blocks (main content only), title, authors, dates and site name."""
    tree = _tree(text)
    if tree is not None and _DEEPER_THAN(tree, d=max_depth):
        # Pathologically nested markup (thousands of unclosed <div>s) only costs memory and
        # recursion downstream: parse it again with the opening tags past max_depth left out.
        tree = _tree(htmlwalk.flatten_deep(text, max_depth))
    if tree is None:
        return RawVersion(source=source, doc_type="html", blocks=())
    main = _prepare(tree)
    view = _metadata_view(tree)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info = extract_metadata(view, date_config={"original_date": True, **_DATE_RANGE})
        updated = find_date(view, original_date=False, url=info.url, **_DATE_RANGE)
    blocks = _content_blocks(tree, main)
    declared = _declared_texts(view)
    title = _title(_clean(info.title or ""), _clean(view.findtext(".//title") or ""), declared)
    if title is None:
        title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), None)
    # The page title repeated as the first heading is the title, not a section.
    if blocks and blocks[0].kind == "heading" and title and blocks[0].text.lower() == title.lower():
        blocks = blocks[1:]
    dates: list[tuple[str, str]] = []
    if info.date:
        dates.append(("published", info.date))
    if updated and updated != info.date:
        dates.append(("modified", updated))
    authors = tuple(a.strip() for a in (info.author or "").split(";") if a.strip())
    return RawVersion(
        source=source,
        doc_type="html",
        blocks=tuple(blocks),
        title=title,
        authors=authors,
        date_strings=tuple(dates),
        site=_site_name(_clean(info.sitename or ""), title, info.hostname, view, declared),
    )


def _content_blocks(tree: lxml.html.HtmlElement, main: lxml.html.HtmlElement | None) -> list[Block]:
    """The page's main content: the extractor's, unless it missed what the page declares."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        extracted = bare_extraction(tree, include_comments=False, include_tables=True, include_formatting=False)
    blocks = _walk_extracted(extracted.body) if extracted is not None and extracted.body is not None else []
    # The extractor kept under a quarter of the prose of the element the page declares as its
    # main content: it took a teaser or a caption for the article.
    if main is not None and _words(blocks) * 4 < _own_words(main):
        return htmlwalk.blocks_of(lxml.html.tostring(main, encoding="unicode"))
    if sum(len(b.text) for b in blocks) < _MIN_EXTRACTED:
        # Under its own minimum the extractor falls back to the page's whole text without
        # structure (or gives up). When walking the page keeps about the same words, there was
        # no chrome to remove, and the walk keeps the headings and lists.
        body = tree.find("body")
        scope = main if main is not None else body if body is not None else tree
        walked = htmlwalk.blocks_of(lxml.html.tostring(scope, encoding="unicode"))
        if walked and (not blocks or _words(walked) <= 2 * _words(blocks)):
            return walked
    return blocks


def _title(found: str, page_title: str, declared: list[str]) -> str | None:
    """The extractor's title, unless it is a lone <h1> that <title> does not name: such an h1
    is the site's logo or banner ("Google", "Archive of Our Own beta"), and <title> is better."""
    if not found or not page_title:
        return found or page_title or None
    parts = {p.strip().casefold() for p in _TITLE_SEPARATORS.split(page_title)}
    named = found.casefold() in parts or (
        found.casefold() in page_title.casefold() and 3 * len(found) >= len(page_title)
    )
    if named or any(found in text for text in declared):  # og:title, JSON-LD headline
        return found
    return page_title


def _site_name(
    name: str, title: str | None, hostname: str | None, view: lxml.html.HtmlElement, declared: list[str]
) -> str | None:
    """The site's name as the page declares it (meta tags, JSON-LD, the URL's host), else the
    rest of <title> once the page's own title is taken off ("Headline | Site").

    The extractor otherwise guesses it from any part of <title> with a dot in it, which in
    documentation is the page itself ("os.path — Common pathname manipulations").
    """
    if name and (name == hostname or any(name in text for text in declared)):
        return name
    page_title = _clean(view.findtext(".//title") or "")
    if title and page_title != title:
        for sep in _SEPARATORS:
            head, found, tail = page_title.rpartition(sep)
            if found and head.strip() == title and tail.strip():
                return tail.strip()
            head, found, tail = page_title.partition(sep)
            if found and tail.strip() == title and head.strip():
                return head.strip()
    return None


def _declared_texts(view: lxml.html.HtmlElement) -> list[str]:
    texts = [el.get("content") or "" for el in view.iter("meta")]
    texts += [el.text or "" for el in view.iter("script") if el.get("type") == "application/ld+json"]
    return texts


def _metadata_view(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """The page without its text blocks, for the metadata extractors: head, JSON-LD, the h1,
    and the elements the markup labels as dates, times, authors or bylines.

    Read over the text, htmldate takes a version number or an example for the page's date
    ("Notable changes in Python 3.8.12" -> 2012-08-03, 2020-10-31 in a code sample).
    """
    view = deepcopy(tree)
    labelled: set[etree._Element] = set()
    for el in view.iter(etree.Element):
        attrs = el.attrib
        if el.tag in ("time", "abbr") or (
            attrs
            and (
                "datetime" in attrs
                or _META_LABEL.search(
                    " ".join(attrs.get(a, "") for a in ("class", "id", "itemprop", "rel", "property", "name"))
                )
            )
        ):
            labelled.add(el)
            labelled.update(el.iterancestors())
    for el in [el for el in view.iter(_TEXT_BLOCKS) if el not in labelled]:
        if el.getparent() is not None:
            el.drop_tree()
    return view


def _tree(text: str) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.document_fromstring(text.encode("utf-8", "replace"), parser=_PARSER)
    except (etree.ParserError, ValueError):
        return None  # nothing to parse ("Document is empty")


def _prepare(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """Remove what a reader of the page never sees, and markup that only styles code; return
    the element the page declares as its main content, if any."""
    for el in [el for el in tree.iter(_NEVER_TEXT) if el.get("type") != "application/ld+json"]:
        el.drop_tree()  # keeps the tail text; JSON-LD stays for the metadata (never text)
    main = _declared_main(tree)
    body = tree.find("body")
    total = len(_WS.sub("", body.text_content())) if body is not None else 0
    doomed = [el for el in _MAYBE_UNSEEN(tree) if (_is_permalink(el) if el.tag == "a" else _unseen(el, total))]
    for el in doomed:
        if el.getparent() is not None:  # not inside one already removed
            el.drop_tree()
    if main is not None:
        _topic_ids(main)  # main itself is never hidden (_holds_the_page)
    # Inside <pre> and <code>, markup is syntax highlighting: the text is the content. Line
    # breaks written as <br> stay line breaks. Preformatted text goes to the extractor as a
    # code block (<pre><code>), which it keeps verbatim.
    for el in tree.iter("pre", "code"):
        if len(el):
            for br in el.iter("br"):
                br.tail = "\n" + (br.tail or "")
            etree.strip_tags(el, "*")
    for el in tree.iter("pre"):
        code = etree.SubElement(el, "code")
        code.text, el.text = el.text, None
    # A formula is text (the extractor drops <math> whole): its TeX source, alt text or symbols.
    for el in list(tree.iter("math")):
        tex = el.xpath(".//*[local-name()='annotation' and contains(@encoding, 'tex')]")
        text = tex[0].text_content() if tex else el.get("alttext") or " ".join(el.itertext())
        tail = el.tail
        el.clear()
        el.tag, el.text, el.tail = "span", " ".join(text.split()), tail
    # An image caption is the article's text (the extractor drops figures whole).
    for el in tree.iter("figure"):
        for caption in el.iter("figcaption"):
            caption.tag = "p"
        el.tag = "div"
    return main


def _topic_ids(main: lxml.html.HtmlElement) -> None:
    """Drop ids that only repeat their section's heading, inside the declared main content.

    Documentation generators name each section after its heading (`<section id="edit-menu">
    <h3>Edit menu</h3>`); the extractor reads words such as menu, nav or footer in an id as
    page chrome and would drop those sections. Reader comments stay marked: a thread titled
    "12 comments" is still not main content.
    """
    for el in main.iter("section", "div", "article"):
        ident = el.get("id")
        if not ident:
            continue
        first = None
        for child in el:
            if child.tag in _HEADINGS:
                first = child
                break
            if child.text_content().strip():
                break  # text before any heading: not a titled section
        if first is None:
            continue
        id_words = set(_WORD.findall(ident.lower()))
        heading_words = {w for w in _WORD.findall(first.text_content().lower()) if not w.isdigit()}
        if id_words and id_words <= heading_words and id_words.isdisjoint(_COMMENT_WORDS):
            del el.attrib["id"]


def _unseen(el: lxml.html.HtmlElement, total: int) -> bool:
    """Hidden from every reader (hidden, aria-hidden, display:none, visibility:hidden)."""
    hidden = (
        el.get("hidden") is not None
        or el.get("aria-hidden") == "true"
        or bool(_HIDDEN_STYLE.search(el.get("style", "")))
    )
    # A page hidden until its scripts run (<body style="display:none">) is still the page.
    return hidden and not _holds_the_page(el, total)


def _holds_the_page(el: lxml.html.HtmlElement, total: int) -> bool:
    """The document's own wrappers, and any element holding most of the page's text, stay."""
    if el.tag in ("html", "body", "main", "article"):
        return True
    return total > 0 and len(_WS.sub("", el.text_content())) * 2 >= total


def _is_permalink(el: lxml.html.HtmlElement) -> bool:
    # A link to a place on the same page whose text is one symbol (¶, #, §, 🔗) marks a
    # heading's permalink, not content.
    text = (el.text_content() or "").strip()
    return 0 < len(text) <= 2 and not any(ch.isalnum() for ch in text)


def _declared_main(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The element the page declares as its main content, if it declares exactly one."""
    for path in ("//main", "//*[@role='main']", "//article"):
        found = tree.xpath(path)
        if len(found) == 1:
            return found[0]
        if found:
            return None
    return None


def _own_words(el: lxml.html.HtmlElement) -> int:
    """Words of an element's text outside links (link lists are navigation, not prose)."""
    # The HTML parser never nests one <a> in another.
    return len(el.text_content().split()) - sum(len(a.text_content().split()) for a in el.iter("a"))


def _words(blocks: list[Block]) -> int:
    return sum(len(b.text.split()) for b in blocks)


def _clean(text: str) -> str:
    return _WS.sub(" ", text).strip()


# -- the extractor's XML -> blocks -----------------------------------------------------------
def _walk_extracted(body: etree._Element) -> list[Block]:
    """Blocks from trafilatura's XML: head -> heading, p/quote -> paragraphs, list items,
    table rows as `cell | cell` lines, a code block as one paragraph."""
    out: list[Block] = []
    _container(body, out, "paragraph")
    return out


def _container(el: etree._Element, out: list[Block], run_kind: str) -> None:
    """Walk an element holding blocks; loose inline text between them becomes `run_kind` blocks."""
    run: list[str] = [el.text or ""]

    def flush() -> None:
        text = _clean("".join(run))
        if text:
            out.append(Block(run_kind, text))
        run.clear()

    for child in el:
        tag = child.tag
        if tag == "lb":
            # A line break after a finished sentence starts a paragraph; one inside a
            # sentence (a hard-wrapped line) is a space.
            if _SENTENCE_END.search("".join(run)):
                flush()
            else:
                run.append(" ")
        elif tag in _BLOCK_TAGS or (tag == "code" and el.tag != "p" and "\n" in _inline(child).strip()):
            flush()
            _block(child, out)
        else:
            run.append(_inline(child))
        run.append(child.tail or "")
    flush()


def _block(el: etree._Element, out: list[Block]) -> None:
    tag = el.tag
    if tag == "head":
        text = _clean(_inline(el))
        level = _HEADING_LEVELS.get(el.get("rend", ""))
        if text:
            out.append(Block("heading", text, level) if level else Block("paragraph", text))
    elif tag == "p":
        _container(el, out, "paragraph")
    elif tag == "list":
        for item in el:
            if item.tag != "item":
                _block(item, out)
                continue
            rend = item.get("rend", "")
            # Definition lists: a term and its description are paragraphs, not bullet points.
            kind = "paragraph" if rend.startswith(("dt", "dd")) else "item"
            first = len(out)
            _container(item, out, kind)
            if kind == "item" and len(out) > first and out[first].kind == "paragraph":
                out[first] = Block("item", out[first].text)  # <li><p>text</p></li>
    elif tag == "table":
        # Its own rows only: a table nested in a cell is read as that cell's text.
        for row in el.iterchildren("row"):
            cells = [_clean(_inline(cell)) for cell in row.iterchildren("cell")]
            line = " | ".join(c for c in cells if c)
            if line:
                out.append(Block("paragraph", line))
    elif tag == "code":
        # One block per code block: cleaning reads a short line repeated across a site's pages
        # as chrome, and would drop `return True` or `else:` from the middle of an example.
        text = _clean(_inline(el))
        if text:
            out.append(Block("paragraph", text))
    elif tag in ("quote", "div", "main", "body"):
        _container(el, out, "paragraph")
    # lb and graphic carry no text of their own (an <lb> only ends the loose text before it)


def _inline(el: etree._Element) -> str:
    """All text of an element, its line breaks and block children read as spaces."""
    parts: list[str] = []

    def visit(node: etree._Element) -> None:
        gap = node is not el and node.tag in _BLOCK_TAGS
        parts.append(" " if gap else "")
        parts.append(node.text or "")
        for child in node:
            visit(child)
            parts.append(child.tail or "")
        parts.append(" " if gap else "")

    visit(el)
    return "".join(parts)
