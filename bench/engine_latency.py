"""Search latency per engine: every engine's complete search call against a bare Whoosh BM25F top-10, same run.

(bench/search_latency.py measures the Whoosh engine alone over three query sets, new processes included.)

Usage: python bench/engine_latency.py [--queries N] [--engines NAME ...] [--no-bare] [--json]

The index is bench/latency_corpus.py's (more than 100,000 sections, built by `palimpsest index`),
once per engine (`--engines`, default every engine: Whoosh, then tantivy); bare Whoosh runs on the
Whoosh engine's index, interleaved with every engine's complete search in the same run.
The queries are the 225 Cranfield questions plus short queries from the Python docs' headings
(bench/latency_corpus.py: `queries`). Each query runs through `Searcher.search` (parse, rank,
collapse to documents, facets, snippets, did-you-mean; 10 hits) and, interleaved, through bare
Whoosh: the query's words analysed as the index analyses them, OR-ed over `body` (search_latency.bare_query),
`searcher.search(q, limit=10)` with Whoosh's default BM25F. The first search of each (which
loads the record table and opens readers) is timed apart; then each engine reads the postings of
its most frequent words (`Engine.warm`, as `palimpsest serve` does before taking requests). Target (issue 3): p95 <= 100 ms and at
most 2x the bare Whoosh p95; issue 14, tantivy: p95 <= 20 ms at 100,000 sections or more.

Pasted passages (issue 11): 300-word runs of the Python docs' paragraphs (bench/latency_corpus.py:
`passages`), sent as typed (plain text, more words than the clause limit: searched as a bag of
its most distinctive words) and, as a second set, 60-word quotes from inside single paragraphs (a
phrase found word for word; `quotes`).
Complete search only (bare Whoosh has no equivalent). Target: p95 <= 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search_latency import summary  # noqa: E402  (one definition for the latency benches)


def run(
    indexes: dict[str, Path],
    bare_index: Path | None,
    queries: list[str],
    passage_texts: list[str],
    quoted_texts: list[str],
) -> dict:
    """Each engine's complete search (`indexes`: engine -> index) and bare Whoosh over `bare_index`
    (a Whoosh engine's index; None: without bare Whoosh), query by query in turn."""
    from indexer.engines import live_slot
    from indexer.search import Searcher, SearchRequest

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=SyntaxWarning)
        from whoosh import index as whoosh_index

    from search_latency import bare_query

    bare_searcher = None
    if bare_index is not None:
        ix = whoosh_index.open_dir(str(bare_index / live_slot(bare_index)), indexname="sections")
        bare_searcher = ix.searcher()  # Whoosh's default weighting: BM25F(B=0.75, K1=1.2)
    searchers = {engine: Searcher(index_dir) for engine, index_dir in indexes.items()}
    in_engine = {engine: _time_engine(searcher.engine) for engine, searcher in searchers.items()}
    first: dict[str, float] = {}
    warm: dict[str, float] = {}
    for engine, searcher in searchers.items():
        t0 = time.perf_counter()
        searcher.search(SearchRequest(q="warm up"))
        first[engine] = round((time.perf_counter() - t0) * 1000, 1)
        # As `palimpsest serve` does before it takes requests: the most frequent words' postings
        # and, on a large index, the compiled loops (indexer/compiled.py).
        t0 = time.perf_counter()
        searcher.warm()
        warm[engine] = round((time.perf_counter() - t0) * 1000, 1)
    if bare_searcher is not None:
        t0 = time.perf_counter()
        bare_searcher.search(bare_query("warm up"), limit=10)
        first["bare_whoosh"] = round((time.perf_counter() - t0) * 1000, 1)
    full: dict[str, list[float]] = {e: [] for e in searchers}
    engine_ms: dict[str, list[float]] = {e: [] for e in searchers}
    totals: dict[str, list[int]] = {e: [] for e in searchers}
    slowest: dict[str, list[tuple[float, str]]] = {e: [] for e in searchers}
    bare: list[float] = []
    for q in queries:
        for engine, searcher in searchers.items():
            in_engine[engine][0] = 0.0
            t0 = time.perf_counter()
            page = searcher.search(SearchRequest(q=q, limit=10))
            elapsed = (time.perf_counter() - t0) * 1000
            full[engine].append(elapsed)
            engine_ms[engine].append(in_engine[engine][0] * 1000)
            totals[engine].append(page.total)
            slowest[engine].append((elapsed, q))
        if bare_searcher is not None:
            t0 = time.perf_counter()
            results = bare_searcher.search(bare_query(q), limit=10)
            len(results.top_n)
            bare.append((time.perf_counter() - t0) * 1000)
    pasted: dict[str, dict[str, list[float]]] = {e: {"pasted": [], "quoted": []} for e in searchers}
    found: dict[str, dict[str, list[int]]] = {e: {"pasted": [], "quoted": []} for e in searchers}
    for kind, q in [*(("pasted", t) for t in passage_texts), *(("quoted", t) for t in quoted_texts)]:
        for engine, searcher in searchers.items():
            t0 = time.perf_counter()
            page = searcher.search(SearchRequest(q=q, limit=10))
            pasted[engine][kind].append((time.perf_counter() - t0) * 1000)
            found[engine][kind].append(page.total)
    for searcher in searchers.values():
        searcher.close()
    if bare_searcher is not None:
        bare_searcher.close()
    base = summary(bare) if bare else None
    engines = {}
    for engine in searchers:
        table = summary(full[engine])
        engines[engine] = {
            "records": searcher_size(indexes[engine]),
            "full": table,
            # The part of each call spent in the engine (evaluating the query tree); the rest is
            # the search layer both engines share (parse, facets, collapsing, snippets, suggestion).
            "in_engine": summary(engine_ms[engine]),
            "ratio_p95": round(table["p95_ms"] / base["p95_ms"], 2) if base else None,
            "ratio_p50": round(table["p50_ms"] / base["p50_ms"], 2) if base else None,
            "documents_found": {"median": int(statistics.median(totals[engine])), "max": max(totals[engine])},
            "slowest": [{"ms": round(ms, 1), "q": q[:80]} for ms, q in sorted(slowest[engine], reverse=True)[:5]],
            "passages": {
                kind: {
                    **summary(ms),
                    "queries": len(ms),
                    "documents_found_median": int(statistics.median(found[engine][kind])),
                }
                for kind, ms in pasted[engine].items()
                if ms
            },
        }
    return {
        "queries": len(queries),
        "bare_whoosh": base,
        "first_search_ms": first,
        "warm_ms": warm,
        "engines": engines,
    }


