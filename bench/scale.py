"""Indexing and searching at a million sections (issue 14): batch by batch, memory watched.

Usage: python bench/scale.py [--sections N] [--batch-sections N] [--engine NAME] [--workers N]
                             [--work DIR] [--queries N] [--search-only] [--json]

The corpus is generated from the real-text pools of bench/latency_corpus.py (the Python docs'
reST headings and paragraphs, the Cranfield abstracts and titles), recombined with a fixed
seed: each document has a title, a lead paragraph and 2 to 7 more sections of 1 to 3
paragraphs, like the latency corpus's generated documents. It is written in batches of about
`--batch-sections` sections (default 20,000: see BATCH_SECTIONS) under
bench/work/scale/corpus/bNNNN/ (git-ignored; `--work`: another folder than bench/work/scale;
a batch is the same whatever ran before it, so a rerun writes it again identically), and each
batch is indexed by an incremental run (`indexer.pipeline.index_paths`, this script's
`--run-batch` mode) in a subprocess into bench/work/scale/index. A folder keeps the batch
size and engine it was built with. The text-reuse stage is off (`reuse=False`): search
latency does not depend on it, and a corpus that recombines a small pool of paragraphs makes
every document share passages with thousands of others.

While a batch runs, the PSS of the whole process tree (the run and its workers) is sampled
every 0.2 s. Each batch's sections added, total sections, wall seconds, peak PSS (in all, and
per stage of the run: `open` is opening the index and finishing a killed run) and the run
report's stage timings are printed on stderr as it ends and kept in batches.json beside the
index. Resumable: a batch whose files are all in the store, with no document pending, is not
indexed again (its figures are those recorded when it ran, if any).

At the end (or with `--search-only`), the complete search is measured as
bench/engine_latency.py does it, on this engine alone (no bare Whoosh): `--queries` queries
of bench/latency_corpus.py (the Cranfield questions, then Python-docs headings and words),
then its pasted passages and quotes; p50/p95/p99 of the whole call and of the part spent in
the engine. Target (issue 14): full search call warm p95 <= 50 ms at 1M sections, every index
run's peak PSS <= 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import cranfield_docs, run_sampled  # noqa: E402
from latency_corpus import SECTIONS_PER_DOC, SEED, WORK, rst_pools  # noqa: E402

SCALE = WORK / "scale"
CORPUS_FORMAT = "1"  # bump when the generated documents change
SAMPLE_SECONDS = 0.2
# Sections per index run. A run's peak PSS is a part that follows the batch (its parsed files,
# held until the store transaction) and a part that follows the index (the snapshot, about
# 0.6 MB per 1,000 sections): measured, 388 MB with 20,000-section batches at 200,000
# sections and 541 MB with 50,000-section batches at 300,000, which reach about 870 MB and
# 1,010 MB at a million. Smaller batches keep a million within 1 GB.
BATCH_SECTIONS = 20_000


def log(message: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pools() -> tuple[list[str], list[str], list[str]]:
    """(titles, headings, paragraphs), as bench/latency_corpus.py recombines them."""
    cran = [(title, abstract) for _num, title, abstract in cranfield_docs()]
    headings, paragraphs = rst_pools()
    paragraphs = paragraphs + [abstract for _, abstract in cran if abstract]
    titles = headings + [t for t, _ in cran if t]
    return titles, headings, paragraphs


def batch_plan(sections: int, batch_sections: int) -> list[int]:
    """The sections of each batch: full batches, then what is left."""
    full, rest = divmod(sections, batch_sections)
    return [batch_sections] * full + ([rest] if rest else [])


def write_batch(out: Path, batch: int, sections: int, text_pools: tuple[list[str], list[str], list[str]]) -> dict:
    """Write batch `batch` (about `sections` sections, as Markdown) into `out`, once: a batch is
    written aside and renamed into place, so a folder that exists is complete."""
    stamp = out / ".batch"
    want = {"format": CORPUS_FORMAT, "batch": batch, "sections": sections, "seed": SEED}
    if stamp.exists() and json.loads(stamp.read_text())["want"] == want:
        return json.loads(stamp.read_text())
    titles, headings, paragraphs = text_pools
    rng = random.Random(SEED * 100_000 + batch)  # one batch's documents do not depend on the others
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    tmp.mkdir(parents=True)
    written = documents = 0
    while written < sections:
        count = min(rng.randint(*SECTIONS_PER_DOC), sections - written)
        parts = [f"# {rng.choice(titles)} (b{batch}.{documents})", "", rng.choice(paragraphs), ""]
        for _ in range(count - 1):
            parts += [f"## {rng.choice(headings)}", ""]
            parts += [p + "\n" for p in rng.sample(paragraphs, rng.randint(1, 3))]
        sub = tmp / f"d{documents // 1000:03d}"
        sub.mkdir(exist_ok=True)
        (sub / f"doc-{documents:05d}.md").write_text("\n".join(parts), encoding="utf-8")
        written += count
        documents += 1
    about = {"want": want, "documents": documents, "sections_written": written}
    (tmp / ".batch").write_text(json.dumps(about))
    tmp.rename(out)
    return about


def batch_files(folder: Path) -> set[str]:
    return {str(p) for p in folder.rglob("*.md")}


def indexed(index_dir: Path, folder: Path) -> bool:
    """Whether every file of a batch is in the store and no document waits for the index."""
    from indexer.store import Store

    if not (index_dir / "store.sqlite3").exists():
        return False
    store = Store(index_dir)
    try:
        known = store.file_hashes()
        return not store.pending() and all(p in known for p in batch_files(folder))
    finally:
        store.close()


def run_batch(folder: Path, index_dir: Path, engine: str, workers: int) -> None:
    """One incremental index run over a batch's folder (in the subprocess); prints its report."""
    from indexer import pipeline, records
    from indexer.pipeline import index_paths
    from indexer.settings import Settings

    starts: dict[str, float] = {"open": time.time()}

    def progress(stage: str, _count: int) -> None:
        starts.setdefault(stage, time.time())

    # When the stages without a progress call begin (bench instrumentation, results unchanged).
    def timed(stage: str, fn: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            starts.setdefault(stage, time.time())
            return fn(*args, **kwargs)

        return call

    pipeline._store_run = timed("store", pipeline._store_run)  # type: ignore[method-assign]
    records.save_snapshot = timed("snapshot", records.save_snapshot)  # type: ignore[method-assign]
    settings = Settings(index_dir=str(index_dir), engine=engine, reuse=False, workers=workers)
    report = index_paths([folder], settings, progress=progress)
    starts["exit"] = time.time()
    print(json.dumps({**report, "stage_starts": starts}))


def stage_peaks(samples: list[tuple[float, int]], starts: dict[str, float]) -> dict[str, float]:
    """Peak PSS (MB) per stage of a run: each sample (wall time, KB) belongs to the last stage
    started before it (`startup` before the run opens the index)."""
    order = sorted((at, stage) for stage, at in starts.items())
    peaks: dict[str, float] = {}
    for at, kb in samples:
        stage = "startup"
        for begin, name in order:
            if begin <= at:
                stage = name
        peaks[stage] = max(peaks.get(stage, 0.0), round(kb / 1024, 1))
    return peaks


def index_batch(folder: Path, index_dir: Path, engine: str, workers: int) -> dict:
    """Index a batch in a subprocess, its process tree's PSS sampled meanwhile."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run-batch", str(folder), "--index-dir", str(index_dir)]
    cmd += ["--engine", engine, "--workers", str(workers)]
    proc, out, err, seconds, sampled = run_sampled(cmd, SAMPLE_SECONDS, cwd=ROOT)
    samples = [(at, pss) for at, pss, _rss in sampled]
    if proc.returncode != 0:
        raise SystemExit(f"indexing {folder} failed ({proc.returncode}):\n{err[-4000:]}")
    report = json.loads(out.strip().splitlines()[-1])
    timings = report.get("timings", {})
    return {
        "seconds": round(seconds, 1),
        "peak_pss_mb": round(max((kb for _, kb in samples), default=0) / 1024, 1),
        "stage_peak_pss_mb": stage_peaks(samples, report["stage_starts"]),
        "timings": timings,
        "new_versions": report.get("new_versions"),
        "failed": len(report.get("failed", [])),
        "total_sections": report.get("sections"),
        "documents": report.get("documents"),
    }


def store_counts(index_dir: Path) -> dict[str, int]:
    from indexer.store import Store

    store = Store(index_dir)
    try:
        return store.counts()
    finally:
        store.close()


def disk_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6, 1)


def build(work: Path, sections: int, batch_sections: int, engine: str, workers: int) -> list[dict]:
    """Write and index every batch not indexed yet (under `work`); the figures of every batch."""
    index_dir = work / "index"
    record_file = work / "batches.json"
    recorded: dict[str, dict] = json.loads(record_file.read_text()) if record_file.exists() else {}
    plan = batch_plan(sections, batch_sections)
    text_pools = pools()
    out = []
    for batch, size in enumerate(plan):
        folder = work / "corpus" / f"b{batch:04d}"
        about = write_batch(folder, batch, size, text_pools)
        key = f"b{batch:04d}"
        if indexed(index_dir, folder):
            entry = {**recorded.get(key, {"batch": batch, "measured": False}), "skipped": True}
            log(f"batch {batch + 1}/{len(plan)} already indexed")
            out.append(entry)
            continue
        before = store_counts(index_dir)["sections"] if (index_dir / "store.sqlite3").exists() else 0
        log(f"batch {batch + 1}/{len(plan)}: {about['documents']} documents, indexing over {before} sections")
        figures = index_batch(folder, index_dir, engine, workers)
        entry = {
            "batch": batch,
            "measured": True,
            "documents_written": about["documents"],
            "sections_added": figures["total_sections"] - before,
            **figures,
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
        recorded[key] = entry
        record_file.write_text(json.dumps(recorded, indent=1))
        log(
            f"batch {batch + 1}/{len(plan)}: +{entry['sections_added']} -> {entry['total_sections']} sections, "
            f"{entry['seconds']} s, peak PSS {entry['peak_pss_mb']} MB (by stage {entry['stage_peak_pss_mb']}), "
            f"stage seconds {entry['timings']}"
        )
        out.append(entry)
    return out


def search(index_dir: Path, engine: str, n_queries: int) -> dict:
    from engine_latency import run
    from latency_corpus import passages, queries, quotes

    log("measuring search")
    return run({engine: index_dir}, None, queries(n_queries), passages(), quotes())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sections", type=int, default=1_000_000, help="sections in all (default 1,000,000)")
    ap.add_argument(
        "--batch-sections", type=int, default=BATCH_SECTIONS, help="sections per index run (default 20,000)"
    )
    ap.add_argument("--engine", default="tantivy", help="engine of the index (default tantivy)")
    ap.add_argument("--workers", type=int, default=0, help="worker processes of each run (0: one per core)")
    ap.add_argument("--queries", type=int, default=500, help="queries timed (default 500)")
    ap.add_argument(
        "--work", type=Path, default=SCALE, help="folder of the corpus and index (default bench/work/scale)"
    )
    ap.add_argument("--search-only", action="store_true", help="measure search on the index as it is")
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--run-batch", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--index-dir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_batch:
        run_batch(args.run_batch, args.index_dir, args.engine, args.workers)
        return
    if args.sections <= 0 or args.batch_sections <= 0:
        ap.error("--sections and --batch-sections must be positive")
    work = args.work.resolve()
    index_dir = work / "index"
    stamp = work / "plan.json"
    plan = {"batch_sections": args.batch_sections, "engine": args.engine, "format": CORPUS_FORMAT}
    if stamp.exists() and json.loads(stamp.read_text()) != plan and not args.search_only:
        raise SystemExit(f"{work} was built with {stamp.read_text()}: remove it to build with {json.dumps(plan)}")
    batches: list[dict] = []
    if not args.search_only:
        work.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps(plan))
        batches = build(work, args.sections, args.batch_sections, args.engine, args.workers)
    if not (index_dir / "store.sqlite3").exists():
        raise SystemExit(f"no index in {index_dir}: build it first")
    measured = [b for b in batches if b.get("measured")]
    result: dict[str, Any] = {
        "engine": args.engine,
        "reuse": False,
        "batches": batches,
        "counts": store_counts(index_dir),
        "index_mb": disk_mb(index_dir),
        "peak_pss_mb": max((b["peak_pss_mb"] for b in measured), default=None),
        "search": search(index_dir, args.engine, args.queries),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    full = result["search"]["engines"][args.engine]["full"]
    log(f"{result['counts']['sections']} sections, {result['index_mb']} MB on disk; full search {full}")
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
