"""Near-duplicate families, stable ids, version order."""

from __future__ import annotations

import random

from indexer.dedup import Candidate, assign_documents, order_versions, shingles, signature, version_id_for

BASE = " ".join(f"word{i} sentence about the harbour bridge number {i}." for i in range(200))


def _cand(vid: str, text: str, doc_id: str | None = None, key: str | None = None) -> tuple[Candidate, str]:
    return Candidate(vid, signature(shingles(text)), key, doc_id), text


def _assign(new: list[tuple[Candidate, str]], old: list[tuple[Candidate, str]] = ()) -> dict[str, str]:
    texts = {c.version_id: t for c, t in [*new, *old]}
    return assign_documents([c for c, _ in new], [c for c, _ in old], shingles_of=lambda v: shingles(texts[v]))


def test_near_duplicates_group_and_distinct_texts_do_not() -> None:
    edited = BASE.replace("number 5.", "number five.").replace("number 50.", "number fifty.")
    other = " ".join(f"unrelated{i} text about ferries and tides {i}." for i in range(200))
    third = " ".join(f"report{i} on the flood of the quays in spring {i}." for i in range(120))
    quote = third + " " + " ".join(BASE.split()[:60])  # quotes a passage of BASE
    got = _assign([_cand("a", BASE), _cand("b", edited), _cand("c", other), _cand("d", quote)])
    assert got["a"] == got["b"]
    assert len({got["a"], got["c"], got["d"]}) == 3


def test_ids_do_not_depend_on_input_order() -> None:
    texts = {f"v{i}": BASE + f" tail {i}" * i for i in range(6)}
    runs = []
    for seed in range(3):
        items = list(texts.items())
        random.Random(seed).shuffle(items)
        runs.append(_assign([_cand(v, t) for v, t in items]))
    assert runs[0] == runs[1] == runs[2]


def test_existing_document_keeps_its_id_and_lineage_groups() -> None:
    got = _assign([_cand("new", BASE + " one more")], old=[_cand("old", BASE, doc_id="D1")])
    assert got == {"new": "D1"}
    got = _assign([_cand("r1", "short first revision", key="K"), _cand("r2", BASE, key="K")])
    assert got["r1"] == got["r2"]


def test_version_order() -> None:
    assert order_versions([("b", "2023-01-01", (1, 2)), ("a", "2022-05-01", (1, 1))]) == ["a", "b"]
    # Without dates on every version: first-seen order.
    assert order_versions([("b", None, (1, 2)), ("a", "2022-05-01", (2, 0))]) == ["b", "a"]


def test_version_id_is_a_hash_of_normalized_text() -> None:
    assert version_id_for("x") == version_id_for("x") != version_id_for("y")
    assert len(version_id_for("x")) == 16
