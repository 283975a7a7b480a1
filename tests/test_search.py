"""Search on the seeds (pinned whole results) and on tiny hand-made indexes (each construct)."""

from __future__ import annotations

import contextlib
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.cli import cli
from indexer.errors import QueryError
from indexer.pipeline import index_paths
from indexer.search import Searcher, SearchRequest, parse
from indexer.search.query import (
    MAX_CLAUSES,
    MAX_DEPTH,
    MAX_QUERY_CHARS,
    Bool,
    DateRange,
    Filter,
    Fuzzy,
    Passage,
    Phrase,
    Prefix,
    Term,
)
from indexer.search.snippets import QueryTerms, snippet
from tests.conftest import SEED_000, SEED_002, SEED_003, SEEDS, settings_for

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on each engine

SEED_QUERIES = [  # (request, whole expected result: total, suggestion, [title, breadcrumb, versions])
    (
        {"q": "Pashinyan", "latest_only": True},
        {
            "total": 3,
            "suggestion": None,
            "hits": [
                ["Armenia–Azerbaijan border crisis (2021–present)", "Timeline > September 2023", [1]],
                ["2023 Azerbaijani offensive in Nagorno-Karabakh", "International aspects > Reactions > Armenia", [1]],
                [
                    "September 2022 Armenia–Azerbaijan clashes",
                    "Effects > Protests in Armenia and Nagorno-Karabakh",
                    [2],
                ],
            ],
        },
    ),
    ({"q": "Pashinian", "latest_only": True}, {"total": 0, "suggestion": "Pashinyan", "hits": []}),
    (
        {"q": "Stepanakert", "latest_only": True},
        {
            "total": 2,
            "suggestion": None,
            "hits": [
                ["2023 Azerbaijani offensive in Nagorno-Karabakh", "Aftermath > Ceasefire violations", [1]],
                [
                    "September 2022 Armenia–Azerbaijan clashes",
                    "Effects > Protests in Armenia and Nagorno-Karabakh",
                    [2],
                ],
            ],
        },
    ),
    (
        {"q": '"Lachin corridor"', "latest_only": True},
        {
            "total": 2,
            "suggestion": None,
            "hits": [
                [
                    "Armenia–Azerbaijan border crisis (2021–present)",
                    "Situation in Nagorno-Karabakh > Current situation",
                    [1],
                ],
                ["2023 Azerbaijani offensive in Nagorno-Karabakh", "Prelude", [1]],
            ],
        },
    ),
    (
        {"q": '"Lachin corridor" section:Prelude date:2022-09..2022-12 -Iran', "latest_only": True},
        {"total": 1, "suggestion": None, "hits": [["2023 Azerbaijani offensive in Nagorno-Karabakh", "Prelude", [1]]]},
    ),
    # The Prelude section names Russia four times: excluding it leaves nothing.
    (
        {"q": '"Lachin corridor" section:Prelude date:2022-09..2022-12 -Russia', "latest_only": True},
        {"total": 0, "suggestion": None, "hits": []},
    ),
    (
        {"q": '"41 km2"', "latest_only": True},
        {
            "total": 1,
            "suggestion": None,
            "hits": [["Armenia–Azerbaijan border crisis (2021–present)", "Timeline > November 2021", [1]]],
        },
    ),
    (
        {"q": '"41 km2"'},
        {
            "total": 2,
            "suggestion": None,
            "hits": [
                ["September 2022 Armenia–Azerbaijan clashes", "Background", [1]],
                ["Armenia–Azerbaijan border crisis (2021–present)", "Timeline > November 2021", [1]],
            ],
        },
    ),
    (
        {"q": "ceasefire violations", "latest_only": True},
        {
            "total": 4,
            "suggestion": None,
            "hits": [
                ["2023 Azerbaijani offensive in Nagorno-Karabakh", "Aftermath > Ceasefire violations", [1]],
                ["Armenia–Azerbaijan border crisis (2021–present)", "Situation in Nagorno-Karabakh > Timeline", [1]],
                ["September 2022 Armenia–Azerbaijan clashes", "Timeline > 21–29 September", [2]],
                ["Genocide Warning: Azerbaijan is invading Armenia", "", [1]],
            ],
        },
    ),
    (
        {"q": "date:2023-09-19", "latest_only": True},
        {"total": 1, "suggestion": None, "hits": [["2023 Azerbaijani offensive in Nagorno-Karabakh", "", [1]]]},
    ),
    ({"q": "date:..2021 Jermuk", "latest_only": True}, {"total": 0, "suggestion": None, "hits": []}),
    (
        {"q": "title:clashes", "latest_only": True},
        {"total": 1, "suggestion": None, "hits": [["September 2022 Armenia–Azerbaijan clashes", "", [2]]]},
    ),
    (
        {"q": "Jermuk", "filters": {"year": ["2022"]}, "latest_only": True},
        {
            "total": 2,
            "suggestion": None,
            "hits": [
                # Seed 001 has no title: its days without a year take it from the lead's first
                # full date (13 September 2022), so its section on the Jermuk damage is dated.
                ["September 2022 Armenia–Azerbaijan clashes", "Infrastructure damage", [2]],
                ["Armenia–Azerbaijan border crisis (2021–present)", "Timeline > September 2022", [1]],
            ],
        },
    ),
    (
        {"q": "refugees", "filters": {"section": ["aftermath"]}, "latest_only": True},
        {
            "total": 1,
            "suggestion": None,
            "hits": [
                [
                    "2023 Azerbaijani offensive in Nagorno-Karabakh",
                    "Aftermath > Expulsion of Armenians from Nagorno-Karabakh",
                    [1],
                ]
            ],
        },
    ),
    (
        {"q": "Azerbaijan", "date_from": "2022-09-13", "date_to": "2022-09-14", "latest_only": True},
        {
            "total": 3,
            "suggestion": None,
            "hits": [
                ["Armenia–Azerbaijan border crisis (2021–present)", "Analysis > Azerbaijan's position", [1]],
                ["September 2022 Armenia–Azerbaijan clashes", "", [2]],
                ["2023 Azerbaijani offensive in Nagorno-Karabakh", "Risk of genocide", [1]],
            ],
        },
    ),
    (
        {"q": "genocide warning", "sort": "date", "latest_only": True},
        {
            "total": 4,
            "suggestion": None,
            "hits": [
                ["Genocide Warning: Azerbaijan is invading Armenia", "", [1]],
                [
                    "2023 Azerbaijani offensive in Nagorno-Karabakh",
                    "Aftermath > Negotiations and dissolution of Artsakh",
                    [1],
                ],
                # Both sections' newest date is September 2022 (its last day): the tie goes by doc_id.
                ["Armenia–Azerbaijan border crisis (2021–present)", "Genocide risk for Armenians", [1]],
                ["September 2022 Armenia–Azerbaijan clashes", "Background", [2]],
            ],
        },
    ),
    (
        {"q": "Kalbajar OR Jermuk", "latest_only": True},
        {
            "total": 3,
            "suggestion": None,
            "hits": [
                ["September 2022 Armenia–Azerbaijan clashes", "Timeline > 12–13 September", [2]],
                ["Armenia–Azerbaijan border crisis (2021–present)", "Timeline > July 2021", [1]],
                ["2023 Azerbaijani offensive in Nagorno-Karabakh", "Aftermath > Ceasefire violations", [1]],
            ],
        },
    ),
    (
        {"q": "Armenia AND unprovoked", "latest_only": True},
        {
            "total": 2,
            "suggestion": None,
            "hits": [
                ["September 2022 Armenia–Azerbaijan clashes", "Reactions > Organizations", [2]],
                ["Armenia–Azerbaijan border crisis (2021–present)", "Timeline > September 2022", [1]],
            ],
        },
    ),
    (
        {"q": "unprovoked"},
        {
            "total": 2,
            "suggestion": None,
            "hits": [
                ["September 2022 Armenia–Azerbaijan clashes", "Reactions > Organizations", [1, 2]],
                ["Armenia–Azerbaijan border crisis (2021–present)", "Timeline > September 2022", [1]],
            ],
        },
    ),
    (
        {"q": "Stepanakert -protesters", "latest_only": True},
        {
            "total": 1,
            "suggestion": None,
            "hits": [["2023 Azerbaijani offensive in Nagorno-Karabakh", "Aftermath > Ceasefire violations", [1]]],
        },
    ),
    (
        {"q": "Azerb*", "latest_only": True},
        {
            "total": 4,
            "suggestion": None,
            # Seed 004's "Azerbaijan’s" is now the term `azerbaijan` (typographic apostrophes read as
            # plain ones), not a rare term of its own that put it first.
            "hits": [
                ["2023 Azerbaijani offensive in Nagorno-Karabakh", "Prelude", [1]],
                ["Armenia–Azerbaijan border crisis (2021–present)", "Timeline > July 2021", [1]],
                ["September 2022 Armenia–Azerbaijan clashes", "Timeline > 12–13 September", [2]],
                ["Genocide Warning: Azerbaijan is invading Armenia", "", [1]],
            ],
        },
    ),
    (
        {"q": "Pashinyn~", "latest_only": True},
        {
            "total": 3,
            "suggestion": None,
            "hits": [
                ["Armenia–Azerbaijan border crisis (2021–present)", "Timeline > September 2023", [1]],
                ["2023 Azerbaijani offensive in Nagorno-Karabakh", "International aspects > Reactions > Armenia", [1]],
                [
                    "September 2022 Armenia–Azerbaijan clashes",
                    "Effects > Protests in Armenia and Nagorno-Karabakh",
                    [2],
                ],
            ],
        },
    ),
    (
        {"q": "casualties", "filters": {"doc_type": ["plain"]}, "latest_only": True},
        {"total": 0, "suggestion": None, "hits": []},
    ),
]


