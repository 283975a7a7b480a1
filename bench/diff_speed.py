"""Diff speed: a seed article against an edited copy (50 scattered edits, 3 moved paragraphs, a renamed section).

Usage: python bench/diff_speed.py [--runs N] [--json]

Version A is ../shared/seeds/002 as `palimpsest index` reads it (63 kB of text), and, to exceed
100 kB, 002 followed by the sections of 003. Version B is generated from A with a fixed seed:
50 word edits at random places (a word replaced, inserted or deleted), 3 paragraphs moved to
another place in their section, and one section heading renamed. `indexer.diff.diff_versions(A, B)`
is timed (median and worst of N runs). Target (issue 5): <= 200 ms for two 100 kB versions.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SEEDS = ROOT.parent / "shared" / "seeds"
SEED = 5


def load(paths: list[Path]) -> list:
    """The versions `palimpsest index` makes of these files (in order)."""
    from indexer.pipeline import index_paths
    from indexer.settings import Settings
    from indexer.store import Store

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, path in enumerate(paths):
            folder = Path(tmp) / f"in{n}"
            folder.mkdir()
            (folder / path.name).write_bytes(path.read_bytes())
            index_paths([folder], Settings(index_dir=Path(tmp) / f"ix{n}", workers=1))
            store = Store(Path(tmp) / f"ix{n}")
            doc = store.documents()[0]
            out.append(store.version(doc["latest_version_id"]))
            store.close()
    return out


def concatenated(first, second):  # type: ignore[no-untyped-def]
    sections = list(first.sections)
    for s in second.sections:
        sections.append(dataclasses.replace(s, ordinal=len(sections), anchor=f"{s.anchor}-2"))
    return dataclasses.replace(first, sections=tuple(sections))


def edited(version, rng: random.Random):  # type: ignore[no-untyped-def]
    """The version with 50 word edits, 3 moved paragraphs and a renamed heading."""
    sections = [list(s.text.split("\n")) for s in version.sections]
    words_at = [(i, j) for i, paras in enumerate(sections) for j, p in enumerate(paras) if len(p.split()) > 8]
    for _ in range(50):
        i, j = rng.choice(words_at)
        words = sections[i][j].split(" ")
        k = rng.randrange(len(words))
        kind = rng.choice(["replace", "insert", "delete"])
        if kind == "replace":
            words[k] = rng.choice(["contested", "reported", "unverified", "7600", "forces"])
        elif kind == "insert":
            words.insert(k, rng.choice(["reportedly", "allegedly", "however,"]))
        elif len(words) > 1:
            del words[k]
        sections[i][j] = " ".join(words)
    movable = [i for i, paras in enumerate(sections) if len(paras) >= 3]
    for i in rng.sample(movable, 3):
        paras = sections[i]
        paras.insert(len(paras) - 1, paras.pop(0))
    out = [dataclasses.replace(s, text="\n".join(sections[n])) for n, s in enumerate(version.sections)]
    headed = [n for n, s in enumerate(out) if s.heading]
    n = rng.choice(headed)
    renamed = out[n].heading + " and consequences"
    out[n] = dataclasses.replace(
        out[n],
        heading=renamed,
        breadcrumb=out[n].breadcrumb.rsplit(" > ", 1)[0] + " > " + renamed if " > " in out[n].breadcrumb else renamed,
    )
    return dataclasses.replace(version, version_id=version.version_id + "-edited", sections=tuple(out))


def measure(a, b, runs: int) -> dict:  # type: ignore[no-untyped-def]
    from indexer.diff import diff_versions

    times = []
    result = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = diff_versions(a, b)
        times.append((time.perf_counter() - t0) * 1000)
    size = lambda v: sum(len(s.text.encode()) for s in v.sections)  # noqa: E731
    assert result is not None
    return {
        "kb_a": round(size(a) / 1000, 1),
        "kb_b": round(size(b) / 1000, 1),
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "summary": result.summary,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7, help="timed runs (default 7)")
    ap.add_argument("--json", action="store_true", help="print JSON")
    args = ap.parse_args()
    if not SEEDS.is_dir():
        raise SystemExit(f"skipping: {SEEDS} missing")
    seed2, seed3 = load([next(SEEDS.glob("002_*.txt")), next(SEEDS.glob("003_*.txt"))])
    big = concatenated(seed2, seed3)
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "cores": os.cpu_count(),
        "seed 002": measure(seed2, edited(seed2, random.Random(SEED)), args.runs),
        "seed 002 + 003": measure(big, edited(big, random.Random(SEED)), args.runs),
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for name in ("seed 002", "seed 002 + 003"):
        r = results[name]
        s = r["summary"]
        print(
            f"{name}: {r['kb_a']} kB vs {r['kb_b']} kB: median {r['median_ms']} ms, worst {r['max_ms']} ms "
            f"({s['sections_changed']} sections changed, {s['sections_renamed']} renamed, {s['paragraphs_moved']} "
            f"paragraphs moved, +{s['words_inserted']} -{s['words_deleted']} words)"
        )
    print("target: <= 200 ms for two 100 kB versions")


if __name__ == "__main__":
    main()
