"""Search latency: the complete search call against a bare Whoosh BM25F top-10, same index, same run.

Usage: python bench/search_latency.py [--queries N] [--index-dir DIR] [--json]

The index is bench/latency_corpus.py's (more than 100,000 sections, built by `palimpsest index`).
The queries are the 225 Cranfield questions plus short queries from the Python docs' headings
(bench/latency_corpus.py: `queries`). Each query runs through `Searcher.search` (parse, rank,
collapse to documents, facets, snippets, did-you-mean; 10 hits) and, interleaved, through bare
Whoosh: the same text parsed by Whoosh's QueryParser over the `body` field with OR grouping,
`searcher.search(q, limit=10)` with Whoosh's default BM25F. The first search of each (which
loads the record table and opens readers) is timed apart. Target (issue 3): p95 <= 100 ms and at
most 2x the bare Whoosh p95.

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


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "mean_ms": round(statistics.fmean(ms), 1),
        "max_ms": round(max(ms), 1),
    }


def run(index_dir: Path, queries: list[str], passage_texts: list[str], quoted_texts: list[str]) -> dict:
    from indexer.search import Searcher, SearchRequest

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=SyntaxWarning)
        from whoosh import index as whoosh_index
        from whoosh.qparser import OrGroup, QueryParser

    ix = whoosh_index.open_dir(str(index_dir / "whoosh"), indexname="sections")
    bare_searcher = ix.searcher()  # Whoosh's default weighting: BM25F(B=0.75, K1=1.2)
    parser = QueryParser("body", ix.schema, group=OrGroup)
    searcher = Searcher(index_dir)
    t0 = time.perf_counter()
    searcher.search(SearchRequest(q="warm up"))
    first_full = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    bare_searcher.search(parser.parse("warm up"), limit=10)
    first_bare = (time.perf_counter() - t0) * 1000
    full: list[float] = []
    bare: list[float] = []
    totals: list[int] = []
    slowest: list[tuple[float, str]] = []
    for q in queries:
        t0 = time.perf_counter()
        page = searcher.search(SearchRequest(q=q, limit=10))
        elapsed = (time.perf_counter() - t0) * 1000
        full.append(elapsed)
        totals.append(page.total)
        slowest.append((elapsed, q))
        t0 = time.perf_counter()
        results = bare_searcher.search(parser.parse(q), limit=10)
        len(results.top_n)
        bare.append((time.perf_counter() - t0) * 1000)
    pasted: dict[str, list[float]] = {"pasted": [], "quoted": []}
    found: dict[str, list[int]] = {"pasted": [], "quoted": []}
    for kind, q in [*(("pasted", t) for t in passage_texts), *(("quoted", t) for t in quoted_texts)]:
        t0 = time.perf_counter()
        page = searcher.search(SearchRequest(q=q, limit=10))
        pasted[kind].append((time.perf_counter() - t0) * 1000)
        found[kind].append(page.total)
    searcher.close()
    bare_searcher.close()
    table = summary(full)
    base = summary(bare)
    return {
        "queries": len(queries),
        "records": searcher_size(index_dir),
        "full": table,
        "bare_whoosh": base,
        "ratio_p95": round(table["p95_ms"] / base["p95_ms"], 2),
        "ratio_p50": round(table["p50_ms"] / base["p50_ms"], 2),
        "first_search_ms": {"full": round(first_full, 1), "bare_whoosh": round(first_bare, 1)},
        "documents_found": {"median": int(statistics.median(totals)), "max": max(totals)},
        "slowest": [{"ms": round(ms, 1), "q": q[:80]} for ms, q in sorted(slowest, reverse=True)[:5]],
        "passages": {
            kind: {**summary(ms), "queries": len(ms), "documents_found_median": int(statistics.median(found[kind]))}
            for kind, ms in pasted.items()
            if ms
        },
    }


def searcher_size(index_dir: Path) -> int:
    import sqlite3

    db = sqlite3.connect(index_dir / "store.sqlite3")
    try:
        return int(db.execute("SELECT COUNT(*) FROM sections").fetchone()[0])
    finally:
        db.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", type=int, default=500, help="number of queries (default 500)")
    ap.add_argument("--passages", type=int, default=50, help="number of pasted passages (default 50)")
    ap.add_argument("--index-dir", type=Path, help="index to build or reuse (default bench/work/latency-index)")
    ap.add_argument("--json", action="store_true", help="print JSON")
    args = ap.parse_args()
    from latency_corpus import build_index, passages, queries, quotes

    index_dir, about = build_index(args.index_dir)
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "cores": os.cpu_count(),
        "corpus": about,
        **run(index_dir, queries(args.queries), passages(args.passages), quotes(args.passages)),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    f, b = result["full"], result["bare_whoosh"]
    print(f"{result['records']:,} section records, {result['queries']} queries, {result['cores']} cores")
    print(f"complete search: p50 {f['p50_ms']} ms  p95 {f['p95_ms']} ms  p99 {f['p99_ms']} ms  mean {f['mean_ms']} ms")
    print(
        f"bare Whoosh top-10: p50 {b['p50_ms']} ms  p95 {b['p95_ms']} ms  p99 {b['p99_ms']} ms  mean {b['mean_ms']} ms"
    )
    print(f"ratio p95 {result['ratio_p95']}x, p50 {result['ratio_p50']}x (target: p95 <= 100 ms and <= 2x bare)")
    print(f"first search (record table, readers): {result['first_search_ms']}")
    print("slowest:", json.dumps(result["slowest"], ensure_ascii=False))
    for kind, p in result["passages"].items():
        what = "300-word pasted passages" if kind == "pasted" else "60-word quoted passages"
        print(
            f"{what} ({p['queries']}): p50 {p['p50_ms']} ms  p95 {p['p95_ms']} ms  max {p['max_ms']} ms "
            f"(documents found, median {p['documents_found_median']}; target p95 <= 300 ms)"
        )


if __name__ == "__main__":
    main()
