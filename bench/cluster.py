"""Xapian, local and over shard servers on 127.0.0.1, next to Whoosh in one run: ingest, search
latency, how latency grows with shards, and what a search sees when a shard is killed mid-run.

Usage: python bench/cluster.py [--folders K] [--queries N] [--timeout S] [--no-kill] [--json]
                              [--reuse-store DIR]

The corpus is bench/latency_corpus.py's (the 1,400 Cranfield abstracts and 20 folders of 1,000
generated documents, about 111,000 sections in all); `--folders K` takes the first K generated
folders (20: all of them; each adds about 5,500 sections), for a machine where four indexes of
the whole corpus take too long. `palimpsest index` builds the store once (with Whoosh); then
every engine's index is built from that store with `palimpsest rebuild` (the index stage: the
rest of a run is the same for every engine) and timed: Whoosh, local Xapian, and Xapian over 2
and 4 shard servers started with `palimpsest cluster up` (engines/xapian/cluster.py).
The store is kept in bench/work/cluster/whoosh-K for later runs while the corpus and schemas are
unchanged; `--reuse-store DIR` (with `--folders 20`) copies the store of an index of the same
corpus built by `palimpsest index` (e.g. bench/work/latency-index, bench/latency_corpus.py's)
instead of building it: the copy must have this code's store schema version and the corpus's
files with the same contents (the pipeline code that built it is trusted to be this one's); that
run reports no `palimpsest index` time.

Search: N queries of latency_corpus.queries (Cranfield questions, Python-docs headings, words and
pairs) through `Searcher.search` (parse, rank, collapse, facets, snippets, did-you-mean; 10 hits)
on every index in turn, query by query, after one warm-up search and `Engine.warm`; p50/p95 of
the complete call and of the engine's share.

Killed shard: on the 2-shard cluster without replicas, and on a 2-shard cluster with one replica
per shard, a thread kills shard 2's primary (SIGKILL) while searches run; every search's outcome
(answered, or the error's message) and the longest call are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search_latency import summary  # noqa: E402  (one definition for the latency benches)

WORK = ROOT / "bench" / "work" / "cluster"


def build_store(folders: int, reuse: Path | None = None) -> tuple[Path, dict[str, Any]]:
    """The corpus's first `folders` generated folders and the Cranfield files, indexed with Whoosh
    by `palimpsest index`; kept in WORK/whoosh-K for later runs while the corpus and schemas are
    unchanged. `reuse`: an index of the whole corpus built by `palimpsest index` (e.g.
    bench/work/latency-index) whose store is copied and checked instead (_copy_store)."""
    from latency_corpus import index_key, write_corpus

    key = index_key("whoosh")
    about = write_corpus(ROOT / "bench" / "work" / "latency")
    index_dir = WORK / f"whoosh-{folders}"
    done = index_dir / ".bench-complete"
    if done.exists():  # built by an earlier run: its time is kept there
        kept = json.loads(done.read_text())
        if kept.get("key") == key:
            return index_dir, {k: v for k, v in kept.items() if k != "key"}
    shutil.rmtree(index_dir, ignore_errors=True)
    if reuse is not None:
        return index_dir, _copy_store(reuse, index_dir, folders, key, about)
    source = ROOT / "bench" / "work" / "latency"
    chosen = WORK / f"corpus-{folders}"
    if not chosen.exists():
        chosen.mkdir(parents=True)
        for entry in sorted(source.iterdir()):
            if entry.name.startswith("cran-"):
                os.link(entry, chosen / entry.name)
            elif entry.is_dir() and entry.name.startswith("g") and int(entry.name[1:]) < folders:
                shutil.copytree(entry, chosen / entry.name, copy_function=os.link)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "indexer.cli", "index", str(chosen), "--index-dir", str(index_dir), "--json",
         "--workers", "0", "--engine", "whoosh"],
        check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    about = {"corpus_documents": about["documents"], "index_seconds_whoosh": round(time.perf_counter() - t0, 1)}
    done.write_text(json.dumps({**about, "key": key}))
    return index_dir, about


def _copy_store(reuse: Path, index_dir: Path, folders: int, key: str, about: dict[str, Any]) -> dict[str, Any]:
    """Copies the store of `reuse` (never writes there), then checks the copy: SQLite's
    quick_check, this code's store schema version, and the same files with the same contents as
    the corpus (path under the corpus folder and SHA-256 of each; the files it has no row for must
    be ones this code's pipeline refuses)."""
    import hashlib
    import sqlite3

    from indexer.pipeline import file_stage
    from indexer.settings import Settings
    from indexer.store import STORE_SCHEMA_VERSION

    if folders != 20:
        raise SystemExit("--reuse-store holds the whole corpus: use it with --folders 20")
    source = reuse / "store.sqlite3"
    wal = reuse / "store.sqlite3-wal"
    if wal.exists() and wal.stat().st_size:
        raise SystemExit(f"{reuse}: the store has writes not yet in its file (in use?)")
    before = source.stat()
    index_dir.mkdir(parents=True)
    copy = index_dir / "store.sqlite3"
    shutil.copy(source, copy)
    after = source.stat()
    if (before.st_mtime_ns, before.st_size) != (after.st_mtime_ns, after.st_size):
        raise SystemExit(f"{source} changed while it was copied")
    db = sqlite3.connect(copy)
    try:
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        stored = dict(db.execute("SELECT path, content_hash FROM files").fetchall())
    finally:
        db.close()
    problem = None
    if check != "ok":
        problem = f"the copy fails quick_check ({check})"
    elif version is None or int(version[0]) != STORE_SCHEMA_VERSION:
        problem = f"store schema {version and version[0]}, this code's is {STORE_SCHEMA_VERSION}"
    else:
        root = ROOT / "bench" / "work" / "latency"
        mine = {
            str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(root.rglob("*"))
            if f.is_file() and not f.name.startswith(".")  # .about, .corpus: the generator's notes
        }
        base = os.path.commonpath(list(stored)) if stored else ""
        theirs = {os.path.relpath(path, base): digest for path, digest in stored.items()}
        # A file the pipeline does not take (no text: two empty abstracts) has no row; such a file
        # of the corpus must be refused by this code's pipeline too.
        missing = sorted(set(mine) - set(theirs))
        refused = ("skipped", "failed")
        kept = [p for p in missing if file_stage(str(root / p), None, False, Settings()).status not in refused]
        differ = sorted({p for p, _ in set(theirs.items()) ^ set(mine.items())} - set(missing) | set(kept))
        if differ:
            problem = f"its files are not this corpus's ({len(differ)} differ: {', '.join(differ[:5])})"
    if problem is not None:
        shutil.rmtree(index_dir)
        raise SystemExit(f"--reuse-store {reuse}: {problem}")
    kept = {"corpus_documents": about["documents"], "index_seconds_whoosh": None, "store_copied_from": str(reuse)}
    (index_dir / ".bench-complete").write_text(json.dumps({**kept, "key": key}))
    return kept


def sections(index_dir: Path) -> int:
    import sqlite3

    db = sqlite3.connect(index_dir / "store.sqlite3")
    try:
        return int(db.execute("SELECT COUNT(*) FROM sections").fetchone()[0])
    finally:
        db.close()


def rebuild_as(store_index: Path, target: Path, engine: str, cluster_file: Path | None = None) -> float:
    """A copy of the store with a new `engine` index built from it by `rebuild`; returns seconds."""
    from indexer.engines import open_engine
    from indexer.engines.xapian.cluster import attach_cluster
    from indexer.pipeline import rebuild
    from indexer.settings import Settings

    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copy(store_index / "store.sqlite3", target / "store.sqlite3")
    if cluster_file is not None:
        attach_cluster(target, cluster_file)
    open_engine(str(target), create=True, name=engine).close()
    t0 = time.perf_counter()
    rebuild(Settings(index_dir=target, workers=0))
    return round(time.perf_counter() - t0, 1)


def search_latency(indexes: dict[str, Path], queries: list[str]) -> dict[str, Any]:
    from indexer.search import Searcher, SearchRequest

    searchers = {name: Searcher(ix) for name, ix in indexes.items()}
    spent = {name: _time_engine(s.engine) for name, s in searchers.items()}
    first = {}
    for name, s in searchers.items():
        t0 = time.perf_counter()
        s.search(SearchRequest(q="warm up"))
        s.warm()
        first[name] = round((time.perf_counter() - t0) * 1000, 1)
    full: dict[str, list[float]] = {n: [] for n in searchers}
    engine_ms: dict[str, list[float]] = {n: [] for n in searchers}
    tops: dict[str, list[list[tuple[str, float]]]] = {n: [] for n in searchers}
    for q in queries:
        for name, s in searchers.items():
            spent[name][0] = 0.0
            t0 = time.perf_counter()
            page = s.search(SearchRequest(q=q, limit=10))
            full[name].append((time.perf_counter() - t0) * 1000)
            engine_ms[name].append(spent[name][0] * 1000)
            tops[name].append([(h.doc_id, h.score) for h in page.hits])
    for s in searchers.values():
        s.close()
    out: dict[str, Any] = {"first_search_and_warm_ms": first}
    local = tops.get("xapian-local")
    for name in searchers:
        ids = [[d for d, _ in t] for t in tops[name]]
        differ = [] if local is None else [i for i, t in enumerate(ids) if t != [d for d, _ in local[i]]]
        out[name] = {
            "complete": summary(full[name]),
            "in_engine": summary(engine_ms[name]),
            "same_top10_as_local": None if local is None else len(ids) - len(differ),
        }
        if name.startswith("xapian-") and name != "xapian-local" and local is not None:
            out[name]["top10_differences"] = [
                {"query": queries[i], "local": _ranked(local[i]), name: _ranked(tops[name][i])} for i in differ
            ]
    return out


def _ranked(hits: list[tuple[str, float]]) -> list[str]:
    """`doc_id score` per hit, scores to 9 digits (equal scores show as equal)."""
    return [f"{d} {s:.9g}" for d, s in hits]


def _time_engine(engine: Any) -> list[float]:
    spent = [0.0]
    evaluate = engine.evaluate

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return evaluate(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t0

    engine.evaluate = timed
    return spent


def kill_mid_run(store_index: Path, queries: list[str], replicas: int, timeout: float) -> dict[str, Any]:
    """Searches on a 2-shard cluster while shard 2's primary is killed; each search's outcome."""
    from indexer.engines.xapian import cluster
    from indexer.errors import EngineUnavailableError
    from indexer.search import Searcher, SearchRequest

    folder = WORK / f"servers-kill-{replicas}"
    shutil.rmtree(folder, ignore_errors=True)
    path = cluster.up(folder, 2, replicas=replicas, timeout=timeout)
    try:
        ix = WORK / f"xapian-kill-{replicas}"
        rebuild_as(store_index, ix, "xapian", path)
        primary = next(s["pid"] for s in cluster.servers(folder) if s["shard"] == 2 and s["role"] == "primary")
        outcomes: list[dict[str, Any]] = []
        with Searcher(ix) as s:
            s.search(SearchRequest(q="warm up"))
            killer = threading.Timer(0.5, os.killpg, (primary, signal.SIGKILL))  # the server and its children
            killer.start()
            started = time.perf_counter()
            for q in queries:
                t0 = time.perf_counter()
                try:
                    page = s.search(SearchRequest(q=q, limit=10))
                    outcome = f"answered ({page.total} documents)"
                except EngineUnavailableError as exc:
                    outcome = f"error: {exc}"
                outcomes.append(
                    {
                        "at_ms": round((t0 - started) * 1000),
                        "ms": round((time.perf_counter() - t0) * 1000, 1),
                        "outcome": outcome,
                    }
                )
            killer.join()
        kinds: dict[str, int] = {}
        for o in outcomes:
            key = o["outcome"].split(" (")[0] if o["outcome"].startswith("answered") else o["outcome"][:160]
            kinds[key] = kinds.get(key, 0) + 1
        return {
            "replicas": replicas,
            "searches": len(outcomes),
            "outcomes": kinds,
            "longest_ms": max(o["ms"] for o in outcomes),
            "first_after_kill": next((o for o in outcomes if o["at_ms"] >= 500), None),
        }
    finally:
        cluster.down(folder)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folders", type=int, default=20, help="generated folders of the corpus, 0-20 (default 20)")
    ap.add_argument("--queries", type=int, default=200, help="queries timed per index (default 200)")
    ap.add_argument("--timeout", type=float, default=2.0, help="shard servers' timeout in seconds (default 2)")
    ap.add_argument("--no-kill", action="store_true", help="leave out the killed-shard runs")
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument(
        "--reuse-store", type=Path, metavar="DIR",
        help="copy the store of DIR, an index of the whole corpus built by `palimpsest index` (e.g. "
        "bench/work/latency-index), instead of building it (--folders 20 only)",
    )  # fmt: skip
    args = ap.parse_args()
    from latency_corpus import queries as latency_queries

    from indexer.engines.xapian import cluster

    WORK.mkdir(parents=True, exist_ok=True)
    store_index, about = build_store(args.folders, args.reuse_store)
    result: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M"), "cores": os.cpu_count(), "load_average": os.getloadavg(),
        "folders": args.folders, "sections": sections(store_index), **about,
    }  # fmt: skip
    indexes: dict[str, Path] = {}
    ingest: dict[str, float] = {}
    ingest["whoosh"] = rebuild_as(store_index, WORK / "whoosh", "whoosh")
    indexes["whoosh"] = WORK / "whoosh"
    ingest["xapian-local"] = rebuild_as(store_index, WORK / "xapian-local", "xapian")
    indexes["xapian-local"] = WORK / "xapian-local"
    folders = []
    try:
        for shards in (2, 4):
            folder = WORK / f"servers-{shards}"
            shutil.rmtree(folder, ignore_errors=True)
            folders.append(folder)
            path = cluster.up(folder, shards, timeout=args.timeout)
            name = f"xapian-{shards}-shards"
            ingest[name] = rebuild_as(store_index, WORK / name, "xapian", path)
            indexes[name] = WORK / name
        result["ingest_rebuild_seconds"] = ingest
        result["search"] = search_latency(indexes, latency_queries(args.queries))
    finally:
        for folder in folders:
            cluster.down(folder)
    kill_queries = latency_queries(args.queries)[: max(20, args.queries // 4)]
    result["killed_shard"] = [kill_mid_run(store_index, kill_queries, replicas, args.timeout) for replicas in (0, 1)]
    result["load_average_after"] = os.getloadavg()
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
