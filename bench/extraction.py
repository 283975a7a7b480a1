"""HTML main-content extraction: what `palimpsest index` keeps of a web page, against a truth text.

Usage: python bench/extraction.py [--json] [--per-page FILE.tsv] [--workers N] [--no-cost]

Data: ../shared/data/html-extraction (pages/<name>.html and truth/<name>.txt, the text Mozilla
Readability extracts from each page; see its README). In one run:

- palimpsest: `palimpsest index pages/ --index-dir TMP` in a subprocess, then, for each page, the
  text the index holds for the page's version: every section's heading and text, without the
  lines judged page furniture across the pages. The title is left out, as in the truth, where
  the headline goes to the metadata and not to the text.
- trafilatura: `trafilatura.extract(html)` with its defaults.
- readability-lxml: `Document(html).summary()`, its text (when the `bench` extra is installed).
- visible text: all text of the page's <body> outside script, style, noscript and template.

Score (the data set's metric, our own code): lowercase, each CJK/kana/hangul character is a
token, otherwise runs of word characters; per page, overlap = sum of min(count in output,
count in truth), P = overlap/|output|, R = overlap/|truth|, F1 = 2PR/(P+R), an empty output
scores 0; means over pages. Reported for the real pages (source >= 10 kB) and for all pages.

Cost: milliseconds of CPU per page for each extractor on the dev pages and on the Python docs
(/usr/share/doc/python3.11/html), single process, same run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "html-extraction"
PYDOC = Path("/usr/share/doc/python3.11/html")
REAL_PAGE_BYTES = 10_000

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_WORDS = re.compile(r"\w+")


def tokens(text: str) -> Counter[str]:
    """Bag of lowercase tokens: CJK characters one by one, other words as \\w runs."""
    return Counter(_WORDS.findall(_CJK.sub(lambda m: f" {m.group(0)} ", text.lower())))


def score(output: str, truth: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of the output's tokens against the truth's, with counts."""
    out, ref = tokens(output), tokens(truth)
    n_out, n_ref = sum(out.values()), sum(ref.values())
    overlap = sum((out & ref).values())
    if not n_out or not n_ref or not overlap:
        return 0.0, 0.0, 0.0
    p, r = overlap / n_out, overlap / n_ref
    return p, r, 2 * p * r / (p + r)


# -- extractors ------------------------------------------------------------------------------
def palimpsest_texts(pages: Path, workers: int) -> tuple[dict[str, str], dict[str, dict], dict, float]:
    """Index the pages with the CLI, then read back what the store keeps for each page:
    the text of its version's sections, and its title, authors, dates and site."""
    from indexer.settings import Settings
    from indexer.store import Store
    from indexer.writer import without_furniture

    exe = shutil.which("palimpsest", path=str(Path(sys.executable).parent)) or "palimpsest"
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "ix"
        cmd = [exe, "index", str(pages), "--index-dir", str(index_dir), "--json", "--workers", str(workers)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"palimpsest index failed: {proc.stderr}")
        report = json.loads(proc.stdout)
        store = Store(index_dir)
        try:
            texts, meta = {}, {}
            # What the index holds: the stored text without the lines judged page furniture.
            thresholds = store.furniture_thresholds(Settings().furniture)
            for page in sorted(pages.glob("*.html")):
                parts: list[str] = []
                for version_id in store.versions_of_path(str(page))[:1]:
                    hidden = store.furniture_lines(version_id, thresholds)
                    for section in store.sections_of(version_id):
                        parts += [section.heading, without_furniture(section.text, hidden)]
                    v = store.version(version_id)
                    meta[page.stem] = {"title": v.title, "authors": v.authors, "dates": v.dates, "site": v.site}
                texts[page.stem] = "\n".join(p for p in parts if p)
        finally:
            store.close()
    return texts, meta, report, elapsed


