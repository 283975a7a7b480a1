"""Hostile files: each must end in bounded time and memory with a report entry.

    python -m bench.torture.hostile [--short | --long] [--seed N] [--json] [--only NAME]

Every case is generated in a temporary folder (nothing large is committed) and indexed with
`palimpsest index PATH --json` in a process of its own (the short form indexes its small cases
together in one run), stopped after a time limit. Recorded: wall time, peak memory (the largest
resident set of the run's processes) and the outcome of each hostile path: indexed, skipped or
failed, with the report's reason.

Checks: the run ends before the time limit and exits 0 with no traceback; every hostile path has
a report entry (or is indexed); memory stays within MEMORY_LIMIT_MB over a tiny file's run. The
cases that are large on purpose (millions of lines, a million distinct words, one huge line, tens
of thousands of headings) are each measured against a control: the same bytes written the
ordinary way (the same words in paragraphs, or drawn from a 1,000-word vocabulary), indexed in the
same run. A case may cost at most 3 times its control, in time and in memory over the tiny file's
(plus 2 s and 32 MB); a run is stopped the moment it passes either. Those that do not are issue
17's finding 4.

Unreadable folders need a user that permissions apply to: run as root, the runs drop the
capabilities that bypass them (setpriv); without setpriv those cases are skipped.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from indexer.scan import display_path

from .common import Progress, Report, Run, arguments, emit, fresh_dir, palimpsest, run, work_dir
from .hostile_cases import CASE_FINDINGS, CASES, Case

TIMEOUT = {"short": 60.0, "long": 300.0}
MEMORY_LIMIT_MB = 512.0  # over a tiny file's run, for the cases that are not large on purpose
COST_FACTOR = 3.0
TIME_ALLOWANCE_S = 2.0
MEMORY_ALLOWANCE_MB = 32.0
SETPRIV = shutil.which("setpriv")


def _command(args: list[str]) -> list[str]:
    """Run as root, a run drops the capabilities that let it read what permissions forbid."""
    if os.geteuid() == 0 and SETPRIV:
        drop = "-dac_override,-dac_read_search"
        return [SETPRIV, f"--bounding-set={drop}", f"--inh-caps={drop}", *args]
    return args


def _entries(report: dict[str, Any]) -> dict[str, str]:
    out = {}
    for kind in ("skipped", "failed"):
        for e in report.get(kind, []):
            out[e["path"]] = f"{kind}: {e['reason']}"
    for w in report.get("warnings", []):
        out.setdefault(w["path"], f"indexed, with a note: {w['message']}")
    return out


def _stored_sources(ix: Path) -> set[str]:
    r = run([palimpsest()[0], "-m", "bench.torture.snapshot", str(ix)], timeout=600)
    if r.returncode != 0:
        return set()
    snap = r.json()
    return {f for entries in snap["versions"].values() for e in entries for f in e.get("files", e.get("sources", []))}


def _outcome(path: Path, entries: dict[str, str], sources: set[str]) -> str | None:
    """How the report accounts for `path` (or for what is under it), or None when it does not."""
    p = display_path(os.path.abspath(path))  # as the report writes a name that is not UTF-8
    if p in entries:
        return entries[p]
    under = [e for k, e in entries.items() if k.startswith(p + os.sep)]
    if p in sources or any(s.startswith(p + os.sep) for s in sources):
        return "indexed" + (f" ({len(under)} entries under it)" if under else "")
    return under[0] if under else None


def _index(paths: list[Path], ix: Path, form: str, limit_s: float | None = None, limit_mb: float | None = None) -> Run:
    cmd = _command(palimpsest("index", *map(str, paths), "--index-dir", str(ix), "--json"))
    timeout = min(TIMEOUT[form], limit_s) if limit_s else TIMEOUT[form]
    return run(cmd, timeout=timeout, max_mb=limit_mb)


class Runner:
    """Index cases, check them, record the figures."""

    def __init__(self, work: Path, form: str, report: Report, progress: Progress) -> None:
        self.work, self.form, self.report, self.progress = work, form, report, progress
        self.cases: list[dict[str, Any]] = []
        tiny = work / "tiny.txt"
        tiny.write_text("A tiny note about the harbour.\n")
        r = _index([tiny], work / "ix-tiny", form)
        self.floor_s, self.floor_mb = r.seconds, r.peak_mb
        report.figures = {
            "tiny_file": {"seconds": round(r.seconds, 2), "peak_mb": round(r.peak_mb, 1)},
            "cases": self.cases,
        }
        progress(f"a tiny file: {r.seconds:.1f} s, {r.peak_mb:.0f} MB")

    def index(self, cases: list[Case], paths: list[Path], hostile: list[Path], control: Path | None) -> None:
        label = " + ".join(c.name for c in cases)
        entry: dict[str, Any] = {"case": label}
        limit_s = limit_mb = None
        if control is not None:
            c = _index([control], self.work / f"ix-control-{len(self.cases)}", self.form)
            if c.returncode != 0:
                self.report.fail(f"{label}: its control indexes", c.stderr[-300:])
                return
            limit_s = self.floor_s + COST_FACTOR * max(c.seconds - self.floor_s, 0.0) + TIME_ALLOWANCE_S
            limit_mb = self.floor_mb + COST_FACTOR * max(c.peak_mb - self.floor_mb, 0.0) + MEMORY_ALLOWANCE_MB
            entry["control"] = {"seconds": round(c.seconds, 2), "peak_mb": round(c.peak_mb, 1)}
            entry["limits"] = {"seconds": round(limit_s, 1), "peak_mb": round(limit_mb, 1)}
        else:
            limit_mb = self.floor_mb + MEMORY_LIMIT_MB
            entry["limits"] = {"seconds": TIMEOUT[self.form], "peak_mb": round(limit_mb, 1)}
        ix = self.work / f"ix-{len(self.cases)}"
        r = _index(paths, ix, self.form, limit_s, limit_mb)
        entry.update({"seconds": round(r.seconds, 2), "peak_mb": round(r.peak_mb, 1)})
        self.cases.append(entry)
        self.report.trials += len(hostile)
        finding = (
            "4"
            if control is not None
            else next((CASE_FINDINGS[c.name] for c in cases if c.name in CASE_FINDINGS), None)
        )
        self.progress(
            f"{label[:70]}: {r.seconds:.1f} s, {r.peak_mb:.0f} MB" + (f" (stopped: {r.stopped})" if r.stopped else "")
        )
        if r.stopped == "timeout":
            entry["outcome"] = f"stopped at {r.seconds:.0f} s"
            self.report.fail(f"{label}: time within {entry['limits']['seconds']} s", entry["outcome"], finding)
            return
        if r.stopped == "memory":
            entry["outcome"] = f"stopped at {r.peak_mb:.0f} MB"
            self.report.fail(f"{label}: memory within {entry['limits']['peak_mb']} MB", entry["outcome"], finding)
            return
        if r.returncode != 0 or "Traceback" in r.stderr:
            entry["outcome"] = f"exit {r.returncode}: {r.stderr.strip()[-300:]}"
            self.report.fail(f"{label}: exits 0 without a traceback", entry["outcome"], finding)
            return
        entries, sources = _entries(r.json()), _stored_sources(ix)
        outcomes = {}
        for p in hostile:
            outcome = _outcome(p, entries, sources)
            outcomes[os.path.relpath(p, self.work)] = outcome or "NO REPORT ENTRY"
            if outcome is None:
                self.report.fail(f"{label}: {p.name!r} has a report entry", "neither indexed, skipped nor failed")
        entry["outcomes"] = outcomes


def run_family(form: str, seed: int, work: Path, quiet: bool = False, only: str | None = None) -> Report:
    progress = Progress("hostile", quiet)
    started = time.monotonic()
    work = fresh_dir(work / "hostile")
    report = Report("hostile", form, "files", seed)
    runner = Runner(work, form, report, progress)
    chosen = [c for c in CASES if (form == "long" or not c.long_only) and (only is None or only in c.name)]
    can_lock = os.geteuid() != 0 or SETPRIV is not None
    built: list[tuple[Case, Path, list[Path], Path | None]] = []
    try:
        for case in chosen:
            if case.needs_permissions and not can_lock:
                report.skip(case.name, "running as root without setpriv: permissions cannot be made to apply")
                continue
            folder = work / "cases" / case.name.replace(" ", "-").replace(",", "")
            folder.mkdir(parents=True)
            path, hostile = case.build(folder, form)
            control = case.control(folder, form) if case.control else None
            built.append((case, path, hostile, control))
        alone = [b for b in built if form == "long" or b[0].alone or b[3] is not None]
        together = [b for b in built if b not in alone]
        for case, path, hostile, control in alone:
            runner.index([case], [path], hostile, control)
        if together:
            runner.index([b[0] for b in together], [b[1] for b in together], [h for b in together for h in b[2]], None)
    finally:
        for folder, dirs, _files in os.walk(work):
            for d in dirs:  # let the temporary folder be removed
                if not (Path(folder) / d).is_symlink():
                    os.chmod(Path(folder) / d, 0o755)
        for p in work.rglob("closed.txt"):
            os.chmod(p, 0o644)
    report.seconds = time.monotonic() - started
    return report


def main() -> None:
    def extra(parser: Any) -> None:
        parser.add_argument("--only", help="run only the cases whose name contains this text")

    args = arguments("bench.torture.hostile", __doc__.split("\n\n")[0], extra)
    with work_dir(args.work_dir) as work:
        report = run_family(args.form, args.seed, work, args.quiet, args.only)
    raise SystemExit(emit([report], args.json))


if __name__ == "__main__":
    main()
