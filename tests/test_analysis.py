"""Analysers per language: each section in its own language, queries in every language of the index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from indexer.analysis import (
    analyzer_for,
    fold,
    fold_word,
    is_query_stop,
    normalize_word,
    plain_terms,
    query_terms,
    tokens,
)
from indexer.pipeline import index_paths
from indexer.search import Searcher, SearchRequest
from tests.conftest import settings_for

DOCS = {
    "ru.md": "# Конфликт на границе\n\nВ сентябре 2022 года Азербайджан начал наступление на территорию Армении. "
    "Правительство Армении обратилось к союзникам за помощью, но ответа не получило.\n",
    "hy.md": "# Սահմանային ճգնաժամ\n\nԱդրբեջանը հարձակվել է Հայաստանի տարածքի վրա։ Հայաստանի կառավարությունը "
    "դիմել է դաշնակիցներին օգնության համար, սակայն պատասխան չի ստացել։\n",
    "fr.md": "# Rapport économique\n\nLes déclarations économiques du gouvernement ont été publiées en mars. "
    "Les économistes ont critiqué ces déclarations dans plusieurs journaux du pays.\n",
    "en.md": "# Border report\n\nThe government of Armenia published its declarations on the economy in March, "
    "and economists criticised them in several newspapers across the country.\n",
}


@pytest.fixture(scope="module")
def languages(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("languages")
    docs = root / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    index_paths([docs], settings_for(root / "ix"))
    with Searcher(root / "ix") as s:
        yield s


def _titles(s: Searcher, q: str, **filters: list[str]) -> list[str]:
    return sorted(h.title for h in s.search(SearchRequest(q=q, filters=dict(filters))).hits)


def test_sections_are_analysed_in_their_own_language(languages: Searcher) -> None:
    assert languages.languages() == ("en", "fr", "hy", "ru")
    # Another inflection of a word the text has: Армения (nominative) finds Армении (genitive).
    assert _titles(languages, "Армения") == ["Конфликт на границе"]
    assert _titles(languages, "Армению") == ["Конфликт на границе"]
    # Armenian: Հայաստան finds Հայաստանի.
    assert _titles(languages, "Հայաստան") == ["Սահմանային ճգնաժամ"]
    # French with and without accents, singular for plural.
    assert _titles(languages, "déclaration") == ["Border report", "Rapport économique"]
    assert _titles(languages, "declaration economique", language=["fr"]) == ["Rapport économique"]
    assert _titles(languages, "économistes") == ["Border report", "Rapport économique"]


def test_snippets_mark_words_in_the_sections_language(languages: Searcher) -> None:
    hit = languages.search(SearchRequest(q="Армения")).hits[0]
    # The sentence boundary after "Армении." is found (Punkt), so one sentence is enough.
    assert hit.snippet == "В сентябре 2022 года Азербайджан начал наступление на территорию <mark>Армении</mark>."
    hit = languages.search(SearchRequest(q="déclaration", filters={"language": ["fr"]})).hits[0]
    assert "<mark>déclarations</mark>" in hit.snippet


def test_stop_words_of_each_language() -> None:
    assert [analyzer_for("en").term(w) for w in ("The", "Countries", "country’s")] == [None, "countri", "countri"]
    assert [analyzer_for("fr").term(w) for w in ("les", "Déclarations", "économiques")] == [None, "declar", "econom"]
    assert [analyzer_for("ru").term(w) for w in ("и", "Армении")] == [None, "армен"]
    # A language without a stemmer: lowercase and accents folded, nothing stemmed, nothing left out.
    assert (analyzer_for("az").language, analyzer_for("az").stemmer_name) == ("az", None)
    assert [analyzer_for("az").term(w) for w in ("Azərbaycan", "və")] == ["azərbaycan", "və"]
    assert query_terms("déclarations", ["en", "fr"]) == ["declar", "declarat"]
    # `the` in an English and French index: English's stop word, in no French section.
    assert is_query_stop("the", ["en", "fr"], lambda term: 0)
    # `war`, a German stop word, is an English word that sections have.
    assert analyzer_for("de").term("war") is None
    assert not is_query_stop("war", ["de", "en"], lambda term: 3)


def test_folding_keeps_other_scripts_letters() -> None:
    assert fold("école") == "ecole"
    assert fold("straße") == "strasse"
    assert fold("йод") == "йод"  # the breve makes another Cyrillic letter
    assert plain_terms("L’École d’été") == ["l'ecole", "d'ete"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["en", "fr", "ru", "hy", "de", "tr", "az", "und", "xx"]))
@example("\ufc5e", "en")  # an Arabic ligature whose compatibility form starts with a space (found by this test)
@example("\ufe70 x", "und")
def test_any_text_analyses_in_any_language(text: str, lang: str) -> None:
    terms = analyzer_for(lang).terms(text)
    assert all(t and " " not in t and "\n" not in t for t in terms)
    assert analyzer_for(lang).terms(text) == terms  # deterministic
    # The text's words one at a time, as `tokens` finds them: the same terms (the word caches
    # give what the words give), and the same unstemmed words.
    words = [w for _start, _end, w in tokens(text)]
    assert terms == [t for w in words if (t := analyzer_for(lang).term(w)) is not None]
    assert plain_terms(text) == [p for w in words if (p := fold_word(normalize_word(w)))]
    assert plain_terms(text) == plain_terms(text)


@pytest.mark.usefixtures("engine")
def test_word_forms_of_several_languages_score_their_best(tmp_path: Path) -> None:
    # A query word whose English and French forms differ is one word: a document having both
    # forms does not score twice for it.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "en.md").write_text("# Notes\n\nThe harbour declarations were read aloud by the clerk of the board.\n")
    (docs / "fr.md").write_text(
        "# Notes du port\n\nLes déclarations du port ont été lues par le greffier du conseil.\n"
    )
    index_paths([docs], settings_for(tmp_path / "ix"))
    with Searcher(tmp_path / "ix") as s:
        hits = s.search(SearchRequest(q="declarations")).hits
    assert sorted(h.title for h in hits) == ["Notes", "Notes du port"]


def test_query_words_are_read_in_the_languages_of_their_script() -> None:
    from indexer.analysis import query_languages

    # Short English titles misread as Latin or Danish do not make every query Latin or Danish.
    npl_like = {"en": 10_470, "und": 942, "la": 1, "da": 2}
    assert query_languages("telescope", npl_like) == ["en"]
    # A few Russian sections in an English index are searched in Russian, by Cyrillic words.
    assert query_languages("Армения", {"en": 5_000, "ru": 3}) == ["ru"]
    assert query_languages("bridge", {"en": 5_000, "ru": 3}) == ["en"]
    # Two Latin-script languages that both matter, and Armenian.
    assert query_languages("pont", {"en": 60, "fr": 40, "hy": 1}) == ["en", "fr"]
    assert query_languages("Հայաստան", {"en": 60, "fr": 40, "hy": 1}) == ["hy"]
    assert query_languages("2022", {"en": 60, "fr": 40}) == ["en", "fr"]  # no letters: every language
