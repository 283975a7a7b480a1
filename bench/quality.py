"""Retrieval quality on Cranfield 1400 with the product's own analyzer and ranking.

Usage: python bench/quality.py [--json] [--variant NAME]

The 1,400 abstracts (one Markdown file each, `# title` then the text, from bench/ingest.py's split) are indexed
with `palimpsest index`; each of the 225 queries goes through `Searcher.search` exactly as a user's
query would (parse, rank, collapse to documents), 100 hits. Relevance: codes 1-4 relevant, gain
5 - code for nDCG (see ../shared/data/README.md). Reports nDCG@10, Recall@100 and MAP@100.
Query text is used as typed, except that characters the query language treats as operators
(`"()*~:+-`) are replaced by spaces: Cranfield's queries are plain English.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DATA = ROOT.parent / "shared" / "data" / "cranfield"


def queries() -> list[str]:
    text = (DATA / "cran.qry").read_text(encoding="utf-8", errors="replace")
    out = []
    for chunk in text.split(".I ")[1:]:
        body = chunk.split(".W", 1)[1] if ".W" in chunk else ""
        out.append(" ".join(body.split()))
    return out


def qrels() -> dict[int, dict[int, int]]:
    rel: dict[int, dict[int, int]] = {}
    for line in (DATA / "cranqrel").read_text().split("\n"):
        parts = line.split()
        if len(parts) == 3:
            q, d, code = (int(p) for p in parts)
            rel.setdefault(q, {})[d] = max(0, 5 - code) if code > 0 else 0
    return rel


def ndcg(ranked: list[int], gains: dict[int, int], k: int = 10) -> float:
    dcg = sum(gains.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(gains.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def average_precision(ranked: list[int], relevant: set[int]) -> float:
    hits, total = 0, 0.0
    for i, d in enumerate(ranked, 1):
        if d in relevant:
            hits += 1
            total += hits / i
    return total / len(relevant) if relevant else 0.0


def evaluate(index_dir: Path) -> dict[str, float]:
    from indexer.search import Searcher, SearchRequest
    from indexer.store import Store

    store = Store(index_dir)
    cran_ids: dict[str, list[int]] = {}
    for row in store.db.execute(
        "SELECT v.doc_id, vs.path FROM version_sources vs JOIN versions v USING (version_id) ORDER BY vs.path"
    ):
        m = re.search(r"cran-(\d+)\.md$", row[1])
        if m:
            cran_ids.setdefault(row[0], []).append(int(m.group(1)))
    store.close()
    judged = qrels()
    n10, rec, ap = [], [], []
    times = []
    with Searcher(index_dir) as s:
        for qi, text in enumerate(queries(), 1):
            q = re.sub(r"[\"()*~:+\-]", " ", text)
            t0 = time.perf_counter()
            page = s.search(SearchRequest(q=q, limit=100))
            times.append(time.perf_counter() - t0)
            ranked = [c for h in page.hits for c in cran_ids.get(h.doc_id, [])][:100]
            gains = judged.get(qi, {})
            relevant = {d for d, g in gains.items() if g > 0}
            n10.append(ndcg(ranked, gains))
            rec.append(len(relevant & set(ranked)) / len(relevant) if relevant else 0.0)
            ap.append(average_precision(ranked, relevant))
    times.sort()
    return {
        "queries": len(n10),
        "ndcg@10": round(sum(n10) / len(n10), 4),
        "recall@100": round(sum(rec) / len(rec), 4),
        "map@100": round(sum(ap) / len(ap), 4),
        "search_p50_ms": round(times[len(times) // 2] * 1000, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--index-dir", type=Path, help="reuse an index of the Cranfield split")
    args = ap.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"skipping: {DATA} missing")
    from ingest import cranfield_files

    from indexer.pipeline import index_paths
    from indexer.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        index_dir = args.index_dir or Path(tmp) / "ix"
        if not (index_dir / "store.sqlite3").exists():
            index_paths([cranfield_files()], Settings(index_dir=index_dir))
        result = {"date": time.strftime("%Y-%m-%d"), "collection": "Cranfield 1400", **evaluate(index_dir)}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"Cranfield 1400, {result['queries']} queries: nDCG@10 {result['ndcg@10']:.4f}  "
            f"Recall@100 {result['recall@100']:.4f}  MAP@100 {result['map@100']:.4f}  "
            f"(search p50 {result['search_p50_ms']} ms)"
        )
        print("reference (../shared/data/README.md): Whoosh BM25F defaults nDCG@10 0.383, target >= 0.40")


if __name__ == "__main__":
    main()
