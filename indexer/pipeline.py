"""The only module that chains the stages:

    SourceFile -> load -> clean -> section -> enrich (metadata, language) -> dedup -> store -> index

Stages 1 (load) and 2 (clean, section, enrich) run in worker processes; dedup, the store
transaction and the index commit run in this process, in that order (see store.py for why a
run can be killed at any point).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import dedup, language, metadata
from .cleaning import clean, short_lines
from .engines import Engine, open_engine
from .errors import IndexLockedError, SourceError
from .models import RawVersion, Section, Version
from .sectioning import normalized_text, split_sections
from .settings import Settings
from .sources import content_hash, load_bytes, read_bytes
from .store import Store, signature_blob, signature_from_blob
from .writer import sync_documents

Progress = Callable[[str, int], None]


# -- stage functions (top level: they run in worker processes) ----------------------------
@dataclass
class Loaded:
    """Stage 1 result for one file."""

    path: str
    status: str  # "ok" | "unchanged" | "failed"
    content_hash: str = ""
    raws: list[RawVersion] = field(default_factory=list)
    reason: str = ""


def load_stage(path: str, known_hash: str | None, force: bool, settings: Settings) -> Loaded:
    """Read one file; skip it when its bytes are unchanged, else parse it."""
    try:
        data, st = read_bytes(Path(path), settings.max_file_bytes)
        digest = content_hash(data)
        if known_hash == digest and not force:
            return Loaded(path, "unchanged", digest)
        raws = load_bytes(path, data, st.st_mtime, settings.max_html_depth, digest)
        return Loaded(path, "ok", digest, raws)
    except SourceError as exc:
        return Loaded(path, "failed", reason=exc.reason)
    except (MemoryError, RecursionError, ValueError, OSError) as exc:
        return Loaded(path, "failed", reason=f"{type(exc).__name__}: {exc}")


def enrich_stage(raw: RawVersion, repeated: frozenset[str], settings: Settings) -> Version:
    """Clean, section and enrich one raw version into a Version (no document yet)."""
    cleaned = clean(raw, repeated, settings.chrome_max_words)
    blocks = cleaned.blocks
    title = cleaned.title
    if title is None:
        title, blocks = metadata.title_from_blocks(blocks)
    elif blocks and blocks[0].kind == "heading" and blocks[0].text.lower() == title.lower():
        blocks = blocks[1:]
    drafts = split_sections(blocks)
    norm = normalized_text(drafts)
    version_id = dedup.version_id_for(norm)
    version_lang, section_langs = language.detect_sections([d.text for d in drafts] or [title or ""])
    doc_dates = metadata.document_dates(blocks, raw.date_strings)
    fallback_year = _fallback_year(title, doc_dates)
    sections = tuple(
        Section(
            version_id=version_id,
            ordinal=d.ordinal,
            level=d.level,
            heading=d.heading,
            breadcrumb=d.breadcrumb,
            anchor=d.anchor,
            text=d.text,
            language=section_langs[i] if i < len(section_langs) else version_lang,
            auxiliary=d.auxiliary,
            dates=tuple(metadata.extract_dates(d.text, context=d.breadcrumb, fallback_year=fallback_year)),
        )
        for i, d in enumerate(drafts)
    )
    authors = raw.authors or tuple(metadata.authors_in(blocks))
    return Version(
        version_id=version_id,
        title=title,
        doc_type=raw.doc_type,
        language=version_lang,
        sections=sections,
        sources=(raw.source,),
        infobox=metadata.typed_infobox(raw.infobox),
        authors=tuple(authors),
        dates=tuple(doc_dates),
        timestamp=raw.timestamp,
        lineage_key=raw.lineage_key,
        site=raw.site,
        normalized_text=norm,
    )


def _fallback_year(title: str | None, doc_dates: list[dict[str, str]]) -> int | None:
    from .metadata import _year_in

    year = _year_in(title or "")
    if year is None and doc_dates:
        year = int(doc_dates[0]["value"][:4])
    return year


def _enrich_job(args: tuple[RawVersion, frozenset[str], Settings]) -> Version | tuple[str, str]:
    raw, repeated, settings = args
    try:
        return enrich_stage(raw, repeated, settings)
    except (ValueError, RecursionError, MemoryError) as exc:
        return (raw.source.path, f"{type(exc).__name__}: {exc}")


def _load_job(args: tuple[str, str | None, bool, Settings]) -> Loaded:
    return load_stage(*args)


# -- scanning ------------------------------------------------------------------------------
def scan(paths: Iterable[str | Path], skip: Path | None = None) -> tuple[list[str], list[dict[str, str]]]:
    """Files under the given paths (sorted, hidden files skipped) and the paths that failed."""
    files: list[str] = []
    failed: list[dict[str, str]] = []
    skip_real = os.path.realpath(skip) if skip else None
    for p in paths:
        path = Path(os.path.abspath(p))
        if path.is_symlink() and not path.exists():
            failed.append({"path": str(path), "reason": _broken_link_reason(path)})
            continue
        if path.is_file():
            files.append(str(path))
            continue
        if not path.exists():
            failed.append({"path": str(path), "reason": "no such file or directory"})
            continue
        seen: set[str] = set()
        for root, dirs, names in os.walk(path, followlinks=True, onerror=None):
            real = os.path.realpath(root)
            if real in seen or (skip_real and real == skip_real):
                if real in seen:
                    failed.append({"path": root, "reason": "symlink loop (directory already visited)"})
                dirs[:] = []
                continue
            seen.add(real)
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                if name.startswith("."):
                    continue
                full = Path(root) / name
                if full.is_symlink() and not full.exists():
                    failed.append({"path": str(full), "reason": _broken_link_reason(full)})
                    continue
                files.append(str(full))
    return sorted(dict.fromkeys(files)), failed


def _broken_link_reason(path: Path) -> str:
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == 40:
            return "symlink loop"
    return "broken symlink"


# -- locking -------------------------------------------------------------------------------
@contextmanager
def index_lock(index_dir: Path, wait_seconds: float = 0.0) -> Iterator[None]:
    """One writer at a time: a second `palimpsest index` waits up to `wait_seconds`, then fails."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fh = (index_dir / "lock").open("a+")
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                fh.close()
                raise IndexLockedError(str(index_dir)) from None
            time.sleep(0.1)
    try:
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


