"""Text reuse: fingerprints, alignment, the index-time stage, `palimpsest reuse` and the API."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.documents import earlier_of
from indexer.pipeline import index_paths, remove_paths
from indexer.reuse import ReuseRule, align, fingerprints, section_words
from indexer.store import Store
from search_web import create_app
from tests.conftest import SEED_000, SEED_001, SEED_004, doc_by_title, run_cli, settings_for

RULE = ReuseRule()
# English words, so that the sections are read as English (whose stop words the rule uses).
_WORDS = """
    river market winter council budget village station garden teacher museum bridge letter harvest
    doctor engine ferry library mountain report soldier kitchen island printer forest tunnel weather
    factory painter railway orchard minister harbour lantern meadow castle season copper journal
    quarry canal tower chapel miller courier barrel wagon saddle cellar anchor beacon compass ledger
"""
VOCABULARY = _WORDS.split()


def filler(seed: int, n: int) -> list[str]:
    """`n` words in an order no other seed's text shares runs of."""
    rnd = random.Random(seed)
    return [rnd.choice(VOCABULARY) for _ in range(n)]


QUOTE = "the harbour authority approved twelve new cranes after the winter storm flooded every eastern pier"
# A stock phrase of 10 words; both documents have it between the same stop words (13 words).
COMMON = "in the committee said on tuesday that the new harbour rules would and"


def write(folder: Path, name: str, words: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n\n".join(" ".join(words[i : i + 40]) + "." for i in range(0, len(words), 40)), "utf-8")
    return path


def test_winnowing_sees_every_shared_run_of_the_guaranteed_length() -> None:
    assert RULE.guaranteed == 12
    a = section_words(0, " ".join(filler(1, 50) + QUOTE.split()[:12] + filler(2, 30)), "en")
    b = section_words(0, " ".join(filler(3, 7) + QUOTE.split()[:12] + filler(4, 60)), "en")
    shared = {h for h, _p in fingerprints(a, RULE)} & {h for h, _p in fingerprints(b, RULE)}
    assert len(shared) >= 1
    # Short sections cannot hold a passage: no fingerprints at all.
    assert fingerprints(section_words(0, " ".join(QUOTE.split()[:11]), "en"), RULE) == []


def shared(text_a: str, text_b: str) -> list[tuple[int, int]]:
    """The character offsets of the fingerprints two texts share."""
    hb: dict[int, list[int]] = {}
    for h, c in fingerprints(section_words(0, text_b, "en"), RULE):
        hb.setdefault(h, []).append(c)
    return [(ca, cb) for h, ca in fingerprints(section_words(0, text_a, "en"), RULE) for cb in hb.get(h, [])]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 80), st.integers(0, 80), st.integers(12, 30))
def test_a_planted_quote_is_found_at_its_words(seed: int, before_a: int, before_b: int, length: int) -> None:
    quote = filler(seed + 7, length)
    text_a = " ".join(filler(seed, before_a) + quote + filler(seed + 1, 20))
    text_b = " ".join([*filler(seed + 2, before_b), "Zed", *quote, "qux", *filler(seed + 3, 20)])
    found = align((0, text_a, "en"), (1, text_b, "en"), shared(text_a, text_b), RULE)
    assert [(text_a[p.start_a : p.end_a], text_b[p.start_b : p.end_b], p.words) for p in found] == [
        (" ".join(quote), " ".join(quote), length)
    ]


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=400), st.text(max_size=400), st.integers(0, 3))
def test_any_text_gives_spans_inside_both_texts(text_a: str, text_b: str, quote_at: int) -> None:
    quote = " ".join(filler(5, 14))
    text_a = text_a[: quote_at * 50] + " " + quote + " " + text_a[quote_at * 50 :]
    text_b = text_b + " " + quote
    for p in align((0, text_a, "en"), (1, text_b, "en"), shared(text_a, text_b), RULE):
        assert 0 <= p.start_a < p.end_a <= len(text_a) and 0 <= p.start_b < p.end_b <= len(text_b)
        assert p.words >= RULE.min_words and 0 < p.similarity <= 1


def test_alignment_bridges_light_edits_and_trims_lone_words() -> None:
    words = filler(11, 60)
    edited = list(words)
    for i in (9, 23, 41):  # three words of sixty changed
        edited[i] = "changed"
    text_a = " ".join(filler(12, 15) + words + filler(13, 15))
    text_b = " ".join(filler(14, 5) + edited + filler(15, 25))
    [p] = align((0, text_a, "en"), (0, text_b, "en"), shared(text_a, text_b), RULE)
    assert (text_a[p.start_a : p.end_a], text_b[p.start_b : p.end_b], p.words, p.similarity) == (
        " ".join(words),
        " ".join(edited),
        57,
        0.95,
    )


