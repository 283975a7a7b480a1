"""The document store (SQLite): sources, documents, versions, sections, metadata, index runs.

The store is the source of truth; the Whoosh index is derived from it. A run writes the store
in one transaction and lists the documents whose index records must be rewritten in
`pending`; after the index commit, a second transaction clears `pending`. A run killed between
the two leaves both usable, and the next run finishes the pending documents first.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DocumentNotFound, SchemaMismatchError
from .models import DateMention, Section, SourceFile, Version
from .schema import SCHEMA_VERSION

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY, started REAL NOT NULL, finished REAL, status TEXT NOT NULL,
    report TEXT);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, content_hash TEXT NOT NULL, size INTEGER NOT NULL, mtime REAL NOT NULL,
    media_type TEXT NOT NULL, run_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS version_sources (
    version_id TEXT NOT NULL, path TEXT NOT NULL, content_hash TEXT NOT NULL,
    media_type TEXT NOT NULL, size INTEGER NOT NULL, mtime REAL NOT NULL,
    current INTEGER NOT NULL, run_id INTEGER NOT NULL,
    PRIMARY KEY (version_id, path, content_hash));
CREATE INDEX IF NOT EXISTS version_sources_path ON version_sources(path);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, doc_type TEXT NOT NULL, language TEXT NOT NULL,
    latest_version_id TEXT NOT NULL, versions INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    version_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, position INTEGER NOT NULL,
    title TEXT, title_inherited INTEGER NOT NULL DEFAULT 0, doc_type TEXT NOT NULL,
    language TEXT NOT NULL, timestamp TEXT, own_date TEXT, first_run INTEGER NOT NULL,
    first_seq INTEGER NOT NULL, authors TEXT NOT NULL, dates TEXT NOT NULL, infobox TEXT NOT NULL,
    lineage_key TEXT, site TEXT, source TEXT NOT NULL, normalized_text TEXT NOT NULL,
    signature BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS versions_doc ON versions(doc_id, position);
CREATE TABLE IF NOT EXISTS sections (
    version_id TEXT NOT NULL, ordinal INTEGER NOT NULL, level INTEGER NOT NULL,
    heading TEXT NOT NULL, breadcrumb TEXT NOT NULL, anchor TEXT NOT NULL, text TEXT NOT NULL,
    language TEXT NOT NULL, auxiliary INTEGER NOT NULL, dates TEXT NOT NULL,
    PRIMARY KEY (version_id, ordinal));
CREATE TABLE IF NOT EXISTS short_lines (
    source_group TEXT NOT NULL, line TEXT NOT NULL, path TEXT NOT NULL,
    PRIMARY KEY (source_group, line, path));
CREATE INDEX IF NOT EXISTS short_lines_path ON short_lines(path);
CREATE TABLE IF NOT EXISTS pending (doc_id TEXT PRIMARY KEY);
"""