# -- the run -------------------------------------------------------------------------------
def _map(fn: Callable[[Any], Any], jobs: list[Any], workers: int, progress: Progress | None, label: str) -> list[Any]:
    """Run jobs in order, in worker processes when there are enough of them."""
    out: list[Any] = []
    if workers > 1 and len(jobs) >= 8:
        language.preload()
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for result in pool.map(fn, jobs, chunksize=max(1, min(16, len(jobs) // (workers * 8)))):
                out.append(result)
                if progress:
                    progress(label, 1)
    else:
        for job in jobs:
            out.append(fn(job))
            if progress:
                progress(label, 1)
    return out


def source_label(path: str, site: str | None) -> str:
    """The `source` facet value of a file: the site it names, else its folder."""
    return site or Path(path).parent.name or "/"


def index_paths(
    paths: Iterable[str | Path],
    settings: Settings,
    force: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Index files and folders incrementally; returns the run report."""
    index_dir = Path(settings.index_dir)
    if dry_run:
        store = Store(index_dir) if (index_dir / "store.sqlite3").exists() else None
        try:
            return _run(paths, settings, store, None, force, True, progress, on_total)
        finally:
            if store:
                store.close()
    with index_lock(index_dir, settings.lock_wait_seconds):
        store = Store(index_dir, create=True)
        engine = open_engine(str(index_dir), create=True)
        try:
            recover(store, engine)
            return _run(paths, settings, store, engine, force, False, progress, on_total)
        finally:
            engine.close()
            store.close()


def recover(store: Store, engine: Engine) -> int:
    """Finish a run that was killed after its store transaction: re-sync pending documents."""
    pending = store.pending()
    if pending:
        sync_documents(store, engine, pending)
        with store.transaction() as db:
            db.executemany("DELETE FROM pending WHERE doc_id=?", [(d,) for d in pending])
            db.execute("UPDATE runs SET status='recovered' WHERE status='running'")
    return len(pending)


def _run(
    paths: Iterable[str | Path],
    settings: Settings,
    store: Store | None,
    engine: Engine | None,
    force: bool,
    dry_run: bool,
    progress: Progress | None,
    on_total: Callable[[int], None] | None,
) -> dict[str, Any]:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    mark = [started]

    def lap(stage: str) -> None:
        now = time.perf_counter()
        timings[stage] = round(now - mark[0], 3)
        mark[0] = now

    files, failed = scan(paths, skip=Path(settings.index_dir))
    known = store.file_hashes() if store else {}
    workers = settings.worker_count
    if on_total:
        on_total(len(files))
    loaded: list[Loaded] = _map(
        _load_job, [(f, known.get(f), force, settings) for f in files], workers, progress, "read"
    )
    lap("read")
    failed += [{"path": r.path, "reason": r.reason} for r in loaded if r.status == "failed"]
    ok = [r for r in loaded if r.status == "ok"]
    unchanged = sum(1 for r in loaded if r.status == "unchanged")

    # Lines repeated across documents of one source are chrome (counted with stored ones).
    raws = [(r, raw) for r in ok for raw in r.raws]
    group_lines = by_group_lines(raws, settings)
    run_paths = {r.path for r in ok}
    repeated: dict[str, frozenset[str]] = {}
    for group, entries in group_lines.items():
        per_file: dict[str, set[str]] = {}
        for path, lines in entries:
            per_file.setdefault(path, set()).update(lines)
        counts: dict[str, int] = {}
        for lines in per_file.values():
            for line in lines:
                counts[line] = counts.get(line, 0) + 1
        if store:
            for line, n in store.short_line_counts(group, counts, exclude=run_paths).items():
                counts[line] += n
        repeated[group] = frozenset(line for line, n in counts.items() if n >= settings.chrome_repeat_min)
    jobs = [(raw, repeated[source_label(raw.source.path, raw.site)], settings) for _r, raw in raws]
    enriched = _map(_enrich_job, jobs, workers, progress, "parse")
    lap("parse")
    versions: list[tuple[Loaded, RawVersion, Version]] = []
    for (r, raw), v in zip(raws, enriched, strict=True):
        if isinstance(v, tuple):
            failed.append({"path": v[0], "reason": v[1]})
        else:
            versions.append((r, raw, v))

    stored_ids = {row["version_id"]: row for row in store.dedup_rows()} if store else {}
    new_versions: dict[str, Version] = {}
    duplicates = 0
    for _r, _raw, v in versions:
        if v.version_id in stored_ids or v.version_id in new_versions:
            duplicates += 1
        else:
            new_versions[v.version_id] = v
    known_paths = set(known)
    report: dict[str, Any] = {
        "added": sum(1 for r in ok if r.path not in known_paths),
        "changed": sum(1 for r in ok if r.path in known_paths),
        "unchanged": unchanged,
        "new_versions": len(new_versions),
        "duplicates": duplicates,
        "failed": sorted(failed, key=lambda f: f["path"]),
    }
    if dry_run or store is None or engine is None:
        counts = store.counts() if store else {"documents": 0, "versions": 0, "sections": 0}
        report.update({k: counts[k] for k in ("documents", "versions", "sections")})
        report["dry_run"] = True
        report["seconds"] = round(time.perf_counter() - started, 3)
        return report

    run_id = store.start_run()
    touched = _store_run(store, run_id, versions, new_versions, stored_ids, settings, group_lines)
    lap("store")
    # Everything parsed is in the store now; free it before the index writer forks its helpers.
    del loaded, ok, raws, jobs, enriched, versions, new_versions, stored_ids, group_lines
    if progress:
        progress("index", 0)
    sync_documents(store, engine, sorted(touched), workers)
    with store.transaction() as db:
        db.executemany("DELETE FROM pending WHERE doc_id=?", [(d,) for d in touched])
    lap("index")
    counts = store.counts()
    report.update({k: counts[k] for k in ("documents", "versions", "sections")})
    report["seconds"] = round(time.perf_counter() - started, 3)
    report["timings"] = timings
    store.finish_run(run_id, report)
    return report


def by_group_lines(raws: list[tuple[Loaded, RawVersion]], settings: Settings) -> dict[str, list[tuple[str, set[str]]]]:
    """Short lines per source group and file, to remember for later runs."""
    out: dict[str, list[tuple[str, set[str]]]] = {}
    for _r, raw in raws:
        out.setdefault(source_label(raw.source.path, raw.site), []).append(
            (raw.source.path, short_lines(raw, settings.chrome_max_words))
        )
    return out


def _store_run(
    store: Store,
    run_id: int,
    versions: list[tuple[Loaded, RawVersion, Version]],
    new_versions: dict[str, Version],
    stored: dict[str, Any],
    settings: Settings,
    group_lines: dict[str, list[tuple[str, set[str]]]],
) -> set[str]:
    """Dedup against the store and write everything in one transaction; returns touched doc ids."""
    sigs = {vid: dedup.signature(dedup.shingles(v.normalized_text, settings.shingle_size), settings.minhash_perms)
            for vid, v in new_versions.items()}  # fmt: skip
    new_c = [dedup.Candidate(vid, sigs[vid], v.lineage_key, None) for vid, v in new_versions.items()]
    old_c = [
        dedup.Candidate(r["version_id"], signature_from_blob(r["signature"]), r["lineage_key"], r["doc_id"])
        for r in stored.values()
    ]

    def shingles_of(vid: str) -> set[bytes]:
        text = new_versions[vid].normalized_text if vid in new_versions else store.normalized_text(vid)
        return dedup.shingles(text, settings.shingle_size)

    assigned = dedup.assign_documents(
        new_c, old_c, settings.near_dup_threshold - 0.1, settings.near_dup_verify, settings.minhash_perms, shingles_of
    )
    touched = set(assigned.values())
    # Documents that lost versions to a merge are touched too.
    touched |= {stored[vid]["doc_id"] for vid in assigned if vid in stored}
    path_of_version: dict[str, list[tuple[Loaded, RawVersion]]] = {}
    for r, raw, v in versions:
        path_of_version.setdefault(v.version_id, []).append((r, raw))
        if v.version_id in stored:
            touched.add(stored[v.version_id]["doc_id"])
    seq_of = {}
    for i, (_r, _raw, v) in enumerate(versions):
        seq_of.setdefault(v.version_id, i)
    with store.transaction() as db:
        for vid, v in new_versions.items():
            labels = sorted({source_label(raw.source.path, raw.site) for _r, raw in path_of_version[vid]})
            db.execute(
                """INSERT INTO versions(version_id, doc_id, position, title, doc_type, language, timestamp,
                   own_date, first_run, first_seq, authors, dates, infobox, lineage_key, site, source,
                   normalized_text, signature) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                (vid, assigned[vid], 0, v.title, v.doc_type, v.language, v.timestamp, v.own_date(), run_id,
                 seq_of[vid], json.dumps(list(v.authors)), json.dumps(list(v.dates)), json.dumps(v.infobox),
                 v.lineage_key, v.site, json.dumps(labels), v.normalized_text, signature_blob(sigs[vid])),
            )  # fmt: skip
            db.executemany(
                """INSERT INTO sections(version_id, ordinal, level, heading, breadcrumb, anchor, text, language,
                   auxiliary, dates) VALUES (?,?,?,?,?,?,?,?,?,?)""",
                [(s.version_id, s.ordinal, s.level, s.heading, s.breadcrumb, s.anchor, s.text, s.language,
                  int(s.auxiliary), json.dumps([d.__dict__ for d in s.dates])) for s in v.sections],
            )  # fmt: skip
        for vid, doc_id in assigned.items():
            if vid not in new_versions:
                db.execute("UPDATE versions SET doc_id=? WHERE version_id=?", (doc_id, vid))
        for r, raw, v in versions:
            db.execute(
                "UPDATE version_sources SET current=0 WHERE path=? AND content_hash<>?", (r.path, r.content_hash)
            )
            db.execute(
                """INSERT OR REPLACE INTO version_sources(version_id, path, content_hash, media_type, size, mtime,
                   current, run_id) VALUES (?,?,?,?,?,?,1,?)""",
                (v.version_id, r.path, r.content_hash, raw.source.media_type, raw.source.size, raw.source.mtime, run_id),
            )  # fmt: skip
            if v.version_id in stored:
                labels = set(
                    json.loads(
                        db.execute("SELECT source FROM versions WHERE version_id=?", (v.version_id,)).fetchone()[0]
                    )
                )
                labels.add(source_label(raw.source.path, raw.site))
                db.execute(
                    "UPDATE versions SET source=? WHERE version_id=?", (json.dumps(sorted(labels)), v.version_id)
                )
            db.execute(
                "INSERT OR REPLACE INTO files(path, content_hash, size, mtime, media_type, run_id) VALUES (?,?,?,?,?,?)",
                (r.path, r.content_hash, raw.source.size, raw.source.mtime, raw.source.media_type, run_id),
            )
        for group, entries in group_lines.items():
            db.executemany("DELETE FROM short_lines WHERE path=?", sorted({(path,) for path, _ in entries}))
            db.executemany(
                "INSERT OR IGNORE INTO short_lines(source_group, line, path) VALUES (?,?,?)",
                [(group, line, path) for path, lines in entries for line in lines],
            )
        for doc_id in sorted(touched):
            refresh_document(db, doc_id)
        db.executemany("INSERT OR IGNORE INTO pending(doc_id) VALUES (?)", [(d,) for d in touched])
    return touched


def refresh_document(db: Any, doc_id: str) -> None:
    """Re-derive a document's version order, titles and summary row from its versions."""
    rows = list(db.execute("SELECT * FROM versions WHERE doc_id=?", (doc_id,)))
    if not rows:
        db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
        return
    order = dedup.order_versions([(r["version_id"], r["own_date"], (r["first_run"], r["first_seq"])) for r in rows])
    by_id = {r["version_id"]: r for r in rows}
    titled = [(i, by_id[v]) for i, v in enumerate(order) if by_id[v]["title"] and not by_id[v]["title_inherited"]]
    for i, vid in enumerate(order):
        row = by_id[vid]
        if row["title"] and not row["title_inherited"]:
            db.execute("UPDATE versions SET position=? WHERE version_id=?", (i, vid))
            continue
        # A version without a title of its own takes its document's: the nearest titled version.
        inherited = min(titled, key=lambda t: (abs(t[0] - i), -t[0]))[1]["title"] if titled else None
        db.execute(
            "UPDATE versions SET position=?, title=?, title_inherited=? WHERE version_id=?",
            (i, inherited, 1 if inherited else 0, vid),
        )
    latest = by_id[order[-1]]
    title = (
        latest["title"]
        if latest["title"] and not latest["title_inherited"]
        else (titled[-1][1]["title"] if titled else None)
    )
    if not title:
        # Nothing has a title: name the document after its first file.
        first = db.execute(
            "SELECT path FROM version_sources WHERE version_id=? ORDER BY path LIMIT 1", (order[-1],)
        ).fetchone()
        title = Path(first[0]).stem if first else "untitled"
    db.execute(
        """INSERT OR REPLACE INTO documents(doc_id, title, doc_type, language, latest_version_id, versions)
           VALUES (?,?,?,?,?,?)""",
        (doc_id, title, latest["doc_type"], latest["language"], order[-1], len(order)),
    )


def remove_paths(paths: Iterable[str | Path], settings: Settings) -> dict[str, Any]:
    """Forget files (or every file under a folder): versions left with no source go, then documents."""
    index_dir = Path(settings.index_dir)
    with index_lock(index_dir, settings.lock_wait_seconds):
        store = Store(index_dir)
        engine = open_engine(str(index_dir))
        try:
            recover(store, engine)
            stored = list(store.file_hashes())
            targets: set[str] = set()
            for p in paths:
                a = os.path.abspath(p)
                targets |= {s for s in stored if s == a or s.startswith(a.rstrip("/") + "/")}
            touched: set[str] = set()
            removed_versions = 0
            with store.transaction() as db:
                for path in sorted(targets):
                    vids = [
                        r[0]
                        for r in db.execute("SELECT DISTINCT version_id FROM version_sources WHERE path=?", (path,))
                    ]
                    db.execute("DELETE FROM version_sources WHERE path=?", (path,))
                    db.execute("DELETE FROM files WHERE path=?", (path,))
                    db.execute("DELETE FROM short_lines WHERE path=?", (path,))
                    for vid in vids:
                        doc = db.execute("SELECT doc_id FROM versions WHERE version_id=?", (vid,)).fetchone()
                        if doc:
                            touched.add(doc[0])
                        if not db.execute("SELECT 1 FROM version_sources WHERE version_id=?", (vid,)).fetchone():
                            db.execute("DELETE FROM versions WHERE version_id=?", (vid,))
                            db.execute("DELETE FROM sections WHERE version_id=?", (vid,))
                            removed_versions += 1
                for doc_id in sorted(touched):
                    refresh_document(db, doc_id)
                db.executemany("INSERT OR IGNORE INTO pending(doc_id) VALUES (?)", [(d,) for d in touched])
            sync_documents(store, engine, sorted(touched))
            with store.transaction() as db:
                db.executemany("DELETE FROM pending WHERE doc_id=?", [(d,) for d in touched])
            counts = store.counts()
            return {"removed_files": len(targets), "removed_versions": removed_versions, **counts}
        finally:
            engine.close()
            store.close()
