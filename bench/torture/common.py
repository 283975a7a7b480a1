"""What the torture families share: the report, the known findings, the CLI and the server as
subprocesses, and runs measured for time and peak memory."""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

# Issue 17's findings that are not fixed yet. A check that fails the way one of them says is a
# known failure: reported on its own line, not counted as a new failure. Remove an entry (and the
# matching strict xfail in tests/test_torture.py) when the finding is fixed.
FINDINGS: dict[str, str] = {
    "2": "recovery changes ranking: re-added records leave deleted ones counted in the index statistics",
    "4": "unbounded work on files under the size limit (time and memory)",
    "7": "no safe rebuild: `palimpsest rebuild` does not exist",
}


@dataclass
class Report:
    """One family's run: how many trials (or requests, pages, files), what failed and why."""

    family: str
    form: str
    unit: str
    seed: int
    trials: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    known: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def fail(self, what: str, detail: Any, finding: str | None = None) -> None:
        """A failed check; `finding` names the known finding it is an instance of."""
        entry = {"check": what, "detail": detail}
        if finding is None:
            self.failures.append(entry)
        else:
            self.known.append({**entry, "finding": finding, "known_as": FINDINGS[finding]})

    def skip(self, what: str, reason: str) -> None:
        self.skipped.append({"check": what, "reason": reason})

    def known_findings(self) -> list[str]:
        return sorted({k["finding"] for k in self.known})

    def to_json(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "form": self.form,
            "seed": self.seed,
            "unit": self.unit,
            "trials": self.trials,
            "failures": len(self.failures),
            "known_failures": len(self.known),
            "known_findings": self.known_findings(),
            "seconds": round(self.seconds, 1),
            "figures": self.figures,
            "failure_list": self.failures[:100],
            "known_failure_list": self.known[:100],
            "skipped": self.skipped,
        }

    def summary(self) -> str:
        known = ", ".join(f"finding {n}" for n in self.known_findings())
        line = (
            f"{self.family:8s} {self.trials:>7,} {self.unit:9s} failures {len(self.failures)}"
            f"  known failures {len(self.known)}{f' ({known})' if known else ''}  {self.seconds:.0f} s"
        )
        for s in self.skipped:
            line += f"\n         skipped {s['check']}: {s['reason']}"
        return line


class Progress:
    """One line per step on stderr, so a long run shows where it is."""

    def __init__(self, family: str, quiet: bool = False) -> None:
        self.family = family
        self.quiet = quiet
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.monotonic() - self.started:7.1f}s] {self.family}: {message}", file=sys.stderr, flush=True)


def arguments(
    prog: str, description: str, extra: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.Namespace:
    """The options every family and the runner take."""
    parser = argparse.ArgumentParser(prog=f"python -m {prog}", description=description)
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--short", dest="form", action="store_const", const="short", help="a few trials (make test)")
    form.add_argument("--long", dest="form", action="store_const", const="long", help="the full run (make torture)")
    parser.add_argument("--seed", type=int, default=17, help="random seed (default 17): a failure reproduces")
    parser.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--work-dir", type=Path, help="where to build corpora and indexes (default: a temp dir)")
    if extra:
        extra(parser)
    parser.set_defaults(form="short")
    # Stopped with SIGTERM, the runs under way are stopped too (run() kills their groups on the way out).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return parser.parse_args()


def emit(reports: list[Report], as_json: bool) -> int:
    """Print the reports; exit status 1 when a check failed that is not a known finding."""
    if as_json:
        print(json.dumps([r.to_json() for r in reports], indent=2, ensure_ascii=False))
    else:
        for r in reports:
            print(r.summary())
            for f in r.failures[:20]:
                print(f"  FAILED {f['check']}: {json.dumps(f['detail'], ensure_ascii=False)[:400]}")
            for n in r.known_findings():
                count = sum(1 for k in r.known if k["finding"] == n)
                first = next(k for k in r.known if k["finding"] == n)
                print(f"  known failure, finding {n} ({FINDINGS[n]}): {count} x, first: {first['check']}")
    return 1 if any(r.failures for r in reports) else 0


@contextlib.contextmanager
def work_dir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="palimpsest-torture-") as tmp:
        yield Path(tmp)


