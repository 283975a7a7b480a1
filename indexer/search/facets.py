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
from . import loops

__all__ = ["NO_DATE", "DocumentInfo", "FacetCount", "RecordInfo", "RecordTable", "facet_counts", "record_table"]

# A facet whose values most documents give all their records counts matching documents, not
# records, when at most one document in MIXED_SHARE has records with different values.
MIXED_SHARE = 8


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
    def counts(
        self, table: RecordTable, records: np.ndarray, selected: Sequence[str], runs: Runs | None = None
    ) -> list[FacetCount]: ...


class MultiFacet:
    """A facet where a record may carry several values (years, months, sources, infobox keys).

    The (record, value) pairs are grouped into units, one per distinct (document, value): a
    value's count is the number of its units with a matching record. Each record points to its
    units (at most one for most facets), so a count reads the matching records' units only,
    not every pair of the table."""

    def __init__(
        self,
        name: str,
        values: Values,
        rec: np.ndarray,
        val: np.ndarray,
        docs: np.ndarray,
        order: str = "count",
        limit: int | None = None,
        size: int | None = None,
        by_document: bool = True,
    ) -> None:
        """`rec`, `val`: the (record, value) pairs, sorted by (document, value); `docs`: each
        record's document (a document's records together, as in a table); `size`: the number of
        records (default: one past the highest record of a pair); `by_document`: count from the
        matching documents where that is cheaper (see `doc_val`)."""
        self.name = name
        self.values = values
        self.rec, self.val = rec, val
        self.order = order
        self.limit = limit
        size = int(size if size is not None else (rec.max() + 1 if len(rec) else 0))
        code = docs[rec] * max(1, len(values.values)) + val if len(rec) else rec
        new_unit = np.ones(len(code), dtype=bool)
        new_unit[1:] = code[1:] != code[:-1]
        unit = np.cumsum(new_unit) - 1  # the unit of each pair
        self.unit_val = val[new_unit]  # the value of each unit
        # Each record's units, as offsets into `by_record` (pairs ordered by record).
        order_r = np.argsort(rec, kind="stable")
        self.by_record = unit[order_r]
        per_record = np.bincount(rec, minlength=size) if len(rec) else np.zeros(size, dtype=np.int64)
        self.starts = np.zeros(size + 1, dtype=np.int64)
        np.cumsum(per_record, out=self.starts[1:])
        self.per_record = per_record
        self.pair_unit = unit  # the unit of each pair, in pair order
        # Most facets give a record one value at most: then a record's unit is one lookup, with
        # records without a value pointing past the last unit (a count ignores that slot).
        self.single: np.ndarray | None = None
        if not len(rec) or int(per_record.max()) <= 1:
            dtype = np.int32 if len(self.unit_val) < np.iinfo(np.int32).max else np.int64
            self.single = np.full(size, len(self.unit_val), dtype=dtype)
            self.single[rec] = unit
        # A value most documents give all their records (a language, a source, a type): such a
        # document is one unit, so a value's count is the number of matching documents with it
        # (`doc_val`: each document's value; the slot past the last value for a document without
        # one, or whose records differ, `mixed`: those are counted from their matching records).
        self.doc_val: np.ndarray | None = None
        self.mixed = np.zeros(0, dtype=bool)
        self.lone_val: np.ndarray | None = None
        self.shared = np.zeros(0, dtype=np.int64)
        if self.single is not None and len(docs) == size and size:
            ndocs = int(docs.max()) + 1
            firsts = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1])))
            doc_unit = np.full(ndocs, len(self.unit_val), dtype=self.single.dtype)
            doc_unit[docs[firsts]] = self.single[firsts]
            self.mixed = np.zeros(ndocs, dtype=bool)
            self.mixed[docs[self.single != doc_unit[docs]]] = True
            nvals = len(values.values)
            unit_val = np.concatenate((self.unit_val, [nvals])).astype(np.int64)
            if by_document and int(np.count_nonzero(self.mixed)) * MIXED_SHARE <= ndocs:
                self.doc_val = np.where(self.mixed, nvals, unit_val[doc_unit])
            # A value most records carry alone in their document (a section's heading): a record
            # whose unit has no other record counts once, with no need to find distinct units;
            # the records of shared units (`shared`, ascending) are counted through their units.
            per_unit = np.bincount(self.single, minlength=len(self.unit_val) + 1)
            per_unit[-1] = 0  # (the slot of records without a value)
            in_shared = per_unit[self.single] > 1
            if self.doc_val is None and int(np.count_nonzero(in_shared)) * MIXED_SHARE <= size:
                self.lone_val = np.where(in_shared, nvals, unit_val[self.single]).astype(np.int32)
                self.shared = np.flatnonzero(in_shared)

    def mask(self, table: RecordTable, values: Sequence[str]) -> np.ndarray:
        ids = [self.values.index[v] for v in values if v in self.values.index]
        out = np.zeros(table.size, dtype=bool)
        out[self.rec[np.isin(self.val, ids)]] = True
        return out

    def units(self, rows: np.ndarray) -> np.ndarray:
        """The units of some records (`rows`: record numbers; a unit may repeat; with `single`,
        records without a value give the slot past the last unit)."""
        # (Positions and takes throughout: a boolean mask as an index costs about twice as much.)
        if self.single is not None:
            return self.single[rows]
        counts = self.per_record[rows]
        keep = np.flatnonzero(counts)
        rows, counts = rows[keep], counts[keep]
        if not len(rows):
            return np.zeros(0, dtype=np.int64)
        first = self.starts[rows]
        return self.by_record[_spans(first, first + counts)]

    def counts(
        self, table: RecordTable, records: np.ndarray, selected: Sequence[str], runs: Runs | None = None
    ) -> list[FacetCount]:
        """Distinct documents per value among `records` (a mask; `runs`: its records by
        document, when the caller has them)."""
        n, nvals = len(self.unit_val), len(self.values.values)
        counts = np.zeros(nvals, dtype=np.int64)
        if n:
            hit = np.zeros(n + 1, dtype=bool)  # units to count (the last slot: records without a value)
            rows = runs.rows if runs is not None else None
            if rows is not None and len(self.rec) < len(rows):
                # Fewer pairs than matching records (a value few records carry, such as a year
                # mentioned): look each pair's record up instead of each record's units.
                hit[self.pair_unit[np.flatnonzero(records[self.rec])]] = True
            elif runs is not None and self.doc_val is not None and self.single is not None:
                counts += loops.count_at(self.doc_val, runs.distinct, nvals + 1)[:nvals]
                which = np.flatnonzero(self.mixed[runs.distinct])  # counted through their units
                if len(which):
                    hit[self.single[runs.rows[_spans(runs.bounds[which], runs.bounds[which + 1])]]] = True
            elif runs is not None and self.lone_val is not None and self.single is not None:
                counts += loops.count_at(self.lone_val, runs.rows, nvals + 1)[:nvals]
                hit[self.single[self.shared[records[self.shared]]]] = True  # shared units
            else:
                hit[self.units(np.flatnonzero(records) if rows is None else rows)] = True
            if hit[:n].any():
                counts += np.bincount(self.unit_val[np.flatnonzero(hit[:n])], minlength=nvals)
        return _facet_list(self.values, counts, selected, self.order, self.limit)


