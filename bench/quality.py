"""Retrieval quality on every test collection, the product against two baselines, in one run.

Usage: python bench/quality.py [--json] [--only NAME ...] [--engines NAME ...] [--index-root DIR]

Collections: Cranfield 1400 (../shared/data/cranfield, graded judgments: code 1-4 relevant, gain
5 - code) and every folder of ../shared/data holding `corpus.jsonl`, `queries.jsonl` and
`qrels.tsv` (see ../shared/data/README.md). Each document is written as one Markdown file under
bench/work/quality/ (`# title`, then the text; a document with only one of them as one paragraph) and
indexed with the product's own pipeline and default settings; each judged query goes through
`Searcher.search` as a user would type it (characters the query language reads as operators,
`"()*~:+-&|`, replaced by spaces), 100 hits, collapsed to documents as the product does (a hit
stands for every file of its document).

Baselines, on the same title + text in one field, analysed the same way (words, lowercased,
Whoosh's stop list, English Snowball stems via PyStemmer), the query's distinct words OR-ed:
Whoosh 2.7.4 with its default BM25F (B 0.75, K1 1.2) and bm25s (Lucene's BM25, k1 0.9, b 0.4).

The product runs once per engine (indexer/engines: Whoosh, the default, and tantivy; `--engines`
picks), each on its own index of the same files. Reports nDCG@10, Recall@100 and MAP (over the 100
hits) per collection and their mean over the collections, the p50/p95 latency of the product's
search call (after one warm-up query), and each other engine's nDCG@10 difference from the
default engine's on every collection (issue 14: within 0.01).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DATA = ROOT.parent / "shared" / "data"
CRANFIELD = DATA / "cranfield"
WORK = ROOT / "bench" / "work" / "quality"
HITS = 100
OPERATORS = re.compile(r"[\"()*~:+\-&|]")
FILES_VERSION = "3"  # bump when the way documents are written changes


@dataclass
class Collection:
    """A test collection: documents (id, title, text), judged queries (id, text), gains."""

    name: str
    docs: list[tuple[str, str, str]]
    queries: list[tuple[str, str]]
    qrels: dict[str, dict[str, int]]


# -- loading ------------------------------------------------------------------------------------
def cranfield_queries() -> list[str]:
    """The 225 Cranfield questions in file order (query n of the judgments is the n-th)."""
    text = (CRANFIELD / "cran.qry").read_text(encoding="utf-8", errors="replace")
    out = []
    for chunk in text.split(".I ")[1:]:
        body = chunk.split(".W", 1)[1] if ".W" in chunk else ""
        out.append(" ".join(body.split()))
    return out


def queries() -> list[str]:
    """Cranfield's questions (bench/latency_corpus.py uses them as its long queries)."""
    return cranfield_queries()


def cranfield() -> Collection:
    from ingest import cranfield_docs

    qrels: dict[str, dict[str, int]] = {}
    for line in (CRANFIELD / "cranqrel").read_text().split("\n"):
        parts = line.split()
        if len(parts) == 3:
            q, d, code = (int(p) for p in parts)
            qrels.setdefault(str(q), {})[str(d)] = max(0, 5 - code) if code > 0 else 0
    docs = [(str(num), title, text) for num, title, text in cranfield_docs()]
    qs = [(str(i), text) for i, text in enumerate(cranfield_queries(), 1)]
    return Collection("cranfield", docs, [q for q in qs if _judged(qrels, q[0])], qrels)


def jsonl_collection(folder: Path) -> Collection:
    docs = []
    for line in (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            docs.append((str(d["_id"]), " ".join(d.get("title", "").split()), " ".join(d.get("text", "").split())))
    qrels: dict[str, dict[str, int]] = {}
    for line in (folder / "qrels.tsv").read_text().splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) == 3:
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    qs = []
    for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            q = json.loads(line)
            qs.append((str(q["_id"]), " ".join(q["text"].split())))
    return Collection(folder.name, docs, [q for q in qs if _judged(qrels, q[0])], qrels)


def _judged(qrels: dict[str, dict[str, int]], qid: str) -> bool:
    return any(g > 0 for g in qrels.get(qid, {}).values())


