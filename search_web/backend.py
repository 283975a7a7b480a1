"""What the pages share: one open index (a searcher per thread), request parsing, URLs."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from werkzeug.datastructures import MultiDict

from indexer.engines import Engine, open_engine
from indexer.errors import QueryError
from indexer.facets import FACETS
from indexer.search import Searcher, SearchRequest
from indexer.search.results import MAX_LIMIT, MAX_PAGE

DEFAULT_LIMIT = 10
# A date range: `date_from` and `date_to` (`from` and `to`, their older names, are accepted too).
DATE_PARAMS = ("date_from", "date_to", "from", "to")


def facet_params() -> dict[str, str]:
    """URL parameter -> facet name, from the facet declarations (indexer/facets.py); a facet's
    older or shorter parameters (`lang`, `type`) are accepted too."""
    return {p: spec.name for spec in FACETS for p in spec.params}


def state_params() -> tuple[str, ...]:
    """The parameters that define a result list (no page)."""
    return ("q", *facet_params(), *DATE_PARAMS, "sort", "versions", "limit")


class Backend:
    """The index the app serves: one engine, one Searcher (own SQLite connection) per thread."""

    def __init__(self, index_dir: str | Path) -> None:
        self.index_dir = Path(index_dir)
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._all: list[Searcher] = []

    def searcher(self) -> Searcher:
        s = getattr(self._local, "searcher", None)
        if s is None:
            with self._lock:
                if self._engine is None:
                    self._engine = open_engine(str(self.index_dir))
                s = Searcher(self.index_dir, engine=self._engine)
                self._all.append(s)
            self._local.searcher = s
        return s

    def close(self) -> None:
        with self._lock:
            for s in self._all:
                s.close()
            self._all.clear()
            if self._engine is not None:
                self._engine.close()
                self._engine = None
        self._local = threading.local()


def _int(args: MultiDict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"{name} must be a whole number, not {raw[:20]!r}") from None
    if not low <= value <= high:
        raise QueryError(f"{name} must be between {low} and {high}")
    return value


def search_request(args: MultiDict[str, str], limit: int | None = None, page: int | None = None) -> SearchRequest:
    """A SearchRequest from URL parameters (raises QueryError for bad values)."""
    filters: dict[str, list[str]] = {}
    for param, facet in facet_params().items():
        filters.setdefault(facet, []).extend(v for v in args.getlist(param) if v.strip())
    versions = args.get("versions", "").strip() or "all"
    if versions not in ("latest", "all"):
        raise QueryError(f"versions must be 'latest' or 'all', not {versions[:20]!r}")
    req = SearchRequest(
        q=args.get("q", ""),
        filters={k: v for k, v in filters.items() if v},
        date_from=args.get("date_from") or args.get("from") or None,
        date_to=args.get("date_to") or args.get("to") or None,
        sort=args.get("sort") or "relevance",
        latest_only=versions == "latest",
        page=page if page is not None else _int(args, "page", 1, 1, MAX_PAGE),
        limit=limit if limit is not None else _int(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
    )
    req.validate()
    return req


def state(args: MultiDict[str, str]) -> MultiDict[str, str]:
    """The parameters that define a result list (no page)."""
    out: MultiDict[str, str] = MultiDict()
    for key in state_params():
        for v in args.getlist(key):
            if v.strip():
                out.add(key, v)
    return out


def with_params(args: MultiDict[str, str], drop: Iterable[str] = (), **changes: Any) -> dict[str, Any]:
    """URL parameters for url_for: `args` without `drop`, with `changes` (None removes)."""
    out: dict[str, Any] = {}
    for key in args:
        if key not in drop:
            values = args.getlist(key)
            out[key] = values if len(values) > 1 else values[0]
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out
