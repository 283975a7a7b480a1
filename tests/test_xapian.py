"""The Xapian engine (indexer/engines/xapian/): the product's features on a local Xapian index, and
a cluster of shard servers on 127.0.0.1 that answers as the local index does.

The whole suite runs on the other engines; this module covers Xapian (the suite runs on it too
with PALIMPSEST_TEST_ENGINES=xapian). Xapian ranks with BM25 over a whole record, the other
engines with the product's BM25F: the records a query matches, the totals, facets and suggestions
are the same, the order of the top ten may differ (RANKING_OVERLAP pins how much it agrees).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from indexer.cli import cli
from indexer.engines import live_slot, open_engine
from indexer.errors import EngineUnavailableError
from indexer.models import SectionRecord, Zone
from indexer.pipeline import index_paths
from indexer.querytree import Bool, DateRange, Filter, Fuzzy, Phrase, Prefix, Term
from indexer.search import Searcher, SearchRequest
from search_web import create_app
from tests.conftest import CORPUS, run_cli, settings_for
from tests.test_engines import QUERIES
from tests.test_search import SEED_QUERIES, _summary

# Mean share of the top-10 documents Xapian's BM25 has in common with the product's BM25F
# (Whoosh), measured on each query set below and pinned a little under what was found.
RANKING_OVERLAP = {"corpus": 0.9, "generated": 0.7}
GENERATED_DOCUMENTS = 2000
CLUSTER_TIMEOUT = 1.0  # seconds a shard server may take to answer in these tests


# -- a local Xapian index ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def xapian_seeds(seeds: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    ix = tmp_path_factory.mktemp("xapian_seeds")
    index_paths([seeds], settings_for(ix, engine="xapian"))
    return ix


@pytest.fixture(scope="module")
def corpus_pair(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for name in ("whoosh", "xapian"):
        out[name] = tmp_path_factory.mktemp(f"corpus_{name}")
        index_paths([CORPUS], settings_for(out[name], engine=name))
    return out


@pytest.mark.parametrize(
    ("request_kw", "expected"), SEED_QUERIES, ids=[json.dumps(q[0], ensure_ascii=False) for q in SEED_QUERIES]
)
def test_seed_queries_give_the_whole_expected_result(
    xapian_seeds: Path, request_kw: dict[str, Any], expected: dict[str, Any]
) -> None:
    """The suite's seed queries (tests/test_search.py): totals, suggestions, hits and their order."""
    with Searcher(xapian_seeds) as s:
        assert _summary(s.search(SearchRequest(limit=5, **request_kw))) == expected


def _page(ix: Path, q: str, latest_only: bool = True, limit: int = 10) -> Any:
    with Searcher(ix) as s:
        return s.search(SearchRequest(q=q, limit=limit, latest_only=latest_only))


def _facets(page: Any) -> dict[str, list[Any]]:
    return {k: [c.to_json() for c in v] for k, v in page.facets.items()}


def test_every_construct_matches_what_whoosh_matches(corpus_pair: dict[str, Path]) -> None:
    """Words, phrases, AND/OR/NOT, fields, infobox fields, prefix, fuzzy, date ranges, facet
    filters, pasted text: the same records (latest versions and all), totals, facets and
    suggestions as the Whoosh engine; the top ten agree as RANKING_OVERLAP says."""
    engines = {name: open_engine(str(ix)) for name, ix in corpus_pair.items()}
    overlaps = []
    try:
        for q in QUERIES:
            with Searcher(corpus_pair["whoosh"]) as s:
                tree = s.parse(q).tree
            for latest in (True, False):
                matched = {}
                for name, engine in engines.items():
                    ids = engine.record_id_column()
                    matched[name] = sorted(ids[n] for n in engine.match(tree, latest_only=latest))
                assert matched["xapian"] == matched["whoosh"], (q, latest)
                pages = {name: _page(ix, q, latest) for name, ix in corpus_pair.items()}
                w, x = pages["whoosh"], pages["xapian"]
                assert (x.total, x.suggestion, _facets(x)) == (w.total, w.suggestion, _facets(w)), (q, latest)
                if w.hits:
                    top = min(len(w.hits), 10)
                    common = {h.doc_id for h in w.hits[:top]} & {h.doc_id for h in x.hits[:top]}
                    overlaps.append(len(common) / top)
    finally:
        for engine in engines.values():
            engine.close()
    assert float(np.mean(overlaps)) >= RANKING_OVERLAP["corpus"], overlaps


