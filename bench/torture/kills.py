"""kill -9 during indexing, incremental runs, removals and rebuilds; the next run must leave an
index equal to one built without interruption.

    python -m bench.torture.kills [--short | --long] [--seed N] [--json]

Each trial starts `palimpsest index` (or `remove`, or `rebuild`) as a subprocess and SIGKILLs its
process group, either after a random delay (uniform over the time an uninterrupted run takes) or
the moment it calls a chosen function (bench/torture/killpoint.py: inside the store transaction,
after the store commit, after the index commit, before the run is recorded). Then:

  usable     right after the kill, `palimpsest search` answers or says there is no index (exit 0
             or 1), never a traceback
  completed  the same command run again ends with exit 0 and no failed file
  verify     `palimpsest verify` says the store and the index agree
  documents  the same documents and versions (ids, titles, timelines, sources) as the reference
  results    the same documents found, and totals, for every query
  scores     the same order, sections and scores (when only these differ, it is finding 2)

The reference is the same sequence of commands run without a kill. Modes: fresh (an empty index),
incremental (an index of the corpus, then a changed corpus), remove (a folder forgotten), double
(a fresh run killed, its recovery killed too) and rebuild (`palimpsest rebuild`, skipped while
the command does not exist: finding 7).
"""

from __future__ import annotations

import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import Progress, Report, arguments, emit, fresh_dir, palimpsest, run, work_dir
from .corpus import mutate, write_corpus
from .killpoint import MISSING

QUERIES = [
    "harbour",
    "tide table",
    '"harbour bridge"',
    "crane AND ferry",
    "council -tram",
    "title:quay",
    "lantern\x1f--sort\x1fdate",
    "estuary\x1f--latest-only",
    "kalo OR venra OR solth",
]
KILL_POINTS = [
    ("indexer.store:Store.mark_pending", "inside the store transaction"),
    ("indexer.pipeline:sync_documents", "after the store commit, before the index is written"),
    ("indexer.store:Store.clear_pending", "after the index commit, before the pending list is cleared"),
    ("indexer.store:Store.finish_run", "before the run is recorded"),
]
FORMS = {
    # documents in the corpus; random trials per mode; targeted (point, mode) pairs
    "short": {"documents": 40, "random": {"incremental": 1}, "targeted": [(2, "fresh")]},
    "long": {
        "documents": 120,
        "random": {"fresh": 80, "incremental": 60, "remove": 30, "double": 30},
        "targeted": [(p, m) for p in range(len(KILL_POINTS)) for m in ("fresh", "incremental", "remove")],
    },
}


@dataclass
class Setup:
    """The corpus states, the reference indexes and their snapshots, and how long each run takes."""

    work: Path
    docs: Path  # where the corpus being indexed lives (trees are copied in, so paths never change)
    pristine: dict[str, Path]
    templates: dict[str, Path]  # index after: "A" (corpus A indexed)
    references: dict[str, dict[str, Any]]
    seconds: dict[str, float]


def _place(tree: Path, docs: Path) -> None:
    shutil.rmtree(docs, ignore_errors=True)
    shutil.copytree(tree, docs)


def _commands(mode: str, docs: Path, ix: Path) -> list[list[str]]:
    """The commands of a mode, in order; the last one is the one a trial kills."""
    index = palimpsest("index", str(docs), "--index-dir", str(ix), "--json", "--workers", "2")
    if mode == "remove":
        return [palimpsest("remove", str(docs / "wiki"), "--index-dir", str(ix), "--json")]
    if mode == "rebuild":
        return [palimpsest("rebuild", "--index-dir", str(ix))]
    return [index]


def snapshot(ix: Path) -> dict[str, Any]:
    args = ["-m", "bench.torture.snapshot", str(ix)]
    for q in QUERIES:
        args += ["--query", q]
    r = run([palimpsest()[0], *args], timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"snapshot of {ix} failed: {r.stderr[-2000:]}")
    return dict(r.json())


