"""The record table and its snapshot: saved by the indexer, loaded by a search in a new process."""

from __future__ import annotations

import shutil
import stat
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from indexer.engines import open_engine
from indexer.facets import FACETS
from indexer.files import write_npz
from indexer.records import (
    NO_DATE,
    SNAPSHOT_FILE,
    DocumentInfo,
    RecordInfo,
    RecordTable,
    StringColumn,
    build_snapshot,
    engine_rows,
    load_snapshot,
    snapshot_key,
    sorted_position,
    words_starting,
)
from indexer.search import Searcher, SearchRequest, facets
from indexer.store import Store
from tests.conftest import zip_with_method

QUERIES = [
    SearchRequest(q="ceasefire"),
    SearchRequest(q="Lachin corridor", filters={"section": ["background"]}),
    SearchRequest(q="S-300 launchers"),
    SearchRequest(q="Pashinian ceasefire"),
    SearchRequest(q="", filters={"year": ["2022"]}),
    SearchRequest(q="Armenia", date_from="2022-09-01", date_to="2022-09-30", sort="date"),
]


def _table_view(t: RecordTable) -> dict:
    return {
        "size": t.size,
        "record_ids": list(t.record_ids),
        "arrays": {k: v.tolist() for k, v in sorted(t.arrays.items())},
        "info": list(t.info),
        "dates": list(t.dates),
        "doc_meta": {d: t.doc_meta[d] for d in t.doc_meta},
        "entries": t.entries,
        "facets": {n: (list(v.values), list(v.labels)) for n, v in t.facet_values.items()},
    }


def test_the_index_run_saves_a_snapshot_equal_to_the_store(seed_index: Path) -> None:
    store, engine = Store(seed_index), open_engine(str(seed_index))
    try:
        key = snapshot_key(store.generation(), engine.generation())
        saved = load_snapshot(seed_index, key)
        built = build_snapshot(store, engine)
    finally:
        engine.close()
        store.close()
    assert saved is not None
    assert _table_view(saved.table) == _table_view(built.table)
    assert saved.engine_rows.tolist() == built.engine_rows.tolist()
    assert list(saved.words) == list(built.words) and saved.word_freqs.tolist() == built.word_freqs.tolist()
    assert load_snapshot(seed_index, key + " ") is None  # another generation: not used


def test_the_streamed_table_holds_each_store_row_as_the_facet_rules_read_it(
    seed_index: Path, corpus_index: Path
) -> None:
    # Checked against the rows themselves and the facet declarations, not against another build.
    for index_dir in (seed_index, corpus_index):
        _check_against_rows(index_dir)


def _check_against_rows(index_dir: Path) -> None:
    store = Store(index_dir)
    try:
        rows, size = store.stream_search_rows()
        table = RecordTable.build(rows, size)
        expected = list(store.stream_search_rows()[0])
        rows, size = store.stream_search_rows()
        with pytest.raises(ValueError):
            RecordTable.build(rows, size + 1)  # fewer rows than announced
        rows, size = store.stream_search_rows()
        with pytest.raises(ValueError):
            RecordTable.build(rows, size - 1)
        rows.close()
    finally:
        store.close()
    assert table.size == len(expected) > 0
    for i, r in enumerate(expected):
        assert table.record_ids[i] == r.record_id
        assert table.doc_ids[int(table.doc[i])] == r.doc_id
        assert table.info[i] == RecordInfo(r.version_id, r.title, r.breadcrumb, r.anchor, r.heading, r.language)
        assert (bool(table.latest[i]), bool(table.auxiliary[i]), int(table.version_rank[i])) == (
            r.is_latest, r.auxiliary, r.rank,
        )  # fmt: skip
        assert table.dates[i] == tuple(r.dates)
        days = [(date.fromisoformat(lo).toordinal(), date.fromisoformat(hi or lo).toordinal())
                for lo, hi in (m.bounds() for m in r.dates)]  # fmt: skip
        assert int(table.newest[i]) == max((hi for _, hi in days), default=NO_DATE)
        assert int(table.oldest[i]) == min((lo for lo, _ in days), default=NO_DATE)
        assert table.doc_meta[r.doc_id] == DocumentInfo(r.doc_title, r.version_count, r.latest_version_id)
        assert table.entries[r.version_id] == tuple(r.entries)
    for spec in FACETS:
        recs, vals = table.facet_pairs[spec.name]
        keys = table.facet_values[spec.name].values
        found = sorted((int(rec), keys[int(v)]) for rec, v in zip(recs, vals, strict=True))
        assert found == sorted((i, key) for i, r in enumerate(expected) for key, _label in spec.values(r)), spec.name


