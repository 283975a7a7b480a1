"""Sentence boundaries from nltk's Punkt, trained on the indexed corpus (issue 11, finding 5)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.pipeline import index_paths
from indexer.search import Searcher, SearchRequest
from indexer.search.snippets import QueryTerms, snippet
from indexer.sentences import MODEL_KEY, PRIOR_ABBREVIATIONS, SentenceModel, section_spans, train
from indexer.store import Store
from tests.conftest import settings_for


def _plain(html: str) -> str:
    return re.sub(r"</?mark>", "", html).replace("&quot;", '"')


def _snippet_of(index_dir: Path, q: str, title_start: str) -> str:
    with Searcher(index_dir) as s:
        page = s.search(SearchRequest(q=q, limit=20))
    hit = next(h for h in page.hits if h.title.startswith(title_start))
    return _plain(hit.snippet)


def test_blinken_snippet_keeps_us_before_secretary(seed_index: Path) -> None:
    text = _snippet_of(seed_index, "Blinken", "Genocide Warning")
    assert text.startswith("In October 2023, U.S. Secretary of State Anthony Blinken warned"), text


def test_seed_003_snippets_keep_us(seed_index: Path) -> None:
    porter = _snippet_of(seed_index, "Jalina Porter", "Armenia–Azerbaijan border crisis")
    assert "Later on, U.S. State Department spokeswoman Jalina Porter" in porter, porter
    price = _snippet_of(seed_index, "Ned Price", "Armenia–Azerbaijan border crisis")
    assert "U.S. State Department spokesperson Ned Price stated that the U.S. considers" in price, price


def test_the_model_is_learned_from_the_seeds_and_stored(seed_index: Path) -> None:
    store = Store(seed_index)
    try:
        data = json.loads(store.meta_value(MODEL_KEY) or "{}")
    finally:
        store.close()
    assert data["sample_key"]
    assert data["ortho"]  # how each word is capitalised where: Punkt's evidence
    assert set(data["abbreviations"]) > PRIOR_ABBREVIATIONS  # some learned from the seeds


def _corpus(folder: Path, names: list[str]) -> None:
    """Reports in varied sentences that name inspectors as "Insp. <Name>" (ordinary words end
    sentences in some places and run on in others, as in real prose)."""
    folder.mkdir(parents=True, exist_ok=True)
    towns = ["Aldmoor", "Brenn", "Calder", "Dunmere", "Eskvale", "Fallow", "Garth", "Holm", "Ivel", "Jarrow"]
    people = ["Varga", "Okoro", "Lindqvist", "Moreau", "Tanaka", "Ferreira"]
    nouns = ["the bridge", "the mill", "the school", "the harbour", "the records", "the roads", "the wells"]
    verbs = ["inspected", "surveyed", "measured", "repaired", "described", "counted", "visited"]
    for n, name in enumerate(names):
        rng = random.Random(f"{name}-{n}")
        lines = [f"Report {name}", ""]
        for town in towns:
            sentences = [f"Later the council of {town} asked Insp. {rng.choice(people)} to return."]
            for _ in range(rng.randint(4, 7)):
                noun, verb, other = rng.choice(nouns), rng.choice(verbs), rng.choice(nouns)
                sentences.append(
                    rng.choice(
                        [
                            f"Insp. {rng.choice(people)} {verb} {noun} of {town} and {other}.",
                            f"In {1850 + rng.randint(0, 150)} the workers {verb} {noun} near {town}.",
                            f"Nobody {verb} {other} after {noun} was closed.",
                            f"The people of {town} {verb} {noun} with Insp. {rng.choice(people)} in the spring.",
                        ]
                    )
                )
            rng.shuffle(sentences)
            lines += [" ".join(sentences), ""]
        (folder / f"{name}.txt").write_text("\n".join(lines), encoding="utf-8")


@pytest.mark.usefixtures("engine")
def test_an_abbreviation_only_this_corpus_uses_is_learned(tmp_path: Path) -> None:
    # "Insp." is in no prior list: a full stop before a capital would end the sentence.
    src = tmp_path / "src"
    _corpus(src, ["north", "south", "east", "west"])
    index_paths([src], settings_for(tmp_path / "ix"))
    store = Store(tmp_path / "ix")
    try:
        model = SentenceModel.from_json(store.meta_value(MODEL_KEY))
    finally:
        store.close()
    assert "insp" in model.abbreviations
    line = "The survey was led by Insp. Varga in the spring. Nobody objected."
    assert [line[a:b] for a, b in model.spans(line)] == [
        "The survey was led by Insp. Varga in the spring.",
        "Nobody objected.",
    ]
    assert "insp" not in SentenceModel().abbreviations
    text = _snippet_of(tmp_path / "ix", "council Aldmoor", "Report")
    assert re.match(r"Later the council of Aldmoor asked Insp\. \w+ to return\.", text), text


@pytest.mark.usefixtures("engine")
def test_the_model_follows_the_corpus_and_not_the_order(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _corpus(src, ["north", "south"])
    one, two = tmp_path / "one", tmp_path / "two"
    index_paths([src / "north.txt"], settings_for(one))
    before = _stored(one)
    _corpus(src, ["east"])
    index_paths([src / "north.txt", src / "east.txt", src / "south.txt"], settings_for(one))
    after = _stored(one)
    assert before["sample_key"] != after["sample_key"]  # retrained as the corpus grew
    # The same files indexed in another order, in other runs: the same parameters.
    index_paths([src / "south.txt"], settings_for(two))
    index_paths([src / "east.txt"], settings_for(two))
    index_paths([src / "north.txt"], settings_for(two))
    assert _stored(two) == after
    # A run that changes nothing keeps the stored model.
    index_paths([src], settings_for(two))
    assert _stored(two) == after


def _stored(index_dir: Path) -> dict:
    store = Store(index_dir)
    try:
        return json.loads(store.meta_value(MODEL_KEY) or "{}")
    finally:
        store.close()


def test_prior_abbreviations_hold_without_a_corpus() -> None:
    model = SentenceModel.from_json(None)
    assert model.abbreviations == PRIOR_ABBREVIATIONS
    text = "Dr. Okafor met Gov. Ruiz on Jan. 5 in Washington, D.C. Talks went on."
    assert next(text[a:b] for a, b in model.spans(text)).startswith("Dr. Okafor met Gov. Ruiz on Jan. 5")


def test_a_damaged_or_older_model_falls_back_to_the_prior() -> None:
    for stored in ("", "not json", "[]", json.dumps({"format": 0}), json.dumps({"format": 1})):
        try:
            model = SentenceModel.from_json(stored)
        except KeyError:
            model = None
        assert model is None or model.abbreviations == PRIOR_ABBREVIATIONS


def test_training_is_deterministic() -> None:
    texts = [
        "Mr. Abel wrote to Prof. Kline in Oct. of that year. The letter was lost. It was found in Nov. by a clerk.",
        "The U.S. delegation met the U.K. envoy. Talks ended at 5 p.m. with no result.",
    ] * 20
    assert train(texts).to_json() == train(list(texts)).to_json()


def test_line_breaks_always_end_sentences() -> None:
    model = SentenceModel()
    text = "Heading without stop\nFirst line ends with Dr.\nSecond line."
    assert [text[a:b] for a, b in model.spans(text)] == [
        "Heading without stop",
        "First line ends with Dr.",
        "Second line.",
    ]


def test_snippet_uses_the_sentences_it_is_given() -> None:
    text = "Context first. In 2023, the U.S. Secretary of State spoke about the ceasefire at length."
    terms = QueryTerms.build(["ceasefire"], [])
    with_model = _plain(snippet(text, terms, sentence_spans=SentenceModel().spans(text)))
    assert with_model.startswith("In 2023, the U.S. Secretary"), with_model
    without = _plain(snippet(text, terms))
    assert without.startswith("Secretary of State"), without  # the punctuation rule alone cuts there


_TEXT = st.lists(
    st.sampled_from([*"ab .!?\n\"'()US", "Dr", "Jan.", " x. Y", "U.S.", "\u00a0", "\t", "word"]), max_size=80
).map("".join)


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_spans_cover_the_text_and_never_cross_a_line(text: str) -> None:
    spans = SentenceModel().spans(text)
    pos = 0
    for a, b in spans:
        assert pos <= a < b <= len(text)
        assert text[pos:a].strip() == ""  # only spaces between sentences
        assert "\n" not in text[a:b]
        assert text[a:b] == text[a:b].strip()
        pos = b
    assert text[pos:].strip() == ""


def test_the_index_keeps_every_sections_sentences(seed_index: Path) -> None:
    store = Store(seed_index)
    try:
        model = SentenceModel.from_json(store.meta_value(MODEL_KEY))
        rows = list(store.sentence_work(missing_only=False))
        assert list(store.sentence_work(missing_only=True)) == []
        kept = store.section_sentences(f"{v}:{o}" for v, o, _ in rows)
    finally:
        store.close()
    assert len(rows) == len(kept) > 100
    for version_id, ordinal, text in rows:
        assert kept[f"{version_id}:{ordinal}"] == section_spans(model, text)  # from the current model


def test_a_retrained_model_finds_every_sections_sentences_again(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _corpus(src, ["north"])
    index_paths([src], settings_for(tmp_path / "ix"))
    first = _stored(tmp_path / "ix")
    _corpus(src, ["south", "east"])
    index_paths([src], settings_for(tmp_path / "ix"))
    store = Store(tmp_path / "ix")
    try:
        model = SentenceModel.from_json(store.meta_value(MODEL_KEY))
        assert model.sample_key != first["sample_key"]
        for version_id, ordinal, text in store.sentence_work(missing_only=False):
            blob = store.section_sentences([f"{version_id}:{ordinal}"])[f"{version_id}:{ordinal}"]
            assert blob == section_spans(model, text)
    finally:
        store.close()


def test_search_finds_sentences_the_last_stage_did_not_reach(tmp_path: Path) -> None:
    """A run stopped before its last stage leaves sections without sentences: snippets are
    still cut by the corpus's model."""
    src = tmp_path / "src"
    _corpus(src, ["north", "south", "east", "west"])
    index_paths([src], settings_for(tmp_path / "ix"))
    store = Store(tmp_path / "ix")
    try:
        with store.transaction():
            store.db.execute("UPDATE sections SET sentences = NULL")
    finally:
        store.close()
    text = _snippet_of(tmp_path / "ix", "council Aldmoor", "Report")
    assert re.match(r"Later the council of Aldmoor asked Insp\. \w+ to return\.", text), text


