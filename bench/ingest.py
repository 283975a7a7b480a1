"""Ingest throughput: end-to-end `palimpsest index` on each engine against bare Whoosh, in one run.

Usage: python bench/ingest.py [--json] [--workers N] [--only pydoc|cranfield|short ...] [--engines NAME ...]

Corpora: (a) the HTML tree of Debian's python3.11-doc (/usr/share/doc/python3.11/html, as
installed: the product skips its scripts, styles, images and page sources itself),
(b) ../shared/data/cranfield split into one file per document under bench/work/ (generated,
git-ignored), (c) more than 50,000 short documents: every sentence of five words or more of the
test collections' documents (../shared/data: Cranfield, ADI, CACM, CISI, NPL) and of the Python
docs' reST paragraphs, one plain-text file each, exact repeats once (bench/work/short/).
For each corpus and engine (`--engines`, default every engine: Whoosh, then tantivy): wall time,
docs/s, MB/s of input and peak memory (PSS) of the whole process tree of `palimpsest index
--engine`; then, once per corpus, bare Whoosh 2.7.4 indexing the same extracted section texts
with the same analyzer in one process; then each engine's own index writer alone on records built
from the finished store. The ratio is bare time / end-to-end time (issue 10: >= 0.5 on Whoosh;
issue 14: >= 3 on tantivy); the writer alone bounds what any pipeline around it can reach (bare /
writer alone), and the other stages together are reported against the writer's time.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = ROOT / "bench" / "work"
PYDOC = Path("/usr/share/doc/python3.11/html")
DATA = ROOT.parent / "shared" / "data"
CRANFIELD = DATA / "cranfield" / "cran.all.1400"
SHORT_MIN_WORDS = 5  # a sentence shorter than this is not a document of the short corpus
SHORT_VERSION = "1"
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z0-9(\"'])")


def cranfield_docs() -> list[tuple[int, str, str]]:
    """(number, title, abstract) of the 1,400 Cranfield documents, spaces collapsed."""
    docs = []
    for chunk in CRANFIELD.read_text(encoding="utf-8", errors="replace").split(".I ")[1:]:
        num, _, rest = chunk.partition("\n")
        fields: dict[str, str] = {}
        key = None
        for line in rest.splitlines():
            if line[:2] in (".T", ".A", ".B", ".W") and len(line.strip()) == 2:
                key = line[1]
                fields[key] = ""
            elif key:
                fields[key] += line + "\n"
        title = " ".join(fields.get("T", "").split()).rstrip(" .")
        docs.append((int(num), title, " ".join(fields.get("W", "").split())))
    return docs


def cranfield_files() -> Path:
    """One Markdown file per Cranfield document: the title as a heading, then the abstract."""
    out = WORK / "cranfield"
    if out.is_dir() and len(list(out.glob("cran-*.md"))) == 1400:
        return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for num, title, body in cranfield_docs():
        (out / f"cran-{num:04d}.md").write_text(f"# {title}\n\n{body}\n", encoding="utf-8")
    return out


def short_texts() -> list[str]:
    """The short corpus: sentences of the test collections and of the Python docs' paragraphs."""
    texts: list[str] = [f"{title}. {body}" for _n, title, body in cranfield_docs()]
    for folder in sorted(DATA.iterdir()) if DATA.is_dir() else []:
        corpus = folder / "corpus.jsonl"
        if corpus.is_file():
            for line in corpus.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    d = json.loads(line)
                    texts.append(" ".join(f"{d.get('title', '')}. {d.get('text', '')}".split()).lstrip(". "))
    try:
        from latency_corpus import rst_pools

        texts += rst_pools()[1]
    except OSError:
        pass  # no python3.11-doc: the collections alone
    seen: set[str] = set()
    out = []
    for text in texts:
        for sentence in _SENTENCE_END.split(text):
            sentence = sentence.strip()
            if len(sentence.split()) >= SHORT_MIN_WORDS and sentence not in seen:
                seen.add(sentence)
                out.append(sentence)
    return out


def short_files() -> Path:
    """The short corpus as files, 1,000 to a folder (written once per SHORT_VERSION)."""
    out = WORK / "short"
    stamp = out / ".written"
    if stamp.exists() and stamp.read_text() == SHORT_VERSION:
        return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for n, text in enumerate(short_texts()):
        sub = out / f"s{n // 1000:03d}"
        sub.mkdir(exist_ok=True)
        (sub / f"s{n:06d}.txt").write_text(text + "\n", encoding="utf-8")
    stamp.write_text(SHORT_VERSION)
    return out


def _tree_memory_kb(pid: int) -> tuple[int, int]:
    """(sum of PSS, sum of RSS) over a process tree. PSS shares pages that forked children
    have in common with their parent among them, so its sum is the tree's real footprint;
    the RSS sum counts those shared pages once per process."""
    pss = rss = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return pss, rss


