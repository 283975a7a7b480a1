"""The engine interface: add/replace/delete section records, commit, ranked search with filters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Hit:
    """One matching section record: its id, doc, version and score."""

    record_id: str
    doc_id: str
    version_id: str
    score: float


class EngineBatch(Protocol):
    """A write batch: nothing is visible to readers until `commit`."""

    def add(self, record: Mapping[str, Any]) -> None: ...
    def delete_document(self, doc_id: str) -> None: ...
    def replace_document(self, doc_id: str, records: Iterable[Mapping[str, Any]]) -> None: ...
    def commit(self) -> None: ...
    def cancel(self) -> None: ...


class Engine(Protocol):
    """A full-text engine holding one record per section of every version."""

    def begin(self, workers: int = 1) -> EngineBatch: ...
    def search(
        self,
        text: str,
        filters: Mapping[str, Sequence[str]] | None = None,
        limit: int | None = 10,
        latest_only: bool = True,
    ) -> list[Hit]: ...
    def record_ids(self) -> set[str]: ...
    def doc_count(self) -> int: ...
    def close(self) -> None: ...