def test_rows_streamed_while_an_index_run_commits_are_the_ones_counted(
    seed_index: Path, engine: str, tmp_path: Path
) -> None:
    # A search rebuilding its table reads the store while a run may commit: the count and the
    # rows come from one read transaction, which ends with the rows (also when a build stops).
    from indexer.pipeline import index_paths
    from tests.conftest import CORPUS, settings_for

    index_dir = tmp_path / "index"
    shutil.copytree(seed_index, index_dir)
    reader = Store(index_dir)
    try:
        rows, size = reader.stream_search_rows()
        index_paths([CORPUS / "notes"], settings_for(index_dir, engine=engine))  # commits more sections
        assert RecordTable.build(rows, size).size == size
        rows, grown = reader.stream_search_rows()
        assert grown > size
        with pytest.raises(ValueError):
            RecordTable.build(rows, grown - 1)
        rows.close()  # as build_snapshot does: the transaction ends even when a build stops
        assert not reader.db.in_transaction
        assert reader.stream_search_rows()[1] == grown
    finally:
        reader.close()


def test_engine_rows_map_every_engine_record_to_its_table_row(seed_index: Path) -> None:
    store = Store(seed_index)
    try:
        table = RecordTable.build(*store.stream_search_rows())
    finally:
        store.close()
    ids = list(table.record_ids)
    longest = max(ids, key=len)
    column = [*reversed(ids), "", "nope:0", longest + "0", longest[:-1], ids[0]]
    expected = [ids.index(r) if r in ids else -1 for r in column]
    assert engine_rows(table, column).tolist() == expected
    assert engine_rows(table, []).tolist() == []


def _pages(index_dir: Path) -> list[dict]:
    """Every QUERIES page, from a record table loaded afresh (not one kept in memory)."""
    facets._CACHE.clear()
    with Searcher(index_dir) as s:
        return [{**s.search(r).to_json(), "took_ms": 0} for r in QUERIES]


def test_search_gives_the_same_answers_without_a_snapshot(seed_index: Path, tmp_path: Path) -> None:
    copy = tmp_path / "ix"
    shutil.copytree(seed_index, copy)
    with_snapshot = _pages(copy)
    saved = (copy / SNAPSHOT_FILE).read_bytes()
    (copy / SNAPSHOT_FILE).unlink()
    assert _pages(copy) == with_snapshot
    assert not (copy / SNAPSHOT_FILE).exists()  # search only reads: it builds in memory
    (copy / SNAPSHOT_FILE).write_bytes(b"PK\x03\x04 not a zip")
    assert _pages(copy) == with_snapshot
    (copy / SNAPSHOT_FILE).write_bytes(zip_with_method(saved, 99))  # a member zipfile cannot read
    assert _pages(copy) == with_snapshot


def test_string_columns() -> None:
    values = ["", "Armenia", "Армения", "Հայաստան", "a\udcff"]  # a lone surrogate survives too
    col = StringColumn.of(values)
    assert len(col) == 5
    assert [col[i] for i in range(5)] == values
    assert list(col) == values and col[-1] == values[-1] and col[1:3] == values[1:3]
    with pytest.raises(IndexError):
        col[5]
    empty = StringColumn.of([])
    assert len(empty) == 0 and list(empty) == []
    assert isinstance(col.offsets, np.ndarray)


_ANY_CHARACTER = st.characters(exclude_categories=())  # lone surrogates included


