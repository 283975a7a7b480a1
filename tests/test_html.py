"""HTML pages: main content through the extractor, the page's own wrappers never dropped,
structure (headings, lists, table rows, code lines), metadata, and no library noise."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from indexer.models import RawVersion
from indexer.sources import load_bytes, load_file
from tests.conftest import SHARED

DEV = SHARED / "data" / "html-extraction"
PYDOC = Path("/usr/share/doc/python3.11/html")
MB = 1024 * 1024

PARAS = [
    "The harbour board approved the new winter timetable on Tuesday, and the first ferries under it "
    "leave the fish market quay on the first Monday of November.",
    "Crossings to the north quay will run every forty minutes instead of every half hour, because two "
    "of the four boats go to the yard for their five-year survey.",
    "Commuters who asked for an earlier first crossing will get one: the 06:10 boat returns after a gap "
    "of three winters, paid for by the savings on fuel.",
    "The board will review the timetable in March, when both boats are back in service and the spring "
    "tides allow the longer route past the bathing beach.",
]
ARTICLE = "".join(f"<p>{p}</p>" for p in PARAS)
ARTICLE_BLOCKS = [("paragraph", 0, p) for p in PARAS]
HEAD = (
    "<head><title>Winter ferry timetable | Velmora Courier</title>"
    '<meta property="og:site_name" content="Velmora Courier"></head>'
)
CHROME = (
    '<header class="site-header"><a href="/">Velmora Courier</a><nav><ul><li><a href="/news">News</a></li>'
    '<li><a href="/sport">Sport</a></li></ul></nav></header>'
)
SIDEBAR = (
    '<aside class="widget-area"><h2>Most read</h2><ul><li><a href="/a">Council budget vote</a></li>'
    '<li><a href="/b">Bridge restoration delayed</a></li></ul></aside>'
)
FOOTER = '<footer class="site-footer"><p>© 2023 Velmora Courier. All rights reserved.</p></footer>'


def parse(html: str) -> RawVersion:
    versions = load_bytes("page.html", html.encode("utf-8"), 0)
    assert len(versions) == 1
    return versions[0]


def blocks(raw: RawVersion) -> list[tuple[str, int, str]]:
    return [(b.kind, b.level, b.text) for b in raw.blocks]


# -- class words describe the layout of the page's wrappers, not chrome -----------------------
@pytest.mark.parametrize(
    "page",
    [
        # The theme names its layout on <body>.
        f'<html>{HEAD}<body class="home blog right-sidebar">{CHROME}<div id="page"><article>'
        f"<h1>Winter ferry timetable</h1>{ARTICLE}</article>{SIDEBAR}</div>{FOOTER}</body></html>",
        # ... or on <html>.
        f'<html class="html_menu_right no-js">{HEAD}<body>{CHROME}<div id="content">'
        f"<h1>Winter ferry timetable</h1>{ARTICLE}</div>{SIDEBAR}{FOOTER}</body></html>",
        # ASP.NET WebForms: the whole page inside one <form>.
        f'<html>{HEAD}<body><form id="aspnetForm" method="post" action="./news.aspx">'
        f'<input type="hidden" name="__VIEWSTATE" value="x">{CHROME}<div class="article">'
        f"<h1>Winter ferry timetable</h1>{ARTICLE}</div>{SIDEBAR}{FOOTER}</form></body></html>",
    ],
    ids=["body-class-right-sidebar", "html-class-menu", "page-inside-one-form"],
)
def test_the_article_survives_class_words_on_its_wrappers(page: str) -> None:
    raw = parse(page)
    assert (raw.title, raw.site) == ("Winter ferry timetable", "Velmora Courier")
    assert blocks(raw) == ARTICLE_BLOCKS  # no menu, sidebar, footer or copyright line


def test_tables_lists_and_headings_keep_their_structure() -> None:
    table = (
        "<table><thead><tr><th>Route</th><th>Crossing</th><th>Boats</th></tr></thead><tbody>"
        "<tr><td>Fish market to north quay</td><td>600 m</td><td>2</td></tr>"
        "<tr><td>Summer beach route</td><td>1.4 km</td><td>1</td></tr></tbody></table>"
    )
    lists = (
        "<h2>What changes</h2><ul><li>Crossings every forty minutes</li><li>A first boat at 06:10</li></ul>"
        "<h3>Fares</h3><ol><li>Single ticket: 3 crowns</li><li>Monthly pass: 60 crowns</li></ol>"
    )
    raw = parse(
        f"<html>{HEAD}<body>{CHROME}<main><article><h1>Winter ferry timetable</h1>{ARTICLE}{table}{lists}"
        f"<p>The board publishes the full timetable on its website.</p></article></main>{FOOTER}</body></html>"
    )
    assert blocks(raw) == [
        *ARTICLE_BLOCKS,
        ("paragraph", 0, "Route | Crossing | Boats"),
        ("paragraph", 0, "Fish market to north quay | 600 m | 2"),
        ("paragraph", 0, "Summer beach route | 1.4 km | 1"),
        ("heading", 2, "What changes"),
        ("item", 0, "Crossings every forty minutes"),
        ("item", 0, "A first boat at 06:10"),
        ("heading", 3, "Fares"),
        ("item", 0, "Single ticket: 3 crowns"),
        ("item", 0, "Monthly pass: 60 crowns"),
        ("paragraph", 0, "The board publishes the full timetable on its website."),
    ]


def test_code_blocks_keep_their_lines_and_definition_lists_their_terms() -> None:
    code = (
        "<h2>Reading the timetable file</h2>"
        "<p>The board publishes the timetable as a file that any script can read, one crossing per line.</p>"
        '<div class="highlight"><pre><span class="k">import</span> csv\n<span class="k">with</span> '
        'open("winter.csv") <span class="k">as</span> fh:\n    rows = list(csv.reader(fh))\n</pre></div>'
        "<dl><dt>departure</dt><dd><p>The time the boat leaves the quay, as HH:MM.</p></dd>"
        "<dt>quay</dt><dd><p>Where the crossing starts.</p></dd></dl>"
    )
    raw = parse(f"<html>{HEAD}<body>{CHROME}<main><h1>Winter ferry timetable</h1>{ARTICLE}{code}</main></body></html>")
    assert blocks(raw) == [
        *ARTICLE_BLOCKS,
        ("heading", 2, "Reading the timetable file"),
        (
            "paragraph",
            0,
            "The board publishes the timetable as a file that any script can read, one crossing per line.",
        ),
        # One block: a line such as `else:` repeated on many pages of a site would be taken for chrome.
        ("paragraph", 0, 'import csv with open("winter.csv") as fh: rows = list(csv.reader(fh))'),
        ("paragraph", 0, "departure"),
        ("paragraph", 0, "The time the boat leaves the quay, as HH:MM."),
        ("paragraph", 0, "quay"),
        ("paragraph", 0, "Where the crossing starts."),
    ]


def test_reader_comments_are_not_main_content() -> None:
    comments = (
        '<div id="comments" class="comments-area"><h2 class="comments-title">2 comments</h2>'
        '<ol class="comment-list"><li class="comment"><p class="comment-author">Arvid</p>'
        "<p>Forty minutes is far too long to wait in the cold wind on the quay in January.</p></li>"
        '<li class="comment"><p class="comment-author">Lena</p>'
        "<p>The early boat is very welcome news for everyone who works at the hospital.</p></li></ol></div>"
    )
    raw = parse(
        f"<html>{HEAD}<body>{CHROME}<article><h1>Winter ferry timetable</h1>{ARTICLE}</article>"
        f"{comments}{FOOTER}</body></html>"
    )
    assert blocks(raw) == ARTICLE_BLOCKS


def test_hidden_text_and_permalink_marks_are_left_out() -> None:
    extra = (
        "<div hidden><p>This paragraph is hidden from every reader of the page.</p></div>"
        '<p style="display: none">Neither is this one shown.</p>'
        '<h2 id="fares">Fares <a class="headerlink" href="#fares">¶</a></h2><p>Fares stay as they are this winter.</p>'
    )
    raw = parse(f"<html>{HEAD}<body><article><h1>Winter ferry timetable</h1>{ARTICLE}{extra}</article></body></html>")
    assert blocks(raw) == [
        *ARTICLE_BLOCKS,
        ("heading", 2, "Fares"),
        ("paragraph", 0, "Fares stay as they are this winter."),
    ]


def test_a_body_hidden_until_scripts_run_is_still_the_page() -> None:
    raw = parse(
        f'<html>{HEAD}<body style="display:none"><article><h1>Winter ferry timetable</h1>{ARTICLE}</article></body></html>'
    )
    assert blocks(raw) == ARTICLE_BLOCKS


def test_sections_named_after_their_heading_are_content() -> None:
    # Documentation generators give each section the id of its heading; "menu" or "navigation"
    # there names the topic, not the page's menu.
    docs = (
        '<section id="edit-menu"><h2>Edit menu</h2><p>The edit menu holds the commands that change the text '
        "of the current window: undo, redo, cut, copy and paste.</p></section>"
        '<section id="navigation"><h2>Navigation</h2><p>Keyboard navigation moves the cursor between words, '
        "lines and the start and end of the file without the mouse.</p></section>"
    )
    raw = parse(
        f'<html><head><title>The editor — Velmora docs</title></head><body>{CHROME}<div role="main">'
        f'<section id="editor"><h1>The editor</h1>{ARTICLE}{docs}</section></div>{FOOTER}</body></html>'
    )
    assert (raw.title, raw.site) == ("The editor", "Velmora docs")
    assert blocks(raw) == [
        *ARTICLE_BLOCKS,
        ("heading", 2, "Edit menu"),
        (
            "paragraph",
            0,
            "The edit menu holds the commands that change the text of the current window: undo, redo, cut, copy and paste.",
        ),
        ("heading", 2, "Navigation"),
        (
            "paragraph",
            0,
            "Keyboard navigation moves the cursor between words, lines and the start and end of the file without the mouse.",
        ),
    ]


def test_figure_captions_are_text_and_formulas_are_kept() -> None:
    figure = (
        '<figure><img src="ferry.jpg" alt=""><figcaption>The Salt Queen leaving the quay at dawn.</figcaption></figure>'
    )
    formula = "<p>A boat of length <math><mi>L</mi><mo>=</mo><mn>24</mn></math> metres fits the quay.</p>"
    raw = parse(
        f"<html>{HEAD}<body><article><h1>Winter ferry timetable</h1>{ARTICLE}{figure}{formula}</article></body></html>"
    )
    assert blocks(raw) == [
        *ARTICLE_BLOCKS,
        ("paragraph", 0, "The Salt Queen leaving the quay at dawn."),
        ("paragraph", 0, "A boat of length L = 24 metres fits the quay."),
    ]


def test_a_line_break_inside_a_sentence_is_a_space() -> None:
    raw = parse(
        f"<html>{HEAD}<body><article><h1>Winter ferry timetable</h1>{ARTICLE}"
        "<p>The author thanks Andrea Marchesini and Ben<br>Kelly for the photographs.<br>"
        "Corrections go to the harbour office.</p></article></body></html>"
    )
    assert blocks(raw)[-2:] == [
        ("paragraph", 0, "The author thanks Andrea Marchesini and Ben Kelly for the photographs."),
        ("paragraph", 0, "Corrections go to the harbour office."),
    ]


def test_metadata_comes_from_the_page() -> None:
    head = (
        "<head><title>Winter ferry timetable | Velmora Courier</title>"
        '<meta property="og:title" content="Winter ferry timetable">'
        '<meta property="og:site_name" content="Velmora Courier">'
        '<meta name="author" content="Mira Oskarsdottir">'
        '<meta property="article:published_time" content="2023-10-03T08:30:00Z">'
        '<meta property="article:modified_time" content="2023-10-05T16:00:00Z"></head>'
    )
    raw = parse(f"<html>{head}<body><article><h1>Winter ferry timetable</h1>{ARTICLE}</article></body></html>")
    assert (raw.title, raw.authors, raw.date_strings, raw.site) == (
        "Winter ferry timetable",
        ("Mira Oskarsdottir",),
        (("published", "2023-10-03"), ("modified", "2023-10-05")),
        "Velmora Courier",
    )


def test_library_warnings_and_log_records_never_reach_the_terminal(capfd: pytest.CaptureFixture[str]) -> None:
    # An XHTML page with an XML declaration (BeautifulSoup warns about those) and a page too
    # small for the extractor (trafilatura logs "discarding data").
    parse(
        '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><body><p>Tiny.</p></body></html>'
    )
    parse("<html><body><div><span>x</span></div></body></html>")
    assert capfd.readouterr() == ("", "")


# -- real pages: ../shared/data/html-extraction (Mozilla Readability's test pages) ---------------
@pytest.fixture(scope="module")
def dev() -> Path:
    if not (DEV / "pages").is_dir():
        pytest.skip(f"../shared/data/html-extraction not found at {DEV}: the test pages live outside the repo")
    return DEV


def _tokens(text: str) -> Counter[str]:
    return Counter(re.findall(r"\w+", text.lower()))


def _recall(raw: RawVersion, truth: str) -> float:
    kept, ref = _tokens(" ".join(b.text for b in raw.blocks)), _tokens(truth)
    return sum((kept & ref).values()) / sum(ref.values())


@pytest.mark.parametrize(
    ("name", "meta", "headings"),
    [
        (  # <html class="... ads-enabled ...">
            "bbc-1",
            ("Obama admits US gun laws are his 'biggest frustration'", (), (("published", "2015-07-24"),), "BBC News"),
            [(2, "Analysis: Jon Sopel, BBC News, Washington"), (2, "Kenya trip")],
        ),
        (  # <html class="... vector-feature-main-menu-pinned-disabled ...">
            "wikipedia-4",
            (
                "List of films featuring time loops",
                (),
                (("published", "2014-03-27"), ("modified", "2024-04-02")),  # from the page's JSON-LD
                "Wikimedia Foundation, Inc.",
            ),
            [(2, "See also[edit]"), (2, "References[edit]")],
        ),
        (  # <main class="container js-social-anchor-start" role="main">
            "cnn",
            (
                "The 'birth lottery' and economic mobility",
                ("Ahiza Garcia",),
                (("published", "2016-02-01"),),
                "CNNMoney",
            ),
            [
                (
                    2,
                    "The U.S. has long been heralded as a land of opportunity -- a place where anyone can succeed "
                    "regardless of the economic class they were born into.",
                )
            ],
        ),
    ],
)
def test_pages_whose_wrappers_carry_chrome_words(
    dev: Path, name: str, meta: tuple, headings: list[tuple[int, str]]
) -> None:
    raw = load_file(dev / "pages" / f"{name}.html", 10 * MB)[0]
    assert (raw.title, raw.authors, raw.date_strings, raw.site) == meta
    assert [(b.level, b.text) for b in raw.blocks if b.kind == "heading"] == headings
    # Nearly every word of the article is kept (all of them were lost before issue 10).
    assert _recall(raw, (dev / "truth" / f"{name}.txt").read_text(encoding="utf-8")) >= 0.95


def test_a_blog_post_with_a_comment_thread(dev: Path) -> None:
    raw = load_file(dev / "pages" / "002.html", 10 * MB)[0]
    assert (raw.title, raw.authors, raw.date_strings, raw.site) == (
        "This API is so Fetching!",
        ("Nikhil Marathe",),
        (("published", "2015-03-10"),),
        "Mozilla Hacks – the Web developer blog",
    )
    assert [(b.level, b.text) for b in raw.blocks if b.kind == "heading"] == [
        (2, "Feature detection"),
        (2, "Simple fetching"),
        (2, "Headers"),
        (2, "Request"),
        (2, "Response"),
        (2, "Dealing with bodies"),
        (3, "Streams and cloning"),
        (2, "Future improvements"),
    ]
    assert blocks(raw)[-2:] == [
        ("paragraph", 0, "For a better web!"),
        (
            "paragraph",
            0,
            "The author would like to thank Andrea Marchesini, Anne van Kesteren and Ben Kelly for helping with "
            "the specification and implementation.",
        ),
    ]
    text = "\n".join(b.text for b in raw.blocks)
    assert "how do you abort a fetch?" not in text  # the first reader comment


# -- the Python documentation (Debian's python3.11-doc), a corpus our users index -----------------
@pytest.fixture(scope="module")
def pydoc() -> Path:
    if not PYDOC.is_dir():
        pytest.skip(f"{PYDOC} not found (apt-get install python3.11-doc)")
    return PYDOC


def test_python_docs_keep_signatures_descriptions_code_and_menu_sections(pydoc: Path) -> None:
    # No date: the pages carry none in their markup ("Python 3.8.12" in the text is no date).
    assert [
        load_file(pydoc / page, 10 * MB)[0].date_strings for page in ("whatsnew/3.11.html", "whatsnew/3.8.html")
    ] == [
        (),
        (),
    ]
    functions = blocks(load_file(pydoc / "library" / "functions.html", 10 * MB)[0])
    i = functions.index(("paragraph", 0, "abs(x)"))
    assert functions[i + 1][2].startswith("Return the absolute value of a number.")
    j = functions.index(("paragraph", 0, "all(iterable)"))
    assert functions[j + 2] == (
        "paragraph",
        0,
        "def all(iterable): for element in iterable: if not element: return False return True",
    )
    idle = load_file(pydoc / "library" / "idle.html", 10 * MB)[0]
    headings = [b.text for b in idle.blocks if b.kind == "heading"]
    assert headings[:4] == [
        "Menus",
        "File menu (Shell and Editor)",
        "Edit menu (Shell and Editor)",
        "Format menu (Editor window only)",
    ]
