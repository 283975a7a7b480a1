"""Near-duplicate families, ids as functions of members, the timeline."""

from __future__ import annotations

import random

import numpy as np
import pytest

from indexer import dedup
from indexer.dedup import (
    Candidate,
    Occurrence,
    assign_documents,
    doc_id_for,
    family_doc_id,
    related_stored,
    shingles,
    signature,
    timeline,
    version_id_for,
    version_order,
)
from indexer.models import TimelineEntry

BASE = " ".join(f"word{i} sentence about the harbour bridge number {i}." for i in range(200))


def _cand(vid: str, text: str, doc_id: str | None = None, key: str | None = None) -> tuple[Candidate, str]:
    return Candidate(vid, signature(shingles(text)), key, doc_id), text


def _assign(
    new: list[tuple[Candidate, str]], old: list[tuple[Candidate, str]] = ()
) -> tuple[dict[str, str], dict[str, str]]:
    texts = {c.version_id: t for c, t in [*new, *old]}
    return assign_documents([c for c, _ in new], [c for c, _ in old], shingles_of=lambda v: shingles(texts[v]))


def test_near_duplicates_group_and_distinct_texts_do_not() -> None:
    edited = BASE.replace("number 5.", "number five.").replace("number 50.", "number fifty.")
    other = " ".join(f"unrelated{i} text about ferries and tides {i}." for i in range(200))
    third = " ".join(f"report{i} on the flood of the quays in spring {i}." for i in range(120))
    quote = third + " " + " ".join(BASE.split()[:60])  # quotes a passage of BASE
    got, renamed = _assign([_cand("a", BASE), _cand("b", edited), _cand("c", other), _cand("d", quote)])
    assert renamed == {}
    assert got["a"] == got["b"] == doc_id_for("a")
    assert len({got["a"], got["c"], got["d"]}) == 3


def test_ids_do_not_depend_on_input_order() -> None:
    texts = {f"v{i}": BASE + f" tail {i}" * i for i in range(6)}
    runs = []
    for seed in range(3):
        items = list(texts.items())
        random.Random(seed).shuffle(items)
        runs.append(_assign([_cand(v, t) for v, t in items])[0])
    assert runs[0] == runs[1] == runs[2]


def test_a_document_id_is_a_function_of_its_members_and_old_ids_are_renamed() -> None:
    # "new" sorts before "old": the family's id follows its smallest version id, and the stored
    # document's id D1 is reported as renamed (it lives on as an alias).
    got, renamed = _assign([_cand("new", BASE + " one more")], old=[_cand("old", BASE, doc_id="D1")])
    assert (got, renamed) == ({"new": doc_id_for("new"), "old": doc_id_for("new")}, {"D1": doc_id_for("new")})
    # A member that does not change the smallest id leaves the stored document as it was.
    got, renamed = _assign([_cand("zz", BASE + " one more")], old=[_cand("old", BASE, doc_id=doc_id_for("old"))])
    assert (got, renamed) == ({"zz": doc_id_for("old")}, {})
    # Revisions of one page are one document by their lineage key, and the key names it.
    got, _ = _assign([_cand("r1", "short first revision", key="K"), _cand("r2", BASE, key="K")])
    assert got == {"r1": doc_id_for("K"), "r2": doc_id_for("K")}
    assert family_doc_id([("b", None), ("a", None)]) == doc_id_for("a")
    assert family_doc_id([("b", "K2"), ("a", None), ("c", "K1")]) == doc_id_for("K1")


def test_same_family_id_in_one_run_or_one_version_per_run_in_any_order() -> None:
    texts = {f"v{i}": BASE + f" tail {i}" * i for i in range(5)}
    one_run, _ = _assign([_cand(v, t) for v, t in texts.items()])
    for seed in range(3):
        order = list(texts)
        random.Random(seed).shuffle(order)
        stored: list[tuple[Candidate, str]] = []
        for vid in order:  # one file per run
            got, _ = _assign([_cand(vid, texts[vid])], old=stored)
            docs = {c.version_id: c.doc_id for c, _ in stored}
            docs.update(got)
            stored = [_cand(v, texts[v], doc_id=docs[v]) for v in [*(c.version_id for c, _ in stored), vid]]
        assert {c.version_id: c.doc_id for c, _ in stored} == one_run


def _occ(vid: str, path: str, revision: str = "", date: str | None = None, run: int = 1, seq: int = 0) -> Occurrence:
    return Occurrence(vid, path, revision, date, run, seq)


def test_timeline_of_revisions_keeps_a_revert_as_its_own_entry() -> None:
    occ = [
        _occ("A", "x.xml", "11", "2001-01-01T00:00:00Z", seq=0),
        _occ("B", "x.xml", "12", "2002-01-01T00:00:00Z", seq=1),
        _occ("A", "x.xml", "13", "2003-01-01T00:00:00Z", seq=2),  # a revert to the first text
    ]
    entries = timeline(reversed(occ))
    assert entries == [
        TimelineEntry(1, "A", "revision", "2001-01-01T00:00:00Z", 1, ("x.xml",), "11", None),
        TimelineEntry(2, "B", "revision", "2002-01-01T00:00:00Z", 1, ("x.xml",), "12", None),
        TimelineEntry(3, "A", "revision", "2003-01-01T00:00:00Z", 1, ("x.xml",), "13", 1),
    ]
    # The latest entry's version is the latest version.
    assert version_order(entries) == ["B", "A"]


