"""Writing a tantivy index: one writer per batch, and what follows its commit.

Each batch's body and facet postings are written beside tantivy before its commit (bulk.py); after
the commit and tantivy's merges, the deltas are compacted and the new generation's order of
records is kept (order.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from ...errors import IndexLockedError
from ...models import SectionRecord
from . import bulk
from .order import generation_key, save_seq_order
from .postings import records_by_seq
from .schema import record_fields

WRITER_HEAP = 128_000_000  # bytes of tantivy's indexing buffer, shared by its threads
WRITER_THREAD_HEAP = 16_000_000  # tantivy's minimum per indexing thread


class TantivyBatch:
    """One tantivy writer; the only code that calls it is indexer/writer.py. An index made with
    bulk postings (its slot has `postings/`) gets each batch's delta written before the commit
    and its deltas merged after it (bulk.py)."""

    def __init__(self, ix: Any, index_dir: str, path: Path, workers: int = 1) -> None:
        threads = max(1, min(workers, WRITER_HEAP // WRITER_THREAD_HEAP))
        self._ix = ix
        self._path = path
        try:
            self._w = ix.writer(heap_size=WRITER_HEAP, num_threads=threads)
        except ValueError as exc:
            if "LockBusy" in str(exc):
                raise IndexLockedError(index_dir) from None
            raise
        folder = path / bulk.FOLDER
        # Under the pipeline's index lock (which comes before tantivy's): no other batch writes
        # or merges deltas now, also after tantivy's own lock is released at the commit.
        self._bulk = bulk.DeltaWriter(folder) if folder.is_dir() else None

    def add(self, record: SectionRecord) -> None:
        fields, terms = record_fields(record)
        if self._bulk is not None:
            length = fields["len_body"]
            fields["seq"] = self._bulk.add(record.record_id, record.is_latest, length, terms)
        self._w.add_document(tantivy.Document(**fields))

    def delete_document(self, doc_id: str) -> None:
        self._w.delete_documents_by_term("doc_id", doc_id)

    def replace_document(self, doc_id: str, records: Iterable[SectionRecord]) -> None:
        # tantivy applies a delete to the documents added before it only.
        self.delete_document(doc_id)
        for record in records:
            self.add(record)

    def commit(self) -> None:
        if self._bulk is not None:
            self._bulk.write()  # before tantivy's commit: every committed seq is in a delta
        self._w.commit()
        self._w.wait_merging_threads()  # merges finish before the run ends; releases the lock
        if self._bulk is not None:
            bulk.compact(self._bulk.folder, self._keep_order())

    def _keep_order(self) -> np.ndarray:
        """List the committed generation's live records by seq and keep the order beside it
        (order.py), for every process that opens the generation later; returns the seqs. Every
        commit pays the listing (1.2-1.8 s at a million sections), which the index run's snapshot
        of the record table, built next, used to pay instead."""
        self._ix.reload()
        searcher = self._ix.searcher()
        key = generation_key(self._path)  # (no other writer: the generation just read)
        order = records_by_seq(searcher, int(searcher.num_docs))
        with contextlib.suppress(OSError):  # (without it, a later reader lists the records itself)
            save_seq_order(self._path, key, order)
        return order[0]

    def cancel(self) -> None:
        self._w.rollback()
        self._w.wait_merging_threads()