def test_a_passage_longer_than_what_is_read_first_is_read_whole() -> None:
    # 400 shared words with an edit every 11 words: few fingerprints, far apart.
    words = filler(31, 400)
    edited = [("altered" if i % 11 == 5 else w) for i, w in enumerate(words)]
    text_a = " ".join(filler(32, 30) + words + filler(33, 30))
    text_b = " ".join(filler(34, 50) + edited + filler(35, 10))
    found = align((0, text_a, "en"), (0, text_b, "en"), shared(text_a, text_b), RULE)
    assert [(text_a[p.start_a : p.end_a], text_b[p.start_b : p.end_b], p.words) for p in found] == [
        (" ".join(words), " ".join(edited), 400 - 36)
    ]


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("reuse_docs")
    write(folder, "a.txt", [*filler(21, 80), "Officials", "said", *QUOTE.split(), *filler(22, 40), *COMMON.split()])
    write(folder, "b.txt", [*filler(23, 10), "Reports", "claimed", *QUOTE.split(), "yesterday", *filler(24, 60)])
    write(folder, "c.txt", filler(25, 50) + COMMON.split() + filler(26, 50))
    index_dir = tmp_path_factory.mktemp("reuse_index")
    index_paths([folder], settings_for(index_dir))
    return folder, index_dir


def links(index_dir: Path) -> list[tuple[str, str, str, str, int]]:
    """Every stored link as (file of a, text of a, file of b, text of b, words), sorted."""
    store = Store(index_dir)
    try:
        out = []
        for vid in store.latest_versions():
            name = Path(store.sources_of(vid)[0].path).name
            text = {s.ordinal: s.text for s in store.sections_of(vid)}
            for r in store.reuse_of(vid):
                other = Path(store.sources_of(r["other_version_id"])[0].path).name
                out.append((name, text[r["ordinal"]][r["start"] : r["end"]], other, r["other_text"], r["words"]))
        return sorted(out)
    finally:
        store.close()


def test_a_quote_inside_different_sentences_is_linked_and_a_stock_phrase_is_not(
    small_index: tuple[Path, Path],
) -> None:
    _folder, index_dir = small_index
    found = QUOTE.removeprefix("the ")  # a stop word at the start of a passage is left out
    assert links(index_dir) == [("a.txt", found, "b.txt", found, 14), ("b.txt", found, "a.txt", found, 14)]


def test_links_do_not_depend_on_the_order_or_the_runs(small_index: tuple[Path, Path], tmp_path: Path) -> None:
    folder, index_dir = small_index
    one_by_one = tmp_path / "idx"
    for name in ("c.txt", "b.txt", "a.txt"):
        index_paths([folder / name], settings_for(one_by_one))
    assert links(one_by_one) == links(index_dir)
    remove_paths([folder / "b.txt"], settings_for(one_by_one))
    assert links(one_by_one) == []


def test_reuse_can_be_turned_off(small_index: tuple[Path, Path], tmp_path: Path) -> None:
    folder, _ = small_index
    index_paths([folder], settings_for(tmp_path, reuse=False))
    assert links(tmp_path) == []
    store = Store(tmp_path)
    assert store.reuse_counts() == {"versions": 0, "fingerprints": 0, "links": 0}
    store.close()


def test_earlier_of() -> None:
    assert [earlier_of(a, b) for a, b in [("2023-10", "2024-04"), ("2024", "2023-01-05"), ("2023", "2023-05"),
                                          (None, "2020"), ("2022-09-14T10:00:00Z", "2022-09-13")]] == [
        0, 1, None, None, 1
    ]  # fmt: skip


# -- the seeds ---------------------------------------------------------------------------------
# The 14 shared words without the stop word `at` at their start (stop words never end a passage).
PASSAGE = "Stage 4: Dehumanization, Stage 7: Preparation, Stage 8: Persecution, and Stage 10: Denial"