def _summary(page: Any) -> dict[str, Any]:
    return {
        "total": page.total,
        "suggestion": page.suggestion,
        "hits": [[h.title, h.breadcrumb, [v["number"] for v in h.matching_versions]] for h in page.hits],
    }


@pytest.fixture(scope="module")
def seed_searcher(seed_index: Path) -> Any:
    with Searcher(seed_index) as s:
        yield s


@pytest.mark.parametrize(
    ("request_kw", "expected"), SEED_QUERIES, ids=[json.dumps(q[0], ensure_ascii=False) for q in SEED_QUERIES]
)
def test_seed_queries(seed_searcher: Searcher, request_kw: dict[str, Any], expected: dict[str, Any]) -> None:
    assert _summary(seed_searcher.search(SearchRequest(limit=5, **request_kw))) == expected


def test_seed_hit_shape_and_snippet(seed_searcher: Searcher) -> None:
    page = seed_searcher.search(SearchRequest(q='"Lachin corridor" blockade', limit=1))
    hit = page.to_json()["hits"][0]
    assert sorted(hit) == sorted(
        ["doc_id", "version_id", "title", "breadcrumb", "anchor", "score", "snippet", "dates", "language",
         "version_count", "matching_versions", "in_latest", "removed_in", "first_version", "last_version",
         "more_sections", "versions"]
    )  # fmt: skip
    marks = [m.get_text() for m in BeautifulSoup(hit["snippet"], "html.parser").find_all("mark")]
    assert "Lachin corridor" in marks  # a phrase is one mark
    assert len(hit["more_sections"]) <= 3
    assert sorted(page.to_json()) == sorted(
        [
            "query",
            "total",
            "page",
            "limit",
            "sort",
            "latest_only",
            "versions",
            "hits",
            "facets",
            "suggestion",
            "took_ms",
        ]
    )


