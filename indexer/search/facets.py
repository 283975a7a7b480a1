"""Facet counts and facet filters over data we own (the store), never over engine internals.

The record table (indexer/records.py) holds, for every section record of every version, what
facets, filters and collapsing need, as arrays: loaded from the snapshot the indexer saved,
or built from the store when there is none for the current generation. The engine returns
matching record numbers; counts are distinct documents per value, computed with every other
facet's filter applied (multi-select: values of one facet OR-ed, facets AND-ed).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..engines import Engine
from ..facets import FACETS, FacetSpec, facet, facet_names
from ..records import (
    NO_DATE,
    DocumentInfo,
    RecordInfo,
    RecordTable,
    Snapshot,
    Values,
    build_snapshot,
    load_snapshot,
    snapshot_key,
)
from ..store import Store

__all__ = ["NO_DATE", "DocumentInfo", "FacetCount", "RecordInfo", "RecordTable", "facet_counts", "record_table"]


@dataclass(frozen=True)
class FacetCount:
    """One facet value with the number of matching documents; sections carry their sub-sections."""

    value: str
    label: str
    count: int
    selected: bool
    children: tuple[FacetCount, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "label": self.label, "count": self.count, "selected": self.selected}
        if self.children:
            out["children"] = [c.to_json() for c in self.children]
        return out


class Facet(Protocol):
    """One facet: which records carry some values, and distinct documents per value."""

    name: str

    def mask(self, table: RecordTable, values: Sequence[str]) -> np.ndarray: ...
    def counts(self, table: RecordTable, records: np.ndarray, selected: Sequence[str]) -> list[FacetCount]: ...


class MultiFacet:
    """A facet where a record may carry several values (years, months, sources, infobox keys).

    The (record, value) pairs are kept sorted by (document, value): the pairs of the matching
    records stay sorted, so distinct documents per value are counted in one linear pass."""

    def __init__(
        self,
        name: str,
        values: Values,
        rec: np.ndarray,
        val: np.ndarray,
        docs: np.ndarray,
        order: str = "count",
        limit: int | None = None,
    ) -> None:
        """`rec`, `val`: the (record, value) pairs, sorted by (document, value)."""
        self.name = name
        self.values = values
        self.rec, self.val = rec, val
        self.code = docs[rec] * max(1, len(values.values)) + val if len(rec) else rec
        self.order = order
        self.limit = limit

    def mask(self, table: RecordTable, values: Sequence[str]) -> np.ndarray:
        ids = [self.values.index[v] for v in values if v in self.values.index]
        out = np.zeros(table.size, dtype=bool)
        out[self.rec[np.isin(self.val, ids)]] = True
        return out

    def counts(self, table: RecordTable, records: np.ndarray, selected: Sequence[str]) -> list[FacetCount]:
        keep = records[self.rec]
        code = self.code[keep]
        first = np.ones(len(code), dtype=bool)
        first[1:] = code[1:] != code[:-1]
        counts = np.bincount(self.val[keep][first], minlength=len(self.values.values))
        return _facet_list(self.values, counts, selected, self.order, self.limit)


class SectionFacet:
    """Top-level heading, with the second level under it (`aftermath > ceasefire violations`)."""

    name = "section"

    def __init__(self, top: MultiFacet, sub: MultiFacet) -> None:
        self.top = top
        self.sub = sub

    def mask(self, table: RecordTable, values: Sequence[str]) -> np.ndarray:
        """A value `x` is a top-level heading or a second-level heading named x (as `section:x`
        in a query); `top > sub` is that second-level heading only."""
        names = {v for v in values if " > " not in v}
        subs = [v for v in values if " > " in v]
        subs += [v for v in self.sub.values.values if " > " in v and v.split(" > ", 1)[1] in names]
        return self.top.mask(table, sorted(names)) | self.sub.mask(table, subs)

    def counts(self, table: RecordTable, records: np.ndarray, selected: Sequence[str]) -> list[FacetCount]:
        tops = self.top.counts(table, records, selected)
        subs = self.sub.counts(table, records, selected)
        children: dict[str, list[FacetCount]] = {}
        for c in subs:
            children.setdefault(c.value.split(" > ")[0], []).append(c)
        return [FacetCount(t.value, t.label, t.count, t.selected, tuple(children.get(t.value, ()))) for t in tops]


def _facet_list(
    values: Values, counts: np.ndarray, selected: Sequence[str], order: str, limit: int | None
) -> list[FacetCount]:
    """Values with documents (the `limit` most frequent, when limited) plus every selected value."""
    sel = set(selected)
    idx = np.flatnonzero(counts)
    if limit is not None and len(idx) > limit:
        # Most documents first, ties by value: the value order is fixed per table, so rank it once.
        rank = values.rank()
        idx = idx[np.lexsort((rank[idx], -counts[idx]))][:limit]
    chosen = [int(i) for i in idx]
    shown = set(chosen)
    chosen += [values.index[v] for v in sel if v in values.index and values.index[v] not in shown]
    if order == "value":
        chosen.sort(key=lambda i: values.values[i])
    else:
        chosen.sort(key=lambda i: (-int(counts[i]), values.values[i]))
    return [FacetCount(values.values[i], values.labels[i], int(counts[i]), values.values[i] in sel) for i in chosen]


def _facet(spec: FacetSpec, table: RecordTable) -> Facet:
    """The counting structure of one declared facet."""
    values = table.facet_values[spec.name]
    recs, vals = table.facet_pairs[spec.name]
    if spec.kind == "section":
        is_sub = np.fromiter((" > " in v for v in values.values), dtype=bool, count=len(values.values))
        sub = is_sub[vals] if len(vals) else np.zeros(0, dtype=bool)
        return SectionFacet(
            MultiFacet(spec.name, values, recs[~sub], vals[~sub], table.doc, limit=spec.limit),
            MultiFacet(spec.name, values, recs[sub], vals[sub], table.doc,
                       limit=None if spec.limit is None else spec.limit * 4),
        )  # fmt: skip
    return MultiFacet(spec.name, values, recs, vals, table.doc, order=spec.order, limit=spec.limit)


def table_facets(table: RecordTable) -> dict[str, Facet]:
    """The facets of a table, built once per table."""
    built = getattr(table, "_facets", None)
    if built is None:
        built = {spec.name: _facet(spec, table) for spec in FACETS if spec.name in table.facet_pairs}
        table._facets = built  # type: ignore[attr-defined]
    return built


def facet_counts(
    table: RecordTable,
    matched: np.ndarray,
    selections: Mapping[str, Sequence[str]],
    other: np.ndarray,
) -> tuple[np.ndarray, dict[str, list[FacetCount]]]:
    """(records passing every filter, counts per facet with the other facets' filters applied).

    `matched` is the query's records; `other` is a mask of non-facet filters (date range)."""
    selections = {name: [facet(name).key(v) for v in vals] for name, vals in selections.items()}
    facets = table_facets(table)
    masks = {name: facets[name].mask(table, vals) for name, vals in selections.items() if vals}
    base = matched & other
    final = base.copy()
    for m in masks.values():
        final &= m
    counts: dict[str, list[FacetCount]] = {}
    for name in facet_names():
        records = base.copy()
        for other_name, m in masks.items():
            if other_name != name:
                records &= m
        counts[name] = facets[name].counts(table, records, selections.get(name, ()))
    return final, counts


_CACHE: dict[str, tuple[Any, Snapshot]] = {}
_LOCK = threading.Lock()


def snapshot(store: Store, engine: Engine) -> Snapshot:
    """The record table of an index with the engine's numbering and vocabulary: the indexer's
    saved snapshot when it is current, else built from the store and the engine (kept in memory
    per index until the store or index changes)."""
    key = snapshot_key(store.generation(), engine.generation())
    path = str(store.path)
    with _LOCK:
        cached = _CACHE.get(path)
        if cached and cached[0] == key:
            return cached[1]
    snap = load_snapshot(store.index_dir, key) or build_snapshot(store, engine)
    with _LOCK:
        _CACHE[path] = (key, snap)
    return snap


def record_table(store: Store, engine: Engine) -> RecordTable:
    """The record table of an index, rebuilt only when the store or index changed."""
    return snapshot(store, engine).table
