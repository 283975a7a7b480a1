"""How each ranking component does across the whole quality suite (bench/quality.py's collections).

Usage: python bench/ranking_study.py [--json] [--no-grid]

Every row is the product's own indexing and search (`Searcher.search`, the same queries as
bench/quality.py) with one thing changed in-process from the defaults: a query-time constant
(k1, b, a bonus, question words, the passage bag), or, for index-time choices (zone
weights, stop words, stemming), the collections indexed again with it. Reports nDCG@10 per
collection and the mean, against the defaults in the same run.

Leave-one-collection-out: for each collection, k1, b and the title weight are chosen on the
other collections alone (best mean nDCG@10 over a small grid) and measured on the one left out;
the mean of those held-out figures is reported beside the mean of the defaults. Close figures
mean the defaults are not fitted to the suite.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import quality  # noqa: E402

STUDY = quality.WORK / "study"


@contextlib.contextmanager
def patched(changes: dict[str, Any]) -> Iterator[None]:
    """Set module attributes (`module.NAME`: value) for the duration; `analysis.en` replaces the
    English analyser (stop words, stemmer) for indexing and searching alike."""
    import importlib

    from indexer import analysis

    saved: list[tuple[Any, str, Any]] = []
    english = analysis.analyzer_for("en")
    try:
        for dotted, value in changes.items():
            if dotted == "analysis.en":
                analysis._ANALYZERS["en"] = value
                continue
            mod_name, _, attr = dotted.rpartition(".")
            mod = importlib.import_module(f"indexer.{mod_name}")
            saved.append((mod, attr, getattr(mod, attr)))
            setattr(mod, attr, value)
        yield
    finally:
        for mod, attr, value in reversed(saved):
            setattr(mod, attr, value)
        analysis._ANALYZERS["en"] = english


def index_all(colls: list[quality.Collection], name: str, changes: dict[str, Any]) -> Path:
    """Index every collection with `changes` in force (kept under bench/work/quality/study/NAME)."""
    root = STUDY / name
    stamp = root / ".done"
    if stamp.exists() and stamp.read_text() == repr(sorted(changes.items(), key=str)):
        return root
    shutil.rmtree(root, ignore_errors=True)
    with patched(changes):
        for coll in colls:
            quality.product_index(coll, root / coll.name)
    stamp.write_text(repr(sorted(changes.items(), key=str)))
    return root


def score(colls: list[quality.Collection], root: Path, changes: dict[str, Any]) -> dict[str, float]:
    """nDCG@10 per collection (and their mean) with `changes` in force at query time."""
    from indexer.search import Searcher

    out = {}
    with patched(changes):
        for coll in colls:
            with Searcher(root / coll.name) as s:
                runs, _times = quality.product_run(coll, root / coll.name, s)
            out[coll.name] = quality.measure(coll, runs)["ndcg@10"]
    out["mean"] = round(sum(out[c.name] for c in colls) / len(colls), 4)
    return out


# Index-time variants: name -> module changes while indexing (and searching).
def index_variants() -> dict[str, dict[str, Any]]:
    from whoosh.analysis import STOP_WORDS as WHOOSH_STOP_WORDS

    from indexer.analysis import FUNCTION_WORDS, STOP_WORDS, Analyzer

    return {
        "title weight 1": {"writer.TITLE_WEIGHT": 1.0},
        "title weight 3": {"writer.TITLE_WEIGHT": 3.0},
        "no stop words": {"analysis.en": Analyzer("en", frozenset(), "english")},
        "Whoosh's stop list": {"analysis.en": Analyzer("en", frozenset(WHOOSH_STOP_WORDS), "english")},
        "function words as stop words": {"analysis.en": Analyzer("en", FUNCTION_WORDS, "english")},
        "no stemming": {"analysis.en": Analyzer("en", STOP_WORDS, None)},
    }


def query_variants() -> dict[str, dict[str, Any]]:
    return {
        "k1 0.9": {"engines.ranking.BM25_K1": 0.9},
        "k1 1.6": {"engines.ranking.BM25_K1": 1.6},
        "k1 2.0": {"engines.ranking.BM25_K1": 2.0},
        "b 0.4": {"engines.ranking.BM25_B": 0.4},
        "b 0.75": {"engines.ranking.BM25_B": 0.75},
        "k1 2.0, b 0.75 (the Cranfield-tuned values)": {
            "engines.ranking.BM25_K1": 2.0,
            "engines.ranking.BM25_B": 0.75,
        },
        "no coordination bonus": {"engines.ranking.COORD_BOOST": 0.0},
        "no proximity bonus": {"engines.ranking.PROXIMITY_BOOST": 0.0},
        "question words kept": {"search.query.QUESTION_WORDS": frozenset()},
        "passage bag of 64 words": {"engines.ranking.PASSAGE_TERMS": 64},
        "passage bag of 128 words": {"engines.ranking.PASSAGE_TERMS": 128},
    }


def leave_one_out(
    colls: list[quality.Collection],
    grid: dict[tuple[Any, ...], dict[str, float]],
    floors: dict[str, float] | None = None,
) -> dict[str, Any]:
    """For each collection: the grid point best on the others (mean nDCG@10), scored on it. With
    `floors` (the better baseline's nDCG@10 per collection), only points at or above the floor on
    every other collection are eligible: the rule the defaults were chosen by."""
    held = {}
    for c in colls:
        others = [o.name for o in colls if o.name != c.name]
        points = sorted(grid, key=repr)
        if floors:
            points = [k for k in points if all(grid[k][o] >= floors[o] for o in others)] or points
        best = max(points, key=lambda k: sum(grid[k][o] for o in others) / len(others))
        held[c.name] = {"chosen": list(best), "ndcg@10": grid[best][c.name]}
    return {"per_collection": held, "mean": round(sum(h["ndcg@10"] for h in held.values()) / len(held), 4)}


def baseline_floors(colls: list[quality.Collection]) -> dict[str, float]:
    """The better of the two baselines' nDCG@10 on each collection (bench/quality.py's baselines)."""
    return {
        c.name: max(
            quality.measure(c, quality.whoosh_run(c))["ndcg@10"], quality.measure(c, quality.bm25s_run(c))["ndcg@10"]
        )
        for c in colls
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--no-grid", action="store_true", help="skip the leave-one-out grid")
    args = ap.parse_args()
    colls = quality.collections()
    if not colls:
        raise SystemExit(f"skipping: no test collection under {quality.DATA}")
    t0 = time.perf_counter()
    base_root = index_all(colls, "defaults", {})
    rows = {"defaults": score(colls, base_root, {})}
    for name, changes in query_variants().items():
        rows[name] = score(colls, base_root, changes)
    for name, changes in index_variants().items():
        rows[name] = score(colls, index_all(colls, name, changes), changes)
    out: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "rows": rows}
    if not args.no_grid:
        from indexer.engines import ranking
        from indexer.writer import TITLE_WEIGHT

        grid: dict[tuple[Any, ...], dict[str, float]] = {}
        for title in sorted({1.0, TITLE_WEIGHT, 3.0}):
            changes = {} if title == TITLE_WEIGHT else {"writer.TITLE_WEIGHT": title}
            root = index_all(colls, "defaults" if not changes else f"title weight {title:g}", changes)
            for k1, b in itertools.product((0.9, 1.2, 1.6, 2.0), (0.3, 0.4, 0.6, 0.75)):
                q = {"engines.ranking.BM25_K1": k1, "engines.ranking.BM25_B": b}
                grid[(k1, b, title)] = score(colls, root, {**changes, **q})
        chosen = (ranking.BM25_K1, ranking.BM25_B, TITLE_WEIGHT)
        out["grid"] = {repr(k): v for k, v in grid.items()}
        out["leave_one_out"] = leave_one_out(colls, grid)
        out["baseline_floors"] = floors = baseline_floors(colls)
        out["leave_one_out_above_baselines"] = leave_one_out(colls, grid, floors)
        out["chosen"] = {"k1, b, title weight": list(chosen), "mean": rows["defaults"]["mean"]}
    out["seconds"] = round(time.perf_counter() - t0)
    if args.json:
        print(json.dumps(out, indent=2))
        return
    names = [c.name for c in colls]
    print("| variant | " + " | ".join(names) + " | mean | vs defaults |")
    print("|---|" + "---|" * (len(names) + 2))
    base = rows["defaults"]["mean"]
    for name, r in rows.items():
        cells = " | ".join(f"{r[n]:.4f}" for n in names)
        print(f"| {name} | {cells} | {r['mean']:.4f} | {r['mean'] - base:+.4f} |")
    if "leave_one_out" in out:
        for key, what in (
            ("leave_one_out", "best mean"),
            ("leave_one_out_above_baselines", "best mean at or above both baselines"),
        ):
            loo = out[key]
            print(
                f"leave-one-collection-out ({what} on the others): mean nDCG@10 {loo['mean']:.4f}, defaults {base:.4f}"
            )
            for c, h in loo["per_collection"].items():
                print(f"  {c}: chosen on the others (k1, b, title) = {h['chosen']} -> {h['ndcg@10']:.4f}")


if __name__ == "__main__":
    main()
