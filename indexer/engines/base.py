"""The engine contract: what an engine receives, and what search may ask of it.

An engine stores one `SectionRecord` (indexer/models.py) per section of every version, built by
indexer/writer.py (the only code that writes). It analyses their text with indexer/analysis.py
in each record's language, so every engine indexes the same terms. Search (indexer/search/) asks
it for the records a query tree (indexer/querytree.py) matches with their scores, and for the
few statistics it needs; facets, collapsing to documents, snippets and suggestions are done by
search over data we own (the store), never over engine internals.

Records have numbers that stay fixed for one `generation()`; `record_id_column()[n]` is the id
(`version_id:ordinal`) of record n, so a caller maps numbers to its own rows once per generation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..models import SectionRecord
from ..querytree import Node


@dataclass(frozen=True)
class Hit:
    """One matching section record: its id (`version_id:ordinal`) and score."""

    record_id: str
    score: float


class EngineBatch(Protocol):
    """A write batch: nothing is visible to readers until `commit`."""

    def add(self, record: SectionRecord) -> None:
        """Add one record (the caller knows it is not in the index yet)."""

    def delete_document(self, doc_id: str) -> None:
        """Remove every record of a document."""

    def replace_document(self, doc_id: str, records: Iterable[SectionRecord]) -> None:
        """Remove a document's records and add these instead."""

    def commit(self) -> None:
        """Make everything written visible, atomically."""

    def cancel(self) -> None:
        """Forget everything written since `begin`."""


class Engine(Protocol):
    """A full-text engine holding one record per section of every version."""

    name: str

    def begin(self, workers: int = 1) -> EngineBatch:
        """Start a write batch (`workers`: helper processes the engine may use)."""

    def evaluate(self, tree: Node, latest_only: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Every record number the tree matches (sorted) and its score: for ranking, totals and
        facets at once. `latest_only` keeps the records of each document's latest version."""

    def search(self, tree: Node, latest_only: bool = True, limit: int = 10) -> list[Hit]:
        """The best `limit` records, best first, ties by record id."""

    def match(self, tree: Node, latest_only: bool = True) -> np.ndarray:
        """Every record number the tree matches, unscored."""

    def record_id_column(self) -> Sequence[str]:
        """The record id of every record number of the current generation (a list, or a column
        that reads them on demand)."""

    def generation(self) -> int:
        """Changes with every commit."""

    def languages(self) -> dict[str, int]:
        """The languages of the indexed sections and how many records each has (a query word
        is read in those of its script: analysis.query_languages)."""

    def vocabulary(self) -> tuple[list[str], np.ndarray]:
        """Every unstemmed word (`analysis.plain_terms`), sorted, and how many records have it:
        for spelling suggestions and completion."""

    def word_frequency(self, word: str) -> int:
        """How many records have an unstemmed word."""

    def term_stats(self, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        """(records in the index, how many records have each analysed term): for more-like-this."""

    def record_ids(self) -> set[str]:
        """Every record id in the index (for `palimpsest verify`)."""

    def doc_count(self) -> int:
        """Live records in the index."""

    def warm(self) -> int:
        """Read what the first queries need into memory (a server calls it before taking
        requests); returns a size, 0 when there is nothing to warm."""

    def close(self) -> None:
        """Release files and readers."""