def test_seed_004_shares_the_genocide_watch_passage_with_the_wiki_article(seed_index: Path, runner: CliRunner) -> None:
    web = doc_by_title(runner, seed_index, "Genocide Warning")
    wiki = doc_by_title(runner, seed_index, "September 2022 Armenia")
    data = run_cli(runner, "reuse", web["doc_id"], "--index-dir", str(seed_index))
    wiki_doc = run_cli(runner, "show", wiki["doc_id"], "--index-dir", str(seed_index))
    web_doc = run_cli(runner, "show", web["doc_id"], "--index-dir", str(seed_index))
    [section] = [s for s in wiki_doc["sections"] if s["breadcrumb"] == "Reactions > Organizations"]
    wiki_start = section["text"].index(PASSAGE)
    web_start = web_doc["sections"][0]["text"].index(PASSAGE)
    assert data == {
        "doc_id": web["doc_id"],
        "version_id": web_doc["version_id"],
        "title": "Genocide Warning: Azerbaijan is invading Armenia",
        "date": "2024-04",
        "passages": [
            {
                "ordinal": 0,
                "breadcrumb": "",
                "anchor": "lead",
                "start": web_start,
                "end": web_start + len(PASSAGE),
                "text": PASSAGE,
                "words": 13,
                "similarity": 1.0,
                "also_appears_in": {
                    "doc_id": wiki["doc_id"],
                    "version_id": wiki_doc["version_id"],
                    "title": "September 2022 Armenia–Azerbaijan clashes",
                    "ordinal": section["ordinal"],
                    "breadcrumb": "Reactions > Organizations",
                    "anchor": section["anchor"],
                    "start": wiki_start,
                    "end": wiki_start + len(PASSAGE),
                    "text": PASSAGE,
                    "date": None,
                },
                "earlier": None,
            }
        ],
    }
    # Seeds 000 and 001 are two versions of that article: one document, never linked to itself.
    versions = run_cli(runner, "versions", wiki["doc_id"], "--index-dir", str(seed_index))
    assert sorted(Path(v["files"][0]).name for v in versions) == [SEED_000, SEED_001]
    pairs = run_cli(runner, "reuse", "--index-dir", str(seed_index))
    assert all(p["documents"][0]["doc_id"] != p["documents"][1]["doc_id"] for p in pairs)
    [pair] = [p for p in pairs if web["doc_id"] in {d["doc_id"] for d in p["documents"]}]
    assert pair == {
        "documents": sorted(
            [
                {"doc_id": web["doc_id"], "title": web["title"], "date": "2024-04"},
                {"doc_id": wiki["doc_id"], "title": wiki["title"], "date": None},
            ],
            key=lambda d: d["doc_id"],
        ),
        "passages": 1,
        "words": 13,
        "earlier": None,
    }
    assert SEED_004.startswith("004")


def test_reuse_api_page_and_filter(seed_index: Path, runner: CliRunner) -> None:
    web = doc_by_title(runner, seed_index, "Genocide Warning")
    wiki = doc_by_title(runner, seed_index, "September 2022 Armenia")
    app = create_app({"INDEX_DIR": str(seed_index), "TESTING": True})
    client = app.test_client()
    try:
        api = client.get(f"/api/documents/{web['doc_id']}/reuse").get_json()
        assert api == run_cli(runner, "reuse", web["doc_id"], "--index-dir", str(seed_index))
        missing = client.get("/api/documents/nope/reuse")
        assert (missing.status_code, missing.get_json()["error"]["status"]) == (404, 404)
        page = BeautifulSoup(client.get(f"/doc/{web['doc_id']}").get_data(as_text=True), "html.parser")
        [mark] = page.select("span.reuse")
        assert mark.get_text() == PASSAGE
        [note] = page.select(".reuse-notes li")
        here, link = note.find_all("a")
        assert (here.get_text(), here["href"]) == (f"“{PASSAGE}”", f"#lead-reuse-{api['passages'][0]['start']}")
        assert (link.get_text(), link["href"]) == (
            "September 2022 Armenia–Azerbaijan clashes › Reactions › Organizations",
            f"/doc/{wiki['doc_id']}#{api['passages'][0]['also_appears_in']['anchor']}-reuse-"
            f"{api['passages'][0]['also_appears_in']['start']}",
        )
        summary = page.select_one(".reuse-summary")
        assert " ".join(summary.get_text().split()) == (
            "1 passage of this version also appears in 1 other document (underlined) · "
            "Documents sharing passages with this one"
        )
        assert summary.find("a")["href"] == f"/search?q=reuse:{web['doc_id']}"
        wiki_page = BeautifulSoup(client.get(f"/doc/{wiki['doc_id']}").get_data(as_text=True), "html.parser")
        target = wiki_page.find(id=link["href"].split("#")[1])
        assert target is not None and target.get_text() == PASSAGE
        hits = client.get("/api/search", query_string={"q": f"reuse:{web['doc_id']}"}).get_json()
        assert [h["doc_id"] for h in hits["hits"]] == [wiki["doc_id"]]
        bad = client.get("/api/search", query_string={"q": "reuse:nope"})
        assert bad.status_code == 400
        negated = client.get("/api/search", query_string={"q": f"war -reuse:{web['doc_id']}"})
        assert negated.status_code == 400
    finally:
        app.extensions["palimpsest"].close()


def test_reuse_cli_errors_and_help(seed_index: Path, runner: CliRunner) -> None:
    from indexer.cli import cli

    result = runner.invoke(cli, ["reuse", "nope", "--index-dir", str(seed_index)])
    assert (result.exit_code, result.output) == (1, "palimpsest: error: no such document nope\n")
    assert "text reuse" in runner.invoke(cli, ["reuse", "--help"]).output