def collections(only: list[str] | None = None) -> list[Collection]:
    """Cranfield, then every folder of DATA in the jsonl layout, by name."""
    found: list[Collection] = []
    if CRANFIELD.is_dir():
        found.append(cranfield())
    for folder in sorted(DATA.iterdir()) if DATA.is_dir() else []:
        if all((folder / f).is_file() for f in ("corpus.jsonl", "queries.jsonl", "qrels.tsv")):
            found.append(jsonl_collection(folder))
    return [c for c in found if not only or c.name in only]


# -- the product --------------------------------------------------------------------------------
def write_files(coll: Collection) -> Path:
    """One Markdown file per document (`# title`, then the text), written once per FILES_VERSION."""
    out = WORK / "files" / coll.name
    stamp = out / ".written"
    if stamp.exists() and stamp.read_text() == f"{FILES_VERSION}:{len(coll.docs)}":
        return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for doc_id, title, text in coll.docs:
        if not title and not text:
            continue
        body = (f"# {title}\n\n" if title else "") + (f"{text}\n" if text else "")
        (out / f"d{doc_id}.md").write_text(body, encoding="utf-8")
    stamp.write_text(f"{FILES_VERSION}:{len(coll.docs)}")
    return out


def product_index(coll: Collection, index_dir: Path, engine: str | None = None) -> dict[str, float]:
    """Index the collection's files with the product's defaults (what `palimpsest index` does),
    with `engine` (default: the product's default engine)."""
    from indexer.pipeline import index_paths
    from indexer.settings import Settings

    files = write_files(coll)
    shutil.rmtree(index_dir, ignore_errors=True)
    t0 = time.perf_counter()
    index_paths([files], Settings(index_dir=index_dir, engine=engine))
    return {"index_seconds": round(time.perf_counter() - t0, 1)}


def file_ids(index_dir: Path) -> dict[str, list[str]]:
    """doc_id -> the collection ids of every file its versions came from."""
    from indexer.store import Store

    store = Store(index_dir)
    out: dict[str, list[str]] = {}
    try:
        rows = store.db.execute(
            "SELECT v.doc_id, vs.path FROM version_sources vs JOIN versions v USING (version_id) ORDER BY vs.path"
        )
        for doc_id, path in rows:
            m = re.search(r"/d([^/]+)\.md$", path)
            if m and m.group(1) not in out.get(doc_id, []):
                out.setdefault(doc_id, []).append(m.group(1))
    finally:
        store.close()
    return out


def typed(text: str) -> str:
    """A query as a user would type it: operator characters replaced by spaces."""
    return " ".join(OPERATORS.sub(" ", text).split())


def product_run(coll: Collection, index_dir: Path, searcher: object = None) -> tuple[dict[str, list[str]], list[float]]:
    """(query id -> ranked collection ids, search times in ms) through `Searcher.search`."""
    from indexer.errors import QueryError
    from indexer.search import Searcher, SearchRequest

    ids = file_ids(index_dir)
    runs: dict[str, list[str]] = {}
    times: list[float] = []
    s = searcher or Searcher(index_dir)
    try:
        s.search(SearchRequest(q="warm up"))  # type: ignore[attr-defined]
        for qid, text in coll.queries:
            t0 = time.perf_counter()
            try:
                page = s.search(SearchRequest(q=typed(text), limit=HITS))  # type: ignore[attr-defined]
            except QueryError:
                runs[qid] = []
                times.append((time.perf_counter() - t0) * 1000)
                continue
            times.append((time.perf_counter() - t0) * 1000)
            runs[qid] = [c for h in page.hits for c in ids.get(h.doc_id, [])][:HITS]
    finally:
        if searcher is None:
            s.close()  # type: ignore[attr-defined]
    return runs, times


# -- baselines ----------------------------------------------------------------------------------
def baseline_analyzer() -> Callable[[str], list[str]]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=SyntaxWarning)
        from whoosh.analysis import STOP_WORDS, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter

    chain = RegexTokenizer() | LowercaseFilter() | StopFilter(stoplist=STOP_WORDS) | StemFilter(stemfn=_stem_en)
    return lambda text: [t.text for t in chain(text)]


def _stem_en(word: str) -> str:
    """English Snowball (PyStemmer), as the baselines of ../shared/data/README.md."""
    return str(_english().stemWord(word))


