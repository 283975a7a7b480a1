"""Which files a run reads: default skips, ignore files, --include/--exclude, special paths."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer import pipeline
from indexer.cli import cli
from indexer.errors import PathNotFoundError
from indexer.pipeline import index_paths
from indexer.scan import FileRules, scan
from tests.conftest import run_cli, settings_for

pytestmark = pytest.mark.usefixtures("engine")  # every test here runs on each engine

PAGE = "<html><head><title>{0}</title></head><body><main><h1>{0}</h1><p>{1}</p></main></body></html>"


def _sphinx_tree(root: Path) -> Path:
    """The shape of a Sphinx build: pages, their sources, scripts, styles, images, an inventory."""
    html = root / "html"
    for rel, text in {
        "index.html": PAGE.format("Welcome", "The documentation of the harbour tools starts here."),
        "library/tides.html": PAGE.format("tides", "The tides module predicts high water for a quay."),
        "_sources/index.rst.txt": "Welcome\n=======\n\nThe documentation of the harbour tools starts here.\n",
        "_sources/library/tides.rst.txt": "tides\n=====\n\nThe tides module predicts high water for a quay.\n",
        "library/tides.rst.txt": "tides\n=====\n\nThe tides module predicts high water.\n",
        "_static/doctools.js": "$(document).ready(function() {\n  highlight();\n});\n",
        "_static/pygments.css": ".highlight { background: #eee; }\n",
        "_static/opensearch.xml": '<?xml version="1.0"?>\n<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/">'
        "<ShortName>Docs</ShortName></OpenSearchDescription>\n",
        ".buildinfo": "config: 1234\n",
    }.items():
        path = html / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (html / "_images").mkdir()
    (html / "_images/diagram.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (html / "objects.inv").write_bytes(b"# Sphinx inventory version 2\n" + bytes(range(256)))
    return html


def _names(entries: list[dict[str, str]], root: Path) -> dict[str, str]:
    return {os.path.relpath(e["path"], root): e["reason"] for e in entries}


def test_a_rendered_documentation_tree_is_read_as_its_pages(tmp_path: Path) -> None:
    html = _sphinx_tree(tmp_path)
    report = index_paths([html], settings_for(tmp_path / "ix"))
    assert (report["added"], report["documents"], report["failed"]) == (2, 2, [])
    assert _names(report["skipped"], html) == {
        ".buildinfo": "hidden file",
        "_images/diagram.png": "image (skipped by default; --include '*.png' reads it)",
        "_sources": "source copy of a rendered page (skipped by default; --include '_sources/' reads it)",
        "_static/doctools.js": "script (skipped by default; --include '*.js' reads it)",
        "_static/opensearch.xml": "XML of another kind (root element <OpenSearchDescription>), "
        "not a format Palimpsest reads",
        "_static/pygments.css": "stylesheet (skipped by default; --include '*.css' reads it)",
        "library/tides.rst.txt": "source copy of a rendered page (skipped by default; --include '*.rst.txt' reads it)",
        "objects.inv": "binary file (contains NUL bytes)",
    }


def test_include_exclude_and_ignore_files(tmp_path: Path) -> None:
    html = _sphinx_tree(tmp_path)
    only_sources = scan([html], FileRules(include=("_sources/**",)))
    assert [os.path.relpath(f, html) for f in only_sources.files] == [
        "_sources/index.rst.txt",
        "_sources/library/tides.rst.txt",
    ]
    assert _names(only_sources.skipped, html)["index.html"] == "not matched by --include"
    no_library = scan([html], FileRules(exclude=("library/",)))
    # (scan decides by name; the loader then skips the inventory and the XML by their content)
    assert [os.path.relpath(f, html) for f in no_library.files] == [
        "_static/opensearch.xml",
        "index.html",
        "objects.inv",
    ]
    assert _names(no_library.skipped, html)["library"] == "excluded by --exclude 'library/'"
    # An ignore file adds rules, and `!pattern` takes a default skip back.
    (html / ".palimpsestignore").write_text("# ours\nindex.html\n!*.css\n")
    (html / "library" / ".palimpsestignore").write_text("tides.html\n")
    ruled = scan([html])
    assert [os.path.relpath(f, html) for f in ruled.files] == [
        "_static/opensearch.xml",
        "_static/pygments.css",
        "objects.inv",
    ]
    assert _names(ruled.skipped, html)["index.html"] == f"ignored by {html / '.palimpsestignore'} ('index.html')"
    assert _names(ruled.skipped, html)["library/tides.html"] == (
        f"ignored by {html / 'library' / '.palimpsestignore'} ('tides.html')"
    )
    # A file named on the command line is read whatever the defaults say.
    assert scan([html / "_static/doctools.js"]).files == [str(html / "_static/doctools.js")]


def test_special_paths_are_reported_wherever_they_are(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    (docs / "locked").mkdir(parents=True)
    (docs / "locked" / "inside.txt").write_text("A note nobody can read.")
    (docs / "ok.txt").write_text("A plain note about the harbour.")
    os.mkfifo(docs / "pipe")
    os.symlink("/dev/null", docs / "null-link")
    os.mkfifo(tmp_path / "fifo-arg")
    os.symlink("/dev/zero", tmp_path / "zero-arg")
    real_scandir = os.scandir

    def scandir(path: object = ".") -> object:
        if str(path) == str(docs / "locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)  # root reads anything: simulate chmod 000
    result = scan([docs, tmp_path / "fifo-arg", tmp_path / "zero-arg"])
    assert result.files == [str(docs / "ok.txt")]
    assert _names(result.skipped, tmp_path) == {
        "docs/null-link": "not a regular file (character device)",
        "docs/pipe": "not a regular file (named pipe)",
        "fifo-arg": "not a regular file (named pipe)",
        "zero-arg": "not a regular file (character device)",
    }
    assert _names(result.failed, tmp_path) == {"docs/locked": "folder not read: permission denied"}


def test_every_path_given_or_found_is_accounted_for(tmp_path: Path, runner: CliRunner) -> None:
    """Issue 17, finding 3: names that are not UTF-8 (once a traceback that stopped the run), the
    index folder inside a folder indexed, a path given twice, a file inside a folder that cannot
    be entered (root reads everything: simulated)."""
    docs = tmp_path / "docs"
    (docs / "ok").mkdir(parents=True)
    (docs / "ok" / "a.txt").write_text("A plain note about the harbour.")
    latin = os.fsencode(docs) + b"/caf\xe9.txt"
    with open(latin, "wb") as fh:
        fh.write(b"A note about the harbour caf\xe9.")
    os.makedirs(os.fsencode(docs) + b"/d\xe9j\xe0")
    with open(os.fsencode(docs) + b"/d\xe9j\xe0/inside.txt", "wb") as fh:
        fh.write(b"A note in a folder with a Latin-1 name.")
    report = run_cli(
        runner, "index", str(docs), os.fsdecode(latin), str(docs / "ok" / "a.txt"), "--index-dir", str(docs / "ix")
    )
    assert (report["added"], report["skipped"], report["failed"]) == (
        1,
        [{"path": str(docs / "ix"), "reason": "the index folder itself"}],
        [
            {"path": f"{docs}/caf\\xe9.txt", "reason": "file name is not UTF-8 (rename it to index it)"},
            {"path": f"{docs}/d\\xe9j\\xe0", "reason": "folder name is not UTF-8 (rename it to index it)"},
        ],
    )
    text = runner.invoke(cli, ["index", str(docs), "--index-dir", str(docs / "ix")])
    assert text.exit_code == 0 and f"  failed {docs}/caf\\xe9.txt: file name is not UTF-8" in text.output


def test_a_path_inside_a_folder_that_cannot_be_entered_is_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shut").mkdir()
    (tmp_path / "shut" / "note.txt").write_text("A note behind a door.")
    real_lstat, real_stat = os.lstat, os.stat

    def refuse(real: object) -> object:
        def stat(path: object, *args: object, **kwargs: object) -> object:
            if str(path).startswith(str(tmp_path / "shut") + "/"):
                raise PermissionError(13, "Permission denied", str(path))
            return real(path, *args, **kwargs)  # type: ignore[operator]

        return stat

    monkeypatch.setattr(os, "lstat", refuse(real_lstat))  # root reads anything: simulate chmod 600
    monkeypatch.setattr(os, "stat", refuse(real_stat))
    result = scan([tmp_path / "shut" / "note.txt"])
    assert (result.files, result.skipped, result.failed) == (
        [],
        [],
        [{"path": str(tmp_path / "shut" / "note.txt"), "reason": "permission denied"}],
    )


def test_a_path_that_does_not_exist_is_an_error(tmp_path: Path, runner: CliRunner) -> None:
    with pytest.raises(PathNotFoundError):
        index_paths([tmp_path / "nope"], settings_for(tmp_path / "ix"))
    result = runner.invoke(cli, ["index", str(tmp_path / "nope"), "--index-dir", str(tmp_path / "ix")])
    assert (result.exit_code, result.output) == (
        1,
        f"palimpsest: error: no such file or directory: {tmp_path / 'nope'}\n",
    )
    assert not (tmp_path / "ix").exists()


def test_library_warnings_become_report_notes(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("A plain note about the harbour.")
    real = pipeline.load_bytes

    def noisy(*args: object, **kwargs: object) -> object:
        warnings.warn("It looks like you're parsing XML with an HTML parser.\nMore text.", UserWarning, stacklevel=1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "load_bytes", noisy)
    report = run_cli(runner, "index", str(tmp_path / "docs"), "--index-dir", str(tmp_path / "ix"))
    assert report["warnings"] == [
        {
            "path": str(tmp_path / "docs" / "a.txt"),
            "message": "UserWarning: It looks like you're parsing XML with an HTML parser.",
        }
    ]
    result = runner.invoke(cli, ["index", str(tmp_path / "docs"), "--index-dir", str(tmp_path / "ix2")])
    assert "note " in result.output and "Warning:" in result.output
    out, err = capfd.readouterr()
    assert "warnings.warn" not in out + err
