"""Facet counts and facet filters over data we own (the store), never over engine internals.

`RecordTable` holds, for every section record of every version, what facets, filters and
collapsing need, as numpy arrays built once per store generation. The engine returns matching
record ids; counts are distinct documents per value, computed with every other facet's filter
applied (multi-select: values of one facet OR-ed, facets AND-ed).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import numpy as np

from ..facets import FACETS, FacetSpec, facet, facet_names
from ..models import DateMention, SectionRow
from ..store import Store

NO_DATE = -1


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


class _Values:
    """Value strings <-> small ints, with a display label per value (first spelling seen)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.values: list[str] = []
        self.labels: list[str] = []

    def rank(self) -> np.ndarray:
        """Each value's position in sorted order (computed once)."""
        if getattr(self, "_rank", None) is None or len(self._rank) != len(self.values):
            order = sorted(range(len(self.values)), key=self.values.__getitem__)
            self._rank = np.empty(len(self.values), dtype=np.int64)
            self._rank[order] = np.arange(len(self.values))
        return self._rank

    def id(self, value: str, label: str | None = None) -> int:
        i = self.index.get(value)
        if i is None:
            i = self.index[value] = len(self.values)
            self.values.append(value)
            self.labels.append(label if label is not None else value)
        return i


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
        values: _Values,
        rec: Sequence[int],
        val: Sequence[int],
        docs: np.ndarray,
        order: str = "count",
        limit: int | None = None,
    ) -> None:
        self.name = name
        self.values = values
        rec_a = np.asarray(rec, dtype=np.int64)
        val_a = np.asarray(val, dtype=np.int64)
        code = docs[rec_a] * max(1, len(values.values)) + val_a if len(rec_a) else rec_a
        by_code = np.argsort(code, kind="stable")
        self.rec, self.val, self.code = rec_a[by_code], val_a[by_code], code[by_code]
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
    values: _Values, counts: np.ndarray, selected: Sequence[str], order: str, limit: int | None
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


class RecordTable:
    """Every section record (all versions) with its facet values, as arrays; built from the store."""

    def __init__(self, rows: Sequence[SectionRow]) -> None:
        n = len(rows)
        self.size = n
        self.record_ids: list[str] = []
        self.index: dict[str, int] = {}
        docs = _Values()
        self.doc = np.zeros(n, dtype=np.int64)
        self.latest = np.zeros(n, dtype=bool)
        self.auxiliary = np.zeros(n, dtype=bool)
        self.newest = np.full(n, NO_DATE, dtype=np.int64)  # latest day mentioned (ordinal)
        self.oldest = np.full(n, NO_DATE, dtype=np.int64)
        self.version_rank = np.zeros(n, dtype=np.int64)
        self.entries: dict[str, tuple[int, ...]] = {}  # version_id -> the timeline entries carrying it
        self.info: list[RecordInfo] = []
        self.dates: list[tuple[DateMention, ...]] = []
        self.doc_meta: dict[str, DocumentInfo] = {}
        values = {spec.name: _Values() for spec in FACETS}
        pairs: dict[str, tuple[list[int], list[int]]] = {spec.name: ([], []) for spec in FACETS}
        mention_rec: list[int] = []
        mention_lo: list[int] = []
        mention_hi: list[int] = []
        for i, r in enumerate(rows):
            rid = r.record_id
            self.record_ids.append(rid)
            self.index[rid] = i
            self.doc[i] = docs.id(r.doc_id)
            self.latest[i] = r.is_latest
            self.auxiliary[i] = r.auxiliary
            self.version_rank[i] = r.rank
            self.entries.setdefault(r.version_id, r.entries)
            self.info.append(RecordInfo(r.version_id, r.title, r.breadcrumb, r.anchor, r.heading, r.language))
            if r.doc_id not in self.doc_meta:
                self.doc_meta[r.doc_id] = DocumentInfo(r.doc_title, r.version_count, r.latest_version_id)
            for spec in FACETS:
                recs, vals = pairs[spec.name]
                vs = values[spec.name]
                for key, label in spec.values(r):
                    recs.append(i)
                    vals.append(vs.id(key, label))
            self.dates.append(r.dates)
            for m in r.dates:
                lo, hi = m.bounds()
                lo_o = date.fromisoformat(lo).toordinal()
                hi_o = date.fromisoformat(hi).toordinal() if hi else lo_o
                mention_rec.append(i)
                mention_lo.append(lo_o)
                mention_hi.append(hi_o)
                self.newest[i] = max(self.newest[i], hi_o)
                self.oldest[i] = lo_o if self.oldest[i] == NO_DATE else min(self.oldest[i], lo_o)
        self.doc_ids = docs.values
        self.doc_index = docs.index
        self.mention_rec = np.asarray(mention_rec, dtype=np.int64)
        self.mention_lo = np.asarray(mention_lo, dtype=np.int64)
        self.mention_hi = np.asarray(mention_hi, dtype=np.int64)
        self.infobox_keys = frozenset(values["infobox"].values) if "infobox" in values else frozenset()
        self.facets: dict[str, Facet] = {spec.name: _facet(spec, values[spec.name], pairs[spec.name], self.doc)
                                         for spec in FACETS}  # fmt: skip

    def date_mask(self, date_from: str | None, date_to: str | None) -> np.ndarray:
        """Records mentioning a day in [date_from, date_to] (ISO days; None is open)."""
        lo = date.fromisoformat(date_from).toordinal() if date_from else -(10**9)
        hi = date.fromisoformat(date_to).toordinal() if date_to else 10**9
        hit = (self.mention_hi >= lo) & (self.mention_lo <= hi)
        out = np.zeros(self.size, dtype=bool)
        out[self.mention_rec[hit]] = True
        return out


