"""`palimpsest`: index | list | show | versions | search | similar | reuse | stats | remove | verify.

The library raises; this module translates: expected errors print one line and exit 1,
usage errors exit 2 (click), and nothing expected ever prints a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from .documents import document_json, reuse_json, reuse_pairs, versions_json
from .engines import DEFAULT_ENGINE, engine_names, index_engine, open_engine
from .errors import PalimpsestError, QueryError, error_object
from .facets import FACETS
from .sectioning import LEAD
from .settings import Settings, resolve_index_dir
from .store import Store
from .wording import plural, span_of

INDEX_DIR_HELP = "Index location (default: $PALIMPSEST_INDEX, else ./index)."


def _fail(message: str) -> None:
    click.echo(f"palimpsest: error: {message}", err=True)
    sys.exit(1)


def _caret(exc: QueryError) -> str:
    """The query on a line of its own with ^ under the position of the problem."""
    if exc.position is None or not exc.query or "\n" in exc.query:
        return ""
    return f"\n  {exc.query}\n  {' ' * exc.position}^"


def handled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into one line on stderr and exit status 1."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except QueryError as exc:
            _fail(str(exc) + _caret(exc))
        except PalimpsestError as exc:
            _fail(str(exc))
        except FileNotFoundError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted; the index keeps its previous state")

    return wrapper


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False))


def _open_store(index_dir: str | None) -> Store:
    path = resolve_index_dir(index_dir)
    if not (path / "store.sqlite3").exists():
        raise FileNotFoundError(f"no index in {path} (run `palimpsest index PATH` first)")
    return Store(path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="palimpsest")
def cli() -> None:
    """Palimpsest: index document collections, search them, see how they changed."""


@cli.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--index-dir", help=INDEX_DIR_HELP)
@click.option("--dry-run", is_flag=True, help="Say what would happen; write nothing.")
@click.option("--force", is_flag=True, help="Re-read every file, even unchanged ones.")
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
@click.option("--workers", type=click.IntRange(0, 64), default=0, help="Worker processes (0 = one per core).")
@click.option("--wait", type=click.FloatRange(0, 3600), default=0.0, help="Seconds to wait for a busy index.")
@click.option(
    "--engine",
    type=click.Choice(engine_names()),
    envvar="PALIMPSEST_ENGINE",
    help=f"Search engine of a new index (default: $PALIMPSEST_ENGINE, else {DEFAULT_ENGINE}); an existing "
    "index keeps the one it was created with.",
)
@click.option(
    "--include",
    multiple=True,
    metavar="GLOB",
    help="Read only files matching this gitignore-style pattern (repeatable); overrides the default skips.",
)
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip files matching this pattern (repeatable).")
@click.option(
    "--cluster",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A new xapian index on these shard servers (a cluster file or a Xapian stub file; see "
    "`palimpsest cluster up`).",
)
@handled
def index_cmd(
    paths: tuple[Path, ...], index_dir: str | None, dry_run: bool, force: bool, as_json: bool, workers: int,
    wait: float, engine: str | None, include: tuple[str, ...], exclude: tuple[str, ...], cluster: Path | None,
) -> None:  # fmt: skip
    """Index files and folders incrementally (unchanged files are skipped).

    Scripts, stylesheets, images, fonts, media, archives, hidden files and source copies of
    rendered pages (Sphinx `_sources/`, `*.rst.txt`) are skipped and reported; a
    `.palimpsestignore` file (gitignore syntax) in any folder adds rules of its own."""
    from .scan import FileRules

    if cluster is not None:
        engine = _attach_cluster(resolve_index_dir(index_dir), cluster, engine, new=not dry_run)
    settings = Settings(index_dir=resolve_index_dir(index_dir), workers=workers, lock_wait_seconds=wait, engine=engine)
    rules = FileRules(include=include, exclude=exclude)
    show_bar = not as_json and sys.stderr.isatty()
    state: dict[str, Any] = {}
    progress = None
    on_total = None
    if show_bar:
        from tqdm import tqdm

        def on_total(n: int) -> None:
            state["bar"] = tqdm(total=n, unit="file", desc="indexing", file=sys.stderr, leave=False)

        def progress(label: str, n: int) -> None:
            b = state.get("bar")
            if b is not None:
                b.set_description(label)
                b.update(n)

    from . import pipeline  # the loaders and their libraries: only commands that index need them

    report = pipeline.index_paths(
        paths, settings, force=force, dry_run=dry_run, progress=progress, on_total=on_total, rules=rules
    )
    if state.get("bar") is not None:
        state["bar"].close()
    if as_json:
        _emit(report)
        return
    prefix = "would index" if dry_run else "indexed"
    click.echo(
        f"{prefix}: {report['added']} new and {report['changed']} changed files, "
        f"{report['unchanged']} unchanged; {plural(report['new_versions'], 'new version')}, "
        f"{plural(report['duplicates'], 'exact duplicate')}"
    )
    for f in report["failed"]:
        click.echo(f"  failed {f['path']}: {f['reason']}")
    for w in report["warnings"]:
        click.echo(f"  note {w['path']}: {w['message']}")
    if report["skipped"]:
        kinds: dict[str, int] = {}
        for f in report["skipped"]:
            kinds[f["reason"].split(" (")[0]] = kinds.get(f["reason"].split(" (")[0], 0) + 1
        listed = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
        click.echo(f"  skipped {plural(len(report['skipped']), 'path')}: {listed} (--json lists them)")
    click.echo(
        f"index: {plural(report['documents'], 'document')}, {plural(report['versions'], 'version')}, "
        f"{plural(report['sections'], 'section')} ({report['seconds']:.1f}s)"
    )


def _attach_cluster(index_dir: Path, cluster: Path, engine: str | None, new: bool) -> str:
    """Check that a cluster goes with a xapian index and make it the index's next slot's."""
    from .engines.xapian.cluster import attach_cluster

    found = index_engine(index_dir)
    if found is not None and found != "xapian":
        raise click.UsageError(f"--cluster needs the xapian engine (this index uses {found})")
    if found is None and engine not in (None, "xapian"):
        raise click.UsageError(f"--cluster needs the xapian engine, not {engine}")
    if new and found is not None and (index_dir / "store.sqlite3").exists():
        raise click.UsageError(
            "--cluster names the shards of a new index; move an existing one with `palimpsest rebuild --cluster`"
        )
    try:
        attach_cluster(index_dir, cluster)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    return "xapian"


@cli.command("rebuild")
@click.option("--index-dir", help=INDEX_DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the rebuild report as JSON.")
@click.option("--workers", type=click.IntRange(0, 64), default=0, help="Writer processes (0 = one per core).")
@click.option("--wait", type=click.FloatRange(0, 3600), default=0.0, help="Seconds to wait for a busy index.")
@click.option(
    "--cluster",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="xapian: rebuild onto these shard servers (a shard added or moved; the store is the source).",
)
@handled
def rebuild_cmd(index_dir: str | None, as_json: bool, workers: int, wait: float, cluster: Path | None) -> None:
    """Build the search index again from the document store, beside the live one, and swap it in
    atomically: searches (a running server too) use the old index until the swap, the new one
    after; a rebuild that is stopped leaves the old index in use. Files are not read again
    (`index --force` re-reads them, and swaps a new index in the same way). A xapian index over a
    cluster is rebuilt onto its cluster file (`--cluster` gives a new one: after adding a shard)."""
    from . import pipeline

    if cluster is not None:
        path = resolve_index_dir(index_dir)
        if not (path / "store.sqlite3").exists():
            raise FileNotFoundError(f"no index in {path} (run `palimpsest index PATH` first)")
        _attach_cluster(path, cluster, None, new=False)
    settings = Settings(index_dir=resolve_index_dir(index_dir), workers=workers, lock_wait_seconds=wait)
    report = pipeline.rebuild(settings)
    if as_json:
        _emit(report)
        return
    click.echo(
        f"rebuilt: {report['documents']} documents, {report['versions']} versions, {report['records']} records "
        f"in {report['slot']} (was {report['replaced']}; {report['seconds']:.1f}s)"
    )


@cli.command("list")
@click.option("--index-dir", help=INDEX_DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@handled
def list_cmd(index_dir: str | None, as_json: bool) -> None:
    """One line per document: doc_id, doc_type, language, timeline entries (v), files (f), title.

    JSON keys: doc_id, title, doc_type, language, version_count, file_count (and, for one release,
    their older names type, versions, sources)."""
    store = _open_store(index_dir)
    docs = [
        {
            "doc_id": d["doc_id"],
            "title": d["title"],
            "doc_type": d["doc_type"],
            "language": d["language"],
            "version_count": d["version_count"],
            "file_count": d["file_count"],
            "type": d["doc_type"],
            "versions": d["version_count"],
            "sources": d["file_count"],
        }
        for d in store.documents()
    ]
    if as_json:
        _emit(docs)
        return
    for d in docs:
        click.echo(
            f"{d['doc_id']}  {d['doc_type']:9s} {d['language']:3s} v{d['version_count']:<3d} f{d['file_count']:<3d} "
            f"{d['title']}"
        )


@cli.command("show")
@click.argument("doc_id")
@click.option("--version", "version_id", help="A version_id of this document (default: the latest).")
@click.option("--index-dir", help=INDEX_DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handled
def show_cmd(doc_id: str, version_id: str | None, index_dir: str | None, as_json: bool) -> None:
    """Show a document as stored: metadata, infobox and sections."""
    data = document_json(_open_store(index_dir), doc_id, version_id)
    if as_json:
        _emit(data)
        return
    click.echo(click.style(data["title"] or "(untitled)", bold=True))
    click.echo(f"doc_id {data['doc_id']}  version_id {data['version_id']}  language {data['language']}")
    for path in data["files"]:
        click.echo(f"file {path}")
    if data["authors"]:
        click.echo("authors " + ", ".join(data["authors"]))
    for d in data["dates"]:
        click.echo(f"date {d['kind']}: {d['value']} ({d['text']})")
    for key, val in data["infobox"].items():
        shown = "; ".join(val["value"]) if val["type"] == "list" else val["value"]
        click.echo(f"  {key}: {shown}  [{val['type']}]")
    for s in data["sections"]:
        click.echo("")
        label = s["breadcrumb"] or LEAD
        click.echo(click.style(f"§ {label}", bold=True) + (" (auxiliary)" if s["auxiliary"] else ""))
        click.echo(s["text"])


@cli.command("versions")
@click.argument("doc_id")
@click.option("--index-dir", help=INDEX_DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handled
def versions_cmd(doc_id: str, index_dir: str | None, as_json: bool) -> None:
    """A document's timeline, oldest first: every revision and saved copy, with its date (or the
    run that first saw it), version, title and sources; a revert says which entry it returns to."""
    out = versions_json(_open_store(index_dir), doc_id)
    if as_json:
        _emit(out)
        return
    for v in out:
        mark = "*" if v["latest"] else " "
        when = v["date"] or f"first seen in run {v['first_run']}"
        same = f"  (same text as #{v['same_as']})" if v["same_as"] else ""
        rev = f"  revision {v['revision']}" if v["revision"] else ""
        click.echo(f"{mark}{v['number']:>3}  {v['version_id']}  {when:25s} {v['title']}{rev}{same}")
        for s in v["sources"]:
            click.echo(f"        {s}")


def _open_searcher(index_dir: str | None) -> Any:
    from .search import Searcher

    path = resolve_index_dir(index_dir)
    if not (path / "store.sqlite3").exists():
        raise FileNotFoundError(f"no index in {path} (run `palimpsest index PATH` first)")
    return Searcher(path)


def _emphasis(snippet_html: str) -> str:
    """A snippet for the terminal: <mark> as bold, entities decoded."""
    import html as html_mod
    import re

    parts = re.split(r"<mark>(.*?)</mark>", snippet_html)
    out = []
    for i, part in enumerate(parts):
        text = html_mod.unescape(part)
        out.append(click.style(text, bold=True, underline=True) if i % 2 else text)
    return "".join(out)


class FacetCommand(click.Command):
    """A command with one repeatable option per declared facet (indexer/facets.py), read when the
    command runs, so a facet declared after import is offered too; the values arrive in
    `facet_<name>` keyword arguments."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        known = {opt for p in params for opt in p.opts}
        facets = [
            click.Option([*spec.options, f"facet_{spec.name}"], multiple=True, help=spec.help)
            for spec in FACETS
            if not known.intersection(spec.options)
        ]
        return [params[0], *facets, *params[1:]] if params else facets


