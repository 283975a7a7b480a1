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
from typing import Any

import pytest
from click.testing import CliRunner

from indexer import pipeline
from indexer.cli import cli
from indexer.engines import open_engine
from indexer.errors import IndexLockedError
from indexer.pipeline import index_lock, index_paths, remove_paths
from indexer.search import Searcher, SearchRequest, parse
from indexer.store import Store
from tests.conftest import CORPUS, doc_by_title, run_cli, settings_for

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on each engine


def test_corpus_documents(runner: CliRunner, corpus_index: Path) -> None:
    docs = run_cli(runner, "list", "--index-dir", str(corpus_index))
    assert [(d["title"], d["doc_type"], d["language"], d["version_count"], d["file_count"]) for d in docs] == [
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
    assert [sorted(Path(s).name for s in v["files"]) for v in versions] == [
        ["harbour-bridge-2021.txt", "harbour-bridge-saved-copy.txt"],
        ["harbour-bridge-2023.txt"],
    ]


def test_mediawiki_versions_ordered_by_timestamp(runner: CliRunner, corpus_index: Path) -> None:
    doc = doc_by_title(runner, corpus_index, "Salt estuary")
    versions = run_cli(runner, "versions", doc["doc_id"], "--index-dir", str(corpus_index))
    assert [(v["number"], v["date"], v["latest"]) for v in versions] == [
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
        if label == "files" and (docs / "zz-vanishes.txt").exists():
            (docs / "zz-vanishes.txt").unlink()

    report = index_paths([docs], settings_for(tmp_path / "ix"), progress=progress)
    failed = {Path(f["path"]).name: f["reason"] for f in report["failed"]}
    assert failed == {
        "back": "symlink loop (directory already visited)",
        "empty.txt": "empty file",
        "huge.txt": "file is 200.0 MB, over the 50 MB limit (setting max_file_bytes)",
        "loop.txt": "symlink loop",
        "secret.txt": "permission denied",
        "zz-vanishes.txt": "file disappeared before it could be read",
    }
    assert [(Path(f["path"]).name, f["reason"]) for f in report["skipped"]] == [
        ("image.png", "image (skipped by default; --include '*.png' reads it)")
    ]
    # Damaged UTF-8 is read with U+FFFD for the bad bytes, and said.
    assert [(Path(w["path"]).name, w["message"]) for w in report["warnings"]] == [
        ("broken-utf8.txt", "damaged UTF-8: 2 undecodable byte sequences (first at byte 16) replaced with U+FFFD")
    ]
    assert (report["added"], report["documents"]) == (4, 4)
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
def test_kill_9_at_any_point_leaves_a_usable_index(tmp_path: Path, engine: str) -> None:
    docs = tmp_path / "docs"
    _make_corpus(docs, 400)
    ix = tmp_path / "ix"
    cmd = [sys.executable, "-m", "indexer.cli", "index", str(docs), "--index-dir", str(ix), "--json"]
    engine_files = ix / engine
    for delay in (0.4, 1.0, 1.6, 2.2, 2.8):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if (ix / "store.sqlite3").exists() and engine_files.exists():
            # The previous state is usable: both open, and the index answers queries.
            store = Store(ix)
            store.counts()
            store.close()
            engine = open_engine(str(ix))
            engine.search(parse("harbour").tree)
            engine.close()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    report = json.loads(done.stdout)
    assert (report["documents"], report["versions"], report["failed"]) == (400, 400, [])
    assert _agree(ix)
    engine = open_engine(str(ix))
    assert len(engine.record_ids()) == engine.doc_count() == 400 * 2  # two sections each
    engine.close()


def test_a_store_killed_while_it_was_made_is_no_index(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The torture suite's kill trials: a fresh run killed right after SQLite created the store's
    file, before its tables, left a file without tables, and `palimpsest search` answered with a
    traceback (no such table: meta). A store is now made under another name and renamed into
    place; a file without tables (left by an older version) reads as no index."""
    ix = tmp_path / "ix"
    ix.mkdir()
    (ix / "store.sqlite3").write_bytes(b"")  # what sqlite3.connect leaves before any table
    result = runner.invoke(cli, ["search", "harbour", "--index-dir", str(ix)])
    assert (result.exit_code, result.exception is None or isinstance(result.exception, SystemExit)) == (1, True)
    assert "no index in" in result.output and "Traceback" not in result.output
    (ix / "store.sqlite3").unlink()

    real_connect = __import__("sqlite3").connect

    def killed_while_making(path: Any, *args: Any, **kwargs: Any) -> Any:
        if str(path).endswith(".new"):
            real_connect(path, *args, **kwargs).close()  # the new file exists, without tables...
            raise KeyboardInterrupt  # ...and the run stops there
        return real_connect(path, *args, **kwargs)

    monkeypatch.setattr("indexer.store.sqlite3.connect", killed_while_making)
    with pytest.raises(KeyboardInterrupt):
        Store(ix, create=True)
    assert not (ix / "store.sqlite3").exists()
    monkeypatch.undo()
    report = index_paths([CORPUS], settings_for(ix))
    assert report["failed"] == [] and not (ix / "store.sqlite3.new").exists()
    assert run_cli(runner, "verify", "--index-dir", str(ix))["ok"] is True


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
        hits = engine.search(parse("crane 1242").tree, limit=10_000)
        # Segment layout differs between the two writers, so ties are compared as sets of scores.
        results.append((sorted((-round(h.score, 6), h.record_id) for h in hits), engine.record_ids()))
        engine.close()
    assert results[0] == results[1]
    best = results[0][0][0][1]
    assert best.endswith(":0")  # the lead of report 40 ("Report 40", crane number 1242)


def _article(extra: str) -> str:
    body = "\n\n".join(
        f"The quay wall of section {i} was rebuilt in stone after the flood, and the tram line moved inland."
        for i in range(30)
    )
    return f"= Quay wall =\n\n{body}\n\n{extra}\n"


def test_an_id_changed_by_a_later_file_keeps_working(tmp_path: Path, runner: CliRunner) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    texts = {"a.txt": _article("A first ending."), "b.txt": _article("A second, other ending.")}
    for name, text in texts.items():
        (docs / name).write_text(text)
    together = run_cli(runner, "index", str(docs), "--index-dir", str(tmp_path / "together"))
    assert (together["documents"], together["versions"]) == (1, 2)
    (doc,) = run_cli(runner, "list", "--index-dir", str(tmp_path / "together"))
    timeline = run_cli(runner, "versions", doc["doc_id"], "--index-dir", str(tmp_path / "together"))
    # Index first the file whose version id is the larger: the document is founded under the
    # other id, and changes its id when the file with the smaller version id joins it.
    by_vid = sorted((v["version_id"], Path(v["files"][0]).name) for v in timeline)
    later, first = by_vid[0][1], by_vid[1][1]
    ix = tmp_path / "ix"
    run_cli(runner, "index", str(docs / first), "--index-dir", str(ix))
    (old,) = run_cli(runner, "list", "--index-dir", str(ix))
    run_cli(runner, "index", str(docs / later), "--index-dir", str(ix))
    (new,) = run_cli(runner, "list", "--index-dir", str(ix))
    assert old["doc_id"] != new["doc_id"] == doc["doc_id"]
    # The old id answers in the CLI...
    assert run_cli(runner, "show", old["doc_id"], "--index-dir", str(ix))["doc_id"] == new["doc_id"]
    assert [v["number"] for v in run_cli(runner, "versions", old["doc_id"], "--index-dir", str(ix))] == [1, 2]
    assert (
        run_cli(runner, "diff", f"{old['doc_id']}@1", f"{old['doc_id']}@2", "--index-dir", str(ix))["doc_a"]
        == (new["doc_id"])
    )
    # ... and redirects on the web, keeping the query string.
    from search_web import create_app

    app = create_app({"INDEX_DIR": str(ix), "TESTING": True})
    try:
        client = app.test_client()
        for path in (f"/doc/{old['doc_id']}?q=quay", f"/api/documents/{old['doc_id']}/versions"):
            resp = client.get(path)
            assert (resp.status_code, resp.headers["Location"]) == (308, path.replace(old["doc_id"], new["doc_id"]))
        assert client.get(f"/doc/{old['doc_id']}", follow_redirects=True).status_code == 200
        assert client.get("/doc/0000000000000000").status_code == 404
    finally:
        app.extensions["palimpsest"].close()


ANARCHISM = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "mediawiki" / "anarchism.xml"


def test_real_export_timeline_keeps_the_final_revert(tmp_path: Path, runner: CliRunner) -> None:
    if not ANARCHISM.exists():
        pytest.skip(f"{ANARCHISM} not found: the real MediaWiki export lives in ../shared/data")
    ix = tmp_path / "ix"
    report = run_cli(runner, "index", str(ANARCHISM), "--index-dir", str(ix))
    # 8 revisions, 7 texts: the last revision reverts to the fifth one's text.
    assert (report["new_versions"], report["duplicates"], report["documents"], report["versions"]) == (7, 1, 1, 7)
    (doc,) = run_cli(runner, "list", "--index-dir", str(ix))
    assert (doc["title"], doc["version_count"]) == ("Anarchism", 8)
    timeline = run_cli(runner, "versions", doc["doc_id"], "--index-dir", str(ix))
    assert [(v["number"], v["date"], v["revision"], v["same_as"], v["latest"]) for v in timeline] == [
        (1, "2001-10-11T20:18:47Z", "233194", None, False),
        (2, "2005-12-05T16:28:17Z", "30232840", None, False),
        (3, "2006-09-07T00:01:31Z", "74233967", None, False),
        (4, "2010-01-29T19:50:51Z", "340772295", None, False),
        (5, "2010-01-29T19:57:27Z", "340773357", None, False),
        (6, "2010-02-01T07:09:04Z", "341236677", None, False),
        (7, "2010-02-01T08:18:14Z", "341242969", None, False),
        (8, "2010-02-02T03:43:07Z", "341408830", 5, True),
    ]
    assert timeline[7]["version_id"] == timeline[4]["version_id"]
    # The latest version is the reverted-to text; `diff DOC@7 DOC@8` is the revert itself.
    shown = run_cli(runner, "show", doc["doc_id"], "--index-dir", str(ix))
    assert shown["version_id"] == timeline[7]["version_id"]
    revert = run_cli(runner, "diff", f"{doc['doc_id']}@7", f"{doc['doc_id']}@latest", "--index-dir", str(ix))
    undo = run_cli(runner, "diff", f"{doc['doc_id']}@5", f"{doc['doc_id']}@7", "--index-dir", str(ix))
    assert (revert["a"], revert["b"]) == (timeline[6]["version_id"], timeline[4]["version_id"])
    assert revert["summary"]["words_inserted"] == undo["summary"]["words_deleted"] > 0
    # Search says which timeline entries hold a match: the reverted-to text matches in #5 and #8.
    hit = run_cli(runner, "search", "anarchism", "--all-versions", "--index-dir", str(ix))["hits"][0]
    assert [m["number"] for m in hit["matching_versions"]] == [1, 2, 3, 4, 5, 6, 7, 8]
    # Categories are a facet of the version, not text.
    found = run_cli(runner, "search", "anarchism", "--latest-only", "--index-dir", str(ix))
    assert [(c["label"], c["count"]) for c in found["facets"]["category"]] == [
        ("Anarchism", 1), ("Political culture", 1), ("Political ideologies", 1), ("Social theories", 1),
    ]  # fmt: skip
    assert shown["categories"] == [
        "Anarchism",
        "Political ideologies",
        "Political culture",
        "Social theories",
    ]  # page order
    for args in (['category:"Political ideologies"'], ["anarchism", "--category", "POLITICAL ideologies"]):
        assert run_cli(runner, "search", *args, "--index-dir", str(ix))["total"] == 1
    assert run_cli(runner, "search", "anarchism", "--category", "Physics", "--index-dir", str(ix))["total"] == 0
    assert run_cli(runner, "search", '"Social theories"', "--all-versions", "--index-dir", str(ix))["total"] == 0
    from search_web import create_app

    app = create_app({"INDEX_DIR": str(ix), "TESTING": True})
    try:
        client = app.test_client()
        page = client.get(f"/doc/{doc['doc_id']}").get_data(as_text=True)
        results = client.get("/search?q=anarchism").get_data(as_text=True)
    finally:
        app.extensions["palimpsest"].close()
    assert "8 of 8 (latest)" in " ".join(page.split())
    assert '2010-02-02T03:43:07Z">2 February 2010, 03:43 UTC<' in page and "same text as version 5" in page
    assert 'id="facet-category"' in results and "Political ideologies" in results


def _saved_page(title: str, body: str) -> str:
    """Text saved from a web page of one site: the article between the same furniture lines."""
    return f"{title}\n\nCity Desk\n\nLatest stories\n\n{body}\n\nMore from the Courier\n"


def test_page_furniture_is_left_out_of_the_index_never_out_of_the_store(tmp_path: Path, runner: CliRunner) -> None:
    web = tmp_path / "courier"
    web.mkdir()
    bodies = {
        "tram.txt": "The tram line to the harbour reopened on Monday after two years of works.",
        "quay.txt": "Stone from the old quay wall was numbered and stored for the rebuilding.",
        "ferry.txt": "The night ferry will stop at the new pier from the first of June.",
    }
    for name, body in bodies.items():
        (web / name).write_text(_saved_page(name.split(".")[0].title() + " news", body))
    # The same furniture-like lines in a structured format (Markdown) are content.
    notes = tmp_path / "notes"
    notes.mkdir()
    topics = ("the bell tower clock", "a grain barge aground", "new lamps on the bridge")
    for i, topic in enumerate(topics):
        (notes / f"note{i}.md").write_text(f"# Note {i}\n\n- City Desk\n- Latest stories\n\nMinutes on {topic}.\n")
    ix = tmp_path / "ix"
    # One run, or one file per run in any order: the same ids and the same index.
    index_paths([web, notes], settings_for(ix))
    ix2 = tmp_path / "ix2"
    for path in sorted([*web.iterdir(), *notes.iterdir()], reverse=True):
        index_paths([path], settings_for(ix2))

    def state(index: Path) -> tuple[Any, ...]:
        store = Store(index)
        engine = open_engine(str(index))
        try:
            hits = {
                q: sorted(h.record_id for h in engine.search(parse(q).tree, limit=50))
                for q in ("desk", "stories", "tram")
            }
            return sorted(store.doc_ids()), hits
        finally:
            store.close()
            engine.close()

    ids, hits = state(ix)
    assert (ids, hits) == state(ix2)
    # "City Desk" and "Latest stories" are found in the notes only; the web pages keep them in the store.
    store = Store(ix)
    try:
        notes_records = {f"{vid}:0" for path in notes.iterdir() for vid in store.versions_of_path(str(path))}
        tram_vid = store.versions_of_path(str(web / "tram.txt"))[0]
        stored_text = store.sections_of(tram_vid)[0].text
    finally:
        store.close()
    assert set(hits["desk"]) == set(hits["stories"]) == notes_records
    assert hits["tram"] == [f"{tram_vid}:0"]
    assert stored_text.splitlines() == ["City Desk", "Latest stories", bodies["tram.txt"], "More from the Courier"]
    # Below the threshold (two pages of the site), the lines are content again.
    report = remove_paths([web / "ferry.txt"], settings_for(ix))
    assert report["documents"] == 5
    _ids, hits = state(ix)
    assert len(hits["desk"]) == 5


def test_a_label_few_pages_of_a_large_site_share_is_content(tmp_path: Path) -> None:
    # 40 pages of one site: "Latest stories" is on every page (furniture), "Editor's note" on 3
    # of them, fewer than a tenth of the site (content, though 3 is the minimum repeat count).
    site = tmp_path / "site"
    site.mkdir()
    places = ["quay", "bridge", "market", "harbour", "ferry", "tower", "mill", "canal"]
    for i in range(40):
        note = "\n\nEditor's note\n" if i % 15 == 0 else ""  # pages 0, 15 and 30
        body = f"Page {i} tells how the {places[i % 8]} number {i} was repaired in the year {1900 + i}."
        (site / f"page{i:02d}.txt").write_text(f"Story {i}\n\nLatest stories\n{note}\n{body}\n")
    ix = tmp_path / "ix"
    index_paths([site], settings_for(ix))
    engine = open_engine(str(ix))
    try:
        found = [len(engine.search(parse(q).tree, limit=50)) for q in ('"latest stories"', "editor")]
        assert found == [0, 3]
    finally:
        engine.close()


def test_files_that_are_only_a_title_are_documents_of_their_own(tmp_path: Path, runner: CliRunner) -> None:
    # A title is the file's own text: files that have nothing else are not one empty version.
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in {
        "a.md": "# Supersonic flow past a wedge\n",
        "b.md": "# Heat transfer in laminar boundary layers\n",
        "c.txt": "Stability of thin shells under pressure\n",
    }.items():
        (docs / name).write_text(text)
    report = run_cli(runner, "index", str(docs), "--index-dir", str(tmp_path / "ix"))
    assert (report["new_versions"], report["duplicates"], report["documents"]) == (3, 0, 3)
    found = run_cli(runner, "search", "laminar", "--index-dir", str(tmp_path / "ix"))
    assert [h["title"] for h in found["hits"]] == ["Heat transfer in laminar boundary layers"]
    # A file that is one short line is that line's content, not a title over nothing: it is
    # named after its file, and its words rank as text.
    found = run_cli(runner, "search", "shells", "--index-dir", str(tmp_path / "ix"))
    assert [(h["title"], h["snippet"]) for h in found["hits"]] == [
        ("c", "Stability of thin <mark>shells</mark> under pressure")
    ]


def _records_kept(engine: Any) -> int:
    """Records in the engine's segments, deleted ones included."""
    if engine.name == "tantivy":
        meta = json.loads((engine.path / "meta.json").read_text())
        return sum(int(segment["max_doc"]) for segment in meta["segments"])
    if engine.name == "xapian":  # deleted at once: only its document ids stay used
        return engine.doc_count()  # type: ignore[no-any-return]
    return int(engine._searcher().doc_count_all())


def test_recovery_after_the_index_commit_scores_as_an_uninterrupted_build(tmp_path: Path, engine: str) -> None:
    """Issue 17, finding 2: a run killed after its index commit, before clearing its pending list,
    is finished by the next run, which deletes and re-adds those documents' records. The deleted
    records wait in Whoosh's segments; the scores must not count them."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for i, text in enumerate(
        ["The harbour crane lifted the ferry.", "A ferry left the harbour at dawn, then another ferry.",
         "Tides and the harbour wall.", "The crane and the tide tables of the old harbour."]
    ):  # fmt: skip
        (docs / f"note{i}.txt").write_text(f"Note {i}\n\n{text}\n")
    queries = ["harbour", "ferry crane", '"harbour wall"', "tide~"]

    def results(index_dir: Path) -> list[list[tuple[str, str, float]]]:
        with Searcher(index_dir) as s:
            return [[(h.doc_id, h.anchor, h.score) for h in s.search(SearchRequest(q=q)).hits] for q in queries]

    index_paths([docs], settings_for(tmp_path / "reference"))
    recovered = tmp_path / "recovered"
    index_paths([docs], settings_for(recovered))
    store = Store(recovered)
    with store.transaction():  # as if killed between the index commit and clearing the list
        store.mark_pending(store.doc_ids())
    store.close()
    report = index_paths([docs], settings_for(recovered))
    with Searcher(recovered) as s:  # the re-added records left deleted ones behind
        deleted = _records_kept(s.engine) - s.engine.doc_count()
    # Whoosh keeps the four deleted records in its segments; tantivy's merge at commit drops them,
    # Xapian deletes them at once.
    kept_deleted = {"whoosh": 4, "tantivy": 0, "xapian": 0}[engine]
    assert (report["unchanged"], deleted, results(recovered)) == (4, kept_deleted, results(tmp_path / "reference"))


# -- rebuild (issue 17, finding 7) -------------------------------------------------------------
def _search(runner: CliRunner, ix: Path) -> dict[str, Any]:
    return {k: v for k, v in run_cli(runner, "search", "harbour", "--index-dir", str(ix)).items() if k != "took_ms"}


def _answers(client: Any, queries: list[str]) -> list[Any]:
    out = []
    for q in queries:
        resp = client.get("/api/search", query_string={"q": q})
        body = resp.get_json()
        out.append((resp.status_code, [(h["doc_id"], h["anchor"], h["score"]) for h in body["hits"]]))
    return out


def test_rebuild_swaps_a_new_index_in_while_a_server_searches(tmp_path: Path, runner: CliRunner, engine: str) -> None:
    import threading

    from search_web import create_app

    ix = tmp_path / "ix"
    index_paths([CORPUS], settings_for(ix))
    app = create_app({"INDEX_DIR": str(ix), "TESTING": True})
    queries = ["harbour", "bridge closure", '"old harbour"', "movie"]
    before = _answers(app.test_client(), queries)
    seen: list[Any] = []
    stop = threading.Event()

    def search() -> None:
        client = app.test_client()
        while not stop.is_set():
            try:
                seen.append(_answers(client, queries))
            except Exception as exc:  # a failed search is what this test looks for
                seen.append(repr(exc))

    threads = [threading.Thread(target=search) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        reports = [run_cli(runner, "rebuild", "--index-dir", str(ix)) for _ in range(3)]
    finally:
        stop.set()
        for t in threads:
            t.join()
    after = _answers(app.test_client(), queries)
    app.extensions["palimpsest"].close()
    assert [(r["slot"], r["replaced"], r["documents"]) for r in reports] == [
        (f"{engine}-1", engine, 5),
        (f"{engine}-2", f"{engine}-1", 5),
        (f"{engine}-3", f"{engine}-2", 5),
    ]
    assert len(seen) > 3 and all(answers == before for answers in seen) and after == before
    assert sorted(p.name for p in ix.iterdir() if p.name.startswith(engine)) == [f"{engine}-2", f"{engine}-3"]
    assert run_cli(runner, "verify", "--index-dir", str(ix))["ok"] is True


def test_a_stopped_rebuild_leaves_the_old_index_live(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    ix = tmp_path / "ix"
    index_paths([CORPUS], settings_for(ix))
    before = _search(runner, ix)
    real = pipeline.sync_documents

    def stopped(store: Any, engine: Any, doc_ids: Any, *args: Any, **kwargs: Any) -> int:
        real(store, engine, list(doc_ids)[:2], *args, **kwargs)  # part of the index written...
        raise KeyboardInterrupt  # ...and the rebuild stopped, as by Ctrl-C or a kill

    monkeypatch.setattr(pipeline, "sync_documents", stopped)
    result = runner.invoke(cli, ["rebuild", "--index-dir", str(ix)])
    assert (result.exit_code, result.output) == (
        1,
        "palimpsest: error: interrupted; the index keeps its previous state\n",
    )
    assert (ix / f"{engine}-1").is_dir() and not (ix / "slot").exists()  # the half-built slot, never live
    assert _search(runner, ix) == before
    monkeypatch.setattr(pipeline, "sync_documents", real)
    report = run_cli(runner, "rebuild", "--index-dir", str(ix))
    assert (report["slot"], report["replaced"]) == (f"{engine}-2", engine)
    assert sorted(p.name for p in ix.iterdir() if p.name.startswith(engine)) == [engine, f"{engine}-2"]
    after = _search(runner, ix)
    assert after == before


def test_index_force_builds_aside_too(tmp_path: Path, runner: CliRunner, engine: str) -> None:
    ix = tmp_path / "ix"
    index_paths([CORPUS], settings_for(ix))
    before = _search(runner, ix)
    run_cli(runner, "index", str(CORPUS), "--force", "--index-dir", str(ix))
    assert (ix / "slot").read_text() == f"{engine}-1\n" and (ix / "engine").read_text() == f"{engine}\n"
    after = _search(runner, ix)
    assert after == before
    assert run_cli(runner, "verify", "--index-dir", str(ix))["ok"] is True


@pytest.mark.parametrize("workers", [1, 2])
def test_lazy_map_gives_results_in_order_reading_jobs_as_they_are_needed(workers: int) -> None:
    taken: list[int] = []

    def jobs() -> Any:
        for n in range(40):
            taken.append(n)
            yield -n

    results = pipeline._map_lazy(abs, jobs(), workers)
    first = next(results)
    assert first == 0 and len(taken) <= max(8, 4 * workers) + 1  # not every job read for the first result
    assert [first, *results] == list(range(40))
    assert list(pipeline._map_lazy(abs, iter([-3, -1]), workers)) == [3, 1]  # too few jobs for workers