def run_sampled(
    cmd: list[str], every: float, cwd: Path | None = None
) -> tuple[subprocess.Popen, str, str, float, list[tuple[float, int, int]]]:
    """Run a command to its end, sampling its process tree's memory every `every` seconds:
    (the finished process, stdout, stderr, wall seconds, [(wall clock, PSS KB, RSS KB)])."""
    samples: list[tuple[float, int, int]] = []
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.time(), *_tree_memory_kb(proc.pid)))
            done.wait(every)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    elapsed = time.perf_counter() - t0
    done.set()
    sampler.join()
    return proc, out, err, elapsed, samples


def end_to_end(corpus: Path, index_dir: Path, workers: int, engine: str) -> dict:
    exe = shutil.which("palimpsest", path=str(Path(sys.executable).parent)) or "palimpsest"
    cmd = [exe, "index", str(corpus), "--index-dir", str(index_dir), "--json", "--workers", str(workers)]
    cmd += ["--engine", engine]
    proc, out, err, elapsed, samples = run_sampled(cmd, 0.05)
    peak = max((pss for _, pss, _ in samples), default=0)
    peak_rss = max((rss for _, _, rss in samples), default=0)
    if proc.returncode != 0:
        raise SystemExit(f"palimpsest index failed: {err}")
    report = json.loads(out)
    # The files the product read: not those it skipped (scripts, styles, images, source copies).
    left_out = {f["path"] for f in report["skipped"]}
    files = [p for p in corpus.rglob("*") if p.is_file() and str(p) not in left_out and not p.name.startswith(".")]
    files = [p for p in files if not any(str(p).startswith(s.rstrip("/") + "/") for s in left_out)]
    size = sum(p.stat().st_size for p in files)
    return {
        "files": len(files),
        "input_mb": round(size / 1e6, 2),
        "documents": report["documents"],
        "sections": report["sections"],
        "failed": len(report["failed"]),
        "skipped": len(report["skipped"]),
        "seconds": round(elapsed, 2),
        "docs_per_s": round(len(files) / elapsed, 1),
        "mb_per_s": round(size / 1e6 / elapsed, 2),
        "peak_pss_mb": round(peak / 1024, 1),
        "peak_rss_sum_mb": round(peak_rss / 1024, 1),
        "timings": report.get("timings", {}),
    }


def stem_english(word: str) -> str:
    """Snowball English through PyStemmer (the product's English stemmer)."""
    return _english_stemmer().stemWord(word)


@functools.cache
def _english_stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def bare_whoosh(index_dir: Path) -> dict:
    """Bare Whoosh in one process: the same section texts, the same analyzer, no pipeline."""
    from whoosh import index as windex
    from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
    from whoosh.fields import ID, TEXT, Schema

    from indexer.analysis import STOP_WORDS, TOKEN_PATTERN

    db = sqlite3.connect(index_dir / "store.sqlite3")
    rows = db.execute(
        "SELECT s.version_id || ':' || s.ordinal, COALESCE(v.title, ''), s.heading, s.text "
        "FROM sections s JOIN versions v USING (version_id)"
    ).fetchall()
    docs = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    db.close()
    text_mb = sum(len(r[3].encode()) for r in rows) / 1e6
    # The product's English analysis, as one Whoosh chain (tokens, lowercase, the 33 stop words, Snowball).
    analyzer = (
        RegexTokenizer(TOKEN_PATTERN)
        | LowercaseFilter()
        | StopFilter(stoplist=STOP_WORDS, minsize=1)
        | StemFilter(stemfn=stem_english)  # a module-level function: Whoosh pickles the schema
    )
    schema = Schema(
        record_id=ID(stored=True, unique=True),
        title=TEXT(analyzer=analyzer),
        heading=TEXT(analyzer=analyzer),
        text=TEXT(analyzer=analyzer, phrase=True),
    )
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ix = windex.create_in(tmp, schema)
        w = ix.writer()
        for rid, title, heading, text in rows:
            w.add_document(record_id=rid, title=title, heading=heading, text=text)
        w.commit()
        elapsed = time.perf_counter() - t0
    return {
        "records": len(rows),
        "documents": docs,
        "text_mb": round(text_mb, 2),
        "seconds": round(elapsed, 2),
        "docs_per_s": round(docs / elapsed, 1),
        "mb_per_s": round(text_mb / elapsed, 2),
    }