@given(
    st.lists(st.text(_ANY_CHARACTER, max_size=6), max_size=40), st.text(_ANY_CHARACTER, max_size=4), st.integers(0, 50)
)
def test_string_column_search_equals_bisect_on_strings(values: list[str], probe: str, lo: int) -> None:
    # Sorted strings searched as UTF-8 bytes land where bisect on the strings does (any script,
    # lone surrogates, the end-of-letter sentinel U+10FFFF), as do the letter ranges.
    import bisect

    words = sorted(set(values))
    col = StringColumn.of(words)
    lo = min(lo, len(words))
    assert sorted_position(col, probe, lo) == bisect.bisect_left(words, probe, lo)
    for letter in {w[:1] for w in words if w} | {probe[:1] or "a"}:
        assert words_starting(col, letter) == words_starting(words, letter)
        assert [col[i] for i in words_starting(col, letter)] == [w for w in words if w.startswith(letter)]


_WORDISH = st.one_of(
    st.text(_ANY_CHARACTER, max_size=7),
    # Letters of several widths, ASCII digits and other scripts' digits (\d matches them too).
    st.text(st.sampled_from("ab.éж09٣५𝟙"), max_size=7),
)


@given(st.lists(_WORDISH, max_size=40), st.integers(0, 40), st.integers(0, 40))
@example(["ab٣", "b1x", "abc", "жжж", "é5", "ab"], 0, 6)
def test_string_column_profile_counts_what_the_strings_hold(values: list[str], a: int, b: int) -> None:
    # Characters, ASCII digits and bytes outside ASCII, counted over the UTF-8 bytes, for any
    # slice of any strings (lone surrogates included), as Python counts them decoded.
    from indexer.search.suggest import _candidate_flags, _is_candidate

    col = StringColumn.of(values)
    start, stop = min(a, b, len(values)), min(max(a, b), len(values))
    chars, digits, wide = col.profile(start, stop)
    part = values[start:stop]
    assert chars.tolist() == [len(v) for v in part]
    assert digits.tolist() == [sum("0" <= c <= "9" for c in v) for v in part]
    assert wide.tolist() == [len(v.encode("utf-8", "surrogatepass")) - sum(c < "\x80" for c in v) for v in part]
    # The candidates of a spelling correction found from the bytes are those found decoded.
    span = range(start, stop)
    assert _candidate_flags(col, span).tolist() == [_is_candidate(v) for v in part]
    assert _candidate_flags(values, span).tolist() == [_is_candidate(v) for v in part]


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 60), st.integers(1, 8), st.booleans())
def test_search_loops_compiled_compute_what_numpy_does(seed: int, size: int, documents: int, wide: bool) -> None:
    # Each compiled loop of the search (search/loops.py) against numpy's, on random tables:
    # documents' rows together, masks of any density, engine records the table lacks (-1),
    # ties and auxiliary weights; the same arrays, value for value.
    from indexer.search import loops
    from indexer.search.facets import Runs

    rng = np.random.default_rng(seed)
    doc = np.sort(rng.integers(0, documents, size)).astype(np.int64 if wide else np.int32)
    mask = rng.random(size) < rng.random()
    maps = np.where(rng.random(size) < 0.2, -1, rng.permutation(size)).astype(np.int64)
    numbers = np.sort(rng.choice(size, rng.integers(0, size + 1), replace=False)).astype(np.int64)
    values = rng.integers(0, 4, len(numbers)) / 4
    weights = np.where(rng.random(size) < 0.3, 0.5, 1.0)
    lone, per_document = rng.integers(0, 5, size), rng.integers(0, 5, documents)
    runs = Runs.of(doc, mask)
    outs = []
    for compiled in (False, True):
        assert loops.use_compiled(compiled) is compiled
        try:
            scores, matched = np.full(size, 0.25), np.zeros(size, dtype=bool)
            loops.scatter_rows(maps, numbers, values, scores, matched)
            best = loops.best_per_document(
                scores, weights, runs.rows, runs.docs, runs.distinct, runs.bounds, documents
            )  # fmt: skip
            counts = loops.count_at(lone, runs.rows, 5)
            by_document = loops.count_at(per_document, runs.distinct, 5)
        finally:
            loops.use_compiled(False)
        outs.append([(a.dtype.str, a.tobytes()) for a in (scores, matched, best, counts, by_document)])
    assert outs[0] == outs[1]