def test_fuzzy_words_are_expanded_from_the_vocabulary(corpus_pair: dict[str, Path]) -> None:
    """Xapian 1.4 has no fuzzy query: `word~` is expanded from the index's own words."""
    exact = _page(corpus_pair["xapian"], "ferry")
    fuzzy = _page(corpus_pair["xapian"], "fery~")
    assert exact.total > 0 and fuzzy.total >= exact.total
    assert {h.doc_id for h in exact.hits} <= {h.doc_id for h in fuzzy.hits}
    assert _page(corpus_pair["xapian"], "fxrrz~").total == 0  # two edits from `ferry`: ~ is one edit
    twice = _page(corpus_pair["xapian"], "fxrrz~2", limit=50)
    assert {h.doc_id for h in exact.hits} <= {h.doc_id for h in twice.hits}


def test_web_ui_and_api_collapse_snippets_suggestions_versions(xapian_seeds: Path) -> None:
    app = create_app({"INDEX_DIR": str(xapian_seeds), "TESTING": True})
    client = app.test_client()
    html = client.get("/search?q=ceasefire+violations")
    assert html.status_code == 200 and b"<mark>" in html.data
    api = client.get("/api/search?q=ceasefire+violations&limit=20").get_json()
    ids = [h["doc_id"] for h in api["hits"]]
    assert len(ids) == len(set(ids)) == api["total"] == 4  # collapsed to documents
    assert all(h["snippet"] for h in api["hits"])
    assert client.get("/api/search?q=Pashinian").get_json()["suggestion"] == "Pashinyan"
    latest = client.get("/api/search?q=%2241+km2%22&versions=latest").get_json()
    every = client.get("/api/search?q=%2241+km2%22&versions=all").get_json()
    assert (latest["total"], every["total"]) == (1, 2)
    facets = client.get("/api/search?q=Azerbaijan").get_json()["facets"]
    assert [(f["value"], f["count"]) for f in facets["language"]] == [("en", 4)]


