"""The ingest run: corpus formats, incremental runs, bad input inside a run, locking, crash safety."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer import pipeline
from indexer.cli import cli
from indexer.engines import open_engine
from indexer.errors import IndexLockedError
from indexer.pipeline import index_lock, index_paths, remove_paths
from indexer.store import Store
from tests.conftest import CORPUS, doc_by_title, run_cli, settings_for


def test_corpus_documents(runner: CliRunner, corpus_index: Path) -> None:
    docs = run_cli(runner, "list", "--index-dir", str(corpus_index))
    assert [(d["title"], d["type"], d["language"], d["versions"], d["sources"]) for d in docs] == [
        ("Lantern Festival returns to the quays", "html", "en", 1, 1),
        ("Notes from the harbour board archive", "markdown", "en", 1, 1),
        # Two saved copies + an exact duplicate of the first under another name.
        ("Old Harbour Bridge of Velmora", "wikitext", "en", 2, 3),
        ("Rapport sur la crue de la Salt", "plain", "fr", 1, 1),
        ("Salt estuary ferries", "mediawiki", "en", 3, 1),
    ]


def test_exact_duplicate_is_one_version_with_two_sources(runner: CliRunner, corpus_index: Path) -> None:
    doc = doc_by_title(runner, corpus_index, "Old Harbour Bridge")
    versions = run_cli(runner, "versions", doc["doc_id"], "--index-dir", str(corpus_index))
    assert [sorted(Path(s).name for s in v["sources"]) for v in versions] == [
        ["harbour-bridge-2021.txt", "harbour-bridge-saved-copy.txt"],
        ["harbour-bridge-2023.txt"],
    ]


def test_mediawiki_versions_ordered_by_timestamp(runner: CliRunner, corpus_index: Path) -> None:
    doc = doc_by_title(runner, corpus_index, "Salt estuary")
    versions = run_cli(runner, "versions", doc["doc_id"], "--index-dir", str(corpus_index))
    assert [(v["position"], v["own_date"], v["latest"]) for v in versions] == [
        (1, "2021-03-02T10:15:00Z", False),
        (2, "2022-07-18T16:40:00Z", False),
        (3, "2023-05-09T09:05:00Z", True),
    ]


def test_french_document_sections_and_dates(runner: CliRunner, corpus_index: Path) -> None:
    doc = doc_by_title(runner, corpus_index, "Rapport sur la crue")
    shown = run_cli(runner, "show", doc["doc_id"], "--index-dir", str(corpus_index))
    assert (shown["language"], shown["dates"], [s["language"] for s in shown["sections"]]) == (
        "fr",
        [{"kind": "published", "text": "12 mars 2024", "value": "2024-03-12"}],
        ["fr"],
    )


def test_html_document_as_stored(runner: CliRunner, corpus_index: Path) -> None:
    doc = doc_by_title(runner, corpus_index, "Lantern Festival")
    shown = run_cli(runner, "show", doc["doc_id"], "--index-dir", str(corpus_index))
    assert {k: shown[k] for k in ("title", "type", "language", "authors", "dates", "infobox")} == {
        "title": "Lantern Festival returns to the quays",
        "type": "html",
        "language": "en",
        "authors": ["Mira Oskarsdottir"],
        "dates": [{"kind": "published", "text": "2023-08-19", "value": "2023-08-19"}],
        "infobox": {},
    }
    text = "\n".join(s["text"] for s in shown["sections"])
    for chrome in ("cookies", "Accept all", "Most read", "Share on Facebook", "All rights reserved", "Culture"):
        assert chrome not in text
    assert [s["breadcrumb"] for s in shown["sections"]] == [
        "",
        "A route past the old bridge",
        "A route past the old bridge > Safety on the water",
        "What comes next",
    ]


def _copy_corpus(tmp_path: Path) -> Path:
    dst = tmp_path / "docs"
    shutil.copytree(CORPUS, dst)
    return dst


def test_incremental_runs(tmp_path: Path) -> None:
    docs = _copy_corpus(tmp_path)
    s = settings_for(tmp_path / "ix")
    first = index_paths([docs], s)
    assert {k: first[k] for k in ("added", "changed", "unchanged", "new_versions", "duplicates", "failed")} == {
        "added": 7, "changed": 0, "unchanged": 0, "new_versions": 8, "duplicates": 1, "failed": [],
    }  # fmt: skip
    again = index_paths([docs], s)
    assert {k: again[k] for k in ("added", "changed", "unchanged", "new_versions", "documents", "versions")} == {
        "added": 0, "changed": 0, "unchanged": 7, "new_versions": 0, "documents": 5, "versions": 8,
    }  # fmt: skip
    # A changed file adds a version to its document; nothing else is re-read.
    note = docs / "notes/archive-visit.md"
    note.write_text(note.read_text() + "\n## Follow-up\n\nThe photographs were found in box 16 on 2 May 2023.\n")
    changed = index_paths([docs], s)
    assert {k: changed[k] for k in ("added", "changed", "unchanged", "new_versions", "documents", "versions")} == {
        "added": 0, "changed": 1, "unchanged": 6, "new_versions": 1, "documents": 5, "versions": 9,
    }  # fmt: skip
    forced = index_paths([docs], s, force=True)
    assert (forced["unchanged"], forced["new_versions"], forced["duplicates"], forced["versions"]) == (0, 0, 9, 9)
    assert _agree(tmp_path / "ix")


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    report = index_paths([CORPUS], settings_for(tmp_path / "ix"), dry_run=True)
    assert (report["added"], report["new_versions"], report["documents"], report["dry_run"]) == (7, 8, 0, True)
    assert not (tmp_path / "ix").exists()


def _agree(index_dir: Path) -> bool:
    store = Store(index_dir)
    engine = open_engine(str(index_dir))
    try:
        return store.record_ids() == engine.record_ids() and not store.pending()
    finally:
        store.close()
        engine.close()


def test_bad_files_are_reported_and_good_ones_indexed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(CORPUS / "wiki/harbour-bridge-2021.txt", docs / "good.txt")
    (docs / "empty.txt").write_bytes(b"")
    (docs / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    (docs / "broken-utf8.txt").write_bytes("Déjà vu, then ".encode() + b"\xff\xfe garbage")
    with (docs / "huge.txt").open("wb") as fh:
        fh.truncate(200 * 1024 * 1024)
    (docs / "deep.html").write_text("<html><body>" + "<div>" * 10_000 + "Deep but fine." + "</body></html>")
    (docs / "unclosed.html").write_text("<html><title>Open</title><body><h1>Open<p>Unclosed but readable text.")
    (docs / "secret.txt").write_text("A private file.")
    os.symlink("loop.txt", docs / "loop.txt")
    (docs / "sub").mkdir()
    os.symlink("..", docs / "sub" / "back")
    (docs / "zz-vanishes.txt").write_text("This file is deleted while the run is under way.")
    secret = str(docs / "secret.txt")
    if os.geteuid() == 0:
        # root reads anything, so unreadable permissions are simulated where the read happens.
        real_open = Path.open

        def guarded(self: Path, *a: object, **k: object):  # type: ignore[no-untyped-def]
            if str(self) == secret:
                raise PermissionError(13, "Permission denied", secret)
            return real_open(self, *a, **k)

        monkeypatch.setattr(Path, "open", guarded)
    else:
        os.chmod(secret, 0)

    def progress(label: str, n: int) -> None:
        if label == "read" and (docs / "zz-vanishes.txt").exists():
            (docs / "zz-vanishes.txt").unlink()

    report = index_paths([docs], settings_for(tmp_path / "ix"), progress=progress)
    failed = {Path(f["path"]).name: f["reason"] for f in report["failed"]}
    assert failed == {
        "back": "symlink loop (directory already visited)",
        "broken-utf8.txt": "invalid UTF-8 at byte 16",
        "empty.txt": "empty file",
        "huge.txt": "file is 200.0 MB, over the 50 MB limit (setting max_file_bytes)",
        "image.png": "binary file (contains NUL bytes)",
        "loop.txt": "symlink loop",
        "secret.txt": "permission denied",
        "zz-vanishes.txt": "file disappeared before it could be read",
    }
    assert (report["added"], report["documents"]) == (3, 3)
    assert _agree(tmp_path / "ix")


def test_second_writer_is_told_the_index_is_busy(tmp_path: Path, runner: CliRunner) -> None:
    ix = tmp_path / "ix"
    with index_lock(ix):
        result = runner.invoke(cli, ["index", str(CORPUS), "--index-dir", str(ix)])
        assert (result.exit_code, result.output.strip()) == (
            1,
            f"palimpsest: error: index is busy: another palimpsest process is writing to {ix}; "
            "try again when it has finished",
        )
        with pytest.raises(IndexLockedError), index_lock(ix, wait_seconds=0.3):
            pass


def test_crash_between_store_and_index_is_recovered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ix = tmp_path / "ix"
    real_sync = pipeline.sync_documents

    def crash(*_a: object, **_k: object) -> int:
        raise KeyboardInterrupt  # as if killed after the store transaction committed

    monkeypatch.setattr(pipeline, "sync_documents", crash)
    with pytest.raises(KeyboardInterrupt):
        index_paths([CORPUS], settings_for(ix))
    store = Store(ix)
    assert len(store.pending()) == 5
    store.close()
    monkeypatch.setattr(pipeline, "sync_documents", real_sync)
    report = index_paths([CORPUS], settings_for(ix))
    assert (report["unchanged"], report["documents"], report["versions"]) == (7, 5, 8)
    assert _agree(ix)
    engine = open_engine(str(ix))
    assert len(engine.record_ids()) == engine.doc_count()  # no duplicate records
    engine.close()


def _make_corpus(root: Path, n: int) -> None:
    root.mkdir()
    for i in range(n):
        body = "\n\n".join(
            f"Paragraph {j} of report {i} describes the harbour works of week {j} in plain words, "
            f"with the crane number {i * 31 + j} and the tide table of day {j}."
            for j in range(12)
        )
        (root / f"report-{i:04d}.md").write_text(
            f"# Report {i}\n\n## Works\n\n{body}\n\n## Tides\n\nCalm on 3 May 2022.\n"
        )


@pytest.mark.slow
def test_kill_9_at_any_point_leaves_a_usable_index(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    _make_corpus(docs, 400)
    ix = tmp_path / "ix"
    cmd = [sys.executable, "-m", "indexer.cli", "index", str(docs), "--index-dir", str(ix), "--json"]
    for delay in (0.4, 1.0, 1.6, 2.2, 2.8):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if (ix / "store.sqlite3").exists() and (ix / "whoosh").exists():
            # The previous state is usable: both open, and the index answers queries.
            store = Store(ix)
            store.counts()
            store.close()
            engine = open_engine(str(ix))
            engine.search("harbour")
            engine.close()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    report = json.loads(done.stdout)
    assert (report["documents"], report["versions"], report["failed"]) == (400, 400, [])
    assert _agree(ix)
    engine = open_engine(str(ix))
    assert len(engine.record_ids()) == engine.doc_count() == 400 * 2  # two sections each
    engine.close()


def test_remove(tmp_path: Path, runner: CliRunner) -> None:
    docs = _copy_corpus(tmp_path)
    ix = tmp_path / "ix"
    index_paths([docs], settings_for(ix))
    report = remove_paths([docs / "wiki/harbour-bridge-saved-copy.txt"], settings_for(ix))
    # The duplicate's version still has another source: nothing but the source goes.
    assert (report["removed_files"], report["removed_versions"], report["documents"], report["versions"]) == (
        1,
        0,
        5,
        8,
    )
    report = remove_paths([docs / "wiki"], settings_for(ix))
    assert (report["removed_files"], report["removed_versions"], report["documents"], report["versions"]) == (
        2,
        2,
        4,
        6,
    )
    assert _agree(ix)
    result = runner.invoke(cli, ["verify", "--index-dir", str(ix), "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["ok"] is True


def test_parallel_index_writer_matches_the_serial_one(tmp_path: Path) -> None:
    # 80 documents: above writer.PARALLEL_MIN_DOCUMENTS, so two workers use two writer processes.
    docs = tmp_path / "docs"
    _make_corpus(docs, 80)
    results = []
    for workers in (1, 2):
        ix = tmp_path / f"ix{workers}"
        report = index_paths([docs], settings_for(ix, workers=workers))
        assert (report["documents"], report["sections"], report["failed"]) == (80, 160, [])
        assert _agree(ix)
        engine = open_engine(str(ix))
        hits = engine.search("crane 1242", limit=10_000)
        # Segment layout differs between the two writers, so ties are compared as sets of scores.
        results.append((sorted((-round(h.score, 6), h.record_id) for h in hits), engine.record_ids()))
        engine.close()
    assert results[0] == results[1]
    best = results[0][0][0][1]
    assert best.endswith(":0")  # the lead of report 40 ("Report 40", crane number 1242)
