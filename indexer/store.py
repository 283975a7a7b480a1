"""The document store (SQLite): sources, documents, versions, sections, metadata, index runs.

The store is the source of truth; the Whoosh index is derived from it. A run writes the store
in one transaction and lists the documents whose index records must be rewritten in
`pending`; after the index commit, a second transaction clears `pending`. A run killed between
the two leaves both usable, and the next run finishes the pending documents first.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Generator, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from . import dedup
from .cleaning import FurnitureRule
from .dedup import Occurrence
from .errors import DocumentNotFound, SchemaMismatchError
from .models import DateMention, Section, SectionRow, SourceFile, TimelineEntry, Version

STORE_SCHEMA_VERSION = 9  # bump when the tables change: an older store asks for a re-index

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY, started REAL NOT NULL, finished REAL, status TEXT NOT NULL,
    report TEXT);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, content_hash TEXT NOT NULL, size INTEGER NOT NULL, mtime REAL NOT NULL,
    media_type TEXT NOT NULL, run_id INTEGER NOT NULL);
-- Every place a version's text was found: a file, or one revision of an export (`revision`).
-- `own_date` is that occurrence's own date (revision timestamp, the copy's document date);
-- (run_id, seq) says when it was first seen. The timeline is derived from these rows.
CREATE TABLE IF NOT EXISTS version_sources (
    version_id TEXT NOT NULL, path TEXT NOT NULL, content_hash TEXT NOT NULL,
    revision TEXT NOT NULL DEFAULT '', media_type TEXT NOT NULL, size INTEGER NOT NULL,
    mtime REAL NOT NULL, own_date TEXT, current INTEGER NOT NULL, run_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (version_id, path, content_hash, revision));
CREATE INDEX IF NOT EXISTS version_sources_path ON version_sources(path);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, doc_type TEXT NOT NULL, language TEXT NOT NULL,
    latest_version_id TEXT NOT NULL, version_count INTEGER NOT NULL);
-- Ids a document had before a later file changed its members: they keep working.
CREATE TABLE IF NOT EXISTS doc_aliases (alias TEXT PRIMARY KEY, doc_id TEXT NOT NULL);
-- `rank`: the version's place among its document's distinct versions (by its last timeline
-- entry); `entries`: the timeline numbers (from 1) that carry this version's text, as JSON.
CREATE TABLE IF NOT EXISTS versions (
    version_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, rank INTEGER NOT NULL,
    entries TEXT NOT NULL DEFAULT '[]',
    title TEXT, title_inherited INTEGER NOT NULL DEFAULT 0, doc_type TEXT NOT NULL,
    language TEXT NOT NULL, timestamp TEXT, own_date TEXT, authors TEXT NOT NULL, dates TEXT NOT NULL,
    infobox TEXT NOT NULL, categories TEXT NOT NULL DEFAULT '[]', lineage_key TEXT, site TEXT,
    sources TEXT NOT NULL, normalized_text TEXT NOT NULL, signature BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS versions_doc ON versions(doc_id, rank);
-- The versions of some wiki pages (dedup, per run): made by the next index run on an older store.
CREATE INDEX IF NOT EXISTS versions_lineage ON versions(lineage_key) WHERE lineage_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS sections (
    version_id TEXT NOT NULL, ordinal INTEGER NOT NULL, level INTEGER NOT NULL,
    heading TEXT NOT NULL, breadcrumb TEXT NOT NULL, anchor TEXT NOT NULL, text TEXT NOT NULL,
    language TEXT NOT NULL, auxiliary INTEGER NOT NULL, dates TEXT NOT NULL,
    sentences BLOB,  -- sentence offsets (indexer/sentences.py: pack), NULL until the last stage
    PRIMARY KEY (version_id, ordinal));
-- Short lines of web-derived versions, per source group (version_groups: every web-derived
-- version's groups): a line found in enough documents of one group is page furniture, left
-- out of the index (never out of the store); see cleaning.FurnitureRule.
CREATE TABLE IF NOT EXISTS version_lines (
    version_id TEXT NOT NULL, source_group TEXT NOT NULL, line TEXT NOT NULL,
    PRIMARY KEY (version_id, source_group, line));
CREATE INDEX IF NOT EXISTS version_lines_group ON version_lines(source_group, line);
CREATE TABLE IF NOT EXISTS version_groups (
    version_id TEXT NOT NULL, source_group TEXT NOT NULL, PRIMARY KEY (version_id, source_group));
CREATE INDEX IF NOT EXISTS version_groups_group ON version_groups(source_group);
CREATE TABLE IF NOT EXISTS pending (doc_id TEXT PRIMARY KEY);
-- Text reuse (indexer/reuse.py): the versions fingerprinted (every document's latest), their
-- winnowed fingerprints as an inverted table (`pos`: the character offset of the shingle's
-- first word in the section), and the passages shared by two of them, stored
-- once with version_a < version_b (character spans in the sections' text, end exclusive).
CREATE TABLE IF NOT EXISTS reuse_versions (version_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS reuse_prints (
    hash INTEGER NOT NULL, version_id TEXT NOT NULL, ordinal INTEGER NOT NULL, pos INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS reuse_prints_hash ON reuse_prints(hash);
CREATE INDEX IF NOT EXISTS reuse_prints_version ON reuse_prints(version_id);
CREATE TABLE IF NOT EXISTS reuse_links (
    version_a TEXT NOT NULL, ordinal_a INTEGER NOT NULL, start_a INTEGER NOT NULL, end_a INTEGER NOT NULL,
    version_b TEXT NOT NULL, ordinal_b INTEGER NOT NULL, start_b INTEGER NOT NULL, end_b INTEGER NOT NULL,
    words INTEGER NOT NULL, similarity REAL NOT NULL,
    PRIMARY KEY (version_a, ordinal_a, start_a, version_b, ordinal_b, start_b));
CREATE INDEX IF NOT EXISTS reuse_links_b ON reuse_links(version_b);
"""

