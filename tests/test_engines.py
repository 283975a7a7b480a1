"""Choosing an engine, and what the engines must agree on: the same matches and the same ranking."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from indexer.analysis import analyzer_for
from indexer.cli import cli
from indexer.engines import ENGINE_FILE, engine_names, index_engine, open_engine
from indexer.errors import EngineMismatchError
from indexer.pipeline import index_paths
from indexer.search import Searcher, SearchRequest
from indexer.store import Store
from indexer.writer import records_for_document
from tests.conftest import CORPUS, settings_for, zip_with_method

# Every construct of the query language (indexer/search/query.py) on corpus/.
QUERIES = [
    "harbour bridge",
    '"harbour bridge"',
    "harbour AND tram",
    "ferry OR tram",
    "tram -depot",
    "NOT bridge",
    "+steamer harbour",
    "title:bridge",
    "heading:history",
    'text:"tram line"',
    'title:"harbour bridge"',
    "status:active",
    "operator:velmora",
    "bridg*",
    "fery~",
    "brige~2",
    "date:1931",
    "date:1930..1935",
    "date:..1900",
    "date:2023-05",
    "lang:fr pont",
    "pont",
    "type:html lantern",
    "section:history tram",
    "(ferry OR steamer) NOT estuary",
    " ".join(["the ferry across the estuary carried the passengers and the post over the water"] * 6),
]


@pytest.fixture
def no_engine_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PALIMPSEST_ENGINE", raising=False)


def _index(runner: CliRunner, ix: Path, *extra: str) -> Any:
    return runner.invoke(cli, ["index", str(CORPUS), "--index-dir", str(ix), "--workers", "1", *extra])


@pytest.mark.usefixtures("no_engine_env")
def test_the_engine_is_chosen_when_the_index_is_created_and_kept(tmp_path: Path, runner: CliRunner) -> None:
    ix = tmp_path / "ix"
    assert _index(runner, ix, "--engine", "tantivy").exit_code == 0
    assert (ix / ENGINE_FILE).read_text() == "tantivy\n"
    stats = json.loads(runner.invoke(cli, ["stats", "--index-dir", str(ix), "--json"]).output)
    assert (stats["engine"], stats["documents"], stats["sections"]) == ("tantivy", 5, 33)
    assert "engine: tantivy" in runner.invoke(cli, ["stats", "--index-dir", str(ix)]).output.splitlines()
    # Later runs use the index's engine without being told.
    again = json.loads(_index(runner, ix, "--json").output)
    assert (again["unchanged"], again["documents"]) == (7, 5)
    assert index_engine(ix) == "tantivy"
    # Another engine, asked for by option or by environment, is refused before anything is written.
    message = (
        f"palimpsest: error: index at {ix} was created with the tantivy engine, not whoosh; leave out --engine "
        "(and $PALIMPSEST_ENGINE) to use it, or index into a new --index-dir"
    )
    refused = _index(runner, ix, "--engine", "whoosh")
    assert (refused.exit_code, refused.output.strip()) == (1, message)
    refused = runner.invoke(cli, ["index", str(CORPUS), "--index-dir", str(ix)], env={"PALIMPSEST_ENGINE": "whoosh"})
    assert (refused.exit_code, refused.output.strip()) == (1, message)
    assert not (ix / "whoosh").exists()
    with pytest.raises(EngineMismatchError):
        open_engine(str(ix), name="whoosh")
    # Search, the web app and verify read the engine from the index.
    with Searcher(ix) as s:
        assert s.engine.name == "tantivy"
        assert [h.title for h in s.search(SearchRequest(q="lantern")).hits] == ["Lantern Festival returns to the quays"]
    assert json.loads(runner.invoke(cli, ["verify", "--index-dir", str(ix), "--json"]).output)["ok"] is True


@pytest.mark.usefixtures("no_engine_env")
def test_whoosh_is_the_default_and_an_older_index_is_whooshs(tmp_path: Path, runner: CliRunner) -> None:
    ix = tmp_path / "ix"
    assert _index(runner, ix).exit_code == 0
    assert (ix / ENGINE_FILE).read_text() == "whoosh\n"
    (ix / ENGINE_FILE).unlink()  # an index written before the engine's name was kept
    assert index_engine(ix) == "whoosh"
    assert _index(runner, ix, "--engine", "whoosh").exit_code == 0
    refused = _index(runner, ix, "--engine", "tantivy")
    assert refused.exit_code == 1 and "created with the whoosh engine, not tantivy" in refused.output
    unknown = _index(runner, tmp_path / "other", "--engine", "lucene")
    assert unknown.exit_code == 2 and "'lucene' is not one of 'whoosh', 'tantivy', 'xapian'" in unknown.output
    assert engine_names()[0] == "whoosh"


def _ranked(ix: Path, q: str) -> tuple[int, list[tuple[str, str, float]], list[Any]]:
    with Searcher(ix) as s:
        page = s.search(SearchRequest(q=q, limit=20))
        facets = {k: [c.to_json() for c in v] for k, v in page.facets.items()}
        return page.total, [(h.doc_id, h.breadcrumb, h.score) for h in page.hits], [facets, page.suggestion]


# The engines that rank with the product's BM25F (Xapian ranks BM25: tests/test_xapian.py checks
# that it matches the same records and how much its ranking agrees).
BM25F_ENGINES = [name for name in engine_names() if name != "xapian"]


def test_every_engine_finds_and_ranks_alike(tmp_path: Path) -> None:
    """Each query construct matches the same records on every BM25F engine, and ranks the documents
    in the same order with scores within 6 % (Whoosh keeps field lengths as one-byte approximations,
    up to 5 % off)."""
    indexes = {}
    for name in BM25F_ENGINES:
        indexes[name] = tmp_path / name
        index_paths([CORPUS], settings_for(indexes[name], engine=name))
    reference, *others = BM25F_ENGINES
    for q in QUERIES:
        engines = {name: open_engine(str(ix)) for name, ix in indexes.items()}
        with Searcher(indexes[reference]) as s:
            tree = s.parse(q).tree
        matched = {}
        for name, engine in engines.items():
            for latest in (True, False):
                ids = engine.record_id_column()
                matched[name, latest] = sorted(ids[n] for n in engine.match(tree, latest_only=latest))
            engine.close()
        for name in others:
            assert matched[name, True] == matched[reference, True], (q, name)
            assert matched[name, False] == matched[reference, False], (q, name)
        total, hits, rest = _ranked(indexes[reference], q)
        for name in others:
            total_o, hits_o, rest_o = _ranked(indexes[name], q)
            assert (total_o, rest_o) == (total, rest), (q, name)
            assert [h[:2] for h in hits_o] == [h[:2] for h in hits], (q, name)
            assert np.allclose([h[2] for h in hits_o], [h[2] for h in hits], rtol=0.06), (q, name)


@pytest.mark.engine("tantivy")
def test_tantivy_frequencies_read_back_from_scores_are_the_weighted_counts(seed_index: Path) -> None:
    """tantivy-py gives scores, not postings: the engine reads each posting's frequency back from
    tantivy's BM25 score (engines/tantivy/postings.py). They must be the zones' weighted counts."""
    store = Store(seed_index)
    expected: dict[str, Counter[str]] = {}
    titles: dict[str, Counter[str]] = {}
    for doc_id in store.doc_ids():
        for record in records_for_document(store, doc_id):
            a = analyzer_for(record.language)
            weighted: Counter[str] = Counter()
            for zone in record.zones:
                for term in a.terms(zone.text):
                    weighted[term] += zone.weight
            expected[record.record_id] = weighted
            titles[record.record_id] = Counter(a.terms(record.title))
    store.close()
    engine = open_engine(str(seed_index))
    view = engine._view()  # type: ignore[attr-defined]
    ids = engine.record_id_column()
    checked = 0
    for term in ("armenia", "azerbaijan", "ceasefir", "lachin", "jermuk", "russia", "the", "2022"):
        numbers, weights = engine._term(view, "bodyw", term)  # type: ignore[attr-defined]
        have = {ids[n]: w for n, w in zip(numbers.tolist(), weights.tolist(), strict=True)}
        want = {rid: c[term] for rid, c in expected.items() if c[term]}
        assert have == want, term
        numbers, weights = engine._term(view, "title", term)  # type: ignore[attr-defined]
        have = {ids[n]: w for n, w in zip(numbers.tolist(), weights.tolist(), strict=True)}
        assert have == {rid: c[term] for rid, c in titles.items() if c[term]}, term
        checked += len(want)
    assert checked > 300
    engine.close()


def _write_generated(folder: Path, names: range, salt: int = 0) -> None:
    """Plain-text documents over a small vocabulary: common words span several posting blocks."""
    import random

    words = ["harbour", "crane", "ferry", "estuary", "salt", "bridge", "tide", "pier", "cargo", "lantern",
             "river", "mooring", "dock", "keeper", "ledger", "signal", "storm", "quay", "rope", "winch"]  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        rng = random.Random(n * 1000 + salt)
        paras = [" ".join(rng.choice(words) for _ in range(rng.randint(20, 60))) + "." for _ in range(3)]
        (folder / f"doc{n:04d}.txt").write_text(f"Record {n}\n\n" + "\n\n".join(paras) + "\n", encoding="utf-8")


def _evaluations_by_id(index_dir: Path, queries: list[str], pages: bool = False) -> list[Any]:
    """Each query's matches as {record id: score} (record numbers depend on the numbering), in
    every version and in the latest only; with `pages`, also each query's result page as JSON
    (hits, totals, facets, suggestion)."""
    searcher = Searcher(index_dir)
    try:
        ids = searcher.engine.record_id_column()
        out: list[Any] = []
        for q in queries:
            for latest in (False, True):
                numbers, scores = searcher.engine.evaluate(searcher.parse(q).tree, latest_only=latest)
                out.append({ids[n]: s for n, s in zip(numbers.tolist(), scores.tolist(), strict=True)})
            if pages:
                page = searcher.search(SearchRequest(q=q, limit=20)).to_json()
                page.pop("took_ms", None)
                out.append(page)
        return out
    finally:
        searcher.close()


def _index_with_replacements(docs: Path, index_dir: Path, engine: str) -> None:
    """Two runs: 300 generated documents, then a new version of 40 of them (their records
    replaced) and 60 more."""
    _write_generated(docs, range(300))
    index_paths([docs], settings_for(index_dir, engine=engine))
    for n in range(40):
        path = docs / f"doc{n:04d}.txt"
        path.write_text(path.read_text(encoding="utf-8") + "\nThe keeper rang the storm signal.\n", encoding="utf-8")
    _write_generated(docs, range(300, 360))
    index_paths([docs], settings_for(index_dir, engine=engine))


@pytest.mark.engine("whoosh")
def test_whoosh_flat_postings_files_give_the_same_results(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each segment's body postings are written beside it after a commit (flatpostings.py) and
    # read from there; without the files (deleted, truncated, never written) the segment is read
    # through Whoosh, with the same results. Deletions (a changed document) and merges (later runs)
    # leave one file per live segment.
    from indexer.engines.whoosh import flatpostings

    monkeypatch.setattr(flatpostings, "MIN_RECORDS", 0)  # every segment of this small index has one
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    _index_with_replacements(docs, index_dir, engine)
    slot = next(p for p in index_dir.iterdir() if p.is_dir() and p.name.startswith("whoosh"))
    ix = open_engine(index_dir)
    try:
        reader = ix._searcher().reader()
        assert reader.has_deletions()
        segments = (
            {sub.segment().segment_id() for sub, _ in reader.leaf_readers()}
            if not reader.is_atomic()
            else {reader.segment().segment_id()}
        )
    finally:
        ix.close()
    files = sorted(slot.glob("*" + flatpostings.SUFFIX))
    assert {f.name.removesuffix(flatpostings.SUFFIX) for f in files} == segments
    queries = ["harbour", "crane ferry", "lantern OR keeper", '"salt estuary"', "tide -storm", "quay rope winch dock"]
    with_files = _evaluations_by_id(index_dir, queries)
    assert all(with_files[::2])  # every query matches in some version
    files[0].write_bytes(files[0].read_bytes()[: len(files[0].read_bytes()) // 2])  # truncated: ignored
    assert _evaluations_by_id(index_dir, queries) == with_files
    for f in files:
        f.unlink()
    assert _evaluations_by_id(index_dir, queries) == with_files
    _write_generated(docs, range(360, 370))
    index_paths([docs], settings_for(index_dir, engine=engine))  # the next commit writes them all
    assert len(list(slot.glob("*" + flatpostings.SUFFIX))) >= 1
    ix = open_engine(index_dir)
    try:
        reader = ix._searcher().reader()
        subs = [sub for sub, _ in reader.leaf_readers()] if not reader.is_atomic() else [reader]
        for sub in subs:
            assert flatpostings.path_for(slot, sub.segment().segment_id()).exists()
    finally:
        ix.close()


@pytest.mark.engine("tantivy")
def test_tantivy_bulk_postings_give_the_same_results(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each batch's body and facet postings are written beside tantivy before its commit and merged
    # after it (bulk.py); a generation whose deltas do not cover every live record reads tantivy's
    # hit lists instead, with the same matches and scores. Replaced documents leave dead seqs, which
    # merges drop; a run killed between its delta and tantivy's commit leaves a delta no live
    # record uses.
    from indexer.engines.tantivy import bulk, postings

    monkeypatch.setattr(bulk, "MAX_DELTAS", 2)
    monkeypatch.setattr(postings, "SEQ_PAGE", 7)  # live records listed 7 at a time
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    _index_with_replacements(docs, index_dir, engine)
    slot = next(p for p in index_dir.iterdir() if p.is_dir() and p.name.startswith("tantivy"))
    folder = slot / bulk.FOLDER
    # A run killed after writing its delta, before tantivy's commit.
    ix = open_engine(index_dir)
    batch = ix.begin()
    store = Store(index_dir)
    batch.add(records_for_document(store, store.doc_ids()[0])[0])
    store.close()
    batch._bulk.write()  # type: ignore[attr-defined]
    batch.cancel()
    ix.close()
    _write_generated(docs, range(360, 370))
    index_paths([docs], settings_for(index_dir, engine=engine))
    used, rest = bulk.chain(folder)
    assert len(used) <= 2 and not rest and used[0][0] == 0
    merged = bulk.Delta(used[-1][2], used[-1][0], used[-1][1])
    assert "" in list(merged.ids)  # the killed run's seq was dropped when merging
    lang = next(iter(open_engine(index_dir).languages()))
    queries = ["harbour", "crane ferry", "lantern OR keeper", '"salt estuary"', "tide -rang", "quay rope winch dock",
               f"lang:{lang} keeper", f"lang:{lang}", "storm signal", "harb*", "harbor~", "keeper signal storm"]  # fmt: skip
    searcher = Searcher(index_dir)
    view = searcher.engine._view()  # type: ignore[attr-defined]
    assert view.bulk is not None and len(view.seqs) == view.live_count > 300
    assert bool(np.all(np.diff(view.seqs) > 0))
    ids = view.record_ids()  # read from the deltas: the ids tantivy stores, in the same numbering
    assert list(ids) == [ids[n] for n in range(len(ids))] == view.stored_record_ids()
    searcher.close()
    with_bulk = _evaluations_by_id(index_dir, queries, pages=True)
    assert [q for n, q in enumerate(queries) if not all(with_bulk[3 * n : 3 * n + 3])] == []
    assert len(with_bulk[0]) > len(with_bulk[1]) > 300  # every version, the latest
    with _compiled_loops():  # the same postings, dead seqs left out, in one compiled pass
        assert _evaluations_by_id(index_dir, queries, pages=True) == with_bulk
    latest = Searcher(index_dir)
    total = latest.search(SearchRequest(q="keeper", limit=5)).total
    latest.close()
    shutil.rmtree(used[-1][2])  # the deltas no longer cover every live record: tantivy's hit lists
    searcher = Searcher(index_dir)
    assert searcher.engine._view().bulk is None  # type: ignore[attr-defined]
    assert searcher.search(SearchRequest(q="keeper", limit=5)).total == total
    searcher.close()
    assert _evaluations_by_id(index_dir, queries, pages=True) == with_bulk


@pytest.mark.engine("tantivy")
def test_tantivy_kept_order_numbers_the_records_as_tantivy_does(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After each commit the writer keeps the generation's order of live records by seq beside it
    # (order.py), and a process opening that generation reads it instead of listing every hit.
    # Only its own generation's, whole, and when tantivy agrees with it: an order cut short,
    # changed, unreadable as a zip, missing, of other records or another generation's is listed
    # again, with the same numbering and results. The next commit replaces it and removes a killed
    # writer's leftovers; a rebuilt slot keeps its own.
    from indexer.engines.tantivy import order, postings
    from indexer.pipeline import rebuild

    monkeypatch.setattr(postings, "SEQ_PAGE", 7)
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    _index_with_replacements(docs, index_dir, engine)  # replaced documents: deleted records
    slot = next(p for p in index_dir.iterdir() if p.is_dir() and p.name.startswith("tantivy"))
    kept = sorted(slot.glob("seq-order-*.npz"))
    assert len(kept) == 1  # the current generation's only
    listed: list[int] = []
    names: list[tuple[Path, str]] = []  # (slot, the kept order's name for its generation) per numbering
    real = postings.records_by_seq
    monkeypatch.setattr(postings, "records_by_seq", lambda *a: listed.append(1) or real(*a))

    def numbering() -> tuple[Any, ...]:
        searcher = Searcher(index_dir)
        try:
            view = searcher.engine._view()  # type: ignore[attr-defined]
            assert view.bulk is not None and view.live_count > 300
            names.append((view_slot(searcher), f"seq-order-{view.key:016x}.npz"))
            return view.seqs.tolist(), view._rank.tolist(), list(view.record_ids())
        finally:
            searcher.close()

    def view_slot(searcher: Searcher) -> Path:
        return searcher.engine.path  # type: ignore[attr-defined,no-any-return]

    queries = ["harbour", "crane ferry", "lantern OR keeper", '"salt estuary"', "tide -rang", "storm signal", "harb*"]
    from_file = (numbering(), _evaluations_by_id(index_dir, queries, pages=True))
    assert not listed  # read from the kept order
    assert names == [(slot, kept[0].name)]
    data = kept[0].read_bytes()
    with np.load(kept[0]) as z:
        arrays = {name: z[name] for name in z.files}
    # Changed: two records of a segment swapped where the records read back do not look.
    n_live = len(arrays["seqs"])
    checked = set(np.linspace(0, n_live - 1, min(n_live, order.ORDER_CHECKS)).astype(int).tolist())
    i = next(i for i in range(n_live - 1) if not {i, i + 1} & checked and arrays["segs"][i] == arrays["segs"][i + 1])
    swapped = arrays["docs"].copy()
    swapped[[i, i + 1]] = swapped[[i + 1, i]]
    changed = tmp_path / "changed.npz"
    np.savez(changed, **{**arrays, "docs": swapped})
    # cut short, changed, a compression method zipfile does not know (NotImplementedError), missing
    damaged = [data[: len(data) // 2], changed.read_bytes(), zip_with_method(data, 99), None]
    for n, content in enumerate(damaged):
        listed.clear()
        if content is None:
            kept[0].unlink()
        else:
            kept[0].write_bytes(content)
        assert (numbering(), _evaluations_by_id(index_dir, queries, pages=True)) == from_file, n
        assert listed, n
    # An order whose checksum holds but whose records are not where tantivy has them (another
    # generation's, say): refused by the records read back.
    searcher = Searcher(index_dir)
    view = searcher.engine._view()  # type: ignore[attr-defined]
    moved = (arrays["seqs"], arrays["segs"], np.roll(arrays["docs"], 1))
    order.save_seq_order(slot, view.key, moved)
    assert order.load_seq_order(slot, view.key, view.searcher, view.live_count) is None
    order.save_seq_order(slot, view.key, (arrays["seqs"], arrays["segs"], arrays["docs"]))
    got = order.load_seq_order(slot, view.key, view.searcher, view.live_count)
    assert got is not None and [a.tolist() for a in got] == [arrays[k].tolist() for k in ("seqs", "segs", "docs")]
    assert order.load_seq_order(slot, view.key + 1, view.searcher, view.live_count) is None  # another key
    searcher.close()
    (slot / ".seq-order-killed.npz").write_bytes(b"partial")  # a writer killed while writing one
    _write_generated(docs, range(360, 370))
    index_paths([docs], settings_for(index_dir, engine=engine))
    after = sorted(p.name for p in slot.iterdir() if "seq-order" in p.name)
    assert len(after) == 1 and after != [kept[0].name]
    listed.clear()
    rebuild(settings_for(index_dir, engine=engine))  # a new slot, swapped in
    names.clear()
    rebuilt = (numbering(), _evaluations_by_id(index_dir, queries, pages=True))
    new_slot, name = names[0]
    assert new_slot != slot and [p.name for p in new_slot.glob("seq-order-*.npz")] == [name]
    assert not listed
    (new_slot / name).unlink()
    assert (numbering(), _evaluations_by_id(index_dir, queries, pages=True)) == rebuilt
    assert listed


@pytest.mark.engine("tantivy")
def test_tantivy_cached_word_scores_are_the_scores(
    engine: str, seed_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A word's BM25 at boost 1 is kept across queries (per field and term): the same scores as
    # computed afresh for every query, whatever the order of the queries.
    from indexer.engines.tantivy import evaluate

    queries = ["armenia azerbaijan", '"border crisis"', "title:armenia armenia", "heading:history", "ceasefir*",
               "lachin~", "russia", "title:russia", "text:russia", "heading:russia", "date:2022 border", "ceasefire -russia",
               "the ceasefire between armenia and azerbaijan was broken along the border near jermuk"]  # fmt: skip
    backwards = _evaluations_by_id(seed_index, queries[::-1])  # two evaluations per query
    cached = [
        _evaluations_by_id(seed_index, queries),
        [e for n in range(len(queries) - 1, -1, -1) for e in backwards[2 * n : 2 * n + 2]],
    ]
    monkeypatch.setattr(
        evaluate.Evaluator, "_scores", lambda self, q, ids, weights: self.bm25(q.field, q.text, ids, weights, q.boost)
    )
    fresh = _evaluations_by_id(seed_index, queries)
    assert cached[0] == fresh == cached[1]
    assert sum(len(found) for found in fresh) > 200


@pytest.mark.engine("tantivy")
def test_tantivy_generation_older_than_a_compaction_does_not_read_its_merged_deltas(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A reader takes generation G's searcher; before it opens the deltas, a writer commits G+1 and
    # merges, dropping the seqs G+1 deleted but G still has. The generation must not read those
    # postings from the merged delta (its records would match nothing and have no id).
    from indexer.engines.tantivy import bulk
    from indexer.engines.tantivy.postings import View, term_postings

    monkeypatch.setattr(bulk, "MAX_DELTAS", 1)
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    _write_generated(docs, range(20))
    index_paths([docs], settings_for(index_dir, engine=engine))
    _write_generated(docs, range(20, 30))
    index_paths([docs], settings_for(index_dir, engine=engine))
    searcher = Searcher(index_dir)
    try:
        ix = searcher.engine
        folder = ix.path / bulk.FOLDER  # type: ignore[attr-defined]
        ix.ix.reload()  # type: ignore[attr-defined]
        generation = ix.ix.searcher()  # type: ignore[attr-defined]
        expected = View(0, generation, ix.schema, ix.path)  # type: ignore[attr-defined]
        assert expected.bulk is not None
        want = sorted(expected.record_ids()[n] for n in term_postings(expected, "bodyw", "harbour", True)[0].tolist())
        for n in range(30):  # every document replaced, then the deltas merged without the old seqs
            path = docs / f"doc{n:04d}.txt"
            path.write_text(path.read_text(encoding="utf-8") + "\nThe keeper rang.\n", encoding="utf-8")
        index_paths([docs], settings_for(index_dir, engine=engine))
        assert len(bulk.chain(folder)[0]) == 1
        late = View(1, generation, ix.schema, ix.path)  # type: ignore[attr-defined]
        ids = late.record_ids()
        assert all(ids)
        got = sorted(ids[n] for n in term_postings(late, "bodyw", "harbour", True)[0].tolist())
        assert got == want and len(got) > 10
    finally:
        searcher.close()


@pytest.mark.engine("tantivy")
@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_tantivy_damaged_delta_falls_back_to_hit_lists(
    engine: str, damage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A delta in the chain with a file missing or cut short: search reads tantivy's hit lists
    # (the same results) and the next runs, which merge deltas, complete.
    from indexer.engines.tantivy import bulk

    monkeypatch.setattr(bulk, "MAX_DELTAS", 2)
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    for part in range(3):
        _write_generated(docs, range(part * 20, part * 20 + 20))
        index_paths([docs], settings_for(index_dir, engine=engine))
    queries = ["harbour", "crane ferry", "lantern OR keeper", f"lang:{next(iter(open_engine(index_dir).languages()))}"]
    before = _evaluations_by_id(index_dir, queries)
    slot = next(p for p in index_dir.iterdir() if p.is_dir() and p.name.startswith("tantivy"))
    first = bulk.chain(slot / bulk.FOLDER)[0][0][2]
    if damage == "missing":
        (first / "seqs").unlink()
    else:
        data = (first / "tfs").read_bytes()
        (first / "tfs").write_bytes(data[: len(data) // 2 + 1])
    searcher = Searcher(index_dir)
    try:
        assert searcher.engine._view().bulk is None  # type: ignore[attr-defined]
        assert searcher.search(SearchRequest(q="harbour")).total == len(before[0])
    finally:
        searcher.close()
    assert _evaluations_by_id(index_dir, queries) == before
    for part in range(3, 6):
        _write_generated(docs, range(part * 20, part * 20 + 20))
        index_paths([docs], settings_for(index_dir, engine=engine))
    searcher = Searcher(index_dir)
    try:
        assert searcher.search(SearchRequest(q="harbour", latest_only=False)).total > len(before[0])
    finally:
        searcher.close()


def test_tantivy_bulk_deltas_chain_from_zero_and_prefer_a_merged_one(tmp_path: Path) -> None:
    from indexer.engines.tantivy import bulk

    for name in ("000000000000-000000000010", "000000000000-000000000004", "000000000004-000000000010",
                 "000000000010-000000000012", "000000000015-000000000020", ".tmp-000000000012-000000000015-1"):  # fmt: skip
        (tmp_path / name).mkdir()
    used, rest = bulk.chain(tmp_path)
    assert [(f, e) for f, e, _p in used] == [(0, 10), (10, 12)]
    assert sorted(p.name for p in rest) == [
        "000000000000-000000000004",
        "000000000004-000000000010",
        "000000000015-000000000020",
    ]
    assert bulk.next_seq(tmp_path) == 20


@pytest.mark.engine("whoosh")
def test_whoosh_small_segments_have_no_flat_postings_file(seed_index: Path) -> None:
    # Below MIN_RECORDS records a segment is read through Whoosh (writing the file would cost more
    # than it saves); the seeds' index is one small segment.
    from indexer.engines.whoosh import flatpostings

    assert not list(seed_index.glob("whoosh*/*" + flatpostings.SUFFIX))


def test_tantivy_bulk_delta_finds_every_key_and_no_other(tmp_path: Path) -> None:
    import random

    from indexer.engines.tantivy import bulk

    rng = random.Random(7)
    words = sorted({"".join(rng.choice("abcdeéz\x1f") for _ in range(rng.randint(1, 6))) for _ in range(900)})
    present, absent = words[::2], words[1::2]
    writer = bulk.DeltaWriter(tmp_path)
    for n in range(40):
        terms = {w: 1 + (n + i) % 3 for i, w in enumerate(present) if (n + i) % 7 == 0}
        writer.add(f"r{n}", n % 2 == 0, len(terms), {"bodyw": terms, "facet": {"language:en": 1}})
    path = writer.write()
    assert path is not None
    delta = bulk.Delta(path, 0, 40)
    assert len(delta.keys) == len(present) + 1 > 4 * bulk._STRIDE
    for i, w in enumerate(present):
        span = delta.find(bulk.key("bodyw", w))
        assert span is not None, w
        seqs = delta.seqs[span[0] : span[1]].tolist()
        assert seqs == [n for n in range(40) if (n + i) % 7 == 0], w
    for w in [*absent, "", "\uffff"]:
        assert delta.find(bulk.key("bodyw", w)) is None, w
    assert delta.find(bulk.key("facet", "language:en")) == (len(delta.seqs) - 40, len(delta.seqs))
    assert list(delta.ids) == [f"r{n}" for n in range(40)]


def test_tantivy_bulk_merge_keeps_the_live_postings_of_both_deltas(tmp_path: Path) -> None:
    import random

    from indexer.engines.tantivy import bulk

    rng = random.Random(11)
    vocabulary = [f"w{n:03d}" for n in range(300)] + ["é", "z\x1fz", "ä"]
    expected: dict[str, list[tuple[int, int]]] = {}
    paths = []
    for first in (0, 25):
        writer = bulk.DeltaWriter(tmp_path)
        assert writer.first == first
        for seq in range(first, first + 25):
            terms = {w: rng.randint(1, 4) for w in rng.sample(vocabulary, 40)}
            writer.add(f"id{seq}", seq % 3 == 0, seq * 2, {"bodyw": terms})
            for w, n in terms.items():
                expected.setdefault(w, []).append((seq, n))
        paths.append(writer.write())
    a, b = (bulk.Delta(p, f, f + 25) for p, f in zip(paths, (0, 25), strict=True))
    live = np.ones(50, dtype=bool)
    live[[0, 7, 24, 25, 31, 49]] = False
    merged = bulk.Delta(bulk.merge(tmp_path, a, b, live), 0, 50)
    assert list(merged.ids) == [f"id{s}" if live[s] else "" for s in range(50)]
    assert merged.latest.tolist() == [int(s % 3 == 0) for s in range(50)]
    assert merged.lengths.tolist() == [s * 2 for s in range(50)]
    found = 0
    for w in vocabulary:
        want = [(s, n) for s, n in expected.get(w, []) if live[s]]
        span = merged.find(bulk.key("bodyw", w))
        if not want:
            assert span is None, w
            continue
        assert span is not None, w
        got = list(zip(merged.seqs[span[0] : span[1]].tolist(), merged.tfs[span[0] : span[1]].tolist(), strict=True))
        assert got == want, w
        found += 1
    assert found > 250 and len(merged.keys) == found


# -- the tantivy evaluator: lists where they are cheaper, arrays where they are, the same result --

_EVAL_SIZE = 400
_EVAL_WORDS = {  # word -> how many records have it: some rare (kept as lists), some common
    "a": 3, "b": 9, "c": 20, "d": 45, "e": 120, "f": 260, "g": 380,
}  # fmt: skip


def _eval_postings() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    out = {}
    for word, n in _EVAL_WORDS.items():
        ids = np.sort(rng.choice(_EVAL_SIZE, n, replace=False)).astype(np.int64)
        out[word] = (ids, rng.integers(1, 6, n).astype(np.float64))
    return out


def _plans() -> Any:
    from hypothesis import strategies as st

    from indexer.engines.tantivy import evaluate as ev

    word = st.sampled_from(sorted(_EVAL_WORDS))
    boost = st.sampled_from([1.0, 1.0, 0.5, 2.0])
    leaves = st.one_of(
        st.builds(lambda w, b: ev.TermQ("bodyw", w, boost=b), word, boost),
        st.builds(lambda ws: ev.PhraseQ("body", ws), st.lists(word, min_size=2, max_size=3)),
        st.builds(lambda lo: ev.RangeQ("day", lo, lo + 150), st.integers(0, 300)),
        st.just(ev.Every()),
        st.just(ev.Nothing()),
    )

    def branches(children: Any) -> Any:
        subs = st.lists(children, min_size=1, max_size=4)
        return st.one_of(
            st.builds(lambda s, b: ev.AnyQ(s, boost=b), subs, boost),
            st.builds(lambda s, b: ev.AllQ(s, boost=b), subs, boost),
            st.builds(ev.BestOf, subs),
            st.builds(ev.AndMaybe, children, children),
            st.builds(lambda r, p: ev.AndMaybe(r, ev.Bonus(p)), children, leaves),
            st.builds(ev.Bonus, children),
            # A part shared by two parents, one of which adds to its scores.
            st.builds(lambda r, p: ev.AnyQ([ev.AndMaybe(r, ev.Bonus(p)), r]), children, leaves),
            st.builds(ev.AndNot, children, children),
            st.builds(ev.ZeroScore, children),
        )

    return st.recursive(leaves, branches, max_leaves=10)


def _reference(plan: Any, postings: dict, lengths: np.ndarray, phrases: Any, ranges: Any) -> tuple:
    """The plan's (mask, scores) over every record, node by node with record-sized arrays: what
    the evaluator computed before it kept lists, written plainly."""
    from indexer.engines import ranking
    from indexer.engines.tantivy import evaluate as ev

    n = _EVAL_SIZE
    average = float(lengths.mean())

    def word_scores(word: str, ids: np.ndarray, weights: np.ndarray, boost: float) -> np.ndarray:
        # Okapi BM25 written out (the engine computes the length normalisation once per
        # generation and the rest in place: the same operations in the same order).
        idf = ranking.okapi_idf(n, len(postings[word][0]))
        k1, b = ranking.BM25_K1, ranking.BM25_B
        return boost * idf * weights * (k1 + 1) / (weights + k1 * (1 - b + b * lengths[ids] / average))  # type: ignore[no-any-return]

    def run(q: Any, among: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        mask, scores = np.zeros(n, dtype=bool), np.zeros(n)
        if isinstance(q, ev.TermQ):
            ids, weights = postings[q.text]
            mask[ids] = True
            scores[ids] = word_scores(q.text, ids, weights, q.boost)
            return mask, scores
        if isinstance(q, (ev.AnyQ, ev.BestOf)):
            for sub in q.subs:
                m, s = run(sub, among)
                mask |= m
                scores = np.maximum(scores, s) if isinstance(q, ev.BestOf) else scores + s
        elif isinstance(q, ev.AllQ):
            mask[:] = True
            for sub in q.subs:
                m, s = run(sub, among)
                mask &= m
                scores = scores + s
            scores = np.where(mask, scores, 0.0)
        elif isinstance(q, ev.AndMaybe):
            mask, scores = run(q.required, among)
            if isinstance(q.optional, ev.Bonus):
                idx = np.flatnonzero(mask)
                if len(idx) > ranking.PROXIMITY_CANDIDATES:
                    idx = idx[
                        np.argpartition(-scores[idx], ranking.PROXIMITY_CANDIDATES - 1)[: ranking.PROXIMITY_CANDIDATES]
                    ]
                among = np.zeros(n, dtype=bool)
                among[idx] = True
            m, s = run(q.optional, among)
            scores = scores + np.where(mask & m, s, 0.0)
        elif isinstance(q, ev.AndNot):
            mask, scores = run(q.positive, among)
            excluded = run(q.negative, among)[0]
            mask, scores = mask & ~excluded, np.where(excluded, 0.0, scores)
        elif isinstance(q, ev.ZeroScore):
            mask = run(q.child, among)[0]
        elif isinstance(q, ev.Bonus):
            mask, scores = run(q.child, among)
        elif isinstance(q, ev.Every):
            mask[:] = True
        elif isinstance(q, ev.PhraseQ):
            found = np.asarray(phrases(q), dtype=np.int64)
            if among is not None:
                found = found[among[found]]
            mask[found] = True
            for word in q.words:
                ids, weights = postings[word]
                scores[found] += word_scores(word, found, weights[np.searchsorted(ids, found)], 1.0)
        elif isinstance(q, ev.RangeQ):
            mask[ranges(q)] = True
        if q.boost != 1.0 and not isinstance(q, ev.TermQ):
            scores = scores * q.boost
        return mask, scores

    return run(plan, None)


@pytest.mark.parametrize("compiled", [False, True], ids=["numpy", "compiled"])
def test_tantivy_evaluator_lists_and_arrays_give_the_same_matches_and_scores(compiled: bool) -> None:
    # The evaluator keeps a node's matches as a sorted list while that is cheaper and as
    # record-sized arrays otherwise (a union of many postings); every mix of the two must give
    # exactly the records and scores of evaluating every node over every record, with numpy's
    # loops and with the compiled ones (loops.py).
    from hypothesis import example, given, settings

    from indexer.engines import ranking
    from indexer.engines.tantivy import evaluate as ev

    postings = _eval_postings()
    lengths = np.random.default_rng(3).integers(5, 200, _EVAL_SIZE).astype(np.float64)
    rng = np.random.default_rng(11)
    phrase_found: dict[tuple[str, ...], np.ndarray] = {}

    def phrases(q: Any, among: np.ndarray | None = None) -> np.ndarray:
        key = tuple(q.words)
        if key not in phrase_found:  # some records having every word, in tantivy's hit order
            having = postings[q.words[0]][0]
            for w in q.words[1:]:
                having = np.intersect1d(having, postings[w][0])
            phrase_found[key] = rng.permutation(having)[: (len(having) + 1) // 2]
        found = phrase_found[key]
        return found if among is None else found[np.isin(found, among)]  # (only those asked about)

    def ranges(q: Any) -> np.ndarray:
        return np.arange(q.lo, min(q.hi, _EVAL_SIZE))[::-1]

    def evaluator(scoring: bool = True) -> Any:
        return ev.Evaluator(
            _EVAL_SIZE, _EVAL_SIZE, lambda f, t: postings[t], lambda f: ranking.length_norm(lengths, float(lengths.mean())),
            phrases, ranges, lambda f: f == "bodyw", lambda f, t: len(postings[t][0]), scoring=scoring,
        )  # fmt: skip

    seen = {"lists": 0, "arrays": 0}

    # A union read by two parents through a bonus: adding to its scores in place would change
    # what the second parent reads (the bonus passes its child's arrays on, not as its own).
    union = ev.AnyQ([ev.TermQ("bodyw", "g"), ev.TermQ("bodyw", "f")])
    shared = ev.AnyQ([ev.AndMaybe(ev.Bonus(union), ev.Bonus(ev.TermQ("bodyw", "c"))), union])

    @settings(max_examples=300, deadline=None)
    @given(_plans())
    @example(shared)
    def check(plan: Any) -> None:
        mask, scores = _reference(plan, postings, lengths, phrases, ranges)
        e = evaluator()
        ids, values = e.records(plan)  # (first: it counts the parents that allow adding in place)
        seen["lists" if isinstance(e.memo[id(plan)], ev.Sparse) else "arrays"] += 1
        assert ids.tolist() == np.flatnonzero(mask).tolist()
        assert values.tolist() == scores[ids].tolist()  # exactly: the same additions in the same order
        again = evaluator()
        found = again.evaluate(plan)  # alone: every part copied before a bonus is added
        assert (
            np.flatnonzero(found.mask if isinstance(found, ev.Dense) else again._mask(found.ids)).tolist()
            == ids.tolist()
        )
        unscored_ids, unscored = evaluator(scoring=False).records(plan)
        assert unscored_ids.tolist() == ids.tolist() and not unscored.any()

    if compiled:
        with _compiled_loops():
            check()
    else:
        check()
    assert seen["lists"] > 20 and seen["arrays"] > 20, seen


@contextmanager
def _compiled_loops() -> Iterator[None]:
    """The tantivy engine's compiled loops in use (numba must load them here), numpy's after."""
    from indexer.engines.tantivy import loops

    assert loops.use_compiled()
    try:
        yield
    finally:
        loops.use_compiled(False)


def test_tantivy_compiled_loops_compute_what_numpy_does() -> None:
    # Each compiled loop against numpy's, on random input: dead records (-1) left out, int32 or
    # int64 numberings, read-only arrays (the kept postings are), repeated ids added in order,
    # ties, frequencies left out; the same values bit for bit.
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from indexer.engines.tantivy import loops

    def run(compiled: bool, fn: str, *args: Any) -> Any:
        if compiled:
            with _compiled_loops():
                return getattr(loops, fn)(*args)
        return getattr(loops, fn)(*args)

    @settings(max_examples=150, deadline=None)
    @given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.integers(0, 80), st.booleans(), st.booleans())
    def check(seed: int, size: int, count: int, wide: bool, with_freqs: bool) -> None:
        rng = np.random.default_rng(seed)
        numbering = np.where(rng.random(size) < 0.3, -1, rng.permutation(size)).astype(np.int64 if wide else np.int32)
        seqs = np.sort(rng.integers(0, size, count)).astype(np.uint32)
        tfs = rng.integers(1, 65_535, count).astype(np.uint16)
        for a in (numbering, seqs, tfs):
            a.flags.writeable = False
        outs = []
        for compiled in (False, True):
            numbers, freqs = np.full(count + 3, 7, dtype=np.int64), np.full((count + 3) * with_freqs, 0.5)
            end = run(compiled, "live_postings", numbering, seqs, tfs, 2.0, numbers, freqs, 3)
            outs.append((end, numbers.tolist(), freqs.tolist()))
        assert outs[0] == outs[1]
        live = numbering[seqs]
        assert outs[0][0] == 3 + int(np.count_nonzero(live >= 0))
        ids = rng.integers(0, size, count)
        values = rng.random(count) * rng.integers(0, 3, count)
        if count:  # (ties)
            values[rng.integers(0, count)] = values[0]
        ids.flags.writeable = values.flags.writeable = False
        start = rng.random(size)
        for best in (False, True):
            outs = []
            for compiled in (False, True):
                mask, scores = np.zeros(size, dtype=bool), start.copy()
                run(compiled, "combine_into", mask, scores, ids, values, best)
                outs.append((mask.tolist(), scores.tobytes()))
            assert outs[0] == outs[1]
            assert outs[0][0] == np.isin(np.arange(size), ids).tolist()
        norms = rng.random(size) * 3 + 0.1
        weights = rng.integers(1, 40, count) / 2
        factor = float(rng.random() * 5)
        got = [run(c, "bm25_at", factor, 2.2, weights, norms, ids).tobytes() for c in (False, True)]
        assert got[0] == got[1]

    check()


@pytest.mark.engine("tantivy")
def test_tantivy_engine_loads_the_compiled_loops_when_it_warms(
    engine: str, seed_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A one-off search keeps numpy; warming an index of COMPILE_FROM records or more loads the
    # compiled loops, and an engine opened afterwards (nothing kept from before) reads, adds and
    # scores its postings with them: the same records and scores.
    from indexer import compiled
    from indexer.engines.tantivy import loops

    queries = ["ceasefire OR corridor", "Lachin corridor blockade", '"peace agreement"', "war -ceasefire"]
    try:
        cold = _evaluations_by_id(seed_index, queries, pages=True)
        assert loops.twin.active is None  # a one-off search does not load them
        ix = open_engine(seed_index)
        ix.warm()  # a small index: numpy stays
        assert loops.twin.active is None
        monkeypatch.setattr(compiled, "COMPILE_FROM", 0)
        ix.warm()
        ix.close()
        assert loops.twin.active is not None
        calls: Counter[str] = Counter()
        for name in ("live_postings", "add_into", "bm25_at"):
            kernel = getattr(loops.twin.active, name)
            monkeypatch.setattr(loops.twin.active, name, lambda *a, _k=kernel, _n=name: (calls.update([_n]), _k(*a))[1])
        assert _evaluations_by_id(seed_index, queries, pages=True) == cold
        assert set(calls) == {"live_postings", "add_into", "bm25_at"}, calls
    finally:
        loops.use_compiled(False)


def _tantivy_searches(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int | None]]:
    """Every search the tantivy engine runs from now on, as (query repr, limit)."""
    from indexer.engines.tantivy.postings import View

    searched: list[tuple[str, int | None]] = []
    original = View.matches

    def counting(self: View, query: Any, limit: int | None = None) -> Any:
        searched.append((repr(query), limit))
        return original(self, query, limit)

    monkeypatch.setattr(View, "matches", counting)
    return searched


@pytest.mark.engine("tantivy")
def test_tantivy_phrase_matches_are_kept_across_queries(
    engine: str, seed_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A phrase's records are read from tantivy once per generation: a second query with the same
    # quoted phrase gets the same records without a search.
    searched = _tantivy_searches(monkeypatch)
    searcher = Searcher(seed_index)
    try:
        tree = searcher.parse('"border crisis" armenia').tree
        first = searcher.engine.evaluate(tree, latest_only=False)
        assert any("Phrase" in q for q, _limit in searched), searched
        before = len(searched)
        searcher.engine._results.clear()  # type: ignore[attr-defined]
        again = searcher.engine.evaluate(tree, latest_only=False)
        assert len(searched) == before
        assert first[0].tolist() == again[0].tolist() and first[1].tolist() == again[1].tolist()
        assert len(first[0]) > 0
    finally:
        searcher.close()


@pytest.mark.engine("tantivy")
def test_tantivy_proximity_bonus_reads_the_positions_of_its_candidates_only(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proximity bonus is computed for the best few records only: when its words are common
    # (here: in more records than its candidates), tantivy is asked for the phrase among those
    # records' ids, not over every record with both words. The records and scores are exactly
    # those the whole phrase gives, and the bonus does change the scores.
    from indexer.engines import ranking
    from indexer.engines import tantivy as engine_module
    from indexer.engines.tantivy import TantivyEngine

    monkeypatch.setattr(ranking, "PROXIMITY_CANDIDATES", 25)
    monkeypatch.setattr(engine_module, "PHRASE_AMONG", 1)
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    _write_generated(docs, range(120))  # every record has nearly every word
    index_paths([docs], settings_for(index_dir, engine=engine))
    searched = _tantivy_searches(monkeypatch)
    original_phrase = TantivyEngine._phrase
    searcher = Searcher(index_dir)
    try:
        tree = searcher.parse("harbour crane ferry").tree
        among = searcher.engine.evaluate(tree, latest_only=False)
        phrases = [(q, limit) for q, limit in searched if "Phrase" in q]
        assert phrases and all("TermSet" in q and limit is not None and limit <= 25 for q, limit in phrases)

        def evaluate_with(phrase: Any) -> tuple[np.ndarray, np.ndarray]:
            monkeypatch.setattr(TantivyEngine, "_phrase", phrase)
            searcher.engine._results.clear()  # type: ignore[attr-defined]
            return searcher.engine.evaluate(tree, latest_only=False)

        whole = evaluate_with(lambda self, view, q, among: original_phrase(self, view, q, None))
        assert among[0].tolist() == whole[0].tolist() and among[1].tolist() == whole[1].tolist()
        without = evaluate_with(lambda self, view, q, among: np.zeros(0, dtype=np.int64))
        assert without[1].tolist() != whole[1].tolist()
    finally:
        searcher.close()
    # Without bulk postings the record ids would be read from every stored document: the whole
    # phrase is read instead.
    monkeypatch.setattr(TantivyEngine, "_phrase", original_phrase)
    shutil.rmtree(next(index_dir.glob("tantivy*")) / "postings")
    searched.clear()
    searcher = Searcher(index_dir)
    try:
        searcher.engine.evaluate(tree, latest_only=False)
        phrases = [q for q, _limit in searched if "Phrase" in q]
        assert phrases and not any("TermSet" in q for q in phrases)
    finally:
        searcher.close()


@pytest.mark.engine("tantivy")
def test_tantivy_kept_postings_cannot_be_changed_by_a_caller(engine: str, seed_index: Path) -> None:
    # A one-word query in every version is answered with the kept postings and scores
    # themselves: writing into them would change every later query's scores, so they are read-only.
    searcher = Searcher(seed_index)
    try:
        numbers, scores = searcher.engine.evaluate(searcher.parse("armenia").tree, latest_only=False)
        assert len(numbers) > 0
        with pytest.raises(ValueError, match="read-only"):
            scores *= 2
        again = searcher.engine.evaluate(searcher.parse("armenia").tree, latest_only=False)
        assert again[1].tolist() == scores.tolist()
    finally:
        searcher.close()
