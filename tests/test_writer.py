"""Section records: date terms, facets, engine search with filters."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.engines import open_engine
from indexer.facets import date_terms, value_key
from indexer.models import DateMention
from indexer.search import parse
from indexer.store import Store

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on each engine


def test_date_terms() -> None:
    days, months, years = date_terms(
        [
            DateMention("12–14 September 2022", 0, 1, "2022-09-12..2022-09-14"),
            DateMention("May 2021", 0, 1, "2021-05"),
            DateMention("2021–present", 0, 1, "2021..present"),
            DateMention("2019–2020", 0, 1, "2019..2020"),
        ]
    )
    assert (sorted(days), sorted(months), sorted(years)) == (
        ["2022-09-12", "2022-09-13", "2022-09-14"],
        ["2021-05", "2022-09"],
        ["2019", "2020", "2021", "2022"],
    )


def test_value_key() -> None:
    assert value_key("  Ceasefire   Violations ") == "ceasefire violations"
    assert (
        value_key("Réactions, internationales") == value_key("reactions internationales") == "reactions internationales"
    )


def test_engine_search(corpus_index: Path) -> None:
    engine = open_engine(str(corpus_index))
    try:
        hits = engine.search(parse("tram corrosion").tree, limit=3)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        # The one section with both words ranks first.
        store = Store(corpus_index)
        best = store.section_texts([hits[0].record_id])[hits[0].record_id]
        vid, _, ordinal = hits[0].record_id.partition(":")
        assert store.sections_of(vid)[int(ordinal)].breadcrumb == "History > Closure"
        assert "tram" in best and "corrosion" in best
        store.close()
        # OR semantics: a document with only one of the words is still found.
        assert engine.search(parse("corrosion zeppelin").tree)
        assert engine.search(parse("tram lang:fr").tree) == []
        fr = engine.search(parse("pont lang:fr").tree)
        assert len({h.record_id.split(":")[0] for h in fr}) == 1
        dated = engine.search(parse("harbour date:1927").tree, limit=10_000)
        assert {h.record_id.split(":")[1] for h in dated} == {"1"}
        # Older versions are searchable only on request.
        old_only = engine.search(parse("tram").tree, latest_only=False, limit=10_000)
        assert len(old_only) > len(engine.search(parse("tram").tree, limit=10_000))
    finally:
        engine.close()