def test_document_counts_leave_out_records_the_table_lacks(
    seed_searcher: Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A suggestion's count reads each engine record's document from one array kept with the
    # table; records the table does not have (an index run between its engine's commit and its
    # snapshot) are left out.
    s = seed_searcher
    table = s.table()
    tree = s.parse("Azerbaijan Armenia").tree
    numbers = s.engine.match(tree, latest_only=False)
    rows = s._maps(table).copy()
    docs = {int(table.doc[rows[n]]) for n in numbers}
    assert len(docs) > 1 and s.count_documents(tree, latest_only=False) == len(docs)
    kept = min(docs)  # (not the table's last document: a -1 read as a position would count it)
    rows[[n for n in numbers if table.doc[rows[n]] != kept]] = -1
    monkeypatch.setattr(Searcher, "_maps", lambda self, t: rows)
    assert s.count_documents(tree, latest_only=False) == 1


def test_a_warmed_searcher_gives_the_same_pages(seed_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Searcher.warm, as a server calls it before its first request, loads the compiled loops of
    # the search (search/loops.py) and of the engine when it has them, on an index large enough
    # (here: any). A searcher opened afterwards (no result or posting kept from before) gives
    # the same pages: facets selected, dates, sorts, the latest versions only and browsing.
    from indexer import compiled
    from indexer.engines.tantivy import loops as engine_loops
    from indexer.search import loops

    requests = [
        SearchRequest(q="Azerbaijan Armenia ceasefire", limit=20),
        SearchRequest(q="Lachin corridor", filters={"section": ["background"]}),
        SearchRequest(q="war OR blockade", sort="date", latest_only=True),
        SearchRequest(q="Armenia", date_from="2020", date_to="2023", sort="oldest"),
        SearchRequest(q="", limit=50),
    ]

    def pages() -> list[dict[str, Any]]:
        with Searcher(seed_index) as s:
            return [{**s.search(r).to_json(), "took_ms": 0} for r in requests]

    try:
        with Searcher(seed_index) as s:
            s.warm()  # a small index: numpy stays
        assert loops.twin.active is None and engine_loops.twin.active is None
        before = pages()
        monkeypatch.setattr(compiled, "COMPILE_FROM", 0)
        with Searcher(seed_index) as s:
            s.warm()
        assert loops.twin.active is not None
        assert (engine_loops.twin.active is not None) == (s.engine.name == "tantivy")
        assert pages() == before
    finally:
        loops.use_compiled(False)
        engine_loops.use_compiled(False)
    assert [p["total"] for p in before if not p["total"]] == []


def test_seed_facets_count_documents(seed_searcher: Searcher) -> None:
    page = seed_searcher.search(SearchRequest(q="Azerbaijan"))
    facets = page.to_json()["facets"]
    assert [(f["value"], f["count"]) for f in facets["language"]] == [("en", 4)]
    assert [(f["value"], f["count"]) for f in facets["doc_type"]] == [("wikitext", 3), ("plain", 1)]
    # Multi-select: choosing one type leaves the other type's count visible (OR within a facet)...
    chosen = seed_searcher.search(SearchRequest(q="Azerbaijan", filters={"doc_type": ["plain"]}))
    assert chosen.total == 1
    assert [(f["value"], f["count"], f["selected"]) for f in chosen.to_json()["facets"]["doc_type"]] == [
        ("wikitext", 3, False), ("plain", 1, True)
    ]  # fmt: skip
    # ...and restricts the other facets (AND across facets).
    assert [(f["value"], f["count"]) for f in chosen.to_json()["facets"]["language"]] == [("en", 1)]
    assert [(f["value"], f["count"]) for f in chosen.to_json()["facets"]["section"]] == [("lead", 1)]
    both = seed_searcher.search(SearchRequest(q="Azerbaijan", filters={"doc_type": ["plain", "wikitext"]}))
    assert both.total == 4
    ceasefire = seed_searcher.search(SearchRequest(q="ceasefire")).to_json()["facets"]
    assert [(f["value"], f["count"]) for f in ceasefire["section"]][:4] == [
        ("lead", 3), ("background", 2), ("reactions", 2), ("timeline", 2)
    ]  # fmt: skip
    aftermath = next(f for f in ceasefire["section"] if f["value"] == "aftermath")
    assert aftermath["count"] == 1
    assert "aftermath > ceasefire violations" in {c["value"] for c in aftermath["children"]}
    years = [f["value"] for f in ceasefire["year"]]
    assert years == sorted(years) and ("2020", 3) in [(f["value"], f["count"]) for f in ceasefire["year"]]


def test_seed_paging_is_stable(seed_searcher: Searcher) -> None:
    ids = []
    for page in (1, 2, 3, 4):
        ids += [h.doc_id for h in seed_searcher.search(SearchRequest(q="Armenia Azerbaijan", page=page, limit=1)).hits]
    assert len(ids) == len(set(ids)) == 4


def test_seed_similar(seed_searcher: Searcher) -> None:
    related = seed_searcher.similar("97f29e13a1d047b6")
    assert [r["title"] for r in related] == [
        "2023 Azerbaijani offensive in Nagorno-Karabakh", "Armenia–Azerbaijan border crisis (2021–present)"
    ]  # fmt: skip
    assert all(r["doc_id"] != "97f29e13a1d047b6" and r["terms"] for r in related)


def test_completion_follows_the_words_already_typed(seed_searcher: Searcher) -> None:
    """The last word is completed from what follows the previous word in the best sections for
    the words before it, not only by how frequent a word is in the whole index."""
    from indexer.search.suggest import complete

    vocabulary_only = complete("lachin co", seed_searcher.vocabulary(), [])
    assert vocabulary_only[0] != "lachin corridor"  # `council` is more frequent overall
    assert seed_searcher.complete("lachin co")[:2] == ["lachin corridor", "lachin conflict"]
    assert seed_searcher.complete("Lachin c")[0] == "Lachin corridor"
    assert seed_searcher.complete("nikol pa")[:2] == ["nikol pashinyan", "nikol pashinyan's"]
    assert seed_searcher.complete("ceasefire vi")[0] == "ceasefire violations"
    # Nothing to read context from (a head that does not parse, only stop words): the vocabulary alone.
    assert seed_searcher.complete("((( vi") == complete("((( vi", seed_searcher.vocabulary(), [])
    assert seed_searcher.complete("the of vi") == complete("the of vi", seed_searcher.vocabulary(), [])
    assert seed_searcher.complete("armenia") == seed_searcher.complete("  armenia ")


# -- tiny hand-made index -------------------------------------------------------------------
TINY = {
    "bridge.md": "# Harbour bridge\n\n## History\n\nThe harbour bridge opened on 14 June 1931 with a tram line.\n\n"
    "## Repairs\n\nCorrosion was found in May 2021. The council closed the bridge to trams.\n\n"
    "## See also\n\nFerry routes and tram depots of the harbour.\n",
    "ferry.md": "# Ferry routes\n\n## History\n\nThe ferry ran from 1862 to 1934 across the harbour estuary.\n\n"
    "## Boats\n\nThe steamer Marten carried two hundred passengers.\n",
    "pont.md": "# Le pont du port\n\n## Histoire\n\nLe pont du port a été ouvert en juin 1931 et les tramways "
    "le traversaient chaque jour pendant des années.\n",
    "tram.md": "# Tram depot\n\nThe tram depot stood near the harbour; trams were repaired there until 2019.\n",
}


@pytest.fixture(scope="module")
def tiny(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("tiny")
    docs = root / "docs"
    docs.mkdir()
    for name, text in TINY.items():
        (docs / name).write_text(text)
    index_paths([docs], settings_for(root / "ix", workers=1))
    with Searcher(root / "ix") as s:
        yield s


def _titles(s: Searcher, q: str, **kw: Any) -> list[str]:
    return [h.title for h in s.search(SearchRequest(q=q, **kw)).hits]


@pytest.mark.parametrize(
    ("q", "titles"),
    [
        # All words first, then one-word documents (these two score the same: doc_id order).
        ("harbour bridge", ["Harbour bridge", "Ferry routes", "Tram depot"]),
        ('"tram line"', ["Harbour bridge"]),
        ('text:"tram line"', ["Harbour bridge"]),
        ('"see also"', ["Harbour bridge"]),  # a heading
        ('text:"see also"', []),  # ... which is not in any section's text
        ('heading:"see also"', ["Harbour bridge"]),  # title and heading keep no positions of their own
        ('title:"harbour bridge"', ["Harbour bridge"]),
        ('title:"bridge harbour"', []),
        ("ferry AND steamer", ["Ferry routes"]),
        # depots (See also) too; the first two score within 1 % (French sections analysed as French
        # are shorter, which moves the average length).
        ("steamer OR depot", ["Tram depot", "Ferry routes", "Harbour bridge"]),
        ("harbour -ferry", ["Harbour bridge", "Tram depot"]),
        ("harbour NOT (ferry OR depot)", ["Harbour bridge"]),
        ("title:ferry", ["Ferry routes"]),
        ("section:repairs", ["Harbour bridge"]),
        ("lang:fr", ["Le pont du port"]),
        ("type:markdown tram", ["Tram depot", "Harbour bridge"]),  # tramways is another word
        ("corros*", ["Harbour bridge"]),
        ("steamr~", ["Ferry routes"]),
        ("date:1931", ["Le pont du port", "Harbour bridge"]),  # equal scores: doc_id order
        ("date:2021-05", ["Harbour bridge"]),
        ("date:1931-06-14", ["Harbour bridge"]),
        ("date:1930..1932 harbour", ["Harbour bridge"]),
        ("date:..1900", ["Ferry routes"]),
        ("date:2019..", ["Harbour bridge", "Tram depot"]),  # filters only: doc_id order
        ("+steamer harbour", ["Ferry routes"]),
        ("", ["Ferry routes", "Harbour bridge", "Le pont du port", "Tram depot"]),
    ],
)
def test_query_constructs(tiny: Searcher, q: str, titles: list[str]) -> None:
    assert _titles(tiny, q) == titles


def test_auxiliary_sections_rank_lower(tiny: Searcher) -> None:
    hits = {h.title: h for h in tiny.search(SearchRequest(q="depots")).hits}
    assert hits["Harbour bridge"].breadcrumb == "See also"
    assert hits["Harbour bridge"].score < hits["Tram depot"].score
    page = tiny.search(SearchRequest(q="tram"))
    assert [h.breadcrumb for h in page.hits if h.title == "Harbour bridge"] == ["History"]


def test_sort_by_date(tiny: Searcher) -> None:
    assert _titles(tiny, "harbour", sort="date") == ["Harbour bridge", "Tram depot", "Ferry routes"]
    assert _titles(tiny, "harbour", sort="oldest") == ["Ferry routes", "Harbour bridge", "Tram depot"]


def test_title_only_match_gives_first_sentence(tiny: Searcher) -> None:
    hit = tiny.search(SearchRequest(q="title:routes")).hits[0]
    assert (hit.breadcrumb, hit.snippet) == ("History", "The ferry ran from 1862 to 1934 across the harbour estuary.")


def test_more_sections_have_the_words_themselves(tiny: Searcher) -> None:
    """`Repairs` matches `harbour` only through its document's title ("Harbour bridge"): it is
    found, but not offered as one more section to read."""
    hits = tiny.search(SearchRequest(q="harbour")).hits
    assert [(h.title, h.breadcrumb, [m.breadcrumb for m in h.more_sections]) for h in hits] == [
        ("Harbour bridge", "History", ["See also"]),
        ("Ferry routes", "History", []),  # these two score the same: doc_id order
        ("Tram depot", "", []),
    ]
    browse = tiny.search(SearchRequest(q="", filters={"language": ["en"]})).hits
    assert any(h.more_sections for h in browse)  # without words, any other section may follow


def test_did_you_mean_keeps_right_words_and_never_fixes_numbers(tiny: Searcher) -> None:
    assert tiny.search(SearchRequest(q="steamr depot")).suggestion == "steamer depot"
    assert tiny.search(SearchRequest(q="Steamr")).suggestion == "Steamer"
    # Only when it finds more: every document with "steamer" already matches "harbour".
    assert tiny.search(SearchRequest(q="harbour steamr")).suggestion is None
    assert tiny.search(SearchRequest(q="1932")).suggestion is None
    assert tiny.search(SearchRequest(q="harbour")).suggestion is None


@pytest.mark.parametrize(
    ("q", "message", "position"),
    [
        ("(((", "'(' is never closed", 2),
        ("harbour)", "')' has no matching '('", 7),
        ("title:", "'title:' has no value after it", 0),
        ("*bour", "a word cannot start with a wildcard", 0),
        ("h*r", "only a trailing * is supported (word*)", 0),
        (
            "colour:red",
            "unknown field 'colour:' (fields: category, date, doc_type, heading, lang, language, reuse, section, source, text, title, type, or an infobox key)",
            0,
        ),
        ("date:2022-13", "'2022-13' is not a date (use 2022, 2022-09 or 2022-09-12)", 5),
        ("date:2023..2021", "the range 2023..2021 ends before it starts", 5),
        ("a OR", "OR needs something on both sides", 2),
        ("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1), f"parentheses nested deeper than {MAX_DEPTH}", MAX_DEPTH),
        (
            "(a OR b) " + " ".join(["title:w"] * (MAX_CLAUSES - 1)),
            f"the query has more than {MAX_CLAUSES} clauses with AND, OR or NOT; make it shorter, "
            "or leave out AND, OR and NOT to search it as pasted text",
            9 + 8 * (MAX_CLAUSES - 2) + 6,  # the 65th clause
        ),
        (
            "w " * MAX_CLAUSES + "OR w",  # an operator: a query, not pasted text
            f"the query has more than {MAX_CLAUSES} clauses with AND, OR or NOT; make it shorter, "
            "or leave out AND, OR and NOT to search it as pasted text",
            2 * MAX_CLAUSES + 3,
        ),
        ("x" * (MAX_QUERY_CHARS + 1), f"the query is longer than {MAX_QUERY_CHARS} characters", MAX_QUERY_CHARS),
    ],
)
def test_query_errors(q: str, message: str, position: int) -> None:
    with pytest.raises(QueryError) as err:
        parse(q)
    assert (str(err.value), err.value.position) == (message, position)


def test_capitals_read_operators_as_words() -> None:
    """A query typed in capitals (old catalogues, pasted questions) has no operators in it."""
    assert parse("I AM INTERESTED IN BRIDGES AND TUNNELS, NOT FERRIES").tree == Bool(
        should=(
            Term("I", None, 0), Term("AM", None, 2), Term("INTERESTED", None, 5), Term("IN", None, 16),
            Term("BRIDGES", None, 19), Term("AND", None, 27), Term("TUNNELS", None, 31), Term("NOT", None, 40),
            Term("FERRIES", None, 44),
        )
    )  # fmt: skip
    assert parse("bridges AND tunnels").tree == Bool(must=(Term("bridges", None, 0), Term("tunnels", None, 12)))
    assert parse("NASA -ESA").tree == Bool(should=(Term("NASA", None, 0),), must_not=(Term("ESA", None, 6),))


def test_capitals_question_on_the_tiny_index(tiny: Searcher) -> None:
    assert _titles(tiny, "WHERE DID THE STEAMER AND THE TRAMS GO") == ["Ferry routes", "Tram depot", "Harbour bridge"]
    assert _titles(tiny, "steamer AND trams") == []


def test_long_plain_text_is_a_passage() -> None:
    words = [f"w{i}" for i in range(MAX_CLAUSES)]
    text = " ".join(words) + ' (what: "see") it does -5 + 3 mach-number: python -m venv --user PyObject* type:x'
    p = parse(text)
    rest = ("see", "it", "5", "3", "mach", "number", "python", "m", "venv", "user", "PyObject", "type", "x")
    assert p.tree == Passage((*words, *rest))  # question words (what, does) gone
    assert p.words == [*words, *(w for w in rest if w != "it")]  # function words are not highlighted
    # Quoted, any length is one phrase; with an operator, the clause limit holds.
    assert parse(f'"{" ".join(words * 3)}"').tree == Phrase(tuple(words * 3), None, 0)
    with pytest.raises(QueryError, match="more than 64 clauses with AND, OR or NOT"):
        parse(" ".join(words) + " AND w1")
    with pytest.raises(QueryError, match="only very common words"):
        parse("the of and " * 30)
    assert isinstance(parse("x" * MAX_QUERY_CHARS).tree, Term)


def test_passage_ranks_by_its_most_distinctive_words(
    tiny: Searcher, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pasted text past the clause limit: a bag of its most distinctive words, each weighted by
    how often the text uses it."""
    pasted = (
        "Notes from the archive: the ferry across the estuary was the only way over the water until "
        "the bridge opened, and the steamer carried the passengers, the post and the tram crews. "
    ) * 3 + "Later the tram depot took the trams."
    assert isinstance(parse(pasted).tree, Passage)
    assert _titles(tiny, pasted) == ["Ferry routes", "Harbour bridge", "Tram depot"]
    # One word kept: of the words in one document only and said three times, `estuary` comes first
    # (ties by term). (A new text: the engine keeps the last results of the same query.)
    monkeypatch.setattr("indexer.engines.ranking.PASSAGE_TERMS", 1)
    assert _titles(tiny, pasted + " Notes.") == ["Ferry routes"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["bridge", "the", "what", "-m", "--user", "x*", "Ptr*", "~2", "é", "mach-number", "3:1", "+5"]),
        min_size=MAX_CLAUSES + 1,
        max_size=150,
    ),
    st.lists(
        st.tuples(st.integers(0, 150), st.sampled_from(["(", ")", "((", "Note:", "type:", "*", "-"])), max_size=12
    ),
)
def test_long_plain_text_is_always_a_passage(words: list[str], punctuation: list[tuple[int, str]]) -> None:
    """Past the clause limit, anything without AND, OR or NOT searches as pasted text: parentheses,
    labels, options and wildcards in it are never an error."""
    for at, mark in sorted(punctuation, reverse=True):
        words.insert(min(at, len(words)), mark)
    text = " ".join(words)
    try:
        parsed = parse(text)
    except QueryError as exc:
        assert str(exc).startswith("the query has only very common words")
        assert set(re.findall(r"\w+", text.lower())) <= {"the"}
    else:
        assert isinstance(parsed.tree, Passage)


def _seed_prose(name: str) -> list[str]:
    """The words of a seed's paragraphs (long lines), in order."""
    lines = (SEEDS / name).read_text(encoding="utf-8").splitlines()
    return [w for line in lines if len(line) > 300 and not line.startswith(("=", "-")) for w in line.split()]


def test_pasted_paragraphs_find_their_document(seeds: Path, seed_searcher: Searcher) -> None:
    found = []
    for name in (SEED_000, SEED_002, SEED_003):
        pasted = " ".join(_seed_prose(name)[300:700])  # 400 words, across paragraphs and sections
        page = seed_searcher.search(SearchRequest(q=pasted, limit=3))
        found.append([h.title for h in page.hits])
    assert found == [
        [
            "September 2022 Armenia–Azerbaijan clashes",
            "Armenia–Azerbaijan border crisis (2021–present)",
            "2023 Azerbaijani offensive in Nagorno-Karabakh",
        ],
        [
            "2023 Azerbaijani offensive in Nagorno-Karabakh",
            "Armenia–Azerbaijan border crisis (2021–present)",
            "September 2022 Armenia–Azerbaijan clashes",
        ],
        [
            "Armenia–Azerbaijan border crisis (2021–present)",
            "2023 Azerbaijani offensive in Nagorno-Karabakh",
            "September 2022 Armenia–Azerbaijan clashes",
        ],
    ]


def test_long_quoted_passage_finds_its_section(seeds: Path, seed_searcher: Searcher) -> None:
    paragraph = max((line for line in (SEEDS / SEED_003).read_text().splitlines()), key=len).split()
    quoted = " ".join(paragraph[10:130])  # 120 words
    page = seed_searcher.search(SearchRequest(q=f'"{quoted}"'))
    assert [(h.title, h.breadcrumb) for h in page.hits] == [
        ("Armenia–Azerbaijan border crisis (2021–present)", "Reactions > Countries")
    ]
    altered = " ".join(paragraph[10:60] + paragraph[61:130])  # one word left out
    assert seed_searcher.search(SearchRequest(q=f'"{altered}"')).total == 0


def test_prefix_expansion_limit(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "many.txt").write_text(" ".join(f"zeta{i:04d}" for i in range(400)) + ".\n")
    index_paths([docs], settings_for(tmp_path / "ix", workers=1))
    with Searcher(tmp_path / "ix") as s:
        with pytest.raises(QueryError, match="'zeta\\*' matches more than 256 words; type more letters"):
            s.search(SearchRequest(q="zeta*"))
        assert s.search(SearchRequest(q="zeta01*")).total == 1


def test_sensible_readings() -> None:
    assert parse('"unbalanced quote').tree == Phrase(("unbalanced", "quote"), None, 0)
    assert parse("mach-number").tree == Phrase(("mach", "number"), None, 0)
    assert parse("-russia").tree == Bool(must=(parse("").tree,), must_not=(Term("russia", None, 1),))
    assert parse("ferr* ferry~2 section:History date:2022-09").tree == Bool(
        should=(Prefix("ferr", None, 0), Fuzzy("ferry", 2, None, 6)),
        must=(Filter("section", "history", 22), DateRange("2022-09", "2022-09", 35)),  # a facet value's key
    )


# (`a` is no stop word in French, and the tiny index has a French document where it is a verb.)
@pytest.mark.parametrize("q", ["the of and", '"to be or not to be"', "title:the", "(the OR an) AND of"])
def test_only_stopwords_say_why_they_find_nothing(tiny: Searcher, q: str) -> None:
    with pytest.raises(QueryError, match="only very common words") as err:
        tiny.search(SearchRequest(q=q))
    assert err.value.position == 0


def test_stop_words_beside_real_words_are_ignored(tiny: Searcher) -> None:
    """A stop word, even required (`+the`), neither restricts nor widens what a real word finds."""
    plain = [h.doc_id for h in tiny.search(SearchRequest(q="bridge")).hits]
    assert plain
    for q in ("+the bridge", "the AND bridge", "the OR bridge", "bridge -the", "the bridge"):
        assert [h.doc_id for h in tiny.search(SearchRequest(q=q)).hits] == plain, q


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from([*list('ab "()*~:-+ORANDNOT date title section 2022-09..'), "é", "\n"]),
        max_size=60,
    )
)
def test_parser_gives_a_query_or_a_query_error(text: str) -> None:
    try:
        parsed = parse(text)
    except QueryError as exc:
        assert exc.position is None or 0 <= exc.position <= len(text)
    else:
        assert parsed.tree is not None


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_any_text_searches_or_raises_query_error(tiny: Searcher, text: str) -> None:
    with contextlib.suppress(QueryError):
        tiny.search(SearchRequest(q=text))


def test_snippet_escapes_and_marks() -> None:
    text = "A <b>bold</b> claim. The Lachin corridor was closed. Other text & more."
    out = snippet(text, QueryTerms.build(["closed"], [("Lachin", "corridor")]))
    assert out == "The <mark>Lachin corridor</mark> was <mark>closed</mark>."
    assert snippet(text, QueryTerms.build(["bold"], [])) == "A &lt;b&gt;<mark>bold</mark>&lt;/b&gt; claim."


def test_snippet_leaves_out_list_markers() -> None:
    items = "- Ask for the photographs of the caisson accident.\n- Check the minutes of 1927.\n- Copy the plans."
    assert snippet(items, QueryTerms.build(["photographs"], [])) == (
        "Ask for the <mark>photographs</mark> of the caisson accident."
    )
    assert snippet(items, QueryTerms.build(["nothing"], [])) == "Ask for the photographs of the caisson accident."
    both = snippet(items, QueryTerms.build(["caisson", "minutes"], []))
    assert (
        both == "Ask for the photographs of the <mark>caisson</mark> accident. Check the <mark>minutes</mark> of 1927."
    )
    assert snippet("Costs - as reported - rose.", QueryTerms.build(["costs"], [])) == (
        "<mark>Costs</mark> - as reported - rose."
    )


def test_snippet_on_a_1mb_section() -> None:
    text = ("Filler words without the term. " * 40_000) + "The needle is here."
    out = snippet(text, QueryTerms.build(["filler"], []))
    assert out.startswith("<mark>Filler</mark>") and len(html.unescape(out)) < 400


def test_cli_search_json_and_errors(tiny: Searcher) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["search", "--index-dir", str(tiny.index_dir), "harbour", "--lang", "en", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["total"], [h["title"] for h in data["hits"]]) == (3, ["Harbour bridge", "Ferry routes", "Tram depot"])
    assert [f["value"] for f in data["facets"]["language"] if f["selected"]] == ["en"]
    bad = runner.invoke(cli, ["search", "--index-dir", str(tiny.index_dir), "tram AND (((", "depot"])
    assert bad.exit_code == 1
    assert bad.output.splitlines() == [
        "palimpsest: error: '(' is never closed",
        "  tram AND ((( depot",
        "             ^",  # under the innermost '(' (the one any close would match first)
    ]
    bad = runner.invoke(cli, ["search", "--index-dir", str(tiny.index_dir), "tram", "date:2022-13", "--json"])
    assert bad.exit_code == 1
    assert json.loads(bad.stdout) == {
        "error": {
            "status": 400,
            "message": "Bad query",
            "detail": "'2022-13' is not a date (use 2022, 2022-09 or 2022-09-12)",
            "position": 10,
        }
    }
    text = runner.invoke(cli, ["search", "--index-dir", str(tiny.index_dir), "tram", "--latest-only"])
    assert text.exit_code == 0 and "1. Tram depot" in text.output
    similar = runner.invoke(cli, ["similar", "--index-dir", str(tiny.index_dir), "nope", "--json"])
    assert similar.exit_code == 1 and "nope" in similar.output


# -- ranking internals ------------------------------------------------------------------------
@pytest.mark.engine("whoosh")
def test_numpy_scores_equal_whoosh_bm25(seed_searcher: Searcher) -> None:
    # The engine scores with numpy over posting lists; Whoosh's own matchers with the same
    # weighting model must give the same score to every record.
    from whoosh import query as wq

    from indexer.engines.whoosh.evaluate import WEIGHTING, Evaluator

    engine = seed_searcher.engine
    s = engine._searcher()

    class SameAverage(type(WEIGHTING)):  # type: ignore[misc]
        # The engine averages the per-record lengths of live records (Whoosh's total counts
        # deleted ones: issue 17, finding 2); Whoosh's scorer is given that average.
        def scorer(self, searcher: Any, fieldname: str, text: Any, qf: int = 1) -> Any:
            scorer = super().scorer(searcher, fieldname, text, qf=qf)
            scorer.avgfl = engine._lengths(s)(fieldname)[1]
            return scorer

    weighting = SameAverage(B=WEIGHTING.B, K1=WEIGHTING.K1)
    for words in (["lachin", "corridor"], ["ceasefir", "violat", "armenia"], ["jermuk"]):
        q = wq.Or([wq.Term("body", w) for w in words])
        mask, ours = Evaluator(s, engine._postings, engine._lengths(s), engine._live(s), engine._df).evaluate(q)
        with engine.ix.searcher(weighting=weighting) as ws:
            theirs = {n: sc for sc, n in ws.search(q, limit=None).top_n}
        assert sorted(theirs) == sorted(int(n) for n in mask.nonzero()[0])
        assert all(abs(ours[n] - sc) < 1e-4 for n, sc in theirs.items())


@pytest.mark.engine("whoosh")
def test_phrase_positions_agree_with_whooshs_span_matcher(seed_searcher: Searcher) -> None:
    # Phrases are checked on positions read block by block (postings.term_positions); Whoosh's
    # own span matcher must find the same records for pairs and triples of common words at every
    # slop, including words whose postings span several blocks.
    from whoosh import query as wq

    from indexer.engines.whoosh.evaluate import Evaluator

    engine = seed_searcher.engine
    s = engine._searcher()
    reader = s.reader()
    common = sorted(reader.most_frequent_terms("body", number=14), reverse=True)
    words = [t.decode() if isinstance(t, bytes) else t for _n, t in common]
    assert common[0][0] > 128  # more than one posting block
    checked = found = 0
    for i, a in enumerate(words):
        for b in words[i + 1 : i + 6]:
            for seq in ([a, b], [b, a], [a, b, words[(i + 7) % len(words)]]):
                for slop in (1, 2, 4):
                    q = wq.Phrase("body", seq, slop=slop)
                    mask, _ = Evaluator(s, engine._postings, engine._lengths(s), engine._live(s), engine._df).evaluate(
                        q
                    )
                    theirs = sorted(int(n) for n in s.docs_for_query(q))
                    assert sorted(int(n) for n in mask.nonzero()[0]) == theirs, (seq, slop)
                    checked += 1
                    found += bool(theirs)
    assert checked > 100 and found > 20


@pytest.mark.parametrize(
    "q",
    ['"Lachin corridor"', "Lachin -Russia", "section:Prelude OR Jermuk", "title:clashes ceasefire",
     "Azerb* date:2022", "(Goris OR Jermuk) NOT Iran", "lang:en -Azerbaijan"],
)  # fmt: skip
@pytest.mark.engine("whoosh")
def test_match_set_equals_whooshs_own(seed_searcher: Searcher, q: str) -> None:
    from indexer.engines.whoosh.translate import Translator

    engine = seed_searcher.engine
    s = engine._searcher()
    from whoosh import query as wq

    tree = seed_searcher.parse(q).tree
    whoosh_query = Translator(s, engine.languages()).query(tree)
    everything = sorted(int(n) for n in s.docs_for_query(whoosh_query))
    latest = sorted(int(n) for n in s.docs_for_query(wq.And([whoosh_query, wq.Term("is_latest", True)])))
    assert engine.match(tree, latest_only=False).tolist() == everything
    assert engine.match(tree).tolist() == latest


def test_question_words_are_dropped_from_plain_questions() -> None:
    p = parse("what are the effects of the Lachin blockade")
    assert p.words == ["are", "the", "effects", "of", "the", "Lachin", "blockade"]
    assert "what" not in [n.text for n in p.tree.should]
    # Too short, a phrase, or nothing else left: kept as typed.
    assert parse("what blockade").words == ["what", "blockade"]
    assert parse('"what we do" now').phrases == [("what", "we", "do")]
    assert parse("what is there").words == ["what", "is", "there"]
    assert parse("WHO and may 2022").words == ["WHO", "and", "may", "2022"]


def test_facets_list_the_most_frequent_values_and_every_selected_one(tmp_path: Path) -> None:
    from indexer.facets import facet

    FACET_LIMIT = facet("section").limit

    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(FACET_LIMIT + 5):  # every log has "Notes"; each has an "Entry i" of its own
        words = " ".join(f"w{i}x{k}" for k in range(30))  # distinct texts: not versions of one document
        text = f"# Log {i}\n\n## Notes\n\nThe lighthouse lamp {words}.\n\n## Entry {i}\n\nThe lighthouse {words}.\n"
        (docs / f"log{i}.md").write_text(text)
    index_paths([docs], settings_for(tmp_path / "ix", workers=1))
    with Searcher(tmp_path / "ix") as s:
        page = s.search(SearchRequest(q="lighthouse"))
        assert len(page.facets["section"]) == FACET_LIMIT
        assert (page.facets["section"][0].value, page.facets["section"][0].count) == ("notes", FACET_LIMIT + 5)
        rare = "entry 9"  # one document, and last in order among the ties
        assert rare not in [f.value for f in page.facets["section"]]
        chosen = s.search(SearchRequest(q="lighthouse", filters={"section": [rare]}))
        assert rare in [f.value for f in chosen.facets["section"] if f.selected]
        assert chosen.total == 1


def test_every_version_is_searched_by_default(seed_searcher: Searcher) -> None:
    # "S-300 launchers" is only in seed 000's infobox; seed 001 (the latest copy) dropped it.
    page = seed_searcher.search(SearchRequest(q="S-300 launchers"))
    hit = page.hits[0]
    assert (hit.title, hit.breadcrumb, [v["number"] for v in hit.matching_versions], hit.in_latest, hit.removed_in) == (
        "September 2022 Armenia–Azerbaijan clashes", "", [1], False, 2,
    )  # fmt: skip
    assert hit.where == "only in older versions: #1 of 2 — removed in #2"
    assert "<mark>S-300</mark> <mark>launchers</mark>" in hit.snippet  # the infobox line that has them
    assert hit.version_id != seed_searcher.table().doc_meta[hit.doc_id].latest_version_id
    # The same through an infobox field, and nothing at all with the latest versions only.
    field = seed_searcher.search(SearchRequest(q="casualties2:launchers")).hits
    assert [(h.title, h.in_latest) for h in field] == [("September 2022 Armenia–Azerbaijan clashes", False)]
    assert "<mark>launchers</mark>" in field[0].snippet
    assert seed_searcher.search(SearchRequest(q="casualties2:launchers", latest_only=True)).total == 0
    latest = seed_searcher.search(SearchRequest(q="S-300 launchers", latest_only=True)).hits
    assert "September 2022 Armenia–Azerbaijan clashes" not in [h.title for h in latest]
    # When the latest version has the match, the hit shows the latest version's section.
    both = seed_searcher.search(SearchRequest(q="Jermuk")).hits[0]
    assert (both.title, both.in_latest, [v["number"] for v in both.matching_versions]) == (
        "September 2022 Armenia–Azerbaijan clashes", True, [1, 2],
    )  # fmt: skip
    assert both.version_id == seed_searcher.table().doc_meta[both.doc_id].latest_version_id
    assert both.where == ""


def test_heading_field_finds_sections_under_a_heading(seed_searcher: Searcher) -> None:
    # "Aftermath" in seed 002 has only sub-sections: they are found by it.
    hits = seed_searcher.search(SearchRequest(q="heading:aftermath", latest_only=True)).hits
    assert {h.title for h in hits} >= {"2023 Azerbaijani offensive in Nagorno-Karabakh"}
    assert all(h.breadcrumb.lower().startswith("aftermath") or "aftermath" in h.breadcrumb.lower() for h in hits)


@pytest.mark.parametrize(
    ("facet_name", "typed", "plain"),
    [
        ("section", "Reactions", "reactions"),
        ("language", "EN", "en"),
        ("source", "Seeds", "seeds"),
        ("doc_type", "WikiText", "wikitext"),
        ("section", "RÉACTIONS", "reactions"),
    ],
)
def test_filters_forgive_case_and_accents(seed_searcher: Searcher, facet_name: str, typed: str, plain: str) -> None:
    def found(value: str) -> list[str]:
        page = seed_searcher.search(SearchRequest(q="ceasefire", filters={facet_name: [value]}))
        return sorted(h.doc_id for h in page.hits)

    assert found(typed) == found(plain) != []


def test_section_filter_means_the_same_in_options_and_queries(seed_searcher: Searcher) -> None:
    by_option = seed_searcher.search(SearchRequest(q="ceasefire", filters={"section": ["Reactions"]}))
    by_query = seed_searcher.search(SearchRequest(q="ceasefire section:Reactions"))
    assert sorted(h.doc_id for h in by_option.hits) == sorted(h.doc_id for h in by_query.hits)
    assert by_option.total == by_query.total >= 2
    # The chip and the sidebar show the value as the documents write it.
    reactions = next(f for f in by_option.facets["section"] if f.value == "reactions")
    assert (reactions.label, reactions.selected) == ("Reactions", True)


@pytest.mark.parametrize(
    ("q", "suggestion"),
    [
        ("Pashinian ceasefire", "Pashinyan ceasefire"),
        ("Blinkin Armenia", "Blinken Armenia"),
        ("Pashinian", "Pashinyan"),
        ("Armenia ceasefire", None),  # nothing misspelled
    ],
)
def test_did_you_mean_corrects_each_misspelled_word_of_a_longer_query(
    seed_searcher: Searcher, q: str, suggestion: str | None
) -> None:
    assert seed_searcher.search(SearchRequest(q=q)).suggestion == suggestion


def test_a_word_whose_frequent_neighbour_is_its_own_form_is_not_corrected() -> None:
    import numpy as np

    from indexer.search.suggest import Vocabulary, corrected

    words = ["paper", "papers", "pepper", "steamer", "steamr"]
    vocabulary = Vocabulary(words, np.asarray([400, 3, 2, 300, 1]))
    # `papers` is rare beside `paper`, but both are the term `paper`: the same records.
    assert corrected(parse("papers"), vocabulary, ("en",)) is None
    # A real misspelling next to it is still corrected, and `papers` kept as typed.
    assert corrected(parse("papers steamr"), vocabulary, ("en",)) == "papers steamer"
    # In an index of English and French, a word is kept only when it is the same term in both.
    assert corrected(parse("steamr"), vocabulary, ("en", "fr")) == "steamer"
    # Corrections are kept per vocabulary: a new index generation's vocabulary decides anew.
    grown = Vocabulary(list(words), np.asarray([400, 3, 2, 300, 100]))
    assert corrected(parse("steamr"), grown, ("en",)) is None
    assert corrected(parse("steamr"), vocabulary, ("en",)) == "steamer"


def test_a_hit_under_a_date_filter_shows_the_dates_in_range(seed_searcher: Searcher) -> None:
    page = seed_searcher.search(SearchRequest(q="ceasefire", filters={"year": ["2022"], "month": ["2022-09"]}))
    assert page.hits
    for hit in page.hits:
        first = hit.dates[0]["value"].split("..")
        assert first[0] <= "2022-09-30" and first[-1][:7] >= "2022-09", (hit.title, hit.dates[:3])
        assert "<mark>" in hit.snippet
    ranged = seed_searcher.search(SearchRequest(q="ceasefire", date_from="2022-09-13", date_to="2022-09-14"))
    assert all(h.dates[0]["value"][:10] <= "2022-09-14" for h in ranged.hits)


def test_typographic_apostrophes_find_the_base_form(seed_searcher: Searcher) -> None:
    # Seed 004 writes "country’s" (U+2019): `country`, `country's` and `country’s` all find it.
    for q in ("country", "country's", "country’s"):
        page = seed_searcher.search(SearchRequest(q=q, filters={"doc_type": ["plain"]}))
        assert [h.title for h in page.hits] == ["Genocide Warning: Azerbaijan is invading Armenia"], q
        assert "<mark>country’s</mark>" in page.hits[0].snippet + "".join(m.snippet for m in page.hits[0].more_sections)


def test_a_question_in_capitals_is_searched_as_words(seed_searcher: Searcher) -> None:
    caps = seed_searcher.search(SearchRequest(q="I AM INTERESTED IN THE LACHIN CORRIDOR AND THE BLOCKADE OR NOT"))
    lower = seed_searcher.search(SearchRequest(q="i am interested in the lachin corridor and the blockade or not"))
    assert caps.total == lower.total > 0
    assert [h.doc_id for h in caps.hits] == [h.doc_id for h in lower.hits]


def test_a_word_before_a_colon_is_a_word_unless_it_names_a_field() -> None:
    # People write "Note: …" and "landscapes: how…"; `title:` alone, or `colour:red`, are errors.
    assert parse("landscapes: how are they drawn").words == parse("landscapes how are they drawn").words
    assert "landscapes" in parse("landscapes: how are they drawn").words
    assert parse("Note: bridges").words == ["Note", "bridges"]
    with pytest.raises(QueryError, match="'title:' has no value after it"):
        parse("bridges title: x")
    with pytest.raises(QueryError, match="unknown field 'colour:'"):
        parse("colour:red")


@pytest.mark.parametrize(
    "q",
    ["harbour bridge", '"tram line"', "ferry AND steamer", "harbour NOT (ferry OR depot)", "corros*", "steamr~",
     "date:1930..1932 harbour", "+steamer harbour", "lang:fr", "harbour -ferry"],
)  # fmt: skip
def test_counting_a_match_needs_no_scores(tiny: Searcher, q: str) -> None:
    # The engine counts (suggestions, totals) without scoring; the records are the ranked ones.
    tree = tiny.parse(q).tree
    for latest_only in (True, False):
        scored = tiny.engine.evaluate(tree, latest_only)[0]
        tiny.engine._results.clear()  # else the kept evaluation would answer
        assert tiny.engine.match(tree, latest_only).tolist() == scored.tolist()
        assert len(scored)


# -- exports (issue 17, finding 5) ---------------------------------------------------------------
@pytest.mark.parametrize(
    "request_kw",
    [
        {"q": "ceasefire"},
        {"q": "Armenia", "sort": "date"},
        {"q": "Armenia", "sort": "oldest", "latest_only": True},
        {"q": "", "filters": {"language": ["en"]}},
        {"q": "Azerbaijan", "date_from": "2022-09-13", "date_to": "2022-09-14"},
    ],
)
def test_an_export_is_every_page_from_one_evaluation(
    seed_searcher: Searcher, request_kw: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    pages: list[dict[str, Any]] = []
    page = 1
    while True:
        result = seed_searcher.search(SearchRequest(limit=2, page=page, **request_kw))
        pages += [h.to_json() for h in result.hits]
        if page >= result.pages:
            break
        page += 1
    calls = []
    evaluate = seed_searcher.engine.evaluate
    monkeypatch.setattr(seed_searcher.engine, "evaluate", lambda *a: calls.append(a) or evaluate(*a))
    exported = [h.to_json() for h in seed_searcher.export(SearchRequest(**request_kw), cap=1000, batch=2)]
    assert (exported, len(calls)) == (pages, 0 if not request_kw["q"] else 1)
    assert len(pages) == result.total > 2  # more than one page
    capped = [h.to_json() for h in seed_searcher.export(SearchRequest(**request_kw), cap=3, batch=2)]
    assert capped == pages[:3]


@given(
    st.text(alphabet="abAB_1.'’é -\n,", max_size=30),
    st.frozensets(st.text(alphabet="ab1_.'é", min_size=1, max_size=2), min_size=1, max_size=4),
)
def test_snippet_candidates_in_ascii_text_are_the_tokens_starting_like_a_term(text: str, heads: frozenset) -> None:
    """ASCII text finds its candidate tokens by searching for the heads; the result is the
    token-by-token scan's (same tokens, same order), joined tokens such as `e.g` included."""
    from indexer.search.snippets import _candidates, _scan_candidates

    assert _candidates(text, heads, False) == _scan_candidates(text, heads)