def test_compiled_loops_fall_back_to_numpy_without_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without numba (or when it cannot compile), the loops stay numpy's, say why, and work.
    import sys

    from indexer.compiled import Twin
    from indexer.search import loops

    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` fails
    monkeypatch.delitem(sys.modules, "indexer.search.kernels", raising=False)
    twin = Twin(".kernels", "indexer.search", lambda kernels: None)
    assert twin.use() is False and twin.active is None and "numba" in twin.error
    broken = Twin(".no_such_kernels", "indexer.search", lambda kernels: None)
    assert broken.use() is False and "no_such_kernels" in broken.error
    monkeypatch.setattr(loops, "twin", twin)
    assert loops.count_at(np.array([0, 1, 1, 2]), np.array([1, 2, 3]), 3).tolist() == [0, 2, 1]


def test_compiled_loops_raise_on_positions_numpy_would_refuse() -> None:
    # numba does not check bounds: the loops check the positions they hand it, and raise
    # IndexError as numpy does, instead of writing elsewhere.
    from indexer.engines.tantivy import loops as engine_loops
    from indexer.search import loops

    for compiled in (False, True):
        assert loops.use_compiled(compiled) is compiled and engine_loops.use_compiled(compiled) is compiled
        try:
            with pytest.raises(IndexError):
                loops.scatter_rows(np.arange(3), np.array([1, 3]), np.ones(2), np.zeros(3), np.zeros(3, dtype=bool))
            with pytest.raises(IndexError):
                engine_loops.combine_into(np.zeros(3, dtype=bool), np.zeros(3), np.array([0, 5]), np.ones(2), False)
            with pytest.raises(IndexError):
                engine_loops.bm25_at(1.0, 2.2, np.ones(1), np.ones(3), np.array([-4]))
            with pytest.raises(IndexError):
                engine_loops.live_postings(
                    np.arange(3), np.array([0, 9], dtype=np.uint32), np.ones(2, dtype=np.uint16), 1.0,
                    np.zeros(2, dtype=np.int64), np.zeros(2), 0,
                )  # fmt: skip
        finally:
            loops.use_compiled(False)
            engine_loops.use_compiled(False)


@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.lists(st.integers(0, 4), max_size=3)),  # (document, values) per record
        max_size=40,
    ),
    st.lists(st.booleans(), min_size=40, max_size=40),
)
def test_facet_counts_are_distinct_documents_per_value(records: list, matched: list) -> None:
    """A facet's counts (read through each record's (document, value) units) are the number of
    distinct documents with a matching record carrying the value, whatever the pairs' layout."""
    from indexer.records import Values
    from indexer.search import facets as facets_module
    from indexer.search.facets import MultiFacet, Runs

    records = sorted(records, key=lambda r: r[0])  # a table's records come by document
    docs = np.asarray([d for d, _ in records], dtype=np.int64)
    names = [f"v{i}" for i in range(5)]
    values = Values(names, names)
    mask = np.asarray(matched[: len(records)], dtype=bool)
    # Several values per record; one at most (read per record); one at most, read from each
    # matching document's value where its records agree (MIXED_SHARE 1: always); one at most,
    # read from each matching record where its value is its own in its document (not by document).
    single = [(d, vs[:1]) for d, vs in records]
    layouts = [(records, 8, True), (single, 8, True), (single, 1, True), (single, 1, False)]
    share = facets_module.MIXED_SHARE
    try:
        for layout, mixed_share, by_document in layouts:
            facets_module.MIXED_SHARE = mixed_share
            pairs = sorted({(d, v, i) for i, (d, vs) in enumerate(layout) for v in vs})
            rec = np.asarray([i for _, _, i in pairs], dtype=np.int64)
            val = np.asarray([v for _, v, _ in pairs], dtype=np.int64)
            facet = MultiFacet("f", values, rec, val, docs, limit=None, size=len(layout), by_document=by_document)
            if mixed_share == 1 and len(layout):
                assert (facet.doc_val is not None) == by_document and (facet.lone_val is not None) != by_document
            expected: dict[str, set[int]] = {}
            for i, (d, vs) in enumerate(layout):
                if mask[i]:
                    for v in vs:
                        expected.setdefault(f"v{v}", set()).add(d)
            # Read from the mask through each record's units, and from the matching records by
            # document: per document, per lone record, or (with fewer pairs than matching
            # records) from the pairs.
            for runs in (None, Runs.of(docs, mask)):
                counts = {c.value: c.count for c in facet.counts(None, mask, (), runs)}  # type: ignore[arg-type]
                assert counts == {v: len(ds) for v, ds in expected.items()}
    finally:
        facets_module.MIXED_SHARE = share


def test_a_documents_records_are_one_run_of_rows(seed_index: Path) -> None:
    """The store lists a document's rows together, so the table finds a document's records as
    one run; a table whose rows are not grouped by document is refused (a saved snapshot like
    that is rebuilt from the store)."""
    store, engine = Store(seed_index), open_engine(str(seed_index))
    try:
        snap = build_snapshot(store, engine)
    finally:
        store.close()
        engine.close()
    table = snap.table
    assert len(table.doc_ids) > 3
    for d in range(len(table.doc_ids)):
        run = table.doc[table.doc_start[d] : table.doc_start[d + 1]]
        assert len(run) > 0 and (run == d).all()
    assert table.doc_start[-1] == table.size
    shuffled = dict(table.arrays, doc=table.doc[::-1].copy())
    with pytest.raises(ValueError, match="grouped by document"):
        RecordTable(shuffled, table.strings, {"size": table.size, "entries": "{}", "facets": table.facet_names})


@given(
    st.lists(
        st.tuples(st.sampled_from([0.0, 0.5, 1.25, 2.0]), st.integers(0, 2), st.booleans()),  # score, rank, auxiliary
        min_size=1,
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
def test_a_documents_records_are_ordered_by_score_then_version_then_id(records: list, rnd: Any) -> None:
    """A hit's sections, best first: adjusted score (auxiliary sections halved), then the later
    version, then record id; ties of score and version are common (equal sections, zero scores)."""
    from types import SimpleNamespace

    from indexer.search.results import AUX_WEIGHT, _order

    n = len(records)
    ids = [f"v{rank}:{i}" for i, (_, rank, _) in enumerate(records)]
    rnd.shuffle(ids)  # record ids in another order than the rows
    table = SimpleNamespace(
        version_rank=np.asarray([r for _, r, _ in records], dtype=np.int64),
        auxiliary=np.asarray([a for _, _, a in records], dtype=bool),
        record_ids=ids,
    )
    scores = np.asarray([s for s, _, _ in records])
    recs = np.asarray(sorted(rnd.sample(range(n), rnd.randint(1, n))), dtype=np.int64)
    expected = sorted(
        recs.tolist(),
        key=lambda r: (-scores[r] * (AUX_WEIGHT if table.auxiliary[r] else 1.0), -table.version_rank[r], ids[r]),
    )
    assert _order(recs, table, scores) == expected  # type: ignore[arg-type]


def test_files_beside_the_index_are_replaced_whole_and_readable_as_their_neighbour(tmp_path: Path) -> None:
    # write_npz (the record table's snapshot, tantivy's kept record order): the new file replaces
    # the old one by a rename, with the mode of the file its readers also open (a temporary file
    # is its owner's only), 0644 without one; nothing is left aside.
    neighbour = tmp_path / "store.sqlite3"
    neighbour.write_bytes(b"")
    neighbour.chmod(0o640)
    target = tmp_path / "records.npz"
    target.write_bytes(b"old")
    assert write_npz(target, {"a": np.arange(3), "b": np.zeros(2)}, mode_of=neighbour) == target
    with np.load(target) as z:
        assert {k: z[k].tolist() for k in z.files} == {"a": [0, 1, 2], "b": [0.0, 0.0]}
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    write_npz(target, {"a": np.arange(1)}, mode_of=tmp_path / "missing")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records.npz", "store.sqlite3"]
