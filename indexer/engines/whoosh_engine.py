"""Whoosh 2.7.4 behind the Engine interface."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import IndexLockedError, QueryError, SchemaMismatchError
from ..schema import SCHEMA_VERSION, build_schema
from .base import Hit

with warnings.catch_warnings():
    # Whoosh 2.7.4 has invalid escape sequences in old regex literals; the warning fires only
    # when its modules are first compiled and means nothing at run time.
    warnings.filterwarnings("ignore", category=SyntaxWarning, message=r"invalid escape sequence")
    from whoosh import index as whoosh_index
    from whoosh import qparser, query, scoring
    from whoosh.index import LockError

INDEX_NAME = "sections"
_VERSION_FILE = "schema_version"
SEARCH_FIELDS = ("title", "heading", "breadcrumb", "text", "infobox")


class WhooshBatch:
    """One Whoosh writer; the only code that calls it is indexer/writer.py."""

    def __init__(self, ix: Any, index_dir: str, workers: int = 1) -> None:
        try:
            if workers > 1:
                # Sub-processes analyse batches of records into their own segments while this
                # process keeps producing records; nothing is visible before commit().
                self._w = ix.writer(timeout=0.0, procs=workers, multisegment=True)
            else:
                self._w = ix.writer(timeout=0.0)
        except LockError:
            raise IndexLockedError(index_dir) from None

    def add(self, record: Mapping[str, Any]) -> None:
        self._w.add_document(**record)

    def delete_document(self, doc_id: str) -> None:
        self._w.delete_by_term("doc_id", doc_id)

    def replace_document(self, doc_id: str, records: Iterable[Mapping[str, Any]]) -> None:
        self.delete_document(doc_id)
        for record in records:
            self.add(record)

    def commit(self) -> None:
        self._w.commit()

    def cancel(self) -> None:
        self._w.cancel()


class WhooshEngine:
    """A Whoosh index in `<index_dir>/whoosh`."""

    def __init__(self, index_dir: str | Path, create: bool = False) -> None:
        self.index_dir = str(index_dir)
        self.path = Path(index_dir) / "whoosh"
        version_file = self.path / _VERSION_FILE
        if whoosh_index.exists_in(str(self.path), indexname=INDEX_NAME):
            found = int(version_file.read_text().strip()) if version_file.exists() else 0
            if found != SCHEMA_VERSION:
                raise SchemaMismatchError(self.index_dir, found, SCHEMA_VERSION)
            self.ix = whoosh_index.open_dir(str(self.path), indexname=INDEX_NAME)
        elif create:
            self.path.mkdir(parents=True, exist_ok=True)
            self.ix = whoosh_index.create_in(str(self.path), build_schema(), indexname=INDEX_NAME)
            version_file.write_text(f"{SCHEMA_VERSION}\n")
        else:
            raise FileNotFoundError(f"no index in {self.index_dir}")

    def begin(self, workers: int = 1) -> WhooshBatch:
        return WhooshBatch(self.ix, self.index_dir, workers)

    def search(
        self,
        text: str,
        filters: Mapping[str, Sequence[str]] | None = None,
        limit: int | None = 10,
        latest_only: bool = True,
    ) -> list[Hit]:
        """BM25F over the text fields, words OR-ed (documents missing a word still match)."""
        parser = qparser.MultifieldParser(SEARCH_FIELDS, self.ix.schema, group=qparser.OrGroup)
        try:
            q = parser.parse(text)
        except Exception as exc:  # whoosh raises assorted errors for odd input
            raise QueryError(f"cannot parse query: {exc}", query=text) from None
        clauses = []
        for field, values in (filters or {}).items():
            if values:
                clauses.append(query.Or([query.Term(field, v) for v in values]))
        if latest_only:
            clauses.append(query.Term("is_latest", True))
        flt = query.And(clauses) if clauses else None
        with self.ix.searcher(weighting=scoring.BM25F()) as s:
            results = s.search(q, filter=flt, limit=limit)
            return [Hit(r["record_id"], r["doc_id"], r["version_id"], float(r.score)) for r in results]

    def record_ids(self) -> set[str]:
        with self.ix.searcher() as s:
            return {fields["record_id"] for fields in s.all_stored_fields()}

    def doc_count(self) -> int:
        with self.ix.searcher() as s:
            return int(s.doc_count())

    def close(self) -> None:
        self.ix.close()