@dataclass(frozen=True)
class RecordInfo:
    """What a hit shows of one record."""

    version_id: str
    title: str
    breadcrumb: str
    anchor: str
    heading: str
    language: str


@dataclass(frozen=True)
class DocumentInfo:
    """What a hit shows of its document."""

    title: str
    version_count: int
    latest_version_id: str


def _facet(spec: FacetSpec, values: _Values, pairs: tuple[list[int], list[int]], docs: np.ndarray) -> Facet:
    """The counting structure of one declared facet."""
    recs, vals = pairs
    if spec.kind == "section":
        top = [(r, v) for r, v in zip(recs, vals, strict=True) if " > " not in values.values[v]]
        sub = [(r, v) for r, v in zip(recs, vals, strict=True) if " > " in values.values[v]]
        return SectionFacet(
            MultiFacet(spec.name, values, [r for r, _ in top], [v for _, v in top], docs, limit=spec.limit),
            MultiFacet(spec.name, values, [r for r, _ in sub], [v for _, v in sub], docs,
                       limit=None if spec.limit is None else spec.limit * 4),
        )  # fmt: skip
    return MultiFacet(spec.name, values, recs, vals, docs, order=spec.order, limit=spec.limit)


def facet_counts(
    table: RecordTable,
    matched: np.ndarray,
    selections: Mapping[str, Sequence[str]],
    other: np.ndarray,
) -> tuple[np.ndarray, dict[str, list[FacetCount]]]:
    """(records passing every filter, counts per facet with the other facets' filters applied).

    `matched` is the query's records; `other` is a mask of non-facet filters (date range)."""
    selections = {name: [facet(name).key(v) for v in vals] for name, vals in selections.items()}
    masks = {name: table.facets[name].mask(table, vals) for name, vals in selections.items() if vals}
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
        counts[name] = table.facets[name].counts(table, records, selections.get(name, ()))
    return final, counts


_CACHE: dict[str, tuple[Any, RecordTable]] = {}
_LOCK = threading.Lock()


def record_table(store: Store, engine_key: Any = None) -> RecordTable:
    """The record table of an index, rebuilt only when the store or index changed."""
    key = (store.generation(), engine_key, facet_names())
    path = str(store.path)
    with _LOCK:
        cached = _CACHE.get(path)
        if cached and cached[0] == key:
            return cached[1]
    table = RecordTable(store.search_rows())
    with _LOCK:
        _CACHE[path] = (key, table)
    return table