def metadata_agreement(meta: dict[str, dict], names: list[str]) -> dict[str, str]:
    """How often the stored title, author, published date and site agree with the data set's
    metadata (Readability's, from the same page), over the pages where it has the field."""

    def norm(text: str | None) -> str:
        return " ".join((text or "").casefold().split())

    counts = {"title": [0, 0], "author": [0, 0], "published": [0, 0], "site": [0, 0]}
    for n in names:
        truth = json.loads((DATA / "truth" / f"{n}.json").read_text(encoding="utf-8"))
        ours = meta.get(n, {})
        published = [d["value"] for d in ours.get("dates", ()) if d.get("kind") == "published"]
        title, byline, date, site = (truth.get(k) for k in ("title", "byline", "publishedTime", "siteName"))
        checks = {
            "title": (title, norm(title) == norm(ours.get("title"))),
            # The byline is free text ("By Jane Doe, Staff writer"): one stored author named in it.
            "author": (byline, any(norm(a) in norm(byline) for a in ours.get("authors", ()))),
            "published": (date, published[:1] == [(date or "")[:10]]),
            "site": (site, norm(site) == norm(ours.get("site"))),
        }
        for field, (expected, agrees) in checks.items():
            if expected:
                counts[field][1] += 1
                counts[field][0] += agrees
    return {field: f"{ok} of {n}" for field, (ok, n) in counts.items()}


def trafilatura_text(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html) or ""


def readability_text(html: str) -> str:
    import lxml.html
    from readability import Document

    summary = Document(html).summary()
    return lxml.html.fromstring(summary).text_content() if summary.strip() else ""


