"""A corpus of more than 100,000 sections for the latency benchmarks (search and web).

Usage: python bench/latency_corpus.py [--index-dir DIR] [--engine NAME] [--json]

Real text only, recombined: the Python docs' reST sources (python3.11-doc, `_sources/`) give
paragraphs and headings, Cranfield gives 1,400 abstracts with titles. Documents are written
as Markdown under bench/work/latency/ (generated, git-ignored): the real Cranfield abstracts,
then GENERATED documents whose title, section headings and paragraphs are drawn from those
pools with a fixed seed (so every run builds the same corpus). The index is built by
`palimpsest index` itself, with the default engine or `--engine`, and cached in
bench/work/latency-index (another engine's: latency-index-<engine>) until the corpus or schema changes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from ingest import cranfield_docs  # noqa: E402

WORK = ROOT / "bench" / "work"
RST = Path("/usr/share/doc/python3.11/html/_sources")
SEED = 20261121
GENERATED = 20_000
SECTIONS_PER_DOC = (3, 8)  # inclusive range of sections in a generated document
CORPUS_VERSION = "2"
_UNDERLINE = re.compile(r"^([=\-~^*#+\"'`])\1{2,}\s*$")
_MARKUP = re.compile(r":[a-z:]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`|``([^`]*)``|\*\*?([^*]+)\*\*?")


def rst_pools() -> tuple[list[str], list[str]]:
    """(headings, paragraphs) of the Python docs' reST sources, markup reduced to words."""
    headings: list[str] = []
    paragraphs: list[str] = []
    for path in sorted(RST.rglob("*.rst.txt")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for i, line in enumerate(lines[1:], 1):
            if _UNDERLINE.match(line) and lines[i - 1].strip() and not _UNDERLINE.match(lines[i - 1]):
                heading = _plain(lines[i - 1])
                if 2 <= len(heading) <= 80:
                    headings.append(heading)
        for block in re.split(r"\n\s*\n", "\n".join(lines)):
            if block.startswith((" ", "..", ":", ">>>", "*", "-", "|", "+", "=")):
                continue
            text = _plain(" ".join(block.split()))
            if len(text.split()) >= 12 and not _UNDERLINE.search(block):
                paragraphs.append(text)
    return sorted(set(headings)), paragraphs


def _plain(text: str) -> str:
    return _MARKUP.sub(lambda m: next(g for g in m.groups() if g is not None), text).strip()


def write_corpus(out: Path) -> dict:
    """Write the corpus (once per CORPUS_VERSION); return its description."""
    stamp = out / ".corpus"
    if stamp.exists() and stamp.read_text().strip() == CORPUS_VERSION:
        return json.loads((out / ".about").read_text())
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cran = [(title, abstract) for _num, title, abstract in cranfield_docs()]
    headings, paragraphs = rst_pools()
    paragraphs += [abstract for _, abstract in cran if abstract]
    titles = headings + [t for t, _ in cran if t]
    rng = random.Random(SEED)
    sections = 0
    for n, (title, abstract) in enumerate(cran, 1):
        (out / f"cran-{n:04d}.md").write_text(f"# {title}\n\n{abstract}\n", encoding="utf-8")
        sections += 1
    for n in range(GENERATED):
        parts = [f"# {rng.choice(titles)} ({n})", "", rng.choice(paragraphs), ""]
        for _ in range(rng.randint(*SECTIONS_PER_DOC) - 1):
            parts += [f"## {rng.choice(headings)}", ""]
            parts += [p + "\n" for p in rng.sample(paragraphs, rng.randint(1, 3))]
            sections += 1
        sections += 1  # the lead
        sub = out / f"g{n // 1000:02d}"
        sub.mkdir(exist_ok=True)
        (sub / f"doc-{n:05d}.md").write_text("\n".join(parts), encoding="utf-8")
    about = {
        "documents": len(cran) + GENERATED,
        "sections_written": sections,
        "pools": {"headings": len(headings), "paragraphs": len(paragraphs), "titles": len(titles)},
        "seed": SEED,
    }
    (out / ".about").write_text(json.dumps(about))
    stamp.write_text(CORPUS_VERSION)
    return about


def queries(n: int = 500) -> list[str]:
    """`n` queries: the 225 Cranfield questions, then real Python-docs headings, one word and two-word
    pairs of their words (seeded), so both verbose and short queries are measured."""
    from quality import queries as cranfield_queries

    out = [re.sub(r"[\"()*~:+\-]", " ", q) for q in cranfield_queries()]
    headings, _ = rst_pools()
    rng = random.Random(SEED + 1)
    words = sorted({w.lower() for h in headings for w in re.findall(r"[A-Za-z]{4,}", h)})
    while len(out) < n:
        kind = len(out) % 3
        if kind == 0:
            out.append(re.sub(r"[\"()*~:+\-]", " ", rng.choice(headings)))
        elif kind == 1:
            out.append(rng.choice(words))
        else:
            out.append(f"{rng.choice(words)} {rng.choice(words)}")
    return out[:n]


def query_sets(n: int = 500) -> dict[str, list[str]]:
    """The queries of `queries` by kind: `short` (Python-docs headings, words and pairs) and
    `cranfield` (the Cranfield questions, 18 words on average); with `questions`, when CISI's
    queries are at hand, `questions30`."""
    everything = queries(n)
    from quality import cranfield_queries

    n_cranfield = min(len(cranfield_queries()), len(everything))
    out = {"short": everything[n_cranfield:], "cranfield": everything[:n_cranfield]}
    out = {k: v for k, v in out.items() if v}
    long_ones = questions()
    if long_ones:
        out["questions30"] = long_ones
    return out


QUESTION_WORDS = 30
CISI = ROOT.parent / "shared" / "data" / "cisi" / "queries.jsonl"


def questions() -> list[str]:
    """Questions of QUESTION_WORDS words, as people type them: CISI's natural-language queries
    (public test collection, ../shared/data/cisi) that have at least 25 words, cut at 30
    (fewer than 64 words: searched as queries, not as pasted text). Empty when CISI is absent."""
    if not CISI.is_file():
        return []
    out = []
    for line in CISI.read_text(encoding="utf-8").splitlines():
        if line.strip():
            words = json.loads(line)["text"].split()
            if len(words) >= 25:
                out.append(" ".join(words[:QUESTION_WORDS]))
    return out


PASSAGE_WORDS = 300


def passages(n: int = 50) -> list[str]:
    """`n` pasted passages of PASSAGE_WORDS words: runs of consecutive paragraphs of the Python docs'
    reST sources (seeded), cut at that length, as someone would paste a stretch of a page."""
    _, paragraphs = rst_pools()
    rng = random.Random(SEED + 2)
    out = []
    while len(out) < n:
        start = rng.randrange(len(paragraphs))
        words: list[str] = []
        for paragraph in paragraphs[start:]:
            words += paragraph.split()
            if len(words) >= PASSAGE_WORDS:
                out.append(" ".join(words[:PASSAGE_WORDS]))
                break
    return out


QUOTE_WORDS = 60


def quotes(n: int = 50) -> list[str]:
    """`n` quoted passages: QUOTE_WORDS consecutive words from inside one paragraph (seeded) of at
    least that length, quotation marks of its own left out, so each is in the corpus word for word."""
    _, paragraphs = rst_pools()
    long_enough = [p for p in paragraphs if len(p.split()) >= QUOTE_WORDS + 10]
    rng = random.Random(SEED + 3)
    out = []
    for paragraph in rng.sample(long_enough, n):
        words = re.sub(r"[\"“”]", " ", paragraph).split()
        start = rng.randrange(len(words) - QUOTE_WORDS + 1)
        out.append('"' + " ".join(words[start : start + QUOTE_WORDS]) + '"')
    return out


def index_key(engine: str) -> str:
    """The key of an index of this corpus built with `engine` by this code's schemas (stored in
    the index folder's .bench-key): equal keys, same corpus, same store and engine schemas."""
    from indexer.engines.tantivy.schema import INDEX_SCHEMA_VERSION as TANTIVY_SCHEMA
    from indexer.engines.whoosh.flatpostings import FORMAT as FLAT_FORMAT
    from indexer.engines.whoosh.schema import INDEX_SCHEMA_VERSION as WHOOSH_SCHEMA
    from indexer.engines.xapian.schema import INDEX_SCHEMA_VERSION as XAPIAN_SCHEMA
    from indexer.store import STORE_SCHEMA_VERSION

    # Whoosh's: its schema and the format of the flat postings files its commits write.
    engine_schema = {"whoosh": f"{WHOOSH_SCHEMA}+{FLAT_FORMAT}", "tantivy": TANTIVY_SCHEMA, "xapian": XAPIAN_SCHEMA}[
        engine
    ]
    schema_version = f"{STORE_SCHEMA_VERSION}.{engine}.{engine_schema}"
    return hashlib.sha256(f"{CORPUS_VERSION}:{schema_version}".encode()).hexdigest()[:12]


def build_index(index_dir: Path | None = None, engine: str | None = None) -> tuple[Path, dict]:
    """The corpus indexed by `palimpsest index` with `engine` (default: the default engine), reused
    while the corpus and schemas are unchanged."""
    from indexer.engines import DEFAULT_ENGINE

    engine = engine or DEFAULT_ENGINE
    about = write_corpus(WORK / "latency")
    default_dir = WORK / ("latency-index" if engine == DEFAULT_ENGINE else f"latency-index-{engine}")
    index_dir = index_dir or default_dir
    key = index_key(engine)
    stamp = index_dir / ".bench-key"
    if not (stamp.exists() and stamp.read_text() == key):
        shutil.rmtree(index_dir, ignore_errors=True)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "indexer.cli", "index", str(WORK / "latency"), "--index-dir", str(index_dir),
             "--json", "--workers", "0", "--engine", engine],
            check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        about["index_seconds"] = round(time.perf_counter() - t0, 1)
        stamp.write_text(key)
    return index_dir, {**about, "engine": engine}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index-dir", type=Path, help="where to build the index (default bench/work/latency-index)")
    ap.add_argument("--engine", help="engine of the index (default: the default engine)")
    ap.add_argument("--json", action="store_true", help="print JSON")
    args = ap.parse_args()
    index_dir, about = build_index(args.index_dir, args.engine)
    print(json.dumps({"index_dir": str(index_dir), **about}, indent=2 if not args.json else None))


if __name__ == "__main__":
    main()
