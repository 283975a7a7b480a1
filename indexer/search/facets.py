"""Facet counts and facet filters over data we own (the store), never over engine internals.

`RecordTable` holds, for every section record of every version, what facets, filters and
collapsing need, as numpy arrays built once per store generation. The engine returns matching
record ids; counts are distinct documents per value, computed with every other facet's filter
applied (multi-select: values of one facet OR-ed, facets AND-ed).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import numpy as np

from ..models import DateMention
from ..schema import category_key, infobox_slug
from ..store import Store
from ..writer import date_terms, facet_value

FACET_NAMES = ("section", "year", "month", "language", "source", "type", "category", "infobox")
NO_DATE = -1
# Values listed per facet, most documents first (selected values are always listed). Years and
# months are all listed: they are a histogram.
FACET_LIMIT = 30


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


class SingleFacet(MultiFacet):
    """A facet with exactly one value per record (language, type)."""

    def __init__(self, name: str, values: _Values, val: Sequence[int], docs: np.ndarray) -> None:
        super().__init__(name, values, range(len(val)), val, docs, limit=FACET_LIMIT)


class SectionFacet:
    """Top-level heading, with the second level under it (`aftermath > ceasefire violations`)."""

    name = "section"

    def __init__(self, top: MultiFacet, sub: MultiFacet) -> None:
        self.top = top
        self.sub = sub

    def mask(self, table: RecordTable, values: Sequence[str]) -> np.ndarray:
        tops = [v for v in values if " > " not in v]
        subs = [v for v in values if " > " in v]
        return self.top.mask(table, tops) | self.sub.mask(table, subs)

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

    def __init__(self, rows: Sequence[Any]) -> None:
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
        self.version_position = np.zeros(n, dtype=np.int64)
        self.entries: dict[str, list[int]] = {}  # version_id -> the timeline entries carrying it
        self.info: list[
            tuple[str, str, str, str, str, str]
        ] = []  # version_id, title, breadcrumb, anchor, heading, language
        self.dates: list[list[DateMention]] = []
        self.doc_meta: dict[str, dict[str, Any]] = {}
        lang, dtype, top, sub = _Values(), _Values(), _Values(), _Values()
        years, months, sources, infobox = _Values(), _Values(), _Values(), _Values()
        categories = _Values()
        lang_v, type_v = [], []
        pairs: dict[str, tuple[list[int], list[int]]] = {
            k: ([], []) for k in ("top", "sub", "year", "month", "source", "category", "infobox")
        }
        mention_rec: list[int] = []
        mention_lo: list[int] = []
        mention_hi: list[int] = []
        version_cache: dict[str, tuple[list[int], list[int]]] = {}
        for i, r in enumerate(rows):
            rid = f"{r['version_id']}:{r['ordinal']}"
            self.record_ids.append(rid)
            self.index[rid] = i
            self.doc[i] = docs.id(r["doc_id"])
            self.latest[i] = r["version_id"] == r["latest_version_id"]
            self.auxiliary[i] = bool(r["auxiliary"])
            self.version_position[i] = r["position"]
            if r["version_id"] not in self.entries:
                self.entries[r["version_id"]] = json.loads(r["entries"]) or [int(r["position"]) + 1]
            self.info.append(
                (
                    r["version_id"],
                    r["title"] or r["doc_title"],
                    r["breadcrumb"],
                    r["anchor"],
                    r["heading"],
                    r["language"],
                )
            )
            self.doc_meta.setdefault(
                r["doc_id"], {"title": r["doc_title"], "versions": r["versions"], "latest": r["latest_version_id"]}
            )
            lang_v.append(lang.id(r["language"]))
            type_v.append(dtype.id(r["doc_type"]))
            crumbs = r["breadcrumb"].split(" > ") if r["breadcrumb"] else []
            top_value = facet_value(crumbs[0]) if crumbs else "lead"
            pairs["top"][0].append(i)
            pairs["top"][1].append(top.id(top_value, crumbs[0] if crumbs else "Lead"))
            if len(crumbs) > 1:
                pairs["sub"][0].append(i)
                pairs["sub"][1].append(sub.id(f"{top_value} > {facet_value(crumbs[1])}", crumbs[1]))
            mentions = [DateMention(**d) for d in json.loads(r["dates"])]
            self.dates.append(mentions)
            if mentions:
                _days, d_months, d_years = date_terms(mentions)
                for name, terms, values in (("year", d_years, years), ("month", d_months, months)):
                    for t in sorted(terms):
                        pairs[name][0].append(i)
                        pairs[name][1].append(values.id(t))
                for m in mentions:
                    lo, hi = m.bounds()
                    lo_o = date.fromisoformat(lo).toordinal()
                    hi_o = date.fromisoformat(hi).toordinal() if hi else lo_o
                    mention_rec.append(i)
                    mention_lo.append(lo_o)
                    mention_hi.append(hi_o)
                    self.newest[i] = max(self.newest[i], hi_o)
                    self.oldest[i] = lo_o if self.oldest[i] == NO_DATE else min(self.oldest[i], lo_o)
            vid = r["version_id"]
            if vid not in version_cache:
                srcs = [sources.id(s) for s in sorted(set(json.loads(r["source"])))]
                keys = [infobox.id(infobox_slug(k), k) for k in sorted(json.loads(r["infobox"]))]
                cats = [categories.id(category_key(c), c) for c in sorted(set(json.loads(r["categories"])))]
                version_cache[vid] = (srcs, keys, cats)
            srcs, keys, cats = version_cache[vid]
            for c in cats:
                pairs["category"][0].append(i)
                pairs["category"][1].append(c)
            for s in srcs:
                pairs["source"][0].append(i)
                pairs["source"][1].append(s)
            for k in keys:
                pairs["infobox"][0].append(i)
                pairs["infobox"][1].append(k)
        self.doc_ids = docs.values
        self.doc_index = docs.index
        self.mention_rec = np.asarray(mention_rec, dtype=np.int64)
        self.mention_lo = np.asarray(mention_lo, dtype=np.int64)
        self.mention_hi = np.asarray(mention_hi, dtype=np.int64)
        self.infobox_keys = frozenset(infobox.values)
        self.facets: dict[str, Facet] = {
            "section": SectionFacet(
                MultiFacet("section", top, *pairs["top"], self.doc, limit=FACET_LIMIT),
                MultiFacet("section", sub, *pairs["sub"], self.doc, limit=FACET_LIMIT * 4),
            ),
            "year": MultiFacet("year", years, *pairs["year"], self.doc, order="value"),
            "month": MultiFacet("month", months, *pairs["month"], self.doc, order="value"),
            "language": SingleFacet("language", lang, lang_v, self.doc),
            "source": MultiFacet("source", sources, *pairs["source"], self.doc, limit=FACET_LIMIT),
            "type": SingleFacet("type", dtype, type_v, self.doc),
            "category": MultiFacet("category", categories, *pairs["category"], self.doc, limit=FACET_LIMIT),
            "infobox": MultiFacet("infobox", infobox, *pairs["infobox"], self.doc, limit=FACET_LIMIT),
        }

    def records(self, record_ids: Iterable[str]) -> np.ndarray:
        """Boolean mask of the given record ids (unknown ids ignored)."""
        out = np.zeros(self.size, dtype=bool)
        idx = [self.index[r] for r in record_ids if r in self.index]
        out[idx] = True
        return out

    def date_mask(self, date_from: str | None, date_to: str | None) -> np.ndarray:
        """Records mentioning a day in [date_from, date_to] (ISO days; None is open)."""
        lo = date.fromisoformat(date_from).toordinal() if date_from else -(10**9)
        hi = date.fromisoformat(date_to).toordinal() if date_to else 10**9
        hit = (self.mention_hi >= lo) & (self.mention_lo <= hi)
        out = np.zeros(self.size, dtype=bool)
        out[self.mention_rec[hit]] = True
        return out


def facet_counts(
    table: RecordTable,
    matched: np.ndarray,
    selections: Mapping[str, Sequence[str]],
    other: np.ndarray,
) -> tuple[np.ndarray, dict[str, list[FacetCount]]]:
    """(records passing every filter, counts per facet with the other facets' filters applied).

    `matched` is the query's records; `other` is a mask of non-facet filters (date range)."""
    masks = {name: table.facets[name].mask(table, vals) for name, vals in selections.items() if vals}
    base = matched & other
    final = base.copy()
    for m in masks.values():
        final &= m
    counts: dict[str, list[FacetCount]] = {}
    for name in FACET_NAMES:
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
    key = (store.generation(), engine_key)
    path = str(store.path)
    with _LOCK:
        cached = _CACHE.get(path)
        if cached and cached[0] == key:
            return cached[1]
    table = RecordTable(store.search_rows())
    with _LOCK:
        _CACHE[path] = (key, table)
    return table