def test_after_a_retraining_sections_are_found_again_a_part_per_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run finds again at most max(SWEEP_SECTIONS, its new sections) sections an earlier model
    found; the next runs go on round the circle (a retraining meanwhile starts a new circle
    where the last one stands) until every section's sentences are the current model's."""
    from indexer import pipeline

    src, ix = tmp_path / "src", tmp_path / "ix"
    _corpus(src, [f"report{n}" for n in range(23)])
    index_paths([src], settings_for(ix))
    monkeypatch.setattr(pipeline, "SWEEP_SECTIONS", 5)
    store = Store(ix)
    try:
        rows = list(store.sentence_work(missing_only=False))
        keys = [f"{v}:{o}" for v, o, _ in rows]
        assert len(rows) == 23
        stale = b"\xff"  # no model writes this: marks a section not found again yet

        def outdated() -> list[str]:
            return [k for k, blob in store.section_sentences(keys).items() if blob == stale]

        def forget_model() -> None:  # as when the corpus's sample has changed
            data = json.loads(store.meta_value(MODEL_KEY) or "{}")
            data["sample_key"] = "an older sample"
            with store.transaction():
                store.set_meta_value(MODEL_KEY, json.dumps(data))
                store.set_sentences((v, o, stale) for v, o, _ in rows)

        forget_model()
        report = pipeline.update_sentences(store)
        assert (report["retrained"], report["found_again"], report["sweep_left"]) == (1, 5, 1)
        assert len(outdated()) == len(rows) - 5
        pipeline.update_sentences(store)
        assert len(outdated()) == len(rows) - 10
        forget_model()  # a retraining in the middle of the circle: a new circle from there
        runs = 0
        while (report := pipeline.update_sentences(store))["sweep_left"]:
            assert report["found_again"] == 5 and report["retrained"] == int(runs == 0)
            runs += 1
        assert not outdated()
        assert runs + 1 == -(-len(rows) // 5)
        model = SentenceModel.from_json(store.meta_value(MODEL_KEY))
        for version_id, ordinal, text in rows:
            assert store.section_sentences([f"{version_id}:{ordinal}"])[f"{version_id}:{ordinal}"] == section_spans(
                model, text
            )
        assert pipeline.update_sentences(store)["found_again"] == 0  # the circle is complete
    finally:
        store.close()