def fresh_dir(path: Path) -> Path:
    """`path`, emptied (a family's own folder under the work dir)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def palimpsest(*args: str) -> list[str]:
    """The command line of `palimpsest ARGS` with this interpreter."""
    return [sys.executable, "-m", "indexer.cli", *args]


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("PALIMPSEST_INDEX", None)
    return env


@dataclass
class Run:
    """A finished (or stopped) subprocess: exit status, output, wall time, peak memory."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float
    stopped: str | None = None  # "kill": SIGKILL on purpose; "timeout", "memory": over a limit

    @property
    def timed_out(self) -> bool:
        return self.stopped == "timeout"

    def json(self) -> Any:
        return json.loads(self.stdout)


def group_memory_mb(pgid: int) -> tuple[float, float]:
    """(resident memory of the process group now, the largest high-water mark of one of its
    processes) from /proc. VmHWM starts afresh at exec, unlike ru_maxrss, which a child inherits
    from the process that forked it (this one, large after a fuzzing run)."""
    rss = hwm = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                if int(f.read().rsplit(b")", 1)[1].split()[2]) != pgid:  # after "pid (comm)": state ppid pgrp
                    continue
            with open(f"/proc/{entry.name}/status", "rb") as f:
                fields = dict(line.split(b":", 1) for line in f.read().splitlines() if b":" in line)
        except (OSError, ValueError, IndexError):
            continue
        rss += int(fields.get(b"VmRSS", b"0 kB").split()[0])
        hwm = max(hwm, int(fields.get(b"VmHWM", b"0 kB").split()[0]))
    return rss / 1024, hwm / 1024


POLL_SECONDS = 0.05


def run(
    cmd: list[str],
    timeout: float,
    cwd: Path | None = None,
    kill_after: float | None = None,
    max_mb: float | None = None,
) -> Run:
    """Run `cmd` in its own process group; SIGKILL the whole group after `kill_after` seconds (a
    crash on purpose), after `timeout` (a run that does not end) or when the group's resident
    memory passes `max_mb`. Peak memory: the largest high-water mark of one of the group's
    processes, sampled every POLL_SECONDS (growth in the last interval before an exit is missed)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd or ROOT, env=cli_env(),
            start_new_session=True,
        )  # fmt: skip
        deliberate = kill_after is not None and kill_after < timeout
        limit = kill_after if deliberate and kill_after is not None else timeout
        stopped = None
        peak = 0.0
        next_look = started
        try:
            while True:
                # WNOWAIT: the exited process stays a zombie, so its group id cannot be reused
                # before the helpers it left behind are killed below.
                if os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                    break
                now = time.monotonic()
                if now - started >= limit:
                    stopped = "kill" if deliberate else "timeout"
                    break
                if now >= next_look:
                    next_look = now + POLL_SECONDS
                    rss, hwm = group_memory_mb(proc.pid)
                    peak = max(peak, hwm)
                    if max_mb is not None and rss > max_mb:
                        peak = max(peak, rss)
                        stopped = "memory"
                        break
                time.sleep(0.005)
        finally:  # also when this process is interrupted: nothing of the run outlives it
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        _pid, raw, _usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(raw)  # reaped here: Popen must not wait again
        if proc.returncode != -signal.SIGKILL:
            stopped = None  # it ended on its own just before
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return Run(
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            seconds,
            peak,
            stopped,
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served(index_dir: Path, log: Path, workers: int = 2, threads: int = 4) -> Iterator[int]:
    """`palimpsest serve` (gunicorn) on a free port until the block ends; yields the port."""
    port = free_port()
    with open(log, "ab") as log_file:
        proc = subprocess.Popen(
            palimpsest("serve", "--index-dir", str(index_dir), "--port", str(port), "--workers", str(workers),
                       "--threads", str(threads)),
            stdout=log_file, stderr=log_file, stdin=subprocess.DEVNULL, cwd=ROOT, env=cli_env(),
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"palimpsest serve exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", "/api/search?q=")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("palimpsest serve did not answer within 120 s") from None
                time.sleep(0.2)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]
