"""Worker processes with a budget per job: one file cannot block a run.

`run_jobs` hands jobs one at a time to worker processes (forked, so what the parent loaded is
shared) and watches them: a job still running after `seconds`, or whose worker has grown by more
than `memory_mb` since it took the job, is stopped by killing its worker, which is replaced; a
worker that dies (a crash in a C parser, the kernel's OOM killer) costs only its job. Each
stopped job gets `on_stop(job, reason)` as its result, so the caller reports it and goes on.
Results come back in job order.

The memory budget is enforced twice: RLIMIT_DATA in the worker turns most runaway allocations
into a MemoryError at once (the job fails with it, the worker lives), and the parent's check of
the worker's resident memory, every 50 ms, stops the rest.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

POLL_SECONDS = 0.05
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _worker(conn: Connection, fn: Callable[[Any], Any], memory_mb: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interrupt stops
    if memory_mb:
        try:
            data = _data_bytes(os.getpid())
            _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
            limit = data + memory_mb * 1024 * 1024
            resource.setrlimit(
                resource.RLIMIT_DATA, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard)
            )
        except (OSError, ValueError):
            pass  # the parent's check still applies
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        index, args = job
        try:
            conn.send((index, True, fn(args)))
        except MemoryError:
            conn.send((index, False, f"over {memory_mb} MB (setting max_file_memory_mb)"))
        except Exception as exc:  # a bug must not take the run down: the file fails with it
            conn.send((index, False, f"{type(exc).__name__}: {exc}"))


def _status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status", "rb") as fh:
        for line in fh:
            if line.startswith(key.encode()):
                return int(line.split()[1])
    return 0


def _data_bytes(pid: int) -> int:
    return _status_kb(pid, "VmData:") * 1024


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


class _Slot:
    """One worker process and the job it is running."""

    def __init__(self, ctx: Any, fn: Callable[[Any], Any], memory_mb: int) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(child, fn, memory_mb), daemon=True)
        self.process.start()
        child.close()
        self.job: int | None = None
        self.started = 0.0
        self.rss_at_start = 0

    def give(self, index: int, args: Any) -> None:
        self.job = index
        self.started = time.monotonic()
        self.rss_at_start = _rss_bytes(self.process.pid or 0)
        self.conn.send((index, args))

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def run_jobs(
    fn: Callable[[Any], Any],
    jobs: list[Any],
    workers: int,
    seconds: float,
    memory_mb: int,
    on_stop: Callable[[Any, str], Any],
    on_result: Callable[[], None] | None = None,
) -> list[Any]:
    """fn(job) for every job, in `workers` processes, each job under the budget; in job order."""
    results: list[Any] = [None] * len(jobs)
    if not jobs:
        return results
    ctx = multiprocessing.get_context("fork")
    slots = [_Slot(ctx, fn, memory_mb) for _ in range(min(workers, len(jobs)))]
    todo = iter(range(len(jobs)))
    remaining = len(jobs)

    def feed(slot: _Slot) -> None:
        index = next(todo, None)
        if index is None:
            return
        try:
            slot.give(index, jobs[index])
        except OSError:  # the worker died between two jobs: replace it and hand the job on
            slot.kill()
            replacement = _Slot(ctx, fn, memory_mb)
            slots[slots.index(slot)] = replacement
            replacement.give(index, jobs[index])

    def finish(index: int, result: Any) -> None:
        nonlocal remaining
        results[index] = result
        remaining -= 1
        if on_result:
            on_result()

    try:
        for slot in slots:
            feed(slot)
        while remaining:
            ready = wait([s.conn for s in slots if s.job is not None], timeout=POLL_SECONDS)
            for i, slot in enumerate(slots):
                if slot.job is None:
                    continue
                if slot.conn in ready:
                    try:
                        index, ok, result = slot.conn.recv()
                    except (EOFError, OSError):
                        slot.process.join()
                        code = slot.process.exitcode
                        why = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
                        finish(slot.job, on_stop(jobs[slot.job], f"its worker process died ({why})"))
                        slots[i] = _Slot(ctx, fn, memory_mb)
                        feed(slots[i])
                        continue
                    slot.job = None
                    finish(index, result if ok else on_stop(jobs[index], result))
                    feed(slot)
                    continue
                reason = _over_budget(slot, seconds, memory_mb)
                if reason:
                    index = slot.job
                    slot.kill()
                    finish(index, on_stop(jobs[index], reason))
                    slots[i] = _Slot(ctx, fn, memory_mb)
                    feed(slots[i])
    except BaseException:
        for slot in slots:
            slot.kill()
        raise
    for slot in slots:
        slot.stop()
    return results


def _over_budget(slot: _Slot, seconds: float, memory_mb: int) -> str | None:
    elapsed = time.monotonic() - slot.started
    if seconds and elapsed > seconds:
        return f"stopped after {seconds:g} s (setting max_file_seconds)"
    if memory_mb:
        grown = _rss_bytes(slot.process.pid or 0) - slot.rss_at_start
        if grown > memory_mb * 1024 * 1024:
            return f"stopped at {grown / 2**20:.0f} MB over its worker's start (setting max_file_memory_mb)"
    return None
