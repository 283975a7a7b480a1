"""Version comparison: seeds 000 vs 001 pinned, properties on generated versions, CLI, web and API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.cli import cli
from indexer.diff import Options, diff_versions, normalized_text, tokens, word_ops
from indexer.models import Section, Version
from indexer.store import Store
from search_web import create_app


@pytest.fixture(scope="module")
def seed_versions(seed_index: Path) -> Any:
    store = Store(seed_index)
    doc = next(d for d in store.documents() if d["version_count"] == 2)
    rows = store.versions_of(doc["doc_id"])
    yield doc["doc_id"], store.version(rows[0].version_id), store.version(rows[1].version_id)
    store.close()


def test_seed_000_vs_001(seed_versions: Any) -> None:
    _doc, a, b = seed_versions  # 000 (older: title line, infobox) and 001
    d = diff_versions(a, b)
    assert d.summary == {
        "sections_unchanged": 17, "sections_changed": 2, "sections_added": 1, "sections_removed": 0,
        "sections_moved": 0, "sections_renamed": 0, "words_inserted": 8, "words_deleted": 47,
        "formatting_changes": 0, "paragraphs_moved": 0,
    }  # fmt: skip
    assert [(s.label, s.status) for s in d.sections if s.status != "unchanged"] == [
        ("", "changed"), ("Background", "changed"), ("References", "added"),
    ]  # fmt: skip
    changes = [(o.op, o.a.strip(), o.b.strip()) for s in d.sections for p in s.paragraphs for o in p.ops
               if o.op not in ("equal", "format")]  # fmt: skip
    assert changes == [
        ("delete", "The event represents the largest attack by Azerbaijan on Armenia in the history of their "
                   "conflict. and triggered an emergency meeting the UN Security Council.", ""),
        ("delete", "news outlets,", ""),
        ("delete", ". This incursion resulted in Azerbaijan occupying over 200 square kilometers of Armenian "
                   "sovereign land", ""),
        ("replace", "7,600", "7600"),
        ("replace", "km2", "square kilometres (16 sq mi)"),
    ]  # fmt: skip
    # The infobox exists only in the older copy: all 13 fields removed, none added or changed.
    assert len(d.infobox["removed"]) == 13 and d.infobox["added"] == d.infobox["changed"] == []
    assert d.infobox["removed"][0] == {"key": "Conflict", "value": "September 2022 Azerbaijani Attack On Armenia"}
    # `==Background==` vs `== Background ==` and the See also list with and without "- " markers:
    # the same sections, no change reported.
    by_label = {s.label: s for s in d.sections}
    assert not by_label["Background"].renamed
    assert by_label["See also"].status == "unchanged" and by_label["See also"].formatting == 0
    assert d.title is None  # 001 has no title line: it inherits the document's title


def test_thousands_separators_are_formatting_on_request(seed_versions: Any) -> None:
    _doc, a, b = seed_versions
    d = diff_versions(a, b, Options(thousands=True))
    assert d.summary["formatting_changes"] == 1 and d.summary["words_inserted"] == 7


def test_formatting_only_differences_are_counted_not_changed() -> None:
    ops = word_ops("He said “yes” — twice, 1,200 times.", 'He said "yes" - twice, 1200 times.', Options(thousands=True))
    assert {o.op for o in ops} == {"equal", "format"}
    assert sum(len(tokens(o.a)) for o in ops if o.op == "format") == 4  # “ ” — 1,200
    assert "".join(o.b for o in ops) == 'He said "yes" - twice, 1200 times.'


def test_words_are_never_split() -> None:
    ops = word_ops("The well-known ceasefire held.", "The well-known cease-fire held.", Options())
    assert [(o.op, o.a.strip(), o.b.strip()) for o in ops if o.op != "equal"] == [
        ("replace", "ceasefire", "cease-fire")
    ]


# -- properties on generated versions ---------------------------------------------------------
WORDS = st.sampled_from(
    [
        "the",
        "bridge",
        "tram",
        "harbour",
        "closed",
        "opened",
        "council",
        "1931",
        "7,600",
        "“quoted”",
        "well-known",
        ",",
        ".",
        "(",
        ")",
    ]
)
PARAGRAPH = st.lists(WORDS, min_size=1, max_size=12).map(" ".join)
HEADINGS = st.sampled_from(["", "History", "Closure", "Repairs", "See also", "Budget"])


def _version(vid: str, sections: list[tuple[str, list[str]]]) -> Version:
    out = []
    for n, (heading, paras) in enumerate(sections):
        out.append(
            Section(vid, n, 2 if heading else 0, heading, heading, heading.lower() or "lead", "\n".join(paras), "en")
        )
    return Version(vid, "T", "plain", "en", tuple(out), ())


VERSION = st.lists(st.tuples(HEADINGS, st.lists(PARAGRAPH, min_size=0, max_size=4)), min_size=1, max_size=5)


@settings(max_examples=150, deadline=None)
@given(VERSION, VERSION)
def test_the_diff_rebuilds_both_versions(sa: Any, sb: Any) -> None:
    a, b = _version("a", sa), _version("b", sb)
    d = diff_versions(a, b)
    assert d.text_b() == normalized_text(b)
    assert diff_versions(b, a).text_b() == normalized_text(a)


@settings(max_examples=100, deadline=None)
@given(VERSION)
def test_a_version_against_itself_is_unchanged(sa: Any) -> None:
    a = _version("a", sa)
    d = diff_versions(a, a)
    assert all(s.status == "unchanged" and not s.moved and not s.renamed for s in d.sections)
    assert d.summary["words_inserted"] == d.summary["words_deleted"] == d.summary["formatting_changes"] == 0


@settings(max_examples=150, deadline=None)
@given(VERSION, VERSION)
def test_diff_b_a_mirrors_diff_a_b(sa: Any, sb: Any) -> None:
    a, b = _version("a", sa), _version("b", sb)
    ab, ba = diff_versions(a, b), diff_versions(b, a)
    assert (ab.summary["words_inserted"], ab.summary["words_deleted"]) == (
        ba.summary["words_deleted"], ba.summary["words_inserted"],
    )  # fmt: skip
    assert ab.summary["sections_added"] == ba.summary["sections_removed"]
    assert ab.summary["sections_changed"] == ba.summary["sections_changed"]
    assert ab.infobox["added"] == ba.infobox["removed"]


def test_moved_paragraph_is_a_move() -> None:
    p1, p2, p3 = "The tram opened in 1931.", "The council closed the bridge.", "Repairs began in 2022."
    a = _version("a", [("History", [p1, p2, p3])])
    b = _version("b", [("History", [p2, p3, p1])])
    d = diff_versions(a, b)
    assert d.summary["paragraphs_moved"] == 1 and d.summary["words_inserted"] == d.summary["words_deleted"] == 0
    # Moved and lightly edited: still a move, with the edit shown at its new place.
    c = _version("c", [("History", [p2, p3, p1.replace("1931", "1932")])])
    d = diff_versions(a, c)
    assert d.summary["paragraphs_moved"] == 1 and (d.summary["words_inserted"], d.summary["words_deleted"]) == (1, 1)
    target = next(p for p in d.sections[0].paragraphs if p.moved_from is not None)
    assert [(o.op, o.a.strip(), o.b.strip()) for o in target.ops if o.op != "equal"] == [("replace", "1931", "1932")]
    assert d.text_b() == normalized_text(c) and d.text_a() == normalized_text(a)


def test_renamed_and_moved_sections() -> None:
    a = _version("a", [("History", ["The tram opened in 1931."]), ("Repairs", ["Work began in 2022 on the deck."])])
    b = _version(
        "b", [("Repair works", ["Work began in 2022 on the deck."]), ("History", ["The tram opened in 1931."])]
    )
    d = diff_versions(a, b)
    assert [(s.heading_a, s.heading_b, s.renamed) for s in d.sections] == [
        ("Repairs", "Repair works", True), ("History", "History", False),
    ]  # fmt: skip
    assert [s.status for s in d.sections] == ["unchanged", "unchanged"]
    assert d.summary["sections_moved"] == 1  # one of the two swapped sections moved


# -- CLI, web, API ------------------------------------------------------------------------------
def test_cli_diff(seed_index: Path, seed_versions: Any) -> None:
    doc, a, b = seed_versions
    runner = CliRunner()
    out = runner.invoke(cli, ["diff", f"{doc}@1", f"{doc}@latest", "--index-dir", str(seed_index)])
    assert out.exit_code == 0, out.output
    assert "[-7,600-] {+7600+}" in out.output and "§ References  [added]" in out.output
    as_json = json.loads(
        runner.invoke(cli, ["diff", a.version_id, b.version_id, "--json", "--index-dir", str(seed_index)]).output
    )
    assert (as_json["a"], as_json["b"], as_json["summary"]["sections_added"]) == (a.version_id, b.version_id, 1)
    bad = runner.invoke(cli, ["diff", f"{doc}@9", f"{doc}@latest", "--index-dir", str(seed_index)])
    assert bad.exit_code != 0 and "Traceback" not in bad.output


def test_compare_page_and_api(seed_index: Path, seed_versions: Any) -> None:
    doc, a, b = seed_versions
    app = create_app({"INDEX_DIR": str(seed_index), "TESTING": True})
    c = app.test_client()
    page = BeautifulSoup(c.get(f"/doc/{doc}/compare?a={a.version_id}&b={b.version_id}").data, "html.parser")
    badges = [(li.a.get_text(), li.select_one(".badge").get_text()) for li in page.select(".cmp-list li")]
    assert ("References", "added") in badges and ("Background", "changed") in badges
    assert [x.get_text() for x in page.select(".pair .col.a del")][:1] and page.select(".pair .col.b ins")
    assert any(i.get_text() == "7600" for i in page.select("ins"))
    assert page.select_one("#change-1") and page.select_one("a.next")["href"] == "#change-2"
    # Infobox fields and document dates: one row per field, old and new value, what happened.
    rows = [
        [td.get_text(" ", strip=True) for td in tr.find_all(["th", "td"])] for tr in page.select(".infobox-diff tr")
    ]
    assert rows[0] == ["Field", "Version 1", "Version 2", "Change"]
    assert rows[1] == ["Conflict", "September 2022 Azerbaijani Attack On Armenia", "— none", "removed"]
    assert len(rows) == 14 and {r[3] for r in rows[1:]} == {"removed"}
    inline = BeautifulSoup(c.get(f"/doc/{doc}/compare?a=1&b=2&view=inline").data, "html.parser")
    assert not inline.select(".pair") and inline.select("main ins") and inline.select("main del")
    api = c.get(f"/api/documents/{doc}/diff?a=1&b=latest").get_json()
    runner = CliRunner()
    cli_json = json.loads(
        runner.invoke(cli, ["diff", f"{doc}@1", f"{doc}@latest", "--json", "--index-dir", str(seed_index)]).output
    )
    assert api == cli_json
    other = next(d for d in Store(seed_index).documents() if d["doc_id"] != doc)
    assert c.get(f"/doc/{doc}/compare?a={other['latest_version_id']}&b=2").status_code == 404
    assert c.get(f"/api/documents/{other['doc_id']}/diff").status_code == 400  # one version only
    new = BeautifulSoup(c.get(f"/doc/{doc}?new=1").data, "html.parser")
    assert new.select("p.new ins") and "7600" in [i.get_text() for i in new.select("p.new ins")]
    app.extensions["palimpsest"].close()


@pytest.mark.usefixtures("engine")
def test_compare_escapes_document_text(tmp_path: Path) -> None:
    from indexer.pipeline import index_paths
    from tests.conftest import settings_for

    docs = tmp_path / "docs"
    docs.mkdir()
    body = "The lamp <script>alert(1)</script> was lit every night by the keeper of the quay.\n"
    body += "".join(f"Entry {n}: the keeper trimmed the wick and noted the wind from the north.\n" for n in range(30))
    (docs / "a.txt").write_text("Quay lamp log\n\n" + body)
    (docs / "b.txt").write_text("Quay lamp log\n\n" + body.replace("night", "evening <img src=x onerror=alert(2)>", 1))
    index_paths([docs], settings_for(tmp_path / "ix"))
    store = Store(tmp_path / "ix")
    doc = store.documents()[0]
    store.close()
    assert doc["version_count"] == 2
    app = create_app({"INDEX_DIR": str(tmp_path / "ix"), "TESTING": True})
    page = BeautifulSoup(app.test_client().get(f"/doc/{doc['doc_id']}/compare?view=inline").data, "html.parser")
    assert [s.get("src") for s in page.find_all("script")] == ["/static/app.js"] and not page.find("img")
    assert any("<img src=x onerror=alert(2)>" in i.get_text() for i in page.select("main ins, main del"))
    app.extensions["palimpsest"].close()