class Store:
    """SQLite document store at `<index_dir>/store.sqlite3`."""

    def __init__(self, index_dir: str | Path, create: bool = False) -> None:
        self.index_dir = Path(index_dir)
        self.path = self.index_dir / "store.sqlite3"
        if not self.path.exists() and not create:
            raise FileNotFoundError(f"no index in {index_dir} (run `palimpsest index` first)")
        if create:
            self.index_dir.mkdir(parents=True, exist_ok=True)
        # Used by one thread at a time; the web app may close it from another thread at shutdown.
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        if create:
            self.db.executescript(_DDL)
            self.db.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        found = int(row[0]) if row else 0
        if found != SCHEMA_VERSION:
            raise SchemaMismatchError(str(index_dir), found, SCHEMA_VERSION)

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

    def next_run_id(self) -> int:
        row = self.db.execute("SELECT COALESCE(MAX(run_id), 0) + 1 FROM runs").fetchone()
        return int(row[0])

    def runs(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM runs ORDER BY run_id")]

    # -- files --------------------------------------------------------------------------
    def file_hashes(self) -> dict[str, str]:
        return {r["path"]: r["content_hash"] for r in self.db.execute("SELECT path, content_hash FROM files")}

    # -- reads --------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        q = self.db.execute
        return {
            "documents": q("SELECT COUNT(*) FROM documents").fetchone()[0],
            "versions": q("SELECT COUNT(*) FROM versions").fetchone()[0],
            "sections": q("SELECT COUNT(*) FROM sections").fetchone()[0],
            "files": q("SELECT COUNT(*) FROM files").fetchone()[0],
        }

    def dedup_rows(self) -> list[sqlite3.Row]:
        """Ids and MinHash signatures of every stored version (texts are fetched only for candidates)."""
        return list(self.db.execute("SELECT version_id, doc_id, lineage_key, signature FROM versions"))

    def normalized_text(self, version_id: str) -> str:
        row = self.db.execute("SELECT normalized_text FROM versions WHERE version_id=?", (version_id,)).fetchone()
        return str(row[0]) if row else ""

    def version_rows(self, doc_id: str) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM versions WHERE doc_id=? ORDER BY position", (doc_id,)))

    def documents(self) -> list[dict[str, Any]]:
        """Every document with its version and source counts, ordered by title."""
        rows = self.db.execute(
            """SELECT d.*, (SELECT COUNT(DISTINCT vs.path) FROM version_sources vs
                            JOIN versions v ON v.version_id = vs.version_id WHERE v.doc_id = d.doc_id) AS sources
               FROM documents d ORDER BY d.title COLLATE NOCASE, d.doc_id"""
        )
        return [dict(r) for r in rows]

    def document_row(self, doc_id: str) -> sqlite3.Row:
        row = self.db.execute("SELECT * FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        if row is None:
            raise DocumentNotFound(doc_id)
        return row

    def sources_of(self, version_id: str) -> list[SourceFile]:
        rows = self.db.execute(
            "SELECT * FROM version_sources WHERE version_id=? ORDER BY path, content_hash", (version_id,)
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
        return Version(
            version_id=r["version_id"], title=r["title"], doc_type=r["doc_type"], language=r["language"],
            sections=tuple(self.sections_of(version_id)), sources=tuple(self.sources_of(version_id)),
            infobox=json.loads(r["infobox"]), authors=tuple(json.loads(r["authors"])),
            dates=tuple(json.loads(r["dates"])), timestamp=r["timestamp"], lineage_key=r["lineage_key"],
            site=r["site"], normalized_text=r["normalized_text"],
        )  # fmt: skip

    def doc_of_version(self, version_id: str) -> str:
        r = self.db.execute("SELECT doc_id FROM versions WHERE version_id=?", (version_id,)).fetchone()
        if r is None:
            raise DocumentNotFound("?", version_id)
        return str(r[0])

    def versions_of_path(self, path: str) -> list[str]:
        rows = self.db.execute("SELECT DISTINCT version_id FROM version_sources WHERE path=?", (path,))
        return [r[0] for r in rows]

    def short_line_counts(self, group: str, lines: Iterable[str], exclude: set[str]) -> dict[str, int]:
        """How many other stored files of a source group contain each line (files in `exclude` not counted)."""
        out: dict[str, int] = {}
        for line in lines:
            rows = self.db.execute("SELECT path FROM short_lines WHERE source_group=? AND line=?", (group, line))
            n = sum(1 for r in rows if r[0] not in exclude)
            if n:
                out[line] = n
        return out

    def generation(self) -> int:
        """Bumped by every write transaction."""
        row = self.db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def search_rows(self) -> list[sqlite3.Row]:
        """One row per section of every version, with what facets and results need (no text)."""
        return list(
            self.db.execute(
                """SELECT s.version_id, s.ordinal, s.heading, s.breadcrumb, s.anchor, s.language,
                          s.auxiliary, s.dates, v.doc_id, v.doc_type, v.source, v.infobox, v.position,
                          v.title, d.latest_version_id, d.versions, d.title AS doc_title
                   FROM sections s JOIN versions v USING (version_id) JOIN documents d USING (doc_id)
                   ORDER BY v.doc_id, v.position, s.ordinal"""
            )
        )

    def section_texts(self, record_ids: Iterable[str]) -> dict[str, str]:
        """Texts of some section records (`version_id:ordinal`)."""
        out: dict[str, str] = {}
        for rid in record_ids:
            vid, _, ordinal = rid.rpartition(":")
            row = self.db.execute(
                "SELECT text FROM sections WHERE version_id=? AND ordinal=?", (vid, int(ordinal))
            ).fetchone()
            if row:
                out[rid] = str(row[0])
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


def signature_blob(sig: np.ndarray) -> bytes:
    return sig.astype("<u8").tobytes()


def signature_from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u8").astype(np.uint64)
