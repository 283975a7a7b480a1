"""The CLI: help everywhere, JSON shapes, one-line errors with exit status 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.cli import cli
from tests.conftest import CORPUS, doc_by_title, run_cli

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on each engine

COMMANDS = ["index", "list", "show", "versions", "search", "similar", "stats", "remove", "verify", "rebuild"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(runner: CliRunner, command: str) -> None:
    result = runner.invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage: cli" in result.output or "Usage: palimpsest" in result.output
    assert "--index-dir" in result.output
    if command != "index":
        assert "--json" in result.output


def test_index_json_report_shape(runner: CliRunner, tmp_path: Path) -> None:
    report = run_cli(runner, "index", str(CORPUS), "--index-dir", str(tmp_path / "ix"), "--workers", "1")
    assert sorted(report) == sorted(
        ["added", "changed", "unchanged", "new_versions", "duplicates", "skipped", "failed", "warnings",
         "documents", "versions", "sections", "seconds", "timings", "worker_seconds", "reuse"]
    )  # fmt: skip
    assert {k: v for k, v in report.items() if k not in ("seconds", "sections", "timings", "worker_seconds")} == {
        "added": 7, "changed": 0, "unchanged": 0, "new_versions": 8, "duplicates": 1, "skipped": [], "failed": [],
        "warnings": [], "documents": 5, "versions": 8, "reuse": {"versions": 5, "links": 0},
    }  # fmt: skip
    assert sorted(report["timings"]) == ["files", "index", "reuse", "sentences", "snapshot", "store"]
    assert sorted(report["worker_seconds"]) == ["enrich", "parse", "read"]


def test_index_dir_from_environment(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PALIMPSEST_INDEX", str(tmp_path / "envix"))
    run_cli(runner, "index", str(CORPUS / "notes"))
    assert (tmp_path / "envix" / "store.sqlite3").exists()
    assert [d["title"] for d in run_cli(runner, "list")] == ["Notes from the harbour board archive"]


def test_list_and_show_shapes(runner: CliRunner, corpus_index: Path) -> None:
    docs = run_cli(runner, "list", "--index-dir", str(corpus_index))
    keys = ["doc_id", "title", "doc_type", "language", "version_count", "file_count", "type", "versions", "sources"]
    assert all(sorted(d) == sorted(keys) for d in docs)
    # The older names (kept for one release) say the same.
    assert all(
        (d["type"], d["versions"], d["sources"]) == (d["doc_type"], d["version_count"], d["file_count"]) for d in docs
    )
    doc = doc_by_title(runner, corpus_index, "Notes from")
    shown = run_cli(runner, "show", doc["doc_id"], "--index-dir", str(corpus_index))
    assert sorted(shown) == sorted(
        ["doc_id", "version_id", "title", "doc_type", "files", "language", "authors", "dates", "infobox",
         "categories", "sections", "type", "sources"]
    )  # fmt: skip
    assert shown["sections"][1] == {
        "ordinal": 1,
        "heading": "Minutes of 1927",
        "breadcrumb": "Minutes of 1927",
        "anchor": "minutes-of-1927",
        "level": 2,
        "auxiliary": False,
        "language": "en",
        "text": "- The board debated a ferry scheme against a fixed crossing for three sessions.\n"
        "- The truss design won by seven votes to four on 12 December 1927.",
        "dates": [{"text": "12 December 1927", "start": 129, "end": 145, "value": "1927-12-12", "inferred": False}],
    }


def test_plain_output_is_readable(runner: CliRunner, corpus_index: Path) -> None:
    result = runner.invoke(cli, ["list", "--index-dir", str(corpus_index)])
    assert result.exit_code == 0
    assert "Old Harbour Bridge of Velmora" in result.output
    doc = doc_by_title(runner, corpus_index, "Old Harbour")
    shown = runner.invoke(cli, ["show", doc["doc_id"], "--index-dir", str(corpus_index)])
    assert "§ History > Tram years" in shown.output
    stats = runner.invoke(cli, ["stats", "--index-dir", str(corpus_index)])
    assert stats.output.splitlines()[0].startswith("5 documents, 8 versions,")


def test_stats_json(runner: CliRunner, corpus_index: Path) -> None:
    stats = run_cli(runner, "stats", "--index-dir", str(corpus_index))
    assert {k: stats[k] for k in ("documents", "versions", "files", "by_type", "by_language", "pending")} == {
        "documents": 5,
        "versions": 8,
        "files": 7,
        "by_type": {"html": 1, "markdown": 1, "mediawiki": 1, "plain": 1, "wikitext": 1},
        "by_language": {"en": 4, "fr": 1},
        "pending": 0,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "nope"], "palimpsest: error: no such document nope"),
        (["versions", "nope"], "palimpsest: error: no such document nope"),
        (["show", "DOC", "--version", "nope"], "palimpsest: error: no such version nope of document ?"),
    ],
)
def test_expected_errors_are_one_line(runner: CliRunner, corpus_index: Path, args: list[str], message: str) -> None:
    doc = doc_by_title(runner, corpus_index, "Notes from")
    args = [doc["doc_id"] if a == "DOC" else a for a in args]
    result = runner.invoke(cli, [*args, "--index-dir", str(corpus_index)])
    assert (result.exit_code, result.output.strip()) == (1, message)


@pytest.mark.parametrize(
    ("args", "message"),
    [  # issue 17, finding 1: year 0000 was a traceback
        (["--date-from", "0000"], "date-from '0000' is not a date like 2022, 2022-09 or 2022-09-12"),
        (["--date-to", "0000-01-01"], "date-to '0000-01-01' is not a date like 2022, 2022-09 or 2022-09-12"),
        (["--date-to", "2023-02-29"], "date-to '2023-02-29' is not a date like 2022, 2022-09 or 2022-09-12"),
        (["--date-from", "12022"], "date-from '12022' is not a date like 2022, 2022-09 or 2022-09-12"),
        (["--year", "0000"], "year '0000' is not a year like 2022"),
        (["--month", "0000-12"], "month '0000-12' is not a month like 2022-09"),
        (["date:0000"], "'0000' is not a date (use 2022, 2022-09 or 2022-09-12)\n  movie date:0000\n             ^"),
    ],
)
def test_dates_out_of_range_are_one_line_errors(
    runner: CliRunner, corpus_index: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(cli, ["search", "movie", *args, "--index-dir", str(corpus_index)])
    assert (result.exit_code, result.output.strip()) == (1, f"palimpsest: error: {message}")
    as_json = runner.invoke(cli, ["search", "movie", *args, "--json", "--index-dir", str(corpus_index)])
    error = json.loads(as_json.stdout)["error"]
    assert (as_json.exit_code, error["status"], error["detail"]) == (1, 400, message.split("\n")[0])


def test_missing_index_is_an_expected_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["list", "--index-dir", str(tmp_path / "none")])
    assert (result.exit_code, result.output.strip()) == (
        1,
        f"palimpsest: error: no index in {tmp_path / 'none'} (run `palimpsest index PATH` first)",
    )


def test_usage_errors_exit_2(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["index"]).exit_code == 2
    assert runner.invoke(cli, ["frobnicate"]).exit_code == 2


def test_verify_reports_disagreement(runner: CliRunner, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    run_cli(runner, "index", str(CORPUS / "notes"), "--index-dir", str(ix))
    from indexer.engines import open_engine

    engine = open_engine(str(ix))
    batch = engine.begin()
    from indexer.models import SectionRecord, Zone

    stray = SectionRecord(
        record_id="stray:0", doc_id="stray", version_id="stray", ordinal=0, is_latest=True, language="en",
        title="", heading="", breadcrumb="", text="x", zones=(Zone("x", 1.0),), facets={},
    )  # fmt: skip
    batch.add(stray)
    batch.commit()
    engine.close()
    result = runner.invoke(cli, ["verify", "--index-dir", str(ix), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["extra_in_index"] == ["stray:0"]
