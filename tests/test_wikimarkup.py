"""Wikitext reduced to prose: templates, refs, links, images, tables, categories; a real export."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.models import Block
from indexer.sources import load_file
from indexer.sources.wikimarkup import infobox_params, reduce_wikitext, to_plain
from tests.conftest import SHARED

EXPORT = SHARED / "data" / "mediawiki" / "anarchism.xml"

PAGE = """{{Anarchism sidebar}}
__NOTOC__
'''Velmora''' is a port{{citation needed|date=May 2020}} on the [[Salt (river)|Salt]] estuary.<ref name="a">
{{cite book |last=Lind |first=Teodor
 |title=Harbours of the North |year=1998}}
</ref> It has 41{{nbsp}}km of quays ({{convert|41|km2}}; {{convert|5|to|10|km}}).<!-- a comment
over two lines --> Its name is {{lang|fr|Velmôre}} in French{{ndash}}and {{nowrap|{{small|Velmara}}}} in old texts.
[[File:Velmora harbour.jpg|thumb|left|160px|upright=1.2|alt=Boats|The harbour in [[1931]]<ref>Minutes.</ref>]]
The town grew in 1850{{ndash}}1900.<br>A second line.
Lines that follow
join one paragraph.

== History of the [[port]] ==
[[Bild:Karte.png|miniatur|rechts|Map of the ''old'' town]]
* First {{sic|recieved}} item
*: indented
# Numbered{{fact}}
;Term: Definition
{| class="wikitable"
|+ Ferry routes
! Route !! Opened
|-
| style="color:red" | Fish market – north quay || 1862
|-
| Beach || {{dts|1890|5|2}}
|}
<nowiki>{{not a template}}</nowiki> and&nbsp;&amp; entities.
[[fr:Velmora]] [[de:Velmora]] [[zh-min-nan:Velmora]] [[be-x-old:Вэлмара]] [[:fr:Velmora|French article]]
[[Category:Ports|Velmora]]
[[Kategorie:Häfen]]
[[category:ports]]
{{Navbox ports}}
"""


def test_a_page_reads_as_prose() -> None:
    reduced = reduce_wikitext(PAGE)
    assert reduced.blocks == (
        Block(
            "paragraph",
            "Velmora is a port on the Salt estuary. It has 41 km of quays (41 km2; 5 to 10 km). "
            "Its name is Velmôre in French – and Velmara in old texts.",
        ),
        Block("paragraph", "The harbour in 1931"),  # the caption, not its options
        Block("paragraph", "The town grew in 1850–1900."),  # a dash between digits stays bare
        Block("paragraph", "A second line. Lines that follow join one paragraph."),
        Block("heading", "History of the port", 2),
        Block("paragraph", "Map of the old town"),
        Block("item", "First recieved [sic] item"),
        Block("item", "indented"),
        Block("item", "Numbered"),
        Block("item", "Term: Definition"),
        Block("paragraph", "Ferry routes"),
        Block("item", "Route | Opened"),
        Block("item", "Fish market – north quay | 1862"),
        Block("item", "Beach | May 2, 1890"),
        Block("paragraph", "{{not a template}} and & entities. French article"),
    )
    assert reduced.categories == ("Ports", "Häfen")


@pytest.mark.parametrize(
    ("wikitext", "plain"),
    [
        ("a{{mdash}}b, 3{{mdash}}4, x{{snd}}y, 10{{spaced ndash}}20", "a — b, 3—4, x – y, 10 – 20"),
        ("{{'}}quoted{{'\"}} and {{\"'}}", "'quoted'\" and \"'"),
        ("{{lang-el|ἀναρχία}} {{transl|el|anarchia}} {{IPA-fr|a.naʁ.ʃism}}", "ἀναρχία anarchia a.naʁ.ʃism"),
        ("{{font color|red|warning}} {{resize|90%|small}} {{abbr|CNT|Confederación}}", "warning small CNT"),
        ("{{quote|text=Property is theft.|author=Proudhon}}", "Property is theft. — Proudhon"),
        ("{{circa|1900}}, {{fl.|1790}}, {{frac|1|2}}, {{US$|100}}", "c. 1900, fl. 1790, 1/2, US$100"),
        ("{{As of|2010|1|5}}, {{start date|2008|3|4|df=y}}", "As of 5 January 2010, 4 March 2008"),
        ("{{death date and age|1921|2|8|1842|12|9}}", "February 8, 1921 (aged 78)"),
        ("{{nihongo|Tokyo|東京|Tōkyō}} {{formatnum:1234567}} {{ucfirst:velmora}}", "Tokyo (東京, Tōkyō) 1,234,567 Velmora"),
        ("{{cite web|url=https://example.org|title=Ferries|publisher=Board}}{{cite book|title=Bridges}}",
         "Ferries, Board, https://example.org Bridges"),
        ("{{main|History}}{{see also|X}}{{Citation needed}}{{DEFAULTSORT:V}}{{#if:a|b}}{{Infobox x|a=b}}", ""),
        ("[[Foo (bar)|]] [[wikt:harbour|harbour]] [[Media:Song.ogg|a song]] [[:Category:Ports]]",
         "Foo harbour a song Ports"),
        ("[http://example.org label] [http://example.org] http://example.org/x", "label http://example.org/x"),
        ("[[Datei:A.jpg|200px|links|Karte]] [[Image:B.png|x120px|frameless|border|link=X]]", "Karte"),
        ("'''bold''', ''italic'', '''''both''''', l''''Orient'''", "bold, italic, both, l'Orient"),
        ("a <small>b</small> <span style='x'>c</span> <math>x^2</math> d", "a b c d"),
    ],
)  # fmt: skip
def test_templates_links_and_tags(wikitext: str, plain: str) -> None:
    assert " ".join(to_plain(wikitext).split()) == plain


def test_plain_export_reads_one_paragraph_per_line() -> None:
    text = "First line.\nSecond line.\n- a dash item\n• a bullet item\n"
    assert reduce_wikitext(text, plain_export=True).blocks == (
        Block("paragraph", "First line."),
        Block("paragraph", "Second line."),
        Block("item", "a dash item"),
        Block("item", "a bullet item"),
    )
    assert reduce_wikitext(text).blocks == (
        Block("paragraph", "First line. Second line. - a dash item • a bullet item"),
    )


def test_infobox_values_keep_line_breaks_as_commas() -> None:
    text = "{{Infobox ferry\n| name = Salt ferry<ref>x</ref>\n| operators = A<br>B{{citation needed}}\n}}\nBody"
    assert infobox_params(text) == ("\nBody", [("Name", "Salt ferry"), ("Operators", "A, B")])


WIKI_BITS = [
    "{{", "}}", "[[", "]]", "|", "<ref>", "</ref>", "<ref name=a/>", "''", "'''", "\n", "== ", " ==", "{|",
    "|}", "|-", "|+", "!", "*", "#", ":", ";", "File:", "Category:", "fr:", "{{ndash}}", "<br>", "<!--",
    "-->", "<nowiki>", "</nowiki>", "&nbsp;", "thumb", "=", "http://x.org", "[", "]", "<gallery>",
    "</gallery>", "{{{1|", "}}}", "<table>", "<tr>", "<td>", "x", "1990", " ", "é",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=400), st.lists(st.sampled_from(WIKI_BITS), max_size=80).map("".join)))
def test_any_text_gives_blocks(text: str) -> None:
    for plain_export in (False, True):
        reduced = reduce_wikitext(text, plain_export)
        for block in reduced.blocks:
            assert block.kind in ("heading", "paragraph", "item")
            assert block.text and block.text == block.text.strip() and "\n" not in block.text
    to_plain(text)


# Markup a reader must never see in the text of a reduced page.
LEFTOVER = re.compile(
    r"\{\{|\}\}|\[\[|\]\]|<ref|</ref|\|thumb|thumb\||px\||\|left\||\|right\||upright=|alt=|Category:|"
    r"__[A-Z]+__|&[a-z]+;|&#\d+;|''|<[a-z]+[ >/]|"
    r"(?<![\w/.-])[a-z]{2,3}(?:-[a-z0-9]+)*:[^\s/\d]"  # an interlanguage prefix: af:Anargisme
)


@pytest.fixture(scope="module")
def export_versions() -> list:
    if not EXPORT.is_file():
        pytest.skip(f"the MediaWiki export is not at {EXPORT}: shared data lives outside the repo")
    return load_file(EXPORT, 50 * 1024 * 1024)


def test_export_revisions_read_as_prose(export_versions: list) -> None:
    leftovers = [
        (v.timestamp, m.group(), b.text[max(0, m.start() - 40) : m.end() + 40])
        for v in export_versions
        for b in v.blocks
        for m in LEFTOVER.finditer(b.text)
    ]
    assert leftovers == []
    assert [(v.timestamp, v.categories) for v in export_versions] == [
        ("2001-10-11T20:18:47Z", ()),
        (
            "2005-12-05T16:28:17Z",
            ("Anarchism", "Forms of government", "Political theories", "Social philosophy",
             "Political ideology entry points"),
        ),
        ("2006-09-07T00:01:31Z", ("Anarchism", "Political ideologies", "Political philosophies", "Social philosophy")),
        ("2010-01-29T19:50:51Z", ("Anarchism", "Political ideologies", "Political culture", "Social theories")),
        ("2010-01-29T19:57:27Z", ("Anarchism", "Political ideologies", "Political culture", "Social theories")),
        ("2010-02-01T07:09:04Z", ("Anarchism", "Political ideologies", "Political culture", "Social theories")),
        ("2010-02-01T08:18:14Z", ("Anarchism", "Political ideologies", "Political culture", "Social theories")),
        ("2010-02-02T03:43:07Z", ("Anarchism", "Political ideologies", "Political culture", "Social theories")),
    ]  # fmt: skip


def test_export_pinned_paragraphs(export_versions: list) -> None:
    first, last = export_versions[0], export_versions[-1]
    assert first.blocks[0] == Block(
        "paragraph",
        "Anarchism is the political theory that advocates the abolition of all forms of government. "
        "The word anarchism derives from Greek roots an (no) and archos (ruler).",
    )
    assert last.blocks[0] == Block(
        "paragraph",
        "Anarchism is a political philosophy encompassing theories and attitudes which consider the state to be "
        "unnecessary, harmful, or otherwise undesirable, and favour instead a stateless society or anarchy. "
        "Individual anarchists may have additional criteria for what they conceive to be anarchism, and there is "
        "often broad disagreement concerning these broader conceptions. According to The Oxford Companion to "
        'Philosophy, "there is no single defining position that all anarchists hold, and those considered '
        'anarchists at best share a certain family resemblance."',
    )
    texts = [b.text for b in last.blocks]
    # An image caption, without the image's options.
    assert (
        'William Godwin, "the first to formulate the political and economical conceptions of anarchism, even though '
        'he did not give that name to the ideas developed in his work",'
    ) in texts
    external = texts[texts.index("External links") + 1 :]
    assert external[6] == "They Lie We Die – anarchist virtual library containing 768 books, booklets and texts"
    assert len(external) == 9  # the links only: no interlanguage links, no categories
    for v in export_versions:
        for b in v.blocks:
            assert "They Lie We Die" not in b.text or "They Lie We Die –" in b.text