def test_timeline_of_saved_copies() -> None:
    # Exact copies with no date of their own are one entry with both sources; undated entries
    # follow the order they were first seen.
    entries = timeline([_occ("B", "b.txt", run=2), _occ("A", "a.txt", seq=0), _occ("A", "copy.txt", run=3)])
    assert [(e.number, e.version_id, e.files, e.first_run, e.same_as) for e in entries] == [
        (1, "A", ("a.txt", "copy.txt"), 1, None),
        (2, "B", ("b.txt",), 2, None),
    ]
    # The same text saved again at a later date is an entry of its own.
    entries = timeline(
        [
            _occ("A", "jan.html", date="2024-01"),
            _occ("B", "feb.html", date="2024-02"),
            _occ("A", "mar.html", date="2024-03"),
        ]
    )
    assert [(e.number, e.version_id, e.date, e.same_as) for e in entries] == [
        (1, "A", "2024-01", None),
        (2, "B", "2024-02", None),
        (3, "A", "2024-03", 1),
    ]
    assert version_order(entries) == ["B", "A"]


def test_version_id_is_a_hash_of_normalized_text() -> None:
    assert version_id_for("x") == version_id_for("x") != version_id_for("y")
    assert len(version_id_for("x")) == 16


def _variant(rng: random.Random, base: list[str]) -> str:
    words = list(base)
    for _ in range(rng.randint(0, len(words) // 6)):
        words[rng.randrange(len(words))] = f"edit{rng.randrange(10**6)}"
    return " ".join(words)


@pytest.mark.parametrize("seed", range(6))
def test_the_stored_versions_related_to_new_ones_give_the_same_families_as_all_of_them(seed: int) -> None:
    rng = random.Random(seed)
    bases = [[f"w{b}x{i}" for i in range(rng.randint(40, 120))] for b in range(12)]
    lineages = [None, None, None, "wiki/a", "wiki/b"]
    texts: dict[str, str] = {}
    keys: dict[str, str | None] = {}
    for n in range(60):
        vid = f"v{n:03d}"
        texts[vid] = _variant(rng, rng.choice(bases))
        keys[vid] = rng.choice(lineages)
    vids = sorted(texts)
    rng.shuffle(vids)
    old_ids, new_ids = vids[:45], vids[45:]

    def sh(v: str) -> set[bytes]:
        return shingles(texts[v])

    first = [Candidate(v, signature(sh(v)), keys[v], None) for v in old_ids]
    old_docs, _ = assign_documents(first, [], shingles_of=sh)
    old = [Candidate(c.version_id, c.signature, c.lineage_key, old_docs[c.version_id]) for c in first]
    new = [Candidate(v, signature(sh(v)), keys[v], None) for v in new_ids]
    rows = [(c.version_id, c.doc_id or "", c.lineage_key, dedup.signature_bytes(c.signature)) for c in old]

    def by_lineage(wanted: set[str]) -> list[tuple[str, str, str | None, bytes]]:
        return [r for r in rows if r[2] in wanted]

    related = related_stored(new, iter(rows), by_lineage)
    assert len(related) < len(old)  # the unrelated stored versions are left out
    signatures = {c.version_id: c.signature for c in old}
    assert all(np.array_equal(c.signature, signatures[c.version_id]) for c in related)
    assert {c.version_id: c.doc_id for c in related}.items() <= {c.version_id: c.doc_id for c in old}.items()
    assert assign_documents(new, related, shingles_of=sh) == assign_documents(new, old, shingles_of=sh)
    assert related_stored([], iter(rows), by_lineage) == []


def test_a_stored_version_joins_through_the_lineage_of_a_stored_one_near_a_new_one() -> None:
    other = " ".join(f"unrelated{i} text about ferries and tides {i}." for i in range(200))
    texts = {"x": BASE, "y": other, "z": other.replace("ferries", "boats"), "n": BASE.replace("number 5.", "five.")}

    def sh(v: str) -> set[bytes]:
        return shingles(texts[v])

    old = [Candidate("x", signature(sh("x")), "wiki/c", "d1"), Candidate("y", signature(sh("y")), "wiki/c", "d1")]
    old.append(Candidate("z", signature(sh("z")), None, "d2"))
    new = [Candidate("n", signature(sh("n")), None, None)]
    rows = [(c.version_id, c.doc_id or "", c.lineage_key, dedup.signature_bytes(c.signature)) for c in old]
    related = related_stored(new, iter(rows), lambda keys: [r for r in rows if r[2] in keys])
    assert sorted(c.version_id for c in related) == ["x", "y"]  # y by x's lineage; z is near neither
    got = assign_documents(new, related, shingles_of=sh)
    assert got == assign_documents(new, old, shingles_of=sh)
    assert got[0]["n"] == got[0]["y"] == family_doc_id([("x", "wiki/c"), ("y", "wiki/c"), ("n", None)])


def test_families_do_not_depend_on_how_many_shingles_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    bases = [[f"w{b}x{i}" for i in range(80)] for b in range(5)]
    texts = {f"v{n:02d}": _variant(rng, rng.choice(bases)) for n in range(40)}
    made: list[str] = []

    def sh(v: str) -> set[bytes]:
        made.append(v)
        return shingles(texts[v])

    old_ids = sorted(texts)[:25]
    old_docs, _ = assign_documents([Candidate(v, signature(sh(v)), None, None) for v in old_ids], [], shingles_of=sh)
    old = [Candidate(v, signature(sh(v)), None, old_docs[v]) for v in old_ids]
    new = [Candidate(v, signature(sh(v)), None, None) for v in sorted(texts)[25:]]
    made.clear()
    everything = assign_documents(new, old, shingles_of=sh)
    made_with_all = len(made)
    monkeypatch.setattr(dedup, "SHINGLE_CACHE", 1)
    made.clear()
    assert assign_documents(new, old, shingles_of=sh) == everything
    assert len(made) > made_with_all  # texts were shingled again: the small cache was in use
