"""Bounded work per file (issue 17, finding 4): worker processes under a time and memory budget,
and the limits on lines, distinct words and sections of a version."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from indexer import pipeline
from indexer.limits import TextLimits, bounded
from indexer.models import Block
from indexer.store import Store
from indexer.workers import run_jobs
from tests.conftest import settings_for


def _job(arg: str) -> str:
    if arg == "sleep":
        time.sleep(60)
    if arg == "grow":
        hog = []
        for _ in range(400):
            hog.append(bytearray(2**20))  # 400 MB, 1 MB at a time
            time.sleep(0.001)
    if arg == "crash":
        os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer, or a crash in a C parser
    if arg == "bug":
        raise KeyError("no such thing")
    return arg.upper()


def test_a_job_over_its_budget_is_stopped_and_the_others_go_on() -> None:
    jobs = ["a", "sleep", "b", "grow", "crash", "bug", "c", "d"]
    started = time.monotonic()
    results = run_jobs(_job, jobs, 2, 1.5, 100, lambda job, why: f"{job}: {why}")
    assert time.monotonic() - started < 20
    assert results[:3] == ["A", "sleep: stopped after 1.5 s (setting max_file_seconds)", "B"]
    assert results[3] in (
        "grow: over 100 MB (setting max_file_memory_mb)",  # the worker's RLIMIT_DATA
        *(f"grow: stopped at {n} MB over its worker's start (setting max_file_memory_mb)" for n in range(100, 140)),
    )
    assert results[4:] == [
        "crash: its worker process died (signal 9)",
        "bug: KeyError: 'no such thing'",
        "C",
        "D",
    ]


def test_results_keep_the_order_of_the_jobs() -> None:
    jobs = [str(i) for i in range(50)]
    assert run_jobs(_job, jobs, 3, 10, 0, lambda job, why: why) == jobs


def test_a_file_that_takes_too_long_fails_and_the_run_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("a.txt", "stuck.txt", "b.txt"):
        (docs / name).write_text(f"A note called {name} about the harbour.\n")
    real = pipeline.load_bytes

    def slow(path: str, *args: Any, **kwargs: Any) -> Any:
        if path.endswith("stuck.txt"):
            time.sleep(60)  # as a parser stuck on a hostile file
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pipeline, "load_bytes", slow)  # the workers are forked: they see it
    report = pipeline.index_paths([docs], settings_for(tmp_path / "ix", workers=2, max_file_seconds=1.0))
    assert (report["added"], report["documents"], report["failed"]) == (
        2,
        2,
        [{"path": str(docs / "stuck.txt"), "reason": "stopped after 1 s (setting max_file_seconds)"}],
    )


LIMITS = TextLimits(lines=6, distinct_words=8, sections=2)


@pytest.mark.parametrize(
    ("blocks", "kept", "note"),
    [
        ([Block("paragraph", "one two three"), Block("heading", "Two", 2), Block("paragraph", "two one")], None, None),
        (
            [Block("paragraph", "a b\nc d\ne f"), Block("paragraph", "a\nb\nc\nd")],
            [Block("paragraph", "a b\nc d\ne f"), Block("paragraph", "a\nb\nc")],
            "truncated: more than 6 lines (setting max_lines); the text from line 7 on is not indexed",
        ),
        (
            [Block("paragraph", "one two three"), Block("paragraph", "Four FOUR five\nsix seven eight nine ten")],
            [Block("paragraph", "one two three"), Block("paragraph", "Four FOUR five\nsix seven eight")],
            "truncated: more than 8 distinct words (setting max_distinct_words); the text from line 3 on is not indexed",
        ),
        (
            [Block("heading", "A", 2), Block("paragraph", "x"), Block("heading", "B", 2), Block("heading", "C", 3)],
            [Block("heading", "A", 2), Block("paragraph", "x"), Block("heading", "B", 2)],
            "truncated: more than 2 sections (setting max_sections); the text from line 4 on is not indexed",
        ),
    ],
)
def test_a_version_is_cut_where_it_crosses_a_limit(
    blocks: list[Block], kept: list[Block] | None, note: str | None
) -> None:
    assert bounded(tuple(blocks), LIMITS) == (tuple(kept or blocks), note)


def test_a_truncated_file_is_indexed_with_a_warning(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "words.txt").write_text(" ".join(f"w{i}x" for i in range(100)) + "\n\nharbour\n")
    (docs / "ok.txt").write_text("A short note about the harbour.\n")
    report = pipeline.index_paths([docs], settings_for(tmp_path / "ix", max_distinct_words=40))
    assert (report["added"], report["failed"], report["warnings"]) == (
        2,
        [],
        [
            {
                "path": str(docs / "words.txt"),
                "message": "truncated: more than 40 distinct words (setting max_distinct_words); "
                "the text from line 1 on is not indexed",
            }
        ],
    )


def test_a_file_over_the_line_limit_is_cut_before_it_is_parsed(tmp_path: Path) -> None:
    # The plain-text parser keeps a block per unwrapped line: 5 million lines took 1.9 GB.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lines.txt").write_text("".join(f"w{i}\n" for i in range(500)) + "\n\n\n")
    (docs / "notes.md").write_text("# Notes\n\n" + "".join(f"- item {i}\n" for i in range(20)))
    report = pipeline.index_paths([docs], settings_for(tmp_path / "ix", max_lines=10))
    assert report["warnings"] == [
        {
            "path": str(docs / name),
            "message": "truncated: more than 10 lines (setting max_lines); the text from line 11 on is not indexed",
        }
        for name in ("lines.txt", "notes.md")
    ]
    store = Store(tmp_path / "ix")
    try:
        texts = sorted(row.text for d in store.doc_ids() for row in store.section_rows(d) if row.text)
    finally:
        store.close()
    # (w0, a short first line, is the title of lines.txt)
    assert texts == ["\n".join(f"- item {i}" for i in range(8)), "\n".join(f"w{i}" for i in range(1, 10))]
