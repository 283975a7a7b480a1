"""Whole-structure checks on ../shared/seeds: documents, titles, breadcrumbs, infobox, dates, cleaning."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import SEED_000, SEED_001, SEED_002, SEED_003, SEED_004, doc_by_title, run_cli

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on each engine


def _docs(runner: CliRunner, index: Path) -> list[dict]:
    return run_cli(runner, "list", "--index-dir", str(index))


def test_five_files_make_four_documents(runner: CliRunner, seed_index: Path) -> None:
    docs = _docs(runner, seed_index)
    assert [(d["title"], d["doc_type"], d["language"], d["version_count"], d["file_count"]) for d in docs] == [
        ("2023 Azerbaijani offensive in Nagorno-Karabakh", "wikitext", "en", 1, 1),
        ("Armenia–Azerbaijan border crisis (2021–present)", "wikitext", "en", 1, 1),
        ("Genocide Warning: Azerbaijan is invading Armenia", "plain", "en", 1, 1),
        ("September 2022 Armenia–Azerbaijan clashes", "wikitext", "en", 2, 2),
    ]


def test_seed_000_and_001_are_ordered_versions_of_one_document(runner: CliRunner, seed_index: Path) -> None:
    doc = doc_by_title(runner, seed_index, "September 2022")
    versions = run_cli(runner, "versions", doc["doc_id"], "--index-dir", str(seed_index))
    assert [(v["number"], v["latest"], Path(v["files"][0]).name, v["title"]) for v in versions] == [
        (1, False, SEED_000, "September 2022 Armenia–Azerbaijan clashes"),
        # 001 has no title line: it takes its document's title.
        (2, True, SEED_001, "September 2022 Armenia–Azerbaijan clashes"),
    ]


def _show(runner: CliRunner, index: Path, title: str, version: int = -1) -> dict:
    doc = doc_by_title(runner, index, title)
    versions = run_cli(runner, "versions", doc["doc_id"], "--index-dir", str(index))
    vid = versions[version]["version_id"]
    return run_cli(runner, "show", doc["doc_id"], "--version", vid, "--index-dir", str(index))


def test_seed_002_breadcrumbs(runner: CliRunner, seed_index: Path) -> None:
    shown = _show(runner, seed_index, "2023 Azerbaijani")
    assert Path(shown["files"][0]).name == SEED_002
    assert [(s["breadcrumb"], s["level"], s["anchor"], s["auxiliary"]) for s in shown["sections"]] == [
        ("", 0, "lead", False),
        ("Background", 2, "background", False),
        ("Prelude", 2, "prelude", False),
        ("Offensive", 2, "offensive", False),
        ("Offensive > 19 September", 3, "19-september", False),
        ("Offensive > 20 September", 3, "20-september", False),
        ("Aftermath", 2, "aftermath", False),
        (
            "Aftermath > Expulsion of Armenians from Nagorno-Karabakh",
            3,
            "expulsion-of-armenians-from-nagorno-karabakh",
            False,
        ),
        ("Aftermath > Arrests of Artsakhi officials", 3, "arrests-of-artsakhi-officials", False),
        ("Aftermath > Negotiations and dissolution of Artsakh", 3, "negotiations-and-dissolution-of-artsakh", False),
        ("Aftermath > Ceasefire violations", 3, "ceasefire-violations", False),
        ("Aftermath > Humanitarian aid", 3, "humanitarian-aid", False),
        ("Aftermath > Diplomatic efforts", 3, "diplomatic-efforts", False),
        ("Aftermath > Diplomatic efforts > Normalisation efforts", 4, "normalisation-efforts", False),
        ("Risk of genocide", 2, "risk-of-genocide", False),
        ("Risk of genocide > Reports of violence against Armenians", 3, "reports-of-violence-against-armenians", False),
        ("International aspects", 2, "international-aspects", False),
        ("International aspects > Reactions", 3, "reactions", False),
        ("International aspects > Reactions > Armenia", 4, "armenia", False),
        ("International aspects > Reactions > Armenia > Armenian diaspora", 5, "armenian-diaspora", False),
        ("International aspects > Reactions > Russia", 4, "russia", False),
        ("International aspects > Reactions > Turkey", 4, "turkey", False),
        ("International aspects > Reactions > European Union", 4, "european-union", False),
        ("International aspects > Reactions > United Nations", 4, "united-nations", False),
        ("International aspects > Reactions > Council of Europe", 4, "council-of-europe", False),
        ("International aspects > Reactions > Other countries", 4, "other-countries", False),
        (
            "International aspects > Reactions > Other international organizations",
            4,
            "other-international-organizations",
            False,
        ),
        ("International aspects > Foreign involvement", 3, "foreign-involvement", False),
        ("International aspects > Foreign involvement > Belarus", 4, "belarus", False),
        ("International aspects > Foreign involvement > Israel", 4, "israel", False),
        # Second "Turkey" and "Armenia" headings: the anchor falls back to the breadcrumb.
        (
            "International aspects > Foreign involvement > Turkey",
            4,
            "international-aspects-foreign-involvement-turkey",
            False,
        ),
        (
            "International aspects > Foreign involvement > Armenia",
            4,
            "international-aspects-foreign-involvement-armenia",
            False,
        ),
        ("Analysis", 2, "analysis", False),
        ("See also", 2, "see-also", True),
    ]


def test_seed_000_infobox(runner: CliRunner, seed_index: Path) -> None:
    shown = _show(runner, seed_index, "September 2022", version=0)
    assert Path(shown["files"][0]).name == SEED_000
    infobox = {k: (v["type"], v["value"]) for k, v in shown["infobox"].items()}
    assert infobox == {
        "Conflict": ("text", "September 2022 Azerbaijani Attack On Armenia"),
        "Partof": ("text", "the Armenia–Azerbaijan border crisis"),
        "Date": ("date", "2022-09-12..2022-09-14"),
        "Place": ("text", "Armenia–Azerbaijan border"),
        "Territory": ("text", "Azerbaijan occupied 200 km^{2} of Armenian territory"),
        "Result": (
            "list",
            ["Ceasefire", "Displacement of 7600 Armenian civilians", "Occupation of Armenian territory"],
        ),
        "Commander1": ("list", ["Ilham Aliyev (President, Commander-in-Chief)", "Zakir Hasanov (Minister of Defence)"]),
        "Commander2": (
            "list",
            [
                "Nikol Pashinyan (Prime Minister, Commander-in-Chief)",
                "Suren Papikyan (Minister of Defence)",
                "Edvard Asryan (Chief of the General Staff)",
            ],
        ),
        "Units1": ("text", "Azerbaijani Armed Forces"),
        "Units2": ("text", "Armed Forces of Armenia"),
        "Casualties1": (
            "list",
            [
                "Per Azerbaijan:",
                "80 servicemen killed",
                "281 servicemen wounded",
                "Armenian claim: 431 servicemen killed",
            ],
        ),
        "Casualties2": ("list", ["450 servicemen killed", "2 S-300 launchers destroyed"]),
        "Casualties3": (
            "list",
            ["4 Armenian civilians killed and 2 missing", "7 Armenian and 3 Azerbaijani civilians injured"],
        ),
    }
    # Seed 001 has no infobox.
    assert _show(runner, seed_index, "September 2022")["infobox"] == {}


def test_seed_000_timeline_dates(runner: CliRunner, seed_index: Path) -> None:
    shown = _show(runner, seed_index, "September 2022", version=0)
    section = next(s for s in shown["sections"] if s["breadcrumb"] == "Timeline > 12–13 September")
    assert section["dates"] == [
        {"text": "12 September 2022", "start": 18, "end": 35, "value": "2022-09-12", "inferred": False},
        {"text": "12 September", "start": 177, "end": 189, "value": "2022-09-12", "inferred": True},
        {"text": "13 September 2022", "start": 1276, "end": 1293, "value": "2022-09-13", "inferred": False},
        {"text": "13 September", "start": 1315, "end": 1327, "value": "2022-09-13", "inferred": True},
        {"text": "13 September", "start": 1443, "end": 1455, "value": "2022-09-13", "inferred": True},
    ]
    for d in section["dates"]:
        assert section["text"][d["start"] : d["end"]] == d["text"]


def test_seed_days_without_a_year_never_take_a_later_year(runner: CliRunner, seed_index: Path) -> None:
    # "26 September" comes before "4 January 2024" and after no full date: the document's year, 2023.
    shown = _show(runner, seed_index, "2023 Azerbaijani")
    section = next(s for s in shown["sections"] if s["breadcrumb"] == "Aftermath > Diplomatic efforts")
    assert section["dates"] == [
        {"text": "26 September", "start": 318, "end": 330, "value": "2023-09-26", "inferred": True},
        {"text": "27 September", "start": 1359, "end": 1371, "value": "2023-09-27", "inferred": True},
        {"text": "29 September", "start": 1699, "end": 1711, "value": "2023-09-29", "inferred": True},
        {"text": "17 November", "start": 2372, "end": 2383, "value": "2023-11-17", "inferred": True},
        {"text": "1 October", "start": 2712, "end": 2721, "value": "2023-10-01", "inferred": True},
        {"text": "9 October", "start": 3657, "end": 3666, "value": "2023-10-09", "inferred": True},
        {"text": "4 January 2024", "start": 3671, "end": 3685, "value": "2024-01-04", "inferred": False},
    ]
    # The Russian-brokered ceasefire of 13 September 2022: the first item's "January 30, 2023" is
    # that item's own date, so the other items take the document's year.
    shown = _show(runner, seed_index, "September 2022", version=0)
    section = next(s for s in shown["sections"] if s["breadcrumb"] == "Reactions > Countries")
    assert [(d["text"], d["value"], d["inferred"]) for d in section["dates"]] == [
        ("January 30, 2023", "2023-01-30", False),
        ("17 September", "2022-09-17", True),
        ("18 September", "2022-09-18", True),
        ("13 September", "2022-09-13", True),
        ("27 September", "2022-09-27", True),
        ("14 October", "2022-10-14", True),
        ("15 November", "2022-11-15", True),
        ("30 November", "2022-11-30", True),
        ("27 September", "2022-09-27", True),
        ("4 October", "2022-10-04", True),
        ("2022", "2022", False),
        ("12 September 2022", "2022-09-12", False),
    ]
    for d in section["dates"]:
        assert section["text"][d["start"] : d["end"]] == d["text"]


# Page chrome the issue names, plus the download's label that sits in the footer.
CHROME = {
    "top of page",
    "bottom of page",
    "Grey Facebook Icon",
    "Grey Twitter Icon",
    "Grey YouTube Icon",
    "Download PDF • 770KB",
    "Follow Genocide Watch for more updates:",
    "Azerbaijan invades Armenia",
}


def test_seed_004_cleaned_text_keeps_every_paragraph(runner: CliRunner, seeds: Path, seed_index: Path) -> None:
    shown = _show(runner, seed_index, "Genocide Warning")
    lines = [" ".join(ln.strip().removeprefix("•").split()) for ln in (seeds / SEED_004).read_text().splitlines()]
    lines = [ln for ln in lines if ln]
    expected = [ln for ln in lines if ln not in CHROME]
    assert len(lines) - len(expected) == len(CHROME)
    title, *body = expected
    assert shown["title"] == title
    assert [s["breadcrumb"] for s in shown["sections"]] == [""]
    got = [ln.removeprefix("- ") for ln in shown["sections"][0]["text"].split("\n")]
    assert got == body
    assert {k: shown[k] for k in ("authors", "dates", "language")} == {
        "authors": ["Ani Tonoyan"],
        "dates": [
            {"kind": "issued", "text": "October 2023", "value": "2023-10"},
            {"kind": "updated", "text": "April 2024", "value": "2024-04"},
        ],
        "language": "en",
    }


def test_seed_languages(runner: CliRunner, seed_index: Path) -> None:
    for doc in _docs(runner, seed_index):
        shown = run_cli(runner, "show", doc["doc_id"], "--index-dir", str(seed_index))
        assert {s["language"] for s in shown["sections"]} == {"en"}, doc["title"]


def _ids(runner: CliRunner, index: Path) -> dict[str, list[tuple[str, str]]]:
    """doc_id -> its timeline as (version_id, source file name)."""
    out = {}
    for d in _docs(runner, index):
        timeline = run_cli(runner, "versions", d["doc_id"], "--index-dir", str(index))
        out[d["doc_id"]] = [(v["version_id"], Path(s).name) for v in timeline for s in v["files"]]
    return out


def test_seed_ids_are_the_same_in_one_run_or_one_file_per_run_in_any_order(
    seeds: Path, tmp_path: Path, runner: CliRunner, seed_index: Path
) -> None:
    from indexer.pipeline import index_paths
    from tests.conftest import settings_for

    together = _ids(runner, seed_index)
    # One file per run, newest name first: seed 001 founds the document that 000 joins later.
    ix = tmp_path / "one-by-one"
    for name in (SEED_004, SEED_003, SEED_002, SEED_001, SEED_000):
        index_paths([seeds / name], settings_for(ix))
    one_by_one = _ids(runner, ix)
    assert sorted(together) == sorted(one_by_one)
    assert {d: sorted(v) for d, v in together.items()} == {d: sorted(v) for d, v in one_by_one.items()}
    # The timeline follows when each copy was first seen: here 001 came first.
    doc = doc_by_title(runner, ix, "September 2022")["doc_id"]
    assert [name for _vid, name in one_by_one[doc]] == [SEED_001, SEED_000]


def test_a_file_has_the_same_version_id_alone_or_with_others(
    seeds: Path, tmp_path: Path, runner: CliRunner, seed_index: Path
) -> None:
    from indexer.pipeline import index_paths
    from tests.conftest import settings_for

    index_paths([seeds / SEED_003], settings_for(tmp_path / "alone"))
    (alone,) = _ids(runner, tmp_path / "alone").values()
    assert alone in _ids(runner, seed_index).values()


def test_an_exact_copy_in_a_later_run_is_one_more_source(seeds: Path, tmp_path: Path, runner: CliRunner) -> None:
    import shutil

    from indexer.pipeline import index_paths
    from tests.conftest import settings_for

    ix = tmp_path / "ix"
    index_paths([seeds], settings_for(ix))
    later = tmp_path / "later"
    later.mkdir()
    shutil.copy(seeds / SEED_002, later / "saved-again.txt")
    report = index_paths([later], settings_for(ix))
    assert (report["added"], report["new_versions"], report["duplicates"], report["documents"], report["versions"]) == (
        1, 0, 1, 4, 5,
    )  # fmt: skip
    doc = doc_by_title(runner, ix, "2023 Azerbaijani")["doc_id"]
    timeline = run_cli(runner, "versions", doc, "--index-dir", str(ix))
    assert [(v["number"], sorted(Path(s).name for s in v["files"])) for v in timeline] == [
        (1, [SEED_002, "saved-again.txt"])
    ]


def test_see_also_lines_are_never_removed_as_repeated_chrome(runner: CliRunner, seed_index: Path) -> None:
    shown = _show(runner, seed_index, "September 2022", version=0)
    (see_also,) = [s for s in shown["sections"] if s["heading"] == "See also"]
    assert see_also["text"].splitlines() == [
        "- 2023 Azerbaijani offensive in Nagorno-Karabakh",
        "- 2021–2023 Armenia–Azerbaijan border crisis",
        "- List of conflicts between Armenia and Azerbaijan",
        "- Armenia–Azerbaijan relations",
    ]
    shown = _show(runner, seed_index, "Armenia–Azerbaijan border crisis")
    (see_also,) = [s for s in shown["sections"] if s["heading"] == "See also"]
    assert len(see_also["text"].splitlines()) == 8
    from indexer.search import Searcher, SearchRequest

    with Searcher(seed_index) as searcher:
        page = searcher.search(SearchRequest(q='"List of conflicts between Armenia and Azerbaijan"'))
    assert sorted((h.title, h.breadcrumb) for h in page.hits) == [
        ("2023 Azerbaijani offensive in Nagorno-Karabakh", "See also"),
        ("Armenia–Azerbaijan border crisis (2021–present)", "See also"),
        ("September 2022 Armenia–Azerbaijan clashes", "See also"),
    ]