def product_writer(index_dir: Path, workers: int, engine_name: str) -> dict:
    """An engine's own index writer alone, in one process, on records already built from the
    finished store: what the engine costs with the product's schema (zones with positions,
    facet fields), apart from reading, parsing, dedup and the store. Timed single-process (as
    bare Whoosh) and with the writer processes (Whoosh) or threads (tantivy) `palimpsest index` uses."""
    from indexer.engines import open_engine
    from indexer.store import Store
    from indexer.writer import records_for_document

    store = Store(index_dir)
    t0 = time.perf_counter()
    records = [(d, records_for_document(store, d)) for d in store.doc_ids()]
    build = time.perf_counter() - t0
    store.close()
    out = {"records": sum(len(r) for _d, r in records), "build_records_seconds": round(build, 2)}
    for label, procs in (("single", 1), ("parallel", max(1, workers or os.cpu_count() or 1))):
        with tempfile.TemporaryDirectory() as tmp:
            engine = open_engine(tmp, create=True, name=engine_name)
            t0 = time.perf_counter()
            batch = engine.begin(procs)
            for _doc, recs in records:
                for rec in recs:
                    batch.add(rec)
            batch.commit()
            out[f"{label}_seconds"] = round(time.perf_counter() - t0, 2)
            engine.close()
    return out


def main() -> None:
    from indexer.engines import engine_names

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--workers", type=int, default=0, help="palimpsest --workers (0 = one per core)")
    ap.add_argument("--only", nargs="*", choices=["pydoc", "cranfield", "short"], help="run these corpora")
    ap.add_argument("--engines", nargs="*", choices=engine_names(), help="engines (default: all, Whoosh first)")
    args = ap.parse_args()
    engines = args.engines or engine_names()
    corpora = []
    if not args.only or "pydoc" in args.only:
        if PYDOC.is_dir():
            # The tree as installed: the product itself skips its scripts, styles, images and sources.
            corpora.append(("python3.11-doc HTML", PYDOC))
        else:
            print(f"skipping python3.11-doc: {PYDOC} missing (apt-get install python3.11-doc)", file=sys.stderr)
    if not args.only or "cranfield" in args.only:
        if CRANFIELD.exists():
            corpora.append(("Cranfield 1400", cranfield_files()))
        else:
            print(f"skipping Cranfield: {CRANFIELD} missing", file=sys.stderr)
    if not args.only or "short" in args.only:
        if CRANFIELD.exists():
            corpora.append(("short documents", short_files()))
        else:
            print(f"skipping the short documents: {DATA} missing", file=sys.stderr)
    results: dict = {"cores": os.cpu_count(), "date": time.strftime("%Y-%m-%d"), "engines": engines, "corpora": {}}
    for name, path in corpora:
        runs: dict[str, dict] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for engine in engines:
                ix = Path(tmp) / engine
                e2e = end_to_end(path, ix, args.workers, engine)
                runs[engine] = {"end_to_end": e2e, "writer": product_writer(ix, args.workers, engine)}
            bare = bare_whoosh(Path(tmp) / engines[0])
        for run in runs.values():
            e2e, writer = run["end_to_end"], run["writer"]
            stages = e2e["timings"]
            # Same documents, same extracted text: the ratio of wall times.
            run["ratio_vs_bare"] = round(bare["seconds"] / e2e["seconds"], 2)
            # The best ratio any pipeline could reach with this writer: bare / writer alone.
            run["writer_bound_ratio"] = round(bare["seconds"] / writer["single_seconds"], 2)
            # Everything but writing the index (start-up included), against the writer's own time.
            run["other_stages_seconds"] = round(
                e2e["seconds"] - stages.get("index", 0.0) + writer["build_records_seconds"], 2
            )
            run["end_to_end_documents_per_s"] = round(e2e["documents"] / e2e["seconds"], 1)
        results["corpora"][name] = {"bare_whoosh": bare, "engines": runs}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"ingest benchmark, {results['date']}, {results['cores']} cores")
    for name, r in results["corpora"].items():
        b = r["bare_whoosh"]
        first = r["engines"][engines[0]]["end_to_end"]
        print(
            f"\n{name}: {first['files']} files read, {first['input_mb']} MB in, {first['sections']} sections, "
            f"{first['skipped']} skipped, {first['failed']} failed"
        )
        print(
            f"  bare Whoosh       {b['seconds']:7.2f} s  {b['docs_per_s']:7.1f} docs/s   {b['mb_per_s']:5.2f} MB/s of text ({b['records']} records)"
        )
        for engine, run in r["engines"].items():
            e, w = run["end_to_end"], run["writer"]
            print(
                f"  palimpsest index --engine {engine}  {e['seconds']:7.2f} s  {e['docs_per_s']:7.1f} files/s  "
                f"{e['mb_per_s']:5.2f} MB/s  peak PSS {e['peak_pss_mb']} MB (RSS sum {e['peak_rss_sum_mb']} MB)"
            )
            print("    stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in e["timings"].items()))
            print(
                f"    writer alone: {w['single_seconds']:.2f} s in one process, {w['parallel_seconds']:.2f} s "
                f"with writer processes/threads ({w['records']} records; building them {w['build_records_seconds']:.2f} s)"
            )
            print(
                f"    ratio (bare time / end-to-end time): {run['ratio_vs_bare']}; bound set by the writer "
                f"(bare / writer alone): {run['writer_bound_ratio']}; all other stages {run['other_stages_seconds']:.2f} s"
            )


if __name__ == "__main__":
    main()