def _time_engine(engine: object) -> list[float]:
    """Time spent in the engine's `evaluate` (the calls search makes into the engine), added up
    in the returned one-element list (reset it before a search)."""
    spent = [0.0]
    evaluate = engine.evaluate  # type: ignore[attr-defined]

    def timed(*args: object, **kwargs: object) -> object:
        t0 = time.perf_counter()
        try:
            return evaluate(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t0

    engine.evaluate = timed  # type: ignore[attr-defined]
    return spent


def searcher_size(index_dir: Path) -> int:
    import sqlite3

    db = sqlite3.connect(index_dir / "store.sqlite3")
    try:
        return int(db.execute("SELECT COUNT(*) FROM sections").fetchone()[0])
    finally:
        db.close()


def main() -> None:
    from indexer.engines import DEFAULT_ENGINE, engine_names

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", type=int, default=500, help="number of queries (default 500)")
    ap.add_argument("--passages", type=int, default=50, help="number of pasted passages (default 50)")
    ap.add_argument("--engines", nargs="*", choices=engine_names(), help="engines (default: all, Whoosh first)")
    ap.add_argument("--no-bare", action="store_true", help="leave out bare Whoosh (and its Whoosh index)")
    ap.add_argument("--json", action="store_true", help="print JSON")
    args = ap.parse_args()
    from latency_corpus import build_index, passages, queries, quotes

    engines = args.engines or engine_names()
    indexes: dict[str, Path] = {}
    corpus: dict[str, dict] = {}
    for engine in dict.fromkeys([*([] if args.no_bare else [DEFAULT_ENGINE]), *engines]):
        indexes[engine], corpus[engine] = build_index(None, engine)
    bare_index = None if args.no_bare else indexes[DEFAULT_ENGINE]
    measured = {e: indexes[e] for e in engines}
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "cores": os.cpu_count(),
        "corpus": corpus,
        **run(measured, bare_index, queries(args.queries), passages(args.passages), quotes(args.passages)),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    b = result["bare_whoosh"]
    print(f"{result['queries']} queries, {result['cores']} cores")
    if b:
        print(
            f"bare Whoosh top-10: p50 {b['p50_ms']} ms  p95 {b['p95_ms']} ms  p99 {b['p99_ms']} ms  "
            f"mean {b['mean_ms']} ms"
        )
    print(f"first search (record table, readers): {result['first_search_ms']}; warming: {result['warm_ms']}")
    for engine, r in result["engines"].items():
        f = r["full"]
        print(f"\n{engine}: {r['records']:,} section records")
        print(
            f"  complete search: p50 {f['p50_ms']} ms  p95 {f['p95_ms']} ms  p99 {f['p99_ms']} ms  mean {f['mean_ms']} ms"
        )
        g = r["in_engine"]
        print(f"  of which in the engine: p50 {g['p50_ms']} ms  p95 {g['p95_ms']} ms  mean {g['mean_ms']} ms")
        if b:
            print(f"  ratio to bare Whoosh: p95 {r['ratio_p95']}x, p50 {r['ratio_p50']}x")
        print("  slowest:", json.dumps(r["slowest"], ensure_ascii=False))
        for kind, p in r["passages"].items():
            what = "300-word pasted passages" if kind == "pasted" else "60-word quoted passages"
            print(
                f"  {what} ({p['queries']}): p50 {p['p50_ms']} ms  p95 {p['p95_ms']} ms  max {p['max_ms']} ms "
                f"(documents found, median {p['documents_found_median']})"
            )


if __name__ == "__main__":
    main()