def prepare(work: Path, documents: int, seed: int, progress: Progress, modes: set[str]) -> Setup:
    """Corpus A and A' (A changed), the template index of A, and the reference of each mode."""
    pristine = {"A": work / "pristine" / "A", "A2": work / "pristine" / "A2"}
    write_corpus(pristine["A"], documents, seed)
    shutil.copytree(pristine["A"], pristine["A2"])
    mutate(pristine["A2"], seed)
    docs = work / "docs"
    setup = Setup(work, docs, pristine, {}, {}, {})
    ix = work / "template-A"
    _place(pristine["A"], docs)
    r = run(_commands("fresh", docs, ix)[0], timeout=900)
    if r.returncode != 0:
        raise RuntimeError(f"the reference index did not build: {r.stderr[-2000:]}")
    setup.templates["A"] = ix
    setup.seconds["fresh"] = r.seconds
    setup.references["fresh"] = snapshot(ix)
    progress(f"reference index of {documents} documents: {r.seconds:.1f} s")
    for mode in [m for m in ("incremental", "remove", "rebuild") if m in modes]:
        ref = work / f"reference-{mode}"
        _start(setup, mode, ref)
        r = run(_commands(mode, docs, ref)[-1], timeout=900)
        if r.returncode != 0:
            raise RuntimeError(f"the {mode} reference failed ({r.returncode}): {r.stderr[-2000:]}")
        setup.seconds[mode] = r.seconds
        setup.references[mode] = snapshot(ref)
        progress(f"reference {mode}: {r.seconds:.1f} s")
    setup.seconds["double"] = setup.seconds["fresh"]
    setup.references["double"] = setup.references["fresh"]
    return setup


def _start(setup: Setup, mode: str, ix: Path) -> None:
    """The state a trial of `mode` starts from: the corpus in place and the index before the run."""
    shutil.rmtree(ix, ignore_errors=True)
    if mode in ("fresh", "double"):
        _place(setup.pristine["A"], setup.docs)
        return
    shutil.copytree(setup.templates["A"], ix)
    _place(setup.pristine["A2" if mode == "incremental" else "A"], setup.docs)


def _usable(ix: Path) -> str | None:
    """None when the index a kill left answers a query or says plainly that it is not there."""
    r = run(palimpsest("search", "harbour", "--index-dir", str(ix), "--json"), timeout=120)
    if r.returncode in (0, 1) and "Traceback" not in r.stderr:
        return None
    return f"exit {r.returncode}: {r.stderr[-600:]}"


def compare(reference: dict[str, Any], got: dict[str, Any]) -> dict[str, Any]:
    """Which checks differ: {check: detail}."""
    out: dict[str, Any] = {}
    if got["verify_exit"] != 0 or not got["verify"].get("ok"):
        out["verify"] = got["verify"]
    if got["documents"] != reference["documents"] or got["versions"] != reference["versions"]:
        ref_ids = {d["doc_id"] for d in reference["documents"]}
        got_ids = {d["doc_id"] for d in got["documents"]}
        out["documents"] = {
            "missing": sorted(ref_ids - got_ids)[:10],
            "extra": sorted(got_ids - ref_ids)[:10],
            "changed": sorted(d for d in ref_ids & got_ids if got["versions"].get(d) != reference["versions"].get(d))[
                :10
            ],
        }
    for q, ref in reference["search"].items():
        mine = got["search"].get(q, {})
        docs = lambda hits: sorted({h["doc_id"] for h in hits})  # noqa: E731
        if (mine.get("exit"), mine.get("total")) != (ref["exit"], ref["total"]) or docs(mine.get("hits", [])) != docs(
            ref["hits"]
        ):
            out.setdefault("results", {})[q] = {"reference_total": ref["total"], "total": mine.get("total")}
        elif mine["hits"] != ref["hits"]:
            # The same documents, ranked or scored differently, or represented by another section.
            diffs = [
                (r["doc_id"], r["anchor"], r["score"], h["doc_id"], h["anchor"], h["score"])
                for h, r in zip(mine["hits"], ref["hits"], strict=True)
                if h != r
            ]
            out.setdefault("scores", {})[q.replace("\x1f", " ")] = diffs[:3]
    return out