Pair = tuple[str, str]  # (source group, line)


class Store:
    """SQLite document store at `<index_dir>/store.sqlite3`."""

    def __init__(self, index_dir: str | Path, create: bool = False) -> None:
        self.index_dir = Path(index_dir)
        self.path = self.index_dir / "store.sqlite3"
        if not self.path.exists() and not create:
            raise FileNotFoundError(f"no index in {index_dir} (run `palimpsest index` first)")
        if create:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                self._create()
        # Used by one thread at a time; the web app may close it from another thread at shutdown.
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        if create:
            self.db.executescript(_DDL)
            self.db.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(STORE_SCHEMA_VERSION),)
            )
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.OperationalError:  # a file with no tables: a store that was never made
            self.db.close()
            raise FileNotFoundError(f"no index in {index_dir} (run `palimpsest index` first)") from None
        found = int(row[0]) if row else 0
        if found != STORE_SCHEMA_VERSION:
            raise SchemaMismatchError(str(index_dir), found, STORE_SCHEMA_VERSION)

    def _create(self) -> None:
        """Make a new store with its tables under another name, then rename it into place: a run
        killed while making it leaves no store, never a file without tables."""
        tmp = self.path.with_name(self.path.name + ".new")
        for leftover in (tmp, *(tmp.with_name(tmp.name + end) for end in ("-journal", "-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
        db = sqlite3.connect(tmp, isolation_level=None)
        try:
            db.executescript("BEGIN;" + _DDL + "COMMIT;")
            db.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?)", (str(STORE_SCHEMA_VERSION),))
        finally:
            db.close()
        os.replace(tmp, self.path)
        fd = os.open(self.index_dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: everything or nothing reaches the disk."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            # Readers cache derived data (facet tables) per generation.
            self.db.execute(
                "INSERT INTO meta(key, value) VALUES ('generation', '1') "
                "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
            )
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- runs ---------------------------------------------------------------------------
    def start_run(self) -> int:
        cur = self.db.execute("INSERT INTO runs(started, status) VALUES (?, 'running')", (time.time(),))
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, report: dict[str, Any], status: str = "done") -> None:
        self.db.execute(
            "UPDATE runs SET finished=?, status=?, report=? WHERE run_id=?",
            (time.time(), status, json.dumps(report), run_id),
        )

    def mark_recovered(self) -> None:
        self.db.execute("UPDATE runs SET status='recovered' WHERE status='running'")

    def runs(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM runs ORDER BY run_id")]

    # -- files --------------------------------------------------------------------------
    def file_hashes(self, paths: Iterable[str] | None = None) -> dict[str, str]:
        """path -> content hash of every stored file, or of those of `paths` that are stored."""
        if paths is None:
            return {r["path"]: r["content_hash"] for r in self.db.execute("SELECT path, content_hash FROM files")}
        return {r[0]: r[1] for r in self._rows_in("SELECT path, content_hash FROM files WHERE path IN ({})", paths)}

    def _rows_in(self, sql: str, values: Iterable[str], size: int = 500) -> Iterator[sqlite3.Row]:
        """The rows of `sql` whose `IN ({})` takes these values (each once), `size` per query."""
        distinct = sorted(set(values))
        for start in range(0, len(distinct), size):
            chunk = distinct[start : start + size]
            yield from self.db.execute(sql.format(",".join("?" * len(chunk))), chunk)

    # -- reads --------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        q = self.db.execute
        return {
            "documents": q("SELECT COUNT(*) FROM documents").fetchone()[0],
            "versions": q("SELECT COUNT(*) FROM versions").fetchone()[0],
            "sections": q("SELECT COUNT(*) FROM sections").fetchone()[0],
            "files": q("SELECT COUNT(*) FROM files").fetchone()[0],
        }

    def breakdown(self, column: str) -> dict[str, int]:
        """Documents per value of `doc_type` or `language`, most frequent first."""
        if column not in ("doc_type", "language"):
            raise ValueError(column)
        rows = self.db.execute(f"SELECT {column}, COUNT(*) FROM documents GROUP BY {column} ORDER BY 2 DESC, 1")
        return {r[0]: r[1] for r in rows}

    def dedup_signatures(self) -> Iterator[tuple[str, str, str | None, bytes]]:
        """(version_id, doc_id, lineage_key, MinHash signature bytes) of every stored version,
        read lazily from a cursor (texts are fetched only for candidates)."""
        for r in self.db.execute("SELECT version_id, doc_id, lineage_key, signature FROM versions"):
            yield r[0], r[1], r[2], bytes(r[3])

    def dedup_lineage(self, keys: Iterable[str]) -> list[tuple[str, str, str | None, bytes]]:
        """The rows of `dedup_signatures` of the versions with one of these lineage keys."""
        sql = "SELECT version_id, doc_id, lineage_key, signature FROM versions WHERE lineage_key IN ({})"
        return [(r[0], r[1], r[2], bytes(r[3])) for r in self._rows_in(sql, keys)]

    def version_docs(self, version_ids: Iterable[str]) -> dict[str, str]:
        """version_id -> doc_id of those of these versions that are stored."""
        return {
            r[0]: r[1]
            for r in self._rows_in("SELECT version_id, doc_id FROM versions WHERE version_id IN ({})", version_ids)
        }

    def normalized_text(self, version_id: str) -> str:
        row = self.db.execute("SELECT normalized_text FROM versions WHERE version_id=?", (version_id,)).fetchone()
        return str(row[0]) if row else ""

    def versions_of(self, doc_id: str) -> list[Version]:
        """A document's distinct versions, oldest first (the latest entry's version last), without
        their sections and files."""
        rows = self.db.execute("SELECT * FROM versions WHERE doc_id=? ORDER BY rank", (doc_id,))
        return [self._version(r, (), ()) for r in rows]

    def documents(self) -> list[dict[str, Any]]:
        """Every document (doc_id, title, doc_type, language, latest_version_id, version_count)
        with the number of files that carry it (`file_count`), ordered by title."""
        rows = self.db.execute(
            """SELECT d.*, (SELECT COUNT(DISTINCT vs.path) FROM version_sources vs
                            JOIN versions v ON v.version_id = vs.version_id WHERE v.doc_id = d.doc_id) AS file_count
               FROM documents d ORDER BY d.title COLLATE NOCASE, d.doc_id"""
        )
        return [dict(r) for r in rows]

    def resolve_doc_id(self, doc_id: str) -> str:
        """The current id of a document, given its id or an id it had before (an alias)."""
        if self.db.execute("SELECT 1 FROM documents WHERE doc_id=?", (doc_id,)).fetchone():
            return doc_id
        row = self.db.execute("SELECT doc_id FROM doc_aliases WHERE alias=?", (doc_id,)).fetchone()
        if row and self.db.execute("SELECT 1 FROM documents WHERE doc_id=?", (row[0],)).fetchone():
            return str(row[0])
        raise DocumentNotFound(doc_id)

    def document_row(self, doc_id: str) -> sqlite3.Row:
        row = self.db.execute("SELECT * FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        if row is None:
            raise DocumentNotFound(doc_id)
        return row

    def sources_of(self, version_id: str) -> list[SourceFile]:
        """The files that carry a version's text (a file once, however many revisions it holds)."""
        rows = self.db.execute(
            """SELECT path, content_hash, MIN(media_type) AS media_type, MIN(size) AS size, MIN(mtime) AS mtime
               FROM version_sources WHERE version_id=? GROUP BY path, content_hash ORDER BY path, content_hash""",
            (version_id,),
        )
        return [SourceFile(r["path"], r["media_type"], r["size"], r["mtime"], r["content_hash"]) for r in rows]

    def sections_of(self, version_id: str) -> list[Section]:
        rows = self.db.execute("SELECT * FROM sections WHERE version_id=? ORDER BY ordinal", (version_id,))
        return [
            Section(
                version_id=r["version_id"],
                ordinal=r["ordinal"],
                level=r["level"],
                heading=r["heading"],
                breadcrumb=r["breadcrumb"],
                anchor=r["anchor"],
                text=r["text"],
                language=r["language"],
                auxiliary=bool(r["auxiliary"]),
                dates=tuple(DateMention(**d) for d in json.loads(r["dates"])),
            )
            for r in rows
        ]

    def version(self, version_id: str) -> Version:
        """A stored version with its sections and sources."""
        r = self.db.execute("SELECT * FROM versions WHERE version_id=?", (version_id,)).fetchone()
        if r is None:
            raise DocumentNotFound("?", version_id)
        return self._version(r, tuple(self.sections_of(version_id)), tuple(self.sources_of(version_id)))

    @staticmethod
    def _version(r: sqlite3.Row, sections: tuple[Section, ...], files: tuple[SourceFile, ...]) -> Version:
        """A `versions` row as the data model's Version (the one place rows become versions)."""
        return Version(
            version_id=r["version_id"], title=r["title"], doc_type=r["doc_type"], language=r["language"],
            sections=sections, files=files, infobox=json.loads(r["infobox"]),
            authors=tuple(json.loads(r["authors"])), dates=tuple(json.loads(r["dates"])), timestamp=r["timestamp"],
            lineage_key=r["lineage_key"], site=r["site"], normalized_text=r["normalized_text"],
            categories=tuple(json.loads(r["categories"])),
        )  # fmt: skip

    def doc_of_version(self, version_id: str) -> str:
        r = self.db.execute("SELECT doc_id FROM versions WHERE version_id=?", (version_id,)).fetchone()
        if r is None:
            raise DocumentNotFound("?", version_id)
        return str(r[0])

    def versions_of_path(self, path: str) -> list[str]:
        rows = self.db.execute("SELECT DISTINCT version_id FROM version_sources WHERE path=?", (path,))
        return [r[0] for r in rows]

    def timeline(self, doc_id: str) -> list[TimelineEntry]:
        """Every revision and saved copy of a document, in time order (see dedup.timeline)."""
        rows = self.db.execute(
            """SELECT vs.version_id, vs.path, vs.revision, vs.own_date, vs.run_id, vs.seq
               FROM version_sources vs JOIN versions v USING (version_id) WHERE v.doc_id=?""",
            (doc_id,),
        )
        return dedup.timeline(Occurrence(*r) for r in rows)

    def generation(self) -> int:
        """Bumped by every write transaction."""
        row = self.db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def meta_value(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta_value(self, key: str, value: str) -> None:
        """Inside a transaction."""
        self.db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def texts_in_version_order(self) -> Iterator[tuple[str, str]]:
        """(version_id, text) of every non-auxiliary section, by version id then position; read
        lazily, so a caller that stops early reads no more."""
        yield from self.db.execute(
            "SELECT version_id, text FROM sections WHERE auxiliary = 0 ORDER BY version_id, ordinal"
        )

    def sentence_work(self, missing_only: bool) -> Iterator[tuple[str, int, str]]:
        """(version_id, ordinal, text) of the sections whose sentences are to be found: those
        without any (`missing_only`), or all of them."""
        where = "WHERE sentences IS NULL" if missing_only else ""
        yield from self.db.execute(
            f"SELECT version_id, ordinal, text FROM sections {where} ORDER BY version_id, ordinal"
        )

    def sentence_page(
        self,
        missing_only: bool,
        after: tuple[str, int] | None,
        limit: int,
        found_only: bool = False,
        upto: tuple[str, int] | None = None,
    ) -> list[tuple[str, int, str]]:
        """The rows of `sentence_work` that come after `after` (a (version_id, ordinal)), and
        not after `upto`, at most `limit` of them, read at once: the caller may write between two
        pages. `found_only`: only sections whose sentences were found already."""
        where = ["sentences IS NULL"] if missing_only else ["sentences IS NOT NULL"] if found_only else []
        args: list[Any] = []
        if after is not None:
            where.append("(version_id, ordinal) > (?, ?)")
            args += after
        if upto is not None:
            where.append("(version_id, ordinal) <= (?, ?)")
            args += upto
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self.db.execute(
            f"SELECT version_id, ordinal, text FROM sections {clause} ORDER BY version_id, ordinal LIMIT ?",
            (*args, limit),
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def sections_without_sentences(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM sections WHERE sentences IS NULL").fetchone()[0])

    def set_sentences(self, rows: Iterable[tuple[str, int, bytes]]) -> None:
        """Inside a transaction."""
        self.db.executemany(
            "UPDATE sections SET sentences = ? WHERE version_id = ? AND ordinal = ?",
            ((blob, vid, ordinal) for vid, ordinal, blob in rows),
        )

    def section_sentences(self, record_ids: Iterable[str]) -> dict[str, bytes | None]:
        """The packed sentence offsets of some section records (None: not found yet)."""
        out: dict[str, bytes | None] = {}
        for rid in record_ids:
            vid, _, ordinal = rid.rpartition(":")
            row = self.db.execute(
                "SELECT sentences FROM sections WHERE version_id=? AND ordinal=?", (vid, int(ordinal))
            ).fetchone()
            if row:
                out[rid] = None if row[0] is None else bytes(row[0])
        return out

    def stream_search_rows(self) -> tuple[Generator[SectionRow, None, None], int]:
        """One row per section of every version, with what facets and results need (no text),
        read from a cursor one at a time (nothing kept of the rows already read), with their
        number."""
        own = not self.db.in_transaction
        if own:
            # One read transaction: an index run committing between the count and the rows
            # (a search rebuilding its table meanwhile) must not change what is counted.
            self.db.execute("BEGIN")
        try:
            (count,) = self.db.execute(
                "SELECT COUNT(*) FROM sections s JOIN versions v USING (version_id) JOIN documents d USING (doc_id)"
            ).fetchone()
        except BaseException:
            if own:
                self.db.execute("ROLLBACK")
            raise
        return self._rows_then_end(self._section_rows("", ()), own), int(count)

    def _rows_then_end(self, rows: Iterator[SectionRow], own: bool) -> Generator[SectionRow, None, None]:
        """`rows`, then the end of the read transaction they were read in (when it is ours)."""
        try:
            yield from rows
        finally:
            if own:
                try:
                    if self.db.in_transaction:
                        self.db.execute("COMMIT")
                except sqlite3.ProgrammingError:  # the store was closed first: its transaction with it
                    pass

    def section_rows(self, doc_id: str) -> list[SectionRow]:
        """The sections of every version of one document, with their text (for the index)."""
        return list(self._section_rows("WHERE v.doc_id=?", (doc_id,), with_text=True))

    def _section_rows(self, where: str, args: tuple[Any, ...], with_text: bool = False) -> Iterator[SectionRow]:
        """The rows, ordered by document, version rank and section, read lazily from a cursor."""
        text = ", s.text" if with_text else ""
        rows = self.db.execute(
            f"""SELECT s.version_id, s.ordinal, s.heading, s.breadcrumb, s.anchor, s.language, s.auxiliary,
                       s.dates, v.doc_id, v.doc_type, v.sources, v.infobox, v.categories, v.rank, v.entries,
                       v.title, d.latest_version_id, d.version_count, d.title AS doc_title{text}
                FROM sections s JOIN versions v USING (version_id) JOIN documents d USING (doc_id)
                {where} ORDER BY v.doc_id, v.rank, s.ordinal""",
            args,
        )
        # Versions repeat their fields on each of their sections, which come together: parse
        # the current version's once.
        current: str | None = None
        parsed: tuple[Any, ...] = ()
        for r in rows:
            vid = r["version_id"]
            if vid != current:
                current = vid
                parsed = (
                    tuple(json.loads(r["sources"])), json.loads(r["infobox"]),
                    tuple(json.loads(r["categories"])), tuple(json.loads(r["entries"])) or (r["rank"] + 1,),
                )  # fmt: skip
            sources, infobox, categories, entries = parsed
            yield SectionRow(
                version_id=vid, ordinal=r["ordinal"], doc_id=r["doc_id"], heading=r["heading"],
                breadcrumb=r["breadcrumb"], anchor=r["anchor"], language=r["language"],
                auxiliary=bool(r["auxiliary"]), dates=tuple(DateMention(**d) for d in json.loads(r["dates"])),
                doc_type=r["doc_type"], sources=sources, infobox=infobox, categories=categories,
                rank=r["rank"], entries=entries, title=r["title"] or r["doc_title"], doc_title=r["doc_title"],
                latest_version_id=r["latest_version_id"], version_count=r["version_count"],
                text=r["text"] if with_text else "",
            )  # fmt: skip

    def section_texts(self, record_ids: Iterable[str], with_infobox: bool = False) -> dict[str, str]:
        """Texts of some section records (`version_id:ordinal`). With `with_infobox`, a version's
        first section ends with its infobox as `Key: value` lines, as the index holds them."""
        out: dict[str, str] = {}
        for rid in record_ids:
            vid, _, ordinal = rid.rpartition(":")
            row = self.db.execute(
                "SELECT text FROM sections WHERE version_id=? AND ordinal=?", (vid, int(ordinal))
            ).fetchone()
            if row:
                out[rid] = str(row[0])
                if with_infobox and int(ordinal) == 0:
                    box = self.db.execute("SELECT infobox FROM versions WHERE version_id=?", (vid,)).fetchone()
                    fields = json.loads(box[0]) if box else {}
                    lines = [f"{k}: {v.get('text', '')}" for k, v in fields.items()]
                    out[rid] = "\n".join([out[rid], *lines]) if lines else out[rid]
        return out

    def pending(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT doc_id FROM pending ORDER BY doc_id")]

    def doc_ids(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT doc_id FROM documents ORDER BY doc_id")]

    def record_ids(self) -> set[str]:
        """Ids of the sections the index holds: all but empty headings over sub-sections (writer.py)."""
        rows = self.db.execute(
            "SELECT version_id || ':' || ordinal FROM sections WHERE ordinal = 0 OR trim(text) != ''"
        )
        return {r[0] for r in rows}

    def members(self, doc_id: str) -> list[tuple[str, str | None]]:
        """(version_id, lineage_key) of a document's versions."""
        rows = self.db.execute("SELECT version_id, lineage_key FROM versions WHERE doc_id=?", (doc_id,))
        return [(r[0], r[1]) for r in rows]

    # -- page furniture ----------------------------------------------------------------
    def furniture_thresholds(self, rule: FurnitureRule) -> dict[str, int]:
        """For every source group: how many of its documents must share a line for it to be furniture."""
        rows = self.db.execute(
            """SELECT vg.source_group, COUNT(DISTINCT v.doc_id) FROM version_groups vg
               JOIN versions v USING (version_id) GROUP BY vg.source_group"""
        )
        return {r[0]: rule.threshold(int(r[1])) for r in rows}

    def groups_of_docs(self, doc_ids: Iterable[str]) -> set[str]:
        """The source groups of every web-derived version of some documents."""
        out: set[str] = set()
        for doc_id in doc_ids:
            out.update(
                r[0]
                for r in self.db.execute(
                    "SELECT DISTINCT vg.source_group FROM version_groups vg JOIN versions v USING (version_id) "
                    "WHERE v.doc_id=?",
                    (doc_id,),
                )
            )
        return out

    def group_furniture(self, groups: Iterable[str], thresholds: dict[str, int]) -> set[Pair]:
        """The (group, line) pairs that are furniture in some source groups."""
        out: set[Pair] = set()
        for group in sorted(set(groups)):
            if group not in thresholds:
                continue
            rows = self.db.execute(
                """SELECT vl.line FROM version_lines vl JOIN versions v USING (version_id)
                   WHERE vl.source_group=? GROUP BY vl.line HAVING COUNT(DISTINCT v.doc_id) >= ?""",
                (group, thresholds[group]),
            )
            out.update((group, r[0]) for r in rows)
        return out

    def docs_with_lines(self, pairs: Iterable[Pair]) -> set[str]:
        """Documents having any of these (group, line) pairs."""
        out: set[str] = set()
        for group, line in pairs:
            out.update(
                r[0]
                for r in self.db.execute(
                    """SELECT DISTINCT v.doc_id FROM version_lines vl JOIN versions v USING (version_id)
                       WHERE vl.source_group=? AND vl.line=?""",
                    (group, line),
                )
            )
        return out

    def furniture_lines(self, version_id: str, thresholds: dict[str, int]) -> set[str]:
        """A version's lines that are page furniture in one of its source groups."""
        rows = self.db.execute(
            """SELECT vl.source_group, vl.line,
                 (SELECT COUNT(DISTINCT v.doc_id) FROM version_lines o JOIN versions v USING (version_id)
                  WHERE o.source_group = vl.source_group AND o.line = vl.line)
               FROM version_lines vl WHERE vl.version_id=?""",
            (version_id,),
        )
        return {r[1] for r in rows if r[0] in thresholds and r[2] >= thresholds[r[0]]}

    # -- writes (inside `transaction()`) ------------------------------------------------
    def add_version(self, v: Version, doc_id: str, signature: np.ndarray, labels: Iterable[str]) -> None:
        """A new version with its sections."""
        self.db.execute(
            """INSERT INTO versions(version_id, doc_id, rank, title, doc_type, language, timestamp, own_date,
               authors, dates, infobox, categories, lineage_key, site, sources, normalized_text, signature)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            (v.version_id, doc_id, 0, v.title, v.doc_type, v.language, v.timestamp, v.own_date(),
             json.dumps(list(v.authors)), json.dumps(list(v.dates)), json.dumps(v.infobox),
             json.dumps(list(v.categories)), v.lineage_key, v.site, json.dumps(sorted(set(labels))),
             v.normalized_text, dedup.signature_bytes(signature)),
        )  # fmt: skip
        self.db.executemany(
            """INSERT INTO sections(version_id, ordinal, level, heading, breadcrumb, anchor, text, language,
               auxiliary, dates) VALUES (?,?,?,?,?,?,?,?,?,?)""",
            [(s.version_id, s.ordinal, s.level, s.heading, s.breadcrumb, s.anchor, s.text, s.language,
              int(s.auxiliary), json.dumps([d.__dict__ for d in s.dates])) for s in v.sections],
        )  # fmt: skip

    def move_version(self, version_id: str, doc_id: str) -> None:
        self.db.execute("UPDATE versions SET doc_id=? WHERE version_id=?", (doc_id, version_id))

    def add_alias(self, old: str, new: str) -> None:
        """`old` now names document `new` (aliases of `old` follow; `new` is no longer an alias)."""
        self.db.execute("UPDATE doc_aliases SET doc_id=? WHERE doc_id=?", (new, old))
        self.db.execute("INSERT OR REPLACE INTO doc_aliases(alias, doc_id) VALUES (?, ?)", (old, new))
        self.db.execute("DELETE FROM doc_aliases WHERE alias=?", (new,))

    def rename_document(self, old: str, new: str) -> None:
        """Give a document's versions a new id; the old one becomes an alias."""
        self.db.execute("UPDATE versions SET doc_id=? WHERE doc_id=?", (new, old))
        self.add_alias(old, new)

    def add_source_label(self, version_id: str, label: str) -> bool:
        """Add a source label to a stored version; True when it is new."""
        row = self.db.execute("SELECT sources FROM versions WHERE version_id=?", (version_id,)).fetchone()
        labels = set(json.loads(row[0])) if row else set()
        if label in labels:
            return False
        labels.add(label)
        self.db.execute("UPDATE versions SET sources=? WHERE version_id=?", (json.dumps(sorted(labels)), version_id))
        return True

    def add_occurrence(
        self, version_id: str, source: SourceFile, revision: str, own_date: str | None, run_id: int, seq: int
    ) -> None:
        """One place the version's text was found; a place already known keeps its first sighting."""
        self.db.execute(
            """INSERT INTO version_sources(version_id, path, content_hash, revision, media_type, size, mtime,
               own_date, current, run_id, seq) VALUES (?,?,?,?,?,?,?,?,1,?,?)
               ON CONFLICT(version_id, path, content_hash, revision) DO UPDATE SET current=1""",
            (version_id, source.path, source.content_hash, revision, source.media_type, source.size,
             source.mtime, own_date, run_id, seq),
        )  # fmt: skip

    def record_file(self, source: SourceFile, run_id: int) -> None:
        """A file read in this run: its earlier contents are no longer current."""
        self.db.execute(
            "UPDATE version_sources SET current=0 WHERE path=? AND content_hash<>?", (source.path, source.content_hash)
        )
        self.db.execute(
            "INSERT OR REPLACE INTO files(path, content_hash, size, mtime, media_type, run_id) VALUES (?,?,?,?,?,?)",
            (source.path, source.content_hash, source.size, source.mtime, source.media_type, run_id),
        )

    def add_version_lines(self, version_id: str, group: str, lines: Iterable[str]) -> None:
        """A web-derived version's membership of a source group, with its short lines."""
        self.db.execute(
            "INSERT OR IGNORE INTO version_groups(version_id, source_group) VALUES (?,?)", (version_id, group)
        )
        self.db.executemany(
            "INSERT OR IGNORE INTO version_lines(version_id, source_group, line) VALUES (?,?,?)",
            [(version_id, group, line) for line in sorted(set(lines))],
        )

    def mark_pending(self, doc_ids: Iterable[str]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO pending(doc_id) VALUES (?)", [(d,) for d in sorted(doc_ids)])

    def clear_pending(self, doc_ids: Iterable[str]) -> None:
        self.db.executemany("DELETE FROM pending WHERE doc_id=?", [(d,) for d in doc_ids])

    def remove_file(self, path: str) -> tuple[set[str], set[str]]:
        """Forget a file: (documents it touched, versions removed because no source is left)."""
        vids = [r[0] for r in self.db.execute("SELECT DISTINCT version_id FROM version_sources WHERE path=?", (path,))]
        self.db.execute("DELETE FROM version_sources WHERE path=?", (path,))
        self.db.execute("DELETE FROM files WHERE path=?", (path,))
        touched: set[str] = set()
        removed: set[str] = set()
        for vid in vids:
            doc = self.db.execute("SELECT doc_id FROM versions WHERE version_id=?", (vid,)).fetchone()
            if doc:
                touched.add(doc[0])
            if not self.db.execute("SELECT 1 FROM version_sources WHERE version_id=?", (vid,)).fetchone():
                for table in ("versions", "sections", "version_lines", "version_groups"):
                    self.db.execute(f"DELETE FROM {table} WHERE version_id=?", (vid,))
                removed.add(vid)
        return touched, removed

    def refresh_document(self, doc_id: str) -> None:
        """Re-derive a document's timeline, version order, titles and summary row from its versions."""
        rows = list(self.db.execute("SELECT * FROM versions WHERE doc_id=?", (doc_id,)))
        if not rows:
            self.db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
            return
        entries = self.timeline(doc_id)
        order = dedup.version_order(entries)
        by_id = {r["version_id"]: r for r in rows}
        # A version with no source left cannot be here (remove_file deletes it), but a version
        # stored without any occurrence would be invisible: place it first rather than lose it.
        order = [v for v in sorted(by_id) if v not in order] + order
        numbers: dict[str, list[int]] = {}
        for e in entries:
            numbers.setdefault(e.version_id, []).append(e.number)
        titled = [(i, by_id[v]) for i, v in enumerate(order) if by_id[v]["title"] and not by_id[v]["title_inherited"]]
        for i, vid in enumerate(order):
            row = by_id[vid]
            if row["title"] and not row["title_inherited"]:
                self.db.execute(
                    "UPDATE versions SET rank=?, entries=? WHERE version_id=?",
                    (i, json.dumps(numbers.get(vid, [])), vid),
                )
                continue
            # A version without a title of its own takes its document's: the nearest titled version.
            inherited = min(titled, key=lambda t: (abs(t[0] - i), -t[0]))[1]["title"] if titled else None
            self.db.execute(
                "UPDATE versions SET rank=?, entries=?, title=?, title_inherited=? WHERE version_id=?",
                (i, json.dumps(numbers.get(vid, [])), inherited, 1 if inherited else 0, vid),
            )
        latest = by_id[order[-1]]
        title = (
            latest["title"]
            if latest["title"] and not latest["title_inherited"]
            else (titled[-1][1]["title"] if titled else None)
        )
        if not title:
            # Nothing has a title: name the document after its first file.
            first = self.db.execute(
                "SELECT path FROM version_sources WHERE version_id=? ORDER BY path LIMIT 1", (order[-1],)
            ).fetchone()
            title = Path(first[0]).stem if first else "untitled"
        self.db.execute(
            """INSERT OR REPLACE INTO documents(doc_id, title, doc_type, language, latest_version_id, version_count)
               VALUES (?,?,?,?,?,?)""",
            (doc_id, title, latest["doc_type"], latest["language"], order[-1], max(len(entries), len(order))),
        )
        # An id in use is nobody's alias.
        self.db.execute("DELETE FROM doc_aliases WHERE alias=?", (doc_id,))

    # -- text reuse (indexer/reuse.py) --------------------------------------------------
    def latest_versions(self) -> dict[str, str]:
        """version_id -> doc_id of every document's latest version."""
        return {r[0]: r[1] for r in self.db.execute("SELECT latest_version_id, doc_id FROM documents")}

    def reuse_versions(self) -> set[str]:
        """The versions whose fingerprints are stored."""
        return {r[0] for r in self.db.execute("SELECT version_id FROM reuse_versions")}

    def reuse_sections(self, version_id: str) -> list[tuple[int, str, str]]:
        """(ordinal, text, language) of a version's sections that reuse is looked for in (not
        reference lists and other auxiliary sections)."""
        rows = self.db.execute(
            "SELECT ordinal, text, language FROM sections WHERE version_id=? AND auxiliary=0 ORDER BY ordinal",
            (version_id,),
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def forget_reuse(self, version_ids: Iterable[str]) -> None:
        """Drop some versions' fingerprints and every link they have (inside a transaction)."""
        for vid in sorted(set(version_ids)):
            self.db.execute("DELETE FROM reuse_prints WHERE version_id=?", (vid,))
            self.db.execute("DELETE FROM reuse_links WHERE version_a=? OR version_b=?", (vid, vid))
            self.db.execute("DELETE FROM reuse_versions WHERE version_id=?", (vid,))

    def add_reuse_prints(self, version_id: str, prints: Iterable[tuple[int, int, int]]) -> None:
        """A version's fingerprints as (hash, ordinal, character offset) (inside a transaction)."""
        self.db.execute("INSERT OR IGNORE INTO reuse_versions(version_id) VALUES (?)", (version_id,))
        self.db.executemany(
            "INSERT INTO reuse_prints(hash, version_id, ordinal, pos) VALUES (?,?,?,?)",
            ((h, version_id, o, p) for h, o, p in prints),
        )

    def shared_prints(self, version_id: str, max_places: int) -> list[tuple[str, int, int, int, int, int]]:
        """(other version, ordinal, offset, other ordinal, other offset, places) of every
        fingerprint a version shares with another one, with the number of places that hold it;
        fingerprints stored in more than `max_places` places are left out (stock passages)."""
        rows = self.db.execute(
            """SELECT b.version_id, a.ordinal, a.pos, b.ordinal, b.pos, {places}
               FROM reuse_prints a JOIN reuse_prints b ON b.hash = a.hash AND b.version_id <> a.version_id
               WHERE a.version_id = ?1 AND {places} <= ?2
               ORDER BY 1, 2, 3, 4, 5""".format(places=self._PLACES.format(h="a.hash")),
            (version_id, max_places),
        )
        return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]

    # How many places hold a fingerprint, counted no further than the cap (?2) plus one: a
    # fingerprint of a boilerplate line in every file costs no more to count than a rare one.
    _PLACES = "(SELECT COUNT(*) FROM (SELECT 1 FROM reuse_prints c WHERE c.hash = {h} LIMIT ?2 + 1))"

    def crossed_prints(self, version_id: str, max_places: int) -> set[int]:
        """The fingerprints of a version stored in more than `max_places` places."""
        rows = self.db.execute(
            f"SELECT DISTINCT p.hash FROM reuse_prints p WHERE p.version_id = ?1 AND {self._PLACES.format(h='p.hash')} > ?2",
            (version_id, max_places),
        )
        return {r[0] for r in rows}

    def versions_with_prints(self, hashes: Iterable[int]) -> set[str]:
        """The versions holding any of these fingerprints."""
        out: set[str] = set()
        for h in sorted(set(hashes)):
            out.update(r[0] for r in self.db.execute("SELECT DISTINCT version_id FROM reuse_prints WHERE hash=?", (h,)))
        return out

    def links_of(self, version_ids: Iterable[str]) -> list[tuple[Any, ...]]:
        """The links (version_a, ordinal_a, start_a, end_a, version_b, ordinal_b, start_b) of
        some versions, each once."""
        out: set[tuple[Any, ...]] = set()
        for vid in sorted(set(version_ids)):
            out.update(
                tuple(r)
                for r in self.db.execute(
                    """SELECT version_a, ordinal_a, start_a, end_a, version_b, ordinal_b, start_b FROM reuse_links
                       WHERE version_a = ?1 OR version_b = ?1""",
                    (vid,),
                )
            )
        return sorted(out)

    def prints_in(self, version_id: str, ordinal: int, start: int, end: int) -> list[int]:
        """The fingerprints of a version's section that start in [start, end)."""
        rows = self.db.execute(
            "SELECT hash FROM reuse_prints WHERE version_id=? AND ordinal=? AND pos>=? AND pos<? ORDER BY pos",
            (version_id, ordinal, start, end),
        )
        return [r[0] for r in rows]

    def has_print(self, version_id: str, hash_: int) -> bool:
        return (
            self.db.execute(
                "SELECT 1 FROM reuse_prints WHERE hash=? AND version_id=? LIMIT 1", (hash_, version_id)
            ).fetchone()
            is not None
        )

    def places(self, hash_: int, max_places: int) -> int:
        """In how many places a fingerprint is stored, counted up to `max_places` + 1."""
        return int(self.db.execute(f"SELECT {self._PLACES.format(h='?1')}", (hash_, max_places)).fetchone()[0])

    def remove_reuse_link(self, key: tuple[Any, ...]) -> None:
        self.db.execute(
            """DELETE FROM reuse_links WHERE version_a=? AND ordinal_a=? AND start_a=? AND version_b=?
               AND ordinal_b=? AND start_b=?""",
            (key[0], key[1], key[2], key[4], key[5], key[6]),
        )

    def add_reuse_links(self, version_a: str, version_b: str, passages: Iterable[Any]) -> None:
        """Passages (reuse.Passage) shared by two versions, `version_a` < `version_b`."""
        self.db.executemany(
            """INSERT OR REPLACE INTO reuse_links(version_a, ordinal_a, start_a, end_a, version_b, ordinal_b,
               start_b, end_b, words, similarity) VALUES (?,?,?,?,?,?,?,?,?,?)""",
            [(version_a, p.ordinal_a, p.start_a, p.end_a, version_b, p.ordinal_b, p.start_b, p.end_b, p.words,
              p.similarity) for p in passages],
        )  # fmt: skip

    def clear_reuse(self) -> None:
        """Forget every fingerprint and link (inside a transaction)."""
        for table in ("reuse_prints", "reuse_links", "reuse_versions"):
            self.db.execute(f"DELETE FROM {table}")

    def reuse_of(self, version_id: str) -> list[dict[str, Any]]:
        """Every passage a version shares with another document, seen from its side: its own
        section and span (`ordinal`, `start`, `end`) and the other side's (`other_*`), with the
        other version's document, title, section heading, breadcrumb, anchor and own date."""
        out: list[dict[str, Any]] = []
        for mine, theirs in (("a", "b"), ("b", "a")):
            rows = self.db.execute(
                f"""SELECT l.ordinal_{mine} AS ordinal, l.start_{mine} AS start, l.end_{mine} AS "end",
                       l.version_{theirs} AS other_version_id, l.ordinal_{theirs} AS other_ordinal,
                       l.start_{theirs} AS other_start, l.end_{theirs} AS other_end, l.words, l.similarity,
                       v.doc_id AS other_doc_id, d.title AS other_title, s.heading AS other_heading,
                       s.breadcrumb AS other_breadcrumb, s.anchor AS other_anchor, v.own_date AS other_date,
                       substr(s.text, l.start_{theirs} + 1, l.end_{theirs} - l.start_{theirs}) AS other_text
                    FROM reuse_links l JOIN versions v ON v.version_id = l.version_{theirs}
                    JOIN documents d ON d.doc_id = v.doc_id
                    JOIN sections s ON s.version_id = l.version_{theirs} AND s.ordinal = l.ordinal_{theirs}
                    WHERE l.version_{mine} = ?""",
                (version_id,),
            )
            out.extend(dict(r) for r in rows)
        return sorted(out, key=lambda r: (r["ordinal"], r["start"], r["other_doc_id"], r["other_ordinal"],
                                          r["other_start"]))  # fmt: skip

    def reuse_pairs(self) -> list[sqlite3.Row]:
        """Every pair of linked versions with their documents, titles, own dates, the number of
        passages and of shared words."""
        return list(
            self.db.execute(
                """SELECT va.doc_id AS doc_a, da.title AS title_a, va.own_date AS date_a,
                          vb.doc_id AS doc_b, db.title AS title_b, vb.own_date AS date_b,
                          COUNT(*) AS passages, SUM(l.words) AS words
                   FROM reuse_links l JOIN versions va ON va.version_id = l.version_a
                   JOIN documents da ON da.doc_id = va.doc_id
                   JOIN versions vb ON vb.version_id = l.version_b JOIN documents db ON db.doc_id = vb.doc_id
                   GROUP BY l.version_a, l.version_b ORDER BY l.version_a, l.version_b"""
            )
        )

    def reuse_partners(self, doc_id: str) -> set[str]:
        """The documents whose latest version shares a passage with this document's."""
        rows = self.db.execute(
            """SELECT v.doc_id FROM documents d JOIN reuse_links l ON d.latest_version_id IN (l.version_a, l.version_b)
               JOIN versions v ON v.version_id = CASE WHEN l.version_a = d.latest_version_id
                                                      THEN l.version_b ELSE l.version_a END
               WHERE d.doc_id = ?""",
            (doc_id,),
        )
        return {r[0] for r in rows}

    def reuse_counts(self) -> dict[str, int]:
        """How many versions are fingerprinted, fingerprints and passage links are stored."""
        q = self.db.execute
        return {
            "versions": q("SELECT COUNT(*) FROM reuse_versions").fetchone()[0],
            "fingerprints": q("SELECT COUNT(*) FROM reuse_prints").fetchone()[0],
            "links": q("SELECT COUNT(*) FROM reuse_links").fetchone()[0],
        }