@cli.command("search", cls=FacetCommand)
@click.argument("query", nargs=-1)
@click.option("--date-from", help="Sections mentioning a date on or after this (2022, 2022-09, 2022-09-12).")
@click.option("--date-to", help="Sections mentioning a date on or before this.")
@click.option(
    "--sort",
    type=click.Choice(["relevance", "date", "oldest"]),
    default="relevance",
    show_default=True,
    help="relevance, date (newest date mentioned first) or oldest.",
)
@click.option("--latest-only", is_flag=True, help="Search the latest version of each document only.")
@click.option(
    "--all-versions", is_flag=True, hidden=True, help="Every version is searched (the default); kept for old scripts."
)
@click.option("--page", type=click.IntRange(1, 500), default=1, show_default=True)
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the result object (the same as /api/search).")
@click.option("--index-dir", help=INDEX_DIR_HELP)
@handled
def search_cmd(
    query: tuple[str, ...], index_dir: str | None, date_from: str | None, date_to: str | None, sort: str,
    latest_only: bool, all_versions: bool, page: int, limit: int, as_json: bool, **facets: tuple[str, ...],
) -> None:  # fmt: skip
    """Search the index: QUERY uses the query language (see README).

    A query that cannot be run exits with status 1 and says where the problem is
    (with --json: the JSON API's error object on stdout)."""
    from .search import SearchRequest

    filters = {name.removeprefix("facet_"): list(values) for name, values in facets.items() if values}
    req = SearchRequest(
        q=" ".join(query), filters=filters, date_from=date_from, date_to=date_to,
        sort=sort, latest_only=latest_only and not all_versions, page=page, limit=limit,
    )  # fmt: skip
    with _open_searcher(index_dir) as searcher:
        try:
            result = searcher.search(req)
        except QueryError as exc:
            if not as_json:
                raise
            _emit(error_object(400, "Bad query", str(exc), exc.position))  # as the API, on stdout
            sys.exit(1)
    if as_json:
        _emit(result.to_json())
        return
    first = (result.page - 1) * result.limit + 1
    click.echo(f"{span_of(first, len(result.hits), result.total, 'document')} ({result.took_ms:.0f} ms)")
    if result.suggestion:
        click.echo(f"Did you mean: {result.suggestion}")
    for i, hit in enumerate(result.hits, first):
        click.echo()
        click.echo(click.style(f"{i}. {hit.title}", bold=True) + f"  [{hit.doc_id}]")
        where = hit.breadcrumb or LEAD
        versions = f", {plural(hit.versions, 'version')}" if hit.versions > 1 else ""
        click.echo(f"   {where}  · {hit.language}{versions}  · score {hit.score:.2f}")
        if hit.where:
            click.echo("   " + click.style(hit.where, fg="yellow"))
        elif len(hit.matching_versions) < hit.versions:
            click.echo("   in versions " + ", ".join(f"#{v['number']}" for v in hit.matching_versions))
        if hit.snippet:
            click.echo("   " + _emphasis(hit.snippet))
        for more in hit.more_sections:
            click.echo(f"   · {more.breadcrumb or LEAD}")
    if result.pages > result.page:
        click.echo(f"\n(page {result.page} of {result.pages}: --page {result.page + 1} for more)")