def test_verify_rebuild_and_stats(xapian_seeds: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    shutil.copytree(xapian_seeds, ix)
    runner = CliRunner()
    before = _summary(_page(ix, "Jermuk"))
    assert run_cli(runner, "stats", "--index-dir", str(ix))["engine"] == "xapian"
    verify = runner.invoke(cli, ["verify", "--index-dir", str(ix)])
    assert verify.exit_code == 0 and "store and index agree" in verify.output
    report = run_cli(runner, "rebuild", "--index-dir", str(ix))
    assert (report["replaced"], report["slot"]) == ("xapian", "xapian-1") and live_slot(ix) == "xapian-1"
    assert _summary(_page(ix, "Jermuk")) == before
    assert runner.invoke(cli, ["verify", "--index-dir", str(ix)]).exit_code == 0


def test_a_records_score_does_not_depend_on_its_record_number(tmp_path: Path) -> None:
    """The same records written in two orders (other record numbers): every match of questions
    of three and four common words scores the same in both. Their proximity bonus is an OR of
    phrases, some of which fail on a record with both words apart (translate.and_maybe)."""
    records = _records(400)
    by_doc: dict[str, list[SectionRecord]] = {}
    for record in records:
        by_doc.setdefault(record.doc_id, []).append(record)
    shuffled = list(by_doc.values())
    random.Random(7).shuffle(shuffled)
    engines = [open_engine(str(tmp_path / name), create=True, name="xapian") for name in ("a", "b")]
    try:
        _write(engines[0], records)
        _write(engines[1], [r for group in shuffled for r in group])
        words, counts = engines[0].vocabulary()
        common = [w for _c, w in sorted(zip(counts.tolist(), words, strict=True), reverse=True)][:8]
        questions = [common[i : i + k] for k in (3, 4) for i in range(0, 5)]
        for question in questions:
            tree = Bool(should=tuple(Term(w) for w in question))
            scored = []
            for engine in engines:
                ids = engine.record_id_column()
                numbers, scores = engine.evaluate(tree, latest_only=False)
                scored.append(dict(zip((ids[n] for n in numbers.tolist()), scores.tolist(), strict=True)))
            assert scored[0] == scored[1], question
    finally:
        for engine in engines:
            engine.close()


def test_matches_are_read_as_the_bindings_items_give_them(tmp_path: Path) -> None:
    """read_matches (the bindings' MSet iterator read directly) gives every match's record number
    and weight in the MSet's order, as iterating the MSet's items does."""
    import xapian

    from indexer.engines.xapian import read_matches

    engine = open_engine(str(tmp_path / "ix"), create=True, name="xapian")
    try:
        _write(engine, _records(300))
        words, counts = engine.vocabulary()
        common = [w for _c, w in sorted(zip(counts.tolist(), words, strict=True), reverse=True)][:3]
        db = xapian.Database(str(engine.path / "db"))
        enquire = xapian.Enquire(db)
        enquire.set_query(xapian.Query(xapian.Query.OP_OR, common))
        mset = enquire.get_mset(0, db.get_doccount())
        numbers, weights = read_matches(mset)
        assert mset.size() > 100
        assert numbers.tolist() == [m.docid for m in mset]
        assert weights.tolist() == [m.weight for m in mset]
        db.close()
    finally:
        engine.close()


# -- a cluster on 127.0.0.1 ----------------------------------------------------------------------
def _cluster_api() -> Any:
    if shutil.which("xapian-tcpsrv") is None:
        pytest.skip("xapian-tcpsrv is not installed (Debian xapian-tools; .ci/run installs it)")
    from indexer.engines.xapian import cluster

    return cluster


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Three shard servers with a read-only replica each, on free ports of 127.0.0.1."""
    cluster = _cluster_api()
    folder = tmp_path_factory.mktemp("cluster")
    try:
        cluster.up(folder, 3, replicas=1, timeout=CLUSTER_TIMEOUT)
    except EngineUnavailableError as exc:
        cluster.down(folder)
        pytest.skip(f"shard servers cannot start here: {exc}")
    yield folder
    cluster.down(folder)


def _cluster_file(servers: Path, shards: int, target: Path) -> Path:
    """A cluster file naming the first `shards` shards of the servers (with their replicas)."""
    from indexer.engines.xapian.cluster import Cluster, cluster_text, read_cluster

    whole = read_cluster(servers / "cluster.toml")
    target.write_text(cluster_text(Cluster(whole.shards[:shards], whole.timeout, whole.connect_timeout)))
    return target


SYLLABLES = "ka lo mi ne ru sa ti vo ze ba de fi gu ha jo ku la me no pi ra se tu ve wa xo yi zu".split()  # noqa: SIM905
SECTION_NAMES = ("history", "design", "operation", "aftermath", "reception")


def _records(n: int) -> list[SectionRecord]:
    """The records of `n` documents of one to three sections over a Zipf-like vocabulary, some
    dated, a tenth with an older version: what the writer gives an engine (the contract's input)."""
    rng = random.Random(15)
    words = sorted({"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(3000)})
    rng.shuffle(words)
    weights = [1 / (i + 1) for i in range(len(words))]
    out = []
    for d in range(n):
        title = " ".join(rng.choices(words, weights, k=rng.randint(2, 5)))
        versions = 2 if d % 10 == 0 else 1
        for v in range(versions):
            for ordinal in range(rng.randint(1, 3)):
                heading = " ".join(rng.choices(words, weights, k=rng.randint(1, 3)))
                text = " ".join(rng.choices(words, weights, k=rng.randint(20, 60)))
                years = (str(rng.randint(1900, 2020)),) if rng.random() < 0.3 else ()
                section = rng.choice(SECTION_NAMES)
                out.append(
                    SectionRecord(
                        record_id=f"v{d:05d}{v}:{ordinal}", doc_id=f"d{d:05d}", version_id=f"v{d:05d}{v}",
                        ordinal=ordinal, is_latest=v == versions - 1, language="en", title=title,
                        heading=heading, breadcrumb=heading, text=text,
                        zones=(Zone(title, 2.0 if ordinal == 0 else 1.5), Zone(heading, 1.5), Zone(text, 1.0)),
                        facets={"section": (section,), "language": ("en",), "doc_type": ("markdown",)},
                        date_years=years, date_months=tuple(f"{y}-05" for y in years),
                        date_days=tuple(f"{y}-05-12" for y in years),
                    )
                )  # fmt: skip
    return out


def _write(engine: Any, records: list[SectionRecord]) -> None:
    batch = engine.begin()
    for record in records:
        batch.add(record)
    batch.commit()


@pytest.fixture(scope="module")
def generated(servers: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """GENERATED_DOCUMENTS documents written into a local Xapian index, the three-shard cluster and
    a Whoosh index; the queries over their vocabulary."""
    from indexer.engines.xapian.cluster import attach_cluster

    root = tmp_path_factory.mktemp("generated")
    records = _records(GENERATED_DOCUMENTS)
    attach_cluster(root / "cluster", servers / "cluster.toml")
    engines = {name: open_engine(str(root / name), create=True, name=engine)
               for name, engine in (("local", "xapian"), ("cluster", "xapian"), ("whoosh", "whoosh"))}  # fmt: skip
    for engine in engines.values():
        _write(engine, records)
    words, counts = engines["local"].vocabulary()
    ranked = [w for _c, w in sorted(zip(counts.tolist(), words, strict=True), reverse=True) if len(w) > 4]
    common, middle, rare = ranked[:6], ranked[40:46], ranked[400:406]
    queries = [
        Term(common[0]), Term(middle[0]), Term(rare[0]),
        Bool(should=(Term(common[1]), Term(middle[1]))),
        Bool(should=(Term(middle[2]), Term(rare[1]), Term(rare[2]))),
        Bool(must=(Term(common[2]), Term(middle[3]))),
        Bool(should=(Term(middle[4]),), must_not=(Term(common[3]),)),
        Phrase((common[4], common[5])),
        Term(middle[5], field="title"), Term(middle[0], field="heading"),
        Prefix(rare[3][:4]), Fuzzy(rare[4][:-1] + "q"),
        Bool(should=(Term(common[0]),), must=(DateRange("1950", "1970"),)),
        Bool(should=(Term(middle[1]),), must=(Filter("section", "history"),)),
        *(Bool(should=tuple(Term(w) for w in ranked[i : i + k])) for k in (3, 4) for i in (0, 3, 6)),
    ]  # fmt: skip
    yield {"records": records, "engines": engines, "queries": queries, "root": root}
    for engine in engines.values():
        engine.close()


def _doc_facets(ids: list[str], by_id: dict[str, SectionRecord]) -> dict[str, Counter[str]]:
    """Documents per facet value among matched records (facets count documents)."""
    out: dict[str, Counter[str]] = {}
    for name in ("section", "language"):
        pairs = {(by_id[r].doc_id, key) for r in ids for key in by_id[r].facets[name]}
        out[name] = Counter(key for _doc, key in pairs)
    return out


def test_a_cluster_answers_as_one_local_index(generated: dict[str, Any]) -> None:
    """Over three shards: the same matches (latest versions and all), the same top-10 records in
    the same order with the same scores (Xapian's statistics are over every shard; scores keep
    SCORE_BITS, so records that tie in one index tie on the cluster too and go by record id), the
    same facet counts, as the local index; every shard holds records, each document on one."""
    from indexer.engines.xapian.cluster import shard_of

    local, cluster = generated["engines"]["local"], generated["engines"]["cluster"]
    by_id = {r.record_id: r for r in generated["records"]}
    assert cluster.doc_count() == local.doc_count() == len(by_id)
    assert cluster.record_ids() == local.record_ids() == set(by_id)
    assert cluster.vocabulary()[0] == local.vocabulary()[0]
    assert np.array_equal(cluster.vocabulary()[1], local.vocabulary()[1])
    assert len({shard_of(r.doc_id, 3) for r in generated["records"]}) == 3
    for tree in generated["queries"]:
        for latest in (True, False):
            hits, c_hits = local.search(tree, latest, 10), cluster.search(tree, latest, 10)
            assert [(h.record_id, h.score) for h in c_hits] == [(h.record_id, h.score) for h in hits], (tree, latest)
            ids = local.record_id_column()
            c_ids = cluster.record_id_column()
            matched = sorted(ids[n] for n in local.match(tree, latest))
            c_matched = sorted(c_ids[n] for n in cluster.match(tree, latest))
            assert c_matched == matched, (tree, latest)
            assert _doc_facets(c_matched, by_id) == _doc_facets(matched, by_id)
        assert hits, tree


def _one_section(doc_id: str, text: str) -> SectionRecord:
    return SectionRecord(
        record_id=f"{doc_id}v:0", doc_id=doc_id, version_id=f"{doc_id}v", ordinal=0, is_latest=True,
        language="en", title="", heading="", breadcrumb="", text=text, zones=(Zone(text, 1.0),),
        facets={"section": ("history",), "language": ("en",), "doc_type": ("markdown",)},
    )  # fmt: skip


def test_records_that_tie_in_one_index_tie_on_a_cluster(tmp_path: Path) -> None:
    """Twins (one text in two documents, one on each shard of two) score the same on the cluster,
    as in one index: Xapian adds a record's weights in an order its shard's own term frequencies
    set, here opposite on the two shards, which moved the sums' last bits (SCORE_BITS)."""
    from indexer.engines.xapian.cluster import attach_cluster, shard_of

    cluster = _cluster_api()
    words = ["kalomi", "neruva", "tizeba", "defigu", "hajoku"]
    filler = ["lamenopi", "rasetuve", "waxoyizu", "gumesari"]
    ids: dict[int, list[str]] = {0: [], 1: []}
    for i in range(2000):
        ids[shard_of(f"t{i:05d}", 2)].append(f"t{i:05d}")
    rng = random.Random(3)
    records = []
    for shard, order in ((0, words), (1, words[::-1])):  # the first words commonest on shard 0
        for k, doc_id in enumerate(ids[shard][:300]):
            text = " ".join(rng.choices(filler, k=rng.randint(5, 30)) + order[: 1 + k % len(order)])
            records.append(_one_section(doc_id, text))
    twins = []
    for k in range(60):
        text = " ".join(rng.choices(filler + words, k=rng.randint(8, 40)))
        twins.append((ids[0][300 + k], ids[1][300 + k]))
        records += [_one_section(doc_id, text) for doc_id in twins[-1]]
    folder = tmp_path / "servers"
    try:
        path = cluster.up(folder, 2, timeout=CLUSTER_TIMEOUT)
    except EngineUnavailableError as exc:
        cluster.down(folder)
        pytest.skip(f"shard servers cannot start here: {exc}")
    attach_cluster(tmp_path / "cluster", path)
    engines = [open_engine(str(tmp_path / name), create=True, name="xapian") for name in ("local", "cluster")]
    try:
        for engine in engines:
            _write(engine, records)
        for k in (3, 4, 5):
            for start in range(len(words) - k + 1):
                tree = Bool(should=tuple(Term(w) for w in words[start : start + k]))
                scored = []
                for engine in engines:
                    numbers, scores = engine.evaluate(tree, latest_only=False)
                    ids_of = engine.record_id_column()
                    scored.append(dict(zip((ids_of[n] for n in numbers.tolist()), scores.tolist(), strict=True)))
                local, clustered = scored
                assert clustered == local, tree
                pairs = [(local[f"{a}v:0"], local[f"{b}v:0"]) for a, b in twins if f"{a}v:0" in local]
                assert pairs and all(x == y for x, y in pairs), tree
    finally:
        for engine in engines:
            engine.close()
        cluster.down(folder)


def test_xapian_ranks_as_whoosh_within_the_documented_difference(generated: dict[str, Any]) -> None:
    """The same matches as the Whoosh engine; top-10 documents in common as RANKING_OVERLAP says
    (Xapian's BM25 over a whole record against the product's BM25F)."""
    local, whoosh = generated["engines"]["local"], generated["engines"]["whoosh"]
    by_id = {r.record_id: r for r in generated["records"]}
    overlaps = []
    for tree in generated["queries"]:
        ids, w_ids = local.record_id_column(), whoosh.record_id_column()
        assert sorted(ids[n] for n in local.match(tree)) == sorted(w_ids[n] for n in whoosh.match(tree)), tree
        x = {by_id[h.record_id].doc_id for h in local.search(tree, limit=10)}
        w = {by_id[h.record_id].doc_id for h in whoosh.search(tree, limit=10)}
        overlaps.append(len(x & w) / max(1, len(w)))
    assert float(np.mean(overlaps)) >= RANKING_OVERLAP["generated"], overlaps


def test_adding_a_shard_is_a_rebuild_from_the_store(servers: Path, xapian_seeds: Path, tmp_path: Path) -> None:
    """The seed index moved onto two shards (`palimpsest rebuild --cluster`), then onto three (a
    shard added): the product's answers (hits, scores, totals, facets, suggestions) stay the
    local index's, every shard holds records, verify agrees."""
    from indexer.engines.xapian.cluster import status

    ix = tmp_path / "ix"
    shutil.copytree(xapian_seeds, ix)
    runner = CliRunner()
    queries = [kw["q"] for kw, _expected in SEED_QUERIES if kw["q"]]
    for shards in (2, 3):
        path = _cluster_file(servers, shards, tmp_path / f"cluster{shards}.toml")
        report = run_cli(runner, "rebuild", "--index-dir", str(ix), "--cluster", str(path))
        held = {s["shard"]: s["records"] for s in status(servers) if s["role"] == "primary"}
        assert all(held[i] > 0 for i in range(1, shards + 1)), held
        assert sum(held[i] for i in range(1, shards + 1)) == report["records"], held
        for q in queries:
            for latest in (True, False):
                local, clustered = _page(xapian_seeds, q, latest), _page(ix, q, latest)
                assert _summary(clustered) == _summary(local), q
                assert _facets(clustered) == _facets(local), q
                assert [h.score for h in clustered.hits] == [h.score for h in local.hits], q
        verify = runner.invoke(cli, ["verify", "--index-dir", str(ix)])
        assert verify.exit_code == 0 and "store and index agree" in verify.output
    refused = runner.invoke(cli, ["index", str(CORPUS), "--index-dir", str(ix), "--cluster", str(path)])
    assert refused.exit_code == 2 and "rebuild --cluster" in refused.output


def test_index_onto_a_cluster_then_add_files(servers: Path, seeds: Path, tmp_path: Path) -> None:
    """`palimpsest index --engine xapian --cluster FILE`, then a second run adding files."""
    path = _cluster_file(servers, 2, tmp_path / "cluster.toml")
    runner = CliRunner()
    ix, local = tmp_path / "ix", tmp_path / "local"
    for target, more in ((ix, ["--cluster", str(path)]), (local, [])):
        run_cli(runner, "index", str(seeds), "--index-dir", str(target), "--engine", "xapian", *more)
        run_cli(runner, "index", str(seeds), str(CORPUS), "--index-dir", str(target), "--engine", "xapian")
    for q in ("harbour bridge", "Jermuk", "ceasefire violations", "tram -depot"):
        assert _summary(_page(ix, q)) == _summary(_page(local, q)), q


def _pids(servers: Path, shard: int) -> dict[str, int]:
    from indexer.engines.xapian.cluster import servers as listed

    return {s["role"]: int(s["pid"]) for s in listed(servers) if s["shard"] == shard}


@pytest.fixture
def small_cluster(xapian_seeds: Path, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """The seed index rebuilt onto two shard servers with a replica each (servers of its own:
    the test stops them)."""
    cluster = _cluster_api()
    folder = tmp_path / "servers"
    try:
        path = cluster.up(folder, 2, replicas=1, timeout=CLUSTER_TIMEOUT)
    except EngineUnavailableError as exc:
        cluster.down(folder)
        pytest.skip(f"shard servers cannot start here: {exc}")
    ix = tmp_path / "ix"
    shutil.copytree(xapian_seeds, ix)
    run_cli(CliRunner(), "rebuild", "--index-dir", str(ix), "--cluster", str(path))
    yield folder, ix
    for pid in (p for shard in (1, 2) for p in _pids(folder, shard).values()):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGCONT)
    cluster.down(folder)


def test_a_dead_shard_gives_the_replicas_answer_then_a_clear_error(small_cluster: tuple[Path, Path]) -> None:
    folder, ix = small_cluster
    expected = _summary(_page(ix, "ceasefire violations"))
    app = create_app({"INDEX_DIR": str(ix), "TESTING": True})
    client = app.test_client()
    assert client.get("/api/search?q=ceasefire").status_code == 200
    # The whole process group: the server and the children serving open connections (a host down).
    os.killpg(_pids(folder, 1)["primary"], signal.SIGKILL)
    assert _summary(_page(ix, "ceasefire violations")) == expected  # the replica answers
    assert client.get("/api/search?q=ceasefire").status_code == 200
    os.killpg(_pids(folder, 1)["replica"], signal.SIGKILL)
    started = time.monotonic()
    with pytest.raises(EngineUnavailableError, match="shard 1 of 2 does not answer"):
        _page(ix, "ceasefire violations")
    assert time.monotonic() - started < 4 * CLUSTER_TIMEOUT + 2
    answer = client.get("/api/search?q=ceasefire")
    assert answer.status_code == 503 and "shard 1 of 2" in answer.get_json()["error"]["detail"]
    failed = CliRunner().invoke(cli, ["search", "ceasefire", "--index-dir", str(ix)])
    assert failed.exit_code == 1 and "does not answer" in failed.output


def test_a_hung_shard_times_out(small_cluster: tuple[Path, Path]) -> None:
    """A server that takes connections and never answers (stopped): an error after the timeouts,
    never a hang."""
    folder, ix = small_cluster
    assert _page(ix, "Jermuk").total > 0
    for pid in _pids(folder, 2).values():
        os.killpg(pid, signal.SIGSTOP)
    started = time.monotonic()
    with pytest.raises(EngineUnavailableError), Searcher(ix) as s:
        s.search(SearchRequest(q="Jermuk"))
    assert time.monotonic() - started < 6 * CLUSTER_TIMEOUT + 3
