"""The only module that chains the stages:

    SourceFile -> load -> clean -> section -> enrich (metadata, language) -> dedup -> store -> index

Stages 1 (load) and 2 (clean, section, enrich) run in worker processes; dedup, the store
transaction and the index commit run in this process, in that order (see store.py for why a
run can be killed at any point).
"""

from __future__ import annotations

import dataclasses
import fcntl
import itertools
import json
import os
import shutil
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import dedup, language, metadata, records, reuse, sentences
from .cleaning import WEB_DERIVED, clean, furniture_candidates
from .engines import DEFAULT_ENGINE, Engine, index_engine, live_slot, open_engine, slot_number, swap_slot
from .errors import IndexLockedError, NotADocument, SourceError
from .limits import bounded
from .models import RawVersion, Section, SourceFile, Version
from .scan import FileRules, check_paths, scan
from .sectioning import normalized_text, split_sections
from .settings import Settings
from .sources import content_hash, load_bytes, read_bytes
from .store import Store
from .workers import run_jobs
from .writer import sync_documents

Progress = Callable[[str, int], None]


# -- stage functions (top level: they run in worker processes) ----------------------------
@dataclass
class Found:
    """One content state read from a file: the file itself, or one revision of an export."""

    version: Version
    revision: str  # "" for a file
    lines: frozenset[str] = frozenset()  # page-furniture candidates of web-derived text

    @property
    def source(self) -> SourceFile:
        return self.version.files[0]


@dataclass
class FileResult:
    """What the worker stage made of one file."""

    path: str
    status: str  # "ok" | "unchanged" | "skipped" | "failed"
    content_hash: str = ""
    found: list[Found] = field(default_factory=list)
    reason: str = ""
    notes: list[str] = field(default_factory=list)  # what was repaired or what a library warned about
    seconds: dict[str, float] = field(default_factory=dict)  # time spent reading, parsing, enriching