def visible_text(html: str) -> str:
    """All text of the body (the whole document if it has none), scripts and styles left out."""
    import lxml.html
    from lxml import etree

    try:
        tree = lxml.html.document_fromstring(html.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (etree.ParserError, ValueError):
        return ""
    for el in list(tree.iter("script", "style", "noscript", "template", "title")):
        el.drop_tree()
    body = tree.find("body")
    root = body if body is not None else tree
    parts: list[str] = []
    # Each element's text and tail apart, so words of adjacent blocks never run together; the
    # tail of an HTML comment is page text too.
    for node in root.iter():
        if isinstance(node.tag, str):
            parts.append(node.text or "")
        if node is not root:
            parts.append(node.tail or "")
    return " ".join(parts)


def palimpsest_loader(html: str) -> str:
    """The HTML loader alone (no cleaning, sectioning or store): for the cost figures."""
    from indexer.models import SourceFile
    from indexer.sources import html as html_source

    raw = html_source.parse(html, SourceFile("page.html", "text/html", 0, 0.0, ""))
    return "\n".join(b.text for b in raw.blocks)


def bs4_walk(html: str) -> str:
    """BeautifulSoup over the whole page with the chrome rules (the loader before issue 10 did this)."""
    from indexer.sources import htmlwalk

    return "\n".join(b.text for b in htmlwalk.blocks_of(html))


# -- the run -------------------------------------------------------------------------------
def mean(rows: list[dict], key: str) -> float:
    return round(statistics.fmean(r[key] for r in rows), 3) if rows else 0.0


def summary(rows: list[dict], names: list[str]) -> dict:
    out = {"pages": len(rows)}
    for name in names:
        out[name] = {
            "precision": mean(rows, f"{name}_p"),
            "recall": mean(rows, f"{name}_r"),
            "f1": mean(rows, f"{name}_f1"),
            "no_text": sum(1 for r in rows if not r[f"{name}_tokens"]),
        }
    return out


def cost(extractors: dict[str, Callable[[str], str]], texts: list[str]) -> dict[str, float]:
    """CPU milliseconds per page of each extractor (process time, one process)."""
    out = {}
    for name, fn in extractors.items():
        fn(texts[0])  # imports and caches outside the timing
        t0 = time.process_time()
        for text in texts:
            fn(text)
        out[name] = round((time.process_time() - t0) * 1000 / len(texts), 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--per-page", help="write one TSV row per page here")
    ap.add_argument("--workers", type=int, default=0, help="palimpsest --workers (0 = one per core)")
    ap.add_argument("--no-cost", action="store_true", help="skip the cost-per-page measurement")
    args = ap.parse_args()
    if not (DATA / "pages").is_dir():
        print(f"skipping HTML extraction: {DATA} missing", file=sys.stderr)
        return
    for name in ("trafilatura", "htmldate", "readability", "readability.readability"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    warnings.simplefilter("ignore")

    pages = DATA / "pages"
    names = sorted(p.stem for p in pages.glob("*.html"))
    html = {n: (pages / f"{n}.html").read_bytes().decode("utf-8") for n in names}
    truth = {n: (DATA / "truth" / f"{n}.txt").read_text(encoding="utf-8") for n in names}
    pal, meta, report, index_seconds = palimpsest_texts(pages, args.workers)
    extractors: dict[str, Callable[[str], str]] = {"trafilatura": trafilatura_text, "visible": visible_text}
    try:
        import readability  # noqa: F401

        extractors["readability"] = readability_text
    except ImportError:
        print("readability-lxml not installed (pip install -e '.[bench]'): left out", file=sys.stderr)
    columns = ["palimpsest", *extractors]
    rows = []
    for n in names:
        outputs = {"palimpsest": pal.get(n, "")} | {k: fn(html[n]) for k, fn in extractors.items()}
        row: dict = {"name": n, "bytes": len(html[n].encode("utf-8"))}
        for k, text in outputs.items():
            p, r, f = score(text, truth[n])
            row |= {f"{k}_p": p, f"{k}_r": r, f"{k}_f1": f, f"{k}_tokens": sum(tokens(text).values())}
        rows.append(row)
    real = [r for r in rows if r["bytes"] >= REAL_PAGE_BYTES]
    results: dict = {
        "date": time.strftime("%Y-%m-%d"),
        "cores": os.cpu_count(),
        "index_seconds": round(index_seconds, 2),
        "index_failed": report.get("failed", []),
        "real_pages": summary(real, columns),
        "all_pages": summary(rows, columns),
        "palimpsest_no_text": [r["name"] for r in rows if not r["palimpsest_tokens"]],
        "palimpsest_metadata_agrees": metadata_agreement(meta, names),
    }
    if not args.no_cost:
        costed = {"palimpsest loader": palimpsest_loader, "bs4 walk (whole page)": bs4_walk, **extractors}
        results["cost_ms_per_page"] = {"dev pages": cost(costed, list(html.values()))}
        if PYDOC.is_dir():
            docs = [p.read_bytes().decode("utf-8") for p in sorted(PYDOC.rglob("*.html"))]
            results["cost_ms_per_page"][f"python docs ({len(docs)} pages)"] = cost(costed, docs)
    if args.per_page:
        with open(args.per_page, "w", encoding="utf-8") as fh:
            fh.write("name\tbytes\t" + "\t".join(f"{c}_{m}" for c in columns for m in ("p", "r", "f1")) + "\n")
            for r in rows:
                vals = "\t".join(f"{r[f'{c}_{m}']:.3f}" for c in columns for m in ("p", "r", "f1"))
                fh.write(f"{r['name']}\t{r['bytes']}\t{vals}\n")
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"HTML extraction benchmark, {results['date']}, {results['cores']} cores")
    print(f"palimpsest index of {len(names)} pages: {results['index_seconds']} s")
    for label, key in (("real pages (source >= 10 kB)", "real_pages"), ("all pages", "all_pages")):
        s = results[key]
        print(f"\n{label}: {s['pages']} pages")
        print(f"  {'extractor':14s} {'precision':>9s} {'recall':>7s} {'F1':>6s} {'no text':>8s}")
        for c in columns:
            m = s[c]
            print(f"  {c:14s} {m['precision']:9.3f} {m['recall']:7.3f} {m['f1']:6.3f} {m['no_text']:8d}")
    print(f"\npages palimpsest kept no text of: {results['palimpsest_no_text'] or 'none'}")
    agrees = results["palimpsest_metadata_agrees"]
    print("palimpsest metadata = the data set's: " + ", ".join(f"{k} {v}" for k, v in agrees.items()))
    for corpus, figures in results.get("cost_ms_per_page", {}).items():
        print(f"\ncost on {corpus}, CPU ms per page: " + ", ".join(f"{k} {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