def _english() -> Any:
    import Stemmer

    if "en" not in _STEMMERS:
        _STEMMERS["en"] = Stemmer.Stemmer("english")
    return _STEMMERS["en"]


_STEMMERS: dict[str, Any] = {}


def whoosh_run(coll: Collection) -> dict[str, list[str]]:
    """Whoosh 2.7.4, default BM25F, title + text in one field, the query's words OR-ed."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=SyntaxWarning)
        from whoosh import query as wq
        from whoosh.analysis import STOP_WORDS, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
        from whoosh.fields import ID, TEXT, Schema
        from whoosh.filedb.filestore import RamStorage

    analyzer = RegexTokenizer() | LowercaseFilter() | StopFilter(stoplist=STOP_WORDS) | StemFilter(stemfn=_stem_en)
    schema = Schema(id=ID(stored=True), content=TEXT(analyzer=analyzer))
    ix = RamStorage().create_index(schema)
    w = ix.writer()
    for doc_id, title, text in coll.docs:
        w.add_document(id=doc_id, content=f"{title} {text}")
    w.commit()
    runs = {}
    with ix.searcher() as s:
        for qid, text in coll.queries:
            terms = list(dict.fromkeys(t.text for t in analyzer(typed(text))))
            if not terms:
                runs[qid] = []
                continue
            hits = s.search(wq.Or([wq.Term("content", t) for t in terms]), limit=HITS)
            runs[qid] = [h["id"] for h in hits]
    return runs


def bm25s_run(coll: Collection) -> dict[str, list[str]]:
    """bm25s (Lucene's BM25, k1 0.9, b 0.4) on the same analysed title + text."""
    import bm25s

    analyse = baseline_analyzer()
    corpus = [analyse(f"{title} {text}") for _id, title, text in coll.docs]
    retriever = bm25s.BM25(k1=0.9, b=0.4)
    retriever.index(corpus, show_progress=False)
    vocab = retriever.vocab_dict
    runs = {}
    for qid, text in coll.queries:
        terms = [t for t in dict.fromkeys(analyse(typed(text))) if t in vocab]
        if not terms:
            runs[qid] = []
            continue
        k = min(HITS, len(coll.docs))
        docs, scores = retriever.retrieve([terms], k=k, show_progress=False)
        runs[qid] = [coll.docs[int(i)][0] for i, sc in zip(docs[0], scores[0], strict=True) if sc > 0]
    return runs


# -- measures -----------------------------------------------------------------------------------
def ndcg(ranked: list[str], gains: dict[str, int], k: int = 10) -> float:
    dcg = sum(gains.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(gains.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def average_precision(ranked: list[str], relevant: set[str]) -> float:
    hits, total = 0, 0.0
    for i, d in enumerate(ranked, 1):
        if d in relevant:
            hits += 1
            total += hits / i
    return total / len(relevant) if relevant else 0.0


def measure(coll: Collection, runs: dict[str, list[str]]) -> dict[str, float]:
    """Mean nDCG@10, Recall@100 and MAP@100 over the collection's judged queries."""
    n10, rec, ap = [], [], []
    for qid, _text in coll.queries:
        ranked = runs.get(qid, [])[:HITS]
        gains = coll.qrels.get(qid, {})
        relevant = {d for d, g in gains.items() if g > 0}
        n10.append(ndcg(ranked, gains))
        rec.append(len(relevant & set(ranked)) / len(relevant))
        ap.append(average_precision(ranked, relevant))
    return {
        "ndcg@10": round(sum(n10) / len(n10), 4),
        "recall@100": round(sum(rec) / len(rec), 4),
        "map@100": round(sum(ap) / len(ap), 4),
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def engine_names() -> list[str]:
    from indexer.engines import engine_names as names

    return names()


def evaluate(coll: Collection, root: Path, engines: list[str]) -> dict:
    """The product on each engine (index built if missing, in `root/<engine>/<collection>`) and
    both baselines on one collection."""
    out: dict[str, Any] = {"collection": coll.name, "documents": len(coll.docs), "queries": len(coll.queries)}
    for engine in engines:
        index_dir = root / engine / coll.name
        about: dict[str, float] = {}
        if not (index_dir / "store.sqlite3").exists():
            about = product_index(coll, index_dir, engine)
        runs, times = product_run(coll, index_dir)
        out[f"product:{engine}"] = {
            **measure(coll, runs),
            **about,
            "search_p50_ms": round(percentile(times, 50), 1),
            "search_p95_ms": round(percentile(times, 95), 1),
        }
    out["whoosh"] = measure(coll, whoosh_run(coll))
    out["bm25s"] = measure(coll, bm25s_run(coll))
    return out


BASELINES = ("whoosh", "bm25s")
METRICS = ("ndcg@10", "recall@100", "map@100")


def summarise(results: list[dict], engines: list[str]) -> dict:
    """Means over the collections, each engine's margin over the better baseline, and each other
    engine's largest nDCG@10 difference from the first engine's."""
    systems = [f"product:{e}" for e in engines] + list(BASELINES)
    mean = {
        system: {m: round(sum(r[system][m] for r in results) / len(results), 4) for m in METRICS} for system in systems
    }
    best_baseline = max(mean["whoosh"]["ndcg@10"], mean["bm25s"]["ndcg@10"])
    out: dict[str, Any] = {"mean": mean, "engines": {}}
    first = f"product:{engines[0]}"
    for engine in engines:
        p = f"product:{engine}"
        wins = [r["collection"] for r in results if r[p]["ndcg@10"] >= max(r[b]["ndcg@10"] for b in BASELINES)]
        diffs = {r["collection"]: round(r[p]["ndcg@10"] - r[first]["ndcg@10"], 4) for r in results}
        out["engines"][engine] = {
            "margin_ndcg@10": round(mean[p]["ndcg@10"] - best_baseline, 4),
            "collections_at_or_above_both_baselines": wins,
            f"ndcg@10_minus_{engines[0]}": diffs,
            "largest_difference": max((abs(d) for d in diffs.values()), default=0.0),
        }
    return out


def table(results: list[dict], summary: dict, engines: list[str]) -> str:
    systems = [f"product:{e}" for e in engines] + list(BASELINES)
    head = "| collection | docs | queries | system | nDCG@10 | R@100 | MAP@100 | search p50 / p95 |"
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for r in results:
        for i, system in enumerate(systems):
            m = r[system]
            lat = f"{m['search_p50_ms']} / {m['search_p95_ms']} ms" if system.startswith("product:") else ""
            first = (r["collection"], f"{r['documents']:,}", str(r["queries"])) if i == 0 else ("", "", "")
            lines.append(
                f"| {' | '.join(first)} | {system} | {m['ndcg@10']:.4f} | {m['recall@100']:.4f} | {m['map@100']:.4f} | {lat} |"
            )
    for system in systems:
        m = summary["mean"][system]
        lines.append(f"| mean | | | {system} | {m['ndcg@10']:.4f} | {m['recall@100']:.4f} | {m['map@100']:.4f} | |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--only", nargs="*", help="collection names (default: all)")
    ap.add_argument("--engines", nargs="*", help="engines to run the product on (default: every engine, default first)")
    ap.add_argument("--index-root", type=Path, help="reuse product indexes kept here (<engine>/<collection>)")
    args = ap.parse_args()
    engines = args.engines or engine_names()
    found = collections(args.only)
    if not found:
        raise SystemExit(f"skipping: no test collection under {DATA}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = args.index_root or Path(tmp)
        for coll in found:
            results.append(evaluate(coll, root, engines))
    summary = summarise(results, engines)
    out = {"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(), "results": results, **summary}
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(table(results, summary, engines))
    for engine, e in summary["engines"].items():
        print(
            f"{engine}: margin over the better baseline mean (nDCG@10) {e['margin_ndcg@10']:+.4f} (target >= +0.02); "
            f"at or above both baselines: {', '.join(e['collections_at_or_above_both_baselines']) or 'none'}"
        )
        if engine != engines[0]:
            diffs = ", ".join(f"{c} {d:+.4f}" for c, d in e[f"ndcg@10_minus_{engines[0]}"].items())
            print(f"  nDCG@10 minus {engines[0]}'s: {diffs}; largest {e['largest_difference']:.4f} (target <= 0.01)")


if __name__ == "__main__":
    main()