@contextmanager
def _caught(notes: list[str]) -> Iterator[None]:
    """Warnings of the libraries a stage uses become notes of the file, never raw terminal output."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        note = f"{w.category.__name__}: {str(w.message).splitlines()[0] if str(w.message) else ''}".strip()
        if note not in notes:
            notes.append(note)


def file_stage(path: str, known_hash: str | None, force: bool, settings: Settings) -> FileResult:
    """Read one file (skipped when its bytes are unchanged), parse it, and clean, section and
    enrich every version it holds. Runs in a worker process: nothing here depends on other files."""
    notes: list[str] = []
    clock = time.perf_counter()
    seconds = {"read": 0.0, "parse": 0.0, "enrich": 0.0}

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] += now - clock
        clock = now

    try:
        with _caught(notes):
            data, st = read_bytes(Path(path), settings.max_file_bytes)
            digest = content_hash(data)
            lap("read")
            if known_hash == digest and not force:
                return FileResult(path, "unchanged", digest, seconds=seconds)
            raws = load_bytes(path, data, st.st_mtime, settings.max_html_depth, digest, notes, settings.max_lines)
            lap("parse")
    except NotADocument as exc:
        return FileResult(path, "skipped", reason=exc.reason, notes=notes, seconds=seconds)
    except SourceError as exc:
        return FileResult(path, "failed", reason=exc.reason, notes=notes, seconds=seconds)
    except MemoryError:
        reason = f"over {settings.max_file_memory_mb} MB (setting max_file_memory_mb)"
        return FileResult(path, "failed", reason=reason, notes=notes, seconds=seconds)
    except (RecursionError, ValueError, OSError) as exc:
        return FileResult(path, "failed", reason=f"{type(exc).__name__}: {exc}", notes=notes, seconds=seconds)
    result = FileResult(path, "ok", digest, notes=notes, seconds=seconds)
    errors: list[str] = []
    for raw in raws:
        blocks, cut = bounded(raw.blocks, settings.text_limits)
        if cut:
            notes.append(f"revision {raw.revision}: {cut}" if raw.revision else cut)
            raw = replace(raw, blocks=blocks)
        try:
            with _caught(notes):
                v = enrich_stage(raw, settings)
                lines = (
                    frozenset(furniture_candidates((s.text for s in v.sections), settings.chrome_max_words))
                    if v.doc_type in WEB_DERIVED
                    else frozenset()
                )
            result.found.append(Found(v, raw.revision or "", lines))
        except (ValueError, RecursionError, MemoryError) as exc:
            # One revision that cannot be read does not cost the others.
            errors.append(f"{type(exc).__name__}: {exc}")
    lap("enrich")
    if not result.found:
        result.status, result.reason = "failed", errors[0]
    elif errors:
        result.reason = f"{len(errors)} of {len(raws)} versions could not be read: {errors[0]}"
    return result


def enrich_stage(raw: RawVersion, settings: Settings) -> Version:
    """Clean, section and enrich one raw version into a Version (no document yet).

    Only the file itself decides its text here, so `version_id` never depends on other files."""
    cleaned = clean(raw, settings.chrome_max_words)
    blocks = cleaned.blocks
    title = cleaned.title
    if title is None:
        title, blocks = metadata.title_from_blocks(blocks)
    elif blocks and blocks[0].kind == "heading" and blocks[0].text.lower() == title.lower():
        blocks = blocks[1:]
    drafts = split_sections(blocks)
    norm = normalized_text(drafts, title)
    version_id = dedup.version_id_for(norm)
    version_lang, section_langs = language.detect_sections([d.text for d in drafts] or [title or ""])
    doc_dates = metadata.document_dates(blocks, raw.date_strings)
    # The year the text is about, for days written without one. A revision's timestamp says
    # when the text was saved, not what it is about: it is no such year.
    fallback_year = metadata.document_year(
        title,
        [d for d in doc_dates if d["kind"] != "revision"],
        drafts[0].text if drafts and drafts[0].level == 0 else "",
    )
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
        files=(raw.source,),
        infobox=metadata.typed_infobox(raw.infobox),
        authors=tuple(authors),
        dates=tuple(doc_dates),
        timestamp=raw.timestamp,
        lineage_key=raw.lineage_key,
        site=raw.site,
        normalized_text=norm,
        categories=raw.categories,
    )


def _file_job(args: tuple[str, str | None, bool, Settings]) -> FileResult:
    return file_stage(*args)


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


def _file_stage_all(
    jobs: list[tuple[str, str | None, bool, Settings]], settings: Settings, progress: Progress | None
) -> list[FileResult]:
    """The file stage of every file, in worker processes, each file under the time and memory
    budget of the settings (in this process when both are off)."""
    if not settings.max_file_seconds and not settings.max_file_memory_mb:
        return _map(_file_job, jobs, settings.worker_count, progress, "files")
    if settings.worker_count > 1 and len(jobs) >= 8:
        language.preload()  # loaded once, shared by the forked workers (a few files load what they need)

    def stopped(job: tuple[str, str | None, bool, Settings], reason: str) -> FileResult:
        return FileResult(job[0], "failed", reason=reason)

    def tick() -> None:
        if progress:
            progress("files", 1)

    return run_jobs(
        _file_job, jobs, settings.worker_count, settings.max_file_seconds, settings.max_file_memory_mb, stopped, tick
    )


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
    rules: FileRules | None = None,
) -> dict[str, Any]:
    """Index files and folders incrementally; returns the run report. A path that does not
    exist raises PathNotFoundError before anything is read."""
    paths = check_paths(paths)
    rules = rules or FileRules()
    index_dir = Path(settings.index_dir)
    if dry_run:
        store = Store(index_dir) if (index_dir / "store.sqlite3").exists() else None
        try:
            return _run(paths, rules, settings, store, None, force, True, progress, on_total)
        finally:
            if store:
                store.close()
    with index_lock(index_dir, settings.lock_wait_seconds):
        store = Store(index_dir, create=True)
        engine = open_engine(str(index_dir), create=True, name=settings.engine)
        try:
            recover(store, engine, settings)
            return _run(paths, rules, settings, store, engine, force, False, progress, on_total)
        finally:
            engine.close()
            store.close()


def recover(store: Store, engine: Engine, settings: Settings) -> int:
    """Finish a run that was killed after its store transaction: re-sync pending documents."""
    pending = store.pending()
    if pending:
        sync_documents(store, engine, pending, furniture=settings.furniture)
        with store.transaction():
            store.clear_pending(pending)
            store.mark_recovered()
    return len(pending)


def _run(
    paths: list[str],
    rules: FileRules,
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
    cpu: dict[str, float] = {}
    mark = [started]

    def lap(stage: str) -> None:
        now = time.perf_counter()
        timings[stage] = round(now - mark[0], 3)
        mark[0] = now

    scanned = scan(paths, rules, skip=Path(settings.index_dir))
    failed = list(scanned.failed)
    skipped = list(scanned.skipped)
    notes: list[dict[str, str]] = []
    # Only the files this run reads: an index of a million sections has 200,000 of them.
    known = store.file_hashes(scanned.files) if store else {}
    workers = settings.worker_count
    if on_total:
        on_total(len(scanned.files))
    results = _file_stage_all([(f, known.get(f), force, settings) for f in scanned.files], settings, progress)
    lap("files")
    found: list[Found] = []
    for r in results:
        notes += [{"path": r.path, "message": n} for n in r.notes]
        if r.status == "skipped":
            skipped.append({"path": r.path, "reason": r.reason})
        elif r.reason:  # failed, or some of its revisions did
            failed.append({"path": r.path, "reason": r.reason})
        found += r.found
    ok = [r for r in results if r.status == "ok"]
    unchanged = sum(1 for r in results if r.status == "unchanged")
    for stage in ("read", "parse", "enrich"):
        cpu[stage] = round(sum(r.seconds.get(stage, 0.0) for r in results), 3)

    # The stored versions among those found (version_id -> doc_id), not every stored version.
    stored_ids = store.version_docs(f.version.version_id for f in found) if store else {}
    new_versions: dict[str, Found] = {}
    duplicates = 0
    for f in found:
        if f.version.version_id in stored_ids or f.version.version_id in new_versions:
            duplicates += 1
        else:
            new_versions[f.version.version_id] = f
    known_paths = set(known)
    report: dict[str, Any] = {
        "added": sum(1 for r in ok if r.path not in known_paths),
        "changed": sum(1 for r in ok if r.path in known_paths),
        "unchanged": unchanged,
        "new_versions": len(new_versions),
        "duplicates": duplicates,
        "skipped": sorted(skipped, key=lambda f: f["path"]),
        "failed": sorted(failed, key=lambda f: f["path"]),
        "warnings": sorted(notes, key=lambda n: (n["path"], n["message"])),
    }
    if dry_run or store is None or engine is None:
        counts = store.counts() if store else {"documents": 0, "versions": 0, "sections": 0}
        report.update({k: counts[k] for k in ("documents", "versions", "sections")})
        report["dry_run"] = True
        report["seconds"] = round(time.perf_counter() - started, 3)
        return report

    run_id = store.start_run()
    # Documents that are not in the store now have no records in the index (a run killed after
    # its index commit left its documents in `pending`, and recover() has re-synced them).
    indexed_before = set(store.doc_ids())
    touched = _store_run(store, run_id, found, new_versions, stored_ids, settings)
    lap("store")
    # Everything parsed is in the store now; free it before the index writer forks its helpers.
    del results, ok, found, new_versions, stored_ids
    if progress:
        progress("index", 0)
    if force:
        # --force re-reads everything: the index is built again beside the live one and swapped
        # in (the engine follows the swap), never rewritten in place.
        _rebuild_aside(store, settings)
    else:
        sync_documents(store, engine, sorted(touched), workers, settings.furniture, unindexed=touched - indexed_before)
        with store.transaction():
            store.clear_pending(touched)
    lap("index")
    if progress:
        progress("sentences", 0)
    update_sentences(store, workers)
    lap("sentences")
    if progress:
        progress("reuse", 0)
    report["reuse"] = update_reuse(store, settings)
    lap("reuse")
    records.save_snapshot(settings.index_dir, store, engine)
    lap("snapshot")
    counts = store.counts()
    report.update({k: counts[k] for k in ("documents", "versions", "sections")})
    report["seconds"] = round(time.perf_counter() - started, 3)
    report["timings"] = timings
    report["worker_seconds"] = cpu
    store.finish_run(run_id, report)
    return report


def _store_run(
    store: Store,
    run_id: int,
    found: list[Found],
    new_versions: dict[str, Found],
    stored: dict[str, str],
    settings: Settings,
) -> set[str]:
    """Dedup against the store and write everything in one transaction; returns touched doc ids.
    `stored`: version_id -> doc_id of the versions found that the store has."""
    sigs = {vid: dedup.signature(dedup.shingles(f.version.normalized_text, settings.shingle_size),
                                 settings.minhash_perms)
            for vid, f in new_versions.items()}  # fmt: skip
    new_c = [dedup.Candidate(vid, sigs[vid], f.version.lineage_key, None) for vid, f in new_versions.items()]
    # Not every stored version: those a new one can join (dedup.related_stored).
    old_c = dedup.related_stored(
        new_c, store.dedup_signatures(), store.dedup_lineage, settings.near_dup_threshold - 0.1, settings.minhash_perms
    )

    def shingles_of(vid: str) -> set[bytes]:
        text = new_versions[vid].version.normalized_text if vid in new_versions else store.normalized_text(vid)
        return dedup.shingles(text, settings.shingle_size)

    assigned, renamed = dedup.assign_documents(
        new_c, old_c, settings.near_dup_threshold - 0.1, settings.near_dup_verify, settings.minhash_perms, shingles_of
    )
    touched = set(assigned.values()) | set(renamed)
    touched |= {stored[f.version.version_id] for f in found if f.version.version_id in stored}

    # Page furniture: the short lines of web-derived versions, per source group.
    new_lines: dict[tuple[str, str], set[str]] = {}
    labels_of: dict[str, set[str]] = {}
    for f in found:
        label = source_label(f.source.path, f.version.site)
        labels_of.setdefault(f.version.version_id, set()).add(label)
        if f.version.doc_type in WEB_DERIVED:
            new_lines.setdefault((f.version.version_id, label), set()).update(f.lines)
    with store.transaction():
        # Which groups this run changes, and what is furniture in them before it.
        groups = {g for _v, g in new_lines} | store.groups_of_docs(touched)
        before = store.group_furniture(groups, store.furniture_thresholds(settings.furniture))
        for vid, f in new_versions.items():
            store.add_version(f.version, assigned[vid], sigs[vid], labels_of[vid])
        for vid, doc_id in assigned.items():
            if vid not in new_versions:
                store.move_version(vid, doc_id)
        for old, new in sorted(renamed.items()):
            store.add_alias(old, new)
        for seq, f in enumerate(found):
            v = f.version
            store.record_file(f.source, run_id)
            store.add_occurrence(v.version_id, f.source, f.revision, v.own_date(), run_id, seq)
            if v.version_id in stored:
                store.add_source_label(v.version_id, source_label(f.source.path, v.site))
        for (vid, group), lines in sorted(new_lines.items()):
            store.add_version_lines(vid, group, lines)
        # A line that became furniture, or stopped being furniture, changes what the documents
        # having it index (the threshold moves with a group's size too).
        after = store.group_furniture(groups, store.furniture_thresholds(settings.furniture))
        touched |= store.docs_with_lines(before ^ after)
        for doc_id in sorted(touched):
            store.refresh_document(doc_id)
        store.mark_pending(touched)
    return touched


SENTENCE_JOB_CHARS = 500_000  # text per worker job when finding sentences


SENTENCE_PAGE = 2_000  # sections read from the store at a time when finding sentences
SWEEP_SECTIONS = 50_000  # at least this many sections a run finds again after a retraining
SWEEP_KEY = "sentence_sweep"  # its progress, in the store's meta table


@dataclass
class _Sweep:
    """Finding again, a part per run, the sentences of the sections an earlier model found: one
    circle over them in (version_id, ordinal) order that begins after `start` (None: at the
    first) and goes round to it; `cursor` is the last section done, `wrapped` once the circle
    went past the last section."""

    active: bool = False
    start: tuple[str, int] | None = None
    cursor: tuple[str, int] | None = None
    wrapped: bool = False

    @classmethod
    def from_json(cls, text: str | None) -> _Sweep:
        if not text:
            return cls()
        data = json.loads(text)
        start, cursor = (None if v is None else (str(v[0]), int(v[1])) for v in (data["start"], data["cursor"]))
        return cls(bool(data["active"]), start, cursor, bool(data["wrapped"]))

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    def restarted(self) -> _Sweep:
        """A new circle after a retraining: from where this one stands (every section is to be
        found again once), or over every section."""
        return _Sweep(True, self.cursor, self.cursor, False) if self.active else _Sweep(True)

    def pages(self, store: Store, budget: int) -> Iterator[list[tuple[str, int, str]]]:
        """The next pages of the circle, `budget` sections at most; the progress is kept in self
        as the pages are taken (and stored by the caller in the same transaction)."""
        while budget > 0 and self.active:
            limit = min(SENTENCE_PAGE, budget)
            if not self.wrapped:
                page = store.sentence_page(False, self.cursor, limit, found_only=True)
                if not page:
                    if self.start is None:
                        self.active = False  # went from the first section to the last
                    else:
                        self.wrapped, self.cursor = True, None
                    continue
            else:
                page = store.sentence_page(False, self.cursor, limit, found_only=True, upto=self.start)
                if not page:
                    self.active = False
                    continue
            self.cursor = page[-1][:2]
            budget -= len(page)
            yield page


def update_sentences(store: Store, workers: int = 1) -> dict[str, int]:
    """The last stage: retrain the sentence model when the corpus's sample changed, then find
    the sentences of the new sections, and again those of sections an earlier model found, in
    worker processes; model, sentences and progress are stored in one transaction. The sections
    are read a page at a time and their sentences written as the jobs finish: a run over a
    million sections holds a few jobs' texts, not every text.

    After a retraining every section's sentences are found again, but a run does at most
    max(SWEEP_SECTIONS, its new sections) of them (`_Sweep`, a circle continued by the next
    runs): a corpus indexed in large batches, whose sample changes with almost every batch, would
    otherwise have every section split again by every run. Meanwhile a section's sentences are
    an earlier model's (snippets cut by them are as good); with no further retraining the circle
    completes and every section's sentences are the current model's."""
    sample = sentences.sample(store.texts_in_version_order())
    stored = sentences.SentenceModel.from_json(store.meta_value(sentences.MODEL_KEY))
    retrain = not stored.sample_key or stored.sample_key != sentences.sample_key(sample)
    model = sentences.train(sample) if retrain else stored
    model_json = model.to_json()
    sweep = _Sweep.from_json(store.meta_value(SWEEP_KEY))
    found = again = 0
    with store.transaction():
        if retrain:
            store.set_meta_value(sentences.MODEL_KEY, model_json)
            sweep = sweep.restarted()
        if sweep.active:
            budget = max(SWEEP_SECTIONS, store.sections_without_sentences())
            for rows in _map_lazy(sentences.spans_job, _sentence_jobs(model_json, sweep.pages(store, budget)), workers):
                store.set_sentences(rows)
                again += len(rows)
        for rows in _map_lazy(sentences.spans_job, _sentence_jobs(model_json, _missing_pages(store)), workers):
            store.set_sentences(rows)
            found += len(rows)
        store.set_meta_value(SWEEP_KEY, sweep.to_json())
    return {"retrained": int(retrain), "sections": found, "found_again": again, "sweep_left": int(sweep.active)}


def _missing_pages(store: Store) -> Iterator[list[tuple[str, int, str]]]:
    after: tuple[str, int] | None = None
    while page := store.sentence_page(True, after, SENTENCE_PAGE):
        after = page[-1][:2]
        yield page


def _sentence_jobs(model_json: str, pages: Iterable[list[tuple[str, int, str]]]) -> Iterator[tuple[str, list[Any]]]:
    """Jobs of about SENTENCE_JOB_CHARS of text: (model JSON, [(version_id, ordinal, text)])."""
    chunk: list[tuple[str, int, str]] = []
    size = 0
    for page in pages:
        for version_id, ordinal, text in page:
            chunk.append((version_id, ordinal, text[: sentences.SENTENCE_CHARS]))
            size += min(len(text), sentences.SENTENCE_CHARS)
            if size >= SENTENCE_JOB_CHARS:
                yield model_json, chunk
                chunk, size = [], 0
    if chunk:
        yield model_json, chunk


def _map_lazy(fn: Callable[[Any], Any], jobs: Iterable[Any], workers: int) -> Iterator[Any]:
    """The results of jobs in order, in worker processes when there are enough jobs; the jobs
    are read as results are taken, a few per worker in flight."""
    jobs = iter(jobs)
    head = list(itertools.islice(jobs, 8))
    if workers <= 1 or len(head) < 8:
        for job in itertools.chain(head, jobs):
            yield fn(job)
        return
    language.preload()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        running: deque[Future[Any]] = deque()
        for job in itertools.chain(head, jobs):
            running.append(pool.submit(fn, job))
            if len(running) >= 4 * workers:
                yield running.popleft().result()
        while running:
            yield running.popleft().result()


def rebuild(settings: Settings) -> dict[str, Any]:
    """Build the engine index again from the store, beside the live one, and swap it in at once:
    searches see the old index until the swap and the new one after it; a rebuild that is
    stopped leaves the old index live (its half-built slot is removed by the next rebuild)."""
    index_dir = Path(settings.index_dir)
    if not (index_dir / "store.sqlite3").exists():
        raise FileNotFoundError(f"no index in {index_dir} (run `palimpsest index PATH` first)")
    started = time.perf_counter()
    with index_lock(index_dir, settings.lock_wait_seconds):
        store = Store(index_dir)
        try:
            replaced = live_slot(index_dir)
            slot, records_written = _rebuild_aside(store, settings)
            engine = open_engine(str(index_dir))
            try:
                records.save_snapshot(index_dir, store, engine)
            finally:
                engine.close()
            counts = store.counts()
        finally:
            store.close()
    return {
        "documents": counts["documents"], "versions": counts["versions"], "sections": counts["sections"],
        "records": records_written, "slot": slot, "replaced": replaced, "seconds": round(time.perf_counter() - started, 3),
    }  # fmt: skip


def _rebuild_aside(store: Store, settings: Settings) -> tuple[str, int]:
    """Write every document of the store into a new engine slot, make it the live one, and clear
    the pending list (every document is in it). Returns (the new slot, records written). Slots
    other than the live one are removed first: what killed rebuilds left, and the slot before
    the last swap (readers follow the pointer before they read again)."""
    index_dir = Path(settings.index_dir)
    live = live_slot(index_dir)
    name = index_engine(index_dir) or DEFAULT_ENGINE
    numbers = [slot_number(live)]
    for entry in index_dir.iterdir():
        if entry.is_dir() and entry.name.partition("-")[0] == name and entry.name != live:
            numbers.append(slot_number(entry.name))
            shutil.rmtree(entry, ignore_errors=True)
    slot = f"{name}-{max(numbers) + 1}"
    docs = store.doc_ids()
    engine = open_engine(str(index_dir), create=True, slot=slot)
    try:
        written = sync_documents(store, engine, docs, settings.worker_count, settings.furniture, unindexed=set(docs))
    finally:
        engine.close()
    swap_slot(index_dir, slot)
    with store.transaction():
        store.clear_pending(store.pending())
    return slot, written


REUSE_RULE_KEY = "reuse_rule"  # the rule the stored links were found with (meta table)
REUSE_CACHE = 512  # versions whose section texts are kept while comparing


def update_reuse(store: Store, settings: Settings) -> dict[str, int]:
    """The text reuse stage: fingerprint the latest version of every document that has none
    stored yet, compare it with the stored versions sharing a fingerprint, and store the
    passages they share; versions that are no longer a document's latest lose theirs. Every
    link is found when the second of its two versions arrives, aligned in version id order,
    so the same files give the same links in any order (see reuse.py)."""
    rule = settings.reuse_rule
    rule_json = json.dumps(dataclasses.asdict(rule), sort_keys=True) if settings.reuse else ""
    latest = store.latest_versions()
    done = store.reuse_versions()
    redo = store.meta_value(REUSE_RULE_KEY) != rule_json
    stale = done if redo else done - latest.keys()
    new = sorted(latest) if redo else sorted(latest.keys() - done)
    texts: dict[str, dict[int, reuse.Text]] = {}

    def texts_of(vid: str) -> dict[int, reuse.Text]:
        if vid not in texts:
            if len(texts) >= REUSE_CACHE:
                del texts[next(iter(texts))]
            texts[vid] = {o: (t, lang) for o, t, lang in store.reuse_sections(vid)}
        return texts[vid]

    links = 0
    with store.transaction():
        store.set_meta_value(REUSE_RULE_KEY, rule_json)
        if not settings.reuse:
            store.clear_reuse()
            return {"versions": 0, "links": 0}
        store.forget_reuse(stale)
        for vid in new:
            mine = texts_of(vid)
            prints = [
                (h, o, c)
                for o, (t, lang) in mine.items()
                for h, c in reuse.fingerprints(reuse.section_words(o, t, lang), rule)
            ]
            store.add_reuse_prints(vid, prints)
            seeds: dict[str, list[tuple[int, int, int, int]]] = {}
            weight: dict[str, float] = {}
            for other, oa, ca, ob, cb, places in store.shared_prints(vid, rule.max_sources):
                if latest.get(other) != latest[vid]:  # never two versions of one document
                    seeds.setdefault(other, []).append((oa, ca, ob, cb))
                    weight[other] = weight.get(other, 0.0) + 1.0 / places
            # At most max_candidates versions, those sharing the most and the rarest
            # fingerprints (each counts 1 / the places holding it, so a quote found in two
            # documents outranks a phrase found in forty): a template shared by every file
            # costs a bounded number of comparisons per file.
            best = sorted(seeds, key=lambda o: (-weight[o], o))[: rule.max_candidates]
            for other, found in sorted((o, seeds[o]) for o in best):
                if vid < other:
                    passages = reuse.compare(mine, texts_of(other), found, rule)
                    first, second = vid, other
                else:
                    flipped = [(ob, cb, oa, ca) for oa, ca, ob, cb in found]
                    passages = reuse.compare(texts_of(other), mine, flipped, rule)
                    first, second = other, vid
                if passages:
                    store.add_reuse_links(first, second, passages)
                links += len(passages)
        # A fingerprint this run made common enough to be a stock passage no longer supports the
        # links found through it while it was rarer: the links left are those the final counts
        # give, whatever order the files came in.
        crossed = {h for vid in new for h in store.crossed_prints(vid, rule.max_sources)}
        if crossed:
            links -= _prune_stock_links(store, store.versions_with_prints(crossed), rule.max_sources)
    return {"versions": len(new), "links": links}


def _prune_stock_links(store: Store, versions: set[str], max_places: int) -> int:
    """Drop the links of some versions that no fingerprint outside stock passages supports
    (none inside the passage on side a, also in version b, stored in at most `max_places`
    places); returns how many went."""
    stock: dict[int, bool] = {}
    gone = 0
    for key in store.links_of(versions):
        va, oa, sa, ea, vb, _ob, _sb = key
        supported = False
        for h in store.prints_in(va, oa, sa, ea):
            if h not in stock:
                stock[h] = store.places(h, max_places) > max_places
            if not stock[h] and store.has_print(vb, h):
                supported = True
                break
        if not supported:
            store.remove_reuse_link(key)
            gone += 1
    return gone


def remove_paths(paths: Iterable[str | Path], settings: Settings) -> dict[str, Any]:
    """Forget files (or every file under a folder): versions left with no source go, then documents."""
    index_dir = Path(settings.index_dir)
    with index_lock(index_dir, settings.lock_wait_seconds):
        store = Store(index_dir)
        engine = open_engine(str(index_dir))
        try:
            recover(store, engine, settings)
            stored = list(store.file_hashes())
            targets: set[str] = set()
            for p in paths:
                a = os.path.abspath(p)
                targets |= {s for s in stored if s == a or s.startswith(a.rstrip("/") + "/")}
            touched: set[str] = set()
            removed: set[str] = set()
            with store.transaction():
                groups = store.groups_of_docs(_docs_of_paths(store, targets))
                before = store.group_furniture(groups, store.furniture_thresholds(settings.furniture))
                for path in sorted(targets):
                    docs, gone = store.remove_file(path)
                    touched |= docs
                    removed |= gone
                # A document's id is a function of its members: losing some may change it.
                for doc_id in sorted(touched):
                    members = store.members(doc_id)
                    if members:
                        new_id = dedup.family_doc_id(members)
                        if new_id != doc_id:
                            store.rename_document(doc_id, new_id)
                            touched.add(new_id)
                after = store.group_furniture(groups, store.furniture_thresholds(settings.furniture))
                touched |= store.docs_with_lines(before ^ after)
                for doc_id in sorted(touched):
                    store.refresh_document(doc_id)
                store.mark_pending(touched)
            sync_documents(store, engine, sorted(touched), furniture=settings.furniture)
            with store.transaction():
                store.clear_pending(touched)
            update_sentences(store)
            update_reuse(store, settings)
            records.save_snapshot(index_dir, store, engine)
            counts = store.counts()
            return {"removed_files": len(targets), "removed_versions": len(removed), **counts}
        finally:
            engine.close()
            store.close()


def _docs_of_paths(store: Store, paths: Iterable[str]) -> set[str]:
    return {store.doc_of_version(vid) for path in paths for vid in store.versions_of_path(path)}