@cli.command("similar")
@click.argument("doc_id")
@click.option("--index-dir", help=INDEX_DIR_HELP)
@click.option("--limit", type=click.IntRange(1, 50), default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handled
def similar_cmd(doc_id: str, index_dir: str | None, limit: int, as_json: bool) -> None:
    """The documents most related to DOC_ID, with the terms that link them."""
    with _open_searcher(index_dir) as searcher:
        related = searcher.similar(doc_id, limit)
    if as_json:
        _emit({"doc_id": doc_id, "similar": related})
        return
    if not related:
        click.echo("no related documents")
    for r in related:
        click.echo(f"{r['doc_id']}  {r['title']}  (score {r['score']:.2f})")
        click.echo("    shared terms: " + ", ".join(r["terms"]))


@cli.command("reuse")
@click.argument("doc_id", required=False)
@click.option("--index-dir", help=INDEX_DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the same as /api/documents/DOC_ID/reuse).")
@handled
def reuse_cmd(doc_id: str | None, index_dir: str | None, as_json: bool) -> None:
    """Passages shared with other documents (text reuse).

    With DOC_ID: every passage of the document's latest version that also appears in another
    document, where (title, section, character span) and which source is dated earlier.
    Without: every pair of documents that share passages, most shared words first.

    JSON keys with DOC_ID: doc_id, version_id, title, date, passages (ordinal, breadcrumb,
    anchor, start, end, text, words, similarity, also_appears_in, earlier); without: a list of
    documents (two), passages, words, earlier."""
    store = _open_store(index_dir)
    if doc_id is None:
        pairs = reuse_pairs(store)
        if as_json:
            _emit(pairs)
            return
        if not pairs:
            click.echo("no passages shared between documents")
        for p in pairs:
            a, b = p["documents"]
            first = f"  earlier: {p['earlier']}" if p["earlier"] else ""
            n = p["passages"]
            click.echo(f"{a['doc_id']} {b['doc_id']}  {n} passage{'s' if n != 1 else ''}, {p['words']} words{first}")
            click.echo(f"    {a['title']}\n    {b['title']}")
        return
    data = reuse_json(store, doc_id)
    if as_json:
        _emit(data)
        return
    click.echo(click.style(data["title"], bold=True) + f"  ({data['doc_id']}, version {data['version_id']})")
    if not data["passages"]:
        click.echo("no passages shared with other documents")
    for p in data["passages"]:
        other = p["also_appears_in"]
        click.echo("")
        click.echo(click.style(f"§ {p['breadcrumb'] or LEAD}", bold=True) + f"  [{p['start']}:{p['end']}]  "
                   f"{p['words']} words, similarity {p['similarity']:.2f}")  # fmt: skip
        click.echo(f"  {p['text']}")
        when = f" ({other['date']})" if other["date"] else ""
        click.echo(f"  also appears in: {other['title']} › {other['breadcrumb'] or LEAD}{when}  "
                   f"{other['doc_id']} [{other['start']}:{other['end']}]")  # fmt: skip
        if p["earlier"]:
            click.echo(f"  earlier: {'this document' if p['earlier'] == data['doc_id'] else other['title']}")


@cli.group("cluster")
def cluster_group() -> None:
    """Xapian shard servers on this machine (127.0.0.1), for trying a cluster: `up` starts them
    and writes a cluster file for `palimpsest index --engine xapian --cluster`; see the README
    for shard servers on several hosts."""


CLUSTER_DIR_HELP = "Folder of the servers' databases, logs, pids and cluster.toml."


@cluster_group.command("up")
@click.option(
    "--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path), help=CLUSTER_DIR_HELP
)
@click.option("--shards", type=click.IntRange(1, 64), default=2, show_default=True, help="Shard servers.")
@click.option(
    "--replicas", type=click.IntRange(0, 4), default=0, show_default=True, help="Read-only servers per shard."
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 600),
    default=10.0,
    show_default=True,
    help="Seconds a server may take to answer.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handled
def cluster_up(directory: Path, shards: int, replicas: int, timeout: float, as_json: bool) -> None:
    """Start shard servers (xapian-tcpsrv) on free ports of 127.0.0.1; servers of an earlier `up` in
    the folder are stopped first (their databases are kept)."""
    from .engines.xapian.cluster import status, up

    path = up(directory, shards, replicas, timeout)
    if as_json:
        _emit({"cluster_file": str(path), "servers": status(directory)})
        return
    click.echo(f"started {plural(shards, 'shard')} ({replicas} replicas each); cluster file: {path}")
    click.echo(f"index with: palimpsest index PATH --engine xapian --cluster {path}")


@cluster_group.command("down")
@click.option(
    "--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path), help=CLUSTER_DIR_HELP
)
@handled
def cluster_down(directory: Path) -> None:
    """Stop the servers `cluster up` started in the folder (their databases are kept)."""
    from .engines.xapian.cluster import down

    click.echo(f"stopped {plural(down(directory), 'server')}")


@cluster_group.command("status")
@click.option(
    "--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path), help=CLUSTER_DIR_HELP
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handled
def cluster_status(directory: Path, as_json: bool) -> None:
    """Each server of the folder: shard, role, port, whether it runs and answers, its records."""
    from .engines.xapian.cluster import status

    found = status(directory)
    if as_json:
        _emit(found)
        return
    if not found:
        click.echo(f"no servers started in {directory}")
    for s in found:
        state = "answering" if s["answering"] else "running, not answering" if s["running"] else "stopped"
        records = f", {s['records']} records" if s["records"] is not None else ""
        click.echo(f"shard {s['shard']} {s['role']}: 127.0.0.1:{s['port']} pid {s['pid']}: {state}{records}")


@cli.command("stats")
@click.option("--index-dir", help=INDEX_DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handled
def stats_cmd(index_dir: str | None, as_json: bool) -> None:
    """Counts of documents, versions, sections and files; breakdowns; the last run."""
    store = _open_store(index_dir)
    counts = store.counts()
    by = {col: store.breakdown(col) for col in ("doc_type", "language")}
    runs = store.runs()
    last = runs[-1] if runs else None
    data = {
        **counts,
        "engine": index_engine(store.index_dir),
        "by_type": by["doc_type"],
        "by_language": by["language"],
        "runs": len(runs),
        "last_run": {"run_id": last["run_id"], "status": last["status"], "report": json.loads(last["report"] or "{}")}
        if last
        else None,
        "pending": len(store.pending()),
    }
    if as_json:
        _emit(data)
        return
    click.echo(
        f"{plural(data['documents'], 'document')}, {plural(data['versions'], 'version')}, "
        f"{plural(data['sections'], 'section')}, {plural(data['files'], 'file')}"
    )
    click.echo(f"engine: {data['engine']}")
    click.echo("by type: " + ", ".join(f"{k} {v}" for k, v in data["by_type"].items()))
    click.echo("by language: " + ", ".join(f"{k} {v}" for k, v in data["by_language"].items()))
    if last:
        click.echo(f"last run #{last['run_id']}: {last['status']}")


@cli.command("remove")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--index-dir", help=INDEX_DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handled
def remove_cmd(paths: tuple[Path, ...], index_dir: str | None, as_json: bool) -> None:
    """Forget files (or every file under a folder); versions with no source left are removed."""
    from . import pipeline

    _open_store(index_dir).close()
    report = pipeline.remove_paths(paths, Settings(index_dir=resolve_index_dir(index_dir)))
    if as_json:
        _emit(report)
        return
    click.echo(
        f"removed {plural(report['removed_files'], 'file')}, {plural(report['removed_versions'], 'version')}; "
        f"index: {plural(report['documents'], 'document')}, {plural(report['versions'], 'version')}"
    )


@cli.command("verify")
@click.option("--index-dir", help=INDEX_DIR_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handled
def verify_cmd(index_dir: str | None, as_json: bool) -> None:
    """Check that the store and the search index agree (exit 1 when they do not)."""
    store = _open_store(index_dir)
    try:
        engine = open_engine(str(store.index_dir))
        try:
            stored, indexed = store.record_ids(), engine.record_ids()
        finally:
            engine.close()
        pending = store.pending()
    finally:
        store.close()
    data = {
        "ok": stored == indexed and not pending,
        "records": len(indexed),
        "missing_from_index": sorted(stored - indexed)[:50],
        "extra_in_index": sorted(indexed - stored)[:50],
        "pending": pending,
    }
    if as_json:
        _emit(data)
    else:
        click.echo("store and index agree" if data["ok"] else f"store and index disagree: {data}")
    if not data["ok"]:
        sys.exit(1)


@cli.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--index-dir", help=INDEX_DIR_HELP)
@click.option(
    "--show-formatting", is_flag=True, help="Show differences of formatting only (quotes, dashes, list markers...)."
)
@click.option("--thousands", is_flag=True, help="Count 7,600 -> 7600 as formatting, not as a change.")
@click.option(
    "--context",
    default=1,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="Unchanged paragraphs shown around a change.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handled
def diff_cmd(
    a: str, b: str, index_dir: str | None, show_formatting: bool, thousands: bool, context: int, as_json: bool
) -> None:
    """What changed between two versions: A and B are version ids, DOC_ID@N (1 = oldest) or DOC_ID@latest."""
    from .diff import Options, diff_versions
    from .documents import resolve_version

    store = _open_store(index_dir)
    (doc_a, va), (doc_b, vb) = resolve_version(store, a), resolve_version(store, b)
    result = diff_versions(
        store.version(va), store.version(vb), Options(thousands=thousands, show_formatting=show_formatting)
    )
    if as_json:
        _emit({"doc_a": doc_a, "doc_b": doc_b, **result.to_json()})
        return
    for line in diff_lines(result, show_formatting, context):
        click.echo(line)


def diff_lines(result: Any, show_formatting: bool, context: int) -> list[str]:
    """The terminal view of a VersionDiff: sections with badges, words in red and green."""
    from .diff import with_context

    red = lambda t: click.style(f"[-{t.strip()}-]", fg="red")  # noqa: E731
    green = lambda t: click.style(f"{{+{t.strip()}+}}", fg="green")  # noqa: E731
    sm = result.summary
    out = [
        click.style(f"{result.a} -> {result.b}", bold=True),
        f"sections: {sm['sections_changed']} changed, {sm['sections_added']} added, {sm['sections_removed']} removed, "
        f"{sm['sections_moved']} moved, {sm['sections_renamed']} renamed, {sm['sections_unchanged']} unchanged; "
        f"words: +{sm['words_inserted']} -{sm['words_deleted']}; paragraphs moved: {sm['paragraphs_moved']}; "
        f"formatting differences: {sm['formatting_changes']}"
        + ("" if show_formatting else " (hidden; --show-formatting)"),
    ]
    if result.title:
        out.append(f"title: {red(result.title[0] or '')} {green(result.title[1] or '')}")
    for kind in ("added", "removed", "changed"):
        for f in result.infobox[kind]:
            shown = f"{f['a']} -> {f['b']}" if kind == "changed" else f["value"]
            out.append(f"infobox {kind}: {f['key']}: {shown}")
    for kind in ("added", "removed"):
        for d in result.dates[kind]:
            out.append(f"date {kind}: {d}")
    for s in result.sections:
        badges = [s.status] + (["renamed"] if s.renamed else []) + (["moved"] if s.moved else [])
        if s.status == "unchanged" and not s.renamed and not s.moved and not (show_formatting and s.formatting):
            continue
        name = s.label or LEAD
        if s.renamed:
            name = f"{s.heading_a or LEAD} -> {s.heading_b or LEAD}"
        out.append("")
        out.append(click.style(f"§ {name}  [{', '.join(badges)}]", bold=True))
        for kind, p in with_context(s.paragraphs, show_formatting, context):
            if kind == "skip":
                out.append(click.style(f"  … {p} unchanged paragraph{'s' if p > 1 else ''}", dim=True))
            elif p.status == "moved" and p.moved_from is None:
                out.append(click.style("  (moved below) ", fg="yellow") + p.a)
            else:
                prefix = (
                    click.style(f"  (moved here from paragraph {p.moved_from + 1}) ", fg="yellow")
                    if p.status == "moved"
                    else "  "
                )
                out.append(prefix + _word_line(p.ops, show_formatting, red, green))
    return out


def _word_line(ops: Any, show_formatting: bool, red: Any, green: Any) -> str:
    text = ""
    for o in ops:
        if o.op == "equal" or (o.op == "format" and not show_formatting):
            text += o.b or o.a
        elif o.op == "format":
            text += " " + click.style(f"~{o.a.strip()}~>{o.b.strip()}", fg="yellow")
        else:
            text += (" " + red(o.a) if o.a else "") + (" " + green(o.b) if o.b else "")
    return text.strip()


@cli.command("serve")
@click.option("--index-dir", help=INDEX_DIR_HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option(
    "--workers", default=0, type=click.IntRange(0, 64), help="Worker processes (0 = one per core).  [default: 0]"
)
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="Threads per worker.")
@handled
def serve_cmd(index_dir: str | None, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the web UI and JSON API with gunicorn (a production WSGI server)."""
    from search_web.server import serve

    store = _open_store(index_dir)  # fails clearly when there is no index
    store.close()
    click.echo(f"Palimpsest: serving {store.index_dir} on http://{host}:{port}/ (Ctrl-C stops); starting")
    serve(store.index_dir, host=host, port=port, workers=workers or (os.cpu_count() or 1), threads=threads)


def main() -> None:
    """Console entry point."""
    cli(prog_name="palimpsest")


if __name__ == "__main__":
    main()
