"""Errors raised by the library; the CLI and the web layer translate them."""

from __future__ import annotations

from typing import Any


class PalimpsestError(Exception):
    """Base class: every expected failure of the library is one of these."""

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def __str__(self) -> str:
        return self.message


class SourceError(PalimpsestError):
    """A file that cannot be read or parsed; carries `path` and `reason`."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}", path=path, reason=reason)
        self.path = path
        self.reason = reason


class NotADocument(SourceError):
    """A file that is not a document at all (binary data, XML of another kind): skipped, not failed."""


class DocumentNotFound(PalimpsestError):
    """An unknown doc_id or version_id."""

    def __init__(self, doc_id: str, version_id: str | None = None) -> None:
        what = f"version {version_id} of document {doc_id}" if version_id else f"document {doc_id}"
        super().__init__(f"no such {what}", doc_id=doc_id, version_id=version_id)
        self.doc_id = doc_id
        self.version_id = version_id


class QueryError(PalimpsestError):
    """A query that cannot be parsed or is over a limit; carries `position`."""

    def __init__(self, message: str, query: str = "", position: int | None = None) -> None:
        super().__init__(message, query=query, position=position)
        self.query = query
        self.position = position


class PathNotFoundError(PalimpsestError):
    """A path given to index does not exist."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no such file or directory: {path}", path=path)
        self.path = path


class IndexLockedError(PalimpsestError):
    """Another process is writing to the index."""

    def __init__(self, index_dir: str) -> None:
        super().__init__(
            f"index is busy: another palimpsest process is writing to {index_dir}; try again when it has finished",
            index_dir=index_dir,
        )
        self.index_dir = index_dir


class SchemaMismatchError(PalimpsestError):
    """The index on disk was written by an incompatible schema version."""

    def __init__(self, index_dir: str, found: int, expected: int) -> None:
        super().__init__(
            f"index at {index_dir} has schema version {found}, this palimpsest needs "
            f"{expected}; re-index with --force into a new --index-dir",
            index_dir=index_dir,
            found=found,
            expected=expected,
        )


class EngineMismatchError(PalimpsestError):
    """An index is asked to use another engine than the one it was created with."""

    def __init__(self, index_dir: str, found: str, requested: str) -> None:
        super().__init__(
            f"index at {index_dir} was created with the {found} engine, not {requested}; "
            f"leave out --engine (and $PALIMPSEST_ENGINE) to use it, or index into a new --index-dir",
            index_dir=index_dir,
            found=found,
            requested=requested,
        )


class EngineUnavailableError(PalimpsestError):
    """The search engine cannot answer: a shard server of a cluster is down (with no replica that
    answers) or did not answer in time."""


def error_object(status: int, message: str, detail: str, position: int | None = None) -> dict[str, Any]:
    """The JSON API's error shape, also printed by `palimpsest search --json`:
    {"error": {"status", "message", "detail"}}, plus "position" for a query that does not parse."""
    error: dict[str, Any] = {"status": status, "message": message, "detail": detail}
    if position is not None:
        error["position"] = position
    return {"error": error}