def trial(setup: Setup, mode: str, ix: Path, kill: float | str, rng: random.Random) -> dict[str, Any]:
    """One trial; returns {"failed": {check: detail}, "killed": bool, ...}."""
    _start(setup, mode, ix)
    cmd = _commands(mode, setup.docs, ix)[-1]
    if isinstance(kill, str):
        r = run([palimpsest()[0], "-m", "bench.torture.killpoint", kill, *cmd[3:]], timeout=900)
        if r.returncode == MISSING:
            return {"failed": {"kill point": r.stderr.strip()}, "killed": False}
        killed = r.returncode == -9
    else:
        r = run(cmd, timeout=900, kill_after=kill)
        killed = r.stopped == "kill"
    failed: dict[str, Any] = {}
    if not killed and r.returncode != 0:
        failed["completed"] = f"the killed run itself failed: exit {r.returncode}: {r.stderr[-600:]}"
    if mode == "double" and killed:
        r2 = run(cmd, timeout=900, kill_after=rng.uniform(0, setup.seconds[mode] * 1.05))
        if r2.stopped != "kill" and r2.returncode != 0:
            failed["completed"] = f"the recovery run failed: exit {r2.returncode}: {r2.stderr[-600:]}"
    problem = _usable(ix)
    if problem:
        failed["usable"] = problem
    done = run(cmd, timeout=900)
    if done.returncode != 0:
        failed["completed"] = f"exit {done.returncode}: {done.stderr[-600:]}"
    elif done.stdout.strip().startswith("{") and done.json().get("failed"):
        failed["completed"] = done.json()["failed"][:5]
    else:
        failed.update(compare(setup.references[mode], snapshot(ix)))
    return {"failed": failed, "killed": killed}


def _finding(failed: dict[str, Any]) -> str | None:
    """Scores or order alone differing after a recovery is finding 2."""
    return "2" if set(failed) == {"scores"} else None


def run_family(form: str, seed: int, work: Path, quiet: bool = False) -> Report:
    from indexer.cli import cli

    progress = Progress("kills", quiet)
    started = time.monotonic()
    spec = FORMS[form]
    report = Report("kills", form, "trials", seed)
    has_rebuild = "rebuild" in cli.commands
    work = fresh_dir(work / "kills")
    modes = set(spec["random"]) | {m for _p, m in spec["targeted"]} | ({"rebuild"} if has_rebuild else set())
    setup = prepare(work, spec["documents"], seed, progress, modes)
    rng = random.Random(seed)
    plan: list[tuple[str, float | str, str]] = []
    for mode, n in spec["random"].items():
        for _ in range(n):
            at = rng.uniform(0.0, setup.seconds[mode] * 1.05)
            plan.append((mode, at, f"{mode}, kill at {at:.2f} s"))
    for point, mode in spec["targeted"]:
        name, where = KILL_POINTS[point]
        plan.append((mode, name, f"{mode}, kill {where} ({name.split(':')[1]})"))
    if has_rebuild:
        for _ in range(max(1, spec["random"].get("fresh", 1) // 4)):
            at = rng.uniform(0.0, setup.seconds["rebuild"] * 1.05)
            plan.append(("rebuild", at, f"rebuild, kill at {at:.2f} s"))
    else:
        report.skip("rebuild trials", "`palimpsest rebuild` does not exist (finding 7: no safe rebuild)")
    killed = 0
    by_mode: dict[str, int] = {}
    for n, (mode, kill, label) in enumerate(plan, 1):
        outcome = trial(setup, mode, work / "ix", kill, rng)
        report.trials += 1
        killed += outcome["killed"]
        by_mode[mode] = by_mode.get(mode, 0) + 1
        for check, detail in outcome["failed"].items():
            report.fail(f"{label}: {check}", detail, _finding(outcome["failed"]))
        verdict = ", ".join(outcome["failed"]) or "ok"
        progress(f"trial {n}/{len(plan)} {label}: {'killed' if outcome['killed'] else 'ended first'}; {verdict}")
    report.figures = {
        "documents": spec["documents"],
        "by_mode": by_mode,
        "killed_before_the_end": killed,
        "uninterrupted_seconds": {k: round(v, 2) for k, v in setup.seconds.items()},
        "queries": len(QUERIES),
    }
    report.seconds = time.monotonic() - started
    return report


def main() -> None:
    args = arguments("bench.torture.kills", __doc__.split("\n\n")[0])
    with work_dir(args.work_dir) as work:
        report = run_family(args.form, args.seed, work, args.quiet)
    raise SystemExit(emit([report], args.json))


if __name__ == "__main__":
    main()