@dataclass(frozen=True)
class Runs:
    """Some records (ascending numbers) by document: a table lists a document's records together
    (RecordTable checks it), so a document's matching records are one run."""

    rows: np.ndarray  # the records
    docs: np.ndarray  # the document of each
    distinct: np.ndarray  # each document once, in order
    bounds: np.ndarray  # positions in `rows` where each document's records start, and the end

    @classmethod
    def of(cls, table_doc: np.ndarray, mask: np.ndarray) -> Runs:
        """The records set in `mask` (a table's size)."""
        rows = np.flatnonzero(mask)
        docs = table_doc[rows]
        starts = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1]))) if len(docs) else rows[:0]
        return cls(rows, docs, docs[starts], np.concatenate((starts, [len(rows)])).astype(np.int64))


def _spans(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Every position lo[i] .. hi[i] - 1 of every span, in one array (spans are not empty)."""
    lengths = hi - lo
    ends = np.cumsum(lengths)
    steps = np.ones(int(ends[-1]), dtype=np.int64)
    steps[0] = lo[0]
    steps[ends[:-1]] = lo[1:] - (hi[:-1] - 1)
    return np.cumsum(steps)


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

    def counts(
        self, table: RecordTable, records: np.ndarray, selected: Sequence[str], runs: Runs | None = None
    ) -> list[FacetCount]:
        tops = self.top.counts(table, records, selected, runs)
        subs = self.sub.counts(table, records, selected, runs)
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
        # Only values counted at least as often as the limit-th most frequent can be shown.
        kth = np.partition(counts[idx], len(idx) - limit)[len(idx) - limit]
        idx = idx[counts[idx] >= kth]
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
            MultiFacet(spec.name, values, recs[~sub], vals[~sub], table.doc, limit=spec.limit, size=table.size),
            MultiFacet(spec.name, values, recs[sub], vals[sub], table.doc,
                       limit=None if spec.limit is None else spec.limit * 4, size=table.size),
        )  # fmt: skip
    return MultiFacet(spec.name, values, recs, vals, table.doc, order=spec.order, limit=spec.limit, size=table.size)


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
    other: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, list[FacetCount]], Runs]:
    """(records passing every filter, counts per facet with the other facets' filters applied,
    the numbers of the records passing every filter, ascending, with their documents).

    `matched` is the query's records; `other` is a mask of non-facet filters (date range), None
    when there are none."""
    selections = {name: [facet(name).key(v) for v in vals] for name, vals in selections.items()}
    facets = table_facets(table)
    masks = {name: facets[name].mask(table, vals) for name, vals in selections.items() if vals}
    base = matched if other is None else matched & other
    final = base.copy() if masks else base  # (nothing changes the arrays given or returned)
    for m in masks.values():
        final &= m
    counts: dict[str, list[FacetCount]] = {}
    base_runs: Runs | None = None
    for name in facet_names():
        others = [m for other_name, m in masks.items() if other_name != name]
        if others:
            records = base.copy()
            for m in others:
                records &= m
            runs = Runs.of(table.doc, records)
        else:  # no other facet's filter: the records are the query's (found once)
            records = base
            base_runs = Runs.of(table.doc, base) if base_runs is None else base_runs
            runs = base_runs
        counts[name] = facets[name].counts(table, records, selections.get(name, ()), runs)
    final_runs = base_runs if not masks and base_runs is not None else Runs.of(table.doc, final)
    return final, counts, final_runs


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
