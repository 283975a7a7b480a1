"""Text reuse (issue 16): recall and precision on a generated corpus, and what the stage costs.

Usage: python bench/reuse.py [--docs N] [--passages N] [--runs N] [--seed S] [--edit-rate R] [--study] [--json]

The corpus is generated with a fixed seed: documents of made-up content words (Zipf-distributed)
mixed with English function words, in sentences and paragraphs; into pairs of them are planted

- edited passages of 40-120 words, 0-10 % of their words changed, added or dropped in the copy;
- exact quotes of 12-40 words, put inside a sentence of the copy (different words around them);

and, to tempt false links, 10-word stock phrases and 14-word phrases of mostly stop words each
repeated in many documents, and a second, lightly edited copy of some documents (versions of one
document: never to be linked). Every file is indexed twice in the same run, with the reuse stage
and without it (alternating, `--runs` times each; best run of each reported), and the links found
are compared with the planted passages: a planted passage is found when a link between its two
documents covers at least half of it on both sides; a link is right when at least half of it lies
in a passage planted between its two documents, on both sides.

`--study` also compares the two candidate generators the issue names, on the same texts and
before any verification: winnowed shingles (the indexer's choice) and MinHash over windows of two
sentences with LSH banding. Targets (issue 16): recall >= 0.95 for both kinds of passage,
precision >= 0.99, indexing throughput reduced by at most 20 %.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.analysis import STOP_WORDS  # noqa: E402

_FUNCTION_TEXT = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which but have an "
    "they you were her one all we there been has when who will more no if out so said what up its about into "
    "than them can only other new some could these two may then do first any my now such like our over"
)
FUNCTION = _FUNCTION_TEXT.split()
_SYLLABLES_TEXT = "ka lo mi ren tas vu dor pel sin gra fo bex tul nar vi sha cor den mul pra zo hi ter wen qua lis"
SYLLABLES = _SYLLABLES_TEXT.split()


def vocabulary(rng: random.Random, n: int) -> list[str]:
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class Writer:
    """Sentences of Zipf-distributed content words with function words between them (40 %).

    Content words take Zipf ranks from FUNCTION_RANKS on (the ranks above are the function
    words'), so the commonest content word is about 0.3 % of the text, as in English prose."""

    FUNCTION_RANKS = 50

    def __init__(self, rng: random.Random, vocab: list[str]) -> None:
        self.rng = rng
        self.vocab = vocab
        self.weights = [1 / (i + 1 + self.FUNCTION_RANKS) for i in range(len(vocab))]

    def words(self, n: int) -> list[str]:
        content = self.rng.choices(self.vocab, self.weights, k=n)
        return [self.rng.choice(FUNCTION) if self.rng.random() < 0.4 else w for w in content]

    def sentence(self) -> str:
        w = self.words(self.rng.randint(8, 24))
        return " ".join(w).capitalize() + "."


@dataclass
class Planted:
    kind: str  # "edited" | "quote"
    file_a: str
    text_a: str
    file_b: str
    text_b: str
    words: int


def edit(rng: random.Random, words: list[str], rate: float, writer: Writer) -> list[str]:
    out = list(words)
    for _ in range(int(rate * len(words))):
        i = rng.randrange(1, len(out) - 1)  # the first and last words stay: the passage keeps its length
        op = rng.choice(("replace", "insert", "delete"))
        if op == "replace":
            out[i] = writer.words(1)[0]
        elif op == "insert":
            out.insert(i, writer.words(1)[0])
        else:
            del out[i]
    return out


def generate(folder: Path, docs: int, passages: int, seed: int, edit_rate: float | None = None) -> list[Planted]:
    """Write the corpus into `folder`; return the planted passages."""
    rng = random.Random(seed)
    writer = Writer(rng, vocabulary(rng, 20000))
    paragraphs: dict[str, list[list[str]]] = {}
    for i in range(docs):
        paragraphs[f"doc{i:04d}.txt"] = [
            [writer.sentence() for _ in range(rng.randint(3, 6))] for _ in range(rng.randint(5, 10))
        ]
    names = sorted(paragraphs)
    planted: list[Planted] = []
    inserted: set[str] = set()  # sentences the second copies below must keep
    for n in range(passages):
        a, b = rng.sample(names, 2)
        if n % 2 == 0:
            words = writer.words(rng.randint(40, 120))
            copy = edit(rng, words, rng.uniform(0.0, 0.10) if edit_rate is None else edit_rate, writer)
            kind = "edited"
        else:
            words = writer.words(rng.randint(12, 40))
            copy = list(words)
            kind = "quote"
        text_a = " ".join(words)
        text_b = " ".join(copy)
        # In the source, sentences of their own; in the copy, inside a sentence of other words.
        pa = rng.choice(paragraphs[a])
        pa.insert(rng.randrange(len(pa) + 1), text_a.capitalize() + ".")
        pb = rng.choice(paragraphs[b])
        around = writer.words(6)
        pb.insert(rng.randrange(len(pb) + 1), " ".join([*around[:3], text_b, *around[3:]]).capitalize() + ".")
        inserted.add(text_a.capitalize() + ".")
        inserted.update(x for x in pb if text_b in x)
        planted.append(Planted(kind, a, text_a, b, text_b, len(words)))
    # Stock phrases: 10 words, or 14 words mostly stop words, each in many documents.
    stock = [" ".join(writer.words(10)) for _ in range(10)]
    stop = sorted(STOP_WORDS)
    stock += [" ".join(rng.choice(stop) if k % 4 else writer.words(1)[0] for k in range(14)) for _ in range(10)]
    for phrase in stock:
        for name in rng.sample(names, max(2, docs // 20)):
            para = rng.choice(paragraphs[name])
            para.insert(rng.randrange(len(para) + 1), phrase.capitalize() + ".")
    for name in names:
        (folder / name).write_text(
            f"Document {name[3:7]}\n\n" + "\n\n".join(" ".join(p) for p in paragraphs[name]) + "\n", "utf-8"
        )
    # Versions: a lightly edited second copy of every 10th document (one document, two versions).
    for name in names[::10]:
        paras = [list(p) for p in paragraphs[name]]
        for p in rng.sample(paras, min(2, len(paras))):
            i = rng.randrange(len(p))
            if p[i] not in inserted:
                p[i] = writer.sentence()
        (folder / name.replace(".txt", "_v2.txt")).write_text(
            f"Document {name[3:7]}\n\n" + "\n\n".join(" ".join(p) for p in paras) + "\n", "utf-8"
        )
    return planted


def index(folder: Path, index_dir: Path, reuse: bool) -> dict[str, Any]:
    from indexer.pipeline import index_paths
    from indexer.settings import Settings

    t0 = time.perf_counter()
    report = index_paths([folder], Settings(index_dir=index_dir, reuse=reuse))
    report["wall"] = time.perf_counter() - t0
    return report


def links_found(index_dir: Path) -> list[dict[str, Any]]:
    """Every stored link once: file names (first file of each side's version) and character spans
    in the sides' section texts, with the section texts."""
    from indexer.store import Store

    store = Store(index_dir)
    try:
        out = []
        for vid in sorted(store.latest_versions()):
            texts = {s.ordinal: s.text for s in store.sections_of(vid)}
            file_a = Path(store.sources_of(vid)[0].path).name
            for r in store.reuse_of(vid):
                if r["other_version_id"] < vid:
                    continue
                other_texts = {s.ordinal: s.text for s in store.sections_of(r["other_version_id"])}
                out.append(
                    {
                        "files": (file_a, Path(store.sources_of(r["other_version_id"])[0].path).name),
                        "a": (texts[r["ordinal"]], r["start"], r["end"]),
                        "b": (other_texts[r["other_ordinal"]], r["other_start"], r["other_end"]),
                        "words": r["words"],
                    }
                )
        return out
    finally:
        store.close()


def _span(text: str, passage: str) -> tuple[int, int] | None:
    i = text.lower().find(passage.lower())
    return None if i < 0 else (i, i + len(passage))


def _covered(span: tuple[int, int], start: int, end: int) -> float:
    """Share of `span` that [start, end) covers."""
    return max(0, min(span[1], end) - max(span[0], start)) / max(1, span[1] - span[0])


def _inside(span: tuple[int, int], start: int, end: int) -> float:
    """Share of [start, end) inside `span`."""
    return max(0, min(span[1], end) - max(span[0], start)) / max(1, end - start)


def score(planted: list[Planted], links: list[dict[str, Any]]) -> dict[str, Any]:
    def base(name: str) -> str:
        return name.replace("_v2", "")

    by_pair: dict[frozenset[str], list[dict[str, Any]]] = {}
    for link in links:
        by_pair.setdefault(frozenset(base(f) for f in link["files"]), []).append(link)

    def sides(p: Planted, link: dict[str, Any]) -> tuple[Any, Any] | None:
        first, _second = (base(f) for f in link["files"])
        (ta, sa, ea), (tb, sb, eb) = link["a"], link["b"]
        if first != p.file_a:
            (ta, sa, ea), (tb, sb, eb) = (tb, sb, eb), (ta, sa, ea)
        span_a, span_b = _span(ta, p.text_a), _span(tb, p.text_b)
        if span_a is None or span_b is None:
            return None
        return (span_a, sa, ea), (span_b, sb, eb)

    found = {"edited": [0, 0], "quote": [0, 0]}
    missed = []
    for p in planted:
        found[p.kind][1] += 1
        for link in by_pair.get(frozenset((p.file_a, p.file_b)), []):
            s = sides(p, link)
            if s and _covered(s[0][0], s[0][1], s[0][2]) >= 0.5 and _covered(s[1][0], s[1][1], s[1][2]) >= 0.5:
                found[p.kind][0] += 1
                break
        else:
            missed.append(f"{p.kind} {p.words} words {p.file_a} {p.file_b}: {p.text_a[:60]}")
    right = 0
    wrong_examples = []
    for link in links:
        ok = False
        for p in planted:
            if frozenset((p.file_a, p.file_b)) != frozenset(base(f) for f in link["files"]):
                continue
            s = sides(p, link)
            if s and _inside(s[0][0], s[0][1], s[0][2]) >= 0.5 and _inside(s[1][0], s[1][1], s[1][2]) >= 0.5:
                ok = True
                break
        right += ok
        if not ok and len(wrong_examples) < 5:
            wrong_examples.append(link["a"][0][link["a"][1] : link["a"][2]][:120])
    return {
        "recall_edited": round(found["edited"][0] / max(1, found["edited"][1]), 4),
        "recall_quotes": round(found["quote"][0] / max(1, found["quote"][1]), 4),
        "planted_edited": found["edited"][1],
        "planted_quotes": found["quote"][1],
        "links": len(links),
        "precision": round(right / max(1, len(links)), 4),
        "wrong_examples": wrong_examples,
        "missed_examples": missed[:5],
    }


# -- candidate generators compared (--study) ------------------------------------------------
def study(folder: Path, planted: list[Planted]) -> dict[str, Any]:
    """Candidate recall and cost of winnowing and of sentence-window MinHash, same texts."""
    import numpy as np

    from indexer import dedup
    from indexer.reuse import ReuseRule, fingerprints, section_words

    texts = {p.name: p.read_text("utf-8") for p in sorted(folder.glob("doc????.txt"))}
    rule = ReuseRule()
    out: dict[str, Any] = {}
    # Winnowing: a planted passage is a candidate when a fingerprint inside it on side a is also
    # a fingerprint of side b.
    t0 = time.perf_counter()
    words = {n: section_words(0, t, "en") for n, t in texts.items()}
    prints = {n: fingerprints(w, rule) for n, w in words.items()}
    seconds = time.perf_counter() - t0
    hits = {"edited": [0, 0], "quote": [0, 0]}
    for p in planted:
        hits[p.kind][1] += 1
        span = _span(texts[p.file_a], p.text_a)
        if span is None:
            continue
        inside = {h for h, pos in prints[p.file_a] if span[0] <= pos < span[1]}
        if inside & {h for h, _ in prints[p.file_b]}:
            hits[p.kind][0] += 1
    stored = sum(len(v) for v in prints.values())
    total_words = sum(len(w) for w in words.values())
    out["winnowing"] = {
        "candidate_recall_edited": round(hits["edited"][0] / hits["edited"][1], 4),
        "candidate_recall_quotes": round(hits["quote"][0] / hits["quote"][1], 4),
        "fingerprints_per_100_words": round(100 * stored / total_words, 1),
        "seconds": round(seconds, 2),
    }
    # MinHash over windows of two sentences, 64 permutations, LSH with 16 bands of 4 rows
    # (threshold near Jaccard 0.5), shingles of 3 words.
    t0 = time.perf_counter()
    bands, rows = 16, 4
    windows: dict[str, list[tuple[int, int, np.ndarray]]] = {}
    for name, text in texts.items():
        sents = [(m.start(), m.end()) for m in re.finditer(r"[^.\n]+[.]?", text) if m.group().strip()]
        wins = []
        for i in range(len(sents)):
            lo, hi = sents[i][0], sents[min(i + 1, len(sents) - 1)][1]
            sig = dedup.signature(dedup.shingles(text[lo:hi], 3), bands * rows)
            wins.append((lo, hi, sig))
        windows[name] = wins
    buckets: dict[tuple[int, bytes], set[str]] = {}
    for name, wins in windows.items():
        for _lo, _hi, sig in wins:
            for b in range(bands):
                buckets.setdefault((b, sig[b * rows : (b + 1) * rows].tobytes()), set()).add(name)
    seconds = time.perf_counter() - t0
    hits = {"edited": [0, 0], "quote": [0, 0]}
    for p in planted:
        hits[p.kind][1] += 1
        span = _span(texts[p.file_a], p.text_a)
        if span is None:
            continue
        found = False
        for lo, hi, sig in windows[p.file_a]:
            if hi <= span[0] or lo >= span[1]:
                continue
            if any(p.file_b in buckets[(b, sig[b * rows : (b + 1) * rows].tobytes())] for b in range(bands)):
                found = True
                break
        hits[p.kind][0] += found
    out["minhash_windows"] = {
        "candidate_recall_edited": round(hits["edited"][0] / hits["edited"][1], 4),
        "candidate_recall_quotes": round(hits["quote"][0] / hits["quote"][1], 4),
        "signatures_per_100_words": round(100 * sum(len(w) for w in windows.values()) / total_words, 1),
        "values_per_100_words": round(100 * bands * rows * sum(len(w) for w in windows.values()) / total_words, 1),
        "seconds": round(seconds, 2),
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=400)
    ap.add_argument("--passages", type=int, default=200)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--edit-rate", type=float, help="Edit every edited passage this much (default: 0-10 %%).")
    ap.add_argument("--study", action="store_true", help="Also compare winnowing with sentence-window MinHash.")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        folder.mkdir()
        planted = generate(folder, args.docs, args.passages, args.seed, args.edit_rate)
        size = sum(p.stat().st_size for p in folder.iterdir())
        # A first, untimed run loads the libraries and language models both modes use.
        index(folder, Path(tmp) / "warm", reuse=False)
        walls: dict[str, list[float]] = {"off": [], "on": []}
        stage: list[float] = []
        for run in range(args.runs):
            for mode in ("off", "on"):
                ix = Path(tmp) / f"ix_{mode}_{run}"
                report = index(folder, ix, reuse=mode == "on")
                walls[mode].append(report["wall"])
                if mode == "on":
                    stage.append(report["timings"]["reuse"])
        result: dict[str, Any] = {
            "files": len(list(folder.iterdir())),
            "megabytes": round(size / 1e6, 2),
            "seconds_without": round(min(walls["off"]), 2),
            "seconds_with": round(min(walls["on"]), 2),
            "reuse_stage_seconds": round(min(stage), 2),
            "throughput_ratio": round(min(walls["off"]) / min(walls["on"]), 3),
            "runs": {k: [round(x, 2) for x in v] for k, v in walls.items()},
            "stage_median": round(statistics.median(stage), 2),
        }
        result.update(score(planted, links_found(Path(tmp) / "ix_on_0")))
        if args.study:
            result["study"] = study(folder, planted)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"corpus: {result['files']} files, {result['megabytes']} MB; {result['planted_edited']} edited passages "
          f"(40-120 words, <= 10 % edited), {result['planted_quotes']} exact quotes (12-40 words)")  # fmt: skip
    print(f"recall: edited {result['recall_edited']:.3f}, quotes {result['recall_quotes']:.3f}; "
          f"precision {result['precision']:.3f} ({result['links']} links)")  # fmt: skip
    for example in result["wrong_examples"]:
        print(f"  wrong: {example}")
    for example in result["missed_examples"]:
        print(f"  missed: {example}")
    print(f"indexing: {result['seconds_without']} s without the stage, {result['seconds_with']} s with it "
          f"(throughput x{result['throughput_ratio']}; the stage {result['reuse_stage_seconds']} s); "
          f"runs {result['runs']}")  # fmt: skip
    if args.study:
        for name, figures in result["study"].items():
            print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
